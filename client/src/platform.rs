//! What the engine needs from the world, as three small traits: a [`Transport`] that reaches the
//! relay, a [`Clock`] that tells the time and waits, and the vault's
//! [`Backend`](crate::storage::Backend). The browser app implements them with fetch and
//! `AbortController`, `Date.now()` and `setTimeout`, and IndexedDB; the command line with an
//! HTTPS client, the system clock and a file; the engine's tests with a scripted transport, a
//! manual clock and memory.
//!
//! The engine never waits on the world without a deadline: every [`Transport`] call is given one,
//! and the engine also races it against its [`Clock`], so a transport that ignores it cannot hold
//! polling or delivery.

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod native;

use core::fmt;
use core::future::Future;
use core::time::Duration;

/// The largest answer taken from the relay (its own cap on onion bodies); a transport may stop
/// reading there and report [`TransportError::TooLarge`].
pub const MAX_REPLY_BYTES: usize = 10 * 1024 * 1024;

/// An HTTP answer: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a request got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The request could not be made or was cut off (offline, refused, reset), with the
    /// platform's words for it.
    Unreachable(String),
    /// No answer within the deadline; the request was abandoned.
    TimedOut,
    /// The answer was larger than the engine takes.
    TooLarge,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Unreachable(why) => write!(f, "could not reach the relay: {why}"),
            TransportError::TimedOut => f.write_str("the relay did not answer in time"),
            TransportError::TooLarge => f.write_str("the relay's answer was too large"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Reaches the relay over HTTP(S). Implementations abort a request at its deadline.
///
/// What goes through here is the relay's node list (`GET`) and onion bytes (`POST`): never a
/// Session ID, a destination or content in the clear.
pub trait Transport {
    /// `GET url`, abandoned after `deadline`.
    fn get(&self, url: &str, deadline: Duration) -> impl Future<Output = Result<Reply, TransportError>>;
    /// `POST url` with `body` (`application/octet-stream`), abandoned after `deadline`.
    fn post(&self, url: &str, body: Vec<u8>, deadline: Duration)
    -> impl Future<Output = Result<Reply, TransportError>>;
    /// [`Transport::post`], telling `progress` how many of the body's bytes have gone out
    /// (`sent`, `total`) as they go: a file's upload shows how far it got. A transport that cannot
    /// tell posts without telling.
    fn post_observed(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: Progress<'_>,
    ) -> impl Future<Output = Result<Reply, TransportError>> {
        let _ = progress;
        self.post(url, body, deadline)
    }
}

/// Where a transport tells how much of a body has gone out: `(sent, total)` bytes.
pub type Progress<'a> = &'a dyn Fn(u64, u64);

/// Tells the time and waits.
pub trait Clock {
    /// Milliseconds since the Unix epoch, by this device's clock (the engine keeps its own
    /// correction to the network's time).
    fn now_ms(&self) -> u64;
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
    /// Whether a person is looking (a visible page); polling slows down when not.
    fn visible(&self) -> bool {
        true
    }
    /// Resolves after `duration`, or earlier when [`Clock::visible`] changes. Only the poll loop
    /// naps, between polls (a front end may count naps as finished polls, as the command line
    /// does); other background work sleeps.
    fn nap(&self, duration: Duration) -> impl Future<Output = ()> {
        self.sleep(duration)
    }
}

/// Runs `work` with a deadline on `clock`: `None` if the deadline passed first.
pub async fn within<T>(clock: &impl Clock, deadline: Duration, work: impl Future<Output = T>) -> Option<T> {
    use futures::future::{Either, select};
    let work = core::pin::pin!(work);
    let timer = core::pin::pin!(clock.sleep(deadline));
    match select(work, timer).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}

/// The three parts a front end provides, as one type parameter of the engine.
pub trait Platform: 'static {
    /// How the relay is reached.
    type Transport: Transport;
    /// The time, and waiting.
    type Clock: Clock;
    /// Where the vault's sealed records are kept.
    type Backend: crate::storage::Backend;
}

/// A front end's transport and clock, shared by the engine's parts.
#[derive(Debug)]
pub struct World<P: Platform> {
    /// How the relay is reached.
    pub transport: P::Transport,
    /// The time, and waiting.
    pub clock: P::Clock,
    /// Whether the front end is a page served over HTTPS (it then cannot reach an `http://` relay
    /// other than this device).
    pub secure_page: bool,
}
