//! One node's messages, in SQLite.

use std::path::Path;

use anyhow::Context;
use crypto_core::storage::Namespace;
use rusqlite::{Connection, OptionalExtension, params};

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The storage hash (43 characters).
    pub hash: String,
    /// The raw data (not base64).
    pub data: Vec<u8>,
    /// The sender's store timestamp, in ms.
    pub timestamp: u64,
    /// When it expires, in ms.
    pub expiry: u64,
}

/// A message with its owner and its place in a store (for copying between nodes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its row id in the store it was read from (insertion order there).
    pub id: i64,
    /// The 33-byte owner pubkey.
    pub pubkey: [u8; 33],
    /// The namespace.
    pub namespace: i16,
    /// The message.
    pub message: Stored,
}

/// A new message for [`Store::insert`].
#[derive(Clone, Copy, Debug)]
pub struct NewMessage<'a> {
    /// The 33-byte owner pubkey.
    pub pubkey: &'a [u8; 33],
    /// The namespace.
    pub namespace: i16,
    /// The storage hash.
    pub hash: &'a str,
    /// The raw data.
    pub data: &'a [u8],
    /// Store timestamp (ms).
    pub timestamp: u64,
    /// Expiry (ms).
    pub expiry: u64,
}

/// The messages table of one node.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        Self::init(conn)
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> anyhow::Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> anyhow::Result<Store> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS messages (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 pubkey BLOB NOT NULL,
                 namespace INTEGER NOT NULL,
                 hash TEXT NOT NULL UNIQUE,
                 data BLOB NOT NULL,
                 timestamp INTEGER NOT NULL,
                 expiry INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS messages_owner ON messages (pubkey, namespace, id);
             CREATE INDEX IF NOT EXISTS messages_expiry ON messages (expiry);",
        )
        .context("creating the messages table")?;
        Ok(Store { conn })
    }

    /// Inserts a message; `Ok(false)` when the hash was already stored (its expiry is then raised
    /// to the later of the two).
    pub fn insert(&self, m: &NewMessage<'_>) -> rusqlite::Result<bool> {
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO messages (pubkey, namespace, hash, data, timestamp, expiry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![&m.pubkey[..], m.namespace, m.hash, m.data, to_i64(m.timestamp), to_i64(m.expiry)],
        )?;
        if inserted == 0 {
            self.conn.execute(
                "UPDATE messages SET expiry = MAX(expiry, ?2) WHERE hash = ?1",
                params![m.hash, to_i64(m.expiry)],
            )?;
        }
        Ok(inserted == 1)
    }

    /// The expiry of a stored hash.
    pub fn expiry_of(&self, hash: &str) -> rusqlite::Result<Option<u64>> {
        self.conn
            .query_row("SELECT expiry FROM messages WHERE hash = ?1", [hash], |r| r.get::<_, i64>(0))
            .optional()
            .map(|e| e.map(to_u64))
    }

    /// The expiry of a hash stored for `pubkey`.
    pub fn expiry_of_owned(&self, pubkey: &[u8; 33], hash: &str) -> rusqlite::Result<Option<u64>> {
        self.conn
            .query_row("SELECT expiry FROM messages WHERE hash = ?1 AND pubkey = ?2", params![hash, &pubkey[..]], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map(|e| e.map(to_u64))
    }

    /// Messages of (pubkey, namespace) after `last_hash` (from the start when the hash is unknown),
    /// in insertion order, not yet expired at `now`; at most `max_count` and about `max_size` bytes
    /// (at least one). Returns them and whether more remain.
    pub fn retrieve(
        &self,
        pubkey: &[u8; 33],
        namespace: i16,
        last_hash: Option<&str>,
        now: u64,
        max_count: usize,
        max_size: usize,
    ) -> rusqlite::Result<(Vec<Stored>, bool)> {
        let after: i64 = match last_hash {
            Some(h) => self
                .conn
                .query_row(
                    "SELECT id FROM messages WHERE hash = ?1 AND pubkey = ?2 AND namespace = ?3",
                    params![h, &pubkey[..], namespace],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0),
            None => 0,
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT hash, data, timestamp, expiry FROM messages
             WHERE pubkey = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4 ORDER BY id",
        )?;
        let mut rows = stmt.query(params![&pubkey[..], namespace, after, to_i64(now)])?;
        let mut out = Vec::new();
        let mut size = 0usize;
        while let Some(row) = rows.next()? {
            let m = Stored {
                hash: row.get(0)?,
                data: row.get(1)?,
                timestamp: to_u64(row.get(2)?),
                expiry: to_u64(row.get(3)?),
            };
            let this = m.data.len().div_ceil(3) * 4 + 120;
            if !out.is_empty() && (out.len() >= max_count || size + this > max_size) {
                return Ok((out, true));
            }
            size += this;
            out.push(m);
        }
        Ok((out, false))
    }

    /// Deletes the given hashes of an owner; returns those that were deleted, sorted.
    pub fn delete(&self, pubkey: &[u8; 33], hashes: &[String]) -> rusqlite::Result<Vec<String>> {
        let mut deleted = Vec::new();
        for h in hashes {
            if self.conn.execute("DELETE FROM messages WHERE pubkey = ?1 AND hash = ?2", params![&pubkey[..], h])? > 0 {
                deleted.push(h.clone());
            }
        }
        deleted.sort();
        Ok(deleted)
    }

    /// Deletes an owner's messages in `namespace` (all namespaces when `None`) stored with a
    /// timestamp at or before `before` (everything when `None`). Returns (namespace, hash) pairs, sorted.
    pub fn delete_where(
        &self,
        pubkey: &[u8; 33],
        namespace: Option<i16>,
        before: Option<u64>,
    ) -> rusqlite::Result<Vec<(i16, String)>> {
        let before = to_i64(before.unwrap_or(u64::MAX));
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM messages WHERE pubkey = ?1 AND (?2 IS NULL OR namespace = ?2) AND timestamp <= ?3
             RETURNING namespace, hash",
        )?;
        let mut out: Vec<(i16, String)> = stmt
            .query_map(params![&pubkey[..], namespace, before], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        out.sort();
        Ok(out)
    }

    /// Sets the expiry of an owner's messages, as the real server's `update_expiry`: one expiry for
    /// every hash, or `expiries[i]` for `hashes[i]`. With `extend_only` a message changes only if
    /// the new expiry is later, with `shorten_only` only if it is earlier; otherwise every stored
    /// message of the list is updated (even to the expiry it had). Returns (hash, applied expiry)
    /// for each message updated, a hash given twice with one expiry counting once.
    pub fn update_expiry(
        &self,
        pubkey: &[u8; 33],
        hashes: &[String],
        expiries: &[u64],
        extend_only: bool,
        shorten_only: bool,
    ) -> rusqlite::Result<Vec<(String, u64)>> {
        let constraint = if extend_only {
            " AND expiry < ?1"
        } else if shorten_only {
            " AND expiry > ?1"
        } else {
            ""
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!("UPDATE messages SET expiry = ?1 WHERE hash = ?2 AND pubkey = ?3{constraint}"))?;
        let single = match expiries {
            [one] => Some(*one),
            _ => None,
        };
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, hash) in hashes.iter().enumerate() {
            let Some(expiry) = single.or_else(|| expiries.get(i).copied()) else { break };
            if single.is_some() && !seen.insert(hash.as_str()) {
                continue;
            }
            if stmt.execute(params![to_i64(expiry), hash, &pubkey[..]])? > 0 {
                out.push((hash.clone(), expiry));
            }
        }
        Ok(out)
    }

    /// Lowers the expiry of every message of an owner in `namespace` (all when `None`) to `expiry`.
    /// Returns the (namespace, hash) pairs changed, sorted.
    pub fn shorten_all(
        &self,
        pubkey: &[u8; 33],
        namespace: Option<i16>,
        expiry: u64,
    ) -> rusqlite::Result<Vec<(i16, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE messages SET expiry = ?3 WHERE pubkey = ?1 AND (?2 IS NULL OR namespace = ?2) AND expiry > ?3
             RETURNING namespace, hash",
        )?;
        let mut out: Vec<(i16, String)> = stmt
            .query_map(params![&pubkey[..], namespace, to_i64(expiry)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        out.sort();
        Ok(out)
    }

    /// Keeps only the newest message of (pubkey, namespace): for public outboxes.
    pub fn keep_only(&self, pubkey: &[u8; 33], namespace: i16, hash: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "DELETE FROM messages WHERE pubkey = ?1 AND namespace = ?2 AND hash != ?3",
            params![&pubkey[..], namespace, hash],
        )?;
        Ok(())
    }

    /// Up to `limit` messages stored after row `after` and not expired at `now`, in insertion order.
    pub fn messages_after(&self, after: i64, limit: usize, now: u64) -> rusqlite::Result<Vec<Record>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, pubkey, namespace, hash, data, timestamp, expiry FROM messages
             WHERE id > ?1 AND expiry > ?2 ORDER BY id LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, to_i64(now), limit], |r| {
            let owner: Vec<u8> = r.get(1)?;
            Ok((r.get(0)?, owner, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, owner, namespace, hash, data, timestamp, expiry) = row?;
            // A row whose owner is not 33 bytes was not written by this store; skip it.
            let Ok(pubkey) = <[u8; 33]>::try_from(owner.as_slice()) else { continue };
            let message = Stored { hash, data, timestamp: to_u64(timestamp), expiry: to_u64(expiry) };
            out.push(Record { id, pubkey, namespace, message });
        }
        Ok(out)
    }

    /// Adds the records whose hash is not stored yet, in the given order, keeping their hash,
    /// data, timestamp and expiry; stored ones are left untouched. In a public outbox only the
    /// message with the latest timestamp stays. Returns how many were added.
    pub fn insert_missing(&mut self, records: &[Record]) -> rusqlite::Result<usize> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO messages (pubkey, namespace, hash, data, timestamp, expiry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut keep_latest = tx.prepare_cached(
                "DELETE FROM messages WHERE pubkey = ?1 AND namespace = ?2 AND id != (
                     SELECT id FROM messages WHERE pubkey = ?1 AND namespace = ?2
                     ORDER BY timestamp DESC, id DESC LIMIT 1)",
            )?;
            for r in records {
                let m = &r.message;
                let params = params![&r.pubkey[..], r.namespace, m.hash, m.data, to_i64(m.timestamp), to_i64(m.expiry)];
                if insert.execute(params)? == 1 {
                    added += 1;
                    if Namespace(r.namespace).is_public_outbox() {
                        keep_latest.execute(params![&r.pubkey[..], r.namespace])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Removes expired messages; returns how many.
    pub fn sweep(&self, now: u64) -> rusqlite::Result<usize> {
        self.conn.execute("DELETE FROM messages WHERE expiry <= ?1", [to_i64(now)])
    }

    /// How many messages are stored.
    pub fn count(&self) -> rusqlite::Result<u64> {
        self.conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0)).map(to_u64)
    }
}
