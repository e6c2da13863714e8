#!/usr/bin/env bash
# Runs every test: formatting and lints, native (crypto-core vectors, the engine, node, house rules),
# crypto-core and the vault in headless Chromium, the session-python compatibility test, the
# end-to-end tests on the built app, and the deployment examples.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CHROMEDRIVER=/usr/bin/chromedriver
# A clean run (CI) builds everything once: incremental state would only take disk, and a CI
# machine once ran out of it.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
# The IndexedDB suite (Argon2 in wasm, migrations cut at many points) needs more than the
# runner's default 20 s on a busy 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"

passed=0 failed=0 failures=()
stage() {
  local name=$1; shift
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

# The lints are part of the rules: outside tests, crypto-core denies unwrap, expect, panic and
# slice indexing (untrusted input never panics), and every warning is an error.
stage "format (cargo fmt --check)" cargo fmt --all --check
stage "lints (clippy, native and wasm32)" sh -c \
  'cargo clippy --locked --workspace --all-targets --all-features -- -D warnings &&
   cargo clippy --locked -p crypto-core -p hush-client -p app --lib --tests --target wasm32-unknown-unknown -- -D warnings'
# --all-features: the engine's tests against a devnet need its `native` and `testing` features.
# Its output is long: the lines that name a failure are printed again at the end, where a CI
# log's tail shows them.
native_log="$(mktemp)"
native() {
  cargo test --workspace --locked --all-features --no-fail-fast 2>&1 | tee "$native_log"
  return "${PIPESTATUS[0]}"
}
stage "native tests (cargo test --workspace)" native
stage "crypto-core in headless Chromium" \
  cargo test --locked -p crypto-core --target wasm32-unknown-unknown --test browser
stage "app storage on IndexedDB in headless Chromium" \
  cargo test --locked -p app --target wasm32-unknown-unknown --test web
stage "build hush-node and hush" cargo build --locked -p hush-node -p hush-cli
stage "session-python compatibility" .venv/bin/python -m pytest -q -p no:cacheprovider tests/compat
stage "build the app (trunk --release)" trunk build --release
stage "end-to-end (Playwright, Chromium)" node --test --test-concurrency=1 tests/e2e/
stage "deployment examples (nginx in front of the relay, systemd unit)" tests/deploy/reverse_proxy.sh

printf '\n'
if grep -qE "^test .* FAILED|overflowed its stack|error: test failed" "$native_log"; then
  printf 'What failed in the native tests:\n'
  grep -E "^test .* FAILED|panicked at|overflowed its stack|error: test failed|^error\[" "$native_log" | head -40
fi
rm -f "$native_log"
for f in "${failures[@]}"; do printf 'FAILED: %s\n' "$f"; done
printf 'stages: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
