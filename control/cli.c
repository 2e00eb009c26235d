/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

bool cli_prefix(const char *s, const char *word)
{
	size_t n = strlen(s);

	return n > 0 && n <= strlen(word) && strncmp(s, word, n) == 0;
}

int cli_error(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->json)
		cli_json_out(ctx, json_pack("{s:s}", "error", msg));
	else
		fprintf(stderr, "%s: %s\n", ctx->prog, msg);
	return status;
}

void cli_json_print(json_t *obj)
{
	json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(obj);
}

void cli_json_out(const struct cli_ctx *ctx, json_t *obj)
{
	if (!ctx->compact) {
		cli_json_print(obj);
		return;
	}
	json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "help") == 0 || strcmp(arg, "-h") == 0 ||
	       strcmp(arg, "--help") == 0;
}

int cli_usage(const struct cli_ctx *ctx, const char *synopsis,
	      const char *text)
{
	if (ctx->json)
		cli_json_print(json_pack("{s:s,s:s}", "usage", synopsis,
					 "help", text));
	else
		printf("Usage: %s\n\n%s", synopsis, text);
	return CLI_OK;
}

void cli_help(const struct cli_ctx *ctx, const struct cli_cmd *cmds,
	      const char *path)
{
	if (ctx->json) {
		json_t *arr = json_array();

		for (const struct cli_cmd *c = cmds; c->name != NULL; c++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
				"command", c->name, "args", c->args, "help", c->help));
		cli_json_print(json_pack("{s:s,s:o}", "usage", path, "commands", arr));
		return;
	}
	printf("Usage: %s COMMAND [ARGS]\n\n", path);
	for (const struct cli_cmd *c = cmds; c->name != NULL; c++) {
		char syn[128];

		snprintf(syn, sizeof(syn), "%s %s", c->name, c->args);
		printf("  %-44s %s\n", syn, c->help);
	}
}

int cli_dispatch(struct cli_ctx *ctx, const struct cli_cmd *cmds,
		 const char *what, const char *path, int argc, char **argv)
{
	const struct cli_cmd *found = NULL;

	if (argc == 0 || cli_prefix(argv[0], "help") ||
	    strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		cli_help(ctx, cmds, path);
		return argc == 0 ? CLI_USAGE : CLI_OK;
	}
	for (const struct cli_cmd *c = cmds; c->name != NULL; c++) {
		if (strcmp(argv[0], c->name) == 0) {
			found = c;
			break;
		}
		if (cli_prefix(argv[0], c->name)) {
			if (found != NULL)
				return cli_error(ctx, CLI_USAGE,
					"%s '%s' is ambiguous: %s or %s? Try '%s help'",
					what, argv[0], found->name, c->name, path);
			found = c;
		}
	}
	if (found == NULL)
		return cli_error(ctx, CLI_USAGE, "unknown %s '%s'. Try '%s help'",
				 what, argv[0], path);
	return found->fn(ctx, argc - 1, argv + 1);
}
