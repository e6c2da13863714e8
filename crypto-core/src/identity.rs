//! Identity: seed → Ed25519 key pair → X25519 key pair → Session ID.
//!
//! An account is one Ed25519 key pair. Current accounts come from a 16-byte seed (13-word phrase):
//! the Ed25519 seed is those 16 bytes followed by 16 zero bytes. The X25519 keys are derived the
//! way libsodium does it (`crypto_sign_ed25519_{pk,sk}_to_curve25519`), and the Session ID is
//! `05` followed by the X25519 public key in hex.

use core::fmt;
use core::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha512};
use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::mnemonic::{self, Phrase};

/// The 16 random bytes an account is made from (what the 13-word recovery phrase encodes).
/// Zeroized on drop; never printed.
#[derive(Clone, Zeroize)]
pub struct Seed([u8; 16]);

wipe_on_drop!(Seed);

#[cfg(test)]
impl crate::SecretFields for Seed {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let Seed(bytes) = self;
        vec![("0", bytes.to_vec())]
    }
}

impl Seed {
    /// A fresh random seed.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Seed {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Seed(bytes)
    }

    /// A seed from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Seed {
        Seed(bytes)
    }

    /// The seed's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The Ed25519 seed: these 16 bytes followed by 16 zero bytes.
    fn ed25519_seed(&self) -> Zeroizing<[u8; 32]> {
        let mut seed32 = Zeroizing::new([0u8; 32]);
        for (d, s) in seed32.iter_mut().zip(self.0) {
            *d = s;
        }
        seed32
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// An account's secret keys: the Ed25519 signing key and the X25519 key derived from it.
///
/// Zeroized on drop; `Debug` shows only the Session ID.
pub struct Identity {
    /// The 16-byte seed, when the Ed25519 seed is those bytes followed by 16 zero bytes.
    seed: Option<Seed>,
    signing: SigningKey,
    x25519_secret: StaticSecret,
    ed25519_public: [u8; 32],
    x25519_public: [u8; 32],
}

impl Identity {
    /// A new account from a fresh random 16-byte seed.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Identity {
        Identity::from_seed(&Seed::generate(rng))
    }

    /// The account of a 16-byte seed (the Ed25519 seed is the 16 bytes followed by 16 zeros).
    pub fn from_seed(seed: &Seed) -> Identity {
        Identity::from_ed25519_seed(&seed.ed25519_seed())
    }

    /// The account of a full 32-byte Ed25519 seed (older 25-word accounts use these directly).
    pub fn from_ed25519_seed(seed32: &[u8; 32]) -> Identity {
        let signing = SigningKey::from_bytes(seed32);
        let ed25519_public = signing.verifying_key().to_bytes();
        // libsodium's crypto_sign_ed25519_sk_to_curve25519: SHA-512 of the seed, first half, clamped.
        let mut hash: [u8; 64] = Sha512::digest(seed32).into();
        let mut scalar = [0u8; 32];
        scalar.copy_from_slice(&hash[..32]);
        hash.zeroize();
        scalar[0] &= 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        let x25519_secret = StaticSecret::from(scalar);
        scalar.zeroize();
        let x25519_public = signing.verifying_key().to_montgomery().to_bytes();
        let seed = short_seed(seed32);
        Identity { seed, signing, x25519_secret, ed25519_public, x25519_public }
    }

    /// The 16-byte seed, when this account has one (its Ed25519 seed ends in 16 zero bytes).
    pub fn seed(&self) -> Option<&Seed> {
        self.seed.as_ref()
    }

    /// The 13-word recovery phrase, when this account has a 16-byte seed.
    pub fn phrase(&self) -> Option<Phrase> {
        self.seed.as_ref().map(mnemonic::encode_seed)
    }

    /// The account's Session ID (`05` + X25519 public key).
    pub fn session_id(&self) -> SessionId {
        SessionId::new(IdPrefix::Standard, self.x25519_public)
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> &[u8; 32] {
        &self.ed25519_public
    }

    /// The X25519 public key (the Session ID without its prefix).
    pub fn x25519_public(&self) -> &[u8; 32] {
        &self.x25519_public
    }

    /// An Ed25519 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub(crate) fn x25519_secret(&self) -> &StaticSecret {
        &self.x25519_secret
    }

    /// The 32-byte Ed25519 seed (secret). For the deterministic sealing variant and storage at rest.
    pub(crate) fn ed25519_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }
}

/// Wipes every secret field: the seed, the X25519 secret, and the Ed25519 signing key. The
/// public keys are not secret and stay. Dropping an identity runs this (`wipe_on_drop!`).
///
/// `SigningKey` has no `Zeroize` of its own, only a `Drop` that wipes it (it is `ZeroizeOnDrop`,
/// asserted below): so the key is replaced by the all-zero seed's key, and the old one, dropped
/// by the assignment, wipes itself. That leaves a signing key whose secret reads as zero, which
/// `secret_types_zeroize_every_field_on_drop` checks like every other field.
impl Zeroize for Identity {
    fn zeroize(&mut self) {
        // No `..`: a new field must be wiped here, or named as not secret.
        let Identity { seed, signing, x25519_secret, ed25519_public: _, x25519_public: _ } = self;
        seed.zeroize();
        x25519_secret.zeroize();
        *signing = SigningKey::from_bytes(&[0u8; 32]);
    }
}

wipe_on_drop!(Identity);

/// The key `Identity::zeroize` drops rather than zeroizes wipes itself when dropped.
const _: () = {
    const fn wipes_itself_on_drop<T: ZeroizeOnDrop>() {}
    wipes_itself_on_drop::<SigningKey>();
};

#[cfg(test)]
impl crate::SecretFields for Identity {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        // The public keys are not secret: the Session ID is made of one, `Debug` shows it.
        let Identity { seed, signing, x25519_secret, ed25519_public: _, x25519_public: _ } = self;
        vec![
            // The short seed is optional; `zeroize` leaves `None`, which has no bytes.
            ("seed", seed.as_ref().map(|s| s.as_bytes().to_vec()).unwrap_or_default()),
            ("signing", signing.to_bytes().to_vec()),
            ("x25519_secret", x25519_secret.to_bytes().to_vec()),
        ]
    }
}

/// The 16-byte seed inside a 32-byte Ed25519 seed, when its last 16 bytes are zero.
fn short_seed(seed32: &[u8; 32]) -> Option<Seed> {
    let (head, tail) = seed32.split_at(16);
    if tail.iter().any(|&b| b != 0) {
        return None;
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(head);
    let seed = Seed(bytes);
    bytes.zeroize();
    Some(seed)
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("session_id", &self.session_id()).finish_non_exhaustive()
    }
}

/// libsodium's `crypto_sign_ed25519_pk_to_curve25519`: the X25519 public key of an Ed25519 public
/// key. `None` for bytes that are not a point, or a point of small order.
pub fn ed25519_to_x25519_public(ed25519: &[u8; 32]) -> Option<[u8; 32]> {
    let point = CompressedEdwardsY(*ed25519).decompress()?;
    if point.is_small_order() {
        return None;
    }
    Some(point.to_montgomery().to_bytes())
}

/// Verifies an Ed25519 signature, rejecting weak keys and non-canonical signatures as libsodium does.
pub fn verify_ed25519(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}

/// The kind of key an ID names, from its first byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum IdPrefix {
    /// `03`: a group's own swarm address; the key is the group's Ed25519 public key.
    Group,
    /// `05`: an account; the key is its X25519 public key.
    Standard,
    /// `15`: a community-blinded ID, older scheme.
    BlindedLegacy,
    /// `25`: a community-blinded ID, current scheme.
    Blinded,
}

impl IdPrefix {
    /// The prefix byte.
    pub fn byte(self) -> u8 {
        match self {
            IdPrefix::Group => 0x03,
            IdPrefix::Standard => 0x05,
            IdPrefix::BlindedLegacy => 0x15,
            IdPrefix::Blinded => 0x25,
        }
    }
}

impl TryFrom<u8> for IdPrefix {
    type Error = SessionIdError;

    fn try_from(byte: u8) -> Result<Self, Self::Error> {
        match byte {
            0x03 => Ok(IdPrefix::Group),
            0x05 => Ok(IdPrefix::Standard),
            0x15 => Ok(IdPrefix::BlindedLegacy),
            0x25 => Ok(IdPrefix::Blinded),
            prefix => Err(SessionIdError::UnknownPrefix { prefix }),
        }
    }
}

/// A Session ID (or another prefixed ID): one prefix byte and a 32-byte key, written as 66 hex
/// characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    prefix: IdPrefix,
    key: [u8; 32],
}

impl SessionId {
    /// The ID of `key` under `prefix`.
    pub fn new(prefix: IdPrefix, key: [u8; 32]) -> Self {
        SessionId { prefix, key }
    }

    /// The prefix.
    pub fn prefix(&self) -> IdPrefix {
        self.prefix
    }

    /// The 32-byte key after the prefix.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 33 bytes: prefix byte then key.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.prefix.byte();
        out[1..].copy_from_slice(&self.key);
        out
    }

    /// Parses the 33-byte form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionIdError> {
        let (&first, rest) = bytes.split_first().ok_or(SessionIdError::Empty)?;
        let key: [u8; 32] =
            rest.try_into().map_err(|_| SessionIdError::WrongLength { found: bytes.len().saturating_mul(2) })?;
        Ok(SessionId { prefix: IdPrefix::try_from(first)?, key })
    }
}

impl FromStr for SessionId {
    type Err = SessionIdError;

    /// Parses 66 hex characters (either case; surrounding white space is ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SessionIdError::Empty);
        }
        if let Some(position) = s.chars().position(|c| !c.is_ascii_hexdigit()) {
            return Err(SessionIdError::NotHex { position: position + 1 });
        }
        if s.len() != 66 {
            return Err(SessionIdError::WrongLength { found: s.len() });
        }
        let mut bytes = [0u8; 33];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| SessionIdError::NotHex { position: 1 })?;
        SessionId::from_bytes(&bytes)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}", self.prefix.byte())?;
        for b in &self.key {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// Serialized as its 66 hex characters, the form records and JSON have always used.
impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Parsed from 66 hex characters; anything else is a typed error of the deserializer.
impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = SessionId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Session ID: 66 hex characters")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SessionId, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Hex)
    }
}

/// Why a string is not a Session ID.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SessionIdError {
    /// Nothing was given.
    Empty,
    /// A character that is not 0–9 or a–f, at this 1-based position.
    NotHex { position: usize },
    /// The first byte is not a known prefix (05, 03, 15, 25).
    UnknownPrefix { prefix: u8 },
    /// Not 66 hex characters long.
    WrongLength { found: usize },
}

impl fmt::Display for SessionIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionIdError::Empty => f.write_str("no Session ID was given"),
            SessionIdError::NotHex { position } => {
                write!(f, "a Session ID has only the characters 0-9 and a-f; character {position} is not one of them")
            }
            SessionIdError::UnknownPrefix { prefix } => write!(
                f,
                "a Session ID starts with 05 (or 03, 15, 25 for groups and communities); this one starts with {prefix:02x}"
            ),
            SessionIdError::WrongLength { found } => {
                write!(f, "a Session ID has 66 hexadecimal characters; this has {found}")
            }
        }
    }
}

impl std::error::Error for SessionIdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_a_session_id() {
        let text = "05D2AD010EEB72D72E561D9DE7BD7B6989AF77DCABFFA03A5111A6C859AE5C3A72 ";
        let id: SessionId = text.parse().unwrap();
        assert_eq!(id.prefix(), IdPrefix::Standard);
        assert_eq!(id.to_string(), text.trim().to_lowercase());
        assert_eq!(SessionId::from_bytes(&id.to_bytes()), Ok(id));
    }

    #[test]
    fn rejects_bad_session_ids_saying_what_is_wrong() {
        let good = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
        assert_eq!("".parse::<SessionId>(), Err(SessionIdError::Empty));
        assert_eq!("   ".parse::<SessionId>(), Err(SessionIdError::Empty));
        assert_eq!(good[..64].parse::<SessionId>(), Err(SessionIdError::WrongLength { found: 64 }));
        assert_eq!(format!("{good}00").parse::<SessionId>(), Err(SessionIdError::WrongLength { found: 68 }));
        let mut bad = good.to_string();
        bad.replace_range(10..11, "g");
        assert_eq!(bad.parse::<SessionId>(), Err(SessionIdError::NotHex { position: 11 }));
        assert_eq!(format!("06{}", &good[2..]).parse::<SessionId>(), Err(SessionIdError::UnknownPrefix { prefix: 6 }));
        assert_eq!("05é".parse::<SessionId>(), Err(SessionIdError::NotHex { position: 3 }));
        for prefix in ["03", "15", "25"] {
            let id: SessionId = format!("{prefix}{}", &good[2..]).parse().unwrap();
            assert_eq!(id.to_string()[..2], *prefix);
        }
        let msg = SessionIdError::WrongLength { found: 64 }.to_string();
        assert!(msg.contains("66") && msg.contains("64"), "{msg}");
    }

    #[test]
    fn secrets_do_not_print() {
        let seed = Seed::from_bytes([0x42; 16]);
        assert_eq!(format!("{seed:?}"), "Seed(<redacted>)");
        let identity = Identity::from_seed(&seed);
        let debug = format!("{identity:?}");
        assert!(debug.contains(&identity.session_id().to_string()));
        assert!(!debug.contains("4242"), "{debug}");
        assert!(!debug.contains("66, 66"), "{debug}");
    }

    #[test]
    fn seed_is_only_reported_for_sixteen_byte_accounts() {
        let seed = Seed::from_bytes([7; 16]);
        assert_eq!(Identity::from_seed(&seed).seed().unwrap().as_bytes(), seed.as_bytes());
        assert!(Identity::from_ed25519_seed(&[7; 32]).seed().is_none());
        let mut tail_zero = [7u8; 32];
        tail_zero[16..].fill(0);
        assert_eq!(Identity::from_ed25519_seed(&tail_zero).seed().unwrap().as_bytes(), &[7u8; 16]);
        let mut last_byte = tail_zero;
        last_byte[31] = 1;
        assert!(Identity::from_ed25519_seed(&last_byte).seed().is_none());
        assert!(Identity::from_ed25519_seed(&[7; 32]).phrase().is_none());
    }

    /// vectors-core.md §1.2 (derived): the X25519 secret is libsodium's
    /// `crypto_sign_ed25519_sk_to_curve25519`, i.e. SHA-512(seed)[0..32] clamped.
    #[test]
    fn derived_x25519_secret_keys() {
        for (seed, secret) in [
            (
                "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
                "c066ce44b14d551ee69dbcd631c061d17655b374f5d54e4f1ea9e3718638956b",
            ),
            (
                "00112233445566778899aabbccddeeff00000000000000000000000000000000",
                "608744d00cd35a82177fe30a1befc3ec3282a9484df0deb13cc5842c0145d455",
            ),
        ] {
            let seed32: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
            let identity = Identity::from_ed25519_seed(&seed32);
            assert_eq!(hex::encode(identity.x25519_secret().to_bytes()), secret);
            let public = x25519_dalek::PublicKey::from(identity.x25519_secret());
            assert_eq!(public.as_bytes(), identity.x25519_public());
            assert_eq!(identity.seed().unwrap().as_bytes()[..], seed32[..16]);
        }
    }

    #[test]
    fn rejects_small_order_ed25519_keys() {
        // The identity point (y = 1) has small order.
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert_eq!(ed25519_to_x25519_public(&identity_point), None);
    }
}
