//! Attachments: files, images and voice messages stored on a file server, and the URL that names
//! one (protocol-files §2.6, §3).
//!
//! Two schemes, told apart by the URL's `d` fragment item and nothing else:
//! - legacy ([`encrypt_legacy`], [`decrypt_legacy`]): the plaintext zero-padded to [`padded_len`],
//!   AES-256-CBC with PKCS#7, then HMAC-SHA256 over `iv ‖ ct`; a random 64-byte key (AES key ‖ MAC
//!   key) and the SHA-256 `digest` of the upload travel in the message. What current clients send.
//! - deterministic ([`encrypt_deterministic`], [`decrypt_deterministic`]): libsession's
//!   `'S' ‖ header ‖ secretstream chunks`, with the 32-byte key and the header derived from the
//!   uploader's seed and the data, padding at the front, to [`deterministic_len`] bytes.
//!
//! Profile pictures of the older form are AES-256-GCM under the profile key
//! ([`encrypt_profile_picture`], [`decrypt_profile_picture`]). [`FileUrl`] reads and writes the
//! URL stored in the message.
//!
//! Every failure to open is the one opaque [`OpenError`]: it never says which check failed.

mod deterministic;
mod legacy;
mod url;

use core::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

pub use crate::seal::OpenError;
pub(crate) use deterministic::seal_pieces;
pub use deterministic::{
    Domain, MAX_DETERMINISTIC_BYTES, decrypt_deterministic, deterministic_len, encrypt_deterministic,
};
pub use legacy::{decrypt_legacy, encrypt_legacy, encrypt_legacy_with, padded_len};
pub use url::{FileUrl, UrlError};

/// The largest plaintext file any client sends or accepts: 10,000,000 bytes (desktop, Android and
/// libsession alike).
pub const MAX_FILE_BYTES: usize = 10_000_000;

/// The key of one attachment: 64 bytes (legacy: AES key ‖ MAC key) or 32 bytes (deterministic).
/// Zeroized on drop; `Debug` shows only its length.
pub struct AttachmentKey {
    key: KeyBytes,
}

enum KeyBytes {
    Legacy([u8; 64]),
    Deterministic([u8; 32]),
}

impl AttachmentKey {
    /// A key as it arrives in an attachment pointer: 32 or 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<AttachmentKey, KeyLengthError> {
        if let Ok(key) = <[u8; 64]>::try_from(bytes) {
            Ok(AttachmentKey { key: KeyBytes::Legacy(key) })
        } else if let Ok(key) = <[u8; 32]>::try_from(bytes) {
            Ok(AttachmentKey { key: KeyBytes::Deterministic(key) })
        } else {
            Err(KeyLengthError { len: bytes.len() })
        }
    }

    /// The key's bytes, as they go into an attachment pointer.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.key {
            KeyBytes::Legacy(key) => key,
            KeyBytes::Deterministic(key) => key,
        }
    }

    fn legacy(&self) -> Option<&[u8; 64]> {
        match &self.key {
            KeyBytes::Legacy(key) => Some(key),
            KeyBytes::Deterministic(_) => None,
        }
    }

    fn deterministic(&self) -> Option<&[u8; 32]> {
        match &self.key {
            KeyBytes::Legacy(_) => None,
            KeyBytes::Deterministic(key) => Some(key),
        }
    }
}

impl Zeroize for AttachmentKey {
    fn zeroize(&mut self) {
        match &mut self.key {
            KeyBytes::Legacy(key) => key.zeroize(),
            KeyBytes::Deterministic(key) => key.zeroize(),
        }
    }
}

wipe_on_drop!(AttachmentKey);

#[cfg(test)]
impl crate::SecretFields for AttachmentKey {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let AttachmentKey { key } = self;
        let bytes = match key {
            KeyBytes::Legacy(key) => key.to_vec(),
            KeyBytes::Deterministic(key) => key.to_vec(),
        };
        vec![("key", bytes)]
    }
}

impl fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentKey").field("len", &self.as_bytes().len()).finish_non_exhaustive()
    }
}

/// An encrypted attachment: the bytes to upload and what the attachment pointer carries.
pub struct Encrypted {
    /// The bytes to upload.
    pub data: Vec<u8>,
    /// The key for the pointer's `key`.
    pub key: AttachmentKey,
    /// SHA-256 of `data` for the pointer's `digest` (legacy only; `None` when deterministic).
    pub digest: Option<[u8; 32]>,
}

impl fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypted")
            .field("data_len", &self.data.len())
            .field("key", &self.key)
            .field("digest", &self.digest.map(hex::encode))
            .finish()
    }
}

/// A key of the wrong length: attachment keys are 32 or 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyLengthError {
    /// The length given.
    pub len: usize,
}

impl fmt::Display for KeyLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an attachment key is 32 or 64 bytes, not {}", self.len)
    }
}

impl std::error::Error for KeyLengthError {}

/// A file too large to encrypt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TooLarge {
    /// The plaintext's length.
    pub len: usize,
    /// The largest plaintext the scheme takes.
    pub max: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the file is {} bytes, over the limit of {} bytes", self.len, self.max)
    }
}

impl std::error::Error for TooLarge {}

/// Decrypts a downloaded attachment with the scheme its URL names (`deterministic` = the URL has
/// `d`, [`FileUrl::deterministic`]), then holds it to `size` as [`decrypt_legacy`] does: a longer
/// plaintext is cut to `size`, a shorter one is an error.
pub fn decrypt(
    data: &[u8],
    key: &AttachmentKey,
    digest: Option<&[u8]>,
    size: Option<u64>,
    deterministic: bool,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if !deterministic {
        return decrypt_legacy(data, key, digest, size);
    }
    let mut plaintext = decrypt_deterministic(data, key)?;
    cut_to_size(&mut plaintext, size)?;
    Ok(plaintext)
}

/// Cuts `plaintext` to the pointer's `size`; shorter than `size` is an error.
fn cut_to_size(plaintext: &mut Vec<u8>, size: Option<u64>) -> Result<(), OpenError> {
    if let Some(size) = size {
        let size = usize::try_from(size).map_err(|_| OpenError)?;
        if size > plaintext.len() {
            return Err(OpenError);
        }
        plaintext.truncate(size);
    }
    Ok(())
}

const GCM_IV: usize = 12;
const GCM_TAG: usize = 16;

/// A profile picture of the older form (protocol-files §3.4): AES-256-GCM under the 32-byte
/// profile key, `iv (12) ‖ ciphertext ‖ tag (16)` with a fresh random iv.
pub fn encrypt_profile_picture(rng: &mut impl CryptoRngCore, key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    let mut iv = [0u8; GCM_IV];
    rng.fill_bytes(&mut iv);
    // AES-GCM fails only for inputs beyond 2^36 bytes, far past any picture.
    let sealed = Aes256Gcm::new(key.into()).encrypt(&iv.into(), data).unwrap_or_default();
    let mut out = Vec::with_capacity(GCM_IV + sealed.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&sealed);
    out
}

/// Opens a profile picture of the older form with the profile key (which must be 32 bytes).
pub fn decrypt_profile_picture(key: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let key = <&[u8; 32]>::try_from(key).map_err(|_| OpenError)?;
    if data.len() < GCM_IV + GCM_TAG {
        return Err(OpenError);
    }
    let (iv, sealed) = data.split_at(GCM_IV);
    Aes256Gcm::new(key.into()).decrypt(iv.into(), sealed).map(Zeroizing::new).map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use zeroize::Zeroize;

    use super::*;
    use crate::SecretFields;

    /// Invariant: secret types zeroize on drop (as `secret_types_zeroize_every_field_on_drop` in
    /// lib.rs does for the others): the `zeroize()` that `Drop` runs wipes every secret field.
    #[test]
    fn attachment_keys_zeroize_every_field_on_drop() {
        for len in [32, 64] {
            let mut key = AttachmentKey::from_bytes(&vec![0x5c; len]).unwrap();
            assert!(
                key.secret_fields().iter().all(|(_, bytes)| bytes.len() == len && bytes.iter().all(|&b| b == 0x5c))
            );
            key.zeroize();
            assert!(key.secret_fields().iter().all(|(_, bytes)| bytes.iter().all(|&b| b == 0)));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut encrypted = encrypt_legacy(&mut rng, b"x").unwrap();
        encrypted.key.zeroize();
        assert!(encrypted.key.as_bytes().iter().all(|&b| b == 0));
    }

    #[test]
    fn too_large_and_key_length_errors_say_what() {
        assert_eq!(
            TooLarge { len: 10_000_001, max: MAX_FILE_BYTES }.to_string(),
            "the file is 10000001 bytes, over the limit of 10000000 bytes"
        );
        assert_eq!(KeyLengthError { len: 16 }.to_string(), "an attachment key is 32 or 64 bytes, not 16");
    }
}
