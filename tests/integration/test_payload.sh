#!/usr/bin/env bash
# payload classes in the namespace lab: HTTP `POST /login` requests from
# 50 clients (25 in each of two /24s) held to 5 per second per /24, GETs
# from the same clients all through; TLS ClientHellos naming example.com
# held to 50 per second, those naming other.net all through. Held
# sources within 2% of rate x duration + burst over 20 s (one token, the
# most the edges of the run can shift, is under 1% of 105); the
# dataplane's counters agree with what was sent and what crossed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up

DUR_SET=20 TOL=2
LOGIN_RATE=5 LOGIN_BURST=5
TLS_RATE=50 TLS_BURST=50

# A TLS 1.3 ClientHello naming $1, as sluice-gen's \xHH payload escapes.
client_hello() {
	$PY - "$1" <<'EOF'
import struct, sys
sni = sys.argv[1].encode()
ext_sni = struct.pack(">HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
ext_ver = struct.pack(">HHB", 0x2b, 3, 2) + b"\x03\x04"
exts = ext_sni + ext_ver
body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack(">H", 4) +
        b"\x13\x01\x13\x02" + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
rec = b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs
print("".join("\\x%02x" % b for b in rec))
EOF
}
HELLO_EX=$(client_hello example.com)
HELLO_OTHER=$(client_hello other.net)
POST='POST /login HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n'
GET='GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n'

cat >"$T/policy.yaml" <<EOP
version: 1
default: pass
classes:
  - name: login
    match: { proto: tcp, dport: 80, payload: '^POST /login\b' }
    limit: { key: src/24, rate: ${LOGIN_RATE}pps, burst: $LOGIN_BURST }
    exceed: drop
  - name: tls-example
    match:
      proto: tcp
      dport: 443
      payload: '^\x16\x03[\x00-\x04].{2}\x01.*\x00\x00.{4}\x00\x00\x0bexample\.com'
    limit: { key: none, rate: ${TLS_RATE}pps, burst: $TLS_BURST }
    exceed: drop
  - name: web
    match: { proto: tcp, dport: [80, 443] }
EOP
"$CTL" policy check "$T/policy.yaml" >/dev/null || fail "policy refused"
dp_start "$T/policy.yaml"
# What the receiver counts per source: POSTs (the TCP payload starts
# 20 bytes in: sluice-gen sends no TCP options) and ClientHellos.
sink_start 60 "(tcp dst port 80 and tcp[20:4] = 0x504f5354) or tcp dst port 443"

gen --dst "$IN_IP" --proto tcp --tcp-flags psh,ack --sport 40000 \
		--duration "$DUR_SET" --burst 64 \
	--group login-a --src 10.77.1.1-10.77.1.25 --dport 80 --payload "$POST" --rate 250pps \
	--group login-b --src 10.77.2.1-10.77.2.25 \
	--group get-a --src 10.77.1.1-10.77.1.25 --payload "$GET" --rate 100pps \
	--group get-b --src 10.77.2.1-10.77.2.25 \
	--group hello-ex --src 10.88.0.1-10.88.0.10 --dport 443 --payload "$HELLO_EX" --rate 500pps \
	--group hello-other --src 10.89.0.1-10.89.0.10 --payload "$HELLO_OTHER" --rate 200pps
sink_stop
dp_stop

log "generator: $(py "j0['sent']" "$T/gen.json"), late $(py "j0['late_packets']" "$T/gen.json")"
sent() { group_field "$1" "['sent']['packets']"; }
# received_sum A B N: packets from A.1 .. A.N summed (A a /24 prefix like 10.77.1).
received_sum() {
	py "(lambda s: sum(s.get('$1.%d' % i, {}).get('packets', 0) for i in range(1, $2 + 1)))(j0['sources'])" "$T/sink.json"
}
# held NAME GOT RATE BURST DUR: GOT within TOL% of RATE x DUR + BURST.
held() {
	local want
	want=$($PY -c "print($3 * $5 + $4)")
	within "$2" "$want" "$TOL" || fail "$1: $2 crossed, the limit allows $want (tolerance $TOL%)"
	log "ok: $1: $2 crossed, the limit allows $want (tolerance $TOL%)"
}

# The offer must stay far above the limits for the test to mean anything.
for g in login-a login-b; do
	[ "$(sent $g)" -ge $((LOGIN_RATE * DUR_SET * 20)) ] || fail "group $g offered only $(sent $g)"
done
[ "$(sent hello-ex)" -ge $((TLS_RATE * DUR_SET * 5)) ] || fail "hello-ex offered only $(sent hello-ex)"

held "POST /login from 10.77.1.0/24" "$(received_sum 10.77.1 25)" $LOGIN_RATE $LOGIN_BURST \
	"$(group_field login-a "['duration_s']")"
held "POST /login from 10.77.2.0/24" "$(received_sum 10.77.2 25)" $LOGIN_RATE $LOGIN_BURST \
	"$(group_field login-b "['duration_s']")"
held "ClientHello example.com" "$(received_sum 10.88.0 10)" $TLS_RATE $TLS_BURST \
	"$(group_field hello-ex "['duration_s']")"
got=$(received_sum 10.89.0 10)
[ "$got" -eq "$(sent hello-other)" ] || fail "ClientHello other.net: sent $(sent hello-other), $got crossed"
log "ok: ClientHello other.net: all $got crossed"

# The dataplane: POSTs and example.com hellos counted by their classes,
# GETs and other hellos fell through to web and all passed.
posts=$(($(sent login-a) + $(sent login-b)))
gets=$(($(sent get-a) + $(sent get-b)))
lp=$(class_count login packets passed) ld=$(class_count login packets dropped)
tp=$(class_count tls-example packets passed) td=$(class_count tls-example packets dropped)
wp=$(class_count web packets passed) wd=$(class_count web packets dropped)
[ $((lp + ld)) -eq "$posts" ] || fail "login: passed $lp + dropped $ld != POSTs sent $posts"
[ "$lp" -eq $(($(received_sum 10.77.1 25) + $(received_sum 10.77.2 25))) ] ||
	fail "login: the dataplane passed $lp, the receiver counted other"
[ $((tp + td)) -eq "$(sent hello-ex)" ] || fail "tls-example: passed $tp + dropped $td != sent $(sent hello-ex)"
[ "$wd" -eq 0 ] && [ "$wp" -eq $((gets + $(sent hello-other))) ] ||
	fail "web: passed $wp, dropped $wd; GETs and other hellos sent $((gets + $(sent hello-other)))"
log "ok: login passed $lp dropped $ld; tls-example passed $tp dropped $td; web passed all $wp GETs and other hellos"
