//! The vault: everything Hush keeps on a device, sealed.
//!
//! Records are sealed by `crypto_core::vault` before they reach a [`Backend`] (IndexedDB in the
//! browser, a file on the command line, memory in tests); the backend sees store names, keyed-hash
//! lookup keys and ciphertext of values padded to size buckets — never a message, a name, a
//! Session ID or a key, nor a message's length to the byte. The records not sealed by the data key
//! are the schema version and the data key itself, wrapped twice: by the passphrase (Argon2id) and
//! by the account's seed (the recovery phrase).

mod memory;
pub use memory::MemoryBackend;
pub mod index;
mod migrations;

use core::cell::Cell;
use core::fmt;

use crypto_core::identity::Seed;
use crypto_core::vault::{DataKey, KdfParams, RecoveryWrap, VaultError, WrappedKey};
use rand_core::OsRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

/// Object-store names. A store gets a new name when its record format changes.
pub mod stores {
    /// The wrapped data key (two wraps) and the schema version (not sealed by the data key).
    pub const META: &str = "meta";
    /// The account: identity seed, display name, settings; and the seen message hashes.
    pub const ACCOUNT: &str = "account";
    /// Conversations, one record per peer (from schema 3: without the message list).
    pub const CONVERSATIONS: &str = "conversations2";
    /// Messages, one record per message.
    pub const MESSAGES: &str = "messages";
    /// Each conversation's message index, in pages (from schema 3).
    pub const MESSAGE_PAGES: &str = "message-pages";
    /// Conversations as schemas 1 and 2 kept them, each holding every message id. Read only by
    /// the migration to schema 3, which empties it.
    pub const CONVERSATIONS_V1: &str = "conversations";
    /// Attachments' bytes, in sealed pieces (see `crate::attachments`).
    pub const FILES: &str = "files";
    /// Communities: joined rooms, their messages, where each server's polling stands, and the
    /// servers blinded DM peers are reached through (see `crate::communities`).
    pub const COMMUNITIES: &str = "communities";
    /// Every store, in creation order.
    pub const ALL: &[&str] =
        &[META, ACCOUNT, CONVERSATIONS_V1, MESSAGES, CONVERSATIONS, MESSAGE_PAGES, FILES, COMMUNITIES];
}

/// The schema version this build writes; the steps in [`migrations`] lead up to it.
pub const SCHEMA_VERSION: u32 = 4;
/// `meta` record: the data key wrapped by Argon2id(passphrase).
pub(crate) const WRAPPED_KEY: &str = "wrapped-key";
/// `meta` record: the data key wrapped by a key derived from the account seed (from schema 2).
pub(crate) const RECOVERY_KEY: &str = "recovery-key";
/// `meta` record: the schema version, u32 LE.
pub(crate) const SCHEMA: &str = "schema";

/// A failure of the device's storage, or of the vault on top of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageError {
    /// The device's storage refused (for IndexedDB, the DOMException's name and message).
    Backend { name: String, message: String },
    /// There is no account on this device.
    NoVault,
    /// An account already exists on this device.
    VaultExists,
    /// The vault refused (wrong passphrase, damaged data).
    Vault(VaultError),
    /// The stored schema is newer than this build understands.
    TooNew { found: u32 },
    /// The vault was locked or its account deleted: nothing more is written through it.
    Closed,
    /// This vault has no recovery wrap (made by an older Hush and not unlocked since).
    NoRecoveryKey,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Backend { name, message } => write!(f, "this device's storage failed ({name}): {message}"),
            StorageError::NoVault => f.write_str("there is no account on this device"),
            StorageError::VaultExists => f.write_str("an account already exists on this device"),
            StorageError::Vault(e) => e.fmt(f),
            StorageError::TooNew { found } => {
                write!(f, "this data was written by a newer Hush (schema {found}); update Hush to open it")
            }
            StorageError::Closed => f.write_str("this account was locked or deleted; nothing was written"),
            StorageError::NoRecoveryKey => f.write_str(
                "this device's account cannot be opened with the recovery phrase yet: \
                 unlock it once with the passphrase (or delete it and restore from the phrase)",
            ),
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

/// A record as read: missing, present but not readable (damaged), or parsed.
#[derive(Debug)]
pub enum Read<T> {
    /// No such record.
    Missing,
    /// A record that does not open or parse.
    Damaged,
    /// The record.
    Found(T),
}

impl<T> Read<T> {
    /// The record if it was found.
    pub fn found(self) -> Option<T> {
        match self {
            Read::Found(t) => Some(t),
            Read::Missing | Read::Damaged => None,
        }
    }
}

/// A shared or borrowed backend is the backend it points to.
macro_rules! forward_backend {
    ($($wrapper:ty),*) => {$(
        impl<T: Backend> Backend for $wrapper {
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
    )*};
}

forward_backend!(std::rc::Rc<T>, &T);

/// How many reads [`Vault::entries`] has in flight at once: enough that the backend's round trips
/// overlap, few enough that a store of 100,000 records is not asked for all at once.
const READ_AHEAD: usize = 256;

/// An unlocked vault: reads and writes sealed records through a backend.
pub struct Vault<B: Backend> {
    pub(crate) backend: B,
    pub(crate) key: DataKey,
    /// Set by [`Vault::close`] and [`Vault::wipe`]: every later write is refused.
    closed: Cell<bool>,
}

impl<B: Backend> fmt::Debug for Vault<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").field("closed", &self.closed.get()).finish_non_exhaustive()
    }
}

/// Whether an account exists in `backend`.
pub async fn exists<B: Backend>(backend: &B) -> Result<bool, StorageError> {
    Ok(backend.get(stores::META, WRAPPED_KEY).await?.is_some())
}

/// Erases everything in `backend` without unlocking it (Delete account from the unlock screen).
/// The data was encrypted, so nothing readable remains.
pub async fn erase<B: Backend>(backend: &B) -> Result<(), StorageError> {
    backend.clear().await
}

/// Checks `passphrase` against the stored wrap without changing anything (no migration runs).
pub async fn verify_passphrase<B: Backend>(backend: &B, passphrase: &str) -> Result<(), StorageError> {
    let wrapped = backend.get(stores::META, WRAPPED_KEY).await?.ok_or(StorageError::NoVault)?;
    DataKey::unwrap(&WrappedKey::from_bytes(&wrapped)?, passphrase)?;
    Ok(())
}

async fn stored_schema<B: Backend>(backend: &B) -> Result<u32, StorageError> {
    let schema = match backend.get(stores::META, SCHEMA).await? {
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
    Ok(schema)
}

impl<B: Backend> Vault<B> {
    /// Creates a new vault for the account with `seed`, protected by `passphrase` (and openable by
    /// the seed's recovery phrase); refuses if one exists. The passphrase wrap is written last:
    /// until it is, no vault exists.
    pub async fn create(
        backend: B,
        passphrase: &str,
        seed: &Seed,
        params: KdfParams,
    ) -> Result<Vault<B>, StorageError> {
        if exists(&backend).await? {
            return Err(StorageError::VaultExists);
        }
        let key = DataKey::generate(&mut OsRng);
        let wrapped = key.wrap(&mut OsRng, passphrase, params)?;
        backend.put(stores::META, SCHEMA, &SCHEMA_VERSION.to_le_bytes()).await?;
        backend.put(stores::META, RECOVERY_KEY, &key.wrap_for_recovery(&mut OsRng, seed).to_bytes()).await?;
        backend.put(stores::META, WRAPPED_KEY, &wrapped.to_bytes()).await?;
        Ok(Vault::with_key(backend, key))
    }

    fn with_key(backend: B, key: DataKey) -> Vault<B> {
        Vault { backend, key, closed: Cell::new(false) }
    }

    /// Unlocks the vault with `passphrase`, then brings it up to [`SCHEMA_VERSION`]. A wrong
    /// passphrase changes nothing; a newer schema is refused before anything is written.
    pub async fn unlock(backend: B, passphrase: &str) -> Result<Vault<B>, StorageError> {
        let wrapped = backend.get(stores::META, WRAPPED_KEY).await?.ok_or(StorageError::NoVault)?;
        let schema = stored_schema(&backend).await?;
        let key = DataKey::unwrap(&WrappedKey::from_bytes(&wrapped)?, passphrase)?;
        let vault = Vault::with_key(backend, key);
        vault.migrate(schema).await?;
        Ok(vault)
    }

    /// Opens the vault with the account's `seed` (from its recovery phrase), then brings it up to
    /// [`SCHEMA_VERSION`]. Another account's seed is [`VaultError::WrongPhrase`] and changes
    /// nothing. The passphrase is not changed here: see [`Vault::set_passphrase`].
    pub async fn recover(backend: B, seed: &Seed) -> Result<Vault<B>, StorageError> {
        if !exists(&backend).await? {
            return Err(StorageError::NoVault);
        }
        let schema = stored_schema(&backend).await?;
        let wrapped = backend.get(stores::META, RECOVERY_KEY).await?.ok_or(StorageError::NoRecoveryKey)?;
        let key = DataKey::unwrap_recovery(&RecoveryWrap::from_bytes(&wrapped)?, seed)?;
        let vault = Vault::with_key(backend, key);
        vault.migrate(schema).await?;
        Ok(vault)
    }

    /// Runs every migration step after `from`, in order; the version is written after each step,
    /// so an interrupted upgrade resumes at the step it was in (each step can run again).
    async fn migrate(&self, from: u32) -> Result<(), StorageError> {
        if from < 2 {
            migrations::v1_to_v2(self).await?;
            self.set_schema(2).await?;
        }
        if from < 3 {
            migrations::v2_to_v3(self).await?;
            self.set_schema(3).await?;
        }
        if from < 4 {
            migrations::v3_to_v4(self).await?;
            self.set_schema(4).await?;
        }
        Ok(())
    }

    async fn set_schema(&self, version: u32) -> Result<(), StorageError> {
        self.writable()?;
        self.backend.put(stores::META, SCHEMA, &version.to_le_bytes()).await
    }

    /// Wraps the data key for the account with `seed` (replacing any recovery wrap).
    async fn set_recovery(&self, seed: &Seed) -> Result<(), StorageError> {
        self.writable()?;
        let wrapped = self.key.wrap_for_recovery(&mut OsRng, seed);
        self.backend.put(stores::META, RECOVERY_KEY, &wrapped.to_bytes()).await
    }

    /// Replaces the passphrase after checking `current`: only the passphrase wrap is rewritten
    /// (the data key, every record and the recovery wrap stay as they are). A wrong `current` is
    /// [`VaultError::WrongPassphrase`] and changes nothing.
    pub async fn change_passphrase(&self, current: &str, new: &str, params: KdfParams) -> Result<(), StorageError> {
        self.writable()?;
        let stored = self.backend.get(stores::META, WRAPPED_KEY).await?.ok_or(StorageError::NoVault)?;
        let opened = DataKey::unwrap(&WrappedKey::from_bytes(&stored)?, current)?;
        if !opened.same_as(&self.key) {
            return Err(StorageError::Vault(VaultError::Corrupt));
        }
        self.set_passphrase(new, params).await
    }

    /// Wraps the data key under `passphrase` (replacing the passphrase wrap), for a vault opened
    /// with [`Vault::recover`]. The recovery wrap stays.
    pub async fn set_passphrase(&self, passphrase: &str, params: KdfParams) -> Result<(), StorageError> {
        self.writable()?;
        let wrapped = self.key.wrap(&mut OsRng, passphrase, params)?;
        self.backend.put(stores::META, WRAPPED_KEY, &wrapped.to_bytes()).await
    }

    fn writable(&self) -> Result<(), StorageError> {
        if self.closed.get() { Err(StorageError::Closed) } else { Ok(()) }
    }

    /// Writes the record `id` of `store`, sealed. Refused once the vault is closed.
    pub async fn put(&self, store: &str, id: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.writable()?;
        let lookup = self.key.lookup_key(store, id);
        let sealed = self.key.seal_record(&mut OsRng, store, &lookup, value);
        // Checked and handed to the backend in one step (no await between): a write that passed
        // this point was queued before any wipe's, and the wipe erases it.
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

    /// Reads and parses the JSON record `id` of `store`. A record that does not open or parse is
    /// [`Read::Damaged`] (never fatal); only the device's storage failing is an error.
    pub async fn read<T: DeserializeOwned>(&self, store: &str, id: &[u8]) -> Result<Read<T>, StorageError> {
        match self.get(store, id).await {
            Ok(None) => Ok(Read::Missing),
            Ok(Some(bytes)) => Ok(serde_json::from_slice(&bytes).map_or(Read::Damaged, Read::Found)),
            Err(StorageError::Vault(_)) => Ok(Read::Damaged),
            Err(e) => Err(e),
        }
    }

    /// Writes `value` as the JSON record `id` of `store`, sealed.
    pub async fn write<T: Serialize>(&self, store: &str, id: &[u8], value: &T) -> Result<(), StorageError> {
        let bytes = Zeroizing::new(serde_json::to_vec(value).map_err(|_| VaultError::Malformed("record"))?);
        self.put(store, id, &bytes).await
    }

    /// Removes the record `id` of `store`. Refused once the vault is closed.
    pub async fn delete(&self, store: &str, id: &[u8]) -> Result<(), StorageError> {
        self.writable()?;
        self.backend.delete(store, &self.key.lookup_key(store, id)).await
    }

    /// Every record of `store` that opens; damaged records are skipped, never fatal.
    pub async fn all(&self, store: &str) -> Result<Vec<Zeroizing<Vec<u8>>>, StorageError> {
        Ok(self.entries(store).await?.into_iter().map(|(_, plain)| plain).collect())
    }

    /// Every record of `store` that opens, with its backend key. The reads go out
    /// [`READ_AHEAD`] at a time rather than one after another: on IndexedDB a list of 1,000
    /// conversations took 280 ms read one by one and 158 ms read at once (BENCHMARKS.md).
    pub(crate) async fn entries(&self, store: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>, StorageError> {
        let mut out = Vec::new();
        for lookups in self.backend.keys(store).await?.chunks(READ_AHEAD) {
            let reads = futures::future::join_all(lookups.iter().map(|lookup| self.backend.get(store, lookup))).await;
            for (lookup, read) in lookups.iter().zip(reads) {
                if let Some(sealed) = read?
                    && let Ok(plain) = self.key.open_record(store, lookup, &sealed)
                {
                    out.push((lookup.clone(), plain));
                }
            }
        }
        Ok(out)
    }

    /// Refuses every later write through this vault (on lock): a task still running (a poll
    /// filing messages) cannot write after the person locked or deleted the account.
    pub fn close(&self) {
        self.closed.set(true);
    }

    /// Whether [`Vault::close`] or [`Vault::wipe`] ran.
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Erases everything on this device and closes the vault first, so no write still in flight
    /// lands after the wipe. The data was encrypted, so nothing readable remains.
    pub async fn wipe(&self) -> Result<(), StorageError> {
        self.close();
        self.backend.clear().await
    }

    /// The backend (for tests that read raw records).
    pub fn backend(&self) -> &B {
        &self.backend
    }
}
