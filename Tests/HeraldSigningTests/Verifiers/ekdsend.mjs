// EKDSend (seed 001): the seed's verification code, as documented, run on one case file.
// Its handler hashes JSON.stringify(req.body), the body parsed by express.json() and
// re-serialized — not the raw bytes. node ekdsend.mjs case.json → exit 0 verified, 1 rejected.
import { createRequire } from "node:module";
import { express, loadCase, deliver } from "./harness.mjs";
const require = createRequire(import.meta.url);
const c = loadCase();
process.env.WEBHOOK_SECRET = c.secret;
const app = express();
app.use(express.json());

// ---- seed 001, as written ----
const crypto = require('crypto');

function verifyWebhookSignature(payload, signature, secret) {
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
    
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from('sha256=' + expectedSignature)
  );
}

// In your webhook handler
app.post('/webhook', (req, res) => {
  const signature = req.headers['x-ekdsend-signature'];
  const isValid = verifyWebhookSignature(
    JSON.stringify(req.body),
    signature,
    process.env.WEBHOOK_SECRET
  );
  
  if (!isValid) {
    return res.status(401).send('Invalid signature');
  }
  
  // Process the webhook
  console.log('Event:', req.body.type);
  res.status(200).send('OK');
});
// ---- end of seed ----

await deliver(c);
