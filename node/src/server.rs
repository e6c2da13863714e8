//! A service node's HTTPS endpoints: `/storage_rpc/v1` and `/onion_req/v2`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crypto_core::onion::{self, MAX_BODY_LEN, Peeled, Protocol};
use rand_core::OsRng;
use serde_json::Value;

use crate::network::{Network, Node};
use crate::outbound::ReadError;
use crate::rpc;

/// The clock nodes answer with, in ms since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What every node's handlers share.
#[derive(Clone, Debug)]
pub struct NodeState {
    /// The whole devnet.
    pub network: Arc<Network>,
    /// This node.
    pub node: Arc<Node>,
    /// Servers (`host:port`) onion requests may be relayed to.
    pub proxy_allow: Arc<Vec<String>>,
    /// For relaying to servers.
    pub http: reqwest::Client,
}

/// The node's routes; anything else is 404.
pub fn router(state: NodeState) -> Router {
    Router::new()
        .route("/storage_rpc/v1", post(storage_rpc))
        .route("/onion_req/v2", post(onion_req))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .method_not_allowed_fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
}

fn plain(status: u16, body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Reads a body of at most 10 MiB; `Err` is the 413 to send.
async fn read_body(request: Request) -> Result<Bytes, Response> {
    axum::body::to_bytes(request.into_body(), MAX_BODY_LEN)
        .await
        .map_err(|_| plain(413, "Request body too large", "text/plain; charset=utf-8"))
}

async fn storage_rpc(State(state): State<NodeState>, request: Request) -> Response {
    if request.headers().contains_key("x-loki-long-poll") {
        return StatusCode::GONE.into_response();
    }
    let body = match read_body(request).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let reply = run_rpc(&state.network, &state.node, &body).await;
    let content_type = if reply.is_json() { "application/json" } else { "text/plain; charset=utf-8" };
    plain(reply.status, reply.body, content_type)
}

async fn onion_req(State(state): State<NodeState>, request: Request) -> Response {
    let body = match read_body(request).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (status, body) = process_onion(&state, body.to_vec()).await;
    plain(status, body, "text/plain; charset=utf-8")
}

/// The storage RPC at `node`, answered when a real node would answer it: a recursive request
/// (a `store`, a delete, an expiry) forwarded to swarm peers that are down but still listed
/// replies only once the wait for them has run out ([`Timeouts::peer`], all peers in parallel, so
/// one wait per request; a `sequence` runs its subrequests one after the other, so one wait for
/// each that reached such a peer, and a `batch` runs them in parallel).
///
/// [`Timeouts::peer`]: crate::network::Timeouts::peer
pub async fn run_rpc(network: &Network, node: &Node, body: &[u8]) -> rpc::Reply {
    let reply = rpc::handle(network, node, now_ms(), body);
    let waits = peer_waits(network, node, body, &reply.body);
    if waits > 0 {
        tokio::time::sleep(network.timeouts().peer.saturating_mul(waits)).await;
    }
    reply
}

/// How many times the node waited for a swarm peer that is down but listed while answering
/// `request` with `reply`: the recursive results (a `swarm` object, alone or inside `results`)
/// that report such a peer as failed.
fn peer_waits(network: &Network, node: &Node, request: &[u8], reply: &str) -> u32 {
    let dead: Vec<String> = network
        .members(node.info.swarm_id)
        .filter(|m| m.is_down_but_listed())
        .map(|m| hex::encode(m.info.ed25519))
        .collect();
    if dead.is_empty() {
        return 0;
    }
    let Ok(reply) = serde_json::from_str::<Value>(reply) else { return 0 };
    let waited = |result: &Value| {
        result.get("swarm").and_then(Value::as_object).is_some_and(|swarm| {
            dead.iter().any(|key| swarm.get(key).and_then(|r| r.get("failed")).and_then(Value::as_bool) == Some(true))
        })
    };
    if waited(&reply) {
        return 1;
    }
    let results = reply.get("results").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let count = results.iter().filter_map(|r| r.get("body")).filter(|body| waited(body)).count();
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    let sequence = serde_json::from_slice::<Value>(request)
        .ok()
        .is_some_and(|r| r.get("method").and_then(Value::as_str) == Some("sequence"));
    if sequence { count } else { count.min(1) }
}

/// What peeling one layer at a node leads to.
enum Step {
    /// The answer to send back.
    Answer(u16, Vec<u8>),
    /// Hand the rest to this node.
    Relay(Arc<Node>, Vec<u8>),
}

/// The answer of a hop whose next hop did not answer in time, as the real node words it.
fn timed_out() -> (u16, Vec<u8>) {
    (504, b"Request time out".to_vec())
}

/// Runs an onion request that arrived at `state.node`: peels layer after layer while it is
/// relayed between nodes, then runs the RPC or relays to a server. Returns (status, body).
///
/// As on the real network, a hop waits at most [`Timeouts::hop`] for the next one: the first
/// relay bounds everything after it, and a next hop that is down but still listed costs the whole
/// wait, after which the answer is 504 `Request time out`. A next hop that is stopped (no longer
/// listed) answers the same at once.
///
/// [`Timeouts::hop`]: crate::network::Timeouts::hop
pub async fn process_onion(state: &NodeState, body: Vec<u8>) -> (u16, Vec<u8>) {
    match step(state, &state.node, body).await {
        Step::Answer(status, body) => (status, body),
        Step::Relay(next, body) => {
            let rest = async {
                let (mut node, mut body) = (next, body);
                loop {
                    match step(state, &node, body).await {
                        Step::Answer(status, body) => return (status, body),
                        Step::Relay(next, next_body) => (node, body) = (next, next_body),
                    }
                }
            };
            tokio::time::timeout(state.network.timeouts().hop, rest).await.unwrap_or_else(|_| timed_out())
        }
    }
}

/// Peels one layer at `node`.
async fn step(state: &NodeState, node: &Node, body: Vec<u8>) -> Step {
    match onion::peel_as(node.identity(), &body) {
        // The real node's answer: plain 400/413 for framing and decryption errors; for unusable
        // instructions inside a decrypted layer, HTTP 200 with the 400 encrypted for the client.
        Err(e) => {
            let (status, body) = e.response(&mut OsRng);
            Step::Answer(status, body)
        }
        Ok(Peeled::Relay { destination, body: next_body }) => match state.network.by_ed25519(&destination) {
            None => Step::Answer(502, format!("Next node not found: {}", hex::encode(destination)).into_bytes()),
            Some(next) if next.is_down_but_listed() => {
                tokio::time::sleep(state.network.timeouts().hop).await;
                let (status, body) = timed_out();
                Step::Answer(status, body)
            }
            Some(next) if !next.is_up() => {
                let (status, body) = timed_out();
                Step::Answer(status, body)
            }
            Some(next) => Step::Relay(next.clone(), next_body),
        },
        Ok(Peeled::Final { request, json, base64, reply_key }) => {
            let reply = run_rpc(&state.network, node, &request).await;
            let sealed = onion::seal_node_reply(&mut OsRng, &reply_key, reply.status, &reply.body, json, base64);
            Step::Answer(200, sealed)
        }
        Ok(Peeled::Proxy { host, target, port, protocol, body }) => {
            let (status, body) = proxy(state, &host, &target, port, protocol, body).await;
            Step::Answer(status, body)
        }
    }
}

/// How long the devnet's nodes wait for a server they relay a request to: to connect, and for the
/// whole exchange (every byte of the answer included).
pub const PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// See [`PROXY_CONNECT_TIMEOUT`].
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(25);

/// The client nodes relay onion requests to servers with: it follows no redirect (a server's 3xx
/// is a failure, never a request to somewhere else) and gives up after [`PROXY_CONNECT_TIMEOUT`]
/// to connect and [`PROXY_TIMEOUT`] in all.
pub fn proxy_client() -> anyhow::Result<reqwest::Client> {
    Ok(crate::outbound::client_builder(PROXY_CONNECT_TIMEOUT, PROXY_TIMEOUT).build()?)
}

/// Whether `host` (as a v4 layer names it) is this machine: `localhost`, an address in
/// 127.0.0.0/8, or `::1` (bracketed or not).
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Relays a v4 request to a server and returns its status and body: any server on loopback (the
/// devnet's own, or a real one run beside it — real nodes relay to any server), others only when
/// allow-listed (`--allow-proxy host:port`); no redirect followed (502), at most 10 MiB read
/// (502 once over), 504 when it does not answer in time.
async fn proxy(
    state: &NodeState,
    host: &str,
    target: &str,
    port: u16,
    protocol: Protocol,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    // An IPv6 address is bracketed in a URL.
    let authority =
        if host.parse::<std::net::Ipv6Addr>().is_ok() { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let allowed =
        is_loopback_host(host) || state.proxy_allow.iter().any(|a| a == &authority || a == &format!("{host}:{port}"));
    if !allowed {
        return (502, format!("Server {authority} is not reachable from this network").into_bytes());
    }
    let scheme = match protocol {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    let url = format!("{scheme}://{authority}{target}");
    match state.http.post(url).body(body).send().await {
        Ok(response) if response.status().is_redirection() => {
            (502, format!("Server {authority} answered with a redirect, which is not followed").into_bytes())
        }
        Ok(response) => {
            let status = response.status().as_u16();
            match crate::outbound::read_capped(response, MAX_BODY_LEN).await {
                Ok(bytes) => (status, bytes),
                Err(ReadError::TimedOut) => timed_out(),
                Err(ReadError::TooLarge) => (502, format!("Server {authority} answered more than 10 MiB").into_bytes()),
                Err(ReadError::Failed) => (502, format!("Server {authority} stopped answering").into_bytes()),
            }
        }
        Err(e) if e.is_timeout() => timed_out(),
        Err(e) => (502, e.to_string().into_bytes()),
    }
}
