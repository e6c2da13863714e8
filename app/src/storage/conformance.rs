//! One storage test suite, run natively against [`MemoryBackend`](super::MemoryBackend) and in
//! headless Chromium against IndexedDB (`app/tests/web.rs`). Each function takes a fresh, empty
//! backend and panics on failure.

use crypto_core::vault::{KdfParams, VaultError};

use super::{Backend, SCHEMA_VERSION, StorageError, Vault, exists, stores};

const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

/// Every backend record, as (store, key, value).
async fn snapshot<B: Backend>(backend: &B) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for store in stores::ALL {
        for key in backend.keys(store).await.unwrap() {
            let value = backend.get(store, &key).await.unwrap().unwrap();
            out.push(((*store).to_owned(), key, value));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Records written before locking are read back after unlocking with the passphrase.
pub async fn create_then_unlock<B: Backend>(backend: B) {
    assert!(!exists(&backend).await.unwrap());
    let vault = Vault::create(backend, "open sesame", FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"profile", b"display name: Alice").await.unwrap();
    vault.put(stores::MESSAGES, b"m1", b"hello").await.unwrap();
    vault.put(stores::MESSAGES, b"m2", b"world").await.unwrap();
    let Vault { backend, .. } = vault;
    assert!(exists(&backend).await.unwrap());
    let vault = Vault::unlock(backend, "open sesame").await.unwrap();
    assert_eq!(&vault.get(stores::ACCOUNT, b"profile").await.unwrap().unwrap()[..], b"display name: Alice");
    let mut all: Vec<Vec<u8>> = vault.all(stores::MESSAGES).await.unwrap().into_iter().map(|m| m.to_vec()).collect();
    all.sort();
    assert_eq!(all, vec![b"hello".to_vec(), b"world".to_vec()]);
    assert!(vault.get(stores::ACCOUNT, b"nothing").await.unwrap().is_none());
    vault.delete(stores::MESSAGES, b"m1").await.unwrap();
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 1);
}

/// A wrong passphrase is refused with a clear error and touches nothing.
pub async fn wrong_passphrase_changes_nothing<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "right", FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"seed", b"secret seed bytes").await.unwrap();
    let Vault { backend, .. } = vault;
    let before = snapshot(&backend).await;
    let err = Vault::unlock(&backend, "wrong").await.unwrap_err();
    assert_eq!(err, StorageError::Vault(VaultError::WrongPassphrase));
    assert_eq!(err.to_string(), "that passphrase does not unlock this account");
    assert_eq!(snapshot(&backend).await, before);
    assert!(Vault::unlock(&backend, "right").await.is_ok());
}

/// Nothing is stored in the clear: neither record contents nor record IDs.
pub async fn nothing_is_stored_in_the_clear<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "pass", FAST).await.unwrap();
    let id = b"05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74";
    vault.put(stores::CONVERSATIONS, id, b"Bob the Builder").await.unwrap();
    for (store, key, value) in snapshot(vault.backend()).await {
        for needle in [&id[..], b"Bob the Builder", b"aa654f00fc39"] {
            assert!(!contains(&value, needle), "{store}/{key} holds plaintext");
            assert!(!contains(key.as_bytes(), needle), "{store}/{key} key holds plaintext");
        }
    }
}

/// One damaged record is skipped; the others still read.
pub async fn a_damaged_record_loses_nothing_else<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "pass", FAST).await.unwrap();
    for i in 0..5u8 {
        vault.put(stores::MESSAGES, &[i], &[i; 10]).await.unwrap();
    }
    let keys = vault.backend().keys(stores::MESSAGES).await.unwrap();
    vault.backend().put(stores::MESSAGES, &keys[2], b"garbage").await.unwrap();
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 4);
}

/// Creating over an existing vault, or unlocking none, are refused; a newer schema is refused.
pub async fn refusals<B: Backend>(backend: B) {
    let err = Vault::unlock(&backend, "x").await.unwrap_err();
    assert_eq!(err, StorageError::NoVault);
    let vault = Vault::create(&backend, "x", FAST).await.unwrap();
    drop(vault);
    assert_eq!(Vault::create(&backend, "y", FAST).await.unwrap_err(), StorageError::VaultExists);
    backend.put(stores::META, "schema", &(SCHEMA_VERSION + 1).to_le_bytes()).await.unwrap();
    assert_eq!(Vault::unlock(&backend, "x").await.unwrap_err(), StorageError::TooNew { found: SCHEMA_VERSION + 1 });
}

/// A new passphrase opens the same records; the old one no longer does. Wiping empties everything.
pub async fn change_passphrase_and_wipe<B: Backend>(backend: B) {
    let vault = Vault::create(&backend, "old", FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"k", b"v").await.unwrap();
    vault.change_passphrase("new", FAST).await.unwrap();
    drop(vault);
    assert!(Vault::unlock(&backend, "old").await.is_err());
    let vault = Vault::unlock(&backend, "new").await.unwrap();
    assert_eq!(&vault.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"v");
    vault.wipe().await.unwrap();
    assert!(snapshot(&backend).await.is_empty());
    assert!(!exists(&backend).await.unwrap());
}
