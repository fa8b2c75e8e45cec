#!/usr/bin/env python3
"""End-to-end benchmark harness: Herald against Celery and Dramatiq on one broker and one receiver.

Started by Benchmarks/e2e/run.sh, which has already started the private RabbitMQ node, nginx (the
receiver, logging `$msec $http_webhook_id $status` per request) and herald-ingest, and passes
everything through E2E_* variables. This script starts and stops everything else itself
(herald-signer, herald-worker ×k, Celery and Dramatiq workers) and never leaves one running:
every child is in its own session and is stopped in `finally`.

Every wait is bounded in time; every loop in count.
"""
import base64
import http.client
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone

E = os.environ
OUT = E["E2E_OUT"]
BIN = E["E2E_BIN"]
AMQP_PORT = int(E["E2E_AMQP_PORT"])
AMQP_BASE = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}"
NODE = E["E2E_NODE"]
BROKER_PID = int(E["E2E_BROKER_PID"])
INGEST = E["E2E_INGEST_URL"]
INGEST_PID = int(E["E2E_INGEST_PID"])
ADMIN_KEY = E["E2E_ADMIN_KEY"]
DB = E["E2E_DB"]
RECEIVER_URL = E["E2E_RECEIVER_URL"]
WRK_URL = E["E2E_WRK_URL"]
ACCESS_LOG = E["E2E_ACCESS_LOG"]
NGINX_PIDS = [int(p) for p in E["E2E_NGINX_PIDS"].split()]
REFERENCE = E.get("E2E_REFERENCE", "")
HERE = os.path.dirname(os.path.abspath(__file__))
PEERS_DIR = os.path.join(HERE, "peers")

SMOKE = E.get("E2E_SMOKE") == "1"
N = int(E.get("N", "200" if SMOKE else "20000"))
RUNS = int(E.get("RUNS", "1" if SMOKE else "3"))
RATES = [int(r) for r in E.get("RATES", "50" if SMOKE else "200 500 1000 2000").replace(",", " ").split()]
DURATION = float(E.get("DURATION", "3" if SMOKE else "10"))
WORKERS = [int(w) for w in E.get("WORKERS", "1" if SMOKE else "1 2").split()]
PEERS = E.get("PEERS", "0" if SMOKE else "1") == "1"
PEER_N = int(E.get("PEER_N", str(N)))
WRK_SECONDS = int(E.get("WRK_SECONDS", "1" if SMOKE else "5"))
LATENCY_WORKERS = int(E.get("LATENCY_WORKERS", "2"))
EVENT_TYPE = "message.delivered"
CLK = os.sysconf("SC_CLK_TCK")
TOKEN = "%06x" % random.getrandbits(24)
try:
    import pika  # noqa: F401
    HAVE_PIKA = True
except ImportError:
    HAVE_PIKA = False  # event ids are unique per invocation (idempotency window)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes
STARTED = []  # every Popen this script started, stopped in finally


def spawn(name, argv, env=None, cwd=None):
    logf = open(os.path.join(OUT, f"{name}.log"), "ab")
    p = subprocess.Popen(argv, env={**E, **(env or {})}, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    p.e2e_name = name
    STARTED.append(p)
    return p


def stop(procs, grace=30.0):
    """SIGTERM each (its whole session: Celery/Dramatiq children too), SIGKILL what is left after grace."""
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the session of this child (its pid is the pgid)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if p in STARTED:
            STARTED.remove(p)


def tree(pid):
    """pid and its descendants (from /proc/*/stat parent ids)."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                parents.setdefault(int(s.rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def cpu_seconds(pids):
    total = 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK  # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total


def peak_rss_mb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


class Usage:
    """CPU seconds of named process groups between start() and stop(); peak RSS at stop()."""

    def __init__(self, groups):  # name -> function returning the pids now
        self.groups = groups
        self.before = {k: cpu_seconds(f()) for k, f in groups.items()}

    def read(self, delivered):
        out = {}
        for k, f in self.groups.items():
            pids = f()
            cpu = cpu_seconds(pids) - self.before.get(k, 0.0)
            out[k] = {"cpu_s": round(cpu, 3), "cpu_us_per_delivery": round(cpu * 1e6 / max(delivered, 1)),
                      "peak_rss_mb": peak_rss_mb(pids), "processes": len(pids)}
        return out


# ------------------------------------------------------------------ receiver (nginx access log)
class Receiver:
    """Reads the access log incrementally; keeps the arrivals of ids with the current prefix."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.f.seek(0, 2)
        self.rest = b""
        self.prefix = None
        self.arrivals = {}
        self.non200 = 0

    def start(self, prefix):
        self.poll()
        self.prefix = prefix.encode()
        self.arrivals = {}
        self.non200 = 0

    def poll(self):
        data = self.f.read()
        if not data:
            return
        data = self.rest + data
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            parts = line.split()
            if len(parts) < 3 or self.prefix is None or not parts[1].startswith(self.prefix):
                continue
            if parts[2] != b"200":
                self.non200 += 1
                continue
            self.arrivals.setdefault(parts[1].decode(), []).append(float(parts[0]))

    def wait_for(self, ids_count, timeout, settle=1.0):
        """Polls until ids_count distinct ids arrived (then `settle` s more, for duplicates) or timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll()
            if len(self.arrivals) >= ids_count:
                time.sleep(settle)
                self.poll()
                return True
            time.sleep(0.05)
        self.poll()
        return False

    def summary(self, expected_ids):
        arrived = set(self.arrivals)
        dups = sum(len(v) - 1 for v in self.arrivals.values())
        return {"distinct": len(arrived & expected_ids), "missing": len(expected_ids - arrived),
                "duplicates": dups, "unexpected": len(arrived - expected_ids), "non_200": self.non200}


# ------------------------------------------------------------------ Herald
def http_json(method, url, body=None, key=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def setup_herald():
    account = "e2e"
    acct = http_json("POST", f"{INGEST}/v1/accounts", {"id": account, "name": "e2e bench"}, ADMIN_KEY)
    key = acct["apiKey"]
    ep = http_json("POST", f"{INGEST}/v1/endpoints", {"id": "ep_e2e", "url": RECEIVER_URL}, key)
    return account, key, ep["secret"]


def herald_env():
    return {"HERALD_AMQP_URL": AMQP_BASE + "/", "HERALD_DATABASE_PATH": DB, "HERALD_OPS_PORT": "0",
            "HERALD_ALLOW_PRIVATE": "127.0.0.1/32", "HERALD_LOG_LEVEL": "warning"}


def start_herald(workers):
    procs = [spawn("herald-signer", [f"{BIN}/herald-signer"], herald_env())]
    for i in range(workers):
        procs.append(spawn(f"herald-worker-{i + 1}", [f"{BIN}/herald-worker"],
                           {**herald_env(), "HERALD_WORKER_PROCESSES": str(workers)}))
    return procs


def event_body(eid):
    return {"id": eid, "type": EVENT_TYPE,
            "data": {"messageId": eid, "status": "DELIVERED", "recipient": "+15550100"}}


class HttpClient:
    def __init__(self, key):
        host, port = INGEST.split("//")[1].split(":")
        self.c = http.client.HTTPConnection(host, int(port), timeout=30)
        self.h = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def post(self, body):
        for attempt in (1, 2):
            try:
                self.c.request("POST", "/v1/events", body=json.dumps(body).encode(), headers=self.h)
                r = self.c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.c.close()
                if attempt == 2:
                    raise
        if r.status != 202:
            raise RuntimeError(f"ingest answered {r.status}: {data[:200]!r}")

    def close(self):
        self.c.close()


def herald_enqueue_api(key, ids, threads=4):
    """Accepts every id through POST /v1/events in batches of 100 (202 = confirmed by the broker)."""
    batches = [ids[i:i + 100] for i in range(0, len(ids), 100)]
    q = queue.Queue()
    for b in batches:
        q.put(b)
    errors = []

    def run():
        c = HttpClient(key)
        while True:
            try:
                b = q.get_nowait()
            except queue.Empty:
                break
            try:
                c.post({"events": [event_body(i) for i in b]})
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(repr(e))
        c.close()

    ts = [threading.Thread(target=run) for _ in range(threads)]
    [t.start() for t in ts]
    [t.join(timeout=600) for t in ts]
    if errors:
        raise RuntimeError(f"{len(errors)} batches refused, first: {errors[0]}")


class PikaPlatform:
    """A platform publishing straight to herald.events: Herald's wire form, persistent, mandatory, confirmed."""

    def __init__(self, account):
        import pika
        self.pika = pika
        self.account = account
        self.conn = pika.BlockingConnection(pika.URLParameters(AMQP_BASE + "/%2F"))
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()

    def send(self, eid):
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        body = {"kind": "herald.event", "v": 1, "id": eid, "type": EVENT_TYPE, "account": self.account,
                "occurredAt": now, "data": event_body(eid)["data"]}
        props = self.pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=eid,
                                          type=EVENT_TYPE, app_id="e2e-platform",
                                          headers={"herald-account": self.account})
        # BlockingChannel with confirms: returns once the broker confirmed; raises if unroutable/nacked.
        self.ch.basic_publish("herald.events", EVENT_TYPE, json.dumps(body, separators=(",", ":")).encode(),
                              props, mandatory=True)

    def close(self):
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------ peers
def peer_env():
    return {"E2E_CELERY_BROKER": AMQP_BASE + "/celery", "E2E_DRAMATIQ_BROKER": AMQP_BASE + "/dramatiq",
            "PYTHONPATH": PEERS_DIR}


def import_peers():
    os.environ.update(peer_env())
    sys.path.insert(0, PEERS_DIR)
    import celery_app
    import dramatiq_app
    return celery_app, dramatiq_app


def start_peer(name):
    venv_bin = os.path.dirname(sys.executable)
    if name == "celery":
        argv = [f"{venv_bin}/celery", "-A", "celery_app", "worker", "-P", "prefork", "-c", "2", "-l", "warning"]
    else:
        argv = [f"{venv_bin}/dramatiq", "-p", "2", "-t", "8", "dramatiq_app"]
    return [spawn(name, argv, peer_env(), cwd=PEERS_DIR)]


# ------------------------------------------------------------------ open loop
def open_loop(rate, duration, make_sender, threads, prefix):
    """Offers rate events/s for duration s from `threads` senders; the send time of each event is
    its scheduled time (so a sender that falls behind shows up as latency, not as a lower rate)."""
    n = max(1, int(rate * duration))
    q = queue.Queue()
    sched = {}
    stats = {"sent": 0, "failed": 0, "unsent": 0, "errors": []}
    lock = threading.Lock()
    hard_deadline = time.time() + duration + 30

    def sender():
        try:
            s = make_sender()
        except Exception as e:  # noqa: BLE001
            with lock:
                stats["errors"].append(repr(e))
            s = None
        while True:
            item = q.get()
            if item is None:
                break
            if s is None or time.time() > hard_deadline:
                with lock:
                    stats["unsent"] += 1
                continue
            try:
                s.send(item)
                with lock:
                    stats["sent"] += 1
            except Exception as e:  # noqa: BLE001
                with lock:
                    stats["failed"] += 1
                    if len(stats["errors"]) < 5:
                        stats["errors"].append(repr(e))
        if s is not None:
            s.close()

    ts = [threading.Thread(target=sender, daemon=True) for _ in range(threads)]
    [t.start() for t in ts]
    t0 = time.time() + 0.5
    for i in range(n):
        at = t0 + i / rate
        delay = at - time.time()
        if delay > 0.001:
            time.sleep(delay)
        eid = f"{prefix}-{i:07d}"
        sched[eid] = at
        q.put(eid)
    for _ in ts:
        q.put(None)
    for t in ts:
        t.join(timeout=max(0.1, hard_deadline + 10 - time.time()))
    stats["send_seconds"] = round(time.time() - t0, 2)
    return sched, stats


def percentiles(xs):
    if not xs:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    xs = sorted(xs)

    def p(q):
        return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)
    return {"p50_ms": p(0.50), "p90_ms": p(0.90), "p99_ms": p(0.99), "max_ms": round(xs[-1] * 1000, 1)}


# ------------------------------------------------------------------ phases
def long_lived_groups():
    return {"herald-ingest": lambda: [INGEST_PID], "rabbitmq": lambda: tree(BROKER_PID),
            "nginx": lambda: NGINX_PIDS}


def drain(system, rx, run, enqueue, start, n, workers=None):
    """Enqueue n events with the consumers stopped, start them, time until the receiver has all."""
    prefix = f"{TOKEN}-r{run}-drain-{system}{workers or ''}"
    ids = [f"{prefix}-{i:07d}" for i in range(n)]
    rx.start(prefix)
    t = time.time()
    enqueue(ids)
    enqueue_s = time.time() - t
    log(f"  {system}{'' if workers is None else f' x{workers}'}: {n} queued in {enqueue_s:.1f} s; starting consumers")
    usage = Usage(long_lived_groups())
    t0 = time.time()
    procs = start()
    try:
        done = rx.wait_for(n, timeout=60 + n / 50)
        arrivals = sorted(min(v) for k, v in rx.arrivals.items())
        for p in procs:  # started in this phase: all their CPU counts
            usage.groups[p.e2e_name] = (lambda pid: (lambda: tree(pid)))(p.pid)
        summary = rx.summary(set(ids))
        use = usage.read(summary["distinct"])
    finally:
        stop(procs)
    first, last = (arrivals[0], arrivals[-1]) if arrivals else (t0, t0)
    res = {"system": system, "workers": workers, "n": n, "run": run, "complete": done,
           "enqueue_s": round(enqueue_s, 2), "enqueue_per_s": round(n / max(enqueue_s, 1e-9)),
           "seconds": round(last - t0, 2), "per_second": round(summary["distinct"] / max(last - t0, 1e-9)),
           "startup_s": round(first - t0, 2),
           "steady_per_second": round((len(arrivals) - 1) / max(last - first, 1e-9)) if len(arrivals) > 1 else 0,
           **summary, "usage": use}
    log(f"  -> {res['per_second']} deliveries/s ({res['steady_per_second']}/s first to last), "
        f"missing {res['missing']}, duplicates {res['duplicates']}")
    return res


def latency(system, rx, run, rate, make_sender, threads):
    prefix = f"{TOKEN}-r{run}-lat{rate}-{system}"
    rx.start(prefix)
    sched, stats = open_loop(rate, DURATION, make_sender, threads, prefix)
    rx.wait_for(len(sched), timeout=15 + DURATION, settle=0.5)
    lat = [min(v) - sched[k] for k, v in rx.arrivals.items() if k in sched]
    summary = rx.summary(set(sched))
    res = {"system": system, "rate": rate, "run": run, "offered": len(sched), "arrived": summary["distinct"],
           "duplicates": summary["duplicates"], "sent": stats["sent"], "failed": stats["failed"],
           "unsent": stats["unsent"], "send_seconds": stats["send_seconds"],
           "achieved_per_s": round(len(sched) / max(stats["send_seconds"], 1e-9)), "errors": stats["errors"][:3],
           **percentiles(lat)}
    log(f"  {system} @{rate}/s: {res['arrived']}/{res['offered']} arrived, p50 {res['p50_ms']} ms, "
        f"p99 {res['p99_ms']} ms, max {res['max_ms']} ms" + (f", {res['failed']} failed" if res['failed'] else ""))
    return res


def warm_up(system, rx, run, make_sender):
    """A few events through a freshly started system, so the measured rates do not include startup."""
    prefix = f"{TOKEN}-r{run}-warm-{system}"
    rx.start(prefix)
    s = make_sender()
    for i in range(5):
        s.send(f"{prefix}-{i}")
    s.close()
    if not rx.wait_for(5, timeout=60, settle=0.1):
        raise RuntimeError(f"{system}: warm-up events did not arrive within 60 s (see {OUT}/*.log)")


def parallel(ids, send, threads=4):
    """send(id) for every id from `threads` threads (the peers' enqueue: their publish is not confirmed)."""
    errors = []

    def run(part):
        for i in part:
            try:
                send(i)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
    ts = [threading.Thread(target=run, args=(ids[k::threads],)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join(timeout=600) for t in ts]
    if errors:
        raise RuntimeError(f"{len(errors)} enqueues failed, first: {errors[0]}")


class CelerySender:
    def __init__(self, mod):
        self.task = mod.deliver

    def send(self, eid):
        d = event_body(eid)
        self.task.apply_async((eid, EVENT_TYPE, datetime.now(timezone.utc).isoformat(), d["data"]))

    def close(self):
        pass


class DramatiqSender(CelerySender):
    def send(self, eid):
        d = event_body(eid)
        self.task.send(eid, EVENT_TYPE, datetime.now(timezone.utc).isoformat(), d["data"])


class HttpSender:
    def __init__(self, key):
        self.c = HttpClient(key)

    def send(self, eid):
        self.c.post(event_body(eid))

    def close(self):
        self.c.close()


PURGE = {"herald": [("/", "herald.sign"), ("/", "herald.deliver")], "celery": [("celery", "celery")],
         "dramatiq": [("dramatiq", "e2e")]}


def purge(system):
    for vhost, q in PURGE[system]:
        subprocess.run(["rabbitmqctl", "-n", NODE, "purge_queue", "-p", vhost, q], capture_output=True, timeout=60)
    log(f"  purged what {system} had left queued")
    time.sleep(2)


def ceilings(run):
    out = {}
    if REFERENCE:
        count = max(1000, min(N, 20000))
        r = subprocess.run([REFERENCE, "127.0.0.1", str(AMQP_PORT), f"e2e.ceiling.{TOKEN}.{run}", str(count), "1000",
                            "500", "400"], capture_output=True, text=True, timeout=300)
        for line in r.stdout.splitlines():
            f = dict(x.split("=", 1) for x in line.split()[1:])
            if f.get("phase") in ("publish", "consume"):
                out[f"broker_{f['phase']}_per_s"] = float(f["rate"])
        subprocess.run(["rabbitmqctl", "-n", NODE, "delete_queue", f"e2e.ceiling.{TOKEN}.{run}"],
                       capture_output=True, timeout=60)
    lua = os.path.join(OUT, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = \'{"type":"message.delivered","timestamp":"2026-01-01T00:00:00Z",'
                '"data":{"messageId":"msg_1","status":"DELIVERED"}}\'\nwrk.headers["Content-Type"] = "application/json"\n')
    r = subprocess.run(["wrk", "-t2", "-c64", f"-d{WRK_SECONDS}s", "-s", lua, WRK_URL], capture_output=True,
                       text=True, timeout=WRK_SECONDS + 60)
    for line in r.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            out["wrk_per_s"] = float(line.split()[1])
    log(f"  ceilings: {out}")
    return out


def save(results):
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    # SIGTERM (timeout, run.sh's caller) unwinds like Ctrl-C, so `finally` stops every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(OUT, exist_ok=True)
    results = {"settings": {"N": N, "PEER_N": PEER_N, "RUNS": RUNS, "RATES": RATES, "DURATION": DURATION,
                            "WORKERS": WORKERS, "PEERS": PEERS, "LATENCY_WORKERS": LATENCY_WORKERS,
                            "smoke": SMOKE, "herald_bin": BIN},
               "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "loadavg_start": open("/proc/loadavg").read().split()[:3],
               "drain": [], "latency": [], "ceilings": []}
    rx = Receiver(ACCESS_LOG)
    account, key, secret = setup_herald()
    os.environ["E2E_SECRET"] = secret  # the peers sign with the same kind of secret as the Herald endpoint
    E["E2E_SECRET"] = secret
    peers = None
    if PEERS:
        for vhost in ("celery", "dramatiq"):
            subprocess.run(["rabbitmqctl", "-n", NODE, "add_vhost", vhost], capture_output=True, timeout=60)
            subprocess.run(["rabbitmqctl", "-n", NODE, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                           capture_output=True, timeout=60, check=True)
        peers = import_peers()

    def herald_api_enqueue(ids):
        herald_enqueue_api(key, ids)

    try:
        for run in range(1, RUNS + 1):
            log(f"run {run}/{RUNS} (load average {open('/proc/loadavg').read().split()[0]})")
            results.setdefault("loadavg_runs", []).append(open("/proc/loadavg").read().split()[:3])
            # Interleaved: the order of the systems rotates from run to run.
            drains = [("herald", w) for w in WORKERS]
            if PEERS:
                drains += [("celery", None), ("dramatiq", None)]
            k = (run - 1) % len(drains)
            for system, w in drains[k:] + drains[:k]:
                if system == "herald":
                    r = drain("herald", rx, run, herald_api_enqueue, lambda w=w: start_herald(w), N, w)
                elif system == "celery":
                    r = drain("celery", rx, run, lambda ids: parallel(ids, CelerySender(peers[0]).send),
                              lambda: start_peer("celery"), PEER_N)
                else:
                    r = drain("dramatiq", rx, run, lambda ids: parallel(ids, DramatiqSender(peers[1]).send),
                              lambda: start_peer("dramatiq"), PEER_N)
                results["drain"].append(r)
            # Open-loop latency: each system's consumers run for all its rates, then stop.
            systems = ["herald"] + (["celery", "dramatiq"] if PEERS else [])
            k = (run - 1) % len(systems)
            for system in systems[k:] + systems[:k]:
                if system == "herald":
                    procs = start_herald(LATENCY_WORKERS)
                    senders = [("herald-http", lambda: HttpSender(key), 64)]
                    if HAVE_PIKA:
                        senders.append(("herald-amqp", lambda: PikaPlatform(account), 32))
                    else:
                        log("  pika is not installed: no platform publishing to herald.events")
                elif system == "celery":
                    procs = start_peer("celery")
                    senders = [("celery", lambda: CelerySender(peers[0]), 4)]
                else:
                    procs = start_peer("dramatiq")
                    senders = [("dramatiq", lambda: DramatiqSender(peers[1]), 4)]
                try:
                    for name, make, _ in senders:
                        warm_up(name, rx, run, make)
                    saturated = set()
                    for rate in RATES:
                        order = senders if rate % 2 == 0 or len(senders) == 1 else senders[::-1]
                        for name, make, threads in order:
                            if name in saturated:
                                # Bounded time: a system that fell behind at a lower rate is not
                                # offered more in this run (recorded, shown in the table).
                                results["latency"].append({"system": name, "rate": rate, "run": run,
                                                           "skipped": "saturated at a lower rate"})
                                continue
                            x = latency(name, rx, run, rate, make, threads)
                            results["latency"].append(x)
                            if x["arrived"] < x["offered"]:
                                purge(system)  # what is left must not load the next phase
                            if x["arrived"] < 0.9 * x["offered"]:
                                saturated.add(name)
                finally:
                    stop(procs)
            results["ceilings"].append(ceilings(run))
            save(results)  # after every run: a run cut short still leaves the runs before it
        # What the queues really were (type, durability, arguments), for the record.
        results["queues"] = {}
        for vhost in ["/"] + (["celery", "dramatiq"] if PEERS else []):
            q = subprocess.run(["rabbitmqctl", "-n", NODE, "list_queues", "-p", vhost, "--no-table-headers", "-q",
                                "name", "type", "durable", "arguments"], capture_output=True, text=True, timeout=60)
            results["queues"][vhost] = q.stdout.strip().splitlines()
    finally:
        stop(list(STARTED))
        results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        save(results)
    import report
    ok = report.main(os.path.join(OUT, "results.json"))
    # One line for scripts/test.sh (and a reader in a hurry).
    d = results["drain"][0]
    lat = [x for x in results["latency"] if "skipped" not in x]
    print(f"E2E-SUMMARY: {'every event exactly once' if ok else 'EVENTS MISSING OR DUPLICATED'}; {len(results['drain'])} drain(s), first: {d['system']} "
          f"{d['distinct']}/{d['n']} delivered at {d['per_second']}/s, {d['missing']} missing, {d['duplicates']} "
          f"duplicate(s); {len(lat)} latency phase(s), " + ", ".join(
              f"{x['system']}@{x['rate']}/s {x['arrived']}/{x['offered']} p50 {x['p50_ms']} ms" for x in lat[:3]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
