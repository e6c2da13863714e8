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

/// Community-shaped inputs: a message list with a properly signed post, a tombstone and a
/// reaction update; an inbox list with a DM sealed to the entry point's account; a batch around
/// them; and a request signed as a client signs it (the entry points' server key and account).
fn community_seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    use crypto_core::community::{self, BlindedKeys, RequestKey};

    let server = [0x5c; 32];
    let me = Identity::from_ed25519_seed(&[7; 32]);
    let poster = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[1; 32]), &server);
    let post = community::sign_post(&poster, &message::text_message("hi", None));
    let (id, data, sig) = (poster.id(), &post.data, &post.signature);
    let messages = format!(
        r#"[{{"id":1,"session_id":"{id}","posted":1700000000.5,"seqno":3,"data":"{data}","signature":"{sig}","reactions":{{"👍":{{"index":0,"count":1,"reactors":["{id}"],"you":true}}}}}},{{"id":2,"session_id":"{id}","posted":1.0,"seqno":4,"data":null,"deleted":true}},{{"id":1,"seqno":5,"reactions":{{}}}}]"#
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let to = BlindedKeys::blind15(&me, &server).id();
    let dm = community::seal_blinded_dm(
        &mut rng,
        &Identity::from_ed25519_seed(&[1; 32]),
        &server,
        &to,
        &message::text_message("psst", None),
    )
    .unwrap();
    let inbox = format!(
        r#"[{{"id":7,"posted_at":1.5,"expires_at":2.5,"sender":"{id}","recipient":"{to}","message":"{}"}}]"#,
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, dm)
    );
    let room = r#"{"token":"lobby","name":"Lobby","info_updates":1,"message_sequence":5,"read":true,"write":true,"upload":true,"moderators":[],"admins":[]}"#;
    let batch = format!(
        r#"[{{"code":200,"headers":{{"content-type":"application/json"}},"body":{{"capabilities":["blind","reactions","sogs"]}}}},{{"code":200,"body":{{"token":"lobby","active_users":1,"read":true,"write":true,"upload":true,"details":{room}}}}},{{"code":200,"body":{messages}}},{{"code":200,"body":{inbox}}}]"#
    );
    let body = post.body(&[]);
    let path = "/room/lobby/message";
    let headers = community::sign_request(
        &mut rng,
        RequestKey::Blinded(&poster),
        &server,
        1_700_000_000,
        "POST",
        path,
        body.as_bytes(),
    );
    let mut request = format!("POST {path}\n");
    for (name, value) in headers.pairs() {
        request.push_str(&format!("{name}: {value}\n"));
    }
    request.push('\n');
    request.push_str(&body);
    vec![
        ("community_reply", "messages", messages.into_bytes()),
        ("community_reply", "inbox", inbox.into_bytes()),
        ("community_reply", "room", room.as_bytes().to_vec()),
        ("community_reply", "batch", batch.into_bytes()),
        ("community_request", "post", request.into_bytes()),
        (
            "community_request",
            "url",
            b"http://127.0.0.1:8080/lobby?public_key=5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c"
                .to_vec(),
        ),
    ]
}

/// The community entry points (the client's reply parsing, the server's request verification)
/// on community-shaped seeds.
#[test]
fn community_entry_points_survive_random_and_mutated_inputs() {
    use crypto_core::community::{self, AuthPolicy, reply};

    let mut rng = ChaCha20Rng::seed_from_u64(96);
    let seeds: Vec<Vec<u8>> = community_seeds().into_iter().map(|(_, _, seed)| seed).collect();
    // The seeds reach the success paths: the post verifies, the DM opens, the request verifies.
    let Some(reply::RoomMessage::Post(post)) = reply::parse_messages(&seeds[0]).unwrap().into_iter().next() else {
        panic!("the first message is a post");
    };
    assert!(community::open_post(&post.session_id, &post.data, &post.signature).is_ok());
    let entry = reply::parse_direct_messages(&seeds[1]).unwrap().remove(0);
    let me = Identity::from_ed25519_seed(&[7; 32]);
    let opened =
        community::open_blinded_dm(&me, &[0x5c; 32], &entry.sender, &entry.recipient, &entry.message_bytes().unwrap());
    assert!(opened.is_ok(), "{opened:?}");
    assert_eq!(reply::parse_batch(&seeds[3]).unwrap().len(), 4);
    let text = String::from_utf8(seeds[4].clone()).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let headers: Vec<(&str, &str)> =
        head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim(), v.trim())).collect();
    let verified = community::verify_request(
        headers,
        &[0x5c; 32],
        "POST",
        "/room/lobby/message",
        body.as_bytes(),
        1_700_000_000,
        AuthPolicy::default(),
    );
    assert!(matches!(verified, Ok(Some(_))), "{verified:?}");
    run_mutated(&mut rng, &seeds, 1500, b"{}[]\":,0159\n=:/?", |input| {
        fuzzing::community_reply(input);
        fuzzing::community_request(input);
    });
}

/// Writes the community seeds to `fuzz/seeds/<target>/` (run by hand when they change:
/// `cargo test -p crypto-core --test fuzz_smoke -- --ignored write_community_fuzz_seeds`).
#[test]
#[ignore]
fn write_community_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, name, seed) in community_seeds() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), seed).unwrap();
    }
}
