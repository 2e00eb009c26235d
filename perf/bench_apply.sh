#!/usr/bin/env bash
# Policy apply time by class count, through the whole control path an
# operator uses: `sluicectl policy apply` -> sluiced (parse, validate,
# store) -> sluice-dp (compile the classifier and ruleset, publish with
# RCU, acknowledge). sluice-dp forwards between two net_null ports the
# whole time, so every apply happens under full load.
#
#   perf/bench_apply.sh [--quick] [--reps N] [--classes "1 10 ..."]
#                       [--json FILE] [--build DIR] [--cores LIST]
#
# For each class count N and repetition: apply a 1-class policy, then
# the N-class one (timed), then check it with --dry-run (timed: parse and
# validate only). Reported per N, medians: the wall time of the sluicectl
# command (ms), sluiced's own apply_ms (what it took from the request to
# the dataplane's acknowledgement), the dry run's apply_ms, and the
# policy's size. No peer: nothing else applies this policy language.
#
# Builds nothing (DIR/dataplane/sluice-dp, DIR/control/sluiced and
# sluicectl). Needs root and hugepages.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
REPS=5
CLASSES="1 10 100 1000 10000"
JSON=
CORES=0,1

usage() {
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=2 CLASSES="1 100 10000" ;;
	--reps) REPS=$2; shift ;;
	--classes) CLASSES=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--cores) CORES=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_apply.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
DP=$BUILD/dataplane/sluice-dp
SLUICED=$BUILD/control/sluiced
CTL=$BUILD/control/sluicectl
JSON=${JSON:-$BUILD/perf/bench_apply.json}
[ "$(id -u)" = 0 ] || { echo "bench_apply.sh: needs root (hugepages, DPDK)" >&2; exit 1; }
for b in "$DP" "$SLUICED" "$CTL"; do
	[ -x "$b" ] || { echo "bench_apply.sh: $b not built (meson compile -C $BUILD)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/bench_apply.XXXXXX)
PIDS=()
cleanup() {
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill "$p" 2>/dev/null || true
	done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

# policy N FILE: N classes laid out as sluice-bench-worker's dense layout
# (class i: source 10.(i>>6).((i&63)<<2).0/22, destination ports
# 1000+4i..1003+4i), a mix of keys and limits, every one its own rule.
policy() {
	python3 - "$1" >"$2" <<'PY'
import sys
n = int(sys.argv[1])
out = ["version: 1", "default: pass", "classes:"]
keys = ["flow"] * 6 + ["src"] * 3 + ["dst"]
for i in range(n):
    proto = "udp" if i % 2 == 0 else "tcp"
    limit = f"rate: {100 + i % 900}kpps, burst: 10000" if i % 3 else "rate: 1Gbit, burst: 1MB"
    out += [f"  - name: c{i}",
            f"    match: {{ proto: {proto}, src: 10.{i >> 6}.{(i & 63) << 2}.0/22, dport: {1000 + 4 * i}-{1003 + 4 * i} }}",
            f"    limit: {{ key: {keys[i % 10]}, {limit} }}",
            f"    exceed: {['drop', '{ mark: cs1 }', 'monitor'][i % 3]}"]
print("\n".join(out))
PY
}

for n in 1 $CLASSES; do
	policy "$n" "$T/p$n.yaml"
done

"$DP" -l "${CORES##*,}" --no-pci --in-memory --file-prefix "slap$$" --socket-mem 512 \
	--vdev net_null0 --vdev net_null1 --log-level=lib.eal:warning --log-level=pmd:warning \
	-- --policy "$T/p1.yaml" --flows 65536 --ctl-socket "$T/dp.sock" >"$T/dp.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	grep -q 'polling queue' "$T/dp.log" && break
	kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$T/dp.log" >&2; exit 1; }
	sleep 0.1
done
grep -q 'polling queue' "$T/dp.log" || { echo "bench_apply.sh: sluice-dp did not start" >&2; exit 1; }
"$SLUICED" --socket "$T/sluiced.sock" --dp-socket "$T/dp.sock" --state-dir "$T/state" \
	--metrics none --pair none --log-stderr >"$T/sluiced.log" 2>&1 &
PIDS+=($!)
# Until sluiced has the dataplane: an apply before that is only stored.
dp_path() {
	"$CTL" -s "$T/sluiced.sock" --json status 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("path"))' 2>/dev/null || true
}
for _ in $(seq 300); do
	[ -S "$T/sluiced.sock" ] && [ "$(dp_path)" = dpdk ] && break
	sleep 0.1
done
[ "$(dp_path)" = dpdk ] || {
	echo "bench_apply.sh: sluiced did not reach sluice-dp in 30 s:" >&2
	tail -5 "$T/sluiced.log" >&2
	exit 1
}

# apply OUT FILE [--dry-run]: the reply and the wall time, as one JSON object.
apply() {
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$CTL" -s "$T/sluiced.sock" --json policy apply "$@" >"$out.reply" 2>"$out.err" || {
		echo "bench_apply.sh: sluicectl policy apply $*: $(cat "$out.err")" >&2
		return 1
	}
	t1=$(date +%s%N)
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
r["wall_ms"] = (int(sys.argv[3]) - int(sys.argv[2])) / 1e6
print(json.dumps(r))' "$out.reply" "$t0" "$t1" >"$out"
}

echo "apply benchmark: $REPS repetition(s), classes $CLASSES; sluice-dp on lcore ${CORES##*,} forwarding net_null" >&2
for r in $(seq "$REPS"); do
	for n in $CLASSES; do
		apply "$T/base.json" "$T/p1.yaml"
		# The dataplane frees the ruleset it replaced after a grace
		# period: let that pass, so that it is not the next apply's.
		sleep 0.5
		apply "$T/apply.$n.$r.json" "$T/p$n.yaml"
		apply "$T/dry.$n.$r.json" "$T/p$n.yaml" --dry-run
	done
	echo "  rep $r done" >&2
done
kill -0 "${PIDS[0]}" || { echo "bench_apply.sh: sluice-dp died:" >&2; tail "$T/dp.log" >&2; exit 1; }

python3 - "$T" "$REPS" "$CLASSES" "$JSON" <<'EOF'
import json, os, statistics, subprocess, sys
tdir, reps, classes, out = sys.argv[1:]
reps, classes = int(reps), [int(c) for c in classes.split()]
rows, runs = [], {}
for n in classes:
    a = [json.load(open(os.path.join(tdir, f"apply.{n}.{r}.json"))) for r in range(1, reps + 1)]
    d = [json.load(open(os.path.join(tdir, f"dry.{n}.{r}.json"))) for r in range(1, reps + 1)]
    for x in a:
        if not x.get("pushed") or x.get("classes") != n:
            sys.exit(f"bench_apply.sh: the {n}-class apply was not pushed whole: {x}")
    runs[str(n)] = {"apply": a, "dry_run": d}
    rows.append({"config": f"{n} class" + ("" if n == 1 else "es"), "classes": n,
                 "policy_bytes": os.path.getsize(os.path.join(tdir, f"p{n}.yaml")),
                 "wall_ms": statistics.median(x["wall_ms"] for x in a),
                 "apply_ms": statistics.median(x["apply_ms"] for x in a),
                 "dry_run_ms": statistics.median(x["apply_ms"] for x in d)})
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print(f"\napply benchmark: medians of {reps}; {model}, load average {' '.join(load)}")
print("wall: the sluicectl command; apply: sluiced, request to dataplane acknowledgement; dry run: parse and validate")
print(f"{'config':<14} {'policy KB':>9} {'wall ms':>9} {'apply ms':>9} {'dry run ms':>10}")
for r in rows:
    print(f"{r['config']:<14} {r['policy_bytes'] / 1024:9.1f} {r['wall_ms']:9.1f} {r['apply_ms']:9.1f} {r['dry_run_ms']:10.1f}")
json.dump({"bench": "apply", "reps": reps, "cpu": model, "loadavg": [float(x) for x in load],
           "table": rows, "runs": runs}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
