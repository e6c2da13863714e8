//! Figures for account sync (issue 14, BENCHMARKS.md "Account sync").
//!
//! Two modes:
//! - `seed <devnet-dir> <phrase> <name> <contacts>`: puts into the swarm of the account of
//!   `phrase` (`-`: a new one, printed), on a running devnet (its folder holds `devnet.json`), a UserProfile config holding
//!   `name` and, unless `contacts` is 0, a Contacts config holding that many contacts (names, one in
//!   a hundred with a nickname, one in fifty blocked, the others approved): signed stores into
//!   namespaces 2 and 3, as another client of the account stores them. Prints their sizes as one
//!   JSON line. `bench/restore.mjs` uses it before timing a restore in Chromium.
//! - `rename [contacts…]` (default `0 1000`): on a devnet of its own, for an account holding each
//!   number of contacts, restores it in a native engine whose transport counts what it posts,
//!   renames once and pushes (`Engine::sync_configs`): the onion requests' bytes to the relay, the
//!   `sequence` request's JSON body (rebuilt from what the swarm stored: the same fields of the
//!   same lengths), the UserProfile blob stored. The reference, in the same run: one short 1:1
//!   text message sent by the engine (its store, and the sync copy to the account's own swarm).
//!
//! Run: `cargo run --release -p hush-client --features native --example account_sync -- rename`

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_core::config::user::contacts::Contact;
use crypto_core::config::{ConfigKind, UserConfig};
use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::mnemonic;
use crypto_core::network::anchors::Anchors;
use crypto_core::storage::{Namespace, requests};
use crypto_core::vault::KdfParams;
use hush_client::Engine;
use hush_client::platform::native::{Https, SqliteBackend, SystemClock};
use hush_client::platform::{Platform, Progress, Reply, Transport, TransportError, World};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

const PASSPHRASE: &str = "a passphrase for the bench";

/// HTTPS that logs the size of every body it posts, with when it was posted.
#[derive(Debug)]
struct Counting {
    inner: Https,
    posted: Rc<RefCell<Vec<(Instant, usize)>>>,
}

impl Transport for Counting {
    async fn get(&self, url: &str, deadline: Duration) -> Result<Reply, TransportError> {
        self.inner.get(url, deadline).await
    }

    async fn post(&self, url: &str, body: Vec<u8>, deadline: Duration) -> Result<Reply, TransportError> {
        self.posted.borrow_mut().push((Instant::now(), body.len()));
        self.inner.post(url, body, deadline).await
    }

    async fn post_observed(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: Progress<'_>,
    ) -> Result<Reply, TransportError> {
        self.posted.borrow_mut().push((Instant::now(), body.len()));
        self.inner.post_observed(url, body, deadline, progress).await
    }
}

struct Counted;

impl Platform for Counted {
    type Transport = Counting;
    type Clock = SystemClock;
    type Backend = SqliteBackend;
}

type Posted = Rc<RefCell<Vec<(Instant, usize)>>>;

/// An engine on the devnet of `dir` whose posts are logged; no account yet.
fn engine(dir: &std::path::Path) -> (Engine<Counted>, Posted) {
    let posted = Posted::default();
    let transport = Counting { inner: Https::new(), posted: posted.clone() };
    let engine = Engine::new(
        World { transport, clock: SystemClock, secure_page: false },
        SqliteBackend::in_memory().expect("a memory vault"),
    );
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    let json = std::fs::read(dir.join("devnet.json")).expect("the devnet wrote devnet.json");
    engine.set_anchors(Anchors::parse(&json).expect("devnet.json lists the nodes"));
    (engine, posted)
}

fn devnet_json(dir: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("devnet.json")).expect("devnet.json")).expect("JSON")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client")
}

/// Posts `body` to the storage RPC of the devnet node `node` (from devnet.json).
async fn rpc(node: &Value, body: &Value) -> Result<(u16, String), reqwest::Error> {
    let url = format!("https://{}:{}/storage_rpc/v1", node["public_ip"].as_str().unwrap(), node["storage_port"]);
    let reply = http().post(url).body(body.to_string()).send().await?;
    Ok((reply.status().as_u16(), reply.text().await?))
}

/// Stores `data` into `namespace` of `owner`'s swarm, signed by it, with the configs' TTL.
async fn store_signed(dir: &std::path::Path, owner: &Identity, namespace: i16, data: &[u8]) {
    let info = devnet_json(dir);
    let nodes = info["nodes"].as_array().expect("nodes");
    let id = owner.session_id();
    let ask = json!({ "method": "get_swarm", "params": { "pubkey": id.to_string() } });
    let mut ports = Vec::new();
    for node in nodes {
        if let Ok((200, body)) = rpc(node, &ask).await {
            let swarm: Value = serde_json::from_str(&body).expect("get_swarm's JSON");
            ports = swarm["snodes"]
                .as_array()
                .expect("snodes")
                .iter()
                .filter_map(|s| {
                    s["port_https"].as_str().and_then(|p| p.parse::<u64>().ok()).or(s["port_https"].as_u64())
                })
                .collect();
            break;
        }
    }
    let body = requests::store(
        &id,
        Namespace(namespace),
        &STANDARD.encode(data),
        now_ms(),
        hush_client::CONFIG_TTL_MS,
        Some(owner),
    );
    for node in nodes.iter().filter(|n| n["storage_port"].as_u64().is_some_and(|p| ports.contains(&p))) {
        if let Ok((200, _)) = rpc(node, &body).await {
            return;
        }
    }
    panic!("no member of the swarm took the config");
}

/// The Contacts config of `count` contacts, as the bench's accounts hold it.
fn contacts_config(count: usize, now_s: i64) -> UserConfig {
    let mut config = UserConfig::new(ConfigKind::Contacts).expect("a Contacts config");
    let mut contacts = config.contacts_mut();
    for i in 0..count {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        let mut c = Contact::new(Identity::from_ed25519_seed(&seed).session_id());
        c.name = format!("Contact {:04} {}", i + 1, ["Ada", "Grace", "Alan", "Edsger", "Barbara"][i % 5]);
        if i % 100 == 3 {
            c.nickname = format!("Nick {}", i + 1);
        }
        c.blocked = i % 50 == 7;
        c.approved = !c.blocked;
        c.approved_me = !c.blocked;
        c.created = now_s;
        contacts.set(&c).expect("a valid contact");
    }
    config
}

/// Stores a profile named `name` and `count` contacts for `identity`; returns (profile bytes,
/// contacts parts' bytes).
async fn seed_configs(dir: &std::path::Path, identity: &Identity, name: &str, count: usize) -> (usize, Vec<usize>) {
    let now = now_ms();
    let mut profile = UserConfig::new(ConfigKind::UserProfile).expect("a UserProfile config");
    profile.profile_mut().set_name(name, Some((now / 1000) as i64)).expect("a valid name");
    let push = profile.push(identity, now).expect("pushed").expect("something to push");
    for blob in &push.blobs {
        store_signed(dir, identity, ConfigKind::UserProfile.namespace(), blob).await;
    }
    let profile_bytes = push.blobs.iter().map(Vec::len).sum();
    let mut parts = Vec::new();
    if count > 0 {
        let mut contacts = contacts_config(count, (now / 1000) as i64);
        let push = contacts.push(identity, now).expect("pushed").expect("something to push");
        for blob in &push.blobs {
            store_signed(dir, identity, ConfigKind::Contacts.namespace(), blob).await;
            parts.push(blob.len());
        }
    }
    (profile_bytes, parts)
}

/// What the members of `owner`'s swarm hold in `namespace` (the first member): (hash, data).
fn held(devnet: &Devnet, owner: &SessionId, namespace: i16) -> Vec<(String, Vec<u8>)> {
    let network = &devnet.network;
    let swarm = network.swarm_of(owner).expect("a swarm");
    let node = network.nodes().iter().find(|n| n.info.swarm_id == swarm).expect("a member");
    let (stored, _) =
        node.store().retrieve(&owner.to_bytes(), namespace, None, now_ms(), 1000, 100_000_000).expect("retrieved");
    stored.into_iter().map(|m| (m.hash, m.data)).collect()
}

fn total(posted: &Posted, from: usize) -> (usize, usize) {
    let p = posted.borrow();
    (p.len() - from, p[from..].iter().map(|(_, n)| n).sum())
}

async fn rename(devnet: &Devnet, dir: &std::path::Path, count: usize) {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let seed = Seed::from_bytes(bytes);
    let identity = Identity::from_seed(&seed);
    let me = identity.session_id();
    let (_, parts) = seed_configs(dir, &identity, "Alice", count).await;
    let (alice, posted) = engine(dir);
    alice.create(&seed, "", PASSPHRASE).await.expect("created");
    alice.set_relay(&devnet.app_url).await.expect("the devnet's relay");
    let restored = alice.pull_configs().await.expect("pulled");
    assert_eq!((restored.display_name.as_deref(), restored.contacts), (Some("Alice"), count));
    // Settle: whatever the restore left to push is pushed, paths and swarm are known.
    alice.sync_configs().await.expect("synced");
    alice.sync_configs().await.expect("synced");
    // The pull alone (what sync_configs does first), then the rename's pull and push.
    let before = posted.borrow().len();
    alice.pull_configs().await.expect("pulled");
    let pull = total(&posted, before);
    let old: Vec<String> = held(devnet, &me, 2).into_iter().map(|(h, _)| h).collect();
    alice.update_account(|a| a.display_name = "Alice Liddell".into()).await.expect("renamed");
    let before = posted.borrow().len();
    assert!(alice.sync_configs().await.expect("pushed"), "the rename is pushed");
    let sync = total(&posted, before);
    let sizes: Vec<usize> = posted.borrow()[before..].iter().map(|(_, n)| *n).collect();
    let stored = held(devnet, &me, 2);
    let (_, blob) = stored.iter().find(|(h, _)| !old.contains(h)).expect("the new profile");
    let now = now_ms();
    let body = json!({ "method": "sequence", "params": { "requests": [
        requests::store(&me, Namespace(2), &STANDARD.encode(blob), now, hush_client::CONFIG_TTL_MS, Some(&identity)),
        requests::delete(&identity, &old),
    ] } });
    println!(
        "| rename, {count} contacts (Contacts config {} B in {} part(s)) | {} | {} | {} (pull + push: {} requests, {} B; the pull alone: {} requests, {} B; sizes {:?}) |",
        parts.iter().sum::<usize>(),
        parts.len(),
        blob.len(),
        body.to_string().len(),
        sizes.iter().skip(pull.0).sum::<usize>(),
        sync.0,
        sync.1,
        pull.0,
        pull.1,
        sizes,
    );
}

/// The reference: one short text message, sent by the engine's outbox (its poll running).
async fn message(devnet: &Devnet, dir: &std::path::Path) {
    let (alice, posted) = engine(dir);
    alice.create(&Seed::generate(&mut OsRng), "Alice", PASSPHRASE).await.expect("created");
    alice.set_relay(&devnet.app_url).await.expect("the devnet's relay");
    let bob_identity = Identity::from_seed(&Seed::generate(&mut OsRng));
    let bob = bob_identity.session_id();
    let background = alice.clone();
    tokio::task::spawn_local(async move { background.run().await });
    // A first message: paths built, the configs pushed, the polls going.
    alice.send(&bob, "warm-up").await.expect("kept");
    tokio::time::sleep(Duration::from_secs(8)).await;
    // Send right after a poll: the window then holds the message's requests alone.
    let n = posted.borrow().len();
    while posted.borrow().len() == n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = posted.borrow().len();
    let text = "See you at eight?";
    let sent = alice.send(&bob, text).await.expect("kept");
    let start = Instant::now();
    loop {
        let (messages, _) = alice.history(&bob, 5).await.expect("history");
        if messages.iter().any(|m| m.id == sent.id && m.status == hush_client::conversations::Status::Sent) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the message was not sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sizes: Vec<usize> = posted.borrow()[before..].iter().map(|(_, n)| *n).collect();
    let stored = held(devnet, &bob, 0);
    let data = STANDARD.encode(&stored.last().expect("the message").1);
    let body = requests::store(&bob, Namespace(0), &data, now_ms(), crypto_core::message::DEFAULT_TTL_MS, None);
    println!(
        "| reference: one text message ({} characters) | {} (data) | {} (its store) | {} ({} requests until it was sent, sizes {:?}: its store and the sync copy to the account's swarm) |",
        text.len(),
        stored.last().expect("the message").1.len(),
        body.to_string().len(),
        sizes.iter().sum::<usize>(),
        sizes.len(),
        sizes,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async move {
        match args.first().map(String::as_str) {
            Some("seed") => {
                let [_, dir, phrase, name, count] = &args[..] else {
                    panic!("usage: account_sync seed <devnet-dir> <phrase> <name> <contacts>")
                };
                let dir = std::path::Path::new(dir);
                // "-": a new account, its phrase printed.
                let seed = if phrase == "-" {
                    Seed::generate(&mut OsRng)
                } else {
                    mnemonic::decode_seed(phrase).expect("a recovery phrase")
                };
                let identity = Identity::from_seed(&seed);
                let count: usize = count.parse().expect("a number of contacts");
                let (profile, parts) = seed_configs(dir, &identity, name, count).await;
                println!(
                    "{}",
                    json!({ "session_id": identity.session_id().to_string(), "profile_bytes": profile,
                        "phrase": mnemonic::encode_seed(&seed).as_str(),
                        "contacts_parts": parts, "contacts_bytes": parts.iter().sum::<usize>() })
                );
            }
            _ => {
                let counts: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
                let counts = if counts.is_empty() { vec![0, 1000] } else { counts };
                let dir = std::env::temp_dir().join(format!("hush-account-sync-{}", std::process::id()));
                let mut config = DevnetConfig::on_free_ports(dir.clone());
                config.nodes = 6;
                config.swarm_size = 3;
                let devnet = Devnet::start(config).await.expect("the devnet starts");
                println!("| push | UserProfile blob stored (B) | `sequence` JSON body (B) | onion request(s) of the push, to the relay (B) |");
                println!("|---|---|---|---|");
                for count in counts {
                    rename(&devnet, &dir, count).await;
                }
                message(&devnet, &dir).await;
                drop(devnet);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }));
}
