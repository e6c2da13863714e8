//! Onion requests (`/onion_req/v2`): layering a request for a path of service nodes, unwrapping
//! the reply, and — for the node — peeling one layer.
//!
//! Every layer and the body sent to the guard share one framing: a little-endian u32 length, that
//! many bytes of ciphertext, then a JSON object. The JSON names the key for the *next* layer down
//! (`ephemeral_key`, `enc_type`) and what to do with it: `destination` (relay to that node),
//! `headers` (this node runs the request) or `host`/`target` (relay to a server).
//! Only the destination's layer key is needed to read the reply, which comes back encrypted once.

mod hop;
pub mod v4;

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::CryptoRngCore;
use serde_json::{Map, Value, json};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

pub use hop::{DecryptError, EncType, LayerKey};

/// The largest onion body a node accepts (10 MiB).
pub const MAX_BODY_LEN: usize = 10 * 1024 * 1024;
/// The most hops a request may take.
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
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }
}

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
    /// A service node that runs a storage RPC request.
    Node(NodeKeys),
    /// A server behind the last hop.
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
    /// Opens the reply; keep it until the reply arrives.
    pub reply_key: LayerKey,
}

/// `len (u32 LE) ‖ blob ‖ json`.
pub fn frame(blob: &[u8], json: &Value) -> Vec<u8> {
    let json = json.to_string();
    let mut out = Vec::with_capacity(4 + blob.len() + json.len());
    out.extend_from_slice(&u32::try_from(blob.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(blob);
    out.extend_from_slice(json.as_bytes());
    out
}

/// Splits a frame into its blob and JSON object.
pub fn split_frame(data: &[u8]) -> Result<(&[u8], Map<String, Value>), PeelError> {
    let (len, rest) = data.split_first_chunk::<4>().ok_or(PeelError::Parse("Unexpected payload size"))?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| PeelError::Parse("Unexpected payload size"))?;
    if len > rest.len() {
        return Err(PeelError::Parse("Unexpected payload size"));
    }
    let (blob, json) = rest.split_at(len);
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(map)) => Ok((blob, map)),
        Ok(_) => Err(PeelError::Parse("JSON trailer is not an object")),
        Err(_) => Err(PeelError::Parse("invalid JSON trailer")),
    }
}

fn fresh_ephemeral(rng: &mut impl CryptoRngCore) -> (StaticSecret, [u8; 32]) {
    let secret = StaticSecret::random_from_rng(&mut *rng);
    let public = PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// Builds an onion request through `path` (guard first) to `destination`, carrying `payload`:
/// the storage RPC JSON for a node, the v4 request bytes for a server. Every layer has a fresh
/// ephemeral key and nonce drawn from `rng`.
pub fn build(
    rng: &mut impl CryptoRngCore,
    path: &[NodeKeys],
    destination: &Destination,
    payload: &[u8],
    enc: EncType,
) -> Result<OnionRequest, BuildError> {
    let guard = path.first().ok_or(BuildError::EmptyPath)?.ed25519;
    if path.len() as u64 >= MAX_HOPS {
        return Err(BuildError::PathTooLong);
    }
    if payload.len() > MAX_BODY_LEN {
        return Err(BuildError::TooLarge);
    }

    // The destination's own layer.
    let (secret, public) = fresh_ephemeral(rng);
    let (reply_key, mut blob, mut control) = match destination {
        Destination::Node(node) => {
            if path.iter().any(|hop| hop.ed25519 == node.ed25519) {
                return Err(BuildError::DestinationInPath);
            }
            let key = LayerKey::for_client(&secret, &public, &node.x25519, enc);
            let inner = Zeroizing::new(frame(payload, &json!({ "headers": "" })));
            let blob = key.encrypt(rng, &inner);
            let control = json!({
                "destination": hex::encode(node.ed25519),
                "ephemeral_key": hex::encode(public),
                "enc_type": enc.as_str(),
            });
            (key, blob, control)
        }
        Destination::Server(server) => {
            let key = LayerKey::for_client(&secret, &public, &server.x25519, enc);
            let blob = key.encrypt(rng, payload);
            let control = json!({
                "host": server.host,
                "target": server.target,
                "port": server.port,
                "protocol": server.protocol.as_str(),
                "method": "POST",
                "ephemeral_key": hex::encode(public),
                "enc_type": enc.as_str(),
            });
            (key, blob, control)
        }
    };
    drop(secret);

    // Hops, innermost first: each wraps the layer below for itself.
    for (i, hop) in path.iter().enumerate().rev() {
        let plaintext = Zeroizing::new(frame(&blob, &control));
        let (secret, public) = fresh_ephemeral(rng);
        let key = LayerKey::for_client(&secret, &public, &hop.x25519, enc);
        blob = key.encrypt(rng, &plaintext);
        control = match i.checked_sub(1).and_then(|j| path.get(j)) {
            Some(_) => json!({
                "destination": hex::encode(hop.ed25519),
                "ephemeral_key": hex::encode(public),
                "enc_type": enc.as_str(),
            }),
            None => json!({ "ephemeral_key": hex::encode(public), "enc_type": enc.as_str() }),
        };
    }
    let body = frame(&blob, &control);
    if body.len() > MAX_BODY_LEN {
        return Err(BuildError::TooLarge);
    }
    Ok(OnionRequest { guard, body, reply_key })
}

/// A service node's reply to an onion request: the RPC status and its body (JSON text).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NodeReply {
    /// The storage RPC's status code.
    pub status: u16,
    /// The body: the JSON text the RPC returned (or its plain-text error message).
    pub body: Vec<u8>,
}

/// Why a reply could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ReplyError {
    /// The reply did not decrypt with the request's key.
    Decrypt,
    /// The decrypted reply is not of the expected shape.
    Malformed(&'static str),
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Decrypt => f.write_str("the reply could not be decrypted"),
            ReplyError::Malformed(what) => write!(f, "malformed reply: {what}"),
        }
    }
}

impl std::error::Error for ReplyError {}

/// Opens a service node's reply (HTTP 200 body): base64 (or raw) ciphertext of
/// `{"status": N, "body": "<json string>"}` (or with the body embedded).
pub fn unwrap_node_reply(key: &LayerKey, http_body: &[u8]) -> Result<NodeReply, ReplyError> {
    let plain = match STANDARD.decode(trim_ascii(http_body)) {
        Ok(raw) => key.decrypt(&raw).or_else(|_| key.decrypt(http_body)),
        Err(_) => key.decrypt(http_body),
    }
    .map_err(|_| ReplyError::Decrypt)?;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&plain) else {
        return Err(ReplyError::Malformed("not a JSON object"));
    };
    let status = map
        .get("status")
        .or_else(|| map.get("status_code"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(ReplyError::Malformed("no status"))?;
    let body = match map.get("body") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    Ok(NodeReply { status, body })
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or(&[])
}

/// Opens a server's v4 reply: raw ciphertext of a bencoded `[metadata, body]`.
pub fn unwrap_server_reply(key: &LayerKey, http_body: &[u8]) -> Result<v4::Response, ReplyError> {
    let plain = key.decrypt(http_body).map_err(|_| ReplyError::Decrypt)?;
    v4::decode_response(&plain).map_err(ReplyError::Malformed)
}

/// What a failure that a hop returned in plain text (as the guard's HTTP status) means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PathFailure {
    /// A hop did not know the next node: drop that node.
    NextNodeNotFound([u8; 32]),
    /// The clock is off (406 or 425): retrying will not help.
    ClockOutOfSync,
    /// The destination is not in the swarm (421).
    WrongSwarm,
    /// Anything else: a strike against the path.
    Other,
}

/// Classifies a non-200 reply from the guard.
pub fn classify_path_failure(status: u16, body: &[u8]) -> PathFailure {
    const PREFIX: &[u8] = b"Next node not found: ";
    if let Some(rest) = body.strip_prefix(PREFIX) {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(trim_ascii(rest), &mut key).is_ok() {
            return PathFailure::NextNodeNotFound(key);
        }
    }
    match status {
        406 | 425 => PathFailure::ClockOutOfSync,
        421 => PathFailure::WrongSwarm,
        _ => PathFailure::Other,
    }
}

/// What a node does with a request after removing its layer.
#[derive(Debug)]
pub enum Peeled {
    /// Forward `body` (already framed for it) to the node with this Ed25519 key.
    Relay {
        /// The next node's Ed25519 key.
        destination: [u8; 32],
        /// The body to POST to the next node's `/onion_req/v2`.
        body: Vec<u8>,
    },
    /// This node is the destination: run `request` (storage RPC JSON) and reply with `reply_key`.
    Final {
        /// The storage RPC request.
        request: Vec<u8>,
        /// Embed the body as JSON rather than as a string.
        json: bool,
        /// Base64-encode the encrypted reply.
        base64: bool,
        /// Encrypts the reply.
        reply_key: LayerKey,
    },
    /// Relay to a server: POST `body` (the whole plaintext) to `protocol://host:port target`.
    Proxy {
        /// Host.
        host: String,
        /// Target path.
        target: String,
        /// Port.
        port: u16,
        /// Scheme.
        protocol: Protocol,
        /// The body to POST.
        body: Vec<u8>,
    },
}

/// Why a node refused an onion request; [`PeelError::status`] and [`PeelError::message`] are what a
/// real node answers.
#[derive(Debug)]
#[non_exhaustive]
pub enum PeelError {
    /// The outer framing or JSON could not be parsed.
    Parse(&'static str),
    /// The layer did not decrypt.
    InvalidCiphertext,
    /// The body is larger than 10 MiB.
    TooLarge,
    /// Too many hops.
    PathTooLong,
    /// The decrypted layer's instructions are unusable; the message is sent encrypted with `key`.
    Inner {
        /// What was wrong (`Invalid json`, `Invalid url`).
        message: &'static str,
        /// The layer key, to encrypt the error.
        key: LayerKey,
    },
}

impl PeelError {
    /// The HTTP status a real node gives.
    pub fn status(&self) -> u16 {
        match self {
            PeelError::TooLarge => 413,
            _ => 400,
        }
    }

    /// The plain-text message a real node gives.
    pub fn message(&self) -> String {
        match self {
            PeelError::Parse(detail) => format!("Error parsing onion request: {detail}"),
            PeelError::InvalidCiphertext => "Invalid ciphertext".to_owned(),
            PeelError::TooLarge => "Request body too large".to_owned(),
            PeelError::PathTooLong => "onion request max path length exceeded".to_owned(),
            PeelError::Inner { message, .. } => (*message).to_owned(),
        }
    }
}

impl fmt::Display for PeelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PeelError {}

fn hex32(value: Option<&Value>) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(value?.as_str()?, &mut out).ok()?;
    Some(out)
}

fn enc_type_of(map: &Map<String, Value>) -> Option<EncType> {
    match map.get("enc_type") {
        None => Some(EncType::AesGcm),
        Some(v) => EncType::parse(v.as_str()?),
    }
}

/// Peels one layer at a node whose X25519 keys are those of `identity` (nodes derive their X25519
/// key from their Ed25519 key as accounts do).
pub fn peel_as(identity: &crate::identity::Identity, body: &[u8]) -> Result<Peeled, PeelError> {
    peel(identity.x25519_secret(), identity.x25519_public(), body)
}

/// Peels one layer at a node with X25519 keys (`secret`, `public`).
pub fn peel(secret: &StaticSecret, public: &[u8; 32], body: &[u8]) -> Result<Peeled, PeelError> {
    if body.len() > MAX_BODY_LEN {
        return Err(PeelError::TooLarge);
    }
    let (blob, outer) = split_frame(body)?;
    let ephemeral = hex32(outer.get("ephemeral_key")).ok_or(PeelError::Parse("missing or invalid ephemeral_key"))?;
    let enc = enc_type_of(&outer).ok_or(PeelError::Parse("unknown enc_type"))?;
    let hop_no = match outer.get("hop_no") {
        None => 0,
        Some(v) => v.as_u64().ok_or(PeelError::Parse("invalid hop_no"))?,
    };
    if hop_no > MAX_HOPS {
        return Err(PeelError::PathTooLong);
    }
    let key = LayerKey::for_node(secret, public, &ephemeral, enc);
    let plain = key.decrypt(blob).map_err(|_| PeelError::InvalidCiphertext)?;

    let Ok((inner_blob, control)) = split_frame(&plain) else {
        return Err(PeelError::Inner { message: "Invalid json", key });
    };
    if control.contains_key("headers") {
        let flag = |name: &str, default: bool| control.get(name).and_then(Value::as_bool).unwrap_or(default);
        return Ok(Peeled::Final {
            request: inner_blob.to_vec(),
            json: flag("json", false),
            base64: flag("base64", true),
            reply_key: key,
        });
    }
    if let Some(host) = control.get("host") {
        let target = control.get("target").and_then(Value::as_str).unwrap_or("");
        let valid_target = (target.starts_with("/loki/") || target.starts_with("/oxen/"))
            && target.ends_with("/lsrpc")
            && !target.contains('?');
        let (Some(host), true) = (host.as_str(), valid_target) else {
            return Err(PeelError::Inner { message: "Invalid url", key });
        };
        let protocol = match control.get("protocol").and_then(Value::as_str) {
            None | Some("https") => Protocol::Https,
            Some("http") => Protocol::Http,
            Some(_) => return Err(PeelError::Inner { message: "Invalid url", key }),
        };
        let default_port = match protocol {
            Protocol::Http => 80,
            Protocol::Https => 443,
        };
        let port = match control.get("port") {
            None => default_port,
            Some(v) => match v.as_u64().and_then(|p| u16::try_from(p).ok()) {
                Some(p) => p,
                None => return Err(PeelError::Inner { message: "Invalid url", key }),
            },
        };
        return Ok(Peeled::Proxy {
            host: host.to_owned(),
            target: target.to_owned(),
            port,
            protocol,
            body: plain.to_vec(),
        });
    }
    let (Some(destination), Some(next_key), Some(next_enc)) =
        (hex32(control.get("destination")), control.get("ephemeral_key"), enc_type_of(&control))
    else {
        return Err(PeelError::Inner { message: "Invalid json", key });
    };
    let next = json!({
        "ephemeral_key": next_key,
        "enc_type": next_enc.as_str(),
        "hop_no": hop_no + 1,
    });
    Ok(Peeled::Relay { destination, body: frame(inner_blob, &next) })
}

/// The destination's encrypted reply: `{"status": N, "body": …}` under the layer key, base64
/// unless the request asked otherwise. `body` is the RPC's output text; with `json` it is embedded
/// when it parses as JSON.
pub fn seal_node_reply(
    rng: &mut impl CryptoRngCore,
    key: &LayerKey,
    status: u16,
    body: &str,
    json: bool,
    base64: bool,
) -> Vec<u8> {
    let body_value = match (json, serde_json::from_str::<Value>(body)) {
        (true, Ok(v)) => v,
        _ => Value::String(body.to_owned()),
    };
    let reply = json!({ "status": status, "body": body_value }).to_string();
    let sealed = key.encrypt(rng, reply.as_bytes());
    if base64 { STANDARD.encode(sealed).into_bytes() } else { sealed }
}

/// An error a node encrypts with the layer key (for [`PeelError::Inner`]).
pub fn seal_error(rng: &mut impl CryptoRngCore, key: &LayerKey, message: &str) -> Vec<u8> {
    STANDARD.encode(key.encrypt(rng, message.as_bytes())).into_bytes()
}
