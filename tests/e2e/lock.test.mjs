// Lock forgets: after "Lock now" the page's WebAssembly memory holds no message text, no name and
// no key of the account. Freed memory is never wiped, so dropping the keys is not enough: the page
// loads itself again and the old instance goes with its memory. The memory is read the way a page
// script could: every instance's exported memory is kept as it is made (an init script wraps
// WebAssembly's instantiation; the app is not changed), then searched for the UTF-8 and UTF-16
// bytes of each text and the raw and hex bytes of each key — before the lock, to show the search
// finds them, and after. A message still being sent when the person locks is delivered after the
// next unlock; another tab waiting for Hush does not take it over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startDevnet, launchBrowser, strictPage, ROOT } from "./harness.mjs";
import { createAccount, home, message, openChat, openRow, send, unlock, waitCount } from "./people.mjs";

let devnet, browser;
before(async () => { devnet = await startDevnet({ nodes: 6 }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await devnet?.stop(); });

/** Runs in the page before its scripts: keeps every WebAssembly memory an instance exports. */
function keepWasmMemories() {
  window.__wasmMemories = [];
  const keep = (made) => {
    const instance = made instanceof WebAssembly.Instance ? made : made?.instance;
    const memory = instance?.exports?.memory;
    if (memory instanceof WebAssembly.Memory) window.__wasmMemories.push(memory);
    return made;
  };
  const { instantiate, instantiateStreaming, Instance } = WebAssembly;
  WebAssembly.instantiate = function (...args) { return instantiate.apply(this, args).then(keep); };
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = function (...args) { return instantiateStreaming.apply(this, args).then(keep); };
  }
  WebAssembly.Instance = new Proxy(Instance, { construct: (target, args) => keep(Reflect.construct(target, args)) });
}

/** Which of `needles` ({ label: hex }) are in any kept memory of `page`; and how many memories. */
function search(page, needles) {
  return page.evaluate((needles) => {
    const memories = window.__wasmMemories ?? [];
    const found = [];
    for (const [label, hex] of Object.entries(needles)) {
      const needle = Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
      const inside = memories.some((memory) => {
        const hay = new Uint8Array(memory.buffer);
        for (let i = hay.indexOf(needle[0]); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(needle[0], i + 1)) {
          let j = 1;
          while (j < needle.length && hay[i + j] === needle[j]) j++;
          if (j === needle.length) return true;
        }
        return false;
      });
      if (inside) found.push(label);
    }
    return { memories: memories.length, bytes: memories.reduce((n, m) => n + m.buffer.byteLength, 0), found };
  }, needles);
}

/** A text as the bytes it can take in memory: UTF-8 and UTF-16 (little-endian). */
const textNeedles = (label, text) => ({
  [`${label} (UTF-8)`]: Buffer.from(text, "utf8").toString("hex"),
  [`${label} (UTF-16)`]: Buffer.from(text, "utf16le").toString("hex"),
});

const WORDS = readFileSync(join(ROOT, "crypto-core", "src", "mnemonic", "english.txt"), "utf8").trim().split("\n");

/** The 16-byte seed of a 13-word phrase (3 words per 4 bytes, little-endian; the checksum word
 *  last), as `crypto_core::mnemonic` decodes it. */
function seedOf(phrase) {
  const n = WORDS.length;
  const index = phrase.split(" ").map((w) => WORDS.indexOf(w));
  assert.equal(index.length, 13);
  assert.ok(index.every((i) => i >= 0), "a phrase word is not in the list");
  const mod = (x) => ((x % n) + n) % n;
  const out = Buffer.alloc(16);
  for (let q = 0; q < 4; q++) {
    const [w1, w2, w3] = index.slice(3 * q, 3 * q + 3);
    out.writeUInt32LE(w1 + n * mod(w2 - w1) + n * n * mod(w3 - w2), 4 * q);
  }
  return out;
}

const P = 2n ** 255n - 19n;
const modPow = (b, e) => { let r = 1n; b %= P; for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P; return r; };

/** The account's keys from its seed, as `crypto_core::identity` makes them: the Ed25519 seed is
 *  the seed and 16 zero bytes; the X25519 secret is the first half of its SHA-512, clamped. The
 *  Session ID (05 ‖ the X25519 public key, from the Ed25519 one) checks the derivation. */
function keysOf(seed) {
  const ed25519Seed = Buffer.concat([seed, Buffer.alloc(16)]);
  const hash = createHash("sha512").update(ed25519Seed).digest();
  const x25519Secret = Buffer.from(hash.subarray(0, 32));
  x25519Secret[0] &= 248;
  x25519Secret[31] &= 127;
  x25519Secret[31] |= 64;
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), ed25519Seed]);
  const publicKey = Buffer.from(createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }))
    .export({ format: "jwk" }).x, "base64url");
  const y = publicKey.reduceRight((acc, byte, i) => (acc << 8n) | BigInt(i === 31 ? byte & 0x7f : byte), 0n);
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  const uBytes = Buffer.from(Array.from({ length: 32 }, (_, i) => Number((u >> BigInt(8 * i)) & 0xffn)));
  return { x25519Secret, ed25519Half: Buffer.from(hash.subarray(32)), sessionId: "05" + uBytes.toString("hex") };
}

const lockNow = async (page) => {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
  // Marks this document: a reload gives the page a new one.
  await page.evaluate(() => { window.__beforeLock = true; });
  await page.getByRole("button", { name: "Lock now" }).click();
  await page.getByRole("heading", { name: "Unlock Hush" }).waitFor({ timeout: 30000 });
};

/** Whether the page's document is a new one since `lockNow` (within `ms`). */
const reloaded = (page, ms = 5000) => page.waitForFunction(() => window.__beforeLock === undefined, null, { timeout: ms })
  .then(() => true, () => false);

// Distinctive, so that nothing else in memory can match them.
const PEER = "Zephyrine Quillfeather-Oyelaran";
const BODY_OUT = "the heron leaves the quay at 23:47 with the saffron ledger";
const BODY_IN = "copy that: blue lantern, third pier, bring the walnut crate";
const BODY_LATE = "sent just before locking: the tide table is in the green folder";

test("after Lock now no message text, name or key is left in the page's memory", async (t) => {
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 900 } });
  await ctxA.addInitScript(keepWasmMemories);
  const a = await strictPage(ctxA);
  const b = await strictPage(ctxB);
  const { id: idA, phrase } = await createAccount(a.page, devnet.appUrl, "Ines Locksmith");
  const { id: idB } = await createAccount(b.page, devnet.appUrl, PEER);
  const seed = seedOf(phrase);
  const keys = keysOf(seed);
  assert.equal(keys.sessionId, idA, "the phrase decodes to the account's seed");

  // A writes; B accepts and answers, so A holds B's name and both bodies.
  await openChat(a.page, idB);
  await send(a.page, BODY_OUT);
  await openRow(b.page, "Ines Locksmith", 60000);
  await b.page.getByRole("button", { name: "Accept" }).click();
  await message(b.page, "in").filter({ hasText: BODY_OUT }).waitFor({ timeout: 30000 });
  await send(b.page, BODY_IN);
  await message(a.page, "in").filter({ hasText: BODY_IN }).waitFor({ timeout: 60000 });
  await a.page.getByRole("heading", { name: PEER }).waitFor();

  const secrets = {
    ...textNeedles("the sent body", BODY_OUT),
    ...textNeedles("the received body", BODY_IN),
    ...textNeedles("the body still sending", BODY_LATE),
    ...textNeedles("the peer's name", PEER),
    ...textNeedles("the recovery phrase", phrase),
    "the seed": seed.toString("hex"),
    ...textNeedles("the seed in hex", seed.toString("hex")),
    "the X25519 private key": keys.x25519Secret.toString("hex"),
    ...textNeedles("the X25519 private key in hex", keys.x25519Secret.toString("hex")),
    "the second half of the Ed25519 secret": keys.ed25519Half.toString("hex"),
  };

  // A message still being sent when the person locks: its requests are held back.
  const held = [];
  const hold = (route) => { held.push(route); };
  await a.page.route("**/v1/onion/**", hold);
  await send(a.page, BODY_LATE);
  await a.page.locator('[data-testid="message"][data-status="sending"]').filter({ hasText: BODY_LATE }).waitFor();

  // Before the lock the search finds what the page shows and the keys it holds.
  const beforeLock = await search(a.page, secrets);
  t.diagnostic(`before the lock: ${beforeLock.memories} memory of ${beforeLock.bytes} bytes; found ${beforeLock.found.join(", ")}`);
  for (const must of ["the sent body (UTF-8)", "the received body (UTF-8)", "the body still sending (UTF-8)",
    "the peer's name (UTF-8)", "the seed", "the X25519 private key"]) {
    assert.ok(beforeLock.found.includes(must), `the search does not find ${must} before the lock`);
  }

  await home(a.page);
  await lockNow(a.page);
  const wasReloaded = await reloaded(a.page);
  await a.page.getByRole("heading", { name: "Unlock Hush" }).waitFor({ timeout: 30000 });
  // A forced collection too, though what a discarded instance held is gone with it.
  const cdp = await ctxA.newCDPSession(a.page);
  await cdp.send("HeapProfiler.collectGarbage");
  const afterLock = await search(a.page, secrets);
  t.diagnostic(`after the lock: ${afterLock.memories} memory of ${afterLock.bytes} bytes; reloaded: ${wasReloaded}`);
  assert.ok(afterLock.memories >= 1, "no WebAssembly memory to search after the lock");
  assert.deepEqual(afterLock.found, [], "found in the page's memory after Lock now");
  assert.ok(wasReloaded, "the page did not load itself again");

  // Nothing was lost: after the unlock the message that was being sent is delivered, once.
  for (const route of held) await route.abort().catch(() => {});
  await a.page.unroute("**/v1/onion/**", hold);
  await unlock(a.page);
  await openRow(a.page, PEER);
  await message(a.page, "out").filter({ hasText: BODY_LATE }).and(a.page.locator('[data-status="sent"]'))
    .waitFor({ timeout: 60000 });
  await message(b.page, "in").filter({ hasText: BODY_LATE }).waitFor({ timeout: 60000 });
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await message(b.page, "in").filter({ hasText: BODY_LATE }).count(), 1);

  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await ctxA.close();
  await ctxB.close();
});

test("a tab waiting for Hush does not take it over when the running tab locks", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const first = await strictPage(context);
  await createAccount(first.page, devnet.appUrl, "Tabitha");
  const second = await strictPage(context);
  await second.page.goto(devnet.appUrl);
  const elsewhere = (page) => page.getByRole("heading", { name: "Hush is open in another tab" });
  await elsewhere(second.page).waitFor();

  await lockNow(first.page);
  assert.ok(await reloaded(first.page), "the page did not load itself again");
  // The locked tab still runs Hush; the other still waits.
  await new Promise((r) => setTimeout(r, 2000));
  await first.page.getByRole("heading", { name: "Unlock Hush" }).waitFor();
  assert.equal(await elsewhere(first.page).count(), 0);
  await elsewhere(second.page).waitFor();
  await unlock(first.page);

  assert.deepEqual(first.problems, []);
  assert.deepEqual(second.problems, []);
  await context.close();
});
