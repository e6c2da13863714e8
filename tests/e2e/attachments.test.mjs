// Attachments between two Hush users in two browsers over a devnet and its file server, at
// 1280×800 and at 390×844: several files by the picker with a caption (a preview strip before
// sending, with a remove button each), pictures by paste and by drop, a file over the limit
// refused before anything is uploaded; the receiver sees thumbnails, opens the viewer (Previous
// and Next between a message's pictures, Escape), downloads a file with the same bytes; a JPEG
// with EXIF GPS arrives without it and otherwise byte for byte; a large photo arrives scaled to
// 2000 px, a turned one upright; bytes that are not the picture they claim go as a file or say
// they cannot be shown; in a message request files wait for a click until it is accepted; a
// reload of the sender's page mid-upload still delivers the message once with its file; Cancel
// while uploading deletes the message; on a slow link the upload tells how many of its bytes went
// out. Screenshots go to tests/out/attachments-*.png.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OUT, startDevnet, launchBrowser, strictPage } from "./harness.mjs";
import { createAccount, message, openChat, openRow, picture, send, unlock } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

const ONION = "**/v1/onion/**";
/** Console lines that requests the test blocked leave; nothing else may be logged as an error. */
const blocked = /Failed to load resource: net::ERR_(FAILED|ABORTED)/;

/** `jpeg` with an EXIF segment (APP1) right after its start: a GPS IFD with latitude 51° N and a
 *  marker text to look for. */
function withGpsExif(jpeg) {
  const tiff = Buffer.concat([
    Buffer.from("MM\0\x2a\0\0\0\x08", "latin1"),
    Buffer.from([0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]),
    Buffer.from([0, 1, 0, 1, 0, 2, 0, 0, 0, 2, 0x4e, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from("HUSH-GPS 51.5007 N 0.1246 W", "latin1"),
  ]);
  const body = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, body, jpeg.subarray(2)]);
}

/** `jpeg` with an EXIF segment saying it is turned: orientation `orientation` (6: to be shown
 *  turned 90° clockwise). */
function withOrientation(jpeg, orientation) {
  const tiff = Buffer.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, body, jpeg.subarray(2)]);
}

/** A JPEG's width and height (its SOF segment). */
function jpegSize(bytes) {
  let at = 2;
  while (at + 4 < bytes.length) {
    const marker = bytes[at + 1];
    const len = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    }
    at += 2 + len;
  }
  return null;
}

/** Puts `files` ({ name, mimeType, buffer }) on the conversation as `how`: "paste" into the
 *  composer, or "drop" on the message list. */
async function hand(page, how, files) {
  await page.evaluate(([how, files]) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.mimeType }));
    }
    if (how === "paste") {
      document.querySelector('[data-testid="composer"]').dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    } else {
      const target = document.querySelector("ol.messages");
      for (const type of ["dragenter", "dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    }
  }, [how, files.map((f) => ({ name: f.name, mimeType: f.mimeType, b64: f.buffer.toString("base64") }))]);
}

/** The message whose caption is `text`. */
const withCaption = (page, direction, text) =>
  message(page, direction).filter({ has: page.locator('[data-testid="body"]', { hasText: text }) });

/** Saves what `click` downloads; its bytes. */
async function download(page, click) {
  const [saved] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), click()]);
  return { name: saved.suggestedFilename(), bytes: readFileSync(await saved.path()) };
}

for (const [width, height] of [[1280, 800], [390, 844]]) {
  describe(`at ${width}×${height}`, () => {
    let a, b, idB;
    const shot = (page, name) => page.screenshot({ path: join(OUT, `attachments-${name}-${width}.png`) });

    before(async () => {
      const open = async () => {
        const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
        return strictPage(context);
      };
      [a, b] = await Promise.all([open(), open()]);
      await createAccount(a.page, devnet.appUrl, "Ada");
      ({ id: idB } = await createAccount(b.page, devnet.appUrl, "Ben"));
      await openChat(a.page, idB);
      await send(a.page, "Hello Ben");
      await openRow(b.page, "Ada", 60000);
      await b.page.getByRole("button", { name: "Accept" }).click();
      await message(b.page, "in").filter({ hasText: "Hello Ben" }).waitFor();
    });
    after(async () => {
      assert.deepEqual(a.problems.filter((p) => !blocked.test(p)), []);
      assert.deepEqual(b.problems, []);
      await a.page.context().close();
      await b.page.context().close();
    });

    test("files by the picker with a caption: previews, sending, thumbnails, the viewer and a download", async () => {
      const photo = await picture(a.page, 640, 480);
      const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256));
      const notes = Buffer.from("Meet at the station at noon.\n");
      await a.page.getByTestId("attach").setInputFiles([
        { name: "photo.png", mimeType: "image/png", buffer: photo },
        { name: "data.bin", mimeType: "application/octet-stream", buffer: data },
        { name: "notes.txt", mimeType: "text/plain", buffer: notes },
      ]);
      const chosen = a.page.getByTestId("chosen");
      await chosen.nth(2).waitFor();
      assert.equal(await chosen.count(), 3);
      assert.equal(await a.page.locator('[data-testid="chosen"].picture img').count(), 1);
      assert.deepEqual((await a.page.locator('[data-testid="chosen"] .file-size').allTextContents()), ["300 KB", "29 bytes"]);
      // × takes one out again; the picker puts it back.
      await a.page.getByRole("button", { name: "Remove notes.txt" }).click();
      await chosen.nth(2).waitFor({ state: "detached" });
      await a.page.getByTestId("attach").setInputFiles([{ name: "notes.txt", mimeType: "text/plain", buffer: notes }]);
      await chosen.nth(2).waitFor();
      await a.page.getByTestId("composer").fill("Holiday files");
      await shot(a.page, "chosen");
      await a.page.getByTestId("send").click();
      await a.page.getByTestId("chosen-files").waitFor({ state: "detached" });

      const mine = withCaption(a.page, "out", "Holiday files");
      await mine.waitFor();
      await mine.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 90000 });
      await a.page.waitForFunction(() => [...document.querySelectorAll('[data-direction="out"] [data-testid="attachment"]')]
        .filter((e) => e.dataset.state === "ready").length === 3, null, { timeout: 30000 });

      const theirs = withCaption(b.page, "in", "Holiday files");
      await theirs.waitFor({ timeout: 90000 });
      const files = theirs.getByTestId("attachment");
      assert.deepEqual(await files.evaluateAll((els) => els.map((e) => e.dataset.kind)), ["image", "file", "file"]);
      await b.page.waitForFunction(() => [...document.querySelectorAll('[data-direction="in"] [data-testid="attachment"]')]
        .filter((e) => e.dataset.state === "ready").length === 3, null, { timeout: 60000 });
      // The thumbnail keeps the picture's shape and shows it drawn.
      const thumb = theirs.locator('[data-kind="image"] img');
      const [w, h, natural] = await thumb.evaluate((img) =>
        [img.getBoundingClientRect().width, img.getBoundingClientRect().height, img.naturalWidth]);
      assert.equal(natural, 640);
      assert.ok(Math.abs(w / h - 640 / 480) < 0.05, `the thumbnail is ${w}×${h}`);
      assert.deepEqual(await theirs.locator(".file-name").allTextContents(), ["data.bin", "notes.txt"]);
      await shot(b.page, "received");

      // Download: the same bytes, under the file's name.
      const got = await download(b.page, () => theirs.locator('[data-kind="file"]').first().getByTestId("download").click());
      assert.equal(got.name, "data.bin");
      assert.ok(got.bytes.equals(data), "the downloaded file differs");

      // The viewer: a labelled modal dialog; Escape closes it and focus returns.
      await theirs.getByRole("button", { name: "Open the picture" }).click();
      const viewer = b.page.getByRole("dialog", { name: "Picture 1 of 1" });
      await viewer.waitFor();
      await viewer.locator("img").waitFor();
      assert.equal(await viewer.locator("img").evaluate((img) => img.naturalWidth), 640);
      await shot(b.page, "viewer");
      const saved = await download(b.page, () => viewer.getByRole("button", { name: "Save" }).click());
      assert.ok(saved.bytes.equals(photo), "the saved picture differs");
      await b.page.keyboard.press("Escape");
      await viewer.waitFor({ state: "hidden" });
      assert.equal(await b.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Open the picture");
    });

    test("pictures by paste and by drop go in one message; the viewer steps between them", async () => {
      const one = await picture(a.page, 300, 200, "image/png");
      const two = await picture(a.page, 200, 300, "image/webp");
      await hand(a.page, "paste", [{ name: "pasted.png", mimeType: "image/png", buffer: one }]);
      await a.page.getByTestId("chosen").first().waitFor();
      await hand(a.page, "drop", [{ name: "dropped.webp", mimeType: "image/webp", buffer: two }]);
      await a.page.getByTestId("chosen").nth(1).waitFor();
      await send(a.page, "Two pictures");
      const theirs = withCaption(b.page, "in", "Two pictures");
      await theirs.waitFor({ timeout: 90000 });
      await theirs.locator('[data-testid="attachment"][data-state="ready"]').nth(1).waitFor({ timeout: 60000 });
      await theirs.getByRole("button", { name: "Open the picture" }).first().click();
      const first = b.page.getByRole("dialog", { name: "Picture 1 of 2" });
      await first.waitFor();
      await b.page.keyboard.press("ArrowRight");
      const second = b.page.getByRole("dialog", { name: "Picture 2 of 2" });
      await second.waitFor();
      await second.locator("img").waitFor();
      assert.equal(await second.locator("img").evaluate((img) => img.naturalWidth), 200);
      await second.getByRole("button", { name: "Previous picture" }).click();
      await first.waitFor();
      await first.getByRole("button", { name: "Close" }).click();
      await first.waitFor({ state: "hidden" });
    });

    test("a file over 10,000,000 bytes is refused before anything is uploaded", async () => {
      const before = await message(a.page, "out").count();
      await a.page.getByTestId("attach").setInputFiles([
        { name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10_000_001, 7) },
      ]);
      const said = a.page.getByRole("alert").filter({ hasText: "huge.bin is 10.1 MB; a file can be at most 10 MB" });
      await said.waitFor();
      assert.equal(await a.page.getByTestId("chosen").count(), 0);
      assert.ok(await a.page.getByTestId("send").isDisabled(), "Send is offered with nothing to send");
      await shot(a.page, "too-large");
      assert.equal(await message(a.page, "out").count(), before);
    });

    test("a JPEG arrives without its EXIF GPS, its picture byte for byte; a large photo arrives at 2000 px", async () => {
      const jpeg = await picture(a.page, 320, 240, "image/jpeg");
      const tagged = withGpsExif(jpeg);
      assert.ok(tagged.includes("HUSH-GPS"));
      const large = await picture(a.page, 3000, 1500, "image/jpeg", 0.8);
      const turned = withOrientation(await picture(a.page, 320, 240, "image/jpeg"), 6);
      await a.page.getByTestId("attach").setInputFiles([
        { name: "gps.jpg", mimeType: "image/jpeg", buffer: tagged },
        { name: "large.jpg", mimeType: "image/jpeg", buffer: large },
        { name: "turned.jpg", mimeType: "image/jpeg", buffer: turned },
      ]);
      await a.page.getByTestId("chosen").nth(2).waitFor();
      await send(a.page, "Where I was");
      const theirs = withCaption(b.page, "in", "Where I was");
      await theirs.waitFor({ timeout: 90000 });
      await theirs.locator('[data-testid="attachment"][data-state="ready"]').nth(2).waitFor({ timeout: 60000 });
      await theirs.getByRole("button", { name: "Open the picture" }).first().click();
      await b.page.getByRole("dialog", { name: "Picture 1 of 3" }).locator("img").waitFor();
      const viewer = b.page.getByTestId("viewer");
      const gps = await download(b.page, () => viewer.getByRole("button", { name: "Save" }).click());
      assert.ok(!gps.bytes.includes("HUSH-GPS") && !gps.bytes.includes("Exif"), "the EXIF arrived");
      assert.ok(gps.bytes.equals(jpeg), "the picture's own bytes changed");
      await b.page.keyboard.press("ArrowRight");
      await b.page.getByRole("dialog", { name: "Picture 2 of 3" }).locator("img").waitFor();
      // A large picture fits the window, keeping its shape.
      const fitted = await viewer.locator("img").boundingBox();
      assert.ok(fitted.width <= width && fitted.height <= height, `the picture is ${fitted.width}×${fitted.height}`);
      assert.ok(Math.abs(fitted.width / fitted.height - 2) < 0.05, `the picture is ${fitted.width}×${fitted.height}`);
      const scaled = await download(b.page, () => viewer.getByRole("button", { name: "Save" }).click());
      assert.deepEqual(jpegSize(scaled.bytes), [2000, 1000]);
      assert.deepEqual(jpegSize(large), [3000, 1500]);
      // A turned JPEG arrives upright, without the EXIF that said so.
      await b.page.keyboard.press("ArrowRight");
      await b.page.getByRole("dialog", { name: "Picture 3 of 3" }).locator("img").waitFor();
      const upright = await download(b.page, () => viewer.getByRole("button", { name: "Save" }).click());
      assert.deepEqual(jpegSize(upright.bytes), [240, 320]);
      assert.ok(!upright.bytes.includes("Exif"));
      assert.equal(upright.name, "turned.jpg");
      const thumb = theirs.locator('[data-kind="image"] .thumb').nth(2);
      const box = await thumb.boundingBox();
      assert.ok(box.height > box.width, `the turned picture's thumbnail is ${box.width}×${box.height}`);
      await b.page.keyboard.press("Escape");
      await viewer.waitFor({ state: "hidden" });
    });

    test("bytes that are not the picture they claim go as a file, or say they cannot be shown", async () => {
      const chunk = (type, data) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(data.length);
        return Buffer.concat([length, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]);
      };
      // Chunks in order, picture data that is not: it goes as a picture the browser cannot draw.
      const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk("IHDR", Buffer.from([0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0])), chunk("IDAT", Buffer.from("not deflate data")),
        chunk("IEND", Buffer.alloc(0))]);
      await a.page.getByTestId("attach").setInputFiles([
        { name: "fake.png", mimeType: "image/png", buffer: Buffer.from("this is not a picture at all") },
        { name: "broken.png", mimeType: "image/png", buffer: broken },
      ]);
      // The composer shows them as files once the browser finds it cannot draw them.
      await a.page.locator('[data-testid="chosen"]:not(.picture)').nth(1).waitFor();
      await send(a.page, "Not quite pictures");
      const theirs = withCaption(b.page, "in", "Not quite pictures");
      await theirs.waitFor({ timeout: 90000 });
      const files = theirs.getByTestId("attachment");
      await files.nth(1).waitFor();
      assert.deepEqual(await files.evaluateAll((els) => els.map((e) => e.dataset.kind)), ["file", "image"]);
      await theirs.locator('[data-kind="image"][data-state="failed"]').waitFor({ timeout: 60000 });
      assert.match(await files.nth(1).textContent(), /This picture cannot be shown/);
      assert.equal(await files.nth(1).locator("img").count(), 0);
      await theirs.locator('[data-kind="file"][data-state="ready"]').waitFor({ timeout: 60000 });
      assert.equal(await files.nth(0).locator(".file-name").textContent(), "fake.png");
    });

    test("in a message request files wait for a click; accepting fetches the rest", async () => {
      const c = await strictPage(await browser.newContext({ viewport: { width, height }, acceptDownloads: true }));
      await createAccount(c.page, devnet.appUrl, "Cy");
      await openChat(c.page, idB);
      const photo = await picture(c.page, 200, 150);
      const doc = Buffer.from("a stranger's document");
      await c.page.getByTestId("attach").setInputFiles([
        { name: "one.png", mimeType: "image/png", buffer: photo },
        { name: "two.png", mimeType: "image/png", buffer: photo },
        { name: "doc.txt", mimeType: "text/plain", buffer: doc },
      ]);
      await c.page.getByTestId("chosen").nth(2).waitFor();
      await send(c.page, "From a stranger");
      await withCaption(c.page, "out", "From a stranger").and(c.page.locator('[data-status="sent"]')).waitFor({ timeout: 90000 });

      await b.page.getByRole("button", { name: "Back", exact: true }).click();
      await openRow(b.page, "Cy", 90000);
      const theirs = withCaption(b.page, "in", "From a stranger");
      await theirs.waitFor();
      const pictures = theirs.locator('[data-kind="image"]');
      await pictures.nth(1).getByTestId("download").waitFor();
      assert.equal(await theirs.locator("img").count(), 0, "a request's picture was fetched unasked");
      assert.deepEqual(await theirs.getByTestId("attachment").evaluateAll((els) => els.map((e) => e.dataset.state)),
        ["loading", "loading", "loading"]);
      await shot(b.page, "request");
      // One picture on a click; the file on its Download, with its bytes.
      await pictures.nth(0).getByTestId("download").click();
      await pictures.nth(0).and(b.page.locator('[data-state="ready"]')).waitFor({ timeout: 60000 });
      assert.equal(await pictures.nth(1).getAttribute("data-state"), "loading");
      const got = await download(b.page, () => theirs.locator('[data-kind="file"]').getByTestId("download").click());
      assert.ok(got.bytes.equals(doc));
      // Accepting fetches the rest.
      await b.page.getByRole("button", { name: "Accept" }).click();
      await pictures.nth(1).and(b.page.locator('[data-state="ready"]')).waitFor({ timeout: 60000 });
      await b.page.getByRole("button", { name: "Back", exact: true }).click();
      await openRow(b.page, "Ada");
      assert.deepEqual(c.problems, []);
      await c.page.context().close();
    });

    test("an upload tells how many of its bytes went out, on a slow link", async () => {
      // 1.5 MB up at 400 kB/s: the bar moves through values between empty and full.
      const file = Buffer.from(Array.from({ length: 1_500_000 }, (_, i) => (i * 7919) % 251));
      const cdp = await a.page.context().newCDPSession(a.page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions",
        { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400_000 });
      try {
        await a.page.evaluate(() => {
          window.__bars = [];
          window.__told = [];
          const watch = () => {
            const bar = document.querySelector('[data-testid="upload-bar"]');
            if (bar) {
              window.__bars.push(Number(bar.value));
              window.__told.push(bar.parentElement.querySelector('[role="status"]').textContent);
            }
            window.__watch = setTimeout(watch, 25);
          };
          watch();
        });
        await a.page.getByTestId("attach").setInputFiles([{ name: "slow.bin", mimeType: "application/octet-stream", buffer: file }]);
        await send(a.page, "Told as it goes");
        const mine = withCaption(a.page, "out", "Told as it goes");
        await a.page.waitForFunction(() => Number(document.querySelector('[data-testid="upload-bar"]')?.value) > 100,
          null, { timeout: 60000 });
        await shot(a.page, "upload-progress");
        await mine.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 120000 });
        const { bars, told } = await a.page.evaluate(() => {
          clearTimeout(window.__watch);
          return { bars: window.__bars, told: window.__told };
        });
        const between = bars.filter((v) => v > 0 && v < 1000);
        assert.ok(new Set(between).size >= 3, `the bar moved in steps: ${JSON.stringify(bars)}`);
        assert.ok(told.some((s) => /^Uploading file 1 of 1: \d+%$/.test(s)), JSON.stringify([...new Set(told)]));
      } finally {
        await cdp.send("Network.emulateNetworkConditions",
          { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
        await cdp.detach();
      }
      const theirs = withCaption(b.page, "in", "Told as it goes");
      await theirs.waitFor({ timeout: 90000 });
      const got = await download(b.page, () => theirs.getByTestId("download").click());
      assert.ok(got.bytes.equals(file));
    });

    test("a reload mid-upload delivers the message once with its file; Cancel deletes one being uploaded", async () => {
      const file = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 31) % 256));
      await a.page.route(ONION, (route) => route.abort());
      await a.page.getByTestId("attach").setInputFiles([{ name: "report.pdf", mimeType: "application/pdf", buffer: file }]);
      await send(a.page, "Sent across a reload");
      const mine = withCaption(a.page, "out", "Sent across a reload");
      await mine.getByTestId("uploading").waitFor();
      assert.equal(await mine.getByTestId("attachment").getAttribute("data-state"), "loading");
      await shot(a.page, "uploading");
      await a.page.reload();
      await a.page.unroute(ONION);
      await unlock(a.page);
      await openRow(a.page, "Ben");
      await mine.and(a.page.locator('[data-status="sent"]')).waitFor({ timeout: 120000 });
      const theirs = withCaption(b.page, "in", "Sent across a reload");
      await theirs.locator('[data-testid="attachment"][data-state="ready"]').waitFor({ timeout: 90000 });
      const got = await download(b.page, () => theirs.getByTestId("download").click());
      assert.ok(got.bytes.equals(file));
      assert.equal(got.name, "report.pdf");

      // Cancel while it uploads: the message goes, and nothing arrives.
      await a.page.route(ONION, (route) => route.abort());
      await a.page.getByTestId("attach").setInputFiles([{ name: "never.txt", mimeType: "text/plain", buffer: Buffer.from("no") }]);
      await send(a.page, "Never mind");
      const cancelled = withCaption(a.page, "out", "Never mind");
      await cancelled.getByRole("button", { name: "Cancel upload" }).click();
      await cancelled.waitFor({ state: "detached" });
      await a.page.unroute(ONION);
      await send(a.page, "After the cancel");
      await withCaption(b.page, "in", "After the cancel").waitFor({ timeout: 90000 });
      assert.equal(await withCaption(b.page, "in", "Never mind").count(), 0);
      // Exactly once.
      assert.equal(await withCaption(b.page, "in", "Sent across a reload").count(), 1);
    });
  });
}
