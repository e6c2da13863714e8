// Communities between Hush in the browser and session-python (from PyPI), on a devnet whose
// community server accepts unblinded keys (`--community-accept-unblinded`, as the real server with
// REQUIRE_BLIND_KEYS = False; off by default): session-python signs its SOGS requests with its
// unblinded `00` key only. Its post in `lobby` is shown in the page under its name and 05 id — the
// engine verified its signature (XEd25519 against that id) — and a post whose signature does not
// verify is not shown. Then session-python, made an admin of lobby (no rate limit) with
// `hush-node sogs-admin`, posts 150 messages and a newcomer pages back through all of them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join as path } from "node:path";
import { startDevnet, launchBrowser, strictPage, hushNodeBinary } from "./harness.mjs";
import { PY_ID, PY_MNEMONIC, createAccount, python, shots } from "./people.mjs";

let devnet, browser;
before(async () => {
  devnet = await startDevnet({ nodes: 6, extra: ["--community-accept-unblinded"] });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await devnet?.stop(); });

/** Runs tests/compat/community_peer.py as the session-python peer of PY_MNEMONIC in lobby. */
const peer = (...args) => python(devnet, "community_peer.py",
  [PY_MNEMONIC, devnet.info.community.url, devnet.info.community.pubkey, "lobby", ...args]);
const post = (page, text) => page.getByTestId("message").filter({ has: page.getByTestId("body").getByText(text, { exact: true }) });

async function join(page) {
  await page.getByTestId("join-community").click();
  await page.getByTestId("community-url").fill(devnet.info.community.lobby_url);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.locator("#room-title").waitFor({ timeout: 60000 });
  await page.getByTestId("community-url").waitFor({ state: "hidden", timeout: 60000 });
}

test("session-python's post, signed with its unblinded key, is shown verified; a forged one is not", async () => {
  const { page, problems } = await strictPage(await browser.newContext());
  await createAccount(page, devnet.appUrl, "Kim");
  await join(page);
  assert.equal(peer("id").xed_ok, true, "the phrase's Ed25519 key is the one its 05 id converts back to");
  // The forged post first: once the real one is shown, the poll that carried both is done.
  peer("forge", "a forged post");
  const { session_id } = peer("post", "hello from session-python");
  assert.equal(session_id, PY_ID);
  const seen = post(page, "hello from session-python");
  await seen.waitFor({ timeout: 60000 });
  assert.equal(await seen.getByTestId("name").textContent(), "Python Peer");
  assert.equal(await seen.getByTestId("blinded-id").getAttribute("title"), PY_ID);
  assert.equal(await seen.getAttribute("data-direction"), "in");
  await page.waitForTimeout(1000);
  assert.equal(await post(page, "a forged post").count(), 0, "a post whose signature does not verify is dropped");
  await shots(page, "communities-session-python", { fullPage: false });
  assert.deepEqual(problems, []);
});

test("a newcomer pages back through 150 posts", async () => {
  execFileSync(hushNodeBinary(), ["sogs-admin", "--data", path(devnet.data, "community"), "add-moderator", PY_ID,
    "--room", "lobby", "--admin", "--hidden"], { encoding: "utf8" });
  const { ids } = peer("post", "page", 150);
  assert.equal(ids.length, 150);
  const { page, problems } = await strictPage(await browser.newContext());
  await createAccount(page, devnet.appUrl, "Lee");
  await join(page);
  await post(page, "page 150").waitFor({ timeout: 60000 });
  assert.equal(await post(page, "page 1").count(), 0, "the oldest are not loaded at first");
  // "Older messages" (or scrolling to the top) pages further back until the first is there.
  for (let i = 0; i < 10 && (await post(page, "page 1").count()) === 0; i++) {
    await page.getByTestId("older").click({ timeout: 30000 });
    await page.waitForTimeout(500);
  }
  await post(page, "page 1").waitFor({ timeout: 30000 });
  const texts = await page.getByTestId("body").allTextContents();
  const pages = texts.filter((t) => /^page \d+$/.test(t)).map((t) => Number(t.slice(5)));
  assert.deepEqual(pages, Array.from({ length: 150 }, (_, i) => i + 1), "every post once, in order");
  assert.deepEqual(problems, []);
});
