//! Config messages: how Session keeps an account's profile, contacts, conversation state and group
//! list (and a group's info and members) in encrypted, mergeable messages in a swarm
//! (protocol-config-groups §1–§2).
//!
//! - [`data`]: the data dict (`&`) with its scalars, sets and dicts, diffs, pruning, and how a diff
//!   is applied in a merge.
//! - [`message`]: the config message itself — [`ConfigMessage`] as read, [`MutableConfigMessage`]
//!   being edited (`increment` and the lag window), signatures, and [`merge`] of concurrent
//!   versions exactly as libsession does it.
//! - [`pipeline`]: the bytes stored in the swarm — padding, encryption with the per-type key
//!   ([`ConfigKey`]), zstd on read, multipart messages ([`Multipart`]) and the push and read
//!   pipelines.
//! - [`wrap`]: the protobuf wrapping of user configs (a deterministic sealed box to oneself).
//! - [`user`]: the four user configs typed (§3) — UserProfile, Contacts, ConvoInfoVolatile,
//!   UserGroups — and [`UserConfig`], one whole config: merge in, edit, push, confirm.

pub mod data;
pub mod message;
pub mod pipeline;
pub mod user;
pub mod wrap;

use core::fmt;

pub use data::{DataDict, DataValue, Diff, DiffValue, Scalar};
pub use message::{ConfigMessage, LAG, Merged, MessageHash, MutableConfigMessage, Signer, merge, message_hash};
pub use pipeline::{ConfigKey, Multipart, Part, Plaintext, Read, ReadError};
pub use user::{Push, Received, Retrieved, Saved, UserConfig, UserConfigError};

use crate::bencode::BtError;
use crate::seal::OpenError;

/// The config types: each has its namespace, its encryption domain and (user configs) its
/// protobuf kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ConfigKind {
    /// The account's own profile (namespace 2).
    UserProfile,
    /// Contacts (namespace 3).
    Contacts,
    /// Last-read state and unread marks (namespace 4).
    ConvoInfoVolatile,
    /// Groups and communities the account is in (namespace 5).
    UserGroups,
    /// A group's name, picture, description and settings (namespace 13; signed).
    GroupInfo,
    /// A group's members (namespace 14; signed).
    GroupMembers,
}

impl ConfigKind {
    /// Every kind, user configs first.
    pub const ALL: [ConfigKind; 6] = [
        ConfigKind::UserProfile,
        ConfigKind::Contacts,
        ConfigKind::ConvoInfoVolatile,
        ConfigKind::UserGroups,
        ConfigKind::GroupInfo,
        ConfigKind::GroupMembers,
    ];

    /// The encryption domain (§2.3).
    pub fn domain(self) -> &'static str {
        match self {
            ConfigKind::UserProfile => "UserProfile",
            ConfigKind::Contacts => "Contacts",
            ConfigKind::ConvoInfoVolatile => "ConvoInfoVolatile",
            ConfigKind::UserGroups => "UserGroups",
            ConfigKind::GroupInfo => "groups::Info",
            ConfigKind::GroupMembers => "groups::Members",
        }
    }

    /// The storage namespace (§2.6).
    pub fn namespace(self) -> i16 {
        match self {
            ConfigKind::UserProfile => 2,
            ConfigKind::Contacts => 3,
            ConfigKind::ConvoInfoVolatile => 4,
            ConfigKind::UserGroups => 5,
            ConfigKind::GroupInfo => 13,
            ConfigKind::GroupMembers => 14,
        }
    }

    /// The kind stored in that namespace.
    pub fn from_namespace(namespace: i16) -> Option<ConfigKind> {
        ConfigKind::ALL.into_iter().find(|k| k.namespace() == namespace)
    }

    /// Whether this is one of the account's own configs (unsigned, protobuf-wrapped, keyed by the
    /// account seed) rather than a group's (signed by the group key, keyed by the group key).
    pub fn is_user_config(self) -> bool {
        self.protobuf_kind().is_some()
    }

    /// The `SharedConfigMessage.kind` of a user config (§2.5).
    pub fn protobuf_kind(self) -> Option<i32> {
        match self {
            ConfigKind::UserProfile => Some(1),
            ConfigKind::Contacts => Some(2),
            ConfigKind::ConvoInfoVolatile => Some(3),
            ConfigKind::UserGroups => Some(4),
            ConfigKind::GroupInfo | ConfigKind::GroupMembers => None,
        }
    }
}

/// Why a config message could not be read. Decode failures say what is wrong; a signature that
/// does not verify is the one opaque [`OpenError`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The bytes are not canonical bencode.
    Bencode(BtError),
    /// The outer dict breaks the message rules (key order, missing `&`, keys after `~`).
    BadMessage(&'static str),
    /// The data dict breaks the data rules (types, empty sets/dicts, set order): what, and at
    /// which key path (`&/"bar"/"x"`, keys quoted, non-printable bytes escaped).
    BadData {
        /// What is wrong.
        what: &'static str,
        /// Where: the key path from the top-level key.
        at: String,
    },
    /// A diff is malformed: what, and at which key path (`=/…`, or `<2/…` in the third lagged
    /// diff).
    BadDiff {
        /// What is wrong.
        what: &'static str,
        /// Where: the key path from the top-level key.
        at: String,
    },
    /// The lagged diffs `<` are malformed: what, and in which entry.
    BadLag {
        /// What is wrong.
        what: &'static str,
        /// The entry's index in `<`.
        index: usize,
    },
    /// The signature `~` is not a 64-byte string.
    BadSignatureLength,
    /// A signed config type's message carries no signature.
    MissingSignature,
    /// The signature does not verify.
    Open(OpenError),
    /// None of the messages given to a merge could be read.
    NoValidMessage,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Bencode(e) => write!(f, "config message: {e}"),
            ConfigError::BadMessage(what) => write!(f, "config message: {what}"),
            ConfigError::BadData { what, at } => write!(f, "config data at {at}: {what}"),
            ConfigError::BadDiff { what, at } => write!(f, "config diff at {at}: {what}"),
            ConfigError::BadLag { what, index } => write!(f, "config lagged diff {index}: {what}"),
            ConfigError::BadSignatureLength => f.write_str("config message: the signature is not 64 bytes"),
            ConfigError::MissingSignature => f.write_str("config message: the signature is missing"),
            ConfigError::Open(e) => e.fmt(f),
            ConfigError::NoValidMessage => f.write_str("no valid config message was given"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The error as seen from the dict holding `key`: the quoted key goes in front of the path.
    pub(crate) fn within(self, key: &[u8]) -> ConfigError {
        self.prefixed(&format!("\"{}\"", key.escape_ascii()))
    }

    /// The error as seen from the message: where the path starts (`&`, `=`, `<2`).
    pub(crate) fn under(self, root: &str) -> ConfigError {
        self.prefixed(root)
    }

    fn prefixed(self, step: &str) -> ConfigError {
        let prefix = |at: String| if at.is_empty() { step.to_owned() } else { format!("{step}/{at}") };
        match self {
            ConfigError::BadData { what, at } => ConfigError::BadData { what, at: prefix(at) },
            ConfigError::BadDiff { what, at } => ConfigError::BadDiff { what, at: prefix(at) },
            other => other,
        }
    }
}

impl From<BtError> for ConfigError {
    fn from(e: BtError) -> Self {
        ConfigError::Bencode(e)
    }
}
