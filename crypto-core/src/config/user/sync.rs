//! One user config as a whole (libsession's `ConfigBase` for the account's own configs, sans-I/O):
//! the current version, incoming versions merged into it (§1.5), local edits, the push and the
//! storage hashes it makes obsolete (§2.7).
//!
//! The caller does the network:
//! 1. [`UserConfig::receive`] what a poll retrieved from the config's namespace (storage hash and
//!    base64-decoded data of each message);
//! 2. read through the typed views ([`UserConfig::profile`], …) and edit through the typed edits
//!    ([`UserConfig::profile_mut`], …);
//! 3. when [`UserConfig::push`] gives a [`Push`], store its blobs in the namespace and delete its
//!    obsolete hashes (one `sequence`: stores first, then the delete), then
//!    [`UserConfig::confirm_pushed`] with the hashes the stores returned;
//! 4. keep [`UserConfig::active_hashes`] alive with an `expire` on each poll.
//!
//! [`UserConfig::save`] / [`UserConfig::restore`] keep it across sessions.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};

use zeroize::{Zeroize, Zeroizing};

use crate::config::data::{self, DataDict};
use crate::config::message::{ConfigMessage, MessageHash, MutableConfigMessage, message_hash};
use crate::config::pipeline::{self, Multipart, PushError, Read, ReadError};
use crate::config::{ConfigError, ConfigKind};
use crate::identity::Identity;

use super::contacts::{Contacts, ContactsMut};
use super::convo::{ConvoInfoVolatile, ConvoInfoVolatileMut};
use super::groups::{UserGroups, UserGroupsMut};
use super::profile::{UserProfile, UserProfileMut};

/// The empty seqno-0 message every config starts from.
const EMPTY: &[u8] = b"d1:#i0e1:&de1:<le1:=dee";

/// One message retrieved from the config's namespace.
#[derive(Clone, Copy, Debug)]
pub struct Retrieved<'a> {
    /// Its storage hash (as the storage server names it).
    pub hash: &'a str,
    /// Its data, base64-decoded.
    pub data: &'a [u8],
}

/// What [`UserConfig::receive`] made of a batch of retrieved messages.
#[derive(Debug, Default)]
pub struct Received {
    /// The config's data changed (another version adopted, or a merge made).
    pub changed: bool,
    /// Messages that could not be opened or decoded, by storage hash. They are not deleted.
    pub unreadable: Vec<(String, ReadError)>,
    /// Messages that opened but are not a valid config message (perhaps from a newer client), by
    /// storage hash (the first part's, for a multipart message). They are not deleted.
    pub invalid: Vec<(String, ConfigError)>,
}

/// A new version to store.
pub struct Push {
    /// Its seqno.
    pub seqno: i64,
    /// The blobs to store in the config's namespace (one, or the parts of a multipart message),
    /// each with a TTL of 30 days.
    pub blobs: Vec<Vec<u8>>,
    /// Storage hashes to delete after the stores succeed: versions this one supersedes.
    pub obsolete: Vec<String>,
    hash: MessageHash,
    message: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Push {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Push")
            .field("seqno", &self.seqno)
            .field("blobs", &self.blobs.len())
            .field("obsolete", &self.obsolete)
            .finish_non_exhaustive()
    }
}

impl Push {
    /// The message hash of the version pushed (§1.2).
    pub fn message_hash(&self) -> &MessageHash {
        &self.hash
    }
}

/// What [`UserConfig::save`] keeps: enough to go on where it stopped. It holds the config's
/// plaintext (keys among it): zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct Saved {
    /// The current version's message bytes.
    pub current: Vec<u8>,
    /// The storage hashes holding it.
    pub current_hashes: Vec<String>,
    /// Unpushed local edits: the whole data dict they lead to, bt-encoded.
    pub pending: Option<Vec<u8>>,
    /// Storage hashes still to delete.
    pub obsolete: Vec<String>,
}

wipe_on_drop!(Saved);

#[cfg(test)]
impl crate::SecretFields for Saved {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        // The hashes are public (the storage server names messages by them).
        let Saved { current, current_hashes: _, pending, obsolete: _ } = self;
        vec![("current", current.clone()), ("pending", pending.clone().unwrap_or_default())]
    }
}

impl fmt::Debug for Saved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saved")
            .field("current_hashes", &self.current_hashes)
            .field("pending", &self.pending.is_some())
            .field("obsolete", &self.obsolete)
            .finish_non_exhaustive()
    }
}

/// Why a [`UserConfig`] could not be made.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UserConfigError {
    /// The kind is a group config, not one of the account's own.
    NotUserConfig,
    /// A saved message or data dict does not decode.
    Config(ConfigError),
}

impl fmt::Display for UserConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserConfigError::NotUserConfig => f.write_str("not a user config kind"),
            UserConfigError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for UserConfigError {}

/// One of the account's own configs (UserProfile, Contacts, ConvoInfoVolatile or UserGroups).
///
/// `Debug` shows the kind and seqnos, never the data.
pub struct UserConfig {
    kind: ConfigKind,
    /// The latest version read, pushed or merged.
    current: ConfigMessage,
    /// The storage hashes holding `current` (none for a merge not yet pushed).
    current_hashes: BTreeSet<String>,
    /// The version not yet stored: local edits on top of `current` (seqno + 1), or a merge (the
    /// same seqno as `current`), with any edits made since.
    pending: Option<MutableConfigMessage>,
    /// `pending` is a merge: it needs a push even without edits.
    pending_is_merge: bool,
    /// The message hash of the last push not yet confirmed.
    pushed: Option<MessageHash>,
    /// Storage hashes of superseded versions, deleted with the next push.
    obsolete: BTreeSet<String>,
    multipart: Multipart,
    /// The storage hashes of the parts of each incomplete multipart message.
    part_hashes: BTreeMap<[u8; 32], BTreeSet<String>>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("kind", &self.kind)
            .field("seqno", &self.current.seqno())
            .field("pending", &self.pending.as_ref().map(MutableConfigMessage::seqno))
            .finish_non_exhaustive()
    }
}

impl UserConfig {
    /// An empty config of `kind` (a new account's, or before anything was retrieved).
    pub fn new(kind: ConfigKind) -> Result<UserConfig, UserConfigError> {
        if !kind.is_user_config() {
            return Err(UserConfigError::NotUserConfig);
        }
        let current = ConfigMessage::parse(EMPTY, None).map_err(UserConfigError::Config)?;
        Ok(UserConfig {
            kind,
            current,
            current_hashes: BTreeSet::new(),
            pending: None,
            pending_is_merge: false,
            pushed: None,
            obsolete: BTreeSet::new(),
            multipart: Multipart::new(),
            part_hashes: BTreeMap::new(),
        })
    }

    /// A config as [`save`](Self::save) left it. Unpushed edits come back as edits on top of the
    /// saved version (an unpushed merge comes back as its data, to be pushed as such).
    pub fn restore(kind: ConfigKind, saved: &Saved) -> Result<UserConfig, UserConfigError> {
        let mut config = UserConfig::new(kind)?;
        config.current = ConfigMessage::parse(&saved.current, None).map_err(UserConfigError::Config)?;
        config.current_hashes = saved.current_hashes.iter().cloned().collect();
        config.obsolete = saved.obsolete.iter().cloned().collect();
        if let Some(pending) = &saved.pending {
            let data = data::decode_data(pending).map_err(UserConfigError::Config)?;
            let mut next = config.current.increment();
            *next.data_mut() = data;
            config.pending = Some(next);
        }
        Ok(config)
    }

    /// What to keep to [`restore`](Self::restore) it later. Incomplete multipart messages are not
    /// kept: their parts are retrieved again.
    pub fn save(&self) -> Saved {
        Saved {
            current: self.current.serialize(),
            current_hashes: self.current_hashes.iter().cloned().collect(),
            pending: self.pending.as_ref().map(|p| data::encode_data(p.data())),
            obsolete: self.obsolete.iter().cloned().collect(),
        }
    }

    /// The config's kind.
    pub fn kind(&self) -> ConfigKind {
        self.kind
    }

    /// The seqno of the version the data belongs to (the unpushed one when there is one).
    pub fn seqno(&self) -> i64 {
        self.pending.as_ref().map_or(self.current.seqno(), MutableConfigMessage::seqno)
    }

    /// The latest version read, pushed or merged.
    pub fn current(&self) -> &ConfigMessage {
        &self.current
    }

    /// The data, with local edits.
    pub fn data(&self) -> &DataDict {
        self.pending.as_ref().map_or(self.current.data(), MutableConfigMessage::data)
    }

    /// The data, to edit (an edit starts the next version). Prefer the typed edits.
    pub fn edit(&mut self) -> &mut DataDict {
        let current = &self.current;
        self.pending.get_or_insert_with(|| current.increment()).data_mut()
    }

    /// The data read as a UserProfile.
    pub fn profile(&self) -> UserProfile<'_> {
        UserProfile::new(self.data())
    }

    /// The data read as Contacts.
    pub fn contacts(&self) -> Contacts<'_> {
        Contacts::new(self.data())
    }

    /// The data read as ConvoInfoVolatile.
    pub fn convo(&self) -> ConvoInfoVolatile<'_> {
        ConvoInfoVolatile::new(self.data())
    }

    /// The data read as UserGroups.
    pub fn groups(&self) -> UserGroups<'_> {
        UserGroups::new(self.data())
    }

    /// UserProfile edits.
    pub fn profile_mut(&mut self) -> UserProfileMut<'_> {
        UserProfileMut::new(self.edit())
    }

    /// Contacts edits.
    pub fn contacts_mut(&mut self) -> ContactsMut<'_> {
        ContactsMut::new(self.edit())
    }

    /// ConvoInfoVolatile edits.
    pub fn convo_mut(&mut self) -> ConvoInfoVolatileMut<'_> {
        ConvoInfoVolatileMut::new(self.edit())
    }

    /// UserGroups edits.
    pub fn groups_mut(&mut self) -> UserGroupsMut<'_> {
        UserGroupsMut::new(self.edit())
    }

    /// Whether there is something to push: edits that changed the data, or a merge.
    pub fn needs_push(&mut self) -> bool {
        let is_merge = self.pending_is_merge;
        self.pending.as_mut().is_some_and(|p| is_merge || !p.diff().is_empty())
    }

    /// The storage hashes to keep alive (an `expire` to now + 30 days on each poll): the current
    /// version's, and the parts of incomplete multipart messages.
    pub fn active_hashes(&self) -> Vec<String> {
        let mut hashes = self.current_hashes.clone();
        for final_hash in self.multipart.pending() {
            if let Some(parts) = self.part_hashes.get(final_hash) {
                hashes.extend(parts.iter().cloned());
            }
        }
        hashes.into_iter().collect()
    }

    /// The storage hashes of superseded versions, to be deleted with the next push.
    pub fn obsolete_hashes(&self) -> Vec<String> {
        self.obsolete.iter().cloned().collect()
    }

    /// Takes in messages retrieved from the config's namespace: opens them (unwrapping, decrypting,
    /// collecting multipart parts), then merges them with the current version and any local edits
    /// as libsession does (§1.5). Versions superseded become obsolete; a merge becomes the version
    /// to push. Messages already known are passed over; unreadable ones are reported and kept.
    /// `now_ms` is the network time (for multipart expiry).
    pub fn receive(&mut self, identity: &Identity, messages: &[Retrieved<'_>], now_ms: u64) -> Received {
        let mut report = Received::default();
        let mut incoming: Vec<(BTreeSet<String>, pipeline::Plaintext)> = Vec::new();
        for m in messages {
            if self.current_hashes.contains(m.hash) || self.obsolete.contains(m.hash) {
                continue;
            }
            match pipeline::read_user_config(identity, self.kind, m.data) {
                Ok(Read::Message(plaintext)) => incoming.push((BTreeSet::from([m.hash.to_owned()]), plaintext)),
                Ok(Read::Part(part)) => {
                    let final_hash = part.final_hash;
                    self.part_hashes.entry(final_hash).or_default().insert(m.hash.to_owned());
                    match self.multipart.add(part, now_ms) {
                        Ok(Some(plaintext)) => {
                            incoming.push((self.part_hashes.remove(&final_hash).unwrap_or_default(), plaintext));
                        }
                        Ok(None) => {}
                        Err(e) => report.unreadable.push((m.hash.to_owned(), e)),
                    }
                }
                Err(e) => report.unreadable.push((m.hash.to_owned(), e)),
            }
        }
        let waiting: BTreeSet<[u8; 32]> = self.multipart.pending().copied().collect();
        self.part_hashes.retain(|h, _| waiting.contains(h));
        if !incoming.is_empty() {
            self.merge_in(incoming, &mut report);
        }
        report
    }

    fn merge_in(&mut self, incoming: Vec<(BTreeSet<String>, pipeline::Plaintext)>, report: &mut Received) {
        // Our own version takes part when it holds anything: a stored version, or edits.
        let own: Option<Vec<u8>> = match self.pending.as_mut() {
            Some(pending) => Some(pending.serialize(None)),
            None if self.current.seqno() != 0 || !self.current_hashes.is_empty() => Some(self.current.serialize()),
            None => None,
        };
        let offset = usize::from(own.is_some());
        let own_hash = own.as_deref().map(message_hash);
        let mut inputs: Vec<&[u8]> = own.as_deref().into_iter().collect();
        inputs.extend(incoming.iter().map(|(_, p)| p.as_bytes()));
        let first_hash = |hashes: &BTreeSet<String>| hashes.first().cloned().unwrap_or_default();

        let (mutable, merged) = match MutableConfigMessage::from_messages(&inputs, None, None) {
            Ok(result) => result,
            Err(e) => {
                report.invalid.extend(incoming.iter().map(|(hashes, _)| (first_hash(hashes), e.clone())));
                return;
            }
        };
        let skipped: BTreeSet<usize> = merged.skipped.iter().map(|(i, _)| *i).collect();
        for (i, e) in &merged.skipped {
            if let Some((hashes, _)) = i.checked_sub(offset).and_then(|j| incoming.get(j)) {
                report.invalid.push((first_hash(hashes), e.clone()));
            }
        }
        let valid = incoming
            .iter()
            .enumerate()
            .filter(|(j, _)| !skipped.contains(&(j + offset)))
            .map(|(_, (hashes, plaintext))| (hashes, message_hash(plaintext.as_bytes())));

        let adopted_own = merged.adopted.is_some_and(|i| i < offset);
        if merged.merged {
            // A new version: every version that went into it is superseded once it is stored.
            for (hashes, _) in valid {
                self.obsolete.extend(hashes.iter().cloned());
            }
            self.obsolete.append(&mut self.current_hashes);
            self.current = merged.message;
            self.pending = Some(mutable);
            self.pending_is_merge = true;
            self.pushed = None;
            report.changed = true;
        } else if adopted_own {
            // Ours is the newest: what came in is older (or ours again).
            let current_hash = *self.current.hash();
            for (hashes, hash) in valid {
                if hash == current_hash {
                    self.current_hashes.extend(hashes.iter().cloned());
                } else if Some(hash) != own_hash {
                    self.obsolete.extend(hashes.iter().cloned());
                }
            }
        } else {
            // Another version is newer and includes ours: adopt it.
            let adopted_hash = *merged.message.hash();
            self.obsolete.append(&mut self.current_hashes);
            for (hashes, hash) in valid {
                if hash == adopted_hash {
                    self.current_hashes.extend(hashes.iter().cloned());
                } else {
                    self.obsolete.extend(hashes.iter().cloned());
                }
            }
            self.obsolete.retain(|h| !self.current_hashes.contains(h));
            self.current = merged.message;
            self.pending = None;
            self.pending_is_merge = false;
            self.pushed = None;
            report.changed = true;
        }
    }

    /// The version to store, when there is one (edits, or a merge): its blobs (encrypted, wrapped
    /// as libsession wraps them) and the storage hashes it makes obsolete. A ConvoInfoVolatile
    /// config is pruned first ([`ConvoInfoVolatileMut::prune`], which may itself make a version).
    /// `now_ms` is the network time, unix ms.
    ///
    /// Edits made after this and before [`confirm_pushed`](Self::confirm_pushed) go into the
    /// next push.
    pub fn push(&mut self, identity: &Identity, now_ms: u64) -> Result<Option<Push>, PushError> {
        if self.kind == ConfigKind::ConvoInfoVolatile {
            let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
            let mut probe = self.data().clone();
            if ConvoInfoVolatileMut::new(&mut probe).prune(now_ms) {
                ConvoInfoVolatileMut::new(self.edit()).prune(now_ms);
            }
        }
        if !self.needs_push() {
            return Ok(None);
        }
        let Some(pending) = self.pending.as_mut() else { return Ok(None) };
        let message = Zeroizing::new(pending.serialize(None));
        let seqno = pending.seqno();
        let blobs = pipeline::push_user_config(identity, self.kind, seqno, &message)?;
        let obsolete = self.obsolete.iter().chain(&self.current_hashes).cloned().collect::<BTreeSet<_>>();
        let hash = message_hash(&message);
        self.pushed = Some(hash);
        Ok(Some(Push { seqno, blobs, obsolete: obsolete.into_iter().collect(), hash, message }))
    }

    /// Records that `push` was stored under `stored_hashes` (the hashes the stores returned, every
    /// part's for a multipart message) and its obsolete hashes deleted: it becomes the current
    /// version. Edits made since the push stay, as edits on top of it.
    /// A push that is not this config's latest, or whose version was since replaced by another
    /// (adopted or merged from elsewhere), is ignored.
    pub fn confirm_pushed(&mut self, push: &Push, stored_hashes: &[String]) {
        if self.pushed != Some(push.hash) {
            return;
        }
        let Some(pending) = self.pending.as_mut() else { return };
        if pending.seqno() != push.seqno {
            return;
        }
        let Ok(pushed) = ConfigMessage::parse(&push.message, None) else { return };
        let edited_since = pending.hash(None) != push.hash;
        let next = edited_since.then(|| {
            let mut next = pushed.increment();
            *next.data_mut() = pending.data().clone();
            next
        });
        self.obsolete.retain(|h| !push.obsolete.contains(h));
        self.current = pushed;
        self.current_hashes = stored_hashes.iter().cloned().collect();
        self.obsolete.retain(|h| !self.current_hashes.contains(h));
        self.pending = next;
        self.pending_is_merge = false;
        self.pushed = None;
    }
}
