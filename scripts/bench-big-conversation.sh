#!/usr/bin/env bash
# Opening a conversation that holds 100,000 messages (BENCHMARKS.md, "Opening a big conversation").
#  1. In headless Chromium on IndexedDB (app/tests/bench_big_conversation.rs, built with the profile
#     the app ships): a fresh account files the messages one by one, then the engine's open of the
#     newest 50 is timed against reading the same 50 records by id, and against a conversation of
#     50; the wasm memory before and after filing. It files into the app's own database ("hush")
#     in a Chromium profile of its own, served from a fixed loopback origin, so that
#  2. the real app, served from that same origin by a devnet, opens that database in that profile
#     (bench/big_conversation.mjs): unlock, then click → newest message on screen, for the big
#     conversation and the 50-message one.
#  3. Natively (client/examples/big_conversation.rs): memory after filing, and the open time.
# HUSH_BENCH_MESSAGES sets the size (default 100000); HUSH_DIST a built app to use instead of
# building one; HUSH_NODE a hush-node binary. Prints progress; takes some minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" TRUNK_SKIP_VERSION_CHECK=true
export HUSH_BENCH_MESSAGES="${HUSH_BENCH_MESSAGES:-100000}" HUSH_BENCH_DB=hush
# HUSH_BENCH_WORK keeps the Chromium profile (with the filled database) and the build there.
if [ -n "${HUSH_BENCH_WORK:-}" ]; then
  work="$HUSH_BENCH_WORK" && mkdir -p "$work" && rm -rf "$work/profile"
else
  work=$(mktemp -d /tmp/hush-big-conversation.XXXXXX) && trap 'rm -rf "$work"' EXIT
fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
printf '{"goog:chromeOptions": {"args": ["--user-data-dir=%s/profile"]}}\n' "$work" >"$work/webdriver.json"

echo "== 1. in Chromium, on IndexedDB ($HUSH_BENCH_MESSAGES messages; origin http://127.0.0.1:$port)"
WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$port" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$work/webdriver.json" \
  WASM_BINDGEN_TEST_TIMEOUT=7200 \
  cargo test --locked --profile wasm-release -p app --target wasm32-unknown-unknown \
  --test bench_big_conversation -- --include-ignored --nocapture 2>&1 | grep --line-buffered -E '^(BENCH|INFO|PROGRESS)|test result|panicked'

echo "== 2. the app in Chromium: unlock, open the conversation, newest message on screen"
if [ -z "${HUSH_DIST:-}" ]; then
  trunk build --release --dist "$work/dist" >"$work/trunk.log" 2>&1 || { cat "$work/trunk.log"; exit 1; }
  export HUSH_DIST="$work/dist"
fi
if [ -z "${HUSH_NODE:-}" ]; then
  cargo build --locked -p hush-node 2>/dev/null
fi
HUSH_BENCH_PROFILE="$work/profile" HUSH_BENCH_PORT="$port" node bench/big_conversation.mjs

echo "== 3. native (MemoryBackend for the open; a directory of files for the memory)"
cargo run --locked --release -p hush-client --example big_conversation -- "$HUSH_BENCH_MESSAGES" 2>/dev/null
