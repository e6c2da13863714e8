//! The app-wide state the screens share, and the glue between the engine and it: every call here
//! asks the engine and puts what it answers into signals; the engine's events keep them current.
//! No messenger rule lives here.

use std::cell::RefCell;

use crypto_core::identity::{Seed, SessionId};
use crypto_core::vault::KdfParams;
use hush_client::account::Account;
use hush_client::conversations::{Conversation, Message};
use hush_client::network::NetStatus;
use hush_client::{Error, Event};
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::Zeroizing;

use crate::platform::{self, AppEngine};

/// What is on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Opening storage.
    Loading,
    /// No account on this device.
    Welcome,
    /// A new account's phrase, to write down.
    ShowPhrase,
    /// Type three words of it back.
    ConfirmPhrase,
    /// Enter a phrase to restore an account.
    Restore,
    /// Display name and passphrase, then the vault is made.
    Profile,
    /// An account exists and is locked.
    Unlock,
    /// The unlocked home screen: conversations.
    Home,
    /// One conversation.
    Conversation,
    /// Settings.
    Settings,
}

/// App-wide state, provided as a context.
#[derive(Clone, Copy, Debug)]
pub struct AppState {
    /// The current screen.
    pub screen: RwSignal<Screen>,
    /// A message for the person (errors, confirmations).
    pub notice: RwSignal<Option<String>>,
    /// The seed of an account being created or restored (not yet in a vault).
    pub pending_seed: StoredValue<Option<Seed>, LocalStorage>,
    /// Whether the pending seed came from a restore.
    pub restoring: RwSignal<bool>,
    /// The engine, once this device's storage is open.
    pub engine: StoredValue<Option<AppEngine>, LocalStorage>,
    /// Bumped whenever the account changes (unlocked, locked, settings saved), so views re-read it.
    pub revision: RwSignal<u64>,
    /// The conversation list.
    pub conversations: RwSignal<Vec<Conversation>>,
    /// The open conversation's peer.
    pub open_peer: RwSignal<Option<SessionId>>,
    /// The open conversation's loaded messages, oldest first.
    pub messages: RwSignal<Vec<Message>>,
    /// How many of its messages are loaded.
    pub shown_count: RwSignal<usize>,
    /// Whether older messages exist.
    pub has_older: RwSignal<bool>,
    /// The last message that arrived in the open conversation while it was open (never history
    /// paged in from the vault): what the conversation view reads out to screen readers.
    pub arrived: RwSignal<Option<Message>>,
    /// The network client's status.
    pub net: RwSignal<Option<NetStatus>>,
    /// The Argon2id parameters of new passphrase wraps (tests choose cheaper ones).
    pub kdf: KdfParams,
}

/// Messages loaded at a time when scrolling back.
pub const PAGE: usize = 50;

impl AppState {
    /// Fresh state.
    pub fn new() -> AppState {
        AppState {
            screen: RwSignal::new(Screen::Loading),
            notice: RwSignal::new(None),
            pending_seed: StoredValue::new_local(None),
            restoring: RwSignal::new(false),
            engine: StoredValue::new_local(None),
            revision: RwSignal::new(0),
            conversations: RwSignal::new(Vec::new()),
            open_peer: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            shown_count: RwSignal::new(PAGE),
            has_older: RwSignal::new(false),
            arrived: RwSignal::new(None),
            net: RwSignal::new(None),
            kdf: hush_client::KDF,
        }
    }

    /// The engine, once storage is open.
    pub fn engine(&self) -> Option<AppEngine> {
        self.engine.with_value(Clone::clone)
    }

    /// The engine if an account is unlocked.
    pub fn unlocked(&self) -> Option<AppEngine> {
        self.engine().filter(AppEngine::is_unlocked)
    }

    /// The unlocked account's record.
    pub fn account(&self) -> Option<Account> {
        self.engine().and_then(|e| e.account())
    }

    /// The unlocked account's Session ID.
    pub fn session_id(&self) -> Option<SessionId> {
        self.engine().and_then(|e| e.session_id())
    }

    /// Shows `screen` and clears the notice.
    pub fn go(&self, screen: Screen) {
        self.notice.set(None);
        self.screen.set(screen);
    }

    /// Locks: the engine drops the keys (zeroized once the last task holding them ends) and its
    /// vault takes no more writes.
    pub fn lock(&self) {
        if let Some(engine) = self.engine() {
            engine.lock();
        }
        self.go(Screen::Unlock);
    }

    fn forget_session(&self) {
        self.conversations.set(Vec::new());
        self.messages.set(Vec::new());
        self.open_peer.set(None);
        self.arrived.set(None);
        self.net.set(None);
        self.revision.update(|r| *r += 1);
    }

    /// Applies one of the engine's events to the signals.
    fn apply(&self, event: Event) {
        match event {
            Event::Conversations => refresh_list(*self),
            Event::Message { message, arrived } => {
                if self.open_peer.get_untracked() != Some(message.peer) {
                    return;
                }
                let mut fresh = false;
                self.messages.update(|list| match list.iter_mut().find(|m| m.id == message.id) {
                    Some(existing) => *existing = message.clone(),
                    None => {
                        fresh = arrived;
                        list.push(message.clone());
                        list.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
                    }
                });
                if fresh {
                    self.arrived.set(Some(message));
                }
            }
            Event::Network(status) => self.net.set(Some(status)),
            Event::Account => self.revision.update(|r| *r += 1),
            Event::Locked => self.forget_session(),
            Event::Problem(e) => self.notice.set(Some(e.to_string())),
            _ => {}
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// The app state from context.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

thread_local! {
    /// Whether a list refresh is running, and whether another was asked for meanwhile.
    static REFRESHING: RefCell<(bool, bool)> = const { RefCell::new((false, false)) };
}

/// Reads the conversation list again, once at a time (a request while one runs makes one more).
fn refresh_list(app: AppState) {
    let busy = REFRESHING.with(|r| {
        let mut r = r.borrow_mut();
        if r.0 {
            r.1 = true;
        }
        let busy = r.0;
        r.0 = true;
        busy
    });
    if busy {
        return;
    }
    spawn_local(async move {
        loop {
            if let Some(engine) = app.unlocked() {
                match engine.conversations().await {
                    Ok(list) => app.conversations.set(list),
                    Err(e) => app.notice.set(Some(e.to_string())),
                }
            }
            let again = REFRESHING.with(|r| {
                let mut r = r.borrow_mut();
                let again = r.1;
                r.1 = false;
                if !again {
                    r.0 = false;
                }
                again
            });
            if !again {
                return;
            }
        }
    });
}

/// Opens this device's storage and makes the engine (once), then decides the first screen:
/// unlock if an account exists, welcome otherwise.
pub async fn start(app: AppState) {
    let engine = match app.engine() {
        Some(engine) => engine,
        None => match open_engine(app).await {
            Ok(engine) => engine,
            Err(e) => {
                app.screen.set(Screen::Welcome);
                app.notice.set(Some(e.to_string()));
                return;
            }
        },
    };
    if engine.is_unlocked() {
        return app.go(Screen::Home);
    }
    match engine.has_account().await {
        Ok(true) => app.go(Screen::Unlock),
        Ok(false) => app.go(Screen::Welcome),
        Err(e) => {
            app.screen.set(Screen::Welcome);
            app.notice.set(Some(e.to_string()));
        }
    }
}

async fn open_engine(app: AppState) -> Result<AppEngine, Error> {
    #[cfg(target_arch = "wasm32")]
    let backend = crate::storage::open_device().await?;
    #[cfg(not(target_arch = "wasm32"))]
    let backend = hush_client::storage::MemoryBackend::default();
    let engine = AppEngine::new(platform::world(), backend);
    engine.set_kdf(app.kdf);
    // The relay's node list is checked against these; they come from this page's own origin.
    let anchored = engine.clone();
    spawn_local(async move {
        if let Some(anchors) = crate::net::anchors(&platform::PageClock).await {
            anchored.set_anchors(anchors);
        }
    });
    engine.on_event(move |event| app.apply(event));
    app.engine.set_value(Some(engine.clone()));
    Ok(engine)
}

/// The engine, or the error that says storage is not open yet.
fn engine(app: AppState) -> Result<AppEngine, Error> {
    app.engine().ok_or(Error::Locked)
}

/// After an unlock or create: Home, the list, and the session's background work.
async fn entered(app: AppState, engine: AppEngine) {
    app.pending_seed.set_value(None);
    app.go(Screen::Home);
    spawn_local(async move { engine.run().await });
    refresh_list(app);
}

/// Creates the vault for the pending seed with `display_name` and `passphrase`, then opens Home.
pub async fn create_account(app: AppState, display_name: String, passphrase: Zeroizing<String>) {
    let Some(seed) = app.pending_seed.with_value(Clone::clone) else {
        return app.go(Screen::Welcome);
    };
    let result = async {
        let engine = engine(app)?;
        engine.create(&seed, &display_name, &passphrase).await?;
        Ok::<_, Error>(engine)
    }
    .await;
    match result {
        Ok(engine) => entered(app, engine).await,
        Err(e) => app.notice.set(Some(e.to_string())),
    }
}

/// Unlocks the vault with `passphrase` and opens Home; a wrong passphrase is an error.
pub async fn unlock(app: AppState, passphrase: Zeroizing<String>) -> Result<(), Error> {
    let engine = engine(app)?;
    engine.unlock(&passphrase).await?;
    entered(app, engine).await;
    Ok(())
}

/// The person forgot their passphrase: `phrase` opens the vault, `new_passphrase` replaces the
/// passphrase, and Home opens with the history kept.
pub async fn recover_with_phrase(
    app: AppState,
    phrase: Zeroizing<String>,
    new_passphrase: Zeroizing<String>,
) -> Result<(), Error> {
    let engine = engine(app)?;
    engine.recover_with_phrase(&phrase, &new_passphrase).await?;
    drop(phrase);
    entered(app, engine).await;
    Ok(())
}

/// Replaces the passphrase of the unlocked account after checking `current`.
pub async fn change_passphrase(app: AppState, current: Zeroizing<String>, new: Zeroizing<String>) -> Result<(), Error> {
    engine(app)?.change_passphrase(&current, &new).await
}

/// Checks `passphrase` against the vault without changing anything.
pub async fn check_passphrase(app: AppState, passphrase: Zeroizing<String>) -> Result<(), Error> {
    engine(app)?.check_passphrase(&passphrase).await
}

/// Erases the account from this device, unlocked or not; Welcome follows, or a notice says why
/// not.
pub async fn delete_account(app: AppState) {
    let result = match engine(app) {
        Ok(engine) => engine.delete_account().await,
        Err(e) => Err(e),
    };
    app.forget_session();
    match result {
        Ok(()) => app.go(Screen::Welcome),
        Err(e) => app.notice.set(Some(e.to_string())),
    }
}

/// Saves a change of the account record (settings); on failure nothing changed.
pub async fn update_account(app: AppState, change: impl FnOnce(&mut Account)) -> Result<(), Error> {
    engine(app)?.update_account(change).await
}

/// A clone of the unlocked engine, for the conversation glue.
pub(crate) fn unlocked(app: AppState) -> Result<AppEngine, Error> {
    app.unlocked().ok_or(Error::Locked)
}

/// Keeps the engine told which conversation is open (its messages then arrive read).
pub(crate) fn follow_open_conversation(app: AppState) {
    Effect::new(move |_| {
        let peer = app.open_peer.get();
        app.revision.track();
        if let Some(engine) = app.unlocked() {
            engine.set_viewing(peer);
        }
    });
}
