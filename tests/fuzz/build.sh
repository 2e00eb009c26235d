#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer target for the packet parser (needs clang with
# compiler-rt), seed it with the unit-test samples, and optionally run it.
#
#   tests/fuzz/build.sh              build into build-fuzz/
#   tests/fuzz/build.sh 60           ... and fuzz for 60 seconds
#   FUZZ_OUT=DIR tests/fuzz/build.sh build elsewhere
#
# The seed corpus comes from `test_pkt --corpus` of a meson build in
# build/, when there is one; the fuzzer works without it, only slower.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${CC:-clang}

mkdir -p "$out/corpus" "$out/seed"
"$cc" -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root/common" \
	"$root/common/pkt.c" "$root/tests/fuzz/fuzz_pkt.c" \
	-o "$out/fuzz_pkt"
echo "built $out/fuzz_pkt"

if [ -x "$root/build/tests/test_pkt" ]; then
	"$root/build/tests/test_pkt" --corpus "$out/seed"
fi

if [ $# -ge 1 ]; then
	# New inputs go to corpus/; seed/ stays as the tests wrote it.
	"$out/fuzz_pkt" -max_total_time="$1" -max_len=512 -print_final_stats=1 \
		"$out/corpus" "$out/seed"
fi
