// Standard Webhooks: an independent verifier in node:crypto, per the specification — v1
// (HMAC-SHA256 with the base64-decoded whsec_ key) and v1a (Ed25519 with a whpk_ public key),
// over `${webhook-id}.${webhook-timestamp}.${body}`, 5-minute tolerance, any listed signature.
// node standard.mjs case.json → exit 0 verified, 1 rejected. The case's secret is whsec_… or whpk_….
import { createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";
import { loadCase, requestFor } from "./harness.mjs";
const c = loadCase();
const req = requestFor(c);
function fail(why) { console.error(why); process.exit(1); }

const id = req.get("webhook-id"), ts = req.get("webhook-timestamp"), sigs = req.get("webhook-signature");
if (!id || !ts || !sigs) fail("missing headers");
if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) fail("timestamp out of tolerance");
const content = Buffer.concat([Buffer.from(`${id}.${ts}.`), c.raw]);
let ok = false;
for (const entry of sigs.split(" ")) {
  const [version, sig] = entry.split(",");
  const given = Buffer.from(sig, "base64");
  if (version === "v1" && c.secret.startsWith("whsec_")) {
    const key = Buffer.from(c.secret.slice(6), "base64");
    const expected = createHmac("sha256", key).update(content).digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  } else if (version === "v1a" && c.secret.startsWith("whpk_")) {
    const x = Buffer.from(c.secret.slice(5), "base64").toString("base64url");
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    if (verify(null, content, key, given)) ok = true;
  }
}
if (!ok) fail("no matching signature");
process.exit(0);
