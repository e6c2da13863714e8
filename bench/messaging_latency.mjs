// Send → shown latency between two browsers on the devnet (p50, p95 over 50 messages), and the
// requests per second of an idle unlocked client.
// Run: node bench/messaging_latency.mjs   (after `trunk build --release`; starts its own devnet)
import { startDevnet, launchBrowser, newAccount } from "../tests/e2e/harness.mjs";

const devnet = await startDevnet();
const browser = await launchBrowser();
const a = await (await browser.newContext()).newPage();
const b = await (await browser.newContext()).newPage();
const idA = await newAccount(a, devnet.appUrl, "Ann");
const idB = await newAccount(b, devnet.appUrl, "Ben");

await a.getByTestId("new-conversation").click();
await a.getByTestId("recipient-id").fill(idB);
await a.getByRole("button", { name: "Start" }).click();
await a.getByTestId("composer").fill("warm-up");
await a.getByTestId("send").click();
await b.getByTestId("conversation").first().click({ timeout: 60000 });
await b.getByRole("button", { name: "Accept" }).click();

const latencies = [];
const sentAfter = [];
for (let i = 1; i <= 50; i++) {
  // People do not type in step with the recipient's polling: a random pause decorrelates the two.
  await new Promise((r) => setTimeout(r, Math.random() * 1500));
  const text = `latency probe ${i}`;
  await a.getByTestId("composer").fill(text);
  const t0 = Date.now();
  await a.getByTestId("send").click();
  const sentCount = i + 1;
  a.waitForFunction((n) => document.querySelectorAll('[data-testid="message"][data-status="sent"]').length >= n, sentCount, { timeout: 30000, polling: 10 })
    .then(() => sentAfter.push(Date.now() - t0)).catch(() => {});
  await b.locator('[data-testid="message"][data-direction="in"]').getByText(text, { exact: true })
    .waitFor({ timeout: 30000 });
  latencies.push(Date.now() - t0);
}
latencies.sort((x, y) => x - y);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(`send → shown over 50 messages: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${latencies.at(-1)} ms`);
sentAfter.sort((x, y) => x - y);
console.log(`send → "sent" (both copies stored) p50 ${sentAfter[Math.floor(sentAfter.length / 2)]} ms`);

// An idle client: B sits on its conversation list; count what it sends to the relay.
await b.getByRole("button", { name: "Back" }).click();
let onion = 0;
b.on("request", (r) => { if (r.url().includes("/v1/onion/")) onion++; });
const seconds = 30;
await new Promise((r) => setTimeout(r, seconds * 1000));
console.log(`idle client, page visible: ${(onion / seconds).toFixed(2)} onion requests/s`);
void idA;
await browser.close();
await devnet.stop();
