// One running tab per browser: a second tab says Hush is open in another tab; "Use here" moves
// Hush to it, and the first tab locks itself and stops polling; closing the running tab lets the
// waiting one take over by itself.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, unlock } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 4 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const elsewhere = (page) => page.getByRole("heading", { name: "Hush is open in another tab" });

test("Hush runs in one tab at a time", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const first = await strictPage(context);
  const { id } = await createAccount(first.page, devnet.appUrl, "Tabby");

  const second = await strictPage(context);
  await second.page.goto(devnet.appUrl);
  await elsewhere(second.page).waitFor();
  assert.equal(await second.page.getByLabel("Passphrase").count(), 0);
  // The first tab goes on as it was.
  await first.page.getByRole("heading", { name: "Hello, Tabby" }).waitFor();

  // "Use here": the second tab runs; the first locks itself and goes quiet.
  await second.page.getByRole("button", { name: "Use here" }).click();
  await second.page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await elsewhere(first.page).waitFor();
  let quietRequests = 0;
  first.page.on("request", (r) => { if (r.url().includes("/v1/")) quietRequests++; });
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(quietRequests, 0, "the tab that gave Hush up still talks to the relay");
  await unlock(second.page);
  assert.equal((await second.page.getByTestId("session-id").textContent()).trim(), id);

  // Back again with "Use here" in the first tab.
  await first.page.getByRole("button", { name: "Use here" }).click();
  await first.page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await elsewhere(second.page).waitFor();

  // The running tab closes: the waiting one takes over by itself.
  await first.page.close();
  await second.page.getByRole("heading", { name: "Unlock Hush" }).waitFor({ timeout: 10000 });
  await unlock(second.page);

  // A reload of the only tab is not "another tab".
  await second.page.reload();
  await second.page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  assert.equal(await elsewhere(second.page).count(), 0);

  assert.deepEqual(first.problems, []);
  assert.deepEqual(second.problems, []);
  await context.close();
});
