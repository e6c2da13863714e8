#!/usr/bin/env bash
# Native benchmarks next to libsodium, in the same run: criterion for crypto-core, then the same
# operations through PyNaCl (libsodium). Prints a table with the ratio Hush / libsodium, twice:
# by the mean (criterion's estimate; the mean over all batches for libsodium) and by the best
# short batch (criterion's fastest sample; libsodium's fastest batch), which is the steadier
# figure on a machine shared with other work.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
# The libsodium reference: PyNaCl pinned in bench/requirements.txt, in the project's venv.
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/python -c 'import nacl, sys; sys.exit(nacl.__version__ != "1.5.0")' 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo bench --locked -p crypto-core --bench seal -- --noplot >"$log" 2>/dev/null
ref=$(.venv/bin/python bench/reference_libsodium.py)

# criterion prints "<name>\n    time: [low mid high]"; take the middle estimate, in µs.
hush_mean() {
  awk -v name="$1" '
    index($0, name) == 1 { found = 1 }
    found && /time:/ {
      sub(/.*\[/, ""); split($0, f, " "); v = f[3]; u = f[4]
      if (u == "ns") v /= 1000; else if (u == "ms") v *= 1000
      printf "%.2f", v; exit
    }' "$log"
}
# The fastest sample criterion recorded (time / iterations), in µs.
hush_best() {
  .venv/bin/python - "$CARGO_TARGET_DIR/criterion" "$1" <<'PY'
import glob, json, os, sys
root, prefix = sys.argv[1], sys.argv[2]
for path in glob.glob(os.path.join(root, "*", "new", "sample.json")):
    if os.path.basename(os.path.dirname(os.path.dirname(path))).startswith(prefix):
        d = json.load(open(path))
        print(f"{min(t / i for t, i in zip(d['times'], d['iters'])) / 1000:.2f}")
        break
PY
}
lib() { printf '%s\n' "$ref" | awk -v k="$1" -v c="$2" '$1 == k { print $c }'; }
ratio() { awk -v h="$1" -v l="$2" 'BEGIN { printf "%.2f×", h / l }'; }

printf '| operation | Hush mean (µs) | libsodium mean (µs) | ratio | Hush best (µs) | libsodium best (µs) | ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
row() {
  local hm lm hb lb
  hm=$(hush_mean "$2"); lm=$(lib "$3" 2); hb=$(hush_best "$2"); lb=$(lib "$3" 3)
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$hm" "$lm" "$(ratio "$hm" "$lm")" "$hb" "$lb" "$(ratio "$hb" "$lb")"
}
row "seal 1 KB (sign + sealed box)" "seal 1 KB" seal
row "open 1 KB (open + verify + sender key)" "open 1 KB" open
row "decode a 13-word phrase (reference: pure Python)" "decode 13-word phrase" phrase
printf '\nfull pipeline, 1 KB body (criterion mean): seal_message %s µs, open_message %s µs\n' \
  "$(hush_mean "seal_message 1 KB")" "$(hush_mean "open_message 1 KB")"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
