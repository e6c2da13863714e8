//! What the relay sends to seeds and nodes and what it takes back: no redirect followed, answers
//! read with a cap, only public node addresses (loopback on a local test network's flag), timeouts,
//! and no plain-HTTP seed to another machine without `--insecure-seed`.
//!
//! Fake seeds and nodes run here on loopback: the seeds over plain HTTP, the nodes over HTTPS
//! with self-signed certificates, as real service nodes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum_server::tls_rustls::RustlsConfig;
use hush_node::outbound::{MAX_SEED_REPLY_LEN, Outbound};
use hush_node::relay::{Relay, RelayConfig, Seed};
use serde_json::{Value, json};
use tempfile::TempDir;

#[path = "support/relay.rs"]
mod support;
use support::{RelayProcess, serve_relay};

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-outbound-test-{name}-")).tempdir().expect("a temporary folder")
}

/// Serves `app` over plain HTTP on loopback; returns its port.
async fn serve_http(app: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// Serves `app` over HTTPS on loopback with a self-signed certificate made in `dir`, as a service
/// node does; returns its port.
async fn serve_https(app: Router, dir: &Path) -> u16 {
    hush_node::tls::install_provider();
    let (cert, key) = hush_node::tls::load_or_create_cert(dir, "127.0.0.1").unwrap();
    let tls = RustlsConfig::from_pem(cert, key).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = axum_server::from_tcp_rustls(listener, tls).unwrap();
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    port
}

/// A node-list entry as seeds give it.
fn entry(ip: &str, port: u16, key: [u8; 32]) -> Value {
    json!({
        "public_ip": ip, "storage_port": port, "pubkey_ed25519": hex::encode(key),
        "pubkey_x25519": hex::encode([9u8; 32]), "swarm_id": 1,
    })
}

/// The JSON-RPC answer of a seed that lists `nodes`.
fn node_list(nodes: &[Value]) -> Value {
    json!({ "jsonrpc": "2.0", "id": 0, "result": { "service_node_states": nodes, "height": 1, "status": "OK" } })
}

/// A seed (plain HTTP, `POST /json_rpc`) that lists `nodes`; returns its JSON-RPC URL.
async fn fake_seed(nodes: Vec<Value>) -> String {
    let body = node_list(&nodes).to_string();
    let app = Router::new().route(
        "/json_rpc",
        post(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    format!("http://127.0.0.1:{}/json_rpc", serve_http(app).await)
}

/// A server on loopback that must never be reached: it counts requests and answers with a secret
/// (and a node list, so that a seed redirected to it would be believed).
struct Internal {
    url: String,
    hits: Arc<AtomicUsize>,
}

const INTERNAL_SECRET: &str = "internal-admin-secret";

impl Internal {
    async fn start() -> Internal {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let mut answer = node_list(&[entry("93.184.216.34", 443, [3; 32])]);
        answer["secret"] = json!(INTERNAL_SECRET);
        let answer = answer.to_string();
        let app = Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], answer) }
        });
        let port = serve_http(app).await;
        Internal { url: format!("http://127.0.0.1:{port}/internal/admin"), hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn config(seed: &str, outbound: Outbound) -> RelayConfig {
    RelayConfig {
        seeds: vec![Seed { url: seed.to_owned(), pins: Vec::new() }],
        allowed_origins: Vec::new(),
        rate_per_minute: 100_000,
        refresh: Duration::from_secs(600),
        static_dir: None,
        outbound,
        inbound: Default::default(),
    }
}

/// At most the first 200 bytes of `body` as text (a flood must not flood the test's output).
fn shown(body: &[u8]) -> String {
    match body.len() {
        0..=200 => String::from_utf8_lossy(body).into_owned(),
        n => format!("{}… ({n} bytes)", String::from_utf8_lossy(&body[..200])),
    }
}

/// Posts an onion body for `guard` as the app does; returns the status and body ([`shown`]).
async fn onion(relay_url: &str, guard: [u8; 32]) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{relay_url}/v1/onion/{}", hex::encode(guard)))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(vec![1u8; 100])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, shown(&r.bytes().await.unwrap()))
}

/// A relay with `outbound`, its list read from `seed`, served on loopback; posts an onion body
/// for `guard` through it and returns the answer ([`onion`]; `None` if none came within 20 s)
/// and how long it took.
async fn onion_through_new_relay(seed: &str, outbound: Outbound, guard: [u8; 32]) -> (Option<(u16, String)>, Duration) {
    let relay = Relay::new(config(seed, outbound)).unwrap();
    relay.refresh().await.unwrap();
    let url = serve_relay(relay).await;
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(20), onion(&url, guard)).await;
    (answer.ok(), started.elapsed())
}

/// `bytes` bytes in 64 KiB chunks, made as they are sent (the fake node holds none of them).
fn flood(bytes: usize) -> Body {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let chunks = bytes / chunk.len();
    Body::from_stream(futures_util::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone()))))
}

/// One byte every `every`, forever.
fn trickle(every: Duration) -> Body {
    Body::from_stream(futures_util::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), ()))
    }))
}

/// Invariant: the relay follows no redirect. A listed node that answers 301/302/303/307/308 to an
/// internal URL gets the client a 502 `Service node unreachable`, not the internal page; a seed
/// that redirects gives no node list. The internal server is never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_follows_no_redirect_from_a_node_or_a_seed() {
    let internal = Internal::start().await;
    let dir = test_dir("redirect");
    let mut guards = Vec::new();
    let mut listed = Vec::new();
    for (i, status) in [301u16, 302, 303, 307, 308].into_iter().enumerate() {
        let location = internal.url.clone();
        let app = Router::new().route(
            "/onion_req/v2",
            post(move || {
                let location = location.clone();
                async move {
                    let status = StatusCode::from_u16(status).unwrap();
                    (status, [(header::LOCATION, location)], "moved").into_response()
                }
            }),
        );
        let node_dir = dir.path().join(format!("node-{i}"));
        std::fs::create_dir_all(&node_dir).unwrap();
        let port = serve_https(app, &node_dir).await;
        let key = [10 + u8::try_from(i).unwrap(); 32];
        guards.push(key);
        listed.push(entry("127.0.0.1", port, key));
    }
    let seed = fake_seed(listed).await;
    let relay = Relay::new(config(&seed, Outbound::local_test_network())).unwrap();
    assert_eq!(relay.refresh().await.unwrap(), 5);
    let url = serve_relay(relay.clone()).await;
    for guard in guards {
        let (status, body) = onion(&url, guard).await;
        assert_eq!((status, body.as_str()), (502, "Service node unreachable"));
    }
    assert_eq!(internal.hits(), 0, "the relay followed a node's redirect");

    // A seed that redirects (307 keeps the POST) to the internal server, which lists a node.
    let location = internal.url.clone();
    let redirecting_seed = Router::new().route(
        "/json_rpc",
        post(move || {
            let location = location.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response() }
        }),
    );
    let seed = format!("http://127.0.0.1:{}/json_rpc", serve_http(redirecting_seed).await);
    let relay = Relay::new(config(&seed, Outbound::local_test_network())).unwrap();
    let error = format!("{:#}", relay.refresh().await.unwrap_err());
    assert!(error.contains("redirect"), "{error}");
    assert_eq!(relay.node_count(), 0);
    assert_eq!(internal.hits(), 0, "the relay followed a seed's redirect");
}

/// Invariant: a node's answer is read with a cap. A guard that answers 1 GiB gets the client a
/// quick 502 `Service node unreachable` from the relay process, whose peak memory grows by far
/// less than 100 MiB; the relay keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_floods_gets_a_quick_error_and_the_relay_stays_small() {
    let dir = test_dir("flood");
    let node = Router::new().route("/onion_req/v2", post(|| async { flood(1024 * 1024 * 1024) }));
    let port = serve_https(node, dir.path()).await;
    let key = [21u8; 32];
    let seed = fake_seed(vec![entry("127.0.0.1", port, key)]).await;
    let relay = RelayProcess::start_local(&["--seed", &seed], "info").unwrap();
    let nodes = reqwest::get(format!("{}/v1/nodes", relay.url)).await.unwrap();
    assert_eq!(nodes.status().as_u16(), 200, "{}", relay.output());
    let before = relay.memory_kib("VmRSS");

    let started = Instant::now();
    let (status, body) = onion(&relay.url, key).await;
    let took = started.elapsed();
    let peak = relay.memory_kib("VmHWM");
    assert_eq!((status, body.as_str()), (502, "Service node unreachable"));
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    let growth_mib = peak.saturating_sub(before) / 1024;
    // The figure in BENCHMARKS.md (`--nocapture` shows it).
    eprintln!("a 1 GiB answer: 502 after {took:?}; the relay's peak grew by {growth_mib} MiB");
    assert!(growth_mib < 100, "the relay grew by {growth_mib} MiB (from {} MiB)", before / 1024);
    let nodes = reqwest::get(format!("{}/v1/nodes", relay.url)).await.unwrap();
    assert_eq!(nodes.status().as_u16(), 200);
}

/// The node list is read with a cap too: a seed that answers 256 MiB gives no list, quickly, with
/// a reason that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_that_floods_gives_no_list() {
    let seed = Router::new().route("/json_rpc", post(|| async { flood(256 * 1024 * 1024) }));
    let seed = format!("http://127.0.0.1:{}/json_rpc", serve_http(seed).await);
    let relay = Relay::new(config(&seed, Outbound::local_test_network())).unwrap();
    let started = Instant::now();
    let error = format!("{:#}", relay.refresh().await.unwrap_err());
    assert!(error.contains(&format!("larger than {MAX_SEED_REPLY_LEN} bytes")), "{error}");
    assert!(started.elapsed() < Duration::from_secs(4), "gave up after {:?}", started.elapsed());
    assert_eq!(relay.node_count(), 0);
}

/// Invariant: only public addresses from the node list are ever contacted. Nodes listed at
/// loopback, private, link-local, shared (CGNAT), unspecified, multicast, documentation or IPv6
/// unique-local and link-local addresses, or by name, are left out of the relay's list; loopback
/// ones are kept with the local-test-network flag, the others never. A left-out guard is unknown
/// (404) and never contacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_nodes_at_public_addresses_are_used_and_loopback_only_on_the_flag() {
    let dir = test_dir("addresses");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let node = Router::new().route(
        "/onion_req/v2",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "hello from loopback" }
        }),
    );
    let port = serve_https(node, dir.path()).await;
    let loopback_key = [31u8; 32];
    let public_key = [32u8; 32];
    let mut listed = vec![entry("127.0.0.1", port, loopback_key), entry("93.184.216.34", 443, public_key)];
    let not_public = [
        "10.1.2.3",
        "172.20.0.5",
        "192.168.0.7",
        "169.254.169.254",
        "100.64.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "192.0.2.10",
        "fd00::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::7",
        "localhost",
        "node.example",
        "",
    ];
    for (i, ip) in not_public.iter().enumerate() {
        listed.push(entry(ip, port, [100 + u8::try_from(i).unwrap(); 32]));
    }
    // More loopback forms: kept only with the flag.
    listed.push(entry("::1", port, [60; 32]));
    listed.push(entry("::ffff:127.0.0.1", port, [61; 32]));
    listed.push(entry("127.8.9.10", port, [62; 32]));
    let seed = fake_seed(listed).await;

    let relay = Relay::new(config(&seed, Outbound::default())).unwrap();
    assert_eq!(relay.refresh().await.unwrap(), 1, "the public node only");
    let url = serve_relay(relay).await;
    let list: Value = reqwest::get(format!("{url}/v1/nodes")).await.unwrap().json().await.unwrap();
    let ips: Vec<&str> = list["nodes"].as_array().unwrap().iter().map(|n| n["public_ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["93.184.216.34"]);
    assert_eq!(onion(&url, loopback_key).await, (404, "Unknown service node".to_owned()));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a node at a loopback address was contacted");

    let relay = Relay::new(config(&seed, Outbound::local_test_network())).unwrap();
    assert_eq!(relay.refresh().await.unwrap(), 5, "the public node and the four at loopback addresses");
    let url = serve_relay(relay).await;
    assert_eq!(onion(&url, loopback_key).await, (200, "hello from loopback".to_owned()));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The standalone relay: left out without --allow-loopback-nodes, with a count in its log and
    // none of the addresses.
    let process = RelayProcess::start(&["--seed", &seed], "info").unwrap();
    let log = process.wait_for("left out of the node list");
    assert!(log.contains("left_out=19") && log.contains("kept=1"), "{log}");
    for ip in not_public.iter().filter(|ip| !ip.is_empty()).chain(&["::1", "127.8.9.10", "93.184.216.34"]) {
        assert!(!log.contains(ip), "{ip} is in the log:\n{log}");
    }
    assert!(!log.contains(&format!(":{port}")), "a node's port is in the log:\n{log}");
    let list: Value = reqwest::get(format!("{}/v1/nodes", process.url)).await.unwrap().json().await.unwrap();
    assert_eq!(list["nodes"].as_array().unwrap().len(), 1);
    drop(process);
    let process = RelayProcess::start_local(&["--seed", &seed], "info").unwrap();
    let list: Value = reqwest::get(format!("{}/v1/nodes", process.url)).await.unwrap().json().await.unwrap();
    assert_eq!(list["nodes"].as_array().unwrap().len(), 5);
}

/// Invariant: the relay gives up on a node that trickles its answer (a byte every 500 ms, forever)
/// when its whole-request timeout runs out, and on a seed that does the same; the client gets 502
/// `Service node unreachable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_or_seed_that_trickles_is_given_up_on_at_the_timeout() {
    let dir = test_dir("trickle");
    let node = Router::new().route("/onion_req/v2", post(|| async { trickle(Duration::from_millis(500)) }));
    let port = serve_https(node, dir.path()).await;
    let key = [41u8; 32];
    let seed = fake_seed(vec![entry("127.0.0.1", port, key)]).await;
    let outbound = Outbound {
        node_timeout: Duration::from_secs(3),
        seed_timeout: Duration::from_secs(2),
        ..Outbound::local_test_network()
    };
    let (answer, took) = onion_through_new_relay(&seed, outbound, key).await;
    assert_eq!(answer.expect("the relay is still waiting after 20 s"), (502, "Service node unreachable".to_owned()));
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(8), "gave up after {took:?}");

    let seed = Router::new().route("/json_rpc", post(|| async { trickle(Duration::from_millis(500)) }));
    let seed = format!("http://127.0.0.1:{}/json_rpc", serve_http(seed).await);
    let relay = Relay::new(config(&seed, outbound)).unwrap();
    let started = Instant::now();
    let refreshed = tokio::time::timeout(Duration::from_secs(30), relay.refresh()).await;
    assert!(refreshed.expect("the relay is still reading the seed after 30 s").is_err());
    // Four attempts of at most 2 s each, 250 ms apart.
    assert!(started.elapsed() < Duration::from_secs(12), "gave up after {:?}", started.elapsed());
}

/// The relay gives up on a node that does not accept its connection after the connect timeout,
/// well before the whole-request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_never_accepts_is_given_up_on_at_the_connect_timeout() {
    // A listener with a backlog of one that never accepts: once two connections wait in its
    // queue, the kernel ignores further connection attempts, so they hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let _listener = socket.listen(0).unwrap();
    let mut queued = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(300), tokio::net::TcpStream::connect(("127.0.0.1", port))).await
        {
            queued.push(stream);
        }
    }
    let key = [51u8; 32];
    let seed = fake_seed(vec![entry("127.0.0.1", port, key)]).await;
    let outbound = Outbound {
        connect_timeout: Duration::from_secs(1),
        node_timeout: Duration::from_secs(30),
        ..Outbound::local_test_network()
    };
    let (answer, took) = onion_through_new_relay(&seed, outbound, key).await;
    assert_eq!(answer.expect("the relay is still connecting after 20 s"), (502, "Service node unreachable".to_owned()));
    assert!(took < Duration::from_secs(5), "gave up after {took:?}");
}

/// `relay --seed http://…` to another machine is refused without a pin's HTTPS or
/// `--insecure-seed`, and allowed with that flag, with a warning; a plain-HTTP seed on loopback
/// needs neither; a pin on a plain-HTTP seed is refused (there is no certificate to check).
#[test]
fn a_plain_http_seed_elsewhere_needs_the_insecure_flag_and_gets_a_warning() {
    // Whether it exited with success (or is still running after 10 s), and what it printed.
    let relay = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hush-node"))
            .args(["relay", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let exited = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (exited.is_none_or(|s| s.success()), stderr)
    };
    let remote = "http://seed.invalid:38157/json_rpc";
    let (ok, err) = relay(&["--seed", remote]);
    assert!(!ok && err.contains("plain HTTP") && err.contains("--insecure-seed"), "{err}");
    let pin = "36:EA:0B:25:35:37:98:85:51:EE:85:6E:4F:D2:0D:55:01:1E:9C:8B:27:EA:A2:F3:4B:8F:32:A0:BD:F0:4F:2D";
    let (ok, err) = relay(&["--seed", "http://127.0.0.1:1/json_rpc", "--seed-pin", pin]);
    assert!(!ok && err.contains("needs an https:// seed"), "{err}");

    let allowed = RelayProcess::start(&["--seed", remote, "--insecure-seed"], "info").unwrap();
    let out = allowed.wait_for("WARNING");
    assert!(out.contains("plain HTTP") && out.contains("--insecure-seed"), "{out}");
    drop(allowed);
    let local = RelayProcess::start(&["--seed", "http://127.0.0.1:1/json_rpc"], "info").unwrap();
    local.wait_for("no node list yet");
    assert!(!local.output().contains("WARNING"), "{}", local.output());

    let help = Command::new(env!("CARGO_BIN_EXE_hush-node")).args(["relay", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for phrase in ["--allow-loopback-nodes", "local test network only", "--insecure-seed"] {
        assert!(help.contains(phrase), "{phrase:?} missing from:\n{help}");
    }
}
