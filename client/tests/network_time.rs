//! Network time against nodes that lie about it, on a real devnet: one node reports `t =
//! u64::MAX` in every answer (and judges requests by the right clock), another runs ten minutes
//! fast (it reports that time and judges request timestamps by it, as a node with a wrong clock
//! does). Engines on both sides keep sending and receiving: no message is sealed at a liar's time,
//! none waits for a reload, none shows twice.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crypto_core::identity::{Identity, Seed};
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::KdfParams;
use hush_client::conversations::{Message, Status};
use hush_client::platform::native::{Https, SystemClock};
use hush_client::platform::{Platform, World};
use hush_client::storage::MemoryBackend;
use hush_client::testing::Scripted;
use hush_client::{Engine, Event, SessionId};
use hush_node::anchors::network_json;
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::network::NodeClock;
use hush_node::server::now_ms;
use rand_core::OsRng;

#[path = "support/runtime.rs"]
mod support;
use support::{eventually, run_test};

/// HTTPS to the devnet's relay, the system clock, memory.
struct On;

impl Platform for On {
    type Transport = Scripted<Https>;
    type Clock = SystemClock;
    type Backend = MemoryBackend;
}

/// One person's engine, running, and every event it emitted.
struct User {
    engine: Engine<On>,
    events: Rc<RefCell<Vec<Event>>>,
    id: SessionId,
}

impl User {
    async fn create(devnet: &Devnet, seed: &Seed, name: &str) -> User {
        let (transport, _) = Scripted::new(Https::new());
        let engine = Engine::new(World { transport, clock: SystemClock, secure_page: false }, MemoryBackend::default());
        engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
        // The devnet's nodes are the anchors its relay's list is checked against.
        let anchors = network_json(&devnet.network, None).to_string();
        engine.set_anchors(Anchors::parse(anchors.as_bytes()).expect("the devnet's anchors"));
        let relay = &devnet.app_url;
        engine.create(seed, name, "correct horse battery").await.expect("the account is created");
        engine.set_relay(relay).await.expect("the devnet's relay is accepted");
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        engine.on_event(move |e| log.borrow_mut().push(e));
        let background = engine.clone();
        tokio::task::spawn_local(async move { background.run().await });
        let id = engine.session_id().expect("unlocked");
        User { engine, events, id }
    }

    /// Every message event so far: (the message as told, whether it newly arrived).
    fn message_events(&self) -> Vec<(Message, bool)> {
        support::message_events(&self.events)
    }

    /// The last status told for message `id`.
    fn status(&self, id: &str) -> Option<Status> {
        self.message_events().into_iter().rev().find(|(m, _)| m.id == id).map(|(m, _)| m.status)
    }

    /// How many newly arrived messages with `body` were told.
    fn arrivals(&self, body: &str) -> usize {
        self.message_events().iter().filter(|(m, arrived)| *arrived && m.body == body).count()
    }

    async fn history(&self, peer: &SessionId) -> Vec<Message> {
        self.engine.history(peer, 10_000).await.expect("the history reads").0
    }
}

const TEN_MINUTES: i64 = 10 * 60 * 1000;

#[test]
fn sending_continues_with_one_node_reporting_u64_max_and_one_ten_minutes_fast() {
    run_test(Duration::from_secs(170), async || {
        let dir = tempfile::Builder::new().prefix("hush-network-time-").tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        config.nodes = 6;
        config.swarm_size = 3;
        let devnet = Devnet::start(config).await.expect("the devnet starts");

        // The liars, from the start, both in Alice's swarm of three: her polls, her sync copies
        // and Bob's messages to her reach one of them two times in three.
        let (alice_seed, bob_seed) = (Seed::generate(&mut OsRng), Seed::generate(&mut OsRng));
        let (alice_id, bob_id) =
            (Identity::from_seed(&alice_seed).session_id(), Identity::from_seed(&bob_seed).session_id());
        let network = &devnet.network;
        let swarm = network.swarm_of(&alice_id).expect("a swarm");
        let mut members = network.nodes().iter().filter(|n| n.info.swarm_id == swarm);
        let (liar, fast) = (members.next().expect("a member"), members.next().expect("another member"));
        liar.set_clock(NodeClock::Reports(u64::MAX));
        fast.set_clock(NodeClock::Off(TEN_MINUTES));

        let alice = User::create(&devnet, &alice_seed, "Alice").await;
        let bob = User::create(&devnet, &bob_seed, "Bob").await;
        assert_eq!((alice.id, bob.id), (alice_id, bob_id));

        // Messages each way, a second apart, so the polls between them hear from every member of
        // Alice's swarm, liars included.
        let mut sent = Vec::new();
        for i in 0..12 {
            let (from, to, body) =
                if i % 4 == 3 { (&bob, &alice, format!("reply {i}")) } else { (&alice, &bob, format!("message {i}")) };
            let m = from.engine.send(&to.id, &body).await.expect("kept");
            sent.push((i % 4 == 3, m));
            tokio::time::sleep(Duration::from_millis(1_000)).await;
        }
        for (from_bob, m) in &sent {
            let (from, to) = if *from_bob { (&bob, &alice) } else { (&alice, &bob) };
            let start = Instant::now();
            while from.status(&m.id) != Some(Status::Sent) {
                if start.elapsed() > Duration::from_secs(60) {
                    // What it went through (its sent times, the reasons given) and the network's state.
                    let told: Vec<_> = from
                        .message_events()
                        .into_iter()
                        .filter(|(x, _)| x.id == m.id)
                        .map(|(x, _)| (x.status, x.timestamp, x.problem))
                        .collect();
                    panic!("{:?} not sent: {told:?}; {:?}; now {}", m.body, from.engine.net_status(), now_ms());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            eventually(&format!("{:?} to arrive", m.body), Duration::from_secs(60), async || {
                (to.arrivals(&m.body) >= 1).then_some(())
            })
            .await;
        }

        // Every message was sent at a sane time (not 29 million years or 10 minutes ahead), and
        // each side holds each message once, the sync copies of re-sealed ones included.
        for user in [&alice, &bob] {
            // A poll that met the fast node before its time was known may fail; the next one not.
            eventually("a poll", Duration::from_secs(30), async || user.engine.poll_once().await.ok()).await;
        }
        let now = now_ms();
        for (user, peer) in [(&alice, &bob.id), (&bob, &alice.id)] {
            let history = user.history(peer).await;
            let mut bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
            bodies.sort_unstable();
            let mut expected: Vec<&str> = sent.iter().map(|(_, m)| m.body.as_str()).collect();
            expected.sort_unstable();
            assert_eq!(bodies, expected, "each message once");
            for m in &history {
                assert!(m.timestamp <= now + 10_000 && m.timestamp + 170_000 > now, "{m:?} sent at a sane time");
                assert_eq!(m.status, Status::Sent);
            }
        }
        for (_, m) in &sent {
            let to = if m.peer == bob.id { &bob } else { &alice };
            assert_eq!(to.arrivals(&m.body), 1, "{:?} arrived once", m.body);
        }
    });
}
