// Every text of the app comes from the catalogue (app/i18n). A browser that asks for the
// pseudo-locale en-XA gets every catalogue text wrapped as ⟦…⟧, so any text node, aria-label,
// placeholder or title without the brackets was written into the code: onboarding, Home, a
// conversation with a message each way, files before and after sending and the picture
// viewer, its menu, dialogs and reaction picker, the Join community dialog and a room, Settings,
// a row's menu, the nickname dialog, search, the unlock screen with its panels, and a second tab are
// searched. What the engine says is worded by the catalogue too: why a typed ID is not a
// Session ID, a deleted message's marker, and the list's preview of a disappearing-messages
// notice and of a deleted message. What people provide (names, IDs, message bodies, the recovery
// phrase), times from Intl, numbers and emoji are left out by selector. The page says
// lang="en-XA". In English a count takes its plural form ("1 day", "12 hours").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PASS, createAccount, message, openRow, picture, send } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

/** A catalogue text as en-XA shows it. */
const xa = (text) => `⟦${text}⟧`;

/** Text nodes and attributes of the page not from the catalogue: everything outside the
 *  excluded elements must hold a ⟦ or ⟧ unless it has no letter at all (numbers, times, "·",
 *  "×", emoji). */
function untranslated(page) {
  return page.evaluate(() => {
    // What people provide, and what Intl writes.
    const PERSONAL = [
      "bdi", "[data-testid=body]", "[data-testid=session-id]", "[data-testid=recovery-phrase]", ".mono",
      ".snippet", ".quote-text", ".quote-author", ".emoji", ".avatar", "mark", "script", "style", "noscript",
    ].join(", ");
    // Attributes that hold a name or an ID (the title of a cut name, the reactors' names).
    const NAMED = ["h2[title]", ".title[title]", ".sender[title]", ".reaction[title]", "#home-title"];
    const letters = /\p{L}/u;
    const marked = (s) => s.includes("⟦") || s.includes("⟧");
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      const parent = node.parentElement;
      if (!text || !letters.test(text) || marked(text) || parent?.closest(PERSONAL)) continue;
      found.push(`text "${text}" in <${parent?.tagName.toLowerCase()} class="${parent?.className}">`);
    }
    for (const el of document.body.querySelectorAll("[aria-label], [placeholder], [title]")) {
      if (el.closest(PERSONAL)) continue;
      for (const name of ["aria-label", "placeholder", "title"]) {
        const value = el.getAttribute(name)?.trim();
        if (!value || !letters.test(value) || marked(value)) continue;
        if (name === "title" && NAMED.some((s) => el.matches(s))) continue;
        found.push(`${name} "${value}" on <${el.tagName.toLowerCase()} class="${el.className}">`);
      }
    }
    if (!marked(document.title)) found.push(`document.title "${document.title}"`);
    return found;
  });
}

/** What each screen showed outside the catalogue (all of it is reported at the end). */
const outside = [];

/** Notes what `where` shows outside the catalogue. */
async function allFromTheCatalogue(page, where) {
  outside.push(...(await untranslated(page)).map((f) => `${where}: ${f}`));
}

test("in en-XA every text of every screen comes from the catalogue", async () => {
  // Bob speaks English.
  const bobContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const bob = await strictPage(bobContext);
  const { id: bobId } = await createAccount(bob.page, devnet.appUrl, "Bob");

  // Ann's browser asks for the pseudo-locale.
  const annContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-XA" });
  const { page, problems } = await strictPage(annContext);
  await page.goto(devnet.appUrl);
  await page.getByRole("button", { name: xa("Create account") }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en-XA");
  await allFromTheCatalogue(page, "Welcome");

  await page.getByRole("button", { name: xa("Create account") }).click();
  const words = (await page.getByTestId("recovery-phrase").textContent()).trim().split(" ");
  await allFromTheCatalogue(page, "the recovery phrase");
  await page.getByRole("button", { name: xa("I have written it down") }).click();
  await page.getByRole("button", { name: xa("Continue") }).waitFor();
  await allFromTheCatalogue(page, "checking the phrase");
  const labels = await page.locator("label").allTextContents();
  for (const label of labels) {
    const position = Number(label.match(/(\d+)/)?.[1]);
    await page.getByLabel(label, { exact: true }).fill(words[position - 1]);
  }
  await page.getByRole("button", { name: xa("Continue") }).click();
  await page.getByLabel(xa("Display name")).waitFor();
  await allFromTheCatalogue(page, "the profile");
  await page.getByLabel(xa("Display name")).fill("Ann");
  await page.getByLabel(xa("Passphrase"), { exact: true }).fill(PASS);
  await page.getByLabel(xa("Passphrase again")).fill(PASS);
  await allFromTheCatalogue(page, "the profile, filled");
  await page.getByRole("button", { name: xa("Finish") }).click();
  await page.getByRole("heading", { name: /^⟦Hello, Ann⟧$/ }).waitFor({ timeout: 60000 });
  const annId = (await page.getByTestId("session-id").textContent()).trim();
  await allFromTheCatalogue(page, "Home");

  // A conversation with Bob: Ann writes first, Bob answers.
  await page.getByTestId("new-conversation").click();
  await allFromTheCatalogue(page, "New conversation");
  // Why a typed ID is not one: the sentence around it and the reason are both the catalogue's.
  await page.getByTestId("recipient-id").fill("05zz");
  await page.getByText(`⟦Not a Session ID yet: ${xa("a Session ID has only the characters 0-9 and a-f; character 3 is not one of them")}.⟧`).waitFor();
  await allFromTheCatalogue(page, "New conversation, an invalid ID");
  await page.getByTestId("recipient-id").fill(bobId);
  await page.getByRole("button", { name: xa("Start") }).click();
  await page.getByTestId("composer").waitFor();
  await send(page, "hello Bob");
  await message(page, "out").filter({ hasText: "hello Bob" }).waitFor();
  await openRow(bob.page, "Ann", 90000);
  await send(bob.page, "hello Ann");
  await message(page, "in").filter({ hasText: "hello Ann" }).waitFor({ timeout: 90000 });
  // Files: the preview before sending, a picture and a file in a message, the viewer, and a file
  // over the limit.
  const png = await picture(page, 120, 80);
  await page.getByTestId("attach").setInputFiles([
    { name: "map.png", mimeType: "image/png", buffer: png },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("see you there") },
  ]);
  await page.getByTestId("chosen").nth(1).waitFor();
  await allFromTheCatalogue(page, "files to send");
  await page.getByTestId("send").click();
  const withFiles = page.locator('[data-testid="message"][data-direction="out"]').filter({ has: page.getByTestId("attachment") });
  await withFiles.locator('[data-testid="attachment"][data-state="ready"]').nth(1).waitFor({ timeout: 90000 });
  await allFromTheCatalogue(page, "a message with a picture and a file");
  await withFiles.getByRole("button", { name: xa("Open the picture") }).click();
  await page.getByRole("dialog", { name: xa("Picture 1 of 1") }).locator("img").waitFor();
  await allFromTheCatalogue(page, "the picture viewer");
  await page.keyboard.press("Escape");
  await page.getByTestId("viewer").waitFor({ state: "hidden" });
  await page.getByTestId("attach").setInputFiles([
    { name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10_000_001) },
  ]);
  await page.getByRole("alert").filter({ hasText: "huge.bin" }).waitFor();
  await allFromTheCatalogue(page, "a file over the limit");

  await page.getByTestId("composer").fill("a draft");
  await allFromTheCatalogue(page, "the conversation");

  // Its menu, a message's actions, the reaction picker and the dialogs.
  await page.getByText(xa("Options"), { exact: true }).click();
  await allFromTheCatalogue(page, "the Options menu");
  await page.keyboard.press("Escape");
  const theirs = message(page, "in").first();
  const act = async (name) => {
    await theirs.hover();
    await theirs.getByRole("button", { name: xa(name), exact: true }).click();
  };
  await act("React");
  await page.getByPlaceholder(xa("Other emoji")).waitFor();
  await allFromTheCatalogue(page, "the reaction picker");
  await page.keyboard.press("Escape");
  await act("Reply");
  await page.getByTestId("replying").waitFor();
  await allFromTheCatalogue(page, "a reply");
  await page.keyboard.press("Escape");
  await act("Delete for me");
  await page.getByRole("alertdialog").waitFor();
  await allFromTheCatalogue(page, "Delete for me?");
  await page.getByRole("button", { name: xa("Cancel") }).click();
  await page.getByRole("button", { name: xa("Disappearing messages") }).click();
  await page.getByLabel(xa("Disappear after read")).check();
  await page.getByText(xa("12 hours")).waitFor();
  await allFromTheCatalogue(page, "the disappearing-messages dialog");
  await page.getByRole("button", { name: xa("Set"), exact: true }).click();
  await page.getByTestId("disappearing-now").waitFor();
  // The list's preview of the notice is the catalogue's too (the engine says what it is).
  const preview = (text) =>
    page.getByTestId("conversation").filter({ hasText: "Bob" }).locator(".preview").filter({ hasText: text });
  await preview(xa("Messages disappear after they are read.")).waitFor({ state: "attached" });
  await send(page, "soon gone");
  await message(page, "out").filter({ hasText: "soon gone" }).getByTestId("timer").waitFor();
  await allFromTheCatalogue(page, "the conversation with a timer");

  // Deleted for everyone: the marker and the list's preview.
  const soonGone = message(page, "out").filter({ hasText: "soon gone" });
  await soonGone.hover();
  await soonGone.getByRole("button", { name: xa("Delete for everyone"), exact: true }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: xa("Delete for everyone") }).click();
  const deleted = page.locator('[data-testid="message"][data-direction="out"][data-status="deleted"]');
  assert.equal((await deleted.getByTestId("body").textContent()).trim(), xa("This message was deleted."));
  await preview(xa("This message was deleted.")).waitFor({ state: "attached" });
  await allFromTheCatalogue(page, "a message deleted for everyone");

  // Communities: the Join community dialog, a room with a post (its actions shown) and a reply
  // being written, Home with the room listed; then back to Bob.
  await page.getByRole("button", { name: xa("Back"), exact: true }).click();
  await page.getByTestId("join-community").click();
  await page.getByTestId("community-url").waitFor();
  await allFromTheCatalogue(page, "the Join community dialog");
  await page.getByTestId("community-url").fill(devnet.info.community.lobby_url);
  await page.getByRole("button", { name: xa("Join"), exact: true }).click();
  await page.locator("#room-title").waitFor({ timeout: 60000 });
  await page.getByTestId("community-url").waitFor({ state: "hidden", timeout: 60000 });
  await page.getByTestId("composer").fill("hello lobby");
  await page.getByTestId("send").click();
  const posted = page.getByTestId("message").filter({ hasText: "hello lobby" });
  await posted.waitFor({ timeout: 60000 });
  await posted.locator(".when").click();
  await posted.locator(".actions").getByRole("button", { name: xa("Reply"), exact: true }).click();
  await page.getByTestId("replying").waitFor();
  await allFromTheCatalogue(page, "a community room");
  await page.getByRole("button", { name: xa("Back"), exact: true }).click();
  await page.getByTestId("community").waitFor();
  await allFromTheCatalogue(page, "Home with a community");
  await openRow(page, "Bob");

  // A message the network would not take: why, in the catalogue's words (the engine keeps the
  // reason typed); the same reason in Settings' network status while the relay stays out of reach.
  const onion = "**/v1/onion/**";
  await page.route(onion, (route) => route.abort());
  await send(page, "not going anywhere");
  const stuck = message(page, "out").filter({ hasText: "not going anywhere" });
  await stuck.and(page.locator('[data-status="failed"]')).waitFor({ timeout: 60000 });
  assert.equal((await stuck.locator(".problem-reason").textContent()).trim(),
    xa(`Not sent: ${xa("the relay could not be reached")}`));
  await allFromTheCatalogue(page, "a message not sent");

  // Settings.
  await page.getByRole("button", { name: xa("Settings") }).click();
  await page.getByRole("heading", { name: xa("Settings"), exact: true }).waitFor();
  await page.getByRole("button", { name: xa("Copy Session ID") }).waitFor();
  await page.getByText(xa("the relay could not be reached"), { exact: false }).first().waitFor({ timeout: 60000 });
  await allFromTheCatalogue(page, "Settings, with the relay out of reach");
  await page.unroute(onion);
  assert.ok(annId.startsWith("05"));

  // Home again: a row's menu, the nickname dialog, search.
  await page.getByRole("button", { name: xa("Back"), exact: true }).click();
  await page.getByRole("heading", { name: /^⟦Hello, Ann⟧$/ }).waitFor();
  await page.locator(`summary[aria-label="${xa("Options for Bob")}"]`).click();
  await allFromTheCatalogue(page, "a row's menu");
  await page.getByRole("button", { name: xa("Set nickname") }).click();
  await page.getByLabel(xa("Nickname")).waitFor();
  await allFromTheCatalogue(page, "the nickname dialog");
  await page.keyboard.press("Escape");
  await page.getByPlaceholder(xa("Search")).fill("hello");
  await page.getByText(/^⟦\d+ results?⟧$/).waitFor();
  await allFromTheCatalogue(page, "search");

  // Locked: the unlock screen and its two other panels.
  await page.getByRole("button", { name: xa("Lock now") }).click();
  await page.getByRole("heading", { name: xa("Unlock Hush") }).waitFor({ timeout: 30000 });
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en-XA");
  await allFromTheCatalogue(page, "Unlock");
  await page.getByRole("button", { name: xa("Forgot passphrase?") }).click();
  await page.getByRole("heading", { name: xa("Forgot your passphrase?") }).waitFor();
  await allFromTheCatalogue(page, "Forgot passphrase?");
  await page.getByRole("button", { name: xa("Back") }).click();
  await page.getByRole("button", { name: xa("Delete account on this device") }).click();
  await page.getByLabel(xa("Type DELETE to confirm")).waitFor();
  await allFromTheCatalogue(page, "deleting while locked");
  await page.getByRole("button", { name: xa("Cancel") }).click();
  await page.getByLabel(xa("Passphrase"), { exact: true }).fill(PASS);
  await page.getByRole("button", { name: xa("Unlock"), exact: true }).click();
  await page.getByRole("heading", { name: /^⟦Hello, Ann⟧$/ }).waitFor({ timeout: 60000 });

  // A second tab: Hush is open in another one.
  const second = await strictPage(annContext);
  await second.page.goto(devnet.appUrl);
  await second.page.getByRole("heading", { name: xa("Hush is open in another tab") }).waitFor();
  await allFromTheCatalogue(second.page, "another tab");
  assert.deepEqual(second.problems, []);
  await second.page.close();

  // In English, counts take their plural form.
  await bob.page.getByRole("button", { name: "Disappearing messages" }).click();
  await bob.page.getByLabel("Disappear after read").check();
  const timers = (await bob.page.locator(".timer-dialog fieldset").last().locator("label").allTextContents())
    .map((t) => t.trim());
  assert.deepEqual(timers, ["5 minutes", "1 hour", "12 hours", "1 day", "1 week", "2 weeks"]);
  await bob.page.getByRole("button", { name: "Cancel" }).click();

  assert.deepEqual(outside, [], "text not from the catalogue");
  // Requests the test blocked show up as failed loads in the console; nothing else may.
  const blocked = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;
  assert.deepEqual(problems.filter((p) => !blocked.test(p)), []);
  assert.deepEqual(bob.problems, []);
  await annContext.close();
  await bobContext.close();
});
