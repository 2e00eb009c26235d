/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * XDP tables tests: table-driven cases per match field and per "field
 * absent" entry; a differential test of sl_xdp_tables_classify() (the
 * lookups the XDP program makes) against sl_classify_reference() on
 * random policies and packets, some of them parsed from frames; class
 * records against the dataplane's (sl_ruleset_build); the limits.
 *
 * SL_TEST_SEED=N repeats a differential run; SL_TEST_POLICIES=N changes
 * how many random policies it tries.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_memory.h>

#include "classify.h"
#include "eal_helper.h"
#include "engine.h"
#include "pkt.h"
#include "policy.h"
#include "xdp_tables.h"

static_assert(SL_XDP_IDLE_MIN_MS == SL_FLOW_IDLE_MIN_MS &&
	      SL_XDP_IDLE_MAX_MS == SL_FLOW_IDLE_MAX_MS, "idle bounds");

#define L4	SL_PKT_F_L4
#define VLAN	SL_PKT_F_VLAN
#define FRAG	SL_PKT_F_FRAG
#define NONE	SL_CLASS_NONE
#define V4	SL_FAMILY_IPV4
#define V6	SL_FAMILY_IPV6

#define LIST_MAX	4	/* entries per list in a table row */
#define HCLASSES_MAX	4

/* ---- policies and packets by hand ---- */

struct mspec {
	uint32_t fields;
	int proto;
	const char *src[LIST_MAX + 1];	/* NULL-terminated */
	const char *dst[LIST_MAX + 1];
	struct sl_range sport[LIST_MAX];
	uint32_t n_sport;
	struct sl_range dport[LIST_MAX];
	uint32_t n_dport;
	uint8_t tcp_flags;
	uint8_t tcp_mask;
	struct sl_range vlan[LIST_MAX];
	uint32_t n_vlan;
	uint64_t dscp;
};

struct pspec {
	uint8_t family;
	const char *src;
	const char *dst;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t flags;
	uint8_t tcp_flags;
	uint16_t vlan;
	uint8_t dscp;
	uint8_t malformed;
};

struct hclass {
	struct sl_prefix src[LIST_MAX];
	struct sl_prefix dst[LIST_MAX];
	struct sl_range sport[LIST_MAX];
	struct sl_range dport[LIST_MAX];
	struct sl_range vlan[LIST_MAX];
};

struct hpolicy {
	struct sl_policy p;
	struct sl_class cls[HCLASSES_MAX];
	struct hclass store[HCLASSES_MAX];
};

/* Accepts "addr/len"; zeroes the host bits as the loader does. */
static struct sl_prefix pfx(const char *s)
{
	struct sl_prefix pf = { 0 };
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	ck_assert_msg(slash != NULL, "bad prefix %s", s);
	*slash = '\0';
	pf.len = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, pf.addr) == 1)
		pf.family = V4;
	else if (inet_pton(AF_INET6, buf, pf.addr) == 1)
		pf.family = V6;
	else
		ck_abort_msg("bad prefix %s", s);
	for (uint32_t i = pf.len; i < 128; i++)
		pf.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return pf;
}

static void addr(const char *s, uint8_t family, uint8_t *out)
{
	memset(out, 0, 16);
	ck_assert_msg(inet_pton(family == V4 ? AF_INET : AF_INET6, s, out) == 1,
		      "bad address %s", s);
}

static void pkt(const struct pspec *ps, struct sl_pkt_meta *m)
{
	bool v6 = ps->family == V6;

	memset(m, 0, sizeof(*m));
	m->family = ps->family;
	m->proto = ps->proto;
	m->sport = ps->sport;
	m->dport = ps->dport;
	m->flags = ps->flags;
	m->tcp_flags = ps->tcp_flags;
	m->vlan = ps->vlan;
	m->dscp = ps->dscp;
	m->malformed = ps->malformed;
	if (ps->family == SL_FAMILY_NONE)
		return;
	addr(ps->src ? ps->src : v6 ? "2001:db8::1" : "192.0.2.1", ps->family,
	     m->src);
	addr(ps->dst ? ps->dst : v6 ? "2001:db8::2" : "198.51.100.1",
	     ps->family, m->dst);
}

static void mclass(const struct mspec *ms, struct sl_class *c,
		   struct hclass *st, uint32_t idx)
{
	uint32_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "c%u", idx);
	c->match = (struct sl_match){
		.fields = ms->fields, .proto = ms->proto,
		.tcp_flags = ms->tcp_flags, .tcp_mask = ms->tcp_mask,
		.dscp = ms->dscp,
	};
	for (i = 0; ms->src[i] != NULL; i++)
		st->src[i] = pfx(ms->src[i]);
	c->match.src = st->src;
	c->match.n_src = i;
	for (i = 0; ms->dst[i] != NULL; i++)
		st->dst[i] = pfx(ms->dst[i]);
	c->match.dst = st->dst;
	c->match.n_dst = i;
	memcpy(st->sport, ms->sport, sizeof(st->sport));
	memcpy(st->dport, ms->dport, sizeof(st->dport));
	memcpy(st->vlan, ms->vlan, sizeof(st->vlan));
	c->match.sport = st->sport;
	c->match.n_sport = ms->n_sport;
	c->match.dport = st->dport;
	c->match.n_dport = ms->n_dport;
	c->match.vlan = st->vlan;
	c->match.n_vlan = ms->n_vlan;
	if (ms->fields & SL_M_PAYLOAD)
		c->match.payload = "x";
}

static void mpolicy(struct hpolicy *hp, const struct mspec *ms, uint32_t n)
{
	ck_assert_uint_le(n, HCLASSES_MAX);
	memset(hp, 0, sizeof(*hp));
	hp->p.version = SL_POLICY_VERSION;
	hp->p.n_classes = n;
	hp->p.classes = hp->cls;
	for (uint32_t i = 0; i < n; i++)
		mclass(&ms[i], &hp->cls[i], &hp->store[i], i);
}

/* Accepts a policy that must compile. */
static struct sl_xdp_tables *must_build(const struct sl_policy *p)
{
	struct sl_xdp_tables *t = NULL;
	char err[256] = "";
	int rc = sl_xdp_tables_build(p, 7, &t, err, sizeof(err));

	ck_assert_msg(rc == 0, "build failed: %d %s", rc, err);
	return t;
}

/* ---- (1) one case per field and per edge ---- */

struct field_case {
	const char *what;
	struct mspec cls[HCLASSES_MAX];
	uint32_t n;
	struct pspec p;
	uint32_t want;
};

#define R(a, b)	{ (a), (b) }

static const struct field_case field_cases[] = {
	{ "empty policy", { { 0 } }, 0, { V4, .proto = 6, .flags = L4 }, NONE },
	{ "no fields: any IPv4", { { 0 } }, 1, { V4, .proto = 47 }, 0 },
	{ "no fields: any IPv6", { { 0 } }, 1, { V6, .proto = 6, .flags = L4 }, 0 },
	{ "no fields: not IP", { { 0 } }, 1, { SL_FAMILY_NONE }, NONE },
	{ "no fields: malformed", { { 0 } }, 1,
	  { V4, .malformed = SL_MAL_L4_TRUNC }, NONE },
	{ "proto hit", { { SL_M_PROTO, 17 } }, 1, { V4, .proto = 17 }, 0 },
	{ "proto miss", { { SL_M_PROTO, 17 } }, 1, { V4, .proto = 6 }, NONE },
	{ "proto any", { { SL_M_PROTO, SL_PROTO_ANY } }, 1, { V6, .proto = 99 }, 0 },
	{ "sport hit", { { SL_M_SPORT, .sport = { R(80, 80) }, .n_sport = 1 } }, 1,
	  { V4, .proto = 6, .sport = 80, .flags = L4 }, 0 },
	{ "sport without L4", { { SL_M_SPORT, .sport = { R(0, 65535) }, .n_sport = 1 } },
	  1, { V4, .proto = 6, .sport = 80, .flags = FRAG }, NONE },
	{ "no sport: holds without L4",
	  { { SL_M_SPORT, .sport = { R(80, 80) }, .n_sport = 1 }, { SL_M_PROTO, 6 } },
	  2, { V4, .proto = 6, .sport = 80, .flags = FRAG }, 1 },
	{ "dport range edges low", { { SL_M_DPORT, .dport = { R(5000, 5999) }, .n_dport = 1 } },
	  1, { V4, .proto = 17, .dport = 4999, .flags = L4 }, NONE },
	{ "dport range edges in", { { SL_M_DPORT, .dport = { R(5000, 5999) }, .n_dport = 1 } },
	  1, { V4, .proto = 17, .dport = 5999, .flags = L4 }, 0 },
	{ "dport 65535", { { SL_M_DPORT, .dport = { R(65535, 65535) }, .n_dport = 1 } },
	  1, { V6, .proto = 17, .dport = 65535, .flags = L4 }, 0 },
	{ "dport list second", { { SL_M_DPORT, .dport = { R(1, 2), R(8, 9) }, .n_dport = 2 } },
	  1, { V6, .proto = 17, .dport = 9, .flags = L4 }, 0 },
	{ "tcp flags syn", { { SL_M_TCP_FLAGS, .tcp_flags = 0x02, .tcp_mask = 0x12 } },
	  1, { V4, .proto = 6, .tcp_flags = 0x02, .flags = L4 }, 0 },
	{ "tcp flags syn+ack", { { SL_M_TCP_FLAGS, .tcp_flags = 0x02, .tcp_mask = 0x12 } },
	  1, { V4, .proto = 6, .tcp_flags = 0x12, .flags = L4 }, NONE },
	{ "tcp flags on UDP", { { SL_M_TCP_FLAGS, .tcp_flags = 0, .tcp_mask = 0 } },
	  1, { V4, .proto = 17, .tcp_flags = 0, .flags = L4 }, NONE },
	{ "tcp flags without L4", { { SL_M_TCP_FLAGS, .tcp_flags = 0, .tcp_mask = 0 } },
	  1, { V4, .proto = 6, .flags = FRAG }, NONE },
	{ "no tcp flags: holds on UDP",
	  { { SL_M_TCP_FLAGS, .tcp_mask = 0 }, { SL_M_DSCP, .dscp = 1 } },
	  2, { V4, .proto = 17, .flags = L4 }, 1 },
	{ "vlan hit", { { SL_M_VLAN, .vlan = { R(10, 20) }, .n_vlan = 1 } },
	  1, { V4, .vlan = 15, .flags = VLAN }, 0 },
	{ "vlan untagged", { { SL_M_VLAN, .vlan = { R(0, 4095) }, .n_vlan = 1 } },
	  1, { V4, .vlan = 15 }, NONE },
	{ "vlan 4095", { { SL_M_VLAN, .vlan = { R(4095, 4095) }, .n_vlan = 1 } },
	  1, { V6, .vlan = 4095, .flags = VLAN }, 0 },
	{ "dscp hit", { { SL_M_DSCP, .dscp = UINT64_C(1) << 46 } }, 1,
	  { V4, .dscp = 46 }, 0 },
	{ "dscp miss", { { SL_M_DSCP, .dscp = UINT64_C(1) << 46 } }, 1,
	  { V4, .dscp = 0 }, NONE },
	{ "src v6 only, v4 packet", { { SL_M_SRC, .src = { "2001:db8::/32" } } }, 1,
	  { V4, .src = "32.1.13.184" }, NONE },
	{ "src v6 only, v6 packet", { { SL_M_SRC, .src = { "2001:db8::/32" } } }, 1,
	  { V6, .src = "2001:db8:5::1" }, 0 },
	{ "src v4 /0, v6 packet", { { SL_M_SRC, .src = { "0.0.0.0/0" } } }, 1,
	  { V6 }, NONE },
	{ "src v4 /0, v4 packet", { { SL_M_SRC, .src = { "0.0.0.0/0" } } }, 1,
	  { V4, .src = "255.255.255.255" }, 0 },
	{ "nested: longer match keeps the shorter's class",
	  { { SL_M_SRC | SL_M_DPORT, .src = { "10.1.0.0/16" }, .dport = { R(53, 53) },
	      .n_dport = 1 }, { SL_M_SRC, .src = { "10.0.0.0/8" } } },
	  2, { V4, .src = "10.1.2.3", .proto = 17, .dport = 80, .flags = L4 }, 1 },
	{ "nested: the longer class first",
	  { { SL_M_SRC | SL_M_DPORT, .src = { "10.1.0.0/16" }, .dport = { R(53, 53) },
	      .n_dport = 1 }, { SL_M_SRC, .src = { "10.0.0.0/8" } } },
	  2, { V4, .src = "10.1.2.3", .proto = 17, .dport = 53, .flags = L4 }, 0 },
	{ "nested: outside the longer",
	  { { SL_M_SRC, .src = { "10.1.0.0/16" } }, { SL_M_SRC, .src = { "10.0.0.0/8" } } },
	  2, { V4, .src = "10.2.0.1" }, 1 },
	{ "nested: unconstrained class under a longer entry",
	  { { SL_M_DST, .dst = { "192.0.2.128/25" } }, { SL_M_PROTO, 6 } },
	  2, { V4, .dst = "192.0.2.200", .proto = 6 }, 0 },
	{ "nested: unconstrained class, entry misses",
	  { { SL_M_DST | SL_M_PROTO, 17, .dst = { "192.0.2.128/25" } }, { SL_M_PROTO, 6 } },
	  2, { V4, .dst = "192.0.2.200", .proto = 6 }, 1 },
	{ "v6 /128 and /127",
	  { { SL_M_DST, .dst = { "2001:db8::1/128" } }, { SL_M_DST, .dst = { "2001:db8::/127" } } },
	  2, { V6, .dst = "2001:db8::" }, 1 },
	{ "both lists of one class", { { SL_M_SRC, .src = { "10.0.0.0/8", "2001:db8::/32" } } },
	  1, { V6, .src = "2001:db8::9" }, 0 },
	{ "set but empty list never holds", { { SL_M_SRC }, { 0 } }, 2, { V4 }, 1 },
	{ "first match wins",
	  { { SL_M_DPORT, .dport = { R(1, 100) }, .n_dport = 1 },
	    { SL_M_DPORT, .dport = { R(50, 50) }, .n_dport = 1 } },
	  2, { V4, .proto = 6, .dport = 50, .flags = L4 }, 0 },
	{ "payload class is skipped",
	  { { SL_M_PROTO | SL_M_PAYLOAD, 6 }, { SL_M_PROTO, 6 } },
	  2, { V4, .proto = 6, .flags = L4 }, 1 },
	{ "payload class alone never matches", { { SL_M_PAYLOAD } }, 1, { V4 }, NONE },
	{ "all fields hold",
	  { { SL_M_PROTO | SL_M_SRC | SL_M_DST | SL_M_SPORT | SL_M_DPORT |
	      SL_M_TCP_FLAGS | SL_M_VLAN | SL_M_DSCP, 6, { "10.0.0.0/8" },
	      { "192.0.2.0/24" }, { R(1024, 65535) }, 1, { R(443, 443) }, 1,
	      0x02, 0x12, { R(100, 199) }, 1, 1 } },
	  1, { V4, "10.9.9.9", "192.0.2.9", 6, 40000, 443, L4 | VLAN, 0x02, 150, 0 }, 0 },
	{ "all fields, vlan off",
	  { { SL_M_PROTO | SL_M_SRC | SL_M_DST | SL_M_SPORT | SL_M_DPORT |
	      SL_M_TCP_FLAGS | SL_M_VLAN | SL_M_DSCP, 6, { "10.0.0.0/8" },
	      { "192.0.2.0/24" }, { R(1024, 65535) }, 1, { R(443, 443) }, 1,
	      0x02, 0x12, { R(100, 199) }, 1, 1 } },
	  1, { V4, "10.9.9.9", "192.0.2.9", 6, 40000, 443, L4 | VLAN, 0x02, 200, 0 }, NONE },
};

START_TEST(test_field)
{
	const struct field_case *fc = &field_cases[_i];
	struct hpolicy hp;
	struct sl_pkt_meta m;
	struct sl_xdp_tables *t;
	uint32_t got;

	mpolicy(&hp, fc->cls, fc->n);
	pkt(&fc->p, &m);
	/* The row's expectation is the reference's too. */
	if (!(fc->cls[0].fields & SL_M_PAYLOAD))
		ck_assert_msg(sl_classify_reference(&hp.p, &m) == fc->want,
			      "%s: the reference disagrees with the row", fc->what);
	t = must_build(&hp.p);
	got = sl_xdp_tables_classify(t, &m);
	ck_assert_msg(got == fc->want, "%s: got %d, want %d", fc->what,
		      (int)got, (int)fc->want);
	sl_xdp_tables_free(t);
}
END_TEST

/* The layout a policy compiles to: fields, none entries, trie entries. */
START_TEST(test_layout)
{
	static const struct mspec ms[] = {
		{ SL_M_SRC | SL_M_DPORT, .src = { "10.1.0.0/16", "10.0.0.0/8",
			"2001:db8::/32" }, .dport = { R(53, 53) }, .n_dport = 1 },
		{ SL_M_SRC | SL_M_TCP_FLAGS, .src = { "10.1.0.0/16" },
		  .tcp_flags = 2, .tcp_mask = 2 },
		{ SL_M_PROTO, SL_PROTO_ANY },
	};
	struct hpolicy hp;
	struct sl_xdp_tables *t;

	mpolicy(&hp, ms, 3);
	hp.p.default_action = SL_DEFAULT_DROP;
	t = must_build(&hp.p);
	ck_assert_uint_eq(t->cfg.version, 7);
	ck_assert_uint_eq(t->cfg.n_classes, 3);
	ck_assert_uint_eq(t->cfg.n_words, 1);
	ck_assert_uint_eq(t->cfg.default_drop, 1);
	/* proto: any does not constrain it */
	ck_assert_uint_eq(t->cfg.fields,
			  SL_XDP_F_SRC | SL_XDP_F_DPORT | SL_XDP_F_TCPF);
	/* v4: /0, 10/8, 10.1/16; /0 has class 2 only, 10.1/16 all three */
	ck_assert_uint_eq(t->src4.n, 3);
	ck_assert_uint_eq(t->src4.e[0].len, 0);
	ck_assert_uint_eq(t->src4.e[0].bm.w[0], 0x4);
	ck_assert_uint_eq(t->src4.e[1].len, 8);
	ck_assert_uint_eq(t->src4.e[1].bm.w[0], 0x5);
	ck_assert_uint_eq(t->src4.e[2].len, 16);
	ck_assert_uint_eq(t->src4.e[2].bm.w[0], 0x7);
	ck_assert_uint_eq(t->src6.n, 2);
	ck_assert_uint_eq(t->src6.e[1].bm.w[0], 0x5);
	/* no dst constraint: one /0 entry with every class */
	ck_assert_uint_eq(t->dst4.n, 1);
	ck_assert_uint_eq(t->dst4.e[0].bm.w[0], 0x7);
	/* ports: none entry has the classes without dport */
	ck_assert_uint_eq(t->dport.none.w[0], 0x6);
	ck_assert_uint_eq(sl_xdp_runs_get(&t->dport, 53)->w[0], 0x7);
	ck_assert_uint_eq(sl_xdp_runs_get(&t->dport, 54)->w[0], 0x6);
	ck_assert_uint_eq(t->dport.n, 3);
	ck_assert_uint_eq(t->sport.n, 1);
	ck_assert_uint_eq(t->sport.none.w[0], 0x7);
	ck_assert_uint_eq(t->tcpf[SL_XDP_TCPF_NONE].w[0], 0x5);
	ck_assert_uint_eq(t->tcpf[0x12].w[0], 0x7);
	ck_assert_uint_eq(t->tcpf[0x10].w[0], 0x5);
	ck_assert_uint_eq(t->n_degraded, 0);
	sl_xdp_tables_free(t);
}
END_TEST

/* Runs expand to the table the map holds, value by value. */
START_TEST(test_runs_expand)
{
	static const struct mspec ms[] = {
		{ SL_M_SPORT, .sport = { R(0, 0), R(10, 20), R(15, 30), R(31, 31) },
		  .n_sport = 4 },
		{ SL_M_SPORT, .sport = { R(65535, 65535), R(20, 20) }, .n_sport = 2 },
		{ 0 },
	};
	struct sl_xdp_bitmap *all = malloc(SL_XDP_PORT_ENTRIES * sizeof(*all));
	struct hpolicy hp;
	struct sl_xdp_tables *t;

	ck_assert_ptr_nonnull(all);
	mpolicy(&hp, ms, 3);
	t = must_build(&hp.p);
	sl_xdp_runs_expand(&t->sport, all);
	for (uint32_t v = 0; v < SL_XDP_PORT_ENTRIES; v++) {
		uint64_t want = 0x4;

		if (v == 0 || (v >= 10 && v <= 31))
			want |= 0x1;
		if (v == 65535 || v == 20)
			want |= 0x2;
		if (v == SL_XDP_PORT_NONE)
			want = 0x4;
		ck_assert_msg(all[v].w[0] == want, "port %u: %#" PRIx64 ", want %#" PRIx64,
			      v, (uint64_t)all[v].w[0], want);
		ck_assert_msg(memcmp(&all[v], sl_xdp_runs_get(&t->sport, v),
				     sizeof(all[v])) == 0, "port %u: get differs", v);
	}
	/* merged: 0, 1-9, 10-19, 20, 21-31, 32-65534, 65535 */
	ck_assert_uint_eq(t->sport.n, 7);
	free(all);
	sl_xdp_tables_free(t);
}
END_TEST

/* ---- (2) class records: as the dataplane compiles them ---- */

static const char *const record_policies[] = {
	"good-all-fields.yaml",
	"good-design.yaml",
};

/* Accepts a loaded policy; compares every class record with sl_ruleset_build's. */
static void records_check(const char *what, struct sl_policy *p)
{
	struct sl_slots *slots = calloc(1, sizeof(*slots));
	struct sl_xdp_tables *t;
	struct sl_ruleset *rs;
	char err[512] = "";

	ck_assert_ptr_nonnull(slots);
	t = must_build(p);
	rs = sl_ruleset_build(p, 1, NULL, slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_msg(rs != NULL, "%s: ruleset: %s", what, err);
	ck_assert_uint_eq(t->cfg.n_classes, rs->n_classes);
	ck_assert_uint_eq(t->cfg.default_drop, rs->default_drop);
	for (uint32_t i = 0; i < rs->n_classes; i++) {
		const struct sl_class_rt *r = &rs->rt[i];
		const struct sl_xdp_class *x = &t->cls[i];

		ck_assert_msg(memcmp(&x->tb, &r->tb, sizeof(r->tb)) == 0,
			      "%s: class %u: profile", what, i);
		ck_assert_msg(x->idle_ms == r->idle_ms && x->has_limit == r->has_limit &&
			      x->key == r->key && x->prefix4 == r->prefix4 &&
			      x->prefix6 == r->prefix6 && x->bits == r->bits &&
			      x->action == r->action && x->mark_dscp == r->mark_dscp,
			      "%s: class %u: record differs", what, i);
		ck_assert_str_eq(t->names[i], rs->policy->classes[i].name);
	}
	sl_ruleset_free(rs);
	sl_xdp_tables_free(t);
	free(slots);
}

START_TEST(test_records_files)
{
	char path[512];
	struct sl_policy *p;
	struct sl_diags d;

	test_eal_init();
	snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, record_policies[_i]);
	ck_assert_msg(sl_policy_load_file(path, &p, &d) == 0, "load %s", path);
	records_check(record_policies[_i], p);
}
END_TEST

/* Limits across the range: idle times at both bounds and between. */
START_TEST(test_records_limits)
{
	static const char *const lim[] = {
		"{ key: src, rate: 200pps, burst: 400 }",	/* 2 s */
		"{ key: src/24, rate: 10pps, burst: 1 }",	/* 100 ms: min */
		"{ key: dst/64, rate: 1pps, burst: 100000 }",	/* max */
		"{ key: flow, rate: 10Mbit, burst: 64KB }",
		"{ key: none, rate: 400Gbit, burst: 1MB }",
		"{ key: dst, rate: 1bit, burst: 2000B }",
		"{ key: src/33, rate: 3pps, burst: 7 }",
	};
	char buf[4096];
	size_t off = 0;
	struct sl_policy *p;
	struct sl_diags d;

	test_eal_init();
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
				"version: 1\ndefault: pass\nclasses:\n");
	for (uint32_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
			"  - name: l%u\n    match: { proto: tcp, dport: %u }\n    limit: %s\n"
			"    exceed: %s\n", i, i, lim[i],
			i % 3 == 0 ? "drop" : i % 3 == 1 ? "monitor" : "{ mark: af41 }");
	ck_assert_msg(sl_policy_load_buf("limits", buf, off, &p, &d) == 0,
		      "load: %s", d.n ? d.diag[0].msg : "?");
	records_check("limits", p);
}
END_TEST

/* ---- (3) degraded classes and limits ---- */

START_TEST(test_degraded)
{
	static const struct mspec ms[] = {
		{ SL_M_PAYLOAD },
		{ SL_M_DPORT | SL_M_PAYLOAD, .dport = { R(80, 80) }, .n_dport = 1 },
		{ 0 },
	};
	struct hpolicy hp;
	struct sl_xdp_tables *t;
	struct sl_pkt_meta m;
	struct pspec ps = { V4, .proto = 6, .dport = 80, .flags = L4 };

	mpolicy(&hp, ms, 3);
	hp.cls[2].has_limit = true;
	hp.cls[2].limit = (struct sl_limit){ SL_KEY_SRC, 128, SL_UNIT_PACKETS, 10, 10 };
	hp.cls[2].exceed.action = SL_EXCEED_SHAPE;
	t = must_build(&hp.p);
	ck_assert_uint_eq(t->n_degraded, 3);
	ck_assert_uint_eq(t->degraded[0].class_idx, 0);
	ck_assert_uint_eq(t->degraded[1].class_idx, 1);
	ck_assert_ptr_nonnull(strstr(t->degraded[0].why, "payload"));
	ck_assert_uint_eq(t->degraded[2].class_idx, 2);
	ck_assert_ptr_nonnull(strstr(t->degraded[2].why, "shap"));
	ck_assert_uint_eq(t->cls[2].action, SL_XDP_EXCEED_DROP);
	/* No class constrains a field, yet proto is looked up to skip 0 and 1. */
	ck_assert(t->cfg.fields & SL_XDP_F_PROTO);
	pkt(&ps, &m);
	ck_assert_uint_eq(sl_xdp_tables_classify(t, &m), 2);
	for (uint32_t v = 0; v < 256; v++)
		ck_assert_uint_eq(t->proto[v].w[0], 0x4);
	sl_xdp_tables_free(t);
}
END_TEST

/*
 * Ceilings are the dataplane's: a class with one is listed degraded,
 * keeping its per-key limit on XDP; one with only a ceiling passes all.
 */
START_TEST(test_degraded_ceiling)
{
	static const struct mspec ms[] = { { 0 }, { 0 }, { 0 } };
	struct hpolicy hp;
	struct sl_xdp_tables *t;

	mpolicy(&hp, ms, 3);
	hp.cls[0].has_limit = true;
	hp.cls[0].limit = (struct sl_limit){ SL_KEY_SRC, 128, SL_UNIT_PACKETS, 10, 10 };
	hp.cls[0].has_ceiling = true;
	hp.cls[0].ceiling = (struct sl_ceiling){ SL_UNIT_PACKETS, 2000, 2000 };
	hp.cls[1].has_ceiling = true;
	hp.cls[1].ceiling = (struct sl_ceiling){ SL_UNIT_BITS, 1000000, 2000 };
	hp.cls[1].exceed.action = SL_EXCEED_MONITOR;
	t = must_build(&hp.p);
	ck_assert_uint_eq(t->n_degraded, 2);
	ck_assert_uint_eq(t->degraded[0].class_idx, 0);
	ck_assert_str_eq(t->degraded[0].why, "ceiling is enforced by the dataplane only: on XDP only the per-key limit applies");
	ck_assert_uint_eq(t->degraded[1].class_idx, 1);
	ck_assert_ptr_nonnull(strstr(t->degraded[1].why, "ceiling is enforced by the dataplane only"));
	/* The limit stays on XDP; the ceiling-only class has none there. */
	ck_assert_uint_eq(t->cls[0].has_limit, 1);
	ck_assert_uint_eq(t->cls[0].tb.rate, 10);
	ck_assert_uint_eq(t->cls[1].has_limit, 0);
	sl_xdp_tables_free(t);
}
END_TEST

/* n classes, class i matching dport i. */
static void dport_policy(struct sl_policy *p, uint32_t n)
{
	memset(p, 0, sizeof(*p));
	p->version = SL_POLICY_VERSION;
	p->n_classes = n;
	p->classes = calloc(n, sizeof(*p->classes));
	ck_assert_ptr_nonnull(p->classes);
	for (uint32_t i = 0; i < n; i++) {
		struct sl_range *r = malloc(sizeof(*r));

		ck_assert_ptr_nonnull(r);
		*r = (struct sl_range){ (uint16_t)i, (uint16_t)i };
		snprintf(p->classes[i].name, SL_CLASS_NAME_MAX, "d%u", i);
		p->classes[i].match.fields = SL_M_DPORT;
		p->classes[i].match.dport = r;
		p->classes[i].match.n_dport = 1;
	}
}

static void dport_policy_free(struct sl_policy *p)
{
	for (uint32_t i = 0; i < p->n_classes; i++)
		free(p->classes[i].match.dport);
	free(p->classes);
}

START_TEST(test_classes_max)
{
	struct sl_policy p;
	struct sl_xdp_tables *t = NULL;
	struct sl_pkt_meta m = { .family = V4, .proto = 17, .flags = L4 };
	char err[256] = "";

	dport_policy(&p, SL_XDP_CLASSES_MAX + 1);
	ck_assert_int_eq(sl_xdp_tables_build(&p, 1, &t, err, sizeof(err)), -E2BIG);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, "1025") && strstr(err, "1024"), "message: %s", err);
	p.n_classes = SL_XDP_CLASSES_MAX;
	t = must_build(&p);
	ck_assert_uint_eq(t->cfg.n_words, SL_XDP_WORDS);
	for (uint32_t d = 0; d < 1100; d += 1) {
		m.dport = (uint16_t)d;
		ck_assert_uint_eq(sl_xdp_tables_classify(t, &m),
				  d < SL_XDP_CLASSES_MAX ? d : NONE);
	}
	sl_xdp_tables_free(t);
	p.n_classes = SL_XDP_CLASSES_MAX + 1;
	dport_policy_free(&p);
}
END_TEST

/*
 * A policy of distinct /32 sources (dst when !src), 256 to a class,
 * with a /0 among them when with_zero.
 */
static void prefix_policy(struct sl_policy *p, uint32_t n_pfx, bool src,
			  bool with_zero)
{
	uint32_t n = (n_pfx + 255) / 256;

	memset(p, 0, sizeof(*p));
	p->n_classes = n;
	p->classes = calloc(n, sizeof(*p->classes));
	ck_assert_ptr_nonnull(p->classes);
	for (uint32_t i = 0; i < n; i++) {
		struct sl_match *m = &p->classes[i].match;
		uint32_t k = n_pfx - i * 256 < 256 ? n_pfx - i * 256 : 256;
		struct sl_prefix *pf = calloc(k, sizeof(*pf));

		ck_assert_ptr_nonnull(pf);
		for (uint32_t j = 0; j < k; j++) {
			uint32_t a = htonl(0x0a000000u + i * 256 + j);

			pf[j].family = V4;
			pf[j].len = 32;
			memcpy(pf[j].addr, &a, 4);
		}
		if (with_zero && i == 0) {
			pf[0].len = 0;
			memset(pf[0].addr, 0, 4);
		}
		snprintf(p->classes[i].name, SL_CLASS_NAME_MAX, "p%u", i);
		m->fields = src ? SL_M_SRC : SL_M_DST;
		if (src) {
			m->src = pf;
			m->n_src = k;
		} else {
			m->dst = pf;
			m->n_dst = k;
		}
	}
}

static void prefix_policy_free(struct sl_policy *p)
{
	for (uint32_t i = 0; i < p->n_classes; i++) {
		free(p->classes[i].match.src);
		free(p->classes[i].match.dst);
	}
	free(p->classes);
}

struct prefix_case {
	uint32_t n_pfx;
	bool src;
	bool with_zero;
	int want;
};

static const struct prefix_case prefix_cases[] = {
	{ SL_XDP_SET_PREFIXES_MAX - 1, true, false, 0 },	/* + /0: full */
	{ SL_XDP_SET_PREFIXES_MAX, true, false, -E2BIG },
	{ SL_XDP_SET_PREFIXES_MAX, false, true, 0 },	/* its /0 is the /0 */
	{ SL_XDP_SET_PREFIXES_MAX + 1, false, true, -E2BIG },
	{ 40960, true, false, -E2BIG },
};

START_TEST(test_prefixes_max)
{
	const struct prefix_case *pc = &prefix_cases[_i];
	struct sl_xdp_tables *t = NULL;
	struct sl_policy p;
	char err[256] = "";
	int rc;

	prefix_policy(&p, pc->n_pfx, pc->src, pc->with_zero);
	rc = sl_xdp_tables_build(&p, 1, &t, err, sizeof(err));
	ck_assert_msg(rc == pc->want, "%u prefixes: rc %d (%s)", pc->n_pfx, rc, err);
	if (rc == 0) {
		const struct sl_xdp_trie *tr = pc->src ? &t->src4 : &t->dst4;

		ck_assert_uint_eq(tr->n, SL_XDP_SET_PREFIXES_MAX);
		sl_xdp_tables_free(t);
	} else {
		ck_assert_ptr_null(t);
		ck_assert_msg(strstr(err, pc->src ? "src" : "dst") != NULL,
			      "message: %s", err);
	}
	prefix_policy_free(&p);
}
END_TEST

/* ---- (4) differential: random policies against the reference ---- */

struct rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t rndn(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

static bool chance(struct rng *r, uint32_t percent)
{
	return rndn(r, 100) < percent;
}

/* A few bytes, so that random prefixes nest and random packets hit. */
static uint8_t rnd_byte(struct rng *r)
{
	static const uint8_t pool[] = { 0, 1, 2, 10, 127, 128, 192, 254, 255 };

	if (chance(r, 30))
		return (uint8_t)rnd(r);
	return pool[rndn(r, sizeof(pool))];
}

static void rnd_prefix(struct rng *r, uint8_t family, struct sl_prefix *pf)
{
	static const uint8_t len4[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25,
					30, 31, 32, 32 };
	static const uint8_t len6[] = { 0, 1, 16, 31, 32, 33, 47, 48, 56, 57,
					63, 64, 65, 95, 96, 97, 120, 127, 128 };
	uint32_t bytes = family == V4 ? 4 : 16;

	memset(pf, 0, sizeof(*pf));
	pf->family = family;
	pf->len = family == V4 ? len4[rndn(r, sizeof(len4))] :
		  len6[rndn(r, sizeof(len6))];
	for (uint32_t i = 0; i < bytes; i++)
		pf->addr[i] = rnd_byte(r);
	for (uint32_t i = pf->len; i < 128; i++)
		pf->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static uint16_t rnd_port(struct rng *r)
{
	static const uint16_t pool[] = { 0, 1, 22, 53, 80, 255, 256, 443,
					 1023, 1024, 8080, 32768, 65534, 65535 };

	if (chance(r, 40))
		return (uint16_t)rnd(r);
	return pool[rndn(r, sizeof(pool) / sizeof(pool[0]))];
}

static void rnd_range(struct rng *r, struct sl_range *rg, uint16_t max)
{
	uint16_t a = (uint16_t)(rnd_port(r) % (max + 1u)), b;

	if (chance(r, 40))
		b = a;
	else if (chance(r, 50))
		b = (uint16_t)((uint32_t)a + rndn(r, 64) > max ? max : a + rndn(r, 64));
	else
		b = (uint16_t)(rnd_port(r) % (max + 1u));
	rg->lo = a < b ? a : b;
	rg->hi = a < b ? b : a;
}

static uint8_t rnd_proto(struct rng *r)
{
	static const uint8_t pool[] = { 6, 6, 17, 17, 1, 58, 0, 47, 255 };

	if (chance(r, 10))
		return (uint8_t)rnd(r);
	return pool[rndn(r, sizeof(pool))];
}

static uint64_t rnd_dscp_set(struct rng *r)
{
	switch (rndn(r, 5)) {
	case 0:
		return UINT64_C(1) << rndn(r, 64);
	case 1:
		return rnd(r);
	case 2:
		return rnd(r) & rnd(r) & rnd(r);
	case 3:
		return chance(r, 50) ? UINT64_MAX : 0;
	default:
		return (UINT64_C(1) << rndn(r, 64)) | (UINT64_C(1) << rndn(r, 64));
	}
}

static uint32_t rnd_list_len(struct rng *r)
{
	if (chance(r, 2))
		return 0;	/* set but empty: never holds */
	return 1 + rndn(r, chance(r, 80) ? 2 : LIST_MAX);
}

static uint32_t rnd_fields(struct rng *r)
{
	static const uint32_t odds[][2] = {
		{ SL_M_PROTO, 40 }, { SL_M_SRC, 40 }, { SL_M_DST, 35 },
		{ SL_M_SPORT, 25 }, { SL_M_DPORT, 35 }, { SL_M_TCP_FLAGS, 15 },
		{ SL_M_VLAN, 15 }, { SL_M_DSCP, 15 },
	};
	uint32_t f;

	do {
		f = 0;
		for (uint32_t i = 0; i < sizeof(odds) / sizeof(odds[0]); i++)
			if (chance(r, odds[i][1]))
				f |= odds[i][0];
	} while (f == 0 && !chance(r, 3));
	return f;
}

/* Fills every list, set or not: the tables must ignore unset ones. */
static void rnd_match(struct rng *r, uint32_t fields, struct sl_match *m)
{
	memset(m, 0, sizeof(*m));
	m->fields = fields;
	if (chance(r, 4))
		m->fields |= SL_M_PAYLOAD;
	m->proto = chance(r, 15) ? SL_PROTO_ANY : rnd_proto(r);
	m->src = calloc(LIST_MAX, sizeof(*m->src));
	m->dst = calloc(LIST_MAX, sizeof(*m->dst));
	m->sport = calloc(LIST_MAX, sizeof(*m->sport));
	m->dport = calloc(LIST_MAX, sizeof(*m->dport));
	m->vlan = calloc(LIST_MAX, sizeof(*m->vlan));
	ck_assert(m->src && m->dst && m->sport && m->dport && m->vlan);
	m->n_src = rnd_list_len(r);
	for (uint32_t i = 0; i < m->n_src; i++)
		rnd_prefix(r, chance(r, 60) ? V4 : V6, &m->src[i]);
	m->n_dst = rnd_list_len(r);
	for (uint32_t i = 0; i < m->n_dst; i++)
		rnd_prefix(r, chance(r, 60) ? V4 : V6, &m->dst[i]);
	m->n_sport = rnd_list_len(r);
	for (uint32_t i = 0; i < m->n_sport; i++)
		rnd_range(r, &m->sport[i], UINT16_MAX);
	m->n_dport = rnd_list_len(r);
	for (uint32_t i = 0; i < m->n_dport; i++)
		rnd_range(r, &m->dport[i], UINT16_MAX);
	m->n_vlan = rnd_list_len(r);
	for (uint32_t i = 0; i < m->n_vlan; i++)
		rnd_range(r, &m->vlan[i], 4095);
	m->tcp_mask = (uint8_t)(rnd(r) & (chance(r, 70) ? 0x17 : 0xff));
	m->tcp_flags = (uint8_t)(rnd(r) & m->tcp_mask);
	if (chance(r, 5))
		m->tcp_flags |= (uint8_t)rnd(r);	/* may never hold */
	m->dscp = rnd_dscp_set(r);
}

struct rpolicy {
	struct sl_policy p;
	struct sl_class *cls;
	struct sl_policy live;		/* the classes without a payload */
	struct sl_class *live_cls;
	uint32_t *live_idx;		/* their index in p */
};

/* A random policy of n classes, most sharing a few shapes. */
static void rpolicy_make(struct rng *r, struct rpolicy *rp, uint32_t n)
{
	uint32_t n_shapes = 1 + rndn(r, 4), shape[4];

	memset(rp, 0, sizeof(*rp));
	rp->cls = calloc(n ? n : 1, sizeof(*rp->cls));
	rp->live_cls = calloc(n ? n : 1, sizeof(*rp->live_cls));
	rp->live_idx = calloc(n ? n : 1, sizeof(*rp->live_idx));
	ck_assert(rp->cls && rp->live_cls && rp->live_idx);
	rp->p.version = SL_POLICY_VERSION;
	rp->p.n_classes = n;
	rp->p.classes = rp->cls;
	rp->p.default_action = chance(r, 50) ? SL_DEFAULT_DROP : SL_DEFAULT_PASS;
	for (uint32_t i = 0; i < n_shapes; i++)
		shape[i] = rnd_fields(r);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(rp->cls[i].name, sizeof(rp->cls[i].name), "r%u", i);
		rnd_match(r, chance(r, 85) ? shape[rndn(r, n_shapes)] :
			  rnd_fields(r), &rp->cls[i].match);
		if (rp->cls[i].match.fields & SL_M_PAYLOAD)
			continue;
		rp->live_idx[rp->live.n_classes] = i;
		rp->live_cls[rp->live.n_classes++] = rp->cls[i];
	}
	rp->live.classes = rp->live_cls;
}

static void rpolicy_free(struct rpolicy *rp)
{
	for (uint32_t i = 0; i < rp->p.n_classes; i++) {
		free(rp->cls[i].match.src);
		free(rp->cls[i].match.dst);
		free(rp->cls[i].match.sport);
		free(rp->cls[i].match.dport);
		free(rp->cls[i].match.vlan);
	}
	free(rp->cls);
	free(rp->live_cls);
	free(rp->live_idx);
}

/* What the XDP path must find: the reference over the classes it enforces. */
static uint32_t expected(const struct rpolicy *rp, const struct sl_pkt_meta *m)
{
	uint32_t i = sl_classify_reference(&rp->live, m);

	return i == NONE ? NONE : rp->live_idx[i];
}

static void rnd_addr_near(struct rng *r, const struct sl_prefix *pf, uint8_t *a)
{
	uint32_t bits = pf->family == V4 ? 32 : 128, roll = rndn(r, 10);

	memset(a, 0, 16);
	memcpy(a, pf->addr, bits / 8);
	for (uint32_t i = pf->len; i < bits; i++) {
		bool one = roll == 0 ? false : roll == 1 ? true : rnd(r) & 1;

		if (one)
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	if (pf->len > 0 && roll >= 8)	/* the nearest address outside */
		a[(pf->len - 1) / 8] ^= (uint8_t)(0x80 >> ((pf->len - 1) % 8));
}

static uint16_t rnd_near(struct rng *r, const struct sl_range *rg, uint32_t n)
{
	const struct sl_range *e;

	if (n == 0)
		return rnd_port(r);
	e = &rg[rndn(r, n)];
	switch (rndn(r, 5)) {
	case 0:
		return (uint16_t)(e->lo - 1);
	case 1:
		return e->lo;
	case 2:
		return e->hi;
	case 3:
		return (uint16_t)(e->hi + 1);
	default:
		return (uint16_t)(e->lo + rndn(r, e->hi - e->lo + 1u));
	}
}

static const struct sl_prefix *pick_prefix(struct rng *r,
					   const struct sl_prefix *pf,
					   uint32_t n, uint8_t family)
{
	const struct sl_prefix *c[LIST_MAX];
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		if (pf[i].family == family || family == 0)
			c[k++] = &pf[i];
	return k ? c[rndn(r, k)] : NULL;
}

/* Bends a random packet towards match mt. */
static void aim_at(struct rng *r, const struct sl_match *mt,
		   struct sl_pkt_meta *m)
{
	const struct sl_prefix *pf;
	uint32_t d;

	if ((mt->fields & SL_M_PROTO) && mt->proto != SL_PROTO_ANY && chance(r, 85))
		m->proto = (uint8_t)mt->proto;
	if ((mt->fields & SL_M_TCP_FLAGS) && chance(r, 80)) {
		m->proto = chance(r, 90) ? 6 : m->proto;
		m->tcp_flags = chance(r, 80) ? (uint8_t)(mt->tcp_flags |
			(rnd(r) & ~mt->tcp_mask)) : (uint8_t)rnd(r);
	}
	if ((mt->fields & SL_M_SRC) &&
	    (pf = pick_prefix(r, mt->src, mt->n_src, 0)) != NULL) {
		if (chance(r, 85))
			m->family = pf->family;
		if (pf->family == m->family)
			rnd_addr_near(r, pf, m->src);
	}
	if ((mt->fields & SL_M_DST) &&
	    (pf = pick_prefix(r, mt->dst, mt->n_dst, m->family)) != NULL)
		rnd_addr_near(r, pf, m->dst);
	if ((mt->fields & SL_M_SPORT) && chance(r, 90))
		m->sport = rnd_near(r, mt->sport, mt->n_sport);
	if ((mt->fields & SL_M_DPORT) && chance(r, 90))
		m->dport = rnd_near(r, mt->dport, mt->n_dport);
	if ((mt->fields & SL_M_VLAN) && chance(r, 90)) {
		m->vlan = rnd_near(r, mt->vlan, mt->n_vlan) & 0xfff;
		if (chance(r, 85))
			m->flags |= VLAN;
	}
	if ((mt->fields & SL_M_DSCP) && mt->dscp != 0 && chance(r, 80)) {
		do
			d = rndn(r, 64);
		while (!((mt->dscp >> d) & 1));
		m->dscp = (uint8_t)d;
	}
}

static void rnd_pkt(struct rng *r, const struct sl_policy *p,
		    struct sl_pkt_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->family = chance(r, 50) ? V4 : V6;
	if (chance(r, 2))
		m->family = SL_FAMILY_NONE;
	if (chance(r, 2))
		m->malformed = (uint8_t)(1 + rndn(r, SL_MAL__COUNT - 1));
	m->proto = rnd_proto(r);
	m->tcp_flags = (uint8_t)rnd(r);
	m->dscp = (uint8_t)rndn(r, 64);
	m->vlan = (uint16_t)rndn(r, 4096);
	m->sport = rnd_port(r);
	m->dport = rnd_port(r);
	if (chance(r, 50))
		m->flags |= VLAN;
	if (chance(r, 85))
		m->flags |= L4;
	else
		m->flags |= FRAG;
	for (uint32_t i = 0; i < 16; i++) {
		m->src[i] = rnd_byte(r);
		m->dst[i] = rnd_byte(r);
	}
	if (p->n_classes != 0) {
		uint32_t aims = chance(r, 85) ? 1 + chance(r, 30) : 0;

		for (uint32_t i = 0; i < aims; i++)
			aim_at(r, &p->classes[rndn(r, p->n_classes)].match, m);
	}
	if (m->family == V4) {
		memset(m->src + 4, 0, 12);
		memset(m->dst + 4, 0, 12);
	}
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Accepts a random IP packet's metadata; writes the frame it describes
 * (a non-first fragment when it has no L4) and returns its length.
 */
static uint32_t frame_of(const struct sl_pkt_meta *m, uint8_t *f)
{
	uint32_t off = 12, l4len = m->proto == 6 ? 20 : 8, ip;
	bool frag = !(m->flags & L4) || (m->proto != 6 && m->proto != 17);

	memset(f, 0, 256);
	if (m->flags & VLAN) {
		wr16(f + off, 0x8100);
		wr16(f + off + 2, m->vlan & 0xfff);
		off += 4;
	}
	wr16(f + off, m->family == V4 ? 0x0800 : 0x86dd);
	ip = off + 2;
	if (m->family == V4) {
		f[ip] = 0x45;
		f[ip + 1] = (uint8_t)(m->dscp << 2);
		wr16(f + ip + 2, (uint16_t)(20 + l4len));
		if (frag)
			wr16(f + ip + 6, 100);	/* fragment offset 800 */
		f[ip + 8] = 64;
		f[ip + 9] = m->proto;
		memcpy(f + ip + 12, m->src, 4);
		memcpy(f + ip + 16, m->dst, 4);
		off = ip + 20;
	} else {
		f[ip] = (uint8_t)(0x60 | (m->dscp >> 2));
		f[ip + 1] = (uint8_t)((m->dscp & 3) << 6);
		wr16(f + ip + 4, (uint16_t)(l4len + (frag ? 8 : 0)));
		f[ip + 6] = frag ? 44 : m->proto;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, m->src, 16);
		memcpy(f + ip + 24, m->dst, 16);
		off = ip + 40;
		if (frag) {
			f[off] = m->proto;
			wr16(f + off + 2, 800);	/* offset 100 * 8 */
			off += 8;
		}
	}
	wr16(f + off, m->sport);
	wr16(f + off + 2, m->dport);
	if (m->proto == 6) {
		f[off + 12] = 0x50;
		f[off + 13] = m->tcp_flags;
	} else {
		wr16(f + off + 4, 8);
	}
	return off + l4len;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void dump_pkt(const struct sl_pkt_meta *m)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = m->family == V4 ? AF_INET : AF_INET6;

	inet_ntop(af, m->src, s, sizeof(s));
	inet_ntop(af, m->dst, d, sizeof(d));
	fprintf(stderr, "  pkt fam=%u %s -> %s proto=%u %u -> %u flags=%#x tcp=%#x vlan=%u dscp=%u mal=%u\n",
		m->family, s, d, m->proto, m->sport, m->dport, m->flags,
		m->tcp_flags, m->vlan, m->dscp, m->malformed);
}

/* Differences, pairs, matched pairs, parsed pairs. */
struct diff_stats {
	uint64_t diffs;
	uint64_t pairs;
	uint64_t matched;
	uint64_t parsed;
};

static void diff_policy(struct rng *r, const struct rpolicy *rp,
			uint32_t n_pkts, struct diff_stats *st)
{
	struct sl_xdp_tables *t = must_build(&rp->p);
	uint8_t frame[256];

	for (uint32_t k = 0; k < n_pkts; k++) {
		struct sl_pkt_meta m, pm;
		const struct sl_pkt_meta *use = &m;
		uint32_t want, got;

		rnd_pkt(r, &rp->p, &m);
		if (m.malformed == SL_MAL_NONE && m.family != SL_FAMILY_NONE &&
		    chance(r, 10)) {
			uint32_t len = frame_of(&m, frame);

			sl_pkt_parse(frame, len, &pm);
			use = &pm;
			st->parsed++;
		}
		want = expected(rp, use);
		got = sl_xdp_tables_classify(t, use);
		st->pairs++;
		st->matched += want != NONE;
		if (want == got)
			continue;
		if (st->diffs++ < 5) {
			fprintf(stderr, "differ: %u classes, want %d got %d\n",
				rp->p.n_classes, (int)want, (int)got);
			dump_pkt(use);
		}
	}
	sl_xdp_tables_free(t);
}

START_TEST(test_differential)
{
	uint64_t seed = env_u64("SL_TEST_SEED", (uint64_t)time(NULL));
	uint64_t n_pol = env_u64("SL_TEST_POLICIES", 400);
	struct rng r = { seed };
	struct diff_stats st = { 0 };

	for (uint64_t i = 0; i < n_pol; i++) {
		struct rpolicy rp;
		/* Some policies span bitmap words: more than 64 classes. */
		uint32_t n = chance(&r, 20) ? 65 + rndn(&r, 300) : rndn(&r, 40);

		rpolicy_make(&r, &rp, n);
		diff_policy(&r, &rp, 600, &st);
		rpolicy_free(&rp);
	}
	fprintf(stderr, "differential: seed %" PRIu64 ": %" PRIu64 " pairs (%" PRIu64
		" parsed), %" PRIu64 " matched a class, %" PRIu64 " differences\n",
		seed, st.pairs, st.parsed, st.matched, st.diffs);
	ck_assert_msg(st.diffs == 0, "seed %" PRIu64 ": %" PRIu64 " differences",
		      seed, st.diffs);
	ck_assert_uint_ge(st.pairs, n_pol * 600);
	/* Meaningful only if both outcomes are common. */
	ck_assert_uint_ge(st.matched * 10, st.pairs * 3);
	ck_assert_uint_ge((st.pairs - st.matched) * 20, st.pairs);
}
END_TEST

static Suite *xdp_tables_suite(void)
{
	Suite *s = suite_create("xdp_tables");
	TCase *tc;

	tc = tcase_create("fields");
	tcase_add_loop_test(tc, test_field, 0,
			    sizeof(field_cases) / sizeof(field_cases[0]));
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_runs_expand);
	tcase_add_test(tc, test_degraded);
	tcase_add_test(tc, test_degraded_ceiling);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_records_files, 0,
			    sizeof(record_policies) / sizeof(record_policies[0]));
	tcase_add_test(tc, test_records_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_classes_max);
	tcase_add_loop_test(tc, test_prefixes_max, 0,
			    sizeof(prefix_cases) / sizeof(prefix_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xdp_tables_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
