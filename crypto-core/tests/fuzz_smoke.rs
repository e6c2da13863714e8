//! The fuzz entry points over pseudo-random and mutated valid inputs, as part of every test run
//! (the real fuzzing runs are `scripts/fuzz.sh`).

use crypto_core::attachment::{self, Domain};
use crypto_core::identity::Identity;
use crypto_core::internal::fuzz_support::run_mutated;
use crypto_core::internal::fuzzing;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::{message, mnemonic};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[test]
fn entry_points_survive_random_and_mutated_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let sender = Identity::from_ed25519_seed(&[1; 32]);
    let recipient = Identity::from_ed25519_seed(&[7; 32]);
    let data = message::seal_message(
        &mut rng,
        &sender,
        &recipient.session_id(),
        message::text_message("hi", None),
        1_700_000_000_000,
    )
    .unwrap();
    let phrase = mnemonic::encode(&[3u8; 16]).unwrap();
    let node = NodeKeys { ed25519: [2; 32], x25519: *recipient.x25519_public() };
    let onion = onion::build(
        &mut rng,
        &[node],
        &Destination::Node(NodeKeys { ed25519: [3; 32], x25519: [4; 32] }),
        b"{}",
        EncType::XChaCha20,
    )
    .unwrap()
    .body;
    let ed = "aa".repeat(32);
    let store = format!(
        r#"{{"hash":"h","hf":[19,4],"swarm":{{"{ed}":{{"already":true,"expiry":2,"hash":"h","signature":"c2ln","t":1}},"bb":{{"code":"401","failed":true,"reason":"no"}}}},"t":1}}"#
    );
    let retrieve =
        r#"{"hf":[19,4],"messages":[{"data":"YQ==","expiration":2,"hash":"h","timestamp":1}],"more":true,"t":1}"#;
    let swarm = format!(
        r#"{{"snodes":[{{"ip":"127.0.0.1","port":"22100","port_https":22100,"pubkey_ed25519":"{ed}","pubkey_x25519":"{ed}"}}],"swarm":"8000000000000000","t":1}}"#
    );
    let batch = format!(
        r#"{{"results":[{{"body":{store},"code":200}},{{"body":{{"expiries":{{"h":2}}}},"code":200}},{{"body":"no","code":406}}]}}"#
    );
    let seeds: [Vec<u8>; 7] = [
        data.into_bytes(),
        phrase.as_str().as_bytes().to_vec(),
        onion,
        store.into_bytes(),
        retrieve.as_bytes().to_vec(),
        swarm.into_bytes(),
        batch.into_bytes(),
    ];
    run_mutated(&mut rng, &seeds, 7000, &[], |input| {
        fuzzing::decode_phrase(input);
        fuzzing::open_message(input);
        fuzzing::decode_storage_data(input);
        fuzzing::peel_onion(input);
        fuzzing::parse_storage_replies(input);
    });
}

/// The attachment entry point on its own seeds and fewer rounds: many of its inputs become a full
/// 32 KB chunk of secretstream, each sealed and opened again, which unoptimised ChaCha20
/// makes a few milliseconds apiece in a test build.
#[test]
fn attachment_entry_point_survives_random_and_mutated_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(98);
    let ed = "b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371";
    let seeds: [Vec<u8>; 5] = [
        attachment::encrypt_legacy(&mut rng, b"a picture").unwrap().data,
        attachment::encrypt_deterministic(&[5; 32], b"a voice message", Domain::Attachment).unwrap().data,
        format!("http://filev2.getsession.org:80/file/aGVsbG8#p={ed}&d=&e=0102").into_bytes(),
        b"\x0f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01hello".to_vec(),
        b"\xaf\x00\x01hi".to_vec(),
    ];
    run_mutated(&mut rng, &seeds, 800, b":/#&=\x00\x01\x0f", fuzzing::decrypt_attachment);
}

/// The config entry points (bencode, the config message and its merge, the read pipeline) on
/// config-shaped seeds: the C1 message, a signed one, a merge list, and a wrapped push.
#[test]
fn config_entry_points_survive_random_and_mutated_inputs() {
    use crypto_core::config::{ConfigKind, DataValue, MutableConfigMessage, pipeline};

    let mut rng = ChaCha20Rng::seed_from_u64(97);
    let identity = Identity::from_ed25519_seed(&[7; 32]);
    let mut m = MutableConfigMessage::new(10);
    m.data_mut().insert(b"foo".to_vec(), DataValue::int(123));
    m.data_mut().insert(b"bar".to_vec(), DataValue::bytes(*b"abc"));
    let first = m.serialize(None);
    let mut next = m.increment(None);
    next.data_mut().insert(b"c".to_vec(), DataValue::Set([crypto_core::config::Scalar::Int(1)].into()));
    let second = next.serialize(None);
    let signed = next.serialize(Some(&|b: &[u8]| identity.sign(b)));
    let mut list = b"l".to_vec();
    for message in [&first, &second] {
        list.extend_from_slice(format!("{}:", message.len()).as_bytes());
        list.extend_from_slice(message);
    }
    list.push(b'e');
    let pushed = pipeline::push_user_config(&identity, ConfigKind::Contacts, 11, &second).unwrap().remove(0);
    let seeds: [Vec<u8>; 6] = [first.clone(), second, signed, list, pushed, [b"\x11".to_vec(), first].concat()];
    run_mutated(&mut rng, &seeds, 1500, b"dlie0123456789:-#&<=~mz", |input| {
        fuzzing::decode_bencode(input);
        fuzzing::parse_config_message(input);
        fuzzing::read_config(input);
    });
}
