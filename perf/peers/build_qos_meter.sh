#!/usr/bin/env bash
# Builds DPDK's qos_meter sample (per-flow srTCM/trTCM metering), the
# first peer of the benchmark suite, from the sources Debian's dpdk-doc
# ships, against the system libdpdk (pkg-config), with the sample's own
# Makefile. Unmodified: its APP_MODE is the one main.c defines
# (APP_MODE_SRTCM_COLOR_BLIND in DPDK 22.11). Idempotent: copies the
# sources only when they changed, and make rebuilds only what is stale.
# Prints the binary's path on stdout.
#
#   perf/peers/build_qos_meter.sh [--build DIR] [--src DIR]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
BUILD=$ROOT/build
SRC=/usr/share/dpdk/examples/qos_meter

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--src) SRC=$2; shift ;;
	-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build_qos_meter.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -f "$SRC/main.c" ] || { echo "build_qos_meter.sh: no qos_meter sources in $SRC (apt-get install dpdk-doc)" >&2; exit 1; }
pkg-config --exists libdpdk || { echo "build_qos_meter.sh: pkg-config finds no libdpdk (apt-get install libdpdk-dev)" >&2; exit 1; }

DEST=$BUILD/perf/peers/qos_meter
mkdir -p "$DEST"
# cp -u keeps the copies' times when the sources did not change, so a
# second run finds the binary up to date.
cp -u "$SRC"/Makefile "$SRC"/*.c "$SRC"/*.h "$DEST"/
make -s -C "$DEST" shared >&2
BIN=$DEST/build/qos_meter
[ -x "$BIN" ] || { echo "build_qos_meter.sh: make left no $BIN" >&2; exit 1; }
echo "$BIN"
