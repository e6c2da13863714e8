//! The engine's platform on the command line: the native HTTPS transport and SQLite vault, and
//! the system clock with one addition — it tells the command when the engine's poll loop has
//! finished a poll (the loop naps after each one), so `inbox` knows when "new" is up to date.

use core::future::Future;
use core::time::Duration;

use futures::channel::mpsc;
use hush_client::platform::native::{Https, SqliteBackend, SystemClock};
use hush_client::platform::{Clock, Platform, World};

/// The command line's platform.
#[derive(Debug)]
pub struct Cli;

impl Platform for Cli {
    type Transport = Https;
    type Clock = PollClock;
    type Backend = SqliteBackend;
}

/// The system clock; each nap of the poll loop (after every poll) sends a signal.
#[derive(Debug)]
pub struct PollClock {
    polled: mpsc::UnboundedSender<()>,
}

impl Clock for PollClock {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        SystemClock.sleep(duration)
    }

    fn nap(&self, duration: Duration) -> impl Future<Output = ()> {
        let _ = self.polled.unbounded_send(());
        SystemClock.sleep(duration)
    }
}

/// The world of the engine, and the signals of finished polls.
pub fn world() -> (World<Cli>, mpsc::UnboundedReceiver<()>) {
    let (polled, polls) = mpsc::unbounded();
    (World { transport: Https::new(), clock: PollClock { polled }, secure_page: false }, polls)
}
