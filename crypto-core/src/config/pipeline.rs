//! From a config message to the bytes stored in the swarm, and back (§2.1–§2.4): padding,
//! encryption with the per-type key, zstd on read, multipart messages.
//!
//! Push: pad with leading zeros ([`pad`]); when the padded message and the cipher's 40 bytes exceed
//! [`MAX_MESSAGE_SIZE`], split it into parts; encrypt each ([`encrypt`]); user configs' single
//! parts are then wrapped ([`super::wrap`]). Hush does not compress what it pushes (readers accept
//! both, and libsession keeps the uncompressed form unless zstd is strictly shorter).
//!
//! Read: unwrap (user configs), decrypt with each key in turn, strip leading zeros; then `m` is a
//! part of a multipart message (collected by [`Multipart`]), `z` is zstd, and what is left must be
//! a bt dict.

use core::fmt;
use std::collections::BTreeMap;
use std::io::Read as _;

use blake2::digest::{Digest, Mac, consts::U24, consts::U32};
use blake2::{Blake2b, Blake2bMac};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use crate::bencode::{self, Value};
use crate::identity::Identity;
use crate::seal::OpenError;

use super::ConfigKind;

/// The largest message the storage server stores (`MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_SIZE: usize = 76_800;
/// What encryption adds: the 16-byte tag and the 24-byte nonce.
pub const ENCRYPT_OVERHEAD: usize = 40;
/// The largest (padded) message Hush splits into parts (`MAX_MULTIPART_SIZE`; not applied to what
/// is read, as in the reference).
pub const MAX_MULTIPART_SIZE: usize = 5_000_000;
/// The most a `z` message may decompress to: configs are far smaller; this bounds a zstd bomb.
pub const MAX_DECOMPRESSED: usize = 10_000_000;
/// The largest chunk of a part: what is left of [`MAX_MESSAGE_SIZE`] after the cipher and the
/// part's framing (`m`, the list, the hash, index and count, a 6-digit length).
pub const MAX_CHUNK: usize = MAX_MESSAGE_SIZE - 50 - ENCRYPT_OVERHEAD;
/// How long an incomplete multipart message waits for its other parts (7 days, PR #11).
pub const MULTIPART_WAIT_MS: u64 = 7 * 24 * 3600 * 1000;
/// How long a completed multipart message is remembered, so that its parts seen again are ignored
/// (14 days, PR #11).
pub const MULTIPART_REMEMBER_MS: u64 = 14 * 24 * 3600 * 1000;

const NONCE_KEY_PREFIX: &[u8] = b"libsessionutil-config-encrypted-";

/// The total a message of `size` bytes is padded to, so that with `overhead` more bytes it fills a
/// step: 256 bytes up to 5120, 1024 up to 20480, 2048 up to 40960, then 5120 (`padded_size`).
pub fn padded_size(size: usize, overhead: usize) -> usize {
    let n = size.saturating_add(overhead);
    let step = match n {
        0..=5120 => 256,
        5121..=20_480 => 1024,
        20_481..=40_960 => 2048,
        _ => 5120,
    };
    n.div_ceil(step).saturating_mul(step).saturating_sub(overhead)
}

/// Pads a message with leading zero bytes to [`padded_size`] with the cipher's overhead.
pub fn pad(message: &[u8]) -> Vec<u8> {
    let total = padded_size(message.len(), ENCRYPT_OVERHEAD).max(message.len());
    let mut out = vec![0u8; total - message.len()];
    out.extend_from_slice(message);
    out
}

/// The per-type key's base: the account's 32-byte Ed25519 seed for user configs, the group's
/// encryption key for group configs. With the domain it gives each type its key. Zeroized on
/// drop; never printed.
#[derive(Clone, Zeroize)]
pub struct ConfigKey([u8; 32]);

wipe_on_drop!(ConfigKey);

#[cfg(test)]
impl crate::SecretFields for ConfigKey {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let ConfigKey(key) = self;
        vec![("0", key.to_vec())]
    }
}

impl fmt::Debug for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfigKey(<redacted>)")
    }
}

impl ConfigKey {
    /// The key of the account's own configs: its Ed25519 seed (`load_key`).
    pub fn for_account(identity: &Identity) -> ConfigKey {
        ConfigKey(*identity.ed25519_seed())
    }

    /// A key from its bytes (a group's encryption key).
    pub fn from_bytes(key: [u8; 32]) -> ConfigKey {
        ConfigKey(key)
    }

    /// The cipher key for a plaintext of `len` bytes: `H_32(base ‖ u64_be(len) ‖ domain)`.
    fn cipher(&self, len: usize, domain: &[u8]) -> XChaCha20Poly1305 {
        let mut hasher = Blake2b::<U32>::new();
        hasher.update(self.0);
        hasher.update((len as u64).to_be_bytes());
        hasher.update(domain);
        let mut key = hasher.finalize();
        let cipher = XChaCha20Poly1305::new(&key);
        key.zeroize();
        cipher
    }
}

/// A decrypted config plaintext (or part of one). Zeroized on drop; `Debug` shows its length only.
#[derive(Zeroize)]
pub struct Plaintext(Zeroizing<Vec<u8>>);

wipe_on_drop!(Plaintext);

#[cfg(test)]
impl crate::SecretFields for Plaintext {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let Plaintext(bytes) = self;
        vec![("0", bytes.to_vec())]
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plaintext").field("len", &self.0.len()).finish_non_exhaustive()
    }
}

impl Plaintext {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn new(bytes: Vec<u8>) -> Plaintext {
        Plaintext(Zeroizing::new(bytes))
    }
}

/// Why a config could not be prepared for a push.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PushError {
    /// The domain is not 1–24 bytes.
    BadDomain,
    /// The message is larger than [`MAX_MULTIPART_SIZE`] (or would need more than 255 parts).
    TooLarge,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::BadDomain => f.write_str("a config domain must be 1 to 24 bytes"),
            PushError::TooLarge => f.write_str("the config is too large to push"),
        }
    }
}

impl std::error::Error for PushError {}

fn check_domain(domain: &[u8]) -> Result<(), PushError> {
    if (1..=24).contains(&domain.len()) { Ok(()) } else { Err(PushError::BadDomain) }
}

fn nonce(domain: &[u8], plaintext: &[u8]) -> Result<XNonce, PushError> {
    let mut key = Vec::with_capacity(NONCE_KEY_PREFIX.len() + domain.len());
    key.extend_from_slice(NONCE_KEY_PREFIX);
    key.extend_from_slice(domain);
    let mut mac = <Blake2bMac<U24> as Mac>::new_from_slice(&key).map_err(|_| PushError::BadDomain)?;
    mac.update(plaintext);
    Ok(mac.finalize().into_bytes())
}

/// Encrypts a (padded) plaintext: `XChaCha20-Poly1305(key(len, domain), nonce, plaintext) ‖ nonce`
/// with the deterministic nonce `H_24(key = "libsessionutil-config-encrypted-" ‖ domain; plaintext)`
/// (§2.3).
pub fn encrypt(key: &ConfigKey, domain: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, PushError> {
    check_domain(domain)?;
    let nonce = nonce(domain, plaintext)?;
    let mut out = Vec::with_capacity(plaintext.len() + ENCRYPT_OVERHEAD);
    out.extend_from_slice(plaintext);
    let tag = key.cipher(plaintext.len(), domain).encrypt_in_place_detached(&nonce, b"", &mut out);
    match tag {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            out.extend_from_slice(&nonce);
            Ok(out)
        }
        Err(_) => {
            out.zeroize();
            Err(PushError::TooLarge)
        }
    }
}

/// Decrypts what [`encrypt`] made. The key depends on the length (the plaintext's is `len − 40`).
pub fn decrypt(key: &ConfigKey, domain: &[u8], data: &[u8]) -> Result<Plaintext, OpenError> {
    check_domain(domain).map_err(|_| OpenError)?;
    let (body, nonce) = data.split_last_chunk::<24>().ok_or(OpenError)?;
    let (ciphertext, tag) = body.split_last_chunk::<16>().ok_or(OpenError)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    key.cipher(ciphertext.len(), domain)
        .decrypt_in_place_detached(XNonce::from_slice(nonce), b"", &mut plaintext, Tag::from_slice(tag))
        .map_err(|_| OpenError)?;
    Ok(Plaintext(plaintext))
}

/// The blobs to store for a config message (`push`, without compression): padded, split into
/// parts when too large for one message, each encrypted.
pub fn encrypt_for_push(key: &ConfigKey, domain: &[u8], message: &[u8]) -> Result<Vec<Vec<u8>>, PushError> {
    check_domain(domain)?;
    let padded = Zeroizing::new(pad(message));
    if padded.len() + ENCRYPT_OVERHEAD <= MAX_MESSAGE_SIZE {
        return Ok(vec![encrypt(key, domain, &padded)?]);
    }
    if padded.len() > MAX_MULTIPART_SIZE {
        return Err(PushError::TooLarge);
    }
    let final_hash: [u8; 32] = Blake2b::<U32>::digest(&*padded).into();
    let count = u8::try_from(padded.len().div_ceil(MAX_CHUNK)).map_err(|_| PushError::TooLarge)?;
    let mut blobs = Vec::with_capacity(usize::from(count));
    for (index, chunk) in (0..=u8::MAX).zip(padded.chunks(MAX_CHUNK)) {
        let part = Value::List(vec![
            Value::Bytes(final_hash.to_vec()),
            Value::Bytes(vec![index]),
            Value::Bytes(vec![count]),
            Value::Bytes(chunk.to_vec()),
        ]);
        let mut plaintext = Zeroizing::new(vec![b'm']);
        part.encode_into(&mut plaintext);
        if let Value::List(mut items) = part {
            items.iter_mut().for_each(|v| {
                if let Value::Bytes(b) = v {
                    b.zeroize();
                }
            });
        }
        blobs.push(encrypt(key, domain, &plaintext)?);
    }
    Ok(blobs)
}

/// What one stored config message held, once decrypted.
#[derive(Debug)]
pub enum Read {
    /// A whole config message (decompressed; starts with `d`), to parse with
    /// [`super::ConfigMessage::parse`].
    Message(Plaintext),
    /// One part of a multipart message, to give to a [`Multipart`].
    Part(Part),
}

/// One part of a multipart message (§2.4): `m` then the bt list `[final_hash, index, count,
/// chunk]`, index and count as 1-byte strings, 2 ≤ count.
#[derive(Debug)]
pub struct Part {
    /// The hash of the whole padded message: the parts of one message share it.
    pub final_hash: [u8; 32],
    /// This part's index, from 0.
    pub index: u8,
    /// How many parts there are.
    pub count: u8,
    /// This part's piece of the padded message.
    pub chunk: Plaintext,
}

/// Why a stored config message could not be read. A key that opens nothing is the one opaque
/// [`OpenError`]; the rest say what is wrong with what it opened.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// No key opens it.
    Open(OpenError),
    /// Nothing but zero bytes.
    Empty,
    /// It does not start with `d`, `z` or `m` (the byte found).
    UnknownPrefix(u8),
    /// The zstd data is not valid, or decompresses to more than [`MAX_DECOMPRESSED`] bytes.
    Decompress,
    /// A multipart part is malformed (what is wrong).
    BadPart(&'static str),
    /// The parts of a multipart message do not hash to the message's hash.
    PartsHashMismatch,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Open(e) => e.fmt(f),
            ReadError::Empty => f.write_str("the config message is empty"),
            ReadError::UnknownPrefix(b) => write!(f, "the config message starts with 0x{b:02x}, not d, z or m"),
            ReadError::Decompress => f.write_str("the config message's zstd data is invalid or too large"),
            ReadError::BadPart(what) => write!(f, "multipart config part: {what}"),
            ReadError::PartsHashMismatch => f.write_str("a multipart config's parts do not match its hash"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<OpenError> for ReadError {
    fn from(e: OpenError) -> Self {
        ReadError::Open(e)
    }
}

/// Reads one stored (already unwrapped) config message: decrypts it with the first of `keys` that
/// opens it, strips the leading zeros, and returns the message (decompressed) or the part.
pub fn read(keys: &[ConfigKey], domain: &[u8], data: &[u8]) -> Result<Read, ReadError> {
    let plaintext = keys.iter().find_map(|k| decrypt(k, domain, data).ok()).ok_or(ReadError::Open(OpenError))?;
    let body = strip_zeros(plaintext.as_bytes());
    match body.split_first() {
        // A part larger than a stored message is refused, as libsession does.
        Some((b'm', _)) if body.len() > MAX_MESSAGE_SIZE => Err(ReadError::BadPart("the part is too large")),
        Some((b'm', rest)) => parse_part(rest).map(Read::Part),
        _ => finish(body).map(Read::Message),
    }
}

/// Reads one of the account's own config messages as retrieved (`data` base64-decoded): unwrapped
/// from its protobuf envelope when it has one (twice, for the release that wrapped twice), else
/// taken raw, then [`read`] with the account's key.
pub fn read_user_config(identity: &Identity, kind: ConfigKind, data: &[u8]) -> Result<Read, ReadError> {
    let key = ConfigKey::for_account(identity);
    let domain = kind.domain().as_bytes();
    match super::wrap::unwrap(identity, kind, data) {
        Ok(once) => match super::wrap::unwrap(identity, kind, &once) {
            Ok(twice) => read(core::slice::from_ref(&key), domain, &twice),
            Err(_) => read(core::slice::from_ref(&key), domain, &once),
        },
        Err(_) => read(core::slice::from_ref(&key), domain, data),
    }
}

/// Pushes one of the account's own configs: [`encrypt_for_push`] with the account's key, and a
/// single part wrapped in protobuf (§2.5) unless the wrapped form would exceed
/// [`MAX_MESSAGE_SIZE`].
pub fn push_user_config(
    identity: &Identity,
    kind: ConfigKind,
    seqno: i64,
    message: &[u8],
) -> Result<Vec<Vec<u8>>, PushError> {
    let key = ConfigKey::for_account(identity);
    let mut blobs = encrypt_for_push(&key, kind.domain().as_bytes(), message)?;
    if let [single] = blobs.as_mut_slice()
        && let Some(wrapped) = super::wrap::wrap(identity, kind, seqno, single)
        && wrapped.len() <= MAX_MESSAGE_SIZE
    {
        *single = wrapped;
    }
    Ok(blobs)
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The last steps of reading: `z` is decompressed, then the message must start with `d`.
fn finish(body: &[u8]) -> Result<Plaintext, ReadError> {
    match body.split_first() {
        None => Err(ReadError::Empty),
        Some((b'd', _)) => Ok(Plaintext::new(body.to_vec())),
        Some((b'z', compressed)) => {
            let out = decompress(compressed)?;
            match out.first() {
                Some(b'd') => Ok(Plaintext(out)),
                Some(b) => Err(ReadError::UnknownPrefix(*b)),
                None => Err(ReadError::Empty),
            }
        }
        Some((b, _)) => Err(ReadError::UnknownPrefix(*b)),
    }
}

fn decompress(compressed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let decoder = ruzstd::decoding::StreamingDecoder::new(compressed).map_err(|_| ReadError::Decompress)?;
    let mut out = Zeroizing::new(Vec::new());
    let limit = MAX_DECOMPRESSED as u64 + 1;
    decoder.take(limit).read_to_end(&mut out).map_err(|_| ReadError::Decompress)?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(ReadError::Decompress);
    }
    Ok(out)
}

fn parse_part(rest: &[u8]) -> Result<Part, ReadError> {
    let Ok(Value::List(items)) = bencode::decode(rest) else {
        return Err(ReadError::BadPart("not a bt list"));
    };
    let mut items = items.into_iter().map(|v| match v {
        Value::Bytes(b) => Some(Zeroizing::new(b)),
        _ => None,
    });
    let mut next = || items.next().flatten();
    let (Some(hash), Some(index), Some(count), Some(chunk)) = (next(), next(), next(), next()) else {
        return Err(ReadError::BadPart("not four strings"));
    };
    if next().is_some() {
        return Err(ReadError::BadPart("more than four elements"));
    }
    let final_hash: [u8; 32] =
        hash.as_slice().try_into().map_err(|_| ReadError::BadPart("the hash is not 32 bytes"))?;
    let (&[index], &[count]) = (index.as_slice(), count.as_slice()) else {
        return Err(ReadError::BadPart("the index or count is not one byte"));
    };
    if count < 2 {
        return Err(ReadError::BadPart("the count is below 2"));
    }
    if index >= count {
        return Err(ReadError::BadPart("the index is not below the count"));
    }
    if chunk.is_empty() {
        return Err(ReadError::BadPart("the part is empty"));
    }
    Ok(Part { final_hash, index, count, chunk: Plaintext(chunk) })
}

/// Collects the parts of multipart messages until each is whole (`_handle_multipart`).
///
/// Sans-I/O: the caller passes the (network) time. Incomplete messages are dropped after
/// [`MULTIPART_WAIT_MS`]; completed ones are remembered for [`MULTIPART_REMEMBER_MS`] so that
/// their parts, seen again, are ignored.
#[derive(Default)]
pub struct Multipart {
    pending: BTreeMap<[u8; 32], Pending>,
    done: BTreeMap<[u8; 32], u64>,
}

struct Pending {
    count: u8,
    first_seen_ms: u64,
    parts: BTreeMap<u8, Plaintext>,
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("pending", &self.pending.len())
            .field("done", &self.done.len())
            .finish_non_exhaustive()
    }
}

impl Multipart {
    /// No parts yet.
    pub fn new() -> Multipart {
        Multipart::default()
    }

    /// Adds a part. Returns the whole message (decompressed, starting with `d`) when this part
    /// completes it; `None` while parts are missing, or when the message was already completed.
    pub fn add(&mut self, part: Part, now_ms: u64) -> Result<Option<Plaintext>, ReadError> {
        self.expire(now_ms);
        if self.done.contains_key(&part.final_hash) {
            return Ok(None);
        }
        let pending = self.pending.entry(part.final_hash).or_insert(Pending {
            count: part.count,
            first_seen_ms: now_ms,
            parts: BTreeMap::new(),
        });
        if pending.count != part.count {
            return Err(ReadError::BadPart("the count differs from the other parts'"));
        }
        pending.parts.entry(part.index).or_insert(part.chunk);
        if pending.parts.len() < usize::from(pending.count) {
            return Ok(None);
        }
        let Some(pending) = self.pending.remove(&part.final_hash) else {
            return Ok(None);
        };
        let mut whole = Zeroizing::new(Vec::new());
        for chunk in pending.parts.values() {
            whole.extend_from_slice(chunk.as_bytes());
        }
        let hash: [u8; 32] = Blake2b::<U32>::digest(&*whole).into();
        if hash != part.final_hash {
            return Err(ReadError::PartsHashMismatch);
        }
        self.done.insert(part.final_hash, now_ms);
        finish(strip_zeros(&whole)).map(Some)
    }

    /// Forgets incomplete messages older than [`MULTIPART_WAIT_MS`] and completed ones older than
    /// [`MULTIPART_REMEMBER_MS`].
    pub fn expire(&mut self, now_ms: u64) {
        self.pending.retain(|_, p| now_ms.saturating_sub(p.first_seen_ms) < MULTIPART_WAIT_MS);
        self.done.retain(|_, at| now_ms.saturating_sub(*at) < MULTIPART_REMEMBER_MS);
    }

    /// The hashes of the messages still waiting for parts.
    pub fn pending(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.pending.keys()
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::SecretFields;

    /// As `secret_types_zeroize_every_field_on_drop` (lib.rs) does for the other secret types: every
    /// secret field starts non-zero, and the `zeroize()` that `Drop` runs wipes it.
    fn wipes_every_field<T: SecretFields>(name: &str, mut value: T) {
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
    fn config_secrets_zeroize_every_field_on_drop() {
        wipes_every_field("ConfigKey", ConfigKey::from_bytes([0x5c; 32]));
        wipes_every_field("Plaintext", Plaintext::new(b"d1:#i0e1:&de1:<le1:=dee".to_vec()));
    }

    #[test]
    fn config_secrets_never_print() {
        let key = ConfigKey::from_bytes([0xab; 32]);
        let printed = format!("{key:?} {key:#?}");
        assert!(!printed.contains("ab") && !printed.contains("171"), "{printed}");
        let plaintext = Plaintext::new(b"secret name".to_vec());
        let printed = format!("{plaintext:?} {plaintext:#?}");
        assert!(!printed.contains("secret") && !printed.contains("115"), "{printed}");
    }

    #[test]
    fn pad_and_strip() {
        assert_eq!(pad(b"d").len(), 216);
        assert_eq!(pad(&[1; 216]).len(), 216);
        assert_eq!(pad(&[1; 217]).len(), 472);
        assert_eq!(strip_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_zeros(&[0, 0]), b"");
    }
}
