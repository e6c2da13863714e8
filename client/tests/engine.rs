//! The engine without a browser: engines on the memory backend (or SQLite), each reaching a real
//! devnet started by its test through HTTPS wrapped in a [`Scripted`] transport, so outages and
//! stalls begin and end exactly when a test says.
//!
//! Every wait is for an event or a condition, with a deadline; the only fixed waits are the short
//! windows in which a test checks that something does *not* happen.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, Seed};
use crypto_core::message;
use crypto_core::network::anchors::Anchors;
use crypto_core::storage::{Namespace, requests};
use crypto_core::vault::KdfParams;
use crypto_core::wire::{AttachmentPointer, Content, DataMessage, LokiProfile};
use hush_client::attachments::FileServer;
use hush_client::conversations::{AttachmentKind, AttachmentState, Message, Standing, Status};
use hush_client::platform::native::{Https, SqliteBackend, SystemClock};
use hush_client::platform::{Platform, World};
use hush_client::storage::{Backend, MemoryBackend};
use hush_client::testing::{Control, Script, Scripted};
use hush_client::{Engine, Error, Event, NewFile, SessionId};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_core::OsRng;
use tempfile::TempDir;

#[path = "support/runtime.rs"]
mod support;
use support::{eventually, run_test};

const PASSPHRASE: &str = "correct horse battery";

/// The engine's platform in these tests: HTTPS to the devnet's relay, failing on command; the
/// system clock; and a backend of the test's choice.
struct On<B>(PhantomData<B>);

impl<B: Backend + 'static> Platform for On<B> {
    type Transport = Scripted<Https>;
    type Clock = SystemClock;
    type Backend = B;
}

/// Memory that outlives an engine: the next engine on it is a reload.
type Shared = Rc<MemoryBackend>;

thread_local! {
    /// The trust anchors of the devnet this test's engines use: its own nodes, from its
    /// `devnet.json` (each test runs on its own thread, with one devnet).
    static ANCHORS: RefCell<Option<Anchors>> = const { RefCell::new(None) };
    /// That devnet's file server, from its `devnet.json`.
    static FILE_SERVER: RefCell<Option<FileServer>> = const { RefCell::new(None) };
}

/// Makes the engines this test creates from now on trust the devnet whose data folder is `dir`.
fn trust(dir: &std::path::Path) {
    let json = std::fs::read(dir.join("devnet.json")).expect("the devnet wrote devnet.json");
    let anchors = Anchors::parse(&json).expect("devnet.json lists the devnet's nodes");
    ANCHORS.with(|a| *a.borrow_mut() = Some(anchors));
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let files = &json["file_server"];
    let server = FileServer::parse(files["url"].as_str().unwrap(), files["pubkey_ed25519"].as_str().unwrap());
    FILE_SERVER.with(|f| *f.borrow_mut() = Some(server.expect("devnet.json names its file server")));
}

/// A devnet of six nodes on ephemeral loopback ports, in a folder removed when the test ends.
struct Net {
    devnet: Devnet,
    _dir: TempDir,
}

impl Net {
    async fn start(name: &str) -> Net {
        let dir = tempfile::Builder::new().prefix(&format!("hush-engine-test-{name}-")).tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        config.nodes = 6;
        config.swarm_size = 3;
        let devnet = Devnet::start(config).await.expect("the devnet starts");
        trust(dir.path());
        Net { devnet, _dir: dir }
    }

    /// The relay's URL, as a person would enter it.
    fn relay(&self) -> String {
        self.devnet.app_url.clone()
    }

    /// How many nodes hold the message `hash` of `owner`.
    fn holding(&self, owner: &SessionId, hash: &str) -> usize {
        let nodes = self.devnet.network.nodes();
        nodes.iter().filter(|n| n.store().expiry_of_owned(&owner.to_bytes(), hash).ok().flatten().is_some()).count()
    }

    /// Stores `data` (base64) for `to` straight into its swarm, over HTTPS to one member, as any
    /// client (or a hostile one) may: namespace 0 takes unauthenticated stores.
    async fn store_direct(&self, to: &SessionId, data: &str) {
        let network = &self.devnet.network;
        let swarm = network.swarm_of(to).expect("a swarm");
        let node = network.nodes().iter().find(|n| n.info.swarm_id == swarm).expect("a member");
        let body = requests::store(to, Namespace::DEFAULT, data, now_ms(), 3_600_000, None);
        let reply = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .post(format!("https://{}:{}/storage_rpc/v1", node.info.ip, node.info.port))
            .body(body.to_string())
            .send()
            .await
            .expect("the node answers");
        assert_eq!(reply.status().as_u16(), 200, "{}", reply.text().await.unwrap_or_default());
    }
}

/// One person's engine, its transport's handle, and every event it emitted.
struct User<B: Backend + 'static> {
    engine: Engine<On<B>>,
    net: Control,
    events: Rc<RefCell<Vec<Event>>>,
    task: Option<tokio::task::JoinHandle<()>>,
    id: SessionId,
}

/// An engine on `backend` that is not unlocked yet.
fn new_engine<B: Backend + 'static>(backend: B) -> (Engine<On<B>>, Control) {
    let (transport, net) = Scripted::new(Https::new());
    let engine = Engine::new(World { transport, clock: SystemClock, secure_page: false }, backend);
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    if let Some(anchors) = ANCHORS.with(|a| a.borrow().clone()) {
        engine.set_anchors(anchors);
    }
    if let Some(server) = FILE_SERVER.with(|f| f.borrow().clone()) {
        engine.set_file_server(server);
    }
    (engine, net)
}

impl<B: Backend + 'static> User<B> {
    /// Creates an account for `seed` named `name` on `backend`, using `relay`, and starts its
    /// background work.
    async fn create(relay: &str, backend: B, seed: &Seed, name: &str) -> User<B> {
        let (engine, net) = new_engine(backend);
        engine.create(seed, name, PASSPHRASE).await.expect("the account is created");
        engine.set_relay(relay).await.expect("the devnet's relay is accepted");
        User::started(engine, net)
    }

    /// Unlocks the account already on `backend` (a reload) and starts its background work.
    async fn reopen(backend: B) -> User<B> {
        let (engine, net) = new_engine(backend);
        engine.unlock(PASSPHRASE).await.expect("the account unlocks");
        User::started(engine, net)
    }

    fn started(engine: Engine<On<B>>, net: Control) -> User<B> {
        let mut user = User::idle(engine, net);
        let background = user.engine.clone();
        user.task = Some(tokio::task::spawn_local(async move { background.run().await }));
        user
    }

    /// An unlocked engine whose background work is not started (the test polls by hand).
    fn idle(engine: Engine<On<B>>, net: Control) -> User<B> {
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        engine.on_event(move |e| log.borrow_mut().push(e));
        let id = engine.session_id().expect("unlocked");
        User { engine, net, events, task: None, id }
    }

    /// Ends the engine as a closed tab or a crash does: its background work stops where it is,
    /// without a lock, and the engine is dropped.
    async fn crash(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Every message event so far: (the message as filed, whether it newly arrived).
    fn message_events(&self) -> Vec<(Message, bool)> {
        support::message_events(&self.events)
    }

    /// The statuses the message `id` went through, in the order the events told them.
    fn statuses(&self, id: &str) -> Vec<Status> {
        let mut out: Vec<Status> = Vec::new();
        for (m, _) in self.message_events() {
            if m.id == id && out.last() != Some(&m.status) {
                out.push(m.status);
            }
        }
        out
    }

    /// How many newly arrived messages with `body` the events told.
    fn arrivals(&self, body: &str) -> usize {
        self.message_events().iter().filter(|(m, arrived)| *arrived && m.body == body).count()
    }

    /// The whole conversation with `peer`, oldest first.
    async fn history(&self, peer: &SessionId) -> Vec<Message> {
        self.engine.history(peer, 10_000).await.expect("the history reads").0
    }

    /// How many messages with `body` the conversation with `peer` holds.
    async fn count(&self, peer: &SessionId, body: &str) -> usize {
        self.history(peer).await.iter().filter(|m| m.body == body).count()
    }

    async fn standing(&self, peer: &SessionId) -> Option<Standing> {
        self.engine.conversation(peer).await.expect("conversations read").map(|c| c.standing)
    }
}

fn seed() -> Seed {
    Seed::generate(&mut OsRng)
}

async fn memory_user(net: &Net, name: &str) -> User<Shared> {
    User::create(&net.relay(), Shared::default(), &seed(), name).await
}

const SECONDS_20: Duration = Duration::from_secs(20);

// Sending and receiving.

/// Text both ways; the sender sees Sending then Sent, the recipient a newly arrived message with
/// the sender's name; the sync copy reaches a second engine of the sender's account (restored
/// from the same seed), and the reply reaches both of its engines; nothing shows twice.
#[test]
fn two_engines_exchange_text_and_a_second_device_gets_the_sync_copy() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("exchange").await;
        let alice_seed = seed();
        let alice = User::create(&net.relay(), Shared::default(), &alice_seed, "Alice").await;
        let alice2 = User::create(&net.relay(), Shared::default(), &alice_seed, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        assert_eq!(alice.id, alice2.id);

        let hello = "Hello Bob 👋\nsecond line";
        let sent = alice.engine.send(&bob.id, hello).await.unwrap();
        assert_eq!((sent.status, sent.outgoing, sent.sender_name.as_deref()), (Status::Sending, true, Some("Alice")));
        eventually("Alice's message to be sent", SECONDS_20, async || {
            (alice.statuses(&sent.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        assert_eq!(alice.statuses(&sent.id), [Status::Sending, Status::Sent], "no failure on a working network");

        let got = eventually("Bob to receive it", SECONDS_20, async || {
            bob.message_events().into_iter().find(|(m, arrived)| *arrived && m.body == hello).map(|(m, _)| m)
        })
        .await;
        assert_eq!((got.peer, got.outgoing, got.timestamp), (alice.id, false, sent.timestamp));
        assert_eq!(got.sender_name.as_deref(), Some("Alice"));
        let conversation = bob.engine.conversation(&alice.id).await.unwrap().expect("a conversation");
        assert_eq!((conversation.standing, conversation.unread), (Standing::Request, 1));
        assert_eq!(conversation.title(), "Alice");

        // The second device files the sync copy as its own sent message, with the same id.
        let copy = eventually("the sync copy on Alice's second device", SECONDS_20, async || {
            alice2.message_events().into_iter().find(|(m, _)| m.body == hello).map(|(m, _)| m)
        })
        .await;
        assert_eq!(
            (copy.id.as_str(), copy.outgoing, copy.status, copy.peer),
            (sent.id.as_str(), true, Status::Sent, bob.id)
        );
        assert_eq!(alice2.standing(&bob.id).await, Some(Standing::Accepted));

        // The reply reaches both of Alice's engines, named.
        let reply = "Hi Alice!";
        bob.engine.send(&alice.id, reply).await.unwrap();
        for device in [&alice, &alice2] {
            let m = eventually("Bob's reply", SECONDS_20, async || {
                device.message_events().into_iter().find(|(m, arrived)| *arrived && m.body == reply).map(|(m, _)| m)
            })
            .await;
            assert_eq!((m.peer, m.sender_name.as_deref()), (bob.id, Some("Bob")));
            assert_eq!(device.engine.conversation(&bob.id).await.unwrap().unwrap().title(), "Bob");
        }
        // Replying accepted the request.
        assert_eq!(bob.standing(&alice.id).await, Some(Standing::Accepted));

        // Each side holds each message once, whatever the polls fetched since (Alice's own sync
        // copy included).
        bob.engine.poll_once().await.unwrap();
        alice.engine.poll_once().await.unwrap();
        for (user, peer) in [(&alice, &bob.id), (&alice2, &bob.id), (&bob, &alice.id)] {
            let history = user.history(peer).await;
            let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
            assert_eq!(bodies, [hello, reply]);
        }
        let mine = alice.history(&bob.id).await;
        assert_eq!((mine[0].status, mine[0].outbox.is_none()), (Status::Sent, true), "nothing left to deliver");
        assert_eq!(bob.arrivals(hello), 1);
        assert_eq!(alice.arrivals(reply), 1);
    });
}

/// Messages sent in a burst keep their order and their distinct timestamps, and a conversation
/// being looked at receives its messages already read.
#[test]
fn a_burst_of_messages_arrives_in_order_and_read_while_viewed() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("burst").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        bob.engine.set_viewing(Some(alice.id));
        let bodies: Vec<String> = (1..=8).map(|i| format!("message {i}")).collect();
        let mut timestamps = Vec::new();
        for body in &bodies {
            timestamps.push(alice.engine.send(&bob.id, body).await.unwrap().timestamp);
        }
        assert!(timestamps.windows(2).all(|w| w[0] < w[1]), "distinct, increasing: {timestamps:?}");
        let long = "é".repeat(hush_client::MAX_CHARS);
        alice.engine.send(&bob.id, &long).await.unwrap();
        assert_eq!(
            alice.engine.send(&bob.id, &format!("{long}x")).await,
            Err(Error::TooLong { max: hush_client::MAX_CHARS })
        );
        assert_eq!(alice.engine.send(&bob.id, " \n ").await, Err(Error::EmptyMessage));

        let history = eventually("all nine messages at Bob's", Duration::from_secs(30), async || {
            let h = bob.history(&alice.id).await;
            (h.len() >= 9).then_some(h)
        })
        .await;
        let got: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
        let mut want: Vec<&str> = bodies.iter().map(String::as_str).collect();
        want.push(&long);
        assert_eq!(got, want, "in the order sent, each once, the longest allowed intact");
        let conversation = bob.engine.conversation(&alice.id).await.unwrap().unwrap();
        assert_eq!(conversation.unread, 0, "a conversation being looked at gets no unread messages");
    });
}

// Polling.

/// Garbage stored in the recipient's swarm is skipped while the real message among it is filed;
/// the same stored message fetched again — by later polls, and by a second engine on the same
/// vault whose poll remembers nothing — is filed once.
#[test]
fn polling_skips_garbage_and_files_a_message_fetched_twice_once() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("polling").await;
        let backend = Shared::default();
        let (engine, control) = new_engine(backend.clone());
        engine.create(&seed(), "Bob", PASSPHRASE).await.unwrap();
        engine.set_relay(&net.relay()).await.unwrap();
        // No background work: every poll here is the test's.
        let bob = User::idle(engine, control);
        let alice = Identity::from_seed(&seed());
        let carol = Identity::from_seed(&seed());

        let real = |body: &str| {
            let t = now_ms();
            message::seal_message(&mut OsRng, &alice, &bob.id, message::text_message(body, Some("Alice")), t).unwrap()
        };
        net.store_direct(&bob.id, &STANDARD.encode(b"not a message at all")).await;
        net.store_direct(&bob.id, &STANDARD.encode([0xff; 300])).await;
        // A real message, sealed for someone else.
        let other =
            message::seal_message(&mut OsRng, &alice, &carol.session_id(), message::text_message("x", None), now_ms());
        net.store_direct(&bob.id, &other.unwrap()).await;
        net.store_direct(&bob.id, &real("the real one")).await;
        // A frame whose sealed content is noise.
        let noise = {
            let good = real("to be spoiled");
            let mut raw = STANDARD.decode(&good).unwrap();
            let n = raw.len();
            for b in &mut raw[n - 40..n - 8] {
                *b ^= 0x5a;
            }
            STANDARD.encode(raw)
        };
        net.store_direct(&bob.id, &noise).await;

        let filed = eventually("the real message", SECONDS_20, async || {
            let filed = bob.engine.poll_once().await.expect("a poll with garbage in it does not fail");
            (!filed.is_empty()).then_some(filed)
        })
        .await;
        let bodies: Vec<&str> = filed.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["the real one"]);
        let conversations = bob.engine.conversations().await.unwrap();
        assert_eq!(conversations.len(), 1, "nothing filed from the garbage: {conversations:?}");

        // Fetched again by later polls (from whichever members they ask): nothing new.
        for _ in 0..4 {
            assert!(bob.engine.poll_once().await.unwrap().is_empty());
        }
        // A second engine on the same vault, whose poll has no memory: it fetches everything
        // again and files nothing.
        let (engine2, control2) = new_engine(backend.clone());
        engine2.unlock(PASSPHRASE).await.unwrap();
        let bob2 = User::idle(engine2, control2);
        assert!(bob2.engine.poll_once().await.unwrap().is_empty(), "filed once, not twice");
        assert!(bob2.net.requests() > 0, "it did fetch");
        assert_eq!(bob2.count(&alice.session_id(), "the real one").await, 1);
        assert_eq!(bob2.engine.conversation(&alice.session_id()).await.unwrap().unwrap().unread, 1);
        assert_eq!(bob.arrivals("the real one"), 1);
        assert_eq!(bob2.arrivals("the real one"), 0);
    });
}

/// After a reload the poll remembers what it handled: old messages neither come back nor arrive
/// again as new, and what came while the engine was closed arrives once.
#[test]
fn a_reload_brings_no_old_message_back_as_new() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("reload").await;
        let alice = memory_user(&net, "Alice").await;
        let backend = Shared::default();
        let bob = User::create(&net.relay(), backend.clone(), &seed(), "Bob").await;
        for body in ["one", "two"] {
            alice.engine.send(&bob.id, body).await.unwrap();
        }
        eventually("both at Bob's", SECONDS_20, async || (bob.history(&alice.id).await.len() == 2).then_some(())).await;
        let bob_id = bob.id;
        bob.crash().await;

        alice.engine.send(&bob_id, "while Bob was away").await.unwrap();
        let bob = User::reopen(backend).await;
        eventually("the new one at Bob's", SECONDS_20, async || {
            (bob.arrivals("while Bob was away") == 1).then_some(())
        })
        .await;
        bob.engine.poll_once().await.unwrap();
        assert_eq!(bob.arrivals("one") + bob.arrivals("two"), 0, "old messages do not arrive again");
        let bodies: Vec<String> = bob.history(&alice.id).await.into_iter().map(|m| m.body).collect();
        assert_eq!(bodies, ["one", "two", "while Bob was away"]);
        assert_eq!(bob.engine.conversation(&alice.id).await.unwrap().unwrap().unread, 3);
    });
}

// The outbox.

/// With the sender offline, messages go Failed (with the reason) after their five rounds; when the
/// network returns they are delivered on their own — no Retry — and arrive exactly once.
#[test]
fn messages_failed_in_an_outage_go_out_on_their_own_when_the_network_returns() {
    run_test(Duration::from_secs(75), async || {
        let net = Net::start("outage").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;

        alice.net.set(Script::Offline);
        let started = Instant::now();
        let mut sent = Vec::new();
        for body in ["first in the outage", "second in the outage"] {
            sent.push(alice.engine.send(&bob.id, body).await.unwrap());
        }
        for m in &sent {
            let failed = eventually("the message to show as failed", Duration::from_secs(35), async || {
                alice
                    .message_events()
                    .into_iter()
                    .find(|(e, _)| e.id == m.id && e.status == Status::Failed)
                    .map(|(e, _)| e)
            })
            .await;
            assert!(failed.problem.as_deref().is_some_and(|p| !p.is_empty()), "a failure says why: {failed:?}");
            let reason = failed.failure.as_ref().map(ToString::to_string);
            assert_eq!(reason, failed.problem, "the typed reason is the one in words: {failed:?}");
            assert!(failed.outbox.is_some(), "a failed message stays in the outbox");
        }
        let after = started.elapsed();
        assert!(
            after >= Duration::from_secs(20),
            "failed only after the rounds (1.5 + 3 + 6 + 12 s), not after {after:?}"
        );
        assert_eq!(bob.history(&alice.id).await.len(), 0);

        alice.net.set(Script::Pass);
        let back = Instant::now();
        eventually("both delivered without a retry", Duration::from_secs(40), async || {
            sent.iter().all(|m| alice.statuses(&m.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        let took = back.elapsed();
        eventually("both at Bob's", SECONDS_20, async || (bob.history(&alice.id).await.len() == 2).then_some(())).await;
        bob.engine.poll_once().await.unwrap();
        for m in &sent {
            assert_eq!(bob.count(&alice.id, &m.body).await, 1, "{}", m.body);
            assert_eq!(bob.arrivals(&m.body), 1);
            assert_eq!(alice.count(&bob.id, &m.body).await, 1);
            assert_eq!(alice.statuses(&m.id), [Status::Sending, Status::Failed, Status::Sent]);
        }
        let delivered = alice.history(&bob.id).await;
        assert!(delivered.iter().all(|m| m.problem.is_none() && m.outbox.is_none()), "{delivered:?}");
        eprintln!("delivered {took:?} after the network returned");
    });
}

/// A message sent offline outlives its engine: a new engine on the same SQLite file delivers it,
/// exactly once.
#[test]
fn the_outbox_survives_a_restart_on_sqlite() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("restart").await;
        let bob = memory_user(&net, "Bob").await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alice.sqlite");
        let alice = User::create(&net.relay(), SqliteBackend::open(&path).unwrap(), &seed(), "Alice").await;
        alice.net.set(Script::Offline);
        let before = alice.net.requests();
        let sent = alice.engine.send(&bob.id, "kept across a restart").await.unwrap();
        alice.engine.set_draft(&bob.id, "half typed").await.unwrap();
        eventually("an attempt to fail", SECONDS_20, async || (alice.net.requests() > before).then_some(())).await;
        alice.crash().await;

        let alice = User::reopen(SqliteBackend::open(&path).unwrap()).await;
        eventually("the message at Bob's", SECONDS_20, async || {
            (bob.arrivals("kept across a restart") == 1).then_some(())
        })
        .await;
        eventually("it to show as sent", SECONDS_20, async || {
            (alice.statuses(&sent.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        bob.engine.poll_once().await.unwrap();
        assert_eq!(bob.count(&alice.id, "kept across a restart").await, 1);
        let history = alice.history(&bob.id).await;
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].id.as_str(), history[0].status), (sent.id.as_str(), Status::Sent));
        assert_eq!(alice.engine.draft(&bob.id).await.unwrap(), "half typed");
    });
}

/// Send, then the tab closes at once (mid-delivery, or before it began): the next engine on the
/// same storage delivers the message, and the recipient sees it exactly once.
#[test]
fn send_then_an_immediate_reload_delivers_exactly_once() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("reload-send").await;
        let bob = memory_user(&net, "Bob").await;
        let backend = Shared::default();
        let alice = User::create(&net.relay(), backend.clone(), &seed(), "Alice").await;
        // Warm: paths and swarms known, so the delivery is well under way when the tab closes.
        alice.engine.send(&bob.id, "warm up").await.unwrap();
        eventually("the warm-up", SECONDS_20, async || (bob.arrivals("warm up") == 1).then_some(())).await;

        let bodies = ["closed at once", "closed a moment later"];
        let first = alice.engine.send(&bob.id, bodies[0]).await.unwrap();
        let alice = {
            alice.crash().await;
            User::reopen(backend.clone()).await
        };
        let second = alice.engine.send(&bob.id, bodies[1]).await.unwrap();
        let before = alice.net.requests();
        eventually("a request under way", SECONDS_20, async || (alice.net.requests() > before).then_some(())).await;
        alice.crash().await;
        let alice = User::reopen(backend).await;

        // Whichever engine finished it, each shows as sent.
        eventually("delivery after the reload", SECONDS_20, async || {
            let history = alice.history(&bob.id).await;
            [&first, &second]
                .iter()
                .all(|m| history.iter().any(|h| h.id == m.id && h.status == Status::Sent && h.outbox.is_none()))
                .then_some(())
        })
        .await;
        eventually("both at Bob's", SECONDS_20, async || bodies.iter().all(|b| bob.arrivals(b) >= 1).then_some(()))
            .await;
        bob.engine.poll_once().await.unwrap();
        for body in bodies {
            assert_eq!(bob.count(&alice.id, body).await, 1, "{body}");
            assert_eq!(bob.arrivals(body), 1, "{body}");
            assert_eq!(alice.count(&bob.id, body).await, 1, "{body}");
        }
    });
}

// Message requests, blocking, deleting.

/// A first message arrives as a request; accepting it while offline reaches the other side when
/// the network comes back (they see `approved_me`, and our name); replying to a request accepts it.
#[test]
fn requests_accepted_offline_are_delivered_later_and_replying_accepts() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("requests").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        let carol = memory_user(&net, "Carol").await;

        alice.engine.send(&bob.id, "hello, we have not met").await.unwrap();
        eventually("the request at Bob's", SECONDS_20, async || {
            (bob.standing(&alice.id).await == Some(Standing::Request)).then_some(())
        })
        .await;
        assert_eq!(alice.standing(&bob.id).await, Some(Standing::Accepted), "the sender's side is a conversation");
        assert!(!alice.engine.approved_me(&bob.id).await);

        bob.net.set(Script::Offline);
        let before = bob.net.requests();
        bob.engine.accept(&alice.id).await.unwrap();
        assert_eq!(bob.standing(&alice.id).await, Some(Standing::Accepted));
        eventually("attempts while offline", SECONDS_20, async || (bob.net.requests() >= before + 3).then_some(()))
            .await;
        assert!(!alice.engine.approved_me(&bob.id).await);
        bob.net.set(Script::Pass);
        eventually("Alice to learn Bob accepted", Duration::from_secs(30), async || {
            alice.engine.approved_me(&bob.id).await.then_some(())
        })
        .await;
        assert_eq!(
            alice.engine.conversation(&bob.id).await.unwrap().unwrap().title(),
            "Bob",
            "the acceptance carries the name"
        );

        // Replying to a request accepts it, and tells the other side.
        carol.engine.send(&bob.id, "Carol here").await.unwrap();
        eventually("Carol's request at Bob's", SECONDS_20, async || {
            (bob.standing(&carol.id).await == Some(Standing::Request)).then_some(())
        })
        .await;
        bob.engine.send(&carol.id, "hi Carol").await.unwrap();
        assert_eq!(bob.standing(&carol.id).await, Some(Standing::Accepted));
        eventually("Carol to learn Bob accepted", SECONDS_20, async || {
            carol.engine.approved_me(&bob.id).await.then_some(())
        })
        .await;
        assert_eq!(carol.arrivals("hi Carol"), 1);
    });
}

/// Messages from a blocked person are not filed (nor announced), and stay away after unblocking;
/// what they send after being unblocked arrives. Deleting a conversation forgets it: its old
/// messages do not come back, and a new message starts a request again.
#[test]
fn blocked_people_are_not_heard_until_unblocked_and_deleted_conversations_stay_gone() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("blocking").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;

        alice.engine.send(&bob.id, "before the block").await.unwrap();
        eventually("the first message", SECONDS_20, async || (bob.arrivals("before the block") == 1).then_some(()))
            .await;
        bob.engine.block(&alice.id).await.unwrap();
        assert_eq!(bob.standing(&alice.id).await, Some(Standing::Blocked));

        let blocked = alice.engine.send(&bob.id, "while blocked").await.unwrap();
        eventually("it to be stored", SECONDS_20, async || {
            (alice.statuses(&blocked.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        // Two polls after it was stored: it was fetched, and dropped.
        bob.engine.poll_once().await.unwrap();
        bob.engine.poll_once().await.unwrap();
        assert_eq!(bob.count(&alice.id, "while blocked").await, 0);
        assert_eq!(bob.arrivals("while blocked"), 0);
        let list = bob.engine.conversations().await.unwrap();
        assert_eq!(list.last().map(|c| (c.peer, c.standing)), Some((alice.id, Standing::Blocked)), "listed last");

        bob.engine.unblock(&alice.id).await.unwrap();
        assert_eq!(bob.standing(&alice.id).await, Some(Standing::Accepted));
        alice.engine.send(&bob.id, "after the unblock").await.unwrap();
        eventually("the message after unblocking", SECONDS_20, async || {
            (bob.arrivals("after the unblock") == 1).then_some(())
        })
        .await;
        let bodies: Vec<String> = bob.history(&alice.id).await.into_iter().map(|m| m.body).collect();
        assert_eq!(bodies, ["before the block", "after the unblock"], "what came while blocked stays away");

        // Deleting forgets the conversation; its messages are not fetched back.
        bob.engine.delete_conversation(&alice.id).await.unwrap();
        bob.engine.poll_once().await.unwrap();
        assert_eq!(bob.engine.conversation(&alice.id).await.unwrap(), None);
        assert!(bob.history(&alice.id).await.is_empty());
        alice.engine.send(&bob.id, "are you there?").await.unwrap();
        eventually("a new message after the delete", SECONDS_20, async || {
            (bob.arrivals("are you there?") == 1).then_some(())
        })
        .await;
        assert_eq!(bob.standing(&alice.id).await, Some(Standing::Request), "a new request");
        let bodies: Vec<String> = bob.history(&alice.id).await.into_iter().map(|m| m.body).collect();
        assert_eq!(bodies, ["are you there?"]);
    });
}

// Content Hush cannot show yet.

/// A photo with no text (as Session Desktop sends one) is filed and shown as a sentence, never
/// dropped; with a caption, the caption is shown and the photo is still marked.
/// A 1×1 JPEG (baseline, JFIF, no metadata): a picture the engine sends as it is.
const JPEG_HEX: &str = concat!(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912",
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001",
    "000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b51000020103",
    "03020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024336272",
    "82090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475",
    "767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9",
    "cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd0ffd9",
);

/// A 1×1 GIF with no comment or application extension: sent as it is.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// Files both ways through the devnet's file server, onion-routed: two files in one message
/// with a caption, each uploaded before the message is sealed; the recipient sees their kinds,
/// names and sizes at once and gets each file's bytes on asking, checked and then kept sealed
/// (no network needed the second time); the sender's own copy is on its device from the start.
#[test]
fn files_go_through_the_file_server_and_come_back_byte_for_byte() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("files").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        // A picture (bytes that were not one would go as a file) and a file of several pieces.
        let photo = hex::decode(JPEG_HEX).unwrap();
        let notes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let files = vec![
            new_file("holiday.jpg", "image/jpeg", &photo, Some((640, 480))),
            new_file("notes.bin", "application/octet-stream", &notes, None),
        ];
        let sent = alice.engine.send_files(&bob.id, "two files", None, files).await.unwrap();
        assert_eq!(sent.status, Status::Sending);
        let states: Vec<AttachmentState> = sent.attachments.iter().map(|a| a.state).collect();
        assert_eq!(states, [AttachmentState::Uploading, AttachmentState::Uploading]);
        assert_eq!(&*alice.engine.file(&sent.id, 0).await.unwrap(), photo.as_slice(), "the sender's copy is local");
        eventually("the message to be sent", Duration::from_secs(30), async || {
            (alice.statuses(&sent.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        let mine = alice.history(&bob.id).await.pop().unwrap();
        assert!(mine.attachments.iter().all(|a| a.state == AttachmentState::Saved && a.url.is_some()), "{mine:?}");
        assert_eq!(net.devnet.file_server.file_count().unwrap(), 2, "one upload per file");
        // Each upload told how far it got, byte by byte, up to the whole onion around the file.
        let told: Vec<(usize, u64, u64)> = alice
            .events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Upload { id, index, sent: bytes, total } if *id == sent.id => Some((*index, *bytes, *total)),
                _ => None,
            })
            .collect();
        let of_notes: Vec<&(usize, u64, u64)> = told.iter().filter(|(i, _, _)| *i == 1).collect();
        assert!(of_notes.len() >= 4, "a 300 KB upload is told in pieces: {of_notes:?}");
        assert!(of_notes.windows(2).all(|w| w[0].1 < w[1].1), "only forward: {of_notes:?}");
        let &&(_, last, total) = of_notes.last().unwrap();
        assert!(last == total && total > notes.len() as u64, "{of_notes:?}");

        let got = eventually("the files at Bob's", SECONDS_20, async || {
            bob.message_events().into_iter().find(|(m, arrived)| *arrived && m.body == "two files").map(|(m, _)| m)
        })
        .await;
        let seen: Vec<(Option<&str>, AttachmentKind, u64, AttachmentState)> =
            got.attachments.iter().map(|a| (a.file_name.as_deref(), a.kind(), a.size, a.state)).collect();
        assert_eq!(
            seen,
            [
                (Some("holiday.jpg"), AttachmentKind::Image, photo.len() as u64, AttachmentState::Remote),
                (Some("notes.bin"), AttachmentKind::File, notes.len() as u64, AttachmentState::Remote),
            ]
        );
        assert_eq!((got.attachments[0].width, got.attachments[0].height), (Some(640), Some(480)));
        assert_eq!(&*bob.engine.file(&got.id, 0).await.unwrap(), photo.as_slice());
        assert_eq!(&*bob.engine.file(&got.id, 1).await.unwrap(), notes.as_slice());
        let kept = bob.history(&alice.id).await.pop().unwrap();
        assert!(kept.attachments.iter().all(|a| a.state == AttachmentState::Saved));
        // Kept: read again with the network gone.
        bob.net.set(Script::Offline);
        assert_eq!(&*bob.engine.file(&got.id, 1).await.unwrap(), notes.as_slice());
        bob.net.set(Script::Pass);

        // A picture alone, the other way: no body on the wire, and the list says what it holds.
        let reply = bob.engine.send_files(&alice.id, "", None, vec![new_file("a.gif", "image/gif", GIF, None)]);
        let reply = reply.await.unwrap();
        let back = eventually("the picture at Alice's", SECONDS_20, async || {
            alice
                .message_events()
                .into_iter()
                .find(|(m, arrived)| *arrived && m.timestamp == reply.timestamp)
                .map(|(m, _)| m)
        })
        .await;
        assert_eq!((back.body.as_str(), back.shown_text().as_str()), ("", "A photo."));
        assert_eq!(&*alice.engine.file(&back.id, 0).await.unwrap(), GIF);
        let listed = alice.engine.conversation(&bob.id).await.unwrap().unwrap();
        assert_eq!(listed.preview, "A photo.");

        // Over the limit: refused before anything is kept or sent.
        let big = vec![0u8; 10_000_001];
        let refused =
            alice.engine.send_files(&bob.id, "", None, vec![new_file("big.bin", "application/zip", &big, None)]);
        assert_eq!(refused.await, Err(Error::FileTooLarge { size: 10_000_001, max: 10_000_000 }));
        // Deleting the message frees its files on this device.
        bob.engine.delete_for_me(&got.id).await.unwrap();
        assert_eq!(bob.engine.file(&got.id, 0).await, Err(Error::MessageGone));
    });
}

/// A file whose download does not match its digest is never shown, and says it is damaged; one
/// the file server no longer has says so; a pointer that names no file server is never fetched.
#[test]
fn a_tampered_or_expired_file_is_never_shown() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("tampered").await;
        let bob = memory_user(&net, "Bob").await;
        let alice = Identity::from_seed(&seed());
        let data = b"the real picture".to_vec();
        let encrypted = crypto_core::attachment::encrypt_legacy(&mut OsRng, &data).unwrap();
        let reply = reqwest::Client::new()
            .post(format!("{}/file", net.devnet.file_server_url))
            .body(encrypted.data.clone())
            .send()
            .await
            .unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        let id = reply["id"].as_str().unwrap().to_owned();
        let key = hex::encode(net.devnet.file_server.ed25519());
        let pointer = |url: String, digest: Vec<u8>| AttachmentPointer {
            id: Some(0),
            content_type: Some("image/jpeg".into()),
            key: Some(encrypted.key.as_bytes().to_vec()),
            size: Some(data.len() as u32),
            digest: Some(digest),
            file_name: Some("IMG_0001.jpg".into()),
            url: Some(url),
            ..Default::default()
        };
        let mut wrong = encrypted.digest.unwrap().to_vec();
        wrong[0] ^= 1;
        let gone = format!("{}/file/{}#p={key}", net.devnet.file_server_url, "A".repeat(44));
        let pointers = vec![
            pointer(format!("{}/file/{id}#p={key}", net.devnet.file_server_url), wrong),
            pointer(gone, encrypted.digest.unwrap().to_vec()),
            pointer(format!("{}/file/{id}#p={key}", net.devnet.file_server_url), encrypted.digest.unwrap().to_vec()),
            pointer("javascript:alert(1)".into(), encrypted.digest.unwrap().to_vec()),
        ];
        let content = Content {
            data_message: Some(DataMessage {
                attachments: pointers,
                profile: Some(LokiProfile { display_name: Some("Alice".into()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let t = now_ms();
        net.store_direct(&bob.id, &message::seal_message(&mut OsRng, &alice, &bob.id, content, t).unwrap()).await;
        let got = eventually("the message", SECONDS_20, async || {
            bob.message_events().into_iter().find(|(m, arrived)| *arrived && m.timestamp == t).map(|(m, _)| m)
        })
        .await;
        assert_eq!(got.attachments[3].state, AttachmentState::Damaged, "never fetched");
        assert_eq!(bob.engine.file(&got.id, 0).await, Err(Error::FileDamaged));
        assert_eq!(bob.engine.file(&got.id, 1).await, Err(Error::FileExpired));
        assert_eq!(&*bob.engine.file(&got.id, 2).await.unwrap(), data.as_slice(), "the right digest opens");
        assert_eq!(bob.engine.file(&got.id, 3).await, Err(Error::FileDamaged));
        let kept = bob.history(&alice.session_id()).await.pop().unwrap();
        let states: Vec<AttachmentState> = kept.attachments.iter().map(|a| a.state).collect();
        assert_eq!(
            states,
            [AttachmentState::Damaged, AttachmentState::Expired, AttachmentState::Saved, AttachmentState::Damaged]
        );
    });
}

/// Files sent, then the tab closes mid-upload: the next engine uploads what was not uploaded
/// (the same encrypted bytes, kept in the outbox) and the message arrives once, its files whole.
#[test]
fn a_reload_mid_upload_sends_the_files_once() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("reload-files").await;
        let bob = memory_user(&net, "Bob").await;
        let backend = Shared::default();
        let alice = User::create(&net.relay(), backend.clone(), &seed(), "Alice").await;
        alice.engine.send(&bob.id, "warm up").await.unwrap();
        eventually("the warm-up", SECONDS_20, async || (bob.arrivals("warm up") == 1).then_some(())).await;
        let one: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
        let two: Vec<u8> = (0..1_000u32).map(|i| (i % 7) as u8).collect();
        let files =
            vec![new_file("one.bin", "application/octet-stream", &one, None), new_file("two.bin", "", &two, None)];
        let before = alice.net.requests();
        let sent = alice.engine.send_files(&bob.id, "after a reload", None, files).await.unwrap();
        eventually("an upload under way", SECONDS_20, async || (alice.net.requests() > before).then_some(())).await;
        alice.crash().await;
        let alice = User::reopen(backend).await;
        eventually("the message sent", Duration::from_secs(40), async || {
            let h = alice.history(&bob.id).await;
            h.iter().any(|m| m.id == sent.id && m.status == Status::Sent).then_some(())
        })
        .await;
        let got = eventually("it at Bob's", SECONDS_20, async || {
            bob.message_events().into_iter().find(|(m, arrived)| *arrived && m.body == "after a reload").map(|(m, _)| m)
        })
        .await;
        assert_eq!(&*bob.engine.file(&got.id, 0).await.unwrap(), one.as_slice());
        assert_eq!(&*bob.engine.file(&got.id, 1).await.unwrap(), two.as_slice());
        bob.engine.poll_once().await.unwrap();
        assert_eq!(bob.count(&alice.id, "after a reload").await, 1);
        assert_eq!(bob.arrivals("after a reload"), 1);
        assert!(net.devnet.file_server.file_count().unwrap() <= 3, "each file uploaded at most twice");
    });
}

/// A profile picture set, carried by every message (URL and key), fetched and shown by the
/// recipient; a new one replaces it; removing it removes it at the recipient too.
#[test]
fn profile_pictures_reach_contacts_and_leave_with_a_removal() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("avatars").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        let first: Vec<u8> = (0..40_000u32).map(|i| (i % 241) as u8).collect();
        alice.engine.set_avatar(&first).await.unwrap();
        assert_eq!(alice.engine.avatar(None).await.unwrap().as_deref().map(|b| b.as_slice()), Some(first.as_slice()));
        alice.engine.send(&bob.id, "with my picture").await.unwrap();
        eventually("the message at Bob's", SECONDS_20, async || (bob.arrivals("with my picture") == 1).then_some(()))
            .await;
        let picture = eventually("the picture at Bob's", SECONDS_20, async || {
            bob.engine.avatar(Some(&alice.id)).await.ok().flatten()
        })
        .await;
        assert_eq!(picture.as_slice(), first.as_slice());
        let c = bob.engine.conversation(&alice.id).await.unwrap().unwrap();
        assert_eq!(c.avatar.as_ref().map(|a| a.state), Some(AttachmentState::Saved));

        let second = vec![7u8; 5_000];
        alice.engine.set_avatar(&second).await.unwrap();
        alice.engine.send(&bob.id, "a new picture").await.unwrap();
        eventually("the new message", SECONDS_20, async || (bob.arrivals("a new picture") == 1).then_some(())).await;
        let picture = bob.engine.avatar(Some(&alice.id)).await.unwrap().unwrap();
        assert_eq!(picture.as_slice(), second.as_slice());

        alice.engine.remove_avatar().await.unwrap();
        assert_eq!(alice.engine.avatar(None).await.unwrap(), None);
        alice.engine.send(&bob.id, "no picture").await.unwrap();
        eventually("the picture gone at Bob's", SECONDS_20, async || {
            let c = bob.engine.conversation(&alice.id).await.unwrap().unwrap();
            c.avatar.is_none().then_some(())
        })
        .await;
        assert_eq!(bob.engine.avatar(Some(&alice.id)).await.unwrap(), None);
    });
}

fn new_file(name: &str, content_type: &str, bytes: &[u8], size: Option<(u32, u32)>) -> NewFile {
    NewFile {
        file_name: name.into(),
        content_type: content_type.into(),
        bytes: bytes.to_vec().into(),
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        voice: false,
    }
}

// Drafts.

/// A draft is kept, sealed, across a restart of the engine; sending clears it.
#[test]
fn drafts_survive_a_restart_and_a_send_clears_them() {
    run_test(Duration::from_secs(30), async || {
        let backend = Shared::default();
        let (engine1, control) = new_engine(backend.clone());
        engine1.create(&seed(), "Alice", PASSPHRASE).await.unwrap();
        control.set(Script::Offline);
        let alice = User::idle(engine1, control);
        let bob = Identity::from_seed(&seed()).session_id();
        let carol = Identity::from_seed(&seed()).session_id();
        let draft = "a long thought, not finished 🌱\nwith a second line";
        alice.engine.set_draft(&bob, draft).await.unwrap();
        alice.engine.set_draft(&carol, "for Carol").await.unwrap();
        for store in ["account", "messages", "conversations2"] {
            for key in backend.keys(store).await.unwrap() {
                let raw = backend.get(store, &key).await.unwrap().unwrap();
                assert!(!raw.windows(12).any(|w| w == b"a long thoug"), "the draft is sealed");
            }
        }
        alice.engine.lock();
        assert_eq!(alice.engine.draft(&bob).await, Err(Error::Locked));
        drop(alice);

        let (engine2, control) = new_engine(backend.clone());
        engine2.unlock(PASSPHRASE).await.unwrap();
        control.set(Script::Offline);
        assert_eq!(engine2.draft(&bob).await.unwrap(), draft);
        assert_eq!(engine2.draft(&carol).await.unwrap(), "for Carol");
        engine2.send(&bob, "finished").await.unwrap();
        assert_eq!(engine2.draft(&bob).await.unwrap(), "", "sending clears the draft");
        assert_eq!(engine2.draft(&carol).await.unwrap(), "for Carol", "only that conversation's");
        engine2.set_draft(&carol, "").await.unwrap();
        assert_eq!(engine2.draft(&carol).await.unwrap(), "");
        // An empty send keeps the draft (the person's text stays where it was).
        engine2.set_draft(&bob, "  ").await.unwrap();
        assert_eq!(engine2.send(&bob, "  ").await, Err(Error::EmptyMessage));
        assert_eq!(engine2.draft(&bob).await.unwrap(), "  ");
    });
}

// Stalls and lock.

/// A relay that accepts requests and never answers holds neither polling nor delivery: each
/// request is abandoned at its deadline and the next one goes out; after the stall ends, the
/// message waiting in the outbox is delivered and polling picks it up within a bounded time.
#[test]
fn a_stalled_relay_stops_neither_polling_nor_delivery() {
    run_test(Duration::from_secs(75), async || {
        let net = Net::start("stall").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        alice.engine.send(&bob.id, "before the stall").await.unwrap();
        eventually("a message before the stall", SECONDS_20, async || {
            (bob.arrivals("before the stall") == 1).then_some(())
        })
        .await;

        alice.net.set(Script::Stall);
        bob.net.set(Script::Stall);
        let stalled = Instant::now();
        let during = alice.engine.send(&bob.id, "sent into the stall").await.unwrap();
        let (a0, b0) = (alice.net.requests(), bob.net.requests());
        // Each side sends the request to a second member when the first has not answered within
        // the hedge delay, abandons both at the deadline (8 s) and goes on with the next.
        eventually("new requests despite the stall", SECONDS_20, async || {
            (alice.net.requests() >= a0 + 3 && bob.net.requests() >= b0 + 3).then_some(())
        })
        .await;
        assert!(stalled.elapsed() >= Duration::from_secs(7), "nothing came back early from a stall");
        assert_eq!(alice.statuses(&during.id).last(), Some(&Status::Sending));

        alice.net.set(Script::Pass);
        bob.net.set(Script::Pass);
        let ended = Instant::now();
        eventually("the message after the stall", Duration::from_secs(35), async || {
            (bob.arrivals("sent into the stall") == 1).then_some(())
        })
        .await;
        eprintln!("shown {:?} after the stall ended", ended.elapsed());
        assert_eq!(alice.statuses(&during.id).last(), Some(&Status::Sent));
        assert_eq!(bob.count(&alice.id, "sent into the stall").await, 1);
    });
}

/// A relay that accepts the connection and then never answers (a real socket, not a script): the
/// native HTTPS transport and the engine's own deadline end each request, and the engine reports
/// the problem.
#[test]
fn a_real_socket_that_never_answers_is_abandoned_at_the_deadline() {
    run_test(Duration::from_secs(40), async || {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Rc::new(RefCell::new(Vec::new()));
        let keep = held.clone();
        tokio::task::spawn_local(async move {
            while let Ok((socket, _)) = listener.accept().await {
                keep.borrow_mut().push(socket);
            }
        });
        let (engine, control) = new_engine(Shared::default());
        engine.create(&seed(), "Alice", PASSPHRASE).await.unwrap();
        engine.set_relay(&format!("http://127.0.0.1:{port}")).await.unwrap();
        let alice = User::idle(engine, control);
        let started = Instant::now();
        let failed = alice.engine.poll_once().await;
        let took = started.elapsed();
        assert!(failed.is_err(), "{failed:?}");
        assert!(
            took >= Duration::from_secs(9) && took <= Duration::from_secs(15),
            "the node list's 10 s deadline: {took:?}"
        );
        assert!(!held.borrow().is_empty(), "the connection was accepted");
        let status = alice.engine.net_status().unwrap();
        assert!(status.failure.is_some(), "{status:?}");
    });
}

/// Locking ends the background work promptly (the session's keys are dropped with it): no request
/// is made after, and a new unlock starts again where it left off.
#[test]
fn locking_stops_the_background_work_and_unlocking_resumes_it() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("lock").await;
        let alice = memory_user(&net, "Alice").await;
        let mut bob = memory_user(&net, "Bob").await;
        alice.engine.send(&bob.id, "before the lock").await.unwrap();
        eventually("a message", SECONDS_20, async || (bob.arrivals("before the lock") == 1).then_some(())).await;

        bob.engine.lock();
        assert!(!bob.engine.is_unlocked());
        let task = bob.task.take().unwrap();
        let locked = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the background work ends after a lock")
            .unwrap();
        eprintln!("the background work ended {:?} after the lock", locked.elapsed());
        let count = bob.net.requests();
        alice.engine.send(&bob.id, "while locked").await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(bob.net.requests(), count, "no request while locked");
        assert_eq!(bob.engine.history(&alice.id, 10).await, Err(Error::Locked));

        bob.engine.unlock(PASSPHRASE).await.unwrap();
        let background = bob.engine.clone();
        bob.task = Some(tokio::task::spawn_local(async move { background.run().await }));
        eventually("the message sent while locked", SECONDS_20, async || {
            (bob.arrivals("while locked") == 1).then_some(())
        })
        .await;
        assert_eq!(bob.arrivals("before the lock"), 1, "not again");
        assert_eq!(bob.history(&alice.id).await.len(), 2);

        // Locked while offline and backing off (polls 3, 6, 12 s apart): it ends as promptly.
        bob.net.set(Script::Offline);
        let before = bob.net.requests();
        eventually("polls failing", SECONDS_20, async || (bob.net.requests() >= before + 3).then_some(())).await;
        bob.engine.lock();
        let task = bob.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the background work ends after a lock")
            .unwrap();
    });
}

// A dead node still listed.

/// One member of the recipient's swarm dead but still listed, as on the real network (the hop
/// before it waits 30 s before it answers 504; a `store` waits 5 s for it): no message is lost,
/// and none waits for a deadline — the second member asked beside a slow first one answers.
/// (The figure over 30 messages is `client/examples/dead_member.rs`, in BENCHMARKS.md.)
#[test]
fn a_dead_member_still_listed_loses_nothing_and_delays_little() {
    run_test(Duration::from_secs(600), async || {
        let dir = tempfile::Builder::new().prefix("hush-engine-test-dead-").tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        config.nodes = 8;
        config.swarm_size = 4;
        let mut devnet = Devnet::start(config).await.expect("the devnet starts");
        trust(dir.path());
        let relay = devnet.app_url.clone();
        let alice = User::create(&relay, Shared::default(), &seed(), "Alice").await;
        let bob = User::create(&relay, Shared::default(), &seed(), "Bob").await;
        alice.engine.send(&bob.id, "warm-up").await.unwrap();
        eventually("the warm-up", SECONDS_20, async || (bob.arrivals("warm-up") == 1).then_some(())).await;

        let swarm = devnet.network.swarm_of(&bob.id).expect("Bob's swarm");
        let dead = devnet.network.nodes().iter().position(|n| n.info.swarm_id == swarm).expect("a member");
        devnet.kill_node(dead);
        let mut worst = Duration::ZERO;
        for i in 0..8 {
            let text = format!("with a dead member {i}");
            let sent = Instant::now();
            alice.engine.send(&bob.id, &text).await.unwrap();
            eventually(&text, Duration::from_secs(70), async || (bob.arrivals(&text) == 1).then_some(())).await;
            worst = worst.max(sent.elapsed());
        }
        eprintln!("worst send → shown with a dead member: {worst:?}");
        // Nothing is lost. How long a message takes depends on whether the dead node is also a hop
        // of a path here (8 nodes: often), and on load: up to 28 s was seen, so no time is asserted;
        // the figure, on 12 nodes and a quiet machine, is client/examples/dead_member.rs.
        for i in 0..8 {
            assert_eq!(bob.count(&alice.id, &format!("with a dead member {i}")).await, 1);
        }
        devnet.shutdown();
    });
}

// Replies, reactions, deleting, receipts and typing.

impl<B: Backend + 'static> User<B> {
    /// The message `id` as this user's engine holds it now.
    async fn message(&self, peer: &SessionId, id: &str) -> Option<Message> {
        self.history(peer).await.into_iter().find(|m| m.id == id)
    }

    /// Waits until the message `id` of the conversation with `peer` satisfies `check`.
    async fn until(&self, what: &str, peer: &SessionId, id: &str, check: impl Fn(&Message) -> bool) -> Message {
        eventually(what, SECONDS_20, async || self.message(peer, id).await.filter(|m| check(m))).await
    }

    /// The id this user filed the message with `body` under, once it is there.
    async fn id_of(&self, peer: &SessionId, body: &str) -> String {
        eventually(body, SECONDS_20, async || {
            self.history(peer).await.into_iter().find(|m| m.body == body).map(|m| m.id)
        })
        .await
    }
}

/// A reply carries the quote of the protocol (the quoted message's author and sent time); it
/// is linked to the original on both sides and on the sender's second device. Reactions go both
/// ways, to the second device too, and a removal takes them off. Deleting for everyone leaves the
/// "deleted" marker at both ends and on the second device; the recipient's engine also deletes
/// its copy from its swarm, so a device restored later never sees the text. Deleting for me
/// takes a message off this device only.
#[test]
fn replies_reactions_and_deleting_round_trip_between_engines_and_devices() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("interactions").await;
        let (alice_seed, bob_seed) = (seed(), seed());
        let alice = User::create(&net.relay(), Shared::default(), &alice_seed, "Alice").await;
        let alice2 = User::create(&net.relay(), Shared::default(), &alice_seed, "Alice").await;
        let bob = User::create(&net.relay(), Shared::default(), &bob_seed, "Bob").await;

        let first = alice.engine.send(&bob.id, "first, to be deleted").await.unwrap();
        let at_bob = bob.id_of(&alice.id, "first, to be deleted").await;

        // Bob replies to it.
        let reply = bob.engine.send_reply(&alice.id, "a reply", &at_bob).await.unwrap();
        let quote = reply.quote.clone().expect("the reply quotes");
        assert_eq!(
            (quote.author, quote.timestamp, quote.text.as_str()),
            (alice.id, first.timestamp, "first, to be deleted")
        );
        let reply_at_alice = alice.id_of(&bob.id, "a reply").await;
        for device in [&alice, &alice2] {
            let id = device.id_of(&bob.id, "a reply").await;
            let m = device.message(&bob.id, &id).await.unwrap();
            let quote = m.quote.expect("the quote arrives");
            assert_eq!((quote.author, quote.timestamp), (alice.id, first.timestamp));
            assert_eq!(quote.id.as_deref(), Some(first.id.as_str()), "linked to the original, for the jump");
            assert_eq!(quote.text, "first, to be deleted");
        }
        assert_eq!(bob.engine.send_reply(&alice.id, "to nothing", "in/no-such-message").await, Err(Error::MessageGone));

        // Bob reacts to Alice's message; Alice (both devices) sees it; Bob takes it back.
        bob.engine.react(&at_bob, "👍", true).await.unwrap();
        assert_eq!(bob.engine.react(&at_bob, "not one emoji", true).await, Err(Error::NotAnEmoji));
        for device in [&alice, &alice2] {
            let m = device.until("Bob's 👍", &bob.id, &first.id, |m| !m.reactions().is_empty()).await;
            assert_eq!(m.reactions(), [("👍".to_owned(), vec![bob.id])]);
        }
        bob.engine.react(&at_bob, "👍", false).await.unwrap();
        alice.until("the 👍 removed", &bob.id, &first.id, |m| m.reactions().is_empty()).await;

        // Alice reacts to Bob's reply; Bob sees it, and Alice's second device from the sync copy.
        alice.engine.react(&reply_at_alice, "❤️", true).await.unwrap();
        let m = bob.until("Alice's ❤️", &alice.id, &reply.id, |m| !m.reactions().is_empty()).await;
        assert_eq!(m.reactions(), [("❤️".to_owned(), vec![alice.id])]);
        let on_second = alice2.id_of(&bob.id, "a reply").await;
        alice2.until("Alice's ❤️ on her second device", &bob.id, &on_second, |m| !m.reactions().is_empty()).await;

        // Alice deletes her first message for everyone. Before: both swarms hold their copy.
        let bob_copy = at_bob.strip_prefix("in/").unwrap().to_owned();
        let alice_copy = first.swarm_hash.clone().expect("the sync copy's hash is known when sending");
        assert_eq!((net.holding(&bob.id, &bob_copy), net.holding(&alice.id, &alice_copy)), (3, 3));
        assert_eq!(bob.engine.delete_for_everyone(&at_bob).await, Err(Error::NotYours));
        let deleted = alice.engine.delete_for_everyone(&first.id).await.unwrap();
        assert_eq!((deleted.status, deleted.body.as_str()), (Status::Deleted, ""));
        let gone = bob.until("the unsend at Bob's", &alice.id, &at_bob, |m| m.status == Status::Deleted).await;
        assert_eq!((gone.body.as_str(), gone.reactions.len()), ("", 0));
        assert_eq!(gone.shown_text(), "This message was deleted.");
        alice2.until("the unsend on Alice's second device", &bob.id, &first.id, |m| m.status == Status::Deleted).await;
        // The reply's quote still names it; the quote's text was the reply's own.
        assert!(bob.history(&alice.id).await.iter().all(|m| !m.body.contains("to be deleted")));

        // Bob's engine deleted its copy from Bob's swarm, and Alice's her sync copy from hers
        // (through the outbox): a device of Bob's restored now finds the unsend request, but
        // never the text.
        eventually("Bob's copy deleted from his swarm", SECONDS_20, async || {
            (net.holding(&bob.id, &bob_copy) == 0).then_some(())
        })
        .await;
        eventually("Alice's sync copy deleted from her swarm", SECONDS_20, async || {
            (net.holding(&alice.id, &alice_copy) == 0).then_some(())
        })
        .await;
        let bob2 = User::create(&net.relay(), Shared::default(), &bob_seed, "Bob").await;
        bob2.engine.poll_once().await.unwrap();
        bob2.engine.poll_once().await.unwrap();
        let restored = bob2.history(&alice.id).await;
        assert!(restored.iter().all(|m| !m.body.contains("to be deleted")), "{restored:?}");
        assert!(restored.iter().any(|m| m.body == "a reply"), "Bob's own reply comes back from its sync copy");

        // Delete for me: off Bob's device, still at Alice's.
        bob.engine.delete_for_me(&reply.id).await.unwrap();
        assert!(bob.message(&alice.id, &reply.id).await.is_none());
        assert!(bob.events.borrow().iter().any(|e| matches!(e, Event::Removed { id, .. } if *id == reply.id)));
        bob.engine.poll_once().await.unwrap();
        assert!(bob.message(&alice.id, &reply.id).await.is_none(), "not fetched back");
        assert!(alice.message(&bob.id, &reply_at_alice).await.is_some());
        let c = bob.engine.conversation(&alice.id).await.unwrap().unwrap();
        assert_eq!(c.preview, "This message was deleted.", "the preview is the message before");
    });
}

/// Read receipts and typing indicators are off by default: nothing is sent, nothing is shown.
/// With both on, opening a conversation sends a receipt that marks the message read at the
/// sender's, messages read as they arrive are receipted too, and typing shows and stops. With the
/// setting off at the sender's, a receipt that arrives is not shown (whoever does not send them
/// does not see them).
#[test]
fn read_receipts_and_typing_go_only_with_their_settings_on() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("receipts").await;
        let alice = memory_user(&net, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        let typing_events = |user: &User<Shared>| -> Vec<(SessionId, bool)> {
            user.events
                .borrow()
                .iter()
                .filter_map(|e| match e {
                    Event::Typing { peer, typing } => Some((*peer, *typing)),
                    _ => None,
                })
                .collect()
        };

        // Off: Bob accepts and reads, and types; Alice hears nothing of it.
        let hello = alice.engine.send(&bob.id, "hello").await.unwrap();
        bob.id_of(&alice.id, "hello").await;
        bob.engine.accept(&alice.id).await.unwrap();
        bob.engine.mark_read(&alice.id).await.unwrap();
        bob.engine.typing(&alice.id, true).await;
        eventually("Bob's acceptance to be stored", SECONDS_20, async || {
            bob.engine.pending().await.unwrap().is_empty().then_some(())
        })
        .await;
        alice.engine.poll_once().await.unwrap();
        assert_eq!(alice.message(&bob.id, &hello.id).await.unwrap().read_at, None);
        assert!(typing_events(&alice).is_empty());

        // On at both.
        for user in [&alice, &bob] {
            user.engine
                .update_account(|a| {
                    a.read_receipts = true;
                    a.typing_indicators = true;
                })
                .await
                .unwrap();
        }
        let second = alice.engine.send(&bob.id, "second").await.unwrap();
        bob.id_of(&alice.id, "second").await;
        bob.engine.mark_read(&alice.id).await.unwrap();
        let read = alice.until("Bob's read receipt", &bob.id, &second.id, |m| m.read_at.is_some()).await;
        assert!(read.read_at.unwrap() >= second.timestamp);

        // Read as it arrives while Bob looks at the conversation.
        bob.engine.set_viewing(Some(alice.id));
        let third = alice.engine.send(&bob.id, "third").await.unwrap();
        alice.until("the receipt of a message read as it arrived", &bob.id, &third.id, |m| m.read_at.is_some()).await;

        bob.engine.typing(&alice.id, true).await;
        eventually("Bob typing, at Alice's", SECONDS_20, async || {
            typing_events(&alice).contains(&(bob.id, true)).then_some(())
        })
        .await;
        bob.engine.typing(&alice.id, false).await;
        eventually("Bob stopped typing, at Alice's", SECONDS_20, async || {
            (typing_events(&alice).last() == Some(&(bob.id, false))).then_some(())
        })
        .await;

        // Off at Alice's: Bob's receipts still come (his setting is on), and are not shown.
        alice.engine.update_account(|a| a.read_receipts = false).await.unwrap();
        let fourth = alice.engine.send(&bob.id, "fourth").await.unwrap();
        bob.id_of(&alice.id, "fourth").await;
        eventually("Bob's outbox to empty", SECONDS_20, async || {
            bob.engine.pending().await.unwrap().is_empty().then_some(())
        })
        .await;
        alice.engine.poll_once().await.unwrap();
        alice.engine.poll_once().await.unwrap();
        assert_eq!(alice.message(&bob.id, &fourth.id).await.unwrap().read_at, None);
    });
}

/// This account's own ID is its Note to Self: a message to it is stored once (in its own swarm),
/// shows once, reaches the account's second device, and takes reactions and deletion like any.
#[test]
fn note_to_self_is_stored_once_and_reaches_the_second_device() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("note-to-self").await;
        let seed = seed();
        let alice = User::create(&net.relay(), Shared::default(), &seed, "Alice").await;
        let alice2 = User::create(&net.relay(), Shared::default(), &seed, "Alice").await;
        assert_eq!(hush_client::conversations::recipient(&alice.id.to_string()), Ok(alice.id));

        let note = alice.engine.send(&alice.id, "remember the milk").await.unwrap();
        eventually("the note stored", SECONDS_20, async || {
            (alice.statuses(&note.id).last() == Some(&Status::Sent)).then_some(())
        })
        .await;
        let hash = note.swarm_hash.clone().unwrap();
        assert_eq!(net.holding(&alice.id, &hash), 3, "one copy, in the swarm");
        alice.engine.poll_once().await.unwrap();
        assert_eq!(alice.count(&alice.id, "remember the milk").await, 1, "fetched back, filed once");
        let c = alice.engine.conversation(&alice.id).await.unwrap().unwrap();
        assert!(c.is_note_to_self(&alice.id) && c.standing == Standing::Accepted && c.unread == 0);

        let on_second = alice2.id_of(&alice.id, "remember the milk").await;
        assert_eq!(on_second, note.id);
        alice.engine.react(&note.id, "✅", true).await.unwrap();
        alice2.until("the reaction on the second device", &alice.id, &note.id, |m| !m.reactions().is_empty()).await;
        alice.engine.delete_for_everyone(&note.id).await.unwrap();
        alice2.until("the deletion on the second device", &alice.id, &note.id, |m| m.status == Status::Deleted).await;
        eventually("the note gone from the swarm", SECONDS_20, async || {
            (net.holding(&alice.id, &hash) == 0).then_some(())
        })
        .await;
    });
}

impl Net {
    /// The expiry the nodes holding the message `hash` of `owner` give it (the latest of them).
    fn expiry(&self, owner: &SessionId, hash: &str) -> Option<u64> {
        let nodes = self.devnet.network.nodes();
        nodes.iter().filter_map(|n| n.store().expiry_of_owned(&owner.to_bytes(), hash).ok().flatten()).max()
    }
}

/// Disappearing messages as Session's clients do them: a change travels as a notice (to the
/// peer, who keeps their own setting until they follow it, and to the other device, which takes
/// it); each message carries its setting; "after send" messages leave both screens and vaults
/// when their time comes and are stored no longer than their timer; "after read" ones start when
/// read, and the reader shortens its swarm copy's expiry to match; turned off, messages stay.
#[test]
fn disappearing_messages_leave_screens_vaults_and_swarms_on_time() {
    use hush_client::conversations::{Disappearing, Notice};
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("disappearing").await;
        let seed = seed();
        let alice = User::create(&net.relay(), Shared::default(), &seed, "Alice").await;
        let alice2 = User::create(&net.relay(), Shared::default(), &seed, "Alice").await;
        let bob = memory_user(&net, "Bob").await;
        alice.engine.send(&bob.id, "hello").await.unwrap();
        bob.id_of(&alice.id, "hello").await;
        bob.engine.accept(&alice.id).await.unwrap();

        let notice = alice.engine.set_disappearing(&bob.id, Some(Disappearing::AfterSend(3))).await.unwrap();
        assert_eq!(notice.notice, Some(Notice::Disappearing(Some(Disappearing::AfterSend(3)))));
        let at_bob = eventually("the notice at Bob's", SECONDS_20, async || {
            bob.history(&alice.id).await.into_iter().find(|m| m.notice.is_some())
        })
        .await;
        assert_eq!(at_bob.notice, Some(Notice::Disappearing(Some(Disappearing::AfterSend(3)))));
        assert!(!at_bob.outgoing);
        let bob_setting = bob.engine.conversation(&alice.id).await.unwrap().unwrap().disappearing;
        assert_eq!(bob_setting, None, "a peer's change is a notice; Bob's own setting stays");
        eventually("the setting on Alice's other device", SECONDS_20, async || {
            let c = alice2.engine.conversation(&bob.id).await.unwrap()?;
            (c.disappearing == Some(Disappearing::AfterSend(3))).then_some(())
        })
        .await;

        let vanishing = alice.engine.send(&bob.id, "vanishing").await.unwrap();
        assert_eq!(vanishing.disappearing, Some(Disappearing::AfterSend(3)));
        assert_eq!(vanishing.expires_at, Some(vanishing.timestamp + 3_000));
        let at_bob = bob.id_of(&alice.id, "vanishing").await;
        let got = bob.message(&alice.id, &at_bob).await.unwrap();
        assert_eq!(
            (got.disappearing, got.expires_at),
            (Some(Disappearing::AfterSend(3)), Some(vanishing.timestamp + 3_000))
        );
        let stored = net.expiry(&bob.id, at_bob.strip_prefix("in/").unwrap()).expect("stored in Bob's swarm");
        assert!(
            stored <= vanishing.timestamp + 10_000 + 1_000,
            "stored for its timer (at least the 10 s a node takes)"
        );
        for (user, peer, id) in [(&alice, &bob.id, &vanishing.id), (&bob, &alice.id, &at_bob)] {
            eventually("the message gone", Duration::from_secs(10), async || {
                user.message(peer, id).await.is_none().then_some(())
            })
            .await;
            assert!(user.events.borrow().iter().any(|e| matches!(e, Event::Removed { id: gone, .. } if gone == id)));
            assert!(now_ms() >= vanishing.timestamp + 3_000, "not before its time");
        }

        // Bob follows with "after read"; Alice's copy starts when she reads it, and her swarm's
        // copy is shortened to then.
        bob.engine.set_disappearing(&alice.id, Some(Disappearing::AfterRead(3))).await.unwrap();
        let read_me = bob.engine.send(&alice.id, "read me").await.unwrap();
        let at_alice = alice.id_of(&bob.id, "read me").await;
        let unread = alice.message(&bob.id, &at_alice).await.unwrap();
        assert_eq!((unread.disappearing, unread.expires_at), (Some(Disappearing::AfterRead(3)), None));
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(alice.message(&bob.id, &at_alice).await.is_some(), "not read: it stays");
        alice.engine.mark_read(&bob.id).await.unwrap();
        let read = alice.message(&bob.id, &at_alice).await.unwrap();
        let until = read.expires_at.expect("the timer started");
        let hash = at_alice.strip_prefix("in/").unwrap().to_owned();
        eventually("Alice's swarm copy shortened", SECONDS_20, async || {
            net.expiry(&alice.id, &hash).is_none_or(|e| e <= until).then_some(())
        })
        .await;
        eventually("read, then gone", Duration::from_secs(10), async || {
            alice.message(&bob.id, &at_alice).await.is_none().then_some(())
        })
        .await;
        assert!(bob.message(&alice.id, &read_me.id).await.is_none(), "the sender's copy counted from sending");

        // Off: messages stay.
        alice.engine.set_disappearing(&bob.id, None).await.unwrap();
        let stays = alice.engine.send(&bob.id, "this one stays").await.unwrap();
        assert_eq!((stays.disappearing, stays.expires_at), (None, None));
        let at_bob = bob.id_of(&alice.id, "this one stays").await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(bob.message(&alice.id, &at_bob).await.is_some());
        assert_eq!(
            alice.engine.set_disappearing(&alice.id, Some(Disappearing::AfterRead(300))).await,
            Err(Error::NotForNoteToSelf)
        );
    });
}
