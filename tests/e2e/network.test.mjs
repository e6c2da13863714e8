// The network client against a real devnet: swarms learned with get_swarm (the node list the
// pages get names no swarm), the paths shown in Settings are the ones used, guards and the
// last hash per node survive a reload, the clock is corrected by the nodes' time and a clock jump
// recovers, the poll backs off while the relay is unreachable, a guard that goes down is dropped
// and replaced — and the relay never sees a Session ID.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage, newAccount, stopNode, setVisibility } from "./harness.mjs";
import { assertRelaySawNoSessionId } from "./people.mjs";

const PASS = "a long enough passphrase";
let devnet, browser;
// The relay refreshes its node list every 15 s, so a stopped node leaves it soon (as a dead node
// leaves the real network's lists), though not before three strikes can drop it on their own.
before(async () => { devnet = await startDevnet({ relayRefresh: 15 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const message = (page, direction) => page.locator(`[data-testid="message"][data-direction="${direction}"]`);
const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';
const incoming = '[data-testid="message"][data-direction="in"]';

// Everything the pages send to the relay, and the sizes of what comes back from its onion route.
const forwarded = [];
// How often a page got the node list, always without swarm ids.
let listsStripped = 0;
const people = {};

/** A browser context whose pages get the relay's node list with every `swarm_id` removed, so
 *  the only way to find a swarm is to ask the network (`get_swarm`, or a 421). */
async function context(options = {}) {
  const ctx = await browser.newContext(options);
  await ctx.route("**/v1/nodes", async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    for (const n of json.nodes) delete n.swarm_id;
    listsStripped++;
    await route.fulfill({ response, json });
  });
  return ctx;
}

/** A person in their own browser context, with an account; `clockAhead` ms puts the page's
 *  clock ahead of the real one from the start. */
async function person(name, { clockAhead = 0 } = {}) {
  const ctx = await context();
  if (clockAhead) await ctx.clock.install({ time: Date.now() + clockAhead });
  const { page, problems } = await strictPage(ctx);
  const log = [];
  page.on("request", (req) => {
    if (!req.url().includes("/v1/")) return;
    const entry = { who: name, at: Date.now(), url: req.url(), body: req.postDataBuffer() ?? Buffer.alloc(0), down: 0, reply: null };
    forwarded.push(entry);
    log.push(entry);
  });
  page.on("requestfinished", async (req) => {
    const entry = log.findLast((e) => e.url === req.url() && e.down === 0);
    const response = await req.response();
    if (!entry || !response) return;
    entry.status = response.status();
    entry.reply = await response.body().catch(() => Buffer.alloc(0));
    entry.down = entry.reply.length || 1;
  });
  const id = await newAccount(page, devnet.appUrl, name);
  return (people[name] = { name, ctx, page, problems, log, id });
}

/** The guards the page posted onion requests to (from the relay URLs), in order. */
const guardsUsed = (p, since = 0) =>
  p.log.filter((e) => e.at >= since && e.url.includes("/v1/onion/")).map((e) => e.url.split("/v1/onion/")[1]);

async function openChat(page, peerId) {
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(peerId);
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByTestId("composer").waitFor();
}

async function send(page, text) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
}

async function waitCount(page, selector, count, timeout) {
  try {
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length >= n, [selector, count], { timeout });
  } catch (e) {
    const seen = await page.$$eval('[data-testid="message"]', (els) => els.map((e) => `${e.dataset.direction}/${e.dataset.status}`));
    throw new Error(`wanted ${count} × ${selector}; have ${seen.length}: ${seen.join(" ")}`);
  }
}

async function toSettings(page) {
  if (await page.getByRole("heading", { name: "Network" }).isVisible()) return;
  const back = page.getByRole("button", { name: "Back" });
  if (await back.isVisible()) await back.click();
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Network" }).waitFor();
}

async function toChat(page, peerName) {
  if (await page.getByRole("heading", { name: "Network" }).isVisible()) {
    await page.getByRole("button", { name: "Back" }).click();
  }
  await page.getByTestId("conversation").filter({ hasText: peerName }).first().click({ timeout: 30000 });
  await page.getByTestId("composer").waitFor();
}

async function unlock(page) {
  await page.getByLabel("Passphrase").fill(PASS);
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByTestId("conversation").first().waitFor({ timeout: 60000 });
}

/** The paths Settings shows: per path, its hops as { key, address, guard }. */
async function shownPaths(page) {
  return page.$$eval('[data-testid="path"]', (ols) => ols.map((ol) => [...ol.querySelectorAll("li")].map((li) => ({
    key: li.querySelector("[title]")?.title ?? "",
    address: (li.textContent.match(/\d+\.\d+\.\d+\.\d+:\d+/) ?? [""])[0],
    guard: li.dataset.guard === "true",
  }))));
}

async function twoPaths(page) {
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="path"] li').length === 6, null, { timeout: 60000 });
  return shownPaths(page);
}

const statusLine = (page) => page.locator(".status-line");

test("two browsers exchange messages while swarms come only from get_swarm, over the paths Settings shows", async () => {
  const a = await person("Alice");
  const b = await person("Bob");
  await openChat(a.page, b.id);
  await send(a.page, "Hello Bob");
  await a.page.locator(sentOut).first().waitFor({ timeout: 30000 });
  await b.page.getByTestId("conversation").first().click({ timeout: 30000 });
  await b.page.getByRole("button", { name: "Accept" }).click();
  await message(b.page, "in").filter({ hasText: "Hello Bob" }).waitFor({ timeout: 30000 });
  for (let i = 1; i <= 5; i++) await send(b.page, `B to A #${i}`);
  for (let i = 1; i <= 5; i++) await send(a.page, `A to B #${i}`);
  await waitCount(a.page, sentOut, 6, 60000);
  await waitCount(b.page, sentOut, 5, 60000);
  await waitCount(a.page, incoming, 5, 60000);
  await waitCount(b.page, incoming, 6, 60000);
  assert.ok(listsStripped >= 2, "both pages got their node list without swarm ids");

  // Settings shows two paths of three distinct devnet nodes, the guard first, and they are the
  // paths in use: the guards are the ones the page posts its onion requests to.
  for (const p of [a, b]) {
    await toSettings(p.page);
    const paths = await twoPaths(p.page);
    assert.equal(paths.length, 2);
    const nodes = new Map(devnet.info.nodes.map((n) => [n.pubkey_ed25519, `${n.public_ip}:${n.storage_port}`]));
    const keys = paths.flat().map((h) => h.key);
    assert.equal(new Set(keys).size, 6, "six distinct nodes");
    for (const path of paths) {
      assert.deepEqual(path.map((h) => h.guard), [true, false, false], "the guard is marked, first");
      for (const hop of path) assert.equal(nodes.get(hop.key), hop.address, "a devnet node, at its address");
    }
    const shownGuards = new Set(paths.map((path) => path[0].key));
    await sleep(4000);
    const recent = guardsUsed(p, Date.now() - 3500);
    assert.ok(recent.length > 0, "the page keeps polling");
    for (const g of recent) assert.ok(shownGuards.has(g), `posted through ${g.slice(0, 12)}…, which Settings does not show`);
    assert.match(await statusLine(p.page).textContent(), /^Connected/);
    p.guards = shownGuards;
  }
});

test("after a reload the guards are the same and no node sends the old messages again", async (t) => {
  const { Alice: a, Bob: b } = people;
  // Thirty long messages for Bob: one full download of his inbox is well over 60 kB.
  await toChat(a.page, "Bob");
  const long = (i) => `long #${i} `.padEnd(1500, "·");
  for (let i = 1; i <= 30; i++) await send(a.page, long(i));
  await waitCount(a.page, sentOut, 36, 90000);
  await toChat(b.page, "Alice");
  await message(b.page, "in").filter({ hasText: "long #30 " }).waitFor({ timeout: 60000 });
  // Enough polls that Bob has asked every member of his swarm (and knows each one's last hash).
  const polls = () => b.log.filter((e) => e.url.includes("/v1/onion/")).length;
  while (polls() < 80) await sleep(1500);
  await sleep(3000);

  await b.page.reload();
  const since = Date.now();
  await unlock(b.page);
  await toSettings(b.page);
  const paths = await twoPaths(b.page);
  assert.deepEqual(new Set(paths.map((p) => p[0].key)), b.guards, "the same guards as before the reload");
  await sleep(20000);
  const after = b.log.filter((e) => e.at >= since && e.url.includes("/v1/onion/"));
  assert.ok(after.length >= 8, `only ${after.length} onion requests after the reload`);
  for (const g of guardsUsed(b, since)) assert.ok(b.guards.has(g), "every request after the reload went through a saved guard");
  const down = after.reduce((sum, e) => sum + e.down, 0);
  const before = b.log.filter((e) => e.at < since && e.url.includes("/v1/onion/"));
  t.diagnostic(`before the reload: ${before.length} onion requests, ${before.reduce((s, e) => s + e.down, 0)} bytes back`);
  t.diagnostic(`20 s after the reload: ${after.length} onion requests, ${down} bytes back`);
  // Each poll is one batch of five namespaces (messages and the account's four configs), whose
  // empty answer is larger than a lone retrieve's; the old messages sent again would be over 60 kB.
  assert.ok(down < 40000, `${down} bytes came back after the reload: the old messages were sent again`);
  // The history is all there (from the vault).
  await toChat(b.page, "Alice");
  await message(b.page, "in").filter({ hasText: "long #30 " }).waitFor({ timeout: 30000 });
});

test("a clock an hour off is corrected by the nodes' time, and a jump is noticed and recovered from", async (t) => {
  const { Alice: a } = people;
  const c = await person("Cleo", { clockAhead: 3_600_000 });
  const { page, ctx } = c;
  assert.ok(Math.abs((await page.evaluate(() => Date.now())) - Date.now() - 3_600_000) < 60_000, "the page's clock is an hour ahead");

  // Signed retrieves and store timestamps use network time: a message goes through and arrives.
  await openChat(page, a.id);
  await send(page, "from an hour ahead");
  await page.locator(sentOut).first().waitFor({ timeout: 30000 });
  await toSettings(a.page);
  await a.page.getByRole("button", { name: "Back" }).click();
  await a.page.getByTestId("conversation").filter({ hasText: "Cleo" }).first().waitFor({ timeout: 30000 });

  // The clock jumps ten more minutes: the next signed poll is refused (406), the client says so,
  // asks a node for the time again, and is connected again without anyone touching it.
  await toSettings(page);
  await statusLine(page).filter({ hasText: /^Connected/ }).waitFor({ timeout: 30000 });
  await ctx.clock.setSystemTime((await page.evaluate(() => Date.now())) + 600_000);
  const jumped = Date.now();
  await statusLine(page).filter({ hasText: "Clock out of sync" }).waitFor({ timeout: 20000 });
  await statusLine(page).filter({ hasText: /^Connected/ }).waitFor({ timeout: 60000 });
  t.diagnostic(`connected again ${Date.now() - jumped} ms after the clock jumped`);
  await page.getByRole("button", { name: "Back" }).click();
  await page.getByTestId("conversation").first().click();
  await send(page, "after the clock jumped");
  await waitCount(page, sentOut, 2, 30000);
  await toChat(a.page, "Cleo");
  await message(a.page, "in").filter({ hasText: "after the clock jumped" }).waitFor({ timeout: 30000 });
});

test("while the relay cannot be reached the poll backs off, says Offline, and resumes when it is back", async (t) => {
  const { Bob: b } = people;
  await toSettings(b.page);
  await statusLine(b.page).filter({ hasText: /^Connected/ }).waitFor({ timeout: 30000 });
  let refused = 0;
  const refuse = (route) => { refused++; return route.abort("internetdisconnected"); };
  await b.page.route("**/v1/onion/**", refuse);
  await statusLine(b.page).filter({ hasText: "Offline" }).waitFor({ timeout: 15000 });
  const start = refused;
  await sleep(24000);
  t.diagnostic(`${refused - start} onion requests in 24 s while the relay was unreachable`);
  // Every 1.5 s would be 16 polls; doubling from 3 s it is at most 5 (3, 6, 12, 24 s apart).
  assert.ok(refused - start <= 5, `${refused - start} requests in 24 s while offline: no back-off`);
  assert.ok(refused - start >= 1, "it keeps trying");
  await b.page.unroute("**/v1/onion/**", refuse);
  await statusLine(b.page).filter({ hasText: /^Connected/ }).waitFor({ timeout: 60000 });
  const back = Date.now();
  await sleep(7500);
  const polls = b.log.filter((e) => e.at >= back && e.url.includes("/v1/onion/")).length;
  t.diagnostic(`${polls} onion requests in the 7.5 s after it came back`);
  assert.ok(polls >= 4, `${polls} requests in 7.5 s after coming back: the back-off did not reset`);
});

test("a hidden page polls every 10 s, and at once when it is shown again", async (t) => {
  const { Bob: b } = people;
  await toSettings(b.page);
  await statusLine(b.page).filter({ hasText: /^Connected/ }).waitFor({ timeout: 30000 });
  const onion = (from, to = Infinity) => b.log.filter((e) => e.at >= from && e.at < to && e.url.includes("/v1/onion/")).length;
  const visibleFrom = Date.now();
  await sleep(15000);
  const visible = onion(visibleFrom);
  await setVisibility(b.page, "hidden");
  const hiddenFrom = Date.now();
  await sleep(30500);
  const hidden = onion(hiddenFrom);
  t.diagnostic(`idle, visible: ${visible} onion requests in 15 s (${(visible / 15).toFixed(2)}/s); hidden: ${hidden} in 30 s (${(hidden / 30).toFixed(2)}/s)`);
  // Every 1.5 s: about 10 in 15 s while visible. Every 10 s: three or four in 30 s while hidden.
  assert.ok(visible >= 8, `${visible} requests in 15 s while visible`);
  assert.ok(hidden >= 2 && hidden <= 4, `${hidden} requests in 30 s while hidden`);
  // Shown again, it polls at once rather than finishing the hidden period's wait.
  const last = b.log.findLast((e) => e.url.includes("/v1/onion/")).at;
  await sleep(Math.max(0, last + 2000 - Date.now()));
  const shown = Date.now();
  await setVisibility(b.page, "visible");
  while (onion(shown) === 0 && Date.now() - shown < 5000) await sleep(50);
  t.diagnostic(`shown again: the first poll after ${Date.now() - shown} ms`);
  assert.ok(onion(shown) > 0 && Date.now() - shown < 1500, "no poll soon after the page was shown again");
  await sleep(7500);
  assert.ok(onion(shown) >= 5, `${onion(shown)} requests in the 7.5 s after it was shown: not back to 1.5 s`);
});

test("a guard that goes down is dropped with its path and replaced; delivery continues", async (t) => {
  const { Alice: a, Bob: b } = people;
  await toSettings(a.page);
  const before = await twoPaths(a.page);
  const [down, kept] = [before[0][0].key, before[1][0].key];
  const index = devnet.info.nodes.findIndex((n) => n.pubkey_ed25519 === down);
  assert.ok(index >= 0);
  await stopNode(devnet, index);
  const stopped = Date.now();
  await toChat(a.page, "Bob");
  for (let i = 1; i <= 3; i++) await send(a.page, `guard down #${i}`);
  await waitCount(a.page, sentOut, 39, 90000);
  await toChat(b.page, "Alice");
  await message(b.page, "in").filter({ hasText: "guard down #3" }).waitFor({ timeout: 60000 });

  // Three strikes on its path (the relay cannot reach it), then path and guard are gone.
  await toSettings(a.page);
  await a.page.waitForFunction((g) => {
    const hops = [...document.querySelectorAll('[data-testid="path"] li [title]')].map((e) => e.title);
    return hops.length === 6 && !hops.includes(g);
  }, down, { timeout: 90000 });
  const refusedByRelay = guardsUsed(a, stopped).filter((g) => g === down).length;
  t.diagnostic(`the stopped guard was replaced ${Date.now() - stopped} ms after it stopped, after ${refusedByRelay} requests to it`);
  // Three strikes (the relay cannot reach it: 502), then the path and its guard are dropped (a
  // fourth may already be on its way) — or sooner, if the relay's own list dropped the node first:
  // then the relay answers 404 for it and the client drops it at once.
  assert.ok(refusedByRelay >= 1 && refusedByRelay <= 4, `${refusedByRelay} requests to the stopped guard`);
  if (refusedByRelay < 3) {
    const unknown = a.log.filter((e) => e.at >= stopped && e.url.endsWith(`/v1/onion/${down}`) && e.status === 404);
    assert.ok(unknown.length > 0, `dropped after ${refusedByRelay} requests, none of them answered 404 by the relay`);
  }
  const now = await shownPaths(a.page);
  const guards = now.map((p) => p[0].key);
  assert.ok(guards.includes(kept), "the other guard stays");
  assert.ok(!now.flat().some((h) => h.key === down));

  // The new guard is saved: after a reload the same two guards carry the requests. (Once the
  // stopped node has left the relay's list: a fresh page that picked it as a middle hop would
  // rightly strike that path and its guard.)
  const listed = async () => (await (await fetch(`${devnet.appUrl}/v1/nodes`)).text()).includes(down);
  for (let i = 0; i < 200 && await listed(); i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal(await listed(), false, "the relay still lists the stopped node");
  await a.page.reload();
  await unlock(a.page);
  await toSettings(a.page);
  const reloaded = await twoPaths(a.page);
  assert.deepEqual(new Set(reloaded.map((p) => p[0].key)), new Set(guards));
});

test("the relay never saw a Session ID", () => {
  const ids = Object.values(people).map((p) => p.id);
  assert.ok(ids.length >= 3);
  assert.ok(forwarded.length > 200, `only ${forwarded.length} relay requests`);
  assert.ok(forwarded.filter((e) => e.reply?.length > 0).length > 200, "the replies were recorded too");
  // What the pages posted is what the relay forwarded (it forwards bodies unchanged), and what
  // came back is what the guards answered.
  assertRelaySawNoSessionId(forwarded, ids, devnet.log());
  // What the browsers log while a node is down (502/504; 404 once the relay has dropped it from its
  // list) or the relay is cut off; nothing else.
  const expected = /Failed to load resource: (the server responded with a status of (404|50[24])|net::ERR_INTERNET_DISCONNECTED)/;
  for (const p of Object.values(people)) assert.deepEqual(p.problems.filter((m) => !expected.test(m)), [], p.name);
});
