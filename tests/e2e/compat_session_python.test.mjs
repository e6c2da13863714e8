// A Session client not written here (session-python from PyPI) and a Hush user in the browser talk
// over the devnet: Python sends, Hush shows it; Hush replies, Python decrypts it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage, newAccount } from "./harness.mjs";
import { PY_ID, PY_MNEMONIC, python } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 8 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const peer = (...args) => python(devnet, "peer.py", [PY_MNEMONIC, ...args]);

test("session-python sends to a Hush user and decrypts Hush's reply", async () => {
  const context = await browser.newContext();
  const { page, problems } = await strictPage(context);
  const hushId = await newAccount(page, devnet.appUrl, "Hannah");

  assert.equal(peer("send", hushId, "hello from session-python").session_id, PY_ID);
  const row = page.getByTestId("conversation").filter({ hasText: "Python Peer" });
  await row.waitFor({ timeout: 30000 });
  await row.click();
  await page.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: "hello from session-python" }).waitFor();
  await page.getByRole("button", { name: "Accept" }).click();

  await page.getByTestId("composer").fill("hello back from Hush");
  await page.getByTestId("send").click();
  await page.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor({ timeout: 30000 });
  const got = peer("poll", "20");
  assert.deepEqual(got, [{ from: hushId, body: "hello back from Hush" }]);
  assert.deepEqual(problems, []);
  await context.close();
});
