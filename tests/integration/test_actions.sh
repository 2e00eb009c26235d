#!/usr/bin/env bash
# Exceed actions and the default in the namespace lab:
#  - monitor forwards everything and counts the excess;
#  - mark rewrites DSCP (IPv4 and IPv6) with valid checksums, forwards all;
#  - a class without a limit passes everything;
#  - default: drop drops unmatched traffic.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up

cat >"$T/policy.yaml" <<EOP
version: 1
default: drop
classes:
  - name: watched
    match: { proto: udp, dport: 53 }
    limit: { key: src, rate: 200pps, burst: 20 }
    exceed: monitor
  - name: marked
    match: { proto: udp, dport: [5000-5999] }
    limit: { key: flow, rate: 200pps, burst: 20 }
    exceed: { mark: cs1 }
  - name: web
    match: { proto: tcp, dport: 80 }
  # The hosts' own ICMP and ND (port unreachable, router solicitations)
  # must not be mistaken for the unmatched traffic under test.
  - name: icmp
    match: { proto: icmp }
  - name: icmpv6
    match: { proto: icmpv6 }
EOP
dp_start "$T/policy.yaml"
sink_start 60

gen --size 120 --sport 4000 --dscp 10 --proto udp --dst "$IN_IP" \
	--group dns --src 10.80.0.1 --dport 53 --rate 1kpps \
	--group mark4 --src 10.81.0.1 --dport 5001 --rate 1kpps \
	--group mark6 --src 2001:db8:81::1 --dst "$IN_IP6" --dport 5002 --rate 1kpps \
	--group other --src 10.82.0.1 --dst "$IN_IP" --dport 7000 --rate 500pps \
	--group web --src 10.83.0.1 --proto tcp --tcp-flags psh,ack --dport 80 --rate 300pps \
	--duration 3 --burst 64
sink_stop
dp_stop
log "generator: $(py "j0['sent']" "$T/gen.json"), late $(py "j0['late_packets']" "$T/gen.json")"

sent() { group_field "$1" "['sent']['packets']"; }
dscp_count() { py "j0['sources'].get('$1', {}).get('dscp', {}).get('$2', 0)" "$T/sink.json"; }
DUR=$(group_field dns "['duration_s']")
allowed=$($PY -c "print(int(200 * $DUR + 20))")

# monitor: all forwarded; the excess counted as monitored.
s=$(sent dns); got=$(received 10.80.0.1)
[ "$got" -eq "$s" ] || fail "monitor: sent $s, received $got (monitor must forward all)"
mon=$(class_count watched packets monitored); pas=$(class_count watched packets passed)
[ $((mon + pas)) -eq "$s" ] || fail "monitor: passed $pas + monitored $mon != sent $s"
within "$pas" "$allowed" 2 || fail "monitor: passed $pas, limit allows about $allowed"
log "ok: monitor forwarded $got/$s, counted $mon over the limit (passed $pas, limit allows $allowed)"

# mark: all forwarded; conforming keep DSCP 10 (af11), exceeding carry 8 (cs1).
for g in "mark4 10.81.0.1" "mark6 2001:db8:81::1"; do
	set -- $g
	s=$(sent "$1"); got=$(received "$2")
	[ "$got" -eq "$s" ] || fail "mark ($1): sent $s, received $got (mark must forward all)"
	kept=$(dscp_count "$2" 10); cs1=$(dscp_count "$2" 8)
	[ $((kept + cs1)) -eq "$got" ] || fail "mark ($1): DSCP 10: $kept + DSCP 8: $cs1 != $got"
	within "$kept" "$allowed" 2 || fail "mark ($1): $kept kept their DSCP, limit allows about $allowed"
	log "ok: mark ($1) forwarded $got/$s: $kept unchanged, $cs1 rewritten to cs1"
done
marked=$(class_count marked packets marked)
[ "$marked" -eq $(($(dscp_count 10.81.0.1 8) + $(dscp_count 2001:db8:81::1 8))) ] ||
	fail "dataplane marked $marked, receiver saw a different number rewritten"
bad=$(py "j0['bad_ip_checksum'] + j0['bad_l4_checksum']" "$T/sink.json")
[ "$bad" -eq 0 ] || fail "$bad packets arrived with a bad checksum"
log "ok: every packet arrived with valid IPv4 and UDP/TCP checksums"

# A class without a limit passes everything; unmatched traffic is dropped.
s=$(sent web); got=$(received 10.83.0.1)
[ "$got" -eq "$s" ] || fail "web (no limit): sent $s, received $got"
s=$(sent other); got=$(received 10.82.0.1)
[ "$got" -eq 0 ] || fail "default drop: $got unmatched packets crossed"
d=$(py "j0['default']['packets']['dropped']" "$T/dp-report.json")
[ "$d" -eq "$s" ] || fail "default drop: sent $s unmatched, dataplane dropped $d"
log "ok: unlimited class passed all $(sent web); default dropped all $s unmatched"
