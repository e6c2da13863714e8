//! Per-hop symmetric encryption: key agreement and the two ciphers (`aes-gcm`, `xchacha20`).

use core::fmt;

use aes_gcm::Aes256Gcm;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit};
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::Sha256;
use x25519_dalek::StaticSecret;

use crate::curve::x25519;
use zeroize::{Zeroize, Zeroizing};

/// The layer cipher named by a layer's `enc_type`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EncType {
    /// AES-256-GCM, key = HMAC-SHA256(key "LOKI", shared point); the default when absent.
    AesGcm,
    /// XChaCha20-Poly1305, key = BLAKE2b-256(shared point ‖ client key ‖ node key).
    XChaCha20,
}

impl EncType {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EncType::AesGcm => "aes-gcm",
            EncType::XChaCha20 => "xchacha20",
        }
    }

    /// Parses a wire name, with the aliases nodes accept.
    pub fn parse(name: &str) -> Option<EncType> {
        match name {
            "aes-gcm" | "gcm" => Some(EncType::AesGcm),
            "xchacha20" | "xchacha20-poly1305" => Some(EncType::XChaCha20),
            _ => None,
        }
    }

    fn nonce_len(self) -> usize {
        match self {
            EncType::AesGcm => 12,
            EncType::XChaCha20 => 24,
        }
    }
}

/// A layer could not be decrypted. Says nothing more.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecryptError;

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("decryption failed")
    }
}

impl std::error::Error for DecryptError {}

/// The symmetric key one layer shares between the client and one receiver. Zeroized on drop.
#[derive(Clone, Zeroize)]
pub struct LayerKey {
    key: Zeroizing<[u8; 32]>,
    /// The cipher's name is not secret (it is on the wire).
    #[zeroize(skip)]
    enc: EncType,
}

wipe_on_drop!(LayerKey);

#[cfg(test)]
impl crate::SecretFields for LayerKey {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let LayerKey { key, enc: _ } = self;
        vec![("key", key.to_vec())]
    }
}

impl fmt::Debug for LayerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerKey").field("enc", &self.enc).finish_non_exhaustive()
    }
}

fn derive(shared: &[u8; 32], client: &[u8; 32], node: &[u8; 32], enc: EncType) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    match enc {
        EncType::AesGcm => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"LOKI").unwrap_or_else(|_| unreachable_hmac());
            mac.update(shared);
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        EncType::XChaCha20 => {
            let mut hasher = Blake2b::<U32>::new();
            hasher.update(shared);
            hasher.update(client);
            hasher.update(node);
            key.copy_from_slice(&hasher.finalize());
        }
    }
    key
}

/// HMAC accepts keys of any length; this is never called.
#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new(&Default::default())
}

impl LayerKey {
    /// The client's side: its ephemeral pair and the receiver's X25519 key.
    pub fn for_client(secret: &StaticSecret, public: &[u8; 32], receiver: &[u8; 32], enc: EncType) -> LayerKey {
        let shared = x25519(&Zeroizing::new(secret.to_bytes()), receiver);
        LayerKey { key: derive(&shared, public, receiver, enc), enc }
    }

    /// The receiver's side: its X25519 pair and the client's ephemeral key.
    pub fn for_node(secret: &StaticSecret, public: &[u8; 32], client: &[u8; 32], enc: EncType) -> LayerKey {
        let shared = x25519(&Zeroizing::new(secret.to_bytes()), client);
        LayerKey { key: derive(&shared, client, public, enc), enc }
    }

    /// A key from its raw bytes (tests and vectors).
    pub fn from_bytes(key: [u8; 32], enc: EncType) -> LayerKey {
        LayerKey { key: Zeroizing::new(key), enc }
    }

    /// The cipher.
    pub fn enc_type(&self) -> EncType {
        self.enc
    }

    /// `nonce ‖ ciphertext ‖ tag` with a fresh random nonce.
    pub fn encrypt(&self, rng: &mut impl CryptoRngCore, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        let (nonce, _) = nonce.split_at_mut(self.enc.nonce_len());
        rng.fill_bytes(nonce);
        let sealed = match self.enc {
            EncType::AesGcm => Aes256Gcm::new((&*self.key).into()).encrypt(nonce.as_ref().into(), plaintext),
            EncType::XChaCha20 => XChaCha20Poly1305::new((&*self.key).into()).encrypt(nonce.as_ref().into(), plaintext),
        };
        // The AEADs fail only for inputs beyond 2^36 bytes, far past any body a node accepts.
        let sealed = sealed.unwrap_or_default();
        let mut out = Vec::with_capacity(nonce.len() + sealed.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Turns `buf` (a plaintext) into `nonce ‖ ciphertext ‖ tag` in place, with a fresh random
    /// nonce: the same bytes as [`LayerKey::encrypt`], without a second copy of a large layer.
    pub fn seal_in_place(&self, rng: &mut impl CryptoRngCore, buf: &mut Vec<u8>) {
        let mut nonce = [0u8; 24];
        let (nonce, _) = nonce.split_at_mut(self.enc.nonce_len());
        rng.fill_bytes(nonce);
        let len = buf.len();
        buf.resize(len + nonce.len(), 0);
        buf.copy_within(0..len, nonce.len());
        let (head, body) = buf.split_at_mut(nonce.len());
        head.copy_from_slice(nonce);
        let tag = match self.enc {
            EncType::AesGcm => {
                Aes256Gcm::new((&*self.key).into()).encrypt_in_place_detached(nonce.as_ref().into(), b"", body)
            }
            EncType::XChaCha20 => {
                XChaCha20Poly1305::new((&*self.key).into()).encrypt_in_place_detached(nonce.as_ref().into(), b"", body)
            }
        };
        // The AEADs fail only for inputs beyond 2^36 bytes, far past any body a node accepts.
        match tag {
            Ok(tag) => buf.extend_from_slice(&tag),
            Err(_) => buf.zeroize(),
        }
    }

    /// Opens `nonce ‖ ciphertext ‖ tag`.
    pub fn decrypt(&self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let n = self.enc.nonce_len();
        if data.len() < n + 16 {
            return Err(DecryptError);
        }
        let (nonce, sealed) = data.split_at(n);
        let plain = match self.enc {
            EncType::AesGcm => Aes256Gcm::new((&*self.key).into()).decrypt(nonce.into(), sealed),
            EncType::XChaCha20 => XChaCha20Poly1305::new((&*self.key).into()).decrypt(nonce.into(), sealed),
        };
        plain.map(Zeroizing::new).map_err(|_| DecryptError)
    }
}
