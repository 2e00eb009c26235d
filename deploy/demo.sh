#!/usr/bin/env bash
# The lab demo: installs what is needed, builds, then runs sluice-dp
# between two namespaced hosts and sluiced beside it, as the systemd
# units would (sockets and state in a private directory here), applies
# deploy/examples/lab-policy.yaml through sluicectl, drives the dataplane
# with sluice-gen and prints, per class, what was offered, what the
# policy allows, and what reached the inside host.
#
#   bash deploy/demo.sh [--no-setup] [--seconds N]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SETUP=1 SECS=5
while [ $# -gt 0 ]; do
	case "$1" in
	--no-setup) SETUP=0 ;;
	--seconds) SECS=$2; shift ;;
	*) echo "usage: $0 [--no-setup] [--seconds N]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }

[ "$SETUP" = 0 ] || bash deploy/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

LAB=sldemo
POLICY=deploy/examples/lab-policy.yaml
T=$(mktemp -d /tmp/sluice-demo.XXXXXX)
DP_PID= SINK_PID= SLUICED_PID=
CTL="build/control/sluicectl -s $T/sluiced.sock"
cleanup() {
	set +e
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	[ -n "$SLUICED_PID" ] && kill "$SLUICED_PID" 2>/dev/null
	[ -n "$DP_PID" ] && kill "$DP_PID" 2>/dev/null && wait "$DP_PID" 2>/dev/null
	bash deploy/lab.sh down "$LAB"
	rm -rf "$T"
}
trap cleanup EXIT

# metrics PREFIX...: the lines of sluiced's metrics that start so. sluiced
# runs on the gateway, so its 127.0.0.1 is the gateway's.
metrics() {
	ip netns exec "$GW_NS" /usr/bin/python3 -c 'import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:19477/metrics", timeout=5).read().decode()
print("\n".join(l for l in text.splitlines() if l.startswith(tuple(sys.argv[1:]))))' "$@" || true
}

# sink_start FILE: count what reaches the inside host.
sink_start() {
	ip netns exec "$IN_NS" build/tests/sluice-sink -i "$IN_IF" -t 600 >"$1" 2>"$T/sink.log" &
	SINK_PID=$!
	for _ in $(seq 50); do grep -q listening "$T/sink.log" && break; sleep 0.1; done
}

# run_gen FILE: the mixed traffic, one group per class of the policy.
run_gen() {
	ip netns exec "$OUT_NS" build/perf/sluice-gen -l 0 --no-pci --file-prefix "$LAB-gen" \
		--socket-mem 128 --log-level '*:warning' --vdev "net_af_packet0,iface=$OUT_IF" -- \
		--quiet --src-mac "$OUT_MAC" --dst-mac "$IN_MAC" --dst "$IN_IP" --sport 1024-1100 \
		--group syn-flood --src 10.66.0.1-10.66.0.10 --proto tcp --tcp-flags syn --dport 80 --rate 10kpps \
		--group api --src 10.67.1.1-10.67.1.50 --tcp-flags psh,ack --dport 8080 --rate 3kpps --size 200 \
		--group bulk --src 10.68.0.1 --proto udp --sport 7000-7003 --dport 5001 --flows 4 --rate 24Mbit --size 1000 \
		--group watch-dns --src 10.69.0.1-10.69.0.5 --sport 3000 --dport 53 --flows 5 --rate 1500pps --size 80 \
		--group other --src 10.70.0.1 --dport 9999 --flows 1 --rate 500pps \
		--duration "$SECS" --burst 64 >"$1" 2>"$T/gen.log" || { cat "$T/gen.log"; exit 1; }
	sleep 0.5
	kill -TERM "$SINK_PID"; wait "$SINK_PID" || true; SINK_PID=
}

echo "== lab: outside host -- sluice-dp -- inside host (namespaces $LAB-*)"
bash deploy/lab.sh up "$LAB"
bash deploy/lab.sh xdp "$LAB"
eval "$(bash deploy/lab.sh env "$LAB")"

echo "== sluice-dp on the gateway, sluiced beside it"
build/control/sluicectl policy check "$POLICY"
ip netns exec "$GW_NS" build/dataplane/sluice-dp -l 1 --no-pci --file-prefix "$LAB-dp" \
	--socket-mem 256 --vdev "net_af_packet0,iface=$GW_OUT_IF" \
	--vdev "net_af_packet1,iface=$GW_IN_IF" \
	-- --policy "$POLICY" --flows 65536 --report-json "$T/dp.json" \
	--ctl-socket "$T/dp.sock" >"$T/dp.log" 2>&1 &
DP_PID=$!
for _ in $(seq 100); do grep -q 'polling queue' "$T/dp.log" && break; sleep 0.1; done
grep -q 'polling queue' "$T/dp.log" || { cat "$T/dp.log"; exit 1; }
# On the gateway, so --pair names its ports: the XDP path takes over
# when the dataplane goes.
ip netns exec "$GW_NS" build/control/sluiced --socket "$T/sluiced.sock" --dp-socket "$T/dp.sock" \
	--state-dir "$T/state" --metrics 127.0.0.1:19477 --pair "$GW_OUT_IF,$GW_IN_IF" \
	>"$T/sluiced.log" 2>&1 &
SLUICED_PID=$!
for _ in $(seq 50); do [ -S "$T/sluiced.sock" ] && break; sleep 0.1; done
$CTL policy apply "$POLICY"
$CTL status

sink_start "$T/sink.json"

echo "== sluice-gen on the outside host: $SECS s of mixed traffic"
run_gen "$T/gen.json"
sleep 1.2	# sluiced reads the counters every second
echo
echo "== sluicectl stats"
$CTL stats
echo
echo "== Prometheus metrics (sluiced, http://127.0.0.1:19477/metrics on the gateway), excerpt"
metrics sluice_class_packets_total sluice_policy_version sluice_dataplane_up sluice_path
$CTL -j stats >"$T/stats-before.json"
kill -TERM "$DP_PID"; wait "$DP_PID" || true; DP_PID=

echo
/usr/bin/python3 deploy/demo_report.py "$POLICY" "$T/gen.json" "$T/dp.json" "$T/sink.json"

echo
echo "== sluice-dp stops; sluiced moves traffic to the XDP path"
for _ in $(seq 100); do
	$CTL -j status | grep -q '"path": *"xdp"' && break
	sleep 0.05
done
$CTL status
sink_start "$T/sink-xdp.json"
echo "== sluice-gen again: $SECS s of the same traffic, through the XDP program"
run_gen "$T/gen-xdp.json"
sleep 1.2	# sluiced reads the XDP program's counters every second
$CTL -j stats >"$T/stats-after.json"
/usr/bin/python3 deploy/demo_report.py --since "$T/stats-before.json" "$POLICY" \
	"$T/gen-xdp.json" "$T/stats-after.json" "$T/sink-xdp.json"
echo
echo "== Prometheus metrics on the XDP path, excerpt"
metrics sluice_path sluice_xdp_ready sluice_failovers_total
