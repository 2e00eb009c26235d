/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "report.h"

int report_policy_refused(const struct cli_ctx *ctx, const struct sl_diags *d,
			  int rc)
{
	json_t *arr;

	if (!ctx->json) {
		sl_diags_print(d, stderr);
		return CLI_FAIL;
	}
	arr = json_array();
	for (uint32_t i = 0; i < d->n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:s}",
			"file", d->file, "line", (json_int_t)d->diag[i].pos.line,
			"column", (json_int_t)d->diag[i].pos.col,
			"message", d->diag[i].msg));
	cli_json_print(json_pack("{s:b,s:s,s:o,s:I}", "valid", 0,
		"error", rc == -EINVAL ? "policy refused" : strerror(-rc),
		"diagnostics", arr, "more", (json_int_t)d->dropped));
	return CLI_FAIL;
}

static json_t *outcome_obj(const uint64_t *v, const int *which, int n)
{
	json_t *o = json_object();

	for (int i = 0; i < n; i++)
		json_object_set_new(o, sl_outcome_names[which[i]],
				    json_integer((json_int_t)v[which[i]]));
	return o;
}

static uint64_t malformed_total(const struct sl_engine_stats *es)
{
	uint64_t n = 0;

	for (int r = 1; r < SL_MAL__COUNT; r++)
		n += es->malformed[r];
	return n;
}

json_t *report_json(const struct sl_policy *p, const struct sl_counters *cls,
		    const struct sl_engine_stats *es)
{
	static const int all[] = { SL_OUT_PASSED, SL_OUT_DROPPED, SL_OUT_MARKED,
				   SL_OUT_MONITORED, SL_OUT_DELAYED };
	static const int pd[] = { SL_OUT_PASSED, SL_OUT_DROPPED };
	json_t *classes = json_array(), *reasons = json_object();

	for (uint32_t c = 0; c < p->n_classes; c++)
		json_array_append_new(classes, json_pack("{s:s,s:o,s:o}",
			"name", p->classes[c].name,
			"packets", outcome_obj(cls[c].packets, all, 5),
			"bytes", outcome_obj(cls[c].bytes, all, 5)));
	for (int r = 1; r < SL_MAL__COUNT; r++)
		if (es->malformed[r] != 0)
			json_object_set_new(reasons, sl_malformed_name(r),
					    json_integer((json_int_t)es->malformed[r]));
	return json_pack("{s:o,s:{s:o,s:o},s:{s:I,s:I,s:o},s:{s:I,s:I},s:{s:I}}",
		"classes", classes,
		"default", "packets", outcome_obj(es->deflt.packets, pd, 2),
			   "bytes", outcome_obj(es->deflt.bytes, pd, 2),
		"malformed", "packets", (json_int_t)malformed_total(es),
			     "bytes", (json_int_t)es->malformed_bytes,
			     "reasons", reasons,
		"non_ip", "packets", (json_int_t)es->non_ip,
			  "bytes", (json_int_t)es->non_ip_bytes,
		"flows", "overflow_metered", (json_int_t)es->overflow);
}

void report_fmt_count(char *buf, size_t len, uint64_t v)
{
	if (v >= 10000000000ULL)
		snprintf(buf, len, "%.2f G", (double)v / 1e9);
	else if (v >= 10000000)
		snprintf(buf, len, "%.2f M", (double)v / 1e6);
	else if (v >= 100000)
		snprintf(buf, len, "%.1f k", (double)v / 1e3);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static void print_row(FILE *f, const char *name, const uint64_t *v, int n)
{
	char buf[32];

	fprintf(f, "%-24s", name);
	for (int o = 0; o < n; o++) {
		report_fmt_count(buf, sizeof(buf), v[o]);
		fprintf(f, " %10s", buf);
	}
	fputc('\n', f);
}

void report_print(FILE *f, const struct sl_policy *p,
		  const struct sl_counters *cls, const struct sl_engine_stats *es)
{
	char buf[32];

	fprintf(f, "%-24s", "CLASS (packets)");
	for (int o = 0; o < SL_OUT__COUNT; o++)
		fprintf(f, " %10s", sl_outcome_names[o]);
	fputc('\n', f);
	for (uint32_t c = 0; c < p->n_classes; c++)
		print_row(f, p->classes[c].name, cls[c].packets, SL_OUT__COUNT);
	print_row(f, "(default)", es->deflt.packets, 2);
	report_fmt_count(buf, sizeof(buf), malformed_total(es));
	fprintf(f, "%-24s %10s", "(malformed)", buf);
	for (int r = 1; r < SL_MAL__COUNT; r++)
		if (es->malformed[r] != 0)
			fprintf(f, "  %s=%" PRIu64, sl_malformed_name(r), es->malformed[r]);
	fputc('\n', f);
	report_fmt_count(buf, sizeof(buf), es->non_ip);
	fprintf(f, "%-24s %10s\n", "(non-IP, forwarded)", buf);
}
