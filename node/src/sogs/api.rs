//! The endpoints (protocol-communities §4), answered as pysogs answers them: its routes and
//! converters (an unknown room, a non-numeric id or a malformed session id is Werkzeug's 404,
//! a known path with another method its 405), its permission checks in its order, its JSON, and
//! its error bodies ([`Reply`]).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::auth::Request;
use super::{ACTIVE_CUTOFF, Community, DM_EXPIRY, LINKED_EXPIRY, Py, Reply, UPLOAD_EXPIRY, User, db};
use crate::wsgi::{Headers, percent_bytes};

/// Percent-decodes a path (`%xx` escapes; a `%` without two hex digits stays). `None` when the
/// result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    String::from_utf8(percent_bytes(text, false)).ok()
}

/// The query's parameters as `request.args.get` reads them (the first of a repeated name).
fn parse_query(query: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = String::from_utf8_lossy(&percent_bytes(k, true)).into_owned();
        map.entry(k).or_insert_with(|| String::from_utf8_lossy(&percent_bytes(v, true)).into_owned());
    }
    map
}

/// Python's `int(str)`, where the server keeps an i64.
fn python_int(text: &str) -> Option<i64> {
    crate::wsgi::python_int(text).and_then(|v| i64::try_from(v).ok())
}

/// Python's `int(x)` of a JSON value; `None` where Python raises.
fn python_int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.trunc() as i64)),
        Value::String(s) => python_int(s),
        _ => None,
    }
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// pysogs' `decode_base64`: padding optional, the alphabet strict. `None` where it raises (an
/// uncaught error there: a 500).
fn decode_base64(value: Option<&Value>) -> Option<Vec<u8>> {
    let text = value?.as_str()?;
    if text.ends_with('=') { STANDARD.decode(text).ok() } else { STANDARD_NO_PAD.decode(text).ok() }
}

/// 405 with Werkzeug's `Allow` (the route's methods, with HEAD for GET, and OPTIONS, sorted).
pub fn method_not_allowed(methods: &[&str]) -> Reply {
    let mut reply = Reply::abort(405);
    reply.headers.push(("allow".into(), allow(methods)));
    reply
}

fn allow(methods: &[&str]) -> String {
    let mut all: Vec<&str> = methods.to_vec();
    if methods.contains(&"GET") {
        all.push("HEAD");
    }
    all.push("OPTIONS");
    all.sort_unstable();
    all.dedup();
    all.join(", ")
}

pub use crate::wsgi::subrequest_headers;

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

/// A user's standing in a room, as pysogs' `check_permission` reads it: an admin may do
/// everything, a moderator everything but admin things, a banned user nothing.
#[derive(Clone, Copy, Default, Debug)]
struct Perms {
    banned: bool,
    read: bool,
    access: bool,
    write: bool,
    upload: bool,
    moderator: bool,
    admin: bool,
    global_moderator: bool,
    global_admin: bool,
}

impl Perms {
    fn can(&self, read: bool, accessible: bool, write: bool, upload: bool) -> bool {
        if self.admin || self.moderator {
            return true;
        }
        !self.banned
            && (!accessible || self.access || self.read)
            && (!read || self.read)
            && (!write || self.write)
            && (!upload || self.upload)
    }

    fn can_read(&self) -> bool {
        self.can(true, false, false, false)
    }

    fn can_access(&self) -> bool {
        self.can(false, true, false, false)
    }

    fn can_write(&self) -> bool {
        self.can(false, false, true, false)
    }

    fn can_upload(&self) -> bool {
        self.can(false, false, true, true)
    }

    fn is_mod(&self) -> bool {
        self.admin || self.moderator
    }
}

/// One request's context.
struct Cx<'a> {
    sogs: &'a Community,
    db: &'a Connection,
    user: Option<&'a User>,
    now: f64,
    query: BTreeMap<String, String>,
    headers: &'a Headers,
    body: &'a [u8],
}

/// Where a path goes (pysogs' routes, by their converters).
enum Route<'a> {
    Capabilities,
    Rooms,
    Room(&'a str),
    PollInfo(&'a str, i64),
    Since(&'a str, i64),
    Before(&'a str, i64),
    Recent(&'a str),
    Message(&'a str, i64),
    Post(&'a str),
    Reaction(&'a str, i64, String),
    Reactions(&'a str, i64, Option<String>),
    Reactors(&'a str, i64, String),
    Upload(&'a str),
    File(&'a str, i64),
    Pin(&'a str, i64),
    Unpin(&'a str, i64),
    UnpinAll(&'a str),
    DeleteAll(&'a str, &'a str),
    DeleteEverywhere(&'a str),
    User(&'a str, &'a str),
    SendDm(&'a str),
    Inbox,
    InboxSince(i64),
    Outbox(Option<i64>),
    Batch(bool),
}

/// Flask's `<int:…>`.
fn int_segment(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The room converter's pattern, `[\w-]{1,64}`.
fn token_segment(text: &str) -> Option<&str> {
    let n = text.chars().count();
    ((1..=64).contains(&n) && text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')).then_some(text)
}

fn hex_id(text: &str, prefixes: &[&str]) -> bool {
    text.len() == 66 && prefixes.iter().any(|p| text.starts_with(p)) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<path:…>`: the rest of the path, not starting with `/`.
fn rest(segs: &[&str]) -> Option<String> {
    let joined = segs.join("/");
    (!joined.is_empty() && !joined.starts_with('/')).then_some(joined)
}

/// The route of `path` and its methods; `None`: Werkzeug's 404.
fn route<'a>(path: &'a str, blind: bool) -> Option<(Route<'a>, &'static [&'static str])> {
    let segs: Vec<&'a str> = path.strip_prefix('/')?.split('/').collect();
    let session_id = |s: &str| if blind { hex_id(s, &["15"]) } else { hex_id(s, &["05", "15"]) };
    let r = match segs.as_slice() {
        ["capabilities"] => (Route::Capabilities, &["GET"][..]),
        ["rooms"] => (Route::Rooms, &["GET"][..]),
        ["batch"] => (Route::Batch(false), &["POST"][..]),
        ["sequence"] => (Route::Batch(true), &["POST"][..]),
        ["inbox"] => (Route::Inbox, &["DELETE", "GET"][..]),
        ["inbox", "since", id] => (Route::InboxSince(int_segment(id)?), &["GET"][..]),
        ["inbox", sid] if hex_id(sid, &["15"]) => (Route::SendDm(sid), &["POST"][..]),
        ["outbox"] => (Route::Outbox(None), &["GET"][..]),
        ["outbox", "since", id] => (Route::Outbox(Some(int_segment(id)?)), &["GET"][..]),
        ["rooms", "all", sid] if session_id(sid) => (Route::DeleteEverywhere(sid), &["DELETE"][..]),
        ["user", sid, action @ ("ban" | "unban" | "moderator")] if hex_id(sid, &["05", "15"]) => {
            (Route::User(sid, action), &["POST"][..])
        }
        ["room", t, more @ ..] => {
            let t = token_segment(t)?;
            match more {
                [] => (Route::Room(t), &["GET", "PUT"][..]),
                ["pollInfo", n] => (Route::PollInfo(t, int_segment(n)?), &["GET"][..]),
                ["messages", "since", n] => (Route::Since(t, int_segment(n)?), &["GET"][..]),
                ["messages", "before", n] => (Route::Before(t, int_segment(n)?), &["GET"][..]),
                ["messages", "recent"] => (Route::Recent(t), &["GET"][..]),
                ["message"] => (Route::Post(t), &["POST"][..]),
                ["message", id] => (Route::Message(t, int_segment(id)?), &["DELETE", "GET", "PUT"][..]),
                ["reaction", id, emoji @ ..] => {
                    (Route::Reaction(t, int_segment(id)?, rest(emoji)?), &["DELETE", "PUT"][..])
                }
                ["reactions", id] => (Route::Reactions(t, int_segment(id)?, None), &["DELETE"][..]),
                ["reactions", id, emoji @ ..] => {
                    (Route::Reactions(t, int_segment(id)?, Some(rest(emoji)?)), &["DELETE"][..])
                }
                ["reactors", id, emoji @ ..] => (Route::Reactors(t, int_segment(id)?, rest(emoji)?), &["GET"][..]),
                ["file"] => (Route::Upload(t), &["POST"][..]),
                ["file", id] => (Route::File(t, int_segment(id)?), &["GET"][..]),
                ["file", id, name] if !name.is_empty() => (Route::File(t, int_segment(id)?), &["GET"][..]),
                ["pin", id] => (Route::Pin(t, int_segment(id)?), &["POST"][..]),
                ["unpin", "all"] => (Route::UnpinAll(t), &["POST"][..]),
                ["unpin", id] => (Route::Unpin(t, int_segment(id)?), &["POST"][..]),
                ["all", sid] if session_id(sid) => (Route::DeleteAll(t, sid), &["DELETE"][..]),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(r)
}

/// The room a route names, if any.
fn route_room<'a>(route: &Route<'a>) -> Option<&'a str> {
    match route {
        Route::Room(t)
        | Route::PollInfo(t, _)
        | Route::Since(t, _)
        | Route::Before(t, _)
        | Route::Recent(t)
        | Route::Message(t, _)
        | Route::Post(t)
        | Route::Reaction(t, _, _)
        | Route::Reactions(t, _, _)
        | Route::Reactors(t, _, _)
        | Route::Upload(t)
        | Route::File(t, _)
        | Route::Pin(t, _)
        | Route::Unpin(t, _)
        | Route::UnpinAll(t)
        | Route::DeleteAll(t, _) => Some(t),
        _ => None,
    }
}

/// Runs one (authenticated) request; whatever it changed is undone when it fails.
pub fn dispatch(sogs: &Community, conn: &Connection, user: Option<&User>, request: &Request<'_>, now: f64) -> Reply {
    if conn.execute_batch("SAVEPOINT request").is_err() {
        return Reply::internal();
    }
    let cx = Cx {
        sogs,
        db: conn,
        user,
        now,
        query: parse_query(request.query),
        headers: request.headers,
        body: request.body,
    };
    let reply = match cx.route(request.method, request.path) {
        Ok(reply) => reply,
        Err(Failure::Reply(reply)) => reply,
        Err(Failure::Db(e)) => {
            tracing::warn!(error = %e, "community server storage failed");
            Reply::internal()
        }
    };
    let end = if reply.status < 400 { "RELEASE request" } else { "ROLLBACK TO request; RELEASE request" };
    if conn.execute_batch(end).is_err() {
        return Reply::internal();
    }
    reply
}

/// A message row as the queries read it.
struct MessageRow {
    id: i64,
    session_id: String,
    posted: f64,
    edited: Option<f64>,
    seqno: i64,
    seqno_data: i64,
    seqno_reactions: i64,
    data: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    whisper_to: Option<String>,
    whisper_mods: bool,
}

const MESSAGE_SELECT: &str = "SELECT m.id, u.session_id, m.posted, m.edited, m.seqno, m.seqno_data,
        m.seqno_reactions, m.data, m.signature, w.session_id, m.whisper_mods
    FROM messages m JOIN users u ON m.user = u.id LEFT JOIN users w ON m.whisper_to = w.id";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        posted: r.get(2)?,
        edited: r.get(3)?,
        seqno: r.get(4)?,
        seqno_data: r.get(5)?,
        seqno_reactions: r.get(6)?,
        data: r.get(7)?,
        signature: r.get(8)?,
        whisper_to: r.get(9)?,
        whisper_mods: r.get(10)?,
    })
}

/// Which messages a reader sees (`?2`: the reader's id or NULL): a moderator every whisper to
/// moderators, to them or from them; a user whispers to them; everyone the rest.
fn whisper_clause(user: bool, moderator: bool) -> &'static str {
    if moderator {
        "AND (m.whisper_mods OR m.whisper_to = ?2 OR m.user = ?2 OR m.whisper_to IS NULL)"
    } else if user {
        "AND (m.whisper_to = ?2 OR (m.whisper_to IS NULL AND NOT m.whisper_mods))"
    } else {
        "AND m.whisper_to IS NULL AND NOT m.whisper_mods AND ?2 IS NULL"
    }
}

fn b64(bytes: &[u8]) -> Py {
    Py::Str(STANDARD.encode(bytes))
}

impl Cx<'_> {
    fn blind(&self) -> bool {
        !self.sogs.config.accept_unblinded
    }

    fn user_id(&self) -> Option<i64> {
        self.user.map(|u| u.id)
    }

    /// `require_user`: 401.
    fn require_user(&self) -> Result<&User, Reply> {
        self.user.ok_or_else(|| Reply::reason(401, "X-SOGS-* request authentication required"))
    }

    /// `require_blind_user`: 401.
    fn require_blind_user(&self) -> Result<&User, Reply> {
        let user = self.require_user()?;
        if !user.blinded() {
            return Err(Reply::reason(401, "This endpoint requires blinded pubkeys be used"));
        }
        Ok(user)
    }

    /// `utils.get_int_param(name, default, min, max, truncate=True)`: a value that is no integer
    /// is Werkzeug's 400.
    fn int(&self, name: &str, default: i64, range: Option<(i64, i64)>) -> Result<i64, Reply> {
        match self.query.get(name) {
            None => Ok(default),
            Some(v) => {
                let v = python_int(v).ok_or_else(|| Reply::abort(400))?;
                Ok(range.map_or(v, |(min, max)| v.clamp(min, max)))
            }
        }
    }

    fn limit(&self) -> Result<i64, Reply> {
        self.int("limit", 100, Some((1, 256)))
    }

    fn reactor_limit(&self) -> Result<i64, Reply> {
        self.int("reactors", 4, Some((0, 20)))
    }

    /// The request body as `request.json` reads it: not JSON is Werkzeug's 400.
    fn json(&self) -> Result<Value, Reply> {
        serde_json::from_slice(self.body).map_err(|_| Reply::abort(400))
    }

    /// The body as a JSON object, for handlers that call `.get` on it (anything else is a 500
    /// there).
    fn json_object(&self) -> Result<serde_json::Map<String, Value>, Reply> {
        match self.json()? {
            Value::Object(map) => Ok(map),
            _ => Err(Reply::internal()),
        }
    }

    fn room(&self, token: &str) -> rusqlite::Result<Option<Room>> {
        self.db
            .query_row(&format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE token = ?1"), params![token], room_row)
            .optional()
    }

    fn all_rooms(&self) -> rusqlite::Result<Vec<Room>> {
        let mut stmt = self.db.prepare(&format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY token"))?;
        let rooms: Vec<Room> = stmt.query_map([], room_row)?.collect::<Result<_, _>>()?;
        Ok(rooms)
    }

    /// The user's standing in `room` (the room's defaults without a user).
    fn perms_of(&self, room: &Room, user: Option<i64>) -> rusqlite::Result<Perms> {
        let mut p = Perms {
            read: room.read,
            access: room.accessible,
            write: room.write,
            upload: room.upload,
            ..Perms::default()
        };
        let Some(user) = user else { return Ok(p) };
        let global: Option<(bool, bool, bool)> = self
            .db
            .query_row(
                "SELECT moderator, admin, banned AND (banned_until IS NULL OR banned_until > ?2) FROM users WHERE id = ?1",
                params![user, self.now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (g_mod, g_admin, g_banned) = global.unwrap_or_default();
        type Override = (bool, bool, bool, Option<bool>, Option<bool>, Option<bool>, Option<bool>);
        let o: Option<Override> = self
            .db
            .query_row(
                "SELECT moderator, admin, banned AND (banned_until IS NULL OR banned_until > ?3),
                        read, accessible, write, upload
                 FROM room_users WHERE room = ?1 AND user = ?2",
                params![room.id, user, self.now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()?;
        if let Some((r_mod, r_admin, r_banned, read, accessible, write, upload)) = o {
            p.moderator = r_mod || r_admin;
            p.admin = r_admin;
            p.banned = r_banned;
            p.read = read.unwrap_or(p.read);
            p.access = accessible.unwrap_or(p.access);
            p.write = write.unwrap_or(p.write);
            p.upload = upload.unwrap_or(p.upload);
        }
        p.global_moderator = g_mod || g_admin;
        p.global_admin = g_admin;
        p.moderator |= p.global_moderator;
        p.admin |= g_admin;
        p.banned |= g_banned;
        Ok(p)
    }

    fn perms(&self, room: &Room) -> rusqlite::Result<Perms> {
        self.perms_of(room, self.user_id())
    }

    /// `require_mod(room, admin=…)`: 401 without a user, 403 with the reason.
    fn require_mod(&self, perms: &Perms, admin: bool) -> Result<(), Reply> {
        self.require_user()?;
        if !(if admin { perms.admin } else { perms.is_mod() }) {
            return Err(Reply::reason(
                403,
                &format!("This endpoint requires {} room permissions", if admin { "admin" } else { "moderator" }),
            ));
        }
        Ok(())
    }

    /// `read_required`: 403 with the reason.
    fn require_read(perms: &Perms) -> Result<(), Reply> {
        if !perms.can_read() {
            return Err(Reply::reason(403, "This endpoint requires room message 'read' permission"));
        }
        Ok(())
    }

    /// `accessible_required`: Werkzeug's 404.
    fn require_access(perms: &Perms) -> Result<(), Reply> {
        if !perms.can_access() {
            return Err(Reply::abort(404));
        }
        Ok(())
    }

    /// `update_room_activity`.
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
    fn next_seqno(&self, room: i64) -> rusqlite::Result<i64> {
        self.db.query_row(
            "UPDATE rooms SET message_sequence = message_sequence + 1 WHERE id = ?1 RETURNING message_sequence",
            params![room],
            |r| r.get(0),
        )
    }

    fn info_updates(&self, room: i64) -> rusqlite::Result<i64> {
        self.db.query_row("SELECT info_updates FROM rooms WHERE id = ?1", params![room], |r| r.get(0))
    }

    fn active_users(&self, room: &Room) -> rusqlite::Result<i64> {
        self.db.query_row(
            "SELECT COUNT(*) FROM room_users WHERE room = ?1 AND last_active >= ?2",
            params![room.id, self.now - ACTIVE_CUTOFF as f64],
            |r| r.get(0),
        )
    }

    /// `get_mods`: visible moderators and admins (room and global) by session id, and, for a
    /// moderator, the hidden ones.
    fn mods(&self, room: &Room, perms: &Perms) -> rusqlite::Result<[Vec<String>; 4]> {
        let mut lists: [Vec<String>; 4] = Default::default();
        let mut stmt = self.db.prepare(
            "SELECT session_id, MAX(visible), MAX(admin) FROM (
                 SELECT u.session_id, r.visible, r.admin FROM room_users r JOIN users u ON r.user = u.id
                     WHERE r.room = ?1 AND (r.moderator OR r.admin)
                 UNION ALL
                 SELECT session_id, visible, admin FROM users WHERE moderator OR admin
             ) WHERE ?2 OR session_id NOT LIKE '05%' GROUP BY session_id ORDER BY session_id",
        )?;
        let mut rows = stmt.query(params![room.id, !self.blind()])?;
        while let Some(r) = rows.next()? {
            let (id, visible, admin): (String, bool, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if !visible && !perms.is_mod() {
                continue;
            }
            let i = match (visible, admin) {
                (true, false) => 0,
                (true, true) => 1,
                (false, false) => 2,
                (false, true) => 3,
            };
            if let Some(list) = lists.get_mut(i) {
                list.push(id);
            }
        }
        Ok(lists)
    }

    /// The caller's flags (`moderator`, `admin`, `global_*`, and a moderator's `default_*`).
    fn standing(&self, out: &mut Py, room: &Room, perms: &Perms) {
        if perms.is_mod() {
            out.set("moderator", Py::Bool(true));
            out.set("default_read", Py::Bool(room.read));
            out.set("default_accessible", Py::Bool(room.accessible));
            out.set("default_write", Py::Bool(room.write));
            out.set("default_upload", Py::Bool(room.upload));
        }
        if perms.admin {
            out.set("admin", Py::Bool(true));
        }
        if self.user.is_some() {
            if perms.global_moderator {
                out.set("global_moderator", Py::Bool(true));
            }
            if perms.global_admin {
                out.set("global_admin", Py::Bool(true));
            }
        }
    }

    /// `get_room_info`.
    fn room_info(&self, room: &Room, perms: &Perms) -> rusqlite::Result<Py> {
        let [mods, admins, hidden_mods, hidden_admins] = self.mods(room, perms)?;
        let ids = |list: Vec<String>| Py::List(list.into_iter().map(Py::Str).collect());
        let mut out = Py::dict([
            ("token", Py::str(&room.token)),
            ("name", Py::str(&room.name)),
            ("info_updates", Py::Int(room.info_updates)),
            ("message_sequence", Py::Int(room.message_sequence)),
            ("created", Py::Float(room.created)),
            ("active_users", Py::Int(self.active_users(room)?)),
            ("active_users_cutoff", Py::Int(ACTIVE_CUTOFF)),
            ("moderators", ids(mods)),
            ("admins", ids(admins)),
            ("read", Py::Bool(perms.can_read())),
            ("write", Py::Bool(perms.can_write())),
            ("upload", Py::Bool(perms.can_upload())),
        ]);
        if let Some(d) = &room.description {
            out.set("description", Py::str(d));
        }
        if let Some(image) = room.image {
            out.set("image_id", Py::Int(image));
        }
        let mut stmt = self.db.prepare(
            "SELECT p.message, p.pinned_at, u.session_id FROM pinned p JOIN users u ON p.pinned_by = u.id
             WHERE p.room = ?1 ORDER BY p.pinned_at",
        )?;
        let pins: Vec<Py> = stmt
            .query_map(params![room.id], |r| {
                let (id, at, by): (i64, f64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(Py::dict([("id", Py::Int(id)), ("pinned_at", Py::Float(at)), ("pinned_by", Py::Str(by))]))
            })?
            .collect::<Result<_, _>>()?;
        if !pins.is_empty() {
            out.set("pinned_messages", Py::List(pins));
        }
        if !hidden_mods.is_empty() {
            out.set("hidden_moderators", ids(hidden_mods));
        }
        if !hidden_admins.is_empty() {
            out.set("hidden_admins", ids(hidden_admins));
        }
        self.standing(&mut out, room, perms);
        Ok(out)
    }

    /// `get_reactions`: each message's reactions, first-added first: `count`, `you`, `index`,
    /// `reactors` (the first `reactors` by time; omitted for 0).
    fn reactions(&self, message: i64, reactors: i64) -> rusqlite::Result<Py> {
        let mut out = Vec::new();
        let mut stmt = self.db.prepare(
            "SELECT reaction, COUNT(*), MAX(user = ?2) FROM reactions WHERE message = ?1
             GROUP BY reaction ORDER BY MIN(id)",
        )?;
        let mut rows = stmt.query(params![message, self.user_id()])?;
        while let Some(r) = rows.next()? {
            let (reaction, count, you): (String, i64, Option<bool>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let mut entry = Py::dict([("count", Py::Int(count))]);
            if you == Some(true) {
                entry.set("you", Py::Bool(true));
            }
            entry.set("index", Py::Int(i64::try_from(out.len()).unwrap_or(i64::MAX)));
            if reactors > 0 {
                let mut stmt = self.db.prepare(
                    "SELECT u.session_id FROM reactions r JOIN users u ON r.user = u.id
                     WHERE r.message = ?1 AND r.reaction = ?2 ORDER BY r.at, r.id LIMIT ?3",
                )?;
                let ids: Vec<Py> = stmt
                    .query_map(params![message, reaction, reactors], |r| r.get(0).map(Py::Str))?
                    .collect::<Result<_, _>>()?;
                entry.set("reactors", Py::List(ids));
            }
            out.push((reaction, entry));
        }
        Ok(Py::Dict(out))
    }

    /// `get_messages_for`: `tail` completes the query (`?1` room, `?2` reader, `?3…` its own).
    fn messages(
        &self,
        room: &Room,
        perms: &Perms,
        tail: &str,
        args: &[&dyn rusqlite::ToSql],
        since: Option<i64>,
        reactors: i64,
    ) -> rusqlite::Result<Vec<Py>> {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.room = ?1 {} {tail}",
            whisper_clause(self.user.is_some(), perms.is_mod())
        );
        let mut stmt = self.db.prepare(&sql)?;
        let reader = self.user_id();
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&room.id, &reader];
        all.extend_from_slice(args);
        let rows: Vec<MessageRow> = stmt.query_map(all.as_slice(), message_row)?.collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            out.push(self.message(&m, since, reactors)?);
        }
        Ok(out)
    }

    fn message(&self, m: &MessageRow, since: Option<i64>, reactors: i64) -> rusqlite::Result<Py> {
        if let Some(since) = since.filter(|&s| s != 0)
            && m.seqno_reactions > since
            && since >= m.seqno_data
        {
            return Ok(Py::dict([
                ("id", Py::Int(m.id)),
                ("seqno", Py::Int(m.seqno)),
                ("reactions", self.reactions(m.id, reactors)?),
            ]));
        }
        let mut o = Py::dict([
            ("id", Py::Int(m.id)),
            ("session_id", Py::str(&m.session_id)),
            ("posted", Py::Float(m.posted)),
            ("seqno", Py::Int(m.seqno)),
        ]);
        match &m.data {
            None => {
                o.set("data", Py::Null);
                o.set("deleted", Py::Bool(true));
            }
            Some(data) => {
                o.set("data", b64(data));
                o.set("signature", b64(m.signature.as_deref().unwrap_or_default()));
            }
        }
        if let Some(edited) = m.edited {
            o.set("edited", Py::Float(edited));
        }
        if m.whisper_to.is_some() || m.whisper_mods {
            o.set("whisper", Py::Bool(true));
            o.set("whisper_mods", Py::Bool(m.whisper_mods));
            if let Some(to) = &m.whisper_to {
                o.set("whisper_to", Py::str(to));
            }
        }
        if m.data.is_some() {
            o.set("reactions", self.reactions(m.id, reactors)?);
        }
        Ok(o)
    }

    /// `is_regular_message`: in the room, not deleted, not a whisper.
    fn regular_message(&self, room: &Room, id: i64) -> rusqlite::Result<bool> {
        self.db.query_row(
            "SELECT COUNT(*) > 0 FROM messages WHERE room = ?1 AND id = ?2 AND data IS NOT NULL
                 AND whisper_to IS NULL AND NOT whisper_mods",
            params![room.id, id],
            |r| r.get(0),
        )
    }
}

impl Cx<'_> {
    fn route(&self, method: &str, path: &str) -> Answer {
        let Some((route, methods)) = route(path, self.blind()) else { return Ok(Reply::abort(404)) };
        let room = match route_room(&route) {
            Some(token) => match self.room(token)? {
                Some(room) => Some(room),
                None => return Ok(Reply::abort(404)),
            },
            None => None,
        };
        let method = if method == "HEAD" && methods.contains(&"GET") { "GET" } else { method };
        if method == "OPTIONS" {
            let mut reply = Reply::model(200, "");
            reply.headers.push(("allow".into(), allow(methods)));
            return Ok(reply);
        }
        if !methods.contains(&method) {
            return Ok(method_not_allowed(methods));
        }
        let room = || room.clone().ok_or_else(|| Failure::Reply(Reply::internal()));
        match (method, route) {
            ("GET", Route::Capabilities) => Ok(self.capabilities()),
            ("GET", Route::Rooms) => self.get_rooms(),
            ("GET", Route::Room(_)) => self.get_room(&room()?),
            ("PUT", Route::Room(_)) => self.update_room(&room()?),
            ("GET", Route::PollInfo(_, n)) => self.poll_info(&room()?, n),
            ("GET", Route::Since(_, n)) => self.messages_since(&room()?, n),
            ("GET", Route::Before(_, n)) => self.messages_list(&room()?, Some(n)),
            ("GET", Route::Recent(_)) => self.messages_list(&room()?, None),
            ("GET", Route::Message(_, id)) => self.message_single(&room()?, id),
            ("PUT", Route::Message(_, id)) => self.edit_message(&room()?, id),
            ("DELETE", Route::Message(_, id)) => self.delete_message(&room()?, id),
            ("POST", Route::Post(_)) => self.post_message(&room()?),
            ("PUT", Route::Reaction(_, id, emoji)) => self.react(&room()?, id, &emoji, true),
            ("DELETE", Route::Reaction(_, id, emoji)) => self.react(&room()?, id, &emoji, false),
            ("DELETE", Route::Reactions(_, id, emoji)) => self.delete_reactions(&room()?, id, emoji.as_deref()),
            ("GET", Route::Reactors(_, id, emoji)) => self.reactors(&room()?, id, &emoji),
            ("POST", Route::Upload(_)) => self.upload(&room()?),
            ("GET", Route::File(_, id)) => self.download(&room()?, id),
            ("POST", Route::Pin(_, id)) => self.pin(&room()?, id),
            ("POST", Route::Unpin(_, id)) => self.unpin(&room()?, Some(id)),
            ("POST", Route::UnpinAll(_)) => self.unpin(&room()?, None),
            ("DELETE", Route::DeleteAll(_, sid)) => self.delete_all_posts(&room()?, sid),
            ("DELETE", Route::DeleteEverywhere(sid)) => self.delete_everywhere(sid),
            ("POST", Route::User(sid, action)) => self.user_action(sid, action),
            ("POST", Route::SendDm(sid)) => self.send_dm(sid),
            ("GET", Route::Inbox) => self.mailbox(true, None),
            ("GET", Route::InboxSince(id)) => self.mailbox(true, Some(id)),
            ("DELETE", Route::Inbox) => self.delete_inbox(),
            ("GET", Route::Outbox(since)) => self.mailbox(false, since),
            ("POST", Route::Batch(sequence)) => self.batch(sequence),
            _ => Ok(method_not_allowed(methods)),
        }
    }

    fn capabilities(&self) -> Reply {
        let mut caps = vec!["reactions", "sogs"];
        if self.blind() {
            caps.insert(0, "blind");
        }
        let list = |items: &[&str]| Py::List(items.iter().map(|c| Py::str(*c)).collect());
        let mut out = Py::dict([("capabilities", list(&caps))]);
        if let Some(required) = self.query.get("required") {
            let missing: Vec<&str> = required.split(',').filter(|c| !caps.contains(c)).collect();
            if !missing.is_empty() {
                out.set("missing", list(&missing));
                return Reply::jsonify(412, out);
            }
        }
        Reply::ok(out)
    }

    fn get_rooms(&self) -> Answer {
        let mut out = Vec::new();
        for room in self.all_rooms()? {
            let perms = self.perms(&room)?;
            let listed = match self.user {
                None => room.read || room.accessible,
                Some(_) => perms.can_access(),
            };
            if listed {
                out.push(self.room_info(&room, &perms)?);
            }
        }
        Ok(Reply::ok(Py::List(out)))
    }

    fn get_room(&self, room: &Room) -> Answer {
        let perms = self.perms(room)?;
        Self::require_access(&perms)?;
        Ok(Reply::ok(self.room_info(room, &perms)?))
    }

    fn update_room(&self, room: &Room) -> Answer {
        let perms = self.perms(room)?;
        self.require_mod(&perms, true)?;
        let req = self.json_object()?;
        let mut did = false;
        let mut changes = 0;
        if let Some(name) = req.get("name") {
            let Some(name) = name.as_str() else { return Ok(Reply::abort(400)) };
            let name: String = name.chars().filter(|&c| c >= ' ').collect();
            changes += self
                .db
                .execute("UPDATE rooms SET name = ?2 WHERE id = ?1 AND name IS NOT ?2", params![room.id, name])?;
            did = true;
        }
        if let Some(description) = req.get("description") {
            let description = match description {
                Value::Null => None,
                Value::String(d) => {
                    let d: String = d.chars().filter(|&c| c >= ' ' || c == '\t' || c == '\n').collect();
                    (!d.is_empty()).then_some(d)
                }
                _ => return Ok(Reply::abort(400)),
            };
            changes += self.db.execute(
                "UPDATE rooms SET description = ?2 WHERE id = ?1 AND description IS NOT ?2",
                params![room.id, description],
            )?;
            did = true;
        }
        if let Some(image) = req.get("image") {
            let Some(image) = image.as_i64() else { return Ok(Reply::abort(400)) };
            let found = self
                .db
                .execute("UPDATE files SET expiry = NULL WHERE id = ?1 AND room = ?2", params![image, room.id])?;
            if found == 0 {
                return Ok(Reply::abort(406));
            }
            if let Some(old) = room.image.filter(|&old| old != image) {
                self.db
                    .execute("UPDATE files SET expiry = ?2 WHERE id = ?1", params![old, self.now + LINKED_EXPIRY])?;
            }
            changes += self
                .db
                .execute("UPDATE rooms SET image = ?2 WHERE id = ?1 AND image IS NOT ?2", params![room.id, image])?;
            did = true;
        }
        for column in ["read", "accessible", "write", "upload"] {
            match req.get(&format!("default_{column}")) {
                None | Some(Value::Null) => {}
                Some(Value::Bool(b)) => {
                    self.db.execute(&format!("UPDATE rooms SET {column} = ?2 WHERE id = ?1"), params![room.id, b])?;
                    did = true;
                }
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                    let b = n.as_i64() != Some(0);
                    self.db.execute(&format!("UPDATE rooms SET {column} = ?2 WHERE id = ?1"), params![room.id, b])?;
                    did = true;
                }
                Some(_) => return Ok(Reply::abort(400)),
            }
        }
        if !did {
            return Ok(Reply::abort(400));
        }
        for _ in 0..changes {
            db::bump_info(self.db, Some(room.id))?;
        }
        Ok(Reply::ok(Py::dict([("info_updates", Py::Int(self.info_updates(room.id)?))])))
    }

    fn poll_info(&self, room: &Room, info_updates: i64) -> Answer {
        let perms = self.perms(room)?;
        Self::require_read(&perms)?;
        self.touch_room(room)?;
        let mut out = Py::dict([
            ("token", Py::str(&room.token)),
            ("active_users", Py::Int(self.active_users(room)?)),
            ("read", Py::Bool(perms.can_read())),
            ("write", Py::Bool(perms.can_write())),
            ("upload", Py::Bool(perms.can_upload())),
        ]);
        if room.info_updates != info_updates {
            out.set("details", self.room_info(room, &perms)?);
        }
        self.standing(&mut out, room, &perms);
        Ok(Reply::ok(out))
    }

    fn messages_since(&self, room: &Room, since: i64) -> Answer {
        let perms = self.perms(room)?;
        Self::require_access(&perms)?;
        self.touch_room(room)?;
        let limit = self.limit()?;
        let reaction_updates = self.query.get("t").is_some_and(|t| t.contains('r'));
        let reactors = self.reactor_limit()?;
        let updated = if reaction_updates { "AND m.seqno > ?3" } else { "AND m.seqno > ?3 AND m.seqno_data > ?3" };
        let tail =
            format!("{updated} AND (m.data IS NOT NULL OR m.seqno_creation <= ?3) ORDER BY m.seqno ASC LIMIT ?4");
        let out = self.messages(room, &perms, &tail, &[&since, &limit], Some(since), reactors)?;
        Ok(Reply::dumps(200, Py::List(out)))
    }

    fn messages_list(&self, room: &Room, before: Option<i64>) -> Answer {
        let perms = self.perms(room)?;
        Self::require_access(&perms)?;
        self.touch_room(room)?;
        let limit = self.limit()?;
        let reactors = self.reactor_limit()?;
        let tail = "AND m.data IS NOT NULL AND m.id < ?3 ORDER BY m.id DESC LIMIT ?4";
        let out = self.messages(room, &perms, tail, &[&before.unwrap_or(i64::MAX), &limit], None, reactors)?;
        Ok(Reply::dumps(200, Py::List(out)))
    }

    fn message_single(&self, room: &Room, id: i64) -> Answer {
        let perms = self.perms(room)?;
        Self::require_read(&perms)?;
        self.touch_room(room)?;
        let reactors = self.reactor_limit()?;
        let tail = "AND m.data IS NOT NULL AND m.id = ?3";
        match self.messages(room, &perms, tail, &[&id], None, reactors)?.into_iter().next() {
            Some(m) => Ok(Reply::dumps(200, m)),
            None => Ok(Reply::abort(404)),
        }
    }

    /// The `files` of a post or an edit, as `[int(x) for x in req.get('files', [])]` reads them.
    fn file_ids(req: &serde_json::Map<String, Value>) -> Result<Vec<i64>, Reply> {
        let ints = |values: Vec<Value>| values.iter().map(python_int_of).collect::<Option<Vec<i64>>>();
        let ids = match req.get("files") {
            None => Some(Vec::new()),
            Some(Value::Array(items)) => ints(items.clone()),
            Some(Value::String(s)) => ints(s.chars().map(|c| Value::String(c.to_string())).collect()),
            Some(Value::Object(o)) => ints(o.keys().map(|k| Value::String(k.clone())).collect()),
            Some(_) => None,
        };
        ids.ok_or_else(Reply::internal)
    }

    /// `_own_files`: the poster's recent, unlinked uploads to the room become the post's, for 15
    /// days.
    fn own_files(&self, room: &Room, user: &User, message: i64, files: &[i64]) -> rusqlite::Result<()> {
        for id in files {
            self.db.execute(
                "UPDATE files SET message = ?3, expiry = ?4
                 WHERE id = ?1 AND room = ?2 AND uploader = ?5 AND message IS NULL AND uploaded >= ?6
                     AND expiry IS NOT NULL",
                params![id, room.id, message, self.now + LINKED_EXPIRY, user.id, self.now - UPLOAD_EXPIRY],
            )?;
        }
        Ok(())
    }

    fn post_message(&self, room: &Room) -> Answer {
        let user = self.require_user()?;
        let req = self.json_object()?;
        let data = decode_base64(req.get("data")).ok_or_else(Reply::internal)?;
        let signature = decode_base64(req.get("signature")).ok_or_else(Reply::internal)?;
        let whisper_to = req.get("whisper_to").filter(|w| truthy(w));
        let whisper_mods = req.get("whisper_mods").is_some_and(truthy);
        let files = Self::file_ids(&req)?;
        let perms = self.perms(room)?;
        if !perms.can_write() {
            return Ok(Reply::permission_denied());
        }
        if signature.len() != 64 {
            return Ok(Reply::model(400, ""));
        }
        if (whisper_to.is_some() || whisper_mods) && !perms.is_mod() {
            return Ok(Reply::permission_denied());
        }
        let whisper_to = match whisper_to {
            None => None,
            Some(Value::String(sid)) => Some(db::user(self.db, sid, true, self.now)?.ok_or_else(Reply::internal)?),
            Some(_) => return Ok(Reply::internal()),
        };
        if !perms.admin {
            let recent: i64 = self.db.query_row(
                "SELECT COUNT(*) FROM messages WHERE room = ?1 AND user = ?2 AND posted >= ?3",
                params![room.id, user.id, self.now - self.sogs.config.rate_window],
                |r| r.get(0),
            )?;
            if recent >= i64::from(self.sogs.config.rate_posts) {
                return Ok(Reply::model(429, "Rate limited"));
            }
        }
        let seqno = self.next_seqno(room.id)?;
        let id: i64 = self.db.query_row(
            "INSERT INTO messages (room, user, posted, seqno, seqno_data, seqno_creation, data, signature,
                 whisper_to, whisper_mods)
             VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![
                room.id,
                user.id,
                self.now,
                seqno,
                data,
                signature,
                whisper_to.as_ref().map(|u| u.id),
                whisper_mods
            ],
            |r| r.get(0),
        )?;
        self.own_files(room, user, id, &files)?;
        let mut msg = Py::dict([
            ("id", Py::Int(id)),
            ("session_id", Py::str(&user.session_id)),
            ("posted", Py::Float(self.now)),
            ("seqno", Py::Int(seqno)),
            ("data", b64(&data)),
            ("signature", b64(&signature)),
            ("reactions", Py::Dict(Vec::new())),
        ]);
        if whisper_to.is_some() || whisper_mods {
            msg.set("whisper", Py::Bool(true));
            msg.set("whisper_mods", Py::Bool(whisper_mods));
            if let Some(to) = whisper_to {
                msg.set("whisper_to", Py::Str(to.session_id));
            }
        }
        Ok(Reply::dumps(201, msg))
    }

    fn edit_message(&self, room: &Room, id: i64) -> Answer {
        let user = self.require_user()?;
        let req = self.json_object()?;
        let data = decode_base64(req.get("data")).ok_or_else(Reply::internal)?;
        let signature = decode_base64(req.get("signature")).ok_or_else(Reply::internal)?;
        let files = Self::file_ids(&req)?;
        if !self.perms(room)?.can_write() {
            return Ok(Reply::permission_denied());
        }
        if signature.len() != 64 {
            return Ok(Reply::model(400, ""));
        }
        let author: Option<i64> = self
            .db
            .query_row(
                "SELECT user FROM messages WHERE id = ?1 AND room = ?2 AND data IS NOT NULL",
                params![id, room.id],
                |r| r.get(0),
            )
            .optional()?;
        match author {
            None => return Ok(Reply::model(404, &format!("No such post: {id}"))),
            Some(author) if author != user.id => return Ok(Reply::permission_denied()),
            Some(_) => {}
        }
        let seqno = self.next_seqno(room.id)?;
        self.db.execute(
            "UPDATE messages SET data = ?2, signature = ?3, edited = ?4, seqno_data = ?5,
                 seqno = MAX(?5, seqno_reactions) WHERE id = ?1",
            params![id, data, signature, self.now, seqno],
        )?;
        self.own_files(room, user, id, &files)?;
        Ok(Reply::ok(Py::Dict(Vec::new())))
    }

    /// Deletes message `id` (in `room`, not yet deleted): a tombstone with a new seqno; its pin
    /// goes, its files expire now.
    fn delete_row(&self, room: &Room, id: i64) -> rusqlite::Result<()> {
        let seqno = self.next_seqno(room.id)?;
        self.db.execute(
            "UPDATE messages SET data = NULL, signature = NULL, whisper_to = NULL, whisper_mods = FALSE,
                 seqno_data = ?2, seqno = MAX(?2, seqno_reactions) WHERE id = ?1",
            params![id, seqno],
        )?;
        self.db.execute("DELETE FROM reactions WHERE message = ?1", params![id])?;
        if self.db.execute("DELETE FROM pinned WHERE message = ?1", params![id])? > 0 {
            db::bump_info(self.db, Some(room.id))?;
        }
        self.db.execute("UPDATE files SET expiry = 0.0 WHERE message = ?1", params![id])?;
        Ok(())
    }

    fn delete_message(&self, room: &Room, id: i64) -> Answer {
        let user = self.require_user()?;
        let perms = self.perms(room)?;
        if !perms.can_write() {
            return Ok(Reply::abort(403));
        }
        let author: Option<i64> = self
            .db
            .query_row(
                "SELECT user FROM messages WHERE id = ?1 AND room = ?2 AND data IS NOT NULL",
                params![id, room.id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(author) = author else { return Ok(Reply::abort(404)) };
        if !perms.is_mod() && author != user.id {
            return Ok(Reply::permission_denied());
        }
        self.delete_row(room, id)?;
        Ok(Reply::ok(Py::Dict(Vec::new())))
    }

    /// `_check_reaction_request`: 400 (empty) for a reaction that is not 1–12 characters, 403
    /// without the permission, 404 for a message that is not a regular one of the room.
    fn check_reaction(
        &self,
        room: &Room,
        perms: &Perms,
        id: i64,
        reaction: Option<&str>,
        moderator: bool,
    ) -> Result<(), Failure> {
        if let Some(reaction) = reaction
            && !(1..=12).contains(&reaction.chars().count())
        {
            return Err(Reply::model(400, "").into());
        }
        if !(if moderator { perms.is_mod() } else { perms.can_read() }) {
            return Err(Reply::permission_denied().into());
        }
        if !self.regular_message(room, id)? {
            return Err(Reply::model(404, &format!("No such post: {id}")).into());
        }
        Ok(())
    }

    /// A reaction added or removed: the room's counter moves on and becomes the message's.
    fn reaction_changed(&self, room: &Room, id: i64) -> rusqlite::Result<()> {
        let seqno = self.next_seqno(room.id)?;
        self.db.execute(
            "UPDATE messages SET seqno_reactions = ?2, seqno = MAX(seqno_data, ?2) WHERE id = ?1",
            params![id, seqno],
        )?;
        Ok(())
    }

    fn seqno_of(&self, id: i64) -> rusqlite::Result<i64> {
        self.db.query_row("SELECT seqno FROM messages WHERE id = ?1", params![id], |r| r.get(0))
    }

    fn react(&self, room: &Room, id: i64, reaction: &str, add: bool) -> Answer {
        let user = self.require_user()?;
        let perms = self.perms(room)?;
        Self::require_read(&perms)?;
        self.check_reaction(room, &perms, id, Some(reaction), false)?;
        let changed = if add {
            self.db.execute(
                "INSERT INTO reactions (message, reaction, user, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![id, reaction, user.id, self.now],
            )?
        } else {
            self.db.execute(
                "DELETE FROM reactions WHERE message = ?1 AND reaction = ?2 AND user = ?3",
                params![id, reaction, user.id],
            )?
        } > 0;
        if changed {
            self.reaction_changed(room, id)?;
        }
        let key = if add { "added" } else { "removed" };
        Ok(Reply::ok(Py::dict([(key, Py::Bool(changed)), ("seqno", Py::Int(self.seqno_of(id)?))])))
    }

    fn delete_reactions(&self, room: &Room, id: i64, reaction: Option<&str>) -> Answer {
        let perms = self.perms(room)?;
        self.require_mod(&perms, false)?;
        self.check_reaction(room, &perms, id, reaction, true)?;
        let removed = match reaction {
            Some(r) => self.db.execute("DELETE FROM reactions WHERE message = ?1 AND reaction = ?2", params![id, r])?,
            None => self.db.execute("DELETE FROM reactions WHERE message = ?1", params![id])?,
        };
        for _ in 0..removed {
            self.reaction_changed(room, id)?;
        }
        let removed = i64::try_from(removed).unwrap_or(i64::MAX);
        Ok(Reply::ok(Py::dict([("removed", Py::Int(removed)), ("seqno", Py::Int(self.seqno_of(id)?))])))
    }

    fn reactors(&self, room: &Room, id: i64, reaction: &str) -> Answer {
        let perms = self.perms(room)?;
        Self::require_read(&perms)?;
        let limit = self.int("limit", 0, None)?;
        self.check_reaction(room, &perms, id, Some(reaction), false)?;
        let limit = if limit > 0 { limit } else { -1 };
        let mut stmt = self.db.prepare(
            "SELECT u.session_id, r.at FROM reactions r JOIN users u ON r.user = u.id
             WHERE r.message = ?1 AND r.reaction = ?2 ORDER BY r.at, r.id LIMIT ?3",
        )?;
        let rows: Vec<Py> = stmt
            .query_map(params![id, reaction, limit], |r| {
                let (sid, at): (String, f64) = (r.get(0)?, r.get(1)?);
                Ok(Py::List(vec![Py::Str(sid), Py::Float(at)]))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Reply::ok(Py::List(rows)))
    }

    fn upload(&self, room: &Room) -> Answer {
        let user = self.require_user()?;
        if !self.perms(room)?.can_upload() {
            return Ok(Reply::abort(403));
        }
        if self.body.len() > self.sogs.config.max_file_size {
            return Ok(Reply::abort(413));
        }
        let filename = self
            .headers
            .get("content-disposition")
            .and_then(|d| filename(d))
            .map(|f| f.replace(['\0', '/'], "\u{fffd}"));
        let id: i64 = self.db.query_row(
            "INSERT INTO files (room, uploader, size, uploaded, expiry, filename, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![room.id, user.id, self.body.len(), self.now, self.now + UPLOAD_EXPIRY, filename, self.body],
            |r| r.get(0),
        )?;
        Ok(Reply::jsonify(201, Py::dict([("id", Py::Int(id))])))
    }

    fn download(&self, room: &Room, id: i64) -> Answer {
        Self::require_read(&self.perms(room)?)?;
        type FileRow = (Vec<u8>, f64, Option<f64>, Option<String>);
        let row: Option<FileRow> = self
            .db
            .query_row(
                "SELECT data, uploaded, expiry, filename FROM files
                 WHERE id = ?1 AND room = ?2 AND (expiry IS NULL OR expiry > ?3)",
                params![id, room.id, self.now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((data, uploaded, expiry, name)) = row else { return Ok(Reply::abort(404)) };
        let http_date =
            |t: f64| httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0.0) as u64));
        let disposition = match name {
            Some(name) => format!("attachment; filename*=UTF-8''{}", quote(&name)),
            None => "attachment".to_owned(),
        };
        let mut headers =
            vec![("date".to_owned(), http_date(uploaded)), ("content-disposition".to_owned(), disposition)];
        if let Some(expiry) = expiry {
            headers.push(("expires".into(), http_date(expiry)));
        }
        headers.push(("content-type".into(), "application/octet-stream".into()));
        Ok(Reply { status: 200, headers, body: data, json: None })
    }

    fn pin(&self, room: &Room, id: i64) -> Answer {
        let perms = self.perms(room)?;
        let (Some(user), true) = (self.user, perms.admin) else { return Ok(Reply::permission_denied()) };
        if !self.regular_message(room, id)? {
            return Ok(Reply::model(404, &format!("No such post: {id}")));
        }
        self.db.execute(
            "INSERT INTO pinned (room, message, pinned_by, pinned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (room, message) DO UPDATE SET pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at",
            params![room.id, id, user.id, self.now],
        )?;
        self.db.execute("UPDATE files SET expiry = NULL WHERE message = ?1", params![id])?;
        db::bump_info(self.db, Some(room.id))?;
        Ok(Reply::ok(Py::dict([("info_updates", Py::Int(self.info_updates(room.id)?))])))
    }

    fn unpin(&self, room: &Room, id: Option<i64>) -> Answer {
        if !(self.user.is_some() && self.perms(room)?.admin) {
            return Ok(Reply::permission_denied());
        }
        let mut stmt =
            self.db.prepare("SELECT message FROM pinned WHERE room = ?1 AND (?2 IS NULL OR message = ?2)")?;
        let pinned: Vec<i64> = stmt.query_map(params![room.id, id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for message in &pinned {
            self.db.execute("DELETE FROM pinned WHERE room = ?1 AND message = ?2", params![room.id, message])?;
            self.db.execute(
                "UPDATE files SET expiry = uploaded + ?2 WHERE message = ?1 AND expiry IS NULL",
                params![message, LINKED_EXPIRY],
            )?;
            db::bump_info(self.db, Some(room.id))?;
        }
        let count = i64::try_from(pinned.len()).unwrap_or(i64::MAX);
        let unpinned = if id.is_some() { Py::Bool(count > 0) } else { Py::Int(count) };
        Ok(Reply::ok(Py::dict([("unpinned", unpinned), ("info_updates", Py::Int(self.info_updates(room.id)?))])))
    }

    /// `delete_all_posts`: the poster's own, or a moderator's (an admin's posts only by an
    /// admin); how many.
    fn delete_posts_of(&self, room: &Room, poster: &User, deleter: &User) -> Result<usize, Failure> {
        let deleter_perms = self.perms_of(room, Some(deleter.id))?;
        if poster.id != deleter.id && !deleter_perms.is_mod() {
            return Err(Reply::permission_denied().into());
        }
        if self.perms_of(room, Some(poster.id))?.admin && !deleter_perms.admin {
            return Err(Reply::permission_denied().into());
        }
        let mut stmt = self
            .db
            .prepare("SELECT id FROM messages WHERE room = ?1 AND user = ?2 AND data IS NOT NULL ORDER BY id")?;
        let ids: Vec<i64> = stmt.query_map(params![room.id, poster.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for &id in &ids {
            self.delete_row(room, id)?;
        }
        self.db.execute(
            "UPDATE files SET expiry = 0.0 WHERE room = ?1 AND uploader = ?2 AND id IS NOT ?3",
            params![room.id, poster.id, room.image],
        )?;
        Ok(ids.len())
    }

    fn existing_user(&self, sid: &str) -> Result<User, Failure> {
        db::user(self.db, sid, false, self.now)?
            .ok_or_else(|| Reply::model(404, &format!("No such user: {sid}")).into())
    }

    fn delete_all_posts(&self, room: &Room, sid: &str) -> Answer {
        let poster = self.existing_user(sid)?;
        let Some(deleter) = self.user else { return Ok(Reply::internal()) };
        let n = self.delete_posts_of(room, &poster, deleter)?;
        Ok(if n == 0 { Reply::abort(404) } else { Reply::ok(Py::Dict(Vec::new())) })
    }

    fn delete_everywhere(&self, sid: &str) -> Answer {
        let poster = self.existing_user(sid)?;
        let mut rooms = Vec::new();
        let mut total = 0;
        for room in self.all_rooms()? {
            let accessible = match self.user {
                None => room.read || room.accessible,
                Some(_) => self.perms(&room)?.can_access(),
            };
            if !accessible {
                continue;
            }
            let Some(deleter) = self.user else { return Ok(Reply::internal()) };
            match self.delete_posts_of(&room, &poster, deleter) {
                Ok(n) => {
                    total += n;
                    rooms.push((room.token.clone(), Py::Int(i64::try_from(n).unwrap_or(i64::MAX))));
                }
                Err(Failure::Reply(reply)) if reply.status == 403 => {}
                Err(e) => return Err(e),
            }
        }
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        Ok(Reply::ok(Py::dict([("total", Py::Int(total)), ("rooms", Py::Dict(rooms))])))
    }

    /// `User(session_id=sid, try_blinding=True)`: on a server that requires blinding, a Session
    /// ID whose blinded id already used the server names that user; otherwise the id itself
    /// (created if new; what it is granted passes to its blinded id later).
    fn target_user(&self, sid: &str) -> Result<User, Failure> {
        if self.blind()
            && sid.starts_with("05")
            && let Ok(session) = sid.parse::<crypto_core::identity::SessionId>()
            && let Ok(candidates) = crypto_core::community::blind15_ids(&session, &self.sogs.x25519())
        {
            for candidate in candidates {
                if let Some(user) = db::user(self.db, &candidate.to_string(), false, self.now)? {
                    return Ok(user);
                }
            }
        }
        Ok(db::user(self.db, sid, true, self.now)?.ok_or_else(Reply::internal)?)
    }

    /// `extract_rooms_or_global`: the rooms (`Some`) the caller moderates (administers, with
    /// `admin`) among those named, or the whole server (`None`) for a global moderator (admin).
    fn rooms_or_global(&self, req: &Value, admin: bool) -> Result<Option<Vec<Room>>, Failure> {
        let Some(req) = req.as_object() else { return Err(Reply::abort(400).into()) };
        let user = self.require_user()?;
        let tokens = req.get("rooms").filter(|v| truthy(v));
        let global = req.get("global").is_some_and(truthy);
        let tokens = match (tokens, global) {
            (Some(Value::Array(tokens)), false) => tokens,
            (None, true) => {
                let (g_mod, g_admin): (bool, bool) = self.db.query_row(
                    "SELECT moderator OR admin, admin FROM users WHERE id = ?1",
                    params![user.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if !g_mod || (admin && !g_admin) {
                    return Err(Reply::abort(403).into());
                }
                return Ok(None);
            }
            _ => return Err(Reply::abort(400).into()),
        };
        let star = tokens.iter().any(|t| t.as_str() == Some("*"));
        if star && tokens.len() > 1 {
            return Err(Reply::abort(400).into());
        }
        let names: Option<Vec<&str>> = tokens.iter().map(Value::as_str).collect();
        let Some(names) = names else { return Err(Reply::abort(404).into()) };
        let mut rooms = Vec::new();
        for room in self.all_rooms()? {
            if !star && !names.contains(&room.token.as_str()) {
                continue;
            }
            let p = self.perms(&room)?;
            if p.is_mod() && (!admin || p.admin) {
                rooms.push(room);
            }
        }
        if (star && rooms.is_empty()) || (!star && rooms.len() != names.len()) {
            return Err(Reply::abort(403).into());
        }
        Ok(Some(rooms))
    }

    fn user_action(&self, sid: &str, action: &str) -> Answer {
        let caller = self.require_user()?;
        let target = self.target_user(sid)?;
        let req = self.json()?;
        match action {
            "moderator" => self.set_mod(&target, &req, sid),
            "ban" => {
                let rooms = self.rooms_or_global(&req, false)?;
                let timeout = match req.get("timeout") {
                    None | Some(Value::Null) => None,
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(Value::Bool(b)) => Some(f64::from(u8::from(*b))),
                    Some(_) => return Ok(Reply::abort(400)),
                };
                let until = timeout.filter(|t| *t != 0.0).map(|t| self.now + t);
                match rooms {
                    Some(rooms) => {
                        for room in rooms {
                            let mod_perms = self.perms(&room)?;
                            let target_perms = self.perms_of(&room, Some(target.id))?;
                            if target.id == caller.id
                                || target_perms.global_moderator
                                || (target_perms.is_mod() && !mod_perms.admin)
                            {
                                return Ok(Reply::permission_denied());
                            }
                            let was_mod: bool = self
                                .db
                                .query_row(
                                    "SELECT moderator OR admin FROM room_users WHERE room = ?1 AND user = ?2",
                                    params![room.id, target.id],
                                    |r| r.get(0),
                                )
                                .optional()?
                                .unwrap_or(false);
                            self.db.execute(
                                "INSERT INTO room_users (room, user, banned, banned_until, moderator, admin)
                                     VALUES (?1, ?2, TRUE, ?3, FALSE, FALSE)
                                 ON CONFLICT (room, user) DO UPDATE SET banned = TRUE, banned_until = ?3,
                                     moderator = FALSE, admin = FALSE, last_active = NULL",
                                params![room.id, target.id, until],
                            )?;
                            if was_mod {
                                db::bump_info(self.db, Some(room.id))?;
                            }
                        }
                    }
                    None => {
                        let target_mod: bool = self.db.query_row(
                            "SELECT moderator OR admin FROM users WHERE id = ?1",
                            params![target.id],
                            |r| r.get(0),
                        )?;
                        if target_mod {
                            return Ok(Reply::permission_denied());
                        }
                        self.db.execute(
                            "UPDATE users SET banned = TRUE, banned_until = ?2 WHERE id = ?1",
                            params![target.id, until],
                        )?;
                    }
                }
                db::claim_known(self.db, &self.sogs.x25519(), !self.blind(), sid)?;
                Ok(Reply::ok(Py::Dict(Vec::new())))
            }
            _ => {
                match self.rooms_or_global(&req, false)? {
                    Some(rooms) => {
                        for room in rooms {
                            self.db.execute(
                                "UPDATE room_users SET banned = FALSE, banned_until = NULL
                                 WHERE room = ?1 AND user = ?2 AND banned",
                                params![room.id, target.id],
                            )?;
                        }
                    }
                    None => {
                        self.db.execute(
                            "UPDATE users SET banned = FALSE, banned_until = NULL WHERE id = ?1",
                            params![target.id],
                        )?;
                    }
                }
                Ok(Reply::ok(Py::Dict(Vec::new())))
            }
        }
    }

    /// `POST /user/<sid>/moderator`.
    fn set_mod(&self, target: &User, req: &Value, sid: &str) -> Answer {
        let rooms = self.rooms_or_global(req, true)?;
        let flag = |name: &str| req.get(name).filter(|v| !v.is_null()).map(truthy);
        let (mut moderator, mut admin, visible) = (flag("moderator"), flag("admin"), flag("visible"));
        match (admin, moderator) {
            (None, None) | (Some(true), Some(false)) => return Ok(Reply::abort(400)),
            (Some(true), Some(true)) => moderator = None,
            (Some(false), Some(false)) => admin = None,
            _ => {}
        }
        // What each case leaves: (moderator, admin), or None for "no longer a moderator".
        let current = |room: Option<i64>| -> rusqlite::Result<(bool, bool)> {
            match room {
                Some(room) => Ok(self
                    .db
                    .query_row(
                        "SELECT moderator OR admin, admin FROM room_users WHERE room = ?1 AND user = ?2",
                        params![room, target.id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?
                    .unwrap_or((false, false))),
                None => self.db.query_row(
                    "SELECT moderator OR admin, admin FROM users WHERE id = ?1",
                    params![target.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ),
            }
        };
        let wanted = |now: (bool, bool)| -> (bool, bool) {
            match (admin, moderator) {
                (Some(true), None) => (true, true),
                (None, Some(true)) => (true, false),
                (None, Some(false)) => (false, false),
                (Some(false), None) => (now.0, false),
                _ => (true, false),
            }
        };
        let mut info = Vec::new();
        match rooms {
            Some(rooms) => {
                for room in rooms {
                    let (m, a) = wanted(current(Some(room.id))?);
                    db::set_moderator(self.db, Some(&[room.id]), target.id, m, a, visible.unwrap_or(true))?;
                    info.push((room.token.clone(), Py::Int(self.info_updates(room.id)?)));
                }
            }
            None => {
                let (m, a) = wanted(current(None)?);
                db::set_moderator(self.db, None, target.id, m, a, visible.unwrap_or(false))?;
                for room in self.all_rooms()? {
                    info.push((room.token.clone(), Py::Int(room.info_updates)));
                }
            }
        }
        db::claim_known(self.db, &self.sogs.x25519(), !self.blind(), sid)?;
        Ok(Reply::ok(Py::dict([("info_updates", Py::Dict(info))])))
    }

    fn send_dm(&self, sid: &str) -> Answer {
        let sender = self.require_user()?;
        let Some(recipient) = db::user(self.db, sid, false, self.now)? else { return Ok(Reply::abort(404)) };
        if db::globally_banned(self.db, recipient.id, self.now)? {
            return Ok(Reply::abort(404));
        }
        let req = self.json_object()?;
        let Some(message) = req.get("message").filter(|m| !m.is_null()) else { return Ok(Reply::abort(400)) };
        let message = decode_base64(Some(message)).ok_or_else(Reply::internal)?;
        let expiry = self.now + DM_EXPIRY;
        let id: i64 = self.db.query_row(
            "INSERT INTO inbox (recipient, sender, body, posted_at, expiry) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            params![recipient.id, sender.id, message, self.now, expiry],
            |r| r.get(0),
        )?;
        Ok(Reply::jsonify(
            201,
            Py::dict([
                ("id", Py::Int(id)),
                ("posted_at", Py::Float(self.now)),
                ("expires_at", Py::Float(expiry)),
                ("sender", Py::str(&sender.session_id)),
                ("recipient", Py::str(&recipient.session_id)),
            ]),
        ))
    }

    fn mailbox(&self, inbox: bool, since: Option<i64>) -> Answer {
        let user = self.require_blind_user()?;
        let limit = self.limit()?;
        let mine = if inbox { "i.recipient" } else { "i.sender" };
        let mut stmt = self.db.prepare(&format!(
            "SELECT i.id, i.posted_at, i.expiry, s.session_id, r.session_id, i.body
             FROM inbox i JOIN users s ON i.sender = s.id JOIN users r ON i.recipient = r.id
             WHERE {mine} = ?1 AND i.id > ?2 AND i.expiry > ?3 ORDER BY i.id LIMIT ?4"
        ))?;
        let rows: Vec<Py> = stmt
            .query_map(params![user.id, since.unwrap_or(0), self.now, limit], |r| {
                let (id, posted, expiry, sender, recipient, body): (i64, f64, f64, String, String, Vec<u8>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                Ok(Py::dict([
                    ("id", Py::Int(id)),
                    ("posted_at", Py::Float(posted)),
                    ("expires_at", Py::Float(expiry)),
                    ("sender", Py::Str(sender)),
                    ("recipient", Py::Str(recipient)),
                    ("message", b64(&body)),
                ]))
            })?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() && since.is_some() {
            return Ok(Reply::not_modified());
        }
        Ok(Reply::ok(Py::List(rows)))
    }

    fn delete_inbox(&self) -> Answer {
        let user = self.require_blind_user()?;
        let n = self.db.execute("DELETE FROM inbox WHERE recipient = ?1", params![user.id])?;
        Ok(Reply::ok(Py::dict([("deleted", Py::Int(i64::try_from(n).unwrap_or(i64::MAX)))])))
    }

    /// `/batch` and `/sequence`: sub-requests run as the outer request's user; each answer is
    /// `{"code", "headers", "body"}` (JSON bodies as JSON, others in base64).
    fn batch(&self, sequence: bool) -> Answer {
        let Value::Array(requests) = self.json()? else { return Ok(Reply::abort(400)) };
        let mut parsed = Vec::with_capacity(requests.len());
        for request in &requests {
            match parse_subrequest(request) {
                Ok(sub) => parsed.push(sub),
                Err(reply) => return Ok(reply),
            }
        }
        let mut out = Vec::with_capacity(parsed.len());
        for sub in parsed {
            let entry = match self.subrequest(&sub) {
                Some(reply) => subresponse(reply),
                None => {
                    Py::dict([("code", Py::Int(500)), ("content-type", Py::str("text/plain")), ("body", Py::str(""))])
                }
            };
            let ok = matches!(entry.get("code"), Some(Py::Int(200..=299)));
            out.push(entry);
            if sequence && !ok {
                break;
            }
        }
        Ok(Reply::dumps(200, Py::List(out)))
    }

    /// One sub-request; `None` where pysogs' `make_subrequest` raises (a path that does not
    /// percent-decode to UTF-8).
    fn subrequest(&self, sub: &Subrequest) -> Option<Reply> {
        let (raw_path, query) = sub.path.split_once('?').unwrap_or((&sub.path, ""));
        let path = percent_decode(raw_path)?;
        let mut headers = sub.headers.clone();
        let content_type = headers.get("content-type").cloned().unwrap_or_else(|| sub.content_type.to_owned());
        headers.insert("content-type".into(), content_type);
        let request = Request { method: &sub.method, path: &path, query, headers: &headers, body: &sub.body };
        Some(dispatch(self.sogs, self.db, self.user, &request, self.now))
    }
}

/// A batch element: method, path (with query), headers, body, and the content type it implies.
struct Subrequest {
    method: String,
    path: String,
    headers: Headers,
    body: Vec<u8>,
    content_type: &'static str,
}

/// `parse_batch_request`: a malformed element is Werkzeug's 400 for the whole batch.
fn parse_subrequest(value: &Value) -> Result<Subrequest, Reply> {
    let bad = || Reply::abort(400);
    let o = value.as_object().ok_or_else(bad)?;
    let method = o.get("method").ok_or_else(bad)?;
    let path = o.get("path").ok_or_else(bad)?;
    let mut headers = Headers::new();
    if let Some(h) = o.get("headers") {
        for (name, value) in h.as_object().ok_or_else(bad)? {
            let value = value.as_str().ok_or_else(bad)?;
            headers.entry(name.to_ascii_lowercase().replace('_', "-")).or_insert_with(|| value.to_owned());
        }
    }
    let method = method.as_str().ok_or_else(bad)?;
    let has_body = matches!(method, "POST" | "PUT");
    if !has_body && !matches!(method, "GET" | "DELETE") {
        return Err(bad());
    }
    let path = path.as_str().ok_or_else(Reply::internal)?;
    if !path.starts_with('/') {
        return Err(bad());
    }
    let given = ["b64", "json", "bytes"].iter().filter(|k| o.contains_key(**k)).count();
    let (body, content_type) = if has_body {
        if given != 1 {
            return Err(bad());
        }
        if let Some(b64) = o.get("b64") {
            // Not base64: pysogs logs it and sends no body.
            match decode_base64(Some(b64)) {
                Some(body) => (body, "application/octet-stream"),
                None => (Vec::new(), ""),
            }
        } else if let Some(bytes) = o.get("bytes") {
            (bytes.as_str().ok_or_else(Reply::internal)?.as_bytes().to_vec(), "application/octet-stream")
        } else {
            match o.get("json") {
                None | Some(Value::Null) => (Vec::new(), ""),
                Some(json) => (json.to_string().into_bytes(), "application/json"),
            }
        }
    } else {
        if given != 0 {
            return Err(bad());
        }
        (Vec::new(), "")
    };
    Ok(Subrequest { method: method.to_owned(), path: path.to_owned(), headers, body, content_type })
}

/// A sub-request's answer in a batch reply.
fn subresponse(reply: Reply) -> Py {
    let body = match (&reply.json, reply.header("content-type")) {
        (Some(json), Some("application/json")) => json.clone(),
        _ => b64(&reply.body),
    };
    let headers = Py::Dict(reply.headers.into_iter().map(|(k, v)| (k, Py::Str(v))).collect());
    Py::dict([("code", Py::Int(i64::from(reply.status))), ("headers", headers), ("body", body)])
}

/// The filename of a `Content-Disposition` as Werkzeug's `parse_options_header` gives it
/// (`filename*=UTF-8''…` decoded, else `filename="…"`).
fn filename(disposition: &str) -> Option<String> {
    let params: Vec<(&str, &str)> =
        disposition.split(';').skip(1).filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect();
    for (k, v) in &params {
        if k.eq_ignore_ascii_case("filename*") {
            let (charset, rest) = v.split_once('\'')?;
            let (_, encoded) = rest.split_once('\'')?;
            let bytes = percent_bytes(encoded, false);
            return Some(if charset.eq_ignore_ascii_case("utf-8") {
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                bytes.iter().map(|&b| char::from(b)).collect()
            });
        }
    }
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case("filename")).map(|(_, v)| v.trim_matches('"').to_owned())
}

/// `urllib.parse.quote` of a filename's UTF-8 (letters, digits, `_.-~/` stay).
fn quote(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_round_trip() {
        assert_eq!(filename("attachment; filename*=UTF-8''caf%C3%A9.jpg").as_deref(), Some("café.jpg"));
        assert_eq!(filename("attachment; filename=\"a.png\"").as_deref(), Some("a.png"));
        assert_eq!(quote("café d.jpg"), "caf%C3%A9%20d.jpg");
    }

    #[test]
    fn ints_are_python_s() {
        assert_eq!(int_segment("12"), Some(12));
        assert_eq!(int_segment("-1"), None);
        assert_eq!(python_int(" -1_0 "), Some(-10));
        assert_eq!(python_int("1.5"), None);
        assert_eq!(python_int_of(&serde_json::json!(2.7)), Some(2));
    }

    #[test]
    fn routes_are_pysogs_s() {
        assert!(
            matches!(route("/room/lobby/reaction/1/a/b", true), Some((Route::Reaction("lobby", 1, e), _)) if e == "a/b")
        );
        assert!(route("/room/lobby/reaction/1/", true).is_none());
        assert!(route(&format!("/rooms/all/05{}", "a".repeat(64)), true).is_none());
        assert!(route(&format!("/rooms/all/05{}", "a".repeat(64)), false).is_some());
        assert!(matches!(route("/room/x/unpin/all", true), Some((Route::UnpinAll("x"), _))));
        assert_eq!(allow(&["GET", "PUT"]), "GET, HEAD, OPTIONS, PUT");
    }
}
