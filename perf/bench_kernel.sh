#!/usr/bin/env bash
# The kernel peer benchmark: sluice-dp against the Linux kernel's own
# policer on the veth lab of the integration tests (deploy/lab.sh),
# repetitions interleaved, medians. Two quantities, for both paths:
#
#  rate accuracy  classes limited to 2000 and 10000 pps (key src, burst
#                 R/10), one source each offering 2R (100-byte UDP
#                 frames); the passed rate is taken from the capture
#                 times at the sink over the steady part (from 2 s after
#                 the first packet to the last), error % against R;
#  capacity       a third class limited far above what can arrive
#                 (10 Mpps), one source sending unpaced 60-byte frames;
#                 delivered pps is the inside host's rx counter over the
#                 generator's duration, loss is offered less delivered.
#
# sluice-dp bridges the gateway's veths with net_af_packet (one lcore,
# core 1); the peer is the gateway with sluice-dp stopped and a kernel
# bridge (br0) between the same veths, with `tc ... action police
# pkts_rate R pkts_burst B conform-exceed drop/ok` on gw-out's ingress.
# The generator runs on core 0. A veth delivers in the sender's context,
# so the kernel forwards in softirq on the generator's core (the
# generator slows down instead of losing frames); --rps moves the
# kernel's forwarding to core 1, where sluice-dp polls, with RPS on
# gw-out (rps_cpus 2): on this VM the IPIs made the generator slower.
# Kernels built without act_police (CONFIG_NET_ACT_POLICE) cannot run
# that: --peer auto (the default) then uses nftables' policer, `limit
# rate over R/second burst B packets drop` in a netdev ingress chain on
# gw-out, the hook that follows tc ingress; --peer tc insists on tc.
#
#   perf/bench_kernel.sh [--quick] [--reps N] [--duration S] [--json FILE]
#                        [--build DIR] [--peer auto|tc|nft] [--rps]
#
# --quick: 1 repetition, 4 s accuracy and 2 s capacity runs (about 25 s).
# Default: 3 repetitions, 8 s and 4 s (about 2 minutes). --duration S
# sets the accuracy runs (at least 3 s); capacity runs last S/2.
# Needs root, hugepages, the build (sluice-dp, sluice-gen, sluice-sink)
# and tc or nft; exits 77 when it cannot run. The lab goes on any exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${SLUICE_BUILD:-$ROOT/build}
REPS=3
DURATION=8
JSON=
PEER=auto
RPS=0
SKIP=2		# seconds of each accuracy run left out: the bursts drain well before

usage() {
	sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=4 ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--peer) PEER=$2; shift ;;
	--rps) RPS=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_kernel.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $PEER in auto|tc|nft) ;; *) echo "bench_kernel.sh: --peer auto, tc or nft" >&2; exit 2 ;; esac
python3 -c "import sys; sys.exit(0 if float('$DURATION') >= 3 else 1)" 2>/dev/null ||
	{ echo "bench_kernel.sh: --duration must be a number of at least 3 (s)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_kernel.sh: needs root (namespaces, hugepages, tc)" >&2; exit 77; }
JSON=${JSON:-$BUILD/perf/bench_kernel.json}
CAP_DURATION=$(python3 -c "print(float('$DURATION') / 2)")
export SLUICE_BUILD=$BUILD
LAB=slk$$	# lib.sh's lab prefix
export LAB
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"	# lab, sluice-dp, generator; cleans up on exit
# lib.sh's cleanup, then the EAL runtime directories that sluice-dp and
# the generator leave under their file prefixes.
trap 'rc=$?; set +e; rm -rf "/var/run/dpdk/$LAB-dp" "/var/run/dpdk/$LAB-gen"; (exit $rc); cleanup' EXIT
need_root
lab_up
RUNS=$T/runs
mkdir -p "$RUNS"

# The three classes: source, limit in pps, burst in packets, generator rate.
SRC_LO=10.77.0.1 SRC_HI=10.77.0.2 SRC_CAP=10.77.0.3
R_LO=2000 R_HI=10000 R_CAP=10000000
B_LO=$((R_LO / 10)) B_HI=$((R_HI / 10)) B_CAP=$((R_CAP / 10))
CLASSES="lo:$SRC_LO:$R_LO:$B_LO hi:$SRC_HI:$R_HI:$B_HI cap:$SRC_CAP:$R_CAP:$B_CAP"

cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
$(for c in $CLASSES; do IFS=: read -r n s r b <<<"$c"; printf '  - name: %s\n    match: { proto: udp, src: %s/32, dport: 5000 }\n    limit: { key: src, rate: %spps, burst: %s }\n    exceed: drop\n' "$n" "$s" "$r" "$b"; done)
EOP

# tc_filters: one u32 filter with a packet-rate police action per class.
tc_filters() {
	local prio=1 n s r b
	tc -n "$GW_NS" qdisc add dev "$GW_OUT_IF" clsact || return 1
	for c in $CLASSES; do
		IFS=: read -r n s r b <<<"$c"
		tc -n "$GW_NS" filter add dev "$GW_OUT_IF" ingress protocol ip prio $prio \
			u32 match ip src "$s/32" match ip protocol 17 0xff match ip dport 5000 0xffff \
			action police pkts_rate "$r" pkts_burst "$b" conform-exceed drop/ok || return 1
		prio=$((prio + 1))
	done
}

# nft_rules: a netdev ingress chain on gw-out with one limit per class.
nft_rules() {
	local n s r b
	{
		echo "table netdev slk {"
		echo "  chain police {"
		echo "    type filter hook ingress device \"$GW_OUT_IF\" priority 0; policy accept;"
		for c in $CLASSES; do
			IFS=: read -r n s r b <<<"$c"
			echo "    ip saddr $s udp dport 5000 limit rate over $r/second burst $b packets drop"
		done
		echo "  }"
		echo "}"
	} | ip netns exec "$GW_NS" nft -f -
}

peer_clear() {
	tc -n "$GW_NS" qdisc del dev "$GW_OUT_IF" clsact 2>/dev/null || true
	ip netns exec "$GW_NS" nft delete table netdev slk 2>/dev/null || true
}

# Which kernel policer this kernel has: the rules are tried on the lab.
TC_ERR=$( { tc_filters; } 2>&1 ) && HAVE_TC=1 || HAVE_TC=0
peer_clear
HAVE_NFT=0
if command -v nft >/dev/null; then
	NFT_ERR=$( { nft_rules; } 2>&1 ) && HAVE_NFT=1
	peer_clear
else
	NFT_ERR="no nft command (apt-get install nftables)"
fi
case $PEER:$HAVE_TC:$HAVE_NFT in
auto:1:* | tc:1:*) PEER=tc ;;
tc:0:*) skip "no tc police here: $(echo "$TC_ERR" | head -1) (a kernel without CONFIG_NET_ACT_POLICE?); --peer nft uses nftables' limit instead" ;;
auto:0:1 | nft:*:1) PEER=nft ;;
*) skip "no kernel policer to compare with: tc police: $(echo "$TC_ERR" | head -1); nft: $(echo "${NFT_ERR:-}" | head -1)" ;;
esac
PEER_NAME=$([ "$PEER" = tc ] && echo tc-police || echo nft-limit)

# kernel_up: the peer's gateway, a bridge between the two veths (the lab
# has one subnet on both sides) with the policer on gw-out's ingress.
kernel_up() {
	local i
	ip netns exec "$GW_NS" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	ip -n "$GW_NS" link add br0 type bridge stp_state 0 forward_delay 0 || fail "bridge"
	for i in "$GW_OUT_IF" "$GW_IN_IF"; do
		ip -n "$GW_NS" link set "$i" master br0 || fail "bridge port $i"
	done
	ip -n "$GW_NS" link set br0 up
	# A veth hands a frame to its peer in the sender's context: without
	# RPS the kernel forwards on the generator's core.
	if [ "$RPS" = 1 ]; then
		ip netns exec "$GW_NS" sh -c "echo 2 >/sys/class/net/$GW_OUT_IF/queues/rx-0/rps_cpus" ||
			fail "RPS on $GW_OUT_IF"
	fi
	if [ "$PEER" = tc ]; then tc_filters; else nft_rules; fi || fail "$PEER_NAME rules"
}

# kernel_down: back to the lab sluice-dp expects, RPS off too (it would
# move the af_packet delivery onto sluice-dp's core).
kernel_down() {
	peer_clear
	ip -n "$GW_NS" link del br0
	ip netns exec "$GW_NS" sh -c "echo 0 >/sys/class/net/$GW_OUT_IF/queues/rx-0/rps_cpus"
}

# rx_in: frames the inside host's interface has received.
rx_in() {
	ip -n "$IN_NS" -s -j link show "$IN_IF" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['rx']['packets'])"
}

# cpu_snap PATH FILE: /proc/stat's cpu line, sluice-dp's CPU ticks (or
# 0 0), then the softnet lines (backlog packets processed and dropped per
# CPU: where the kernel forwarded).
cpu_snap() {
	{
		head -1 /proc/stat
		if [ "$1" = sluice ] && [ -r "/proc/$DP_PID/stat" ]; then
			awk '{print $14, $15}' "/proc/$DP_PID/stat"
		else
			echo 0 0
		fi
		cat /proc/net/softnet_stat
	} >"$2"
}

# run_acc PATH REP: both rate classes at 2R at once, captured at the sink.
run_acc() {
	local out=$RUNS/$1.$2.acc.json
	ip netns exec "$IN_NS" "$SINK" -i "$IN_IF" -t 600 -f "udp port 5000" -w "$T/acc.pcap" \
		>"$T/sink.json" 2>"$T/sink.log" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	for _ in $(seq 1 50); do
		grep -q listening "$T/sink.log" && break
		sleep 0.1
	done
	grep -q listening "$T/sink.log" || fail "sluice-sink did not start: $(cat "$T/sink.log")"
	gen --group lo --src "$SRC_LO" --dst "$IN_IP" --proto udp --sport 4000 --dport 5000 \
			--rate $((2 * R_LO)) --size 100 \
		--group hi --src "$SRC_HI" --rate $((2 * R_HI)) \
		--duration "$DURATION" --burst 64
	sink_stop
	$PY - "$T/acc.pcap" "$T/gen.json" "$T/sink.json" "$SKIP" "$SRC_LO:$R_LO:$B_LO" "$SRC_HI:$R_HI:$B_HI" \
		>"$out" <<'EOF' || fail "accuracy analysis"
import json, struct, sys
pcap, genf, sinkf, skip = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
gen, sink = json.load(open(genf)), json.load(open(sinkf))
data = open(pcap, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
assert magic == 0xa1b23c4d, "not a nanosecond little-endian pcap"
times, off = {}, 24
while off + 16 <= len(data):
    sec, nsec, caplen, _ = struct.unpack_from("<IIII", data, off)
    frame = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if len(frame) >= 34 and frame[12:14] == b"\x08\x00":
        src = ".".join(str(b) for b in frame[26:30])
        times.setdefault(src, []).append(sec + nsec * 1e-9)
res = {}
for i, spec in enumerate(sys.argv[5:]):
    src, rate, burst = spec.split(":")
    rate, burst = int(rate), int(burst)
    g = gen["groups"][i]
    t = times.get(src, [])
    r = {"src": src, "limit_pps": rate, "burst": burst, "sent": g["sent"]["packets"],
         "gen_duration_s": g["duration_s"], "offered_pps": g["rate"]["achieved_pps"],
         "late_packets": g["late_packets"], "received": len(t),
         "sink_received": sink["sources"].get(src, {}).get("packets", 0)}
    if len(t) > 1 and t[-1] - t[0] > skip + 0.5:
        a, b = t[0] + skip, t[-1]
        n = sum(1 for x in t if a < x <= b)
        r.update(window_s=b - a, window_packets=n, passed_pps=n / (b - a))
        r["error_pct"] = (r["passed_pps"] - rate) / rate * 100
        # What the first second let through, to show the bursts.
        r["first_s_packets"] = sum(1 for x in t if x < t[0] + 1)
    else:
        r.update(window_s=0, window_packets=0, passed_pps=0.0, error_pct=-100.0, first_s_packets=len(t))
    res["r%d" % rate] = r
print(json.dumps(res))
EOF
	rm -f "$T/acc.pcap"
}

# run_cap PATH REP: unpaced 60-byte frames under a limit they never reach.
run_cap() {
	local out=$RUNS/$1.$2.cap.json rx0 rx1
	rx0=$(rx_in)
	cpu_snap "$1" "$T/cpu0"
	gen --src "$SRC_CAP" --dst "$IN_IP" --proto udp --sport 4000 --dport 5000 --rate 0 \
		--size 60 --duration "$CAP_DURATION" --burst 64
	cpu_snap "$1" "$T/cpu1"
	sleep 0.3	# what is still queued
	rx1=$(rx_in)
	$PY - "$T/gen.json" "$rx0" "$rx1" "$T/cpu0" "$T/cpu1" >"$out" <<'EOF' || fail "capacity analysis"
import json, os, sys
gen, rx0, rx1 = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
def snap(f):
    lines = open(f).read().split("\n")
    cpu = [int(x) for x in lines[0].split()[1:9]]
    net = [[int(x, 16) for x in l.split()[:2]] for l in lines[2:] if l.strip()]
    return cpu, [int(x) for x in lines[1].split()], net
(c0, p0, n0), (c1, p1, n1) = snap(sys.argv[4]), snap(sys.argv[5])
hz = os.sysconf("SC_CLK_TCK")
d = [(b - a) / hz for a, b in zip(c0, c1)]	# user nice system idle iowait irq softirq steal
sent, dur = gen["sent"]["packets"], gen["duration_s"]
got = rx1 - rx0
ns = lambda s: s * 1e9 / got if got else None
print(json.dumps({"sent": sent, "tx_failed": gen["tx_failed"], "duration_s": dur,
                  "offered_pps": sent / dur, "delivered": got, "passed_pps": got / dur,
                  "loss_pct": (sent - got) / sent * 100 if sent else None,
                  "cpu_s": {"user": d[0] + d[1], "system": d[2], "idle": d[3], "softirq": d[6],
                            "irq": d[5], "steal": d[7], "sluice_dp": (sum(p1) - sum(p0)) / hz},
                  "softnet": [{"cpu": i, "processed": b[0] - a[0], "dropped": b[1] - a[1]}
                              for i, (a, b) in enumerate(zip(n0, n1))],
                  "softirq_ns_per_pkt": ns(d[6]), "system_ns_per_pkt": ns(d[2]),
                  "busy_ns_per_pkt": ns(sum(d) - d[3] - d[4]),
                  "sluice_dp_ns_per_pkt": ns((sum(p1) - sum(p0)) / hz)}))
EOF
}

# One repetition of one path: accuracy, then capacity.
run_path() {
	local path=$1 r=$2
	if [ "$path" = sluice ]; then
		dp_start "$T/policy.yaml"
		run_acc sluice "$r"
		run_cap sluice "$r"
		dp_stop
		cp "$T/dp-report.json" "$RUNS/sluice.$r.dp.json"
	else
		kernel_up
		run_acc kernel "$r"
		run_cap kernel "$r"
		if [ "$PEER" = tc ]; then
			tc -n "$GW_NS" -s -j filter show dev "$GW_OUT_IF" ingress >"$RUNS/kernel.$r.rules.json" 2>/dev/null || true
		else
			ip netns exec "$GW_NS" nft -j list ruleset >"$RUNS/kernel.$r.rules.json" 2>/dev/null || true
		fi
		kernel_down
	fi
	log "rep $r $path done"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "kernel peer benchmark: sluice-dp vs $PEER_NAME, $REPS repetition(s), accuracy ${DURATION}s (first ${SKIP}s left out), capacity ${CAP_DURATION}s"
for r in $(seq "$REPS"); do
	# Alternate which path goes first, so that neither always meets the same moment.
	if [ $((r % 2)) -eq 1 ]; then order="sluice kernel"; else order="kernel sluice"; fi
	for p in $order; do
		run_path "$p" "$r"
	done
done

mkdir -p "$(dirname "$JSON")"
$PY - "$RUNS" "$REPS" "$DURATION" "$CAP_DURATION" "$SKIP" "$PEER" "$PEER_NAME" "$JSON" "$LOAD0" "$RPS" <<'EOF'
import json, os, statistics, subprocess, sys
runs_dir, reps, dur, cap_dur, skip, peer, peer_name, out, load0, rps = sys.argv[1:]
reps = int(reps)
ld = lambda f: json.load(open(os.path.join(runs_dir, f)))
names = {"sluice": "sluice-dp", "kernel": peer_name}
runs = {}
for p in ("sluice", "kernel"):
    runs[names[p]] = [{"acc": ld(f"{p}.{r}.acc.json"), "cap": ld(f"{p}.{r}.cap.json"),
                       **({"dp_report": ld(f"{p}.{r}.dp.json")} if p == "sluice" else {})}
                      for r in range(1, reps + 1)]
med = lambda xs: statistics.median(xs) if xs and None not in xs else None
rkey = "ratio_" + peer
rows = []
for q in ("r2000", "r10000", "capacity"):
    block = []
    for c in names.values():
        xs = [x["cap"] if q == "capacity" else x["acc"][q] for x in runs[c]]
        row = {"config": c, "quantity": "capacity" if q == "capacity" else "rate",
               "offered_pps": med([x["offered_pps"] for x in xs]),
               "passed_pps": med([x["passed_pps"] for x in xs])}
        if q == "capacity":
            row["loss_pct"] = med([x["loss_pct"] for x in xs])
            for k in ("softirq_ns_per_pkt", "busy_ns_per_pkt", "sluice_dp_ns_per_pkt"):
                row[k] = med([x[k] for x in xs])
        else:
            row["limit_pps"] = xs[0]["limit_pps"]
            row["error_pct"] = med([x["error_pct"] for x in xs])
            row["abs_error_pct"] = med([abs(x["error_pct"]) for x in xs])
            row["first_s_packets"] = med([x["first_s_packets"] for x in xs])
        block.append(row)
    for row in block:
        row[rkey] = row["passed_pps"] / block[1]["passed_pps"] if block[1]["passed_pps"] else None
    rows += block
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
model = next((l.split(":", 1)[1].strip() for l in lscpu if l.startswith("Model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
where = "RPS to core 1" if rps == "1" else "no RPS: in the generator's context, core 0"
print(f"\nkernel peer benchmark: sluice-dp (net_af_packet, lcore 1) vs {peer_name} (kernel bridge, {where}),")
print(f"veth lab; medians of {reps}; {model}; load average {load0} at start, {' '.join(load)} at end")
print(f"rate: one source at 2R for {dur} s, passed rate at the sink from {skip} s after its first packet")
print(f"capacity: unpaced 60-byte frames for {cap_dur} s, delivered = the inside host's rx counter")
print(f"{'quantity':<16} {'config':<10} {'offered pps':>12} {'passed pps':>11} {'error %':>8} {'loss %':>7} {'x ' + peer:>7}")
for r in rows:
    q = f"rate {r['limit_pps']} pps" if r["quantity"] == "rate" else "capacity"
    err = f"{r['error_pct']:8.2f}" if "error_pct" in r else " " * 8
    loss = f"{round(r['loss_pct'], 2) + 0.0:7.2f}" if r.get("loss_pct") is not None else " " * 7
    ratio = f"{r[rkey]:7.3f}" if r[rkey] is not None else " " * 7
    print(f"{q:<16} {r['config']:<10} {r['offered_pps']:12.1f} {r['passed_pps']:11.1f} {err} {loss} {ratio}")
cs, ck = rows[-2], rows[-1]
f = lambda v: f"{v:.0f}" if v is not None else "?"
print(f"capacity CPU per delivered packet (tick-sampled, whole machine, noisy): softirq "
      f"{f(cs['softirq_ns_per_pkt'])} ns sluice-dp / {f(ck['softirq_ns_per_pkt'])} ns {peer_name}; "
      f"all busy {f(cs['busy_ns_per_pkt'])} / {f(ck['busy_ns_per_pkt'])} ns; "
      f"sluice-dp's own process {f(cs['sluice_dp_ns_per_pkt'])} ns (it busy-polls a whole core)")
json.dump({"bench": "kernel", "peer": peer_name, "reps": reps, "duration_s": float(dur),
           "capacity_duration_s": float(cap_dur), "skip_s": float(skip), "kernel_rps": rps == "1", "cpu": model,
           "loadavg": [float(x) for x in load], "loadavg_start": [float(x) for x in load0.split()],
           "table": rows, "runs": runs}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
