/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL for unit tests: no hugepages, no PCI, no shared files, so tests
 * run as any user and in parallel. Modules that allocate with
 * rte_malloc (rte_acl, rte_hash) need it.
 */
#ifndef SLUICE_TEST_EAL_HELPER_H
#define SLUICE_TEST_EAL_HELPER_H

/* Initialise the EAL once per process; aborts the test run on failure. */
void test_eal_init(void);

#endif
