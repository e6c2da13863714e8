//! The relay: the browser's only way onto the network.
//!
//! It forwards an already onion-encrypted body, unchanged, to the guard node the client names,
//! and returns the guard's status and body. It sees the client's address and the guard's key —
//! never a Session ID, a destination or content — and it logs counts, never bodies. It forwards
//! only to nodes in its list (refreshed from its seed every `refresh`), caps bodies at 10 MiB and
//! rate-limits each client address over both of its routes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
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
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy sent with the app (the page carries the same policy as a `<meta>`
/// for static hosts; `frame-ancestors` only works as a header).
pub const APP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

use crypto_core::onion::MAX_BODY_LEN;

/// How the relay is set up.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// The seed's JSON-RPC URL (`…/json_rpc`).
    pub seed: String,
    /// Pins for the seed's certificate, for HTTPS seeds with self-signed certificates (then only a
    /// certificate that matches one is trusted).
    pub seed_pins: Vec<crate::tls::Pin>,
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
    seed_client: reqwest::Client,
    limiter: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// What it has done, in numbers only.
    pub counters: Counters,
}

impl Relay {
    /// A relay with an empty node list; call [`Relay::refresh`] before serving. Refuses an allowed
    /// origin that is not exactly `scheme://host[:port]`.
    pub fn new(config: RelayConfig) -> anyhow::Result<Arc<Relay>> {
        crate::tls::install_provider();
        for origin in &config.allowed_origins {
            check_origin(origin)?;
        }
        // Service nodes present self-signed certificates; security comes from the onion layers,
        // and the relay only ever connects to addresses from its node list.
        let upstream = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(40))
            .pool_max_idle_per_host(64)
            .build()
            .context("building the upstream client")?;
        let seed_client = if config.seed_pins.is_empty() {
            reqwest::Client::builder().timeout(Duration::from_secs(5)).build().context("building the seed client")?
        } else {
            crate::tls::pinned_client(config.seed_pins.clone(), Duration::from_secs(5))?
        };
        Ok(Arc::new(Relay {
            config,
            nodes: RwLock::new(HashMap::new()),
            upstream,
            seed_client,
            limiter: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }))
    }

    /// Fetches the node list from the seed (4 attempts).
    pub async fn refresh(&self) -> anyhow::Result<usize> {
        let request = json!({
            "jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes",
            "params": { "active_only": true, "fields": {
                "public_ip": true, "storage_port": true, "pubkey_x25519": true, "pubkey_ed25519": true, "swarm_id": true
            } }
        });
        let mut last_error = anyhow::anyhow!("no attempt made");
        for _ in 0..4 {
            match self.fetch(&request).await {
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

    async fn fetch(&self, request: &Value) -> anyhow::Result<HashMap<[u8; 32], KnownNode>> {
        let response = self.seed_client.post(&self.config.seed).json(request).send().await?.error_for_status()?;
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

    /// Refreshes the node list periodically, forever.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let relay = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(relay.config.refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = relay.refresh().await {
                    tracing::warn!(error = %e, "node list refresh failed");
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
        Some(dir) => {
            let files = tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, app_csp(dir)))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                // The service worker decides what is cached; the browser's HTTP cache must not.
                .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
                .service(ServeDir::new(dir).append_index_html_on_directories(true));
            api.fallback_service(files)
        }
        None => api.fallback(|| async { StatusCode::NOT_FOUND }),
    }
}

/// The policy sent with the app in `dir`: the one its `index.html` carries (a build made for a
/// relay on another origin names that relay in `connect-src`, and a header stricter than the page
/// would block it), plus `frame-ancestors 'none'`, which only works as a header. [`APP_CSP`] when
/// the page carries none. Read once, when the relay starts.
fn app_csp(dir: &std::path::Path) -> HeaderValue {
    const ATTRIBUTE: &str = "http-equiv=\"Content-Security-Policy\"";
    const CONTENT: &str = "content=\"";
    let from_page = std::fs::read_to_string(dir.join("index.html")).ok().and_then(|html| {
        let tag = html.get(html.find(ATTRIBUTE)?..)?;
        let tag = tag.get(..tag.find('>')?)?;
        let policy = tag.get(tag.find(CONTENT)? + CONTENT.len()..)?;
        let policy = policy.get(..policy.find('"')?)?.trim().trim_end_matches(';');
        if policy.is_empty() || policy.contains("frame-ancestors") {
            return None;
        }
        HeaderValue::from_str(&format!("{policy}; frame-ancestors 'none'")).ok()
    });
    from_page.unwrap_or_else(|| HeaderValue::from_static(APP_CSP))
}

fn text(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

async fn nodes(State(relay): State<Arc<Relay>>, ConnectInfo(client): ConnectInfo<SocketAddr>) -> Response {
    if !relay.allow(client.ip()) {
        relay.counters.refused.fetch_add(1, Ordering::Relaxed);
        return text(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn csp_for(index_html: Option<&str>) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(html) = index_html {
            std::fs::write(dir.path().join("index.html"), html).expect("write index.html");
        }
        app_csp(dir.path()).to_str().expect("ASCII").to_owned()
    }

    /// The header is the page's own policy plus `frame-ancestors`, so a build for a relay on
    /// another origin is not blocked by a stricter header; without a usable policy in the page,
    /// the built-in one.
    #[test]
    fn the_app_is_served_with_its_own_policy_and_frame_ancestors() {
        let page = |policy: &str| {
            format!(
                "<!doctype html><head><meta charset=\"utf-8\" />\n<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\" /></head>"
            )
        };
        let policy = "default-src 'self'; connect-src 'self' https://relay.example:8443; object-src 'none'";
        assert_eq!(csp_for(Some(&page(policy))), format!("{policy}; frame-ancestors 'none'"));
        assert_eq!(csp_for(Some(&page(&format!("{policy};")))), format!("{policy}; frame-ancestors 'none'"));
        assert_eq!(csp_for(None), APP_CSP);
        assert_eq!(csp_for(Some("<!doctype html><p>no policy</p>")), APP_CSP);
        assert_eq!(csp_for(Some(&page(""))), APP_CSP);
        assert_eq!(csp_for(Some(&page("default-src 'self'; frame-ancestors *"))), APP_CSP);
        assert_eq!(csp_for(Some(&page("default-src 'self'\u{7}"))), APP_CSP, "not a header value");
    }
}
