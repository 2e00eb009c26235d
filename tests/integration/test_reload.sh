#!/usr/bin/env bash
# Hitless reload: under steady load, 50 policy versions in a row (SIGHUP
# after each rewrite of the policy file, one of them invalid) lose no
# packet that both policies pass, keep the limited class's buckets (its
# sources stay within 2% of their rate), and never move a counter back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up

RATE=500 BURST=50 TOL=2
churn_policy 0 "$T/policy.yaml"
dp_start "$T/policy.yaml"
sink_start 60 "udp"

gen --size 100 --proto udp --dst "$IN_IP" --sport 4000 \
	--group heavy --src 10.77.0.1-10.77.0.5 --dport 5000 --rate 5kpps \
	--group light --src 10.78.0.1-10.78.0.5 --dport 5000 --rate 2kpps \
	--duration 10 --burst 64 &
GEN_PID=$!
sleep 2	# the generator's EAL start
# Watch the limited class's counters through all the reloads.
$PY "$(dirname "$0")/telemetry_watch.py" "$LAB-dp" /sluice/stats,limited 7 >"$T/watch.out" &
WATCH_PID=$!

for v in $(seq 1 50); do
	if [ "$v" -eq 25 ]; then
		printf 'version: 1\nclasses:\n  - name: broken\n    limit: { rate: 0pps }\n' >"$T/policy.yaml"
	else
		churn_policy "$v" "$T/policy.yaml"
	fi
	kill -HUP "$DP_PID"
	sleep 0.1
done
wait "$WATCH_PID" || fail "counters went back: $(cat "$T/watch.out")"
log "ok: $(cat "$T/watch.out") telemetry samples during the reloads, no counter went back"
wait "$GEN_PID" || fail "sluice-gen failed"
sink_stop
dp_stop

applied=$(grep -c 'active:' "$T/dp.log")
refused=$(grep -c 'stays in force' "$T/dp.log" || true)
log "reloads: $applied versions active (the first at start), $refused refused"
[ "$applied" -eq 50 ] || fail "expected 50 versions active (1 at start + 49 reloads), saw $applied"
[ "$refused" -eq 1 ] || fail "expected the invalid policy to be refused once, saw $refused"

DUR=$(group_field heavy "['duration_s']")
expect_held 10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4 10.77.0.5
expect_all_of_group light 10.78.0.1 10.78.0.2 10.78.0.3 10.78.0.4 10.78.0.5
