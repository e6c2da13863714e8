//! What the relay check adds to start-up: a new engine (account created, relay set) is timed
//! from its first call to its first successful poll, `RUNS` times, on a devnet of 12 nodes over
//! loopback, with HTTPS to the devnet's relay as the command line uses it. The first poll fetches
//! the relay's node list, checks it with the anchors (the devnet's nodes, from its devnet.json),
//! builds and tests two paths, asks for the swarm and retrieves. BENCHMARKS.md has the figures
//! and how the same run is made without the check.
//!
//! `cargo run --release -p hush-client --features native --example relay_check`

use std::time::{Duration, Instant};

use crypto_core::identity::Seed;
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::KdfParams;
use hush_client::Engine;
use hush_client::platform::native::{Https, SystemClock};
use hush_client::platform::{Platform, World};
use hush_client::storage::MemoryBackend;
use hush_node::devnet::{Devnet, DevnetConfig};
use rand_core::OsRng;

const RUNS: usize = 30;

struct Native;

impl Platform for Native {
    type Transport = Https;
    type Clock = SystemClock;
    type Backend = MemoryBackend;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async {
        let dir = tempfile::Builder::new().prefix("hush-relay-check-").tempdir().unwrap();
        let config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        let devnet = Devnet::start(config).await.expect("the devnet starts");
        let anchors = Anchors::parse(&std::fs::read(dir.path().join("devnet.json")).unwrap()).unwrap();
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let engine: Engine<Native> =
                Engine::new(World { transport: Https::new(), clock: SystemClock, secure_page: false }, MemoryBackend::default());
            engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
            engine.set_anchors(anchors.clone());
            engine.create(&Seed::generate(&mut OsRng), "Bench", "a long enough passphrase").await.unwrap();
            engine.set_relay(&devnet.app_url).await.unwrap();
            let started = Instant::now();
            engine.poll_once().await.expect("the first poll succeeds");
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "start to first successful poll, {RUNS} new engines, 12 nodes: p50 {:.0} ms, p95 {:.0} ms, min {:.0} ms, max {:.0} ms",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(times[0]),
            ms(times[times.len() - 1]),
        );
        drop(devnet);
    }));
}
