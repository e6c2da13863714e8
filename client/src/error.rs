//! The engine's one error type. Its `Display` is the sentence a person reads next to what they
//! tried; front ends show it as it is.

use core::fmt;

use crypto_core::mnemonic::PhraseError;
use crypto_core::network::Failure;
use crypto_core::network::anchors::Refusal;

use crate::account::Strength;
use crate::relay::RelayUrlError;
use crate::storage::StorageError;

/// Why an engine call did not do what was asked. Nothing was changed unless the variant says so.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No account is unlocked.
    Locked,
    /// The device's storage failed (or refused: a wrong passphrase, a damaged vault).
    Storage(StorageError),
    /// A change was refused by the device's storage; nothing was changed.
    NotKept(StorageError),
    /// A message was not kept, so it was not sent (the person's text stays where it was).
    MessageNotKept(StorageError),
    /// The conversations could not be read.
    ConversationsUnreadable(StorageError),
    /// The messages of a conversation could not be read.
    MessagesUnreadable(StorageError),
    /// The account record is missing from an opened vault.
    AccountMissing,
    /// The account record does not parse.
    AccountDamaged,
    /// A message could not be encrypted.
    Encryption,
    /// There is nothing to send.
    EmptyMessage,
    /// The text is longer than a message may be.
    TooLong {
        /// The most characters a message may have.
        max: usize,
    },
    /// The message is no longer on this device.
    MessageGone,
    /// Only the one who sent a message can delete it for everyone.
    NotYours,
    /// A reaction must be one emoji.
    NotAnEmoji,
    /// The Note to Self's messages disappear only after they are sent.
    NotForNoteToSelf,
    /// A disappearing-messages timer out of range.
    NotATimer,
    /// The recovery phrase does not decode.
    Phrase(PhraseError),
    /// The recovery phrase is another account's.
    AnotherAccount,
    /// The current passphrase given is wrong.
    WrongCurrentPassphrase,
    /// A new passphrase is too short.
    PassphraseTooShort,
    /// The relay URL was refused.
    RelayUrl(RelayUrlError),
    /// The network could not be reached, or refused.
    Network(Failure),
    /// More files than one message may carry.
    TooManyFiles {
        /// The most files a message may carry.
        max: usize,
    },
    /// A file is larger than a message may carry.
    FileTooLarge {
        /// Its size in bytes.
        size: u64,
        /// The most a file may have.
        max: u64,
    },
    /// The file server no longer has the file.
    FileExpired,
    /// The file is not what was sent (or its pointer is unusable), so it is not shown.
    FileDamaged,
    /// The file server refused the request (its status).
    FileRefused {
        /// The HTTP status it answered.
        status: u16,
    },
    /// A downloaded file could not be kept on this device.
    FileNotKept(StorageError),
    /// The relay's node list is not the network's (or the network could not be asked to confirm
    /// it), so nothing is sent through this relay.
    RelayRefused(Refusal),
    /// A community URL that does not read (`http[s]://host[:port]/room?public_key=<64 hex>`).
    CommunityUrl(crypto_core::community::UrlError),
    /// The room is not joined on this device.
    NotJoined,
    /// A blinded DM needs a community member's blinded id (`15…`) met in a joined room.
    NotBlinded,
    /// The community server refused: this account may not do that in the room (not allowed to
    /// write, not a moderator, banned).
    CommunityForbidden,
    /// The community server does not have the room (or the message, or the member).
    CommunityNotFound,
    /// The community server asks to slow down (at most 5 posts in 16 seconds).
    CommunityRateLimited,
    /// Through a community's inbox only text goes (no files, reactions, deletions for everyone
    /// or disappearing settings).
    TextOnlyThroughCommunity,
    /// The community server refused (its status) or answered what does not read.
    CommunityRefused {
        /// The HTTP status it answered.
        status: u16,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Locked => f.write_str("Hush is locked."),
            Error::Storage(e) => sentence(&e.to_string(), f),
            Error::NotKept(e) => write!(f, "This device's storage refused the change ({e}). Nothing was changed."),
            Error::MessageNotKept(e) => write!(f, "Not sent: this device's storage refused the message ({e})."),
            Error::ConversationsUnreadable(e) => write!(f, "Your conversations could not be read: {e}."),
            Error::MessagesUnreadable(e) => write!(f, "The messages could not be read: {e}."),
            Error::AccountMissing => f.write_str("This device's account record is missing."),
            Error::AccountDamaged => f.write_str("This device's account record is damaged."),
            Error::Encryption => f.write_str("This message could not be encrypted, so it was not sent."),
            Error::EmptyMessage => f.write_str("There is nothing to send."),
            Error::TooLong { max } => write!(f, "A message can have at most {max} characters."),
            Error::MessageGone => f.write_str("This message is no longer on this device."),
            Error::NotYours => f.write_str("Only the one who sent a message can delete it for everyone."),
            Error::NotAnEmoji => f.write_str("A reaction is one emoji."),
            Error::NotForNoteToSelf => f.write_str("In Note to Self, messages can disappear only after they are sent."),
            Error::NotATimer => f.write_str("Messages can disappear after at most 30 days."),
            Error::Phrase(e) => sentence(&e.to_string(), f),
            Error::AnotherAccount => f.write_str(
                "This recovery phrase belongs to another account, not the one on this device. Nothing was changed.",
            ),
            Error::WrongCurrentPassphrase => f.write_str("That is not your current passphrase."),
            Error::PassphraseTooShort => f.write_str(Strength::TooShort.hint()),
            Error::RelayUrl(e) => e.fmt(f),
            Error::Network(e) => sentence(&e.to_string(), f),
            Error::RelayRefused(r) => sentence(&r.to_string(), f),
            Error::FileTooLarge { size, max } => write!(
                f,
                "This file is {} MB; a file can be at most {} MB. Nothing was sent.",
                megabytes(*size),
                megabytes(*max)
            ),
            Error::TooManyFiles { max } => write!(f, "A message can carry at most {max} files."),
            Error::FileExpired => f.write_str("This file is no longer on the file server."),
            Error::FileDamaged => f.write_str("This file is damaged: it is not what was sent, so it is not shown."),
            Error::FileRefused { status } => write!(f, "The file server refused (HTTP {status})."),
            Error::FileNotKept(e) => write!(f, "The file could not be kept on this device ({e})."),
            Error::CommunityUrl(e) => sentence(&e.to_string(), f),
            Error::NotJoined => f.write_str("This community is not joined on this device."),
            Error::NotBlinded => f.write_str("Direct messages through a community go to members met in a joined room."),
            Error::CommunityForbidden => f.write_str("The community does not allow you to do that."),
            Error::CommunityNotFound => f.write_str("The community server does not have it (any more)."),
            Error::CommunityRateLimited => {
                f.write_str("The community asks you to slow down: wait a few seconds and try again.")
            }
            Error::TextOnlyThroughCommunity => {
                f.write_str("Messages through a community's inbox can only be text for now.")
            }
            Error::CommunityRefused { status } => write!(f, "The community server refused (HTTP {status})."),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The error for a failure of the network client: a refused relay is its own error.
    pub fn network(failure: Failure) -> Error {
        match failure {
            Failure::NodeListRefused(r) => Error::RelayRefused(r),
            f => Error::Network(f),
        }
    }
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        Error::Storage(e)
    }
}

/// `text` as a sentence: its first letter capitalised, ending with a full stop unless it ends with
/// punctuation already. Front ends use it for their own messages too, so every message a person
/// reads has one form.
#[derive(Clone, Copy, Debug)]
pub struct Sentence<'a>(pub &'a str);

impl fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.trim();
        let mut chars = text.chars();
        if let Some(first) = chars.next() {
            for c in first.to_uppercase() {
                fmt::Write::write_char(f, c)?;
            }
            f.write_str(chars.as_str())?;
            // Closed already, or by a closing parenthesis after its own full stop ("(… ended.)");
            // "(HTTP 502)" still takes one.
            let closed = |t: &str| t.ends_with(['.', '!', '?', '…']);
            if !closed(text) && !text.strip_suffix(')').is_some_and(closed) {
                f.write_str(".")?;
            }
        }
        Ok(())
    }
}

/// Bytes in megabytes (10⁶), with one decimal unless whole.
pub fn megabytes(bytes: u64) -> String {
    let tenths = bytes.div_ceil(100_000);
    if tenths.is_multiple_of(10) { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

fn sentence(text: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(&Sentence(text), f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::RelayUrlError;

    #[test]
    fn every_error_a_person_reads_is_a_sentence() {
        let mut errors = crate::testing::plain_errors();
        errors.extend(crate::testing::storage_errors(&StorageError::Closed));
        errors.push(Error::RelayUrl(RelayUrlError::Scheme));
        errors.extend(crate::testing::failures().into_iter().map(Error::Network));
        errors.extend(crate::testing::refusals().map(Error::RelayRefused));
        for e in errors {
            let text = e.to_string();
            assert!(text.chars().next().is_some_and(char::is_uppercase), "{text:?}");
            assert!(text.ends_with('.'), "{text:?}");
            assert!(!text.contains(".."), "{text:?}");
        }
        assert_eq!(Error::TooLong { max: 2_000 }.to_string(), "A message can have at most 2000 characters.");
    }

    /// Every error reads as a sentence, whichever layer it came from, so no front end has to
    /// make one of it.
    #[test]
    fn storage_and_account_record_errors_read_as_sentences() {
        assert_eq!(Error::Storage(StorageError::NoVault).to_string(), "There is no account on this device.");
        assert_eq!(
            Error::Storage(StorageError::Vault(crypto_core::vault::VaultError::WrongPassphrase)).to_string(),
            "That passphrase does not unlock this account."
        );
        assert_eq!(Error::AccountMissing.to_string(), "This device's account record is missing.");
        assert_eq!(Error::AccountDamaged.to_string(), "This device's account record is damaged.");
    }

    #[test]
    fn sentences_are_capitalised_and_closed() {
        struct S(&'static str);
        impl fmt::Display for S {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                sentence(self.0, f)
            }
        }
        assert_eq!(S("offline").to_string(), "Offline.");
        assert_eq!(S("éclair").to_string(), "Éclair.");
        assert_eq!(S("").to_string(), "");
        assert_eq!(S("Done.").to_string(), "Done.");
    }

    #[test]
    fn a_refused_relay_is_its_own_error_and_says_what_happened() {
        let refusal = Refusal::Mismatch { listed: 6, confirmed: 0, network: 12 };
        let e = Error::network(Failure::NodeListRefused(refusal));
        assert_eq!(e, Error::RelayRefused(refusal));
        assert_eq!(
            e.to_string(),
            "This relay's node list does not match the network's: the network confirms 0 of the 6 service nodes \
             the relay lists, and has 12. Hush will not use this relay."
        );
        assert_eq!(Error::network(Failure::Offline), Error::Network(Failure::Offline));
    }

    #[test]
    fn storage_errors_convert() {
        let e: Error = StorageError::VaultExists.into();
        assert_eq!(e, Error::Storage(StorageError::VaultExists));
    }
}
