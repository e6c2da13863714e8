//! One storage test suite, run natively against [`MemoryBackend`](super::MemoryBackend) and in
//! headless Chromium against IndexedDB (`app/tests/web.rs`). Each function takes a fresh, empty
//! backend and panics on failure.

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::BTreeMap;

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::vault::{DataKey, KdfParams, RECORD_OVERHEAD, RecordFormat, VaultError, padded_len};
use serde_json::{Value, json};

use crate::conversations::{self as chat, Message, Standing, Status};
use crate::storage::index::{self, PAGE_ENTRIES, PAGE_LIMIT};
use crate::storage::{Backend, RECOVERY_KEY, SCHEMA, SCHEMA_VERSION, StorageError, Vault, WRAPPED_KEY, exists, stores};

const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 16])
}

fn peer_of(n: u8) -> SessionId {
    Identity::from_seed(&seed(n)).session_id()
}

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

/// Every record that opens, decrypted, by (store, backend key); `meta` left out (its wraps are
/// re-salted whenever they are written).
async fn opened<B: Backend>(vault: &Vault<B>) -> BTreeMap<(String, String), Vec<u8>> {
    let mut out = BTreeMap::new();
    for store in stores::ALL.iter().filter(|s| **s != stores::META) {
        for (key, plain) in vault.entries(store).await.unwrap() {
            out.insert(((*store).to_owned(), key), plain.to_vec());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Yields once to the executor, so futures joined together interleave at every backend call
/// even on the in-memory backend (IndexedDB interleaves on its own).
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A backend that yields before every call (see [`YieldOnce`]).
#[derive(Debug)]
pub struct Interleaved<B>(pub B);

impl<B: Backend> Backend for Interleaved<B> {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        YieldOnce(false).await;
        self.0.get(store, key).await
    }
    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        YieldOnce(false).await;
        self.0.put(store, key, value).await
    }
    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        YieldOnce(false).await;
        self.0.delete(store, key).await
    }
    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        YieldOnce(false).await;
        self.0.keys(store).await
    }
    async fn clear(&self) -> Result<(), StorageError> {
        YieldOnce(false).await;
        self.0.clear().await
    }
}

/// A backend whose writes fail after the first `allowed` (as when the tab closes mid-upgrade).
#[derive(Debug)]
pub struct Interrupting<B> {
    inner: B,
    allowed: Cell<usize>,
}

impl<B> Interrupting<B> {
    /// `inner`, failing every write after the first `allowed`.
    pub fn new(inner: B, allowed: usize) -> Self {
        Interrupting { inner, allowed: Cell::new(allowed) }
    }

    fn write(&self) -> Result<(), StorageError> {
        match self.allowed.get().checked_sub(1) {
            Some(left) => {
                self.allowed.set(left);
                Ok(())
            }
            None => Err(StorageError::Backend { name: "AbortError".into(), message: "interrupted".into() }),
        }
    }
}

impl<B: Backend> Backend for Interrupting<B> {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(store, key).await
    }
    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.write()?;
        self.inner.put(store, key, value).await
    }
    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        self.write()?;
        self.inner.delete(store, key).await
    }
    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        self.inner.keys(store).await
    }
    async fn clear(&self) -> Result<(), StorageError> {
        self.write()?;
        self.inner.clear().await
    }
}

/// Records written before locking are read back after unlocking with the passphrase.
pub async fn create_then_unlock<B: Backend>(backend: B) {
    assert!(!exists(&backend).await.unwrap());
    let vault = Vault::create(backend, "open sesame", &seed(1), FAST).await.unwrap();
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
    let schema = vault.backend().get(stores::META, SCHEMA).await.unwrap().unwrap();
    assert_eq!(schema, SCHEMA_VERSION.to_le_bytes());
}

/// A wrong passphrase is refused with a clear error and touches nothing.
pub async fn wrong_passphrase_changes_nothing<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "right", &seed(1), FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"seed", b"secret seed bytes").await.unwrap();
    let Vault { backend, .. } = vault;
    let before = snapshot(&backend).await;
    let err = Vault::unlock(&backend, "wrong").await.unwrap_err();
    assert_eq!(err, StorageError::Vault(VaultError::WrongPassphrase));
    assert_eq!(err.to_string(), "that passphrase does not unlock this account");
    assert_eq!(crate::storage::verify_passphrase(&backend, "wrong").await.unwrap_err(), err);
    assert_eq!(snapshot(&backend).await, before);
    assert!(crate::storage::verify_passphrase(&backend, "right").await.is_ok());
    assert!(Vault::unlock(&backend, "right").await.is_ok());
}

/// Nothing is stored in the clear: neither record contents nor record IDs, nor the seed.
pub async fn nothing_is_stored_in_the_clear<B: Backend>(backend: B) {
    let account_seed = Seed::from_bytes(*b"0123456789abcdef");
    let vault = Vault::create(backend, "pass", &account_seed, FAST).await.unwrap();
    let id = b"05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74";
    vault.put(stores::CONVERSATIONS, id, b"Bob the Builder").await.unwrap();
    let peer = peer_of(2);
    let msg = chat::outgoing(&peer, "Bob the Builder", 5, "Alice", String::new(), String::new());
    chat::file(&vault, &msg, None, false, Standing::Accepted).await.unwrap();
    let records = snapshot(vault.backend()).await;
    assert!(records.iter().any(|(store, ..)| store == stores::MESSAGE_PAGES));
    for (store, key, value) in records {
        for needle in [
            &id[..],
            b"Bob the Builder",
            b"aa654f00fc39",
            b"Alice",
            peer.to_string().as_bytes(),
            &peer.to_string().as_bytes()[2..20],
        ] {
            assert!(!contains(&value, needle), "{store}/{key} holds plaintext");
            assert!(!contains(key.as_bytes(), needle), "{store}/{key} key holds plaintext");
        }
        assert!(!contains(&value, account_seed.as_bytes()), "{store}/{key} holds the seed");
        assert!(!contains(&value, hex::encode(account_seed.as_bytes()).as_bytes()), "{store}/{key} holds the seed");
    }
}

/// One damaged record is skipped; the others still read.
pub async fn a_damaged_record_loses_nothing_else<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "pass", &seed(1), FAST).await.unwrap();
    for i in 0..5u8 {
        vault.put(stores::MESSAGES, &[i], &[i; 10]).await.unwrap();
    }
    let keys = vault.backend().keys(stores::MESSAGES).await.unwrap();
    vault.backend().put(stores::MESSAGES, &keys[2], b"garbage").await.unwrap();
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 4);
}

/// Creating over an existing vault, or unlocking none, are refused; a newer schema is refused
/// (by the passphrase and by the phrase) and left as it is.
pub async fn refusals<B: Backend>(backend: B) {
    let err = Vault::unlock(&backend, "x").await.unwrap_err();
    assert_eq!(err, StorageError::NoVault);
    assert_eq!(Vault::recover(&backend, &seed(1)).await.unwrap_err(), StorageError::NoVault);
    let vault = Vault::create(&backend, "x", &seed(1), FAST).await.unwrap();
    drop(vault);
    assert_eq!(Vault::create(&backend, "y", &seed(1), FAST).await.unwrap_err(), StorageError::VaultExists);
    backend.put(stores::META, SCHEMA, &(SCHEMA_VERSION + 1).to_le_bytes()).await.unwrap();
    let before = snapshot(&backend).await;
    let too_new = StorageError::TooNew { found: SCHEMA_VERSION + 1 };
    assert_eq!(Vault::unlock(&backend, "x").await.unwrap_err(), too_new);
    assert_eq!(Vault::recover(&backend, &seed(1)).await.unwrap_err(), too_new);
    assert_eq!(snapshot(&backend).await, before);
    backend.put(stores::META, SCHEMA, &[1, 0]).await.unwrap();
    assert!(matches!(Vault::unlock(&backend, "x").await, Err(StorageError::Vault(VaultError::Malformed(_)))));
}

/// A stored passphrase wrap asking Argon2 for more memory (or passes, or lanes) than the limits is
/// refused with a typed error before Argon2 runs, and changes nothing.
pub async fn costly_stored_parameters_are_refused<B: Backend>(backend: B) {
    let vault = Vault::create(&backend, "x", &seed(1), FAST).await.unwrap();
    drop(vault);
    let mut wrapped = backend.get(stores::META, WRAPPED_KEY).await.unwrap().unwrap();
    wrapped[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    backend.put(stores::META, WRAPPED_KEY, &wrapped).await.unwrap();
    let before = snapshot(&backend).await;
    let err = Vault::unlock(&backend, "x").await.unwrap_err();
    assert!(matches!(err, StorageError::Vault(VaultError::ParametersTooCostly { value: u32::MAX, .. })), "{err:?}");
    assert!(matches!(crate::storage::verify_passphrase(&backend, "x").await, Err(StorageError::Vault(_))));
    assert_eq!(snapshot(&backend).await, before);
}

/// Changing the passphrase checks the current one and rewrites the passphrase wrap only: every
/// other stored byte, the recovery wrap included, stays; the old passphrase no longer opens the
/// vault, the new one and the recovery phrase do. Wiping empties everything.
pub async fn change_passphrase_rewraps_only_the_passphrase_wrap<B: Backend>(backend: B) {
    let vault = Vault::create(&backend, "old", &seed(3), FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"k", b"v").await.unwrap();
    let before = snapshot(&backend).await;
    let err = vault.change_passphrase("not it", "new", FAST).await.unwrap_err();
    assert_eq!(err, StorageError::Vault(VaultError::WrongPassphrase));
    assert_eq!(snapshot(&backend).await, before);
    vault.change_passphrase("old", "new", FAST).await.unwrap();
    let after = snapshot(&backend).await;
    let changed: Vec<_> =
        after.iter().filter(|r| !before.contains(r)).map(|(s, k, _)| (s.as_str(), k.as_str())).collect();
    assert_eq!(changed, [(stores::META, WRAPPED_KEY)]);
    assert_eq!(before.len(), after.len());
    drop(vault);
    assert_eq!(Vault::unlock(&backend, "old").await.unwrap_err(), StorageError::Vault(VaultError::WrongPassphrase));
    let vault = Vault::unlock(&backend, "new").await.unwrap();
    assert_eq!(&vault.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"v");
    let recovered = Vault::recover(&backend, &seed(3)).await.unwrap();
    assert_eq!(&recovered.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"v");
    vault.wipe().await.unwrap();
    assert!(snapshot(&backend).await.is_empty());
    assert!(!exists(&backend).await.unwrap());
}

/// The recovery phrase's seed opens the vault (the passphrase forgotten), after which a new
/// passphrase can be set; another account's seed is refused and changes nothing.
pub async fn the_recovery_phrase_opens_the_vault<B: Backend>(backend: B) {
    let vault = Vault::create(&backend, "forgotten", &seed(4), FAST).await.unwrap();
    vault.put(stores::MESSAGES, b"m", b"history").await.unwrap();
    drop(vault);
    let before = snapshot(&backend).await;
    let err = Vault::recover(&backend, &seed(5)).await.unwrap_err();
    assert_eq!(err, StorageError::Vault(VaultError::WrongPhrase));
    assert_eq!(snapshot(&backend).await, before);
    let vault = Vault::recover(&backend, &seed(4)).await.unwrap();
    assert_eq!(&vault.get(stores::MESSAGES, b"m").await.unwrap().unwrap()[..], b"history");
    let recovery = backend.get(stores::META, RECOVERY_KEY).await.unwrap();
    vault.set_passphrase("new passphrase", FAST).await.unwrap();
    assert_eq!(backend.get(stores::META, RECOVERY_KEY).await.unwrap(), recovery);
    drop(vault);
    assert!(Vault::unlock(&backend, "forgotten").await.is_err());
    let vault = Vault::unlock(&backend, "new passphrase").await.unwrap();
    assert_eq!(&vault.get(stores::MESSAGES, b"m").await.unwrap().unwrap()[..], b"history");
    assert!(Vault::recover(&backend, &seed(4)).await.is_ok());
    // Without its recovery wrap (a vault that never got one), the phrase cannot open it.
    backend.delete(stores::META, RECOVERY_KEY).await.unwrap();
    assert_eq!(Vault::recover(&backend, &seed(4)).await.unwrap_err(), StorageError::NoRecoveryKey);
}

/// Once closed (locked) or wiped (account deleted), a vault refuses every write with a typed error;
/// writes still in flight when the wipe starts (a poll filing messages) land nowhere.
pub async fn writes_after_close_or_wipe_are_refused<B: Backend>(backend: B) {
    let backend = Interleaved(backend);
    let vault = Vault::create(&backend, "p", &seed(6), FAST).await.unwrap();
    vault.put(stores::ACCOUNT, b"k", b"v").await.unwrap();
    let before = snapshot(&backend).await;
    vault.close();
    assert!(vault.is_closed());
    assert_eq!(vault.put(stores::ACCOUNT, b"k2", b"v").await.unwrap_err(), StorageError::Closed);
    assert_eq!(vault.delete(stores::ACCOUNT, b"k").await.unwrap_err(), StorageError::Closed);
    assert_eq!(vault.change_passphrase("p", "q", FAST).await.unwrap_err(), StorageError::Closed);
    assert_eq!(vault.set_passphrase("q", FAST).await.unwrap_err(), StorageError::Closed);
    assert_eq!(StorageError::Closed.to_string(), "this account was locked or deleted; nothing was written");
    assert_eq!(snapshot(&backend).await, before);
    assert_eq!(&vault.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"v");
    drop(vault);

    let vault = Vault::unlock(&backend, "p").await.unwrap();
    let peer = peer_of(7);
    let messages: Vec<Message> = (0..10u64)
        .map(|i| chat::outgoing(&peer, &format!("#{i}"), 100 + i, "T", String::new(), String::new()))
        .collect();
    let lock = futures::lock::Mutex::new(());
    let filing = futures::future::join_all(messages.iter().map(|m| async {
        let _guard = lock.lock().await;
        chat::file(&vault, m, None, false, Standing::Accepted).await
    }));
    let wipe = async {
        // Let the filing start first, as a poll would be when the person deletes the account.
        YieldOnce(false).await;
        YieldOnce(false).await;
        vault.wipe().await
    };
    let (filed, wiped) = futures::future::join(filing, wipe).await;
    wiped.unwrap();
    assert!(filed.contains(&Err(StorageError::Closed)), "the wipe came after every filing");
    assert!(filed.iter().all(|r| r.is_ok() || *r == Err(StorageError::Closed)));
    assert!(snapshot(&backend).await.is_empty(), "a write landed after the wipe");
}

fn message(peer: &SessionId, timestamp: u64, body: &str) -> Message {
    chat::outgoing(peer, body, timestamp, "Me", String::new(), String::new())
}

async fn pages<B: Backend>(vault: &Vault<B>, peer: &SessionId) -> Vec<Vec<(u64, String)>> {
    let c = chat::conversation(vault, peer).await.unwrap().unwrap();
    let peer = &peer.to_string();
    let mut out = Vec::new();
    for n in 0..c.pages {
        let bytes = vault.get(stores::MESSAGE_PAGES, &index::page_id(peer, n)).await.unwrap().unwrap();
        out.push(serde_json::from_slice::<index::Page>(&bytes).unwrap().entries);
    }
    assert!(vault.get(stores::MESSAGE_PAGES, &index::page_id(peer, c.pages)).await.unwrap().is_none());
    out
}

/// Messages are filed in pages by (timestamp, id) and read back newest first, a page at a time,
/// in order whatever order they arrived in; filing never rewrites a record that grows with the
/// history; filing one again changes nothing.
pub async fn messages_are_filed_in_pages_and_paged_back_in_order<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "p", &seed(8), FAST).await.unwrap();
    let (alice, bob) = (peer_of(9), peer_of(10));
    // 80 timestamps, mostly in order, every seventh one late (back by 95).
    let stamps: Vec<u64> = (0..80u64).map(|i| if i % 7 == 3 { 1_000 + i * 10 - 95 } else { 1_000 + i * 10 }).collect();
    let mut sizes = Vec::new();
    let record = vault.key.lookup_key(stores::CONVERSATIONS, alice.to_string().as_bytes());
    for (i, t) in stamps.iter().enumerate() {
        chat::file(&vault, &message(&alice, *t, &format!("{i:03}")), None, false, Standing::Accepted).await.unwrap();
        if i == 10 || i == 79 {
            sizes.push(vault.backend().get(stores::CONVERSATIONS, &record).await.unwrap().unwrap().len());
        }
    }
    chat::file(&vault, &message(&bob, 5, "other"), None, false, Standing::Accepted).await.unwrap();
    // The conversation record does not grow; no page holds more than its limit.
    assert_eq!(sizes[0], sizes[1]);
    let index = pages(&vault, &alice).await;
    assert!(index.len() >= 80 / PAGE_LIMIT && index.iter().all(|p| p.len() <= PAGE_LIMIT), "{index:?}");
    let flat: Vec<(u64, String)> = index.concat();
    assert!(flat.windows(2).all(|w| w[0] < w[1]), "pages out of order");
    assert_eq!(flat.len(), 80);

    let mut expected: Vec<(u64, String)> = stamps.iter().enumerate().map(|(i, t)| (*t, format!("{i:03}"))).collect();
    expected.sort();
    let bodies = |ms: &[Message]| ms.iter().map(|m| (m.timestamp, m.body.clone())).collect::<Vec<_>>();
    let (newest, older) = chat::latest(&vault, &alice, 50).await.unwrap();
    assert!(older);
    assert_eq!(bodies(&newest), expected[30..]);
    let (more, older) = chat::latest(&vault, &alice, 70).await.unwrap();
    assert!(older);
    assert_eq!(bodies(&more), expected[10..]);
    let (all, older) = chat::latest(&vault, &alice, 1_000).await.unwrap();
    assert!(!older);
    assert_eq!(bodies(&all), expected);
    assert!(all.iter().all(|m| m.peer == alice && m.status == Status::Sending));
    let (just_bob, older) = chat::latest(&vault, &bob, 50).await.unwrap();
    assert_eq!((bodies(&just_bob), older), (vec![(5, "other".to_owned())], false));
    assert_eq!(chat::latest(&vault, &peer_of(11), 50).await.unwrap(), (Vec::new(), false));

    // Filing one again adds nothing.
    chat::file(&vault, &message(&alice, stamps[5], "005"), None, false, Standing::Accepted).await.unwrap();
    assert_eq!(pages(&vault, &alice).await.concat().len(), 80);
    let list = chat::list(&vault).await.unwrap();
    assert_eq!(list.iter().map(|c| c.peer).collect::<Vec<_>>(), [alice, bob]);
    // The conversation records hold no message list.
    let raw = vault.get(stores::CONVERSATIONS, alice.to_string().as_bytes()).await.unwrap().unwrap();
    let record: serde_json::Map<String, Value> = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        record.keys().map(String::as_str).collect::<Vec<_>>(),
        ["last_activity", "name", "pages", "peer", "preview", "standing", "unread"]
    );
}

/// Messages arriving late (timestamps far in the past, as a sender may choose) go where they
/// belong until that page is full, then with the newest: no page grows past its limit, and
/// nothing is lost.
pub async fn late_messages_never_grow_a_page_past_its_limit<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "p", &seed(12), FAST).await.unwrap();
    let peer = peer_of(13);
    for i in 0..(2 * PAGE_ENTRIES as u64) {
        chat::file(&vault, &message(&peer, 10_000 + i * 100, "in order"), None, false, Standing::Accepted)
            .await
            .unwrap();
    }
    // All of them belong in the first page, which takes PAGE_ENTRIES more; the rest spill over.
    for i in 0..(PAGE_ENTRIES as u64 + 16) {
        let late = Message { id: format!("in/late{i}"), ..message(&peer, 10_001 + i % 60, "late") };
        chat::file(&vault, &late, None, false, Standing::Accepted).await.unwrap();
    }
    let index = pages(&vault, &peer).await;
    assert!(index.iter().all(|p| p.len() <= PAGE_LIMIT), "{:?}", index.iter().map(Vec::len).collect::<Vec<_>>());
    assert_eq!(index[0].len(), PAGE_LIMIT);
    let (all, _) = chat::latest(&vault, &peer, 10_000).await.unwrap();
    assert_eq!(all.len(), 3 * PAGE_ENTRIES + 16);
    assert_eq!(index.len(), 3);
    assert!(all.windows(2).all(|w| (w[0].timestamp, &w[0].id) < (w[1].timestamp, &w[1].id)));
}

/// Messages filed at the same moment (sending while the poll files incoming ones) all stay in
/// their conversation when filed under one lock, as `Session::writes` does.
pub async fn messages_filed_at_once_under_the_lock_all_stay<B: Backend>(backend: B) {
    let backend = Interleaved(backend);
    let vault = Vault::create(&backend, "p", &seed(14), FAST).await.unwrap();
    let peer = peer_of(15);
    let messages: Vec<Message> = (0..40u64).map(|i| message(&peer, 1_000 + (i * 17) % 40, &format!("#{i}"))).collect();
    let lock = futures::lock::Mutex::new(());
    let filed = futures::future::join_all(messages.iter().map(|m| async {
        let _guard = lock.lock().await;
        chat::file(&vault, m, None, false, Standing::Accepted).await
    }))
    .await;
    assert!(filed.iter().all(Result::is_ok));
    let (all, older) = chat::latest(&vault, &peer, 1_000).await.unwrap();
    assert_eq!((all.len(), older), (40, false), "a message fell out of its conversation");
    assert_eq!(chat::list(&vault).await.unwrap().len(), 1);
}

/// Large values of one size written one after another and all at once (a file's pieces, which a
/// backend may pass through one reused buffer) each read back as written.
pub async fn large_values_of_one_size_each_read_back<B: Backend>(backend: B) {
    const LEN: usize = 300 * 1024;
    let value = |n: u8| -> Vec<u8> { (0..LEN).map(|i| (i % 251) as u8 ^ n).collect() };
    for n in 0..4u8 {
        backend.put(stores::FILES, &format!("one-by-one/{n}"), &value(n)).await.unwrap();
    }
    let values: Vec<Vec<u8>> = (10..16u8).map(value).collect();
    let keys: Vec<String> = (0..values.len()).map(|n| format!("at-once/{n}")).collect();
    let written =
        futures::future::join_all(values.iter().zip(&keys).map(|(v, key)| backend.put(stores::FILES, key, v))).await;
    assert!(written.iter().all(Result::is_ok));
    for n in 0..4u8 {
        let got = backend.get(stores::FILES, &format!("one-by-one/{n}")).await.unwrap();
        assert!(got == Some(value(n)), "value {n} written one by one did not read back");
    }
    for (n, v) in values.iter().enumerate() {
        let got = backend.get(stores::FILES, &format!("at-once/{n}")).await.unwrap();
        assert!(got.as_ref() == Some(v), "value {n} written at once did not read back");
    }
}

/// Deleting a conversation removes its messages, its index and its record, and nothing else.
pub async fn forgetting_a_conversation_removes_it_and_nothing_else<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "p", &seed(16), FAST).await.unwrap();
    let (gone, kept) = (peer_of(17), peer_of(18));
    for i in 0..70u64 {
        chat::file(&vault, &message(&gone, i, "x"), None, false, Standing::Request).await.unwrap();
    }
    chat::file(&vault, &message(&kept, 1, "kept"), None, false, Standing::Accepted).await.unwrap();
    let before = snapshot(vault.backend()).await.len();
    chat::forget(&vault, &gone).await.unwrap();
    let after = snapshot(vault.backend()).await;
    let pages_of_kept = 1;
    assert_eq!(before - after.len(), 70 + 70usize.div_ceil(PAGE_ENTRIES) + 1);
    assert_eq!(after.iter().filter(|(s, ..)| s == stores::MESSAGE_PAGES).count(), pages_of_kept);
    assert!(chat::conversation(&vault, &gone).await.unwrap().is_none());
    assert_eq!(chat::latest(&vault, &gone, 50).await.unwrap(), (Vec::new(), false));
    assert_eq!(chat::latest(&vault, &kept, 50).await.unwrap().0.len(), 1);
}

/// A damaged index page hides its own entries only; the rest still read, and filing goes on.
pub async fn a_damaged_index_page_hides_only_its_own_entries<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "p", &seed(19), FAST).await.unwrap();
    let peer = peer_of(20);
    let total = 2 * PAGE_ENTRIES as u64 + 1;
    for i in 0..total {
        chat::file(&vault, &message(&peer, 100 + i, "x"), None, false, Standing::Accepted).await.unwrap();
    }
    let lookup = vault.key.lookup_key(stores::MESSAGE_PAGES, &index::page_id(&peer.to_string(), 1));
    vault.backend().put(stores::MESSAGE_PAGES, &lookup, b"damaged").await.unwrap();
    let (all, _) = chat::latest(&vault, &peer, 1_000).await.unwrap();
    assert_eq!(all.len(), PAGE_ENTRIES + 1);
    // A late message that belongs in the damaged page is filed in the page before it.
    let late = Message { id: "in/late".into(), ..message(&peer, 100 + PAGE_ENTRIES as u64, "late") };
    chat::file(&vault, &late, None, false, Standing::Accepted).await.unwrap();
    chat::file(&vault, &message(&peer, 100 + total, "new"), None, false, Standing::Accepted).await.unwrap();
    let (all, _) = chat::latest(&vault, &peer, 1_000).await.unwrap();
    assert_eq!(all.len(), PAGE_ENTRIES + 3);
    assert_eq!(vault.backend().get(stores::MESSAGE_PAGES, &lookup).await.unwrap().unwrap(), b"damaged");
    // The conversation record lost: the index is found again from its pages.
    vault.delete(stores::CONVERSATIONS, peer.to_string().as_bytes()).await.unwrap();
    chat::file(&vault, &message(&peer, 100 + total + 1, "after"), None, false, Standing::Accepted).await.unwrap();
    assert_eq!(chat::latest(&vault, &peer, 1_000).await.unwrap().0.len(), PAGE_ENTRIES + 4);
}

/// A message of the [`build_v1`] vault: (id, timestamp, body).
pub type V1Message = (String, u64, String);

/// What a schema-1 vault held, as built by [`build_v1`].
#[derive(Debug)]
pub struct V1 {
    /// Conversations: peer, and its messages in the order filed.
    pub conversations: Vec<(String, Vec<V1Message>)>,
    /// The raw v1 conversation records, by peer.
    pub records: BTreeMap<String, Value>,
    /// The raw v1 message records, by id.
    pub messages: BTreeMap<String, Value>,
    /// The seen-hashes record.
    pub seen: Vec<String>,
}

/// The account seed of the [`build_v1`] vault, and its passphrase.
pub const V1_SEED: [u8; 16] = [0x5e; 16];
/// The passphrase of the [`build_v1`] vault.
pub const V1_PASSPHRASE: &str = "schema one";

/// Writes a vault exactly as schema 1 did, record by record (only the stores schema 1 had; every
/// record sealed unpadded):
/// `meta` (schema 1 and the passphrase wrap, no recovery wrap), the account record, the seen
/// hashes, conversation records in `conversations` listing every message id, and the messages
/// (including an id whose message record is missing, a message record that is damaged, and a
/// conversation record that is damaged).
pub async fn build_v1<B: Backend>(backend: &B) -> V1 {
    let key = DataKey::generate(&mut rand_core::OsRng);
    let put = |store: &'static str, id: Vec<u8>, value: Vec<u8>| {
        let lookup = key.lookup_key(store, &id);
        let sealed = key.seal_record_as(&mut rand_core::OsRng, RecordFormat::Unpadded, store, &lookup, &value);
        async move { backend.put(store, &lookup, &sealed).await.unwrap() }
    };
    backend.put(stores::META, SCHEMA, &1u32.to_le_bytes()).await.unwrap();
    let account = json!({
        "seed_hex": hex::encode(V1_SEED), "display_name": "Vee One", "idle_lock_minutes": 15,
        "relay_url": "", "theme": "System"
    });
    put(stores::ACCOUNT, b"account".to_vec(), account.to_string().into_bytes()).await;
    let seen: Vec<String> = (0..40).map(|i| format!("hash{i:02}")).collect();
    put(stores::ACCOUNT, b"seen-hashes".to_vec(), serde_json::to_vec(&seen).unwrap()).await;

    let mut conversations = Vec::new();
    let mut records = BTreeMap::new();
    let mut raw_messages = BTreeMap::new();
    for (n, count) in [(30u8, 40u64), (31, 3), (32, 0)] {
        let peer = peer_of(n).to_string();
        let mut messages = Vec::new();
        for i in 0..count {
            // Filed in arrival order; every fifth arrived late.
            let timestamp = 1_700_000_000_000 + i * 1_000 - if i % 5 == 4 { 3_500 } else { 0 };
            let outgoing = i % 2 == 0;
            let id = if outgoing { format!("out/{peer}/{timestamp}") } else { format!("in/HASH{n}x{i}") };
            let body = format!("message {i} to {n}: <b>&</b> ✓");
            let record = json!({
                "id": id, "peer": peer, "outgoing": outgoing, "body": body, "timestamp": timestamp,
                "status": if outgoing && i == count - 1 { "Sending" } else { "Sent" },
                "sender_name": if outgoing { json!("Vee One") } else { json!(format!("Peer {n}")) },
                "outbox": if outgoing && i == count - 1 {
                    json!({"data": "c2VhbGVk", "sync_data": "c3luYw==", "delivered": false})
                } else { Value::Null },
            });
            put(stores::MESSAGES, id.clone().into_bytes(), record.to_string().into_bytes()).await;
            raw_messages.insert(id.clone(), record);
            messages.push((id, timestamp, body));
        }
        let mut ids: Vec<Value> = messages.iter().map(|(id, ..)| json!(id)).collect();
        if n == 31 {
            // An id whose record never landed, and one whose record is damaged.
            ids.push(json!("in/NEVER-STORED"));
            ids.push(json!("in/DAMAGED"));
            let lookup = key.lookup_key(stores::MESSAGES, b"in/DAMAGED");
            backend.put(stores::MESSAGES, &lookup, b"\x01damaged").await.unwrap();
        }
        let last = messages.iter().map(|(_, t, _)| *t).max().unwrap_or(0);
        let standing = ["Accepted", "Request", "Blocked"][usize::from(n - 30)];
        let record = json!({
            "peer": peer, "name": if n == 30 { json!("Peer 30") } else { Value::Null }, "last_activity": last,
            "unread": n, "preview": format!("preview {n}"),
            "standing": standing, "messages": ids,
        });
        put(stores::CONVERSATIONS_V1, peer.clone().into_bytes(), record.to_string().into_bytes()).await;
        records.insert(peer.clone(), record);
        conversations.push((peer, messages));
    }
    let lookup = key.lookup_key(stores::CONVERSATIONS_V1, b"not a conversation");
    backend.put(stores::CONVERSATIONS_V1, &lookup, b"\x01damaged").await.unwrap();
    // The passphrase wrap last, as schema 1 wrote it.
    let wrapped = key.wrap(&mut rand_core::OsRng, V1_PASSPHRASE, FAST).unwrap();
    backend.put(stores::META, WRAPPED_KEY, &wrapped.to_bytes()).await.unwrap();
    V1 { conversations, records, messages: raw_messages, seen }
}

/// Checks that a vault built by [`build_v1`] and since unlocked holds everything it held, in the
/// current format: the current schema, a recovery wrap for its seed, the account and seen hashes as
/// they were, each conversation with every field but its message list as it was, and every message
/// readable, in order, through the index; every record padded, but the damaged ones, left where
/// they were.
pub async fn check_upgraded<B: Backend>(backend: &B, v1: &V1) {
    let schema = backend.get(stores::META, SCHEMA).await.unwrap().unwrap();
    assert_eq!(schema, SCHEMA_VERSION.to_le_bytes());
    let vault = Vault::recover(backend, &Seed::from_bytes(V1_SEED)).await.expect("the phrase opens it");
    let account = vault.get(stores::ACCOUNT, b"account").await.unwrap().unwrap();
    let account = crate::account::Account::from_bytes(&account).unwrap();
    assert_eq!(account.display_name, "Vee One");
    let seen: Vec<String> =
        serde_json::from_slice(&vault.get(stores::ACCOUNT, b"seen-hashes").await.unwrap().unwrap()).unwrap();
    assert_eq!(seen, v1.seen);
    for (peer, messages) in &v1.conversations {
        let bytes =
            vault.get(stores::CONVERSATIONS, peer.to_string().as_bytes()).await.unwrap().expect("conversation moved");
        let mut moved: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
        let mut old = v1.records[peer].as_object().unwrap().clone();
        old.remove("messages");
        let pages = moved.remove("pages").and_then(|p| p.as_u64()).unwrap();
        assert_eq!(moved, old, "a conversation field changed");
        assert_eq!(pages, (messages.len() as u64).div_ceil(PAGE_ENTRIES as u64));
        let (shown, older) = chat::latest(&vault, &peer.parse().unwrap(), 1_000).await.unwrap();
        let mut expected: Vec<(u64, String)> = messages.iter().map(|(_, t, b)| (*t, b.clone())).collect();
        expected.sort();
        assert_eq!(shown.iter().map(|m| (m.timestamp, m.body.clone())).collect::<Vec<_>>(), expected);
        assert!(!older);
        for m in &shown {
            assert_eq!(serde_json::to_value(m).unwrap(), v1.messages[&m.id], "a message changed");
        }
        let (page, older) = chat::latest(&vault, &peer.parse().unwrap(), 20).await.unwrap();
        assert_eq!(page.len(), expected.len().min(20));
        assert_eq!(older, expected.len() > 20);
    }
    // The old store keeps only the record that never opened; the damaged message is untouched.
    let left = backend.keys(stores::CONVERSATIONS_V1).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(backend.get(stores::CONVERSATIONS_V1, &left[0]).await.unwrap().unwrap(), b"\x01damaged");
    let damaged = vault.key.lookup_key(stores::MESSAGES, b"in/DAMAGED");
    assert_eq!(backend.get(stores::MESSAGES, &damaged).await.unwrap().unwrap(), b"\x01damaged");
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 43);
    assert_eq!(chat::list(&vault).await.unwrap().len(), 3);
    let damaged = [(stores::CONVERSATIONS_V1, left[0].clone()), (stores::MESSAGES, damaged)];
    all_padded_but(&vault, &damaged).await;
}

/// Every record of every sealed store is padded and opens, at the size of its bucket, but those in
/// `except` (damaged records, which stay as they are).
async fn all_padded_but<B: Backend>(vault: &Vault<B>, except: &[(&str, String)]) {
    for (store, key, sealed) in snapshot(vault.backend()).await {
        if store == stores::META || except.iter().any(|(s, k)| *s == store && *k == key) {
            continue;
        }
        assert_eq!(RecordFormat::of(&sealed), Ok(RecordFormat::Padded), "{store}/{key} is not padded");
        let value = vault.key.open_record(&store, &key, &sealed).unwrap();
        assert_eq!(sealed.len(), padded_len(value.len()) + RECORD_OVERHEAD, "{store}/{key}");
    }
}

/// A schema-1 vault is brought to the current schema at its first unlock, keeping every record
/// readable and correct; running the upgrade again changes nothing readable; a newer schema is
/// still refused afterwards, and a wrong passphrase runs no step.
pub async fn a_schema_1_vault_upgrades_keeping_every_record<B: Backend>(backend: B) {
    let v1 = build_v1(&backend).await;
    let before = snapshot(&backend).await;
    assert_eq!(Vault::unlock(&backend, "wrong").await.unwrap_err(), StorageError::Vault(VaultError::WrongPassphrase));
    assert_eq!(Vault::recover(&backend, &Seed::from_bytes(V1_SEED)).await.unwrap_err(), StorageError::NoRecoveryKey);
    assert_eq!(snapshot(&backend).await, before, "a refused unlock changed the vault");

    let vault = Vault::unlock(&backend, V1_PASSPHRASE).await.unwrap();
    check_upgraded(&backend, &v1).await;
    let upgraded = opened(&vault).await;
    // Idempotent: every step again, from schema 1, changes nothing readable.
    backend.put(stores::META, SCHEMA, &1u32.to_le_bytes()).await.unwrap();
    drop(vault);
    let vault = Vault::unlock(&backend, V1_PASSPHRASE).await.unwrap();
    assert_eq!(opened(&vault).await, upgraded);
    check_upgraded(&backend, &v1).await;
    // And the version written is this build's: one more is refused, and left alone.
    backend.put(stores::META, SCHEMA, &(SCHEMA_VERSION + 1).to_le_bytes()).await.unwrap();
    let before = snapshot(&backend).await;
    let too_new = StorageError::TooNew { found: SCHEMA_VERSION + 1 };
    assert_eq!(Vault::unlock(&backend, V1_PASSPHRASE).await.unwrap_err(), too_new);
    assert_eq!(snapshot(&backend).await, before);
}

/// An upgrade cut short at a write (the tab closed, storage refused) fails that unlock, and the
/// next unlock finishes it with nothing lost: at every write when `stride` is 1, at every
/// `stride`-th otherwise (IndexedDB is slow enough that the whole run would take long).
pub async fn an_interrupted_upgrade_resumes_at_the_next_unlock<B: Backend>(backend: B, stride: usize) {
    let mut interrupted = 0;
    for allowed in (0..).step_by(stride) {
        backend.clear().await.unwrap();
        let v1 = build_v1(&backend).await;
        match Vault::unlock(Interrupting::new(&backend, allowed), V1_PASSPHRASE).await {
            Ok(_) => {
                check_upgraded(&backend, &v1).await;
                break;
            }
            Err(StorageError::Backend { message, .. }) => {
                assert_eq!(message, "interrupted");
                interrupted += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
        // Part way: the schema says where it stopped, never past what was done.
        let schema = backend.get(stores::META, SCHEMA).await.unwrap().unwrap();
        assert!([1u32, 2, 3].iter().any(|v| schema == v.to_le_bytes()), "{schema:?}");
        drop(Vault::unlock(&backend, V1_PASSPHRASE).await.unwrap());
        check_upgraded(&backend, &v1).await;
    }
    // A recovery wrap, three schema writes, for each of three conversations its pages, its new
    // record and the old one's deletion; then the account record, the seen hashes and the 43
    // messages that open, padded.
    let writes: usize = 1 + 3 + (2 + 2) + (1 + 2) + 2 + (2 + 43);
    assert_eq!(interrupted, writes.div_ceil(stride));
}

/// Schema 1 → 2 without a readable account record: no recovery wrap can be made; the upgrade
/// still completes, and the phrase then cannot open the vault (the passphrase can).
pub async fn an_upgrade_without_an_account_record_makes_no_recovery_wrap<B: Backend>(backend: B) {
    build_v1(&backend).await;
    for key in backend.keys(stores::ACCOUNT).await.unwrap() {
        backend.delete(stores::ACCOUNT, &key).await.unwrap();
    }
    let vault = Vault::unlock(&backend, V1_PASSPHRASE).await.unwrap();
    assert_eq!(vault.backend().get(stores::META, SCHEMA).await.unwrap().unwrap(), SCHEMA_VERSION.to_le_bytes());
    assert!(backend.get(stores::META, RECOVERY_KEY).await.unwrap().is_none());
    assert_eq!(Vault::recover(&backend, &Seed::from_bytes(V1_SEED)).await.unwrap_err(), StorageError::NoRecoveryKey);
}

/// Lengths of values stored through the vault, around every bucket edge up to 20,000 bytes.
fn bucket_lengths() -> Vec<usize> {
    let mut lengths: Vec<usize> = (0..5_000).step_by(37).collect();
    for edge in [512, 768, 1024, 4096, 4352, 8192, 8704, 16_384] {
        lengths.extend([edge - 2, edge - 1, edge, edge + 1]);
    }
    lengths.push(20_000);
    lengths
}

/// What the backend stores for a value is its bucket's size, whatever the value's length within
/// the bucket: values of many lengths are stored at `padded_len + 41` bytes, and two messages of
/// different lengths in one bucket are stored at the same size (only a much longer one differs).
pub async fn record_sizes_fall_in_buckets<B: Backend>(backend: B) {
    let vault = Vault::create(backend, "p", &seed(8), FAST).await.unwrap();
    for len in bucket_lengths() {
        let value: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let id = len.to_le_bytes();
        vault.put(stores::ACCOUNT, &id, &value).await.unwrap();
        let sealed = vault.backend().get(stores::ACCOUNT, &vault.key.lookup_key(stores::ACCOUNT, &id)).await;
        let sealed = sealed.unwrap().unwrap();
        assert_eq!(sealed.len(), padded_len(len) + RECORD_OVERHEAD, "a value of {len} bytes");
        assert_eq!(&vault.get(stores::ACCOUNT, &id).await.unwrap().unwrap()[..], &value[..]);
    }
    let sizes = async || {
        let mut sizes = Vec::new();
        for key in vault.backend().keys(stores::MESSAGES).await.unwrap() {
            sizes.push(vault.backend().get(stores::MESSAGES, &key).await.unwrap().unwrap().len());
        }
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    };
    let peer = peer_of(9);
    chat::file(&vault, &message(&peer, 1, "ok"), None, false, Standing::Accepted).await.unwrap();
    let long = "Running late, the train is stuck outside the station; start without me and save me a seat.";
    chat::file(&vault, &message(&peer, 2, long), None, false, Standing::Accepted).await.unwrap();
    let incoming = Message { id: "in/HASH".into(), outgoing: false, ..message(&peer, 3, "yes!") };
    chat::file(&vault, &incoming, None, false, Standing::Accepted).await.unwrap();
    assert_eq!(sizes().await, [512 + RECORD_OVERHEAD], "messages of 2, 4 and 90 characters");
    chat::file(&vault, &message(&peer, 4, &"a whole letter ".repeat(200)), None, false, Standing::Accepted)
        .await
        .unwrap();
    assert_eq!(sizes().await.len(), 2);
}

/// Makes every record of `vault` unpadded, as schemas 1 to 3 sealed it, and sets the schema to 3.
async fn unpad_everything<B: Backend>(vault: &Vault<B>) {
    for (store, key, sealed) in snapshot(vault.backend()).await {
        if store == stores::META {
            continue;
        }
        let value = vault.key.open_record(&store, &key, &sealed).unwrap();
        let old = vault.key.seal_record_as(&mut rand_core::OsRng, RecordFormat::Unpadded, &store, &key, &value);
        vault.backend().put(&store, &key, &old).await.unwrap();
    }
    vault.backend().put(stores::META, SCHEMA, &3u32.to_le_bytes()).await.unwrap();
}

/// A schema-3 vault (records sealed unpadded, each stored at its value's size plus 41 bytes) is
/// padded at the next unlock, every record kept; cut short at a write (every `stride`-th), the
/// unlock fails, every record still opens, and the next unlock finishes. A record that does not
/// open is left alone.
pub async fn an_unpadded_vault_is_padded_at_the_next_unlock<B: Backend>(backend: B, stride: usize) {
    let peer = peer_of(10);
    let bodies = ["ok", "see you at eight", "Running late, start without me and save me a seat."];
    let mut interrupted = 0;
    for allowed in (0..).step_by(stride) {
        backend.clear().await.unwrap();
        let vault = Vault::create(&backend, "p", &seed(10), FAST).await.unwrap();
        for (i, body) in bodies.iter().enumerate() {
            chat::file(&vault, &message(&peer, 10 + i as u64, body), None, false, Standing::Accepted).await.unwrap();
        }
        vault.put(stores::ACCOUNT, b"note", b"an account record").await.unwrap();
        let expected = opened(&vault).await;
        unpad_everything(&vault).await;
        let damaged = vault.key.lookup_key(stores::MESSAGES, b"in/DAMAGED");
        backend.put(stores::MESSAGES, &damaged, b"\x01damaged").await.unwrap();
        drop(vault);
        // Unpadded, each message's size is its length's.
        let mut sizes: Vec<usize> = Vec::new();
        for key in backend.keys(stores::MESSAGES).await.unwrap().into_iter().filter(|k| *k != damaged) {
            sizes.push(backend.get(stores::MESSAGES, &key).await.unwrap().unwrap().len());
        }
        sizes.sort_unstable();
        sizes.dedup();
        assert_eq!(sizes.len(), 3);

        let records = backend.keys(stores::ACCOUNT).await.unwrap().len()
            + backend.keys(stores::MESSAGES).await.unwrap().len()
            + backend.keys(stores::CONVERSATIONS).await.unwrap().len()
            + backend.keys(stores::MESSAGE_PAGES).await.unwrap().len();
        match Vault::unlock(Interrupting::new(&backend, allowed), "p").await {
            Ok(vault) => {
                assert_eq!(opened(&vault).await, expected);
                all_padded_but(&vault, &[(stores::MESSAGES, damaged.clone())]).await;
                assert_eq!(backend.get(stores::MESSAGES, &damaged).await.unwrap().unwrap(), b"\x01damaged");
                assert_eq!(backend.get(stores::META, SCHEMA).await.unwrap().unwrap(), SCHEMA_VERSION.to_le_bytes());
                // Every record but the damaged one, then the schema.
                assert_eq!(interrupted, records.div_ceil(stride));
                break;
            }
            Err(StorageError::Backend { message, .. }) => {
                assert_eq!(message, "interrupted");
                interrupted += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
        assert_eq!(backend.get(stores::META, SCHEMA).await.unwrap().unwrap(), 3u32.to_le_bytes());
        let vault = Vault::unlock(&backend, "p").await.unwrap();
        assert_eq!(opened(&vault).await, expected, "cut after {allowed} writes");
        all_padded_but(&vault, &[(stores::MESSAGES, damaged.clone())]).await;
        // Running the step again changes nothing.
        let before = snapshot(&backend).await;
        backend.put(stores::META, SCHEMA, &3u32.to_le_bytes()).await.unwrap();
        drop(Vault::unlock(&backend, "p").await.unwrap());
        assert_eq!(snapshot(&backend).await, before);
    }
}

/// A record whose padding is damaged (it decrypts, but its padding is not what Hush writes) is a
/// typed error when read directly, a damaged record when read as data, and hides nothing else;
/// the upgrade leaves it alone.
pub async fn damaged_padding_loses_nothing_else<B: Backend>(backend: B) {
    let vault = Vault::create(&backend, "p", &seed(11), FAST).await.unwrap();
    for i in 0..5u8 {
        vault.write(stores::MESSAGES, &[i], &json!({ "n": i })).await.unwrap();
    }
    let lookup = vault.key.lookup_key(stores::MESSAGES, &[2]);
    let unpadded = br#"{"n":2}"#;
    let bad =
        vault.key.seal_record_as(&mut rand_core::OsRng, RecordFormat::Padded, stores::MESSAGES, &lookup, unpadded);
    backend.put(stores::MESSAGES, &lookup, &bad).await.unwrap();
    let err = vault.get(stores::MESSAGES, &[2]).await.unwrap_err();
    assert_eq!(err, StorageError::Vault(VaultError::BadPadding));
    assert!(matches!(vault.read::<Value>(stores::MESSAGES, &[2]).await.unwrap(), crate::storage::Read::Damaged));
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 4);
    for i in [0u8, 1, 3, 4] {
        let found = vault.read::<Value>(stores::MESSAGES, &[i]).await.unwrap().found();
        assert_eq!(found, Some(json!({ "n": i })));
    }
    drop(vault);
    backend.put(stores::META, SCHEMA, &3u32.to_le_bytes()).await.unwrap();
    let vault = Vault::unlock(&backend, "p").await.unwrap();
    assert_eq!(backend.get(stores::MESSAGES, &lookup).await.unwrap().unwrap(), bad);
    assert_eq!(vault.all(stores::MESSAGES).await.unwrap().len(), 4);
}
