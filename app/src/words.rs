//! The engine's typed answers in the catalogue's words: its errors (and the storage, recovery
//! phrase, relay URL and Session ID errors inside them), what a message shows in a list, a
//! notification or a quote, and what a notification says. The engine keeps an English `Display`
//! for the command line; the app shows these instead. A variant the engine adds later is shown by
//! its `Display` until the catalogue has words for it.

use crypto_core::community::UrlError;
use crypto_core::identity::SessionIdError;
use crypto_core::mnemonic::{PhraseError, SEED_WORDS};
use crypto_core::network::Failure;
use crypto_core::network::anchors::{ANSWERS_NEEDED, Refusal};
use crypto_core::vault::VaultError;
use hush_client::conversations::{AttachmentKind, Conversation, Disappearing, Shown, Unsupported};
use hush_client::relay::RelayUrlError;
use hush_client::storage::StorageError;
use hush_client::{Error, Notification, NotificationBody};

use crate::i18n::{Text, digits, t, tf};
use hush_client::megabytes;

/// What the network status's last problem says (`None`: nothing went wrong): the relay's
/// refusal as a sentence, anything else as a clause, as the engine's English has them.
pub fn status_problem(status: &hush_client::network::NetStatus) -> Option<String> {
    status.failure.as_ref().map(|f| match f {
        Failure::NodeListRefused(r) => error_text(&Error::RelayRefused(*r)),
        other => failure_text(other),
    })
}

/// What went wrong, as a sentence for the person.
pub fn error_text(e: &Error) -> String {
    let text = |text: Text| t(text).to_owned();
    let with_problem = |text: Text, problem: &StorageError| tf(text, &[("problem", &storage_text(problem))]);
    match e {
        Error::Locked => text(Text::ErrorLocked),
        Error::Storage(e) => sentence(&storage_text(e)),
        Error::NotKept(e) => with_problem(Text::ErrorNotKept, e),
        Error::MessageNotKept(e) => with_problem(Text::ErrorMessageNotKept, e),
        Error::ConversationsUnreadable(e) => with_problem(Text::ErrorConversationsUnreadable, e),
        Error::MessagesUnreadable(e) => with_problem(Text::ErrorMessagesUnreadable, e),
        Error::AccountMissing => text(Text::ErrorAccountMissing),
        Error::AccountDamaged => text(Text::ErrorAccountDamaged),
        Error::Encryption => text(Text::ErrorEncryption),
        Error::EmptyMessage => text(Text::ErrorEmptyMessage),
        Error::TooLong { max } => tf(Text::ErrorTooLong, &[("max", &digits(*max as u64))]),
        Error::MessageGone => text(Text::ErrorMessageGone),
        Error::NotYours => text(Text::ErrorNotYours),
        Error::NotAnEmoji => text(Text::ErrorNotAnEmoji),
        Error::NotForNoteToSelf => text(Text::ErrorNotForNoteToSelf),
        Error::NotATimer => text(Text::ErrorNotATimer),
        Error::Phrase(e) => sentence(&phrase_text(*e)),
        Error::AnotherAccount => text(Text::ErrorAnotherAccount),
        Error::WrongCurrentPassphrase => text(Text::ErrorWrongCurrentPassphrase),
        Error::PassphraseTooShort => text(Text::PassphraseTooShort),
        Error::RelayUrl(e) => relay_url_text(*e),
        Error::Network(e) => sentence(&failure_text(e)),
        Error::RelayRefused(r) => sentence(&refusal_text(*r)),
        Error::TooManyFiles { max } => tf(Text::ErrorTooManyFiles, &[("max", &digits(*max as u64))]),
        Error::FileTooLarge { size, max } => {
            tf(Text::ErrorFileTooLarge, &[("size", &megabytes(*size)), ("max", &megabytes(*max))])
        }
        Error::FileExpired => text(Text::ErrorFileExpired),
        Error::FileDamaged => text(Text::ErrorFileDamaged),
        Error::FileRefused { status } => tf(Text::ErrorFileRefused, &[("status", &status.to_string())]),
        Error::FileNotKept(e) => with_problem(Text::ErrorFileNotKept, e),
        Error::CommunityUrl(e) => community_url_text(*e),
        Error::NotJoined => text(Text::ErrorNotJoined),
        Error::NotBlinded => text(Text::ErrorNotBlinded),
        Error::CommunityForbidden => text(Text::ErrorCommunityForbidden),
        Error::CommunityNotFound => text(Text::ErrorCommunityNotFound),
        Error::CommunityRateLimited => text(Text::ErrorCommunityRateLimited),
        Error::TextOnlyThroughCommunity => text(Text::ErrorTextOnlyThroughCommunity),
        Error::CommunityRefused { status } => tf(Text::ErrorCommunityRefused, &[("status", &status.to_string())]),
        other => other.to_string(),
    }
}

/// Why a community URL does not read (crypto-core's `UrlError`), as a sentence.
fn community_url_text(e: UrlError) -> String {
    t(match e {
        UrlError::Scheme => Text::ErrorCommunityUrlScheme,
        UrlError::Host => Text::ErrorCommunityUrlHost,
        UrlError::Port => Text::ErrorCommunityUrlPort,
        UrlError::MissingRoom => Text::ErrorCommunityUrlMissingRoom,
        UrlError::Room => Text::ErrorCommunityUrlRoom,
        UrlError::MissingKey => Text::ErrorCommunityUrlMissingKey,
        UrlError::Key => Text::ErrorCommunityUrlKey,
        _ => return sentence(&e.to_string()),
    })
    .to_owned()
}

/// `text` as a sentence (its first letter capitalised, closed with a full stop), as the engine
/// makes its errors' sentences.
fn sentence(text: &str) -> String {
    hush_client::Sentence(text).to_string()
}

/// The name of the error IndexedDB gives when this site's storage quota is used up.
const QUOTA_EXCEEDED: &str = "QuotaExceededError";

/// Why the device's storage failed, as a clause ("there is no account on this device").
pub fn storage_text(e: &StorageError) -> String {
    match e {
        // The browser's quota for this site is used up: say what to do.
        StorageError::Backend { name, .. } if name == QUOTA_EXCEEDED => t(Text::StorageFull).to_owned(),
        StorageError::Backend { name, message } => {
            tf(Text::StorageBackend, &[("name", name.as_str()), ("message", message.as_str())])
        }
        StorageError::NoVault => t(Text::StorageNoVault).to_owned(),
        StorageError::VaultExists => t(Text::StorageVaultExists).to_owned(),
        StorageError::Vault(e) => vault_text(e),
        StorageError::TooNew { found } => tf(Text::StorageTooNew, &[("found", &digits(u64::from(*found)))]),
        StorageError::Closed => t(Text::StorageClosed).to_owned(),
        StorageError::NoRecoveryKey => t(Text::StorageNoRecoveryKey).to_owned(),
        other => other.to_string(),
    }
}

/// Why the vault refused, as a clause. Which stored value is damaged, and the key-derivation
/// parameter's name, stay as the engine names them: they are for whoever looks into the damage.
fn vault_text(e: &VaultError) -> String {
    match e {
        VaultError::WrongPassphrase => t(Text::VaultWrongPassphrase).to_owned(),
        VaultError::Malformed(what) => tf(Text::VaultMalformed, &[("what", what)]),
        VaultError::Corrupt => t(Text::VaultCorrupt).to_owned(),
        VaultError::BadParameters => t(Text::VaultBadParameters).to_owned(),
        VaultError::ParametersTooCostly { parameter, value, max } => tf(
            Text::VaultTooCostly,
            &[("parameter", &parameter.to_string()), ("value", &value.to_string()), ("max", &max.to_string())],
        ),
        VaultError::WrongPhrase => t(Text::VaultWrongPhrase).to_owned(),
        VaultError::BadPadding => t(Text::VaultBadPadding).to_owned(),
        other => other.to_string(),
    }
}

/// Why a recovery phrase does not decode, as a clause (the engine's wording; the restore form
/// has its own, `phrase_error.*`).
fn phrase_text(e: PhraseError) -> String {
    match e {
        PhraseError::BadChecksum => t(Text::PhraseProblemChecksum).to_owned(),
        PhraseError::InvalidLength { bytes } => tf(Text::PhraseProblemLength, &[("bytes", &digits(bytes as u64))]),
        PhraseError::InvalidTriple { word } => tf(
            Text::PhraseProblemTriple,
            &[("first", &digits(word as u64)), ("last", &digits(word.saturating_add(2) as u64))],
        ),
        PhraseError::UnknownWord { position } => {
            tf(Text::PhraseProblemUnknownWord, &[("position", &digits(position as u64))])
        }
        PhraseError::WrongWordCount { found: 0, .. } => t(Text::PhraseProblemNoWords).to_owned(),
        PhraseError::WrongWordCount { found: 12, expected: SEED_WORDS } => t(Text::PhraseProblemTwelveWords).to_owned(),
        PhraseError::WrongWordCount { found, expected } => {
            tf(Text::PhraseProblemWordCount, &[("expected", expected), ("found", &digits(found as u64))])
        }
        other => other.to_string(),
    }
}

/// Why a relay URL was refused, as a sentence.
pub fn relay_url_text(e: RelayUrlError) -> String {
    let text = match e {
        RelayUrlError::Scheme => Text::RelayUrlScheme,
        RelayUrlError::Host => Text::RelayUrlHost,
        RelayUrlError::Port => Text::RelayUrlPort,
        RelayUrlError::Credentials => Text::RelayUrlCredentials,
        RelayUrlError::Extra => Text::RelayUrlExtra,
        RelayUrlError::Spaces => Text::RelayUrlSpaces,
        RelayUrlError::Insecure => Text::RelayUrlInsecure,
        other => return other.to_string(),
    };
    t(text).to_owned()
}

/// Why the network could not be used, as a clause. A service node's own answer, and why no path
/// could be built, stay as they came.
pub fn failure_text(e: &Failure) -> String {
    let text = |text: Text| t(text).to_owned();
    match e {
        Failure::Offline => text(Text::FailureOffline),
        Failure::RateLimited => text(Text::FailureRateLimited),
        Failure::Relay(status) => tf(Text::FailureRelay, &[("status", &status.to_string())]),
        Failure::ClockOutOfSync => text(Text::FailureClock),
        Failure::ServerError => text(Text::FailureServerError),
        Failure::TooLarge => text(Text::FailureTooLarge),
        Failure::Rejected { status, body } => {
            tf(Text::FailureRejected, &[("status", &status.to_string()), ("body", body.as_str())])
        }
        Failure::NoPath(e) => tf(Text::FailureNoPath, &[("problem", &e.to_string())]),
        Failure::Unreachable => text(Text::FailureUnreachable),
        Failure::TimedOut => text(Text::FailureTimedOut),
        Failure::NodeListRefused(r) => refusal_text(*r),
        other => other.to_string(),
    }
}

/// Why a relay's node list was refused, as a clause.
pub fn refusal_text(r: Refusal) -> String {
    let n = |n: usize| digits(n as u64);
    match r {
        Refusal::NoAnchors => t(Text::RefusalNoAnchors).to_owned(),
        Refusal::Unconfirmed { answered, asked } => tf(
            Text::RefusalUnconfirmed,
            &[("answered", &n(answered)), ("asked", &n(asked)), ("needed", &n(ANSWERS_NEEDED))],
        ),
        Refusal::ForgedKeys { listed, forged } => {
            tf(Text::RefusalForgedKeys, &[("forged", &n(forged)), ("listed", &n(listed))])
        }
        Refusal::Mismatch { listed, confirmed, network } => {
            tf(Text::RefusalMismatch, &[("confirmed", &n(confirmed)), ("listed", &n(listed)), ("network", &n(network))])
        }
        other => other.to_string(),
    }
}

/// Why a text is not a Session ID, as a clause.
pub fn session_id_text(e: SessionIdError) -> String {
    match e {
        SessionIdError::Empty => t(Text::SessionIdEmpty).to_owned(),
        SessionIdError::NotHex { position } => tf(Text::SessionIdNotHex, &[("position", &digits(position as u64))]),
        SessionIdError::UnknownPrefix { prefix } => {
            tf(Text::SessionIdUnknownPrefix, &[("prefix", &format!("{prefix:02x}"))])
        }
        SessionIdError::WrongLength { found } => tf(Text::SessionIdWrongLength, &[("found", &digits(found as u64))]),
        other => other.to_string(),
    }
}

/// What a message shows: its text, or what it is instead.
pub fn shown_text(shown: &Shown) -> String {
    match shown {
        Shown::Text(text) => text.clone(),
        Shown::Deleted => t(Text::MessageDeleted).to_owned(),
        Shown::Disappearing(None) => t(Text::NoticeOff).to_owned(),
        Shown::Disappearing(Some(Disappearing::AfterRead(_))) => t(Text::NoticeAfterRead).to_owned(),
        Shown::Disappearing(Some(Disappearing::AfterSend(_))) => t(Text::NoticeAfterSend).to_owned(),
        Shown::Unsupported(u) => unsupported_text(*u).to_owned(),
        Shown::Invitation(name) => tf(Text::ShownInvitation, &[("name", name)]),
        Shown::Attachments { kind, count } => t(match (kind, count) {
            (AttachmentKind::Image, 1) => Text::ShownPhoto,
            (AttachmentKind::Image, _) => Text::ShownPhotos,
            (AttachmentKind::Video, _) => Text::ShownVideo,
            (AttachmentKind::Voice, _) => Text::ShownVoice,
            (AttachmentKind::Audio, _) => Text::ShownAudio,
            (AttachmentKind::File, 1) => Text::ShownFile,
            (AttachmentKind::File, _) => Text::ShownFiles,
        })
        .to_owned(),
        other => other.to_string(),
    }
}

/// What a conversation's row shows of its last message (empty: no message yet).
pub fn preview_text(c: &Conversation) -> String {
    match &c.preview_shown {
        Some(shown) => shown_text(shown),
        None => c.preview.clone(),
    }
}

/// What a message Hush cannot show yet says instead (the engine's `Unsupported::describe`).
pub fn unsupported_text(unsupported: Unsupported) -> &'static str {
    t(match unsupported {
        Unsupported::Photo => Text::MessagePhoto,
        Unsupported::Video => Text::MessageVideo,
        Unsupported::Voice => Text::MessageVoice,
        Unsupported::Audio => Text::MessageAudio,
        Unsupported::File => Text::MessageFile,
        Unsupported::CommunityInvitation => Text::MessageCommunity,
        Unsupported::Other => Text::MessageUnsupported,
    })
}

/// A notification's title and text.
pub fn notification_text(n: &Notification) -> (String, String) {
    let title = n.title.clone().unwrap_or_else(|| t(Text::NotificationTitle).to_owned());
    let body = match &n.body {
        NotificationBody::Message(shown) => shown_text(shown),
        NotificationBody::Request => t(Text::NotificationRequest).to_owned(),
        // `NewMessage`, and whatever the engine adds later: that a message arrived.
        _ => t(Text::NotificationNewMessage).to_owned(),
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_client::testing;

    /// Every error the engine can give today, in English, reads exactly as the engine's own
    /// sentence: the catalogue's English is the engine's, and no variant falls back to it.
    #[test]
    fn every_error_reads_as_the_engines_english() {
        let storage = [
            StorageError::Backend { name: "UnknownError".into(), message: "broken".into() },
            StorageError::NoVault,
            StorageError::VaultExists,
            StorageError::TooNew { found: 9 },
            StorageError::Closed,
            StorageError::NoRecoveryKey,
            StorageError::Vault(VaultError::WrongPassphrase),
            StorageError::Vault(VaultError::Malformed("the header")),
            StorageError::Vault(VaultError::Corrupt),
            StorageError::Vault(VaultError::BadParameters),
            StorageError::Vault(VaultError::ParametersTooCostly {
                parameter: crypto_core::vault::KdfParameter::Memory,
                value: 9,
                max: 8,
            }),
            StorageError::Vault(VaultError::WrongPhrase),
            StorageError::Vault(VaultError::BadPadding),
        ];
        let mut errors = testing::plain_errors();
        for s in &storage {
            errors.extend(testing::storage_errors(s));
        }
        errors.extend(
            [
                PhraseError::BadChecksum,
                PhraseError::InvalidLength { bytes: 5 },
                PhraseError::InvalidTriple { word: 4 },
                PhraseError::UnknownWord { position: 3 },
                PhraseError::WrongWordCount { found: 0, expected: SEED_WORDS },
                PhraseError::WrongWordCount { found: 12, expected: SEED_WORDS },
                PhraseError::WrongWordCount { found: 7, expected: SEED_WORDS },
            ]
            .map(Error::Phrase),
        );
        errors.extend(
            [
                RelayUrlError::Scheme,
                RelayUrlError::Host,
                RelayUrlError::Port,
                RelayUrlError::Credentials,
                RelayUrlError::Extra,
                RelayUrlError::Spaces,
                RelayUrlError::Insecure,
            ]
            .map(Error::RelayUrl),
        );
        errors.extend(testing::refusals().map(Error::RelayRefused));
        errors.extend(
            [
                UrlError::Scheme,
                UrlError::Host,
                UrlError::Port,
                UrlError::MissingRoom,
                UrlError::Room,
                UrlError::MissingKey,
                UrlError::Key,
            ]
            .map(Error::CommunityUrl),
        );
        errors.extend(testing::failures().into_iter().map(Error::Network));
        for e in &errors {
            assert_eq!(error_text(e), e.to_string(), "{e:?}");
        }
        for e in [
            SessionIdError::Empty,
            SessionIdError::NotHex { position: 7 },
            SessionIdError::UnknownPrefix { prefix: 0x0a },
            SessionIdError::WrongLength { found: 65 },
        ] {
            assert_eq!(session_id_text(e), e.to_string(), "{e:?}");
        }
    }

    /// A full storage says so, and how to free it, wherever a storage error is worded.
    #[test]
    fn a_full_storage_says_how_to_free_it() {
        let full = StorageError::Backend { name: "QuotaExceededError".into(), message: "quota".into() };
        assert_eq!(
            error_text(&Error::MessageNotKept(full.clone())),
            "Not sent: this device's storage refused the message (this device's storage for Hush is full; \
             delete conversations you no longer need (their pictures and files take the most room), then try \
             again)."
        );
        assert_eq!(
            error_text(&Error::Storage(full.clone())),
            "This device's storage for Hush is full; delete conversations you no longer need (their pictures \
             and files take the most room), then try again."
        );
        assert!(error_text(&Error::FileNotKept(full)).contains("storage for Hush is full"));
    }

    /// What a message shows reads in English as the engine's English.
    #[test]
    fn what_a_message_shows_reads_as_the_engines_english() {
        for shown in [
            Shown::Text("hi".into()),
            Shown::Deleted,
            Shown::Disappearing(None),
            Shown::Disappearing(Some(Disappearing::AfterRead(60))),
            Shown::Disappearing(Some(Disappearing::AfterSend(60))),
            Shown::Unsupported(Unsupported::Photo),
            Shown::Unsupported(Unsupported::Video),
            Shown::Unsupported(Unsupported::Voice),
            Shown::Unsupported(Unsupported::Audio),
            Shown::Unsupported(Unsupported::File),
            Shown::Unsupported(Unsupported::CommunityInvitation),
            Shown::Unsupported(Unsupported::Other),
            Shown::Invitation("Lobby".into()),
            Shown::Attachments { kind: AttachmentKind::Image, count: 1 },
            Shown::Attachments { kind: AttachmentKind::Image, count: 3 },
            Shown::Attachments { kind: AttachmentKind::Video, count: 1 },
            Shown::Attachments { kind: AttachmentKind::Voice, count: 1 },
            Shown::Attachments { kind: AttachmentKind::Audio, count: 1 },
            Shown::Attachments { kind: AttachmentKind::File, count: 1 },
            Shown::Attachments { kind: AttachmentKind::File, count: 2 },
        ] {
            assert_eq!(shown_text(&shown), shown.to_string(), "{shown:?}");
        }
        let n = |title: Option<&str>, body| Notification { title: title.map(str::to_owned), body };
        assert_eq!(
            notification_text(&n(None, NotificationBody::NewMessage)),
            ("Hush".to_owned(), "New message".to_owned())
        );
        assert_eq!(
            notification_text(&n(Some("Ann"), NotificationBody::Request)),
            ("Ann".to_owned(), "Message request".to_owned())
        );
        assert_eq!(
            notification_text(&n(Some("Ann"), NotificationBody::Message(Shown::Deleted))),
            ("Ann".to_owned(), "This message was deleted.".to_owned())
        );
    }
}
