#!/usr/bin/env bash
# The whole sluice test suite: installs what it needs, builds, runs the
# Check unit tests (plain and under ASan/UBSan), then the integration
# tests in network namespaces, and ends with "N passed, N failed".
#
#   tests/run.sh [--no-setup] [--no-asan] [--soak] [PATTERN...]
#
# PATTERN selects tests whose name contains it (unit or integration).
# --soak also runs the long tests (test_soak_*.sh), off by default.
# Exit status: 0 if nothing failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SETUP=1 ASAN=1 SOAK=0
PATTERNS=()
for a in "$@"; do
	case "$a" in
	--no-setup) SETUP=0 ;;
	--no-asan) ASAN=0 ;;
	--soak) SOAK=1 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) PATTERNS+=("$a") ;;
	esac
done

LOGDIR=${SLUICE_TEST_LOGS:-$ROOT/build/test-logs}
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()

say() { printf '%s\n' "$*"; }

selected() {
	[ ${#PATTERNS[@]} -eq 0 ] && return 0
	for p in "${PATTERNS[@]}"; do
		case "$1" in *"$p"*) return 0 ;; esac
	done
	return 1
}

record() {	# record NAME STATUS(pass|fail|skip) [DETAIL]
	case "$2" in
	pass) PASSED=$((PASSED + 1)); say "PASS  $1 ${3:-}" ;;
	skip) SKIPPED=$((SKIPPED + 1)); say "SKIP  $1 ${3:-}" ;;
	*) FAILED=$((FAILED + 1)); FAILURES+=("$1"); say "FAIL  $1 ${3:-}" ;;
	esac
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: run as root (namespaces, hugepages, XDP)" >&2
	exit 2
fi
if [ "$SETUP" = 1 ]; then
	bash deploy/setup.sh || { echo "tests/run.sh: setup failed" >&2; exit 1; }
fi

build() {	# build DIR [meson options]
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$LOGDIR/setup-$(basename "$dir").log" 2>&1 ||
			{ cat "$LOGDIR/setup-$(basename "$dir").log"; return 1; }
	fi
	meson compile -C "$dir" >"$LOGDIR/compile-$(basename "$dir").log" 2>&1 ||
		{ tail -50 "$LOGDIR/compile-$(basename "$dir").log"; return 1; }
	if grep -q 'warning:' "$LOGDIR/compile-$(basename "$dir").log"; then
		grep 'warning:' "$LOGDIR/compile-$(basename "$dir").log" | sort -u | head -20
		return 1
	fi
}

mkdir -p "$LOGDIR"
say "== build"
if build build; then
	record build pass "(warning-free)"
else
	record build fail
	say "$PASSED passed, $FAILED failed"
	exit 1
fi

# One Check binary: each of its checks counts as a test.
run_unit() {	# run_unit BINARY LABEL
	local bin=$1 label=$2 log rc line checks fails errs
	log="$LOGDIR/unit-$label.log"
	CK_DEFAULT_TIMEOUT=600 timeout 900 "$bin" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
	if [ "$rc" = 77 ]; then
		record "$label" skip "(not built yet)"
		return
	fi
	if [ -z "$line" ]; then
		record "$label" fail "(exit $rc, no Check summary; see $log)"
		return
	fi
	checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	errs=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	PASSED=$((PASSED + checks - fails - errs))
	if [ $((fails + errs)) -gt 0 ] || [ "$rc" != 0 ]; then
		FAILED=$((FAILED + fails + errs + (fails + errs == 0 ? 1 : 0)))
		FAILURES+=("$label")
		say "FAIL  $label: $line (exit $rc)"
		grep -E ':[EF]:' "$log" | head -20
	else
		say "PASS  $label: $line"
	fi
}

say "== unit tests"
for bin in build/tests/test_* build/perf/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	selected "$name" && run_unit "$bin" "$(basename "$bin")"
done

# Meson-only checks (the BPF compile of the shared headers): one test each.
while read -r name; do
	[ -n "$name" ] || continue
	selected "bpf/$name" || continue
	if meson test -C build --suite bpf "$name" >"$LOGDIR/bpf-$name.log" 2>&1; then
		if grep -q 'Skipped: *[1-9]' "$LOGDIR/bpf-$name.log"; then
			record "bpf/$name" skip
		else
			record "bpf/$name" pass
		fi
	else
		record "bpf/$name" fail "(see $LOGDIR/bpf-$name.log)"
	fi
done < <(meson test -C build --suite bpf --list 2>/dev/null | grep ' / ' | sed 's#.* / ##' | sort -u)

if [ "$ASAN" = 1 ]; then
	say "== unit tests under ASan/UBSan"
	if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
		for bin in build-asan/tests/test_* build-asan/perf/test_*; do
			[ -f "$bin" ] && [ -x "$bin" ] || continue
			name=asan/$(basename "$bin")
			selected "$name" || continue
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
				run_unit "$bin" "asan-$(basename "$bin")"
		done
	else
		record build-asan fail
	fi
fi

say "== integration tests"
export SLUICE_BUILD=$ROOT/build
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	case "$name" in test_soak_*) [ "$SOAK" = 1 ] || continue ;; esac
	selected "$name" || continue
	log="$LOGDIR/$name.log"
	start=$(date +%s)
	timeout 600 bash "$t" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) record "$name" pass "(${secs}s)" ;;
	77) record "$name" skip "($(tail -1 "$log"))" ;;
	*) record "$name" fail "(exit $rc, ${secs}s; log: $log)"; tail -25 "$log" | sed 's/^/    /' ;;
	esac
done

say ""
[ ${#FAILURES[@]} -gt 0 ] && say "failed: ${FAILURES[*]}"
if [ "$SKIPPED" -gt 0 ]; then
	say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	say "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
