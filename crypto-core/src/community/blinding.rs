//! Blinded ids (protocol-communities §3, protocol-onion §2.4): the `15` and `25` ids a community
//! knows an account by, the blinded key pairs that sign for them, and the checks that tie a
//! blinded id to a Session ID.
//!
//! Notation as in the note: `a` is the account's clamped Ed25519 scalar, `A = a·G` its Ed25519 key,
//! `X` its X25519 key (the Session ID without `05`), `S` the server's X25519 key, `red()` the
//! reduction of a 64-byte hash modulo the group order.
//!
//! - `15`: `k = red(BLAKE2b-512(S))`, key pair `(k·a, k·a·G)`. From a Session ID alone the id is
//!   known up to its sign (`k·|A|` or its negation); and since `k` does not depend on the account,
//!   the Session ID can be recovered from a `15` id (`k⁻¹·kA` maps to `X`), see [`unblind15`].
//! - `25`: `k' = red(BLAKE2b-512(05 ‖ X ‖ S))`, id `k'·|A|`; the key pair negates `k'` when `A` is
//!   negative, so the id is exact. Only libsession speaks it; SOGS servers take `15`.

use core::fmt;

use blake2::digest::Mac;
use blake2::digest::consts::{U32, U64};
use blake2::{Blake2b512, Blake2bMac, Digest};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

use crate::identity::{IdPrefix, Identity, SessionId};

/// Why a blinded id could not be computed or read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum BlindingError {
    /// The id has the wrong prefix for this operation (`expected` is what was needed).
    WrongPrefix { expected: IdPrefix, found: IdPrefix },
    /// The key is not a usable curve point (not on the curve, or of small order).
    InvalidKey,
}

impl fmt::Display for BlindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlindingError::WrongPrefix { expected, found } => {
                write!(f, "expected an id starting with {:02x}, found {:02x}", expected.byte(), found.byte())
            }
            BlindingError::InvalidKey => f.write_str("the key is not a valid curve point"),
        }
    }
}

impl std::error::Error for BlindingError {}

/// How the nonce of a `15` signature is derived. Both give valid signatures; they differ in bytes
/// only (§3.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Blind15Nonce {
    /// session-desktop's rule: the second half of SHA-512 of the 32-byte seed (vector C3).
    Desktop,
    /// libsession's rule: the second half of SHA-512 of the 64-byte secret key (seed ‖ A) (C1).
    Libsession,
}

/// Which blinding a [`BlindedKeys`] uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    Blind15,
    Blind25,
}

/// The `15` blinding factor of a server: `red(BLAKE2b-512(S))`, as 32 little-endian bytes.
pub fn blind15_factor(server: &[u8; 32]) -> [u8; 32] {
    factor15(server).to_bytes()
}

fn factor15(server: &[u8; 32]) -> Scalar {
    Scalar::from_bytes_mod_order_wide(&Blake2b512::digest(server).into())
}

/// The `25` blinding factor: `red(BLAKE2b-512(05 ‖ X ‖ S))`.
fn factor25(x25519: &[u8; 32], server: &[u8; 32]) -> Scalar {
    let mut hasher = Blake2b512::new();
    hasher.update([0x05]);
    hasher.update(x25519);
    hasher.update(server);
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// `|A|`: the Ed25519 point of an X25519 key with the sign bit clear. Rejects keys with no
/// Edwards point and points of small order.
fn positive_point(x25519: &[u8; 32]) -> Result<EdwardsPoint, BlindingError> {
    let point = MontgomeryPoint(*x25519).to_edwards(0).ok_or(BlindingError::InvalidKey)?;
    if point.is_small_order() || !point.is_torsion_free() {
        return Err(BlindingError::InvalidKey);
    }
    Ok(point)
}

/// A point from its 32 bytes, refusing non-points, small-order and mixed-order points.
pub(crate) fn prime_order_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*bytes).decompress()?;
    (!point.is_small_order() && point.is_torsion_free()).then_some(point)
}

fn account_key(session: &SessionId) -> Result<&[u8; 32], BlindingError> {
    match session.prefix() {
        IdPrefix::Standard => Ok(session.key()),
        found => Err(BlindingError::WrongPrefix { expected: IdPrefix::Standard, found }),
    }
}

/// The same 32 bytes with the sign bit (bit 7 of the last byte) flipped: the point's negation.
pub(crate) fn flip_sign(mut key: [u8; 32]) -> [u8; 32] {
    if let Some(last) = key.last_mut() {
        *last ^= 0x80;
    }
    key
}

/// The two `15` ids a Session ID may have on a server: `[0]` = `k·|A|`, `[1]` its negation
/// (libsession's `blind15_id`). The account's real id is one of them; which one depends on the
/// sign of its Ed25519 key, which the Session ID does not tell.
pub fn blind15_ids(session: &SessionId, server: &[u8; 32]) -> Result<[SessionId; 2], BlindingError> {
    let point = positive_point(account_key(session)?)?;
    let key = (factor15(server) * point).compress().to_bytes();
    Ok([SessionId::new(IdPrefix::BlindedLegacy, key), SessionId::new(IdPrefix::BlindedLegacy, flip_sign(key))])
}

/// The `25` id of a Session ID on a server (no sign ambiguity).
pub fn blind25_id(session: &SessionId, server: &[u8; 32]) -> Result<SessionId, BlindingError> {
    let x25519 = account_key(session)?;
    let point = positive_point(x25519)?;
    Ok(SessionId::new(IdPrefix::Blinded, (factor25(x25519, server) * point).compress().to_bytes()))
}

/// The Session ID behind a `15` id: `k⁻¹·kA` is `±A`, and both signs map to the same X25519 key.
/// (This is why `15` blinding hides nothing from whoever knows the server's key, and why `25`
/// exists.)
pub fn unblind15(blinded: &SessionId, server: &[u8; 32]) -> Result<SessionId, BlindingError> {
    if blinded.prefix() != IdPrefix::BlindedLegacy {
        return Err(BlindingError::WrongPrefix { expected: IdPrefix::BlindedLegacy, found: blinded.prefix() });
    }
    let point = prime_order_point(blinded.key()).ok_or(BlindingError::InvalidKey)?;
    let k = factor15(server);
    if k == Scalar::ZERO {
        return Err(BlindingError::InvalidKey);
    }
    let account = k.invert() * point;
    Ok(SessionId::new(IdPrefix::Standard, account.to_montgomery().to_bytes()))
}

/// Whether `blinded` (a `15` or `25` id, or a `05` id itself) is `session`'s id on the server:
/// for `15` either sign is accepted. Any unusable key answers `false`.
pub fn blinded_id_matches(blinded: &SessionId, session: &SessionId, server: &[u8; 32]) -> bool {
    match blinded.prefix() {
        IdPrefix::Standard => blinded == session,
        IdPrefix::BlindedLegacy => blind15_ids(session, server).is_ok_and(|ids| ids.contains(blinded)),
        IdPrefix::Blinded => blind25_id(session, server).is_ok_and(|id| id == *blinded),
        _ => false,
    }
}

/// An account's blinded key pair for one server: the blinded secret scalar, the secret its
/// signature nonces are derived from, and the blinded public key.
///
/// Zeroized on drop; `Debug` shows only the blinded id.
pub struct BlindedKeys {
    scalar: Scalar,
    nonce_key: [u8; 32],
    public: [u8; 32],
    scheme: Scheme,
}

impl BlindedKeys {
    /// The `15` key pair (what SOGS servers take), signing with desktop's nonce rule.
    pub fn blind15(identity: &Identity, server: &[u8; 32]) -> BlindedKeys {
        BlindedKeys::blind15_with(identity, server, Blind15Nonce::Desktop)
    }

    /// The `15` key pair, signing with the given nonce rule.
    pub fn blind15_with(identity: &Identity, server: &[u8; 32], nonce: Blind15Nonce) -> BlindedKeys {
        let seed = identity.ed25519_seed();
        let mut hasher = Sha512::new();
        hasher.update(*seed);
        if nonce == Blind15Nonce::Libsession {
            hasher.update(identity.ed25519_public());
        }
        let hash = Zeroizing::new(<[u8; 64]>::from(hasher.finalize()));
        let mut nonce_key = [0u8; 32];
        nonce_key.copy_from_slice(hash.get(32..).unwrap_or_default());
        let scalar = factor15(server) * account_scalar(identity);
        let public = EdwardsPoint::mul_base(&scalar).compress().to_bytes();
        BlindedKeys { scalar, nonce_key, public, scheme: Scheme::Blind15 }
    }

    /// The `25` key pair (libsession's scheme; its public key is [`blind25_id`] of the account).
    pub fn blind25(identity: &Identity, server: &[u8; 32]) -> BlindedKeys {
        let mut k = factor25(identity.x25519_public(), server);
        if identity.ed25519_public().last().is_some_and(|b| b & 0x80 != 0) {
            k = -k;
        }
        let scalar = k * account_scalar(identity);
        let public = EdwardsPoint::mul_base(&scalar).compress().to_bytes();
        let seed = identity.ed25519_seed();
        let mut nonce_key = [0u8; 32];
        if let Ok(mac) = <Blake2bMac<U32> as Mac>::new_from_slice(b"SessCommBlind25_seed") {
            nonce_key.copy_from_slice(&mac.chain_update(*seed).finalize().into_bytes());
        }
        BlindedKeys { scalar, nonce_key, public, scheme: Scheme::Blind25 }
    }

    /// The blinded id (`15` or `25` followed by the public key).
    pub fn id(&self) -> SessionId {
        let prefix = match self.scheme {
            Scheme::Blind15 => IdPrefix::BlindedLegacy,
            Scheme::Blind25 => IdPrefix::Blinded,
        };
        SessionId::new(prefix, self.public)
    }

    /// The blinded public key (an Ed25519 key: plain Ed25519 verifies this pair's signatures).
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// An Ed25519-compatible signature over `msg` with the blinded scalar (§3.3).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let r = match self.scheme {
            Scheme::Blind15 => {
                let mut hasher = Sha512::new();
                hasher.update(self.nonce_key);
                hasher.update(self.public);
                hasher.update(msg);
                Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
            }
            Scheme::Blind25 => match <Blake2bMac<U64> as Mac>::new_from_slice(b"SessCommBlind25_sig") {
                Ok(mac) => {
                    let hash = mac.chain_update(self.nonce_key).chain_update(self.public).chain_update(msg);
                    Scalar::from_bytes_mod_order_wide(&hash.finalize().into_bytes().into())
                }
                // The key is a 19-byte constant, always accepted; a zero nonce is never used.
                Err(_) => Scalar::ONE,
            },
        };
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let mut hasher = Sha512::new();
        hasher.update(big_r);
        hasher.update(self.public);
        hasher.update(msg);
        let h = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = r + h * self.scalar;
        let mut sig = [0u8; 64];
        let (left, right) = sig.split_at_mut(32);
        left.copy_from_slice(&big_r);
        right.copy_from_slice(s.as_bytes());
        sig
    }
}

/// The account's clamped Ed25519 scalar `a` (libsodium's `crypto_sign_ed25519_sk_to_curve25519`,
/// which is also the X25519 secret).
pub(crate) fn account_scalar(identity: &Identity) -> Scalar {
    let bytes = Zeroizing::new(identity.x25519_secret().to_bytes());
    Scalar::from_bytes_mod_order(*bytes)
}

/// `k·P` for the server's `15` factor `k`: the `15` key of the Ed25519 key `P`.
pub(crate) fn blind15_point(server: &[u8; 32], point: &EdwardsPoint) -> [u8; 32] {
    (factor15(server) * point).compress().to_bytes()
}

/// Wipes the blinded scalar and the nonce secret; the public key and scheme are not secret.
impl Zeroize for BlindedKeys {
    fn zeroize(&mut self) {
        let BlindedKeys { scalar, nonce_key, public: _, scheme: _ } = self;
        scalar.zeroize();
        nonce_key.zeroize();
    }
}

wipe_on_drop!(BlindedKeys);

#[cfg(test)]
impl crate::SecretFields for BlindedKeys {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        // The public key is the blinded id, which every request carries; the scheme is a label.
        let BlindedKeys { scalar, nonce_key, public: _, scheme: _ } = self;
        vec![("scalar", scalar.to_bytes().to_vec()), ("nonce_key", nonce_key.to_vec())]
    }
}

impl fmt::Debug for BlindedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedKeys").field("id", &self.id()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::verify_ed25519;

    fn server() -> [u8; 32] {
        hex::decode("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789").unwrap().try_into().unwrap()
    }

    #[test]
    fn blinded_keys_sign_for_their_ids() {
        for seed in [[1u8; 32], [2u8; 32], [0x81; 32]] {
            let identity = Identity::from_ed25519_seed(&seed);
            let keys15 = BlindedKeys::blind15(&identity, &server());
            let keys25 = BlindedKeys::blind25(&identity, &server());
            assert!(blind15_ids(&identity.session_id(), &server()).unwrap().contains(&keys15.id()));
            assert_eq!(blind25_id(&identity.session_id(), &server()).unwrap(), keys25.id());
            assert_eq!(unblind15(&keys15.id(), &server()).unwrap(), identity.session_id());
            for keys in [&keys15, &keys25] {
                let sig = keys.sign(b"message");
                assert!(verify_ed25519(keys.public(), b"message", &sig));
                assert!(!verify_ed25519(keys.public(), b"messagf", &sig));
                assert!(blinded_id_matches(&keys.id(), &identity.session_id(), &server()));
            }
        }
    }

    #[test]
    fn rejects_ids_that_are_not_points_or_have_the_wrong_prefix() {
        let standard = SessionId::new(IdPrefix::Standard, [9; 32]);
        let blinded = SessionId::new(IdPrefix::BlindedLegacy, [9; 32]);
        assert_eq!(
            blind15_ids(&blinded, &server()),
            Err(BlindingError::WrongPrefix { expected: IdPrefix::Standard, found: IdPrefix::BlindedLegacy })
        );
        assert!(matches!(unblind15(&standard, &server()), Err(BlindingError::WrongPrefix { .. })));
        // u = −1 (p − 1) has no Edwards point; y = 1 is the identity (small order).
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let not_a_point = SessionId::new(IdPrefix::Standard, minus_one);
        assert_eq!(blind15_ids(&not_a_point, &server()), Err(BlindingError::InvalidKey));
        assert_eq!(blind25_id(&not_a_point, &server()), Err(BlindingError::InvalidKey));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(unblind15(&SessionId::new(IdPrefix::BlindedLegacy, one), &server()), Err(BlindingError::InvalidKey));
        // y = 2 does not decompress.
        let mut two = [0u8; 32];
        two[0] = 2;
        assert_eq!(unblind15(&SessionId::new(IdPrefix::BlindedLegacy, two), &server()), Err(BlindingError::InvalidKey));
        assert!(!blinded_id_matches(&SessionId::new(IdPrefix::Group, [9; 32]), &standard, &server()));
    }

    #[test]
    fn blinded_keys_do_not_print_secrets() {
        let keys = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[5; 32]), &server());
        let printed = format!("{keys:?}");
        assert!(printed.contains(&keys.id().to_string()));
        assert!(!printed.contains(&hex::encode(keys.scalar.to_bytes())));
    }
}
