//! What can go wrong on the command line, each as the sentence a person reads on stderr and the
//! exit code a script reads (listed in `hush --help`).

use std::fmt;
use std::path::PathBuf;

use crypto_core::network::anchors::AnchorsError;
use crypto_core::vault::VaultError;
use hush_client::relay::RelayUrlError;
use hush_client::storage::StorageError;

/// The exit codes, as `hush --help` lists them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done (send: the message is stored in the recipient's swarm)
  1  failed: the device's storage, the network, or an input was refused (the reason is on stderr)
  2  the command line is not one of the forms above
  3  the account could not be opened: there is none in DIR, or the passphrase is wrong
  4  not sent: the message failed its rounds or was refused (the engine's reason is on stderr)
  5  not confirmed in time (--timeout): what was not delivered stays in the outbox and is sent
     again by the next command that goes online (send, accept, inbox)";

/// Why a command did not do what was asked.
#[derive(Debug)]
pub enum Failure {
    /// The engine refused or failed; its `Display` is the sentence.
    Engine(hush_client::Error),
    /// There is no vault in the data folder.
    NoAccount(PathBuf),
    /// `create` in a folder that already holds an account.
    AccountExists(PathBuf),
    /// No `HUSH_PASSPHRASE` and no terminal to ask on.
    NoPassphrase(String),
    /// The passphrase typed twice differed.
    PassphrasesDiffer,
    /// An empty display name.
    EmptyName,
    /// The recovery phrase could not be read from stdin.
    NoPhrase(String),
    /// A relay URL that would not work.
    RelayUrl(RelayUrlError),
    /// The data folder or a file in it could not be read or written.
    Folder { what: String, error: std::io::Error },
    /// The relay for `--network` could not be started.
    LocalRelay(String),
    /// The file of `--anchors` is not a list of trusted nodes.
    Anchors { file: PathBuf, error: AnchorsError },
    /// A relay, and no trusted nodes to check its node list against.
    NoAnchors { relay: String },
    /// The relay's node list is not the network's (the engine's sentence).
    RelayRefused(String),
    /// The network could not be reached to check for messages.
    NotChecked(String),
    /// The message failed its rounds or was refused.
    NotSent { problem: String, kept: bool },
    /// The deadline passed first.
    TimedOut { seconds: u64, what: &'static str },
    /// The contact has no profile picture.
    NoPicture,
}

impl Failure {
    /// The process's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::NoAccount(_) => 3,
            Failure::Engine(e) if opens_nothing(e) => 3,
            Failure::NotSent { .. } => 4,
            Failure::TimedOut { .. } => 5,
            _ => 1,
        }
    }
}

/// Whether the engine's error says the account could not be opened (wrong passphrase, no vault).
fn opens_nothing(e: &hush_client::Error) -> bool {
    matches!(e, hush_client::Error::Storage(StorageError::Vault(VaultError::WrongPassphrase) | StorageError::NoVault))
}

impl From<hush_client::Error> for Failure {
    fn from(e: hush_client::Error) -> Self {
        Failure::Engine(e)
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure::Engine(hush_client::Error::Storage(e))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Engine(e) => sentence(&e.to_string(), f),
            Failure::NoAccount(dir) => write!(
                f,
                "There is no Hush account in {}. Create one with `hush --data {} create --name NAME`, or restore \
                 one with `hush --data {} restore --name NAME`.",
                dir.display(),
                dir.display(),
                dir.display()
            ),
            Failure::AccountExists(dir) => write!(
                f,
                "An account already exists in {}. Nothing was changed; use another --data folder for another account.",
                dir.display()
            ),
            Failure::NoPassphrase(why) => {
                write!(f, "No passphrase: set HUSH_PASSPHRASE, or run hush in a terminal to be asked for it ({why}).")
            }
            Failure::PassphrasesDiffer => f.write_str("The two passphrases differ. Nothing was changed."),
            Failure::EmptyName => f.write_str("Give a display name with --name (others see it with your messages)."),
            Failure::NoPhrase(why) => write!(f, "The recovery phrase could not be read from stdin: {why}."),
            Failure::RelayUrl(e) => e.fmt(f),
            Failure::Folder { what, error } => write!(f, "Could not {what}: {error}."),
            Failure::LocalRelay(why) => write!(f, "The relay for the Session network could not start: {why}."),
            Failure::Anchors { file, error } => sentence(&format!("{}: {error}", file.display()), f),
            Failure::NoAnchors { relay } => write!(
                f,
                "Hush will not use the relay at {relay} without trusted service nodes to check its node list \
                 against: give them with --anchors FILE (the network's network.json, or the devnet.json of a \
                 local network), or use --network mainnet."
            ),
            Failure::RelayRefused(why) => sentence(why, f),
            Failure::NotChecked(why) => sentence(&format!("could not check for new messages: {why}"), f),
            Failure::NoPicture => f.write_str("They have no profile picture."),
            Failure::NotSent { problem, kept } => {
                sentence(&format!("not sent: {}", problem.trim_end_matches('.')), f)?;
                if *kept {
                    f.write_str(
                        " It stays in the outbox: the next command that goes online (send, accept, inbox) tries again.",
                    )
                } else {
                    f.write_str(" The network refused it, so it will not be sent again as it is.")
                }
            }
            Failure::TimedOut { seconds, what } => write!(
                f,
                "Not confirmed within {seconds} s: {what} stays in the outbox, and the next command that goes online \
                 (send, accept, inbox) tries again."
            ),
        }
    }
}

/// Writes `text` as a sentence, as the engine writes its own.
fn sentence(text: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(&hush_client::Sentence(text), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_read_as_sentences_with_their_exit_codes() {
        let wrong = Failure::from(StorageError::Vault(VaultError::WrongPassphrase));
        assert_eq!(wrong.to_string(), "That passphrase does not unlock this account.");
        assert_eq!(wrong.exit_code(), 3);
        let locked = Failure::Engine(hush_client::Error::Locked);
        assert_eq!((locked.to_string().as_str(), locked.exit_code()), ("Hush is locked.", 1));
        let failed = Failure::NotSent { problem: "the swarm could not be reached".into(), kept: true };
        assert!(failed.to_string().starts_with("Not sent: the swarm could not be reached. It stays"));
        assert_eq!(failed.exit_code(), 4);
        assert_eq!(Failure::TimedOut { seconds: 9, what: "the message" }.exit_code(), 5);
        let refused =
            Failure::Engine(hush_client::Error::RelayRefused(crypto_core::network::anchors::Refusal::Unconfirmed {
                answered: 0,
                asked: 3,
            }));
        assert!(refused.to_string().starts_with("The network could not confirm this relay's node list"));
        assert_eq!(refused.exit_code(), 1);
        let none = Failure::NoAnchors { relay: "http://127.0.0.1:8080".into() };
        assert!(none.to_string().contains("--anchors FILE"), "{none}");
        assert_eq!(none.exit_code(), 1);
    }
}
