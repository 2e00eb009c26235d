/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include <rte_cycles.h>

#include "tsc.h"

/* Read the TSC and CLOCK_MONOTONIC_RAW (ns) as close together as we can. */
static void tsc_clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t a, b, best = UINT64_MAX;
	struct timespec ts;

	/* The tightest of several tries: a preemption between reads skews. */
	for (int i = 0; i < 32; i++) {
		a = rte_rdtsc_precise();
		clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
		b = rte_rdtsc_precise();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	}
}

uint64_t sl_tsc_hz_measure(uint32_t us)
{
	uint64_t t0, n0, t1, n1;

	tsc_clock_pair(&t0, &n0);
	rte_delay_us_sleep(us);
	tsc_clock_pair(&t1, &n1);
	if (n1 <= n0 || t1 <= t0)
		return rte_get_tsc_hz();
	return (uint64_t)((unsigned __int128)(t1 - t0) * 1000000000u / (n1 - n0));
}
