/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctlproto.h"
#include "report.h"

int report_policy_refused(const struct cli_ctx *ctx, const struct sl_diags *d,
			  int rc)
{
	if (!ctx->json) {
		sl_diags_print(d, stderr);
		return CLI_FAIL;
	}
	cli_json_print(json_pack("{s:b,s:s,s:o,s:I}", "valid", 0,
		"error", rc == -EINVAL ? "policy refused" : strerror(-rc),
		"diagnostics", sl_ctl_diags_json(d), "more", (json_int_t)d->dropped));
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

/* ---- Numbers for people ---------------------------------------------- */

/* Three significant digits of v, which is below 999.5. */
static void fmt_sig3(char *buf, size_t len, double v, const char *prefix,
		     const char *unit)
{
	if (v < 9.995)
		snprintf(buf, len, "%.2f %s%s", v, prefix, unit);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f %s%s", v, prefix, unit);
	else
		snprintf(buf, len, "%.0f %s%s", v, prefix, unit);
}

void report_fmt_rate(char *buf, size_t len, double v, const char *unit)
{
	static const char *const prefix[] = { "", "k", "M", "G", "T" };
	unsigned int i = 0;

	if (!(v >= 0)) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 999.5 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i > 0)
		fmt_sig3(buf, len, v, prefix[i], unit);
	else if (v < 9.95 && v != (double)(uint64_t)v)
		snprintf(buf, len, "%.1f %s", v, unit);	/* 0.5 pps */
	else
		snprintf(buf, len, "%.0f %s", v, unit);
}

void report_fmt_num(char *buf, size_t len, uint64_t v)
{
	static const char *const prefix[] = { "", "k", "M", "G", "T", "P", "E" };
	double d = (double)v;
	unsigned int i = 0;

	if (v < 100000) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	while (d >= 999.5 && i < 6) {
		d /= 1000;
		i++;
	}
	fmt_sig3(buf, len, d, prefix[i], "");
}

void report_fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB", "PB", "EB" };
	double d = (double)v;
	unsigned int i = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return;
	}
	while (d >= 1023.5 && i < 6) {
		d /= 1024;
		i++;
	}
	fmt_sig3(buf, len, d, "", unit[i]);
}

void report_fmt_ago(char *buf, size_t len, int64_t secs)
{
	if (secs < 1)
		snprintf(buf, len, "just now");
	else if (secs < 60)
		snprintf(buf, len, "%" PRId64 " s ago", secs);
	else if (secs < 3600)
		snprintf(buf, len, "%" PRId64 " min ago", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%" PRId64 " h ago", secs / 3600);
	else
		snprintf(buf, len, "%" PRId64 " days ago", secs / 86400);
}

void report_fmt_duration(char *buf, size_t len, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, len, "%" PRId64 " s", secs);
	else if (secs < 3600)
		snprintf(buf, len, "%" PRId64 " min", secs / 60);
	else if (secs < 86400)
		snprintf(buf, len, "%" PRId64 " h %" PRId64 " min", secs / 3600,
			 secs % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 " day%s %" PRId64 " h", secs / 86400,
			 secs < 2 * 86400 ? "" : "s", secs % 86400 / 3600);
}

/* Milliseconds as "0.8 ms", "41 ms", "12.5 s". */
static void fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 10)
		snprintf(buf, len, "%.1f ms", ms);
	else if (ms < 10000)
		snprintf(buf, len, "%.0f ms", ms);
	else
		snprintf(buf, len, "%.1f s", ms / 1000);
}

/* ---- Reading results ------------------------------------------------- */

/*
 * Results come from another program: every getter accepts any JSON (or
 * NULL) and falls back when a member is missing or of another type.
 */
static json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

/* A string member, dflt when there is none. */
static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	json_t *v = jget(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

/*
 * An integer member in *out; a real one in the range of int64_t is
 * truncated. False (and *out unchanged) if there is none.
 */
static bool jint(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = jget(o, key);

	if (json_is_integer(v))
		*out = (int64_t)json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > -9.2e18 &&
		 json_real_value(v) < 9.2e18)
		*out = (int64_t)json_real_value(v);
	else
		return false;
	return true;
}

/* A number member, dflt when there is none. */
static double jnum(const json_t *o, const char *key, double dflt)
{
	json_t *v = jget(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

/* A counter: a non-negative integer member, 0 if there is none. */
static uint64_t jcount(const json_t *o, const char *key)
{
	int64_t v;

	return jint(o, key, &v) && v > 0 ? (uint64_t)v : 0;
}

/* Append printf output to the string in buf, truncating at len. */
static void cat(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strnlen(buf, len);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* Append ", " unless buf is empty: between the parts of a line. */
static void sep(char *buf, size_t len)
{
	if (buf[0] != '\0')
		cat(buf, len, ", ");
}

/* A string quoted when it would not read as one word. */
static void cat_word(char *buf, size_t len, const char *s)
{
	if (*s == '\0' || strpbrk(s, " ,'\"\t") != NULL)
		cat(buf, len, "'%s'", s);
	else
		cat(buf, len, "%s", s);
}

/* Any value as text: scalars as written, arrays joined with commas. */
static void cat_value(char *buf, size_t len, const json_t *v)
{
	size_t i;
	json_t *e;
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		cat_word(buf, len, json_string_value(v));
		break;
	case JSON_INTEGER:
		cat(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		cat(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		cat(buf, len, "true");
		break;
	case JSON_FALSE:
		cat(buf, len, "false");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			if (i > 0)
				cat(buf, len, ",");
			cat_value(buf, len, e);
		}
		break;
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		cat(buf, len, "%s", s != NULL ? s : "{...}");
		free(s);
		break;
	default:
		cat(buf, len, "-");
	}
}

/* A member as text ("-" when missing): for table cells. */
static const char *jtext(char *buf, size_t len, const json_t *o,
			 const char *key)
{
	json_t *v = jget(o, key);

	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	cat_value(buf, len, v);
	return buf;
}

/* one or many, for a count n. */
static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ---- Aligned tables -------------------------------------------------- */

#define TBL_COLS_MAX	10

/* Rows of cells printed with each column as wide as its widest cell. */
struct tbl {
	unsigned int ncol;
	unsigned int right;	/* bit c: column c aligned right (numbers) */
	unsigned int nrow, cap;
	char **cell;		/* row-major, nrow * ncol; NULL prints "" */
};

/* Add a row of t->ncol cells (NULL: "-"); a row that finds no memory is lost. */
static void tbl_row(struct tbl *t, const char *const *cells)
{
	if (t->nrow == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cell, sizeof(*c) * cap * t->ncol);

		if (c == NULL)
			return;
		t->cell = c;
		t->cap = cap;
	}
	for (unsigned int i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = strdup(cells[i] ? cells[i] : "-");
	t->nrow++;
}

/* Print t on f, two spaces between columns, and free its rows. */
static void tbl_print(FILE *f, struct tbl *t)
{
	size_t w[TBL_COLS_MAX] = { 0 };

	for (unsigned int r = 0; r < t->nrow; r++)
		for (unsigned int c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];
			size_t n = s ? strlen(s) : 0;

			if (n > w[c])
				w[c] = n;
		}
	for (unsigned int r = 0; r < t->nrow; r++) {
		for (unsigned int c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];

			if (s == NULL)
				s = "";
			if (c > 0)
				fputs("  ", f);
			if (t->right & (1u << c))
				fprintf(f, "%*s", (int)w[c], s);
			else if (c + 1 == t->ncol)
				fputs(s, f);
			else
				fprintf(f, "%-*s", (int)w[c], s);
		}
		fputc('\n', f);
	}
	for (unsigned int i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrow = t->cap = 0;
}

/* One "key       value" line of a record. */
static void kv(FILE *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void kv(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-10s ", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* ---- status ---------------------------------------------------------- */

/* The policy line: version, classes, source, when applied. */
static void status_policy(FILE *f, const json_t *pol, time_t now)
{
	char line[512] = "", ago[32], when[32] = "";
	int64_t ver, n, at;
	struct tm tm;

	if (!jint(pol, "version", &ver) || ver <= 0) {
		kv(f, "policy", "none applied");
		return;
	}
	cat(line, sizeof(line), "version %" PRId64, ver);
	if (jint(pol, "classes", &n))
		cat(line, sizeof(line), " (%" PRId64 " %s)", n,
		    plural(n, "class", "classes"));
	if (jstr(pol, "source", NULL) != NULL)
		cat(line, sizeof(line), " from %s", jstr(pol, "source", ""));
	if (jint(pol, "applied_at", &at) && at > 0) {
		time_t t = (time_t)at;

		report_fmt_ago(ago, sizeof(ago), (int64_t)now - at);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), " (%Y-%m-%d %H:%M:%S)", &tm);
		cat(line, sizeof(line), ", applied %s%s", ago, when);
	}
	kv(f, "policy", "%s", line);
}

/* What a connected dataplane runs: pid, workers, its policy version. */
static void status_dp_up(char *line, size_t len, const json_t *dp,
			 const json_t *pol)
{
	int64_t v, ours;

	if (jint(dp, "pid", &v))
		cat(line, len, "pid %" PRId64, v);
	if (jint(dp, "workers", &v)) {
		sep(line, len);
		cat(line, len, "%" PRId64 " %s", v, plural(v, "worker", "workers"));
	}
	if (jint(dp, "policy_version", &v)) {
		sep(line, len);
		cat(line, len, "policy version %" PRId64, v);
		if (jint(pol, "version", &ours) && ours != v)
			cat(line, len, " (sluiced has %" PRId64 ")", ours);
	}
}

/* The dataplane line and one line per port. */
static void status_dataplane(FILE *f, const json_t *dp, const json_t *pol)
{
	char line[512] = "", ago[32];
	json_t *ports = jget(dp, "ports"), *p;
	int64_t v;
	size_t i;

	if (!json_is_true(jget(dp, "connected")))
		cat(line, sizeof(line), "not connected");
	else
		status_dp_up(line, sizeof(line), dp, pol);
	if (jint(dp, "last_seen_ms", &v)) {
		if (v < 1000)
			snprintf(ago, sizeof(ago), "%" PRId64 " ms ago", v < 0 ? 0 : v);
		else
			report_fmt_ago(ago, sizeof(ago), v / 1000);
		sep(line, sizeof(line));
		cat(line, sizeof(line), "last seen %s", ago);
	}
	kv(f, "dataplane", "%s", line);
	json_array_foreach(ports, i, p) {
		char key[24];
		int64_t port = (int64_t)i, peer;

		jint(p, "port", &port);
		snprintf(key, sizeof(key), "port %" PRId64, port);
		if (jint(p, "peer", &peer))
			kv(f, key, "%s <-> port %" PRId64, jstr(p, "name", "?"), peer);
		else
			kv(f, key, "%s", jstr(p, "name", "?"));
	}
}

/*
 * Per-lcore load, when sluiced reports it (not in protocol v1's status
 * yet): "lcores": [{"lcore": 1, "load": 0.42}], load a fraction of 1.
 */
static void status_lcores(FILE *f, const json_t *dp)
{
	json_t *lcores = jget(dp, "lcores"), *l;
	char line[512] = "";
	size_t i;

	if (json_array_size(lcores) == 0)
		return;
	json_array_foreach(lcores, i, l) {
		int64_t id = (int64_t)i;

		jint(l, "lcore", &id);
		cat(line, sizeof(line), "%slcore %" PRId64 " %.0f%%", i ? ", " : "",
		    id, jnum(l, "load", 0) * 100);
	}
	kv(f, "load", "%s", line);
}

/* The xdp line of status: whether the fallback could take over. */
static void status_xdp(FILE *f, const json_t *x)
{
	json_t *pairs = jget(x, "pairs"), *p;
	char line[512] = "";
	int64_t v = 0, fo = 0, fb = 0, keys = 0, cap = 0;
	size_t i;

	if (json_is_true(jget(x, "attached")))
		cat(line, sizeof(line), "attached");
	else if (json_is_true(jget(x, "ready")))
		cat(line, sizeof(line), "ready");
	else
		cat(line, sizeof(line), "unavailable");
	json_array_foreach(pairs, i, p)
		cat(line, sizeof(line), "%s%s<->%s", i ? ", " : " on ",
		    json_string_value(json_array_get(p, 0)),
		    json_string_value(json_array_get(p, 1)));
	if (jint(x, "policy_version", &v) && v > 0)
		cat(line, sizeof(line), ", policy version %" PRId64, v);
	if (jint(x, "failovers", &fo) && jint(x, "failbacks", &fb) && (fo || fb))
		cat(line, sizeof(line), ", %" PRId64 " failover(s), %" PRId64 " failback(s)",
		    fo, fb);
	if (jint(x, "keys_active", &keys) && jint(x, "keys_capacity", &cap) && cap > 0)
		cat(line, sizeof(line), ", %" PRId64 "/%" PRId64 " keys", keys, cap);
	if (jstr(x, "why", NULL))
		cat(line, sizeof(line), " (%s)", jstr(x, "why", ""));
	kv(f, "xdp", "%s", line);
}

void report_status_print(FILE *f, const json_t *st, time_t now)
{
	const char *reason = jstr(st, "reason", "");
	json_t *degraded = jget(st, "degraded"), *d;
	char buf[64];
	int64_t up;
	size_t i;

	if (*reason != '\0')
		kv(f, "path", "%s (%s)", jstr(st, "path", "?"), reason);
	else
		kv(f, "path", "%s", jstr(st, "path", "?"));
	status_policy(f, jget(st, "policy"), now);
	if (jget(st, "dataplane") != NULL) {
		status_dataplane(f, jget(st, "dataplane"), jget(st, "policy"));
		status_lcores(f, jget(st, "dataplane"));
	}
	if (jget(st, "xdp") != NULL)
		status_xdp(f, jget(st, "xdp"));
	if (json_is_array(degraded) && json_array_size(degraded) == 0)
		kv(f, "degraded", "none");
	json_array_foreach(degraded, i, d)
		kv(f, "degraded", "%s: %s", jstr(d, "class", "?"),
		   jstr(d, "reason", "degraded"));
	if (jint(st, "uptime_s", &up)) {
		report_fmt_duration(buf, sizeof(buf), up);
		kv(f, "uptime", "%s", buf);
	}
}

/* ---- policy ---------------------------------------------------------- */

void report_policy_show_print(FILE *f, const json_t *res, time_t now)
{
	char line[512] = "", ago[32], when[32] = "", pwbuf[1024];
	const char *text = jstr(res, "text", NULL);
	struct passwd pw, *who = NULL;
	int64_t v;
	struct tm tm;

	if (jint(res, "version", &v))
		cat(line, sizeof(line), "version %" PRId64, v);
	if (jstr(res, "source", NULL) != NULL) {
		sep(line, sizeof(line));
		cat(line, sizeof(line), "from %s", jstr(res, "source", ""));
	}
	if (jint(res, "applied_at", &v) && v > 0) {
		time_t t = (time_t)v;

		report_fmt_ago(ago, sizeof(ago), (int64_t)now - v);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), " (%Y-%m-%d %H:%M:%S)", &tm);
		sep(line, sizeof(line));
		cat(line, sizeof(line), "applied %s%s", ago, when);
	}
	if (jint(res, "uid", &v) && v >= 0) {
		getpwuid_r((uid_t)v, &pw, pwbuf, sizeof(pwbuf), &who);
		if (who != NULL)
			cat(line, sizeof(line), " by %s (uid %" PRId64 ")", who->pw_name, v);
		else
			cat(line, sizeof(line), " by uid %" PRId64, v);
	}
	if (line[0] != '\0')
		fprintf(f, "# %s\n", line);
	if (text == NULL) {
		fprintf(f, "# (sluiced sent no text)\n");
		return;
	}
	fputs(text, f);
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		fputc('\n', f);
}

void report_apply_print(FILE *f, const json_t *res)
{
	int64_t ver = 0, n = 0;
	char ms[32];

	jint(res, "version", &ver);
	jint(res, "classes", &n);
	if (json_is_true(jget(res, "dry_run"))) {
		fprintf(f, "valid, would be version %" PRId64 " (%" PRId64 " %s)\n",
			ver, n, plural(n, "class", "classes"));
		return;
	}
	fprintf(f, "applied version %" PRId64 " (%" PRId64 " %s)", ver, n,
		plural(n, "class", "classes"));
	if (json_is_number(jget(res, "apply_ms"))) {
		fmt_ms(ms, sizeof(ms), jnum(res, "apply_ms", 0));
		fprintf(f, " in %s", ms);
	}
	fputc('\n', f);
	if (json_is_false(jget(res, "pushed")))
		fprintf(f, "not pushed: the dataplane is not connected; it gets version %" PRId64 " when it connects\n",
			ver);
}

bool report_diff_identical(const json_t *res)
{
	static const char *const lists[] = { "added", "removed", "changed", "moved" };
	json_t *d = jget(res, "default");

	if (d != NULL && !json_is_null(d))
		return false;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (json_array_size(jget(res, lists[i])) > 0)
			return false;
	return true;
}

/* One "+ name" line per string of the list res[key]. */
static void diff_names(FILE *f, const json_t *res, const char *key,
		       const char *mark, const char *note)
{
	json_t *v;
	size_t i;

	json_array_foreach(jget(res, key), i, v)
		fprintf(f, "%s %s%s\n", mark, json_is_string(v) ?
			json_string_value(v) : "?", note);
}

void report_diff_print(FILE *f, const json_t *res, const char *file)
{
	json_t *d = jget(res, "default"), *c;
	int64_t from = 0;
	size_t i;

	jint(res, "from_version", &from);
	if (report_diff_identical(res)) {
		fprintf(f, "no differences between %s and the running policy (version %" PRId64 ")\n",
			file, from);
		return;
	}
	fprintf(f, "--- running policy, version %" PRId64 "\n+++ %s\n", from, file);
	if (d != NULL && !json_is_null(d))
		fprintf(f, "~ default: %s -> %s\n", jstr(d, "from", "?"),
			jstr(d, "to", "?"));
	diff_names(f, res, "removed", "-", "");
	diff_names(f, res, "added", "+", "");
	json_array_foreach(jget(res, "changed"), i, c) {
		char fields[512] = "";
		json_t *fl;
		size_t j;

		json_array_foreach(jget(c, "fields"), j, fl)
			cat(fields, sizeof(fields), "%s%s", j ? ", " : "",
			    json_is_string(fl) ? json_string_value(fl) : "?");
		fprintf(f, "~ %s (%s)\n", jstr(c, "name", "?"), fields);
	}
	diff_names(f, res, "moved", ">", " (moved: order decides the first match)");
}

void report_rollback_print(FILE *f, const json_t *res)
{
	int64_t now = 0, old = 0;

	jint(res, "version", &now);
	jint(res, "restored", &old);
	fprintf(f, "restored version %" PRId64 " as version %" PRId64 "\n", old, now);
}

/* ---- class ----------------------------------------------------------- */

void report_exceed_text(char *buf, size_t len, const json_t *exceed)
{
	json_t *v;

	buf[0] = '\0';
	if (json_is_string(exceed)) {
		snprintf(buf, len, "%s", json_string_value(exceed));
	} else if ((v = jget(exceed, "mark")) != NULL) {
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= 63)
			snprintf(buf, len, "mark %s",
				 sl_dscp_name((uint8_t)json_integer_value(v)));
		else {
			cat(buf, len, "mark ");
			cat_value(buf, len, v);
		}
	} else if ((v = jget(exceed, "shape")) != NULL) {
		cat(buf, len, "shape ");
		cat_value(buf, len, v);
	} else if (exceed == NULL || json_is_null(exceed)) {
		snprintf(buf, len, "-");
	} else {
		cat_value(buf, len, exceed);
	}
}

void report_class_list_print(FILE *f, const json_t *res)
{
	static const char *const head[] = { "NAME", "KEY", "RATE", "BURST", "EXCEED" };
	struct tbl t = { .ncol = 5 };
	json_t *classes = jget(res, "classes"), *c;
	size_t i;

	if (json_array_size(classes) == 0) {
		fprintf(f, "no classes: every packet takes the default\n");
		return;
	}
	tbl_row(&t, head);
	json_array_foreach(classes, i, c) {
		char k[64], r[64], b[64], e[128];
		json_t *lim = jget(c, "limit");
		const char *row[5] = {
			jstr(c, "name", "?"), jtext(k, sizeof(k), lim, "key"),
			jtext(r, sizeof(r), lim, "rate"),
			jtext(b, sizeof(b), lim, "burst"), e,
		};

		report_exceed_text(e, sizeof(e), jget(c, "exceed"));
		if (!json_is_object(lim) && !json_is_object(jget(c, "ceiling")))
			row[4] = "- (no limit)";
		tbl_row(&t, row);
	}
	tbl_print(f, &t);
}

/* A counters object {"passed": n, ...} as a row after the label. */
static void counters_row(struct tbl *t, const char *label, const json_t *o,
			 bool bytes)
{
	char cells[SL_OUT__COUNT][32];
	const char *row[SL_OUT__COUNT + 1] = { label };

	for (int i = 0; i < SL_OUT__COUNT; i++) {
		uint64_t v = jcount(o, sl_outcome_names[i]);

		if (jget(o, sl_outcome_names[i]) == NULL)
			snprintf(cells[i], sizeof(cells[i]), "-");
		else if (bytes)
			report_fmt_bytes(cells[i], sizeof(cells[i]), v);
		else
			report_fmt_num(cells[i], sizeof(cells[i]), v);
		row[i + 1] = cells[i];
	}
	tbl_row(t, row);
}

void report_class_show_print(FILE *f, const json_t *cls)
{
	json_t *match = jget(cls, "match"), *lim = jget(cls, "limit"), *v;
	json_t *ceil = jget(cls, "ceiling");
	char line[1024] = "", a[64], b[64], c[64];
	const char *head[SL_OUT__COUNT + 1] = { "counters" };
	struct tbl t = { .ncol = SL_OUT__COUNT + 1, .right = ~1u };
	const char *key;
	int64_t idx;

	kv(f, "class", "%s", jstr(cls, "name", "?"));
	if (jint(cls, "index", &idx))
		kv(f, "index", "%" PRId64 " (first match wins)", idx);
	json_object_foreach(match, key, v) {
		cat(line, sizeof(line), "%s%s ", line[0] ? " " : "", key);
		cat_value(line, sizeof(line), v);
	}
	kv(f, "match", "%s", line[0] ? line : "any packet");
	if (json_is_object(lim))
		kv(f, "limit", "key %s, rate %s, burst %s",
		   jtext(a, sizeof(a), lim, "key"), jtext(b, sizeof(b), lim, "rate"),
		   jtext(c, sizeof(c), lim, "burst"));
	else if (json_is_object(ceil))
		kv(f, "limit", "none: no bucket per key");
	else
		kv(f, "limit", "none: every packet conforms");
	if (json_is_object(ceil))
		kv(f, "ceiling", "rate %s, burst %s (all keys, all lcores)",
		   jtext(b, sizeof(b), ceil, "rate"), jtext(c, sizeof(c), ceil, "burst"));
	report_exceed_text(line, sizeof(line), jget(cls, "exceed"));
	kv(f, "exceed", "%s", line);
	if (jget(cls, "packets") == NULL && jget(cls, "bytes") == NULL)
		return;
	fputc('\n', f);
	for (int i = 0; i < SL_OUT__COUNT; i++)
		head[i + 1] = sl_outcome_names[i];
	tbl_row(&t, head);
	counters_row(&t, "packets", jget(cls, "packets"), false);
	counters_row(&t, "bytes", jget(cls, "bytes"), true);
	tbl_print(f, &t);
}

/* ---- stats ----------------------------------------------------------- */

/* Sum of the integer members of a counters object: all outcomes. */
static uint64_t outcome_sum(const json_t *o)
{
	const char *key;
	uint64_t n = 0;
	json_t *v;

	json_object_foreach((json_t *)o, key, v)
		if (json_is_integer(v) && json_integer_value(v) > 0)
			n += (uint64_t)json_integer_value(v);
	return n;
}

/* The class called name in a stats result, or NULL. */
static json_t *stats_class(const json_t *res, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(jget(res, "classes"), i, c)
		if (strcmp(jstr(c, "name", ""), name) == 0)
			return c;
	return NULL;
}

/*
 * Offered pps and bit/s of cur since prev, secs apart, into two cells;
 * "-" when there is no earlier sample or a counter went back.
 */
static void stats_rates(const json_t *cur, const json_t *prev, double secs,
			char *pps, char *bps, size_t len)
{
	uint64_t p1, p0, b1, b0;

	snprintf(pps, len, "-");
	snprintf(bps, len, "-");
	if (cur == NULL || prev == NULL || !(secs > 0))
		return;
	p1 = outcome_sum(jget(cur, "packets"));
	p0 = outcome_sum(jget(prev, "packets"));
	b1 = outcome_sum(jget(cur, "bytes"));
	b0 = outcome_sum(jget(prev, "bytes"));
	if (p1 >= p0)
		report_fmt_rate(pps, len, (double)(p1 - p0) / secs, "pps");
	if (b1 >= b0)
		report_fmt_rate(bps, len, (double)(b1 - b0) * 8 / secs, "bit/s");
}

/* One class (or the default) as a row, rates when asked. */
static void stats_row(struct tbl *t, const char *name, const json_t *cur,
		      const json_t *prev, double secs, bool rates)
{
	char cells[SL_OUT__COUNT + 2][32];
	const char *row[SL_OUT__COUNT + 3] = { name };
	json_t *pk = jget(cur, "packets");

	for (int i = 0; i < SL_OUT__COUNT; i++) {
		if (jget(pk, sl_outcome_names[i]) == NULL)
			snprintf(cells[i], sizeof(cells[i]), "-");
		else
			report_fmt_num(cells[i], sizeof(cells[i]),
				       jcount(pk, sl_outcome_names[i]));
		row[i + 1] = cells[i];
	}
	if (rates) {
		stats_rates(cur, prev, secs, cells[SL_OUT__COUNT],
			    cells[SL_OUT__COUNT + 1], sizeof(cells[0]));
		row[SL_OUT__COUNT + 1] = cells[SL_OUT__COUNT];
		row[SL_OUT__COUNT + 2] = cells[SL_OUT__COUNT + 1];
	}
	tbl_row(t, row);
}

void report_stats_print(FILE *f, const json_t *cur, const json_t *prev,
			double secs, bool rates)
{
	const char *head[SL_OUT__COUNT + 3] = { "CLASS (packets)" };
	struct tbl t = { .ncol = SL_OUT__COUNT + 1 + (rates ? 2 : 0),
			 .right = ~1u };
	json_t *c, *mal = jget(cur, "malformed"), *pmal;
	char pps[32], n[32];
	size_t i;

	for (int o = 0; o < SL_OUT__COUNT; o++)
		head[o + 1] = sl_outcome_names[o];
	head[SL_OUT__COUNT + 1] = "pps";
	head[SL_OUT__COUNT + 2] = "bit/s";
	tbl_row(&t, head);
	json_array_foreach(jget(cur, "classes"), i, c) {
		const char *name = jstr(c, "name", "?");

		stats_row(&t, name, c, stats_class(prev, name), secs, rates);
	}
	if (jget(cur, "default") != NULL)
		stats_row(&t, "(default)", jget(cur, "default"),
			  jget(prev, "default"), secs, rates);
	tbl_print(f, &t);
	if (mal == NULL)
		return;
	report_fmt_num(n, sizeof(n), jcount(mal, "packets"));
	fprintf(f, "malformed: %s packets", n);
	pmal = jget(prev, "malformed");
	if (rates && jget(pmal, "packets") != NULL && secs > 0 &&
	    jcount(mal, "packets") >= jcount(pmal, "packets")) {
		report_fmt_rate(pps, sizeof(pps), (double)(jcount(mal, "packets") -
				jcount(pmal, "packets")) / secs, "pps");
		fprintf(f, ", %s", pps);
	}
	fputc('\n', f);
}

/* ---- top ------------------------------------------------------------- */

void report_top_print(FILE *f, const json_t *res)
{
	static const char *const head[] = { "CLASS", "KEY", "pps", "bit/s", "+/-" };
	json_t *keys = jget(res, "keys"), *k;
	bool errs = false;
	struct tbl t = { .right = 0x1c };
	size_t i;

	if (json_array_size(keys) == 0) {
		fprintf(f, "no bucket keys seen\n");
		return;
	}
	json_array_foreach(keys, i, k)
		if (jnum(k, "error_pps", 0) > 0)
			errs = true;
	t.ncol = errs ? 5 : 4;
	tbl_row(&t, head);
	json_array_foreach(keys, i, k) {
		char pps[32], bps[32], err[32], kb[128];
		const char *row[5] = {
			jstr(k, "class", "?"), jtext(kb, sizeof(kb), k, "key"),
			pps, bps, err,
		};

		report_fmt_rate(pps, sizeof(pps), jnum(k, "pps", -1), "pps");
		report_fmt_rate(bps, sizeof(bps), jnum(k, "bps", -1), "bit/s");
		report_fmt_rate(err, sizeof(err), jnum(k, "error_pps", 0), "pps");
		tbl_row(&t, row);
	}
	tbl_print(f, &t);
}
