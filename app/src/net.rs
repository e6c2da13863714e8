//! The only module that performs fetch: the relay's node list and its onion endpoint.
//!
//! What leaves the page here is the guard's key (in the path) and onion bytes (the body); never a
//! Session ID, a destination or content.

use core::fmt;

use crypto_core::network::{NetworkError, NodeRecord, parse_node_list};

/// A failure to reach the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The request did not complete (offline, refused, aborted).
    Transport(String),
    /// The relay's node list was not usable.
    Network(NetworkError),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Transport(e) => write!(f, "could not reach the relay: {e}"),
            NetError::Network(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for NetError {}

/// `base` with no trailing slash; empty means the page's own origin.
fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The relay's node list.
pub async fn nodes(base: &str) -> Result<Vec<NodeRecord>, NetError> {
    let bytes = imp::get(&url(base, "/v1/nodes")).await?;
    parse_node_list(&bytes).map_err(NetError::Network)
}

/// Posts an onion body for `guard` through the relay; returns the guard's status and body.
pub async fn onion(base: &str, guard: &[u8; 32], body: Vec<u8>) -> Result<(u16, Vec<u8>), NetError> {
    imp::post(&url(base, &format!("/v1/onion/{}", hex::encode(guard))), body).await
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use gloo_net::http::Request;

    use super::NetError;

    fn transport(e: impl std::fmt::Display) -> NetError {
        NetError::Transport(e.to_string())
    }

    pub(super) async fn get(url: &str) -> Result<Vec<u8>, NetError> {
        let response = Request::get(url).send().await.map_err(transport)?;
        if !response.ok() {
            return Err(NetError::Transport(format!("HTTP {}", response.status())));
        }
        response.binary().await.map_err(transport)
    }

    pub(super) async fn post(url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), NetError> {
        let array = js_sys::Uint8Array::from(body.as_slice());
        let response = Request::post(url)
            .header("Content-Type", "application/octet-stream")
            .body(array)
            .map_err(transport)?
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        Ok((status, response.binary().await.map_err(transport)?))
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::NetError;

    pub(super) async fn get(_url: &str) -> Result<Vec<u8>, NetError> {
        Err(NetError::Transport("the network is only reachable from the browser build".into()))
    }

    pub(super) async fn post(_url: &str, _body: Vec<u8>) -> Result<(u16, Vec<u8>), NetError> {
        Err(NetError::Transport("the network is only reachable from the browser build".into()))
    }
}
