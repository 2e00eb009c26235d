#!/usr/bin/env bash
# The lab topology: two hosts and a gateway in network namespaces.
#
#   [LAB-out] out0 ===veth=== gw-out [LAB-gw] gw-in ===veth=== in0 [LAB-in]
#   198.51.100.1/24                  sluice-dp                198.51.100.2/24
#   2001:db8:5e::1/64                (af_packet on              2001:db8:5e::2/64
#                                     gw-out, gw-in)
#
# The gateway namespace has no addresses: sluice-dp (or the XDP program)
# bridges gw-out and gw-in, so the two hosts share one L2 segment.
#
#   deploy/lab.sh up [LAB]     create (idempotent: recreates)
#   deploy/lab.sh down [LAB]   remove
#   deploy/lab.sh env [LAB]    print the names as shell variables
#   deploy/lab.sh xdp [LAB]    let the hosts' ends receive XDP redirects
#
# LAB defaults to "sl"; tests use their own prefix so runs never collide.
set -euo pipefail

cmd=${1:-}
LAB=${2:-${LAB:-sl}}
OUT_NS=$LAB-out GW_NS=$LAB-gw IN_NS=$LAB-in
OUT_IP=198.51.100.1 IN_IP=198.51.100.2
OUT_IP6=2001:db8:5e::1 IN_IP6=2001:db8:5e::2
OUT_MAC=02:00:00:00:01:01 IN_MAC=02:00:00:00:02:02

env_vars() {
	cat <<EOV
LAB=$LAB OUT_NS=$OUT_NS GW_NS=$GW_NS IN_NS=$IN_NS
OUT_IF=out0 IN_IF=in0 GW_OUT_IF=gw-out GW_IN_IF=gw-in
OUT_IP=$OUT_IP IN_IP=$IN_IP OUT_IP6=$OUT_IP6 IN_IP6=$IN_IP6
OUT_MAC=$OUT_MAC IN_MAC=$IN_MAC
EOV
}

down() {
	for ns in "$OUT_NS" "$GW_NS" "$IN_NS"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

up() {
	down
	for ns in "$OUT_NS" "$GW_NS" "$IN_NS"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add out0 netns "$OUT_NS" type veth peer name gw-out netns "$GW_NS"
	ip link add in0 netns "$IN_NS" type veth peer name gw-in netns "$GW_NS"
	ip -n "$OUT_NS" link set out0 address $OUT_MAC
	ip -n "$IN_NS" link set in0 address $IN_MAC
	for end in "$OUT_NS out0 $OUT_IP $OUT_IP6" "$IN_NS in0 $IN_IP $IN_IP6"; do
		set -- $end
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
		ip -n "$1" addr add "$3/24" dev "$2"
		ip -n "$1" addr add "$4/64" dev "$2" nodad
		ip -n "$1" link set "$2" up
	done
	# Static neighbours: tests must not depend on ARP/ND crossing first.
	ip -n "$OUT_NS" neigh replace $IN_IP lladdr $IN_MAC dev out0 nud permanent
	ip -n "$OUT_NS" neigh replace $IN_IP6 lladdr $IN_MAC dev out0 nud permanent
	ip -n "$IN_NS" neigh replace $OUT_IP lladdr $OUT_MAC dev in0 nud permanent
	ip -n "$IN_NS" neigh replace $OUT_IP6 lladdr $OUT_MAC dev in0 nud permanent
	for i in gw-out gw-in; do
		ip -n "$GW_NS" link set "$i" up
		# No offloads: frames cross af_packet as they are on the wire.
		ip netns exec "$GW_NS" ethtool -K "$i" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
	done
	for end in "$OUT_NS out0" "$IN_NS in0"; do
		set -- $end
		ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
	done
}

# The XDP path redirects frames from one gateway veth to the other; a
# veth delivers such frames only when its peer (the host's end) has NAPI
# on, which GRO turns on. Plain UDP is not merged by GRO, and the tests'
# TCP segments are not in sequence, so the hosts still see frames as
# sent. Not the default: with NAPI a veth queues at most 256 frames,
# where the plain path uses the 1000-frame backlog.
xdp() {
	ip netns exec "$OUT_NS" ethtool -K out0 gro on >/dev/null
	ip netns exec "$IN_NS" ethtool -K in0 gro on >/dev/null
}

case "$cmd" in
up) up ;;
xdp) xdp ;;
down) down ;;
env) env_vars ;;
*) echo "usage: $0 up|down|env|xdp [LAB]" >&2; exit 2 ;;
esac
