/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader tests: invalid policies with the exact place and message
 * of the first error, valid policies down to every model value, the value
 * parsers on their own, and the load time of a 10,000-class policy.
 */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The head of most cases: class 'a' on line 3, its fields from line 4. */
#define H "version: 1\nclasses:\n  - name: a\n"
/* Match fields from line 5, column 7. */
#define M H "    match:\n"
/* Limit fields from line 5, column 7. */
#define L H "    limit:\n"
/* A valid limit on line 4: class fields from line 5. */
#define LIM H "    limit: { key: src, rate: 1pps, burst: 1 }\n"
/* Ceiling fields from line 5, column 7. */
#define C H "    ceiling:\n"

static int load(const char *yaml, struct sl_policy **p, struct sl_diags *d)
{
	return sl_policy_load_buf("p.yaml", yaml, strlen(yaml), p, d);
}

/*
 * Where the sample policies are: $SLUICE_TEST_DATA, or next to this
 * source. __FILE__ is relative to the build root, which is the working
 * directory under meson test and the parent of this binary's directory.
 */
static const char *data_dir(void)
{
	static char dir[1024];
	char src[512], exe[512];
	ssize_t n;
	struct stat st;

	if (getenv("SLUICE_TEST_DATA") != NULL)
		return getenv("SLUICE_TEST_DATA");
	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(dir, sizeof(dir), "%s/../data/policies", dirname(src));
	if (stat(dir, &st) == 0 || dir[0] == '/')
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(src, sizeof(src), "%s", __FILE__);
		snprintf(dir, sizeof(dir), "%s/../%s/../data/policies",
			 dirname(exe), dirname(src));
	}
	return dir;
}

struct bad_case {
	const char *what;
	const char *yaml;
	uint32_t line, col;
	const char *msg;	/* a substring of the first diagnostic */
};

static const struct bad_case bad_cases[] = {
	/* The document as a whole. */
	{ "empty file", "", 1, 1, "empty policy" },
	{ "comments only", "# nothing here\n", 1, 1, "empty policy" },
	{ "root is a list", "- version: 1\n", 1, 1, "must be a mapping" },
	{ "unclosed flow list", "version: 1\nclasses: [\n", 3, 1,
	  "YAML syntax error: did not find expected node content" },
	{ "tab indentation", "version: 1\n\tclasses: []\n", 2, 1,
	  "found a tab character" },
	{ "second document", "version: 1\nclasses: []\n---\nversion: 1\n",
	  3, 1, "a policy is one YAML document; found a second one" },
	{ "alias", M "      proto: *p\n", 5, 14,
	  "aliases (*p) are not supported; write the value out" },
	{ "anchor", H "    match: &web { proto: tcp }\n", 4, 12,
	  "anchors (&web) are not supported; write the value out" },
	{ "invalid UTF-8", "version: 1\nclasses: [\xff]\n", 0, 0,
	  "invalid input" },
	/* Top level. */
	{ "version 2", "version: 2\nclasses: []\n", 1, 10,
	  "version: unsupported version 2 (this sluice reads version 1)" },
	{ "version text", "version: one\nclasses: []\n", 1, 10,
	  "version: expected 1, got 'one'" },
	{ "version list", "version: [1]\nclasses: []\n", 1, 10,
	  "version: expected a scalar, got a sequence" },
	{ "no version", "classes: []\n", 1, 1,
	  "missing required field 'version'" },
	{ "no classes", "version: 1\ndefault: drop\n", 1, 1,
	  "missing required field 'classes'" },
	{ "misspelt classes", "version: 1\nclases: []\n", 2, 1,
	  "unknown field 'clases' in the policy (did you mean 'classes'?)" },
	{ "default reject", "version: 1\ndefault: reject\nclasses: []\n", 2, 10,
	  "default: expected pass or drop, got 'reject'" },
	{ "duplicate version", "version: 1\nclasses: []\nversion: 1\n", 3, 1,
	  "duplicate field 'version' in the policy (first at line 1, column 1)" },
	{ "classes scalar", "version: 1\nclasses: all\n", 2, 10,
	  "classes: expected a sequence, got a scalar" },
	{ "classes empty value", "version: 1\nclasses:\n", 2, 9,
	  "write classes: [] for none" },
	/* Classes. */
	{ "class scalar", "version: 1\nclasses:\n  - web\n", 3, 5,
	  "classes: expected a mapping, got a scalar" },
	{ "class without name", "version: 1\nclasses:\n  - match: {}\n", 3, 5,
	  "missing required field 'name'" },
	{ "name with space", "version: 1\nclasses:\n  - name: web server\n",
	  3, 11, "may only contain letters, digits" },
	{ "name 64 chars", "version: 1\nclasses:\n  - name: "
	  "a123456789b123456789c123456789d123456789e123456789f123456789g123\n",
	  3, 11, "too long (64 characters, max 63)" },
	{ "duplicate class name",
	  "version: 1\nclasses:\n  - name: a\n  - name: b\n  - name: a\n",
	  5, 11, "duplicate class name 'a' (first at line 3)" },
	{ "misspelt limit", H "    limt: {}\n", 4, 5,
	  "unknown field 'limt' in class (did you mean 'limit'?)" },
	{ "field name a list", H "    ? [x]\n    : 1\n", 4, 7,
	  "expected a field name in class, got a sequence" },
	/* Match. */
	{ "match scalar", H "    match: tcp\n", 4, 12,
	  "match: expected a mapping, got a scalar" },
	{ "misspelt dport", M "      proto: tcp\n      dprot: 80\n", 6, 7,
	  "unknown field 'dprot' in match (did you mean 'dport'?)" },
	{ "duplicate dport",
	  M "      proto: tcp\n      dport: 80\n      dport: 81\n", 7, 7,
	  "duplicate field 'dport' in match (first at line 6, column 7)" },
	{ "merge key", M "      <<: { proto: udp }\n", 5, 7,
	  "merge keys (<<) are not supported in match" },
	{ "proto typo", M "      proto: tpc\n", 5, 14,
	  "proto: expected tcp, udp, icmp, icmpv6, sctp, any or a number 0..255, got 'tpc'" },
	{ "proto 256", M "      proto: 256\n", 5, 14, "got '256'" },
	{ "src not an address", M "      src: 10.0.0.300\n", 5, 12,
	  "src: '10.0.0.300' is not an IPv4 or IPv6 address" },
	{ "src host bits", M "      src: 203.0.113.1/24\n", 5, 12,
	  "src: 203.0.113.1/24 has host bits set; did you mean 203.0.113.0/24?" },
	{ "src /33", M "      src: 10.0.0.0/33\n", 5, 12,
	  "prefix length must be 0..32 for IPv4" },
	{ "dst v6 host bits, 2nd entry",
	  M "      dst: [192.0.2.0/24, 2001:db8::1/32]\n", 5, 27,
	  "dst: 2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?" },
	{ "dst /129", M "      dst: 2001:db8::/129\n", 5, 12,
	  "prefix length must be 0..128 for IPv6" },
	{ "src empty list", M "      src: []\n", 5, 12, "src: empty list" },
	{ "src mapping", M "      src: { a: 1 }\n", 5, 12,
	  "src: expected a value or a list of values, got a mapping" },
	{ "dport reversed", M "      proto: tcp\n      dport: 9000-80\n", 6, 14,
	  "dport: range 9000-80 is reversed" },
	{ "dport 70000", M "      proto: udp\n      dport: 70000\n", 6, 14,
	  "dport: 70000 is out of range (0..65535)" },
	{ "dport comma list", M "      proto: tcp\n      dport: 80,443\n", 6, 14,
	  "write several as a list" },
	{ "dport nested list", M "      proto: tcp\n      dport: [[80]]\n", 6, 15,
	  "dport: expected a scalar, got a sequence" },
	{ "dport open range", M "      proto: tcp\n      dport: 80-\n", 6, 14,
	  "is not a number 0..65535 or a range lo-hi" },
	{ "dport without proto", M "      dport: 53\n", 5, 7,
	  "dport: requires proto tcp, udp or sctp" },
	{ "sport with icmp", M "      proto: icmp\n      sport: 1\n", 6, 7,
	  "sport: requires proto tcp, udp or sctp" },
	{ "dport with proto any", M "      proto: any\n      dport: 1\n", 6, 7,
	  "dport: requires proto tcp, udp or sctp" },
	{ "tcp_flags with udp", M "      proto: udp\n      tcp_flags: syn\n", 6, 7,
	  "tcp_flags: requires proto tcp" },
	{ "tcp_flags unknown", M "      proto: tcp\n      tcp_flags: sin\n", 6, 18,
	  "tcp_flags: unknown flag 'sin'" },
	{ "tcp_flags set and negated",
	  M "      proto: tcp\n      tcp_flags: syn,!syn\n", 6, 18,
	  "both required and negated" },
	{ "tcp_flags outside mask",
	  M "      proto: tcp\n      tcp_flags: syn/ack\n", 6, 18,
	  "not in the mask" },
	{ "tcp_flags empty name",
	  M "      proto: tcp\n      tcp_flags: syn,,ack\n", 6, 18,
	  "empty flag name" },
	{ "tcp_flags unquoted !", M "      proto: tcp\n      tcp_flags: !ack\n",
	  6, 18, "unexpected YAML tag '!ack'" },
	{ "vlan 4096", M "      vlan: 4096\n", 5, 13,
	  "vlan: 4096 is out of range (0..4095)" },
	{ "dscp af44", M "      dscp: af44\n", 5, 13,
	  "dscp: 'af44' is not a DSCP" },
	{ "dscp 64 in list", M "      dscp: [ef, 64]\n", 5, 18,
	  "dscp: '64' is not a DSCP" },
	{ "payload bad regex", M "      proto: tcp\n      payload: '^GET ('\n", 6, 16,
	  "payload: Missing close parenthesis for group started at index 5." },
	{ "payload without proto", M "      payload: '^GET'\n", 5, 7,
	  "payload: requires proto tcp or udp (6 or 17)" },
	/* Limit. */
	{ "limit scalar", H "    limit: 100pps\n", 4, 12,
	  "limit: expected a mapping, got a scalar" },
	{ "limit without burst", L "      key: src\n      rate: 1pps\n", 5, 7,
	  "limit: missing required field 'burst'" },
	{ "misspelt rate", L "      key: src\n      rte: 1pps\n      burst: 1\n",
	  6, 7, "unknown field 'rte' in limit (did you mean 'rate'?)" },
	{ "key src/129", L "      key: src/129\n      rate: 1pps\n      burst: 1\n",
	  5, 12, "N of src/N must be 0..128" },
	{ "key host", L "      key: host\n      rate: 1pps\n      burst: 1\n",
	  5, 12, "key: expected src, dst, flow, none, src/N or dst/N, got 'host'" },
	{ "rate without unit", L "      key: src\n      rate: 100\n      burst: 1\n",
	  6, 13, "rate: 100 has no unit" },
	{ "rate mbit", L "      key: src\n      rate: 10mbit\n      burst: 1MB\n",
	  6, 13, "unknown unit 'mbit' in 10mbit (did you mean 'Mbit'?)" },
	{ "rate Mbps", L "      key: src\n      rate: 10Mbps\n      burst: 1MB\n",
	  6, 13, "(did you mean 'Mbit'?)" },
	{ "rate furlongs", L "      key: src\n      rate: 10fps\n      burst: 1\n",
	  6, 13, "expected pps, kpps, Mpps, bit, kbit, Mbit or Gbit" },
	{ "rate zero", L "      key: src\n      rate: 0pps\n      burst: 1\n",
	  6, 13, "rate: 0pps is zero" },
	{ "rate 401Gbit", L "      key: src\n      rate: 401Gbit\n      burst: 1MB\n",
	  6, 13, "rate: 401Gbit is above the maximum" },
	{ "rate 1.5bit", L "      key: src\n      rate: 1.5bit\n      burst: 1MB\n",
	  6, 13, "rate: 1.5bit is not a whole number of bits per second" },
	{ "rate a list", L "      key: src\n      rate: [1pps]\n      burst: 1\n",
	  6, 13, "rate: expected a scalar, got a sequence" },
	{ "rate empty", L "      key: src\n      rate: ''\n      burst: 1\n",
	  6, 13, "rate: '' is not a rate" },
	{ "byte burst, packet rate",
	  L "      key: src\n      rate: 200pps\n      burst: 64KB\n", 7, 14,
	  "burst: 64KB is in bytes but rate 200pps is in packets" },
	{ "packet burst, bit rate",
	  L "      key: src\n      rate: 10Mbit\n      burst: 400\n", 7, 14,
	  "burst: 400 is a packet count but rate 10Mbit is in bits" },
	{ "burst below a frame",
	  L "      key: src\n      rate: 10Mbit\n      burst: 1000B\n", 7, 14,
	  "burst 1000B is smaller than one frame (1522B)" },
	{ "burst zero packets",
	  L "      key: src\n      rate: 10pps\n      burst: 0\n", 7, 14,
	  "burst 0 is zero" },
	{ "burst 5GB", L "      key: src\n      rate: 10Gbit\n      burst: 5GB\n",
	  7, 14, "burst 5368709120B is above the maximum 4GB" },
	{ "burst 1.5KB", L "      key: src\n      rate: 10Gbit\n      burst: 1.5KB\n",
	  7, 14, "burst: '1.5KB' is not a burst" },
	{ "burst kb", L "      key: src\n      rate: 10Gbit\n      burst: 64kb\n",
	  7, 14, "unknown unit 'kb' in 64kb (did you mean 'KB'?)" },
	/* Ceiling. */
	{ "ceiling scalar", H "    ceiling: 2000pps\n", 4, 14,
	  "ceiling: expected a mapping, got a scalar" },
	{ "ceiling without burst", C "      rate: 1pps\n", 5, 7,
	  "ceiling: missing required field 'burst'" },
	{ "ceiling without rate", C "      burst: 10\n", 5, 7,
	  "ceiling: missing required field 'rate'" },
	{ "ceiling with a key", C "      key: src\n      rate: 1pps\n      burst: 1\n",
	  5, 7, "ceiling: has no key: it is one bucket for all keys of the class" },
	{ "misspelt ceiling", H "    cieling: { rate: 1pps, burst: 1 }\n", 4, 5,
	  "unknown field 'cieling' in class (did you mean 'ceiling'?)" },
	{ "misspelt burst in ceiling", C "      rate: 1pps\n      brust: 1\n", 6, 7,
	  "unknown field 'brust' in ceiling (did you mean 'burst'?)" },
	{ "ceiling rate mbit", C "      rate: 10mbit\n      burst: 1MB\n", 5, 13,
	  "rate: unknown unit 'mbit' in 10mbit (did you mean 'Mbit'?)" },
	{ "ceiling rate zero", C "      rate: 0pps\n      burst: 1\n", 5, 13,
	  "rate: 0pps is zero" },
	{ "ceiling byte burst, packet rate", C "      rate: 2000pps\n      burst: 64KB\n",
	  6, 14, "burst: 64KB is in bytes but rate 2000pps is in packets" },
	{ "ceiling packet burst, bit rate", C "      rate: 1Gbit\n      burst: 2000\n",
	  6, 14, "burst: 2000 is a packet count but rate 1Gbit is in bits" },
	{ "ceiling burst below a frame", C "      rate: 1Gbit\n      burst: 1KB\n",
	  6, 14, "burst 1024B is smaller than one frame (1522B)" },
	{ "ceiling burst zero", C "      rate: 1pps\n      burst: 0\n", 6, 14,
	  "burst 0 is zero" },
	{ "ceiling of 146 years", C "      rate: 1pps\n      burst: 5000000000\n",
	  6, 14, "ceiling: burst 5000000000 takes more than 146 years to earn at 1pps" },
	{ "duplicate ceiling",
	  H "    ceiling: { rate: 1pps, burst: 1 }\n    ceiling: { rate: 2pps, burst: 1 }\n",
	  5, 5, "duplicate field 'ceiling' in class (first at line 4, column 5)" },
	/* Exceed. */
	{ "exceed without limit", H "    exceed: drop\n", 4, 5,
	  "exceed: has no effect without a limit or a ceiling" },
	{ "exceed reject", LIM "    exceed: reject\n", 5, 13,
	  "exceed: expected drop, monitor, {mark: DSCP} or {shape: DELAY}, got 'reject'" },
	{ "mark cs9", LIM "    exceed: { mark: cs9 }\n", 5, 21,
	  "mark: 'cs9' is not a DSCP" },
	{ "mark without value", LIM "    exceed: mark\n", 5, 13,
	  "exceed: mark needs a value: {mark: DSCP}" },
	{ "shape without unit", LIM "    exceed: { shape: 50 }\n", 5, 22,
	  "shape: 50 has no unit (expected ns, us, ms or s)" },
	{ "shape 2s", LIM "    exceed: { shape: 2s }\n", 5, 22,
	  "shape: 2s is above the maximum 1s" },
	{ "shape 1001ms", LIM "    exceed: { shape: 1001ms }\n", 5, 22,
	  "shape: 1001ms is above the maximum 1s" },
	{ "shape zero", LIM "    exceed: { shape: 0ms }\n", 5, 22,
	  "shape: 0ms is zero" },
	{ "shape 1.5ns", LIM "    exceed: { shape: 1.5ns }\n", 5, 22,
	  "shape: 1.5ns is not a whole number of nanoseconds" },
	{ "shape minutes", LIM "    exceed: { shape: 1min }\n", 5, 22,
	  "shape: unknown unit 'min' in 1min (expected ns, us, ms or s)" },
	{ "shape a list", LIM "    exceed: { shape: [50ms] }\n", 5, 22,
	  "shape: expected a scalar, got a sequence" },
	{ "shape without value", LIM "    exceed: shape\n", 5, 13,
	  "exceed: shape needs a value: {shape: DELAY}" },
	{ "two actions", LIM "    exceed: { mark: 1, shape: 2ms }\n", 5, 13,
	  "exceed: expected one action" },
	{ "exceed typo", LIM "    exceed: { makr: ef }\n", 5, 15,
	  "unknown field 'makr' in exceed (did you mean 'mark'?)" },
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct sl_policy *p = (struct sl_policy *)1;
	struct sl_diags d;
	int rc;

	rc = load(c->yaml, &p, &d);
	ck_assert_msg(rc == -EINVAL, "%s: rc %d", c->what, rc);
	ck_assert_msg(p == NULL, "%s: policy returned", c->what);
	ck_assert_msg(d.n >= 1, "%s: no diagnostic", c->what);
	ck_assert_str_eq(d.file, "p.yaml");
	ck_assert_msg(d.diag[0].pos.line == c->line && d.diag[0].pos.col == c->col,
		      "%s: at %u:%u, expected %u:%u (%s)", c->what,
		      d.diag[0].pos.line, d.diag[0].pos.col, c->line, c->col,
		      d.diag[0].msg);
	ck_assert_msg(strstr(d.diag[0].msg, c->msg) != NULL,
		      "%s: message '%s' lacks '%s'", c->what, d.diag[0].msg,
		      c->msg);
}
END_TEST

/* A policy whose classes list is built by the caller's printf pattern. */
static char *gen_classes(unsigned int n, const char *pattern)
{
	size_t cap = 64 + (size_t)n * (strlen(pattern) + 64), len;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	len = (size_t)snprintf(buf, cap, "version: 1\nclasses:\n");
	for (unsigned int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, pattern, i,
					i / 256, i % 256, 1000 + i % 60000);
	return buf;
}

START_TEST(test_too_many_classes)
{
	char *y = gen_classes(SL_CLASSES_MAX + 1, "  - name: c%u\n");
	struct sl_policy *p;
	struct sl_diags d;

	ck_assert_int_eq(load(y, &p, &d), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(d.diag[0].pos.line, 3);
	ck_assert_uint_eq(d.diag[0].pos.col, 3);
	ck_assert_ptr_nonnull(strstr(d.diag[0].msg,
				     "classes: too many classes (16385, max 16384)"));
	free(y);
}
END_TEST

/* A src list of n addresses 10.0.x.y. */
static char *gen_src_list(unsigned int n)
{
	char *buf = malloc(128 + (size_t)n * 20);
	size_t len;

	ck_assert_ptr_nonnull(buf);
	len = (size_t)sprintf(buf, "%s      src: [", M);
	for (unsigned int i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%s10.0.%u.%u", i ? ", " : "",
				       i / 256, i % 256);
	sprintf(buf + len, "]\n");
	return buf;
}

START_TEST(test_list_limit)
{
	char *y = gen_src_list(SL_MATCH_LIST_MAX + 1);
	struct sl_policy *p;
	struct sl_diags d;

	ck_assert_int_eq(load(y, &p, &d), -EINVAL);
	ck_assert_uint_eq(d.diag[0].pos.line, 5);
	ck_assert_uint_eq(d.diag[0].pos.col, 12);
	ck_assert_ptr_nonnull(strstr(d.diag[0].msg,
				     "src: too many entries (257, max 256)"));
	free(y);

	y = gen_src_list(SL_MATCH_LIST_MAX);
	ck_assert_int_eq(load(y, &p, &d), 0);
	ck_assert_uint_eq(p->classes[0].match.n_src, SL_MATCH_LIST_MAX);
	ck_assert_uint_eq(p->classes[0].match.src[255].addr[2], 0);
	ck_assert_uint_eq(p->classes[0].match.src[255].addr[3], 255);
	sl_policy_free(p);
	free(y);
}
END_TEST

static struct sl_policy *load_ok(const char *yaml)
{
	struct sl_policy *p;
	struct sl_diags d;
	int rc = load(yaml, &p, &d);

	if (rc != 0)
		sl_diags_print(&d, stderr);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(d.n, 0);
	return p;
}

static struct sl_policy *load_data(const char *file)
{
	char path[1024];
	struct sl_policy *p;
	struct sl_diags d;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), file);
	rc = sl_policy_load_file(path, &p, &d);
	if (rc != 0)
		sl_diags_print(&d, stderr);
	ck_assert_int_eq(rc, 0);
	return p;
}

static void assert_prefix(const struct sl_prefix *p, const char *want)
{
	char buf[64];

	ck_assert_str_eq(sl_prefix_format(p, buf, sizeof(buf)), want);
}

START_TEST(test_design_example)
{
	struct sl_policy *p = load_data("good-design.yaml");
	const struct sl_class *c;

	ck_assert_uint_eq(p->version, 1);
	ck_assert_int_eq(p->default_action, SL_DEFAULT_PASS);
	ck_assert_uint_eq(p->n_classes, 3);

	c = &p->classes[0];
	ck_assert_str_eq(c->name, "syn-flood");
	ck_assert_uint_eq(c->pos.line, 5);
	ck_assert_uint_eq(c->pos.col, 5);
	ck_assert_uint_eq(c->match.fields, SL_M_PROTO | SL_M_TCP_FLAGS | SL_M_DST);
	ck_assert_int_eq(c->match.proto, 6);
	ck_assert_uint_eq(c->match.tcp_flags, SL_TCP_SYN);
	ck_assert_uint_eq(c->match.tcp_mask, SL_TCP_SYN | SL_TCP_ACK);
	ck_assert_uint_eq(c->match.n_dst, 2);
	ck_assert_uint_eq(c->match.dst[0].family, 4);
	assert_prefix(&c->match.dst[0], "203.0.113.0/24");
	ck_assert_uint_eq(c->match.dst[1].family, 6);
	assert_prefix(&c->match.dst[1], "2001:db8::/32");
	ck_assert(c->has_limit);
	ck_assert_int_eq(c->limit.key, SL_KEY_SRC);
	ck_assert_uint_eq(c->limit.prefix_len, 128);
	ck_assert_int_eq(c->limit.unit, SL_UNIT_PACKETS);
	ck_assert_uint_eq(c->limit.rate, 200);
	ck_assert_uint_eq(c->limit.burst, 400);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_DROP);

	c = sl_policy_class(p, "bulk");
	ck_assert_ptr_eq(c, &p->classes[1]);
	ck_assert_uint_eq(c->match.fields, SL_M_PROTO | SL_M_DPORT);
	ck_assert_int_eq(c->match.proto, 17);
	ck_assert_uint_eq(c->match.n_dport, 1);
	ck_assert_uint_eq(c->match.dport[0].lo, 5000);
	ck_assert_uint_eq(c->match.dport[0].hi, 5999);
	ck_assert_int_eq(c->limit.key, SL_KEY_FLOW);
	ck_assert_int_eq(c->limit.unit, SL_UNIT_BITS);
	ck_assert_uint_eq(c->limit.rate, 10000000);
	ck_assert_uint_eq(c->limit.burst, 65536);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_MARK);
	ck_assert_uint_eq(c->exceed.dscp, 8);

	c = sl_policy_class(p, "watch-dns");
	ck_assert_ptr_eq(c, &p->classes[2]);
	ck_assert_uint_eq(c->match.dport[0].lo, 53);
	ck_assert_uint_eq(c->match.dport[0].hi, 53);
	ck_assert_uint_eq(c->limit.rate, 100);
	ck_assert_uint_eq(c->limit.burst, 100);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_MONITOR);

	ck_assert_ptr_null(sl_policy_class(p, "login"));
	ck_assert_ptr_null(sl_policy_class(p, "syn"));
	sl_policy_free(p);
}
END_TEST

START_TEST(test_all_fields)
{
	struct sl_policy *p = load_data("good-all-fields.yaml");
	const struct sl_class *c;
	const struct sl_match *m;

	ck_assert_int_eq(p->default_action, SL_DEFAULT_DROP);
	ck_assert_uint_eq(p->n_classes, 5);

	c = &p->classes[0];
	m = &c->match;
	ck_assert_str_eq(c->name, "web_v4.in");
	ck_assert_uint_eq(m->fields, SL_M_PROTO | SL_M_SRC | SL_M_DST |
			  SL_M_SPORT | SL_M_DPORT | SL_M_TCP_FLAGS | SL_M_VLAN |
			  SL_M_DSCP);
	ck_assert_int_eq(m->proto, 6);
	ck_assert_uint_eq(m->n_src, 1);
	ck_assert_uint_eq(m->src[0].family, 4);
	ck_assert_uint_eq(m->src[0].len, 32);
	ck_assert_mem_eq(m->src[0].addr, "\xc6\x33\x64\x07", 4);
	ck_assert_uint_eq(m->n_dst, 2);
	assert_prefix(&m->dst[0], "192.0.2.0/24");
	ck_assert_uint_eq(m->dst[1].family, 6);
	ck_assert_uint_eq(m->dst[1].len, 48);
	ck_assert_mem_eq(m->dst[1].addr,
			 "\x20\x01\x0d\xb8\x00\x01\0\0\0\0\0\0\0\0\0\0", 16);
	ck_assert_uint_eq(m->n_sport, 1);
	ck_assert_uint_eq(m->sport[0].lo, 1024);
	ck_assert_uint_eq(m->sport[0].hi, 65535);
	ck_assert_uint_eq(m->n_dport, 3);
	ck_assert_uint_eq(m->dport[0].lo, 80);
	ck_assert_uint_eq(m->dport[0].hi, 80);
	ck_assert_uint_eq(m->dport[1].lo, 443);
	ck_assert_uint_eq(m->dport[2].lo, 8000);
	ck_assert_uint_eq(m->dport[2].hi, 8099);
	ck_assert_uint_eq(m->tcp_flags, SL_TCP_SYN);
	ck_assert_uint_eq(m->tcp_mask, SL_TCP_SYN | SL_TCP_ACK);
	ck_assert_uint_eq(m->n_vlan, 2);
	ck_assert_uint_eq(m->vlan[0].lo, 10);
	ck_assert_uint_eq(m->vlan[0].hi, 10);
	ck_assert_uint_eq(m->vlan[1].lo, 100);
	ck_assert_uint_eq(m->vlan[1].hi, 199);
	ck_assert_uint_eq(m->dscp, (1ull << 46) | (1ull << 34) | 1ull);
	ck_assert_ptr_null(m->payload);
	ck_assert_int_eq(c->limit.key, SL_KEY_SRC);
	ck_assert_uint_eq(c->limit.prefix_len, 24);
	ck_assert_int_eq(c->limit.unit, SL_UNIT_BITS);
	ck_assert_uint_eq(c->limit.rate, 1500000);
	ck_assert_uint_eq(c->limit.burst, 1048576);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_MARK);
	ck_assert_uint_eq(c->exceed.dscp, 10);

	c = sl_policy_class(p, "icmp-any");
	ck_assert_uint_eq(c->match.fields, SL_M_PROTO);
	ck_assert_int_eq(c->match.proto, 1);
	ck_assert_int_eq(c->limit.key, SL_KEY_NONE);
	ck_assert_int_eq(c->limit.unit, SL_UNIT_PACKETS);
	ck_assert_uint_eq(c->limit.rate, 2000);
	ck_assert_uint_eq(c->limit.burst, 50);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_DROP);

	c = sl_policy_class(p, "v6-ping");
	ck_assert_uint_eq(c->match.fields, SL_M_PROTO | SL_M_SRC | SL_M_DSCP);
	ck_assert_int_eq(c->match.proto, 58);
	assert_prefix(&c->match.src[0], "::/0");
	ck_assert_uint_eq(c->match.dscp, 1);
	ck_assert_int_eq(c->limit.key, SL_KEY_DST);
	ck_assert_uint_eq(c->limit.prefix_len, 64);
	ck_assert_uint_eq(c->limit.rate, 1000000000);
	ck_assert_uint_eq(c->limit.burst, 1522);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_MONITOR);

	c = sl_policy_class(p, "tcp-flags");
	ck_assert_uint_eq(c->match.tcp_flags, SL_TCP_SYN);
	ck_assert_uint_eq(c->match.tcp_mask, SL_TCP_SYN | SL_TCP_ACK | SL_TCP_RST);
	ck_assert(!c->has_limit);

	/* No match, no limit: every packet, every one conforms. */
	c = sl_policy_class(p, "everything-else");
	ck_assert_uint_eq(c->match.fields, 0);
	ck_assert_int_eq(c->match.proto, SL_PROTO_ANY);
	ck_assert(!c->has_limit);
	ck_assert_int_eq(c->exceed.action, SL_EXCEED_DROP);
	sl_policy_free(p);
}
END_TEST

/* Defaults, quoting, flow vs block style, aliases, "any". */
/* shape: the delay in ns, the action, in block and flow style. */
START_TEST(test_shape)
{
	struct sl_policy *p;

	p = load_ok(LIM "    exceed: { shape: 50ms }\n"
		    "  - name: b\n    limit: { key: none, rate: 1Mbit, burst: 64KB }\n"
		    "    exceed:\n      shape: 1s\n");
	ck_assert_int_eq(p->classes[0].exceed.action, SL_EXCEED_SHAPE);
	ck_assert_uint_eq(p->classes[0].exceed.shape_ns, 50000000);
	ck_assert_int_eq(p->classes[1].exceed.action, SL_EXCEED_SHAPE);
	ck_assert_uint_eq(p->classes[1].exceed.shape_ns, SL_SHAPE_DELAY_MAX_NS);
	sl_policy_free(p);
}
END_TEST

START_TEST(test_defaults_and_styles)
{
	struct sl_policy *p;

	p = load_ok("version: 1\nclasses: []\n");
	ck_assert_int_eq(p->default_action, SL_DEFAULT_PASS);
	ck_assert_uint_eq(p->n_classes, 0);
	ck_assert_ptr_null(sl_policy_class(p, "a"));
	sl_policy_free(p);

	/* All in flow style, every value quoted. */
	p = load_ok("{version: '1', default: \"drop\", classes: [{name: 'x', "
		    "match: {proto: \"udp\", dport: '53'}, "
		    "limit: {key: 'none', rate: '1 kpps', burst: \"5\"}}]}\n");
	ck_assert_int_eq(p->default_action, SL_DEFAULT_DROP);
	ck_assert_str_eq(p->classes[0].name, "x");
	ck_assert_int_eq(p->classes[0].match.proto, 17);
	ck_assert_uint_eq(p->classes[0].match.dport[0].hi, 53);
	ck_assert_uint_eq(p->classes[0].limit.rate, 1000);
	ck_assert_uint_eq(p->classes[0].limit.burst, 5);
	sl_policy_free(p);

	/* proto any restricts nothing; an empty match matches everything. */
	p = load_ok(H "    match: { proto: any }\n  - name: b\n    match: {}\n");
	ck_assert_uint_eq(p->classes[0].match.fields, 0);
	ck_assert_int_eq(p->classes[0].match.proto, SL_PROTO_ANY);
	ck_assert_uint_eq(p->classes[1].match.fields, 0);
	ck_assert_int_eq(p->classes[1].match.proto, SL_PROTO_ANY);
	sl_policy_free(p);
}
END_TEST

/*
 * Anchors and aliases are refused (the loader walks libyaml's events and
 * does not resolve them), each where it is written.
 */
START_TEST(test_aliases)
{
	static const char *y =
		"version: 1\n"
		"classes:\n"
		"  - name: a\n"
		"    match: &web { proto: tcp, dport: [80, 443] }\n"
		"    limit: &lim { key: src, rate: 10pps, burst: 20 }\n"
		"  - name: b\n"
		"    match: *web\n"
		"    limit: *lim\n"
		"    exceed: monitor\n";
	static const uint32_t lines[] = { 4, 5, 7, 8 };
	struct sl_policy *p;
	struct sl_diags d;
	size_t i;

	ck_assert_int_eq(load(y, &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, N(lines));
	for (i = 0; i < N(lines); i++) {
		ck_assert_uint_eq(d.diag[i].pos.line, lines[i]);
		ck_assert_uint_eq(d.diag[i].pos.col, 12);
	}
	ck_assert_ptr_nonnull(strstr(d.diag[3].msg, "aliases (*lim)"));
}
END_TEST

struct key_case {
	const char *key;
	enum sl_key_type type;
	uint8_t prefix_len;
};

static const struct key_case key_cases[] = {
	{ "src", SL_KEY_SRC, 128 }, { "dst", SL_KEY_DST, 128 },
	{ "flow", SL_KEY_FLOW, 0 }, { "none", SL_KEY_NONE, 0 },
	{ "src/24", SL_KEY_SRC, 24 }, { "dst/0", SL_KEY_DST, 0 },
	{ "src/64", SL_KEY_SRC, 64 }, { "dst/128", SL_KEY_DST, 128 },
};

START_TEST(test_keys)
{
	const struct key_case *k = &key_cases[_i];
	struct sl_policy *p;
	char y[256];

	snprintf(y, sizeof(y), H "    limit: { key: '%s', rate: 1pps, burst: 1 }\n",
		 k->key);
	p = load_ok(y);
	ck_assert_int_eq(p->classes[0].limit.key, k->type);
	ck_assert_uint_eq(p->classes[0].limit.prefix_len, k->prefix_len);
	sl_policy_free(p);
}
END_TEST

struct ceiling_case {
	const char *what;
	const char *yaml;	/* class fields from line 4 */
	bool has_limit;
	enum sl_rate_unit unit;
	uint64_t rate, burst;
	enum sl_exceed_action action;
};

/* The forms a ceiling is written in, with and without a limit. */
static const struct ceiling_case ceiling_cases[] = {
	{ "with a limit", "    limit: { key: src, rate: 10pps, burst: 20 }\n"
	  "    ceiling: { rate: 2000pps, burst: 2000 }\n", true,
	  SL_UNIT_PACKETS, 2000, 2000, SL_EXCEED_DROP },
	{ "before the limit, block style", "    ceiling:\n      burst: 5\n"
	  "      rate: 1.5kpps\n    limit: { key: flow, rate: 1pps, burst: 1 }\n",
	  true, SL_UNIT_PACKETS, 1500, 5, SL_EXCEED_DROP },
	{ "alone, with exceed", "    ceiling: { rate: 1Mpps, burst: 100 }\n"
	  "    exceed: monitor\n", false, SL_UNIT_PACKETS, 1000000, 100,
	  SL_EXCEED_MONITOR },
	{ "in bits, limit in packets", "    limit: { key: src, rate: 5pps, burst: 10 }\n"
	  "    ceiling: { rate: 10Mbit, burst: 64KB }\n    exceed: { mark: cs1 }\n",
	  true, SL_UNIT_BITS, 10000000, 65536, SL_EXCEED_MARK },
	{ "largest", "    ceiling: { rate: 400Gbit, burst: 4GB }\n", false,
	  SL_UNIT_BITS, 400000000000ULL, 4ULL << 30, SL_EXCEED_DROP },
	{ "smallest", "    ceiling: { rate: 1bit, burst: 1522B }\n", false,
	  SL_UNIT_BITS, 1, 1522, SL_EXCEED_DROP },
	{ "just under 146 years", "    ceiling: { rate: 1pps, burst: 4611686017 }\n",
	  false, SL_UNIT_PACKETS, 1, 4611686017ULL, SL_EXCEED_DROP },
};

START_TEST(test_ceilings)
{
	const struct ceiling_case *k = &ceiling_cases[_i];
	const struct sl_class *c;
	struct sl_policy *p;
	char y[512];

	snprintf(y, sizeof(y), H "%s", k->yaml);
	p = load_ok(y);
	c = &p->classes[0];
	ck_assert_msg(c->has_ceiling, "%s", k->what);
	ck_assert_int_eq(c->has_limit, k->has_limit);
	ck_assert_int_eq(c->ceiling.unit, k->unit);
	ck_assert_uint_eq(c->ceiling.rate, k->rate);
	ck_assert_uint_eq(c->ceiling.burst, k->burst);
	ck_assert_int_eq(c->exceed.action, k->action);
	sl_policy_free(p);
}
END_TEST

struct proto_case {
	const char *proto;
	int want;
};

static const struct proto_case proto_cases[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "any", SL_PROTO_ANY }, { "0", 0 }, { "47", 47 },
	{ "255", 255 }, { "TCP", 6 },
};

START_TEST(test_protos)
{
	const struct proto_case *c = &proto_cases[_i];
	struct sl_policy *p;
	char y[256];

	snprintf(y, sizeof(y), M "      proto: %s\n", c->proto);
	p = load_ok(y);
	ck_assert_int_eq(p->classes[0].match.proto, c->want);
	/* "any" restricts nothing, so it does not set the field. */
	ck_assert_uint_eq(p->classes[0].match.fields & SL_M_PROTO,
			  c->want == SL_PROTO_ANY ? 0 : SL_M_PROTO);
	sl_policy_free(p);
}
END_TEST

struct rate_case {
	const char *s;
	int rc;
	uint64_t rate;
	enum sl_rate_unit unit;
};

static const struct rate_case rate_cases[] = {
	{ "1pps", 0, 1, SL_UNIT_PACKETS },
	{ "200pps", 0, 200, SL_UNIT_PACKETS },
	{ "2kpps", 0, 2000, SL_UNIT_PACKETS },
	{ "0.5kpps", 0, 500, SL_UNIT_PACKETS },
	{ "14.88Mpps", 0, 14880000, SL_UNIT_PACKETS },
	{ "1bit", 0, 1, SL_UNIT_BITS },
	{ "64kbit", 0, 64000, SL_UNIT_BITS },
	{ "1.5Mbit", 0, 1500000, SL_UNIT_BITS },
	{ "1.250000Mbit", 0, 1250000, SL_UNIT_BITS },
	{ "0.000001Mbit", 0, 1, SL_UNIT_BITS },
	{ "10 Gbit", 0, 10000000000ull, SL_UNIT_BITS },
	{ "400Gbit", 0, 400000000000ull, SL_UNIT_BITS },
	{ "400000Mpps", 0, 400000000000ull, SL_UNIT_PACKETS },
	{ "400.000000001Gbit", -EINVAL, 0, 0 },
	{ "400000000001bit", -EINVAL, 0, 0 },
	{ "99999999999999999999999Gbit", -EINVAL, 0, 0 },
	{ "0.0000001Mbit", -EINVAL, 0, 0 },
	{ "0.5pps", -EINVAL, 0, 0 },
	{ "0Gbit", -EINVAL, 0, 0 },
	{ "-1pps", -EINVAL, 0, 0 },
	{ "1e3pps", -EINVAL, 0, 0 },
	{ "pps", -EINVAL, 0, 0 },
	{ "10", -EINVAL, 0, 0 },
	{ "10Kpps", -EINVAL, 0, 0 },
	{ "10MBit", -EINVAL, 0, 0 },
};

START_TEST(test_rate_parse)
{
	const struct rate_case *c = &rate_cases[_i];
	enum sl_rate_unit unit = 99;
	uint64_t rate = 0;
	char err[256] = "";
	int rc;

	rc = sl_rate_parse(c->s, &rate, &unit, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->s, rc, err);
	if (rc == 0) {
		ck_assert_uint_eq(rate, c->rate);
		ck_assert_int_eq(unit, c->unit);
	} else {
		ck_assert_msg(err[0] != '\0', "%s: no message", c->s);
	}
}
END_TEST

struct delay_case {
	const char *s;
	int rc;
	uint64_t ns;
};

static const struct delay_case delay_cases[] = {
	{ "50ms", 0, 50000000 },
	{ "1.5ms", 0, 1500000 },
	{ "200us", 0, 200000 },
	{ "1s", 0, 1000000000 },
	{ "1000000000ns", 0, 1000000000 },
	{ "0.000000001s", 0, 1 },
	{ "0.5s", 0, 500000000 },
	{ " 20 MS ", 0, 20000000 },
	{ "1ns", 0, 1 },
	{ "1.000000001s", -EINVAL, 0 },
	{ "1000000001ns", -EINVAL, 0 },
	{ "0.0000000001s", -EINVAL, 0 },
	{ "0us", -EINVAL, 0 },
	{ "ms", -EINVAL, 0 },
	{ "-5ms", -EINVAL, 0 },
	{ "1e3ms", -EINVAL, 0 },
	{ "50", -EINVAL, 0 },
	{ "99999999999999999999999s", -EINVAL, 0 },
};

START_TEST(test_delay_parse)
{
	const struct delay_case *c = &delay_cases[_i];
	uint64_t ns = 0;
	char err[256] = "";
	int rc;

	rc = sl_delay_parse(c->s, &ns, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->s, rc, err);
	if (rc == 0)
		ck_assert_uint_eq(ns, c->ns);
	else
		ck_assert_msg(err[0] != '\0', "%s: no message", c->s);
}
END_TEST

struct burst_case {
	const char *s;
	int rc;
	uint64_t burst;
	enum sl_rate_unit unit;
};

static const struct burst_case burst_cases[] = {
	{ "1", 0, 1, SL_UNIT_PACKETS },
	{ "400", 0, 400, SL_UNIT_PACKETS },
	{ "1522B", 0, 1522, SL_UNIT_BITS },
	{ "64KB", 0, 65536, SL_UNIT_BITS },
	{ "2MB", 0, 2097152, SL_UNIT_BITS },
	{ "1GB", 0, 1073741824, SL_UNIT_BITS },
	{ "3 MiB", 0, 3145728, SL_UNIT_BITS },
	{ "64kb", -EINVAL, 0, 0 },
	{ "1.5KB", -EINVAL, 0, 0 },
	{ "KB", -EINVAL, 0, 0 },
	{ "99999999999999999999", -EINVAL, 0, 0 },
	{ "9999999999999999GB", -EINVAL, 0, 0 },
	{ "10pkts", -EINVAL, 0, 0 },
};

START_TEST(test_burst_parse)
{
	const struct burst_case *c = &burst_cases[_i];
	enum sl_rate_unit unit = 99;
	uint64_t burst = 0;
	char err[256] = "";
	int rc;

	rc = sl_burst_parse(c->s, &burst, &unit, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->s, rc, err);
	if (rc == 0) {
		ck_assert_uint_eq(burst, c->burst);
		ck_assert_int_eq(unit, c->unit);
	}
}
END_TEST

struct limit_case {
	struct sl_limit l;
	int rc;
};

static const struct limit_case limit_cases[] = {
	{ { .unit = SL_UNIT_PACKETS, .rate = 1, .burst = 1 }, 0 },
	{ { .unit = SL_UNIT_PACKETS, .rate = 1, .burst = 0 }, -EINVAL },
	{ { .unit = SL_UNIT_PACKETS, .rate = 0, .burst = 1 }, -EINVAL },
	{ { .unit = SL_UNIT_BITS, .rate = 400000000000ull, .burst = 1522 }, 0 },
	{ { .unit = SL_UNIT_BITS, .rate = 400000000001ull, .burst = 1522 }, -EINVAL },
	{ { .unit = SL_UNIT_BITS, .rate = 1, .burst = 1521 }, -EINVAL },
	{ { .unit = SL_UNIT_BITS, .rate = 1, .burst = 4ull << 30 }, 0 },
	{ { .unit = SL_UNIT_BITS, .rate = 1, .burst = (4ull << 30) + 1 }, -EINVAL },
	{ { .unit = SL_UNIT_PACKETS, .rate = 1, .burst = 32ull << 30 }, 0 },
	{ { .unit = SL_UNIT_PACKETS, .rate = 1, .burst = (32ull << 30) + 1 }, -EINVAL },
};

START_TEST(test_limit_check)
{
	const struct limit_case *c = &limit_cases[_i];
	char err[256];

	ck_assert_int_eq(sl_limit_check(&c->l, err, sizeof(err)), c->rc);
}
END_TEST

struct flags_case {
	const char *s;
	int rc;
	uint8_t flags, mask;
};

static const struct flags_case flags_cases[] = {
	{ "syn", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "SYN", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "ack", 0, SL_TCP_ACK, SL_TCP_ACK },
	{ "rst", 0, SL_TCP_RST, SL_TCP_RST },
	{ "fin", 0, SL_TCP_FIN, SL_TCP_FIN },
	{ "syn,ack", 0, SL_TCP_SYN | SL_TCP_ACK, SL_TCP_SYN | SL_TCP_ACK },
	{ "syn,!ack", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "syn, !ack", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "!ack", 0, 0, SL_TCP_ACK },
	{ "fin,psh,urg", 0, SL_TCP_FIN | SL_TCP_PSH | SL_TCP_URG,
	  SL_TCP_FIN | SL_TCP_PSH | SL_TCP_URG },
	{ "ece,cwr", 0, SL_TCP_ECE | SL_TCP_CWR, SL_TCP_ECE | SL_TCP_CWR },
	{ "syn/syn,ack", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "syn,ack/syn,ack,rst", 0, SL_TCP_SYN | SL_TCP_ACK,
	  SL_TCP_SYN | SL_TCP_ACK | SL_TCP_RST },
	{ "/syn,ack", 0, 0, SL_TCP_SYN | SL_TCP_ACK },
	{ "syn / syn,ack", 0, SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK },
	{ "", -EINVAL, 0, 0 },
	{ "syn,", -EINVAL, 0, 0 },
	{ "syn/", -EINVAL, 0, 0 },
	{ "syn/ack", -EINVAL, 0, 0 },
	{ "!syn/syn", -EINVAL, 0, 0 },
	{ "ack,!ack", -EINVAL, 0, 0 },
	{ "sny", -EINVAL, 0, 0 },
};

START_TEST(test_tcp_flags_parse)
{
	const struct flags_case *c = &flags_cases[_i];
	uint8_t flags = 0xff, mask = 0xff;
	char err[256] = "";
	int rc;

	rc = sl_tcp_flags_parse(c->s, &flags, &mask, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "'%s': rc %d (%s)", c->s, rc, err);
	if (rc == 0) {
		ck_assert_msg(flags == c->flags && mask == c->mask,
			      "'%s': %02x/%02x, expected %02x/%02x", c->s,
			      flags, mask, c->flags, c->mask);
	}
}
END_TEST

struct prefix_case {
	const char *s;
	int rc;
	const char *norm;	/* as formatted back */
};

static const struct prefix_case prefix_cases[] = {
	{ "10.0.0.0/8", 0, "10.0.0.0/8" },
	{ "192.0.2.1", 0, "192.0.2.1/32" },
	{ "0.0.0.0/0", 0, "0.0.0.0/0" },
	{ "192.0.2.128/25", 0, "192.0.2.128/25" },
	{ "2001:db8::", 0, "2001:db8::/128" },
	{ "2001:db8:8000::/33", 0, "2001:db8:8000::/33" },
	{ "::/0", 0, "::/0" },
	{ "192.0.2.1/31", -EINVAL, NULL },
	{ "2001:db9::/31", -EINVAL, NULL },
	{ "10.0.0.0/", -EINVAL, NULL },
	{ "10.0.0.0/-1", -EINVAL, NULL },
	{ "10.0.0/8", -EINVAL, NULL },
	{ "example.com", -EINVAL, NULL },
};

START_TEST(test_prefix_parse)
{
	const struct prefix_case *c = &prefix_cases[_i];
	struct sl_prefix p;
	char err[256] = "", buf[64];
	int rc;

	rc = sl_prefix_parse(c->s, &p, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "'%s': rc %d (%s)", c->s, rc, err);
	if (rc == 0)
		ck_assert_str_eq(sl_prefix_format(&p, buf, sizeof(buf)), c->norm);
}
END_TEST

START_TEST(test_dscp)
{
	static const struct {
		const char *name;
		uint8_t v;
	} names[] = {
		{ "cs0", 0 }, { "cs1", 8 }, { "cs7", 56 }, { "af11", 10 },
		{ "af13", 14 }, { "af21", 18 }, { "af33", 30 }, { "af41", 34 },
		{ "af43", 38 }, { "ef", 46 }, { "va", 44 }, { "le", 1 },
	};
	uint8_t v;
	size_t i;

	for (i = 0; i < N(names); i++) {
		ck_assert_int_eq(sl_dscp_parse(names[i].name, &v), 0);
		ck_assert_uint_eq(v, names[i].v);
		ck_assert_str_eq(sl_dscp_name(names[i].v), names[i].name);
	}
	ck_assert_int_eq(sl_dscp_parse("EF", &v), 0);
	ck_assert_uint_eq(v, 46);
	ck_assert_int_eq(sl_dscp_parse("63", &v), 0);
	ck_assert_uint_eq(v, 63);
	ck_assert_int_eq(sl_dscp_parse("64", &v), -EINVAL);
	ck_assert_int_eq(sl_dscp_parse("af14", &v), -EINVAL);
	ck_assert_int_eq(sl_dscp_parse("", &v), -EINVAL);
	ck_assert_int_eq(sl_dscp_parse("+1", &v), -EINVAL);
	ck_assert_str_eq(sl_dscp_name(3), "3");
	ck_assert_str_eq(sl_dscp_name(63), "63");
	ck_assert_ptr_null(sl_dscp_name(64));
	/* Every value round-trips through its name. */
	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(sl_dscp_parse(sl_dscp_name((uint8_t)i), &v), 0);
		ck_assert_uint_eq(v, i);
	}
}
END_TEST

/* Several errors in one file, all reported in file order. */
START_TEST(test_many_errors)
{
	static const uint32_t lines[] = { 8, 9, 10, 13, 14, 15 };
	char path[1024];
	struct sl_policy *p;
	struct sl_diags d;
	size_t i;

	snprintf(path, sizeof(path), "%s/bad-design-typos.yaml", data_dir());
	ck_assert_int_eq(sl_policy_load_file(path, &p, &d), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(d.file, path);
	ck_assert_uint_eq(d.n, N(lines));
	for (i = 0; i < N(lines); i++)
		ck_assert_uint_eq(d.diag[i].pos.line, lines[i]);
}
END_TEST

START_TEST(test_diags_overflow_and_print)
{
	char *y = gen_classes(SL_DIAGS_MAX + 8,
			      "  - name: c%u\n    match: { proto: bad }\n");
	struct sl_policy *p;
	struct sl_diags d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(load(y, &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, SL_DIAGS_MAX);
	ck_assert_uint_eq(d.dropped, 8);
	ck_assert_uint_eq(d.diag[0].pos.line, 4);
	ck_assert_uint_eq(d.diag[1].pos.line, 6);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	sl_diags_print(&d, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "p.yaml:4:21: proto: expected tcp"));
	ck_assert_ptr_nonnull(strstr(out, "p.yaml: 8 more errors not shown\n"));
	free(out);
	free(y);
}
END_TEST

START_TEST(test_load_file_errors)
{
	struct sl_policy *p = (struct sl_policy *)1;
	struct sl_diags d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(sl_policy_load_file("/nonexistent/p.yaml", &p, &d),
			 -ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.diag[0].pos.line, 0);
	f = open_memstream(&out, &len);
	sl_diags_print(&d, f);
	fclose(f);
	ck_assert_str_eq(out, "/nonexistent/p.yaml: cannot read: No such file or directory\n");
	free(out);

	ck_assert_int_eq(sl_policy_load_file("/", &p, &d), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

/* Every sample policy: good-* load, bad-* are refused at a place. */
START_TEST(test_sample_files)
{
	char pat[1024];
	glob_t g;
	size_t i, good = 0, bad = 0;

	snprintf(pat, sizeof(pat), "%s/*.yaml", data_dir());
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		struct sl_policy *p;
		struct sl_diags d;
		int rc = sl_policy_load_file(g.gl_pathv[i], &p, &d);

		if (strncmp(base, "good-", 5) == 0) {
			if (rc != 0)
				sl_diags_print(&d, stderr);
			ck_assert_msg(rc == 0, "%s refused", base);
			sl_policy_free(p);
			good++;
		} else {
			ck_assert_msg(rc == -EINVAL && p == NULL && d.n > 0 &&
				      d.diag[0].pos.line > 0,
				      "%s: rc %d", base, rc);
			bad++;
		}
	}
	globfree(&g);
	ck_assert_uint_ge(good, 3);
	ck_assert_uint_ge(bad, 4);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * 10,000 classes with every kind of field load in under half a second;
 * sanitizers slow everything down several times, so they get more.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LOAD_10K_MAX_S	5.0
#else
#define LOAD_10K_MAX_S	0.5
#endif

START_TEST(test_10k_classes)
{
	char *y = gen_classes(10000,
		"  - name: tenant-%u\n"
		"    match:\n"
		"      proto: tcp\n"
		"      src: [10.%u.%u.0/24, '2001:db8::/32']\n"
		"      dport: [80, 443, %u-65535]\n"
		"      tcp_flags: syn,!ack\n"
		"      dscp: [ef, af41]\n"
		"    limit: { key: src/24, rate: 1.5Mbit, burst: 64KB }\n"
		"    exceed: { mark: cs1 }\n");
	struct sl_policy *p;
	struct sl_diags d;
	double t0, dt;
	const struct sl_class *c;

	t0 = now_s();
	ck_assert_int_eq(load(y, &p, &d), 0);
	dt = now_s() - t0;
	fprintf(stderr, "10000 classes loaded in %.3f s\n", dt);
	ck_assert_uint_eq(p->n_classes, 10000);
	c = sl_policy_class(p, "tenant-9999");
	ck_assert_ptr_eq(c, &p->classes[9999]);
	assert_prefix(&c->match.src[0], "10.39.15.0/24");
	ck_assert_uint_eq(c->match.dport[2].lo, 1000 + 9999 % 60000);
	ck_assert_uint_eq(c->limit.rate, 1500000);
	sl_policy_free(p);
	ck_assert_msg(dt < LOAD_10K_MAX_S, "load took %.3f s", dt);

	/* And a duplicate among them is found, at the later class. */
	y = realloc(y, strlen(y) + 64);
	strcat(y, "  - name: tenant-42\n");
	ck_assert_int_eq(load(y, &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.diag[0].pos.line, 2 + 10000 * 9 + 1);
	ck_assert_ptr_nonnull(strstr(d.diag[0].msg, "duplicate class name 'tenant-42' (first at line 381)"));
	free(y);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("invalid");
	tcase_add_loop_test(tc, test_bad, 0, N(bad_cases));
	tcase_add_test(tc, test_too_many_classes);
	tcase_add_test(tc, test_list_limit);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_diags_overflow_and_print);
	tcase_add_test(tc, test_load_file_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_all_fields);
	tcase_add_test(tc, test_defaults_and_styles);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_aliases);
	tcase_add_loop_test(tc, test_keys, 0, N(key_cases));
	tcase_add_loop_test(tc, test_ceilings, 0, N(ceiling_cases));
	tcase_add_loop_test(tc, test_protos, 0, N(proto_cases));
	tcase_add_test(tc, test_sample_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_rate_parse, 0, N(rate_cases));
	tcase_add_loop_test(tc, test_burst_parse, 0, N(burst_cases));
	tcase_add_loop_test(tc, test_delay_parse, 0, N(delay_cases));
	tcase_add_loop_test(tc, test_limit_check, 0, N(limit_cases));
	tcase_add_loop_test(tc, test_tcp_flags_parse, 0, N(flags_cases));
	tcase_add_loop_test(tc, test_prefix_parse, 0, N(prefix_cases));
	tcase_add_test(tc, test_dscp);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_add_test(tc, test_10k_classes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
