// Create an account in the browser: the Session ID and the 13-word phrase appear.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage, OUT } from "./harness.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

for (const width of [390, 1280]) {
  test(`create account at ${width}px shows a Session ID and a 13-word phrase`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const { page, problems } = await strictPage(context);
    await page.goto(devnet.appUrl);
    await page.getByRole("heading", { name: "Welcome" }).waitFor();
    await page.screenshot({ path: join(OUT, `welcome-${width}.png`), fullPage: true });
    await page.getByRole("button", { name: "Create account" }).click();

    const id = (await page.getByTestId("session-id").textContent()).trim();
    assert.match(id, /^05[0-9a-f]{64}$/);
    const phrase = (await page.getByTestId("recovery-phrase").textContent()).trim();
    const words = phrase.split(" ");
    assert.equal(words.length, 13);
    assert.ok(words.every((w) => /^[a-z]+$/.test(w)), phrase);
    assert.ok(words.slice(0, 12).includes(words[12]), "the last word repeats one of the first twelve");
    await page.screenshot({ path: join(OUT, `account-created-${width}.png`), fullPage: true });

    // A second account is a different key pair.
    await page.reload();
    await page.getByRole("button", { name: "Create account" }).click();
    const id2 = (await page.getByTestId("session-id").textContent()).trim();
    assert.notEqual(id2, id);
    assert.deepEqual(problems, []);
    await context.close();
  });
}
