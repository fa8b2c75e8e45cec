"""Herald's services for one scenario: a vhost of its own, a fresh SQLite store, ingest, signer and
N workers started from HERALD_BIN, each killable and restartable; and a small client of the HTTP API."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment(**settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "RABBITMQ_"))}
    env.update({k: str(v) for k, v in settings.items()})
    return env


class Service:
    def __init__(self, name, program, env, log_path):
        self.name = name
        self.program = program
        self.env = env
        self.log_path = log_path
        self.process = None
        self.kills = 0
        self.unexpected_exits = []  # statuses of exits we did not cause

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([str(self.program)], env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def check_exit(self):
        """Notes an exit nobody asked for (a crash, or giving up on the broker)."""
        if self.process is not None and self.process.poll() is not None:
            self.unexpected_exits.append(self.process.returncode)
            self.process = None

    def kill(self, sig=signal.SIGKILL):
        self.check_exit()
        if self.alive():
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.kills += 1
        self.process = None

    def stop(self, grace=15):
        self.check_exit()
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def log_text(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""


class HTTPError(Exception):
    pass


class Herald:
    def __init__(self, bin_dir, amqp_url, work, workers=2, extra_env=None):
        self.bin = Path(bin_dir)
        self.work = Path(work)
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        self.ingest_port = free_port()
        self.admin_key = "adm_fault_suite_" + os.urandom(9).hex()
        settings = dict(HERALD_AMQP_URL=amqp_url, HERALD_DATABASE_PATH=self.work / "herald.sqlite",
                        HERALD_INGEST_PORT=self.ingest_port, HERALD_INGEST_URL=f"http://127.0.0.1:{self.ingest_port}",
                        HERALD_ADMIN_KEY=self.admin_key, HERALD_ALLOW_PRIVATE="127.0.0.1/32", HERALD_OPS_PORT=0,
                        HERALD_WORKER_PROCESSES=workers, HERALD_LOG_LEVEL="info")
        settings.update(extra_env or {})
        self.env = clean_environment(**settings)
        self.services = {"ingest": Service("ingest", self.bin / "herald-ingest", self.env, self.work / "logs" / "ingest.log"),
                         "signer": Service("signer", self.bin / "herald-signer", self.env, self.work / "logs" / "signer.log")}
        for i in range(1, workers + 1):
            self.services[f"worker-{i}"] = Service(f"worker-{i}", self.bin / "herald-worker", self.env,
                                                   self.work / "logs" / f"worker-{i}.log")

    # ------------------------------------------------------------ processes
    def ctl(self, *args, timeout=120):
        return subprocess.run([str(self.bin / "heraldctl"), *args], env=self.env, capture_output=True, text=True,
                              errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)

    def apply_topology(self):
        done = self.ctl("topology", "apply")
        if done.returncode != 0:
            raise RuntimeError(f"heraldctl topology apply: {done.stderr.strip()[-300:]}")

    def ready(self):
        try:
            return self.request("GET", "/readyz", None, None, timeout=2)[0] == 200
        except (OSError, HTTPError, http.client.HTTPException):
            return False

    def wait_ready(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.ready():
                return True
            self.services["ingest"].check_exit()
            if not self.services["ingest"].alive():
                break
            time.sleep(0.2)
        raise RuntimeError(f"herald-ingest not ready after {seconds} s:\n" + self.services["ingest"].log_text()[-1500:])

    def start_all(self):
        self.services["ingest"].start()
        self.wait_ready()
        for name, service in self.services.items():
            if name != "ingest":
                service.start()

    def restart(self, name, wait_ready=True):
        self.services[name].start()
        if name == "ingest" and wait_ready:
            self.wait_ready()

    def stop_all(self):
        # Consumers first, so nothing they publish meets a stopped ingest; then signer, ingest.
        order = [n for n in self.services if n.startswith("worker")] + ["signer", "ingest"]
        for name in order:
            self.services[name].stop()

    def check_exits(self):
        for service in self.services.values():
            service.check_exit()
        return {n: s.unexpected_exits for n, s in self.services.items() if s.unexpected_exits}

    def log_count(self, pattern):
        return {n: len(re.findall(pattern, s.log_text())) for n, s in self.services.items()}

    # ------------------------------------------------------------ HTTP API
    def request(self, method, path, key, body, timeout=20, raw=None, content_type="application/json"):
        """(status, parsed JSON or text) of one request; `raw` sends bytes as they are."""
        connection = http.client.HTTPConnection("127.0.0.1", self.ingest_port, timeout=timeout)
        try:
            headers = {"Content-Type": content_type} if (body is not None or raw is not None) else {}
            if key:
                headers["Authorization"] = f"Bearer {key}"
            payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read()
            try:
                return response.status, json.loads(text) if text else None
            except ValueError:
                return response.status, text.decode(errors="replace")
        finally:
            connection.close()

    def api(self, method, path, key, body=None, expect=(200, 201, 202, 204)):
        status, answer = self.request(method, path, key, body)
        if status not in expect:
            raise HTTPError(f"{method} {path}: {status} {str(answer)[:300]}")
        return answer

    def create_account(self, name, account_id=None):
        body = {"name": name}
        if account_id:
            body["id"] = account_id
        return self.api("POST", "/v1/accounts", self.admin_key, body)

    def create_endpoint(self, api_key, url, endpoint_id=None, policy=None, event_types=None, description=None):
        body = {"url": url, "profile": "standard"}
        if endpoint_id:
            body["id"] = endpoint_id
        if policy:
            body["policy"] = policy
        if event_types is not None:
            body["eventTypes"] = event_types
        if description:
            body["description"] = description
        return self.api("POST", "/v1/endpoints", api_key, body)
