//! Onion-routed store + retrieve pairs per second through 3 hops on a devnet, and the cost of one
//! hop. Run: `cargo bench -p hush-node --bench onion` (prints the figures).
//!
//! Everything shares the machine: the 12 nodes, the relay, and the clients that build and open
//! the onions, so the figure is what this machine sustains end to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::storage::{Namespace, requests};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::network::Node;
use hush_node::server::now_ms;
use rand_core::{OsRng, RngCore};

const CONCURRENCY: usize = 48;
const RUN: Duration = Duration::from_secs(10);

fn keys(n: &Node) -> NodeKeys {
    NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 }
}

async fn send(
    http: &reqwest::Client,
    app_url: &str,
    devnet: &Devnet,
    dest: &Node,
    payload: &[u8],
) -> anyhow::Result<onion::NodeReply> {
    // A random 3-hop path of distinct nodes, none of them the destination.
    let nodes = devnet.network.nodes();
    let mut path = Vec::with_capacity(3);
    while path.len() < 3 {
        let n = &nodes[(OsRng.next_u32() as usize) % nodes.len()];
        if n.info.ed25519 != dest.info.ed25519 && !path.iter().any(|k: &NodeKeys| k.ed25519 == n.info.ed25519) {
            path.push(keys(n));
        }
    }
    let req = onion::build(&mut OsRng, &path, &Destination::Node(keys(dest)), payload, EncType::XChaCha20)?;
    let url = format!("{app_url}/v1/onion/{}", hex::encode(req.guard));
    let response = http.post(url).header("content-type", "application/octet-stream").body(req.body).send().await?;
    anyhow::ensure!(response.status().as_u16() == 200, "status {}", response.status());
    let bytes = response.bytes().await?;
    Ok(onion::unwrap_node_reply(&req.reply_key, &bytes)?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("hush-onion-bench-{}", std::process::id()));
    let config = DevnetConfig::on_free_ports(data.clone());
    let devnet = Arc::new(Devnet::start(config).await?);
    let http = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;

    let pairs = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<u128>::new()));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(2);
    let deadline = measure_from + RUN;
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let (devnet, http, pairs, failures, latencies) =
            (devnet.clone(), http.clone(), pairs.clone(), failures.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let user = Identity::from_ed25519_seed(&[u8::try_from(t).unwrap_or(0).wrapping_add(1); 32]);
            let pk = user.session_id();
            let swarm = devnet.network.swarm_of(&pk).unwrap_or_default();
            let members: Vec<Arc<Node>> = devnet.network.members(swarm).cloned().collect();
            let app_url = devnet.app_url.clone();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let dest = &members[(i as usize) % members.len()];
                let began = Instant::now();
                let data = STANDARD.encode(format!("bench message {t} {i}"));
                let store = requests::store(&pk, Namespace::DEFAULT, &data, now_ms(), 600_000, None).to_string();
                let retrieve = requests::retrieve(&user, Namespace::DEFAULT, now_ms(), None).to_string();
                let ok = matches!(send(&http, &app_url, &devnet, dest, store.as_bytes()).await, Ok(r) if r.status == 200)
                    && matches!(send(&http, &app_url, &devnet, dest, retrieve.as_bytes()).await, Ok(r) if r.status == 200);
                if began >= measure_from && Instant::now() <= deadline {
                    if ok {
                        pairs.fetch_add(1, Ordering::Relaxed);
                        latencies.lock().unwrap().push(began.elapsed().as_micros());
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let pairs = pairs.load(Ordering::Relaxed);
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
    println!(
        "onion-routed store+retrieve through 3 hops, {CONCURRENCY} concurrent clients, 12 nodes, {}s:",
        RUN.as_secs()
    );
    println!("  pairs/s:     {:.0}", pairs as f64 / RUN.as_secs_f64());
    println!("  requests/s:  {:.0}", 2.0 * pairs as f64 / RUN.as_secs_f64());
    println!("  pair latency p50 {:.1} ms, p95 {:.1} ms", pct(0.5), pct(0.95));
    println!("  failures:    {}", failures.load(Ordering::Relaxed));

    // The cost of one hop: peeling one layer at a node (X25519 + key derivation + AEAD + JSON).
    let node = &devnet.network.nodes()[0];
    let next = &devnet.network.nodes()[1];
    let payload = vec![b'x'; 1024];
    let bodies: Vec<Vec<u8>> = (0..2000)
        .map(|_| {
            onion::build(&mut OsRng, &[keys(node)], &Destination::Node(keys(next)), &payload, EncType::XChaCha20)
                .map(|r| r.body)
        })
        .collect::<Result<_, _>>()?;
    let began = Instant::now();
    for body in &bodies {
        std::hint::black_box(onion::peel_as(node.identity(), body)?);
    }
    let per_hop = began.elapsed().as_secs_f64() / bodies.len() as f64 * 1e6;
    println!("one hop (peel of a 1 KiB layer): {per_hop:.1} µs");
    let began = Instant::now();
    for _ in 0..2000 {
        std::hint::black_box(onion::build(
            &mut OsRng,
            &[keys(node), keys(next), keys(&devnet.network.nodes()[2])],
            &Destination::Node(keys(&devnet.network.nodes()[3])),
            &payload,
            EncType::XChaCha20,
        )?);
    }
    println!("client: build a 3-hop onion (4 layers) of 1 KiB: {:.1} µs", began.elapsed().as_secs_f64() / 2000.0 * 1e6);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
