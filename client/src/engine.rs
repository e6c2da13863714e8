//! The engine: one per front end. It owns the account's lifecycle (create, restore, unlock, lock,
//! change or forget the passphrase, delete) and, once unlocked, the session every other call works
//! on; [`Engine::run`] is the session's background work (polling and the outbox), which the front
//! end spawns once per unlock.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::mnemonic;
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::{KdfParams, VaultError};

use crate::Error;
use crate::account::{ACCOUNT_ID, Account, MIN_PASSPHRASE_CHARS};
use crate::actions;
use crate::attachments::FileServer;
use crate::avatars;
use crate::communities::{self, Community, RoomMessage};
use crate::conversations::{self, Conversation, Message};
use crate::disappearing;
use crate::event::Event;
use crate::files::{self, NewFile};
use crate::inbox;
use crate::messaging;
use crate::network::{Hop, NetStatus};
use crate::outbox;
use crate::platform::{Platform, World};
use crate::session::{Listener, Session};
use crate::storage::{self, StorageError, Vault, stores};
use crate::sync::{self, Restored};

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
    /// The trusted nodes every relay's node list is checked against.
    anchors: RefCell<Option<Rc<Anchors>>>,
    /// Where files are uploaded.
    file_server: RefCell<FileServer>,
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
                anchors: RefCell::default(),
                file_server: RefCell::default(),
            }),
        }
    }

    /// Uses `params` for new passphrase wraps instead of [`KDF`] (tests choose cheaper ones).
    pub fn set_kdf(&self, params: KdfParams) {
        self.inner.kdf.set(params);
    }

    /// The trusted service nodes (the network's anchors) that every relay's node list is checked
    /// against before anything is sent through it. The front end gets them from where it was
    /// itself loaded, never from the relay: the app from its own origin's `network.json`, the
    /// command line from its built-in networks or a file. Until they are given, every relay is
    /// refused ([`Error::RelayRefused`]).
    pub fn set_anchors(&self, anchors: Anchors) {
        let anchors = Rc::new(anchors);
        *self.inner.anchors.borrow_mut() = Some(anchors.clone());
        if let Some(session) = self.inner.session.borrow().as_ref() {
            session.client.set_anchors(anchors);
        }
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
        session.client.set_file_server(self.inner.file_server.borrow().clone());
        if let Some(anchors) = self.inner.anchors.borrow().clone() {
            session.client.set_anchors(anchors);
        }
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

    /// Changes the account record and saves it; if saving fails, the change is undone. A new
    /// display name goes into the profile config, which reaches this account's other devices.
    pub async fn update_account(&self, change: impl FnOnce(&mut Account)) -> Result<(), Error> {
        let session = self.session()?;
        let before = session.account.borrow().clone();
        change(&mut session.account.borrow_mut());
        if let Err(e) = session.save_account().await {
            *session.account.borrow_mut() = before;
            return Err(Error::NotKept(e));
        }
        let name = session.account.borrow().display_name.clone();
        if name != before.display_name && !name.is_empty() {
            sync::set_name(&session, &name).await;
        }
        self.emit(Event::Account);
        Ok(())
    }

    /// Restores the account of `seed` on this device (its recovery phrase was typed): creates the
    /// vault with `passphrase`, unlocks it, then pulls the account's configs from its swarm and
    /// applies them (display name, picture, contacts with nicknames and blocks, read state) before
    /// anything is asked. [`Restored::display_name`] says whether the profile had a name (if not,
    /// the front end asks for one and sets it with [`Engine::update_account`]). The swarm not
    /// answering is no error: the account is made, `reached` is false, and the poll brings the
    /// configs when it can.
    pub async fn restore(&self, seed: &Seed, passphrase: &str) -> Result<Restored, Error> {
        self.create(seed, "", passphrase).await?;
        match self.pull_configs().await {
            Ok(restored) => Ok(restored),
            Err(Error::Network(_) | Error::RelayRefused(_)) => Ok(Restored::default()),
            Err(e) => Err(e),
        }
    }

    /// Pulls the account's configs (namespaces 2–5) from its swarm now, merges and applies them,
    /// and says what they hold. [`Engine::restore`] calls it; the poll does the same each period.
    pub async fn pull_configs(&self) -> Result<Restored, Error> {
        let session = self.session()?;
        inbox::restore(&session).await;
        let restored = sync::pull(&session).await.map_err(Error::network)?;
        if restored.display_name.is_some() {
            self.emit(Event::Account);
        }
        self.emit(Event::Conversations);
        Ok(restored)
    }

    /// Pulls the configs, then pushes what changed here at once (the poll pushes too, each
    /// period): returns whether something was pushed.
    pub async fn sync_configs(&self) -> Result<bool, Error> {
        let session = self.session()?;
        self.pull_configs().await?;
        sync::push(&session, true).await.map_err(Error::network)
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

    /// Checks the relay's node list against the network now (what the first request would do),
    /// so a front end can tell at once whether the relay is refused ([`Error::RelayRefused`]).
    /// The verdict is kept for the session; the status tells it too.
    pub async fn check_relay(&self) -> Result<(), Error> {
        self.session()?.client.check_relay().await.map_err(Error::network)
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
                    session.kept(session.client.persist_guards(&session.vault).await);
                }
            }
        };
        let polling = inbox::poll_loop(session.clone(), alive.clone());
        let expiring = disappearing::run(session.clone(), alive.clone());
        let rooms = communities::poll_loop(session.clone(), alive.clone());
        let delivering = outbox::work(session.clone(), alive);
        drop(session);
        futures::future::join(futures::future::join4(polling, delivering, guards, expiring), rooms).await;
    }

    /// Fetches and files new messages once (what the poll loop does each period); returns the new
    /// messages.
    pub async fn poll_once(&self) -> Result<Vec<Message>, Error> {
        let session = self.session()?;
        inbox::restore(&session).await;
        inbox::poll_once(&session).await.map_err(Error::network)
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
        let session = self.session()?;
        if communities::is_blinded(peer) {
            // A community member: through their server's inbox (see `Engine::message_member`).
            return communities::send_dm(&session, peer, text).await;
        }
        messaging::send(&session, peer, text, None).await
    }

    /// Sends files to `peer`, with `text` as their caption (may be empty) and, with `reply_to`, as
    /// a reply. Every file is checked against the limit before anything is kept; then they are
    /// encrypted and kept (the outbox holds their encrypted bytes, so a reload mid-upload sends
    /// the same ones) and this returns. The outbox uploads them to the file server through onion
    /// paths, then seals and sends the message with their pointers; each attachment's state and
    /// the message's status change as it goes ([`Event::Message`]).
    pub async fn send_files(
        &self,
        peer: &SessionId,
        text: &str,
        reply_to: Option<&str>,
        files: Vec<NewFile>,
    ) -> Result<Message, Error> {
        if communities::is_blinded(peer) {
            return Err(Error::TextOnlyThroughCommunity);
        }
        messaging::send_files(&*self.session()?, peer, text, reply_to, files).await
    }

    /// The bytes of file `index` of the message `message_id`: from this device, or downloaded
    /// through an onion path, checked (digest and MAC, or the key's own check) and kept sealed
    /// first. A file that is not what was sent is never returned ([`Error::FileDamaged`]); one
    /// the file server no longer has is [`Error::FileExpired`]. The message's record keeps the
    /// outcome (its attachment's state), and an [`Event::Message`] tells a change.
    pub async fn file(&self, message_id: &str, index: usize) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        files::file(&*self.session()?, message_id, index).await
    }

    /// Sets this account's profile picture (the front end has scaled it): encrypted under a new
    /// profile key and uploaded through an onion path before this returns; every message from now
    /// on carries it, as Session's clients show it. Needs the network ([`Error::Network`]).
    pub async fn set_avatar(&self, picture: &[u8]) -> Result<(), Error> {
        let session = self.session()?;
        avatars::set_own(&session, picture).await?;
        sync::set_picture(&session).await;
        Ok(())
    }

    /// Removes this account's profile picture (messages from now on carry none, which removes it
    /// at their recipients).
    pub async fn remove_avatar(&self) -> Result<(), Error> {
        let session = self.session()?;
        avatars::remove_own(&session).await?;
        sync::set_picture(&session).await;
        Ok(())
    }

    /// The profile picture of `peer` (none: this account's own): from this device, or fetched
    /// through an onion path, checked and kept first. `Ok(None)`: they have none.
    pub async fn avatar(&self, peer: Option<&SessionId>) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
        avatars::picture(&*self.session()?, peer).await
    }

    /// Uploads files to `server` from now on (Session's file server until told otherwise). The
    /// front end gets it where it gets the network's anchors.
    pub fn set_file_server(&self, server: FileServer) {
        *self.inner.file_server.borrow_mut() = server.clone();
        if let Some(session) = self.inner.session.borrow().as_ref() {
            session.client.set_file_server(server);
        }
    }

    /// Sends `text` to `peer` as a reply to their conversation's message `reply_to` (an id): the
    /// message carries the protocol's quote (the quoted message's author and sent time).
    /// To a community member (a blinded id) it goes as text, without the quote.
    pub async fn send_reply(&self, peer: &SessionId, text: &str, reply_to: &str) -> Result<Message, Error> {
        if communities::is_blinded(peer) {
            return self.send(peer, text).await;
        }
        messaging::send(&*self.session()?, peer, text, Some(reply_to)).await
    }

    /// Adds (`on`) or removes this account's reaction `emoji` to the message `message_id`; the
    /// peer and this account's other devices are told through the outbox.
    pub async fn react(&self, message_id: &str, emoji: &str, on: bool) -> Result<Message, Error> {
        if communities::is_dm_message(message_id) {
            return Err(Error::TextOnlyThroughCommunity);
        }
        actions::react(&*self.session()?, message_id, emoji, on).await
    }

    /// Deletes a message from this device (and this account's copy from its swarm); the peer
    /// keeps theirs. An [`Event::Removed`] follows.
    pub async fn delete_for_me(&self, message_id: &str) -> Result<(), Error> {
        actions::delete_for_me(&*self.session()?, message_id).await
    }

    /// Deletes one of this account's messages for everyone (the protocol's unsend request); it
    /// stays as a "deleted" marker.
    pub async fn delete_for_everyone(&self, message_id: &str) -> Result<Message, Error> {
        if communities::is_dm_message(message_id) {
            return Err(Error::TextOnlyThroughCommunity);
        }
        actions::delete_for_everyone(&*self.session()?, message_id).await
    }

    /// Sets how this account's messages to `peer` disappear (none: they stay): the peer and this
    /// account's other devices are told, and a notice is filed (and returned). A peer's change
    /// arrives as a notice only; following it is calling this with its setting.
    pub async fn set_disappearing(
        &self,
        peer: &SessionId,
        setting: Option<conversations::Disappearing>,
    ) -> Result<Message, Error> {
        if communities::is_blinded(peer) {
            return Err(Error::TextOnlyThroughCommunity);
        }
        disappearing::set(&*self.session()?, peer, setting).await
    }

    /// Pins (or unpins) the conversation with `peer` to the top of the list.
    pub async fn set_pinned(&self, peer: &SessionId, pinned: bool) -> Result<(), Error> {
        let session = self.session()?;
        messaging::change(&session, peer, |c| c.pinned = pinned).await?;
        sync::contact(&session, peer, |c| c.priority = i64::from(pinned)).await;
        Ok(())
    }

    /// Mutes (or unmutes) the conversation with `peer`: its messages notify no one and are not
    /// counted in [`Engine::unread_total`].
    pub async fn set_muted(&self, peer: &SessionId, muted: bool) -> Result<(), Error> {
        messaging::change(&*self.session()?, peer, |c| c.muted = muted).await.map(drop)
    }

    /// Gives `peer` a nickname, shown instead of their display name (empty: none). It reaches
    /// this account's other devices (its Contacts config); they are not told.
    pub async fn set_nickname(&self, peer: &SessionId, nickname: &str) -> Result<Conversation, Error> {
        let session = self.session()?;
        let nickname = messaging::nickname(nickname);
        let kept = nickname.clone().unwrap_or_default();
        let c = messaging::change(&session, peer, |c| c.nickname = nickname).await?;
        sync::contact(&session, peer, |c| c.nickname = kept).await;
        Ok(c)
    }

    /// Conversations and messages matching `query`, opened from the sealed records one by one
    /// (no plaintext index exists): conversations first, then messages, newest first.
    pub async fn search(&self, query: &str) -> Result<Vec<conversations::Found>, Error> {
        let session = self.session()?;
        conversations::search(&session.vault, query, conversations::SEARCH_LIMIT)
            .await
            .map_err(Error::MessagesUnreadable)
    }

    /// The system notification a newly arrived message should raise, by the account's settings
    /// (none when they are off, for a muted or blocked conversation; a request says only that
    /// one came). Whether the page is hidden is the front end's to know.
    pub async fn notification(&self, message: &Message) -> Option<messaging::Notification> {
        messaging::notification(&*self.session().ok()?, message).await
    }

    /// Unread messages, for a tab title or an app badge: conversations that are not muted or
    /// blocked.
    pub async fn unread_total(&self) -> u32 {
        match self.session() {
            Ok(session) => messaging::unread_total(&session).await,
            Err(_) => 0,
        }
    }

    /// Says that this account is typing to `peer` (`typing`), or stopped; sent only with typing
    /// indicators on, and at most every [`TYPING_RESEND_MS`](crate::TYPING_RESEND_MS) while typing
    /// goes on. Call it on each change of the composer; it waits for the network.
    pub async fn typing(&self, peer: &SessionId, typing: bool) {
        if let Ok(session) = self.session() {
            actions::typing(&session, peer, typing).await;
        }
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
        let session = self.session()?;
        if communities::is_blinded(peer) {
            // A blinded request is answered by replying through the server's inbox.
            return messaging::change(&session, peer, |c| c.standing = conversations::Standing::Accepted)
                .await
                .map(drop);
        }
        messaging::accept(&session, peer).await
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

    /// The ids of what the outbox still has to deliver: messages (`out/…`) and control messages
    /// (`ctl/…`, such as a request's acceptance).
    pub async fn pending(&self) -> Result<Vec<String>, Error> {
        let session = self.session()?;
        outbox::ids(&session).await.map_err(Error::Storage)
    }

    // Communities.

    /// Joins the room at `url` (a community URL, e.g. pasted or from a QR code): its details are
    /// fetched through an onion path, the room is kept on this device, and its latest messages
    /// are fetched. [`Event::Communities`] follows.
    pub async fn join_community(&self, url: &str) -> Result<Community, Error> {
        communities::join(&*self.session()?, url).await
    }

    /// Invites `peer` to the joined room `room` (its URL): a message carrying the room's URL and
    /// name, which Session's clients show as an invitation to join. Returns it as filed.
    pub async fn invite_to_community(&self, peer: &SessionId, room: &str) -> Result<Message, Error> {
        communities::invite(&*self.session()?, peer, room).await
    }

    /// Leaves the room `room` (its URL): it and its messages leave this device.
    pub async fn leave_community(&self, room: &str) -> Result<(), Error> {
        communities::leave(&*self.session()?, room).await
    }

    /// Every joined room, in the order joined, with its unread count and moderators.
    pub async fn communities(&self) -> Result<Vec<Community>, Error> {
        Ok(communities::communities(&*self.session()?).await)
    }

    /// The messages of `room` posted before the message `before` (none: the newest), at most
    /// `limit`, oldest first (newest last), and whether older ones exist. Read from this device;
    /// when it has fewer, an older page is fetched from the server first.
    pub async fn room_messages(
        &self,
        room: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<RoomMessage>, bool), Error> {
        communities::messages(&*self.session()?, room, before, limit).await
    }

    /// The room a person is looking at (`None`: none): its unread count is cleared, its new
    /// messages arrive read, and its server is polled at once.
    pub async fn open_room(&self, room: Option<&str>) -> Result<(), Error> {
        communities::open(&*self.session()?, room).await
    }

    /// Clears the unread count of `room`.
    pub async fn mark_room_read(&self, room: &str) -> Result<(), Error> {
        communities::mark_read(&*self.session()?, room).await
    }

    /// Posts `text` to `room` (with `reply_to`, a message id of the room, as a reply), signed
    /// with this account's blinded key for the server; returns the post as the server took it.
    /// Needs the network now.
    pub async fn post(&self, room: &str, text: &str, reply_to: Option<u64>) -> Result<RoomMessage, Error> {
        communities::post(&*self.session()?, room, text, reply_to, Vec::new()).await
    }

    /// Posts files (pictures without their metadata) to `room` with `text` as their caption: each
    /// is uploaded to the room, then the post links them.
    pub async fn post_files(
        &self,
        room: &str,
        text: &str,
        reply_to: Option<u64>,
        files: Vec<NewFile>,
    ) -> Result<RoomMessage, Error> {
        communities::post(&*self.session()?, room, text, reply_to, files).await
    }

    /// The bytes of the room file `id` of `room` (a message's [`communities::RoomFile`]).
    pub async fn room_file(&self, room: &str, id: u64) -> Result<Vec<u8>, Error> {
        communities::room_file(&*self.session()?, room, id).await
    }

    /// Pins (`on`) or unpins the message `id` of `room` (its admins may); returns the room with
    /// its pinned messages as the server now lists them.
    pub async fn room_pin(&self, room: &str, id: u64, on: bool) -> Result<Community, Error> {
        communities::pin(&*self.session()?, room, id, on).await
    }

    /// The picture of `room`, if it has one (fetched once, then kept on this device).
    pub async fn room_image(&self, room: &str) -> Result<Option<Vec<u8>>, Error> {
        communities::room_image(&*self.session()?, room).await
    }

    /// Sets the picture of `room` (its admins may; others are refused with the server's 403).
    pub async fn set_room_image(&self, room: &str, picture: NewFile) -> Result<Community, Error> {
        communities::set_room_image(&*self.session()?, room, picture).await
    }

    /// Adds (`on`) or removes this account's reaction `emoji` to the message `id` of `room`.
    pub async fn room_react(&self, room: &str, id: u64, emoji: &str, on: bool) -> Result<RoomMessage, Error> {
        communities::react(&*self.session()?, room, id, emoji, on).await
    }

    /// Replaces the text of this account's message `id` in `room`.
    pub async fn room_edit(&self, room: &str, id: u64, text: &str) -> Result<RoomMessage, Error> {
        communities::edit(&*self.session()?, room, id, text).await
    }

    /// Deletes the message `id` of `room`: this account's own, or anyone's when it moderates.
    pub async fn room_delete(&self, room: &str, id: u64) -> Result<(), Error> {
        communities::delete(&*self.session()?, room, id).await
    }

    /// Opens a direct message with the member `blinded` (their id in `room`) through the room's
    /// server: the conversation, keyed by their blinded id, is made (or found) and returned; what
    /// [`Engine::send`] sends to it goes to their inbox there, where it arrives as a request.
    pub async fn message_member(&self, room: &str, blinded: &SessionId) -> Result<Conversation, Error> {
        communities::message_member(&*self.session()?, room, blinded).await
    }

    /// The room (its URL) whose server the conversation with the community member `peer` (a
    /// blinded id) goes through: to show "via <room>" beside a DM or its request. `None` for
    /// other peers.
    pub async fn dm_community(&self, peer: &SessionId) -> Option<String> {
        communities::dm_room(&*self.session().ok()?, peer).await
    }

    /// Polls every joined room's server once (what the background work does every 10 s): one
    /// batched request per server.
    pub async fn poll_communities(&self) -> Result<(), Error> {
        communities::poll_all(&*self.session()?).await
    }

    /// Batched community polls sent so far (one per server per round), and every request sent
    /// to community servers (each one onion request): the poll cost.
    pub fn community_requests(&self) -> (u64, u64) {
        self.inner.session.borrow().as_ref().map_or((0, 0), |s| communities::counts(s))
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    use crypto_core::identity::{Identity, Seed};
    use crypto_core::mnemonic;
    use crypto_core::vault::KdfParams;
    use futures::executor::block_on;
    use rand_core::OsRng;

    use super::*;
    use crate::conversations::{Standing, Status};
    use crate::platform::Clock;
    use crate::storage::{Backend, MemoryBackend};
    use crate::testing::{NoNetwork, ThreadClock, offline_world};

    const PASS: &str = "a passphrase";

    /// No network, the thread clock, and memory that outlives an engine (a reload).
    #[derive(Debug)]
    struct Shared;

    impl Platform for Shared {
        type Transport = NoNetwork;
        type Clock = ThreadClock;
        type Backend = Rc<MemoryBackend>;
    }

    fn engine_on(backend: Rc<MemoryBackend>) -> (Engine<Shared>, Rc<RefCell<Vec<Event>>>) {
        let world = World { transport: NoNetwork, clock: ThreadClock, secure_page: false };
        let engine = Engine::new(world, backend);
        engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        engine.on_event(move |e| log.borrow_mut().push(e));
        (engine, events)
    }

    fn created(name: &str) -> (Engine<Shared>, Rc<MemoryBackend>, Rc<RefCell<Vec<Event>>>) {
        let backend = Rc::new(MemoryBackend::default());
        let (engine, events) = engine_on(backend.clone());
        block_on(engine.create(&Seed::generate(&mut OsRng), name, PASS)).unwrap();
        (engine, backend, events)
    }

    fn peer() -> SessionId {
        Identity::generate(&mut OsRng).session_id()
    }

    #[test]
    fn an_account_is_created_locked_and_unlocked_again() {
        let (engine, events) = engine_on(Rc::new(MemoryBackend::default()));
        block_on(async {
            assert!(!engine.has_account().await.unwrap());
            assert_eq!(
                engine.create(&Seed::from_bytes([3; 16]), "Alice", "short").await,
                Err(Error::PassphraseTooShort)
            );
            assert!(!engine.has_account().await.unwrap(), "a refused passphrase creates nothing");
            engine.create(&Seed::from_bytes([3; 16]), "  Alice ", PASS).await.unwrap();
            assert!(engine.has_account().await.unwrap() && engine.is_unlocked());
            let id = engine.session_id().unwrap();
            assert_eq!(id, Identity::from_seed(&Seed::from_bytes([3; 16])).session_id());
            assert_eq!(engine.account().unwrap().display_name, "Alice");
            assert_eq!(engine.recovery_phrase().unwrap().words().count(), 13);
            assert_eq!(
                engine.create(&Seed::from_bytes([4; 16]), "Eve", PASS).await,
                Err(Error::Storage(StorageError::VaultExists))
            );

            engine.lock();
            assert!(!engine.is_unlocked() && engine.session_id().is_none() && engine.account().is_none());
            assert!(engine.recovery_phrase().is_none());
            assert!(matches!(engine.unlock("wrong passphrase").await, Err(Error::Storage(StorageError::Vault(_)))));
            assert!(!engine.is_unlocked(), "a wrong passphrase unlocks nothing");
            engine.unlock(PASS).await.unwrap();
            assert_eq!(engine.session_id(), Some(id));
            assert_eq!(engine.account().unwrap().display_name, "Alice");
        });
        let events = events.borrow();
        assert_eq!(events.iter().filter(|e| **e == Event::Account).count(), 2, "created, unlocked: {events:?}");
        assert_eq!(events.iter().filter(|e| **e == Event::Locked).count(), 1);
    }

    #[test]
    fn locking_twice_tells_once() {
        let (engine, _, events) = created("Alice");
        engine.lock();
        engine.lock();
        assert_eq!(events.borrow().iter().filter(|e| **e == Event::Locked).count(), 1);
    }

    #[test]
    fn the_recovery_phrase_replaces_a_forgotten_passphrase_and_keeps_the_history() {
        let (engine, backend, _) = created("Alice");
        let bob = peer();
        block_on(async {
            engine.send(&bob, "kept").await.unwrap();
            let phrase = engine.recovery_phrase().unwrap();
            engine.lock();
            let other = mnemonic::encode_seed(&Seed::from_bytes([8; 16]));
            assert_eq!(engine.recover_with_phrase(other.as_str(), "new passphrase").await, Err(Error::AnotherAccount));
            assert!(matches!(
                engine.recover_with_phrase("not a phrase", "new passphrase").await,
                Err(Error::Phrase(_))
            ));
            assert_eq!(engine.recover_with_phrase(phrase.as_str(), "short").await, Err(Error::PassphraseTooShort));
            assert!(!engine.is_unlocked());
            engine.check_passphrase(PASS).await.unwrap();

            engine.recover_with_phrase(phrase.as_str(), "new passphrase").await.unwrap();
            assert!(engine.is_unlocked());
            assert_eq!(engine.history(&bob, 10).await.unwrap().0.len(), 1, "the history is kept");
            engine.lock();
            assert!(engine.check_passphrase(PASS).await.is_err(), "the old passphrase no longer opens it");
            let (again, _) = engine_on(backend);
            again.unlock("new passphrase").await.unwrap();
        });
    }

    #[test]
    fn changing_the_passphrase_checks_the_current_one() {
        let (engine, _, _) = created("Alice");
        block_on(async {
            assert_eq!(
                engine.change_passphrase("not it at all", "another passphrase").await,
                Err(Error::WrongCurrentPassphrase)
            );
            assert_eq!(engine.change_passphrase(PASS, "short").await, Err(Error::PassphraseTooShort));
            engine.check_passphrase(PASS).await.unwrap();
            engine.change_passphrase(PASS, "another passphrase").await.unwrap();
            engine.check_passphrase("another passphrase").await.unwrap();
            assert!(engine.check_passphrase(PASS).await.is_err());
            engine.lock();
            assert_eq!(engine.change_passphrase(PASS, "a third passphrase").await, Err(Error::Locked));
        });
    }

    #[test]
    fn deleting_the_account_erases_it_locked_or_not() {
        let (engine, backend, events) = created("Alice");
        block_on(async {
            engine.send(&peer(), "gone with the account").await.unwrap();
            engine.delete_account().await.unwrap();
            assert!(!engine.is_unlocked());
            assert!(!engine.has_account().await.unwrap());
            for store in stores::ALL {
                assert!(backend.keys(store).await.unwrap().is_empty(), "{store} is empty");
            }
            assert_eq!(events.borrow().last(), Some(&Event::Locked));

            engine.create(&Seed::from_bytes([5; 16]), "Bob", PASS).await.unwrap();
            engine.lock();
            engine.delete_account().await.unwrap();
            assert!(!engine.has_account().await.unwrap(), "erased from the unlock screen too");
        });
    }

    #[test]
    fn every_call_needs_an_unlocked_account() {
        let engine = Engine::new(offline_world(), MemoryBackend::default());
        let bob = peer();
        block_on(async {
            assert_eq!(engine.send(&bob, "hi").await, Err(Error::Locked));
            assert_eq!(engine.conversations().await, Err(Error::Locked));
            assert_eq!(engine.conversation(&bob).await, Err(Error::Locked));
            assert_eq!(engine.history(&bob, 5).await, Err(Error::Locked));
            assert_eq!(engine.accept(&bob).await, Err(Error::Locked));
            assert_eq!(engine.block(&bob).await, Err(Error::Locked));
            assert_eq!(engine.unblock(&bob).await, Err(Error::Locked));
            assert_eq!(engine.delete_conversation(&bob).await, Err(Error::Locked));
            assert_eq!(engine.draft(&bob).await, Err(Error::Locked));
            assert_eq!(engine.set_draft(&bob, "x").await, Err(Error::Locked));
            assert_eq!(engine.mark_read(&bob).await, Err(Error::Locked));
            assert_eq!(engine.retry("out/x/1").await, Err(Error::Locked));
            assert_eq!(engine.set_relay("").await, Err(Error::Locked));
            assert_eq!(engine.update_account(|a| a.display_name = "x".into()).await, Err(Error::Locked));
            assert!(matches!(engine.poll_once().await, Err(Error::Locked)));
            assert!(!engine.approved_me(&bob).await);
            engine.run().await;
        });
        assert!(engine.net_status().is_none() && engine.paths().is_empty());
        assert_eq!(engine.requests_sent(), 0);
        engine.set_viewing(Some(bob));
    }

    #[test]
    fn settings_are_kept_in_the_account_and_a_bad_relay_is_refused() {
        let (engine, backend, _) = created("Alice");
        block_on(async {
            engine.update_account(|a| a.display_name = "Alice B.".into()).await.unwrap();
            assert!(matches!(engine.set_relay("ftp://relay.example").await, Err(Error::RelayUrl(_))));
            assert_eq!(engine.set_relay(" https://relay.example/ ").await.unwrap(), "https://relay.example");
            assert_eq!(engine.net_status().unwrap().relay, "https://relay.example");
            engine.lock();
            let (again, _) = engine_on(backend);
            again.unlock(PASS).await.unwrap();
            let account = again.account().unwrap();
            assert_eq!(
                (account.display_name.as_str(), account.relay_url.as_str()),
                ("Alice B.", "https://relay.example")
            );
            assert_eq!(again.net_status().unwrap().relay, "https://relay.example", "the client starts on it");
        });
    }

    #[test]
    fn a_send_is_kept_and_filed_before_any_network_call() {
        let (engine, backend, events) = created("Alice");
        let bob = peer();
        block_on(async {
            let sent = engine.send(&bob, "first").await.unwrap();
            assert_eq!((sent.status, sent.outgoing, sent.peer), (Status::Sending, true, bob));
            assert!(sent.outbox.as_ref().is_some_and(|o| !o.delivered && !o.data.is_empty() && o.data != o.sync_data));
            let conversation = engine.conversation(&bob).await.unwrap().unwrap();
            assert_eq!(
                (conversation.standing, conversation.preview.as_str(), conversation.unread),
                (Standing::Accepted, "first", 0)
            );
            assert_eq!(engine.send(&bob, "").await, Err(Error::EmptyMessage));
            let too_long = "x".repeat(crate::MAX_CHARS + 1);
            assert_eq!(engine.send(&bob, &too_long).await, Err(Error::TooLong { max: crate::MAX_CHARS }));
            let second = engine.send(&bob, "second").await.unwrap();
            assert!(second.timestamp > sent.timestamp);

            // A reload finds both, still to deliver.
            engine.lock();
            let (again, _) = engine_on(backend);
            again.unlock(PASS).await.unwrap();
            let (history, older) = again.history(&bob, 10).await.unwrap();
            assert!(!older);
            assert_eq!(history, [sent.clone(), second.clone()]);
            let session = again.session().unwrap();
            assert_eq!(outbox::ids(&session).await.unwrap(), [sent.id.clone(), second.id.clone()]);
        });
        let told: Vec<bool> = events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Message { arrived, .. } => Some(*arrived),
                _ => None,
            })
            .collect();
        assert_eq!(told, [false, false], "each send told once, as not arrived");
        assert!(events.borrow().contains(&Event::Conversations));
    }

    #[test]
    fn retry_puts_a_message_back_and_refuses_what_is_gone() {
        let (engine, _, _) = created("Alice");
        let bob = peer();
        block_on(async {
            assert_eq!(engine.retry("out/nobody/1").await, Err(Error::MessageGone));
            let sent = engine.send(&bob, "again").await.unwrap();
            let retried = engine.retry(&sent.id).await.unwrap();
            assert_eq!((retried.status, retried.problem), (Status::Sending, None));
            let session = engine.session().unwrap();
            assert_eq!(outbox::ids(&session).await.unwrap(), [sent.id.as_str()], "listed once");
            assert!(session.retry_failed.get());
            engine.delete_conversation(&bob).await.unwrap();
            assert_eq!(engine.retry(&sent.id).await, Err(Error::MessageGone));
        });
    }

    #[test]
    fn accepting_blocking_and_deleting_change_the_standing() {
        let (engine, _, _) = created("Bob");
        let alice = peer();
        block_on(async {
            let session = engine.session().unwrap();
            let incoming = Message::filed(
                "in/HASH".into(),
                &alice,
                false,
                "hello".into(),
                1_700_000_000_000,
                Some("Alice".into()),
            );
            inbox::record(&session, &incoming, Some("Alice".into()), true, Standing::Request).await.unwrap();
            assert_eq!(engine.conversation(&alice).await.unwrap().unwrap().standing, Standing::Request);
            engine.mark_read(&alice).await.unwrap();
            assert_eq!(engine.conversation(&alice).await.unwrap().unwrap().unread, 0);

            engine.accept(&alice).await.unwrap();
            engine.accept(&alice).await.unwrap();
            assert_eq!(engine.conversation(&alice).await.unwrap().unwrap().standing, Standing::Accepted);
            let ids = outbox::ids(&session).await.unwrap();
            assert_eq!(ids.len(), 1, "one acceptance, however often accepted: {ids:?}");
            assert!(ids[0].starts_with(&format!("ctl/{alice}/")));

            let other = peer();
            engine.send(&other, "later").await.unwrap();
            engine.block(&alice).await.unwrap();
            let list = engine.conversations().await.unwrap();
            assert_eq!(
                list.iter().map(|c| (c.peer, c.standing)).collect::<Vec<_>>(),
                [(other, Standing::Accepted), (alice, Standing::Blocked)]
            );
            engine.delete_conversation(&alice).await.unwrap();
            let kept = engine.conversation(&alice).await.unwrap().unwrap();
            assert_eq!(
                (kept.standing, kept.name.as_deref(), kept.pages),
                (Standing::Blocked, Some("Alice"), 0),
                "still blocked, without messages"
            );
            assert!(engine.history(&alice, 10).await.unwrap().0.is_empty());
            engine.unblock(&alice).await.unwrap();
            assert_eq!(engine.conversation(&alice).await.unwrap().unwrap().standing, Standing::Accepted);
            engine.delete_conversation(&alice).await.unwrap();
            assert_eq!(engine.conversation(&alice).await.unwrap(), None);
        });
    }

    #[test]
    fn run_ends_soon_after_a_lock() {
        let (engine, _, _) = created("Alice");
        let started = Instant::now();
        block_on(futures::future::join(engine.run(), async {
            ThreadClock.sleep(Duration::from_millis(300)).await;
            engine.lock();
        }));
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn a_second_unlock_ends_the_first_sessions_work() {
        let (engine, _, _) = created("Alice");
        let started = Instant::now();
        block_on(futures::future::join(engine.run(), async {
            ThreadClock.sleep(Duration::from_millis(300)).await;
            engine.unlock(PASS).await.unwrap();
        }));
        assert!(engine.is_unlocked());
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn the_engine_prints_only_whether_it_is_unlocked() {
        let (engine, _, _) = created("Alice");
        let text = format!("{engine:?}");
        assert_eq!(text, "Engine { unlocked: true, .. }");
        let handle = engine.clone();
        handle.lock();
        assert!(!engine.is_unlocked(), "a clone is a handle to the same engine");
        assert!(!block_on(engine.backend().keys(stores::ACCOUNT)).unwrap().is_empty());
        assert!(!engine.world().secure_page);
    }
}
