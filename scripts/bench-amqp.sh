#!/usr/bin/env bash
# AMQP client benchmark: the Swift client (Benchmarks/amqp-bench) against a plain C loop over
# rabbitmq-c (Benchmarks/amqp-reference/reference.c), same private broker node, same run.
#
#   scripts/bench-amqp.sh                # 3 runs of 50,000 400-byte messages each
#   RUNS=5 COUNT=100000 scripts/bench-amqp.sh
#
# Settings (environment): RUNS (3), COUNT (50000), WINDOW (1000 unconfirmed publishes at most),
# BATCH (100: the Swift side awaits confirmed batches of this size from WINDOW/BATCH tasks),
# PREFETCH (500), BODY_BYTES (400), NODE_DIR (/tmp/herald-bench-node).
# Each run uses a fresh quorum queue per client; the order alternates (C first on odd runs,
# Swift first on even ones). Prints every run and a Markdown table of medians, Swift/C ratios
# and peak RSS; the raw lines are kept in .build-bench/bench-amqp.log.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3} COUNT=${COUNT:-50000} WINDOW=${WINDOW:-1000} BATCH=${BATCH:-100}
PREFETCH=${PREFETCH:-500} BODY_BYTES=${BODY_BYTES:-400} NODE_DIR=${NODE_DIR:-/tmp/herald-bench-node}
scratch=.build-bench
log=$scratch/bench-amqp.log

mkdir -p "$scratch"
echo "building the C reference and the Swift benchmark (release)..." >&2
gcc -O2 -Wall -Wextra -o "$scratch/amqp-reference" Benchmarks/amqp-reference/reference.c -lrabbitmq
swift build -c release --scratch-path "$scratch" --product amqp-bench >&2

echo "starting a private broker node in $NODE_DIR..." >&2
eval "$(scripts/rabbitmq-node.sh start "$NODE_DIR" herald-bench)"
trap 'scripts/rabbitmq-node.sh stop "$NODE_DIR" >/dev/null 2>&1 || true' EXIT
port=$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$HERALD_TEST_AMQP_URL")

run_c() {
    "$scratch/amqp-reference" 127.0.0.1 "$port" "bench.c.$1.$$" "$COUNT" "$WINDOW" "$PREFETCH" "$BODY_BYTES"
}
run_swift() {
    HERALD_LOG_LEVEL=warning "$scratch/release/amqp-bench" --url "$HERALD_TEST_AMQP_URL" --queue "bench.swift.$1.$$" \
        --count "$COUNT" --window "$WINDOW" --batch "$BATCH" --prefetch "$PREFETCH" --body-bytes "$BODY_BYTES"
}

: >"$log"
for run in $(seq 1 "$RUNS"); do
    if (( run % 2 )); then order="c swift"; else order="swift c"; fi
    for client in $order; do
        echo "run $run: $client" >&2
        "run_$client" "$run" | sed "s/^RESULT /RESULT run=$run /" | tee -a "$log" >&2
    done
done

python3 - "$log" "$COUNT" "$BODY_BYTES" "$WINDOW" "$BATCH" "$PREFETCH" "$RUNS" <<'PY'
import statistics, sys
log, count, body, window, batch, prefetch, runs = sys.argv[1:]
rows = {}
for line in open(log):
    fields = dict(f.split("=", 1) for f in line.split()[1:])
    key = (fields["client"], fields["phase"])
    rows.setdefault(key, []).append(float(fields["kb"] if fields["phase"] == "rss" else fields["rate"]))
def med(client, phase): return statistics.median(rows[(client, phase)])
def runs_of(client, phase): return ", ".join(f"{v:,.0f}" for v in rows[(client, phase)])
print(f"{runs} runs of {int(count):,} persistent {body}-byte messages on a fresh quorum queue per run; "
      f"publish window {window} (Swift: {int(window)//int(batch)} tasks awaiting batches of {batch}), prefetch {prefetch}.\n")
print("| phase | C msg/s (median) | Swift msg/s (median) | Swift/C | C runs | Swift runs |")
print("|---|---:|---:|---:|---|---|")
for phase in ("publish", "consume"):
    c, s = med("c", phase), med("swift", phase)
    print(f"| {phase} | {c:,.0f} | {s:,.0f} | {s / c:.2f} | {runs_of('c', phase)} | {runs_of('swift', phase)} |")
print(f"\nPeak RSS (VmHWM, max over runs): Swift {max(rows[('swift', 'rss')]) / 1024:.1f} MiB, "
      f"C {max(rows[('c', 'rss')]) / 1024:.1f} MiB.")
PY
