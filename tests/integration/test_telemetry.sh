#!/usr/bin/env bash
# sluice-dp's DPDK telemetry endpoints answer dpdk-telemetry.py while it
# forwards, and agree with the final report written on SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
command -v dpdk-telemetry.py >/dev/null || skip "dpdk-telemetry.py not installed"
lab_up

cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: limited
    match: { proto: udp, dport: 5000 }
    limit: { key: src, rate: 100pps, burst: 10 }
    exceed: drop
EOP
dp_start "$T/policy.yaml"
gen --src 10.90.0.1-10.90.0.4 --dst "$IN_IP" --proto udp --dport 5000 --rate 2kpps --count 2000

tel() {	# tel COMMAND: one telemetry reply, as JSON
	echo "$1" | dpdk-telemetry.py -f "$LAB-dp" 2>/dev/null |
		$PY -c 'import sys, json; print(json.dumps(json.loads(sys.stdin.read())))'
}
tel /sluice/stats >"$T/stats.json"
tel /sluice/engine >"$T/engine.json"
tel /sluice/ports >"$T/ports.json"
tel /sluice/lcores >"$T/lcores.json"
tel /help,/sluice/stats >"$T/help.json"
for f in stats engine ports lcores help; do log "$f: $(head -c 300 "$T/$f.json")"; done

passed=$(py "j0['/sluice/stats']['limited']['passed_packets']" "$T/stats.json")
dropped=$(py "j0['/sluice/stats']['limited']['dropped_packets']" "$T/stats.json")
[ $((passed + dropped)) -eq 2000 ] || fail "telemetry: passed $passed + dropped $dropped != 2000 sent"
# Idle entries expire after max(fill time, 1 s), so count creations.
flows=$(py "j0['/sluice/engine']['flows_created']" "$T/engine.json")
[ "$flows" -eq 4 ] || fail "telemetry: $flows flows created, expected 4 (one per source)"
rx=$(py "j0['/sluice/ports']['net_af_packet0']['rx_packets']" "$T/ports.json")
[ "$rx" -ge 2000 ] || fail "telemetry: port rx $rx < 2000 sent"
py "j0['/sluice/lcores']['lcore1']['total_cycles'] > 0" "$T/lcores.json" | grep -q True ||
	fail "telemetry: lcore1 reports no cycles"
grep -q "Per-class" "$T/help.json" || fail "telemetry: /help has no text for /sluice/stats"

dp_stop
rp=$(class_count limited packets passed)
[ "$rp" -eq "$passed" ] || fail "final report passed $rp, telemetry said $passed"
log "ok: telemetry and the final report agree: passed $passed, dropped $dropped of 2000, 4 flows"
