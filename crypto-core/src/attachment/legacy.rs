//! The legacy scheme (protocol-files §3.2; desktop `attachmentsEncrypter.ts`, Android
//! `AttachmentCipher*Stream`): zero padding to P(n), AES-256-CBC with PKCS#7, HMAC-SHA256.

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::{AttachmentKey, Encrypted, KeyBytes, MAX_FILE_BYTES, OpenError, TooLarge, cut_to_size};

const IV: usize = 16;
const MAC: usize = 32;
const BLOCK: usize = 16;
/// The smallest padded length.
const MIN_PADDED: usize = 541;

/// The legacy padded length P(n): `max(541, floor(1.05 ^ ceil(ln n / ln 1.05)))`, at most
/// 10,000,000 for `n` ≤ 10,000,000, never less than `n`. `ln(max(1, n))` as Android, so P(0) = 541.
/// IEEE doubles as desktop; a last-bit difference at an exact power is harmless, as receivers cut
/// to the pointer's `size`.
pub fn padded_len(n: usize) -> usize {
    let steps = ((n.max(1) as f64).ln() / 1.05f64.ln()).ceil();
    // `as` saturates: a length beyond usize is usize::MAX.
    let padded = (1.05f64.powf(steps).floor() as usize).max(MIN_PADDED);
    let padded = if n <= MAX_FILE_BYTES { padded.min(MAX_FILE_BYTES) } else { padded };
    padded.max(n)
}

/// Encrypts a file the way current clients do, with a fresh random key and iv. The plaintext may
/// be at most [`MAX_FILE_BYTES`].
pub fn encrypt_legacy(rng: &mut impl CryptoRngCore, plaintext: &[u8]) -> Result<Encrypted, TooLarge> {
    let mut key = Zeroizing::new([0u8; 64]);
    let mut iv = [0u8; IV];
    rng.fill_bytes(&mut *key);
    rng.fill_bytes(&mut iv);
    encrypt_legacy_with(&key, &iv, plaintext)
}

/// [`encrypt_legacy`] with a given key and iv (for test vectors; never reuse a key).
#[doc(hidden)]
pub fn encrypt_legacy_with(key: &[u8; 64], iv: &[u8; IV], plaintext: &[u8]) -> Result<Encrypted, TooLarge> {
    if plaintext.len() > MAX_FILE_BYTES {
        return Err(TooLarge { len: plaintext.len(), max: MAX_FILE_BYTES });
    }
    let (aes_key, mac_key) = key.split_at(32);
    let padded = padded_len(plaintext.len());
    let ct_len = (padded / BLOCK + 1) * BLOCK;
    let mut out = vec![0u8; IV + ct_len + MAC];
    let (head, mac_slot) = out.split_at_mut(IV + ct_len);
    let (iv_slot, body) = head.split_at_mut(IV);
    iv_slot.copy_from_slice(iv);
    // The zero-padded plaintext is laid straight into the output and encrypted there.
    if let Some(slot) = body.get_mut(..plaintext.len()) {
        slot.copy_from_slice(plaintext);
    }
    let encrypted = cbc::Encryptor::<Aes256>::new(aes_key.into(), iv.into()).encrypt_padded_mut::<Pkcs7>(body, padded);
    // Never: `body` has room for the padded plaintext and a whole block of PKCS#7 padding. Were it
    // otherwise, no plaintext would leave here.
    if encrypted.is_err() {
        out.zeroize();
        return Err(TooLarge { len: plaintext.len(), max: MAX_FILE_BYTES });
    }
    mac_slot.copy_from_slice(&hmac(mac_key).chain_update(&*head).finalize().into_bytes());
    let digest: [u8; 32] = Sha256::digest(&out).into();
    Ok(Encrypted { data: out, key: AttachmentKey { key: KeyBytes::Legacy(*key) }, digest: Some(digest) })
}

/// Opens a legacy attachment: `data` must be longer than 48 bytes, `key` 64 bytes, `digest`
/// present and equal to the SHA-256 of `data` (desktop and Android refuse an attachment without
/// one), the MAC right; only then is it decrypted. A plaintext longer than `size` is cut to it (the
/// zero padding); a shorter one is an error.
pub fn decrypt_legacy(
    data: &[u8],
    key: &AttachmentKey,
    digest: Option<&[u8]>,
    size: Option<u64>,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let key = key.legacy().ok_or(OpenError)?;
    let digest = digest.ok_or(OpenError)?;
    if data.len() <= IV + MAC {
        return Err(OpenError);
    }
    if !bool::from(Sha256::digest(data).as_slice().ct_eq(digest)) {
        return Err(OpenError);
    }
    let (aes_key, mac_key) = key.split_at(32);
    let (signed, mac) = data.split_at(data.len() - MAC);
    hmac(mac_key).chain_update(signed).verify_slice(mac).map_err(|_| OpenError)?;
    let (iv, ct) = signed.split_at(IV);
    let mut plaintext = Zeroizing::new(ct.to_vec());
    let len = cbc::Decryptor::<Aes256>::new(aes_key.into(), iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut plaintext)
        .map_err(|_| OpenError)?
        .len();
    if let Some(removed) = plaintext.get_mut(len..) {
        removed.zeroize();
    }
    plaintext.truncate(len);
    cut_to_size(&mut plaintext, size)?;
    Ok(plaintext)
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()))
}
