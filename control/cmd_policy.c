/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl policy ...: `check` works offline; the verbs that change the
 * running policy go through sluiced.
 */
#include <stdio.h>

#include "cli.h"
#include "policy.h"
#include "report.h"

static int policy_check(struct cli_ctx *ctx, int argc, char **argv)
{
	struct sl_diags diags;
	struct sl_policy *p;
	int rc;

	if (argc != 1)
		return cli_error(ctx, CLI_USAGE, "usage: policy check FILE");
	rc = sl_policy_load_file(argv[0], &p, &diags);
	if (rc < 0)
		return report_policy_refused(ctx, &diags, rc);
	if (ctx->json)
		cli_json_print(json_pack("{s:b,s:s,s:i,s:s}", "valid", 1,
			"file", argv[0], "classes", (int)p->n_classes,
			"default", p->default_action == SL_DEFAULT_DROP ? "drop" : "pass"));
	else
		printf("%s: valid, %u classes, default %s\n", argv[0], p->n_classes,
		       p->default_action == SL_DEFAULT_DROP ? "drop" : "pass");
	sl_policy_free(p);
	return CLI_OK;
}

static int needs_daemon(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc; (void)argv;
	return cli_error(ctx, CLI_FAIL,
		"this verb talks to sluiced, which this version does not ship yet; use 'policy check' or 'replay' offline");
}

static const struct cli_cmd policy_cmds[] = {
	{ "check", policy_check, "FILE", "validate a policy offline (exit 0 if valid)" },
	{ "show", needs_daemon, "", "print the running policy" },
	{ "apply", needs_daemon, "FILE [--dry-run]", "validate and apply a policy" },
	{ "diff", needs_daemon, "FILE", "compare FILE with the running policy" },
	{ "rollback", needs_daemon, "", "go back to the previous policy" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, policy_cmds, "policy verb", "sluicectl policy",
			    argc, argv);
}
