// Message requests end to end, three people in three browsers: accepting tells the other side
// (their MessageRequestResponse arrives), replying accepts, blocking drops what they send until
// unblocked (from Settings), deleting forgets a conversation (a request or an accepted one), and
// new incoming messages are read out while history is not.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openChat, openRow, home, send, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const row = (page, text) => page.getByTestId("conversation").filter({ hasText: text });
const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';

test("accept, reply, block, unblock and delete message requests", async () => {
  const [a, b, c] = await Promise.all([0, 1, 2].map(async (i) =>
    strictPage(await browser.newContext({ viewport: { width: i === 0 ? 1280 : 390, height: 900 } }))));
  const { id: idA } = await createAccount(a.page, devnet.appUrl, "Alice");
  const { id: idB } = await createAccount(b.page, devnet.appUrl, "Bob");
  await createAccount(c.page, devnet.appUrl, "Carol");

  // Bob writes first: until Alice accepts, Bob's side says his messages are a request.
  await openChat(b.page, idA);
  await b.page.getByText("Your first message reaches").waitFor();
  await send(b.page, "Hello Alice, Bob here");
  await waitCount(b.page, sentOut, 1);
  await b.page.getByText("sees your messages as a message request").waitFor();
  await row(a.page, "Message request").filter({ hasText: "Bob" }).waitFor({ timeout: 30000 });
  await openRow(a.page, "Bob");
  await message(a.page, "in").filter({ hasText: "Hello Alice" }).waitFor();
  // History shown when a conversation opens is not read out.
  assert.equal(await a.page.locator('.conversation-view [role="status"][aria-live="polite"]').textContent(), "");
  await a.page.getByRole("button", { name: "Accept" }).click();
  await a.page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });

  // Alice's MessageRequestResponse reaches Bob: he sees that she accepted, under her name.
  await b.page.getByText("Alice accepted your message request.").waitFor({ timeout: 30000 });
  // The title follows the conversation record, which the poll updates just after showing the
  // message: wait for it rather than read it at once.
  await b.page.locator("#conversation-title", { hasText: /^\s*Alice\s*$/ }).waitFor({ timeout: 10000 });
  await home(a.page);
  assert.equal(await row(a.page, "Message request").count(), 0);
  await row(a.page, "Bob").waitFor();

  // Carol writes; Alice replies without pressing Accept: the reply accepts the request.
  await openChat(c.page, idA);
  await send(c.page, "Hi Alice, it's Carol");
  await row(a.page, "Message request").filter({ hasText: "Carol" }).waitFor({ timeout: 30000 });
  await openRow(a.page, "Carol");
  await a.page.getByRole("group", { name: "Message request" }).waitFor();
  await send(a.page, "Hi Carol!");
  await a.page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });
  await waitCount(a.page, sentOut, 1);
  await message(c.page, "in").filter({ hasText: "Hi Carol!" }).waitFor({ timeout: 30000 });
  // The title follows the conversation record, which the poll updates just after showing the
  // message: wait for it rather than read it at once.
  await c.page.locator("#conversation-title", { hasText: /^\s*Alice\s*$/ }).waitFor({ timeout: 10000 });
  await home(a.page);
  assert.equal(await row(a.page, "Message request").count(), 0);

  // A new message from Bob is read out while Alice has the conversation open.
  await openRow(a.page, "Bob");
  await send(b.page, "Are you there?");
  await message(a.page, "in").filter({ hasText: "Are you there?" }).waitFor({ timeout: 30000 });
  await a.page.locator('.conversation-view [role="status"][aria-live="polite"]').filter({ hasText: "Bob: Are you there?" }).waitFor();

  // Alice blocks Bob (an accepted conversation), after saying yes to the question: what he sends
  // now never arrives.
  await a.page.getByText("Options").click();
  await a.page.getByRole("button", { name: "Block", exact: true }).click();
  await a.page.getByRole("alertdialog").getByRole("button", { name: "Block" }).click();
  await a.page.getByRole("group", { name: "Blocked" }).waitFor();
  assert.equal(await a.page.getByTestId("composer").count(), 0);
  await send(b.page, "Sent while blocked");
  await waitCount(b.page, sentOut, 3);
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(await message(a.page, "in").filter({ hasText: "Sent while blocked" }).count(), 0);
  await home(a.page);
  assert.equal(await row(a.page, "Bob").count(), 0, "a blocked person is not in the list");

  // Settings → Blocked people → Unblock: his next message arrives (the one sent while blocked does not).
  await a.page.getByRole("button", { name: "Settings" }).click();
  await a.page.getByRole("button", { name: "Unblock Bob" }).click();
  await a.page.getByText("No one is blocked.").waitFor();
  await home(a.page);
  await send(b.page, "After the unblock");
  await row(a.page, "Bob").filter({ hasText: "After the unblock" }).waitFor({ timeout: 30000 });
  await openRow(a.page, "Bob");
  await message(a.page, "in").filter({ hasText: "After the unblock" }).waitFor();
  assert.equal(await message(a.page, "in").filter({ hasText: "Sent while blocked" }).count(), 0);

  // Blocking from inside the conversation can be undone there too.
  await a.page.getByText("Options").click();
  await a.page.getByRole("button", { name: "Block", exact: true }).click();
  await a.page.getByRole("alertdialog").getByRole("button", { name: "Block" }).click();
  await a.page.getByRole("button", { name: "Unblock" }).click();
  await a.page.getByTestId("composer").waitFor();
  await home(a.page);

  // Alice deletes the accepted conversation with Carol: gone, and Carol's next message is a new request.
  await openRow(a.page, "Carol");
  await a.page.getByText("Options").click();
  await a.page.getByRole("button", { name: "Delete conversation" }).click();
  await a.page.getByRole("button", { name: "Delete", exact: true }).click();
  // (From 900 px wide Home is on the page beside the conversation: the conversation closing, and
  // the row going, say it is done.)
  await a.page.locator("#conversation-title").waitFor({ state: "detached" });
  await a.page.getByRole("heading", { name: "Hello, Alice" }).waitFor();
  await row(a.page, "Carol").waitFor({ state: "detached" });
  await send(c.page, "Did you delete me?");
  await row(a.page, "Message request").filter({ hasText: "Carol" }).waitFor({ timeout: 30000 });
  await openRow(a.page, "Carol");
  await waitCount(a.page, '[data-testid="message"]', 1);

  // Deleting a request (after the question): gone from the list.
  await a.page.getByRole("group", { name: "Message request" }).getByRole("button", { name: "Delete", exact: true }).click();
  await a.page.getByRole("alertdialog").getByRole("button", { name: "Delete", exact: true }).click();
  await a.page.locator("#conversation-title").waitFor({ state: "detached" });
  await a.page.getByRole("heading", { name: "Hello, Alice" }).waitFor();
  await row(a.page, "Carol").waitFor({ state: "detached" });

  // After a reload everything is as left.
  await a.page.reload();
  await a.page.getByLabel("Passphrase", { exact: true }).fill("a long enough passphrase");
  await a.page.getByRole("button", { name: "Unlock", exact: true }).click();
  await row(a.page, "Bob").waitFor({ timeout: 60000 });
  assert.equal(await row(a.page, "Carol").count(), 0);
  assert.equal(await row(a.page, "Message request").count(), 0);

  assert.ok(idB.startsWith("05"));
  for (const p of [a, b, c]) assert.deepEqual(p.problems, []);
});
