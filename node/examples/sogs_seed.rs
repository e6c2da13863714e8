//! Fills a community room with real posts: each a `Content` whose `DataMessage` has a body text and
//! the poster's profile name, padded and signed with the poster's blinded (`15`) key as
//! `crypto_core::community::post` does, so a client keeps it (one whose data or signature does not
//! verify is dropped). Posted over plain HTTP, `POST /room/<token>/message` signed as a client
//! signs it, by 32 tasks at once on one keep-alive connection pool; the last
//! post alone after the others, so the room's newest post is `post COUNT of COUNT: …`.
//!
//! Run: `cargo run --release -p hush-node --example sogs_seed -- ROOM_URL COUNT [DIR]`, where
//! `ROOM_URL` is a room's URL as the server prints it (`http://host:port/token?public_key=…`).
//! With `DIR`, the server's folder (a devnet's `<data>/community`), the room is added if the
//! server does not have it and the poster made its admin first (admins are not rate-limited; a
//! running server reads both from its database on the next request). Without it, the poster is a
//! fresh account, and the server's posting rate limit applies. Prints the poster's id, the posts
//! made and the time taken.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use crypto_core::community::{BlindedKeys, CommunityUrl, RequestKey, sign_post, sign_request};
use crypto_core::identity::Identity;
use crypto_core::wire::{Content, DataMessage, LokiProfile};
use hush_node::sogs::{Community, Scope, SogsConfig};
use rand_core::OsRng;

/// Posts in flight at once.
const TASKS: usize = 32;
/// The poster's profile name.
const NAME: &str = "Seeder";

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Post `i`'s text: numbered, so a reader can tell which one is newest (`post 10000 of 10000`).
fn text(i: usize, count: usize) -> String {
    format!("post {} of {count}: the quick brown fox jumps over the lazy dog", i + 1)
}

/// What each posting task shares.
struct Poster {
    http: reqwest::Client,
    keys: Arc<BlindedKeys>,
    server: [u8; 32],
    url: String,
    path: String,
    count: usize,
}

impl Poster {
    /// Posts post `i`: its `Content` signed as a post, the request signed as a client signs it.
    async fn post(&self, i: usize) -> anyhow::Result<()> {
        let content = Content {
            data_message: Some(DataMessage {
                body: Some(text(i, self.count)),
                profile: Some(LokiProfile { display_name: Some(NAME.to_owned()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let body = sign_post(&self.keys, &content).body(&[]).into_bytes();
        let headers =
            sign_request(&mut OsRng, RequestKey::Blinded(&self.keys), &self.server, now_s(), "POST", &self.path, &body);
        let mut request = self.http.post(&self.url).header("content-type", "application/json").body(body);
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let reply = request.send().await?;
        let status = reply.status();
        anyhow::ensure!(status.as_u16() == 201, "post {}: {status} {}", i + 1, reply.text().await?);
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: sogs_seed ROOM_URL COUNT [DIR]";
    let url = CommunityUrl::parse(&args.next().context(usage)?).map_err(|e| anyhow::anyhow!("the room URL: {e}"))?;
    let count: usize = args.next().context(usage)?.parse().context("COUNT is a number")?;
    let dir = args.next();

    let identity = Identity::generate(&mut OsRng);
    let keys = Arc::new(BlindedKeys::blind15(&identity, url.server_key()));
    let room = url.room().to_owned();
    println!("poster {}", keys.id());
    if let Some(dir) = dir {
        let community = Community::open(std::path::Path::new(&dir), SogsConfig::default())?;
        anyhow::ensure!(
            community.x25519() == *url.server_key(),
            "{dir} is not the folder of the server whose key the URL names"
        );
        if !community.rooms()?.contains(&room) {
            community.add_room(&room, &room, Some("seeded"))?;
            println!("room {room} added");
        }
        community.add_moderator(&Scope::Rooms(vec![room.clone()]), &keys.id().to_string(), true, false)?;
    }

    let base = url.server();
    let path = format!("/room/{room}/message");
    let server = *url.server_key();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let start = Instant::now();
    let made = runtime.block_on(async {
        let http = reqwest::Client::builder().pool_max_idle_per_host(TASKS).build()?;
        let poster = Arc::new(Poster { http, keys, server, url: format!("{base}{path}"), path, count });
        // All but the last at once; the last alone after them, so the newest post is `post COUNT`.
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let (poster, next) = (poster.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut made = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i + 1 >= count {
                        return Ok::<usize, anyhow::Error>(made);
                    }
                    poster.post(i).await?;
                    made += 1;
                }
            }));
        }
        let mut made = 0;
        for task in tasks {
            made += task.await??;
        }
        if count > 0 {
            poster.post(count - 1).await?;
            made += 1;
        }
        Ok::<usize, anyhow::Error>(made)
    })?;
    let seconds = start.elapsed().as_secs_f64();
    println!("{made} posts to {room} in {seconds:.1} s ({:.0} a second)", made as f64 / seconds);
    Ok(())
}
