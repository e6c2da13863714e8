//! Opening a conversation that holds 100,000 messages, natively: the engine's memory after filing
//! them and its time to open the conversation, each against a reference in the same run.
//!
//! Run: `cargo run --release -p hush-client --example big_conversation [-- COUNT]`
//!
//! Two vaults are filled, each with one conversation of COUNT messages (100,000 by default), one
//! of 50 and three of 20, every message filed one by one with `conversations::file` (what the
//! inbox does for each message):
//! - on a directory of files (one file per sealed record, on /dev/shm or in the temporary directory),
//!   so that the process's memory holds the engine alone: its resident size after filing is set
//!   against its size before filing (the reference). The workspace forbids `unsafe` code in every
//!   target, so a counting global allocator cannot be written here; the resident size
//!   (`/proc/self/status`, Linux) stands in for it, and its peak (`VmHWM`) is printed too;
//! - on `MemoryBackend`, where the opening is timed: `Engine::history` of the newest 50 (what the
//!   conversation view asks for when it opens) against the reference of reading the same 50
//!   message records straight from the vault by their ids, and the same for the conversation of
//!   50 messages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::vault::KdfParams;
use futures::executor::block_on;
use hush_client::Engine;
use hush_client::conversations::{self, Message, Standing};
use hush_client::platform::{Clock, Platform, Reply, Transport, TransportError, World};
use hush_client::storage::{Backend, MemoryBackend, Read, StorageError, Vault, stores};

const PASSPHRASE: &str = "a long enough passphrase";
/// Messages the conversation view asks for when it opens.
const PAGE: usize = conversations::PAGE;
const WARM_UP: usize = 20;
const ROUNDS: usize = 200;
/// The first message's timestamp (2026-01-01), then one message a minute.
const START_MS: u64 = 1_767_225_600_000;

/// No network: the engine's background work is not started here.
struct Offline;

impl Transport for Offline {
    async fn get(&self, _url: &str, _deadline: Duration) -> Result<Reply, TransportError> {
        Err(TransportError::Unreachable("offline".to_owned()))
    }
    async fn post(&self, _url: &str, _body: Vec<u8>, _deadline: Duration) -> Result<Reply, TransportError> {
        Err(TransportError::Unreachable("offline".to_owned()))
    }
}

struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
    async fn sleep(&self, _duration: Duration) {
        std::future::pending::<()>().await;
    }
}

struct Native<B>(core::marker::PhantomData<B>);

impl<B: Backend + 'static> Platform for Native<B> {
    type Transport = Offline;
    type Clock = SystemClock;
    type Backend = B;
}

/// One file per record: `<root>/<store>/<lookup key>` (lookup keys are hex).
struct DirBackend {
    root: PathBuf,
}

fn io_error(e: std::io::Error) -> StorageError {
    StorageError::Backend { name: "io".to_owned(), message: e.to_string() }
}

impl DirBackend {
    fn new(root: PathBuf) -> DirBackend {
        for store in stores::ALL {
            std::fs::create_dir_all(root.join(store)).expect("make the vault's directory");
        }
        DirBackend { root }
    }

    fn path(&self, store: &str, key: &str) -> PathBuf {
        self.root.join(store).join(key)
    }
}

impl Backend for DirBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match std::fs::read(self.path(store, key)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }
    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        std::fs::write(self.path(store, key), value).map_err(io_error)
    }
    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        match std::fs::remove_file(self.path(store, key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
            _ => Ok(()),
        }
    }
    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        let mut keys: Vec<String> = std::fs::read_dir(self.root.join(store))
            .map_err(io_error)?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        keys.sort();
        Ok(keys)
    }
    async fn clear(&self) -> Result<(), StorageError> {
        for store in stores::ALL {
            let dir = self.root.join(store);
            std::fs::remove_dir_all(&dir).map_err(io_error)?;
            std::fs::create_dir_all(&dir).map_err(io_error)?;
        }
        Ok(())
    }
}

/// A line of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); 0 where there is none.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn peer(n: u8) -> SessionId {
    Identity::from_seed(&Seed::from_bytes([n; 16])).session_id()
}

/// Message `i` with `peer`: every third one outgoing, with a text of a typical chat line's length.
fn message(peer: &SessionId, i: usize) -> Message {
    let timestamp = START_MS + 60_000 * i as u64;
    let outgoing = i.is_multiple_of(3);
    let id = if outgoing {
        conversations::outgoing_id(peer, timestamp)
    } else {
        conversations::incoming_id(&format!("{:02x}{i:062x}", peer.key()[0]))
    };
    let body = format!("Message number {i} of this conversation, about as long as a chat line usually is.");
    let name = if outgoing { "Bench" } else { "Peer" };
    Message::filed(id, peer, outgoing, body, timestamp, Some(name.to_owned()))
}

/// Files `count` messages with `peer` one by one; returns the time taken.
async fn file_all<B: Backend>(vault: &Vault<&B>, peer: &SessionId, count: usize) -> Duration {
    let start = Instant::now();
    for i in 0..count {
        let m = message(peer, i);
        let unread = !m.outgoing;
        conversations::file(vault, &m, Some("Peer".to_owned()), unread, Standing::Accepted).await.unwrap();
    }
    start.elapsed()
}

/// An engine with a fresh account on `backend`, its vault holding a conversation of `count`
/// messages with `peer(1)`, one of [`PAGE`] with `peer(2)` and three of 20. The engine is left
/// unlocked; the returned vault is a second handle on the same backend.
async fn filled<B: Backend + 'static>(backend: B, count: usize) -> Engine<Native<B>> {
    let world = World { transport: Offline, clock: SystemClock, secure_page: false };
    let engine = Engine::<Native<B>>::new(world, backend);
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    engine.create(&Seed::from_bytes([42; 16]), "Bench", PASSPHRASE).await.unwrap();
    engine.lock();
    {
        let vault = Vault::unlock(engine.backend(), PASSPHRASE).await.unwrap();
        for other in 3..6 {
            file_all(&vault, &peer(other), 20).await;
        }
        file_all(&vault, &peer(2), PAGE).await;
        let took = file_all(&vault, &peer(1), count).await;
        println!(
            "  filed {count} messages in {:.1} s ({:.1} µs per message, conversations::file one by one)",
            took.as_secs_f64(),
            took.as_secs_f64() * 1e6 / count as f64
        );
    }
    engine.unlock(PASSPHRASE).await.unwrap();
    engine
}

fn stats(name: &str, samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!(
        "  {name:<24} median {median:>8.1} µs   best {:>8.1} µs   mean {mean:>8.1} µs   ({} rounds)",
        samples[0],
        samples.len()
    );
    median
}

async fn memory_figure(count: usize) {
    // tmpfs where there is one (its pages are not the process's), else the temporary directory.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let root = base.join(format!("hush-big-conversation-{}", std::process::id()));
    let rss_before = status_kib("VmRSS");
    let engine = filled(DirBackend::new(root.clone()), count).await;
    let rss_after = status_kib("VmRSS");
    let (messages, older) = engine.history(&peer(1), PAGE).await.unwrap();
    assert_eq!((messages.len(), older), (PAGE, true));
    let rss_opened = status_kib("VmRSS");
    let on_disk = dir_size(&root);
    println!(
        "  resident size: {:.1} MiB before filing, {:.1} MiB after filing {count} messages (+{:.2} MiB), {:.1} MiB after opening; peak {:.1} MiB",
        mib(rss_before),
        mib(rss_after),
        mib(rss_after.saturating_sub(rss_before)),
        mib(rss_opened),
        mib(status_kib("VmHWM"))
    );
    println!("  the vault on disk: {:.1} MiB of sealed records (not in the process)", on_disk as f64 / 1048576.0);
    drop(engine);
    let _ = std::fs::remove_dir_all(&root);
}

fn dir_size(root: &Path) -> u64 {
    stores::ALL
        .iter()
        .filter_map(|s| std::fs::read_dir(root.join(s)).ok())
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

async fn open_figure(count: usize) {
    let rss_before = status_kib("VmRSS");
    let engine = filled(MemoryBackend::default(), count).await;
    let stored: usize = {
        let backend = engine.backend();
        let mut total = 0;
        for store in stores::ALL {
            for key in backend.keys(store).await.unwrap() {
                total += key.len() + backend.get(store, &key).await.unwrap().map_or(0, |v| v.len());
            }
        }
        total
    };
    println!(
        "  resident size: +{:.1} MiB after filing into memory, of which {:.1} MiB are the sealed records and their keys",
        mib(status_kib("VmRSS").saturating_sub(rss_before)),
        stored as f64 / 1048576.0
    );
    let vault = Vault::unlock(engine.backend(), PASSPHRASE).await.unwrap();
    let (big, small) = (peer(1), peer(2));
    let mut taken: [Vec<f64>; 4] = Default::default();
    for round in 0..WARM_UP + ROUNDS {
        for (k, p) in [&big, &small].into_iter().enumerate() {
            let start = Instant::now();
            let (messages, _) = engine.history(p, PAGE).await.unwrap();
            let history = start.elapsed();
            assert_eq!(messages.len(), PAGE);
            let start = Instant::now();
            for m in &messages {
                let Read::Found(_) = vault.read::<Message>(stores::MESSAGES, m.id.as_bytes()).await.unwrap() else {
                    panic!("{} not found", m.id)
                };
            }
            let records = start.elapsed();
            if round >= WARM_UP {
                taken[2 * k].push(history.as_secs_f64() * 1e6);
                taken[2 * k + 1].push(records.as_secs_f64() * 1e6);
            }
        }
    }
    let [big_history, big_records, small_history, small_records] = &mut taken;
    let bh = stats(&format!("{count}: history"), big_history);
    let br = stats(&format!("{count}: 50 records"), big_records);
    let sh = stats("50: history", small_history);
    let sr = stats("50: 50 records", small_records);
    println!(
        "  ratios (medians): {count} history / its records {:.2}×, 50 history / its records {:.2}×, {count} history / 50 history {:.2}×",
        bh / br,
        sh / sr,
        bh / sh
    );
}

fn main() {
    let count = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    println!("memory (vault in files, so the process holds the engine alone):");
    block_on(memory_figure(count));
    println!("opening (vault in MemoryBackend):");
    block_on(open_figure(count));
}
