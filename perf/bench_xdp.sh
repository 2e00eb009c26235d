#!/usr/bin/env bash
# The XDP benchmark: sluice's XDP program and a program that only counts
# and passes, under BPF_PROG_TEST_RUN on one pinned CPU (sluice-bench-xdp,
# see perf/README.md). Builds the bench if needed, prints its table and
# keeps it, with the JSON, in the build directory.
#
#   perf/bench_xdp.sh [--quick] [--build DIR] [--cpu N] [--json FILE]
#                     [-- sluice-bench-xdp options]
#
# --quick: 2 rounds of repeat 5000 instead of 5 of 20000 (about 10 s).
# Needs root (BPF_PROG_TEST_RUN of XDP programs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
CPU=$(($(nproc) - 1))
JSON=
ARGS=()

usage() {
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) ARGS+=(--rounds 2 --repeat 5000) ;;
	--build) BUILD=$2; shift ;;
	--cpu) CPU=$2; shift ;;
	--json) JSON=$2; shift ;;
	--) shift; ARGS+=("$@"); break ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_xdp.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench_xdp.sh: needs root (BPF_PROG_TEST_RUN)" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$ROOT" >/dev/null
fi
meson compile -C "$BUILD" -j2 perf/sluice-bench-xdp >/dev/null ||
	{ echo "bench_xdp.sh: build failed: meson compile -C $BUILD perf/sluice-bench-xdp" >&2; exit 1; }
BENCH=$BUILD/perf/sluice-bench-xdp
JSON=${JSON:-$BUILD/perf/bench_xdp.json}
TXT=${JSON%.json}.txt

MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
	echo "$(date -u +%FT%TZ) $BENCH ${ARGS[*]} (taskset -c $CPU)"
	echo "CPU: ${MODEL:-?}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$TXT"
# The progress lines go to stderr; the table is what stdout carries.
taskset -c "$CPU" "$BENCH" ${ARGS[@]+"${ARGS[@]}"} --json "$JSON" | tee -a "$TXT"
echo "results: $TXT, $JSON"
