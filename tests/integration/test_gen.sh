#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test of sluice-gen: send through net_af_packet on a veth
# pair between two network namespaces, capture on the peer with tcpdump,
# and check the frames (fields, checksums, flow order) and the rate with
# scapy (tests/integration/gen_verify.py).
#
# Usage: tests/integration/test_gen.sh [path/to/sluice-gen]
# Needs root, hugepages, tcpdump and Debian's python3-scapy. Exits 0 when
# every check passes, 1 on a failure, 77 (skip) when it cannot run here.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GEN=${1:-${SLUICE_GEN:-$ROOT/build/perf/sluice-gen}}
VERIFY="/usr/bin/python3 $HERE/gen_verify.py"
LCORE=${SLG_LCORE:-1}
TAG=$$
NS_TX=slg-tx-$TAG
NS_RX=slg-rx-$TAG
IF_TX=slg-o$TAG
IF_RX=slg-i$TAG
WORK=$(mktemp -d /tmp/slg-test.XXXXXX)
TCPDUMP_PID=
FAILED=0

log() { printf 'test_gen: %s\n' "$*"; }

cleanup() {
	if [ -n "$TCPDUMP_PID" ]; then
		kill "$TCPDUMP_PID" 2>/dev/null || true
	fi
	ip netns del "$NS_TX" 2>/dev/null || true
	ip netns del "$NS_RX" 2>/dev/null || true
	ip link del "$IF_TX" 2>/dev/null || true
	if [ "$FAILED" -ne 0 ]; then
		log "captures and reports kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { log "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, hugepages)"
[ -x "$GEN" ] || skip "no sluice-gen at $GEN (build first)"
command -v tcpdump >/dev/null || skip "no tcpdump"
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || skip "no python3-scapy"
[ "$(cat /proc/sys/vm/nr_hugepages)" -gt 0 ] || skip "no hugepages"

# Two namespaces joined by a veth pair; IPv6 off so the kernel stays quiet.
setup_net() {
	ip netns add "$NS_TX"
	ip netns add "$NS_RX"
	ip link add "$IF_TX" type veth peer name "$IF_RX"
	ip link set "$IF_TX" netns "$NS_TX"
	ip link set "$IF_RX" netns "$NS_RX"
	for ns in "$NS_TX" "$NS_RX"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$NS_TX" link set "$IF_TX" up
	ip -n "$NS_RX" link set "$IF_RX" up
	RX_MAC=$(ip -n "$NS_RX" -o link show "$IF_RX" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
}

# Starts tcpdump on the peer, writing incoming frames to $1.
start_capture() {
	timeout 60 ip netns exec "$NS_RX" tcpdump -i "$IF_RX" -Q in -n -U \
		-B 65536 -s 0 -w "$1" 2>"$WORK/tcpdump.err" &
	TCPDUMP_PID=$!
	for _ in $(seq 50); do
		grep -q 'listening on' "$WORK/tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	log "tcpdump did not start: $(cat "$WORK/tcpdump.err")"
	return 1
}

# Stops tcpdump once the last frames are written; fails if it missed any.
stop_capture() {
	local pcap=$1 size=-1 stable=0
	# tcpdump hands over frames in blocks, flushed at least every second,
	# and a loaded machine can leave it further behind: wait for quiet.
	for _ in $(seq 150); do
		if [ "$(stat -c %s "$pcap")" = "$size" ]; then
			stable=$((stable + 1))
			[ "$stable" -ge 15 ] && break
		else
			stable=0
			size=$(stat -c %s "$pcap")
		fi
		sleep 0.1
	done
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=
	local captured received
	captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$WORK/tcpdump.err")
	received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$WORK/tcpdump.err")
	if [ -z "$captured" ] || [ "$captured" != "$received" ] ||
	   grep -q '^[1-9][0-9]* packets\{0,1\} dropped by kernel' "$WORK/tcpdump.err"; then
		log "tcpdump missed frames: $(tr '\n' ' ' <"$WORK/tcpdump.err")"
		return 1
	fi
}

# Runs sluice-gen in the tx namespace with options "$@"; report in $WORK/$name.json.
run_gen() {
	local name=$1
	shift
	timeout 60 ip netns exec "$NS_TX" "$GEN" -l "$LCORE" --no-pci \
		--in-memory --file-prefix "slg-$TAG" --log-level=warning \
		--vdev "net_af_packet0,iface=$IF_TX" -- "$@" \
		>"$WORK/$name.json" 2>"$WORK/$name.err"
}

# One case: capture while sending, then verify. $1 name, $2 verify args.
run_case() {
	local name=$1 vargs=$2
	shift 2
	log "case $name: sluice-gen $*"
	start_capture "$WORK/$name.pcap"
	if ! run_gen "$name" "$@"; then
		log "FAIL: sluice-gen exited non-zero:"
		cat "$WORK/$name.err" "$WORK/$name.json"
		stop_capture "$WORK/$name.pcap" || true
		FAILED=1
		return
	fi
	sed 's/^/    /' "$WORK/$name.err" | grep -v '^    EAL\|^    TELEMETRY' || true
	if ! stop_capture "$WORK/$name.pcap"; then
		FAILED=1
		return
	fi
	# shellcheck disable=SC2086
	if ! timeout 120 $VERIFY "$WORK/$name.pcap" "$WORK/$name.json" $vargs; then
		FAILED=1
	fi
}

setup_net
log "namespaces $NS_TX, $NS_RX; veth $IF_TX -> $IF_RX ($RX_MAC)"

# Rate: 10 kpps for 2 s must give 20000 frames and 10000 pps within 1%.
# --burst 64 lets the pacer catch up 256 packets (25 ms at 10 kpps) after
# the scheduler takes the core away on a busy machine.
run_case udp-rate "--packets 20000 --pps 10000 --tolerance 0.01" \
	--port 0 --src 10.0.0.1-10.0.0.50 --dst 10.1.0.2 --proto udp \
	--sport 1024-65535 --dport 5000 --flows 1000 --rate 10kpps \
	--duration 2 --size 128 --dscp 10 --burst 64 --dst-mac "$RX_MAC"

# TCP with an HTTP payload template in a VLAN, copy mode, fixed count.
run_case tcp-payload "--packets 600 --tolerance 0" \
	--src 10.0.0.1-10.0.0.3 --dst 10.1.0.2 --proto tcp \
	--tcp-flags psh,ack --sport 40000-40099 --dport 8080 --flows 300 \
	--payload 'POST /login HTTP/1.1\r\nHost: x\r\n\r\n' --vlan 100 \
	--size 200 --rate 5kpps --count 600 --copy --dst-mac "$RX_MAC"

# Three groups in one run: ICMP, IPv6 TCP SYN, ICMPv6; a bit-rate group.
run_case groups "--packets 900 --tolerance 0" \
	--group ping --src 10.0.0.1-10.0.0.4 --dst 10.1.0.2 --proto icmp \
	--sport 1-2 --flows 8 --payload '\xde\xad\xbe\xef' --rate 2kpps \
	--count 300 --dst-mac "$RX_MAC" \
	--group syn6 --src 2001:db8::1-2001:db8::20 --dst 2001:db8:1::2 \
	--proto tcp --tcp-flags syn --sport 1024-2047 --dport 443 \
	--flows 100 --size 90 --dscp 46 --rate 1Mbit --count 300 \
	--group echo6 --proto icmpv6 --sport 7 --dport 1-1000 --flows 50 \
	--size 66 --payload '' --rate 3kpps --count 300

# --rx: the peer sends IPv4, IPv6 and non-IP frames back while a run counts.
rx_case() {
	local sender
	log "case rx: peer sends to $IF_TX while sluice-gen --rx runs"
	timeout 40 ip netns exec "$NS_RX" /usr/bin/python3 -c "
import os, sys, time
from scapy.all import Ether, IP, IPv6, UDP, Raw, sendp, conf
conf.verb = 0
b = 'ff:ff:ff:ff:ff:ff'
f = [Ether(dst=b)/IP(src='10.9.9.9', dst='10.0.0.1')/UDP()] * 5 + \\
    [Ether(dst=b)/IPv6(src='2001:db8::9', dst='2001:db8::1')/UDP()] * 3 + \\
    [Ether(dst=b, type=0x88b5)/Raw(b'x' * 50)]
open(sys.argv[1], 'w').close()
while not os.path.exists(sys.argv[2]):
    sendp(f, iface='$IF_RX')
    time.sleep(0.05)
" "$WORK/rx.ready" "$WORK/rx.stop" 2>/dev/null &
	sender=$!
	for _ in $(seq 200); do
		[ -e "$WORK/rx.ready" ] && break
		sleep 0.1
	done
	if ! run_gen rx --rx --rx-wait 0.2 --rate 100pps --duration 2 \
		--dst-mac "$RX_MAC" --quiet; then
		log "FAIL: sluice-gen --rx exited non-zero: $(cat "$WORK/rx.err")"
		FAILED=1
	fi
	touch "$WORK/rx.stop"
	wait "$sender" || true
	if ! /usr/bin/python3 - "$WORK/rx.json" <<'PY'
import json, sys
rx = json.load(open(sys.argv[1]))["rx"]
src = {s["src"]: s["packets"] for s in rx["sources"]}
checks = [
    (src.get("10.9.9.9", 0) > 0, "rx counted IPv4 source 10.9.9.9 (%d)" % src.get("10.9.9.9", 0)),
    (src.get("2001:db8::9", 0) > 0, "rx counted IPv6 source 2001:db8::9 (%d)" % src.get("2001:db8::9", 0)),
    (rx["non_ip"] > 0, "rx counted non-IP frames (%d)" % rx["non_ip"]),
    (set(src) <= {"10.9.9.9", "2001:db8::9"}, "rx saw no other sources (%s)" % sorted(src)),
    (rx["packets"] == sum(src.values()) + rx["non_ip"], "rx packets = per-source + non-IP (%d)" % rx["packets"]),
]
for ok, what in checks:
    print(("ok   " if ok else "FAIL ") + what)
sys.exit(0 if all(ok for ok, _ in checks) else 1)
PY
	then
		FAILED=1
	fi
}
rx_case

if [ "$FAILED" -ne 0 ]; then
	log "FAILED"
	exit 1
fi
log "PASS"
