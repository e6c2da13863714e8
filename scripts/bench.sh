#!/usr/bin/env bash
# Native benchmarks next to libsodium, in the same run: criterion for crypto-core, then the same
# operations through PyNaCl (libsodium). Prints a table with the ratio Hush / libsodium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
log=$(mktemp)
cargo bench --locked -p crypto-core --bench seal -- --noplot 2>/dev/null | tee "$log" | grep -E 'time:' >/dev/null || true
ref=$(.venv/bin/python bench/reference_libsodium.py)

# criterion prints "<name>\n    time: [low mid high]"; take the middle estimate, in µs.
hush() {
  awk -v name="$1" '
    index($0, name) == 1 { found = 1 }
    found && /time:/ {
      sub(/.*\[/, ""); split($0, f, " "); v = f[3]; u = f[4]
      if (u == "ns") v /= 1000; else if (u == "ms") v *= 1000
      printf "%.2f", v; exit
    }' "$log"
}
lib() { printf '%s\n' "$ref" | awk -v k="$1" '$1 == k { print $2 }'; }

printf '| operation | Hush native (µs) | libsodium via PyNaCl (µs) | ratio |\n|---|---|---|---|\n'
row() {
  local h l; h=$(hush "$2"); l=$(lib "$3")
  printf '| %s | %s | %s | %s |\n' "$1" "$h" "$l" "$(awk -v h="$h" -v l="$l" 'BEGIN { printf "%.2f×", h / l }')"
}
row "seal 1 KB (sign + sealed box)" "seal 1 KB" seal
row "open 1 KB (open + verify + sender key)" "open 1 KB" open
row "decode a 13-word phrase (reference: pure Python)" "decode 13-word phrase" phrase
printf '\nfull pipeline, 1 KB body: seal_message %s µs, open_message %s µs\n' \
  "$(hush "seal_message 1 KB")" "$(hush "open_message 1 KB")"
rm -f "$log"
