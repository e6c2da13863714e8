#!/usr/bin/env bash
# Seal/open of a 1 KB message inside headless Chromium, built with the profile the app ships
# (wasm-release), next to native libsodium (PyNaCl) measured in the same run. Both sides report
# the best short batch and the mean, as scripts/bench.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" CHROMEDRIVER=/usr/bin/chromedriver
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
.venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
browser=$(cargo test --locked --profile wasm-release -p crypto-core --target wasm32-unknown-unknown \
  --test browser_bench -- --nocapture 2>/dev/null | grep '^BENCH')
ref=$(.venv/bin/python bench/reference_libsodium.py)
# Lines are "BENCH name best mean" (browser) and "name mean best" (reference).
best() { printf '%s\n' "$1" | awk -v k="$2" '$1 == "BENCH" && $2 == k { print $3 } $1 == k { print $3 }'; }
mean() { printf '%s\n' "$1" | awk -v k="$2" '$1 == "BENCH" && $2 == k { print $4 } $1 == k { print $2 }'; }
ratio() { awk -v b="$1" -v l="$2" 'BEGIN { printf "%.2f×", b / l }'; }
printf '| operation | Hush in Chromium, best (µs) | libsodium, best (µs) | ratio | Hush mean (µs) | libsodium mean (µs) | ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
for op in seal open phrase; do
  bb=$(best "$browser" "$op"); lb=$(best "$ref" "$op"); bm=$(mean "$browser" "$op"); lm=$(mean "$ref" "$op")
  label="$op 1 KB"; [ "$op" = phrase ] && label="decode a 13-word phrase (reference: pure Python)"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$bb" "$lb" "$(ratio "$bb" "$lb")" "$bm" "$lm" "$(ratio "$bm" "$lm")"
done
printf '\nWhere the time goes (Hush in Chromium, best / mean µs):\n'
printf '%s\n' "$browser" | awk '$2 ~ /^part:/ { sub(/^part:/, "", $2); printf "- %s: %s / %s\n", $2, $3, $4 }'
