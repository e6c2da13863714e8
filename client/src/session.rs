//! An unlocked account: its vault, account record, keys and network client, and what the tasks
//! working for it share (the write lock, the last timestamp handed out, the open conversation,
//! the outbox's wake-up).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crypto_core::config::UserConfig;
use crypto_core::identity::{Identity, SessionId};
use futures::channel::mpsc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::account::{ACCOUNT_ID, Account};
use crate::event::Event;
use crate::network::Client;
use crate::platform::{Platform, World};
use crate::storage::{Read, StorageError, Vault, stores};

/// Where events go: the front end's callback, if it gave one.
pub(crate) type Listener = Rc<RefCell<Option<Rc<dyn Fn(Event)>>>>;

/// How far ahead of network time the last timestamp handed out may be and still be followed
/// (ms): a node takes a store at most 10 s ahead of its clock.
pub(crate) const MAX_AHEAD_MS: u64 = 10_000;

/// The account's user configs as this session holds them (see `crate::sync`).
#[derive(Default)]
pub(crate) struct Configs {
    /// UserProfile, Contacts, ConvoInfoVolatile and UserGroups, once read from the vault.
    pub(crate) loaded: RefCell<Option<Vec<UserConfig>>>,
    /// One write of the configs to the vault at a time, so an older state never lands last.
    pub(crate) saving: futures::lock::Mutex<()>,
    /// A push is under way.
    pub(crate) pushing: Cell<bool>,
    /// When the configs' expiry was last extended (network time, ms; 0: not this session).
    pub(crate) extended_at: Cell<u64>,
    /// Pushes that failed in a row, and when the next may be tried (network time, ms).
    pub(crate) push_failures: Cell<u32>,
    /// See `push_failures`.
    pub(crate) push_after: Cell<u64>,
    /// Whether the conversations were offered to an empty Contacts config this session.
    pub(crate) seeded: Cell<bool>,
}

/// What a session keeps about communities outside the vault (see `crate::communities`): the room
/// being looked at, the request counters, and the lock that keeps one community task at a time on
/// the community records.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    /// The room a person is looking at (its key): its messages arrive read.
    pub(crate) viewing: RefCell<Option<String>>,
    /// Requests sent to community servers.
    pub(crate) requests: Cell<u64>,
    /// Batched polls sent (one per server per round).
    pub(crate) polls: Cell<u64>,
    /// Held by each task that reads and writes the community records.
    pub(crate) lock: futures::lock::Mutex<()>,
}

/// An unlocked account.
pub struct Session<P: Platform> {
    /// The vault it lives in.
    pub(crate) vault: Vault<Rc<P::Backend>>,
    /// The account record.
    pub(crate) account: RefCell<Account>,
    /// Its keys.
    pub(crate) identity: Identity,
    /// The network client.
    pub(crate) client: Client<P>,
    /// The front end's transport and clock.
    pub(crate) world: Rc<World<P>>,
    /// Serializes read-modify-write of records between concurrent tasks (sending, delivering,
    /// polling), so no update is lost.
    pub(crate) writes: futures::lock::Mutex<()>,
    /// The timestamp of the last message sent, so two messages never share one (a timestamp is
    /// a sent message's identity for its recipients). See [`Session::next_timestamp`].
    last_sent: Cell<u64>,
    /// The conversation a person is looking at: its messages arrive read.
    pub(crate) viewing: Cell<Option<SessionId>>,
    /// Wakes the outbox's worker (a new entry, a retry, the network back).
    wake: RefCell<Option<mpsc::UnboundedSender<()>>>,
    /// Set when the outbox's entries that failed should be tried again at once.
    pub(crate) retry_failed: Cell<bool>,
    /// When the next disappearing message is due (network time, ms; `u64::MAX`: none).
    pub(crate) next_expiry: Cell<u64>,
    /// When a typing indicator "started" was last sent to each peer (network time, ms).
    pub(crate) typing_sent: RefCell<std::collections::HashMap<SessionId, u64>>,
    /// Whether what the poll remembers (seen hashes, guards, `last_hash` per node) was restored
    /// from the vault: a poll before that would save over it.
    pub(crate) restored: Cell<bool>,
    /// Communities: the room open, request counters, the records' lock.
    pub(crate) communities: Rooms,
    /// The account's user configs.
    pub(crate) configs: Configs,
    /// The upload request of the file encrypted last (message id, file index, request), kept
    /// until the outbox takes it: a file sent now is uploaded without being read back from the
    /// vault, where its encrypted copy is kept in case the page closes first.
    pub(crate) fresh_upload: RefCell<Option<(String, usize, Vec<u8>)>>,
    listener: Listener,
}

impl<P: Platform> fmt::Debug for Session<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("session_id", &self.identity.session_id()).finish_non_exhaustive()
    }
}

impl<P: Platform> Session<P> {
    /// An unlocked session.
    pub(crate) fn new(
        vault: Vault<Rc<P::Backend>>,
        account: Account,
        identity: Identity,
        world: Rc<World<P>>,
        listener: Listener,
    ) -> Session<P> {
        let client = Client::new(world.clone(), &account.relay_url);
        Session {
            vault,
            account: RefCell::new(account),
            identity,
            client,
            world,
            writes: Default::default(),
            last_sent: Cell::new(0),
            viewing: Cell::new(None),
            wake: RefCell::new(None),
            retry_failed: Cell::new(false),
            restored: Cell::new(false),
            typing_sent: RefCell::default(),
            next_expiry: Cell::new(u64::MAX),
            communities: Default::default(),
            configs: Configs::default(),
            fresh_upload: RefCell::new(None),
            listener,
        }
    }

    /// This account's Session ID.
    pub(crate) fn me(&self) -> SessionId {
        self.identity.session_id()
    }

    /// The network time for a new outgoing message: never equal to or before the last one's,
    /// unless the last one is more than [`MAX_AHEAD_MS`] ahead of network time. Then it was
    /// handed out by a network time since corrected (a node that lied, a local clock that
    /// jumped), and following it would keep every message after it as far in the nodes' future,
    /// where they refuse it: the network time is used again.
    pub(crate) fn next_timestamp(&self) -> u64 {
        let now = self.client.now();
        let last = self.last_sent.get();
        let t = if last > now.saturating_add(MAX_AHEAD_MS) { now } else { now.max(last.saturating_add(1)) };
        self.last_sent.set(t);
        t
    }

    /// Sets the last timestamp handed out (tests: as a lying node once made it).
    #[cfg(test)]
    pub(crate) fn set_last_sent(&self, t: u64) {
        self.last_sent.set(t);
    }

    /// Saves the account record.
    pub(crate) async fn save_account(&self) -> Result<(), StorageError> {
        let bytes = self.account.borrow().to_bytes();
        self.vault.put(stores::ACCOUNT, ACCOUNT_ID, &bytes).await
    }

    /// Tells the front end.
    pub(crate) fn emit(&self, event: Event) {
        let listener = self.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(event);
        }
    }

    /// Tells the front end when a write made in the background failed; a vault closed by a lock
    /// or a deletion is no failure (nothing more is to be written).
    pub(crate) fn kept(&self, result: Result<(), StorageError>) {
        match result {
            Ok(()) | Err(StorageError::Closed) => {}
            Err(e) => self.emit(Event::Problem(crate::Error::NotKept(e))),
        }
    }

    /// A JSON record, or `None` if it is missing, damaged or unreadable.
    pub(crate) async fn load<T: DeserializeOwned>(&self, store: &str, id: &[u8]) -> Option<T> {
        self.vault.read(store, id).await.ok().and_then(Read::found)
    }

    /// Writes a JSON record.
    pub(crate) async fn save<T: Serialize>(&self, store: &str, id: &[u8], value: &T) -> Result<(), StorageError> {
        self.vault.write(store, id, value).await
    }

    /// Deletes a record.
    pub(crate) async fn remove(&self, store: &str, id: &[u8]) -> Result<(), StorageError> {
        self.vault.delete(store, id).await
    }

    /// Gives the outbox's worker its wake-up channel (one worker per session).
    pub(crate) fn wake_channel(&self) -> mpsc::UnboundedReceiver<()> {
        let (tx, rx) = mpsc::unbounded();
        *self.wake.borrow_mut() = Some(tx);
        rx
    }

    /// Wakes the outbox's worker, if it runs.
    pub(crate) fn wake_outbox(&self) {
        if let Some(tx) = self.wake.borrow().as_ref() {
            let _ = tx.unbounded_send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::testing::Offline;

    fn session() -> Session<Offline> {
        crate::testing::offline_session()
    }

    #[test]
    fn timestamps_handed_out_never_repeat_or_go_back() {
        let s = session();
        let mut last = 0;
        for _ in 0..1_000 {
            let t = s.next_timestamp();
            assert!(t > last, "{t} after {last}");
            last = t;
        }
        // A burst within the same millisecond runs ahead of the clock, up to the limit.
        let now = s.client.now();
        s.last_sent.set(now + MAX_AHEAD_MS);
        assert_eq!(s.next_timestamp(), now + MAX_AHEAD_MS + 1);
    }

    #[test]
    fn a_last_timestamp_far_ahead_of_network_time_is_not_followed() {
        let s = session();
        // Handed out while a lying node had moved the network time 29 million years on.
        s.last_sent.set(u64::MAX - 1);
        let t = s.next_timestamp();
        assert!(t.abs_diff(s.client.now()) < 1_000, "back to network time: {t}");
        assert!(s.next_timestamp() > t, "and increasing from there");
        s.last_sent.set(s.client.now() + 10 * 60_000);
        assert!(s.next_timestamp() < s.client.now() + 1_000, "ten minutes ahead: a node 10 minutes fast");
    }

    #[test]
    fn records_round_trip_and_a_missing_or_damaged_one_is_none() {
        let s = session();
        block_on(async {
            s.save(stores::ACCOUNT, b"x", &vec![1u32, 2]).await.unwrap();
            assert_eq!(s.load::<Vec<u32>>(stores::ACCOUNT, b"x").await, Some(vec![1, 2]));
            assert_eq!(s.load::<String>(stores::ACCOUNT, b"x").await, None, "another shape");
            assert_eq!(s.load::<Vec<u32>>(stores::ACCOUNT, b"nothing").await, None);
            s.remove(stores::ACCOUNT, b"x").await.unwrap();
            assert_eq!(s.load::<Vec<u32>>(stores::ACCOUNT, b"x").await, None);
            s.account.borrow_mut().display_name = "Alice B.".into();
            s.save_account().await.unwrap();
            let bytes = s.vault.get(stores::ACCOUNT, ACCOUNT_ID).await.unwrap().unwrap();
            assert_eq!(Account::from_bytes(&bytes).unwrap().display_name, "Alice B.");
        });
    }

    #[test]
    fn the_outbox_is_woken_only_once_it_listens() {
        use futures::StreamExt;
        let s = session();
        s.wake_outbox();
        let mut rx = s.wake_channel();
        s.wake_outbox();
        assert_eq!(block_on(rx.next()), Some(()));
        assert!(rx.try_recv().is_err(), "one wake-up per call, none from before it listened");
        assert!(format!("{s:?}").contains(&s.me().to_string()));
        let told = Rc::new(RefCell::new(Vec::new()));
        let log = told.clone();
        *s.listener.borrow_mut() = Some(Rc::new(move |e| log.borrow_mut().push(e)));
        s.emit(Event::Conversations);
        assert_eq!(*told.borrow(), [Event::Conversations]);
    }
}
