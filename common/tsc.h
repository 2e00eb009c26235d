/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TSC's real frequency. rte_get_tsc_hz() may be a nominal value: in
 * a VM here it said 2.1 GHz for a 2.096 GHz TSC, which would make every
 * metered rate 0.2% off. Whoever turns TSC cycles into time measures it.
 */
#ifndef SLUICE_TSC_H
#define SLUICE_TSC_H

#include <stdint.h>

/*
 * Measure the TSC against CLOCK_MONOTONIC_RAW over about us
 * microseconds (sleeping). Falls back to rte_get_tsc_hz() if the
 * kernel clock misbehaves.
 */
uint64_t sl_tsc_hz_measure(uint32_t us);

#endif /* SLUICE_TSC_H */
