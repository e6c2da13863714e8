// Notifications end to end: the tab's title counts unread messages ("(2) Hush", "Hush" at none)
// as they arrive and are read; with Notifications on in Settings (the browser asked then, and a
// refusal leaves the switch off with a sentence on how to allow it), a message arriving while the
// page is hidden raises a system notification saying what the engine says — name and text, name
// only, or nothing — one per conversation at a time, whose click opens the conversation; a muted
// conversation raises none and is not counted. The page's `Notification` is a recording wrapper
// installed before the app loads; hidden is emulated as a browser reports it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage, setVisibility } from "./harness.mjs";
import { createAccount, message, openChat, openRow, send } from "./people.mjs";

let devnet, browser;
const people = {};
const row = (page, text) => page.getByTestId("conversation").filter({ hasText: text });

/** Records every notification the page makes (and still makes the browser's own). */
function recordNotifications() {
  const Browser = window.Notification;
  window.shownNotifications = [];
  window.Notification = class extends Browser {
    static get permission() { return Browser.permission; }
    static requestPermission(...args) { return Browser.requestPermission(...args); }
    constructor(title, options = {}) {
      super(title, options);
      window.shownNotifications.push({ title, body: options.body, tag: options.tag, notification: this });
    }
  };
}

const shown = (page) => page.evaluate(() => window.shownNotifications.map(({ title, body, tag }) => ({ title, body, tag })));
const waitShown = (page, count) => page.waitForFunction((n) => window.shownNotifications.length >= n, count, { timeout: 60000 });
const title = (page, expected) => page.waitForFunction((t) => document.title === t, expected, { timeout: 60000 });

async function toSettings(page) {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
}
async function toHome(page) {
  await page.getByRole("button", { name: "Back", exact: true }).click();
  await page.getByRole("heading", { name: /^Hello, / }).waitFor();
}
async function content(page, label) {
  await toSettings(page);
  await page.getByRole("radio", { name: label }).check();
  await page.getByRole("status").filter({ hasText: "Saved." }).first().waitFor();
  await toHome(page);
}

before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  browser = await launchBrowser();
  const annContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await annContext.grantPermissions(["notifications"], { origin: devnet.appUrl });
  await annContext.addInitScript(recordNotifications);
  const boContext = await browser.newContext({ viewport: { width: 390, height: 900 } });
  people.ann = await strictPage(annContext);
  people.bo = await strictPage(boContext);
  people.ann.id = (await createAccount(people.ann.page, devnet.appUrl, "Ann")).id;
  people.bo.id = (await createAccount(people.bo.page, devnet.appUrl, "Bo")).id;
  await openChat(people.bo.page, people.ann.id);
});
after(async () => {
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
  await browser?.close();
  await devnet?.stop();
});

test("the tab's title counts unread messages as they arrive and are read", async () => {
  const { ann, bo } = people;
  assert.equal(await ann.page.title(), "Hush");
  await send(bo.page, "first");
  await send(bo.page, "second");
  await title(ann.page, "(2) Hush");
  await row(ann.page, "Bo").filter({ hasText: "2 unread" }).waitFor();
  await openRow(ann.page, "Bo");
  await title(ann.page, "Hush");
  // Read as it arrives while the conversation is open: the count stays at none.
  await ann.page.getByRole("button", { name: "Accept" }).click();
  await ann.page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });
  await send(bo.page, "third");
  await message(ann.page, "in").filter({ hasText: "third" }).waitFor({ timeout: 60000 });
  assert.equal(await ann.page.title(), "Hush");
  await toHome(ann.page);
  await send(bo.page, "fourth");
  await title(ann.page, "(1) Hush");
  await openRow(ann.page, "Bo");
  await title(ann.page, "Hush");
  await toHome(ann.page);
  // Nothing was notified: notifications are off until turned on.
  assert.deepEqual(await shown(ann.page), []);
});

test("turned on, a hidden page notifies as the engine says; a click opens the conversation", async () => {
  const { ann, bo } = people;
  const page = ann.page;
  await toSettings(page);
  const toggle = page.getByRole("switch", { name: "Notifications" });
  assert.equal(await toggle.isChecked(), false);
  await toggle.check();
  await page.getByRole("status").filter({ hasText: "Saved." }).first().waitFor();
  assert.equal(await toggle.isChecked(), true);
  await toHome(page);

  // Visible: no notification, though the message arrives.
  await send(bo.page, "while you look");
  await title(page, "(1) Hush");
  assert.deepEqual(await shown(page), []);

  // Hidden: name and text (the default), tagged with the conversation.
  await setVisibility(page, "hidden");
  await send(bo.page, "are you there?");
  await waitShown(page, 1);
  assert.deepEqual(await shown(page), [{ title: "Bo", body: "are you there?", tag: bo.id }]);

  // Clicking it brings the conversation up.
  await setVisibility(page, "visible");
  await page.evaluate(() => window.shownNotifications[0].notification.dispatchEvent(new Event("click")));
  await page.locator("#conversation-title", { hasText: "Bo" }).waitFor();
  await message(page, "in").filter({ hasText: "are you there?" }).waitFor();
  await title(page, "Hush");
  await toHome(page);

  // Name only, then nothing: the text never shows.
  await content(page, "Name only");
  await setVisibility(page, "hidden");
  await send(bo.page, "a secret text");
  await waitShown(page, 2);
  await content(page, "Nothing");
  await send(bo.page, "another secret");
  await waitShown(page, 3);
  await setVisibility(page, "visible");
  const [, nameOnly, nothing] = await shown(page);
  assert.deepEqual(nameOnly, { title: "Bo", body: "New message", tag: bo.id });
  assert.deepEqual(nothing, { title: "Hush", body: "New message", tag: bo.id });
  await content(page, "Name and message");
});

test("a muted conversation raises no notification and is not counted", async () => {
  const { ann, bo } = people;
  const page = ann.page;
  await openRow(page, "Bo");
  await toHome(page);
  await title(page, "Hush");
  await page.locator('summary[aria-label="Options for Bo"]').click();
  await page.getByRole("button", { name: "Mute", exact: true }).click();
  await row(page, "Bo").getByRole("img", { name: "Muted" }).waitFor();
  const before = (await shown(page)).length;
  await setVisibility(page, "hidden");
  await send(bo.page, "muted words");
  // It arrives (the row shows it) but notifies no one and leaves the title alone.
  await row(page, "muted words").waitFor({ timeout: 60000 });
  await row(page, "Bo").filter({ hasText: "1 unread" }).waitFor();
  assert.equal(await page.title(), "Hush");
  assert.equal((await shown(page)).length, before);
  await setVisibility(page, "visible");
  await page.locator('summary[aria-label="Options for Bo"]').click();
  await page.getByRole("button", { name: "Unmute", exact: true }).click();
  await title(page, "(1) Hush");
});

test("when the browser refuses, the switch stays off and says how to allow notifications", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  await createAccount(page, devnet.appUrl, "Dee");
  await toSettings(page);
  // No permission was granted: the browser answers no at once.
  const toggle = page.getByRole("switch", { name: "Notifications" });
  await toggle.click();
  await page.getByTestId("notifications-blocked").filter({ hasText: "To allow them" }).waitFor();
  assert.equal(await toggle.isChecked(), false);
  assert.equal(await page.evaluate(() => Notification.permission), "denied");
  assert.deepEqual(problems, []);
  await context.close();
});
