#!/usr/bin/env bash
# sluicectl's bash completion (control/sluicectl.bash-completion), run
# without a terminal: each case sets COMP_WORDS/COMP_CWORD as readline
# would, calls the completion function and compares COMPREPLY. Class
# names come from a stand-in sluicectl that answers `-j class list` as
# sluiced would, fails as with no daemon, or hangs. Needs no root; with
# a build, the words offered are also compared with sluicectl's own
# `-j help`. Exit 0: every case passed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# shellcheck source=/dev/null
. "$ROOT/control/sluicectl.bash-completion" || { echo "FAIL: cannot source"; exit 1; }
complete -p sluicectl 2>/dev/null | grep -q -- '-F _sluicectl sluicectl' ||
	{ echo "FAIL: no 'complete -F _sluicectl sluicectl'"; exit 1; }

# The stand-in: $FAKE_MODE is ok (a policy's classes), down (sluiced not
# running, as sluicectl -j reports it) or hang; its arguments go to args.
mkdir -p "$T/bin" "$T/files/sub"
cat >"$T/bin/sluicectl" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >"$FAKE_DIR/args"
case "$FAKE_MODE" in
ok)
	[ "$*" = "-j class list" ] || [ "$*" = "-s /tmp/other.sock -j class list" ] || exit 2
	cat <<'EOJ'
{
  "classes": [
    {"name": "syn-flood", "index": 0, "match": {"proto": "tcp"},
     "limit": {"key": "src", "rate": "200pps", "burst": "400"}, "exceed": "drop"},
    {"name": "bulk", "index": 1, "limit": null, "exceed": {"mark": "cs1"}},
    {"name": "watch-dns", "index": 2, "limit": null, "exceed": "monitor"}
  ]
}
EOJ
	;;
down) echo '{"error": "cannot connect to /run/sluice/sluiced.sock: No such file or directory"}'; exit 1 ;;
hang) sleep 10 ;;
esac
EOF
chmod +x "$T/bin/sluicectl"
export FAKE_DIR=$T FAKE_MODE=ok
CTL=$T/bin/sluicectl
touch "$T/files/edge.yaml" "$T/files/lab.yml" "$T/files/notes.txt" \
	"$T/files/in.pcap" "$T/files/big.pcapng"
cd "$T/files" || exit 1

n=0 failed=0
# expect DESCRIPTION "EXPECTED WORDS" WORD...: the last WORD is the one
# being completed ("" for a new word); the first is the command.
expect() {
	local what=$1 want=$2 w ok=1
	local -A got=()
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_sluicectl sluicectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	# The same words, each once, in any order; compared without forks
	# (they are slow on some machines, and there are many cases).
	for w in "${COMPREPLY[@]}"; do
		[ -n "$w" ] || { ok=0; continue; }
		[ -n "${got[$w]+x}" ] && ok=0
		got[$w]=1
	done
	for w in $want; do
		[ -n "${got[$w]+x}" ] || ok=0
		unset "got[$w]"
	done
	[ ${#got[@]} -eq 0 ] || ok=0
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		echo "FAIL: $what: [$*] gave '$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')', expected '$want'"
		failed=$((failed + 1))
	fi
}

# Objects, options, prefixes.
expect "objects" "status policy class stats top replay help" sluicectl ""
expect "object prefix" "policy" sluicectl p
expect "objects sharing a prefix" "status stats" sluicectl st
expect "global options" "-j --json -s --socket -h --help" sluicectl -
expect "long option prefix" "--json" sluicectl --j
expect "objects after -j" "class" sluicectl -j c
expect "objects after -s PATH" "top" sluicectl -s /tmp/x.sock t
expect "-s completes a path" "edge.yaml" sluicectl -s ed
expect "--socket=PATH completes a path" "edge.yaml" sluicectl --socket = ed
expect "objects after --socket=PATH" "replay" sluicectl --socket = /tmp/x r
expect "unknown object: nothing" "" sluicectl frob ""
expect "ambiguous object: nothing" "" sluicectl sta ""
expect "status takes nothing but help" "help" sluicectl status ""

# policy
expect "policy verbs" "show check apply diff rollback help" sluicectl policy ""
expect "policy verbs by prefix" "check" sluicectl pol ch
expect "check completes YAML files and directories" "edge.yaml lab.yml sub" sluicectl policy check ""
expect "check by prefix, through a prefix verb" "edge.yaml" sluicectl po ch e
expect "check takes one file" "" sluicectl policy check edge.yaml ""
expect "diff completes YAML files" "edge.yaml lab.yml sub" sluicectl policy diff ""
expect "apply completes YAML files" "edge.yaml lab.yml sub" sluicectl policy apply ""
expect "apply then --dry-run" "--dry-run" sluicectl policy apply edge.yaml ""
expect "apply, an option first" "--dry-run" sluicectl policy apply --d
expect "apply --dry-run then a file" "edge.yaml lab.yml sub" sluicectl policy apply --dry-run ""
expect "apply, nothing after both" "" sluicectl policy apply edge.yaml --dry-run ""
expect "show takes nothing" "" sluicectl policy show ""
expect "rollback takes nothing" "" sluicectl policy rollback ""

# class, with class names from the stand-in daemon.
expect "class verbs" "list show set help" "$CTL" class ""
expect "class show: names from sluiced" "syn-flood bulk watch-dns" "$CTL" class show ""
expect "class show: by prefix" "watch-dns" "$CTL" cl sh w
grep -qx -- "-j class list" "$T/args" || { echo "FAIL: asked sluiced with '$(cat "$T/args")'"; failed=$((failed + 1)); }
expect "class names through -s PATH" "syn-flood" "$CTL" -s /tmp/other.sock class show s
grep -qx -- "-s /tmp/other.sock -j class list" "$T/args" ||
	{ echo "FAIL: -s not passed on: '$(cat "$T/args")'"; failed=$((failed + 1)); }
expect "class names through --socket=PATH" "syn-flood" "$CTL" --socket = /tmp/other.sock class show s
expect "class names through -jsPATH" "syn-flood" "$CTL" -js/tmp/other.sock class show s
expect "class show takes one name" "" "$CTL" class show bulk ""
expect "class set: a name" "syn-flood bulk watch-dns" "$CTL" class set ""
expect "class set NAME: keywords" "rate burst exceed" "$CTL" class set bulk ""
expect "class set: rate takes a value" "" "$CTL" class set bulk rate ""
expect "class set: keywords left" "burst exceed" "$CTL" class set bulk rate 10pps ""
expect "class set: exceed actions" "drop monitor mark" "$CTL" class set bulk exceed ""
expect "class set: mark takes a DSCP" "cs1 cs2 cs3 cs4 cs5 cs6 cs7 cs0" "$CTL" class set bulk exceed mark cs
expect "class set: after mark DSCP" "rate burst" "$CTL" class set bulk exceed mark af11 ""
expect "class set: all keywords used" "" "$CTL" class set bulk rate 1pps burst 1 exceed drop ""

# stats and top
expect "stats: names and --watch" "syn-flood bulk watch-dns --watch" "$CTL" stats ""
expect "stats: option" "--watch" "$CTL" stats --
expect "stats --watch takes seconds" "" "$CTL" stats --watch ""
expect "stats CLASS: --watch" "--watch" "$CTL" stats bulk ""
expect "stats --watch S: names" "syn-flood bulk watch-dns" "$CTL" stats --watch 2 ""
expect "stats: all given" "" "$CTL" stats --watch 2 bulk ""
expect "top: names and -n" "syn-flood bulk watch-dns -n" "$CTL" top ""
expect "top -n takes a count" "" "$CTL" top -n ""
expect "top CLASS: -n" "-n" "$CTL" top syn-flood ""

# replay: offline, files only.
expect "replay: --policy and captures" "--policy in.pcap big.pcapng sub" "$CTL" replay ""
expect "replay: options" "--policy --flows --help" "$CTL" replay --
expect "replay --policy: YAML files" "edge.yaml lab.yml sub" "$CTL" replay --policy ""
expect "replay: IN.pcap" "in.pcap big.pcapng sub" "$CTL" replay --policy edge.yaml ""
expect "replay: OUT.pcap" "in.pcap big.pcapng sub" "$CTL" replay --policy edge.yaml in.pcap ""
expect "replay: nothing after OUT.pcap" "" "$CTL" replay --policy edge.yaml in.pcap out.pcap ""
expect "replay: --flows takes a number" "" "$CTL" replay --flows ""

# No daemon, or one that does not answer: nothing, quickly.
FAKE_MODE=down
expect "no daemon: no names" "" "$CTL" class show ""
expect "no daemon: stats still offers --watch" "--watch" "$CTL" stats ""
FAKE_MODE=hang
start=$(date +%s%N)
expect "hung daemon: no names" "" "$CTL" class show ""
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -gt 3000 ]; then
	echo "FAIL: completion waited ${ms} ms for a hung daemon"
	failed=$((failed + 1))
fi
FAKE_MODE=ok
expect "not an executable: no names" "" ./no-such-sluicectl class show ""

# The words offered are the CLI's own: compare with the built sluicectl's
# `-j help` at each level that has its table (class has none until the
# daemon verbs come).
BUILT=${SLUICE_BUILD:-$ROOT/build}/control/sluicectl
if [ -x "$BUILT" ]; then
	for level in "" policy class; do
		var=_sluicectl_objects
		[ -n "$level" ] && var=_sluicectl_${level}_verbs
		cli=$("$BUILT" -j $level help 2>/dev/null |
			/usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(c["command"] for c in d.get("commands", []))))' 2>/dev/null) || cli=
		[ -n "$cli" ] || { echo "note: '$level help' lists no commands yet: not compared"; continue; }
		ours=$(printf '%s\n' ${!var} | grep -vx help | sort | tr '\n' ' ' | sed 's/ $//')
		n=$((n + 1))
		if [ "$cli" != "$ours" ]; then
			echo "FAIL: sluicectl $level help lists '$cli', the completion offers '$ours'"
			failed=$((failed + 1))
		fi
	done
else
	echo "note: $BUILT not built: words not compared with the CLI's help"
fi

if [ "$failed" -gt 0 ]; then
	echo "$failed of $n completion cases failed"
	exit 1
fi
echo "ok: $n completion cases"
