/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl policy ...: `check` works offline; show, apply, diff and
 * rollback go through sluiced, which validates, persists and pushes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "daemon_client.h"
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
		printf("%s: valid, %u class%s, default %s\n", argv[0], p->n_classes,
		       p->n_classes == 1 ? "" : "es",
		       p->default_action == SL_DEFAULT_DROP ? "drop" : "pass");
	sl_policy_free(p);
	return CLI_OK;
}

/* policy show: no arguments. */
static int policy_show(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl policy show",
			"Print the running policy as it was applied, after a comment line with its\n"
			"version, source file, time and the user who applied it.\n");
	if (argc > 0)
		return cli_error(ctx, CLI_USAGE, "usage: policy show");
	if (dc_call(ctx, "policy.show", NULL, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_policy_show_print(stdout, res, time(NULL));
	json_decref(res);
	return CLI_OK;
}

/*
 * The args of policy.apply and policy.diff: the text of file and its
 * name as given, which sluiced's diagnostics then name. NULL when the
 * file cannot be sent (reported).
 */
static json_t *policy_args(struct cli_ctx *ctx, const char *file)
{
	json_t *text;

	if (dc_read_policy(ctx, file, &text) != CLI_OK)
		return NULL;
	return json_pack("{s:o,s:s}", "text", text,
			 "name", strcmp(file, "-") == 0 ? "<stdin>" : file);
}

/* policy apply FILE [--dry-run], in any order. */
static int policy_apply(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *file = NULL;
	bool dry = false;
	json_t *args, *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl policy apply FILE [--dry-run]",
			"Send FILE ('-': stdin) to sluiced, which validates it, stores it as the next\n"
			"version and pushes it to the dataplane. A refused policy is reported as\n"
			"file:line:column lines (exit 1) and the running policy stays. --dry-run\n"
			"validates and compiles only.\n");
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else if (file == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			file = argv[i];
		else
			return cli_error(ctx, CLI_USAGE, "usage: policy apply FILE [--dry-run]");
	}
	if (file == NULL)
		return cli_error(ctx, CLI_USAGE, "usage: policy apply FILE [--dry-run]");
	args = policy_args(ctx, file);
	if (args == NULL)
		return CLI_FAIL;
	json_object_set_new(args, "dry_run", json_boolean(dry));
	if (dc_call(ctx, "policy.apply", args, DC_APPLY_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_apply_print(stdout, res);
	json_decref(res);
	return CLI_OK;
}

/* policy diff FILE. */
static int policy_diff(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *args, *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl policy diff FILE",
			"Compare FILE with the running policy, class by class:\n"
			"  + added   - removed   ~ changed (the fields)   > moved (order decides the\n"
			"  first match), and the default when it changes.\n"
			"Exit 0 when the comparison was made, whether or not they differ (-j has\n"
			"\"identical\" for scripts); 1 when it could not be (FILE invalid, no daemon).\n");
	if (argc != 1)
		return cli_error(ctx, CLI_USAGE, "usage: policy diff FILE");
	args = policy_args(ctx, argv[0]);
	if (args == NULL)
		return CLI_FAIL;
	if (dc_call(ctx, "policy.diff", args, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		json_object_set_new(res, "identical",
				    json_boolean(report_diff_identical(res)));
		cli_json_print(res);
		return CLI_OK;
	}
	report_diff_print(stdout, res, argv[0]);
	json_decref(res);
	return CLI_OK;
}

/* policy rollback: no arguments. */
static int policy_rollback(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl policy rollback",
			"Apply the policy that was in force before the current one, as a new version.\n");
	if (argc > 0)
		return cli_error(ctx, CLI_USAGE, "usage: policy rollback");
	if (dc_call(ctx, "policy.rollback", NULL, DC_APPLY_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_rollback_print(stdout, res);
	json_decref(res);
	return CLI_OK;
}

static const struct cli_cmd policy_cmds[] = {
	{ "check", policy_check, "FILE", "validate a policy offline (exit 0 if valid)" },
	{ "show", policy_show, "", "print the running policy" },
	{ "apply", policy_apply, "FILE [--dry-run]", "validate and apply a policy" },
	{ "diff", policy_diff, "FILE", "compare FILE with the running policy (exit 0 either way)" },
	{ "rollback", policy_rollback, "", "go back to the previous policy" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, policy_cmds, "policy verb", "sluicectl policy",
			    argc, argv);
}
