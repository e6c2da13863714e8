//! The storage RPC's typed messages (`crypto_core::storage::rpc`): replies shaped as the real
//! storage server sends them (protocol-core §4.5, §7), hostile replies (wrong types, missing
//! fields, huge numbers, deep nesting), serialization in the real server's (sorted) key order, and
//! the request builders.

use std::collections::BTreeMap;

use crypto_core::identity::Identity;
use crypto_core::storage::rpc::{
    Affected, BatchReply, DeleteReply, ExpireAllReply, ExpireReply, Expiry, GetExpiriesReply, GetServiceNodesReply,
    GetSwarmReply, Hardfork, InfoReply, MemberFailure, MemberResult, ReplyError, Request, RetrieveReply, StoreReply,
};
use crypto_core::storage::{Namespace, NamespaceSelector, requests};
use serde::Serialize;
use serde_json::{Value, json};

const ED_A: &str = "aa00000000000000000000000000000000000000000000000000000000000000";
const ED_B: &str = "bb00000000000000000000000000000000000000000000000000000000000000";
const ED_C: &str = "cc00000000000000000000000000000000000000000000000000000000000000";
const ED_D: &str = "dd00000000000000000000000000000000000000000000000000000000000000";
const HASH: &str = "hkYHMWf+xJkW37hj3Lr1tkPd5UkTRJY4Z1nlV0CiJFs";

fn bytes(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Serialized, the keys of every object come out sorted, as the real server (and a `Value`)
/// writes them.
fn assert_sorted_keys<T: Serialize>(reply: &T) {
    let direct = serde_json::to_string(reply).unwrap();
    let via_value = serde_json::to_value(reply).unwrap().to_string();
    assert_eq!(direct, via_value);
}

#[test]
fn a_store_reply_as_the_real_server_sends_it() {
    let body = json!({
        "hash": HASH,
        "hf": [19, 4],
        "swarm": {
            ED_A: {"expiry": 1_700_001_209_600_000u64, "hash": HASH, "signature": "c2ln", "t": 1_700_000_000_001u64},
            ED_B: {"already": true, "expiry": 1_700_001_209_600_000u64, "hash": HASH, "signature": "c2ln"},
            ED_C: {"failed": true, "timeout": true},
            ED_D: {"code": "401", "failed": true, "reason": "store signature verification failed"},
        },
        "t": 1_700_000_000_001u64,
        "unknown": {"ignored": [1, 2, 3]},
    });
    let reply = StoreReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.hash, HASH);
    assert_eq!(reply.stored_hash(), Some(HASH));
    assert_eq!((reply.t, reply.hf), (Some(1_700_000_000_001), Some(Hardfork(19, 4))));
    let a = reply.swarm[ED_A].success().unwrap();
    assert_eq!((a.already, a.expiry, a.t), (false, Some(1_700_001_209_600_000), Some(1_700_000_000_001)));
    assert!(reply.swarm[ED_B].success().unwrap().already);
    assert_eq!(reply.swarm[ED_C], MemberResult::Failed(MemberFailure::timeout()));
    assert_eq!(
        reply.swarm[ED_D],
        MemberResult::Failed(MemberFailure::error(401, "store signature verification failed"))
    );
    // Serialized again: the same JSON but for the unknown field.
    let mut expected = body;
    expected.as_object_mut().unwrap().remove("unknown");
    assert_eq!(serde_json::to_value(&reply).unwrap(), expected);
    assert_sorted_keys(&reply);
}

#[test]
fn a_store_reply_varies_as_real_servers_do() {
    // No top-level hash (the node asked did not store it, or a newer server): a member's hash.
    let body = json!({"swarm": {
        ED_A: {"failed": true, "query_failure": true},
        ED_B: {"hash": HASH, "signature": "c2ln"},
        ED_C: {"code": 500, "failed": true, "reason": "x", "bad_peer_response": "yes"},
        ED_D: {"hash": 7, "signature": "c2ln"},
    }});
    let reply = StoreReply::parse(&bytes(&body)).unwrap();
    assert_eq!((reply.hash.as_str(), reply.stored_hash(), reply.t, reply.hf), ("", Some(HASH), None, None));
    assert_eq!(reply.swarm[ED_B].success().unwrap().expiry, None, "expiry is optional");
    let MemberResult::Failed(a) = &reply.swarm[ED_A] else { panic!() };
    assert!(a.query_failure && !a.timeout);
    let MemberResult::Failed(c) = &reply.swarm[ED_C] else { panic!() };
    assert_eq!((c.code, c.bad_peer_response), (Some(500), false), "a numeric code reads; a non-bool flag is false");
    let MemberResult::Failed(d) = &reply.swarm[ED_D] else { panic!() };
    assert!(d.bad_peer_response, "an answer that does not read is a failure");
    // Nobody stored it.
    let none = StoreReply::parse(br#"{"swarm": {}}"#).unwrap();
    assert_eq!(none.stored_hash(), None);
    // Optional fields of the wrong type read as absent.
    let odd = StoreReply::parse(br#"{"hash": 5, "hf": "19.4", "swarm": {}, "t": -1}"#).unwrap();
    assert_eq!((odd.hash.as_str(), odd.hf, odd.t), ("", None, None));
}

#[test]
fn a_retrieve_reply_as_the_real_server_sends_it() {
    let body = json!({
        "hf": [19, 4],
        "messages": [
            {"data": "aGVsbG8=", "expiration": 1_700_001_209_600_000u64, "hash": HASH, "timestamp": 1_700_000_000_000u64},
            {"data": "d29ybGQ=", "expiration": 1_700_001_209_600_001u64, "hash": "h2", "timestamp": 1_700_000_000_001u64},
        ],
        "more": true,
        "t": 1_700_000_000_002u64,
    });
    let reply = RetrieveReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.messages.len(), 2);
    let m = &reply.messages[0];
    assert_eq!(
        (m.hash.as_str(), m.data.as_str(), m.timestamp, m.expiration),
        (HASH, "aGVsbG8=", 1_700_000_000_000, 1_700_001_209_600_000)
    );
    assert!(reply.more);
    assert_eq!(serde_json::to_value(&reply).unwrap(), body);
    assert_sorted_keys(&reply);
}

#[test]
fn a_retrieve_reply_leaves_out_entries_that_are_not_messages() {
    let body = r#"{"messages": [
        {"data": "YQ==", "expiration": 2, "hash": "ok", "timestamp": 1, "expiry": "ignored"},
        {"data": "YQ==", "expiration": 2, "timestamp": 1},
        {"data": "YQ==", "expiration": 2, "hash": "h", "timestamp": "1"},
        {"data": "YQ==", "expiration": -2, "hash": "h", "timestamp": 1},
        {"data": "YQ==", "expiration": 18446744073709551616, "hash": "h", "timestamp": 1},
        {"data": "YQ==", "expiration": 2.5, "hash": "h", "timestamp": 1},
        {"data": null, "expiration": 2, "hash": "h", "timestamp": 1},
        "a string", 5, null, [], {}
    ]}"#;
    let reply = RetrieveReply::parse(body.as_bytes()).unwrap();
    assert_eq!(reply.messages.len(), 1);
    assert_eq!(reply.messages[0].hash, "ok");
    assert!(!reply.more, "no `more` reads as false");
    assert!(!RetrieveReply::parse(br#"{"messages": [], "more": "true"}"#).unwrap().more);
    // A number beyond f64 is not JSON serde_json reads at all: the reply is an error.
    let too_big = body.replace("\"expiration\": 2.5", "\"expiration\": 1e400");
    assert!(matches!(RetrieveReply::parse(too_big.as_bytes()), Err(ReplyError::NotJson { .. })));
}

#[test]
fn a_get_swarm_reply_and_a_421_body() {
    let node = |ed: &str, port: u16| {
        json!({"address": "yyyy.snode", "ip": "203.0.113.7", "port": port.to_string(), "port_https": port,
            "port_omq": 20200, "port_quic": 20200, "pubkey_ed25519": ed, "pubkey_legacy": ed, "pubkey_x25519": ED_D})
    };
    let body =
        json!({"hf": [19, 4], "snodes": [node(ED_A, 22100), node(ED_B, 22101)], "swarm": "8000000000000000", "t": 5});
    let reply = GetSwarmReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.snodes.len(), 2);
    assert_eq!(reply.swarm_id(), Some(0x8000_0000_0000_0000));
    assert_eq!(reply.snodes[1].https_port(), Some(22101));
    assert_eq!(reply.snodes[0].pubkey_ed25519, ED_A);
    assert_eq!(serde_json::to_value(&reply).unwrap(), body);
    assert_sorted_keys(&reply);

    // No zero padding, the deprecated string port only, unusable entries left out.
    let body = json!({"snodes": [
        {"ip": "203.0.113.8", "port": "22102", "pubkey_ed25519": ED_A, "pubkey_x25519": ED_B},
        {"ip": "203.0.113.9", "port_https": 0, "port": "x", "pubkey_ed25519": ED_A, "pubkey_x25519": ED_B},
        {"ip": "203.0.113.9", "port_https": 70000, "pubkey_ed25519": ED_A, "pubkey_x25519": ED_B},
        {"ip": "203.0.113.9", "pubkey_x25519": ED_B},
        {"ip": 7, "pubkey_ed25519": ED_A, "pubkey_x25519": ED_B},
    ], "swarm": "0"});
    let reply = GetSwarmReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.swarm_id(), Some(0));
    assert_eq!(reply.snodes.len(), 3);
    assert_eq!(
        reply.snodes.iter().map(|n| n.https_port()).collect::<Vec<_>>(),
        [Some(22102), None, None],
        "port 0, a port that is not a number and one out of range are no port"
    );
    for swarm in [r#""""#, r#""zz""#, r#""10000000000000000""#, "5", "null"] {
        let reply = GetSwarmReply::parse(format!(r#"{{"snodes": [], "swarm": {swarm}}}"#).as_bytes()).unwrap();
        assert_eq!(reply.swarm_id(), None, "{swarm}");
    }
}

#[test]
fn delete_expire_and_get_expiries_replies() {
    let body = json!({"hf": [19, 4], "swarm": {
        ED_A: {"deleted": [HASH], "signature": "c2ln"},
        ED_B: {"deleted": {"0": [HASH], "-10": ["h2"]}, "signature": "c2ln"},
        ED_C: {"failed": true, "timeout": true},
    }, "t": 9});
    let reply = DeleteReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.swarm[ED_A].success().unwrap().deleted, Affected::List(vec![HASH.into()]));
    let by_ns = BTreeMap::from([("-10".to_owned(), vec!["h2".to_owned()]), ("0".to_owned(), vec![HASH.to_owned()])]);
    assert_eq!(reply.swarm[ED_B].success().unwrap().deleted, Affected::ByNamespace(by_ns));
    assert_eq!(serde_json::to_value(&reply).unwrap(), body);
    assert_sorted_keys(&reply);

    let body = json!({"swarm": {
        ED_A: {"expiry": 1_700_000_100_000u64, "signature": "c2ln", "updated": [HASH]},
        ED_B: {"expiry": [1, 2], "signature": "c2ln", "unchanged": {"h3": 7}, "updated": [HASH, "h2"]},
    }, "t": 9});
    let reply = ExpireReply::parse(&bytes(&body)).unwrap();
    assert_eq!(reply.swarm[ED_A].success().unwrap().expiry, Expiry::One(1_700_000_100_000));
    let b = reply.swarm[ED_B].success().unwrap();
    assert_eq!((&b.expiry, b.unchanged.as_ref().unwrap()["h3"]), (&Expiry::Each(vec![1, 2]), 7));
    assert_eq!(serde_json::to_value(&reply).unwrap(), body);

    let body = json!({"swarm": {ED_A: {"signature": "c2ln", "updated": {"2": ["h"]}}}});
    let reply = ExpireAllReply::parse(&bytes(&body)).unwrap();
    assert!(matches!(reply.swarm[ED_A].success().unwrap().updated, Affected::ByNamespace(_)));

    let reply = GetExpiriesReply::parse(br#"{"expiries": {"h1": 1700000000000, "h2": 1700000000001}}"#).unwrap();
    assert_eq!((reply.expiries.len(), reply.t), (2, None));
    assert_eq!(
        GetExpiriesReply::parse(br#"{"expiries": {"h1": "soon"}}"#).unwrap_err(),
        ReplyError::Malformed { reply: "get_expiries", line: 1, column: 26 }
    );
}

#[test]
fn info_oxend_and_batch_replies() {
    let info =
        InfoReply::parse(br#"{"hf":[19,4],"t":1700000000000,"timestamp":1700000000000,"version":[2,6,2]}"#).unwrap();
    assert_eq!((info.version, info.t, info.hf), (Some([2, 6, 2]), Some(1_700_000_000_000), Some(Hardfork(19, 4))));
    let odd = InfoReply::parse(br#"{"version": "2.6.2", "t": 1.5, "hf": [19]}"#).unwrap();
    assert_eq!((odd.version, odd.t, odd.hf, odd.timestamp), (None, None, None, None));

    let body = json!({"hf": [19, 4], "result": {"height": 1, "service_node_states": [
        {"public_ip": "203.0.113.7", "pubkey_ed25519": ED_A, "pubkey_x25519": ED_B, "storage_port": 22100, "swarm_id": 5},
        {"public_ip": 7},
    ], "status": "OK"}, "t": 3});
    let reply = GetServiceNodesReply::parse(&bytes(&body)).unwrap();
    let states = &reply.result.service_node_states;
    assert_eq!((states.len(), states[0].storage_port, states[0].swarm_id), (2, Some(22100), Some(5)));
    assert_eq!(states[1].public_ip, None, "a field of the wrong type reads as absent");

    let store = json!({"hash": HASH, "swarm": {}});
    let body =
        json!({"results": [{"body": store, "code": 200}, {"body": "Provided expiry/TTL is not valid.", "code": 403}]});
    let batch = BatchReply::parse(&bytes(&body)).unwrap();
    assert_eq!(batch.results.len(), 2);
    assert!(batch.results[0].is_success() && !batch.results[1].is_success());
    assert_eq!(StoreReply::parse(&batch.results[0].body_bytes()).unwrap().hash, HASH);
    assert_eq!(batch.results[1].body_bytes(), b"Provided expiry/TTL is not valid.");
    assert_eq!(serde_json::to_value(&batch).unwrap(), body);
    assert_sorted_keys(&batch);
}

#[test]
fn hostile_replies_are_errors_not_panics() {
    type Parser = fn(&[u8]) -> bool;
    let parsers: [(&str, Parser); 10] = [
        ("store", |b| StoreReply::parse(b).is_ok()),
        ("retrieve", |b| RetrieveReply::parse(b).is_ok()),
        ("get_swarm", |b| GetSwarmReply::parse(b).is_ok()),
        ("info", |b| InfoReply::parse(b).is_ok()),
        ("delete", |b| DeleteReply::parse(b).is_ok()),
        ("expire", |b| ExpireReply::parse(b).is_ok()),
        ("expire_all", |b| ExpireAllReply::parse(b).is_ok()),
        ("get_expiries", |b| GetExpiriesReply::parse(b).is_ok()),
        ("get_service_nodes", |b| GetServiceNodesReply::parse(b).is_ok()),
        ("batch", |b| BatchReply::parse(b).is_ok()),
    ];
    let deep_array = "[".repeat(100_000);
    let deep_object = r#"{"swarm":"#.repeat(50_000);
    let deep_member = format!(r#"{{"swarm": {{"{ED_A}": {}{}}}}}"#, "[".repeat(1000), "]".repeat(1000));
    let huge = r#"{"messages": [], "more": true, "t": 1e400}"#;
    let hostile: Vec<&[u8]> = vec![
        b"",
        b"null",
        b"[]",
        b"\"swarm\"",
        b"{",
        b"{\"swarm\": {}",
        b"\xff\xfe",
        b"{\"swarm\": [], \"messages\": {}, \"snodes\": 5, \"results\": null, \"expiries\": [], \"result\": 1}",
        b"{\"swarm\": {\"a\": 1, \"b\": null, \"c\": []}}",
        b"{\"messages\": [{\"hash\": {\"hash\": {}}}], \"snodes\": [[[]]]}",
        b"{\"results\": [{\"code\": 99999, \"body\": 1}, {\"code\": -1}, {\"code\": 1e3}]}",
        b"{\"t\": 18446744073709551616, \"hf\": [4294967296, -1], \"swarm\": {}}",
        deep_array.as_bytes(),
        deep_object.as_bytes(),
        deep_member.as_bytes(),
        huge.as_bytes(),
    ];
    for input in &hostile {
        for (_, parse) in &parsers {
            let _ = parse(input);
        }
    }
    // Wrong types of required fields are typed errors that say which reply and where.
    assert!(matches!(
        StoreReply::parse(br#"{"swarm": []}"#),
        Err(ReplyError::Malformed { reply: "store", line: 1, .. })
    ));
    assert!(matches!(RetrieveReply::parse(br#"{"more": true}"#), Err(ReplyError::Malformed { reply: "retrieve", .. })));
    assert!(matches!(RetrieveReply::parse(b"{\"messages\": ["), Err(ReplyError::NotJson { reply: "retrieve", .. })));
    assert!(matches!(GetSwarmReply::parse(deep_array.as_bytes()), Err(ReplyError::NotJson { .. })));
    assert!(matches!(BatchReply::parse(br#"{"results": [{"code": 70000}]}"#), Err(ReplyError::Malformed { .. })));
    // A number beyond f64 is refused by the JSON reader itself; one beyond u64 is no time.
    assert!(matches!(RetrieveReply::parse(huge.as_bytes()), Err(ReplyError::NotJson { .. })));
    let reply = StoreReply::parse(br#"{"t": 18446744073709551616, "hf": [4294967296, 1], "swarm": {}}"#).unwrap();
    assert_eq!((reply.t, reply.hf), (None, None));
    // The error's text names the reply.
    let text = StoreReply::parse(b"nope").unwrap_err().to_string();
    assert!(text.starts_with("store reply is not JSON"), "{text}");
}

#[test]
fn the_request_builders_send_what_they_did() {
    let bob = Identity::from_ed25519_seed(&[2; 32]);
    let id = bob.session_id();
    let store = requests::store(&id, Namespace::DEFAULT, "aGk=", 1_700_000_000_000, 1000, None);
    assert_eq!(
        store,
        json!({"method": "store", "params": {"data": "aGk=", "namespace": 0, "pubkey": id.to_string(),
            "timestamp": 1_700_000_000_000u64, "ttl": 1000}})
    );
    let signed = requests::store(&id, Namespace(2), "aGk=", 1_700_000_000_000, 1000, Some(&bob));
    let params = &signed["params"];
    assert_eq!(params["sig_timestamp"], 1_700_000_000_000u64);
    assert_eq!(params["pubkey_ed25519"], hex::encode(bob.ed25519_public()));
    assert_eq!(params["signature"].as_str().unwrap().len(), 88);
    let retrieve = requests::retrieve(&bob, Namespace::DEFAULT, 1_700_000_000_000, None);
    assert_eq!(retrieve["params"]["last_hash"], "");
    assert_eq!(
        retrieve["params"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["last_hash", "namespace", "pubkey", "pubkey_ed25519", "signature", "timestamp"]
    );
    assert_eq!(requests::get_swarm(&id), json!({"method": "get_swarm", "params": {"pubkey": id.to_string()}}));
    assert_eq!(requests::info(), json!({"method": "info", "params": {}}));

    // Each reads back as the typed request it was built from.
    for request in [store, signed, retrieve, requests::get_swarm(&id), requests::info()] {
        let typed: Request = serde_json::from_value(request.clone()).unwrap();
        assert_eq!(typed.to_json(), request);
    }
    let alias: Request =
        serde_json::from_value(json!({"method": "get_snodes_for_pubkey", "params": {"pubkey": "05ab"}})).unwrap();
    assert!(matches!(alias, Request::GetSwarm(_)));
    let all: Request = serde_json::from_value(json!({"method": "delete_all", "params": {
        "namespace": "all", "pubkey": "05ab", "signature": "s", "timestamp": 1}}))
    .unwrap();
    let Request::DeleteAll(params) = &all else { panic!() };
    assert_eq!(params.namespace, NamespaceSelector::All);
    assert_eq!(all.to_json()["params"]["namespace"], "all");
    let batch: Request = serde_json::from_value(json!({"method": "sequence", "params": {"requests": [
        requests::info(), {"method": "expire", "params": {"expiry": [1, 2], "messages": ["a", "b"], "pubkey": "05ab",
            "shorten": true, "signature": "s"}}]}}))
    .unwrap();
    let Request::Sequence(params) = &batch else { panic!() };
    assert_eq!(params.requests.len(), 2);
    assert!(serde_json::from_value::<Request>(json!({"method": "nope", "params": {}})).is_err());
    assert!(
        serde_json::from_value::<Request>(json!({"method": "delete_all", "params": {
        "namespace": 40000, "pubkey": "05ab", "signature": "s", "timestamp": 1}}))
        .is_err()
    );
}
