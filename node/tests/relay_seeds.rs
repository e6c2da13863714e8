//! Where the relay gets its node list: the real Session networks by name, pinned as Session's own
//! clients pin them, and a relay that stays up while its seed is unreachable or refused.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum_server::tls_rustls::RustlsConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_node::network::Network;
use hush_node::networks::{MAINNET_SEEDS, SessionNetwork, TESTNET_SEEDS};
use hush_node::relay::{Relay, RelayConfig, Seed};
use hush_node::tls::Pin;
use serde_json::Value;
use tempfile::TempDir;

#[path = "support/relay.rs"]
mod support;
use support::{RelayProcess, network, serve_relay};

/// One test's data folder: unique (tests run in parallel threads), removed when the test ends.
fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-seeds-test-{name}-")).tempdir().expect("a temporary folder")
}

/// Serves a seed for `network` on `listener`: over HTTPS with a self-signed certificate made in
/// `dir` (returning its certificate pin), or over plain HTTP.
async fn serve_seed(listener: std::net::TcpListener, network: Arc<Network>, tls_dir: Option<&Path>) -> Option<Pin> {
    listener.set_nonblocking(true).unwrap();
    let app = hush_node::seed::router(network).into_make_service();
    match tls_dir {
        Some(dir) => {
            let (cert, key) = hush_node::tls::load_or_create_cert(dir, "127.0.0.1").unwrap();
            let pin = Pin::Certificate(hush_node::tls::pem_fingerprint(&cert).unwrap());
            let tls = RustlsConfig::from_pem(cert, key).await.unwrap();
            let server = axum_server::from_tcp_rustls(listener, tls).unwrap();
            tokio::spawn(async move { server.serve(app).await });
            Some(pin)
        }
        None => {
            let server = axum_server::from_tcp(listener).unwrap();
            tokio::spawn(async move { server.serve(app).await });
            None
        }
    }
}

fn config(seeds: Vec<Seed>) -> RelayConfig {
    RelayConfig {
        seeds,
        allowed_origins: Vec::new(),
        rate_per_minute: 1000,
        refresh: Duration::from_secs(600),
        static_dir: None,
        // The seeds here list nodes on loopback.
        outbound: hush_node::outbound::Outbound::local_test_network(),
        inbound: Default::default(),
    }
}

/// The certificates Session Desktop ships for its mainnet seeds (public certificates, facts from
/// `session-foundation/session-desktop`, `ts/session/apis/seed_node_api/SeedNodeAPI.ts`, commit
/// `1380d1eb1169c11985e354b4623505e6a7f433e7`), to check the pins in `networks` against.
const DESKTOP_SEED_CERTIFICATES: [&str; 3] = [
    "\
-----BEGIN CERTIFICATE-----
MIIEDTCCAvWgAwIBAgIUWk96HLAovn4uFSI057KhnMxqosowDQYJKoZIhvcNAQEL
BQAwejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3RvcmlhMRIwEAYDVQQHDAlN
ZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNoIEZvdW5kYXRpb24x
HTAbBgNVBAMMFHNlZWQxLmdldHNlc3Npb24ub3JnMB4XDTIzMDQwNTAxMjQzNVoX
DTMzMDQwNTAxMjQzNVowejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3Rvcmlh
MRIwEAYDVQQHDAlNZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNo
IEZvdW5kYXRpb24xHTAbBgNVBAMMFHNlZWQxLmdldHNlc3Npb24ub3JnMIIBIjAN
BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2wlGkR2aDOHoizik4mqvWEwDPOQG
o/Afd/6VqKzo4BpNerVZQNgdMgdLTedZE4FRfetubonYu6iSYALK2iKoGsIlru1u
Q9dUl0abA9v+yg6duh1aHw8oS16JPL0zdq8QevJaTxd0MeDnx4eXfFjtv8L0xO4r
CRFH+H6ATcJy+zhVBcWLjiNPe6mGSHM4trx3hwJY6OuuWX5FkO0tMqj9aKJtJ+l0
NArra0BZ9MaMwAFE7AxWwyD0jWIcSvwK06eap+6jBcZIr+cr7fPO5mAlT+CoGB68
yUFwh1wglcVdNPoa1mbFQssCsCRa3MWgpzbMq+KregVzjVEtilwLFjx7FQIDAQAB
o4GKMIGHMB0GA1UdDgQWBBQ1XAjGKhyIU22mYdUEIlzlktogNzAfBgNVHSMEGDAW
gBQ1XAjGKhyIU22mYdUEIlzlktogNzAPBgNVHRMBAf8EBTADAQH/MB8GA1UdEQQY
MBaCFHNlZWQxLmdldHNlc3Npb24ub3JnMBMGA1UdJQQMMAoGCCsGAQUFBwMBMA0G
CSqGSIb3DQEBCwUAA4IBAQC4PRiu4LyxK71Gk+f3dDvjinuE9F0XtAamKfRlLMEo
KxK8dtLrT8p62rME7QiigSv15AmSNyqAp751N/j0th1prOnxBoG38BXKLBDDClri
u91MR4h034G6LIYCiM99ldc8Q5a5WCKu9/9z6CtVxZcNlfe477d6lKHSwb3mQ581
1Ui3RnpkkU1n4XULI+TW2n/Hb8gN6IyTHFB9y2jb4kdg7N7PZIN8FS3n3XGiup9r
b/Rujkuy7rFW78Q1BuHWrQPbJ3RU2CKh1j5o6mtcJFRqP1PfqWmbuaomam48s5hU
4JEiR9tyxP+ewl/bToFcet+5Lp9wRLxn0afm/3V00WyP\n\
-----END CERTIFICATE-----\n",
    "\
-----BEGIN CERTIFICATE-----
MIIEDTCCAvWgAwIBAgIUXkVaUNO/G727mNeaiso9MjvBEm4wDQYJKoZIhvcNAQEL
BQAwejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3RvcmlhMRIwEAYDVQQHDAlN
ZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNoIEZvdW5kYXRpb24x
HTAbBgNVBAMMFHNlZWQyLmdldHNlc3Npb24ub3JnMB4XDTIzMDQwNTAxMjI0MloX
DTMzMDQwNTAxMjI0MlowejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3Rvcmlh
MRIwEAYDVQQHDAlNZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNo
IEZvdW5kYXRpb24xHTAbBgNVBAMMFHNlZWQyLmdldHNlc3Npb24ub3JnMIIBIjAN
BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvT493tt1EWdyIa++X59ffrQt+ghK
+3Hv/guCPmR0FxPUeVnayoLbeKgbe8dduThh7nlmlYnpwbulvDnMF/rRpX51AZiT
A8UGktBzGXi17/D/X71EXGqlM41QZfVm5MCdQcghvbwO8MP0nWmbV4DdiNYAwSNh
fpGMEiblCvKtGN71clTkOW+8Moq4eOxT9tKIlOv97uvkUS21NgmSzsj453hrb6oj
XR3rtW264zn99+Gv83rDE1jk0qfDjxCkaUb0BvRDREc+1q3p8GZ6euEFBM3AcXe7
Yl0qbJgIXd5I+W5nMJJCyJHPTxQNvS+uJqL4kLvdwQRFAkwEM+t9GCH1PQIDAQAB
o4GKMIGHMB0GA1UdDgQWBBQOdqxllTHj+fmGjmdgIXBl+k0PRDAfBgNVHSMEGDAW
gBQOdqxllTHj+fmGjmdgIXBl+k0PRDAPBgNVHRMBAf8EBTADAQH/MB8GA1UdEQQY
MBaCFHNlZWQyLmdldHNlc3Npb24ub3JnMBMGA1UdJQQMMAoGCCsGAQUFBwMBMA0G
CSqGSIb3DQEBCwUAA4IBAQBkmmX+mopdnhzQC5b5rgbU7wVhlDaG7eJCRgUvqkYm
Pbv6XFfvtshykhw2BjSyQetofJaBh5KOR7g0MGRSn3AqRPBeEpXfkBI9urhqFwBF
F5atmp1rTCeHuAS6w4mL6rmj7wHl2CRSom7czRdUCNM+Tu1iK6xOrtOLwQ1H1ps1
KK3siJb3W0eKykHnheQPn77RulVBNLz1yedEUTVkkuVhzSUj5yc8tiwrcagwWX6m
BlfVCJgsBbrJ754rg0AJ0k59wriRamimcUIBvKIo3g3UhJHDI8bt4+SvsRYkSmbi
rzVthAlJjSlRA28X/OLnknWcgEdkGhu0F1tkBtVjIQXd\n\
-----END CERTIFICATE-----\n",
    "\
-----BEGIN CERTIFICATE-----
MIIEDTCCAvWgAwIBAgIUTz5rHKUe+VA9IM6vY6QACc0ORFkwDQYJKoZIhvcNAQEL
BQAwejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3RvcmlhMRIwEAYDVQQHDAlN
ZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNoIEZvdW5kYXRpb24x
HTAbBgNVBAMMFHNlZWQzLmdldHNlc3Npb24ub3JnMB4XDTIzMDQwNTAxMjYzMVoX
DTMzMDQwNTAxMjYzMVowejELMAkGA1UEBhMCQVUxETAPBgNVBAgMCFZpY3Rvcmlh
MRIwEAYDVQQHDAlNZWxib3VybmUxJTAjBgNVBAoMHE94ZW4gUHJpdmFjeSBUZWNo
IEZvdW5kYXRpb24xHTAbBgNVBAMMFHNlZWQzLmdldHNlc3Npb24ub3JnMIIBIjAN
BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6FgxIk9KmYISL5fk7BLaGAW6lBx8
b4VL3DjlyrFMz7ZhSbcUcavWyyYB+iJxBRhfQGJ7vbwJZ1AwVJisjDFdiLcWzTF8
gzZ7LVXH8qlVnqcx0gksrWYFnG3Y2WJrxEBFdD29lP7LVN3xLQdplMitOciqg5jN
oRjtwGo+wzaMW6WNPzgTvxLzPce9Rl3oN4tSK7qlA9VtsyHwOWBMcogv9LC9IUFZ
2yu0RdcxPdlwLwywYtSRt/W87KbAWTcYY1DfN2VA68p9Cip7/dPOokRduMh1peux
swmIybpC/wz/Ql6J6scSOjDUp/2UsIdYIvyP/Dibi4nHRmD+oz9kb+J3AQIDAQAB
o4GKMIGHMB0GA1UdDgQWBBSQAFetDPIzVg9rfgOI7bfaeEHd8TAfBgNVHSMEGDAW
gBSQAFetDPIzVg9rfgOI7bfaeEHd8TAPBgNVHRMBAf8EBTADAQH/MB8GA1UdEQQY
MBaCFHNlZWQzLmdldHNlc3Npb24ub3JnMBMGA1UdJQQMMAoGCCsGAQUFBwMBMA0G
CSqGSIb3DQEBCwUAA4IBAQCiBNdbKNSHyCZJKvC/V+pHy9E/igwvih2GQ5bNZJFA
daOiKBgaADxaxB4lhtzasr2LdgZdLrn0oONw+wYaui9Z12Yfdr9oWuOgktn8HKLY
oKkJc5EcMYFsd00FnnFcO2U8lQoL6PB/tdcEmpOfqtvShpNhp8SbadSNiqlttvtV
1dqvqSBiRdQm1kz2b8hA6GR6SPzSKlSuwI0J+ZcXEi232EJFbgJ3ESHFVHrhUZro
8A16/WDvZOMWCjOqJsFBw15WzosW9kyNwBtZinXVO3LW/7tVl08PDcarpH4IWjd0
LDpU7zGjcD/A19tfdfMFTOmETuq40I8xxtlR2NENFOAL\n\
-----END CERTIFICATE-----\n",
];

/// The DER bytes of a PEM certificate.
fn der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.trim().chars()).collect();
    STANDARD.decode(b64).unwrap()
}

/// Each real network resolves to its seeds by name; the mainnet constants parse as pins (both
/// forms) and are the pins of the certificates Session Desktop ships; the relay pins each mainnet
/// seed by its whole certificate, and the plain-HTTP testnet seed by nothing.
#[test]
fn the_real_networks_resolve_to_their_seeds_and_pins() {
    assert_eq!("mainnet".parse::<SessionNetwork>(), Ok(SessionNetwork::Mainnet));
    assert_eq!("testnet".parse::<SessionNetwork>(), Ok(SessionNetwork::Testnet));
    let unknown = "devnet".parse::<SessionNetwork>().unwrap_err();
    assert!(unknown.to_string().contains("mainnet and testnet"), "{unknown}");

    let mainnet = SessionNetwork::Mainnet.relay_seeds().unwrap();
    assert_eq!(mainnet.len(), 3);
    for ((seed, relay_seed), pem) in MAINNET_SEEDS.iter().zip(&mainnet).zip(DESKTOP_SEED_CERTIFICATES) {
        assert!(seed.url.starts_with("https://") && seed.url.ends_with(":4443/"), "{}", seed.url);
        assert_eq!(relay_seed.url, format!("{}json_rpc", seed.url));
        let certificate: Pin = seed.certificate_pin.unwrap().parse().unwrap();
        let public_key: Pin = seed.public_key_pin.unwrap().parse().unwrap();
        assert!(matches!(certificate, Pin::Certificate(_)));
        assert!(matches!(public_key, Pin::PublicKey(_)));
        assert_eq!(relay_seed.pins, vec![certificate]);
        let der = der(pem);
        assert!(certificate.matches(&der), "{}: the certificate pin is not Desktop's certificate", seed.url);
        assert!(public_key.matches(&der), "{}: the public-key pin is not Desktop's certificate's key", seed.url);
        let host = seed.url.trim_start_matches("https://").split(':').next().unwrap();
        assert!(der.windows(host.len()).any(|w| w == host.as_bytes()), "{host} is not in its certificate");
    }
    // No seed's pins match another seed's certificate.
    for (i, seed) in mainnet.iter().enumerate() {
        for (j, pem) in DESKTOP_SEED_CERTIFICATES.iter().enumerate() {
            assert_eq!(seed.pins.iter().any(|p| p.matches(&der(pem))), i == j);
        }
    }

    let testnet = SessionNetwork::Testnet.relay_seeds().unwrap();
    assert_eq!(testnet.len(), TESTNET_SEEDS.len());
    assert!(testnet.iter().all(|s| s.url.starts_with("http://") && s.url.ends_with("/json_rpc") && s.pins.is_empty()));
}

/// A relay given a seed whose certificate does not match its pin refuses it: no list is taken
/// from it, and the relay answers 503 while it keeps asking. Here the seed is a local HTTPS seed
/// with a self-signed certificate, pinned as mainnet's first seed is; with its own certificate's
/// pin, the same relay reads the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_whose_certificate_does_not_match_its_pin_is_refused() {
    let dir = test_dir("pin");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/json_rpc", listener.local_addr().unwrap());
    let own_pin = serve_seed(listener, network(), Some(dir.path())).await.unwrap();

    let mainnet_pins = SessionNetwork::Mainnet.relay_seeds().unwrap().swap_remove(0).pins;
    let relay = Relay::new(config(vec![Seed { url: url.clone(), pins: mainnet_pins }])).unwrap();
    let error = format!("{:#}", relay.refresh().await.unwrap_err());
    assert!(error.contains("certificate is not pinned"), "{error}");
    assert_eq!(relay.node_count(), 0);
    relay.spawn_refresher();
    let relay_url = serve_relay(relay.clone()).await;
    let response = reqwest::get(format!("{relay_url}/v1/nodes")).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let guard = hex::encode(network().nodes()[0].info.ed25519);
    let forwarded = reqwest::Client::new()
        .post(format!("{relay_url}/v1/onion/{guard}"))
        .header("content-type", "application/octet-stream");
    let forwarded = forwarded.body("x").send().await.unwrap();
    assert_eq!(forwarded.status().as_u16(), 503);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(relay.node_count(), 0, "still refused after a retry");

    let relay = Relay::new(config(vec![Seed { url, pins: vec![own_pin] }])).unwrap();
    assert_eq!(relay.refresh().await.unwrap(), 4);
}

async fn nodes_status(relay: &RelayProcess) -> (u16, Value) {
    let response = reqwest::get(format!("{}/v1/nodes", relay.url)).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The standalone relay started before its seed is up does not exit: it serves at once, answers
/// 503 and logs why while it keeps asking, and serves the list once the seed comes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_started_before_its_seed_serves_once_the_seed_comes_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let seed = format!("http://127.0.0.1:{port}/json_rpc");
    let mut relay = RelayProcess::start_local(&["--seed", &seed], "info").unwrap();
    let (status, body) = nodes_status(&relay).await;
    assert_eq!(status, 503, "{body}");
    let log = relay.wait_for("no node list yet");
    assert!(log.contains(&seed), "the log names the seed:\n{log}");
    assert!(relay.running());

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    serve_seed(listener, network(), None).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = nodes_status(&relay).await;
        if status == 200 {
            assert_eq!(body["nodes"].as_array().unwrap().len(), 4);
            break;
        }
        assert!(Instant::now() < deadline, "still {status} once the seed is up:\n{}", relay.output());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    relay.wait_for("node list read from the seed");
    assert!(relay.running());
}

/// The standalone relay whose seed's certificate matches no pin stays up, takes no list from it
/// (503) and logs that the certificate is not pinned; so does one without a pin for a
/// self-signed seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_whose_seed_does_not_match_its_pin_stays_up_without_a_list() {
    let dir = test_dir("process-pin");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let seed = format!("https://{}/json_rpc", listener.local_addr().unwrap());
    serve_seed(listener, network(), Some(dir.path())).await;
    let wrong = MAINNET_SEEDS[0].public_key_pin.unwrap();
    for args in [vec!["--seed", &seed, "--seed-pin", wrong], vec!["--seed", &seed]] {
        let mut relay = RelayProcess::start_local(&args, "info").unwrap();
        relay.wait_for("no node list yet");
        assert_eq!(nodes_status(&relay).await.0, 503);
        assert!(relay.running());
        if args.len() > 2 {
            relay.wait_for("certificate is not pinned");
        }
    }
}

/// `--network` names a real network and conflicts with `--seed` and `--seed-pin`; an unknown name
/// is refused with the names there are. (Nothing here reaches the real network.)
#[test]
fn the_relay_takes_a_network_by_name_or_a_seed() {
    let relay = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hush-node")).arg("relay").args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, err) = relay(&["--network", "mainnet", "--seed", "http://127.0.0.1:1/json_rpc"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, err) = relay(&["--network", "testnet", "--seed-pin", MAINNET_SEEDS[0].public_key_pin.unwrap()]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, err) = relay(&["--network", "moon"]);
    assert!(!ok && err.contains("mainnet and testnet"), "{err}");
    let (ok, err) = relay(&[]);
    assert!(!ok && err.contains("--network") && err.contains("--seed"), "{err}");
    let help = Command::new(env!("CARGO_BIN_EXE_hush-node")).args(["relay", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--network <NAME>"));
}
