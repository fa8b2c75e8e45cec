// EK SMS (seed 000): the seed's verification code, as documented, run on one case file.
// node eksms.mjs case.json → exit 0 verified, 1 rejected.
import { express, loadCase, deliver } from "./harness.mjs";
const c = loadCase();
process.env.EKSMS_WEBHOOK_SECRET = c.secret;
const app = express();

// ---- seed 000, as written ----
import { createHmac, timingSafeEqual } from "node:crypto";
function verify(rawBody, signature, secret) {
const expected = createHmac("sha256", secret)
.update(rawBody) // the RAW request body, not re-serialized
.digest("hex");
return timingSafeEqual(
Buffer.from(expected),
Buffer.from(signature),
);
}
// Express: use express.raw() so you get the exact bytes we signed.
app.post("/webhooks/sms", express.raw({ type: "*/*" }), (req, res) => {
const ok = verify(req.body, req.get("X-EKSMS-Signature"), process.env.EKSMS_WEBHOOK_SECRET);
if (!ok) return res.status(401).end();
const event = JSON.parse(req.body.toString());
// ... handle event.status
res.status(200).end();
});
// ---- end of seed ----

await deliver(c);
