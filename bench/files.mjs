// Figures for files (issue 13): in Chromium, through a devnet (relay → guard → two hops → file
// server), with WebCrypto's AES-CBC in the same page as the reference:
//   1. sending a 10,000,000-byte file: from Send to the message stored (encrypted in wasm, kept in
//      IndexedDB, uploaded through an onion path, the message sealed and stored), in MB/s;
//   2. the page's peak memory while doing so (the renderer's peak resident set, Linux's VmHWM,
//      reset just before Send), against the goal of at most 3× the file;
//   3. a 5,000,000-byte picture at the recipient: from the message on screen to the picture
//      painted (downloaded through an onion path, checked, decrypted, kept, decoded).
// Run: node bench/files.mjs   (after `trunk build --release` and `cargo build -p hush-node`;
// starts its own devnet). RUNS=n repeats 1 and 3 (default 3) and prints the median.
import { readFileSync, writeFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { startDevnet, launchBrowser } from "../tests/e2e/harness.mjs";
import { createAccount, openChat } from "../tests/e2e/people.mjs";

const RUNS = Number(process.env.RUNS ?? 3);
const FILE = 10_000_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A PNG of `w` × `h` random pixels (incompressible: about 3 bytes a pixel). */
function noisePng(w, h) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, "latin1"), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < h; y++) rows.push(Buffer.from([0]), randomBytes(w * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 0 })), chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The browser's renderer processes (pids), from the process table. */
function renderers() {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes("--type=renderer")).map((l) => Number(l.trim().split(/\s+/)[0]));
}
const status = (pid, field) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(field));
    return Number(line.split(/\s+/)[1]) * 1024;
  } catch { return 0; }
};
/** Resets the peak resident set of `pid` (Linux: writing 5 to clear_refs). */
const resetPeak = (pid) => { try { writeFileSync(`/proc/${pid}/clear_refs`, "5"); } catch { /* gone */ } };

const devnet = await startDevnet({ nodes: 6 });
const browser = await launchBrowser();
const alice = await (await browser.newContext()).newPage();
// The app's WebAssembly memory (Trunk hands the instance's exports to this event).
await alice.addInitScript(() => {
  addEventListener("TrunkApplicationStarted", (e) => { window.__wasm = e.detail.wasm; });
});
const bob = await (await browser.newContext()).newPage();
await createAccount(alice, devnet.appUrl, "Alice");
const { id: bobId } = await createAccount(bob, devnet.appUrl, "Bob");
await openChat(alice, bobId);
// Warm: paths built, the swarm known.
await alice.getByTestId("composer").fill("warm up");
await alice.getByTestId("send").click();
await alice.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').first().waitFor({ timeout: 60000 });

// The reference: WebCrypto AES-256-CBC over 10,000,000 bytes in the same page.
const webcrypto = await alice.evaluate(async (n) => {
  const key = await crypto.subtle.generateKey({ name: "AES-CBC", length: 256 }, false, ["encrypt"]);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(n, i + 65536)));
  const times = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await crypto.subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, key, data);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[1];
}, FILE);

/** Sends one file; returns the times (ms) from Send to the message on screen (the file encrypted
 *  and kept), to its file uploaded, and to the message stored. Samples the page's memory meanwhile
 *  (`samples`: the largest WebAssembly memory and JS heap seen). */
async function sendFile(page, name, mimeType, buffer, samples = undefined, beforeSend = () => {}) {
  const out = '[data-testid="message"][data-direction="out"]';
  const before = await page.locator(out).count();
  const sent = await page.locator(`${out}[data-status="sent"]`).count();
  await page.getByTestId("attach").setInputFiles({ name, mimeType, buffer });
  // The file is in the page (Playwright's own transfer of it is behind us): measure from here.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
  await beforeSend();
  let sampling = samples !== undefined;
  const sampler = (async () => {
    while (sampling) {
      const m = await page.evaluate(() => [window.__wasm?.memory?.buffer?.byteLength ?? 0, performance.memory?.usedJSHeapSize ?? 0]);
      samples.wasm = Math.max(samples.wasm, m[0]);
      samples.js = Math.max(samples.js, m[1]);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t0 = Date.now();
  await page.getByTestId("send").click();
  await page.locator(out).nth(before).waitFor({ timeout: 180000 });
  const shown = Date.now() - t0;
  await page.locator(out).nth(before).locator('[data-testid="attachment"][data-state="ready"]').first().waitFor({ timeout: 180000 });
  const uploaded = Date.now() - t0;
  await page.locator(`${out}[data-status="sent"]`).nth(sent).waitFor({ timeout: 180000 });
  const stored = Date.now() - t0;
  sampling = false;
  await sampler;
  return { shown, uploaded, stored };
}

const sends = [];
let peak = 0;
let baseline = 0;
const memory = { wasm: 0, js: 0 };
const before = { wasm: 0, js: 0 };
for (let r = 0; r < RUNS; r++) {
  const pids = renderers();
  const reset = async () => {
    if (r !== 0) return;
    // What is garbage before Send is collected, so the figures start from what is live.
    const cdp = await alice.context().newCDPSession(alice);
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.detach();
    Object.assign(before, await alice.evaluate(() => ({ wasm: window.__wasm?.memory?.buffer?.byteLength ?? 0, js: performance.memory?.usedJSHeapSize ?? 0 })));
    Object.assign(memory, before);
    baseline = Math.max(...pids.map((p) => status(p, "VmRSS:")));
    pids.forEach(resetPeak);
  };
  sends.push(await sendFile(alice, `file-${r}.bin`, "application/octet-stream", randomBytes(FILE), r === 0 ? memory : undefined, reset));
  if (r === 0) peak = Math.max(...pids.map((p) => status(p, "VmHWM:")));
}

// A 5,000,000-byte picture at the recipient.
const side = Math.ceil(Math.sqrt(5_000_000 / 3));
const picture = noisePng(side, side);
await bob.getByTestId("conversation").first().click({ timeout: 60000 });
// Alice's messages are a request until Bob accepts: a request's files wait for a click.
await bob.getByRole("button", { name: "Accept" }).click();
const paints = [];
for (let r = 0; r < RUNS; r++) {
  const seen = await bob.locator('[data-testid="attachment"][data-kind="image"]').count();
  await bob.evaluate(() => { window.__painted = undefined; });
  await sendFile(alice, `picture-${r}.png`, "image/png", picture);
  const item = bob.locator('[data-testid="attachment"][data-kind="image"]').nth(seen);
  await item.waitFor({ timeout: 120000 });
  const t0 = Date.now();
  await item.locator("img").first().waitFor({ timeout: 120000 });
  await bob.waitForFunction((i) => {
    const img = document.querySelectorAll('[data-testid="attachment"][data-kind="image"] img')[i];
    return img && img.complete && img.naturalWidth > 0;
  }, seen, { timeout: 120000, polling: 10 });
  await bob.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  paints.push(Date.now() - t0);
}

const mb = FILE / 1e6;
const send = median(sends.map((s) => s.stored));
console.log("| figure | value |\n|---|---|");
console.log(`| send a 10 MB file: Send → stored (median of ${RUNS}) | ${send} ms (${(mb / (send / 1000)).toFixed(1)} MB/s) |`);
console.log(`| of which: Send → on screen (encrypted, kept) / → uploaded (median) | ${median(sends.map((s) => s.shown))} ms / ${median(sends.map((s) => s.uploaded))} ms |`);
console.log(`| WebAssembly memory while sending 10 MB (it never shrinks) | ${(before.wasm / 1e6).toFixed(1)} → ${(memory.wasm / 1e6).toFixed(1)} MB |`);
console.log(`| JS heap while sending 10 MB (largest seen, sampled every 50 ms) | ${(before.js / 1e6).toFixed(1)} → ${(memory.js / 1e6).toFixed(1)} MB |`);
console.log(`| reference: WebCrypto AES-256-CBC, 10 MB, same page | ${webcrypto.toFixed(1)} ms (${(mb / (webcrypto / 1000)).toFixed(0)} MB/s) |`);
console.log(`| renderer peak resident set while sending 10 MB (from the file chosen to the message stored) | ${(peak / 1e6).toFixed(1)} MB (${((peak - baseline) / 1e6).toFixed(1)} MB above the ${(baseline / 1e6).toFixed(1)} MB before; goal ≤ ${3 * mb} MB above) |`);
console.log(`| 5 MB picture: on screen → painted at the recipient (median of ${RUNS}) | ${median(paints)} ms |`);
await browser.close();
await devnet.stop();
