// Helpers for end-to-end tests that act as people: accounts, conversations, messages,
// screenshots at both widths, where a Session ID's swarm lives on the devnet, and text contrast.
import assert from "node:assert/strict";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { OUT, ROOT } from "./harness.mjs";

export const PASS = "a long enough passphrase";

/** The session-python peer's recovery phrase (vectors-core.md §1.3: a fixed phrase, so its
 *  Session ID, `PY_ID`, is known). */
export const PY_MNEMONIC =
  "unknown number jukebox pledge lipstick sieve tumbling federal womanly outbreak tapestry gorilla sieve";
export const PY_ID = "05ab0badfc19ac18f71d7bb10d5ca5c92731aa301cc483169c691cf697b83e765a";

/** Runs `tests/compat/<script>` (session-python, from the project's virtualenv) against the
 *  devnet's seed with `args` (and `input` on its standard input); returns its last line of
 *  output, parsed as JSON. */
export function python(devnet, script, args, input = undefined) {
  const seedPort = new URL(devnet.info.seed_url).port;
  const out = execFileSync(join(ROOT, ".venv", "bin", "python"), [join(ROOT, "tests", "compat", script), seedPort, ...args.map(String)],
    { input, encoding: "utf8", timeout: 60000 });
  return JSON.parse(out.trim().split("\n").pop());
}

/** The messages of one direction ("in" or "out") in the open conversation. */
export const message = (page, direction) => page.locator(`[data-testid="message"][data-direction="${direction}"]`);

/** Creates an account through the onboarding screens; returns { id, phrase }. */
export async function createAccount(page, appUrl, name, passphrase = PASS) {
  await page.goto(appUrl);
  await page.getByRole("button", { name: "Create account" }).click();
  const id = (await page.getByTestId("session-id").textContent()).trim();
  const phrase = (await page.getByTestId("recovery-phrase").textContent()).trim();
  const words = phrase.split(" ");
  await page.getByRole("button", { name: "I have written it down" }).click();
  const labels = await page.locator("label").allTextContents();
  for (const p of labels.map((l) => Number(l.replace("Word ", ""))).filter(Boolean)) {
    await page.getByLabel(`Word ${p}`, { exact: true }).fill(words[p - 1]);
  }
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Passphrase again").fill(passphrase);
  await page.getByRole("button", { name: "Finish" }).click();
  await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor({ timeout: 60000 });
  return { id, phrase };
}

/** Restores an account from its phrase in a fresh page; returns its Session ID. Only the
 *  passphrase is asked: the account's name comes from its profile in the swarm, and `name` is
 *  typed only when the page asks for one (a profile without a name). `asked` (if given) is set to
 *  whether it did. */
export async function restoreAccount(page, appUrl, phrase, name, passphrase = PASS, asked = {}) {
  await page.goto(appUrl);
  await page.getByRole("button", { name: "Restore from recovery phrase" }).click();
  await page.getByLabel("Recovery phrase").fill(phrase);
  await page.getByRole("button", { name: "Restore" }).click();
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Passphrase again").fill(passphrase);
  await page.getByRole("button", { name: "Finish" }).click();
  const hello = page.getByRole("heading", { name: /^Hello, / });
  const choose = page.getByRole("heading", { name: "Choose a display name" });
  await hello.or(choose).first().waitFor({ timeout: 60000 });
  asked.name = await choose.isVisible();
  if (asked.name) {
    await page.getByLabel("Display name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor({ timeout: 60000 });
  }
  return (await page.getByTestId("session-id").textContent()).trim();
}

/** Unlocks a locked page. */
export async function unlock(page, passphrase = PASS) {
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("heading", { name: /^Hello, / }).waitFor({ timeout: 60000 });
}

/** Opens a new conversation with `peerId` from Home. */
export async function openChat(page, peerId) {
  await page.getByTestId("new-conversation").click();
  await page.getByTestId("recipient-id").fill(peerId);
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByTestId("composer").waitFor();
}

/** Opens the conversation whose row shows `text`. */
export async function openRow(page, text, timeout = 30000) {
  await page.getByTestId("conversation").filter({ hasText: text }).first().click({ timeout });
  await page.locator("#conversation-title").waitFor();
}

/** Back to Home from a conversation or Settings. */
export async function home(page) {
  await page.getByRole("button", { name: "Back", exact: true }).click();
  await page.getByRole("heading", { name: /^Hello, / }).waitFor();
}

/** Types `text` into the composer and presses Send. */
export async function send(page, text) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
}

/** Waits for exactly `count` elements matching `selector`, reporting what is there on failure. */
export async function waitCount(page, selector, count, timeout = 60000) {
  try {
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length === n, [selector, count], { timeout });
  } catch {
    const seen = await page.$$eval('[data-testid="message"]', (els) =>
      els.map((e) => `${e.dataset.direction}/${e.dataset.status}: ${e.querySelector(".body")?.textContent}`));
    const heading = await page.locator("h2").allTextContents();
    throw new Error(`wanted ${count} × ${selector}; screen ${heading.join(" | ")}; have:\n${seen.join("\n")}`);
  }
}

/** Screenshots `page` at 390 and 1280 px wide as tests/out/<name>-<width>.png, then restores its size. */
export async function shots(page, name, { fullPage = true } = {}) {
  const before = page.viewportSize();
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(OUT, `${name}-${width}.png`), fullPage });
  }
  await page.setViewportSize(before);
}

function post(node, body) {
  return new Promise((ok, fail) => {
    const req = https.request({ host: node.public_ip, port: node.storage_port, path: "/storage_rpc/v1", method: "POST",
      rejectUnauthorized: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => ok([res.statusCode, b]));
    });
    req.on("error", fail);
    req.end(JSON.stringify(body));
  });
}

/** The devnet node indexes of `pubkey`'s swarm, asked of a node that is up. */
export async function swarmOf(devnet, pubkey) {
  for (const node of devnet.info.nodes) {
    try {
      const [status, body] = await post(node, { method: "get_swarm", params: { pubkey } });
      if (status !== 200) continue;
      const ports = JSON.parse(body).snodes.map((s) => Number(s.port_https));
      return devnet.info.nodes.map((n, i) => (ports.includes(n.storage_port) ? i : -1)).filter((i) => i >= 0);
    } catch (e) {
      if (e.code !== "ECONNREFUSED") throw e;
    }
  }
  throw new Error("no node answered get_swarm");
}

/** Stores raw `data` straight into `pubkey`'s namespace 0 on a member of its swarm that is up. */
export async function storeRaw(devnet, pubkey, data) {
  for (const i of await swarmOf(devnet, pubkey)) {
    const n = devnet.info.nodes[i];
    try {
      const [status] = await post(n, { method: "store", params: { pubkey, timestamp: Date.now(), ttl: 600000, data } });
      if (status === 200) return;
    } catch (e) {
      if (e.code !== "ECONNREFUSED") throw e;
    }
  }
  throw new Error("no member of the swarm took the data");
}

/** A picture drawn in `page` (a gradient with a white bar), encoded as `type` (for files to
 *  send: `{ name, mimeType, buffer }`). */
export async function picture(page, width, height, type = "image/png", quality = 0.9) {
  const bytes = await page.evaluate(async ([w, h, t, q]) => {
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext("2d");
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, "#1f6f6b");
    grad.addColorStop(1, "#f0c674");
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    g.fillStyle = "#fff";
    g.fillRect(w / 4, h / 4, w / 8, h / 2);
    const blob = await canvas.convertToBlob({ type: t, quality: q });
    let s = "";
    for (const b of new Uint8Array(await blob.arrayBuffer())) s += String.fromCharCode(b);
    return btoa(s);
  }, [width, height, type, quality]);
  return Buffer.from(bytes, "base64");
}

/** A Session ID no one uses, for messages that only need a recipient. */
export const NOBODY = "05" + "d4".repeat(32);

// ---- What the relay may never learn ----------------------------------------------------------

const P = 2n ** 255n - 19n;
const modPow = (b, e) => { let r = 1n; b %= P; for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P; return r; };
const le = (bytes) => bytes.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const toLe = (n) => Buffer.from(Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn)));

/** The two Ed25519 public keys whose X25519 form is `x25519` (the Montgomery u-coordinate gives
 *  the Edwards y = (u − 1)/(u + 1); the sign of x is not in the Session ID, so both). */
function ed25519Candidates(x25519) {
  const u = le([...x25519]) % P;
  const y = ((u - 1n + P) * modPow(u + 1n, P - 2n)) % P;
  const even = toLe(y);
  const odd = Buffer.from(even);
  odd[31] |= 0x80;
  return [even, odd];
}

/** Every form in which a Session ID could leak: hex in either case, with and without its 05
 *  prefix, raw, base64 and base64url, and the same for the account's Ed25519 key. */
export function sessionIdForms(id) {
  const withPrefix = Buffer.from(id, "hex");
  const key = withPrefix.subarray(1);
  const binaries = [withPrefix, key, ...ed25519Candidates(key)];
  const texts = binaries.flatMap((b) => [b.toString("hex"), b.toString("hex").toUpperCase(),
    b.toString("base64").replace(/=+$/, ""), b.toString("base64url")]);
  return { binaries, texts };
}

/** Asserts that no Session ID of `ids`, in any form of `sessionIdForms`, is in any URL, request
 *  body or response body of `exchanges` ({ url, body, reply? }), nor in the relay's `log`. */
export function assertRelaySawNoSessionId(exchanges, ids, log) {
  const forms = ids.map(sessionIdForms);
  for (const { url, body, reply } of exchanges) {
    for (const { binaries, texts } of forms) {
      for (const text of texts) {
        if (url.includes(text)) throw new Error(`a Session ID in a relay URL: ${url}`);
        for (const b of [body, reply]) if (b?.includes(Buffer.from(text))) throw new Error(`a Session ID in a relay exchange with ${url}`);
      }
      for (const raw of binaries) {
        for (const b of [body, reply]) if (b?.includes(raw)) throw new Error(`a raw Session ID key in a relay exchange with ${url}`);
      }
    }
  }
  for (const { texts } of forms) {
    for (const text of texts) if (log.includes(text)) throw new Error(`a Session ID in the relay's log: ${text}`);
  }
}

// ---- Well-formed messages that cannot be opened ----------------------------------------------

const varint = (n) => { const out = []; let v = BigInt(n); do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v); return Buffer.from(out); };
const field = (number, wire, payload) => Buffer.concat([varint((number << 3) | wire), payload]);
const bytesField = (number, bytes) => field(number, 2, Buffer.concat([varint(bytes.length), bytes]));

/** The storage `data` of a well-formed message (WebSocketMessage → request → Envelope type 6 with
 *  a timestamp) whose `content` is `content`: random bytes of a sealed message's length make one
 *  that parses all the way down and then fails to open. */
export function envelopeData(content, timestamp = Date.now()) {
  const envelope = Buffer.concat([field(1, 0, varint(6)), field(5, 0, varint(timestamp)), bytesField(8, content)]);
  const request = Buffer.concat([bytesField(1, Buffer.from("PUT")), bytesField(2, Buffer.from("/api/v1/message")),
    bytesField(3, envelope), field(4, 0, varint(timestamp))]);
  return Buffer.concat([field(1, 0, varint(1)), bytesField(2, request)]).toString("base64");
}

// ---- Contrast ------------------------------------------------------------------------------------

/** Every text drawn in the bubble `li`, with its contrast against what it is drawn on: the text's
 *  computed colour (times the opacity of it and its ancestors in the bubble) over the first
 *  background colour at or above it in the bubble. */
const contrasts = (bubble) => bubble.evaluate((li) => {
  const rgba = (c) => {
    const n = c.match(/[\d.]+/g).map(Number);
    return { r: n[0], g: n[1], b: n[2], a: n.length > 3 ? n[3] : 1 };
  };
  const channel = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const out = [];
  const walker = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.data.trim()) continue;
    const el = n.parentElement;
    let opacity = 1;
    let background = null;
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      opacity *= Number(style.opacity);
      const bg = rgba(style.backgroundColor);
      if (!background && bg.a === 1) background = bg;
      if (e === li) break;
    }
    if (!background) throw new Error(`no opaque background under "${n.data}"`);
    const color = rgba(getComputedStyle(el).color);
    const a = color.a * opacity;
    const drawn = { r: color.r * a + background.r * (1 - a), g: color.g * a + background.g * (1 - a),
      b: color.b * a + background.b * (1 - a) };
    const [hi, lo] = [luminance(drawn), luminance(background)].sort((x, y) => y - x);
    out.push({ text: n.data.trim().slice(0, 40), in: el.className || el.tagName, ratio: (hi + 0.05) / (lo + 0.05),
      color: getComputedStyle(el).color, background: `rgb(${background.r}, ${background.g}, ${background.b})` });
  }
  return out;
});

/** Asserts that every text in the element `bubble` has a contrast of at least 4.5:1 with what it is
 *  drawn on (`what` names it in the failure); returns the measurements. */
export async function assertReadable(bubble, what) {
  const texts = await contrasts(bubble);
  assert.ok(texts.length > 0, `${what}: no text found`);
  const low = texts.filter((t) => t.ratio < 4.5)
    .map((t) => `${what}: "${t.text}" (${t.in}) is ${t.color} on ${t.background}: ${t.ratio.toFixed(2)}:1`);
  assert.deepEqual(low, []);
  return texts;
}

/** Chooses `testid` in the open room's Options menu (Share, Invite, Room picture, Leave). */
export async function roomAction(page, testid) {
  await page.locator(".room-view .conversation-head summary").click();
  await page.getByTestId(testid).click();
}
