// Communities in the browser (issue 15): two people join the devnet's `lobby` by its URL (a URL
// that does not read is refused with the reason), post, reply, react (two reactions counted, one
// taken back), delete their own post, and post a picture the other sees drawn; a moderator made
// with `hush-node sogs-admin` deletes another's post and both see it gone, and as an admin sets the
// room's picture, which both see in the list, and pins a post; "Message" on a member
// opens a blinded DM through the server's inbox, which arrives as a message request, and replies
// flow both ways; Leave (asked first) takes the room off the list. Screenshots at 390 and 1280 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join as path } from "node:path";
import { startDevnet, launchBrowser, strictPage, hushNodeBinary } from "./harness.mjs";
import { createAccount, home, picture, roomAction, shots } from "./people.mjs";

let devnet, browser, alice, bob;
before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  browser = await launchBrowser();
  [alice, bob] = await Promise.all([0, 1].map(async () => strictPage(await browser.newContext())));
  await createAccount(alice.page, devnet.appUrl, "Alice");
  await createAccount(bob.page, devnet.appUrl, "Bob");
});
after(async () => {
  for (const p of [alice, bob]) assert.deepEqual(p?.problems ?? [], []);
  await browser?.close();
  await devnet?.stop();
});

const lobbyUrl = () => devnet.info.community.lobby_url;
/** A post in the open room whose text is `text`. */
const post = (page, text) => page.getByTestId("message").filter({ has: page.getByTestId("body").getByText(text, { exact: true }) });

/** Joins `url` from Home through the hooks of item 8; the room opens. */
async function join(page, url) {
  await page.getByTestId("join-community").click();
  await page.getByTestId("community-url").fill(url);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.locator("#room-title").waitFor({ timeout: 60000 });
  await page.getByTestId("community-url").waitFor({ state: "hidden", timeout: 60000 });
}

async function say(page, text) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
  await post(page, text).waitFor({ timeout: 60000 });
}

/** Shows a post's actions (as a tap does) and presses one. */
async function act(page, text, action) {
  const p = post(page, text);
  await p.locator(".when").click();
  await p.locator(".actions").getByRole("button", { name: action, exact: true }).click();
}

test("two people in lobby: post, reply, react, delete and a picture", async () => {
  const a = alice.page, b = bob.page;
  // A URL that does not read says why; nothing is joined.
  await a.getByTestId("join-community").click();
  await a.getByTestId("community-url").fill("http://localhost/lobby");
  await a.getByRole("button", { name: "Join", exact: true }).click();
  await a.getByRole("dialog").getByRole("alert").filter({ hasText: "The community URL has no public_key." }).waitFor();
  // A room the server does not have says so.
  await a.getByTestId("community-url").fill(lobbyUrl().replace("/lobby?", "/nosuchroom?"));
  await a.getByRole("button", { name: "Join", exact: true }).click();
  await a.getByRole("dialog").getByRole("alert").filter({ hasText: "The community server does not have it" })
    .waitFor({ timeout: 60000 });
  await a.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  assert.equal(await a.getByTestId("community").count(), 0);

  await join(a, lobbyUrl());
  await join(b, lobbyUrl());
  assert.equal(await a.locator("#room-title").textContent(), "Lobby");

  await say(a, "hello lobby from Alice");
  await post(b, "hello lobby from Alice").waitFor({ timeout: 60000 });
  // The poster's name and short blinded id (the whole id in its title).
  const seen = post(b, "hello lobby from Alice");
  assert.equal(await seen.getAttribute("data-direction"), "in");
  assert.equal(await seen.getByTestId("name").textContent(), "Alice");
  const aliceBlinded = await seen.getByTestId("blinded-id").getAttribute("title");
  assert.match(aliceBlinded, /^15[0-9a-f]{64}$/);
  assert.equal(await post(a, "hello lobby from Alice").getAttribute("data-direction"), "out");

  // Bob replies; the reply quotes Alice's post on both sides.
  await act(b, "hello lobby from Alice", "Reply");
  await b.getByTestId("replying").waitFor();
  await say(b, "hi Alice, Bob here");
  for (const page of [a, b]) {
    const reply = post(page, "hi Alice, Bob here");
    await reply.getByTestId("quote").filter({ hasText: "hello lobby from Alice" }).waitFor({ timeout: 60000 });
  }

  // Both react 👍 to Alice's post: 2; Bob takes his back: 1.
  for (const page of [a, b]) {
    await act(page, "hello lobby from Alice", "React");
    await post(page, "hello lobby from Alice").locator(".picker").getByRole("button", { name: "👍" }).click();
  }
  for (const page of [a, b]) {
    await post(page, "hello lobby from Alice").locator('[data-testid="reaction"][data-emoji="👍"] .count')
      .filter({ hasText: /^2$/ }).waitFor({ timeout: 60000 });
  }
  const mine = post(b, "hello lobby from Alice").locator('[data-testid="reaction"][data-emoji="👍"]');
  assert.equal(await mine.getAttribute("aria-pressed"), "true");
  await mine.click();
  for (const page of [a, b]) {
    await post(page, "hello lobby from Alice").locator('[data-testid="reaction"][data-emoji="👍"] .count')
      .filter({ hasText: /^1$/ }).waitFor({ timeout: 60000 });
  }

  // Alice edits a post; Bob sees the new text, marked edited.
  await say(a, "a tpyo here");
  await post(b, "a tpyo here").waitFor({ timeout: 60000 });
  await act(a, "a tpyo here", "Edit");
  await a.getByTestId("composer").fill("a typo fixed");
  await a.getByTestId("send").click();
  await post(b, "a typo fixed").and(b.locator("[data-edited]")).waitFor({ timeout: 60000 });

  // Bob deletes his own post: gone on both sides.
  await say(b, "Bob's mistake");
  await post(a, "Bob's mistake").waitFor({ timeout: 60000 });
  await act(b, "Bob's mistake", "Delete");
  await b.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await post(b, "Bob's mistake").waitFor({ state: "detached", timeout: 30000 });
  await post(a, "Bob's mistake").waitFor({ state: "detached", timeout: 60000 });

  // A picture (a room file) with a caption, drawn at the other side.
  await a.getByTestId("attach").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: await picture(a, 300, 200) });
  await say(a, "a picture for the lobby");
  const pic = post(b, "a picture for the lobby").locator('[data-testid="attachment"][data-kind="image"][data-state="ready"]');
  await pic.waitFor({ timeout: 60000 });
  assert.equal(await pic.locator("img").evaluate((img) => img.naturalWidth), 300);

  // The list beside the conversations: the room, with no unread while open; Leave asks first.
  await home(b);
  const row = b.getByTestId("community").filter({ hasText: "Lobby" });
  await row.waitFor();
  assert.equal(await row.getByTestId("unread").count(), 0);
  await say(a, "while Bob is away");
  await row.getByTestId("unread").filter({ hasText: /^1/ }).waitFor({ timeout: 60000 });
  await shots(b, "communities-home");
  await row.click();
  await post(b, "while Bob is away").waitFor();
  await b.getByTestId("community").filter({ hasText: "Lobby" }).getByTestId("unread").waitFor({ state: "detached", timeout: 30000 }).catch(() => {});
  await shots(b, "communities-room", { fullPage: false });
  await shots(a, "communities-room-alice", { fullPage: false });
});

test("a moderator deletes another's post, and both see it gone", async () => {
  const a = alice.page, b = bob.page;
  // Bob's blinded id, as his own post names him, becomes a moderator of lobby on the running
  // server (its database, which the running devnet reads).
  await say(b, "I will moderate");
  const bobBlinded = await post(b, "I will moderate").getByTestId("blinded-id").getAttribute("title");
  execFileSync(hushNodeBinary(), ["sogs-admin", "--data", path(devnet.data, "community"), "add-moderator", bobBlinded,
    "--room", "lobby"], { encoding: "utf8" });
  await say(a, "a post the moderator removes");
  await post(b, "a post the moderator removes").waitFor({ timeout: 60000 });
  // His posts carry the badge once a poll reads the room's moderators.
  await post(b, "I will moderate").getByTestId("moderator").waitFor({ timeout: 60000 });
  await post(a, "I will moderate").getByTestId("moderator").waitFor({ timeout: 60000 });
  await act(b, "a post the moderator removes", "Delete");
  await b.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await post(b, "a post the moderator removes").waitFor({ state: "detached", timeout: 30000 });
  await post(a, "a post the moderator removes").waitFor({ state: "detached", timeout: 60000 });
  // Alice, no moderator, has no Delete on Bob's posts.
  await post(a, "I will moderate").locator(".when").click();
  assert.equal(await post(a, "I will moderate").locator(".actions").getByRole("button", { name: "Delete" }).count(), 0);

  // An admin sets the room's picture; the other sees it in the list. Only admins are offered it.
  assert.equal(await a.getByTestId("room-picture-button").count(), 0);
  execFileSync(hushNodeBinary(), ["sogs-admin", "--data", path(devnet.data, "community"), "add-moderator", bobBlinded,
    "--room", "lobby", "--admin"], { encoding: "utf8" });
  const button = b.getByTestId("room-picture-button");
  await button.waitFor({ state: "attached", timeout: 60000 });
  await b.getByTestId("room-picture-file").setInputFiles({ name: "room.png", mimeType: "image/png", buffer: await picture(b, 800, 600) });
  await b.getByText("The room's picture is set.").first().waitFor({ timeout: 60000 });
  for (const page of [b, a]) {
    const shown = page.getByTestId("community").filter({ hasText: "Lobby" }).getByTestId("room-picture");
    await shown.waitFor({ timeout: 60000 });
    assert.ok(await shown.evaluate((img) => img.complete && img.naturalWidth > 0), "the picture is drawn");
  }
  // The admin pins a post: both see it marked; Alice is offered no Pin.
  assert.equal(await post(a, "I will moderate").locator(".actions").getByTestId("pin").count(), 0);
  await act(b, "I will moderate", "Pin");
  for (const page of [b, a]) await post(page, "I will moderate").getByTestId("pinned").waitFor({ timeout: 60000 });
  await act(b, "I will moderate", "Unpin");
  for (const page of [b, a]) await post(page, "I will moderate").getByTestId("pinned").waitFor({ state: "detached", timeout: 60000 });
});

test("a blinded DM: Message opens it, it arrives as a request, replies flow both ways", async () => {
  const a = alice.page, b = bob.page;
  await say(b, "DM me");
  await post(a, "DM me").waitFor({ timeout: 60000 });
  await act(a, "DM me", "Message");
  await a.locator("#conversation-title").waitFor({ timeout: 30000 });
  assert.match(await a.locator(".peer-id").textContent(), /^15[0-9a-f]{64}$/);
  await a.getByTestId("composer").fill("hello Bob, privately");
  await a.getByTestId("send").click();
  await a.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor({ timeout: 60000 });

  await home(b);
  const request = b.locator(".requests").getByTestId("conversation");
  await request.waitFor({ timeout: 60000 });
  await request.click();
  await b.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: "hello Bob, privately" }).waitFor();
  await b.getByRole("button", { name: "Accept" }).click();
  await b.getByTestId("composer").fill("hello Alice, privately");
  await b.getByTestId("send").click();
  await a.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: "hello Alice, privately" })
    .waitFor({ timeout: 60000 });
  // Only text goes through a server's inbox: no files, voice, timer, reactions or deletion for
  // everyone are offered.
  for (const page of [a, b]) {
    assert.equal(await page.getByTestId("attach").count(), 0);
    assert.equal(await page.getByRole("button", { name: "Record voice message" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Disappearing messages" }).count(), 0);
    const mine = page.locator('[data-testid="message"][data-direction="out"]').first();
    await mine.locator(".when").click();
    await mine.locator(".actions").getByRole("button", { name: "Reply", exact: true }).waitFor();
    assert.equal(await mine.locator(".actions").getByRole("button", { name: "React" }).count(), 0);
    assert.equal(await mine.locator(".actions").getByRole("button", { name: "Delete for everyone" }).count(), 0);
    // A tapped message grows to hold its actions: nothing of it is cut off (the composer's file
    // chips once lent it their fixed height).
    assert.equal(await mine.evaluate((el) => el.scrollHeight <= el.clientHeight + 1), true, "nothing is cut off");
  }
  await shots(a, "communities-dm", { fullPage: false });

  // Leave asks first; the room leaves the list.
  await home(a);
  await a.getByTestId("community").filter({ hasText: "Lobby" }).click();
  await roomAction(a, "leave-community");
  const ask = a.getByRole("alertdialog");
  await ask.getByText("Lobby and its messages leave this device").waitFor();
  await ask.getByRole("button", { name: "Leave" }).click();
  await a.getByRole("heading", { name: /^Hello, / }).waitFor();
  await a.getByTestId("community").waitFor({ state: "detached", timeout: 30000 });
});
