// The relay's node list is checked against the network: the app, served by devnet A (its anchors
// are A's nodes, from A's own /network.json), is pointed in Settings at a relay that lists only
// nodes of its own — devnet B's relay, reached through a path of A's origin that this test
// forwards to it (the page's Content-Security-Policy allows only its own origin, as a reverse
// proxy would make it). The app refuses it with a clear message, sends nothing through it, and a
// message written meanwhile goes out once the person is back on A's relay.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { NOBODY, createAccount, home, message, openChat, send, shots } from "./people.mjs";

let a, b, browser;
before(async () => {
  [a, b] = await Promise.all([startDevnet({ nodes: 6 }), startDevnet({ nodes: 4 })]);
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await a?.stop(); await b?.stop(); });

test("a relay that lists only its own nodes is refused and nothing is sent through it", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // `${A}/hostile/...` is devnet B's relay (its node list: B's nodes only).
  const hostile = { nodes: 0, onion: 0 };
  await context.route(`${a.appUrl}/hostile/**`, async (route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname.replace(/^\/hostile/, "");
    if (path === "/v1/nodes") hostile.nodes++;
    if (path.startsWith("/v1/onion/")) hostile.onion++;
    const headers = { ...request.headers() };
    delete headers.origin;
    await route.fulfill({ response: await route.fetch({ url: `${b.appUrl}${path}`, headers }) });
  });
  const { page, problems } = await strictPage(context);
  await createAccount(page, a.appUrl, "Ivy");

  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Relay URL").fill(`${a.appUrl}/hostile`);
  await page.getByRole("button", { name: "Use this relay" }).click();
  const refusal = page.getByRole("alert").filter({ hasText: "Hush will not use this relay." });
  await refusal.waitFor({ timeout: 60000 });
  assert.match(await refusal.textContent(), /Choose another relay, or leave the field empty to use this site's own\./);
  // The status line says why: the network's anchors did not confirm the relay's list.
  const why = page.locator(".status-line").filter({ hasText: "Relay refused. The network could not confirm this relay's node list" });
  await why.waitFor();
  assert.match(await why.textContent(), /Hush will not use this relay\.$/);
  await page.locator(".connection").filter({ hasText: "Relay refused" }).waitFor();
  assert.ok(hostile.nodes > 0, "the relay's list was fetched");
  await shots(page, "relay-refused");

  // Nothing goes through it: a message waits, and not one onion request reaches the relay while
  // the page polls and its outbox tries to deliver.
  const checked = hostile.onion;
  await home(page);
  await openChat(page, NOBODY);
  await send(page, "not through that relay");
  const mine = message(page, "out").filter({ hasText: "not through that relay" });
  await mine.waitFor();
  await page.waitForTimeout(8000);
  assert.equal(hostile.onion, checked, "no onion request after the refusal");
  assert.notEqual(await mine.getAttribute("data-status"), "sent");

  // Back to this site's relay: accepted, and the message goes out.
  await home(page);
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Relay URL").fill("");
  await page.getByRole("button", { name: "Use this relay" }).click();
  await page.getByRole("status").filter({ hasText: "Now using this site's relay." }).waitFor({ timeout: 60000 });
  await home(page);
  await page.getByTestId("conversation").first().click();
  await mine.and(page.locator('[data-status="sent"]')).waitFor({ timeout: 90000 });
  assert.equal(hostile.onion, checked, "still nothing through the refused relay");
  // What the browser logs: the refused relay's hops answering errors for the anchors they
  // cannot reach. Nothing else.
  assert.deepEqual(problems.filter((p) => !/status of 5\d\d/.test(p)), []);
});
