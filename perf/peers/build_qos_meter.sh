#!/usr/bin/env bash
# Builds DPDK's qos_meter sample (per-flow srTCM/trTCM metering), the
# first peer of the benchmark suite, from the sources Debian's dpdk-doc
# ships, against the system libdpdk (pkg-config), with the sample's own
# Makefile, into DIR/perf/peers/qos_meter (qos_meter-MODE for another
# --mode). Idempotent: a source is replaced only when it changed, and
# make rebuilds only what is stale. Prints the binary's path on stdout.
#
#   perf/peers/build_qos_meter.sh [--build DIR] [--src DIR] [--mode MODE]
#                                 [--frames]
#
# One patch to main.c: the sample asks for Rx checksum offload, which
# net_null lacks (rte_eth_dev_configure fails with -22), so the Rx
# offloads are masked by what the port offers. --mode sets main.c's
# APP_MODE: fwd, srtcm-blind (the sample's default), srtcm-aware,
# trtcm-blind, trtcm-aware.
#
# --frames (into qos_meter-frames, or qos_meter-MODE-frames) also links
# perf/peers/qos_meter_frames.c and perf/bench/traffic.c with
# -Wl,--wrap=rte_eth_dev_start: the sample's rx port then hands it the
# frames of sluice-bench-worker's flows, written by the same rx callback,
# instead of net_null's empty mbufs. main.c stays as above.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
BUILD=$ROOT/build
SRC=/usr/share/dpdk/examples/qos_meter
MODE=srtcm-blind
FRAMES=0

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--src) SRC=$2; shift ;;
	--mode) MODE=$2; shift ;;
	--frames) FRAMES=1 ;;
	-h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build_qos_meter.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -f "$SRC/main.c" ] || { echo "build_qos_meter.sh: no qos_meter sources in $SRC (apt-get install dpdk-doc)" >&2; exit 1; }
pkg-config --exists libdpdk || { echo "build_qos_meter.sh: pkg-config finds no libdpdk (apt-get install libdpdk-dev)" >&2; exit 1; }

case $MODE in
fwd) APP_MODE=APP_MODE_FWD ;;
srtcm-blind) APP_MODE=APP_MODE_SRTCM_COLOR_BLIND ;;
srtcm-aware) APP_MODE=APP_MODE_SRTCM_COLOR_AWARE ;;
trtcm-blind) APP_MODE=APP_MODE_TRTCM_COLOR_BLIND ;;
trtcm-aware) APP_MODE=APP_MODE_TRTCM_COLOR_AWARE ;;
*) echo "build_qos_meter.sh: unknown mode $MODE" >&2; exit 2 ;;
esac
DEST=$BUILD/perf/peers/qos_meter
[ "$MODE" = srtcm-blind ] || DEST=$DEST-$MODE
[ "$FRAMES" = 0 ] || DEST=$DEST-frames
mkdir -p "$DEST"
T=$(mktemp -d /tmp/build_qos_meter.XXXXXX)
trap 'rm -rf "$T"' EXIT
cp "$SRC"/Makefile "$SRC"/*.c "$SRC"/*.h "$T"/
SRCS="main.c rte_policer.c"
if [ "$FRAMES" = 1 ]; then
	cp "$HERE/qos_meter_frames.c" "$ROOT/perf/bench/traffic.c" "$ROOT/perf/bench/bench.h" "$T"/
	SRCS="$SRCS qos_meter_frames.c traffic.c"
fi
sed -i -e "s/^#define APP_MODE\t.*/#define APP_MODE\t$APP_MODE/" \
	-e 's/^\(\tconf.rx_adv_conf.rss_conf.rss_hf &= dev_info.flow_type_rss_offloads;\)$/\1\n\tconf.rxmode.offloads \&= dev_info.rx_offload_capa;/' \
	"$T"/main.c
grep -qP "^#define APP_MODE\\t$APP_MODE\$" "$T"/main.c &&
	[ "$(grep -c 'conf.rxmode.offloads &= dev_info.rx_offload_capa' "$T"/main.c)" = 2 ] ||
	{ echo "build_qos_meter.sh: $SRC/main.c is not the one the patch expects" >&2; exit 1; }
# Only changed files are replaced: their times tell make what is stale.
for f in "$T"/*; do
	cmp -s "$f" "$DEST/${f##*/}" || cp "$f" "$DEST"/
done
# The sample's Makefile adds its own flags to CFLAGS and LDFLAGS from the
# environment; SRCS-y on the command line replaces its list of sources.
CFLAGS="-I$DEST" LDFLAGS="$([ "$FRAMES" = 0 ] || echo -Wl,--wrap=rte_eth_dev_start)" \
	make -s -C "$DEST" shared "SRCS-y=$SRCS" >&2
BIN=$DEST/build/qos_meter
[ -x "$BIN" ] || { echo "build_qos_meter.sh: make left no $BIN" >&2; exit 1; }
echo "$BIN"
