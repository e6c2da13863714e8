#!/usr/bin/env bash
# Runs every test. (Interim version: native tests and the wasm32 build of crypto-core; the browser
# and end-to-end stages join when the app's tooling lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo test --workspace --locked
cargo build --locked -p crypto-core --target wasm32-unknown-unknown
