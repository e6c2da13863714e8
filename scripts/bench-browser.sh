#!/usr/bin/env bash
# Seal/open of a 1 KB message inside headless Chromium, built with the profile the app ships
# (wasm-release), next to two references measured in the same run: libsodium compiled to
# WebAssembly (libsodium.js, bench/browser_reference.mjs) in the same Chromium with the same clock,
# warm-up and batches — the like-for-like figure — and native libsodium (PyNaCl,
# bench/reference_libsodium.py). Every side reports the best short batch and the mean.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" CHROMEDRIVER=/usr/bin/chromedriver
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# setup.sh runs npm ci only when its own tools are missing; libsodium.js came later.
want=$(node -p 'require("./package.json").devDependencies["libsodium-wrappers"]')
have=$(node -p 'try { require("./node_modules/libsodium-wrappers/package.json").version } catch { "" }')
[ "$want" = "$have" ] || npm ci --no-audit --no-fund --loglevel=error
.venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
browser=$(cargo test --locked --profile wasm-release -p crypto-core --target wasm32-unknown-unknown \
  --test browser_bench -- --nocapture 2>/dev/null | grep '^BENCH')
wasmref=$(node bench/browser_reference.mjs)
ref=$(.venv/bin/python bench/reference_libsodium.py)
# Lines are "BENCH name best mean" (both browser sides) and "name mean best" (native reference).
best() { printf '%s\n' "$1" | awk -v k="$2" '$1 == "BENCH" && $2 == k { print $3 } $1 == k { print $3 }'; }
mean() { printf '%s\n' "$1" | awk -v k="$2" '$1 == "BENCH" && $2 == k { print $4 } $1 == k { print $2 }'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v b="$1" -v l="$2" 'BEGIN { printf "%.2f×", b / l }' || printf '—'; }
or_dash() { [ -n "$1" ] && printf '%s' "$1" || printf '—'; }
printf '| operation | Hush in Chromium (µs) | libsodium.js in Chromium (µs) | ratio | native libsodium (µs) | ratio | libsodium.js / native |\n'
printf '|---|---|---|---|---|---|---|\n'
for op in seal open phrase; do
  label="$op 1 KB"; [ "$op" = phrase ] && label="decode a 13-word phrase (native column: pure Python)"
  for stat in best mean; do
    h=$($stat "$browser" "$op"); w=$($stat "$wasmref" "$op"); n=$($stat "$ref" "$op")
    printf '| %s, %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$stat" "$h" "$(or_dash "$w")" "$(ratio "$h" "$w")" \
      "$n" "$(ratio "$h" "$n")" "$(ratio "$w" "$n")"
  done
done
printf '\nWhere the time goes, in Chromium (best / mean µs):\n\n'
printf '| part | Hush | libsodium.js | ratio (best) |\n|---|---|---|---|\n'
for part in $(printf '%s\n' "$browser" | awk '$2 ~ /^part:/ { print $2 }'); do
  hb=$(best "$browser" "$part"); hm=$(mean "$browser" "$part"); wb=$(best "$wasmref" "$part"); wm=$(mean "$wasmref" "$part")
  printf '| %s | %s / %s | %s / %s | %s |\n' "${part#part:}" "$hb" "$hm" "$(or_dash "$wb")" "$(or_dash "$wm")" "$(ratio "$hb" "$wb")"
done
printf '\nlibsodium.js only (best / mean µs):\n'
printf '%s\n' "$wasmref" | awk '$2 ~ /^extra:/ { sub(/^extra:/, "", $2); printf "- %s: %s / %s\n", $2, $3, $4 }'
