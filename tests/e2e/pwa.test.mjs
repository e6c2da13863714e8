// The installable app: manifest and icons, the service worker, opening offline to the unlock
// screen and the vault, the Content-Security-Policy, no third-party requests, and an update that is
// announced and applied only when the person agrees.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PASS, NOBODY, createAccount, restoreAccount, message, openChat, openRow, home, send, unlock } from "./people.mjs";

// A private copy of the build, so the test can publish a "new version" of it.
const dist = mkdtempSync(join(tmpdir(), "hush-dist-"));
cpSync(process.env.HUSH_DIST ?? join(ROOT, "dist"), dist, { recursive: true });
process.env.HUSH_DIST = dist;

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 4 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });


test("headers, manifest, icons", async () => {
  const r = await fetch(devnet.appUrl);
  const csp = r.headers.get("content-security-policy");
  for (const d of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "connect-src 'self'"]) {
    assert.ok(csp.includes(d), `CSP lacks ${d}: ${csp}`);
  }
  assert.ok(!csp.includes("unsafe-inline"));
  const html = await r.text();
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), "no inline script in index.html");
  const manifest = await (await fetch(new URL("manifest.webmanifest", devnet.appUrl))).json();
  const sizes = manifest.icons.map((i) => `${i.sizes}/${i.purpose}`);
  for (const want of ["192x192/any", "512x512/any", "512x512/maskable"]) assert.ok(sizes.includes(want), want);
  for (const icon of manifest.icons) {
    const res = await fetch(new URL(icon.src, devnet.appUrl));
    assert.equal(res.status, 200, icon.src);
  }
});

test("service worker caches the shell only; Hush opens offline to the unlock screen and the vault", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  const foreign = [];
  page.on("request", (req) => { if (!req.url().startsWith(devnet.appUrl)) foreign.push(req.url()); });
  const olga = await restoreAccount(page, devnet.appUrl,
    "love love love love love love love love love love love love love", "Offline Olga", PASS);
  assert.equal(olga, "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818");

  // Something to find offline: two conversations with messages (one person also wrote back).
  const { id: idPeter } = await createAccount(await (await browser.newContext()).newPage(), devnet.appUrl, "Peter");
  await openChat(page, idPeter);
  for (const text of ["Written while online", "A second one"]) await send(page, text);
  await page.waitForFunction(() =>
    document.querySelectorAll('[data-testid="message"][data-status="sent"]').length === 2, null, { timeout: 60000 });
  await home(page);
  await openChat(page, NOBODY);
  await send(page, "To nobody in particular");
  await page.waitForFunction(() =>
    document.querySelectorAll('[data-testid="message"][data-status="sent"]').length === 1, null, { timeout: 60000 });
  await home(page);
  await page.getByTestId("conversation").nth(1).waitFor();

  const state = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.active?.state;
  });
  assert.equal(state, "activated");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 }).catch(() => page.reload());
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // The cache holds exactly the shell: no API responses, no user data.
  const cached = await page.evaluate(async () => {
    const out = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
    }
    return out;
  });
  assert.ok(cached.includes("/index.html") && cached.some((p) => p.endsWith(".wasm")), cached.join(","));
  assert.ok(cached.every((p) => !p.startsWith("/v1/")), cached.join(","));

  await context.setOffline(true);
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  for (const w of [390, 1280]) {
    await page.setViewportSize({ width: w, height: 900 });
    await page.screenshot({ path: join(OUT, `offline-unlock-${w}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 900 });
  await unlock(page);
  assert.equal((await page.getByTestId("session-id").textContent()).trim(), olga);
  // Offline, the vault shows everything it holds, and the header says Hush is offline.
  await page.getByText("Offline", { exact: true }).waitFor({ timeout: 30000 });
  assert.equal(await page.getByTestId("conversation").count(), 2);
  await page.getByTestId("conversation").filter({ hasText: "A second one" }).waitFor();
  await page.getByTestId("conversation").filter({ hasText: "To nobody in particular" }).waitFor();
  await openRow(page, "A second one");
  for (const text of ["Written while online", "A second one"]) {
    await message(page, "out").filter({ hasText: text }).and(page.locator('[data-status="sent"]')).waitFor();
  }
  for (const w of [390, 1280]) {
    await page.setViewportSize({ width: w, height: 900 });
    await page.screenshot({ path: join(OUT, `offline-conversation-${w}.png`), fullPage: true });
  }
  await context.setOffline(false);
  assert.deepEqual(foreign, [], "requests to third parties");
  // Offline, the unlocked app's polling fails to reach the relay; the browser logs that.
  assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED/.test(p)), []);
  await context.close();
});

test("a new version is announced and applied only when the person agrees", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const { page, problems } = await strictPage(context);
  await page.goto(devnet.appUrl);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 })
    .catch(async () => { await page.reload(); await page.waitForFunction(() => navigator.serviceWorker.controller !== null); });
  const before = await page.evaluate(async () => (await caches.keys()).join(","));

  // Publish a new version: the service worker file changes.
  const swPath = join(dist, "sw.js");
  writeFileSync(swPath, readFileSync(swPath, "utf8").replace(/const VERSION = "([0-9a-f]+)"/, 'const VERSION = "$1-next"'));
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByText("A new version of Hush is ready.").waitFor({ timeout: 20000 });
  for (const w of [390, 1280]) {
    await page.setViewportSize({ width: w, height: 800 });
    await page.screenshot({ path: join(OUT, `update-ready-${w}.png`) });
  }
  // Not applied silently: the new version waits, and the old one still controls the page.
  const waiting = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).waiting !== null);
  assert.equal(waiting, true);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok((await page.evaluate(async () => (await caches.keys()).join(","))).includes(before), "old shell still in use");
  // Listening before the click: the reload can be over before the click returns.
  const reloaded = page.waitForEvent("load");
  await page.getByRole("button", { name: "Update now" }).click();
  await reloaded;
  await page.waitForFunction(async () => (await caches.keys()).every((k) => k.endsWith("-next")), null, { timeout: 20000 });
  assert.deepEqual(problems, []);
  await context.close();
});
