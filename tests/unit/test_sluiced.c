/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's pure modules: the policy renderer (every sample policy and
 * thousands of random models load back identical from their rendering),
 * the value formatters, the semantic diff (added, removed, changed
 * fields, moved, default), the heartbeat's judgement and the reconnect
 * backoff, the link against a missing socket, and the monotonic
 * counters across restarts and resets.
 *
 * The random models name their seed; SL_TEST_SEED=N repeats a run and
 * SL_TEST_MODELS=N changes how many are tried. The sample policies are
 * found in $SLUICE_TEST_DATA or the source tree (SL_TEST_DATA).
 */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dplink.h"
#include "mono.h"
#include "policy.h"
#include "policy_diff.h"
#include "policy_render.h"
#include "tbucket.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#ifndef SL_TEST_DATA
#define SL_TEST_DATA "tests/data/policies"
#endif

/* ---- Helpers ---------------------------------------------------------- */

/* Accepts YAML; its model, failing the test with the diagnostics if refused. */
static struct sl_policy *load_ok(const char *name, const char *text, size_t len)
{
	struct sl_diags d;
	struct sl_policy *p = NULL;
	char first[600] = "";

	if (sl_policy_load_buf(name, text, len, &p, &d) != 0 && d.n > 0)
		snprintf(first, sizeof(first), "%u:%u: %s", d.diag[0].pos.line,
			 d.diag[0].pos.col, d.diag[0].msg);
	/* The text goes to stderr: Check's messages are bounded. */
	if (p == NULL)
		fprintf(stderr, "--- %s does not load: %s\n%.*s\n---\n", name, first,
			(int)len, text);
	ck_assert_msg(p != NULL, "%s does not load: %s", name, first);
	return p;
}

static struct sl_policy *load_str(const char *text)
{
	return load_ok("t.yaml", text, strlen(text));
}

/* Accepts a model; renders it, loads the text, asserts the same model. */
static char *round_trip(const struct sl_policy *p, const char *what)
{
	struct sl_policy *back;
	size_t len;
	char *text;

	ck_assert_int_eq(sl_policy_render(p, "a comment\nof two lines", &text, &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	back = load_ok(what, text, len);
	if (!sl_policy_same(p, back))
		fprintf(stderr, "--- %s: rendered text loads a different model:\n%s\n---\n",
			what, text);
	ck_assert_msg(sl_policy_same(p, back), "%s: rendered text loads a different model",
		      what);
	sl_policy_free(back);
	return text;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- Render: sample policies ------------------------------------------ */

/* Every good-*.yaml loads back identical, and rendering is a fixed point. */
START_TEST(test_render_samples)
{
	const char *dir = getenv("SLUICE_TEST_DATA") ? getenv("SLUICE_TEST_DATA") :
			  SL_TEST_DATA;
	char pattern[1024], *text, *again, *src;
	struct sl_policy *p, *q;
	glob_t g;
	size_t i, len, len2;

	snprintf(pattern, sizeof(pattern), "%s/good-*.yaml", dir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_ge(g.gl_pathc, 3);
	for (i = 0; i < g.gl_pathc; i++) {
		src = read_file(g.gl_pathv[i], &len);
		p = load_ok(g.gl_pathv[i], src, len);
		text = round_trip(p, g.gl_pathv[i]);
		/* The rendering of the rendering is the same text. */
		q = load_str(text);
		ck_assert_int_eq(sl_policy_render(q, "a comment\nof two lines", &again,
						  &len2), 0);
		ck_assert_str_eq(text, again);
		sl_policy_free(q);
		sl_policy_free(p);
		free(again);
		free(text);
		free(src);
	}
	globfree(&g);
}
END_TEST

/* Texts whose every value is written in the form the renderer must keep. */
static const struct {
	const char *yaml;
	const char *expect;	/* a line the rendering must hold */
} render_cases[] = {
	{ "version: 1\nclasses:\n  - name: \"null\"\n", "- name: \"null\"" },
	{ "version: 1\ndefault: drop\nclasses: []\n", "classes: []" },
	{ "version: 1\ndefault: drop\nclasses: []\n", "default: drop" },
	{ "version: 1\nclasses:\n  - name: a\n    match: {}\n", "- name: a" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: any }\n", "- name: a" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: 47 }\n", "proto: 47" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: sctp, sport: 1-2 }\n", "proto: sctp" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { src: \"::/0\" }\n", "src: ['::/0']" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { dst: \"::ffff:192.0.2.0/120\" }\n", "dst: ['::ffff:192.0.2.0/120']" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: tcp, tcp_flags: \"!ack\" }\n", "tcp_flags: '!ack'" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: tcp, tcp_flags: syn/syn }\n", "tcp_flags: syn/syn" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: tcp, tcp_flags: \"syn,ack\" }\n", "tcp_flags: syn,ack" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { proto: tcp, tcp_flags: \"/fin,rst\" }\n", "tcp_flags: '!fin,!rst'" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { dscp: [63, le, ef, 0] }\n", "dscp: [cs0, le, ef, 63]" },
	{ "version: 1\nclasses:\n  - name: a\n    match: { vlan: [0, 4095, 7-9] }\n", "vlan: [0, 4095, 7-9]" },
	{ "version: 1\nclasses:\n  - name: a\n    limit: { key: src/0, rate: 1500kbit, burst: 1536B }\n", "limit: {key: src/0, rate: 1500kbit, burst: 1536B}" },
	{ "version: 1\nclasses:\n  - name: a\n    limit: { key: dst/128, rate: 400Gbit, burst: 4GB }\n", "limit: {key: dst, rate: 400Gbit, burst: 4GB}" },
	{ "version: 1\nclasses:\n  - name: a\n    limit: { key: none, rate: 1.5Mpps, burst: 1 }\n    exceed: { mark: 46 }\n", "exceed: {mark: ef}" },
	{ "version: 1\nclasses:\n  - name: a\n    limit: { key: flow, rate: 1000pps, burst: 1 }\n", "exceed: drop" },
	{ "version: 1\nclasses:\n  - name: a\n    limit: { key: src, rate: 5pps, burst: 10 }\n    ceiling: { rate: 2kpps, burst: 2000 }\n", "ceiling: {rate: 2kpps, burst: 2000}" },
	{ "version: 1\nclasses:\n  - name: a\n    ceiling: { rate: 10000kbit, burst: 65536B }\n", "ceiling: {rate: 10Mbit, burst: 64KB}" },
	{ "version: 1\nclasses:\n  - name: a\n    ceiling: { rate: 1pps, burst: 1 }\n    exceed: monitor\n", "exceed: monitor" },
};

START_TEST(test_render_cases)
{
	struct sl_policy *p = load_str(render_cases[_i].yaml);
	char *text = round_trip(p, render_cases[_i].yaml);

	ck_assert_msg(strstr(text, render_cases[_i].expect) != NULL,
		      "rendering of\n%s\nlacks '%s':\n%s", render_cases[_i].yaml,
		      render_cases[_i].expect, text);
	ck_assert_msg(strncmp(text, "# a comment\n# of two lines\n", 27) == 0,
		      "comment not on top:\n%s", text);
	free(text);
	sl_policy_free(p);
}
END_TEST

/* ---- Render: random models -------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: good enough to spread models, and repeatable. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in lo..hi, often one of the ends. */
static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
	switch (rnd() % 8) {
	case 0:
		return lo;
	case 1:
		return hi;
	default:
		return lo + rnd() % (hi - lo + 1);
	}
}

static void *rnd_prefixes(uint32_t *n)
{
	struct sl_prefix *p;
	uint32_t i, b;

	*n = (uint32_t)rnd_in(1, 6);
	p = calloc(*n, sizeof(*p));
	for (i = 0; i < *n; i++) {
		p[i].family = rnd() % 2 ? 4 : 6;
		p[i].len = (uint8_t)rnd_in(0, p[i].family == 4 ? 32 : 128);
		for (b = 0; b < (p[i].family == 4 ? 4u : 16u); b++)
			p[i].addr[b] = (uint8_t)rnd();
		/* Host bits zero, as the loader requires. */
		for (b = p[i].len; b < (p[i].family == 4 ? 32u : 128u); b++)
			p[i].addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	}
	return p;
}

static void *rnd_ranges(uint32_t *n, uint16_t max)
{
	struct sl_range *r;
	uint32_t i;
	uint16_t a, b;

	*n = (uint32_t)rnd_in(1, 6);
	r = calloc(*n, sizeof(*r));
	for (i = 0; i < *n; i++) {
		a = (uint16_t)rnd_in(0, max);
		b = rnd() % 2 ? a : (uint16_t)rnd_in(0, max);
		r[i].lo = a < b ? a : b;
		r[i].hi = a < b ? b : a;
	}
	return r;
}

static void rnd_match(struct sl_match *m)
{
	static const int port_protos[] = { 6, 17, 132 };
	uint32_t f = (uint32_t)rnd() & 0xff;	/* all fields but payload */

	m->proto = SL_PROTO_ANY;
	if (f & SL_M_TCP_FLAGS) {
		f |= SL_M_PROTO;
		m->proto = 6;
		m->tcp_mask = (uint8_t)rnd_in(1, 255);
		m->tcp_flags = (uint8_t)rnd() & m->tcp_mask;
	} else if (f & (SL_M_SPORT | SL_M_DPORT)) {
		f |= SL_M_PROTO;
		m->proto = port_protos[rnd() % 3];
	} else if (f & SL_M_PROTO) {
		m->proto = (int)rnd_in(0, 255);
	}
	m->fields = f;
	if (f & SL_M_SRC)
		m->src = rnd_prefixes(&m->n_src);
	if (f & SL_M_DST)
		m->dst = rnd_prefixes(&m->n_dst);
	if (f & SL_M_SPORT)
		m->sport = rnd_ranges(&m->n_sport, UINT16_MAX);
	if (f & SL_M_DPORT)
		m->dport = rnd_ranges(&m->n_dport, UINT16_MAX);
	if (f & SL_M_VLAN)
		m->vlan = rnd_ranges(&m->n_vlan, 4095);
	if (f & SL_M_DSCP)
		m->dscp = rnd() | 1ull << (rnd() % 64);
}

static void rnd_limit(struct sl_limit *l)
{
	char err[256];

	do {
		l->key = (enum sl_key_type)(rnd() % 4);
		l->prefix_len = l->key == SL_KEY_SRC || l->key == SL_KEY_DST ?
				(uint8_t)rnd_in(0, 128) : 0;
		l->unit = rnd() % 2 ? SL_UNIT_BITS : SL_UNIT_PACKETS;
		l->rate = rnd_in(1, SL_TB_RATE_MAX);
		/* Round numbers too, so the larger units show up. */
		if (rnd() % 2)
			l->rate -= l->rate % 1000000 ? l->rate % 1000000 : 0;
		if (l->rate == 0)
			l->rate = 1000000;
		l->burst = l->unit == SL_UNIT_BITS ?
			   rnd_in(SL_BURST_BYTES_MIN, SL_TB_CAPACITY_MAX / 8) :
			   rnd_in(1, SL_TB_CAPACITY_MAX);
		if (l->unit == SL_UNIT_BITS && rnd() % 2)
			l->burst = (l->burst / 1024 + 2) * 1024 > SL_TB_CAPACITY_MAX / 8 ?
				   SL_TB_CAPACITY_MAX / 8 : (l->burst / 1024 + 2) * 1024;
	} while (sl_limit_check(l, err, sizeof(err)) != 0);
}

static void rnd_ceiling(struct sl_ceiling *c)
{
	struct sl_limit l;
	char err[256];

	do {
		rnd_limit(&l);
		c->unit = l.unit;
		c->rate = l.rate;
		c->burst = l.burst;
	} while (sl_ceiling_check(c, err, sizeof(err)) != 0);
}

static const char name_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";

/* A random valid model of up to 12 classes. */
static struct sl_policy *rnd_policy(void)
{
	struct sl_policy *p = calloc(1, sizeof(*p));
	struct sl_class *c;
	uint32_t i, k, n;

	p->version = 1;
	p->default_action = rnd() % 2 ? SL_DEFAULT_DROP : SL_DEFAULT_PASS;
	p->n_classes = (uint32_t)rnd_in(0, 12);
	p->classes = calloc(p->n_classes ? p->n_classes : 1, sizeof(*p->classes));
	for (i = 0; i < p->n_classes; i++) {
		c = &p->classes[i];
		/*
		 * Unique: the index, then random legal characters after a
		 * '_' (without it "1" + "0..." could repeat class 10's name).
		 * Some names stay bare numbers, to test quoting.
		 */
		n = (uint32_t)snprintf(c->name, sizeof(c->name), "%u", i);
		k = (uint32_t)rnd_in(0, 40);
		if (k > 0)
			c->name[n++] = '_';
		for (; k > 1; k--)
			c->name[n++] = name_chars[rnd() % (sizeof(name_chars) - 1)];
		c->name[n] = '\0';
		if (i == 0 && rnd() % 8 == 0)
			snprintf(c->name, sizeof(c->name), "null");
		rnd_match(&c->match);
		c->has_limit = rnd() % 4 != 0;
		if (c->has_limit)
			rnd_limit(&c->limit);
		c->has_ceiling = rnd() % 3 == 0;
		if (c->has_ceiling)
			rnd_ceiling(&c->ceiling);
		if (!c->has_limit && !c->has_ceiling)
			continue;
		c->exceed.action = (enum sl_exceed_action)(rnd() % 3);
		if (c->exceed.action == SL_EXCEED_MARK)
			c->exceed.dscp = (uint8_t)rnd_in(0, 63);
	}
	return p;
}

START_TEST(test_render_random)
{
	unsigned int models = getenv("SL_TEST_MODELS") ?
			      (unsigned int)atoi(getenv("SL_TEST_MODELS")) : 3000;
	uint64_t seed = getenv("SL_TEST_SEED") ?
			strtoull(getenv("SL_TEST_SEED"), NULL, 0) : (uint64_t)time(NULL);
	char what[64];
	unsigned int i;

	fprintf(stderr, "test_render_random: SL_TEST_SEED=%" PRIu64 "\n", seed);
	rng_state = seed;
	for (i = 0; i < models; i++) {
		struct sl_policy *p = rnd_policy();

		snprintf(what, sizeof(what), "seed %" PRIu64 " model %u", seed, i);
		free(round_trip(p, what));
		sl_policy_free(p);
	}
}
END_TEST

/* ---- Formatters ------------------------------------------------------- */

static const struct {
	uint64_t v;
	enum sl_rate_unit unit;
	const char *rate, *burst;
} fmt_cases[] = {
	{ 1, SL_UNIT_PACKETS, "1pps", "1" },
	{ 2000, SL_UNIT_PACKETS, "2kpps", "2000" },
	{ 1500000, SL_UNIT_PACKETS, "1500kpps", "1500000" },
	{ 400000000000ull, SL_UNIT_PACKETS, "400000Mpps", "400000000000" },
	{ 1, SL_UNIT_BITS, "1bit", "1B" },
	{ 1522, SL_UNIT_BITS, "1522bit", "1522B" },
	{ 65536, SL_UNIT_BITS, "65536bit", "64KB" },
	{ 1048576, SL_UNIT_BITS, "1048576bit", "1MB" },
	{ 10000000, SL_UNIT_BITS, "10Mbit", "10000000B" },
	{ 1500000, SL_UNIT_BITS, "1500kbit", "1500000B" },
	{ 4294967296ull, SL_UNIT_BITS, "4294967296bit", "4GB" },
	{ 400000000000ull, SL_UNIT_BITS, "400Gbit", "390625000KB" },
};

START_TEST(test_format_values)
{
	char buf[SL_FMT_MAX], err[256];
	enum sl_rate_unit u;
	uint64_t v;

	ck_assert_str_eq(sl_rate_format(fmt_cases[_i].v, fmt_cases[_i].unit, buf,
					sizeof(buf)), fmt_cases[_i].rate);
	ck_assert_int_eq(sl_rate_parse(buf, &v, &u, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, fmt_cases[_i].v);
	ck_assert_int_eq(u, fmt_cases[_i].unit);
	ck_assert_str_eq(sl_burst_format(fmt_cases[_i].v, fmt_cases[_i].unit, buf,
					 sizeof(buf)), fmt_cases[_i].burst);
	ck_assert_int_eq(sl_burst_parse(buf, &v, &u, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, fmt_cases[_i].v);
	ck_assert_int_eq(u, fmt_cases[_i].unit);
}
END_TEST

/* Every flags/mask pair: formatted, parsed back to the same pair. */
START_TEST(test_format_tcp_flags)
{
	char buf[SL_FMT_MAX], err[256];
	unsigned int mask, flags;
	uint8_t f, m;

	for (mask = 1; mask < 256; mask++) {
		for (flags = 0; flags < 256; flags++) {
			if (flags & ~mask)
				continue;
			sl_tcp_flags_format((uint8_t)flags, (uint8_t)mask, buf, sizeof(buf));
			ck_assert_msg(sl_tcp_flags_parse(buf, &f, &m, err, sizeof(err)) == 0,
				      "'%s': %s", buf, err);
			ck_assert_msg(f == flags && m == mask, "%02x/%02x -> '%s' -> %02x/%02x",
				      flags, mask, buf, f, m);
		}
	}
	ck_assert_str_eq(sl_tcp_flags_format(SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK, buf,
					     sizeof(buf)), "syn");
	ck_assert_str_eq(sl_tcp_flags_format(SL_TCP_SYN, SL_TCP_SYN | SL_TCP_ACK | SL_TCP_RST,
					     buf, sizeof(buf)), "syn,!rst,!ack");
}
END_TEST

START_TEST(test_format_keys)
{
	static const struct {
		enum sl_key_type key;
		uint8_t len;
		const char *s;
	} k[] = {
		{ SL_KEY_NONE, 0, "none" }, { SL_KEY_FLOW, 0, "flow" },
		{ SL_KEY_SRC, 128, "src" }, { SL_KEY_DST, 128, "dst" },
		{ SL_KEY_SRC, 24, "src/24" }, { SL_KEY_DST, 0, "dst/0" },
	};
	struct sl_limit l = { 0 };
	char buf[SL_FMT_MAX];
	size_t i;

	for (i = 0; i < N(k); i++) {
		l.key = k[i].key;
		l.prefix_len = k[i].len;
		ck_assert_str_eq(sl_key_format(&l, buf, sizeof(buf)), k[i].s);
	}
}
END_TEST

/* class.list's CLASS object, field by field. */
START_TEST(test_class_json)
{
	struct sl_policy *p = load_str("version: 1\nclasses:\n"
		"  - name: login\n"
		"    match: { proto: tcp, dport: [80, 8000-8099], src: 10.0.0.0/8 }\n"
		"    limit: { key: src/24, rate: 5pps, burst: 10 }\n"
		"    exceed: { mark: cs1 }\n"
		"  - name: free\n"
		"  - name: capped\n"
		"    ceiling: { rate: 10Mbit, burst: 64KB }\n");
	json_t *c = sl_class_json(&p->classes[0], 0), *f = sl_class_json(&p->classes[1], 1);
	json_t *g = sl_class_json(&p->classes[2], 2);
	char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_str_eq(s, "{\"ceiling\":null,\"exceed\":{\"mark\":\"cs1\"},\"index\":0,"
			 "\"limit\":{\"burst\":\"10\",\"key\":\"src/24\",\"rate\":\"5pps\"},"
			 "\"match\":{\"dport\":[\"80\",\"8000-8099\"],\"proto\":\"tcp\","
			 "\"src\":[\"10.0.0.0/8\"]},\"name\":\"login\"}");
	free(s);
	s = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"ceiling\":null,\"exceed\":null,\"index\":1,\"limit\":null,\"match\":{},\"name\":\"free\"}");
	free(s);
	s = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"ceiling\":{\"burst\":\"64KB\",\"rate\":\"10Mbit\"},\"exceed\":\"drop\",\"index\":2,\"limit\":null,\"match\":{},\"name\":\"capped\"}");
	free(s);
	json_decref(c);
	json_decref(f);
	json_decref(g);
	sl_policy_free(p);
}
END_TEST

/* ---- Diff ------------------------------------------------------------- */

#define V "version: 1\n"
#define CA "  - name: a\n    match: { proto: udp, dport: [53, 5353] }\n    limit: { key: src, rate: 100pps, burst: 100 }\n"
#define CB "  - name: b\n    match: { proto: tcp }\n"
#define CC "  - name: c\n    limit: { key: none, rate: 1Mbit, burst: 2KB }\n    exceed: monitor\n"

static const struct {
	const char *what;
	const char *from;	/* NULL: no running policy */
	const char *to;
	const char *expect;	/* the diff, compact JSON, keys sorted */
} diff_cases[] = {
	{ "same text", V "classes:\n" CA CB, V "classes:\n" CA CB,
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "no running policy", NULL, V "default: drop\nclasses:\n" CA CB,
	  "{\"added\":[\"a\",\"b\"],\"changed\":[],\"default\":{\"from\":\"pass\",\"to\":\"drop\"},\"moved\":[],\"removed\":[]}" },
	{ "added and removed", V "classes:\n" CA CB, V "classes:\n" CB CC,
	  "{\"added\":[\"c\"],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[\"a\"]}" },
	{ "list order is not a change", V "classes:\n" CA,
	  V "classes:\n  - name: a\n    match: { proto: udp, dport: [5353, 53] }\n    limit: { key: src, rate: 100pps, burst: 100 }\n",
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "same value, other spelling", V "classes:\n" CA,
	  V "classes:\n  - name: a\n    match: { proto: 17, dport: [53, 5353] }\n    limit: { key: src/128, rate: 0.1kpps, burst: 100 }\n    exceed: drop\n",
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "rate changed", V "classes:\n" CA,
	  V "classes:\n  - name: a\n    match: { proto: udp, dport: [53, 5353] }\n    limit: { key: src, rate: 200pps, burst: 100 }\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"limit.rate\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "unit changed: rate and burst", V "classes:\n" CC,
	  V "classes:\n  - name: c\n    limit: { key: none, rate: 1000pps, burst: 2048 }\n    exceed: monitor\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"limit.rate\",\"limit.burst\"],\"name\":\"c\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "match, key and exceed changed", V "classes:\n" CA,
	  V "classes:\n  - name: a\n    match: { proto: udp, dport: 53, src: 10.0.0.0/8 }\n    limit: { key: dst, rate: 100pps, burst: 100 }\n    exceed: monitor\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"match.src\",\"match.dport\",\"limit.key\",\"exceed\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "limit removed", V "classes:\n" CA,
	  V "classes:\n  - name: a\n    match: { proto: udp, dport: [53, 5353] }\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"limit\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "two swapped: one moved", V "classes:\n" CA CB CC, V "classes:\n" CB CA CC,
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[\"b\"],\"removed\":[]}" },
	{ "last to first", V "classes:\n" CA CB CC, V "classes:\n" CC CA CB,
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[\"c\"],\"removed\":[]}" },
	{ "reversed: all but one moved", V "classes:\n" CA CB CC, V "classes:\n" CC CB CA,
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[\"c\",\"b\"],\"removed\":[]}" },
	{ "insertion moves nothing", V "classes:\n" CA CC, V "classes:\n" CA CB CC,
	  "{\"added\":[\"b\"],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "removal moves nothing", V "classes:\n" CA CB CC, V "classes:\n" CA CC,
	  "{\"added\":[],\"changed\":[],\"default\":null,\"moved\":[],\"removed\":[\"b\"]}" },
	{ "ceiling added", V "classes:\n" CA,
	  V "classes:\n" CA "    ceiling: { rate: 2000pps, burst: 2000 }\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"ceiling\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "ceiling rate and burst", V "classes:\n" CA "    ceiling: { rate: 2000pps, burst: 2000 }\n",
	  V "classes:\n" CA "    ceiling: { rate: 2kpps, burst: 1000 }\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"ceiling.burst\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "ceiling alone: its exceed counts", V "classes:\n  - name: a\n    ceiling: { rate: 1Mbit, burst: 2KB }\n",
	  V "classes:\n  - name: a\n    ceiling: { rate: 2Mbit, burst: 2KB }\n    exceed: monitor\n",
	  "{\"added\":[],\"changed\":[{\"fields\":[\"ceiling.rate\",\"exceed\"],\"name\":\"a\"}],\"default\":null,\"moved\":[],\"removed\":[]}" },
	{ "default only", V "default: drop\nclasses: []\n", V "classes: []\n",
	  "{\"added\":[],\"changed\":[],\"default\":{\"from\":\"drop\",\"to\":\"pass\"},\"moved\":[],\"removed\":[]}" },
};

START_TEST(test_diff)
{
	struct sl_policy *from = diff_cases[_i].from ? load_str(diff_cases[_i].from) : NULL;
	struct sl_policy *to = load_str(diff_cases[_i].to);
	json_t *d = sl_policy_diff(from, to);
	char *s;

	ck_assert_ptr_nonnull(d);
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(strcmp(s, diff_cases[_i].expect) == 0, "%s:\n got %s\nwant %s",
		      diff_cases[_i].what, s, diff_cases[_i].expect);
	free(s);
	json_decref(d);
	sl_policy_free(from);
	sl_policy_free(to);
}
END_TEST

/* A large reorder stays fast and names exactly the classes out of order. */
START_TEST(test_diff_large)
{
	enum { NCL = 10000 };
	size_t cap = NCL * 40 + 64, len, len2;
	char *a = malloc(cap), *b = malloc(cap);
	struct sl_policy *pa, *pb;
	json_t *d;
	int i;

	len = (size_t)snprintf(a, cap, "version: 1\nclasses:\n");
	len2 = (size_t)snprintf(b, cap, "version: 1\nclasses:\n");
	for (i = 0; i < NCL; i++)
		len += (size_t)snprintf(a + len, cap - len, "  - name: c%d\n", i);
	/* b: c1..c9999 then c0 (one moved), with c5000 dropped. */
	for (i = 1; i < NCL; i++)
		if (i != 5000)
			len2 += (size_t)snprintf(b + len2, cap - len2, "  - name: c%d\n", i);
	len2 += (size_t)snprintf(b + len2, cap - len2, "  - name: c0\n");
	pa = load_ok("a", a, len);
	pb = load_ok("b", b, len2);
	d = sl_policy_diff(pa, pb);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "moved")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "moved"), 0)), "c0");
	ck_assert_uint_eq(json_array_size(json_object_get(d, "removed")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "added")), 0);
	json_decref(d);
	sl_policy_free(pa);
	sl_policy_free(pb);
	free(a);
	free(b);
}
END_TEST

/* sl_policy_same is exact: list order counts there. */
START_TEST(test_same_exact)
{
	struct sl_policy *a = load_str(V "classes:\n" CA);
	struct sl_policy *b = load_str(V "classes:\n  - name: a\n    match: { proto: udp, dport: [5353, 53] }\n    limit: { key: src, rate: 100pps, burst: 100 }\n");
	struct sl_policy *c = load_str(V "classes:\n" CA);

	ck_assert(!sl_policy_same(a, b));
	ck_assert(sl_policy_same(a, c));
	sl_policy_free(a);
	sl_policy_free(b);
	sl_policy_free(c);
}
END_TEST

/* ---- Heartbeat -------------------------------------------------------- */

/* One step of a heartbeat script: an event at t, then a judgement. */
struct hb_step {
	int64_t t;
	char ev;		/* 'p' pong (polls), 'r' other reply, '-' none */
	uint64_t polls[3];
	unsigned int n;
	enum sl_dp_health want;
	int worker;		/* for STUCK */
};

static const struct {
	const char *what;
	struct hb_step s[8];
	unsigned int n;
} hb_cases[] = {
	{ "alive: counts move", {
		{ 100, 'p', { 1, 1 }, 2, SL_DP_ALIVE, -1 },
		{ 200, 'p', { 2, 2 }, 2, SL_DP_ALIVE, -1 },
		{ 900, 'p', { 3, 3 }, 2, SL_DP_ALIVE, -1 },
		{ 1800, 'p', { 4, 4 }, 2, SL_DP_ALIVE, -1 } }, 4 },
	{ "nothing after connecting: gone", {
		{ 299, '-', { 0 }, 0, SL_DP_ALIVE, -1 },
		{ 300, '-', { 0 }, 0, SL_DP_GONE, -1 } }, 2 },
	{ "replies stop: gone 300 ms after the last", {
		{ 100, 'p', { 1 }, 1, SL_DP_ALIVE, -1 },
		{ 500, 'r', { 0 }, 0, SL_DP_ALIVE, -1 },
		{ 799, '-', { 0 }, 0, SL_DP_ALIVE, -1 },
		{ 800, '-', { 0 }, 0, SL_DP_GONE, -1 } }, 4 },
	{ "worker 1 stops: stuck after 300 ms", {
		{ 100, 'p', { 1, 1, 1 }, 3, SL_DP_ALIVE, -1 },
		{ 200, 'p', { 2, 1, 2 }, 3, SL_DP_ALIVE, -1 },
		{ 399, 'p', { 3, 1, 3 }, 3, SL_DP_ALIVE, -1 },
		{ 400, 'p', { 4, 1, 4 }, 3, SL_DP_STUCK, 1 },
		{ 450, 'p', { 5, 2, 5 }, 3, SL_DP_ALIVE, -1 } }, 5 },
	{ "slow other reply does not make workers stuck", {
		{ 100, 'p', { 1 }, 1, SL_DP_ALIVE, -1 },
		{ 290, 'r', { 0 }, 0, SL_DP_ALIVE, -1 },
		{ 380, 'p', { 2 }, 1, SL_DP_ALIVE, -1 } }, 3 },
	{ "counts going back still move", {
		{ 100, 'p', { 9 }, 1, SL_DP_ALIVE, -1 },
		{ 350, 'p', { 3 }, 1, SL_DP_ALIVE, -1 },
		{ 600, 'p', { 4 }, 1, SL_DP_ALIVE, -1 } }, 3 },
	{ "worker count changes: new baseline", {
		{ 100, 'p', { 1 }, 1, SL_DP_ALIVE, -1 },
		{ 300, 'p', { 1, 1 }, 2, SL_DP_ALIVE, -1 },
		{ 600, 'p', { 1, 2 }, 2, SL_DP_STUCK, 0 } }, 3 },
	{ "no workers: never stuck", {
		{ 100, 'p', { 0 }, 0, SL_DP_ALIVE, -1 },
		{ 900, 'p', { 0 }, 0, SL_DP_ALIVE, -1 } }, 2 },
};

START_TEST(test_heartbeat)
{
	const struct hb_step *s;
	struct sl_hb hb;
	enum sl_dp_health h;
	int64_t still;
	unsigned int k;
	int w;

	sl_hb_start(&hb, 0);
	for (k = 0; k < hb_cases[_i].n; k++) {
		s = &hb_cases[_i].s[k];
		if (s->ev == 'p')
			sl_hb_pong(&hb, s->t, s->polls, s->n);
		else if (s->ev == 'r')
			sl_hb_reply(&hb, s->t);
		w = -1;
		still = 0;
		h = sl_hb_judge(&hb, s->t, &w, &still);
		ck_assert_msg(h == s->want, "%s, step %u (t=%" PRId64 "): health %d, want %d",
			      hb_cases[_i].what, k, s->t, h, s->want);
		if (h == SL_DP_STUCK) {
			ck_assert_int_eq(w, s->worker);
			ck_assert_int_ge(still, SL_HB_STUCK_MS);
		}
	}
}
END_TEST

START_TEST(test_backoff)
{
	static const int want[] = { 100, 200, 400, 800, 1600, 2000, 2000 };
	int d = 0;
	size_t i;

	for (i = 0; i < N(want); i++) {
		d = sl_backoff_next(d);
		ck_assert_int_eq(d, want[i]);
	}
}
END_TEST

/* No dataplane: every due attempt fails, says why, and backs off. */
START_TEST(test_link_absent)
{
	struct sl_dplink l;
	struct sl_ctl_reply rep;
	char err[256];
	int64_t t = 1000;

	sl_dplink_init(&l, "/nonexistent/sluice-test/dp.sock", NULL, NULL);
	ck_assert(!sl_dplink_up(&l));
	ck_assert_int_eq(sl_dplink_connect(&l, t), -ENOENT);
	ck_assert_ptr_nonnull(strstr(l.why, "/nonexistent/sluice-test/dp.sock"));
	ck_assert_int_eq(l.next_connect_ms, t + 100);
	ck_assert_int_eq(sl_dplink_connect(&l, t + 99), 0);	/* not due */
	ck_assert_int_eq(sl_dplink_connect(&l, t + 100), -ENOENT);
	ck_assert_int_eq(l.next_connect_ms, t + 300);
	ck_assert_int_eq(sl_dplink_send(&l, "dp.ping", NULL, t, 100), -ENOTCONN);
	ck_assert_int_eq(sl_dplink_poll(&l, t), 0);
	ck_assert_int_eq(sl_dplink_call(&l, "stats", json_object(), 100, &rep, err,
					sizeof(err)), -ENOTCONN);
	sl_dplink_free(&l);
}
END_TEST

/* ---- Monotonic counters ----------------------------------------------- */

/* One update: the source (pid), a group, raw values, what must come out. */
struct mono_step {
	uint64_t source;
	const char *group;
	uint64_t raw[3];
	uint64_t want[3];
	int reset;
	bool restarted;
};

static const struct {
	const char *what;
	struct mono_step s[8];
	unsigned int n;
} mono_cases[] = {
	{ "plain growth", {
		{ 7, "c/a", { 1, 10, 0 }, { 1, 10, 0 }, 0, false },
		{ 7, "c/a", { 5, 50, 1 }, { 5, 50, 1 }, 0, false } }, 2 },
	{ "restart: new pid folds", {
		{ 7, "c/a", { 5, 50, 1 }, { 5, 50, 1 }, 0, false },
		{ 8, "c/a", { 2, 20, 0 }, { 7, 70, 1 }, 0, true },
		{ 8, "c/a", { 3, 30, 0 }, { 8, 80, 1 }, 0, false } }, 3 },
	{ "restart when the new counts are already higher", {
		{ 7, "c/a", { 5, 5, 5 }, { 5, 5, 5 }, 0, false },
		{ 9, "c/a", { 9, 9, 9 }, { 14, 14, 14 }, 0, true } }, 2 },
	{ "reset of one group under one pid", {
		{ 7, "c/a", { 5, 50, 0 }, { 5, 50, 0 }, 0, false },
		{ 7, "c/b", { 4, 40, 0 }, { 4, 40, 0 }, 0, false },
		{ 7, "c/a", { 6, 1, 0 }, { 11, 51, 0 }, 1, false },
		{ 7, "c/b", { 5, 41, 0 }, { 5, 41, 0 }, 0, false } }, 4 },
	{ "a group absent for a restart keeps its counts", {
		{ 7, "c/a", { 5, 0, 0 }, { 5, 0, 0 }, 0, false },
		{ 8, "c/b", { 1, 0, 0 }, { 1, 0, 0 }, 0, true },
		{ 9, "c/a", { 1, 0, 0 }, { 6, 0, 0 }, 0, true } }, 3 },
	{ "unchanged counts are not a reset", {
		{ 7, "d", { 0, 0, 0 }, { 0, 0, 0 }, 0, false },
		{ 7, "d", { 0, 0, 0 }, { 0, 0, 0 }, 0, false } }, 2 },
};

START_TEST(test_mono)
{
	struct sl_mono *m = sl_mono_new();
	const struct mono_step *s;
	uint64_t out[3], got[3];
	unsigned int k;

	for (k = 0; k < mono_cases[_i].n; k++) {
		s = &mono_cases[_i].s[k];
		ck_assert_msg(sl_mono_source(m, s->source) == s->restarted,
			      "%s, step %u: restart", mono_cases[_i].what, k);
		ck_assert_int_eq(sl_mono_update(m, s->group, s->raw, 3, out), s->reset);
		ck_assert_msg(memcmp(out, s->want, sizeof(out)) == 0,
			      "%s, step %u: got %" PRIu64 " %" PRIu64 " %" PRIu64,
			      mono_cases[_i].what, k, out[0], out[1], out[2]);
		ck_assert(sl_mono_get(m, s->group, got, 3));
		ck_assert(memcmp(got, s->want, sizeof(got)) == 0);
	}
	ck_assert(!sl_mono_get(m, "never", got, 3));
	ck_assert_uint_eq(got[0] + got[1] + got[2], 0);
	sl_mono_free(m);
}
END_TEST

/* Never back, over a long random run of restarts and resets. */
START_TEST(test_mono_never_back)
{
	struct sl_mono *m = sl_mono_new();
	uint64_t raw[4][2] = { { 0 } }, out[2], prev[4][2] = { { 0 } }, pid = 1;
	char g[8];
	int i, k;

	rng_state = 42;
	for (i = 0; i < 20000; i++) {
		if (rnd() % 500 == 0) {
			pid++;
			memset(raw, 0, sizeof(raw));
		}
		k = (int)(rnd() % 4);
		if (rnd() % 300 == 0)
			raw[k][0] = raw[k][1] = 0;	/* class dropped and re-added */
		raw[k][0] += rnd() % 100;
		raw[k][1] += rnd() % 10000;
		sl_mono_source(m, pid);
		snprintf(g, sizeof(g), "c/%d", k);
		ck_assert_int_ge(sl_mono_update(m, g, raw[k], 2, out), 0);
		ck_assert(out[0] >= prev[k][0] && out[1] >= prev[k][1]);
		prev[k][0] = out[0];
		prev[k][1] = out[1];
	}
	sl_mono_free(m);
}
END_TEST

/* Bounded: beyond the cap the least recently updated group goes. */
START_TEST(test_mono_bounded)
{
	struct sl_mono *m = sl_mono_new();
	uint64_t one = 1, got;
	char g[32];
	unsigned int i;

	for (i = 0; i <= SL_MONO_GROUPS_MAX; i++) {
		snprintf(g, sizeof(g), "c/%u", i);
		ck_assert_int_eq(sl_mono_update(m, g, &one, 1, NULL), 0);
		if (i == 0)
			continue;
		/* Keep group 0 fresh: group 1 is then the oldest. */
		if (i == SL_MONO_GROUPS_MAX - 1)
			sl_mono_update(m, "c/0", &one, 1, NULL);
	}
	ck_assert_uint_eq(sl_mono_groups(m), SL_MONO_GROUPS_MAX);
	ck_assert(sl_mono_get(m, "c/0", &got, 1));
	ck_assert(!sl_mono_get(m, "c/1", &got, 1));
	ck_assert(sl_mono_get(m, "c/2", &got, 1));
	ck_assert_int_eq(sl_mono_update(m, "c/x", &one, SL_MONO_VALUES + 1, NULL), -EINVAL);
	sl_mono_free(m);
}
END_TEST

static Suite *sluiced_suite(void)
{
	Suite *s = suite_create("sluiced");
	TCase *tc;

	tc = tcase_create("render");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_render_samples);
	tcase_add_loop_test(tc, test_render_cases, 0, N(render_cases));
	tcase_add_test(tc, test_render_random);
	tcase_add_loop_test(tc, test_format_values, 0, N(fmt_cases));
	tcase_add_test(tc, test_format_tcp_flags);
	tcase_add_test(tc, test_format_keys);
	tcase_add_test(tc, test_class_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("diff");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_diff, 0, N(diff_cases));
	tcase_add_test(tc, test_diff_large);
	tcase_add_test(tc, test_same_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("heartbeat");
	tcase_add_loop_test(tc, test_heartbeat, 0, N(hb_cases));
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_link_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("mono");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_mono, 0, N(mono_cases));
	tcase_add_test(tc, test_mono_never_back);
	tcase_add_test(tc, test_mono_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sluiced_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
