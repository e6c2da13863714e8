#!/usr/bin/env bash
# Tests the example deployment in deploy/ for real, all on 127.0.0.1:
# - deploy/nginx.conf: nginx with a self-signed certificate in front of `hush-node relay`, which
#   forwards to a devnet's seed and serves the built app: /v1/nodes, the relay's CORS for the
#   proxy's origin (and no other), the relay's rate limit per client behind the proxy (nginx's
#   X-Forwarded-For with --trusted-proxy: two clients, two buckets; a client's own
#   X-Forwarded-For does not count), the HTTP → HTTPS
#   redirect, and the app with the headers hush-node sets (precompressed bytes by
#   Accept-Encoding, Vary, Cache-Control by name, the page's own CSP plus frame-ancestors);
# - deploy/nginx-static.conf: the same headers from nginx alone, serving dist/;
# - deploy/hush-relay.service: `systemd-analyze verify` (when systemd-analyze is present).
# Needs the built app (trunk build --release), hush-node (cargo build -p hush-node) and what
# scripts/setup.sh installs (nginx, its brotli_static module, curl, openssl).
# Run: tests/deploy/reverse_proxy.sh   (HUSH_NODE and HUSH_DIST override the defaults)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HUSH_NODE=${HUSH_NODE:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/hush-node}
DIST=$(realpath "${HUSH_DIST:-$ROOT/dist}")
BROTLI_MODULE=/usr/lib/nginx/modules/ngx_http_brotli_static_module.so
NGINX=${NGINX:-/usr/sbin/nginx}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
[ -x "$NGINX" ] || fail "nginx is missing (scripts/setup.sh installs it)"
for tool in openssl curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done
[ -f "$BROTLI_MODULE" ] || fail "nginx's brotli_static module is missing (scripts/setup.sh installs it)"
[ -x "$HUSH_NODE" ] || fail "no hush-node at $HUSH_NODE: cargo build -p hush-node"
[ -f "$DIST/index.html" ] || fail "no app in $DIST: trunk build --release"
wasm=$(cd "$DIST" && ls -- *_bg.wasm | head -n 1)
[ -f "$DIST/$wasm.br" ] && [ -f "$DIST/$wasm.gz" ] || fail "$DIST has no precompressed files: rebuild the app"

work=$(mktemp -d /tmp/hush-deploy-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in devnet.log relay.log nginx-error.log; do
      [ -f "$work/$log" ] && { echo "--- $log" >&2; tail -n 30 "$work/$log" >&2; }
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for DESCRIPTION COMMAND…: retries for 30 s
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$what"
}

# A devnet (its seed is what the relay asks for nodes).
"$HUSH_NODE" devnet --data "$work/devnet" --nodes 4 --base-port 0 --seed-port 0 --app-port 0 \
  --static "$DIST" >"$work/devnet.log" 2>&1 &
pids+=($!)
wait_for "the devnet did not start" test -f "$work/devnet/devnet.json"
seed=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seed_url"])' "$work/devnet/devnet.json")

relay_port=$(free_port)
https_port=$(free_port)
http_port=$(free_port)
static_port=$(free_port)
origin="https://127.0.0.1:$https_port"

# The relay as deploy/nginx.conf says to run it (a devnet seed instead of --network mainnet, and a
# --rate low enough to reach here).
"$HUSH_NODE" relay --seed "$seed" --allow-loopback-nodes --listen "127.0.0.1:$relay_port" --static "$DIST" \
  --allow-origin "$origin" --trusted-proxy 127.0.0.1/32 --rate 20 >"$work/relay.log" 2>&1 &
pids+=($!)
wait_for "the relay did not list nodes" curl -sf "http://127.0.0.1:$relay_port/v1/nodes"

# A self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# The example files, with this test's addresses, certificate and folder put in.
localize() { # localize FILE HTTPS_PORT
  sed -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
      -e "s|listen 443 ssl http2;|listen 127.0.0.1:$2 ssl http2;|" \
      -e '/listen \[::\]/d' \
      -e 's|server_name hush.example;|server_name 127.0.0.1;|' \
      -e "s|/etc/letsencrypt/live/hush.example/fullchain.pem|$work/cert.pem|" \
      -e "s|/etc/letsencrypt/live/hush.example/privkey.pem|$work/key.pem|" \
      -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$relay_port;|" \
      -e "s|root /srv/hush/dist;|root $DIST;|" "$1"
}
localize deploy/nginx.conf "$https_port" >"$work/proxy.conf"
localize deploy/nginx-static.conf "$static_port" >"$work/static.conf"
grep -q "127.0.0.1:$relay_port" "$work/proxy.conf" || fail "deploy/nginx.conf no longer names 127.0.0.1:8080"
grep -q "root $DIST;" "$work/static.conf" || fail "deploy/nginx-static.conf no longer serves /srv/hush/dist"
if grep -E 'listen +(80|443)\b|hush\.example;|/etc/letsencrypt' "$work/proxy.conf" "$work/static.conf"; then
  fail "an address or path of the examples was not replaced"
fi
mkdir -p "$work/temp"
cat >"$work/nginx.conf" <<EOF
load_module $BROTLI_MODULE;
user $(id -un) $(id -gn);
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $work/nginx-access.log;
    client_body_temp_path $work/temp/body;
    proxy_temp_path $work/temp/proxy;
    fastcgi_temp_path $work/temp/fastcgi;
    uwsgi_temp_path $work/temp/uwsgi;
    scgi_temp_path $work/temp/scgi;
    include $work/proxy.conf;
    include $work/static.conf;
}
EOF
"$NGINX" -t -q -c "$work/nginx.conf" -e "$work/nginx-error.log" || fail "nginx refuses the examples: $(cat "$work/nginx-error.log")"
"$NGINX" -c "$work/nginx.conf" -e "$work/nginx-error.log" -g "daemon off;" &
pids+=($!)
wait_for "nginx did not start" curl -sf --cacert "$work/cert.pem" "$origin/v1/nodes"

# fetch URL [CURL ARGS…]: the response's status, headers and body land in $work/{status,headers,body}.
fetch() {
  local url=$1; shift
  curl -sS --cacert "$work/cert.pem" -D "$work/headers" -o "$work/body" -w '%{http_code}' "$@" "$url" >"$work/status"
}
status() { cat "$work/status"; }
header() { grep -i "^$1:" "$work/headers" | head -n 1 | cut -d: -f2- | sed -e 's/^ *//' -e 's/\r$//'; }
expect() { # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
}
expect_header() { expect "$1: $2" "$(header "$2")" "$3"; }
expect_body() { cmp -s "$work/body" "$2" || fail "$1: the body is not $2"; }
varies() { header vary | tr 'A-Z' 'a-z' | tr -d ' ' | tr ',' '\n' | grep -qx accept-encoding || fail "$1: Vary is '$(header vary)'"; }

page_csp=$(grep -o 'http-equiv="Content-Security-Policy" content="[^"]*"' "$DIST/index.html" | sed -e 's/.*content="//' -e 's/"$//')
[ -n "$page_csp" ] || fail "dist/index.html carries no Content-Security-Policy"
csp="${page_csp%;}; frame-ancestors 'none'"
immutable="public, max-age=31536000, immutable"

# --- the relay behind nginx (deploy/nginx.conf) ---
fetch "$origin/v1/nodes"
expect "GET /v1/nodes" "$(status)" 200
count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["nodes"]))' "$work/body")
[ "$count" -ge 1 ] || fail "/v1/nodes lists no nodes"
expect_header "/v1/nodes" strict-transport-security "max-age=63072000"
pass "/v1/nodes comes through the proxy ($count nodes) with HSTS"

fetch "$origin/v1/nodes" -H "Origin: $origin"
expect_header "/v1/nodes from the proxy's origin" access-control-allow-origin "$origin"
fetch "$origin/v1/nodes" -H "Origin: https://elsewhere.example"
expect_header "/v1/nodes from another origin" access-control-allow-origin ""
guard=$(printf '%064d' 0)
fetch "$origin/v1/onion/$guard" -X OPTIONS -H "Origin: $origin" -H "Access-Control-Request-Method: POST" \
  -H "Access-Control-Request-Headers: content-type"
expect "preflight of /v1/onion" "$(status)" 200
expect_header "preflight of /v1/onion" access-control-allow-origin "$origin"
fetch "$origin/v1/onion/$guard" -X POST -H "Origin: $origin" -H "Content-Type: application/octet-stream" --data-binary x
expect "POST /v1/onion to an unknown guard" "$(status)" 404
expect "POST /v1/onion to an unknown guard" "$(cat "$work/body")" "Unknown service node"
pass "--allow-origin $origin matches the proxy's origin (CORS for it, none for another; POST passes)"

# onion FROM [CURL ARGS…]: the status of an onion POST (to an unknown guard: 404 once the relay's
# rate limit has counted it) from the client address FROM.
onion() {
  local from=$1; shift
  curl -s --cacert "$work/cert.pem" --interface "$from" -o /dev/null -w '%{http_code}' -X POST \
    -H "Origin: $origin" -H "Content-Type: application/octet-stream" --data-binary x "$@" "$origin/v1/onion/$guard"
}
# 25 from 127.0.0.1, each claiming another address in its own X-Forwarded-For (nginx replaces it):
# the relay's 20 a minute for this client run out.
codes=$(for i in $(seq 25); do onion 127.0.0.1 -H "X-Forwarded-For: 203.0.113.$i"; echo; done | sort | uniq -c)
echo "$codes" | grep -q ' 429$' || fail "25 requests from one client were not rate-limited: $codes"
echo "$codes" | grep -q ' 404$' || fail "no request from the client passed: $codes"
# Another client behind the same nginx has a bucket of its own.
expect "another client behind the proxy" "$(onion 127.0.0.2)" 404
grep -q "Too many requests" <(curl -s --cacert "$work/cert.pem" -X POST -H "Content-Type: application/octet-stream" \
  --data-binary x "$origin/v1/onion/$guard") || fail "the first client was not refused by the relay"
pass "the relay limits each client behind nginx ($(echo $codes | sed -e 's/ 404/ passed,/' -e 's/ 429/ refused/') from one; another passes)"

fetch "http://127.0.0.1:$http_port/v1/nodes"
expect "plain HTTP" "$(status)" 301
expect_header "plain HTTP" location "https://127.0.0.1/v1/nodes"
pass "plain HTTP redirects to HTTPS"

check_app() { # check_app BASE LABEL: the app's files and headers at BASE
  local base=$1 label=$2
  for path in / /index.html; do
    fetch "$base$path" -H "Accept-Encoding: br, gzip"
    expect "$label GET $path" "$(status)" 200
    expect_header "$label $path" content-encoding br
    expect_body "$label $path" "$DIST/index.html.br"
    expect_header "$label $path" cache-control no-cache
    expect_header "$label $path" content-security-policy "$csp"
    expect_header "$label $path" referrer-policy no-referrer
    expect_header "$label $path" x-content-type-options nosniff
    varies "$label $path"
  done
  fetch "$base/$wasm" -H "Accept-Encoding: gzip, deflate, br"
  expect "$label GET /$wasm" "$(status)" 200
  expect_header "$label $wasm (br)" content-encoding br
  expect_header "$label $wasm (br)" content-type application/wasm
  expect_header "$label $wasm (br)" cache-control "$immutable"
  expect_body "$label $wasm (br)" "$DIST/$wasm.br"
  varies "$label $wasm (br)"
  fetch "$base/$wasm" -H "Accept-Encoding: gzip"
  expect_header "$label $wasm (gzip)" content-encoding gzip
  expect_body "$label $wasm (gzip)" "$DIST/$wasm.gz"
  fetch "$base/$wasm"
  expect_header "$label $wasm (no Accept-Encoding)" content-encoding ""
  expect_header "$label $wasm (no Accept-Encoding)" cache-control "$immutable"
  expect_body "$label $wasm (no Accept-Encoding)" "$DIST/$wasm"
  fetch "$base/sw.js" -H "Accept-Encoding: br, gzip"
  expect "$label GET /sw.js" "$(status)" 200
  expect_header "$label sw.js" cache-control no-cache
  expect_body "$label sw.js" "$DIST/sw.js"
  fetch "$base/manifest.webmanifest"
  expect_header "$label manifest" cache-control no-cache
  expect_header "$label manifest" content-type application/manifest+json
  pass "$label: the app with its headers (br/gzip/plain by Accept-Encoding, Vary, cache by name, CSP)"
}
check_app "$origin" "through the proxy"
fetch "$origin/" -H "Accept-Encoding: br"
expect_header "the app through the proxy" strict-transport-security "max-age=63072000"

# --- static files on nginx alone (deploy/nginx-static.conf) ---
check_app "https://127.0.0.1:$static_port" "nginx-static.conf"

# --- the systemd unit ---
if command -v systemd-analyze >/dev/null; then
  sed -e "s|/usr/local/bin/hush-node|$(realpath "$HUSH_NODE")|" deploy/hush-relay.service >"$work/hush-relay.service"
  # Any complaint counts (an unknown or misspelt key is only a warning to systemd).
  if ! systemd-analyze verify "$work/hush-relay.service" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify deploy/hush-relay.service"
  fi
  exposure=$(systemd-analyze security --offline=true "$work/hush-relay.service" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  [ -n "$exposure" ] || fail "systemd-analyze security gave no exposure level"
  python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 2.0)' "$exposure" \
    || fail "deploy/hush-relay.service: exposure $exposure (systemd-analyze security), wanted at most 2.0"
  pass "deploy/hush-relay.service: systemd-analyze verify is silent; exposure $exposure (systemd-analyze security)"
fi
echo "deploy examples: all checks passed"
