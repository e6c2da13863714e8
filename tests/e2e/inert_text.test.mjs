// Peers' text is inert: a Session client not written here (session-python, tests/compat/
// hostile_peer.py) sends what a hostile peer could — a display name 5,000 characters long with a
// right-to-left override in it, a 75,000-character text, a message dated 1 Jan 2100 — and Hush's
// own sentences still read in order, names stay one bounded line, the text is shortened with a
// visible marker and wraps, and the message from "2100" does not sort above a newer request.
// Screenshots of each screen go to tests/out/inert-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { python, createAccount, message, openRow, home, shots } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const RLO = "\u202E";
/** Bidirectional controls: embeddings, overrides, isolates and marks. */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
/** "Mallory", a right-to-left override, then more of the name, 5,000 characters in all. */
const NAME = ("Mallory" + RLO + " ").padEnd(5000, "Mallory ");
const YEAR_2100 = Date.UTC(2100, 0, 1);

/** Sends one message to `to` from a new session-python account; returns its Session ID. */
function hostile(to, name, text, sentAtMs = null) {
  return python(devnet, "hostile_peer.py", [], JSON.stringify({ to, name, text, sent_at_ms: sentAtMs })).session_id;
}

const row = (page, text) => page.getByTestId("conversation").filter({ hasText: text });

/** Where each word of `sentence` (found in the text of `locator`) is drawn: { word, left, top }. */
function wordBoxes(locator, sentence) {
  return locator.evaluate((el, sentence) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const pieces = [];
    let text = "";
    for (let n = walker.nextNode(); n; n = walker.nextNode()) { pieces.push([n, text.length]); text += n.data; }
    const start = text.indexOf(sentence);
    if (start < 0) throw new Error(`"${sentence}" is not in "${text.slice(0, 300)}"`);
    const at = (i) => { const [node, from] = pieces.findLast(([, from]) => from <= i); return [node, i - from]; };
    const words = [];
    for (const m of sentence.matchAll(/\S+/g)) {
      const range = document.createRange();
      const [sn, so] = at(start + m.index);
      const [en, eo] = at(start + m.index + m[0].length - 1);
      range.setStart(sn, so);
      range.setEnd(en, eo + 1);
      const box = range.getBoundingClientRect();
      words.push({ word: m[0], left: box.left, top: Math.round(box.top) });
    }
    return words;
  }, sentence);
}

/** Asserts that the words of Hush's `sentence` in `locator` are drawn left to right, line by line. */
async function readsInOrder(locator, sentence) {
  const words = await wordBoxes(locator, sentence);
  let pairs = 0;
  for (let i = 1; i < words.length; i++) {
    if (Math.abs(words[i].top - words[i - 1].top) > 2) continue;
    pairs++;
    assert.ok(words[i].left > words[i - 1].left,
      `"${words[i - 1].word}" is drawn after "${words[i].word}": ${JSON.stringify(words)}`);
  }
  assert.ok(pairs >= 3, `too few words on one line to tell: ${JSON.stringify(words)}`);
}

/** Every element that shows a piece of `text` sits in an isolated bidi context (a <bdi>, or
 *  unicode-bidi isolate/plaintext) below the sentence around it; returns how many were checked. */
function isolated(page, text) {
  return page.evaluate((text) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let checked = 0;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.data.includes(text)) continue;
      const el = n.parentElement;
      const bidi = getComputedStyle(el).unicodeBidi;
      if (el.tagName !== "BDI" && !["isolate", "plaintext", "isolate-override"].includes(bidi)) {
        throw new Error(`"${n.data.slice(0, 40)}…" is in a <${el.tagName.toLowerCase()} class="${el.className}"> with unicode-bidi: ${bidi}`);
      }
      checked++;
    }
    return checked;
  }, text);
}

const noBidiControls = async (page) =>
  assert.ok(!BIDI.test(await page.evaluate(() => document.body.textContent)), "a bidi control reached the page");
const noSideScroll = async (page) => assert.ok(await page.evaluate(() =>
  document.documentElement.scrollWidth <= document.documentElement.clientWidth), "the page scrolls sideways");

test("a 5,000-character display name with a right-to-left override reorders nothing and stays one short line", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const { id } = await createAccount(page, devnet.appUrl, "Hannah");
  hostile(id, NAME, "hello from a long name");
  const request = row(page, "hello from a long name");
  await request.waitFor({ timeout: 60000 });

  // Home: the name is one line inside its row, isolated, with no bidi control left in it.
  await noBidiControls(page);
  assert.ok(await isolated(page, "Mallory") >= 1);
  const title = request.locator(".title");
  const [titleBox, rowBox] = [await title.boundingBox(), await request.boundingBox()];
  assert.ok(titleBox.height < 30, `the name takes ${titleBox.height}px of height`);
  assert.ok(titleBox.x + titleBox.width <= rowBox.x + rowBox.width, "the name runs out of its row");
  await noSideScroll(page);
  await shots(page, "inert-name-home");

  // The conversation: Hush's sentence around the name reads left to right; the name in it, the
  // title and the name over the message are each one bounded line.
  await openRow(page, "hello from a long name");
  await message(page, "in").filter({ hasText: "hello from a long name" }).waitFor();
  const sentence = page.getByRole("group", { name: "Message request" }).locator("p");
  await readsInOrder(sentence, "is not in your conversations yet. Accept to talk, or just reply.");
  await noBidiControls(page);
  assert.ok(await isolated(page, "Mallory") >= 3, "the title, the sentence and the message's sender");
  const nameInSentence = await sentence.locator("bdi").boundingBox();
  assert.ok(nameInSentence.width <= 16 * 16 + 1, `the name takes ${nameInSentence.width}px of the sentence`);
  const heading = await page.locator("#conversation-title").boundingBox();
  assert.ok(heading.height < 40, `the title takes ${heading.height}px of height`);
  const bubble = message(page, "in").first();
  const [senderBox, bubbleBox] = [await bubble.locator(".sender").boundingBox(), await bubble.boundingBox()];
  assert.ok(senderBox.height < 24, `the sender's name takes ${senderBox.height}px of height`);
  assert.ok(senderBox.x + senderBox.width <= bubbleBox.x + bubbleBox.width, "the sender's name runs out of the message");
  await noSideScroll(page);
  await shots(page, "inert-name-conversation", { fullPage: false });
  assert.deepEqual(problems, []);
});

test("a 75,000-character text is shortened with a visible marker and wraps", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const { id } = await createAccount(page, devnet.appUrl, "Hannah");
  // One unbroken word, as long as the wire allows with room for the envelope (76,800 bytes).
  hostile(id, "Long Talker", "y".repeat(75000));
  await openRow(page, "Long Talker", 60000);
  const bubble = message(page, "in").first();
  await bubble.waitFor({ timeout: 30000 });
  const body = bubble.locator(".body");
  assert.equal((await body.textContent()).length, 10000, "the text is kept to 10,000 characters");
  const marker = bubble.getByTestId("shortened");
  assert.ok(await marker.isVisible());
  assert.match(await marker.textContent(), /^Message shortened — Hush keeps only its first 10,000 characters\.$/);
  assert.ok(await body.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), "the text does not wrap");
  const [bodyBox, listBox] = [await body.boundingBox(), await page.locator(".messages").boundingBox()];
  assert.ok(bodyBox.x + bodyBox.width <= listBox.x + listBox.width, "the text runs out of the conversation");
  await noSideScroll(page);
  await marker.scrollIntoViewIfNeeded();
  await shots(page, "inert-long-text", { fullPage: false });
  await home(page);
  const preview = await row(page, "Long Talker").locator(".preview").boundingBox();
  assert.ok(preview.height < 30, `the preview takes ${preview.height}px of height`);
  assert.deepEqual(problems, []);
});

test("a message dated 1 Jan 2100 does not pin its request above a newer one", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const { id } = await createAccount(page, devnet.appUrl, "Hannah");
  hostile(id, "From 2100", "written in the year 2100", YEAR_2100);
  await row(page, "From 2100").waitFor({ timeout: 60000 });
  hostile(id, "Just Now", "written a moment later");
  await row(page, "Just Now").waitFor({ timeout: 60000 });
  const order = await page.getByTestId("conversation").locator(".title").allTextContents();
  assert.ok(order.indexOf("Just Now") < order.indexOf("From 2100"), `the requests read ${JSON.stringify(order)}`);
  // Its time is when it arrived (today's clock), not 2100, and the message says so.
  const shown = (await row(page, "From 2100").locator(".time").textContent()).trim();
  assert.match(shown, /^\d{2}:\d{2}$/, `the list shows ${shown}`);
  await shots(page, "inert-2100-home");
  await openRow(page, "From 2100");
  const bubble = message(page, "in").filter({ hasText: "written in the year 2100" });
  await bubble.getByTestId("time-adjusted").waitFor();
  assert.match((await bubble.locator(".when").textContent()).trim(), /^\d{2}:\d{2} · when it arrived$/);
  await shots(page, "inert-2100-conversation", { fullPage: false });
  assert.deepEqual(problems, []);
});
