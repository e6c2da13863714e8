//! Sign-then-sealed-box: how a 1:1 message's (padded) plaintext is encrypted.
//!
//! The sender signs `M ‖ A ‖ Y` (message, own Ed25519 key, recipient's X25519 key) and seals
//! `M ‖ A ‖ signature` to the recipient with libsodium's sealed box (X25519, XSalsa20-Poly1305,
//! nonce = BLAKE2b-192 of the ephemeral and recipient keys). The recipient opens the box, checks
//! the signature against its own key, and learns the sender from `A`.

use core::fmt;

use blake2::digest::{Mac, consts::U24, consts::U32};
use blake2::{Blake2b, Blake2bMac, Digest};
use crypto_secretbox::aead::generic_array::GenericArray;
use crypto_secretbox::{AeadInPlace, Kdf, KeyInit, XSalsa20Poly1305};
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::Sha512;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::curve::x25519;
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
    /// The recipient's key is a low-order point: any box to it would be readable by anyone.
    WeakRecipientKey,
    /// The plaintext is too large for the cipher.
    TooLarge,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::NotAnAccount => f.write_str("messages can only be sent to a Session ID starting with 05"),
            SealError::WeakRecipientKey => f.write_str("the recipient's key is not a usable public key"),
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

/// An opened message. The plaintext is zeroized on drop; `Debug` shows only the sender.
#[derive(Zeroize)]
pub struct Opened {
    /// The sender's Session ID, derived from the key that signed.
    #[zeroize(skip)]
    pub sender: SessionId,
    /// The sender's Ed25519 public key.
    #[zeroize(skip)]
    pub sender_ed25519: [u8; 32],
    /// The (still padded) plaintext.
    pub plaintext: Zeroizing<Vec<u8>>,
}

wipe_on_drop!(Opened);

#[cfg(test)]
impl crate::SecretFields for Opened {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        // The sender's keys are public keys, and `message::Received` carries them on.
        let Opened { sender: _, sender_ed25519: _, plaintext } = self;
        vec![("plaintext", plaintext.to_vec())]
    }
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened").field("sender", &self.sender).finish_non_exhaustive()
    }
}

fn account_key(recipient: &SessionId) -> Result<[u8; 32], SealError> {
    match recipient.prefix() {
        IdPrefix::Standard => Ok(*recipient.key()),
        _ => Err(SealError::NotAnAccount),
    }
}

/// The sealed box's nonce: BLAKE2b-192 of `E ‖ Y`.
fn seal_nonce(ephemeral: &[u8; 32], recipient: &[u8; 32]) -> GenericArray<u8, U24> {
    let mut hasher = Blake2b::<U24>::new();
    hasher.update(ephemeral);
    hasher.update(recipient);
    hasher.finalize()
}

/// The `crypto_box` key for (secret, public): HSalsa20 of the X25519 shared point. `None` when
/// the shared point is zero (a low-order public key), which libsodium also refuses.
fn box_cipher(secret: &[u8; 32], public: &[u8; 32]) -> Option<XSalsa20Poly1305> {
    let shared = x25519(secret, public);
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return None;
    }
    let mut key = XSalsa20Poly1305::kdf(GenericArray::from_slice(&*shared), &GenericArray::default());
    let cipher = XSalsa20Poly1305::new(&key);
    key.zeroize();
    Some(cipher)
}

/// Builds `E ‖ MAC ‖ box(M ‖ A ‖ SIG)` in one buffer, where SIG signs `M ‖ A ‖ Y` and E is the
/// public half of `ephemeral` (a `crypto_box` secret key). The plaintext is encrypted in place.
fn seal_with(
    ephemeral: &Zeroizing<[u8; 32]>,
    sender: &Identity,
    y: &[u8; 32],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let cipher = box_cipher(ephemeral, y).ok_or(SealError::WeakRecipientKey)?;
    let ephemeral_public = MontgomeryPoint::mul_base_clamped(**ephemeral).to_bytes();
    let nonce = seal_nonce(&ephemeral_public, y);

    let header = KEY + TAG;
    let total = plaintext.len().checked_add(header + KEY + SIG).ok_or(SealError::TooLarge)?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&ephemeral_public);
    out.resize(header, 0);
    // Sign M ‖ A ‖ Y where it lies, then put the signature in Y's place.
    out.extend_from_slice(plaintext);
    out.extend_from_slice(sender.ed25519_public());
    out.extend_from_slice(y);
    let signature = sender.signing_key().sign(out.get(header..).unwrap_or_default()).to_bytes();
    out.truncate(total - SIG);
    out.extend_from_slice(&signature);

    let sealed = match out.split_at_mut_checked(header) {
        Some((head, body)) => match cipher.encrypt_in_place_detached(&nonce, b"", body) {
            Ok(tag) => head.get_mut(KEY..).map(|slot| slot.copy_from_slice(&tag)).is_some(),
            Err(_) => false,
        },
        None => false,
    };
    if sealed {
        Ok(out)
    } else {
        // The AEAD's only error is a length overflow; do not leave the plaintext behind.
        out.zeroize();
        Err(SealError::TooLarge)
    }
}

/// Seals `plaintext` (already padded) from `sender` to `recipient` with a fresh ephemeral key.
pub fn seal(
    rng: &mut impl CryptoRngCore,
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let y = account_key(recipient)?;
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut *ephemeral);
    seal_with(&ephemeral, sender, &y, plaintext)
}

/// The deterministic variant (libsession `encrypt_for_recipient_deterministic`): the ephemeral key
/// is derived from the sender's seed, the recipient and the message, so equal inputs give equal
/// output. The result opens like any sealed message.
pub fn seal_deterministic(sender: &Identity, recipient: &SessionId, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let y = account_key(recipient)?;
    let mut mac =
        <Blake2bMac<U32> as Mac>::new_from_slice(b"SessionBoxEphemeralHashKey").map_err(|_| SealError::TooLarge)?;
    mac.update(&*sender.ed25519_seed());
    mac.update(&y);
    mac.update(plaintext);
    let mut ephemeral_seed: [u8; 32] = mac.finalize().into_bytes().into();
    // crypto_box_seed_keypair: the secret key is the first half of SHA-512(seed).
    let mut hash: [u8; 64] = Sha512::digest(ephemeral_seed).into();
    ephemeral_seed.zeroize();
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    if let Some(first_half) = hash.first_chunk::<32>() {
        ephemeral.copy_from_slice(first_half);
    }
    hash.zeroize();
    seal_with(&ephemeral, sender, &y, plaintext)
}

/// Opens a sealed message addressed to `recipient`, verifying the sender's signature.
pub fn open(recipient: &Identity, sealed: &[u8]) -> Result<Opened, OpenError> {
    if sealed.len() < MIN_SEALED_LEN {
        return Err(OpenError);
    }
    let (ephemeral, rest) = sealed.split_first_chunk::<KEY>().ok_or(OpenError)?;
    let (tag, boxed) = rest.split_first_chunk::<TAG>().ok_or(OpenError)?;
    let y = recipient.x25519_public();
    let nonce = seal_nonce(ephemeral, y);
    let cipher = box_cipher(&Zeroizing::new(recipient.x25519_secret().to_bytes()), ephemeral).ok_or(OpenError)?;
    // Y later takes the (longer) signature's place, so this capacity is enough.
    let mut inner = Zeroizing::new(Vec::with_capacity(boxed.len()));
    inner.extend_from_slice(boxed);
    cipher.decrypt_in_place_detached(&nonce, b"", &mut inner, GenericArray::from_slice(tag)).map_err(|_| OpenError)?;
    drop(cipher);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_box::{PublicKey, SecretKey};
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    /// The crypto_box crate's sealed box (an independent implementation of libsodium's) opens what
    /// we seal, and we open what it seals.
    #[test]
    fn interoperates_with_the_crypto_box_sealed_box() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let alice = Identity::generate(&mut rng);
        let bob = Identity::generate(&mut rng);
        let bob_secret = SecretKey::from_bytes(bob.x25519_secret().to_bytes());

        let ours = seal(&mut rng, &alice, &bob.session_id(), b"to bob").unwrap();
        let inner = bob_secret.unseal(&ours).unwrap();
        assert_eq!(inner.len(), 6 + 96);
        assert_eq!(&inner[..6], b"to bob");
        assert_eq!(&inner[6..38], alice.ed25519_public());

        let deterministic = seal_deterministic(&alice, &bob.session_id(), b"again").unwrap();
        assert_eq!(&bob_secret.unseal(&deterministic).unwrap()[..5], b"again");

        let mut signed = b"from the crate".to_vec();
        signed.extend_from_slice(alice.ed25519_public());
        signed.extend_from_slice(bob.x25519_public());
        let signature = alice.sign(&signed);
        signed.truncate(signed.len() - 32);
        signed.extend_from_slice(&signature);
        let theirs = PublicKey::from(*bob.x25519_public()).seal(&mut rng, &signed).unwrap();
        let opened = open(&bob, &theirs).unwrap();
        assert_eq!(&opened.plaintext[..], b"from the crate");
        assert_eq!(opened.sender, alice.session_id());
    }

    #[test]
    fn low_order_keys_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let alice = Identity::generate(&mut rng);
        let zero = SessionId::new(IdPrefix::Standard, [0; 32]);
        assert_eq!(seal(&mut rng, &alice, &zero, b"x"), Err(SealError::WeakRecipientKey));
        // A message whose ephemeral key is the zero point: libsodium refuses it, so do we.
        let mut forged = vec![0u8; MIN_SEALED_LEN + 5];
        rng.fill_bytes(&mut forged[KEY..]);
        assert_eq!(open(&alice, &forged).unwrap_err(), OpenError);
    }
}
