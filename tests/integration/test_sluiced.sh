#!/usr/bin/env bash
# sluiced on its own, without a dataplane: every command of
# docs/protocol.md over raw protocol requests (sluiced_client.py), the
# policy surviving restarts and kill -9 in the middle of applies, the
# metrics endpoint, a second daemon refused, and the abuse the
# protocol's bounds are for (oversized, garbage, stalled and surplus
# clients, a peer of another uid). Sockets and state live in a temporary
# directory, never under /run/sluice or /var/lib/sluice.
#
# Needs root (the uid test runs a client as nobody). SLUICED overrides
# the binary (e.g. build-asan's); KEEP=1 keeps the temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
SLUICED=${SLUICED:-$BUILD/control/sluiced}
PY=/usr/bin/python3
DATA=$ROOT/tests/data/policies
DESIGN=$DATA/good-design.yaml
ALL=$DATA/good-all-fields.yaml
TYPOS=$DATA/bad-design-typos.yaml

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "$*"; echo "skipped: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (a client runs as nobody)"
[ -x "$SLUICED" ] || fail "build first: $SLUICED"

T=$(mktemp -d /tmp/sluiced-test.XXXXXX)
chmod 755 "$T"			# nobody must reach the socket and the client
mkdir "$T/run"
chmod 755 "$T/run"
cp "$ROOT/tests/integration/sluiced_client.py" "$T/client.py"
chmod 755 "$T/client.py"
SOCK=$T/run/sluiced.sock
DPSOCK=$T/run/dp.sock		# nobody listens there: the dataplane is absent
STATE=$T/state
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PID=

cleanup() {
	local rc=$?
	set +e
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "${APPLIER:-}" ] && kill -KILL "$APPLIER" 2>/dev/null
	wait 2>/dev/null
	if [ "$rc" -ne 0 ] && [ -f "$T/sluiced.log" ]; then
		echo "--- sluiced log (tail)"; tail -40 "$T/sluiced.log"
	fi
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

client() { "$PY" "$T/client.py" "$@"; }
# call CMD [ARGS-JSON] [--expect EXPR]: one request, the reply on stdout.
call() { client call "$SOCK" "$@"; }
# expect CMD ARGS-JSON EXPR: the reply r must satisfy EXPR (Python).
expect() { call "$1" "$2" --quiet --expect "$3" || fail "$1 $2"; }

# start_sluiced [options]: start, wait until it answers status.
start_sluiced() {
	"$SLUICED" --socket "$SOCK" --dp-socket "$DPSOCK" --state-dir "$STATE" \
		--metrics "127.0.0.1:$PORT" --log-stderr "$@" >>"$T/sluiced.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		call status --quiet >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || fail "sluiced exited at start"
		sleep 0.05
	done
	fail "sluiced did not answer within 5 s"
}

# stop_sluiced: SIGTERM, which must end it cleanly and quickly.
stop_sluiced() {
	kill -TERM "$PID"
	timeout 5 tail --pid="$PID" -f /dev/null || fail "sluiced ignored SIGTERM"
	wait "$PID" || fail "sluiced exited $? on SIGTERM"
	PID=
	[ ! -e "$SOCK" ] || fail "the socket was left behind"
}

# A Python expression: r's policy text is the file's text.
text_is() { echo "r['result']['text'] == open('$1').read()"; }

log "== start without a dataplane"
start_sluiced
expect status '{}' "r['ok'] and r['result']['path'] == 'down' and
	not r['result']['dataplane']['connected'] and
	'$DPSOCK' in r['result']['reason'] and r['result']['policy']['version'] == 0 and
	r['result']['degraded'] == [] and r['result']['uptime_s'] >= 0"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] || fail "socket mode $mode, want 660"
expect policy.show '{}' "r['error']['code'] == 'ENOENT'"
expect policy.rollback '{}' "r['error']['code'] == 'ENOENT'"
expect class.list '{}' "r['result']['classes'] == []"
expect class.show '{"name": "x"}' "r['error']['code'] == 'ENOENT'"
expect stats '{}' "r['result']['classes'] == [] and r['result']['policy_version'] == 0"
expect top '{}' "r['error']['code'] == 'EOPNOTSUPP'"
expect policy.diff "{\"text\": \"@$DESIGN\"}" "r['result']['from_version'] == 0 and
	r['result']['added'] == ['syn-flood', 'bulk', 'watch-dns'] and r['result']['removed'] == []"

log "== check"
expect policy.check "{\"text\": \"@$DESIGN\", \"name\": \"design.yaml\"}" \
	"r['result'] == {'valid': True, 'classes': 3, 'default': 'pass'}"
expect policy.check "{\"text\": \"@$TYPOS\", \"name\": \"typos.yaml\"}" \
	"r['error']['code'] == 'EINVAL' and
	[(d['file'], d['line'], d['column']) for d in r['error']['diagnostics']] ==
	[('typos.yaml', 8, 7), ('typos.yaml', 9, 13), ('typos.yaml', 10, 45),
	 ('typos.yaml', 13, 33), ('typos.yaml', 14, 46), ('typos.yaml', 15, 11)] and
	\"unknown field 'dprot'\" in r['error']['diagnostics'][0]['message']"
expect policy.check '{"name": "x"}' "r['error']['code'] == 'EINVAL' and 'text' in r['error']['message']"
expect policy.check '{"text": 5}' "r['error']['code'] == 'EINVAL'"

log "== apply: good, bad, dry run"
expect policy.apply "{\"text\": \"@$DESIGN\", \"name\": \"design.yaml\"}" \
	"r['result']['version'] == 1 and r['result']['classes'] == 3 and
	r['result']['pushed'] is False and r['result']['dry_run'] is False and
	r['result']['path'] == 'down' and '$DPSOCK' in r['result']['reason']"
expect policy.show '{}' "r['result']['version'] == 1 and r['result']['source'] == 'design.yaml' and
	r['result']['uid'] == 0 and r['result']['applied_at'] > 1600000000 and $(text_is "$DESIGN")"
expect policy.apply "{\"text\": \"@$TYPOS\", \"name\": \"typos.yaml\"}" \
	"r['error']['code'] == 'EINVAL' and len(r['error']['diagnostics']) == 6 and
	r['error']['message'].startswith('policy refused (6 errors): typos.yaml:8:7: ')"
expect policy.apply '{"text": "version: 1\nclasses: [\n", "name": "torn.yaml"}' \
	"r['error']['code'] == 'EINVAL' and r['error']['diagnostics'][0]['line'] == 3"
expect policy.show '{}' "r['result']['version'] == 1 and $(text_is "$DESIGN")"
expect policy.apply "{\"text\": \"@$ALL\", \"name\": \"all.yaml\", \"dry_run\": true}" \
	"r['result']['dry_run'] is True and r['result']['version'] == 1 and r['result']['classes'] == 5"
expect policy.show '{}' "r['result']['version'] == 1"
expect policy.apply '{"text": "version: 1\nclasses: []\n", "name": "x", "force": true}' \
	"r['error']['code'] == 'EINVAL' and \"'force'\" in r['error']['message']"
expect status '{}' "r['result']['policy']['version'] == 1 and r['result']['policy']['classes'] == 3 and
	r['result']['policy']['source'] == 'design.yaml' and r['result']['path'] == 'down'"

log "== bound on the policy text: one that cannot be pushed in one message"
$PY - "$SOCK" <<'EOF' || fail "large policy text"
import json, socket, struct, sys
text = "version: 1\nclasses: []\n" + "#" * (16 * 1024 * 1024 - 200) + "\n"
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
m = json.dumps({"v": 1, "id": 1, "cmd": "policy.apply", "args": {"text": text, "name": "big"}}).encode()
s.sendall(struct.pack(">I", len(m)) + m)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
r = json.loads(s.recv(n, socket.MSG_WAITALL))
assert r["error"]["code"] == "E2BIG", r
EOF
expect policy.show '{}' "r['result']['version'] == 1"

log "== diff"
expect policy.diff "{\"text\": \"@$ALL\"}" "r['result']['from_version'] == 1 and
	r['result']['default'] == {'from': 'pass', 'to': 'drop'} and
	r['result']['removed'] == ['syn-flood', 'bulk', 'watch-dns'] and len(r['result']['added']) == 5"
# watch-dns first and bulk at a new rate: one moved, one changed.
sed -e 's/rate: 10Mbit/rate: 20Mbit/' "$DESIGN" | $PY -c '
import sys
t = sys.stdin.read().split("  - name: ")
print(t[0] + "  - name: " + t[3].rstrip("\n") + "\n  - name: " + t[1] + "  - name: " + t[2], end="")' >"$T/design2.yaml"
expect policy.diff "{\"text\": \"@$T/design2.yaml\"}" "r['result']['default'] is None and
	r['result']['added'] == [] and r['result']['removed'] == [] and
	r['result']['moved'] == ['watch-dns'] and
	r['result']['changed'] == [{'name': 'bulk', 'fields': ['limit.rate']}]"
expect policy.diff "{\"text\": \"@$TYPOS\"}" "r['error']['code'] == 'EINVAL'"

log "== rollback"
expect policy.apply "{\"text\": \"@$ALL\", \"name\": \"all.yaml\"}" "r['result']['version'] == 2"
expect policy.rollback '{}' "r['result']['version'] == 3 and r['result']['restored'] == 1"
expect policy.show '{}' "r['result']['version'] == 3 and $(text_is "$DESIGN") and
	r['result']['source'] == 'rollback to 1'"
expect policy.rollback '{}' "r['result']['version'] == 4 and r['result']['restored'] == 2"
expect policy.show '{}' "$(text_is "$ALL")"

log "== class list, show, set"
expect class.list '{}' "[c['name'] for c in r['result']['classes']] ==
	['web_v4.in', 'icmp-any', 'v6-ping', 'tcp-flags', 'everything-else'] and
	r['result']['classes'][0]['limit'] == {'key': 'src/24', 'rate': '1500kbit', 'burst': '1MB'} and
	r['result']['classes'][0]['exceed'] == {'mark': 'af11'} and
	r['result']['classes'][0]['match']['dport'] == ['80', '443', '8000-8099'] and
	r['result']['classes'][4]['limit'] is None"
expect class.show '{"name": "icmp-any"}' "r['result']['index'] == 1 and
	r['result']['limit']['rate'] == '2kpps' and r['result']['packets']['passed'] == 0 and
	sorted(r['result']['bytes']) == ['delayed', 'dropped', 'marked', 'monitored', 'passed']"
expect class.show '{"name": "nope"}' "r['error']['code'] == 'ENOENT'"
expect class.set '{"name": "web_v4.in", "rate": "3Mbit", "burst": "2MB", "exceed": "monitor"}' \
	"r['result']['version'] == 5 and r['result']['pushed'] is False and
	r['result']['class']['limit'] == {'key': 'src/24', 'rate': '3Mbit', 'burst': '2MB'} and
	r['result']['class']['exceed'] == 'monitor'"
expect class.set '{"name": "icmp-any", "exceed": {"mark": "ef"}}' "r['result']['version'] == 6"
expect class.set '{"name": "icmp-any", "rate": "3kpps"}' "r['result']['version'] == 7"
expect class.show '{"name": "icmp-any"}' "r['result']['exceed'] == {'mark': 'ef'} and
	r['result']['limit'] == {'key': 'none', 'rate': '3kpps', 'burst': '50'}"
expect policy.show '{}' "r['result']['source'] == 'class set icmp-any' and
	r['result']['text'].startswith('# rendered by sluiced')"
call policy.show --quiet --expect "open('$T/rendered.yaml', 'w').write(r['result']['text']) > 0"
expect policy.check "{\"text\": \"@$T/rendered.yaml\"}" "r['result']['classes'] == 5"
# The rendering kept everything but the changed class.
expect policy.diff "{\"text\": \"@$ALL\"}" "r['result']['added'] == [] and r['result']['moved'] == [] and
	r['result']['changed'] == [{'name': 'web_v4.in', 'fields': ['limit.rate', 'limit.burst', 'exceed']},
				   {'name': 'icmp-any', 'fields': ['limit.rate', 'exceed']}]"
expect class.set '{"name": "icmp-any", "rate": "10Mbit"}' \
	"r['error']['code'] == 'EINVAL' and 'give a burst too' in r['error']['message']"
expect class.set '{"name": "icmp-any", "burst": "64KB"}' "r['error']['code'] == 'EINVAL'"
expect class.set '{"name": "icmp-any", "exceed": "mark:cs9"}' "r['error']['code'] == 'EINVAL'"
expect class.set '{"name": "icmp-any", "rate": "0pps"}' "r['error']['code'] == 'EINVAL'"
expect class.set '{"name": "everything-else", "rate": "1pps"}' \
	"r['error']['code'] == 'EINVAL' and 'no limit' in r['error']['message']"
expect class.set '{"name": "icmp-any"}' "r['error']['code'] == 'EINVAL'"
expect class.set '{"name": "nope", "rate": "1pps"}' "r['error']['code'] == 'ENOENT'"
expect policy.show '{}' "r['result']['version'] == 7"

log "== stats with the dataplane absent"
expect stats '{}' "[c['name'] for c in r['result']['classes']] ==
	['web_v4.in', 'icmp-any', 'v6-ping', 'tcp-flags', 'everything-else'] and
	r['result']['classes'][0]['packets'] == {'passed': 0, 'dropped': 0, 'marked': 0, 'monitored': 0, 'delayed': 0} and
	r['result']['default'] == {'packets': {'passed': 0, 'dropped': 0}, 'bytes': {'passed': 0, 'dropped': 0}} and
	r['result']['malformed']['packets'] == 0 and r['result']['policy_version'] == 7 and
	r['result']['dataplane_restarts'] == 0 and r['result']['dataplane_up'] is False"
expect stats '{"class": "v6-ping"}' "[c['name'] for c in r['result']['classes']] == ['v6-ping']"
expect stats '{"class": "nope"}' "r['error']['code'] == 'ENOENT'"

log "== metrics"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt" || fail "GET /metrics"
for line in 'sluice_path{path="down"} 1' 'sluice_path{path="dpdk"} 0' 'sluice_dataplane_up 0' \
	'sluice_policy_version 7' 'sluice_policy_valid 1' 'sluice_policy_apply_errors_total 0' \
	'sluice_dataplane_restarts_total 0' \
	'sluice_class_packets_total{class="icmp-any",outcome="passed"} 0' \
	'sluice_class_bytes_total{class="everything-else",outcome="delayed"} 0' \
	'sluice_default_packets_total{outcome="dropped"} 0' '# TYPE sluice_class_packets_total counter'; do
	grep -qxF "$line" "$T/metrics.txt" || fail "metrics lack: $line"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")
[ "$code" = 405 ] || fail "POST /metrics: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
[ "$code" = 404 ] || fail "GET /nope: $code"

log "== a second sluiced is refused"
if timeout 5 "$SLUICED" --socket "$T/run/other.sock" --dp-socket "$DPSOCK" --state-dir "$STATE" \
	--metrics none --log-stderr >"$T/second.log" 2>&1; then
	fail "a second sluiced on the same state directory started"
fi
grep -q 'in use by another process' "$T/second.log" || { cat "$T/second.log"; fail "no word of the lock"; }
if timeout 5 "$SLUICED" --socket "$SOCK" --dp-socket "$DPSOCK" --state-dir "$T/state2" \
	--metrics none --log-stderr >"$T/third.log" 2>&1; then
	fail "a second sluiced on the same socket started"
fi
grep -q 'another process is listening' "$T/third.log" || { cat "$T/third.log"; fail "no word of the socket"; }
expect status '{}' "r['ok']"

log "== abuse"
client abuse "$SOCK" oversize || fail "oversize"
client abuse "$SOCK" zero || fail "zero length"
client abuse "$SOCK" garbage || fail "garbage"
client abuse "$SOCK" badversion || fail "protocol version"
client abuse "$SOCK" stall || fail "stalled message"
client abuse "$SOCK" clients 16 || fail "17 clients"
expect status '{}' "r['ok']"

log "== peers of another uid"
# The socket's mode keeps nobody out first...
if setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" "$T/client.py" call "$SOCK" status \
	>"$T/nobody.log" 2>&1; then
	fail "nobody used a 0660 root socket"
fi
grep -q 'PermissionError' "$T/nobody.log" || { cat "$T/nobody.log"; fail "nobody: not a permission error"; }
# ... and SO_PEERCRED when the mode would let it in.
chmod 666 "$SOCK"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" "$T/client.py" abuse "$SOCK" refused ||
	fail "nobody was not refused with EPERM"
grep -q 'refused uid 65534' "$T/sluiced.log" || fail "the refusal was not logged"
expect status '{}' "r['ok']"

log "== restart recovers the policy"
stop_sluiced
start_sluiced
expect policy.show '{}' "r['result']['version'] == 7 and r['result']['source'] == 'class set icmp-any' and
	open('$T/rendered.yaml').read() == r['result']['text']"
expect class.show '{"name": "icmp-any"}' "r['result']['limit']['rate'] == '3kpps'"
expect policy.rollback '{}' "r['result']['restored'] == 6"
stop_sluiced

log "== sd_notify: ready, status, watchdog at half its timeout"
$PY - "$T/notify.sock" >"$T/notify.out" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.monotonic() + 3.0
while time.monotonic() < end:
    try:
        print(s.recv(4096).decode().replace("\n", " | "), flush=True)
    except socket.timeout:
        pass
EOF
LISTENER=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_sluiced
wait "$LISTENER"
grep -q '^READY=1 | STATUS=path down, policy version 8' "$T/notify.out" ||
	{ cat "$T/notify.out"; fail "no READY=1 with a status"; }
n=$(grep -c '^WATCHDOG=1$' "$T/notify.out" || true)
[ "$n" -ge 8 ] || { cat "$T/notify.out"; fail "$n watchdog pings in about 3 s, want one per 200 ms"; }
stop_sluiced

log "== a member of the socket's group may connect"
start_sluiced --group nogroup
[ "$(stat -c %G "$SOCK")" = nogroup ] || fail "socket group $(stat -c %G "$SOCK")"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" "$T/client.py" call "$SOCK" status \
	--quiet --expect "r['ok']" || fail "nobody in group nogroup was refused"
stop_sluiced

log "== a stored policy that no longer validates is served marked invalid"
mkdir -m 750 "$T/state3"
$PY - "$T/state3/policy.yaml" <<'EOF'
import json, sys, zlib
text = b"version: 1\nclasses:\n  - name: a\n    match: { payload: '^GET ' }\n"
meta = {"version": 3, "source": "old.yaml", "length": len(text),
        "crc32": "%08x" % zlib.crc32(text), "time": 1700000000, "uid": 0}
with open(sys.argv[1], "wb") as f:
    f.write(b"# sluice-store 1 " + json.dumps(meta).encode() + b"\n" + text)
EOF
STATE_SAVED=$STATE
STATE=$T/state3
start_sluiced
grep -q "the stored policy version 3 (old.yaml) is no longer valid" "$T/sluiced.log" ||
	fail "the invalid stored policy was not logged"
expect status '{}' "r['result']['policy']['version'] == 3 and r['result']['policy']['valid'] is False and
	'payload' in r['result']['policy']['error']"
expect policy.show '{}' "r['result']['version'] == 3 and r['result']['valid'] is False"
expect class.list '{}' "r['error']['code'] == 'EINVAL' and 'invalid' in r['error']['message']"
expect policy.diff "{\"text\": \"@$DESIGN\"}" "r['error']['code'] == 'EINVAL'"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -qxF 'sluice_policy_valid 0' || fail "metrics: valid not 0"
expect policy.apply "{\"text\": \"@$DESIGN\"}" "r['result']['version'] == 4"
expect status '{}' "r['result']['policy']['valid'] is True and r['result']['policy']['classes'] == 3"
expect class.list '{}' "len(r['result']['classes']) == 3"
stop_sluiced
STATE=$STATE_SAVED

log "== kill -9 in the middle of applies"
for round in 1 2 3 4 5; do
	start_sluiced
	client applies "$SOCK" "$DESIGN" "$ALL" --count 100000 >"$T/applies.out" 2>/dev/null &
	APPLIER=$!
	for _ in $(seq 1 100); do	# the first apply acknowledged, then a random moment
		[ -s "$T/applies.out" ] && break
		sleep 0.05
	done
	sleep "0.$((RANDOM % 8 + 1))"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
	wait "$APPLIER" 2>/dev/null || true
	APPLIER=
	acked=$(tail -1 "$T/applies.out" | cut -d' ' -f1)
	[ -n "$acked" ] || fail "round $round: no apply acknowledged before the kill"
	last=$DATA/$(tail -1 "$T/applies.out" | cut -d' ' -f2)
	next=$ALL
	[ "$last" = "$ALL" ] && next=$DESIGN
	start_sluiced
	# Every acknowledged apply survived; the next one may have been
	# committed before its reply; either way the text is whole.
	call policy.show --quiet --expect "r['result']['version'] in ($acked, $acked + 1) and
		r['result']['valid'] and r['result']['text'] ==
		open('$last' if r['result']['version'] == $acked else '$next').read()" ||
		fail "round $round: acknowledged version $acked, recovered something else"
	log "round $round: $(wc -l <"$T/applies.out") applies acknowledged, last $acked, recovered cleanly"
	stop_sluiced
done
if grep -q 'Sanitizer\|runtime error:' "$T/sluiced.log"; then
	fail "sanitizer reports in the log"
fi

log "PASS"
