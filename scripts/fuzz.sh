#!/usr/bin/env bash
# Fuzzes every crypto-core target for N executions each (default 1,000,000) with cargo-fuzz on
# the nightly toolchain. Usage: scripts/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../crypto-core/fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_FUZZ_VERSION=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(phrase_decode open_message storage_data onion_peel)
for t in "${targets[@]}"; do
  echo "==> $t ($runs runs)"
  start=$(date +%s)
  log=$(mktemp)
  # corpus/<target> grows with what the fuzzer finds (not committed); seeds/<target> are a few
  # well-formed inputs written by hand so that it starts from the shapes the parsers expect.
  mkdir -p "corpus/$t"
  if ! cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -runs="$runs" -max_len=4096 >"$log" 2>&1; then
    tail -40 "$log"
    echo "FUZZ FAILURE in $t (artifacts in crypto-core/fuzz/artifacts/$t)"
    exit 1
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$log" || tail -3 "$log"
  echo "    wall time: $(( $(date +%s) - start )) s"
  rm -f "$log"
done
