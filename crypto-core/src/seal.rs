//! Sign-then-sealed-box: how a 1:1 message's (padded) plaintext is encrypted.
//!
//! The sender signs `M ‖ A ‖ Y` (message, own Ed25519 key, recipient's X25519 key) and seals
//! `M ‖ A ‖ signature` to the recipient with libsodium's sealed box (X25519, XSalsa20-Poly1305,
//! nonce = BLAKE2b-192 of the ephemeral and recipient keys). The recipient opens the box, checks
//! the signature against its own key, and learns the sender from `A`.

use core::fmt;

use blake2::digest::{Mac, consts::U24, consts::U32};
use blake2::{Blake2b, Blake2bMac, Digest};
use crypto_box::aead::{Aead, generic_array::GenericArray};
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

use crate::identity::{IdPrefix, Identity, SessionId};

const KEY: usize = 32;
const TAG: usize = 16;
const SIG: usize = 64;
/// The smallest sealed message: ephemeral key, tag, sender key and signature around an empty text.
pub const MIN_SEALED_LEN: usize = KEY + TAG + KEY + SIG;

/// Why a message could not be sealed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SealError {
    /// Messages can only be sealed to an account (`05`) Session ID.
    NotAnAccount,
    /// The plaintext is too large for the cipher.
    TooLarge,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::NotAnAccount => f.write_str("messages can only be sent to a Session ID starting with 05"),
            SealError::TooLarge => f.write_str("the message is too large to encrypt"),
        }
    }
}

impl std::error::Error for SealError {}

/// A sealed message could not be opened. Deliberately says nothing about why.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpenError;

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the message could not be decrypted or verified")
    }
}

impl std::error::Error for OpenError {}

/// An opened message.
pub struct Opened {
    /// The sender's Session ID, derived from the key that signed.
    pub sender: SessionId,
    /// The sender's Ed25519 public key.
    pub sender_ed25519: [u8; 32],
    /// The (still padded) plaintext.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened").field("sender", &self.sender).finish_non_exhaustive()
    }
}

/// `M ‖ A ‖ SIG`, where SIG signs `M ‖ A ‖ Y`.
fn signed_plaintext(sender: &Identity, recipient_x25519: &[u8; 32], plaintext: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + KEY + SIG.max(KEY)));
    buf.extend_from_slice(plaintext);
    buf.extend_from_slice(sender.ed25519_public());
    buf.extend_from_slice(recipient_x25519);
    let signature = sender.signing_key().sign(&buf).to_bytes();
    buf.truncate(plaintext.len() + KEY);
    buf.extend_from_slice(&signature);
    buf
}

fn account_key(recipient: &SessionId) -> Result<[u8; 32], SealError> {
    match recipient.prefix() {
        IdPrefix::Standard => Ok(*recipient.key()),
        _ => Err(SealError::NotAnAccount),
    }
}

fn seal_nonce(ephemeral: &[u8; 32], recipient: &[u8; 32]) -> GenericArray<u8, U24> {
    let mut hasher = Blake2b::<U24>::new();
    hasher.update(ephemeral);
    hasher.update(recipient);
    hasher.finalize()
}

/// Seals `plaintext` (already padded) from `sender` to `recipient` with a fresh ephemeral key.
pub fn seal(
    rng: &mut impl CryptoRngCore,
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let y = account_key(recipient)?;
    let inner = signed_plaintext(sender, &y, plaintext);
    // The AEAD's only error is a length overflow.
    PublicKey::from(y).seal(rng, &inner).map_err(|_| SealError::TooLarge)
}

/// The deterministic variant (libsession `encrypt_for_recipient_deterministic`): the ephemeral key
/// is derived from the sender's seed, the recipient and the message, so equal inputs give equal
/// output. The result opens like any sealed message.
pub fn seal_deterministic(sender: &Identity, recipient: &SessionId, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let y = account_key(recipient)?;
    let inner = signed_plaintext(sender, &y, plaintext);

    let mut mac =
        <Blake2bMac<U32> as Mac>::new_from_slice(b"SessionBoxEphemeralHashKey").map_err(|_| SealError::TooLarge)?;
    mac.update(&*sender.ed25519_seed());
    mac.update(&y);
    mac.update(plaintext);
    let mut ephemeral_seed: [u8; 32] = mac.finalize().into_bytes().into();
    // crypto_box_seed_keypair: the secret key is the first half of SHA-512(seed).
    let mut hash: [u8; 64] = Sha512::digest(ephemeral_seed).into();
    ephemeral_seed.zeroize();
    let mut secret_bytes = [0u8; 32];
    secret_bytes.copy_from_slice(&hash[..32]);
    hash.zeroize();
    let ephemeral = SecretKey::from_bytes(secret_bytes);
    secret_bytes.zeroize();
    let ephemeral_public = ephemeral.public_key();

    let nonce = seal_nonce(ephemeral_public.as_bytes(), &y);
    let boxed = SalsaBox::new(&PublicKey::from(y), &ephemeral)
        .encrypt(&nonce, inner.as_slice())
        .map_err(|_| SealError::TooLarge)?;
    let mut out = Vec::with_capacity(KEY + boxed.len());
    out.extend_from_slice(ephemeral_public.as_bytes());
    out.extend_from_slice(&boxed);
    Ok(out)
}

/// Opens a sealed message addressed to `recipient`, verifying the sender's signature.
pub fn open(recipient: &Identity, sealed: &[u8]) -> Result<Opened, OpenError> {
    if sealed.len() < MIN_SEALED_LEN {
        return Err(OpenError);
    }
    let (ephemeral, boxed) = sealed.split_at(KEY);
    let ephemeral: [u8; 32] = ephemeral.try_into().map_err(|_| OpenError)?;
    let y = recipient.x25519_public();
    let nonce = seal_nonce(&ephemeral, y);
    let secret = SecretKey::from_bytes(recipient.x25519_secret().to_bytes());
    let mut inner = Zeroizing::new(
        SalsaBox::new(&PublicKey::from(ephemeral), &secret).decrypt(&nonce, boxed).map_err(|_| OpenError)?,
    );
    drop(secret);

    // inner = M ‖ A ‖ SIG; verify SIG over M ‖ A ‖ Y by reusing the buffer.
    let message_len = inner.len().checked_sub(KEY + SIG).ok_or(OpenError)?;
    let signature: [u8; 64] = inner.get(message_len + KEY..).and_then(|s| s.try_into().ok()).ok_or(OpenError)?;
    let sender_ed25519: [u8; 32] =
        inner.get(message_len..message_len + KEY).and_then(|s| s.try_into().ok()).ok_or(OpenError)?;
    let verifying = VerifyingKey::from_bytes(&sender_ed25519).map_err(|_| OpenError)?;
    if verifying.is_weak() {
        return Err(OpenError);
    }
    inner.truncate(message_len + KEY);
    inner.extend_from_slice(y);
    verifying.verify_strict(&inner, &Signature::from_bytes(&signature)).map_err(|_| OpenError)?;
    inner.truncate(message_len);

    let sender = SessionId::new(IdPrefix::Standard, verifying.to_montgomery().to_bytes());
    Ok(Opened { sender, sender_ed25519, plaintext: inner })
}
