// The real app opening a conversation that holds 100,000 messages: unlock, then click the
// conversation → its newest message on screen, timed inside the page; the reference in the same
// run is the same for a conversation of 50 messages.
// Run by scripts/bench-big-conversation.sh, after app/tests/bench_big_conversation.rs has filed the
// messages into the app's database in the Chromium profile HUSH_BENCH_PROFILE at the origin
// http://127.0.0.1:HUSH_BENCH_PORT; this serves the built app (HUSH_DIST) from that same origin
// with a devnet, so the app finds that database.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";
import { ROOT, hushNodeBinary } from "../tests/e2e/harness.mjs";

const PASS = "a long enough passphrase";
const ROUNDS = 10;
const profile = process.env.HUSH_BENCH_PROFILE;
const port = Number(process.env.HUSH_BENCH_PORT);
const count = Number(process.env.HUSH_BENCH_MESSAGES ?? 100000);
if (!profile || !port) throw new Error("set HUSH_BENCH_PROFILE and HUSH_BENCH_PORT (scripts/bench-big-conversation.sh does)");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => ok(p)); });
  });
}

// A devnet whose app and relay are served on the bench's origin.
const data = mkdtempSync(join(tmpdir(), "hush-big-"));
const base = 20000 + Math.floor(Math.random() * 30000);
const args = ["devnet", "--data", data, "--nodes", "4", "--seed-port", String(await freePort()),
  "--app-port", String(port), "--base-port", String(base), "--static", process.env.HUSH_DIST ?? join(ROOT, "dist")];
const devnet = spawn(hushNodeBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
process.on("exit", () => { devnet.kill("SIGTERM"); rmSync(data, { recursive: true, force: true }); }); // also on failure
let log = "";
devnet.stdout.on("data", (d) => (log += d));
devnet.stderr.on("data", (d) => (log += d));
const deadline = Date.now() + 30000;
while (!existsSync(join(data, "devnet.json"))) {
  if (devnet.exitCode !== null || Date.now() > deadline) throw new Error(`devnet did not start:\n${log}`);
  await new Promise((r) => setTimeout(r, 100));
}
const appUrl = JSON.parse(readFileSync(join(data, "devnet.json"), "utf8")).app_url;
if (appUrl !== `http://127.0.0.1:${port}`) throw new Error(`app on ${appUrl}, not the bench's origin`);

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
await page.goto(appUrl);
await page.getByLabel("Passphrase").fill(PASS);
let t0 = Date.now();
await page.getByRole("button", { name: "Unlock" }).click();
await page.getByRole("heading", { name: "Hello, Bench" }).waitFor({ timeout: 60000 });
console.log(`INFO unlock → home (insecure test KDF): ${Date.now() - t0} ms`);

/** Clicks the conversation titled `title` and times, in the page, until the message with `text`
 *  is in the document and until the frame after it (when it is painted); checks what is shown. */
async function open(title, text) {
  await page.getByRole("heading", { name: "Hello, Bench" }).waitFor();
  // The list fills in after the heading shows; the timing starts at the click.
  await page.locator("[data-testid=conversation]", { hasText: title }).first().waitFor();
  const timing = await page.evaluate(({ title, text }) => new Promise((resolve, reject) => {
    const button = [...document.querySelectorAll("[data-testid=conversation]")]
      .find((b) => b.querySelector(".title")?.textContent === title);
    if (!button) return reject(new Error(`no conversation ${title}`));
    const seen = () => [...document.querySelectorAll("[data-testid=message]")].some((m) => m.textContent.includes(text));
    let start;
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      const inDocument = performance.now() - start;
      requestAnimationFrame(() => resolve({ inDocument, frame: performance.now() - start,
        shown: document.querySelectorAll("[data-testid=message]").length }));
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
    start = performance.now();
    button.click();
  }), { title, text });
  if (timing.shown !== 50) throw new Error(`${title}: ${timing.shown} messages shown, not 50`);
  await page.getByRole("button", { name: "Back" }).click();
  return timing;
}

const big = ["Big conversation", `Message number ${count - 1} of this conversation`];
const small = ["Small conversation", "Message number 49 of this conversation"];
const firstBig = await open(...big);
const firstSmall = await open(...small);
console.log(`BENCH app first open after unlock: big ${firstBig.inDocument.toFixed(1)} ms (frame ${firstBig.frame.toFixed(1)} ms), `
  + `small ${firstSmall.inDocument.toFixed(1)} ms (frame ${firstSmall.frame.toFixed(1)} ms)`);
const times = { big: [], small: [] };
for (let i = 0; i < ROUNDS; i++) {
  times.big.push(await open(...big));
  times.small.push(await open(...small));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, ts] of Object.entries(times)) {
  const doc = ts.map((t) => t.inDocument), frame = ts.map((t) => t.frame);
  console.log(`BENCH app open ${name}: click → newest message in the document median ${median(doc).toFixed(1)} ms `
    + `(best ${Math.min(...doc).toFixed(1)}, worst ${Math.max(...doc).toFixed(1)}); → its frame median ${median(frame).toFixed(1)} ms `
    + `(best ${Math.min(...frame).toFixed(1)}, worst ${Math.max(...frame).toFixed(1)}), ${ROUNDS} opens`);
}
console.log(`BENCH app ratio (medians, in the document): big / small ${(median(times.big.map((t) => t.inDocument)) / median(times.small.map((t) => t.inDocument))).toFixed(2)}×`);
if (problems.length) console.log(`INFO page problems:\n${problems.join("\n")}`);
await context.close();
await new Promise((r) => { devnet.once("exit", r); devnet.kill("SIGTERM"); });
