// Sinch (seed 003): the seed gives its verification as numbered steps, not as a listing; this
// is those steps, one line each, in node:crypto. node sinch.mjs case.json → exit 0 / 1.
import { createHmac, timingSafeEqual } from "node:crypto";
import { express, loadCase, deliver } from "./harness.mjs";
const c = loadCase();
process.env.SINCH_WEBHOOK_SECRET = c.secret;
const app = express();

app.post("/webhooks/sinch/delivery", express.raw({ type: "application/json" }), (req, res) => {
  // Extract the timestamp, nonce, algorithm and signature headers.
  const timestamp = req.headers["x-sinch-webhook-signature-timestamp"];
  const nonce = req.headers["x-sinch-webhook-signature-nonce"];
  const algorithm = req.headers["x-sinch-webhook-signature-algorithm"];
  const signature = req.headers["x-sinch-webhook-signature"];
  if (!timestamp || !nonce || !algorithm || !signature) return res.status(401).send("missing headers");
  // Check the algorithm header (expected value: HmacSHA256).
  if (algorithm !== "HmacSHA256") return res.status(401).send("unsupported algorithm");
  // Replay protection: reject timestamps more than 5 minutes away.
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return res.status(401).send("stale");
  // Concatenate rawBody, nonce and timestamp separated by '.' (req.body.toString('utf8')).
  const signedData = `${req.body.toString("utf8")}.${nonce}.${timestamp}`;
  // HMAC-SHA256 with the webhook secret, base64.
  const calculated = createHmac("sha256", process.env.SINCH_WEBHOOK_SECRET).update(signedData).digest("base64");
  // timingSafeEqual needs equal byte lengths.
  const a = Buffer.from(calculated), b = Buffer.from(signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return res.status(401).send("HMAC validation failed");
  JSON.parse(req.body.toString("utf8"));
  res.status(200).send("ok");
});

await deliver(c);
