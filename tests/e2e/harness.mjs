// Shared end-to-end harness: a real `hush-node devnet` on free loopback ports serving the built
// app, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, existsSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const OUT = join(ROOT, "tests", "out");
mkdirSync(OUT, { recursive: true });

export function hushNodeBinary() {
  if (process.env.HUSH_NODE) return process.env.HUSH_NODE;
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  return join(target, "debug", "hush-node");
}

/** Starts a devnet; resolves to { appUrl, info, data, stop } (`data`: its folder, with devnet.json).
 *  `extra`: more arguments for `hush-node devnet` (e.g. `--community-accept-unblinded`). */
export async function startDevnet({ nodes = 12, relayRefresh = 600, extra = [] } = {}) {
  const data = mkdtempSync(join(tmpdir(), "hush-e2e-"));
  const dist = process.env.HUSH_DIST ?? join(ROOT, "dist");
  // Port 0 everywhere: the devnet binds each port itself and names them in devnet.json. Ports
  // chosen here and bound there could be taken in between (CI once lost the seed's port so).
  const args = ["devnet", "--data", data, "--nodes", String(nodes), "--seed-port", "0",
    "--app-port", "0", "--base-port", "0", "--static", dist,
    "--relay-refresh", String(relayRefresh), ...extra];
  const child = spawn(hushNodeBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const infoPath = join(data, "devnet.json");
  const deadline = Date.now() + 30000;
  while (!existsSync(infoPath)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`devnet did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const info = JSON.parse(readFileSync(infoPath, "utf8"));
  return {
    appUrl: info.app_url,
    info,
    data,
    log: () => log,
    stop: () => new Promise((r) => { child.once("exit", r); child.kill("SIGTERM"); }),
  };
}

/** Debian's Chromium. `fakeMedia`: a fake microphone (a beep every second) and camera (a moving
 *  pattern) that every page may use without asking (voice messages, QR scanning). `fakeVideo`: a
 *  file (`.y4m` or `.mjpeg`) the fake camera plays instead, in a loop (implies `fakeMedia`). */
export async function launchBrowser({ fakeMedia = false, fakeVideo = null } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      ...(fakeMedia || fakeVideo ? ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] : []),
      ...(fakeVideo ? [`--use-file-for-fake-video-capture=${fakeVideo}`] : [])],
  });
}

/** A page that fails the test on any page error or console error. */
export async function strictPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  return { page, problems };
}

/** Creates an account through the onboarding screens; returns its Session ID. */
export async function newAccount(page, appUrl, name, passphrase = "a long enough passphrase") {
  await page.goto(appUrl);
  await page.getByRole("button", { name: "Create account" }).click();
  const id = (await page.getByTestId("session-id").textContent()).trim();
  const words = (await page.getByTestId("recovery-phrase").textContent()).trim().split(" ");
  await page.getByRole("button", { name: "I have written it down" }).click();
  const labels = await page.locator("label").allTextContents();
  for (const p of labels.map((l) => Number(l.replace("Word ", ""))).filter(Boolean)) {
    await page.getByLabel(`Word ${p}`, { exact: true }).fill(words[p - 1]);
  }
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Passphrase again").fill(passphrase);
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor({ timeout: 60000 });
  return id;
}

/** Stops service node `i` of the devnet (its port closes; its swarm peers see it down). */
export async function stopNode(devnet, i) {
  const url = devnet.info.seed_url.replace("/json_rpc", `/devnet/stop_node/${i}`);
  const r = await fetch(url, { method: "POST" });
  if (r.status !== 200) throw new Error(`stop_node ${i}: ${r.status}`);
}

/** Shows or hides `page` as far as the page can tell: `document.visibilityState` and the
 *  `visibilitychange` event, as a browser gives them when the tab goes to the background. */
export async function setVisibility(page, state) {
  await page.evaluate((s) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => s });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => s === "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}
