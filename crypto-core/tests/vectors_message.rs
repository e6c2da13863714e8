//! Known-answer and tamper tests for 1:1 messages: `protocol/vectors-core.md` §3.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::message::{self, ReceiveError};
use crypto_core::padding;
use crypto_core::seal::{self, OpenError};
use crypto_core::storage::{Namespace, message_hash};
use crypto_core::wire::{Content, DataMessage};
use prost::Message;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

fn seed1() -> Identity {
    Identity::from_ed25519_seed(
        &hex::decode("0123456789abcdef0123456789abcdef00000000000000000000000000000000").unwrap().try_into().unwrap(),
    )
}

fn seed2() -> Identity {
    Identity::from_ed25519_seed(
        &hex::decode("00112233445566778899aabbccddeeff00000000000000000000000000000000").unwrap().try_into().unwrap(),
    )
}

/// libsession-util `tests/test_session_encrypt.cpp`, "Session protocol deterministic encryption"
/// (vectors-core §3.1).
mod libsession_test_session_encrypt {
    use super::*;

    const HELLO_CIPHERTEXT: &str = "208f96785db92319bc7a14afecc01e17bde912d17bbb32834c03ea63b1862c2a1b730e0725ef75b2f1a276db584c59a0ed9b5497bcb9f4effa893b5cb8b04dbe7a6ab457ebf972f03b006dd4572980a725399616d40184b86aa3b7b218bdc6dd7c1adccda8ef4897f0f458492240b39079c27a6c791067ab26a03067a7602b50f0434639906f93e548f909d5286edde365ebddc146";

    #[test]
    fn deterministic_encryption_of_hello() {
        let ct = seal::seal_deterministic(&seed1(), &seed2().session_id(), b"hello").unwrap();
        assert_eq!(ct.len(), 149);
        assert_eq!(hex::encode(&ct), HELLO_CIPHERTEXT);
    }

    #[test]
    fn recipient_decrypts_and_verifies_hello() {
        let opened = seal::open(&seed2(), &hex::decode(HELLO_CIPHERTEXT).unwrap()).unwrap();
        assert_eq!(&opened.plaintext[..], b"hello");
        assert_eq!(
            hex::encode(opened.sender_ed25519),
            "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
        );
        assert_eq!(opened.sender, seed1().session_id());
    }

    #[test]
    fn sender_cannot_decrypt_with_its_own_key() {
        assert_eq!(seal::open(&seed1(), &hex::decode(HELLO_CIPHERTEXT).unwrap()).unwrap_err(), OpenError);
    }

    #[test]
    fn flipped_bits_fail() {
        for (byte, bit) in [(2, 0x02), (14, 0x80)] {
            let mut ct = hex::decode(HELLO_CIPHERTEXT).unwrap();
            ct[byte] ^= bit;
            assert_eq!(seal::open(&seed2(), &ct).unwrap_err(), OpenError, "byte {byte}");
        }
    }
}

/// The derived full pipeline (vectors-core §3.3): seed1 → seed2, T = 1754971101000.
mod derived_full_pipeline {
    use super::*;

    const T: u64 = 1_754_971_101_000;
    const DATA: &str = "CAESxwIKABIAGr4CCAYoyK6344kzOAFCsAK+9CQaFSl4maTHvD/CkyRPZcOA3vapII3aJtC7mmdMWbQsTJMYsN0jEvzy1Q8USsvAQy9tbTojJalsZ74oIZ4IrJ/qZKOb+oWouHuodxMo78qAwNODJUVc/7y+frhkcEP9Bi6hYNF+MJNiBy4h332QgEFRBGZ+juKTn+wh/wNKDcKPS7bJDR5QAb9uVeRsCiIzdaknvnddfeBFus6loUk2FI7tCADWKuQL+iIt6y39VDDZ0Bi61//9S9BGlfQctwI272mc8q7MX7OKERss73UAFoE1r2+uNCVbD/vx97wmgz++7VEY6DxQib7ES1YdO4MB3d3Xy5ms0Rl4xEt3kcZ/cTCSid2wOiTIdiedsLIUUELF6K3cUSTk5gDPzrdrMaMDhuE4ne16xBXoOTVLNjtUIAA=";

    fn hello() -> Content {
        Content {
            data_message: Some(DataMessage { body: Some("hello".into()), ..Default::default() }),
            sig_timestamp: Some(T),
            ..Default::default()
        }
    }

    #[test]
    fn content_bytes() {
        assert_eq!(hex::encode(hello().encode_to_vec()), "0a070a0568656c6c6f78c8aeb7e38933");
    }

    #[test]
    fn padded_content() {
        let padded = padding::pad(&hello().encode_to_vec());
        assert_eq!(padded.len(), 160);
        assert_eq!(padded[16], 0x80);
        assert!(padded[17..].iter().all(|&b| b == 0));
    }

    #[test]
    fn ciphertext_sha256() {
        let padded = padding::pad(&hello().encode_to_vec());
        let ct = seal::seal_deterministic(&seed1(), &seed2().session_id(), &padded).unwrap();
        assert_eq!(ct.len(), 304);
        assert_eq!(
            hex::encode(Sha256::digest(&ct)),
            "ac63f305d2bb80dfef979b7cc9bcfed8de8d8e35fa7ef5a3edb70c56a92ae65b"
        );
    }

    #[test]
    fn storage_data_and_frame_sha256() {
        let data = message::seal_message_deterministic(&seed1(), &seed2().session_id(), hello(), T).unwrap();
        assert_eq!(data, DATA);
        let frame = STANDARD.decode(&data).unwrap();
        assert_eq!(frame.len(), 332);
        assert_eq!(
            hex::encode(Sha256::digest(&frame)),
            "941428a2f96ded21f34e01565ea089a16aba60477660c46c75da5ff3aeabd2e0"
        );
    }

    #[test]
    fn storage_hash_in_seed2_namespace_0() {
        let frame = STANDARD.decode(DATA).unwrap();
        assert_eq!(
            message_hash(&seed2().session_id().to_bytes(), Namespace::DEFAULT, &frame),
            "NeodU9K8ziWDwpRAGGxMQJ6oo+jRYeRoGlG13SiLcoA"
        );
    }

    #[test]
    fn recipient_opens_the_storage_data() {
        let received = message::open_message(&seed2(), DATA).unwrap();
        assert_eq!(received.sender, seed1().session_id());
        assert_eq!(received.timestamp_ms, T);
        assert_eq!(received.content, hello());
    }
}

/// Any change to a sealed message makes it fail to open, always with the same opaque error.
mod tamper {
    use super::*;

    #[test]
    fn every_flipped_byte_fails_with_one_opaque_error() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let padded = padding::pad(b"tamper with me");
        let ct = seal::seal(&mut rng, &seed1(), &seed2().session_id(), &padded).unwrap();
        for i in 0..ct.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = ct.clone();
                bad[i] ^= bit;
                assert_eq!(seal::open(&seed2(), &bad).unwrap_err(), OpenError, "byte {i} bit {bit:#x}");
            }
        }
        assert!(seal::open(&seed2(), &ct).is_ok());
    }

    #[test]
    fn truncations_and_extensions_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let ct = seal::seal(&mut rng, &seed1(), &seed2().session_id(), b"x").unwrap();
        for len in 0..ct.len() {
            assert_eq!(seal::open(&seed2(), &ct[..len]).unwrap_err(), OpenError, "length {len}");
        }
        let mut longer = ct;
        longer.push(0);
        assert_eq!(seal::open(&seed2(), &longer).unwrap_err(), OpenError);
    }

    #[test]
    fn a_flipped_byte_in_storage_data_never_opens_as_the_original() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let content = message::text_message("hi", Some("Alice"));
        let data = message::seal_message(&mut rng, &seed1(), &seed2().session_id(), content.clone(), 1_700_000_000_000)
            .unwrap();
        let raw = STANDARD.decode(&data).unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x04;
            if let Ok(received) = message::open_message(&seed2(), &STANDARD.encode(&bad)) {
                // Only the unauthenticated frame fields may change without detection, and then
                // the sealed content is untouched.
                assert_eq!(received.content.data_message, Some(content.data_message.clone().unwrap()));
                assert_eq!(received.sender, seed1().session_id());
            }
        }
    }
}

mod pipeline {
    use super::*;

    #[test]
    fn random_round_trips() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let alice = Identity::generate(&mut rng);
        let bob = Identity::generate(&mut rng);
        for len in [0usize, 1, 158, 159, 160, 1000, 2000] {
            let body: String = "é".repeat(len / 2) + &"a".repeat(len % 2);
            let content = message::text_message(&body, Some("Alice"));
            let t = 1_700_000_000_000 + len as u64;
            let data = message::seal_message(&mut rng, &alice, &bob.session_id(), content.clone(), t).unwrap();
            let received = message::open_message(&bob, &data).unwrap();
            assert_eq!(received.sender, alice.session_id());
            assert_eq!(received.sender_ed25519, *alice.ed25519_public());
            assert_eq!(received.timestamp_ms, t);
            let data_message = received.content.data_message.unwrap();
            assert_eq!(data_message.body.as_deref(), Some(body.as_str()));
            assert_eq!(data_message.profile.unwrap().display_name.as_deref(), Some("Alice"));
            assert_eq!(received.content.sig_timestamp, Some(t));
            assert!(matches!(message::open_message(&alice, &data), Err(ReceiveError::Open(_))));
        }
    }

    #[test]
    fn sync_copy_names_the_recipient() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let alice = Identity::generate(&mut rng);
        let bob = Identity::generate(&mut rng);
        let copy = message::sync_copy(&message::text_message("hi", None), &bob.session_id());
        let data = message::seal_message(&mut rng, &alice, &alice.session_id(), copy, 1_700_000_000_000).unwrap();
        let received = message::open_message(&alice, &data).unwrap();
        assert_eq!(received.sender, alice.session_id());
        assert_eq!(received.content.data_message.unwrap().sync_target, Some(bob.session_id().to_string()));
    }

    #[test]
    fn mismatched_sig_timestamp_is_dropped() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let alice = Identity::generate(&mut rng);
        let bob = Identity::generate(&mut rng);
        let mut content = message::text_message("hi", None);
        content.sig_timestamp = Some(5);
        let padded = padding::pad(&content.encode_to_vec());
        let sealed = seal::seal(&mut rng, &alice, &bob.session_id(), &padded).unwrap();
        let envelope = crypto_core::wire::Envelope {
            r#type: Some(6),
            timestamp: Some(6),
            content: Some(sealed),
            ..Default::default()
        };
        assert_eq!(message::open_envelope(&bob, envelope).unwrap_err(), ReceiveError::TimestampMismatch);
    }

    #[test]
    fn malformed_data_gets_typed_errors() {
        let bob = seed2();
        assert!(matches!(message::open_message(&bob, "not base64!"), Err(ReceiveError::Decode(_))));
        assert!(matches!(message::open_message(&bob, ""), Err(ReceiveError::Decode(_))));
        assert!(matches!(message::open_message(&bob, "CAE="), Err(ReceiveError::Decode(_))));
        let huge = "A".repeat(200_000);
        assert!(matches!(message::open_message(&bob, &huge), Err(ReceiveError::Decode(_))));
    }

    #[test]
    fn only_account_ids_can_receive() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let group: SessionId = format!("03{}", "ab".repeat(32)).parse().unwrap();
        assert!(seal::seal(&mut rng, &seed1(), &group, b"x").is_err());
    }
}

/// The builders of replies, reactions, unsend requests, read receipts and typing indicators set
/// every field protocol-core §3.4 marks required (a protobuf-lite parser on a phone rejects a
/// message without them), with the field numbers of the schema, and survive sealing and opening.
#[test]
fn interaction_builders_carry_the_required_fields_with_the_schemas_numbers() {
    let (alice, bob) = (seed1(), seed2());
    let t = 1_700_000_000_000;
    let author = alice.session_id();
    let cases = [
        message::reply_message("re", Some("Bob"), t - 5, &author, "the start"),
        message::reaction_message(t - 5, &author, "👍", true, Some("Bob")),
        message::reaction_message(t - 5, &author, "👍", false, None),
        message::unsend_message(t - 5, &author),
        message::read_receipt(&[t - 5, t - 4]),
        message::typing_message(true, t),
        message::typing_message(false, t),
    ];
    for content in cases {
        let data = message::seal_message_deterministic(&bob, &alice.session_id(), content.clone(), t).unwrap();
        let opened = message::open_message(&alice, &data).unwrap();
        let mut expected = content;
        expected.sig_timestamp = Some(t);
        assert_eq!(opened.content, expected);
    }
    // Field numbers, read off the encoded bytes: Content.dataMessage (1) → DataMessage.quote (8)
    // → Quote.id (1, varint) and author (2); DataMessage.reaction (11) → Reaction.action (4).
    let quote = message::reply_message("", None, 7, &author, "").encode_to_vec();
    let data = &quote[2..];
    assert_eq!(data[..3], [(1 << 3) | 2, 0, (8 << 3) | 2], "DataMessage.body (1, empty), then quote (8)");
    let reaction = message::reaction_message(7, &author, "x", false, None).encode_to_vec();
    assert!(reaction.windows(2).any(|w| w == [(4 << 3), 1]), "Reaction.action (field 4) = REMOVE (1)");
    let unsend = message::unsend_message(7, &author).encode_to_vec();
    assert_eq!(unsend[0], (9 << 3) | 2, "Content.unsendRequest is field 9");
    let receipt = message::read_receipt(&[7]).encode_to_vec();
    assert_eq!(&receipt[..6], [(5 << 3) | 2, 4, 1 << 3, 1, 2 << 3, 7], "ReceiptMessage: type READ, timestamp 7");
    let typing = message::typing_message(true, 7).encode_to_vec();
    assert_eq!(typing, [(6 << 3) | 2, 4, 1 << 3, 7, 2 << 3, 0], "TypingMessage: timestamp 7, STARTED");
}
