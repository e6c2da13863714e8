#!/usr/bin/env bash
# Sets up what is missing, builds the app, and runs Hush on its local network:
# 12 service nodes (HTTPS), the seed, and the relay serving the app at http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
trunk build --release
cargo build --release --locked -p hush-node
exec "${CARGO_TARGET_DIR:-target}/release/hush-node" devnet --static dist --data .devnet "$@"
