//! What typing indicators and read receipts cost, in onion requests per minute.
//!
//! Two engines (Alice and Bob, the native platform) on a 6-node devnet, each phase measured on
//! Alice's engine (`Engine::requests_sent`, every onion request it sent: polls, stores, swarm
//! lookups, time checks) and given per minute:
//! - idle: Alice looks at the conversation, nobody types or writes (the reference: polling);
//! - typing: Alice types without pause (the composer calls `Engine::typing(peer, true)` on every
//!   key, here every 150 ms), with typing indicators off, then on;
//! - receipts: Bob writes every 5 s while Alice looks at the conversation (every message read as
//!   it arrives), with read receipts off, then on.
//!
//! The cost of a feature is its "on" row minus its "off" row of the same phase.
//!
//! Run: `cargo run --release -p hush-client --features native --example interaction_cost [--
//! SECONDS]` (default: 60 s a phase).

use std::time::{Duration, Instant};

use hush_client::platform::native::Native;
use hush_client::{Engine, SessionId};
use hush_node::devnet::{Devnet, DevnetConfig};

#[path = "support/engine.rs"]
mod support;

async fn settings(engine: &Engine<Native>, typing: bool, receipts: bool) {
    engine
        .update_account(|a| {
            a.typing_indicators = typing;
            a.read_receipts = receipts;
        })
        .await
        .expect("settings saved");
}

/// Alice's onion requests per minute while `during` runs for `length`.
async fn per_minute(alice: &Engine<Native>, length: Duration, during: impl AsyncFn(Instant)) -> f64 {
    let before = alice.requests_sent();
    let start = Instant::now();
    during(start + length).await;
    let spent = start.elapsed().as_secs_f64();
    (alice.requests_sent() - before) as f64 * 60.0 / spent
}

fn main() {
    let seconds: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let length = Duration::from_secs(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async move {
        let dir = std::env::temp_dir().join(format!("hush-interaction-cost-{}", std::process::id()));
        let mut config = DevnetConfig::on_free_ports(dir.clone());
        config.nodes = 6;
        config.swarm_size = 3;
        let mut devnet = Devnet::start(config).await.expect("the devnet starts");
        let relay = devnet.app_url.clone();
        let anchors = support::anchors(&dir);
        let alice = support::engine(&relay, &anchors, "Alice").await;
        let bob = support::engine(&relay, &anchors, "Bob").await;
        let (alice_id, bob_id): (SessionId, SessionId) =
            (alice.session_id().expect("unlocked"), bob.session_id().expect("unlocked"));
        // Warm up: a conversation both accepted, paths built, swarms learned.
        bob.send(&alice_id, "warm-up").await.expect("kept");
        alice.send(&bob_id, "warm-up").await.expect("kept");
        tokio::time::sleep(Duration::from_secs(10)).await;
        alice.set_viewing(Some(bob_id));
        alice.mark_read(&bob_id).await.expect("read");

        let idle = per_minute(&alice, length, async |until| {
            while Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        let typing = async |until: Instant| {
            while Instant::now() < until {
                alice.typing(&bob_id, true).await;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            alice.typing(&bob_id, false).await;
        };
        settings(&alice, false, false).await;
        let typing_off = per_minute(&alice, length, &typing).await;
        settings(&alice, true, false).await;
        let typing_on = per_minute(&alice, length, &typing).await;

        let writing = async |until: Instant| {
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                bob.send(&alice_id, &format!("message {n}")).await.expect("kept");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        };
        settings(&alice, false, false).await;
        let receipts_off = per_minute(&alice, length, &writing).await;
        settings(&alice, false, true).await;
        let receipts_on = per_minute(&alice, length, &writing).await;

        println!("Alice's onion requests per minute, {seconds} s a phase, on this machine ({} cores)", cores());
        println!("{:<58} {:>8.1}", "idle, looking at the conversation (reference)", idle);
        println!("{:<58} {:>8.1}", "typing without pause, typing indicators off", typing_off);
        println!("{:<58} {:>8.1}", "typing without pause, typing indicators on", typing_on);
        println!("{:<58} {:>8.1}", "  cost of typing indicators", typing_on - typing_off);
        println!("{:<58} {:>8.1}", "a message every 5 s read as it arrives, receipts off", receipts_off);
        println!("{:<58} {:>8.1}", "a message every 5 s read as it arrives, receipts on", receipts_on);
        println!("{:<58} {:>8.1}", "  cost of read receipts", receipts_on - receipts_off);
        devnet.shutdown();
        let _ = std::fs::remove_dir_all(dir);
    }));
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
