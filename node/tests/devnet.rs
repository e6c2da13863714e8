//! A real devnet on loopback: HTTPS nodes, the seed and the relay, on ephemeral ports.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::storage::{Namespace, requests};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hush-devnet-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(name: &str) -> DevnetConfig {
    let mut c = DevnetConfig::new(data_dir(name));
    c.nodes = 8;
    c.base_port = 0;
    c.seed_port = 0;
    c.app_port = 0;
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
    let mut devnet = Devnet::start(config("a")).await.unwrap();
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
    devnet.start_node(members[0].0).await.unwrap();
    let (status, body) = rpc(members[0].1, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "it kept what it had before it stopped");
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
    let cfg = config("b");
    let bob = Identity::from_ed25519_seed(&[22; 32]);
    let pk = bob.session_id();
    let (keys, port) = {
        let mut devnet = Devnet::start(cfg.clone()).await.unwrap();
        let keys: Vec<[u8; 32]> = devnet.network.nodes().iter().map(|n| n.info.ed25519).collect();
        let port = swarm_ports(&devnet, &pk, true)[0].1;
        assert_eq!(rpc(port, &store(&pk, b"persisted")).await.0, 200);
        let info: Value = serde_json::from_slice(&std::fs::read(cfg.data.join("devnet.json")).unwrap()).unwrap();
        assert_eq!(info["nodes"].as_array().unwrap().len(), 8);
        assert_eq!(info["seed_url"], devnet.seed_url.as_str());
        devnet.shutdown();
        (keys, port)
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
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_forwards_onion_requests_and_refuses_everything_else() {
    let mut devnet = Devnet::start(config("c")).await.unwrap();
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
        let http = http.clone();
        async move {
            let r = http.post(url).header("origin", "http://127.0.0.1:1").body(body).send().await.unwrap();
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
    let r = http.post(format!("{}/v1/onion/zz", devnet.app_url)).body("x").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Garbage reaches the guard, which answers as a real node would; the relay passes it back.
    let (status, text) = send(b"garbage".to_vec(), path[0].ed25519).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&text).starts_with("Error parsing onion request"));
    // Over 10 MiB.
    let (status, _) = send(vec![0u8; 10 * 1024 * 1024 + 1], path[0].ed25519).await;
    assert_eq!(status, 413);
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
    assert!(devnet.relay.counters.forwarded.load(std::sync::atomic::Ordering::Relaxed) >= 3);
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_rate_limits_per_client() {
    let mut cfg = config("d");
    cfg.rate_per_minute = 5;
    let mut devnet = Devnet::start(cfg).await.unwrap();
    let guard = devnet.network.nodes()[0].info.ed25519;
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(guard));
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(reqwest::Client::new().post(&url).body("x").send().await.unwrap().status().as_u16());
    }
    assert_eq!(&statuses[..5], &[400; 5]);
    assert_eq!(&statuses[5..], &[429, 429]);
    devnet.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_client_trusts_exactly_the_pinned_certificate() {
    let cfg = config("e");
    let mut devnet = Devnet::start(cfg.clone()).await.unwrap();
    let node = &devnet.network.nodes()[0];
    let pem = std::fs::read(cfg.data.join("node-00").join("cert.pem")).unwrap();
    let pin = hush_node::tls::pem_fingerprint(&pem).unwrap();
    let url = format!("https://127.0.0.1:{}/storage_rpc/v1", node.info.port);
    let good = hush_node::tls::pinned_client(vec![pin], Duration::from_secs(5)).unwrap();
    assert_eq!(good.post(&url).body(r#"{"method":"info","params":{}}"#).send().await.unwrap().status().as_u16(), 200);
    let wrong = hush_node::tls::pinned_client(vec![[0u8; 32]], Duration::from_secs(5)).unwrap();
    assert!(wrong.post(&url).body(r#"{"method":"info","params":{}}"#).send().await.is_err());
    // An ordinary client refuses the self-signed certificate.
    assert!(reqwest::Client::new().post(&url).body("{}").send().await.is_err());
    devnet.shutdown();
}

/// A v4 server behind the last hop: the node relays only to allow-listed servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_requests_reach_an_allow_listed_server() {
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

    let mut cfg = config("f");
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
    let r = http.post(&url).body(req.body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let reply = onion::unwrap_server_reply(&req.reply_key, &r.bytes().await.unwrap()).unwrap();
    assert_eq!((reply.code, reply.body.as_slice()), (200, &b"hello"[..]));

    // A server that is not allow-listed is refused by the last hop.
    let req =
        onion::build(&mut rng, &path, &Destination::Server(target(port + 1)), &payload, EncType::XChaCha20).unwrap();
    let r = http.post(&url).body(req.body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 502);
    devnet.shutdown();
}

/// Hostile inputs over real HTTPS: each gets the real server's status and the node keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_get_the_right_status_and_the_node_keeps_serving() {
    let mut devnet = Devnet::start(config("f")).await.unwrap();
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
    let mut devnet = Devnet::start(config("g")).await.unwrap();
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
    devnet.shutdown();
}
