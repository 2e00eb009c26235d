# The failover test, sourced by test_failover_kill.sh (MODE=kill: the
# dataplane is killed with SIGKILL, then started again) and
# test_failover_stop.sh (MODE=stop: SIGSTOP, then SIGCONT).
#
# Traffic flows through the lab under sluice-dp; the dataplane fails;
# sluiced moves traffic to the XDP path; the dataplane comes back;
# traffic moves back. The receiver measures the longest gap in an
# unlimited source's packets (sent at 5 kpps, one every 0.2 ms): it must
# stay under 1 s (the goal is 100 ms), and nothing but that gap is lost.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up
lab_xdp

cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: free
    match: { proto: udp, src: 10.88.0.0/16, dport: 6000 }
  - name: limited
    match: { proto: udp, src: 10.77.0.0/16, dport: 5000 }
    limit: { key: src, rate: 500pps, burst: 50 }
    exceed: drop
EOP
dp_start "$T/policy.yaml"
SLUICED_NS=$GW_NS sluiced_start --pair "$GW_OUT_IF,$GW_IN_IF"
SCTL policy apply "$T/policy.yaml" >/dev/null || fail "policy apply"
wait_path dpdk 5 >/dev/null
[ "$(status_field "['xdp']['ready']")" = True ] || fail "XDP path not ready: $(SCTL status)"
xdp_attached "$GW_OUT_IF" && fail "XDP attached while the dataplane is healthy"

DUR=10
sink_start 60 "udp"
GEN_NICE=5 gen --group free --src 10.88.0.1 --dst "$IN_IP" --proto udp \
		--sport 4000 --dport 6000 --rate 5kpps --size 100 \
	--group heavy --src 10.77.0.1-10.77.0.2 --dport 5000 --rate 2kpps \
	--duration $DUR --burst 16 &
GEN_PID=$!
sleep 2

case "$MODE" in
kill)
	log "kill -9 sluice-dp (pid $DP_PID)"
	kill -KILL "$DP_PID"
	;;
stop)
	log "kill -STOP sluice-dp (pid $DP_PID)"
	kill -STOP "$DP_PID"
	;;
esac
took=$(wait_path xdp 2)
log "sluicectl status says xdp after ${took}s: $(status_field "['reason']")"
xdp_attached "$GW_OUT_IF" && xdp_attached "$GW_IN_IF" || fail "XDP not attached on the pair"
reason=$(status_field "['reason']")
case "$MODE" in
kill) [[ "$reason" == *"dataplane is down"* ]] || fail "reason: $reason" ;;
stop) [[ "$reason" == *"dataplane is down"* || "$reason" == *"has not polled"* ]] || fail "reason: $reason" ;;
esac
sleep 2

case "$MODE" in
kill)
	wait "$DP_PID" 2>/dev/null || true
	log "starting sluice-dp again"
	dp_start "$T/policy.yaml"
	;;
stop)
	log "kill -CONT sluice-dp"
	kill -CONT "$DP_PID"
	;;
esac
took=$(wait_path dpdk 10)
log "sluicectl status says dpdk after ${took}s"
xdp_attached "$GW_OUT_IF" && fail "XDP still attached after the failback"

wait "$GEN_PID" || fail "sluice-gen failed: $(cat "$T/gen.log")"
sink_stop

[ "$(status_field "['xdp']['failovers']")" -eq 1 ] || fail "failovers: $(SCTL status)"
[ "$(status_field "['xdp']['failbacks']")" -eq 1 ] || fail "failbacks: $(SCTL status)"

# The receiver's view of the unlimited source.
sent=$(group_field free "['sent']['packets']")
got=$(received 10.88.0.1)
gap=$(py "j0['sources']['10.88.0.1']['max_gap_s']" "$T/sink.json")
gap_ms=$($PY -c "print(round($gap * 1000, 1))")
lost=$((sent - got))
log "free source: sent $sent, received $got, lost $lost; longest gap at the receiver ${gap_ms} ms (goal 100 ms, bound 1000 ms)"
$PY -c "import sys; sys.exit(0 if $gap < 1.0 else 1)" || fail "gap of ${gap_ms} ms is over 1 s"
# 5 kpps: the packets lost are the gap's, give or take a burst.
[ "$lost" -le $(($($PY -c "print(int($gap * 5000))") + 64)) ] ||
	fail "lost $lost packets, more than the ${gap_ms} ms gap explains"
# Both paths enforced the limit: each heavy source (1000 pps offered,
# 500 pps allowed) got its rate over the run plus one burst of 50 for
# each fresh bucket (the first start, the failover, the failback).
heavy_sent=$(group_field heavy "['sent']['packets']")
heavy_got=$(($(received 10.77.0.1) + $(received 10.77.0.2)))
heavy_want=$((2 * (500 * DUR + 3 * 50)))
within "$heavy_got" "$heavy_want" 3 ||
	fail "heavy: sent $heavy_sent, received $heavy_got, the limits allow $heavy_want (tolerance 3%)"
log "ok: heavy sources sent $heavy_sent, received $heavy_got, the limits allow $heavy_want (tolerance 3%)"
echo "failover_gap_ms=$gap_ms lost=$lost mode=$MODE"
