//! A community server: the SOGS v4 API as the real server (session-pysogs) answers it
//! (protocol-communities §4–§5, §9), through v4 onion requests (`POST /oxen/v4/lsrpc`, whose body
//! the last hop of a path POSTs) and over plain HTTP on its own port, as the real one is reached.
//!
//! Rooms, messages (each with the room's event counter `seqno`; edits, deletions and reactions
//! take a new one, a deletion keeps a tombstone), reactions, pins, room files (an hour until a
//! post links them, then 15 days; a pinned post's and the room image's never expire), blinded DMs
//! (inbox/outbox, 15 days), global and per-room moderators, admins and bans live in SQLite
//! ([`db`]); the endpoints are in [`api`]. Requests are authenticated by the `X-SOGS-*` headers
//! ([`auth`]): blinded `15` keys always, unblinded `00` keys only with
//! [`SogsConfig::accept_unblinded`] (the real server's `REQUIRE_BLIND_KEYS = False`).
//!
//! Answers are the real server's, byte for byte where it is deterministic: JSON as Flask's
//! `jsonify` writes it (compact, keys sorted, non-ASCII escaped, a final newline) or, for messages
//! and batches, as Python's `json.dumps` does (`, ` and `: `, keys in the server's order); plain
//! `abort`s as Werkzeug's HTML pages; authentication and permission reasons as `text/plain`; the
//! model's errors (`Permission denied`, `No such post: 5`, `Rate limited`) as Flask returns a
//! string. A server that names a moderator or ban by Session ID (`05…`) hands it to that account's
//! `15` id when that first signs a request, as the real server does.

pub mod api;
pub mod auth;
pub mod db;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use crypto_core::identity::Identity;
use crypto_core::onion::{MAX_BODY_LEN, server, v4};
use rand_core::OsRng;
use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::wsgi::Headers;

/// The devnet community server's default port.
pub const DEFAULT_PORT: u16 = 22025;
/// Largest room file (`UPLOAD_FILE_MAX_SIZE`).
pub const MAX_FILE_SIZE: usize = 10_000_000;
/// How long an upload lives until a post links it (1 h).
pub const UPLOAD_EXPIRY: f64 = 3600.0;
/// How long a linked upload lives (`UPLOAD_DEFAULT_EXPIRY`, 15 days).
pub const LINKED_EXPIRY: f64 = 15.0 * 86400.0;
/// How long a DM waits in an inbox (`DM_EXPIRY`, 15 days).
pub const DM_EXPIRY: f64 = 15.0 * 86400.0;
/// Users active within this long count in `active_users` (`ROOM_DEFAULT_ACTIVE_THRESHOLD`, 7 days).
pub const ACTIVE_CUTOFF: i64 = 7 * 86400;

/// The most a plain-HTTP request body is read.
const READ_LIMIT: usize = 16 * 1024 * 1024;

/// The community server's options.
#[derive(Clone, Debug)]
pub struct SogsConfig {
    /// Accept unblinded `00` keys (`REQUIRE_BLIND_KEYS = False`); off by default, and then the
    /// server also leaves `blind` out of its capabilities.
    pub accept_unblinded: bool,
    /// Posts a non-admin may make in a room per [`SogsConfig::rate_window`] (5).
    pub rate_posts: u32,
    /// The rate limit's window, in seconds (16).
    pub rate_window: f64,
    /// Largest room file.
    pub max_file_size: usize,
}

impl Default for SogsConfig {
    fn default() -> SogsConfig {
        SogsConfig { accept_unblinded: false, rate_posts: 5, rate_window: 16.0, max_file_size: MAX_FILE_SIZE }
    }
}

fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A JSON value as Python holds it: dicts keep their order. Written as Flask's `jsonify` writes
/// it ([`Py::jsonify`]) or as `json.dumps` does ([`Py::dumps`]).
#[derive(Clone, PartialEq, Debug)]
pub enum Py {
    /// `None`.
    Null,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A list.
    List(Vec<Py>),
    /// A dict, in its order.
    Dict(Vec<(String, Py)>),
}

impl Py {
    /// A dict from `(key, value)` pairs.
    pub fn dict<const N: usize>(pairs: [(&str, Py); N]) -> Py {
        Py::Dict(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A str.
    pub fn str(s: impl Into<String>) -> Py {
        Py::Str(s.into())
    }

    /// Inserts or replaces `key` of a dict (at the end when new).
    pub fn set(&mut self, key: &str, value: Py) {
        if let Py::Dict(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => pairs.push((key.to_owned(), value)),
            }
        }
    }

    /// `key` of a dict.
    pub fn get(&self, key: &str) -> Option<&Py> {
        match self {
            Py::Dict(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn sorted(&self) -> Py {
        match self {
            Py::List(items) => Py::List(items.iter().map(Py::sorted).collect()),
            Py::Dict(pairs) => {
                let mut pairs: Vec<(String, Py)> = pairs.iter().map(|(k, v)| (k.clone(), v.sorted())).collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                Py::Dict(pairs)
            }
            other => other.clone(),
        }
    }

    fn write(&self, out: &mut String, compact: bool) {
        let (comma, colon) = if compact { (",", ":") } else { (", ", ": ") };
        match self {
            Py::Null => out.push_str("null"),
            Py::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Py::Int(i) => out.push_str(&i.to_string()),
            Py::Float(f) => out.push_str(&python_float(*f)),
            Py::Str(s) => write_str(out, s),
            Py::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(comma);
                    }
                    item.write(out, compact);
                }
                out.push(']');
            }
            Py::Dict(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(comma);
                    }
                    write_str(out, k);
                    out.push_str(colon);
                    v.write(out, compact);
                }
                out.push('}');
            }
        }
    }

    /// As Flask's `jsonify`: compact, keys sorted, a final newline.
    pub fn jsonify(&self) -> String {
        let mut out = String::new();
        self.sorted().write(&mut out, true);
        out.push('\n');
        out
    }

    /// As Python's `json.dumps`: `, ` and `: `, keys in order.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, false);
        out
    }
}

impl From<&Value> for Py {
    fn from(value: &Value) -> Py {
        match value {
            Value::Null => Py::Null,
            Value::Bool(b) => Py::Bool(*b),
            Value::Number(n) => n.as_i64().map_or_else(|| Py::Float(n.as_f64().unwrap_or(0.0)), Py::Int),
            Value::String(s) => Py::Str(s.clone()),
            Value::Array(items) => Py::List(items.iter().map(Py::from).collect()),
            Value::Object(map) => Py::Dict(map.iter().map(|(k, v)| (k.clone(), Py::from(v))).collect()),
        }
    }
}

/// A float as Python's `repr` writes it (for the values a server has: finite, not huge).
fn python_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let text = serde_json::Number::from_f64(f).map_or_else(|| "0.0".to_owned(), |n| n.to_string());
    // ryu writes exponents as `e16`/`e-7`; Python as `e+16`/`e-07`.
    match text.split_once('e') {
        Some((mantissa, exp)) => {
            let exp = exp.strip_prefix('+').unwrap_or(exp);
            let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// A string as `json.dumps` writes it with `ensure_ascii`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
/// `\f`, and every other character outside ` `..`~` as `\uXXXX` (surrogate pairs beyond the BMP).
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// An answer: status, headers (lower-case names, in the order Flask sends them), body, and, for
/// a JSON body, the value (which a batch embeds as it is).
#[derive(Clone, PartialEq, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, without `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The body's value when it is JSON.
    pub json: Option<Py>,
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply { status, headers: vec![("content-type".into(), content_type.to_owned())], body: body.into(), json: None }
    }

    /// `jsonify(value)`, with `status`.
    pub fn jsonify(status: u16, value: Py) -> Reply {
        Reply { json: Some(value.clone()), ..Reply::new(status, JSON, value.jsonify()) }
    }

    /// `jsonify(value)`, 200.
    pub fn ok(value: Py) -> Reply {
        Reply::jsonify(200, value)
    }

    /// `jsonify_with_base64(value)` (`json.dumps`), with `status`.
    pub fn dumps(status: u16, value: Py) -> Reply {
        Reply { json: Some(value.clone()), ..Reply::new(status, JSON, value.dumps()) }
    }

    /// `abort_with_reason(status, text)`: `text/plain`.
    pub fn reason(status: u16, text: &str) -> Reply {
        Reply::new(status, TEXT, text)
    }

    /// A model exception turned into a reply (`return str(e), status`): `text/html`.
    pub fn model(status: u16, text: &str) -> Reply {
        Reply::new(status, HTML, text)
    }

    /// `BadPermission()`: 403 `Permission denied`.
    pub fn permission_denied() -> Reply {
        Reply::model(403, "Permission denied")
    }

    /// Werkzeug's HTML error page for a plain `abort(status)`.
    pub fn abort(status: u16) -> Reply {
        let (name, description) = match status {
            400 => ("Bad Request", "The browser (or proxy) sent a request that this server could not understand."),
            401 => (
                "Unauthorized",
                "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
            ),
            403 => (
                "Forbidden",
                "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
            ),
            404 => (
                "Not Found",
                "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
            ),
            405 => ("Method Not Allowed", "The method is not allowed for the requested URL."),
            406 => (
                "Not Acceptable",
                "The resource identified by the request is only capable of generating response entities which have content characteristics not acceptable according to the accept headers sent in the request.",
            ),
            413 => ("Request Entity Too Large", "The data value transmitted exceeds the capacity limit."),
            429 => ("Too Many Requests", "This user has exceeded an allotted request count. Try again later."),
            _ => (
                "Internal Server Error",
                "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.",
            ),
        };
        let status = if matches!(status, 400 | 401 | 403 | 404 | 405 | 406 | 413 | 429) { status } else { 500 };
        let body = format!(
            "<!doctype html>\n<html lang=en>\n<title>{status} {name}</title>\n<h1>{name}</h1>\n<p>{description}</p>\n"
        );
        Reply::new(status, HTML, body)
    }

    /// Flask's 500 page (an uncaught exception).
    pub fn internal() -> Reply {
        Reply::abort(500)
    }

    /// 304 with an empty body.
    pub fn not_modified() -> Reply {
        Reply { status: 304, headers: Vec::new(), body: Vec::new(), json: None }
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Whoever a request is authenticated as.
#[derive(Clone, Debug)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// `15…` (blinded) or `05…` (from an unblinded `00` key).
    pub session_id: String,
}

impl User {
    fn blinded(&self) -> bool {
        self.session_id.starts_with("15")
    }
}

/// A room token: 1–64 of `[0-9A-Za-z_-]` (the real server's converter takes any word character;
/// a room is made only with these).
pub fn valid_token(token: &str) -> bool {
    (1..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Where a moderator change applies.
#[derive(Clone, Debug)]
pub enum Scope {
    /// These rooms.
    Rooms(Vec<String>),
    /// The whole server.
    Global,
}

/// The community server: its key pair and its rooms.
pub struct Community {
    identity: Identity,
    db: Mutex<Connection>,
    config: SogsConfig,
}

impl fmt::Debug for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Community")
            .field("x25519", &hex::encode(self.identity.x25519_public()))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Community {
    /// Opens (or creates) a community server in `dir`: `ed25519.key` (its 32-byte seed, whose
    /// X25519 key is the server's public key) and `sogs.sqlite`.
    pub fn open(dir: &Path, config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let seed = crate::network::load_or_create_seed(&dir.join("ed25519.key"))?;
        let path = dir.join("sogs.sqlite");
        let conn = Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        // With a write-ahead log, `NORMAL` never corrupts the database; a power cut may lose the
        // last commits. `FULL` waited for the disk on every commit: about 130 signed requests a
        // second at most on this machine's disk (BENCHMARKS.md). The nodes' store does the same.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        Community::with_connection(&seed, conn, config)
    }

    /// A server in memory with the key of `seed` (tests, fuzzing).
    pub fn in_memory(seed: &[u8; 32], config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        Community::with_connection(seed, Connection::open_in_memory()?, config)
    }

    fn with_connection(seed: &[u8; 32], conn: Connection, config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        db::init(&conn)?;
        Ok(Arc::new(Community { identity: Identity::from_ed25519_seed(seed), db: Mutex::new(conn), config }))
    }

    /// The server's public key (X25519): the `public_key` of its URLs, the onion destination key.
    pub fn x25519(&self) -> [u8; 32] {
        *self.identity.x25519_public()
    }

    /// Its options.
    pub fn config(&self) -> &SogsConfig {
        &self.config
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a room (or renames an existing one).
    pub fn add_room(&self, token: &str, name: &str, description: Option<&str>) -> anyhow::Result<()> {
        anyhow::ensure!(valid_token(token), "a room token is 1–64 of [0-9A-Za-z_-]: {token:?}");
        db::add_room(&self.db(), token, name, description, now_seconds())?;
        Ok(())
    }

    /// The room tokens, in order.
    pub fn rooms(&self) -> anyhow::Result<Vec<String>> {
        Ok(db::room_tokens(&self.db())?)
    }

    /// Makes `session_id` a moderator or an admin of `scope`, visible or hidden: a `15…` id, or a
    /// Session ID (`05…`), which on a server that requires blinding passes to the account's `15`
    /// id when that first signs a request.
    pub fn add_moderator(&self, scope: &Scope, session_id: &str, admin: bool, visible: bool) -> anyhow::Result<()> {
        anyhow::ensure!(
            db::any_session_id(session_id),
            "a moderator is named by a 15… blinded id or a 05… Session ID: {session_id:?}"
        );
        let conn = self.db();
        let now = now_seconds();
        let user = db::user(&conn, session_id, true, now)?.context("no user")?;
        let tokens = match scope {
            Scope::Global => None,
            Scope::Rooms(tokens) => {
                let mut ids = Vec::new();
                for token in tokens {
                    ids.push(db::room_id(&conn, token)?.with_context(|| format!("no room {token:?}"))?);
                }
                Some(ids)
            }
        };
        db::set_moderator(&conn, tokens.as_deref(), user.id, true, admin, visible)?;
        db::claim_known(&conn, &self.x25519(), self.config.accept_unblinded, session_id)?;
        Ok(())
    }

    /// The URL of `token` at `base` (`http://host:port`), with `?public_key=`.
    pub fn room_url(&self, base: &str, token: &str) -> String {
        format!("{base}/{token}?public_key={}", hex::encode(self.x25519()))
    }

    /// Deletes expired files, DMs and nonces, and ends timed bans, at `now` (seconds); how many
    /// rows.
    pub fn sweep(&self, now: f64) -> anyhow::Result<usize> {
        Ok(db::sweep(&self.db(), now)?)
    }

    /// Answers one request (plain HTTP, or the inside of an onion request): `target` is the path
    /// with its query as sent (the path may be percent-encoded). Never panics.
    pub fn handle(&self, method: &str, target: &str, headers: &Headers, body: &[u8]) -> Reply {
        self.handle_at(method, target, headers, body, now_seconds())
    }

    /// [`Community::handle`] at a given clock (seconds since the epoch).
    pub fn handle_at(&self, method: &str, target: &str, headers: &Headers, body: &[u8], now: f64) -> Reply {
        let method = method.to_ascii_uppercase();
        let (raw_path, query) = target.split_once('?').unwrap_or((target, ""));
        let Some(path) = api::percent_decode(raw_path) else { return Reply::abort(400) };
        let onion = match path.as_str() {
            "/oxen/v4/lsrpc" => Some(true),
            "/oxen/v3/lsrpc" | "/loki/v3/lsrpc" => Some(false),
            _ => None,
        };
        if let Some(v4) = onion {
            return match (method.as_str(), v4) {
                ("POST", true) => self.onion_v4(body, now),
                ("POST", false) => self.onion_v3(body, now),
                _ => api::method_not_allowed(&["POST"]),
            };
        }
        let conn = self.db();
        let request = auth::Request { method: &method, path: &path, query, headers, body };
        let user =
            match auth::authenticate(&conn, self.identity.x25519_public(), self.config.accept_unblinded, &request, now)
            {
                Ok(user) => user,
                Err(reply) => return reply,
            };
        api::dispatch(self, &conn, user.as_ref(), &request, now)
    }

    /// `POST /oxen/v4/lsrpc`: open, run the v4 request inside, seal the v4 response; a body that
    /// does not open is Werkzeug's 400.
    fn onion_v4(&self, body: &[u8], now: f64) -> Reply {
        let Ok(opened) = server::open_request_as(&self.identity, body) else { return Reply::abort(400) };
        let response = self.v4_inner(&opened.request, now);
        Reply::new(200, HTML, server::seal_response(&mut OsRng, &opened.reply_key, &response))
    }

    /// The v4 request's subrequest and its bencoded response (its headers without
    /// `content-length`); a request that does not parse is code 400 `Invalid v4 onion request`.
    fn v4_inner(&self, request: &[u8], now: f64) -> Vec<u8> {
        let invalid = || {
            let mut headers = Map::new();
            headers.insert("content-type".into(), Value::String(TEXT.into()));
            v4::encode_response(400, &headers, b"Invalid v4 onion request")
        };
        let Ok(request) = v4::decode_request(request) else { return invalid() };
        let (Some(method), Some(endpoint)) = (
            request.metadata.get("method").and_then(Value::as_str),
            request.metadata.get("endpoint").and_then(Value::as_str),
        ) else {
            return invalid();
        };
        let Some(headers) = api::subrequest_headers(request.metadata.get("headers")) else { return invalid() };
        if !endpoint.starts_with('/') || endpoint.split('?').next().is_some_and(|p| p.ends_with("/lsrpc")) {
            return invalid();
        }
        let (raw_path, _) = endpoint.split_once('?').unwrap_or((endpoint, ""));
        if api::percent_decode(raw_path).is_none() {
            return invalid();
        }
        let reply = self.handle_at(method, endpoint, &headers, request.body.as_deref().unwrap_or_default(), now);
        let mut headers = Map::new();
        for (name, value) in &reply.headers {
            headers.insert(name.clone(), Value::String(value.clone()));
        }
        v4::encode_response(reply.status, &headers, &reply.body)
    }
}

impl Community {
    /// `POST /oxen/v3/lsrpc` (and `/loki/v3/lsrpc`, deprecated): a JSON request inside; the answer
    /// is the body for a 2xx, else `{"status_code": N}`, sealed and base64-encoded.
    fn onion_v3(&self, body: &[u8], now: f64) -> Reply {
        use base64::Engine;
        let Ok(opened) = server::open_request_as(&self.identity, body) else { return Reply::abort(400) };
        let result = self.v3_inner(&opened.request, now);
        let sealed = server::seal_response(&mut OsRng, &opened.reply_key, &result);
        Reply::new(200, HTML, base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    fn v3_inner(&self, request: &[u8], now: f64) -> Vec<u8> {
        let status = |code: u16| format!("{{\"status_code\": {code}}}").into_bytes();
        if !request.starts_with(b"{") {
            return status(400);
        }
        let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(request) else { return status(400) };
        let (Some(endpoint), Some(method)) =
            (req.get("endpoint").and_then(Value::as_str), req.get("method").and_then(Value::as_str))
        else {
            return status(400);
        };
        let Some(mut headers) = api::subrequest_headers(req.get("headers")) else { return status(400) };
        let body = if matches!(method, "POST" | "PUT") {
            match req.get("body") {
                None => Vec::new(),
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(_) => return status(400),
            }
        } else {
            let body = req.get("body").filter(|b| b.as_str() != Some("null"));
            let truthy = match body {
                None | Some(Value::Null | Value::Bool(false)) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(Value::Object(o)) => !o.is_empty(),
                Some(Value::Bool(true)) => true,
            };
            if truthy {
                return status(400);
            }
            Vec::new()
        };
        // Legacy (v1) endpoints have no leading `/`; this server does not have them.
        if !endpoint.starts_with('/') {
            return status(404);
        }
        if endpoint.split('?').next().is_some_and(|p| p.ends_with("/lsrpc")) {
            return status(400);
        }
        headers.insert("content-type".into(), "application/json".into());
        let reply = self.handle_at(method, endpoint, &headers, &body, now);
        if (200..300).contains(&reply.status) { reply.body } else { status(reply.status) }
    }
}

/// The community server over plain HTTP (and its onion endpoint): every path and method.
pub fn router(server: Arc<Community>) -> axum::Router {
    axum::Router::new().fallback(serve_http).with_state(server)
}

async fn serve_http(State(server): State<Arc<Community>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let target = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |p| p.to_string());
    let mut headers = Headers::new();
    for (name, value) in request.headers() {
        headers
            .entry(name.as_str().to_ascii_lowercase().replace('_', "-"))
            .or_insert_with(|| String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let reply = match axum::body::to_bytes(request.into_body(), READ_LIMIT.max(MAX_BODY_LEN)).await {
        Ok(body) => {
            let server = server.clone();
            tokio::task::spawn_blocking(move || server.handle(&method, &target, &headers, &body))
                .await
                .unwrap_or_else(|_| Reply::internal())
        }
        Err(_) => Reply::abort(413),
    };
    to_response(reply)
}

fn to_response(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Runs [`Community::sweep`] every 10 s (the real server's cleanup timer), for as long as the
/// runtime runs.
pub fn spawn_sweeper(server: Arc<Community>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            let server = server.clone();
            match tokio::task::spawn_blocking(move || server.sweep(now_seconds())).await {
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "community server sweep failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_written_as_python_writes_it() {
        let v = Py::dict([("b", Py::Int(1)), ("a", Py::str("👍\n\u{7f}é")), ("c", Py::Float(1_700_000_000.5))]);
        assert_eq!(v.jsonify(), "{\"a\":\"\\ud83d\\udc4d\\n\\u007f\\u00e9\",\"b\":1,\"c\":1700000000.5}\n");
        assert_eq!(v.dumps(), "{\"b\": 1, \"a\": \"\\ud83d\\udc4d\\n\\u007f\\u00e9\", \"c\": 1700000000.5}");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e-7), "1.5e-07");
        assert_eq!(python_float(3.0), "3.0");
        assert_eq!(Py::List(vec![Py::Null, Py::Bool(true)]).dumps(), "[null, true]");
    }
}
