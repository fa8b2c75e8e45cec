#!/usr/bin/env python3
"""Tests scripts/run.sh and the services' startup configuration checks, on this machine, offline.

    scripts/test-run-script.py                     # uses the debug build in .build/debug
    HERALD_BIN=.build/release scripts/test-run-script.py
    scripts/test-run-script.py --startup-only      # only the services' startup checks (seconds)

What it checks:
  - herald-ingest, herald-signer and herald-worker each exit with status 2 and a message naming
    the setting when one is invalid (the Swift suites test the parsers, not the executables);
  - started in any order, with no broker and no store yet: the worker exits 1 naming the broker
    (no crash); the signer waits for the store (logging it, /readyz 503) and opens it once
    herald-ingest has created it;
  - `run.sh --demo-only` delivers the demo event, the receiver verifies its signature, the
    delivery log says delivered, and it stops leaving no process behind;
  - `run.sh` in the background: `run.sh workers 4` scales up, events still get delivered,
    `run.sh workers 1` scales down, Ctrl-C (SIGINT to its process group) stops everything;
  - a second run right after works, refuses a third on the same state while it runs, and
    SIGINT to run.sh alone stops everything;
  - after kill -9 of run.sh, `run.sh stop` stops what it left.

run.sh gets a state directory of its own (HERALD_RUN_STATE), hence its own RabbitMQ node (name,
ports, data dir) and free ports for everything else, so a run.sh the user has going is never
touched. It uses the binaries in HERALD_BIN and builds nothing. Prints one PASS or FAIL line per
check and exits non-zero if any failed. Takes about two minutes.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("HERALD_BIN", ROOT / ".build" / "debug")).resolve()
RUN_SH = str(ROOT / "scripts" / "run.sh")

results = {"passed": 0, "failed": 0}


def check(ok, what, detail=""):
    """Records one check; a failure says what differed."""
    if ok:
        results["passed"] += 1
        print(f"PASS  {what}", flush=True)
    else:
        results["failed"] += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def clean_environment(**settings):
    """The caller's environment without any HERALD_* or RABBITMQ_* setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "RABBITMQ_"))}
    env.update({k: str(v) for k, v in settings.items()})
    return env


def tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


# ---------------------------------------------------------------- configuration errors

def test_configuration_errors(work):
    bad_file = work / "bad.env"
    bad_file.write_text("# a config file\nHERALD_LOG_LEVEL=info\nthis line has no equals sign\n")
    bad_value_file = work / "bad-value.env"
    bad_value_file.write_text("HERALD_WORKER_CONCURRENCY=lots\nHERALD_SIGNER_PREFETCH=lots\nHERALD_MAX_BODY_BYTES=lots\n")
    cases = [
        ("herald-worker", "HERALD_WORKER_CONCURRENCY", "abc"),
        ("herald-worker", "HERALD_AMQP_URL", "http://127.0.0.1:5672/"),
        ("herald-worker", "HERALD_OPS_PORT", "70000"),
        ("herald-worker", "HERALD_SHUTDOWN_GRACE", "soon"),
        ("herald-signer", "HERALD_AMQP_URL", "amqp://guest:guest@127.0.0.1:notaport/"),
        ("herald-signer", "HERALD_OPS_PORT", "-1"),
        ("herald-signer", "HERALD_SIGNER_PREFETCH", "0"),
        ("herald-ingest", "HERALD_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/a/b"),
        ("herald-ingest", "HERALD_INGEST_PORT", "99999"),
        ("herald-ingest", "HERALD_MAX_BODY_BYTES", "big"),
    ]
    for program in ("herald-ingest", "herald-signer", "herald-worker"):
        cases.append((program, "HERALD_LOG_FORMAT", "xml"))
        cases.append((program, "HERALD_CONFIG_FILE", str(bad_file)))
    cases += [
        ("herald-signer", "HERALD_DATABASE_PATH", str(work / "no-such-dir" / "herald.sqlite")),
        ("herald-signer", "HERALD_DATABASE_PATH", str(bad_file)),  # a file, but not SQLite
        ("herald-worker", "HERALD_WORKER_CONCURRENCY", ("HERALD_CONFIG_FILE", bad_value_file)),
        ("herald-signer", "HERALD_SIGNER_PREFETCH", ("HERALD_CONFIG_FILE", bad_value_file)),
        ("herald-ingest", "HERALD_MAX_BODY_BYTES", ("HERALD_CONFIG_FILE", bad_value_file)),
    ]
    # Everything else valid, and harmless should a process start anyway: no broker on port 9,
    # free ports, a scratch database.
    base = dict(HERALD_AMQP_URL="amqp://guest:guest@127.0.0.1:9/", HERALD_INGEST_PORT=0, HERALD_OPS_PORT=0,
                HERALD_DATABASE_PATH=work / "config-test.sqlite", HERALD_ADMIN_KEY="adm_" + "x" * 24)
    for program, key, value in cases:
        setting, text = value if isinstance(value, tuple) else (key, value)
        env = clean_environment(**{**base, setting: text})
        what = f"{program} with {setting}={text if setting != 'HERALD_CONFIG_FILE' else Path(text).name} exits 2 naming {key}"
        try:
            done = subprocess.run([str(BIN / program)], env=env, cwd=work, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, errors="replace", timeout=10)
        except subprocess.TimeoutExpired:
            check(False, what, "still running after 10 s (the setting was accepted)")
            continue
        first = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[0]
        check(done.returncode == 2 and first.startswith(f"{program}: invalid configuration: {key}: "), what,
              f"expected status 2 and '{program}: invalid configuration: {key}: …' on stderr, "
              f"got status {done.returncode} and: {first[:300]}")


# ---------------------------------------------------------------- startup order

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crashed(status, output):
    """Why a service's exit looks like a crash (a trap, an abort, a segfault, a crash report), or None."""
    if status is not None and (status < 0 or status >= 128):
        return f"status {status}"
    found = next((line for line in output.splitlines() if re.search(r"fatal error|crash", line, re.I)), None)
    return f"crash output: {found[:200]}" if found else None


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_startup_order(work):
    """Services start in any order (systemd, compose, Kubernetes): no broker, no store yet."""
    closed = free_port()  # nothing listens there
    broker = f"127.0.0.1:{closed}"
    base = dict(HERALD_AMQP_URL=f"amqp://guest:guest@{broker}/", HERALD_INGEST_PORT=0,
                HERALD_ADMIN_KEY="adm_" + "x" * 24)

    # The worker with the broker unreachable: says so and exits non-zero, no trap, no crash dump.
    what = "herald-worker with the broker unreachable exits 1 naming the broker, without crashing"
    try:
        done = subprocess.run([str(BIN / "herald-worker")], env=clean_environment(**base, HERALD_OPS_PORT=0),
                              cwd=work, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=20)
        output = done.stdout + done.stderr
        crash = crashed(done.returncode, output)
        check(done.returncode == 1 and not crash and broker in output, what,
              f"status {done.returncode}, {crash or 'no crash'}, broker {broker} "
              f"{'named' if broker in output else 'not named'}; output: {output.strip()[-300:]}")
    except subprocess.TimeoutExpired:
        check(False, what, "still running after 20 s")

    # The signer before the store exists: waits for it (not ready meanwhile), then opens it once
    # herald-ingest created it; with no broker it then stops naming the broker, without crashing.
    store = work / "startup" / "herald.sqlite"
    store.parent.mkdir()
    ops = free_port()
    signer_log = work / "startup-signer.log"
    ingest_log = work / "startup-ingest.log"
    env = clean_environment(**base, HERALD_DATABASE_PATH=store, HERALD_OPS_PORT=ops)
    signer = subprocess.Popen([str(BIN / "herald-signer")], env=env, cwd=work, stdin=subprocess.DEVNULL,
                              stdout=signer_log.open("w"), stderr=subprocess.STDOUT)
    ingest = None
    try:
        waiting = f"waiting for the store at {store} (created by herald-ingest)"
        logged = wait_for(lambda: waiting in signer_log.read_text(errors="replace"), 10)
        time.sleep(1)  # a few retries later
        check(logged and signer.poll() is None,
              "herald-signer started before the store exists keeps running and logs what it waits for",
              f"status {signer.poll()}, expected the line '{waiting}'; output:\n{tail(signer_log)}")
        health, ready = http_status(f"http://127.0.0.1:{ops}/healthz"), http_status(f"http://127.0.0.1:{ops}/readyz")
        check(health == 200 and ready == 503, "herald-signer waiting for the store: /healthz 200, /readyz 503",
              f"got /healthz {health}, /readyz {ready}")
        ingest = subprocess.Popen([str(BIN / "herald-ingest")], env=env, cwd=work, stdin=subprocess.DEVNULL,
                                  stdout=ingest_log.open("w"), stderr=subprocess.STDOUT)
        opened = wait_for(lambda: "store ready" in signer_log.read_text(errors="replace"), 15)
        check(opened, "herald-signer opens the store once herald-ingest created it",
              f"no 'store ready' in its output:\n{tail(signer_log)}\ningest:\n{tail(ingest_log)}")
        status = wait_exit(signer, 15)
        output = signer_log.read_text(errors="replace")
        crash = crashed(status, output)
        check(status == 1 and not crash and broker in output,
              "herald-signer then exits 1 naming the unreachable broker, without crashing",
              f"status {status}, {crash or 'no crash'}; output:\n{tail(signer_log)}")
    finally:
        for process in (signer, ingest):
            if process is not None and process.poll() is None:
                process.terminate()
                if wait_exit(process, 10) is None:
                    process.kill()
                    process.wait()


# ---------------------------------------------------------------- run.sh

class RunScript:
    """run.sh with a state directory of its own, and what it leaves behind."""

    def __init__(self, work):
        self.state = work / "state"
        self.env = clean_environment(HERALD_RUN_STATE=self.state, HERALD_BIN=BIN, HERALD_WORKERS=2)
        key = subprocess.run(["cksum"], input=str(self.state), capture_output=True, text=True).stdout.split()[0]
        self.node_name = f"herald-run-{key}"
        self.node_dir = Path(f"/tmp/herald-run-{key}")
        self.epmd_was_running = subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0
        self.runs = 0

    def output_file(self, label):
        self.runs += 1
        return self.state.parent / f"run-{self.runs}-{label}.out"

    def processes(self):
        """(pid, command name) of every process this run.sh started: the services, heraldctl,
        tail, and the RabbitMQ node with its helpers."""
        marks = [f"HERALD_RUN_STATE={self.state}\0".encode(), self.node_name.encode()]
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                blob = (entry / "environ").read_bytes() + b"\0" + (entry / "cmdline").read_bytes()
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if any(mark in blob for mark in marks):
                found.append((int(entry.name), name))
        return found

    def workers(self):
        return [pid for pid, name in self.processes() if name == "herald-worker"]

    def wait_for_workers(self, count, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.workers()) == count:
                return True
            time.sleep(0.2)
        return False

    def check_nothing_left(self, label):
        # run.sh has exited; allow a moment for a `sleep 1` of its log-following loop.
        deadline = time.monotonic() + 10
        left = self.processes()
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = self.processes()
        check(not left, f"{label}: no process left behind", f"still running: {left}")
        epmd_names = subprocess.run(["epmd", "-names"], capture_output=True, text=True).stdout
        check(self.node_name not in epmd_names, f"{label}: its RabbitMQ node is gone from epmd", epmd_names.strip())
        if not self.epmd_was_running:
            running = subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0
            check(not running, f"{label}: the epmd its node started is stopped")
        check(not self.node_dir.exists(), f"{label}: its node's data dir is removed", str(self.node_dir))
        check(not (self.state / "env").exists(), f"{label}: its env file is removed")

    def start_background(self, label):
        out = self.output_file(label)
        process = subprocess.Popen([RUN_SH], env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                   stdout=out.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if "Herald is running" in out.read_text(errors="replace"):
                return process, out
            if process.poll() is not None:
                break
            time.sleep(0.5)
        check(False, f"{label}: run.sh comes up", f"status {process.poll()}; last output:\n{tail(out)}")
        return None, out

    def stop(self):
        subprocess.run([RUN_SH, "stop"], env=self.env, cwd=ROOT, capture_output=True, timeout=120)


def send_status(env_file, message_id):
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    request = urllib.request.Request(
        f"{settings['HERALD_INGEST_URL']}/v1/messages/{message_id}/status", method="POST",
        data=json.dumps({"status": "FAILED", "recipient": "9818000000", "channel": "sms"}).encode(),
        headers={"Authorization": f"Bearer {settings['HERALD_API_KEY']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def receiver_verified(state, message_id, seconds=30):
    """The receiver's JSON line for `message_id`, once it arrives."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in (state / "logs" / "listen.log").read_text(errors="replace").splitlines():
            if message_id in line:
                try:
                    return json.loads(line)
                except ValueError:
                    return {"valid": False, "error": f"not JSON: {line[:200]}"}
        time.sleep(0.2)
    return None


def wait_exit(process, seconds):
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def test_demo_only(run):
    out = run.output_file("demo-only")
    started = time.monotonic()
    with out.open("w") as sink:
        try:
            status = subprocess.run([RUN_SH, "--demo-only"], env=run.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                    stdout=sink, stderr=subprocess.STDOUT, timeout=240).returncode
        except subprocess.TimeoutExpired:
            status = None
    text = out.read_text(errors="replace")
    check(status == 0, f"run.sh --demo-only exits 0 ({time.monotonic() - started:.0f} s)",
          f"status {status}; last output:\n{tail(out)}")
    check("signature verified: True" in text, "demo: the receiver verified the webhook's signature",
          "no 'signature verified: True' in run.sh's output")
    try:
        event = json.loads((run.state / "demo-event.json").read_text())
        states = [d["state"] for d in event["deliveries"]]
    except (OSError, ValueError, KeyError) as error:
        states = [f"unreadable: {error}"]
    check(states == ["delivered"], "demo: GET /v1/events/{id} says delivered", f"expected ['delivered'], got {states}")
    run.check_nothing_left("--demo-only")


def test_background_scale_and_ctrl_c(run):
    process, out = run.start_background("background")
    if process is None:
        return
    try:
        check(run.wait_for_workers(2), "background run: 2 workers at start", f"got {len(run.workers())}")
        scaled = subprocess.run([RUN_SH, "workers", "4"], env=run.env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        check(scaled.returncode == 0, "run.sh workers 4 exits 0", scaled.stderr.strip()[-300:])
        check(run.wait_for_workers(4), "run.sh workers 4: 4 worker processes", f"got {len(run.workers())}")
        time.sleep(2)
        check(len(run.workers()) == 4, "run.sh workers 4: all 4 still alive 2 s later",
              f"got {len(run.workers())}; worker logs in {run.state / 'logs'}")
        message_id = f"msg_runtest_{int(time.time())}"
        status = send_status(run.state / "env", message_id)
        line = receiver_verified(run.state, message_id)
        check(status == 202 and line is not None and line.get("valid") is True,
              "with 4 workers an event is delivered and verified",
              f"POST answered {status}; receiver line: {line}")
        scaled = subprocess.run([RUN_SH, "workers", "1"], env=run.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        check(scaled.returncode == 0, "run.sh workers 1 exits 0", scaled.stderr.strip()[-300:])
        check(run.wait_for_workers(1), "run.sh workers 1: 1 worker process", f"got {len(run.workers())}")
    finally:
        # Ctrl-C: SIGINT to the terminal's foreground process group, run.sh and all it started.
        os.killpg(process.pid, signal.SIGINT)
        status = wait_exit(process, 120)
    check(status == 130, "Ctrl-C: run.sh stops (status 130)", f"status {status}; last output:\n{tail(out)}")
    check("stopped; logs are in" in out.read_text(errors="replace"), "Ctrl-C: run.sh reports it stopped")
    run.check_nothing_left("Ctrl-C")


def test_second_run(run):
    process, out = run.start_background("second")
    if process is None:
        return
    check(run.wait_for_workers(2), "second run: comes up with 2 workers", f"got {len(run.workers())}")
    check("demo: event" in out.read_text(errors="replace"), "second run: demo event delivered again")
    again = subprocess.run([RUN_SH, "--demo-only"], env=run.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
    check(again.returncode == 1 and "already running" in again.stderr and process.poll() is None,
          "second run: another run.sh on the same state is refused, the running one untouched",
          f"status {again.returncode}: {again.stderr.strip()[-300:]}")
    os.kill(process.pid, signal.SIGINT)  # run.sh alone: its own cleanup must stop the rest
    status = wait_exit(process, 120)
    check(status == 130, "second run: SIGINT to run.sh stops it (status 130)", f"status {status}; last output:\n{tail(out)}")
    run.check_nothing_left("second run")


def test_stop_after_kill_9(run):
    process, out = run.start_background("killed")
    if process is None:
        return
    os.kill(process.pid, signal.SIGKILL)  # no trap runs: everything it started is left running
    wait_exit(process, 10)
    check(len(run.workers()) == 2, "after kill -9 of run.sh its workers are still running", f"got {len(run.workers())}")
    stopped = subprocess.run([RUN_SH, "stop"], env=run.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    check(stopped.returncode == 0, "run.sh stop exits 0", stopped.stderr.strip()[-300:])
    run.check_nothing_left("run.sh stop after kill -9")


def main():
    missing = [p for p in ("herald-ingest", "herald-signer", "herald-worker", "heraldctl") if not (BIN / p).is_file()]
    if missing:
        print(f"FAIL  binaries in {BIN}: missing {', '.join(missing)} (build first, or set HERALD_BIN)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="herald-runtest."))
    run = RunScript(work)
    print(f"==> run.sh tests: binaries {BIN}, state {run.state}, node {run.node_name}", flush=True)
    started = time.monotonic()
    try:
        test_configuration_errors(work)
        test_startup_order(work)
        if "--startup-only" in sys.argv:
            return finish(run, work, started)
        test_demo_only(run)
        test_background_scale_and_ctrl_c(run)
        test_second_run(run)
        test_stop_after_kill_9(run)
    finally:
        if run.processes():
            run.stop()  # a failed check above may have left a run; never leave it to the user
    return finish(run, work, started)


def finish(run, work, started):
    if results["failed"] == 0:
        subprocess.run(["rm", "-rf", str(work)])
    else:
        print(f"run.sh outputs and logs kept in {work}")
    print(f"run.sh tests: {results['passed']} passed, {results['failed']} failed "
          f"in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
