//! `hush-node devnet`, `hush-node relay`, and the community server (`sogs`, `sogs-admin`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::network::Timeouts;
use hush_node::networks::SessionNetwork;
use hush_node::outbound::{Outbound, SeedCheck, check_seed};
use hush_node::relay::{Inbound, Relay, RelayConfig, Seed};
use hush_node::sogs::{Community, Scope, SogsConfig};
use hush_node::tls::Pin;

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
        /// The file server's port (plain HTTP). Default: the one after the seed's (22024), or any
        /// free port when --seed-port is 0.
        #[arg(long)]
        file_server_port: Option<u16>,
        /// The community server's port (plain HTTP). Default: 22025, or any free port when
        /// --seed-port is 0.
        #[arg(long)]
        community_port: Option<u16>,
        /// Let the community server also accept unblinded (00) keys, as the real server with
        /// REQUIRE_BLIND_KEYS = False (for clients that sign only unblinded).
        #[arg(long)]
        community_accept_unblinded: bool,
        /// The built app to serve.
        #[arg(long = "static", default_value = "dist")]
        static_dir: PathBuf,
        /// A server (host:port) not on loopback that onion requests may be relayed to; repeatable.
        /// Servers on loopback (127.0.0.0/8, ::1, localhost) need not be listed.
        #[arg(long)]
        allow_proxy: Vec<String>,
        /// An extra origin the relay allows (CORS); repeatable.
        #[arg(long)]
        allow_origin: Vec<String>,
        /// Relay requests per client per minute.
        #[arg(long, default_value_t = 100_000)]
        rate: u32,
        /// Seconds between refreshes of the relay's node list from the seed (a stopped node
        /// leaves the list at the next refresh, as a dead node leaves the real network's).
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        relay_refresh: u64,
        /// How long an onion hop waits for a next hop that is down but still listed before it
        /// answers 504 "Request time out" (the real network's 30 s by default).
        #[arg(long, value_name = "MS", default_value_t = 30_000)]
        hop_timeout_ms: u64,
        /// How long a store (or another request the swarm shares) waits for a swarm member that is
        /// down but still listed before it replies (the real network's 5 s by default).
        #[arg(long, value_name = "MS", default_value_t = 5_000)]
        peer_timeout_ms: u64,
    },
    /// Run a community server (SOGS v4) alone, over plain HTTP and v4 onion requests.
    ///
    /// It keeps its key (ed25519.key; the URL's public_key is its X25519 key) and its rooms in
    /// --data; add rooms and moderators with `hush-node sogs-admin`. It prints each room's URL.
    #[command(verbatim_doc_comment)]
    Sogs {
        /// Its key and database.
        #[arg(long, default_value = ".sogs")]
        data: PathBuf,
        /// Address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:22025")]
        listen: SocketAddr,
        /// Also accept unblinded (00) keys, as the real server with REQUIRE_BLIND_KEYS = False;
        /// the capabilities then leave out `blind`.
        #[arg(long)]
        accept_unblinded: bool,
    },
    /// Manage a community server's rooms and moderators (while it runs, or not).
    SogsAdmin {
        /// The server's key and database (as given to `hush-node sogs`).
        #[arg(long, default_value = ".sogs")]
        data: PathBuf,
        #[command(subcommand)]
        action: SogsAction,
    },
    /// Run the relay alone, in front of any network.
    ///
    /// The relay forwards the app's onion requests, unopened, to the service nodes its seed lists.
    /// It allows the app (CORS) from its own address, http://<listen>; when people reach it under
    /// another name (behind a reverse proxy with HTTPS, or from an app hosted elsewhere), give that
    /// origin with --allow-origin.
    ///
    /// It reads the node list from --seed, or from the seeds of --network mainnet|testnet (the
    /// Session network's own seeds, pinned as Session's clients pin them). Until a seed answers it
    /// keeps asking (after 1 s, doubling to 60 s), logs why, and answers 503.
    ///
    /// It forwards only to listed nodes at public addresses (--allow-loopback-nodes adds loopback,
    /// for a local test network), follows no redirect, and caps and times out what it reads.
    #[command(verbatim_doc_comment)]
    #[command(group(clap::ArgGroup::new("seeds").required(true).args(["network", "seed"])))]
    Relay {
        /// A real Session network by name (mainnet or testnet): its seeds, pinned as Session's own
        /// clients pin them. Instead of --seed.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["seed", "seed_pin"])]
        network: Option<SessionNetwork>,
        /// The seed's JSON-RPC URL, e.g. https://seed.example:4443/json_rpc.
        #[arg(long)]
        seed: Option<String>,
        /// For an HTTPS seed with a self-signed certificate: trust exactly the certificate that
        /// matches. Either the SHA-256 of its public key (SPKI) in base64, 44 characters, as
        /// Session's seeds are pinned (`openssl x509 -in seed.pem -pubkey -noout | openssl pkey
        /// -pubin -outform der | openssl dgst -sha256 -binary | base64`), or the SHA-256 of the
        /// whole certificate in hex, colons allowed (`openssl x509 -in seed.pem -noout -fingerprint
        /// -sha256`). Repeatable; without it the seed's certificate must be publicly trusted.
        #[arg(long, value_name = "PIN")]
        seed_pin: Vec<String>,
        /// Address to listen on (port 0: any free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The built app to serve, if any.
        #[arg(long = "static", value_name = "DIR")]
        static_dir: Option<PathBuf>,
        /// The origin the app is loaded from, when that is not http://<listen>: scheme://host[:port]
        /// exactly as the browser shows it, no path (e.g. https://hush.example for a relay behind
        /// a reverse proxy). Repeatable.
        #[arg(long, value_name = "ORIGIN")]
        allow_origin: Vec<String>,
        /// Onion requests per client per minute. An open tab polls about 40 times a minute (up
        /// to 80 when the network is slow), so the default leaves room for a household or an
        /// office of tabs behind one address.
        #[arg(long, default_value_t = hush_node::relay::DEFAULT_RATE_PER_MINUTE)]
        rate: u32,
        /// Node-list requests (/v1/nodes) per client per minute, counted apart from --rate.
        #[arg(long, default_value_t = hush_node::relay::DEFAULT_NODES_PER_MINUTE)]
        nodes_rate: u32,
        /// A reverse proxy in front of the relay, by address or network (e.g. 127.0.0.1/32 for an
        /// nginx on the same machine): its X-Forwarded-For names the client, and its connections
        /// are not limited per client. The client is the right-most address in X-Forwarded-For that
        /// is not a trusted proxy; other peers' X-Forwarded-For is ignored. Repeatable.
        #[arg(long, value_name = "CIDR", value_parser = hush_node::listener::parse_trusted_proxy)]
        trusted_proxy: Vec<ipnet::IpNet>,
        /// Seconds between refreshes of the node list from the seed (each also logs the counts).
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        refresh: u64,
        /// For a local test network only: also forward to nodes the seed lists at a loopback
        /// address (127.0.0.0/8, ::1). Without it only nodes at public addresses are used; nodes
        /// at private, link-local, shared or other non-public addresses are never used.
        #[arg(long)]
        allow_loopback_nodes: bool,
        /// Accept a --seed on plain http:// to another machine, with a warning: whoever is on the
        /// way can then choose every node the relay uses. Without it a plain-HTTP seed must be on
        /// loopback; use an https:// seed (with --seed-pin for a self-signed certificate).
        #[arg(long)]
        insecure_seed: bool,
    },
}

#[derive(Subcommand, Debug)]
enum SogsAction {
    /// Add a room (or rename one): TOKEN is 1–64 of [0-9A-Za-z_-] (lower case for Session's
    /// clients).
    AddRoom {
        /// The room's token (its URL path).
        token: String,
        /// Its name.
        name: String,
        /// Its description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Make ID (a 15… blinded id, or 05… on a server that accepts unblinded keys) a moderator of
    /// a room, or of every room with --global.
    AddModerator {
        /// The user's id.
        id: String,
        /// The room (repeatable).
        #[arg(long = "room", value_name = "TOKEN", required_unless_present = "global")]
        rooms: Vec<String>,
        /// A moderator of the whole server.
        #[arg(long, conflicts_with = "rooms")]
        global: bool,
        /// An admin (pins, room settings, other moderators), not only a moderator.
        #[arg(long)]
        admin: bool,
        /// Not listed in the room's moderators (room moderators are listed by default).
        #[arg(long, conflicts_with = "visible")]
        hidden: bool,
        /// Listed in every room's moderators (global moderators are hidden by default).
        #[arg(long)]
        visible: bool,
    },
    /// Print the server's public key and each room's URL at BASE (e.g. http://127.0.0.1:22025).
    Rooms {
        /// The server's URL.
        #[arg(default_value = "http://127.0.0.1:22025")]
        base: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
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
            file_server_port,
            community_port,
            community_accept_unblinded,
            static_dir,
            allow_proxy,
            allow_origin,
            rate,
            relay_refresh,
            hop_timeout_ms,
            peer_timeout_ms,
        } => {
            let mut config = DevnetConfig::new(data);
            config.timeouts =
                Timeouts { hop: Duration::from_millis(hop_timeout_ms), peer: Duration::from_millis(peer_timeout_ms) };
            config.relay_refresh = Duration::from_secs(relay_refresh.max(1));
            config.nodes = nodes;
            config.swarm_size = swarm_size;
            config.ip = ip;
            config.base_port = base_port;
            config.seed_port = seed_port;
            config.app_port = app_port;
            config.file_server_port =
                file_server_port.unwrap_or(if seed_port == 0 { 0 } else { seed_port.checked_add(1).unwrap_or(0) });
            config.community_port =
                community_port.unwrap_or(if seed_port == 0 { 0 } else { hush_node::sogs::DEFAULT_PORT });
            config.community.accept_unblinded = community_accept_unblinded;
            config.static_dir = Some(static_dir);
            config.proxy_allow = allow_proxy;
            config.allowed_origins = allow_origin;
            config.rate_per_minute = rate;
            let data = config.data.clone();
            let mut devnet = Devnet::start(config).await?;
            tracing::info!(
                app = %devnet.app_url,
                seed = %devnet.seed_url,
                file_server = %devnet.file_server_url,
                community = %devnet.lobby_url(),
                nodes = devnet.network.nodes().len(),
                swarms = devnet.network.swarm_ids().len(),
                info = %data.join("devnet.json").display(),
                "devnet running"
            );
            println!("Hush is running at {}", devnet.app_url);
            tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
            devnet.shutdown();
        }
        Command::Sogs { data, listen, accept_unblinded } => {
            let config = SogsConfig { accept_unblinded, ..SogsConfig::default() };
            let server = Community::open(&data, config)?;
            let listener = tokio::net::TcpListener::bind(listen).await.context("binding the community server")?;
            let listen = listener.local_addr()?;
            let base = format!("http://{listen}");
            hush_node::sogs::spawn_sweeper(server.clone());
            println!("Community server running at {base} (public key {})", hex::encode(server.x25519()));
            for token in server.rooms()? {
                println!("  {}", server.room_url(&base, &token));
            }
            axum::serve(listener, hush_node::sogs::router(server))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .context("the community server stopped")?;
        }
        Command::SogsAdmin { data, action } => {
            let server = Community::open(&data, SogsConfig::default())?;
            match action {
                SogsAction::AddRoom { token, name, description } => {
                    server.add_room(&token, &name, description.as_deref())?;
                    println!("room {token} added");
                }
                SogsAction::AddModerator { id, rooms, global, admin, hidden, visible } => {
                    let scope = if global { Scope::Global } else { Scope::Rooms(rooms) };
                    server.add_moderator(&scope, &id, admin, if global { visible } else { !hidden })?;
                    println!("{id} is now {} of {scope:?}", if admin { "an admin" } else { "a moderator" });
                }
                SogsAction::Rooms { base } => {
                    println!("public key {}", hex::encode(server.x25519()));
                    for token in server.rooms()? {
                        println!("{}", server.room_url(&base, &token));
                    }
                }
            }
        }
        Command::Relay {
            network,
            seed,
            seed_pin,
            listen,
            static_dir,
            allow_origin,
            rate,
            nodes_rate,
            trusted_proxy,
            refresh,
            allow_loopback_nodes,
            insecure_seed,
        } => {
            let seeds = match (network, seed) {
                (Some(network), _) => {
                    if network.seeds().iter().any(|s| s.url.starts_with("http://")) {
                        tracing::warn!(%network, "this network's seed speaks plain HTTP: its node list is not authenticated");
                    }
                    network.relay_seeds().with_context(|| format!("the pins of {network}"))?
                }
                (None, Some(url)) => {
                    let pins = seed_pin
                        .iter()
                        .map(|p| p.parse::<Pin>())
                        .collect::<Result<Vec<_>, _>>()
                        .context("--seed-pin")?;
                    if let SeedCheck::Insecure(warning) = check_seed(&url, &pins, insecure_seed)? {
                        eprintln!("{warning}");
                        tracing::warn!("the seed is read over plain HTTP (--insecure-seed)");
                    }
                    vec![Seed { url, pins }]
                }
                (None, None) => anyhow::bail!("give --seed or --network"),
            };
            let mut inbound = Inbound { nodes_per_minute: nodes_rate, ..Inbound::default() };
            inbound.connections.trusted_proxies = trusted_proxy;
            let relay = Relay::new(RelayConfig {
                seeds,
                allowed_origins: allow_origin,
                rate_per_minute: rate,
                refresh: Duration::from_secs(refresh.max(1)),
                static_dir,
                outbound: Outbound { allow_loopback_nodes, ..Outbound::default() },
                inbound: inbound.clone(),
            })?;
            let listener = tokio::net::TcpListener::bind(listen).await.context("binding the relay")?;
            let listen = listener.local_addr()?;
            let app = hush_node::relay::router(relay.clone(), Some(format!("http://{listen}")));
            // It serves at once (503 until it has a node list); it never exits for want of a seed.
            let handle = hush_node::listener::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.shutdown();
            });
            let serving = tokio::spawn(hush_node::listener::serve(listener, app, inbound.connections, handle));
            relay.refresh_logged(hush_node::relay::FIRST_RETRY).await;
            relay.spawn_refresher();
            tracing::info!(%listen, nodes = relay.node_count(), "relay running");
            println!("Hush relay is running at http://{listen}");
            serving.await.context("the relay stopped")??;
            relay.log_counts();
        }
    }
    Ok(())
}
