#!/usr/bin/env python3
"""Herald's fault suite: the whole pipeline under load on a private RabbitMQ node, one fault at a time.

    scripts/fault-suite.py                          # short form (~5 minutes with debug binaries)
    scripts/fault-suite.py --long                   # every scenario, thousands of events, 3-node cluster
    scripts/fault-suite.py --only kill-signer,memory-alarm
    scripts/fault-suite.py --report RELIABILITY.md  # also write the measured table
    HERALD_BIN=.build/debug scripts/fault-suite.py  # or --bin DIR (default .build/debug)

For each scenario it creates a vhost of its own on a private node (scripts/rabbitmq-node.sh: own
name, ports and data dir), applies the topology, starts herald-ingest, herald-signer and two
herald-workers on a fresh SQLite store, creates a target account (endpoint subscribed to every
event type, short retry policy) and a bystander account (its own healthy endpoint), each pointing
at a verifying receiver on 127.0.0.1 (Standard Webhooks signature, endpoint's secret), and sends
paced events to both through the HTTP API while the fault happens:

  kill-ingest / kill-signer / kill-worker   SIGKILL the service (once short, 3 times long), restart 1 s later
  broker-restart                            rabbitmqctl stop_app, 3 s, start_app
  memory-alarm                              set_vm_memory_high_watermark 0.0000001 for 5 s, then 0.4
  receiver-hang / -down / -flap / -500      the target's receiver hangs past the timeout, stops
                                            listening, flaps, or answers 500; receiver-500 adds an
                                            endpoint that dead-letters at once and subscribes to
                                            attempt.exhausted
  poison-api                                garbage, invalid UTF-8, huge and deeply nested JSON, and
                                            128-byte account, endpoint and event ids to the HTTP API
  poison-queues                             the same kinds of poison straight onto herald.events,
                                            herald.deliver, herald.resign and herald.attempts (pika)
  cluster-node-kill                         3-node cluster, quorum leaders balanced, kill -9 one node's
                                            beam mid-load, restart it (services use node 1 only:
                                            failover across nodes is issue 13)
  baseline                                  no fault (long form)

Short form (default; about 3 minutes when everything passes, up to 5 when scenarios fail and
wait out their 40 s drain): kill-signer, kill-worker, broker-restart, memory-alarm, poison-api,
poison-queues, receiver-hang, receiver-500; 250 events each (200 target at 40/s, 50 bystander
at 10/s). Long form (--long, about 12 minutes): all of the above plus baseline, kill-ingest,
receiver-down, receiver-flap and cluster-node-kill; 2,500 events each (2,000 at 50/s, 500 at
12.5/s), three kills per kill scenario, two broker restarts and alarms, 120 s drain.

Then it reconciles: every event accepted (HTTP 202) must be delivered (a verified receipt at the
receiver) or dead-lettered (herald.dead, read with `heraldctl dlq export --keep`):
lost = accepted - delivered - dead must be 0; no request may go unanswered (client timeout);
the bystander gets every event and none is dead-lettered; the work queues drain; no service
exits on its own or reconnects in a loop without a broker fault; no operational event reaches the
endpoint it is about. Duplicates (at-least-once), 503 answers (retried by the client with the same
event id) and the time to recover (fault's end until every event accepted before it is settled)
are measured and reported.

Prints one `PASS  <scenario>: …` or `FAIL  <scenario>: …` line per scenario; exits 1 if any failed.
Every loop is bounded; only 127.0.0.1 traffic; everything started (nodes, services, receivers) is
stopped at the end, also on failure or Ctrl-C. Needs root (the node runs as the rabbitmq user),
rabbitmq-server, and from PyPI: pika, standardwebhooks (HMAC per the spec is the fallback).
"""
import argparse
import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from faults import report  # noqa: E402
from faults.broker import Cluster, Node  # noqa: E402
from faults.scenarios import LONG, SCENARIOS, SHORT, run_scenario  # noqa: E402


class Suite:
    def __init__(self, bin_dir, work, keep):
        self.bin = bin_dir
        self.work = work
        self.keep = keep
        self.node = None
        self.cluster = None
        self.current = None
        self.epmd_ours = False
        self.cleaned = False

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        ctx = self.current
        if ctx is not None:  # interrupted mid-scenario
            ctx.stop.set()
            try:
                ctx.herald.stop_all()
            except Exception:
                pass
            for rx in ctx.receivers.values():
                rx.stop()
        for thing in (self.cluster, self.node):
            if thing is not None:
                try:
                    thing.stop()
                finally:
                    if not self.keep:
                        thing.remove()
        if self.epmd_ours:
            subprocess.run(["epmd", "-kill"], capture_output=True)
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--long", action="store_true", help="every scenario, thousands of events, the cluster")
    parser.add_argument("--bin", default=os.environ.get("HERALD_BIN", str(ROOT / ".build" / "debug")),
                        help="directory of herald-ingest, herald-signer, herald-worker, heraldctl (HERALD_BIN)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--report", metavar="FILE", help="write/update the measured table in FILE (RELIABILITY.md)")
    parser.add_argument("--keep", action="store_true", help="keep logs and node data (printed at the end)")
    args = parser.parse_args()

    bin_dir = Path(args.bin).resolve()
    for program in ("herald-ingest", "herald-signer", "herald-worker", "heraldctl"):
        if not (bin_dir / program).exists():
            print(f"fault-suite: no {program} in {bin_dir} (set HERALD_BIN or --bin)", file=sys.stderr)
            return 2
    form = LONG if args.long else SHORT
    chosen = [s for s in SCENARIOS if (args.long or s.short)]
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {s.name for s in SCENARIOS}
        if unknown:
            print(f"fault-suite: unknown scenarios {sorted(unknown)}; known: {[s.name for s in SCENARIOS]}", file=sys.stderr)
            return 2
        chosen = [s for s in SCENARIOS if s.name in names]

    work = Path(tempfile.mkdtemp(prefix="herald-faults."))
    os.chmod(work, 0o755)
    suite = Suite(bin_dir, work, args.keep)
    atexit.register(suite.cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    started = time.time()
    results = []
    try:
        suite.epmd_ours = subprocess.run(["epmd", "-names"], capture_output=True).returncode != 0
        tag = f"herald-faults-{os.getpid()}"
        single = [s for s in chosen if not s.cluster]
        clustered = [s for s in chosen if s.cluster]
        if single:
            print(f"==> fault suite ({form.name} form): private RabbitMQ node, binaries in {bin_dir}", flush=True)
            suite.node = Node(ROOT, f"/tmp/{tag}", tag)
            suite.node.start()
            for sc in single:
                t0 = time.time()
                result = run_scenario(suite, sc, form, suite.node)
                results.append(result)
                print(result.line + f"  ({time.time() - t0:.0f} s)", flush=True)
            suite.node.stop()
            if not args.keep:
                suite.node.remove()
            suite.node = None
        if clustered:
            print("==> starting a 3-node RabbitMQ cluster", flush=True)
            suite.cluster = Cluster(ROOT, f"/tmp/{tag}", tag)
            suite.cluster.start()
            for sc in clustered:
                t0 = time.time()
                result = run_scenario(suite, sc, form, suite.cluster.nodes[0])
                results.append(result)
                print(result.line + f"  ({time.time() - t0:.0f} s)", flush=True)
    except Exception as error:
        print(f"FAIL  fault-suite: {type(error).__name__}: {error}", flush=True)
        results.append(None)
    finally:
        elapsed = time.time() - started
        if args.keep:
            print(f"==> kept logs in {work}", flush=True)
        suite.cleanup()
    done = [r for r in results if r is not None]
    failed = sum(1 for r in results if r is None or not r.ok)
    print(f"==> fault suite ({form.name} form): {len(done) - sum(1 for r in done if not r.ok)} passed, "
          f"{failed} failed, {elapsed:.0f} s", flush=True)
    if args.report and done:
        report.write(args.report, done, [s.name for s in SCENARIOS], form.name,
                     f"binaries {bin_dir}, {elapsed:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
