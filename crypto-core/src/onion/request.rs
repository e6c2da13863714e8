//! The client's side: layering a request for a path of nodes and a destination.

use core::fmt;

use rand_core::CryptoRngCore;
use serde_json::{Value, json};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use super::{EncType, LayerKey, MAX_BODY_LEN, MAX_HOPS, NodeKeys, Protocol};

/// A server reached through the last hop (a community or file server speaking v4 requests).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServerTarget {
    /// Host name or address.
    pub host: String,
    /// The path, `/oxen/v4/lsrpc` for v4 requests.
    pub target: String,
    /// Port.
    pub port: u16,
    /// Scheme.
    pub protocol: Protocol,
    /// The server's X25519 public key.
    pub x25519: [u8; 32],
}

/// Where an onion request ends.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Destination {
    /// A service node that runs a storage RPC request (`{"method", "params"}` JSON).
    Node(NodeKeys),
    /// A server behind the last hop (v4 request bytes, see [`super::v4`]).
    Server(ServerTarget),
}

/// Why an onion request could not be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A path needs at least one node.
    EmptyPath,
    /// The destination node is also a hop of the path.
    DestinationInPath,
    /// More hops than nodes accept.
    PathTooLong,
    /// The request would exceed the 10 MiB body limit.
    TooLarge,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildError::EmptyPath => "an onion path needs at least one node",
            BuildError::DestinationInPath => "the destination node must not be part of the path",
            BuildError::PathTooLong => "an onion path may have at most 15 hops",
            BuildError::TooLarge => "the request is larger than 10 MiB",
        })
    }
}

impl std::error::Error for BuildError {}

/// A built onion request: the bytes to POST to the guard, and the key that opens the reply.
#[derive(Debug)]
pub struct OnionRequest {
    /// The guard's Ed25519 key (the relay forwards to it).
    pub guard: [u8; 32],
    /// The HTTP body for the guard's `/onion_req/v2`.
    pub body: Vec<u8>,
    /// Opens the reply; keep it until the reply arrives. Zeroized on drop.
    pub reply_key: LayerKey,
}

fn fresh_ephemeral(rng: &mut impl CryptoRngCore) -> (StaticSecret, [u8; 32]) {
    let secret = StaticSecret::random_from_rng(&mut *rng);
    let public = PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// Room one layer adds: a nonce, a tag, a frame's length and its JSON.
const LAYER_ROOM: usize = 24 + 16 + 4 + 320;

/// Turns `buf` (a blob) into the frame `len (u32 LE) ‖ blob ‖ json` in place (see [`super::frame`]).
fn frame_in_place(buf: &mut Vec<u8>, json: &Value) {
    let len = buf.len();
    // Blobs are bounded by MAX_BODY_LEN long before u32::MAX.
    let prefix = u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes();
    buf.resize(len + prefix.len(), 0);
    buf.copy_within(0..len, prefix.len());
    if let Some(head) = buf.get_mut(..prefix.len()) {
        head.copy_from_slice(&prefix);
    }
    buf.extend_from_slice(json.to_string().as_bytes());
}

fn relay_control(next: &[u8; 32], ephemeral: &[u8; 32], enc: EncType) -> Value {
    json!({
        "destination": hex::encode(next),
        "ephemeral_key": hex::encode(ephemeral),
        "enc_type": enc.as_str(),
    })
}

/// Builds an onion request through `path` (guard first) to `destination`, carrying `payload`:
/// the storage RPC JSON for a node, the v4 request bytes for a server. Every layer has a fresh
/// ephemeral key and nonce drawn from `rng`.
///
/// The destination node receives hop number `path.len()`, and nodes refuse hop numbers above 15,
/// so a path has at most 15 nodes.
pub fn build(
    rng: &mut impl CryptoRngCore,
    path: &[NodeKeys],
    destination: &Destination,
    payload: &[u8],
    enc: EncType,
) -> Result<OnionRequest, BuildError> {
    let guard = path.first().ok_or(BuildError::EmptyPath)?.ed25519;
    if u64::try_from(path.len()).map_or(true, |n| n > MAX_HOPS) {
        return Err(BuildError::PathTooLong);
    }
    if payload.len() > MAX_BODY_LEN {
        return Err(BuildError::TooLarge);
    }

    // One buffer, reserved for every layer, each framed and encrypted in place: a large payload
    // (a file) is held once, not once per layer.
    let mut buf = Vec::with_capacity(payload.len() + LAYER_ROOM * (path.len() + 2));
    buf.extend_from_slice(payload);

    // The destination's own layer.
    let (secret, public) = fresh_ephemeral(rng);
    let (reply_key, mut control) = match destination {
        Destination::Node(node) => {
            if path.iter().any(|hop| hop.ed25519 == node.ed25519) {
                buf.zeroize();
                return Err(BuildError::DestinationInPath);
            }
            let key = LayerKey::for_client(&secret, &public, &node.x25519, enc);
            frame_in_place(&mut buf, &json!({ "headers": "" }));
            key.seal_in_place(rng, &mut buf);
            (key, relay_control(&node.ed25519, &public, enc))
        }
        Destination::Server(server) => {
            // No inner framing: the server gets the last hop's whole plaintext, whose JSON carries
            // both the routing keys and the server's own ephemeral key.
            let key = LayerKey::for_client(&secret, &public, &server.x25519, enc);
            key.seal_in_place(rng, &mut buf);
            let control = json!({
                "host": server.host,
                "target": server.target,
                "port": server.port,
                "protocol": server.protocol.as_str(),
                "method": "POST",
                "ephemeral_key": hex::encode(public),
                "enc_type": enc.as_str(),
            });
            (key, control)
        }
    };
    drop(secret);

    // Hops, innermost first: each wraps the layer below for itself; the JSON next to a hop's blob
    // names that hop's ephemeral key and is read by the hop before it (or, for the guard, sent in
    // the clear as the HTTP body's trailer).
    for (i, hop) in path.iter().enumerate().rev() {
        frame_in_place(&mut buf, &control);
        let (secret, public) = fresh_ephemeral(rng);
        let key = LayerKey::for_client(&secret, &public, &hop.x25519, enc);
        key.seal_in_place(rng, &mut buf);
        control = if i == 0 {
            json!({ "ephemeral_key": hex::encode(public), "enc_type": enc.as_str() })
        } else {
            relay_control(&hop.ed25519, &public, enc)
        };
    }
    frame_in_place(&mut buf, &control);
    let body = buf;
    if body.len() > MAX_BODY_LEN {
        return Err(BuildError::TooLarge);
    }
    Ok(OnionRequest { guard, body, reply_key })
}
