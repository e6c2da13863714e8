//! A community server: the SOGS v4 API as the real server (session-pysogs) answers it
//! (protocol-communities §4–§5, §9), through v4 onion requests (`POST /oxen/v4/lsrpc`, whose body
//! the last hop of a path POSTs) and over plain HTTP on its own port, as the real one is reached.
//!
//! Rooms, messages (each with the room's event counter `seqno`; edits and deletions take a new
//! one, a deletion keeps a tombstone), reactions, pins, room files (an hour until a post or the
//! room's image links them, then 15 days), blinded DMs (inbox/outbox, 15 days), global and
//! per-room moderators, admins and bans live in SQLite. Requests are authenticated by the
//! `X-SOGS-*` headers ([`auth`]): blinded `15` keys always, unblinded `00` keys only with
//! [`SogsConfig::accept_unblinded`] (the real server's `REQUIRE_BLIND_KEYS = False`).
//!
//! JSON is written as Flask's `jsonify` writes it: compact, keys sorted, non-ASCII escaped.
//! Plain aborts get Werkzeug's HTML error pages; authentication and permission failures the real
//! server's `text/plain` reasons.

pub mod auth;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
use serde_json::{Map, Value, json};

use crate::files::Headers;

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
/// Users active within this long count in `active_users` (7 days).
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

/// A decimal integer with an optional sign (Flask's `<int:…>` and `int()` of a query value).
pub(crate) fn int_param(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A path segment Flask's `<int:…>` matches: digits only.
fn path_int(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// JSON as Flask's `jsonify` writes it: compact, keys sorted (serde_json's maps are), non-ASCII
/// characters as `\uXXXX` escapes.
pub fn flask_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// An answer: status, headers (lower-case names), body.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, without `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply { status, headers: vec![("content-type".into(), content_type.to_owned())], body: body.into() }
    }

    fn json(status: u16, value: &Value) -> Reply {
        Reply::new(status, "application/json", flask_json(value))
    }

    fn ok(value: &Value) -> Reply {
        Reply::json(200, value)
    }

    /// A `text/plain` reason (`abort_with_reason`).
    fn text(status: u16, text: &str) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", text)
    }

    /// Werkzeug's HTML error page for a plain `abort(code)`.
    fn abort(status: u16) -> Reply {
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
        let body = format!(
            "<!doctype html>\n<html lang=en>\n<title>{status} {name}</title>\n<h1>{name}</h1>\n<p>{description}</p>\n"
        );
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    fn internal() -> Reply {
        Reply::abort(500)
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

/// The user with `session_id`, created when `create` and absent.
pub(crate) fn user_by_session_id(
    db: &Connection,
    session_id: &str,
    create: bool,
    now: f64,
) -> rusqlite::Result<Option<User>> {
    if create {
        db.execute(
            "INSERT INTO users (session_id, created, last_active) VALUES (?1, ?2, ?2) ON CONFLICT DO NOTHING",
            params![session_id, now],
        )?;
    }
    db.query_row("SELECT id, session_id FROM users WHERE session_id = ?1", params![session_id], |r| {
        Ok(User { id: r.get(0)?, session_id: r.get(1)? })
    })
    .optional()
}

/// Moves what was granted to a Session ID (`05…`: moderator, admin, bans, per room or global) to
/// `user`, a `15` id that is that account's blinded id on this server, as the real server does
/// when it first sees the blinded id of an account it knew only by its Session ID.
pub(crate) fn claim_unblinded(db: &Connection, server: &[u8; 32], user: &User) -> rusqlite::Result<()> {
    if !user.blinded() {
        return Ok(());
    }
    let Ok(blinded) = user.session_id.parse::<crypto_core::identity::SessionId>() else { return Ok(()) };
    let mut stmt = db.prepare(
        "SELECT id, session_id FROM users u WHERE session_id LIKE '05%' AND (moderator OR admin OR banned
             OR EXISTS (SELECT 1 FROM room_users r WHERE r.user = u.id AND (r.moderator OR r.admin OR r.banned)))",
    )?;
    let pending: Vec<(i64, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (id, session_id) in pending {
        let Ok(session) = session_id.parse::<crypto_core::identity::SessionId>() else { continue };
        if !crypto_core::community::blinded_id_matches(&blinded, &session, server) {
            continue;
        }
        db.execute(
            "UPDATE users SET moderator = users.moderator OR p.moderator, admin = users.admin OR p.admin,
                 visible = users.visible OR p.visible, banned = users.banned OR p.banned,
                 banned_until = COALESCE(p.banned_until, users.banned_until)
             FROM (SELECT moderator, admin, visible, banned, banned_until FROM users WHERE id = ?2) AS p
             WHERE users.id = ?1",
            params![user.id, id],
        )?;
        db.execute(
            "INSERT INTO room_users (room, user, moderator, admin, visible, banned, banned_until)
             SELECT room, ?1, moderator, admin, visible, banned, banned_until FROM room_users WHERE user = ?2
             ON CONFLICT (room, user) DO UPDATE SET moderator = excluded.moderator, admin = excluded.admin,
                 visible = excluded.visible, banned = excluded.banned, banned_until = excluded.banned_until",
            params![user.id, id],
        )?;
        db.execute(
            "UPDATE users SET moderator = FALSE, admin = FALSE, banned = FALSE, banned_until = NULL WHERE id = ?1",
            params![id],
        )?;
        db.execute(
            "UPDATE room_users SET moderator = FALSE, admin = FALSE, banned = FALSE, banned_until = NULL
             WHERE user = ?1",
            params![id],
        )?;
    }
    Ok(())
}

/// Whether user `id` is banned from the whole server at `now`.
pub(crate) fn globally_banned(db: &Connection, id: i64, now: f64) -> rusqlite::Result<bool> {
    db.query_row(
        "SELECT banned AND (banned_until IS NULL OR banned_until > ?2) FROM users WHERE id = ?1",
        params![id, now],
        |r| r.get(0),
    )
    .optional()
    .map(|b| b.unwrap_or(false))
}

/// A room row.
#[derive(Clone, Debug)]
struct Room {
    id: i64,
    token: String,
    name: String,
    description: Option<String>,
    image: Option<i64>,
    created: f64,
    message_sequence: i64,
    info_updates: i64,
    read: bool,
    accessible: bool,
    write: bool,
    upload: bool,
}

const ROOM_COLUMNS: &str =
    "id, token, name, description, image, created, message_sequence, info_updates, read, accessible, write, upload";

fn room_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Room> {
    Ok(Room {
        id: r.get(0)?,
        token: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        image: r.get(4)?,
        created: r.get(5)?,
        message_sequence: r.get(6)?,
        info_updates: r.get(7)?,
        read: r.get(8)?,
        accessible: r.get(9)?,
        write: r.get(10)?,
        upload: r.get(11)?,
    })
}

/// What a user may do in a room.
#[derive(Clone, Copy, Default, Debug)]
struct Perms {
    accessible: bool,
    read: bool,
    write: bool,
    upload: bool,
    banned: bool,
    moderator: bool,
    admin: bool,
    global_moderator: bool,
    global_admin: bool,
}

/// A room token: 1–64 of `[0-9A-Za-z_-]`.
pub fn valid_token(token: &str) -> bool {
    (1..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A user id in a path: `15` + 64 hex, or `05` + 64 hex where unblinded ids are accepted.
fn valid_session_id(id: &str, accept_unblinded: bool) -> bool {
    id.len() == 66
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && (id.starts_with("15") || (accept_unblinded && id.starts_with("05")))
}

/// One request's context: the database, who asks, when, and the query parameters.
struct Cx<'a> {
    db: &'a Connection,
    user: Option<&'a User>,
    now: f64,
    query: BTreeMap<String, String>,
    accept_unblinded: bool,
}

/// Percent-decodes (lenient: a `%` not followed by two hex digits stays).
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode(k, true)).or_insert_with(|| percent_decode(v, true));
    }
    map
}

impl Cx<'_> {
    /// `utils.get_int_param(name, default, min, max, truncate=True)`; a value that is no integer
    /// is a 400.
    fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, Reply> {
        match self.query.get(name) {
            None => Ok(default),
            Some(v) => int_param(v.trim()).map(|v| v.clamp(min, max)).ok_or_else(|| Reply::abort(400)),
        }
    }

    fn user_id(&self) -> Option<i64> {
        self.user.map(|u| u.id)
    }

    fn require_user(&self) -> Result<&User, Reply> {
        self.user.ok_or_else(|| Reply::text(401, "X-SOGS-* request authentication required"))
    }

    fn room(&self, token: &str) -> Result<Room, Reply> {
        let room = self
            .db
            .query_row(&format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE token = ?1"), params![token], room_row)
            .optional()
            .map_err(|_| Reply::internal())?;
        room.ok_or_else(|| Reply::abort(404))
    }

    fn perms(&self, room: &Room) -> rusqlite::Result<Perms> {
        let mut p = Perms {
            accessible: room.accessible || room.read,
            read: room.read,
            write: room.write,
            upload: room.upload,
            ..Perms::default()
        };
        let Some(user) = self.user else { return Ok(p) };
        let (g_mod, g_admin, g_banned): (bool, bool, bool) = self.db.query_row(
            "SELECT moderator, admin, banned AND (banned_until IS NULL OR banned_until > ?2) FROM users WHERE id = ?1",
            params![user.id, self.now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        type Override = (bool, bool, bool, Option<bool>, Option<bool>, Option<bool>, Option<bool>);
        let o: Option<Override> = self
            .db
            .query_row(
                "SELECT moderator, admin, banned AND (banned_until IS NULL OR banned_until > ?3),
                        read, accessible, write, upload
                 FROM room_users WHERE room = ?1 AND user = ?2",
                params![room.id, user.id, self.now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()?;
        p.global_moderator = g_mod || g_admin;
        p.global_admin = g_admin;
        if let Some((r_mod, r_admin, r_banned, read, accessible, write, upload)) = o {
            p.moderator = r_mod || r_admin;
            p.admin = r_admin;
            p.banned = r_banned;
            p.read = read.unwrap_or(p.read);
            p.accessible = accessible.unwrap_or(p.accessible) || p.read;
            p.write = write.unwrap_or(p.write);
            p.upload = upload.unwrap_or(p.upload);
        }
        p.moderator |= p.global_moderator;
        p.admin |= p.global_admin;
        p.banned |= g_banned;
        if p.moderator {
            (p.accessible, p.read, p.write, p.upload, p.banned) = (true, true, true, true, false);
        } else if p.banned {
            (p.read, p.write, p.upload) = (false, false, false);
            p.accessible = true;
        }
        Ok(p)
    }

    /// The room if the caller may read it: 404 if it is not accessible, 403 if not readable.
    fn readable_room(&self, token: &str) -> Result<(Room, Perms), Reply> {
        let room = self.room(token)?;
        let perms = self.perms(&room).map_err(|_| Reply::internal())?;
        if !perms.accessible {
            return Err(Reply::abort(404));
        }
        if !perms.read {
            return Err(Reply::abort(403));
        }
        self.touch_room(&room).map_err(|_| Reply::internal())?;
        Ok((room, perms))
    }

    /// The room for an endpoint that needs a user and moderator (or admin) rights there.
    fn mod_room(&self, token: &str, admin: bool) -> Result<(Room, Perms), Reply> {
        self.require_user()?;
        let room = self.room(token)?;
        let perms = self.perms(&room).map_err(|_| Reply::internal())?;
        if !(if admin { perms.admin } else { perms.moderator }) {
            return Err(Reply::text(
                403,
                &format!("This endpoint requires {} room permissions", if admin { "admin" } else { "moderator" }),
            ));
        }
        Ok((room, perms))
    }

    fn touch_room(&self, room: &Room) -> rusqlite::Result<()> {
        if let Some(user) = self.user {
            self.db.execute(
                "INSERT INTO room_users (room, user, last_active) VALUES (?1, ?2, ?3)
                 ON CONFLICT (room, user) DO UPDATE SET last_active = excluded.last_active",
                params![room.id, user.id, self.now],
            )?;
        }
        Ok(())
    }

    /// The room's next event number.
    fn next_seqno(&self, room: &Room) -> rusqlite::Result<i64> {
        self.db.query_row(
            "UPDATE rooms SET message_sequence = message_sequence + 1 WHERE id = ?1 RETURNING message_sequence",
            params![room.id],
            |r| r.get(0),
        )
    }

    fn bump_info(&self, room_id: i64) -> rusqlite::Result<i64> {
        self.db.query_row(
            "UPDATE rooms SET info_updates = info_updates + 1 WHERE id = ?1 RETURNING info_updates",
            params![room_id],
            |r| r.get(0),
        )
    }

    fn room_json(&self, room: &Room, perms: &Perms) -> rusqlite::Result<Value> {
        let active: i64 = self.db.query_row(
            "SELECT COUNT(*) FROM room_users WHERE room = ?1 AND last_active >= ?2",
            params![room.id, self.now - ACTIVE_CUTOFF as f64],
            |r| r.get(0),
        )?;
        let mut m = Map::new();
        m.insert("token".into(), json!(room.token));
        m.insert("name".into(), json!(room.name));
        if let Some(d) = &room.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("info_updates".into(), json!(room.info_updates));
        m.insert("message_sequence".into(), json!(room.message_sequence));
        m.insert("created".into(), json!(room.created));
        m.insert("active_users".into(), json!(active));
        m.insert("active_users_cutoff".into(), json!(ACTIVE_CUTOFF));
        if let Some(image) = room.image {
            m.insert("image_id".into(), json!(image));
        }
        let mut pins = Vec::new();
        let mut stmt = self.db.prepare(
            "SELECT p.message, p.pinned_at, u.session_id FROM pinned p JOIN users u ON p.pinned_by = u.id
             WHERE p.room = ?1 ORDER BY p.pinned_at, p.message",
        )?;
        let mut rows = stmt.query(params![room.id])?;
        while let Some(r) = rows.next()? {
            let (id, at, by): (i64, f64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            pins.push(json!({ "id": id, "pinned_at": at, "pinned_by": by }));
        }
        m.insert("pinned_messages".into(), Value::Array(pins));
        let (mut mods, mut admins, mut hidden_mods, mut hidden_admins) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut stmt = self.db.prepare(
            "SELECT u.session_id, r.admin, r.visible FROM room_users r JOIN users u ON r.user = u.id
             WHERE r.room = ?1 AND (r.moderator OR r.admin) AND (?2 OR u.session_id NOT LIKE '05%')
             UNION ALL
             SELECT session_id, admin, visible FROM users WHERE (moderator OR admin)
                 AND (?2 OR session_id NOT LIKE '05%')
             ORDER BY 1",
        )?;
        let mut rows = stmt.query(params![room.id, self.accept_unblinded])?;
        while let Some(r) = rows.next()? {
            let (id, admin, visible): (String, bool, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let list = match (admin, visible) {
                (true, true) => &mut admins,
                (false, true) => &mut mods,
                (true, false) => &mut hidden_admins,
                (false, false) => &mut hidden_mods,
            };
            if !list.contains(&id) {
                list.push(id);
            }
        }
        m.insert("moderators".into(), json!(mods));
        m.insert("admins".into(), json!(admins));
        if perms.moderator {
            m.insert("hidden_moderators".into(), json!(hidden_mods));
            m.insert("hidden_admins".into(), json!(hidden_admins));
            m.insert("default_read".into(), json!(room.read));
            m.insert("default_accessible".into(), json!(room.accessible));
            m.insert("default_write".into(), json!(room.write));
            m.insert("default_upload".into(), json!(room.upload));
        }
        Self::perm_fields(&mut m, perms);
        Ok(Value::Object(m))
    }

    fn perm_fields(m: &mut Map<String, Value>, perms: &Perms) {
        m.insert("read".into(), json!(perms.read));
        m.insert("write".into(), json!(perms.write));
        m.insert("upload".into(), json!(perms.upload));
        for (name, on) in [
            ("moderator", perms.moderator),
            ("admin", perms.admin),
            ("global_moderator", perms.global_moderator),
            ("global_admin", perms.global_admin),
        ] {
            if on {
                m.insert(name.into(), json!(true));
            }
        }
    }
}

/// A message row as the queries read it.
struct MessageRow {
    id: i64,
    session_id: String,
    posted: f64,
    edited: Option<f64>,
    seqno: i64,
    seqno_data: i64,
    data: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    whisper_to: Option<String>,
    whisper_mods: bool,
}

const MESSAGE_SELECT: &str = "SELECT m.id, u.session_id, m.posted, m.edited, m.seqno, m.seqno_data, m.data,
        m.signature, w.session_id, m.whisper_mods
    FROM messages m JOIN users u ON m.user = u.id LEFT JOIN users w ON m.whisper_to = w.id";

/// Whispers the viewer (`?2`, a user id or NULL; `?3` whether a moderator) may see.
const VISIBLE: &str = "((m.whisper_to IS NULL AND NOT m.whisper_mods) OR m.user = ?2 OR m.whisper_to = ?2
    OR (?3 AND m.whisper_mods))";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        posted: r.get(2)?,
        edited: r.get(3)?,
        seqno: r.get(4)?,
        seqno_data: r.get(5)?,
        data: r.get(6)?,
        signature: r.get(7)?,
        whisper_to: r.get(8)?,
        whisper_mods: r.get(9)?,
    })
}

impl Cx<'_> {
    fn reactions(&self, message: i64, reactors: i64) -> rusqlite::Result<Value> {
        let mut out = Map::new();
        let mut stmt = self.db.prepare(
            "SELECT reaction, COUNT(*), MAX(user = ?2) FROM reactions WHERE message = ?1
             GROUP BY reaction ORDER BY MIN(id)",
        )?;
        let mut rows = stmt.query(params![message, self.user_id()])?;
        let mut index = 0;
        while let Some(r) = rows.next()? {
            let (reaction, count, you): (String, i64, Option<bool>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let mut entry = Map::new();
            entry.insert("index".into(), json!(index));
            entry.insert("count".into(), json!(count));
            if reactors > 0 {
                let mut stmt = self.db.prepare(
                    "SELECT u.session_id FROM reactions r JOIN users u ON r.user = u.id
                     WHERE r.message = ?1 AND r.reaction = ?2 ORDER BY r.at, r.id LIMIT ?3",
                )?;
                let ids: Vec<String> =
                    stmt.query_map(params![message, reaction, reactors], |r| r.get(0))?.collect::<Result<_, _>>()?;
                entry.insert("reactors".into(), json!(ids));
            }
            if you == Some(true) {
                entry.insert("you".into(), json!(true));
            }
            out.insert(reaction, Value::Object(entry));
            index += 1;
        }
        Ok(Value::Object(out))
    }

    fn message_json(&self, m: &MessageRow, reactors: i64) -> rusqlite::Result<Value> {
        let mut o = Map::new();
        o.insert("id".into(), json!(m.id));
        o.insert("session_id".into(), json!(m.session_id));
        o.insert("posted".into(), json!(m.posted));
        o.insert("seqno".into(), json!(m.seqno));
        let Some(data) = &m.data else {
            o.insert("data".into(), Value::Null);
            o.insert("deleted".into(), json!(true));
            return Ok(Value::Object(o));
        };
        if let Some(edited) = m.edited {
            o.insert("edited".into(), json!(edited));
        }
        o.insert("data".into(), json!(STANDARD.encode(data)));
        if let Some(sig) = &m.signature {
            o.insert("signature".into(), json!(STANDARD.encode(sig)));
        }
        if m.whisper_to.is_some() || m.whisper_mods {
            o.insert("whisper".into(), json!(true));
            o.insert("whisper_mods".into(), json!(m.whisper_mods));
            if let Some(to) = &m.whisper_to {
                o.insert("whisper_to".into(), json!(to));
            }
        }
        o.insert("reactions".into(), self.reactions(m.id, reactors)?);
        Ok(Value::Object(o))
    }

    fn messages(&self, sql_tail: &str, args: &[&dyn rusqlite::ToSql]) -> rusqlite::Result<Vec<MessageRow>> {
        let sql = format!("{MESSAGE_SELECT} WHERE {sql_tail}");
        let mut stmt = self.db.prepare(&sql)?;
        stmt.query_map(args, message_row)?.collect()
    }
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

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS rooms (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        description TEXT,
        image INTEGER,
        created REAL NOT NULL,
        message_sequence INTEGER NOT NULL DEFAULT 0,
        info_updates INTEGER NOT NULL DEFAULT 0,
        read BOOLEAN NOT NULL DEFAULT TRUE,
        accessible BOOLEAN NOT NULL DEFAULT TRUE,
        write BOOLEAN NOT NULL DEFAULT TRUE,
        upload BOOLEAN NOT NULL DEFAULT TRUE
    );
    CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        last_active REAL NOT NULL,
        banned BOOLEAN NOT NULL DEFAULT FALSE,
        banned_until REAL,
        moderator BOOLEAN NOT NULL DEFAULT FALSE,
        admin BOOLEAN NOT NULL DEFAULT FALSE,
        visible BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE IF NOT EXISTS room_users (
        room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user INTEGER NOT NULL REFERENCES users(id),
        last_active REAL,
        moderator BOOLEAN NOT NULL DEFAULT FALSE,
        admin BOOLEAN NOT NULL DEFAULT FALSE,
        visible BOOLEAN NOT NULL DEFAULT TRUE,
        banned BOOLEAN NOT NULL DEFAULT FALSE,
        banned_until REAL,
        read BOOLEAN,
        accessible BOOLEAN,
        write BOOLEAN,
        upload BOOLEAN,
        PRIMARY KEY (room, user)
    );
    CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user INTEGER NOT NULL REFERENCES users(id),
        posted REAL NOT NULL,
        edited REAL,
        seqno INTEGER NOT NULL,
        seqno_data INTEGER NOT NULL,
        seqno_reactions INTEGER NOT NULL DEFAULT 0,
        seqno_creation INTEGER NOT NULL,
        data BLOB,
        signature BLOB,
        whisper_to INTEGER REFERENCES users(id),
        whisper_mods BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX IF NOT EXISTS messages_room_seqno ON messages (room, seqno);
    CREATE INDEX IF NOT EXISTS messages_room_user_posted ON messages (room, user, posted);
    CREATE TABLE IF NOT EXISTS reactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        reaction TEXT NOT NULL,
        user INTEGER NOT NULL REFERENCES users(id),
        at REAL NOT NULL,
        UNIQUE (message, reaction, user)
    );
    CREATE TABLE IF NOT EXISTS pinned (
        room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        pinned_by INTEGER NOT NULL REFERENCES users(id),
        pinned_at REAL NOT NULL,
        PRIMARY KEY (room, message)
    );
    CREATE TABLE IF NOT EXISTS files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        uploader INTEGER REFERENCES users(id),
        size INTEGER NOT NULL,
        uploaded REAL NOT NULL,
        expiry REAL,
        filename TEXT,
        message INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS files_expiry ON files (expiry);
    CREATE TABLE IF NOT EXISTS inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient INTEGER NOT NULL REFERENCES users(id),
        sender INTEGER NOT NULL REFERENCES users(id),
        body BLOB NOT NULL,
        posted_at REAL NOT NULL,
        expiry REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS inbox_recipient ON inbox (recipient, id);
    CREATE INDEX IF NOT EXISTS inbox_sender ON inbox (sender, id);
    CREATE TABLE IF NOT EXISTS nonces (
        user INTEGER NOT NULL REFERENCES users(id),
        nonce BLOB NOT NULL,
        expiry REAL NOT NULL,
        PRIMARY KEY (user, nonce)
    );
    CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expiry);
";

/// Where a moderator change applies.
#[derive(Clone, Debug)]
pub enum Scope {
    /// These rooms.
    Rooms(Vec<String>),
    /// The whole server.
    Global,
}

impl Community {
    /// Opens (or creates) a community server in `dir`: `ed25519.key` (its 32-byte seed, whose
    /// X25519 key is the server's public key) and `sogs.sqlite`.
    pub fn open(dir: &Path, config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let seed = crate::network::load_or_create_seed(&dir.join("ed25519.key"))?;
        let path = dir.join("sogs.sqlite");
        let db = Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        db.execute_batch("PRAGMA journal_mode = WAL;")?;
        Community::with_connection(&seed, db, config)
    }

    /// A server in memory with the key of `seed` (tests, fuzzing).
    pub fn in_memory(seed: &[u8; 32], config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        Community::with_connection(seed, Connection::open_in_memory()?, config)
    }

    fn with_connection(seed: &[u8; 32], db: Connection, config: SogsConfig) -> anyhow::Result<Arc<Community>> {
        db.execute_batch("PRAGMA foreign_keys = ON;")?;
        db.execute_batch(SCHEMA)?;
        Ok(Arc::new(Community { identity: Identity::from_ed25519_seed(seed), db: Mutex::new(db), config }))
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
        self.db().execute(
            "INSERT INTO rooms (token, name, description, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (token) DO UPDATE SET name = excluded.name,
                 description = COALESCE(excluded.description, rooms.description),
                 info_updates = rooms.info_updates + 1",
            params![token, name, description, now_seconds()],
        )?;
        Ok(())
    }

    /// The room tokens, in order.
    pub fn rooms(&self) -> anyhow::Result<Vec<String>> {
        let db = self.db();
        let mut stmt = db.prepare("SELECT token FROM rooms ORDER BY token")?;
        let tokens = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(tokens)
    }

    /// Makes `session_id` a moderator or an admin of `scope`, visible or hidden: a `15…` id, or
    /// a Session ID (`05…`), which on a server that requires blinding passes to the account's `15`
    /// id when that first uses the server ([`claim_unblinded`]).
    pub fn add_moderator(&self, scope: &Scope, session_id: &str, admin: bool, visible: bool) -> anyhow::Result<()> {
        anyhow::ensure!(
            valid_session_id(session_id, true),
            "a moderator is named by a 15… blinded id or a 05… Session ID: {session_id:?}"
        );
        let db = self.db();
        let now = now_seconds();
        let user = user_by_session_id(&db, session_id, true, now)?.context("no user")?;
        let cx =
            Cx { db: &db, user: None, now, query: BTreeMap::new(), accept_unblinded: self.config.accept_unblinded };
        set_moderator(&cx, scope, user.id, Some(true), Some(admin), Some(visible))
            .map_err(|_| anyhow::anyhow!("no such room"))?;
        self.claim_known(&db, session_id)?;
        Ok(())
    }

    /// When `session_id` is a Session ID whose blinded id already used the server, hands what it
    /// was granted to that user at once ([`claim_unblinded`]).
    fn claim_known(&self, db: &Connection, session_id: &str) -> rusqlite::Result<()> {
        claim_known(db, &self.x25519(), self.config.accept_unblinded, session_id)
    }

    /// The URL of `token` at `base` (`http://host:port`), with `?public_key=`.
    pub fn room_url(&self, base: &str, token: &str) -> String {
        format!("{base}/{token}?public_key={}", hex::encode(self.x25519()))
    }

    /// Deletes expired files, DMs and nonces at `now` (seconds); how many rows.
    pub fn sweep(&self, now: f64) -> anyhow::Result<usize> {
        let db = self.db();
        let mut n = db.execute("DELETE FROM files WHERE expiry IS NOT NULL AND expiry <= ?1", params![now])?;
        n += db.execute("DELETE FROM inbox WHERE expiry <= ?1", params![now])?;
        n += db.execute("DELETE FROM nonces WHERE expiry <= ?1", params![now])?;
        Ok(n)
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
        let path = percent_decode(raw_path, false);
        if path == "/oxen/v4/lsrpc" {
            return if method == "POST" { self.onion_v4(body, now) } else { Reply::abort(405) };
        }
        let db = self.db();
        let request = auth::Request { method: &method, path: &path, query, headers, body };
        let user = match auth::authenticate(
            &db,
            self.identity.x25519_public(),
            self.config.accept_unblinded,
            &request,
            now,
        ) {
            Ok(user) => user,
            Err(reply) => return reply,
        };
        self.dispatch(&db, user.as_ref(), &method, &path, query, headers, body, now, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &self,
        db: &Connection,
        user: Option<&User>,
        method: &str,
        path: &str,
        query: &str,
        headers: &Headers,
        body: &[u8],
        now: f64,
        outer: bool,
    ) -> Reply {
        let cx = Cx { db, user, now, query: parse_query(query), accept_unblinded: self.config.accept_unblinded };
        if db.execute_batch("SAVEPOINT request").is_err() {
            return Reply::internal();
        }
        let reply = match self.route(&cx, method, path, headers, body, outer) {
            Ok(reply) => reply,
            Err(Failure::Reply(reply)) => reply,
            Err(Failure::Db(e)) => {
                tracing::warn!(error = %e, "community server storage failed");
                Reply::internal()
            }
        };
        // Failed requests leave nothing behind.
        let end = if reply.status < 400 { "RELEASE request" } else { "ROLLBACK TO request; RELEASE request" };
        if db.execute_batch(end).is_err() {
            return Reply::internal();
        }
        reply
    }

    /// `POST /oxen/v4/lsrpc`: open, run the v4 request inside, seal the v4 response.
    fn onion_v4(&self, body: &[u8], now: f64) -> Reply {
        let Ok(opened) = server::open_request_as(&self.identity, body) else { return Reply::abort(400) };
        let response = self.v4_inner(&opened.request, now);
        Reply::new(200, "text/html; charset=utf-8", server::seal_response(&mut OsRng, &opened.reply_key, &response))
    }

    fn v4_inner(&self, request: &[u8], now: f64) -> Vec<u8> {
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
        if !endpoint.starts_with('/') || endpoint == "/oxen/v4/lsrpc" {
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

/// Why a handler stopped: an answer, or a storage error (a 500).
enum Failure {
    Reply(Reply),
    Db(rusqlite::Error),
}

impl From<Reply> for Failure {
    fn from(reply: Reply) -> Failure {
        Failure::Reply(reply)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Db(e)
    }
}

type Answer = Result<Reply, Failure>;

/// A subrequest's headers from the request's `headers` (absent: none). `None` when it is not an
/// object or a value is not text.
fn subrequest_headers(value: Option<&Value>) -> Option<Headers> {
    let Some(value) = value else { return Some(Headers::new()) };
    let mut headers = Headers::new();
    for (name, value) in value.as_object()? {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        headers.entry(name.to_ascii_lowercase().replace('_', "-")).or_insert(value);
    }
    Some(headers)
}

/// The JSON object of a body; anything else is a 400.
fn json_body(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Reply::abort(400)),
    }
}

fn base64_field(map: &Map<String, Value>, name: &str) -> Result<Vec<u8>, Reply> {
    map.get(name).and_then(Value::as_str).and_then(|s| STANDARD.decode(s).ok()).ok_or_else(|| Reply::abort(400))
}

/// Which methods a path accepts (empty: no such route).
fn allowed(segs: &[&str]) -> &'static [&'static str] {
    match segs {
        ["capabilities"] | ["rooms"] | ["inbox", "since", _] | ["outbox"] | ["outbox", "since", _] => &["GET"],
        ["batch"] | ["sequence"] => &["POST"],
        ["inbox"] => &["GET", "DELETE"],
        ["inbox", _] => &["POST"],
        ["room", _] => &["GET", "PUT"],
        ["room", _, "pollInfo", _]
        | ["room", _, "messages", "since", _]
        | ["room", _, "messages", "recent"]
        | ["room", _, "messages", "before", _]
        | ["room", _, "reactors", _, _]
        | ["room", _, "file", _]
        | ["room", _, "file", _, _] => &["GET"],
        ["room", _, "message"] | ["room", _, "file"] | ["room", _, "pin", _] | ["room", _, "unpin", _] => &["POST"],
        ["room", _, "message", _] => &["GET", "PUT", "DELETE"],
        ["room", _, "reaction", _, _] => &["PUT", "DELETE"],
        ["room", _, "reactions", _] | ["room", _, "reactions", _, _] | ["room", _, "all", _] | ["rooms", "all", _] => {
            &["DELETE"]
        }
        ["user", _, "ban" | "unban" | "moderator"] => &["POST"],
        _ => &[],
    }
}

impl Community {
    fn route(&self, cx: &Cx<'_>, method: &str, path: &str, headers: &Headers, body: &[u8], outer: bool) -> Answer {
        let segs: Vec<&str> = path.strip_prefix('/').unwrap_or("\u{0}").split('/').collect();
        let allowed = allowed(&segs);
        if allowed.is_empty() {
            return Ok(Reply::abort(404));
        }
        if !allowed.contains(&method) {
            let mut reply = Reply::abort(405);
            reply.headers.push(("allow".into(), allowed.join(", ")));
            return Ok(reply);
        }
        let int = |s: &str| path_int(s).ok_or_else(|| Failure::Reply(Reply::abort(404)));
        match (method, segs.as_slice()) {
            ("GET", ["capabilities"]) => Ok(self.capabilities(cx)),
            ("GET", ["rooms"]) => self.get_rooms(cx),
            ("GET", ["room", t]) => {
                let room = cx.room(t)?;
                let perms = cx.perms(&room)?;
                if !perms.accessible {
                    return Ok(Reply::abort(404));
                }
                cx.touch_room(&room)?;
                Ok(Reply::ok(&cx.room_json(&room, &perms)?))
            }
            ("PUT", ["room", t]) => self.update_room(cx, t, body),
            ("GET", ["room", t, "pollInfo", n]) => self.poll_info(cx, t, int(n)?),
            ("GET", ["room", t, "messages", "since", n]) => self.messages_since(cx, t, int(n)?),
            ("GET", ["room", t, "messages", "recent"]) => self.messages_list(cx, t, None),
            ("GET", ["room", t, "messages", "before", n]) => self.messages_list(cx, t, Some(int(n)?)),
            ("GET", ["room", t, "message", id]) => self.message_single(cx, t, int(id)?),
            ("POST", ["room", t, "message"]) => self.post_message(cx, t, body),
            ("PUT", ["room", t, "message", id]) => self.edit_message(cx, t, int(id)?, body),
            ("DELETE", ["room", t, "message", id]) => self.delete_message(cx, t, int(id)?),
            ("PUT", ["room", t, "reaction", id, emoji]) => self.react(cx, t, int(id)?, emoji, true),
            ("DELETE", ["room", t, "reaction", id, emoji]) => self.react(cx, t, int(id)?, emoji, false),
            ("DELETE", ["room", t, "reactions", id]) => self.delete_reactions(cx, t, int(id)?, None),
            ("DELETE", ["room", t, "reactions", id, emoji]) => self.delete_reactions(cx, t, int(id)?, Some(emoji)),
            ("GET", ["room", t, "reactors", id, emoji]) => self.reactors(cx, t, int(id)?, emoji),
            ("POST", ["room", t, "file"]) => self.upload(cx, t, headers, body),
            ("GET", ["room", t, "file", id] | ["room", t, "file", id, _]) => self.download(cx, t, int(id)?),
            ("POST", ["room", t, "pin", id]) => self.pin(cx, t, int(id)?),
            ("POST", ["room", t, "unpin", "all"]) => self.unpin(cx, t, None),
            ("POST", ["room", t, "unpin", id]) => self.unpin(cx, t, Some(int(id)?)),
            ("DELETE", ["room", t, "all", sid]) => self.delete_all_in_room(cx, t, sid),
            ("DELETE", ["rooms", "all", sid]) => self.delete_all_everywhere(cx, sid),
            ("POST", ["user", sid, action]) => self.user_action(cx, sid, action, body),
            ("POST", ["inbox", sid]) => self.send_dm(cx, sid, body),
            ("GET", ["inbox"]) => self.mailbox(cx, true, None),
            ("GET", ["inbox", "since", id]) => self.mailbox(cx, true, Some(int(id)?)),
            ("GET", ["outbox"]) => self.mailbox(cx, false, None),
            ("GET", ["outbox", "since", id]) => self.mailbox(cx, false, Some(int(id)?)),
            ("DELETE", ["inbox"]) => self.delete_inbox(cx),
            ("POST", ["batch"]) if outer => self.batch(cx, body, false),
            ("POST", ["sequence"]) if outer => self.batch(cx, body, true),
            _ => Ok(Reply::abort(404)),
        }
    }

    fn capabilities(&self, cx: &Cx<'_>) -> Reply {
        let mut caps = vec!["reactions", "sogs"];
        if !self.config.accept_unblinded {
            caps.insert(0, "blind");
        }
        if let Some(required) = cx.query.get("required") {
            let missing: Vec<&str> = required.split(',').filter(|c| !c.is_empty() && !caps.contains(c)).collect();
            if !missing.is_empty() {
                return Reply::json(412, &json!({ "capabilities": caps, "missing": missing }));
            }
        }
        Reply::ok(&json!({ "capabilities": caps }))
    }

    fn get_rooms(&self, cx: &Cx<'_>) -> Answer {
        let mut stmt = cx.db.prepare(&format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY token"))?;
        let rooms: Vec<Room> = stmt.query_map([], room_row)?.collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for room in rooms {
            let perms = cx.perms(&room)?;
            if perms.accessible {
                out.push(cx.room_json(&room, &perms)?);
            }
        }
        Ok(Reply::ok(&Value::Array(out)))
    }

    fn update_room(&self, cx: &Cx<'_>, token: &str, body: &[u8]) -> Answer {
        let (room, _) = cx.mod_room(token, true)?;
        let req = json_body(body)?;
        let mut changed = false;
        for (key, value) in &req {
            match (key.as_str(), value) {
                ("name", Value::String(name)) => {
                    cx.db.execute("UPDATE rooms SET name = ?2 WHERE id = ?1", params![room.id, name])?;
                }
                ("description", Value::String(_) | Value::Null) => {
                    cx.db
                        .execute("UPDATE rooms SET description = ?2 WHERE id = ?1", params![room.id, value.as_str()])?;
                }
                ("image", Value::Number(n)) => {
                    let id = n.as_i64().ok_or_else(|| Reply::abort(406))?;
                    let n = cx.db.execute(
                        "UPDATE files SET expiry = NULL WHERE id = ?1 AND room = ?2 AND (expiry IS NULL OR expiry > ?3)",
                        params![id, room.id, cx.now],
                    )?;
                    if n == 0 {
                        return Ok(Reply::abort(406));
                    }
                    cx.db.execute("UPDATE rooms SET image = ?2 WHERE id = ?1", params![room.id, id])?;
                }
                ("default_read" | "default_accessible" | "default_write" | "default_upload", Value::Bool(b)) => {
                    let column = key.trim_start_matches("default_");
                    cx.db.execute(&format!("UPDATE rooms SET {column} = ?2 WHERE id = ?1"), params![room.id, b])?;
                }
                _ => return Ok(Reply::abort(400)),
            }
            changed = true;
        }
        let info_updates = if changed { cx.bump_info(room.id)? } else { room.info_updates };
        Ok(Reply::ok(&json!({ "info_updates": info_updates })))
    }

    fn poll_info(&self, cx: &Cx<'_>, token: &str, info_updates: i64) -> Answer {
        let (room, perms) = cx.readable_room(token)?;
        let active: i64 = cx.db.query_row(
            "SELECT COUNT(*) FROM room_users WHERE room = ?1 AND last_active >= ?2",
            params![room.id, cx.now - ACTIVE_CUTOFF as f64],
            |r| r.get(0),
        )?;
        let mut m = Map::new();
        m.insert("token".into(), json!(room.token));
        m.insert("active_users".into(), json!(active));
        Cx::perm_fields(&mut m, &perms);
        if room.info_updates != info_updates {
            m.insert("details".into(), cx.room_json(&room, &perms)?);
        }
        Ok(Reply::ok(&Value::Object(m)))
    }

    fn reactor_limit(cx: &Cx<'_>) -> Result<i64, Reply> {
        cx.int("reactors", 4, 0, 20)
    }

    fn messages_since(&self, cx: &Cx<'_>, token: &str, since: i64) -> Answer {
        let (room, perms) = cx.readable_room(token)?;
        let limit = cx.int("limit", 100, 1, 256)?;
        let reactors = Self::reactor_limit(cx)?;
        let reaction_updates = cx.query.get("t").is_some_and(|t| t.contains('r'));
        let updated = if reaction_updates { "m.seqno > ?4" } else { "m.seqno_data > ?4" };
        let rows = cx.messages(
            &format!(
                "m.room = ?1 AND {VISIBLE} AND {updated} AND (m.data IS NOT NULL OR m.seqno_creation <= ?4)
                 ORDER BY m.seqno LIMIT ?5"
            ),
            &[&room.id, &cx.user_id(), &perms.moderator, &since, &limit],
        )?;
        let mut out = Vec::new();
        for m in rows {
            if m.seqno_data > since || m.data.is_none() {
                out.push(cx.message_json(&m, reactors)?);
            } else {
                out.push(json!({ "id": m.id, "seqno": m.seqno, "reactions": cx.reactions(m.id, reactors)? }));
            }
        }
        Ok(Reply::ok(&Value::Array(out)))
    }

    fn messages_list(&self, cx: &Cx<'_>, token: &str, before: Option<i64>) -> Answer {
        let (room, perms) = cx.readable_room(token)?;
        let limit = cx.int("limit", 100, 1, 256)?;
        let reactors = Self::reactor_limit(cx)?;
        let rows = cx.messages(
            &format!("m.room = ?1 AND {VISIBLE} AND m.data IS NOT NULL AND m.id < ?4 ORDER BY m.id DESC LIMIT ?5"),
            &[&room.id, &cx.user_id(), &perms.moderator, &before.unwrap_or(i64::MAX), &limit],
        )?;
        let out = rows.iter().map(|m| cx.message_json(m, reactors)).collect::<Result<Vec<_>, _>>()?;
        Ok(Reply::ok(&Value::Array(out)))
    }

    fn visible_message(&self, cx: &Cx<'_>, room: &Room, perms: &Perms, id: i64) -> Result<Option<MessageRow>, Failure> {
        let rows = cx.messages(
            &format!("m.room = ?1 AND {VISIBLE} AND m.data IS NOT NULL AND m.id = ?4"),
            &[&room.id, &cx.user_id(), &perms.moderator, &id],
        )?;
        Ok(rows.into_iter().next())
    }

    fn message_single(&self, cx: &Cx<'_>, token: &str, id: i64) -> Answer {
        let (room, perms) = cx.readable_room(token)?;
        let reactors = Self::reactor_limit(cx)?;
        match self.visible_message(cx, &room, &perms, id)? {
            Some(m) => Ok(Reply::ok(&cx.message_json(&m, reactors)?)),
            None => Ok(Reply::abort(404)),
        }
    }

    /// Links `files` (ids, or numeric strings) of the room to a message, for 15 days.
    fn link_files(&self, cx: &Cx<'_>, room: &Room, message: i64, files: Option<&Value>) -> Result<(), Failure> {
        let Some(files) = files else { return Ok(()) };
        let Some(files) = files.as_array() else { return Err(Reply::abort(400).into()) };
        for f in files {
            let id = match f {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => int_param(s),
                _ => None,
            };
            let Some(id) = id else { return Err(Reply::abort(400).into()) };
            cx.db.execute(
                "UPDATE files SET message = ?3, expiry = ?4
                 WHERE id = ?1 AND room = ?2 AND message IS NULL AND expiry IS NOT NULL AND expiry > ?5",
                params![id, room.id, message, cx.now + LINKED_EXPIRY, cx.now],
            )?;
        }
        Ok(())
    }

    fn post_message(&self, cx: &Cx<'_>, token: &str, body: &[u8]) -> Answer {
        let user = cx.require_user()?;
        let room = cx.room(token)?;
        let perms = cx.perms(&room)?;
        if !perms.accessible {
            return Ok(Reply::abort(404));
        }
        if !perms.write {
            return Ok(Reply::abort(403));
        }
        let req = json_body(body)?;
        let data = base64_field(&req, "data")?;
        let signature = base64_field(&req, "signature")?;
        if signature.len() != 64 {
            return Ok(Reply::abort(400));
        }
        let whisper_to = match req.get("whisper_to") {
            None | Some(Value::Null) => None,
            Some(Value::String(sid)) if valid_session_id(sid, true) => {
                Some(user_by_session_id(cx.db, sid, true, cx.now)?.ok_or_else(Reply::internal)?)
            }
            Some(_) => return Ok(Reply::abort(400)),
        };
        let whisper_mods = match req.get("whisper_mods") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Ok(Reply::abort(400)),
        };
        if (whisper_to.is_some() || whisper_mods) && !perms.moderator {
            return Ok(Reply::abort(403));
        }
        if !perms.admin {
            let recent: i64 = cx.db.query_row(
                "SELECT COUNT(*) FROM messages WHERE room = ?1 AND user = ?2 AND posted > ?3",
                params![room.id, user.id, cx.now - self.config.rate_window],
                |r| r.get(0),
            )?;
            if recent >= i64::from(self.config.rate_posts) {
                return Ok(Reply::abort(429));
            }
        }
        cx.touch_room(&room)?;
        let seqno = cx.next_seqno(&room)?;
        let id: i64 = cx.db.query_row(
            "INSERT INTO messages (room, user, posted, seqno, seqno_data, seqno_creation, data, signature,
                 whisper_to, whisper_mods)
             VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![room.id, user.id, cx.now, seqno, data, signature, whisper_to.as_ref().map(|u| u.id), whisper_mods],
            |r| r.get(0),
        )?;
        self.link_files(cx, &room, id, req.get("files"))?;
        let row = MessageRow {
            id,
            session_id: user.session_id.clone(),
            posted: cx.now,
            edited: None,
            seqno,
            seqno_data: seqno,
            data: Some(data),
            signature: Some(signature),
            whisper_to: whisper_to.map(|u| u.session_id),
            whisper_mods,
        };
        let mut value = cx.message_json(&row, 0)?;
        if let Some(o) = value.as_object_mut() {
            o.insert("reactions".into(), json!({}));
        }
        Ok(Reply::json(201, &value))
    }

    fn edit_message(&self, cx: &Cx<'_>, token: &str, id: i64, body: &[u8]) -> Answer {
        let user = cx.require_user()?;
        let room = cx.room(token)?;
        let perms = cx.perms(&room)?;
        if !perms.accessible {
            return Ok(Reply::abort(404));
        }
        if !perms.write {
            return Ok(Reply::abort(403));
        }
        let req = json_body(body)?;
        let data = base64_field(&req, "data")?;
        let signature = base64_field(&req, "signature")?;
        if signature.len() != 64 {
            return Ok(Reply::abort(400));
        }
        let author: Option<i64> = cx
            .db
            .query_row(
                "SELECT user FROM messages WHERE id = ?1 AND room = ?2 AND data IS NOT NULL",
                params![id, room.id],
                |r| r.get(0),
            )
            .optional()?;
        match author {
            None => return Ok(Reply::abort(404)),
            Some(author) if author != user.id => return Ok(Reply::abort(403)),
            Some(_) => {}
        }
        let seqno = cx.next_seqno(&room)?;
        cx.db.execute(
            "UPDATE messages SET data = ?2, signature = ?3, edited = ?4, seqno = ?5, seqno_data = ?5 WHERE id = ?1",
            params![id, data, signature, cx.now, seqno],
        )?;
        self.link_files(cx, &room, id, req.get("files"))?;
        Ok(Reply::ok(&json!({})))
    }

    /// Deletes message `id` (already known to be in `room`) as a tombstone with a new seqno.
    fn delete_row(&self, cx: &Cx<'_>, room: &Room, id: i64) -> rusqlite::Result<()> {
        let seqno = cx.next_seqno(room)?;
        cx.db.execute(
            "UPDATE messages SET data = NULL, signature = NULL, seqno = ?2, seqno_data = ?2 WHERE id = ?1",
            params![id, seqno],
        )?;
        cx.db.execute("DELETE FROM reactions WHERE message = ?1", params![id])?;
        if cx.db.execute("DELETE FROM pinned WHERE message = ?1", params![id])? > 0 {
            cx.bump_info(room.id)?;
        }
        cx.db.execute("UPDATE files SET expiry = ?2 WHERE message = ?1 AND expiry IS NOT NULL", params![id, cx.now])?;
        Ok(())
    }

    fn delete_message(&self, cx: &Cx<'_>, token: &str, id: i64) -> Answer {
        let user = cx.require_user()?;
        let room = cx.room(token)?;
        let perms = cx.perms(&room)?;
        if !perms.accessible {
            return Ok(Reply::abort(404));
        }
        let author: Option<i64> = cx
            .db
            .query_row(
                "SELECT user FROM messages WHERE id = ?1 AND room = ?2 AND data IS NOT NULL",
                params![id, room.id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(author) = author else { return Ok(Reply::abort(404)) };
        if !(perms.moderator || (author == user.id && perms.write)) {
            return Ok(Reply::abort(403));
        }
        self.delete_row(cx, &room, id)?;
        Ok(Reply::ok(&json!({})))
    }

    /// An emoji reaction in a path: 1–12 code points.
    fn valid_reaction(emoji: &str) -> bool {
        (1..=12).contains(&emoji.chars().count())
    }

    fn react(&self, cx: &Cx<'_>, token: &str, id: i64, emoji: &str, add: bool) -> Answer {
        let user = cx.require_user()?;
        let (room, perms) = cx.readable_room(token)?;
        if !Self::valid_reaction(emoji) {
            return Ok(Reply::abort(400));
        }
        if self.visible_message(cx, &room, &perms, id)?.is_none() {
            return Ok(Reply::abort(404));
        }
        let changed = if add {
            cx.db.execute(
                "INSERT INTO reactions (message, reaction, user, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![id, emoji, user.id, cx.now],
            )?
        } else {
            cx.db.execute(
                "DELETE FROM reactions WHERE message = ?1 AND reaction = ?2 AND user = ?3",
                params![id, emoji, user.id],
            )?
        } > 0;
        let seqno = self.reaction_seqno(cx, &room, id, changed)?;
        Ok(Reply::ok(&json!({ if add { "added" } else { "removed" }: changed, "seqno": seqno })))
    }

    /// The message's seqno after a reaction change (a new one when something changed).
    fn reaction_seqno(&self, cx: &Cx<'_>, room: &Room, id: i64, changed: bool) -> rusqlite::Result<i64> {
        if changed {
            let seqno = cx.next_seqno(room)?;
            cx.db.execute("UPDATE messages SET seqno = ?2, seqno_reactions = ?2 WHERE id = ?1", params![id, seqno])?;
            return Ok(seqno);
        }
        cx.db.query_row("SELECT seqno FROM messages WHERE id = ?1", params![id], |r| r.get(0))
    }

    fn delete_reactions(&self, cx: &Cx<'_>, token: &str, id: i64, emoji: Option<&str>) -> Answer {
        let (room, perms) = cx.mod_room(token, false)?;
        if emoji.is_some_and(|e| !Self::valid_reaction(e)) {
            return Ok(Reply::abort(400));
        }
        if self.visible_message(cx, &room, &perms, id)?.is_none() {
            return Ok(Reply::abort(404));
        }
        let removed = match emoji {
            Some(e) => cx.db.execute("DELETE FROM reactions WHERE message = ?1 AND reaction = ?2", params![id, e])?,
            None => cx.db.execute("DELETE FROM reactions WHERE message = ?1", params![id])?,
        };
        let seqno = self.reaction_seqno(cx, &room, id, removed > 0)?;
        Ok(Reply::ok(&json!({ "removed": removed, "seqno": seqno })))
    }

    fn reactors(&self, cx: &Cx<'_>, token: &str, id: i64, emoji: &str) -> Answer {
        let (room, perms) = cx.readable_room(token)?;
        if !Self::valid_reaction(emoji) {
            return Ok(Reply::abort(400));
        }
        let limit = cx.int("limit", 100, 1, 256)?;
        if self.visible_message(cx, &room, &perms, id)?.is_none() {
            return Ok(Reply::abort(404));
        }
        let mut stmt = cx.db.prepare(
            "SELECT u.session_id, r.at FROM reactions r JOIN users u ON r.user = u.id
             WHERE r.message = ?1 AND r.reaction = ?2 ORDER BY r.at, r.id LIMIT ?3",
        )?;
        let rows: Vec<Value> = stmt
            .query_map(params![id, emoji, limit], |r| {
                let (sid, at): (String, f64) = (r.get(0)?, r.get(1)?);
                Ok(json!([sid, at]))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Reply::ok(&Value::Array(rows)))
    }

    fn upload(&self, cx: &Cx<'_>, token: &str, headers: &Headers, body: &[u8]) -> Answer {
        let user = cx.require_user()?;
        let room = cx.room(token)?;
        let perms = cx.perms(&room)?;
        if !perms.accessible {
            return Ok(Reply::abort(404));
        }
        if !(perms.write && perms.upload) {
            return Ok(Reply::abort(403));
        }
        if body.is_empty() {
            return Ok(Reply::abort(400));
        }
        if body.len() > self.config.max_file_size {
            return Ok(Reply::abort(413));
        }
        let filename = headers.get("content-disposition").and_then(|d| filename(d));
        let id: i64 = cx.db.query_row(
            "INSERT INTO files (room, uploader, size, uploaded, expiry, filename, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![room.id, user.id, body.len(), cx.now, cx.now + UPLOAD_EXPIRY, filename, body],
            |r| r.get(0),
        )?;
        Ok(Reply::json(201, &json!({ "id": id })))
    }

    fn download(&self, cx: &Cx<'_>, token: &str, id: i64) -> Answer {
        let (room, _) = cx.readable_room(token)?;
        type FileRow = (Vec<u8>, Option<f64>, Option<String>);
        let row: Option<FileRow> = cx
            .db
            .query_row(
                "SELECT data, expiry, filename FROM files WHERE id = ?1 AND room = ?2 AND (expiry IS NULL OR expiry > ?3)",
                params![id, room.id, cx.now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((data, expiry, name)) = row else { return Ok(Reply::abort(404)) };
        let mut reply = Reply::new(200, "application/octet-stream", data);
        let http_date = |t: f64| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(t.max(0.0) as u64));
        reply.headers.push(("date".into(), http_date(cx.now)));
        if let Some(expiry) = expiry {
            reply.headers.push(("expires".into(), http_date(expiry)));
        }
        let disposition = match name {
            Some(name) => format!("attachment; filename*=UTF-8''{}", percent_encode(&name)),
            None => "attachment".to_owned(),
        };
        reply.headers.push(("content-disposition".into(), disposition));
        Ok(reply)
    }

    fn pin(&self, cx: &Cx<'_>, token: &str, id: i64) -> Answer {
        let (room, perms) = cx.mod_room(token, true)?;
        let user = cx.require_user()?;
        if self.visible_message(cx, &room, &perms, id)?.is_none() {
            return Ok(Reply::abort(404));
        }
        cx.db.execute(
            "INSERT INTO pinned (room, message, pinned_by, pinned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (room, message) DO UPDATE SET pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at",
            params![room.id, id, user.id, cx.now],
        )?;
        let info_updates = cx.bump_info(room.id)?;
        Ok(Reply::ok(&json!({ "info_updates": info_updates })))
    }

    fn unpin(&self, cx: &Cx<'_>, token: &str, id: Option<i64>) -> Answer {
        let (room, _) = cx.mod_room(token, true)?;
        let count = match id {
            Some(id) => cx.db.execute("DELETE FROM pinned WHERE room = ?1 AND message = ?2", params![room.id, id])?,
            None => cx.db.execute("DELETE FROM pinned WHERE room = ?1", params![room.id])?,
        };
        let info_updates = if count > 0 { cx.bump_info(room.id)? } else { room.info_updates };
        let unpinned = if id.is_some() { json!(count > 0) } else { json!(count) };
        Ok(Reply::ok(&json!({ "unpinned": unpinned, "info_updates": info_updates })))
    }

    fn target_user(&self, cx: &Cx<'_>, sid: &str) -> Result<User, Failure> {
        if !valid_session_id(sid, true) {
            return Err(Reply::abort(404).into());
        }
        Ok(user_by_session_id(cx.db, sid, true, cx.now)?.ok_or_else(Reply::internal)?)
    }

    fn delete_all_in_room(&self, cx: &Cx<'_>, token: &str, sid: &str) -> Answer {
        let (room, _) = cx.mod_room(token, false)?;
        let target = self.target_user(cx, sid)?;
        let n = self.delete_user_posts(cx, &room, target.id)?;
        Ok(if n == 0 { Reply::abort(404) } else { Reply::ok(&json!({})) })
    }

    fn delete_user_posts(&self, cx: &Cx<'_>, room: &Room, user: i64) -> rusqlite::Result<usize> {
        let mut stmt =
            cx.db.prepare("SELECT id FROM messages WHERE room = ?1 AND user = ?2 AND data IS NOT NULL ORDER BY id")?;
        let ids: Vec<i64> = stmt.query_map(params![room.id, user], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for &id in &ids {
            self.delete_row(cx, room, id)?;
        }
        Ok(ids.len())
    }

    fn delete_all_everywhere(&self, cx: &Cx<'_>, sid: &str) -> Answer {
        cx.require_user()?;
        let target = self.target_user(cx, sid)?;
        let mut stmt = cx.db.prepare(&format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY token"))?;
        let rooms: Vec<Room> = stmt.query_map([], room_row)?.collect::<Result<_, _>>()?;
        let (mut total, mut per_room) = (0, Map::new());
        for room in rooms {
            if cx.perms(&room)?.moderator {
                let n = self.delete_user_posts(cx, &room, target.id)?;
                total += n;
                per_room.insert(room.token.clone(), json!(n));
            }
        }
        Ok(Reply::ok(&json!({ "total": total, "rooms": per_room })))
    }

    /// The rooms (or global scope) a ban/unban/moderator request names; each room must be one
    /// the caller moderates (or administers, with `admin`).
    fn scope_rooms(&self, cx: &Cx<'_>, req: &Map<String, Value>, admin: bool) -> Result<Scope, Failure> {
        let global = match req.get("global") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(Reply::abort(400).into()),
        };
        let rooms = req.get("rooms").filter(|v| !v.is_null());
        match (global, rooms) {
            (true, None) => {
                let user = cx.require_user()?;
                let (g_mod, g_admin): (bool, bool) =
                    cx.db.query_row("SELECT moderator, admin FROM users WHERE id = ?1", params![user.id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                if !(g_admin || (!admin && g_mod)) {
                    return Err(Reply::text(
                        403,
                        &format!(
                            "This endpoint requires global {} permissions",
                            if admin { "admin" } else { "moderator" }
                        ),
                    )
                    .into());
                }
                Ok(Scope::Global)
            }
            (false, Some(Value::Array(rooms))) if !rooms.is_empty() => {
                let tokens: Option<Vec<&str>> = rooms.iter().map(Value::as_str).collect();
                let Some(tokens) = tokens else { return Err(Reply::abort(400).into()) };
                if tokens == ["*"] {
                    let mut stmt = cx.db.prepare(&format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY token"))?;
                    let all: Vec<Room> = stmt.query_map([], room_row)?.collect::<Result<_, _>>()?;
                    let mut mine = Vec::new();
                    for room in all {
                        let p = cx.perms(&room)?;
                        if if admin { p.admin } else { p.moderator } {
                            mine.push(room.token);
                        }
                    }
                    return Ok(Scope::Rooms(mine));
                }
                for token in &tokens {
                    cx.mod_room(token, admin)?;
                }
                Ok(Scope::Rooms(tokens.into_iter().map(str::to_owned).collect()))
            }
            _ => Err(Reply::abort(400).into()),
        }
    }

    fn user_action(&self, cx: &Cx<'_>, sid: &str, action: &str, body: &[u8]) -> Answer {
        cx.require_user()?;
        let target = self.target_user(cx, sid)?;
        let req = json_body(body)?;
        match action {
            "ban" | "unban" => {
                let scope = self.scope_rooms(cx, &req, false)?;
                let until = match req.get("timeout") {
                    None | Some(Value::Null) => None,
                    Some(Value::Number(n)) => Some(cx.now + n.as_f64().unwrap_or(0.0)),
                    Some(_) => return Ok(Reply::abort(400)),
                };
                let ban = action == "ban";
                match scope {
                    Scope::Global => {
                        cx.db.execute(
                            "UPDATE users SET banned = ?2, banned_until = ?3 WHERE id = ?1",
                            params![target.id, ban, until.filter(|_| ban)],
                        )?;
                    }
                    Scope::Rooms(tokens) => {
                        for token in tokens {
                            let room = cx.room(&token)?;
                            cx.db.execute(
                                "INSERT INTO room_users (room, user, banned, banned_until) VALUES (?1, ?2, ?3, ?4)
                                 ON CONFLICT (room, user) DO UPDATE SET banned = excluded.banned,
                                     banned_until = excluded.banned_until",
                                params![room.id, target.id, ban, until.filter(|_| ban)],
                            )?;
                        }
                    }
                }
                claim_known(cx.db, &self.x25519(), self.config.accept_unblinded, sid)?;
                Ok(Reply::ok(&json!({})))
            }
            "moderator" => {
                let flag = |name: &str| match req.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Bool(b)) => Ok(Some(*b)),
                    Some(_) => Err(Reply::abort(400)),
                };
                let (moderator, admin, visible) = (flag("moderator")?, flag("admin")?, flag("visible")?);
                if moderator.is_none() && admin.is_none() {
                    return Ok(Reply::abort(400));
                }
                let scope = self.scope_rooms(cx, &req, true)?;
                let info_updates = set_moderator(cx, &scope, target.id, moderator, admin, visible)?;
                claim_known(cx.db, &self.x25519(), self.config.accept_unblinded, sid)?;
                Ok(Reply::ok(&json!({ "info_updates": info_updates })))
            }
            _ => Ok(Reply::abort(404)),
        }
    }

    fn send_dm(&self, cx: &Cx<'_>, sid: &str, body: &[u8]) -> Answer {
        let user = cx.require_user()?;
        if !(sid.len() == 66 && sid.starts_with("15") && sid.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Ok(Reply::abort(404));
        }
        let Some(recipient) = user_by_session_id(cx.db, sid, false, cx.now)? else {
            return Ok(Reply::abort(404));
        };
        if globally_banned(cx.db, recipient.id, cx.now)? {
            return Ok(Reply::abort(404));
        }
        let req = json_body(body)?;
        let message = base64_field(&req, "message")?;
        if message.is_empty() {
            return Ok(Reply::abort(400));
        }
        let expiry = cx.now + DM_EXPIRY;
        let id: i64 = cx.db.query_row(
            "INSERT INTO inbox (recipient, sender, body, posted_at, expiry) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            params![recipient.id, user.id, message, cx.now, expiry],
            |r| r.get(0),
        )?;
        Ok(Reply::json(
            201,
            &json!({ "id": id, "posted_at": cx.now, "expires_at": expiry, "sender": user.session_id, "recipient": sid }),
        ))
    }

    fn mailbox(&self, cx: &Cx<'_>, inbox: bool, since: Option<i64>) -> Answer {
        let user = cx.require_user()?;
        if !user.blinded() {
            return Ok(Reply::text(401, "This endpoint requires blinded pubkeys be used"));
        }
        let limit = cx.int("limit", 100, 1, 256)?;
        let mine = if inbox { "i.recipient" } else { "i.sender" };
        let mut stmt = cx.db.prepare(&format!(
            "SELECT i.id, i.posted_at, i.expiry, s.session_id, r.session_id, i.body
             FROM inbox i JOIN users s ON i.sender = s.id JOIN users r ON i.recipient = r.id
             WHERE {mine} = ?1 AND i.id > ?2 AND i.expiry > ?3 ORDER BY i.id LIMIT ?4"
        ))?;
        let rows: Vec<Value> = stmt
            .query_map(params![user.id, since.unwrap_or(0), cx.now, limit], |r| {
                let (id, posted, expiry, sender, recipient, body): (i64, f64, f64, String, String, Vec<u8>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                Ok(json!({ "id": id, "posted_at": posted, "expires_at": expiry, "sender": sender,
                    "recipient": recipient, "message": STANDARD.encode(body) }))
            })?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() && since.is_some() {
            return Ok(Reply { status: 304, headers: Vec::new(), body: Vec::new() });
        }
        Ok(Reply::ok(&Value::Array(rows)))
    }

    fn delete_inbox(&self, cx: &Cx<'_>) -> Answer {
        let user = cx.require_user()?;
        if !user.blinded() {
            return Ok(Reply::text(401, "This endpoint requires blinded pubkeys be used"));
        }
        let n = cx.db.execute("DELETE FROM inbox WHERE recipient = ?1", params![user.id])?;
        Ok(Reply::ok(&json!({ "deleted": n })))
    }

    /// `/batch` and `/sequence`: sub-requests run as the outer request's user.
    fn batch(&self, cx: &Cx<'_>, body: &[u8], sequence: bool) -> Answer {
        let Ok(Value::Array(requests)) = serde_json::from_slice::<Value>(body) else { return Ok(Reply::abort(400)) };
        let mut parsed = Vec::with_capacity(requests.len());
        for request in &requests {
            let Some(sub) = parse_subrequest(request) else { return Ok(Reply::abort(400)) };
            parsed.push(sub);
        }
        let mut out = Vec::with_capacity(parsed.len());
        for (method, path, headers, body) in parsed {
            let (path, query) = path.split_once('?').unwrap_or((&path, ""));
            let path = percent_decode(path, false);
            let reply = self.dispatch(cx.db, cx.user, &method, &path, query, &headers, &body, cx.now, false);
            let ok = (200..300).contains(&reply.status);
            out.push(subresponse(reply));
            if sequence && !ok {
                break;
            }
        }
        Ok(Reply::ok(&Value::Array(out)))
    }
}

/// One element of a batch: method, path (with query), headers, body; `None` if malformed.
fn parse_subrequest(value: &Value) -> Option<(String, String, Headers, Vec<u8>)> {
    let o = value.as_object()?;
    let method = o.get("method")?.as_str()?;
    if !matches!(method, "GET" | "POST" | "PUT" | "DELETE") {
        return None;
    }
    let path = o.get("path")?.as_str()?;
    if !path.starts_with('/') {
        return None;
    }
    let mut headers = subrequest_headers(o.get("headers"))?;
    let bodies = [o.get("json"), o.get("b64"), o.get("bytes")];
    let given = bodies.iter().filter(|b| b.is_some()).count();
    let body = match method {
        "GET" | "DELETE" if given == 0 => Vec::new(),
        "POST" | "PUT" if given == 1 => match bodies {
            [Some(json), _, _] => {
                headers.entry("content-type".into()).or_insert_with(|| "application/json".into());
                json.to_string().into_bytes()
            }
            [_, Some(b64), _] => STANDARD.decode(b64.as_str()?).ok()?,
            [_, _, Some(bytes)] => bytes.as_str()?.as_bytes().to_vec(),
            _ => return None,
        },
        _ => return None,
    };
    Some((method.to_owned(), path.to_owned(), headers, body))
}

/// A sub-request's answer in a batch reply: JSON bodies as JSON, others as base64.
fn subresponse(reply: Reply) -> Value {
    let content_type = reply.header("content-type").unwrap_or_default().to_owned();
    let body = if content_type == "application/json" {
        serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
    } else {
        json!(STANDARD.encode(&reply.body))
    };
    let headers: Map<String, Value> = reply.headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    json!({ "code": reply.status, "headers": headers, "body": body })
}

/// [`Community::claim_known`].
fn claim_known(db: &Connection, server: &[u8; 32], accept_unblinded: bool, session_id: &str) -> rusqlite::Result<()> {
    if accept_unblinded {
        return Ok(());
    }
    let Ok(session) = session_id.parse::<crypto_core::identity::SessionId>() else { return Ok(()) };
    let Ok(candidates) = crypto_core::community::blind15_ids(&session, server) else { return Ok(()) };
    for candidate in candidates {
        if let Some(user) = user_by_session_id(db, &candidate.to_string(), false, 0.0)? {
            claim_unblinded(db, server, &user)?;
        }
    }
    Ok(())
}

/// Sets moderator/admin flags for `user` in `scope`; the last room's `info_updates` (or 0).
fn set_moderator(
    cx: &Cx<'_>,
    scope: &Scope,
    user: i64,
    moderator: Option<bool>,
    admin: Option<bool>,
    visible: Option<bool>,
) -> Result<i64, Failure> {
    // admin=true ⇒ moderator too; moderator=false ⇒ not admin either.
    let (moderator, admin) = match (moderator, admin) {
        (_, Some(true)) => (true, true),
        (Some(false), _) => (false, false),
        (Some(true), a) => (true, a.unwrap_or(false)),
        (None, Some(false)) => (true, false),
        (None, None) => return Err(Reply::abort(400).into()),
    };
    match scope {
        Scope::Global => {
            cx.db.execute(
                "UPDATE users SET moderator = ?2, admin = ?3, visible = ?4 WHERE id = ?1",
                params![user, moderator, admin, visible.unwrap_or(false)],
            )?;
            Ok(0)
        }
        Scope::Rooms(tokens) => {
            let mut info = 0;
            for token in tokens {
                let room = cx.room(token)?;
                cx.db.execute(
                    "INSERT INTO room_users (room, user, moderator, admin, visible) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (room, user) DO UPDATE SET moderator = excluded.moderator, admin = excluded.admin,
                         visible = excluded.visible",
                    params![room.id, user, moderator, admin, visible.unwrap_or(true)],
                )?;
                info = cx.bump_info(room.id)?;
            }
            Ok(info)
        }
    }
}

/// The filename of a `Content-Disposition` (`filename*=UTF-8''…` or `filename="…"`).
fn filename(disposition: &str) -> Option<String> {
    for part in disposition.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.strip_prefix("UTF-8''").or_else(|| v.strip_prefix("utf-8''"))?;
            return Some(percent_decode(v, false));
        }
    }
    disposition
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("filename="))
        .map(|v| v.trim_matches('"').to_owned())
}

/// RFC 5987 percent-encoding of a filename.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

/// Deletes expired files, DMs and nonces every 15 s, for as long as the runtime runs.
pub fn spawn_sweeper(server: Arc<Community>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
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
    fn json_is_flask_s() {
        assert_eq!(flask_json(&json!({"b": 1, "a": "👍"})), r#"{"a":"\ud83d\udc4d","b":1}"#);
    }

    #[test]
    fn filenames_round_trip() {
        assert_eq!(filename("attachment; filename*=UTF-8''caf%C3%A9.jpg").as_deref(), Some("café.jpg"));
        assert_eq!(filename("attachment; filename=\"a.png\"").as_deref(), Some("a.png"));
        assert_eq!(percent_encode("café.jpg"), "caf%C3%A9.jpg");
    }

    #[test]
    fn ints_are_flask_s() {
        assert_eq!(path_int("12"), Some(12));
        assert_eq!(path_int("-1"), None);
        assert_eq!(int_param("-1"), Some(-1));
        assert_eq!(int_param("1.5"), None);
    }
}
