#!/usr/bin/env bash
# sluicectl's offline verbs and grammar: exit statuses, file:line:column
# errors, JSON (errors too) with -j, unique prefixes, help at every level.
# The online verbs without a sluiced: what they say, usage errors caught
# before any request. (Against a fake sluiced: tests/unit/test_cli.c.)
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
NOSOCK=$T/none/sluiced.sock
check "daemon verbs say what they need" 1 "$CTL" -s "$NOSOCK" status
has err "sluiced"

# No sluiced: each online verb says where it looked and what to check,
# exit 1; with -j a JSON error with the errno name.
for verb in "status" "policy show" "policy rollback" "class list" "class show login" \
	    "class set login rate 10pps" "stats" "stats bulk --watch 1" "top -n 3"; do
	# shellcheck disable=SC2086
	check "$verb without sluiced" 1 "$CTL" -s "$NOSOCK" $verb
	has err "^sluicectl: cannot reach sluiced at $NOSOCK: is it running? (systemctl status sluiced)$"
	# shellcheck disable=SC2086
	check "$verb without sluiced, JSON" 1 "$CTL" -j -s "$NOSOCK" $verb
	json_ok "$verb -j"; has out '"code": *"ENOENT"'
	[ ! -s "$T/err" ] || { echo "FAIL: $verb -j wrote to stderr:"; cat "$T/err"; exit 1; }
done
for verb in apply diff; do
	check "policy $verb without sluiced" 1 "$CTL" -s "$NOSOCK" policy $verb "$DATA/good-design.yaml"
	has err "cannot reach sluiced at $NOSOCK"
done
check "policy apply of a missing file" 1 "$CTL" -s "$NOSOCK" policy apply "$T/nope.yaml"
has err "nope.yaml: No such file or directory"

# A socket file nobody listens on (a crashed sluiced): the same advice.
$PY -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
check "stale socket" 1 "$CTL" -s "$T/stale.sock" status
has err "cannot reach sluiced at $T/stale.sock: is it running?"
check "stale socket, JSON" 1 "$CTL" -j -s "$T/stale.sock" stats
json_ok "stale -j"; has out '"code": *"ECONNREFUSED"'
if [ "$(id -u)" -ne 0 ]; then	# root may connect whatever the mode
	$PY -c 'import os,socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1]); os.chmod(sys.argv[1], 0)' "$T/closed.sock"
	check "socket without permission" 1 "$CTL" -s "$T/closed.sock" status
	has err "permission denied: add your user to group sluice"
fi

# Usage errors are found before any request: exit 2, no daemon needed.
check "class set without a change" 2 "$CTL" -s "$NOSOCK" class set login
has err "nothing to set"
check "class set with a rate without unit" 2 "$CTL" -s "$NOSOCK" class set login rate 10
has err "rate: 10 has no unit"
check "class set with a byte burst for a packet rate" 2 "$CTL" -s "$NOSOCK" class set login rate 10pps burst 64KB
has err "burst: 64KB is in bytes but rate 10pps is in packets"
check "class set with an unknown action" 2 "$CTL" -s "$NOSOCK" class set login exceed shape:5ms
has err "is not drop, monitor or mark:DSCP"
check "class set with an unknown DSCP" 2 "$CTL" -s "$NOSOCK" class set login ex mark:cs9
has err "unknown DSCP 'cs9'"
check "class set usage, JSON" 2 "$CTL" -j -s "$NOSOCK" class set login
json_ok "class set -j"; has out '"error"'
check "stats --watch 0" 2 "$CTL" -s "$NOSOCK" stats --watch 0
check "stats --count without --watch" 2 "$CTL" -s "$NOSOCK" stats --count 2
check "stats with two classes" 2 "$CTL" -s "$NOSOCK" stats a b
check "top -n 0" 2 "$CTL" -s "$NOSOCK" top -n 0
check "status with an argument" 2 "$CTL" -s "$NOSOCK" status now
check "policy apply without a file" 2 "$CTL" -s "$NOSOCK" policy apply --dry-run
check "ambiguous object" 2 "$CTL" st
has err "ambiguous: status or stats"

# help at every level, text and JSON.
for obj in status stats top "class" "class set" "class show" "policy apply" "policy diff" "policy show" "policy rollback"; do
	# shellcheck disable=SC2086
	check "$obj help" 0 "$CTL" $obj help
	has out "Usage: sluicectl $obj"
	# shellcheck disable=SC2086
	check "$obj help, JSON" 0 "$CTL" -j $obj help
	json_ok "$obj help -j"
done
check "diff help says what the exit status means" 0 "$CTL" policy diff help
has out "Exit 0 when the comparison was made"
echo "ok: $n sluicectl checks"
