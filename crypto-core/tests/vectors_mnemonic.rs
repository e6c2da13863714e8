//! Known-answer tests from `protocol/vectors-core.md` §2 (recovery phrase), plus round trips of
//! random input. One module per source; each test names the vector it checks.

use crypto_core::identity::{Identity, Seed};
use crypto_core::mnemonic::{self, PhraseError};

fn seed16(hex_str: &str) -> Seed {
    Seed::from_bytes(hex::decode(hex_str).unwrap().try_into().unwrap())
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

/// What `decode_seed` (the account form) accepts and refuses.
mod account_phrases {
    use super::*;

    const PHRASE: &str = "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept";

    fn count_error(phrase: &str) -> PhraseError {
        mnemonic::decode_seed(phrase).unwrap_err()
    }

    #[test]
    fn other_word_counts_are_refused() {
        let words: Vec<&str> = PHRASE.split(' ').collect();
        for n in [0usize, 1, 2, 3, 4, 11, 12] {
            assert_eq!(
                count_error(&words[..n].join(" ")),
                PhraseError::WrongWordCount { found: n, expected: mnemonic::SEED_WORDS }
            );
        }
        let long = format!("{PHRASE} adept");
        assert_eq!(count_error(&long), PhraseError::WrongWordCount { found: 14, expected: "13" });
        // A 25-word (32-byte) phrase is valid for `decode` but is not an account phrase here.
        let twenty_five = mnemonic::encode(&[9u8; 32]).unwrap();
        assert!(mnemonic::decode(twenty_five.as_str()).is_ok());
        assert_eq!(count_error(twenty_five.as_str()), PhraseError::WrongWordCount { found: 25, expected: "13" });
    }

    #[test]
    fn twelve_words_say_the_last_word_is_missing() {
        let twelve = PHRASE.rsplit_once(' ').unwrap().0;
        let message = count_error(twelve).to_string();
        assert!(message.contains("missing"), "{message}");
        // The same 12 words are a valid no-checksum phrase for the general decoder.
        assert_eq!(hex::encode(&*mnemonic::decode(twelve).unwrap()), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn word_position_is_reported_without_the_word() {
        let phrase = PHRASE.replacen("pigment", "qqqsecret", 1);
        let error = count_error(&phrase);
        assert_eq!(error, PhraseError::UnknownWord { position: 3 });
        assert!(!error.to_string().contains("qqq"));
        assert!(!format!("{error:?}").contains("qqq"));
    }

    #[test]
    fn no_error_message_repeats_a_word() {
        let mut errors = vec![
            count_error("vexed enjoy pigment"),
            count_error(&PHRASE.replacen("films", "zzzz", 1)),
            count_error(&PHRASE.replacen("voted adept", "voted vexed", 1)),
            mnemonic::decode("abbey abbey zoom").unwrap_err(),
        ];
        errors.push(mnemonic::encode(&[1, 2, 3]).unwrap_err());
        for error in errors {
            let text = error.to_string();
            for word in PHRASE.split(' ').chain(["abbey", "zoom", "zzzz"]) {
                assert!(!text.contains(word), "{text}");
            }
        }
    }

    #[test]
    fn a_pasted_no_break_space_separates_words() {
        let pasted = PHRASE.replacen(' ', "\u{a0}", 2);
        assert_eq!(hex::encode(mnemonic::decode_seed(&pasted).unwrap().as_bytes()), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn tabs_and_new_lines_separate_words() {
        let spaced = PHRASE.replace(' ', "\t\n ");
        assert_eq!(hex::encode(mnemonic::decode_seed(&spaced).unwrap().as_bytes()), "0123456789abcdef0123456789abcdef");
    }
}

/// Random round trips (ChaCha20 with fixed seeds, so failures reproduce).
mod random_round_trips {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    /// Every 16-byte seed survives encode → decode, and the phrase has 13 words.
    #[test]
    fn random_seeds() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for _ in 0..2000 {
            let seed = Seed::generate(&mut rng);
            let phrase = mnemonic::encode_seed(&seed);
            assert_eq!(phrase.words().count(), 13);
            assert_eq!(mnemonic::decode_seed(phrase.as_str()).unwrap().as_bytes(), seed.as_bytes());
            let identity = Identity::from_seed(&seed);
            assert_eq!(identity.phrase().unwrap().as_str(), phrase.as_str());
        }
    }

    /// Any multiple of 4 bytes survives encode → decode, with and without the checksum word.
    #[test]
    fn random_lengths() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for len in (0..=128).step_by(4).filter(|&l| l > 0) {
            let mut bytes = vec![0u8; len];
            rng.fill_bytes(&mut bytes);
            let with = mnemonic::encode(&bytes).unwrap();
            assert_eq!(with.words().count(), len / 4 * 3 + 1);
            assert_eq!(*mnemonic::decode(with.as_str()).unwrap(), bytes);
            let without = mnemonic::encode_without_checksum(&bytes).unwrap();
            assert_eq!(without.words().count(), len / 4 * 3);
            assert_eq!(*mnemonic::decode(without.as_str()).unwrap(), bytes);
        }
    }

    /// Changing one data word of a 13-word phrase is caught (by the checksum or the triple
    /// check) or, when it happens to pass both, gives different bytes; it never decodes to the
    /// same seed.
    #[test]
    fn single_word_changes_never_give_the_same_seed() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for _ in 0..300 {
            let seed = Seed::generate(&mut rng);
            let phrase = mnemonic::encode_seed(&seed);
            let mut words: Vec<String> = phrase.words().map(str::to_owned).collect();
            let position = (rng.next_u32() % 12) as usize;
            let replacement = words[(position + 1) % 12].clone();
            if replacement == words[position] {
                continue;
            }
            words[position] = replacement;
            if let Ok(other) = mnemonic::decode_seed(&words.join(" ")) {
                assert_ne!(other.as_bytes(), seed.as_bytes());
            }
        }
    }
}
