#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian machine, from package registries only:
# Debian's Chromium and ChromeDriver, python3-venv, the wasm32 target, pinned trunk and
# wasm-bindgen-cli (equal to Cargo.lock's wasm-bindgen), and npm packages from the lockfile
# (wasm-opt from binaryen 132, playwright-core). Idempotent and quick when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

trunk_bindgen=$(awk -F'"' '/^wasm_bindgen *=/ { print $2 }' Trunk.toml)
if [ "$trunk_bindgen" != "$WASM_BINDGEN_VERSION" ]; then
  echo "Trunk.toml pins wasm_bindgen $trunk_bindgen but Cargo.lock has wasm-bindgen $WASM_BINDGEN_VERSION: make them equal." >&2
  exit 1
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_apt=()
command -v chromium >/dev/null 2>&1 || missing_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing_apt+=(chromium-driver)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing_apt+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing_apt+=(nodejs npm)
command -v cc >/dev/null 2>&1 || missing_apt+=(build-essential)
# nginx and its brotli_static module: the tested deployment examples (tests/deploy/reverse_proxy.sh).
[ -x /usr/sbin/nginx ] || missing_apt+=(nginx-light)
[ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || missing_apt+=(libnginx-mod-http-brotli-static)
command -v curl >/dev/null 2>&1 || missing_apt+=(curl)
# A colour emoji font: without one, Chromium draws reactions as empty boxes in the screenshots.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing_apt+=(fonts-noto-color-emoji)
command -v openssl >/dev/null 2>&1 || missing_apt+=(openssl)
if [ ${#missing_apt[@]} -gt 0 ]; then
  say "apt-get install ${missing_apt[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

# What the rest needs and no registry here can provide: say so plainly rather than fail later.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Hush's tools need Node.js 20 or newer (playwright-core, node --test); this machine has $(node --version 2>/dev/null || echo none)." >&2
  echo "Debian 13's nodejs package is 20; on Debian 12 install Node.js 20 first." >&2
  exit 1
fi
if ! command -v rustup >/dev/null 2>&1; then
  echo "Hush builds with Rust through rustup (Rust 1.95 or newer); rustup is not on PATH." >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "cargo install trunk $TRUNK_VERSION (takes several minutes once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes once)"
  # Not --locked: its lockfile pins a webpki-roots release the registry mirror may lack.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(node_modules/.bin/wasm-opt --version 2>/dev/null)" != "wasm-opt version 132 (version_132)" ] || \
   [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x .venv/bin/python ]; then
  say "python3 -m venv .venv"
  python3 -m venv .venv
fi
# (grep reads all of pip's output: with pipefail, an early exit of grep -q would fail the pipe.)
if ! .venv/bin/pip freeze 2>/dev/null | grep -x 'session-python==1.0.5' >/dev/null; then
  say "pip install (pinned test and benchmark references)"
  .venv/bin/pip install -q --disable-pip-version-check -r tests/compat/requirements.txt
fi
