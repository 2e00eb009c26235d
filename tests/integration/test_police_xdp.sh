#!/usr/bin/env bash
# The XDP path alone: sluice-dp never starts (as on a host without
# hugepages), sluiced runs traffic on XDP and says so. Sources over their
# limit are held to their rate within 2% over 3 s, sources under it lose
# nothing, IPv4 and IPv6 at once, and sluicectl stats agrees with what
# crossed. When sluiced stops, nothing of it stays on the interfaces.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up
lab_xdp

RATE=500 BURST=50 TOL=2
HEAVY=(10.77.0.1 10.77.0.2 10.77.0.3 2001:db8:77::1 2001:db8:77::2)
LIGHT=(10.78.0.1 10.78.0.2 10.78.0.3 2001:db8:78::1 2001:db8:78::2)
cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: login
    match: { proto: udp, dport: 5000, payload: '^LOGIN ' }
    limit: { key: src, rate: 1pps, burst: 1 }
  - name: limited
    match: { proto: udp, src: [10.77.0.0/16, 10.78.0.0/16, 2001:db8:77::/48, 2001:db8:78::/48], dport: 5000 }
    limit: { key: src, rate: ${RATE}pps, burst: $BURST }
    exceed: drop
EOP
# sluice-dp cannot start: it asks for more hugepage memory than the host
# has (as on a host without hugepages), fails, and its socket never appears.
if ip netns exec "$GW_NS" "$DP" -l 1 --no-pci --file-prefix "$LAB-dp" \
	--socket-mem 16777215 --vdev "net_af_packet0,iface=$GW_OUT_IF" \
	--vdev "net_af_packet1,iface=$GW_IN_IF" -- --policy "$T/policy.yaml" \
	--ctl-socket "$T/dp.sock" >"$T/dp-fail.log" 2>&1; then
	fail "sluice-dp started with 16 TB of hugepage memory asked for"
fi
log "sluice-dp cannot start: $(grep -m1 -iE 'cannot|error|fail' "$T/dp-fail.log")"
SLUICED_NS=$GW_NS sluiced_start --pair "$GW_OUT_IF,$GW_IN_IF"
SCTL policy apply "$T/policy.yaml" >/dev/null || fail "policy apply"
took=$(wait_path xdp 3)
reason=$(status_field "['reason']")
log "path xdp after ${took}s: $reason"
[[ "$reason" == *"dataplane is down"* ]] || fail "status does not say why: $reason"
SCTL status | grep -q '^ *xdp *attached' || fail "sluicectl status does not show the XDP path: $(SCTL status)"
# A payload class cannot be enforced by XDP: status says so; its packets
# fall through to the next class (none of the generator's match it).
[ "$(py "[d['class'] for d in j0['degraded']]" "$T/status.json")" = "['login']" ] ||
	fail "degraded classes: $(SCTL status)"
log "degraded on the XDP path: $(status_field "['degraded'][0]['reason']")"

sink_start 60 "udp port 5000"
gen --group heavy4 --src "${HEAVY[0]}-${HEAVY[2]}" --dst "$IN_IP" --proto udp \
		--sport 4000 --dport 5000 --rate 3kpps --size 100 \
	--group heavy6 --src "${HEAVY[3]}-${HEAVY[4]}" --dst "$IN_IP6" --rate 2kpps \
	--group light4 --src "${LIGHT[0]}-${LIGHT[2]}" --dst "$IN_IP" --rate 600pps \
	--group light6 --src "${LIGHT[3]}-${LIGHT[4]}" --dst "$IN_IP6" --rate 400pps \
	--duration 3 --burst 64
sink_stop

DUR=$(group_field heavy4 "['duration_s']")
log "generator: $(py "j0['sent']" "$T/gen.json") over ${DUR}s, late $(py "j0['late_packets']" "$T/gen.json")"
each=$(($(group_field heavy4 "['sent']['packets']") / 3))
[ "$each" -ge $((RATE * 3 * 3 / 2)) ] || fail "offered only $each per heavy source: not over the limit enough to test it"
expect_held "${HEAVY[@]}"
expect_all_of_group light4 "${LIGHT[@]:0:3}"
expect_all_of_group light6 "${LIGHT[@]:3:2}"

# sluiced folds the XDP program's counters every second.
sleep 1.2
SCTL -j stats >"$T/stats.json" || fail "sluicectl stats"
passed=$(py "[c for c in j0['classes'] if c['name'] == 'limited'][0]['packets']['passed']" "$T/stats.json")
dropped=$(py "[c for c in j0['classes'] if c['name'] == 'limited'][0]['packets']['dropped']" "$T/stats.json")
sent=$(py "j0['sent']['packets']" "$T/gen.json")
got=$(py "j0['packets']" "$T/sink.json")
[ "$passed" -eq "$got" ] || fail "XDP passed $passed, receiver got $got"
[ $((passed + dropped)) -eq "$sent" ] || fail "passed $passed + dropped $dropped != sent $sent"
log "ok: XDP path passed $passed and dropped $dropped of $sent; receiver got $got"

kill -TERM "$SLUICED_PID"
timeout 10 tail --pid="$SLUICED_PID" -f /dev/null || fail "sluiced did not stop"
for i in "$GW_OUT_IF" "$GW_IN_IF"; do
	xdp_attached "$i" && fail "an XDP program stayed on $i after sluiced stopped"
done
log "ok: nothing left on $GW_OUT_IF, $GW_IN_IF after sluiced stopped"

# A crash leaves nothing either: the attachments are links of its fds.
rm -f "$T/sluiced.sock"
SLUICED_NS=$GW_NS sluiced_start --pair "$GW_OUT_IF,$GW_IN_IF"
wait_path xdp 3 >/dev/null
xdp_attached "$GW_OUT_IF" || fail "XDP not attached after the restart"
kill -KILL "$SLUICED_PID"
wait "$SLUICED_PID" 2>/dev/null || true
sleep 0.2
for i in "$GW_OUT_IF" "$GW_IN_IF"; do
	xdp_attached "$i" && fail "an XDP program stayed on $i after sluiced was killed"
done
log "ok: nothing left on the interfaces after kill -9 of sluiced"
