#!/usr/bin/env bash
# sluicectl's offline verbs and grammar: exit statuses, file:line:column
# errors, JSON (errors too) with -j, unique prefixes, help at every level.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CTL=${SLUICE_BUILD:-$ROOT/build}/control/sluicectl
DATA=$ROOT/tests/data/policies
PY=/usr/bin/python3
[ -x "$CTL" ] || { echo "build first: $CTL"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

n=0
check() {	# check DESCRIPTION EXPECTED_STATUS COMMAND...
	local what=$1 want=$2; shift 2
	set +e; "$@" >"$T/out" 2>"$T/err"; local rc=$?; set -e
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $what: exit $rc, expected $want"; cat "$T/out" "$T/err"; exit 1
	fi
	n=$((n + 1))
}
json_ok() {	# the last output is one valid JSON document
	$PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" ||
		{ echo "FAIL: $1: not JSON:"; cat "$T/out"; exit 1; }
}
has() { grep -q -- "$2" "$T/$1" || { echo "FAIL: expected '$2' in $1:"; cat "$T/$1"; exit 1; }; }

check "valid policy" 0 "$CTL" policy check "$DATA/good-design.yaml"
has out "valid"
check "invalid policy" 1 "$CTL" policy check "$DATA/bad-design-typos.yaml"
has err "bad-design-typos.yaml:8:7: unknown field 'dprot' in match"
check "invalid policy, JSON" 1 "$CTL" -j policy check "$DATA/bad-design-typos.yaml"
json_ok "policy check -j"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] is False and d["diagnostics"][0]["line"] == 8 and d["diagnostics"][0]["column"] == 7, d' "$T/out"
check "valid policy, JSON" 0 "$CTL" --json policy check "$DATA/good-all-fields.yaml"
json_ok "policy check --json"
check "missing file" 1 "$CTL" policy check "$T/nope.yaml"
has err "nope.yaml"
check "unique prefixes" 0 "$CTL" pol ch "$DATA/good-design.yaml"
check "ambiguous or unknown object" 2 "$CTL" frobnicate
has err "unknown object 'frobnicate'"
check "unknown verb, JSON error" 2 "$CTL" -j policy frob
json_ok "unknown verb -j"; has out '"error"'
check "help" 0 "$CTL" help
has out "OBJECT VERB"
check "policy help" 0 "$CTL" policy help
has out "check"
check "help JSON" 0 "$CTL" -j policy help
json_ok "policy help -j"
check "no arguments is a usage error" 2 "$CTL"
check "replay without a policy" 2 "$CTL" replay "$T/x.pcap"
check "replay of a missing capture" 1 "$CTL" replay --policy "$DATA/good-design.yaml" "$T/x.pcap"
check "replay help" 0 "$CTL" replay --help
check "daemon verbs say what they need" 1 "$CTL" status
has err "sluiced"
echo "ok: $n sluicectl checks"
