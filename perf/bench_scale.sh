#!/usr/bin/env bash
# How sluice's cycles per packet grow with the policy and the traffic:
# sluice-bench-worker (sluice-dp's worker loop, two net_null ports) with
#
#   classes  1 to 10,000 classes, 100,000 flows, every flow its own
#            flow-table key (--key flow: a source- or destination-keyed
#            class of the bench holds at most 65,536 keys, so the class
#            count would change the key count)
#   flows    1,000 to 10,000,000 active flows over 100 classes, every
#            flow its own flow-table key (--key flow), the table sized
#            to the next power of two (at least sluice-dp's default,
#            1,048,576); each also without the engine (stamp), so that
#            "engine" = sluice - stamp leaves out the frame writes,
#            which grow with the flows' frames too
#
# and the flow table's memory per slot and per flow, with the cache
# sizes, so the report can mark where the table leaves the cache.
#
#   perf/bench_scale.sh [--quick] [--reps N] [--duration S] [--json FILE]
#                       [--build DIR] [--cores LIST] [--classes LIST]
#                       [--flows LIST]
#
# --quick: classes 1, 100, 10000; flows 1000, 100000, 1000000; one
# repetition of 0.5 s. The default (and --full in perf/run.sh) adds 10,
# 1000 classes and 10,000 and 10,000,000 flows, 3 repetitions of 1 s.
# 10,000,000 flows need about 3 GB of hugepages: vm.nr_hugepages is
# raised for that run if it is short, and put back afterwards.
# Builds nothing (DIR/perf/sluice-bench-worker). Needs root and hugepages.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=3
DURATION=1
WARMUP=0.5
JSON=
CORES=0,1
CLASSES="1 10 100 1000 10000"
FLOWS="1000 10000 100000 1000000 10000000"

usage() {
	sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=0.5 WARMUP=0.3 CLASSES="1 100 10000" FLOWS="1000 100000 1000000" ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	--classes) CLASSES=$2; shift ;;
	--flows) FLOWS=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_scale.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/perf/sluice-bench-worker
JSON=${JSON:-$BUILD/perf/bench_scale.json}
[ "$(id -u)" = 0 ] || { echo "bench_scale.sh: needs root (hugepages, DPDK)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "bench_scale.sh: $BENCH not built (meson compile -C $BUILD)" >&2; exit 1; }

T=$(mktemp -d /tmp/bench_scale.XXXXXX)
HUGE0=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
	# Put back what the big runs took.
	[ "$(cat /proc/sys/vm/nr_hugepages)" = "$HUGE0" ] || echo "$HUGE0" >/proc/sys/vm/nr_hugepages
	rm -rf "$T"
}
trap cleanup EXIT
SOCKET_MEM=512
BENCH_NAME=bench_scale.sh BENCH_PREFIX=slsc
# shellcheck source=perf/bench_lib.sh
. "$HERE/bench_lib.sh"

# table_for FLOWS: sluice-dp's default, or the next power of two that holds them.
table_for() {
	local t=1048576
	while [ "$t" -lt "$1" ]; do t=$((t * 2)); done
	echo "$t"
}

# mem_for FLOWS TABLE: MB of hugepage memory a run needs: 64-byte frames,
# about 160 bytes a table slot (measured: see the report), the rest.
mem_for() {
	echo $(( ($1 * 64 + $2 * 160) / 1048576 + 384 ))
}

# huge_for MB: make sure that many MB of 2 MB hugepages are free.
huge_for() {
	local free need
	free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
	need=$(( $1 / 2 + 16 ))
	if [ "$free" -lt "$need" ]; then
		echo $(( $(cat /proc/sys/vm/nr_hugepages) + need - free )) >/proc/sys/vm/nr_hugepages
		free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
		[ "$free" -ge "$need" ] || {
			echo "bench_scale.sh: $1 MB of hugepages needed, only $((free * 2)) MB free after raising vm.nr_hugepages" >&2
			return 1
		}
	fi
}

CONFIGS=()
for c in $CLASSES; do CONFIGS+=("classes-$c"); done
for f in $FLOWS; do CONFIGS+=("flows-$f" "stamp-$f"); done
echo "scale benchmark: $REPS repetition(s) of ${DURATION}s; classes $CLASSES; flows $FLOWS; lcores $CORES" >&2
for r in $(seq "$REPS"); do
	for c in "${CONFIGS[@]}"; do
		n=${c#*-}
		case $c in
		classes-*)
			SOCKET_MEM=512
			bench_rep "$c" "$T/$c.$r.json" --classes "$n" --flows 100000 --key flow ;;
		flows-*|stamp-*)
			table=$(table_for "$n")
			SOCKET_MEM=$(mem_for "$n" "$table")
			huge_for "$SOCKET_MEM"
			mode=sluice
			[ "${c%%-*}" = stamp ] && mode=stamp
			bench_rep "$c" "$T/$c.$r.json" --mode "$mode" --classes 100 --flows "$n" \
				--table "$table" --key flow ;;
		esac
		echo "  rep $r $c done" >&2
	done
done

python3 - "$T" "$REPS" "$JSON" "$DURATION" "$CORES" "${CONFIGS[@]}" <<'EOF'
import json, os, statistics, subprocess, sys
tdir, reps, out, duration, cores, *configs = sys.argv[1:]
reps = int(reps)
runs = {c: [json.load(open(os.path.join(tdir, f"{c}.{r}.json"))) for r in range(1, reps + 1)]
        for c in configs}
CPU = "cpu_cycles_per_packet"
def med(c, k):
    return statistics.median(x[k] for x in runs[c])
rows = []
for c in configs:
    kind, n = c.split("-")
    if kind == "stamp":
        continue
    j = runs[c][0]
    row = {"config": c, "scan": kind, "classes": j["classes"], "flows": j["flows"], "table": j["table"],
           "key": j.get("key"), "cpu_cycles_per_packet": med(c, CPU), "mpps_cpu": j["tsc_hz"] / 1e6 / med(c, CPU),
           "policy_build_s": med(c, "policy_build_s"),
           "flows_in_table": j["engine"]["flows_in_table"],
           "flow_table_bytes": j.get("flow_table_bytes"),
           "bytes_per_slot": j.get("flow_table_bytes_per_slot"),
           "bytes_per_flow": j.get("flow_table_bytes_per_flow")}
    if kind == "flows":
        s = f"stamp-{n}"
        row["stamp_cycles_per_packet"] = med(s, CPU)
        row["engine_cycles_per_packet"] = statistics.median(
            a[CPU] - b[CPU] for a, b in zip(runs[c], runs[s]))
        # The flow table's working set: what the keys in it occupy.
        if row["bytes_per_slot"]:
            row["working_set_bytes"] = row["bytes_per_slot"] * row["flows"]
    rows.append(row)
caches = {k: runs[configs[0]][0].get(f"cache_{k}_bytes") for k in ("l1d", "l2", "l3")}
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print(f"\nscale benchmark: medians of {reps} x {duration} s; {model}, lcores {cores}, load average {' '.join(load)}")
print(f"caches: L1d {caches['l1d']}, L2 {caches['l2']}, L3 {caches['l3']} bytes")
print(f"{'config':<16} {'classes':>7} {'flows':>9} {'table':>9} {'cycles/pkt':>10} {'engine':>8} {'Mpps/core':>9} {'B/slot':>7} {'table MB':>9}")
def f(v, w, d=1):
    return f"{v:{w}.{d}f}" if v is not None else " " * w
for r in rows:
    mb = r["flow_table_bytes"] / 1048576 if r["flow_table_bytes"] else None
    print(f"{r['config']:<16} {r['classes']:7d} {r['flows']:9d} {r['table']:9d} {f(r[CPU], 10)} "
          f"{f(r.get('engine_cycles_per_packet'), 8)} {f(r['mpps_cpu'], 9, 2)} {f(r['bytes_per_slot'], 7)} {f(mb, 9)}")
json.dump({"bench": "scale", "reps": reps, "duration_s": float(duration), "lcores": cores, "cpu": model,
           "loadavg": [float(x) for x in load], "caches": caches, "table": rows, "runs": runs},
          open(out, "w"), indent=1)
print(f"results: {out}")
EOF
