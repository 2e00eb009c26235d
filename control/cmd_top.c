/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl top [CLASS] [-n N]: the bucket keys offering the most
 * traffic now (a source, a prefix, a flow), with their rates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon_client.h"
#include "report.h"

#define TOP_USAGE	"usage: top [CLASS] [-n N]"
#define TOP_N_MAX	10000

int cli_top_args(int argc, char **argv, struct cli_top_opts *o,
		 char *err, size_t errlen)
{
	char *end;

	*o = (struct cli_top_opts){ 0 };
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0) {
			const char *v = i + 1 < argc ? argv[++i] : "";

			errno = 0;
			o->n = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || errno != 0 || o->n < 1 ||
			    o->n > TOP_N_MAX) {
				snprintf(err, errlen, "-n: '%s' is not a number of keys from 1 to %d",
					 v, TOP_N_MAX);
				return -EINVAL;
			}
		} else if (argv[i][0] == '-' || o->class != NULL) {
			snprintf(err, errlen, "unexpected '%s'; %s", argv[i], TOP_USAGE);
			return -EINVAL;
		} else {
			o->class = argv[i];
		}
	}
	return 0;
}

int cmd_top(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_top_opts o;
	json_t *args, *res;
	char err[256];

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl top [CLASS] [-n N]",
			"The bucket keys (sources, prefixes, flows: each class's limit key) offering\n"
			"the most traffic, heaviest first, in pps and bit/s. +/- is how far an\n"
			"estimate may be off. CLASS: one class only; -n N: at most N keys.\n");
	if (cli_top_args(argc, argv, &o, err, sizeof(err)) < 0)
		return cli_error(ctx, CLI_USAGE, "%s", err);
	args = json_object();
	if (o.class != NULL)
		json_object_set_new(args, "class", json_string(o.class));
	if (o.n > 0)
		json_object_set_new(args, "n", json_integer(o.n));
	if (dc_call(ctx, "top", args, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_top_print(stdout, res);
	json_decref(res);
	return CLI_OK;
}
