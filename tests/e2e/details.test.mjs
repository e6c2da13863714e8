// Details of the screens end to end: the idle-lock choices read "1 minute", "1 hour" (a plural
// rule); the conversation's Options menu closes on Escape and gives focus back to its button;
// Block and Delete ask first in a dialog (Cancel and Escape change nothing); every text in a
// bubble, a failed message's reason included, keeps a 4.5:1 contrast in the light and the dark
// theme; Hebrew and Arabic text, names and titles read right to left (dir="auto"); a 64-character
// unbroken name stays one line with an ellipsis and its full text as a title; links in messages
// open only after "Open this link?", and no other text becomes anything but text.
// Screenshots at 390 and 1280 px go to tests/out/details-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { NOBODY, assertReadable, createAccount, message, openChat, openRow, home, send, shots } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

// Requests the test aborts on purpose show up as failed loads.
const aborted = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;
const onion = "**/v1/onion/**";
const WIDTHS = [390, 1280];

/** Screenshots `page` at its present width as tests/out/<name>-<width>.png. */
const shot = (page, name) => page.screenshot({ path: join(OUT, `${name}-${page.viewportSize().width}.png`) });
const row = (page, text) => page.getByTestId("conversation").filter({ hasText: text });
const dialog = (page) => page.getByRole("alertdialog");

/** A page whose every native dialog (alert, confirm, prompt) is recorded and dismissed: Hush
 *  asks its questions in the page. */
async function person(width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const strict = await strictPage(context);
  const native = [];
  strict.page.on("dialog", (d) => { native.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  return { ...strict, context, native };
}

/** What has focus: the tag and the text of the focused element. */
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return { tag: el.tagName, text: el.textContent.trim(), inDialog: !!el.closest("dialog[open]") };
});

async function settings(page) {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
}

async function chooseTheme(page, theme) {
  await settings(page);
  await page.getByLabel("Theme").selectOption(theme);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  await home(page);
}

test("the idle-lock choices read 1 minute, 5 minutes, 15 minutes, 1 hour", async () => {
  const { page, problems } = await person();
  await createAccount(page, devnet.appUrl, "Ida");
  await settings(page);
  const choices = await page.getByLabel("Lock after inactivity").locator("option").allTextContents();
  assert.deepEqual(choices.map((c) => c.trim()), ["1 minute", "5 minutes", "15 minutes", "1 hour", "Never"]);
  // The choice is kept by its number of minutes.
  await page.getByLabel("Lock after inactivity").selectOption({ label: "1 hour" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.equal(await page.getByLabel("Lock after inactivity").inputValue(), "60");
  assert.deepEqual(problems, []);
});

test("the Options menu closes on Escape, on a click outside and after a choice, and gives focus back", async () => {
  const { page, problems } = await person();
  await createAccount(page, devnet.appUrl, "Otto");
  await openChat(page, NOBODY);
  await send(page, "a conversation with options");
  const options = page.locator("summary", { hasText: "Options" });
  const block = page.getByRole("button", { name: "Block", exact: true });
  await options.waitFor({ timeout: 30000 });
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // Opened with the mouse, closed with Escape: focus is on the button that opened it.
    await options.click();
    await block.waitFor();
    await shot(page, "details-menu-open");
    await page.keyboard.press("Escape");
    await block.waitFor({ state: "hidden" });
    assert.deepEqual(await focused(page), { tag: "SUMMARY", text: "Options", inDialog: false });

    // Opened with the keyboard, Escape from inside the menu.
    await page.keyboard.press("Enter");
    await block.waitFor();
    await page.keyboard.press("Tab");
    assert.equal((await focused(page)).text, "Block");
    await page.keyboard.press("Escape");
    await block.waitFor({ state: "hidden" });
    assert.deepEqual(await focused(page), { tag: "SUMMARY", text: "Options", inDialog: false });

    // A click elsewhere closes it too.
    await options.click();
    await block.waitFor();
    await page.locator("#conversation-title").click();
    await block.waitFor({ state: "hidden" });
  }
  // Every popup menu in the app (a <details> with a panel) is closed by Escape: this one, and at
  // 1280 px the list's row menus beside it (the same menu; layout.test.mjs presses Escape in one).
  const rowMenus = await page.locator("li.conversation-item details.options").count();
  assert.equal(await page.locator("details").count(), 1 + rowMenus, "a popup menu this test does not know");
  assert.deepEqual(problems, []);
});

test("Block and Delete ask first in a dialog; Cancel and Escape change nothing", async () => {
  const a = await person(390);
  const b = await person(1280);
  const { id: idA } = await createAccount(a.page, devnet.appUrl, "Alma");
  await createAccount(b.page, devnet.appUrl, "Bruno");
  await openChat(b.page, idA);
  await send(b.page, "Hello Alma, Bruno here");
  await openRow(a.page, "Bruno", 60000);
  const request = a.page.getByRole("group", { name: "Message request" });
  await request.waitFor();

  // Block, from the message request: a dialog asks, with Cancel focused first.
  await request.getByRole("button", { name: "Block" }).click();
  const ask = dialog(a.page);
  await ask.waitFor();
  await a.page.getByRole("alertdialog", { name: "Block this person?" }).waitFor();
  assert.match(await ask.textContent(), /Messages from Bruno will no longer reach you\. You can unblock them later in Settings\./);
  assert.deepEqual(await ask.getByRole("button").allTextContents(), ["Cancel", "Block"]);
  assert.deepEqual(await focused(a.page), { tag: "BUTTON", text: "Cancel", inDialog: true });
  await shots(a.page, "details-confirm-block", { fullPage: false });
  // Escape cancels, and focus is back on the button that asked.
  await a.page.keyboard.press("Escape");
  await ask.waitFor({ state: "hidden" });
  assert.equal((await focused(a.page)).text, "Block");
  await request.waitFor();
  // Cancel changes nothing either.
  await request.getByRole("button", { name: "Block" }).click();
  await ask.getByRole("button", { name: "Cancel" }).click();
  await ask.waitFor({ state: "hidden" });
  await new Promise((r) => setTimeout(r, 500));
  await request.waitFor();
  assert.equal(await a.page.getByRole("group", { name: "Blocked" }).count(), 0);
  // The action's button blocks.
  await request.getByRole("button", { name: "Block" }).click();
  await ask.getByRole("button", { name: "Block" }).click();
  const blocked = a.page.getByRole("group", { name: "Blocked" });
  await blocked.waitFor();

  // Deleting the blocked person's messages asks too.
  await blocked.getByRole("button", { name: "Delete messages" }).click();
  await a.page.getByRole("alertdialog", { name: "Delete this conversation?" }).waitFor();
  assert.match(await ask.textContent(), /Every message with Bruno will be deleted from this device\. This cannot be undone\./);
  assert.deepEqual(await ask.getByRole("button").allTextContents(), ["Cancel", "Delete"]);
  await shots(a.page, "details-confirm-delete", { fullPage: false });
  await ask.getByRole("button", { name: "Cancel" }).click();
  await ask.waitFor({ state: "hidden" });
  await blocked.getByRole("button", { name: "Unblock" }).click();
  await a.page.getByTestId("composer").waitFor();
  await send(a.page, "Hi Bruno");

  // From the Options menu of the accepted conversation: Block asks, Escape cancels and focus
  // goes back to the menu's button.
  const options = a.page.locator("summary", { hasText: "Options" });
  await options.click();
  await a.page.getByRole("button", { name: "Block", exact: true }).click();
  await a.page.getByRole("alertdialog", { name: "Block this person?" }).waitFor();
  await a.page.keyboard.press("Escape");
  await ask.waitFor({ state: "hidden" });
  assert.deepEqual(await focused(a.page), { tag: "SUMMARY", text: "Options", inDialog: false });
  assert.equal(await a.page.getByRole("group", { name: "Blocked" }).count(), 0);
  // Delete conversation asks; Cancel keeps it; Delete deletes.
  await options.click();
  await a.page.getByRole("button", { name: "Delete conversation" }).click();
  await a.page.getByRole("alertdialog", { name: "Delete this conversation?" }).waitFor();
  await ask.getByRole("button", { name: "Cancel" }).click();
  await ask.waitFor({ state: "hidden" });
  await message(a.page, "in").filter({ hasText: "Hello Alma" }).waitFor();
  await options.click();
  await a.page.getByRole("button", { name: "Delete conversation" }).click();
  await ask.getByRole("button", { name: "Delete" }).click();
  await a.page.getByRole("heading", { name: "Hello, Alma" }).waitFor();
  assert.equal(await row(a.page, "Bruno").count(), 0);

  assert.deepEqual(a.native, [], "a native dialog was used");
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
});

test("every text in a bubble, a failed message's reason included, has 4.5:1 contrast in light and dark", async () => {
  const a = await person(390);
  const b = await person(1280);
  const { id: idA } = await createAccount(a.page, devnet.appUrl, "Lena");
  const { id: idB } = await createAccount(b.page, devnet.appUrl, "Mateo");
  await openChat(b.page, idA);
  await send(b.page, "Hi Lena, the plan is at https://example.invalid/plan.");
  await openRow(a.page, "Mateo", 60000);
  await a.page.getByRole("button", { name: "Accept" }).click();
  await send(a.page, "Thanks! See https://example.invalid/reply");
  const sent = message(a.page, "out").filter({ hasText: "Thanks!" });
  await sent.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 60000 });
  // A message that cannot leave: every onion request is refused on the way out.
  await a.page.route(onion, (route) => route.abort());
  await send(a.page, "This one fails, with a link https://example.invalid/failed");
  const failed = message(a.page, "out").filter({ hasText: "This one fails" });
  await failed.and(a.page.locator('[data-status="failed"]')).waitFor({ timeout: 60000 });
  const reason = failed.locator(".problem-reason");
  assert.match(await reason.textContent(), /^Not sent: /);

  for (const theme of ["light", "dark"]) {
    await home(a.page);
    await chooseTheme(a.page, theme);
    await openRow(a.page, "Mateo");
    await failed.locator(".problem-reason").waitFor();
    assert.equal(await a.page.locator(`.theme-${theme}`).count(), 1);
    const texts = await assertReadable(failed, `the failed message (${theme})`);
    assert.ok(texts.some((t) => t.text.startsWith("Not sent:")), "the reason was measured");
    assert.ok(texts.some((t) => t.in === "retry"), "Retry was measured");
    assert.ok(texts.some((t) => t.in === "A"), "the link was measured");
    await assertReadable(sent, `a sent message (${theme})`);
    await assertReadable(message(a.page, "in").first(), `a received message (${theme})`);
    await shots(a.page, `details-contrast-${theme}`, { fullPage: false });
  }
  await a.page.unroute(onion);

  assert.ok(idB.startsWith("05"));
  assert.deepEqual(a.problems.filter((p) => !aborted.test(p)), []);
  assert.deepEqual(b.problems, []);
});

test("Hebrew and Arabic read right to left: message text, names and titles have dir=auto", async () => {
  const a = await person(390);
  const b = await person(1280);
  const { id: idA } = await createAccount(a.page, devnet.appUrl, "Noa");
  const hebrewName = "דנה כהן";
  await createAccount(b.page, devnet.appUrl, hebrewName);
  await openChat(b.page, idA);
  await send(b.page, "שלום נועה, מה שלומך?");
  await send(b.page, "مرحبا، كيف حالك؟");
  await row(a.page, hebrewName).filter({ hasText: "كيف" }).waitFor({ timeout: 60000 });

  const directions = (page, selector) => page.locator(selector).evaluateAll((els) =>
    els.map((e) => ({ text: e.textContent.trim(), dir: e.getAttribute("dir"), direction: getComputedStyle(e).direction })));
  // Home: the name and the preview in the list.
  for (const el of await directions(a.page, '[data-testid="conversation"] bdi')) {
    assert.deepEqual({ dir: el.dir, direction: el.direction }, { dir: "auto", direction: "rtl" }, el.text);
  }
  await openRow(a.page, hebrewName);
  await message(a.page, "in").filter({ hasText: "كيف" }).waitFor();
  // The conversation: its title, the name in the request sentence and over each message.
  const names = await directions(a.page, '[data-testid="name"]');
  assert.ok(names.length >= 4, JSON.stringify(names));
  for (const el of names) {
    assert.deepEqual(el, { text: hebrewName, dir: "auto", direction: "rtl" });
  }
  assert.equal(await a.page.locator('#conversation-title bdi[dir="auto"]').textContent(), hebrewName);
  // Each message's text takes its own direction: right to left, aligned to the right.
  const bodies = await directions(a.page, '[data-testid="message"] [data-testid="body"]');
  assert.equal(bodies.length, 2);
  for (const el of bodies) assert.deepEqual({ dir: el.dir, direction: el.direction }, { dir: "auto", direction: "rtl" }, el.text);
  const alignedRight = await message(a.page, "in").first().evaluate((li) => {
    const body = li.querySelector(".body");
    const range = document.createRange();
    range.selectNodeContents(body);
    return Math.abs(range.getBoundingClientRect().right - body.getBoundingClientRect().right) < 2;
  });
  assert.ok(alignedRight, "the Hebrew text does not start at the right");
  // The reply typed in the composer takes its direction too, and reads right to left at B.
  assert.equal(await a.page.getByTestId("composer").getAttribute("dir"), "auto");
  await send(a.page, "תודה, הכול טוב");
  await message(b.page, "in").filter({ hasText: "תודה" }).waitFor({ timeout: 60000 });
  assert.equal(await message(b.page, "in").locator(".body").evaluate((e) => getComputedStyle(e).direction), "rtl");
  await shots(a.page, "details-rtl", { fullPage: false });
  await shots(b.page, "details-rtl-sender", { fullPage: false });
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
});

test("a 64-character unbroken name stays one line with an ellipsis, the whole name in its title", async () => {
  const LONG = "Maximiliana_Featherstonehaugh-Cholmondeley-Wolverhampton_the_3rd";
  const MINE = "Konstantinopolitanischerdudelsackpfeifenmachergesellenvereinigung".slice(0, 64);
  assert.equal(LONG.length, 64);
  assert.equal(MINE.length, 64);
  const a = await person(390);
  const b = await person(1280);
  const { id: idA } = await createAccount(a.page, devnet.appUrl, MINE);
  await createAccount(b.page, devnet.appUrl, LONG);
  await openChat(b.page, idA);
  await send(b.page, "A message from someone with a long name");
  await row(a.page, "A message from someone").waitFor({ timeout: 60000 });

  /** Every visible element showing `name` on the page: one line, inside the screen, cut by CSS
   *  (overflow hidden, nowrap, text-overflow: ellipsis) where it does not fit, and the whole name
   *  in the title of it or of the element that holds it. */
  const check = (page, name, where) => page.evaluate(([name, where]) => {
    const problems = [];
    let seen = 0;
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.data.includes(name)) continue;
      const el = n.parentElement;
      if (el.closest(".visually-hidden") || !el.getClientRects().length) continue;
      seen++;
      const say = (what) => problems.push(`${where}: <${el.tagName.toLowerCase()} class="${el.className}"> in ` +
        `<${el.parentElement.tagName.toLowerCase()} class="${el.parentElement.className}">: ${what}`);
      const holder = el.closest("[title]");
      if (holder?.getAttribute("title") !== name) say(`no title with the whole name (${holder?.getAttribute("title")})`);
      const range = document.createRange();
      range.selectNodeContents(n);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size !== 1) say(`${lines.size} lines`);
      let clip = null;
      for (let e = el; e && !clip; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.textOverflow === "ellipsis" && s.overflowX === "hidden" && s.whiteSpace === "nowrap") clip = e;
      }
      if (!clip) { say("nothing cuts it with an ellipsis"); continue; }
      const box = clip.getBoundingClientRect();
      if (box.right > document.documentElement.clientWidth + 0.5) say(`runs out of the screen (${box.right}px)`);
      if (box.height > 2 * parseFloat(getComputedStyle(clip).fontSize) * 1.5) say(`${box.height}px high`);
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth) problems.push(`${where}: the page scrolls sideways`);
    return { seen, problems };
  }, [name, where]);

  for (const width of WIDTHS) {
    await a.page.setViewportSize({ width, height: 900 });
    // Home: my own name in the greeting, theirs in the list.
    let r = await check(a.page, MINE, `home ${width}`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.seen, 1);
    r = await check(a.page, LONG, `home ${width}`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.seen, 1);
    await shot(a.page, "details-long-name-home");
    // The conversation: the title and the request sentence (a 1:1 conversation does not repeat
    // the name over each message; screen readers still hear it there).
    await openRow(a.page, "A message from someone");
    await message(a.page, "in").first().waitFor();
    r = await check(a.page, LONG, `conversation ${width}`);
    assert.deepEqual(r.problems, []);
    assert.ok(r.seen >= 2, `only ${r.seen} names seen`);
    await shot(a.page, "details-long-name-conversation");
    // Asking before blocking: the name in the dialog's sentence.
    await a.page.getByRole("group", { name: "Message request" }).getByRole("button", { name: "Block" }).click();
    await dialog(a.page).waitFor();
    r = await check(a.page, LONG, `dialog ${width}`);
    assert.deepEqual(r.problems, []);
    await shot(a.page, "details-long-name-dialog");
    await dialog(a.page).getByRole("button", { name: "Cancel" }).click();
    await home(a.page);
  }
  // Settings' blocked people.
  await openRow(a.page, "A message from someone");
  await a.page.getByRole("group", { name: "Message request" }).getByRole("button", { name: "Block" }).click();
  await dialog(a.page).getByRole("button", { name: "Block" }).click();
  await a.page.getByRole("group", { name: "Blocked" }).waitFor();
  for (const width of WIDTHS) {
    await a.page.setViewportSize({ width, height: 900 });
    const r = await check(a.page, LONG, `blocked ${width}`);
    assert.deepEqual(r.problems, []);
  }
  await home(a.page);
  await settings(a.page);
  for (const width of WIDTHS) {
    await a.page.setViewportSize({ width, height: 900 });
    const r = await check(a.page, LONG, `settings ${width}`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.seen, 1);
  }
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
});

test("links in messages open only after \"Open this link?\"; other text stays text", async () => {
  const { page, problems, context, native } = await person(390);
  await createAccount(page, devnet.appUrl, "Lior");
  await openChat(page, NOBODY);
  const target = `${devnet.appUrl}/icons/hush.svg?from=a-message`;
  const text = `Read <b>this</b> at ${target}. Or (see https://example.invalid/wiki/Hush_(film)), ` +
    "not javascript:alert(1), ftp://example.invalid/x nor www.example.invalid <img src=x onerror=alert(1)>";
  await send(page, text);
  const body = message(page, "out").filter({ hasText: "Read" }).locator('[data-testid="body"]');
  await body.waitFor();

  // Exactly the two http(s) addresses are links, without the sentence's punctuation; the rest
  // is the text as typed, never markup.
  const links = await body.locator("a").evaluateAll((as) => as.map((a) => ({
    href: a.getAttribute("href"), text: a.textContent, rel: a.getAttribute("rel"), target: a.getAttribute("target") })));
  assert.deepEqual(links, [
    { href: target, text: target, rel: "noopener noreferrer", target: "_blank" },
    { href: "https://example.invalid/wiki/Hush_(film)", text: "https://example.invalid/wiki/Hush_(film)",
      rel: "noopener noreferrer", target: "_blank" },
  ]);
  assert.equal(await body.textContent(), text);
  assert.equal(await body.locator("b, img").count(), 0);
  // Text and links only (Leptos's own markers are comments).
  assert.deepEqual(await body.evaluate((p) => [...p.childNodes].map((n) => n.nodeName).filter((n) => n !== "#comment")),
    ["#text", "A", "#text", "A", "#text"]);

  const pages = () => context.pages().length;
  const opened = pages();
  const link = body.locator("a").first();
  const address = page.getByTestId("link-address");
  const ask = page.getByRole("alertdialog", { name: "Open this link?" });
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // A click asks, showing the whole address; Cancel opens nothing.
    await link.click();
    await ask.waitFor();
    assert.equal((await address.textContent()).trim(), target);
    assert.deepEqual(await ask.getByRole("button").allTextContents(), ["Cancel", "Open"]);
    assert.deepEqual(await focused(page), { tag: "BUTTON", text: "Cancel", inDialog: true });
    await shot(page, "details-open-link");
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "hidden" });
    // A middle click and Enter on the link ask too; Escape opens nothing.
    await link.click({ button: "middle" });
    await ask.waitFor();
    await page.keyboard.press("Escape");
    await ask.waitFor({ state: "hidden" });
    assert.equal((await focused(page)).tag, "A", "focus did not come back to the link");
    await page.keyboard.press("Enter");
    await ask.waitFor();
    await page.keyboard.press("Escape");
    await ask.waitFor({ state: "hidden" });
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(pages(), opened, "a link opened without Open");

  // Open opens it, in a new tab that cannot reach back to Hush.
  await body.locator("a").nth(1).click();
  await ask.waitFor();
  assert.equal((await address.textContent()).trim(), "https://example.invalid/wiki/Hush_(film)");
  await ask.getByRole("button", { name: "Cancel" }).click();
  await link.click();
  const [tab] = await Promise.all([context.waitForEvent("page"), ask.getByRole("button", { name: "Open" }).click()]);
  await tab.waitForLoadState();
  assert.equal(tab.url(), target);
  assert.equal(await tab.evaluate(() => window.opener), null);
  await ask.waitFor({ state: "hidden" });
  assert.equal(pages(), opened + 1);

  assert.deepEqual(native, [], "a native dialog was used");
  assert.deepEqual(problems.filter((p) => !aborted.test(p)), []);
});
