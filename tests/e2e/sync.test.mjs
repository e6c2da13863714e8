// The account's other browsers: the same account restored from its recovery phrase in a second
// browser shows the messages the first one sent (from the sync copies in its own swarm) as well
// as those it received, each once; the account's configs (its name, contacts with their
// nicknames, read state) reach the second browser and back, and the person it talks to sees one
// name.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PASS, createAccount, home, restoreAccount, message, openChat, openRow, send, shots, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';

test("a second browser restored from the phrase shows what the first one sent", async () => {
  const a = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const b = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  const { id: idA, phrase } = await createAccount(a.page, devnet.appUrl, "Alice");
  const { id: idB } = await createAccount(b.page, devnet.appUrl, "Bob");
  await openChat(a.page, idB);
  for (const text of ["first from Alice", "second from Alice", "third from Alice"]) await send(a.page, text);
  await waitCount(a.page, sentOut, 3);
  await openRow(b.page, "Alice");
  await b.page.getByRole("button", { name: "Accept" }).click();
  await send(b.page, "a reply from Bob");
  await message(a.page, "in").filter({ hasText: "a reply from Bob" }).waitFor({ timeout: 30000 });

  // Alice's second browser: a fresh profile, the same phrase.
  const a2 = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  assert.equal(await restoreAccount(a2.page, devnet.appUrl, phrase, "Alice too"), idA);
  await openRow(a2.page, "Bob", 60000);
  await waitCount(a2.page, sentOut, 3, 60000);
  for (const text of ["first from Alice", "second from Alice", "third from Alice"]) {
    assert.equal(await message(a2.page, "out").filter({ hasText: text }).count(), 1, text);
  }
  await message(a2.page, "in").filter({ hasText: "a reply from Bob" }).waitFor({ timeout: 30000 });
  const order = await a2.page.$$eval('[data-testid="message"] .body', (els) => els.map((e) => e.textContent));
  assert.deepEqual(order, ["first from Alice", "second from Alice", "third from Alice", "a reply from Bob"]);

  // What the second browser sends shows up in the first one too.
  await send(a2.page, "from Alice's phone");
  await message(a.page, "out").filter({ hasText: "from Alice's phone" }).waitFor({ timeout: 30000 });
  await message(b.page, "in").filter({ hasText: "from Alice's phone" }).waitFor({ timeout: 30000 });
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await message(a.page, "out").filter({ hasText: "from Alice's phone" }).count(), 1);
  assert.equal(await message(a2.page, "out").filter({ hasText: "from Alice's phone" }).count(), 1);

  for (const p of [a, b, a2]) assert.deepEqual(p.problems, []);
});

test("an account in two browsers keeps one name, its contacts and its read state; the person it talks to sees one name", async () => {
  const a = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const c = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  const { id: idA, phrase } = await createAccount(a.page, devnet.appUrl, "Ada");
  const { id: idC } = await createAccount(c.page, devnet.appUrl, "Cy");
  await openChat(a.page, idC);
  await send(a.page, "hello Cy");
  await openRow(c.page, "Ada");
  await c.page.getByRole("button", { name: "Accept" }).click();
  await send(c.page, "hi Ada");
  await message(a.page, "in").filter({ hasText: "hi Ada" }).waitFor({ timeout: 30000 });
  // A nickname, only Ada's: it goes into her contacts.
  await home(a.page);
  await a.page.locator('summary[aria-label="Options for Cy"]').click();
  await a.page.locator("li.conversation-item", { has: a.page.getByTestId("conversation").filter({ hasText: "Cy" }) })
    .getByRole("button", { name: "Set nickname" }).click();
  const dialog = a.page.getByRole("dialog", { name: "Set nickname" });
  await dialog.getByLabel("Nickname").fill("Cousin Cy");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  await a.page.getByTestId("conversation").filter({ hasText: "Cousin Cy" }).waitFor();

  // Her second browser, restored from the phrase: the name is not asked, the contact is there
  // with its nickname, accepted.
  const a2 = await strictPage(await browser.newContext({ viewport: { width: 390, height: 900 } }));
  const asked = {};
  assert.equal(await restoreAccount(a2.page, devnet.appUrl, phrase, "never asked", PASS, asked), idA);
  assert.equal(asked.name, false, "the profile's name was in the swarm");
  await a2.page.getByRole("heading", { name: "Hello, Ada" }).waitFor();
  await openRow(a2.page, "Cousin Cy", 60000);
  assert.equal(await a2.page.getByRole("button", { name: "Accept" }).count(), 0, "a contact, not a request");
  await shots(a2.page, "sync-restored");

  // A new name on the second browser reaches the first within a poll, and the person she talks
  // to sees one name whichever browser writes.
  await home(a2.page);
  await a2.page.getByRole("button", { name: "Settings" }).click();
  await a2.page.getByLabel("Display name").fill("Ada Lovelace");
  await a2.page.getByRole("button", { name: "Save", exact: true }).click();
  await a2.page.getByText("Saved.").waitFor();
  await a.page.getByRole("heading", { name: "Hello, Ada Lovelace" }).waitFor({ timeout: 60000 });
  await a2.page.getByRole("button", { name: "Back", exact: true }).click();
  await openRow(a2.page, "Cousin Cy");
  await send(a2.page, "from the second browser");
  await openRow(a.page, "Cousin Cy");
  await send(a.page, "from the first browser");
  for (const text of ["from the second browser", "from the first browser"]) {
    await message(c.page, "in").filter({ hasText: text }).waitFor({ timeout: 60000 });
  }
  await home(c.page);
  const rows = c.page.getByTestId("conversation");
  await rows.filter({ hasText: "Ada Lovelace" }).waitFor({ timeout: 30000 });
  assert.equal(await rows.count(), 1, "Cy has Ada once, under her new name");

  // Read on one browser, read on the other: Cy writes, Ada reads it in the first browser (the
  // conversation is open there), and the second browser's row shows nothing unread.
  await home(a2.page);
  await openRow(c.page, "Ada Lovelace");
  await send(c.page, "read this anywhere");
  await message(a.page, "in").filter({ hasText: "read this anywhere" }).waitFor({ timeout: 60000 });
  const row = a2.page.getByTestId("conversation").filter({ hasText: "Cousin Cy" });
  await row.filter({ hasText: "read this anywhere" }).waitFor({ timeout: 60000 });
  await a2.page.waitForFunction(() => {
    const r = [...document.querySelectorAll('[data-testid="conversation"]')].find((e) => e.textContent.includes("Cousin Cy"));
    return r && !r.querySelector(".unread");
  }, null, { timeout: 60000 });

  for (const p of [a, c, a2]) assert.deepEqual(p.problems, []);
});
