"""A verifying webhook receiver on 127.0.0.1, one per endpoint, with modes switchable at run time.

Modes:
  ok     verify the Standard Webhooks signature with the endpoint's secret; 200 if valid, 401 if not
  down   nothing listens on the port (the listener is closed and open connections are cut)
  hang   hold each request for `hang_seconds` (set past the endpoint's timeout), then answer 200;
         a hung request never counts as delivered (the sender has given up by then)
  flap   up and down in turns, `flap_period` seconds each
  500    answer 500 to everything

Every request is recorded: (time, endpoint label, event id, verified?, outcome, event type,
the endpoint id an operational event is about). Only `ok` answers with a valid signature count as
deliveries in the ledger.
"""
import base64
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time

try:
    import standardwebhooks  # the Standard Webhooks reference library (PyPI)
except ImportError:  # HMAC-SHA256 per the spec instead
    standardwebhooks = None

MODES = ("ok", "down", "hang", "flap", "500")


def verify_standard(secret, headers, body):
    """True when `body` carries a valid Standard Webhooks v1 signature under `secret` (whsec_…)."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return False
    if standardwebhooks is not None:
        try:
            standardwebhooks.Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": timestamp,
                                                          "webhook-signature": signatures})
            return True
        except Exception:
            return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        if abs(time.time() - int(timestamp)) > 300:
            return False
    except ValueError:
        return False
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in signatures.split())


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, handler, receiver):
        self.receiver = receiver
        self.connections = set()
        self.lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        pass  # a sender that gave up (timeout) or was killed: nothing to report

    def process_request(self, request, client_address):
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_all(self):
        with self.lock:
            connections = list(self.connections)
        for c in connections:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept-alive connection is closed after this

    def log_message(self, *args):
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status, text=b""):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        receiver = self.server.receiver
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        mode = receiver.effective_mode()
        event_id = headers.get("webhook-id")
        event_type, about = None, None
        try:
            parsed = json.loads(body)
            event_type = parsed.get("type")
            data = parsed.get("data") or {}
            if isinstance(data, dict):
                about = data.get("endpointId") or data.get("endpoint")
        except (ValueError, AttributeError, RecursionError):
            pass
        if mode == "down":  # a request on a connection that outlived the listener: cut it
            receiver.record(event_id, False, "cut", event_type, about)
            self.close_connection = True
            return
        if mode == "hang":
            receiver.record(event_id, False, "hung", event_type, about)
            deadline = time.monotonic() + receiver.hang_seconds
            while time.monotonic() < deadline and not receiver.stopped:
                time.sleep(0.1)
            self._answer(200, b"late")
            return
        if mode == "500":
            receiver.record(event_id, False, "500", event_type, about)
            self._answer(500, b"receiver says no")
            return
        valid = verify_standard(receiver.secret, headers, body) if receiver.secret else False
        receiver.record(event_id, valid, "ok" if valid else "bad-signature", event_type, about)
        self._answer(200 if valid else 401, b"ok" if valid else b"bad signature")

    def do_GET(self):
        self._answer(200, b"receiver")


class Receiver:
    """One endpoint's receiver: `url` to register, `set_mode` to switch, `records` to reconcile."""

    def __init__(self, label, hang_seconds=4.0, flap_period=1.0):
        self.label = label
        self.secret = None
        self.endpoint_id = None
        self.event_types = None  # the endpoint's filter (None or [] = every type)
        self.hang_seconds = hang_seconds
        self.flap_period = flap_period
        self.mode = "ok"
        self.records = []  # (monotonic time, wall time, event id, verified, outcome, type, about)
        self.lock = threading.Lock()
        self.stopped = False
        self.server = None
        self.thread = None
        self.flapper = None
        self.port = None
        self._listen()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/{self.label}"

    def _listen(self):
        server = _Server(("127.0.0.1", self.port or 0), _Handler, self)
        self.port = server.server_address[1]
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def _close(self):
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.cut_all()

    def _up(self):
        if self.server is None and not self.stopped:
            for _ in range(50):  # the port was ours a moment ago; retry briefly if it lingers
                try:
                    self._listen()
                    return
                except OSError:
                    time.sleep(0.1)
            raise RuntimeError(f"receiver {self.label}: cannot listen on port {self.port} again")

    def effective_mode(self):
        mode = self.mode
        if mode == "flap":
            return "down" if self.server is None else "ok"
        if mode == "down" or self.server is None:
            return "down"
        return mode

    def set_mode(self, mode):
        assert mode in MODES, mode
        previous, self.mode = self.mode, mode
        if previous == "flap" and self.flapper is not None:
            self.flapper.join(5)
            self.flapper = None
        if mode == "down":
            self._close()
        elif mode == "flap":
            self._up()
            self.flapper = threading.Thread(target=self._flap, daemon=True)
            self.flapper.start()
        else:
            self._up()

    def _flap(self):
        up = True
        while self.mode == "flap" and not self.stopped:
            time.sleep(self.flap_period)
            if self.mode != "flap":
                break
            if up:
                self._close()
            else:
                self._up()
            up = not up
        if self.mode != "down":
            self._up()

    def record(self, event_id, verified, outcome, event_type, about):
        with self.lock:
            self.records.append((time.monotonic(), time.time(), event_id, verified, outcome, event_type, about))

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def stop(self):
        self.stopped = True
        self.mode = "down"
        self._close()
