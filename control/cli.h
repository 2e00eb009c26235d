/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl's command grammar, in the style of ip(8) and bpftool:
 * OBJECT VERB [ARGS], each level a table of {name, handler, help},
 * any unique prefix accepted, `help` at every level. With -j every
 * output, errors included, is one JSON document on stdout.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>

#include <jansson.h>

struct cli_ctx {
	bool json;		/* -j: JSON out, errors too */
	const char *socket;	/* -s: sluiced's socket */
	const char *prog;
	bool compact;		/* JSON one document per line (stats --watch) */
};

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	const char *args;	/* synopsis of the arguments, for help */
	const char *help;	/* one line */
};

/* Exit statuses: 0 success, 1 the request failed, 2 bad usage. */
#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

/*
 * Find argv[0] in cmds (NULL-terminated) by unique prefix and run it
 * with the remaining arguments; `help` or nothing prints the table.
 * what names the level in messages ("object", "policy verb").
 */
int cli_dispatch(struct cli_ctx *ctx, const struct cli_cmd *cmds,
		 const char *what, const char *path, int argc, char **argv);

/* Print the help of a command table under path ("sluicectl policy"). */
void cli_help(const struct cli_ctx *ctx, const struct cli_cmd *cmds,
	      const char *path);

/*
 * Report an error: "sluicectl: msg" on stderr, or with -j
 * {"error": msg} on stdout. Returns status, for `return cli_error(...)`.
 */
int cli_error(const struct cli_ctx *ctx, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* With -j, print obj as JSON on stdout; takes the reference. */
void cli_json_print(json_t *obj);

/* Same, honouring ctx->compact (one line per document when set). */
void cli_json_out(const struct cli_ctx *ctx, json_t *obj);

/* True for "help", "-h" and "--help": help is asked for at this level. */
bool cli_is_help(const char *arg);

/*
 * Help of a command that takes arguments rather than verbs: synopsis
 * ("sluicectl stats [CLASS] [--watch SECONDS]") and lines of text, or
 * with -j {"usage", "help"}. Returns CLI_OK.
 */
int cli_usage(const struct cli_ctx *ctx, const char *synopsis,
	      const char *text);

/* True if s is a unique-prefix abbreviation of word (at least 1 char). */
bool cli_prefix(const char *s, const char *word);

/* The commands of each object. */
int cmd_policy(struct cli_ctx *ctx, int argc, char **argv);
int cmd_replay(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_class(struct cli_ctx *ctx, int argc, char **argv);
int cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
int cmd_top(struct cli_ctx *ctx, int argc, char **argv);

/*
 * The arguments of `class set NAME [rate R] [burst B] [exceed ACTION]`
 * (argv starts at NAME; keywords by unique prefix) as the args object
 * of sluiced's class.set, checked locally with the policy's own
 * parsers: rate and burst as written, exceed "drop", "monitor" or
 * {"mark": DSCP number}. Returns the object, or NULL with err set.
 */
json_t *cli_class_set_args(int argc, char **argv, char *err, size_t errlen);

/* Options of `stats` and `top`, parsed by cli_stats_args/cli_top_args. */
struct cli_stats_opts {
	const char *class;	/* NULL: every class */
	double watch_s;		/* 0: one sample */
	long count;		/* samples with --watch; 0: until SIGINT */
};

struct cli_top_opts {
	const char *class;
	long n;			/* 0: sluiced's default */
};

/* Parse `stats` arguments into o; 0, or -EINVAL with err set. */
int cli_stats_args(int argc, char **argv, struct cli_stats_opts *o,
		   char *err, size_t errlen);

/* Parse `top` arguments into o; 0, or -EINVAL with err set. */
int cli_top_args(int argc, char **argv, struct cli_top_opts *o,
		 char *err, size_t errlen);

#endif /* SLUICE_CLI_H */
