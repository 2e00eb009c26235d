/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-class counters as sluicectl shows them: the JSON shape of
 * design.md ("classes", "default", "malformed"), shared by `stats` and
 * `replay` so scripts read both alike, and an aligned text table.
 */
#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "engine.h"

struct cli_ctx;

/* Counters of a whole run: cls has one entry per class of p. */
json_t *report_json(const struct sl_policy *p, const struct sl_counters *cls,
		    const struct sl_engine_stats *es);
void report_print(FILE *f, const struct sl_policy *p,
		  const struct sl_counters *cls, const struct sl_engine_stats *es);

/*
 * A policy that sl_policy_load_*() refused with rc: its diagnostics as
 * "file:line:column: message" lines on stderr or, with -j, one JSON
 * document {"valid": false, "error", "diagnostics": [{"file", "line",
 * "column", "message"}], "more"} on stdout. `policy check` and `replay`
 * both report this way. Returns CLI_FAIL.
 */
int report_policy_refused(const struct cli_ctx *ctx, const struct sl_diags *d,
			  int rc);

/* "1.23 M", "456 k", "789": a count scaled for people. */
void report_fmt_count(char *buf, size_t len, uint64_t v);

/*
 * Numbers for people, as the online verbs print them. Each writes a
 * NUL-terminated string into buf:
 *   num       "99999", "123 k", "1.23 M", "20.0 G": exact up to 5 digits,
 *             then scaled by 1000 with three significant digits
 *   rate      "0 pps", "999 pps", "1.23 kpps", "45.6 Mbit/s": v per
 *             second scaled by 1000 with three significant digits; unit
 *             is "pps" or "bit/s"; "-" for a negative or NaN v
 *   bytes     "512 B", "64.0 KB", "1.50 GB": powers of 1024, the units
 *             of the policy language's bursts
 *   ago       "just now", "45 s ago", "12 min ago", "3 h ago", "5 days ago"
 *   duration  "45 s", "12 min", "3 h 12 min", "5 days 3 h"
 */
void report_fmt_num(char *buf, size_t len, uint64_t v);
void report_fmt_rate(char *buf, size_t len, double v, const char *unit);
void report_fmt_bytes(char *buf, size_t len, uint64_t v);
void report_fmt_ago(char *buf, size_t len, int64_t secs);
void report_fmt_duration(char *buf, size_t len, int64_t secs);

/*
 * Results of sluiced's commands (docs/protocol.md) as text, one pure
 * function each: the result object in, lines on f out, nothing else
 * read or changed, so the tests feed them samples. They print what is
 * there and skip (or show "-" for) what a result lacks; none fails.
 */

/* `status`; now (epoch seconds) dates policy.applied_at. */
void report_status_print(FILE *f, const json_t *st, time_t now);

/*
 * policy.show: a YAML comment line with the version, source, time and
 * user (resolved to a name where this host knows it), then the text as
 * it was applied, so the output is still a valid policy file.
 */
void report_policy_show_print(FILE *f, const json_t *res, time_t now);

/* policy.apply and class.set: "applied version N (M classes) in X ms". */
void report_apply_print(FILE *f, const json_t *res);

/* policy.diff of file against the running policy: + - ~ > lines. */
void report_diff_print(FILE *f, const json_t *res, const char *file);

/* True if a policy.diff result lists no difference at all. */
bool report_diff_identical(const json_t *res);

/* policy.rollback: "restored version OLD as version NEW". */
void report_rollback_print(FILE *f, const json_t *res);

/* class.list: NAME KEY RATE BURST EXCEED, aligned. */
void report_class_list_print(FILE *f, const json_t *res);

/* class.show: the class's fields, then its packet and byte counters. */
void report_class_show_print(FILE *f, const json_t *cls);

/* A class's exceed ("drop", {"mark": 8}...) as "drop", "mark cs1"... */
void report_exceed_text(char *buf, size_t len, const json_t *exceed);

/*
 * `stats`: packets per outcome for each class, the default and the
 * malformed. With rates two more columns: the offered rate (all
 * outcomes) in pps and bit/s since prev, the sample taken secs earlier
 * ("-" without one, or for a class prev does not have).
 */
void report_stats_print(FILE *f, const json_t *cur, const json_t *prev,
			double secs, bool rates);

/* `top`: CLASS KEY pps bit/s, and +/- when an estimate has an error. */
void report_top_print(FILE *f, const json_t *res);

#endif /* SLUICE_REPORT_H */
