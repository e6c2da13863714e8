//! The storage RPC's messages (protocol-core §4.5) as typed structs: the requests a client sends
//! (`{"method", "params"}`) and the replies a node gives, with the real storage server's field
//! names and types.
//!
//! Nodes serialize the replies; clients read them with each reply's `parse`. Reading is lenient
//! where real servers vary: unknown fields are ignored, optional fields that are absent or of the
//! wrong type read as `None`, a list entry that does not read (a message, a swarm node) is left
//! out, and a swarm member whose answer does not read counts as failed. Only the fields a reply is
//! nothing without (`messages`, `snodes`, `swarm`, …) are required. Reading never panics.
//!
//! Fields are declared in alphabetical order: serialized, they come out in the order the real
//! server (whose JSON objects are sorted maps) writes them.

use core::fmt;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{Namespace, NamespaceSelector};

/// Why a reply could not be read: which reply, and where in the body (serde_json's line and
/// column, 1-based; 0 when the body ended early).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ReplyError {
    /// The body is not JSON, or is cut short.
    NotJson { reply: &'static str, line: usize, column: usize },
    /// The body is JSON but not this reply: a required field is missing or of the wrong type.
    Malformed { reply: &'static str, line: usize, column: usize },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::NotJson { reply, line, column } => {
                write!(f, "{reply} reply is not JSON (line {line}, column {column})")
            }
            ReplyError::Malformed { reply, line, column } => {
                write!(f, "{reply} reply is malformed (line {line}, column {column})")
            }
        }
    }
}

impl std::error::Error for ReplyError {}

fn parse_as<T: DeserializeOwned>(bytes: &[u8], reply: &'static str) -> Result<T, ReplyError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Data => ReplyError::Malformed { reply, line, column },
            _ => ReplyError::NotJson { reply, line, column },
        }
    })
}

/// Serializes a request or reply to its JSON value. Serializing these types cannot fail (every map
/// is keyed by strings); `Null` stands in should it ever.
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// ---- lenient readers ----

/// An optional field: absent, `null` or of the wrong type reads as `None`.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}

/// A flag: anything but `true` reads as `false`.
fn lenient_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)? == Value::Bool(true))
}

/// A required list whose entries that do not read are left out.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    let list = Vec::<Value>::deserialize(d)?;
    Ok(list.into_iter().filter_map(|v| T::deserialize(v).ok()).collect())
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

// ---- namespaces in params ----

impl Serialize for Namespace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i16(self.0)
    }
}

impl<'de> Deserialize<'de> for Namespace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i16::deserialize(d).map(Namespace)
    }
}

/// A number for one namespace, `"all"` for every namespace.
impl Serialize for NamespaceSelector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NamespaceSelector::One(ns) => ns.serialize(s),
            NamespaceSelector::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for NamespaceSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "all" => Ok(NamespaceSelector::All),
            v => Namespace::deserialize(v).map(NamespaceSelector::One).map_err(serde::de::Error::custom),
        }
    }
}

// ---- requests ----

fn default_namespace() -> Namespace {
    Namespace::DEFAULT
}

/// A storage RPC request: `{"method": <name>, "params": {…}}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Request {
    /// `batch`: the subrequests, possibly run in parallel.
    Batch(BatchParams),
    /// `delete`.
    Delete(DeleteParams),
    /// `delete_all`.
    DeleteAll(DeleteAllParams),
    /// `delete_before`.
    DeleteBefore(DeleteBeforeParams),
    /// `expire`.
    Expire(ExpireParams),
    /// `expire_all`.
    ExpireAll(ExpireAllParams),
    /// `get_expiries`.
    GetExpiries(GetExpiriesParams),
    /// `get_swarm` (alias `get_snodes_for_pubkey`).
    #[serde(alias = "get_snodes_for_pubkey")]
    GetSwarm(GetSwarmParams),
    /// `info`.
    Info(InfoParams),
    /// `oxend_request`.
    OxendRequest(OxendRequestParams),
    /// `retrieve`.
    Retrieve(RetrieveParams),
    /// `sequence`: the subrequests in order, stopping at the first failure.
    Sequence(BatchParams),
    /// `store`.
    Store(StoreParams),
}

impl Request {
    /// The request as a JSON value.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

/// `store`'s params. `data` is base64; exactly one of `ttl` and `expiry` is given; namespaces that
/// need a signature carry `signature` (and `sig_timestamp`, `pubkey_ed25519` for `05` IDs).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoreParams {
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<u64>,
    #[serde(default = "default_namespace")]
    pub namespace: Namespace,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig_timestamp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub timestamp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// `retrieve`'s params. An empty `last_hash` means from the beginning.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RetrieveParams {
    #[serde(default)]
    pub last_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    #[serde(default = "default_namespace")]
    pub namespace: Namespace,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

/// `delete`'s params: the hashes to delete; with `required`, a 404 when nothing was deleted.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeleteParams {
    pub messages: Vec<String>,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    pub signature: String,
}

/// `delete_all`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeleteAllParams {
    pub namespace: NamespaceSelector,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    pub signature: String,
    pub timestamp: u64,
}

/// `delete_before`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeleteBeforeParams {
    pub before: u64,
    pub namespace: NamespaceSelector,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    pub signature: String,
}

/// One expiry, or one per message (ms).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expiry {
    /// One expiry for every message.
    One(u64),
    /// One expiry per message (in a reply: per updated message).
    Each(Vec<u64>),
}

/// `expire`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpireParams {
    pub expiry: Expiry,
    #[serde(default, skip_serializing_if = "is_false")]
    pub extend: bool,
    pub messages: Vec<String>,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub shorten: bool,
    pub signature: String,
}

/// `expire_all`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpireAllParams {
    pub expiry: u64,
    pub namespace: NamespaceSelector,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    pub signature: String,
}

/// `get_expiries`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GetExpiriesParams {
    pub messages: Vec<String>,
    pub pubkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    pub signature: String,
    pub timestamp: u64,
}

/// `get_swarm`'s params.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GetSwarmParams {
    pub pubkey: String,
}

/// `info` has no params (`{}`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct InfoParams {}

/// `oxend_request`'s params: `endpoint` (`get_service_nodes`, `ons_resolve`) and the params passed
/// on to it.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct OxendRequestParams {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// `batch` and `sequence` params: 1 to 20 subrequests, none of them a batch or sequence.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct BatchParams {
    pub requests: Vec<Request>,
}

// ---- replies ----

/// The hardfork version nodes report: `[major, minor]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Hardfork(pub u32, pub u32);

/// One swarm member's answer to a recursive method (store, delete, expire, …).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(untagged)]
pub enum MemberResult<T> {
    /// The member did it and says what.
    Success(T),
    /// The member failed, or did not answer, or its answer does not read.
    Failed(MemberFailure),
}

impl<T> MemberResult<T> {
    /// The member's answer, if it succeeded.
    pub fn success(&self) -> Option<&T> {
        match self {
            MemberResult::Success(t) => Some(t),
            MemberResult::Failed(_) => None,
        }
    }
}

/// An answer with a `failed` key is a failure; any other answer that does not read as `T` is read
/// as a failure with `bad_peer_response`, as a real node reports a peer whose answer it cannot read.
impl<'de, T: DeserializeOwned> Deserialize<'de> for MemberResult<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let unreadable = || MemberFailure { bad_peer_response: true, ..MemberFailure::default() };
        if value.get("failed").is_some() {
            return Ok(MemberResult::Failed(MemberFailure::deserialize(value).unwrap_or_else(|_| unreadable())));
        }
        Ok(T::deserialize(value).map_or_else(|_| MemberResult::Failed(unreadable()), MemberResult::Success))
    }
}

/// Why a swarm member failed: `{"failed": true, …}` with `timeout` (it did not answer), `code` and
/// `reason` (its error status and text), `bad_peer_response` (its answer did not read) or
/// `query_failure` (its database failed).
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct MemberFailure {
    #[serde(default, deserialize_with = "lenient_flag")]
    pub bad_peer_response: bool,
    /// The member's HTTP status: the real server sends it as a string (`"401"`); a number is read
    /// too.
    #[serde(default, deserialize_with = "lenient_code")]
    pub code: Option<u16>,
    #[serde(default, deserialize_with = "lenient_flag")]
    pub query_failure: bool,
    #[serde(default, deserialize_with = "lenient")]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_flag")]
    pub timeout: bool,
}

impl MemberFailure {
    /// A member that did not answer.
    pub fn timeout() -> MemberFailure {
        MemberFailure { timeout: true, ..MemberFailure::default() }
    }

    /// A member that answered with an error status and text.
    pub fn error(code: u16, reason: impl Into<String>) -> MemberFailure {
        MemberFailure { code: Some(code), reason: Some(reason.into()), ..MemberFailure::default() }
    }
}

fn lenient_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    })
}

/// `failed: true` in its sorted place; `code` as the real server writes it, a string.
impl Serialize for MemberFailure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(skip_serializing_if = "is_false")]
            bad_peer_response: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<String>,
            failed: bool,
            #[serde(skip_serializing_if = "is_false")]
            query_failure: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<&'a str>,
            #[serde(skip_serializing_if = "is_false")]
            timeout: bool,
        }
        Wire {
            bad_peer_response: self.bad_peer_response,
            code: self.code.map(|c| c.to_string()),
            failed: true,
            query_failure: self.query_failure,
            reason: self.reason.as_deref(),
            timeout: self.timeout,
        }
        .serialize(s)
    }
}

/// `store`'s reply: the message's hash (also top-level, for backward compatibility) and each
/// member's answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoreReply {
    /// Empty when absent: the real server sets it only when the node asked stored the message.
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "String::is_empty")]
    pub hash: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Each member\'s answer, by its Ed25519 key in hex.
    pub swarm: BTreeMap<String, MemberResult<StoredMember>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl StoreReply {
    /// Reads a `store` reply.
    pub fn parse(bytes: &[u8]) -> Result<StoreReply, ReplyError> {
        parse_as(bytes, "store")
    }

    /// The stored message's hash: the top-level one, or else the first member's that stored it.
    pub fn stored_hash(&self) -> Option<&str> {
        if !self.hash.is_empty() {
            return Some(&self.hash);
        }
        self.swarm.values().filter_map(MemberResult::success).map(|m| m.hash.as_str()).next()
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    lenient(d).map(Option::unwrap_or_default)
}

/// A member's answer to `store`: the hash, its signature of the hash (base64 Ed25519 by the
/// member's key), the message's expiry, whether it already had it, and (from the node asked, on
/// the real server) its time.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoredMember {
    #[serde(default, deserialize_with = "lenient_flag", skip_serializing_if = "is_false")]
    pub already: bool,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub expiry: Option<u64>,
    pub hash: String,
    pub signature: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

/// `retrieve`'s reply: the messages in insertion order and whether there are more.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct RetrieveReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Entries that do not read as a message are left out.
    #[serde(deserialize_with = "lenient_list")]
    pub messages: Vec<RetrievedMessage>,
    #[serde(default, deserialize_with = "lenient_flag")]
    pub more: bool,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl RetrieveReply {
    /// Reads a `retrieve` reply.
    pub fn parse(bytes: &[u8]) -> Result<RetrieveReply, ReplyError> {
        parse_as(bytes, "retrieve")
    }
}

/// A stored message: its hash, `data` (base64), the sender's `timestamp` and its `expiration`
/// (ms; the key is `expiration`, not `expiry`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RetrievedMessage {
    pub data: String,
    pub expiration: u64,
    pub hash: String,
    pub timestamp: u64,
}

/// `get_swarm`'s reply, also the body of a 421: the swarm's nodes and its id in hex.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GetSwarmReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Entries that do not read as a node are left out.
    #[serde(deserialize_with = "lenient_list")]
    pub snodes: Vec<SwarmNode>,
    /// The swarm id: lower-case hex without zero padding.
    #[serde(default, deserialize_with = "lenient_string")]
    pub swarm: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl GetSwarmReply {
    /// Reads a `get_swarm` reply or a 421 body.
    pub fn parse(bytes: &[u8]) -> Result<GetSwarmReply, ReplyError> {
        parse_as(bytes, "get_swarm")
    }

    /// The swarm id, if `swarm` is hex of a u64.
    pub fn swarm_id(&self) -> Option<u64> {
        u64::from_str_radix(&self.swarm, 16).ok()
    }
}

/// A node in a `get_swarm` reply. `address` (base32z of the legacy key + `.snode`), `port` (a
/// string) and `pubkey_legacy` are deprecated.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SwarmNode {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub ip: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub port_https: Option<u16>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub port_omq: Option<u16>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub port_quic: Option<u16>,
    pub pubkey_ed25519: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub pubkey_legacy: Option<String>,
    pub pubkey_x25519: String,
}

impl SwarmNode {
    /// The HTTPS port: `port_https`, or else the deprecated string `port`; never 0.
    pub fn https_port(&self) -> Option<u16> {
        self.port_https.or_else(|| self.port.as_deref().and_then(|p| p.parse().ok())).filter(|&p| p != 0)
    }
}

/// `info`'s reply: the server's version and its time.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct InfoReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub version: Option<[u32; 3]>,
}

impl InfoReply {
    /// Reads an `info` reply.
    pub fn parse(bytes: &[u8]) -> Result<InfoReply, ReplyError> {
        parse_as(bytes, "info")
    }
}

/// The hashes a member deleted or updated: a sorted list, or (for `"all"` namespaces) sorted lists
/// by namespace (the namespace in decimal).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Affected {
    /// One namespace.
    List(Vec<String>),
    /// Every namespace.
    ByNamespace(BTreeMap<String, Vec<String>>),
}

/// `delete`, `delete_all` and `delete_before`'s reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeleteReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Each member\'s answer, by its Ed25519 key in hex.
    pub swarm: BTreeMap<String, MemberResult<DeletedMember>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl DeleteReply {
    /// Reads a `delete`, `delete_all` or `delete_before` reply.
    pub fn parse(bytes: &[u8]) -> Result<DeleteReply, ReplyError> {
        parse_as(bytes, "delete")
    }
}

/// A member's answer to a delete: what it deleted, and its signature over
/// `pubkey ‖ (requested hashes | timestamp) ‖ deleted hashes`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeletedMember {
    pub deleted: Affected,
    pub signature: String,
}

/// `expire_all`'s reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpireAllReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Each member\'s answer, by its Ed25519 key in hex.
    pub swarm: BTreeMap<String, MemberResult<ExpiredAllMember>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl ExpireAllReply {
    /// Reads an `expire_all` reply.
    pub fn parse(bytes: &[u8]) -> Result<ExpireAllReply, ReplyError> {
        parse_as(bytes, "expire_all")
    }
}

/// A member's answer to `expire_all`: the messages it shortened and its signature over
/// `pubkey ‖ expiry ‖ updated hashes`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpiredAllMember {
    pub signature: String,
    pub updated: Affected,
}

/// `expire`'s reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpireReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    /// Each member\'s answer, by its Ed25519 key in hex.
    pub swarm: BTreeMap<String, MemberResult<ExpiredMember>>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl ExpireReply {
    /// Reads an `expire` reply.
    pub fn parse(bytes: &[u8]) -> Result<ExpireReply, ReplyError> {
        parse_as(bytes, "expire")
    }
}

/// A member's answer to `expire`: the expiry it applied (one, or one per updated message), the
/// hashes it updated (sorted), with `shorten`/`extend` the messages it left and their expiries, and
/// its signature.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExpiredMember {
    pub expiry: Expiry,
    pub signature: String,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<BTreeMap<String, u64>>,
    pub updated: Vec<String>,
}

/// `get_expiries`'s reply: the expiry of each asked-for message the node holds (the real server
/// sends no `t` or `hf` here).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GetExpiriesReply {
    pub expiries: BTreeMap<String, u64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl GetExpiriesReply {
    /// Reads a `get_expiries` reply.
    pub fn parse(bytes: &[u8]) -> Result<GetExpiriesReply, ReplyError> {
        parse_as(bytes, "get_expiries")
    }
}

/// `oxend_request` `get_service_nodes`'s reply: oxend's result.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GetServiceNodesReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    pub result: ServiceNodes,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl GetServiceNodesReply {
    /// Reads an `oxend_request` `get_service_nodes` reply.
    pub fn parse(bytes: &[u8]) -> Result<GetServiceNodesReply, ReplyError> {
        parse_as(bytes, "get_service_nodes")
    }
}

/// oxend's `get_service_nodes` result.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServiceNodes {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Entries that do not read as a node are left out.
    #[serde(deserialize_with = "lenient_list")]
    pub service_node_states: Vec<ServiceNodeState>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One node in oxend's list, with the fields asked for (each is optional: only the requested
/// `fields` are sent).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ServiceNodeState {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub funded: Option<bool>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub pubkey_x25519: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub requested_unlock_height: Option<u64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub service_node_pubkey: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub storage_https_port: Option<u16>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub storage_lmq_port: Option<u16>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub storage_port: Option<u16>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub storage_server_version: Option<[u32; 3]>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub swarm: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub swarm_id: Option<u64>,
}

/// `batch` and `sequence`'s reply: one result per subrequest run (the real server sends no `t` or
/// `hf` here).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct BatchReply {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub hf: Option<Hardfork>,
    pub results: Vec<BatchResult>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

impl BatchReply {
    /// Reads a `batch` or `sequence` reply.
    pub fn parse(bytes: &[u8]) -> Result<BatchReply, ReplyError> {
        parse_as(bytes, "batch")
    }
}

/// A subrequest's status and body: the reply embedded as JSON when it is JSON, else its text.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct BatchResult {
    #[serde(default)]
    pub body: Value,
    pub code: u16,
}

impl BatchResult {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The body as the bytes a reply's `parse` reads: embedded JSON re-serialized, text as it is.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Value::String(text) => text.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        }
    }
}
