#!/usr/bin/env bash
# Hitless apply through the whole control path (sluicectl -> sluiced ->
# sluice-dp) at a steady load: 50 versions in a row lose no packet that
# both versions pass, keep the limited class's buckets, never move a
# counter back; `class set NAME rate R` shows at the receiver within
# 100 ms; a 10,000-class policy applies (figure printed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$SLUICED" ] || skip "sluiced not built"
lab_up

RATE=500 BURST=50 TOL=2
churn_policy 0 "$T/v0.yaml"
dp_start "$T/v0.yaml"
sluiced_start
SCTL policy apply "$T/v0.yaml" >/dev/null || fail "first apply"
sink_start 60 "udp"

gen --size 100 --proto udp --dst "$IN_IP" --sport 4000 \
	--group heavy --src 10.77.0.1-10.77.0.5 --dport 5000 --rate 5kpps \
	--group light --src 10.78.0.1-10.78.0.5 --dport 5000 --rate 2kpps \
	--duration 10 --burst 64 &
GEN_PID=$!
sleep 2
$PY "$(dirname "$0")/telemetry_watch.py" "$LAB-dp" /sluice/stats,limited 6 >"$T/watch.out" &
WATCH_PID=$!
start=$(date +%s%N)
for v in $(seq 1 50); do
	churn_policy "$v" "$T/v.yaml"
	SCTL policy apply "$T/v.yaml" >/dev/null || fail "apply of version $v"
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "50 applies through sluiced in $ms ms"
wait "$WATCH_PID" || fail "counters went back: $(cat "$T/watch.out")"
wait "$GEN_PID" || fail "sluice-gen failed"
sink_stop

DUR=$(group_field heavy "['duration_s']")
expect_held 10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4 10.77.0.5
expect_all_of_group light 10.78.0.1 10.78.0.2 10.78.0.3 10.78.0.4 10.78.0.5

# class set: from 500 pps to 1 pps per source, seen at the receiver.
# With a burst of 5 set first, at most 6 packets pass in the second after
# the change, so the old rate's last packets stand out to within 6 ms
# (three of its 2 ms gaps), whatever the generator's stalls.
SCTL class set limited burst 5 >/dev/null || fail "class set burst"
ip netns exec "$IN_NS" tcpdump -i "$IN_IF" -w "$T/set.pcap" -U -n \
	'udp and src host 10.77.0.9' >/dev/null 2>"$T/tcpdump.log" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
sleep 1
GEN_NICE=10 gen --src 10.77.0.9 --dst "$IN_IP" --proto udp --sport 4000 --dport 5000 \
	--rate 2kpps --duration 5 --burst 64 &
GEN_PID=$!
sleep 3
t_set=$($PY -c 'import time; print(time.time())')
SCTL class set limited rate 1pps >/dev/null || fail "class set"
t_done=$($PY -c 'import time; print(time.time())')
wait "$GEN_PID"
sleep 0.5
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true
# When did the old rate end at the receiver? At the last packet with
# more than 7 packets in the second after it: at most 6 ms before the
# change; 6 ms is added, so the figure is an upper bound. The capture
# clock is the same wall clock as t_set.
took=$($PY - "$T/set.pcap" "$t_set" <<'EOP'
import bisect, struct, sys
data = open(sys.argv[1], "rb").read()
t_set = float(sys.argv[2])
magic = struct.unpack("<I", data[:4])[0]
scale = 1e-9 if magic == 0xa1b23c4d else 1e-6
off, ts = 24, []
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack("<IIII", data[off:off + 16])
    ts.append(sec + frac * scale)
    off += 16 + incl
before = [t for t in ts if t_set - 1 <= t < t_set]
assert len(before) > 300, f"only {len(before)} packets in the second before the change"
last_old = None
for j, t in enumerate(ts):
    if bisect.bisect_left(ts, t + 1.0) - j > 7:
        last_old = t
if last_old is None or ts[-1] - last_old < 1.0:
    print("never")	# the old rate lasted to the end of the capture
else:
    print(round(max(0.0, last_old - t_set) * 1000 + 6, 1))
EOP
)
log "class set: sluicectl returned after $($PY -c "print(round(($t_done - $t_set) * 1000, 1))") ms; the receiver saw the new rate at most $took ms after the command"
[ "$took" != never ] || fail "the new rate never showed at the receiver"
$PY -c "import sys; sys.exit(0 if float('$took') < 100 else 1)" || fail "class set took $took ms to show (limit 100 ms)"

# A 10,000-class policy through the whole path.
$PY - >"$T/p10k.yaml" <<'EOP'
print("version: 1\ndefault: pass\nclasses:")
for i in range(10000):
    print(f"  - name: c{i}\n    match: {{ proto: udp, src: 10.{i // 256}.{i % 256}.0/24, dport: {1000 + i % 5000} }}\n    limit: {{ key: src, rate: {100 + i}pps, burst: 50 }}")
EOP
start=$(date +%s%N)
SCTL policy apply "$T/p10k.yaml" >"$T/apply10k.out" || fail "10,000-class apply: $(cat "$T/apply10k.out")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "10,000-class policy applied end to end in $ms ms ($(cat "$T/apply10k.out"))"
dp_stop
