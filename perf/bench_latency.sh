#!/usr/bin/env bash
# The latency the dataplane adds: sluice-bench-worker --latency stamps
# every mbuf with the TSC as its rx burst arrives (after the frame is
# written) and reads the TSC again as the mbuf is handed to tx, into a
# histogram per run. Configurations, repetitions interleaved:
#
#   bare          sluice-dp's worker loop without the engine or frame writes
#   stamp         bare, writing each flow's frame into the mbuf
#   sluice        stamp with the engine (100 classes, 100,000 flows, all pass)
#   sluice-drops  a quarter of the classes held to 20 pps (dropped packets
#                 have no latency; the others wait for the whole burst)
#
# so sluice - stamp is what the engine adds to a packet's stay. A packet
# waits for the rest of its burst (32) before tx, as it would on a NIC.
# The timestamps are the same loop's TSC reads, not a NIC's; the stamping
# itself costs a few cycles a packet, in every configuration alike.
#
#   perf/bench_latency.sh [--quick] [--reps N] [--duration S] [--json FILE]
#                         [--build DIR] [--cores LIST]
#
# Prints p50, p99, p99.9 and max (ns, medians over repetitions).
# Builds nothing (DIR/perf/sluice-bench-worker). Needs root and hugepages.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=5
DURATION=1
WARMUP=0.5
JSON=
CORES=0,1
SOCKET_MEM=512

usage() {
	sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=0.5 WARMUP=0.3 ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_latency.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/perf/sluice-bench-worker
JSON=${JSON:-$BUILD/perf/bench_latency.json}
[ "$(id -u)" = 0 ] || { echo "bench_latency.sh: needs root (hugepages, DPDK)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "bench_latency.sh: $BENCH not built (meson compile -C $BUILD)" >&2; exit 1; }

T=$(mktemp -d /tmp/bench_latency.XXXXXX)
trap 'rm -rf "$T"' EXIT
BENCH_NAME=bench_latency.sh BENCH_PREFIX=sllt
# shellcheck source=perf/bench_lib.sh
. "$HERE/bench_lib.sh"

CONFIGS="bare stamp sluice sluice-drops"
echo "latency benchmark: $REPS repetition(s) of ${DURATION}s, lcores $CORES" >&2
for r in $(seq "$REPS"); do
	for c in $CONFIGS; do
		case $c in
		sluice-drops) bench_rep "$c" "$T/$c.$r.json" --latency --mode sluice --mix drops ;;
		*) bench_rep "$c" "$T/$c.$r.json" --latency --mode "$c" ;;
		esac
		echo "  rep $r $c done" >&2
	done
done

python3 - "$T" "$REPS" "$CONFIGS" "$JSON" "$DURATION" "$CORES" <<'EOF'
import json, os, statistics, subprocess, sys
tdir, reps, configs, out, duration, cores = sys.argv[1:]
reps, configs = int(reps), configs.split()
runs = {c: [json.load(open(os.path.join(tdir, f"{c}.{r}.json"))) for r in range(1, reps + 1)]
        for c in configs}
KEYS = ("p50", "p99", "p999", "max")
rows = []
for c in configs:
    lat = [x["latency"] for x in runs[c]]
    if any(l["packets"] == 0 for l in lat):
        sys.exit(f"bench_latency.sh: {c}: no packet reached tx")
    row = {"config": c, "packets": sum(l["packets"] for l in lat),
           "cpu_cycles_per_packet": statistics.median(x["cpu_cycles_per_packet"] for x in runs[c])}
    for k in KEYS:
        row[f"{k}_ns"] = statistics.median(l[f"{k}_ns"] for l in lat)
        row[f"{k}_cycles"] = statistics.median(l[f"{k}_cycles"] for l in lat)
    rows.append(row)
base = {r["config"]: r for r in rows}
for r in rows:
    if r["config"].startswith("sluice"):
        r["added_p50_ns"] = r["p50_ns"] - base["stamp"]["p50_ns"]
        r["added_p99_ns"] = r["p99_ns"] - base["stamp"]["p99_ns"]
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print(f"\nlatency benchmark: rx burst to tx, medians of {reps} x {duration} s; {model}, lcores {cores}, "
      f"load average {' '.join(load)}")
print(f"{'config':<14} {'p50 ns':>8} {'p99 ns':>8} {'p99.9 ns':>9} {'max ns':>10} {'+p50 vs stamp':>14}")
for r in rows:
    add = f"{r['added_p50_ns']:14.0f}" if "added_p50_ns" in r else " " * 14
    print(f"{r['config']:<14} {r['p50_ns']:8.0f} {r['p99_ns']:8.0f} {r['p999_ns']:9.0f} {r['max_ns']:10.0f} {add}")
json.dump({"bench": "latency", "reps": reps, "duration_s": float(duration), "lcores": cores, "cpu": model,
           "loadavg": [float(x) for x in load], "table": rows, "runs": runs}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
