//! What the relay accepts from the public, over real loopback sockets: slow clients are cut off,
//! many sockets from one client do not starve another, bodies are capped early and bounded in
//! memory, the rate limit is keyed on the real client behind a trusted proxy, and only
//! `application/octet-stream` onion requests from allowed origins get through.
//!
//! Clients of different addresses come from different loopback addresses (Linux routes all of
//! 127.0.0.0/8 to loopback): 127.0.0.2 and up are other clients than 127.0.0.1.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hush_node::listener::{Handle, Limits, parse_trusted_proxy};
use hush_node::outbound::Outbound;
use hush_node::relay::{Inbound, Relay, RelayConfig, Seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[path = "support/relay.rs"]
mod support;
use support::network;

/// A guard the relay's node list has (nothing listens at its port).
fn listed_guard() -> String {
    hex::encode(network().nodes()[0].info.ed25519)
}

/// A guard that is not in the list: refused with 404, after the rate limit has counted it.
fn unknown_guard() -> String {
    "00".repeat(32)
}

/// A relay served by the hardened listener, with a node list from a local seed.
struct Running {
    url: String,
    addr: SocketAddr,
    relay: Arc<Relay>,
    handle: Handle,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Starts a seed and a relay with `limits` and `inbound`'s other settings, `rate` onion requests
/// per client per minute and `allowed_origins`.
async fn start(limits: Limits, inbound: Inbound, rate: u32, allowed_origins: &[&str]) -> Running {
    start_with(limits, inbound, rate, allowed_origins, None).await
}

/// [`start`], with the relay's sockets given a send buffer of `send_buffer` bytes (connections
/// take the listening socket's).
async fn start_with(
    limits: Limits,
    inbound: Inbound,
    rate: u32,
    allowed_origins: &[&str],
    send_buffer: Option<u32>,
) -> Running {
    let seed_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    seed_listener.set_nonblocking(true).unwrap();
    let seed_url = format!("http://{}/json_rpc", seed_listener.local_addr().unwrap());
    let seed = axum_server::from_tcp(seed_listener).unwrap();
    let app = hush_node::seed::router(network()).into_make_service();
    tokio::spawn(async move { seed.serve(app).await });

    let inbound = Inbound { connections: limits.clone(), ..inbound };
    let relay = Relay::new(RelayConfig {
        seeds: vec![Seed { url: seed_url, pins: Vec::new() }],
        allowed_origins: allowed_origins.iter().map(|o| (*o).to_owned()).collect(),
        rate_per_minute: rate,
        refresh: Duration::from_secs(600),
        static_dir: None,
        outbound: Outbound::local_test_network(),
        inbound,
    })
    .unwrap();
    assert_eq!(relay.refresh().await.unwrap(), 4);
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let app = hush_node::relay::router(relay.clone(), Some(url.clone()));
    let handle = Handle::new();
    tokio::spawn(hush_node::listener::serve(listener, app, limits, handle.clone()));
    Running { url, addr, relay, handle }
}

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().unwrap())?;
    socket.connect(to).await
}

/// An HTTP client whose connections come from the loopback address `from`.
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Reads until the peer closes the connection (end of stream or reset), for at most `limit`;
/// returns what came and how long until it closed (`None`: still open at `limit`).
async fn read_until_closed(stream: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (received, None),
            Ok(Ok(0) | Err(_)) => return (received, Some(started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status code of the first response in `bytes`.
fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(bytes);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// A POST head for the onion route, octet-stream, with `extra` header lines.
fn onion_head(guard: &str, extra: &str) -> String {
    format!("POST /v1/onion/{guard} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/octet-stream\r\n{extra}\r\n")
}

/// Short timeouts, so that slow clients are cut off within the test's time.
fn quick_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(3),
        body_timeout: Duration::from_millis(1500),
        write_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// A client that sends its request head one line every 300 ms is cut off about a header timeout
/// (1 s here) after its first byte; one that sends its body a byte every 300 ms gets 408 at the
/// body timeout (1.5 s) and is cut off; a connection may wait idle longer than the header timeout,
/// but not past the idle timeout (3 s), before its first request and between requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_slow_bodies_and_idle_connections_are_cut_off() {
    let relay = start(quick_limits(), Inbound::default(), 100_000, &[]).await;

    // A head, one line at a time.
    let stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let trickle = tokio::spawn(async move {
        write.write_all(b"GET /v1/nodes HTTP/1.1\r\n").await?;
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            write.write_all(format!("X-Line-{i}: still coming\r\n").as_bytes()).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let (_, closed) = read_until_closed(&mut read, Duration::from_secs(8)).await;
    let closed = closed.expect("a client trickling its head was never cut off");
    assert!(closed >= Duration::from_millis(800) && closed < Duration::from_millis(2500), "cut off after {closed:?}");
    trickle.abort();

    // A body, one byte at a time.
    let stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = onion_head(&listed_guard(), "Content-Length: 100\r\n");
    let trickle = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            write.write_all(b"x").await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let (response, closed) = read_until_closed(&mut read, Duration::from_secs(8)).await;
    let closed = closed.expect("a client trickling its body was never cut off");
    assert_eq!(status_of(&response), Some(408), "{}", String::from_utf8_lossy(&response));
    assert!(closed >= Duration::from_millis(1300) && closed < Duration::from_millis(3500), "cut off after {closed:?}");
    trickle.abort();

    // Idle past the header timeout, then a request: served; then idle until the idle timeout.
    let mut stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1800)).await;
    stream.write_all(b"GET /v1/nodes HTTP/1.1\r\nHost: relay\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(status_of(&buf[..n]), Some(200), "an idle connection within the idle timeout is served");
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    let closed = closed.expect("an idle kept-alive connection was never closed");
    assert!(closed >= Duration::from_millis(2500) && closed < Duration::from_millis(4500), "closed after {closed:?}");
    let mut silent = connect_from("127.0.0.1", relay.addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(8)).await;
    let closed = closed.expect("a connection that never sent a byte was never closed");
    assert!(closed >= Duration::from_millis(2500) && closed < Duration::from_millis(4500), "closed after {closed:?}");
}

/// A response the client does not read is abandoned after the write timeout (2 s here): the
/// connection is closed although the client keeps it open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_let_go() {
    // Small socket buffers on both sides, so that a few responses fill them.
    let inbound = Inbound { nodes_per_minute: 1_000_000, ..Inbound::default() };
    let relay = start_with(quick_limits(), inbound, 100_000, &[], Some(4096)).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let stream = socket.connect(relay.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    // Pipelined requests for the node list, not read.
    let request = b"GET /v1/nodes HTTP/1.1\r\nHost: relay\r\n\r\n".repeat(1000);
    tokio::spawn(async move { write.write_all(&request).await.map(|()| write) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.handle.open_connections(), 1, "the relay is writing");
    // It gives up 2 s after its writes stop making progress: reading then finds what was sent
    // before, then the end (a relay still writing would send the rest and keep the connection).
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.handle.open_connections() > 0 {
        assert!(Instant::now() < deadline, "the connection of a client that reads nothing stayed open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, closed) = read_until_closed(&mut read, Duration::from_secs(1)).await;
    assert!(closed.is_some(), "the connection of a client that reads nothing stayed open");
}

/// 1,000 idle sockets from one client: 64 are kept (the per-client limit), the rest are closed
/// at once, and a request from another client is served at once. The total (200 here) holds as
/// well: when it is reached, one more connection from anyone is closed at once; when sockets
/// close, new ones are accepted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_idle_sockets_from_one_client_do_not_starve_another() {
    let limits = Limits { per_client: 64, total: 200, ..Limits::default() };
    let relay = start(limits, Inbound::default(), 100_000, &[]).await;
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(connect_from("127.0.0.1", relay.addr).await.unwrap());
    }
    let started = Instant::now();
    let response = client_from("127.0.0.2").get(format!("{}/v1/nodes", relay.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "another client waited {:?}", started.elapsed());
    // The sockets over the limit were closed by the relay without a word.
    let (bytes, closed) = read_until_closed(idle.last_mut().unwrap(), Duration::from_secs(3)).await;
    assert!(bytes.is_empty() && closed.is_some(), "a socket over the per-client limit stayed open");
    let deadline = Instant::now() + Duration::from_secs(5);
    while relay.handle.refused_connections() < 936 {
        assert!(Instant::now() < deadline, "refused only {}", relay.handle.refused_connections());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(relay.handle.open_connections() <= 65, "{} open", relay.handle.open_connections());

    // The total: two more clients take 128 more places (with 64 + 1 already taken: 193)…
    let mut more = Vec::new();
    for from in ["127.0.0.3", "127.0.0.4"] {
        for _ in 0..64 {
            more.push(connect_from(from, relay.addr).await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let room = 200 - relay.handle.open_connections();
    assert!(room <= 8, "{room}");
    for _ in 0..room {
        more.push(connect_from("127.0.0.5", relay.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(relay.handle.open_connections(), 200);
    // … and one more, from a client with no connection yet, is closed at once.
    let mut over = connect_from("127.0.0.6", relay.addr).await.unwrap();
    over.write_all(b"GET /v1/nodes HTTP/1.1\r\nHost: relay\r\n\r\n").await.unwrap();
    let (bytes, closed) = read_until_closed(&mut over, Duration::from_secs(3)).await;
    assert!(bytes.is_empty() && closed.is_some(), "a connection over the total was served");
    // Places freed are taken again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    while relay.handle.open_connections() > 200 - 64 {
        assert!(Instant::now() < deadline, "{} still open", relay.handle.open_connections());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = client_from("127.0.0.6").get(format!("{}/v1/nodes", relay.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// At most `in_flight` requests are handled at once (2 here): a third, while two wait for their
/// bodies, gets 503 at once; when they are done, requests pass again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_in_flight_limit_get_503_at_once() {
    let limits = Limits { in_flight: 2, ..quick_limits() };
    let relay = start(limits, Inbound::default(), 100_000, &[]).await;
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
        stream.write_all(onion_head(&listed_guard(), "Content-Length: 10\r\n").as_bytes()).await.unwrap();
        waiting.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let response = client_from("127.0.0.2").get(format!("{}/v1/nodes", relay.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_secs(1));
    for mut stream in waiting {
        let (response, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(status_of(&response), Some(408));
    }
    let response = client_from("127.0.0.2").get(format!("{}/v1/nodes", relay.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// A body declared over 10 MiB is refused with 413 before a byte of it is sent (even when the
/// client waits for `100 Continue`); a body streamed without a declared length is cut at 10 MiB
/// all the same, and one of exactly 10 MiB passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_10_mib_are_refused_early_or_as_they_stream() {
    let relay = start(Limits::default(), Inbound::default(), 100_000, &[]).await;
    for extra in ["Content-Length: 104857600\r\n", "Content-Length: 10485761\r\nExpect: 100-continue\r\n"] {
        let mut stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
        stream.write_all(onion_head(&listed_guard(), extra).as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
            .await
            .expect("no answer before the body")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert_eq!(status_of(&buf[..n]), Some(413), "{text}");
        assert!(!text.contains("100 Continue"), "{text}");
    }
    assert_eq!(relay.relay.body_bytes_held(), 0);

    // 10 MiB and one byte more (then nothing: the relay has read all that was sent when it
    // answers, so it closes cleanly), and exactly 10 MiB.
    for (last, refused) in [(&b"1\r\nx\r\n"[..], true), (&b"0\r\n\r\n"[..], false)] {
        let stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let head = onion_head(&listed_guard(), "Transfer-Encoding: chunked\r\n");
        let writer = tokio::spawn(async move {
            write.write_all(head.as_bytes()).await?;
            let chunk = vec![7u8; 1024 * 1024];
            for _ in 0..10 {
                write.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                write.write_all(&chunk).await?;
                write.write_all(b"\r\n").await?;
            }
            write.write_all(last).await?;
            Ok::<_, std::io::Error>(write)
        });
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(20), read.read(&mut buf)).await.unwrap().unwrap();
        let status = status_of(&buf[..n]);
        assert_eq!(status == Some(413), refused, "{}", String::from_utf8_lossy(&buf[..n]));
        assert!(status.is_some());
        drop(writer);
    }
}

/// 20 uploads that stop just short of 10 MiB are all cut off at the body timeout (1.5 s here),
/// with 408, and the memory they took is given back; bodies that would take more than the
/// relay's budget for request bodies are refused with 503 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_are_cut_off_and_free_their_memory() {
    let relay = start(quick_limits(), Inbound::default(), 100_000, &[]).await;
    let part = vec![1u8; 10 * 1024 * 1024 - 100 * 1024];
    let mut uploads = Vec::new();
    for _ in 0..20 {
        let mut stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
        stream.write_all(onion_head(&listed_guard(), "Content-Length: 10485760\r\n").as_bytes()).await.unwrap();
        stream.write_all(&part).await.unwrap();
        uploads.push(stream);
    }
    assert!(relay.relay.body_bytes_held() > 0, "the uploads are being read");
    let started = Instant::now();
    for mut stream in uploads {
        let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
        assert_eq!(status_of(&response), Some(408), "{}", String::from_utf8_lossy(&response));
        assert!(closed.is_some(), "a stalled upload was not cut off");
    }
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(relay.relay.body_bytes_held(), 0);
    let deadline = Instant::now() + Duration::from_secs(3);
    while relay.handle.open_connections() > 0 {
        assert!(Instant::now() < deadline, "{} connections still open", relay.handle.open_connections());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A budget of 25 MiB: two bodies declared at 10 MiB are held, a third is refused at once.
    let budget = Inbound { body_budget: 25 * 1024 * 1024, ..Inbound::default() };
    let relay = start(quick_limits(), budget, 100_000, &[]).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.1", relay.addr).await.unwrap();
        stream.write_all(onion_head(&listed_guard(), "Content-Length: 10485760\r\n").as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect_from("127.0.0.2", relay.addr).await.unwrap();
    third.write_all(onion_head(&listed_guard(), "Content-Length: 10485760\r\n").as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_millis(800), third.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(status_of(&buf[..n]), Some(503), "{}", String::from_utf8_lossy(&buf[..n]));
}

/// Sends an onion POST (to an unknown guard: 404 once the rate limit has counted it) from
/// `client` with these `X-Forwarded-For` values; returns the status.
async fn onion_post(client: &reqwest::Client, url: &str, forwarded: &[&str]) -> u16 {
    let mut request = client
        .post(format!("{url}/v1/onion/{}", unknown_guard()))
        .header("content-type", "application/octet-stream")
        .body("x");
    for value in forwarded {
        request = request.header("x-forwarded-for", *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Behind a trusted proxy (127.0.0.1 here, as an nginx on the same machine), the client is the
/// right-most address in `X-Forwarded-For` that is not a trusted proxy: two clients behind it have
/// separate buckets, IPv6 clients share theirs by /64, and a client-written left part of the
/// header changes nothing. A peer that is not a trusted proxy (127.0.0.2) is its own client
/// whatever it writes in `X-Forwarded-For`. `/v1/nodes` has its own bucket: a client whose onion
/// bucket is spent still gets the list, and the list's bucket is limited too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_keyed_on_the_real_client_behind_a_trusted_proxy() {
    let limits = Limits { trusted_proxies: vec![parse_trusted_proxy("127.0.0.1/32").unwrap()], ..Limits::default() };
    let relay = start(limits, Inbound { nodes_per_minute: 2, ..Inbound::default() }, 3, &[]).await;
    let proxy = client_from("127.0.0.1");
    let url = relay.url.as_str();

    for _ in 0..3 {
        assert_eq!(onion_post(&proxy, url, &["203.0.113.5"]).await, 404);
    }
    assert_eq!(onion_post(&proxy, url, &["203.0.113.5"]).await, 429);
    // The proxy's own address in the chain is skipped; the client is still 203.0.113.5.
    assert_eq!(onion_post(&proxy, url, &["203.0.113.5, 127.0.0.1"]).await, 429);
    assert_eq!(onion_post(&proxy, url, &["203.0.113.5", "127.0.0.1"]).await, 429);
    // Another client behind the same proxy has a bucket of its own, whatever its own header said.
    assert_eq!(onion_post(&proxy, url, &["203.0.113.6"]).await, 404);
    assert_eq!(onion_post(&proxy, url, &["203.0.113.5, 203.0.113.6"]).await, 404);
    assert_eq!(onion_post(&proxy, url, &["198.51.100.9, 203.0.113.6"]).await, 404);
    assert_eq!(onion_post(&proxy, url, &["203.0.113.6"]).await, 429);
    // IPv6: one /64, one bucket.
    for _ in 0..3 {
        assert_eq!(onion_post(&proxy, url, &["2001:db8:1:2::1"]).await, 404);
    }
    assert_eq!(onion_post(&proxy, url, &["2001:db8:1:2:ffff::beef"]).await, 429);
    assert_eq!(onion_post(&proxy, url, &["2001:db8:1:3::1"]).await, 404);

    // An untrusted peer cannot choose its bucket.
    let direct = client_from("127.0.0.2");
    for i in 0..3 {
        assert_eq!(onion_post(&direct, url, &[&format!("198.51.100.{i}")]).await, 404);
    }
    assert_eq!(onion_post(&direct, url, &["198.51.100.77"]).await, 429);
    assert_eq!(onion_post(&direct, url, &["203.0.113.99"]).await, 429);

    // The node list: a bucket of its own (2 a minute here), per client as well.
    let list = |client: &reqwest::Client, forwarded: &str| {
        client.get(format!("{url}/v1/nodes")).header("x-forwarded-for", forwarded).send()
    };
    assert_eq!(list(&proxy, "203.0.113.5").await.unwrap().status().as_u16(), 200);
    assert_eq!(list(&proxy, "203.0.113.5").await.unwrap().status().as_u16(), 200);
    assert_eq!(list(&proxy, "203.0.113.5").await.unwrap().status().as_u16(), 429);
    assert_eq!(list(&proxy, "203.0.113.7").await.unwrap().status().as_u16(), 200);
    assert_eq!(list(&direct, "203.0.113.8").await.unwrap().status().as_u16(), 200);
}

/// A POST to the onion route from a page of another origin is refused with 403, and one that is
/// not `application/octet-stream` with 415, before the rate limit counts it: a website cannot
/// spend its visitors' requests. A request with no `Origin` (the command line) passes; so does
/// one from the relay's own origin (`localhost` too, beside a loopback address) or an allowed
/// one. A CORS preflight is answered only for allowed origins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_octet_stream_posts_from_allowed_origins_are_taken() {
    let relay = start(Limits::default(), Inbound::default(), 2, &["https://hush.example"]).await;
    let http = reqwest::Client::new();
    let onion = format!("{}/v1/onion/{}", relay.url, unknown_guard());
    let post = |origin: Option<&str>, content_type: Option<&str>| {
        let mut request = http.post(&onion).body("hello");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for _ in 0..5 {
        assert_eq!(post(Some("https://evil.example"), Some("text/plain")).await, 403);
        assert_eq!(post(Some("https://evil.example"), Some("application/octet-stream")).await, 403);
        assert_eq!(post(Some("null"), Some("application/octet-stream")).await, 403);
        assert_eq!(post(Some("http://hush.example"), Some("application/octet-stream")).await, 403);
        assert_eq!(post(Some(&relay.url), Some("text/plain")).await, 415);
        assert_eq!(post(None, Some("application/x-www-form-urlencoded")).await, 415);
        assert_eq!(post(None, None).await, 415);
    }
    let refused = relay.relay.counters.refused.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(refused, 35);
    // None of that counted: the client's two requests of the minute are still there.
    assert_eq!(post(Some("https://hush.example"), Some("application/octet-stream")).await, 404);
    assert_eq!(post(None, Some("Application/Octet-Stream; x=y")).await, 404);
    assert_eq!(post(Some(&relay.url), Some("application/octet-stream")).await, 429);
    let localhost = relay.url.replace("127.0.0.1", "localhost");
    assert_eq!(post(Some(&localhost), Some("application/octet-stream")).await, 429);

    let preflight = |origin: &str| {
        http.request(reqwest::Method::OPTIONS, &onion)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let r = preflight("https://hush.example").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://hush.example");
    let r = preflight("https://evil.example").await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // The node list from another origin: refused as well.
    let r = http.get(format!("{}/v1/nodes", relay.url)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http.get(format!("{}/v1/nodes", relay.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
