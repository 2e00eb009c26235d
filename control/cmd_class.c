/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl class list | show NAME | set NAME [rate R] [burst B]
 * [exceed ACTION]: the classes of the running policy. `set` makes a new
 * policy version in sluiced; its values are checked here first with the
 * policy language's own parsers, so a typo gets a clear error at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon_client.h"
#include "policy.h"
#include "report.h"

#define CLASS_SET_USAGE "usage: class set NAME [rate R] [burst B] [exceed drop|monitor|mark:DSCP]"

/* Print res as JSON or through render, and drop it; CLI_OK. */
static int class_out(struct cli_ctx *ctx, json_t *res,
		     void (*render)(FILE *f, const json_t *res))
{
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	render(stdout, res);
	json_decref(res);
	return CLI_OK;
}

/* class list: no arguments. */
static int class_list(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl class list",
			"The classes of the running policy in order (the first match wins): name,\n"
			"bucket key, rate, burst and what happens to exceeding packets.\n");
	if (argc > 0)
		return cli_error(ctx, CLI_USAGE, "usage: class list");
	if (dc_call(ctx, "class.list", NULL, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	return class_out(ctx, res, report_class_list_print);
}

/* class show NAME. */
static int class_show(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl class show NAME",
			"One class: its match, limit and exceed action, and its packet and byte\n"
			"counters per outcome.\n");
	if (argc != 1)
		return cli_error(ctx, CLI_USAGE, "usage: class show NAME");
	if (dc_call(ctx, "class.show", json_pack("{s:s}", "name", argv[0]),
		    DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	return class_out(ctx, res, report_class_show_print);
}

/* exceed ACTION as class.set sends it; NULL with err set. */
static json_t *exceed_arg(const char *s, char *err, size_t errlen)
{
	uint8_t dscp;

	if (strcmp(s, "drop") == 0 || strcmp(s, "monitor") == 0)
		return json_string(s);
	if (strncmp(s, "mark:", 5) == 0) {
		if (sl_dscp_parse(s + 5, &dscp) == 0)
			return json_pack("{s:i}", "mark", dscp);
		snprintf(err, errlen, "exceed: unknown DSCP '%s' (a number 0..63, or a name such as cs1, af41, ef)",
			 s + 5);
		return NULL;
	}
	snprintf(err, errlen, "exceed: '%s' is not drop, monitor or mark:DSCP", s);
	return NULL;
}

/*
 * Rate and burst must agree in unit (a packet rate takes a packet count,
 * a bit rate bytes) and fit the token bucket: checked when both are given.
 */
static int limit_agree(const char *rate, const char *burst, char *err,
		       size_t errlen)
{
	struct sl_limit l = { 0 };
	enum sl_rate_unit bu;

	if (rate == NULL || burst == NULL)
		return 0;
	sl_rate_parse(rate, &l.rate, &l.unit, err, errlen);
	sl_burst_parse(burst, &l.burst, &bu, err, errlen);
	if (l.unit == SL_UNIT_PACKETS && bu == SL_UNIT_BITS) {
		snprintf(err, errlen, "burst: %s is in bytes but rate %s is in packets; give a packet count",
			 burst, rate);
		return -EINVAL;
	}
	if (l.unit == SL_UNIT_BITS && bu == SL_UNIT_PACKETS) {
		snprintf(err, errlen, "burst: %s is a packet count but rate %s is in bits; give bytes (B, KB, MB or GB)",
			 burst, rate);
		return -EINVAL;
	}
	return sl_limit_check(&l, err, errlen);
}

/* Check one keyword's value and add it to args; 0 or -EINVAL. */
static int class_set_kw(json_t *args, const char *kw, const char *val,
			char *err, size_t errlen)
{
	char why[SL_DIAG_MSG_MAX];
	enum sl_rate_unit unit;
	uint64_t v;
	json_t *ex;

	if (json_object_get(args, kw) != NULL) {
		snprintf(err, errlen, "%s given twice", kw);
		return -EINVAL;
	}
	if (strcmp(kw, "exceed") == 0) {
		ex = exceed_arg(val, err, errlen);
		if (ex == NULL)
			return -EINVAL;
		json_object_set_new(args, kw, ex);
		return 0;
	}
	if ((strcmp(kw, "rate") == 0 ? sl_rate_parse(val, &v, &unit, why, sizeof(why)) :
	     sl_burst_parse(val, &v, &unit, why, sizeof(why))) != 0) {
		snprintf(err, errlen, "%s: %s", kw, why);
		return -EINVAL;
	}
	json_object_set_new(args, kw, json_string(val));
	return 0;
}

json_t *cli_class_set_args(int argc, char **argv, char *err, size_t errlen)
{
	static const char *const kws[] = { "rate", "burst", "exceed" };
	char mark[64];
	json_t *args;
	int i;

	if (argc < 1 || argv[0][0] == '\0') {
		snprintf(err, errlen, CLASS_SET_USAGE);
		return NULL;
	}
	args = json_pack("{s:s}", "name", argv[0]);
	if (args == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 1; i < argc; i += 2) {
		const char *kw = NULL;

		for (size_t k = 0; k < sizeof(kws) / sizeof(kws[0]); k++)
			if (cli_prefix(argv[i], kws[k]))
				kw = kws[k];
		if (kw == NULL) {
			snprintf(err, errlen, "unknown keyword '%s': expected rate, burst or exceed",
				 argv[i]);
			goto fail;
		}
		if (i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", kw);
			goto fail;
		}
		if (strcmp(kw, "exceed") == 0 && strcmp(argv[i + 1], "mark") == 0) {
			/* "exceed mark cs1", as the man page and completion write it. */
			if (i + 2 >= argc) {
				snprintf(err, errlen, "exceed: mark needs a DSCP");
				goto fail;
			}
			snprintf(mark, sizeof(mark), "mark:%s", argv[i + 2]);
			if (class_set_kw(args, kw, mark, err, errlen) < 0)
				goto fail;
			i++;
			continue;
		}
		if (class_set_kw(args, kw, argv[i + 1], err, errlen) < 0)
			goto fail;
	}
	if (json_object_size(args) < 2) {
		snprintf(err, errlen, "nothing to set: give rate, burst or exceed");
		goto fail;
	}
	if (limit_agree(json_string_value(json_object_get(args, "rate")),
			json_string_value(json_object_get(args, "burst")),
			err, errlen) < 0)
		goto fail;
	return args;
fail:
	json_decref(args);
	return NULL;
}

/* class set NAME KEYWORD VALUE...: checked here, then sent. */
static int class_set(struct cli_ctx *ctx, int argc, char **argv)
{
	char err[512];
	json_t *args, *res;

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl class set NAME [rate R] [burst B] [exceed ACTION]",
			"Change one class of the running policy; sluiced applies the result as a new\n"
			"version. At least one of:\n"
			"  rate R         200pps, 10kpps, 1Mpps, 10Mbit, 1Gbit... (per second)\n"
			"  burst B        a packet count for packet rates, bytes (64KB) for bit rates\n"
			"  exceed ACTION  drop, monitor, or mark:DSCP (mark:cs1, mark:46; also mark cs1)\n");
	args = cli_class_set_args(argc, argv, err, sizeof(err));
	if (args == NULL)
		return cli_error(ctx, CLI_USAGE, "%s", err);
	if (dc_call(ctx, "class.set", args, DC_APPLY_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	return class_out(ctx, res, report_apply_print);
}

static const struct cli_cmd class_cmds[] = {
	{ "list", class_list, "", "the classes of the running policy, in order" },
	{ "show", class_show, "NAME", "one class: fields and counters" },
	{ "set", class_set, "NAME [rate R] [burst B] [exceed ACTION]", "change a class (a new policy version)" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_class(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, class_cmds, "class verb", "sluicectl class",
			    argc, argv);
}
