//! A real devnet on loopback: HTTPS nodes, the seed and the relay, on ephemeral ports.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::storage::{Namespace, requests};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Value, json};
use tempfile::TempDir;

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-devnet-test-{name}-")).tempdir().expect("a temporary folder")
}

fn config(dir: &TempDir) -> DevnetConfig {
    let mut c = DevnetConfig::on_free_ports(dir.path().to_path_buf());
    c.nodes = 8;
    c
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(10)).build().unwrap()
}

async fn rpc(port: u16, body: &Value) -> (u16, Value) {
    let response =
        client().post(format!("https://127.0.0.1:{port}/storage_rpc/v1")).body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn store(pk: &crypto_core::identity::SessionId, data: &[u8]) -> Value {
    requests::store(pk, Namespace::DEFAULT, &STANDARD.encode(data), now_ms(), 3_600_000, None)
}

fn swarm_ports(devnet: &Devnet, pk: &crypto_core::identity::SessionId, inside: bool) -> Vec<(usize, u16)> {
    let swarm = devnet.network.swarm_of(pk).unwrap();
    devnet
        .network
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| (n.info.swarm_id == swarm) == inside)
        .map(|(i, n)| (i, n.info.port))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_through_one_node_retrieve_from_another_over_https() {
    let dir = test_dir("swarm");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    let bob = Identity::from_ed25519_seed(&[21; 32]);
    let pk = bob.session_id();
    let members = swarm_ports(&devnet, &pk, true);
    assert!(members.len() >= 2);
    let (status, body) = rpc(members[0].1, &store(&pk, b"over https")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rpc(members[1].1, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"][0]["data"], STANDARD.encode(b"over https"));

    // 421 from a node of another swarm.
    let outside = swarm_ports(&devnet, &pk, false);
    let (status, body) = rpc(outside[0].1, &store(&pk, b"x")).await;
    assert_eq!(status, 421);
    assert!(body["snodes"].as_array().is_some_and(|s| !s.is_empty()));

    // Stop one member: every message stays retrievable from the others, and new stores succeed.
    devnet.stop_node(members[0].0);
    assert!(rpc_fails(members[0].1).await, "a stopped node's port is closed");
    let (status, _) = rpc(members[1].1, &store(&pk, b"while one is down")).await;
    assert_eq!(status, 200);
    for &(_, port) in &members[1..] {
        let (_, body) = rpc(port, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
        assert_eq!(body["messages"].as_array().unwrap().len(), 2, "node {port}");
    }
    // Back up, it has caught up from its swarm: what it had, and what was stored while it was down,
    // each once, with the same hashes, timestamps and expiries as its peers.
    devnet.start_node(members[0].0).await.unwrap();
    let (status, body) = rpc(members[0].1, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(status, 200);
    let (_, peer) = rpc(members[1].1, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(body["messages"], peer["messages"]);
    let hashes: HashSet<&str> =
        body["messages"].as_array().unwrap().iter().map(|m| m["hash"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), 2);
    // And it takes part in new stores again.
    let (status, body) = rpc(members[1].1, &store(&pk, b"after it came back")).await;
    assert_eq!(status, 200);
    assert!(body["swarm"][hex::encode(devnet.network.nodes()[members[0].0].info.ed25519)]["hash"].is_string());
    let (_, body) = rpc(members[0].1, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    devnet.shutdown();
}

async fn rpc_fails(port: u16) -> bool {
    client()
        .post(format!("https://127.0.0.1:{port}/storage_rpc/v1"))
        .timeout(Duration::from_secs(2))
        .body("{}")
        .send()
        .await
        .is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_keys_and_messages() {
    let dir = test_dir("restart");
    let cfg = config(&dir);
    let bob = Identity::from_ed25519_seed(&[22; 32]);
    let pk = bob.session_id();
    let (keys, port, missed) = {
        let mut devnet = Devnet::start(cfg.clone()).await.unwrap();
        let keys: Vec<[u8; 32]> = devnet.network.nodes().iter().map(|n| n.info.ed25519).collect();
        let members = swarm_ports(&devnet, &pk, true);
        let port = members[0].1;
        assert_eq!(rpc(port, &store(&pk, b"persisted")).await.0, 200);
        // One member misses a store and the whole devnet stops before it comes back.
        devnet.stop_node(members[1].0);
        assert_eq!(rpc(port, &store(&pk, b"missed by one")).await.0, 200);
        let info: Value = serde_json::from_slice(&std::fs::read(cfg.data.join("devnet.json")).unwrap()).unwrap();
        assert_eq!(info["nodes"].as_array().unwrap().len(), 8);
        assert_eq!(info["seed_url"], devnet.seed_url.as_str());
        devnet.shutdown();
        (keys, port, members[1].0)
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = cfg.clone();
    again.base_port = 0;
    let mut devnet = Devnet::start(again).await.unwrap();
    let keys_after: Vec<[u8; 32]> = devnet.network.nodes().iter().map(|n| n.info.ed25519).collect();
    assert_eq!(keys, keys_after);
    let port_after = swarm_ports(&devnet, &pk, true)[0].1;
    let _ = port;
    let (_, body) = rpc(port_after, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(body["messages"][0]["data"], STANDARD.encode(b"persisted"));
    // The member that missed a store caught up when the devnet started.
    let missed_port = devnet.network.nodes()[missed].info.port;
    let (_, caught_up) = rpc(missed_port, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(caught_up["messages"], body["messages"]);
    assert_eq!(caught_up["messages"].as_array().unwrap().len(), 2);
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_forwards_onion_requests_and_refuses_everything_else() {
    let dir = test_dir("relay");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    let http = reqwest::Client::new();
    let nodes: Value = http.get(format!("{}/v1/nodes", devnet.app_url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 8);

    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let bob = Identity::from_ed25519_seed(&[23; 32]);
    let pk = bob.session_id();
    let swarm = devnet.network.swarm_of(&pk).unwrap();
    let keys = |n: &hush_node::network::Node| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 };
    let dest = devnet.network.members(swarm).next().unwrap();
    let path: Vec<NodeKeys> = devnet
        .network
        .nodes()
        .iter()
        .filter(|n| n.info.ed25519 != dest.info.ed25519)
        .take(3)
        .map(|n| keys(n))
        .collect();
    let destination = Destination::Node(keys(dest));

    let send = |body: Vec<u8>, guard: [u8; 32]| {
        let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(guard));
        let (http, origin) = (http.clone(), devnet.app_url.clone());
        async move {
            let r =
                http.post(url).header("origin", origin).header("content-type", "application/octet-stream").body(body);
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        }
    };

    let body = store(&pk, b"via the relay").to_string();
    let req = onion::build(&mut rng, &path, &destination, body.as_bytes(), EncType::XChaCha20).unwrap();
    let forwarded = req.body.clone();
    let (status, reply) = send(req.body, req.guard).await;
    assert_eq!(status, 200);
    assert_eq!(onion::unwrap_node_reply(&req.reply_key, &reply).unwrap().status, 200);
    // What the relay forwarded carries no Session ID.
    let text = String::from_utf8_lossy(&forwarded);
    assert!(!text.contains(&pk.to_string()) && !text.contains(&hex::encode(pk.key())));

    let retrieve = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None).to_string();
    let req = onion::build(&mut rng, &path, &destination, retrieve.as_bytes(), EncType::XChaCha20).unwrap();
    let (_, reply) = send(req.body, req.guard).await;
    let reply = onion::unwrap_node_reply(&req.reply_key, &reply).unwrap();
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["messages"][0]["data"], STANDARD.encode(b"via the relay"));

    // Not a node in the list: refused without forwarding.
    let (status, _) = send(b"x".to_vec(), [0x42; 32]).await;
    assert_eq!(status, 404);
    let r = http.post(format!("{}/v1/onion/zz", devnet.app_url)).header("content-type", "application/octet-stream");
    let r = r.body("x").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Garbage reaches the guard, which answers as a real node would; the relay passes it back.
    let (status, text) = send(b"garbage".to_vec(), path[0].ed25519).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&text).starts_with("Error parsing onion request"));
    // Over 10 MiB: refused with 413 as soon as the declared length is read, so the relay may close
    // the connection while the client is still writing; either way nothing is forwarded.
    // (relay_inbound.rs reads the early 413 on a raw socket.)
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(path[0].ed25519));
    let r = http
        .post(url)
        .header("origin", devnet.app_url.as_str())
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 10 * 1024 * 1024 + 1])
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(e) => assert!(e.is_request() && !e.is_timeout(), "{e}"),
    }
    // CORS for the app's own origin.
    let r = http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/nodes", devnet.app_url))
        .header("origin", devnet.app_url.as_str())
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), devnet.app_url.as_str());
    // The node keeps serving after all of that.
    let (status, _) = rpc(dest.info.port, &requests::info()).await;
    assert_eq!(status, 200);
    assert!(devnet.relay.counters.forwarded.load(Ordering::Relaxed) >= 3);
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_rate_limits_per_client() {
    let dir = test_dir("rate");
    let mut cfg = config(&dir);
    cfg.rate_per_minute = 5;
    let mut devnet = Devnet::start(cfg).await.unwrap();
    let guard = devnet.network.nodes()[0].info.ed25519;
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(guard));
    let nodes_url = format!("{}/v1/nodes", devnet.app_url);
    let http = reqwest::Client::new();
    let post = || http.post(&url).header("content-type", "application/octet-stream").body("x").send();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(post().await.unwrap().status().as_u16());
    }
    // The node list has a bucket of its own (as many a minute on the devnet): the spent onion
    // bucket does not starve it.
    for _ in 0..6 {
        statuses.push(http.get(&nodes_url).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 200, 200, 200, 200, 200, 429]);
    let counters = &devnet.relay.counters;
    assert_eq!(counters.listed.load(Ordering::Relaxed), 5);
    assert_eq!(counters.refused.load(Ordering::Relaxed), 2);
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_client_trusts_exactly_the_pinned_certificate() {
    use hush_node::tls::{Pin, pinned_client};
    use rcgen::PublicKeyData;
    use sha2::Digest;
    let dir = test_dir("pins");
    let cfg = config(&dir);
    let mut devnet = Devnet::start(cfg.clone()).await.unwrap();
    let node = &devnet.network.nodes()[0];
    let pem = std::fs::read(cfg.data.join("node-00").join("cert.pem")).unwrap();
    let certificate = hush_node::tls::pem_fingerprint(&pem).unwrap();
    // The public-key pin, computed from the private key file (not from the certificate).
    let key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(cfg.data.join("node-00").join("key.pem")).unwrap()).unwrap();
    let spki: [u8; 32] = sha2::Sha256::digest(key.subject_public_key_info()).into();
    let spki_b64 = STANDARD.encode(spki);
    assert_eq!(spki_b64.parse::<Pin>().unwrap(), Pin::PublicKey(spki));
    assert_eq!(format!("sha256/{spki_b64}").parse::<Pin>().unwrap(), Pin::PublicKey(spki));
    let colons: Vec<String> = certificate.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(colons.join(":").parse::<Pin>().unwrap(), Pin::Certificate(certificate));
    let openssl = format!("sha256 Fingerprint={}", colons.join(":"));
    assert_eq!(openssl.parse::<Pin>().unwrap(), Pin::Certificate(certificate));
    assert!("not a pin".parse::<Pin>().is_err() && "abcd".parse::<Pin>().is_err());

    let url = format!("https://127.0.0.1:{}/storage_rpc/v1", node.info.port);
    let info = r#"{"method":"info","params":{}}"#;
    for pin in [Pin::Certificate(certificate), Pin::PublicKey(spki)] {
        let good = pinned_client(vec![pin], Duration::from_secs(5)).unwrap();
        assert_eq!(good.post(&url).body(info).send().await.unwrap().status().as_u16(), 200, "{pin:?}");
    }
    for pin in [Pin::Certificate([0u8; 32]), Pin::PublicKey([0u8; 32]), Pin::PublicKey(certificate)] {
        let wrong = pinned_client(vec![pin], Duration::from_secs(5)).unwrap();
        assert!(wrong.post(&url).body(info).send().await.is_err(), "{pin:?}");
    }
    // An ordinary client refuses the self-signed certificate.
    assert!(reqwest::Client::new().post(&url).body("{}").send().await.is_err());
    devnet.shutdown();
}

/// A v4 server behind the last hop: the node relays to it (on loopback any server, as real nodes
/// relay to any; elsewhere only an allow-listed one); a server that does not answer is a 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_requests_reach_a_server_behind_the_last_hop() {
    use axum::body::Bytes;
    use crypto_core::onion::{LayerKey, Protocol, ServerTarget, v4};
    use x25519_dalek::{PublicKey, StaticSecret};

    let server_secret = StaticSecret::from([77u8; 32]);
    let server_public = PublicKey::from(&server_secret).to_bytes();
    let secret = server_secret.clone();
    let app = axum::Router::new().route(
        "/oxen/v4/lsrpc",
        axum::routing::post(move |body: Bytes| {
            let secret = secret.clone();
            async move {
                let (blob, json) = onion::split_frame(&body).unwrap();
                let mut eph = [0u8; 32];
                hex::decode_to_slice(json["ephemeral_key"].as_str().unwrap(), &mut eph).unwrap();
                let key = LayerKey::for_node(&secret, &PublicKey::from(&secret).to_bytes(), &eph, EncType::XChaCha20);
                let request = key.decrypt(blob).unwrap();
                assert!(v4::decode_list(&request).is_ok());
                let reply = br#"l52:{"code":200,"headers":{"content-type":"text/plain"}}5:helloe"#;
                key.encrypt(&mut rand_core::OsRng, reply)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = test_dir("proxy");
    let mut cfg = config(&dir);
    cfg.proxy_allow = vec![format!("127.0.0.1:{port}")];
    let mut devnet = Devnet::start(cfg).await.unwrap();
    let keys = |n: &hush_node::network::Node| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 };
    let path: Vec<NodeKeys> = devnet.network.nodes().iter().take(3).map(|n| keys(n)).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let target = |port: u16| ServerTarget {
        host: "127.0.0.1".into(),
        target: "/oxen/v4/lsrpc".into(),
        port,
        protocol: Protocol::Http,
        x25519: server_public,
    };
    let payload = v4::encode_request(r#"{"method":"GET","endpoint":"/capabilities"}"#, None);
    let http = reqwest::Client::new();
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(path[0].ed25519));

    let req = onion::build(&mut rng, &path, &Destination::Server(target(port)), &payload, EncType::XChaCha20).unwrap();
    let r = http.post(&url).header("content-type", "application/octet-stream").body(req.body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let reply = onion::unwrap_server_reply(&req.reply_key, &r.bytes().await.unwrap()).unwrap();
    assert_eq!((reply.code, reply.body.as_slice()), (200, &b"hello"[..]));

    // Nothing listens on the next port: the last hop answers 502.
    let req =
        onion::build(&mut rng, &path, &Destination::Server(target(port + 1)), &payload, EncType::XChaCha20).unwrap();
    let r = http.post(&url).header("content-type", "application/octet-stream").body(req.body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 502);
    devnet.shutdown();
}

/// Hostile inputs over real HTTPS: each gets the real server's status and the node keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_get_the_right_status_and_the_node_keeps_serving() {
    let dir = test_dir("hostile-rpc");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    let bob = Identity::from_ed25519_seed(&[23; 32]);
    let pk = bob.session_id();
    let port = swarm_ports(&devnet, &pk, true)[0].1;
    let raw = |body: &'static [u8]| async move {
        let r = client().post(format!("https://127.0.0.1:{port}/storage_rpc/v1")).body(body).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(raw(b"{not json").await, (400, "invalid json".into()));
    assert_eq!(raw(&[0xff, 0xfe, 0x00]).await.0, 400);
    let mut wrong = requests::retrieve(&Identity::from_ed25519_seed(&[24; 32]), Namespace::DEFAULT, now_ms(), None);
    wrong["params"]["pubkey"] = json!(pk.to_string());
    assert_eq!(rpc(port, &wrong).await, (401, json!("retrieve signature verification failed")));
    let big = requests::store(&pk, Namespace::DEFAULT, &STANDARD.encode(vec![7u8; 76_801]), now_ms(), 3_600_000, None);
    assert_eq!(
        rpc(port, &big).await,
        (400, json!("invalid request: Message body exceeds maximum allowed length of 76800 bytes"))
    );
    let ttl = requests::store(&pk, Namespace::DEFAULT, "eA==", now_ms(), 15 * 24 * 3_600_000, None);
    assert_eq!(rpc(port, &ttl).await, (403, json!("Provided expiry/TTL is not valid.")));
    let skew = requests::store(&pk, Namespace::DEFAULT, "eA==", now_ms() + 3_600_000, 3_600_000, None);
    assert_eq!(rpc(port, &skew).await, (406, json!("Timestamp error: check your clock")));
    let old = requests::retrieve(&bob, Namespace::DEFAULT, now_ms() - 120_000, None);
    assert_eq!(rpc(port, &old).await, (406, json!("retrieve timestamp too far from current time")));
    let r = client().get(format!("https://127.0.0.1:{port}/anything")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Still serving: a store and a retrieve work.
    assert_eq!(rpc(port, &store(&pk, b"still here")).await.0, 200);
    let (status, body) = rpc(port, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    devnet.shutdown();
}

/// The seed answers `get_n_service_nodes` on plain HTTP with only the requested fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_lists_the_nodes_with_the_requested_fields() {
    let dir = test_dir("seed");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    assert!(devnet.seed_url.starts_with("http://127.0.0.1:"));
    let request = json!({"jsonrpc": "2.0", "method": "get_n_service_nodes", "params": {"active_only": true,
        "fields": {"public_ip": true, "storage_port": true, "pubkey_x25519": true, "pubkey_ed25519": true}}});
    let r = reqwest::Client::new().post(&devnet.seed_url).json(&request).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 8);
    assert!(body["result"]["height"].is_u64());
    for (state, node) in states.iter().zip(devnet.network.nodes()) {
        let mut keys: Vec<&str> = state.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["pubkey_ed25519", "pubkey_x25519", "public_ip", "storage_port"]);
        assert_eq!(state["storage_port"], node.info.port);
        assert_eq!(state["pubkey_ed25519"], hex::encode(node.info.ed25519));
    }
    // A stopped node is not active: `active_only` leaves it out.
    devnet.stop_node(5);
    let body: Value =
        reqwest::Client::new().post(&devnet.seed_url).json(&request).send().await.unwrap().json().await.unwrap();
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 7);
    assert!(states.iter().all(|s| s["pubkey_ed25519"] != hex::encode(devnet.network.nodes()[5].info.ed25519)));
    devnet.shutdown();
}

fn node_keys(n: &hush_node::network::Node) -> NodeKeys {
    NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 }
}

/// POSTs `body` to a node's `/onion_req/v2` over HTTPS; (status, body text).
async fn onion_post(port: u16, body: Vec<u8>) -> (u16, String) {
    let r = client().post(format!("https://127.0.0.1:{port}/onion_req/v2")).body(body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A store and then a retrieve, onion-routed with `guard` as the first of three hops; both must
/// succeed, and the retrieve must show `data`.
async fn onion_store_and_retrieve(devnet: &Devnet, guard: usize, bob: &Identity, data: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(data.len() as u64);
    let pk = bob.session_id();
    let dest = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).next().unwrap().clone();
    let nodes = devnet.network.nodes();
    let first = node_keys(&nodes[guard]);
    let mut path = vec![first];
    path.extend(
        nodes
            .iter()
            .filter(|n| n.info.ed25519 != dest.info.ed25519 && n.info.ed25519 != first.ed25519)
            .take(2)
            .map(|n| node_keys(n)),
    );
    let port = nodes[guard].info.port;
    for request in [store(&pk, data), requests::retrieve(bob, Namespace::DEFAULT, now_ms(), None)] {
        let body = request.to_string();
        let req =
            onion::build(&mut rng, &path, &Destination::Node(node_keys(&dest)), body.as_bytes(), EncType::XChaCha20)
                .unwrap();
        let r = client().post(format!("https://127.0.0.1:{port}/onion_req/v2")).body(req.body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let reply = onion::unwrap_node_reply(&req.reply_key, &r.bytes().await.unwrap()).unwrap();
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        if request["method"] == "retrieve" {
            let body: Value = serde_json::from_slice(&reply.body).unwrap();
            let found = body["messages"].as_array().unwrap().iter().any(|m| m["data"] == STANDARD.encode(data));
            assert!(found, "the node still stores and retrieves");
        }
    }
}

/// Hostile onion bodies sent to a node's `/onion_req/v2` over real HTTPS each get the real node's
/// status and exact text (protocol-onion §1.7), and after each the node still serves a normal
/// onion-routed store and retrieve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_onion_bodies_over_https_get_the_real_answers_and_the_node_keeps_serving() {
    let dir = test_dir("hostile-onion");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    let bob = Identity::from_ed25519_seed(&[25; 32]);
    let pk = bob.session_id();
    let dest = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).next().unwrap().clone();
    let others: Vec<NodeKeys> =
        devnet.network.nodes().iter().filter(|n| n.info.ed25519 != dest.info.ed25519).map(|n| node_keys(n)).collect();
    let guard_index = devnet.network.nodes().iter().position(|n| n.info.ed25519 == others[0].ed25519).unwrap();
    let port = devnet.network.nodes()[guard_index].info.port;
    let dest_keys = Destination::Node(node_keys(&dest));
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let body = store(&pk, b"x").to_string();
    let valid = |rng: &mut ChaCha20Rng, path: &[NodeKeys]| {
        onion::build(rng, path, &dest_keys, body.as_bytes(), EncType::XChaCha20).unwrap().body
    };
    let path = others[..3].to_vec();
    let mut cases: Vec<(&str, Vec<u8>, u16, String)> = Vec::new();

    // Unknown next hop, at the guard and at the second hop (passed back unchanged).
    for at in [1, 2] {
        let mut bad = path.clone();
        bad[at].ed25519 = [0xe0 + at as u8; 32];
        let expected = format!("Next node not found: {}", hex::encode([0xe0 + at as u8; 32]));
        cases.push(("unknown next hop", valid(&mut rng, &bad), 502, expected));
    }
    // Too many hops: a starting hop number above 15 at the guard, and one that passes 15 on the way.
    let (blob, mut json) = onion::split_frame(&valid(&mut rng, &path)).map(|(b, j)| (b.to_vec(), j)).unwrap();
    json.insert("hop_no".into(), json!(16));
    let too_many = "onion request max path length exceeded".to_owned();
    cases.push(("hop_no 16", onion::frame(&blob, &Value::Object(json.clone())), 400, too_many.clone()));
    let long: Vec<NodeKeys> = (0..14).map(|i| others[i % others.len()]).collect();
    let (blob, mut json) = onion::split_frame(&valid(&mut rng, &long)).map(|(b, j)| (b.to_vec(), j)).unwrap();
    json.insert("hop_no".into(), json!(2));
    cases.push(("14 hops from hop 2", onion::frame(&blob, &Value::Object(json)), 400, too_many));
    // Truncated: inside the length, inside the ciphertext, inside the JSON trailer.
    let whole = valid(&mut rng, &path);
    let declared = u32::from_le_bytes(whole[..4].try_into().unwrap());
    cases.push((
        "3 bytes",
        whole[..3].to_vec(),
        400,
        "Error parsing onion request: Unexpected payload size; expected ciphertext size".into(),
    ));
    cases.push((
        "cut in the ciphertext",
        whole[..100].to_vec(),
        400,
        format!("Error parsing onion request: Unexpected payload size 96, expected >= {declared}"),
    ));
    // Garbage: random bytes (their first four read as a length far past the end), and a
    // ciphertext with one byte changed.
    let mut garbage = vec![0u8; 300];
    rng.fill_bytes(&mut garbage);
    garbage[3] |= 0x80;
    let claimed = u32::from_le_bytes(garbage[..4].try_into().unwrap());
    let expected = format!("Error parsing onion request: Unexpected payload size 296, expected >= {claimed}");
    cases.push(("random bytes", garbage, 400, expected));
    let mut flipped = valid(&mut rng, &path);
    flipped[40] ^= 0x01;
    cases.push(("changed ciphertext", flipped, 400, "Invalid ciphertext".into()));
    // Over 10 MiB.
    cases.push(("oversized", vec![0u8; 10 * 1024 * 1024 + 1], 413, "Request body too large".into()));

    for (i, (what, body, status, text)) in cases.into_iter().enumerate() {
        assert_eq!(onion_post(port, body).await, (status, text), "{what}");
        onion_store_and_retrieve(&devnet, guard_index, &bob, format!("after {what} ({i})").as_bytes()).await;
    }
    // The JSON trailer cut short: the parse error's position depends on the cut.
    let whole = valid(&mut rng, &path);
    let (status, text) = onion_post(port, whole[..whole.len() - 2].to_vec()).await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("Error parsing onion request: [json.exception.parse_error.101] parse error at line 1"),
        "{text}"
    );
    onion_store_and_retrieve(&devnet, guard_index, &bob, b"after a cut trailer").await;
    devnet.shutdown();
}

/// The relay's node list follows its seed without a restart: a node that leaves the seed's list
/// (stopped, so no longer active) is refused; when it is listed again it is forwarded to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_follows_its_seeds_node_list() {
    let dir = test_dir("relay-refresh");
    let mut cfg = config(&dir);
    cfg.relay_refresh = Duration::from_millis(200);
    let mut devnet = Devnet::start(cfg).await.unwrap();
    let http = reqwest::Client::new();
    let listed = |devnet: &Devnet| {
        let (http, url) = (http.clone(), format!("{}/v1/nodes", devnet.app_url));
        async move {
            let nodes: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            nodes["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["pubkey_ed25519"].as_str().unwrap().to_owned())
                .collect::<HashSet<_>>()
        }
    };
    let bob = Identity::from_ed25519_seed(&[26; 32]);
    let pk = bob.session_id();
    let dest = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).next().unwrap().clone();
    let index = devnet.network.nodes().iter().position(|n| n.info.ed25519 != dest.info.ed25519).unwrap();
    let guard = devnet.network.nodes()[index].clone();
    let others: Vec<NodeKeys> = devnet
        .network
        .nodes()
        .iter()
        .filter(|n| n.info.ed25519 != dest.info.ed25519 && n.info.ed25519 != guard.info.ed25519)
        .take(2)
        .map(|n| node_keys(n))
        .collect();
    let path = [node_keys(&guard), others[0], others[1]];
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let app_url = devnet.app_url.clone();
    let mut send = || {
        let body = store(&pk, b"through a listed guard").to_string();
        let req =
            onion::build(&mut rng, &path, &Destination::Node(node_keys(&dest)), body.as_bytes(), EncType::XChaCha20)
                .unwrap();
        let url = format!("{app_url}/v1/onion/{}", hex::encode(guard.info.ed25519));
        let http = http.clone();
        async move {
            let r =
                http.post(url).header("content-type", "application/octet-stream").body(req.body).send().await.unwrap();
            let status = r.status().as_u16();
            let bytes = r.bytes().await.unwrap();
            (status, onion::unwrap_node_reply(&req.reply_key, &bytes).map(|reply| reply.status).ok())
        }
    };
    let guard_hex = hex::encode(guard.info.ed25519);
    assert!(listed(&devnet).await.contains(&guard_hex));
    assert_eq!(send().await, (200, Some(200)));

    devnet.stop_node(index);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while listed(&devnet).await.contains(&guard_hex) {
        assert!(std::time::Instant::now() < deadline, "the relay never dropped the node");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listed(&devnet).await.len(), 7);
    assert_eq!(send().await, (404, None), "a node the seed no longer lists is refused");

    devnet.start_node(index).await.unwrap();
    while !listed(&devnet).await.contains(&guard_hex) {
        assert!(std::time::Instant::now() < deadline, "the relay never took the node back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(send().await, (200, Some(200)), "a node the seed lists again is forwarded to");
    devnet.shutdown();
}

/// CORS: the relay allows its own origin and the configured ones, no other; an allowed origin that
/// is not exactly `scheme://host[:port]` stops the relay from starting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_allows_exactly_the_configured_origins() {
    let dir = test_dir("origins");
    let mut cfg = config(&dir);
    cfg.allowed_origins = vec!["https://hush.example".into()];
    let mut devnet = Devnet::start(cfg.clone()).await.unwrap();
    let preflight = |origin: &str| {
        let (url, origin) = (format!("{}/v1/onion/{}", devnet.app_url, "00".repeat(32)), origin.to_owned());
        async move {
            let r = reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, url)
                .header("origin", &origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .unwrap();
            r.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
        }
    };
    assert_eq!(preflight("https://hush.example").await.as_deref(), Some("https://hush.example"));
    assert_eq!(preflight(&devnet.app_url).await.as_deref(), Some(devnet.app_url.as_str()));
    assert_eq!(preflight("https://elsewhere.example").await, None);
    assert_eq!(preflight("http://hush.example").await, None);
    devnet.shutdown();

    for bad in [
        "https://hush.example/",
        "hush.example",
        "https://hush.example/app",
        "ftp://hush.example",
        "https://Hush.example",
    ] {
        let dir = test_dir("bad-origin");
        let mut cfg = config(&dir);
        cfg.allowed_origins = vec![bad.into()];
        let error = Devnet::start(cfg).await.unwrap_err().to_string();
        assert!(error.contains("is not an origin"), "{bad}: {error}");
    }
}

/// `POST /devnet/stop_node/{i}` exists only on the devnet's seed port (bound to loopback here); the
/// relay and the nodes do not serve it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_devnet_seed_serves_the_stop_node_control() {
    let dir = test_dir("control");
    let mut devnet = Devnet::start(config(&dir)).await.unwrap();
    let http = reqwest::Client::new();
    let port = devnet.network.nodes()[2].info.port;
    let r = client().post(format!("https://127.0.0.1:{port}/devnet/stop_node/2")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "not on a node's port");
    let r = http.post(format!("{}/devnet/stop_node/2", devnet.app_url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "not on the relay");
    assert!(devnet.network.nodes()[2].is_up());
    let control = devnet.seed_url.replace("/json_rpc", "/devnet/stop_node/2");
    assert_eq!(http.post(&control).send().await.unwrap().status().as_u16(), 200);
    assert!(!devnet.network.nodes()[2].is_up());
    assert!(rpc_fails(port).await);
    let past_the_end = devnet.seed_url.replace("/json_rpc", "/devnet/stop_node/8");
    assert_eq!(http.post(&past_the_end).send().await.unwrap().status().as_u16(), 404);
    devnet.shutdown();
}
