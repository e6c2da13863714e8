//! The community server's throughput: posts and polls per second over HTTP on loopback, against
//! the same server's cheapest request and a minimal axum handler in the same run.
//!
//! The server runs in this process as `hush-node sogs` serves it (`Community::open` on a temporary
//! folder, so SQLite on disk in WAL mode; the sweeper; `axum::serve` of `sogs::router`), on its
//! own tokio runtime of 2 worker threads (its blocking pool, where each request's handler and
//! SQLite run, shares their name, so its CPU time is read per thread from `/proc`). The load comes
//! from a second runtime of 2 threads: `CLIENTS` tasks sharing one keep-alive reqwest client,
//! each sending its next request as soon as the last is answered, for `SECONDS` a phase. Every
//! signed request is signed before its phase starts (signing is the client's cost), each with its
//! own nonce, by `CLIENTS` users with blinded (`15`) keys.
//!
//! Run: `cargo run --release -p hush-node --example sogs_load [-- SECONDS CLIENTS DIR]` (default
//! 10 s, 32 clients, the server's folder made in the system's temporary folder; a `DIR` on tmpfs
//! such as `/dev/shm` takes the disk's flushes out of the figures).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::community::{BlindedKeys, RequestKey, sign_request};
use crypto_core::identity::Identity;
use hush_node::sogs::{Community, SogsConfig};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

const ROOM: &str = "bench";
/// Signed requests made ready for one phase (a phase ends early if its clients use them all).
const BUDGET: usize = 40_000;
/// What the minimal handler answers: as many bytes as the server's `/capabilities`.
const STATIC_JSON: &str = "{\"capabilities\":[\"blind\",\"reactions\",\"sogs\"]}\n";

/// One request, ready to send.
#[derive(Clone)]
struct Req {
    method: reqwest::Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// Where a phase's requests come from: the same one over and over, or each used once.
struct Source {
    requests: Vec<Req>,
    repeat: bool,
    next: AtomicUsize,
}

impl Source {
    fn next(&self) -> Option<&Req> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if self.repeat { self.requests.first() } else { self.requests.get(i) }
    }
}

struct Figures {
    requests: usize,
    failures: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
    server_cpu_s: f64,
    reply_bytes: usize,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// CPU seconds (user + system) spent so far by this process's threads named `sogs-server`.
fn server_cpu() -> f64 {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("sogs-server") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // After the `(comm)` field: state is field 3; utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(14) + field(15);
    }
    ticks as f64 / 100.0
}

/// `count` requests `method path body` signed by `users` in turn, on two threads.
fn signed(
    base: &str,
    server: &[u8; 32],
    users: &[BlindedKeys],
    count: usize,
    method: &str,
    path: &str,
    body: impl Fn(usize) -> Vec<u8> + Sync,
) -> Vec<Req> {
    let make = |i: usize| {
        let body = body(i);
        let keys = &users[i % users.len()];
        let h = sign_request(&mut OsRng, RequestKey::Blinded(keys), server, now_s(), method, path, &body);
        let mut headers: Vec<(&'static str, String)> = h.pairs().iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        if !body.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        Req { method: method.parse().expect("a method"), url: format!("{base}{path}"), headers, body }
    };
    let half = count / 2;
    std::thread::scope(|s| {
        let first = s.spawn(|| (0..half).map(make).collect::<Vec<_>>());
        let second: Vec<Req> = (half..count).map(make).collect();
        let mut all = first.join().expect("the signing thread");
        all.extend(second);
        all
    })
}

fn request(http: &reqwest::Client, req: &Req) -> reqwest::RequestBuilder {
    let mut builder = http.request(req.method.clone(), &req.url).body(req.body.clone());
    for (name, value) in &req.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
}

fn unsigned(url: String) -> Vec<Req> {
    vec![Req { method: reqwest::Method::GET, url, headers: Vec::new(), body: Vec::new() }]
}

/// Runs `requests` from `clients` tasks for `length` (or until they are used up).
async fn drive(http: &reqwest::Client, clients: usize, length: Duration, requests: Vec<Req>, repeat: bool) -> Figures {
    let expected = if requests.first().is_some_and(|r| r.url.ends_with("/message")) { 201 } else { 200 };
    let source = Arc::new(Source { requests, repeat, next: AtomicUsize::new(0) });
    let cpu = server_cpu();
    let start = Instant::now();
    let deadline = start + length;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, source) = (http.clone(), source.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut failures, mut bytes) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                let Some(req) = source.next() else { break };
                let began = Instant::now();
                match request(&http, req).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.bytes().await.unwrap_or_default();
                        if status == expected {
                            latencies.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                            bytes += body.len();
                        } else {
                            if failures == 0 {
                                eprintln!("{} {}: {status} {}", req.method, req.url, String::from_utf8_lossy(&body));
                            }
                            failures += 1;
                        }
                    }
                    Err(e) => {
                        if failures == 0 {
                            eprintln!("{} {}: {e}", req.method, req.url);
                        }
                        failures += 1;
                    }
                }
            }
            (latencies, failures, bytes)
        }));
    }
    let (mut latencies_us, mut failures, mut reply_bytes) = (Vec::new(), 0, 0);
    for task in tasks {
        let (l, f, b) = task.await.expect("a client task");
        latencies_us.extend(l);
        failures += f;
        reply_bytes += b;
    }
    let seconds = start.elapsed().as_secs_f64();
    let server_cpu_s = server_cpu() - cpu;
    latencies_us.sort_unstable();
    Figures { requests: latencies_us.len(), failures, seconds, latencies_us, server_cpu_s, reply_bytes }
}

fn row(name: &str, f: &Figures, reference: f64) {
    let per_request_cpu = if f.requests == 0 { 0.0 } else { f.server_cpu_s * 1e6 / f.requests as f64 };
    println!(
        "| {name} | {:.0} | {:.2}× | {:.2} / {:.2} / {:.2} | {:.0} % | {:.0} | {} | {} |",
        f.per_second(),
        reference / f.per_second(),
        f.percentile(0.5),
        f.percentile(0.9),
        f.percentile(0.99),
        f.server_cpu_s * 100.0 / f.seconds,
        per_request_cpu,
        f.reply_bytes.checked_div(f.requests).unwrap_or(0),
        f.failures,
    );
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let clients: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let length = Duration::from_secs(seconds);

    // The server, as `hush-node sogs` runs it, on a runtime of its own. A normal user's rate limit
    // (5 posts in 16 s) is lifted, but its check (a count of the poster's recent posts) is made.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sogs-server")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    let parent = std::env::args().nth(3).map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let dir = tempfile::Builder::new().prefix("hush-sogs-load-").tempdir_in(&parent)?;
    let config = SogsConfig { rate_posts: u32::MAX, ..SogsConfig::default() };
    let community = Community::open(dir.path(), config)?;
    community.add_room(ROOM, "Bench", Some("load"))?;
    let server = community.x25519();
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let minimal = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let minimal_url = format!("http://{}/capabilities", minimal.local_addr()?);
    {
        let _guard = server_rt.enter();
        hush_node::sogs::spawn_sweeper(community.clone());
    }
    server_rt.spawn(axum::serve(listener, hush_node::sogs::router(community)).into_future());
    let app = axum::Router::new()
        .route("/capabilities", axum::routing::get(|| async { ([("content-type", "application/json")], STATIC_JSON) }));
    server_rt.spawn(axum::serve(minimal, app).into_future());

    let users: Vec<BlindedKeys> = (0..clients)
        .map(|_| {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            BlindedKeys::blind15(&Identity::from_ed25519_seed(&seed), &server)
        })
        .collect();

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load-client")
        .enable_all()
        .build()?;
    client_rt.block_on(async {
        let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
        let caps = format!("{base}/capabilities");
        // Warm-up: connections open, the server's threads started.
        drive(&http, clients, Duration::from_secs(2), unsigned(caps.clone()), true).await;

        let minimal_f = drive(&http, clients, length, unsigned(minimal_url), true).await;
        let caps_f = drive(&http, clients, length, unsigned(caps.clone()), true).await;
        let signed_caps = signed(&base, &server, &users, BUDGET, "GET", "/capabilities", |_| Vec::new());
        let signed_caps_f = drive(&http, clients, length, signed_caps, false).await;

        // Posts: a padded Session message of 320 bytes in base64, and a (made-up) signature: the
        // server stores both and checks neither.
        let posts = signed(&base, &server, &users, BUDGET, "POST", &format!("/room/{ROOM}/message"), |_| {
            let mut data = [0u8; 320];
            OsRng.fill_bytes(&mut data);
            json!({"data": STANDARD.encode(data), "signature": STANDARD.encode([7u8; 64])}).to_string().into_bytes()
        });
        let posts_f = drive(&http, clients, length, posts, false).await;

        // The room as a client polling it knows it.
        let info = signed(&base, &server, &users, 1, "GET", &format!("/room/{ROOM}"), |_| Vec::new());
        let info: Value = request(&http, &info[0]).send().await?.json().await?;
        let seqno = info["message_sequence"].as_i64().unwrap_or(0);
        let info_updates = info["info_updates"].as_i64().unwrap_or(0);

        // A client's poll of one room (Engine::poll_communities): pollInfo, messages since its last
        // seqno, the inbox and the outbox; nothing new.
        let batch = json!([
            {"method": "GET", "path": format!("/room/{ROOM}/pollInfo/{info_updates}")},
            {"method": "GET", "path": format!("/room/{ROOM}/messages/since/{seqno}?t=r&reactors=5&limit=256")},
            {"method": "GET", "path": "/inbox"},
            {"method": "GET", "path": "/outbox"},
        ])
        .to_string()
        .into_bytes();
        let polls = signed(&base, &server, &users, BUDGET, "POST", "/batch", |_| batch.clone());
        let polls_f = drive(&http, clients, length, polls, false).await;
        let since = format!("/room/{ROOM}/messages/since/{seqno}");
        let since_f =
            drive(&http, clients, length, signed(&base, &server, &users, BUDGET, "GET", &since, |_| Vec::new()), false)
                .await;
        let since20 = format!("/room/{ROOM}/messages/since/{}", seqno - 20);
        let since20_f =
            drive(&http, clients, length, signed(&base, &server, &users, BUDGET, "GET", &since20, |_| Vec::new()), false)
                .await;
        let caps_after = drive(&http, clients, length, unsigned(caps), true).await;

        let reference = caps_f.per_second();
        println!(
            "Community server on loopback, data in {}, {clients} keep-alive clients, {seconds} s a phase; server and \
             clients share this machine's {} cores; load average {}",
            parent.display(),
            std::thread::available_parallelism().map_or(1, usize::from),
            std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
        );
        println!(
            "| request | per second | `GET /capabilities` ÷ this | latency p50 / p90 / p99 (ms) | server CPU | server CPU per request (µs) | reply bytes | failed |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        row("reference: minimal axum handler, same JSON size", &minimal_f, reference);
        row("reference: `GET /capabilities`, unsigned", &caps_f, reference);
        row("`GET /capabilities`, signed", &signed_caps_f, reference);
        row(&format!("**post**: signed `POST /room/{ROOM}/message` (320 B)"), &posts_f, reference);
        row("**poll**: signed `POST /batch` (pollInfo, since, inbox, outbox), nothing new", &polls_f, reference);
        row("signed `GET …/messages/since/<seqno>`, nothing new", &since_f, reference);
        row("signed `GET …/messages/since/<seqno − 20>` (20 messages)", &since20_f, reference);
        row("reference again: `GET /capabilities`, unsigned", &caps_after, reference);
        println!("messages in the room at the end: {seqno}");
        anyhow::Ok(())
    })?;
    server_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}
