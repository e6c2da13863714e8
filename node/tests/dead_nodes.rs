//! Dead nodes that are still listed, as on the real network: the onion hop before one waits the
//! request timeout and answers 504 `Request time out`, and a `store` into its swarm waits for it
//! before replying. The devnet runs with short timeouts here; the real ones are 30 s and 5 s.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::onion::{self, Destination, EncType, LayerKey, NodeKeys};
use crypto_core::storage::{Namespace, requests};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::network::{Node, Timeouts};
use hush_node::server::now_ms;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use tempfile::TempDir;

const HOP: Duration = Duration::from_millis(2000);
const PEER: Duration = Duration::from_millis(1000);

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-dead-test-{name}-")).tempdir().expect("a temporary folder")
}

async fn devnet(dir: &TempDir) -> Devnet {
    let mut c = DevnetConfig::on_free_ports(dir.path().to_path_buf());
    c.nodes = 8;
    c.timeouts = Timeouts { hop: HOP, peer: PEER };
    Devnet::start(c).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(20)).build().unwrap()
}

fn keys(n: &Node) -> NodeKeys {
    NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 }
}

fn index_of(devnet: &Devnet, node: &Node) -> usize {
    devnet.network.nodes().iter().position(|n| n.info.ed25519 == node.info.ed25519).unwrap()
}

/// The Ed25519 keys (hex) the seed lists with `active_only`, as the relay asks.
async fn listed_by_seed(devnet: &Devnet) -> Vec<String> {
    let q = json!({"jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes",
        "params": {"active_only": true, "fields": {"pubkey_ed25519": true, "active": true}}});
    let body: Value = client().post(&devnet.seed_url).json(&q).send().await.unwrap().json().await.unwrap();
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert!(states.iter().all(|s| s["active"] == true));
    states.iter().map(|s| s["pubkey_ed25519"].as_str().unwrap().to_owned()).collect()
}

/// The Ed25519 keys (hex) the relay's `/v1/nodes` lists.
async fn listed_by_relay(devnet: &Devnet) -> Vec<String> {
    let body: Value = client().get(format!("{}/v1/nodes", devnet.app_url)).send().await.unwrap().json().await.unwrap();
    body["nodes"].as_array().unwrap().iter().map(|n| n["pubkey_ed25519"].as_str().unwrap().to_owned()).collect()
}

/// Sends `request` through the relay along `path` to `dest`; returns the guard's status, its body
/// (the sealed reply or a plain error) and how long it took.
async fn through_relay(
    devnet: &Devnet,
    rng: &mut ChaCha20Rng,
    path: &[NodeKeys],
    dest: &Node,
    request: &Value,
) -> (u16, Vec<u8>, Duration, LayerKey) {
    let body = request.to_string();
    let req = onion::build(rng, path, &Destination::Node(keys(dest)), body.as_bytes(), EncType::XChaCha20).unwrap();
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(req.guard));
    let started = Instant::now();
    let response =
        client().post(url).header("content-type", "application/octet-stream").body(req.body).send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap().to_vec();
    (status, bytes, started.elapsed(), req.reply_key)
}

fn store(pk: &SessionId, data: &[u8]) -> Value {
    requests::store(pk, Namespace::DEFAULT, &STANDARD.encode(data), now_ms(), 3_600_000, None)
}

/// A node killed with `stop_node/{i}?listed=1` stays listed by the seed (with `active_only`) and
/// so by the relay; the hop before it, wherever it is on the path, waits the hop timeout once and
/// answers 504 `Request time out`, which the relay passes back. A node stopped the old way leaves
/// the list and the hop before it answers at once; a killed node that starts again serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hop_before_a_dead_but_listed_node_answers_504_after_the_timeout() {
    let dir = test_dir("hop");
    let mut devnet = devnet(&dir).await;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let bob = Identity::from_ed25519_seed(&[51; 32]);
    let pk = bob.session_id();
    let dest = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).next().unwrap().clone();
    let others: Vec<_> =
        devnet.network.nodes().iter().filter(|n| n.info.ed25519 != dest.info.ed25519).cloned().collect();
    let (guard, middle, dead) = (&others[0], &others[1], &others[2]);
    let dead_index = index_of(&devnet, dead);
    let dead_key = hex::encode(dead.info.ed25519);

    // Killed through the devnet's control route, it stays listed.
    let control = devnet.seed_url.replace("/json_rpc", &format!("/devnet/stop_node/{dead_index}?listed=1"));
    assert_eq!(client().post(&control).send().await.unwrap().status().as_u16(), 200);
    assert!(!dead.is_up());
    assert!(dead.is_listed());
    assert!(listed_by_seed(&devnet).await.contains(&dead_key));
    devnet.relay.refresh().await.unwrap();
    assert!(listed_by_relay(&devnet).await.contains(&dead_key));
    let bad = devnet.seed_url.replace("/json_rpc", &format!("/devnet/stop_node/{dead_index}?listed=maybe"));
    assert_eq!(client().post(&bad).send().await.unwrap().status().as_u16(), 400);

    // The dead node second on the path (the guard waits), then third (the middle hop waits): one
    // hop timeout either way, then 504 with the real node's words, in plain text.
    for path in [vec![keys(guard), keys(dead), keys(middle)], vec![keys(guard), keys(middle), keys(dead)]] {
        let (status, body, took, _) = through_relay(&devnet, &mut rng, &path, &dest, &store(&pk, b"x")).await;
        assert_eq!((status, String::from_utf8_lossy(&body).as_ref()), (504, "Request time out"));
        assert!(took >= HOP, "answered after {took:?}, before the hop timeout");
        assert!(took < HOP + Duration::from_millis(1000), "answered after {took:?}: one hop timeout, not two");
    }
    // The dead node as the destination: the hop before it is the last relay.
    let path = [keys(guard), keys(middle)];
    let (status, body, took, _) = through_relay(&devnet, &mut rng, &path, dead, &store(&pk, b"x")).await;
    assert_eq!((status, body.as_slice()), (504, b"Request time out".as_slice()));
    assert!(took >= HOP);

    // A live path still answers at once.
    let path = [keys(guard), keys(middle)];
    let (status, body, took, reply_key) = through_relay(&devnet, &mut rng, &path, &dest, &store(&pk, b"y")).await;
    assert_eq!(status, 200);
    assert_eq!(onion::unwrap_node_reply(&reply_key, &body).unwrap().status, 200);
    assert!(took < HOP, "{took:?}");

    // Stopped the old way, a node leaves the list and the hop before it answers at once.
    let stopped = &others[3];
    devnet.stop_node(index_of(&devnet, stopped));
    assert!(!listed_by_seed(&devnet).await.contains(&hex::encode(stopped.info.ed25519)));
    let path = [keys(guard), keys(stopped)];
    let (status, _, took, _) = through_relay(&devnet, &mut rng, &path, &dest, &store(&pk, b"z")).await;
    assert_eq!(status, 504);
    assert!(took < HOP, "{took:?}");

    // Started again, the killed node serves and is an ordinary hop.
    devnet.start_node(dead_index).await.unwrap();
    assert!(dead.is_up());
    let path = [keys(guard), keys(dead)];
    let (status, body, took, reply_key) = through_relay(&devnet, &mut rng, &path, &dest, &store(&pk, b"w")).await;
    assert_eq!(status, 200);
    assert_eq!(onion::unwrap_node_reply(&reply_key, &body).unwrap().status, 200);
    assert!(took < HOP, "{took:?}");
    devnet.shutdown();
}

async fn rpc(port: u16, body: &Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response =
        client().post(format!("https://127.0.0.1:{port}/storage_rpc/v1")).body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), started.elapsed())
}

/// A `store` into a swarm with a member that is dead but listed replies once the peer timeout has
/// run out (once, however many members are dead: the real node asks them in parallel), with the
/// dead members as `{"failed": true, "timeout": true}`, and the message is on every live member.
/// Through an onion path it is the same. A `sequence` waits once per store; a `batch` once. A
/// member stopped the old way (no longer listed) costs no wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_waits_for_dead_members_and_stores_on_the_live_ones() {
    let dir = test_dir("store");
    let mut devnet = devnet(&dir).await;
    let bob = Identity::from_ed25519_seed(&[52; 32]);
    let pk = bob.session_id();
    let members: Vec<_> = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).cloned().collect();
    assert!(members.len() >= 3, "{} members", members.len());
    let (entry, dead, live) = (&members[0], &members[1], &members[2]);
    let dead_key = hex::encode(dead.info.ed25519);
    devnet.kill_node(index_of(&devnet, dead));

    let (status, body, took) = rpc(entry.info.port, &store(&pk, b"while one is dead")).await;
    assert_eq!(status, 200, "{body}");
    assert!(took >= PEER, "replied after {took:?}, before the peer timeout");
    assert!(took < PEER * 2, "{took:?}");
    assert_eq!(body["swarm"][&dead_key], json!({"failed": true, "timeout": true}));
    let hash = body["hash"].as_str().unwrap().to_owned();
    for member in &members {
        let key = hex::encode(member.info.ed25519);
        if member.is_up() {
            assert_eq!(body["swarm"][&key]["hash"], hash, "{key}");
        }
    }
    let (status, got, took) = rpc(live.info.port, &requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None)).await;
    assert_eq!(status, 200);
    assert_eq!(got["messages"][0]["data"], STANDARD.encode(b"while one is dead"));
    assert!(took < PEER, "a retrieve does not wait: {took:?}");

    // Two dead members: still one wait.
    let second = &members[members.len() - 1];
    devnet.kill_node(index_of(&devnet, second));
    let (status, body, took) = rpc(entry.info.port, &store(&pk, b"two dead")).await;
    assert_eq!(status, 200, "{body}");
    assert!(took >= PEER && took < PEER * 2, "{took:?}");
    assert_eq!(body["swarm"][hex::encode(second.info.ed25519)]["timeout"], true);

    // A sequence of two stores waits twice, a batch of two once.
    let two =
        |method: &str| json!({"method": method, "params": {"requests": [store(&pk, b"one"), store(&pk, b"two")]}});
    let (status, body, took) = rpc(entry.info.port, &two("sequence")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][1]["body"]["swarm"][&dead_key]["failed"], true, "{body}");
    assert!(took >= PEER * 2, "{took:?}");
    let (status, body, took) = rpc(entry.info.port, &two("batch")).await;
    assert_eq!(status, 200, "{body}");
    assert!(took >= PEER && took < PEER * 2, "{took:?}");

    // Through an onion path: the same wait, inside the hop timeout.
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let path: Vec<NodeKeys> = devnet
        .network
        .nodes()
        .iter()
        .filter(|n| n.info.swarm_id != entry.info.swarm_id)
        .take(2)
        .map(|n| keys(n))
        .collect();
    let (status, sealed, took, reply_key) = through_relay(&devnet, &mut rng, &path, entry, &store(&pk, b"onion")).await;
    assert_eq!(status, 200);
    let reply = onion::unwrap_node_reply(&reply_key, &sealed).unwrap();
    assert_eq!(reply.status, 200);
    let reply: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(reply["swarm"][&dead_key]["timeout"], true);
    assert!(took >= PEER && took < HOP, "{took:?}");

    // Stopped the old way (no longer listed), the members cost no wait.
    devnet.stop_node(index_of(&devnet, dead));
    devnet.stop_node(index_of(&devnet, second));
    let (status, body, took) = rpc(entry.info.port, &store(&pk, b"unlisted")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["swarm"][&dead_key]["failed"], true);
    assert!(took < PEER, "{took:?}");
    devnet.shutdown();
}
