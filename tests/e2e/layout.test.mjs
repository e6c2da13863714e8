// Layout and Home end to end: from 900 px the conversation list and the open conversation side by
// side (Back still goes up one level); on a phone one pane, no brand inside a conversation, and
// the composer in view in a window 480 px tall; Home on a phone in a few lines (the Session ID
// shortened, with Copy ID and Show QR; the requests compact); avatars coloured from the Session ID,
// with initials or, for a name without letters, a pattern; the list's marks; pinning, muting and
// nicknames through a row's menu; the Note to Self; search that finds a message and opens it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openChat, openRow, send, shots, waitCount } from "./people.mjs";

let devnet, browser;
const people = {};
const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';
const row = (page, text) => page.getByTestId("conversation").filter({ hasText: text });
const item = (page, text) => page.locator("li.conversation-item", { has: row(page, text) });
const menu = (page, title) => page.locator(`summary[aria-label="Options for ${title}"]`);
const frames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
const box = (locator) => locator.evaluate((el) => { const r = el.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right }; });

/** The avatar colour a Session ID gets: FNV-1a over its 32 key bytes, one of 12. */
function hue(id) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(id.slice(2), "hex")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 12;
}

/** WCAG contrast of two computed `rgb(…)` colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  browser = await launchBrowser();
  const open = async (width) => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    return { context, ...(await strictPage(context)) };
  };
  const [ada, ben, num] = await Promise.all([open(1280), open(390), open(390)]);
  Object.assign(people, { ada, ben, num });
  ada.id = (await createAccount(ada.page, devnet.appUrl, "Ada Lovelace")).id;
  ben.id = (await createAccount(ben.page, devnet.appUrl, "Ben")).id;
  // A name without a single letter: the avatar draws the ID's pattern.
  num.id = (await createAccount(num.page, devnet.appUrl, "1234")).id;
  // Ada writes to Ben (accepted on her side); "1234" writes to Ada (a request for her).
  await openChat(ada.page, ben.id);
  await send(ada.page, "Hello Ben, shall we meet at the Station at noon?");
  await waitCount(ada.page, sentOut, 1);
  await openChat(num.page, ada.id);
  await send(num.page, "a number writes");
  await waitCount(num.page, sentOut, 1);
  await row(ada.page, "Message request").filter({ hasText: "1234" }).waitFor({ timeout: 30000 });
  // Ben accepts and answers, so Ada knows his name.
  await openRow(ben.page, "Ada Lovelace", 60000);
  await ben.page.getByRole("button", { name: "Accept" }).click();
  await ben.page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });
  await send(ben.page, "Hi Ada");
  await message(ada.page, "in").filter({ hasText: "Hi Ada" }).waitFor({ timeout: 30000 });
  await ada.page.locator("#conversation-title", { hasText: /^\s*Ben\s*$/ }).waitFor({ timeout: 10000 });
  await ben.page.goBack();
});
after(async () => {
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
  await browser?.close();
  await devnet?.stop();
});

test("from 900 px the list and the open conversation are side by side, and Back still goes up", async () => {
  const { ada } = people;
  const page = ada.page;
  // Ada is in her conversation with Ben: the list is on the page beside it.
  await page.locator("#conversation-title", { hasText: "Ben" }).waitFor();
  await row(page, "Ben").waitFor();
  await row(page, "1234").waitFor();
  const list = await box(page.locator(".list-pane"));
  const chat = await box(page.locator(".chat-pane"));
  assert.ok(chat.left >= list.right, `the conversation (${chat.left}) is not beside the list (${list.right})`);
  assert.ok(chat.top < list.bottom && list.top < chat.bottom, "the panes are not side by side");
  assert.equal(await row(page, "Ben").getAttribute("aria-current"), "true", "the open conversation's row is marked");
  assert.equal(await page.getByRole("heading", { name: "Hush", exact: true }).count(), 1, "the brand stays in a wide window");
  await shots(page, "layout-two-panes", { fullPage: false });
  // A wide but short window: each pane scrolls on its own, the composer stays in view.
  await page.setViewportSize({ width: 1280, height: 480 });
  await frames(page);
  assert.ok((await box(page.getByTestId("composer"))).bottom <= 480, "the composer is below a 480 px tall window");
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollHeight - innerHeight) <= 1, "the page scrolls");
  await page.screenshot({ path: join(OUT, "layout-two-panes-1280x480.png") });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Another row opens in place of the first; one Back goes up to Home, the list as it was.
  await row(page, "1234").click();
  await page.locator("#conversation-title", { hasText: "1234" }).waitFor();
  await message(page, "in").filter({ hasText: "a number writes" }).waitFor();
  assert.equal(await row(page, "Ben").getAttribute("aria-current"), null);
  await page.goBack();
  await page.getByText("Choose a conversation, or start a new one.").waitFor();
  assert.equal(await page.locator("#conversation-title").count(), 0);
  await row(page, "Ben").waitFor();
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();

  // Narrowed to a phone's width with a conversation open, only the conversation is left.
  await openRow(page, "Ben");
  await page.setViewportSize({ width: 390, height: 900 });
  await frames(page);
  assert.equal(await page.getByTestId("conversation").count(), 0, "the list is still there on a phone");
  await page.getByTestId("composer").waitFor();
  await page.setViewportSize({ width: 1280, height: 900 });
  await row(page, "Ben").waitFor();
  await page.goBack();
  await page.getByText("Choose a conversation, or start a new one.").waitFor();
});

test("on a phone one pane: no brand inside a conversation, and the composer in view 480 px tall", async () => {
  const { ben, ada } = people;
  const page = ben.page;
  await page.getByRole("heading", { name: "Hush", exact: true }).waitFor();
  await openRow(page, "Ada Lovelace");
  for (let i = 1; i <= 8; i++) await send(page, `line ${i} of a conversation long enough to scroll`);
  await waitCount(page, sentOut, 9, 60000);
  assert.equal(await page.getByTestId("conversation").count(), 0, "the list is on the page inside a conversation");
  assert.equal(await page.getByRole("heading", { name: "Hush", exact: true }).count(), 0, "the brand is inside a conversation");

  for (const height of [900, 480]) {
    await page.setViewportSize({ width: 390, height });
    await frames(page);
    const composer = await box(page.getByTestId("composer"));
    const send = await box(page.getByTestId("send"));
    const title = await box(page.locator("#conversation-title"));
    const scroll = await page.evaluate(() => document.scrollingElement.scrollHeight - innerHeight);
    assert.ok(scroll <= 1, `${height} px tall: the page scrolls by ${scroll} px`);
    assert.ok(composer.bottom <= height && send.bottom <= height, `${height} px tall: the composer ends at ${composer.bottom}`);
    assert.ok(title.top >= 0, `${height} px tall: the title starts at ${title.top}`);
    // Room is left for the messages between them.
    const messages = await box(page.locator("ol.messages"));
    assert.ok(messages.bottom - messages.top >= 40 && messages.bottom <= composer.top,
      `${height} px tall: the messages have ${messages.bottom - messages.top} px`);
    await page.screenshot({ path: join(OUT, `layout-phone-chat-390x${height}.png`) });
  }
  await row(ada.page, "line 8 of").waitFor({ timeout: 30000 });
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Ben" }).waitFor();
  await page.setViewportSize({ width: 390, height: 900 });
});

test("Home on a phone: the Session ID shortened with Copy ID and Show QR, compact requests, avatars", async () => {
  const { ada, ben, num } = people;
  const page = ada.page;
  await ada.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: devnet.appUrl });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();
  // The whole ID is in the text (for screen readers and copying), shown cut in the middle.
  const id = page.getByTestId("session-id");
  assert.equal((await id.textContent()).trim(), ada.id);
  assert.equal(await id.locator(".id-end").textContent(), ada.id.slice(58));
  assert.ok(await id.locator(".id-start").evaluate((el) => el.scrollWidth > el.clientWidth + 10), "the ID is shown in full");
  assert.ok((await box(id)).bottom - (await box(id)).top < 40, "the ID takes more than one line");
  await page.getByRole("button", { name: "Copy ID" }).click();
  await page.getByRole("status").filter({ hasText: "Your Session ID is copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ada.id);
  await page.getByRole("button", { name: "Show QR" }).click();
  await page.getByRole("img", { name: "QR code of your Session ID" }).waitFor();
  await page.getByRole("button", { name: "Hide QR" }).click();
  await page.getByRole("img", { name: "QR code of your Session ID" }).waitFor({ state: "detached" });

  // The request and the first conversation are in view without scrolling: Home wastes no space.
  for (const r of [row(page, "1234"), row(page, "Ben")]) {
    assert.ok((await box(r)).bottom <= 844, `${await r.textContent()} is below the fold`);
  }
  const requests = await box(page.locator("section.requests"));
  assert.ok(requests.bottom - requests.top < 190, `the request panel is ${requests.bottom - requests.top} px tall`);

  // Avatars: initials for a name, a pattern for a name without letters, the colour of the ID.
  const avatar = (text) => row(page, text).locator(".avatar");
  assert.equal((await avatar("Ben").textContent()).trim(), "B");
  assert.equal(await avatar("1234").locator("svg rect").count() > 0, true, "no pattern for a name without letters");
  assert.equal((await avatar("1234").textContent()).trim(), "");
  for (const [text, who] of [["Ben", ben], ["1234", num]]) {
    assert.match(await avatar(text).getAttribute("class"), new RegExp(`\\bhue-${hue(who.id)}\\b`));
    assert.equal(await avatar(text).getAttribute("aria-hidden"), "true");
  }
  const [fg, bg] = await avatar("Ben").evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
  assert.ok(contrast(fg, bg) >= 4.5, `initials at ${contrast(fg, bg).toFixed(2)}:1`);
  // A 64-character name stays on one line, cut with an ellipsis.
  const title = page.locator("#home-title");
  assert.ok(await title.evaluate((el) => el.getBoundingClientRect().height < 40 && getComputedStyle(el).whiteSpace === "nowrap"));
  await shots(page, "layout-home");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("a row's menu pins, mutes, names and copies; the list shows the marks", async () => {
  const { ada, ben } = people;
  const page = ada.page;
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();
  const titles = () => page.locator('section[aria-labelledby="conversations-title"] [data-testid="name"]').allTextContents();
  // Ada accepts the request of "1234": two conversations, Ben's the newer.
  await openRow(page, "1234");
  await page.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });
  await page.goBack();
  await page.locator("section.requests").waitFor({ state: "detached" });
  assert.deepEqual(await titles(), ["Ben", "1234"]);

  // Escape closes the menu and gives focus back to its button.
  await menu(page, "Ben").click();
  await item(page, "Ben").getByRole("button", { name: "Pin" }).waitFor();
  await page.keyboard.press("Escape");
  await item(page, "Ben").getByRole("button", { name: "Pin" }).waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Options for Ben");

  // Pinned, the older conversation comes first.
  await menu(page, "1234").click();
  await item(page, "1234").getByRole("button", { name: "Pin" }).click();
  await row(page, "1234").getByRole("img", { name: "Pinned" }).waitFor();
  assert.deepEqual(await titles(), ["1234", "Ben"]);
  await menu(page, "Ben").click();
  await item(page, "Ben").getByRole("button", { name: "Mute" }).click();
  await row(page, "Ben").getByRole("img", { name: "Muted" }).waitFor();
  assert.equal(await row(page, "Ben").getByRole("img", { name: "Pinned" }).count(), 0);
  await shots(page, "layout-marks", { fullPage: false });

  // A nickname shows in place of the name, in the list and in the conversation; empty removes it.
  await menu(page, "Ben").click();
  await item(page, "Ben").getByRole("button", { name: "Set nickname" }).click();
  const dialog = page.getByRole("dialog", { name: "Set nickname" });
  await dialog.getByLabel("Nickname").fill("Benjamin (work)");
  await shots(page, "layout-nickname", { fullPage: false });
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  await row(page, "Benjamin (work)").waitFor();
  await openRow(page, "Benjamin (work)");
  await page.locator("#conversation-title", { hasText: "Benjamin (work)" }).waitFor();
  await menu(page, "Benjamin (work)").click();
  await item(page, "Benjamin (work)").getByRole("button", { name: "Set nickname" }).click();
  assert.equal(await dialog.getByLabel("Nickname").inputValue(), "Benjamin (work)");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await menu(page, "Benjamin (work)").click();
  await item(page, "Benjamin (work)").getByRole("button", { name: "Set nickname" }).click();
  await dialog.getByLabel("Nickname").fill("");
  await dialog.getByRole("button", { name: "Save" }).click();
  await row(page, "Ben").filter({ hasNotText: "Benjamin" }).waitFor();
  await page.locator("#conversation-title", { hasText: /^\s*Ben\s*$/ }).waitFor();

  // Copy ID puts their Session ID on the clipboard.
  await ada.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: devnet.appUrl });
  await menu(page, "Ben").click();
  await item(page, "Ben").getByRole("button", { name: "Copy ID" }).click();
  await page.getByRole("status").filter({ hasText: "Their Session ID is copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ben.id);

  // Unmute and unpin take the marks away.
  await menu(page, "Ben").click();
  await item(page, "Ben").getByRole("button", { name: "Unmute" }).click();
  await row(page, "Ben").getByRole("img", { name: "Muted" }).waitFor({ state: "detached" });
  await menu(page, "1234").click();
  await item(page, "1234").getByRole("button", { name: "Unpin" }).click();
  await row(page, "1234").getByRole("img", { name: "Pinned" }).waitFor({ state: "detached" });
  assert.deepEqual(await titles(), ["Ben", "1234"]);
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();
});

test("the Note to Self opens from Home and from one's own ID, and is titled so", async () => {
  const { ada } = people;
  const page = ada.page;
  const note = page.getByTestId("note-to-self");
  assert.equal((await note.locator(".title").textContent()).trim(), "Note to Self");
  await note.click();
  await page.getByTestId("composer").waitFor();
  await send(page, "remember the milk");
  await waitCount(page, sentOut, 1, 60000);
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();
  // Now a conversation of its own, titled Note to Self; the shortcut has gone.
  await row(page, "remember the milk").locator('[data-testid="name"]', { hasText: "Note to Self" }).waitFor();
  assert.equal(await note.count(), 0);

  // Typing one's own ID in "New conversation" opens it too.
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(ada.id);
  await page.getByText("That is your own ID: it opens your Note to Self.").waitFor();
  await page.getByRole("button", { name: "Start" }).click();
  await message(page, "out").filter({ hasText: "remember the milk" }).waitFor();
  await page.goBack();
  await page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor();
});

test("search finds conversations and messages, and a message found opens its conversation", async () => {
  const { ada } = people;
  const page = ada.page;
  await page.setViewportSize({ width: 390, height: 900 });
  const search = page.getByRole("searchbox", { name: "Search" });
  await search.fill("STATION");
  const hit = page.getByTestId("search-hit");
  await hit.first().waitFor();
  assert.equal(await hit.count(), 1);
  assert.equal((await hit.locator(".title").textContent()).trim(), "Ben");
  assert.equal(await hit.locator("mark").textContent(), "Station");
  assert.match(await hit.locator(".snippet").textContent(), /^…meet at the Station at noon\?$/);
  await shots(page, "layout-search", { fullPage: false });
  // Typing on replaces the answer: a name finds its conversation; nothing, says so.
  await search.fill("1234");
  await row(page, "1234").waitFor();
  assert.equal(await hit.count(), 0);
  await search.fill("no such words anywhere");
  await page.getByText("Nothing found.").waitFor();
  await search.fill("station");
  await hit.first().click();
  await page.locator("#conversation-title", { hasText: "Ben" }).waitFor();
  await message(page, "out").filter({ hasText: "Station at noon" }).waitFor();
  await page.goBack();
  await search.fill("");
  await row(page, "1234").waitFor();
  await page.setViewportSize({ width: 1280, height: 900 });
});
