//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_smoke.rs` (not a stable API).
//!
//! Each feeds arbitrary bytes to what a node (or the client's reading of a node list) does with
//! input from the network; none may panic. They run against a real devnet: four nodes in two
//! swarms with real SQLite stores (in memory), made once per thread and kept, with a
//! single-threaded runtime for the async handlers. Nothing here opens a socket: an onion request
//! is relayed between the devnet's nodes in-process, and a relay to a server is refused (no server
//! is allowed).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use crypto_core::identity::{IdPrefix, SessionId};
use crypto_core::network as client_network;
use crypto_core::onion::{self, EncType, LayerKey};
use crypto_core::storage::rpc;
use serde_json::{Value, json};
use tower::ServiceExt;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::network::{Network, Node, swarm_ids};
use crate::server::{self, NodeState};
use crate::store::Store;

/// Deterministic randomness for the entry points (a SplitMix64 stream), the one every crate's
/// fuzzing uses; never used outside fuzzing.
pub use crypto_core::internal::fuzz_support::FuzzRng;

/// The clock the storage RPC entry point answers with (ms since the epoch): fixed, so that an
/// input's signature and timestamp checks come out the same every time it is run.
pub const NOW: u64 = 1_750_000_000_000;

/// The Ed25519 seeds of the devnet's nodes: node `i` has `[i + 1; 32]`, in swarm `i % 2`.
pub const NODE_SEEDS: [[u8; 32]; 4] = [[1; 32], [2; 32], [3; 32], [4; 32]];

/// The X25519 secret a fuzzed onion layer is encrypted from.
const CLIENT_SECRET: [u8; 32] = [3; 32];

struct Fixture {
    state: NodeState,
    seed: Router,
    runtime: tokio::runtime::Runtime,
    /// Layer keys from [`CLIENT_SECRET`] to node 0, for each cipher.
    keys: [(EncType, LayerKey); 2],
    client_public: [u8; 32],
}

impl Fixture {
    fn new() -> Fixture {
        crate::tls::install_provider();
        let ids = swarm_ids(2);
        let nodes: Vec<Arc<Node>> = NODE_SEEDS
            .iter()
            .zip(0u16..)
            .map(|(seed, i)| {
                let store = Store::in_memory().expect("an in-memory SQLite store");
                let swarm = ids.get(usize::from(i % 2)).copied().unwrap_or_default();
                Arc::new(Node::new(seed, "127.0.0.1".into(), 30000 + i, swarm, store))
            })
            .collect();
        let node = nodes.first().cloned().expect("four nodes");
        let network = Arc::new(Network::new(nodes));
        let state = NodeState {
            network: network.clone(),
            node: node.clone(),
            proxy_allow: Arc::new(Vec::new()),
            http: reqwest::Client::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        let client = StaticSecret::from(CLIENT_SECRET);
        let client_public = PublicKey::from(&client).to_bytes();
        let key = |enc| (enc, LayerKey::for_client(&client, &client_public, &node.info.x25519, enc));
        Fixture {
            seed: crate::seed::router(network),
            state,
            runtime,
            keys: [key(EncType::XChaCha20), key(EncType::AesGcm)],
            client_public,
        }
    }

    fn network(&self) -> &Network {
        &self.state.network
    }

    /// Empties every node's store, so that each input starts from the same state.
    fn reset(&self) {
        for node in self.network().nodes() {
            let _ = node.store().sweep(u64::MAX);
        }
    }
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

/// A storage RPC body (`/storage_rpc/v1`, also the body of an onion request's final layer), as
/// node 0 receives it: a single method, a `batch` or a `sequence`, run against the devnet's
/// stores at [`NOW`]. The stores are emptied first. Returns the node's reply.
pub fn storage_rpc(data: &[u8]) -> crate::rpc::Reply {
    FIXTURE.with(|f| {
        f.reset();
        crate::rpc::handle(f.network(), &f.state.node, NOW, data)
    })
}

/// An onion request arriving at node 0 (`/onion_req/v2`): the bytes as they arrive, then the
/// same bytes (after a first byte choosing the cipher and the outer JSON) as the plaintext of a
/// layer properly encrypted to node 0, so that what the node does with a peeled layer is
/// reached — run the storage RPC and seal its reply, relay to another devnet node (which peels
/// in turn), or refuse a server it may not reach. Returns the status node 0 answered the
/// encrypted layer with.
pub fn onion_request(data: &[u8]) -> Option<u16> {
    FIXTURE.with(|f| {
        f.reset();
        let _ = f.runtime.block_on(server::process_onion(&f.state, data.to_vec()));
        let (&selector, plaintext) = data.split_first()?;
        let (enc, key) = &f.keys[usize::from(selector & 1)];
        let mut outer = json!({ "ephemeral_key": hex::encode(f.client_public), "enc_type": enc.as_str() });
        if selector & 2 != 0 {
            outer["hop_no"] = json!(selector >> 2);
        }
        let body = onion::frame(&key.encrypt(&mut FuzzRng::new(u64::from(selector)), plaintext), &outer);
        Some(f.runtime.block_on(server::process_onion(&f.state, body)).0)
    })
}

/// Node lists and swarms: the seed's `json_rpc` route given the bytes as a request (and the
/// `service_node_states` reader given them as parameters); the relay's reading of a seed's answer
/// (with and without loopback nodes allowed); the client's readers of a node list
/// and of a `get_swarm` reply or 421 body, with what it then does with the nodes they accept
/// (its pool, paths and swarm cache); and the typed `get_swarm` / `get_service_nodes` replies.
pub fn node_lists(data: &[u8]) {
    FIXTURE.with(|f| {
        let request = Request::post("/json_rpc").body(Body::from(data.to_vec()));
        if let Ok(request) = request {
            let _ = f.runtime.block_on(f.seed.clone().oneshot(request));
        }
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            let _ = f.network().service_node_states(Some(&value));
            let _ = f.network().service_node_states(value.get("params"));
        }
    });
    let _ = crate::relay::read_node_list(data, false).map(|nodes| nodes.len());
    let _ = crate::relay::read_node_list(data, true);
    let mut rng = FuzzRng::new(data.len() as u64);
    let mut net = client_network::Network::default();
    if let Ok(list) = client_network::parse_node_list(data) {
        net.set_pool(list);
        let _ = net.build_paths(&mut rng);
        let _ = net.pool_needs_fetch(NOW);
    }
    if let Ok(swarm) = client_network::parse_swarm(data) {
        let owner = SessionId::new(IdPrefix::Standard, [5; 32]);
        if let Some(first) = swarm.first().map(|n| n.ed25519) {
            net.set_swarm(owner, swarm);
            let _ = net.swarm(&owner).len();
            let _ = net.swarm_is_short(&owner);
            net.remove_from_swarm(&owner, &first);
        }
    }
    let _ = rpc::GetSwarmReply::parse(data).map(|r| r.swarm_id());
    let _ = rpc::GetServiceNodesReply::parse(data);
}

/// A file server made once per thread, in a folder of its own under the system's temporary one,
/// and the layer keys from [`CLIENT_SECRET`] to it.
struct Files {
    server: Arc<crate::files::FileServer>,
    keys: [(EncType, LayerKey); 2],
    client_public: [u8; 32],
}

thread_local! {
    static FILES: Option<Files> = {
        let dir = std::env::temp_dir().join(format!("hush-fuzz-files-{}-{:?}", std::process::id(), std::thread::current().id()));
        crate::files::FileServer::open(&dir, crate::files::FilesConfig::default()).ok().map(|server| {
            let client = StaticSecret::from(CLIENT_SECRET);
            let client_public = PublicKey::from(&client).to_bytes();
            let x25519 = server.x25519();
            let key = |enc| (enc, LayerKey::for_client(&client, &client_public, &x25519, enc));
            Files { keys: [key(EncType::XChaCha20), key(EncType::AesGcm)], server, client_public }
        })
    };
}

/// The file server (`crate::files`): after a first byte choosing how, the rest as a plain HTTP
/// request (a method, then a path and an `X-FS-TTL` value up to `0x00` bytes, then the body);
/// as the body of `POST /oxen/v4/lsrpc` as it arrives; or as the v4 request inside an onion layer
/// properly encrypted to the server, so its v4 parsing and routing are reached. Returns the status.
pub fn file_server(data: &[u8]) -> Option<u16> {
    FILES.with(|files| {
        let files = files.as_ref()?;
        let (&selector, rest) = data.split_first()?;
        let headers = crate::wsgi::Headers::new();
        match selector % 3 {
            0 => {
                let method = ["GET", "POST", "PUT", "DELETE", "OPTIONS"][usize::from(selector / 3 % 5)];
                let mut parts = rest.splitn(3, |&b| b == 0);
                let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let ttl = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let body = parts.next().unwrap_or_default();
                let mut headers = headers;
                if !ttl.is_empty() {
                    headers.insert("x-fs-ttl".into(), ttl);
                }
                Some(files.server.handle(method, &path, &headers, body).status)
            }
            1 => Some(files.server.handle("POST", "/oxen/v4/lsrpc", &headers, rest).status),
            _ => {
                let (enc, key) = &files.keys[usize::from((selector / 3) & 1)];
                let outer = json!({ "ephemeral_key": hex::encode(files.client_public), "enc_type": enc.as_str() });
                let body = onion::frame(&key.encrypt(&mut FuzzRng::new(u64::from(selector)), rest), &outer);
                Some(files.server.handle("POST", "/oxen/v4/lsrpc", &headers, &body).status)
            }
        }
    })
}

/// The community server's clock for [`community_server`] (seconds since the epoch), fixed as
/// [`NOW`] is.
pub const SOGS_NOW: f64 = 1_750_000_000.0;

/// The community server (`crate::sogs`), made fresh in memory for each input (so that an input
/// always meets the same rooms, users and nonces): a room `lobby` whose admin is the key that
/// signs below. After a first byte choosing how, the rest as a plain request (a method, then a
/// target with its query, header lines `name:value` and the body, split at `0x00` bytes); as the
/// body of `POST /oxen/v4/lsrpc` as it arrives; as the v4 request inside an onion layer properly
/// encrypted to the server; or as a request properly signed with a blinded key, so that
/// everything past authentication (every endpoint, batches) is reached. Returns the status.
pub fn community_server(data: &[u8]) -> Option<u16> {
    use crypto_core::community::{BlindedKeys, RequestKey, sign_request};
    use crypto_core::identity::Identity;
    let sogs = crate::sogs::Community::in_memory(&[9; 32], crate::sogs::SogsConfig::default()).ok()?;
    sogs.add_room("lobby", "Lobby", None).ok()?;
    let server = sogs.x25519();
    let signer = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[7; 32]), &server);
    sogs.add_moderator(&crate::sogs::Scope::Rooms(vec!["lobby".into()]), &signer.id().to_string(), true, true).ok()?;
    let (&selector, rest) = data.split_first()?;
    let method = ["GET", "POST", "PUT", "DELETE", "OPTIONS"][usize::from(selector / 4 % 5)];
    let mut parts = rest.splitn(3, |&b| b == 0);
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header_lines = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let mut headers = crate::wsgi::Headers::new();
    for line in header_lines.lines() {
        if let Some((name, value)) = line.split_once(':') {
            headers.entry(name.trim().to_ascii_lowercase()).or_insert_with(|| value.trim().to_owned());
        }
    }
    let reply = match selector % 4 {
        0 => sogs.handle_at(method, &target, &headers, body, SOGS_NOW),
        1 => sogs.handle_at("POST", "/oxen/v4/lsrpc", &headers, rest, SOGS_NOW),
        2 => {
            let client = StaticSecret::from(CLIENT_SECRET);
            let client_public = PublicKey::from(&client).to_bytes();
            let enc = if selector & 4 == 0 { EncType::XChaCha20 } else { EncType::AesGcm };
            let key = LayerKey::for_client(&client, &client_public, &server, enc);
            let outer = json!({ "ephemeral_key": hex::encode(client_public), "enc_type": enc.as_str() });
            let sealed = onion::frame(&key.encrypt(&mut FuzzRng::new(u64::from(selector)), rest), &outer);
            sogs.handle_at("POST", "/oxen/v4/lsrpc", &headers, &sealed, SOGS_NOW)
        }
        _ => {
            let mut rng = FuzzRng::new(u64::from(selector));
            let signed =
                sign_request(&mut rng, RequestKey::Blinded(&signer), &server, SOGS_NOW as u64, method, &target, body);
            for (name, value) in signed.pairs() {
                headers.insert(name.to_ascii_lowercase(), value.to_owned());
            }
            sogs.handle_at(method, &target, &headers, body, SOGS_NOW)
        }
    };
    Some(reply.status)
}
