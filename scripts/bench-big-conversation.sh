#!/usr/bin/env bash
# Opening a conversation that holds 100,000 messages, and a list of 1,000 conversations
# (BENCHMARKS.md, "Opening a conversation that holds 100,000 messages").
#  1. In headless Chromium on IndexedDB (app/tests/bench_big_conversation.rs, built with the profile
#     the app ships): a fresh account files the messages one by one, then the engine's open of the
#     newest 50 is timed against reading the same 50 records by id, and against a conversation of
#     50; the wasm memory before and after filing. Then another account gets 1,000 conversations,
#     and the engine's list of them is timed against reading their records at once. Each fills
#     the app's own database ("hush") in a Chromium profile of its own, served from one fixed
#     loopback origin, so that
#  2. the real app, served from that same origin by a devnet, opens those databases in those
#     profiles (bench/big_conversation.mjs), at 390 px (one pane) and 1280 px (two panes): unlock →
#     every row of the list on screen, 1,000 against 5; click → newest message on screen, for the
#     big conversation, the 50-message one, and the 50-message one in the list of 1,000.
#  3. Natively (client/examples/big_conversation.rs): memory after filing, and the open time.
# HUSH_BENCH_MESSAGES sets the size (default 100000); HUSH_DIST a built app to use instead of
# building one; HUSH_NODE a hush-node binary; HUSH_BENCH_TRACE=1 adds a Chromium trace of one
# unlock of each list. Prints progress; takes some minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" TRUNK_SKIP_VERSION_CHECK=true
export HUSH_BENCH_MESSAGES="${HUSH_BENCH_MESSAGES:-100000}" HUSH_BENCH_DB=hush
# HUSH_BENCH_WORK keeps the Chromium profiles (with the filled databases) and the build there.
if [ -n "${HUSH_BENCH_WORK:-}" ]; then
  work="$HUSH_BENCH_WORK" && mkdir -p "$work" && rm -rf "$work/profile" "$work/profile-list"
else
  work=$(mktemp -d /tmp/hush-big-conversation.XXXXXX) && trap 'rm -rf "$work"' EXIT
fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
for p in profile profile-list; do
  printf '{"goog:chromeOptions": {"args": ["--user-data-dir=%s/%s"]}}\n' "$work" "$p" >"$work/$p.json"
done
# Runs one test of app/tests/bench_big_conversation.rs in the Chromium profile $1.
in_chromium() {
  WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$port" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$work/$1.json" \
    WASM_BINDGEN_TEST_TIMEOUT=7200 \
    cargo test --locked --profile wasm-release -p app --target wasm32-unknown-unknown \
    --test bench_big_conversation -- --include-ignored --nocapture "$2" 2>&1 |
    grep --line-buffered -E '^(BENCH|INFO|PROGRESS)|test result|panicked'
}

echo "== 1. in Chromium, on IndexedDB ($HUSH_BENCH_MESSAGES messages; origin http://127.0.0.1:$port)"
in_chromium profile opening_a_conversation_of_100_000_messages
echo "== 1b. in Chromium, on IndexedDB: 1,000 conversations (another profile, the same origin)"
in_chromium profile-list listing_1000_conversations

echo "== 2. the app in Chromium, 390 and 1280 px: unlock → the list; open a conversation → newest message on screen"
if [ -z "${HUSH_DIST:-}" ]; then
  trunk build --release --dist "$work/dist" >"$work/trunk.log" 2>&1 || { cat "$work/trunk.log"; exit 1; }
  export HUSH_DIST="$work/dist"
fi
if [ -z "${HUSH_NODE:-}" ]; then
  cargo build --locked -p hush-node 2>/dev/null
fi
HUSH_BENCH_PROFILE="$work/profile" HUSH_BENCH_LIST_PROFILE="$work/profile-list" HUSH_BENCH_PORT="$port" \
  node bench/big_conversation.mjs

echo "== 3. native (MemoryBackend for the open; a directory of files for the memory)"
cargo run --locked --release -p hush-client --example big_conversation -- "$HUSH_BENCH_MESSAGES" 2>/dev/null
