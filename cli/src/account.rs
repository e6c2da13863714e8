//! The account in a data folder: its vault file, the passphrase, creating and restoring, and
//! which relay or Session network it uses.

use std::io::{IsTerminal, Read as _};
use std::path::{Path, PathBuf};

use crypto_core::identity::Seed;
use crypto_core::mnemonic;
use crypto_core::network::anchors::Anchors;
use futures::channel::mpsc;
use hush_client::Engine;
use hush_client::attachments::FileServer;
use hush_client::platform::native::SqliteBackend;
use hush_client::storage::{Vault, stores};
use hush_node::networks::SessionNetwork;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::error::Failure;
use crate::platform::{self, Cli};

/// The relay used when none was ever given.
pub const DEFAULT_RELAY: &str = "http://127.0.0.1:8080";
/// The vault's file in the data folder.
const VAULT_FILE: &str = "vault.sqlite";
/// The file that names the Session network chosen with `--network` (absent: a relay URL, kept in
/// the sealed account record). It holds only `mainnet` or `testnet`.
const NETWORK_FILE: &str = "network";

/// The vault record (account store, sealed) with the trust anchors given with `--anchors`.
const ANCHORS_ID: &[u8] = b"cli/anchors";
/// The vault record with the file server named by the `--anchors` file (a devnet's).
const FILE_SERVER_ID: &[u8] = b"cli/file-server";

/// How the engine reaches the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Through the relay at this URL.
    Relay(String),
    /// Through a relay this process runs on loopback with the network's seeds.
    Network(SessionNetwork),
}

/// What the command line says about the route (`--relay`, `--network`), if anything.
pub type RouteChoice = Option<Route>;

/// An engine over the vault in `dir`, and the signals of its finished polls.
pub struct Opened {
    /// The engine.
    pub engine: Engine<Cli>,
    /// A signal after each poll of the engine's poll loop.
    pub polls: mpsc::UnboundedReceiver<()>,
    /// The data folder.
    pub dir: PathBuf,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn open_engine(dir: &Path) -> Result<Opened, Failure> {
    let backend = SqliteBackend::open(&dir.join(VAULT_FILE))?;
    let (world, polls) = platform::world();
    Ok(Opened { engine: Engine::new(world, backend), polls, dir: dir.to_owned() })
}

/// Opens the account in `dir` with the passphrase (from `HUSH_PASSPHRASE` or the terminal).
pub async fn unlock(dir: &Path) -> Result<Opened, Failure> {
    if !dir.join(VAULT_FILE).is_file() {
        return Err(Failure::NoAccount(dir.to_owned()));
    }
    let opened = open_engine(dir)?;
    if !opened.engine.has_account().await? {
        return Err(Failure::NoAccount(dir.to_owned()));
    }
    let passphrase = passphrase(false)?;
    opened.engine.unlock(&passphrase).await?;
    Ok(opened)
}

/// The passphrase: `HUSH_PASSPHRASE`, else asked on the terminal without echo (twice when
/// `confirm`). It is never printed.
fn passphrase(confirm: bool) -> Result<Zeroizing<String>, Failure> {
    if let Some(value) = std::env::var_os("HUSH_PASSPHRASE") {
        return value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| Failure::NoPassphrase("HUSH_PASSPHRASE is not valid UTF-8".into()));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| Failure::NoPassphrase(e.to_string()))
    };
    let first = ask("Passphrase: ")?;
    if confirm && *ask("Passphrase again: ")? != *first {
        return Err(Failure::PassphrasesDiffer);
    }
    Ok(first)
}

fn make_folder(dir: &Path) -> Result<(), Failure> {
    let folder = |e| Failure::Folder { what: format!("make the data folder {}", dir.display()), error: e };
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(folder)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(folder)?;
        }
    }
    Ok(())
}

fn display_name(name: &str) -> Result<&str, Failure> {
    let name = name.trim();
    if name.is_empty() { Err(Failure::EmptyName) } else { Ok(name) }
}

/// Checks a `--relay` before anything is written.
fn check_route(choice: &RouteChoice) -> Result<(), Failure> {
    if let Some(Route::Relay(url)) = choice {
        hush_client::relay::relay_base(url, false).map_err(Failure::RelayUrl)?;
    }
    Ok(())
}

/// `create`: a new account with a new random seed. Returns the opened engine; the recovery
/// phrase is shown on stderr by the caller.
pub async fn create(dir: &Path, name: &str, choice: &RouteChoice) -> Result<Opened, Failure> {
    let name = display_name(name)?;
    check_route(choice)?;
    if dir.join(VAULT_FILE).is_file() {
        let opened = open_engine(dir)?;
        if opened.engine.has_account().await? {
            return Err(Failure::AccountExists(dir.to_owned()));
        }
    }
    let passphrase = passphrase(true)?;
    make_folder(dir)?;
    let opened = open_engine(dir)?;
    opened.engine.create(&Seed::generate(&mut OsRng), name, &passphrase).await?;
    keep_route(&opened, choice, true).await?;
    Ok(opened)
}

/// `restore`: the account of the recovery phrase read from stdin. In a folder that already holds
/// that account, the phrase opens it and the passphrase replaces the forgotten one (history kept).
pub async fn restore(dir: &Path, name: &str, choice: &RouteChoice) -> Result<Opened, Failure> {
    let name = display_name(name)?.to_owned();
    check_route(choice)?;
    let phrase = read_phrase()?;
    let seed = mnemonic::decode_seed(&phrase).map_err(|e| Failure::Engine(hush_client::Error::Phrase(e)))?;
    let existing = dir.join(VAULT_FILE).is_file() && open_engine(dir)?.engine.has_account().await?;
    let passphrase = passphrase(true)?;
    make_folder(dir)?;
    let opened = open_engine(dir)?;
    if existing {
        opened.engine.recover_with_phrase(&phrase, &passphrase).await?;
        opened.engine.update_account(move |a| a.display_name = name).await?;
    } else {
        opened.engine.create(&seed, &name, &passphrase).await?;
    }
    keep_route(&opened, choice, !existing).await?;
    Ok(opened)
}

/// The recovery phrase from stdin (asked without echo when stdin is a terminal).
fn read_phrase() -> Result<Zeroizing<String>, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password("Recovery phrase (13 words): ")
            .map(Zeroizing::new)
            .map_err(|e| Failure::NoPhrase(e.to_string()));
    }
    let mut text = Zeroizing::new(String::new());
    stdin.lock().read_to_string(&mut text).map_err(|e| Failure::NoPhrase(e.to_string()))?;
    if text.trim().is_empty() {
        return Err(Failure::NoPhrase("stdin was empty".into()));
    }
    Ok(text)
}

/// Keeps the route chosen on the command line for later commands: a relay URL in the sealed
/// account record, a network's name in the `network` file. With no choice, a new account gets
/// the default relay.
async fn keep_route(opened: &Opened, choice: &RouteChoice, new: bool) -> Result<(), Failure> {
    let file = opened.dir.join(NETWORK_FILE);
    let folder = |e| Failure::Folder { what: format!("write {}", file.display()), error: e };
    match choice {
        Some(Route::Network(network)) => std::fs::write(&file, format!("{network}\n")).map_err(folder)?,
        Some(Route::Relay(url)) => {
            remove_if_there(&file).map_err(folder)?;
            opened.engine.set_relay(url).await?;
        }
        None if new => {
            remove_if_there(&file).map_err(folder)?;
            opened.engine.set_relay(DEFAULT_RELAY).await?;
        }
        None => {}
    }
    Ok(())
}

fn remove_if_there(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The route an unlocked account uses: the command line's choice (kept for later commands), else
/// the one kept, else the default relay.
pub async fn route(opened: &Opened, choice: &RouteChoice) -> Result<Route, Failure> {
    check_route(choice)?;
    keep_route(opened, choice, false).await?;
    if let Some(route) = choice {
        return Ok(route.clone());
    }
    let file = opened.dir.join(NETWORK_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let network = text.trim().parse::<SessionNetwork>().map_err(|e| Failure::Folder {
                what: format!("read {}", file.display()),
                error: std::io::Error::other(e.to_string()),
            })?;
            return Ok(Route::Network(network));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::Folder { what: format!("read {}", file.display()), error: e }),
    }
    let kept = opened.engine.account().map(|a| a.relay_url.clone()).unwrap_or_default();
    Ok(Route::Relay(if kept.is_empty() { DEFAULT_RELAY.to_owned() } else { kept }))
}

/// Reads the trust anchors of `--anchors`: a `network.json`, or a devnet's `devnet.json`; and the
/// file server it names (`file_server`: `url` and `pubkey_ed25519`), if any.
pub fn read_anchors(file: &Path) -> Result<(Anchors, Option<FileServer>), Failure> {
    let bytes =
        std::fs::read(file).map_err(|e| Failure::Folder { what: format!("read {}", file.display()), error: e })?;
    let anchors = Anchors::parse(&bytes).map_err(|e| Failure::Anchors { file: file.to_owned(), error: e })?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let files = &doc["file_server"];
    let server = match (files["url"].as_str(), files["pubkey_ed25519"].as_str()) {
        (Some(url), Some(key)) => FileServer::parse(url, key),
        _ => None,
    };
    Ok((anchors, server))
}

/// A second handle on the account's vault, opened with its seed (no passphrase derivation), for
/// the records the engine has no call for: the outbox's list, what `inbox` has printed, the
/// anchors of `--anchors`.
pub async fn records(engine: &Engine<Cli>) -> Result<Vault<&SqliteBackend>, Failure> {
    let phrase = engine.recovery_phrase().ok_or(Failure::Engine(hush_client::Error::Locked))?;
    let seed = mnemonic::decode_seed(phrase.as_str()).map_err(|e| Failure::Engine(hush_client::Error::Phrase(e)))?;
    Ok(Vault::recover(engine.backend(), &seed).await?)
}

/// Keeps the anchors given with `--anchors` (sealed in the vault) for the next commands, with the
/// file server the same file names (a devnet's), if any.
pub async fn keep_anchors(opened: &Opened, anchors: Option<&(Anchors, Option<FileServer>)>) -> Result<(), Failure> {
    let Some((anchors, files)) = anchors else { return Ok(()) };
    let vault = records(&opened.engine).await?;
    vault.write(stores::ACCOUNT, ANCHORS_ID, &anchors.to_json()).await?;
    match files {
        Some(f) => vault.write(stores::ACCOUNT, FILE_SERVER_ID, &(f.url.clone(), hex::encode(f.ed25519))).await?,
        None => vault.delete(stores::ACCOUNT, FILE_SERVER_ID).await?,
    }
    Ok(())
}

/// The file server kept from `--anchors` (none: Session's).
pub async fn file_server(opened: &Opened) -> Result<Option<FileServer>, Failure> {
    let kept: Option<(String, String)> =
        records(&opened.engine).await?.read(stores::ACCOUNT, FILE_SERVER_ID).await?.found();
    Ok(kept.and_then(|(url, key)| FileServer::parse(&url, &key)))
}

/// The anchors to check `route`'s node list against: a Session network's own, else those kept
/// from `--anchors`. A relay without any is refused before anything is sent.
pub async fn anchors_for(opened: &Opened, route: &Route) -> Result<Anchors, Failure> {
    let url = match route {
        Route::Network(SessionNetwork::Mainnet) => return Ok(Anchors::mainnet()),
        Route::Network(SessionNetwork::Testnet) => return Ok(Anchors::testnet()),
        Route::Relay(url) => url,
    };
    let kept: Option<serde_json::Value> =
        records(&opened.engine).await?.read(stores::ACCOUNT, ANCHORS_ID).await?.found();
    kept.and_then(|v| Anchors::parse(v.to_string().as_bytes()).ok())
        .ok_or_else(|| Failure::NoAnchors { relay: url.clone() })
}
