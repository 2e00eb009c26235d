/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "eal_helper.h"

void test_eal_init(void)
{
	static int done;
	char *argv[] = {
		"test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level=*:warning", "-l", "0", NULL,
	};

	if (done)
		return;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		fprintf(stderr, "test: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		exit(1);
	}
	done = 1;
}
