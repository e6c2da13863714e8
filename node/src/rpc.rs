//! The storage RPC (`POST /storage_rpc/v1`, and the final hop of onion requests): a pure function
//! of the network, the node, the time and the request body.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use crypto_core::identity::SessionId;
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{
    MAX_MESSAGE_LEN, MAX_PRIVATE_TTL_MS, MIN_TTL_MS, Namespace, NamespaceSelector, SIGNATURE_TOLERANCE_MS,
    STORE_FUTURE_TOLERANCE_MS, SignatureError, is_message_hash, message_hash, verify_request,
};
use serde_json::{Map, Value, json};

use crate::network::{Network, Node};
use crate::store::NewMessage;

/// The hardfork version nodes report.
const HF: [u32; 2] = [19, 3];
/// The most subrequests in a batch.
const MAX_SUBREQUESTS: usize = 20;
/// The network's largest retrieve response.
const MAX_RETRIEVE_SIZE: usize = 7_800_000;

/// An RPC result: the status and the body (JSON text for successes and 421, plain text for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

impl Reply {
    fn json(status: u16, mut value: Value, now: u64) -> Reply {
        if let Value::Object(map) = &mut value {
            map.insert("t".into(), json!(now));
            map.insert("hf".into(), json!(HF));
        }
        Reply { status, body: value.to_string() }
    }

    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply { status, body: message.into() }
    }

    fn invalid(message: impl std::fmt::Display) -> Reply {
        Reply::error(400, format!("invalid request: {message}"))
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

type Params = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

/// Everything a request is answered from.
struct Ctx<'a> {
    network: &'a Network,
    node: &'a Node,
    now: u64,
}

/// Handles a `/storage_rpc/v1` body.
pub fn handle(network: &Network, node: &Node, now: u64, body: &[u8]) -> Reply {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Reply::error(400, "invalid json");
    };
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return Reply::invalid("missing method");
    };
    let params = match request.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Reply::invalid("params must be an object"),
    };
    let ctx = Ctx { network, node, now };
    match method {
        "batch" => batch(&ctx, &params, false),
        "sequence" => batch(&ctx, &params, true),
        _ => dispatch(&ctx, method, &params),
    }
}

fn dispatch(ctx: &Ctx<'_>, method: &str, params: &Params) -> Reply {
    let result = match method {
        "store" => store(ctx, params),
        "retrieve" => retrieve(ctx, params),
        "delete" => delete(ctx, params),
        "delete_all" => delete_all(ctx, params, false),
        "delete_before" => delete_all(ctx, params, true),
        "expire" => expire(ctx, params),
        "expire_all" => expire_all(ctx, params),
        "get_expiries" => get_expiries(ctx, params),
        "get_swarm" | "get_snodes_for_pubkey" => get_swarm(ctx, params),
        "info" => Ok(Reply::json(200, json!({ "version": crate::VERSION, "timestamp": ctx.now }), ctx.now)),
        "oxend_request" => oxend_request(ctx, params),
        "batch" | "sequence" | "ifelse" => Err(Reply::invalid(format!("{method} cannot be nested"))),
        other => Err(Reply::error(400, format!("no method {other}"))),
    };
    result.unwrap_or_else(|reply| reply)
}

fn batch(ctx: &Ctx<'_>, params: &Params, sequence: bool) -> Reply {
    let Some(Value::Array(requests)) = params.get("requests") else {
        return Reply::invalid("requests must be a list");
    };
    if requests.is_empty() || requests.len() > MAX_SUBREQUESTS {
        return Reply::invalid(format!("batch needs 1 to {MAX_SUBREQUESTS} subrequests"));
    }
    let mut results = Vec::with_capacity(requests.len());
    for sub in requests {
        let reply = match sub {
            Value::Object(sub) => match sub.get("method").and_then(Value::as_str) {
                Some(method) => {
                    let params = match sub.get("params") {
                        None | Some(Value::Null) => Ok(Map::new()),
                        Some(Value::Object(p)) => Ok(p.clone()),
                        Some(_) => Err(Reply::invalid("params must be an object")),
                    };
                    match params {
                        Ok(params) => dispatch(ctx, method, &params),
                        Err(reply) => reply,
                    }
                }
                None => Reply::invalid("subrequest without method"),
            },
            _ => Reply::invalid("subrequest is not an object"),
        };
        let body = match serde_json::from_str::<Value>(&reply.body) {
            Ok(v) if reply.is_success() || reply.status == 421 => v,
            _ => Value::String(reply.body.clone()),
        };
        results.push(json!({ "code": reply.status, "body": body }));
        if sequence && !reply.is_success() {
            break;
        }
    }
    Reply::json(200, json!({ "results": results }), ctx.now)
}

// ---- parameter parsing ----

fn pubkey(params: &Params) -> Result<SessionId> {
    let text = params
        .get("pubkey")
        .or_else(|| params.get("pubKey"))
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::invalid("Required field 'pubkey' missing"))?;
    text.parse().map_err(|e| Reply::invalid(format!("invalid pubkey: {e}")))
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn millis(params: &Params, field: &'static str) -> Result<Option<u64>> {
    let Some(value) = params.get(field) else { return Ok(None) };
    let n = integer(value).ok_or_else(|| Reply::invalid(format!("{field} must be an integer")))?;
    let n = u64::try_from(n).map_err(|_| Reply::invalid(format!("{field} must not be negative")))?;
    if n < 1_000_000_000 {
        return Err(Reply::invalid(format!("{field} must be in milliseconds")));
    }
    Ok(Some(n))
}

fn required_millis(params: &Params, field: &'static str) -> Result<u64> {
    millis(params, field)?.ok_or_else(|| Reply::invalid(format!("Required field '{field}' missing")))
}

fn namespace(params: &Params) -> Result<Namespace> {
    match params.get("namespace") {
        None => Ok(Namespace::DEFAULT),
        Some(v) => integer(v)
            .and_then(|n| i16::try_from(n).ok())
            .map(Namespace)
            .ok_or_else(|| Reply::invalid("namespace must be an integer from -32768 to 32767")),
    }
}

fn namespace_selector(params: &Params) -> Result<NamespaceSelector> {
    match params.get("namespace") {
        Some(Value::String(s)) if s == "all" => Ok(NamespaceSelector::All),
        _ => namespace(params).map(NamespaceSelector::One),
    }
}

fn hashes(params: &Params) -> Result<Vec<String>> {
    let Some(Value::Array(list)) = params.get("messages") else {
        return Err(Reply::invalid("messages must be a list of hashes"));
    };
    if list.is_empty() {
        return Err(Reply::invalid("messages must not be empty"));
    }
    list.iter()
        .map(|h| match h.as_str() {
            Some(h) if is_message_hash(h) => Ok(h.to_owned()),
            _ => Err(Reply::invalid("Invalid message hash: expected base64 (43 chars)")),
        })
        .collect()
}

fn check_clock(now: u64, timestamp: u64, message: &str) -> Result<()> {
    if now.abs_diff(timestamp) > SIGNATURE_TOLERANCE_MS {
        return Err(Reply::error(406, message.to_owned()));
    }
    Ok(())
}

/// Checks `signature` (and `pubkey_ed25519`) over `to_sign`; `what` names the method in errors.
fn check_signature(pk: &SessionId, params: &Params, to_sign: &[u8], what: &str) -> Result<()> {
    let signature = match params.get("signature") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::String(_)) => return Err(Reply::invalid("signature must not be empty")),
        Some(_) => return Err(Reply::invalid("signature must be a string")),
        None => return Err(Reply::invalid("Required field 'signature' missing")),
    };
    let ed25519 = match params.get("pubkey_ed25519") {
        None => None,
        Some(v) => {
            let mut key = [0u8; 32];
            let text = v.as_str().ok_or_else(|| Reply::invalid("invalid pubkey_ed25519"))?;
            hex::decode_to_slice(text, &mut key).map_err(|_| Reply::invalid("invalid pubkey_ed25519"))?;
            Some(key)
        }
    };
    match verify_request(pk, ed25519.as_ref(), to_sign, signature) {
        Ok(()) => Ok(()),
        Err(SignatureError::Malformed) => Err(Reply::invalid("invalid signature: expected base64 of 64 bytes")),
        Err(_) => Err(Reply::error(401, format!("{what} signature verification failed"))),
    }
}

/// 421 unless this node is in the pubkey's swarm.
fn check_swarm(ctx: &Ctx<'_>, pk: &SessionId) -> Result<()> {
    match ctx.network.swarm_of(pk) {
        Some(id) if id == ctx.node.info.swarm_id => Ok(()),
        Some(id) => Err(Reply::json(421, ctx.network.swarm_json(id), ctx.now)),
        None => Err(Reply::error(503, "Service node is not ready")),
    }
}

fn db_error(e: rusqlite::Error) -> Reply {
    tracing::error!(error = %e, "database error");
    Reply::error(500, "internal database error")
}

/// Runs `apply` on every member of this node's swarm that is up, and collects the per-member
/// results as the `swarm` object of a recursive method.
fn on_swarm(ctx: &Ctx<'_>, mut apply: impl FnMut(&Node) -> Result<Value>) -> Result<Value> {
    let mut swarm = Map::new();
    for member in ctx.network.members(ctx.node.info.swarm_id) {
        let key = hex::encode(member.info.ed25519);
        if !member.is_up() {
            swarm.insert(key, json!({ "failed": true, "timeout": true }));
            continue;
        }
        match apply(member) {
            Ok(v) => swarm.insert(key, v),
            Err(reply) => swarm.insert(key, json!({ "failed": true, "code": reply.status, "reason": reply.body })),
        };
    }
    Ok(Value::Object(swarm))
}

/// The reply of a recursive method: `{"swarm": {member: result}}`.
fn swarm_reply(ctx: &Ctx<'_>, apply: impl FnMut(&Node) -> Result<Value>) -> Result<Reply> {
    let swarm = on_swarm(ctx, apply)?;
    Ok(Reply::json(200, json!({ "swarm": swarm }), ctx.now))
}

fn sign_b64(node: &Node, msg: &[u8]) -> String {
    STANDARD.encode(node.sign(msg))
}

// ---- methods ----

fn store(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let ns = namespace(params)?;
    let timestamp = required_millis(params, "timestamp")?;
    let expiry = match (params.get("ttl"), millis(params, "expiry")?) {
        (Some(ttl), None) => {
            let ttl = integer(ttl).and_then(|t| u64::try_from(t).ok()).ok_or_else(|| Reply::invalid("invalid ttl"))?;
            timestamp.saturating_add(ttl)
        }
        (None, Some(expiry)) => expiry,
        _ => return Err(Reply::invalid("exactly one of ttl or expiry is required")),
    };
    let data_b64 =
        params.get("data").and_then(Value::as_str).ok_or_else(|| Reply::invalid("Required field 'data' missing"))?;
    let too_long = || Reply::invalid(format!("Message body exceeds maximum allowed length of {MAX_MESSAGE_LEN} bytes"));
    if data_b64.len() > MAX_MESSAGE_LEN.div_ceil(3) * 4 {
        return Err(too_long());
    }
    let data = STANDARD
        .decode(data_b64)
        .or_else(|_| STANDARD_NO_PAD.decode(data_b64))
        .map_err(|_| Reply::invalid("data must be base64"))?;
    if data.len() > MAX_MESSAGE_LEN {
        return Err(too_long());
    }
    if timestamp > ctx.now + STORE_FUTURE_TOLERANCE_MS || expiry + STORE_FUTURE_TOLERANCE_MS < ctx.now {
        return Err(Reply::error(406, "Timestamp error: check your clock"));
    }
    let ttl = expiry.saturating_sub(timestamp);
    if expiry < timestamp || ttl < MIN_TTL_MS || ttl > ns.max_ttl_ms() {
        return Err(Reply::error(403, "Provided expiry/TTL is not valid."));
    }
    if ns.store_needs_signature() {
        if !params.contains_key("signature") {
            return Err(Reply::error(401, format!("store: signature required to store to namespace {}", ns.0)));
        }
        let sig_timestamp = millis(params, "sig_timestamp")?.unwrap_or(timestamp);
        check_clock(ctx.now, sig_timestamp, "store signature timestamp too far from current time")?;
        check_signature(&pk, params, &to_sign::store(ns, sig_timestamp), "store")?;
    }

    let owner = pk.to_bytes();
    let hash = message_hash(&owner, ns, &data);
    let message = NewMessage { pubkey: &owner, namespace: ns.0, hash: &hash, data: &data, timestamp, expiry };
    let swarm = on_swarm(ctx, |member| {
        let store = member.store();
        let inserted = store.insert(&message).map_err(db_error)?;
        if ns.is_public_outbox() {
            store.keep_only(&owner, ns.0, &hash).map_err(db_error)?;
        }
        let expiry = store.expiry_of(&hash).map_err(db_error)?.unwrap_or(expiry);
        let mut result = json!({ "hash": hash, "signature": sign_b64(member, hash.as_bytes()), "expiry": expiry });
        if !inserted {
            result["already"] = json!(true);
        }
        Ok(result)
    })?;
    Ok(Reply::json(200, json!({ "hash": hash, "swarm": swarm }), ctx.now))
}

fn retrieve(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let ns = namespace(params)?;
    let has_auth = ["timestamp", "pubkey_ed25519", "signature"].iter().any(|f| params.contains_key(*f));
    if !has_auth && ns.retrieve_needs_signature() {
        return Err(Reply::error(401, "retrieve: request signature required"));
    }
    if has_auth {
        let timestamp = required_millis(params, "timestamp")?;
        if !params.contains_key("signature") {
            return Err(Reply::invalid("Required field 'signature' missing"));
        }
        check_clock(ctx.now, timestamp, "retrieve timestamp too far from current time")?;
        check_signature(&pk, params, &to_sign::retrieve(ns, timestamp), "retrieve")?;
    }
    let last_hash = match params.get("last_hash").or_else(|| params.get("lastHash")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if is_message_hash(s) => Some(s.as_str()),
        Some(_) => return Err(Reply::invalid("Invalid last_hash: expected base64 (43 chars)")),
    };
    let max_count = match params.get("max_count") {
        None => usize::MAX,
        Some(v) => integer(v)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| Reply::invalid("max_count must be a positive integer"))?,
    };
    let max_size = match params.get("max_size").map(integer) {
        None if params.contains_key("max_count") => MAX_RETRIEVE_SIZE,
        None => MAX_RETRIEVE_SIZE / 5,
        Some(Some(n)) if n < 0 => MAX_RETRIEVE_SIZE / usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX),
        Some(Some(n)) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_RETRIEVE_SIZE),
        Some(_) => return Err(Reply::invalid("max_size must be a non-zero integer")),
    };
    let (messages, more) =
        ctx.node.store().retrieve(&pk.to_bytes(), ns.0, last_hash, ctx.now, max_count, max_size).map_err(db_error)?;
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            json!({ "hash": m.hash, "timestamp": m.timestamp, "expiration": m.expiry, "data": STANDARD.encode(m.data) })
        })
        .collect();
    Ok(Reply::json(200, json!({ "messages": messages, "more": more }), ctx.now))
}

fn delete(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let hashes = hashes(params)?;
    check_signature(&pk, params, &to_sign::delete(&hashes), "delete")?;
    let required = params.get("required").and_then(Value::as_bool).unwrap_or(false);
    let owner = pk.to_bytes();
    let pk_hex = pk.to_string();
    let mut any = false;
    let swarm = on_swarm(ctx, |member| {
        let deleted = member.store().delete(&owner, &hashes).map_err(db_error)?;
        any |= !deleted.is_empty();
        let signed = [pk_hex.clone(), hashes.concat(), deleted.concat()].concat();
        Ok(json!({ "deleted": deleted, "signature": sign_b64(member, signed.as_bytes()) }))
    })?;
    if required && !any {
        return Err(Reply::error(404, "no messages deleted"));
    }
    Ok(Reply::json(200, json!({ "swarm": swarm }), ctx.now))
}

fn delete_all(ctx: &Ctx<'_>, params: &Params, before_mode: bool) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let selector = namespace_selector(params)?;
    let (stamp, before) = if before_mode {
        let before = required_millis(params, "before")?;
        if before > ctx.now + SIGNATURE_TOLERANCE_MS {
            return Err(Reply::error(406, "delete_before timestamp too far in the future"));
        }
        check_signature(&pk, params, &to_sign::delete_before(selector, before), "delete_before")?;
        (before, Some(before))
    } else {
        let timestamp = required_millis(params, "timestamp")?;
        check_clock(ctx.now, timestamp, "delete_all timestamp too far from current time")?;
        check_signature(&pk, params, &to_sign::delete_all(selector, timestamp), "delete_all")?;
        (timestamp, None)
    };
    let ns = selector.namespace().map(|n| n.0);
    let owner = pk.to_bytes();
    let pk_hex = pk.to_string();
    swarm_reply(ctx, |member| {
        let deleted = member.store().delete_where(&owner, ns, before).map_err(db_error)?;
        let all_hashes: String = deleted.iter().map(|(_, h)| h.as_str()).collect();
        let signed = format!("{pk_hex}{stamp}{all_hashes}");
        let listed = match selector {
            NamespaceSelector::One(_) => json!(deleted.iter().map(|(_, h)| h).collect::<Vec<_>>()),
            NamespaceSelector::All => {
                let mut by_ns: Map<String, Value> = Map::new();
                for (n, h) in &deleted {
                    if let Value::Array(list) = by_ns.entry(n.to_string()).or_insert_with(|| json!([])) {
                        list.push(json!(h));
                    }
                }
                Value::Object(by_ns)
            }
        };
        Ok(json!({ "deleted": listed, "signature": sign_b64(member, signed.as_bytes()) }))
    })
}

fn expire(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let hashes = hashes(params)?;
    let shorten = params.get("shorten").and_then(Value::as_bool).unwrap_or(false);
    let extend = params.get("extend").and_then(Value::as_bool).unwrap_or(false);
    if shorten && extend {
        return Err(Reply::invalid("shorten and extend are mutually exclusive"));
    }
    let expiry = required_millis(params, "expiry")?;
    if expiry + SIGNATURE_TOLERANCE_MS < ctx.now {
        return Err(Reply::error(406, "expiry timestamp too far in the past"));
    }
    let mode = if shorten {
        ExpireMode::Shorten
    } else if extend {
        ExpireMode::Extend
    } else {
        ExpireMode::Set
    };
    check_signature(&pk, params, &to_sign::expire(mode, &[expiry], &hashes), "expire")?;
    let expiry = expiry.min(ctx.now + MAX_PRIVATE_TTL_MS);
    let owner = pk.to_bytes();
    let pk_hex = pk.to_string();
    swarm_reply(ctx, |member| {
        let results = member.store().set_expiry(&owner, &hashes, expiry, shorten, extend).map_err(db_error)?;
        let updated: Vec<&str> = results.iter().filter(|r| r.2).map(|r| r.0.as_str()).collect();
        let mut out = json!({
            "updated": updated,
            "expiry": expiry,
            "signature": sign_b64(member, format!("{pk_hex}{expiry}{}{}", hashes.concat(), updated.concat()).as_bytes()),
        });
        if shorten || extend {
            let unchanged: Map<String, Value> =
                results.iter().filter(|r| !r.2).map(|r| (r.0.clone(), json!(r.1))).collect();
            out["unchanged"] = Value::Object(unchanged);
        }
        Ok(out)
    })
}

fn expire_all(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let selector = namespace_selector(params)?;
    let expiry = required_millis(params, "expiry")?;
    if expiry + SIGNATURE_TOLERANCE_MS < ctx.now {
        return Err(Reply::error(406, "expiry timestamp too far in the past"));
    }
    check_signature(&pk, params, &to_sign::expire_all(selector, expiry), "expire_all")?;
    let ns = selector.namespace().map(|n| n.0);
    let owner = pk.to_bytes();
    let pk_hex = pk.to_string();
    swarm_reply(ctx, |member| {
        let updated = member.store().shorten_all(&owner, ns, expiry).map_err(db_error)?;
        let signed = format!("{pk_hex}{expiry}{}", updated.concat());
        Ok(json!({ "updated": updated, "signature": sign_b64(member, signed.as_bytes()) }))
    })
}

fn get_expiries(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    check_swarm(ctx, &pk)?;
    let hashes = hashes(params)?;
    let timestamp = required_millis(params, "timestamp")?;
    check_clock(ctx.now, timestamp, "get_expiries timestamp too far from current time")?;
    check_signature(&pk, params, &to_sign::get_expiries(timestamp, &hashes), "get_expiries")?;
    let store = ctx.node.store();
    let mut expiries = Map::new();
    for h in &hashes {
        if let Some(e) = store.expiry_of(h).map_err(db_error)?.filter(|&e| e > ctx.now) {
            expiries.insert(h.clone(), json!(e));
        }
    }
    Ok(Reply::json(200, json!({ "expiries": expiries }), ctx.now))
}

fn get_swarm(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    let pk = pubkey(params)?;
    let id = ctx.network.swarm_of(&pk).ok_or_else(|| Reply::error(503, "Service node is not ready"))?;
    Ok(Reply::json(200, ctx.network.swarm_json(id), ctx.now))
}

fn oxend_request(ctx: &Ctx<'_>, params: &Params) -> Result<Reply> {
    match params.get("endpoint").and_then(Value::as_str) {
        Some("get_service_nodes") | Some("get_n_service_nodes") => {
            let fields = params.get("params").and_then(|p| p.get("fields")).and_then(Value::as_object);
            let states: Vec<Value> = ctx.network.nodes().iter().map(|n| n.info.service_node_state(fields)).collect();
            let result = json!({ "service_node_states": states, "height": 1, "status": "OK" });
            Ok(Reply::json(200, json!({ "result": result }), ctx.now))
        }
        Some(other) => Err(Reply::invalid(format!("unsupported oxend endpoint {other}"))),
        None => Err(Reply::invalid("Required field 'endpoint' missing")),
    }
}
