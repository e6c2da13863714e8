//! Communities against a real devnet: its community server (SOGS v4) with room `lobby`, reached
//! by engines only through onion paths (every request a v4 request behind a path's last hop).
//!
//! Joining, posting, replies, reactions with counts, edits, deletions (own and a moderator's),
//! unread counts, names and blinded ids, a moderator's badge, paging back through a long history,
//! blinded DMs both ways arriving as a message request, and what polling costs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crypto_core::community::{BlindedKeys, RequestKey, sign_post, sign_request};
use crypto_core::identity::{Identity, Seed};
use crypto_core::network::anchors::Anchors;
use crypto_core::vault::KdfParams;
use crypto_core::wire::{Content, DataMessage};
use hush_client::communities::RoomMessage;
use hush_client::conversations::Standing;
use hush_client::platform::native::{Https, SystemClock};
use hush_client::platform::{Platform, World};
use hush_client::storage::MemoryBackend;
use hush_client::testing::Scripted;
use hush_client::{Engine, Error, Event, NewFile};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::sogs::Scope;
use rand_core::OsRng;
use tempfile::TempDir;

#[path = "support/runtime.rs"]
mod support;
use support::{eventually, run_test};

const PASSPHRASE: &str = "correct horse battery";
const SECONDS_20: Duration = Duration::from_secs(20);

/// HTTPS to the devnet's relay (with a log of every URL asked for), the system clock, memory.
struct On;

impl Platform for On {
    type Transport = Scripted<Https>;
    type Clock = SystemClock;
    type Backend = Rc<MemoryBackend>;
}

/// A devnet in a folder removed when the test ends, and the `lobby` room's URL.
struct Net {
    devnet: Devnet,
    anchors: Anchors,
    lobby: String,
    _dir: TempDir,
}

impl Net {
    async fn start(name: &str) -> Net {
        let dir = tempfile::Builder::new().prefix(&format!("hush-communities-{name}-")).tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
        config.nodes = 6;
        config.swarm_size = 3;
        let devnet = Devnet::start(config).await.expect("the devnet starts");
        let json = std::fs::read(dir.path().join("devnet.json")).unwrap();
        let anchors = Anchors::parse(&json).expect("devnet.json lists the nodes");
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let lobby = json["community"]["lobby_url"].as_str().expect("devnet.json names the lobby").to_owned();
        Net { devnet, anchors, lobby, _dir: dir }
    }

    /// Another room on the devnet's community server, and its URL.
    fn add_room(&self, token: &str) -> String {
        let community = &self.devnet.community;
        community.add_room(token, &format!("Room {token}"), None).unwrap();
        community.room_url(&self.devnet.community_url, token)
    }

    /// Posts `count` messages to `lobby` straight into the server (not through an engine), as
    /// `identity`, made an admin so the rate limit does not apply; their bodies are `history <i>`.
    fn post_direct(&self, identity: &Identity, bodies: std::ops::Range<usize>) {
        self.post_direct_signed(identity, bodies, false);
    }

    /// [`Net::post_direct`], with a signature that is not the poster's when `forged` (the server
    /// does not check signatures; clients must).
    fn post_direct_signed(&self, identity: &Identity, bodies: std::ops::Range<usize>, forged: bool) {
        let community = &self.devnet.community;
        let server = community.x25519();
        let keys = BlindedKeys::blind15(identity, &server);
        community.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &keys.id().to_string(), true, true).unwrap();
        for i in bodies {
            let content = Content {
                data_message: Some(DataMessage { body: Some(format!("history {i}")), ..Default::default() }),
                ..Default::default()
            };
            let mut post = sign_post(&keys, &content);
            if forged {
                post.signature = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 64]);
            }
            let body = post.body(&[]);
            let path = "/room/lobby/message";
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let signed =
                sign_request(&mut OsRng, RequestKey::Blinded(&keys), &server, now, "POST", path, body.as_bytes());
            let mut headers: HashMap<String, String> =
                signed.pairs().iter().map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned())).collect();
            headers.insert("content-type".into(), "application/json".into());
            let reply = community.handle("POST", path, &headers, body.as_bytes());
            assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
        }
    }
}

/// One person's engine, the URLs its transport was asked for, and its events.
struct User {
    engine: Engine<On>,
    urls: Rc<RefCell<Vec<String>>>,
    events: Rc<RefCell<Vec<Event>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl User {
    /// A new account named `name`; with `run`, its background work (polling) started.
    async fn new(net: &Net, name: &str, run: bool) -> User {
        let (transport, _control) = Scripted::new(Https::new());
        let urls = transport.urls.clone();
        let engine = Engine::new(World { transport, clock: SystemClock, secure_page: false }, Rc::default());
        engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
        engine.set_anchors(net.anchors.clone());
        engine.create(&Seed::generate(&mut OsRng), name, PASSPHRASE).await.unwrap();
        engine.set_relay(&net.devnet.app_url).await.unwrap();
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        engine.on_event(move |e| log.borrow_mut().push(e));
        let task = run.then(|| {
            let background = engine.clone();
            tokio::task::spawn_local(async move { background.run().await })
        });
        User { engine, urls, events, task }
    }

    /// The room's messages, all of them (from this device and the server).
    async fn all(&self, room: &str) -> Vec<RoomMessage> {
        self.engine.room_messages(room, None, 10_000).await.unwrap().0
    }

    /// The room's message with `body`, once a poll brought it.
    async fn wait_for(&self, room: &str, body: &str) -> RoomMessage {
        eventually(&format!("{body:?} to arrive"), SECONDS_20, async || {
            self.engine.poll_communities().await.ok()?;
            self.all(room).await.into_iter().find(|m| m.body == body)
        })
        .await
    }

    fn told_room(&self, room: &str) -> usize {
        self.events.borrow().iter().filter(|e| matches!(e, Event::Community { room: r } if r == room)).count()
    }
}

impl Drop for User {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Two members take part in `lobby`: posts carry the poster's name and blinded id; a reply
/// quotes; reactions add and remove with counts; an edit and a deletion reach the other side; a
/// moderator (badged) deletes another's post and both see it gone; unread counts grow while the
/// room is closed and clear when it opens; and the server was reached only through onion paths.
#[test]
fn two_members_post_reply_react_edit_and_delete_and_a_moderator_deletes() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("take-part").await;
        let alice = User::new(&net, "Alice", false).await;
        let bob = User::new(&net, "Bob", false).await;

        assert!(matches!(alice.engine.join_community("http://localhost/lobby").await, Err(Error::CommunityUrl(_))));
        let room = alice.engine.join_community(&net.lobby).await.unwrap();
        assert_eq!((room.token.as_str(), room.name.as_str(), room.unread), ("lobby", "Lobby", 0));
        assert!(room.read && room.write && !room.moderator);
        assert!(alice.events.borrow().contains(&Event::Communities));
        let lobby = room.url.clone();
        assert_eq!(alice.engine.communities().await.unwrap(), std::slice::from_ref(&room));
        let bob_room = bob.engine.join_community(&net.lobby).await.unwrap();
        assert_ne!(room.me, bob_room.me, "each member has their own blinded id");
        assert!(room.me.to_string().starts_with("15"));

        // A post, seen by the other with the poster's name and blinded id.
        let hello = alice.engine.post(&lobby, "Hello lobby 👋", None).await.unwrap();
        assert!(hello.mine && hello.sender == room.me && hello.body == "Hello lobby 👋");
        let seen = bob.wait_for(&lobby, "Hello lobby 👋").await;
        assert_eq!(
            (seen.id, seen.sender, seen.sender_name.as_deref(), seen.mine),
            (hello.id, room.me, Some("Alice"), false)
        );
        assert!(bob.told_room(&lobby) > 0, "Bob was told the room changed");
        assert_eq!(bob.engine.communities().await.unwrap()[0].unread, 1, "unread while the room is closed");
        bob.engine.open_room(Some(&lobby)).await.unwrap();
        assert_eq!(bob.engine.communities().await.unwrap()[0].unread, 0, "opening the room reads it");

        // A reply, quoting.
        let reply = bob.engine.post(&lobby, "Hi Alice", Some(hello.id)).await.unwrap();
        let got = alice.wait_for(&lobby, "Hi Alice").await;
        let quote = got.quote.expect("the reply quotes");
        assert_eq!((quote.author, quote.timestamp, quote.text.as_str()), (room.me, hello.posted, "Hello lobby 👋"));
        assert_eq!(got.id, reply.id);
        assert_eq!(bob.engine.communities().await.unwrap()[0].unread, 0, "an open room's messages arrive read");

        // Reactions with counts.
        bob.engine.room_react(&lobby, hello.id, "👍", true).await.unwrap();
        let mine = alice.engine.room_react(&lobby, hello.id, "👍", true).await.unwrap();
        assert!(matches!(alice.engine.room_react(&lobby, hello.id, "ok", true).await, Err(Error::NotAnEmoji)));
        let counted = eventually("two 👍 on Bob's side", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            let m = bob.all(&lobby).await.into_iter().find(|m| m.id == hello.id)?;
            (m.reactions.first().map(|r| r.count) == Some(2)).then_some(m)
        })
        .await;
        assert_eq!(counted.reactions[0].emoji, "👍");
        assert!(counted.reactions[0].you, "Bob reacted too");
        assert!(mine.reactions.iter().any(|r| r.emoji == "👍" && r.you));
        bob.engine.room_react(&lobby, hello.id, "👍", false).await.unwrap();
        eventually("one 👍 left on Alice's side", SECONDS_20, async || {
            alice.engine.poll_communities().await.ok()?;
            let m = alice.all(&lobby).await.into_iter().find(|m| m.id == hello.id)?;
            (m.reactions.first().map(|r| (r.count, r.you)) == Some((1, true))).then_some(())
        })
        .await;

        // An edit of one's own post reaches the other; someone else's cannot be edited.
        assert_eq!(bob.engine.room_edit(&lobby, hello.id, "mine now").await, Err(Error::NotYours));
        alice.engine.room_edit(&lobby, hello.id, "Hello lobby (edited)").await.unwrap();
        let edited = bob.wait_for(&lobby, "Hello lobby (edited)").await;
        assert_eq!(edited.id, hello.id);
        assert!(edited.edited.is_some());

        // Deleting one's own post; deleting another's without being a moderator is refused.
        let oops = alice.engine.post(&lobby, "oops", None).await.unwrap();
        bob.wait_for(&lobby, "oops").await;
        assert_eq!(bob.engine.room_delete(&lobby, oops.id).await, Err(Error::CommunityForbidden));
        alice.engine.room_delete(&lobby, oops.id).await.unwrap();
        assert!(alice.all(&lobby).await.iter().all(|m| m.id != oops.id));
        eventually("the deletion on Bob's side", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            bob.all(&lobby).await.iter().all(|m| m.id != oops.id).then_some(())
        })
        .await;

        // A moderator (made by the server's admin) is badged and deletes another's post.
        net.devnet
            .community
            .add_moderator(&Scope::Rooms(vec!["lobby".into()]), &bob_room.me.to_string(), false, true)
            .unwrap();
        eventually("Bob's badge on Alice's side", SECONDS_20, async || {
            alice.engine.poll_communities().await.ok()?;
            let c = alice.engine.communities().await.ok()?.into_iter().next()?;
            let m = alice.all(&lobby).await.into_iter().find(|m| m.id == reply.id)?;
            (c.moderators.contains(&bob_room.me) && m.moderator).then_some(())
        })
        .await;
        assert!(alice.all(&lobby).await.iter().find(|m| m.id == hello.id).is_some_and(|m| !m.moderator));
        let rude = alice.engine.post(&lobby, "something rude", None).await.unwrap();
        bob.wait_for(&lobby, "something rude").await;
        bob.engine.room_delete(&lobby, rude.id).await.unwrap();
        assert!(bob.all(&lobby).await.iter().all(|m| m.id != rude.id));
        eventually("the moderator's deletion on Alice's side", SECONDS_20, async || {
            alice.engine.poll_communities().await.ok()?;
            alice.all(&lobby).await.iter().all(|m| m.id != rude.id).then_some(())
        })
        .await;

        // A picture, uploaded to the room and fetched back by the other.
        let bytes = b"not really a picture, a file".to_vec();
        let file = NewFile {
            file_name: "notes.txt".into(),
            content_type: "text/plain".into(),
            bytes: zeroize::Zeroizing::new(bytes.clone()),
            width: None,
            height: None,
            voice: false,
        };
        let with_file = alice.engine.post_files(&lobby, "a file", None, vec![file]).await.unwrap();
        assert_eq!(with_file.files.len(), 1);
        let got = bob.wait_for(&lobby, "a file").await;
        assert_eq!(got.files[0].file_name.as_deref(), Some("notes.txt"));
        assert_eq!(bob.engine.room_file(&lobby, got.files[0].id).await.unwrap(), bytes);
        // Kept: shown again without asking the server.
        let asked = bob.urls.borrow().len();
        assert_eq!(bob.engine.room_file(&lobby, got.files[0].id).await.unwrap(), bytes);
        assert_eq!(bob.urls.borrow().len(), asked, "the second time, from this device");

        // Leaving: the room, its messages and its files leave the device.
        alice.engine.leave_community(&lobby).await.unwrap();
        assert!(alice.engine.communities().await.unwrap().is_empty());
        assert_eq!(alice.engine.room_messages(&lobby, None, 10).await, Err(Error::NotJoined));
        bob.engine.leave_community(&lobby).await.unwrap();
        assert_eq!(bob.engine.room_file(&lobby, got.files[0].id).await, Err(Error::NotJoined));
        bob.engine.join_community(&lobby).await.unwrap();
        let asked = bob.urls.borrow().len();
        assert_eq!(bob.engine.room_file(&lobby, got.files[0].id).await.unwrap(), bytes);
        assert!(bob.urls.borrow().len() > asked, "fetched again after leaving and joining");

        // Everything went through the relay's onion endpoint; nothing went to the server itself.
        for user in [&alice, &bob] {
            let urls = user.urls.borrow();
            assert!(urls.iter().any(|u| u.contains("/v1/onion/")));
            assert!(
                urls.iter().all(|u| !u.starts_with(&net.devnet.community_url)),
                "no request went straight to the community server"
            );
        }
    });
}

/// A room with 250 messages reads back page by page, older pages fetched from the server when
/// the device has no more, newest last, with nothing missing or twice; a post whose signature is
/// not its poster's is dropped.
#[test]
fn paging_back_through_a_long_history() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("paging").await;
        let poster = Identity::generate(&mut OsRng);
        net.post_direct(&poster, 0..120);
        // One post whose signature is not its poster's: dropped, never shown.
        net.post_direct_signed(&poster, 1000..1001, true);
        net.post_direct(&poster, 120..250);
        let carol = User::new(&net, "Carol", false).await;
        let lobby = carol.engine.join_community(&net.lobby).await.unwrap().url;

        let mut seen: Vec<String> = Vec::new();
        let mut before = None;
        let mut pages = 0;
        loop {
            let (page, older) = carol.engine.room_messages(&lobby, before, 60).await.unwrap();
            pages += 1;
            assert!(page.windows(2).all(|w| w[0].id < w[1].id), "oldest first, newest last");
            let mut bodies: Vec<String> = page.iter().map(|m| m.body.clone()).collect();
            bodies.extend(seen);
            seen = bodies;
            before = page.first().map(|m| m.id);
            if !older {
                break;
            }
            assert!(pages < 10, "paging ends");
        }
        let expected: Vec<String> = (0..250).map(|i| format!("history {i}")).collect();
        assert_eq!(seen, expected);
        assert_eq!(pages, 5);
        // Read again, all from the device.
        let requests = carol.engine.community_requests().1;
        assert_eq!(carol.all(&lobby).await.len(), 250);
        assert_eq!(carol.engine.community_requests().1, requests, "the whole history is on the device now");
    });
}

/// "Message" on a member opens a DM through the server's inbox; it arrives on the other side as
/// a message request from the sender's blinded id, and replies flow both ways.
#[test]
fn a_blinded_dm_arrives_as_a_request_and_replies_flow_back() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("dm").await;
        let alice = User::new(&net, "Alice", false).await;
        let bob = User::new(&net, "Bob", false).await;
        let lobby = alice.engine.join_community(&net.lobby).await.unwrap().url;
        bob.engine.join_community(&net.lobby).await.unwrap();
        let post = bob.engine.post(&lobby, "DM me", None).await.unwrap();
        let seen = alice.wait_for(&lobby, "DM me").await;

        let peer = alice.engine.message_member(&lobby, &seen.sender).await.unwrap().peer;
        assert_eq!(peer, post.sender);
        let sent = alice.engine.send(&peer, "Hi Bob, privately").await.unwrap();
        assert!(sent.outgoing);
        let alice_blinded = alice.engine.communities().await.unwrap()[0].me;

        let got = eventually("the DM at Bob's", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            let c = bob.engine.conversation(&alice_blinded).await.ok()??;
            Some(c)
        })
        .await;
        assert_eq!((got.standing, got.unread), (Standing::Request, 1), "a message request");
        let history = bob.engine.history(&alice_blinded, 10).await.unwrap().0;
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].body.as_str(), history[0].outgoing), ("Hi Bob, privately", false));
        assert_eq!(history[0].sender_name.as_deref(), Some("Alice"));
        assert_eq!(
            bob.engine.dm_community(&alice_blinded).await.as_deref(),
            Some(lobby.as_str()),
            "the server it came through"
        );
        assert_eq!(bob.engine.dm_community(&bob.engine.session_id().unwrap()).await, None);

        // Bob replies (accepting); it reaches Alice in the same conversation.
        bob.engine.send(&alice_blinded, "Hello Alice").await.unwrap();
        assert_eq!(bob.engine.conversation(&alice_blinded).await.unwrap().unwrap().standing, Standing::Accepted);
        eventually("Bob's reply at Alice's", SECONDS_20, async || {
            alice.engine.poll_communities().await.ok()?;
            let h = alice.engine.history(&peer, 10).await.ok()?.0;
            (h.iter().map(|m| m.body.as_str()).collect::<Vec<_>>() == ["Hi Bob, privately", "Hello Alice"])
                .then_some(())
        })
        .await;
        // Only text goes through the inbox: files, reactions and unsends are refused, typed.
        let file = NewFile {
            file_name: "a.txt".into(),
            content_type: "text/plain".into(),
            bytes: zeroize::Zeroizing::new(b"x".to_vec()),
            width: None,
            height: None,
            voice: false,
        };
        assert_eq!(alice.engine.send_files(&peer, "", None, vec![file]).await, Err(Error::TextOnlyThroughCommunity));
        assert_eq!(alice.engine.react(&sent.id, "👍", true).await, Err(Error::TextOnlyThroughCommunity));
        let other = alice.engine.send_reply(&peer, "a reply goes as text", &sent.id).await.unwrap();
        assert_eq!(other.body, "a reply goes as text");
        assert_eq!(
            alice.engine.message_member(&lobby, &alice.engine.session_id().unwrap()).await.map(|c| c.peer),
            Err(Error::NotBlinded)
        );

        // Polled again (outbox too), nothing is filed twice.
        alice.engine.poll_communities().await.unwrap();
        bob.engine.poll_communities().await.unwrap();
        assert_eq!(alice.engine.history(&peer, 10).await.unwrap().0.len(), 3);
        let at_bob = eventually("the text reply at Bob's", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            let h = bob.engine.history(&alice_blinded, 10).await.ok()?.0;
            (h.len() == 3).then_some(h)
        })
        .await;
        assert_eq!(at_bob[2].body, "a reply goes as text");
    });
}

/// An invitation to a joined room reaches a contact as a message carrying the room's canonical URL
/// and name (shown as an invitation in their list), and the contact joins from it; a room not
/// joined, or a community member's blinded ID, cannot be invited to or invited.
#[test]
fn an_invitation_reaches_a_contact_who_joins_from_it() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("invite").await;
        let alice = User::new(&net, "Alice", true).await;
        let bob = User::new(&net, "Bob", true).await;
        let bob_id = bob.engine.session_id().unwrap();
        let alice_id = alice.engine.session_id().unwrap();
        let lobby = alice.engine.join_community(&net.lobby).await.unwrap();
        let other = net.add_room("other");
        assert_eq!(alice.engine.invite_to_community(&bob_id, &other).await.map(|m| m.id), Err(Error::NotJoined));
        assert_eq!(
            alice.engine.invite_to_community(&lobby.me, &lobby.url).await.map(|m| m.id),
            Err(Error::TextOnlyThroughCommunity)
        );

        let sent = alice.engine.invite_to_community(&bob_id, &net.lobby).await.unwrap();
        let invitation = sent.invitation.clone().expect("an invitation");
        assert_eq!((invitation.url.as_str(), invitation.name.as_str()), (lobby.url.as_str(), lobby.name.as_str()));
        assert_eq!((sent.body.as_str(), sent.outgoing), ("", true));
        let got = eventually("the invitation at Bob's", SECONDS_20, async || {
            let h = bob.engine.history(&alice_id, 10).await.ok()?.0;
            h.into_iter().find(|m| m.invitation.is_some())
        })
        .await;
        assert_eq!(got.invitation.as_ref(), Some(&invitation));
        assert_eq!(got.sender_name.as_deref(), Some("Alice"));
        let row = bob.engine.conversation(&alice_id).await.unwrap().unwrap();
        assert_eq!(
            (row.standing, row.preview().to_string()),
            (Standing::Request, format!("Community invitation: {}", lobby.name))
        );
        eventually("the invitation sent", SECONDS_20, async || {
            let h = alice.engine.history(&bob_id, 10).await.ok()?.0;
            (h.first()?.status == hush_client::conversations::Status::Sent).then_some(())
        })
        .await;

        let joined = bob.engine.join_community(&got.invitation.unwrap().url).await.unwrap();
        assert_eq!(joined.url, lobby.url);
        assert_eq!(bob.engine.communities().await.unwrap().len(), 1);
    });
}

/// An admin sets the room's picture and pins a post; another member's next poll brings both (the
/// room's details change), the picture fetched once, then kept; a member who is not an admin is
/// refused either.
#[test]
fn an_admin_sets_the_rooms_picture_and_pins_and_members_see_them() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("picture").await;
        let alice = User::new(&net, "Alice", false).await;
        let bob = User::new(&net, "Bob", false).await;
        let lobby = alice.engine.join_community(&net.lobby).await.unwrap();
        bob.engine.join_community(&net.lobby).await.unwrap();
        assert_eq!(bob.engine.room_image(&lobby.url).await, Ok(None));
        let picture = |bytes: &[u8]| NewFile {
            file_name: "room.png".into(),
            content_type: "image/png".into(),
            bytes: zeroize::Zeroizing::new(bytes.to_vec()),
            width: Some(1),
            height: Some(1),
            voice: false,
        };
        // A tiny PNG (1×1), as the app sends a scaled picture.
        let png = hex::decode(concat!(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000",
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a0e5c2b60000000049454e44ae426082"
        ))
        .unwrap();
        assert_eq!(
            bob.engine.set_room_image(&lobby.url, picture(&png)).await.map(|c| c.image),
            Err(Error::CommunityForbidden),
            "only admins"
        );
        net.devnet
            .community
            .add_moderator(&Scope::Rooms(vec!["lobby".into()]), &lobby.me.to_string(), true, true)
            .unwrap();
        assert!(!alice.engine.communities().await.unwrap()[0].admin);
        let set = alice.engine.set_room_image(&lobby.url, picture(&png)).await.unwrap();
        assert!(set.admin, "the room's details read again say so");
        let id = set.image.expect("the room has a picture");
        assert_eq!(alice.engine.room_image(&lobby.url).await.unwrap().as_deref(), Some(png.as_slice()));

        let seen = eventually("the picture at Bob's", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            bob.engine.communities().await.ok()?.first()?.image
        })
        .await;
        assert_eq!(seen, id);
        assert_eq!(bob.engine.room_image(&lobby.url).await.unwrap().as_deref(), Some(png.as_slice()));
        let asked = bob.urls.borrow().len();
        assert_eq!(bob.engine.room_image(&lobby.url).await.unwrap().as_deref(), Some(png.as_slice()));
        assert_eq!(bob.urls.borrow().len(), asked, "kept");

        // Pins: the admin pins a post, the other sees it pinned after a poll; unpinning too.
        let post = bob.engine.post(&lobby.url, "the rules", None).await.unwrap();
        assert_eq!(
            bob.engine.room_pin(&lobby.url, post.id, true).await.map(|c| c.pinned),
            Err(Error::CommunityForbidden)
        );
        alice.wait_for(&lobby.url, "the rules").await;
        assert_eq!(alice.engine.room_pin(&lobby.url, post.id, true).await.unwrap().pinned, [post.id]);
        assert_eq!(alice.engine.room_pin(&lobby.url, 999_999, true).await.map(|c| c.pinned), Err(Error::MessageGone));
        eventually("the pin at Bob's", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            (bob.engine.communities().await.ok()?.first()?.pinned == [post.id]).then_some(())
        })
        .await;
        assert!(alice.engine.room_pin(&lobby.url, post.id, false).await.unwrap().pinned.is_empty());
        eventually("the unpin at Bob's", SECONDS_20, async || {
            bob.engine.poll_communities().await.ok()?;
            bob.engine.communities().await.ok()?.first()?.pinned.is_empty().then_some(())
        })
        .await;
    });
}

/// One batched request per server per poll, however many rooms: a client in 5 rooms of one
/// server sends one request per round, and its background work polls every 10 s (6 a minute).
#[test]
fn polling_is_one_request_per_server_per_round() {
    run_test(Duration::from_secs(120), async || {
        let net = Net::start("cost").await;
        let mut rooms = vec![net.lobby.clone()];
        for token in ["two", "three", "four", "five"] {
            rooms.push(net.add_room(token));
        }
        let dave = User::new(&net, "Dave", false).await;
        for room in &rooms {
            dave.engine.join_community(room).await.unwrap();
        }
        assert_eq!(dave.engine.communities().await.unwrap().len(), 5);
        let (polls, requests) = dave.engine.community_requests();
        let onion = dave.engine.requests_sent();
        dave.engine.poll_communities().await.unwrap();
        assert_eq!(dave.engine.community_requests(), (polls + 1, requests + 1), "one request for five rooms");
        let per_poll = dave.engine.requests_sent() - onion;
        assert_eq!(per_poll, 1, "one onion request per poll once a path is built");
        // Opening a room polls its server at once, with the same one request.
        dave.engine.open_room(Some(&rooms[2])).await.unwrap();
        assert_eq!(dave.engine.community_requests(), (polls + 2, requests + 2));

        // The background work: a poll at start, then every 10 s.
        let started = std::time::Instant::now();
        let (before, _) = dave.engine.community_requests();
        let background = dave.engine.clone();
        let task = tokio::task::spawn_local(async move { background.run().await });
        tokio::time::sleep(Duration::from_millis(25_000)).await;
        task.abort();
        let (after, _) = dave.engine.community_requests();
        let rounds = after - before;
        let period = hush_client::communities::POLL_EVERY.as_secs_f64();
        println!(
            "poll cost: {rounds} batched requests (one onion request each) in {:.1} s for 5 rooms on 1 server: \
             one every {period} s, {:.0} per minute per server",
            started.elapsed().as_secs_f64(),
            60.0 / period
        );
        assert_eq!(rounds, 3, "at 0, 10 and 20 s");
    });
}
