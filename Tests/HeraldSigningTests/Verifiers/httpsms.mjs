// httpSMS (seed 002): the seed says "a JWT Bearer token signed with HS256 and the signing key;
// use a JWT library to validate it". No npm registry here, so this is that validation with
// node:crypto: signature, alg, exp/nbf, aud = the URL. It ignores extra claims, as a library
// does. With --payload-hash it also checks Herald's payload_hash claim against the raw body.
// node httpsms.mjs case.json [--payload-hash] → exit 0 verified, 1 rejected.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { loadCase, requestFor } from "./harness.mjs";
const c = loadCase();
const req = requestFor(c);
const checkPayloadHash = process.argv.includes("--payload-hash");

function fail(why) { console.error(why); process.exit(1); }

const auth = req.get("Authorization") ?? "";
if (!auth.startsWith("Bearer ")) fail("no bearer token");
const [h, p, s] = auth.slice(7).split(".");
if (!h || !p || !s) fail("not a JWT");
const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
if (header.alg !== "HS256") fail("alg is not HS256");
const expected = createHmac("sha256", c.secret).update(`${h}.${p}`).digest();
const given = Buffer.from(s, "base64url");
if (expected.length !== given.length || !timingSafeEqual(expected, given)) fail("bad signature");
const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
const now = Math.floor(Date.now() / 1000);
if (typeof claims.exp === "number" && now >= claims.exp) fail("expired");
if (typeof claims.nbf === "number" && now < claims.nbf - 5) fail("not yet valid");
if (claims.aud !== c.url) fail(`aud ${claims.aud} is not ${c.url}`);
if (!req.get("X-Event-Type")) fail("no X-Event-Type");
if (checkPayloadHash) {
  const hash = createHash("sha256").update(c.raw).digest("hex");
  if (claims.payload_hash !== hash) fail("payload_hash does not match the body");
}
JSON.parse(c.raw.toString("utf8"));
process.exit(0);
