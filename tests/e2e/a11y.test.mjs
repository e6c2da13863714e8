// Accessibility scan: axe-core (npm, pinned in package.json) run inside the page on every screen —
// welcome, the recovery phrase, its confirmation, restore, profile, unlock, Home with
// conversations and a request (and searching), a conversation with a picture and a file, the
// picture viewer, files chosen to send, the Join community dialog, a community room, Settings —
// in the light and the
// dark theme, 390 and 1280 px wide. Any violation of impact "serious" or "critical" fails, colour
// contrast included. axe is evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern, so the page is scanned as it is served.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OUT, ROOT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openChat, openRow, PASS, picture, roomAction, send, unlock, waitCount } from "./people.mjs";

const AXE = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
const sentOut = '[data-testid="message"][data-direction="out"][data-status="sent"]';

let devnet, browser;
const people = {};

/** The serious and critical violations axe finds on `page` now, each saying where. */
async function scan(page, where) {
  // Focus rings and menus settle a frame after a screen renders.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    // A scan that ran no rule would pass anything.
    const ran = result.passes.length + result.violations.length + result.incomplete.length;
    if (ran < 20) return [{ rule: "scan", impact: "critical", help: `axe ran ${ran} rules`, nodes: [] }];
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`),
      }));
  });
  return found.map((v) => ({ where, ...v }));
}

before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  browser = await launchBrowser();
  const open = async () => strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const [ann, bob, cat] = await Promise.all([open(), open(), open()]);
  Object.assign(people, { ann, bob, cat });
  ann.id = (await createAccount(ann.page, devnet.appUrl, "Ann")).id;
  bob.id = (await createAccount(bob.page, devnet.appUrl, "Bob")).id;
  cat.id = (await createAccount(cat.page, devnet.appUrl, "Cat")).id;
  // Bob writes to Ann, who accepts and answers; Cat's message stays a request.
  await openChat(bob.page, ann.id);
  await send(bob.page, "Hello Ann, see https://example.org for the plan");
  await openRow(ann.page, "Bob", 60000);
  await ann.page.getByRole("button", { name: "Accept" }).click();
  await send(ann.page, "Thanks Bob, I will read it tonight.");
  await waitCount(ann.page, sentOut, 1);
  // Bob sends a picture and a file.
  const png = await picture(bob.page, 160, 120);
  await bob.page.getByTestId("attach").setInputFiles([
    { name: "plan.png", mimeType: "image/png", buffer: png },
    { name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("the plan") },
  ]);
  await send(bob.page, "Drawn for you");
  await ann.page.locator('[data-direction="in"] [data-testid="attachment"][data-state="ready"]').nth(1)
    .waitFor({ timeout: 90000 });
  await openChat(cat.page, ann.id);
  await send(cat.page, "Hi Ann, it is Cat");
  await ann.page.getByRole("button", { name: "Back", exact: true }).click();
  await ann.page.getByTestId("conversation").filter({ hasText: "Message request" }).waitFor({ timeout: 60000 });
  // Ann and Bob post in the devnet's community room; Ann goes back to Home.
  for (const [p, text] of [[ann.page, "Ann in the lobby"], [bob.page, "Bob in the lobby"]]) {
    await p.getByTestId("join-community").click();
    await p.getByTestId("community-url").fill(devnet.info.community.lobby_url);
    await p.getByRole("button", { name: "Join", exact: true }).click();
    await p.locator("#room-title").waitFor({ timeout: 60000 });
    await p.getByTestId("community-url").waitFor({ state: "hidden", timeout: 60000 });
    await p.getByTestId("composer").fill(text);
    await p.getByTestId("send").click();
    await p.getByTestId("message").filter({ hasText: text }).waitFor({ timeout: 60000 });
  }
  await ann.page.getByTestId("message").filter({ hasText: "Bob in the lobby" }).waitFor({ timeout: 60000 });
  await ann.page.getByRole("button", { name: "Back", exact: true }).click();
});
after(async () => {
  await browser?.close();
  await devnet?.stop();
});

for (const scheme of ["light", "dark"]) {
  for (const width of [390, 1280]) {
    test(`no serious or critical violation on any screen, ${scheme} theme, ${width} px`, async () => {
      const violations = [];
      const shot = (page, name) => page.screenshot({ path: join(OUT, `a11y-${name}-${scheme}-${width}.png`) });
      const look = async (page) => {
        await page.setViewportSize({ width, height: 900 });
        await page.emulateMedia({ colorScheme: scheme });
      };

      // Onboarding, in a browser with no account: welcome, phrase, confirmation, restore, profile.
      const fresh = await strictPage(await browser.newContext());
      const page = fresh.page;
      await look(page);
      await page.goto(devnet.appUrl);
      await page.getByRole("button", { name: "Create account" }).waitFor();
      violations.push(...await scan(page, "welcome"));
      await page.getByRole("button", { name: "Create account" }).click();
      const phrase = (await page.getByTestId("recovery-phrase").textContent()).trim();
      violations.push(...await scan(page, "show phrase"));
      await page.getByRole("button", { name: "I have written it down" }).click();
      await page.getByLabel(/^Word \d+$/).first().waitFor();
      violations.push(...await scan(page, "confirm phrase"));
      await page.goto(devnet.appUrl);
      await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
      await page.getByLabel("Recovery phrase").waitFor();
      violations.push(...await scan(page, "restore"));
      await page.getByLabel("Recovery phrase").fill(phrase);
      await page.getByRole("button", { name: "Restore" }).click();
      await page.getByLabel("Passphrase again").waitFor();
      violations.push(...await scan(page, "profile"));
      assert.deepEqual(fresh.problems, []);
      await page.context().close();

      // Ann: Home with conversations and a request, searching, a conversation, Settings, unlock.
      const ann = people.ann.page;
      await look(ann);
      await ann.getByRole("heading", { name: "Hello, Ann" }).waitFor();
      await ann.getByTestId("conversation").filter({ hasText: "Message request" }).waitFor();
      violations.push(...await scan(ann, "home"));
      await shot(ann, "home");
      await ann.getByRole("searchbox", { name: "Search" }).fill("plan");
      await ann.getByTestId("search-hit").waitFor();
      violations.push(...await scan(ann, "home, searching"));
      await ann.getByRole("searchbox", { name: "Search" }).fill("");
      await openRow(ann, "Bob");
      await message(ann, "in").filter({ hasText: "Hello Ann" }).waitFor();
      await ann.locator('[data-direction="in"] [data-testid="attachment"][data-state="ready"]').nth(1).waitFor();
      violations.push(...await scan(ann, "conversation"));
      await shot(ann, "conversation");
      // A picture in the viewer, and files chosen to send.
      await ann.getByRole("button", { name: "Open the picture" }).first().click();
      await ann.getByRole("dialog", { name: "Picture 1 of 1" }).locator("img").waitFor();
      violations.push(...await scan(ann, "the picture viewer"));
      await shot(ann, "viewer");
      await ann.keyboard.press("Escape");
      await ann.getByTestId("viewer").waitFor({ state: "hidden" });
      await ann.getByTestId("attach").setInputFiles([
        { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("a") },
        { name: "b.txt", mimeType: "text/plain", buffer: Buffer.from("b") },
      ]);
      await ann.getByTestId("chosen").nth(1).waitFor();
      violations.push(...await scan(ann, "files to send"));
      await shot(ann, "chosen");
      for (const name of ["a.txt", "b.txt"]) await ann.getByRole("button", { name: `Remove ${name}` }).click();
      await ann.getByTestId("chosen-files").waitFor({ state: "detached" });
      await ann.getByRole("button", { name: "Back", exact: true }).click();
      await openRow(ann, "Cat");
      await ann.getByRole("group", { name: "Message request" }).waitFor();
      violations.push(...await scan(ann, "conversation, a request"));
      // Communities: the Join community dialog, and a room.
      await ann.getByRole("button", { name: "Back", exact: true }).click();
      await ann.getByTestId("join-community").click();
      await ann.getByTestId("community-url").waitFor();
      violations.push(...await scan(ann, "the Join community dialog"));
      await ann.keyboard.press("Escape");
      await ann.getByTestId("community").click();
      await ann.getByTestId("message").filter({ hasText: "Bob in the lobby" }).waitFor();
      violations.push(...await scan(ann, "a community room"));
      await shot(ann, "room");
      await roomAction(ann, "share-community");
      await ann.getByTestId("community-qr").waitFor();
      violations.push(...await scan(ann, "the Share dialog of a room"));
      await ann.keyboard.press("Escape");
      await ann.getByRole("button", { name: "Back", exact: true }).click();
      await ann.getByRole("button", { name: "Settings" }).click();
      await ann.getByRole("heading", { name: "Settings", exact: true }).waitFor();
      violations.push(...await scan(ann, "settings"));
      await shot(ann, "settings");
      await ann.getByRole("button", { name: "Lock now" }).click();
      await ann.getByRole("heading", { name: "Unlock Hush" }).waitFor({ timeout: 30000 });
      violations.push(...await scan(ann, "unlock"));
      await unlock(ann, PASS);

      const report = violations.map((v) => `${v.where}: ${v.rule} (${v.impact}) ${v.help}\n    ${v.nodes.join("\n    ")}`);
      assert.deepEqual(report, [], `${report.length} violations:\n${report.join("\n")}`);
    });
  }
}

test("the people's pages logged no error", () => {
  for (const p of Object.values(people)) assert.deepEqual(p.problems, []);
});
