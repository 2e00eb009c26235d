/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl's online verbs without sluiced:
 *   - the number formats (rates, counts, bytes, ages), table-driven;
 *   - every renderer against the result samples in tests/data/cli/
 *     (the shapes of docs/protocol.md), whole text compared, and against
 *     malformed results (no crash, fallbacks printed);
 *   - the local argument checks of class set, stats and top;
 *   - the error messages, local (no daemon, permissions, timeouts) and
 *     from the server (diagnostics, EPERM), text and JSON;
 *   - end to end: the sluicectl built beside this test against a fake
 *     sluiced (ctlproto's server answering with the samples), checking
 *     what it sends, prints and exits with, --watch and SIGINT included.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ctlproto.h"
#include "daemon_client.h"
#include "report.h"

#ifndef SL_TEST_DATA
#define SL_TEST_DATA "tests/data"
#endif
#ifndef SL_SLUICECTL
#define SL_SLUICECTL "build/control/sluicectl"
#endif

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What the samples' applied_at (1714558923) looks like 12 minutes on. */
#define SAMPLE_NOW	(1714558923 + 720)

extern char **environ;

/* ---- Helpers ---------------------------------------------------------- */

/* tests/data, or $SLUICE_CLI_DATA when the tree moved. */
static const char *data_dir(void)
{
	const char *env = getenv("SLUICE_CLI_DATA");

	return env != NULL && *env != '\0' ? env : SL_TEST_DATA;
}

/* A sample result of tests/data/cli/NAME.json; new reference. */
static json_t *sample(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), "%s/cli/%s.json", data_dir(), name);
	j = json_load_file(path, 0, &e);
	ck_assert_msg(j != NULL, "%s:%d: %s", path, e.line, e.text);
	return j;
}

/* The whole file at path, NUL-terminated; NULL if it cannot be read. */
static char *file_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (f == NULL)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

typedef void (*render_fn)(FILE *f, const json_t *res);

/* What fn prints for res, as a string to free. */
static char *render(render_fn fn, const json_t *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, res);
	fclose(f);
	return buf;
}

/* The renderers with the one signature the tables use. */
static void r_status(FILE *f, const json_t *res)
{
	report_status_print(f, res, SAMPLE_NOW);
}

static void r_show(FILE *f, const json_t *res)
{
	report_policy_show_print(f, res, SAMPLE_NOW);
}

static void r_diff(FILE *f, const json_t *res)
{
	report_diff_print(f, res, "edge.yaml");
}

static void r_stats(FILE *f, const json_t *res)
{
	report_stats_print(f, res, NULL, 0, false);
}

/* res taken 2 s after stats-1. */
static void r_stats_rates(FILE *f, const json_t *res)
{
	json_t *prev = sample("stats-1");

	report_stats_print(f, res, prev, 2.0, true);
	json_decref(prev);
}

/* The first sample of --watch: rate columns, no rates yet. */
static void r_stats_first(FILE *f, const json_t *res)
{
	report_stats_print(f, res, NULL, 0, true);
}

static void r_error(FILE *f, const json_t *res)
{
	dc_error_print(f, "sluicectl", res);
}

static void r_error_json(FILE *f, const json_t *res)
{
	json_t *j = dc_error_json(res);

	json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
}

/* ---- Numbers for people ------------------------------------------------ */

static const struct {
	double v;
	const char *unit;
	const char *want;
} rate_cases[] = {
	{ 0, "pps", "0 pps" },
	{ 0.5, "pps", "0.5 pps" },
	{ 1, "pps", "1 pps" },
	{ 9.94, "pps", "9.9 pps" },
	{ 9.96, "pps", "10 pps" },
	{ 999, "pps", "999 pps" },
	{ 999.4, "pps", "999 pps" },
	{ 999.5, "pps", "1.00 kpps" },
	{ 1234.5, "pps", "1.23 kpps" },
	{ 9996, "pps", "10.0 kpps" },
	{ 12345, "pps", "12.3 kpps" },
	{ 123456, "pps", "123 kpps" },
	{ 999499, "pps", "999 kpps" },
	{ 999500, "pps", "1.00 Mpps" },
	{ 14.88e6, "pps", "14.9 Mpps" },
	{ 10e6, "bit/s", "10.0 Mbit/s" },
	{ 3.4e9, "bit/s", "3.40 Gbit/s" },
	{ 400e9, "bit/s", "400 Gbit/s" },
	{ 1.6e12, "bit/s", "1.60 Tbit/s" },
	{ -1, "pps", "-" },
	{ NAN, "bit/s", "-" },
};

START_TEST(fmt_rate)
{
	char buf[32];

	for (size_t i = 0; i < N(rate_cases); i++) {
		report_fmt_rate(buf, sizeof(buf), rate_cases[i].v, rate_cases[i].unit);
		ck_assert_msg(strcmp(buf, rate_cases[i].want) == 0, "%g %s: '%s', expected '%s'",
			      rate_cases[i].v, rate_cases[i].unit, buf, rate_cases[i].want);
	}
}
END_TEST

static const struct {
	uint64_t v;
	const char *num, *bytes;
} count_cases[] = {
	{ 0, "0", "0 B" },
	{ 1023, "1023", "1023 B" },
	{ 1024, "1024", "1.00 KB" },
	{ 1522, "1522", "1.49 KB" },
	{ 65536, "65536", "64.0 KB" },
	{ 99999, "99999", "97.7 KB" },
	{ 100000, "100 k", "97.7 KB" },
	{ 1234567, "1.23 M", "1.18 MB" },
	{ 20000000, "20.0 M", "19.1 MB" },
	{ 999499999, "999 M", "953 MB" },
	{ 999500000, "1.00 G", "953 MB" },
	{ 1610612736, "1.61 G", "1.50 GB" },
	{ UINT64_MAX, "18.4 E", "16.0 EB" },
};

START_TEST(fmt_counts)
{
	char buf[32];

	for (size_t i = 0; i < N(count_cases); i++) {
		report_fmt_num(buf, sizeof(buf), count_cases[i].v);
		ck_assert_msg(strcmp(buf, count_cases[i].num) == 0, "%llu: '%s', expected '%s'",
			      (unsigned long long)count_cases[i].v, buf, count_cases[i].num);
		report_fmt_bytes(buf, sizeof(buf), count_cases[i].v);
		ck_assert_msg(strcmp(buf, count_cases[i].bytes) == 0, "%llu bytes: '%s', expected '%s'",
			      (unsigned long long)count_cases[i].v, buf, count_cases[i].bytes);
	}
}
END_TEST

static const struct {
	int64_t secs;
	const char *ago, *duration;
} time_cases[] = {
	{ -5, "just now", "0 s" },
	{ 0, "just now", "0 s" },
	{ 1, "1 s ago", "1 s" },
	{ 59, "59 s ago", "59 s" },
	{ 60, "1 min ago", "1 min" },
	{ 720, "12 min ago", "12 min" },
	{ 3599, "59 min ago", "59 min" },
	{ 3600, "1 h ago", "1 h 0 min" },
	{ 11520, "3 h ago", "3 h 12 min" },
	{ 86399, "23 h ago", "23 h 59 min" },
	{ 86400, "24 h ago", "1 day 0 h" },
	{ 172799, "47 h ago", "1 day 23 h" },
	{ 172800, "2 days ago", "2 days 0 h" },
	{ 2 * 86400 + 3 * 3600, "2 days ago", "2 days 3 h" },
};

START_TEST(fmt_times)
{
	char buf[32];

	for (size_t i = 0; i < N(time_cases); i++) {
		report_fmt_ago(buf, sizeof(buf), time_cases[i].secs);
		ck_assert_msg(strcmp(buf, time_cases[i].ago) == 0, "%lld s: '%s', expected '%s'",
			      (long long)time_cases[i].secs, buf, time_cases[i].ago);
		report_fmt_duration(buf, sizeof(buf), time_cases[i].secs);
		ck_assert_msg(strcmp(buf, time_cases[i].duration) == 0, "%lld s: '%s', expected '%s'",
			      (long long)time_cases[i].secs, buf, time_cases[i].duration);
	}
}
END_TEST

/* ---- Renderers against the samples ------------------------------------ */

static const struct {
	const char *sample;
	render_fn fn;
	const char *want;	/* the whole output */
} render_cases[] = {
	{ "status", r_status,
	  "path       dpdk (dataplane connected)\n"
	  "policy     version 12 (4 classes) from edge.yaml, applied 12 min ago (2024-05-01 10:22:03)\n"
	  "dataplane  pid 4242, 2 workers, policy version 11 (sluiced has 12), last seen 120 ms ago\n"
	  "port 0     0000:03:00.0 <-> port 1\n"
	  "port 1     0000:03:00.1 <-> port 0\n"
	  "load       lcore 1 42%, lcore 2 38%\n"
	  "degraded   login: payload match is not available on the XDP path\n"
	  "uptime     3 h 12 min\n" },
	{ "status-down", r_status,
	  "path       down (dataplane not running and XDP not attached)\n"
	  "policy     version 1 (1 class) from edge.yaml, applied 12 min ago (2024-05-01 10:22:03)\n"
	  "dataplane  not connected, last seen 5 min ago\n"
	  "degraded   none\n"
	  "uptime     45 s\n" },
	/* A comment first: the output is still a policy file. */
	{ "policy-show", r_show,
	  "# version 12, from edge.yaml, applied 12 min ago (2024-05-01 10:22:03) by root (uid 0)\n"
	  "version: 1\n"
	  "default: pass\n"
	  "classes:\n"
	  "  - name: watch-dns\n"
	  "    match: { proto: udp, dport: 53 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 100 }\n"
	  "    exceed: monitor\n" },
	{ "policy-apply", report_apply_print,
	  "applied version 13 (4 classes) in 41 ms\n" },
	{ "policy-apply-dry", report_apply_print,
	  "valid, would be version 13 (4 classes)\n" },
	{ "policy-apply-unpushed", report_apply_print,
	  "applied version 13 (1 class) in 0.8 ms\n"
	  "not pushed: the dataplane is not connected; it gets version 13 when it connects\n" },
	{ "policy-diff", r_diff,
	  "--- running policy, version 12\n"
	  "+++ edge.yaml\n"
	  "~ default: pass -> drop\n"
	  "- legacy\n"
	  "+ api\n"
	  "~ login (limit.rate, exceed)\n"
	  "> bulk (moved: order decides the first match)\n" },
	{ "policy-diff-none", r_diff,
	  "no differences between edge.yaml and the running policy (version 12)\n" },
	{ "policy-rollback", report_rollback_print,
	  "restored version 12 as version 14\n" },
	{ "class-list", report_class_list_print,
	  "NAME       KEY     RATE    BURST  EXCEED\n"
	  "syn-flood  src     200pps  400    drop\n"
	  "login      src/24  5pps    10     shape 50ms\n"
	  "bulk       flow    10Mbit  64KB   mark cs1\n"
	  "watch-dns  src     100pps  100    monitor\n"
	  "icmp       -       -       -      - (no limit)\n" },
	{ "class-show", report_class_show_print,
	  "class      login\n"
	  "index      1 (first match wins)\n"
	  "match      proto tcp dport 80,8080 payload '^POST /login\\b'\n"
	  "limit      key src/24, rate 5pps, burst 10\n"
	  "ceiling    rate 2kpps, burst 2000 (all keys, all lcores)\n"
	  "exceed     drop\n"
	  "\n"
	  "counters   passed  dropped  marked  monitored  delayed\n"
	  "packets    1.23 M      345       0          0        0\n"
	  "bytes     1.50 GB  21.6 KB     0 B        0 B      0 B\n" },
	{ "stats-1", r_stats,
	  "CLASS (packets)  passed  dropped  marked  monitored  delayed\n"
	  "syn-flood          1000      500       0          0        0\n"
	  "bulk             20.0 M        0   150 k          0        0\n"
	  "(default)            99        0       -          -        -\n"
	  "malformed: 7 packets\n" },
	/*
	 * 2 s apart: syn-flood offered 2000 packets (1 kpps) of 128000
	 * bytes (512 kbit/s), bulk 2 M packets and 3 GB (12 Gbit/s);
	 * watch-dns is new, so it has no rate yet.
	 */
	{ "stats-2", r_stats_rates,
	  "CLASS (packets)  passed  dropped  marked  monitored  delayed        pps        bit/s\n"
	  "syn-flood          1200     2300       0          0        0  1.00 kpps   512 kbit/s\n"
	  "bulk             22.0 M        0   150 k          0        0  1.00 Mpps  12.0 Gbit/s\n"
	  "watch-dns            10        0       0          2        0          -            -\n"
	  "(default)           299        0       -          -        -    100 pps  80.0 kbit/s\n"
	  "malformed: 27 packets, 10 pps\n" },
	{ "stats-2", r_stats_first,
	  "CLASS (packets)  passed  dropped  marked  monitored  delayed  pps  bit/s\n"
	  "syn-flood          1200     2300       0          0        0    -      -\n"
	  "bulk             22.0 M        0   150 k          0        0    -      -\n"
	  "watch-dns            10        0       0          2        0    -      -\n"
	  "(default)           299        0       -          -        -    -      -\n"
	  "malformed: 27 packets\n" },
	{ "top", report_top_print,
	  "CLASS      KEY                                            pps        bit/s     +/-\n"
	  "syn-flood  198.51.100.7                             1.23 kpps   632 kbit/s  12 pps\n"
	  "bulk       192.0.2.1:40000 -> 203.0.113.9:5001 udp   850 kpps  10.2 Gbit/s   0 pps\n"
	  "login      2001:db8:1::/48                              5 pps  4.00 kbit/s   0 pps\n" },
	{ "error-refused", r_error,
	  "edge.yaml:8:7: unknown field 'dprot' in match (did you mean 'dport'?)\n"
	  "edge.yaml:13:33: dport: range 9000-80 is reversed\n"
	  "edge.yaml: no classes after the errors above\n"
	  "sluicectl: policy refused\n" },
	{ "error-eperm", r_error,
	  "sluicectl: permission denied: add your user to group sluice\n" },
	{ "error-noent", r_error,
	  "sluicectl: no class 'nope' in policy version 12\n" },
	{ "error-refused", r_error_json,
	  "{\"error\":\"policy refused\",\"code\":\"EINVAL\",\"valid\":false,"
	  "\"diagnostics\":[{\"file\":\"edge.yaml\",\"line\":8,\"column\":7,"
	  "\"message\":\"unknown field 'dprot' in match (did you mean 'dport'?)\"},"
	  "{\"file\":\"edge.yaml\",\"line\":13,\"column\":33,"
	  "\"message\":\"dport: range 9000-80 is reversed\"},"
	  "{\"file\":\"edge.yaml\",\"line\":0,\"column\":0,"
	  "\"message\":\"no classes after the errors above\"}],\"more\":0}" },
	{ "error-eperm", r_error_json,
	  "{\"error\":\"permission denied: add your user to group sluice\",\"code\":\"EPERM\"}" },
};

START_TEST(render_samples)
{
	/* The samples' times in a known zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < N(render_cases); i++) {
		json_t *res = sample(render_cases[i].sample);
		char *out = render(render_cases[i].fn, res);

		ck_assert_msg(strcmp(out, render_cases[i].want) == 0,
			      "row %zu (%s):\n%s\nexpected:\n%s", i,
			      render_cases[i].sample, out, render_cases[i].want);
		free(out);
		json_decref(res);
	}
}
END_TEST

START_TEST(diff_identical)
{
	json_t *same = sample("policy-diff-none"), *diff = sample("policy-diff");

	ck_assert(report_diff_identical(same));
	ck_assert(!report_diff_identical(diff));
	/* Each kind of difference alone makes them differ. */
	json_object_set_new(same, "moved", json_pack("[s]", "bulk"));
	ck_assert(!report_diff_identical(same));
	json_object_set_new(same, "moved", json_array());
	json_object_set_new(same, "default", json_pack("{s:s,s:s}", "from", "pass", "to", "drop"));
	ck_assert(!report_diff_identical(same));
	json_decref(same);
	json_decref(diff);
}
END_TEST

static const struct {
	const char *exceed;	/* JSON */
	const char *want;
} exceed_cases[] = {
	{ "\"drop\"", "drop" },
	{ "\"monitor\"", "monitor" },
	{ "{\"mark\": 8}", "mark cs1" },
	{ "{\"mark\": 46}", "mark ef" },
	{ "{\"mark\": 5}", "mark 5" },
	{ "{\"mark\": \"af41\"}", "mark af41" },
	{ "{\"mark\": 99}", "mark 99" },
	{ "{\"shape\": \"50ms\"}", "shape 50ms" },
	{ "null", "-" },
	{ "{\"other\": 1}", "{\"other\":1}" },
};

START_TEST(exceed_text)
{
	char buf[64];

	for (size_t i = 0; i < N(exceed_cases); i++) {
		json_t *e = json_loads(exceed_cases[i].exceed, JSON_DECODE_ANY, NULL);

		ck_assert_ptr_nonnull(e);
		report_exceed_text(buf, sizeof(buf), e);
		ck_assert_msg(strcmp(buf, exceed_cases[i].want) == 0, "%s: '%s', expected '%s'",
			      exceed_cases[i].exceed, buf, exceed_cases[i].want);
		json_decref(e);
	}
}
END_TEST

/*
 * Results from a daemon of another version, or a broken one: every
 * renderer prints something and nothing crashes (ASan watches).
 */
static const char *const junk[] = {
	"{}",
	"[]",
	"null",
	"{\"classes\": 5, \"keys\": \"x\", \"dataplane\": \"x\", \"policy\": []}",
	"{\"classes\": [1, \"x\", {}, {\"name\": 3, \"limit\": 4, \"exceed\": [1]}],"
	" \"keys\": [{}, 1, {\"pps\": \"x\", \"key\": {\"a\": [1, 2]}}]}",
	"{\"path\": 1, \"reason\": null, \"degraded\": [{}, 2],"
	" \"dataplane\": {\"connected\": true, \"ports\": [{}, 3], \"lcores\": [{}, 1]},"
	" \"policy\": {\"version\": \"12\", \"applied_at\": -1}, \"uptime_s\": -5}",
	"{\"default\": {\"packets\": {\"passed\": -3, \"dropped\": 1.5}},"
	" \"malformed\": {\"packets\": \"x\"}, \"from_version\": null,"
	" \"added\": [1], \"changed\": [{\"fields\": [1, \"a\"]}, 2], \"moved\": {}}",
	"{\"match\": {\"payload\": \"a, b\", \"x\": null, \"y\": {\"z\": true}, \"e\": \"\"},"
	" \"packets\": [], \"bytes\": {\"passed\": 1e300}, \"diagnostics\": [{}, 1, {\"line\": 3}],"
	" \"more\": 2, \"code\": 5}",
};

static const render_fn all_renderers[] = {
	r_status, r_show, report_apply_print, r_diff, report_rollback_print,
	report_class_list_print, report_class_show_print, r_stats,
	r_stats_rates, r_stats_first, report_top_print, r_error, r_error_json,
};

START_TEST(render_junk)
{
	for (size_t i = 0; i < N(junk); i++) {
		json_t *j = json_loads(junk[i], JSON_DECODE_ANY, NULL);

		ck_assert_msg(j != NULL, "junk row %zu", i);
		for (size_t r = 0; r < N(all_renderers); r++) {
			char *out = render(all_renderers[r], j);

			ck_assert_msg(out[0] != '\0', "renderer %zu printed nothing for %s",
				      r, junk[i]);
			free(out);
		}
		json_decref(j);
	}
}
END_TEST

/* ---- Arguments checked locally ---------------------------------------- */

static const struct {
	const char *argv[10];
	const char *want;	/* the args object as JSON; NULL: refused */
	const char *err;	/* a substring of the refusal */
} class_set_cases[] = {
	{ { "login", "rate", "10pps" }, "{\"name\":\"login\",\"rate\":\"10pps\"}", NULL },
	{ { "login", "r", "10Mbit", "b", "64KB", "e", "mark:cs1" },
	  "{\"name\":\"login\",\"rate\":\"10Mbit\",\"burst\":\"64KB\",\"exceed\":{\"mark\":8}}", NULL },
	{ { "bulk", "exceed", "monitor" }, "{\"name\":\"bulk\",\"exceed\":\"monitor\"}", NULL },
	{ { "bulk", "exceed", "drop", "burst", "400" },
	  "{\"name\":\"bulk\",\"exceed\":\"drop\",\"burst\":\"400\"}", NULL },
	{ { "bulk", "exceed", "mark:46" }, "{\"name\":\"bulk\",\"exceed\":{\"mark\":46}}", NULL },
	{ { "bulk", "exceed", "mark:AF41" }, "{\"name\":\"bulk\",\"exceed\":{\"mark\":34}}", NULL },
	/* The man page's and the completion's spelling. */
	{ { "bulk", "exceed", "mark", "cs1", "rate", "1Mbit" },
	  "{\"name\":\"bulk\",\"exceed\":{\"mark\":8},\"rate\":\"1Mbit\"}", NULL },
	{ { "bulk", "exceed", "mark" }, NULL, "exceed: mark needs a DSCP" },
	{ { "bulk", "exceed", "mark", "cs9" }, NULL, "unknown DSCP 'cs9'" },
	{ { "x", "rate", "400Gbit", "burst", "4GB" },
	  "{\"name\":\"x\",\"rate\":\"400Gbit\",\"burst\":\"4GB\"}", NULL },
	{ { "x", "rate", "1pps", "burst", "1" }, "{\"name\":\"x\",\"rate\":\"1pps\",\"burst\":\"1\"}", NULL },
	{ { NULL }, NULL, "usage: class set NAME" },
	{ { "" , "rate", "1pps" }, NULL, "usage: class set NAME" },
	{ { "login" }, NULL, "nothing to set" },
	{ { "login", "rate" }, NULL, "rate needs a value" },
	{ { "login", "ceiling", "1pps" }, NULL, "unknown keyword 'ceiling'" },
	{ { "login", "rate", "10" }, NULL, "rate: 10 has no unit" },
	{ { "login", "rate", "10ppz" }, NULL, "rate: unknown unit 'ppz'" },
	{ { "login", "rate", "0pps" }, NULL, "rate: 0pps is zero" },
	{ { "login", "rate", "500Gbit" }, NULL, "above the maximum" },
	{ { "login", "burst", "1.5" }, NULL, "burst: '1.5' is not a burst" },
	{ { "login", "rate", "10pps", "burst", "64KB" }, NULL,
	  "burst: 64KB is in bytes but rate 10pps is in packets" },
	{ { "login", "rate", "1Mbit", "burst", "100" }, NULL,
	  "burst: 100 is a packet count but rate 1Mbit is in bits" },
	{ { "login", "rate", "1Mbit", "burst", "1000B" }, NULL, "smaller than one frame" },
	{ { "login", "rate", "1pps", "burst", "0" }, NULL, "must be at least 1" },
	{ { "login", "exceed", "shape:50ms" }, NULL, "'shape:50ms' is not drop, monitor or mark:DSCP" },
	{ { "login", "exceed", "mark:zz" }, NULL, "unknown DSCP 'zz'" },
	{ { "login", "exceed", "mark:64" }, NULL, "unknown DSCP '64'" },
	{ { "login", "rate", "1pps", "rate", "2pps" }, NULL, "rate given twice" },
};

START_TEST(class_set_args)
{
	for (size_t i = 0; i < N(class_set_cases); i++) {
		char **argv = (char **)class_set_cases[i].argv, err[256] = "";
		int argc = 0;
		json_t *got, *want;

		while (argv[argc] != NULL)
			argc++;
		got = cli_class_set_args(argc, argv, err, sizeof(err));
		if (class_set_cases[i].want == NULL) {
			ck_assert_msg(got == NULL, "row %zu accepted", i);
			ck_assert_msg(strstr(err, class_set_cases[i].err) != NULL,
				      "row %zu: '%s', expected '%s'", i, err, class_set_cases[i].err);
			continue;
		}
		want = json_loads(class_set_cases[i].want, 0, NULL);
		ck_assert_msg(got != NULL, "row %zu refused: %s", i, err);
		ck_assert_msg(json_equal(got, want), "row %zu: %s", i,
			      json_dumps(got, JSON_COMPACT));
		json_decref(got);
		json_decref(want);
	}
}
END_TEST

static const struct {
	const char *argv[8];
	const char *class;
	double watch_s;
	long count;
	const char *err;	/* non-NULL: refused with this substring */
} stats_arg_cases[] = {
	{ { NULL }, NULL, 0, 0, NULL },
	{ { "bulk" }, "bulk", 0, 0, NULL },
	{ { "--watch", "2" }, NULL, 2, 0, NULL },
	{ { "-w", "0.5", "bulk" }, "bulk", 0.5, 0, NULL },
	{ { "bulk", "--watch=1.5", "--count=3" }, "bulk", 1.5, 3, NULL },
	{ { "-w", "0.1", "-c", "2" }, NULL, 0.1, 2, NULL },
	{ { "-w", "86400" }, NULL, 86400, 0, NULL },
	{ { "--watch", "0" }, NULL, 0, 0, "--watch: '0' is not a number of seconds" },
	{ { "--watch", "0.09" }, NULL, 0, 0, "--watch: '0.09'" },
	{ { "--watch", "86401" }, NULL, 0, 0, "--watch: '86401'" },
	{ { "--watch" }, NULL, 0, 0, "--watch: ''" },
	{ { "--watch", "abc" }, NULL, 0, 0, "--watch: 'abc'" },
	{ { "--watch", "nan" }, NULL, 0, 0, "--watch: 'nan'" },
	{ { "--watch", "2s" }, NULL, 0, 0, "--watch: '2s'" },
	{ { "--count", "2" }, NULL, 0, 0, "--count needs --watch" },
	{ { "-w", "1", "-c", "0" }, NULL, 0, 0, "--count: '0'" },
	{ { "-w", "1", "-c", "x" }, NULL, 0, 0, "--count: 'x'" },
	{ { "a", "b" }, NULL, 0, 0, "unexpected 'b'" },
	{ { "--frob" }, NULL, 0, 0, "unexpected '--frob'" },
};

START_TEST(stats_args)
{
	for (size_t i = 0; i < N(stats_arg_cases); i++) {
		char **argv = (char **)stats_arg_cases[i].argv, err[256] = "";
		struct cli_stats_opts o;
		int argc = 0, rc;

		while (argv[argc] != NULL)
			argc++;
		rc = cli_stats_args(argc, argv, &o, err, sizeof(err));
		if (stats_arg_cases[i].err != NULL) {
			ck_assert_msg(rc == -EINVAL, "row %zu accepted", i);
			ck_assert_msg(strstr(err, stats_arg_cases[i].err) != NULL,
				      "row %zu: '%s', expected '%s'", i, err, stats_arg_cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "row %zu refused: %s", i, err);
		ck_assert_msg((o.class == NULL) == (stats_arg_cases[i].class == NULL) &&
			      (o.class == NULL || strcmp(o.class, stats_arg_cases[i].class) == 0),
			      "row %zu: class %s", i, o.class ? o.class : "(none)");
		ck_assert_msg(o.watch_s == stats_arg_cases[i].watch_s, "row %zu: watch %g", i, o.watch_s);
		ck_assert_msg(o.count == stats_arg_cases[i].count, "row %zu: count %ld", i, o.count);
	}
}
END_TEST

static const struct {
	const char *argv[6];
	const char *class;
	long n;
	const char *err;
} top_arg_cases[] = {
	{ { NULL }, NULL, 0, NULL },
	{ { "bulk", "-n", "5" }, "bulk", 5, NULL },
	{ { "-n", "10000", "login" }, "login", 10000, NULL },
	{ { "-n", "10001" }, NULL, 0, "-n: '10001'" },
	{ { "-n", "0" }, NULL, 0, "-n: '0'" },
	{ { "-n", "-3" }, NULL, 0, "-n: '-3'" },
	{ { "-n" }, NULL, 0, "-n: ''" },
	{ { "-n", "x" }, NULL, 0, "-n: 'x'" },
	{ { "a", "b" }, NULL, 0, "unexpected 'b'" },
	{ { "-x" }, NULL, 0, "unexpected '-x'" },
};

START_TEST(top_args)
{
	for (size_t i = 0; i < N(top_arg_cases); i++) {
		char **argv = (char **)top_arg_cases[i].argv, err[256] = "";
		struct cli_top_opts o;
		int argc = 0, rc;

		while (argv[argc] != NULL)
			argc++;
		rc = cli_top_args(argc, argv, &o, err, sizeof(err));
		if (top_arg_cases[i].err != NULL) {
			ck_assert_msg(rc == -EINVAL, "row %zu accepted", i);
			ck_assert_msg(strstr(err, top_arg_cases[i].err) != NULL,
				      "row %zu: '%s', expected '%s'", i, err, top_arg_cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "row %zu refused: %s", i, err);
		ck_assert_msg((o.class == NULL) == (top_arg_cases[i].class == NULL) &&
			      (o.class == NULL || strcmp(o.class, top_arg_cases[i].class) == 0),
			      "row %zu: class %s", i, o.class ? o.class : "(none)");
		ck_assert_int_eq(o.n, top_arg_cases[i].n);
	}
}
END_TEST

/* ---- Local errors ----------------------------------------------------- */

static const struct {
	int err;
	const char *detail;
	const char *want;
} local_error_cases[] = {
	{ -ENOENT, NULL, "cannot reach sluiced at /s.sock: is it running? (systemctl status sluiced)" },
	{ -ECONNREFUSED, NULL, "cannot reach sluiced at /s.sock: is it running? (systemctl status sluiced)" },
	{ -ENOTDIR, NULL, "cannot reach sluiced at /s.sock: is it running? (systemctl status sluiced)" },
	{ -EACCES, NULL, "permission denied: add your user to group sluice" },
	{ -EPERM, NULL, "permission denied: add your user to group sluice" },
	{ -ETIMEDOUT, "waiting for the reply to 'status': Connection timed out",
	  "sluiced at /s.sock did not answer in time: waiting for the reply to 'status': Connection timed out" },
	{ -ETIMEDOUT, NULL, "sluiced at /s.sock did not answer in time: Connection timed out" },
	{ -ECONNRESET, "waiting for the reply to 'stats': Connection reset by peer",
	  "sluiced at /s.sock closed the connection: waiting for the reply to 'stats': Connection reset by peer" },
	{ -ENAMETOOLONG, NULL, "'/s.sock' cannot be a socket path: File name too long" },
	{ -EBADMSG, "reply: missing 'ok'", "sluiced at /s.sock: reply: missing 'ok'" },
	{ -EPROTO, "", "sluiced at /s.sock: Protocol error" },
};

START_TEST(local_errors)
{
	char buf[512];

	for (size_t i = 0; i < N(local_error_cases); i++) {
		dc_local_error(buf, sizeof(buf), "/s.sock", local_error_cases[i].err,
			       local_error_cases[i].detail);
		ck_assert_msg(strcmp(buf, local_error_cases[i].want) == 0, "row %zu: '%s', expected '%s'",
			      i, buf, local_error_cases[i].want);
	}
}
END_TEST

static const struct {
	const char *error;	/* the server's error object */
	const char *text;	/* dc_error_print's whole output */
	const char *code;	/* dc_error_json's code */
} server_error_cases[] = {
	{ "{}", "sluicectl: sluiced refused the request\n", "EIO" },
	{ "{\"code\": \"EBUSY\"}", "sluicectl: EBUSY\n", "EBUSY" },
	{ "{\"code\": \"EBUSY\", \"message\": \"too many clients\"}", "sluicectl: too many clients\n", "EBUSY" },
	{ "{\"code\": \"EPERM\", \"message\": \"no\"}",
	  "sluicectl: permission denied: add your user to group sluice\n", "EPERM" },
	{ "{\"code\": \"EINVAL\", \"message\": \"policy refused\", \"more\": 3, \"diagnostics\":"
	  " [{\"file\": \"a.yaml\", \"line\": 2, \"message\": \"no column\"},"
	  " {\"line\": 4, \"column\": 1, \"message\": \"file from before\"}, {}]}",
	  "a.yaml:2: no column\na.yaml:4:1: file from before\na.yaml: (no message)\n"
	  "a.yaml: 3 more errors not shown\nsluicectl: policy refused\n", "EINVAL" },
	{ "{\"code\": \"EINVAL\", \"message\": \"bad\", \"diagnostics\": [{\"line\": 1, \"column\": 2, \"message\": \"m\"}]}",
	  "policy:1:2: m\nsluicectl: bad\n", "EINVAL" },
};

START_TEST(server_errors)
{
	for (size_t i = 0; i < N(server_error_cases); i++) {
		json_t *e = json_loads(server_error_cases[i].error, 0, NULL), *j;
		char *out;

		ck_assert_ptr_nonnull(e);
		out = render(r_error, e);
		ck_assert_msg(strcmp(out, server_error_cases[i].text) == 0, "row %zu:\n%s\nexpected:\n%s",
			      i, out, server_error_cases[i].text);
		j = dc_error_json(e);
		ck_assert_str_eq(json_string_value(json_object_get(j, "code")), server_error_cases[i].code);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "error")));
		/* Diagnostics travel on as the server sent them. */
		ck_assert(json_equal(json_object_get(j, "diagnostics"),
				     json_object_get(e, "diagnostics")) ||
			  json_object_get(e, "diagnostics") == NULL);
		free(out);
		json_decref(j);
		json_decref(e);
	}
}
END_TEST

/* ---- A fake sluiced, and the real sluicectl against it ---------------- */

struct fake {
	char dir[128];
	char path[160];
	struct sl_ctl_server *srv;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	json_t *last;		/* the last request: {"cmd", "args"} */
	int requests;
	int stats_calls;
	const char *error;	/* answer every request with this error sample */
};

static struct fake fk;

static const struct {
	const char *cmd;
	const char *sample;
} fake_replies[] = {
	{ "status", "status" },
	{ "policy.show", "policy-show" },
	{ "policy.apply", "policy-apply" },
	{ "policy.diff", "policy-diff" },
	{ "policy.rollback", "policy-rollback" },
	{ "class.list", "class-list" },
	{ "class.show", "class-show" },
	{ "class.set", "policy-apply" },
	{ "stats", "stats-1" },
	{ "top", "top" },
};

/* The sample answering req: stats alternate, a dry run says so. */
static const char *fake_sample(const struct sl_ctl_req *req, int stats_calls)
{
	if (strcmp(req->cmd, "stats") == 0)
		return stats_calls % 2 ? "stats-2" : "stats-1";
	if (strcmp(req->cmd, "policy.apply") == 0 &&
	    json_is_true(json_object_get(req->args, "dry_run")))
		return "policy-apply-dry";
	for (size_t i = 0; i < N(fake_replies); i++)
		if (strcmp(req->cmd, fake_replies[i].cmd) == 0)
			return fake_replies[i].sample;
	return NULL;
}

static json_t *fake_handler(void *ctx, const struct sl_ctl_req *req)
{
	struct fake *f = ctx;
	const char *name, *error;
	int calls;

	pthread_mutex_lock(&f->lock);
	json_decref(f->last);
	f->last = json_pack("{s:s,s:O}", "cmd", req->cmd,
			    "args", req->args ? req->args : json_null());
	f->requests++;
	calls = strcmp(req->cmd, "stats") == 0 ? f->stats_calls++ : 0;
	error = f->error;
	pthread_mutex_unlock(&f->lock);
	if (error != NULL)
		return json_pack("{s:i,s:I,s:b,s:o}", "v", 1, "id", (json_int_t)req->id,
				 "ok", 0, "error", sample(error));
	name = fake_sample(req, calls);
	if (name == NULL)
		return sl_ctl_reply_err(req->id, "ENOENT", "unknown command '%s'", req->cmd);
	return sl_ctl_reply_ok(req->id, sample(name));
}

static void *fake_loop(void *arg)
{
	struct fake *f = arg;

	while (!atomic_load(&f->stop))
		sl_ctl_server_poll(f->srv, 10);
	return NULL;
}

static void fake_start(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.lock, NULL);
	snprintf(fk.dir, sizeof(fk.dir), "%s/test_cli.XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(fk.dir));
	snprintf(fk.path, sizeof(fk.path), "%s/sluiced.sock", fk.dir);
	fk.srv = sl_ctl_server_create(fk.path, NULL, fake_handler, &fk);
	ck_assert_msg(fk.srv != NULL, "fake sluiced: %s", strerror(errno));
	ck_assert_int_eq(pthread_create(&fk.thread, NULL, fake_loop, &fk), 0);
}

static void fake_stop(void)
{
	char path[256];

	atomic_store(&fk.stop, 1);
	pthread_join(fk.thread, NULL);
	sl_ctl_server_free(fk.srv);
	json_decref(fk.last);
	for (const char *const *n = (const char *const[]){ "out", "err", "stale.sock", NULL };
	     *n != NULL; n++) {
		snprintf(path, sizeof(path), "%s/%s", fk.dir, *n);
		unlink(path);
	}
	rmdir(fk.dir);
}

/* The last request the fake saw (new reference), NULL if none. */
static json_t *fake_last(void)
{
	json_t *j;

	pthread_mutex_lock(&fk.lock);
	j = json_incref(fk.last);
	pthread_mutex_unlock(&fk.lock);
	return j;
}

/* Forget the last request; answer the next ones with error (NULL: none). */
static void fake_reset(const char *error)
{
	pthread_mutex_lock(&fk.lock);
	json_decref(fk.last);
	fk.last = NULL;
	fk.error = error;
	pthread_mutex_unlock(&fk.lock);
}

/* How many requests, and stats requests, the fake has answered. */
static int fake_count(bool stats)
{
	int n;

	pthread_mutex_lock(&fk.lock);
	n = stats ? fk.stats_calls : fk.requests;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

static const char *sluicectl_path(void)
{
	const char *env = getenv("SLUICECTL");

	return env != NULL && *env != '\0' ? env : SL_SLUICECTL;
}

struct ctl_result {
	int status;		/* exit status */
	char *out, *err;
};

/* Start sluicectl with args (NULL-terminated), output to fk.dir's files. */
static pid_t ctl_spawn(const char *const *args)
{
	const char *argv[24] = { sluicectl_path() };
	char out[200], err[200];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int i, rc;

	for (i = 0; args[i] != NULL; i++) {
		ck_assert_int_lt(i + 2, (int)N(argv));
		argv[i + 1] = args[i];
	}
	snprintf(out, sizeof(out), "%s/out", fk.dir);
	snprintf(err, sizeof(err), "%s/err", fk.dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(rc == 0, "cannot run %s: %s (set SLUICECTL to the binary)",
		      argv[0], strerror(rc));
	return pid;
}

static void ctl_wait(pid_t pid, struct ctl_result *r)
{
	char path[200];
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	snprintf(path, sizeof(path), "%s/out", fk.dir);
	r->out = file_read(path);
	snprintf(path, sizeof(path), "%s/err", fk.dir);
	r->err = file_read(path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
	ck_assert_msg(WIFEXITED(st), "sluicectl killed by signal %d; stderr: %s",
		      WTERMSIG(st), r->err);
	r->status = WEXITSTATUS(st);
}

/* Run sluicectl -s FAKE args... and wait for it. */
static void ctl_run(const char *const *args, struct ctl_result *r)
{
	const char *argv[24] = { "-s", fk.path };
	int i;

	for (i = 0; args[i] != NULL; i++) {
		ck_assert_int_lt(i + 3, (int)N(argv));
		argv[i + 2] = args[i];
	}
	ctl_wait(ctl_spawn(argv), r);
}

static void ctl_free(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
}

#define POLICY_FILE	SL_TEST_DATA "/policies/good-design.yaml"

static const struct {
	const char *what;
	const char *args[12];
	const char *error;	/* the fake answers with this error sample */
	int status;
	const char *out;	/* a substring of stdout */
	const char *err;	/* a substring of stderr */
	const char *cmd;	/* the request sent; NULL: none */
	const char *req_args;	/* its args as JSON; NULL: not checked */
} e2e_cases[] = {
	{ "status", { "status" }, NULL, 0, "path       dpdk (dataplane connected)\n", "",
	  "status", "null" },
	{ "status by prefix", { "statu" }, NULL, 0, "degraded   login: payload match", "",
	  "status", NULL },
	{ "status -j", { "-j", "status" }, NULL, 0, "\"path\": \"dpdk\"", "", "status", NULL },
	{ "status takes no arguments", { "status", "now" }, NULL, 2, "", "status takes no arguments",
	  NULL, NULL },
	{ "policy show prints the text", { "policy", "show" }, NULL, 0,
	  " by root (uid 0)\nversion: 1\ndefault: pass\nclasses:\n  - name: watch-dns\n", "",
	  "policy.show", "null" },
	{ "policy show by prefixes", { "pol", "sh" }, NULL, 0, "    exceed: monitor\n", "",
	  "policy.show", NULL },
	{ "policy show -j", { "-j", "policy", "show" }, NULL, 0, "\"source\": \"edge.yaml\"", "",
	  "policy.show", NULL },
	{ "policy apply", { "policy", "apply", POLICY_FILE }, NULL, 0,
	  "applied version 13 (4 classes) in 41 ms\n", "", "policy.apply", NULL },
	{ "policy apply --dry-run", { "policy", "apply", "--dry-run", POLICY_FILE }, NULL, 0,
	  "valid, would be version 13 (4 classes)\n", "", "policy.apply", NULL },
	{ "policy apply refused", { "policy", "apply", POLICY_FILE }, "error-refused", 1, "",
	  "edge.yaml:8:7: unknown field 'dprot' in match (did you mean 'dport'?)\n"
	  "edge.yaml:13:33: dport: range 9000-80 is reversed\n", "policy.apply", NULL },
	{ "policy apply refused, -j", { "-j", "policy", "apply", POLICY_FILE }, "error-refused", 1,
	  "\"valid\": false", "", "policy.apply", NULL },
	{ "policy apply of a missing file", { "policy", "apply", "/nonexistent/p.yaml" }, NULL, 1,
	  "", "/nonexistent/p.yaml: No such file or directory", NULL, NULL },
	{ "policy apply without a file", { "policy", "apply", "--dry-run" }, NULL, 2, "",
	  "usage: policy apply FILE [--dry-run]", NULL, NULL },
	{ "policy diff", { "policy", "diff", POLICY_FILE }, NULL, 0,
	  "~ login (limit.rate, exceed)\n", "", "policy.diff", NULL },
	{ "policy diff -j", { "-j", "policy", "diff", POLICY_FILE }, NULL, 0,
	  "\"identical\": false", "", "policy.diff", NULL },
	{ "policy rollback", { "policy", "rollback" }, NULL, 0, "restored version 12 as version 14\n",
	  "", "policy.rollback", "null" },
	{ "class list", { "class", "list" }, NULL, 0, "bulk       flow    10Mbit  64KB   mark cs1\n",
	  "", "class.list", "null" },
	{ "class show", { "cl", "sh", "login" }, NULL, 0, "packets    1.23 M      345", "",
	  "class.show", "{\"name\": \"login\"}" },
	{ "class show of a missing class", { "class", "show", "nope" }, "error-noent", 1, "",
	  "sluicectl: no class 'nope' in policy version 12\n", "class.show", "{\"name\": \"nope\"}" },
	{ "class set", { "class", "set", "login", "rate", "10pps", "exceed", "mark:cs1" }, NULL, 0,
	  "applied version 13 (4 classes) in 41 ms\n", "", "class.set",
	  "{\"name\": \"login\", \"rate\": \"10pps\", \"exceed\": {\"mark\": 8}}" },
	{ "class set refused locally", { "class", "set", "login", "rate", "10" }, NULL, 2, "",
	  "rate: 10 has no unit", NULL, NULL },
	{ "class set refused locally, -j", { "-j", "class", "set", "login" }, NULL, 2,
	  "\"error\": \"nothing to set", "", NULL, NULL },
	{ "stats", { "stats" }, NULL, 0, "syn-flood          1000      500", "", "stats", "null" },
	{ "stats of a class", { "stats", "bulk" }, NULL, 0, "CLASS (packets)", "", "stats",
	  "{\"class\": \"bulk\"}" },
	{ "top", { "top", "syn-flood", "-n", "5" }, NULL, 0, "1.23 kpps", "", "top",
	  "{\"class\": \"syn-flood\", \"n\": 5}" },
	{ "top -j", { "-j", "top" }, NULL, 0, "\"error_pps\": 12", "", "top", "{}" },
	{ "EPERM from sluiced", { "status" }, "error-eperm", 1, "",
	  "sluicectl: permission denied: add your user to group sluice\n", "status", NULL },
	{ "EPERM from sluiced, -j", { "-j", "stats" }, "error-eperm", 1, "\"code\": \"EPERM\"", "",
	  "stats", NULL },
	{ "help of a verb", { "top", "help" }, NULL, 0, "Usage: sluicectl top [CLASS] [-n N]", "",
	  NULL, NULL },
	{ "help of a verb, -j", { "-j", "class", "set", "help" }, NULL, 0, "\"usage\":", "", NULL, NULL },
	{ "unknown class verb", { "class", "frob" }, NULL, 2, "", "unknown class verb 'frob'", NULL, NULL },
};

START_TEST(e2e_verbs)
{
	fake_start();
	for (size_t i = 0; i < N(e2e_cases); i++) {
		struct ctl_result r;
		json_t *last;

		fake_reset(e2e_cases[i].error);
		ctl_run(e2e_cases[i].args, &r);
		ck_assert_msg(r.status == e2e_cases[i].status, "%s: exit %d, expected %d\nstdout: %s\nstderr: %s",
			      e2e_cases[i].what, r.status, e2e_cases[i].status, r.out, r.err);
		ck_assert_msg(strstr(r.out, e2e_cases[i].out) != NULL, "%s: stdout lacks '%s':\n%s",
			      e2e_cases[i].what, e2e_cases[i].out, r.out);
		ck_assert_msg(strstr(r.err, e2e_cases[i].err) != NULL, "%s: stderr lacks '%s':\n%s",
			      e2e_cases[i].what, e2e_cases[i].err, r.err);
		/* -j: stdout is exactly one JSON document, errors included. */
		if (strcmp(e2e_cases[i].args[0], "-j") == 0) {
			json_t *doc = json_loads(r.out, 0, NULL);

			ck_assert_msg(doc != NULL, "%s: not JSON: %s", e2e_cases[i].what, r.out);
			ck_assert_msg(r.err[0] == '\0', "%s: stderr: %s", e2e_cases[i].what, r.err);
			json_decref(doc);
		}
		last = fake_last();
		if (e2e_cases[i].cmd == NULL) {
			ck_assert_msg(last == NULL, "%s: sent a request", e2e_cases[i].what);
		} else {
			ck_assert_msg(last != NULL, "%s: sent nothing", e2e_cases[i].what);
			ck_assert_str_eq(json_string_value(json_object_get(last, "cmd")), e2e_cases[i].cmd);
		}
		if (e2e_cases[i].req_args != NULL) {
			json_t *want = json_loads(e2e_cases[i].req_args, JSON_DECODE_ANY, NULL);

			ck_assert_ptr_nonnull(want);
			ck_assert_msg(json_equal(json_object_get(last, "args"), want),
				      "%s: sent %s", e2e_cases[i].what,
				      json_dumps(json_object_get(last, "args"), JSON_COMPACT));
			json_decref(want);
		}
		json_decref(last);
		ctl_free(&r);
	}
	fake_stop();
}
END_TEST

/* apply and diff send the file's text, its name as given, dry_run. */
START_TEST(e2e_apply_sends_the_file)
{
	static const char *const verbs[][4] = {
		{ "policy", "apply", POLICY_FILE, NULL },
		{ "policy", "apply", POLICY_FILE, "--dry-run" },
		{ "policy", "diff", POLICY_FILE, NULL },
	};
	char *text = file_read(POLICY_FILE);

	ck_assert_ptr_nonnull(text);
	fake_start();
	for (size_t i = 0; i < N(verbs); i++) {
		const char *args[5] = { verbs[i][0], verbs[i][1], verbs[i][2], verbs[i][3], NULL };
		struct ctl_result r;
		json_t *last, *a;

		ctl_run(args, &r);
		ck_assert_msg(r.status == 0, "%s %s: exit %d: %s", args[0], args[1], r.status, r.err);
		last = fake_last();
		a = json_object_get(last, "args");
		ck_assert_str_eq(json_string_value(json_object_get(a, "text")), text);
		ck_assert_str_eq(json_string_value(json_object_get(a, "name")), POLICY_FILE);
		if (strcmp(verbs[i][1], "apply") == 0)
			ck_assert(json_boolean_value(json_object_get(a, "dry_run")) ==
				  (verbs[i][3] != NULL));
		else
			ck_assert_ptr_null(json_object_get(a, "dry_run"));
		json_decref(last);
		ctl_free(&r);
	}
	fake_stop();
	free(text);
}
END_TEST

/* -j stats prints the daemon's result as it came: design.md's shape. */
START_TEST(e2e_stats_json_exact)
{
	const char *args[] = { "-j", "stats", NULL };
	json_t *want = sample("stats-1"), *got;
	struct ctl_result r;

	fake_start();
	ctl_run(args, &r);
	ck_assert_int_eq(r.status, 0);
	got = json_loads(r.out, 0, NULL);
	ck_assert_msg(got != NULL && json_equal(got, want), "stdout: %s", r.out);
	json_decref(got);
	json_decref(want);
	ctl_free(&r);
	fake_stop();
}
END_TEST

/* --watch -j: one compact document per sample, one per line. */
START_TEST(e2e_watch_json)
{
	const char *args[] = { "-j", "stats", "--watch", "0.1", "--count", "3", NULL };
	const char *names[] = { "stats-1", "stats-2", "stats-1" };
	struct ctl_result r;
	char *line, *save = NULL;
	int n = 0;

	fake_start();
	ctl_run(args, &r);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		json_t *got = json_loads(line, 0, NULL), *want;

		ck_assert_int_lt(n, 3);
		want = sample(names[n]);
		ck_assert_msg(got != NULL && json_equal(got, want), "line %d: %s", n, line);
		json_decref(got);
		json_decref(want);
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(fake_count(true), 3);
	ctl_free(&r);
	fake_stop();
}
END_TEST

/* --watch to a file: frames one after another, no screen clearing, rates. */
START_TEST(e2e_watch_text)
{
	const char *args[] = { "stats", "-w", "0.1", "-c", "2", NULL };
	struct ctl_result r;
	char *second, *narrow;

	fake_start();
	ctl_run(args, &r);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_ptr_null(strchr(r.out, '\033'));
	ck_assert_ptr_nonnull(strstr(r.out, "every 0.1 s  policy version 12\n"));
	second = strstr(r.out, "every 0.1 s  policy version 12  dataplane restarts 1\n");
	ck_assert_msg(second != NULL, "no second frame:\n%s", r.out);
	/* The first frame has no rate yet; the second does (2000 packets in ~0.1 s). */
	narrow = strstr(r.out, "delayed  pps  bit/s\n");
	ck_assert_msg(narrow != NULL && narrow < second, "first frame:\n%s", r.out);
	ck_assert_msg(strstr(second, "kpps") != NULL && strstr(second, "Gbit/s") != NULL,
		      "no rates in:\n%s", second);
	ctl_free(&r);
	fake_stop();
}
END_TEST

/* Ctrl-C ends a --watch without --count, with exit 0. */
START_TEST(e2e_watch_sigint)
{
	const char *args[] = { "-s", NULL, "stats", "--watch", "0.2", NULL };
	struct timespec nap = { .tv_nsec = 100 * 1000 * 1000 };
	struct ctl_result r;
	pid_t pid;

	fake_start();
	args[1] = fk.path;
	pid = ctl_spawn(args);
	/* Wait for the first sample, then a little into the next sleep. */
	for (int i = 0; i < 100 && fake_count(true) < 2; i++)
		nanosleep(&nap, NULL);
	ck_assert_int_ge(fake_count(true), 2);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ctl_wait(pid, &r);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "CLASS (packets)"));
	ctl_free(&r);
	fake_stop();
}
END_TEST

/* No sluiced at the path: a missing socket, a stale one, a missing dir. */
START_TEST(e2e_no_daemon)
{
	char stale[200], none[200], msg[400], want[420];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *paths[] = { stale, none };
	int fd;

	fake_start();
	snprintf(stale, sizeof(stale), "%s/stale.sock", fk.dir);
	snprintf(none, sizeof(none), "%s/none/sluiced.sock", fk.dir);
	/* A socket file nobody listens on: what a crashed daemon leaves. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_uint_lt(strlen(stale), sizeof(sa.sun_path));
	memcpy(sa.sun_path, stale, strlen(stale) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	for (size_t i = 0; i < N(paths); i++) {
		const char *text[] = { "-s", paths[i], "class", "list", NULL };
		const char *json[] = { "-j", "-s", paths[i], "stats", "-w", "1", NULL };
		struct ctl_result r;
		json_t *doc;

		snprintf(msg, sizeof(msg), "cannot reach sluiced at %s: is it running? (systemctl status sluiced)",
			 paths[i]);
		snprintf(want, sizeof(want), "sluicectl: %s\n", msg);
		ctl_wait(ctl_spawn(text), &r);
		ck_assert_int_eq(r.status, 1);
		ck_assert_str_eq(r.err, want);
		ck_assert_str_eq(r.out, "");
		ctl_free(&r);
		ctl_wait(ctl_spawn(json), &r);
		ck_assert_int_eq(r.status, 1);
		doc = json_loads(r.out, 0, NULL);
		ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
		ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), msg);
		ck_assert_str_eq(json_string_value(json_object_get(doc, "code")),
				 i == 0 ? "ECONNREFUSED" : "ENOENT");
		json_decref(doc);
		ctl_free(&r);
	}
	ck_assert_int_eq(fake_count(false), 0);
	fake_stop();
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *fmt = tcase_create("format");
	TCase *rend = tcase_create("render");
	TCase *args = tcase_create("args");
	TCase *errs = tcase_create("errors");
	TCase *e2e = tcase_create("e2e");

	tcase_add_test(fmt, fmt_rate);
	tcase_add_test(fmt, fmt_counts);
	tcase_add_test(fmt, fmt_times);
	tcase_add_test(rend, render_samples);
	tcase_add_test(rend, diff_identical);
	tcase_add_test(rend, exceed_text);
	tcase_add_test(rend, render_junk);
	tcase_add_test(args, class_set_args);
	tcase_add_test(args, stats_args);
	tcase_add_test(args, top_args);
	tcase_add_test(errs, local_errors);
	tcase_add_test(errs, server_errors);
	tcase_add_test(e2e, e2e_verbs);
	tcase_add_test(e2e, e2e_apply_sends_the_file);
	tcase_add_test(e2e, e2e_stats_json_exact);
	tcase_add_test(e2e, e2e_watch_json);
	tcase_add_test(e2e, e2e_watch_text);
	tcase_add_test(e2e, e2e_watch_sigint);
	tcase_add_test(e2e, e2e_no_daemon);
	tcase_set_timeout(e2e, 60);
	suite_add_tcase(s, fmt);
	suite_add_tcase(s, rend);
	suite_add_tcase(s, args);
	suite_add_tcase(s, errs);
	suite_add_tcase(s, e2e);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
