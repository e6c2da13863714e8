// Figures for account sync (issue 14): in Chromium, through a devnet, the time from "Finish" (the
// step after the passphrase, on restoring from a recovery phrase) to the home screen, for an
// account whose swarm holds a Contacts config of 1,000 contacts; the reference, in the same run,
// is the same restore of an account whose swarm holds only its profile (a name).
// The configs are stored by `cargo run --release -p hush-client --features native --example
// account_sync -- seed …` (signed stores into namespaces 2 and 3, as another client of the account
// stores them).
// Each run is a fresh browser context (a new device: an empty IndexedDB). Timed inside the page on
// its own clock: from the click on Finish to "Hello, <name>" in the document, and to the last
// change of the conversation list's row count (the list complete: every row drawn; the end is
// taken once the count has not changed for 3 s). Also counted: what the page sent to and got from
// the relay in that time (request and response bodies and headers, as Chromium reports them).
// Run: node bench/restore.mjs   (after `trunk build --release`, `cargo build --release -p hush-node`
// and the example above built with `--release`; HUSH_NODE=… and CARGO_TARGET_DIR as for the
// other benches). CONTACTS=n (default 1000), RUNS=n (default 3).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startDevnet, launchBrowser } from "../tests/e2e/harness.mjs";
import { PASS } from "../tests/e2e/people.mjs";

const CONTACTS = Number(process.env.CONTACTS ?? 1000);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const example = process.env.HUSH_ACCOUNT_SYNC ??
  join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "release", "examples", "account_sync");

const devnet = await startDevnet({ nodes: 6 });
const seed = (name, contacts) =>
  JSON.parse(execFileSync(example, ["seed", devnet.data, "-", name, String(contacts)], { encoding: "utf8" }));
const accounts = [
  { label: "reference: profile only (no Contacts config)", name: "Reference", ...seed("Reference", 0) },
  { label: `${CONTACTS} contacts`, name: "Many", ...seed("Many", CONTACTS) },
];
const browser = await launchBrowser();

async function restore(account) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const rows = () => document.querySelectorAll('[data-testid="conversation"]').length;
    window.__rows = 0;
    document.addEventListener("click", (e) => {
      const b = e.target.closest && e.target.closest("button");
      if (b && b.textContent.trim() === "Finish" && window.__finish === undefined) window.__finish = performance.now();
    }, true);
    new MutationObserver(() => {
      if (window.__finish === undefined) return;
      if (window.__hello === undefined &&
          [...document.querySelectorAll("h1, h2")].some((h) => h.textContent.trim().startsWith("Hello, "))) {
        window.__hello = performance.now();
      }
      const n = rows();
      if (n !== window.__rows) { window.__rows = n; window.__rowsAt = performance.now(); }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  let counting = false;
  const traffic = { requests: 0, sent: 0, received: 0, big: [] };
  page.on("requestfinished", async (request) => {
    if (!counting) return;
    try {
      const s = await request.sizes();
      traffic.requests += 1;
      traffic.sent += s.requestBodySize + s.requestHeadersSize;
      traffic.received += s.responseBodySize + s.responseHeadersSize;
      if (s.responseBodySize > 20000) traffic.big.push(s.responseBodySize);
    } catch { /* the page is gone */ }
  });
  await page.goto(devnet.appUrl);
  await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  await page.getByLabel("Recovery phrase").fill(account.phrase);
  await page.getByRole("button", { name: "Restore" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
  await page.getByLabel("Passphrase again").fill(PASS);
  counting = true;
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: `Hello, ${account.name}` }).waitFor({ timeout: 120000 });
  // The list is complete once its row count has held for 3 s.
  for (let last = -1; ;) {
    await page.waitForTimeout(3000);
    const n = await page.evaluate(() => window.__rows);
    if (n === last) break;
    last = n;
  }
  counting = false;
  const t = await page.evaluate(() => ({ finish: window.__finish, hello: window.__hello, rows: window.__rows,
    rowsAt: window.__rowsAt }));
  await context.close();
  return { hello: t.hello - t.finish, list: (t.rowsAt ?? t.hello) - t.finish, rows: t.rows, ...traffic };
}

const results = accounts.map(() => []);
for (let run = 0; run < RUNS; run++) {
  // Interleaved, so that both sides see the same load.
  for (const [i, account] of accounts.entries()) results[i].push(await restore(account));
}
console.log(`Restore → home in Chromium (devnet of 6 nodes), median of ${RUNS} runs, each a fresh browser context`);
console.log("| account | configs stored (B) | Finish → \"Hello, <name>\" (ms) | Finish → list complete (ms) | rows | to the relay: requests / sent / received (B) |");
console.log("|---|---|---|---|---|---|");
const big = [];
for (const [i, account] of accounts.entries()) {
  const r = results[i];
  const parts = account.contacts_parts.length
    ? `; Contacts ${account.contacts_bytes} in ${account.contacts_parts.length} part(s)` : "";
  console.log(`| ${account.label} | UserProfile ${account.profile_bytes}${parts} | ${median(r.map((x) => x.hello)).toFixed(0)} ` +
    `(${r.map((x) => x.hello.toFixed(0)).join(", ")}) | ${median(r.map((x) => x.list)).toFixed(0)} ` +
    `(${r.map((x) => x.list.toFixed(0)).join(", ")}) | ${median(r.map((x) => x.rows))} | ` +
    `${median(r.map((x) => x.requests))} / ${median(r.map((x) => x.sent))} / ${median(r.map((x) => x.received))} |`);
  big.push(`${account.label}: ${r.map((x) => `[${x.big.join(", ")}]`).join(" ")}`);
}
console.log(`\nresponses over 20,000 B, per run: ${big.join("; ")}`);
console.log(`load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
await browser.close();
await devnet.stop();
