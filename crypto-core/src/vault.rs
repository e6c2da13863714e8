//! The vault's cryptography: what the app keeps in IndexedDB is sealed here.
//!
//! A random 256-bit *data key* seals every record with XChaCha20-Poly1305; each record is bound to
//! its store and lookup key (as associated data), so a record cannot be moved to another place
//! unnoticed. Lookup keys are keyed hashes (BLAKE2b, a key per store derived from the data key), so
//! no plaintext ID is ever written. The data key itself is stored only wrapped: sealed under a key
//! derived from the person's passphrase with Argon2id, with the parameters written beside it, and
//! (a second wrap) under a key derived from the account's seed, so the recovery phrase can open
//! the vault when the passphrase is forgotten.
//!
//! A record's value is padded before it is sealed ([`padded_len`]), so the size of what is stored
//! says little about the size of what it holds: every value up to 511 bytes takes 512, larger ones
//! a multiple of 256 bytes, and from 4 KiB on one of Padmé's lengths.

use core::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use blake2::Blake2bMac;
use blake2::digest::consts::U32;
use blake2::digest::{FixedOutput, Mac};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::identity::Seed;

/// The format version of wrapped keys, and of records sealed unpadded (vault schemas 1 to 3).
const VERSION: u8 = 1;
/// The format version of padded records (from vault schema 4).
const PADDED: u8 = 2;
/// The first byte of the padding, after the value; zero bytes follow up to the padded length.
const PAD_MARK: u8 = 0x80;
/// The smallest padded record: every value up to `RECORD_MIN - 1` bytes is padded to this.
pub const RECORD_MIN: usize = 512;
/// Padded lengths above [`RECORD_MIN`] are multiples of this at least (Padmé's own step grows
/// past it from 4 KiB).
pub const RECORD_STEP: usize = 256;
/// What sealing adds to a padded value: the version byte, the nonce and the tag.
pub const RECORD_OVERHEAD: usize = 1 + NONCE + TAG;
const NONCE: usize = 24;
const TAG: usize = 16;
const SALT: usize = 16;
/// BLAKE2b personalization (16 bytes) of the recovery key, and the associated data of its wrap.
const RECOVERY_LABEL: &[u8; 16] = b"hush/recovery/v1";

/// Argon2id cost parameters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The parameters new vaults use: Argon2id, 64 MiB, 3 passes, 1 lane (RFC 9106's second
    /// recommended option, for memory-constrained settings such as a browser tab).
    pub const DEFAULT: KdfParams = KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 };

    /// Cheap parameters for tests only.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    /// The most memory a wrapped key may ask for: 256 MiB, four times the default. Argon2 allocates
    /// all of it at once, and a browser tab that cannot is killed, so a damaged or hostile record
    /// must not choose more.
    pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
    /// The most passes: 10 (about 4 s at the largest memory in a browser tab).
    pub const MAX_ITERATIONS: u32 = 10;
    /// The most lanes: 8 (the page runs Argon2 on one thread; more lanes buy nothing there).
    pub const MAX_PARALLELISM: u32 = 8;

    /// Checks the parameters against the limits above (Argon2's own minimums are checked when it
    /// runs: [`VaultError::BadParameters`]).
    pub fn check(self) -> Result<KdfParams, VaultError> {
        let limits = [
            (KdfParameter::Memory, self.memory_kib, Self::MAX_MEMORY_KIB),
            (KdfParameter::Iterations, self.iterations, Self::MAX_ITERATIONS),
            (KdfParameter::Parallelism, self.parallelism, Self::MAX_PARALLELISM),
        ];
        for (parameter, value, max) in limits {
            if value > max {
                return Err(VaultError::ParametersTooCostly { parameter, value, max });
            }
        }
        Ok(self)
    }
}

/// One of the Argon2id parameters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KdfParameter {
    /// Memory, in KiB.
    Memory,
    /// Passes.
    Iterations,
    /// Lanes.
    Parallelism,
}

impl fmt::Display for KdfParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KdfParameter::Memory => "memory (KiB)",
            KdfParameter::Iterations => "passes",
            KdfParameter::Parallelism => "lanes",
        })
    }
}

/// Why the vault refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase does not open this vault.
    WrongPassphrase,
    /// A stored value is not in a format this version reads.
    Malformed(&'static str),
    /// A record did not decrypt: it was changed, or belongs elsewhere.
    Corrupt,
    /// The key-derivation parameters are out of range.
    BadParameters,
    /// The key-derivation parameters ask for more than this version will spend
    /// ([`KdfParams::check`]): the record is damaged or was not written by Hush.
    ParametersTooCostly {
        /// Which parameter.
        parameter: KdfParameter,
        /// Its stored value.
        value: u32,
        /// The most accepted.
        max: u32,
    },
    /// The recovery phrase does not open this vault: it belongs to another account.
    WrongPhrase,
    /// A record decrypted, but its padding is not the padding Hush writes (a bug, or a record
    /// written by something else with the key): the record is not used.
    BadPadding,
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::WrongPassphrase => f.write_str("that passphrase does not unlock this account"),
            VaultError::Malformed(what) => write!(f, "stored data is damaged: {what}"),
            VaultError::Corrupt => f.write_str("a stored record could not be decrypted"),
            VaultError::BadParameters => f.write_str("the key-derivation parameters are out of range"),
            VaultError::ParametersTooCostly { parameter, value, max } => write!(
                f,
                "stored data is damaged: the key-derivation parameters ask for too much ({parameter} {value}, at most {max})"
            ),
            VaultError::WrongPhrase => f.write_str("that recovery phrase belongs to another account"),
            VaultError::BadPadding => f.write_str("stored data is damaged: a record's padding is wrong"),
        }
    }
}

impl std::error::Error for VaultError {}

/// The data key, wrapped by a passphrase: safe to store in the clear.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WrappedKey {
    /// Argon2id parameters used.
    pub params: KdfParams,
    salt: [u8; SALT],
    sealed: Vec<u8>,
}

impl WrappedKey {
    /// `version ‖ memory_kib ‖ iterations ‖ parallelism (u32 LE each) ‖ salt ‖ nonce ‖ ciphertext`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        for n in [self.params.memory_kib, self.params.iterations, self.params.parallelism] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.sealed);
        out
    }

    /// Parses [`WrappedKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<WrappedKey, VaultError> {
        let (&version, rest) = bytes.split_first().ok_or(VaultError::Malformed("empty wrapped key"))?;
        if version != VERSION {
            return Err(VaultError::Malformed("unknown wrapped-key version"));
        }
        let mut numbers = [0u32; 3];
        let mut rest = rest;
        for n in &mut numbers {
            let (head, tail) = rest.split_first_chunk::<4>().ok_or(VaultError::Malformed("truncated wrapped key"))?;
            *n = u32::from_le_bytes(*head);
            rest = tail;
        }
        let (salt, sealed) = rest.split_first_chunk::<SALT>().ok_or(VaultError::Malformed("truncated wrapped key"))?;
        if sealed.len() != NONCE + 32 + TAG {
            return Err(VaultError::Malformed("wrapped key has the wrong length"));
        }
        let params = KdfParams { memory_kib: numbers[0], iterations: numbers[1], parallelism: numbers[2] }.check()?;
        Ok(WrappedKey { params, salt: *salt, sealed: sealed.to_vec() })
    }
}

/// The data key, wrapped by a key derived from the account's seed (the recovery phrase): safe to
/// store in the clear.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RecoveryWrap {
    salt: [u8; SALT],
    sealed: Vec<u8>,
}

impl RecoveryWrap {
    /// `version ‖ salt ‖ nonce ‖ ciphertext ‖ tag`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.sealed);
        out
    }

    /// Parses [`RecoveryWrap::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<RecoveryWrap, VaultError> {
        let (&version, rest) = bytes.split_first().ok_or(VaultError::Malformed("empty recovery key"))?;
        if version != VERSION {
            return Err(VaultError::Malformed("unknown recovery-key version"));
        }
        let (salt, sealed) = rest.split_first_chunk::<SALT>().ok_or(VaultError::Malformed("truncated recovery key"))?;
        if sealed.len() != NONCE + 32 + TAG {
            return Err(VaultError::Malformed("recovery key has the wrong length"));
        }
        Ok(RecoveryWrap { salt: *salt, sealed: sealed.to_vec() })
    }
}

/// The key that wraps the data key for recovery: BLAKE2b-256 in keyed mode, key = the 16-byte
/// seed, salt = 16 random bytes stored with the wrap, personalization = `hush/recovery/v1`, over
/// the empty message.
///
/// The seed is 128 uniformly random bits, so a keyed PRF is a sound KDF for it: there is nothing to
/// stretch (guessing 2^128 seeds is out of reach with or without Argon2, which would only slow the
/// unlock screen). The personalization separates this key from every other use of the seed (its
/// Ed25519 key is SHA-512 of the seed padded with zeros); the salt makes the key differ per vault,
/// so two devices of one account never share a recovery key and no precomputation spans vaults.
fn recovery_key(seed: &Seed, salt: &[u8; SALT]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // Cannot fail: a 16-byte key, salt and personalization are all within BLAKE2b's limits.
    if let Ok(mac) = Blake2bMac::<U32>::new_with_salt_and_personal(seed.as_bytes(), salt, RECOVERY_LABEL) {
        out.copy_from_slice(&mac.finalize_fixed());
    }
    out
}

fn kek(passphrase: &str, salt: &[u8; SALT], params: KdfParams) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let params = params.check()?;
    let argon_params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
        .map_err(|_| VaultError::BadParameters)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|_| VaultError::BadParameters)?;
    Ok(key)
}

fn seal(key: &[u8; 32], rng: &mut impl CryptoRngCore, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.into());
    // Encryption fails only past 2^38 bytes.
    let sealed = cipher.encrypt((&nonce).into(), Payload { msg: plaintext, aad }).unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, ciphertext) = sealed.split_first_chunk::<NONCE>()?;
    XChaCha20Poly1305::new(key.into()).decrypt(nonce.into(), Payload { msg: ciphertext, aad }).ok().map(Zeroizing::new)
}

fn subkey(data_key: &[u8; 32], purpose: &[u8], store: &str) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    if let Ok(mut mac) = <Blake2bMac<U32> as Mac>::new_from_slice(data_key) {
        mac.update(purpose);
        mac.update(&u32::try_from(store.len()).unwrap_or(u32::MAX).to_le_bytes());
        mac.update(store.as_bytes());
        out.copy_from_slice(&mac.finalize_fixed());
    }
    out
}

/// The length a value of `len` bytes is padded to before it is sealed (the value, a `0x80` byte,
/// then zero bytes): [`RECORD_MIN`] for every value shorter than that, else `len + 1` rounded up
/// to a multiple of [`RECORD_STEP`] or of Padmé's step, whichever is larger. Padmé (Nikitin et
/// al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs", 2019)
/// rounds a length L to a multiple of 2^(E − S), E = ⌊log₂ L⌋, S = ⌊log₂ E⌋ + 1: at most 12% is
/// added, and a padded length reveals O(log log L) bits of L. Its step reaches 256 at 4 KiB, so
/// lengths from 512 bytes to 4 KiB step by 256 and larger ones by Padmé alone. Never panics: a
/// length too large to round stays as it is (sealing fails long before).
pub fn padded_len(len: usize) -> usize {
    let need = len.saturating_add(1);
    if need <= RECORD_MIN {
        return RECORD_MIN;
    }
    // need > 512, so e ≥ 9 and e − s ≥ 5.
    let e = usize::BITS - 1 - need.leading_zeros();
    let s = u32::BITS - e.leading_zeros();
    let step = (1usize << (e - s)).max(RECORD_STEP);
    need.div_ceil(step).checked_mul(step).unwrap_or(need)
}

/// `value ‖ 0x80 ‖ 0x00…` to [`padded_len`], in a buffer zeroized on drop.
fn pad_record(value: &[u8]) -> Zeroizing<Vec<u8>> {
    let total = padded_len(value.len()).max(value.len().saturating_add(1));
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    out.extend_from_slice(value);
    out.push(PAD_MARK);
    out.resize(total, 0);
    out
}

/// Removes [`pad_record`]'s padding in place: the padded length must be one [`padded_len`] gives
/// for the value found, and after the value there must be `0x80` then zero bytes only.
fn unpad_record(mut padded: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let mark = padded.iter().rposition(|&b| b != 0).ok_or(VaultError::BadPadding)?;
    if padded.get(mark) != Some(&PAD_MARK) || padded_len(mark) != padded.len() {
        return Err(VaultError::BadPadding);
    }
    padded.truncate(mark);
    Ok(padded)
}

/// How a stored record was sealed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordFormat {
    /// The value as it is (vault schemas 1 to 3): its size shows the value's to the byte.
    Unpadded,
    /// The value padded to [`padded_len`] (from schema 4).
    Padded,
}

impl RecordFormat {
    /// The format of a stored record, from its first byte (nothing is decrypted).
    pub fn of(sealed: &[u8]) -> Result<RecordFormat, VaultError> {
        match sealed.first() {
            Some(&VERSION) => Ok(RecordFormat::Unpadded),
            Some(&PADDED) => Ok(RecordFormat::Padded),
            Some(_) => Err(VaultError::Malformed("unknown record version")),
            None => Err(VaultError::Malformed("empty record")),
        }
    }
}

/// The associated data of a record: its lookup key, after the format version for padded records
/// (so a record's version byte cannot be changed unnoticed).
fn record_aad(format: RecordFormat, lookup_key: &str) -> Vec<u8> {
    match format {
        RecordFormat::Unpadded => lookup_key.as_bytes().to_vec(),
        RecordFormat::Padded => [&[PADDED][..], lookup_key.as_bytes()].concat(),
    }
}

/// The random key that seals every record. Zeroized on drop; never printed.
#[derive(Zeroize)]
pub struct DataKey(Zeroizing<[u8; 32]>);

wipe_on_drop!(DataKey);

#[cfg(test)]
impl crate::SecretFields for DataKey {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let DataKey(key) = self;
        vec![("0", key.to_vec())]
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh random data key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> DataKey {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// Wraps the key under `passphrase` with Argon2id(`params`) and a fresh salt.
    pub fn wrap(
        &self,
        rng: &mut impl CryptoRngCore,
        passphrase: &str,
        params: KdfParams,
    ) -> Result<WrappedKey, VaultError> {
        let mut salt = [0u8; SALT];
        rng.fill_bytes(&mut salt);
        let kek = kek(passphrase, &salt, params)?;
        let sealed = seal(&kek, rng, self.0.as_ref(), &[VERSION]);
        Ok(WrappedKey { params, salt, sealed })
    }

    /// Unwraps a stored key; a wrong passphrase is [`VaultError::WrongPassphrase`].
    pub fn unwrap(wrapped: &WrappedKey, passphrase: &str) -> Result<DataKey, VaultError> {
        let kek = kek(passphrase, &wrapped.salt, wrapped.params)?;
        let plain = open(&kek, &wrapped.sealed, &[VERSION]).ok_or(VaultError::WrongPassphrase)?;
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| VaultError::Malformed("wrapped key size"))?;
        Ok(DataKey(Zeroizing::new(key)))
    }

    /// Wraps the key under the account's `seed` (see [`recovery_key`]) with a fresh salt.
    pub fn wrap_for_recovery(&self, rng: &mut impl CryptoRngCore, seed: &Seed) -> RecoveryWrap {
        let mut salt = [0u8; SALT];
        rng.fill_bytes(&mut salt);
        let key = recovery_key(seed, &salt);
        let sealed = seal(&key, rng, self.0.as_ref(), RECOVERY_LABEL);
        RecoveryWrap { salt, sealed }
    }

    /// Unwraps the recovery wrap with the account's seed; another account's seed is
    /// [`VaultError::WrongPhrase`].
    pub fn unwrap_recovery(wrapped: &RecoveryWrap, seed: &Seed) -> Result<DataKey, VaultError> {
        let key = recovery_key(seed, &wrapped.salt);
        let plain = open(&key, &wrapped.sealed, RECOVERY_LABEL).ok_or(VaultError::WrongPhrase)?;
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| VaultError::Malformed("recovery key size"))?;
        Ok(DataKey(Zeroizing::new(key)))
    }

    /// Whether `other` is the same key (in constant time).
    pub fn same_as(&self, other: &DataKey) -> bool {
        bool::from(self.0.as_ref().ct_eq(other.0.as_ref()))
    }

    /// The lookup key of `id` in `store`: hex of a BLAKE2b-256 keyed per store. Equal IDs give
    /// equal keys in the same store, and nothing about the ID is revealed.
    pub fn lookup_key(&self, store: &str, id: &[u8]) -> String {
        let key = subkey(&self.0, b"hush/vault/lookup/v1", store);
        let mut out = [0u8; 32];
        if let Ok(mut mac) = <Blake2bMac<U32> as Mac>::new_from_slice(key.as_ref()) {
            mac.update(id);
            out.copy_from_slice(&mac.finalize_fixed());
        }
        hex::encode(out)
    }

    /// Seals a record for (`store`, `lookup_key`): `02 ‖ nonce ‖ ciphertext ‖ tag`, the
    /// ciphertext being of the value padded to [`padded_len`], with associated data `02 ‖
    /// lookup key`. The stored size is `padded_len(value) + RECORD_OVERHEAD`.
    pub fn seal_record(
        &self,
        rng: &mut impl CryptoRngCore,
        store: &str,
        lookup_key: &str,
        plaintext: &[u8],
    ) -> Vec<u8> {
        self.seal_content(rng, RecordFormat::Padded, store, lookup_key, &pad_record(plaintext))
    }

    /// Seals `content` as it is, in `format`: the padding, if any, is the caller's.
    fn seal_content(
        &self,
        rng: &mut impl CryptoRngCore,
        format: RecordFormat,
        store: &str,
        lookup_key: &str,
        content: &[u8],
    ) -> Vec<u8> {
        let key = subkey(&self.0, b"hush/vault/record/v1", store);
        let version = match format {
            RecordFormat::Unpadded => VERSION,
            RecordFormat::Padded => PADDED,
        };
        let mut out = vec![version];
        out.extend_from_slice(&seal(&key, rng, content, &record_aad(format, lookup_key)));
        out
    }

    /// Seals `content` exactly as given, in `format` (no padding is added; for
    /// [`RecordFormat::Unpadded`], the record an older vault holds). For tests of migrations and
    /// of damaged padding only.
    #[cfg(any(test, feature = "testing"))]
    pub fn seal_record_as(
        &self,
        rng: &mut impl CryptoRngCore,
        format: RecordFormat,
        store: &str,
        lookup_key: &str,
        content: &[u8],
    ) -> Vec<u8> {
        self.seal_content(rng, format, store, lookup_key, content)
    }

    /// Opens a record sealed for (`store`, `lookup_key`), padded or not (an unpadded one is what
    /// vault schemas 1 to 3 wrote). A record that decrypts but whose padding is wrong is
    /// [`VaultError::BadPadding`].
    pub fn open_record(&self, store: &str, lookup_key: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let format = RecordFormat::of(sealed)?;
        let key = subkey(&self.0, b"hush/vault/record/v1", store);
        let opened = open(&key, sealed.get(1..).unwrap_or_default(), &record_aad(format, lookup_key))
            .ok_or(VaultError::Corrupt)?;
        match format {
            RecordFormat::Unpadded => Ok(opened),
            RecordFormat::Padded => unpad_record(opened),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

    /// [derived] libsodium `crypto_pwhash_alg(32, pwd, salt, opslimit 2, memlimit 1 MiB,
    /// ARGON2ID13)` through PyNaCl 1.5.0: the same bytes as our Argon2id wiring.
    #[test]
    fn argon2id_matches_libsodium() {
        let salt: [u8; 16] = core::array::from_fn(|i| (i + 1) as u8);
        let params = KdfParams { memory_kib: 1024, iterations: 2, parallelism: 1 };
        let key = kek("correct horse battery staple", &salt, params).unwrap();
        assert_eq!(hex::encode(*key), "3965a06afc91ceb5c7336d83eb1557e9240839cd54231b8c0448615675355c23");
    }

    /// [derived] Python 3.11 `hashlib.blake2b(b"", key=bytes(range(1, 17)),
    /// salt=bytes(range(0x11, 0x21)), person=b"hush/recovery/v1", digest_size=32)`.
    #[test]
    fn recovery_key_matches_blake2b_keyed_with_salt_and_personalization() {
        let seed = Seed::from_bytes(core::array::from_fn(|i| (i + 1) as u8));
        let salt: [u8; 16] = core::array::from_fn(|i| (i + 0x11) as u8);
        let key = recovery_key(&seed, &salt);
        assert_eq!(hex::encode(*key), "18ff57694a7a4e99ad3e5c943861bc4e835b23e77e14240219f2972bb1d04633");
        assert_ne!(*recovery_key(&seed, &[0; 16]), *key);
    }

    #[test]
    fn the_recovery_wrap_opens_with_the_accounts_seed_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let key = DataKey::generate(&mut rng);
        let seed = Seed::generate(&mut rng);
        let wrapped = key.wrap_for_recovery(&mut rng, &seed);
        let stored = RecoveryWrap::from_bytes(&wrapped.to_bytes()).unwrap();
        assert_eq!(stored, wrapped);
        assert_eq!(stored.to_bytes().len(), 1 + 16 + 24 + 32 + 16);
        assert!(DataKey::unwrap_recovery(&stored, &seed).unwrap().same_as(&key));
        let other = Seed::generate(&mut rng);
        assert_eq!(DataKey::unwrap_recovery(&stored, &other).unwrap_err(), VaultError::WrongPhrase);
        // Each wrap has its own salt, so its own key.
        let again = key.wrap_for_recovery(&mut rng, &seed);
        assert_ne!(again.to_bytes()[1..17], wrapped.to_bytes()[1..17]);
        let bytes = stored.to_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            let opened = RecoveryWrap::from_bytes(&bad).and_then(|w| DataKey::unwrap_recovery(&w, &seed));
            assert!(opened.is_err(), "byte {i}");
        }
        for bad in [&[][..], &[2; 89][..], &bytes[..88], &[bytes.as_slice(), &[0]].concat()[..]] {
            assert!(matches!(RecoveryWrap::from_bytes(bad), Err(VaultError::Malformed(_))));
        }
        assert!(!DataKey::generate(&mut rng).same_as(&key));
    }

    fn stored_with(params: [u32; 3]) -> Vec<u8> {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut bytes = DataKey::generate(&mut rng).wrap(&mut rng, "p", FAST).unwrap().to_bytes();
        for (i, n) in params.iter().enumerate() {
            bytes[1 + 4 * i..5 + 4 * i].copy_from_slice(&n.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn stored_parameters_beyond_the_limits_are_refused_before_argon2_runs() {
        use KdfParameter::*;
        let cases = [
            ([u32::MAX, 1, 1], Memory, u32::MAX, KdfParams::MAX_MEMORY_KIB),
            ([KdfParams::MAX_MEMORY_KIB + 1, 1, 1], Memory, KdfParams::MAX_MEMORY_KIB + 1, KdfParams::MAX_MEMORY_KIB),
            ([64, u32::MAX, 1], Iterations, u32::MAX, KdfParams::MAX_ITERATIONS),
            ([64, 11, 1], Iterations, 11, 10),
            ([1024, 1, 9], Parallelism, 9, 8),
            ([64, 1, u32::MAX], Parallelism, u32::MAX, 8),
        ];
        for (params, parameter, value, max) in cases {
            let err = WrappedKey::from_bytes(&stored_with(params)).unwrap_err();
            assert_eq!(err, VaultError::ParametersTooCostly { parameter, value, max }, "{params:?}");
            assert!(err.to_string().starts_with("stored data is damaged"), "{err}");
        }
        // At the limits a stored key still parses (and runs: Argon2 is not asked here).
        let at_limits = [KdfParams::MAX_MEMORY_KIB, KdfParams::MAX_ITERATIONS, KdfParams::MAX_PARALLELISM];
        assert!(WrappedKey::from_bytes(&stored_with(at_limits)).is_ok());
        // Below Argon2's own minimums: out of range, found when it runs.
        let weak = WrappedKey::from_bytes(&stored_with([64, 0, 1])).unwrap();
        assert_eq!(DataKey::unwrap(&weak, "p").unwrap_err(), VaultError::BadParameters);
        // Parameters changed after parsing, and new wraps, are held to the same limits.
        let mut wrapped = WrappedKey::from_bytes(&stored_with([64, 1, 1])).unwrap();
        wrapped.params.memory_kib = u32::MAX;
        assert!(matches!(DataKey::unwrap(&wrapped, "p"), Err(VaultError::ParametersTooCostly { .. })));
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let huge = KdfParams { memory_kib: 1 << 30, iterations: 3, parallelism: 1 };
        let err = DataKey::generate(&mut rng).wrap(&mut rng, "p", huge).unwrap_err();
        assert!(matches!(err, VaultError::ParametersTooCostly { parameter: Memory, .. }));
        assert_eq!(KdfParams::DEFAULT.check(), Ok(KdfParams::DEFAULT));
    }

    #[test]
    fn wraps_and_unwraps_with_the_passphrase_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = DataKey::generate(&mut rng);
        let wrapped = key.wrap(&mut rng, "correct horse", FAST).unwrap();
        let stored = WrappedKey::from_bytes(&wrapped.to_bytes()).unwrap();
        assert_eq!(stored, wrapped);
        let again = DataKey::unwrap(&stored, "correct horse").unwrap();
        assert_eq!(*again.0, *key.0);
        assert_eq!(DataKey::unwrap(&stored, "Correct horse").unwrap_err(), VaultError::WrongPassphrase);
        assert_eq!(DataKey::unwrap(&stored, "").unwrap_err(), VaultError::WrongPassphrase);
    }

    #[test]
    fn records_are_bound_to_their_store_and_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let key = DataKey::generate(&mut rng);
        let id = key.lookup_key("contacts", b"05abc");
        let sealed = key.seal_record(&mut rng, "contacts", &id, b"Alice");
        assert_eq!(&key.open_record("contacts", &id, &sealed).unwrap()[..], b"Alice");
        assert_eq!(key.open_record("messages", &id, &sealed).unwrap_err(), VaultError::Corrupt);
        let other = key.lookup_key("contacts", b"05abd");
        assert_eq!(key.open_record("contacts", &other, &sealed).unwrap_err(), VaultError::Corrupt);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(key.open_record("contacts", &id, &bad).is_err(), "byte {i}");
        }
        let stranger = DataKey::generate(&mut rng);
        assert_eq!(stranger.open_record("contacts", &id, &sealed).unwrap_err(), VaultError::Corrupt);
    }

    #[test]
    fn lookup_keys_are_stable_per_store_and_reveal_nothing() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = DataKey::generate(&mut rng);
        let a = key.lookup_key("contacts", b"05abc");
        assert_eq!(a, key.lookup_key("contacts", b"05abc"));
        assert_ne!(a, key.lookup_key("messages", b"05abc"));
        assert_ne!(a, DataKey::generate(&mut rng).lookup_key("contacts", b"05abc"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("05abc"));
    }

    #[test]
    fn malformed_stored_values_are_typed_errors() {
        assert!(matches!(WrappedKey::from_bytes(&[]), Err(VaultError::Malformed(_))));
        assert!(matches!(WrappedKey::from_bytes(&[2; 100]), Err(VaultError::Malformed(_))));
        assert!(matches!(WrappedKey::from_bytes(&[1; 20]), Err(VaultError::Malformed(_))));
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let key = DataKey::generate(&mut rng);
        assert!(matches!(key.open_record("s", "k", &[]), Err(VaultError::Malformed(_))));
        assert!(matches!(key.open_record("s", "k", &[9, 1, 2]), Err(VaultError::Malformed(_))));
        assert_eq!(key.open_record("s", "k", &[1, 1, 2]).unwrap_err(), VaultError::Corrupt);
        let bad_params = KdfParams { memory_kib: 1, iterations: 0, parallelism: 0 };
        assert_eq!(key.wrap(&mut rng, "x", bad_params).unwrap_err(), VaultError::BadParameters);
        assert_eq!(format!("{key:?}"), "DataKey(<redacted>)");
    }

    /// Every padded length, for values of 0 to 70,000 bytes: 512 up to 511 bytes, then multiples
    /// of 256 to 4 KiB, then Padmé's lengths; never shorter than the value and its marker, never
    /// more than 50% longer past the minimum (12% from 4 KiB), and the same for every value
    /// between two buckets.
    #[test]
    fn padded_lengths_fall_in_buckets() {
        let mut buckets = std::collections::BTreeSet::new();
        for len in 0..70_000usize {
            let padded = padded_len(len);
            assert!(padded > len, "{len}");
            buckets.insert(padded);
            if len < RECORD_MIN {
                assert_eq!(padded, RECORD_MIN, "{len}");
                continue;
            }
            assert_eq!(padded % RECORD_STEP, 0, "{len}");
            assert!(padded_len(len + 1) >= padded, "monotone at {len}");
            if len + 1 >= 4096 {
                // Padmé: the largest step that keeps S significant bits.
                let e = usize::BITS - 1 - (len + 1).leading_zeros();
                let s = u32::BITS - e.leading_zeros();
                assert_eq!(padded, (len + 1).next_multiple_of(1 << (e - s)), "{len}");
                assert!(padded * 100 <= (len + 1) * 112, "{len}: {padded}");
            } else {
                assert_eq!(padded, (len + 1).next_multiple_of(RECORD_STEP), "{len}");
                assert!(padded * 2 <= (len + 1) * 3, "{len}: {padded}");
            }
        }
        // 70,000 lengths share 82 sizes: 16 per doubling past 4 KiB.
        let first: Vec<usize> = buckets.iter().copied().take(17).collect();
        assert_eq!(
            first,
            [512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096, 4352, 4608]
        );
        assert_eq!(buckets.len(), 82);
        assert_eq!(padded_len(8191), 8192);
        assert_eq!(padded_len(8192), 8704);
        assert_eq!(padded_len(1 << 20), (1 << 20) + (1 << 15));
        // No length panics, however large.
        for len in [usize::MAX, usize::MAX - 1, usize::MAX / 2, usize::MAX / 2 + 1] {
            assert!(padded_len(len) >= len);
        }
    }

    /// What is stored for a value is `padded_len(value) + 41` bytes: two values in one bucket are
    /// stored at the same size, and every one opens to exactly its value.
    #[test]
    fn sealed_records_have_the_size_of_their_bucket() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let key = DataKey::generate(&mut rng);
        let id = key.lookup_key("messages", b"m");
        for len in (0..5_000).step_by(7).chain([511, 512, 767, 768, 4095, 4096, 4097, 20_000]) {
            let value: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = key.seal_record(&mut rng, "messages", &id, &value);
            assert_eq!(sealed.len(), padded_len(len) + RECORD_OVERHEAD, "{len}");
            assert_eq!(sealed[0], 2);
            assert_eq!(RecordFormat::of(&sealed), Ok(RecordFormat::Padded));
            assert_eq!(&key.open_record("messages", &id, &sealed).unwrap()[..], &value[..], "{len}");
        }
        let short = key.seal_record(&mut rng, "messages", &id, b"ok");
        let longer = key.seal_record(&mut rng, "messages", &id, &[b'x'; 300]);
        assert_eq!(short.len(), longer.len());
        assert_eq!(short.len(), 553);
        // A value ending in zero bytes, or in 0x80, keeps them.
        for value in [&b"ab\0\0"[..], b"\x80", b"\x80\0", b"", b"\0"] {
            let sealed = key.seal_record(&mut rng, "s", "k", value);
            assert_eq!(&key.open_record("s", "k", &sealed).unwrap()[..], value);
        }
    }

    /// A record that decrypts but whose padding is not what Hush writes is a typed error, never a
    /// panic and never data; a padded record cannot pass for an unpadded one or the other way
    /// round (the version is bound to the ciphertext).
    #[test]
    fn damaged_padding_is_an_error() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let key = DataKey::generate(&mut rng);
        let good = pad_record(b"hello");
        let mut bad_contents: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![0; RECORD_MIN],
            b"hello".to_vec(),
            [&b"hello\x80"[..], &[0; 10]].concat(),
            [&b"hello\x80"[..], &[0; 1000]].concat(),
            [&b"hello"[..], &vec![0; RECORD_MIN - 5]].concat(),
            pad_record(&[7; 600])[..512].to_vec(),
            [&good[..], &[0; 256]].concat(),
            [&good[..], &[0x80]].concat(),
        ];
        let mut flipped = good.to_vec();
        flipped[RECORD_MIN - 1] = 1;
        bad_contents.push(flipped);
        for content in bad_contents {
            let sealed = key.seal_record_as(&mut rng, RecordFormat::Padded, "s", "k", &content);
            assert_eq!(key.open_record("s", "k", &sealed).unwrap_err(), VaultError::BadPadding, "{content:?}");
        }
        assert_eq!(VaultError::BadPadding.to_string(), "stored data is damaged: a record's padding is wrong");
        let sealed = key.seal_record_as(&mut rng, RecordFormat::Padded, "s", "k", &good);
        assert_eq!(&key.open_record("s", "k", &sealed).unwrap()[..], b"hello");
        for (from, to) in [(2u8, 1u8), (1, 2)] {
            let mut record = if from == 2 {
                key.seal_record(&mut rng, "s", "k", b"hello")
            } else {
                key.seal_record_as(&mut rng, RecordFormat::Unpadded, "s", "k", b"hello")
            };
            assert!(key.open_record("s", "k", &record).is_ok());
            record[0] = to;
            assert_eq!(key.open_record("s", "k", &record).unwrap_err(), VaultError::Corrupt);
        }
    }

    /// Records sealed unpadded (vault schemas 1 to 3) still open, to their value as it was.
    #[test]
    fn unpadded_records_still_open() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let key = DataKey::generate(&mut rng);
        let id = key.lookup_key("messages", b"m");
        let old = key.seal_record_as(&mut rng, RecordFormat::Unpadded, "messages", &id, b"from schema 3");
        assert_eq!(old.len(), 13 + RECORD_OVERHEAD);
        assert_eq!(RecordFormat::of(&old), Ok(RecordFormat::Unpadded));
        assert_eq!(&key.open_record("messages", &id, &old).unwrap()[..], b"from schema 3");
        assert_eq!(key.open_record("account", &id, &old).unwrap_err(), VaultError::Corrupt);
        assert!(matches!(RecordFormat::of(&[]), Err(VaultError::Malformed(_))));
        assert!(matches!(RecordFormat::of(&[3, 0]), Err(VaultError::Malformed(_))));
    }
}
