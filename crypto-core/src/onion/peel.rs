//! The node's side: peeling one layer, and the replies a node sends.
//!
//! Statuses and messages follow the real storage server (`onion_processing.cpp`,
//! `request_handler.cpp`, the HTTPS `/onion_req/v2` handler): outer framing errors are a plain 400
//! `Error parsing onion request: …`, a layer that does not decrypt is a plain 400
//! `Invalid ciphertext`, and unusable instructions *inside* a decrypted layer (`Invalid json`,
//! `Invalid url`) are answered with HTTP 200 and `{"body": …, "status": 400}` encrypted with that
//! layer's key, exactly like an RPC reply.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::CryptoRngCore;
use serde_json::{Map, Value, json};
use x25519_dalek::{PublicKey, StaticSecret};

use super::{EncType, LayerKey, MAX_BODY_LEN, MAX_HOPS, Protocol, frame, split_frame};

/// What a node does with a request after removing its layer.
#[derive(Debug)]
pub enum Peeled {
    /// Forward `body` (already framed for it, with the hop number advanced) to the node with this
    /// Ed25519 key, as-is, at its `/onion_req/v2`.
    Relay {
        /// The next node's Ed25519 key.
        destination: [u8; 32],
        /// The body to POST to the next node's `/onion_req/v2`.
        body: Vec<u8>,
    },
    /// This node is the destination: run `request` (storage RPC JSON) and reply with `reply_key`
    /// (see [`seal_node_reply`]).
    Final {
        /// The storage RPC request (`{"method", "params"}` JSON bytes).
        request: Vec<u8>,
        /// Embed the body as JSON rather than as a string (`"json"`, default false).
        json: bool,
        /// Base64-encode the encrypted reply (`"base64"`, default true).
        base64: bool,
        /// Encrypts the reply.
        reply_key: LayerKey,
    },
    /// Relay to a server: POST `body` (the whole decrypted layer, whose JSON also carries the
    /// server's `ephemeral_key`) to `protocol://host[:port]target`; the server's status and body go
    /// back unchanged.
    Proxy {
        /// Host.
        host: String,
        /// Target path (checked: `/loki/…/lsrpc` or `/oxen/…/lsrpc`, no `?`).
        target: String,
        /// Port (443 when absent, whatever the protocol, as the real node does).
        port: u16,
        /// Scheme.
        protocol: Protocol,
        /// The body to POST.
        body: Vec<u8>,
    },
}

/// Why a node refused an onion request. [`PeelError::response`] is the complete answer a real
/// node gives; [`PeelError::status`] and [`PeelError::message`] are its parts.
#[derive(Debug)]
#[non_exhaustive]
pub enum PeelError {
    /// The outer framing or JSON could not be parsed (the detail, in the real server's words).
    Parse(String),
    /// The layer did not decrypt.
    InvalidCiphertext,
    /// The body is larger than 10 MiB.
    TooLarge,
    /// The hop number is above 15.
    PathTooLong,
    /// The decrypted layer's instructions are unusable; the answer is encrypted with `key`.
    Inner {
        /// What was wrong (`Invalid json`, `Invalid url`).
        message: &'static str,
        /// The layer key, to encrypt the answer.
        key: LayerKey,
    },
}

impl PeelError {
    /// The HTTP status a real node answers with. For [`PeelError::Inner`] that is 200: the 400 is
    /// inside the encrypted body.
    pub fn status(&self) -> u16 {
        match self {
            PeelError::TooLarge => 413,
            PeelError::Inner { .. } => 200,
            _ => 400,
        }
    }

    /// The plain-text message a real node gives (for [`PeelError::Inner`], the text that is sent
    /// encrypted).
    pub fn message(&self) -> String {
        match self {
            PeelError::Parse(detail) => format!("Error parsing onion request: {detail}"),
            PeelError::InvalidCiphertext => "Invalid ciphertext".to_owned(),
            PeelError::TooLarge => "Request body too large".to_owned(),
            PeelError::PathTooLong => "onion request max path length exceeded".to_owned(),
            PeelError::Inner { message, .. } => (*message).to_owned(),
        }
    }

    /// The HTTP status and body a real node sends for this error.
    pub fn response(&self, rng: &mut impl CryptoRngCore) -> (u16, Vec<u8>) {
        match self {
            PeelError::Inner { message, key } => (200, seal_error(rng, key, message)),
            other => (other.status(), other.message().into_bytes()),
        }
    }
}

impl fmt::Display for PeelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PeelError {}

/// nlohmann::json's name for a value's type (the real node's error texts use it).
pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A required string field of the outer JSON, with the real node's errors.
fn outer_str<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a str, PeelError> {
    match map.get(key) {
        None => Err(PeelError::Parse(format!("[json.exception.out_of_range.403] key '{key}' not found"))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(PeelError::Parse(format!(
            "[json.exception.type_error.303] incompatible ReferenceType for get_ref, actual type is {}",
            json_type(other)
        ))),
    }
}

/// A 32-byte key in hex, with the real node's errors.
fn key_from_hex(hex_key: &str) -> Result<[u8; 32], PeelError> {
    let not_hex = || PeelError::Parse("Hex key data is invalid: data is not hex".to_owned());
    let mut out = [0u8; 32];
    if !hex_key.len().is_multiple_of(2) || !hex_key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_hex());
    }
    if hex_key.len() != 64 {
        return Err(PeelError::Parse(format!(
            "Hex key data is invalid: expected 32 hex digits, received {}",
            hex_key.len()
        )));
    }
    hex::decode_to_slice(hex_key, &mut out).map_err(|_| not_hex())?;
    Ok(out)
}

fn parse_enc_type(name: &str) -> Result<EncType, PeelError> {
    EncType::parse(name).ok_or_else(|| PeelError::Parse(format!("Invalid encryption type {name}")))
}

/// The outer `hop_no`: an integer (booleans and fractions convert, as nlohmann's `get<int>` does),
/// negative values count as 0.
fn hop_no(map: &Map<String, Value>) -> Result<u64, PeelError> {
    let Some(value) = map.get("hop_no") else { return Ok(0) };
    let hop = match value {
        Value::Bool(b) => u64::from(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u,
            (None, Some(_), _) => 0,
            (None, None, Some(f)) if f >= 1.0 => f as u64,
            _ => 0,
        },
        other => {
            return Err(PeelError::Parse(format!(
                "[json.exception.type_error.302] type must be number, but is {}",
                json_type(other)
            )));
        }
    };
    Ok(hop)
}

/// Peels one layer at a node whose X25519 keys are those of `identity` (nodes derive their X25519
/// key from their Ed25519 key as accounts do).
pub fn peel_as(identity: &crate::identity::Identity, body: &[u8]) -> Result<Peeled, PeelError> {
    peel(identity.x25519_secret(), identity.x25519_public(), body)
}

/// Peels one layer at a node that has only its X25519 secret (computes the public key).
pub fn peel_with_secret(secret: &StaticSecret, body: &[u8]) -> Result<Peeled, PeelError> {
    peel(secret, &PublicKey::from(secret).to_bytes(), body)
}

/// Peels one layer at a node with X25519 keys (`secret`, `public`): parses
/// `len ‖ ciphertext ‖ json`, decrypts the ciphertext with the key agreed with `ephemeral_key`
/// under `enc_type` (default `aes-gcm`), and reads the instructions inside. Never panics.
pub fn peel(secret: &StaticSecret, public: &[u8; 32], body: &[u8]) -> Result<Peeled, PeelError> {
    if body.len() > MAX_BODY_LEN {
        return Err(PeelError::TooLarge);
    }
    let (blob, outer) = split_frame(body)?;
    let ephemeral = key_from_hex(outer_str(&outer, "ephemeral_key")?)?;
    let enc = match outer.get("enc_type") {
        None => EncType::AesGcm,
        Some(_) => parse_enc_type(outer_str(&outer, "enc_type")?)?,
    };
    let hop_no = hop_no(&outer)?;
    if hop_no > MAX_HOPS {
        return Err(PeelError::PathTooLong);
    }
    let key = LayerKey::for_node(secret, public, &ephemeral, enc);
    let plain = key.decrypt(blob).map_err(|_| PeelError::InvalidCiphertext)?;

    let invalid_json = |key| PeelError::Inner { message: "Invalid json", key };
    let Ok((inner_blob, control)) = split_frame(&plain) else {
        return Err(invalid_json(key));
    };

    // Final destination: `headers` present (any value).
    if control.contains_key("headers") {
        let flag = |name: &str, default: bool| match control.get(name) {
            None => Some(default),
            Some(v) => v.as_bool(),
        };
        let (Some(json), Some(base64)) = (flag("json", false), flag("base64", true)) else {
            return Err(invalid_json(key));
        };
        return Ok(Peeled::Final { request: inner_blob.to_vec(), json, base64, reply_key: key });
    }

    // Relay to a server: `host` present.
    if let Some(host) = control.get("host") {
        let (Some(host), Some(target)) = (host.as_str(), control.get("target").and_then(Value::as_str)) else {
            return Err(invalid_json(key));
        };
        let port = match control.get("port") {
            None => Some(443u64),
            // nlohmann's get<uint16_t> converts any number (and booleans) without a range check.
            Some(Value::Bool(b)) => Some(u64::from(*b)),
            Some(Value::Number(n)) => {
                n.as_u64().or_else(|| n.as_i64().map(|i| i as u64)).or_else(|| n.as_f64().map(|f| f as u64))
            }
            Some(_) => None,
        };
        let protocol = match control.get("protocol") {
            None => Some("https"),
            Some(v) => v.as_str(),
        };
        let (Some(port), Some(protocol)) = (port, protocol) else {
            return Err(invalid_json(key));
        };
        let port = (port & 0xffff) as u16;
        let protocol = match protocol {
            "https" => Protocol::Https,
            "http" => Protocol::Http,
            _ => return Err(PeelError::Inner { message: "Invalid url", key }),
        };
        let target_allowed = (target.starts_with("/loki/") || target.starts_with("/oxen/"))
            && target.ends_with("/lsrpc")
            && !target.contains('?');
        if !target_allowed {
            return Err(PeelError::Inner { message: "Invalid url", key });
        }
        return Ok(Peeled::Proxy {
            host: host.to_owned(),
            target: target.to_owned(),
            port,
            protocol,
            body: plain.to_vec(),
        });
    }

    // Relay to the next node.
    let hex_field = |name: &str| control.get(name).and_then(Value::as_str).and_then(|s| key_from_hex(s).ok());
    let next_enc = match control.get("enc_type") {
        None => Some(EncType::AesGcm),
        Some(v) => v.as_str().and_then(EncType::parse),
    };
    let (Some(destination), Some(next_key), Some(next_enc)) =
        (hex_field("destination"), hex_field("ephemeral_key"), next_enc)
    else {
        return Err(invalid_json(key));
    };
    let next = json!({
        "ephemeral_key": hex::encode(next_key),
        "enc_type": next_enc.as_str(),
        "hop_no": hop_no.saturating_add(1),
    });
    Ok(Peeled::Relay { destination, body: frame(inner_blob, &next) })
}

/// Encrypts `plaintext` with a layer key (fresh nonce): the raw reply a destination sends, e.g. a
/// server's bencoded v4 response.
pub fn encrypt_reply(rng: &mut impl CryptoRngCore, key: &LayerKey, plaintext: &[u8]) -> Vec<u8> {
    key.encrypt(rng, plaintext)
}

/// The destination's encrypted reply: `{"body": …, "status": N}` under the layer key, base64
/// unless the request asked otherwise. `body` is the RPC's output text; with `json` it is embedded
/// when it parses as JSON (plain-text error bodies stay strings, as on a real node).
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
    let reply = zeroize::Zeroizing::new(json!({ "status": status, "body": body_value }).to_string());
    let sealed = key.encrypt(rng, reply.as_bytes());
    if base64 { STANDARD.encode(sealed).into_bytes() } else { sealed }
}

/// The body a real node sends (with HTTP 200) for a [`PeelError::Inner`]:
/// base64 of `{"body": message, "status": 400}` encrypted with the layer key.
pub fn seal_error(rng: &mut impl CryptoRngCore, key: &LayerKey, message: &str) -> Vec<u8> {
    seal_node_reply(rng, key, 400, message, false, true)
}
