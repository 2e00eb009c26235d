#!/usr/bin/env bash
# Check the service files without installing anything on this host:
# stage deploy/install.sh under a temporary root (twice: the second run
# must change nothing), check the group and directories it made there,
# run `systemd-analyze verify` on the staged units (binaries and man page
# found in the staging root; any message is a failure), and print
# `systemd-analyze security` exposure levels for information.
# Needs systemd's tools, not a running systemd. Exit 0: all good.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
command -v systemd-analyze >/dev/null || { echo "verify: systemd-analyze missing (apt-get install systemd)"; exit 1; }

fail() { echo "verify: FAIL: $*"; exit 1; }

# A build tree of stand-ins: the units only need executables to exist.
for b in dataplane/sluice-dp control/sluicectl control/sluiced; do
	mkdir -p "$T/build/$(dirname "$b")"
	printf '#!/bin/sh\nexit 0\n' >"$T/build/$b"
	chmod +x "$T/build/$b"
done

R=$T/root
bash "$SRC/deploy/install.sh" --build "$T/build" --root "$R" >"$T/first.log" 2>&1 ||
	{ cat "$T/first.log"; fail "install.sh --root"; }
bash "$SRC/deploy/install.sh" --build "$T/build" --root "$R" >"$T/second.log" 2>&1 ||
	{ cat "$T/second.log"; fail "install.sh --root, second run"; }
if grep -E '^install: (installed|kept) ' "$T/second.log"; then
	fail "a second install changed something"
fi
echo "verify: ok: install.sh staged $(grep -c '^install: installed' "$T/first.log") files, a second run changed nothing"

grep -q '^sluice:' "$R/etc/group" || fail "no group sluice in the staged /etc/group"
gid=$(awk -F: '$1 == "sluice" { print $3 }' "$R/etc/group")
for d in run/sluice var/lib/sluice; do
	[ "$(stat -c '%a %u %g' "$R/$d")" = "750 0 $gid" ] ||
		fail "/$d is $(stat -c '%a %u %g' "$R/$d"), expected 750 0 $gid"
done
[ "$(stat -c %a "$R/etc/sluice")" = 755 ] || fail "/etc/sluice mode $(stat -c %a "$R/etc/sluice")"
for f in etc/sluice/policy.yaml etc/sluice/sluice-dp.env etc/sluice/sluiced.env \
	 etc/sysctl.d/60-sluice.conf usr/local/share/man/man8/sluicectl.8 \
	 usr/local/share/bash-completion/completions/sluicectl; do
	[ -f "$R/$f" ] || fail "/$f not installed"
done
echo "verify: ok: group sluice, /run/sluice and /var/lib/sluice 0750 root:sluice, config, man page, completion"

# The staged units, pointed at the staged binaries.
mkdir -p "$T/units"
for u in sluice-dp.service sluiced.service; do
	sed "s|/usr/local/bin/|$R/usr/local/bin/|g" "$R/etc/systemd/system/$u" >"$T/units/$u"
done
(cd "$T/units" && MANPATH=$R/usr/local/share/man \
	systemd-analyze verify sluice-dp.service sluiced.service) >"$T/verify.log" 2>&1 ||
	{ cat "$T/verify.log"; fail "systemd-analyze verify"; }
[ -s "$T/verify.log" ] && { cat "$T/verify.log"; fail "systemd-analyze verify printed messages"; }
echo "verify: ok: systemd-analyze verify sluice-dp.service sluiced.service: no messages"

(cd "$T/units" && systemd-analyze security --offline=yes sluice-dp.service sluiced.service 2>/dev/null) |
	sed -n 's/^→ /verify: info: /p'
exit 0
