//! A service node's HTTPS endpoints: `/storage_rpc/v1` and `/onion_req/v2`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crypto_core::onion::{self, MAX_BODY_LEN, Peeled, Protocol};
use rand_core::OsRng;

use crate::network::{Network, Node};
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
    let reply = rpc::handle(&state.network, &state.node, now_ms(), &body);
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

/// Runs an onion request that arrived at `state.node`: peels layer after layer while it is
/// relayed between nodes, then runs the RPC or relays to a server. Returns (status, body).
pub async fn process_onion(state: &NodeState, mut body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut node = state.node.clone();
    loop {
        match onion::peel_as(node.identity(), &body) {
            // The real node's answer: plain 400/413 for framing and decryption errors; for unusable
            // instructions inside a decrypted layer, HTTP 200 with the 400 encrypted for the client.
            Err(e) => return e.response(&mut OsRng),
            Ok(Peeled::Relay { destination, body: next_body }) => match state.network.by_ed25519(&destination) {
                None => return (502, format!("Next node not found: {}", hex::encode(destination)).into_bytes()),
                Some(next) if !next.is_up() => return (504, b"Request time out".to_vec()),
                Some(next) => {
                    node = next.clone();
                    body = next_body;
                }
            },
            Ok(Peeled::Final { request, json, base64, reply_key }) => {
                let reply = rpc::handle(&state.network, &node, now_ms(), &request);
                return (200, onion::seal_node_reply(&mut OsRng, &reply_key, reply.status, &reply.body, json, base64));
            }
            Ok(Peeled::Proxy { host, target, port, protocol, body }) => {
                return proxy(state, &host, &target, port, protocol, body).await;
            }
        }
    }
}

async fn proxy(
    state: &NodeState,
    host: &str,
    target: &str,
    port: u16,
    protocol: Protocol,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let authority = format!("{host}:{port}");
    if !state.proxy_allow.iter().any(|a| a == &authority) {
        return (502, format!("Server {authority} is not reachable from this network").into_bytes());
    }
    let scheme = match protocol {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    let url = format!("{scheme}://{authority}{target}");
    match state.http.post(url).body(body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(bytes) => (status, bytes.to_vec()),
                Err(e) => (502, e.to_string().into_bytes()),
            }
        }
        Err(e) if e.is_timeout() => (504, b"Request time out".to_vec()),
        Err(e) => (502, e.to_string().into_bytes()),
    }
}
