//! `hush-node devnet`: N service nodes, the seed, and the relay with the app, in one process.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use serde_json::{Value, json};

use crate::network::{self, Network, Node, Timeouts};
use crate::relay::{Relay, RelayConfig};
use crate::server::{self, NodeState, now_ms};
use crate::store::Store;
use crate::tls;

/// How a devnet is laid out.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// Number of service nodes.
    pub nodes: usize,
    /// About how many nodes share a swarm.
    pub swarm_size: usize,
    /// Where keys, certificates, databases and `devnet.json` live.
    pub data: PathBuf,
    /// The loopback address everything binds to.
    pub ip: String,
    /// Node i listens on `base_port + i` (0: any free port).
    pub base_port: u16,
    /// The seed's port (0: any free port).
    pub seed_port: u16,
    /// The app and relay's port (0: any free port).
    pub app_port: u16,
    /// The file server's plain-HTTP port (0: any free port).
    pub file_server_port: u16,
    /// The file server's limits.
    pub files: crate::files::FilesConfig,
    /// The community server's plain-HTTP port (0: any free port).
    pub community_port: u16,
    /// The community server's options.
    pub community: crate::sogs::SogsConfig,
    /// The built app, served on the app port.
    pub static_dir: Option<PathBuf>,
    /// Servers onion requests may be relayed to (`host:port`).
    pub proxy_allow: Vec<String>,
    /// Extra CORS origins for the relay.
    pub allowed_origins: Vec<String>,
    /// Relay requests per client per minute.
    pub rate_per_minute: u32,
    /// How often the relay refreshes its node list from the seed.
    pub relay_refresh: Duration,
    /// How long nodes wait for a node that is down but still listed (the real network's by
    /// default; shorter in tests).
    pub timeouts: Timeouts,
}

impl DevnetConfig {
    /// Loopback defaults from the design: nodes at 22100+, seed at 22023, the file server next to
    /// it at 22024, the community server at 22025, app and relay at 8080.
    pub fn new(data: PathBuf) -> DevnetConfig {
        DevnetConfig {
            nodes: 12,
            swarm_size: 4,
            data,
            ip: "127.0.0.1".into(),
            base_port: 22100,
            seed_port: 22023,
            app_port: 8080,
            file_server_port: DEFAULT_FILE_SERVER_PORT,
            files: crate::files::FilesConfig::default(),
            community_port: crate::sogs::DEFAULT_PORT,
            community: crate::sogs::SogsConfig::default(),
            static_dir: None,
            proxy_allow: Vec::new(),
            allowed_origins: Vec::new(),
            rate_per_minute: 100_000,
            relay_refresh: Duration::from_secs(600),
            timeouts: Timeouts::default(),
        }
    }

    /// The defaults of [`DevnetConfig::new`] with every port chosen by the system (nodes, seed,
    /// file server, app and relay), so that devnets of tests and benchmarks run side by side.
    pub fn on_free_ports(data: PathBuf) -> DevnetConfig {
        DevnetConfig {
            base_port: 0,
            seed_port: 0,
            app_port: 0,
            file_server_port: 0,
            community_port: 0,
            ..DevnetConfig::new(data)
        }
    }
}

/// The file server's default port: the one after the seed's.
pub const DEFAULT_FILE_SERVER_PORT: u16 = 22024;

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// The nodes.
    pub network: Arc<Network>,
    /// The relay.
    pub relay: Arc<Relay>,
    /// The seed's JSON-RPC URL.
    pub seed_url: String,
    /// The app and relay's URL.
    pub app_url: String,
    /// The file server (its keys and files).
    pub file_server: Arc<crate::files::FileServer>,
    /// The file server's URL (plain HTTP, no trailing slash).
    pub file_server_url: String,
    /// The community server (SOGS), with the room `lobby`.
    pub community: Arc<crate::sogs::Community>,
    /// The community server's URL (plain HTTP, no trailing slash).
    pub community_url: String,
    node_handles: NodeHandles,
    other_handles: Vec<Handle<SocketAddr>>,
    /// The relay's server (the app's port).
    relay_server: crate::listener::Handle,
    tls: Vec<RustlsConfig>,
    proxy_allow: Arc<Vec<String>>,
    http: reqwest::Client,
    data: PathBuf,
}

/// The running nodes' server handles, shared with the devnet's control route.
type NodeHandles = Arc<std::sync::Mutex<Vec<Option<Handle<SocketAddr>>>>>;

/// Stops node `i`; with `listed`, it stays in the node list (see [`Devnet::kill_node`]).
fn stop(network: &Network, handles: &NodeHandles, i: usize, listed: bool) {
    if let Some(node) = network.nodes().get(i) {
        if listed {
            node.set_down_but_listed();
        } else {
            node.set_up(false);
        }
    }
    let mut handles = handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(slot) = handles.get_mut(i)
        && let Some(handle) = slot.take()
    {
        handle.shutdown();
    }
}

/// The query of the control route: `listed=1` (or `true`) keeps the stopped node listed.
#[derive(serde::Deserialize)]
struct StopQuery {
    listed: Option<String>,
}

/// `POST /devnet/stop_node/{i}` on the seed's port: stops node i, for tests that take nodes down
/// while clients run; `POST /devnet/stop_node/{i}?listed=1` kills it while it stays listed
/// ([`Devnet::kill_node`]). Only the devnet has it (the standalone relay and the nodes' own ports
/// do not), [`Devnet::start`] mounts it only when the seed is bound to a loopback address, and it
/// answers 403 to any caller that is not on loopback, and to a request that a web page of another
/// origin could have sent ([`same_origin_only`]).
fn control_router(network: Arc<Network>, handles: NodeHandles) -> axum::Router {
    use axum::extract::{ConnectInfo, Path, Query};
    use axum::http::StatusCode;
    use axum::routing::post;
    axum::Router::new().route(
        "/devnet/stop_node/{i}",
        post(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(i): Path<usize>, Query(query): Query<StopQuery>| {
                let (network, handles) = (network.clone(), handles.clone());
                async move {
                    if !peer.ip().is_loopback() {
                        return StatusCode::FORBIDDEN;
                    }
                    if i >= network.nodes().len() {
                        return StatusCode::NOT_FOUND;
                    }
                    let listed = match query.listed.as_deref() {
                        None | Some("0" | "false") => false,
                        Some("1" | "true") => true,
                        Some(_) => return StatusCode::BAD_REQUEST,
                    };
                    stop(&network, &handles, i, listed);
                    StatusCode::OK
                }
            },
        ),
    )
}

/// Refuses a control request that a web page could have sent: one from another origin (browsers
/// send `Origin` with every cross-origin POST; `null` counts as another), or one whose body type
/// is not JSON (a page may send `text/plain` or a form anywhere without asking first, while
/// `application/json` from another origin needs a CORS preflight, which the seed never allows).
/// A plain POST with neither header (the tests', the e2e harness's) and the seed's own origin
/// pass. It guards every route of [`control_router`].
async fn same_origin_only(
    axum::extract::State(own_origin): axum::extract::State<Arc<str>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{CONTENT_TYPE, ORIGIN};
    use axum::response::IntoResponse;
    let headers = request.headers();
    let foreign = headers.get(ORIGIN).is_some_and(|origin| origin.as_bytes() != own_origin.as_bytes());
    let not_json = headers.get(CONTENT_TYPE).is_some_and(|value| {
        let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim();
        !essence.eq_ignore_ascii_case("application/json")
    });
    if foreign || not_json {
        return axum::http::StatusCode::FORBIDDEN.into_response();
    }
    next.run(request).await
}

/// The devnet community server's room.
pub const LOBBY: &str = "lobby";

/// `{url, pubkey, lobby_url}` of a community server at `url` (as devnet.json and the devnet's
/// `/network.json` name it).
fn community_json(community: &crate::sogs::Community, url: &str) -> Value {
    json!({
        "url": url,
        "pubkey": hex::encode(community.x25519()),
        "lobby_url": community.room_url(url, LOBBY),
    })
}

/// `app` with the devnet's `/network.json` ([`crate::anchors::PATH`]) answered with `body`, as
/// [`crate::anchors::serve`] answers it, with the community server added.
fn serve_network_json(app: axum::Router, body: String) -> axum::Router {
    use axum::http::header;
    app.route(
        crate::anchors::PATH,
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-cache"),
                        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    ],
                    body,
                )
            }
        }),
    )
}

/// Makes `dir` (and its parents) and closes it to everyone but its owner (0700) before any key is
/// written into it.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", dir.display()))?;
    }
    Ok(())
}

/// Makes a secret file readable and writable by its owner only (0600), including one an earlier
/// version wrote readable by all.
fn owner_only(file: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", file.display()))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

fn bind(ip: &str, port: u16) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind((ip, port)).with_context(|| format!("binding {ip}:{port}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

impl Devnet {
    /// Starts every part and waits until the relay knows the nodes.
    pub async fn start(config: DevnetConfig) -> anyhow::Result<Devnet> {
        tls::install_provider();
        anyhow::ensure!(config.nodes > 0, "a devnet needs at least one node");
        std::fs::create_dir_all(&config.data).with_context(|| format!("creating {}", config.data.display()))?;
        let swarm_count = (config.nodes + config.swarm_size.max(1) / 2) / config.swarm_size.max(1);
        let ids = network::swarm_ids(swarm_count.max(1));

        let mut listeners = Vec::new();
        let mut nodes = Vec::new();
        let mut tls_configs = Vec::new();
        for i in 0..config.nodes {
            let dir = config.data.join(format!("node-{i:02}"));
            private_dir(&dir)?;
            let seed = network::load_or_create_seed(&dir.join("ed25519.key"))?;
            owner_only(&dir.join("ed25519.key"))?;
            let port = if config.base_port == 0 { 0 } else { config.base_port + u16::try_from(i)? };
            let listener = bind(&config.ip, port)?;
            let port = listener.local_addr()?.port();
            let store = Store::open(&dir.join("messages.sqlite"))?;
            let swarm_id = ids.get(i % ids.len()).copied().unwrap_or(0);
            nodes.push(Arc::new(Node::new(&seed, config.ip.clone(), port, swarm_id, store)));
            let (cert, key) = tls::load_or_create_cert(&dir, &config.ip)?;
            owner_only(&dir.join("key.pem"))?;
            tls_configs.push(RustlsConfig::from_pem(cert, key).await.context("loading the node certificate")?);
            listeners.push(listener);
        }
        let network = Arc::new(Network::new(nodes).with_timeouts(config.timeouts));
        // A node that was down while its swarm stored messages (in an earlier run) gets them now.
        for node in network.nodes() {
            let added = network.catch_up(node, now_ms())?;
            if added > 0 {
                tracing::info!(node = %hex::encode(node.info.ed25519), added, "caught up from its swarm");
            }
        }
        let http = server::proxy_client()?;
        let proxy_allow = Arc::new(config.proxy_allow.clone());

        let mut devnet_handles = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            devnet_handles.push(Some(Self::serve_node(&network, i, listener, &tls_configs, &proxy_allow, &http)?));
        }

        let seed_listener = bind(&config.ip, config.seed_port)?;
        let seed_addr = seed_listener.local_addr()?;
        let seed_url = format!("http://{seed_addr}/json_rpc");
        let seed_handle = Handle::new();
        let node_handles: NodeHandles = Arc::new(std::sync::Mutex::new(devnet_handles));
        let mut seed_app = crate::seed::router(network.clone());
        if seed_addr.ip().is_loopback() {
            let control = control_router(network.clone(), node_handles.clone());
            let own_origin: Arc<str> = format!("http://{seed_addr}").into();
            seed_app =
                seed_app.merge(control.layer(axum::middleware::from_fn_with_state(own_origin, same_origin_only)));
        }
        let server = axum_server::from_tcp(seed_listener)?.handle(seed_handle.clone());
        tokio::spawn(async move { server.serve(seed_app.into_make_service_with_connect_info::<SocketAddr>()).await });

        // The file server: plain HTTP on its own port, reached by the nodes' last hops.
        let files_dir = config.data.join("file-server");
        private_dir(&files_dir)?;
        let file_server = crate::files::FileServer::open(&files_dir, config.files.clone())?;
        owner_only(&files_dir.join("ed25519.key"))?;
        let files_listener = bind(&config.ip, config.file_server_port)?;
        let files_addr = files_listener.local_addr()?;
        let file_server_url = format!("http://{files_addr}");
        let files_handle = Handle::new();
        let files_app = crate::files::router(file_server.clone());
        let server = axum_server::from_tcp(files_listener)?.handle(files_handle.clone());
        tokio::spawn(async move { server.serve(files_app.into_make_service()).await });
        crate::files::spawn_sweeper(file_server.clone());

        // The community server, with its room `lobby`: plain HTTP on its own port, reached by the
        // nodes' last hops as the file server is.
        let community_dir = config.data.join("community");
        private_dir(&community_dir)?;
        let community = crate::sogs::Community::open(&community_dir, config.community.clone())?;
        owner_only(&community_dir.join("ed25519.key"))?;
        if !community.rooms()?.iter().any(|t| t == LOBBY) {
            community.add_room(LOBBY, "Lobby", Some("The devnet's community"))?;
        }
        let community_listener = bind(&config.ip, config.community_port)?;
        let community_url = format!("http://{}", community_listener.local_addr()?);
        let community_handle = Handle::new();
        let community_app = crate::sogs::router(community.clone());
        let server = axum_server::from_tcp(community_listener)?.handle(community_handle.clone());
        tokio::spawn(async move { server.serve(community_app.into_make_service()).await });
        crate::sogs::spawn_sweeper(community.clone());

        let app_listener = bind(&config.ip, config.app_port)?;
        let app_addr = app_listener.local_addr()?;
        let app_url = format!("http://{app_addr}");
        let relay = Relay::new(RelayConfig {
            seeds: vec![crate::relay::Seed { url: seed_url.clone(), pins: Vec::new() }],
            allowed_origins: config.allowed_origins.clone(),
            rate_per_minute: config.rate_per_minute,
            refresh: config.relay_refresh,
            static_dir: config.static_dir.clone(),
            // Its nodes run on loopback.
            outbound: crate::outbound::Outbound::local_test_network(),
            // Every page of a local test (or several test browsers) comes from loopback: the node
            // list gets the same generous rate as onion requests.
            inbound: crate::relay::Inbound { nodes_per_minute: config.rate_per_minute, ..Default::default() },
        })?;
        relay.refresh().await.context("the relay could not read the node list from the seed")?;
        relay.spawn_refresher();
        let relay_server = crate::listener::Handle::new();
        let files_entry =
            crate::anchors::FileServerEntry { url: file_server_url.clone(), ed25519: file_server.ed25519() };
        let mut anchors = crate::anchors::network_json(&network, Some(&files_entry));
        if let Some(map) = anchors.as_object_mut() {
            map.insert("community".into(), community_json(&community, &community_url));
        }
        let app = serve_network_json(crate::relay::router(relay.clone(), Some(app_url.clone())), anchors.to_string());
        let app_listener = tokio::net::TcpListener::from_std(app_listener)?;
        tokio::spawn(crate::listener::serve(
            app_listener,
            app,
            crate::listener::Limits::default(),
            relay_server.clone(),
        ));

        let devnet = Devnet {
            network,
            relay,
            seed_url,
            app_url,
            file_server,
            file_server_url,
            community,
            community_url,
            node_handles,
            other_handles: vec![seed_handle, files_handle, community_handle],
            relay_server,
            tls: tls_configs,
            proxy_allow,
            http,
            data: config.data.clone(),
        };
        devnet.write_info()?;
        devnet.spawn_sweeper();
        Ok(devnet)
    }

    fn serve_node(
        network: &Arc<Network>,
        i: usize,
        listener: TcpListener,
        tls: &[RustlsConfig],
        proxy_allow: &Arc<Vec<String>>,
        http: &reqwest::Client,
    ) -> anyhow::Result<Handle<SocketAddr>> {
        let node = network.nodes().get(i).context("no such node")?.clone();
        node.set_up(true);
        let state = NodeState { network: network.clone(), node, proxy_allow: proxy_allow.clone(), http: http.clone() };
        let handle = Handle::new();
        let tls = tls.get(i).context("no certificate")?.clone();
        let server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle.clone());
        let app = server::router(state);
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        Ok(handle)
    }

    /// Stops node `i`: its HTTPS port closes, its swarm peers see it as down, and the seed no
    /// longer lists it (with `active_only`), as the real network drops a decommissioned node.
    pub fn stop_node(&mut self, i: usize) {
        stop(&self.network, &self.node_handles, i, false);
    }

    /// Kills node `i` while it stays listed, as a node that has just died on the real network: its
    /// HTTPS port closes, but the seed (and so the relay) still lists it as active, an onion hop
    /// that must pass a request to it waits [`Timeouts::hop`] and answers 504 `Request time out`,
    /// and a `store` in its swarm waits [`Timeouts::peer`] for it before replying, with it as
    /// `{"failed": true, "timeout": true}`. [`Devnet::start_node`] brings it back.
    pub fn kill_node(&mut self, i: usize) {
        stop(&self.network, &self.node_handles, i, true);
    }

    /// Starts node `i` again on its port, with its keys and messages, after catching up with the
    /// messages its swarm stored while it was down ([`Network::catch_up`]). Once its port is free
    /// again it is marked up (so its peers replicate new stores to it), then catches up, and only
    /// then serves.
    pub async fn start_node(&mut self, i: usize) -> anyhow::Result<()> {
        let node = self.network.nodes().get(i).context("no such node")?.clone();
        let mut listener = None;
        for _ in 0..50 {
            match bind(&node.info.ip, node.info.port) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let listener = listener.with_context(|| format!("the port of node {i} did not become free"))?;
        node.set_up(true);
        let added = match self.network.catch_up(&node, now_ms()) {
            Ok(added) => added,
            Err(e) => {
                node.set_up(false);
                return Err(e).context("catching up from the swarm");
            }
        };
        tracing::info!(node = %hex::encode(node.info.ed25519), added, "caught up from its swarm");
        let handle = Self::serve_node(&self.network, i, listener, &self.tls, &self.proxy_allow, &self.http)?;
        if let Some(slot) = self.node_handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_mut(i) {
            *slot = Some(handle);
        }
        Ok(())
    }

    /// The `devnet.json` document.
    pub fn info(&self) -> Value {
        let nodes: Vec<Value> = self
            .network
            .nodes()
            .iter()
            .map(|n| {
                json!({
                    "public_ip": n.info.ip,
                    "storage_port": n.info.port,
                    "pubkey_ed25519": hex::encode(n.info.ed25519),
                    "pubkey_x25519": hex::encode(n.info.x25519),
                    "swarm_id": n.info.swarm_id,
                })
            })
            .collect();
        json!({
            "seed_url": self.seed_url,
            "relay_url": format!("{}/v1", self.app_url),
            "app_url": self.app_url,
            "nodes": nodes,
            "file_server": {
                "url": self.file_server_url,
                "pubkey_ed25519": hex::encode(self.file_server.ed25519()),
                "pubkey_x25519": hex::encode(self.file_server.x25519()),
            },
            "community": community_json(&self.community, &self.community_url),
        })
    }

    /// The URL of the community server's room `lobby`, with `?public_key=`.
    pub fn lobby_url(&self) -> String {
        self.community.room_url(&self.community_url, LOBBY)
    }

    fn write_info(&self) -> anyhow::Result<()> {
        let path = self.data.join("devnet.json");
        let text = serde_json::to_string_pretty(&self.info())?;
        // Written beside and renamed: whoever waits for the file never reads half of it.
        let partial = self.data.join("devnet.json.partial");
        std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))
    }

    fn spawn_sweeper(&self) {
        let network = self.network.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                for node in network.nodes() {
                    if let Err(e) = node.store().sweep(now_ms()) {
                        tracing::warn!(error = %e, "expiry sweep failed");
                    }
                }
            }
        });
    }

    /// Stops every server.
    pub fn shutdown(&mut self) {
        let count = self.node_handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len();
        for i in 0..count {
            self.stop_node(i);
        }
        for handle in &self.other_handles {
            handle.shutdown();
        }
        self.relay_server.shutdown();
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}
