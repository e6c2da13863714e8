//! Blinded DMs (protocol-communities §7): message requests through a community server's inbox,
//! between `15` ids.
//!
//! From A (blinded `kA`, scalar `a`, Ed25519 key `A`) to B (`kB`):
//! `key = BLAKE2b-256(a·kB ‖ kA ‖ kB)` (B computes `b·kA`; the sender's id always comes first),
//! `message = 00 ‖ XChaCha20-Poly1305(key, nonce, padded Content ‖ A) ‖ nonce`. The recipient
//! learns A, checks `k·A` against the sender's id, and so learns the sender's Session ID.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use curve25519_dalek::edwards::EdwardsPoint;
use prost::Message;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::blinding::{BlindedKeys, account_scalar, blind15_point, flip_sign, prime_order_point};
use crate::identity::{IdPrefix, Identity, SessionId};
use crate::padding;
use crate::wire::{Content, DecodeError};

/// The version byte a blinded DM starts with.
pub const DM_VERSION: u8 = 0x00;
const NONCE: usize = 24;
const TAG: usize = 16;
const KEY: usize = 32;

/// Why a blinded DM could not be built or read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum DmError {
    /// A sender or recipient id is not a `15` id.
    NotBlinded,
    /// A key is not a usable curve point.
    InvalidKey,
    /// Neither the sender nor the recipient is this account on this server.
    NotForUs,
    /// The message is shorter than a version byte, tag, key and nonce.
    TooShort,
    /// The version byte is not 0.
    UnknownVersion { version: u8 },
    /// The message could not be decrypted (wrong key, or altered).
    Decrypt,
    /// The key inside is not the sender's: its blinding does not give the sender's id.
    SenderMismatch,
    /// The plaintext is not a `Content`.
    Decode(DecodeError),
}

impl fmt::Display for DmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DmError::NotBlinded => f.write_str("community direct messages go between ids starting with 15"),
            DmError::InvalidKey => f.write_str("a blinded id's key is not a valid curve point"),
            DmError::NotForUs => f.write_str("the message is neither from nor to this account"),
            DmError::TooShort => f.write_str("the message is too short"),
            DmError::UnknownVersion { version } => write!(f, "unknown message version {version}"),
            DmError::Decrypt => f.write_str("the message could not be decrypted"),
            DmError::SenderMismatch => f.write_str("the message's sender key does not match its sender"),
            DmError::Decode(e) => write!(f, "malformed message: {e}"),
        }
    }
}

impl std::error::Error for DmError {}

/// An opened blinded DM.
#[derive(Clone, PartialEq)]
pub struct BlindedDm {
    /// The sender's real Session ID (`05`), from the Ed25519 key inside the message.
    pub sender: SessionId,
    /// The sender's Ed25519 public key.
    pub sender_ed25519: [u8; 32],
    /// What it says.
    pub content: Content,
    /// Whether this account sent it (an outbox entry).
    pub outgoing: bool,
}

impl fmt::Debug for BlindedDm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedDm")
            .field("sender", &self.sender)
            .field("outgoing", &self.outgoing)
            .finish_non_exhaustive()
    }
}

/// Encrypts `content` from `sender` to the `15` id `recipient` on the server whose X25519 key is
/// `server` (the bytes for `POST /inbox/<recipient>`, see [`inbox_body`]).
pub fn seal_blinded_dm(
    rng: &mut impl CryptoRngCore,
    sender: &Identity,
    server: &[u8; 32],
    recipient: &SessionId,
    content: &Content,
) -> Result<Vec<u8>, DmError> {
    let recipient_key = blinded15_key(recipient)?;
    let own = BlindedKeys::blind15(sender, server);
    let key = shared_key(sender, &recipient_key, own.public(), &recipient_key)?;

    let mut nonce = [0u8; NONCE];
    rng.fill_bytes(&mut nonce);
    let mut inner = Zeroizing::new(padding::pad(&content.encode_to_vec()));
    inner.extend_from_slice(sender.ed25519_public());
    let tag = XChaCha20Poly1305::new((&*key).into())
        .encrypt_in_place_detached(XNonce::from_slice(&nonce), b"", &mut inner)
        .map_err(|_| DmError::Decrypt)?;
    let mut out = Vec::with_capacity(1 + inner.len() + TAG + NONCE);
    out.push(DM_VERSION);
    out.extend_from_slice(&inner);
    out.extend_from_slice(&tag);
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// The JSON body of `POST /inbox/<15-id>`: `{"message":"<base64>"}`.
pub fn inbox_body(message: &[u8]) -> String {
    format!(r#"{{"message":"{}"}}"#, STANDARD.encode(message))
}

/// Opens an inbox or outbox entry (`sender`, `recipient` and the decoded `message` of §5.3) as
/// `me` on the server whose X25519 key is `server`: as the recipient (inbox) or as the sender
/// (outbox). Checks that the key inside is the sender's and returns the sender's Session ID.
pub fn open_blinded_dm(
    me: &Identity,
    server: &[u8; 32],
    sender: &SessionId,
    recipient: &SessionId,
    message: &[u8],
) -> Result<BlindedDm, DmError> {
    let sender_key = blinded15_key(sender)?;
    let recipient_key = blinded15_key(recipient)?;
    let own = BlindedKeys::blind15(me, server).id();
    let (outgoing, other) = if *sender == own {
        (true, recipient_key)
    } else if *recipient == own {
        (false, sender_key)
    } else {
        return Err(DmError::NotForUs);
    };
    let key = shared_key(me, &other, &sender_key, &recipient_key)?;

    let (&version, rest) = message.split_first().ok_or(DmError::TooShort)?;
    if rest.len() < TAG + KEY + NONCE {
        return Err(DmError::TooShort);
    }
    if version != DM_VERSION {
        return Err(DmError::UnknownVersion { version });
    }
    let (sealed, nonce) = rest.split_at(rest.len() - NONCE);
    let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG);
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    XChaCha20Poly1305::new((&*key).into())
        .decrypt_in_place_detached(XNonce::from_slice(nonce), b"", &mut plaintext, Tag::from_slice(tag))
        .map_err(|_| DmError::Decrypt)?;
    let (padded, ed25519) = plaintext.split_at(plaintext.len() - KEY);
    let sender_ed25519: [u8; 32] = ed25519.try_into().map_err(|_| DmError::TooShort)?;
    let point = prime_order_point(&sender_ed25519).ok_or(DmError::SenderMismatch)?;
    let blinded = blind15_point(server, &point);
    if blinded != sender_key && flip_sign(blinded) != sender_key {
        return Err(DmError::SenderMismatch);
    }
    let content = Content::decode_checked(super::post::unpad(padded)).map_err(DmError::Decode)?;
    Ok(BlindedDm {
        sender: SessionId::new(IdPrefix::Standard, point.to_montgomery().to_bytes()),
        sender_ed25519,
        content,
        outgoing,
    })
}

/// `BLAKE2b-256(a·other ‖ kSender ‖ kRecipient)` with `a` the account's own (unblinded) scalar.
fn shared_key(
    me: &Identity,
    other: &[u8; 32],
    sender: &[u8; 32],
    recipient: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, DmError> {
    let point = prime_order_point(other).ok_or(DmError::InvalidKey)?;
    let shared: EdwardsPoint = account_scalar(me) * point;
    let shared = Zeroizing::new(shared.compress().to_bytes());
    let mut hasher = Blake2b::<U32>::new();
    hasher.update(*shared);
    hasher.update(sender);
    hasher.update(recipient);
    Ok(Zeroizing::new(hasher.finalize().into()))
}

fn blinded15_key(id: &SessionId) -> Result<[u8; 32], DmError> {
    match id.prefix() {
        IdPrefix::BlindedLegacy => Ok(*id.key()),
        _ => Err(DmError::NotBlinded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::text_message;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const SERVER: [u8; 32] = [0x33; 32];

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// C6's key, the same from both sides.
    #[test]
    fn c6_blinded_dm_key() {
        let server = h32("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d");
        let sender =
            Identity::from_ed25519_seed(&h32("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9"));
        let recipient =
            Identity::from_ed25519_seed(&h32("fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122"));
        let (ka, kb) = (BlindedKeys::blind15(&sender, &server), BlindedKeys::blind15(&recipient, &server));
        let from_sender = shared_key(&sender, kb.public(), ka.public(), kb.public()).unwrap();
        let from_recipient = shared_key(&recipient, ka.public(), ka.public(), kb.public()).unwrap();
        assert_eq!(hex::encode(*from_sender), "5bc720b11395cf74fbfa16c7b8c9651cc66c82a958490df5af4f7f9b5cd518cf");
        assert_eq!(from_sender, from_recipient);
    }

    #[test]
    fn both_sides_open_and_nobody_else_does() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let alice = Identity::from_ed25519_seed(&[0x0a; 32]);
        let bob = Identity::from_ed25519_seed(&[0x0b; 32]);
        let carol = Identity::from_ed25519_seed(&[0x0c; 32]);
        let (ka, kb) = (BlindedKeys::blind15(&alice, &SERVER).id(), BlindedKeys::blind15(&bob, &SERVER).id());
        let msg = seal_blinded_dm(&mut rng, &alice, &SERVER, &kb, &text_message("psst", None)).unwrap();
        let inbox = open_blinded_dm(&bob, &SERVER, &ka, &kb, &msg).unwrap();
        assert_eq!((inbox.sender, inbox.outgoing), (alice.session_id(), false));
        assert_eq!(inbox.content.data_message.unwrap().body.as_deref(), Some("psst"));
        let outbox = open_blinded_dm(&alice, &SERVER, &ka, &kb, &msg).unwrap();
        assert_eq!((outbox.sender, outbox.outgoing), (alice.session_id(), true));
        assert_eq!(open_blinded_dm(&carol, &SERVER, &ka, &kb, &msg), Err(DmError::NotForUs));
        // Claimed from someone else: the key inside does not match.
        let kc = BlindedKeys::blind15(&carol, &SERVER).id();
        assert_eq!(open_blinded_dm(&bob, &SERVER, &kc, &kb, &msg), Err(DmError::Decrypt));
        let mut tampered = msg.clone();
        tampered[5] ^= 1;
        assert_eq!(open_blinded_dm(&bob, &SERVER, &ka, &kb, &tampered), Err(DmError::Decrypt));
        let mut version = msg.clone();
        version[0] = 1;
        assert_eq!(open_blinded_dm(&bob, &SERVER, &ka, &kb, &version), Err(DmError::UnknownVersion { version: 1 }));
        assert_eq!(open_blinded_dm(&bob, &SERVER, &ka, &kb, &msg[..72]), Err(DmError::TooShort));
        assert_eq!(open_blinded_dm(&bob, &SERVER, &ka, &kb, &[]), Err(DmError::TooShort));
        assert_eq!(
            seal_blinded_dm(&mut rng, &alice, &SERVER, &bob.session_id(), &text_message("x", None)),
            Err(DmError::NotBlinded)
        );
        let mut two = [0u8; 32];
        two[0] = 2;
        let not_a_point = SessionId::new(IdPrefix::BlindedLegacy, two);
        assert_eq!(
            seal_blinded_dm(&mut rng, &alice, &SERVER, &not_a_point, &text_message("x", None)),
            Err(DmError::InvalidKey)
        );
        assert!(inbox_body(&msg).starts_with(r#"{"message":"A"#));
    }

    #[test]
    fn a_sender_key_that_is_not_the_senders_is_refused() {
        // Alice encrypts properly but puts Carol's Ed25519 key inside.
        let alice = Identity::from_ed25519_seed(&[0x0a; 32]);
        let bob = Identity::from_ed25519_seed(&[0x0b; 32]);
        let carol = Identity::from_ed25519_seed(&[0x0c; 32]);
        let (ka, kb) = (BlindedKeys::blind15(&alice, &SERVER), BlindedKeys::blind15(&bob, &SERVER));
        let key = shared_key(&alice, kb.public(), ka.public(), kb.public()).unwrap();
        let mut inner = padding::pad(&text_message("x", None).encode_to_vec());
        inner.extend_from_slice(carol.ed25519_public());
        let nonce = [7u8; NONCE];
        let tag = XChaCha20Poly1305::new((&*key).into())
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), b"", &mut inner)
            .unwrap();
        let msg = [&[DM_VERSION][..], &inner, &tag, &nonce].concat();
        assert_eq!(open_blinded_dm(&bob, &SERVER, &ka.id(), &kb.id(), &msg), Err(DmError::SenderMismatch));
    }
}
