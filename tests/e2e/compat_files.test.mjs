// Files and profile pictures between Hush in the browser and session-python (from PyPI), over the
// devnet's file server: session-python's photo and document open in the page (the photo drawn,
// the document downloaded byte for byte); the page's photo and document are opened by
// session-python's own decrypt_attachment, bytes compared; a picture set in Settings rides on the
// page's messages and is drawn at the other side, and is gone there once removed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { PY_ID, PY_MNEMONIC, createAccount, message, openChat, openRow, picture, python, send, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const sha256 = (b) => createHash("sha256").update(b).digest("hex");
/** Runs tests/compat/file_peer.py as the session-python peer of PY_MNEMONIC. */
const peer = (...args) => python(devnet, "file_peer.py",
  [PY_MNEMONIC, devnet.info.file_server.url, devnet.info.file_server.pubkey_ed25519, ...args]);

test("session-python's photo and document open in the page, and the page's open in session-python", async () => {
  const { page } = await strictPage(await browser.newContext({ acceptDownloads: true }));
  const { id } = await createAccount(page, devnet.appUrl, "Hana");
  const dir = mkdtempSync(join(tmpdir(), "hush-compat-files-"));
  const photo = await picture(page, 320, 200);
  const doc = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(30000)]);
  writeFileSync(join(dir, "photo.png"), photo);
  writeFileSync(join(dir, "report.pdf"), doc);
  assert.equal(peer("send", id, "a photo and a report", "photo.png", "image/png", join(dir, "photo.png"),
    "report.pdf", "application/pdf", join(dir, "report.pdf")).session_id, PY_ID);

  await openRow(page, "Python Peer", 60000);
  // A message request's files wait for trust, as Session desktop's do: accepting fetches them.
  await page.getByRole("button", { name: "Accept" }).click();
  const bubble = message(page, "in").filter({ hasText: "a photo and a report" });
  await bubble.locator('[data-testid="attachment"][data-kind="image"][data-state="ready"]').waitFor({ timeout: 60000 });
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="message"][data-direction="in"] [data-testid="attachment"][data-kind="image"] img');
    return img && img.complete && img.naturalWidth === 320;
  }, null, { timeout: 60000 });
  const file = bubble.locator('[data-testid="attachment"][data-kind="file"]');
  await file.filter({ hasText: "report.pdf" }).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), file.getByTestId("download").click()]);
  assert.equal(download.suggestedFilename(), "report.pdf");
  assert.equal(sha256(readFileSync(await download.path())), sha256(doc));

  // The page sends a photo and a report back; session-python downloads and opens both.
  const back = await picture(page, 400, 300, "image/png");
  await page.getByTestId("attach").setInputFiles([
    { name: "back.png", mimeType: "image/png", buffer: back },
    { name: "back.pdf", mimeType: "application/pdf", buffer: doc.subarray(0, 12345) },
  ]);
  await send(page, "back to you");
  await waitCount(page, '[data-testid="message"][data-direction="out"][data-status="sent"]', 1);
  const got = peer("fetch", 40, 1);
  assert.equal(got.length, 1);
  assert.equal(got[0].from, id);
  assert.equal(got[0].body, "back to you");
  assert.deepEqual(got[0].files.map((f) => [f.name, f.contentType]), [["back.png", "image/png"], ["back.pdf", "application/pdf"]]);
  assert.equal(got[0].files[1].sha256, sha256(doc.subarray(0, 12345)));
  // A PNG goes as it is (only metadata chunks would be left out; this one has none).
  assert.equal(got[0].files[0].sha256, sha256(back));
});

test("a profile picture set in Settings is drawn at the other side, and goes when removed", async () => {
  const [a, b] = await Promise.all([0, 1].map(async () => strictPage(await browser.newContext())));
  await createAccount(a.page, devnet.appUrl, "Ida");
  const { id: bobId } = await createAccount(b.page, devnet.appUrl, "Jon");
  await a.page.getByRole("button", { name: "Settings" }).click();
  await a.page.getByRole("heading", { name: "Profile picture" }).waitFor();
  await a.page.getByTestId("avatar-input").setInputFiles({ name: "me.jpg", mimeType: "image/jpeg", buffer: await picture(a.page, 1200, 900, "image/jpeg") });
  await a.page.getByRole("status").filter({ hasText: "Your picture is set" }).waitFor({ timeout: 60000 });
  // Drawn in Settings at 640 px at most.
  await a.page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="avatar-picture"]');
    return img && img.complete && img.naturalWidth === 640 && img.naturalHeight === 480;
  }, null, { timeout: 20000 });
  await a.page.getByRole("button", { name: "Back" }).first().click();
  await openChat(a.page, bobId);
  await send(a.page, "see my picture");
  const row = b.page.getByTestId("conversation").filter({ hasText: "Ida" });
  await row.waitFor({ timeout: 60000 });
  await b.page.waitForFunction(() => {
    const img = [...document.querySelectorAll('[data-testid="conversation"] [data-testid="avatar-picture"]')][0];
    return img && img.complete && img.naturalWidth === 640;
  }, null, { timeout: 60000 });

  await a.page.getByRole("button", { name: "Back" }).first().click();
  await a.page.getByRole("button", { name: "Settings" }).click();
  await a.page.getByTestId("remove-picture").click();
  await a.page.getByRole("status").filter({ hasText: "Your picture is removed" }).waitFor({ timeout: 20000 });
  await a.page.getByRole("button", { name: "Back" }).first().click();
  await openChat(a.page, bobId);
  await send(a.page, "no picture now");
  await message(b.page, "in").filter({ hasText: "no picture now" }).waitFor({ timeout: 60000 }).catch(async () => {
    await openRow(b.page, "Ida");
    await message(b.page, "in").filter({ hasText: "no picture now" }).waitFor({ timeout: 60000 });
  });
  await b.page.waitForFunction(() => !document.querySelector('[data-testid="conversation"] [data-testid="avatar-picture"]'),
    null, { timeout: 30000 });
});
