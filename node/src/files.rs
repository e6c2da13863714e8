//! The devnet's file server: the real Session file server's API (session-file-server,
//! `fileserver/routes.py` with `/extend`, `onion_req.py`, `subrequest.py`), answered alike through
//! v4 onion requests (`POST /oxen/v4/lsrpc`, whose body the last hop of a path POSTs; also the old
//! v3 form at `/oxen/v3/lsrpc` and `/loki/v3/lsrpc`) and over plain HTTP on its own port, as the
//! real one answers clients that call it directly.
//!
//! - `POST /file`: the raw body is the file; `{"id", "expires"}`. Empty or larger than
//!   [`FilesConfig::max_size`] ⇒ 413; `X-FS-TTL` (seconds) only when [`FilesConfig::max_ttl`] is
//!   set, and then a non-integer or a value outside `0..=max` ⇒ 400. Ids are the hash form
//!   ([`file_id`]), so equal uploads are one file, which keeps the later expiry.
//! - `GET /file/<id>`: the bytes, `application/octet-stream`, with an `Expires` HTTP date.
//! - `GET /file/<id>/info`: `{"size", "uploaded", "expires"}`.
//! - `POST /file/<id>/extend`: expiry becomes `max(expiry, now + TTL)`; only for ids of 44
//!   characters or more (shorter ones are the old numeric ids) ⇒ else 404.
//!
//! Errors are `{"status_code": N}` with status N; unknown paths and methods get Flask's own HTML
//! 404/405, and an onion body that does not open with the server's key a plain HTML 400. JSON is
//! written as Python's `json.dumps` writes it (a space after `:` and `,`), times as float seconds.
//! Files live in SQLite; an expired file is never served, and a sweep deletes it (every 15 s, as
//! the real server's cleanup). The key pair is Ed25519, its X25519 key derived from it (Edwards →
//! Montgomery), as the real server publishes its key.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::onion::{MAX_BODY_LEN, server, v4};
use rand_core::OsRng;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::wsgi::{Headers, header_name, percent_bytes, python_int, subrequest_headers};

/// The largest file accepted: the most the deterministic attachment encryption produces
/// (protocol-files §2.5, §3.3); a 10,000,000-byte file encrypted the legacy way is smaller.
pub const MAX_FILE_SIZE: usize = 10_223_616;
/// How long a file lives unless `X-FS-TTL` says otherwise (protocol-files §2.4).
pub const DEFAULT_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// The longest `X-FS-TTL` the devnet accepts (the real server's `MAX_FILE_TTL`).
pub const MAX_TTL: Duration = DEFAULT_TTL;
/// How often expired files are deleted (the real server's cleanup timer).
pub const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// The most a plain-HTTP request body is read; beyond it an upload is 413 as any too large one.
const READ_LIMIT: usize = 16 * 1024 * 1024;
/// Ids shorter than this are the old numeric ones, which `/extend` refuses.
const HASH_ID_LEN: usize = 44;

/// The file server's limits.
#[derive(Clone, Debug)]
pub struct FilesConfig {
    /// Largest accepted upload, in bytes.
    pub max_size: usize,
    /// Lifetime of an upload without `X-FS-TTL`, and what `/extend` adds without it.
    pub default_ttl: Duration,
    /// The longest `X-FS-TTL`; `None`: the header is ignored (the real server's default).
    pub max_ttl: Option<Duration>,
    /// How often expired files are deleted.
    pub sweep_every: Duration,
}

impl Default for FilesConfig {
    /// The devnet's: 10,223,616 bytes, 14 days, `X-FS-TTL` up to 14 days, a sweep every 15 s.
    fn default() -> FilesConfig {
        FilesConfig {
            max_size: MAX_FILE_SIZE,
            default_ttl: DEFAULT_TTL,
            max_ttl: Some(MAX_TTL),
            sweep_every: SWEEP_EVERY,
        }
    }
}

/// A file's id (the hash form, 44 characters), as crypto-core computes it.
pub use crypto_core::onion::server::file_id;

/// Microseconds since the epoch.
fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn duration_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Float seconds as Python's `datetime.timestamp()` gives them and `json.dumps` writes them.
fn seconds(us: i64) -> String {
    serde_json::to_string(&(us as f64 / 1e6)).unwrap_or_else(|_| "0.0".to_owned())
}

/// An answer: status, headers (names as Flask writes them), body.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, without `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply { status, headers: vec![("Content-Type", content_type.to_owned())], body: body.into() }
    }

    fn json(status: u16, text: String) -> Reply {
        Reply::new(status, "application/json", text)
    }

    /// `{"status_code": N}` with status N (`error_resp`).
    fn error(code: u16) -> Reply {
        Reply::json(code, format!("{{\"status_code\": {code}}}"))
    }

    /// Werkzeug's HTML error page.
    fn werkzeug(code: u16, name: &str, description: &str) -> Reply {
        let body = format!(
            "<!doctype html>\n<html lang=en>\n<title>{code} {name}</title>\n<h1>{name}</h1>\n<p>{description}</p>\n"
        );
        Reply::new(code, "text/html; charset=utf-8", body)
    }

    fn not_found() -> Reply {
        Reply::werkzeug(
            404,
            "Not Found",
            "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
        )
    }

    fn bad_request() -> Reply {
        Reply::werkzeug(
            400,
            "Bad Request",
            "The browser (or proxy) sent a request that this server could not understand.",
        )
    }

    fn method_not_allowed(allow: &str) -> Reply {
        let mut reply = Reply::werkzeug(405, "Method Not Allowed", "The method is not allowed for the requested URL.");
        reply.headers.push(("Allow", allow.to_owned()));
        reply
    }

    #[cfg(test)]
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Where a request goes.
enum Route<'a> {
    Upload,
    Download(&'a str),
    Info(&'a str),
    Extend(&'a str),
    OnionV4,
    OnionV3,
}

impl Route<'_> {
    /// The methods Flask accepts for the route (HEAD with GET, OPTIONS always).
    fn allow(&self) -> &'static str {
        match self {
            Route::Download(_) | Route::Info(_) => "GET, HEAD, OPTIONS",
            _ => "OPTIONS, POST",
        }
    }

    fn accepts(&self, method: &str) -> bool {
        match self {
            Route::Download(_) | Route::Info(_) => method == "GET" || method == "HEAD",
            _ => method == "POST",
        }
    }
}

fn route(path: &str) -> Option<Route<'_>> {
    let segment = |s: &str| !s.is_empty() && !s.contains('/');
    match path {
        "/file" => return Some(Route::Upload),
        "/oxen/v4/lsrpc" => return Some(Route::OnionV4),
        "/oxen/v3/lsrpc" | "/loki/v3/lsrpc" => return Some(Route::OnionV3),
        _ => {}
    }
    let rest = path.strip_prefix("/file/")?;
    if let Some(id) = rest.strip_suffix("/info")
        && segment(id)
    {
        return Some(Route::Info(id));
    }
    if let Some(id) = rest.strip_suffix("/extend")
        && segment(id)
    {
        return Some(Route::Extend(id));
    }
    segment(rest).then_some(Route::Download(rest))
}

/// The file server: its key pair and its files.
pub struct FileServer {
    identity: Identity,
    db: Mutex<Connection>,
    config: FilesConfig,
}

impl fmt::Debug for FileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileServer")
            .field("ed25519", &hex::encode(self.identity.ed25519_public()))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl FileServer {
    /// Opens (or creates) a file server in `dir`: `ed25519.key` (its 32-byte seed) and
    /// `files.sqlite`.
    pub fn open(dir: &Path, config: FilesConfig) -> anyhow::Result<Arc<FileServer>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let seed = crate::network::load_or_create_seed(&dir.join("ed25519.key"))?;
        let identity = Identity::from_ed25519_seed(&seed);
        let path = dir.join("files.sqlite");
        let db = Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS files (
                 id TEXT PRIMARY KEY,
                 data BLOB NOT NULL,
                 uploaded INTEGER NOT NULL,
                 expiry INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS files_expiry ON files (expiry);",
        )?;
        Ok(Arc::new(FileServer { identity, db: Mutex::new(db), config }))
    }

    /// The Ed25519 public key (the one published, as in a file URL's `#p=`).
    pub fn ed25519(&self) -> [u8; 32] {
        *self.identity.ed25519_public()
    }

    /// The X25519 public key onion requests are encrypted to (derived from the Ed25519 one).
    pub fn x25519(&self) -> [u8; 32] {
        *self.identity.x25519_public()
    }

    /// The limits it runs with.
    pub fn config(&self) -> &FilesConfig {
        &self.config
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Deletes the files expired at `now_us` (µs since the epoch); how many.
    pub fn sweep(&self, now_us: i64) -> anyhow::Result<usize> {
        Ok(self.db().execute("DELETE FROM files WHERE expiry <= ?1", params![now_us])?)
    }

    /// How many files are stored (expired ones not yet swept included).
    pub fn file_count(&self) -> anyhow::Result<usize> {
        let n: i64 = self.db().query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Answers one request (plain HTTP, or the inside of an onion request): `path` without its
    /// query, `headers` as [`Headers`]. Never panics.
    pub fn handle(&self, method: &str, path: &str, headers: &Headers, body: &[u8]) -> Reply {
        let method = method.to_ascii_uppercase();
        let Some(route) = route(path) else { return Reply::not_found() };
        if method == "OPTIONS" {
            let mut reply = Reply::new(200, "text/html; charset=utf-8", Vec::new());
            reply.headers.push(("Allow", route.allow().to_owned()));
            return reply;
        }
        if !route.accepts(&method) {
            return Reply::method_not_allowed(route.allow());
        }
        let now = now_us();
        let answer = match route {
            Route::Upload => self.upload(headers, body, now),
            Route::Download(id) => self.download(id, now),
            Route::Info(id) => self.info(id, now),
            Route::Extend(id) => self.extend(id, headers, now),
            Route::OnionV4 => return self.onion_v4(body),
            Route::OnionV3 => return self.onion_v3(body),
        };
        answer.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "file server storage failed");
            Reply::error(500)
        })
    }

    /// The TTL to use: the default, or `X-FS-TTL` when a maximum is configured. `Err`: the 400.
    fn ttl(&self, headers: &Headers) -> Result<i64, ()> {
        let (Some(max), Some(value)) = (self.config.max_ttl, headers.get("x-fs-ttl")) else {
            return Ok(duration_us(self.config.default_ttl));
        };
        let seconds = python_int(value).ok_or(())?;
        if seconds < 0 || seconds > i128::from(max.as_secs()) {
            return Err(());
        }
        i64::try_from(seconds).ok().and_then(|s| s.checked_mul(1_000_000)).ok_or(())
    }

    fn upload(&self, headers: &Headers, body: &[u8], now: i64) -> anyhow::Result<Reply> {
        if body.is_empty() || body.len() > self.config.max_size {
            return Ok(Reply::error(413));
        }
        let Ok(ttl) = self.ttl(headers) else { return Ok(Reply::error(400)) };
        let id = file_id(body);
        let expiry: i64 = self.db().query_row(
            "INSERT INTO files (id, data, uploaded, expiry) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET uploaded = excluded.uploaded,
                 expiry = MAX(excluded.expiry, CASE WHEN files.expiry > ?3 THEN files.expiry ELSE 0 END)
             RETURNING expiry",
            params![id, body, now, now.saturating_add(ttl)],
            |r| r.get(0),
        )?;
        let id = serde_json::to_string(&id)?;
        Ok(Reply::json(200, format!("{{\"id\": {id}, \"expires\": {}}}", seconds(expiry))))
    }

    fn download(&self, id: &str, now: i64) -> anyhow::Result<Reply> {
        let row: Option<(Vec<u8>, i64)> = self
            .db()
            .query_row("SELECT data, expiry FROM files WHERE id = ?1 AND expiry > ?2", params![id, now], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((data, expiry)) = row else { return Ok(Reply::error(404)) };
        let mut reply = Reply::new(200, "application/octet-stream", data);
        let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(expiry.div_euclid(1_000_000)).unwrap_or(0));
        reply.headers.push(("Expires", httpdate::fmt_http_date(at)));
        Ok(reply)
    }

    fn info_json(size: i64, uploaded: i64, expiry: i64) -> Reply {
        Reply::json(
            200,
            format!("{{\"size\": {size}, \"uploaded\": {}, \"expires\": {}}}", seconds(uploaded), seconds(expiry)),
        )
    }

    fn info(&self, id: &str, now: i64) -> anyhow::Result<Reply> {
        let row: Option<(i64, i64, i64)> = self
            .db()
            .query_row(
                "SELECT length(data), uploaded, expiry FROM files WHERE id = ?1 AND expiry > ?2",
                params![id, now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map_or_else(|| Reply::error(404), |(size, uploaded, expiry)| Self::info_json(size, uploaded, expiry)))
    }

    /// `/extend`: the TTL is checked first, then the id's length; an expired file is gone (as it
    /// is at the real server once its cleanup has run).
    fn extend(&self, id: &str, headers: &Headers, now: i64) -> anyhow::Result<Reply> {
        let Ok(ttl) = self.ttl(headers) else { return Ok(Reply::error(400)) };
        if id.chars().count() < HASH_ID_LEN {
            return Ok(Reply::error(404));
        }
        let row: Option<(i64, i64, i64)> = self
            .db()
            .query_row(
                "UPDATE files SET expiry = MAX(expiry, ?3) WHERE id = ?1 AND expiry > ?2
                 RETURNING length(data), uploaded, expiry",
                params![id, now, now.saturating_add(ttl)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map_or_else(|| Reply::error(404), |(size, uploaded, expiry)| Self::info_json(size, uploaded, expiry)))
    }

    /// `POST /oxen/v4/lsrpc`: open, run the v4 request inside, seal the v4 response.
    fn onion_v4(&self, body: &[u8]) -> Reply {
        let Ok(opened) = server::open_request_as(&self.identity, body) else { return Reply::bad_request() };
        let response = self.v4_inner(&opened.request);
        Reply::new(200, "text/html; charset=utf-8", server::seal_response(&mut OsRng, &opened.reply_key, &response))
    }

    /// The v4 request's subrequest and its bencoded response; a request that does not parse is
    /// code 400 `Invalid v4 onion request` (`text/plain; charset=utf-8`).
    fn v4_inner(&self, request: &[u8]) -> Vec<u8> {
        let invalid = || {
            let mut headers = Map::new();
            headers.insert("content-type".into(), Value::String("text/plain; charset=utf-8".into()));
            v4::encode_response(400, &headers, b"Invalid v4 onion request")
        };
        let Ok(request) = v4::decode_request(request) else { return invalid() };
        let (Some(method), Some(endpoint)) = (
            request.metadata.get("method").and_then(Value::as_str),
            request.metadata.get("endpoint").and_then(Value::as_str),
        ) else {
            return invalid();
        };
        let Some(headers) = subrequest_headers(request.metadata.get("headers")) else { return invalid() };
        let path = endpoint.split_once('?').map_or(endpoint, |(path, _)| path);
        let reply = self.handle(method, path, &headers, request.body.as_deref().unwrap_or_default());
        let mut headers = Map::new();
        for (name, value) in &reply.headers {
            headers.insert(name.to_ascii_lowercase(), Value::String(value.clone()));
        }
        v4::encode_response(reply.status, &headers, &reply.body)
    }

    /// `POST /oxen/v3/lsrpc` (deprecated): a JSON request inside; the answer is the body when the
    /// status is 200, else `{"status_code": N}`, sealed and base64-encoded.
    fn onion_v3(&self, body: &[u8]) -> Reply {
        let Ok(opened) = server::open_request_as(&self.identity, body) else { return Reply::bad_request() };
        let result = self.v3_inner(&opened.request);
        let sealed = server::seal_response(&mut OsRng, &opened.reply_key, &result);
        Reply::new(200, "text/html; charset=utf-8", STANDARD.encode(sealed))
    }

    fn v3_inner(&self, request: &[u8]) -> Vec<u8> {
        let bad = || b"{\"status_code\": 400}".to_vec();
        if !request.starts_with(b"{") {
            return bad();
        }
        let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(request) else { return bad() };
        let (Some(endpoint), Some(method)) =
            (req.get("endpoint").and_then(Value::as_str), req.get("method").and_then(Value::as_str))
        else {
            return bad();
        };
        let Some(headers) = subrequest_headers(req.get("headers")) else { return bad() };
        let body = if method == "POST" || method == "PUT" {
            match req.get("body") {
                None => Vec::new(),
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(_) => return bad(),
            }
        } else {
            let truthy = match req.get("body") {
                None | Some(Value::Null | Value::Bool(false)) => false,
                Some(Value::String(s)) => !s.is_empty() && s != "null",
                Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(Value::Object(o)) => !o.is_empty(),
                Some(Value::Bool(true)) => true,
            };
            if truthy {
                return bad();
            }
            Vec::new()
        };
        let endpoint = if endpoint.starts_with('/') { endpoint.to_owned() } else { format!("/{endpoint}") };
        let path = endpoint.split_once('?').map_or(endpoint.as_str(), |(path, _)| path);
        let reply = self.handle(method, path, &headers, &body);
        if reply.status == 200 { reply.body } else { format!("{{\"status_code\": {}}}", reply.status).into_bytes() }
    }
}

/// Percent-decodes a path as the WSGI server does before Flask routes it.
fn percent_decode(path: &str) -> String {
    String::from_utf8_lossy(&percent_bytes(path, false)).into_owned()
}

/// The file server over plain HTTP (and its onion endpoints): every path and method.
pub fn router(server: Arc<FileServer>) -> axum::Router {
    axum::Router::new().fallback(serve_http).with_state(server)
}

async fn serve_http(State(server): State<Arc<FileServer>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = percent_decode(request.uri().path());
    let mut headers = Headers::new();
    for (name, value) in request.headers() {
        headers
            .entry(header_name(name.as_str()))
            .or_insert_with(|| String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let reply = match axum::body::to_bytes(request.into_body(), READ_LIMIT.max(MAX_BODY_LEN)).await {
        Ok(body) => {
            let server = server.clone();
            tokio::task::spawn_blocking(move || server.handle(&method, &path, &headers, &body))
                .await
                .unwrap_or_else(|_| Reply::error(500))
        }
        // Too large to read: what the route would answer for a body that large.
        Err(_) => match route(&path) {
            Some(Route::OnionV4 | Route::OnionV3) => Reply::bad_request(),
            _ => Reply::error(413),
        },
    };
    to_response(reply)
}

fn to_response(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(
                HeaderName::from_static(match name {
                    "Content-Type" => "content-type",
                    "Expires" => "expires",
                    "Allow" => "allow",
                    _ => continue,
                }),
                value,
            );
        }
    }
    response
}

/// Deletes expired files every [`FilesConfig::sweep_every`], for as long as the runtime runs.
pub fn spawn_sweeper(server: Arc<FileServer>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(server.config.sweep_every.max(Duration::from_millis(10)));
        loop {
            tick.tick().await;
            let server = server.clone();
            match tokio::task::spawn_blocking(move || server.sweep(now_us())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "file server sweep failed"),
                Err(_) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_flask_rules() {
        assert!(matches!(route("/file"), Some(Route::Upload)));
        assert!(matches!(route("/file/abc"), Some(Route::Download("abc"))));
        assert!(matches!(route("/file/abc/info"), Some(Route::Info("abc"))));
        assert!(matches!(route("/file/abc/extend"), Some(Route::Extend("abc"))));
        assert!(matches!(route("/file/info"), Some(Route::Download("info"))));
        for path in ["/file/", "/file/abc/", "/file//info", "/file/a/b", "/files/1", "/", "/file/abc/info/x"] {
            assert!(route(path).is_none(), "{path}");
        }
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("/file/a%2Fb%zz%4"), "/file/a/b%zz%4");
    }

    #[test]
    fn json_shapes_are_python_s() {
        assert_eq!(Reply::error(404).body, br#"{"status_code": 404}"#);
        assert_eq!(seconds(1_765_000_000_000_000), "1765000000.0");
        assert_eq!(seconds(1_765_000_000_250_000), "1765000000.25");
        let info = FileServer::info_json(5, 1_000_000, 2_500_000);
        assert_eq!(info.body, br#"{"size": 5, "uploaded": 1.0, "expires": 2.5}"#);
        assert_eq!(info.header("content-type"), Some("application/json"));
    }
}
