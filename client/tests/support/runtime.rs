//! What the engine's devnet tests share: the runtime they run on and how they read the events an
//! engine told. Included by each test file with `#[path = "support/runtime.rs"] mod support;`.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use hush_client::Event;
use hush_client::conversations::Message;

/// Runs one test on a tokio runtime (the devnet's servers on two worker threads) with the engines
/// in a `LocalSet` on this thread, and fails it if it takes longer than `limit`.
pub fn run_test(limit: Duration, test: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async {
        if tokio::time::timeout(limit, test).await.is_err() {
            panic!("the test did not finish within {limit:?}");
        }
    }));
}

/// Every message event in `events`: (the message as told, whether it newly arrived).
#[allow(dead_code, reason = "not every test file reads messages")]
pub fn message_events(events: &RefCell<Vec<Event>>) -> Vec<(Message, bool)> {
    events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Message { message, arrived } => Some((message.clone(), *arrived)),
            _ => None,
        })
        .collect()
}

/// Waits until `check` gives a value, looking every 100 ms, for at most `deadline`.
#[allow(dead_code, reason = "not every test file waits")]
pub async fn eventually<T>(what: &str, deadline: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "waited {deadline:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
