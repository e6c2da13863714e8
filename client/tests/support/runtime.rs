//! What the engine's devnet tests share: the runtime they run on and how they read the events an
//! engine told. Included by each test file with `#[path = "support/runtime.rs"] mod support;`.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use hush_client::Event;
use hush_client::conversations::Message;

/// The stack a test's engines run on. A debug build keeps a stack slot for every `.await` of an
/// async body, so a long devnet test's body alone takes hundreds of KiB and the whole poll went
/// past the 2 MiB of a test thread (the sync test overflowed in CI); release builds reuse those
/// slots.
const TEST_STACK: usize = 16 << 20;

/// Runs one test on a tokio runtime (the devnet's servers on two worker threads) with the engines
/// in a `LocalSet` on a thread of its own with [`TEST_STACK`], and fails it if it takes longer
/// than `limit`. A panic in the test is the test's panic.
pub fn run_test<F: AsyncFnOnce() + Send + 'static>(limit: Duration, test: F) {
    let engines = std::thread::Builder::new().name("engines".into()).stack_size(TEST_STACK).spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        runtime.block_on(local.run_until(async {
            if tokio::time::timeout(limit, Box::pin(test())).await.is_err() {
                panic!("the test did not finish within {limit:?}");
            }
        }));
    });
    if let Err(panic) = engines.unwrap().join() {
        std::panic::resume_unwind(panic);
    }
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
