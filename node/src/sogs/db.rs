//! The community server's SQLite storage: schema, users (with the hand-over of what was granted
//! to a Session ID to its blinded id), rooms, moderators, and the sweep of what expired.

use rusqlite::{Connection, OptionalExtension, params};

use super::User;

/// Tables. Messages carry the room's event counter as pysogs keeps it: `seqno` = max of
/// `seqno_data` (post, edit, delete) and `seqno_reactions`; `seqno_creation` is the post's own.
const SCHEMA: &str = "
    PRAGMA foreign_keys = ON;
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
    CREATE INDEX IF NOT EXISTS files_message ON files (message);
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

/// Creates the tables.
pub fn init(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// `15` or `05` and 64 hex digits (pysogs' `AnySessionID`).
pub fn any_session_id(id: &str) -> bool {
    id.len() == 66 && (id.starts_with("15") || id.starts_with("05")) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The user with `session_id`, created when `create` and absent.
pub fn user(conn: &Connection, session_id: &str, create: bool, now: f64) -> rusqlite::Result<Option<User>> {
    if create {
        conn.execute(
            "INSERT INTO users (session_id, created, last_active) VALUES (?1, ?2, ?2) ON CONFLICT DO NOTHING",
            params![session_id, now],
        )?;
    }
    conn.query_row("SELECT id, session_id FROM users WHERE session_id = ?1", params![session_id], |r| {
        Ok(User { id: r.get(0)?, session_id: r.get(1)? })
    })
    .optional()
}

/// Whether user `id` is banned from the whole server at `now`.
pub fn globally_banned(conn: &Connection, id: i64, now: f64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT banned AND (banned_until IS NULL OR banned_until > ?2) FROM users WHERE id = ?1",
        params![id, now],
        |r| r.get(0),
    )
    .optional()
    .map(|b| b.unwrap_or(false))
}

/// Adds a room (or renames an existing one).
pub fn add_room(
    conn: &Connection,
    token: &str,
    name: &str,
    description: Option<&str>,
    now: f64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO rooms (token, name, description, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (token) DO UPDATE SET name = excluded.name,
             description = COALESCE(excluded.description, rooms.description),
             info_updates = rooms.info_updates + 1",
        params![token, name, description, now],
    )?;
    Ok(())
}

/// Every room's token, in order.
pub fn room_tokens(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT token FROM rooms ORDER BY token")?;
    let tokens: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(tokens)
}

/// The row id of room `token`.
pub fn room_id(conn: &Connection, token: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT id FROM rooms WHERE token = ?1", params![token], |r| r.get(0)).optional()
}

/// Adds `info_updates` of a room (all rooms with `None`).
pub fn bump_info(conn: &Connection, room: Option<i64>) -> rusqlite::Result<()> {
    match room {
        Some(room) => conn.execute("UPDATE rooms SET info_updates = info_updates + 1 WHERE id = ?1", params![room])?,
        None => conn.execute("UPDATE rooms SET info_updates = info_updates + 1", [])?,
    };
    Ok(())
}

/// Sets a user's moderator and admin flags in `rooms` (the whole server with `None`), counting a
/// change in the rooms' `info_updates` as the real server's triggers do.
pub fn set_moderator(
    conn: &Connection,
    rooms: Option<&[i64]>,
    user: i64,
    moderator: bool,
    admin: bool,
    visible: bool,
) -> rusqlite::Result<()> {
    let admin = admin && moderator;
    match rooms {
        None => {
            let before: (bool, bool, bool) =
                conn.query_row("SELECT moderator, admin, visible FROM users WHERE id = ?1", params![user], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            conn.execute(
                "UPDATE users SET moderator = ?2, admin = ?3, visible = ?4,
                     banned = banned AND NOT ?2, banned_until = CASE WHEN ?2 THEN NULL ELSE banned_until END
                 WHERE id = ?1",
                params![user, moderator, admin, visible],
            )?;
            if before != (moderator, admin, visible) {
                bump_info(conn, None)?;
            }
        }
        Some(rooms) => {
            for &room in rooms {
                let before: Option<(bool, bool)> = conn
                    .query_row(
                        "SELECT moderator, admin FROM room_users WHERE room = ?1 AND user = ?2",
                        params![room, user],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                conn.execute(
                    "INSERT INTO room_users (room, user, moderator, admin, visible) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (room, user) DO UPDATE SET moderator = excluded.moderator, admin = excluded.admin,
                         visible = excluded.visible,
                         banned = banned AND NOT excluded.moderator",
                    params![room, user, moderator, admin, visible],
                )?;
                if before.unwrap_or((false, false)) != (moderator, admin) {
                    bump_info(conn, Some(room))?;
                }
            }
        }
    }
    Ok(())
}

/// Moves what was granted to a Session ID (`05…`: moderator, admin, bans, per room or global) to
/// `user`, a `15` id that is that account's blinded id on the server with key `server`, as the
/// real server does when it first sees the blinded id of an account it knew only by its Session
/// ID.
pub fn claim_unblinded(conn: &Connection, server: &[u8; 32], user: &User) -> rusqlite::Result<()> {
    if !user.blinded() {
        return Ok(());
    }
    let Ok(blinded) = user.session_id.parse::<crypto_core::identity::SessionId>() else { return Ok(()) };
    let mut stmt = conn.prepare(
        "SELECT id, session_id FROM users u WHERE session_id LIKE '05%' AND (moderator OR admin OR banned
             OR EXISTS (SELECT 1 FROM room_users r WHERE r.user = u.id AND (r.moderator OR r.admin OR r.banned)))",
    )?;
    let pending: Vec<(i64, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (id, session_id) in pending {
        let Ok(session) = session_id.parse::<crypto_core::identity::SessionId>() else { continue };
        if !crypto_core::community::blinded_id_matches(&blinded, &session, server) {
            continue;
        }
        conn.execute(
            "UPDATE users SET moderator = users.moderator OR p.moderator, admin = users.admin OR p.admin,
                 visible = users.visible OR p.visible, banned = users.banned OR p.banned,
                 banned_until = COALESCE(p.banned_until, users.banned_until)
             FROM (SELECT moderator, admin, visible, banned, banned_until FROM users WHERE id = ?2) AS p
             WHERE users.id = ?1",
            params![user.id, id],
        )?;
        conn.execute(
            "INSERT INTO room_users (room, user, moderator, admin, visible, banned, banned_until)
             SELECT room, ?1, moderator, admin, visible, banned, banned_until FROM room_users WHERE user = ?2
             ON CONFLICT (room, user) DO UPDATE SET moderator = excluded.moderator, admin = excluded.admin,
                 visible = excluded.visible, banned = excluded.banned, banned_until = excluded.banned_until",
            params![user.id, id],
        )?;
        conn.execute(
            "UPDATE users SET moderator = FALSE, admin = FALSE, banned = FALSE, banned_until = NULL WHERE id = ?1",
            params![id],
        )?;
        conn.execute("DELETE FROM room_users WHERE user = ?1", params![id])?;
    }
    Ok(())
}

/// When `session_id` is a Session ID whose blinded id already used the server, hands what it was
/// granted to that user at once ([`claim_unblinded`]).
pub fn claim_known(
    conn: &Connection,
    server: &[u8; 32],
    accept_unblinded: bool,
    session_id: &str,
) -> rusqlite::Result<()> {
    if accept_unblinded {
        return Ok(());
    }
    let Ok(session) = session_id.parse::<crypto_core::identity::SessionId>() else { return Ok(()) };
    let Ok(candidates) = crypto_core::community::blind15_ids(&session, server) else { return Ok(()) };
    for candidate in candidates {
        if let Some(user) = user(conn, &candidate.to_string(), false, 0.0)? {
            claim_unblinded(conn, server, &user)?;
        }
    }
    Ok(())
}

/// Deletes expired files, DMs and nonces, and ends timed bans; how many rows.
pub fn sweep(conn: &Connection, now: f64) -> rusqlite::Result<usize> {
    let mut n = conn.execute("DELETE FROM files WHERE expiry IS NOT NULL AND expiry <= ?1", params![now])?;
    n += conn.execute("DELETE FROM inbox WHERE expiry <= ?1", params![now])?;
    n += conn.execute("DELETE FROM nonces WHERE expiry <= ?1", params![now])?;
    n += conn.execute(
        "UPDATE users SET banned = FALSE, banned_until = NULL WHERE banned AND banned_until <= ?1",
        params![now],
    )?;
    n += conn.execute(
        "UPDATE room_users SET banned = FALSE, banned_until = NULL WHERE banned AND banned_until <= ?1",
        params![now],
    )?;
    Ok(n)
}
