//! The devnet's own hardening: private key files, a control route that web pages cannot drive,
//! and a proxy to servers that follows no redirect and caps what it reads.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use crypto_core::onion::{self, Destination, EncType, NodeKeys, Protocol, ServerTarget, v4};
use hush_node::devnet::{Devnet, DevnetConfig};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tempfile::TempDir;

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-devnet-hardening-{name}-")).tempdir().expect("a temporary folder")
}

fn config(dir: &Path, nodes: usize) -> DevnetConfig {
    let mut c = DevnetConfig::on_free_ports(dir.to_path_buf());
    c.nodes = nodes;
    c
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Invariant: a devnet node's keys are its owner's only. Each node's folder is 0700 and its key
/// files (`ed25519.key`, the TLS `key.pem`) 0600, also when an earlier run left them readable by all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_node_keys_are_readable_by_their_owner_only() {
    let dir = test_dir("keys");
    // An earlier run's node 0, readable by everyone.
    let old = dir.path().join("node-00");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(old.join("ed25519.key"), [5u8; 32]).unwrap();
    std::fs::set_permissions(old.join("ed25519.key"), std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut devnet = Devnet::start(config(dir.path(), 3)).await.unwrap();
    for i in 0..3 {
        let node = dir.path().join(format!("node-{i:02}"));
        assert_eq!(mode(&node), 0o700, "{}", node.display());
        for key in ["ed25519.key", "key.pem"] {
            assert_eq!(mode(&node.join(key)), 0o600, "{}/{key}", node.display());
        }
    }
    devnet.shutdown();
}

/// Invariant: `/devnet/stop_node` does only what a local tool asks, never what a web page could
/// send. A cross-origin POST (`Origin: https://evil.example`, or `null`) is refused with 403
/// whatever its type, and so is a `text/plain` or form POST with no `Origin`; the node keeps
/// running. A plain POST (no `Origin`, no body, as the e2e harness sends) and a JSON POST from the
/// seed's own origin stop it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stop_node_control_refuses_what_a_web_page_could_send() {
    let dir = test_dir("control");
    let mut devnet = Devnet::start(config(dir.path(), 4)).await.unwrap();
    let http = reqwest::Client::new();
    let control = |i: usize| devnet.seed_url.replace("/json_rpc", &format!("/devnet/stop_node/{i}"));
    let own_origin = devnet.seed_url.trim_end_matches("/json_rpc").to_owned();
    let refused: [(Option<&str>, Option<&str>); 6] = [
        (Some("https://evil.example"), Some("text/plain")),
        (Some("https://evil.example"), None),
        (Some("https://evil.example"), Some("application/json")),
        (Some("null"), None),
        (None, Some("text/plain;charset=UTF-8")),
        (None, Some("application/x-www-form-urlencoded")),
    ];
    for (origin, content_type) in refused {
        let mut request = http.post(control(1)).body("stop");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), 403, "{origin:?} {content_type:?}");
        assert!(devnet.network.nodes()[1].is_up(), "stopped by {origin:?} {content_type:?}");
    }
    let multipart = http.post(control(1)).header(header::CONTENT_TYPE, "multipart/form-data; boundary=x");
    assert_eq!(multipart.body("--x--").send().await.unwrap().status().as_u16(), 403);
    assert!(devnet.network.nodes()[1].is_up());

    let own = http
        .post(control(1))
        .header(header::ORIGIN, &own_origin)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{}");
    assert_eq!(own.send().await.unwrap().status().as_u16(), 200);
    assert!(!devnet.network.nodes()[1].is_up());
    assert_eq!(http.post(control(2)).send().await.unwrap().status().as_u16(), 200);
    assert!(!devnet.network.nodes()[2].is_up());
    devnet.shutdown();
}

/// Invariant: the devnet's nodes relay to servers following no redirect and reading at most
/// 10 MiB. An allow-listed server that answers 307 to an internal URL gets the client a 502 (the
/// internal server is never asked); one that answers 256 MiB gets a quick 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devnet_proxy_follows_no_redirect_and_caps_answers() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let internal = Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "internal-admin-secret" }
    });
    let internal_port = serve_http(internal).await;
    let location = format!("http://127.0.0.1:{internal_port}/internal/admin");
    let server = Router::new()
        .route(
            "/oxen/redirect/lsrpc",
            post(move || {
                let location = location.clone();
                async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response() }
            }),
        )
        .route(
            "/oxen/flood/lsrpc",
            post(|| async {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let chunks = (0..4096).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        );
    let port = serve_http(server).await;

    let dir = test_dir("proxy");
    let mut cfg = config(dir.path(), 4);
    // Both allowed: the redirect must not be followed even to an allowed server.
    cfg.proxy_allow = vec![format!("127.0.0.1:{port}"), format!("127.0.0.1:{internal_port}")];
    let mut devnet = Devnet::start(cfg).await.unwrap();
    let keys = |n: &hush_node::network::Node| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 };
    let path: Vec<NodeKeys> = devnet.network.nodes().iter().take(3).map(|n| keys(n)).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let payload = v4::encode_request(r#"{"method":"GET","endpoint":"/capabilities"}"#, None);
    let url = format!("{}/v1/onion/{}", devnet.app_url, hex::encode(path[0].ed25519));
    let http = reqwest::Client::new();
    for target in ["/oxen/redirect/lsrpc", "/oxen/flood/lsrpc"] {
        let destination = Destination::Server(ServerTarget {
            host: "127.0.0.1".into(),
            target: target.into(),
            port,
            protocol: Protocol::Http,
            x25519: [7u8; 32],
        });
        let req = onion::build(&mut rng, &path, &destination, &payload, EncType::XChaCha20).unwrap();
        let started = Instant::now();
        let r = http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(req.body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        let body = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        assert_eq!(status, 502, "{target}: {body}");
        assert!(!body.contains("internal-admin-secret"), "{target}: {body}");
        assert!(started.elapsed() < Duration::from_secs(10), "{target}: answered after {:?}", started.elapsed());
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the node followed a server's redirect");
    devnet.shutdown();
}

/// Serves `app` over plain HTTP on loopback; returns its port.
async fn serve_http(app: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}
