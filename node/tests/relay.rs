//! `hush-node relay` as a real process in front of a devnet whose seed serves HTTPS with a
//! self-signed certificate: pins, forwarding, static files, and what it writes to its log.

use std::path::Path;
use std::process::Command;

use axum_server::tls_rustls::RustlsConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::Identity;
use crypto_core::onion::{self, Destination, EncType, NodeKeys};
use crypto_core::storage::{Namespace, requests};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::network::Node;
use hush_node::server::now_ms;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rcgen::PublicKeyData;
use serde_json::Value;
use sha2::Digest;
use tempfile::TempDir;

#[path = "support/relay.rs"]
mod support;
use support::RelayProcess;

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-relay-test-{name}-")).tempdir().expect("a temporary folder")
}

/// A devnet, and its seed served again over HTTPS with a self-signed certificate, as the real
/// seeds are. Returns the devnet, the HTTPS seed URL and the two pins (public key, certificate).
async fn devnet_with_https_seed(dir: &Path) -> (Devnet, String, String, String) {
    let mut config = DevnetConfig::on_free_ports(dir.join("devnet"));
    config.nodes = 8;
    let devnet = Devnet::start(config).await.unwrap();

    let seed_dir = dir.join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let (cert, key) = hush_node::tls::load_or_create_cert(&seed_dir, "127.0.0.1").unwrap();
    let certificate_pin = hex::encode(hush_node::tls::pem_fingerprint(&cert).unwrap());
    let key_pair = rcgen::KeyPair::from_pem(std::str::from_utf8(&key).unwrap()).unwrap();
    let public_key_pin = STANDARD.encode(sha2::Sha256::digest(key_pair.subject_public_key_info()));
    let tls = RustlsConfig::from_pem(cert, key).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://{}/json_rpc", listener.local_addr().unwrap());
    let app = hush_node::seed::router(devnet.network.clone());
    let server = axum_server::from_tcp_rustls(listener, tls).unwrap();
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    (devnet, url, public_key_pin, certificate_pin)
}

fn keys(n: &Node) -> NodeKeys {
    NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 }
}

/// The value of `name=` in the last `relay counts` line of `log`.
fn last_count(log: &str, name: &str) -> Option<u64> {
    let line = log.lines().rfind(|l| l.contains("relay counts"))?;
    let field = line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{name}=")))?;
    field.parse().ok()
}

/// The standalone relay, pinned to an HTTPS seed by its public key: it serves the app and its node
/// list, forwards onion requests (a store and a retrieve go through), and its log has counts but
/// no part of any body it forwarded, at the most verbose log level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_relay_forwards_through_a_pinned_https_seed_and_logs_only_counts() {
    let dir = test_dir("standalone");
    let (mut devnet, seed, public_key_pin, _) = devnet_with_https_seed(dir.path()).await;
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("index.html"), "<!doctype html><title>Hush</title>").unwrap();
    let relay = RelayProcess::start_local(
        &["--seed", &seed, "--seed-pin", &public_key_pin, "--static", app.to_str().unwrap(), "--refresh", "1"],
        "trace",
    )
    .unwrap();
    let http = reqwest::Client::new();

    let page = http.get(format!("{}/", relay.url)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("<title>Hush</title>"));
    let nodes: Value = http.get(format!("{}/v1/nodes", relay.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 8);

    // Onion requests whose innermost layer names Bob and carries a marker.
    let marker = format!("hush-log-marker-{}", now_ms());
    let bob = Identity::from_ed25519_seed(&[41; 32]);
    let pk = bob.session_id();
    let dest = devnet.network.members(devnet.network.swarm_of(&pk).unwrap()).next().unwrap().clone();
    let path: Vec<NodeKeys> = devnet
        .network
        .nodes()
        .iter()
        .filter(|n| n.info.ed25519 != dest.info.ed25519)
        .take(3)
        .map(|n| keys(n))
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let mut forwarded: Vec<Vec<u8>> = Vec::new();
    let store = requests::store(&pk, Namespace::DEFAULT, &STANDARD.encode(&marker), now_ms(), 3_600_000, None);
    let retrieve = requests::retrieve(&bob, Namespace::DEFAULT, now_ms(), None);
    for request in [store, retrieve] {
        let body = request.to_string();
        let req = onion::build(&mut rng, &path, &Destination::Node(keys(&dest)), body.as_bytes(), EncType::XChaCha20)
            .unwrap();
        forwarded.push(req.body.clone());
        let url = format!("{}/v1/onion/{}", relay.url, hex::encode(req.guard));
        let r = http.post(url).header("origin", relay.url.as_str()).header("content-type", "application/octet-stream");
        let r = r.body(req.body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["access-control-allow-origin"], relay.url.as_str());
        let reply = onion::unwrap_node_reply(&req.reply_key, &r.bytes().await.unwrap()).unwrap();
        assert_eq!(reply.status, 200);
        if request["method"] == "retrieve" {
            let body: Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(body["messages"][0]["data"], STANDARD.encode(&marker));
        }
    }
    // Bodies with the marker and the Session ID in plain text: the guard refuses them, the relay
    // passes the refusal back; neither body is logged.
    for plain in [format!("{marker} {pk}"), format!("\x10\0\0\0{marker}{{\"pubkey\":\"{pk}\"}}")] {
        forwarded.push(plain.clone().into_bytes());
        let url = format!("{}/v1/onion/{}", relay.url, hex::encode(path[0].ed25519));
        let r = http.post(url).header("content-type", "application/octet-stream").body(plain).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }

    // It logs its counts at every refresh (here every second), and once more when it stops.
    relay.wait_for("forwarded=4");
    let (status, log) = relay.interrupt();
    assert!(status.success(), "{status}\n{log}");
    assert_eq!(last_count(&log, "forwarded"), Some(4), "{log}");
    assert_eq!(last_count(&log, "listed"), Some(1), "{log}");
    assert_eq!(last_count(&log, "nodes"), Some(8), "{log}");
    assert!(last_count(&log, "bytes_up").is_some_and(|n| n > 0));
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "the most verbose level was on:\n{log}");

    // Nothing of any body: not the marker or the Session ID in any form, nor 12 consecutive bytes
    // of anything it forwarded (as text, hex or base64).
    let lower = log.to_lowercase();
    for secret in
        [marker.clone(), pk.to_string(), hex::encode(pk.key()), hex::encode(&marker), STANDARD.encode(&marker)]
    {
        assert!(!lower.contains(&secret.to_lowercase()), "{secret} is in the log");
    }
    for body in &forwarded {
        for window in body.windows(12) {
            assert!(!lower.contains(&hex::encode(window)), "12 bytes of a body (hex) are in the log");
            if let Ok(text) = std::str::from_utf8(window) {
                assert!(!log.contains(text), "12 bytes of a body ({text:?}) are in the log");
            }
        }
        for start in 0..3 {
            let encoded = STANDARD.encode(&body[start.min(body.len())..]);
            for chunk in encoded.as_bytes().chunks(16).filter(|c| c.len() == 16).skip(1) {
                assert!(!log.contains(std::str::from_utf8(chunk).unwrap()), "a body (base64) is in the log");
            }
        }
    }
    devnet.shutdown();
}

/// Both pin forms are accepted (the certificate's SHA-256 in hex with colons, too); a seed whose
/// certificate matches no pin is refused (the relay stays up, answers 503 and logs why); a
/// malformed pin is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_relay_trusts_only_a_pinned_seed() {
    let dir = test_dir("pins");
    let (mut devnet, seed, public_key_pin, certificate_pin) = devnet_with_https_seed(dir.path()).await;
    let colons: Vec<String> = hex::decode(&certificate_pin).unwrap().iter().map(|b| format!("{b:02X}")).collect();
    let relay = RelayProcess::start_local(&["--seed", &seed, "--seed-pin", &colons.join(":")], "info").unwrap();
    let nodes: Value = reqwest::get(format!("{}/v1/nodes", relay.url)).await.unwrap().json().await.unwrap();
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 8);
    drop(relay);

    let mut other = [0u8; 32];
    ChaCha20Rng::seed_from_u64(7).fill_bytes(&mut other);
    let wrong = STANDARD.encode(other);
    assert_ne!(wrong, public_key_pin);
    let refused = RelayProcess::start_local(&["--seed", &seed, "--seed-pin", &wrong], "info").unwrap();
    refused.wait_for("certificate is not pinned");
    assert_eq!(reqwest::get(format!("{}/v1/nodes", refused.url)).await.unwrap().status().as_u16(), 503);
    drop(refused);
    // No pin: the self-signed certificate is not trusted at all.
    let untrusted = RelayProcess::start_local(&["--seed", &seed], "info").unwrap();
    untrusted.wait_for("no node list yet");
    assert_eq!(reqwest::get(format!("{}/v1/nodes", untrusted.url)).await.unwrap().status().as_u16(), 503);
    drop(untrusted);
    let out = RelayProcess::start_local(&["--seed", &seed, "--seed-pin", "abcd"], "info").map(|_| ()).unwrap_err();
    assert!(out.contains("is not a pin"), "{out}");
    let out = RelayProcess::start_local(
        &["--seed", &seed, "--seed-pin", &public_key_pin, "--allow-origin", "https://x.example/"],
        "info",
    )
    .map(|_| ())
    .unwrap_err();
    assert!(out.contains("is not an origin"), "{out}");
    devnet.shutdown();
}

/// `--help` says how to give each pin form and when `--allow-origin` is needed.
#[test]
fn the_relays_help_explains_pins_and_origins() {
    let out = Command::new(env!("CARGO_BIN_EXE_hush-node")).args(["relay", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for phrase in ["--seed-pin <PIN>", "SPKI", "base64", "hex", "--allow-origin <ORIGIN>", "reverse proxy", "--refresh"]
    {
        assert!(help.contains(phrase), "{phrase:?} missing from:\n{help}");
    }
}

/// Invariant: everything binds loopback unless told otherwise. Every address option of both
/// commands defaults to 127.0.0.1, and nothing in the node's sources binds the unspecified address.
#[test]
fn everything_binds_loopback_unless_told_otherwise() {
    for command in ["devnet", "relay"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hush-node")).args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let defaults: Vec<&str> = help
            .split("[default: ")
            .skip(1)
            .filter_map(|rest| rest.split(']').next())
            .filter(|value| value.contains('.') && value.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        assert!(!defaults.is_empty(), "no address default in `{command} --help`:\n{help}");
        for value in defaults {
            assert!(value.starts_with("127.0.0.1"), "`{command}` defaults to {value}, not loopback");
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let code = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for unspecified in ["Ipv4Addr::UNSPECIFIED", "Ipv6Addr::UNSPECIFIED", "\"0.0.0.0:", "\"[::]:"] {
            assert!(!code.contains(unspecified), "{} binds {unspecified}", entry.path().display());
        }
    }
}
