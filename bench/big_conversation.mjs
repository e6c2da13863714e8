// The real app with a conversation that holds 100,000 messages, and with a list of 1,000
// conversations, at a phone's width (390 px: one pane, the list or the conversation) and a
// desktop's (1280 px: the list and the open conversation side by side). Timed inside the page:
// - unlock → every row of the list in the document, and the frame after it (when it is painted):
//   the list of 1,000 (HUSH_BENCH_LIST_PROFILE) against the list of 5 (HUSH_BENCH_PROFILE), the
//   same app and build, interleaved;
// - click on a row → the conversation's newest message in the document, and the frame after it:
//   the big conversation against one of 50 messages, in the list of 5; the same 50-message
//   conversation in the list of 1,000; then Back (the browser's, one level up) → the list again
//   (on a phone the list is made anew; beside the conversation it stays).
// Run by scripts/bench-big-conversation.sh, after app/tests/bench_big_conversation.rs has filed the
// conversations into the app's database in the Chromium profiles HUSH_BENCH_PROFILE and
// HUSH_BENCH_LIST_PROFILE at the origin http://127.0.0.1:HUSH_BENCH_PORT; this serves the built app
// (HUSH_DIST) from that same origin with a devnet, so the app finds that database. Without
// HUSH_BENCH_LIST_PROFILE only the list of 5 is timed. With HUSH_BENCH_TRACE=1 it also records a
// Chromium trace and CPU profile of one unlock of each list, one open from the list of 1,000 and
// one Back to it, and says where the main thread's time went (HUSH_BENCH_TRACE_DIR keeps them).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";
import { ROOT, hushNodeBinary } from "../tests/e2e/harness.mjs";

const PASS = "a long enough passphrase";
/** Opens of each conversation at each width, interleaved, after the first. */
const ROUNDS = Number(process.env.HUSH_BENCH_ROUNDS ?? 10);
/** Unlocks of each list at each width, interleaved, after one untimed. */
const UNLOCKS = Number(process.env.HUSH_BENCH_UNLOCKS ?? 5);
const WIDTHS = [390, 1280];
const profile = process.env.HUSH_BENCH_PROFILE;
const listProfile = process.env.HUSH_BENCH_LIST_PROFILE;
const port = Number(process.env.HUSH_BENCH_PORT);
const count = Number(process.env.HUSH_BENCH_MESSAGES ?? 100000);
if (!profile || !port) throw new Error("set HUSH_BENCH_PROFILE and HUSH_BENCH_PORT (scripts/bench-big-conversation.sh does)");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => ok(p)); });
  });
}

// A devnet whose app and relay are served on the bench's origin.
const data = mkdtempSync(join(tmpdir(), "hush-big-"));
const base = 20000 + Math.floor(Math.random() * 30000);
const args = ["devnet", "--data", data, "--nodes", "4", "--seed-port", String(await freePort()),
  "--app-port", String(port), "--base-port", String(base), "--static", process.env.HUSH_DIST ?? join(ROOT, "dist")];
const devnet = spawn(hushNodeBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
process.on("exit", () => { devnet.kill("SIGTERM"); rmSync(data, { recursive: true, force: true }); }); // also on failure
let log = "";
devnet.stdout.on("data", (d) => (log += d));
devnet.stderr.on("data", (d) => (log += d));
const deadline = Date.now() + 30000;
while (!existsSync(join(data, "devnet.json"))) {
  if (devnet.exitCode !== null || Date.now() > deadline) throw new Error(`devnet did not start:\n${log}`);
  await new Promise((r) => setTimeout(r, 100));
}
const appUrl = JSON.parse(readFileSync(join(data, "devnet.json"), "utf8")).app_url;
if (appUrl !== `http://127.0.0.1:${port}`) throw new Error(`app on ${appUrl}, not the bench's origin`);

const problems = [];
/** The app in the Chromium profile `dir` (a browser of its own), `rows` conversations in its list. */
async function app(name, dir, rows) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    viewport: { width: WIDTHS[0], height: 900 },
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  return { name, context, page, rows };
}

/** Loads the app afresh and unlocks it; times, in the page, from the click on Unlock until the
 *  first row and every row of the list are in the document, and the frame after the last. */
async function unlock(a, beforeClick = async () => {}) {
  const { page, rows } = a;
  await page.goto(appUrl);
  await page.getByLabel("Passphrase").fill(PASS);
  await beforeClick();
  const timing = await page.evaluate((rows) => new Promise((resolve, reject) => {
    const count = () => document.querySelectorAll("[data-testid=conversation]").length;
    let start, first;
    const timer = setTimeout(() => reject(new Error(`${count()} of ${rows} rows after 120 s`)), 120000);
    const observer = new MutationObserver(() => {
      const n = count();
      if (n > 0 && first === undefined) first = performance.now() - start;
      if (n < rows) return;
      observer.disconnect();
      clearTimeout(timer);
      const inDocument = performance.now() - start;
      requestAnimationFrame(() => {
        performance.mark("bench-frame");
        resolve({ first, inDocument, frame: performance.now() - start, n: count() });
      });
    });
    observer.observe(document, { subtree: true, childList: true });
    performance.mark("bench-click");
    start = performance.now();
    document.querySelector("#unlock-passphrase").form.querySelector("button[type=submit]").click();
  }), rows);
  if (timing.n !== rows) throw new Error(`${a.name}: ${timing.n} rows, not ${rows}`);
  await page.getByRole("heading", { name: "Hello, Bench" }).waitFor();
  return timing;
}

/** Clicks the conversation titled `title` and times, in the page, until the message with `text`
 *  is in the document and until the frame after it; checks what is shown. Then Back, timed until
 *  the list (on a phone) or the empty pane (beside the list) is back, and its frame. */
async function open(a, title, text, { beforeClick = async () => {}, beforeBack = async () => {} } = {}) {
  const { page, rows } = a;
  await page.getByRole("heading", { name: "Hello, Bench" }).waitFor();
  await page.locator("[data-testid=conversation]", { hasText: title }).first().waitFor();
  await beforeClick();
  const timing = await page.evaluate(({ title, text }) => new Promise((resolve, reject) => {
    const button = [...document.querySelectorAll("[data-testid=conversation]")]
      .find((b) => b.querySelector("[data-testid=name]")?.textContent === title);
    if (!button) return reject(new Error(`no conversation ${title}`));
    const seen = () => [...document.querySelectorAll("[data-testid=message]")].some((m) => m.textContent.includes(text));
    let start;
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      const inDocument = performance.now() - start;
      requestAnimationFrame(() => {
        performance.mark("bench-frame");
        resolve({ inDocument, frame: performance.now() - start,
          shown: document.querySelectorAll("[data-testid=message]").length,
          heading: document.querySelector("#conversation-title")?.textContent });
      });
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
    performance.mark("bench-click");
    start = performance.now();
    button.click();
  }), { title, text });
  if (timing.shown !== 50) throw new Error(`${a.name}, ${title}: ${timing.shown} messages shown, not 50`);
  if (timing.heading !== title) throw new Error(`${a.name}: the conversation's heading is ${timing.heading}, not ${title}`);
  await beforeBack();
  const back = await page.evaluate((rows) => new Promise((resolve) => {
    const done = () => document.querySelector("#conversation-title") === null
      && (document.querySelector(".empty-chat") !== null
        || document.querySelectorAll("[data-testid=conversation]").length === rows);
    let start;
    const observer = new MutationObserver(() => {
      if (!done()) return;
      observer.disconnect();
      const inDocument = performance.now() - start;
      requestAnimationFrame(() => {
        performance.mark("bench-frame");
        resolve({ inDocument, frame: performance.now() - start });
      });
    });
    observer.observe(document, { subtree: true, childList: true });
    performance.mark("bench-click");
    start = performance.now();
    history.back();
  }), rows);
  return { ...timing, back };
}

/** Where the main thread's time went during `run` (one unlock of `a`'s list, an open from it, or
 *  a Back to it),
 *  from the click to the frame (the page's marks): a Chromium trace (the DevTools timeline's events on the renderer's main thread, summed
 *  by kind; the kinds nest, a forced layout inside a script call, so they overlap) and a CPU
 *  profile (V8's samples, self time by function: the wasm, the JS glue's calls into the DOM). */
async function trace(a, what, run) {
  const cdp = await a.context.newCDPSession(a.page);
  const events = [];
  cdp.on("Tracing.dataCollected", (e) => events.push(...e.value));
  const complete = new Promise((r) => cdp.once("Tracing.tracingComplete", r));
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
  const t = await run(async () => {
    await cdp.send("Tracing.start", { transferMode: "ReportEvents",
      traceConfig: { includedCategories: ["toplevel", "devtools.timeline", "blink.user_timing", "v8"] } });
    await cdp.send("Profiler.start");
  });
  const { profile } = await cdp.send("Profiler.stop");
  await cdp.send("Tracing.end");
  await complete;
  await cdp.detach();
  if (process.env.HUSH_BENCH_TRACE_DIR) {
    const file = join(process.env.HUSH_BENCH_TRACE_DIR, `${a.page.viewportSize().width}-${a.rows}-${what}`);
    writeFileSync(`${file}.trace.json`, JSON.stringify({ traceEvents: events }));
    writeFileSync(`${file}.cpuprofile`, JSON.stringify(profile));
  }
  const mark = (name) => events.find((e) => e.name === name && e.cat.includes("blink.user_timing"));
  const [from, to] = [mark("bench-click"), mark("bench-frame")];
  if (!from || !to) return { t, missing: true };
  const inWindow = events.filter((e) => e.pid === from.pid && e.tid === from.tid && e.ph === "X" && e.dur
    && e.ts + e.dur >= from.ts && e.ts <= to.ts);
  const of = (...names) => inWindow.filter((e) => names.includes(e.name));
  const sum = (...names) => of(...names).reduce((s, e) => s + e.dur / 1000, 0);
  const calls = of("FunctionCall");
  const forced = of("Layout").filter((l) => calls.some((c) => c.ts <= l.ts && l.ts < c.ts + c.dur));
  const longest = of("ThreadControllerImpl::RunTask").map((e) => e.dur / 1000).sort((x, y) => y - x).slice(0, 3);
  // Self time by function over the profile's samples inside the window.
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let at = profile.startTime;
  for (const [k, id] of profile.samples.entries()) {
    const dt = profile.timeDeltas[k];
    at += dt;
    if (at < from.ts || at > to.ts) continue;
    const f = nodes.get(id).callFrame;
    const name = f.url.startsWith("wasm") || f.url.endsWith(".wasm") || f.functionName.startsWith("wasm-function")
      ? "(the app's wasm)" : f.functionName || "(anonymous)";
    self.set(name, (self.get(name) ?? 0) + dt / 1000);
  }
  const top = [...self].sort((x, y) => y[1] - x[1]).slice(0, 12);
  return { t, window: (to.ts - from.ts) / 1000, tasks: sum("ThreadControllerImpl::RunTask"), replies: of("Receive mojo reply").length, script: sum("FunctionCall"),
    style: sum("UpdateLayoutTree"), styles: of("UpdateLayoutTree").length, layout: sum("Layout"), layouts: of("Layout").length,
    forced: forced.length, paint: sum("Paint", "PrePaint", "Layerize", "Commit"), gc: sum("MinorGC", "MajorGC"),
    longest, top };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => x.toFixed(1);
const stats = (xs) => `median ${ms(median(xs))} ms (best ${ms(Math.min(...xs))}, worst ${ms(Math.max(...xs))})`;

const five = await app("list of 5", profile, 5);
const thousand = listProfile ? await app("list of 1000", listProfile, 1000) : null;
const apps = [five, thousand].filter(Boolean);
const big = ["Big conversation", `Message number ${count - 1} of this conversation`];
const small = ["Small conversation", "Message number 49 of this conversation"];
const medians = {};

for (const width of WIDTHS) {
  for (const a of apps) await a.page.setViewportSize({ width, height: 900 });
  // Unlock → list.
  const unlocks = new Map(apps.map((a) => [a, []]));
  for (let i = 0; i <= UNLOCKS; i++) {
    for (const a of apps) {
      const t = await unlock(a);
      if (i === 0) console.log(`INFO ${width} px, ${a.name}: unlock → first row ${ms(t.first)} ms, all in the document ${ms(t.inDocument)} ms, frame ${ms(t.frame)} ms (first unlock after load, not counted)`);
      else unlocks.get(a).push(t);
    }
  }
  for (const a of apps) {
    const ts = unlocks.get(a);
    medians[`${width}/${a.name}/unlock`] = median(ts.map((t) => t.frame));
    console.log(`BENCH app ${width} px, ${a.name}: unlock → every row in the document ${stats(ts.map((t) => t.inDocument))}; `
      + `→ its frame ${stats(ts.map((t) => t.frame))}; → first row ${stats(ts.map((t) => t.first))}, ${UNLOCKS} unlocks`);
  }
  if (thousand) {
    console.log(`BENCH app ${width} px ratio (medians, frame): unlock → list, 1000 / 5 conversations `
      + `${(medians[`${width}/list of 1000/unlock`] / medians[`${width}/list of 5/unlock`]).toFixed(2)}×`);
  }

  // Click → conversation; Back → list. Each app was just unlocked; the first opens after it apart.
  const cases = [[five, ...big], [five, ...small], ...(thousand ? [[thousand, ...small]] : [])];
  const times = cases.map(() => []);
  const label = ([a, title]) => `${a.name}, ${title.toLowerCase()}`;
  for (let i = 0; i <= ROUNDS; i++) {
    for (const [k, c] of cases.entries()) {
      const t = await open(...c);
      if (i === 0) {
        console.log(`BENCH app ${width} px, ${label(c)}: first open after unlock: click → newest message in the document `
          + `${ms(t.inDocument)} ms, frame ${ms(t.frame)} ms; Back → ${width < 900 ? "list" : "empty pane"} ${ms(t.back.frame)} ms (frame)`);
      } else times[k].push(t);
    }
  }
  for (const [k, c] of cases.entries()) {
    const ts = times[k];
    if (!ts.length) continue;
    medians[`${width}/${label(c)}/open`] = median(ts.map((t) => t.frame));
    console.log(`BENCH app ${width} px, ${label(c)}: click → newest message in the document ${stats(ts.map((t) => t.inDocument))}; `
      + `→ its frame ${stats(ts.map((t) => t.frame))}; Back → ${width < 900 ? "list" : "empty pane"}: frame ${stats(ts.map((t) => t.back.frame))}, ${ROUNDS} opens`);
  }
  if (ROUNDS) console.log(`BENCH app ${width} px ratio (medians, frame): big / small conversation `
    + `${(medians[`${width}/${label(cases[0])}/open`] / medians[`${width}/${label(cases[1])}/open`]).toFixed(2)}×`
    + (thousand ? `; the small one in the list of 1000 / in the list of 5 ${(medians[`${width}/${label(cases[2])}/open`] / medians[`${width}/${label(cases[1])}/open`]).toFixed(2)}×` : ""));

  if (process.env.HUSH_BENCH_TRACE) {
    const runs = apps.map((a) => [a, "unlock", (before) => unlock(a, before)]);
    if (thousand) runs.push([thousand, "open", (beforeClick) => open(thousand, ...small, { beforeClick })]);
    if (thousand && width < 900) runs.push([thousand, "back", async (beforeBack) => (await open(thousand, ...small, { beforeBack })).back]);
    for (const [a, what, run] of runs) {
      const r = await trace(a, what, run);
      const name = `${width} px, ${a.name}, ${{ unlock: "unlock → list", open: "click → small conversation", back: "Back → list" }[what]}`;
      if (r.missing) { console.log(`TRACE ${name}: the trace lacks the marks`); continue; }
      console.log(`TRACE ${name} → frame ${ms(r.t.frame)} ms (traced ${ms(r.window)} ms): the main thread's tasks ${ms(r.tasks)} ms `
        + `(longest ${r.longest.map(ms).join(", ")} ms; ${r.replies} IndexedDB and other replies), in them script calls ${ms(r.script)} ms, `
        + `style ${ms(r.style)} ms (${r.styles} times), layout ${ms(r.layout)} ms (${r.layouts} times, ${r.forced} forced by script), `
        + `paint ${ms(r.paint)} ms, GC ${ms(r.gc)} ms`);
      console.log(`TRACE ${name}: self time by function (CPU profile): `
        + r.top.map(([f, t]) => `${f} ${ms(t)} ms`).join("; "));
    }
  }
}

if (problems.length) console.log(`INFO page problems:\n${problems.join("\n")}`);
for (const a of apps) await a.context.close();
await new Promise((r) => { devnet.once("exit", r); devnet.kill("SIGTERM"); });
