// A community's QR code (issue 15: "paste a community URL, or scan its QR"): Alice joins the
// devnet's lobby and opens Share, which shows the room's URL and its QR code. Bob reads that code
// from a picture ("Choose a picture"), and Carol with the camera (Chromium's fake camera playing a
// video of the code): both end in the room. A code that is not a community's URL (Bob's own
// Session ID) and a picture without a code are said so; a missing camera is said; the camera goes
// off when a scan is stopped, when the dialog closes, when the page is hidden, and once a code
// joined. Screenshots of the Share dialog and of the scanner at 390 and 1280 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage, setVisibility } from "./harness.mjs";
import { createAccount, picture, roomAction, shots } from "./people.mjs";

const NOT_COMMUNITY = "This QR code is not a community URL. Try another code.";
const NO_CODE = "No QR code could be read in this picture.";
const CAMERA_PROBLEMS = [
  "Hush may not use the camera. Allow it in the browser's site settings, or paste the URL.",
  "No camera was found. Choose a picture of the code, or paste the URL.",
  "The camera could not be started. Choose a picture of the code, or paste the URL.",
];

let devnet, plain, faked, filmed, alice, bob, carol, dir;
before(async () => {
  devnet = await startDevnet({ nodes: 6 });
  dir = mkdtempSync(join(tmpdir(), "hush-qr-"));
  // Alice's browser has no camera; Bob's has Chromium's fake one (a moving pattern, no code).
  plain = await launchBrowser();
  faked = await launchBrowser({ fakeMedia: true });
  alice = await strictPage(await plain.newContext());
  bob = await strictPage(await faked.newContext());
  await Promise.all([createAccount(alice.page, devnet.appUrl, "Alice"), createAccount(bob.page, devnet.appUrl, "Bob")]);
});
after(async () => {
  const problems = [alice, bob, carol].flatMap((p) => p?.problems ?? []);
  for (const b of [plain, faked, filmed]) await b?.close();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(problems, []);
});

const lobbyUrl = () => devnet.info.community.lobby_url;
const scanNote = (page) => page.getByRole("dialog").getByTestId("scan-note");

/** Opens "Join community" from Home. */
async function openJoin(page) {
  await page.getByTestId("join-community").click();
  await page.getByTestId("community-url").waitFor();
}

/** Waits for the room to open and the dialog to close. */
async function inRoom(page) {
  await page.locator("#room-title").filter({ hasText: "Lobby" }).waitFor({ timeout: 60000 });
  await page.getByTestId("community-url").waitFor({ state: "hidden", timeout: 60000 });
}

/** Whether the scanner's video shows a stream, and how many camera tracks the page still has live. */
async function camera(page) {
  return page.evaluate(() => ({
    showing: document.querySelector('[data-testid="scanner"]')?.srcObject != null,
    live: (window.__streams ?? []).flatMap((s) => s.getTracks()).filter((t) => t.readyState === "live").length,
    asked: window.__asked ?? [],
  }));
}

/** Keeps the streams and constraints the page asks `getUserMedia` for (to see them end). */
async function watchCamera(page) {
  await page.evaluate(() => {
    const devices = navigator.mediaDevices;
    const ask = devices.getUserMedia.bind(devices);
    window.__streams = [];
    window.__asked = [];
    devices.getUserMedia = async (constraints) => {
      window.__asked.push(constraints);
      const stream = await ask(constraints);
      window.__streams.push(stream);
      return stream;
    };
  });
}

/** A YUV4MPEG2 (4:2:0) video of `frames` still frames of the RGBA `pixels` (w × h) centred on white. */
function y4m({ width: w, height: h, pixels }, W = 640, H = 480, frames = 5) {
  const y = Buffer.alloc(W * H, 255);
  const [x0, y0] = [Math.floor((W - w) / 2), Math.floor((H - h) / 2)];
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const k = (j * w + i) * 4;
      const luma = 0.299 * pixels[k] + 0.587 * pixels[k + 1] + 0.114 * pixels[k + 2];
      y[(y0 + j) * W + x0 + i] = Math.round(16 + (luma * 219) / 255);
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), y, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`), ...Array(frames).fill(frame)]);
}

/** The pixels of a PNG, read back through a canvas of `page`. */
function pixelsOf(page, png) {
  return page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, 0, 0);
    const data = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
    return { width: bitmap.width, height: bitmap.height, pixels: Array.from(data) };
  }, png.toString("base64"));
}

let qr;

test("Share shows the room's URL and QR code; a picture of it joins", async () => {
  const a = alice.page, b = bob.page;
  await openJoin(a);
  await a.getByTestId("community-url").fill(lobbyUrl());
  await a.getByRole("button", { name: "Join", exact: true }).click();
  await inRoom(a);

  await roomAction(a, "share-community");
  const share = a.getByRole("dialog", { name: "Share this community" });
  await share.waitFor();
  const shown = (await share.getByTestId("community-share-url").textContent()).trim();
  assert.match(shown, /^http:\/\/[^/]+\/lobby\?public_key=[0-9a-f]{64}$/);
  assert.equal(shown, lobbyUrl());
  await shots(a, "community-share", { fullPage: false });
  qr = await share.getByTestId("community-qr").screenshot();
  // Copy: the browser refuses a page without the permission; the URL is then selected to copy.
  await a.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await share.getByTestId("copy-community-url").click();
  await share.getByText("The URL is copied.").waitFor();
  assert.equal(await a.evaluate(() => navigator.clipboard.readText()), shown);
  await a.keyboard.press("Escape");
  await share.waitFor({ state: "hidden" });

  // Bob: a picture without a code, then his own Session ID's code (not a community), then the room's.
  await openJoin(b);
  await b.getByTestId("scan-picture").setInputFiles({ name: "plain.png", mimeType: "image/png", buffer: await picture(b, 400, 300) });
  await scanNote(b).filter({ hasText: NO_CODE }).waitFor({ timeout: 30000 });
  await b.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await b.getByRole("button", { name: "Show QR", exact: true }).click();
  const own = await b.locator("#home-qr svg").screenshot();
  await b.getByRole("button", { name: "Hide QR", exact: true }).click();
  await openJoin(b);
  await b.getByTestId("scan-picture").setInputFiles({ name: "id.png", mimeType: "image/png", buffer: own });
  await scanNote(b).filter({ hasText: NOT_COMMUNITY }).waitFor({ timeout: 30000 });
  assert.equal(await b.getByTestId("community").count(), 0);
  await b.getByTestId("scan-picture").setInputFiles({ name: "room.png", mimeType: "image/png", buffer: qr });
  await inRoom(b);
});

test("the camera: a missing one is said, and it goes off on Stop, on close and when the page hides", async () => {
  // Alice's browser has no camera.
  const a = alice.page;
  await a.getByRole("button", { name: "Back", exact: true }).click();
  await openJoin(a);
  await a.getByTestId("scan-qr").click();
  await scanNote(a).filter({ hasText: new RegExp(CAMERA_PROBLEMS.map((p) => p.replace(/[.?]/g, "\\$&")).join("|")) })
    .waitFor({ timeout: 30000 });
  assert.equal(await a.getByTestId("scan-qr").textContent(), "Scan QR code");
  await a.keyboard.press("Escape");

  // Bob's fake camera shows a pattern with no code: the scan goes on until it is ended.
  const b = bob.page;
  await b.getByRole("button", { name: "Back", exact: true }).click();
  await watchCamera(b);
  await openJoin(b);
  await b.getByTestId("scan-qr").click();
  await b.waitForFunction(() => document.querySelector('[data-testid="scanner"]')?.videoWidth > 0, null, { timeout: 30000 });
  await scanNote(b).filter({ hasText: "Hold the community's QR code in front of the camera." }).waitFor();
  assert.equal((await camera(b)).live, 1);
  assert.deepEqual((await camera(b)).asked[0], { video: { facingMode: "environment" } });
  await shots(b, "community-scan", { fullPage: false });
  // Stop scanning.
  await b.getByTestId("scan-qr").click();
  await b.getByTestId("scanner").waitFor({ state: "hidden" });
  const stopped = await camera(b);
  assert.equal(stopped.showing, false);
  assert.equal(stopped.live, 0);
  // Escape closes the dialog.
  await b.getByTestId("scan-qr").click();
  await b.waitForFunction(() => window.__streams.length === 2 && document.querySelector('[data-testid="scanner"]').srcObject);
  await b.keyboard.press("Escape");
  await b.getByTestId("community-url").waitFor({ state: "hidden" });
  assert.equal((await camera(b)).live, 0);
  // The page is hidden (another tab).
  await openJoin(b);
  await b.getByTestId("scan-qr").click();
  await b.waitForFunction(() => window.__streams.length === 3 && document.querySelector('[data-testid="scanner"]').srcObject);
  await setVisibility(b, "hidden");
  await b.getByTestId("scanner").waitFor({ state: "hidden" });
  assert.equal((await camera(b)).live, 0);
  await setVisibility(b, "visible");
  await b.keyboard.press("Escape");
});

test("the camera reads the room's code and the room opens", async () => {
  // Carol's camera films the code Alice's Share showed.
  const file = join(dir, "room-qr.y4m");
  writeFileSync(file, y4m(await pixelsOf(alice.page, qr)));
  filmed = await launchBrowser({ fakeVideo: file });
  carol = await strictPage(await filmed.newContext());
  const c = carol.page;
  await createAccount(c, devnet.appUrl, "Carol");
  await watchCamera(c);
  await openJoin(c);
  await c.getByTestId("scan-qr").click();
  await inRoom(c);
  // The scan ended: the camera is off.
  assert.equal((await camera(c)).live, 0);
  assert.equal(await c.getByTestId("community").filter({ hasText: "Lobby" }).count(), 1);
});
