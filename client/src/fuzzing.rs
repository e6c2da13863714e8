//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_smoke.rs` (feature `fuzzing`;
//! not a stable API).
//!
//! They feed arbitrary records to the vault and to the engine's readers behind it; none may
//! panic. The data key is fixed (made once per process, no Argon2 per input) and the vault is
//! opened through its recovery wrap, so a fuzz-chosen plaintext sealed under that key reaches
//! the decoders behind the cipher, and the migrations run over whatever records the input holds.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::rc::Rc;
use std::sync::OnceLock;

use crypto_core::identity::{IdPrefix, Identity, Seed, SessionId};
use crypto_core::vault::{DataKey, KdfParams, RecoveryWrap, WrappedKey};
use zeroize::Zeroizing;

use crate::account::{ACCOUNT_ID, Account};
use crate::session::Session;
use crate::storage::{self, Backend, MemoryBackend, Vault, index, stores};
use crate::testing::{Offline, offline_world};
use crate::{conversations, inbox, messaging, outbox};

/// Deterministic randomness for the entry points (a SplitMix64 stream), the one every crate's
/// fuzzing uses; never used outside fuzzing.
pub use crypto_core::internal::fuzz_support::FuzzRng;

/// The account's 16-byte seed: its recovery wrap opens every fuzzed vault.
pub const SEED: [u8; 16] = [9; 16];

/// The peer whose conversation, index pages, draft and messages the inputs fill.
pub fn peer() -> SessionId {
    SessionId::new(IdPrefix::Standard, [0x42; 32])
}

/// The timestamp of the message the inputs use.
pub const TIMESTAMP: u64 = 1_700_000_000_000;

/// The id of the message the inputs use: an outgoing message to [`peer`] at [`TIMESTAMP`].
pub fn message_id() -> String {
    conversations::outgoing_id(&peer(), TIMESTAMP)
}

/// Where [`vault_record`] puts its record: (store, id), chosen by the input's first byte.
pub fn record_slots() -> Vec<(&'static str, Vec<u8>)> {
    let peer = peer().to_string();
    vec![
        (stores::ACCOUNT, ACCOUNT_ID.to_vec()),
        (stores::ACCOUNT, b"seen-hashes".to_vec()),
        (stores::ACCOUNT, crate::network::NETWORK_STATE_ID.to_vec()),
        (stores::ACCOUNT, b"outbox".to_vec()),
        (stores::ACCOUNT, b"approved-me".to_vec()),
        (stores::ACCOUNT, format!("draft/{peer}").into_bytes()),
        (stores::CONVERSATIONS, peer.clone().into_bytes()),
        (stores::MESSAGES, message_id().into_bytes()),
        (stores::MESSAGE_PAGES, index::page_id(&peer, 0)),
        (stores::CONVERSATIONS_V1, peer.into_bytes()),
    ]
}

/// The stores [`vault_migrations`] inputs may fill, by index.
const STORES: [&str; 6] = [
    stores::ACCOUNT,
    stores::CONVERSATIONS_V1,
    stores::MESSAGES,
    stores::CONVERSATIONS,
    stores::MESSAGE_PAGES,
    stores::META,
];

struct Keys {
    key: DataKey,
    wrapped: Vec<u8>,
    recovery: Vec<u8>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = FuzzRng(1);
        let key = DataKey::generate(&mut rng);
        let recovery = key.wrap_for_recovery(&mut rng, &Seed::from_bytes(SEED)).to_bytes();
        // Only its presence is read (the vault is opened with the seed): one Argon2 per process.
        let wrapped = key.wrap(&mut rng, "fuzzing", KdfParams::INSECURE_FOR_TESTS).map(|w| w.to_bytes());
        Keys { key, wrapped: wrapped.unwrap_or_else(|_| vec![1]), recovery }
    })
}

/// Runs a future whose every step is ready at once (the memory backend never waits); gives up
/// on one that stays pending.
fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

/// A record as a fuzz input places it: sealed under the data key for (`store`, `id`), or (`raw`)
/// written to the backend as it is.
async fn place(backend: &MemoryBackend, store: &str, id: &[u8], plaintext: &[u8], raw: bool) {
    let key = &keys().key;
    if store == stores::META {
        let _ = backend.put(store, &String::from_utf8_lossy(id), plaintext).await;
        return;
    }
    let lookup = key.lookup_key(store, id);
    let value = if raw { plaintext.to_vec() } else { key.seal_record(&mut FuzzRng(2), store, &lookup, plaintext) };
    let _ = backend.put(store, &lookup, &value).await;
}

/// A backend holding a vault of `schema` (`None`: no schema record) that the seed opens.
async fn vault_backend(schema: Option<&[u8]>) -> MemoryBackend {
    let backend = MemoryBackend::default();
    let keys = keys();
    let _ = backend.put(stores::META, storage::WRAPPED_KEY, &keys.wrapped).await;
    let _ = backend.put(stores::META, storage::RECOVERY_KEY, &keys.recovery).await;
    if let Some(schema) = schema {
        let _ = backend.put(stores::META, storage::SCHEMA, schema).await;
    }
    backend
}

/// Opens the vault in `backend` with the seed (running any migrations), then reads it as the
/// engine does after an unlock: the account record, the seen hashes and network state, the
/// outbox's list, who approved this account, the draft, every conversation and its latest
/// messages. Returns what was read, when the vault opened.
async fn open_and_read(backend: MemoryBackend) -> Option<Opened> {
    let seed = Seed::from_bytes(SEED);
    let vault = Vault::recover(Rc::new(backend), &seed).await.ok()?;
    let stored = vault.get(stores::ACCOUNT, ACCOUNT_ID).await.ok().flatten();
    let account = stored.as_ref().and_then(|bytes| Account::from_bytes(bytes));
    let account_read = account.as_ref().and_then(Account::identity).is_some();
    let account = account.unwrap_or_else(|| Account::new(&seed, "fuzzing"));
    let session: Session<Offline> =
        Session::new(vault, account, Identity::from_seed(&seed), Rc::new(offline_world()), Rc::default());
    let peer = peer();
    inbox::restore(&session).await;
    let _ = outbox::ids(&session).await;
    let _ = inbox::approved_me(&session, &peer).await;
    let draft = messaging::draft(&session, &peer).await;
    let listed = messaging::list(&session).await.unwrap_or_default();
    for c in listed.iter().take(4) {
        let _ = c.title();
        let _ = conversations::latest(&session.vault, &c.peer, 20).await;
    }
    let (messages, _) = conversations::latest(&session.vault, &peer, 20).await.unwrap_or_default();
    let _ = index::page_count(&session.vault, &peer.to_string(), 3).await;
    Some(Opened { account: account_read, conversations: listed.len(), messages: messages.len(), draft: draft.len() })
}

/// What [`open_and_read`] found: whether the account record was read, how many conversations
/// were listed, how many messages of [`peer`]'s conversation, and the draft's length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opened {
    /// The account record parsed and gave an identity.
    pub account: bool,
    /// Conversations listed.
    pub conversations: usize,
    /// Latest messages read in the conversation with [`peer`].
    pub messages: usize,
    /// The draft's length in bytes.
    pub draft: usize,
}

/// The vault's record formats: the bytes as a stored passphrase wrap, recovery wrap and sealed
/// record (crypto-core's readers, before any cipher); then, after a first byte choosing a slot of
/// [`record_slots`], the rest as the plaintext of that record, sealed under the data key, in a
/// schema-3 vault (schema 2 for the old conversations store, which the migration reads), which is
/// then opened and read as the engine reads it.
pub fn vault_record(data: &[u8]) -> Option<Opened> {
    if let Ok(wrapped) = WrappedKey::from_bytes(data) {
        let _ = wrapped.params.check();
        let _ = wrapped.to_bytes();
    }
    let _ = RecoveryWrap::from_bytes(data).map(|w| w.to_bytes());
    let key = &keys().key;
    let lookup = key.lookup_key(stores::MESSAGES, b"m");
    let _ = key.open_record(stores::MESSAGES, &lookup, data);
    let (&selector, plaintext) = data.split_first()?;
    let slots = record_slots();
    let (store, id) = slots.get(usize::from(selector) % slots.len())?;
    let schema: u32 = if *store == stores::CONVERSATIONS_V1 { 2 } else { storage::SCHEMA_VERSION };
    block_on(async {
        let backend = vault_backend(Some(&schema.to_le_bytes())).await;
        place(&backend, store, id, plaintext, false).await;
        open_and_read(backend).await
    })
    .flatten()
}

/// The migrations over a vault holding fuzz-chosen records, then the engine's reading of the
/// result. The input: a first byte choosing the stored schema (0 to 3, none, a malformed one or
/// one too new), then records separated by `0xff`, each a byte choosing the store (low 3 bits)
/// and whether the record is sealed or written raw (bit 3), then the record's id, a `0x00`, and
/// its plaintext.
pub fn vault_migrations(data: &[u8]) -> Option<Opened> {
    let (&schema, records) = data.split_first()?;
    let schema: Option<Zeroizing<Vec<u8>>> = match schema % 8 {
        s @ 0..=3 => Some(Zeroizing::new(u32::from(s).to_le_bytes().to_vec())),
        4 => None,
        5 => Some(Zeroizing::new(vec![2, 0, 0])),
        _ => Some(Zeroizing::new(99u32.to_le_bytes().to_vec())),
    };
    block_on(async {
        let backend = vault_backend(schema.as_deref().map(Vec::as_slice)).await;
        for record in records.split(|&b| b == 0xff).take(64) {
            let Some((&kind, rest)) = record.split_first() else { continue };
            let store = STORES.get(usize::from(kind & 7) % STORES.len()).copied().unwrap_or(stores::ACCOUNT);
            let (id, plaintext) = match rest.iter().position(|&b| b == 0) {
                Some(at) => (rest.get(..at).unwrap_or_default(), rest.get(at + 1..).unwrap_or_default()),
                None => (rest, &[][..]),
            };
            place(&backend, store, id, plaintext, kind & 8 != 0).await;
        }
        open_and_read(backend).await
    })
    .flatten()
}
