// Two people, two browsers, one devnet: 1:1 messages over onion paths through the relay.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage, newAccount, stopNode, OUT } from "./harness.mjs";
import { randomBytes } from "node:crypto";
import { storeRaw, swarmOf, assertRelaySawNoSessionId, envelopeData } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const message = (page, direction) => page.locator(`[data-testid="message"][data-direction="${direction}"]`);

async function openChat(page, peerId) {
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(peerId.slice(0, 20));
  await page.getByText("Not a Session ID yet").waitFor();
  await page.getByTestId("recipient-id").fill(peerId);
  await page.getByText("Looks good.").waitFor();
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByTestId("composer").waitFor();
}

/** Waits for `count` messages matching `selector`, reporting what is there on failure. */
async function waitCount(page, selector, count, timeout) {
  try {
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length === n, [selector, count], { timeout });
  } catch (e) {
    const seen = await page.$$eval('[data-testid="message"]', (els) =>
      els.map((e) => `${e.dataset.direction}/${e.dataset.status}: ${e.querySelector(".body")?.textContent}${e.querySelector(".problem-reason") ? ` (${e.querySelector(".problem-reason").textContent})` : ""}`));
    const heading = await page.locator("h2").allTextContents();
    throw new Error(`wanted ${count} × ${selector}; screen ${heading.join(" | ")}; have:\n${seen.join("\n")}`);
  }
}

async function send(page, text) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
}

test("two browsers exchange messages over the devnet", async () => {
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const a = await strictPage(ctxA);
  const b = await strictPage(ctxB);
  const forwarded = [];
  for (const p of [a.page, b.page]) {
    p.on("request", (req) => {
      if (req.url().includes("/v1/")) forwarded.push({ req, url: req.url(), body: req.postDataBuffer() ?? Buffer.alloc(0), reply: null });
    });
    p.on("requestfinished", async (req) => {
      const entry = forwarded.find((e) => e.req === req);
      const response = await req.response();
      if (entry && response) entry.reply = await response.body().catch(() => null);
    });
  }
  const idA = await newAccount(a.page, devnet.appUrl, "Alice");
  const idB = await newAccount(b.page, devnet.appUrl, "Bob");

  // A starts the conversation; B gets a message request and accepts.
  await openChat(a.page, idB);
  await send(a.page, "Hello Bob");
  await a.page.locator('[data-testid="message"][data-status="sent"]').first().waitFor({ timeout: 30000 });
  await b.page.getByTestId("conversation").filter({ hasText: "Alice" }).waitFor({ timeout: 30000 });
  await b.page.getByTestId("conversation").filter({ hasText: "Message request" }).filter({ hasText: "1 unread" }).waitFor();
  await b.page.screenshot({ path: join(OUT, "conversations-390.png"), fullPage: true });
  await b.page.getByTestId("conversation").first().click();
  await b.page.getByRole("button", { name: "Accept" }).click();
  await message(b.page, "in").filter({ hasText: "Hello Bob" }).waitFor();

  // 20 messages each way; every one reaches "sent" and arrives.
  for (let i = 1; i <= 20; i++) await send(a.page, `A to B #${i}`);
  for (let i = 1; i <= 20; i++) await send(b.page, `B to A #${i}`);
  const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';
  const incoming = '[data-testid="message"][data-direction="in"]';
  await waitCount(a.page, sentOut, 21, 90000);
  await waitCount(b.page, sentOut, 20, 90000);
  await waitCount(b.page, incoming, 21, 60000);
  await waitCount(a.page, incoming, 20, 60000);
  // Each message shows the time it was sent, in the reader's clock (today's: hours and minutes).
  for (const p of [a.page, b.page]) {
    const whens = await p.$$eval('[data-testid="message"] .when', (els) => els.map((e) => e.textContent));
    assert.equal(whens.length, 41);
    const now = await p.evaluate(() => { const d = new Date(); return d.getHours() * 60 + d.getMinutes(); });
    for (const w of whens) {
      const [, h, m] = (w.match(/^(\d{2}):(\d{2})( · Sent)?$/) ?? []).map(Number);
      assert.ok(h >= 0 && m >= 0, `${w} is not a time of today`);
      assert.ok(Math.abs(now - (h * 60 + m)) <= 5 || Math.abs(now - (h * 60 + m)) >= 1435, `${w} is not about now`);
    }
  }
  await a.page.screenshot({ path: join(OUT, "conversation-1280.png"), fullPage: true });
  await b.page.screenshot({ path: join(OUT, "conversation-390.png"), fullPage: true });

  // Mid-conversation, with messages in flight both ways, one node of each swarm goes down — in
  // the recipients' swarms a member chosen from the devnet's own list — and delivery continues.
  const swarmA = await swarmOf(devnet, idA);
  const swarmB = await swarmOf(devnet, idB);
  const targets = swarmA.includes(swarmB[0]) ? [swarmB[0]] : [swarmB[0], swarmA[swarmA.length - 1]];
  const stopped = new Set(targets);
  const bySwarm = new Map();
  devnet.info.nodes.forEach((n, i) => { if (stopped.has(i)) bySwarm.set(n.swarm_id, i); });
  devnet.info.nodes.forEach((n, i) => { if (!bySwarm.has(n.swarm_id)) { bySwarm.set(n.swarm_id, i); stopped.add(i); } });
  // Requests that reached a stopped node, per browser: a stopped guard is unreachable for the
  // relay; a stopped hop or destination leaves the node before it without an answer (504).
  const reached = new Map([[a.page, 0], [b.page, 0]]);
  let down = false;
  for (const p of [a.page, b.page]) {
    p.on("response", async (res) => {
      if (!down || !res.url().includes("/v1/onion/") || res.status() < 500) return;
      const body = await res.text().catch(() => "");
      if (/Request time out|Service node unreachable/.test(body)) reached.set(p, reached.get(p) + 1);
    });
  }
  for (let i = 1; i <= 10; i++) { await send(a.page, `A in flight #${i}`); await send(b.page, `B in flight #${i}`); }
  await Promise.all([...stopped].map((i) => stopNode(devnet, i)));
  down = true;
  for (let i = 1; i <= 5; i++) { await send(a.page, `A after the stop #${i}`); await send(b.page, `B after the stop #${i}`); }
  await waitCount(a.page, sentOut, 36, 120000);
  await waitCount(b.page, sentOut, 35, 120000);
  await waitCount(b.page, incoming, 36, 90000);
  await waitCount(a.page, incoming, 35, 90000);
  await message(b.page, "in").filter({ hasText: "A after the stop #5" }).waitFor();
  await message(a.page, "in").filter({ hasText: "B after the stop #5" }).waitFor();
  console.log(`# requests that reached a stopped node: A ${reached.get(a.page)}, B ${reached.get(b.page)}`);
  assert.ok(reached.get(a.page) > 0 && reached.get(b.page) > 0, "the stopped nodes were not in the way of requests");

  // A body that looks like HTML is shown as text.
  let dialog = false;
  b.page.on("dialog", async (d) => { dialog = true; await d.dismiss(); });
  const xss = "<img src=x onerror=alert(1)>";
  await send(a.page, xss);
  await message(b.page, "in").filter({ hasText: xss }).waitFor({ timeout: 60000 });
  assert.equal(await b.page.locator('[data-testid="message"] img').count(), 0);
  assert.equal(dialog, false);

  // Garbage stored straight into B's namespace 0 — not a message, not base64, and well-formed
  // envelopes whose sealed content does not open — before and after a real message, all in the
  // one retrieve (B's polls are held at the relay until everything is stored): B's inbox gets
  // the message and nothing else (the exact count below), and keeps working.
  const held = [];
  let holding = true;
  const hold = (route) => (holding ? held.push(route) : route.fallback());
  await b.page.route("**/v1/onion/**", hold);
  for (let i = 0; i < 400 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(held.length >= 1, "B's poll was held");
  await storeRaw(devnet, idB, Buffer.from("definitely not a message").toString("base64"));
  await storeRaw(devnet, idB, envelopeData(randomBytes(400)));
  await send(a.page, "still arriving");
  await a.page.locator(sentOut).filter({ hasText: "still arriving" }).waitFor({ timeout: 60000 });
  await storeRaw(devnet, idB, "////");
  await storeRaw(devnet, idB, envelopeData(randomBytes(144)));
  holding = false;
  for (const route of held) await route.continue();
  await b.page.unroute("**/v1/onion/**", hold);
  await message(b.page, "in").filter({ hasText: "still arriving" }).waitFor({ timeout: 60000 });

  // B's history is now longer than one page (50): 38 received, 35 sent.
  const total = 38 + 35;
  await waitCount(b.page, incoming, 38, 60000);

  // B reloads: after unlocking, the conversation opens at the newest message with the last 50
  // loaded; scrolling to the top pages in the rest from the vault, keeping the place.
  await b.page.reload();
  await b.page.getByLabel("Passphrase").fill("a long enough passphrase");
  await b.page.getByRole("button", { name: "Unlock" }).click();
  await b.page.getByTestId("conversation").first().click({ timeout: 60000 });
  await waitCount(b.page, '[data-testid="message"]', 50, 30000);
  const pane = b.page.locator("ol.messages");
  await b.page.waitForFunction(() => {
    const el = document.querySelector("ol.messages");
    return el.scrollHeight > el.clientHeight && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
  }, null, { timeout: 10000 });
  await message(b.page, "in").filter({ hasText: "still arriving" }).waitFor();
  const firstShown = await b.page.locator('[data-testid="message"]').first().textContent();
  await pane.evaluate((el) => { el.scrollTop = 0; });
  await waitCount(b.page, '[data-testid="message"]', total, 30000);
  await message(b.page, "in").filter({ hasText: "Hello Bob" }).waitFor();
  // The message that was at the top before is still in view.
  const kept = await b.page.evaluate((text) => {
    const pane = document.querySelector("ol.messages").getBoundingClientRect();
    const m = [...document.querySelectorAll('[data-testid="message"]')].find((e) => e.textContent === text);
    const r = m.getBoundingClientRect();
    return r.bottom > pane.top && r.top < pane.bottom;
  }, firstShown);
  assert.ok(kept, "paging in older messages lost the reader's place");

  // The sender's name on each message is the one its profile carried when it was sent: A takes
  // a new display name, and only the messages after that show it.
  await a.page.getByRole("button", { name: "Back", exact: true }).click();
  await a.page.getByRole("button", { name: "Settings" }).click();
  await a.page.getByLabel("Display name").fill("Alice Liddell");
  await a.page.getByRole("button", { name: "Save", exact: true }).click();
  await a.page.getByText("Saved.").waitFor();
  await a.page.getByRole("button", { name: "Back", exact: true }).click();
  await a.page.getByTestId("conversation").first().click();
  await send(a.page, "under a new name");
  // (Nodes are still down: B's poll may be backing off, up to 30 s between tries.)
  const renamed = message(b.page, "in").filter({ hasText: "under a new name" });
  await renamed.waitFor({ timeout: 120000 }).catch(async (e) => {
    const mine = await a.page.$$eval('[data-testid="message"][data-direction="out"]', (els) =>
      els.slice(-3).map((el) => `${el.dataset.status}: ${el.textContent}`));
    const status = await b.page.locator(".connection").textContent().catch(() => "?");
    throw new Error(`${e.message}\nA's last messages: ${mine.join(" | ")}\nB's connection: ${status}`);
  });
  assert.equal(await renamed.locator(".sender").textContent(), "Alice Liddell");
  assert.equal(await message(b.page, "in").filter({ hasText: "Hello Bob" }).locator(".sender").textContent(), "Alice");

  // What arrived while B was reading the conversation is not counted as unread in the list.
  await b.page.getByRole("button", { name: "Back", exact: true }).click();
  const row = b.page.getByTestId("conversation").filter({ hasText: "under a new name" });
  await row.waitFor();
  assert.equal(await row.locator(".unread").count(), 0);

  // Neither Session ID ever appeared in what went to the relay, nor in the devnet's log.
  assert.ok(forwarded.length > 50, `only ${forwarded.length} relay requests`);
  assert.ok(forwarded.filter((e) => e.reply?.length > 0).length > 50, "the replies were recorded too");
  assertRelaySawNoSessionId(forwarded, [idA, idB], devnet.log());
  // The browser itself logs the guard's 502/504 answers while nodes are down; nothing else.
  const outage = /Failed to load resource: the server responded with a status of 50[24]/;
  assert.deepEqual(a.problems.filter((p) => !outage.test(p)), []);
  assert.deepEqual(b.problems.filter((p) => !outage.test(p)), []);
  await ctxA.close();
  await ctxB.close();
});

