// The account's other browsers: the same account restored from its recovery phrase in a second
// browser shows the messages the first one sent (from the sync copies in its own swarm) as well
// as those it received, each once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, restoreAccount, message, openChat, openRow, send, waitCount } from "./people.mjs";

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
