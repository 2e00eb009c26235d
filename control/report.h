/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-class counters as sluicectl shows them: the JSON shape of
 * design.md ("classes", "default", "malformed"), shared by `stats` and
 * `replay` so scripts read both alike, and an aligned text table.
 */
#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H

#include <stdio.h>

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

#endif /* SLUICE_REPORT_H */
