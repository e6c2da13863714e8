//! The app-wide state the screens share, and the glue between the engine and it: every call here
//! asks the engine and puts what it answers into signals; the engine's events keep them current.
//! No messenger rule lives here.

use std::cell::RefCell;

use crypto_core::identity::{Seed, SessionId};
use crypto_core::vault::KdfParams;
use hush_client::account::{Account, Theme};
use hush_client::communities::{Community, RoomMessage};
use hush_client::conversations::{AttachmentState, Conversation, Message, Status};
use hush_client::network::NetStatus;
use hush_client::{Error, Event};
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::Zeroizing;

use crate::i18n::{Text, t};
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
    /// A restored account whose profile holds no display name: choose one.
    ChooseName,
    /// An account exists and is locked.
    Unlock,
    /// The unlocked home screen: conversations.
    Home,
    /// One conversation.
    Conversation,
    /// One community room.
    Room,
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
    /// Who is typing to this account now, each with the mark of their latest start (a later
    /// start renews it): see [`AppState::typing_changed`].
    pub typing: RwSignal<Vec<(SessionId, u64)>>,
    /// The network client's status.
    pub net: RwSignal<Option<NetStatus>>,
    /// How far each outgoing message's upload got: (message id, file index, bytes sent, of all),
    /// the latest the engine told for each message still uploading.
    pub uploads: RwSignal<Vec<(String, usize, u64, u64)>>,
    /// The joined community rooms, in the order joined.
    pub communities: RwSignal<Vec<Community>>,
    /// The open room's URL.
    pub open_room: RwSignal<Option<String>>,
    /// The open room's loaded messages, oldest first.
    pub room_messages: RwSignal<Vec<RoomMessage>>,
    /// Whether the open room has older messages than those loaded.
    pub room_has_older: RwSignal<bool>,
    /// The Argon2id parameters of new passphrase wraps (tests choose cheaper ones).
    pub kdf: KdfParams,
    /// Whether locking reloads the page (see [`AppState::lock_because`]); tests that drive the
    /// session inside one page turn it off.
    pub forget_on_lock: bool,
}

/// Why the account was locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    /// The person asked ("Lock now").
    Asked,
    /// No key press or pointer event for the account's chosen minutes.
    Idle,
    /// Another tab took Hush over ("Use here" there).
    Elsewhere,
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Locked {
    fn tag(self) -> &'static str {
        match self {
            Locked::Asked => "asked",
            Locked::Idle => "idle",
            Locked::Elsewhere => "elsewhere",
        }
    }
}

/// What a page that locked itself tells the page that loads in its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relocked {
    /// Why it locked.
    pub why: Locked,
    /// The theme the locked account had, so the unlock screen looks as it did.
    pub theme: Theme,
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Relocked {
    fn to_tag(self) -> String {
        let theme = match self.theme {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        };
        format!("{} {theme}", self.why.tag())
    }

    fn from_tag(tag: &str) -> Option<Relocked> {
        let (why, theme) = tag.split_once(' ')?;
        let why = [Locked::Asked, Locked::Idle, Locked::Elsewhere].into_iter().find(|w| w.tag() == why)?;
        let theme = match theme {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            "system" => Theme::System,
            _ => return None,
        };
        Some(Relocked { why, theme })
    }
}

thread_local! {
    /// What the page before this one said when it locked itself, read once.
    static RELOCKED: core::cell::OnceCell<Option<Relocked>> = const { core::cell::OnceCell::new() };
}

/// Whether this page was loaded by a page that locked itself, and why (read once at start, then
/// kept: the mark is removed from the tab's storage as it is read).
pub fn relocked() -> Option<Relocked> {
    RELOCKED.with(|r| {
        *r.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            return crate::storage::take_relock_mark().as_deref().and_then(Relocked::from_tag);
            #[cfg(not(target_arch = "wasm32"))]
            None
        })
    })
}

/// Messages loaded at a time when scrolling back.
pub const PAGE: usize = 50;

/// How many posts of a room are read at once (the engine's page).
pub const ROOM_PAGE: usize = hush_client::communities::PAGE;

/// What the unlock screen says after an idle lock.
const IDLE_NOTICE: Text = Text::AppLockedIdle;

/// The longest a lock waits for the vault's writes under way before the page reloads.
#[cfg(target_arch = "wasm32")]
const SETTLE_MS: f64 = 1_000.0;

/// Leaves `mark` for the next page, waits (at most [`SETTLE_MS`]) for the vault's writes already
/// handed to IndexedDB, which a reload would abort, then reloads the page.
#[cfg(target_arch = "wasm32")]
async fn reload(mark: Relocked) {
    use hush_client::platform::Clock;
    crate::storage::set_relock_mark(&mark.to_tag());
    let start = platform::now_ms();
    while crate::storage::writing() && platform::now_ms() - start < SETTLE_MS {
        platform::PageClock.sleep(core::time::Duration::from_millis(10)).await;
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

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
            typing: RwSignal::new(Vec::new()),
            net: RwSignal::new(None),
            uploads: RwSignal::new(Vec::new()),
            communities: RwSignal::new(Vec::new()),
            open_room: RwSignal::new(None),
            room_messages: RwSignal::new(Vec::new()),
            room_has_older: RwSignal::new(false),
            kdf: hush_client::KDF,
            forget_on_lock: true,
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

    /// "Lock now": see [`AppState::lock_because`].
    pub fn lock(&self) {
        self.lock_because(Locked::Asked);
    }

    /// Locks and forgets. The engine drops the account (its keys zeroized once the last task
    /// holding them ends) and its vault takes no more writes. That alone would leave what was
    /// shown — message text, names — in the WebAssembly memory the page freed but never wiped;
    /// so in the browser the page then loads itself again (once the vault's writes already under
    /// way have landed, at most 1 s), and the old instance goes with all its memory. The new page
    /// shows the unlock screen in the same theme; when the person locked (not when another tab
    /// took over) it takes the tab lock straight back, so a tab waiting for it does not get it
    /// meanwhile; after an idle lock it says so. Everything that was still being sent is in the
    /// vault's outbox and goes on after the next unlock.
    pub fn lock_because(&self, why: Locked) {
        let mark = Relocked { why, theme: self.account().map_or(Theme::System, |a| a.theme) };
        if let Some(engine) = self.engine() {
            engine.lock();
        }
        #[cfg(target_arch = "wasm32")]
        if self.forget_on_lock {
            // Not the unlock screen yet: the page is about to go, and its successor shows it.
            self.go(Screen::Loading);
            spawn_local(reload(mark));
            return;
        }
        let _ = mark;
        self.go(Screen::Unlock);
        if why == Locked::Idle {
            self.notice.set(Some(t(IDLE_NOTICE).into()));
        }
    }

    fn forget_session(&self) {
        self.conversations.set(Vec::new());
        self.messages.set(Vec::new());
        self.open_peer.set(None);
        self.arrived.set(None);
        self.typing.set(Vec::new());
        self.communities.set(Vec::new());
        self.open_room.set(None);
        self.room_messages.set(Vec::new());
        self.net.set(None);
        self.revision.update(|r| *r += 1);
    }

    /// Applies one of the engine's events to the signals.
    fn apply(&self, event: Event) {
        match event {
            Event::Conversations => refresh_list(*self),
            Event::Communities => refresh_communities(*self),
            Event::Community { room } if self.open_room.get_untracked().as_deref() == Some(room.as_str()) => {
                refresh_room(*self, room)
            }
            Event::Message { message, arrived } => {
                if !arrived && self.uploads.with_untracked(|u| u.iter().any(|(id, ..)| *id == message.id)) {
                    let uploading = message.attachments.iter().any(|a| a.state == AttachmentState::Uploading);
                    if !uploading || message.status != Status::Sending {
                        self.uploads.update(|u| u.retain(|(id, ..)| *id != message.id));
                    }
                }
                // While the page is hidden, a system notification (as the engine says).
                if arrived && let Some(engine) = self.unlocked() {
                    crate::notify::arrived(engine, &message);
                }
                // A message from them ends their "typing".
                if arrived && !message.outgoing {
                    self.typing_changed(message.peer, false);
                }
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
            Event::Problem(e) => self.notice.set(Some(crate::words::error_text(&e))),
            Event::Removed { peer, id } if self.open_peer.get_untracked() == Some(peer) => {
                self.messages.update(|list| list.retain(|m| m.id != id));
            }
            Event::Typing { peer, typing } => self.typing_changed(peer, typing),
            Event::Upload { id, index, sent, total } => {
                self.uploads.update(|u| match u.iter_mut().find(|(m, ..)| *m == id) {
                    Some(entry) => *entry = (id, index, sent, total),
                    None => u.push((id, index, sent, total)),
                })
            }
            _ => {}
        }
    }
}

thread_local! {
    /// The mark of the latest "started typing" shown.
    static TYPING_MARK: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

impl AppState {
    /// Shows that `peer` started (`typing`) or stopped typing: a start is shown for
    /// [`hush_client::TYPING_SHOWN_MS`] unless another start renews it.
    fn typing_changed(&self, peer: SessionId, typing: bool) {
        self.typing.update(|list| list.retain(|(p, _)| *p != peer));
        if !typing {
            return;
        }
        let mark = TYPING_MARK.with(|m| {
            m.set(m.get().wrapping_add(1));
            m.get()
        });
        self.typing.update(|list| list.push((peer, mark)));
        let shown = self.typing;
        set_timeout(
            move || {
                shown.try_update(|list| list.retain(|&(p, m)| (p, m) != (peer, mark)));
            },
            core::time::Duration::from_millis(hush_client::TYPING_SHOWN_MS),
        );
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
                    Err(e) => app.notice.set(Some(crate::words::error_text(&e))),
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

thread_local! {
    /// The latest list refresh asked for (an older answer that comes later is dropped).
    static LIST_ASKED: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
    /// The latest refresh of the open room asked for.
    static ROOM_ASKED: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

fn next(counter: &'static std::thread::LocalKey<core::cell::Cell<u64>>) -> u64 {
    counter.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    })
}

fn latest(counter: &'static std::thread::LocalKey<core::cell::Cell<u64>>, asked: u64) -> bool {
    counter.with(|c| c.get() == asked)
}

/// Reads the joined rooms again (the engine said they changed).
pub(crate) fn refresh_communities(app: AppState) {
    let asked = next(&LIST_ASKED);
    spawn_local(async move {
        let Ok(engine) = unlocked(app) else { return };
        match engine.communities().await {
            Ok(list) if latest(&LIST_ASKED, asked) => app.communities.set(list),
            Ok(_) => {}
            Err(e) => app.notice.set(Some(crate::words::error_text(&e))),
        }
    });
}

/// Reads the open room's messages again (the engine said they changed): the newest, back to the
/// oldest one loaded, so what the person paged in stays.
pub(crate) fn refresh_room(app: AppState, room: String) {
    let asked = next(&ROOM_ASKED);
    spawn_local(async move {
        if let Err(e) = reread(app, &room, asked).await {
            app.notice.set(Some(crate::words::error_text(&e)));
        }
    });
}

async fn reread(app: AppState, room: &str, asked: u64) -> Result<(), Error> {
    let engine = unlocked(app)?;
    let (loaded, oldest) = app.room_messages.with_untracked(|list| (list.len(), list.first().map(|m| m.id)));
    // A page at first; then what is loaded and room for what came since.
    let limit = if loaded == 0 { ROOM_PAGE } else { loaded + ROOM_PAGE };
    let (mut messages, older) = engine.room_messages(room, None, limit).await?;
    // What came before the oldest loaded message stays unloaded (its "older" button stays).
    let mut older = older;
    if let Some(oldest) = oldest
        && messages.first().is_some_and(|m| m.id < oldest)
    {
        messages.retain(|m| m.id >= oldest);
        older = true;
    }
    if latest(&ROOM_ASKED, asked) && app.open_room.get_untracked().as_deref() == Some(room) {
        app.room_has_older.set(older);
        app.room_messages.set(messages);
    }
    Ok(())
}

/// Reads the newest messages of `room` into the open room's view (see [`refresh_room`]).
pub(crate) async fn reread_room(app: AppState, room: &str) -> Result<(), Error> {
    let asked = next(&ROOM_ASKED);
    reread(app, room, asked).await
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
                app.notice.set(Some(crate::words::error_text(&e)));
                return;
            }
        },
    };
    if engine.is_unlocked() {
        return app.go(Screen::Home);
    }
    match engine.has_account().await {
        Ok(true) => {
            app.go(Screen::Unlock);
            if relocked().is_some_and(|r| r.why == Locked::Idle) {
                app.notice.set(Some(t(IDLE_NOTICE).into()));
            }
        }
        Ok(false) => app.go(Screen::Welcome),
        Err(e) => {
            app.screen.set(Screen::Welcome);
            app.notice.set(Some(crate::words::error_text(&e)));
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
    // The relay's node list is checked against these, and files go to this file server; both
    // come from this page's own origin.
    let anchored = engine.clone();
    spawn_local(async move {
        if let Some(served) = crate::net::network(&platform::PageClock).await {
            if let Some(server) = served.file_server {
                anchored.set_file_server(server);
            }
            if let Some(anchors) = served.anchors {
                anchored.set_anchors(anchors);
            }
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
    // A restored account without a name (its profile had none, or the network was not there):
    // one is chosen before anything else.
    let nameless = engine.account().is_some_and(|a| a.display_name.trim().is_empty());
    app.go(if nameless { Screen::ChooseName } else { Screen::Home });
    spawn_local(async move { engine.run().await });
    refresh_list(app);
    refresh_communities(app);
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
        Err(e) => app.notice.set(Some(crate::words::error_text(&e))),
    }
}

/// Restores the pending seed's account with `passphrase`: the vault is made, then the account's
/// profile, contacts and read state are pulled from its swarm before Home opens (or, when its
/// profile holds no name, the step that asks for one). Returns whether the network answered.
pub async fn restore_account(app: AppState, passphrase: Zeroizing<String>) -> bool {
    let Some(seed) = app.pending_seed.with_value(Clone::clone) else {
        app.go(Screen::Welcome);
        return false;
    };
    let result = async {
        let engine = engine(app)?;
        let restored = engine.restore(&seed, &passphrase).await?;
        Ok::<_, Error>((engine, restored.reached))
    }
    .await;
    match result {
        Ok((engine, reached)) => {
            entered(app, engine).await;
            reached
        }
        Err(e) => {
            app.notice.set(Some(crate::words::error_text(&e)));
            false
        }
    }
}

/// Gives the unlocked account the display name `name` (a restored account whose profile had
/// none), then opens Home.
pub async fn choose_name(app: AppState, name: String) -> Result<(), Error> {
    let engine = app.unlocked().ok_or(Error::Locked)?;
    engine.update_account(move |a| a.display_name = name).await?;
    app.go(Screen::Home);
    Ok(())
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
        Err(e) => app.notice.set(Some(crate::words::error_text(&e))),
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

#[cfg(test)]
mod tests {
    use super::{Locked, Relocked, Theme};

    /// The mark a locking page leaves reads back as it was; anything else is no mark.
    #[test]
    fn the_relock_mark_reads_back_and_nothing_else_does() {
        for why in [Locked::Asked, Locked::Idle, Locked::Elsewhere] {
            for theme in [Theme::Light, Theme::Dark, Theme::System] {
                let mark = Relocked { why, theme };
                assert_eq!(Relocked::from_tag(&mark.to_tag()), Some(mark));
            }
        }
        for bad in ["", "asked", "asked dark ", "Asked dark", "idle blue", " idle dark", "elsewhere\u{0}dark"] {
            assert_eq!(Relocked::from_tag(bad), None, "{bad:?}");
        }
    }
}
