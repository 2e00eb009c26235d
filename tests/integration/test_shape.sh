#!/usr/bin/env bash
# Shaping in the namespace lab: one source sends on/off bursts at 5x the
# class's rate through sluice-dp, every frame stamped with its send time
# (sluice-gen --stamp); the receiver captures what crosses.
#
#  A. bursts that fit in DELAY: nothing is dropped, everything arrives;
#  B. bursts far beyond DELAY: while the queue is busy the output rate is
#     the configured rate within 1%, excess beyond DELAY is dropped;
#  C. B with a queue of 32 packets: the queue never holds more, the rest
#     is dropped and counted as a full queue. (32 ms of queue does not
#     bridge the generator's own gaps on this machine: no rate check.)
#  D. a policy swap (DELAY 100 -> 200 ms) while packets wait, then SIGTERM
#     while they still do: every delayed packet is sent, none is lost.
#
# Everywhere: no packet leaves later than one tick after its departure,
# so none is held longer than DELAY plus one tick, in time the lcore ran
# (the dataplane's own account: a packet leaves at the first poll at or
# after its tick, so a gap between polls adds to it; on a gateway with a
# core of its own a gap is microseconds); the end-to-end delay of the
# stamps agrees (plus E2E_SLACK_US for the veths and the capture); the
# counts add up; the queue's high water stays within its capacity.
# Figures land in $T/shape-*.json; PHASES="B" runs some of the phases.
#
# On this shared machine the lcore can lose its core for milliseconds.
# A phase whose longest poll gap is over POLL_SLACK_US runs again, up to
# TRIES times, for clean figures; the checks hold either way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up

RATE=1000 BURST=10 DELAY_MS=100 TICK_NS=16384
POLL_SLACK_US=${POLL_SLACK_US:-1000}
E2E_SLACK_US=${E2E_SLACK_US:-5000}
TRIES=${TRIES:-3}
PHASES=${PHASES:-A B C D}
SRC=10.77.0.1

cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: shaped
    match: { proto: udp, src: 10.77.0.0/16, dport: 5000 }
    limit: { key: src, rate: ${RATE}pps, burst: $BURST }
    exceed: { shape: ${DELAY_MS}ms }
EOP

# analyse PHASE: the end-to-end delays, and the output rate while the
# queue is busy: over each run of consecutive packets that waited (their
# stamps say more than 1 ms, none 20 ms after the one before), the
# median over windows of 50 packets. A
# poll gap of the dataplane sends what fell due meanwhile together,
# late, which skews the windows it touches but not their median; a gap
# of the generator can empty the queue, which ends a run.
analyse() {
	$PY - "$T/sink-$1.pcap" "$RATE" "$BURST" >"$T/shape-$1.json" <<'EOF'
import json, struct, sys
path, rate, burst = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert struct.unpack("<I", data[:4])[0] == 0xa1b23c4d, "not a nanosecond pcap"
off, t, delays = 24, [], []
while off + 16 <= len(data):
    sec, nsec, cap, length = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + cap]
    off += 16 + cap
    ts = sec * 10**9 + nsec
    if cap == length and frame[-16:-8] == b"sluiceTS":
        t.append(ts)
        delays.append(ts - struct.unpack(">Q", frame[-8:])[0])
busy, run = [], []
for ts, d in zip(t, delays):
    if run and (d <= 10**6 or ts - run[-1] > 20 * 10**6):
        busy.append(run)
        run = []
    if d > 10**6:
        run.append(ts)
if run:
    busy.append(run)
W, rates, whole = 50, [], []
for q in busy:
    if len(q) >= 2 * W:
        w = sorted(W * 1e9 / (q[i + W] - q[i]) for i in range(len(q) - W))
        rates.append(w[len(w) // 2])
        whole.append((len(q) - 1) * 1e9 / (q[-1] - q[0]))
json.dump({"received": len(t), "busy_runs": len(busy),
           "busy_packets": [len(q) for q in busy],
           "rates": rates, "rates_first_to_last": whole,
           "worst_rate_error_pct": max((abs(r - rate) / rate * 100 for r in rates), default=None),
           "delay_min_ns": min(delays, default=0), "delay_max_ns": max(delays, default=0)},
          sys.stdout)
EOF
}

# start_phase NAME SHAPE_QUEUE: the dataplane and the receiver.
start_phase() {
	dp_start "$T/policy.yaml" --shape-queue "$2"
	# On a gateway the dataplane's lcore is its own (isolcpus); here it
	# shares two cores with the generator and whatever else runs, so
	# give its polling thread (the main one: -l 1) the larger share.
	renice -n "${DP_NICE:--15}" -p "$DP_PID" >/dev/null
	ip netns exec "$IN_NS" "$SINK" -i "$IN_IF" -t 60 -f "udp port 5000" -w "$T/sink-$1.pcap" \
		>"$T/sink.json" 2>"$T/sink.log" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	for _ in $(seq 1 50); do
		grep -q listening "$T/sink.log" && break
		sleep 0.1
	done
}

# send ON OFF DURATION: the bursts, stamped.
send() {
	gen --src "$SRC" --dst "$IN_IP" --proto udp --sport 4000 --dport 5000 \
		--size 100 --rate $((5 * RATE))pps --on "$1" --off "$2" \
		--duration "$3" --burst 64 --stamp
}

# end_phase NAME: stop both (the dataplane first: it drains its queue).
end_phase() {
	dp_stop
	sink_stop
	cp "$T/dp-report.json" "$T/dp-$1.json"
	cp "$T/sink.json" "$T/sink-$1.json"
	cp "$T/gen.json" "$T/gen-$1.json"
	analyse "$1"
}

# run_phase NAME SHAPE_QUEUE ON OFF DURATION: one run; reports in $T.
run_phase() {
	start_phase "$1" "$2"
	send "$3" "$4" "$5"
	sleep $((DELAY_MS / 100 + 1))	# the queue drains
	end_phase "$1"
}

# phase NAME ...: run_phase, again while the lcore lost its core.
phase() {
	local gap try
	for try in $(seq 1 "$TRIES"); do
		run_phase "$@"
		gap=$(py "j0['lcores'][0]['max_poll_gap_ns']" "$T/dp-$1.json")
		[ "$gap" -le $((POLL_SLACK_US * 1000)) ] && return 0
		log "$1: the lcore did not poll for $((gap / 1000)) us at a time (load $(cut -d' ' -f1-3 /proc/loadavg)); try $try of $TRIES"
	done
}

# shaped NAME OUTCOME: a packet count of class shaped in the phase's report.
shaped() {
	py "[c for c in j0['classes'] if c['name'] == 'shaped'][0]['packets']['$2']" "$T/dp-$1.json"
}

# check_common NAME: counts add up, holds and delays within bounds.
check_common() {
	local name=$1 sent passed delayed dropped got bad hold late hw cap e2e gap
	sent=$(py "j0['sent']['packets']" "$T/gen-$name.json")
	passed=$(shaped "$name" passed)
	delayed=$(shaped "$name" delayed)
	dropped=$(shaped "$name" dropped)
	got=$(py "j0['packets']" "$T/sink-$name.json")
	bad=$(py "j0['bad_l4_checksum'] + j0['bad_ip_checksum']" "$T/sink-$name.json")
	hold=$(py "j0['shaper']['max_hold_ns']" "$T/dp-$name.json")
	late=$(py "j0['shaper']['max_late_ns']" "$T/dp-$name.json")
	hw=$(py "j0['shaper']['high_water']" "$T/dp-$name.json")
	cap=$(py "j0['shaper']['capacity']" "$T/dp-$name.json")
	gap=$(py "j0['lcores'][0]['max_poll_gap_ns']" "$T/dp-$name.json")
	e2e=$(py "j0['delay_max_ns'] - j0['delay_min_ns']" "$T/shape-$name.json")
	log "$name: sent $sent, passed $passed, delayed $delayed, dropped $dropped, received $got; queue high water $hw of $cap"
	log "$name: longest hold $((hold / 1000)) us, late by at most $((late / 1000)) us, longest poll gap $((gap / 1000)) us; end-to-end delay $(py "j0['delay_min_ns'] // 1000" "$T/shape-$name.json")..$(py "j0['delay_max_ns'] // 1000" "$T/shape-$name.json") us; DELAY + tick = $((DELAY_MS * 1000 + TICK_NS / 1000)) us"
	[ "$bad" -eq 0 ] || fail "$name: $bad frames with bad checksums"
	if [ -n "${STOPPED_EARLY:-}" ]; then	# the rest came after the stop
		[ $((passed + delayed + dropped)) -le "$sent" ] || fail "$name: passed + delayed + dropped > sent $sent"
	else
		[ $((passed + delayed + dropped)) -eq "$sent" ] || fail "$name: passed + delayed + dropped != sent $sent"
	fi
	[ $((passed + delayed)) -eq "$got" ] || fail "$name: forwarded $((passed + delayed)), received $got"
	[ "$(py "j0['shaper']['sent']" "$T/dp-$name.json")" -eq "$delayed" ] || fail "$name: not every delayed packet was sent"
	[ "$(py "j0['shaper']['queued']" "$T/dp-$name.json")" -eq 0 ] || fail "$name: packets left in the queue"
	[ "$(py "j0['shaper']['freed_at_exit']" "$T/dp-$name.json")" -eq 0 ] || fail "$name: packets freed at exit"
	[ "$hw" -le "$cap" ] || fail "$name: high water $hw over capacity $cap"
	# 10 us: a poll reads its clock just after the gap is measured.
	[ "$late" -le $((TICK_NS + gap + 10000)) ] ||
		fail "$name: a packet left $late ns after its departure, over a tick + the longest poll gap $gap ns"
	[ "$hold" -le $((${DELAY_MAX_MS:-$DELAY_MS} * 1000000 + TICK_NS + gap + 10000)) ] ||
		fail "$name: a packet was held $hold ns, over DELAY + tick + the longest poll gap $gap ns"
	[ "$e2e" -le $((${DELAY_MAX_MS:-$DELAY_MS} * 1000000 + TICK_NS + gap + E2E_SLACK_US * 1000)) ] ||
		fail "$name: end-to-end delay spread $e2e ns, over DELAY + tick + poll gap + ${E2E_SLACK_US} us"
	if [ "$gap" -le $((POLL_SLACK_US * 1000)) ]; then
		log "ok: $name: held at most DELAY + $(((hold - DELAY_MS * 1000000) / 1000)) us; left at most $((late / 1000)) us after its departure (a tick is $((TICK_NS / 1000)) us)"
	else
		log "$name: the lcore lost its core for up to $((gap / 1000)) us in every try: holds are bounded by DELAY + tick + that gap only"
	fi
}

# check_rate NAME: every busy run left at the rate within 1%.
check_rate() {
	local err
	err=$(py "j0['worst_rate_error_pct']" "$T/shape-$1.json")
	[ "$err" != None ] || fail "$1: no busy period long enough to measure"
	log "$1: output rate per busy run of $(py "j0['busy_packets']" "$T/shape-$1.json") packets $(py "['%.1f' % r for r in j0['rates']]" "$T/shape-$1.json") pps (first to last packet: $(py "['%.1f' % r for r in j0['rates_first_to_last']]" "$T/shape-$1.json")); configured $RATE, worst error ${err}%"
	$PY -c "import sys; sys.exit(0 if $err <= 1 else 1)" || fail "$1: output rate off by $err%"
}

want() { [[ " $PHASES " == *" $1 "* ]]; }

# A: 60 packets in 12 ms every 120 ms; the last waits about 40 ms.
if want A; then
	phase A 8192 0.012 0.108 3
	check_common A
	[ "$(shaped A dropped)" -eq 0 ] || fail "A: bursts within DELAY were dropped"
	log "ok: A: bursts within DELAY: nothing dropped, $(py "j0['received']" "$T/shape-A.json") received"
fi

# B: 2500 packets in 500 ms every second: the queue holds DELAY's worth.
if want B; then
	phase B 8192 0.5 0.5 3
	check_common B
	check_rate B
	[ "$(py "j0['shaper']['queue_full_drops']" "$T/dp-B.json")" -eq 0 ] || fail "B: queue-full drops with room left"
	[ "$(shaped B dropped)" -gt 0 ] || fail "B: nothing beyond DELAY was dropped"
	log "ok: B: held to the rate, excess beyond DELAY dropped, none for want of room"
fi

# C: as B, with room for 32 packets.
if want C; then
	phase C 32 0.5 0.5 2
	check_common C
	full=$(py "j0['shaper']['queue_full_drops']" "$T/dp-C.json")
	hw=$(py "j0['shaper']['high_water']" "$T/dp-C.json")
	[ "$hw" -eq 32 ] || fail "C: high water $hw, expected the capacity 32"
	[ "$full" -gt 0 ] || fail "C: no queue-full drops"
	# 32 packets wait at most 32 ms < DELAY: every drop is a full queue's.
	[ "$full" -eq "$(shaped C dropped)" ] || fail "C: drops other than a full queue's"
	log "ok: C: a queue of 32 never held more, $full dropped for a full queue"
fi

# dp_shaper FIELD: a field of the running dataplane's shaper stats.
dp_shaper() {
	$PY "$(dirname "$0")/ctlclient.py" "$T/dp.sock" stats |
		$PY -c "import json, sys; print(json.load(sys.stdin)['result']['shaper']['$1'])"
}

# D: 5x the rate; once packets wait, the policy becomes DELAY 200 ms
# (same class: its bucket and the waiting packets carry on); once 150
# wait, SIGTERM: they are sent when due, before sluice-dp exits.
# On this shared VM the telemetry reads that time the swap and the stop
# can come too late (the burst over, the queue drained): then the phase
# did not set up what it tests, and it runs again, up to $TRIES times.
if want D; then
	cp "$T/policy.yaml" "$T/policy-D.yaml"
	for try in $(seq 1 "$TRIES"); do
		cp "$T/policy-D.yaml" "$T/policy.yaml"
		start_phase D 8192
		# 4 s of burst: the swap (SIGHUP, then the queue's growth to
		# 150) has to land inside it even when telemetry answers slowly.
		send 4 1 4 &
		GEN_BG=$!
		for _ in $(seq 1 200); do
			[ "$(dp_shaper queued)" -gt 0 ] && break
			kill -0 "$GEN_BG" 2>/dev/null || break
			sleep 0.02
		done
		sed -i 's/shape: [0-9]*ms/shape: 200ms/' "$T/policy.yaml"
		kill -HUP "$DP_PID"
		for _ in $(seq 1 200); do
			[ "$(dp_shaper queued)" -ge 150 ] && break
			kill -0 "$GEN_BG" 2>/dev/null || break
			sleep 0.02
		done
		end_phase D
		wait "$GEN_BG" || fail "D: sluice-gen failed"
		cp "$T/gen.json" "$T/gen-D.json"
		grep -q 'version 2 active' "$T/dp.log" || fail "D: the new policy was not applied: $(grep policy: "$T/dp.log")"
		DELAY_MAX_MS=200 STOPPED_EARLY=1 check_common D
		drained=$(sed -n 's/.* \([0-9]*\) delayed packets sent when due after the stop/\1/p' "$T/dp.log")
		[ "${drained:-0}" -ge 100 ] && break
		log "D: only ${drained:-0} packets waited at the stop (the burst was over); try $try of $TRIES"
	done
	[ "${drained:-0}" -ge 100 ] || fail "D: only ${drained:-0} packets waited at the stop in $TRIES tries: the test did not test it"
	log "ok: D: a policy swap and a stop with $drained packets waiting: all $(shaped D delayed) delayed packets sent"
fi
