//! The engine's native platform, the twin of the browser's: HTTPS through reqwest and rustls
//! (each request aborted at its deadline), the system clock with tokio's timers, and the vault's
//! sealed records in one SQLite file. Used by the `hush` command line and by the engine's tests
//! against a real local network.

use core::future::Future;
use core::time::Duration;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::platform::{Clock, MAX_REPLY_BYTES, Platform, Progress, Reply, Transport, TransportError, World};
use crate::storage::{Backend, StorageError};

/// The native platform.
#[derive(Debug)]
pub struct Native;

impl Platform for Native {
    type Transport = Https;
    type Clock = SystemClock;
    type Backend = SqliteBackend;
}

/// The native world: HTTPS and the system clock.
pub fn world() -> World<Native> {
    World { transport: Https::new(), clock: SystemClock, secure_page: false }
}

/// HTTPS (and plain HTTP for a relay on this machine) with rustls and the platform's roots.
#[derive(Clone, Debug)]
pub struct Https {
    client: reqwest::Client,
}

impl Default for Https {
    fn default() -> Self {
        Self::new()
    }
}

impl Https {
    /// A client that follows no redirects: the relay's answers are taken as they are.
    pub fn new() -> Https {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hush/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Https { client }
    }

    async fn send(&self, request: reqwest::RequestBuilder, deadline: Duration) -> Result<Reply, TransportError> {
        let work = async {
            let response = request.send().await.map_err(|e| unreachable(&e))?;
            let status = response.status().as_u16();
            if response.content_length().is_some_and(|n| n > MAX_REPLY_BYTES as u64) {
                return Err(TransportError::TooLarge);
            }
            let mut body = Vec::new();
            let mut response = response;
            while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
                if body.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err(TransportError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply { status, body })
        };
        tokio::time::timeout(deadline, work).await.unwrap_or(Err(TransportError::TimedOut))
    }
}

fn unreachable(e: &reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::TimedOut;
    }
    // The error's chain, without the URL (which names only the relay, but stays out of messages).
    let mut text = e.without_url_ref();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::Unreachable(text)
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(&format!(" for url ({url})"), "");
        }
        text
    }
}

impl Transport for Https {
    fn get(&self, url: &str, deadline: Duration) -> impl Future<Output = Result<Reply, TransportError>> {
        self.send(self.client.get(url), deadline)
    }

    fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
    ) -> impl Future<Output = Result<Reply, TransportError>> {
        self.send(self.client.post(url).header("content-type", "application/octet-stream").body(body), deadline)
    }

    /// The body goes out in pieces of [`UPLOAD_PIECE`] bytes; each piece taken by the connection
    /// is told to `progress`.
    async fn post_observed(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: Progress<'_>,
    ) -> Result<Reply, TransportError> {
        use futures::StreamExt;
        let total = body.len() as u64;
        // The stream must be `Send + 'static`, and `progress` is neither: counts cross a channel.
        let (taken, mut told) = futures::channel::mpsc::unbounded::<u64>();
        let pieces = futures::stream::unfold((body, 0usize, taken), |(body, at, taken)| async move {
            let end = at.saturating_add(UPLOAD_PIECE).min(body.len());
            let piece = body.get(at..end).filter(|p| !p.is_empty())?.to_vec();
            let _ = taken.unbounded_send(end as u64);
            Some((Ok::<_, std::io::Error>(piece), (body, end, taken)))
        });
        let request = self
            .client
            .post(url)
            .header("content-type", "application/octet-stream")
            .header("content-length", total)
            .body(reqwest::Body::wrap_stream(pieces));
        let watch = async {
            while let Some(sent) = told.next().await {
                progress(sent, total);
            }
        };
        let reply = {
            let send = core::pin::pin!(self.send(request, deadline));
            let watch = core::pin::pin!(watch);
            match futures::future::select(send, watch).await {
                futures::future::Either::Left((reply, _)) => reply,
                // The channel closed (the body was dropped): only the reply is left to wait for.
                futures::future::Either::Right(((), send)) => send.await,
            }
        };
        // What was taken but not told yet.
        while let Ok(sent) = told.try_recv() {
            progress(sent, total);
        }
        reply
    }
}

/// How much of a body [`Https`] hands the connection at a time when the caller watches progress.
const UPLOAD_PIECE: usize = 64 * 1024;

/// The system clock, with tokio's timers (a tokio runtime must be running).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// The vault's records in one SQLite file: a table of (store, key, value), where the key is the
/// vault's keyed-hash lookup key and the value the sealed record — exactly what IndexedDB holds in
/// the browser, so the same conformance suite runs on both.
#[derive(Debug)]
pub struct SqliteBackend {
    db: Mutex<rusqlite::Connection>,
}

fn db_error(e: rusqlite::Error) -> StorageError {
    StorageError::Backend { name: "SQLite".into(), message: e.to_string() }
}

impl SqliteBackend {
    /// Opens (creating) the vault file at `path`. On Unix the file is readable by its owner only.
    pub fn open(path: &Path) -> Result<SqliteBackend, StorageError> {
        let db = rusqlite::Connection::open(path).map_err(db_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Self::with(db)
    }

    /// A vault in memory (for tests).
    pub fn in_memory() -> Result<SqliteBackend, StorageError> {
        Self::with(rusqlite::Connection::open_in_memory().map_err(db_error)?)
    }

    fn with(db: rusqlite::Connection) -> Result<SqliteBackend, StorageError> {
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS records (
                 store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key)
             ) WITHOUT ROWID;",
        )
        .map_err(db_error)?;
        Ok(SqliteBackend { db: Mutex::new(db) })
    }

    fn run<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<T, StorageError> {
        let db = self.db.lock().map_err(|_| StorageError::Backend {
            name: "SQLite".into(),
            message: "the vault file's lock was poisoned".into(),
        })?;
        f(&db).map_err(db_error)
    }
}

impl Backend for SqliteBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.run(|db| {
            use rusqlite::OptionalExtension;
            db.query_row("SELECT value FROM records WHERE store = ?1 AND key = ?2", (store, key), |row| row.get(0))
                .optional()
        })
    }

    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.run(|db| {
            db.execute("INSERT OR REPLACE INTO records (store, key, value) VALUES (?1, ?2, ?3)", (store, key, value))
                .map(drop)
        })
    }

    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        self.run(|db| db.execute("DELETE FROM records WHERE store = ?1 AND key = ?2", (store, key)).map(drop))
    }

    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        self.run(|db| {
            let mut statement = db.prepare("SELECT key FROM records WHERE store = ?1 ORDER BY key")?;
            statement.query_map([store], |row| row.get(0))?.collect::<rusqlite::Result<Vec<String>>>()
        })
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.run(|db| db.execute("DELETE FROM records", []).map(drop))
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteBackend;
    use crate::conformance as suite;
    use futures::executor::block_on;

    fn fresh() -> SqliteBackend {
        SqliteBackend::in_memory().unwrap()
    }

    // The storage conformance suite, as on memory and IndexedDB.
    #[test]
    fn conformance_on_sqlite() {
        block_on(async {
            suite::create_then_unlock(fresh()).await;
            suite::wrong_passphrase_changes_nothing(fresh()).await;
            suite::nothing_is_stored_in_the_clear(fresh()).await;
            suite::a_damaged_record_loses_nothing_else(fresh()).await;
            suite::refusals(fresh()).await;
            suite::costly_stored_parameters_are_refused(fresh()).await;
            suite::change_passphrase_rewraps_only_the_passphrase_wrap(fresh()).await;
            suite::the_recovery_phrase_opens_the_vault(fresh()).await;
            suite::writes_after_close_or_wipe_are_refused(fresh()).await;
            suite::messages_are_filed_in_pages_and_paged_back_in_order(fresh()).await;
            suite::late_messages_never_grow_a_page_past_its_limit(fresh()).await;
            suite::messages_filed_at_once_under_the_lock_all_stay(fresh()).await;
            suite::forgetting_a_conversation_removes_it_and_nothing_else(fresh()).await;
            suite::large_values_of_one_size_each_read_back(fresh()).await;
            suite::a_damaged_index_page_hides_only_its_own_entries(fresh()).await;
            suite::a_schema_1_vault_upgrades_keeping_every_record(fresh()).await;
            suite::an_interrupted_upgrade_resumes_at_the_next_unlock(fresh(), 7).await;
            suite::an_upgrade_without_an_account_record_makes_no_recovery_wrap(fresh()).await;
            suite::record_sizes_fall_in_buckets(fresh()).await;
            suite::an_unpadded_vault_is_padded_at_the_next_unlock(fresh(), 3).await;
            suite::damaged_padding_loses_nothing_else(fresh()).await;
        });
    }

    #[test]
    fn records_survive_reopening_the_file() {
        let dir = std::env::temp_dir().join(format!("hush-sqlite-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("vault.sqlite");
        block_on(async {
            use crate::storage::Backend;
            let db = SqliteBackend::open(&path).unwrap();
            db.put("account", "k", b"kept").await.unwrap();
            drop(db);
            let db = SqliteBackend::open(&path).unwrap();
            assert_eq!(db.get("account", "k").await.unwrap().as_deref(), Some(&b"kept"[..]));
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
