//! The storage RPC (`POST /storage_rpc/v1`, and the final hop of onion requests): a pure function
//! of the network, the node, the time and the request body.
//!
//! Like the real storage server, a request is handled in two steps: its parameters are parsed
//! completely first (any problem is `400 invalid request: …`, and a `batch` is refused as a whole
//! when one of its subrequests does not parse), then it runs: `421` when the pubkey belongs to
//! another swarm, then the method's time, TTL and signature checks, in the real server's order
//! and with its messages.

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::collections::BTreeMap;
use std::fmt;

use crypto_core::identity::{IdPrefix, SessionId, verify_ed25519};
use crypto_core::storage::rpc::{
    Affected, BatchReply, BatchResult, DeleteReply, DeletedMember, ExpireAllReply, ExpireReply, ExpiredAllMember,
    ExpiredMember, Expiry, GetExpiriesReply, GetServiceNodesReply, GetSwarmReply, Hardfork, InfoReply, MemberFailure,
    MemberResult, RetrieveReply, RetrievedMessage, ServiceNodeState, ServiceNodes, StoreReply, StoredMember, SwarmNode,
};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{
    MAX_MESSAGE_LEN, MAX_PRIVATE_TTL_MS, MIN_TTL_MS, Namespace, NamespaceSelector, SIGNATURE_TOLERANCE_MS,
    STORE_FUTURE_TOLERANCE_MS, decode_signature, is_message_hash, message_hash, verify_request,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::network::{Network, Node};
use crate::store::NewMessage;

/// The hardfork version nodes report: 19.4, where `expire` with one expiry per message is active.
const HF: Hardfork = Hardfork(19, 4);
/// The most subrequests in a batch.
const MAX_SUBREQUESTS: usize = 20;
/// The network's largest retrieve response.
const MAX_RETRIEVE_SIZE: usize = 7_800_000;
/// Timestamps below this many ms (10⁶ s) were almost certainly sent in seconds.
const MIN_TIMESTAMP_MS: u64 = 1_000_000_000;
/// Base64 as the real server reads it: standard alphabet, padding optional.
const BASE64_ANY: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An RPC result: the status and the body (JSON text for successes and 421, plain text for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// A JSON reply, serialized from one of crypto-core's typed replies (which carry `t` and `hf`
    /// where the real server sends them). Serializing those cannot fail; should it ever, the
    /// body is `{}`.
    fn json(status: u16, reply: &impl Serialize) -> Reply {
        Reply { status, body: serde_json::to_string(reply).unwrap_or_else(|_| "{}".to_owned()) }
    }

    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply { status, body: message.into() }
    }

    fn invalid(message: impl fmt::Display) -> Reply {
        Reply::error(400, format!("invalid request: {message}"))
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the body is JSON (2xx and 421 replies) rather than plain text.
    pub fn is_json(&self) -> bool {
        self.is_success() || self.status == 421
    }
}

type Params = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

/// Everything a request is answered from.
struct Ctx<'a> {
    network: &'a Network,
    node: &'a Node,
    /// The time request timestamps are judged by (the node's clock, see [`NodeClock`]).
    ///
    /// [`NodeClock`]: crate::network::NodeClock
    now: u64,
    /// The time the node reports as `t`.
    t: u64,
}

/// Handles a `/storage_rpc/v1` body (also the body of an onion request's final layer).
pub fn handle(network: &Network, node: &Node, now: u64, body: &[u8]) -> Reply {
    match serde_json::from_slice::<Value>(body) {
        Ok(request) => handle_json(network, node, now, &request),
        Err(_) => Reply::error(400, "invalid json"),
    }
}

/// Handles an already parsed `{"method", "params"}` request.
pub fn handle_json(network: &Network, node: &Node, now: u64, request: &Value) -> Reply {
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return Reply::error(400, "invalid json: no `method` field");
    };
    let Some(params) = request.get("params").and_then(Value::as_object) else {
        return Reply::error(400, "invalid json: no `params` field");
    };
    let clock = node.clock();
    let ctx = Ctx { network, node, now: clock.judging(now), t: clock.reported(now) };
    let batch = match method {
        "batch" => false,
        "sequence" => true,
        "ifelse" => return Reply::invalid("ifelse is not supported by this node"),
        _ => {
            return match Call::parse(method, params) {
                None => Reply::error(400, format!("no method {method}")),
                Some(Err(reply)) => reply,
                Some(Ok(call)) => call.run(&ctx),
            };
        }
    };
    match parse_batch(params) {
        Ok(calls) => run_batch(&ctx, calls, batch),
        Err(reply) => reply,
    }
}

// ---- batch and sequence ----

fn parse_batch(params: &Params) -> Result<Vec<Call>> {
    let requests = match params.get("requests") {
        Some(Value::Array(r)) if !r.is_empty() => r,
        _ => return Err(Reply::invalid("Invalid batch request: no valid \"requests\" field")),
    };
    if requests.len() > MAX_SUBREQUESTS {
        return Err(Reply::invalid("Invalid batch request: subrequest limit exceeded"));
    }
    requests
        .iter()
        .map(|sub| {
            let sub =
                sub.as_object().ok_or_else(|| Reply::invalid("Invalid batch request: requests must be objects"))?;
            let (Some(method), Some(params)) =
                (sub.get("method").and_then(Value::as_str), sub.get("params").and_then(Value::as_object))
            else {
                return Err(Reply::invalid("Invalid batch request: subrequests must have method/params keys"));
            };
            if matches!(method, "batch" | "sequence" | "ifelse") {
                return Err(Reply::invalid("Invalid batch subrequest: subrequests may not contain meta-requests"));
            }
            Call::parse(method, params).unwrap_or_else(|| {
                Err(Reply::invalid(format!("Invalid batch subrequest: invalid method \"{method}\"")))
            })
        })
        .collect()
}

fn run_batch(ctx: &Ctx<'_>, calls: Vec<Call>, sequence: bool) -> Reply {
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        let reply = call.run(ctx);
        let body = match serde_json::from_str::<Value>(&reply.body) {
            Ok(v) if reply.is_json() => v,
            _ => Value::String(reply.body.clone()),
        };
        let success = reply.is_success();
        results.push(BatchResult { body, code: reply.status });
        if sequence && !success {
            break;
        }
    }
    // The real server's batch reply has no `t` or `hf`.
    Reply::json(200, &BatchReply { hf: None, results, t: None })
}

// ---- field parsing, with the real server's messages ----

fn field<'a>(params: &'a Params, name: &str) -> Option<&'a Value> {
    params.get(name).filter(|v| !v.is_null())
}

fn wrong_type(name: &str, expected: &str) -> Reply {
    Reply::invalid(format!("Invalid value given for '{name}': expected {expected}"))
}

fn opt_str<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>> {
    field(params, name).map(|v| v.as_str().ok_or_else(|| wrong_type(name, "string"))).transpose()
}

fn opt_bool(params: &Params, name: &str) -> Result<Option<bool>> {
    field(params, name).map(|v| v.as_bool().ok_or_else(|| wrong_type(name, "boolean"))).transpose()
}

fn opt_int(params: &Params, name: &str) -> Result<Option<i64>> {
    field(params, name).map(|v| v.as_i64().ok_or_else(|| wrong_type(name, "integer"))).transpose()
}

/// A millisecond timestamp field (a non-negative JSON integer of at least 10⁹).
fn opt_millis(params: &Params, name: &str) -> Result<Option<u64>> {
    let Some(value) = field(params, name) else { return Ok(None) };
    let ms = value.as_u64().ok_or_else(|| wrong_type(name, "integer timestamp (in milliseconds)"))?;
    if ms < MIN_TIMESTAMP_MS {
        return Err(Reply::invalid(format!("Invalid timestamp for '{name}': timestamp must be in milliseconds")));
    }
    Ok(Some(ms))
}

/// `store`'s `timestamp` and `ttl`, which may also be given as strings of digits.
fn opt_stringified(params: &Params, name: &str) -> Result<Option<u64>> {
    match field(params, name) {
        None => Ok(None),
        Some(Value::String(s)) => {
            s.parse().map(Some).map_err(|_| Reply::invalid(format!("Invalid value given for '{name}': \"{s}\"")))
        }
        Some(v) => v.as_u64().map(Some).ok_or_else(|| wrong_type(name, "positive integer")),
    }
}

fn required<T>(name: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| Reply::invalid(format!("Required field '{name}' missing")))
}

/// A list of strings; a single string is taken as a list of one, as the real server reads it.
fn string_array(params: &Params, name: &str) -> Result<Option<Vec<String>>> {
    let Some(value) = field(params, name) else { return Ok(None) };
    if let Value::String(one) = value {
        return Ok(Some(vec![one.clone()]));
    }
    let list = value.as_array().ok_or_else(|| wrong_type(name, "string array"))?;
    list.iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| wrong_type(name, "string array")))
        .collect::<Result<_>>()
        .map(Some)
}

/// A list of ms timestamps (non-negative integers); a single one is a list of one. Unlike a single
/// timestamp field, the values are not checked for being in seconds, as in the real server.
fn timestamp_array(params: &Params, name: &str) -> Result<Option<Vec<u64>>> {
    let Some(value) = field(params, name) else { return Ok(None) };
    if let Some(one) = value.as_u64() {
        return Ok(Some(vec![one]));
    }
    let list = value.as_array().ok_or_else(|| wrong_type(name, "timestamp array"))?;
    list.iter().map(|v| v.as_u64().ok_or_else(|| wrong_type(name, "timestamp array"))).collect::<Result<_>>().map(Some)
}

fn namespace_value(value: &Value, name: &str) -> Result<Namespace> {
    let n = value.as_i64().ok_or_else(|| wrong_type(name, "16-bit integer"))?;
    i16::try_from(n)
        .map(Namespace)
        .map_err(|_| Reply::invalid(format!("Invalid value given for '{name}': value out of range")))
}

fn opt_namespace(params: &Params) -> Result<Option<Namespace>> {
    field(params, "namespace").map(|v| namespace_value(v, "namespace")).transpose()
}

fn namespace_selector(params: &Params) -> Result<NamespaceSelector> {
    match field(params, "namespace") {
        None => Ok(NamespaceSelector::One(Namespace::DEFAULT)),
        Some(Value::String(s)) if s == "all" => Ok(NamespaceSelector::All),
        Some(v) if v.is_i64() || v.is_u64() => namespace_value(v, "namespace").map(NamespaceSelector::One),
        Some(_) => Err(wrong_type("namespace", "integer or \"all\"")),
    }
}

/// `pubkey`, or its alias `pubKey` where the method accepts it.
fn pubkey_field(params: &Params, alias: bool) -> Result<String> {
    let main = opt_str(params, "pubkey")?;
    let alt = if alias { opt_str(params, "pubKey")? } else { None };
    match (main, alt) {
        (Some(_), Some(_)) => Err(Reply::invalid("Cannot specify both 'pubkey' and 'pubKey'")),
        (Some(pk), None) | (None, Some(pk)) => Ok(pk.to_owned()),
        (None, None) => Err(Reply::invalid("Required field 'pubkey' missing")),
    }
}

/// A storage pubkey as the real server takes it (protocol-core §1.2, §4.1): any network byte and
/// a 32-byte key, as 66 hex characters or as 33 raw bytes. `05` is an account, whose key is its
/// X25519 key; under every other network byte (`03` groups, and any other) the key is an Ed25519
/// key that signs for itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Pubkey([u8; 33]);

impl Pubkey {
    /// The network byte an account's Session ID starts with.
    pub const ACCOUNT: u8 = 0x05;

    /// Parses the forms the real server accepts on mainnet; `None` for anything else.
    pub fn parse(text: &str) -> Option<Pubkey> {
        let mut bytes = [0u8; 33];
        match text.len() {
            66 => hex::decode_to_slice(text, &mut bytes).ok().map(|()| Pubkey(bytes)),
            33 => text.as_bytes().try_into().ok().map(Pubkey),
            _ => None,
        }
    }

    /// The 33 bytes.
    pub fn bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The network byte.
    pub fn network(&self) -> u8 {
        self.0[0]
    }

    /// The 32-byte key after the network byte.
    pub fn key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.0[1..]);
        key
    }
}

impl From<&SessionId> for Pubkey {
    fn from(id: &SessionId) -> Pubkey {
        Pubkey(id.to_bytes())
    }
}

/// Lower-case hex of the 33 bytes (what the real server's replies sign).
impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

fn parse_pubkey(text: &str) -> Result<Pubkey> {
    Pubkey::parse(text).ok_or_else(|| Reply::invalid("Pubkey must be 66 hex digits (33 bytes) long"))
}

/// A request signature, parsed (its format checked) but not yet verified.
#[derive(Debug)]
struct Auth {
    signature: String,
    ed25519: Option<[u8; 32]>,
}

/// Parses `signature` (required) and `pubkey_ed25519` the way the real server does.
fn parse_auth(pk: &Pubkey, params: &Params) -> Result<Auth> {
    let signature = required("signature", opt_str(params, "signature")?)?;
    let ed25519 = match opt_str(params, "pubkey_ed25519")? {
        None => None,
        Some(_) if pk.network() != Pubkey::ACCOUNT => {
            return Err(Reply::invalid("pubkey_ed25519 is only permitted for 05[...] pubkeys"));
        }
        Some(text) if text.len() == 64 => {
            let mut key = [0u8; 32];
            hex::decode_to_slice(text, &mut key)
                .map_err(|_| Reply::invalid("invalid pubkey_ed25519: value is not hex"))?;
            Some(key)
        }
        Some(text) => match <[u8; 32]>::try_from(text.as_bytes()) {
            Ok(raw) => Some(raw),
            Err(_) => return Err(Reply::invalid("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey")),
        },
    };
    if decode_signature(signature).is_err() {
        return Err(Reply::invalid("invalid signature: expected base64 encoded Ed25519 signature"));
    }
    Ok(Auth { signature: signature.to_owned(), ed25519 })
}

/// `messages`, already read: required and non-empty.
fn nonempty_hashes(hashes: Option<Vec<String>>) -> Result<Vec<String>> {
    let hashes = required("messages", hashes)?;
    if hashes.is_empty() {
        return Err(Reply::invalid("messages does not contain any message hashes"));
    }
    Ok(hashes)
}

/// Every entry must look like a message hash.
fn check_hashes(hashes: &[String]) -> Result<()> {
    match hashes.iter().find(|h| !is_message_hash(h)) {
        Some(bad) => Err(Reply::invalid(format!("invalid message hash: {bad}"))),
        None => Ok(()),
    }
}

/// The type checks the real server makes on the auth fields before it reads any of them, in its
/// (alphabetical) field order among the method's other fields.
fn auth_field_types(params: &Params) -> Result<()> {
    opt_str(params, "pubkey")?;
    opt_str(params, "pubkey_ed25519")?;
    Ok(())
}

// ---- the parsed requests ----

#[derive(Debug)]
struct Store {
    pk: Pubkey,
    ns: Namespace,
    timestamp: u64,
    expiry: u64,
    data: Vec<u8>,
    auth: Option<Auth>,
    sig_timestamp: u64,
}

#[derive(Debug)]
struct Retrieve {
    pk: Pubkey,
    ns: Namespace,
    auth: Option<(Auth, u64)>,
    last_hash: Option<String>,
    max_count: Option<i64>,
    max_size: Option<i64>,
}

#[derive(Debug)]
struct Signed {
    pk: Pubkey,
    auth: Auth,
}

#[derive(Debug)]
enum Call {
    Store(Store),
    Retrieve(Retrieve),
    Delete { who: Signed, hashes: Vec<String>, required: bool },
    DeleteAll { who: Signed, ns: NamespaceSelector, timestamp: u64 },
    DeleteBefore { who: Signed, ns: NamespaceSelector, before: u64 },
    Expire { who: Signed, hashes: Vec<String>, expiries: Vec<u64>, shorten: bool, extend: bool },
    ExpireAll { who: Signed, ns: NamespaceSelector, expiry: u64 },
    GetExpiries { who: Signed, hashes: Vec<String>, timestamp: u64 },
    GetSwarm(Pubkey),
    Info,
    Oxend { endpoint: String, params: Option<Value> },
}

fn signed(params: &Params) -> Result<Signed> {
    let pk = parse_pubkey(&pubkey_field(params, false)?)?;
    let auth = parse_auth(&pk, params)?;
    Ok(Signed { pk, auth })
}

impl Call {
    /// Parses the parameters of `method`; `None` when there is no such method.
    fn parse(method: &str, params: &Params) -> Option<Result<Call>> {
        Some(match method {
            "store" => parse_store(params).map(Call::Store),
            "retrieve" => parse_retrieve(params).map(Call::Retrieve),
            "delete" => (|| {
                let hashes = string_array(params, "messages")?;
                auth_field_types(params)?;
                let required = opt_bool(params, "required")?.unwrap_or(false);
                let who = signed(params)?;
                let hashes = nonempty_hashes(hashes)?;
                check_hashes(&hashes)?;
                Ok(Call::Delete { who, hashes, required })
            })(),
            "delete_all" => (|| {
                let ns = namespace_selector(params)?;
                let timestamp = opt_millis(params, "timestamp")?;
                let who = signed(params)?;
                Ok(Call::DeleteAll { who, ns, timestamp: required("timestamp", timestamp)? })
            })(),
            "delete_before" => (|| {
                let before = opt_millis(params, "before")?;
                let ns = namespace_selector(params)?;
                let who = signed(params)?;
                Ok(Call::DeleteBefore { who, ns, before: required("before", before)? })
            })(),
            "expire" => (|| {
                let expiries = timestamp_array(params, "expiry")?;
                let extend = opt_bool(params, "extend")?.unwrap_or(false);
                let hashes = string_array(params, "messages")?;
                auth_field_types(params)?;
                let shorten = opt_bool(params, "shorten")?.unwrap_or(false);
                let who = signed(params)?;
                let expiries = required("expiry", expiries)?;
                if expiries.is_empty() {
                    return Err(Reply::invalid("'expiry' does not contain any expiration timestamps"));
                }
                if shorten && extend {
                    return Err(Reply::invalid("cannot specify both 'shorten' and 'extend'"));
                }
                let hashes = nonempty_hashes(hashes)?;
                if expiries.len() > 1 && expiries.len() != hashes.len() {
                    return Err(Reply::invalid("'expiry' must be a single expiry, or the same length as 'messages'"));
                }
                check_hashes(&hashes)?;
                Ok(Call::Expire { who, hashes, expiries, shorten, extend })
            })(),
            "expire_all" => (|| {
                let expiry = opt_millis(params, "expiry")?;
                let ns = namespace_selector(params)?;
                let who = signed(params)?;
                Ok(Call::ExpireAll { who, ns, expiry: required("expiry", expiry)? })
            })(),
            "get_expiries" => (|| {
                let hashes = string_array(params, "messages")?;
                auth_field_types(params)?;
                opt_str(params, "signature")?;
                let timestamp = opt_millis(params, "timestamp")?;
                let who = signed(params)?;
                let timestamp = required("timestamp", timestamp)?;
                // No hash check: the real server looks every entry up as given, so `["all"]` asks
                // for a message whose hash is "all" (there is none) and gets `{}`.
                Ok(Call::GetExpiries { who, hashes: nonempty_hashes(hashes)?, timestamp })
            })(),
            "get_swarm" | "get_snodes_for_pubkey" => pubkey_field(params, true).and_then(|pk| {
                Pubkey::parse(&pk)
                    .map(Call::GetSwarm)
                    .ok_or_else(|| Reply::invalid("Pubkey must be 66 hex digits/33 bytes long"))
            }),
            "info" => Ok(Call::Info),
            "oxend_request" => (|| {
                let endpoint = required("endpoint", opt_str(params, "endpoint")?)?;
                if !matches!(endpoint, "get_service_nodes" | "ons_resolve") {
                    return Err(Reply::invalid(format!("Invalid oxend endpoint '{endpoint}'")));
                }
                Ok(Call::Oxend { endpoint: endpoint.to_owned(), params: field(params, "params").cloned() })
            })(),
            _ => return None,
        })
    }

    fn run(self, ctx: &Ctx<'_>) -> Reply {
        let result = match self {
            Call::Store(s) => store(ctx, s),
            Call::Retrieve(r) => retrieve(ctx, r),
            Call::Delete { who, hashes, required } => delete(ctx, who, hashes, required),
            Call::DeleteAll { who, ns, timestamp } => delete_all(ctx, who, ns, timestamp, false),
            Call::DeleteBefore { who, ns, before } => delete_all(ctx, who, ns, before, true),
            Call::Expire { who, hashes, expiries, shorten, extend } => {
                expire(ctx, who, &hashes, &expiries, shorten, extend)
            }
            Call::ExpireAll { who, ns, expiry } => expire_all(ctx, who, ns, expiry),
            Call::GetExpiries { who, hashes, timestamp } => get_expiries(ctx, who, hashes, timestamp),
            Call::GetSwarm(pk) => get_swarm(ctx, &pk),
            Call::Info => Ok(Reply::json(
                200,
                &InfoReply { hf: Some(HF), t: Some(ctx.t), timestamp: Some(ctx.t), version: Some(crate::VERSION) },
            )),
            Call::Oxend { endpoint, params } => oxend_request(ctx, &endpoint, params.as_ref()),
        };
        result.unwrap_or_else(|reply| reply)
    }
}

fn parse_store(params: &Params) -> Result<Store> {
    // Type errors come in the real server's (alphabetical) field order.
    let data = opt_str(params, "data")?;
    let expiry = opt_millis(params, "expiry")?;
    let ns = opt_namespace(params)?.unwrap_or(Namespace::DEFAULT);
    let sig_timestamp = opt_millis(params, "sig_timestamp")?;
    let has_signature = field(params, "signature").is_some();
    let timestamp = required("timestamp", opt_stringified(params, "timestamp")?)?;
    let ttl = opt_stringified(params, "ttl")?;
    let expiry = match (expiry, ttl) {
        (Some(_), Some(_)) => return Err(Reply::invalid("Cannot specify both 'expiry' and 'ttl'")),
        (Some(expiry), None) => expiry,
        (None, Some(ttl)) => timestamp.saturating_add(ttl),
        (None, None) => return Err(Reply::invalid("Required field 'expiry' or 'ttl' missing")),
    };
    let pk = parse_pubkey(&pubkey_field(params, true)?)?;
    let auth = if has_signature { Some(parse_auth(&pk, params)?) } else { None };
    let data = required("data", data)?;
    if !data.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
        return Err(Reply::invalid("Invalid 'data' value: not base64 encoded"));
    }
    if data.len() > MAX_MESSAGE_LEN / 3 * 4 {
        return Err(Reply::invalid(format!("Message body exceeds maximum allowed length of {MAX_MESSAGE_LEN} bytes")));
    }
    let data = BASE64_ANY.decode(data).map_err(|_| Reply::invalid("Invalid 'data' value: not base64 encoded"))?;
    Ok(Store { pk, ns, timestamp, expiry, data, auth, sig_timestamp: sig_timestamp.unwrap_or(timestamp) })
}

fn parse_retrieve(params: &Params) -> Result<Retrieve> {
    let last_hash_alt = opt_str(params, "lastHash")?;
    let last_hash = opt_str(params, "last_hash")?;
    let max_count = opt_int(params, "max_count")?;
    let max_size = opt_int(params, "max_size")?;
    let ns = opt_namespace(params)?;
    let pk = parse_pubkey(&pubkey_field(params, true)?)?;
    let timestamp = opt_millis(params, "timestamp")?;
    let wants_auth = ["pubkey_ed25519", "signature"].iter().any(|f| field(params, f).is_some())
        || timestamp.is_some()
        || ns.is_some_and(Namespace::retrieve_needs_signature);
    let auth = if wants_auth {
        let auth = parse_auth(&pk, params)?;
        Some((auth, required("timestamp", timestamp)?))
    } else {
        None
    };
    let last_hash = match (last_hash, last_hash_alt) {
        (Some(_), Some(_)) => return Err(Reply::invalid("Cannot specify both 'last_hash' and 'lastHash'")),
        (Some(h), None) | (None, Some(h)) => Some(h),
        (None, None) => None,
    };
    let last_hash = match last_hash {
        None | Some("") => None,
        Some(h) if h.len() == 43 => {
            if !is_message_hash(h) {
                return Err(Reply::invalid("Invalid last_hash: not base64"));
            }
            Some(h.to_owned())
        }
        Some(_) => return Err(Reply::invalid("Invalid last_hash: expected base64 (43 chars)")),
    };
    Ok(Retrieve { pk, ns: ns.unwrap_or(Namespace::DEFAULT), auth, last_hash, max_count, max_size })
}

// ---- checks shared by the methods ----

/// 421 unless this node is in the pubkey's swarm.
fn check_swarm(ctx: &Ctx<'_>, pk: &Pubkey) -> Result<()> {
    match ctx.network.swarm_for(pk.bytes()) {
        Some(id) if id == ctx.node.info.swarm_id => Ok(()),
        Some(id) => Err(Reply::json(421, &swarm_reply_of(ctx, id))),
        None => Err(Reply::error(503, "Service node is not ready")),
    }
}

fn check_clock(now: u64, timestamp: u64, message: &str) -> Result<()> {
    if now.abs_diff(timestamp) > SIGNATURE_TOLERANCE_MS {
        return Err(Reply::error(406, message.to_owned()));
    }
    Ok(())
}

/// Verifies a parsed signature over `to_sign`, as the real server does: for `05` accounts with
/// `pubkey_ed25519` (which must map to the account's X25519 key), otherwise with the pubkey's own
/// 32 bytes as the Ed25519 key. `failure` is the 401 text.
fn verify_as(pk: &Pubkey, auth: &Auth, to_sign: &[u8], failure: &str) -> Result<()> {
    let valid = if pk.network() == Pubkey::ACCOUNT {
        let id = SessionId::new(IdPrefix::Standard, pk.key());
        verify_request(&id, auth.ed25519.as_ref(), to_sign, &auth.signature).is_ok()
    } else {
        decode_signature(&auth.signature).is_ok_and(|sig| verify_ed25519(&pk.key(), to_sign, &sig))
    };
    if valid { Ok(()) } else { Err(Reply::error(401, failure.to_owned())) }
}

/// [`verify_as`] with the usual `<what> signature verification failed`.
fn verify(pk: &Pubkey, auth: &Auth, to_sign: &[u8], what: &str) -> Result<()> {
    verify_as(pk, auth, to_sign, &format!("{what} signature verification failed"))
}

fn db_error(e: rusqlite::Error) -> Reply {
    tracing::error!(error = %e, "database error");
    Reply::error(500, "internal database error")
}

/// The `get_swarm` reply (also the 421 body) for swarm `id`, with `t` and `hf`.
fn swarm_reply_of(ctx: &Ctx<'_>, id: u64) -> GetSwarmReply {
    let snodes = ctx
        .network
        .members(id)
        .map(|n| SwarmNode {
            address: Some(n.info.snode_address()),
            ip: n.info.ip.clone(),
            port: Some(n.info.port.to_string()),
            port_https: Some(n.info.port),
            port_omq: Some(n.info.port),
            port_quic: Some(n.info.port),
            pubkey_ed25519: hex::encode(n.info.ed25519),
            // A devnet node's legacy key is its Ed25519 key (see `NodeInfo::snode_address`).
            pubkey_legacy: Some(hex::encode(n.info.ed25519)),
            pubkey_x25519: hex::encode(n.info.x25519),
        })
        .collect();
    GetSwarmReply { hf: Some(HF), snodes, swarm: format!("{id:x}"), t: Some(ctx.t) }
}

/// Runs `apply` on every member of this node's swarm that is up, and collects the per-member
/// results as the `swarm` object of a recursive method. A member that is down is a timeout; a
/// member's error is its status (a string on the wire, as the real server relays it) and text.
fn on_swarm<T>(ctx: &Ctx<'_>, mut apply: impl FnMut(&Node) -> Result<T>) -> BTreeMap<String, MemberResult<T>> {
    let mut swarm = BTreeMap::new();
    for member in ctx.network.members(ctx.node.info.swarm_id) {
        let key = hex::encode(member.info.ed25519);
        let result = if !member.is_up() {
            MemberResult::Failed(MemberFailure::timeout())
        } else {
            match apply(member) {
                Ok(v) => MemberResult::Success(v),
                Err(reply) => MemberResult::Failed(MemberFailure::error(reply.status, reply.body)),
            }
        };
        swarm.insert(key, result);
    }
    swarm
}

fn sign_b64(node: &Node, msg: &[u8]) -> String {
    STANDARD.encode(node.sign(msg))
}

/// The per-member result of a `"all"`-namespace action: the hashes grouped by namespace, and the
/// node's signature over `prefix ‖ every hash sorted`.
fn by_namespace(member: &Node, prefix: &str, mut affected: Vec<(i16, String)>) -> (Affected, String) {
    affected.sort_by(|a, b| a.1.cmp(&b.1));
    let signed: String = std::iter::once(prefix).chain(affected.iter().map(|(_, h)| h.as_str())).collect();
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (ns, hash) in affected {
        grouped.entry(ns.to_string()).or_default().push(hash);
    }
    (Affected::ByNamespace(grouped), sign_b64(member, signed.as_bytes()))
}

/// The per-member result of a one-namespace action: the sorted hashes and the node's signature
/// over `prefix ‖ hashes`.
fn in_namespace(member: &Node, prefix: &str, mut affected: Vec<String>) -> (Affected, String) {
    affected.sort();
    let signed = format!("{prefix}{}", affected.concat());
    let signature = sign_b64(member, signed.as_bytes());
    (Affected::List(affected), signature)
}

/// [`by_namespace`] or [`in_namespace`], as `ns` selects.
fn affected_in(member: &Node, ns: NamespaceSelector, prefix: &str, affected: Vec<(i16, String)>) -> (Affected, String) {
    match ns {
        NamespaceSelector::All => by_namespace(member, prefix, affected),
        NamespaceSelector::One(_) => in_namespace(member, prefix, affected.into_iter().map(|(_, h)| h).collect()),
    }
}

// ---- methods ----

fn store(ctx: &Ctx<'_>, s: Store) -> Result<Reply> {
    check_swarm(ctx, &s.pk)?;
    let ttl = s.expiry.checked_sub(s.timestamp);
    if !ttl.is_some_and(|ttl| (MIN_TTL_MS..=s.ns.max_ttl_ms()).contains(&ttl)) {
        return Err(Reply::error(403, "Provided expiry/TTL is not valid."));
    }
    if s.timestamp > ctx.now + STORE_FUTURE_TOLERANCE_MS || s.expiry + STORE_FUTURE_TOLERANCE_MS < ctx.now {
        return Err(Reply::error(406, "Timestamp error: check your clock"));
    }
    if s.ns.store_needs_signature() {
        let Some(auth) = &s.auth else {
            return Err(Reply::error(401, format!("store: signature required to store to namespace {}", s.ns.0)));
        };
        check_clock(ctx.now, s.sig_timestamp, "store signature timestamp too far from current time")?;
        verify(&s.pk, auth, &to_sign::store(s.ns, s.sig_timestamp), "store")?;
    }

    let owner = *s.pk.bytes();
    let hash = message_hash(&owner, s.ns, &s.data);
    let message = NewMessage {
        pubkey: &owner,
        namespace: s.ns.0,
        hash: &hash,
        data: &s.data,
        timestamp: s.timestamp,
        expiry: s.expiry,
    };
    let swarm = on_swarm(ctx, |member| {
        let store = member.store();
        let inserted = store.insert(&message).map_err(db_error)?;
        if s.ns.is_public_outbox() {
            store.keep_only(&owner, s.ns.0, &hash).map_err(db_error)?;
        }
        let expiry = store.expiry_of(&hash).map_err(db_error)?.unwrap_or(s.expiry);
        Ok(StoredMember {
            already: !inserted,
            expiry: Some(expiry),
            hash: hash.clone(),
            signature: sign_b64(member, hash.as_bytes()),
            // The real server also puts its time in the entry node's own answer (deprecated).
            t: (member.info.ed25519 == ctx.node.info.ed25519).then_some(ctx.t),
        })
    });
    Ok(Reply::json(200, &StoreReply { hash, hf: Some(HF), swarm, t: Some(ctx.t) }))
}

fn retrieve(ctx: &Ctx<'_>, r: Retrieve) -> Result<Reply> {
    check_swarm(ctx, &r.pk)?;
    match &r.auth {
        None if r.ns.retrieve_needs_signature() => {
            return Err(Reply::error(401, "retrieve: request signature required"));
        }
        None => {}
        Some((auth, timestamp)) => {
            check_clock(ctx.now, *timestamp, "retrieve timestamp too far from current time")?;
            verify(&r.pk, auth, &to_sign::retrieve(r.ns, *timestamp), "retrieve")?;
        }
    }
    let max_count = match r.max_count {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    let max_size = match r.max_size {
        None if r.max_count.is_some() => MAX_RETRIEVE_SIZE,
        None | Some(0) => MAX_RETRIEVE_SIZE / 5,
        Some(n) if n < 0 => MAX_RETRIEVE_SIZE / usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX).max(1),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_RETRIEVE_SIZE),
    };
    let (messages, more) = ctx
        .node
        .store()
        .retrieve(r.pk.bytes(), r.ns.0, r.last_hash.as_deref(), ctx.now, max_count, max_size)
        .map_err(db_error)?;
    let messages = messages
        .into_iter()
        .map(|m| RetrievedMessage {
            data: STANDARD.encode(m.data),
            expiration: m.expiry,
            hash: m.hash,
            timestamp: m.timestamp,
        })
        .collect();
    Ok(Reply::json(200, &RetrieveReply { hf: Some(HF), messages, more, t: Some(ctx.t) }))
}

fn delete(ctx: &Ctx<'_>, who: Signed, hashes: Vec<String>, required: bool) -> Result<Reply> {
    check_swarm(ctx, &who.pk)?;
    verify(&who.pk, &who.auth, &to_sign::delete(&hashes), "delete_msgs")?;
    let owner = *who.pk.bytes();
    let prefix = format!("{}{}", who.pk, hashes.concat());
    let mut any = false;
    let swarm = on_swarm(ctx, |member| {
        let deleted = member.store().delete(&owner, &hashes).map_err(db_error)?;
        any |= !deleted.is_empty();
        let (deleted, signature) = in_namespace(member, &prefix, deleted);
        Ok(DeletedMember { deleted, signature })
    });
    if required && !any {
        return Err(Reply::error(404, "no messages deleted"));
    }
    Ok(Reply::json(200, &DeleteReply { hf: Some(HF), swarm, t: Some(ctx.t) }))
}

fn delete_all(ctx: &Ctx<'_>, who: Signed, ns: NamespaceSelector, stamp: u64, before_mode: bool) -> Result<Reply> {
    check_swarm(ctx, &who.pk)?;
    if before_mode {
        if stamp > ctx.now + SIGNATURE_TOLERANCE_MS {
            return Err(Reply::error(401, "delete_before timestamp too far in the future"));
        }
        verify(&who.pk, &who.auth, &to_sign::delete_before(ns, stamp), "delete_before")?;
    } else {
        check_clock(ctx.now, stamp, "delete_all timestamp too far from current time")?;
        verify(&who.pk, &who.auth, &to_sign::delete_all(ns, stamp), "delete_all")?;
    }
    let before = before_mode.then_some(stamp);
    let owner = *who.pk.bytes();
    let prefix = format!("{}{stamp}", who.pk);
    let swarm = on_swarm(ctx, |member| {
        let deleted = member.store().delete_where(&owner, ns.namespace().map(|n| n.0), before).map_err(db_error)?;
        let (deleted, signature) = affected_in(member, ns, &prefix, deleted);
        Ok(DeletedMember { deleted, signature })
    });
    Ok(Reply::json(200, &DeleteReply { hf: Some(HF), swarm, t: Some(ctx.t) }))
}

/// `expire`, as the real server does it: every expiry must be at most 60 s in the past (401), each
/// is capped at now + 30 days; one expiry for every message, or one per message (`expiry[i]` for
/// `messages[i]`). Each member reports the hashes it `updated` (sorted), the expiry it applied
/// (one value, or the applied expiry of each updated message), with `shorten`/`extend` the
/// `unchanged` messages and their expiries, and signs
/// `pubkey ‖ expiry part ‖ requested hashes ‖ updated hashes ‖ (unchanged hash ‖ expiry)…`.
fn expire(
    ctx: &Ctx<'_>,
    who: Signed,
    hashes: &[String],
    expiries: &[u64],
    shorten: bool,
    extend: bool,
) -> Result<Reply> {
    check_swarm(ctx, &who.pk)?;
    if expiries.iter().any(|&e| e.saturating_add(SIGNATURE_TOLERANCE_MS) < ctx.now) {
        return Err(Reply::error(401, "expire: timestamp should be >= current time"));
    }
    let mode = if shorten {
        ExpireMode::Shorten
    } else if extend {
        ExpireMode::Extend
    } else {
        ExpireMode::Set
    };
    verify_as(&who.pk, &who.auth, &to_sign::expire(mode, expiries, hashes), "expire: signature verification failed")?;
    let capped: Vec<u64> = expiries.iter().map(|&e| e.min(ctx.now + MAX_PRIVATE_TTL_MS)).collect();
    let owner = *who.pk.bytes();
    let requested = hashes.concat();
    let swarm = on_swarm(ctx, |member| {
        let store = member.store();
        let mut updated = store.update_expiry(&owner, hashes, &capped, extend, shorten).map_err(db_error)?;
        updated.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unchanged: BTreeMap<String, u64> = BTreeMap::new();
        if shorten || extend {
            let rest: Vec<&String> = hashes.iter().filter(|h| !updated.iter().any(|(u, _)| u == *h)).collect();
            for h in rest {
                if let Some(e) = store.expiry_of_owned(&owner, h).map_err(db_error)? {
                    unchanged.insert(h.clone(), e);
                }
            }
        }
        let (expiry, expiry_part) = match capped.as_slice() {
            [one] => (Expiry::One(*one), one.to_string()),
            _ => {
                let applied: Vec<u64> = updated.iter().map(|(_, e)| *e).collect();
                let part = applied.iter().map(u64::to_string).collect::<String>();
                (Expiry::Each(applied), part)
            }
        };
        let updated: Vec<String> = updated.into_iter().map(|(h, _)| h).collect();
        let mut signed = format!("{}{expiry_part}{requested}{}", who.pk, updated.concat());
        for (h, e) in &unchanged {
            signed.push_str(h);
            signed.push_str(&e.to_string());
        }
        Ok(ExpiredMember {
            expiry,
            signature: sign_b64(member, signed.as_bytes()),
            unchanged: (shorten || extend).then_some(unchanged),
            updated,
        })
    });
    Ok(Reply::json(200, &ExpireReply { hf: Some(HF), swarm, t: Some(ctx.t) }))
}

fn expire_all(ctx: &Ctx<'_>, who: Signed, ns: NamespaceSelector, expiry: u64) -> Result<Reply> {
    check_swarm(ctx, &who.pk)?;
    if expiry + SIGNATURE_TOLERANCE_MS < ctx.now {
        return Err(Reply::error(406, "expire_all timestamp should be >= current time"));
    }
    verify(&who.pk, &who.auth, &to_sign::expire_all(ns, expiry), "expire_all")?;
    let owner = *who.pk.bytes();
    let prefix = format!("{}{expiry}", who.pk);
    let swarm = on_swarm(ctx, |member| {
        let updated = member.store().shorten_all(&owner, ns.namespace().map(|n| n.0), expiry).map_err(db_error)?;
        let (updated, signature) = affected_in(member, ns, &prefix, updated);
        Ok(ExpiredAllMember { signature, updated })
    });
    Ok(Reply::json(200, &ExpireAllReply { hf: Some(HF), swarm, t: Some(ctx.t) }))
}

fn get_expiries(ctx: &Ctx<'_>, who: Signed, hashes: Vec<String>, timestamp: u64) -> Result<Reply> {
    check_swarm(ctx, &who.pk)?;
    check_clock(ctx.now, timestamp, "get_expiries timestamp too far from current time")?;
    verify(&who.pk, &who.auth, &to_sign::get_expiries(timestamp, &hashes), "get_expiries")?;
    let store = ctx.node.store();
    let owner = *who.pk.bytes();
    let mut expiries = BTreeMap::new();
    for h in &hashes {
        if let Some(e) = store.expiry_of_owned(&owner, h).map_err(db_error)?.filter(|&e| e > ctx.now) {
            expiries.insert(h.clone(), e);
        }
    }
    // The real server's get_expiries reply has no `t` or `hf`.
    Ok(Reply::json(200, &GetExpiriesReply { expiries, hf: None, t: None }))
}

fn get_swarm(ctx: &Ctx<'_>, pk: &Pubkey) -> Result<Reply> {
    let id = ctx.network.swarm_for(pk.bytes()).ok_or_else(|| Reply::error(503, "Service node is not ready"))?;
    Ok(Reply::json(200, &swarm_reply_of(ctx, id)))
}

fn oxend_request(ctx: &Ctx<'_>, endpoint: &str, params: Option<&Value>) -> Result<Reply> {
    if endpoint != "get_service_nodes" {
        return Err(Reply::error(400, "ONS is not available on this network"));
    }
    // The records come from the network, limited to the requested `fields`; each reads as a
    // `ServiceNodeState` (all of whose fields are optional).
    let service_node_states = ctx
        .network
        .service_node_states(params)
        .into_iter()
        .filter_map(|state| serde_json::from_value::<ServiceNodeState>(state).ok())
        .collect();
    let result = ServiceNodes { height: Some(1), service_node_states, status: Some("OK".to_owned()) };
    Ok(Reply::json(200, &GetServiceNodesReply { hf: Some(HF), result, t: Some(ctx.t) }))
}
