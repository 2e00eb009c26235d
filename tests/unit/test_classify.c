/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classifier tests: table-driven cases per match field, a differential
 * test of the classifier against the linear reference on random policies
 * and packets, 10,000-class policies, and every burst size; each in the
 * default split of rules between hash tables and rte_acl and in others.
 *
 * SL_TEST_SEED=N repeats a differential run; SL_TEST_POLICIES=N changes
 * how many random policies it tries; SL_TEST_SPLIT=0 or 1 builds them
 * all in the default split or all hashed, not in turn.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "classify.h"
#include "eal_helper.h"

#define L4	SL_PKT_F_L4
#define VLAN	SL_PKT_F_VLAN
#define FRAG	SL_PKT_F_FRAG
#define FIRST	SL_PKT_F_FRAG_FIRST
#define NONE	SL_CLASS_NONE

#define LIST_MAX	4	/* entries per list in a table row */

/* ---- building policies and packets by hand ---- */

/* A class as a table row writes it: prefixes as text, short lists. */
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

/* A packet as a table row writes it; NULL addresses take defaults. */
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

/* Storage for a class built from an mspec. */
struct hclass {
	struct sl_prefix src[LIST_MAX];
	struct sl_prefix dst[LIST_MAX];
	struct sl_range sport[LIST_MAX];
	struct sl_range dport[LIST_MAX];
	struct sl_range vlan[LIST_MAX];
};

#define HCLASSES_MAX	8

/* A policy built from mspecs. */
struct hpolicy {
	struct sl_policy p;
	struct sl_class cls[HCLASSES_MAX];
	struct hclass store[HCLASSES_MAX];
};

/* Accepts "addr/len" (IPv4 or IPv6); zeroes the host bits as the loader does. */
static struct sl_prefix pfx(const char *s)
{
	struct sl_prefix pf = { 0 };
	char buf[64];
	char *slash;
	uint32_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	ck_assert_msg(slash != NULL, "bad prefix %s", s);
	*slash = '\0';
	pf.len = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, pf.addr) == 1)
		pf.family = SL_FAMILY_IPV4;
	else if (inet_pton(AF_INET6, buf, pf.addr) == 1)
		pf.family = SL_FAMILY_IPV6;
	else
		ck_abort_msg("bad prefix %s", s);
	for (i = pf.len; i < 128; i++)
		pf.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return pf;
}

/* Accepts an address in text; writes it in network order. */
static void addr(const char *s, uint8_t family, uint8_t *out)
{
	memset(out, 0, 16);
	ck_assert_msg(inet_pton(family == SL_FAMILY_IPV4 ? AF_INET : AF_INET6,
				s, out) == 1, "bad address %s", s);
}

/* Accepts a table row; fills a parsed packet. */
static void pkt(const struct pspec *ps, struct sl_pkt_meta *m)
{
	int v6 = ps->family == SL_FAMILY_IPV6;

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
	addr(ps->src ? ps->src : v6 ? "2001:db8::1" : "192.0.2.1",
	     ps->family, m->src);
	addr(ps->dst ? ps->dst : v6 ? "2001:db8::2" : "198.51.100.1",
	     ps->family, m->dst);
}

/* Accepts a table row; fills a class whose lists live in st. */
static void mclass(const struct mspec *ms, struct sl_class *c,
		   struct hclass *st, uint32_t idx)
{
	uint32_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "c%u", idx);
	c->match.fields = ms->fields;
	c->match.proto = ms->proto;
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
	c->match.tcp_flags = ms->tcp_flags;
	c->match.tcp_mask = ms->tcp_mask;
	c->match.dscp = ms->dscp;
}

/* Accepts up to HCLASSES_MAX rows; fills a policy of them, in order. */
static void mpolicy(struct hpolicy *hp, const struct mspec *ms, uint32_t n)
{
	uint32_t i;

	ck_assert_uint_le(n, HCLASSES_MAX);
	memset(hp, 0, sizeof(*hp));
	hp->p.version = SL_POLICY_VERSION;
	hp->p.n_classes = n;
	hp->p.classes = hp->cls;
	for (i = 0; i < n; i++)
		mclass(&ms[i], &hp->cls[i], &hp->store[i], i);
}

/*
 * The splits between hash tables and rte_acl that the classifier is held
 * to: its default, rte_acl alone, and a hash table for every mask.
 */
static const struct sl_classify_opts opt_acl = { .hash_tables = 0 };
static const struct sl_classify_opts opt_hash = {
	.hash_tables = SL_CLASSIFY_HASH_TABLES_MAX, .hash_rules_min = 1 };

static const struct {
	const char *name;
	const struct sl_classify_opts *o;
} splits[] = {
	{ "default", NULL },
	{ "acl only", &opt_acl },
	{ "all hashed", &opt_hash },
};

#define N_SPLITS	(sizeof(splits) / sizeof(splits[0]))

/* Accepts a policy that must build with opts o (NULL: default). */
static struct sl_classifier *must_build_opts(const struct sl_policy *p,
					     const struct sl_classify_opts *o)
{
	struct sl_classifier *c;
	char err[512] = "";

	c = sl_classifier_build_opts(p, SOCKET_ID_ANY, o, err, sizeof(err));
	ck_assert_msg(c != NULL, "build failed: %s (%s)", err,
		      rte_strerror(rte_errno));
	return c;
}

/* Accepts a policy that must build; returns its classifier. */
static struct sl_classifier *must_build(const struct sl_policy *p)
{
	return must_build_opts(p, NULL);
}

/* Accepts a classifier; classifies one packet through the burst path. */
static uint32_t classify1(const struct sl_classifier *c,
			  const struct sl_pkt_meta *m)
{
	const struct sl_pkt_meta *mp[1] = { m };
	uint32_t out = 12345;

	sl_classify_burst(c, mp, 1, &out);
	return out;
}

/* Once per test case, in the parent: forked tests inherit the EAL. */
static void setup(void)
{
	test_eal_init();
}

/* ---- (1) one field at a time ---- */

#define R(a, b)		{ .lo = (a), .hi = (b) }
#define P4(...)		{ .family = SL_FAMILY_IPV4, __VA_ARGS__ }
#define P6(...)		{ .family = SL_FAMILY_IPV6, __VA_ARGS__ }
#define BIT(d)		(UINT64_C(1) << (d))

struct field_case {
	const char *what;
	struct mspec m;
	struct pspec p;
	bool match;
};

static const struct field_case field_cases[] = {
	/* empty match: every IP packet, nothing else */
	{ "empty/v4", { 0 }, P4(.proto = 6, .flags = L4), true },
	{ "empty/v6", { 0 }, P6(.proto = 17, .flags = L4), true },
	{ "empty/v4 fragment", { 0 }, P4(.proto = 17, .flags = FRAG), true },
	{ "empty/non-IP", { 0 }, { .family = SL_FAMILY_NONE }, false },
	{ "empty/malformed v4", { 0 },
	  P4(.proto = 6, .flags = L4, .malformed = SL_MAL_TCP_DOFF), false },
	{ "empty/malformed v6", { 0 },
	  P6(.malformed = SL_MAL_IP6_EXT_DEPTH), false },
	{ "payload only is ignored", { .fields = SL_M_PAYLOAD },
	  P4(.proto = 6), true },

	/* proto */
	{ "proto tcp/tcp", { .fields = SL_M_PROTO, .proto = 6 },
	  P4(.proto = 6, .flags = L4), true },
	{ "proto tcp/udp", { .fields = SL_M_PROTO, .proto = 6 },
	  P4(.proto = 17, .flags = L4), false },
	{ "proto tcp/v6 tcp", { .fields = SL_M_PROTO, .proto = 6 },
	  P6(.proto = 6, .flags = L4), true },
	{ "proto 0/0", { .fields = SL_M_PROTO, .proto = 0 },
	  P6(.proto = 0), true },
	{ "proto 255/254", { .fields = SL_M_PROTO, .proto = 255 },
	  P4(.proto = 254), false },
	{ "proto any/gre", { .fields = SL_M_PROTO, .proto = SL_PROTO_ANY },
	  P4(.proto = 47), true },
	{ "proto unset, value ignored", { .proto = 6 }, P4(.proto = 17), true },

	/* src, IPv4 */
	{ "src v4 /24 in", { .fields = SL_M_SRC, .src = { "10.1.2.0/24" } },
	  P4(.src = "10.1.2.77"), true },
	{ "src v4 /24 last", { .fields = SL_M_SRC, .src = { "10.1.2.0/24" } },
	  P4(.src = "10.1.2.255"), true },
	{ "src v4 /24 next", { .fields = SL_M_SRC, .src = { "10.1.2.0/24" } },
	  P4(.src = "10.1.3.0"), false },
	{ "src v4 /24 before", { .fields = SL_M_SRC, .src = { "10.1.2.0/24" } },
	  P4(.src = "10.1.1.255"), false },
	{ "src v4 byte order", { .fields = SL_M_SRC, .src = { "10.1.2.0/24" } },
	  P4(.src = "2.1.10.0"), false },
	{ "src v4 /23 upper half", { .fields = SL_M_SRC, .src = { "10.1.2.0/23" } },
	  P4(.src = "10.1.3.9"), true },
	{ "src v4 /23 outside", { .fields = SL_M_SRC, .src = { "10.1.2.0/23" } },
	  P4(.src = "10.1.4.0"), false },
	{ "src v4 /32 exact", { .fields = SL_M_SRC, .src = { "10.9.8.7/32" } },
	  P4(.src = "10.9.8.7"), true },
	{ "src v4 /32 +1", { .fields = SL_M_SRC, .src = { "10.9.8.7/32" } },
	  P4(.src = "10.9.8.8"), false },
	{ "src v4 /0", { .fields = SL_M_SRC, .src = { "0.0.0.0/0" } },
	  P4(.src = "255.255.255.255"), true },
	{ "src v4 /0 vs v6 packet", { .fields = SL_M_SRC, .src = { "0.0.0.0/0" } },
	  P6(), false },
	{ "src v4 list second", { .fields = SL_M_SRC,
	  .src = { "10.0.0.0/8", "172.16.0.0/12" } },
	  P4(.src = "172.31.255.255"), true },
	{ "src v4 list none", { .fields = SL_M_SRC,
	  .src = { "10.0.0.0/8", "172.16.0.0/12" } },
	  P4(.src = "172.32.0.0"), false },
	{ "src is not dst", { .fields = SL_M_SRC, .src = { "10.0.0.0/8" } },
	  P4(.src = "11.0.0.1", .dst = "10.0.0.1"), false },

	/* src, IPv6 and mixed families */
	{ "src v6 /64 in", { .fields = SL_M_SRC, .src = { "2001:db8:1:2::/64" } },
	  P6(.src = "2001:db8:1:2:ffff:ffff:ffff:ffff"), true },
	{ "src v6 /64 next", { .fields = SL_M_SRC, .src = { "2001:db8:1:2::/64" } },
	  P6(.src = "2001:db8:1:3::"), false },
	{ "src v6 /57 in", { .fields = SL_M_SRC, .src = { "2001:db8:0:80::/57" } },
	  P6(.src = "2001:db8:0:ff::1"), true },
	{ "src v6 /57 out", { .fields = SL_M_SRC, .src = { "2001:db8:0:80::/57" } },
	  P6(.src = "2001:db8:0:7f::1"), false },
	{ "src v6 /33 word edge in", { .fields = SL_M_SRC,
	  .src = { "2001:db8:8000::/33" } }, P6(.src = "2001:db8:ffff::"), true },
	{ "src v6 /33 word edge out", { .fields = SL_M_SRC,
	  .src = { "2001:db8:8000::/33" } }, P6(.src = "2001:db8:7fff::"), false },
	{ "src v6 /128 exact", { .fields = SL_M_SRC, .src = { "2001:db8::5/128" } },
	  P6(.src = "2001:db8::5"), true },
	{ "src v6 /128 last bit", { .fields = SL_M_SRC,
	  .src = { "2001:db8::5/128" } }, P6(.src = "2001:db8::4"), false },
	{ "src v6 /127", { .fields = SL_M_SRC, .src = { "2001:db8::4/127" } },
	  P6(.src = "2001:db8::5"), true },
	{ "src v6 /0", { .fields = SL_M_SRC, .src = { "::/0" } }, P6(), true },
	{ "src v6 only vs v4 packet", { .fields = SL_M_SRC, .src = { "::/0" } },
	  P4(), false },
	{ "src mixed/v4", { .fields = SL_M_SRC,
	  .src = { "2001:db8::/32", "192.0.2.0/24" } }, P4(), true },
	{ "src mixed/v6", { .fields = SL_M_SRC,
	  .src = { "2001:db8::/32", "192.0.2.0/24" } }, P6(), true },
	{ "src v4-mapped is not v4", { .fields = SL_M_SRC,
	  .src = { "192.0.2.0/24" } }, P6(.src = "::ffff:192.0.2.1"), false },

	/* dst */
	{ "dst v4 in", { .fields = SL_M_DST, .dst = { "198.51.100.0/24" } },
	  P4(), true },
	{ "dst v4 out", { .fields = SL_M_DST, .dst = { "198.51.100.0/25" } },
	  P4(.dst = "198.51.100.128"), false },
	{ "dst is not src", { .fields = SL_M_DST, .dst = { "192.0.2.0/24" } },
	  P4(), false },
	{ "dst v6 in", { .fields = SL_M_DST, .dst = { "2001:db8::/126" } },
	  P6(.dst = "2001:db8::3"), true },
	{ "dst v6 out", { .fields = SL_M_DST, .dst = { "2001:db8::/126" } },
	  P6(.dst = "2001:db8::4"), false },
	{ "src and dst both hold", { .fields = SL_M_SRC | SL_M_DST,
	  .src = { "192.0.2.0/24" }, .dst = { "198.51.100.0/24" } }, P4(), true },
	{ "src holds, dst not", { .fields = SL_M_SRC | SL_M_DST,
	  .src = { "192.0.2.0/24" }, .dst = { "203.0.113.0/24" } }, P4(), false },
	{ "src v4, dst v6 only: never v4", { .fields = SL_M_SRC | SL_M_DST,
	  .src = { "192.0.2.0/24" }, .dst = { "::/0" } }, P4(), false },
	{ "src v4, dst v6 only: never v6", { .fields = SL_M_SRC | SL_M_DST,
	  .src = { "192.0.2.0/24" }, .dst = { "::/0" } }, P6(), false },

	/* ports */
	{ "sport lo-1", { .fields = SL_M_SPORT, .sport = { R(1000, 2000) },
	  .n_sport = 1 }, P4(.proto = 6, .flags = L4, .sport = 999), false },
	{ "sport lo", { .fields = SL_M_SPORT, .sport = { R(1000, 2000) },
	  .n_sport = 1 }, P4(.proto = 6, .flags = L4, .sport = 1000), true },
	{ "sport hi", { .fields = SL_M_SPORT, .sport = { R(1000, 2000) },
	  .n_sport = 1 }, P4(.proto = 6, .flags = L4, .sport = 2000), true },
	{ "sport hi+1", { .fields = SL_M_SPORT, .sport = { R(1000, 2000) },
	  .n_sport = 1 }, P4(.proto = 6, .flags = L4, .sport = 2001), false },
	{ "sport is not dport", { .fields = SL_M_SPORT, .sport = { R(53, 53) },
	  .n_sport = 1 }, P4(.proto = 17, .flags = L4, .dport = 53), false },
	{ "sport 0", { .fields = SL_M_SPORT, .sport = { R(0, 0) }, .n_sport = 1 },
	  P4(.proto = 17, .flags = L4, .sport = 0), true },
	{ "sport 65535", { .fields = SL_M_SPORT, .sport = { R(65535, 65535) },
	  .n_sport = 1 }, P6(.proto = 17, .flags = L4, .sport = 65535), true },
	{ "dport byte order", { .fields = SL_M_DPORT, .dport = { R(0x0102, 0x0102) },
	  .n_dport = 1 }, P4(.proto = 6, .flags = L4, .dport = 0x0201), false },
	{ "dport byte order match", { .fields = SL_M_DPORT,
	  .dport = { R(0x0102, 0x0102) }, .n_dport = 1 },
	  P4(.proto = 6, .flags = L4, .dport = 0x0102), true },
	{ "dport range vs swapped", { .fields = SL_M_DPORT, .dport = { R(256, 511) },
	  .n_dport = 1 }, P6(.proto = 6, .flags = L4, .dport = 1), false },
	{ "dport list second", { .fields = SL_M_DPORT,
	  .dport = { R(80, 80), R(8080, 8080) }, .n_dport = 2 },
	  P4(.proto = 6, .flags = L4, .dport = 8080), true },
	{ "dport list between", { .fields = SL_M_DPORT,
	  .dport = { R(80, 80), R(8080, 8080) }, .n_dport = 2 },
	  P4(.proto = 6, .flags = L4, .dport = 443), false },
	{ "dport any range, non-first fragment", { .fields = SL_M_DPORT,
	  .dport = { R(0, 65535) }, .n_dport = 1 },
	  P4(.proto = 17, .flags = FRAG), false },
	{ "dport any range, v6 non-first fragment", { .fields = SL_M_DPORT,
	  .dport = { R(0, 65535) }, .n_dport = 1 },
	  P6(.proto = 17, .flags = FRAG), false },
	{ "dport 0, non-first fragment with zero ports", { .fields = SL_M_DPORT,
	  .dport = { R(0, 0) }, .n_dport = 1 },
	  P4(.proto = 17, .flags = FRAG), false },
	{ "dport, first fragment", { .fields = SL_M_DPORT,
	  .dport = { R(53, 53) }, .n_dport = 1 },
	  P4(.proto = 17, .flags = L4 | FRAG | FIRST, .dport = 53), true },
	{ "no ports set, non-first fragment", { .fields = SL_M_PROTO, .proto = 17 },
	  P4(.proto = 17, .flags = FRAG), true },
	{ "sport from 0, non-first fragment", { .fields = SL_M_SPORT,
	  .sport = { R(0, 1023) }, .n_sport = 1 },
	  P6(.proto = 6, .flags = FRAG), false },
	{ "sport from 1, non-first fragment", { .fields = SL_M_SPORT,
	  .sport = { R(1, 1023) }, .n_sport = 1 },
	  P4(.proto = 6, .flags = FRAG), false },
	{ "dport block 1024-2047 last", { .fields = SL_M_DPORT,
	  .dport = { R(1024, 2047) }, .n_dport = 1 },
	  P4(.proto = 6, .flags = L4, .dport = 2047), true },
	{ "dport block 1024-2047 next", { .fields = SL_M_DPORT,
	  .dport = { R(1024, 2047) }, .n_dport = 1 },
	  P4(.proto = 6, .flags = L4, .dport = 2048), false },
	{ "dport block 1024-2047 before", { .fields = SL_M_DPORT,
	  .dport = { R(1024, 2047) }, .n_dport = 1 },
	  P4(.proto = 6, .flags = L4, .dport = 1023), false },
	{ "dport unaligned 1025-2048 first", { .fields = SL_M_DPORT,
	  .dport = { R(1025, 2048) }, .n_dport = 1 },
	  P4(.proto = 6, .flags = L4, .dport = 1024), false },
	{ "sport and dport", { .fields = SL_M_SPORT | SL_M_DPORT,
	  .sport = { R(1024, 65535) }, .n_sport = 1, .dport = { R(443, 443) },
	  .n_dport = 1 }, P4(.proto = 6, .flags = L4, .sport = 40000,
	  .dport = 443), true },
	{ "sport holds, dport not", { .fields = SL_M_SPORT | SL_M_DPORT,
	  .sport = { R(1024, 65535) }, .n_sport = 1, .dport = { R(443, 443) },
	  .n_dport = 1 }, P4(.proto = 6, .flags = L4, .sport = 40000,
	  .dport = 444), false },

	/* tcp_flags: syn means SYN set and ACK clear */
	{ "syn/syn", { .fields = SL_M_TCP_FLAGS, .tcp_flags = SL_TCP_SYN,
	  .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P4(.proto = 6, .flags = L4, .tcp_flags = SL_TCP_SYN), true },
	{ "syn/syn+ack", { .fields = SL_M_TCP_FLAGS, .tcp_flags = SL_TCP_SYN,
	  .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P4(.proto = 6, .flags = L4, .tcp_flags = SL_TCP_SYN | SL_TCP_ACK),
	  false },
	{ "syn/syn+ece+cwr", { .fields = SL_M_TCP_FLAGS, .tcp_flags = SL_TCP_SYN,
	  .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P6(.proto = 6, .flags = L4,
	     .tcp_flags = SL_TCP_SYN | SL_TCP_ECE | SL_TCP_CWR), true },
	{ "syn/ack", { .fields = SL_M_TCP_FLAGS, .tcp_flags = SL_TCP_SYN,
	  .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P4(.proto = 6, .flags = L4, .tcp_flags = SL_TCP_ACK), false },
	{ "syn/udp with the same byte", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = SL_TCP_SYN, .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P4(.proto = 17, .flags = L4, .tcp_flags = SL_TCP_SYN), false },
	{ "syn/tcp fragment", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = SL_TCP_SYN, .tcp_mask = SL_TCP_SYN | SL_TCP_ACK },
	  P4(.proto = 6, .flags = FRAG, .tcp_flags = SL_TCP_SYN), false },
	{ "ack clear/zero flags", { .fields = SL_M_TCP_FLAGS, .tcp_flags = 0,
	  .tcp_mask = SL_TCP_ACK }, P4(.proto = 6, .flags = L4), true },
	{ "ack clear/non-first fragment", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = 0, .tcp_mask = SL_TCP_ACK },
	  P4(.proto = 6, .flags = FRAG), false },
	{ "mask 0/any tcp", { .fields = SL_M_TCP_FLAGS, .tcp_mask = 0 },
	  P4(.proto = 6, .flags = L4, .tcp_flags = 0xff), true },
	{ "mask 0/udp", { .fields = SL_M_TCP_FLAGS, .tcp_mask = 0 },
	  P4(.proto = 17, .flags = L4), false },
	{ "value outside mask never holds", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = SL_TCP_SYN | SL_TCP_FIN, .tcp_mask = SL_TCP_SYN },
	  P4(.proto = 6, .flags = L4, .tcp_flags = SL_TCP_SYN | SL_TCP_FIN),
	  false },
	{ "tcp_flags with proto udp never holds", { .fields = SL_M_TCP_FLAGS |
	  SL_M_PROTO, .proto = 17, .tcp_mask = 0 },
	  P4(.proto = 17, .flags = L4), false },
	{ "fin+psh clear/fin", { .fields = SL_M_TCP_FLAGS, .tcp_flags = 0,
	  .tcp_mask = SL_TCP_FIN | SL_TCP_PSH },
	  P4(.proto = 6, .flags = L4, .tcp_flags = SL_TCP_FIN), false },
	{ "urg+ece+cwr set", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = SL_TCP_URG | SL_TCP_ECE | SL_TCP_CWR,
	  .tcp_mask = SL_TCP_URG | SL_TCP_ECE | SL_TCP_CWR },
	  P6(.proto = 6, .flags = L4, .tcp_flags = 0xe0), true },
	{ "urg+ece+cwr, cwr clear", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = SL_TCP_URG | SL_TCP_ECE | SL_TCP_CWR,
	  .tcp_mask = SL_TCP_URG | SL_TCP_ECE | SL_TCP_CWR },
	  P6(.proto = 6, .flags = L4, .tcp_flags = 0x60), false },
	{ "tcp_flags with proto any", { .fields = SL_M_TCP_FLAGS | SL_M_PROTO,
	  .proto = SL_PROTO_ANY, .tcp_flags = SL_TCP_RST,
	  .tcp_mask = SL_TCP_RST }, P6(.proto = 6, .flags = L4,
	  .tcp_flags = SL_TCP_RST | SL_TCP_ACK), true },

	/* vlan */
	{ "vlan in", { .fields = SL_M_VLAN, .vlan = { R(100, 199) }, .n_vlan = 1 },
	  P4(.flags = VLAN, .vlan = 150), true },
	{ "vlan lo-1", { .fields = SL_M_VLAN, .vlan = { R(100, 199) }, .n_vlan = 1 },
	  P4(.flags = VLAN, .vlan = 99), false },
	{ "vlan hi+1", { .fields = SL_M_VLAN, .vlan = { R(100, 199) }, .n_vlan = 1 },
	  P6(.flags = VLAN, .vlan = 200), false },
	{ "vlan 0/tagged 0", { .fields = SL_M_VLAN, .vlan = { R(0, 0) },
	  .n_vlan = 1 }, P4(.flags = VLAN, .vlan = 0), true },
	{ "vlan 0/untagged", { .fields = SL_M_VLAN, .vlan = { R(0, 0) },
	  .n_vlan = 1 }, P4(.vlan = 0), false },
	{ "vlan all/untagged", { .fields = SL_M_VLAN, .vlan = { R(0, 4095) },
	  .n_vlan = 1 }, P6(.flags = L4, .proto = 6), false },
	{ "vlan 4095", { .fields = SL_M_VLAN, .vlan = { R(4095, 4095) },
	  .n_vlan = 1 }, P4(.flags = VLAN, .vlan = 4095), true },
	{ "vlan byte order", { .fields = SL_M_VLAN, .vlan = { R(0x100, 0x1ff) },
	  .n_vlan = 1 }, P4(.flags = VLAN, .vlan = 1), false },
	{ "vlan list", { .fields = SL_M_VLAN, .vlan = { R(10, 10), R(20, 30) },
	  .n_vlan = 2 }, P4(.flags = VLAN, .vlan = 25), true },
	{ "vlan block 256-511", { .fields = SL_M_VLAN, .vlan = { R(256, 511) },
	  .n_vlan = 1 }, P6(.flags = VLAN, .vlan = 300), true },
	{ "vlan block 256-511 next", { .fields = SL_M_VLAN,
	  .vlan = { R(256, 511) }, .n_vlan = 1 },
	  P6(.flags = VLAN, .vlan = 512), false },
	{ "vlan block 0-4095/untagged", { .fields = SL_M_VLAN,
	  .vlan = { R(0, 4095) }, .n_vlan = 1 }, P4(.proto = 17), false },

	/* dscp */
	{ "dscp ef/46", { .fields = SL_M_DSCP, .dscp = BIT(46) },
	  P4(.dscp = 46), true },
	{ "dscp ef/47", { .fields = SL_M_DSCP, .dscp = BIT(46) },
	  P4(.dscp = 47), false },
	{ "dscp ef/0", { .fields = SL_M_DSCP, .dscp = BIT(46) }, P6(), false },
	{ "dscp {0,63}/63", { .fields = SL_M_DSCP, .dscp = BIT(0) | BIT(63) },
	  P6(.dscp = 63), true },
	{ "dscp {0,63}/0", { .fields = SL_M_DSCP, .dscp = BIT(0) | BIT(63) },
	  P4(.dscp = 0), true },
	{ "dscp {0,63}/31", { .fields = SL_M_DSCP, .dscp = BIT(0) | BIT(63) },
	  P4(.dscp = 31), false },
	{ "dscp all/17", { .fields = SL_M_DSCP, .dscp = UINT64_MAX },
	  P4(.dscp = 17), true },
	{ "dscp none/17", { .fields = SL_M_DSCP, .dscp = 0 }, P4(.dscp = 17),
	  false },
	{ "dscp odd/9", { .fields = SL_M_DSCP,
	  .dscp = UINT64_C(0xaaaaaaaaaaaaaaaa) }, P4(.dscp = 9), true },
	{ "dscp odd/8", { .fields = SL_M_DSCP,
	  .dscp = UINT64_C(0xaaaaaaaaaaaaaaaa) }, P4(.dscp = 8), false },
	{ "dscp af4x/af42 (36)", { .fields = SL_M_DSCP,
	  .dscp = BIT(34) | BIT(36) | BIT(38) }, P4(.dscp = 36), true },
	{ "dscp af4x/35", { .fields = SL_M_DSCP,
	  .dscp = BIT(34) | BIT(36) | BIT(38) }, P4(.dscp = 35), false },
	{ "dscp af4x/32", { .fields = SL_M_DSCP,
	  .dscp = BIT(34) | BIT(36) | BIT(38) }, P4(.dscp = 32), false },
	{ "dscp does not need L4 or VLAN", { .fields = SL_M_DSCP,
	  .dscp = BIT(10) }, P4(.dscp = 10, .flags = FRAG), true },

	/* everything at once */
	{ "all fields hold", { .fields = SL_M_PROTO | SL_M_SRC | SL_M_DST |
	  SL_M_SPORT | SL_M_DPORT | SL_M_TCP_FLAGS | SL_M_VLAN | SL_M_DSCP,
	  .proto = 6, .src = { "2001:db8::/48" }, .dst = { "2001:db8::2/128" },
	  .sport = { R(1, 65535) }, .n_sport = 1, .dport = { R(22, 22) },
	  .n_dport = 1, .tcp_flags = SL_TCP_SYN, .tcp_mask = SL_TCP_SYN,
	  .vlan = { R(7, 7) }, .n_vlan = 1, .dscp = BIT(0) },
	  P6(.proto = 6, .flags = L4 | VLAN, .sport = 5555, .dport = 22,
	     .tcp_flags = SL_TCP_SYN, .vlan = 7), true },
	{ "all fields but vlan hold", { .fields = SL_M_PROTO | SL_M_SRC |
	  SL_M_DST | SL_M_SPORT | SL_M_DPORT | SL_M_TCP_FLAGS | SL_M_VLAN |
	  SL_M_DSCP, .proto = 6, .src = { "2001:db8::/48" },
	  .dst = { "2001:db8::2/128" }, .sport = { R(1, 65535) }, .n_sport = 1,
	  .dport = { R(22, 22) }, .n_dport = 1, .tcp_flags = SL_TCP_SYN,
	  .tcp_mask = SL_TCP_SYN, .vlan = { R(7, 7) }, .n_vlan = 1,
	  .dscp = BIT(0) },
	  P6(.proto = 6, .flags = L4 | VLAN, .sport = 5555, .dport = 22,
	     .tcp_flags = SL_TCP_SYN, .vlan = 8), false },
};

/* One class, one packet: the classifier and the reference agree with the row. */
START_TEST(test_field)
{
	const struct field_case *fc = &field_cases[_i];
	uint32_t want = fc->match ? 0 : NONE;
	struct sl_classifier *c;
	struct hpolicy hp;
	struct sl_pkt_meta m;
	uint32_t s;

	mpolicy(&hp, &fc->m, 1);
	pkt(&fc->p, &m);
	ck_assert_msg(sl_classify_reference(&hp.p, &m) == want,
		      "%s: reference says %u, want %u", fc->what,
		      sl_classify_reference(&hp.p, &m), want);
	for (s = 0; s < N_SPLITS; s++) {
		c = must_build_opts(&hp.p, splits[s].o);
		ck_assert_msg(classify1(c, &m) == want,
			      "%s (%s): classifier says %u, want %u",
			      fc->what, splits[s].name, classify1(c, &m), want);
		sl_classifier_free(c);
	}
}
END_TEST

/* ---- first match wins ---- */

struct order_case {
	const char *what;
	struct mspec m[4];
	uint32_t n;
	struct pspec p;
	uint32_t want;
};

static const struct order_case order_cases[] = {
	{ "narrow first, packet in both",
	  { { .fields = SL_M_DPORT, .dport = { R(80, 80) }, .n_dport = 1 },
	    { .fields = SL_M_PROTO, .proto = 6 } }, 2,
	  P4(.proto = 6, .flags = L4, .dport = 80), 0 },
	{ "narrow first, packet in broad only",
	  { { .fields = SL_M_DPORT, .dport = { R(80, 80) }, .n_dport = 1 },
	    { .fields = SL_M_PROTO, .proto = 6 } }, 2,
	  P4(.proto = 6, .flags = L4, .dport = 81), 1 },
	{ "broad first shadows narrow",
	  { { .fields = SL_M_PROTO, .proto = 6 },
	    { .fields = SL_M_DPORT, .dport = { R(80, 80) }, .n_dport = 1 } }, 2,
	  P4(.proto = 6, .flags = L4, .dport = 80), 0 },
	{ "catch-all last",
	  { { .fields = SL_M_SRC, .src = { "10.0.0.0/8" } },
	    { .fields = SL_M_SRC, .src = { "2001:db8::/32" } },
	    { 0 } }, 3, P6(.src = "2001:db9::1"), 2 },
	{ "v6 class between v4 classes",
	  { { .fields = SL_M_SRC, .src = { "10.0.0.0/8" } },
	    { .fields = SL_M_SRC, .src = { "2001:db8::/32" } },
	    { .fields = SL_M_SRC, .src = { "192.0.2.0/24" } } }, 3,
	  P4(), 2 },
	{ "more specific later does not win",
	  { { .fields = SL_M_SRC, .src = { "192.0.0.0/8" } },
	    { .fields = SL_M_SRC, .src = { "192.0.2.1/32" } } }, 2,
	  P4(), 0 },
	{ "none of them",
	  { { .fields = SL_M_SRC, .src = { "10.0.0.0/8" } },
	    { .fields = SL_M_DSCP, .dscp = BIT(46) } }, 2, P4(), NONE },
};

/* Several classes: the first that holds wins, whatever its specificity. */
START_TEST(test_order)
{
	const struct order_case *oc = &order_cases[_i];
	struct sl_classifier *c;
	struct hpolicy hp;
	struct sl_pkt_meta m;
	uint32_t s;

	mpolicy(&hp, oc->m, oc->n);
	pkt(&oc->p, &m);
	ck_assert_msg(sl_classify_reference(&hp.p, &m) == oc->want,
		      "%s: reference says %u, want %u", oc->what,
		      sl_classify_reference(&hp.p, &m), oc->want);
	for (s = 0; s < N_SPLITS; s++) {
		c = must_build_opts(&hp.p, splits[s].o);
		ck_assert_msg(classify1(c, &m) == oc->want,
			      "%s (%s): classifier says %u, want %u", oc->what,
			      splits[s].name, classify1(c, &m), oc->want);
		sl_classifier_free(c);
	}
}
END_TEST

/* ---- how many rules a class becomes ---- */

struct rules_case {
	const char *what;
	struct mspec m;
	uint32_t rules4;
	uint32_t rules6;
};

static const struct rules_case rules_cases[] = {
	{ "empty match: one rule each", { 0 }, 1, 1 },
	{ "src split by family", { .fields = SL_M_SRC,
	  .src = { "10.0.0.0/8", "2001:db8::/32", "192.0.2.0/24" } }, 2, 1 },
	{ "cross product", { .fields = SL_M_SRC | SL_M_DST | SL_M_DPORT,
	  .src = { "10.0.0.0/8", "11.0.0.0/8" },
	  .dst = { "1.0.0.0/8", "2.0.0.0/8", "3.0.0.0/8" },
	  .dport = { R(1, 1), R(2, 2) }, .n_dport = 2 }, 12, 0 },
	{ "v6-only dst: no v4 rules", { .fields = SL_M_SRC | SL_M_DST,
	  .src = { "10.0.0.0/8", "2001:db8::/32" }, .dst = { "::/0" } }, 0, 1 },
	{ "dscp one value", { .fields = SL_M_DSCP, .dscp = BIT(46) }, 1, 1 },
	{ "dscp all values", { .fields = SL_M_DSCP, .dscp = UINT64_MAX }, 1, 1 },
	{ "dscp even values", { .fields = SL_M_DSCP,
	  .dscp = UINT64_C(0x5555555555555555) }, 1, 1 },
	{ "dscp cs0..cs7", { .fields = SL_M_DSCP, .dscp = BIT(0) | BIT(8) |
	  BIT(16) | BIT(24) | BIT(32) | BIT(40) | BIT(48) | BIT(56) }, 1, 1 },
	{ "dscp af4x", { .fields = SL_M_DSCP,
	  .dscp = BIT(34) | BIT(36) | BIT(38) }, 2, 2 },
	{ "dscp none: never", { .fields = SL_M_DSCP, .dscp = 0 }, 0, 0 },
	{ "tcp_flags outside mask: never", { .fields = SL_M_TCP_FLAGS,
	  .tcp_flags = 3, .tcp_mask = 1 }, 0, 0 },
	{ "tcp_flags and proto udp: never", { .fields = SL_M_TCP_FLAGS |
	  SL_M_PROTO, .proto = 17 }, 0, 0 },
	{ "vlan x sport", { .fields = SL_M_VLAN | SL_M_SPORT,
	  .vlan = { R(1, 1), R(2, 3), R(5, 9) }, .n_vlan = 3,
	  .sport = { R(1, 1), R(2, 3) }, .n_sport = 2 }, 6, 6 },
};

/* Rule counts show the family split and the DSCP cover stay small. */
START_TEST(test_rules)
{
	const struct rules_case *rc = &rules_cases[_i];
	struct sl_classifier *c;
	struct hpolicy hp;

	mpolicy(&hp, &rc->m, 1);
	c = must_build(&hp.p);
	ck_assert_msg(sl_classifier_rules(c, SL_FAMILY_IPV4) == rc->rules4,
		      "%s: %u IPv4 rules, want %u", rc->what,
		      sl_classifier_rules(c, SL_FAMILY_IPV4), rc->rules4);
	ck_assert_msg(sl_classifier_rules(c, SL_FAMILY_IPV6) == rc->rules6,
		      "%s: %u IPv6 rules, want %u", rc->what,
		      sl_classifier_rules(c, SL_FAMILY_IPV6), rc->rules6);
	sl_classifier_free(c);
}
END_TEST

/* Every DSCP set of a few shapes is covered exactly: all 64 values agree. */
START_TEST(test_dscp_sets)
{
	static const uint64_t sets[] = {
		1, UINT64_MAX, UINT64_MAX - 1, UINT64_C(0x8000000000000001),
		UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210),
		UINT64_C(0x00ff00ff00ff00ff), UINT64_C(0x6996966996696996),
		UINT64_C(0x7fffffffffffffff), UINT64_C(0x0000000100010116),
	};
	struct mspec ms = { .fields = SL_M_DSCP };
	struct sl_classifier *c;
	struct hpolicy hp;
	struct sl_pkt_meta m;
	struct pspec ps = P4(.proto = 6);
	uint32_t i, d, want;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		ms.dscp = sets[i];
		mpolicy(&hp, &ms, 1);
		c = must_build(&hp.p);
		ck_assert_uint_le(sl_classifier_rules(c, SL_FAMILY_IPV4),
				  (uint32_t)__builtin_popcountll(sets[i]));
		for (d = 0; d < 64; d++) {
			ps.dscp = (uint8_t)d;
			ps.family = d & 1 ? SL_FAMILY_IPV6 : SL_FAMILY_IPV4;
			pkt(&ps, &m);
			want = (sets[i] >> d) & 1 ? 0 : NONE;
			ck_assert_msg(classify1(c, &m) == want,
				      "set %#" PRIx64 " dscp %u: got %u want %u",
				      sets[i], d, classify1(c, &m), want);
		}
		sl_classifier_free(c);
	}
}
END_TEST

/* ---- building: empty policies, refusals, several at once ---- */

/* No classes: no contexts, every packet in no class. */
START_TEST(test_empty_policy)
{
	struct sl_policy p = { .version = SL_POLICY_VERSION };
	struct pspec specs[] = { P4(.proto = 6, .flags = L4), P6(),
				 { .family = SL_FAMILY_NONE } };
	struct sl_classifier *c;
	struct sl_pkt_meta m;
	uint32_t i;

	c = must_build(&p);
	ck_assert_uint_eq(sl_classifier_rules(c, SL_FAMILY_IPV4), 0);
	ck_assert_uint_eq(sl_classifier_rules(c, SL_FAMILY_IPV6), 0);
	for (i = 0; i < 3; i++) {
		pkt(&specs[i], &m);
		ck_assert_uint_eq(classify1(c, &m), NONE);
		ck_assert_uint_eq(sl_classify_reference(&p, &m), NONE);
	}
	sl_classifier_free(c);
	sl_classifier_free(NULL);
}
END_TEST

/* A policy whose classes match one family only: the other has no context. */
START_TEST(test_one_family)
{
	struct mspec ms = { .fields = SL_M_SRC, .src = { "2001:db8::/32" } };
	struct pspec p4 = P4(), p6 = P6();
	struct sl_classifier *c;
	struct hpolicy hp;
	struct sl_pkt_meta m;

	mpolicy(&hp, &ms, 1);
	c = must_build(&hp.p);
	ck_assert_uint_eq(sl_classifier_rules(c, SL_FAMILY_IPV4), 0);
	pkt(&p4, &m);
	ck_assert_uint_eq(classify1(c, &m), NONE);
	pkt(&p6, &m);
	ck_assert_uint_eq(classify1(c, &m), 0);
	sl_classifier_free(c);
}
END_TEST

struct refuse_case {
	const char *what;
	struct mspec m;
	int err;		/* rte_errno */
	const char *msg;	/* in the error text */
};

static const struct refuse_case refuse_cases[] = {
	{ "v4 prefix too long", { .fields = SL_M_SRC, .src = { "10.0.0.0/8" } },
	  EINVAL, "prefix length 33, more than 32 for IPv4" },
	{ "empty port range", { .fields = SL_M_DPORT, .dport = { R(90, 80) },
	  .n_dport = 1 }, EINVAL, "dport range 90-80 is empty" },
	{ "empty vlan range", { .fields = SL_M_VLAN, .vlan = { R(2, 1) },
	  .n_vlan = 1 }, EINVAL, "vlan range 2-1 is empty" },
	{ "protocol out of range", { .fields = SL_M_PROTO, .proto = 256 },
	  EINVAL, "protocol 256 is not 0..255" },
};

/* What the policy model rules out is refused with a message naming the class. */
START_TEST(test_refuse)
{
	const struct refuse_case *rc = &refuse_cases[_i];
	struct sl_classifier *c;
	struct hpolicy hp;
	char err[256] = "";

	mpolicy(&hp, &rc->m, 1);
	if (_i == 0)
		hp.store[0].src[0].len = 33;	/* pfx() would not write it */
	rte_errno = 0;
	c = sl_classifier_build(&hp.p, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_msg(c == NULL, "%s: built", rc->what);
	ck_assert_int_eq(rte_errno, rc->err);
	ck_assert_msg(strstr(err, rc->msg) != NULL && strstr(err, "\"c0\""),
		      "%s: message \"%s\"", rc->what, err);
}
END_TEST

/* Accepts n; fills a prefix list 10.x.y.0/24, x.y counting from 0. */
static void fill_prefixes(struct sl_prefix *pf, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		memset(&pf[i], 0, sizeof(pf[i]));
		pf[i].family = SL_FAMILY_IPV4;
		pf[i].len = 24;
		pf[i].addr[0] = 10;
		pf[i].addr[1] = (uint8_t)(i >> 8);
		pf[i].addr[2] = (uint8_t)i;
	}
}

/* A class beyond SL_CLASSIFY_CLASS_RULES_MAX, and a policy beyond the total. */
START_TEST(test_too_big)
{
	static struct sl_prefix pf[SL_MATCH_LIST_MAX];
	static struct sl_class cls[20];
	struct sl_range ports[2] = { R(1, 1), R(2, 2) };
	struct sl_policy p = { .version = 1, .classes = cls };
	struct sl_classifier *c;
	char err[512] = "";
	uint32_t i;

	fill_prefixes(pf, SL_MATCH_LIST_MAX);
	memset(cls, 0, sizeof(cls));
	for (i = 0; i < 20; i++) {
		snprintf(cls[i].name, sizeof(cls[i].name), "big%u", i);
		cls[i].match.fields = SL_M_SRC | SL_M_DST;
		cls[i].match.src = pf;
		cls[i].match.n_src = SL_MATCH_LIST_MAX;
		cls[i].match.dst = pf;
		cls[i].match.n_dst = SL_MATCH_LIST_MAX;
	}
	/* 256 x 256 x 2 = 131072 rules in one class */
	cls[0].match.fields |= SL_M_SPORT;
	cls[0].match.sport = ports;
	cls[0].match.n_sport = 2;
	p.n_classes = 1;
	c = sl_classifier_build(&p, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_int_eq(rte_errno, E2BIG);
	ck_assert_msg(strstr(err, "class \"big0\" expands to 131072 ACL rules for IPv4") != NULL,
		      "message \"%s\"", err);

	/* 17 classes of 65536 rules each: each allowed, not together */
	cls[0].match.fields &= ~SL_M_SPORT;
	p.n_classes = 20;
	c = sl_classifier_build(&p, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_int_eq(rte_errno, E2BIG);
	ck_assert_msg(strstr(err, "policy expands to more than") != NULL &&
		      strstr(err, "\"big16\"") != NULL, "message \"%s\"", err);
}
END_TEST

/*
 * Accepts a one-class policy and opts; where its IPv4 rules went. Both
 * IPv4 packets agree with the reference.
 */
static void opts_split(const struct hpolicy *hp,
		       const struct sl_classify_opts *o,
		       const struct sl_pkt_meta *m, uint32_t n,
		       struct sl_classifier_info *in)
{
	struct sl_classifier *c = must_build_opts(&hp->p, o);
	uint32_t i;

	sl_classifier_info(c, SL_FAMILY_IPV4, in);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(classify1(c, &m[i]),
				  sl_classify_reference(&hp->p, &m[i]));
	sl_classifier_free(c);
}

/*
 * Options beyond their bounds are refused; rules go where the options
 * say; rte_acl gets only the fields some rule needs.
 */
START_TEST(test_opts)
{
	struct sl_classify_opts o = {
		.hash_tables = SL_CLASSIFY_HASH_TABLES_MAX + 1 };
	struct mspec web = { .fields = SL_M_DPORT, .dport = { R(80, 80) },
			     .n_dport = 1 };
	struct mspec low = { .fields = SL_M_SPORT, .sport = { R(0, 1023) },
			     .n_sport = 1 };
	struct pspec ps[2] = { P4(.proto = 6, .flags = L4, .dport = 80),
			       P4(.proto = 6, .flags = FRAG) };
	struct sl_classifier_info in;
	struct sl_classifier *c;
	struct sl_pkt_meta m[2];
	struct hpolicy hp;
	char err[256] = "";

	pkt(&ps[0], &m[0]);
	pkt(&ps[1], &m[1]);
	mpolicy(&hp, &web, 1);
	rte_errno = 0;
	c = sl_classifier_build_opts(&hp.p, SOCKET_ID_ANY, &o, err,
				     sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_int_eq(rte_errno, EINVAL);
	ck_assert_msg(strstr(err, "hash tables") != NULL, "message \"%s\"", err);

	opts_split(&hp, &opt_hash, m, 2, &in);
	ck_assert_uint_eq(in.rules, 1);
	ck_assert_uint_eq(in.hash_tables, 1);
	ck_assert_uint_eq(in.hash_rules, 1);
	ck_assert_uint_eq(in.acl_rules, 0);
	/* one rule is below the default's minimum for a table */
	opts_split(&hp, NULL, m, 2, &in);
	ck_assert_uint_eq(in.hash_tables, 0);
	ck_assert_uint_eq(in.acl_rules, 1);
	/* proto and the port group: no L4 flag, dport 80 is not 0 */
	ck_assert_uint_eq(in.acl_fields, 3);

	/* sport from 0 would take a fragment's zero ports: flag tested */
	mpolicy(&hp, &low, 1);
	opts_split(&hp, &opt_acl, m, 2, &in);
	ck_assert_uint_eq(in.acl_rules, 1);
	ck_assert_uint_eq(in.acl_fields, 6);

	c = must_build(&hp.p);
	sl_classifier_info(c, SL_FAMILY_NONE, &in);
	ck_assert_uint_eq(in.rules + in.hash_tables + in.acl_rules, 0);
	ck_assert_uint_eq(sl_classifier_rules(c, SL_FAMILY_NONE), 0);
	sl_classifier_free(c);
}
END_TEST

/*
 * Two classifiers alive at once answer for their own policies: context
 * names are unique (rte_acl_create would hand back the first one,
 * rte_hash_create would fail).
 */
START_TEST(test_two_alive)
{
	struct mspec a = { .fields = SL_M_DPORT, .dport = { R(80, 80) },
			   .n_dport = 1 };
	struct mspec b[2] = { { .fields = SL_M_DPORT, .dport = { R(22, 22) },
				.n_dport = 1 }, { 0 } };
	struct pspec ps80 = P4(.proto = 6, .flags = L4, .dport = 80);
	struct pspec ps22 = P6(.proto = 6, .flags = L4, .dport = 22);
	struct sl_classifier *ca, *cb;
	struct hpolicy ha, hb;
	struct sl_pkt_meta m80, m22;

	uint32_t s;

	mpolicy(&ha, &a, 1);
	mpolicy(&hb, b, 2);
	pkt(&ps80, &m80);
	pkt(&ps22, &m22);
	/* hash tables have names too */
	for (s = 0; s < N_SPLITS; s++) {
		ca = must_build_opts(&ha.p, splits[s].o);
		cb = must_build_opts(&hb.p, splits[s].o);
		ck_assert_uint_eq(classify1(ca, &m80), 0);
		ck_assert_uint_eq(classify1(ca, &m22), NONE);
		ck_assert_uint_eq(classify1(cb, &m80), 1);
		ck_assert_uint_eq(classify1(cb, &m22), 0);
		sl_classifier_free(ca);
		ck_assert_uint_eq(classify1(cb, &m80), 1);
		sl_classifier_free(cb);
	}
}
END_TEST

/* ---- (2) differential: random policies against the reference ---- */

struct rng {
	uint64_t s;
};

/* splitmix64: small, seedable, good enough to pick test cases. */
static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), near enough. */
static uint32_t rndn(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

/* True percent times in a hundred. */
static bool chance(struct rng *r, uint32_t percent)
{
	return rndn(r, 100) < percent;
}

/* Accepts a prefix; zeroes its host bits. */
static void mask_host(struct sl_prefix *pf)
{
	uint32_t i;

	for (i = pf->len; i < 128; i++)
		pf->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* A few bytes, so that random prefixes overlap and random packets hit. */
static uint8_t rnd_byte(struct rng *r)
{
	static const uint8_t pool[] = { 0, 1, 2, 10, 127, 128, 192, 254, 255 };

	if (chance(r, 30))
		return (uint8_t)rnd(r);
	return pool[rndn(r, sizeof(pool))];
}

/* A prefix with an interesting length and overlapping bytes. */
static void rnd_prefix(struct rng *r, uint8_t family, struct sl_prefix *pf)
{
	static const uint8_t len4[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25,
					30, 31, 32, 32 };
	static const uint8_t len6[] = { 0, 1, 16, 31, 32, 33, 47, 48, 56, 57,
					63, 64, 65, 95, 96, 97, 120, 127, 128,
					128 };
	uint32_t i, bytes = family == SL_FAMILY_IPV4 ? 4 : 16;

	memset(pf, 0, sizeof(*pf));
	pf->family = family;
	if (family == SL_FAMILY_IPV4)
		pf->len = len4[rndn(r, sizeof(len4))];
	else
		pf->len = len6[rndn(r, sizeof(len6))];
	for (i = 0; i < bytes; i++)
		pf->addr[i] = rnd_byte(r);
	mask_host(pf);
}

/* A port: usually a well-known one or an edge, sometimes any. */
static uint16_t rnd_port(struct rng *r)
{
	static const uint16_t pool[] = { 0, 1, 22, 53, 80, 255, 256, 443,
					 1023, 1024, 8080, 32768, 65534, 65535 };

	if (chance(r, 40))
		return (uint16_t)rnd(r);
	return pool[rndn(r, sizeof(pool) / sizeof(pool[0]))];
}

/* A range within [0, max]: single, narrow or wide. */
static void rnd_range(struct rng *r, struct sl_range *rg, uint16_t max)
{
	uint16_t a = (uint16_t)(rnd_port(r) % (max + 1u));
	uint16_t b;

	if (chance(r, 40)) {
		b = a;
	} else if (chance(r, 50)) {
		b = (uint16_t)RTE_MIN((uint32_t)a + rndn(r, 64), (uint32_t)max);
	} else {
		b = (uint16_t)(rnd_port(r) % (max + 1u));
	}
	rg->lo = RTE_MIN(a, b);
	rg->hi = RTE_MAX(a, b);
}

/* An IP protocol, mostly TCP or UDP. */
static uint8_t rnd_proto(struct rng *r)
{
	static const uint8_t pool[] = { 6, 6, 17, 17, 1, 58, 0, 47, 255 };

	if (chance(r, 10))
		return (uint8_t)rnd(r);
	return pool[rndn(r, sizeof(pool))];
}

/* A DSCP set: one value, a few, random, all or none. */
static uint64_t rnd_dscp_set(struct rng *r)
{
	uint64_t s = 0;
	uint32_t i, n;

	switch (rndn(r, 6)) {
	case 0:
		return UINT64_C(1) << rndn(r, 64);
	case 1:
		return rnd(r);
	case 2:
		return rnd(r) & rnd(r) & rnd(r);
	case 3:
		return chance(r, 50) ? UINT64_MAX : 0;
	default:
		n = 1 + rndn(r, 4);
		for (i = 0; i < n; i++)
			s |= UINT64_C(1) << rndn(r, 64);
		return s;
	}
}

/* A random policy; its lists come from one calloc each, freed with it. */
struct rpolicy {
	struct sl_policy p;
	struct sl_class *cls;
};

/* Entries in a list: 1..4, rarely 0. */
static uint32_t rnd_list_len(struct rng *r)
{
	if (chance(r, 2))
		return 0;	/* set but empty: never holds */
	return 1 + rndn(r, chance(r, 80) ? 2 : 4);
}

/* Which fields a class sets: any mix, rarely none (matches everything). */
static uint32_t rnd_fields(struct rng *r)
{
	static const struct {
		uint32_t field;
		uint32_t percent;
	} odds[] = {
		{ SL_M_PROTO, 40 }, { SL_M_SRC, 40 }, { SL_M_DST, 35 },
		{ SL_M_SPORT, 25 }, { SL_M_DPORT, 35 }, { SL_M_TCP_FLAGS, 15 },
		{ SL_M_VLAN, 15 }, { SL_M_DSCP, 15 },
	};
	uint32_t f, i;

	do {
		f = 0;
		for (i = 0; i < sizeof(odds) / sizeof(odds[0]); i++)
			if (chance(r, odds[i].percent))
				f |= odds[i].field;
	} while (f == 0 && !chance(r, 3));
	return f;
}

/*
 * Accepts the fields to set; fills every list, set or not, so that the
 * classifier is seen to ignore the lists of fields a class does not set.
 */
static void rnd_match(struct rng *r, uint32_t fields, struct sl_match *m)
{
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->fields = fields;
	if (chance(r, 5))
		m->fields |= SL_M_PAYLOAD;

	m->proto = chance(r, 15) ? SL_PROTO_ANY : rnd_proto(r);
	m->n_src = rnd_list_len(r);
	m->src = calloc(LIST_MAX, sizeof(*m->src));
	for (i = 0; i < m->n_src; i++)
		rnd_prefix(r, chance(r, 60) ? 4 : 6, &m->src[i]);
	m->n_dst = rnd_list_len(r);
	m->dst = calloc(LIST_MAX, sizeof(*m->dst));
	for (i = 0; i < m->n_dst; i++)
		rnd_prefix(r, chance(r, 60) ? 4 : 6, &m->dst[i]);
	m->n_sport = rnd_list_len(r);
	m->sport = calloc(LIST_MAX, sizeof(*m->sport));
	for (i = 0; i < m->n_sport; i++)
		rnd_range(r, &m->sport[i], UINT16_MAX);
	m->n_dport = rnd_list_len(r);
	m->dport = calloc(LIST_MAX, sizeof(*m->dport));
	for (i = 0; i < m->n_dport; i++)
		rnd_range(r, &m->dport[i], UINT16_MAX);
	m->n_vlan = rnd_list_len(r);
	m->vlan = calloc(LIST_MAX, sizeof(*m->vlan));
	for (i = 0; i < m->n_vlan; i++)
		rnd_range(r, &m->vlan[i], 4095);
	m->tcp_mask = (uint8_t)(rnd(r) & (chance(r, 70) ? 0x17 : 0xff));
	m->tcp_flags = (uint8_t)(rnd(r) & m->tcp_mask);
	if (chance(r, 5))
		m->tcp_flags |= (uint8_t)rnd(r);	/* never holds, maybe */
	m->dscp = rnd_dscp_set(r);
	ck_assert(m->src && m->dst && m->sport && m->dport && m->vlan);
}

/* A random policy of n classes. */
static void rpolicy_make(struct rng *r, struct rpolicy *rp, uint32_t n)
{
	uint32_t i, n_shapes, shape[4];

	memset(rp, 0, sizeof(*rp));
	rp->cls = calloc(n ? n : 1, sizeof(*rp->cls));
	ck_assert_ptr_nonnull(rp->cls);
	rp->p.version = SL_POLICY_VERSION;
	rp->p.n_classes = n;
	rp->p.classes = rp->cls;
	/*
	 * Real policies repeat a few shapes (say dst + dport, or src):
	 * most classes take one of the policy's shapes, some any mix.
	 */
	n_shapes = 1 + rndn(r, 4);
	for (i = 0; i < n_shapes; i++)
		shape[i] = rnd_fields(r);
	for (i = 0; i < n; i++) {
		snprintf(rp->cls[i].name, sizeof(rp->cls[i].name), "r%u", i);
		rnd_match(r, chance(r, 85) ? shape[rndn(r, n_shapes)] :
			  rnd_fields(r), &rp->cls[i].match);
	}
}

/* Frees what rpolicy_make() allocated. */
static void rpolicy_free(struct rpolicy *rp)
{
	uint32_t i;

	for (i = 0; i < rp->p.n_classes; i++) {
		free(rp->cls[i].match.src);
		free(rp->cls[i].match.dst);
		free(rp->cls[i].match.sport);
		free(rp->cls[i].match.dport);
		free(rp->cls[i].match.vlan);
	}
	free(rp->cls);
}

/* Accepts a prefix; writes an address inside it, or just outside. */
static void rnd_addr_near(struct rng *r, const struct sl_prefix *pf,
			  uint8_t *a)
{
	uint32_t i, bits = pf->family == SL_FAMILY_IPV4 ? 32 : 128;
	uint32_t roll = rndn(r, 10);

	memset(a, 0, 16);
	memcpy(a, pf->addr, bits / 8);
	for (i = pf->len; i < bits; i++) {
		bool one = roll == 0 ? false : roll == 1 ? true : rnd(r) & 1;

		if (one)
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	/* flip the last prefix bit: the nearest address outside */
	if (pf->len > 0 && roll >= 8)
		a[(pf->len - 1) / 8] ^= (uint8_t)(0x80 >> ((pf->len - 1) % 8));
}

/* Accepts a range list; a value at or next to one of its edges. */
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

/* Accepts a prefix list; picks an entry of the family, NULL if none. */
static const struct sl_prefix *pick_prefix(struct rng *r,
					   const struct sl_prefix *pf,
					   uint32_t n, uint8_t family)
{
	const struct sl_prefix *c[SL_MATCH_LIST_MAX];
	uint32_t i, k = 0;

	for (i = 0; i < n && i < SL_MATCH_LIST_MAX; i++)
		if (pf[i].family == family || family == 0)
			c[k++] = &pf[i];
	return k ? c[rndn(r, k)] : NULL;
}

/* Accepts a match; bends a random packet towards it. */
static void aim_at(struct rng *r, const struct sl_match *mt,
		   struct sl_pkt_meta *m)
{
	const struct sl_prefix *pf;
	uint32_t d;

	if ((mt->fields & SL_M_PROTO) && mt->proto != SL_PROTO_ANY &&
	    chance(r, 85))
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
	if ((mt->fields & SL_M_DST) && (pf = pick_prefix(r, mt->dst,
				mt->n_dst, m->family)) != NULL)
		rnd_addr_near(r, pf, m->dst);
	if ((mt->fields & SL_M_SPORT) && chance(r, 90))
		m->sport = rnd_near(r, mt->sport, mt->n_sport);
	if ((mt->fields & SL_M_DPORT) && chance(r, 90))
		m->dport = rnd_near(r, mt->dport, mt->n_dport);
	if ((mt->fields & SL_M_VLAN) && chance(r, 90)) {
		m->vlan = rnd_near(r, mt->vlan, mt->n_vlan) & 0xfff;
		if (chance(r, 85))
			m->flags |= SL_PKT_F_VLAN;
	}
	if ((mt->fields & SL_M_DSCP) && mt->dscp != 0 && chance(r, 80)) {
		do
			d = rndn(r, 64);
		while (!((mt->dscp >> d) & 1));
		m->dscp = (uint8_t)d;
	}
}

/* Accepts a policy; a random packet, usually aimed at one or two classes. */
static void rnd_pkt(struct rng *r, const struct sl_policy *p,
		    struct sl_pkt_meta *m)
{
	uint32_t i, aims;

	memset(m, 0, sizeof(*m));
	m->family = chance(r, 50) ? SL_FAMILY_IPV4 : SL_FAMILY_IPV6;
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
		m->flags |= SL_PKT_F_VLAN;
	if (chance(r, 85)) {
		m->flags |= SL_PKT_F_L4;
		if (chance(r, 5))
			m->flags |= SL_PKT_F_FRAG | SL_PKT_F_FRAG_FIRST;
	} else {
		m->flags |= SL_PKT_F_FRAG;
		if (chance(r, 50))
			m->sport = m->dport = 0;
	}
	for (i = 0; i < 16; i++) {
		m->src[i] = rnd_byte(r);
		m->dst[i] = rnd_byte(r);
	}
	if (p->n_classes != 0) {
		aims = chance(r, 85) ? 1 + chance(r, 30) : 0;
		for (i = 0; i < aims; i++)
			aim_at(r, &p->classes[rndn(r, p->n_classes)].match, m);
	}
	if (m->family == SL_FAMILY_IPV4) {
		memset(m->src + 4, 0, 12);
		memset(m->dst + 4, 0, 12);
	}
}

/* Printers for a differing case, to stderr. */
static void dump_prefixes(const char *what, const struct sl_prefix *pf,
			  uint32_t n)
{
	char buf[INET6_ADDRSTRLEN];
	uint32_t i;

	fprintf(stderr, " %s=[", what);
	for (i = 0; i < n; i++) {
		inet_ntop(pf[i].family == 4 ? AF_INET : AF_INET6, pf[i].addr,
			  buf, sizeof(buf));
		fprintf(stderr, "%s%s/%u", i ? "," : "", buf, pf[i].len);
	}
	fprintf(stderr, "]");
}

static void dump_ranges(const char *what, const struct sl_range *rg,
			uint32_t n)
{
	uint32_t i;

	fprintf(stderr, " %s=[", what);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%u-%u", i ? "," : "", rg[i].lo, rg[i].hi);
	fprintf(stderr, "]");
}

static void dump_class(uint32_t idx, const struct sl_class *c)
{
	const struct sl_match *m = &c->match;

	fprintf(stderr, "  class %u:", idx);
	if (m->fields & SL_M_PROTO)
		fprintf(stderr, " proto=%d", m->proto);
	if (m->fields & SL_M_SRC)
		dump_prefixes("src", m->src, m->n_src);
	if (m->fields & SL_M_DST)
		dump_prefixes("dst", m->dst, m->n_dst);
	if (m->fields & SL_M_SPORT)
		dump_ranges("sport", m->sport, m->n_sport);
	if (m->fields & SL_M_DPORT)
		dump_ranges("dport", m->dport, m->n_dport);
	if (m->fields & SL_M_TCP_FLAGS)
		fprintf(stderr, " tcp=%#x/%#x", m->tcp_flags, m->tcp_mask);
	if (m->fields & SL_M_VLAN)
		dump_ranges("vlan", m->vlan, m->n_vlan);
	if (m->fields & SL_M_DSCP)
		fprintf(stderr, " dscp=%#" PRIx64, m->dscp);
	fprintf(stderr, "\n");
}

static void dump_pkt(const struct sl_pkt_meta *m)
{
	char s[INET6_ADDRSTRLEN] = "-", d[INET6_ADDRSTRLEN] = "-";

	if (m->family != SL_FAMILY_NONE) {
		inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->src, s,
			  sizeof(s));
		inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->dst, d,
			  sizeof(d));
	}
	fprintf(stderr, "  packet: family=%u mal=%u proto=%u %s:%u -> %s:%u flags=%#x tcp=%#x vlan=%u dscp=%u\n",
		m->family, m->malformed, m->proto, s, m->sport, d, m->dport,
		m->flags, m->tcp_flags, m->vlan, m->dscp);
}

/* A number from the environment, or dflt. */
static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/* Monotonic seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define DIFF_PKTS	512

/* The splits a differential run holds to the reference: default, all hashed. */
static const uint32_t diff_splits[] = { 0, 2 };

#define N_DIFF_SPLITS	(sizeof(diff_splits) / sizeof(diff_splits[0]))

/* What a differential run saw. */
struct diff_stats {
	uint64_t seed;
	uint32_t split;		/* diff_splits[] index, or all in turn */
	uint64_t pkts;
	uint64_t hits;		/* packets the reference put in a class */
	uint64_t diffs;
	uint64_t part_pkts;	/* classified by a part (diff_parts) */
	uint64_t rules[N_DIFF_SPLITS];
	uint64_t hashed[N_DIFF_SPLITS];	/* rules in hash tables */
	double build_s[N_DIFF_SPLITS];
	double build_max_s[N_DIFF_SPLITS];
};

/* Accepts a classifier; the rules of both families in hash tables. */
static uint32_t hashed_rules(const struct sl_classifier *c)
{
	struct sl_classifier_info i4, i6;

	sl_classifier_info(c, SL_FAMILY_IPV4, &i4);
	sl_classifier_info(c, SL_FAMILY_IPV6, &i6);
	return i4.hash_rules + i6.hash_rules;
}

/* Accepts a random policy and packets for it; checks one split. */
static void diff_split(struct rng *r, const struct rpolicy *rp, uint64_t pol,
		       uint32_t d, const struct sl_pkt_meta *pk,
		       const uint32_t *want, struct diff_stats *st)
{
	const struct sl_classify_opts *o = splits[diff_splits[d]].o;
	const struct sl_pkt_meta *mp[SL_CLASSIFY_BURST_MAX];
	uint32_t out[SL_CLASSIFY_BURST_MAX], n = rp->p.n_classes;
	uint32_t i, j, k, w;
	struct sl_classifier *c;
	double t0 = now_s();

	c = must_build_opts(&rp->p, o);
	t0 = now_s() - t0;
	st->build_s[d] += t0;
	st->build_max_s[d] = RTE_MAX(st->build_max_s[d], t0);
	st->hashed[d] += hashed_rules(c);
	if (t0 > 1.0)
		printf("differential: policy %" PRIu64 " (%u classes, %s split) took %.2f s to build\n",
		       pol, n, splits[diff_splits[d]].name, t0);
	for (i = 0; i < DIFF_PKTS; i += k) {
		k = RTE_MIN(1 + rndn(r, SL_CLASSIFY_BURST_MAX), DIFF_PKTS - i);
		for (j = 0; j < k; j++)
			mp[j] = &pk[i + j];
		sl_classify_burst(c, mp, k, out);
		for (j = 0; j < k; j++) {
			w = want[i + j];
			if (out[j] == w || st->diffs++ >= 5)
				continue;
			fprintf(stderr, "seed %" PRIu64 " policy %" PRIu64 " (%u classes, %s): classifier %u, reference %u\n",
				st->seed, pol, n, splits[diff_splits[d]].name,
				out[j], w);
			dump_pkt(mp[j]);
			if (w != NONE)
				dump_class(w, &rp->cls[w]);
			if (out[j] != NONE && out[j] < n)
				dump_class(out[j], &rp->cls[out[j]]);
		}
	}
	st->rules[d] += sl_classifier_rules(c, 4) + sl_classifier_rules(c, 6);
	sl_classifier_free(c);
}

/* Accepts a policy and a part; the reference over that part's classes. */
static uint32_t ref_part(const struct sl_policy *p, const struct sl_pkt_meta *m,
			 uint32_t part)
{
	uint32_t i;

	if (m->malformed != SL_MAL_NONE ||
	    (m->family != SL_FAMILY_IPV4 && m->family != SL_FAMILY_IPV6))
		return NONE;
	for (i = 0; i < p->n_classes; i++) {
		bool payload = p->classes[i].match.fields & SL_M_PAYLOAD;

		if ((part == SL_CLASSIFY_PAYLOAD) != payload)
			continue;
		if (sl_match_l34_holds(&p->classes[i].match, m))
			return i;
	}
	return NONE;
}

/*
 * Accepts a random policy and packets for it; the two parts a ruleset
 * with payload classes classifies with each find the first class of
 * their part, as policy indices.
 */
static void diff_parts(const struct rpolicy *rp, uint64_t pol,
		       const struct sl_pkt_meta *pk, struct diff_stats *st)
{
	static const uint32_t parts[] = { SL_CLASSIFY_NO_PAYLOAD, SL_CLASSIFY_PAYLOAD };
	const struct sl_pkt_meta *mp[SL_CLASSIFY_BURST_MAX];
	uint32_t out[SL_CLASSIFY_BURST_MAX], w;
	struct sl_classifier *c;
	char err[512] = "";

	for (uint32_t k = 0; k < 2; k++) {
		c = sl_classifier_build_part(&rp->p, SOCKET_ID_ANY, parts[k],
					     err, sizeof(err));
		ck_assert_msg(c != NULL, "part %u: %s", parts[k], err);
		for (uint32_t i = 0; i < DIFF_PKTS; i += SL_CLASSIFY_BURST_MAX) {
			for (uint32_t j = 0; j < SL_CLASSIFY_BURST_MAX; j++)
				mp[j] = &pk[i + j];
			sl_classify_burst(c, mp, SL_CLASSIFY_BURST_MAX, out);
			for (uint32_t j = 0; j < SL_CLASSIFY_BURST_MAX; j++) {
				w = ref_part(&rp->p, mp[j], parts[k]);
				st->part_pkts++;
				if (out[j] == w || st->diffs++ >= 5)
					continue;
				fprintf(stderr, "seed %" PRIu64 " policy %" PRIu64 " part %u: classifier %u, reference %u\n",
					st->seed, pol, parts[k], out[j], w);
				dump_pkt(mp[j]);
			}
		}
		sl_classifier_free(c);
	}
}

/*
 * Accepts a random policy; classifies random packets in one split, the
 * next policy in the next: builds take most of the time.
 */
static void diff_policy(struct rng *r, const struct rpolicy *rp,
			uint64_t pol, struct diff_stats *st)
{
	static struct sl_pkt_meta pk[DIFF_PKTS];
	static uint32_t want[DIFF_PKTS];
	uint32_t i;

	for (i = 0; i < DIFF_PKTS; i++) {
		rnd_pkt(r, &rp->p, &pk[i]);
		want[i] = sl_classify_reference(&rp->p, &pk[i]);
		st->pkts++;
		st->hits += want[i] != NONE;
	}
	diff_split(r, rp, pol, st->split < N_DIFF_SPLITS ? st->split :
		   (uint32_t)(pol % N_DIFF_SPLITS), pk, want, st);
	/* Every 8th policy: builds cost, and one in 20 classes has a payload. */
	if (pol % 8 == 0)
		diff_parts(rp, pol, pk, st);
}

/* Random policies and packets: the classifier never differs from the reference. */
START_TEST(test_differential)
{
	uint64_t policies = env_u64("SL_TEST_POLICIES", 1500), pol;
	struct diff_stats st = {
		.seed = env_u64("SL_TEST_SEED", (uint64_t)time(NULL)),
		.split = (uint32_t)env_u64("SL_TEST_SPLIT", N_DIFF_SPLITS),
	};
	struct rng r = { .s = st.seed };
	struct rpolicy rp;
	double t0 = now_s();
	uint32_t n, i;

	printf("differential: seed %" PRIu64 " (SL_TEST_SEED=%" PRIu64 " repeats it), %" PRIu64 " policies\n",
	       st.seed, st.seed, policies);
	for (pol = 0; pol < policies; pol++) {
		/*
		 * Mostly small policies, some of a few hundred classes:
		 * the big ones take rte_acl up to seconds to build.
		 */
		n = chance(&r, 99) ? rndn(&r, 21) : 21 + rndn(&r, 280);
		rpolicy_make(&r, &rp, n);
		diff_policy(&r, &rp, pol, &st);
		rpolicy_free(&rp);
	}
	printf("differential: %" PRIu64 " packets, %.1f%% in a class, %" PRIu64 " more through the payload/non-payload parts, %" PRIu64 " differences; %.1f s in all\n",
	       st.pkts, 100.0 * (double)st.hits / (double)st.pkts,
	       st.part_pkts, st.diffs, now_s() - t0);
	for (i = 0; i < N_DIFF_SPLITS; i++)
		printf("differential: %s split: %" PRIu64 " rules (%" PRIu64 " in hash tables) built in %.1f s (slowest %.2f s)\n",
		       splits[diff_splits[i]].name, st.rules[i], st.hashed[i],
		       st.build_s[i], st.build_max_s[i]);
	ck_assert_msg(st.diffs == 0, "%" PRIu64 " differences (seed %" PRIu64 ")",
		      st.diffs, st.seed);
	/* the packets must actually exercise the rules */
	ck_assert_uint_gt(st.hits * 4, st.pkts);
}
END_TEST

/* ---- (3) 10,000 classes ---- */

#define BIG_CLASSES	10000
#define MIXED_PKTS	4000

/* Accepts a classifier and packets; ns per packet in bursts of 32. */
static double ns_per_pkt(const struct sl_classifier *c,
			 const struct sl_pkt_meta *pk, uint32_t npk)
{
	const struct sl_pkt_meta *mp[32];
	uint32_t out[32], i, j, rounds = 20000;
	double t0;

	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < 32; j++)
			mp[j] = &pk[(i * 32 + j) % npk];
		sl_classify_burst(c, mp, 32, out);
	}
	return (now_s() - t0) * 1e9 / (rounds * 32.0);
}

/* Accepts a classifier; prints where each family's rules went. */
static void print_split(const char *what, const struct sl_classifier *c)
{
	struct sl_classifier_info i4, i6;

	sl_classifier_info(c, SL_FAMILY_IPV4, &i4);
	sl_classifier_info(c, SL_FAMILY_IPV6, &i6);
	printf("%s: IPv4 %u rules: %u in %u hash tables, %u in rte_acl (%u fields); IPv6 %u rules: %u in %u hash tables, %u in rte_acl (%u fields)\n",
	       what, i4.rules, i4.hash_rules, i4.hash_tables, i4.acl_rules,
	       i4.acl_fields, i6.rules, i6.hash_rules, i6.hash_tables,
	       i6.acl_rules, i6.acl_fields);
}

/*
 * Accepts a big policy and packets for it; builds it (in bounded time,
 * timed by the classifier too), checks every packet against the
 * reference in bursts of 64, prints the figures. Returns the classifier.
 */
static struct sl_classifier *big_check(const char *what,
				       const struct sl_policy *p,
				       const struct sl_pkt_meta *pk,
				       uint32_t npk, double max_s)
{
	const struct sl_pkt_meta *mp[SL_CLASSIFY_BURST_MAX];
	uint32_t out[SL_CLASSIFY_BURST_MAX], want, i, j, hits = 0;
	struct sl_classifier *c;
	double t0, built;

	t0 = now_s();
	c = must_build(p);
	built = now_s() - t0;
	ck_assert_uint_gt(sl_classifier_build_ns(c), 0);
	ck_assert_double_le((double)sl_classifier_build_ns(c) / 1e9, built);
	printf("%s: built %u + %u rules in %.3f s\n", what,
	       sl_classifier_rules(c, 4), sl_classifier_rules(c, 6), built);
	print_split(what, c);
	ck_assert_double_lt(built, max_s);
	for (i = 0; i < npk; i += SL_CLASSIFY_BURST_MAX) {
		for (j = 0; j < SL_CLASSIFY_BURST_MAX; j++)
			mp[j] = &pk[(i + j) % npk];
		sl_classify_burst(c, mp, SL_CLASSIFY_BURST_MAX, out);
		for (j = 0; j < SL_CLASSIFY_BURST_MAX; j++) {
			want = sl_classify_reference(p, mp[j]);
			ck_assert_msg(out[j] == want, "%s: packet %u: class %u, want %u",
				      what, (i + j) % npk, out[j], want);
			hits += want != NONE;
		}
	}
	/* the packets must actually exercise the rules */
	ck_assert_uint_gt(hits * 10, npk);
	printf("%s: %.0f ns/packet in bursts of 32, %u of %u packets in a class\n",
	       what, ns_per_pkt(c, pk, npk), hits,
	       RTE_ALIGN_CEIL(npk, SL_CLASSIFY_BURST_MAX));
	return c;
}

/*
 * Each class UDP from a /24 to one port (the shape of a policy keyed by
 * customer network): exact under one mask, so one hash table.
 */
START_TEST(test_10k_src24_dport)
{
	static struct sl_class cls[BIG_CLASSES];
	static struct sl_prefix pf[BIG_CLASSES];
	static struct sl_range rg[BIG_CLASSES];
	static struct sl_pkt_meta pk[3 * BIG_CLASSES];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES,
			       .classes = cls };
	struct sl_classifier_info in;
	struct sl_classifier *c;
	uint32_t i;

	memset(cls, 0, sizeof(cls));
	memset(pk, 0, sizeof(pk));
	fill_prefixes(pf, BIG_CLASSES);
	for (i = 0; i < BIG_CLASSES; i++) {
		snprintf(cls[i].name, sizeof(cls[i].name), "net%u", i);
		rg[i].lo = rg[i].hi = (uint16_t)(1000 + i);
		cls[i].match.fields = SL_M_PROTO | SL_M_SRC | SL_M_DPORT;
		cls[i].match.proto = 17;
		cls[i].match.src = &pf[i];
		cls[i].match.n_src = 1;
		cls[i].match.dport = &rg[i];
		cls[i].match.n_dport = 1;
	}
	/* per class: a hit, the next port, a fragment without ports */
	for (i = 0; i < 3 * BIG_CLASSES; i++) {
		pk[i].family = SL_FAMILY_IPV4;
		pk[i].proto = 17;
		memcpy(pk[i].src, pf[i / 3].addr, 4);
		pk[i].src[3] = (uint8_t)(i * 7);
		pk[i].flags = i % 3 == 2 ? SL_PKT_F_FRAG : SL_PKT_F_L4;
		pk[i].dport = (uint16_t)(rg[i / 3].lo + (i % 3 == 1));
	}
	c = big_check("10k src /24 + dport", &p, pk, 3 * BIG_CLASSES, 5.0);
	sl_classifier_info(c, SL_FAMILY_IPV4, &in);
	ck_assert_uint_eq(in.hash_rules, BIG_CLASSES);
	ck_assert_uint_eq(in.hash_tables, 1);
	ck_assert_uint_eq(in.acl_rules, 0);
	sl_classifier_free(c);
}
END_TEST

/* Accepts a class index; one of the design example's shapes, in turn. */
static void design_class(uint32_t i, struct sl_class *c, struct sl_prefix *pf,
			 struct sl_range *rg)
{
	uint8_t hi = (uint8_t)(i >> 8), lo = (uint8_t)i;
	struct sl_match *m = &c->match;

	memset(c, 0, sizeof(*c));
	memset(pf, 0, 2 * sizeof(*pf));
	snprintf(c->name, sizeof(c->name), "design%u", i);
	m->src = pf;
	m->dst = pf;
	m->dport = rg;
	m->vlan = rg + 2;
	switch (i % 5) {
	case 0:		/* syn-flood: SYNs to a /24 and a v6 /48 */
		m->fields = SL_M_PROTO | SL_M_TCP_FLAGS | SL_M_DST;
		m->proto = 6;
		m->tcp_flags = SL_TCP_SYN;
		m->tcp_mask = SL_TCP_SYN | SL_TCP_ACK;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 24,
					    .addr = { 203, hi, lo } };
		pf[1] = (struct sl_prefix){ .family = 6, .len = 48,
			.addr = { 0x20, 0x01, 0x0d, 0xb8, hi, lo } };
		m->n_dst = 2;
		break;
	case 1:		/* login: web ports of a host */
		m->fields = SL_M_PROTO | SL_M_DPORT | SL_M_DST;
		m->proto = 6;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 32,
					    .addr = { 198, 51, hi, lo } };
		m->n_dst = 1;
		rg[0] = (struct sl_range){ 80, 80 };
		rg[1] = (struct sl_range){ 8080, 8080 };
		m->n_dport = 2;
		break;
	case 2:		/* bulk: a UDP port range from a /24 on a VLAN */
		m->fields = SL_M_PROTO | SL_M_DPORT | SL_M_SRC | SL_M_VLAN;
		m->proto = 17;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 24,
					    .addr = { 10, hi, lo } };
		m->n_src = 1;
		rg[0] = (struct sl_range){ 5000, 5999 };
		m->n_dport = 1;
		rg[2].lo = rg[2].hi = (uint16_t)(i % 4096);
		m->n_vlan = 1;
		break;
	case 3:		/* EF and AF41 from a v6 /64 */
		m->fields = SL_M_PROTO | SL_M_DSCP | SL_M_SRC;
		m->proto = 17;
		m->dscp = BIT(46) | BIT(34);
		pf[0] = (struct sl_prefix){ .family = 6, .len = 64,
			.addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, hi, lo } };
		m->n_src = 1;
		break;
	default:	/* watch-dns from a /24 on its VLAN or 100-199 */
		m->fields = SL_M_PROTO | SL_M_DPORT | SL_M_SRC | SL_M_VLAN;
		m->proto = 17;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 24,
					    .addr = { 172, 16 + (hi & 15), lo } };
		m->n_src = 1;
		rg[0] = (struct sl_range){ 53, 53 };
		m->n_dport = 1;
		rg[2].lo = rg[2].hi = (uint16_t)(i % 4096);
		rg[3] = (struct sl_range){ 100, 199 };
		m->n_vlan = 2;
		break;
	}
}

/*
 * 10,000 classes in the design example's shapes: proto with tcp_flags
 * and dst lists, dport lists and ranges, VLANs, DSCP. Some masks go to
 * hash tables, the ranges to rte_acl.
 */
START_TEST(test_10k_design)
{
	static struct sl_class cls[BIG_CLASSES];
	static struct sl_prefix pf[BIG_CLASSES][2];
	static struct sl_range rg[BIG_CLASSES][4];
	static struct sl_pkt_meta pk[MIXED_PKTS];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES,
			       .classes = cls };
	struct sl_classifier_info in;
	struct rng r = { .s = 11 };
	struct sl_classifier *c;
	uint32_t i;

	for (i = 0; i < BIG_CLASSES; i++)
		design_class(i, &cls[i], pf[i], rg[i]);
	for (i = 0; i < MIXED_PKTS; i++)
		rnd_pkt(&r, &p, &pk[i]);
	c = big_check("10k design shapes", &p, pk, MIXED_PKTS, 5.0);
	sl_classifier_info(c, SL_FAMILY_IPV4, &in);
	ck_assert_uint_gt(in.hash_rules, 0);
	ck_assert_uint_gt(in.acl_rules, 0);
	sl_classifier_free(c);
}
END_TEST

/* 1,000 classes of 10 source prefixes each (/20 to /32) to TCP 443. */
START_TEST(test_1k_lists)
{
	static struct sl_class cls[BIG_CLASSES / 10];
	static struct sl_prefix pf[BIG_CLASSES];
	static struct sl_range https = { 443, 443 };
	static struct sl_pkt_meta pk[MIXED_PKTS];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES / 10,
			       .classes = cls };
	struct rng r = { .s = 12 };
	struct sl_classifier *c;
	uint32_t i, k;

	memset(cls, 0, sizeof(cls));
	memset(pf, 0, sizeof(pf));
	for (i = 0; i < BIG_CLASSES; i++) {
		k = i % 10;
		pf[i].family = SL_FAMILY_IPV4;
		pf[i].len = (uint8_t)(20 + 4 * (k % 4));
		pf[i].addr[0] = (uint8_t)(10 + (i >> 14));
		pf[i].addr[1] = (uint8_t)(i >> 6);
		pf[i].addr[2] = (uint8_t)((i & 63) << 2);
		mask_host(&pf[i]);
	}
	for (i = 0; i < BIG_CLASSES / 10; i++) {
		snprintf(cls[i].name, sizeof(cls[i].name), "list%u", i);
		cls[i].match.fields = SL_M_PROTO | SL_M_SRC | SL_M_DPORT;
		cls[i].match.proto = 6;
		cls[i].match.src = &pf[10 * i];
		cls[i].match.n_src = 10;
		cls[i].match.dport = &https;
		cls[i].match.n_dport = 1;
	}
	for (i = 0; i < MIXED_PKTS; i++)
		rnd_pkt(&r, &p, &pk[i]);
	c = big_check("1k classes x 10 prefixes", &p, pk, MIXED_PKTS, 5.0);
	sl_classifier_free(c);
}
END_TEST

/* Each class one IPv4 /32 and one IPv6 /128 source: 10,000 rules each. */
START_TEST(test_10k_sources)
{
	static struct sl_class cls[BIG_CLASSES];
	static struct sl_prefix pf[BIG_CLASSES][2];
	static struct sl_pkt_meta pk[2 * BIG_CLASSES + 2];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES,
			       .classes = cls };
	const struct sl_pkt_meta *mp[1];
	struct sl_classifier *c;
	uint32_t i, out, want;
	double t0, built;

	memset(cls, 0, sizeof(cls));
	for (i = 0; i < BIG_CLASSES; i++) {
		snprintf(cls[i].name, sizeof(cls[i].name), "host%u", i);
		memset(pf[i], 0, sizeof(pf[i]));
		pf[i][0].family = SL_FAMILY_IPV4;
		pf[i][0].len = 32;
		pf[i][0].addr[0] = 10;
		pf[i][0].addr[2] = (uint8_t)(i >> 8);
		pf[i][0].addr[3] = (uint8_t)i;
		pf[i][1].family = SL_FAMILY_IPV6;
		pf[i][1].len = 128;
		pf[i][1].addr[0] = 0x20;
		pf[i][1].addr[1] = 0x01;
		pf[i][1].addr[14] = (uint8_t)(i >> 8);
		pf[i][1].addr[15] = (uint8_t)i;
		cls[i].match.fields = SL_M_SRC;
		cls[i].match.src = pf[i];
		cls[i].match.n_src = 2;

		memset(&pk[2 * i], 0, 2 * sizeof(pk[0]));
		pk[2 * i].family = SL_FAMILY_IPV4;
		memcpy(pk[2 * i].src, pf[i][0].addr, 16);
		pk[2 * i + 1].family = SL_FAMILY_IPV6;
		memcpy(pk[2 * i + 1].src, pf[i][1].addr, 16);
	}
	/* near misses: the next address after the last class */
	pk[2 * BIG_CLASSES] = pk[2 * BIG_CLASSES - 2];
	pk[2 * BIG_CLASSES].src[3]++;
	pk[2 * BIG_CLASSES + 1] = pk[2 * BIG_CLASSES - 1];
	pk[2 * BIG_CLASSES + 1].src[15]++;

	t0 = now_s();
	c = must_build(&p);
	built = now_s() - t0;
	printf("10k sources: built %u + %u rules in %.3f s\n",
	       sl_classifier_rules(c, 4), sl_classifier_rules(c, 6), built);
	print_split("10k sources", c);
	ck_assert_double_lt(built, 10.0);
	for (i = 0; i < 2 * BIG_CLASSES + 2; i++) {
		mp[0] = &pk[i];
		sl_classify_burst(c, mp, 1, &out);
		want = i < 2 * BIG_CLASSES ? i / 2 : NONE;
		ck_assert_msg(out == want, "packet %u: class %u, want %u", i,
			      out, want);
	}
	printf("10k sources: %.0f ns/packet in bursts of 32 (v4/v6 mixed)\n",
	       ns_per_pkt(c, pk, 2 * BIG_CLASSES));
	sl_classifier_free(c);
}
END_TEST

/* Each class a UDP destination port range of 6 ports: 10,000 rules. */
START_TEST(test_10k_ports)
{
	static struct sl_class cls[BIG_CLASSES];
	static struct sl_range rg[BIG_CLASSES];
	static struct sl_pkt_meta pk[3 * BIG_CLASSES];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES,
			       .classes = cls };
	struct sl_classifier *c;
	const struct sl_pkt_meta *mp[1];
	uint32_t i, out, want;
	double t0, built;

	memset(cls, 0, sizeof(cls));
	memset(pk, 0, sizeof(pk));
	for (i = 0; i < BIG_CLASSES; i++) {
		snprintf(cls[i].name, sizeof(cls[i].name), "ports%u", i);
		rg[i].lo = (uint16_t)(1 + 6 * i);
		rg[i].hi = (uint16_t)(6 + 6 * i);
		cls[i].match.fields = SL_M_PROTO | SL_M_DPORT;
		cls[i].match.proto = 17;
		cls[i].match.dport = &rg[i];
		cls[i].match.n_dport = 1;
	}
	for (i = 0; i < 3 * BIG_CLASSES; i++) {
		pk[i].family = i & 1 ? SL_FAMILY_IPV6 : SL_FAMILY_IPV4;
		pk[i].proto = 17;
		pk[i].flags = SL_PKT_F_L4;
		pk[i].dport = (uint16_t)(i % 3 == 0 ? rg[i / 3].lo :
			      i % 3 == 1 ? rg[i / 3].hi : rg[i / 3].hi + 1);
	}
	t0 = now_s();
	c = must_build(&p);
	built = now_s() - t0;
	printf("10k port ranges: built %u + %u rules in %.3f s\n",
	       sl_classifier_rules(c, 4), sl_classifier_rules(c, 6), built);
	print_split("10k port ranges", c);
	ck_assert_double_lt(built, 10.0);
	for (i = 0; i < 3 * BIG_CLASSES; i++) {
		mp[0] = &pk[i];
		sl_classify_burst(c, mp, 1, &out);
		/* hi + 1 is the next class's lo, except after the last */
		want = i / 3 + (i % 3 == 2);
		if (want == BIG_CLASSES)
			want = NONE;
		ck_assert_msg(out == want, "dport %u: class %u, want %u",
			      pk[i].dport, out, want);
		ck_assert_uint_eq(sl_classify_reference(&p, &pk[i]), want);
	}
	printf("10k port ranges: %.0f ns/packet in bursts of 32\n",
	       ns_per_pkt(c, pk, 3 * BIG_CLASSES));
	sl_classifier_free(c);
}
END_TEST

/* Accepts a class index; one of four shapes a real policy might use. */
static void mixed_class(uint32_t i, struct sl_class *c, struct sl_prefix *pf,
			struct sl_range *rg)
{
	uint8_t hi = (uint8_t)(i >> 8), lo = (uint8_t)i;
	struct sl_match *m = &c->match;

	memset(c, 0, sizeof(*c));
	memset(pf, 0, 2 * sizeof(*pf));
	snprintf(c->name, sizeof(c->name), "mixed%u", i);
	m->src = pf;
	m->dst = pf;
	m->sport = rg;
	m->dport = rg;
	m->vlan = rg;
	switch (i % 4) {
	case 0:		/* tcp to a /24, web ports */
		m->fields = SL_M_PROTO | SL_M_DST | SL_M_DPORT;
		m->proto = 6;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 24,
					    .addr = { 10, hi, lo } };
		m->n_dst = 1;
		rg[0] = (struct sl_range){ 80, 80 };
		rg[1] = (struct sl_range){ 443, 443 };
		m->n_dport = 2;
		break;
	case 1:		/* udp from a v6 /64 to a port range */
		m->fields = SL_M_PROTO | SL_M_SRC | SL_M_DPORT;
		m->proto = 17;
		pf[0] = (struct sl_prefix){ .family = 6, .len = 64,
			.addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, hi, lo } };
		m->n_src = 1;
		rg[0].lo = (uint16_t)(1000 + i % 5000);
		rg[0].hi = (uint16_t)(rg[0].lo + i % 11);
		m->n_dport = 1;
		break;
	case 2:		/* SYNs with EF or CS0 to a host */
		m->fields = SL_M_DST | SL_M_TCP_FLAGS | SL_M_DSCP;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 32,
					    .addr = { 192, 168, hi, lo } };
		m->n_dst = 1;
		m->tcp_flags = SL_TCP_SYN;
		m->tcp_mask = SL_TCP_SYN | SL_TCP_ACK;
		m->dscp = BIT(0) | BIT(46);
		break;
	default:	/* a v4 and a v6 host on one VLAN */
		m->fields = SL_M_SRC | SL_M_VLAN;
		pf[0] = (struct sl_prefix){ .family = 4, .len = 32,
					    .addr = { 172, 16, hi, lo } };
		pf[1] = (struct sl_prefix){ .family = 6, .len = 80,
			.addr = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0,
				  hi, lo } };
		m->n_src = 2;
		rg[0].lo = rg[0].hi = (uint16_t)(i % 4096);
		m->n_vlan = 1;
		break;
	}
}

/* 10,000 classes of four realistic shapes, checked against the reference. */
START_TEST(test_10k_mixed)
{
	static struct sl_class cls[BIG_CLASSES];
	static struct sl_prefix pf[BIG_CLASSES][2];
	static struct sl_range rg[BIG_CLASSES][2];
	static struct sl_pkt_meta pk[MIXED_PKTS];
	struct sl_policy p = { .version = 1, .n_classes = BIG_CLASSES,
			       .classes = cls };
	const struct sl_pkt_meta *mp[SL_CLASSIFY_BURST_MAX];
	uint32_t out[SL_CLASSIFY_BURST_MAX], i, j, hits = 0;
	struct rng r = { .s = 7 };
	struct sl_classifier *c;
	double t0, built;

	for (i = 0; i < BIG_CLASSES; i++)
		mixed_class(i, &cls[i], pf[i], rg[i]);
	for (i = 0; i < MIXED_PKTS; i++)
		rnd_pkt(&r, &p, &pk[i]);
	t0 = now_s();
	c = must_build(&p);
	built = now_s() - t0;
	printf("10k mixed shapes: built %u + %u rules in %.3f s\n",
	       sl_classifier_rules(c, 4), sl_classifier_rules(c, 6), built);
	print_split("10k mixed shapes", c);
	ck_assert_double_lt(built, 10.0);
	for (i = 0; i < MIXED_PKTS; i += SL_CLASSIFY_BURST_MAX) {
		for (j = 0; j < SL_CLASSIFY_BURST_MAX; j++)
			mp[j] = &pk[(i + j) % MIXED_PKTS];
		sl_classify_burst(c, mp, SL_CLASSIFY_BURST_MAX, out);
		for (j = 0; j < SL_CLASSIFY_BURST_MAX; j++) {
			uint32_t want = sl_classify_reference(&p, mp[j]);

			ck_assert_msg(out[j] == want, "packet %u: class %u, want %u",
				      (i + j) % MIXED_PKTS, out[j], want);
			hits += want != NONE;
		}
	}
	ck_assert_uint_gt(hits * 10, MIXED_PKTS);
	printf("10k mixed shapes: %.0f ns/packet in bursts of 32, %u of %u packets in a class\n",
	       ns_per_pkt(c, pk, MIXED_PKTS), hits, MIXED_PKTS);
	sl_classifier_free(c);
}
END_TEST

/* ---- (4) every burst size ---- */

/* Accepts packets for a policy; bursts of every size match the reference. */
static void bursts_check(const struct sl_policy *p,
			 const struct sl_classify_opts *o, const char *split,
			 const struct sl_pkt_meta *const *mp, uint32_t total)
{
	uint32_t out[2 * SL_CLASSIFY_BURST_MAX + 11];
	struct sl_classifier *c;
	uint32_t n, i, start;

	c = must_build_opts(p, o);
	for (n = 1; n <= SL_CLASSIFY_BURST_MAX; n++) {
		for (start = 0; start + n <= total; start += 37) {
			for (i = 0; i <= n; i++)
				out[i] = 0xdeadbeef;
			sl_classify_burst(c, mp + start, n, out);
			for (i = 0; i < n; i++)
				ck_assert_msg(out[i] == sl_classify_reference(p, mp[start + i]),
					      "%s: burst %u at %u: packet %u got %u",
					      split, n, start, i, out[i]);
			ck_assert_uint_eq(out[n], 0xdeadbeef);
		}
	}
	/* more than one burst's worth in one call is split, not truncated */
	out[total] = 0xdeadbeef;
	sl_classify_burst(c, mp, total, out);
	for (i = 0; i < total; i++)
		ck_assert_uint_eq(out[i], sl_classify_reference(p, mp[i]));
	ck_assert_uint_eq(out[total], 0xdeadbeef);
	sl_classifier_free(c);
}

/* Bursts of 1..64 at many offsets, and more than 64 at once, in each split. */
START_TEST(test_bursts)
{
	static const struct mspec ms[] = {
		{ .fields = SL_M_PROTO | SL_M_DPORT, .proto = 6,
		  .dport = { R(80, 80) }, .n_dport = 1 },
		{ .fields = SL_M_SRC, .src = { "2001:db8::/32", "10.0.0.0/8" } },
		{ .fields = SL_M_VLAN, .vlan = { R(5, 5) }, .n_vlan = 1 },
		{ .fields = SL_M_DSCP, .dscp = BIT(46) },
	};
	struct sl_pkt_meta pk[2 * SL_CLASSIFY_BURST_MAX + 10];
	const struct sl_pkt_meta *mp[2 * SL_CLASSIFY_BURST_MAX + 10];
	uint32_t total = 2 * SL_CLASSIFY_BURST_MAX + 10;
	struct rng r = { .s = 42 };
	struct hpolicy hp;
	uint32_t n, i, s, seen[5] = { 0 };

	mpolicy(&hp, ms, 4);
	for (i = 0; i < total; i++) {
		rnd_pkt(&r, &hp.p, &pk[i]);
		mp[i] = &pk[i];
		n = sl_classify_reference(&hp.p, &pk[i]);
		seen[n == NONE ? 4 : n]++;
	}
	/* the burst holds every outcome, so a shuffled answer shows */
	for (i = 0; i < 5; i++)
		ck_assert_msg(seen[i] > 0, "no packet for outcome %u", i);
	for (s = 0; s < N_SPLITS; s++)
		bursts_check(&hp.p, splits[s].o, splits[s].name, mp, total);
}
END_TEST

/* Test cases: fields, build, differential, scale. */
static Suite *classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc;

	tc = tcase_create("fields");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_field, 0,
			    sizeof(field_cases) / sizeof(field_cases[0]));
	tcase_add_loop_test(tc, test_order, 0,
			    sizeof(order_cases) / sizeof(order_cases[0]));
	tcase_add_loop_test(tc, test_rules, 0,
			    sizeof(rules_cases) / sizeof(rules_cases[0]));
	tcase_add_test(tc, test_dscp_sets);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_policy);
	tcase_add_test(tc, test_one_family);
	tcase_add_loop_test(tc, test_refuse, 0,
			    sizeof(refuse_cases) / sizeof(refuse_cases[0]));
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_two_alive);
	tcase_add_test(tc, test_opts);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_10k_sources);
	tcase_add_test(tc, test_10k_ports);
	tcase_add_test(tc, test_10k_mixed);
	tcase_add_test(tc, test_10k_src24_dport);
	tcase_add_test(tc, test_10k_design);
	tcase_add_test(tc, test_1k_lists);
	tcase_add_test(tc, test_bursts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(classify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
