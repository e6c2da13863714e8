// Settings end to end: the onion paths shown live (a guard goes down and its path is replaced
// on screen), the relay URL checked, refused when the page's Content-Security-Policy would block
// it, and in effect at once; changing the passphrase; copying the Session ID (and saying so only
// when it worked); the theme (light, dark or the system's) and how it is kept; asking the browser
// to keep this device's storage; focus on screen changes; the Back button.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage, stopNode } from "./harness.mjs";
import { PASS, NOBODY, createAccount, message, openChat, home, send, unlock } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 9 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const settings = async (page) => {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
};
const pathText = (page) => page.getByTestId("path").allTextContents();
// The focused element: a heading by its text, anything else by its id.
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return el.tagName === "H2" ? el.textContent.trim() : el.id;
});
// Focus moves once the new screen has rendered, a frame or so after it appears: waits up to 5 s
// for `expected`, then asserts on what has focus.
async function expectFocus(page, expected) {
  for (let i = 0; i < 50 && (await focused(page)) !== expected; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await focused(page), expected);
}

test("the relay URL is checked, refused when the CSP blocks it, and used at once", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const relayRequests = [];
  page.on("request", (r) => { if (r.url().includes("/v1/")) relayRequests.push(new URL(r.url()).pathname); });
  await createAccount(page, devnet.appUrl, "Rel");
  await settings(page);
  const field = page.getByLabel("Relay URL");
  const use = page.getByRole("button", { name: "Use this relay" });

  await field.fill("ftp://relay.example");
  await page.getByText("must start with https://").waitFor();
  assert.equal(await use.isDisabled(), true);
  await field.fill("https://relay.example");
  await page.getByText("Content-Security-Policy").waitFor();
  await page.getByText("HUSH_RELAY_ORIGIN=https://relay.example").waitFor();
  assert.equal(await use.isDisabled(), true);

  // A relay the page may reach (its own origin, under another path) is used at once.
  await field.fill(`${devnet.appUrl}/elsewhere`);
  assert.equal(await use.isDisabled(), false);
  await use.click();
  await page.getByRole("status").filter({ hasText: `Now using ${devnet.appUrl}/elsewhere.` }).waitFor();
  await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/elsewhere/v1/")),
    null, { timeout: 30000 });
  // Back to this site's relay: messages go through again.
  await field.fill("");
  await use.click();
  await page.getByRole("status").filter({ hasText: "Now using this site's relay." }).waitFor();
  await home(page);
  await openChat(page, NOBODY);
  await send(page, "through the relay again");
  await message(page, "out").filter({ hasText: "through the relay again" }).and(page.locator('[data-status="sent"]'))
    .waitFor({ timeout: 60000 });
  assert.ok(relayRequests.some((p) => p.startsWith("/elsewhere/v1/")));
  // The relay URL is kept in the account: after a reload it is still this site's.
  await page.reload();
  await unlock(page);
  await settings(page);
  assert.equal(await field.inputValue(), "");
  // The made-up path answers 404; the browser logs that.
  assert.deepEqual(problems.filter((p) => !/status of 404/.test(p)), []);
});

test("passphrase change, copy, theme while locked, focus and Back", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  const { id } = await createAccount(page, devnet.appUrl, "Kim");

  // Focus: Home's heading; Settings' heading; the composer in a conversation.
  await expectFocus(page, "Hello, Kim");
  await settings(page);
  await expectFocus(page, "Settings");

  // Copy: "Copied", and the clipboard holds it.
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: devnet.appUrl });
  await page.getByRole("button", { name: "Copy Session ID" }).click();
  await page.getByRole("status").filter({ hasText: /^Copied$/ }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), id);

  // Change the passphrase: the wrong current one and a mismatch are refused next to the form.
  const NEW = "a brand new passphrase";
  await page.getByLabel("Current passphrase").fill("not it at all");
  await page.getByLabel("New passphrase", { exact: true }).fill(NEW);
  await page.getByLabel("New passphrase again").fill(NEW + "x");
  await page.getByRole("button", { name: "Change passphrase" }).click();
  await page.getByRole("alert").filter({ hasText: "The two passphrases differ." }).waitFor();
  await page.getByLabel("New passphrase again").fill(NEW);
  await page.getByRole("button", { name: "Change passphrase" }).click();
  await page.getByRole("alert").filter({ hasText: "not your current passphrase" }).waitFor({ timeout: 60000 });
  await page.getByLabel("Current passphrase").fill(PASS);
  await page.getByRole("button", { name: "Change passphrase" }).click();
  await page.getByRole("status").filter({ hasText: "Passphrase changed." }).waitFor({ timeout: 60000 });

  // The dark theme stays while locked (in memory only) and comes back with the unlock.
  await page.getByLabel("Theme").selectOption("dark");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  await page.getByRole("button", { name: "Lock now" }).click();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  assert.equal(await page.locator(".theme-dark").count(), 1);
  await expectFocus(page, "unlock-passphrase");
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  assert.equal(await page.locator(".theme-system").count(), 1, "nothing about the theme is stored unencrypted");
  await expectFocus(page, "unlock-passphrase");
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "does not unlock" }).waitFor({ timeout: 60000 });
  await unlock(page, NEW);
  assert.equal(await page.locator(".theme-dark").count(), 1);

  // Back: from a conversation and from Settings to Home; from the restore screen to Welcome.
  await openChat(page, NOBODY);
  await expectFocus(page, "composer");
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Kim" }).waitFor();
  await settings(page);
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Kim" }).waitFor();
  await settings(page);
  await page.getByRole("button", { name: "Back", exact: true }).click();
  await page.getByRole("heading", { name: "Hello, Kim" }).waitFor();

  const fresh = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  await fresh.page.goto(devnet.appUrl);
  await fresh.page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  await expectFocus(fresh.page, "phrase");
  await fresh.page.goBack();
  await fresh.page.getByRole("heading", { name: "Welcome" }).waitFor();
  await fresh.page.getByRole("button", { name: "Create account" }).click();
  await fresh.page.getByRole("button", { name: "I have written it down" }).click();
  await fresh.page.getByRole("heading", { name: "Check your recovery phrase" }).waitFor();
  await fresh.page.goBack();
  await fresh.page.getByRole("heading", { name: "Your recovery phrase" }).waitFor();
  await fresh.page.goBack();
  await fresh.page.getByRole("heading", { name: "Welcome" }).waitFor();

  assert.deepEqual(problems, []);
  assert.deepEqual(fresh.problems, []);
});

test("when the browser refuses the clipboard, the Session ID is selected for Ctrl+C, not said to be copied", async () => {
  // Headless Chromium grants every clipboard write, so the refusal other browsers give without
  // permission (a NotAllowedError) is made here the only way it can be: the page's writeText
  // rejects as theirs does.
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  await context.addInitScript(() => {
    Object.defineProperty(Clipboard.prototype, "writeText", {
      value: () => Promise.reject(new DOMException("Write permission denied.", "NotAllowedError")),
    });
  });
  const { page, problems } = await strictPage(context);
  const { id } = await createAccount(page, devnet.appUrl, "Cleo");
  await settings(page);
  await page.getByRole("button", { name: "Copy Session ID" }).click();
  await page.getByRole("status").filter({ hasText: "press Ctrl+C" }).waitFor();
  assert.equal(await page.getByRole("status").filter({ hasText: /^Copied$/ }).count(), 0);
  assert.equal(await page.evaluate(() => String(getSelection()).trim()), id);
  assert.deepEqual(problems, []);
});

// The page's background in each theme (app/style/hush.css: --bg).
const LIGHT = "rgb(246, 245, 242)";
const DARK = "rgb(18, 20, 22)";

test("the theme is light, dark or the system's, and the choice comes back with the unlock", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 }, colorScheme: "light" });
  const { page, problems } = await strictPage(context);
  await createAccount(page, devnet.appUrl, "Theo");
  // The element carrying the theme: its class, and the background it paints — which the page's
  // edges (body, seen past the end of a short screen or when scrolling overshoots) must share.
  const themed = page.locator("body > div").filter({ has: page.locator("main") });
  const looks = async () => {
    const background = await themed.evaluate((el) => getComputedStyle(el).backgroundColor);
    const edge = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    return { theme: await themed.getAttribute("class"), background: edge === background ? background : `${background}, edge ${edge}` };
  };
  const system = (scheme) => page.emulateMedia({ colorScheme: scheme });
  const choose = async (value) => {
    await page.getByLabel("Theme").selectOption(value);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.locator(`.theme-${value}`).waitFor();
  };

  // By default Hush follows the system, at once, without a reload.
  assert.deepEqual(await looks(), { theme: "theme-system", background: LIGHT });
  await system("dark");
  assert.deepEqual(await looks(), { theme: "theme-system", background: DARK });
  await settings(page);
  assert.equal(await page.getByLabel("Theme").inputValue(), "system");

  // Light and dark hold whatever the system prefers.
  await choose("light");
  assert.deepEqual(await looks(), { theme: "theme-light", background: LIGHT });
  await page.screenshot({ path: join(OUT, "settings-theme-light-on-dark-system.png"), fullPage: true });
  await system("light");
  assert.deepEqual(await looks(), { theme: "theme-light", background: LIGHT });
  await choose("dark");
  assert.deepEqual(await looks(), { theme: "theme-dark", background: DARK });
  await page.screenshot({ path: join(OUT, "settings-theme-dark-on-light-system.png"), fullPage: true });
  // The QR code keeps its white ground in the dark theme, so it can still be scanned.
  const qr = page.getByRole("img", { name: "QR code of your Session ID" });
  assert.equal(await qr.locator("rect").getAttribute("fill"), "#ffffff");
  await qr.screenshot({ path: join(OUT, "settings-qr-dark-theme.png") });

  // The choice is in the sealed account record: after a reload the unlock screen follows the
  // system (nothing about the theme is stored unencrypted), and the unlock brings dark back.
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  assert.deepEqual(await looks(), { theme: "theme-system", background: LIGHT });
  await unlock(page);
  assert.deepEqual(await looks(), { theme: "theme-dark", background: DARK });
  await settings(page);
  assert.equal(await page.getByLabel("Theme").inputValue(), "dark");

  // Back to the system's: it follows the system again, and stays so after a reload.
  await choose("system");
  assert.deepEqual(await looks(), { theme: "theme-system", background: LIGHT });
  await system("dark");
  assert.deepEqual(await looks(), { theme: "theme-system", background: DARK });
  await page.reload();
  await unlock(page);
  assert.deepEqual(await looks(), { theme: "theme-system", background: DARK });
  await system("light");
  assert.deepEqual(await looks(), { theme: "theme-system", background: LIGHT });
  await settings(page);
  assert.equal(await page.getByLabel("Theme").inputValue(), "system");
  assert.deepEqual(problems, []);
  await context.close();
});

test("the browser is asked to keep this device's storage", async (t) => {
  // Chromium's navigator.storage.persisted() is only its persistent-storage permission: granting
  // that makes it true whether or not the page ever asked, and without it (a new headless profile
  // has none of the signals Chromium grants it on) persist() answers false and changes nothing
  // visible. So the asking itself is recorded: every call goes to the browser's own persist(),
  // and its real answer is kept.
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  await context.addInitScript(() => {
    const persist = StorageManager.prototype.persist;
    const asked = (window.hushPersistCalls = []);
    StorageManager.prototype.persist = function () {
      const call = { answer: "pending" };
      asked.push(call);
      const answer = persist.call(this);
      answer.then((granted) => { call.answer = granted; }, (e) => { call.answer = `refused: ${e}`; });
      return answer;
    };
  });
  const { page, problems } = await strictPage(context);
  await createAccount(page, devnet.appUrl, "Stella");
  const calls = await page.evaluate(() => window.hushPersistCalls.map((c) => c.answer));
  assert.ok(calls.length >= 1, "navigator.storage.persist() was never called");
  for (const answer of calls) assert.equal(typeof answer, "boolean", `persist() answered ${answer}`);
  // What the browser answered is what the page's storage now is.
  assert.equal(await page.evaluate(() => navigator.storage.persisted()), calls.at(-1));
  t.diagnostic(`persist() called ${calls.length} times; Chromium answered ${calls.join(", ")}`);
  assert.deepEqual(problems, []);
  await context.close();
});

// Last: it stops a node of the shared devnet.
test("the paths in Settings follow the client, guard marked", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  await createAccount(page, devnet.appUrl, "Pat");
  await settings(page);
  await page.getByTestId("path").first().waitFor({ timeout: 30000 });
  const paths = page.getByTestId("path");
  assert.equal(await paths.count(), 2);
  for (let i = 0; i < 2; i++) {
    assert.equal(await paths.nth(i).locator("li").count(), 3);
    assert.deepEqual(await paths.nth(i).locator("li").evaluateAll((lis) => lis.map((li) => li.dataset.guard)),
      ["true", "false", "false"]);
    assert.match(await paths.nth(i).locator("li").first().textContent(), /^Guard /);
  }

  // The first path's guard goes down: the client replaces the path, and the screen follows
  // without a reload.
  const before = await pathText(page);
  const guardPort = Number(/127\.0\.0\.1:(\d+)/.exec(before[0])[1]);
  const guard = devnet.info.nodes.findIndex((n) => n.storage_port === guardPort);
  assert.ok(guard >= 0, `guard at port ${guardPort} is a devnet node`);
  await stopNode(devnet, guard);
  await page.waitForFunction((port) => {
    const paths = [...document.querySelectorAll('[data-testid="path"]')];
    const guards = paths.map((p) => p.querySelector('li[data-guard="true"]')?.textContent ?? "");
    return paths.length === 2 && paths.every((p) => p.querySelectorAll("li").length === 3)
      && guards.every((g) => g.startsWith("Guard") && !g.includes(`:${port}`));
  }, guardPort, { timeout: 90000 }).catch(async (e) => {
    throw new Error(`${e.message}; the paths shown: ${(await pathText(page)).join(" | ")}`);
  });
  assert.notDeepEqual(await pathText(page), before);
  // The browser logs the relay's 502 for the stopped guard; nothing else may appear.
  assert.deepEqual(problems.filter((p) => !/status of 50[24]/.test(p)), []);
});
