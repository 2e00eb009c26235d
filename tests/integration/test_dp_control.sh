#!/usr/bin/env bash
# sluice-dp's control socket: hello, ping (worker poll counts move),
# policy.load (applied and used by the workers; a bad policy refused with
# file:line:column and the running one kept), policy.show, stats; the
# socket's mode and garbage on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
lab_up
CTL="$PY $(dirname "$0")/ctlclient.py $T/dp.sock"

cat >"$T/policy.yaml" <<EOP
version: 1
classes:
  - name: first
    match: { proto: udp, dport: 5000 }
    limit: { key: src, rate: 100pps, burst: 10 }
EOP
dp_start "$T/policy.yaml"
mode=$(stat -c %a "$T/dp.sock")
[ "$mode" = 660 ] || fail "control socket mode $mode, expected 660"

$CTL dp.hello >"$T/hello.json" || fail "dp.hello: $(cat "$T/hello.json")"
py "j0['result']['workers'] == 1 and j0['result']['policy_version'] == 1" "$T/hello.json" | grep -q True ||
	fail "dp.hello: $(cat "$T/hello.json")"
$CTL dp.ping >"$T/p1.json"; sleep 0.2; $CTL dp.ping >"$T/p2.json"
py "j1['result']['polls'][0] > j0['result']['polls'][0]" "$T/p1.json" "$T/p2.json" | grep -q True ||
	fail "worker poll count does not move: $(cat "$T/p1.json" "$T/p2.json")"
log "ok: hello and ping; the worker's poll count moves"

# A new policy over the socket: drop everything to UDP 5000.
cat >"$T/v2.yaml" <<EOP
version: 1
classes:
  - name: first
    match: { proto: udp, dport: 5000 }
    limit: { key: src, rate: 1pps, burst: 1 }
  - name: second
    match: { proto: udp, dport: 6000 }
EOP
$CTL policy.load "@$T/v2.yaml" >"$T/load.json" || fail "policy.load: $(cat "$T/load.json")"
py "j0['result']['version'] == 2 and j0['result']['classes'] == 2" "$T/load.json" | grep -q True ||
	fail "policy.load: $(cat "$T/load.json")"
log "ok: policy.load applied version 2 in $(py "j0['result']['compile_ms'] + j0['result']['publish_ms']" "$T/load.json") ms"

# A bad one: refused with diagnostics, version 2 stays.
printf 'version: 1\nclasses:\n  - name: x\n    limit: { key: src, rate: 0pps, burst: 1 }\n' >"$T/bad.yaml"
if $CTL policy.load "@$T/bad.yaml" >"$T/bad.json"; then fail "a bad policy was accepted"; fi
py "j0['error']['code'] == 'EINVAL' and j0['error']['diagnostics'][0]['line'] == 4" "$T/bad.json" | grep -q True ||
	fail "bad policy reply: $(cat "$T/bad.json")"
$CTL policy.show >"$T/show.json"
py "j0['result']['version'] == 2 and 'second' in j0['result']['text']" "$T/show.json" | grep -q True ||
	fail "policy.show after a refused load: $(cat "$T/show.json")"
log "ok: a bad policy is refused at $(py "j0['error']['diagnostics'][0]['file']" "$T/bad.json"):4 and version 2 stays"

# The workers use version 2: 1 pps, burst 1 per source.
gen --src 10.9.0.1 --dst "$IN_IP" --proto udp --dport 5000 --rate 1kpps --count 500
$CTL stats >"$T/stats.json"
passed=$(py "[c for c in j0['result']['classes'] if c['name'] == 'first'][0]['packets']['passed']" "$T/stats.json")
[ "$passed" -le 2 ] || fail "version 2 (1 pps) passed $passed of 500 in 0.5 s"
log "ok: stats over the socket: class first passed $passed of 500 under version 2"

# top: the three heavy sources among 200 light ones, while they send.
$CTL policy.load "@$T/policy.yaml" >/dev/null || fail "reload version 1"
gen --proto udp --dst "$IN_IP" --dport 5000 --sport 4000 \
	--group heavy --src 10.11.0.1-10.11.0.3 --rate 6kpps \
	--group light --src 10.12.0.1-10.12.0.200 --rate 2kpps \
	--duration 4 --burst 64 &
GEN_PID=$!
sleep 3.5
$CTL top '{"class": "first", "n": 3}' >"$T/top.json" || fail "top: $(cat "$T/top.json")"
wait "$GEN_PID"
py "sorted(k['key'] for k in j0['result']['keys'])" "$T/top.json" | grep -q "\['10.11.0.1', '10.11.0.2', '10.11.0.3'\]" ||
	fail "top 3 are not the heavy sources: $(cat "$T/top.json")"
log "ok: top finds the 3 heavy sources among 203: $(py "[(k['key'], round(k['pps'])) for k in j0['result']['keys']]" "$T/top.json")"

# Garbage gets an error and the server keeps serving.
$PY - "$T/dp.sock" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"\x00\x00\x00\x05hello")
reply = s.recv(4096)
assert b"EINVAL" in reply, reply
EOP
$CTL dp.ping >/dev/null || fail "the control socket stopped answering after garbage"
dp_stop
log "ok: garbage refused, the socket still answers"
