//! The relay's node list is checked against the network before anything uses it: two real
//! devnets, A — the network these engines trust, with A's nodes as their anchors (from A's
//! `devnet.json`) — and B. A relay that lists only nodes of its own (B's own relay, which lists B)
//! is refused with `Error::RelayRefused`, tells it as a status event, and has nothing sent through
//! it; a relay that hides part of the network is refused too; A's own relay, honest, is accepted,
//! also when a node has left the network since the relay's last refresh, and messages go through.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crypto_core::identity::Seed;
use crypto_core::network::Failure;
use crypto_core::network::anchors::{Anchors, Refusal};
use crypto_core::vault::KdfParams;
use hush_client::conversations::Status;
use hush_client::network::Connection;
use hush_client::platform::native::{Https, SystemClock};
use hush_client::platform::{Platform, Reply, Transport, TransportError, World};
use hush_client::storage::MemoryBackend;
use hush_client::{Engine, Error, Event};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_core::OsRng;
use serde_json::Value;
use tempfile::TempDir;

#[path = "support/runtime.rs"]
mod support;
use support::{eventually, run_test};

const PASSPHRASE: &str = "correct horse battery";

/// What the relay's `/v1/nodes` answer becomes on its way to the engine (`None`: unchanged).
type Edit = Rc<RefCell<Option<Box<dyn Fn(Vec<Value>) -> Vec<Value>>>>>;

/// HTTPS to a real relay; its node list edited on command, as a relay that lies about it would
/// serve it; every URL asked for is kept.
struct Relayed {
    inner: Https,
    edit: Edit,
    urls: Rc<RefCell<Vec<String>>>,
    /// Onion requests are taken and never answered (a relay that stalls them).
    stall: Rc<std::cell::Cell<bool>>,
}

impl Transport for Relayed {
    async fn get(&self, url: &str, deadline: Duration) -> Result<Reply, TransportError> {
        self.urls.borrow_mut().push(url.to_owned());
        let mut reply = self.inner.get(url, deadline).await?;
        if let Some(edit) = self.edit.borrow().as_ref()
            && url.ends_with("/v1/nodes")
            && let Ok(mut list) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(nodes) = list.get_mut("nodes").and_then(Value::as_array_mut)
        {
            *nodes = edit(std::mem::take(nodes));
            reply.body = list.to_string().into_bytes();
        }
        Ok(reply)
    }

    async fn post(&self, url: &str, body: Vec<u8>, deadline: Duration) -> Result<Reply, TransportError> {
        self.urls.borrow_mut().push(url.to_owned());
        if self.stall.get() {
            return std::future::pending().await;
        }
        self.inner.post(url, body, deadline).await
    }
}

struct On;

impl Platform for On {
    type Transport = Relayed;
    type Clock = SystemClock;
    type Backend = MemoryBackend;
}

/// An unlocked engine trusting `anchors`, on a new account, with its events and its URLs.
struct User {
    engine: Engine<On>,
    events: Rc<RefCell<Vec<Event>>>,
    urls: Rc<RefCell<Vec<String>>>,
    edit: Edit,
    stall: Rc<std::cell::Cell<bool>>,
}

impl User {
    async fn new(anchors: &Anchors, name: &str) -> User {
        let (edit, urls): (Edit, _) = (Rc::default(), Rc::<RefCell<Vec<String>>>::default());
        let stall: Rc<std::cell::Cell<bool>> = Rc::default();
        let transport = Relayed { inner: Https::new(), edit: edit.clone(), urls: urls.clone(), stall: stall.clone() };
        let engine = Engine::new(World { transport, clock: SystemClock, secure_page: false }, MemoryBackend::default());
        engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
        engine.set_anchors(anchors.clone());
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        engine.on_event(move |e| log.borrow_mut().push(e));
        engine.create(&Seed::generate(&mut OsRng), name, PASSPHRASE).await.expect("the account is created");
        User { engine, events, urls, edit, stall }
    }

    /// Onion requests posted so far.
    fn onion_posts(&self) -> usize {
        self.urls.borrow().iter().filter(|u| u.contains("/v1/onion/")).count()
    }

    fn told_refused(&self) -> bool {
        self.events.borrow().iter().any(|e| matches!(e, Event::Network(s) if s.connection == Connection::RelayRefused))
    }
}

/// A devnet of `nodes` nodes on ephemeral loopback ports, in a folder removed when the test ends.
async fn devnet(name: &str, nodes: usize) -> (Devnet, TempDir) {
    let dir = tempfile::Builder::new().prefix(&format!("hush-relay-trust-{name}-")).tempdir().unwrap();
    let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
    config.nodes = nodes;
    config.swarm_size = 3;
    (Devnet::start(config).await.expect("the devnet starts"), dir)
}

/// Messages the nodes of `devnet` hold, all of them.
/// One of these tests at a time: each runs a devnet of up to nine debug-built nodes, and four at
/// once on two cores made nodes so slow that a check's asks timed out (a relay refused as
/// unconfirmed, `answered: 1, asked: 6`, under load, never alone).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stored(devnet: &Devnet) -> usize {
    devnet.network.nodes().iter().map(|n| n.store().messages_after(0, 10_000, now_ms()).unwrap().len()).sum()
}

#[test]
fn a_relay_that_lists_only_its_own_nodes_is_refused_and_an_honest_one_is_accepted() {
    let _one = one_at_a_time();
    run_test(Duration::from_secs(300), async || {
        let (a, a_dir) = devnet("a", 8).await;
        let (b, _b_dir) = devnet("b", 6).await;
        let anchors = Anchors::parse(&std::fs::read(a_dir.path().join("devnet.json")).unwrap()).unwrap();
        let bob = User::new(&anchors, "Bob").await;
        bob.engine.set_relay(&a.app_url).await.unwrap();
        let bob_id = bob.engine.session_id().unwrap();

        // B's relay lists only B's nodes: the network the engine trusts confirms none of them.
        let alice = User::new(&anchors, "Alice").await;
        alice.engine.set_relay(&b.app_url).await.unwrap();
        let refused = alice.engine.check_relay().await;
        assert!(matches!(refused, Err(Error::RelayRefused(_))), "{refused:?}");
        // The refusal counts each anchor once, though the check asks some twice (8 anchors).
        assert!(
            matches!(refused, Err(Error::RelayRefused(Refusal::Unconfirmed { answered: 0, asked })) if asked <= 8),
            "{refused:?}"
        );
        let sentence = refused.unwrap_err().to_string();
        assert!(sentence.ends_with("Hush will not use this relay."), "{sentence}");
        let status = alice.engine.net_status().unwrap();
        assert_eq!(status.connection, Connection::RelayRefused);
        assert_eq!(status.problem().as_deref(), Some(sentence.as_str()));
        assert!(matches!(status.failure, Some(Failure::NodeListRefused(_))), "typed too: {status:?}");
        assert!(alice.told_refused(), "the front end is told by an event");
        assert!(status.paths.is_empty());

        // Nothing is sent through it: a message waits, polls fail with the refusal, and not one
        // more onion request reaches the relay while the engine runs.
        let posts = alice.onion_posts();
        let message = alice.engine.send(&bob_id, "not through that relay").await.unwrap();
        let running = alice.engine.clone();
        let work = tokio::task::spawn_local(async move { running.run().await });
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(matches!(alice.engine.poll_once().await, Err(Error::RelayRefused(_))));
        assert_eq!(alice.onion_posts(), posts, "no onion request after the refusal");
        let (history, _) = alice.engine.history(&bob_id, 10).await.unwrap();
        assert!(history.iter().all(|m| m.id != message.id || m.status != Status::Sent));
        assert_eq!(stored(&b), 0, "B's nodes got nothing");

        // The honest relay of the network: accepted, and the waiting message goes through it.
        alice.engine.set_relay(&a.app_url).await.unwrap();
        alice.engine.check_relay().await.expect("A's relay lists A's nodes");
        let alice_id = alice.engine.session_id().unwrap();
        eventually("the message to arrive", Duration::from_secs(60), async || {
            let _ = bob.engine.poll_once().await;
            let (history, _) = bob.engine.history(&alice_id, 10).await.ok()?;
            history.iter().any(|m| m.body == message.body).then_some(())
        })
        .await;
        assert_eq!(alice.engine.net_status().unwrap().connection, Connection::Connected);
        alice.engine.lock();
        work.await.unwrap();
        drop(b);
        drop(a);
    });
}

#[test]
fn a_relay_that_hides_part_of_the_network_is_refused_and_churn_is_tolerated() {
    let _one = one_at_a_time();
    run_test(Duration::from_secs(300), async || {
        let (mut a, a_dir) = devnet("a", 8).await;
        let anchors = Anchors::parse(&std::fs::read(a_dir.path().join("devnet.json")).unwrap()).unwrap();

        // A's relay, its list cut to 5 of the 8 nodes (a relay choosing which nodes its users get).
        let carol = User::new(&anchors, "Carol").await;
        carol.engine.set_relay(&a.app_url).await.unwrap();
        *carol.edit.borrow_mut() = Some(Box::new(|mut nodes: Vec<Value>| {
            nodes.truncate(5);
            nodes
        }));
        let refused = carol.engine.check_relay().await;
        assert_eq!(refused, Err(Error::RelayRefused(Refusal::Mismatch { listed: 5, confirmed: 5, network: 8 })));
        assert!(carol.told_refused());

        // A relay whose list pairs nodes' names with keys that are not theirs.
        let dave = User::new(&anchors, "Dave").await;
        dave.engine.set_relay(&a.app_url).await.unwrap();
        *dave.edit.borrow_mut() = Some(Box::new(|mut nodes: Vec<Value>| {
            for n in nodes.iter_mut().take(3) {
                n["pubkey_x25519"] = Value::String("42".repeat(32));
            }
            nodes
        }));
        let posts = dave.onion_posts();
        assert!(matches!(dave.engine.check_relay().await, Err(Error::RelayRefused(Refusal::ForgedKeys { .. }))));
        assert_eq!(dave.onion_posts(), posts, "refused before anything is sent");

        // A node leaves the network; the relay still lists it until its next refresh: accepted,
        // and the node that left is not used.
        a.stop_node(0);
        let erin = User::new(&anchors, "Erin").await;
        erin.engine.set_relay(&a.app_url).await.unwrap();
        erin.engine.check_relay().await.expect("one node of churn is within the slack");
        let sent = erin.engine.poll_once().await;
        assert!(sent.is_ok(), "{sent:?}");
        let gone = hex::encode(a.network.nodes()[0].info.ed25519);
        assert!(erin.engine.paths().iter().flatten().all(|hop| hop.ed25519 != gone));

        // The same list again: the verdict is kept, no anchor is asked again.
        let posts = erin.onion_posts();
        erin.engine.check_relay().await.unwrap();
        assert_eq!(erin.onion_posts(), posts);

        // A relay that takes onion requests and never answers says nothing about its list: the
        // check times out (the engine retries later), it does not refuse the relay.
        let frank = User::new(&anchors, "Frank").await;
        frank.engine.set_relay(&a.app_url).await.unwrap();
        frank.stall.set(true);
        let stalled = frank.engine.check_relay().await;
        assert_eq!(stalled, Err(Error::Network(Failure::TimedOut)));
        assert!(!frank.told_refused());
        frank.stall.set(false);
        frank.engine.check_relay().await.expect("asked again, the same relay is accepted");
        drop(a);
    });
}

#[test]
fn a_relay_is_accepted_when_a_third_of_the_network_stopped_since_its_last_refresh() {
    let _one = one_at_a_time();
    run_test(Duration::from_secs(300), async || {
        // Nine nodes in three swarms; one of each swarm stops (as the outage end-to-end test
        // does). The relay still lists all nine, so do the anchors the engines were given: a
        // third of the check's paths and of the anchors asked are dead.
        let (mut a, a_dir) = devnet("third", 9).await;
        let anchors = Anchors::parse(&std::fs::read(a_dir.path().join("devnet.json")).unwrap()).unwrap();
        let mut stopped = HashSet::new();
        for (i, node) in a.network.nodes().iter().enumerate() {
            if stopped.iter().all(|&(_, swarm)| swarm != node.info.swarm_id) {
                stopped.insert((i, node.info.swarm_id));
            }
        }
        for &(i, _) in &stopped {
            a.stop_node(i);
        }
        assert_eq!(stopped.len(), 3);
        // Every one of several new engines (each its own random paths and anchors) accepts it.
        for name in ["Gina", "Hank", "Ivy", "Jon", "Kim", "Lou"] {
            let user = User::new(&anchors, name).await;
            user.engine.set_relay(&a.app_url).await.unwrap();
            let checked = user.engine.check_relay().await;
            assert_eq!(checked, Ok(()), "{name}: a relay whose nodes partly stopped is not a liar");
            assert!(!user.told_refused());
            let polled = user.engine.poll_once().await;
            assert!(polled.is_ok(), "{name}: {polled:?}");
        }
        drop(a);
    });
}

#[test]
fn a_relay_of_a_four_node_network_is_accepted() {
    let _one = one_at_a_time();
    run_test(Duration::from_secs(120), async || {
        // Four nodes: one 3-hop path leaves a single node outside it, so every anchor but one is
        // on the only path there is; each must still be asked through a path that avoids it.
        let (a, a_dir) = devnet("four", 4).await;
        let anchors = Anchors::parse(&std::fs::read(a_dir.path().join("devnet.json")).unwrap()).unwrap();
        for name in ["Mo", "Ned", "Oz"] {
            let user = User::new(&anchors, name).await;
            user.engine.set_relay(&a.app_url).await.unwrap();
            assert_eq!(user.engine.check_relay().await, Ok(()), "{name}");
            let polled = user.engine.poll_once().await;
            assert!(polled.is_ok(), "{name}: {polled:?}");
        }
        drop(a);
    });
}
