// Teekrr (seed 004): the seed's verification code, as documented, run on one case file.
// Only change: `import express from "express"` comes from the harness (no npm registry here).
// The case's secret is the PLAINTEXT the customer was shown; the handler hashes it itself.
// node teekrr.mjs case.json → exit 0 verified, 1 rejected.
import { express, loadCase, deliver } from "./harness.mjs";
const c = loadCase();
process.env.TEEKRR_WEBHOOK_SECRET = c.secret;

// ---- seed 004, as written (line numbers removed) ----
import { createHash, createHmac, timingSafeEqual } from "crypto";

const app = express();

// IMPORTANT: capture raw body. JSON parsing changes whitespace and breaks the signature.
app.post(
 "/webhooks/teekrr",
 express.raw({ type: "application/json" }),
 (req, res) => {
 const secret = process.env.TEEKRR_WEBHOOK_SECRET;
 const signature = req.header("X-Teekrr-Signature");
 const event = req.header("X-Teekrr-Event");

 const secretHash = createHash("sha256").update(secret).digest("hex");
 const expected = createHmac("sha256", secretHash)
 .update(req.body) // Buffer of raw bytes
 .digest("hex");

 const a = Buffer.from(expected, "hex");
 const b = Buffer.from(signature ?? "", "hex");
 if (a.length !== b.length || !timingSafeEqual(a, b)) {
 return res.status(401).send("invalid signature");
 }

 const payload = JSON.parse(req.body.toString("utf8"));
 // payload.event === event (e.g. "delivered")
 // payload.data === { messageUuid, ... }

 // ... your business logic ...

 res.status(200).send("ok");
 }
);
// ---- end of seed ----

await deliver(c, app);
