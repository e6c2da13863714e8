//! Pointing the engine at the network: the relay URL kept for the account, or, for a Session
//! network by name (`--network`), hush-node's relay run inside this process on a loopback port
//! with that network's seeds and certificate pins (the engine reaches nodes only through a relay).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use hush_node::networks::SessionNetwork;
use hush_node::relay::{Relay, RelayConfig};

use crate::account::{Opened, Route, RouteChoice, anchors_for, file_server, route};
use crate::error::Failure;

/// How long the relay of `--network` waits for its first node list before the engine starts
/// (it keeps asking afterwards; until it has a list it answers 503 and the engine retries).
const FIRST_LIST: Duration = Duration::from_secs(20);

/// Points the unlocked engine at the route chosen or kept (starting the in-process relay for a
/// network by name), with the trusted nodes its node list is checked against, and checks it: a
/// relay whose list the network does not confirm is refused before anything is sent. The engine
/// is not running yet: the caller starts `Engine::run`.
pub async fn connect(opened: &Opened, choice: &RouteChoice) -> Result<(), Failure> {
    let route = route(opened, choice).await?;
    let anchors = anchors_for(opened, &route).await?;
    let url = match route {
        Route::Relay(url) => hush_client::relay::relay_base(&url, false).map_err(Failure::RelayUrl)?,
        Route::Network(network) => start_relay(network).await?,
    };
    opened.engine.set_anchors(anchors);
    if let Some(server) = file_server(opened).await? {
        opened.engine.set_file_server(server);
    }
    if opened.engine.net_status().map(|s| s.relay) != Some(url.clone()) {
        opened.engine.set_relay(&url).await?;
    }
    // Any other problem (the relay down, say) is the engine's to retry while it runs.
    match opened.engine.check_relay().await {
        Err(e @ hush_client::Error::RelayRefused(_)) => Err(Failure::Engine(e)),
        _ => Ok(()),
    }
}

/// Runs hush-node's relay for `network` on an ephemeral loopback port, for as long as this
/// process runs; returns its URL. It serves at once (503 until a seed has answered) and keeps
/// asking its seeds, as `hush-node relay --network` does.
async fn start_relay(network: SessionNetwork) -> Result<String, Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure::LocalRelay(e.to_string());
    let seeds = network.relay_seeds().map_err(|e| failed(&e))?;
    let relay = Relay::new(RelayConfig {
        seeds,
        allowed_origins: Vec::new(),
        // One client (this process), on loopback.
        rate_per_minute: 100_000,
        refresh: Duration::from_secs(600),
        static_dir: None,
        outbound: Default::default(),
        inbound: Default::default(),
    })
    .map_err(|e| failed(&format!("{e:#}")))?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(|e| failed(&e))?;
    let address = listener.local_addr().map_err(|e| failed(&e))?;
    let app = hush_node::relay::router(relay.clone(), None);
    tokio::spawn(axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).into_future());
    // The engine's first request asks for the node list: give the seeds a moment to answer it.
    let _ = tokio::time::timeout(FIRST_LIST, relay.refresh()).await;
    relay.spawn_refresher();
    Ok(format!("http://{address}"))
}
