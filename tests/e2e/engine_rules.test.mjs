// The engine's rules as a person meets them in the browser: a photo from a Session client is kept
// and shown (the list saying what a message of files holds); a draft survives a
// reload; accepting a message request while offline reaches the other side once the network is
// back; and messages that failed during an outage go out on their own when it ends, with no Retry.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PY_ID, PY_MNEMONIC, python, createAccount, unlock, message, openChat, openRow, picture, send, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';
const failedOut = '[data-testid="message"][data-direction="out"][data-status="failed"]';

test("a photo from a Session client is kept and shown, and the list says what it holds", async () => {
  const { page } = await strictPage(await browser.newContext());
  const { id } = await createAccount(page, devnet.appUrl, "Hannah");
  const dir = mkdtempSync(join(tmpdir(), "hush-photo-"));
  writeFileSync(join(dir, "photo.png"), await picture(page, 120, 80));
  const files = devnet.info.file_server;
  const sent = python(devnet, "file_peer.py", [PY_MNEMONIC, files.url, files.pubkey_ed25519, "send", id, "",
    "photo.png", "image/png", join(dir, "photo.png")]);
  assert.equal(sent.session_id, PY_ID);
  // A message of a picture alone: the list says what it holds, not an empty row.
  await page.getByTestId("conversation").filter({ hasText: "A photo." }).waitFor({ timeout: 60000 });
  await openRow(page, "Python Peer", 60000);
  // A request's files wait for trust; accepting fetches them.
  await page.getByRole("button", { name: "Accept" }).click();
  await message(page, "in").locator('[data-testid="attachment"][data-kind="image"][data-state="ready"]').waitFor({ timeout: 60000 });
});

test("a draft survives a reload, and sending clears it", async () => {
  const { page } = await strictPage(await browser.newContext());
  await createAccount(page, devnet.appUrl, "Dora");
  const peer = "05" + "c3".repeat(32);
  await openChat(page, peer);
  await page.getByTestId("composer").fill("half a thought, kept across a reload");
  // Kept a moment after typing stops.
  await page.waitForTimeout(1500);
  await page.reload();
  await unlock(page);
  await openChat(page, peer);
  await page.waitForFunction(() => document.querySelector('[data-testid="composer"]')?.value === "half a thought, kept across a reload", null, { timeout: 10000 });
  await send(page, "now sent");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer"]')?.value === "", null, { timeout: 10000 });
  await page.reload();
  await unlock(page);
  await openChat(page, peer);
  await message(page, "out").filter({ hasText: "now sent" }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await page.getByTestId("composer").inputValue(), "", "the sent draft came back");
});

test("accepting while offline reaches them later; failed messages go out on their own when the network is back", async () => {
  const [a, b] = await Promise.all([0, 1].map(async () => strictPage(await browser.newContext())));
  const { id: idA } = await createAccount(a.page, devnet.appUrl, "Alice");
  await createAccount(b.page, devnet.appUrl, "Bob");
  await openChat(b.page, idA);
  await send(b.page, "Hello Alice");
  await waitCount(b.page, sentOut, 1);
  await openRow(a.page, "Bob", 60000);
  await message(a.page, "in").filter({ hasText: "Hello Alice" }).waitFor();

  // Alice goes offline (the relay cannot be reached) and accepts: it waits in her outbox.
  const refuse = (route) => route.abort("internetdisconnected");
  await a.page.route("**/v1/**", refuse);
  await a.page.getByRole("button", { name: "Accept" }).click();
  await a.page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });
  await a.page.waitForTimeout(5000);
  await a.page.unroute("**/v1/**", refuse);
  // Back online, with nothing pressed: Bob learns that she accepted.
  await b.page.getByText("Alice accepted your message request.").waitFor({ timeout: 90000 });

  // Offline again, Alice writes: its rounds run out and it shows as not sent, with the reason.
  await a.page.route("**/v1/**", refuse);
  await send(a.page, "written while offline");
  await waitCount(a.page, failedOut, 1, 60000);
  await a.page.getByText(/^Not sent: /).waitFor();
  // Back online: no Retry pressed. It goes out on its own, and arrives once.
  await a.page.unroute("**/v1/**", refuse);
  await waitCount(a.page, sentOut, 1, 90000);
  await message(b.page, "in").filter({ hasText: "written while offline" }).waitFor({ timeout: 60000 });
  await b.page.waitForTimeout(3000);
  assert.equal(await message(b.page, "in").filter({ hasText: "written while offline" }).count(), 1);
});
