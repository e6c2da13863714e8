#!/usr/bin/env bash
# Runs every test. (Interim version: native tests, the wasm32 build of crypto-core and the
# compatibility test; the browser and end-to-end stages join when the app's tooling lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv .venv; }
fi
.venv/bin/pip install -q --disable-pip-version-check -r tests/compat/requirements.txt

cargo test --workspace --locked
cargo build --locked -p crypto-core --target wasm32-unknown-unknown
cargo build --locked -p hush-node
.venv/bin/python -m pytest -q -p no:cacheprovider tests/compat
