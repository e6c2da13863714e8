// A Session client not written here (session-python from PyPI) and a Hush user in the browser talk
// over the devnet: Python sends, Hush shows it; Hush replies, Python decrypts it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT, startDevnet, launchBrowser, strictPage, newAccount } from "./harness.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 8 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

// vectors-core.md §1.3: a fixed phrase, so the Python peer's Session ID is known.
const MNEMONIC = "unknown number jukebox pledge lipstick sieve tumbling federal womanly outbreak tapestry gorilla sieve";
const PY_ID = "05ab0badfc19ac18f71d7bb10d5ca5c92731aa301cc483169c691cf697b83e765a";

function peer(...args) {
  const seedPort = new URL(devnet.info.seed_url).port;
  const out = execFileSync(join(ROOT, ".venv", "bin", "python"), [join(ROOT, "tests", "compat", "peer.py"), seedPort, MNEMONIC, ...args],
    { encoding: "utf8", timeout: 60000 });
  return JSON.parse(out.trim().split("\n").pop());
}

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
