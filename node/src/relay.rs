//! The relay: the browser's only way onto the network.
//!
//! It forwards an already onion-encrypted body, unchanged, to the guard node the client names,
//! and returns the guard's status and body. It sees the client's address and the guard's key —
//! never a Session ID, a destination or content — and it logs counts, never bodies. It forwards
//! only to nodes in its list (refreshed from its seed every `refresh`), caps bodies at 10 MiB and
//! rate-limits each client. Until a seed has answered it has no list: it keeps asking with a
//! back-off (1 s doubling to 60 s) and answers 503 meanwhile.
//!
//! Inbound (see [`Inbound`] and [`crate::listener`]): served by [`crate::listener::serve`], with
//! header, idle, body and write timeouts and per-client and total connection limits. Onion
//! requests must be `application/octet-stream` (else 415); a request whose `Origin` is not one
//! the relay allows gets 403 (a request without one, from the command line or another native
//! tool, passes), and a body declared over 10 MiB gets 413 before a byte of it is read. The rate
//! limit is per client: the TCP peer, or behind a trusted proxy the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy, an IPv6 client by its /64. `/v1/nodes`
//! has a bucket of its own, so onion traffic never starves it. None of these refusals spends the
//! client's onion bucket except the ones after the rate check (unknown guard, no list yet).
//!
//! Outbound (see [`crate::outbound`]): it keeps only nodes listed at public addresses (loopback
//! too with [`Outbound::allow_loopback_nodes`], for a local test network), follows no redirect
//! from a seed or a node, reads their answers chunk by chunk up to a cap (the node list 8 MiB, a
//! guard's answer 10 MiB), and gives up on a connection after 5 s and on a forward after 40 s; a
//! guard that redirects, floods or trickles gets the client a 502 `Service node unreachable`.

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
use axum::http::HeaderMap;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ipnet::IpNet;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use crate::static_files::APP_CSP;

use axum::body::Bytes;
use crypto_core::network::relay::GUARD_UNREACHABLE;
use crypto_core::onion::MAX_BODY_LEN;

use crate::outbound::{MAX_NODE_REPLY_LEN, MAX_SEED_REPLY_LEN, Outbound, ReadError};

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
    /// Onion requests per client per minute (see [`DEFAULT_RATE_PER_MINUTE`]).
    pub rate_per_minute: u32,
    /// How often to refresh the node list.
    pub refresh: Duration,
    /// A folder of static files to serve (the built app), if any.
    pub static_dir: Option<PathBuf>,
    /// Which node addresses it contacts and how long it waits for seeds and nodes.
    pub outbound: Outbound,
    /// What it accepts from the public: timeouts, connection limits, trusted proxies, the node
    /// list's own rate and the memory request bodies may take.
    pub inbound: Inbound,
}

/// The default onion requests per client per minute: one open tab polls every 1.5 s (40 a
/// minute, 80 when every poll is hedged by a second request after 2 s; a hidden tab 6), so this is
/// 150 busy tabs (75 with every poll hedged) behind one address, a household or an office behind
/// one NAT with room to spare.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 6_000;

/// The default `/v1/nodes` requests per client per minute. A tab asks for the list when it starts
/// and then at most about once a minute while its pool is short.
pub const DEFAULT_NODES_PER_MINUTE: u32 = 120;

/// The default memory all request bodies being read may take at once (256 MiB).
pub const DEFAULT_BODY_BUDGET: usize = 256 * 1024 * 1024;

/// What the relay accepts from the public (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Inbound {
    /// Timeouts, connection limits and trusted proxies ([`crate::listener::serve`] applies all
    /// but the body timeout, which [`forward`] applies as it reads the body).
    pub connections: crate::listener::Limits,
    /// `GET /v1/nodes` per client per minute, a bucket of its own.
    pub nodes_per_minute: u32,
    /// Bytes of request bodies held at once, over all clients; a body that would go over it gets
    /// 503.
    pub body_budget: usize,
}

impl Default for Inbound {
    fn default() -> Inbound {
        Inbound {
            connections: crate::listener::Limits::default(),
            nodes_per_minute: DEFAULT_NODES_PER_MINUTE,
            body_budget: DEFAULT_BODY_BUDGET,
        }
    }
}

/// A node the relay may forward to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownNode {
    /// Address (public, or loopback on a local test network: see [`Outbound`]).
    pub ip: IpAddr,
    /// HTTPS port.
    pub port: u16,
    /// Record returned by `/v1/nodes`.
    pub record: Value,
}

/// Reads a seed's `get_n_service_nodes` answer: the nodes the relay may forward to, by Ed25519
/// key — only those listed at an IP address it may contact ([`crate::outbound::may_contact`];
/// loopback only with `allow_loopback`); how many were left out for their address is logged,
/// never the addresses. An answer without a usable node is an error.
pub fn read_node_list(bytes: &[u8], allow_loopback: bool) -> anyhow::Result<HashMap<[u8; 32], KnownNode>> {
    let body: Value = serde_json::from_slice(bytes).context("the node list is not JSON")?;
    let states = body["result"]["service_node_states"].as_array().context("no service_node_states")?;
    let mut nodes = HashMap::new();
    let mut not_public = 0usize;
    for s in states {
        let (Some(ip), Some(port), Some(ed)) =
            (s["public_ip"].as_str(), s["storage_port"].as_u64(), s["pubkey_ed25519"].as_str())
        else {
            continue;
        };
        let mut key = [0u8; 32];
        if hex::decode_to_slice(ed, &mut key).is_err() {
            continue;
        }
        // An IP address only (a name could resolve anywhere), and one the relay may contact.
        let Ok(ip) = ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            not_public += 1;
            continue;
        };
        if !crate::outbound::may_contact(ip, allow_loopback) {
            not_public += 1;
            continue;
        }
        let Ok(port) = u16::try_from(port) else { continue };
        if port == 0 {
            continue;
        }
        let record = json!({
            "public_ip": ip.to_string(), "storage_port": port, "pubkey_ed25519": ed,
            "pubkey_x25519": s["pubkey_x25519"], "swarm_id": s["swarm_id"],
        });
        nodes.insert(key, KnownNode { ip, port, record });
    }
    if not_public > 0 {
        tracing::warn!(
            left_out = not_public,
            kept = nodes.len(),
            "nodes listed at non-public addresses were left out of the node list"
        );
    }
    anyhow::ensure!(
        !nodes.is_empty(),
        "the seed listed no usable nodes ({not_public} at non-public addresses left out; loopback nodes \
         are kept only with --allow-loopback-nodes, for a local test network)"
    );
    Ok(nodes)
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
    /// Onion requests per client per minute.
    onion_limiter: Limiter,
    /// `/v1/nodes` requests per client per minute.
    nodes_limiter: Limiter,
    /// One permit per byte of request body held.
    body_budget: Semaphore,
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
        // and the relay only ever connects to (public) addresses from its node list. No redirect
        // is followed: a node could otherwise send the relay anywhere, its own machine included.
        let out = config.outbound;
        let upstream = crate::outbound::client_builder(out.connect_timeout, out.node_timeout)
            .danger_accept_invalid_certs(true)
            .pool_max_idle_per_host(64)
            .build()
            .context("building the upstream client")?;
        let mut seed_clients = Vec::new();
        for seed in &config.seeds {
            let client = if seed.pins.is_empty() {
                crate::outbound::client_builder(out.connect_timeout, out.seed_timeout)
                    .build()
                    .context("building the seed client")?
            } else {
                crate::tls::pinned_client(seed.pins.clone(), out.seed_timeout)?
            };
            seed_clients.push((seed.url.clone(), client));
        }
        let onion_limiter = Limiter::new(config.rate_per_minute);
        let nodes_limiter = Limiter::new(config.inbound.nodes_per_minute);
        let body_budget = Semaphore::new(config.inbound.body_budget.min(Semaphore::MAX_PERMITS));
        Ok(Arc::new(Relay {
            config,
            nodes: RwLock::new(HashMap::new()),
            upstream,
            seed_clients,
            next_seed: AtomicUsize::new(0),
            onion_limiter,
            nodes_limiter,
            body_budget,
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

    /// Reads one seed's node list: no redirect followed, at most [`MAX_SEED_REPLY_LEN`] bytes, and
    /// only nodes at an IP address the relay may contact ([`crate::outbound::may_contact`]); how
    /// many were left out for their address is logged, never the addresses.
    async fn fetch(
        &self,
        client: &reqwest::Client,
        url: &str,
        request: &Value,
    ) -> anyhow::Result<HashMap<[u8; 32], KnownNode>> {
        let response = client.post(url).json(request).send().await?;
        let status = response.status();
        anyhow::ensure!(
            !status.is_redirection(),
            "the seed answered with a redirect (HTTP {}), which the relay does not follow",
            status.as_u16()
        );
        let response = response.error_for_status()?;
        let bytes = crate::outbound::read_capped(response, MAX_SEED_REPLY_LEN).await.map_err(|e| match e {
            ReadError::TooLarge => anyhow::anyhow!("the node list is larger than {MAX_SEED_REPLY_LEN} bytes"),
            other => anyhow::Error::new(other),
        })?;
        read_node_list(&bytes, self.config.outbound.allow_loopback_nodes)
    }

    /// Sends an onion body to `node` and turns its answer into the client's: the guard's status
    /// and body, or 502 `Service node unreachable` when it cannot be reached, answers with a
    /// redirect (never followed), sends more than [`MAX_NODE_REPLY_LEN`] bytes, or does not finish
    /// within [`Outbound::node_timeout`].
    async fn ask_guard(&self, node: &KnownNode, body: Bytes) -> Response {
        let url = format!("https://{}/onion_req/v2", SocketAddr::new(node.ip, node.port));
        self.counters.bytes_up.fetch_add(body.len() as u64, Ordering::Relaxed);
        let upstream = self.upstream.post(url).header(header::CONTENT_TYPE, "application/octet-stream").body(body);
        let unreachable = || {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            text(StatusCode::BAD_GATEWAY, GUARD_UNREACHABLE)
        };
        let Ok(response) = upstream.send().await else { return unreachable() };
        if response.status().is_redirection() {
            tracing::debug!("a guard answered with a redirect; not followed");
            return unreachable();
        }
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        match crate::outbound::read_capped(response, MAX_NODE_REPLY_LEN).await {
            Ok(bytes) => {
                self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
                self.counters.bytes_down.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                text(status, bytes)
            }
            Err(e) => {
                tracing::debug!(reason = %e, "a guard's answer was not taken");
                unreachable()
            }
        }
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

    /// Who a request is from, for the rate limit ([`client_of`] with the trusted proxies).
    fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        client_of(peer.ip(), headers, &self.config.inbound.connections.trusted_proxies)
    }

    /// Bytes of request bodies held now (for tests and counts).
    pub fn body_bytes_held(&self) -> usize {
        self.config.inbound.body_budget.min(Semaphore::MAX_PERMITS) - self.body_budget.available_permits()
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

/// The header a reverse proxy names the client in.
const X_FORWARDED_FOR: axum::http::HeaderName = axum::http::HeaderName::from_static("x-forwarded-for");

/// How long a client's count runs before it starts again.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// How many clients a limiter tracks before it sweeps out those whose window has passed (at most
/// once every [`SWEEP_EVERY`]).
const SWEEP_AT: usize = 100_000;

/// The shortest time between two sweeps.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// The most clients a limiter tracks; beyond it, new clients share one count until a sweep makes
/// room (someone with a very large IPv6 range cannot grow the relay's memory without bound).
const MAX_CLIENTS: usize = 1_000_000;

/// The count new clients share when [`MAX_CLIENTS`] are tracked.
const OVERFLOW_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::BROADCAST);

/// Requests per client per minute, counted in windows of a minute from each client's first.
#[derive(Debug)]
struct Limiter {
    per_minute: u32,
    clients: Mutex<Clients>,
}

#[derive(Debug, Default)]
struct Clients {
    windows: HashMap<IpAddr, (Instant, u32)>,
    swept: Option<Instant>,
}

impl Limiter {
    fn new(per_minute: u32) -> Limiter {
        Limiter { per_minute, clients: Mutex::new(Clients::default()) }
    }

    /// Counts one request from `client`; whether it is within the limit.
    fn allow(&self, client: IpAddr) -> bool {
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if clients.windows.len() >= SWEEP_AT && clients.swept.is_none_or(|at| now.duration_since(at) >= SWEEP_EVERY) {
            clients.windows.retain(|_, (start, _)| now.duration_since(*start) < RATE_WINDOW);
            clients.swept = Some(now);
        }
        let client = if clients.windows.len() >= MAX_CLIENTS && !clients.windows.contains_key(&client) {
            OVERFLOW_CLIENT
        } else {
            client
        };
        let entry = clients.windows.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= RATE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_minute
    }
}

/// Who a request is from, for the rate limit, as [`crate::listener::client_key`] keys it (an IPv6
/// client by its /64). A peer that is not a trusted proxy is the client, whatever its
/// `X-Forwarded-For` says. Behind trusted proxies, the client is the right-most address in
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it got the
/// request from, so everything left of that could have been written by the client); an entry that
/// is not an address ends the search at the trusted proxy that passed it on.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    /// How many entries are looked at, from the right.
    const MAX_HOPS: usize = 16;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&crate::listener::canonical(ip)));
    let mut client = peer;
    if is_trusted(peer) {
        let mut entries = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|value| match value.to_str() {
                Ok(text) => text.rsplit(',').map(Some).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .take(MAX_HOPS);
        while let Some(Some(address)) = entries.next() {
            let Some(ip) = forwarded_address(address) else { break };
            client = ip;
            if !is_trusted(ip) {
                break;
            }
        }
    }
    crate::listener::client_key(client)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`203.0.113.7:5000`,
/// `[2001:db8::1]:5000`) or in brackets.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// The origins whose pages may use the relay: `allowed` and the relay's own (with
/// `http://localhost:<port>` beside a loopback address, as people type either).
fn allowed_origins(allowed: &[String], own_origin: Option<String>) -> Vec<HeaderValue> {
    let mut origins: Vec<String> = allowed.to_vec();
    if let Some(own) = own_origin {
        for loopback in ["http://127.0.0.1:", "http://[::1]:"] {
            if let Some(port) = own.strip_prefix(loopback) {
                origins.push(format!("http://localhost:{port}"));
            }
        }
        origins.push(own);
    }
    origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect()
}

/// Refuses, with 403, a request to `/v1/…` whose `Origin` is not allowed (preflights included):
/// a page elsewhere cannot spend its visitors' requests. A request with no `Origin` passes
/// (the command line and other native tools send none).
async fn check_request_origin(
    State((relay, allowed)): State<(Arc<Relay>, Arc<Vec<HeaderValue>>)>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !allowed.contains(origin)
    {
        relay.counters.refused.fetch_add(1, Ordering::Relaxed);
        return text(
            StatusCode::FORBIDDEN,
            "This relay does not serve pages from this origin (its operator can allow it with --allow-origin)",
        );
    }
    next.run(request).await
}

/// The relay's routes (`/v1/…`), with CORS; static files behind them when configured.
pub fn router(relay: Arc<Relay>, own_origin: Option<String>) -> Router {
    let origins = allowed_origins(&relay.config.allowed_origins, own_origin);
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.clone()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = Router::new()
        .route("/v1/onion/{guard}", post(forward))
        .route("/v1/nodes", get(nodes))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state((relay.clone(), Arc::new(origins)), check_request_origin))
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

async fn nodes(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !relay.nodes_limiter.allow(relay.client(peer, &headers)) {
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let refuse = |status: StatusCode, message: &'static str| {
        relay.counters.refused.fetch_add(1, Ordering::Relaxed);
        text(status, message)
    };
    // What the request says about itself is checked before it costs the client anything.
    if !is_octet_stream(request.headers()) {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "An onion request is application/octet-stream");
    }
    let declared = declared_length(request.headers());
    if declared.is_some_and(|length| length > MAX_BODY_LEN) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    }
    if !relay.onion_limiter.allow(relay.client(peer, request.headers())) {
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
    let timeout = relay.config.inbound.connections.body_timeout;
    let (body, _held) = match tokio::time::timeout(timeout, read_body(&relay, request.into_body(), declared)).await {
        Ok(Ok(read)) => read,
        Ok(Err((status, message))) => return refuse(status, message),
        Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "The request body did not arrive in time"),
    };
    relay.ask_guard(&node, body).await
}

/// Whether the request's `Content-Type` is `application/octet-stream` (parameters allowed).
fn is_octet_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/octet-stream"))
}

/// The body length the request declares (`Content-Length`), if any.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(header::CONTENT_LENGTH)?.to_str().ok()?;
    // A length too large for usize is over the cap all the same.
    Some(value.trim().parse::<u64>().ok()?.try_into().unwrap_or(usize::MAX))
}

/// Reads a request body of at most [`MAX_BODY_LEN`] bytes (413 beyond, with or without a declared
/// length), holding a permit of the relay's body budget for each byte (503 when it is spent)
/// until the caller drops it. The caller bounds the time it takes.
async fn read_body<'a>(
    relay: &'a Relay,
    mut body: Body,
    declared: Option<usize>,
) -> Result<(Bytes, Option<SemaphorePermit<'a>>), (StatusCode, &'static str)> {
    const BUSY: (StatusCode, &str) = (StatusCode::SERVICE_UNAVAILABLE, "The relay is busy: try again in a moment");
    const TOO_LARGE: (StatusCode, &str) = (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    let mut held: Option<SemaphorePermit<'a>> = None;
    let mut held_bytes = 0usize;
    let mut take = |bytes: usize, held: &mut Option<SemaphorePermit<'a>>| -> bool {
        if bytes <= held_bytes {
            return true;
        }
        let more = u32::try_from(bytes - held_bytes).unwrap_or(u32::MAX);
        let Ok(permit) = relay.body_budget.try_acquire_many(more) else { return false };
        held_bytes = bytes;
        match held {
            Some(held) => held.merge(permit),
            None => *held = Some(permit),
        }
        true
    };
    let mut buffer = Vec::new();
    if let Some(length) = declared {
        if !take(length, &mut held) {
            return Err(BUSY);
        }
        buffer.reserve_exact(length);
    }
    loop {
        let frame =
            std::future::poll_fn(|cx| axum::body::HttpBody::poll_frame(std::pin::Pin::new(&mut body), cx)).await;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|_| (StatusCode::BAD_REQUEST, "The request body could not be read"))?;
        let Ok(data) = frame.into_data() else { continue };
        let length = buffer.len().saturating_add(data.len());
        if length > MAX_BODY_LEN {
            return Err(TOO_LARGE);
        }
        if !take(length, &mut held) {
            return Err(BUSY);
        }
        buffer.extend_from_slice(&data);
    }
    Ok((Bytes::from(buffer), held))
}

#[cfg(test)]
mod inbound_tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The client behind trusted proxies is the right-most `X-Forwarded-For` entry that is not one
    /// of them (with or without a port, IPv6 by its /64); a peer that is not trusted is the client
    /// whatever it says; an entry that is not an address stops the search at the proxy before it.
    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        let trusted: Vec<IpNet> = ["127.0.0.1/32", "10.0.0.0/8"].iter().map(|t| t.parse().unwrap()).collect();
        let client = |peer: &str, forwarded: &[&str]| client_of(ip(peer), &headers(forwarded), &trusted);
        assert_eq!(client("127.0.0.1", &["203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(client("127.0.0.1", &["198.51.100.1, 203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(client("127.0.0.1", &["198.51.100.1, 203.0.113.7, 10.1.1.1"]), ip("203.0.113.7"));
        assert_eq!(client("127.0.0.1", &["198.51.100.1", "203.0.113.7", "10.1.1.1"]), ip("203.0.113.7"));
        assert_eq!(client("127.0.0.1", &["203.0.113.7:5000"]), ip("203.0.113.7"));
        assert_eq!(client("127.0.0.1", &["[2001:db8:1:2::7]:443"]), ip("2001:db8:1:2::"));
        assert_eq!(client("127.0.0.1", &["[2001:db8:1:2::7]"]), ip("2001:db8:1:2::"));
        assert_eq!(client("127.0.0.1", &[" 2001:db8:1:2:ffff::1 "]), ip("2001:db8:1:2::"));
        // Nothing forwarded, or only trusted hops: the left-most trusted hop.
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(client("127.0.0.1", &["10.2.2.2"]), ip("10.2.2.2"));
        // Garbage ends the search where it was passed on.
        assert_eq!(client("127.0.0.1", &["203.0.113.7, unknown"]), ip("127.0.0.1"));
        assert_eq!(client("127.0.0.1", &["203.0.113.7, not-an-address, 10.3.3.3"]), ip("10.3.3.3"));
        // An untrusted peer is itself, whatever it forwards.
        assert_eq!(client("192.0.2.1", &["203.0.113.7"]), ip("192.0.2.1"));
        assert_eq!(client("::ffff:192.0.2.1", &["203.0.113.7"]), ip("192.0.2.1"));
        assert_eq!(client("2001:db8:9:9::1", &["203.0.113.7"]), ip("2001:db8:9:9::"));
    }

    /// Each client has its own count; a count starts again after a minute.
    #[test]
    fn each_client_has_its_own_count() {
        let limiter = Limiter::new(2);
        let (a, b) = (ip("203.0.113.1"), ip("203.0.113.2"));
        assert!(limiter.allow(a) && limiter.allow(a));
        assert!(!limiter.allow(a));
        assert!(limiter.allow(b));
        let mut clients = limiter.clients.lock().unwrap();
        let Some(window) = clients.windows.get_mut(&a) else { panic!("a is counted") };
        let Some(earlier) = window.0.checked_sub(RATE_WINDOW) else { return };
        window.0 = earlier;
        drop(clients);
        assert!(limiter.allow(a));
    }

    #[test]
    fn only_octet_stream_is_an_onion_request() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_octet_stream(&headers)
        };
        assert!(with("application/octet-stream"));
        assert!(with("Application/Octet-Stream; charset=binary"));
        for other in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
            assert!(!with(other), "{other}");
        }
        assert!(!is_octet_stream(&HeaderMap::new()));
    }
}
