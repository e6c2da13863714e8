// Voice messages between Hush users in two browsers over a devnet, with Chromium's fake microphone
// (a beep every second): a click records and a click stops and sends; the file is MP3 (MPEG-1
// Layer III frames, mono, 48 kHz, as long as the recording) and arrives flagged as a voice message;
// Cancel sends nothing; Enter starts and stops, Escape cancels; press and hold on a touch screen at
// 390 px records and release sends, sliding away cancels, a tap says to hold; the limit stops and
// sends by itself (shortened for the test with ?voice-max-seconds); a refused or missing microphone
// is said; the worker encodes far faster than real time. Screenshots of the recording panel go to
// tests/out/voice-*.png.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openChat, openRow, send, waitCount, shots } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser({ fakeMedia: true }); });
after(async () => { await browser?.close(); await devnet?.stop(); });

/** Keeps a copy of every file the voice worker hands the page (`window.voiceFiles`), so the test
 *  can read what was sent, and of the blobs behind object URLs. Test-side only: the app keeps
 *  nothing. */
function recordWorkerFiles() {
  // The blobs behind object URLs, to read a received file's bytes (the page's CSP refuses a
  // fetch of a blob: URL, rightly).
  window.blobs = new Map();
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (blob) => {
    const url = createObjectURL(blob);
    window.blobs.set(url, blob);
    return url;
  };
  const Native = window.Worker;
  window.voiceFiles = [];
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => { if (e.data instanceof Uint8Array) window.voiceFiles.push(Array.from(e.data)); });
    }
  };
}

const V1_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const V1_RATES = [44100, 48000, 32000];

/** Reads `bytes` as back-to-back MPEG-1 Layer III frames: { frames, rate, kbps, mono, seconds }. */
function mp3Frames(bytes) {
  let at = 0, frames = 0, samples = 0, first = null;
  while (at < bytes.length) {
    const [b0, b1, b2, b3] = bytes.slice(at, at + 4);
    assert.equal(b0, 0xff, `frame sync at ${at}`);
    assert.equal(b1 & 0xe0, 0xe0, `frame sync at ${at}`);
    assert.equal((b1 >> 3) & 3, 3, "MPEG-1");
    assert.equal((b1 >> 1) & 3, 1, "Layer III");
    const kbps = V1_KBPS[b2 >> 4], rate = V1_RATES[(b2 >> 2) & 3], padding = (b2 >> 1) & 1;
    assert.ok(kbps && rate, `a valid header at ${at}`);
    first ??= { kbps, rate, mono: b3 >> 6 === 3 };
    at += Math.floor((144 * kbps * 1000) / rate) + padding;
    frames += 1;
    samples += 1152;
  }
  assert.equal(at, bytes.length, "the last frame is whole");
  return { frames, ...first, seconds: samples / first.rate };
}

const recordButton = (page) => page.getByRole("button", { name: "Record voice message" });
const panel = (page) => page.getByTestId("voice-recording");
const seconds = async (page) => {
  const [m, s] = (await page.getByTestId("voice-elapsed").textContent()).split(":").map(Number);
  return m * 60 + s;
};
const files = (page) => page.evaluate(() => window.voiceFiles.length);
const lastFile = async (page) => mp3Frames(await page.evaluate(() => window.voiceFiles.at(-1)));

describe("voice messages", () => {
  let a, b, c, idB;

  before(async () => {
    a = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 800 } }));
    b = await strictPage(await browser.newContext({ viewport: { width: 1280, height: 800 } }));
    // A phone: touch, 390 px, and a limit of 4 s for the limit's test.
    c = await strictPage(await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true }));
    for (const p of [a, b, c]) await p.page.addInitScript(recordWorkerFiles);
    await createAccount(a.page, devnet.appUrl, "Ada");
    ({ id: idB } = await createAccount(b.page, devnet.appUrl, "Ben"));
    await createAccount(c.page, `${devnet.appUrl}?voice-max-seconds=4`, "Cy");
    await openChat(a.page, idB);
    await send(a.page, "Hello Ben");
    await openChat(c.page, idB);
    await send(c.page, "Hi from Cy");
    await openRow(b.page, "Ada", 60000);
    await b.page.getByRole("button", { name: "Accept" }).click();
    await message(b.page, "in").filter({ hasText: "Hello Ben" }).waitFor();
  });
  after(async () => {
    for (const p of [a, b, c]) {
      assert.deepEqual(p.problems, []);
      await p.page.context().close();
    }
  });

  test("a click records, a click stops and sends an MP3 voice message that arrives", async () => {
    const { page } = a;
    await recordButton(page).click();
    await panel(page).waitFor();
    assert.equal(await recordButton(page).getAttribute("aria-pressed"), "true");
    // The level meter moves with the fake microphone's beeps.
    const levels = [];
    while ((await seconds(page)) < 3) {
      levels.push(await page.locator("meter.voice-level").evaluate((m) => m.value));
      await page.waitForTimeout(100);
    }
    assert.ok(Math.max(...levels) > 0.3, `the meter moved: ${levels.join(" ")}`);
    assert.ok(Math.min(...levels) < Math.max(...levels), "the meter moved");
    await page.screenshot({ path: join(OUT, "voice-recording-1280.png") });
    await recordButton(page).click();
    await panel(page).waitFor({ state: "detached", timeout: 30000 });
    assert.equal(await files(page), 1);
    const mp3 = await lastFile(page);
    assert.equal(mp3.rate, 48000);
    assert.equal(mp3.kbps, 96);
    assert.ok(mp3.mono, "mono");
    assert.ok(mp3.seconds >= 2.9 && mp3.seconds <= 3.6, `${mp3.seconds} s`);

    // Sent alone, with no text; the receiver gets it.
    await waitCount(page, '[data-testid="message"][data-direction="out"]', 2);
    await message(page, "out").last().and(page.locator('[data-status="sent"]')).waitFor({ timeout: 60000 });
    await waitCount(b.page, '[data-testid="message"][data-direction="in"]', 2);
    const arrived = message(b.page, "in").last();
    assert.equal(await arrived.getByTestId("body").count(), 0, "no text with it");
    assert.equal(await arrived.locator('[data-testid="attachment"]').count(), 1, "alone");
    // data-kind "voice": the pointer carries the voice flag (an audio file without it is "audio").
    const voice = arrived.locator('[data-testid="attachment"][data-kind="voice"]');
    await voice.and(b.page.locator('[data-state="ready"]')).waitFor({ timeout: 60000 });
    const audio = voice.locator("audio");
    const heard = await audio.evaluate(async (el) => {
      if (!Number.isFinite(el.duration) || el.readyState < 1) {
        await new Promise((ok) => el.addEventListener("loadedmetadata", ok, { once: true }));
      }
      el.muted = true;
      await el.play();
      await new Promise((ok) => setTimeout(ok, 300));
      const played = el.currentTime;
      el.pause();
      const blob = window.blobs.get(el.currentSrc);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      return { duration: el.duration, played, type: blob.type, bytes: Array.from(bytes) };
    });
    assert.ok(Math.abs(heard.duration - mp3.seconds) < 0.3, `the player says ${heard.duration} s`);
    assert.ok(heard.played > 0, "it plays");
    assert.match(heard.type, /^audio\/(mp3|mpeg)$/);
    const received = mp3Frames(heard.bytes);
    assert.equal(received.frames, mp3.frames, "the receiver has the file that was sent");
  });

  test("Cancel sends nothing", async () => {
    const { page } = a;
    const before = await files(page);
    await recordButton(page).click();
    await panel(page).waitFor();
    while ((await seconds(page)) < 1) await page.waitForTimeout(100);
    await page.getByTestId("voice-cancel").click();
    await panel(page).waitFor({ state: "detached" });
    await page.waitForTimeout(3000);
    assert.equal(await files(page), before, "the worker made no file");
    assert.equal(await message(page, "out").count(), 2);
    assert.equal(await recordButton(page).getAttribute("aria-pressed"), "false");
  });

  test("with the keyboard, Enter starts and stops, and Escape cancels", async () => {
    const { page } = a;
    const before = await files(page);
    const sent = await message(page, "out").count();
    await recordButton(page).focus();
    await page.keyboard.press("Enter");
    await panel(page).waitFor();
    while ((await seconds(page)) < 1) await page.waitForTimeout(100);
    await page.keyboard.press("Escape");
    await panel(page).waitFor({ state: "detached" });
    await page.waitForTimeout(1000);
    assert.equal(await files(page), before, "Escape sends nothing");
    await recordButton(page).focus();
    await page.keyboard.press("Enter");
    await panel(page).waitFor();
    while ((await seconds(page)) < 1) await page.waitForTimeout(100);
    await page.keyboard.press("Enter");
    await panel(page).waitFor({ state: "detached", timeout: 30000 });
    assert.equal(await files(page), before + 1);
    const mp3 = await lastFile(page);
    assert.ok(mp3.seconds >= 0.9 && mp3.seconds <= 1.6, `${mp3.seconds} s`);
    await waitCount(page, '[data-testid="message"][data-direction="out"]', sent + 1);
  });

  test("press and hold on touch records and release sends; sliding away cancels; a tap says to hold", async () => {
    const { page } = c;
    const cdp = await page.context().newCDPSession(page);
    const box = await recordButton(page).boundingBox();
    const point = (dx = 0) => [{ x: box.x + box.width / 2 + dx, y: box.y + box.height / 2 }];
    const touch = (type, dx) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : point(dx) });

    // Hold for two seconds, let go: sent.
    await touch("touchStart");
    await panel(page).waitFor();
    await page.getByText("Release to send · slide away to cancel").waitFor();
    while ((await seconds(page)) < 2) await page.waitForTimeout(100);
    await page.screenshot({ path: join(OUT, "voice-recording-390.png") });
    await touch("touchEnd");
    await panel(page).waitFor({ state: "detached", timeout: 30000 });
    assert.equal(await files(page), 1);
    const mp3 = await lastFile(page);
    assert.ok(mp3.seconds >= 1.9 && mp3.seconds <= 2.8, `${mp3.seconds} s`);
    await waitCount(page, '[data-testid="message"][data-direction="out"]', 2);

    // Hold, slide away: cancelled, nothing sent.
    await touch("touchStart");
    await panel(page).waitFor();
    while ((await seconds(page)) < 1) await page.waitForTimeout(100);
    await touch("touchMove", -40);
    await touch("touchMove", -120);
    await panel(page).waitFor({ state: "detached" });
    await touch("touchEnd", -120);
    await page.waitForTimeout(2000);
    assert.equal(await files(page), 1, "nothing encoded");
    assert.equal(await message(page, "out").count(), 2);

    // A tap is not a recording.
    await touch("touchStart");
    await page.waitForTimeout(150);
    await touch("touchEnd");
    await page.getByText("Hold the button to record a voice message.").waitFor();
    await page.waitForTimeout(1000);
    assert.equal(await files(page), 1);
  });

  test("the limit stops the recording and sends it", async () => {
    // Cy's page was opened with ?voice-max-seconds=4.
    const { page } = c;
    const sent = await message(page, "out").count();
    await recordButton(page).click();
    await panel(page).waitFor();
    await panel(page).waitFor({ state: "detached", timeout: 15000 });
    const mp3 = await lastFile(page);
    assert.ok(Math.abs(mp3.seconds - 4) < 0.1, `${mp3.seconds} s`);
    await waitCount(page, '[data-testid="message"][data-direction="out"]', sent + 1);
  });

  test("a refused or missing microphone is said", async () => {
    const { page } = a;
    for (const [name, text] of [
      ["NotAllowedError", /Hush may not use the microphone/],
      ["NotFoundError", /No microphone was found/],
    ]) {
      await page.evaluate((n) => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("test", n));
      }, name);
      await recordButton(page).click();
      await page.getByRole("alert").filter({ hasText: text }).waitFor();
      assert.equal(await panel(page).count(), 0);
    }
    await shots(page, "voice-refused", { fullPage: false });
  });

  test("the worker encodes a minute of audio far faster than real time", async () => {
    const { page } = a;
    const result = await page.evaluate(async () => {
      const worker = new Worker("/voice-worker_loader.js");
      const next = () => new Promise((ok) => worker.addEventListener("message", (e) => ok(e.data), { once: true }));
      await next(); // "ready"
      const rate = 48000;
      // A minute of a tone with some noise, in the worklet's batches of 4,096 samples.
      const chunks = [];
      for (let at = 0; at < 60 * rate; at += 4096) {
        const chunk = new Float32Array(4096);
        for (let i = 0; i < 4096; i++) chunk[i] = 0.3 * Math.sin((2 * Math.PI * 440 * (at + i)) / rate) + 0.05 * (Math.random() - 0.5);
        chunks.push(chunk);
      }
      const started = performance.now();
      worker.postMessage([rate, 300]);
      for (const chunk of chunks) worker.postMessage(chunk, [chunk.buffer]);
      const answer = next();
      worker.postMessage("finish");
      const mp3 = await answer;
      const took = (performance.now() - started) / 1000;
      worker.terminate();
      return { took, bytes: mp3.length };
    });
    const speed = 60 / result.took;
    console.log(`voice worker: 60 s of audio in ${result.took.toFixed(2)} s (${speed.toFixed(1)}× real time), ${result.bytes} bytes a minute`);
    assert.ok(speed > 5, `${speed}× real time`);
    assert.ok(result.bytes * 5 < 10_000_000, "five minutes fit the file server's limit");
  });
});
