"""What both Python peers do per event: render the Standard Webhooks body, sign it with
HMAC-SHA256 (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), POST it.

One keep-alive http.client connection per thread (Dramatiq runs 8 threads per process; a
Celery prefork child runs one task at a time). Any answer but 2xx raises, so the framework's
own retry applies, as it would for a real webhook sender.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import threading
import time
import urllib.parse

_local = threading.local()
URL = urllib.parse.urlsplit(os.environ["E2E_RECEIVER_URL"])
SECRET = base64.b64decode(os.environ["E2E_SECRET"].removeprefix("whsec_"))


def _connection():
    c = getattr(_local, "conn", None)
    if c is None:
        c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=15)
        _local.conn = c
    return c


def deliver(event_id, event_type, occurred_at, data):
    body = json.dumps({"type": event_type, "timestamp": occurred_at, "data": data},
                      separators=(",", ":")).encode()
    ts = str(int(time.time()))
    mac = hmac.new(SECRET, f"{event_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    headers = {"content-type": "application/json", "webhook-id": event_id, "webhook-timestamp": ts,
               "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    for attempt in (1, 2):  # a keep-alive connection the server closed is retried once, fresh
        c = _connection()
        try:
            c.request("POST", URL.path or "/", body=body, headers=headers)
            r = c.getresponse()
            r.read()
            break
        except (http.client.HTTPException, OSError):
            c.close()
            _local.conn = None
            if attempt == 2:
                raise
    if not 200 <= r.status < 300:
        raise RuntimeError(f"receiver answered {r.status}")
