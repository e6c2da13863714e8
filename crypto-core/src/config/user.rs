//! The four user configs, typed (protocol-config-groups §3.1–§3.4): read views and edits over the
//! data dict `&` of a config message, writing exactly what libsession writes.
//!
//! - [`profile`]: UserProfile (namespace 2) — name, picture, Note to Self priority and timer, the
//!   blinded message-request switch.
//! - [`contacts`]: Contacts (namespace 3) — approval, blocking, nickname, name, picture, priority,
//!   notifications, disappearing messages, creation time.
//! - [`convo`]: ConvoInfoVolatile (namespace 4) — last read and unread marks per conversation, and
//!   the pruning of old entries.
//! - [`groups`]: UserGroups (namespace 5) — groups, communities and legacy groups, read typed; a
//!   group's entry written as libsession writes it.
//! - [`sync`]: [`UserConfig`], one whole config: the current version, incoming versions merged,
//!   edits recorded, the push and the hashes it makes obsolete.
//!
//! Edits touch only the keys they own: every other key — at the top level or inside a record, set
//! by a newer Session client — is kept as it is. Defaults are removed rather than stored, as
//! libsession does (a flag is `1` or absent, a zero priority or timer is absent, an empty nickname
//! is absent), so an edit through Hush and the same edit through libsession give the same bytes.

pub mod contacts;
pub mod convo;
pub mod groups;
pub mod profile;
pub mod sync;

use core::fmt;

use zeroize::Zeroize;

use crate::identity::{IdPrefix, SessionId};

use super::data::{DataDict, DataValue, Scalar};

pub use sync::{Push, Received, Retrieved, Saved, UserConfig, UserConfigError};

/// The longest display name, nickname or group name, in bytes (`contact_info::MAX_NAME_LENGTH`).
pub const MAX_NAME_LENGTH: usize = 100;

/// The longest profile picture URL libsession's C API carries (`profile_pic::MAX_URL_LENGTH`).
pub const MAX_URL_LENGTH: usize = 223;

/// Why an edit was refused. The data is left unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum EditError {
    /// A name is longer than [`MAX_NAME_LENGTH`] bytes (the `_truncated` setters cut it instead).
    NameTooLong,
    /// An ID has the wrong prefix for where it goes (`05` for contacts and 1:1 conversations and
    /// legacy groups, `03` for groups).
    WrongIdPrefix,
    /// A community URL is not `scheme://host[:port]` (or is longer than 267 bytes).
    BadCommunityUrl,
    /// A community room token is empty, longer than 64 bytes, or not `[-0-9_a-z]` (any case).
    BadCommunityRoom,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EditError::NameTooLong => "the name is longer than 100 bytes",
            EditError::WrongIdPrefix => "the ID has the wrong prefix for this entry",
            EditError::BadCommunityUrl => "the community URL is not scheme://host[:port]",
            EditError::BadCommunityRoom => "the community room token is invalid",
        })
    }
}

impl std::error::Error for EditError {}

/// A 32-byte key kept in a config: a profile picture's decryption key, a group's seed, a legacy
/// group's secret key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct SecretKey32([u8; 32]);

wipe_on_drop!(SecretKey32);

#[cfg(test)]
impl crate::SecretFields for SecretKey32 {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let SecretKey32(key) = self;
        vec![("0", key.to_vec())]
    }
}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32(<redacted>)")
    }
}

impl SecretKey32 {
    /// The key of these bytes.
    pub fn from_bytes(key: [u8; 32]) -> SecretKey32 {
        SecretKey32(key)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn from_slice(bytes: &[u8]) -> Option<SecretKey32> {
        <[u8; 32]>::try_from(bytes).ok().map(SecretKey32)
    }
}

/// A profile picture: where the encrypted file is, and its key. Set or cleared together (the
/// `p`/`q` pair, or `P`/`Q`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProfilePic {
    /// The file's URL (not empty).
    pub url: String,
    /// The picture's 32-byte decryption key.
    pub key: SecretKey32,
}

impl ProfilePic {
    /// The picture at `url` with `key`.
    pub fn new(url: impl Into<String>, key: [u8; 32]) -> ProfilePic {
        ProfilePic { url: url.into(), key: SecretKey32::from_bytes(key) }
    }

    /// The picture of a `url`/`key` pair as libsession reads it: a non-empty URL and a 32-byte key.
    fn read(dict: &DataDict, url_key: &[u8], key_key: &[u8]) -> Option<ProfilePic> {
        let url = bytes(dict, url_key).filter(|u| !u.is_empty())?;
        let key = bytes(dict, key_key).and_then(SecretKey32::from_slice)?;
        Some(ProfilePic { url: String::from_utf8_lossy(url).into_owned(), key })
    }
}

/// How a conversation notifies (`@`): omitted = the client's default.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Notify {
    /// The client's default (0; not stored).
    #[default]
    Default,
    /// Every message (1).
    All,
    /// None (2).
    Disabled,
    /// Only mentions (3; for contacts it is read and written as [`Notify::All`]).
    MentionsOnly,
}

impl Notify {
    /// The stored value.
    pub fn value(self) -> i64 {
        match self {
            Notify::Default => 0,
            Notify::All => 1,
            Notify::Disabled => 2,
            Notify::MentionsOnly => 3,
        }
    }

    /// The mode of a stored value; anything unknown is the default.
    pub fn from_value(value: i64) -> Notify {
        match value {
            1 => Notify::All,
            2 => Notify::Disabled,
            3 => Notify::MentionsOnly,
            _ => Notify::Default,
        }
    }
}

/// A conversation's disappearing-messages setting (the `e`/`E` pair: mode and timer in seconds).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Expiration {
    /// Messages do not disappear (nothing stored).
    #[default]
    Off,
    /// Messages disappear this many seconds after they are sent (mode 1).
    AfterSend(i64),
    /// Messages disappear this many seconds after they are read (mode 2).
    AfterRead(i64),
}

impl Expiration {
    /// Reads the `e`/`E` pair as libsession does: an unknown mode or a timer that is not positive
    /// means off.
    fn read(dict: &DataDict) -> Expiration {
        let timer = int(dict, b"E").unwrap_or(0);
        match int(dict, b"e").unwrap_or(0) {
            1 if timer > 0 => Expiration::AfterSend(timer),
            2 if timer > 0 => Expiration::AfterRead(timer),
            _ => Expiration::Off,
        }
    }

    /// Writes the pair, or removes both when off (or when the timer is not positive).
    fn write(self, dict: &mut DataDict) {
        let pair = match self {
            Expiration::AfterSend(t) if t > 0 => Some((1, t)),
            Expiration::AfterRead(t) if t > 0 => Some((2, t)),
            _ => None,
        };
        match pair {
            Some((mode, timer)) => {
                set_int(dict, b"e", mode);
                set_int(dict, b"E", timer);
            }
            None => {
                dict.remove(b"e".as_slice());
                dict.remove(b"E".as_slice());
            }
        }
    }
}

/// Cuts `s` to at most `max` bytes without splitting a character (libsession `utf8_truncate`).
pub fn utf8_truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The 33-byte key of an ID with the prefix `prefix`, or [`EditError::WrongIdPrefix`].
fn id_key(id: &SessionId, prefix: IdPrefix) -> Result<Vec<u8>, EditError> {
    if id.prefix() == prefix { Ok(id.to_bytes().to_vec()) } else { Err(EditError::WrongIdPrefix) }
}

/// An integer value.
fn int(dict: &DataDict, key: &[u8]) -> Option<i64> {
    match dict.get(key) {
        Some(DataValue::Scalar(Scalar::Int(i))) => Some(*i),
        _ => None,
    }
}

/// A string value.
fn bytes<'a>(dict: &'a DataDict, key: &[u8]) -> Option<&'a [u8]> {
    match dict.get(key) {
        Some(DataValue::Scalar(Scalar::Bytes(b))) => Some(b),
        _ => None,
    }
}

/// A string value as text (invalid UTF-8 replaced).
fn text(dict: &DataDict, key: &[u8]) -> Option<String> {
    bytes(dict, key).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A dict value.
fn dict<'a>(dict: &'a DataDict, key: &[u8]) -> Option<&'a DataDict> {
    match dict.get(key) {
        Some(DataValue::Dict(d)) => Some(d),
        _ => None,
    }
}

/// Runs `edit` on the dict at `key`, made (or made a dict, replacing another value) for an
/// assignment inside it, as libsession's field proxies do. A dict left empty is not kept (as
/// libsession prunes it, and as an erase of a field never made does not make it).
fn with_dict<R>(dict: &mut DataDict, key: &[u8], edit: impl FnOnce(&mut DataDict) -> R) -> R {
    let mut inner = match dict.remove(key) {
        Some(DataValue::Dict(d)) => d,
        _ => DataDict::new(),
    };
    let result = edit(&mut inner);
    if !inner.is_empty() {
        dict.insert(key.to_vec(), DataValue::Dict(inner));
    }
    result
}

/// Sets an integer.
fn set_int(dict: &mut DataDict, key: &[u8], value: i64) {
    dict.insert(key.to_vec(), DataValue::int(value));
}

/// Sets a string.
fn set_bytes(dict: &mut DataDict, key: &[u8], value: &[u8]) {
    dict.insert(key.to_vec(), DataValue::bytes(value));
}

/// `1` when true, absent when false (`set_flag`).
fn set_flag(dict: &mut DataDict, key: &[u8], value: bool) {
    if value {
        set_int(dict, key, 1);
    } else {
        dict.remove(key);
    }
}

/// The value when positive, absent otherwise (`set_positive_int`).
fn set_positive_int(dict: &mut DataDict, key: &[u8], value: i64) {
    if value > 0 {
        set_int(dict, key, value);
    } else {
        dict.remove(key);
    }
}

/// The value when not zero, absent otherwise (`set_nonzero_int`).
fn set_nonzero_int(dict: &mut DataDict, key: &[u8], value: i64) {
    if value != 0 {
        set_int(dict, key, value);
    } else {
        dict.remove(key);
    }
}

/// The string when not empty, absent otherwise (`set_nonempty_str`).
fn set_nonempty(dict: &mut DataDict, key: &[u8], value: &[u8]) {
    if value.is_empty() {
        dict.remove(key);
    } else {
        set_bytes(dict, key, value);
    }
}

/// Writes `text` at `key`, keeping the stored bytes when they already read as `text` (a name
/// that is not valid UTF-8 is not rewritten by an edit of another field).
fn set_text_keeping(dict: &mut DataDict, key: &[u8], text: &str, nonempty: bool) {
    if let Some(stored) = bytes(dict, key)
        && String::from_utf8_lossy(stored) == text
        && !(nonempty && stored.is_empty())
    {
        return;
    }
    if nonempty {
        set_nonempty(dict, key, text.as_bytes());
    } else {
        set_bytes(dict, key, text.as_bytes());
    }
}

/// Writes a picture pair (`set_pair_if`): both set, or both removed.
fn set_picture_pair(dict: &mut DataDict, url_key: &[u8], key_key: &[u8], picture: Option<&ProfilePic>) {
    match picture.filter(|p| !p.url.is_empty()) {
        Some(p) => {
            set_bytes(dict, url_key, p.url.as_bytes());
            set_bytes(dict, key_key, p.key.as_bytes());
        }
        None => {
            dict.remove(url_key);
            dict.remove(key_key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_truncate_keeps_whole_characters() {
        assert_eq!(utf8_truncate("abc", 3), "abc");
        assert_eq!(utf8_truncate("abcd", 3), "abc");
        // "é" is two bytes: cutting inside it drops it whole.
        assert_eq!(utf8_truncate("abé", 3), "ab");
        assert_eq!(utf8_truncate("🎉🎉", 5), "🎉");
    }

    /// As `config_secrets_zeroize_every_field_on_drop` (pipeline.rs) does for the pipeline's.
    fn wipes_every_field<T: crate::SecretFields>(name: &str, mut value: T) {
        let live = value.secret_fields();
        assert!(!live.is_empty(), "{name} lists no secret field");
        for (field, bytes) in &live {
            assert!(bytes.iter().any(|&b| b != 0), "{name}.{field} must start non-zero");
        }
        value.zeroize();
        for (field, bytes) in value.secret_fields() {
            assert!(bytes.iter().all(|&b| b == 0), "{name}.{field} is not wiped: {bytes:02x?}");
        }
    }

    #[test]
    fn user_config_secrets_zeroize_every_field_on_drop() {
        wipes_every_field("SecretKey32", SecretKey32::from_bytes([0x5c; 32]));
        wipes_every_field("GroupAuthData", groups::GroupAuthData::from_bytes([0x5d; 100]));
        wipes_every_field(
            "Saved",
            Saved {
                current: b"d1:#i1e1:&d1:n5:Alicee1:<le1:=dee".to_vec(),
                current_hashes: vec!["h".into()],
                pending: Some(b"d1:n3:Bobe".to_vec()),
                obsolete: Vec::new(),
            },
        );
        let auth = groups::GroupAuthData::from_bytes([0xab; 100]);
        let printed = format!("{auth:?}");
        assert!(!printed.contains("ab") && !printed.contains("171"), "{printed}");
    }

    #[test]
    fn secret_key_never_prints() {
        let key = SecretKey32::from_bytes([0xab; 32]);
        let printed = format!("{key:?} {:?}", ProfilePic { url: "u".into(), key: key.clone() });
        assert!(!printed.contains("ab,") && !printed.contains("171"), "{printed}");
    }
}
