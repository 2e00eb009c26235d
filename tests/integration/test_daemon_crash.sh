#!/usr/bin/env bash
# A crash of sluiced changes nothing that runs: the dataplane keeps
# enforcing the last policy (sources held within 2% through the crash),
# a restarted sluiced recovers the policy from its store, reconciles
# with the dataplane without pushing a different one, and its counters
# carry on from where they were.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$SLUICED" ] || skip "sluiced not built"
lab_up

RATE=500 BURST=50 TOL=2
cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: limited
    match: { proto: udp, dport: 5000 }
    limit: { key: src, rate: ${RATE}pps, burst: $BURST }
EOP
printf 'version: 1\nclasses: []\n' >"$T/start.yaml"
dp_start "$T/start.yaml"
sluiced_start
SCTL policy apply "$T/policy.yaml" >/dev/null || fail "apply"
v=$(SCTL -j status | $PY -c 'import json,sys; print(json.load(sys.stdin)["policy"]["version"])')
sink_start 60 "udp"
gen --src 10.77.0.1-10.77.0.5 --dst "$IN_IP" --proto udp --sport 4000 --dport 5000 \
	--rate 5kpps --duration 8 --burst 64 &
GEN_PID=$!
sleep 3
SCTL -j stats >"$T/before.json"
kill -9 "$SLUICED_PID"
wait "$SLUICED_PID" 2>/dev/null || true
log "sluiced killed (-9) while traffic flows"
sleep 2
sluiced_start
sleep 1.5	# a stats poll
SCTL -j status >"$T/status.json"
SCTL -j stats >"$T/after.json"
wait "$GEN_PID" || fail "sluice-gen failed"
sink_stop

py "j0['policy']['version'] == $v and j0['path'] == 'dpdk'" "$T/status.json" | grep -q True ||
	fail "after restart: $(cat "$T/status.json")"
# The dataplane already runs the stored text: reconciling pushes nothing.
if grep -q "pushed policy version" "$T/sluiced.log"; then
	fail "the restarted sluiced pushed a policy the dataplane already had: $(cat "$T/sluiced.log")"
fi
log "ok: restarted sluiced serves version $v and the dataplane runs it"
before=$(py "[c for c in j0['classes'] if c['name'] == 'limited'][0]['packets']['passed']" "$T/before.json")
after=$(py "[c for c in j0['classes'] if c['name'] == 'limited'][0]['packets']['passed']" "$T/after.json")
[ "$after" -ge "$before" ] || fail "passed went back across the restart: $before -> $after"
log "ok: counters carry on across the restart ($before -> $after passed)"
DUR=$(py "j0['duration_s']" "$T/gen.json")
expect_held 10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4 10.77.0.5
