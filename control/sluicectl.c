/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl: the SRE's CLI.
 *
 *   sluicectl [-j|--json] [-s|--socket PATH] OBJECT VERB [ARGS]
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define SLUICED_SOCKET	"/run/sluice/sluiced.sock"

static const struct cli_cmd objects[] = {
	{ "status", cmd_status, "", "path in use, policy version, ports, lcore load" },
	{ "policy", cmd_policy, "show|check|apply|diff|rollback ...", "the policy" },
	{ "class", cmd_class, "list|show|set ...", "classes of the running policy" },
	{ "stats", cmd_stats, "[CLASS] [--watch S]", "per-class counters" },
	{ "top", cmd_top, "[CLASS] [-n N]", "heaviest bucket keys" },
	{ "replay", cmd_replay, "--policy FILE IN.pcap [OUT.pcap]", "run a capture through the engine offline" },
	{ NULL, NULL, NULL, NULL },
};

static void usage(void)
{
	printf("Usage: sluicectl [-j|--json] [-s|--socket PATH] OBJECT VERB [ARGS]\n"
	       "       sluicectl OBJECT help\n\n"
	       "Objects (any unique prefix):\n");
	for (const struct cli_cmd *c = objects; c->name != NULL; c++)
		printf("  %-8s %s\n", c->name, c->help);
	printf("\n'policy check' and 'replay' work offline; the rest ask sluiced at\n"
	       "%s (-s PATH for another socket).\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n", SLUICED_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx ctx = { .socket = SLUICED_SOCKET, .prog = "sluicectl" };
	int c;

	/* '+': options end at OBJECT; verbs parse their own. */
	while ((c = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx.json = true;
			break;
		case 's':
			ctx.socket = optarg;
			break;
		case 'h':
			usage();
			return CLI_OK;
		default:
			return cli_error(&ctx, CLI_USAGE, "try 'sluicectl help'");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || cli_prefix(argv[0], "help")) {
		if (ctx.json) {
			cli_help(&ctx, objects, "sluicectl");
			return argc == 0 ? CLI_USAGE : CLI_OK;
		}
		usage();
		return argc == 0 ? CLI_USAGE : CLI_OK;
	}
	return cli_dispatch(&ctx, objects, "object", "sluicectl", argc, argv);
}
