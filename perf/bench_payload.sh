#!/usr/bin/env bash
# What payload classes cost by pattern count and payload size, in one
# run with the L3/L4 baseline, repetitions interleaved so that every
# configuration meets the same noise (sluice-bench-worker, 100 classes,
# 100000 flows, net_null ports):
#
#   base-B       no payload classes, B-byte L4 payloads (B = 64, 512, 1400)
#   scan-N-B     N payload classes (HTTP-style patterns) before the
#                classes; every packet scanned against all N, none matching
#   match-N-B    the same; every packet matches one pattern and is taken
#   drops, shape 64-byte frames, a quarter of the classes policed to
#                20 pps, or shaped ({ shape: 10ms }) instead
#
#   perf/bench_payload.sh [--quick] [--reps N] [--duration S] [--build DIR]
#                         [--cores LIST] [--json FILE]
#
# --quick: 10, 100 and 1000 patterns, 1 repetition of 0.5 s. Prints
# cycles per packet (medians, thread CPU time) and what each adds to the
# baseline of its payload size; writes FILE (default
# DIR/perf/bench_payload.json) and the table beside it as FILE.md.
# 10,000 patterns take about 15 s to load and compile, in every run of
# such a configuration, outside the timed window.
# Builds nothing: expects sluice-bench-worker in DIR/perf (default build).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=3
DURATION=1
WARMUP=0.3
CORES=0,1
PATTERNS="10 100 1000 10000"
SIZES="64 512 1400"
MATCH_SIZES="64 1400"

usage() {
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=0.5 WARMUP=0.3 PATTERNS="10 100 1000" ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	--json) JSON=$2; shift ;;
	--patterns) PATTERNS=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_payload.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/perf/sluice-bench-worker
JSON=${JSON:-$BUILD/perf/bench_payload.json}
[ "$(id -u)" = 0 ] || { echo "bench_payload.sh: needs root (DPDK)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "bench_payload.sh: $BENCH not built (meson compile -C $BUILD)" >&2; exit 1; }

T=$(mktemp -d /tmp/bench_payload.XXXXXX)
trap 'rm -rf "$T"' EXIT
SOCKET_MEM=512
BENCH_NAME=bench_payload.sh BENCH_PREFIX=slbp
# shellcheck source=perf/bench_lib.sh
. "$HERE/bench_lib.sh"

CONFIGS=
for b in $SIZES; do CONFIGS="$CONFIGS base-$b"; done
for n in $PATTERNS; do
	for b in $SIZES; do CONFIGS="$CONFIGS scan-$n-$b"; done
	for b in $MATCH_SIZES; do CONFIGS="$CONFIGS match-$n-$b"; done
done
CONFIGS="$CONFIGS drops shape"
echo "payload benchmark: $REPS repetition(s) of ${DURATION}s, lcores $CORES, patterns $PATTERNS, payloads $SIZES bytes" >&2
for r in $(seq "$REPS"); do
	for c in $CONFIGS; do
		out=$T/$c.$r.json
		IFS=- read -r kind n b <<<"$c"
		case $kind in
		base) bench_rep "$c" "$out" --payload-size "$n" ;;
		scan|match) bench_rep "$c" "$out" --payload "$kind" --patterns "$n" --payload-size "$b" ;;
		drops|shape) bench_rep "$c" "$out" --mix "$kind" ;;
		esac
		python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("  rep %s %-16s %8.2f cycles/packet (CPU time), policy built in %.2f s" % (sys.argv[2], sys.argv[3], j["cpu_cycles_per_packet"], j["policy_build_s"]))' "$out" "$r" "$c" >&2
	done
done

python3 - "$T" "$REPS" "$CONFIGS" "$JSON" "$DURATION" "$CORES" <<'EOF'
import json, os, statistics, subprocess, sys
tdir, reps, configs, out, duration, cores = sys.argv[1:]
reps, configs = int(reps), configs.split()
runs = {c: [json.load(open(os.path.join(tdir, f"{c}.{r}.json"))) for r in range(1, reps + 1)]
        for c in configs}
CPU = "cpu_cycles_per_packet"
med = {c: statistics.median(x[CPU] for x in runs[c]) for c in configs}
# Added cycles: per repetition against the baseline of the same
# payload size in the same repetition, then the median.
def added(c, base):
    return statistics.median(x[CPU] - y[CPU] for x, y in zip(runs[c], runs[base]))
rows = []
for c in configs:
    parts = c.split("-")
    j = runs[c][0]
    row = dict(config=c, payload=j["payload"], patterns=j["patterns"],
               payload_bytes=j["payload_bytes"] or None, mix=j["mix"],
               cycles_per_packet=med[c], mpps_cpu=j["tsc_hz"] / 1e6 / med[c],
               policy_build_s=statistics.median(x["policy_build_s"] for x in runs[c]),
               scanned=j["engine"]["payload_scanned"], added=None, vs=None)
    if parts[0] in ("scan", "match"):
        row["vs"] = f"base-{parts[2]}"
        row["added"] = added(c, row["vs"])
    elif parts[0] == "shape":
        row["vs"] = "drops"
        row["added"] = added(c, "drops")
    rows.append(row)
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
head = (f"payload benchmark: medians of {reps} x {duration} s; {model}, lcores {cores}, "
        f"load average {' '.join(load)}; 100 classes, 100000 flows; TSC cycles per packet "
        f"of the forwarding thread's CPU time")
md = [head, "", "| config | payload | patterns | L4 payload bytes | cycles/pkt | Mpps/core | added | vs | build s |",
      "|---|---|---:|---:|---:|---:|---:|---|---:|"]
print("\n" + head)
print(f"{'config':<16} {'payload':>7} {'patterns':>8} {'bytes':>5} {'cycles/pkt':>10} {'Mpps/core':>9} {'added':>8} {'vs':<9} {'build s':>7}")
def num(v, f):
    return f"{v:{f}}" if v is not None else ""
for r in rows:
    print(f"{r['config']:<16} {r['payload']:>7} {r['patterns']:>8} {num(r['payload_bytes'], 'd'):>5} "
          f"{r['cycles_per_packet']:10.1f} {r['mpps_cpu']:9.2f} {num(r['added'], '+.1f'):>8} "
          f"{r['vs'] or '':<9} {r['policy_build_s']:7.2f}")
    md.append(f"| {r['config']} | {r['payload']} | {r['patterns']} | {num(r['payload_bytes'], 'd') or '64-byte frame'} | "
              f"{r['cycles_per_packet']:.1f} | {r['mpps_cpu']:.2f} | {num(r['added'], '+.1f')} | {r['vs'] or ''} | "
              f"{r['policy_build_s']:.2f} |")
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
json.dump({"reps": reps, "duration_s": float(duration), "lcores": cores, "cpu": model,
           "loadavg": [float(x) for x in load], "table": rows, "runs": runs},
          open(out, "w"), indent=1)
open(out + ".md", "w").write("\n".join(md) + "\n")
print(f"results: {out}, {out}.md")
EOF
