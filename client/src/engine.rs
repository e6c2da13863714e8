//! The engine: one per front end. It owns the account's lifecycle (create, restore, unlock, lock,
//! change or forget the passphrase, delete) and, once unlocked, the session every other call works
//! on; [`Engine::run`] is the session's background work (polling and the outbox), which the front
//! end spawns once per unlock.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::mnemonic;
use crypto_core::vault::{KdfParams, VaultError};

use crate::Error;
use crate::account::{ACCOUNT_ID, Account, MIN_PASSPHRASE_CHARS};
use crate::conversations::{self, Conversation, Message};
use crate::event::Event;
use crate::inbox;
use crate::messaging;
use crate::network::{Hop, NetStatus};
use crate::outbox;
use crate::platform::{Platform, World};
use crate::session::{Listener, Session};
use crate::storage::{self, StorageError, Vault, stores};

/// The Argon2id parameters new vaults use.
pub const KDF: KdfParams = KdfParams::DEFAULT;

/// The client engine. Cheap to clone (a handle); single-threaded, like the page it serves.
pub struct Engine<P: Platform> {
    inner: Rc<Inner<P>>,
}

struct Inner<P: Platform> {
    world: Rc<World<P>>,
    backend: Rc<P::Backend>,
    kdf: Cell<KdfParams>,
    session: RefCell<Option<Rc<Session<P>>>>,
    listener: Listener,
}

impl<P: Platform> Clone for Engine<P> {
    fn clone(&self) -> Self {
        Engine { inner: self.inner.clone() }
    }
}

impl<P: Platform> fmt::Debug for Engine<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").field("unlocked", &self.is_unlocked()).finish_non_exhaustive()
    }
}

fn passphrase_ok(passphrase: &str) -> Result<(), Error> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::PassphraseTooShort);
    }
    Ok(())
}

/// The account record of an opened vault, and its keys.
async fn account_of<B: storage::Backend>(vault: &Vault<B>) -> Result<(Account, Identity), Error> {
    let bytes = vault.get(stores::ACCOUNT, ACCOUNT_ID).await?.ok_or(Error::AccountMissing)?;
    let account = Account::from_bytes(&bytes).ok_or(Error::AccountDamaged)?;
    let identity = account.identity().ok_or(Error::AccountDamaged)?;
    Ok((account, identity))
}

impl<P: Platform> Engine<P> {
    /// An engine over a front end's transport and clock (`world`) and its storage (`backend`).
    pub fn new(world: World<P>, backend: P::Backend) -> Engine<P> {
        Engine {
            inner: Rc::new(Inner {
                world: Rc::new(world),
                backend: Rc::new(backend),
                kdf: Cell::new(KDF),
                session: RefCell::default(),
                listener: Rc::default(),
            }),
        }
    }

    /// Uses `params` for new passphrase wraps instead of [`KDF`] (tests choose cheaper ones).
    pub fn set_kdf(&self, params: KdfParams) {
        self.inner.kdf.set(params);
    }

    /// Calls `listener` with every [`Event`], on this thread, in order.
    pub fn on_event(&self, listener: impl Fn(Event) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Rc::new(listener));
    }

    fn emit(&self, event: Event) {
        let listener = self.inner.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(event);
        }
    }

    /// The storage this engine keeps its vault in.
    pub fn backend(&self) -> &P::Backend {
        &self.inner.backend
    }

    /// The front end's transport and clock.
    pub fn world(&self) -> &World<P> {
        &self.inner.world
    }

    // The account's lifecycle.

    /// Whether an account exists on this device.
    pub async fn has_account(&self) -> Result<bool, Error> {
        Ok(storage::exists(&self.inner.backend).await?)
    }

    /// Creates the vault for `seed` with `display_name` and `passphrase`, and unlocks it.
    pub async fn create(&self, seed: &Seed, display_name: &str, passphrase: &str) -> Result<(), Error> {
        passphrase_ok(passphrase)?;
        let vault = Vault::create(self.inner.backend.clone(), passphrase, seed, self.inner.kdf.get()).await?;
        let account = Account::new(seed, display_name);
        let identity = Identity::from_seed(seed);
        let session = self.session_for(vault, account, identity);
        session.save_account().await?;
        self.enter(session);
        Ok(())
    }

    /// Unlocks the vault with `passphrase`. A wrong passphrase changes nothing.
    pub async fn unlock(&self, passphrase: &str) -> Result<(), Error> {
        let vault = Vault::unlock(self.inner.backend.clone(), passphrase).await?;
        let (account, identity) = account_of(&vault).await?;
        self.enter(self.session_for(vault, account, identity));
        Ok(())
    }

    /// The person forgot their passphrase: `phrase` (the account's recovery phrase) opens the
    /// vault through its recovery wrap, `new_passphrase` replaces the passphrase, and the session
    /// starts with the history kept. A phrase of another account is refused and changes nothing.
    pub async fn recover_with_phrase(&self, phrase: &str, new_passphrase: &str) -> Result<(), Error> {
        passphrase_ok(new_passphrase)?;
        let seed = mnemonic::decode_seed(phrase).map_err(Error::Phrase)?;
        let vault = match Vault::recover(self.inner.backend.clone(), &seed).await {
            Ok(vault) => vault,
            Err(StorageError::Vault(VaultError::WrongPhrase)) => return Err(Error::AnotherAccount),
            Err(e) => return Err(e.into()),
        };
        let (account, identity) = account_of(&vault).await?;
        if identity.session_id() != Identity::from_seed(&seed).session_id() {
            return Err(Error::AnotherAccount);
        }
        vault.set_passphrase(new_passphrase, self.inner.kdf.get()).await?;
        self.enter(self.session_for(vault, account, identity));
        Ok(())
    }

    /// Replaces the passphrase of the unlocked account after checking `current`. Only the
    /// passphrase wrap changes: the recovery phrase still opens the vault, and every record stays.
    pub async fn change_passphrase(&self, current: &str, new: &str) -> Result<(), Error> {
        let session = self.session()?;
        passphrase_ok(new)?;
        session.vault.change_passphrase(current, new, self.inner.kdf.get()).await.map_err(|e| match e {
            StorageError::Vault(VaultError::WrongPassphrase) => Error::WrongCurrentPassphrase,
            e => Error::Storage(e),
        })
    }

    /// Checks `passphrase` against the vault without changing anything.
    pub async fn check_passphrase(&self, passphrase: &str) -> Result<(), Error> {
        Ok(storage::verify_passphrase(&self.inner.backend, passphrase).await?)
    }

    /// Locks: the session's keys are dropped (and zeroized) once the last task holding them ends,
    /// and its vault takes no more writes.
    pub fn lock(&self) {
        let session = self.inner.session.borrow_mut().take();
        if let Some(session) = session {
            session.vault.close();
            // The outbox's worker may be asleep for up to `RETRY_EVERY`: woken, it sees the
            // session is over and lets go of it (and so of its keys) at once.
            session.wake_outbox();
            self.emit(Event::Locked);
        }
    }

    /// Erases the account from this device, unlocked or not. An unlocked session's vault is
    /// closed first, so a task still running (a poll filing messages) cannot write after the wipe.
    pub async fn delete_account(&self) -> Result<(), Error> {
        let session = self.inner.session.borrow_mut().take();
        let result = match session {
            Some(session) => {
                self.emit(Event::Locked);
                session.wake_outbox();
                session.vault.wipe().await
            }
            None => storage::erase(&self.inner.backend).await,
        };
        Ok(result?)
    }

    fn session_for(&self, vault: Vault<Rc<P::Backend>>, account: Account, identity: Identity) -> Rc<Session<P>> {
        let session =
            Rc::new(Session::new(vault, account, identity, self.inner.world.clone(), self.inner.listener.clone()));
        let weak = Rc::downgrade(&session);
        session.client.on_status(move |status| {
            if let Some(session) = weak.upgrade() {
                session.emit(Event::Network(status.clone()));
            }
        });
        session
    }

    fn enter(&self, session: Rc<Session<P>>) {
        if let Some(old) = self.inner.session.borrow_mut().replace(session) {
            old.vault.close();
            old.wake_outbox();
        }
        self.emit(Event::Account);
    }

    fn session(&self) -> Result<Rc<Session<P>>, Error> {
        self.inner.session.borrow().clone().ok_or(Error::Locked)
    }

    /// Whether an account is unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.inner.session.borrow().is_some()
    }

    /// The unlocked account's Session ID.
    pub fn session_id(&self) -> Option<SessionId> {
        self.inner.session.borrow().as_ref().map(|s| s.me())
    }

    /// The unlocked account's recovery phrase (zeroized when dropped).
    pub fn recovery_phrase(&self) -> Option<mnemonic::Phrase> {
        self.inner.session.borrow().as_ref().and_then(|s| s.identity.phrase())
    }

    /// The unlocked account's record (a copy).
    pub fn account(&self) -> Option<Account> {
        self.inner.session.borrow().as_ref().map(|s| s.account.borrow().clone())
    }

    /// Changes the account record and saves it; if saving fails, the change is undone.
    pub async fn update_account(&self, change: impl FnOnce(&mut Account)) -> Result<(), Error> {
        let session = self.session()?;
        let before = session.account.borrow().clone();
        change(&mut session.account.borrow_mut());
        if let Err(e) = session.save_account().await {
            *session.account.borrow_mut() = before;
            return Err(Error::NotKept(e));
        }
        self.emit(Event::Account);
        Ok(())
    }

    /// Switches to another relay (checked first; empty means the page's own) and keeps it in the
    /// account. Returns the URL as it is used.
    pub async fn set_relay(&self, url: &str) -> Result<String, Error> {
        let session = self.session()?;
        let url = session.client.set_relay(url).map_err(Error::RelayUrl)?;
        let kept = url.clone();
        self.update_account(move |a| a.relay_url = kept).await?;
        Ok(url)
    }

    /// The network client's status (connection, last problem, paths, relay).
    pub fn net_status(&self) -> Option<NetStatus> {
        self.inner.session.borrow().as_ref().map(|s| s.client.status_now())
    }

    /// The current onion paths, each guard first.
    pub fn paths(&self) -> Vec<Vec<Hop>> {
        self.net_status().map(|s| s.paths).unwrap_or_default()
    }

    /// Onion requests sent by this session (for the idle-rate figure).
    pub fn requests_sent(&self) -> u64 {
        self.inner.session.borrow().as_ref().map_or(0, |s| s.client.requests.get())
    }

    // Background work.

    /// The unlocked session's background work: restores what the poll remembers, then polls and
    /// delivers the outbox until the session ends (lock, delete, another unlock). Spawn it once
    /// after each unlock or create.
    pub async fn run(&self) {
        let Ok(session) = self.session() else { return };
        inbox::restore(&session).await;
        let weak = Rc::downgrade(&self.inner);
        let target = Rc::downgrade(&session);
        let alive = move || {
            let (Some(inner), Some(session)) = (weak.upgrade(), target.upgrade()) else { return false };
            inner.session.borrow().as_ref().is_some_and(|s| Rc::ptr_eq(s, &session))
        };
        // New guards are saved as soon as they are chosen, whatever request chose them.
        let (guards_tx, mut guards_rx) = futures::channel::mpsc::unbounded::<()>();
        session.client.on_new_guards(move || {
            let _ = guards_tx.unbounded_send(());
        });
        let guards = {
            let session = Rc::downgrade(&session);
            async move {
                use futures::StreamExt;
                // Ends when the session is gone: its client holds the only sender.
                while guards_rx.next().await.is_some() {
                    let Some(session) = session.upgrade() else { return };
                    let _ = session.client.persist_guards(&session.vault).await;
                }
            }
        };
        let polling = inbox::poll_loop(session.clone(), alive.clone());
        let delivering = outbox::work(session.clone(), alive);
        drop(session);
        futures::future::join3(polling, delivering, guards).await;
    }

    /// Fetches and files new messages once (what the poll loop does each period); returns the new
    /// messages.
    pub async fn poll_once(&self) -> Result<Vec<Message>, Error> {
        let session = self.session()?;
        inbox::poll_once(&session).await.map_err(Error::Network)
    }

    // Conversations.

    /// Every conversation, most recent first (blocked ones last).
    pub async fn conversations(&self) -> Result<Vec<Conversation>, Error> {
        messaging::list(&*self.session()?).await
    }

    /// The conversation with `peer`, if it has a record.
    pub async fn conversation(&self, peer: &SessionId) -> Result<Option<Conversation>, Error> {
        let session = self.session()?;
        conversations::conversation(&session.vault, peer).await.map_err(Error::ConversationsUnreadable)
    }

    /// The conversation a person is looking at (`None`: none): its new messages arrive read.
    pub fn set_viewing(&self, peer: Option<SessionId>) {
        if let Some(session) = self.inner.session.borrow().as_ref() {
            session.viewing.set(peer);
        }
    }

    /// Marks the conversation with `peer` read.
    pub async fn mark_read(&self, peer: &SessionId) -> Result<(), Error> {
        messaging::mark_read(&*self.session()?, peer).await;
        Ok(())
    }

    /// The last `count` messages with `peer`, oldest first, and whether older ones exist.
    pub async fn history(&self, peer: &SessionId, count: usize) -> Result<(Vec<Message>, bool), Error> {
        let session = self.session()?;
        conversations::latest(&session.vault, peer, count).await.map_err(Error::MessagesUnreadable)
    }

    /// Sends `text` to `peer`. Returns once the message is sealed into the outbox and filed; it is
    /// delivered in the background by [`Engine::run`] (an [`Event::Message`] tells each change).
    pub async fn send(&self, peer: &SessionId, text: &str) -> Result<Message, Error> {
        messaging::send(&*self.session()?, peer, text).await
    }

    /// Tries a failed message again at once, with the very same sealed bytes.
    pub async fn retry(&self, message_id: &str) -> Result<Message, Error> {
        let session = self.session()?;
        let msg = outbox::retry(&session, message_id).await?;
        session.emit(Event::Message { message: msg.clone(), arrived: false });
        Ok(msg)
    }

    /// Accepts the message request of `peer`.
    pub async fn accept(&self, peer: &SessionId) -> Result<(), Error> {
        messaging::accept(&*self.session()?, peer).await
    }

    /// Blocks `peer`.
    pub async fn block(&self, peer: &SessionId) -> Result<(), Error> {
        messaging::block(&*self.session()?, peer).await
    }

    /// Unblocks `peer`.
    pub async fn unblock(&self, peer: &SessionId) -> Result<(), Error> {
        messaging::unblock(&*self.session()?, peer).await
    }

    /// Deletes the conversation with `peer` from this device.
    pub async fn delete_conversation(&self, peer: &SessionId) -> Result<(), Error> {
        messaging::delete(&*self.session()?, peer).await
    }

    /// Whether `peer` accepted this account's message request.
    pub async fn approved_me(&self, peer: &SessionId) -> bool {
        match self.session() {
            Ok(session) => inbox::approved_me(&session, peer).await,
            Err(_) => false,
        }
    }

    /// The draft kept for `peer`.
    pub async fn draft(&self, peer: &SessionId) -> Result<String, Error> {
        Ok(messaging::draft(&*self.session()?, peer).await)
    }

    /// Keeps `text` as the draft for `peer`, sealed (empty: none).
    pub async fn set_draft(&self, peer: &SessionId, text: &str) -> Result<(), Error> {
        messaging::set_draft(&*self.session()?, peer, text).await
    }
}
