//! The Hush protocol core.
//!
//! Everything Hush says on the wire is built and checked here, once, for both the browser
//! (`wasm32-unknown-unknown`) and the node: identities and recovery phrases, sealing and opening
//! 1:1 messages, the storage RPC's signed strings and message hashes, swarm selection and onion
//! layers.
//!
//! The crate is *sans-I/O*: it never fetches, stores, sleeps, reads a clock or seeds its own
//! randomness. Callers pass a cryptographic RNG and the current (network) time.
//! Untrusted input never panics; decode failures are typed and cryptographic failures are one
//! opaque error.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

/// Gives secret types their `Drop` and their `ZeroizeOnDrop` marker, both from the type's own
/// `Zeroize`: dropping a value runs exactly the `zeroize()` that
/// `secret_types_zeroize_every_field_on_drop` (below) calls on a live value and checks field by
/// field. This is the only place crypto-core implements `ZeroizeOnDrop` (xtask's tidy test
/// `secret_types_zeroize_through_their_zeroize` refuses hand-written markers and derived ones, whose
/// `Drop` would not be the tested `zeroize()`), so a secret type cannot claim to wipe itself
/// without a tested wipe behind the claim.
///
/// In test builds it also requires a `SecretFields` view of the type, so nothing is marked
/// without a way for the test to look inside it.
macro_rules! wipe_on_drop {
    ($($ty:ty),+ $(,)?) => {$(
        impl Drop for $ty {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(self);
            }
        }

        impl zeroize::ZeroizeOnDrop for $ty {}

        #[cfg(test)]
        const _: () = {
            const fn has_secret_fields<T: crate::SecretFields + ?Sized>() {}
            has_secret_fields::<$ty>();
        };
    )+};
}

/// Test-only: the bytes of every secret field of a secret type, by field name, as they are now.
///
/// Implementations destructure `self` without `..`, so a field added to the type is a compile
/// error here until someone decides whether it is secret; non-secret fields (public keys, the
/// cipher's name, the sender) are bound to `_` with the reason next to them.
/// A field that `zeroize()` empties (a `String`, an `Option`) reads as no bytes.
#[cfg(test)]
pub(crate) trait SecretFields: zeroize::Zeroize + zeroize::ZeroizeOnDrop {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)>;
}

pub mod attachment;
pub mod bencode;
pub mod community;
pub mod config;
mod curve;
pub mod identity;
pub mod message;
pub mod mnemonic;
pub mod network;
pub mod onion;
pub mod padding;
pub mod seal;
pub mod storage;
pub mod swarm;
pub mod vault;
pub mod wire;

#[doc(hidden)]
pub mod internal;

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use zeroize::Zeroizing;

    use crate::SecretFields;
    use crate::community::BlindedKeys;
    use crate::config::user::groups::GroupAuthData;
    use crate::config::user::{Saved, SecretKey32};
    use crate::identity::{Identity, Seed, SessionId};
    use crate::onion::{EncType, LayerKey};
    use crate::seal::Opened;
    use crate::vault::DataKey;

    /// Every secret field of `value` holds something, and `zeroize()` — which is what its `Drop`
    /// runs, see `wipe_on_drop!` — leaves every one of them zero (or empty).
    fn wipes_every_field<T: SecretFields>(name: &str, mut value: T) {
        let live = value.secret_fields();
        assert!(!live.is_empty(), "{name} lists no secret field");
        for (field, bytes) in &live {
            assert!(bytes.iter().any(|&b| b != 0), "{name}.{field} must start non-zero for the test to mean anything");
        }
        value.zeroize();
        for (field, bytes) in value.secret_fields() {
            assert!(bytes.iter().all(|&b| b == 0), "{name}.{field} is not wiped by zeroize, nor on drop: {bytes:02x?}");
        }
    }

    /// Invariant: secret types zeroize on drop. Every type given `wipe_on_drop!` is listed here.
    #[test]
    fn secret_types_zeroize_every_field_on_drop() {
        let seed = Seed::from_bytes([0xa7; 16]);
        let identity = Identity::from_seed(&seed);
        let phrase = identity.phrase().unwrap();
        wipes_every_field("Seed", seed);
        wipes_every_field("Identity", identity);
        wipes_every_field("Phrase", phrase);
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            wipes_every_field("LayerKey", LayerKey::from_bytes([0x3c; 32], enc));
        }
        wipes_every_field("DataKey", DataKey::generate(&mut ChaCha20Rng::seed_from_u64(1)));
        let sender: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        let plaintext = Zeroizing::new(b"the message".to_vec());
        wipes_every_field("Opened", Opened { sender, sender_ed25519: [0xcd; 32], plaintext });
        let account = Identity::from_ed25519_seed(&[0x5e; 32]);
        wipes_every_field("BlindedKeys", BlindedKeys::blind15(&account, &[0x42; 32]));
        wipes_every_field("BlindedKeys", BlindedKeys::blind25(&account, &[0x42; 32]));
        wipes_every_field("SecretKey32", SecretKey32::from_bytes([0x11; 32]));
        wipes_every_field("GroupAuthData", GroupAuthData::from_bytes([0x22; 100]));
        let saved = Saved {
            current: b"d1:#i1e1:&de1:<le1:=dee".to_vec(),
            current_hashes: vec!["h".into()],
            pending: Some(b"d1:n4:Kate".to_vec()),
            obsolete: Vec::new(),
        };
        wipes_every_field("Saved", saved);
    }
}
