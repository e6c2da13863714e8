// Figures for the app: cold-load transfer size (gzip -9 of HTML, JS, WASM, CSS), time to the first
// screen on localhost, and unlock time (Argon2id with the vault's real parameters).
// Run: node bench/app_figures.mjs   (after `trunk build --release`; starts its own devnet)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT, startDevnet, launchBrowser } from "../tests/e2e/harness.mjs";

const dist = process.env.HUSH_DIST ?? join(ROOT, "dist");
let total = 0;
const rows = [];
for (const name of readdirSync(dist)) {
  if (!/\.(html|js|wasm|css)$/.test(name) || name === "sw.js") continue;
  const raw = readFileSync(join(dist, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  rows.push([name.replace(/-[0-9a-f]{16}/, ""), raw.length, gz]);
}
console.log("| file | raw bytes | gzip -9 bytes |\n|---|---|---|");
for (const [n, r, g] of rows.sort()) console.log(`| ${n} | ${r} | ${g} |`);
console.log(`| cold load total | | ${total} (${(total / 1024).toFixed(0)} KiB) |`);

const devnet = await startDevnet({ nodes: 4 });
const browser = await launchBrowser();
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const firstScreen = [];
for (let i = 0; i < 7; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Timed inside the page: the moment the heading is in the document, on the page's own clock
  // (Playwright's waits poll, which would add their own delay).
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      const seen = [...document.querySelectorAll("h1, h2")].some((h) => h.textContent.trim() === "Welcome");
      if (seen && window.__welcome === undefined) { window.__welcome = performance.now(); observer.disconnect(); }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(devnet.appUrl);
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  firstScreen.push(await page.evaluate(() => window.__welcome));
  await context.close();
}
const PASS = "a long enough passphrase";
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(devnet.appUrl);
await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
await page.getByLabel("Recovery phrase").fill("love love love love love love love love love love love love love");
await page.getByRole("button", { name: "Restore" }).click();
await page.getByLabel("Display name").fill("Bench");
await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
await page.getByLabel("Passphrase again").fill(PASS);
await page.getByRole("button", { name: "Finish" }).click();
await page.getByRole("heading", { name: "Hello, Bench" }).waitFor({ timeout: 60000 });
const unlock = [];
for (let i = 0; i < 5; i++) {
  await page.getByRole("button", { name: "Lock now" }).click();
  await page.getByLabel("Passphrase").fill(PASS);
  const t0 = Date.now();
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("heading", { name: "Hello, Bench" }).waitFor({ timeout: 60000 });
  unlock.push(Date.now() - t0);
}
console.log(`\ntime to first screen (navigation start → Welcome visible), median of 7 cold loads: ${median(firstScreen).toFixed(0)} ms`);
console.log(`unlock (passphrase → home; Argon2id 64 MiB, 3 passes), median of 5: ${median(unlock)} ms`);
await browser.close();
await devnet.stop();
