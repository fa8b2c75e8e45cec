"""Paced load on POST /v1/events: one event per request, ids chosen by the client so that a retry
(after a 503, a refused or cut connection, or a client timeout) is safe: the API deduplicates ids.

Counts per run: accepted (202, with the time), 503 answers, unanswered requests (client timeout
with no response), connection errors (refused/reset: expected while ingest is down), other 5xx,
4xx rejections of valid events, and events given up on (still not accepted at the deadline).
"""
import http.client
import json
import queue
import socket
import threading
import time
from collections import Counter


class Load:
    def __init__(self, port, streams, client_timeout=20.0, give_up_after=120.0, threads=8, retry_503_cap=1.0):
        """`streams`: list of (name, api_key, [event dict], rate per second)."""
        self.port = port
        self.streams = streams
        self.client_timeout = client_timeout
        self.give_up_after = give_up_after
        self.threads = threads
        self.retry_503_cap = retry_503_cap
        self.accepted = {}  # event id -> (stream, wall time accepted)
        self.first_try = {}  # event id -> wall time of its first request
        self.counts = Counter()
        self.rejections = []  # (event id, status, detail)
        self.gave_up = []
        self.lock = threading.Lock()
        self.work = queue.Queue()
        self.workers = []
        self.pacers = []
        self.started = None
        self.stop_flag = False

    # ------------------------------------------------------------ control
    def start(self):
        self.started = time.monotonic()
        for _ in range(self.threads):
            t = threading.Thread(target=self._send_loop, daemon=True)
            t.start()
            self.workers.append(t)
        for stream in self.streams:
            t = threading.Thread(target=self._pace, args=(stream,), daemon=True)
            t.start()
            self.pacers.append(t)
        return self

    def wait(self, timeout):
        """Waits until every event was accepted, rejected or given up; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        for t in self.pacers:
            t.join(max(0.0, deadline - time.monotonic()))
        for _ in self.workers:
            self.work.put(None)
        for t in self.workers:
            t.join(max(0.0, deadline - time.monotonic()))
        done = not any(t.is_alive() for t in self.workers + self.pacers)
        self.stop_flag = True
        return done

    def abort(self):
        self.stop_flag = True

    # ------------------------------------------------------------ pacing and sending
    def _pace(self, stream):
        name, key, events, rate = stream
        t0 = time.monotonic()
        for i, event in enumerate(events):
            if self.stop_flag:
                return
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.work.put((name, key, event))

    def _send_loop(self):
        connection = None
        while True:
            item = self.work.get()
            if item is None:
                break
            name, key, event = item
            connection = self._send(connection, name, key, event)
        if connection is not None:
            connection.close()

    def _count(self, what, n=1):
        with self.lock:
            self.counts[what] += n

    def _send(self, connection, name, key, event):
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        deadline = time.monotonic() + self.give_up_after
        with self.lock:
            self.first_try.setdefault(event["id"], time.time())
        while not self.stop_flag:
            if time.monotonic() > deadline:
                with self.lock:
                    self.gave_up.append(event["id"])
                return connection
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.client_timeout)
            try:
                self._count("requests")
                connection.request("POST", "/v1/events", body=body, headers=headers)
                response = connection.getresponse()
                text = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (socket.timeout, TimeoutError):
                self._count("unanswered")
                connection.close()
                connection = None
                continue
            except (ConnectionError, http.client.HTTPException, OSError):
                # Refused while ingest is down, or cut when it is killed mid-request: retry.
                self._count("connection_errors")
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.3)
                continue
            if status == 202:
                with self.lock:
                    self.accepted.setdefault(event["id"], (name, time.time()))
                return connection
            if status == 503:
                self._count("503")
                try:
                    wait = float(response.getheader("Retry-After") or 1)
                except ValueError:
                    wait = 1.0
                time.sleep(min(wait, self.retry_503_cap))
                continue
            if 500 <= status < 600:
                self._count(f"{status}")
                self._count("other_5xx")
                time.sleep(0.5)
                continue
            with self.lock:
                self.rejections.append((event["id"], status, text[:200].decode(errors="replace")))
            return connection
        return connection
