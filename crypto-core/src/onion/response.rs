//! The client's side of replies: opening the destination's encrypted answer, and classifying the
//! plain-text failures a hop returns instead.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{LayerKey, v4};

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
    /// The reply did not decrypt with the request's key. Says nothing more.
    Decrypt,
    /// The decrypted reply is not of the expected shape: where, and what is wrong.
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
/// `{"status": N, "body": "<json string>"}` (or with the body embedded when the request asked for
/// `"json": true`). `status_code` is accepted for `status`, as older nodes wrote it.
pub fn unwrap_node_reply(key: &LayerKey, http_body: &[u8]) -> Result<NodeReply, ReplyError> {
    let plain = match STANDARD.decode(trim_ascii(http_body)) {
        Ok(raw) => key.decrypt(&raw).or_else(|_| key.decrypt(http_body)),
        Err(_) => key.decrypt(http_body),
    }
    .map_err(|_| ReplyError::Decrypt)?;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&plain) else {
        return Err(ReplyError::Malformed("the decrypted reply is not a JSON object"));
    };
    let status = map
        .get("status")
        .or_else(|| map.get("status_code"))
        .ok_or(ReplyError::Malformed("the reply has no `status`"))?
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(ReplyError::Malformed("the reply's `status` is not an HTTP status code"))?;
    let body = match map.get("body") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    Ok(NodeReply { status, body })
}

pub(super) fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or(&[])
}

/// Opens a server's v4 reply: raw ciphertext of a bencoded `[metadata, body]`.
pub fn unwrap_server_reply(key: &LayerKey, http_body: &[u8]) -> Result<v4::Response, ReplyError> {
    let mut plain = key.decrypt(http_body).map_err(|_| ReplyError::Decrypt)?;
    v4::decode_response_owned(core::mem::take(&mut *plain)).map_err(ReplyError::Malformed)
}

/// What a failure that a hop returned in plain text (as the guard's HTTP status and body) means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PathFailure {
    /// `502 Next node not found: <ed25519 hex>`: a hop did not know that node; drop it.
    NextNodeNotFound([u8; 32]),
    /// `503 Snode not ready: <ed25519 hex>`: that node is still syncing.
    NodeNotReady([u8; 32]),
    /// The clock is off (406 or 425): retrying will not help.
    ClockOutOfSync,
    /// The destination is not in the swarm (421).
    WrongSwarm,
    /// `504`: a hop or the server did not answer in time.
    Timeout,
    /// `413 Request body too large`: the onion exceeded 10 MiB.
    TooLarge,
    /// `400` from a hop's onion parser (`Error parsing onion request: …`, `Invalid ciphertext`,
    /// `onion request max path length exceeded`, `Invalid internal onion request: …`).
    Refused,
    /// `Oxen Server error`: the node gave up on the request; retrying will not help.
    ServerError,
    /// Anything else: a strike against the path.
    Other,
}

fn hex_key_after<'a>(body: &'a [u8], prefix: &[u8]) -> Option<[u8; 32]> {
    let rest: &'a [u8] = body.strip_prefix(prefix)?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(trim_ascii(rest), &mut key).ok()?;
    Some(key)
}

/// Classifies a non-200 reply from the guard (its HTTP status and plain-text body).
pub fn classify_path_failure(status: u16, body: &[u8]) -> PathFailure {
    if let Some(key) = hex_key_after(body, b"Next node not found: ") {
        return PathFailure::NextNodeNotFound(key);
    }
    if let Some(key) = hex_key_after(body, b"Snode not ready: ") {
        return PathFailure::NodeNotReady(key);
    }
    if trim_ascii(body) == b"Oxen Server error" {
        return PathFailure::ServerError;
    }
    const REFUSALS: [&[u8]; 4] = [
        b"Error parsing onion request",
        b"Invalid ciphertext",
        b"onion request max path length exceeded",
        b"Invalid internal onion request",
    ];
    match status {
        406 | 425 => PathFailure::ClockOutOfSync,
        421 => PathFailure::WrongSwarm,
        504 => PathFailure::Timeout,
        413 => PathFailure::TooLarge,
        400 if REFUSALS.iter().any(|p| body.starts_with(p)) => PathFailure::Refused,
        _ => PathFailure::Other,
    }
}
