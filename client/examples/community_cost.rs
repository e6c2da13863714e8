//! What being in 5 communities costs a client, in requests and bytes a minute, against the same
//! engine's polling of its own messages.
//!
//! Three engines on the native platform, on a 6-node devnet, all running their background work
//! at the same time for `SECONDS` (default 60):
//! - the reference: in no community (its requests are its 1:1 polling and what goes with it:
//!   swarm lookups, time checks);
//! - "1 server": in 5 rooms of the devnet's community server;
//! - "5 servers": in 5 rooms, one on each of 5 community servers (the devnet's and 4 more started
//!   here as `hush-node sogs` serves one, on loopback, which the devnet's nodes reach).
//!
//! Each engine's transport counts the requests it sends to the relay (every one an onion request)
//! and the bytes of their bodies and replies; the engine counts its community requests
//! (`Engine::community_requests`) and all its onion requests (`Engine::requests_sent`). Nobody
//! posts: this is the idle cost, the engines looking at no conversation and no room.
//!
//! Run: `cargo run --release -p hush-client --features native --example community_cost [--
//! SECONDS]`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crypto_core::identity::Seed;
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::KdfParams;
use hush_client::Engine;
use hush_client::platform::native::{Https, SqliteBackend, SystemClock};
use hush_client::platform::{Platform, Reply, Transport, TransportError, World};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::sogs::{Community, SogsConfig};
use rand_core::{OsRng, RngCore};

/// The trust anchors of the devnet whose data folder is `dir`: its own nodes.
fn anchors(dir: &std::path::Path) -> Anchors {
    let json = std::fs::read(dir.join("devnet.json")).expect("the devnet wrote devnet.json");
    Anchors::parse(&json).expect("devnet.json lists the nodes")
}

/// Requests sent and bytes of bodies sent and received.
#[derive(Default, Clone, Copy)]
struct Counts {
    requests: u64,
    sent: u64,
    received: u64,
}

/// HTTPS that counts what passes.
#[derive(Clone)]
struct Counting {
    inner: Https,
    counts: Rc<Cell<Counts>>,
}

impl Counting {
    fn count(&self, sent: usize, reply: &Result<Reply, TransportError>) {
        let mut c = self.counts.get();
        c.requests += 1;
        c.sent += sent as u64;
        if let Ok(reply) = reply {
            c.received += reply.body.len() as u64;
        }
        self.counts.set(c);
    }
}

impl Transport for Counting {
    async fn get(&self, url: &str, deadline: Duration) -> Result<Reply, TransportError> {
        let reply = self.inner.get(url, deadline).await;
        self.count(0, &reply);
        reply
    }

    async fn post(&self, url: &str, body: Vec<u8>, deadline: Duration) -> Result<Reply, TransportError> {
        let sent = body.len();
        let reply = self.inner.post(url, body, deadline).await;
        self.count(sent, &reply);
        reply
    }
}

struct Counted;

impl Platform for Counted {
    type Transport = Counting;
    type Clock = SystemClock;
    type Backend = SqliteBackend;
}

struct Member {
    name: &'static str,
    engine: Engine<Counted>,
    counts: Rc<Cell<Counts>>,
}

impl Member {
    async fn new(devnet: &Devnet, anchors: &Anchors, name: &'static str) -> Member {
        let counts = Rc::new(Cell::new(Counts::default()));
        let transport = Counting { inner: Https::new(), counts: counts.clone() };
        let world = World { transport, clock: SystemClock, secure_page: false };
        let engine = Engine::new(world, SqliteBackend::in_memory().expect("a memory vault"));
        engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
        engine.set_anchors(anchors.clone());
        let mut seed = [0u8; 16];
        OsRng.fill_bytes(&mut seed);
        engine.create(&Seed::from_bytes(seed), name, "a passphrase for the bench").await.expect("created");
        engine.set_relay(&devnet.app_url).await.expect("the devnet's relay");
        Member { name, engine, counts }
    }

    /// (community polls, community requests, onion requests, transport counts) so far.
    fn snapshot(&self) -> (u64, u64, u64, Counts) {
        let (polls, community) = self.engine.community_requests();
        (polls, community, self.engine.requests_sent(), self.counts.get())
    }
}

/// A community server as `hush-node sogs` serves one, on loopback, with rooms `tokens`; its URL.
async fn community_server(dir: &std::path::Path, tokens: &[&str]) -> (std::sync::Arc<Community>, String) {
    let community = Community::open(dir, SogsConfig::default()).expect("a community server");
    for token in tokens {
        community.add_room(token, &format!("Room {token}"), None).expect("a room");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    hush_node::sogs::spawn_sweeper(community.clone());
    tokio::spawn(axum::serve(listener, hush_node::sogs::router(community.clone())).into_future());
    (community, url)
}

fn main() {
    let seconds: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async move {
        let dir = std::env::temp_dir().join(format!("hush-community-cost-{}", std::process::id()));
        let mut config = DevnetConfig::on_free_ports(dir.clone());
        config.nodes = 6;
        config.swarm_size = 3;
        let mut devnet = Devnet::start(config).await.expect("the devnet starts");
        let anchors = anchors(&dir);

        // 5 rooms on the devnet's server; 1 room on each of 4 more servers.
        let one_server: Vec<String> = ["lobby", "two", "three", "four", "five"]
            .iter()
            .map(|token| {
                if *token != "lobby" {
                    devnet.community.add_room(token, &format!("Room {token}"), None).expect("a room");
                }
                devnet.community.room_url(&devnet.community_url, token)
            })
            .collect();
        let mut five_servers = vec![one_server[0].clone()];
        let mut servers = Vec::new();
        for i in 0..4 {
            let sub = dir.join(format!("extra-community-{i}"));
            std::fs::create_dir_all(&sub).expect("a folder");
            let (community, url) = community_server(&sub, &["room"]).await;
            five_servers.push(community.room_url(&url, "room"));
            servers.push(community);
        }

        let reference = Member::new(&devnet, &anchors, "Reference").await;
        let one = Member::new(&devnet, &anchors, "One server").await;
        let five = Member::new(&devnet, &anchors, "Five servers").await;
        for url in &one_server {
            one.engine.join_community(url).await.expect("joined");
        }
        for url in &five_servers {
            five.engine.join_community(url).await.expect("joined");
        }
        let members = [
            (reference, "in no community (reference)"),
            (one, "in 5 rooms on 1 server"),
            (five, "in 5 rooms on 5 servers"),
        ];
        for (m, _) in &members {
            let background = m.engine.clone();
            tokio::task::spawn_local(async move { background.run().await });
        }
        // Settle: the first polls, paths built, swarms learned.
        tokio::time::sleep(Duration::from_secs(15)).await;

        let before: Vec<_> = members.iter().map(|(m, _)| m.snapshot()).collect();
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let minutes = start.elapsed().as_secs_f64() / 60.0;
        let after: Vec<_> = members.iter().map(|(m, _)| m.snapshot()).collect();

        println!(
            "Per minute, {seconds} s, three engines at once on a 6-node devnet, on this machine ({} cores); load \
             average {}",
            std::thread::available_parallelism().map_or(1, usize::from),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split(' ')
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "| engine | community polls (batched) | community requests | other onion requests | all onion requests | \
             requests to the relay | KB sent | KB received |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let per_min = |a: u64, b: u64| (a - b) as f64 / minutes;
        let mut rows = Vec::new();
        for (((m, what), b), a) in members.iter().zip(&before).zip(&after) {
            let row = (
                per_min(a.0, b.0),
                per_min(a.1, b.1),
                per_min(a.2, b.2) - per_min(a.1, b.1),
                per_min(a.2, b.2),
                per_min(a.3.requests, b.3.requests),
                per_min(a.3.sent, b.3.sent) / 1000.0,
                per_min(a.3.received, b.3.received) / 1000.0,
            );
            println!(
                "| {} ({what}) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                m.name, row.0, row.1, row.2, row.3, row.4, row.5, row.6
            );
            rows.push(row);
        }
        let r = rows[0];
        for (row, (m, _)) in rows.iter().zip(&members).skip(1) {
            println!(
                "{}: minus the reference, {:+.1} requests to the relay and {:+.1} KB sent, {:+.1} KB received a minute",
                m.name,
                row.4 - r.4,
                row.5 - r.5,
                row.6 - r.6
            );
        }
        drop(servers);
        devnet.shutdown();
        let _ = std::fs::remove_dir_all(dir);
    }));
}
