//! Parts for testing front ends and the engine natively: a clock on the system's time that sleeps
//! on a helper thread (so it works under any executor), a transport that is never reachable, and
//! a [`Scripted`] transport that wraps a real one and fails on command — offline, or accepting a
//! request and never answering — so outages and stalls are reproduced exactly.

use core::future::Future;
use core::time::Duration;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::channel::oneshot;

use crate::platform::{Clock, Platform, Reply, Transport, TransportError, World};
use crate::storage::MemoryBackend;

/// The system's time; sleeps on a helper thread.
#[derive(Clone, Debug, Default)]
pub struct ThreadClock;

impl Clock for ThreadClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        let (tx, rx) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            let _ = tx.send(());
        });
        async move {
            let _ = rx.await;
        }
    }
}

/// A transport with no network: every request fails at once as unreachable.
#[derive(Clone, Debug, Default)]
pub struct NoNetwork;

impl Transport for NoNetwork {
    async fn get(&self, _url: &str, _deadline: Duration) -> Result<Reply, TransportError> {
        Err(TransportError::Unreachable("no network in this test".into()))
    }

    async fn post(&self, _url: &str, _body: Vec<u8>, _deadline: Duration) -> Result<Reply, TransportError> {
        Err(TransportError::Unreachable("no network in this test".into()))
    }
}

/// What a [`Scripted`] transport does with the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// Pass requests to the real transport.
    Pass,
    /// Fail every request at once, as a device without a network does.
    Offline,
    /// Accept every request and never answer, as a relay that stalls does (the engine's deadline
    /// must end it).
    Stall,
}

/// A real transport, failing on command; counts the requests it was given.
#[derive(Debug)]
pub struct Scripted<T> {
    inner: T,
    script: Rc<Cell<Script>>,
    requests: Rc<Cell<u64>>,
    /// URLs asked for, in order (for checks of what reached the relay).
    pub urls: Rc<RefCell<Vec<String>>>,
}

/// The handle a test keeps to change a [`Scripted`] transport's script.
#[derive(Clone, Debug)]
pub struct Control {
    script: Rc<Cell<Script>>,
    requests: Rc<Cell<u64>>,
}

impl Control {
    /// Makes the next requests follow `script`.
    pub fn set(&self, script: Script) {
        self.script.set(script);
    }

    /// Requests given to the transport so far.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }
}

impl<T> Scripted<T> {
    /// `inner`, passing requests until told otherwise; and the handle that tells it.
    pub fn new(inner: T) -> (Scripted<T>, Control) {
        let script = Rc::new(Cell::new(Script::Pass));
        let requests = Rc::new(Cell::new(0));
        let control = Control { script: script.clone(), requests: requests.clone() };
        (Scripted { inner, script, requests, urls: Rc::default() }, control)
    }

    async fn run(
        &self,
        url: &str,
        request: impl Future<Output = Result<Reply, TransportError>>,
    ) -> Result<Reply, TransportError> {
        self.requests.set(self.requests.get() + 1);
        self.urls.borrow_mut().push(url.to_owned());
        match self.script.get() {
            Script::Pass => request.await,
            Script::Offline => Err(TransportError::Unreachable("the test took the network away".into())),
            Script::Stall => futures::future::pending().await,
        }
    }
}

impl<T: Transport> Transport for Scripted<T> {
    async fn get(&self, url: &str, deadline: Duration) -> Result<Reply, TransportError> {
        self.run(url, self.inner.get(url, deadline)).await
    }

    async fn post(&self, url: &str, body: Vec<u8>, deadline: Duration) -> Result<Reply, TransportError> {
        self.run(url, self.inner.post(url, body, deadline)).await
    }

    async fn post_observed(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: crate::platform::Progress<'_>,
    ) -> Result<Reply, TransportError> {
        self.run(url, self.inner.post_observed(url, body, deadline, progress)).await
    }
}

/// No network, the thread clock and memory: for unit tests of what needs no answers.
#[derive(Debug)]
pub struct Offline;

impl Platform for Offline {
    type Transport = NoNetwork;
    type Clock = ThreadClock;
    type Backend = MemoryBackend;
}

/// The world of [`Offline`].
pub fn offline_world() -> World<Offline> {
    World { transport: NoNetwork, clock: ThreadClock, secure_page: false }
}

/// An unlocked session with no network, on memory, for the engine's unit tests.
#[cfg(test)]
pub(crate) fn offline_session() -> crate::session::Session<Offline> {
    use crypto_core::identity::{Identity, Seed};
    let seed = Seed::generate(&mut rand_core::OsRng);
    let vault = futures::executor::block_on(crate::storage::Vault::create(
        Rc::new(MemoryBackend::default()),
        "p",
        &seed,
        crypto_core::vault::KdfParams::INSECURE_FOR_TESTS,
    ))
    .expect("a memory vault");
    crate::session::Session::new(
        vault,
        crate::account::Account::new(&seed, "Alice"),
        Identity::from_seed(&seed),
        Rc::new(offline_world()),
        Rc::default(),
    )
}

/// One of each network failure a person can be told of (the relay's refusals each way), for
/// tests that word or keep them all.
pub fn failures() -> Vec<crypto_core::network::Failure> {
    use crypto_core::network::{Failure, NetworkError};
    let mut all = vec![
        Failure::Offline,
        Failure::RateLimited,
        Failure::Relay(502),
        Failure::ClockOutOfSync,
        Failure::ServerError,
        Failure::TooLarge,
        Failure::Rejected { status: 421, body: "not in this swarm".into() },
        Failure::NoPath(NetworkError::NotEnoughNodes { have: 2, need: 3 }),
        Failure::Unreachable,
        Failure::TimedOut,
    ];
    all.extend(refusals().map(Failure::NodeListRefused));
    all
}

/// One of each way the relay's node list is refused.
pub fn refusals() -> [crypto_core::network::anchors::Refusal; 4] {
    use crypto_core::network::anchors::Refusal;
    [
        Refusal::NoAnchors,
        Refusal::Unconfirmed { answered: 1, asked: 3 },
        Refusal::ForgedKeys { listed: 10, forged: 3 },
        Refusal::Mismatch { listed: 6, confirmed: 0, network: 12 },
    ]
}

/// One of each engine error that carries nothing, or only a number.
pub fn plain_errors() -> Vec<crate::Error> {
    use crate::Error;
    vec![
        Error::Locked,
        Error::AccountMissing,
        Error::AccountDamaged,
        Error::Encryption,
        Error::EmptyMessage,
        Error::TooLong { max: 2_000 },
        Error::MessageGone,
        Error::NotYours,
        Error::NotAnEmoji,
        Error::NotForNoteToSelf,
        Error::NotATimer,
        Error::AnotherAccount,
        Error::WrongCurrentPassphrase,
        Error::PassphraseTooShort,
        Error::TooManyFiles { max: 32 },
        Error::FileTooLarge { size: 12_345_678, max: 10_000_000 },
        Error::FileTooLarge { size: 10_000_001, max: 10_000_000 },
        Error::FileExpired,
        Error::FileDamaged,
        Error::FileRefused { status: 413 },
        Error::NotJoined,
        Error::NotBlinded,
        Error::CommunityForbidden,
        Error::CommunityNotFound,
        Error::CommunityRateLimited,
        Error::TextOnlyThroughCommunity,
        Error::CommunityRefused { status: 500 },
    ]
}

/// Each engine error that carries a storage error, around `storage`.
pub fn storage_errors(storage: &crate::storage::StorageError) -> [crate::Error; 6] {
    use crate::Error;
    [
        Error::FileNotKept(storage.clone()),
        Error::Storage(storage.clone()),
        Error::NotKept(storage.clone()),
        Error::MessageNotKept(storage.clone()),
        Error::ConversationsUnreadable(storage.clone()),
        Error::MessagesUnreadable(storage.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures::executor::block_on;

    use super::*;
    use crate::platform::within;

    /// Answers every request with 200 and the URL as the body.
    #[derive(Debug)]
    struct Echo;

    impl Transport for Echo {
        async fn get(&self, url: &str, _deadline: Duration) -> Result<Reply, TransportError> {
            Ok(Reply { status: 200, body: url.as_bytes().to_vec() })
        }

        async fn post(&self, url: &str, body: Vec<u8>, _deadline: Duration) -> Result<Reply, TransportError> {
            Ok(Reply { status: 200, body: [url.as_bytes(), &body].concat() })
        }
    }

    #[test]
    fn a_scripted_transport_passes_fails_and_stalls_on_command() {
        let (transport, control) = Scripted::new(Echo);
        let second = Duration::from_secs(1);
        block_on(async {
            assert_eq!(transport.get("a", second).await.unwrap().body, b"a");
            assert_eq!(transport.post("b", b"!".to_vec(), second).await.unwrap().body, b"b!");
            control.set(Script::Offline);
            assert!(matches!(transport.get("c", second).await, Err(TransportError::Unreachable(_))));
            control.set(Script::Stall);
            let started = Instant::now();
            assert_eq!(
                within(&ThreadClock, Duration::from_millis(200), transport.post("d", Vec::new(), second)).await,
                None
            );
            assert!(started.elapsed() >= Duration::from_millis(200), "a stalled request never answers");
            control.set(Script::Pass);
            assert!(transport.get("e", second).await.is_ok());
        });
        assert_eq!(control.requests(), 5);
        assert_eq!(*transport.urls.borrow(), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn no_network_fails_at_once_and_the_thread_clock_sleeps() {
        block_on(async {
            assert!(matches!(NoNetwork.get("x", Duration::from_secs(9)).await, Err(TransportError::Unreachable(_))));
            assert!(matches!(
                NoNetwork.post("x", Vec::new(), Duration::from_secs(9)).await,
                Err(TransportError::Unreachable(_))
            ));
            let before = ThreadClock.now_ms();
            let started = Instant::now();
            ThreadClock.sleep(Duration::from_millis(50)).await;
            assert!(started.elapsed() >= Duration::from_millis(50));
            assert!(ThreadClock.now_ms() >= before + 50);
            assert_eq!(within(&ThreadClock, Duration::from_secs(5), async { 7 }).await, Some(7), "work first");
        });
        assert!(ThreadClock.visible());
        assert!(!offline_world().secure_page);
    }

    #[test]
    fn transport_errors_say_what_happened_to_the_relay() {
        assert_eq!(TransportError::TimedOut.to_string(), "the relay did not answer in time");
        assert_eq!(TransportError::TooLarge.to_string(), "the relay's answer was too large");
        assert_eq!(
            TransportError::Unreachable("connection refused".into()).to_string(),
            "could not reach the relay: connection refused"
        );
    }
}
