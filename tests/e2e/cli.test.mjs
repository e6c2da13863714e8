// A Hush user in the browser and a Hush user on the command line (`hush`, the same engine built
// natively) talk over the devnet: the command line writes first (a message request), the browser
// accepts and replies, `hush inbox --json` prints the reply, and `hush inbox --follow` prints the
// next one as it arrives.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openRow, send, waitCount } from "./people.mjs";

const PASS = "a long enough passphrase";

/** The `hush` binary: $HUSH_CLI, else the Cargo target folder's debug build. */
function hushBinary() {
  if (process.env.HUSH_CLI) return process.env.HUSH_CLI;
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  return join(target, "debug", "hush");
}

let devnet, browser, data;
before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  browser = await launchBrowser();
  data = mkdtempSync(join(tmpdir(), "hush-e2e-cli-"));
});
after(async () => {
  await browser?.close();
  await devnet?.stop();
  if (data) rmSync(data, { recursive: true, force: true });
});

/** Runs `hush --data DATA ...args`; resolves to { code, stdout, stderr } (bounded in time). */
function hush(...args) {
  return new Promise((ok) => {
    execFile(hushBinary(), ["--data", data, ...args], { env: { ...process.env, HUSH_PASSPHRASE: PASS }, timeout: 150000 },
      (error, stdout, stderr) => ok({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
  });
}

async function hushOk(...args) {
  const out = await hush(...args);
  assert.equal(out.code, 0, `hush ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

/** `hush inbox --json` until it prints something (each run polls once), for up to `timeout` ms. */
async function inboxUntilSomething(timeout = 45000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const lines = (await hushOk("inbox", "--json")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    if (lines.length) return lines;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error("hush inbox printed nothing");
}

test("the command line and the browser exchange messages both ways", async () => {
  const { page, problems } = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const { id: browserId } = await createAccount(page, devnet.appUrl, "Hannah");
  // The devnet's nodes are the trusted nodes its relay's node list is checked against.
  const anchors = join(devnet.data, "devnet.json");
  const cliId = (await hushOk("--relay", devnet.appUrl, "--anchors", anchors, "create", "--name", "Carl")).trim();
  assert.match(cliId, /^05[0-9a-f]{64}$/);

  // The command line writes first: the browser shows a message request from Carl.
  await hushOk("send", browserId, "Hello from the command line");
  const row = page.getByTestId("conversation").filter({ hasText: "Carl" });
  await row.filter({ hasText: "Message request" }).waitFor({ timeout: 30000 });
  await openRow(page, "Carl");
  await message(page, "in").filter({ hasText: "Hello from the command line" }).waitFor();
  await page.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("group", { name: "Message request" }).waitFor({ state: "detached" });

  // The browser replies: `hush inbox --json` prints it, once.
  await send(page, "Hello back from the browser");
  await waitCount(page, '[data-testid="message"][data-direction="out"][data-status="sent"]', 1);
  const got = await inboxUntilSomething();
  assert.deepEqual(got.map(({ from, text }) => ({ from, text })), [{ from: browserId, text: "Hello back from the browser" }]);
  assert.equal(got[0].hash.length, 43);
  assert.equal(await hushOk("inbox", "--json"), "");
  const conversations = (await hushOk("conversations", "--json")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(conversations.map(({ peer, name, standing }) => ({ peer, name, standing })),
    [{ peer: browserId, name: "Hannah", standing: "accepted" }]);

  // `hush inbox --follow` prints what the browser sends while it runs, and ends cleanly on SIGTERM.
  const follow = spawn(hushBinary(), ["--data", data, "inbox", "--follow", "--json"],
    { env: { ...process.env, HUSH_PASSPHRASE: PASS }, stdio: ["ignore", "pipe", "pipe"] });
  let followErr = "";
  follow.stderr.on("data", (d) => (followErr += d));
  const lines = createInterface({ input: follow.stdout });
  const next = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`--follow printed nothing: ${followErr}`)), 60000);
    lines.once("line", (line) => { clearTimeout(timer); ok(JSON.parse(line)); });
  });
  const exited = new Promise((ok) => follow.once("exit", (code, signal) => ok({ code, signal })));
  try {
    await send(page, "Are you still there?");
    const live = await next;
    assert.deepEqual({ from: live.from, text: live.text }, { from: browserId, text: "Are you still there?" });
  } finally {
    follow.kill("SIGTERM");
  }
  assert.deepEqual(await exited, { code: 0, signal: null }, followErr);

  // And the command line again, now an accepted conversation on both sides.
  await hushOk("send", browserId, "Still here");
  await message(page, "in").filter({ hasText: "Still here" }).waitFor({ timeout: 30000 });
  assert.deepEqual(problems, []);
});
