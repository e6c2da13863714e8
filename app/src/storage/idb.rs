//! The IndexedDB backend (indexed_db_futures). Values are stored as `Uint8Array`s.

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;

use hush_client::storage::{Backend, StorageError, stores};

use super::DB_NAME;

thread_local! {
    /// How many writes (puts, deletes, clears) were handed to IndexedDB and have not finished.
    static WRITING: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// Whether a write handed to IndexedDB has not finished yet (a reload now would abort it).
pub fn writing() -> bool {
    WRITING.with(|w| w.get() > 0)
}

/// Counts one write in [`WRITING`] while it lives.
struct Writing;

impl Writing {
    fn start() -> Writing {
        WRITING.with(|w| w.set(w.get() + 1));
        Writing
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.with(|w| w.set(w.get().saturating_sub(1)));
    }
}

/// The browser's IndexedDB, database [`DB_NAME`] (or another name, for tests).
#[derive(Debug)]
pub struct IdbBackend {
    db: Database,
}

fn backend_error(e: impl std::fmt::Display) -> StorageError {
    let text = e.to_string();
    let (name, message) = match text.split_once(": ") {
        Some((n, m)) => (n.to_owned(), m.to_owned()),
        None => ("Error".to_owned(), text),
    };
    StorageError::Backend { name, message }
}

/// The IndexedDB schema version: one step per change to the set of object stores. (The vault's
/// own schema version, in its `meta` store, drives the data migrations; this one only makes
/// stores, which IndexedDB allows only while opening.)
const IDB_VERSION: u32 = 4;
/// The stores each IndexedDB version adds.
const ADDED: [&[&str]; 4] = [
    &[stores::META, stores::ACCOUNT, stores::CONVERSATIONS_V1, stores::MESSAGES],
    &[stores::CONVERSATIONS, stores::MESSAGE_PAGES],
    &[stores::FILES],
    &[stores::COMMUNITIES],
];

impl IdbBackend {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<IdbBackend, StorageError> {
        Self::open_version(name, IDB_VERSION).await
    }

    /// Opens `name` at an older IndexedDB `version` (for tests that build an old database).
    #[doc(hidden)]
    pub async fn open_version(name: &str, version: u32) -> Result<IdbBackend, StorageError> {
        let db = Database::open(name)
            .with_version(version)
            .with_on_upgrade_needed(move |event, db| {
                let old = event.old_version() as u32;
                for (step, added) in (1..=version).zip(ADDED) {
                    if old < step {
                        for store in added {
                            db.create_object_store(store).build()?;
                        }
                    }
                }
                Ok(())
            })
            .await
            .map_err(backend_error)?;
        Ok(IdbBackend { db })
    }

    /// Opens the app's database.
    pub async fn open_default() -> Result<IdbBackend, StorageError> {
        Self::open(DB_NAME).await
    }

    /// Deletes the database `name` (for tests that need it gone, not just empty).
    #[doc(hidden)]
    pub async fn delete_database(name: &str) -> Result<(), StorageError> {
        Database::delete_by_name(name).map_err(backend_error)?.await.map_err(backend_error)
    }
}

impl Drop for IdbBackend {
    /// Closes the connection (after its pending transactions), so a later upgrade is not blocked.
    fn drop(&mut self) {
        self.db.clone().close();
    }
}

thread_local! {
    /// The array the last large value went through (see [`staged`]).
    static STAGING: core::cell::RefCell<Option<Uint8Array>> = const { core::cell::RefCell::new(None) };
}

/// `value` in a JS array for `put`. A large value (a file's piece: every full piece of every file
/// has the same sealed length) goes through one array kept for the next of its size, so writing a
/// file leaves no garbage array per piece for the collector: IndexedDB clones what it is given
/// when it is given it.
fn staged(value: &[u8]) -> Uint8Array {
    const LARGE: usize = 64 * 1024;
    if value.len() < LARGE {
        return Uint8Array::from(value);
    }
    STAGING.with_borrow_mut(|kept| match kept {
        Some(array) if array.length() as usize == value.len() => {
            array.copy_from(value);
            array.clone()
        }
        _ => {
            let array = Uint8Array::from(value);
            *kept = Some(array.clone());
            array
        }
    })
}

impl Backend for IdbBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.transaction(store).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        let value: Option<JsValue> = os.get(key).primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        Ok(value.map(|v| Uint8Array::new(&v).to_vec()))
    }

    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let _writing = Writing::start();
        let tx = self.db.transaction(store).with_mode(TransactionMode::Readwrite).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        let array: JsValue = staged(value).into();
        // `put` clones the value before it returns: the array may be filled again right after.
        os.put(array).with_key(key).primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(())
    }

    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        let _writing = Writing::start();
        let tx = self.db.transaction(store).with_mode(TransactionMode::Readwrite).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        os.delete(key).primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(())
    }

    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        let tx = self.db.transaction(store).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        let keys = os.get_all_keys::<String>().primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        let mut out: Vec<String> = keys.collect::<Result<_, _>>().map_err(backend_error)?;
        out.sort();
        Ok(out)
    }

    async fn clear(&self) -> Result<(), StorageError> {
        let _writing = Writing::start();
        let tx =
            self.db.transaction(stores::ALL).with_mode(TransactionMode::Readwrite).build().map_err(backend_error)?;
        for store in stores::ALL {
            tx.object_store(store)
                .map_err(backend_error)?
                .clear()
                .map_err(backend_error)?
                .await
                .map_err(backend_error)?;
        }
        tx.commit().await.map_err(backend_error)?;
        Ok(())
    }
}
