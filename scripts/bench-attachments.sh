#!/usr/bin/env bash
# The attachment ciphers on a 10,000,000-byte file, native: crypto-core (criterion,
# `cargo bench -p crypto-core --bench attachment`) next to OpenSSL (AES-CBC, HMAC and SHA-256
# through `cryptography`) and libsodium (secretstream, BLAKE2b through PyNaCl) in the same run
# (bench/reference_attachments.py). Prints a table with the ratio Hush / reference.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo bench --locked -p crypto-core --bench attachment -- --noplot >"$log" 2>/dev/null
ref=$(.venv/bin/python bench/reference_attachments.py)
# criterion prints "attachment 10 MB/<name>\n    time: [low mid high]": the middle estimate, in ms.
hush() {
  awk -v name="attachment 10 MB/$1" '
    index($0, name) == 1 { found = 1 }
    found && /time:/ {
      sub(/.*\[/, ""); split($0, f, " "); v = f[3]; u = f[4]
      if (u == "µs") v /= 1000; else if (u == "s") v *= 1000
      printf "%.1f", v; exit
    }' "$log"
}
printf '| 10 MB | Hush (ms, criterion mean) | reference (ms, best of 5) | ratio |\n|---|---|---|---|\n'
for op in encrypt_legacy decrypt_legacy encrypt_deterministic decrypt_deterministic; do
  h=$(hush "$op"); r=$(printf '%s\n' "$ref" | awk -v k="$op" '$1 == k { print $2 }')
  printf '| %s | %s | %s | %s |\n' "$op" "$h" "$r" "$(awk -v h="$h" -v r="$r" 'BEGIN { printf "%.2f×", h / r }')"
done
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
