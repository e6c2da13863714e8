//! Invariant: secret types zeroize on drop and never print. Their `Debug` shows no secret byte
//! or word (checked here); that none has `Display` is checked by the house rules
//! (`xtask/tests/tidy.rs`, `secret_types_have_no_display`).

use crypto_core::identity::{Identity, Seed};
use crypto_core::mnemonic;
use crypto_core::onion::{EncType, LayerKey};
use zeroize::ZeroizeOnDrop;

fn zeroizes_on_drop<T: ZeroizeOnDrop>(_: &T) {}

/// The secret as it could appear in a careless `Debug`: lower and upper hex, and the raw bytes'
/// `Debug` list.
fn leaks(printed: &str, secret: &[u8]) -> bool {
    let lower = hex::encode(secret);
    let upper = lower.to_uppercase();
    let list = format!("{secret:?}");
    [&lower[..16], &upper[..16], &list[..list.len().min(24)]].iter().any(|s| printed.contains(*s))
}

#[test]
fn secret_types_zeroize_on_drop_and_never_print() {
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
}
