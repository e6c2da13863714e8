// Every screen and state, screenshotted at 390 and 1280 px wide into tests/out/ (look at them):
// welcome, the new phrase, the confirmation with an error, the profile, Home empty and with
// conversations (a message request with unread messages), a new conversation with a validation
// error, a conversation with sending/sent/failed messages, the request panel, Settings with the
// paths, the dark theme, unlock (and a wrong passphrase), "Forgot passphrase?", deleting while
// locked, restore with an error, and "Hush is open in another tab".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PASS, NOBODY, createAccount, message, openChat, openRow, home, send, shots } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

// Requests the test aborts on purpose show up as failed loads.
const aborted = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;

test("every screen and state at 390 and 1280 px", async () => {
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const a = await strictPage(ctxA);
  const b = await strictPage(ctxB);
  const page = a.page;

  // Onboarding.
  await page.goto(devnet.appUrl);
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  await shots(page, "welcome");
  await page.getByRole("button", { name: "Create account" }).click();
  const phrase = (await page.getByTestId("recovery-phrase").textContent()).trim();
  await shots(page, "phrase");
  await page.getByRole("button", { name: "I have written it down" }).click();
  const labels = await page.locator("label").allTextContents();
  const positions = labels.map((l) => Number(l.replace("Word ", ""))).filter(Boolean);
  for (const p of positions) await page.getByLabel(`Word ${p}`, { exact: true }).fill("wrong");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
  await shots(page, "confirm");
  const words = phrase.split(" ");
  for (const p of positions) await page.getByLabel(`Word ${p}`, { exact: true }).fill(words[p - 1]);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Display name").fill("Alice");
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByLabel("Passphrase again").fill(PASS);
  await page.getByText("Strong.").waitFor();
  await shots(page, "profile");
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: "Hello, Alice" }).waitFor({ timeout: 60000 });
  const idA = (await page.getByTestId("session-id").textContent()).trim();
  await shots(page, "home-empty");

  // A new conversation with an ID that is not one yet.
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(idA.slice(0, 30));
  await page.getByText("Not a Session ID yet").waitFor();
  await shots(page, "new-conversation-error");
  await page.getByRole("button", { name: "Cancel" }).click();

  // A conversation with one message sent, one failed and one still sending.
  await openChat(page, NOBODY);
  await send(page, "This one was sent.");
  await message(page, "out").filter({ hasText: "This one was sent." }).and(page.locator('[data-status="sent"]'))
    .waitFor({ timeout: 30000 });
  const onion = "**/v1/onion/**";
  await page.route(onion, (route) => route.abort());
  await send(page, "This one could not be sent.");
  await message(page, "out").filter({ hasText: "could not be sent" }).and(page.locator('[data-status="failed"]'))
    .waitFor({ timeout: 60000 });
  await page.unroute(onion);
  const held = [];
  await page.route(onion, (route) => { held.push(route); });
  await send(page, "And this one is on its way, with a longer text that wraps over more than one line on a phone.");
  await message(page, "out").filter({ hasText: "on its way" }).and(page.locator('[data-status="sending"]')).waitFor();
  await shots(page, "conversation-states");
  await page.unroute(onion);
  for (const route of held) await route.abort().catch(() => {});

  // Bob writes: Alice gets a message request with two unread messages.
  const { id: idB } = await createAccount(b.page, devnet.appUrl, "Bob");
  await openChat(b.page, idA);
  await send(b.page, "Hi Alice, it's Bob from the climbing club.");
  await send(b.page, "Are you coming on Saturday?");
  await waitSent(b.page, 2);
  await home(page);
  await page.getByTestId("conversation").filter({ hasText: "Message request" }).filter({ hasText: "2 unread" })
    .waitFor({ timeout: 60000 });
  await shots(page, "home-conversations");
  await openRow(page, "Bob");
  await page.getByRole("group", { name: "Message request" }).waitFor();
  await message(page, "in").filter({ hasText: "Saturday" }).waitFor();
  await shots(page, "request");
  await home(page);

  // Settings, with the onion paths.
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByTestId("path").first().waitFor({ timeout: 30000 });
  await shots(page, "settings");

  // The dark theme.
  await page.getByLabel("Theme").selectOption("dark");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.equal(await page.locator(".theme-dark").count(), 1);
  await shots(page, "dark-settings");
  await home(page);
  await shots(page, "dark-home");
  await openRow(page, "Bob");
  await shots(page, "dark-request");
  await home(page);

  // Locked: unlock, a wrong passphrase, "Forgot passphrase?", deleting while locked.
  await page.getByRole("button", { name: "Lock now" }).click();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await shots(page, "dark-unlock");
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await shots(page, "unlock");
  await page.getByLabel("Passphrase", { exact: true }).fill("not the passphrase");
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "does not unlock" }).waitFor({ timeout: 60000 });
  await shots(page, "unlock-wrong");
  await page.getByRole("button", { name: "Forgot passphrase?" }).click();
  await page.getByLabel("Recovery phrase").fill(phrase.replace(words[4], "zzzzz"));
  await page.getByLabel("New passphrase", { exact: true }).fill("another long passphrase");
  await page.getByLabel("New passphrase again").fill("another long passphrase");
  await page.getByRole("button", { name: "Recover" }).click();
  await page.getByRole("alert").waitFor({ timeout: 60000 });
  await shots(page, "forgot");
  await page.getByRole("button", { name: "Back", exact: true }).click();
  await page.getByRole("button", { name: "Delete account on this device" }).click();
  await page.getByRole("button", { name: "Delete account", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "Type DELETE" }).waitFor();
  await shots(page, "delete-locked");
  await page.getByRole("button", { name: "Cancel" }).click();

  // A second tab of the same browser.
  const second = await strictPage(ctxA);
  await second.page.goto(devnet.appUrl);
  await second.page.getByRole("heading", { name: "Hush is open in another tab" }).waitFor();
  await shots(second.page, "other-tab");
  await second.page.close();

  // Restore with a phrase that has a wrong word.
  const c = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  await c.page.goto(devnet.appUrl);
  await c.page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  await c.page.getByLabel("Recovery phrase").fill(phrase.replace(words[4], "zzzzz"));
  await c.page.getByRole("button", { name: "Restore" }).click();
  await c.page.getByRole("alert").filter({ hasText: "Word 5 is not" }).waitFor();
  await shots(c.page, "restore-error");

  assert.ok(idB.startsWith("05"));
  assert.deepEqual(a.problems.filter((p) => !aborted.test(p)), []);
  assert.deepEqual(second.problems, []);
  assert.deepEqual(b.problems, []);
  assert.deepEqual(c.problems, []);
});

async function waitSent(page, n) {
  await page.waitForFunction((count) =>
    document.querySelectorAll('[data-testid="message"][data-direction="out"][data-status="sent"]').length >= count,
  n, { timeout: 60000 });
}
