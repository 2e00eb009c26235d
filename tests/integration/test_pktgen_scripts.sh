#!/usr/bin/env bash
# Checks the Pktgen-DPDK scenarios in perf/pktgen/ without Pktgen:
#  1. every .lua compiles (luac5.4 -p);
#  2. every scenario runs under plain lua5.4 with the recording stand-in
#     perf/pktgen/tools/pktgen_standin.lua, which refuses any pktgen.*
#     name, argument count or argument the real library would not take
#     (the list is from Pktgen's app/lpktgenlib.c, cited in the stand-in),
#     with a 2 s measuring window (PKTGEN_DURATION_S);
#  3. the stand-in itself catches a misspelt call, a wrong argument count
#     and a bad argument (copies of a scenario with one mistake each);
#  4. each perf/pktgen/policies/*.yaml passes `sluicectl policy check`;
#  5. mkpcap.py's pcaps (with python3-scapy) hold valid checksums and meet
#     their policies as intended under `sluicectl replay`.
# 4 and 5 are skipped with a message when sluicectl (from $SLUICE_BUILD,
# default <repo>/build) or scapy is missing.
#
#   bash tests/unit/test_pktgen_scripts.sh
#
# Exit status: 0 pass, 1 fail, 77 skip (no luac5.4 / lua5.4).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$ROOT/perf/pktgen
STANDIN=$DIR/tools/pktgen_standin.lua
BUILD=${SLUICE_BUILD:-$ROOT/build}
SLUICECTL=$BUILD/control/sluicectl
PYTHON=${PYTHON:-/usr/bin/python3}
SCENARIOS="line_rate_64 flood_over_limit http_flood imix"
failures=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for tool in luac5.4 lua5.4; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP: $tool not found (apt-get install lua5.4)"
		exit 77
	fi
done

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }

# 1. Syntax.
for f in "$DIR"/*.lua "$DIR"/lib/*.lua "$DIR"/tools/*.lua; do
	if luac5.4 -p "$f" 2>"$TMP/err"; then
		ok "luac5.4 -p ${f#$ROOT/}"
	else
		bad "luac5.4 -p ${f#$ROOT/}: $(cat "$TMP/err")"
	fi
done

# 2. Each scenario under the stand-in.
run_standin() {
	PKTGEN_DURATION_S=2 lua5.4 "$STANDIN" "$1" >"$TMP/out" 2>"$TMP/err"
}
for s in $SCENARIOS; do
	f=$DIR/$s.lua
	if [ ! -f "$f" ]; then
		bad "$s.lua is missing"
	elif ! run_standin "$f"; then
		bad "$s.lua under the stand-in: $(cat "$TMP/err")"
	elif ! grep -q '^summary: offered [0-9,]* pps, received [0-9,]* pps, loss' "$TMP/out"; then
		bad "$s.lua: no summary line with offered/received pps and loss"
	elif [ "$(grep -c '^ *[0-9]\+  ' "$TMP/out")" -ne 2 ]; then
		bad "$s.lua: expected 2 per-second lines for PKTGEN_DURATION_S=2"
	else
		ok "$s.lua under the stand-in ($(tail -n1 "$TMP/err" | sed 's/^ok [^:]*: //'))"
	fi
done

# 3. The stand-in must fail on mistakes: one per copy of line_rate_64.lua
# and the helpers it loads (lib/sluice_pktgen.lua), each must fail.
mutant() {
	local name=$1 file=$2 expr=$3 want=$4 m=$TMP/m-$1
	mkdir -p "$m/lib"
	cp "$DIR/line_rate_64.lua" "$m/"
	cp "$DIR/lib/sluice_pktgen.lua" "$m/lib/"
	sed "$expr" "$DIR/$file" >"$m/$file"
	if cmp -s "$DIR/$file" "$m/$file"; then
		bad "mutant $name: the sed expression changed nothing"
	elif run_standin "$m/line_rate_64.lua"; then
		bad "mutant $name: the stand-in accepted it"
	elif ! grep -q "$want" "$TMP/err"; then
		bad "mutant $name: failed, but not with '$want': $(cat "$TMP/err")"
	else
		ok "mutant $name refused: $(sed 's/^FAIL [^:]*: //' "$TMP/err" | head -n1)"
	fi
}
LIB=lib/sluice_pktgen.lua
mutant typo $LIB 's/pktgen\.portStats(/pktgen.portstats(/' 'pktgen.portstats is not a function'
mutant range-typo line_rate_64.lua 's/pktgen\.range\.src_port(/pktgen.range.sport(/' 'pktgen.range.sport is not'
mutant nargs $LIB 's/pktgen\.start(txs)$/pktgen.start(txs, "on")/' 'pktgen.start: 2 argument'
mutant set-keyword line_rate_64.lua 's/pktgen\.set(tx, "rate", RATE_PCT)/pktgen.set(tx, "rte", RATE_PCT)/' "argument 2 is 'rte'"
mutant delay-float $LIB 's/pktgen\.delay(1000)/pktgen.delay(1000.5)/' 'must be an integer'
mutant src-prefix line_rate_64.lua 's|SRC_IP_MIN .. "/22"|SRC_IP_MIN|' 'with /prefix'
mutant result-field $LIB 's/\.opackets/.opacket/' "has no field 'opacket'"
mutant no-stop $LIB 's/pktgen\.stop(txs)$/-- no stop/' 'still sending'

# 4. Policies.
if [ ! -x "$SLUICECTL" ]; then
	echo "skip policy checks: $SLUICECTL not found (build sluice, or set SLUICE_BUILD)"
else
	n=0
	for p in "$DIR"/policies/*.yaml; do
		n=$((n + 1))
		if "$SLUICECTL" policy check "$p" >"$TMP/out" 2>&1; then
			ok "sluicectl policy check ${p#$ROOT/}"
		else
			bad "sluicectl policy check ${p#$ROOT/}: $(cat "$TMP/out")"
		fi
	done
	for s in $SCENARIOS; do
		[ -f "$DIR/policies/$s.yaml" ] || bad "policies/$s.yaml is missing"
	done
fi

# 5. The pcap generator, checked with scapy and sluicectl replay.
if ! "$PYTHON" -c 'import scapy' 2>/dev/null; then
	echo "skip mkpcap.py checks: $PYTHON has no scapy (apt-get install python3-scapy)"
elif [ ! -x "$SLUICECTL" ]; then
	echo "skip mkpcap.py checks: $SLUICECTL not found"
else
	# 64 sources x 200 passes at 100 kpps: each source offers ~1500 pps
	# for 0.13 s, far over its limit, so both classes drop; the clients'
	# packets all pass.
	check_pcap() {
		local mode=$1 policy=$2 flood_class=$3 legit_class=$4
		local pcap=$TMP/$mode.pcap
		if ! "$PYTHON" "$DIR/mkpcap.py" "$mode" -o "$pcap" --sources 64 \
			--legit-every 8 --loops 200 --pps 100000 >"$TMP/sum" 2>"$TMP/err"; then
			bad "mkpcap.py $mode: $(cat "$TMP/err")"
			return
		fi
		if ! "$SLUICECTL" -j replay --policy "$DIR/policies/$policy.yaml" "$pcap" \
			>"$TMP/replay" 2>"$TMP/err"; then
			bad "sluicectl replay of the $mode pcap: $(cat "$TMP/err")"
			return
		fi
		if "$PYTHON" - "$pcap" "$TMP/sum" "$TMP/replay" "$flood_class" "$legit_class" \
			>"$TMP/out" 2>&1 <<'EOF'
import json, sys
from scapy.all import IP, TCP, Ether, PcapReader
pcap, summ, rep, flood_class, legit_class = sys.argv[1:]
s = json.load(open(summ))
r = json.load(open(rep))
cls = {c["name"]: c["packets"] for c in r["classes"]}
sizes, n = set(), 0
for p in PcapReader(pcap):
    n += 1
    if n > 2000:
        break
    q = Ether(bytes(p))
    ic, tc = q[IP].chksum, q[TCP].chksum
    del q[IP].chksum, q[TCP].chksum
    q = Ether(bytes(q))
    assert (q[IP].chksum, q[TCP].chksum) == (ic, tc), "bad checksum in packet %d" % n
    sizes.add(len(p))
assert sizes == {s["frame_len"]}, "frame sizes %s, summary says %d" % (sizes, s["frame_len"])
f, l = cls[flood_class], cls[legit_class]
assert f["passed"] + f["dropped"] == s["flood"], "%s saw %s of %d" % (flood_class, f, s["flood"])
assert f["dropped"] > 0 and f["passed"] > 0, "%s: %s" % (flood_class, f)
assert l["passed"] == s["legit"] and l["dropped"] == 0, "%s: %s of %d" % (legit_class, l, s["legit"])
d = r["default"]["packets"]
assert d["passed"] == 0 and d["dropped"] == 0, "default took %s" % d
print("%d frames of %d bytes; %s passed %d dropped %d; %s passed %d"
      % (s["packets"], s["frame_len"], flood_class, f["passed"], f["dropped"],
         legit_class, l["passed"]))
EOF
		then
			ok "mkpcap.py $mode + replay: $(cat "$TMP/out")"
		else
			bad "mkpcap.py $mode + replay: $(tail -n1 "$TMP/out")"
		fi
	}
	check_pcap synflood flood_over_limit syn-per-source legit
	check_pcap http http_flood login-flood web
fi

if [ $failures -gt 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
