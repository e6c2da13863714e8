// Cold load of the app over a slow mobile network: what goes over the wire (by Content-Encoding)
// and how long until the first paint and the first screen, for the build as hush-node serves it
// now (precompressed .br/.gz beside each file, chosen by Accept-Encoding) and, in the same run, the
// same build without its .br/.gz files (what hush-node sent before: every file uncompressed).
// A cold load starts with an empty HTTP cache and no service worker, so Cache-Control plays no
// part in it; repeat visits are served by the service worker's cached shell.
//
// Network: Chrome DevTools' "Slow 4G" preset, applied with CDP Network.emulateNetworkConditions on
// the page: latency 562.5 ms (150 ms × 3.75), download 180,000 B/s (1.6 Mbit/s × 0.9), upload
// 84,375 B/s (750 kbit/s × 0.9). The CPU is not throttled.
//
// Run: node bench/cold_load.mjs   (after `trunk build --release`; starts two devnets of its own;
// RUNS=n cold loads per side, 5 by default, the two sides interleaved)
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT, startDevnet, launchBrowser } from "../tests/e2e/harness.mjs";

const SLOW_4G = { offline: false, latency: 562.5, downloadThroughput: 180000, uploadThroughput: 84375 };
const RUNS = Number(process.env.RUNS ?? 5);
const dist = process.env.HUSH_DIST ?? join(ROOT, "dist");
if (!readdirSync(dist).some((f) => f.endsWith(".wasm.br"))) {
  throw new Error(`${dist} has no precompressed files: build it with trunk build --release first`);
}

// The files of the build, with the sizes of their precompressed copies.
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? walk(path) : [path];
});
const size = (path) => { try { return statSync(path).size; } catch { return null; } };
console.log("| file | raw bytes | .gz bytes | .br bytes |\n|---|---|---|---|");
for (const path of walk(dist).filter((p) => !/\.(br|gz)$/.test(p)).sort()) {
  const name = relative(dist, path).replace(/-[0-9a-f]{12,16}/, "-<hash>");
  const [gz, br] = [size(`${path}.gz`), size(`${path}.br`)];
  console.log(`| ${name} | ${statSync(path).size} | ${gz ?? "—"} | ${br ?? "—"} |`);
}

// "Before": the same build without its precompressed files.
const plain = mkdtempSync(join(tmpdir(), "hush-dist-plain-"));
cpSync(dist, plain, { recursive: true, filter: (src) => !/\.(br|gz)$/.test(src) });

process.env.HUSH_DIST = dist;
const after = await startDevnet({ nodes: 4 });
process.env.HUSH_DIST = plain;
const before = await startDevnet({ nodes: 4 });
const browser = await launchBrowser();

/** One cold load: a fresh context (empty cache, no service worker) on Slow 4G. */
async function coldLoad(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
  const requests = new Map();
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    const encoding = Object.entries(response.headers).find(([k]) => k.toLowerCase() === "content-encoding")?.[1];
    requests.set(requestId, { url: response.url, encoding: encoding ?? "identity", bytes: 0 });
  });
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    const r = requests.get(requestId);
    if (r) r.bytes = encodedDataLength;
  });
  // The first screen, timed inside the page on its own clock (navigation start = 0).
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      const seen = [...document.querySelectorAll("h1, h2")].some((h) => h.textContent.trim() === "Welcome");
      if (seen && window.__welcome === undefined) { window.__welcome = performance.now(); observer.disconnect(); }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(url, { timeout: 120000 });
  await page.getByRole("heading", { name: "Welcome" }).waitFor({ timeout: 120000 });
  // Let the requests the page started finish (the service worker's own fetches are not the page's).
  await page.waitForLoadState("networkidle", { timeout: 120000 });
  const times = await page.evaluate(() => ({
    firstPaint: performance.getEntriesByName("first-paint")[0]?.startTime,
    firstContentfulPaint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
    firstScreen: window.__welcome,
  }));
  await context.close();
  const byEncoding = {};
  for (const r of requests.values()) {
    byEncoding[r.encoding] ??= { requests: 0, bytes: 0 };
    byEncoding[r.encoding].requests += 1;
    byEncoding[r.encoding].bytes += r.bytes;
  }
  const total = [...requests.values()].reduce((sum, r) => sum + r.bytes, 0);
  return { ...times, byEncoding, total };
}

const results = { before: [], after: [] };
try {
  for (let i = 0; i < RUNS; i++) {
    results.before.push(await coldLoad(before.appUrl));
    results.after.push(await coldLoad(after.appUrl));
  }
} finally {
  await browser.close();
  await before.stop();
  await after.stop();
  rmSync(plain, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const kb = (n) => `${n.toLocaleString("en-US")} B (${(n / 1024).toFixed(0)} KiB)`;
console.log(`\nCold loads on Slow 4G (latency ${SLOW_4G.latency} ms, down ${SLOW_4G.downloadThroughput} B/s, `
  + `up ${SLOW_4G.uploadThroughput} B/s), ${RUNS} per side, interleaved; median (min–max):`);
console.log("| figure | before: uncompressed | after: precompressed |\n|---|---|---|");
const sides = [results.before, results.after];
const row = (label, f) => console.log(`| ${label} | ${sides.map(f).join(" | ")} |`);
row("bytes over the wire (headers included)", (rs) => kb(median(rs.map((r) => r.total))));
const encodings = [...new Set(sides.flatMap((rs) => rs.flatMap((r) => Object.keys(r.byEncoding))))].sort();
for (const e of encodings) {
  row(`… with Content-Encoding ${e}`, (rs) => {
    const last = rs.at(-1).byEncoding[e];
    return last ? `${last.requests} requests, ${kb(last.bytes)}` : "—";
  });
}
row("first paint", (rs) => ms(rs.map((r) => r.firstPaint)));
row("first contentful paint", (rs) => ms(rs.map((r) => r.firstContentfulPaint)));
row("first screen (\"Welcome\" in the document)", (rs) => ms(rs.map((r) => r.firstScreen)));
