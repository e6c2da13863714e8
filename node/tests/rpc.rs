//! Storage RPC and node routes without sockets: every method, every error status.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{Namespace, NamespaceSelector, requests, sign_request};
use hush_node::network::{Network, Node, NodeClock, swarm_ids};
use hush_node::rpc::{self, Reply};
use hush_node::server::{self, NodeState, now_ms};
use hush_node::store::Store;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Eight nodes in two swarms of four, with in-memory stores.
fn network() -> Arc<Network> {
    let ids = swarm_ids(2);
    let nodes = (0..8u8)
        .map(|i| {
            Arc::new(Node::new(
                &[i + 1; 32],
                "127.0.0.1".into(),
                30000 + u16::from(i),
                ids[usize::from(i % 2)],
                Store::in_memory().unwrap(),
            ))
        })
        .collect();
    Arc::new(Network::new(nodes))
}

fn user(seed: u8) -> Identity {
    Identity::from_ed25519_seed(&[seed; 32])
}

/// A node in (or, with `inside = false`, outside) `pk`'s swarm.
fn node_for(net: &Network, pk: &SessionId, inside: bool) -> Arc<Node> {
    let swarm = net.swarm_of(pk).unwrap();
    net.nodes().iter().find(|n| (n.info.swarm_id == swarm) == inside).unwrap().clone()
}

fn call(net: &Network, node: &Node, body: &Value) -> (u16, Value, String) {
    let Reply { status, body } = rpc::handle(net, node, now_ms(), body.to_string().as_bytes());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

fn store_body(pk: &SessionId, data: &[u8], ttl: u64) -> Value {
    requests::store(pk, Namespace::DEFAULT, &STANDARD.encode(data), now_ms(), ttl, None)
}

const DAY: u64 = 24 * 3600 * 1000;

#[test]
fn store_then_retrieve_from_another_member() {
    let net = network();
    let bob = user(2);
    let pk = bob.session_id();
    let a = node_for(&net, &pk, true);
    let (status, body, _) = call(&net, &a, &store_body(&pk, b"hello", 14 * DAY));
    assert_eq!(status, 200);
    let hash = body["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 43);
    assert_eq!(body["swarm"].as_object().unwrap().len(), 4, "every member answers");
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["hash"], hash.as_str());
        let sig = STANDARD.decode(member["signature"].as_str().unwrap()).unwrap();
        let key: [u8; 32] = hex::decode(ed).unwrap().try_into().unwrap();
        assert!(crypto_core::identity::verify_ed25519(&key, hash.as_bytes(), &sig.try_into().unwrap()));
    }
    assert!(body["t"].is_u64() && body["hf"].is_array());

    let b =
        net.nodes().iter().find(|n| n.info.swarm_id == a.info.swarm_id && n.info.ed25519 != a.info.ed25519).unwrap();
    let (status, body, _) = call(&net, b, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None));
    assert_eq!(status, 200);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["hash"], hash.as_str());
    assert_eq!(messages[0]["data"], STANDARD.encode(b"hello"));
    assert!(messages[0]["expiration"].as_u64().unwrap() > now_ms() + 13 * DAY);
    assert_eq!(body["more"], false);

    // A second store of the same data is "already" there.
    let (_, again, _) = call(&net, &a, &store_body(&pk, b"hello", 14 * DAY));
    assert!(again["swarm"].as_object().unwrap().values().all(|m| m["already"] == true));
}

#[test]
fn wrong_swarm_gets_421_with_the_right_swarm() {
    let net = network();
    let pk = user(3).session_id();
    let outside = node_for(&net, &pk, false);
    let (status, body, _) = call(&net, &outside, &store_body(&pk, b"x", DAY));
    assert_eq!(status, 421);
    let swarm = net.swarm_of(&pk).unwrap();
    assert_eq!(body["swarm"], format!("{swarm:x}"));
    assert_eq!(body["snodes"].as_array().unwrap().len(), 4);
    let (status, _, _) = call(&net, &outside, &requests::retrieve(&user(3), Namespace::DEFAULT, now_ms(), None));
    assert_eq!(status, 421);
    // get_swarm answers from any node.
    let (status, body, _) = call(&net, &outside, &requests::get_swarm(&pk));
    assert_eq!(status, 200);
    assert_eq!(body["swarm"], format!("{swarm:x}"));
}

#[test]
fn paging_with_last_hash() {
    let net = network();
    let bob = user(4);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let hashes: Vec<String> = (0..5u8)
        .map(|i| call(&net, &node, &store_body(&pk, &[i; 10], DAY)).1["hash"].as_str().unwrap().to_owned())
        .collect();
    let mut req = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    req["params"]["max_count"] = json!(2);
    let (_, body, _) = call(&net, &node, &req);
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(body["more"], true);
    let req = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), Some(&hashes[1]));
    let (_, body, _) = call(&net, &node, &req);
    let got: Vec<&str> = body["messages"].as_array().unwrap().iter().map(|m| m["hash"].as_str().unwrap()).collect();
    assert_eq!(got, hashes[2..].iter().map(String::as_str).collect::<Vec<_>>());
    // An unknown hash restarts from the beginning.
    let unknown = "A".repeat(43);
    let (_, body, _) = call(&net, &node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), Some(&unknown)));
    assert_eq!(body["messages"].as_array().unwrap().len(), 5);
    // A malformed one is refused.
    let (status, _, text) = call(&net, &node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), Some("short")));
    assert_eq!((status, text.as_str()), (400, "invalid request: Invalid last_hash: expected base64 (43 chars)"));
}

#[test]
fn retrieve_auth_rules() {
    let net = network();
    let bob = user(5);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let bare = json!({"method": "retrieve", "params": {"pubkey": pk.to_string()}});
    assert_eq!(call(&net, &node, &bare).2, "retrieve: request signature required");
    assert_eq!(call(&net, &node, &bare).0, 401);

    let mut no_sig = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    no_sig["params"].as_object_mut().unwrap().remove("signature");
    assert_eq!(call(&net, &node, &no_sig).2, "invalid request: Required field 'signature' missing");

    let mut empty = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    empty["params"]["signature"] = json!("");
    assert_eq!(call(&net, &node, &empty).0, 400);

    // Signed by someone else, or with a key that does not belong to the ID.
    let mallory = user(6);
    let mut forged = requests::retrieve(&mallory, Namespace::DEFAULT, now_ms(), None);
    forged["params"]["pubkey"] = json!(pk.to_string());
    let (status, _, text) = call(&net, &node, &forged);
    assert_eq!((status, text.as_str()), (401, "retrieve signature verification failed"));

    // Signed two minutes ago.
    let old = requests::retrieve(&bob, Namespace::DEFAULT, now_ms() - 120_000, None);
    let (status, _, text) = call(&net, &node, &old);
    assert_eq!((status, text.as_str()), (406, "retrieve timestamp too far from current time"));

    // Namespace −10 needs no signature.
    let open = json!({"method": "retrieve", "params": {"pubkey": pk.to_string(), "namespace": -10}});
    assert_eq!(call(&net, &node, &open).0, 200);
}

#[test]
fn a_node_whose_clock_is_off_reports_and_judges_by_it_and_a_liar_only_reports() {
    let net = network();
    let bob = user(8);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let info = json!({"method": "info", "params": {}});
    let ten_minutes: u64 = 600_000;
    node.set_clock(NodeClock::Off(600_000));
    let before = now_ms();
    let (status, body, _) = call(&net, &node, &info);
    assert_eq!(status, 200);
    let t = body["t"].as_u64().unwrap();
    assert!(t >= before + 600_000 && t < now_ms() + 600_000 + 1_000, "t is ten minutes ahead");
    assert_eq!(body["timestamp"].as_u64(), Some(t));
    // It refuses a retrieve signed by the right clock, and takes one signed by its own.
    let (status, _, text) = call(&net, &node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None));
    assert_eq!((status, text.as_str()), (406, "retrieve timestamp too far from current time"));
    let by_its_clock = requests::retrieve(&bob, Namespace::DEFAULT, now_ms() + ten_minutes, None);
    assert_eq!(call(&net, &node, &by_its_clock).0, 200);
    // Stores at the right time are not in its future: taken.
    let (status, body, _) = call(&net, &node, &store_body(&pk, b"fast", DAY));
    assert_eq!(status, 200);
    assert!(body["t"].as_u64().unwrap() >= before + 600_000);

    // A liar: `t` is u64::MAX everywhere, and requests are judged by the right clock.
    node.set_clock(NodeClock::Reports(u64::MAX));
    let (_, body, text) = call(&net, &node, &info);
    assert_eq!((body["t"].as_u64(), body["timestamp"].as_u64()), (Some(u64::MAX), Some(u64::MAX)), "{text}");
    let (status, body, _) = call(&net, &node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None));
    assert_eq!((status, body["t"].as_u64()), (200, Some(u64::MAX)));
    assert_eq!(call(&net, &node, &by_its_clock).0, 406);
    node.set_clock(NodeClock::Right);
    assert!(call(&net, &node, &info).1["t"].as_u64().unwrap() < now_ms() + 1_000);
}

#[test]
fn store_limits_and_clock() {
    let net = network();
    let bob = user(7);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let status_of = |ttl: u64| call(&net, &node, &store_body(&pk, &ttl.to_le_bytes(), ttl)).0;
    assert_eq!(status_of(9_000), 403);
    assert_eq!(status_of(10_000), 200);
    assert_eq!(status_of(14 * DAY), 200);
    assert_eq!(status_of(14 * DAY + 1), 403);
    assert_eq!(call(&net, &node, &store_body(&pk, b"x", 9_000)).2, "Provided expiry/TTL is not valid.");

    let (status, _, text) = call(&net, &node, &store_body(&pk, &vec![0u8; 76_801], DAY));
    assert_eq!(
        (status, text.as_str()),
        (400, "invalid request: Message body exceeds maximum allowed length of 76800 bytes")
    );
    assert_eq!(call(&net, &node, &store_body(&pk, &vec![1u8; 76_800], DAY)).0, 200);

    let ahead = requests::store(&pk, Namespace::DEFAULT, "eA==", now_ms() + 3_600_000, DAY, None);
    assert_eq!(call(&net, &node, &ahead).2, "Timestamp error: check your clock");
    assert_eq!(call(&net, &node, &ahead).0, 406);

    // Private namespace 2: signature required, 30 days allowed.
    let unsigned = requests::store(&pk, Namespace(2), "eA==", now_ms(), DAY, None);
    let (status, _, text) = call(&net, &node, &unsigned);
    assert_eq!((status, text.as_str()), (401, "store: signature required to store to namespace 2"));
    let signed = requests::store(&pk, Namespace(2), "eA==", now_ms(), 30 * DAY, Some(&bob));
    assert_eq!(call(&net, &node, &signed).0, 200);
    let too_long = requests::store(&pk, Namespace(2), "eQ==", now_ms(), 31 * DAY, Some(&bob));
    assert_eq!(call(&net, &node, &too_long).0, 403);
    let mut wrong = requests::store(&pk, Namespace(2), "eg==", now_ms(), DAY, Some(&user(8)));
    wrong["params"]["pubkey"] = json!(pk.to_string());
    let (status, _, text) = call(&net, &node, &wrong);
    assert_eq!((status, text.as_str()), (401, "store signature verification failed"));
}

#[test]
fn malformed_requests() {
    let net = network();
    let node = net.nodes()[0].clone();
    let raw = |body: &[u8]| rpc::handle(&net, &node, now_ms(), body);
    assert_eq!(raw(b"not json"), Reply { status: 400, body: "invalid json".into() });
    assert_eq!(raw(b"[1,2]").status, 400);
    assert_eq!(
        raw(br#"{"method":"frobnicate","params":{}}"#),
        Reply { status: 400, body: "no method frobnicate".into() }
    );
    assert_eq!(raw(br#"{"method":"store","params":{"pubkey":"05zz"}}"#).status, 400);
    assert_eq!(raw(br#"{"method":"store","params":[]}"#).status, 400);
    assert_eq!(raw(br#"{"method":"info","params":{}}"#).status, 200);
    assert_eq!(raw(br#"{"method":"info"}"#), Reply { status: 400, body: "invalid json: no `params` field".into() });
    assert_eq!(raw(br#"{"params":{}}"#), Reply { status: 400, body: "invalid json: no `method` field".into() });
}

#[test]
fn batch_and_sequence() {
    let net = network();
    let bob = user(9);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let batch = json!({"method": "batch", "params": {"requests": [
        store_body(&pk, b"a", DAY),
        store_body(&pk, b"too short", 9_000),
        requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None),
    ]}});
    let (status, body, _) = call(&net, &node, &batch);
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["code"], 200);
    assert!(results[0]["body"]["hash"].is_string(), "2xx bodies are embedded JSON");
    assert_eq!(results[1]["code"], 403);
    assert_eq!(results[1]["body"], "Provided expiry/TTL is not valid.", "error bodies are strings");
    assert_eq!(results[2]["body"]["messages"].as_array().unwrap().len(), 1);

    let mut sequence = batch;
    sequence["method"] = json!("sequence");
    let (_, body, _) = call(&net, &node, &sequence);
    assert_eq!(body["results"].as_array().unwrap().len(), 2, "sequence stops at the first failure");

    // A subrequest that does not parse refuses the whole batch, as the real server does.
    let unknown =
        json!({"method": "batch", "params": {"requests": [requests::info(), {"method": "nope", "params": {}}]}});
    assert_eq!(call(&net, &node, &unknown).2, "invalid request: Invalid batch subrequest: invalid method \"nope\"");
    let bad_params = json!({"method": "sequence", "params": {"requests": [{"method": "store", "params": {}}]}});
    assert_eq!(call(&net, &node, &bad_params).2, "invalid request: Required field 'timestamp' missing");
    let nested = json!({"method": "batch", "params": {"requests": [{"method": "batch", "params": {"requests": []}}]}});
    assert_eq!(
        call(&net, &node, &nested).2,
        "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests"
    );
    let empty = json!({"method": "batch", "params": {"requests": []}});
    assert_eq!(call(&net, &node, &empty).2, "invalid request: Invalid batch request: no valid \"requests\" field");
    let too_many = json!({"method": "batch", "params": {"requests": vec![requests::info(); 21]}});
    assert_eq!(call(&net, &node, &too_many).2, "invalid request: Invalid batch request: subrequest limit exceeded");
    let top_unknown = json!({"method": "frobnicate", "params": {}});
    assert_eq!(call(&net, &node, &top_unknown), (400, Value::Null, "no method frobnicate".into()));
}

#[test]
fn delete_expire_and_get_expiries() {
    let net = network();
    let bob = user(10);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let h1 = call(&net, &node, &store_body(&pk, b"one", DAY)).1["hash"].as_str().unwrap().to_owned();
    let h2 = call(&net, &node, &store_body(&pk, b"two", DAY)).1["hash"].as_str().unwrap().to_owned();
    let ed = hex::encode(bob.ed25519_public());

    // get_expiries
    let ts = now_ms();
    let q = json!({"method": "get_expiries", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "messages": [h1, h2], "timestamp": ts, "signature": sign_request(&bob, &to_sign::get_expiries(ts, &[&h1, &h2]))}});
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    assert_eq!(body["expiries"].as_object().unwrap().len(), 2);

    // expire (shorten) h1
    let new_expiry = now_ms() + 3_600_000;
    let q = json!({"method": "expire", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "messages": [h1],
        "expiry": new_expiry, "shorten": true,
        "signature": sign_request(&bob, &to_sign::expire(ExpireMode::Shorten, &[new_expiry], &[&h1]))}});
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    for member in body["swarm"].as_object().unwrap().values() {
        assert_eq!(member["updated"], json!([h1]));
    }

    // delete h1 with a wrong signature, then properly
    let mut q = json!({"method": "delete", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "messages": [h1],
        "signature": sign_request(&bob, &to_sign::delete(&[&h2]))}});
    assert_eq!(call(&net, &node, &q).0, 401);
    q["params"]["signature"] = json!(sign_request(&bob, &to_sign::delete(&[&h1])));
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["deleted"] == json!([h1])));
    q["params"]["required"] = json!(true);
    assert_eq!(call(&net, &node, &q).0, 404);

    // delete_all in namespace "all"
    let ts = now_ms();
    let q = json!({"method": "delete_all", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "namespace": "all",
        "timestamp": ts, "signature": sign_request(&bob, &to_sign::delete_all(NamespaceSelector::All, ts))}});
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["deleted"]["0"] == json!([h2])));
    let mut forged = q;
    forged["params"]["timestamp"] = json!(ts + 1);
    assert_eq!(call(&net, &node, &forged).0, 401);
    let (_, body, _) = call(&net, &node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None));
    assert!(body["messages"].as_array().unwrap().is_empty());
}

#[test]
fn a_down_member_is_reported_and_the_rest_store() {
    let net = network();
    let pk = user(11).session_id();
    let members: Vec<_> = net.members(net.swarm_of(&pk).unwrap()).cloned().collect();
    members[1].set_up(false);
    let (status, body, _) = call(&net, &members[0], &store_body(&pk, b"x", DAY));
    assert_eq!(status, 200);
    let down = hex::encode(members[1].info.ed25519);
    assert_eq!(body["swarm"][&down]["failed"], true);
    let stored = body["swarm"].as_object().unwrap().values().filter(|m| m["hash"].is_string()).count();
    assert_eq!(stored, 3);
}

#[test]
fn oxend_get_service_nodes_and_info() {
    let net = network();
    let node = net.nodes()[0].clone();
    let q = json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"active_only": true, "fields": {"public_ip": true, "storage_port": true, "pubkey_ed25519": true}}}});
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 8);
    assert_eq!(states[0].as_object().unwrap().len(), 3, "only the requested fields");
    let (_, info, _) = call(&net, &node, &requests::info());
    assert_eq!(info["version"], json!([2, 6, 2]));
}

#[test]
fn expired_messages_are_not_returned_and_are_swept() {
    let store = Store::in_memory().unwrap();
    let pk = [5u8; 33];
    let m = hush_node::store::NewMessage {
        pubkey: &pk,
        namespace: 0,
        hash: &"h".repeat(43),
        data: b"d",
        timestamp: 1000,
        expiry: 2000,
    };
    assert!(store.insert(&m).unwrap());
    assert_eq!(store.retrieve(&pk, 0, None, 1500, 10, 1 << 20).unwrap().0.len(), 1);
    assert_eq!(store.retrieve(&pk, 0, None, 2000, 10, 1 << 20).unwrap().0.len(), 0);
    assert_eq!(store.sweep(2500).unwrap(), 1);
    assert_eq!(store.count().unwrap(), 0);
}

// ---- HTTP routes without sockets ----

fn state(net: &Arc<Network>) -> NodeState {
    NodeState {
        network: net.clone(),
        node: net.nodes()[0].clone(),
        proxy_allow: Arc::new(vec![]),
        http: reqwest::Client::new(),
    }
}

async fn post(net: &Arc<Network>, path: &str, body: Vec<u8>) -> (u16, String) {
    let response =
        server::router(state(net)).oneshot(Request::post(path).body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn routes_answer_like_a_real_node() {
    let net = network();
    assert_eq!(post(&net, "/storage_rpc/v1", br#"{"method":"info","params":{}}"#.to_vec()).await.0, 200);
    assert_eq!(post(&net, "/nowhere", vec![]).await.0, 404);
    let (status, text) = post(&net, "/onion_req/v2", vec![0u8; 11 * 1024 * 1024]).await;
    assert_eq!((status, text.as_str()), (413, "Request body too large"));
    let (status, text) = post(&net, "/onion_req/v2", b"random bytes here".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Error parsing onion request: "), "{text}");
    assert_eq!(post(&net, "/onion_req/v2", vec![]).await.0, 400);
}

#[tokio::test]
async fn onion_through_three_hops_stores_and_retrieves() {
    use crypto_core::onion::{self, Destination, EncType, NodeKeys};
    let net = network();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let bob = user(12);
    let pk = bob.session_id();
    let dest = node_for(&net, &pk, true);
    let path: Vec<NodeKeys> = net
        .nodes()
        .iter()
        .filter(|n| n.info.ed25519 != dest.info.ed25519)
        .take(3)
        .map(|n| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 })
        .collect();
    let guard = net.by_ed25519(&path[0].ed25519).unwrap().clone();
    let dest_keys = Destination::Node(NodeKeys { ed25519: dest.info.ed25519, x25519: dest.info.x25519 });
    let st = NodeState { node: guard, ..state(&net) };

    let store = store_body(&pk, b"through the onion", DAY).to_string();
    let req = onion::build(&mut rng, &path, &dest_keys, store.as_bytes(), EncType::XChaCha20).unwrap();
    let (status, body) = server::process_onion(&st, req.body).await;
    assert_eq!(status, 200);
    let reply = onion::unwrap_node_reply(&req.reply_key, &body).unwrap();
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));

    let retrieve = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None).to_string();
    let req = onion::build(&mut rng, &path, &dest_keys, retrieve.as_bytes(), EncType::AesGcm).unwrap();
    let (status, body) = server::process_onion(&st, req.body).await;
    assert_eq!(status, 200);
    let reply = onion::unwrap_node_reply(&req.reply_key, &body).unwrap();
    let messages: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(messages["messages"][0]["data"], STANDARD.encode(b"through the onion"));

    // An unknown next hop at the second hop: 502 passed back unchanged.
    let mut bad_path = path.clone();
    bad_path[1].ed25519 = [0xee; 32];
    let req = onion::build(&mut rng, &bad_path, &dest_keys, b"{}", EncType::XChaCha20).unwrap();
    let (status, body) = server::process_onion(&st, req.body).await;
    assert_eq!(
        (status, String::from_utf8(body).unwrap()),
        (502, format!("Next node not found: {}", hex::encode([0xee; 32])))
    );

    // Too many hops.
    let long: Vec<NodeKeys> = (0..14).map(|i| path[i % 3]).collect();
    let req = onion::build(&mut rng, &long, &dest_keys, b"{}", EncType::XChaCha20).unwrap();
    let mut body = req.body;
    // Claim a starting hop number beyond the limit at the guard.
    let (blob, mut json) = onion::split_frame(&body).unwrap();
    json.insert("hop_no".into(), json!(16));
    body = onion::frame(blob, &Value::Object(json));
    let (status, text) = server::process_onion(&st, body).await;
    assert_eq!((status, String::from_utf8(text).unwrap().as_str()), (400, "onion request max path length exceeded"));
}

/// The real server's parse-then-run order and its messages (protocol-core §4 and §7).
#[test]
fn real_server_messages_and_order() {
    let net = network();
    let bob = user(12);
    let pk = bob.session_id();
    let inside = node_for(&net, &pk, true);
    let outside = node_for(&net, &pk, false);
    let text = |node: &Node, body: &Value| {
        let (status, _, text) = call(&net, node, body);
        (status, text)
    };

    // A namespace without a signature is a missing field, not a 401.
    let ns_only = json!({"method": "retrieve", "params": {"pubkey": pk.to_string(), "namespace": 0}});
    assert_eq!(text(&inside, &ns_only), (400, "invalid request: Required field 'signature' missing".into()));
    // Parameters are checked before the swarm: a bad request gets 400 even at the wrong node.
    assert_eq!(text(&outside, &ns_only).0, 400);
    let mut bad = store_body(&pk, b"x", DAY);
    bad["params"]["data"] = json!("not base64!");
    assert_eq!(text(&outside, &bad), (400, "invalid request: Invalid 'data' value: not base64 encoded".into()));
    assert_eq!(text(&outside, &store_body(&pk, b"x", DAY)).0, 421);

    // TTL comes before the clock: far in the future with a 9 s TTL is 403, with a good TTL 406.
    let future = requests::store(&pk, Namespace::DEFAULT, "eA==", now_ms() + 3_600_000, 9_000, None);
    assert_eq!(text(&inside, &future).0, 403);

    let pubkey =
        json!({"method": "store", "params": {"pubkey": "05abc", "timestamp": now_ms(), "ttl": DAY, "data": ""}});
    assert_eq!(text(&inside, &pubkey), (400, "invalid request: Pubkey must be 66 hex digits (33 bytes) long".into()));
    let mut short_sig = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    short_sig["params"]["signature"] = json!("");
    assert_eq!(
        text(&inside, &short_sig),
        (400, "invalid request: invalid signature: expected base64 encoded Ed25519 signature".into())
    );
    let mut seconds = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    seconds["params"]["timestamp"] = json!(999_999_999);
    assert_eq!(
        text(&inside, &seconds),
        (400, "invalid request: Invalid timestamp for 'timestamp': timestamp must be in milliseconds".into())
    );

    let ed = hex::encode(bob.ed25519_public());
    let later = now_ms() + 3_600_000;
    let before = json!({"method": "delete_before", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "before": later, "signature": sign_request(&bob, &to_sign::delete_before(NamespaceSelector::One(Namespace::DEFAULT), later))}});
    assert_eq!(text(&inside, &before), (401, "delete_before timestamp too far in the future".into()));
    let past = now_ms() - 3_600_000;
    let hash = "A".repeat(43);
    let expire = json!({"method": "expire", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "messages": [hash], "expiry": past, "signature": sign_request(&bob, &to_sign::expire(ExpireMode::Set, &[past], &[&hash]))}});
    assert_eq!(text(&inside, &expire), (401, "expire: timestamp should be >= current time".into()));
    let both = json!({"method": "expire", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "messages": [hash],
        "expiry": later, "shorten": true, "extend": true, "signature": sign_request(&bob, b"x")}});
    assert_eq!(text(&inside, &both), (400, "invalid request: cannot specify both 'shorten' and 'extend'".into()));
    let forged = json!({"method": "delete", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "messages": [hash], "signature": sign_request(&user(13), &to_sign::delete(&[&hash]))}});
    assert_eq!(text(&inside, &forged), (401, "delete_msgs signature verification failed".into()));
    let oxend = json!({"method": "oxend_request", "params": {"endpoint": "get_info"}});
    assert_eq!(text(&inside, &oxend), (400, "invalid request: Invalid oxend endpoint 'get_info'".into()));
}

/// `delete_all` with `"all"`: each member signs pubkey ‖ timestamp ‖ every deleted hash sorted.
#[test]
fn delete_all_signature_covers_hashes_in_sorted_order() {
    let net = network();
    let bob = user(14);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let mut hashes = Vec::new();
    for (i, ns) in [0i16, 2, -10, 3].into_iter().enumerate() {
        let body = requests::store(&pk, Namespace(ns), &STANDARD.encode([i as u8; 5]), now_ms(), DAY, Some(&bob));
        let (status, reply, _) = call(&net, &node, &body);
        assert_eq!(status, 200, "{reply}");
        hashes.push(reply["hash"].as_str().unwrap().to_owned());
    }
    hashes.sort();
    let ts = now_ms();
    let q = json!({"method": "delete_all", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": hex::encode(bob.ed25519_public()),
        "namespace": "all", "timestamp": ts, "signature": sign_request(&bob, &to_sign::delete_all(NamespaceSelector::All, ts))}});
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["deleted"].as_object().unwrap().len(), 4, "grouped by namespace");
        let signed = format!("{pk}{ts}{}", hashes.concat());
        let sig: [u8; 64] = STANDARD.decode(member["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
        let key: [u8; 32] = hex::decode(ed).unwrap().try_into().unwrap();
        assert!(crypto_core::identity::verify_ed25519(&key, signed.as_bytes(), &sig));
    }
}

#[tokio::test]
async fn other_http_methods_are_404() {
    let net = network();
    let response = server::router(state(&net))
        .oneshot(Request::get("/storage_rpc/v1").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

// ---- expire and get_expiries as the real server (protocol-core §4.4, §4.5) ----

fn expire_body(who: &Identity, hashes: &[&str], expiry: Value, mode: ExpireMode, expiries: &[u64]) -> Value {
    let mut params = json!({"pubkey": who.session_id().to_string(), "pubkey_ed25519": hex::encode(who.ed25519_public()),
        "messages": hashes, "expiry": expiry, "signature": sign_request(who, &to_sign::expire(mode, expiries, hashes))});
    match mode {
        ExpireMode::Shorten => params["shorten"] = json!(true),
        ExpireMode::Extend => params["extend"] = json!(true),
        _ => {}
    }
    json!({"method": "expire", "params": params})
}

fn member_signature_ok(ed: &str, member: &Value, signed: &str) -> bool {
    let key: [u8; 32] = hex::decode(ed).unwrap().try_into().unwrap();
    let sig: [u8; 64] = STANDARD.decode(member["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    crypto_core::identity::verify_ed25519(&key, signed.as_bytes(), &sig)
}

fn stored_expiry(net: &Network, node: &Node, who: &Identity, hash: &str) -> Option<u64> {
    let (_, body, _) = call(net, node, &requests::retrieve(who, Namespace::DEFAULT, now_ms(), None));
    body["messages"].as_array().unwrap().iter().find(|m| m["hash"] == hash).and_then(|m| m["expiration"].as_u64())
}

/// `expiry` may be one value for every message or an array with one per message; each member
/// reports the applied expiries and signs `pubkey ‖ expiries ‖ requested ‖ updated`.
#[test]
fn expire_takes_one_expiry_per_message() {
    let net = network();
    let bob = user(30);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let h1 = call(&net, &node, &store_body(&pk, b"first", DAY)).1["hash"].as_str().unwrap().to_owned();
    let h2 = call(&net, &node, &store_body(&pk, b"second", DAY)).1["hash"].as_str().unwrap().to_owned();
    let (e1, e2) = (now_ms() + 3_600_000, now_ms() + 7_200_000);
    let q = expire_body(&bob, &[&h1, &h2], json!([e1, e2]), ExpireMode::Set, &[e1, e2]);
    let (status, body, text) = call(&net, &node, &q);
    assert_eq!(status, 200, "{text}");
    let mut sorted = [(h1.clone(), e1), (h2.clone(), e2)];
    sorted.sort();
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["updated"], json!(sorted.iter().map(|(h, _)| h).collect::<Vec<_>>()));
        assert_eq!(member["expiry"], json!(sorted.iter().map(|(_, e)| e).collect::<Vec<_>>()));
        assert!(member.get("unchanged").is_none(), "only with shorten/extend");
        let expiries: String = sorted.iter().map(|(_, e)| e.to_string()).collect();
        let updated: String = sorted.iter().map(|(h, _)| h.as_str()).collect();
        assert!(member_signature_ok(ed, member, &format!("{pk}{expiries}{h1}{h2}{updated}")), "{ed}");
    }
    for member in net.members(node.info.swarm_id) {
        assert_eq!(stored_expiry(&net, member, &bob, &h1), Some(e1));
        assert_eq!(stored_expiry(&net, member, &bob, &h2), Some(e2));
    }

    // The array's length must match; an empty array is refused; a single hash may be a string.
    let bad = expire_body(&bob, &[&h1, &h2], json!([e1]), ExpireMode::Set, &[e1]);
    assert_eq!(call(&net, &node, &bad).0, 200, "a one-element array is a single expiry");
    let bad = expire_body(&bob, &[&h1, &h2], json!([e1, e2, e2]), ExpireMode::Set, &[e1, e2, e2]);
    assert_eq!(
        call(&net, &node, &bad).2,
        "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"
    );
    let empty = expire_body(&bob, &[&h1], json!([]), ExpireMode::Set, &[]);
    assert_eq!(call(&net, &node, &empty).2, "invalid request: 'expiry' does not contain any expiration timestamps");
    let mut one = expire_body(&bob, &[&h1], json!(e2), ExpireMode::Set, &[e2]);
    one["params"]["messages"] = json!(h1);
    let (status, body, _) = call(&net, &node, &one);
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["updated"] == json!([h1]) && m["expiry"] == e2));
    let typed = expire_body(&bob, &[&h1], json!(["soon"]), ExpireMode::Set, &[]);
    assert_eq!(
        call(&net, &node, &typed).2,
        "invalid request: Invalid value given for 'expiry': expected timestamp array"
    );
    // An expiry more than 60 s in the past (here: one given in seconds) is refused after parsing.
    let past = expire_body(&bob, &[&h1, &h2], json!([e1, 1_700_000_000]), ExpireMode::Set, &[e1, 1_700_000_000]);
    assert_eq!(call(&net, &node, &past), (401, Value::Null, "expire: timestamp should be >= current time".into()));
    // Signed over other expiries: 401.
    let forged = expire_body(&bob, &[&h1, &h2], json!([e1, e2]), ExpireMode::Set, &[e2, e1]);
    assert_eq!(call(&net, &node, &forged), (401, Value::Null, "expire: signature verification failed".into()));
    // Capped at 30 days from now.
    let far = now_ms() + 60 * DAY;
    let (_, body, _) = call(&net, &node, &expire_body(&bob, &[&h1], json!(far), ExpireMode::Set, &[far]));
    let applied = body["swarm"].as_object().unwrap().values().next().unwrap()["expiry"].as_u64().unwrap();
    assert!(applied <= now_ms() + 30 * DAY && applied + 60_000 > now_ms() + 30 * DAY, "{applied}");
}

/// With `shorten` or `extend`, messages left alone are listed in `unchanged` with their expiry,
/// and the member signature covers them (hash ‖ expiry, sorted by hash).
#[test]
fn expire_shorten_and_extend_report_what_they_left_unchanged() {
    let net = network();
    let bob = user(31);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let h1 = call(&net, &node, &store_body(&pk, b"one hour", 3_600_000)).1["hash"].as_str().unwrap().to_owned();
    let h2 = call(&net, &node, &store_body(&pk, b"one day", DAY)).1["hash"].as_str().unwrap().to_owned();
    let e1 = stored_expiry(&net, &node, &bob, &h1).unwrap();
    let e2 = stored_expiry(&net, &node, &bob, &h2).unwrap();
    let target = now_ms() + 7_200_000;

    // Shorten to 2 h: only the one-day message changes.
    let q = expire_body(&bob, &[&h1, &h2], json!(target), ExpireMode::Shorten, &[target]);
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["updated"], json!([h2]));
        assert_eq!(member["unchanged"], json!({ h1.as_str(): e1 }));
        assert!(member_signature_ok(ed, member, &format!("{pk}{target}{h1}{h2}{h2}{h1}{e1}")));
    }
    assert_eq!(stored_expiry(&net, &node, &bob, &h2), Some(target));

    // Extend to 90 min: only the one-hour message changes (the other now ends in 2 h).
    let later = now_ms() + 5_400_000;
    let q = expire_body(&bob, &[&h1, &h2], json!(later), ExpireMode::Extend, &[later]);
    let (_, body, _) = call(&net, &node, &q);
    for member in body["swarm"].as_object().unwrap().values() {
        assert_eq!(member["updated"], json!([h1]));
        assert_eq!(member["unchanged"], json!({ h2.as_str(): target }));
    }
    assert_eq!(stored_expiry(&net, &node, &bob, &h1), Some(later));
    assert!(e2 > target, "the day-long message had been shortened");
}

/// `get_expiries` looks every given hash up as it is: the real server has no `["all"]` form (its
/// docs mention one, its code looks for a message whose hash is "all"), so that gets `{}`.
#[test]
fn get_expiries_answers_only_the_hashes_it_holds() {
    let net = network();
    let bob = user(32);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let h1 = call(&net, &node, &store_body(&pk, b"kept", DAY)).1["hash"].as_str().unwrap().to_owned();
    let ask = |messages: Value, signed: &[&str]| {
        let ts = now_ms();
        json!({"method": "get_expiries", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": hex::encode(bob.ed25519_public()),
            "messages": messages, "timestamp": ts, "signature": sign_request(&bob, &to_sign::get_expiries(ts, signed))}})
    };
    let unknown = "B".repeat(43);
    let (status, body, _) = call(&net, &node, &ask(json!([h1, unknown]), &[&h1, &unknown]));
    assert_eq!(status, 200);
    assert_eq!(body["expiries"].as_object().unwrap().keys().collect::<Vec<_>>(), [&h1]);
    let (status, body, _) = call(&net, &node, &ask(json!(["all"]), &["all"]));
    assert_eq!((status, &body["expiries"]), (200, &json!({})));
    let (status, body, _) = call(&net, &node, &ask(json!(h1), &[&h1]));
    assert_eq!((status, body["expiries"].as_object().unwrap().len()), (200, 1), "a single string is a list of one");
    let (_, _, text) = call(&net, &node, &ask(json!([]), &[]));
    assert_eq!(text, "invalid request: messages does not contain any message hashes");
    let forged = ask(json!([h1]), &["something else"]);
    assert_eq!(call(&net, &node, &forged), (401, Value::Null, "get_expiries signature verification failed".into()));
}

// ---- pubkeys under any network byte (protocol-core §1.2, §4.8) ----

/// The pubkey `prefix ‖ who's Ed25519 key`, for which `who` signs directly.
fn raw_pubkey(prefix: u8, who: &Identity) -> String {
    format!("{prefix:02x}{}", hex::encode(who.ed25519_public()))
}

fn signed_retrieve(pubkey: &str, who: &Identity) -> Value {
    let ts = now_ms();
    json!({"method": "retrieve", "params": {"pubkey": pubkey, "timestamp": ts,
        "signature": sign_request(who, &to_sign::retrieve(Namespace::DEFAULT, ts))}})
}

/// The node for the swarm of a raw 33-byte pubkey.
fn node_for_bytes(net: &Network, pubkey: &str, inside: bool) -> Arc<Node> {
    let mut bytes = [0u8; 33];
    hex::decode_to_slice(pubkey, &mut bytes).unwrap();
    let swarm = net.swarm_for(&bytes).unwrap();
    net.nodes().iter().find(|n| (n.info.swarm_id == swarm) == inside).unwrap().clone()
}

#[test]
fn pubkeys_with_any_network_byte_store_and_retrieve() {
    let net = network();
    let owner = user(33);
    for prefix in [0x00u8, 0x03, 0x07, 0xff] {
        let pubkey = raw_pubkey(prefix, &owner);
        let node = node_for_bytes(&net, &pubkey, true);
        let store = json!({"method": "store", "params": {"pubkey": pubkey, "timestamp": now_ms(), "ttl": DAY,
            "data": STANDARD.encode(b"for any prefix")}});
        let (status, body, text) = call(&net, &node, &store);
        assert_eq!(status, 200, "{prefix:02x}: {text}");
        let mut bytes = [0u8; 33];
        hex::decode_to_slice(&pubkey, &mut bytes).unwrap();
        let expected = crypto_core::storage::message_hash(&bytes, Namespace::DEFAULT, b"for any prefix");
        assert_eq!(body["hash"], expected.as_str(), "the hash covers the network byte");

        // Signed by the key itself; a signature by anyone else is refused.
        let (status, body, _) = call(&net, &node, &signed_retrieve(&pubkey, &owner));
        assert_eq!(status, 200);
        assert_eq!(body["messages"][0]["hash"], expected.as_str());
        let (status, _, text) = call(&net, &node, &signed_retrieve(&pubkey, &user(34)));
        assert_eq!((status, text.as_str()), (401, "retrieve signature verification failed"));
        let mut with_ed = signed_retrieve(&pubkey, &owner);
        with_ed["params"]["pubkey_ed25519"] = json!(hex::encode(owner.ed25519_public()));
        assert_eq!(
            call(&net, &node, &with_ed).2,
            "invalid request: pubkey_ed25519 is only permitted for 05[...] pubkeys"
        );

        // The swarm is chosen from the 32 bytes after the network byte.
        let outside = node_for_bytes(&net, &pubkey, false);
        let (status, body, _) = call(&net, &outside, &store);
        assert_eq!(status, 421);
        assert_eq!(body["swarm"], format!("{:x}", node.info.swarm_id));
        let (status, body, _) = call(&net, &outside, &json!({"method": "get_swarm", "params": {"pubkey": pubkey}}));
        assert_eq!((status, body["swarm"].clone()), (200, json!(format!("{:x}", node.info.swarm_id))));
    }
}

#[test]
fn a_pubkey_may_be_given_as_33_raw_bytes() {
    let net = network();
    // 33 characters that are not hex: the real server takes them as the raw bytes.
    let raw = "0123456789abcdefghijklmnopqrstuvw";
    assert_eq!(raw.len(), 33);
    let node = node_for_bytes(&net, &hex::encode(raw), true);
    let store =
        json!({"method": "store", "params": {"pubkey": raw, "timestamp": now_ms(), "ttl": DAY, "data": "eA=="}});
    let (status, body, _) = call(&net, &node, &store);
    assert_eq!(status, 200);
    let bytes: [u8; 33] = raw.as_bytes().try_into().unwrap();
    assert_eq!(body["hash"], crypto_core::storage::message_hash(&bytes, Namespace::DEFAULT, b"x").as_str());
    for bad in ["05abc", &"z".repeat(66), &"0".repeat(64), &"0".repeat(68)] {
        let store =
            json!({"method": "store", "params": {"pubkey": bad, "timestamp": now_ms(), "ttl": DAY, "data": "eA=="}});
        assert_eq!(
            call(&net, &node, &store).2,
            "invalid request: Pubkey must be 66 hex digits (33 bytes) long",
            "{bad}"
        );
    }
}

/// `get_swarm` records name each node as the real server does: `address` is the z-base-32 form
/// of the legacy (here Ed25519) key and `.snode`.
#[test]
fn swarm_records_carry_the_snode_address() {
    // oxenc's own base32z test vector for these 32 bytes.
    let key: [u8; 32] = hex::decode("0123456789abcdef".repeat(4)).unwrap().try_into().unwrap();
    let info =
        hush_node::network::NodeInfo { ip: "127.0.0.1".into(), port: 1, ed25519: key, x25519: [0; 32], swarm_id: 0 };
    assert_eq!(info.snode_address(), "yrtwk3hjixg66yjdeiuauk6p7hy1gtm8tgih55abrpnsxnpm3zzo.snode");

    let net = network();
    let pk = user(35).session_id();
    let (_, body, _) = call(&net, &net.nodes()[0], &requests::get_swarm(&pk));
    for record in body["snodes"].as_array().unwrap() {
        let node = net.nodes().iter().find(|n| record["pubkey_ed25519"] == hex::encode(n.info.ed25519)).unwrap();
        assert_eq!(record["address"], node.info.snode_address().as_str());
        assert_eq!(record["pubkey_legacy"], hex::encode(node.info.ed25519));
        assert_eq!(record["port"], node.info.port.to_string());
        assert_eq!(record["port_https"], node.info.port);
    }
}

/// `active_only` leaves out nodes that are not serving, as oxend leaves out decommissioned ones.
#[test]
fn get_service_nodes_active_only_leaves_out_stopped_nodes() {
    let net = network();
    net.nodes()[3].set_up(false);
    let q = |active_only: bool| {
        json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
            "params": {"active_only": active_only, "fields": {"pubkey_ed25519": true, "active": true}}}})
    };
    let (_, body, _) = call(&net, &net.nodes()[0], &q(true));
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 7);
    assert!(
        states.iter().all(|s| s["active"] == true && s["pubkey_ed25519"] != hex::encode(net.nodes()[3].info.ed25519))
    );
    let (_, body, _) = call(&net, &net.nodes()[0], &q(false));
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 8);
    assert_eq!(states.iter().filter(|s| s["active"] == false).count(), 1);
}

/// A node that comes back copies what its live peers hold and it lacks, in every namespace, with
/// the peers' hashes, timestamps and expiries, and never twice.
#[test]
fn catch_up_copies_what_a_node_missed_once() {
    let net = network();
    let bob = user(36);
    let pk = bob.session_id();
    let members: Vec<Arc<Node>> = net.members(net.swarm_of(&pk).unwrap()).cloned().collect();
    let (down, up) = (&members[0], &members[1]);
    assert_eq!(call(&net, up, &store_body(&pk, b"before", DAY)).0, 200);
    down.set_up(false);
    for (ns, data) in [(0i16, b"while down".as_slice()), (2, b"config"), (-10, b"legacy group")] {
        let body = requests::store(&pk, Namespace(ns), &STANDARD.encode(data), now_ms(), DAY, Some(&bob));
        assert_eq!(call(&net, up, &body).0, 200);
    }
    assert_eq!(down.store().count().unwrap(), 1);
    down.set_up(true);
    assert_eq!(net.catch_up(down, now_ms()).unwrap(), 3);
    assert_eq!(net.catch_up(down, now_ms()).unwrap(), 0, "nothing twice");
    assert_eq!(down.store().count().unwrap(), 4);
    for ns in [0i16, 2, -10] {
        let got = |node: &Node| {
            let mut q = requests::retrieve(&bob, Namespace(ns), now_ms(), None);
            if ns == -10 {
                q = json!({"method": "retrieve", "params": {"pubkey": pk.to_string(), "namespace": -10}});
            }
            call(&net, node, &q).1["messages"].clone()
        };
        assert_eq!(got(down), got(up), "namespace {ns}");
        assert!(!got(down).as_array().unwrap().is_empty());
    }
}

// ---- delete_before and expire_all as the real server (protocol-core §4.4, §4.5) ----

const HOUR: u64 = 3_600_000;

/// Stores `data` for `who` in namespace `ns` with the store timestamp `timestamp`, which may lie
/// hours in the past; where the namespace needs a signature it is made now (`sig_timestamp`), since
/// only the signature's timestamp must be within 60 s. Returns the hash.
fn store_at(net: &Network, node: &Node, who: &Identity, ns: i16, data: &[u8], timestamp: u64, ttl: u64) -> String {
    let ns = Namespace(ns);
    let mut body = requests::store(&who.session_id(), ns, &STANDARD.encode(data), timestamp, ttl, Some(who));
    if ns.store_needs_signature() {
        let now = now_ms();
        body["params"]["sig_timestamp"] = json!(now);
        body["params"]["signature"] = json!(sign_request(who, &to_sign::store(ns, now)));
    }
    let (status, reply, text) = call(net, node, &body);
    assert_eq!(status, 200, "{text}");
    reply["hash"].as_str().unwrap().to_owned()
}

/// The hashes `who` has in namespace `ns` on `node`, in insertion order (a signed retrieve).
fn held(net: &Network, node: &Node, who: &Identity, ns: i16) -> Vec<String> {
    let (status, body, text) = call(net, node, &requests::retrieve(who, Namespace(ns), now_ms(), None));
    assert_eq!(status, 200, "{text}");
    body["messages"].as_array().unwrap().iter().map(|m| m["hash"].as_str().unwrap().to_owned()).collect()
}

/// `get_expiries` of `hashes` on `node`.
fn expiries_on(net: &Network, node: &Node, who: &Identity, hashes: &[&str]) -> Value {
    let ts = now_ms();
    let q = json!({"method": "get_expiries", "params": {"pubkey": who.session_id().to_string(),
        "pubkey_ed25519": hex::encode(who.ed25519_public()), "messages": hashes, "timestamp": ts,
        "signature": sign_request(who, &to_sign::get_expiries(ts, hashes))}});
    let (status, body, text) = call(net, node, &q);
    assert_eq!(status, 200, "{text}");
    body["expiries"].clone()
}

/// A `delete_before` or `expire_all` request: `field` (`before` or `expiry`) = `value`, the
/// namespace as given (`None`: left out), signed by `signer` over `to_sign`.
fn owner_request(
    method: &str,
    who: &Identity,
    namespace: Option<Value>,
    field: &str,
    value: u64,
    signer: &Identity,
    to_sign: &[u8],
) -> Value {
    let mut params = json!({"pubkey": who.session_id().to_string(), "pubkey_ed25519": hex::encode(signer.ed25519_public()),
        field: value, "signature": sign_request(signer, to_sign)});
    if let Some(ns) = namespace {
        params["namespace"] = ns;
    }
    json!({"method": method, "params": params})
}

fn delete_before_body(who: &Identity, namespace: Option<Value>, before: u64, signed: NamespaceSelector) -> Value {
    owner_request("delete_before", who, namespace, "before", before, who, &to_sign::delete_before(signed, before))
}

fn expire_all_body(who: &Identity, namespace: Option<Value>, expiry: u64, signed: NamespaceSelector) -> Value {
    owner_request("expire_all", who, namespace, "expiry", expiry, who, &to_sign::expire_all(signed, expiry))
}

fn sorted(hashes: &[&String]) -> Vec<String> {
    let mut out: Vec<String> = hashes.iter().map(|h| (*h).clone()).collect();
    out.sort();
    out
}

/// `delete_before` in one namespace deletes the messages stored at or before `before` (the real
/// server's `timestamp <= before`) and nothing else; every member lists what it deleted, sorted,
/// and signs `pubkey ‖ before ‖ deleted…`. `before` may lie at most 60 s ahead (401 beyond, the
/// real server's status for this method, not 406) and any time in the past.
#[test]
fn delete_before_deletes_older_messages_of_one_namespace() {
    let net = network();
    let bob = user(40);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let members: Vec<Arc<Node>> = net.members(node.info.swarm_id).cloned().collect();
    let now = now_ms();
    let (t_old, t_mid) = (now - 3 * HOUR, now - 2 * HOUR);
    let old = store_at(&net, &node, &bob, 0, b"three hours ago", t_old, DAY);
    let mid = store_at(&net, &node, &bob, 0, b"two hours ago", t_mid, DAY);
    let after = store_at(&net, &node, &bob, 0, b"one ms later", t_mid + 1, DAY);
    let new = store_at(&net, &node, &bob, 0, b"just now", now, DAY);
    let config = store_at(&net, &node, &bob, 2, b"old config", t_old, DAY);
    let legacy = store_at(&net, &node, &bob, -10, b"old legacy group message", t_old, DAY);

    // No namespace: namespace 0, signed with the empty namespace string.
    let q = delete_before_body(&bob, None, t_mid, NamespaceSelector::One(Namespace::DEFAULT));
    let (status, body, text) = call(&net, &node, &q);
    assert_eq!(status, 200, "{text}");
    assert!(body["t"].is_u64() && body["hf"] == json!([19, 4]));
    let swarm = body["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), 4, "every member answers");
    let deleted = sorted(&[&old, &mid]);
    for (ed, member) in swarm {
        assert_eq!(member["deleted"], json!(deleted), "{ed}");
        assert!(member_signature_ok(ed, member, &format!("{pk}{t_mid}{}", deleted.concat())), "{ed}");
    }
    for member in &members {
        assert_eq!(held(&net, member, &bob, 0), [after.as_str(), new.as_str()]);
        assert_eq!(held(&net, member, &bob, 2), [config.as_str()], "other namespaces stay");
        assert_eq!(held(&net, member, &bob, -10), [legacy.as_str()]);
    }

    // Again: nothing left to delete, an empty list, still signed.
    let (status, body, _) = call(&net, &node, &q);
    assert_eq!(status, 200);
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["deleted"], json!([]));
        assert!(member_signature_ok(ed, member, &format!("{pk}{t_mid}")), "{ed}");
    }

    // Refused: signed over another `before`, another namespace, or by another key; nothing changes.
    let mut other_before = delete_before_body(&bob, Some(json!(0)), now, NamespaceSelector::One(Namespace::DEFAULT));
    other_before["params"]["before"] = json!(now - 1);
    let other_ns = delete_before_body(&bob, Some(json!(0)), now, NamespaceSelector::One(Namespace(2)));
    let other_key = owner_request(
        "delete_before",
        &bob,
        Some(json!(0)),
        "before",
        now,
        &user(41),
        &to_sign::delete_before(NamespaceSelector::One(Namespace::DEFAULT), now),
    );
    for forged in [other_before, other_ns, other_key] {
        assert_eq!(
            call(&net, &node, &forged),
            (401, Value::Null, "delete_before signature verification failed".into())
        );
    }
    let ahead = delete_before_body(&bob, None, now_ms() + 5 * 60_000, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(call(&net, &node, &ahead), (401, Value::Null, "delete_before timestamp too far in the future".into()));
    // Below 10⁹ ms the value is taken to be in seconds and refused while parsing.
    let seconds = delete_before_body(&bob, None, 999_999_999, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(
        call(&net, &node, &seconds).2,
        "invalid request: Invalid timestamp for 'before': timestamp must be in milliseconds"
    );
    let outside = node_for(&net, &pk, false);
    assert_eq!(call(&net, &outside, &q).0, 421);
    for member in &members {
        assert_eq!(held(&net, member, &bob, 0), [after.as_str(), new.as_str()]);
    }

    // No lower bound: `before` 30 days ago is accepted (and here deletes nothing).
    let long_ago = now_ms() - 30 * DAY;
    let (status, body, _) =
        call(&net, &node, &delete_before_body(&bob, None, long_ago, NamespaceSelector::One(Namespace::DEFAULT)));
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["deleted"] == json!([])));

    // An explicit namespace deletes only there.
    let q2 = delete_before_body(&bob, Some(json!(2)), now_ms(), NamespaceSelector::One(Namespace(2)));
    let (status, body, _) = call(&net, &node, &q2);
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["deleted"] == json!([config])));
    for member in &members {
        assert!(held(&net, member, &bob, 2).is_empty());
        assert_eq!(held(&net, member, &bob, 0).len(), 2);
        assert_eq!(held(&net, member, &bob, -10), [legacy.as_str()]);
    }

    // 30 s ahead is inside the 60 s window: the rest of namespace 0 goes.
    let soon = now_ms() + 30_000;
    let (status, body, text) =
        call(&net, &node, &delete_before_body(&bob, Some(json!(0)), soon, NamespaceSelector::One(Namespace::DEFAULT)));
    assert_eq!(status, 200, "{text}");
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["deleted"] == json!(sorted(&[&after, &new]))));
    for member in &members {
        assert!(held(&net, member, &bob, 0).is_empty());
        assert_eq!(held(&net, member, &bob, -10), [legacy.as_str()]);
    }
}

/// `delete_before` with `"all"`: every namespace, each member's `deleted` grouped by namespace and
/// its signature over `pubkey ‖ before ‖ every deleted hash sorted`; the signature must name "all".
#[test]
fn delete_before_all_namespaces_groups_what_it_deleted() {
    let net = network();
    let bob = user(42);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let now = now_ms();
    let old0 = store_at(&net, &node, &bob, 0, b"old dm", now - 2 * HOUR, DAY);
    let old2 = store_at(&net, &node, &bob, 2, b"old config", now - 2 * HOUR, DAY);
    let old10 = store_at(&net, &node, &bob, -10, b"old legacy", now - 2 * HOUR, DAY);
    let new0 = store_at(&net, &node, &bob, 0, b"new dm", now, DAY);
    let new2 = store_at(&net, &node, &bob, 2, b"new config", now, DAY);
    let before = now - HOUR;

    // Signed for namespace 0 but asking for "all": refused.
    let mut wrong = delete_before_body(&bob, Some(json!("all")), before, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(call(&net, &node, &wrong).0, 401);
    wrong["params"]["namespace"] = json!("every");
    assert_eq!(
        call(&net, &node, &wrong).2,
        "invalid request: Invalid value given for 'namespace': expected integer or \"all\""
    );

    let q = delete_before_body(&bob, Some(json!("all")), before, NamespaceSelector::All);
    let (status, body, text) = call(&net, &node, &q);
    assert_eq!(status, 200, "{text}");
    let swarm = body["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), 4);
    let all = sorted(&[&old0, &old2, &old10]);
    for (ed, member) in swarm {
        assert_eq!(member["deleted"], json!({"0": [old0], "2": [old2], "-10": [old10]}), "{ed}");
        assert!(member_signature_ok(ed, member, &format!("{pk}{before}{}", all.concat())), "{ed}");
    }
    for member in net.members(node.info.swarm_id) {
        assert_eq!(held(&net, member, &bob, 0), [new0.as_str()]);
        assert_eq!(held(&net, member, &bob, 2), [new2.as_str()]);
        assert!(held(&net, member, &bob, -10).is_empty());
    }
}

/// `expire_all` only shortens: messages expiring after `expiry` get it, earlier ones keep theirs,
/// and an expiry later than everything changes nothing. One namespace (0 when none is given) or
/// `"all"`; each member lists what it `updated` and signs `pubkey ‖ expiry ‖ updated…`.
#[test]
fn expire_all_shortens_and_never_extends() {
    let net = network();
    let bob = user(43);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let members: Vec<Arc<Node>> = net.members(node.info.swarm_id).cloned().collect();
    let now = now_ms();
    let short = store_at(&net, &node, &bob, 0, b"one hour", now, HOUR);
    let long = store_at(&net, &node, &bob, 0, b"one day", now, DAY);
    let config = store_at(&net, &node, &bob, 2, b"config", now, DAY);
    let (e_short, e_config) = (now + HOUR, now + DAY);
    let all = [short.as_str(), long.as_str(), config.as_str()];
    let expect = |short: u64, long: u64, config: u64| {
        for member in &members {
            let got = expiries_on(&net, member, &bob, &all);
            assert_eq!(got, json!({ all[0]: short, all[1]: long, all[2]: config }));
        }
    };
    expect(e_short, now + DAY, e_config);

    // No namespace: namespace 0. Only the day-long message ends after two hours.
    let target = now_ms() + 2 * HOUR;
    let q = expire_all_body(&bob, None, target, NamespaceSelector::One(Namespace::DEFAULT));
    let (status, body, text) = call(&net, &node, &q);
    assert_eq!(status, 200, "{text}");
    assert!(body["t"].is_u64() && body["hf"] == json!([19, 4]));
    let swarm = body["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), 4);
    for (ed, member) in swarm {
        assert_eq!(member["updated"], json!([long]), "{ed}");
        assert!(member_signature_ok(ed, member, &format!("{pk}{target}{long}")), "{ed}");
    }
    expect(e_short, target, e_config);
    assert_eq!(stored_expiry(&net, &members[1], &bob, &long), Some(target), "retrieve shows it too");

    // Again, and with an expiry 60 days ahead: nothing is extended, nothing updated.
    for expiry in [target, now_ms() + 60 * DAY] {
        let (status, body, _) =
            call(&net, &node, &expire_all_body(&bob, None, expiry, NamespaceSelector::One(Namespace::DEFAULT)));
        assert_eq!(status, 200);
        for (ed, member) in body["swarm"].as_object().unwrap() {
            assert_eq!(member["updated"], json!([]));
            assert!(member_signature_ok(ed, member, &format!("{pk}{expiry}")), "{ed}");
        }
        expect(e_short, target, e_config);
    }

    // Namespace 2 only.
    let target2 = now_ms() + 3 * HOUR;
    let (status, body, _) =
        call(&net, &node, &expire_all_body(&bob, Some(json!(2)), target2, NamespaceSelector::One(Namespace(2))));
    assert_eq!(status, 200);
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["updated"] == json!([config])));
    expect(e_short, target, target2);

    // "all": grouped by namespace; the one-hour message still keeps its earlier expiry.
    let target3 = now_ms() + 90 * 60_000;
    let (status, body, _) =
        call(&net, &node, &expire_all_body(&bob, Some(json!("all")), target3, NamespaceSelector::All));
    assert_eq!(status, 200);
    let updated = sorted(&[&long, &config]);
    for (ed, member) in body["swarm"].as_object().unwrap() {
        assert_eq!(member["updated"], json!({"0": [long], "2": [config]}), "{ed}");
        assert!(member_signature_ok(ed, member, &format!("{pk}{target3}{}", updated.concat())), "{ed}");
    }
    expect(e_short, target3, target3);
}

/// `expire_all` refusals: a signature over anything else is 401, an expiry more than 60 s in the
/// past 406; one less than 60 s in the past is accepted and expires everything at once.
#[test]
fn expire_all_signature_and_clock() {
    let net = network();
    let bob = user(44);
    let pk = bob.session_id();
    let node = node_for(&net, &pk, true);
    let members: Vec<Arc<Node>> = net.members(node.info.swarm_id).cloned().collect();
    let now = now_ms();
    let a = store_at(&net, &node, &bob, 0, b"a", now, DAY);
    let b = store_at(&net, &node, &bob, 0, b"b", now, 2 * DAY);
    let unchanged = || {
        for member in &members {
            assert_eq!(expiries_on(&net, member, &bob, &[&a, &b]), json!({ &a: now + DAY, &b: now + 2 * DAY }));
        }
    };

    let target = now + HOUR;
    let mut other_expiry = expire_all_body(&bob, None, target, NamespaceSelector::One(Namespace::DEFAULT));
    other_expiry["params"]["expiry"] = json!(target + 1);
    let other_ns = expire_all_body(&bob, Some(json!(0)), target, NamespaceSelector::All);
    let other_key = owner_request(
        "expire_all",
        &bob,
        None,
        "expiry",
        target,
        &user(45),
        &to_sign::expire_all(NamespaceSelector::One(Namespace::DEFAULT), target),
    );
    for forged in [other_expiry, other_ns, other_key] {
        assert_eq!(call(&net, &node, &forged), (401, Value::Null, "expire_all signature verification failed".into()));
    }
    let past = expire_all_body(&bob, None, now_ms() - 2 * 60_000, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(call(&net, &node, &past), (406, Value::Null, "expire_all timestamp should be >= current time".into()));
    // Below 10⁹ ms the value is taken to be in seconds and refused while parsing.
    let seconds = expire_all_body(&bob, None, 999_999_999, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(
        call(&net, &node, &seconds).2,
        "invalid request: Invalid timestamp for 'expiry': timestamp must be in milliseconds"
    );
    let outside = node_for(&net, &pk, false);
    let good = expire_all_body(&bob, None, target, NamespaceSelector::One(Namespace::DEFAULT));
    assert_eq!(call(&net, &outside, &good).0, 421);
    unchanged();

    // 30 s ago is inside the tolerance: both messages now end in the past. This node stops
    // returning them at once; the real server keeps them until its next cleanup of expired rows.
    let recent = now_ms() - 30_000;
    let (status, body, text) =
        call(&net, &node, &expire_all_body(&bob, None, recent, NamespaceSelector::One(Namespace::DEFAULT)));
    assert_eq!(status, 200, "{text}");
    assert!(body["swarm"].as_object().unwrap().values().all(|m| m["updated"] == json!(sorted(&[&a, &b]))));
    for member in &members {
        assert!(held(&net, member, &bob, 0).is_empty());
    }
}

// ---- every reply reads with the client's typed readers (crypto_core::storage::rpc) ----

/// Calls `node` and returns the reply text, checking that its keys come in the real server's
/// (sorted) order: the text is what a `serde_json::Value` of it prints.
fn text_of(net: &Network, node: &Node, body: &Value) -> (u16, String) {
    let (status, value, text) = call(net, node, body);
    if !value.is_null() {
        assert_eq!(text, value.to_string(), "keys in sorted order");
    }
    (status, text)
}

#[test]
fn every_reply_reads_with_the_client_readers() {
    use crypto_core::storage::rpc::{
        Affected, BatchReply, DeleteReply, ExpireAllReply, ExpireReply, Expiry, GetExpiriesReply, GetServiceNodesReply,
        GetSwarmReply, Hardfork, InfoReply, MemberFailure, MemberResult, RetrieveReply, StoreReply,
    };

    let net = network();
    let bob = user(12);
    let pk = bob.session_id();
    let members: Vec<_> = net.members(net.swarm_of(&pk).unwrap()).cloned().collect();
    let node = &members[0];
    let ed = hex::encode(bob.ed25519_public());

    // store, with one member down.
    members[3].set_up(false);
    let (status, text) = text_of(&net, node, &store_body(&pk, b"typed", DAY));
    members[3].set_up(true);
    assert_eq!(status, 200);
    let store = StoreReply::parse(text.as_bytes()).unwrap();
    let hash = store.stored_hash().unwrap().to_owned();
    assert_eq!((store.swarm.len(), store.hf), (4, Some(Hardfork(19, 4))));
    assert_eq!(store.swarm[&hex::encode(members[3].info.ed25519)], MemberResult::Failed(MemberFailure::timeout()));
    for m in &members[..3] {
        let answer = store.swarm[&hex::encode(m.info.ed25519)].success().unwrap();
        assert_eq!((answer.hash.as_str(), answer.already), (hash.as_str(), false));
        assert!(answer.expiry.unwrap() > now_ms() + DAY - 60_000);
        // As on the real server, only the node asked puts its time in its own answer.
        assert_eq!(answer.t.is_some(), m.info.ed25519 == node.info.ed25519);
    }

    // Stored again: every member already has it but the one that was down.
    let (_, text) = text_of(&net, node, &store_body(&pk, b"typed", DAY));
    let again = StoreReply::parse(text.as_bytes()).unwrap();
    for (i, m) in members.iter().enumerate() {
        assert_eq!(again.swarm[&hex::encode(m.info.ed25519)].success().unwrap().already, i != 3);
    }

    // retrieve
    let (_, text) = text_of(&net, node, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None));
    let retrieve = RetrieveReply::parse(text.as_bytes()).unwrap();
    assert_eq!(retrieve.messages.len(), 1);
    let m = &retrieve.messages[0];
    assert_eq!(
        (m.hash.as_str(), m.data.as_str(), retrieve.more),
        (hash.as_str(), STANDARD.encode(b"typed").as_str(), false)
    );
    assert!(m.timestamp <= now_ms() && m.expiration > m.timestamp);

    // get_swarm, and a 421 body.
    let (_, text) = text_of(&net, node, &requests::get_swarm(&pk));
    let swarm = GetSwarmReply::parse(text.as_bytes()).unwrap();
    assert_eq!(swarm.swarm_id(), net.swarm_of(&pk));
    assert_eq!(swarm.snodes.len(), 4);
    assert!(swarm.snodes.iter().all(|n| n.https_port().is_some() && n.pubkey_ed25519.len() == 64));
    let outside = node_for(&net, &pk, false);
    let (status, text) = text_of(&net, &outside, &store_body(&pk, b"x", DAY));
    assert_eq!(status, 421);
    let misdirected = GetSwarmReply::parse(text.as_bytes()).unwrap();
    assert_eq!(GetSwarmReply { t: None, ..misdirected }, GetSwarmReply { t: None, ..swarm }, "{text}");

    // info
    let (_, text) = text_of(&net, node, &requests::info());
    let info = InfoReply::parse(text.as_bytes()).unwrap();
    assert_eq!((info.version, info.timestamp.is_some(), info.t.is_some()), (Some([2, 6, 2]), true, true));

    // get_expiries: no t or hf, as on the real server.
    let ts = now_ms();
    let q = json!({"method": "get_expiries", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "messages": [hash], "timestamp": ts, "signature": sign_request(&bob, &to_sign::get_expiries(ts, &[&hash]))}});
    let (_, text) = text_of(&net, node, &q);
    let expiries = GetExpiriesReply::parse(text.as_bytes()).unwrap();
    assert_eq!((expiries.expiries.len(), expiries.t, expiries.hf), (1, None, None));

    // expire, one expiry and one per message.
    let target = now_ms() + HOUR;
    let (_, text) = text_of(&net, node, &expire_body(&bob, &[&hash], json!(target), ExpireMode::Shorten, &[target]));
    let expire = ExpireReply::parse(text.as_bytes()).unwrap();
    for answer in expire.swarm.values() {
        let answer = answer.success().unwrap();
        assert_eq!((&answer.expiry, &answer.updated), (&Expiry::One(target), &vec![hash.clone()]));
        assert_eq!(answer.unchanged.as_ref().map(|u| u.len()), Some(0));
    }
    let (_, text) = text_of(
        &net,
        node,
        &expire_body(&bob, &[&hash, &hash], json!([target, target]), ExpireMode::Set, &[target, target]),
    );
    let expire = ExpireReply::parse(text.as_bytes()).unwrap();
    assert!(expire.swarm.values().all(|a| matches!(a.success().unwrap().expiry, Expiry::Each(_))), "{text}");

    // expire_all
    let target = now_ms() + HOUR / 2;
    let (_, text) =
        text_of(&net, node, &expire_all_body(&bob, None, target, NamespaceSelector::One(Namespace::DEFAULT)));
    let expire_all = ExpireAllReply::parse(text.as_bytes()).unwrap();
    assert!(expire_all.swarm.values().all(|a| a.success().unwrap().updated == Affected::List(vec![hash.clone()])));

    // delete, then delete_all of every namespace.
    let q = json!({"method": "delete", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "messages": [hash],
        "signature": sign_request(&bob, &to_sign::delete(&[&hash]))}});
    let (_, text) = text_of(&net, node, &q);
    let delete = DeleteReply::parse(text.as_bytes()).unwrap();
    assert!(delete.swarm.values().all(|a| a.success().unwrap().deleted == Affected::List(vec![hash.clone()])));
    let other = store_at(&net, node, &bob, 2, b"config", now_ms(), DAY);
    let ts = now_ms();
    let q = json!({"method": "delete_all", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed, "namespace": "all",
        "timestamp": ts, "signature": sign_request(&bob, &to_sign::delete_all(NamespaceSelector::All, ts))}});
    let (_, text) = text_of(&net, node, &q);
    let delete_all = DeleteReply::parse(text.as_bytes()).unwrap();
    let by_ns = Affected::ByNamespace([("2".to_owned(), vec![other])].into());
    assert!(delete_all.swarm.values().all(|a| a.success().unwrap().deleted == by_ns), "{text}");

    // oxend_request get_service_nodes
    let q = json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"fields": {"public_ip": true, "storage_port": true, "pubkey_ed25519": true, "pubkey_x25519": true, "swarm_id": true}}}});
    let (_, text) = text_of(&net, node, &q);
    let nodes = GetServiceNodesReply::parse(text.as_bytes()).unwrap();
    assert_eq!(nodes.result.service_node_states.len(), 8);
    assert!(nodes.result.service_node_states.iter().all(|s| s.storage_port.is_some() && s.swarm_id.is_some()));
    let (_, text) =
        text_of(&net, node, &json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes"}}));
    let all = GetServiceNodesReply::parse(text.as_bytes()).unwrap();
    let first = serde_json::to_value(&all.result.service_node_states[0]).unwrap();
    assert_eq!(first.as_object().unwrap().len(), 13, "every field of a record, when none are asked for");

    // batch: no t or hf; each body reads as its reply.
    let batch = json!({"method": "batch", "params": {"requests": [
        store_body(&pk, b"in a batch", DAY), store_body(&pk, b"too short", 9_000), requests::info()]}});
    let (_, text) = text_of(&net, node, &batch);
    let batch = BatchReply::parse(text.as_bytes()).unwrap();
    assert_eq!((batch.results.len(), batch.t, batch.hf), (3, None, None));
    assert!(StoreReply::parse(&batch.results[0].body_bytes()).unwrap().stored_hash().is_some());
    assert_eq!(
        (batch.results[1].code, batch.results[1].body_bytes()),
        (403, b"Provided expiry/TTL is not valid.".to_vec())
    );
    assert!(InfoReply::parse(&batch.results[2].body_bytes()).unwrap().version.is_some());

    // A member's error, as the real server relays it: the status as a string.
    let failure = serde_json::to_value(MemberFailure::error(401, "no")).unwrap();
    assert_eq!(failure, json!({"code": "401", "failed": true, "reason": "no"}));
}
