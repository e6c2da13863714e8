#!/usr/bin/env bash
# Seal/open of a 1 KB message inside headless Chromium (release build of crypto-core for wasm32),
# next to native libsodium (PyNaCl) measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" CHROMEDRIVER=/usr/bin/chromedriver
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
browser=$(cargo test --locked --release -p crypto-core --target wasm32-unknown-unknown --test browser_bench -- --nocapture 2>/dev/null | grep '^BENCH')
ref=$(.venv/bin/python bench/reference_libsodium.py)
get() { printf '%s\n' "$1" | awk -v k="$2" '{ if ($1 == "BENCH") { n = $2; v = $3 } else { n = $1; v = $2 } } n == k { print v }'; }
printf '| operation | Hush in Chromium (µs) | native libsodium (µs) | ratio |\n|---|---|---|---|\n'
for op in seal open; do
  b=$(get "$browser" "$op"); l=$(get "$ref" "$op")
  printf '| %s 1 KB | %s | %s | %s |\n' "$op" "$b" "$l" "$(awk -v b="$b" -v l="$l" 'BEGIN { printf "%.2f×", b / l }')"
done
printf '| decode a 13-word phrase | %s | %s (pure Python) | |\n' "$(get "$browser" phrase)" "$(get "$ref" phrase)"
