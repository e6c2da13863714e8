// Onboarding end to end: create, confirm the phrase, passphrase, reload, unlock; restore; wrong
// passphrase; nothing readable in IndexedDB; screenshots of every screen at 390 and 1280 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage, OUT } from "./harness.mjs";
import { NOBODY, message, openChat, send } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const PASS = "correct horse battery staple";

async function shot(page, name, width) {
  await page.screenshot({ path: join(OUT, `${name}-${width}.png`), fullPage: true });
}

/** Creates an account in `page`; returns { id, phrase }. */
async function createAccount(page, width, name = "Alice") {
  await page.goto(devnet.appUrl);
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  await shot(page, "welcome", width);
  await page.getByRole("button", { name: "Create account" }).click();
  const id = (await page.getByTestId("session-id").textContent()).trim();
  const phrase = (await page.getByTestId("recovery-phrase").textContent()).trim();
  await shot(page, "phrase", width);
  await page.getByRole("button", { name: "I have written it down" }).click();
  await page.getByRole("heading", { name: "Check your recovery phrase" }).waitFor();
  const words = phrase.split(" ");
  // A wrong word first: refused with a clear message.
  const labels = await page.locator("label").allTextContents();
  const positions = labels.map((l) => Number(l.replace("Word ", ""))).filter(Boolean);
  assert.equal(positions.length, 3);
  for (const p of positions) await page.getByLabel(`Word ${p}`, { exact: true }).fill("wrong");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
  await shot(page, "confirm", width);
  for (const p of positions) await page.getByLabel(`Word ${p}`, { exact: true }).fill(words[p - 1]);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Passphrase", { exact: true }).fill("short");
  await page.getByText("Use at least 8 characters.").waitFor();
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByLabel("Passphrase again").fill(PASS);
  await page.getByText("Strong.").waitFor();
  await shot(page, "profile", width);
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor({ timeout: 60000 });
  await shot(page, "home", width);
  return { id, phrase };
}

async function rawIndexedDb(page) {
  return page.evaluate(async () => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("hush");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const out = [];
    for (const name of db.objectStoreNames) {
      const tx = db.transaction(name);
      const store = tx.objectStore(name);
      const [keys, values] = await Promise.all([
        new Promise((ok) => { const r = store.getAllKeys(); r.onsuccess = () => ok(r.result); }),
        new Promise((ok) => { const r = store.getAll(); r.onsuccess = () => ok(r.result); }),
      ]);
      keys.forEach((k, i) => out.push({ store: name, key: String(k), value: Array.from(new Uint8Array(values[i])) }));
    }
    db.close();
    return out;
  });
}

function containsBytes(haystack, needle) {
  const n = Buffer.from(needle);
  return Buffer.from(haystack).includes(n);
}

for (const width of [390, 1280]) {
  test(`create, confirm, passphrase, reload, unlock at ${width}px`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const { page, problems } = await strictPage(context);
    const { id, phrase } = await createAccount(page, width);
    assert.match(id, /^05[0-9a-f]{64}$/);
    assert.equal(phrase.split(" ").length, 13);
    assert.equal((await page.getByTestId("session-id").textContent()).trim(), id);

    // Nothing readable at rest.
    const records = await rawIndexedDb(page);
    assert.ok(records.length >= 2, JSON.stringify(records.map((r) => r.store)));
    for (const r of records) {
      for (const secret of [phrase, id, id.slice(2), "Alice", phrase.split(" ")[0] + " " + phrase.split(" ")[1]]) {
        assert.ok(!containsBytes(r.value, secret), `${r.store}/${r.key} holds "${secret.slice(0, 12)}…" in clear`);
        assert.ok(!r.key.includes(secret), `${r.store} key holds plaintext`);
      }
    }

    // Reload: locked; a wrong passphrase is refused; the right one opens the same account.
    await page.reload();
    await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
    await shot(page, "unlock", width);
    await page.getByLabel("Passphrase").fill("not the passphrase");
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("alert").filter({ hasText: "does not unlock" }).waitFor({ timeout: 60000 });
    await shot(page, "unlock-wrong", width);
    const t0 = Date.now();
    await page.getByLabel("Passphrase").fill(PASS);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("heading", { name: "Hello, Alice" }).waitFor({ timeout: 60000 });
    console.log(`# unlock took ${Date.now() - t0} ms at ${width}px`);
    assert.equal((await page.getByTestId("session-id").textContent()).trim(), id);

    // Settings: QR, reveal the phrase behind the passphrase, rename, lock now.
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByRole("img", { name: "QR code of your Session ID" }).waitFor();
    await page.getByLabel("Enter your passphrase to show it").fill(PASS);
    await page.getByRole("button", { name: "Show recovery phrase" }).click();
    assert.equal((await page.getByTestId("recovery-phrase").textContent()).trim(), phrase);
    await page.getByLabel("Display name").fill("Alice B.");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await shot(page, "settings", width);
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("heading", { name: "Hello, Alice B." }).waitFor();
    await page.getByRole("button", { name: "Lock now" }).click();
    await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();

    // Delete the account after typing DELETE.
    await page.getByLabel("Passphrase").fill(PASS);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("button", { name: "Settings" }).click({ timeout: 60000 });
    await page.getByRole("button", { name: "Delete account" }).click();
    await page.getByRole("alert").filter({ hasText: "Type DELETE" }).waitFor();
    await page.getByLabel("Type DELETE to confirm").fill("DELETE");
    await page.getByRole("button", { name: "Delete account" }).click();
    await page.getByRole("heading", { name: "Welcome" }).waitFor();
    assert.deepEqual((await rawIndexedDb(page)).length, 0);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("the vault locks itself after the chosen idle time", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  await context.clock.install();
  const { page, problems } = await strictPage(context);
  await page.goto(devnet.appUrl);
  await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  await page.getByLabel("Recovery phrase").fill("love love love love love love love love love love love love love");
  await page.getByRole("button", { name: "Restore" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByLabel("Passphrase again").fill(PASS);
  await page.getByRole("button", { name: "Finish" }).click();
  // Nothing in its swarm: the name is asked after the vault is made.
  await page.getByLabel("Display name", { exact: true }).fill("Idle");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Hello, Idle" }).waitFor({ timeout: 60000 });
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Lock after inactivity").selectOption("1");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  await page.clock.fastForward(30_000);
  assert.equal(await page.getByRole("heading", { name: "Unlock Hush" }).count(), 0, "not yet");
  await page.clock.fastForward(45_000);
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await page.getByText("Locked after inactivity.").waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test("restore from a known phrase gives exactly its Session ID", async () => {
  // vectors-core.md §1.3 (session.js keypair test).
  const phrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
  const expected = "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69";
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  await page.goto(devnet.appUrl);
  await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  const field = page.getByLabel("Recovery phrase");
  for (const [input, message] of [
    ["puffin luxury annoyed", "you entered 3"],
    [phrase.replace("memoir", "zzzzz"), "Word 5 is not a recovery-phrase word"],
    [phrase.replace(/kiwi$/, "puffin"), "The last word does not match"],
  ]) {
    await field.fill(input);
    await page.getByRole("button", { name: "Restore" }).click();
    await page.getByRole("alert").filter({ hasText: message }).waitFor();
  }
  for (const w of [390, 1280]) {
    await page.setViewportSize({ width: w, height: 900 });
    await shot(page, "restore-error", w);
  }
  await field.fill(phrase.toUpperCase());
  await page.getByRole("button", { name: "Restore" }).click();
  await page.getByRole("heading", { name: "Welcome back" }).waitFor();
  assert.equal(await page.getByLabel("Display name", { exact: true }).count(), 0, "a restore asks only for the passphrase first");
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByLabel("Passphrase again").fill(PASS);
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: "Choose a display name" }).waitFor({ timeout: 60000 });
  await shot(page, "choose-name", 390);
  await page.getByLabel("Display name", { exact: true }).fill("Puffin");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Hello, Puffin" }).waitFor({ timeout: 60000 });
  assert.equal((await page.getByTestId("session-id").textContent()).trim(), expected);
  assert.deepEqual(problems, []);
  await context.close();
});

test("forgot passphrase: the recovery phrase opens Hush with its history and sets a new passphrase", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  const { phrase } = await createAccount(page, 390, "Forgetful");
  await openChat(page, NOBODY);
  await send(page, "kept across the recovery");
  await message(page, "out").filter({ hasText: "kept across the recovery" }).and(page.locator('[data-status="sent"]'))
    .waitFor({ timeout: 60000 });
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await page.getByRole("button", { name: "Forgot passphrase?" }).click();
  await page.getByRole("heading", { name: "Forgot your passphrase?" }).waitFor();
  const words = page.getByLabel("Recovery phrase");
  const NEW = "my new and better passphrase";
  await page.getByLabel("New passphrase", { exact: true }).fill(NEW);
  await page.getByLabel("New passphrase again").fill(NEW);
  // Another account's phrase is refused, and nothing changes.
  await words.fill("love love love love love love love love love love love love love");
  await page.getByRole("button", { name: "Recover" }).click();
  await page.getByRole("alert").filter({ hasText: "another account" }).waitFor({ timeout: 60000 });
  await words.fill(phrase);
  await page.getByRole("button", { name: "Recover" }).click();
  await page.getByRole("heading", { name: "Hello, Forgetful" }).waitFor({ timeout: 60000 });
  await page.getByText("Your new passphrase is set.").waitFor();
  await page.getByTestId("conversation").first().click();
  await message(page, "out").filter({ hasText: "kept across the recovery" }).waitFor();

  // The old passphrase no longer opens it; the new one does.
  await page.reload();
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "does not unlock" }).waitFor({ timeout: 60000 });
  await page.getByLabel("Passphrase", { exact: true }).fill(NEW);
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("heading", { name: "Hello, Forgetful" }).waitFor({ timeout: 60000 });
  assert.deepEqual(problems, []);
  await context.close();
});

test("the account can be deleted from the unlock screen, after typing DELETE", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const { page, problems } = await strictPage(context);
  await createAccount(page, 390, "Leaving");
  await page.reload();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await page.getByRole("button", { name: "Delete account on this device" }).click();
  const confirm = page.getByLabel("Type DELETE to confirm");
  await confirm.fill("delete");
  await page.getByRole("button", { name: "Delete account", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "Type DELETE" }).waitFor();
  assert.ok((await rawIndexedDb(page)).length >= 2, "nothing is deleted before the confirmation");
  // Cancel keeps everything; Back (the browser's) too.
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await page.getByRole("button", { name: "Delete account on this device" }).click();
  await page.goBack();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  await page.getByRole("button", { name: "Delete account on this device" }).click();
  await confirm.fill("DELETE");
  await page.getByRole("button", { name: "Delete account", exact: true }).click();
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  assert.deepEqual(await rawIndexedDb(page), []);
  await page.reload();
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
