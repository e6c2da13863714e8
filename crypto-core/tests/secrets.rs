//! Invariant: secret types zeroize on drop and never print. Their `Debug` shows no secret byte
//! or word (checked here); that none has `Display` is checked by the house rules
//! (`xtask/tests/tidy.rs`, `secret_types_have_no_display`).
//!
//! That they zeroize on drop is checked inside the crate, where their fields can be read:
//! `secret_types_zeroize_every_field_on_drop` (`crypto-core/src/lib.rs`) wipes a live value of
//! each with the very `zeroize()` its `Drop` runs and looks at every secret field. This file only
//! checks that each one says so (`ZeroizeOnDrop`), which is what callers can rely on.

use crypto_core::attachment::{self, AttachmentKey, Domain};
use crypto_core::community::BlindedKeys;
use crypto_core::config::user::groups::GroupAuthData;
use crypto_core::config::user::{Saved, SecretKey32};
use crypto_core::identity::{Identity, Seed};
use crypto_core::mnemonic;
use crypto_core::onion::{EncType, LayerKey};
use crypto_core::seal::Opened;
use crypto_core::vault::DataKey;
use rand_core::{CryptoRng, RngCore};
use zeroize::{ZeroizeOnDrop, Zeroizing};

fn zeroizes_on_drop<T: ZeroizeOnDrop>(_: &T) {}

/// An "RNG" that gives one byte over and over, so a generated key's bytes are known.
struct Constant(u8);

impl RngCore for Constant {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes([self.0; 4])
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes([self.0; 8])
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(self.0);
        Ok(())
    }
}

impl CryptoRng for Constant {}

/// The secret as it could appear in a careless `Debug`: lower and upper hex, and the raw bytes'
/// `Debug` list.
fn leaks(printed: &str, secret: &[u8]) -> bool {
    let lower = hex::encode(secret);
    let upper = lower.to_uppercase();
    let list = format!("{secret:?}");
    [&lower[..16], &upper[..16], &list[..list.len().min(24)]].iter().any(|s| printed.contains(*s))
}

#[test]
fn secret_types_never_print() {
    let seed_bytes = [0xa7u8; 16];
    let seed = Seed::from_bytes(seed_bytes);
    zeroizes_on_drop(&seed);
    assert!(!leaks(&format!("{seed:?} {seed:#?}"), &seed_bytes));

    let identity = Identity::from_seed(&seed);
    zeroizes_on_drop(&identity);
    let printed = format!("{identity:?} {identity:#?}");
    assert!(!leaks(&printed, &seed_bytes));
    let mut padded = [0u8; 32];
    padded[..16].copy_from_slice(&seed_bytes);
    assert!(!leaks(&printed, &padded));
    assert!(printed.contains(&identity.session_id().to_string()), "Debug still says whose identity it is");

    let phrase = identity.phrase().expect("an identity made from a seed has a phrase");
    zeroizes_on_drop(&phrase);
    let printed = format!("{phrase:?} {phrase:#?}");
    for word in phrase.words() {
        assert!(!printed.contains(word), "Debug of a phrase shows the word {word:?}");
    }
    let words: Vec<&str> = phrase.words().collect();
    assert_eq!(words.len(), 13);
    assert_eq!(mnemonic::decode_seed(phrase.as_str()).unwrap().as_bytes(), &seed_bytes);

    let key_bytes = [0x3cu8; 32];
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let key = LayerKey::from_bytes(key_bytes, enc);
        zeroizes_on_drop(&key);
        assert!(!leaks(&format!("{key:?} {key:#?}"), &key_bytes));
    }

    // Whatever it draws, a data key made from this "randomness" is 32 bytes of 0x5e.
    let data_key = DataKey::generate(&mut Constant(0x5e));
    zeroizes_on_drop(&data_key);
    assert!(!leaks(&format!("{data_key:?} {data_key:#?}"), &[0x5e; 32]));

    for len in [32, 64] {
        let key_bytes = vec![0x6bu8; len];
        let key = AttachmentKey::from_bytes(&key_bytes).unwrap();
        zeroizes_on_drop(&key);
        assert!(!leaks(&format!("{key:?} {key:#?}"), &key_bytes));
    }
    // Keys as encryption makes them, and the result that carries one.
    let legacy = attachment::encrypt_legacy(&mut Constant(0x71), b"x").unwrap();
    assert_eq!(legacy.key.as_bytes(), &[0x71; 64]);
    assert!(!leaks(&format!("{legacy:?} {legacy:#?}"), legacy.key.as_bytes()));
    let deterministic = attachment::encrypt_deterministic(&[0x72; 32], b"x", Domain::Attachment).unwrap();
    assert!(!leaks(&format!("{deterministic:?} {deterministic:#?}"), deterministic.key.as_bytes()));

    let secret_text = b"meet me at the old mill at nine";
    let opened = Opened {
        sender: identity.session_id(),
        sender_ed25519: *identity.ed25519_public(),
        plaintext: Zeroizing::new(secret_text.to_vec()),
    };
    zeroizes_on_drop(&opened);
    let printed = format!("{opened:?} {opened:#?}");
    assert!(!leaks(&printed, secret_text));
    assert!(!printed.contains("mill"), "Debug of an opened message shows its text: {printed}");
    assert!(printed.contains(&identity.session_id().to_string()), "Debug still says who sent it");

    // A blinded key pair (protocol-communities C3's account and server, whose blinded scalar
    // vectors-onion V6 gives), and the secret half of SHA-512(seed) its nonces come from.
    let seed: [u8; 32] =
        hex::decode("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9").unwrap().try_into().unwrap();
    let server: [u8; 32] =
        hex::decode("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d").unwrap().try_into().unwrap();
    let blinded = BlindedKeys::blind15(&Identity::from_ed25519_seed(&seed), &server);
    zeroizes_on_drop(&blinded);
    let printed = format!("{blinded:?} {blinded:#?}");
    let scalar = hex::decode("16663322d6b684e1c9dcc02b9e8642c3affd3bc431a9ea9e63dbbac88ce7a305").unwrap();
    assert!(!leaks(&printed, &scalar));
    assert!(!leaks(&printed, &<sha2::Sha512 as sha2::Digest>::digest(seed)[32..]));
    assert!(!leaks(&printed, &seed));
    assert!(printed.contains(&blinded.id().to_string()), "Debug still says whose keys they are");

    // What an account's configs hold: picture keys and group seeds, group members' auth data,
    // and a config as saved (its plaintext: names, contacts, keys).
    let key = SecretKey32::from_bytes([0x5a; 32]);
    zeroizes_on_drop(&key);
    assert!(!leaks(&format!("{key:?} {key:#?}"), &[0x5a; 32]));
    let auth = GroupAuthData::from_bytes([0x6c; 100]);
    zeroizes_on_drop(&auth);
    assert!(!leaks(&format!("{auth:?} {auth:#?}"), &[0x6c; 100]));
    let secret_name = b"d1:n13:Secret Friende";
    let saved = Saved {
        current: secret_name.to_vec(),
        current_hashes: vec!["public-hash".into()],
        pending: Some(secret_name.to_vec()),
        obsolete: Vec::new(),
    };
    zeroizes_on_drop(&saved);
    let printed = format!("{saved:?} {saved:#?}");
    assert!(!printed.contains("Secret Friend") && !leaks(&printed, secret_name), "{printed}");
}
