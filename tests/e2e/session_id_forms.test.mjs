// The forms in which the e2e tests look for a leaked Session ID include the account's Ed25519
// key, worked out from the Session ID alone: checked here against vectors-core §1.1 and §1.3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sessionIdForms } from "./people.mjs";

test("libsession_test_session_encrypt: the Ed25519 key is among a Session ID's forms", () => {
  const cases = [
    ["05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72", "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"],
    ["05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74", "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876"],
  ];
  for (const [id, ed] of cases) {
    const { texts, binaries } = sessionIdForms(id);
    assert.ok(texts.includes(ed) && texts.includes(ed.toUpperCase()));
    assert.ok(texts.includes(Buffer.from(ed, "hex").toString("base64").replace(/=+$/, "")));
    assert.ok(binaries.some((b) => b.equals(Buffer.from(ed, "hex"))));
    assert.ok(texts.includes(id.slice(2)) && texts.includes(Buffer.from(id, "hex").toString("base64url")));
  }
});

test("session_js_keypair: the Ed25519 key of the all-'session' phrase is among its Session ID's forms", () => {
  const { texts } = sessionIdForms("0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12");
  assert.ok(texts.includes("49461c19429cf1adf05f60d70836ef7f2c41d4e286b47b45d74a30cf07d2d988"));
});
