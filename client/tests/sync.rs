//! Config sync on a devnet (issue 14): a restore brings the account's profile, contacts and read
//! state from its swarm; a change on one device reaches the other within one poll; concurrent
//! changes on two devices merge; a push deletes what it supersedes; the poll keeps the configs
//! alive; and configs written by libsession (the reference vectors) are read.
//!
//! The engines here are driven by hand (`poll_once`, `sync_configs`) where the order matters; the
//! peers that only send run their background work.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_core::config::pipeline::{self, Read};
use crypto_core::config::user::convo::CommunityRoom;
use crypto_core::config::user::groups::GroupCommon;
use crypto_core::config::{ConfigKind, ConfigMessage, DataValue, Retrieved, UserConfig};
use crypto_core::identity::{Identity, Seed};
use crypto_core::network::anchors::Anchors;
use crypto_core::storage::{Namespace, requests};
use crypto_core::vault::KdfParams;
use hush_client::attachments::FileServer;
use hush_client::conversations::Standing;
use hush_client::platform::native::{Https, SystemClock};
use hush_client::platform::{Platform, World};
use hush_client::storage::{Backend, MemoryBackend};
use hush_client::testing::{Control, Script, Scripted};
use hush_client::{Engine, Restored, SessionId};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::server::now_ms;
use rand_core::OsRng;
use tempfile::TempDir;

#[path = "support/runtime.rs"]
mod support;
use support::{eventually, run_test};

const PASSPHRASE: &str = "correct horse battery";
const SECONDS_20: Duration = Duration::from_secs(20);
const DAY_MS: u64 = 24 * 3600 * 1000;

struct On<B>(PhantomData<B>);

impl<B: Backend + 'static> Platform for On<B> {
    type Transport = Scripted<Https>;
    type Clock = SystemClock;
    type Backend = B;
}

type Shared = Rc<MemoryBackend>;
type Device = Engine<On<Shared>>;

thread_local! {
    static ANCHORS: RefCell<Option<Anchors>> = const { RefCell::new(None) };
    static FILE_SERVER: RefCell<Option<FileServer>> = const { RefCell::new(None) };
}

/// A devnet of six nodes (swarms of three) in a folder removed when the test ends.
struct Net {
    devnet: Devnet,
    _dir: TempDir,
}

impl Net {
    async fn start(name: &str) -> Net {
        let dir = tempfile::Builder::new().prefix(&format!("hush-sync-test-{name}-")).tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        config.nodes = 6;
        config.swarm_size = 3;
        let devnet = Devnet::start(config).await.expect("the devnet starts");
        let json = std::fs::read(dir.path().join("devnet.json")).unwrap();
        let anchors = Anchors::parse(&json).unwrap();
        ANCHORS.with(|a| *a.borrow_mut() = Some(anchors));
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let files = &json["file_server"];
        let server = FileServer::parse(files["url"].as_str().unwrap(), files["pubkey_ed25519"].as_str().unwrap());
        FILE_SERVER.with(|f| *f.borrow_mut() = Some(server.unwrap()));
        Net { devnet, _dir: dir }
    }

    fn relay(&self) -> String {
        self.devnet.app_url.clone()
    }

    /// What the swarm members of `owner` hold in `namespace`: (hash, data, expiry) per member.
    fn held(&self, owner: &SessionId, namespace: i16) -> Vec<Vec<(String, Vec<u8>, u64)>> {
        let network = &self.devnet.network;
        let swarm = network.swarm_of(owner).unwrap();
        network
            .nodes()
            .iter()
            .filter(|n| n.info.swarm_id == swarm)
            .map(|n| {
                let (stored, _) =
                    n.store().retrieve(&owner.to_bytes(), namespace, None, now_ms(), 1000, 100_000_000).unwrap();
                stored.into_iter().map(|m| (m.hash, m.data, m.expiry)).collect()
            })
            .collect()
    }

    /// The hashes every member holds in `namespace` (after the swarm has settled).
    async fn hashes(&self, owner: &SessionId, namespace: i16) -> Vec<String> {
        eventually("the swarm to agree", SECONDS_20, async || {
            let held = self.held(owner, namespace);
            let first: Vec<String> = held.first()?.iter().map(|(h, _, _)| h.clone()).collect();
            held.iter().all(|m| m.iter().map(|(h, _, _)| h).eq(first.iter())).then_some(first)
        })
        .await
    }

    /// Stores `data` in `namespace` of `owner`'s swarm, signed by it, for `ttl_ms`, over HTTPS to
    /// one member: as another client of the account (libsession) stores its configs.
    async fn store_as(&self, owner: &Identity, namespace: i16, data: &[u8], ttl_ms: u64) {
        let id = owner.session_id();
        let network = &self.devnet.network;
        let swarm = network.swarm_of(&id).unwrap();
        let node = network.nodes().iter().find(|n| n.info.swarm_id == swarm).unwrap();
        let body = requests::store(&id, Namespace(namespace), &STANDARD.encode(data), now_ms(), ttl_ms, Some(owner));
        let reply = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .post(format!("https://{}:{}/storage_rpc/v1", node.info.ip, node.info.port))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200, "{}", reply.text().await.unwrap_or_default());
    }
}

fn engine() -> Device {
    controlled().0
}

/// An engine and the handle that takes its network away.
fn controlled() -> (Device, Control) {
    let (transport, net) = Scripted::new(Https::new());
    let engine = Engine::new(World { transport, clock: SystemClock, secure_page: false }, Shared::default());
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    if let Some(anchors) = ANCHORS.with(|a| a.borrow().clone()) {
        engine.set_anchors(anchors);
    }
    if let Some(server) = FILE_SERVER.with(|f| f.borrow().clone()) {
        engine.set_file_server(server);
    }
    (engine, net)
}

/// A new account named `name`, its background work not started.
async fn device(net: &Net, seed: &Seed, name: &str) -> Device {
    let engine = engine();
    engine.create(seed, name, PASSPHRASE).await.unwrap();
    engine.set_relay(&net.relay()).await.unwrap();
    engine
}

/// The account of `seed` restored on a new device as the app does it: made without a name, then
/// its configs pulled before anything is asked.
async fn restored(net: &Net, seed: &Seed) -> (Device, Restored) {
    let engine = engine();
    engine.create(seed, "", PASSPHRASE).await.unwrap();
    engine.set_relay(&net.relay()).await.unwrap();
    let restored = engine.pull_configs().await.expect("the swarm answers");
    (engine, restored)
}

/// A device whose background work (poll, outbox) runs.
fn started(engine: &Device) {
    let background = engine.clone();
    tokio::task::spawn_local(async move { background.run().await });
}

fn seed() -> Seed {
    Seed::generate(&mut OsRng)
}

fn name(device: &Device) -> String {
    device.account().unwrap().display_name.clone()
}

/// Polls `device` by hand until `check` holds.
async fn polled_until(device: &Device, what: &str, mut check: impl AsyncFnMut() -> bool) {
    eventually(what, SECONDS_20, async || {
        let _ = device.poll_once().await;
        check().await.then_some(())
    })
    .await;
}

/// A restore on a new device brings the display name (so the name step is skipped), the contacts
/// with their nickname and block, and the read state: a message read on the first device arrives
/// read; one not read arrives unread.
#[test]
fn a_restore_brings_the_name_contacts_nicknames_blocks_and_read_state() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("restore").await;
        let alice_seed = seed();
        let alice = device(&net, &alice_seed, "Alice").await;
        let alice_id = alice.session_id().unwrap();
        let (bob, carol, dave) = (
            device(&net, &seed(), "Bob").await,
            device(&net, &seed(), "Carol").await,
            device(&net, &seed(), "Dave").await,
        );
        for peer in [&bob, &carol, &dave] {
            started(peer);
            peer.send(&alice_id, "hello Alice").await.unwrap();
        }
        let (bob_id, carol_id, dave_id) =
            (bob.session_id().unwrap(), carol.session_id().unwrap(), dave.session_id().unwrap());
        polled_until(&alice, "the three messages", async || {
            let mut n = 0;
            for p in [&bob_id, &carol_id, &dave_id] {
                n += usize::from(alice.conversation(p).await.unwrap().is_some());
            }
            n == 3
        })
        .await;
        alice.accept(&bob_id).await.unwrap();
        alice.set_nickname(&bob_id, "Bobby").await.unwrap();
        alice.mark_read(&bob_id).await.unwrap();
        alice.block(&carol_id).await.unwrap();
        alice.accept(&dave_id).await.unwrap();
        assert!(alice.sync_configs().await.unwrap(), "the changes are pushed");

        let (alice2, found) = restored(&net, &alice_seed).await;
        assert_eq!(found, Restored { reached: true, display_name: Some("Alice".into()), contacts: 3 });
        assert_eq!(name(&alice2), "Alice", "the name step can be skipped");
        let bob_c = alice2.conversation(&bob_id).await.unwrap().expect("Bob is a contact");
        assert_eq!(
            (bob_c.standing, bob_c.nickname.as_deref(), bob_c.title()),
            (Standing::Accepted, Some("Bobby"), "Bobby".into())
        );
        let carol_c = alice2.conversation(&carol_id).await.unwrap().expect("Carol is kept, blocked");
        assert_eq!(carol_c.standing, Standing::Blocked);
        assert_eq!(alice2.conversation(&dave_id).await.unwrap().map(|c| c.standing), Some(Standing::Accepted));

        // The messages themselves come with the poll: Bob's was read on the first device, Dave's not.
        polled_until(&alice2, "the messages on the new device", async || {
            alice2.history(&bob_id, 10).await.is_ok_and(|(m, _)| !m.is_empty())
                && alice2.history(&dave_id, 10).await.is_ok_and(|(m, _)| !m.is_empty())
        })
        .await;
        assert_eq!(alice2.conversation(&bob_id).await.unwrap().unwrap().unread, 0, "read on the first device");
        assert_eq!(alice2.conversation(&dave_id).await.unwrap().unwrap().unread, 1, "not read anywhere");
        assert!(alice2.history(&carol_id, 10).await.unwrap().0.is_empty(), "a blocked person's message is dropped");
    });
}

/// A rename on one device reaches the other within one poll, and a person it writes to sees one
/// name from both; the picture follows (fetched by the other device), and so does deleting a
/// conversation.
#[test]
fn a_rename_reaches_the_second_device_in_one_poll_and_peers_see_one_name() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("rename").await;
        let alice_seed = seed();
        let alice = device(&net, &alice_seed, "Alice").await;
        assert!(alice.sync_configs().await.unwrap(), "a new account's profile is pushed");
        let (alice2, found) = restored(&net, &alice_seed).await;
        assert_eq!(found.display_name.as_deref(), Some("Alice"));
        let bob = device(&net, &seed(), "Bob").await;
        let bob_id = bob.session_id().unwrap();

        alice.update_account(|a| a.display_name = "Alice Liddell".into()).await.unwrap();
        assert!(alice.sync_configs().await.unwrap());
        alice2.poll_once().await.unwrap();
        assert_eq!(name(&alice2), "Alice Liddell", "one poll");

        // The picture too: its URL and key reach the other device, which fetches it when shown.
        let picture = b"\x89PNG not really, but bytes".repeat(40);
        alice.set_avatar(&picture).await.unwrap();
        assert!(alice.sync_configs().await.unwrap());
        alice2.poll_once().await.unwrap();
        assert!(alice2.account().unwrap().avatar.is_some(), "one poll");
        assert_eq!(alice2.avatar(None).await.unwrap().map(|b| b.to_vec()), Some(picture));

        started(&alice);
        started(&alice2);
        alice.send(&bob_id, "from the first").await.unwrap();
        alice2.send(&bob_id, "from the second").await.unwrap();
        polled_until(&bob, "both messages", async || {
            bob.history(&alice.session_id().unwrap(), 10).await.is_ok_and(|(m, _)| m.len() == 2)
        })
        .await;
        let (messages, _) = bob.history(&alice.session_id().unwrap(), 10).await.unwrap();
        let names: Vec<_> = messages.iter().map(|m| m.sender_name.clone()).collect();
        assert_eq!(names, [Some("Alice Liddell".to_owned()), Some("Alice Liddell".to_owned())]);
        assert_eq!(bob.conversation(&alice.session_id().unwrap()).await.unwrap().unwrap().title(), "Alice Liddell");

        // Deleting the conversation on one device deletes it on the other (once both hold it
        // whole: a sync copy arriving after a deletion is a new message).
        eventually("the whole conversation on both devices", SECONDS_20, async || {
            let both = alice.history(&bob_id, 10).await.ok()?.0.len() == 2
                && alice2.history(&bob_id, 10).await.ok()?.0.len() == 2;
            both.then_some(())
        })
        .await;
        alice.delete_conversation(&bob_id).await.unwrap();
        alice.sync_configs().await.unwrap();
        eventually("the deletion on the second device", SECONDS_20, async || {
            alice2.conversation(&bob_id).await.unwrap().is_none().then_some(())
        })
        .await;
    });
}

/// Changes made on two devices at the same time merge: a nickname given on one and a block on
/// the other both stay, and both devices end with the same name when both renamed; a rename made
/// after the merge wins on both.
#[test]
fn concurrent_edits_on_two_devices_merge_without_losing_either() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("merge").await;
        let alice_seed = seed();
        let alice = device(&net, &alice_seed, "Alice").await;
        alice.sync_configs().await.unwrap();
        let (alice2, _) = restored(&net, &alice_seed).await;
        let (xavier, yvonne) =
            (Identity::generate(&mut OsRng).session_id(), Identity::generate(&mut OsRng).session_id());

        // Neither device sees the other's change before it pushes its own.
        alice.set_nickname(&xavier, "Xav").await.unwrap();
        alice.update_account(|a| a.display_name = "Alice One".into()).await.unwrap();
        alice2.block(&yvonne).await.unwrap();
        alice2.update_account(|a| a.display_name = "Alice Two".into()).await.unwrap();
        assert!(alice.sync_configs().await.unwrap());
        assert!(alice2.sync_configs().await.unwrap(), "the merge is pushed");
        alice.poll_once().await.unwrap();

        for device in [&alice, &alice2] {
            let x = device.conversation(&xavier).await.unwrap().expect("the nickname's contact");
            assert_eq!(x.nickname.as_deref(), Some("Xav"));
            let y = device.conversation(&yvonne).await.unwrap().expect("the blocked contact");
            assert_eq!(y.standing, Standing::Blocked);
        }
        let merged = name(&alice);
        assert!(merged == "Alice One" || merged == "Alice Two", "{merged}");
        assert_eq!(name(&alice2), merged, "both devices agree");

        alice2.update_account(|a| a.display_name = "Alice Last".into()).await.unwrap();
        alice2.sync_configs().await.unwrap();
        alice.poll_once().await.unwrap();
        assert_eq!((name(&alice), name(&alice2)), ("Alice Last".into(), "Alice Last".into()), "the later rename wins");
        let x = alice.conversation(&xavier).await.unwrap().unwrap();
        assert_eq!(x.nickname.as_deref(), Some("Xav"), "still there");
    });
}

/// A change made while the network is down is pushed by the poll once it is back (the outbox's
/// pattern: kept, then tried again), and reaches the other device.
#[test]
fn a_change_made_offline_is_pushed_when_the_network_is_back() {
    run_test(Duration::from_secs(90), async || {
        let net = Net::start("offline").await;
        let alice_seed = seed();
        let (alice, control) = controlled();
        alice.create(&alice_seed, "Alice", PASSPHRASE).await.unwrap();
        alice.set_relay(&net.relay()).await.unwrap();
        alice.sync_configs().await.unwrap();
        let (alice2, _) = restored(&net, &alice_seed).await;
        started(&alice);

        control.set(Script::Offline);
        alice.update_account(|a| a.display_name = "Alice Offline".into()).await.unwrap();
        assert!(alice.sync_configs().await.is_err(), "no network: not pushed");
        tokio::time::sleep(Duration::from_secs(2)).await;
        alice2.poll_once().await.unwrap();
        assert_eq!(name(&alice2), "Alice", "nothing reached the swarm");

        control.set(Script::Pass);
        polled_until(&alice2, "the rename pushed by the first device's poll", async || {
            name(&alice2) == "Alice Offline"
        })
        .await;
    });
}

/// UserGroups, which Hush does not show yet, is kept and merged as any config: two versions
/// written at once by other clients of the account (each adding a community) are merged by Hush's
/// poll, pushed as one, and the two they replace deleted; nothing of either is lost.
#[test]
fn user_groups_from_other_clients_are_merged_and_pushed_whole() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("groups").await;
        let alice_seed = seed();
        let identity = Identity::from_seed(&alice_seed);
        let id = identity.session_id();
        let now = now_ms();
        let room = |token: &str| CommunityRoom::new("https://open.example.org", token).unwrap();
        // Another client of the account: its first version, then two devices' edits of it at once.
        let mut first = UserConfig::new(ConfigKind::UserGroups).unwrap();
        first.groups_mut().set_community(&room("lobby"), "lobby", &[7; 32], &GroupCommon::default()).unwrap();
        let push = first.push(&identity, now).unwrap().unwrap();
        net.store_as(&identity, 5, &push.blobs[0], DAY_MS).await;
        let v1 = net.hashes(&id, 5).await;
        first.confirm_pushed(&push, &v1);
        let mut second = UserConfig::restore(ConfigKind::UserGroups, &first.save()).unwrap();
        first.groups_mut().set_community(&room("apples"), "Apples", &[7; 32], &GroupCommon::default()).unwrap();
        second.groups_mut().set_community(&room("pears"), "Pears", &[7; 32], &GroupCommon::default()).unwrap();
        for config in [&mut first, &mut second] {
            let push = config.push(&identity, now).unwrap().unwrap();
            net.store_as(&identity, 5, &push.blobs[0], DAY_MS).await;
        }
        assert_eq!(net.hashes(&id, 5).await.len(), 3);

        let (alice, _) = restored(&net, &alice_seed).await;
        alice.poll_once().await.unwrap();
        let stored = net.hashes(&id, 5).await;
        assert_eq!(stored.len(), 1, "the merge replaced all three: {stored:?}");
        let blob = net.held(&id, 5)[0][0].1.clone();
        let mut read = UserConfig::new(ConfigKind::UserGroups).unwrap();
        read.receive(&identity, &[Retrieved { hash: &stored[0], data: &blob }], now);
        assert_eq!(read.seqno(), 3, "the merge of two seqno 2 versions");
        let mut names: Vec<String> = read.groups().communities().into_iter().map(|c| c.name).collect();
        names.sort();
        assert_eq!(names, ["Apples", "Pears", "lobby"]);
    });
}

/// A push stores the new version and deletes the one it supersedes from every member; only the
/// current version stays.
#[test]
fn a_push_deletes_the_superseded_config_from_the_swarm() {
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("delete").await;
        let alice = device(&net, &seed(), "Alice").await;
        let id = alice.session_id().unwrap();
        alice.sync_configs().await.unwrap();
        let first = net.hashes(&id, 2).await;
        assert_eq!(first.len(), 1, "one profile version");
        alice.update_account(|a| a.display_name = "Alice B.".into()).await.unwrap();
        alice.sync_configs().await.unwrap();
        let second = net.hashes(&id, 2).await;
        assert_eq!(second.len(), 1, "the old version is deleted: {second:?}");
        assert_ne!(second, first);
        for member in net.held(&id, 2) {
            let (_, _, expiry) = &member[0];
            assert!(*expiry > now_ms() + 29 * DAY_MS, "stored for 30 days");
        }
    });
}

/// Configs written by libsession (the reference vectors: the C5 UserProfile seqno 1, the C6
/// Contacts) stored in the swarm of their seed are read by a restore; the poll then extends their
/// expiry to 30 days, so an idle account keeps them.
#[test]
fn configs_written_by_libsession_are_restored_and_kept_alive() {
    /// protocol-config-groups §6.2 C5: "Kallie", picture, Note to Self priority 9.
    const PROFILE: &str = "9693a69686da3055f1ecdfb239c3bf8e746951a36d888c2fb7c02e856a5c2091b24e39a7e1af828f1fa09fe8bf7d274afde0a0847ba143c43ffb8722301b5ae32e2f078b9a5e19097403336e50b18c84aade446cd2823b011f97d6ad2116a53feb814efecc086bc172d31f4214b4d7c630b63bbe575b08682d146da44915063a07a78556ab5eff4f67f6aa26211e8d330b53d28567a931028c393709a325425de7486ccde24416a7fd4a8ba5fa73899c65f4276dfaddd5b2100adcf0f793104fb235b31ce32ec656056009a9ebf58d45d7d696b74e0c7ff0499c4d23204976f19561dc0dba6dc53a2497d28ce03498ea49bf122762d7bc1d6d9c02f6d54f8384";
    /// §6.2 C6: one contact, "Alice", approved both ways.
    const CONTACTS: &str = "3405cf3fd062bcc920fbaac7bf15c7f5bd962870fe7872703301277865a8a443d00e80ca3b55546c1bb8f1972b9003dc25141d94d061cdd8c503dfd33367c60ea3eef598b9bd2d473e75c844a5d5ea024cd55c464b4dc7d50b118073db0ebe611c43539bdde93cb3794e56334d8386dba6a33cfb7c90367f3ce15e9855b7d29e9997a83eb51473a3726bbaa1f3397b93632d991eca0940ac9792c05375f85ea3c8ec0eaabb2d6dc09c2d6c304e8452a9473f60b32d736ff18824570cf4bde2a15ddde9d02bb47694edb62c08b71016695e998bd5a02ad8ea2fe348caeeb4d08ecec875dda3aee999ccbf91fca32f7c607f21472a75401bc014b8f5c3d096b601";
    run_test(Duration::from_secs(60), async || {
        let net = Net::start("vectors").await;
        let seed = Seed::from_bytes(hex::decode("0123456789abcdef0123456789abcdef").unwrap().try_into().unwrap());
        let identity = Identity::from_seed(&seed);
        let id = identity.session_id();
        net.store_as(&identity, 2, &hex::decode(PROFILE).unwrap(), 3_600_000).await;
        net.store_as(&identity, 3, &hex::decode(CONTACTS).unwrap(), 3_600_000).await;

        let (alice, found) = restored(&net, &seed).await;
        assert_eq!(found, Restored { reached: true, display_name: Some("Kallie".into()), contacts: 1 });
        assert_eq!(name(&alice), "Kallie");
        let list = alice.conversations().await.unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        let contact = &list[0];
        assert!(contact.peer.to_string().starts_with("05aa654f"), "{}", contact.peer);
        assert_eq!((contact.name.as_deref(), contact.standing), (Some("Alice"), Standing::Accepted));
        assert!(alice.account().unwrap().avatar.is_none(), "example.org is no file server: no picture");

        // They were stored for an hour; the first poll extends them to 30 days.
        alice.poll_once().await.unwrap();
        for namespace in [2, 3] {
            eventually("the expiry extended on every member", SECONDS_20, async || {
                net.held(&id, namespace)
                    .iter()
                    .all(|m| !m.is_empty() && m.iter().all(|(_, _, expiry)| *expiry > now_ms() + 29 * DAY_MS))
                    .then_some(())
            })
            .await;
        }
        // Nothing of theirs was changed or deleted: no push was needed.
        assert_eq!(net.hashes(&id, 2).await.len(), 1);
        let profile = net.held(&id, 2)[0][0].1.clone();
        assert_eq!(hex::encode(profile), PROFILE, "read, not rewritten");

        // A nickname given here is pushed on top of libsession's contact, keeping every key it wrote.
        alice.set_nickname(&contact.peer, "Ally").await.unwrap();
        assert!(alice.sync_configs().await.unwrap());
        let stored = net.hashes(&id, 3).await;
        assert_eq!(stored.len(), 1, "libsession's version is superseded and deleted");
        let blob = net.held(&id, 3)[0][0].1.clone();
        let Ok(Read::Message(plaintext)) = pipeline::read_user_config(&identity, ConfigKind::Contacts, &blob) else {
            panic!("Hush's push reads as a Contacts config");
        };
        let pushed = ConfigMessage::parse(plaintext.as_bytes(), None).unwrap();
        assert_eq!(pushed.seqno(), 2);
        let Some(DataValue::Dict(contacts)) = pushed.data().get(b"c".as_slice()) else { panic!("no contacts") };
        let Some(DataValue::Dict(entry)) = contacts.get(contact.peer.to_bytes().as_slice()) else { panic!("no entry") };
        let keys: Vec<&[u8]> = entry.keys().map(Vec::as_slice).collect();
        assert_eq!(keys, [b"A".as_slice(), b"N", b"a", b"j", b"n"], "approved-me and created kept, nickname added");
    });
}
