//! The unlocked session and the app-wide state the screens share.

use std::cell::RefCell;
use std::rc::Rc;

use crypto_core::identity::{Identity, Seed};
use crypto_core::mnemonic;
use crypto_core::vault::{KdfParams, VaultError};
use leptos::prelude::*;
use zeroize::Zeroizing;

use crate::account::{ACCOUNT_ID, Account, MIN_PASSPHRASE_CHARS, Strength};
use crate::chat::{Conversation, Message};
use crate::client::Client;
use crate::storage::{self, DeviceBackend, StorageError, Vault, stores};

/// The Argon2id parameters new vaults use.
pub const KDF: KdfParams = KdfParams::DEFAULT;

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

/// An unlocked account.
pub struct Session {
    /// The vault it lives in.
    pub vault: Vault<DeviceBackend>,
    /// The account record.
    pub account: RefCell<Account>,
    /// Its keys.
    pub identity: Identity,
    /// The network client.
    pub client: Client,
    /// Serializes read-modify-write of conversation records between concurrent tasks
    /// (sending, delivering, polling), so no update is lost.
    pub writes: futures::lock::Mutex<()>,
    /// The timestamp of the last message sent, so two messages never share one (a timestamp is
    /// a sent message's identity for its recipients).
    last_sent: std::cell::Cell<u64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("session_id", &self.identity.session_id()).finish_non_exhaustive()
    }
}

impl Session {
    /// An unlocked session.
    pub fn new(vault: Vault<DeviceBackend>, account: Account, identity: Identity, client: Client) -> Session {
        Session {
            vault,
            account: RefCell::new(account),
            identity,
            client,
            writes: Default::default(),
            last_sent: Default::default(),
        }
    }

    /// The network time for a new outgoing message: never equal to or before the last one's.
    pub fn next_timestamp(&self) -> u64 {
        let t = self.client.now().max(self.last_sent.get().saturating_add(1));
        self.last_sent.set(t);
        t
    }

    /// Saves the account record.
    pub async fn save(&self) -> Result<(), StorageError> {
        let bytes = self.account.borrow().to_bytes();
        self.vault.put(stores::ACCOUNT, ACCOUNT_ID, &bytes).await
    }
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
    /// The unlocked session.
    pub session: StoredValue<Option<Rc<Session>>, LocalStorage>,
    /// Bumped whenever the session's account changes, so views re-read it.
    pub revision: RwSignal<u64>,
    /// The conversation list.
    pub conversations: RwSignal<Vec<Conversation>>,
    /// The open conversation's peer.
    pub open_peer: RwSignal<Option<String>>,
    /// The open conversation's loaded messages, oldest first.
    pub messages: RwSignal<Vec<Message>>,
    /// How many of its messages are loaded.
    pub shown_count: RwSignal<usize>,
    /// Whether older messages exist.
    pub has_older: RwSignal<bool>,
    /// The Argon2id parameters of new passphrase wraps: [`KDF`] (tests choose cheaper ones).
    pub kdf: KdfParams,
}

impl AppState {
    /// Fresh state.
    pub fn new() -> AppState {
        AppState {
            screen: RwSignal::new(Screen::Loading),
            notice: RwSignal::new(None),
            pending_seed: StoredValue::new_local(None),
            restoring: RwSignal::new(false),
            session: StoredValue::new_local(None),
            revision: RwSignal::new(0),
            conversations: RwSignal::new(Vec::new()),
            open_peer: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            shown_count: RwSignal::new(crate::chat::PAGE),
            has_older: RwSignal::new(false),
            kdf: KDF,
        }
    }

    /// The unlocked session, if any.
    pub fn current(&self) -> Option<Rc<Session>> {
        self.session.with_value(Clone::clone)
    }

    /// Shows `screen` and clears the notice.
    pub fn go(&self, screen: Screen) {
        self.notice.set(None);
        self.screen.set(screen);
    }

    /// Forgets the unlocked session: the data key and the identity are dropped (and zeroized)
    /// once the last task holding them ends, and its vault takes no more writes from them.
    pub fn lock(&self) {
        self.forget_session();
        self.go(Screen::Unlock);
    }

    fn forget_session(&self) {
        if let Some(session) = self.current() {
            session.vault.close();
        }
        self.session.set_value(None);
        self.conversations.set(Vec::new());
        self.messages.set(Vec::new());
        self.open_peer.set(None);
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

/// Decides the first screen: unlock if an account exists, welcome otherwise.
pub async fn start(app: AppState) {
    match storage::open_device().await {
        Ok(backend) => match storage::exists(&backend).await {
            Ok(true) => app.go(Screen::Unlock),
            Ok(false) => app.go(Screen::Welcome),
            Err(e) => fail(app, e, Screen::Welcome),
        },
        Err(e) => fail(app, e, Screen::Welcome),
    }
}

fn fail(app: AppState, error: StorageError, screen: Screen) {
    app.screen.set(screen);
    app.notice.set(Some(error.to_string()));
}

/// Creates the vault for the pending seed with `display_name` and `passphrase`, then opens Home.
pub async fn create_account(app: AppState, display_name: String, passphrase: impl Into<Zeroizing<String>>) {
    let passphrase = passphrase.into();
    let Some(seed) = app.pending_seed.with_value(|s| s.clone()) else {
        return app.go(Screen::Welcome);
    };
    let result = async {
        let backend = storage::open_device().await?;
        let vault = Vault::create(backend, &passphrase, &seed, app.kdf).await?;
        let account = Account::new(&seed, &display_name);
        let identity = Identity::from_seed(&seed);
        let client = Client::new(&account.relay_url);
        let session = Session::new(vault, account, identity, client);
        session.save().await?;
        Ok::<_, StorageError>(session)
    }
    .await;
    match result {
        Ok(session) => {
            app.pending_seed.set_value(None);
            app.session.set_value(Some(Rc::new(session)));
            app.revision.update(|r| *r += 1);
            app.go(Screen::Home);
            crate::messaging::start_polling(app);
        }
        Err(e) => app.notice.set(Some(e.to_string())),
    }
}

/// A message as a sentence: capitalised, with a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).chain(['.']).collect())
}

/// The account record of an opened vault, and its keys.
fn account_of(bytes: Option<Zeroizing<Vec<u8>>>) -> Result<(Account, Identity), String> {
    let bytes = bytes.ok_or("this device's account record is missing")?;
    let account = Account::from_bytes(&bytes).ok_or("this device's account record is damaged")?;
    let identity = account.identity().ok_or("this device's account record is damaged")?;
    Ok((account, identity))
}

/// Makes an opened vault the session and opens Home.
async fn enter(app: AppState, vault: Vault<DeviceBackend>, account: Account, identity: Identity) {
    let client = Client::new(&account.relay_url);
    app.session.set_value(Some(Rc::new(Session::new(vault, account, identity, client))));
    app.revision.update(|r| *r += 1);
    app.go(Screen::Home);
    crate::messaging::refresh(app).await;
    crate::messaging::start_polling(app);
}

/// Unlocks the vault with `passphrase` and opens Home; a wrong passphrase shows a message.
pub async fn unlock(app: AppState, passphrase: impl Into<Zeroizing<String>>) -> Result<(), String> {
    let passphrase = passphrase.into();
    let backend = storage::open_device().await.map_err(|e| e.to_string())?;
    let vault = Vault::unlock(backend, &passphrase).await.map_err(|e| e.to_string())?;
    let (account, identity) = account_of(vault.get(stores::ACCOUNT, ACCOUNT_ID).await.map_err(|e| e.to_string())?)?;
    enter(app, vault, account, identity).await;
    Ok(())
}

fn new_passphrase_ok(passphrase: &str) -> Result<(), String> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Strength::TooShort.hint().to_owned());
    }
    Ok(())
}

/// The person forgot their passphrase: `phrase` (the account's recovery phrase) opens the vault
/// through its recovery wrap, `new_passphrase` replaces the passphrase, and Home opens with the
/// history kept (as [`unlock`] does). A phrase of another account is refused and changes nothing.
pub async fn recover_with_phrase(
    app: AppState,
    phrase: Zeroizing<String>,
    new_passphrase: Zeroizing<String>,
) -> Result<(), String> {
    new_passphrase_ok(&new_passphrase)?;
    let seed = mnemonic::decode_seed(&phrase).map_err(|e| sentence(&e.to_string()))?;
    drop(phrase);
    let another = "This recovery phrase belongs to another account, not the one on this device. Nothing was changed.";
    let backend = storage::open_device().await.map_err(|e| e.to_string())?;
    let vault = match Vault::recover(backend, &seed).await {
        Ok(vault) => vault,
        Err(StorageError::Vault(VaultError::WrongPhrase)) => return Err(another.to_owned()),
        Err(e) => return Err(e.to_string()),
    };
    let (account, identity) = account_of(vault.get(stores::ACCOUNT, ACCOUNT_ID).await.map_err(|e| e.to_string())?)?;
    if identity.session_id() != Identity::from_seed(&seed).session_id() {
        return Err(another.to_owned());
    }
    vault.set_passphrase(&new_passphrase, app.kdf).await.map_err(|e| e.to_string())?;
    enter(app, vault, account, identity).await;
    Ok(())
}

/// Replaces the passphrase of the unlocked account after checking `current`. Only the passphrase
/// wrap changes: the recovery phrase still opens the vault, and every record stays as it is.
pub async fn change_passphrase(
    app: AppState,
    current: Zeroizing<String>,
    new: Zeroizing<String>,
) -> Result<(), String> {
    let session = app.current().ok_or("Hush is locked: unlock it first.")?;
    new_passphrase_ok(&new)?;
    session.vault.change_passphrase(&current, &new, app.kdf).await.map_err(|e| match e {
        StorageError::Vault(VaultError::WrongPassphrase) => "That is not your current passphrase.".to_owned(),
        e => e.to_string(),
    })
}

/// Checks `passphrase` against the vault without changing anything.
pub async fn check_passphrase(passphrase: impl Into<Zeroizing<String>>) -> Result<(), String> {
    let passphrase = passphrase.into();
    let backend = storage::open_device().await.map_err(|e| e.to_string())?;
    storage::verify_passphrase(&backend, &passphrase).await.map_err(|e| e.to_string())
}

/// Erases the account from this device, unlocked or not. An unlocked session's vault is closed
/// first, so a task still running (a poll filing messages) cannot write after the wipe.
pub async fn delete_account(app: AppState) {
    let session = app.current();
    app.forget_session();
    let result = match session {
        Some(session) => session.vault.wipe().await,
        None => match storage::open_device().await {
            Ok(backend) => storage::erase(&backend).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => app.go(Screen::Welcome),
        Err(e) => app.notice.set(Some(e.to_string())),
    }
}
