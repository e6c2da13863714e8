// The operations crypto-core/tests/browser_bench.rs times, done by libsodium compiled to
// WebAssembly (libsodium.js, `libsodium-wrappers` pinned in package.json) in the same headless
// Chromium, timed inside the page with the same clock, warm-up and batches. This is the
// like-for-like reference for Hush's wasm build; bench/reference_libsodium.py is the native one.
//
// seal: crypto_sign_detached over M ‖ A ‖ Y, then crypto_box_seal of M ‖ A ‖ SIG to Y.
// open: crypto_box_seal_open, crypto_sign_verify_detached over M ‖ A ‖ Y, and
//       crypto_sign_ed25519_pk_to_curve25519(A) for the sender's Session ID.
// M is 1,024 bytes of 0x61 and the keys come from the seeds [1; 32] (sender) and [2; 32]
// (recipient), as in browser_bench.rs.
//
// Prints "BENCH name best mean" (µs per operation), the format of browser_bench.rs; the "extra:"
// lines have no counterpart there.
// Run: node bench/browser_reference.mjs   (after `npm ci`; scripts/bench-browser.sh runs it)
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { launchBrowser } from "../tests/e2e/harness.mjs";

const require = createRequire(import.meta.url);
const wrappersPath = require.resolve("libsodium-wrappers");
const files = {
  "/libsodium.js": readFileSync(createRequire(wrappersPath).resolve("libsodium")),
  "/libsodium-wrappers.js": readFileSync(wrappersPath),
  "/": Buffer.from('<!doctype html><meta charset="utf-8"><title>libsodium.js reference</title>' +
    '<link rel="icon" href="data:,">' +
    '<script src="/libsodium.js"></script><script src="/libsodium-wrappers.js"></script>'),
};
// dist/modules/libsodium-wrappers.js → the package's package.json (not among its exports).
const version = JSON.parse(readFileSync(join(wrappersPath, "..", "..", "..", "package.json"))).version;

// Served from loopback with the headers wasm-bindgen-test-runner also sends, so that this page is
// cross-origin isolated like the one browser_bench.rs runs in: there performance.now() has
// Chromium's fine (5 µs) granularity instead of its coarse (100 µs) one.
const server = createServer((req, res) => {
  const body = files[req.url];
  res.writeHead(body ? 200 : 404, {
    "Content-Type": req.url === "/" ? "text/html" : "text/javascript",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
  });
  res.end(body ?? "");
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));

const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  // Counts WebAssembly instances, to show libsodium.js runs its wasm build and not its fallback.
  await page.addInitScript(() => {
    window.__wasmInstances = 0;
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...args) => {
      const result = await instantiate.apply(WebAssembly, args);
      window.__wasmInstances += 1;
      return result;
    };
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(bench);
  if (problems.length) throw new Error(problems.join("\n"));
  console.error(`# libsodium.js ${version} (libsodium ${result.libsodium}), ` +
    `${result.wasm ? "WebAssembly" : "NOT WebAssembly"}, crossOriginIsolated ${result.isolated}, ` +
    `Chromium ${browser.version()}`);
  if (!result.wasm || !result.isolated) {
    throw new Error("libsodium.js did not run as WebAssembly in a cross-origin isolated page");
  }
  for (const line of result.lines) console.log(line);
} finally {
  await browser.close();
  server.close();
}

/** Runs inside the page. */
async function bench() {
  const s = window.sodium;
  await s.ready;
  const fill = (n, byte) => new Uint8Array(n).fill(byte);
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  const M = fill(1024, 0x61);
  const alice = s.crypto_sign_seed_keypair(fill(32, 1));
  const bob = s.crypto_sign_seed_keypair(fill(32, 2));
  const A = alice.publicKey;
  const Y = s.crypto_sign_ed25519_pk_to_curve25519(bob.publicKey);
  const ySecret = s.crypto_sign_ed25519_sk_to_curve25519(bob.privateKey);

  function seal() {
    const signed = new Uint8Array(M.length + 64);
    signed.set(M);
    signed.set(A, M.length);
    signed.set(Y, M.length + 32);
    const sig = s.crypto_sign_detached(signed, alice.privateKey);
    const inner = new Uint8Array(M.length + 96);
    inner.set(M);
    inner.set(A, M.length);
    inner.set(sig, M.length + 32);
    return s.crypto_box_seal(inner, Y);
  }

  function open(sealed, y = Y, secret = ySecret) {
    const inner = s.crypto_box_seal_open(sealed, y, secret);
    const n = inner.length - 96;
    const a = inner.subarray(n, n + 32);
    const signed = new Uint8Array(n + 64);
    signed.set(inner.subarray(0, n + 32));
    signed.set(y, n + 32);
    if (!s.crypto_sign_verify_detached(inner.subarray(n + 32), signed, a)) throw new Error("bad signature");
    return { plaintext: inner.subarray(0, n), sender: s.crypto_sign_ed25519_pk_to_curve25519(a) };
  }

  // Correct before timed: what is sealed opens to M from A, the signature covers Y, and a changed
  // byte is refused.
  const sealed = seal();
  if (sealed.length !== 32 + 16 + 1024 + 32 + 64) throw new Error(`sealed length ${sealed.length}`);
  const opened = open(sealed);
  if (!equal(opened.plaintext, M)) throw new Error("opened plaintext differs");
  if (!equal(opened.sender, s.crypto_sign_ed25519_pk_to_curve25519(A))) throw new Error("sender key differs");
  const inner = s.crypto_box_seal_open(sealed, Y, ySecret);
  const signed = new Uint8Array(1024 + 64);
  signed.set(inner.subarray(0, 1024 + 32));
  signed.set(fill(32, 0), 1024 + 32);
  if (s.crypto_sign_verify_detached(inner.subarray(1024 + 32), signed, A)) throw new Error("signature ignores Y");
  const tampered = sealed.slice();
  tampered[100] ^= 1;
  let refused = false;
  try { open(tampered); } catch { refused = true; }
  if (!refused) throw new Error("a tampered box opened");

  // What seal and open are made of, as in browser_bench.rs.
  const secret = fill(32, 7);
  const point = s.crypto_scalarmult_base(fill(32, 9));
  const signed1120 = fill(1120, 0x61);
  const signature = s.crypto_sign_detached(signed1120, alice.privateKey);
  if (!s.crypto_sign_verify_detached(signature, signed1120, A)) throw new Error("part: bad signature");

  const ops = [
    ["seal", 20, () => seal()],
    ["open", 20, () => open(sealed)],
    ["part:x25519", 20, () => s.crypto_scalarmult(secret, point)],
    ["part:x25519_base", 20, () => s.crypto_scalarmult_base(secret)],
    ["part:ed25519_sign_1120", 20, () => s.crypto_sign_detached(signed1120, alice.privateKey)],
    ["part:ed25519_verify_1120", 20, () => s.crypto_sign_verify_detached(signature, signed1120, A)],
    ["part:ed25519_to_x25519", 20, () => s.crypto_sign_ed25519_pk_to_curve25519(A)],
    // libsodium.js only: its random source (crypto_box_seal draws its ephemeral key from it).
    ["extra:randombytes_buf_32", 20, () => s.randombytes_buf(32)],
    ["extra:getRandomValues_32", 20, () => crypto.getRandomValues(new Uint8Array(32))],
  ].map(([name, batch, run]) => ({ name, batch, run, best: Infinity, total: 0, calls: 0 }));

  // browser_bench.rs's time_all: two seconds of warm-up (V8 tiers WebAssembly up in the
  // background), then 15 interleaved rounds of one batch per operation.
  let sink = 0;
  const warm = performance.now();
  while (performance.now() - warm < 2000) {
    for (const op of ops) sink ^= op.run() ? 1 : 0;
  }
  for (let round = 0; round < 15; round++) {
    for (const op of ops) {
      const start = performance.now();
      for (let i = 0; i < op.batch; i++) sink ^= op.run() ? 1 : 0;
      const micros = (performance.now() - start) * 1000;
      op.best = Math.min(op.best, micros / op.batch);
      op.total += micros;
      op.calls += op.batch;
    }
  }
  return {
    libsodium: s.SODIUM_VERSION_STRING,
    // The fallback module replaces every property of the wasm one, useBackupModule included.
    wasm: window.__wasmInstances > 0 && typeof window.libsodium.useBackupModule === "function",
    isolated: window.crossOriginIsolated,
    sink,
    lines: ops.map((op) => `BENCH ${op.name} ${op.best.toFixed(2)} ${(op.total / op.calls).toFixed(2)}`),
  };
}
