//! The devnet's file server, on a real devnet: the real Session file server's endpoints, status
//! codes and JSON over plain HTTP, and the same through v4 onion requests that the relay, a guard
//! and two hops carry to it (protocol-files §1–§2).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crypto_core::onion::{self, Destination, EncType, NodeKeys, Protocol, ServerTarget, v4};
use hush_node::devnet::{Devnet, DevnetConfig};
use hush_node::files::{MAX_FILE_SIZE, file_id};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Value, json};
use tempfile::TempDir;

const DAY: f64 = 24.0 * 3600.0;

fn test_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("hush-files-test-{name}-")).tempdir().expect("a temporary folder")
}

async fn devnet(dir: &TempDir) -> Devnet {
    let mut config = DevnetConfig::on_free_ports(dir.path().to_path_buf());
    config.nodes = 3;
    config.files.sweep_every = Duration::from_millis(100);
    Devnet::start(config).await.expect("a devnet")
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// An HTTP answer: status, content type, `Expires`, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    expires: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let mut request = client.request(method.parse().unwrap(), url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, content_type, expires) = (response.status().as_u16(), header("content-type"), header("expires"));
    Answer { status, content_type, expires, body: response.bytes().await.unwrap().to_vec() }
}

/// F4 of protocol-files §6 (also in crypto-core's `onion::server` tests): the id the server
/// answers for `hello` is the Python server's.
#[test]
fn f4_file_ids() {
    assert_eq!(file_id(b"hello"), "tKO2VVg1JPHwgZuvqK_7bDHJeSr4UJ_8i13ETlwAn0jB");
}

fn assert_near(value: &Value, expected: f64, slack: f64) {
    let value = value.as_f64().unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((value - expected).abs() <= slack, "{value} is not within {slack} s of {expected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_answers_as_the_real_file_server() {
    let dir = test_dir("http");
    let mut devnet = devnet(&dir).await;
    let url = devnet.file_server_url.clone();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // Upload: {"id": <string>, "expires": <float>}, written as Python's json.dumps writes it.
    let up = http("POST", &format!("{url}/file"), &[], b"hello".to_vec()).await;
    assert_eq!((up.status, up.content_type.as_deref()), (200, Some("application/json")), "{}", up.text());
    let id = "tKO2VVg1JPHwgZuvqK_7bDHJeSr4UJ_8i13ETlwAn0jB";
    assert!(up.text().starts_with(&format!("{{\"id\": \"{id}\", \"expires\": ")), "{}", up.text());
    let reply = up.json();
    assert_eq!(reply.as_object().unwrap().len(), 2);
    assert_near(&reply["expires"], now() + 14.0 * DAY, 30.0);
    let expires = reply["expires"].as_f64().unwrap();

    // Download: the bytes, application/octet-stream, Expires as an HTTP date (whole seconds).
    let down = http("GET", &format!("{url}/file/{id}"), &[], Vec::new()).await;
    assert_eq!(
        (down.status, down.content_type.as_deref(), down.body.as_slice()),
        (200, Some("application/octet-stream"), &b"hello"[..])
    );
    let header = httpdate::parse_http_date(down.expires.as_deref().unwrap()).unwrap();
    assert_eq!(header.duration_since(UNIX_EPOCH).unwrap().as_secs(), expires.floor() as u64);

    // Info.
    let info = http("GET", &format!("{url}/file/{id}/info"), &[], Vec::new()).await;
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info.as_object().unwrap().keys().collect::<Vec<_>>(), ["expires", "size", "uploaded"]);
    assert_eq!((info["size"].clone(), info["expires"].as_f64()), (json!(5), Some(expires)));
    assert_near(&info["uploaded"], now(), 30.0);

    // The same bytes again with a shorter TTL: one file, the later expiry kept.
    let again = http("POST", &format!("{url}/file"), &[("X-FS-TTL", "60")], b"hello".to_vec()).await.json();
    assert_eq!((again["id"].as_str(), again["expires"].as_f64()), (Some(id), Some(expires)));

    // X-FS-TTL honoured (the devnet allows up to 14 days), with Python's int() leniency.
    let short = http("POST", &format!("{url}/file"), &[("X-FS-TTL", " 60 ")], b"short lived".to_vec()).await.json();
    assert_near(&short["expires"], now() + 60.0, 5.0);
    let short_id = short["id"].as_str().unwrap().to_owned();
    let longest = http("POST", &format!("{url}/file"), &[("X-FS-TTL", "1_209_600")], b"longest".to_vec()).await;
    assert_eq!(longest.status, 200);
    assert_near(&longest.json()["expires"], now() + 14.0 * DAY, 30.0);

    // Extend never shortens; a longer TTL lengthens; no header: the default 14 days.
    let ext = http("POST", &format!("{url}/file/{short_id}/extend"), &[("X-FS-TTL", "10")], Vec::new()).await;
    assert_eq!(ext.status, 200);
    let ext = ext.json();
    assert_eq!(ext["expires"], short["expires"]);
    assert_eq!((ext["size"].clone(), ext.as_object().unwrap().len()), (json!(11), 3));
    let ext = http("POST", &format!("{url}/file/{short_id}/extend"), &[("X-FS-TTL", "3600")], Vec::new()).await.json();
    assert_near(&ext["expires"], now() + 3600.0, 5.0);
    let ext = http("POST", &format!("{url}/file/{short_id}/extend"), &[], Vec::new()).await.json();
    assert_near(&ext["expires"], now() + 14.0 * DAY, 30.0);

    // 413: empty, or one byte over the maximum; the maximum itself is accepted.
    let error = |code: u16| format!("{{\"status_code\": {code}}}");
    for body in [Vec::new(), vec![1u8; MAX_FILE_SIZE + 1]] {
        let a = http("POST", &format!("{url}/file"), &[], body).await;
        assert_eq!((a.status, a.content_type.as_deref(), a.text()), (413, Some("application/json"), error(413)));
    }
    let max = http("POST", &format!("{url}/file"), &[], vec![2u8; MAX_FILE_SIZE]).await;
    assert_eq!(max.status, 200);
    // Too large first, then the TTL.
    let a = http("POST", &format!("{url}/file"), &[("X-FS-TTL", "x")], Vec::new()).await;
    assert_eq!(a.status, 413);

    // 400: a TTL that is not an integer, negative, or over the maximum.
    for ttl in ["abc", "1.5", "", "-1", "1209601", "99999999999999999999999999999"] {
        let a = http("POST", &format!("{url}/file"), &[("X-FS-TTL", ttl)], b"x".to_vec()).await;
        assert_eq!((a.status, a.text()), (400, error(400)), "X-FS-TTL {ttl:?}");
        let a = http("POST", &format!("{url}/file/{id}/extend"), &[("X-FS-TTL", ttl)], Vec::new()).await;
        assert_eq!((a.status, a.text()), (400, error(400)), "extend X-FS-TTL {ttl:?}");
    }
    assert_eq!(devnet.file_server.file_count().unwrap(), 4, "no refused upload is stored");

    // 404: unknown ids; /extend only for 44-character ids (a numeric id is refused).
    let unknown = "A".repeat(44);
    for (method, path) in [
        ("GET", format!("/file/{unknown}")),
        ("GET", format!("/file/{unknown}/info")),
        ("POST", format!("/file/{unknown}/extend")),
        ("GET", "/file/4503599627370495".to_owned()),
        ("POST", "/file/4503599627370495/extend".to_owned()),
        ("POST", format!("/file/{}/extend", &id[..43])),
    ] {
        let a = http(method, &format!("{url}{path}"), &[], Vec::new()).await;
        assert_eq!(
            (a.status, a.content_type.as_deref(), a.text()),
            (404, Some("application/json"), error(404)),
            "{method} {path}"
        );
    }
    // Paths and methods the server does not have: Flask's own pages.
    let a = http("GET", &format!("{url}/nothing"), &[], Vec::new()).await;
    assert_eq!((a.status, a.content_type.as_deref()), (404, Some("text/html; charset=utf-8")));
    assert!(a.text().contains("<title>404 Not Found</title>"));
    let a = http("GET", &format!("{url}/file"), &[], Vec::new()).await;
    assert_eq!(a.status, 405);
    let a = http("POST", &format!("{url}/file/{id}"), &[], Vec::new()).await;
    assert_eq!(a.status, 405);

    // Expiry: a file past its TTL is never served, and the sweep deletes it.
    let gone = http("POST", &format!("{url}/file"), &[("X-FS-TTL", "1")], b"one second".to_vec()).await.json();
    let gone_id = gone["id"].as_str().unwrap().to_owned();
    assert_eq!(http("GET", &format!("{url}/file/{gone_id}"), &[], Vec::new()).await.status, 200);
    let zero = http("POST", &format!("{url}/file"), &[("X-FS-TTL", "0")], b"no time".to_vec()).await.json();
    let zero_id = zero["id"].as_str().unwrap().to_owned();
    assert_eq!(http("GET", &format!("{url}/file/{zero_id}"), &[], Vec::new()).await.status, 404);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for path in [format!("/file/{gone_id}"), format!("/file/{gone_id}/info")] {
        let a = http("GET", &format!("{url}{path}"), &[], Vec::new()).await;
        assert_eq!((a.status, a.text()), (404, error(404)), "{path}");
    }
    let a = http("POST", &format!("{url}/file/{gone_id}/extend"), &[], Vec::new()).await;
    assert_eq!(a.status, 404, "an expired file is not brought back");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while devnet.file_server.file_count().unwrap() != 4 {
        assert!(std::time::Instant::now() < deadline, "the sweep did not delete the expired files");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Uploading it again brings it back with a fresh expiry.
    let back = http("POST", &format!("{url}/file"), &[], b"one second".to_vec()).await.json();
    assert_eq!(back["id"].as_str(), Some(gone_id.as_str()));
    assert_near(&back["expires"], now() + 14.0 * DAY, 30.0);
    devnet.shutdown();
}

/// What the last hop's v4 request to the file server gets back.
struct OnionAnswer {
    /// The HTTP status the relay answered with.
    status: u16,
    /// The decrypted v4 response (for a 200).
    reply: Option<v4::Response>,
    /// The raw body (for anything else).
    raw: Vec<u8>,
}

struct OnionClient {
    relay: String,
    path: Vec<NodeKeys>,
    target: ServerTarget,
    rng: ChaCha20Rng,
    http: reqwest::Client,
}

impl OnionClient {
    async fn send(&mut self, metadata: &Value, body: Option<&[u8]>, enc: EncType) -> OnionAnswer {
        let payload = v4::encode_request(&metadata.to_string(), body);
        self.send_raw(&payload, enc, self.target.x25519).await
    }

    async fn send_raw(&mut self, payload: &[u8], enc: EncType, server_key: [u8; 32]) -> OnionAnswer {
        let target = ServerTarget { x25519: server_key, ..self.target.clone() };
        let req = onion::build(&mut self.rng, &self.path, &Destination::Server(target), payload, enc).unwrap();
        let response = self
            .http
            .post(format!("{}/v1/onion/{}", self.relay, hex::encode(self.path[0].ed25519)))
            .header("content-type", "application/octet-stream")
            .body(req.body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let raw = response.bytes().await.unwrap().to_vec();
        let reply = (status == 200).then(|| onion::unwrap_server_reply(&req.reply_key, &raw).unwrap());
        OnionAnswer { status, reply, raw }
    }
}

fn content_type(reply: &v4::Response) -> Option<&str> {
    reply.metadata.get("headers").and_then(|h| h.get("content-type")).and_then(Value::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_requests_reach_the_file_server_through_three_nodes() {
    let dir = test_dir("onion");
    let mut devnet = devnet(&dir).await;

    // devnet.json names the file server and its keys; the X25519 key is the Ed25519 one converted.
    let info: Value = serde_json::from_slice(&std::fs::read(dir.path().join("devnet.json")).unwrap()).unwrap();
    let fs = &info["file_server"];
    assert_eq!(fs["url"].as_str(), Some(devnet.file_server_url.as_str()));
    assert_eq!(fs["pubkey_ed25519"].as_str().unwrap(), hex::encode(devnet.file_server.ed25519()));
    assert_eq!(fs["pubkey_x25519"].as_str().unwrap(), hex::encode(devnet.file_server.x25519()));
    assert_eq!(
        crypto_core::identity::ed25519_to_x25519_public(&devnet.file_server.ed25519()),
        Some(devnet.file_server.x25519())
    );

    let port: u16 = devnet.file_server_url.rsplit(':').next().unwrap().parse().unwrap();
    let keys = |n: &hush_node::network::Node| NodeKeys { ed25519: n.info.ed25519, x25519: n.info.x25519 };
    let mut client = OnionClient {
        relay: devnet.app_url.clone(),
        path: devnet.network.nodes().iter().take(3).map(|n| keys(n)).collect(),
        target: ServerTarget {
            host: "127.0.0.1".into(),
            target: onion::V4_TARGET.into(),
            port,
            protocol: Protocol::Http,
            x25519: devnet.file_server.x25519(),
        },
        rng: ChaCha20Rng::seed_from_u64(11),
        http: reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap(),
    };

    // A 10,000,000-byte file encrypted the legacy way (10,000,064 bytes) up and down again.
    let mut data = vec![0u8; 10_000_064];
    client.rng.fill_bytes(&mut data);
    let upload =
        json!({"method": "POST", "endpoint": "/file", "headers": {"Content-Type": "application/octet-stream"}});
    let up = client.send(&upload, Some(&data), EncType::XChaCha20).await;
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.raw));
    let up = up.reply.unwrap();
    assert_eq!((up.code, content_type(&up)), (200, Some("application/json")));
    assert!(up.metadata["headers"].get("content-length").is_none());
    let body: Value = serde_json::from_slice(&up.body).unwrap();
    let id = file_id(&data);
    assert_eq!(body["id"].as_str(), Some(id.as_str()));
    assert_near(&body["expires"], now() + 14.0 * DAY, 60.0);

    let get = json!({"method": "GET", "endpoint": format!("/file/{id}"), "headers": {}});
    let down = client.send(&get, None, EncType::AesGcm).await.reply.unwrap();
    assert_eq!((down.code, content_type(&down)), (200, Some("application/octet-stream")));
    assert!(down.metadata["headers"]["expires"].as_str().is_some_and(|d| httpdate::parse_http_date(d).is_ok()));
    assert!(down.body == data, "the downloaded bytes differ");

    // Info, with a query string (ignored) and no headers object at all.
    let info = client
        .send(&json!({"method": "GET", "endpoint": format!("/file/{id}/info?x=1")}), None, EncType::XChaCha20)
        .await;
    let info = info.reply.unwrap();
    let info: Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(info["size"], json!(10_000_064));

    // Errors come back encrypted with their real codes and bodies.
    let missing = json!({"method": "GET", "endpoint": "/file/nope", "headers": {}});
    let reply = client.send(&missing, None, EncType::AesGcm).await.reply.unwrap();
    assert_eq!(
        (reply.code, content_type(&reply), reply.body.as_slice()),
        (404, Some("application/json"), &br#"{"status_code": 404}"#[..])
    );
    let reply = client.send(&upload, None, EncType::XChaCha20).await.reply.unwrap();
    assert_eq!((reply.code, reply.body.as_slice()), (413, &br#"{"status_code": 413}"#[..]));
    let bad_ttl = json!({"method": "POST", "endpoint": "/file", "headers": {"x-fs-ttl": "soon"}});
    let reply = client.send(&bad_ttl, Some(b"x"), EncType::XChaCha20).await.reply.unwrap();
    assert_eq!((reply.code, reply.body.as_slice()), (400, &br#"{"status_code": 400}"#[..]));
    let ttl = json!({"method": "POST", "endpoint": "/file", "headers": {"X-FS-TTL": "60"}});
    let reply = client.send(&ttl, Some(b"sixty"), EncType::AesGcm).await.reply.unwrap();
    assert_near(&serde_json::from_slice::<Value>(&reply.body).unwrap()["expires"], now() + 60.0, 5.0);

    // A v4 request that does not parse: encrypted code 400, text/plain, `Invalid v4 onion request`.
    for payload in [
        &b"not bencode"[..],
        b"l5:helloe",
        b"l14:{\"method\":\"GET\"}e",
        b"l41:{\"method\":\"GET\",\"endpoint\":\"/file/x\",\"headers\":[]}e",
    ] {
        let answer = client.send_raw(payload, EncType::XChaCha20, client.target.x25519).await;
        assert_eq!(answer.status, 200, "{payload:?}");
        let reply = answer.reply.unwrap();
        assert_eq!(
            (reply.code, content_type(&reply), reply.body.as_slice()),
            (400, Some("text/plain; charset=utf-8"), &b"Invalid v4 onion request"[..]),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }

    // The deprecated v3 form: a JSON request; the body when the status is 200, else
    // `{"status_code": N}`; sealed and base64-encoded.
    for (endpoint, expected) in
        [(format!("/file/{}/info", file_id(b"sixty")), None), ("file/nope".to_owned(), Some(r#"{"status_code": 404}"#))]
    {
        let request = json!({"method": "GET", "endpoint": endpoint, "headers": {}}).to_string();
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
        use base64::Engine;
        let sealed = base64::engine::general_purpose::STANDARD.decode(response.bytes().await.unwrap()).unwrap();
        let body = req.reply_key.decrypt(&sealed).unwrap();
        match expected {
            Some(text) => assert_eq!(String::from_utf8_lossy(&body), text),
            None => assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["size"], json!(5)),
        }
    }

    // Encrypted to another key: the server cannot open it and answers a plain 400, which comes
    // back unencrypted.
    let payload = v4::encode_request(&get.to_string(), None);
    let answer = client.send_raw(&payload, EncType::XChaCha20, [9u8; 32]).await;
    assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(&answer.raw));
    assert!(String::from_utf8_lossy(&answer.raw).contains("400 Bad Request"));
    devnet.shutdown();
}

/// The hosts a node relays a v4 layer to without `--allow-proxy`: this machine's.
#[test]
fn loopback_hosts_are_relayed_to_without_an_allow_list() {
    use hush_node::server::is_loopback_host;
    for host in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LocalHost"] {
        assert!(is_loopback_host(host), "{host}");
    }
    for host in ["10.0.0.1", "192.168.1.1", "8.8.8.8", "::", "0.0.0.0", "example.com", "localhost.example", "127.1", ""]
    {
        assert!(!is_loopback_host(host), "{host}");
    }
}
