/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl status: which path carries traffic (dpdk, xdp or down) and
 * why, the policy in force, the dataplane's ports and workers, and the
 * classes the XDP fallback cannot enforce in full.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "daemon_client.h"
#include "report.h"

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl status",
			"The path carrying traffic (dpdk, xdp or down) and why, the policy in force\n"
			"and when it was applied, the dataplane's ports and workers, and degraded\n"
			"classes (those the XDP fallback cannot enforce in full). Needs sluiced.\n");
	if (argc > 0)
		return cli_error(ctx, CLI_USAGE, "status takes no arguments. Try 'sluicectl status help'");
	if (dc_call(ctx, "status", NULL, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_status_print(stdout, res, time(NULL));
	json_decref(res);
	return CLI_OK;
}
