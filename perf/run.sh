#!/usr/bin/env bash
# The whole benchmark suite, one command: builds what is missing, runs
# every bench script of perf/ one after another (never two at once: they
# would measure each other), then writes the report: JSON, a Markdown
# page and PNG plots (perf/report.py, gnuplot).
#
#   sudo perf/run.sh [--quick | --full] [--out DIR] [--build DIR]
#                    [--only LIST] [--skip LIST] [--list]
#
#   --quick   CI-sized: one short repetition each, fewer points (about 10
#             minutes on a 2-core VM). The default.
#   --full    for a real host: 3-5 repetitions, every point, 10,000,000
#             flows (needs about 3 GB of hugepages; the flows scan raises
#             vm.nr_hugepages for its run and puts it back). About an hour.
#   --out DIR where the report goes (default BUILD/perf/report-MODE):
#             DIR/report.md, DIR/report.json, DIR/plots/*.png,
#             DIR/json/BENCH.json (each bench's own), DIR/logs/BENCH.log.
#   --only, --skip  comma-separated bench names (see --list).
#   --report-only   run nothing: write the report again from what DIR
#             holds (json/, status.tsv), e.g. after changing report.py.
#
# Exit status: 0 when every bench ran (or was skipped for a reason it
# printed, exit 77: no tc police support, say), 1 when any failed; the
# report is written either way. Needs root and hugepages (deploy/setup.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
MODE=quick
OUT=
ONLY=
SKIP=
REPORT_ONLY=0

# name: what it measures (the script is perf/bench_NAME.sh)
BENCHES="worker qos_meter scale latency payload rate apply kernel xdp"
describe() {
	case $1 in
	worker) echo "worker loop vs dpdk-testpmd io/macswap, net_null ports" ;;
	qos_meter) echo "per-flow metering vs DPDK's qos_meter sample, same ports" ;;
	scale) echo "cycles/packet by classes (1-10,000) and active flows (1,000-10,000,000)" ;;
	latency) echo "rx-to-tx latency p50/p99/p99.9, with and without the engine" ;;
	payload) echo "payload classes by Hyperscan pattern count and payload size" ;;
	rate) echo "rate accuracy 1 kpps-10 Mpps (sluicectl replay)" ;;
	apply) echo "policy apply time by class count (sluicectl -> sluiced -> sluice-dp)" ;;
	kernel) echo "sluice-dp vs the kernel's tc police on the veth lab" ;;
	xdp) echo "the XDP path vs a plain XDP program" ;;
	esac
}

usage() {
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) MODE=quick ;;
	--full) MODE=full ;;
	--out) OUT=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--skip) SKIP=$2; shift ;;
	--report-only) REPORT_ONLY=1 ;;
	--list)
		for b in $BENCHES; do printf '%-10s %s\n' "$b" "$(describe "$b")"; done
		exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
for b in ${ONLY//,/ } ${SKIP//,/ }; do
	case " $BENCHES " in
	*" $b "*) ;;
	*) echo "run.sh: no bench named $b (perf/run.sh --list)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (hugepages, DPDK, BPF, namespaces)" >&2; exit 1; }
grep -q hugetlbfs /proc/mounts || { echo "run.sh: no hugetlbfs mounted (deploy/setup.sh sets it up)" >&2; exit 1; }
OUT=${OUT:-$BUILD/perf/report-$MODE}

# selected NAME: whether --only/--skip leave NAME in.
selected() {
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]] || return 1
	[[ ",$SKIP," != *",$1,"* ]]
}

# core_clock: the forwarding core's clock against the TSC's (JSON), so
# that TSC cycles can be stated as core cycles; measured before and
# after, as boost moves with the machine's load.
core_clock() {
	[ -x "$BUILD/perf/sluice-core-clock" ] && taskset -c "$(($(nproc) - 1))" "$BUILD/perf/sluice-core-clock" 1 || echo '{}'
}
if [ "$REPORT_ONLY" = 1 ]; then
	[ -s "$OUT/status.tsv" ] || { echo "run.sh: no results in $OUT (status.tsv)" >&2; exit 1; }
	STATUS=$OUT/status.tsv
	# What the run recorded as it started; without it, its end less the
	# benches' seconds.
	t_start=$(( $(stat -c %Y "$STATUS") - $(awk -F'\t' '{s += $3} END {print s + 0}' "$STATUS") ))
	started=$(date -u -d "@$t_start" +%FT%TZ)
	load_start="? ? ?"
	load_end="? ? ?"
	clock_start='{}'
	clock_end=
	# shellcheck source=/dev/null
	[ ! -f "$OUT/run.env" ] || . "$OUT/run.env"
	# A run from before the clock was recorded: measure it once, now, and
	# keep it, so that every later rendering states the same figures.
	if [ -z "$clock_end" ]; then
		clock_end=$(core_clock)
		printf 'clock_end=%q\n' "$clock_end" >>"$OUT/run.env"
	fi
	t_end=$(stat -c %Y "$STATUS")
	failed=$(grep -c $'\tfailed' "$STATUS" || true)
else
	# Build what the benches run: one meson build, as the test suite uses.
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$ROOT" >/dev/null
	fi
	meson compile -C "$BUILD" -j"$(nproc)" >/dev/null ||
		{ echo "run.sh: build failed: meson compile -C $BUILD" >&2; exit 1; }

	rm -rf "$OUT"
	mkdir -p "$OUT/json" "$OUT/logs"
	git -C "$ROOT" describe --always --dirty >"$OUT/commit" 2>/dev/null || echo unknown >"$OUT/commit"

	clock_start=$(core_clock)
	started=$(date -u +%FT%TZ)
	t_start=$(date +%s)
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	printf 'started=%q\nt_start=%q\nload_start=%q\nclock_start=%q\n' \
		"$started" "$t_start" "$load_start" "$clock_start" >"$OUT/run.env"
	STATUS=$OUT/status.tsv
	: >"$STATUS"
	failed=0
	echo "perf/run.sh --$MODE: results in $OUT" >&2
	for b in $BENCHES; do
		selected "$b" || continue
		script=$HERE/bench_$b.sh
		args=(--json "$OUT/json/$b.json" --build "$BUILD")
		[ "$MODE" = quick ] && args=(--quick "${args[@]}")
		if [ ! -f "$script" ]; then
			printf '%s\tmissing\t0\t%s\n' "$b" "$script" >>"$STATUS"
			continue
		fi
		echo "== $b: $(describe "$b")" >&2
		t0=$(date +%s)
		rc=0
		bash "$script" "${args[@]}" >"$OUT/logs/$b.log" 2>&1 || rc=$?
		t1=$(date +%s)
		case $rc in
		0) st=ok ;;
		77) st=skipped ;;
		*) st="failed ($rc)"; failed=$((failed + 1)) ;;
		esac
		[ "$rc" = 0 ] && [ ! -s "$OUT/json/$b.json" ] && { st="failed (no JSON)"; failed=$((failed + 1)); }
		echo "   $st in $((t1 - t0)) s; log: $OUT/logs/$b.log" >&2
		[ "$st" = ok ] || tail -5 "$OUT/logs/$b.log" | sed 's/^/   | /' >&2
		printf '%s\t%s\t%s\tperf/bench_%s.sh %s\n' "$b" "$st" "$((t1 - t0))" "$b" \
			"$([ "$MODE" = quick ] && echo --quick)" >>"$STATUS"
	done
	t_end=$(date +%s)
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	clock_end=$(core_clock)
	printf 'load_end=%q\nclock_end=%q\n' "$load_end" "$clock_end" >>"$OUT/run.env"
fi

# The machine, as the report states it.
python3 - "$OUT" "$MODE" "$started" "$(( t_end - t_start ))" "$load_start" \
	"$(cat "$OUT/commit" 2>/dev/null || echo unknown)" \
	"$clock_start" "$clock_end" "$load_end" <<'EOF'
import json, os, subprocess, sys
out, mode, started, elapsed, load_start, commit, clock0, clock1, load_end = sys.argv[1:]
clocks = [json.loads(c) for c in (clock0, clock1)]
ratios = [c["core_per_tsc"] for c in clocks if "core_per_tsc" in c]
def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None
def cache(level):
    # sysfs when the kernel has it, else what glibc reads from CPUID.
    base = "/sys/devices/system/cpu/cpu0/cache"
    for i in range(8):
        try:
            if open(f"{base}/index{i}/level").read().strip() == str(level) and \
               open(f"{base}/index{i}/type").read().strip() in ("Unified", "Data"):
                s = open(f"{base}/index{i}/size").read().strip()
                return int(s[:-1]) * 1024 if s.endswith("K") else int(s)
        except OSError:
            break
    v = sh("getconf", f"LEVEL{level}_CACHE_SIZE")
    return int(v) if v and v.isdigit() and int(v) > 0 else None
lscpu = (sh("lscpu") or "").splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
huge = {l.split(":")[0]: l.split(":")[1].strip() for l in open("/proc/meminfo") if l.startswith("Huge")}
tsc = None
for name in ("worker", "qos_meter", "scale"):
    try:
        d = json.load(open(os.path.join(out, "json", name + ".json")))
        tsc = d.get("tsc_mhz") or tsc
        for x in d.get("runs", {}).values():
            for y in (x if isinstance(x, list) else [x]):
                if isinstance(y, dict) and y.get("tsc_hz"):
                    tsc = tsc or y["tsc_hz"] / 1e6
    except (OSError, ValueError, AttributeError):
        pass
benches = []
for line in open(os.path.join(out, "status.tsv")):
    name, st, secs, cmd = line.rstrip("\n").split("\t")
    benches.append({"name": name, "status": st, "seconds": int(secs), "command": cmd})
status = {"mode": mode, "started": started, "elapsed_s": int(elapsed), "commit": commit,
          "benches": benches,
          "machine": {"cpu": model, "cores": os.cpu_count(), "tsc_mhz": round(tsc, 1) if tsc else None,
                      "l2_bytes": cache(2), "l3_bytes": cache(3), "memory_gib": round(mem / 1048576, 1),
                      "kernel": os.uname().release, "dpdk": sh("pkg-config", "--modversion", "libdpdk"),
                      "hugepages": f"{huge.get('HugePages_Total')} x {huge.get('Hugepagesize')}",
                      "core_per_tsc": round(sum(ratios) / len(ratios), 4) if ratios else None,
                      "core_mhz": round(sum(c["core_hz"] for c in clocks if "core_hz" in c) / len(ratios) / 1e6)
                                  if ratios else None,
                      "core_clock_runs": clocks,
                      "loadavg_start": load_start.split(),
                      "loadavg_end": load_end.split()}}
json.dump(status, open(os.path.join(out, "status.json"), "w"), indent=1)
EOF
python3 "$HERE/report.py" "$OUT"
# The goals, on the terminal too.
sed -n '/^## Goals/,/^## Machine/p' "$OUT/report.md" | sed '$d'
ok=$(grep -c $'\tok\t' "$STATUS" || true)
echo "perf/run.sh: $ok bench(es) ran, $failed failed; report: $OUT/report.md"
[ "$failed" = 0 ]
