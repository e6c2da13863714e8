//! Delivery with a dead node that the network still lists, as on the real Session network: one
//! member of the recipient's swarm stops answering but stays in every node list; the hop before it
//! waits 30 s before it answers 504, and a `store` waits 5 s for it before replying (hush-node's
//! devnet does both, as the real storage server does).
//!
//! Two engines (Alice and Bob) on a 12-node devnet: first a reference phase with every node up,
//! then the same with one member of Bob's swarm dead but listed. Alice sends a message every
//! interval; each message's send → shown is the time from `Engine::send` to Bob's engine filing it
//! (the `Event::Message` the page renders from). Prints p50, p95 and the worst, the late ones
//! (over 5 s) and the lost ones, for both phases.
//!
//! Run: `cargo run --release -p hush-client --features native --example dead_member [-- MESSAGES
//! INTERVAL_S]` (defaults: 30 messages, 5 s apart).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crypto_core::network::anchors::Anchors;
use hush_client::platform::native::Native;
use hush_client::{Engine, Event, SessionId};
use hush_node::devnet::{Devnet, DevnetConfig};

#[path = "support/engine.rs"]
mod support;

type Shown = Rc<RefCell<HashMap<String, Instant>>>;

async fn engine(relay: &str, anchors: &Anchors, name: &str, shown: Option<Shown>) -> Engine<Native> {
    let engine = support::engine(relay, anchors, name).await;
    if let Some(shown) = shown {
        engine.on_event(move |event| {
            if let Event::Message { message, arrived: true } = event {
                shown.borrow_mut().entry(message.body).or_insert_with(Instant::now);
            }
        });
    }
    engine
}

/// Sends `count` messages `interval` apart; returns each one's send → shown (None: not shown within
/// `grace` after the last send).
async fn phase(
    alice: &Engine<Native>,
    bob: SessionId,
    shown: &Shown,
    label: &str,
    count: usize,
    interval: Duration,
    grace: Duration,
) -> Vec<Option<Duration>> {
    let mut sent = Vec::new();
    for i in 0..count {
        let text = format!("{label} {i}");
        let at = Instant::now();
        alice.send(&bob, &text).await.expect("kept in the outbox");
        sent.push((text, at));
        tokio::time::sleep(interval).await;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && !sent.iter().all(|(t, _)| shown.borrow().contains_key(t)) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sent.iter().map(|(t, at)| shown.borrow().get(t).map(|s| s.duration_since(*at))).collect()
}

fn report(label: &str, results: &[Option<Duration>]) {
    let mut times: Vec<f64> = results.iter().flatten().map(|d| d.as_secs_f64() * 1000.0).collect();
    times.sort_by(f64::total_cmp);
    let lost = results.iter().filter(|r| r.is_none()).count();
    let at = |q: f64| {
        if times.is_empty() {
            return f64::NAN;
        }
        let i = ((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1;
        times[i]
    };
    let late = times.iter().filter(|t| **t > 5_000.0).count();
    println!(
        "{label:<44} {:>3} sent  lost {lost:>2}  p50 {:>6.0} ms  p95 {:>6.0} ms  worst {:>6.0} ms  over 5 s: {late}",
        results.len(),
        at(0.50),
        at(0.95),
        times.last().copied().unwrap_or(f64::NAN),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let interval = Duration::from_secs_f64(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async move {
        let dir = std::env::temp_dir().join(format!("hush-dead-member-{}", std::process::id()));
        let config = DevnetConfig::on_free_ports(dir.clone());
        // The real network's waits: 30 s before a hop answers for a dead next hop, 5 s per peer.
        let mut devnet = Devnet::start(config).await.expect("the devnet starts");
        let relay = devnet.app_url.clone();
        let anchors = support::anchors(&dir);
        let shown: Shown = Rc::default();
        let alice = engine(&relay, &anchors, "Alice", None).await;
        let bob_engine = engine(&relay, &anchors, "Bob", Some(shown.clone())).await;
        let bob = bob_engine.session_id().expect("unlocked");
        // Warm up: paths built, Bob's swarm learned by both.
        let warm = phase(&alice, bob, &shown, "warm-up", 1, Duration::from_millis(100), Duration::from_secs(60)).await;
        assert!(warm.iter().all(Option::is_some), "the warm-up message never arrived");

        let grace = Duration::from_secs(120);
        let healthy = phase(&alice, bob, &shown, "healthy", count.min(10), interval, grace).await;

        let swarm = devnet.network.swarm_of(&bob).expect("Bob's swarm");
        let victim = devnet.network.nodes().iter().position(|n| n.info.swarm_id == swarm).expect("a member");
        devnet.kill_node(victim);
        println!("node {victim} of Bob's swarm is dead but still listed");
        let dead = phase(&alice, bob, &shown, "dead member", count, interval, grace).await;

        println!();
        println!("send → shown, {} between messages, on this machine ({} cores)", humantime(interval), cores());
        report("reference: every node up", &healthy);
        report("one member of the recipient's swarm dead", &dead);
        devnet.shutdown();
        let _ = std::fs::remove_dir_all(dir);
    }));
}

fn humantime(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
