// Issue 15 item 7, third figure: joining a community room with 10,000 messages → its first screen,
// in Chromium through a devnet, against joining a room of 10 messages in the same run.
//
// The devnet's community server gets three rooms filled by hush-node's `sogs_seed` example with
// real posts (a signed, padded `Content` with a body and a profile name, which the app checks and
// keeps): `lobby` with BIG posts, and two rooms the seeder adds: `small` with SMALL (the
// reference) and `page` with PAGE, as many as the app fetches on joining. Then, RUNS times,
// taking the rooms in turn (small, page, lobby), a fresh browser context creates a fresh account,
// opens "Join community" once the account's start-up traffic has gone quiet (no request for 2 s),
// types the room's URL, and the clock runs from the click on Join to the first animation frame
// after the room's newest post ("post N of N: …") is in the page and inside the window (drawn: the
// room's first screen). The app fetches the room's most recent page of posts on joining, not all
// of them, so the figure is what the join costs, not 10,000 posts drawn.
// Also counted, from Chrome's DevTools protocol (Network events) between the click and that
// frame: the page's requests (onion requests to the relay) and WebSocket frames, the bytes sent
// (request bodies and frame payloads) and received (responses as encoded on the wire, and frame
// payloads).
//
// Run: node bench/community_join.mjs   (after `trunk build --release` and
// `cargo build --release -p hush-node --examples`; HUSH_NODE=…/release/hush-node; the seeder is
// found next to it in examples/, or at SOGS_SEED=…). BIG (10000), SMALL (10), PAGE (100), RUNS (3).
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { startDevnet, launchBrowser, hushNodeBinary } from "../tests/e2e/harness.mjs";
import { createAccount } from "../tests/e2e/people.mjs";

const BIG = Number(process.env.BIG ?? 10000);
const SMALL = Number(process.env.SMALL ?? 10);
// A room of one page: what the app fetches on joining (client/src/communities.rs `PAGE`, 100).
const PAGE = Number(process.env.PAGE ?? 100);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seeder = process.env.SOGS_SEED ?? join(dirname(hushNodeBinary()), "examples", "sogs_seed");

const devnet = await startDevnet({ nodes: 6 });
const communityDir = join(devnet.data, "community");
const lobby = devnet.info.community.lobby_url;
const rooms = [
  { name: "small", posts: SMALL, url: lobby.replace("/lobby?", "/small?") },
  { name: "page", posts: PAGE, url: lobby.replace("/lobby?", "/page?") },
  { name: "lobby", posts: BIG, url: lobby },
];
for (const room of rooms) {
  const out = execFileSync(seeder, [room.url, String(room.posts), communityDir], { encoding: "utf8", timeout: 600000 });
  console.log(`seeded ${room.name}: ${out.trim().split("\n").pop()}`);
  room.newest = `post ${room.posts} of ${room.posts}: the quick brown fox jumps over the lazy dog`;
  room.times = [];
  room.traffic = [];
}

const browser = await launchBrowser();

/** One join of `room` in a fresh context and account: { ms, requests, frames, sent, received }. */
async function joinOnce(room, r) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await createAccount(page, devnet.appUrl, `Joiner ${room.name} ${r}`);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const traffic = { requests: 0, frames: 0, sent: 0, received: 0 };
  let counting = false;
  let last = Date.now();
  cdp.on("Network.requestWillBeSent", (e) => {
    last = Date.now();
    if (!counting) return;
    traffic.requests += 1;
    const entries = e.request.postDataEntries;
    traffic.sent += entries ? entries.reduce((n, x) => n + Buffer.from(x.bytes ?? "", "base64").length, 0)
      : Buffer.byteLength(e.request.postData ?? "");
  });
  cdp.on("Network.loadingFinished", (e) => { if (counting) traffic.received += e.encodedDataLength; });
  // (Request bodies only; responses as Chrome counts them on the wire, headers included.)
  cdp.on("Network.webSocketFrameSent", (e) => {
    if (!counting) return;
    traffic.frames += 1;
    traffic.sent += e.response.payloadData.length;
  });
  cdp.on("Network.webSocketFrameReceived", (e) => {
    if (!counting) return;
    traffic.frames += 1;
    traffic.received += e.response.payloadData.length;
  });
  // The new account's start-up traffic (the node list, its swarm, paths) done: no request for
  // 2 s (at most 30 s of waiting), so the join's requests are the join's.
  const waitFrom = Date.now();
  while (Date.now() - last < 2000 && Date.now() - waitFrom < 30000) await new Promise((r) => setTimeout(r, 100));
  await page.getByTestId("join-community").click();
  await page.getByTestId("community-url").fill(room.url);
  counting = true;
  const ms = await page.evaluate((newest) => new Promise((resolve, reject) => {
    // The dialog's Join button (the one the URL field's dialog shows).
    const box = document.querySelector('[data-testid="community-url"]').closest("dialog, [role=dialog], form") ?? document;
    const join = [...box.querySelectorAll("button")].find((b) => b.textContent.trim() === "Join");
    const shown = () => [...document.querySelectorAll('[data-testid="message"] [data-testid="body"]')].some((b) => {
      if (b.textContent.trim() !== newest) return false;
      const box = b.getBoundingClientRect();
      return box.height > 0 && box.bottom > 0 && box.top < innerHeight;
    });
    const start = performance.now();
    const give = setTimeout(() => reject(new Error("the newest post was not shown in 120 s")), 120000);
    const check = () => {
      if (shown()) {
        // The frame after the one in which it was there: drawn.
        requestAnimationFrame(() => { clearTimeout(give); resolve(performance.now() - start); });
      } else requestAnimationFrame(check);
    };
    join.click();
    requestAnimationFrame(check);
  }), room.newest);
  counting = false;
  await cdp.detach();
  await context.close();
  return { ms, ...traffic };
}

for (let r = 0; r < RUNS; r++) {
  for (const room of rooms) {
    const t = await joinOnce(room, r);
    room.times.push(t.ms);
    room.traffic.push(t);
    console.log(`run ${r + 1} ${room.name} (${room.posts} posts): ${t.ms.toFixed(0)} ms, ${t.requests} requests, `
      + `${t.frames} WebSocket frames, ${t.sent} B sent, ${t.received} B received`);
  }
}

await browser.close();
await devnet.stop();

const [small, , big] = rooms;
const med = (room, k) => median(room.traffic.map((t) => t[k]));
console.log(`\n| room | posts | join → newest post drawn, median of ${RUNS} (ms) | runs (ms) | ÷ ${SMALL}-post room | requests | WebSocket frames | bytes sent | bytes received |`);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const room of rooms) {
  console.log(`| ${room.name} | ${room.posts} | ${median(room.times).toFixed(0)} | ${room.times.map((t) => t.toFixed(0)).join(", ")} | `
    + `${(median(room.times) / median(small.times)).toFixed(2)} | ${med(room, "requests")} | ${med(room, "frames")} | `
    + `${med(room, "sent")} | ${med(room, "received")} |`);
}
console.log(`\n(${big.name}: ${BIG} posts; traffic columns are medians over the runs.)`);
