//! The node's fuzz entry points (`hush_node::fuzzing`) over their seed inputs and mutations of
//! them, as part of every test run (the real fuzzing runs are `scripts/fuzz.sh`). The seeds are
//! also the fuzz targets' starting corpus: `cargo test -p hush-node --test fuzz_smoke --
//! --ignored write_fuzz_seeds` writes them to `fuzz/seeds/`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::internal::fuzz_support::run_mutated;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{Namespace, NamespaceSelector, requests, sign_request};
use crypto_core::swarm;
use hush_node::fuzzing::{self, FuzzRng, NODE_SEEDS, NOW};
use hush_node::network::swarm_ids;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const DAY: u64 = 24 * 3600 * 1000;

/// Bytes that matter to JSON, for the mutator to write over a byte.
const SPECIAL: &[u8] = b"{}[]\",:0-9aeE.\\ntf";

/// A user whose swarm is (`ours`) or is not node 0's.
fn user(ours: bool) -> Identity {
    let ids = swarm_ids(2);
    (10u8..)
        .map(|i| Identity::from_ed25519_seed(&[i; 32]))
        .find(|u| (swarm::swarm_for(&u.session_id(), &ids) == Some(ids[0])) == ours)
        .unwrap()
}

fn owner_params(who: &Identity, fields: Value, to_sign: &[u8]) -> Value {
    let mut params = json!({
        "pubkey": who.session_id().to_string(),
        "pubkey_ed25519": hex::encode(who.ed25519_public()),
        "signature": sign_request(who, to_sign),
    });
    for (k, v) in fields.as_object().unwrap() {
        params[k] = v.clone();
    }
    params
}

/// Storage RPC bodies that node 0 answers with 200 (or 421 for another swarm's user): every
/// method, signed where it must be, and a `batch` and a `sequence` of them.
fn rpc_seeds() -> Vec<Vec<u8>> {
    let bob = user(true);
    let pk = bob.session_id();
    let store = requests::store(&pk, Namespace::DEFAULT, &STANDARD.encode(b"hello"), NOW, DAY, None);
    let reply = fuzzing::storage_rpc(store.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    let hash = serde_json::from_str::<Value>(&reply.body).unwrap()["hash"].as_str().unwrap().to_owned();
    let h = [hash.as_str()];
    let retrieve = requests::retrieve(&bob, Namespace::DEFAULT, NOW, None);
    let get_expiries = json!({"method": "get_expiries", "params": owner_params(&bob,
        json!({"messages": h, "timestamp": NOW}), &to_sign::get_expiries(NOW, &h))});
    let later = NOW + 3_600_000;
    let expire = json!({"method": "expire", "params": owner_params(&bob,
        json!({"messages": h, "expiry": later, "shorten": true}), &to_sign::expire(ExpireMode::Shorten, &[later], &h))});
    let delete =
        json!({"method": "delete", "params": owner_params(&bob, json!({"messages": h}), &to_sign::delete(&h))});
    let delete_all = json!({"method": "delete_all", "params": owner_params(&bob,
        json!({"namespace": "all", "timestamp": NOW}), &to_sign::delete_all(NamespaceSelector::All, NOW))});
    let delete_before = json!({"method": "delete_before", "params": owner_params(&bob,
        json!({"before": NOW}), &to_sign::delete_before(NamespaceSelector::One(Namespace::DEFAULT), NOW))});
    let expire_all = json!({"method": "expire_all", "params": owner_params(&bob,
        json!({"expiry": later}), &to_sign::expire_all(NamespaceSelector::One(Namespace::DEFAULT), later))});
    let service_nodes = json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"active_only": true, "fields": {"public_ip": true, "pubkey_ed25519": true}}}});
    let other = requests::store(&user(false).session_id(), Namespace::DEFAULT, "aGk=", NOW, DAY, None);
    let singles = [
        store.clone(),
        retrieve.clone(),
        get_expiries.clone(),
        expire.clone(),
        delete.clone(),
        delete_all,
        delete_before,
        expire_all,
        requests::get_swarm(&pk),
        requests::info(),
        service_nodes,
        other,
    ];
    let sequence = json!({"method": "sequence", "params": {"requests":
        [store, retrieve, get_expiries, expire, delete, retrieve]}});
    let batch = json!({"method": "batch", "params": {"requests": [store, retrieve]}});
    singles.iter().chain([&sequence, &batch]).map(|v| v.to_string().into_bytes()).collect()
}

fn node_keys(i: usize) -> NodeKeys {
    let id = Identity::from_ed25519_seed(&NODE_SEEDS[i]);
    NodeKeys { ed25519: *id.ed25519_public(), x25519: *id.x25519_public() }
}

/// Onion inputs (a byte choosing the cipher and outer JSON, then node 0's layer's plaintext):
/// storage RPC requests for node 0, a relay through node 1 to node 2, and a server relay.
fn onion_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = rpc_seeds()
        .iter()
        .enumerate()
        .map(|(i, rpc)| {
            let mut seed = vec![(i % 4) as u8];
            seed.extend(onion::frame(rpc, &json!({ "headers": "" })));
            seed
        })
        .collect();
    let mut rng = FuzzRng::new(7);
    let next =
        onion::build(&mut rng, &[node_keys(1)], &Destination::Node(node_keys(2)), &rpc_seeds()[9], EncType::AesGcm)
            .unwrap()
            .body;
    let (blob, mut control) = onion::split_frame(&next).unwrap();
    control.insert("destination".into(), hex::encode(node_keys(1).ed25519).into());
    let mut relay = vec![0u8];
    relay.extend(onion::frame(blob, &Value::Object(control)));
    seeds.push(relay);
    let mut proxy = vec![1u8];
    proxy.extend(onion::frame(
        b"l35:{\"method\":\"GET\",\"endpoint\":\"/room\"}e",
        &json!({"host": "example.org", "target": "/oxen/v4/lsrpc", "method": "POST", "port": 80,
            "protocol": "http", "ephemeral_key": "aa".repeat(32), "enc_type": "xchacha20"}),
    ));
    seeds.push(proxy);
    seeds
}

/// A seed's request, a client's node list, a seed's answer (at public addresses) and a swarm.
fn list_seeds() -> Vec<Vec<u8>> {
    let ed = hex::encode(node_keys(0).ed25519);
    let x = hex::encode(node_keys(0).x25519);
    let states: Vec<Value> = (0..4)
        .map(|i| {
            json!({"public_ip": format!("52.1.0.{i}"), "storage_port": 22100 + i, "pubkey_ed25519": hex::encode(node_keys(i).ed25519),
                "pubkey_x25519": hex::encode(node_keys(i).x25519), "swarm_id": i})
        })
        .collect();
    [
        json!({"jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes", "params": {"active_only": true, "limit": 2,
            "fields": {"public_ip": true, "storage_port": true, "pubkey_x25519": true, "pubkey_ed25519": true, "swarm_id": true}}}),
        json!({"jsonrpc": "2.0", "id": 0, "method": "get_service_nodes"}),
        json!({"nodes": states}),
        json!({"result": {"service_node_states": states}}),
        json!({"snodes": [{"ip": "127.0.0.1", "port": "22100", "port_https": 22100, "pubkey_ed25519": ed,
            "pubkey_x25519": x}], "swarm": "8000000000000000", "t": 1}),
    ]
    .iter()
    .map(|v| v.to_string().into_bytes())
    .collect()
}

#[test]
fn storage_rpc_survives_mutated_requests() {
    let seeds = rpc_seeds();
    for (i, seed) in seeds.iter().enumerate() {
        let reply = fuzzing::storage_rpc(seed);
        let expected = if i == 11 { 421 } else { 200 };
        assert_eq!(reply.status, expected, "seed {i}: {}", reply.body);
    }
    run_mutated(&mut ChaCha20Rng::seed_from_u64(1), &seeds, 1500, SPECIAL, |input| {
        fuzzing::storage_rpc(input);
    });
}

#[test]
fn onion_requests_survive_mutated_layers() {
    let seeds = onion_seeds();
    for seed in &seeds[..seeds.len() - 1] {
        assert_eq!(fuzzing::onion_request(seed), Some(200), "an RPC at node 0, or relayed to node 2");
    }
    assert_eq!(fuzzing::onion_request(seeds.last().unwrap()), Some(502), "no server is reachable");
    run_mutated(&mut ChaCha20Rng::seed_from_u64(2), &seeds, 600, SPECIAL, |input| {
        fuzzing::onion_request(input);
    });
}

#[test]
fn node_list_readers_survive_mutated_lists() {
    let seeds = list_seeds();
    assert_eq!(crypto_core::network::parse_node_list(&seeds[2]).unwrap().len(), 4);
    assert_eq!(crypto_core::network::parse_swarm(&seeds[4]).unwrap().len(), 1);
    assert_eq!(hush_node::relay::read_node_list(&seeds[3], false).unwrap().len(), 4, "public addresses are kept");
    assert!(hush_node::relay::read_node_list(&seeds[4], true).is_err(), "a swarm is not a node list");
    run_mutated(&mut ChaCha20Rng::seed_from_u64(3), &seeds, 1500, SPECIAL, fuzzing::node_lists);
}

fn file_seeds() -> Vec<Vec<u8>> {
    let request = |meta: &str, body: Option<&[u8]>| {
        let mut seed = vec![2u8];
        seed.extend(onion::v4::encode_request(meta, body));
        seed
    };
    vec![
        b"\x03/file\x001209600\x00hello".to_vec(),
        b"\x00/file/abc/info\x00\x00".to_vec(),
        b"\x03/file/abc/extend\x0030\x00".to_vec(),
        b"\x01l3:abce".to_vec(),
        request(r#"{"method":"POST","endpoint":"/file","headers":{"X-FS-TTL":"60"}}"#, Some(b"file body")),
        request(
            r#"{"method":"GET","endpoint":"/file/tKO2VVg1JPHwgZuvqK_7bDHJeSr4UJ_8i13ETlwAn0jB","headers":{}}"#,
            None,
        ),
    ]
}

#[test]
fn the_file_server_survives_mutated_requests() {
    let seeds = file_seeds();
    assert_eq!(fuzzing::file_server(&seeds[0]), Some(200), "a plain upload");
    assert_eq!(fuzzing::file_server(&seeds[4]), Some(200), "a v4 upload inside an onion layer");
    run_mutated(&mut ChaCha20Rng::seed_from_u64(4), &seeds, 1500, SPECIAL, |input| {
        fuzzing::file_server(input);
    });
}

/// Writes the seeds to `fuzz/seeds/<target>/` (run by hand when they change).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, seeds) in [
        ("node_rpc", rpc_seeds()),
        ("node_onion", onion_seeds()),
        ("node_lists", list_seeds()),
        ("node_files", file_seeds()),
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
        }
    }
}
