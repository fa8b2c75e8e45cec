#!/usr/bin/env python3
"""Prints the tables of an e2e results.json (medians over runs, ratios) and draws latency plots
if matplotlib is installed. `report.py results.json` re-prints an earlier run.

Returns (as main's value) whether every event of every phase arrived exactly once."""
import json
import os
import statistics
import sys


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit=""):
    if x is None:
        return "–"
    if isinstance(x, float) and x < 10:
        return f"{x:.2f}{unit}"
    return f"{x:,.0f}{unit}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def main(path):
    r = json.load(open(path))
    s = r["settings"]
    ok = True
    out = []
    p = out.append
    p(f"\n## e2e: Herald against Celery and Dramatiq ({r['started']} – {r.get('finished', '?')})\n")
    p(f"{s['RUNS']} run(s), medians shown. Load average at start {' '.join(r['loadavg_start'])}, "
      f"at end {' '.join(r.get('loadavg_end', ['?']))} (2-core machine; other builds may be running).\n")

    ceil = r["ceilings"]
    pub = med([c.get("broker_publish_per_s") for c in ceil])
    con = med([c.get("broker_consume_per_s") for c in ceil])
    wrk = med([c.get("wrk_per_s") for c in ceil])
    p("### Ceilings in the same run\n")
    p("| ceiling | median | runs |\n|---|---:|---|")
    for name, key in (("broker: confirmed publish, quorum queue (C, rabbitmq-c)", "broker_publish_per_s"),
                      ("broker: consume + ack (C)", "broker_consume_per_s"),
                      ("wrk → the same nginx (64 connections)", "wrk_per_s")):
        p(f"| {name} | {fmt(med([c.get(key) for c in ceil]))}/s | {', '.join(fmt(c.get(key)) for c in ceil)} |")

    # Drain
    p(f"\n### Drain of queued events\n")
    p("Rate = distinct ids at the receiver / time from starting the consumers to the last arrival "
      "(includes their startup); 'first→last' leaves startup out.\n")
    p("| system | N | deliveries/s | first→last /s | startup s | runs (deliveries/s) | missing | duplicates "
      "| enqueue /s | Herald ÷ this | ÷ broker publish | ÷ wrk |")
    p("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    groups = {}
    for d in r["drain"]:
        name = d["system"] + ("" if d["workers"] is None else f" ×{d['workers']} worker{'s' if d['workers'] > 1 else ''}")
        groups.setdefault(name, []).append(d)
        if not d["complete"] or d["missing"] or d["duplicates"]:
            ok = False
    herald_best = max((med([d["per_second"] for d in g]) for k, g in groups.items() if k.startswith("herald")),
                      default=None)
    for name, g in groups.items():
        rate = med([d["per_second"] for d in g])
        p(f"| {name} | {g[0]['n']:,} | {fmt(rate)} | {fmt(med([d['steady_per_second'] for d in g]))} "
          f"| {fmt(med([d['startup_s'] for d in g]))} | {', '.join(fmt(d['per_second']) for d in g)} "
          f"| {sum(d['missing'] for d in g)} | {sum(d['duplicates'] for d in g)} "
          f"| {fmt(med([d['enqueue_per_s'] for d in g]))} "
          f"| {'' if name.startswith('herald') else ratio(herald_best, rate)} | {ratio(rate, pub)} | {ratio(rate, wrk)} |")
    p("\n'Herald ÷ this' uses Herald's best drain (the worker count with the higher median).")

    # CPU / RSS
    p("\n### CPU per delivered event and peak RSS (drain phases, medians)\n")
    p("| system | process | CPU µs / delivery | peak RSS MiB | processes |")
    p("|---|---|---:|---:|---:|")
    for name, g in groups.items():
        for proc in g[0]["usage"]:
            cpu = med([d["usage"][proc]["cpu_us_per_delivery"] for d in g if proc in d["usage"]])
            rss = med([d["usage"][proc]["peak_rss_mb"] for d in g if proc in d["usage"]])
            n = g[0]["usage"][proc]["processes"]
            if proc in ("herald-ingest",) and not name.startswith("herald"):
                continue  # idle during peer phases
            p(f"| {name} | {proc} | {fmt(cpu)} | {fmt(rss)} | {n} |")
        total = med([sum(u["cpu_us_per_delivery"] for k, u in d["usage"].items()
                         if name.startswith("herald") or k != "herald-ingest") for d in g])
        p(f"| {name} | **all of the above** | **{fmt(total)}** | | |")
    p("\nPeak RSS of a process tree (Celery, Dramatiq: parent + children) is the sum of their VmHWM; "
      "ingest, the broker and nginx live for the whole run, so theirs is the run's peak so far.")

    # Latency
    p("\n### Open-loop latency, client send → receiver log (ms)\n")
    p("The send time is each event's scheduled time, so a client or system that falls behind shows as latency. "
      "'sent /s' is what the client managed (events / time to hand the last one over: HTTP 202, AMQP confirm, "
      "or the peer's enqueue call); below the offered rate, the client or the front door is the limit.\n")
    p("| offered /s | system | sent /s (client) | arrived / offered | p50 | p90 | p99 | max | p99 Herald ÷ this | runs p50 | failed sends |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    lat = {}
    incomplete = []
    skipped = sorted({(x["system"], x["rate"]) for x in r["latency"] if "skipped" in x})
    for x in r["latency"]:
        if "skipped" in x:
            continue
        lat.setdefault((x["rate"], x["system"]), []).append(x)
        if x["duplicates"]:
            ok = False
        if x["arrived"] != x["offered"]:
            incomplete.append(f"{x['system']} @{x['rate']}/s run {x['run']}: {x['arrived']}/{x['offered']}")
    for (rate, system), g in sorted(lat.items()):
        h = lat.get((rate, "herald-amqp"))
        hp99 = med([x["p99_ms"] for x in h]) if h else None
        p99 = med([x["p99_ms"] for x in g])
        p(f"| {rate:,} | {system} | {fmt(med([x.get('achieved_per_s') for x in g]))} | {sum(x['arrived'] for x in g):,} / {sum(x['offered'] for x in g):,} "
          f"| {fmt(med([x['p50_ms'] for x in g]))} | {fmt(med([x['p90_ms'] for x in g]))} | {fmt(p99)} "
          f"| {fmt(med([x['max_ms'] for x in g]))} | {'' if system.startswith('herald') else ratio(hp99, p99)} "
          f"| {', '.join(fmt(x['p50_ms']) for x in g)} | {sum(x['failed'] + x['unsent'] for x in g)} |")
    p("\n'p99 Herald ÷ this' compares Herald fed over AMQP (the peers are fed over AMQP too); below 1 means Herald is faster.")
    if skipped:
        p("\nNot offered (the system had fallen below 90% arrived at a lower rate in that run; its queue was purged): "
          + ", ".join(f"{s} @{r}/s" for s, r in skipped))
    if incomplete:
        p("\nLatency phases where not every event arrived within the wait (offered time + 15 s): "
          + "; ".join(incomplete))
    if s["smoke"] and incomplete:
        ok = False
    p(f"\nEvery drained event arrived exactly once{'' if not s['smoke'] else ', and every smoke latency event arrived'}"
      f" (no duplicates anywhere): {'yes' if ok else 'NO'}")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(os.path.dirname(path), "report.md"), "w") as f:
        f.write(text + "\n")
    plot(lat, os.path.dirname(path))
    return ok


def plot(lat, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    systems = sorted({s for _, s in lat})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharex=True)
    for ax, key in zip(axes, ("p50_ms", "p99_ms", "max_ms")):
        for system in systems:
            pts = sorted((rate, med([x[key] for x in g])) for (rate, s), g in lat.items() if s == system)
            pts = [(a, b) for a, b in pts if b is not None]
            if pts:
                ax.plot([a for a, _ in pts], [b for _, b in pts], marker="o", label=system)
        ax.set_title(key.replace("_ms", "") + " latency, send → receiver")
        ax.set_xlabel("offered events/s")
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "latency.png"), dpi=100)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1]) else 1)
