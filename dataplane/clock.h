/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's clock: TSC cycles turned into monotonic nanoseconds
 * with one 64x64->128 multiply, once per burst. Nanoseconds are the unit
 * every meter takes (common/tbucket.h), whatever the TSC frequency.
 */
#ifndef SLUICE_DP_CLOCK_H
#define SLUICE_DP_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

#include "tsc.h"

struct dp_clock {
	uint64_t tsc0;		/* TSC at start: ns count from here */
	uint64_t mult;		/* ns per cycle, as a 32.32 fixed-point number */
};

/* Measure the TSC (200 ms, at start-up) and start counting from now. */
static inline void dp_clock_init(struct dp_clock *c)
{
	uint64_t hz = sl_tsc_hz_measure(200 * 1000);

	c->mult = (uint64_t)(((unsigned __int128)1000000000ULL << 32) / hz);
	c->tsc0 = rte_get_tsc_cycles();
}

/* Accepts a number of TSC cycles; the same span in ns. */
static inline uint64_t dp_cycles_ns(const struct dp_clock *c, uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * c->mult) >> 32);
}

static inline uint64_t dp_clock_ns(const struct dp_clock *c)
{
	uint64_t d = rte_get_tsc_cycles() - c->tsc0;

	return (uint64_t)(((unsigned __int128)d * c->mult) >> 32);
}

#endif /* SLUICE_DP_CLOCK_H */
