"""The scenarios and the run of one: fresh vhost, store and services; a target account (the fault's
victim, its endpoint subscribed to every event type) and a bystander account (its own healthy
endpoint, `message.*`); paced load on both while the fault happens; then drain and reconcile."""
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from .herald import Herald, HTTPError
from .ledger import Reconciliation, read_dead_letters
from .load import Load
from .receiver import Receiver

# Short policies so that a job that keeps failing is dead-lettered within the scenario.
TARGET_POLICY = {"timeoutMs": 2000, "connectTimeoutMs": 1000, "delaysSeconds": [1, 1, 5, 5], "maxAttempts": 5}
BYSTANDER_POLICY = {"timeoutMs": 5000, "connectTimeoutMs": 2000, "delaysSeconds": [1, 1, 5, 5, 30], "maxAttempts": 6}
HANG_SECONDS = 3.5  # past TARGET_POLICY's 2 s timeout
LONG_ID = 128  # the API's maximum identifier length
WORK_QUEUES_PREFIX = ("herald.sign", "herald.deliver", "herald.resign", "herald.attempts", "herald.retry.")
SERVICE_ENV = {"HERALD_WORKER_BREAKER_COOLDOWN": "5s"}


@dataclass
class Form:
    name: str
    target_events: int
    target_rate: float
    bystander_events: int
    bystander_rate: float
    drain_timeout: float
    kills: int
    long_id_events: int


SHORT = Form("short", target_events=200, target_rate=40, bystander_events=50, bystander_rate=10,
             drain_timeout=40, kills=1, long_id_events=20)
LONG = Form("long", target_events=2000, target_rate=50, bystander_events=500, bystander_rate=12.5,
            drain_timeout=120, kills=3, long_id_events=100)


@dataclass
class Scenario:
    name: str
    faults: str
    fault: Callable
    setup: Optional[Callable] = None
    broker_fault: bool = False  # reconnects are expected
    cluster: bool = False
    short: bool = True
    notes: list = field(default_factory=list)
    env: dict = field(default_factory=dict)  # settings for this scenario's services, over SERVICE_ENV


class Context:
    def __init__(self, suite, scenario, node, herald, form):
        self.suite = suite
        self.scenario = scenario
        self.node = node
        self.herald = herald
        self.form = form
        self.receivers = {}
        self.accounts = {}
        self.endpoints = {}
        self.windows = []
        self.extra_expected = {}  # (endpoint id, event id) -> accepted time, for events sent outside Load
        self.checks = []  # (ok, text) of the scenario's own checks
        self.notes = list(scenario.notes)
        self.load = None
        self.load_started = None
        self.stop = threading.Event()
        self.extra_events = 0
        self.routes = {}  # load stream -> [(endpoint id, wants(event type))]
        self.timings = {}

    def sleep_until(self, offset):
        delay = self.load_started + offset - time.time()
        if delay > 0:
            self.stop.wait(delay)

    def window(self, start, end):
        self.windows.append((start, end))

    def check(self, ok, text):
        self.checks.append((bool(ok), text))


# ---------------------------------------------------------------- faults

def kill_service(name):
    def fault(ctx):
        kills = ctx.form.kills
        span = ctx.form.target_events / ctx.form.target_rate
        for k in range(kills):
            ctx.sleep_until(1.5 + k * max(3.0, (span - 3) / max(1, kills)))
            start = time.time()
            ctx.herald.services[name].kill()
            time.sleep(1.0)
            ctx.herald.restart(name)
            ctx.window(start, time.time())
    return fault


def broker_restart(ctx):
    for k in range(1 if ctx.form.name == "short" else 2):
        ctx.sleep_until(1.5 + k * 20)
        start = time.time()
        try:
            ctx.node.ctl("stop_app")
            time.sleep(3)
        finally:
            ctx.node.ctl("start_app")  # even if stop_app failed: never leave the broker stopped
        ctx.node.await_startup()
        ctx.window(start, time.time())


def memory_alarm(ctx):
    for k in range(1 if ctx.form.name == "short" else 2):
        ctx.sleep_until(1.5 + k * 20)
        start = time.time()
        try:
            ctx.node.ctl("set_vm_memory_high_watermark", "0.0000001")
            time.sleep(5)
        finally:
            ctx.node.ctl("set_vm_memory_high_watermark", "0.4")
        ctx.window(start, time.time())


def receiver_mode(mode, seconds, long_seconds=None):
    def fault(ctx):
        rx = ctx.receivers["target"]
        ctx.sleep_until(1.5)
        start = time.time()
        try:
            rx.set_mode(mode)
            ctx.stop.wait(long_seconds if long_seconds and ctx.form.name == "long" else seconds)
        finally:
            rx.set_mode("ok")
        ctx.window(start, time.time())
    return fault


def cluster_node_kill(ctx):
    victim = ctx.suite.cluster.nodes[1]
    for k in range(1):
        ctx.sleep_until(3 + k * 25)
        try:
            leaders = ctx.node.ctl("list_queues", "-p", ctx.vhost, "name", "leader", "--no-table-headers", "--quiet")
            led = [line.split()[0] for line in leaders.splitlines() if victim.nodename in line]
            ctx.notes.append(f"{len(led)} quorum queues led by the killed node")
        except Exception as error:
            ctx.notes.append(f"leaders not listed: {str(error)[:80]}")
        start = time.time()
        pid = victim.kill9()
        ctx.notes.append(f"kill -9 of {victim.nodename} (beam pid {pid})")
        time.sleep(5)
        victim.start()
        ctx.window(start, time.time())


# ---------------------------------------------------------------- poison

def long_id(prefix):
    return (prefix + uuid.uuid4().hex * 5)[:LONG_ID]


def setup_long_ids(ctx):
    """An account, two endpoints and (later) events whose ids are all 128 bytes, the API's maximum:
    one endpoint healthy, one answering 500 (so its jobs retry and are dead-lettered)."""
    herald = ctx.herald
    account = herald.create_account("long ids", account_id=long_id("acct_"))
    ctx.accounts["long"] = account
    for label, mode in (("long-ok", "ok"), ("long-500", "500")):
        rx = Receiver(label, hang_seconds=HANG_SECONDS)
        ctx.receivers[label] = rx
        ep = herald.create_endpoint(account["apiKey"], rx.url, endpoint_id=long_id(f"ep_{label}_"),
                                    policy={"timeoutMs": 2000, "delaysSeconds": [1, 1], "maxAttempts": 3},
                                    event_types=["message.*"])
        rx.secret, rx.endpoint_id, rx.event_types = ep["secret"], ep["id"], ["message.*"]
        ctx.endpoints[label] = ep["id"]
        rx.set_mode(mode)


def send_long_id_events(ctx):
    key = ctx.accounts["long"]["apiKey"]
    accepted = 0
    for i in range(ctx.form.long_id_events):
        event_id = long_id(f"evt_{i}_")
        status, answer = ctx.herald.request("POST", "/v1/events", key, {"id": event_id, "type": "message.failed",
                                                                        "data": {"recipient": "9818000000", "n": i}})
        if status == 202:
            accepted += 1
            for label in ("long-ok", "long-500"):
                ctx.extra_expected[(ctx.endpoints[label], event_id)] = time.time()
        else:
            ctx.check(False, f"a valid event with a 128-byte id was answered {status}: {str(answer)[:120]}")
    ctx.extra_events += accepted
    return accepted


def nested(depth):
    return "[" * depth + "]" * depth


def poison_api(ctx):
    """Garbage, invalid UTF-8, huge and deeply nested JSON, over-long ids, to the HTTP API."""
    herald = ctx.herald
    key = ctx.accounts["target"]["apiKey"]
    ep = ctx.endpoints["target"]
    ctx.sleep_until(1.0)
    start = time.time()
    cases = [
        ("garbage", b"\x00\x01garbage{{{", "application/json", (400,)),
        ("invalid UTF-8 body", b'{"type":"message.delivered","data":{"x":"\xff\xfe\xfd"}}', "application/json", (400, 422)),
        ("invalid UTF-8 id", b'{"id":"evt_\xc3\x28","type":"message.delivered"}', "application/json", (400, 422)),
        ("huge (300 KB)", json.dumps({"type": "message.delivered", "data": {"x": "y" * 300_000}}).encode(),
         "application/json", (413,)),
        ("nested 100000 deep", nested(100_000).encode(), "application/json", (400, 422)),
        ("nested 100000 deep in data", ('{"type":"message.delivered","data":{"x":' + nested(100_000) + "}}").encode(),
         "application/json", (400, 413, 422)),
        ("batch of 1001", json.dumps({"events": [{"type": "message.delivered"}] * 1001}).encode(),
         "application/json", (422,)),
        ("129-byte event id", json.dumps({"id": "e" * 129, "type": "message.delivered"}).encode(), "application/json", (422,)),
        ("300-byte event type", json.dumps({"type": "a" * 300}).encode(), "application/json", (422,)),
        ("not JSON content type", b"type=message.delivered", "application/x-www-form-urlencoded", (415,)),
        ("unknown field", json.dumps({"type": "message.delivered", "evil": True}).encode(), "application/json", (422,)),
        ("NUL in type", json.dumps({"type": "message.\u0000delivered"}).encode(), "application/json", (422,)),
    ]
    bad = []
    for what, raw, content_type, allowed in cases:
        try:
            status, answer = herald.request("POST", "/v1/events", key, None, raw=raw, content_type=content_type)
        except Exception as error:
            bad.append(f"{what}: no answer ({type(error).__name__})")
            continue
        if status not in allowed:
            bad.append(f"{what}: {status} (expected {'/'.join(map(str, allowed))})")
    # Deep but plausible nesting inside data: either refused (4xx) or accepted and then delivered.
    for depth in (64, 512, 5000):
        event_id = f"evt_deep_{depth}_{uuid.uuid4().hex[:8]}"
        body = '{"id":"%s","type":"message.delivered","data":{"x":%s}}' % (event_id, nested(depth))
        try:
            status, answer = herald.request("POST", "/v1/events", key, None, raw=body.encode())
        except Exception as error:
            bad.append(f"data nested {depth} deep: no answer ({type(error).__name__})")
            continue
        if status == 202:
            ctx.extra_expected[(ep, event_id)] = time.time()
            ctx.extra_events += 1
        elif not 400 <= status < 500:
            bad.append(f"data nested {depth} deep: {status}")
    # Over-long ids at the API's maximum: an account, endpoints and events of 128-byte ids.
    accepted = send_long_id_events(ctx)
    ctx.window(start, time.time())
    ctx.check(not bad, f"poison answers: {'; '.join(bad)}" if bad else "poison answers all 4xx")
    ctx.notes.append(f"{len(cases) + 3} poison requests; {accepted} events with 128-byte ids "
                     f"(account and endpoint ids of 128 bytes too, one endpoint answering 500)")
    ctx.check(herald.ready(), "herald-ingest ready after the poison")


def poison_queues(ctx):
    """Garbage, invalid UTF-8, huge and deeply nested JSON and over-long ids straight onto herald.events,
    herald.deliver, herald.resign and herald.attempts (pika, publisher confirms)."""
    try:
        import pika
    except ImportError:
        ctx.check(False, "pika is not installed (pip install pika)")
        return
    ctx.sleep_until(1.0)
    start = time.time()
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    sink = ctx.receivers["sink"]
    target_account = ctx.accounts["target"]["id"]
    long_event, long_endpoint, long_account = long_id("evt_q_"), long_id("ep_q_"), long_id("acct_q_")

    def event(event_id, account, data=None):
        return {"kind": "herald.event", "v": 1, "id": event_id, "type": "message.failed", "account": account,
                "occurredAt": now, "data": data or {"recipient": "9818000000"}}

    def job(event_id, endpoint_id, url, attempt=1):
        return {"kind": "herald.delivery", "v": 1, "endpointId": endpoint_id, "url": url, "profile": "standard",
                "attempt": attempt, "firstAttemptAt": now, "signedAt": now,
                "policy": {"timeoutMs": 2000, "connectTimeoutMs": 1000, "delaysSeconds": [1, 1], "maxAttempts": 3,
                           "retryOn": ["serverError", "timeout", "connectionError"]},
                "headers": [["webhook-id", event_id], ["content-type", "application/json"]],
                "body": json.dumps({"type": "message.failed", "data": {}}),
                "event": event(event_id, target_account)}

    def attempt(event_id, endpoint_id, outcome):
        return {"kind": "herald.attempt", "v": 1, "eventId": event_id, "endpointId": endpoint_id, "attempt": 3,
                "at": now, "outcome": outcome, "statusCode": 500, "latencyMs": 5, "error": "poison",
                "responseSnippet": None, "url": sink.url, "nextAttemptAt": None}

    garbage = [("garbage", b"\x00\xff\xfe garbage"), ("invalid UTF-8", b'{"kind":"herald.event","v":1,"id":"\xff\xfe"}'),
               ("huge 2 MB", json.dumps({"kind": "herald.event", "v": 1, "pad": "x" * 2_000_000}).encode()),
               ("nested 200000 deep", nested(200_000).encode()), ("empty", b""), ("JSON null", b"null")]
    targets = {
        "herald.events": ("herald.events", "message.failed", [
            ("event, 128-byte id and account", json.dumps(event(long_event, long_account)).encode()),
            ("event, 128-byte id, nested data", json.dumps(event(long_id("evt_qn_"), target_account)).encode()[:-2]
             + b',"deep":' + nested(50_000).encode() + b"}}"),
        ]),
        "herald.deliver": ("herald.deliveries", "deliver", [
            ("job, 128-byte event and endpoint ids, receiver 401", json.dumps(job(long_event, long_endpoint, sink.url)).encode()),
            ("job, 128-byte ids, receiver down", json.dumps(job(long_id("evt_qd_"), long_id("ep_qd_"),
                                                                "http://127.0.0.1:9/")).encode()),
        ]),
        "herald.resign": ("herald.resign", "resign", [
            ("job, 128-byte ids, unknown endpoint", json.dumps(job(long_event, long_endpoint, sink.url, 2)).encode()),
        ]),
        "herald.attempts": ("herald.attempts", "attempt", [
            ("attempt, 128-byte ids, dead", json.dumps(attempt(long_event, long_endpoint, "dead")).encode()),
            ("attempt, dead, about the target's endpoint", json.dumps(attempt("evt_q_forged", ctx.endpoints["target"],
                                                                              "dead")).encode()),
        ]),
    }
    published, refused = 0, []
    connection = pika.BlockingConnection(pika.URLParameters(ctx.herald.env["HERALD_AMQP_URL"] + "?heartbeat=0"))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for queue, (exchange, key, specific) in targets.items():
            for what, body in garbage + specific:
                try:
                    channel.basic_publish(exchange, key, body, mandatory=True,
                                          properties=pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                                                          message_id=f"poison-{uuid.uuid4().hex[:8]}"))
                    published += 1
                except Exception as error:
                    refused.append(f"{queue} {what}: {type(error).__name__}")
                    if channel.is_closed:
                        channel = connection.channel()
                        channel.confirm_delivery()
    finally:
        try:
            connection.close()
        except Exception:
            pass
    ctx.window(start, time.time())
    ctx.notes.append(f"{published} poison messages published to 4 queues" + (f"; refused: {refused}" if refused else ""))
    ctx.check(published > 0, f"poison published: {published}")


def setup_exhaust(ctx):
    """A second endpoint on the target account that answers 500 to everything, takes only
    `message.expired` (a few events) and names `attempt.exhausted`: its jobs are dead-lettered after
    one attempt (too few to open its circuit), each dead letter announces an `attempt.exhausted`
    for the account, and none of those may come back to this endpoint (it is what they are about)."""
    rx = Receiver("exhaust")
    ctx.receivers["exhaust"] = rx
    types = ["message.expired", "attempt.exhausted"]
    ep = ctx.herald.create_endpoint(ctx.accounts["target"]["apiKey"], rx.url, event_types=types,
                                    policy={"timeoutMs": 2000, "delaysSeconds": [], "maxAttempts": 1},
                                    description="exhausts at once")
    rx.secret, rx.endpoint_id, rx.event_types = ep["secret"], ep["id"], types
    ctx.endpoints["exhaust"] = ep["id"]
    ctx.routes["target"].append((ep["id"], lambda t: t == "message.expired"))
    rx.set_mode("500")


def setup_sink(ctx):
    ctx.receivers["sink"] = Receiver("sink")  # no secret: every verification fails, answered 401


def poison_api_setup(ctx):
    setup_long_ids(ctx)


SCENARIOS = [
    Scenario("baseline", "none", lambda ctx: None, short=False),
    Scenario("kill-ingest", "SIGKILL herald-ingest, restart after 1 s", kill_service("ingest"), short=False),
    Scenario("kill-signer", "SIGKILL herald-signer, restart after 1 s", kill_service("signer")),
    Scenario("kill-worker", "SIGKILL worker 1 of 2, restart after 1 s", kill_service("worker-1")),
    Scenario("broker-restart", "rabbitmqctl stop_app, 3 s, start_app", broker_restart, broker_fault=True),
    Scenario("memory-alarm", "vm_memory_high_watermark 0.0000001 for 5 s", memory_alarm, broker_fault=True),
    # The long-id endpoint answering 500 must spend its 3 attempts within the scenario; with the
    # circuit breaker on, its jobs would wait out doubling cool-downs (by design) past the drain.
    Scenario("poison-api", "garbage, invalid UTF-8, huge, nested JSON, 128-byte ids to the API",
             poison_api, setup=poison_api_setup, env={"HERALD_WORKER_BREAKER_THRESHOLD": "1000"}),
    Scenario("poison-queues", "garbage, invalid UTF-8, huge, nested JSON, 128-byte ids onto 4 queues",
             poison_queues, setup=setup_sink),
    Scenario("receiver-hang", f"target receiver hangs {HANG_SECONDS} s per request (timeout 2 s) for 6 s",
             receiver_mode("hang", 6)),
    Scenario("receiver-down", "target receiver not listening for 8 s", receiver_mode("down", 8), short=False),
    Scenario("receiver-flap", "target receiver up/down every 1 s for 10 s", receiver_mode("flap", 10), short=False),
    Scenario("receiver-500", "target receiver answers 500 for 5 s (20 s long); a second endpoint of the account "
             "answers 500 to `message.expired` and subscribes to `attempt.exhausted` (dead letters)",
             receiver_mode("500", 5, long_seconds=20), setup=setup_exhaust,
             # The second endpoint fails every delivery: with the breaker on, its one-attempt jobs
             # wait out doubling cool-downs (2 min tiers in the long form) past the drain.
             env={"HERALD_WORKER_BREAKER_THRESHOLD": "1000"}),
    Scenario("cluster-node-kill", "3-node cluster, kill -9 one node's beam (leaders balanced), restart after 5 s",
             cluster_node_kill, broker_fault=True, cluster=True, short=False,
             notes=["services connect to node 1 only (HERALD_AMQP_URL takes one address); failover across nodes is issue 13"]),
]


def scenario_kills(sc, form):
    if sc.name.startswith("kill-"):
        return f"{sc.faults} (x{form.kills})"
    if sc.name in ("broker-restart", "memory-alarm"):
        return f"{sc.faults} (x{1 if form.name == 'short' else 2})"
    return sc.faults


# ---------------------------------------------------------------- one run

class Result:
    def __init__(self, name):
        self.name = name
        self.ok = False
        self.line = ""
        self.row = {}
        self.failures = []


def run_scenario(suite, sc, form, node):
    result = Result(sc.name)
    vhost = f"faults-{sc.name}"
    work = suite.work / sc.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    node.add_vhost(vhost)
    herald = Herald(suite.bin, node.amqp_url(vhost), work, workers=2, extra_env={**SERVICE_ENV, **sc.env})
    ctx = Context(suite, sc, node, herald, form)
    ctx.vhost = vhost
    suite.current = ctx
    started = time.time()
    try:
        herald.apply_topology()
        if sc.cluster:
            done = node.queues_ctl("rebalance", "quorum", "--vhost-pattern", vhost)
            ctx.notes.append("quorum leaders rebalanced across the 3 nodes" if done.returncode == 0
                             else f"rebalance failed: {done.stderr.strip()[-120:]}")
        herald.start_all()
        # The target: every event type (so operational events about it could reach it: they must not).
        target = herald.create_account("fault target")
        rx = Receiver("target", hang_seconds=HANG_SECONDS)
        ctx.receivers["target"] = rx
        ep = herald.create_endpoint(target["apiKey"], rx.url, policy=TARGET_POLICY, description="fault target")
        rx.secret, rx.endpoint_id = ep["secret"], ep["id"]
        ctx.accounts["target"], ctx.endpoints["target"] = target, ep["id"]
        ctx.routes["target"] = [(ep["id"], lambda t: True)]
        bystander = herald.create_account("bystander")
        brx = Receiver("bystander")
        ctx.receivers["bystander"] = brx
        bep = herald.create_endpoint(bystander["apiKey"], brx.url, policy=BYSTANDER_POLICY, event_types=["message.*"],
                                     description="bystander")
        brx.secret, brx.endpoint_id, brx.event_types = bep["secret"], bep["id"], ["message.*"]
        ctx.accounts["bystander"], ctx.endpoints["bystander"] = bystander, bep["id"]
        ctx.routes["bystander"] = [(bep["id"], lambda t: t.startswith("message."))]
        if sc.setup:
            sc.setup(ctx)

        run_id = uuid.uuid4().hex[:6]
        def events(tag, n):
            statuses = ["DELIVERED", "SENT", "FAILED", "UNDELIVERED"]
            return [{"id": f"evt_{sc.name}_{run_id}_{tag}_{i}",
                     "type": "message.expired" if i % 50 == 25 else f"message.{statuses[i % 4].lower()}",
                     "data": {"messageId": f"msg_{i}", "recipient": "9818000000", "status": statuses[i % 4], "n": i}}
                    for i in range(n)]
        load = Load(herald.ingest_port, [("target", target["apiKey"], events("t", form.target_events), form.target_rate),
                                         ("bystander", bystander["apiKey"], events("b", form.bystander_events),
                                          form.bystander_rate)])
        ctx.load = load
        ctx.load_started = time.time()
        load.start()
        fault_error = None
        try:
            sc.fault(ctx)
        except Exception as error:
            fault_error = f"the fault itself failed: {type(error).__name__}: {error}"
        span = max(form.target_events / form.target_rate, form.bystander_events / form.bystander_rate)
        load_done = load.wait(span + 150)
        if not load_done:
            load.abort()
        load_ended = time.time()
        fault_end = max((end for _, end in ctx.windows), default=None)

        # Expected pairs: each accepted event at every endpoint of its account that subscribes to its type.
        expected = {}
        types = {e["id"]: e["type"] for _, _, evs, _ in load.streams for e in evs}
        for event_id, (stream, t) in load.accepted.items():
            for endpoint_id, wants in ctx.routes[stream]:
                if wants(types[event_id]):
                    expected[(endpoint_id, event_id)] = t
        expected.update(ctx.extra_expected)
        verifying = [r for label, r in ctx.receivers.items() if label != "sink"]

        # Drain: until every pair is delivered or dead and the work queues are empty (bounded).
        deadline = time.time() + form.drain_timeout
        letters, dlq_error, last_dlq, depths, drained = [], None, 0.0, {}, False
        dlq_seconds = 0.0  # how long the last read of herald.dead took (a DLQ flooded by a loop is slow to read)
        while True:
            rec = Reconciliation(expected, verifying, letters)
            if rec.lost and time.time() - last_dlq > max(3.0, 2 * dlq_seconds):
                t0 = time.time()
                letters, dlq_error = read_dead_letters(herald, work)
                last_dlq = time.time()
                dlq_seconds = last_dlq - t0
                rec = Reconciliation(expected, verifying, letters)
            if not rec.lost:
                try:
                    depths = {q: n for q, n in node.queue_depths(vhost).items() if q.startswith(WORK_QUEUES_PREFIX)}
                    drained = not any(depths.values())
                except Exception as error:
                    depths, drained = {"(list_queues failed)": str(error)[:80]}, False
                if drained:
                    break
            if time.time() > deadline:
                break
            time.sleep(1.0 if not rec.lost else 0.5)
        drained_at = time.time()
        t0 = time.time()
        letters, dlq_error = read_dead_letters(herald, work)
        ctx.timings["final DLQ read"] = round(time.time() - t0, 1)
        ctx.timings["load"] = round(load_ended - ctx.load_started, 1)
        ctx.timings["drain"] = round(drained_at - load_ended, 1)
        rec = Reconciliation(expected, verifying, letters, fault_end=fault_end, first_try=load.first_try)
        if not drained:
            try:
                depths = {q: n for q, n in node.queue_depths(vhost).items() if q.startswith(WORK_QUEUES_PREFIX)}
                drained = not any(depths.values())
            except Exception:
                pass

        # ---------------------------------------------------------- checks
        failures = []
        if fault_error:
            failures.append(fault_error)
        if not load_done:
            failures.append("the load did not finish in time")
        if rec.lost:
            sample = sorted(rec.lost)[:3]
            failures.append(f"{len(rec.lost)} lost (e.g. {', '.join(f'{e[:40]}@{p[:20]}' for p, e in sample)})")
        if load.counts["unanswered"]:
            failures.append(f"{load.counts['unanswered']} requests unanswered (client timeout 20 s)")
        by = rec.for_endpoints({ctx.endpoints["bystander"]})
        if by["delivered"] != by["expected"] or by["dead"]:
            failures.append(f"bystander: {by['delivered']}/{by['expected']} delivered, {by['dead']} dead")
        if rec.bad_signatures:
            failures.append(f"{rec.bad_signatures} requests failed signature verification")
        if load.gave_up:
            failures.append(f"{len(load.gave_up)} events never accepted (client gave up after 120 s)")
        if load.rejections:
            e, status, detail = load.rejections[0]
            failures.append(f"{len(load.rejections)} valid events refused (e.g. {status} {detail[:80]})")
        if load.counts["other_5xx"]:
            failures.append(f"{load.counts['other_5xx']} answers 5xx other than 503")
        if not drained:
            busy = {q: n for q, n in depths.items() if n}
            failures.append(f"work queues not drained after {form.drain_timeout:.0f} s: {busy}")
        if rec.unnamed_operational:
            ep_id, ev, ty = rec.unnamed_operational[0]
            failures.append(f"{len(rec.unnamed_operational)} operational events sent to endpoints that do not "
                            f"subscribe to them by name (e.g. {ty} {ev[:60]})")
        if rec.self_operational:
            ep_id, ev, ty = rec.self_operational[0]
            failures.append(f"{len(rec.self_operational)} operational events sent to the endpoint they are about "
                            f"(e.g. {ty} {ev[:60]})")
        exits = herald.check_exits()
        if exits:
            failures.append(f"services exited on their own: {exits}")
        reconnects = herald.log_count(r"AMQP reconnect")
        if not sc.broker_fault:
            looping = {n: c for n, c in reconnects.items() if c > 3}
            if looping:
                failures.append(f"reconnect loop (AMQP reconnect log lines, no broker fault): {looping}")
        if dlq_error:
            failures.append(dlq_error)
        for ok, text in ctx.checks:
            if not ok:
                failures.append(text)

        accepted = len(expected)
        recovery = f"{rec.recovery:.1f} s" if rec.recovery is not None else ("n/a (lost)" if rec.lost else "—")
        drain = drained_at - load_ended
        numbers = (f"accepted {accepted}, delivered {len(rec.delivered)}, dead {len(rec.dead)}, lost {len(rec.lost)}, "
                   f"duplicates {rec.duplicates}, unanswered {load.counts['unanswered']}, 503s {load.counts['503']}, "
                   f"recovery {recovery}")
        extras = []
        latencies = [rec.completion[k] - t for k, t in expected.items() if rec.completion.get(k)]
        if latencies:
            extras.append(f"max latency {max(latencies):.1f} s")
        if rec.dead:
            extras.append(f"dead letters by reason {dict(rec.dead_reasons)}"
                          + (f", {rec.event_letters} whole events in the DLQ" if rec.event_letters else ""))
        if rec.foreign or rec.foreign_dead:
            extras.append(f"other deliveries {rec.foreign}, other dead letters {dict(rec.foreign_dead)}")
        if rec.operational:
            extras.append(f"operational events received {dict(rec.operational)}")
        if any(reconnects.values()):
            extras.append(f"reconnects {({n: c for n, c in reconnects.items() if c})}")
        if load.counts["connection_errors"]:
            extras.append(f"connection errors {load.counts['connection_errors']}")
        extras.append(", ".join(f"{k} {v} s" for k, v in ctx.timings.items()))
        result.failures = failures
        result.ok = not failures
        result.line = (f"{'PASS' if result.ok else 'FAIL'}  {sc.name}: {numbers}"
                       + (f" [{'; '.join(extras)}]" if extras else "")
                       + (f" -- {'; '.join(failures)}" if failures else ""))
        total_events = form.target_events + form.bystander_events + ctx.extra_events
        result.row = {
            "scenario": sc.name, "form": form.name,
            "load": f"{total_events} events, {form.target_rate + form.bystander_rate:g}/s",
            "faults": scenario_kills(sc, form), "accepted": accepted, "delivered": len(rec.delivered),
            "dead": len(rec.dead), "lost": len(rec.lost), "duplicated": rec.duplicates,
            "unanswered": load.counts["unanswered"], "503s": load.counts["503"], "recovery": recovery,
            "result": "PASS" if result.ok else "FAIL: " + "; ".join(failures), "notes": "; ".join(ctx.notes),
            "seconds": round(time.time() - started), "drain": round(drain, 1),
        }
        return result
    except Exception as error:
        result.ok = False
        result.failures = [f"{type(error).__name__}: {error}"]
        result.line = f"FAIL  {sc.name}: the scenario could not run: {type(error).__name__}: {str(error)[:400]}"
        result.row = {"scenario": sc.name, "form": form.name, "load": "—", "faults": sc.faults, "accepted": "—",
                      "delivered": "—", "dead": "—", "lost": "—", "duplicated": "—", "unanswered": "—", "503s": "—",
                      "recovery": "—", "result": f"FAIL: could not run: {str(error)[:200]}", "notes": "",
                      "seconds": round(time.time() - started), "drain": "—"}
        return result
    finally:
        ctx.stop.set()
        if ctx.load:
            ctx.load.abort()
        herald.stop_all()
        for rx in ctx.receivers.values():
            rx.stop()
        if not suite.keep:
            node.delete_vhost(vhost)
        suite.current = None
