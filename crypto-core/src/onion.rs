//! Onion requests (`/onion_req/v2`): layering a request for a path of service nodes, unwrapping
//! the reply, and — for the node — peeling one layer. One implementation for the browser client
//! and the node.
//!
//! Every layer and the body sent to the guard share one framing: a little-endian u32 length, that
//! many bytes of ciphertext, then a JSON object. The JSON names the key for the *next* layer down
//! (`ephemeral_key`, `enc_type`) and what to do with it: `destination` (relay to that node),
//! `headers` (this node runs the request) or `host`/`target` (relay to a server).
//! Only the destination's layer key is needed to read the reply, which comes back encrypted once.
//!
//! - [`hop`](LayerKey): per-layer key agreement and the two ciphers (`xchacha20`, `aes-gcm`);
//! - [`build`]: the client's layering, [`OnionRequest`] keeps the key that opens the reply;
//! - [`unwrap_node_reply`], [`unwrap_server_reply`], [`classify_path_failure`]: reading replies;
//! - [`peel`], [`seal_node_reply`], [`PeelError::response`]: the node's side, with the real storage
//!   server's statuses and messages;
//! - [`v4`]: the bencoded request/response framing servers speak;
//! - [`server`]: a server's side of a v4 request (opening it with its keys, sealing the reply).

mod hop;
mod peel;
mod request;
mod response;
pub mod server;
pub mod v4;

use serde_json::{Map, Value};

pub use hop::{DecryptError, EncType, LayerKey};
pub use peel::{PeelError, Peeled, encrypt_reply, peel, peel_as, peel_with_secret, seal_error, seal_node_reply};
pub use request::{BuildError, Destination, OnionRequest, ServerTarget, build};
pub use response::{NodeReply, PathFailure, ReplyError, classify_path_failure, unwrap_node_reply, unwrap_server_reply};

/// The key that opens a reply (the destination layer's key). Zeroized on drop, redacted in Debug.
pub type ResponseKey = LayerKey;

/// The largest onion body a node accepts (10 MiB).
pub const MAX_BODY_LEN: usize = 10 * 1024 * 1024;
/// The path of a node's onion endpoint.
pub const ONION_ENDPOINT: &str = "/onion_req/v2";
/// The target path of a server's v4 onion endpoint.
pub const V4_TARGET: &str = "/oxen/v4/lsrpc";
/// The highest hop number a node accepts (`hop_no` > 15 is refused).
pub const MAX_HOPS: u64 = 15;

/// The public keys of a service node: Ed25519 names it, X25519 encrypts to it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NodeKeys {
    /// Ed25519 public key (how the next hop is named).
    pub ed25519: [u8; 32],
    /// X25519 public key (what its layer is encrypted to).
    pub x25519: [u8; 32],
}

/// `http` or `https`, for a server destination.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protocol {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
}

impl Protocol {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }
}

/// `len (u32 LE) ‖ blob ‖ json`.
pub fn frame(blob: &[u8], json: &Value) -> Vec<u8> {
    let json = json.to_string();
    let mut out = Vec::with_capacity(4 + blob.len() + json.len());
    // Blobs are bounded by MAX_BODY_LEN long before u32::MAX.
    out.extend_from_slice(&u32::try_from(blob.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(blob);
    out.extend_from_slice(json.as_bytes());
    out
}

/// Splits a frame into its blob and JSON object. Errors carry the real storage server's wording
/// (without the `Error parsing onion request: ` prefix that [`PeelError`] adds).
pub fn split_frame(data: &[u8]) -> Result<(&[u8], Map<String, Value>), PeelError> {
    let (blob, json) = split_raw(data)?;
    match parse_json(json)? {
        Value::Object(map) => Ok((blob, map)),
        other => Err(PeelError::Parse(format!(
            "[json.exception.type_error.304] cannot use at() with {}",
            peel::json_type(&other)
        ))),
    }
}

/// `len ‖ blob ‖ rest` without parsing `rest`.
fn split_raw(data: &[u8]) -> Result<(&[u8], &[u8]), PeelError> {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return Err(PeelError::Parse("Unexpected payload size; expected ciphertext size".to_owned()));
    };
    let len = u32::from_le_bytes(*len);
    match usize::try_from(len) {
        Ok(n) if n <= rest.len() => Ok(rest.split_at(n)),
        _ => Err(PeelError::Parse(format!("Unexpected payload size {}, expected >= {len}", rest.len()))),
    }
}

fn parse_json(json: &[u8]) -> Result<Value, PeelError> {
    serde_json::from_slice::<Value>(json).map_err(|e| {
        PeelError::Parse(format!(
            "[json.exception.parse_error.101] parse error at line {}, column {}: syntax error while parsing value",
            e.line(),
            e.column()
        ))
    })
}

/// Fuzzing entry point for the node's parser and the client's reply readers (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    use x25519_dalek::{PublicKey, StaticSecret};

    /// Feeds arbitrary bytes to everything that parses onion input; none of it may panic.
    pub fn peel_onion(data: &[u8]) {
        let secret = StaticSecret::from([7u8; 32]);
        let public = PublicKey::from(&secret).to_bytes();
        if let Err(e) = super::peel(&secret, &public, data) {
            let _ = (e.status(), e.message());
        }
        let _ = super::split_frame(data);
        let _ = super::v4::decode_response(data);
        let _ = super::v4::decode_request(data);
        for enc in [super::EncType::XChaCha20, super::EncType::AesGcm] {
            let key = super::LayerKey::from_bytes([9; 32], enc);
            let _ = super::unwrap_node_reply(&key, data);
            let _ = super::unwrap_server_reply(&key, data);
        }
        let _ = super::classify_path_failure(502, data);
        let _ = super::classify_path_failure(400, data);
    }
}
