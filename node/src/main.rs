//! `hush-node devnet` and `hush-node relay`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::relay::{Relay, RelayConfig};

#[derive(Parser, Debug)]
#[command(name = "hush-node", version, about = "Hush's local service-node network and browser relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run N service nodes, the seed, and the relay with the app, all on loopback.
    Devnet {
        /// Number of service nodes.
        #[arg(long, default_value_t = 12)]
        nodes: usize,
        /// About how many nodes share a swarm.
        #[arg(long, default_value_t = 4)]
        swarm_size: usize,
        /// Keys, certificates, databases and devnet.json.
        #[arg(long, default_value = ".devnet")]
        data: PathBuf,
        /// Address to bind (loopback).
        #[arg(long, default_value = "127.0.0.1")]
        ip: String,
        /// Node i listens on base-port + i.
        #[arg(long, default_value_t = 22100)]
        base_port: u16,
        /// The seed's port (plain HTTP).
        #[arg(long, default_value_t = 22023)]
        seed_port: u16,
        /// The app and relay's port.
        #[arg(long, default_value_t = 8080)]
        app_port: u16,
        /// The built app to serve.
        #[arg(long = "static", default_value = "dist")]
        static_dir: PathBuf,
        /// A server (host:port) onion requests may be relayed to; repeatable.
        #[arg(long)]
        allow_proxy: Vec<String>,
        /// An extra origin the relay allows (CORS); repeatable.
        #[arg(long)]
        allow_origin: Vec<String>,
        /// Relay requests per client per minute.
        #[arg(long, default_value_t = 100_000)]
        rate: u32,
    },
    /// Run the relay alone, in front of any network.
    Relay {
        /// The seed's JSON-RPC URL.
        #[arg(long)]
        seed: String,
        /// SHA-256 (hex) of the seed's certificate, for self-signed HTTPS seeds; repeatable.
        #[arg(long)]
        seed_pin: Vec<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The built app to serve, if any.
        #[arg(long = "static")]
        static_dir: Option<PathBuf>,
        /// An origin allowed to call the relay (CORS); repeatable.
        #[arg(long)]
        allow_origin: Vec<String>,
        /// Requests per client per minute.
        #[arg(long, default_value_t = 600)]
        rate: u32,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match Cli::parse().command {
        Command::Devnet {
            nodes,
            swarm_size,
            data,
            ip,
            base_port,
            seed_port,
            app_port,
            static_dir,
            allow_proxy,
            allow_origin,
            rate,
        } => {
            let mut config = DevnetConfig::new(data);
            config.nodes = nodes;
            config.swarm_size = swarm_size;
            config.ip = ip;
            config.base_port = base_port;
            config.seed_port = seed_port;
            config.app_port = app_port;
            config.static_dir = Some(static_dir);
            config.proxy_allow = allow_proxy;
            config.allowed_origins = allow_origin;
            config.rate_per_minute = rate;
            let data = config.data.clone();
            let mut devnet = Devnet::start(config).await?;
            tracing::info!(
                app = %devnet.app_url,
                seed = %devnet.seed_url,
                nodes = devnet.network.nodes().len(),
                swarms = devnet.network.swarm_ids().len(),
                info = %data.join("devnet.json").display(),
                "devnet running"
            );
            println!("Hush is running at {}", devnet.app_url);
            tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
            devnet.shutdown();
        }
        Command::Relay { seed, seed_pin, listen, static_dir, allow_origin, rate } => {
            let seed_pins = seed_pin
                .iter()
                .map(|p| {
                    let mut out = [0u8; 32];
                    hex::decode_to_slice(p.replace(':', ""), &mut out).map(|()| out)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow::anyhow!("--seed-pin takes 64 hex characters"))?;
            let relay = Relay::new(RelayConfig {
                seed,
                seed_pins,
                allowed_origins: allow_origin,
                rate_per_minute: rate,
                refresh: Duration::from_secs(600),
                static_dir,
            })?;
            let count = relay.refresh().await.context("reading the node list from the seed")?;
            relay.spawn_refresher();
            tracing::info!(nodes = count, %listen, "relay running");
            let app = hush_node::relay::router(relay, Some(format!("http://{listen}")));
            let listener = tokio::net::TcpListener::bind(listen).await.context("binding the relay")?;
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
    }
    Ok(())
}
