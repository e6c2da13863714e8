//! The IndexedDB backend (indexed_db_futures). Values are stored as `Uint8Array`s.

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;

use super::{Backend, DB_NAME, StorageError, stores};

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

/// The IndexedDB schema version: one step per change to the set of object stores.
const IDB_VERSION: u32 = 1;

impl IdbBackend {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<IdbBackend, StorageError> {
        let db = Database::open(name)
            .with_version(IDB_VERSION)
            .with_on_upgrade_needed(|event, db| {
                let old = event.old_version() as u32;
                if old < 1 {
                    for store in stores::ALL {
                        db.create_object_store(store).build()?;
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
}

impl Backend for IdbBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.transaction(store).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        let value: Option<JsValue> = os.get(key).primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        Ok(value.map(|v| Uint8Array::new(&v).to_vec()))
    }

    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let tx = self.db.transaction(store).with_mode(TransactionMode::Readwrite).build().map_err(backend_error)?;
        let os = tx.object_store(store).map_err(backend_error)?;
        let array: JsValue = Uint8Array::from(value).into();
        os.put(array).with_key(key).primitive().map_err(backend_error)?.await.map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(())
    }

    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
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
