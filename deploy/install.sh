#!/usr/bin/env bash
# Install sluice as services: the built binaries, the systemd units, the
# sluice group, its directories, example configuration, bash completion,
# the man page and the docs. Idempotent: run it again after a rebuild;
# what is unchanged is left alone, and configuration under /etc/sluice
# and /etc/sysctl.d that exists is never overwritten.
#
#   deploy/install.sh [--build DIR] [--root DIR]
#
#   --build DIR  where the binaries were built (default: build)
#   --root DIR   install under DIR instead of / (a staging tree; runs no
#                systemctl and needs no root)
#
# It enables and starts nothing: see docs/runbook.md, "Install as services".
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
R=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--root) R=${2%/}; shift ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--build DIR] [--root DIR]" >&2; exit 2 ;;
	esac
	shift
done

BIN=/usr/local/bin
UNITS=/etc/systemd/system
ETC=/etc/sluice
SHARE=/usr/local/share

log() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

# put SRC DEST MODE: install SRC as DEST unless DEST already has its
# content and mode. A new file is renamed into place, so a binary that
# is running is replaced, not overwritten.
put() {
	local src=$1 dest=$R$2 mode=$3
	if [ -f "$dest" ] && cmp -s "$src" "$dest" &&
	   [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
		log "unchanged  $2"
		return
	fi
	mkdir -p "$(dirname "$dest")"
	install -m "$mode" "$src" "$dest.new.$$"
	mv -f "$dest.new.$$" "$dest"
	log "installed  $2"
}

# put_config SRC DEST MODE: install SRC as DEST only if DEST is absent;
# the operator's file is kept.
put_config() {
	local src=$1 dest=$R$2 mode=$3
	if [ -e "$dest" ]; then
		if cmp -s "$src" "$dest"; then
			log "unchanged  $2"
		else
			log "kept       $2 (yours; the shipped one is ${src#"$SRC"/})"
		fi
		return
	fi
	mkdir -p "$(dirname "$dest")"
	install -m "$mode" "$src" "$dest"
	log "installed  $2"
}

install_binaries() {
	local b
	[ -d "$BUILD" ] || die "no build in $BUILD: meson setup build && meson compile -C build"
	for b in dataplane/sluice-dp control/sluicectl; do
		[ -x "$BUILD/$b" ] || die "not built: $BUILD/$b (meson compile -C $BUILD)"
		put "$BUILD/$b" "$BIN/$(basename "$b")" 0755
	done
	if [ -x "$BUILD/control/sluiced" ]; then
		put "$BUILD/control/sluiced" "$BIN/sluiced" 0755
	else
		log "skipped    $BIN/sluiced (not built: sluiced.service will fail to start)"
	fi
}

install_units() {
	local d=$SRC/deploy/systemd
	put "$d/sluice-dp.service" "$UNITS/sluice-dp.service" 0644
	put "$d/sluiced.service" "$UNITS/sluiced.service" 0644
	put "$d/sluice.sysusers.conf" /etc/sysusers.d/sluice.conf 0644
	put "$d/sluice.tmpfiles.conf" /etc/tmpfiles.d/sluice.conf 0644
	put_config "$d/sluice.sysctl.conf" /etc/sysctl.d/60-sluice.conf 0644
}

# The group and the directories, now rather than at the next boot.
# systemd-sysusers and systemd-tmpfiles work without systemd running.
create_group_and_dirs() {
	local rootopt=()
	[ -n "$R" ] && rootopt=(--root="$R")
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "${rootopt[@]}" "$R/etc/sysusers.d/sluice.conf"
	elif [ -z "$R" ]; then
		getent group sluice >/dev/null || groupadd --system sluice
	fi
	if [ -n "$R" ]; then
		grep -q '^sluice:' "$R/etc/group" 2>/dev/null ||
			die "group sluice not created under $R"
	else
		getent group sluice >/dev/null || die "group sluice not created"
	fi
	log "group      sluice"
	if command -v systemd-tmpfiles >/dev/null; then
		systemd-tmpfiles "${rootopt[@]}" --create "$R/etc/tmpfiles.d/sluice.conf"
	else
		install -d -m 0750 -o root -g sluice "$R/run/sluice" "$R/var/lib/sluice"
		install -d -m 0755 "$R/etc/sluice"
	fi
	log "dirs       /run/sluice /var/lib/sluice /etc/sluice"
}

install_config() {
	put_config "$SRC/deploy/examples/lab-policy.yaml" "$ETC/policy.yaml" 0644
	put_config "$SRC/deploy/systemd/sluice-dp.env" "$ETC/sluice-dp.env" 0644
	put_config "$SRC/deploy/systemd/sluiced.env" "$ETC/sluiced.env" 0644
	if ! "$BUILD/control/sluicectl" policy check "$R$ETC/policy.yaml" >/dev/null; then
		log "WARNING: $ETC/policy.yaml is not a valid policy; the dataplane will not start with it"
	fi
}

install_docs() {
	local f
	put "$SRC/control/sluicectl.bash-completion" \
		"$SHARE/bash-completion/completions/sluicectl" 0644
	put "$SRC/control/sluicectl.8" "$SHARE/man/man8/sluicectl.8" 0644
	for f in policy runbook replay protocol design; do
		[ -f "$SRC/docs/$f.md" ] && put "$SRC/docs/$f.md" "$SHARE/doc/sluice/$f.md" 0644
	done
	return 0
}

# Tell systemd, if it runs; otherwise say what would have been done.
reload_systemd() {
	if [ -n "$R" ]; then
		log "staged under $R: no systemctl"
		return
	fi
	if [ ! -d /run/systemd/system ]; then
		log "systemd is not running here (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown)); on a systemd host this would run:"
		log "    systemctl daemon-reload"
		return
	fi
	systemctl daemon-reload
	log "systemctl daemon-reload: done"
	log "next: edit $ETC/sluice-dp.env (lcores, ports), then"
	log "    sysctl -p /etc/sysctl.d/60-sluice.conf   # hugepages now, not at the next boot"
	log "    systemctl enable --now sluiced           # starts sluice-dp too"
	if systemctl -q is-active sluice-dp sluiced 2>/dev/null; then
		log "running units keep the old binaries until: systemctl restart sluice-dp sluiced"
	fi
}

if [ -z "$R" ] && [ "$(id -u)" -ne 0 ]; then
	die "run as root (or --root DIR to stage)"
fi
install_binaries
install_units
create_group_and_dirs
install_config
install_docs
reload_systemd
