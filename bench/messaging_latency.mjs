// Send → shown latency between two browsers on the devnet (p50, p95 over 50 messages), and the
// requests per second of an idle unlocked client, its page visible and hidden.
// Run: node bench/messaging_latency.mjs   (after `trunk build --release`; starts its own devnet)
//
// Both ends are timed inside the pages (same machine, same clock): the moment the Send button is
// clicked in A's page, and the moment a MutationObserver sees the message appear in B's page.
// Playwright's own locator waits poll every 500 ms once they have waited a while, which would add
// up to half a second of the harness's own delay to every figure.
import { startDevnet, launchBrowser, newAccount, setVisibility } from "../tests/e2e/harness.mjs";

const devnet = await startDevnet();
const browser = await launchBrowser();
const a = await (await browser.newContext()).newPage();
const b = await (await browser.newContext()).newPage();
await newAccount(a, devnet.appUrl, "Ann");
const idB = await newAccount(b, devnet.appUrl, "Ben");

await a.getByTestId("new-conversation").click();
await a.getByTestId("recipient-id").fill(idB);
await a.getByRole("button", { name: "Start" }).click();
await a.getByTestId("composer").fill("warm-up");
await a.getByTestId("send").click();
await b.getByTestId("conversation").first().click({ timeout: 60000 });
await b.getByRole("button", { name: "Accept" }).click();
await b.locator('[data-testid="message"][data-direction="in"]').first().waitFor({ timeout: 30000 });

// A: when each probe's Send was clicked, and when it turned "sent". B: when each probe appeared.
await a.evaluate(() => {
  window.__clicked = [];
  window.__sent = {};
  document.addEventListener("click", (e) => {
    if (e.target.closest('[data-testid="send"]')) window.__clicked.push(Date.now());
  }, true);
  new MutationObserver(() => {
    for (const m of document.querySelectorAll('[data-testid="message"][data-direction="out"][data-status="sent"]')) {
      const probe = m.querySelector(".body")?.textContent;
      if (probe && !(probe in window.__sent)) window.__sent[probe] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
});
await b.evaluate(() => {
  window.__shown = {};
  new MutationObserver(() => {
    for (const m of document.querySelectorAll('[data-testid="message"][data-direction="in"]')) {
      const probe = m.querySelector(".body")?.textContent;
      if (probe && !(probe in window.__shown)) window.__shown[probe] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
});

const latencies = [];
const sentAfter = [];
for (let i = 1; i <= 50; i++) {
  // People do not type in step with the recipient's polling: a random pause decorrelates the two.
  await new Promise((r) => setTimeout(r, Math.random() * 1500));
  const text = `latency probe ${i}`;
  await a.getByTestId("composer").fill(text);
  await a.getByTestId("send").click();
  const shown = await (await b.waitForFunction((t) => window.__shown[t], text, { timeout: 30000, polling: 50 })).jsonValue();
  const clicked = await a.evaluate(() => window.__clicked.at(-1));
  latencies.push(shown - clicked);
  const sent = await (await a.waitForFunction((t) => window.__sent[t], text, { timeout: 30000, polling: 50 })).jsonValue();
  sentAfter.push(sent - clicked);
}
const pct = (list, p) => {
  const s = [...list].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
console.log(`send → shown over 50 messages: p50 ${pct(latencies, 0.5)} ms, p95 ${pct(latencies, 0.95)} ms, max ${Math.max(...latencies)} ms`);
console.log(`send → "sent" (both copies stored): p50 ${pct(sentAfter, 0.5)} ms, p95 ${pct(sentAfter, 0.95)} ms`);

// An idle client: B sits on its conversation list; count what it sends to the relay.
await b.getByRole("button", { name: "Back" }).click();
let onion = 0;
b.on("request", (r) => { if (r.url().includes("/v1/onion/")) onion++; });
const seconds = 30;
await new Promise((r) => setTimeout(r, seconds * 1000));
console.log(`idle client, page visible: ${(onion / seconds).toFixed(2)} onion requests/s`);
// The same client with its page hidden (as the page sees a background tab: visibilityState and
// the visibilitychange event).
await setVisibility(b, "hidden");
await new Promise((r) => setTimeout(r, 2000));
onion = 0;
const hiddenSeconds = 60;
await new Promise((r) => setTimeout(r, hiddenSeconds * 1000));
console.log(`idle client, page hidden: ${(onion / hiddenSeconds).toFixed(2)} onion requests/s`);
await browser.close();
await devnet.stop();
