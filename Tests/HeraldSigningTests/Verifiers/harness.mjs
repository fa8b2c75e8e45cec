// Tiny stand-ins for Express so each seed's handler runs exactly as its provider documents it.
//
// A case file (argv[2]) is JSON: {"bodyBase64", "headers": [[name, value]…], "secret", "url"}.
// `express()` returns an app whose `post(path, ...middleware, handler)` records the route;
// `express.raw()` hands the handler the raw Buffer, otherwise req.body is JSON.parse(raw), as
// `app.use(express.json())` would. `deliver` runs the handler once and exits 0 when it answered
// 2xx, 1 when it answered otherwise or threw (e.g. timingSafeEqual on unequal lengths).
import { readFileSync } from "node:fs";

export function loadCase() {
  const c = JSON.parse(readFileSync(process.argv[2], "utf8"));
  c.raw = Buffer.from(c.bodyBase64, "base64");
  return c;
}

let lastApp = null;
export function express() {
  const app = { routes: [], post(path, ...handlers) { this.routes.push(handlers); }, use() {} };
  lastApp = app;
  return app;
}
express.raw = () => ({ herald: "raw" });
express.json = () => ({ herald: "json" });

export function requestFor(c) {
  const headers = {};
  for (const [n, v] of c.headers) headers[n.toLowerCase()] = v;
  return { headers, get: (n) => headers[n.toLowerCase()], header: (n) => headers[n.toLowerCase()] };
}

export async function deliver(c, app = lastApp) {
  const handlers = app.routes.at(-1);
  const handler = handlers.at(-1);
  const raw = handlers.some((h) => h && h.herald === "raw");
  const req = requestFor(c);
  req.body = raw ? c.raw : JSON.parse(c.raw.toString("utf8"));
  let status = 200;
  const res = { status(s) { status = s; return res; }, end() { return res; }, send() { return res; } };
  try {
    await handler(req, res);
  } catch (e) {
    console.error("handler threw:", e.message);
    process.exit(1);
  }
  if (status < 200 || status > 299) console.error("handler answered", status);
  process.exit(status >= 200 && status <= 299 ? 0 : 1);
}
