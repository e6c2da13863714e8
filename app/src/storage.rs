//! The vault: everything Hush keeps in the browser, sealed.
//!
//! The only module that touches IndexedDB. Records are sealed by `crypto_core::vault` before they
//! reach a [`Backend`]; the backend sees store names, keyed-hash lookup keys and ciphertext —
//! never a message, a name, a Session ID or a key. The one record that is not sealed by the data
//! key is the data key itself, wrapped by the passphrase (Argon2id).

mod memory;
pub use memory::MemoryBackend;
#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
pub use idb::IdbBackend;
#[doc(hidden)]
pub mod conformance;

use core::fmt;

use crypto_core::vault::{DataKey, KdfParams, VaultError, WrappedKey};
use rand_core::OsRng;
use zeroize::Zeroizing;

/// Object-store names. A store gets a new name when its record format changes.
pub mod stores {
    /// The wrapped data key and the schema version (not sealed by the data key).
    pub const META: &str = "meta";
    /// The account: identity seed, display name, settings.
    pub const ACCOUNT: &str = "account";
    /// Contacts and conversations.
    pub const CONVERSATIONS: &str = "conversations";
    /// Messages.
    pub const MESSAGES: &str = "messages";
    /// Every store, in creation order.
    pub const ALL: &[&str] = &[META, ACCOUNT, CONVERSATIONS, MESSAGES];
}

/// The backend of this device: IndexedDB in the browser (memory when built natively, for tests).
#[cfg(target_arch = "wasm32")]
pub type DeviceBackend = IdbBackend;
/// The backend of this device: IndexedDB in the browser (memory when built natively, for tests).
#[cfg(not(target_arch = "wasm32"))]
pub type DeviceBackend = MemoryBackend;

/// Opens this device's storage, and asks the browser to keep it (`navigator.storage.persist()`).
pub async fn open_device() -> Result<DeviceBackend, StorageError> {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(window) = web_sys::window()
            && let Ok(promise) = window.navigator().storage().persist()
        {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        IdbBackend::open_default().await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Ok(MemoryBackend::default())
    }
}

/// The schema version this build writes; migrations in [`migrations`] lead up to it.
pub const SCHEMA_VERSION: u32 = 1;
/// The IndexedDB database name.
pub const DB_NAME: &str = "hush";
const WRAPPED_KEY: &str = "wrapped-key";

/// A failure of the browser's storage, or of the vault on top of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageError {
    /// The browser's storage refused (the DOMException's name and message).
    Backend { name: String, message: String },
    /// There is no account on this device.
    NoVault,
    /// An account already exists on this device.
    VaultExists,
    /// The vault refused (wrong passphrase, damaged data).
    Vault(VaultError),
    /// The stored schema is newer than this build understands.
    TooNew { found: u32 },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Backend { name, message } => write!(f, "browser storage failed ({name}): {message}"),
            StorageError::NoVault => f.write_str("there is no account on this device"),
            StorageError::VaultExists => f.write_str("an account already exists on this device"),
            StorageError::Vault(e) => e.fmt(f),
            StorageError::TooNew { found } => {
                write!(f, "this data was written by a newer Hush (schema {found}); update Hush to open it")
            }
        }
    }
}

impl std::error::Error for StorageError {}

impl From<VaultError> for StorageError {
    fn from(e: VaultError) -> Self {
        StorageError::Vault(e)
    }
}

/// A key–value store of byte records in named stores (IndexedDB in the browser, memory in tests).
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// The record at `key` in `store`.
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Writes the record at `key` in `store`.
    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Removes the record at `key` in `store`.
    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError>;
    /// Every key in `store`, sorted.
    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError>;
    /// Removes every record of every store.
    async fn clear(&self) -> Result<(), StorageError>;
}

impl<T: Backend> Backend for &T {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(store, key).await
    }
    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        (**self).put(store, key, value).await
    }
    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        (**self).delete(store, key).await
    }
    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        (**self).keys(store).await
    }
    async fn clear(&self) -> Result<(), StorageError> {
        (**self).clear().await
    }
}

/// An unlocked vault: reads and writes sealed records through a backend.
pub struct Vault<B: Backend> {
    backend: B,
    key: DataKey,
}

impl<B: Backend> fmt::Debug for Vault<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

/// Whether an account exists in `backend`.
pub async fn exists<B: Backend>(backend: &B) -> Result<bool, StorageError> {
    Ok(backend.get(stores::META, WRAPPED_KEY).await?.is_some())
}

impl<B: Backend> Vault<B> {
    /// Creates a new vault protected by `passphrase`; refuses if one exists.
    pub async fn create(backend: B, passphrase: &str, params: KdfParams) -> Result<Vault<B>, StorageError> {
        if exists(&backend).await? {
            return Err(StorageError::VaultExists);
        }
        let key = DataKey::generate(&mut OsRng);
        let wrapped = key.wrap(&mut OsRng, passphrase, params)?;
        backend.put(stores::META, "schema", &SCHEMA_VERSION.to_le_bytes()).await?;
        backend.put(stores::META, WRAPPED_KEY, &wrapped.to_bytes()).await?;
        Ok(Vault { backend, key })
    }

    /// Unlocks the vault with `passphrase`. A wrong passphrase changes nothing.
    pub async fn unlock(backend: B, passphrase: &str) -> Result<Vault<B>, StorageError> {
        let wrapped = backend.get(stores::META, WRAPPED_KEY).await?.ok_or(StorageError::NoVault)?;
        let schema = match backend.get(stores::META, "schema").await? {
            Some(bytes) => bytes
                .as_slice()
                .try_into()
                .map(u32::from_le_bytes)
                .map_err(|_| StorageError::Vault(VaultError::Malformed("schema version")))?,
            None => 0,
        };
        if schema > SCHEMA_VERSION {
            return Err(StorageError::TooNew { found: schema });
        }
        let key = DataKey::unwrap(&WrappedKey::from_bytes(&wrapped)?, passphrase)?;
        let vault = Vault { backend, key };
        vault.migrate(schema).await?;
        Ok(vault)
    }

    async fn migrate(&self, from: u32) -> Result<(), StorageError> {
        // Version 1 is the first schema: nothing to migrate yet. Each future step is a numbered
        // function here, run in order, and the version is written after each.
        if from < SCHEMA_VERSION {
            self.backend.put(stores::META, "schema", &SCHEMA_VERSION.to_le_bytes()).await?;
        }
        Ok(())
    }

    /// Replaces the passphrase (the data key, and so every record, stays as it is).
    pub async fn change_passphrase(&self, passphrase: &str, params: KdfParams) -> Result<(), StorageError> {
        let wrapped = self.key.wrap(&mut OsRng, passphrase, params)?;
        self.backend.put(stores::META, WRAPPED_KEY, &wrapped.to_bytes()).await
    }

    /// Writes the record `id` of `store`, sealed.
    pub async fn put(&self, store: &str, id: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let lookup = self.key.lookup_key(store, id);
        let sealed = self.key.seal_record(&mut OsRng, store, &lookup, value);
        self.backend.put(store, &lookup, &sealed).await
    }

    /// Reads the record `id` of `store`.
    pub async fn get(&self, store: &str, id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, StorageError> {
        let lookup = self.key.lookup_key(store, id);
        match self.backend.get(store, &lookup).await? {
            Some(sealed) => Ok(Some(self.key.open_record(store, &lookup, &sealed)?)),
            None => Ok(None),
        }
    }

    /// Removes the record `id` of `store`.
    pub async fn delete(&self, store: &str, id: &[u8]) -> Result<(), StorageError> {
        self.backend.delete(store, &self.key.lookup_key(store, id)).await
    }

    /// Every record of `store` that opens; damaged records are skipped, never fatal.
    pub async fn all(&self, store: &str) -> Result<Vec<Zeroizing<Vec<u8>>>, StorageError> {
        let mut out = Vec::new();
        for lookup in self.backend.keys(store).await? {
            if let Some(sealed) = self.backend.get(store, &lookup).await?
                && let Ok(plain) = self.key.open_record(store, &lookup, &sealed)
            {
                out.push(plain);
            }
        }
        Ok(out)
    }

    /// Erases everything on this device. The data was encrypted, so nothing readable remains.
    pub async fn wipe(&self) -> Result<(), StorageError> {
        self.backend.clear().await
    }

    /// The backend (for tests that read raw records).
    pub fn backend(&self) -> &B {
        &self.backend
    }
}
