#!/usr/bin/env bash
# The qos_meter peer benchmark: DPDK's qos_meter sample (per-flow srTCM
# metering, perf/peers/build_qos_meter.sh) next to sluice-bench-worker's
# sluice config, on the same two net_null ports, the same forwarding
# lcore and burst (32) as perf/bench_worker.sh, repetitions interleaved.
# qos_meter runs twice: as DPDK ships it, on net_null's empty mbufs
# (one flow, nothing to read: `qos_meter-empty`), and given the frames
# of sluice-bench-worker's flows by the same rx callback that writes
# them for sluice (`qos_meter`, build_qos_meter.sh --frames): the same
# ports, the same traffic, the same cost of writing it. Also
# sluice-bench-worker's bare and stamp configs, to give sluice without
# the frame writes. Prints medians, the ratio sluice/qos_meter (with
# frames), and writes them as JSON.
#
#   perf/bench_qos_meter.sh [--quick] [--reps N] [--duration S]
#                           [--json FILE] [--build DIR] [--cores LIST]
#
# qos_meter takes exactly one lcore (it runs its loop on the main one):
# it gets the last of --cores, the one sluice-bench-worker forwards on.
# Its ports: -p 3 (port 0 receives, port 1 transmits). It prints no
# statistics, so its rate is port 0's ipackets over the window, read
# through the EAL telemetry socket, and its cycles come from the CPU time
# of its thread (schedstat) at sluice-bench-worker's TSC rate.
# Builds qos_meter if needed, not sluice-bench-worker (DIR/perf).
# Needs root and hugepages.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=5
DURATION=2
WARMUP=0.5
JSON=
CORES=0,1
SOCKET_MEM=512

usage() {
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=1 WARMUP=0.3 ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_qos_meter.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/perf/sluice-bench-worker
JSON=${JSON:-$BUILD/perf/bench_qos_meter.json}
[ "$(id -u)" = 0 ] || { echo "bench_qos_meter.sh: needs root (hugepages, DPDK)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "bench_qos_meter.sh: $BENCH not built (meson compile -C $BUILD)" >&2; exit 1; }
QOS_METER_EMPTY=$("$HERE"/peers/build_qos_meter.sh --build "$BUILD")
QOS_METER=$("$HERE"/peers/build_qos_meter.sh --build "$BUILD" --frames)

T=$(mktemp -d /tmp/bench_qos_meter.XXXXXX)
QPID=
cleanup() {
	[ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
BENCH_NAME=bench_qos_meter.sh BENCH_PREFIX=slqm
# shellcheck source=perf/bench_lib.sh
. "$HERE/bench_lib.sh"

# qos_meter_rep OUT BINARY: one repetition of qos_meter. It loops until
# killed, so the window is read from outside: port stats over telemetry,
# CPU time of its only polling thread (the process's main thread).
qos_meter_rep() {
	local out=$1 bin=$2 prefix=slqm$$-qm log=$T/qos_meter.log sock i
	sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
	# shellcheck disable=SC2046
	"$bin" -l "${CORES##*,}" $(net_null_eal qm) -- -p 3 >"$log" 2>&1 &
	QPID=$!
	for i in $(seq 300); do
		[ -S "$sock" ] && grep -q '^Core' "$log" && break
		kill -0 "$QPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$QPID" 2>/dev/null || { echo "bench_qos_meter.sh: qos_meter failed:" >&2; tail -20 "$log" >&2; return 1; }
	sleep "$WARMUP"
	python3 - "$sock" "/proc/$QPID/task/$QPID/schedstat" "$DURATION" >"$T/qm.raw" <<'PY'
import json, socket, sys, time
sock, sched, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sock)
s.recv(16384)
def sample():
    st = []
    for p in (0, 1):
        s.send(f"/ethdev/stats,{p}".encode())
        st.append(json.loads(s.recv(65536))["/ethdev/stats"])
    return time.monotonic_ns(), int(open(sched).read().split()[0]), st[0]["ipackets"], st[1]["opackets"]
a = sample()
time.sleep(duration)
b = sample()
print(json.dumps({"wall_ns": b[0] - a[0], "cpu_ns": b[1] - a[1], "rx": b[2] - a[2], "tx": b[3] - a[3]}))
PY
	kill "$QPID"
	wait "$QPID" 2>/dev/null || true
	QPID=
	# Killed, it cannot remove its runtime directory itself.
	rm -rf "/var/run/dpdk/$prefix"
	cp "$T/qm.raw" "$out"
}

CONFIGS="qos_meter-empty qos_meter bare stamp sluice"
echo "qos_meter peer benchmark: $REPS repetition(s) of ${DURATION}s, lcores $CORES (qos_meter: ${CORES##*,}), 64-byte frames, burst 32" >&2
for r in $(seq "$REPS"); do
	for c in $CONFIGS; do
		out=$T/$c.$r.json
		case $c in
		qos_meter) qos_meter_rep "$out" "$QOS_METER" ;;
		qos_meter-empty) qos_meter_rep "$out" "$QOS_METER_EMPTY" ;;
		*) bench_rep "$c" "$out" --mode "$c" ;;
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
# qos_meter's cycles at the TSC rate the EAL gives sluice-bench-worker
# (bench_worker.sh's testpmd figures use the same nominal rate).
mhz = statistics.median(x["tsc_hz"] for x in runs["sluice"]) / 1e6
for x in runs["qos_meter"] + runs["qos_meter-empty"]:
    x["mpps"] = x["rx"] * 1e3 / x["wall_ns"]
    x["cpu_cycles_per_packet"] = x["cpu_ns"] * 1e-3 * mhz / x["rx"]
    x["dropped"] = x["rx"] - x["tx"]
CPU = "cpu_cycles_per_packet"
for c in configs:
    for x in runs[c]:
        x["mpps_cpu"] = mhz / x[CPU]
med = {c: {k: statistics.median(x[k] for x in runs[c]) for k in ("mpps", "mpps_cpu", CPU)}
       for c in configs}
nowrite = statistics.median(s[CPU] - (t[CPU] - b[CPU])
                            for s, t, b in zip(runs["sluice"], runs["stamp"], runs["bare"]))
rows = [dict(config=c, **med[c]) for c in configs]
rows.append(dict(config="sluice w/o frame writes", mpps=None, mpps_cpu=None, **{CPU: nowrite}))
for r in rows:
    r["ratio_qos_meter"] = r[CPU] / med["qos_meter"][CPU]
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print(f"\nqos_meter peer benchmark: medians of {reps} x {duration} s; {model}, lcores {cores}, load average {' '.join(load)}")
print("Mpps: wall clock (qos_meter: port 0 rx, one direction); Mpps/core: per second of the")
print(f"forwarding thread's CPU time; cycles/pkt: TSC cycles ({mhz:.0f} MHz) per packet of that CPU time.")
print(f"{'config':<24} {'Mpps':>7} {'Mpps/core':>9} {'cycles/pkt':>10} {'x qos_meter':>11}")
def num(v, w):
    return f"{v:{w}.2f}" if v is not None else " " * w
for r in rows:
    print(f"{r['config']:<24} {num(r['mpps'], 7)} {num(r['mpps_cpu'], 9)} {r[CPU]:10.2f} {r['ratio_qos_meter']:11.2f}")
ratio = med["sluice"][CPU] / med["qos_meter"][CPU]
empty = med["qos_meter-empty"][CPU]
print(f"sluice/qos_meter cycles per packet, the same frames: {ratio:.2f}x; sluice w/o frame writes "
      f"against qos_meter on empty mbufs: {nowrite / empty:.2f}x")
json.dump({"bench": "qos_meter", "reps": reps, "duration_s": float(duration), "lcores": cores, "cpu": model,
           "loadavg": [float(x) for x in load], "tsc_mhz": mhz, "table": rows, "runs": runs,
           "sluice_over_qos_meter": ratio, "sluice_nowrite_over_qos_meter_empty": nowrite / empty}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
