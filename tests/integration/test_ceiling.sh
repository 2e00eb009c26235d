#!/usr/bin/env bash
# A class ceiling across two workers, in the namespace lab: sluice-dp
# with two worker lcores (time-sharing core 1; the main lcore on core 0)
# and two queues per port, which af_packet's fanout fills by flow hash.
# Forty light sources and one heavy one share a class whose ceiling is
# below what their own limits allow together:
#   - the class total is held to the ceiling's rate * time + burst
#     within 2%, though neither worker sees all of the class;
#   - the heavy source is still held to its own limit within 2%;
#   - both workers had a fair share of the traffic, so the ceiling was
#     really shared;
#   - the dataplane's counters agree with what crossed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up

# Bursts of half a second or more, and rings of 4096 frames a queue:
# on this shared machine a worker can be descheduled for a few hundred
# ms, and the backlog is then metered at once. A stall longer than a
# burst covers loses tokens and makes the run inconclusive (see below).
RATE=500 BURST=300 TOL=2		# each source's limit
CEIL=2000 CEIL_BURST=1000		# the class's ceiling
cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: login
    match: { proto: udp, src: [10.77.0.0/16, 10.78.0.0/16], dport: 5000 }
    limit: { key: src, rate: ${RATE}pps, burst: $BURST }
    ceiling: { rate: ${CEIL}pps, burst: $CEIL_BURST }
    exceed: drop
EOP
WORKERS=${WORKERS:-2}		# 1: the same test on one worker, for comparison
if [ "$WORKERS" = 2 ]; then
	DP_LCORES="--lcores 0@0,1@1,2@1" DP_PORT_ARGS=",qpairs=2,framecnt=4096" dp_start "$T/policy.yaml"
else
	DP_PORT_ARGS=",framecnt=4096" dp_start "$T/policy.yaml"
fi
for _ in $(seq 1 50); do
	[ "$(grep -c 'polling queue' "$T/dp.log")" -ge "$WORKERS" ] && break
	sleep 0.1
done
[ "$(grep -c 'polling queue' "$T/dp.log")" -eq "$WORKERS" ] || fail "expected $WORKERS polling workers: $(grep polling "$T/dp.log")"
sink_start 60 "udp port 5000"

# The heavy source offers 4 kpps (8x its limit): its key holds it to
# 500 pps. Forty light ones offer 50 pps each (a tenth of their limit),
# 2 kpps together. Their keys let 2.5 kpps through; the ceiling 2 kpps,
# so the light sources share the 1.5 kpps the heavy one leaves.
LIGHT_FIRST=10.77.0.1 LIGHT_LAST=10.77.0.40 HEAVY=10.78.0.1
gen --group heavy --src "$HEAVY" --dst "$IN_IP" --proto udp \
		--sport 4000 --dport 5000 --rate 4kpps --size 100 \
	--group light --src "$LIGHT_FIRST-$LIGHT_LAST" --rate 2kpps \
	--duration 4 --burst 16
sink_stop
dp_stop

DUR=$(group_field heavy "['duration_s']")
log "generator: $(py "j0['sent']" "$T/gen.json") over ${DUR}s, late $(py "j0['late_packets']" "$T/gen.json")"
heavy_sent=$(group_field heavy "['sent']['packets']")
light_sent=$(group_field light "['sent']['packets']")
# A scheduling gap on this shared machine can make the generator skip
# packets; the ceiling is only tested while the offer stays well above it.
offered=$($PY -c "print(($heavy_sent + $light_sent) / $DUR)")
$PY -c "import sys; sys.exit(0 if $offered >= 1.5 * $CEIL and $heavy_sent >= 3 * $RATE * $DUR else 1)" ||
	fail "offered only $offered pps ($heavy_sent from the heavy source): not over the ceiling enough to test it"

# A gap in what crossed longer than the ceiling's burst lasts means the
# dataplane did not run for that long: tokens were lost to the machine,
# not to the ceiling. Say so rather than fail.
gap=$(py "j0['sources']['$HEAVY']['max_gap_s']" "$T/sink.json")
$PY -c "import sys; sys.exit(0 if $gap < $CEIL_BURST / $CEIL else 1)" ||
	skip "inconclusive: nothing crossed for ${gap}s (the dataplane was descheduled longer than the ceiling's burst covers); rerun on a quieter machine"

# Both workers polled a fair share of the class: the heavy source is one
# flow, so on one of them; the light ones spread over both.
lc=$(py "[l['rx_packets'] for l in j0['lcores']]" "$T/dp-report.json")
log "per-worker rx packets: $lc (light sources sent $light_sent)"
[ "$WORKERS" = 1 ] || py "len(j0['lcores']) == 2 and min(l['rx_packets'] for l in j0['lcores']) >= 0.2 * $light_sent" \
	"$T/dp-report.json" | grep -q True || fail "traffic not spread over two workers: $lc"

# The class total: the ceiling's rate over the run plus its burst.
total=$(py "j0['packets']" "$T/sink.json")
want=$($PY -c "print($CEIL * $DUR + $CEIL_BURST)")
pct=$($PY -c "print('%+.2f' % (100.0 * ($total - $want) / $want))")
within "$total" "$want" "$TOL" || fail "class total $total, ceiling allows $want ($pct%, tolerance $TOL%)"
log "ok: class total $total, ceiling allows $want over ${DUR}s ($pct%)"

# The heavy source, under the ceiling's pressure, is still held by its own limit.
expect_held "$HEAVY"
light=$((total - $(received "$HEAVY")))
log "ok: the light sources shared the rest: $light of $light_sent offered"

passed=$(class_count login packets passed)
dropped=$(class_count login packets dropped)
sent=$(py "j0['sent']['packets']" "$T/gen.json")
[ "$passed" -eq "$total" ] || fail "dataplane passed $passed, receiver got $total"
[ $((passed + dropped)) -eq "$sent" ] || fail "passed $passed + dropped $dropped != sent $sent"
log "ok: dataplane passed $passed and dropped $dropped of $sent; receiver got $total"
