//! Opening a conversation that holds 100,000 messages, in headless Chromium on IndexedDB.
//! Not a test of correctness, and not run by the test command (`#[ignore]`): run it with
//! `scripts/bench-big-conversation.sh`, which builds it with the profile the app ships
//! (`wasm-release`) and passes `--include-ignored`.
//!
//! On a fresh IndexedDB database, an engine with a fresh account gets one conversation of
//! `HUSH_BENCH_MESSAGES` messages (100,000 unless set at build time), filed one by one with
//! `conversations::file` (what the inbox does for each message), beside a few small ones. Then,
//! timed in the page with `performance.now()` after a warm-up, in interleaved rounds:
//! - `big/history`: the engine opening the big conversation (`Engine::history`, the newest 50,
//!   what the conversation view asks for when it opens);
//! - `big/records`: the reference, the same 50 message records read by their ids straight from
//!   the vault on the same backend, one after another (what any index must still read), and
//!   `big/records-at-once`, the same 50 reads issued together;
//! - `small/…`: the same for a conversation of 50 messages.
//!
//! It also prints the wasm memory (`WebAssembly.Memory`'s buffer, which only grows: the high-water
//! mark) before and after filing, and the engine's `conversations()` (the list Home shows) for
//! these 5 conversations. With `HUSH_BENCH_DB=hush` it files into the app's own database, so
//! `bench/big_conversation.mjs` can open it in the real app (same Chromium profile and origin).
//!
//! The second test, `listing_1000_conversations`, fills another database (another Chromium
//! profile when the script runs it) with 1,000 conversations of 1 to 3 messages each, names and
//! previews of many lengths and scripts, some pinned, muted, with a nickname or unread, and among
//! them the same 50-message "Small conversation"; then it times the engine's `conversations()`
//! against reading the same 1,000 records at once, the floor of any list.

#![cfg(target_arch = "wasm32")]

use app::platform::{AppEngine, world};
use app::storage::IdbBackend;
use crypto_core::identity::{Identity, Seed, SessionId};
use crypto_core::vault::KdfParams;
use hush_client::conversations::{self, Message, Standing};
use hush_client::storage::{Read, Vault, stores};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The passphrase of the bench account (the Playwright half unlocks with it).
const PASSPHRASE: &str = "a long enough passphrase";
/// Messages the conversation view asks for when it opens (`app::session::PAGE`).
const PAGE: usize = app::session::PAGE;
/// Timed rounds after the warm-up.
const ROUNDS: usize = 25;
/// Untimed rounds first.
const WARM_UP: usize = 5;
/// The first message's timestamp (2026-01-01), then one message a minute.
const START_MS: u64 = 1_767_225_600_000;

fn big_count() -> usize {
    option_env!("HUSH_BENCH_MESSAGES").and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn db_name() -> &'static str {
    option_env!("HUSH_BENCH_DB").unwrap_or("hush-bench-big-conversation")
}

fn list_db_name() -> &'static str {
    option_env!("HUSH_BENCH_DB").unwrap_or("hush-bench-list")
}

/// `performance.now()` in milliseconds.
fn now() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into()).unwrap().into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

/// The size of the wasm linear memory, in bytes.
fn wasm_memory() -> u32 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length()
}

fn mib(bytes: u32) -> f64 {
    f64::from(bytes) / (1024.0 * 1024.0)
}

fn peer(n: u8) -> SessionId {
    Identity::from_seed(&Seed::from_bytes([n; 16])).session_id()
}

/// Message `i` of a conversation with `peer`: every third one outgoing, the rest incoming, with a
/// text of a typical chat line's length.
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

/// Files `count` messages into the conversation with `peer` (named `name`) one by one, as the inbox files each
/// message; prints progress every `report` messages. Returns the milliseconds taken.
async fn file_all(vault: &Vault<&IdbBackend>, peer: &SessionId, name: &str, count: usize, report: usize) -> f64 {
    let start = now();
    let mut last = start;
    for i in 0..count {
        let m = message(peer, i);
        let unread = !m.outgoing;
        conversations::file(vault, &m, Some(name.to_owned()), unread, Standing::Accepted).await.unwrap();
        if (i + 1).is_multiple_of(report) {
            let t = now();
            console_log!(
                "PROGRESS filed {} of {count} ({:.2} ms per message over the last {report}, {:.0} s so far, wasm memory {:.1} MiB)",
                i + 1,
                (t - last) / report as f64,
                (t - start) / 1000.0,
                mib(wasm_memory())
            );
            last = t;
        }
    }
    now() - start
}

/// Timings of one operation, in ms.
#[derive(Debug, Default)]
struct Samples {
    name: &'static str,
    ms: Vec<f64>,
}

impl Samples {
    fn report(&mut self) {
        self.ms.sort_by(f64::total_cmp);
        let median = self.ms[self.ms.len() / 2];
        let mean = self.ms.iter().sum::<f64>() / self.ms.len() as f64;
        let p90 = self.ms[self.ms.len() * 9 / 10];
        console_log!(
            "BENCH {} median {median:.2} ms, best {:.2} ms, mean {mean:.2} ms, p90 {p90:.2} ms, worst {:.2} ms ({} rounds)",
            self.name,
            self.ms[0],
            self.ms[self.ms.len() - 1],
            self.ms.len()
        );
    }
}

async fn history(engine: &AppEngine, peer: &SessionId) -> (f64, Vec<String>) {
    let start = now();
    let (messages, _) = engine.history(peer, PAGE).await.unwrap();
    let took = now() - start;
    assert_eq!(messages.len(), PAGE);
    (took, messages.into_iter().map(|m| m.id).collect())
}

/// The reference: the records with `ids`, read and parsed one after another.
async fn records(vault: &Vault<&IdbBackend>, ids: &[String]) -> f64 {
    let start = now();
    for id in ids {
        let Read::Found(_) = vault.read::<Message>(stores::MESSAGES, id.as_bytes()).await.unwrap() else {
            panic!("message {id} not found")
        };
    }
    now() - start
}

/// The same reads, issued together.
async fn records_at_once(vault: &Vault<&IdbBackend>, ids: &[String]) -> f64 {
    let start = now();
    let read =
        futures::future::join_all(ids.iter().map(|id| vault.read::<Message>(stores::MESSAGES, id.as_bytes()))).await;
    let took = now() - start;
    assert!(read.into_iter().all(|r| matches!(r, Ok(Read::Found(_)))));
    took
}

#[wasm_bindgen_test]
#[ignore = "a benchmark of some minutes: scripts/bench-big-conversation.sh"]
async fn opening_a_conversation_of_100_000_messages() {
    let count = big_count();
    let name = db_name();
    console_log!("INFO database {name}, {count} messages in the big conversation");
    let memory_at_start = wasm_memory();
    IdbBackend::delete_database(name).await.unwrap();
    let engine = AppEngine::new(world(), IdbBackend::open(name).await.unwrap());
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    engine.create(&Seed::from_bytes([42; 16]), "Bench", PASSPHRASE).await.unwrap();
    engine.lock();
    let memory_before = wasm_memory();

    // Filing, through a vault of its own on the engine's backend (the engine's session is not
    // open meanwhile), as the inbox does: one `conversations::file` per message.
    let vault = Vault::unlock(engine.backend(), PASSPHRASE).await.unwrap();
    let (big, small) = (peer(1), peer(2));
    for other in 3..6 {
        file_all(&vault, &peer(other), &format!("Other {other}"), 20, 20).await;
    }
    let small_ms = file_all(&vault, &small, "Small conversation", PAGE, PAGE).await;
    console_log!("INFO filed the small conversation ({PAGE} messages) in {small_ms:.0} ms");
    let big_ms = file_all(&vault, &big, "Big conversation", count, (count / 20).max(1)).await;
    let memory_after = wasm_memory();
    console_log!(
        "BENCH filing {count} messages: {:.1} s, {:.2} ms per message (conversations::file on IndexedDB, one by one)",
        big_ms / 1000.0,
        big_ms / count as f64
    );

    // Opening, by the engine (unlocked again, as after a reload) and by the reference.
    let start = now();
    engine.unlock(PASSPHRASE).await.unwrap();
    console_log!("INFO unlock (insecure test KDF): {:.1} ms", now() - start);
    let (first_big, _) = history(&engine, &big).await;
    let (first_small, _) = history(&engine, &small).await;
    console_log!("BENCH first open after unlock: big {first_big:.2} ms, small {first_small:.2} ms");
    let conversations = engine.conversations().await.unwrap();
    assert_eq!(conversations.len(), 5);

    let mut samples: Vec<Samples> = [
        "big/history",
        "big/records",
        "big/records-at-once",
        "small/history",
        "small/records",
        "small/records-at-once",
    ]
    .into_iter()
    .map(|name| Samples { name, ms: Vec::new() })
    .collect();
    for round in 0..WARM_UP + ROUNDS {
        let (big_history, big_ids) = history(&engine, &big).await;
        let big_records = records(&vault, &big_ids).await;
        let big_at_once = records_at_once(&vault, &big_ids).await;
        let (small_history, small_ids) = history(&engine, &small).await;
        let small_records = records(&vault, &small_ids).await;
        let small_at_once = records_at_once(&vault, &small_ids).await;
        assert_eq!(big_ids.last(), Some(&message(&big, count - 1).id), "not the newest message");
        if round >= WARM_UP {
            let taken = [big_history, big_records, big_at_once, small_history, small_records, small_at_once];
            for (s, ms) in samples.iter_mut().zip(taken) {
                s.ms.push(ms);
            }
        }
    }
    for s in &mut samples {
        s.report();
    }
    let median = |s: &Samples| s.ms[s.ms.len() / 2];
    console_log!(
        "BENCH ratios (medians): big history / its records {:.2}×, small history / its records {:.2}×, big history / small history {:.2}×",
        median(&samples[0]) / median(&samples[1]),
        median(&samples[3]) / median(&samples[4]),
        median(&samples[0]) / median(&samples[3])
    );
    console_log!(
        "BENCH wasm memory: {:.1} MiB at start, {:.1} MiB before filing, {:.1} MiB after filing {count} messages, {:.1} MiB after the opens",
        mib(memory_at_start),
        mib(memory_before),
        mib(memory_after),
        mib(wasm_memory())
    );
    // The list Home shows, for the reference of `listing_1000_conversations`.
    let mut list = Samples { name: "list of 5/conversations()", ms: Vec::new() };
    for round in 0..WARM_UP + ROUNDS {
        let (ms, _) = list_conversations(&engine, 5).await;
        if round >= WARM_UP {
            list.ms.push(ms);
        }
    }
    list.report();
    engine.lock();
}

/// `Engine::conversations`, timed; checks it lists `expected` conversations.
async fn list_conversations(engine: &AppEngine, expected: usize) -> (f64, Vec<conversations::Conversation>) {
    let start = now();
    let list = engine.conversations().await.unwrap();
    let took = now() - start;
    assert_eq!(list.len(), expected);
    (took, list)
}

/// Conversations in `listing_1000_conversations`, the 50-message one among them.
const LIST: usize = 1_000;
/// Where the 50-message conversation falls in the list (most recent first), about.
const SMALL_AT: usize = LIST / 2;

/// The peer of conversation `i` of the list (other seeds than [`peer`]'s).
fn list_peer(i: usize) -> SessionId {
    let mut seed = [0xB0; 16];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Identity::from_seed(&Seed::from_bytes(seed)).session_id()
}

/// A name for conversation `i`: first and family names of several scripts and lengths, some long.
fn list_name(i: usize) -> String {
    const FIRST: [&str; 16] = [
        "Ada",
        "Ben",
        "Chiara",
        "Dmitri",
        "Émilie",
        "Fatima",
        "Grzegorz",
        "Hiroshi",
        "Ines",
        "Jonas",
        "Kwame",
        "Leilani",
        "Mateo",
        "Nadia",
        "Oluwaseun",
        "Priya",
    ];
    const LAST: [&str; 11] = [
        "Lovelace",
        "Okafor",
        "van der Berg",
        "Nakamura",
        "Schmidt",
        "O'Neill",
        "Wójcik",
        "",
        "Haddad",
        "Ng",
        "Fernández",
    ];
    const OTHER: [&str; 6] = ["佐藤 花子", "محمد العلي", "Олег Петров", "יעל כהן", "🌻 Sunflower Studio 🌻", "김민준"];
    match i % 9 {
        0 => OTHER[(i / 9) % OTHER.len()].to_owned(),
        4 => format!("{} {} — the rowing club's long name {i}", FIRST[i % FIRST.len()], LAST[(i / 7) % LAST.len()]),
        _ => format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / 3) % LAST.len()]).trim().to_owned(),
    }
}

/// Message `j` of conversation `i` of the list: texts of many lengths, the newest last.
fn list_message(i: usize, j: usize, last_at: u64, count: usize) -> Message {
    const TEXT: [&str; 8] = [
        "ok",
        "See you at noon 👍",
        "Did you get the tickets for Saturday? The early train is sold out, so I took the 9:40.",
        "Thanks!",
        "The photos from the weekend are lovely — especially the one by the lake, can you send me the big version?",
        "Running ten minutes late, sorry",
        "明天见",
        "Here is the address again: 14 Harbour Street, second floor, ring twice. The door sticks a little, push hard.",
    ];
    let peer = list_peer(i);
    let timestamp = last_at - 60_000 * (count - 1 - j) as u64;
    // The newest message is outgoing in one conversation of four (nothing unread after it).
    let outgoing = if j + 1 == count { i.is_multiple_of(4) } else { j.is_multiple_of(2) };
    let id = if outgoing {
        conversations::outgoing_id(&peer, timestamp)
    } else {
        conversations::incoming_id(&format!("{:02x}{i:030x}{j:032x}", peer.key()[0]))
    };
    let body = format!("{} ({i}.{j})", TEXT[(i + j) % TEXT.len()]);
    let name = if outgoing { "Bench".to_owned() } else { list_name(i) };
    Message::filed(id, &peer, outgoing, body, timestamp, Some(name))
}

#[wasm_bindgen_test]
#[ignore = "a benchmark: scripts/bench-big-conversation.sh"]
async fn listing_1000_conversations() {
    let name = list_db_name();
    console_log!("INFO database {name}, {LIST} conversations");
    IdbBackend::delete_database(name).await.unwrap();
    let engine = AppEngine::new(world(), IdbBackend::open(name).await.unwrap());
    engine.set_kdf(KdfParams::INSECURE_FOR_TESTS);
    engine.create(&Seed::from_bytes([43; 16]), "Bench", PASSPHRASE).await.unwrap();
    engine.lock();

    let vault = Vault::unlock(engine.backend(), PASSPHRASE).await.unwrap();
    let start = now();
    let mut peers = Vec::with_capacity(LIST);
    let mut filed = 0;
    let (mut pinned, mut muted, mut nicknamed, mut unread) = (0, 0, 0, 0);
    for i in 0..LIST {
        let peer = list_peer(i);
        peers.push(peer);
        if i == SMALL_AT {
            // The same 50-message conversation as in the 5-conversation database, to open.
            file_all(&vault, &peer, "Small conversation", PAGE, PAGE).await;
            filed += PAGE;
            continue;
        }
        // Most recent first: conversation i's last message an hour before conversation i-1's;
        // the 50-message one's last (START_MS + 49 minutes) falls between SMALL_AT - 1 and SMALL_AT + 1.
        let last_at = START_MS + 3_600_000 * SMALL_AT as u64 - 3_600_000 * i as u64 + 1_800_000;
        let count = 1 + i % 3;
        for j in 0..count {
            let m = list_message(i, j, last_at, count);
            let new = !m.outgoing;
            conversations::file(&vault, &m, Some(list_name(i)), new, Standing::Accepted).await.unwrap();
            filed += 1;
        }
        if i % 97 == 3 || i % 13 == 5 || i % 17 == 7 {
            let mut c = conversations::conversation(&vault, &peer).await.unwrap().unwrap();
            c.pinned = i % 97 == 3;
            c.muted = i % 13 == 5;
            if i % 17 == 7 {
                c.nickname = Some(format!("Nick {i}"));
            }
            conversations::save(&vault, &c).await.unwrap();
        }
        if (i + 1).is_multiple_of(250) {
            console_log!(
                "PROGRESS filed {} conversations ({filed} messages) in {:.0} s",
                i + 1,
                (now() - start) / 1000.0
            );
        }
    }

    let filing = now() - start;
    let start = now();
    engine.unlock(PASSPHRASE).await.unwrap();
    console_log!("INFO unlock (insecure test KDF): {:.1} ms", now() - start);
    let (first, list) = list_conversations(&engine, LIST).await;
    for c in &list {
        pinned += usize::from(c.pinned);
        muted += usize::from(c.muted);
        nicknamed += usize::from(c.nickname.is_some());
        unread += usize::from(c.unread > 0);
    }
    let small_at = list.iter().position(|c| c.name.as_deref() == Some("Small conversation")).unwrap();
    console_log!(
        "INFO {LIST} conversations, {filed} messages, filed in {:.1} s: {pinned} pinned, {muted} muted, {nicknamed} with a nickname, {unread} unread; the 50-message one is row {}",
        filing / 1000.0,
        small_at + 1
    );
    console_log!("BENCH list of {LIST}: first conversations() after unlock {first:.2} ms");

    let mut samples: Vec<Samples> = ["list of 1000/conversations()", "list of 1000/records-at-once"]
        .into_iter()
        .map(|name| Samples { name, ms: Vec::new() })
        .collect();
    let keys: Vec<String> = peers.iter().map(ToString::to_string).collect();
    for round in 0..WARM_UP + ROUNDS {
        let (listed, _) = list_conversations(&engine, LIST).await;
        // The floor: the same 1,000 records read (and opened, and parsed) at once.
        let start = now();
        let read = futures::future::join_all(
            keys.iter().map(|k| vault.read::<conversations::Conversation>(stores::CONVERSATIONS, k.as_bytes())),
        )
        .await;
        let at_once = now() - start;
        assert!(read.into_iter().all(|r| matches!(r, Ok(Read::Found(_)))));
        if round >= WARM_UP {
            samples[0].ms.push(listed);
            samples[1].ms.push(at_once);
        }
    }
    for s in &mut samples {
        s.report();
    }
    console_log!(
        "BENCH list of {LIST}: conversations() / the same records read at once {:.2}×",
        samples[0].ms[samples[0].ms.len() / 2] / samples[1].ms[samples[1].ms.len() / 2]
    );
    engine.lock();
}
