// Hush's service worker: caches the versioned app shell only — never API responses or user data
// (those live in the encrypted vault in IndexedDB, written by the app itself).
// Generated from app/sw.template.js by scripts/trunk-post-build.mjs.
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = `hush-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  // A new version waits until the person agrees to apply it (see "message").
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("hush-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "apply-update") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(caches.open(CACHE).then((c) => c.match("/index.html")).then((hit) => hit || fetch(request)));
    return;
  }
  // Only files of the shell come from the cache; everything else (the relay's /v1/…) goes to the
  // network and is never stored.
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(caches.open(CACHE).then((c) => c.match(url.pathname)).then((hit) => hit || fetch(request)));
});
