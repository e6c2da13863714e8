//! The relay's accept loop: the connections it takes from the public, and their limits.
//!
//! - A request head must be complete within [`Limits::header_timeout`] of its first byte, and a
//!   connection that waits for a request (a new one, or one kept alive between requests) is
//!   closed after [`Limits::idle_timeout`]: a client that sends a header line every few seconds
//!   is cut off.
//! - A response the client stops reading is abandoned after [`Limits::write_timeout`] without
//!   progress.
//! - At most [`Limits::per_client`] connections per client address (IPv6 by its /64) and
//!   [`Limits::total`] in all (below the open-file limit, which [`serve`] raises from its soft to
//!   its hard value first): a connection over either is closed at once, before a byte is read.
//!   Connections from a trusted proxy ([`Limits::trusted_proxies`]) count only towards the total,
//!   since every client behind it shares its address.
//! - At most [`Limits::in_flight`] requests are handled at once; one more is answered 503 at once.
//! - [`Limits::body_timeout`] bounds how long a handler waits for a request body (the relay's
//!   onion route reads one, `relay::forward`); a handler that reads no body leaves it unread, and
//!   the connection is closed after the response.
//!
//! HTTP/1.1 only (hyper's server connection): browsers and reverse proxies speak it to the relay.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The largest buffer hyper keeps per connection (a request head must fit in it). Browsers send
/// heads of a few KiB; this relay sets no cookies.
const MAX_BUF: usize = 64 * 1024;

/// How long a stopping server lets its connections finish what they are doing.
const GRACE: Duration = Duration::from_secs(10);

/// File descriptors kept out of the connection budget: the upstream connections of requests in
/// flight come on top of this, and the rest is for the listener, files and the pool.
const RESERVED_FDS: u64 = 256;

/// What the relay accepts from the public: timeouts, connection and concurrency limits, and the
/// proxies it trusts to say who the client is.
#[derive(Clone, Debug)]
pub struct Limits {
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// How long a connection may wait for a request (new, or kept alive between requests).
    pub idle_timeout: Duration,
    /// How long a whole request body may take, from its head (enforced by the handler that reads
    /// it).
    pub body_timeout: Duration,
    /// How long writing a response may make no progress (a client that stopped reading).
    pub write_timeout: Duration,
    /// Connections per client address (an IPv6 address counts by its /64).
    pub per_client: usize,
    /// Connections in all (lowered to fit the open-file limit).
    pub total: usize,
    /// Requests handled at once, over all connections.
    pub in_flight: usize,
    /// Reverse proxies in front (`--trusted-proxy`): their connections are not limited per
    /// client, and the relay takes the client's address from their `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            per_client: 64,
            total: 4096,
            in_flight: 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Limits {
    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// Reads a `--trusted-proxy` value: a network in CIDR notation (`127.0.0.1/32`, `10.0.0.0/8`,
/// `fd00::/8`), or one address.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        format!("{text:?} is not an address or a network: write it as 127.0.0.1/32, 10.0.0.0/8 or fd00::/8")
    })
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports it) as
/// IPv4; anything else as it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client is limited by: its IPv4 address, or the /64 its IPv6 address is in (one
/// household or host is given a whole /64, and picks addresses in it at will).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// Raises the soft limit on open files to the hard one, where it is lower. Returns the soft limit
/// now in force (`None`: unlimited).
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let Some(current) = limit.current {
        // An unlimited hard limit cannot be the soft one for open files: take a large number.
        let wanted = limit.maximum.unwrap_or(1 << 20);
        if current < wanted {
            let raised = Rlimit { current: Some(wanted), maximum: limit.maximum };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(error = %e, current, wanted, "could not raise the open-file limit");
            }
        }
    }
    getrlimit(Resource::Nofile).current
}

/// Stops a running [`serve`] and reports what it is doing. Clones share one server.
#[derive(Clone, Debug)]
pub struct Handle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    stop: watch::Sender<bool>,
    open: AtomicUsize,
    refused: AtomicU64,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

impl Default for Handle {
    fn default() -> Handle {
        Handle::new()
    }
}

impl Handle {
    /// A handle for one server.
    pub fn new() -> Handle {
        Handle {
            shared: Arc::new(Shared {
                stop: watch::Sender::new(false),
                open: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
                per_client: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Stops accepting; connections finish the request they are handling (up to 10 s) and close.
    pub fn shutdown(&self) {
        self.shared.stop.send_replace(true);
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Relaxed)
    }

    /// Connections closed at once because a limit was reached, since the start.
    pub fn refused_connections(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// A place for one more connection from `client` (`None`: a trusted proxy, limited only by
    /// the total), or `None` when a limit is reached.
    fn take_slot(&self, client: Option<IpAddr>, per_client: usize, total: usize) -> Option<Slot> {
        let mut counts = self.shared.per_client.lock().unwrap_or_else(PoisonError::into_inner);
        if self.shared.open.load(Ordering::Relaxed) >= total {
            return None;
        }
        if let Some(client) = client {
            let count = counts.entry(client).or_insert(0);
            if *count >= per_client {
                return None;
            }
            *count += 1;
        }
        self.shared.open.fetch_add(1, Ordering::Relaxed);
        Some(Slot { handle: self.clone(), client })
    }
}

/// One open connection's place in the counts; given back when dropped.
#[derive(Debug)]
struct Slot {
    handle: Handle,
    client: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        let mut counts = shared.per_client.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = self.client
            && let Some(count) = counts.get_mut(&client)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&client);
            }
        }
        shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` within `limits` until `handle` is told to stop; each request
/// carries the peer's address as `ConnectInfo<SocketAddr>`, as `axum::serve` gives it. Raises the
/// open-file limit first and keeps the connection total below it.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, handle: Handle) -> io::Result<()> {
    let total = match raise_open_file_limit() {
        Some(files) => {
            let budget = files.saturating_sub(RESERVED_FDS + limits.in_flight as u64);
            let budget = usize::try_from(budget).unwrap_or(usize::MAX).max(16);
            if budget < limits.total {
                tracing::warn!(
                    open_files = files,
                    connections = budget,
                    "the open-file limit lowers the connection limit"
                );
            }
            limits.total.min(budget)
        }
        None => limits.total,
    };
    let limits = Arc::new(limits);
    let in_flight = Arc::new(Semaphore::new(limits.in_flight));
    let mut stop = handle.shared.stop.subscribe();
    // Every connection holds a sender; when the last is gone, all have closed.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors or similar: give the system a moment.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let client = (!limits.is_trusted(peer.ip())).then(|| client_key(peer.ip()));
        let Some(slot) = handle.take_slot(client, limits.per_client, total) else {
            handle.shared.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let connection = Connection {
            peer,
            app: app.clone(),
            limits: limits.clone(),
            in_flight: in_flight.clone(),
            stop: stop.clone(),
            _slot: slot,
            _alive: alive.clone(),
        };
        tokio::spawn(connection.run(stream));
    }
    drop(listener);
    drop(alive);
    let _ = tokio::time::timeout(GRACE, all_closed.recv()).await;
    Ok(())
}

/// Errors of one connection that `accept` reports; the listener itself is fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// One accepted connection and what it needs.
struct Connection {
    peer: SocketAddr,
    app: Router,
    limits: Arc<Limits>,
    in_flight: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    _slot: Slot,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let head = Arc::new(Mutex::new(HeadWatch::new()));
        let io =
            TokioIo::new(Guarded { stream, head: head.clone(), write_timeout: self.limits.write_timeout, stall: None });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(HeadTimer { head, header: self.limits.header_timeout, idle: self.limits.idle_timeout })
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(MAX_BUF);
        let (peer, app, in_flight) = (self.peer, self.app.clone(), self.in_flight.clone());
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let permit = in_flight.clone().try_acquire_owned();
            let app = app.clone();
            async move {
                let Ok(_permit) = permit else { return Ok::<_, Infallible>(busy()) };
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                app.oneshot(request).await
            }
        });
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => {}
            () = stopped(self.stop.clone()) => {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(GRACE, connection).await;
            }
        }
    }
}

/// Resolves once the server is told to stop (or is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// 503 when every request slot is taken.
fn busy() -> Response<Body> {
    let mut response = Response::new(Body::from("The relay is busy: try again in a moment"));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// When the connection began to wait for a request head, and when its first byte came.
#[derive(Debug)]
struct HeadWatch {
    waiting_since: Instant,
    first_byte: Option<Instant>,
}

impl HeadWatch {
    fn new() -> HeadWatch {
        HeadWatch { waiting_since: Instant::now(), first_byte: None }
    }
}

/// The timer hyper's header-read timeout runs on (hyper starts it each time the connection waits
/// for a request head, new or kept alive): it fires [`Limits::idle_timeout`] after the wait began
/// while no byte has come, and [`Limits::header_timeout`] after the first byte once one has.
#[derive(Clone, Debug)]
struct HeadTimer {
    head: Arc<Mutex<HeadWatch>>,
    header: Duration,
    idle: Duration,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(std::time::Instant::now() + duration)
    }

    fn sleep_until(&self, _deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let now = Instant::now();
        *self.head.lock().unwrap_or_else(PoisonError::into_inner) = HeadWatch { waiting_since: now, first_byte: None };
        Box::pin(HeadSleep {
            head: self.head.clone(),
            header: self.header,
            idle: self.idle,
            sleep: Box::pin(tokio::time::sleep_until(now + self.idle)),
        })
    }
}

/// See [`HeadTimer`].
#[derive(Debug)]
struct HeadSleep {
    head: Arc<Mutex<HeadWatch>>,
    header: Duration,
    idle: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = {
            let head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
            match head.first_byte {
                Some(first) => first + self.header,
                None => head.waiting_since + self.idle,
            }
        };
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}

/// The socket, noting when bytes arrive (for [`HeadTimer`]) and giving up on a write that makes no
/// progress for [`Limits::write_timeout`].
#[derive(Debug)]
struct Guarded {
    stream: TcpStream,
    head: Arc<Mutex<HeadWatch>>,
    write_timeout: Duration,
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Guarded {
    fn on_write<T>(&mut self, cx: &mut Context<'_>, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match result {
            Poll::Pending => {
                let timeout = self.write_timeout;
                let stall = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.stall = None;
                ready
            }
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut head = this.head.lock().unwrap_or_else(PoisonError::into_inner);
            if head.first_byte.is_none() {
                head.first_byte = Some(Instant::now());
            }
        }
        result
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.on_write(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.on_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.on_write(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.on_write(cx, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_address() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(key("2001:db8:1:2:abcd::7"), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        // An IPv4 client on a dual-stack socket is the same client as over IPv4.
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let limits = Limits {
            trusted_proxies: vec![
                parse_trusted_proxy("127.0.0.1/32").unwrap(),
                parse_trusted_proxy("10.1.2.3/8").unwrap(),
                parse_trusted_proxy("fd00::1").unwrap(),
            ],
            ..Limits::default()
        };
        for trusted in ["127.0.0.1", "::ffff:127.0.0.1", "10.200.0.1", "fd00::1"] {
            assert!(limits.is_trusted(trusted.parse().unwrap()), "{trusted}");
        }
        for untrusted in ["127.0.0.2", "11.0.0.1", "fd00::2", "::1"] {
            assert!(!limits.is_trusted(untrusted.parse().unwrap()), "{untrusted}");
        }
        for bad in ["", "localhost", "127.0.0.1/33", "10.0.0.0/8/8", "nginx"] {
            assert!(parse_trusted_proxy(bad).is_err(), "{bad}");
        }
    }
}
