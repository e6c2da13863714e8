//! What the devnet examples share: an engine with a fresh account on the native platform, trusting
//! the devnet's nodes, its background work started. Included with
//! `#[path = "support/engine.rs"] mod support;`.

use crypto_core::identity::Seed;
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::KdfParams;
use hush_client::Engine;
use hush_client::platform::native::{Native, SqliteBackend, world};
use rand_core::{OsRng, RngCore};

/// The trust anchors of the devnet whose data folder is `dir`: its own nodes.
pub fn anchors(dir: &std::path::Path) -> Anchors {
    let json = std::fs::read(dir.join("devnet.json")).expect("the devnet wrote devnet.json");
    Anchors::parse(&json).expect("devnet.json lists the nodes")
}

/// An engine for a new account named `name` on the devnet whose relay is `relay`, running.
pub async fn engine(relay: &str, anchors: &Anchors, name: &str) -> Engine<Native> {
    let engine = Engine::new(world(), SqliteBackend::in_memory().expect("a memory vault"));
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    engine.set_anchors(anchors.clone());
    let mut seed = [0u8; 16];
    OsRng.fill_bytes(&mut seed);
    engine.create(&Seed::from_bytes(seed), name, "a passphrase for the bench").await.expect("created");
    engine.set_relay(relay).await.expect("the devnet's relay");
    let background = engine.clone();
    tokio::task::spawn_local(async move { background.run().await });
    engine
}
