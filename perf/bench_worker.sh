#!/usr/bin/env bash
# The worker benchmark: sluice-dp's worker loop (sluice-bench-worker) next
# to dpdk-testpmd's io and macswap forwarding, on the same two net_null
# ports, the same lcores, burst and mbuf pool, repetitions interleaved so
# that every configuration meets the same noise. Prints a table of
# medians and the ratios to io and macswap, and writes them as JSON.
# Unless --no-drops, also a quarter of the classes policed to 20 pps
# (sluice-drops) and the same quarter shaped instead (sluice-shape).
#
#   perf/bench_worker.sh [--quick] [--reps N] [--duration S] [--json FILE]
#                        [--build DIR] [--cores LIST] [--no-drops] [--payload]
#
# --payload adds sluice with payload classes in front of the classes:
# never scanned (pl-idle), every packet scanned and none matching
# (pl-scan), every packet taken by its payload class (pl-match).
#
# Builds nothing: expects sluice-bench-worker in DIR/perf (default build).
# Needs root and hugepages (deploy/setup.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=5
DURATION=2
WARMUP=0.5
JSON=
CORES=0,1
DROPS=1
PAYLOAD=0
TESTPMD=${TESTPMD:-dpdk-testpmd}
SOCKET_MEM=512

usage() {
	sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=1 WARMUP=0.3 ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	--no-drops) DROPS=0 ;;
	--payload) PAYLOAD=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_worker.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/perf/sluice-bench-worker
JSON=${JSON:-$BUILD/perf/bench_worker.json}
[ "$(id -u)" = 0 ] || { echo "bench_worker.sh: needs root (hugepages, DPDK)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "bench_worker.sh: $BENCH not built (meson compile -C $BUILD)" >&2; exit 1; }
command -v "$TESTPMD" >/dev/null || { echo "bench_worker.sh: $TESTPMD not found" >&2; exit 1; }

T=$(mktemp -d /tmp/bench_worker.XXXXXX)
trap 'rm -rf "$T"' EXIT
# The same EAL for every configuration: the first core the main lcore,
# the second the one that forwards.
BENCH_NAME=bench_worker.sh BENCH_PREFIX=slbw
# shellcheck source=perf/bench_lib.sh
. "$HERE/bench_lib.sh"

# testpmd MODE OUT: one repetition of testpmd forwarding in MODE; the
# same pool (8192 mbufs, cache 256) and burst (32) as sluice-dp's. Rates
# come from testpmd's own "since last show" port throughput, cycles from
# --record-core-cycles over the same window.
testpmd_rep() {
	local mode=$1 out=$2 log=$T/testpmd-$1.log fifo=$T/testpmd.in pid i
	rm -f "$fifo"
	mkfifo "$fifo"
	# shellcheck disable=SC2046
	"$TESTPMD" -l "$CORES" $(net_null_eal "tp-$mode") -- -i --forward-mode="$mode" \
		--record-core-cycles --no-flush-rx --burst=32 --mbcache=256 \
		--total-num-mbufs=8192 --nb-cores=1 --rxq=1 --txq=1 \
		<"$fifo" >"$log" 2>&1 &
	pid=$!
	exec 3>"$fifo"
	for i in $(seq 300); do
		grep -q 'testpmd>' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "start" >&3
	sleep "$WARMUP"
	# The forwarding lcore's CPU time, read as the window opens and closes.
	fwd=$(grep -l -e '-worker-' /proc/"$pid"/task/*/comm | head -1)
	printf 'clear fwd stats all\nshow port stats all\n' >&3
	read -r cpu0 _ <"${fwd%comm}schedstat"
	sleep "$DURATION"
	printf 'show port stats all\nshow fwd stats all\n' >&3
	read -r cpu1 _ <"${fwd%comm}schedstat"
	sleep 0.2
	printf 'stop\nquit\n' >&3
	exec 3>&-
	wait "$pid" || { echo "bench_worker.sh: testpmd $mode failed, see below" >&2; tail -20 "$log" >&2; return 1; }
	python3 - "$log" "$mode" "$out" $((cpu1 - cpu0)) <<'EOF'
import json, re, sys
log, mode, out, cpu_ns = sys.argv[1:]
text = open(log, errors="replace").read()
pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
cyc = re.search(r"CPU cycles/packet=([\d.]+) \(total cycles=(\d+) / total \w+ packets=(\d+)\) at (\d+) MHz", text)
if len(pps) < 4 or cyc is None or int(cyc.group(3)) == 0:
    sys.exit(f"bench_worker.sh: testpmd {mode}: no rates or cycles in {log}")
packets, mhz = int(cyc.group(3)), int(cyc.group(4))
json.dump({"mpps": sum(pps[-2:]) / 1e6, "cycles_per_packet": float(cyc.group(1)),
           "cpu_cycles_per_packet": int(cpu_ns) * 1e-3 * mhz / packets,
           "cpu_seconds": int(cpu_ns) * 1e-9, "packets": packets,
           "busy_cycles": int(cyc.group(2)), "tsc_mhz": mhz}, open(out, "w"))
EOF
}

CONFIGS="io macswap bare stamp sluice"
[ "$PAYLOAD" = 1 ] && CONFIGS="$CONFIGS sluice-pl-idle sluice-pl-scan sluice-pl-match"
[ "$DROPS" = 1 ] && CONFIGS="$CONFIGS sluice-drops sluice-shape"
echo "worker benchmark: $REPS repetition(s) of ${DURATION}s, lcores $CORES, 100 classes, 100000 flows, 64-byte frames, burst 32" >&2
for r in $(seq "$REPS"); do
	for c in $CONFIGS; do
		out=$T/$c.$r.json
		case $c in
		io|macswap) testpmd_rep "$c" "$out" ;;
		bare|stamp|sluice) bench_rep "$c" "$out" --mode "$c" ;;
		sluice-drops) bench_rep "$c" "$out" --mode sluice --mix drops ;;
		sluice-pl-*) bench_rep "$c" "$out" --mode sluice --payload "${c#sluice-pl-}" ;;
		sluice-shape) bench_rep "$c" "$out" --mode sluice --mix shape ;;
		esac
		python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("  rep %s %-13s %8.2f Mpps %8.2f cycles/packet (busy TSC) %8.2f (CPU time)" % (sys.argv[2], sys.argv[3], j["mpps"], j["cycles_per_packet"], j["cpu_cycles_per_packet"]))' "$out" "$r" "$c" >&2
	done
done

python3 - "$T" "$REPS" "$CONFIGS" "$JSON" "$DURATION" "$CORES" <<'EOF'
import json, os, statistics, subprocess, sys
tdir, reps, configs, out, duration, cores = sys.argv[1:]
reps, configs = int(reps), configs.split()
runs = {c: [json.load(open(os.path.join(tdir, f"{c}.{r}.json"))) for r in range(1, reps + 1)]
        for c in configs}
CPU, TSC = "cpu_cycles_per_packet", "cycles_per_packet"
# Packets per second of the forwarding thread's CPU time: the rate on a
# core of its own, which the wall-clock rate of a shared machine is not.
for c in configs:
    for x in runs[c]:
        mhz = x["tsc_mhz"] if "tsc_mhz" in x else x["tsc_hz"] / 1e6
        x["mpps_cpu"] = mhz / x[CPU]
med = {c: {k: statistics.median(x[k] for x in runs[c]) for k in ("mpps", "mpps_cpu", CPU, TSC)}
       for c in configs}
# What the engine costs, and sluice without writing the frames that
# net_null leaves empty (a NIC delivers them): per repetition, then median.
def derived(f):
    return {k: statistics.median(f(*x, k) for x in zip(runs["sluice"], runs["stamp"], runs["bare"]))
            for k in (CPU, TSC)}
rows = [dict(config=c, **med[c]) for c in configs]
rows.append(dict(config="engine (sluice-stamp)", mpps=None, mpps_cpu=None,
                 **derived(lambda s, t, b, k: s[k] - t[k])))
rows.append(dict(config="sluice w/o frame writes", mpps=None, mpps_cpu=None,
                 **derived(lambda s, t, b, k: s[k] - (t[k] - b[k]))))
# Shaping against policing: the same quarter of the classes held to
# 20 pps, shaped ({ shape: 10ms }) instead of dropped, marked or monitored.
if "sluice-shape" in configs:
    rows.append(dict(config="shape - police (drops)", mpps=None, mpps_cpu=None,
                     **{k: statistics.median(s[k] - d[k] for s, d in
                                             zip(runs["sluice-shape"], runs["sluice-drops"]))
                        for k in (CPU, TSC)}))
for r in rows:
    for k, peer in ((CPU, "io"), (CPU, "macswap"), (TSC, "io"), (TSC, "macswap")):
        r[f"{'cpu_' if k == CPU else ''}ratio_{peer}"] = r[k] / med[peer][k]
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print(f"\nworker benchmark: medians of {reps} x {duration} s; {model}, lcores {cores}, load average {' '.join(load)}")
print("Mpps: wall clock; Mpps/core: per second of the forwarding thread's CPU time. cycles/pkt:")
print("TSC cycles per packet of that CPU time (others' time on the core left out); busy TSC:")
print("as testpmd --record-core-cycles counts them, others' time included.")
print(f"{'':58}{'ratio (CPU time)':>17} {'ratio (busy TSC)':>17}")
print(f"{'config':<24} {'Mpps':>7} {'Mpps/core':>9} {'cycles/pkt':>10} {'busy TSC':>9} "
      f"{'x io':>7} {'x macswap':>9} {'x io':>7} {'x macswap':>9}")
def num(v, w):
    return f"{v:{w}.2f}" if v is not None else " " * w
for r in rows:
    print(f"{r['config']:<24} {num(r['mpps'], 7)} {num(r['mpps_cpu'], 9)} {r[CPU]:10.2f} {r[TSC]:9.2f} "
          f"{r['cpu_ratio_io']:7.2f} {r['cpu_ratio_macswap']:9.2f} {r['ratio_io']:7.2f} {r['ratio_macswap']:9.2f}")
goal = med["sluice"][CPU] / med["macswap"][CPU]
print(f"goal, sluice at most 2x macswap's cycles per packet: {goal:.2f}x ({'met' if goal <= 2 else 'not met'})")
json.dump({"reps": reps, "duration_s": float(duration), "lcores": cores, "cpu": model,
           "loadavg": [float(x) for x in load], "table": rows, "runs": runs,
           "sluice_over_macswap": goal}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
