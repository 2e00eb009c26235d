# Shared by the namespace integration tests: a private lab, sluice-dp on
# its gateway, sluice-gen on the outside host, sluice-sink on the inside
# host. Source it; it cleans up on exit whatever happens.
#
# Lcore plan (two cores): sluice-dp polls on core 1; the generator paces
# on core 0; the sink and the kernel share what is left.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
DP=$BUILD/dataplane/sluice-dp
GEN=$BUILD/perf/sluice-gen
SINK=$BUILD/tests/sluice-sink
CTL=$BUILD/control/sluicectl
PY=/usr/bin/python3		# Debian's, which sees python3-scapy

LAB=${LAB:-slt$$}
DP_PMD=${DP_PMD:-net_af_packet}	# the gateway's ports: net_af_packet or net_af_xdp
T=$(mktemp -d "/tmp/sluice-$LAB.XXXXXX")
PIDS=()

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "$*"; echo "skipped: $*"; exit 77; }

cleanup() {
	local rc=$?
	set +e		# clean up everything, whatever fails
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	bash "$ROOT/deploy/lab.sh" down "$LAB"
	if [ "$rc" -ne 0 ] && [ -f "$T/dp.log" ]; then
		echo "--- sluice-dp log (tail)"; tail -30 "$T/dp.log"
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -x "$DP" ] && [ -x "$GEN" ] && [ -x "$SINK" ] || fail "build first: $DP, $GEN, $SINK"
	grep -q hugetlbfs /proc/mounts || fail "no hugetlbfs mounted (run deploy/setup.sh)"
}

lab_up() {
	bash "$ROOT/deploy/lab.sh" up "$LAB" || fail "lab setup"
	eval "$(bash "$ROOT/deploy/lab.sh" env "$LAB")"
}

# lab_xdp: the hosts' ends accept frames the XDP path redirects (lab.sh xdp).
lab_xdp() {
	bash "$ROOT/deploy/lab.sh" xdp "$LAB" || fail "lab xdp setup"
}

# dp_start POLICY [sluice-dp options...]: start on the gateway, wait until
# it polls. DP_LCORES replaces the EAL core list (default: -l 1) and
# DP_PORT_ARGS is appended to both ports' devargs, e.g. for two workers:
# DP_LCORES="--lcores 0@0,1@1,2@1" DP_PORT_ARGS=",qpairs=2".
dp_start() {
	local policy=$1; shift
	# shellcheck disable=SC2086	# DP_LCORES is words
	ip netns exec "$GW_NS" "$DP" ${DP_LCORES:--l 1} --no-pci --file-prefix "$LAB-dp" \
		--socket-mem 256 --log-level 'sluice.*:info' \
		--vdev "${DP_PMD}0,iface=$GW_OUT_IF${DP_PORT_ARGS:-}" \
		--vdev "${DP_PMD}1,iface=$GW_IN_IF${DP_PORT_ARGS:-}" \
		-- --policy "$policy" --flows 65536 --report-json "$T/dp-report.json" \
		--ctl-socket "$T/dp.sock" "$@" \
		>"$T/dp.log" 2>&1 &
	DP_PID=$!
	PIDS+=("$DP_PID")
	for _ in $(seq 1 100); do
		grep -q 'polling queue' "$T/dp.log" && return 0
		kill -0 "$DP_PID" 2>/dev/null || { cat "$T/dp.log"; fail "sluice-dp exited"; }
		sleep 0.1
	done
	cat "$T/dp.log"
	fail "sluice-dp did not start within 10 s"
}

# dp_stop: SIGTERM, wait, leave the report in $T/dp-report.json.
dp_stop() {
	kill -TERM "$DP_PID"
	timeout 20 tail --pid="$DP_PID" -f /dev/null || fail "sluice-dp did not stop on SIGTERM"
	wait "$DP_PID" 2>/dev/null
	local rc=$?
	[ "$rc" -eq 0 ] || fail "sluice-dp exited with $rc"
	[ -s "$T/dp-report.json" ] || fail "no final report"
}

# sluiced_start [options...]: the daemon with private state and sockets,
# talking to this test's sluice-dp. sluicectl talks to it through $SCTL.
# SLUICED_NS=$GW_NS runs it on the gateway, where --pair finds the ports.
SLUICED=$BUILD/control/sluiced
sluiced_start() {
	${SLUICED_NS:+ip netns exec "$SLUICED_NS"} "$SLUICED" --socket "$T/sluiced.sock" --dp-socket "$T/dp.sock" \
		--state-dir "$T/state" --metrics none --log-stderr "$@" \
		>"$T/sluiced.log" 2>&1 &
	SLUICED_PID=$!
	PIDS+=("$SLUICED_PID")
	for _ in $(seq 1 100); do
		[ -S "$T/sluiced.sock" ] && return 0
		kill -0 "$SLUICED_PID" 2>/dev/null || { cat "$T/sluiced.log"; fail "sluiced exited"; }
		sleep 0.1
	done
	cat "$T/sluiced.log"
	fail "sluiced did not start within 10 s"
}
SCTL() { "$CTL" -s "$T/sluiced.sock" "$@"; }

# sink_start SECONDS [FILTER]: count what reaches the inside host.
sink_start() {
	ip netns exec "$IN_NS" "$SINK" -i "$IN_IF" -t "$1" ${2:+-f "$2"} \
		>"$T/sink.json" 2>"$T/sink.log" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	for _ in $(seq 1 50); do
		grep -q listening "$T/sink.log" && return 0
		sleep 0.1
	done
	fail "sluice-sink did not start"
}

sink_wait() {
	wait "$SINK_PID" || fail "sluice-sink failed: $(cat "$T/sink.log")"
}

# gen [sluice-gen options...]: send from the outside host to the inside
# host's MAC; the JSON report lands in $T/gen.json. GEN_NICE lowers its
# priority: on two cores its busy pacing loop otherwise delays the
# control plane, which on a gateway has cores of its own.
gen() {
	ip netns exec "$OUT_NS" nice -n "${GEN_NICE:-0}" "$GEN" -l 0 --no-pci --file-prefix "$LAB-gen" \
		--socket-mem 128 --log-level '*:warning' \
		--vdev "net_af_packet0,iface=$OUT_IF" \
		-- --port 0 --src-mac "$OUT_MAC" --dst-mac "$IN_MAC" --quiet "$@" \
		>"$T/gen.json" 2>"$T/gen.log" || { cat "$T/gen.log"; fail "sluice-gen failed"; }
}

# jq-like access for the JSON files: py EXPR FILE... ; EXPR sees j0, j1, ...
py() {
	local expr=$1; shift
	$PY - "$expr" "$@" <<'EOF'
import json, sys
expr = sys.argv[1]
env = {"j%d" % i: json.load(open(f)) for i, f in enumerate(sys.argv[2:])}
print(eval(expr, {}, env))
EOF
}

# within ACTUAL EXPECTED PERCENT: true if |actual - expected| <= pct% of expected.
within() {
	$PY -c "import sys; a,e,p=map(float,sys.argv[1:]); sys.exit(0 if abs(a-e) <= e*p/100 else 1)" "$1" "$2" "$3"
}

sink_stop() {
	sleep 0.5	# let the last frames cross
	kill -TERM "$SINK_PID" 2>/dev/null || true	# it may have timed out
	sink_wait
}

# received SRC: packets from SRC that reached the inside host.
received() {
	py "j0['sources'].get('$1', {}).get('packets', 0)" "$T/sink.json"
}

# group_field GROUP EXPR: a field of one generator group, e.g. "['sent']['packets']".
group_field() {
	py "[g for g in j0['groups'] if g['name'] == '$1'][0]$2" "$T/gen.json"
}

# class_count CLASS KIND OUTCOME: a counter of the final dataplane report.
class_count() {
	py "[c for c in j0['classes'] if c['name'] == '$1'][0]['$2']['$3']" "$T/dp-report.json"
}

# expect_rate SRC... : each source held to RATE pps + BURST over the
# group's duration within TOL percent (variables RATE BURST DUR TOL).
expect_held() {
	local want got
	want=$($PY -c "print($RATE * $DUR + $BURST)")
	for s in "$@"; do
		got=$(received "$s")
		if within "$got" "$want" "$TOL"; then
			log "ok: $s received $got, limit allows $want (tolerance $TOL%)"
		else
			fail "$s received $got, limit allows $want (tolerance $TOL%)"
		fi
	done
}

# expect_all_of_group GROUP SRC...: the group's sources (sent round
# robin, so each got sent/N or one more) lost nothing.
expect_all_of_group() {
	local group=$1; shift
	local sent total=0 lo got
	sent=$(group_field "$group" "['sent']['packets']")
	lo=$((sent / $#))
	for s in "$@"; do
		got=$(received "$s")
		[ "$got" -eq "$lo" ] || [ "$got" -eq $((lo + 1)) ] ||
			fail "$s: sent $lo or $((lo + 1)), received $got (under its limit: nothing may be lost)"
		total=$((total + got))
	done
	[ "$total" -eq "$sent" ] || fail "group $group: sent $sent, received $total"
	log "ok: group $group sent $sent from $# sources, received all $total"
}

# churn_policy N FILE: version N of the policy the reload tests cycle
# through: class "limited" (RATE pps, BURST per source, 10.77/16 and
# 10.78/16 to UDP 5000) stays, a class appears and disappears, another
# changes name and rate. Written whole, then renamed into place, so a
# reader never sees half a file.
churn_policy() {
	cat >"$2.new" <<EOP
version: 1
default: pass
classes:
$( [ $(($1 % 2)) -eq 0 ] && printf '  - name: toggled-%s\n    match: { proto: tcp, dport: 9 }\n' "$1")
  - name: limited
    match: { proto: udp, src: [10.77.0.0/16, 10.78.0.0/16], dport: 5000 }
    limit: { key: src, rate: ${RATE}pps, burst: $BURST }
    exceed: drop
  - name: other-$(($1 % 3))
    match: { proto: udp, dport: 6000 }
    limit: { key: src, rate: $((100 + $1))pps, burst: 10 }
EOP
	mv "$2.new" "$2"
}

# status_field EXPR: a field of `sluicectl -j status`, e.g. "['path']".
status_field() {
	SCTL -j status >"$T/status.json" || fail "sluicectl status failed"
	py "j0$1" "$T/status.json"
}

# wait_path PATH SECONDS: until sluicectl status says PATH; prints the
# seconds it took.
wait_path() {
	local t0 now
	t0=$(date +%s.%N)
	while :; do
		[ "$(status_field "['path']" 2>/dev/null)" = "$1" ] && break
		now=$(date +%s.%N)
		$PY -c "import sys; sys.exit(0 if $now - $t0 < $2 else 1)" ||
			fail "path not $1 after $2 s: $(SCTL status)"
		sleep 0.02
	done
	$PY -c "print('%.3f' % ($(date +%s.%N) - $t0))"
}

# xdp_attached IFACE (in the gateway): whether an XDP program is on it.
xdp_attached() {
	ip -n "$GW_NS" -d link show dev "$1" | grep -q 'prog/xdp'
}
