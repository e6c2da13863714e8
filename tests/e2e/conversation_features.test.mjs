// What people do to messages, between two Hush users in two browsers over a devnet, at 390×844 and
// at 1280×800: a reply shows its quote on both sides and a click on the quote shows the original
// (paging in older history when it is not loaded); reactions added and removed show on both sides
// with their counts and who reacted; "Delete for me" and "Delete for everyone" ask first, then
// remove the message on one side only or leave the deleted marker on both; the disappearing-messages
// setting changes with notices on both sides and "Follow setting"; "New messages" while scrolled
// up; with read receipts and typing indicators on, "… is typing" and Read; bubbles as wide as
// their text; reactions, quotes, markers and notices readable in light and dark. Screenshots go
// to tests/out/conversation-*.png.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { assertReadable, createAccount, message, openChat, openRow, home, send, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

/** The message whose own text (not a quote in it) contains `text`. */
const bubble = (page, text) =>
  page.locator('[data-testid="message"]').filter({ has: page.locator('[data-testid="body"]', { hasText: text }) });
/** Hovers the message with `text` and presses its action `name`. */
async function act(page, text, name) {
  const b = bubble(page, text).last();
  await b.hover();
  await b.getByRole("button", { name, exact: true }).click();
}
const reaction = (b, emoji) => b.locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);
const notices = (page) => page.getByTestId("notice");
const dialog = (page) => page.getByRole("alertdialog");

for (const [width, height] of [[390, 844], [1280, 800]]) {
  describe(`at ${width}×${height}`, () => {
    let a, b, idA, idB;
    const shot = (page, name) => page.screenshot({ path: join(OUT, `conversation-${name}-${width}.png`) });

    before(async () => {
      a = await strictPage(await browser.newContext({ viewport: { width, height } }));
      b = await strictPage(await browser.newContext({ viewport: { width, height } }));
      ({ id: idA } = await createAccount(a.page, devnet.appUrl, "Ada"));
      ({ id: idB } = await createAccount(b.page, devnet.appUrl, "Ben"));
      await openChat(a.page, idB);
      await send(a.page, "Hello Ben");
      await openRow(b.page, "Ada", 60000);
      await b.page.getByRole("button", { name: "Accept" }).click();
      await message(b.page, "in").filter({ hasText: "Hello Ben" }).waitFor();
    });
    after(async () => {
      assert.deepEqual(a.problems, []);
      assert.deepEqual(b.problems, []);
      await a.page.context().close();
      await b.page.context().close();
    });

    test("a reply shows its quote on both sides, and the quote shows the original", async () => {
      await send(b.page, "Where shall we meet?");
      await bubble(a.page, "Where shall we meet?").waitFor({ timeout: 60000 });
      // Bubbles are as wide as their text, and a 1:1 conversation does not repeat the name on each.
      const widths = await bubble(a.page, "Where shall we meet?").evaluate((li) =>
        [li.getBoundingClientRect().width, li.parentElement.getBoundingClientRect().width, li.getBoundingClientRect().left - li.parentElement.getBoundingClientRect().left]);
      assert.ok(widths[0] < widths[1] * 0.75, `the bubble is ${widths[0]}px of ${widths[1]}px`);
      assert.ok(widths[2] < 8, "the incoming bubble is not at the left");
      const sender = await bubble(a.page, "Where shall we meet?").locator(".sender").boundingBox();
      assert.ok(sender.width <= 1 && sender.height <= 1, `the sender's name is shown: ${JSON.stringify(sender)}`);

      await act(a.page, "Where shall we meet?", "Reply");
      const replying = a.page.getByTestId("replying");
      assert.equal((await replying.locator("p").textContent()).trim(), "Replying to Ben: Where shall we meet?");
      assert.equal(await a.page.evaluate(() => document.activeElement.dataset.testid), "composer");
      await shot(a.page, "replying");
      // × (or Escape in the composer) leaves the reply.
      await a.page.getByRole("button", { name: "Cancel reply" }).click();
      await replying.waitFor({ state: "detached" });
      await act(a.page, "Where shall we meet?", "Reply");
      await a.page.getByTestId("composer").press("Escape");
      await replying.waitFor({ state: "detached" });
      // The keyboard reaches every message's actions: Tab from the list goes to the first one's,
      // and its bar shows while focus is in it; Enter on Reply starts the reply.
      const barShown = (b) => b.locator(".actions").evaluate((el) => getComputedStyle(el).clipPath === "none");
      await a.page.mouse.move(0, 0);
      await a.page.locator("ol.messages").focus();
      await a.page.keyboard.press("Tab");
      assert.deepEqual(await a.page.evaluate(() => [document.activeElement.textContent, document.activeElement.closest("li")?.dataset.testid]),
        ["Reply", "message"]);
      assert.ok(await barShown(bubble(a.page, "Hello Ben")), "the focused message's actions are hidden");
      assert.ok(!(await barShown(bubble(a.page, "Where shall we meet?"))), "another message's actions show");
      await bubble(a.page, "Where shall we meet?").getByRole("button", { name: "Reply", exact: true }).focus();
      assert.ok(await barShown(bubble(a.page, "Where shall we meet?")));
      await a.page.keyboard.press("Enter");
      await replying.waitFor();
      await send(a.page, "At the station");
      await replying.waitFor({ state: "detached" });

      // Both sides show the quote: the author's name ("You" for one's own) and the start of its text.
      const mine = bubble(a.page, "At the station");
      await mine.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 60000 });
      assert.deepEqual(await mine.getByTestId("quote").locator("span").allTextContents(), ["Ben", "Where shall we meet?"]);
      const theirs = bubble(b.page, "At the station");
      await theirs.waitFor({ timeout: 60000 });
      assert.deepEqual(await theirs.getByTestId("quote").locator("span").allTextContents(), ["You", "Where shall we meet?"]);
      await shot(b.page, "quote");

      // The quote shows the original: scrolled to and marked for a moment. Here the original is
      // loaded; after 50 newer messages and reopening, it is paged in from the vault first.
      for (let i = 1; i <= 50; i++) await send(a.page, `filler ${i}`);
      await waitCount(a.page, '[data-testid="message"][data-direction="out"]', 52);
      await act(a.page, "Where shall we meet?", "Reply");
      await send(a.page, "Again: the station");
      const again = bubble(a.page, "Again: the station");
      await again.waitFor();
      await home(a.page);
      await openRow(a.page, "Again: the station");
      await waitCount(a.page, '[data-testid="message"]', 50);
      assert.equal(await bubble(a.page, "Where shall we meet?").count(), 0, "the original is loaded already");
      await again.getByTestId("quote").click();
      const original = bubble(a.page, "Where shall we meet?");
      await a.page.locator('[data-testid="message"][data-highlight]').filter({ hasText: "Where shall we meet?" }).waitFor();
      const inView = await original.evaluate((li) => {
        const pane = li.closest("ol").getBoundingClientRect();
        const r = li.getBoundingClientRect();
        return r.top >= pane.top && r.bottom <= pane.bottom;
      });
      assert.ok(inView, "the original is not in view");
      await shot(a.page, "quote-jump");
      await a.page.locator("[data-highlight]").waitFor({ state: "detached" });
    });

    test("reactions show on both sides with their counts and who reacted, and come off again", async () => {
      const theirs = bubble(a.page, "Where shall we meet?");
      await act(a.page, "Where shall we meet?", "React");
      const picker = a.page.getByRole("dialog", { name: "React" });
      await picker.waitFor();
      // The six quick reactions (a new account's are Session's defaults), and any other emoji.
      assert.deepEqual(await picker.locator(".quick button").allTextContents(), ["👍", "❤️", "😂", "😮", "😢", "😡"]);
      await picker.getByLabel("Other emoji").waitFor();
      assert.equal(await a.page.evaluate(() => document.activeElement.textContent), "👍");
      await shot(a.page, "picker");
      // Escape closes it and gives focus back to React.
      await a.page.keyboard.press("Escape");
      await picker.waitFor({ state: "detached" });
      assert.equal(await a.page.evaluate(() => document.activeElement.textContent), "React");
      await act(a.page, "Where shall we meet?", "React");
      await picker.getByRole("button", { name: "👍", exact: true }).click();
      await picker.waitFor({ state: "detached" });
      const thumbs = reaction(theirs, "👍");
      await thumbs.waitFor();
      assert.equal((await thumbs.locator(".count").textContent()), "1");
      assert.equal(await thumbs.getAttribute("title"), "You");
      assert.equal(await thumbs.getAttribute("aria-pressed"), "true");

      // Ben sees it on his message, under Ada's name, and adds his own with the same button.
      const mine = bubble(b.page, "Where shall we meet?");
      const thumbsB = reaction(mine, "👍");
      await thumbsB.waitFor({ timeout: 60000 });
      assert.equal(await thumbsB.getAttribute("title"), "Ada");
      assert.equal(await thumbsB.getAttribute("aria-pressed"), "false");
      await thumbsB.click();
      await mine.locator('[data-testid="reaction"][data-emoji="👍"][aria-pressed="true"]').waitFor();
      assert.equal(await thumbsB.locator(".count").textContent(), "2");
      assert.equal(await thumbsB.getAttribute("title"), "Ada, You");
      await theirs.locator('[data-testid="reaction"][data-emoji="👍"][title="You, Ben"]').waitFor({ timeout: 60000 });
      assert.equal(await thumbs.locator(".count").textContent(), "2");
      assert.equal(await thumbs.getAttribute("aria-label"), "👍 2: You, Ben");

      // Any one emoji through "Other emoji"; two words are not one.
      await act(b.page, "Where shall we meet?", "React");
      const pickerB = b.page.getByRole("dialog", { name: "React" });
      await pickerB.getByLabel("Other emoji").fill("two words");
      await pickerB.getByRole("button", { name: "Add" }).click();
      await pickerB.getByRole("alert").filter({ hasText: "A reaction is one emoji." }).waitFor();
      await pickerB.getByLabel("Other emoji").fill("🎉");
      await pickerB.getByRole("button", { name: "Add" }).click();
      await pickerB.waitFor({ state: "detached" });
      await reaction(mine, "🎉").waitFor();
      await reaction(theirs, "🎉").waitFor({ timeout: 60000 });
      assert.equal(await reaction(theirs, "🎉").getAttribute("title"), "Ben");
      // Ben's picker now offers his recent ones first.
      await act(b.page, "Where shall we meet?", "React");
      assert.deepEqual(await pickerB.locator(".quick button").allTextContents(), ["🎉", "👍", "❤️", "😂", "😮", "😢"]);
      await b.page.keyboard.press("Escape");
      await pickerB.waitFor({ state: "detached" });
      await shot(a.page, "reactions");
      await shot(b.page, "reactions");

      // Ada takes hers back: one left, Ben's, on both sides.
      await thumbs.click();
      await theirs.locator('[data-testid="reaction"][data-emoji="👍"][aria-pressed="false"]').waitFor();
      assert.equal(await thumbs.locator(".count").textContent(), "1");
      assert.equal(await thumbs.getAttribute("title"), "Ben");
      await mine.locator('[data-testid="reaction"][data-emoji="👍"][title="You"]').waitFor({ timeout: 60000 });
      assert.equal(await thumbsB.locator(".count").textContent(), "1");
    });

    test("Delete for me removes a message on one side; Delete for everyone leaves a marker on both", async () => {
      await send(a.page, "only I forget this");
      await send(a.page, "nobody keeps this");
      await bubble(b.page, "nobody keeps this").waitFor({ timeout: 60000 });
      await bubble(b.page, "only I forget this").waitFor();
      // Ben replies to the one Ada will delete for herself.
      await act(b.page, "only I forget this", "Reply");
      await send(b.page, "I keep mine");
      await bubble(b.page, "I keep mine").getByTestId("quote").waitFor();
      await bubble(a.page, "I keep mine").getByTestId("quote").waitFor({ timeout: 60000 });
      // Their messages can be deleted for oneself only. A tap on a message shows its actions (on a
      // phone, under its text) until another tap.
      const tapped = bubble(b.page, "nobody keeps this");
      await tapped.getByTestId("body").click();
      await b.page.mouse.move(0, 0);
      assert.equal(await tapped.locator(".actions").evaluate((el) => getComputedStyle(el).clipPath), "none");
      assert.equal(await tapped.locator(".actions").evaluate((el) => getComputedStyle(el).position),
        width < 480 ? "static" : "absolute");
      assert.deepEqual(await tapped.locator(".actions button").allTextContents(), ["Reply", "React", "Delete for me"]);
      await shot(b.page, "tapped");
      await tapped.getByTestId("body").click();
      await b.page.mouse.move(0, 0);
      assert.notEqual(await tapped.locator(".actions").evaluate((el) => getComputedStyle(el).clipPath), "none");

      // Asked first: Cancel keeps it.
      await act(a.page, "only I forget this", "Delete for me");
      await a.page.getByRole("alertdialog", { name: "Delete for me?" }).waitFor();
      assert.equal((await dialog(a.page).locator(".dialog-text").textContent()).trim(),
        "Delete this message from this device? Ben keeps their copy.");
      await shot(a.page, "delete-for-me");
      await dialog(a.page).getByRole("button", { name: "Cancel" }).click();
      await dialog(a.page).waitFor({ state: "hidden" });
      assert.equal(await bubble(a.page, "only I forget this").count(), 1);
      await act(a.page, "only I forget this", "Delete for me");
      await dialog(a.page).getByRole("button", { name: "Delete", exact: true }).click();
      await bubble(a.page, "only I forget this").waitFor({ state: "detached" });
      // Ben's quote of it still shows its start; the original is no longer on Ada's device.
      const quote = bubble(a.page, "I keep mine").getByTestId("quote");
      assert.deepEqual(await quote.locator("span").allTextContents(), ["You", "only I forget this"]);
      await quote.click();
      await bubble(a.page, "I keep mine").getByRole("status").filter({ hasText: "The original message is not on this device." })
        .waitFor();

      await act(a.page, "nobody keeps this", "Delete for everyone");
      await a.page.getByRole("alertdialog", { name: "Delete for everyone?" }).waitFor();
      assert.equal((await dialog(a.page).locator(".dialog-text").textContent()).trim(),
        "Delete this message for everyone? It is removed from this device and Ben is asked to delete it.");
      await shot(a.page, "delete-for-everyone");
      await dialog(a.page).getByRole("button", { name: "Delete for everyone" }).click();
      const marker = (page) => page.locator('[data-testid="message"][data-status="deleted"]');
      await marker(a.page).waitFor();
      await marker(b.page).waitFor({ timeout: 60000 });
      for (const page of [a.page, b.page]) {
        assert.equal(await marker(page).count(), 1);
        assert.equal((await marker(page).getByTestId("body").textContent()).trim(), "This message was deleted.");
        assert.equal(await marker(page).getByTestId("body").evaluate((e) => getComputedStyle(e).fontStyle), "italic");
        // A marker has no actions.
        assert.equal(await marker(page).getByRole("button").count(), 0);
        assert.equal(await bubble(page, "nobody keeps this").count(), 0);
      }
      // Ben still has the one Ada deleted only for herself.
      assert.equal(await bubble(b.page, "only I forget this").count(), 1);
      assert.equal(await bubble(a.page, "only I forget this").count(), 0);
      await shot(b.page, "deleted");
    });

    test("the disappearing-messages setting: notices on both sides, and Follow setting", async () => {
      const timerButton = (page) => page.getByRole("button", { name: "Disappearing messages", exact: true });
      const timerDialog = (page) => page.getByRole("dialog", { name: "Disappearing messages" });
      // Escape changes nothing.
      await timerButton(a.page).click();
      await timerDialog(a.page).waitFor();
      assert.equal(await timerDialog(a.page).getByRole("radio", { name: "Off" }).isChecked(), true);
      await a.page.keyboard.press("Escape");
      await timerDialog(a.page).waitFor({ state: "hidden" });
      assert.equal(await a.page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Disappearing messages");
      assert.equal(await notices(a.page).count(), 0);

      await timerButton(a.page).click();
      await timerDialog(a.page).getByRole("radio", { name: "Disappear after read" }).check();
      assert.deepEqual(await timerDialog(a.page).locator('input[name="timer-time"]').evaluateAll((els) =>
        els.map((e) => e.parentElement.textContent)), ["5 minutes", "1 hour", "12 hours", "1 day", "1 week", "2 weeks"]);
      await timerDialog(a.page).getByRole("radio", { name: "Disappear after send" }).check();
      assert.deepEqual(await timerDialog(a.page).locator('input[name="timer-time"]').evaluateAll((els) =>
        els.map((e) => e.parentElement.textContent)), ["12 hours", "1 day", "1 week", "2 weeks"]);
      await timerDialog(a.page).getByRole("radio", { name: "1 day" }).check();
      await shot(a.page, "timer-dialog");
      await timerDialog(a.page).getByRole("button", { name: "Set" }).click();
      await timerDialog(a.page).waitFor({ state: "hidden" });

      const mineSet = "You set messages to disappear 1 day after they have been sent.";
      await notices(a.page).filter({ hasText: mineSet }).waitFor();
      assert.equal((await a.page.getByTestId("disappearing-now").textContent()).trim(), "1 day");
      const theirSet = notices(b.page).filter({ hasText: "Ada has set messages to disappear 1 day after they have been sent." });
      await theirSet.waitFor({ timeout: 60000 });
      assert.equal(await b.page.getByTestId("disappearing-now").count(), 0, "a peer's change changed Ben's setting");
      // The notices are lines, not messages.
      assert.equal(await b.page.locator('[data-testid="message"]').filter({ hasText: "has set messages" }).count(), 0);

      // Messages now carry the timer; they are removed when it runs out (the engine's own
      // devnet test, disappearing_messages_leave_screens_vaults_and_swarms_on_time, waits for it).
      await send(a.page, "gone tomorrow");
      await bubble(a.page, "gone tomorrow").getByTestId("timer").waitFor();
      assert.equal(await bubble(a.page, "gone tomorrow").getByTestId("timer").getAttribute("title"),
        "Disappears 1 day after it has been sent.");
      await bubble(b.page, "gone tomorrow").getByTestId("timer").waitFor({ timeout: 60000 });
      await shot(b.page, "follow");

      // Ben follows it: his own notice and setting; Ada's side shows his change, with nothing to follow.
      await theirSet.getByRole("button", { name: "Follow setting" }).click();
      await notices(b.page).filter({ hasText: mineSet }).waitFor();
      assert.equal((await b.page.getByTestId("disappearing-now").textContent()).trim(), "1 day");
      await theirSet.getByRole("button", { name: "Follow setting" }).waitFor({ state: "detached" });
      const benSet = notices(a.page).filter({ hasText: "Ben has set messages to disappear 1 day after they have been sent." });
      await benSet.waitFor({ timeout: 60000 });
      assert.equal(await benSet.getByRole("button").count(), 0);

      // Ada turns it off: Ben may follow again.
      await timerButton(a.page).click();
      await timerDialog(a.page).getByRole("radio", { name: "Off" }).check();
      await timerDialog(a.page).getByRole("button", { name: "Set" }).click();
      await notices(a.page).filter({ hasText: "You turned off disappearing messages." }).waitFor();
      await a.page.getByTestId("disappearing-now").waitFor({ state: "detached" });
      const off = notices(b.page).filter({ hasText: "Ada has turned disappearing messages off. Messages they send will no longer disappear." });
      await off.waitFor({ timeout: 60000 });
      await off.getByRole("button", { name: "Follow setting" }).waitFor();
      await shot(b.page, "notices");
      await off.getByRole("button", { name: "Follow setting" }).click();
      await notices(b.page).filter({ hasText: "You turned off disappearing messages." }).waitFor();
      await b.page.getByTestId("disappearing-now").waitFor({ state: "detached" });
    });

    test("Note to Self offers only disappearing after send", async () => {
      await home(a.page);
      await openChat(a.page, idA);
      await send(a.page, "a note");
      await a.page.getByRole("button", { name: "Disappearing messages", exact: true }).click();
      const timerDialog = a.page.getByRole("dialog", { name: "Disappearing messages" });
      await timerDialog.waitFor();
      assert.deepEqual(await timerDialog.getByRole("radio").evaluateAll((els) => els.map((e) => e.parentElement.textContent)),
        ["Off", "Disappear after send"]);
      await timerDialog.getByRole("button", { name: "Cancel" }).click();
      await timerDialog.waitFor({ state: "hidden" });
      await home(a.page);
      await openRow(a.page, "Ben");
    });

    test("\"New messages\" counts what arrives while scrolled up, and goes to the newest", async () => {
      const pane = a.page.locator("ol.messages");
      const atBottom = () => a.page.waitForFunction(() => {
        const el = document.querySelector("ol.messages");
        return el.scrollHeight > el.clientHeight && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
      });
      // The conversation opened at its newest message; what arrives there is simply shown.
      await atBottom();
      await send(b.page, "while you look");
      await bubble(a.page, "while you look").waitFor({ timeout: 60000 });
      await atBottom();
      assert.equal(await a.page.getByRole("button", { name: "New messages" }).count(), 0);
      // Ada scrolls up.
      await pane.evaluate((el) => { el.scrollTop = 0; });
      await a.page.waitForFunction(() => {
        const el = document.querySelector("ol.messages");
        return el.scrollHeight - el.scrollTop - el.clientHeight > 200;
      });
      await send(b.page, "news one");
      await send(b.page, "news two");
      const button = a.page.getByRole("button", { name: "New messages" });
      await button.filter({ hasText: "2" }).waitFor({ timeout: 60000 });
      await shot(a.page, "new-messages");
      await button.click();
      await button.waitFor({ state: "detached" });
      await atBottom();
      assert.equal(await a.page.evaluate(() => document.activeElement.tagName), "OL");
    });

    test("typing shows while they type, and Read once they read (both settings on)", async () => {
      // The settings are off by default; each person turns both on.
      for (const [page, them] of [[a.page, "Ben"], [b.page, "Ada"]]) {
        await home(page);
        await page.getByRole("button", { name: "Settings" }).click();
        await page.getByRole("switch", { name: "Read receipts" }).check();
        await page.getByRole("switch", { name: "Typing indicators" }).check();
        await home(page);
        await openRow(page, them);
      }
      const typing = a.page.getByTestId("typing");
      assert.equal(await typing.getAttribute("role"), "status");
      await b.page.getByTestId("composer").pressSequentially("I am wri");
      await typing.filter({ hasText: "Ben is typing…" }).waitFor({ timeout: 30000 });
      await shot(a.page, "typing");
      // A message from them ends it at once.
      await b.page.getByTestId("composer").pressSequentially("ting back");
      await b.page.getByTestId("send").click();
      await bubble(a.page, "I am writing back").waitFor({ timeout: 60000 });
      assert.equal((await typing.textContent()).trim(), "");
      // So does emptying the composer.
      await b.page.getByTestId("composer").pressSequentially("hm");
      await typing.filter({ hasText: "Ben is typing…" }).waitFor({ timeout: 30000 });
      await b.page.getByTestId("composer").fill("");
      await b.page.getByTestId("composer").press("Backspace");
      await a.page.waitForFunction(() => document.querySelector('[data-testid="typing"]').textContent.trim() === "",
        null, { timeout: 30000 });

      // Ben has the conversation open: Ada's message is read as it arrives, and she sees Read.
      await send(a.page, "read me");
      const readMe = bubble(a.page, "read me");
      await bubble(b.page, "read me").waitFor({ timeout: 60000 });
      await readMe.locator(".when", { hasText: "· Read" }).waitFor({ timeout: 60000 });
      assert.match((await readMe.locator(".when").textContent()).trim(), /^\d{2}:\d{2} · Read$/);
      await shot(a.page, "read");
    });

    test("quotes, reactions, markers and notices are readable in light and dark", async () => {
      // Older messages are paged in again where the conversation was opened again since.
      for (const p of [a.page, b.page]) {
        if (await bubble(p, "At the station").count()) continue;
        await bubble(p, "Again: the station").getByTestId("quote").click();
        await bubble(p, "At the station").waitFor();
      }
      for (const scheme of ["light", "dark"]) {
        for (const p of [a.page, b.page]) await p.emulateMedia({ colorScheme: scheme });
        await assertReadable(bubble(a.page, "At the station"), `a reply with its quote (${scheme})`);
        await assertReadable(bubble(b.page, "At the station"), `a received reply with its quote (${scheme})`);
        await assertReadable(bubble(a.page, "Where shall we meet?"), `a received message with reactions (${scheme})`);
        await assertReadable(bubble(b.page, "Where shall we meet?"), `a sent message with reactions (${scheme})`);
        await assertReadable(b.page.locator('[data-testid="message"][data-status="deleted"]'), `the deleted marker (${scheme})`);
        await assertReadable(notices(b.page).last(), `a notice (${scheme})`);
        await assertReadable(notices(b.page).filter({ hasText: "Ada has turned" }), `a notice with Follow setting (${scheme})`);
        await assertReadable(bubble(a.page, "gone tomorrow"), `a message with its timer (${scheme})`);
        await shot(a.page, `${scheme}`);
      }
      for (const p of [a.page, b.page]) await p.emulateMedia({ colorScheme: null });
    });
  });
}
