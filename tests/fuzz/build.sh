#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer targets (needs clang with compiler-rt), seed them
# with the unit-test samples, and optionally run one of them:
#
#   pkt     the packet parser              (fuzz_pkt.c, seeds: test_pkt --corpus)
#   ctlmsg  the control protocol's reader  (fuzz_ctlmsg.c, seeds: test_ctlproto --corpus)
#
#   tests/fuzz/build.sh                 build both into build-fuzz/
#   tests/fuzz/build.sh 60              ... and fuzz pkt for 60 seconds
#   tests/fuzz/build.sh ctlmsg 60       ... and fuzz ctlmsg for 60 seconds
#   FUZZ_OUT=DIR tests/fuzz/build.sh    build elsewhere
#
# Each target keeps build-fuzz/TARGET/seed (as the tests wrote it) and
# build-fuzz/TARGET/corpus (what the fuzzer found). Seeds come from a
# meson build in build/, when there is one; the fuzzers work without
# them, only slower.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${CC:-clang}

target=pkt
secs=
case ${1:-} in
'') ;;
*[!0-9]*) target=$1; secs=${2:-} ;;
*) secs=$1 ;;
esac
case $target in
pkt|ctlmsg) ;;
*) echo "build.sh: unknown target '$target' (pkt or ctlmsg)" >&2; exit 2 ;;
esac

build() {
	name=$1
	shift
	mkdir -p "$out/$name/corpus" "$out/$name/seed"
	"$cc" -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$root/common" "$@" -o "$out/fuzz_$name"
	echo "built $out/fuzz_$name"
}

build pkt "$root/common/pkt.c" "$root/tests/fuzz/fuzz_pkt.c"
build ctlmsg "$root/common/ctlproto.c" "$root/tests/fuzz/fuzz_ctlmsg.c" \
	$(pkg-config --cflags --libs jansson)

if [ -x "$root/build/tests/test_pkt" ]; then
	"$root/build/tests/test_pkt" --corpus "$out/pkt/seed"
fi
if [ -x "$root/build/tests/test_ctlproto" ]; then
	"$root/build/tests/test_ctlproto" --corpus "$out/ctlmsg/seed"
fi

if [ -n "$secs" ]; then
	case $target in
	pkt) max_len=512 ;;
	ctlmsg) max_len=4096 ;;
	esac
	# New inputs go to corpus/; seed/ stays as the tests wrote it.
	"$out/fuzz_$target" -max_total_time="$secs" -max_len=$max_len \
		-print_final_stats=1 "$out/$target/corpus" "$out/$target/seed"
fi
