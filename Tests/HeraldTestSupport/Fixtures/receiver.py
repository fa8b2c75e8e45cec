#!/usr/bin/env python3
"""A test receiver for Herald's HTTP integration tests (the delivery engine and the worker).

Listens on 127.0.0.1 (port 0 = any free port), prints the port on its first stdout line,
and answers by path:
  /status/<code>          that status, body "status <code>"
  /retry-after/<value>    429 with Retry-After: <value>
  /hang                   reads the request, then never answers (until the client gives up)
  /echo                   200, JSON {"headers": [[name, value]...], "body_hex": ..., "length": n}
  /redirect               302 to /status/200
  /big                    200 with a 2 MB body
  /slow/<ms>              waits <ms> milliseconds, then 200
  /flaky/<key>/<n>        500 for the first <n> requests naming <key>, then 200
  /stats                  JSON {"connections": n, "requests": n}, counting only connections
                          and requests other than /stats
HTTP/1.1 with keep-alive; one thread per connection.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
counts = {"connections": 0, "requests": 0}
flaky = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.counted = False

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        path = self.path
        if path == "/stats":
            with lock:
                return self.send(200, json.dumps(counts).encode(), [("Content-Type", "application/json")])
        with lock:
            counts["requests"] += 1
            if not self.counted:
                self.counted = True
                counts["connections"] += 1
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            return self.send(code, b"status %d" % code)
        if path.startswith("/retry-after/"):
            value = path.split("/", 2)[2].replace("%20", " ")
            return self.send(429, b"slow down", [("Retry-After", value)])
        if path.startswith("/slow/"):
            time.sleep(int(path.split("/")[2]) / 1000)
            return self.send(200, b"ok")
        if path.startswith("/flaky/"):
            _, _, key, n = path.split("/")
            with lock:
                flaky[key] = flaky.get(key, 0) + 1
                seen = flaky[key]
            return self.send(500 if seen <= int(n) else 200, b"flaky %d" % seen)
        if path == "/hang":
            time.sleep(60)
            return
        if path == "/echo":
            reply = {"headers": [[k, v] for k, v in self.headers.items()], "body_hex": body.hex(), "length": len(body)}
            return self.send(200, json.dumps(reply).encode(), [("Content-Type", "application/json")])
        if path == "/redirect":
            return self.send(302, b"", [("Location", "/status/200")])
        if path == "/big":
            return self.send(200, b"x" * (2 << 20))
        self.send(404, b"no such mode")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, cancels) reset connections on purpose


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Exit when the test closes our stdin (or dies), so no receiver outlives its test.
    sys.stdin.read()


if __name__ == "__main__":
    main()
