//! Attachments: what a message says of its files, and their bytes on this device.
//!
//! A message's attachments are [`Attachment`]s in its record: the pointer the protocol carries
//! (where the file is on a file server, its key and digest, its size and type) and where it is
//! on this device. Their bytes never sit in a record of their own size: they are cut into
//! [`CHUNK`]-byte pieces, each sealed by the vault like any record (`files` store), under ids
//! made from the message's id, the attachment's place and the piece's number, so a message's
//! files are found, and freed, from the message alone. Two kinds of pieces:
//!
//! - `f/…`: a file received, once downloaded and checked (what the front end shows);
//! - `u/…`: a file sent from here, encrypted: what the outbox uploads, so a reload mid-upload
//!   sends the very same bytes (and so the same key and digest), and afterwards the sender's own
//!   copy, opened with the key in the message when shown. The file is not kept beside it: that
//!   would write it twice. (Vaults from before this kept `f/…` for sent files too; they are read.)
//!
//! Incoming pointers are checked before anything is kept: a URL that is not a file server's
//! `…/file/<id>`, a key of the wrong length or a size over the limit makes the attachment
//! [`AttachmentState::Damaged`], shown as such, never fetched.

use core::fmt;

use crypto_core::attachment::{FileUrl, MAX_FILE_BYTES};
use crypto_core::wire::AttachmentPointer;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::storage::{Backend, StorageError, Vault, stores};
use crate::text;

/// The size of one sealed piece of a file in the vault.
pub const CHUNK: usize = 256 * 1024;
/// The protocol's flag for a voice message (`AttachmentPointer.flags`).
pub const VOICE_MESSAGE: u32 = 1;
/// The most characters of a file name kept.
const MAX_NAME_CHARS: usize = 200;

/// Session's file server.
pub const DEFAULT_URL: &str = "http://filev2.getsession.org";
/// Its Ed25519 key (its onion key is this key's X25519 form).
pub const DEFAULT_ED25519: [u8; 32] = [
    0xb8, 0xee, 0xf9, 0x82, 0x14, 0x45, 0xae, 0x16, 0xe2, 0xe9, 0x7e, 0xf8, 0xaa, 0x6f, 0xe7, 0x82, 0xfd, 0x11, 0xad,
    0x52, 0x53, 0xcd, 0x67, 0x23, 0xb2, 0x81, 0x34, 0x1d, 0xba, 0x22, 0xe3, 0x71,
];
/// A file server: where it is and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileServer {
    /// `scheme://host[:port]`, no path.
    pub url: String,
    /// Its Ed25519 key.
    pub ed25519: [u8; 32],
}

impl Default for FileServer {
    fn default() -> FileServer {
        FileServer { url: DEFAULT_URL.to_owned(), ed25519: DEFAULT_ED25519 }
    }
}

impl FileServer {
    /// A file server from `scheme://host[:port]` and its Ed25519 key in hex.
    pub fn parse(url: &str, ed25519_hex: &str) -> Option<FileServer> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(ed25519_hex.trim(), &mut key).ok()?;
        let url = url.trim().trim_end_matches('/');
        // The URL of a file on it must parse as one.
        FileUrl::parse(&format!("{url}/file/x")).ok()?;
        Some(FileServer { url: url.to_owned(), ed25519: key })
    }

    /// The URL of the file `id` on it, with its key unless it is Session's own server.
    pub(crate) fn file_url(&self, id: &str) -> String {
        if *self == FileServer::default() {
            format!("{}/file/{id}", self.url)
        } else {
            format!("{}/file/{id}#p={}", self.url, hex::encode(self.ed25519))
        }
    }
}

/// What kind of file an attachment is, for how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentKind {
    /// A picture (`image/…`).
    Image,
    /// A video (`video/…`).
    Video,
    /// A voice message (flagged as one).
    Voice,
    /// Other audio (`audio/…`).
    Audio,
    /// Anything else.
    File,
}

impl AttachmentKind {
    /// The `data-kind` value front ends use: `image`, `voice` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Image => "image",
            AttachmentKind::Voice => "voice",
            AttachmentKind::Video | AttachmentKind::Audio | AttachmentKind::File => "file",
        }
    }
}

/// Where an attachment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentState {
    /// An outgoing file not yet on the file server (its encrypted bytes wait in the outbox).
    Uploading,
    /// On the file server, not yet on this device.
    Remote,
    /// On this device, sealed in the vault.
    Saved,
    /// The file server no longer has it (files live about two weeks there).
    Expired,
    /// Unusable: its pointer is malformed, or what was downloaded is not what was sent (the
    /// digest, the MAC or the key's own check failed).
    Damaged,
}

impl AttachmentState {
    /// The `data-state` value front ends use: `loading`, `ready` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentState::Uploading | AttachmentState::Remote => "loading",
            AttachmentState::Saved => "ready",
            AttachmentState::Expired | AttachmentState::Damaged => "failed",
        }
    }
}

/// An attachment's key: a secret, kept only inside the sealed message record.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[zeroize(drop)]
#[serde(transparent)]
pub struct KeyBytes(#[serde(with = "hex_bytes")] Vec<u8>);

impl KeyBytes {
    /// The key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for KeyBytes {
    fn from(bytes: &[u8]) -> KeyBytes {
        KeyBytes(bytes.to_vec())
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyBytes(<redacted>)")
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = zeroize::Zeroizing::new(String::deserialize(d)?);
        hex::decode(text.as_str()).map_err(serde::de::Error::custom)
    }
}

/// A profile picture: where it is on a file server, its key, and whether this device has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct Avatar {
    /// Its URL (`…/file/<id>#…`).
    #[zeroize(skip)]
    pub url: String,
    /// Its profile key (32 bytes).
    pub key: KeyBytes,
    /// When its owner last changed their profile (s; 0: not said).
    #[zeroize(skip)]
    #[serde(default)]
    pub updated_s: u64,
    /// The picture's size once on this device.
    #[zeroize(skip)]
    #[serde(default)]
    pub size: u64,
    /// Where it is: `Remote` until fetched, then `Saved`, or `Expired` / `Damaged`.
    #[zeroize(skip)]
    pub state: AttachmentState,
}

/// One file of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file's name, made inert (none when the sender gave none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Its MIME type as the sender gave it (lower case; `application/octet-stream` when none).
    pub content_type: String,
    /// Its size in bytes (the file's own, before any padding).
    pub size: u64,
    /// A picture's width and height, when the sender gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// See [`Attachment::width`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A voice message.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub voice: bool,
    /// Where it is on its file server (`…/file/<id>#…`); none while not uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its key: 64 bytes (AES-CBC + HMAC) or 32 (the deterministic scheme).
    #[serde(default)]
    pub key: KeyBytes,
    /// The SHA-256 of its encrypted bytes (the AES-CBC scheme).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub digest: Option<Vec<u8>>,
    /// The length of the encrypted bytes kept on this device (a file sent from here): what the
    /// outbox uploads, then the sender's copy. None for files received (kept as they are) and for
    /// files sent before Hush kept only the encrypted copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_len: Option<u64>,
    /// Where it is.
    pub state: AttachmentState,
}

mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option, reason = "the signature serde's `with` requires")]
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?.map(|t| hex::decode(t).map_err(serde::de::Error::custom)).transpose()
    }
}

impl Attachment {
    /// What kind of file it is.
    pub fn kind(&self) -> AttachmentKind {
        if self.voice {
            AttachmentKind::Voice
        } else if self.content_type.starts_with("image/") {
            AttachmentKind::Image
        } else if self.content_type.starts_with("video/") {
            AttachmentKind::Video
        } else if self.content_type.starts_with("audio/") {
            AttachmentKind::Audio
        } else {
            AttachmentKind::File
        }
    }

    /// An attachment from a received pointer: checked, never trusted (see the module docs).
    pub fn from_pointer(pointer: &AttachmentPointer) -> Attachment {
        let content_type = pointer
            .content_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 100 && t.bytes().all(|b| b.is_ascii_graphic()))
            .map_or_else(|| "application/octet-stream".to_owned(), str::to_ascii_lowercase);
        let file_name = pointer.file_name.as_deref().and_then(file_name);
        let key = pointer.key.clone().unwrap_or_default();
        let size = u64::from(pointer.size.unwrap_or(0));
        let url = pointer.url.clone().filter(|u| FileUrl::parse(u).is_ok());
        let usable = url.is_some()
            && size as usize <= MAX_FILE_BYTES
            && match url.as_deref().and_then(|u| FileUrl::parse(u).ok()) {
                Some(u) if u.deterministic => key.len() == 32,
                Some(_) => key.len() == 64 && pointer.digest.as_ref().is_some_and(|d| d.len() == 32),
                None => false,
            };
        Attachment {
            file_name,
            content_type,
            size,
            width: pointer.width.filter(|w| *w > 0),
            height: pointer.height.filter(|h| *h > 0),
            voice: pointer.flags.unwrap_or(0) & VOICE_MESSAGE != 0,
            url,
            key: KeyBytes(key),
            digest: pointer.digest.clone(),
            upload_len: None,
            state: if usable { AttachmentState::Remote } else { AttachmentState::Damaged },
        }
    }

    /// The pointer the protocol carries for it (once uploaded).
    pub fn pointer(&self) -> AttachmentPointer {
        let url = self.url.clone();
        AttachmentPointer {
            id: Some(url.as_deref().and_then(|u| FileUrl::parse(u).ok()).map_or(0, |u| u.deprecated_id())),
            content_type: Some(self.content_type.clone()),
            key: Some(self.key.as_bytes().to_vec()),
            size: u32::try_from(self.size).ok(),
            digest: self.digest.clone(),
            file_name: self.file_name.clone(),
            flags: self.voice.then_some(VOICE_MESSAGE),
            width: self.width,
            height: self.height,
            caption: None,
            url,
        }
    }
}

/// A file name made inert: one line, no path, no control or direction characters, at most
/// [`MAX_NAME_CHARS`] characters; none if nothing is left.
pub fn file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned = text::name(base)?;
    let short: String = cleaned.chars().take(MAX_NAME_CHARS).collect();
    let short = short.trim().trim_start_matches('.').to_owned();
    (!short.is_empty()).then_some(short)
}

/// The vault id of piece `n` of a file: `kind` is `f` (a file received) or `u` (a file sent,
/// encrypted).
fn piece_id(kind: char, message_id: &str, index: usize, n: usize) -> Vec<u8> {
    format!("{kind}/{message_id}/{index}/{n}").into_bytes()
}

fn pieces(len: usize) -> usize {
    len.div_ceil(CHUNK)
}

/// Keeps `bytes` sealed in the vault as piece after piece (`kind` as in [`piece_id`]).
pub(crate) async fn keep<B: Backend>(
    vault: &Vault<B>,
    kind: char,
    message_id: &str,
    index: usize,
    bytes: &[u8],
) -> Result<(), StorageError> {
    for (n, piece) in bytes.chunks(CHUNK).enumerate() {
        vault.put(stores::FILES, &piece_id(kind, message_id, index, n), piece).await?;
    }
    Ok(())
}

/// Reads back `len` bytes kept by [`keep`]; none when a piece is missing or of the wrong size.
pub(crate) async fn read<B: Backend>(
    vault: &Vault<B>,
    kind: char,
    message_id: &str,
    index: usize,
    len: usize,
) -> Result<Option<Zeroizing<Vec<u8>>>, StorageError> {
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for n in 0..pieces(len) {
        let Some(piece) = vault.get(stores::FILES, &piece_id(kind, message_id, index, n)).await? else {
            return Ok(None);
        };
        out.extend_from_slice(&piece);
    }
    Ok((out.len() == len).then_some(out))
}

/// [`read`], appending to `out` (a request being built around the bytes): whether every piece
/// was there, of the right size.
pub(crate) async fn read_into<B: Backend>(
    vault: &Vault<B>,
    kind: char,
    message_id: &str,
    index: usize,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<bool, StorageError> {
    let start = out.len();
    for n in 0..pieces(len) {
        let Some(piece) = vault.get(stores::FILES, &piece_id(kind, message_id, index, n)).await? else {
            return Ok(false);
        };
        out.extend_from_slice(&piece);
    }
    Ok(out.len() - start == len)
}

/// Frees the pieces of kind `kind` of a file of `len` bytes.
pub(crate) async fn free<B: Backend>(
    vault: &Vault<B>,
    kind: char,
    message_id: &str,
    index: usize,
    len: usize,
) -> Result<(), StorageError> {
    for n in 0..pieces(len) {
        vault.delete(stores::FILES, &piece_id(kind, message_id, index, n)).await?;
    }
    Ok(())
}

/// Frees everything this device keeps of a message's attachments.
pub(crate) async fn free_all<B: Backend>(
    vault: &Vault<B>,
    message_id: &str,
    attachments: &[Attachment],
) -> Result<(), StorageError> {
    for (i, a) in attachments.iter().enumerate() {
        if a.state == AttachmentState::Saved || a.state == AttachmentState::Uploading {
            free(vault, 'f', message_id, i, a.size as usize).await?;
        }
        if let Some(len) = a.upload_len {
            free(vault, 'u', message_id, i, len as usize).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(url: &str, key: usize, digest: bool) -> AttachmentPointer {
        AttachmentPointer {
            id: Some(0),
            content_type: Some("Image/PNG".into()),
            key: Some(vec![1; key]),
            size: Some(5),
            digest: digest.then(|| vec![2; 32]),
            file_name: Some("../../etc/a\u{202e}b.png".into()),
            flags: None,
            width: Some(0),
            height: Some(10),
            caption: None,
            url: Some(url.into()),
        }
    }

    #[test]
    fn a_received_pointer_is_checked_before_anything_is_fetched() {
        let a = Attachment::from_pointer(&pointer("http://127.0.0.1:9000/file/abc", 64, true));
        assert_eq!(a.state, AttachmentState::Remote);
        assert_eq!(a.kind(), AttachmentKind::Image);
        assert_eq!(a.content_type, "image/png");
        assert_eq!((a.width, a.height), (None, Some(10)));
        let name = a.file_name.unwrap();
        assert!(!name.contains('/') && !name.contains('\u{202e}'), "{name}");
        for bad in [
            pointer("http://127.0.0.1:9000/file/abc", 64, false),
            pointer("http://127.0.0.1:9000/file/abc", 32, true),
            pointer("http://127.0.0.1:9000/file/abc#d", 64, true),
            pointer("javascript:alert(1)", 64, true),
            pointer("", 64, true),
        ] {
            assert_eq!(Attachment::from_pointer(&bad).state, AttachmentState::Damaged, "{:?}", bad.url);
        }
        assert_eq!(
            Attachment::from_pointer(&pointer("http://127.0.0.1:9000/file/abc#d", 32, false)).state,
            AttachmentState::Remote
        );
    }

    #[test]
    fn a_file_url_names_its_server_unless_it_is_sessions_own() {
        assert_eq!(FileServer::default().file_url("abc"), "http://filev2.getsession.org/file/abc");
        let devnet = FileServer::parse("http://127.0.0.1:9000/", &"11".repeat(32)).unwrap();
        assert_eq!(devnet.file_url("abc"), format!("http://127.0.0.1:9000/file/abc#p={}", "11".repeat(32)));
        assert!(FileServer::parse("ftp://x", &"11".repeat(32)).is_none());
        assert!(FileServer::parse("http://x", "11").is_none());
    }

    #[test]
    fn a_pointer_round_trips_and_its_key_never_prints() {
        let a = Attachment::from_pointer(&pointer("http://127.0.0.1:9000/file/123", 64, true));
        let p = a.pointer();
        assert_eq!(p.id, Some(123));
        assert_eq!(Attachment::from_pointer(&p), a);
        assert!(!format!("{a:?}").contains("0101"));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Attachment>(&json).unwrap(), a);
    }
}
