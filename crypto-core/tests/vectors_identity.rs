//! Known-answer tests from `protocol/vectors-core.md` §1 (identity). The recovery-phrase vectors
//! (§2) are in `vectors_mnemonic.rs`. One module per source; each test names the vector it checks.

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::mnemonic;

fn seed32(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

fn seed16(hex_str: &str) -> Seed {
    Seed::from_bytes(hex::decode(hex_str).unwrap().try_into().unwrap())
}

/// libsession-util `tests/test_session_encrypt.cpp` (vectors-core §1.1).
mod libsession_test_session_encrypt {
    use super::*;

    fn check(seed: &str, ed: &str, x: &str, id: &str) {
        let identity = Identity::from_ed25519_seed(&seed32(seed));
        assert_eq!(hex::encode(identity.ed25519_public()), ed);
        assert_eq!(hex::encode(identity.x25519_public()), x);
        assert_eq!(identity.session_id().to_string(), id);
        assert_eq!(id.parse::<SessionId>().unwrap(), identity.session_id());
    }

    #[test]
    fn seed1_keys_and_session_id() {
        check(
            "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
            "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
            "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
        );
    }

    #[test]
    fn seed2_keys_and_session_id() {
        check(
            "00112233445566778899aabbccddeeff00000000000000000000000000000000",
            "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876",
            "aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
            "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
        );
    }

    #[test]
    fn sixteen_byte_seed_is_padded_with_zeros() {
        let a = Identity::from_seed(&seed16("0123456789abcdef0123456789abcdef"));
        assert_eq!(a.session_id().to_string(), "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72");
    }
}

/// Derived X25519 secrets (vectors-core §1.2). The secret is crate-private, so the byte-for-byte
/// check of `Identity::x25519_secret` against these values is the unit test
/// `identity::tests::derived_x25519_secret_keys`; here the vector's secret must give the public
/// key the identity reports (the Edwards→Montgomery map of its Ed25519 key).
mod derived_x25519_secrets {
    use super::*;
    use x25519_dalek::{PublicKey, StaticSecret};

    fn check(seed: &str, secret_hex: &str) {
        let identity = Identity::from_ed25519_seed(&seed32(seed));
        let vector_secret = StaticSecret::from(seed32(secret_hex));
        assert_eq!(PublicKey::from(&vector_secret).as_bytes(), identity.x25519_public());
    }

    #[test]
    fn seed1_x25519_secret() {
        check(
            "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
            "c066ce44b14d551ee69dbcd631c061d17655b374f5d54e4f1ea9e3718638956b",
        );
    }

    #[test]
    fn seed2_x25519_secret() {
        check(
            "00112233445566778899aabbccddeeff00000000000000000000000000000000",
            "608744d00cd35a82177fe30a1befc3ec3282a9484df0deb13cc5842c0145d455",
        );
    }
}

/// session.js `test/keypair.test.ts` (vectors-core §1.3): phrase → Session ID.
mod sessionjs_keypair_test {
    use super::*;

    const ROWS: &[(&str, &str, &str, &str)] = &[
        (
            "session session session session session session session session session session session session session",
            "dc040000dc040000dc040000dc040000",
            "49461c19429cf1adf05f60d70836ef7f2c41d4e286b47b45d74a30cf07d2d988",
            "0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12",
        ),
        (
            "love love love love love love love love love love love love love",
            "37030000370300003703000037030000",
            "74e0e0e4b519045d4347b26ba24e6e9eda7124e19794d8039f47a36048137687",
            "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818",
        ),
        (
            "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi",
            "39038c8988db02c1af44e8c847bd9713",
            "f661a69453ef81a3b75bfcf954eb1f439d4d74edcab0e72a5c435ee418a907be",
            "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69",
        ),
        (
            "unknown number jukebox pledge lipstick sieve tumbling federal womanly outbreak tapestry gorilla sieve",
            "ec45addd629e84472edbfab1f7deee83",
            "0da5a8c2e4b2c5a5fe5fc22c42c0cc4c54da1490d5650c2d4ff33a1ff9b24903",
            "05ab0badfc19ac18f71d7bb10d5ca5c92731aa301cc483169c691cf697b83e765a",
        ),
    ];

    #[test]
    fn phrases_give_their_session_ids() {
        for (phrase, seed, ed, id) in ROWS {
            let decoded = mnemonic::decode_seed(phrase).unwrap();
            assert_eq!(hex::encode(decoded.as_bytes()), *seed);
            let identity = Identity::from_seed(&decoded);
            assert_eq!(hex::encode(identity.ed25519_public()), *ed);
            assert_eq!(identity.session_id().to_string(), *id);
            assert_eq!(identity.phrase().unwrap().as_str(), *phrase);
        }
    }
}

/// Desktop `ts/test/session/unit/crypto/SnodeSignatures_test.ts` (vectors-core §1.4).
mod desktop_snode_signatures_test {
    use super::*;

    #[test]
    fn user_key_pair_and_derived_id_and_phrase() {
        let seed = seed16("b0e12943e22e8f71774c2c4205fed598");
        let identity = Identity::from_seed(&seed);
        assert_eq!(
            hex::encode(identity.ed25519_public()),
            "bdd5eaf00eaf965ca63b7e8b119d8122d4647ffd5bb58daa1f78dfc54dd53989"
        );
        assert_eq!(
            identity.session_id().to_string(),
            "05558d6fa8ef7575344a73dc56ba0ece787ba6cc90032db762ddb44bd5d6491661"
        );
        assert_eq!(
            identity.phrase().unwrap().as_str(),
            "cage gimmick ocean festival unplugs goat knife history paradise soya phase ember festival"
        );
    }
}
