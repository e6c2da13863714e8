//! The community server (SOGS v4): every endpoint's answers and errors over plain HTTP with
//! signed requests (protocol-communities §2, §4–§5, §9), its clock-driven lifetimes called
//! directly, and requests through v4 onion requests on a devnet.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blake2::Digest;
use crypto_core::onion::{self, Destination, EncType, NodeKeys, Protocol, ServerTarget, v4};
use ed25519_dalek::{Signer, SigningKey};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::sogs::{Community, Scope, SogsConfig};
use hush_node::wsgi::Headers;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Value, json};
use tempfile::TempDir;

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// A user: an Ed25519 key that signs as a `15` (blinded-style) id, or as `00` (unblinded).
struct Key {
    key: SigningKey,
    unblinded: bool,
}

impl Key {
    fn new(seed: u8) -> Key {
        Key { key: SigningKey::from_bytes(&[seed; 32]), unblinded: false }
    }

    fn unblinded(seed: u8) -> Key {
        Key { key: SigningKey::from_bytes(&[seed; 32]), unblinded: true }
    }

    /// The id the server knows it by.
    fn id(&self) -> String {
        let public = self.key.verifying_key().to_bytes();
        if self.unblinded {
            let x = crypto_core::identity::ed25519_to_x25519_public(&public).unwrap();
            format!("05{}", hex::encode(x))
        } else {
            format!("15{}", hex::encode(public))
        }
    }

    fn header_key(&self) -> String {
        let prefix = if self.unblinded { "00" } else { "15" };
        format!("{prefix}{}", hex::encode(self.key.verifying_key().to_bytes()))
    }

    /// The four `X-SOGS-*` headers for `method target body`, at `ts` with `nonce`.
    fn sign_with(
        &self,
        server: &[u8; 32],
        method: &str,
        target: &str,
        body: &[u8],
        ts: i64,
        nonce: [u8; 16],
    ) -> Vec<(String, String)> {
        let mut msg = server.to_vec();
        msg.extend_from_slice(&nonce);
        msg.extend_from_slice(ts.to_string().as_bytes());
        msg.extend_from_slice(method.as_bytes());
        msg.extend_from_slice(target.as_bytes());
        if !body.is_empty() {
            msg.extend_from_slice(&blake2::Blake2b512::digest(body));
        }
        let sig = self.key.sign(&msg).to_bytes();
        vec![
            ("X-SOGS-Pubkey".into(), self.header_key()),
            ("X-SOGS-Nonce".into(), STANDARD.encode(nonce)),
            ("X-SOGS-Timestamp".into(), ts.to_string()),
            ("X-SOGS-Signature".into(), STANDARD.encode(sig)),
        ]
    }

    fn sign(&self, server: &[u8; 32], method: &str, target: &str, body: &[u8]) -> Vec<(String, String)> {
        let mut nonce = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut nonce);
        self.sign_with(server, method, target, body, now() as i64, nonce)
    }
}

/// An answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?} {}", self.text()))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// A community server on a free loopback port.
struct Server {
    url: String,
    sogs: Arc<Community>,
    http: reqwest::Client,
    _dir: TempDir,
}

impl Server {
    async fn start(config: SogsConfig) -> Server {
        let dir = tempfile::Builder::new().prefix("hush-sogs-test-").tempdir().unwrap();
        let sogs = Community::open(dir.path(), config).unwrap();
        sogs.add_room("lobby", "Lobby", Some("Say hi")).unwrap();
        sogs.add_room("other", "Other", None).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = hush_node::sogs::router(sogs.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        Server { url, sogs, http, _dir: dir }
    }

    fn key(&self) -> [u8; 32] {
        self.sogs.x25519()
    }

    async fn raw(&self, method: &str, target: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
        let mut request = self.http.request(method.parse().unwrap(), format!("{}{target}", self.url)).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_owned());
        Answer { status, content_type, headers, body: response.bytes().await.unwrap().to_vec() }
    }

    /// A request signed by `key` (anonymous without one); a JSON body when `body` is not null.
    async fn call(&self, key: Option<&Key>, method: &str, target: &str, body: &Value) -> Answer {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        let mut headers = key.map(|k| k.sign(&self.key(), method, target, &body)).unwrap_or_default();
        if !body.is_empty() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        self.raw(method, target, &headers, body).await
    }

    async fn get(&self, key: Option<&Key>, target: &str) -> Answer {
        self.call(key, "GET", target, &Value::Null).await
    }

    async fn post_message(&self, key: &Key, room: &str, data: &[u8]) -> Answer {
        let body = json!({"data": STANDARD.encode(data), "signature": STANDARD.encode([7u8; 64])});
        self.call(Some(key), "POST", &format!("/room/{room}/message"), &body).await
    }
}

const NOT_FOUND: &str = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n";

fn assert_status(a: &Answer, status: u16) {
    assert_eq!(a.status, status, "{}", a.text());
}

fn assert_text(a: &Answer, status: u16, text: &str) {
    assert_eq!(
        (a.status, a.content_type.as_deref(), a.text().as_str()),
        (status, Some("text/plain; charset=utf-8"), text)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_rooms_and_room_info() {
    let s = Server::start(SogsConfig::default()).await;
    let alice = Key::new(1);

    let caps = s.get(None, "/capabilities").await;
    assert_eq!((caps.status, caps.content_type.as_deref()), (200, Some("application/json")));
    assert_eq!(caps.text(), "{\"capabilities\":[\"blind\",\"reactions\",\"sogs\"]}\n");
    let caps = s.get(Some(&alice), "/capabilities?required=sogs,blind").await;
    assert_status(&caps, 200);
    let caps = s.get(None, "/capabilities?required=sogs,magic,x").await;
    assert_eq!(caps.status, 412);
    assert_eq!(caps.json(), json!({"capabilities": ["blind", "reactions", "sogs"], "missing": ["magic", "x"]}));

    let rooms = s.get(None, "/rooms").await.json();
    let tokens: Vec<&str> = rooms.as_array().unwrap().iter().map(|r| r["token"].as_str().unwrap()).collect();
    assert_eq!(tokens, ["lobby", "other"]);

    let room = s.get(Some(&alice), "/room/lobby").await;
    assert_status(&room, 200);
    let room = room.json();
    assert_eq!((room["token"].as_str(), room["name"].as_str()), (Some("lobby"), Some("Lobby")));
    assert_eq!(room["description"], "Say hi");
    assert_eq!(
        (room["read"].clone(), room["write"].clone(), room["upload"].clone()),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!((room["message_sequence"].clone(), room["active_users"].clone()), (json!(0), json!(0)));
    assert_eq!(room["active_users_cutoff"], 604800);
    assert_eq!((room["moderators"].clone(), room["admins"].clone()), (json!([]), json!([])));
    assert!(room.get("moderator").is_none() && room.get("default_read").is_none());
    assert!(room.get("pinned_messages").is_none() && room.get("hidden_moderators").is_none());

    let missing = s.get(Some(&alice), "/room/nope").await;
    assert_eq!((missing.status, missing.text().as_str()), (404, NOT_FOUND));
    assert_status(&s.get(None, "/no/such/path").await, 404);
    let wrong = s.call(None, "DELETE", "/capabilities", &Value::Null).await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET, HEAD, OPTIONS")));

    // pollInfo: details only when info_updates differs.
    let info_updates = room["info_updates"].as_i64().unwrap();
    let poll = s.get(Some(&alice), &format!("/room/lobby/pollInfo/{info_updates}")).await.json();
    assert_eq!(poll, json!({"token": "lobby", "active_users": 1, "read": true, "write": true, "upload": true}));
    let poll = s.get(Some(&alice), "/room/lobby/pollInfo/999").await.json();
    assert_eq!(poll["details"]["token"], "lobby");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_signing_is_checked_as_the_real_server_checks_it() {
    let s = Server::start(SogsConfig::default()).await;
    let alice = Key::new(1);
    let key = s.key();
    let target = "/room/lobby/messages/recent?limit=5";

    // Good signature (query signed as sent).
    assert_status(&s.get(Some(&alice), target).await, 200);

    // Some but not all headers.
    let mut headers = alice.sign(&key, "GET", target, b"");
    headers.truncate(2);
    let a = s.raw("GET", target, &headers, Vec::new()).await;
    assert_text(&a, 400, "Invalid authentication headers: missing 2/4 required X-SOGS-* headers");

    // Pubkey: not hex, the 25 prefix, not a point; an unblinded 00 key on a blinded server.
    let replace = |headers: &mut Vec<(String, String)>, name: &str, value: String| {
        headers.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
    };
    let mut h = alice.sign(&key, "GET", target, b"");
    replace(&mut h, "X-SOGS-Pubkey", "zz".repeat(33));
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        400,
        "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
    );
    let mut h = alice.sign(&key, "GET", target, b"");
    replace(&mut h, "X-SOGS-Pubkey", format!("25{}", &alice.header_key()[2..]));
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        400,
        "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
    );
    let unblinded = Key::unblinded(2);
    let a = s.raw("GET", target, &unblinded.sign(&key, "GET", target, b""), Vec::new()).await;
    assert_text(&a, 400, "Invalid authentication: this server requires the use of blinded ids");

    // Nonce and signature encodings.
    let mut h = alice.sign(&key, "GET", target, b"");
    replace(&mut h, "X-SOGS-Nonce", "abc".into());
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        400,
        "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
    );
    let mut h = alice.sign(&key, "GET", target, b"");
    replace(&mut h, "X-SOGS-Signature", "abc".into());
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        400,
        "Invalid authentication: X-SOGS-Signature is not base64[88]",
    );
    let mut h = alice.sign(&key, "GET", target, b"");
    replace(&mut h, "X-SOGS-Timestamp", "soon".into());
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        400,
        "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
    );

    // ±24 h: 25 h off either way is 425; 23 h is fine.
    for offset in [-25 * 3600, 25 * 3600] {
        let h = alice.sign_with(&key, "GET", target, b"", now() as i64 + offset, [offset as u8; 16]);
        assert_text(
            &s.raw("GET", target, &h, Vec::new()).await,
            425,
            "Invalid authentication: X-SOGS-Timestamp is too far from current time",
        );
    }
    let h = alice.sign_with(&key, "GET", target, b"", now() as i64 - 23 * 3600, [9; 16]);
    assert_status(&s.raw("GET", target, &h, Vec::new()).await, 200);

    // A nonce is used once.
    let h = alice.sign_with(&key, "GET", target, b"", now() as i64, [1; 16]);
    assert_status(&s.raw("GET", target, &h, Vec::new()).await, 200);
    let h = alice.sign_with(&key, "GET", target, b"", now() as i64 + 1, [1; 16]);
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        425,
        "Invalid authentication: X-SOGS-Nonce cannot be reused",
    );
    // ... even by a request whose signature failed (the nonce is recorded first).
    let mut h = alice.sign_with(&key, "GET", target, b"", now() as i64, [2; 16]);
    replace(&mut h, "X-SOGS-Signature", STANDARD.encode([0u8; 64]));
    assert_text(
        &s.raw("GET", target, &h, Vec::new()).await,
        401,
        "Invalid authentication: X-SOGS-Signature verification failed",
    );
    let h = alice.sign_with(&key, "GET", target, b"", now() as i64, [2; 16]);
    assert_status(&s.raw("GET", target, &h, Vec::new()).await, 425);

    // The signature covers method, path, query and body.
    let h = alice.sign(&key, "GET", "/room/lobby/messages/recent?limit=6", b"");
    assert_status(&s.raw("GET", target, &h, Vec::new()).await, 401);
    let h = alice.sign(&key, "POST", "/room/lobby/message", b"{}");
    assert_status(&s.raw("POST", "/room/lobby/message", &h, b"{ }".to_vec()).await, 401);

    // Hex nonces and signatures are accepted too.
    let mut h = alice.sign_with(&key, "GET", target, b"", now() as i64, [3; 16]);
    replace(&mut h, "X-SOGS-Nonce", hex::encode([3u8; 16]));
    let sig = STANDARD.decode(&h[3].1).unwrap();
    replace(&mut h, "X-SOGS-Signature", hex::encode(sig));
    assert_status(&s.raw("GET", target, &h, Vec::new()).await, 200);

    // No auth where a user is needed.
    let a = s.call(None, "POST", "/room/lobby/message", &json!({"data": "", "signature": ""})).await;
    assert_text(&a, 401, "X-SOGS-* request authentication required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblinded_keys_only_with_the_option() {
    let s = Server::start(SogsConfig { accept_unblinded: true, ..SogsConfig::default() }).await;
    let bob = Key::unblinded(2);
    assert_eq!(s.get(None, "/capabilities").await.json(), json!({"capabilities": ["reactions", "sogs"]}));
    let post = s.post_message(&bob, "lobby", b"hello").await;
    assert_status(&post, 201);
    assert_eq!(post.json()["session_id"].as_str(), Some(bob.id().as_str()));
    assert!(bob.id().starts_with("05"));
    // Blinded keys still work; inboxes need one.
    assert_status(&s.post_message(&Key::new(1), "lobby", b"hi").await, 201);
    assert_text(&s.get(Some(&bob), "/inbox").await, 401, "This endpoint requires blinded pubkeys be used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_edits_deletions_and_polling() {
    let s = Server::start(SogsConfig::default()).await;
    let (alice, bob) = (Key::new(1), Key::new(2));
    let padded = crypto_core::padding::pad(b"\x0a\x04\x0a\x02hi");

    let post = s.post_message(&alice, "lobby", &padded).await;
    assert_eq!((post.status, post.content_type.as_deref()), (201, Some("application/json")));
    let first = post.json();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["data", "id", "posted", "reactions", "seqno", "session_id", "signature"]);
    assert_eq!(first["data"].as_str().unwrap(), STANDARD.encode(&padded));
    assert_eq!(first["session_id"].as_str(), Some(alice.id().as_str()));
    assert_eq!((first["seqno"].clone(), first["reactions"].clone()), (json!(1), json!({})));
    assert!((first["posted"].as_f64().unwrap() - now()).abs() < 30.0);
    let id1 = first["id"].as_i64().unwrap();
    let id2 = s.post_message(&bob, "lobby", b"two").await.json()["id"].as_i64().unwrap();
    let id3 = s.post_message(&alice, "lobby", b"three").await.json()["id"].as_i64().unwrap();

    // Bad posts.
    let bad = json!({"data": STANDARD.encode("x"), "signature": STANDARD.encode([1u8; 63])});
    assert_status(&s.call(Some(&alice), "POST", "/room/lobby/message", &bad).await, 400);
    let short = s.call(Some(&alice), "POST", "/room/lobby/message", &bad).await;
    assert_eq!((short.content_type.as_deref(), short.text().as_str()), (Some("text/html; charset=utf-8"), ""));
    // Not base64, or missing: pysogs' decoder raises, uncaught: 500.
    assert_status(&s.call(Some(&alice), "POST", "/room/lobby/message", &json!({"data": "!!"})).await, 500);
    assert_status(&s.call(Some(&alice), "POST", "/room/nope/message", &bad).await, 404);
    let whisper = json!({"data": "eA==", "signature": STANDARD.encode([1u8; 64]), "whisper_mods": true});
    assert_status(&s.call(Some(&alice), "POST", "/room/lobby/message", &whisper).await, 403);

    // recent (newest first), before, single.
    let ids =
        |a: Answer| -> Vec<i64> { a.json().as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect() };
    assert_eq!(ids(s.get(Some(&bob), "/room/lobby/messages/recent").await), [id3, id2, id1]);
    assert_eq!(ids(s.get(Some(&bob), "/room/lobby/messages/recent?limit=2").await), [id3, id2]);
    assert_eq!(ids(s.get(None, &format!("/room/lobby/messages/before/{id3}")).await), [id2, id1]);
    let single = s.get(Some(&bob), &format!("/room/lobby/message/{id1}")).await;
    assert_eq!(single.json(), first);
    assert_status(&s.get(Some(&bob), "/room/lobby/message/999").await, 404);
    assert_status(&s.get(Some(&bob), "/room/lobby/message/abc").await, 404);

    // Edit: the author only; a new seqno and `edited`.
    let edit = json!({"data": STANDARD.encode("one, edited"), "signature": STANDARD.encode([2u8; 64])});
    let a = s.call(Some(&bob), "PUT", &format!("/room/lobby/message/{id1}"), &edit).await;
    assert_eq!((a.status, a.text().as_str()), (403, "Permission denied"));
    let a = s.call(Some(&alice), "PUT", &format!("/room/lobby/message/{id1}"), &edit).await;
    assert_eq!((a.status, a.text().as_str()), (200, "{}\n"));
    let edited = s.get(Some(&bob), &format!("/room/lobby/message/{id1}")).await.json();
    assert_eq!((edited["seqno"].clone(), edited["data"].clone()), (json!(4), json!(STANDARD.encode("one, edited"))));
    assert!(edited["edited"].as_f64().is_some());

    // Delete: another user's post is 403; the author's own is 200; then 404.
    assert_status(&s.call(Some(&bob), "DELETE", &format!("/room/lobby/message/{id3}"), &Value::Null).await, 403);
    let a = s.call(Some(&alice), "DELETE", &format!("/room/lobby/message/{id3}"), &Value::Null).await;
    assert_eq!((a.status, a.text().as_str()), (200, "{}\n"));
    assert_status(&s.call(Some(&alice), "DELETE", &format!("/room/lobby/message/{id3}"), &Value::Null).await, 404);
    assert_status(&s.get(Some(&bob), &format!("/room/lobby/message/{id3}")).await, 404);
    assert_eq!(ids(s.get(Some(&bob), "/room/lobby/messages/recent").await), [id2, id1]);

    // since: updates in seqno order; the deletion is a tombstone for who saw the post.
    let since = s.get(Some(&bob), "/room/lobby/messages/since/3").await.json();
    let since = since.as_array().unwrap();
    assert_eq!(since.len(), 2);
    assert_eq!((since[0]["id"].as_i64(), since[0]["seqno"].as_i64()), (Some(id1), Some(4)));
    assert_eq!(
        since[1],
        json!({"id": id3, "session_id": alice.id(), "posted": since[1]["posted"], "seqno": 5, "data": null, "deleted": true})
    );
    // ... but not for one who never saw it.
    let all = s.get(Some(&bob), "/room/lobby/messages/since/0").await.json();
    assert_eq!(all.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>(), [id2, id1]);
    assert_eq!(s.get(Some(&bob), "/room/lobby/messages/since/5").await.json(), json!([]));
    let room = s.get(None, "/room/lobby").await.json();
    assert_eq!(room["message_sequence"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_and_reactors() {
    let s = Server::start(SogsConfig::default()).await;
    let (alice, bob) = (Key::new(1), Key::new(2));
    let id = s.post_message(&alice, "lobby", b"react to me").await.json()["id"].as_i64().unwrap();
    let path = format!("/room/lobby/reaction/{id}/👍");

    let a = s.call(Some(&bob), "PUT", &path, &json!({})).await;
    assert_eq!(a.json(), json!({"added": true, "seqno": 2}));
    assert_eq!(s.call(Some(&bob), "PUT", &path, &json!({})).await.json(), json!({"added": false, "seqno": 2}));
    assert_eq!(s.call(Some(&alice), "PUT", &path, &Value::Null).await.json(), json!({"added": true, "seqno": 3}));
    s.call(Some(&alice), "PUT", &format!("/room/lobby/reaction/{id}/🎂"), &json!({})).await;
    assert_status(
        &s.call(Some(&alice), "PUT", &format!("/room/lobby/reaction/{id}/{}", "x".repeat(13)), &json!({})).await,
        400,
    );
    assert_status(&s.call(Some(&alice), "PUT", "/room/lobby/reaction/999/x", &json!({})).await, 404);
    assert_status(&s.call(None, "PUT", &path, &json!({})).await, 401);

    // The message carries them, emoji escaped as Flask writes them; `you` for the caller.
    let m = s.get(Some(&bob), &format!("/room/lobby/message/{id}?reactors=1")).await;
    assert!(
        m.text().contains(r#""\ud83d\udc4d": {"count": 2, "you": true, "index": 0, "reactors": ["#),
        "{}",
        m.text()
    );
    let m = m.json();
    assert_eq!(m["reactions"]["👍"], json!({"index": 0, "count": 2, "reactors": [bob.id()], "you": true}));
    assert_eq!(m["reactions"]["🎂"], json!({"index": 1, "count": 1, "reactors": [alice.id()]}));
    let m = s.get(None, &format!("/room/lobby/message/{id}?reactors=0")).await.json();
    assert_eq!(m["reactions"]["👍"], json!({"index": 0, "count": 2}));

    // since with t=r: a reaction-only update {id, seqno, reactions}; without t=r: nothing.
    let since = s.get(Some(&bob), "/room/lobby/messages/since/1?t=r&reactors=5").await.json();
    let update = &since.as_array().unwrap()[0];
    assert_eq!(update.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "reactions", "seqno"]);
    assert_eq!(update["seqno"], 4);
    assert_eq!(s.get(Some(&bob), "/room/lobby/messages/since/1").await.json(), json!([]));

    // Reactors.
    let r = s.get(Some(&bob), &format!("/room/lobby/reactors/{id}/👍")).await.json();
    let r = r.as_array().unwrap();
    assert_eq!((r.len(), r[0][0].as_str()), (2, Some(bob.id().as_str())));
    assert!(r[0][1].as_f64().is_some());

    // Removing: own only.
    assert_eq!(s.call(Some(&bob), "DELETE", &path, &Value::Null).await.json(), json!({"removed": true, "seqno": 5}));
    assert_eq!(s.call(Some(&bob), "DELETE", &path, &Value::Null).await.json(), json!({"removed": false, "seqno": 5}));

    // Moderator removal of everyone's.
    let all = format!("/room/lobby/reactions/{id}");
    let a = s.call(Some(&bob), "DELETE", &all, &Value::Null).await;
    assert_text(&a, 403, "This endpoint requires moderator room permissions");
    s.sogs.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &bob.id(), false, true).unwrap();
    assert_eq!(s.call(Some(&bob), "DELETE", &all, &Value::Null).await.json(), json!({"removed": 2, "seqno": 7}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_upload_and_download() {
    let s = Server::start(SogsConfig::default()).await;
    let alice = Key::new(1);
    let data = b"\x89PNG not really".to_vec();
    let mut h = alice.sign(&s.key(), "POST", "/room/lobby/file", &data);
    h.push(("Content-Disposition".into(), "attachment; filename*=UTF-8''caf%C3%A9.png".into()));
    let up = s.raw("POST", "/room/lobby/file", &h, data.clone()).await;
    assert_eq!((up.status, up.text()), (201, "{\"id\":1}\n".to_owned()));
    let down = s.get(Some(&alice), "/room/lobby/file/1").await;
    assert_eq!((down.status, down.content_type.as_deref(), &down.body), (200, Some("application/octet-stream"), &data));
    assert_eq!(down.header("content-disposition"), Some("attachment; filename*=UTF-8''caf%C3%A9.png"));
    assert!(down.header("expires").is_some() && down.header("date").is_some());
    assert_status(&s.get(None, "/room/lobby/file/1/anything.png").await, 200);
    assert_status(&s.get(None, "/room/other/file/1").await, 404);
    assert_status(&s.get(None, "/room/lobby/file/2").await, 404);
    let up =
        s.raw("POST", "/room/lobby/file", &alice.sign(&s.key(), "POST", "/room/lobby/file", b""), Vec::new()).await;
    // Empty is a file too, as pysogs takes it.
    assert_status(&up, 201);
    let big = vec![0u8; hush_node::sogs::MAX_FILE_SIZE + 1];
    let up = s.raw("POST", "/room/lobby/file", &alice.sign(&s.key(), "POST", "/room/lobby/file", &big), big).await;
    assert_status(&up, 413);
}

/// Signed headers as [`Community::handle_at`] takes them.
fn headers(key: &Key, server: &[u8; 32], method: &str, target: &str, body: &[u8], at: f64) -> Headers {
    let mut nonce = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut nonce);
    key.sign_with(server, method, target, body, at as i64, nonce)
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

#[test]
fn file_and_dm_lifetimes() {
    let sogs = Community::in_memory(&[5; 32], SogsConfig::default()).unwrap();
    sogs.add_room("lobby", "Lobby", None).unwrap();
    let server = sogs.x25519();
    let (alice, bob) = (Key::new(1), Key::new(2));
    let t0 = now();
    let call = |key: &Key, method: &str, target: &str, body: &[u8], at: f64| {
        sogs.handle_at(method, target, &headers(key, &server, method, target, body, at), body, at)
    };
    let up = |at| call(&alice, "POST", "/room/lobby/file", b"file", at);
    assert_eq!(up(t0).status, 201);
    assert_eq!(up(t0).status, 201);
    // Unlinked: an hour.
    assert_eq!(call(&bob, "GET", "/room/lobby/file/1", b"", t0 + 3599.0).status, 200);
    assert_eq!(call(&bob, "GET", "/room/lobby/file/1", b"", t0 + 3601.0).status, 404);
    // Linked by a post (ids as numbers or numeric strings): 15 days.
    let post = json!({"data": "eA==", "signature": STANDARD.encode([1u8; 64]), "files": [2]}).to_string();
    assert_eq!(call(&alice, "POST", "/room/lobby/message", post.as_bytes(), t0 + 10.0).status, 201);
    assert_eq!(call(&bob, "GET", "/room/lobby/file/2", b"", t0 + 14.0 * 86400.0).status, 200);
    assert_eq!(call(&bob, "GET", "/room/lobby/file/2", b"", t0 + 15.0 * 86400.0 + 20.0).status, 404);
    // A room image never expires; an unknown image id is 406.
    assert_eq!(up(t0).status, 201);
    sogs.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &alice.id(), true, true).unwrap();
    let put = |body: &str| call(&alice, "PUT", "/room/lobby", body.as_bytes(), t0 + 20.0);
    assert_eq!(put(r#"{"image": 99}"#).status, 406);
    let r = put(r#"{"image": 3, "description": "Hi"}"#);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(call(&bob, "GET", "/room/lobby/file/3", b"", t0 + 100.0 * 86400.0).status, 200);
    let room: Value = serde_json::from_slice(&call(&bob, "GET", "/room/lobby", b"", t0 + 30.0).body).unwrap();
    assert_eq!((room["image_id"].clone(), room["description"].clone()), (json!(3), json!("Hi")));
    // DMs: 15 days.
    assert_eq!(call(&bob, "GET", "/inbox", b"", t0).status, 200);
    let dm = json!({"message": STANDARD.encode(b"secret")}).to_string();
    let sent = call(&alice, "POST", &format!("/inbox/{}", bob.id()), dm.as_bytes(), t0);
    assert_eq!(sent.status, 201);
    let inbox = |at| call(&bob, "GET", "/inbox", b"", at);
    assert_eq!(serde_json::from_slice::<Value>(&inbox(t0 + 14.0 * 86400.0).body).unwrap().as_array().unwrap().len(), 1);
    assert_eq!(serde_json::from_slice::<Value>(&inbox(t0 + 16.0 * 86400.0).body).unwrap(), json!([]));
    // A pinned post's files never expire; unpinned, they have 15 days from their upload.
    assert_eq!(up(t0 + 40.0).status, 201);
    let post = json!({"data": "eA==", "signature": STANDARD.encode([1u8; 64]), "files": ["4"]}).to_string();
    let posted = call(&alice, "POST", "/room/lobby/message", post.as_bytes(), t0 + 41.0);
    let id = serde_json::from_slice::<Value>(&posted.body).unwrap()["id"].as_i64().unwrap();
    assert_eq!(call(&alice, "POST", &format!("/room/lobby/pin/{id}"), b"{}", t0 + 50.0).status, 200);
    assert_eq!(call(&bob, "GET", "/room/lobby/file/4", b"", t0 + 30.0 * 86400.0).status, 200);
    assert_eq!(call(&alice, "POST", "/room/lobby/unpin/all", b"{}", t0 + 30.0 * 86400.0).status, 200);
    assert_eq!(call(&bob, "GET", "/room/lobby/file/4", b"", t0 + 30.0 * 86400.0).status, 404);
    // The sweep deletes what expired.
    assert!(sogs.sweep(t0 + 30.0 * 86400.0).unwrap() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whispers_room_settings_and_who_may_do_what() {
    let s = Server::start(SogsConfig::default()).await;
    let (admin, modr, alice, bob) = (Key::new(1), Key::new(2), Key::new(3), Key::new(4));
    let lobby = Scope::Rooms(vec!["lobby".into()]);
    s.sogs.add_moderator(&lobby, &admin.id(), true, true).unwrap();
    s.sogs.add_moderator(&lobby, &modr.id(), false, false).unwrap();

    // Whispers: to one user (and its author), to the moderators.
    let whisper = |to: Value, mods: bool| json!({"data": "d2hpc3Blcg==", "signature": STANDARD.encode([1u8; 64]), "whisper_to": to, "whisper_mods": mods});
    let a = s.call(Some(&modr), "POST", "/room/lobby/message", &whisper(json!(alice.id()), false)).await;
    assert_status(&a, 201);
    let a = a.json();
    assert_eq!(
        (a["whisper"].clone(), a["whisper_mods"].clone(), a["whisper_to"].clone()),
        (json!(true), json!(false), json!(alice.id()))
    );
    let to_alice = a["id"].as_i64().unwrap();
    let to_mods = s.call(Some(&modr), "POST", "/room/lobby/message", &whisper(Value::Null, true)).await.json()["id"]
        .as_i64()
        .unwrap();
    let seen = |key: Option<&Key>| {
        let key = key.map(|k| Key { key: k.key.clone(), unblinded: k.unblinded });
        let s = &s;
        async move {
            let a = s.get(key.as_ref(), "/room/lobby/messages/recent").await.json();
            a.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(seen(Some(&alice)).await, [to_alice]);
    assert_eq!(seen(Some(&bob)).await, Vec::<i64>::new());
    assert_eq!(seen(None).await, Vec::<i64>::new());
    // Moderators see whispers to moderators, and their own; not one to another user.
    assert_eq!(seen(Some(&admin)).await, [to_mods]);
    assert_eq!(seen(Some(&modr)).await, [to_mods, to_alice]);
    assert_status(&s.get(Some(&bob), &format!("/room/lobby/message/{to_alice}")).await, 404);
    // Whispers take no reactions and no pins.
    let a = s.call(Some(&alice), "PUT", &format!("/room/lobby/reaction/{to_alice}/x"), &json!({})).await;
    assert_eq!((a.status, a.text()), (404, format!("No such post: {to_alice}")));

    // OPTIONS and HEAD, as Flask answers them.
    let a = s.call(None, "OPTIONS", "/room/lobby", &Value::Null).await;
    assert_eq!((a.status, a.header("allow")), (200, Some("GET, HEAD, OPTIONS, PUT")));
    let a = s.call(None, "HEAD", "/capabilities", &Value::Null).await;
    assert_eq!((a.status, a.body.len()), (200, 0));

    // Room settings: admins only; at least one field; names and descriptions are text.
    let a = s.call(Some(&modr), "PUT", "/room/lobby", &json!({"name": "x"})).await;
    assert_text(&a, 403, "This endpoint requires admin room permissions");
    assert_text(
        &s.call(None, "PUT", "/room/lobby", &json!({"name": "x"})).await,
        401,
        "X-SOGS-* request authentication required",
    );
    for bad in [
        json!({}),
        json!({"name": 5}),
        json!({"description": []}),
        json!({"image": "1"}),
        json!({"default_write": "no"}),
    ] {
        assert_status(&s.call(Some(&admin), "PUT", "/room/lobby", &bad).await, 400);
    }
    let before = s.get(None, "/room/lobby").await.json()["info_updates"].as_i64().unwrap();
    let a = s.call(Some(&admin), "PUT", "/room/lobby", &json!({"name": "The\u{7} Lobby", "description": ""})).await;
    assert_eq!(a.json(), json!({"info_updates": before + 2}));
    let room = s.get(None, "/room/lobby").await.json();
    assert_eq!((room["name"].clone(), room.get("description")), (json!("The Lobby"), None));
    // A read-only room: users may not post, moderators may.
    let a = s.call(Some(&admin), "PUT", "/room/lobby", &json!({"default_write": false})).await;
    assert_eq!(a.json(), json!({"info_updates": before + 2}));
    let a = s.post_message(&alice, "lobby", b"hi").await;
    assert_eq!((a.status, a.text().as_str()), (403, "Permission denied"));
    assert_eq!(s.get(Some(&alice), "/room/lobby").await.json()["write"], false);
    assert_status(&s.post_message(&modr, "lobby", b"mods may").await, 201);
    s.call(Some(&admin), "PUT", "/room/lobby", &json!({"default_write": true})).await;
    // Hidden moderators are listed to moderators only.
    let room = s.get(Some(&alice), "/room/lobby").await.json();
    assert_eq!((room["moderators"].clone(), room.get("hidden_moderators")), (json!([]), None));
    let room = s.get(Some(&admin), "/room/lobby").await.json();
    assert_eq!(room["hidden_moderators"], json!([modr.id()]));

    // Bans: not oneself, not an admin by a moderator, not a global moderator.
    let ban = json!({"rooms": ["lobby"]});
    assert_eq!(
        s.call(Some(&modr), "POST", &format!("/user/{}/ban", modr.id()), &ban).await.text(),
        "Permission denied"
    );
    assert_eq!(
        s.call(Some(&modr), "POST", &format!("/user/{}/ban", admin.id()), &ban).await.text(),
        "Permission denied"
    );
    // Unknown rooms are 403; "*" with others is 400; both rooms and global is 400.
    assert_status(
        &s.call(Some(&modr), "POST", &format!("/user/{}/ban", bob.id()), &json!({"rooms": ["nope"]})).await,
        403,
    );
    assert_status(
        &s.call(Some(&modr), "POST", &format!("/user/{}/ban", bob.id()), &json!({"rooms": ["*", "lobby"]})).await,
        400,
    );
    assert_status(
        &s.call(Some(&modr), "POST", &format!("/user/{}/ban", bob.id()), &json!({"rooms": ["lobby"], "global": true}))
            .await,
        400,
    );
    assert_status(
        &s.call(Some(&modr), "POST", &format!("/user/{}/ban", bob.id()), &json!({"rooms": ["lobby"], "timeout": "1h"}))
            .await,
        400,
    );
    // "*": every room the caller moderates.
    assert_status(
        &s.call(Some(&modr), "POST", &format!("/user/{}/ban", bob.id()), &json!({"rooms": ["*"]})).await,
        200,
    );
    assert_status(&s.post_message(&bob, "lobby", b"banned").await, 403);
    assert_status(&s.post_message(&bob, "other", b"not banned here").await, 201);

    // Deleting all posts: one's own, or a moderator's; an admin's only by an admin.
    s.post_message(&admin, "lobby", b"admin post").await;
    let a = s.call(Some(&modr), "DELETE", &format!("/room/lobby/all/{}", admin.id()), &Value::Null).await;
    assert_eq!((a.status, a.text().as_str()), (403, "Permission denied"));
    let a = s.call(Some(&alice), "DELETE", &format!("/room/lobby/all/{}", Key::new(99).id()), &Value::Null).await;
    assert_eq!((a.status, a.text()), (404, format!("No such user: {}", Key::new(99).id())));
    assert_status(&s.call(Some(&alice), "DELETE", &format!("/room/lobby/all/{}", alice.id()), &Value::Null).await, 404);
    // Moderator changes: removing, and admin without moderator is refused.
    let target = format!("/user/{}/moderator", modr.id());
    assert_status(
        &s.call(Some(&admin), "POST", &target, &json!({"rooms": ["lobby"], "admin": true, "moderator": false})).await,
        400,
    );
    assert_status(&s.call(Some(&admin), "POST", &target, &json!({"rooms": ["lobby"], "moderator": false})).await, 200);
    assert!(s.get(Some(&modr), "/room/lobby").await.json().get("moderator").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_and_outbox() {
    let s = Server::start(SogsConfig::default()).await;
    let (alice, bob, carol) = (Key::new(1), Key::new(2), Key::new(3));
    // Bob has never used the server: 404.
    let dm = json!({"message": STANDARD.encode(b"\x00ciphertext")});
    assert_status(&s.call(Some(&alice), "POST", &format!("/inbox/{}", bob.id()), &dm).await, 404);
    assert_status(&s.get(Some(&bob), "/inbox").await, 200);
    let sent = s.call(Some(&alice), "POST", &format!("/inbox/{}", bob.id()), &dm).await;
    assert_status(&sent, 201);
    let sent = sent.json();
    assert_eq!(
        sent.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["expires_at", "id", "posted_at", "recipient", "sender"]
    );
    assert_eq!(
        (sent["sender"].as_str(), sent["recipient"].as_str()),
        (Some(alice.id().as_str()), Some(bob.id().as_str()))
    );
    let expires = sent["expires_at"].as_f64().unwrap() - sent["posted_at"].as_f64().unwrap();
    assert!((expires - 15.0 * 86400.0).abs() < 1.0);
    assert_status(&s.call(Some(&alice), "POST", &format!("/inbox/{}", bob.id()), &json!({})).await, 400);
    assert_status(&s.call(Some(&alice), "POST", "/inbox/05abc", &dm).await, 404);
    assert_status(&s.call(None, "POST", &format!("/inbox/{}", bob.id()), &dm).await, 401);

    let inbox = s.get(Some(&bob), "/inbox").await.json();
    let first = &inbox.as_array().unwrap()[0];
    assert_eq!(first["message"].as_str().unwrap(), STANDARD.encode(b"\x00ciphertext"));
    let id = first["id"].as_i64().unwrap();
    // Nothing new: 304 with an empty body.
    let poll = s.get(Some(&bob), &format!("/inbox/since/{id}")).await;
    assert_eq!((poll.status, poll.body.len()), (304, 0));
    assert_eq!(s.get(Some(&bob), "/inbox/since/0").await.json().as_array().unwrap().len(), 1);
    assert_eq!(s.get(Some(&carol), "/inbox").await.json(), json!([]));
    let out = s.get(Some(&alice), "/outbox").await.json();
    assert_eq!(out.as_array().unwrap()[0]["recipient"].as_str(), Some(bob.id().as_str()));
    assert_eq!(s.get(Some(&alice), &format!("/outbox/since/{id}")).await.status, 304);
    assert_status(&s.get(None, "/inbox").await, 401);
    assert_eq!(s.call(Some(&bob), "DELETE", "/inbox", &Value::Null).await.json(), json!({"deleted": 1}));
    assert_eq!(s.get(Some(&bob), "/inbox").await.json(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_bans_and_pins() {
    let s = Server::start(SogsConfig::default()).await;
    let (admin, modr, user) = (Key::new(1), Key::new(2), Key::new(3));
    s.sogs.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &admin.id(), true, true).unwrap();
    let id = s.post_message(&user, "lobby", b"spam").await.json()["id"].as_i64().unwrap();

    // An admin makes a moderator.
    let body = json!({"rooms": ["lobby"], "moderator": true});
    let a = s.call(Some(&user), "POST", &format!("/user/{}/moderator", modr.id()), &body).await;
    assert_status(&a, 403);
    let a = s.call(Some(&admin), "POST", &format!("/user/{}/moderator", modr.id()), &body).await;
    assert_status(&a, 200);
    assert!(a.json()["info_updates"]["lobby"].as_i64().is_some(), "{}", a.text());
    let room = s.get(Some(&modr), "/room/lobby").await.json();
    assert_eq!((room["moderators"].clone(), room["admins"].clone()), (json!([modr.id()]), json!([admin.id()])));
    assert_eq!((room["moderator"].clone(), room["default_write"].clone()), (json!(true), json!(true)));
    assert!(room.get("admin").is_none());
    let bad =
        s.call(Some(&admin), "POST", &format!("/user/{}/moderator", modr.id()), &json!({"moderator": true})).await;
    assert_status(&bad, 400);

    // A moderator deletes another's post.
    let a = s.call(Some(&modr), "DELETE", &format!("/room/lobby/message/{id}"), &Value::Null).await;
    assert_eq!((a.status, a.text().as_str()), (200, "{}\n"));

    // Room ban: the user cannot post or read there (403), elsewhere they can; unban.
    let ban = json!({"rooms": ["lobby"]});
    assert_status(&s.call(Some(&user), "POST", &format!("/user/{}/ban", modr.id()), &ban).await, 403);
    assert_status(&s.call(Some(&modr), "POST", &format!("/user/{}/ban", user.id()), &ban).await, 200);
    assert_status(&s.post_message(&user, "lobby", b"again").await, 403);
    assert_status(&s.get(Some(&user), "/room/lobby/messages/recent").await, 404);
    let a = s.get(Some(&user), "/room/lobby/pollInfo/0").await;
    assert_text(&a, 403, "This endpoint requires room message 'read' permission");
    assert_status(&s.post_message(&user, "other", b"elsewhere").await, 201);
    assert_status(&s.call(Some(&modr), "POST", &format!("/user/{}/unban", user.id()), &ban).await, 200);
    let post = s.post_message(&user, "lobby", b"back").await;
    assert_status(&post, 201);
    let id2 = post.json()["id"].as_i64().unwrap();
    // Global bans need a global moderator; then every request is 403 `Banned`.
    let global = json!({"global": true});
    let a = s.call(Some(&modr), "POST", &format!("/user/{}/ban", user.id()), &global).await;
    assert_status(&a, 403);
    s.sogs.add_moderator(&Scope::Global, &modr.id(), false, false).unwrap();
    assert_status(&s.call(Some(&modr), "POST", &format!("/user/{}/ban", user.id()), &global).await, 200);
    assert_text(&s.get(Some(&user), "/capabilities").await, 403, "Banned");
    assert_status(&s.call(Some(&modr), "POST", &format!("/user/{}/unban", user.id()), &global).await, 200);
    assert_status(&s.get(Some(&user), "/capabilities").await, 200);
    // A timed ban ends.
    let timed = json!({"rooms": ["lobby"], "timeout": 1});
    assert_status(&s.call(Some(&modr), "POST", &format!("/user/{}/ban", user.id()), &timed).await, 200);
    assert_status(&s.post_message(&user, "lobby", b"too soon").await, 403);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_status(&s.post_message(&user, "lobby", b"later").await, 201);

    // Pins: admins only.
    let a = s.call(Some(&modr), "POST", &format!("/room/lobby/pin/{id2}"), &json!({})).await;
    assert_eq!((a.status, a.text().as_str()), (403, "Permission denied"));
    let a = s.call(Some(&admin), "POST", &format!("/room/lobby/pin/{id2}"), &json!({})).await;
    assert_status(&a, 200);
    let info = a.json()["info_updates"].as_i64().unwrap();
    let room = s.get(Some(&user), "/room/lobby").await.json();
    assert_eq!(room["info_updates"].as_i64(), Some(info));
    assert_eq!(room["pinned_messages"][0]["id"].as_i64(), Some(id2));
    assert_eq!(room["pinned_messages"][0]["pinned_by"].as_str(), Some(admin.id().as_str()));
    assert_status(&s.call(Some(&admin), "POST", "/room/lobby/pin/9999", &json!({})).await, 404);
    let a = s.call(Some(&admin), "POST", &format!("/room/lobby/unpin/{id2}"), &json!({})).await.json();
    assert_eq!(a, json!({"unpinned": true, "info_updates": info + 1}));
    s.call(Some(&admin), "POST", &format!("/room/lobby/pin/{id2}"), &json!({})).await;
    let a = s.call(Some(&admin), "POST", "/room/lobby/unpin/all", &json!({})).await.json();
    assert_eq!(a["unpinned"], 1);

    // Deleting all of a user's posts.
    let a = s.call(Some(&modr), "DELETE", &format!("/room/lobby/all/{}", user.id()), &Value::Null).await;
    assert_eq!((a.status, a.text().as_str()), (200, "{}\n"));
    assert_status(&s.call(Some(&modr), "DELETE", &format!("/room/lobby/all/{}", user.id()), &Value::Null).await, 404);
    let a = s.call(Some(&modr), "DELETE", &format!("/rooms/all/{}", user.id()), &Value::Null).await.json();
    assert_eq!(a, json!({"total": 1, "rooms": {"lobby": 0, "other": 1}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posting_is_rate_limited() {
    let s = Server::start(SogsConfig::default()).await;
    let (alice, admin) = (Key::new(1), Key::new(2));
    s.sogs.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &admin.id(), true, true).unwrap();
    for i in 0..5 {
        assert_status(&s.post_message(&alice, "lobby", format!("{i}").as_bytes()).await, 201);
    }
    let limited = s.post_message(&alice, "lobby", b"sixth").await;
    assert_eq!((limited.status, limited.text().as_str()), (429, "Rate limited"));
    // Another room counts apart; admins are not limited.
    assert_status(&s.post_message(&alice, "other", b"elsewhere").await, 201);
    for i in 0..7 {
        assert_status(&s.post_message(&admin, "lobby", format!("{i}").as_bytes()).await, 201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_and_sequence() {
    let s = Server::start(SogsConfig::default()).await;
    let alice = Key::new(1);
    let requests = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "POST", "path": "/room/lobby/message", "json": {"data": "aGk=", "signature": STANDARD.encode([1u8; 64])}},
        {"method": "GET", "path": "/room/nope"},
        {"method": "GET", "path": "/room/lobby/messages/recent?limit=1"},
    ]);
    let a = s.call(Some(&alice), "POST", "/batch", &requests).await;
    assert_status(&a, 200);
    let replies = a.json();
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 4);
    assert_eq!(replies[0]["code"], 200);
    assert_eq!(replies[0]["body"], json!({"capabilities": ["blind", "reactions", "sogs"]}));
    assert_eq!(replies[0]["headers"]["content-type"], "application/json");
    assert_eq!((replies[1]["code"].clone(), replies[1]["body"]["session_id"].clone()), (json!(201), json!(alice.id())));
    assert_eq!(replies[2]["code"], 404);
    assert_eq!(replies[2]["body"].as_str().map(|b| STANDARD.decode(b).unwrap()), Some(NOT_FOUND.as_bytes().to_vec()));
    assert_eq!(replies[3]["body"][0]["data"], "aGk=");

    // /sequence stops after the first failure.
    let a = s.call(Some(&alice), "POST", "/sequence", &requests).await.json();
    assert_eq!(a.as_array().unwrap().iter().map(|r| r["code"].as_i64().unwrap()).collect::<Vec<_>>(), [200, 201, 404]);

    // Malformed batches are 400 as a whole.
    for bad in [
        json!({"method": "GET"}),
        json!([{"method": "PATCH", "path": "/rooms"}]),
        json!([{"method": "GET", "path": "rooms"}]),
        json!([{"method": "GET", "path": "/rooms", "json": {}}]),
        json!([{"method": "POST", "path": "/room/lobby/message"}]),
        json!([{"method": "POST", "path": "/room/lobby/message", "json": {}, "b64": ""}]),
        json!([1]),
    ] {
        assert_status(&s.call(Some(&alice), "POST", "/batch", &bad).await, 400);
    }
    // b64 and bytes bodies.
    let file = json!([{"method": "POST", "path": "/room/lobby/file", "b64": STANDARD.encode(b"abc")}]);
    let a = s.call(Some(&alice), "POST", "/batch", &file).await.json();
    assert_eq!((a[0]["code"].clone(), a[0]["body"]["id"].clone()), (json!(201), json!(1)));
    // Sub-requests run as the outer user: anonymous outer, 401 inside.
    let a = s.call(None, "POST", "/batch", &json!([{"method": "GET", "path": "/inbox"}])).await.json();
    assert_eq!(a[0]["code"], 401);
}

/// What the last hop's v4 request to a server gets back.
struct OnionClient {
    relay: String,
    path: Vec<NodeKeys>,
    target: ServerTarget,
    rng: ChaCha20Rng,
    http: reqwest::Client,
}

impl OnionClient {
    async fn send(&mut self, metadata: &Value, body: Option<&[u8]>) -> v4::Response {
        let payload = v4::encode_request(&metadata.to_string(), body);
        let destination = Destination::Server(self.target.clone());
        let req = onion::build(&mut self.rng, &self.path, &destination, &payload, EncType::XChaCha20).unwrap();
        let response = self
            .http
            .post(format!("{}/v1/onion/{}", self.relay, hex::encode(self.path[0].ed25519)))
            .header("content-type", "application/octet-stream")
            .body(req.body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let raw = response.bytes().await.unwrap().to_vec();
        onion::unwrap_server_reply(&req.reply_key, &raw).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devnet_runs_one_reached_through_onion_requests() {
    let dir = tempfile::Builder::new().prefix("hush-sogs-devnet-").tempdir().unwrap();
    let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
    config.nodes = 3;
    let mut devnet = Devnet::start(config).await.unwrap();

    // devnet.json and /network.json name it, with the lobby's URL.
    let info: Value = serde_json::from_slice(&std::fs::read(dir.path().join("devnet.json")).unwrap()).unwrap();
    let community = &info["community"];
    let key = hex::encode(devnet.community.x25519());
    assert_eq!(community["url"].as_str(), Some(devnet.community_url.as_str()));
    assert_eq!(community["pubkey"].as_str(), Some(key.as_str()));
    let lobby = format!("{}/lobby?public_key={key}", devnet.community_url);
    assert_eq!(community["lobby_url"].as_str(), Some(lobby.as_str()));
    assert!(lobby.starts_with("http://127.0.0.1:"));
    let anchors: Value = reqwest::get(format!("{}/network.json", devnet.app_url)).await.unwrap().json().await.unwrap();
    assert_eq!(&anchors["community"], community);
    assert!(anchors["file_server"]["url"].is_string());

    // Plain HTTP.
    let room: Value = reqwest::get(format!("{}/room/lobby", devnet.community_url)).await.unwrap().json().await.unwrap();
    assert_eq!(room["name"], "Lobby");

    // Through the relay and three nodes: signed inside the v4 metadata.
    let port: u16 = devnet.community_url.rsplit(':').next().unwrap().parse().unwrap();
    let keys = |n: &hush_node::network::Node| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 };
    let mut client = OnionClient {
        relay: devnet.app_url.clone(),
        path: devnet.network.nodes().iter().take(3).map(|n| keys(n)).collect(),
        target: ServerTarget {
            host: "127.0.0.1".into(),
            target: onion::V4_TARGET.into(),
            port,
            protocol: Protocol::Http,
            x25519: devnet.community.x25519(),
        },
        rng: ChaCha20Rng::seed_from_u64(15),
        http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
    };
    let alice = Key::new(1);
    let server = devnet.community.x25519();
    let body =
        json!({"data": STANDARD.encode(b"through the onion"), "signature": STANDARD.encode([3u8; 64])}).to_string();
    let mut headers: serde_json::Map<String, Value> = alice
        .sign(&server, "POST", "/room/lobby/message", body.as_bytes())
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    headers.insert("Content-Type".into(), json!("application/json"));
    let meta = json!({"method": "POST", "endpoint": "/room/lobby/message", "headers": headers});
    let reply = client.send(&meta, Some(body.as_bytes())).await;
    assert_eq!(reply.code, 201, "{}", String::from_utf8_lossy(&reply.body));
    let posted: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(posted["session_id"].as_str(), Some(alice.id().as_str()));

    // A batch, as clients poll, signed; the emoji path raw UTF-8 as the signature covers it.
    let id = posted["id"].as_i64().unwrap();
    let batch = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "GET", "path": "/room/lobby/pollInfo/0"},
        {"method": "GET", "path": "/room/lobby/messages/recent?reactors=5"},
        {"method": "PUT", "path": format!("/room/lobby/reaction/{id}/🎉"), "json": {}},
    ])
    .to_string();
    let mut headers: serde_json::Map<String, Value> = alice
        .sign(&server, "POST", "/batch", batch.as_bytes())
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    headers.insert("Content-Type".into(), json!("application/json"));
    let reply =
        client.send(&json!({"method": "POST", "endpoint": "/batch", "headers": headers}), Some(batch.as_bytes())).await;
    assert_eq!(reply.code, 200);
    let replies: Value = serde_json::from_slice(&reply.body).unwrap();
    let codes: Vec<i64> = replies.as_array().unwrap().iter().map(|r| r["code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [200, 200, 200, 200]);
    assert_eq!(replies[2]["body"][0]["id"].as_i64(), Some(id));

    // An unsigned read, and an undecodable v4 request.
    let reply = client.send(&json!({"method": "GET", "endpoint": "/room/lobby/messages/recent"}), None).await;
    assert_eq!(reply.code, 200);
    let garbage = client.send(&json!({"method": "GET"}), None).await;
    assert_eq!((garbage.code, garbage.body.as_slice()), (400, &b"Invalid v4 onion request"[..]));

    // The deprecated v3 form: a JSON request; the body for a 2xx, else {"status_code": N}.
    for (endpoint, expected) in [("/room/lobby", None), ("/room/nope", Some(r#"{"status_code": 404}"#))] {
        let request = json!({"endpoint": endpoint, "method": "GET", "headers": {}}).to_string();
        let target = ServerTarget { target: "/oxen/v3/lsrpc".into(), ..client.target.clone() };
        let req = onion::build(
            &mut client.rng,
            &client.path,
            &Destination::Server(target),
            request.as_bytes(),
            EncType::AesGcm,
        )
        .unwrap();
        let response = client
            .http
            .post(format!("{}/v1/onion/{}", client.relay, hex::encode(client.path[0].ed25519)))
            .header("content-type", "application/octet-stream")
            .body(req.body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let sealed = STANDARD.decode(response.bytes().await.unwrap()).unwrap();
        let body = req.reply_key.decrypt(&sealed).unwrap();
        match expected {
            Some(text) => assert_eq!(String::from_utf8_lossy(&body), text),
            None => assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["token"], "lobby"),
        }
    }
    devnet.shutdown();
}

/// Headers of a request signed with a real blinded key pair (crypto-core's, as clients sign).
fn blinded_headers(
    keys: &crypto_core::community::BlindedKeys,
    server: &[u8; 32],
    method: &str,
    target: &str,
) -> Vec<(String, String)> {
    let headers = crypto_core::community::sign_request(
        &mut rand_core::OsRng,
        crypto_core::community::RequestKey::Blinded(keys),
        server,
        now() as u64,
        method,
        target,
        b"",
    );
    headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_named_by_session_id_get_their_blinded_id() {
    use crypto_core::community::BlindedKeys;
    use crypto_core::identity::Identity;
    let s = Server::start(SogsConfig::default()).await;
    let server = s.key();
    // Named before they ever used the server: granted on first sight.
    let early = Identity::from_ed25519_seed(&[21; 32]);
    s.sogs.add_moderator(&Scope::Rooms(vec!["lobby".into()]), &early.session_id().to_string(), false, true).unwrap();
    let early_keys = BlindedKeys::blind15(&early, &server);
    let room =
        s.raw("GET", "/room/lobby", &blinded_headers(&early_keys, &server, "GET", "/room/lobby"), Vec::new()).await;
    let room = room.json();
    assert_eq!(room["moderator"], true, "{room}");
    assert_eq!(room["moderators"], json!([early_keys.id().to_string()]));
    // Named after: granted at once. A global ban by Session ID works the same way.
    let late = Identity::from_ed25519_seed(&[22; 32]);
    let late_keys = BlindedKeys::blind15(&late, &server);
    let get = |keys| blinded_headers(keys, &server, "GET", "/capabilities");
    assert_status(&s.raw("GET", "/capabilities", &get(&late_keys), Vec::new()).await, 200);
    s.sogs.add_moderator(&Scope::Global, &early.session_id().to_string(), true, false).unwrap();
    let ban = json!({"global": true}).to_string();
    let target = format!("/user/{}/ban", late.session_id());
    let headers = crypto_core::community::sign_request(
        &mut rand_core::OsRng,
        crypto_core::community::RequestKey::Blinded(&early_keys),
        &server,
        now() as u64,
        "POST",
        &target,
        ban.as_bytes(),
    );
    let headers: Vec<(String, String)> =
        headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    assert_status(&s.raw("POST", &target, &headers, ban.into_bytes()).await, 200);
    assert_text(&s.raw("GET", "/capabilities", &get(&late_keys), Vec::new()).await, 403, "Banned");
}

/// Well-formed inputs for the `node_sogs` fuzz target, with the status each gets.
fn fuzz_seeds() -> Vec<(Vec<u8>, u16)> {
    let input = |selector: u8, target: &str, headers: &str, body: &[u8]| {
        let mut v = vec![selector];
        v.extend_from_slice(target.as_bytes());
        v.push(0);
        v.extend_from_slice(headers.as_bytes());
        v.push(0);
        v.extend_from_slice(body);
        v
    };
    let json = "content-type:application/json";
    let post = json!({"data": "aGk=", "signature": STANDARD.encode([1u8; 64])}).to_string();
    let batch = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "POST", "path": "/room/lobby/message", "json": {"data": "aGk=", "signature": STANDARD.encode([1u8; 64])}},
        {"method": "PUT", "path": "/room/lobby/reaction/1/👍", "json": {}},
        {"method": "POST", "path": "/room/lobby/pin/1", "json": {}},
        {"method": "GET", "path": "/room/lobby/messages/since/0?t=r&reactors=5"},
        {"method": "DELETE", "path": "/room/lobby/message/1"},
    ])
    .to_string();
    let onion = v4::encode_request(&json!({"method": "GET", "endpoint": "/room/lobby"}).to_string(), None);
    vec![
        (input(0, "/capabilities?required=sogs", "", b""), 200),
        (input(3, "/room/lobby", "", b""), 200),
        (input(7, "/room/lobby/message", json, post.as_bytes()), 201),
        (input(7, "/sequence", json, batch.as_bytes()), 200),
        (input(3, "/room/lobby/messages/recent?limit=3", "", b""), 200),
        (input(11, "/room/lobby/reaction/1/👍", json, b"{}"), 404),
        (input(3, "/inbox", "", b""), 200),
        (input(7, &format!("/user/15{}/ban", "ab".repeat(32)), json, br#"{"rooms":["lobby"]}"#), 200),
        ([vec![2], onion].concat(), 200),
        ([vec![1], b"garbage".to_vec()].concat(), 400),
    ]
}

#[test]
fn the_fuzz_entry_point_survives_mutated_requests() {
    let seeds = fuzz_seeds();
    for (seed, status) in &seeds {
        assert_eq!(hush_node::fuzzing::community_server(seed), Some(*status), "{}", String::from_utf8_lossy(seed));
    }
    let seeds: Vec<Vec<u8>> = seeds.into_iter().map(|(s, _)| s).collect();
    let special = b"/?&=%0123456789{}[]\":,\x00\nroomlobbymessage";
    crypto_core::internal::fuzz_support::run_mutated(
        &mut ChaCha20Rng::seed_from_u64(5),
        &seeds,
        400,
        special,
        |input| {
            let _ = hush_node::fuzzing::community_server(input);
        },
    );
}

/// `cargo test -p hush-node --test sogs -- --ignored write_fuzz_seeds` writes the seeds to
/// `fuzz/seeds/node_sogs/`.
#[test]
#[ignore = "writes fuzz/seeds/node_sogs"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/node_sogs");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (seed, _)) in fuzz_seeds().iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
    }
}
