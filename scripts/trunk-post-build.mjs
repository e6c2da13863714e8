// Trunk post-build hook (see Trunk.toml). Runs in Trunk's staging folder and:
// 1. moves Trunk's inline start-up script into a file, so the page needs no inline script;
// 2. adds the Content-Security-Policy as a <meta> (frame-ancestors, which a <meta> cannot carry,
//    is sent as a header by hush-node);
// 3. writes sw.js with the versioned list of the app shell to cache;
// 4. writes name.br (brotli, quality 11) and name.gz (gzip -9) next to each compressible file, for
//    servers that send precompressed files by Accept-Encoding (hush-node does; see README.md).
// HUSH_RELAY_ORIGIN (optional) adds a relay on another origin to connect-src.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";
import { join, relative, resolve } from "node:path";

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error("TRUNK_STAGING_DIR is not set: run through trunk");
const root = resolve(import.meta.dirname, "..");
const indexPath = join(staging, "index.html");
let html = readFileSync(indexPath, "utf8");

const sri = (buf) => "sha384-" + createHash("sha384").update(buf).digest("base64");
const short = (buf) => createHash("sha256").update(buf).digest("hex").slice(0, 16);

// 1. The inline module script becomes start-<hash>.js.
// (Trunk's minified HTML leaves attribute values unquoted.)
const inline = /<script type=(?:"module"|module)>([\s\S]*?)<\/script>/;
const match = html.match(inline);
if (!match) throw new Error("Trunk's inline start-up script was not found in index.html");
const start = Buffer.from(match[1].trim() + "\n");
const startName = `start-${short(start)}.js`;
writeFileSync(join(staging, startName), start);
html = html.replace(inline, `<script type="module" src="/${startName}" integrity="${sri(start)}"></script>`);

// 2. The Content-Security-Policy.
const relayOrigin = process.env.HUSH_RELAY_ORIGIN ?? "";
// A bare origin, in lower case as browsers send it: anything else could add sources or directives.
if (relayOrigin && !/^https?:\/\/([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/.test(relayOrigin)) {
  throw new Error(`HUSH_RELAY_ORIGIN must be scheme://host[:port] in lower case, not ${JSON.stringify(relayOrigin)}`);
}
const relay = relayOrigin ? ` ${relayOrigin}` : "";
const csp = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  // Pictures and players show files from the vault through object URLs (revoked after use).
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  `connect-src 'self'${relay}`,
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
html = html.replace(/<meta charset=(?:"utf-8"|utf-8) ?\/?>/, (m) => `${m}\n    <meta http-equiv="Content-Security-Policy" content="${csp}" />`);
if (!html.includes("Content-Security-Policy")) throw new Error("could not place the CSP meta tag");
writeFileSync(indexPath, html);

// 3. sw.js: every file of the build but network.json is the app shell; the version is a hash of them all.
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    // network.json (the trust anchors) is the host's word, not the build's: a devnet, or a site
    // serving another network, answers it in place of the file, so it is never cached.
    else if (name !== "sw.js" && !(dir === staging && name === "network.json")) files.push(path);
  }
};
walk(staging);
files.sort();
const version = createHash("sha256");
const shell = ["/"];
for (const path of files) {
  const rel = "/" + relative(staging, path).split("\\").join("/");
  version.update(rel).update(readFileSync(path));
  shell.push(rel);
}
const template = readFileSync(join(root, "app", "sw.template.js"), "utf8");
const sw = template
  .replace("__VERSION__", version.digest("hex").slice(0, 16))
  .replace("__SHELL__", JSON.stringify(shell));
writeFileSync(join(staging, "sw.js"), sw);

// 4. Precompressed copies. Written after sw.js, so they are not in the shell (the service worker
// caches what the server decodes for it). sw.js itself gets none: it is small, the browser checks
// it for updates byte by byte, and a copy left stale by an edit in place would hide the edit.
// A copy that is not smaller than its file is not written.
const COMPRESSIBLE = /\.(html|js|mjs|wasm|css|svg|json|webmanifest|txt|map)$/;
for (const path of files) {
  if (!COMPRESSIBLE.test(path)) continue;
  const plain = readFileSync(path);
  const br = brotliCompressSync(plain, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
      [zlib.BROTLI_PARAM_LGWIN]: zlib.BROTLI_MAX_WINDOW_BITS,
      [zlib.BROTLI_PARAM_SIZE_HINT]: plain.length,
      [zlib.BROTLI_PARAM_MODE]: path.endsWith(".wasm") ? zlib.BROTLI_MODE_GENERIC : zlib.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(plain, { level: zlib.Z_BEST_COMPRESSION, memLevel: 9 });
  if (br.length < plain.length) writeFileSync(`${path}.br`, br);
  if (gz.length < plain.length) writeFileSync(`${path}.gz`, gz);
}
