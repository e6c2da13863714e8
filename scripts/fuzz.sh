#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for N executions each (default 1,000,000; the recorded runs in
# BENCHMARKS.md use 10,000,000) with cargo-fuzz on the nightly toolchain, one target at a time.
# Usage: scripts/fuzz.sh [RUNS] [TARGET...]
# Without AddressSanitizer (`-s none`; the code is safe Rust, and ASan made the onion targets
# about 3× slower); FUZZ_SANITIZER=address brings it back.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_FUZZ_VERSION=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
sanitizer=${FUZZ_SANITIZER:-none}
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(phrase_decode open_message storage_data onion_peel attachment_decrypt
  bencode_decode config_message config_read community_reply community_request
  node_rpc node_onion node_files node_sogs node_lists vault_records vault_migrations)
for t in "${targets[@]}"; do
  echo "==> $t ($runs runs)"
  start=$(date +%s)
  log=$(mktemp)
  # corpus/<target> grows with what the fuzzer finds (not committed); seeds/<target> are a few
  # well-formed inputs (written by hand, or by the fuzz_smoke tests' `write_fuzz_seeds`) so that
  # it starts from the shapes the parsers expect.
  mkdir -p "corpus/$t"
  if ! cargo +nightly fuzz run -s "$sanitizer" -O "$t" "corpus/$t" "seeds/$t" -- \
    -runs="$runs" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "FUZZ FAILURE in $t (artifacts in fuzz/artifacts/$t)"
    exit 1
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::number_of_executed_units)' "$log" || tail -3 "$log"
  echo "    wall time: $(( $(date +%s) - start )) s"
  rm -f "$log"
done
