// The installable app: manifest and icons, the service worker, opening offline to the unlock
// screen and the vault, the Content-Security-Policy, no third-party requests, and an update that is
// announced and applied only when the person agrees.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
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


// A Content-Security-Policy as { directive: sorted sources }. A directive given twice is an error:
// browsers obey only the first, so a second one would read as a policy that is not in force.
function parseCsp(policy) {
  const directives = {};
  for (const part of policy.split(";").map((d) => d.trim()).filter(Boolean)) {
    const [name, ...sources] = part.split(/\s+/);
    assert.ok(!(name.toLowerCase() in directives), `${name} appears twice in ${policy}`);
    directives[name.toLowerCase()] = sources.sort();
  }
  return directives;
}

// The policy a build carries in its <meta>: connect-src allows this site and, when the build was
// made with HUSH_RELAY_ORIGIN, that relay; nothing else reaches the network or runs code.
const buildPolicy = (relay) => parseCsp([
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  `connect-src 'self'${relay ? ` ${relay}` : ""}`,
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; "));

// The policy of the page's <meta> (there must be exactly one).
function metaCsp(html) {
  const metas = [...html.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)"/gi)];
  assert.equal(metas.length, 1, "one Content-Security-Policy <meta>");
  return metas[0][1];
}

// Sources that would let the page run injected code or reach anywhere. Pictures and sound may come
// from `blob:` (the files the page decrypts itself, shown through object URLs: only the page's
// own scripts can make one); nothing else may.
function assertNoLooseSource(policy) {
  for (const [name, sources] of Object.entries(parseCsp(policy))) {
    for (const loose of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "blob:", "http:", "https:"]) {
      if (loose === "blob:" && (name === "img-src" || name === "media-src")) continue;
      assert.ok(!sources.includes(loose), `${name} allows ${loose}: ${policy}`);
    }
  }
  assert.ok(!policy.includes("unsafe-inline"), policy);
}

test("headers, manifest, icons", async () => {
  const r = await fetch(devnet.appUrl);
  const html = await r.text();
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), "no inline script in index.html");
  // The page's own policy (what a static host serves, and what the service worker's cached shell
  // carries offline) is the build's; hush-node reads it from the page it serves and sends the
  // same as a header, plus frame-ancestors, which only a header can carry (so a build made with
  // HUSH_RELAY_ORIGIN is not blocked by a stricter header either).
  const meta = metaCsp(html);
  assertNoLooseSource(meta);
  assert.deepEqual(parseCsp(meta), buildPolicy(process.env.HUSH_RELAY_ORIGIN));
  for (const path of ["/", "/index.html"]) {
    const res = await fetch(new URL(path, devnet.appUrl));
    const header = res.headers.get("content-security-policy");
    assert.ok(header, `no Content-Security-Policy header on ${path}`);
    assertNoLooseSource(header);
    assert.deepEqual(parseCsp(header), { ...parseCsp(meta), "frame-ancestors": ["'none'"] },
      `the header on ${path} and the <meta> differ: ${header} | ${meta}`);
    assert.equal(metaCsp(await res.text()), meta, path);
  }
  const manifest = await (await fetch(new URL("manifest.webmanifest", devnet.appUrl))).json();
  const sizes = manifest.icons.map((i) => `${i.sizes}/${i.purpose}`);
  for (const want of ["192x192/any", "512x512/any", "512x512/maskable"]) assert.ok(sizes.includes(want), want);
  for (const icon of manifest.icons) {
    const res = await fetch(new URL(icon.src, devnet.appUrl));
    assert.equal(res.status, 200, icon.src);
  }
});

test("the page's policy names a relay set at build time, and only that one", () => {
  // The post-build step, run as Trunk runs it, on a stand-in for Trunk's output.
  const build = (relay) => {
    const staging = mkdtempSync(join(tmpdir(), "hush-staging-"));
    writeFileSync(join(staging, "index.html"), '<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8" />\n'
      + '    <script type="module">import init from "/app.js"; init();</script>\n  </head>\n  <body></body>\n</html>\n');
    writeFileSync(join(staging, "app.js"), "export default function init() {}\n");
    const env = { ...process.env, TRUNK_STAGING_DIR: staging };
    delete env.HUSH_RELAY_ORIGIN;
    if (relay) env.HUSH_RELAY_ORIGIN = relay;
    execFileSync("node", [join(ROOT, "scripts", "trunk-post-build.mjs")], { env, cwd: ROOT });
    const html = readFileSync(join(staging, "index.html"), "utf8");
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), "the start-up script left the page");
    assert.ok(readdirSync(staging).some((f) => /^start-[0-9a-f]{16}\.js$/.test(f)));
    return metaCsp(html);
  };
  const plain = build(undefined);
  assertNoLooseSource(plain);
  assert.deepEqual(parseCsp(plain), buildPolicy(undefined));
  assert.deepEqual(parseCsp(plain)["connect-src"], ["'self'"]);
  const withRelay = build("https://relay.example:8443");
  assertNoLooseSource(withRelay);
  assert.deepEqual(parseCsp(withRelay), buildPolicy("https://relay.example:8443"));
  assert.deepEqual(parseCsp(withRelay)["connect-src"], ["'self'", "https://relay.example:8443"].sort());
  // Anything but a bare lower-case origin is refused, so it cannot add sources or directives.
  for (const bad of ["https://relay.example; script-src *", "relay.example", "https://Relay.example",
    "https://relay.example/path", "ftp://relay.example", "https://relay.example:8443 https://other.example"]) {
    assert.throws(() => build(bad), /HUSH_RELAY_ORIGIN/, bad);
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
