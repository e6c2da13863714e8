// Send → shown from the command line to a browser on the devnet (p50, p95), against the same
// measured between two browsers in the same run.
// Run: cargo build --release -p hush-cli && trunk build --release && node bench/cli_latency.mjs
//      (HUSH_CLI overrides the binary; MESSAGES the count, 30 by default)
//
// The CLI's figure is what a script sees: from starting `hush send` (a new process: open the vault
// file, Argon2id for the passphrase, the network client's first paths) to the message appearing
// in the browser, timed by a MutationObserver in the page on this machine's clock.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startDevnet, launchBrowser, newAccount } from "../tests/e2e/harness.mjs";

const COUNT = Number(process.env.MESSAGES ?? 30);
const PASS = "a passphrase for the bench";
const binary = process.env.HUSH_CLI ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "release", "hush");
const data = mkdtempSync(join(tmpdir(), "hush-cli-bench-"));
const hush = (...args) => new Promise((resolve, reject) => {
  execFile(binary, ["--data", data, ...args], { env: { ...process.env, HUSH_PASSPHRASE: PASS }, timeout: 120000 },
    (error, stdout, stderr) => (error ? reject(new Error(`hush ${args[0]}: ${error.message} ${stderr}`)) : resolve(stdout.trim())));
});

const devnet = await startDevnet();
const browser = await launchBrowser();
const a = await (await browser.newContext()).newPage();
const b = await (await browser.newContext()).newPage();
await newAccount(a, devnet.appUrl, "Ann");
const idB = await newAccount(b, devnet.appUrl, "Ben");
await hush("--relay", devnet.appUrl, "--anchors", join(devnet.data, "devnet.json"), "create", "--name", "Cli");

// Ben has both conversations open in turn; a MutationObserver notes when each probe appears.
await b.evaluate(() => {
  window.__shown = {};
  new MutationObserver(() => {
    for (const m of document.querySelectorAll('[data-testid="message"][data-direction="in"]')) {
      const probe = m.querySelector(".body")?.textContent;
      if (probe && !(probe in window.__shown)) window.__shown[probe] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
});
const shownAt = async (text) =>
  (await b.waitForFunction((t) => window.__shown[t], text, { timeout: 60000, polling: 50 })).jsonValue();

async function openFrom(name) {
  await b.getByRole("button", { name: "Back" }).click().catch(() => {});
  await b.getByTestId("conversation").filter({ hasText: name }).first().click({ timeout: 60000 });
  const accept = b.getByRole("button", { name: "Accept" });
  if (await accept.isVisible()) await accept.click();
}

// Reference: browser → browser, in this run.
await a.getByTestId("new-conversation").click();
await a.getByTestId("recipient-id").fill(idB);
await a.getByRole("button", { name: "Start" }).click();
await a.getByTestId("composer").fill("warm-up from Ann");
await a.getByTestId("send").click();
await openFrom("Ann");
await shownAt("warm-up from Ann");
const browserTimes = [];
for (let i = 1; i <= COUNT; i++) {
  await new Promise((r) => setTimeout(r, Math.random() * 1500));
  const text = `browser probe ${i}`;
  await a.getByTestId("composer").fill(text);
  const clicked = Date.now();
  await a.getByTestId("send").click();
  browserTimes.push((await shownAt(text)) - clicked);
}

// The command line.
await hush("send", idB, "warm-up from the CLI");
await openFrom("Cli");
await shownAt("warm-up from the CLI");
const cliTimes = [];
const exitTimes = [];
for (let i = 1; i <= COUNT; i++) {
  await new Promise((r) => setTimeout(r, Math.random() * 1500));
  const text = `cli probe ${i}`;
  const started = Date.now();
  await hush("send", idB, text);
  exitTimes.push(Date.now() - started);
  cliTimes.push((await shownAt(text)) - started);
}

const pct = (list, p) => {
  const s = [...list].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};
const line = (label, list) =>
  console.log(`${label.padEnd(52)} p50 ${String(pct(list, 0.5)).padStart(5)} ms   p95 ${String(pct(list, 0.95)).padStart(5)} ms   max ${Math.max(...list)} ms`);
console.log(`over ${COUNT} messages each, ${devnet.info.nodes?.length ?? "?"} nodes`);
line("reference: browser → browser, send → shown", browserTimes);
line("hush send → shown in the browser", cliTimes);
line("hush send: start → exit 0 (stored in the swarm)", exitTimes);
await browser.close();
await devnet.stop();
rmSync(data, { recursive: true, force: true });
