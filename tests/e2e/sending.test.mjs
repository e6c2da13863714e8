// A message is delivered once even if the tab reloads mid-send: the outbox entry is written
// (sealed) before any network call and re-sent with the very same bytes after the reload.
// Its own devnet: the messaging test stops nodes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage, newAccount } from "./harness.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const message = (page, direction) => page.locator(`[data-testid="message"][data-direction="${direction}"]`);

async function send(page, text) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
}

async function openChat(page, peerId) {
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(peerId);
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByTestId("composer").waitFor();
}

async function unlock(page) {
  await page.getByLabel("Passphrase").fill("a long enough passphrase");
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByTestId("conversation").first().click({ timeout: 60000 });
}

test("a message is delivered once even if the tab reloads mid-send", async () => {
  const a = await strictPage(await browser.newContext());
  const b = await strictPage(await browser.newContext());
  await newAccount(a.page, devnet.appUrl, "Ann");
  const idB = await newAccount(b.page, devnet.appUrl, "Ben");
  await openChat(a.page, idB);
  await send(a.page, "first");
  await b.page.getByTestId("conversation").first().click({ timeout: 30000 });
  await b.page.getByRole("button", { name: "Accept" }).click();
  await message(b.page, "in").filter({ hasText: "first" }).waitFor({ timeout: 30000 });
  const onion = "**/v1/onion/**";
  const outWith = (text) => message(a.page, "out").filter({ hasText: text });

  // The store reaches B's swarm, but its answer never gets back to the tab, which reloads.
  await a.page.route(onion, async (route) => {
    try { await route.fetch(); } catch { /* the page went away */ }
  });
  await send(a.page, "across a reload");
  await message(b.page, "in").filter({ hasText: "across a reload" }).waitFor({ timeout: 30000 });
  assert.equal(await outWith("across a reload").getAttribute("data-status"), "sending");
  await a.page.unroute(onion);
  await a.page.reload();
  await unlock(a.page);
  await outWith("across a reload").and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 30000 });

  // The request never leaves the tab; it reloads; the outbox (written first) sends it afterwards.
  await a.page.route(onion, (route) => route.abort());
  await send(a.page, "written before the network");
  assert.equal(await outWith("written before the network").getAttribute("data-status"), "sending");
  await a.page.reload();
  await a.page.unroute(onion);
  await unlock(a.page);
  await outWith("written before the network").and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 30000 });
  await message(b.page, "in").filter({ hasText: "written before the network" }).waitFor({ timeout: 30000 });

  // Several polling periods later each message is there exactly once, on both sides (A's own
  // sync copies included).
  await new Promise((r) => setTimeout(r, 5000));
  for (const text of ["across a reload", "written before the network"]) {
    assert.equal(await message(b.page, "in").filter({ hasText: text }).count(), 1, `B: ${text}`);
    assert.equal(await outWith(text).count(), 1, `A: ${text}`);
  }
  await b.page.reload();
  await unlock(b.page);
  await message(b.page, "in").filter({ hasText: "written before the network" }).waitFor({ timeout: 30000 });
  assert.equal(await message(b.page, "in").count(), 3);
  // Blocked requests show up as failed loads in the console; nothing else may.
  const blocked = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;
  assert.deepEqual(a.problems.filter((p) => !blocked.test(p)), []);
  assert.deepEqual(b.problems, []);
});

test("a message that cannot be sent shows failed, and Retry sends it once", async () => {
  const a = await strictPage(await browser.newContext());
  const b = await strictPage(await browser.newContext({ viewport: { width: 390, height: 800 } }));
  await newAccount(a.page, devnet.appUrl, "Ann");
  const idB = await newAccount(b.page, devnet.appUrl, "Ben");
  await openChat(a.page, idB);
  const onion = "**/v1/onion/**";
  await a.page.route(onion, (route) => route.abort());
  await send(a.page, "retry me");
  const mine = message(a.page, "out").filter({ hasText: "retry me" });
  await mine.and(a.page.locator('[data-status="failed"]')).waitFor({ timeout: 60000 });
  // It says why, in words: here the relay could not be reached.
  assert.match(await mine.locator(".problem-reason").textContent(), /^Not sent: .*relay/i);
  await a.page.unroute(onion);
  await mine.getByRole("button", { name: "Retry" }).click();
  await mine.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 30000 });
  assert.equal(await mine.locator(".problem-reason").count(), 0);
  await b.page.getByTestId("conversation").first().click({ timeout: 30000 });
  await message(b.page, "in").filter({ hasText: "retry me" }).waitFor({ timeout: 30000 });

  // The 2,000-character limit is shown while typing; a message at the limit goes through and a
  // long unbroken text wraps inside the narrow screen.
  const composer = a.page.getByTestId("composer");
  await composer.fill("x".repeat(2001));
  await a.page.getByText("2001 / 2000").waitFor();
  assert.equal(await a.page.getByTestId("send").isDisabled(), true);
  const long = "y".repeat(2000);
  await composer.fill(long);
  await a.page.getByText("2000 / 2000").waitFor();
  await a.page.getByTestId("send").click();
  const arrived = message(b.page, "in").filter({ hasText: long });
  await arrived.waitFor({ timeout: 30000 });
  const fits = await arrived.evaluate((m) => {
    const body = m.querySelector(".body");
    return body.scrollWidth <= body.clientWidth && m.getBoundingClientRect().right <= window.innerWidth;
  });
  assert.ok(fits, "a long message overflows the screen");

  // Enter sends, Shift+Enter starts a new line, and Enter that ends an input method's composition
  // sends nothing.
  await composer.fill("");
  await composer.type("line one");
  await composer.press("Shift+Enter");
  await composer.type("line two");
  await composer.evaluate((el) => el.dispatchEvent(new KeyboardEvent("keydown",
    { key: "Enter", code: "Enter", isComposing: true, bubbles: true, cancelable: true })));
  assert.equal(await composer.inputValue(), "line one\nline two", "Enter during a composition sent the text");
  await composer.press("Enter");
  await message(a.page, "out").filter({ hasText: "line two" }).waitFor();
  assert.equal(await composer.inputValue(), "");
  const twoLines = message(b.page, "in").filter({ hasText: "line two" });
  await twoLines.waitFor({ timeout: 30000 });
  assert.equal(await twoLines.locator(".body").textContent(), "line one\nline two");

  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await message(b.page, "in").filter({ hasText: "retry me" }).count(), 1);
  const blocked = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;
  assert.deepEqual(a.problems.filter((p) => !blocked.test(p)), []);
  assert.deepEqual(b.problems, []);
});
