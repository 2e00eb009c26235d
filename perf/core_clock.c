/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-core-clock: how fast the core runs against the TSC.
 *
 * The benchmarks count TSC cycles, which tick at a fixed rate (2.1 GHz
 * on the development VM), while the core runs at whatever its boost
 * gives it. A goal stated for "a 3 GHz core" needs core cycles, and a VM
 * has no cycle counter to ask (perf stat: "not supported"). So this
 * times a chain of dependent register adds, one core cycle each on
 * every x86 core since the P6, against the TSC: adds / TSC cycles is
 * the core's clock in units of the TSC's.
 *
 *   sluice-core-clock [SECONDS]     (default 0.5; run it pinned: taskset -c N)
 *
 * Prints one JSON object: tsc_hz (measured against CLOCK_MONOTONIC_RAW),
 * core_hz, core_per_tsc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

#define ADDS_PER_ROUND	64

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Accepts a round count; runs 64 dependent adds a round. */
static uint64_t add_chain(uint64_t rounds, uint64_t x)
{
	for (uint64_t i = 0; i < rounds; i++) {
#define ADD8 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
	     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
		__asm__ volatile(ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 : "+r"(x));
#undef ADD8
	}
	return x;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.5;
	uint64_t rounds = 1u << 20, sink = 0, tsc0, tsc1, ns0, ns1, adds = 0;

	if (!(seconds > 0 && seconds <= 60)) {
		fprintf(stderr, "usage: sluice-core-clock [SECONDS, 0-60]\n");
		return 2;
	}
	sink = add_chain(rounds, sink);		/* wake the core up to speed */
	ns0 = ns_now();
	tsc0 = __rdtsc();
	do {
		sink = add_chain(rounds, sink);
		adds += rounds * ADDS_PER_ROUND;
		ns1 = ns_now();
	} while ((double)(ns1 - ns0) < seconds * 1e9);
	tsc1 = __rdtsc();

	double tsc_hz = (double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0);
	double ratio = (double)adds / (double)(tsc1 - tsc0);

	printf("{\"tsc_hz\": %.0f, \"core_hz\": %.0f, \"core_per_tsc\": %.4f, \"adds\": %llu}\n",
	       tsc_hz, tsc_hz * ratio, ratio, (unsigned long long)(adds + (sink & 0)));
	return 0;
}
#else
int main(void)
{
	printf("{\"error\": \"x86 only: no TSC\"}\n");
	return 1;
}
#endif
