//! The relay: the browser's only way onto the network.
//!
//! It forwards an already onion-encrypted body, unchanged, to the guard node the client names,
//! and returns the guard's status and body. It sees the client's address and the guard's key —
//! never a Session ID, a destination or content — and it logs counts, never bodies. It forwards
//! only to nodes in its list (refreshed from its seed every `refresh`), caps bodies at 10 MiB and
//! rate-limits each client address over both of its routes. Until a seed has answered it has no
//! list: it keeps asking with a back-off (1 s doubling to 60 s) and answers 503 meanwhile.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use crate::static_files::APP_CSP;

use crypto_core::onion::MAX_BODY_LEN;

/// A seed the relay reads its node list from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// Its JSON-RPC URL (`…/json_rpc`).
    pub url: String,
    /// Pins for its certificate, for an HTTPS seed with a self-signed certificate: then only a
    /// certificate that matches one of them is trusted. Empty: the certificate must be publicly
    /// trusted (or the seed speaks plain HTTP).
    pub pins: Vec<crate::tls::Pin>,
}

/// The first wait before the relay asks its seeds again for a node list it does not have yet.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest wait between two such attempts (the wait doubles up to it).
pub const LAST_RETRY: Duration = Duration::from_secs(60);

/// How the relay is set up.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// The seeds, asked in turn until one answers.
    pub seeds: Vec<Seed>,
    /// Origins (`scheme://host[:port]`) allowed by CORS besides the relay's own: the origin the app
    /// is served from when that is not the relay's address (a reverse proxy, another host).
    pub allowed_origins: Vec<String>,
    /// Requests per client address per minute.
    pub rate_per_minute: u32,
    /// How often to refresh the node list.
    pub refresh: Duration,
    /// A folder of static files to serve (the built app), if any.
    pub static_dir: Option<PathBuf>,
}

/// A node the relay may forward to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownNode {
    /// Address.
    pub ip: String,
    /// HTTPS port.
    pub port: u16,
    /// Record returned by `/v1/nodes`.
    pub record: Value,
}

/// Counters the relay logs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Onion requests forwarded.
    pub forwarded: AtomicU64,
    /// Requests refused (unknown guard, too large, rate-limited, bad path).
    pub refused: AtomicU64,
    /// Node lists served (`GET /v1/nodes`).
    pub listed: AtomicU64,
    /// Forwards that failed to reach the guard.
    pub failed: AtomicU64,
    /// Bytes forwarded upstream.
    pub bytes_up: AtomicU64,
    /// Bytes returned downstream.
    pub bytes_down: AtomicU64,
}

/// The relay's shared state.
#[derive(Debug)]
pub struct Relay {
    config: RelayConfig,
    nodes: RwLock<HashMap<[u8; 32], KnownNode>>,
    upstream: reqwest::Client,
    /// Each seed's URL and the client that trusts exactly its certificate.
    seed_clients: Vec<(String, reqwest::Client)>,
    /// Which seed to ask next.
    next_seed: AtomicUsize,
    limiter: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// What it has done, in numbers only.
    pub counters: Counters,
}

impl Relay {
    /// A relay with an empty node list; [`Relay::refresh`] or [`Relay::spawn_refresher`] fills
    /// it (until then `/v1/…` answers 503). Refuses an allowed origin that is not exactly
    /// `scheme://host[:port]`, and a relay without a seed.
    pub fn new(config: RelayConfig) -> anyhow::Result<Arc<Relay>> {
        crate::tls::install_provider();
        for origin in &config.allowed_origins {
            check_origin(origin)?;
        }
        anyhow::ensure!(!config.seeds.is_empty(), "the relay needs a seed to read its node list from");
        // Service nodes present self-signed certificates; security comes from the onion layers,
        // and the relay only ever connects to addresses from its node list.
        let upstream = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(40))
            .pool_max_idle_per_host(64)
            .build()
            .context("building the upstream client")?;
        let mut seed_clients = Vec::new();
        for seed in &config.seeds {
            let client = if seed.pins.is_empty() {
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .context("building the seed client")?
            } else {
                crate::tls::pinned_client(seed.pins.clone(), Duration::from_secs(5))?
            };
            seed_clients.push((seed.url.clone(), client));
        }
        Ok(Arc::new(Relay {
            config,
            nodes: RwLock::new(HashMap::new()),
            upstream,
            seed_clients,
            next_seed: AtomicUsize::new(0),
            limiter: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }))
    }

    /// Fetches the node list from a seed: 4 attempts (at least one per seed), each asking the next
    /// seed in turn. A seed whose certificate matches none of its pins is never read.
    pub async fn refresh(&self) -> anyhow::Result<usize> {
        let request = json!({
            "jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes",
            "params": { "active_only": true, "fields": {
                "public_ip": true, "storage_port": true, "pubkey_x25519": true, "pubkey_ed25519": true, "swarm_id": true
            } }
        });
        let mut last_error = anyhow::anyhow!("no attempt made");
        for _ in 0..self.seed_clients.len().max(4) {
            let turn = self.next_seed.fetch_add(1, Ordering::Relaxed) % self.seed_clients.len().max(1);
            let Some((url, client)) = self.seed_clients.get(turn) else { break };
            match self.fetch(client, url, &request).await.with_context(|| format!("reading the node list from {url}")) {
                Ok(nodes) => {
                    let count = nodes.len();
                    *self.nodes.write().unwrap_or_else(std::sync::PoisonError::into_inner) = nodes;
                    return Ok(count);
                }
                Err(e) => last_error = e,
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(last_error)
    }

    async fn fetch(
        &self,
        client: &reqwest::Client,
        url: &str,
        request: &Value,
    ) -> anyhow::Result<HashMap<[u8; 32], KnownNode>> {
        let response = client.post(url).json(request).send().await?.error_for_status()?;
        let body: Value = response.json().await?;
        let states = body["result"]["service_node_states"].as_array().context("no service_node_states")?;
        let mut nodes = HashMap::new();
        for s in states {
            let (Some(ip), Some(port), Some(ed)) =
                (s["public_ip"].as_str(), s["storage_port"].as_u64(), s["pubkey_ed25519"].as_str())
            else {
                continue;
            };
            let mut key = [0u8; 32];
            if ip.is_empty() || ip == "0.0.0.0" || hex::decode_to_slice(ed, &mut key).is_err() {
                continue;
            }
            let Ok(port) = u16::try_from(port) else { continue };
            let record = json!({
                "public_ip": ip, "storage_port": port, "pubkey_ed25519": ed,
                "pubkey_x25519": s["pubkey_x25519"], "swarm_id": s["swarm_id"],
            });
            nodes.insert(key, KnownNode { ip: ip.to_owned(), port, record });
        }
        anyhow::ensure!(!nodes.is_empty(), "the seed listed no usable nodes");
        Ok(nodes)
    }

    /// Reads the node list once ([`Relay::refresh`]) and logs the outcome: how many nodes, or why
    /// there is no list yet and how long until the next attempt (`next_attempt`). Returns whether
    /// the relay has a list.
    pub async fn refresh_logged(&self, next_attempt: Duration) -> bool {
        match self.refresh().await {
            Ok(nodes) => {
                tracing::info!(nodes, "node list read from the seed");
                true
            }
            Err(e) => {
                let reason = format!("{e:#}");
                tracing::warn!(error = %reason, retry_in_s = next_attempt.as_secs(), "no node list yet");
                false
            }
        }
    }

    /// Keeps the node list fresh, forever: while there is none yet (the seeds are unreachable or
    /// their certificates do not match the pins), it asks again after [`FIRST_RETRY`], doubling
    /// the wait up to [`LAST_RETRY`] and logging why each time; then it refreshes every `refresh`,
    /// keeping the list it has when a refresh fails.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let relay = Arc::clone(self);
        tokio::spawn(async move {
            let mut wait = FIRST_RETRY;
            while relay.node_count() == 0 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2).min(LAST_RETRY);
                relay.refresh_logged(wait).await;
            }
            let mut tick = tokio::time::interval(relay.config.refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = relay.refresh().await {
                    let reason = format!("{e:#}");
                    tracing::warn!(error = %reason, "node list refresh failed");
                }
                relay.log_counts();
            }
        });
    }

    /// The node list's size.
    pub fn node_count(&self) -> usize {
        self.nodes.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Logs the counters (numbers only).
    pub fn log_counts(&self) {
        let c = &self.counters;
        tracing::info!(
            nodes = self.node_count(),
            forwarded = c.forwarded.load(Ordering::Relaxed),
            refused = c.refused.load(Ordering::Relaxed),
            listed = c.listed.load(Ordering::Relaxed),
            failed = c.failed.load(Ordering::Relaxed),
            bytes_up = c.bytes_up.load(Ordering::Relaxed),
            bytes_down = c.bytes_down.load(Ordering::Relaxed),
            "relay counts"
        );
    }

    fn allow(&self, ip: IpAddr) -> bool {
        let mut limiter = self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if limiter.len() > 100_000 {
            limiter.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = limiter.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.config.rate_per_minute
    }

    fn node(&self, key: &[u8; 32]) -> Option<KnownNode> {
        self.nodes.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(key).cloned()
    }
}

/// Checks that `origin` is what a browser sends in `Origin`: `http` or `https`, a host, an
/// optional port, in lower case, and nothing else (no path, not even `/`).
pub fn check_origin(origin: &str) -> anyhow::Result<()> {
    let uri: axum::http::Uri = origin.parse().with_context(|| format!("{origin:?} is not an origin"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let exact = uri.authority().is_some_and(|a| format!("{}://{a}", uri.scheme_str().unwrap_or("")) == origin);
    let lower = !origin.bytes().any(|b| b.is_ascii_uppercase());
    anyhow::ensure!(
        scheme_ok && exact && lower && HeaderValue::from_str(origin).is_ok(),
        "{origin:?} is not an origin: write it as the browser sends it, scheme://host[:port] in lower case \
         with no path (for example https://hush.example or http://127.0.0.1:8080)"
    );
    Ok(())
}

/// The relay's routes (`/v1/…`), with CORS; static files behind them when configured.
pub fn router(relay: Arc<Relay>, own_origin: Option<String>) -> Router {
    let mut origins: Vec<HeaderValue> =
        relay.config.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if let Some(own) = own_origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        origins.push(own);
    }
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = Router::new()
        .route("/v1/onion/{guard}", post(forward))
        .route("/v1/nodes", get(nodes))
        .layer(cors)
        .with_state(relay.clone());
    let api = api
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    match &relay.config.static_dir {
        // Precompressed, cached by name, with the page's own policy: see `static_files`.
        Some(dir) => api.fallback_service(crate::static_files::router(dir)),
        None => api.fallback(|| async { StatusCode::NOT_FOUND }),
    }
}

fn text(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// 503 while the relay has no node list (no seed has answered yet), with a hint to try again.
fn no_list_yet(relay: &Relay) -> Response {
    relay.counters.refused.fetch_add(1, Ordering::Relaxed);
    let mut response =
        text(StatusCode::SERVICE_UNAVAILABLE, "The relay has no node list yet: its seed has not answered");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

async fn nodes(State(relay): State<Arc<Relay>>, ConnectInfo(client): ConnectInfo<SocketAddr>) -> Response {
    if !relay.allow(client.ip()) {
        relay.counters.refused.fetch_add(1, Ordering::Relaxed);
        return text(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    }
    if relay.node_count() == 0 {
        return no_list_yet(&relay);
    }
    relay.counters.listed.fetch_add(1, Ordering::Relaxed);
    let list: Vec<Value> = relay
        .nodes
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values()
        .map(|n| n.record.clone())
        .collect();
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], json!({ "nodes": list }).to_string()).into_response()
}

async fn forward(
    State(relay): State<Arc<Relay>>,
    Path(guard): Path<String>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let refuse = |status: StatusCode, message: &'static str| {
        relay.counters.refused.fetch_add(1, Ordering::Relaxed);
        text(status, message)
    };
    if !relay.allow(client.ip()) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    }
    if relay.node_count() == 0 {
        return no_list_yet(&relay);
    }
    let mut key = [0u8; 32];
    if hex::decode_to_slice(&guard, &mut key).is_err() {
        return refuse(StatusCode::BAD_REQUEST, "The guard must be a 64-character hex Ed25519 key");
    }
    let Some(node) = relay.node(&key) else {
        return refuse(StatusCode::NOT_FOUND, "Unknown service node");
    };
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_LEN).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    };
    let url = format!("https://{}:{}/onion_req/v2", node.ip, node.port);
    relay.counters.bytes_up.fetch_add(body.len() as u64, Ordering::Relaxed);
    let upstream = relay.upstream.post(url).header(header::CONTENT_TYPE, "application/octet-stream").body(body);
    match upstream.send().await {
        Ok(response) => {
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            match response.bytes().await {
                Ok(bytes) => {
                    relay.counters.forwarded.fetch_add(1, Ordering::Relaxed);
                    relay.counters.bytes_down.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    text(status, bytes)
                }
                Err(_) => {
                    relay.counters.failed.fetch_add(1, Ordering::Relaxed);
                    text(StatusCode::BAD_GATEWAY, "Service node unreachable")
                }
            }
        }
        Err(_) => {
            relay.counters.failed.fetch_add(1, Ordering::Relaxed);
            text(StatusCode::BAD_GATEWAY, "Service node unreachable")
        }
    }
}
