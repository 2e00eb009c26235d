/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl stats [CLASS] [--watch SECONDS [--count N]]: per-class
 * counters from sluiced. With --watch a sample every SECONDS, each
 * table with the offered rate since the one before; -j then writes one
 * JSON document per sample, one per line. Stops at SIGINT or SIGTERM
 * (exit 0), after N samples, or when sluiced fails (exit 1).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_client.h"
#include "report.h"

#define STATS_USAGE	"usage: stats [CLASS] [--watch SECONDS [--count N]]"
#define WATCH_MIN_S	0.1
#define WATCH_MAX_S	86400.0

static volatile sig_atomic_t stats_stop;

/* SIGINT, SIGTERM: end the watch after the current sample. */
static void stats_on_signal(int sig)
{
	(void)sig;
	stats_stop = 1;
}

/* An option's value: "--watch 2", "--watch=2" or "-w 2"; NULL if none. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng,
			     const char *shrt)
{
	size_t n = strlen(lng);

	if (strncmp(argv[*i], lng, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], lng) != 0 && strcmp(argv[*i], shrt) != 0)
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

/* Is arg the option lng (also as lng=VALUE) or shrt? */
static bool is_opt(const char *arg, const char *lng, const char *shrt)
{
	size_t n = strlen(lng);

	return strcmp(arg, lng) == 0 || strcmp(arg, shrt) == 0 ||
	       (strncmp(arg, lng, n) == 0 && arg[n] == '=');
}

int cli_stats_args(int argc, char **argv, struct cli_stats_opts *o,
		   char *err, size_t errlen)
{
	const char *v;
	char *end;

	*o = (struct cli_stats_opts){ 0 };
	for (int i = 0; i < argc; i++) {
		if (is_opt(argv[i], "--watch", "-w")) {
			v = opt_value(argc, argv, &i, "--watch", "-w");
			errno = 0;
			o->watch_s = strtod(v, &end);
			if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(o->watch_s) ||
			    o->watch_s < WATCH_MIN_S || o->watch_s > WATCH_MAX_S) {
				snprintf(err, errlen, "--watch: '%s' is not a number of seconds from 0.1 to 86400",
					 v);
				return -EINVAL;
			}
		} else if (is_opt(argv[i], "--count", "-c")) {
			v = opt_value(argc, argv, &i, "--count", "-c");
			errno = 0;
			o->count = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || errno != 0 || o->count < 1) {
				snprintf(err, errlen, "--count: '%s' is not a positive number of samples", v);
				return -EINVAL;
			}
		} else if (argv[i][0] == '-' || o->class != NULL) {
			snprintf(err, errlen, "unexpected '%s'; %s", argv[i], STATS_USAGE);
			return -EINVAL;
		} else {
			o->class = argv[i];
		}
	}
	if (o->count > 0 && o->watch_s == 0) {
		snprintf(err, errlen, "--count needs --watch; %s", STATS_USAGE);
		return -EINVAL;
	}
	return 0;
}

/* a - b in seconds. */
static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

/* Accepts s >= 0. */
static void ts_add(struct timespec *t, double s)
{
	time_t whole = (time_t)s;
	long long ns = t->tv_nsec + (long long)((s - (double)whole) * 1e9);

	t->tv_sec += whole + (time_t)(ns / 1000000000);
	t->tv_nsec = (long)(ns % 1000000000);
}

/* Sleep until t on the monotonic clock; false if a signal asked to stop. */
static bool sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		if (stats_stop)
			return false;
	return !stats_stop;
}

/* One sample as text: on a terminal in place of the last one. */
static void stats_frame(const struct cli_stats_opts *o, const json_t *cur,
			const json_t *prev, double secs, bool tty)
{
	json_int_t ver = json_integer_value(json_object_get(cur, "policy_version"));
	json_int_t restarts = json_integer_value(json_object_get(cur, "dataplane_restarts"));
	time_t now = time(NULL);
	char when[16] = "";
	struct tm tm;

	if (localtime_r(&now, &tm) != NULL)
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else if (prev != NULL)
		fputc('\n', stdout);
	printf("%s  every %g s  policy version %" JSON_INTEGER_FORMAT, when, o->watch_s, ver);
	if (restarts > 0)
		printf("  dataplane restarts %" JSON_INTEGER_FORMAT, restarts);
	fputs("\n\n", stdout);
	report_stats_print(stdout, cur, prev, secs, true);
	fflush(stdout);
}

/* Sample every o->watch_s seconds until stopped; takes args. */
static int stats_watch(struct cli_ctx *ctx, const struct cli_stats_opts *o,
		       json_t *args)
{
	struct sigaction sa = { .sa_handler = stats_on_signal }, old_int, old_term;
	struct timespec next, now, then = { 0 };
	bool tty = isatty(STDOUT_FILENO);
	json_t *prev = NULL, *cur;
	int rc = CLI_OK;

	/* No SA_RESTART: the sleep returns at once on Ctrl-C. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	ctx->compact = true;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; !stats_stop && (o->count == 0 || i < o->count); i++) {
		if (i > 0 && !sleep_until(&next))
			break;
		rc = dc_call(ctx, "stats", json_incref(args), DC_TIMEOUT_MS, &cur);
		if (rc != CLI_OK)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ctx->json)
			cli_json_out(ctx, json_incref(cur));
		else
			stats_frame(o, cur, prev, ts_diff(&now, &then), tty);
		json_decref(prev);
		prev = cur;
		then = now;
		/* A slow sample delays the next one instead of bunching them. */
		ts_add(&next, o->watch_s);
		if (ts_diff(&next, &now) < 0)
			next = now;
	}
	json_decref(prev);
	json_decref(args);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

int cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_stats_opts o;
	json_t *args, *res;
	char err[256];

	if (argc > 0 && cli_is_help(argv[0]))
		return cli_usage(ctx, "sluicectl stats [CLASS] [--watch SECONDS [--count N]]",
			"Packets per class and outcome (passed, dropped, marked, monitored, delayed),\n"
			"the default's and the malformed ones. -j: design.md's JSON shape.\n"
			"  --watch S, -w S   a sample every S seconds (0.1 to 86400) with the offered\n"
			"                    rate in pps and bit/s since the last one; -j writes one\n"
			"                    JSON document per line. Ctrl-C stops (exit 0).\n"
			"  --count N, -c N   stop after N samples\n");
	if (cli_stats_args(argc, argv, &o, err, sizeof(err)) < 0)
		return cli_error(ctx, CLI_USAGE, "%s", err);
	args = o.class != NULL ? json_pack("{s:s}", "class", o.class) : NULL;
	if (o.watch_s > 0)
		return stats_watch(ctx, &o, args);
	if (dc_call(ctx, "stats", args, DC_TIMEOUT_MS, &res) != CLI_OK)
		return CLI_FAIL;
	if (ctx->json) {
		cli_json_print(res);
		return CLI_OK;
	}
	report_stats_print(stdout, res, NULL, 0, false);
	json_decref(res);
	return CLI_OK;
}
