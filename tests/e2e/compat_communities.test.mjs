// Communities between Hush in the browser and session-python (from PyPI), on a devnet whose
// community server accepts unblinded keys (`--community-accept-unblinded`, as the real server with
// REQUIRE_BLIND_KEYS = False; off by default): session-python signs its SOGS requests with its
// unblinded `00` key only. Its post in `lobby` is shown in the page under its name and 05 id — the
// engine verified its signature (XEd25519 against that id) — and a post whose signature does not
// verify is not shown. Then session-python, made an admin of lobby (no rate limit) with
// `hush-node sogs-admin`, posts 150 messages and a newcomer pages back through all of them.
// Invitations both ways: session-python's (the protocol's openGroupInvitation) shows as a card
// with the room's name and server, and Join opens the room; "Invite" in the room sends one that
// session-python decodes with the room's canonical URL and name.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join as path } from "node:path";
import { startDevnet, launchBrowser, strictPage, hushNodeBinary } from "./harness.mjs";
import { createAccount, openRow, PY_ID, PY_MNEMONIC, python, roomAction, shots } from "./people.mjs";

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

/** Runs tests/compat/peer.py (one-to-one messages) as the same session-python account. */
const direct = (...args) => python(devnet, "peer.py", [PY_MNEMONIC, ...args]);

test("a community invitation both ways with session-python", async () => {
  const { page, problems } = await strictPage(await browser.newContext());
  const { id: hushId } = await createAccount(page, devnet.appUrl, "Ivy");
  const lobby = devnet.info.community.lobby_url;
  // session-python → Hush: a card with the room's name and server; Join joins and opens the room.
  direct("invite", hushId, lobby, "The Lobby");
  await openRow(page, "Python Peer", 60000);
  const card = page.getByTestId("invitation");
  await card.waitFor({ timeout: 60000 });
  assert.equal(await card.getByTestId("invitation-name").textContent(), "The Lobby");
  const cardText = await card.textContent();
  assert.ok(cardText.includes("Community invitation") && cardText.includes(new URL(lobby).host), cardText);
  await page.getByRole("button", { name: "Accept" }).click();
  await shots(page, "invitation-received", { fullPage: false });
  await card.getByTestId("invitation-join").click();
  await page.locator("#room-title").waitFor({ timeout: 60000 });
  assert.equal(await page.locator("#room-title").textContent(), "Lobby");
  await page.getByTestId("community").filter({ hasText: "Lobby" }).waitFor();

  // Hush → session-python: "Invite" in the room lists the conversations; one invitation is sent.
  await roomAction(page, "invite");
  const dialog = page.getByTestId("invite-dialog");
  await dialog.getByLabel("Python Peer").check();
  await shots(page, "invitation-invite", { fullPage: false });
  await dialog.getByTestId("invite-send").click();
  await dialog.getByRole("status").filter({ hasText: "1 invitation sent." }).waitFor({ timeout: 30000 });
  await dialog.getByRole("button", { name: "Close" }).click();
  const deadline = Date.now() + 60000;
  let got;
  while (!got && Date.now() < deadline) {
    got = direct("watch", 10, "data", 1).find((s) => s.from === hushId && s.invitation);
  }
  assert.ok(got, "session-python received the invitation");
  const canonical = new URL(lobby);
  assert.deepEqual(got.invitation, { url: `${canonical.origin}/lobby${canonical.search}`, name: "Lobby" });
  assert.equal(got.body, "", "an invitation carries no text");
  // The sender's copy shows the card too, and its row says what it is.
  await page.getByRole("button", { name: "Back", exact: true }).click();
  await page.getByTestId("conversation").filter({ hasText: "Community invitation: Lobby" }).waitFor({ timeout: 30000 });
  assert.deepEqual(problems, []);
});
