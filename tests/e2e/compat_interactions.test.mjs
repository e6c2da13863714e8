// What people do to messages, between Hush in Chromium and a Session client not written here
// (session-python from PyPI, through tests/compat/peer.py), over the devnet, at 390×844 and
// 1280×800. From session-python: a quote of Hush's message, a reaction, a read receipt, a typing
// indicator, an unsend and a change of the disappearing-messages setting each show in the page, and
// its message set to disappear 25 s after sending leaves the page on time.
// From Hush: a reply, a reaction and its removal, a delete for everyone and a setting change each
// reach session-python with the protocol's fields (what `peer.py watch` decodes). Screenshots go
// to tests/out/compat-interactions-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PY_ID, PY_MNEMONIC, createAccount, home, message, openRow, python, send } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 8 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const peer = (...args) => python(devnet, "peer.py", [PY_MNEMONIC, ...args]);

/** What session-python received of `kind` until one matches `wanted` (each `watch` reads its
 *  whole swarm again), within `timeout` ms. */
function watchFor(kind, wanted, timeout = 60000) {
  const deadline = Date.now() + timeout;
  let seen = [];
  while (Date.now() < deadline) {
    seen = peer("watch", 10, kind, 1);
    const found = seen.find(wanted);
    if (found) return found;
  }
  throw new Error(`session-python received no matching ${kind}; it has ${JSON.stringify(seen)}`);
}

/** The message whose own text (not a quote in it) contains `text`. */
const bubble = (page, text) =>
  page.locator('[data-testid="message"]').filter({ has: page.locator('[data-testid="body"]', { hasText: text }) });
async function act(page, text, name) {
  const b = bubble(page, text).last();
  await b.hover();
  await b.getByRole("button", { name, exact: true }).click();
}

/** Turns on read receipts and typing indicators in Settings (both are off by default). */
async function receiptsAndTyping(page) {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("switch", { name: "Read receipts" }).check();
  await page.getByRole("switch", { name: "Typing indicators" }).check();
  await home(page);
}

for (const [width, height] of [[390, 844], [1280, 800]]) {
  test(`at ${width}×${height}: replies, reactions, receipts, typing, unsend and the disappearing setting both ways with session-python`, async () => {
    const context = await browser.newContext({ viewport: { width, height } });
    const { page, problems } = await strictPage(context);
    const shot = (name) => page.screenshot({ path: join(OUT, `compat-interactions-${name}-${width}.png`) });
    const { id: hushId } = await createAccount(page, devnet.appUrl, `Hannah ${width}`);
    await receiptsAndTyping(page);

    const first = peer("send", hushId, `hello from session-python ${width}`);
    assert.equal(first.session_id, PY_ID);
    await openRow(page, "Python Peer", 60000);
    await bubble(page, "hello from session-python").waitFor();
    await page.getByRole("button", { name: "Accept" }).click();
    await send(page, "hello back from Hush");
    await message(page, "out").and(page.locator('[data-status="sent"]')).waitFor({ timeout: 60000 });
    const mine = watchFor("data", (s) => s.from === hushId && s.body === "hello back from Hush");

    // ---- session-python → Hush ----
    // A quote of Hush's message, by its sent time and author: Hush shows its own text in it.
    peer("reply", hushId, "a quote from session-python", mine.timestamp, hushId);
    const quoting = bubble(page, "a quote from session-python");
    await quoting.waitFor({ timeout: 60000 });
    assert.deepEqual(await quoting.getByTestId("quote").locator("span").allTextContents(), ["You", "hello back from Hush"]);
    // A reaction to Hush's message.
    peer("react", hushId, mine.timestamp, hushId, "👍");
    const reacted = bubble(page, "hello back from Hush").locator('[data-testid="reaction"][data-emoji="👍"]');
    await reacted.waitFor({ timeout: 60000 });
    assert.equal(await reacted.getAttribute("title"), "Python Peer");
    assert.equal(await reacted.locator(".count").textContent(), "1");
    // A read receipt and a typing indicator (shown with the settings on).
    peer("read", hushId, mine.timestamp);
    await bubble(page, "hello back from Hush").locator(".when", { hasText: "· Read" }).waitFor({ timeout: 60000 });
    peer("typing", hushId, "on");
    await page.getByTestId("typing").filter({ hasText: "Python Peer is typing…" }).waitFor({ timeout: 60000 });
    await shot("typing");
    peer("typing", hushId, "off");
    await page.waitForFunction(() => document.querySelector('[data-testid="typing"]').textContent.trim() === "",
      null, { timeout: 60000 });
    // An unsend of one of its messages: the deleted marker.
    const doomed = peer("send", hushId, "session-python takes this back");
    await bubble(page, "session-python takes this back").waitFor({ timeout: 60000 });
    peer("unsend", hushId, doomed.timestamp, doomed.hash);
    await bubble(page, "session-python takes this back").waitFor({ state: "detached", timeout: 60000 });
    assert.equal(await page.locator('[data-testid="message"][data-direction="in"][data-status="deleted"]').count(), 1);
    // A message set to disappear 25 s after it was sent: shown, then gone from the page on time
    // without a reload (the sweeper), leaving no marker.
    const expiring = peer("expiring", hushId, "session-python's short-lived message", "send", 25);
    await bubble(page, "session-python's short-lived message").waitFor({ timeout: 60000 });
    await bubble(page, "session-python's short-lived message").waitFor({ state: "detached", timeout: 60000 });
    assert.ok(Date.now() >= expiring.timestamp + 25000, "it left the page before its time");
    assert.equal(await page.locator('[data-testid="message"][data-direction="in"][data-status="deleted"]').count(), 1);
    // A change of its disappearing-messages setting: a notice, with Follow setting.
    peer("disappear", hushId, "send", 86400);
    const notice = page.getByTestId("notice")
      .filter({ hasText: "Python Peer has set messages to disappear 1 day after they have been sent." });
    await notice.waitFor({ timeout: 60000 });
    await notice.getByRole("button", { name: "Follow setting" }).waitFor();
    await shot("from-python");

    // ---- Hush → session-python ----
    // A reply: the protocol's quote names the original by its sent time and author.
    await act(page, "hello from session-python", "Reply");
    await send(page, "a reply from Hush");
    const reply = watchFor("data", (s) => s.from === hushId && s.body === "a reply from Hush");
    assert.equal(reply.quote.id, first.timestamp);
    assert.equal(reply.quote.author, PY_ID);
    assert.equal(reply.quote.text, `hello from session-python ${width}`);
    // A reaction, then its removal.
    await act(page, "hello from session-python", "React");
    await page.getByRole("dialog", { name: "React" }).getByRole("button", { name: "❤️", exact: true }).click();
    const heart = bubble(page, "hello from session-python").locator('[data-testid="reaction"][data-emoji="❤️"]');
    await heart.waitFor();
    const added = watchFor("reaction", (s) => s.from === hushId && s.reaction.emoji === "❤️" && s.reaction.action === 0);
    assert.deepEqual(added.reaction, { id: first.timestamp, author: PY_ID, emoji: "❤️", action: 0 });
    await heart.click();
    await heart.waitFor({ state: "detached" });
    const removed = watchFor("reaction", (s) => s.from === hushId && s.reaction.emoji === "❤️" && s.reaction.action === 1);
    assert.deepEqual(removed.reaction, { id: first.timestamp, author: PY_ID, emoji: "❤️", action: 1 });
    // Delete for everyone: the unsend request names Hush's message by its sent time and author.
    await act(page, "hello back from Hush", "Delete for everyone");
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete for everyone" }).click();
    await page.locator('[data-testid="message"][data-direction="out"][data-status="deleted"]').waitFor();
    const unsend = watchFor("unsend", (s) => s.from === hushId);
    assert.deepEqual(unsend.unsend, { timestamp: mine.timestamp, author: hushId });
    // Hush's own setting: a flags=2 data message with the setting in Content fields 12/13, then
    // every message carries it.
    await page.getByRole("button", { name: "Disappearing messages", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Disappearing messages" });
    await dialog.getByRole("radio", { name: "Disappear after read" }).check();
    await dialog.getByRole("radio", { name: "12 hours" }).check();
    await dialog.getByRole("button", { name: "Set" }).click();
    await page.getByTestId("notice").filter({ hasText: "You set messages to disappear 12 hours after they have been read." }).waitFor();
    const change = watchFor("data", (s) => s.from === hushId && s.flags === 2);
    assert.equal(change.expirationType, 1);
    assert.equal(change.expirationTimer, 43200);
    assert.equal(change.body, "");
    await send(page, "this one disappears after it is read");
    const timed = watchFor("data", (s) => s.from === hushId && s.body === "this one disappears after it is read");
    assert.equal(timed.expirationType, 1);
    assert.equal(timed.expirationTimer, 43200);
    assert.equal(timed.flags, 0);
    await shot("from-hush");

    assert.deepEqual(problems, []);
    await context.close();
  });
}
