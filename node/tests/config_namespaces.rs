//! The account's config namespaces 2–5 (UserProfile, Contacts, ConvoInfoVolatile, UserGroups) on
//! the devnet node, with the rules the real storage server applies to them
//! (protocol-config-groups §2.6–§2.7): stores and retrieves signed by the account, a signature
//! for one namespace not valid in another, TTLs up to 30 days, messages up to 76 800 bytes, each
//! namespace its own, expiries extended to at most now + 30 days; then a whole config push and
//! poll as clients do it (`sequence` of stores and the delete of obsolete hashes).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::config::{ConfigKind, Push, Retrieved, UserConfig};
use crypto_core::identity::{Identity, SessionId};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{Namespace, requests, sign_request};
use hush_node::network::{Network, Node, swarm_ids};
use hush_node::rpc::{self, Reply};
use hush_node::server::now_ms;
use hush_node::store::Store;
use serde_json::{Value, json};

const DAY: u64 = 24 * 3600 * 1000;
const CONFIG_NAMESPACES: [i16; 4] = [2, 3, 4, 5];

/// Eight nodes in two swarms of four, with in-memory stores.
fn network() -> Arc<Network> {
    let ids = swarm_ids(2);
    let nodes = (0..8u8)
        .map(|i| {
            Arc::new(Node::new(
                &[i + 41; 32],
                "127.0.0.1".into(),
                31000 + u16::from(i),
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

fn members(net: &Network, pk: &SessionId) -> Vec<Arc<Node>> {
    let swarm = net.swarm_of(pk).unwrap();
    net.nodes().iter().filter(|n| n.info.swarm_id == swarm).cloned().collect()
}

fn call(net: &Network, node: &Node, body: &Value) -> (u16, Value, String) {
    let Reply { status, body } = rpc::handle(net, node, now_ms(), body.to_string().as_bytes());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

fn retrieved(body: &Value) -> Vec<(String, Vec<u8>, u64)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["hash"].as_str().unwrap().to_owned(),
                STANDARD.decode(m["data"].as_str().unwrap()).unwrap(),
                m["expiration"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn config_namespaces_need_the_accounts_signature_to_store_and_retrieve() {
    let net = network();
    let bob = user(1);
    let pk = bob.session_id();
    let node = members(&net, &pk)[0].clone();
    for n in CONFIG_NAMESPACES {
        let ns = Namespace(n);
        let unsigned = requests::store(&pk, ns, "eA==", now_ms(), DAY, None);
        let (status, _, text) = call(&net, &node, &unsigned);
        assert_eq!((status, text), (401, format!("store: signature required to store to namespace {n}")));
        // Signed by another account for this pubkey.
        let mut forged = requests::store(&pk, ns, "eA==", now_ms(), DAY, Some(&user(2)));
        forged["params"]["pubkey"] = json!(pk.to_string());
        let (status, _, text) = call(&net, &node, &forged);
        assert_eq!((status, text.as_str()), (401, "store signature verification failed"));
        let signed = requests::store(&pk, ns, &STANDARD.encode([n as u8; 8]), now_ms(), DAY, Some(&bob));
        assert_eq!(call(&net, &node, &signed).0, 200);

        let bare = json!({"method": "retrieve", "params": {"pubkey": pk.to_string(), "namespace": n}});
        let (status, _, text) = call(&net, &node, &bare);
        // With a namespace that needs one, the signature is a required field (refused as the
        // request is parsed, as the real server does).
        assert_eq!((status, text.as_str()), (400, "invalid request: Required field 'signature' missing"));
        let mut forged = requests::retrieve(&user(2), ns, now_ms(), None);
        forged["params"]["pubkey"] = json!(pk.to_string());
        assert_eq!(call(&net, &node, &forged).0, 401);
        // A retrieve signed for namespace 0 (or another config namespace) is not valid here.
        let ts = now_ms();
        let mut other_ns = requests::retrieve(&bob, ns, ts, None);
        other_ns["params"]["signature"] = json!(sign_request(&bob, &to_sign::retrieve(Namespace(0), ts)));
        assert_eq!(call(&net, &node, &other_ns).0, 401);
        let mut other_ns = requests::retrieve(&bob, ns, ts, None);
        other_ns["params"]["signature"] = json!(sign_request(&bob, &to_sign::retrieve(Namespace(n % 5 + 2), ts)));
        assert_eq!(call(&net, &node, &other_ns).0, 401);

        let (status, body, _) = call(&net, &node, &requests::retrieve(&bob, ns, now_ms(), None));
        assert_eq!(status, 200);
        let messages = retrieved(&body);
        assert_eq!(messages.len(), 1, "each namespace holds its own messages");
        assert_eq!(messages[0].1, [n as u8; 8]);
    }
}

#[test]
fn config_namespaces_keep_messages_up_to_30_days_and_76800_bytes() {
    let net = network();
    let bob = user(3);
    let pk = bob.session_id();
    let node = members(&net, &pk)[1].clone();
    for n in CONFIG_NAMESPACES {
        let ns = Namespace(n);
        let status_of = |ttl: u64, data: &[u8]| {
            call(&net, &node, &requests::store(&pk, ns, &STANDARD.encode(data), now_ms(), ttl, Some(&bob))).0
        };
        assert_eq!(status_of(9_999, b"short"), 403);
        assert_eq!(status_of(30 * DAY + 1, b"long"), 403, "the private namespaces' limit is 30 days");
        assert_eq!(status_of(30 * DAY, b"thirty days"), 200);
        assert_eq!(status_of(DAY, &vec![n as u8; 76_800]), 200);
        assert_eq!(status_of(DAY, &vec![n as u8; 76_801]), 400);
        let (_, body, _) = call(&net, &node, &requests::retrieve(&bob, ns, now_ms(), None));
        let messages = retrieved(&body);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].2 > now_ms() + 29 * DAY);
    }
}

#[test]
fn config_expiries_extend_to_at_most_30_days() {
    let net = network();
    let bob = user(4);
    let pk = bob.session_id();
    let node = members(&net, &pk)[2].clone();
    let store = requests::store(&pk, Namespace(3), "Y29uZmln", now_ms(), DAY, Some(&bob));
    let hash = call(&net, &node, &store).1["hash"].as_str().unwrap().to_owned();
    let far = now_ms() + 60 * DAY;
    let ed = hex::encode(bob.ed25519_public());
    let extend = json!({"method": "expire", "params": {"pubkey": pk.to_string(), "pubkey_ed25519": ed,
        "messages": [hash], "expiry": far, "extend": true,
        "signature": sign_request(&bob, &to_sign::expire(ExpireMode::Extend, &[far], &[&hash]))}});
    let (status, _, text) = call(&net, &node, &extend);
    assert_eq!(status, 200, "{text}");
    let (_, body, _) = call(&net, &node, &requests::retrieve(&bob, Namespace(3), now_ms(), None));
    let expiry = retrieved(&body)[0].2;
    assert!(expiry <= now_ms() + 30 * DAY && expiry > now_ms() + 29 * DAY, "capped at now + 30 days: {expiry}");
}

/// A client's config push (a `sequence` of the stores, then the delete of the obsolete hashes) and
/// another device's poll, through the node.
#[test]
fn a_user_config_push_and_poll_through_the_node() {
    let net = network();
    let alice = user(5);
    let pk = alice.session_id();
    let swarm = members(&net, &pk);
    let ns = Namespace(ConfigKind::Contacts.namespace());
    let bob = user(6).session_id();

    let push_via = |node: &Node, push: &Push| -> Vec<String> {
        let mut subrequests: Vec<Value> = push
            .blobs
            .iter()
            .map(|blob| requests::store(&pk, ns, &STANDARD.encode(blob), now_ms(), 30 * DAY, Some(&alice)))
            .collect();
        if !push.obsolete.is_empty() {
            subrequests.push(requests::delete(&alice, &push.obsolete));
        }
        let (status, body, text) =
            call(&net, node, &json!({"method": "sequence", "params": {"requests": subrequests}}));
        assert_eq!(status, 200, "{text}");
        let results = body["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r["code"] == 200), "{text}");
        results.iter().take(push.blobs.len()).map(|r| r["body"]["hash"].as_str().unwrap().to_owned()).collect()
    };
    let poll = |node: &Node| -> Vec<(String, Vec<u8>, u64)> {
        let (status, body, text) = call(&net, node, &requests::retrieve(&alice, ns, now_ms(), None));
        assert_eq!(status, 200, "{text}");
        retrieved(&body)
    };

    let mut phone = UserConfig::new(ConfigKind::Contacts).unwrap();
    phone.contacts_mut().set_name(&bob, "Bob").unwrap();
    phone.contacts_mut().set_approved(&bob, true).unwrap();
    let push = phone.push(&alice, now_ms()).unwrap().unwrap();
    let stored = push_via(&swarm[0], &push);
    phone.confirm_pushed(&push, &stored);

    // The browser polls another member of the swarm and sees the contact.
    let mut browser = UserConfig::new(ConfigKind::Contacts).unwrap();
    let messages = poll(&swarm[1]);
    let batch: Vec<Retrieved> = messages.iter().map(|(hash, data, _)| Retrieved { hash, data }).collect();
    assert!(browser.receive(&alice, &batch, now_ms()).changed);
    assert_eq!(browser.contacts().get(&bob).unwrap().name, "Bob");
    assert_eq!(browser.active_hashes(), stored);

    // The browser renames Bob; its push replaces the phone's version, whose message is deleted.
    browser.contacts_mut().set_nickname(&bob, "Bobby").unwrap();
    let push2 = browser.push(&alice, now_ms()).unwrap().unwrap();
    assert_eq!(push2.obsolete, stored);
    let stored2 = push_via(&swarm[2], &push2);
    browser.confirm_pushed(&push2, &stored2);
    let messages = poll(&swarm[3]);
    assert_eq!(messages.iter().map(|(h, _, _)| h.clone()).collect::<Vec<_>>(), stored2);

    let batch: Vec<Retrieved> = messages.iter().map(|(hash, data, _)| Retrieved { hash, data }).collect();
    assert!(phone.receive(&alice, &batch, now_ms()).changed);
    assert_eq!(phone.contacts().get(&bob).unwrap().nickname, "Bobby");
    assert!(!phone.needs_push());
}
