/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP program (bpf/sluice.bpf.c) run with BPF_PROG_TEST_RUN. The
 * maps are written by hand here, as sluice_xdp.h lays them out, so the
 * program is tested apart from its loader:
 *
 *  - a corpus of valid and broken frames (pkt_corpus.h), plus every
 *    truncation of a few rich samples, must get from the program the
 *    malformed reason sl_pkt_parse() gives and the verdict the default
 *    action says, and a policy using every field must put each frame
 *    in the class a reference match on sl_pkt_parse()'s meta picks;
 *  - hand-built policies: classes, drop/monitor/mark (DSCP and IPv4
 *    checksum as sl_pkt_set_dscp() leaves them), bucket keys, bucket
 *    creation, a full bucket map and the overflow bucket, slot reuse,
 *    the double-buffered sets, no policy, no peer.
 *
 * Needs root (BPF and a devmap). Without BPF the binary exits 77, which
 * meson reports as skipped.
 *
 *   test_xdp_prog --bench   program size and ns per packet (repeat=1e6)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>

#include "pkt.h"
#include "pkt_corpus.h"
#include "sluice.skel.h"
#include "sluice_xdp.h"

#define LO_IFINDEX	1	/* the peer of lo is lo: a devmap entry that exists */
#define FRAME_BUF	4096
#define N_CORPUS	4000
#define ETH_HDR		14

/*
 * Check's ck_assert_* record a mark point per call; the corpus loops
 * make tens of thousands of checks, so call into Check only on failure.
 */
#define CHECK(expr, ...)						\
	do {								\
		if (!(expr))						\
			ck_abort_msg(__VA_ARGS__);			\
	} while (0)

_Static_assert(sizeof(struct sl_xdp_class) % 8 == 0,
	       "sl_classes elements are laid out back to back in the mmap");
_Static_assert(sizeof(struct sl_xdp_stats) % 8 == 0 &&
	       sizeof(struct sl_xdp_counters) % 8 == 0,
	       "per-CPU values are summed as arrays of u64");

/* ---- The program and its maps ---- */

/* The field tables, in the order of tables[] below. */
enum { T_PROTO, T_SPORT, T_DPORT, T_TCPF, T_VLAN, T_DSCP, T__COUNT };

static const struct table_desc {
	uint32_t field;		/* SL_XDP_F_* */
	uint32_t entries;	/* per set, "none" entry included */
	int none;		/* has a "field absent" last entry */
} tables[T__COUNT] = {
	[T_PROTO] = { SL_XDP_F_PROTO, SL_XDP_PROTO_ENTRIES, 0 },
	[T_SPORT] = { SL_XDP_F_SPORT, SL_XDP_PORT_ENTRIES, 1 },
	[T_DPORT] = { SL_XDP_F_DPORT, SL_XDP_PORT_ENTRIES, 1 },
	[T_TCPF] = { SL_XDP_F_TCPF, SL_XDP_TCPF_ENTRIES, 1 },
	[T_VLAN] = { SL_XDP_F_VLAN, SL_XDP_VLAN_ENTRIES, 1 },
	[T_DSCP] = { SL_XDP_F_DSCP, SL_XDP_DSCP_ENTRIES, 0 },
};

struct xt {
	struct sluice_bpf *skel;
	int prog_fd;
	int ncpu;
	struct sl_xdp_bitmap *tab[T__COUNT];	/* mmapped, both sets */
	size_t tab_len[T__COUNT];
	struct sl_xdp_class *classes;		/* mmapped, both sets */
	size_t classes_len;
};

static struct xt X;

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_map *table_map(struct xt *x, int t)
{
	struct bpf_map *m[T__COUNT] = {
		x->skel->maps.sl_proto, x->skel->maps.sl_sport,
		x->skel->maps.sl_dport, x->skel->maps.sl_tcpf,
		x->skel->maps.sl_vlan, x->skel->maps.sl_dscp,
	};

	return m[t];
}

/* Map all of an mmapable array map; sets *len to the mapping's size. */
static void *map_mmap(struct bpf_map *m, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (size_t)bpf_map__value_size(m) * bpf_map__max_entries(m);
	void *p;

	*len = (n + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(m), 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Open and load the program (keys_max buckets; 0 for the default) and
 * map its tables. Returns 0 or a negative errno; leaves x empty on error.
 */
static int xt_open(struct xt *x, uint32_t keys_max)
{
	struct bpf_devmap_val peer = { .ifindex = LO_IFINDEX };
	uint32_t lo = LO_IFINDEX;
	int err;

	memset(x, 0, sizeof(*x));
	x->skel = sluice_bpf__open();
	if (!x->skel)
		return -errno;
	if (keys_max)
		bpf_map__set_max_entries(x->skel->maps.sl_buckets, keys_max);
	err = sluice_bpf__load(x->skel);
	if (err)
		goto destroy;
	x->prog_fd = bpf_program__fd(x->skel->progs.sluice_xdp);
	x->ncpu = libbpf_num_possible_cpus();
	for (int t = 0; t < T__COUNT; t++) {
		x->tab[t] = map_mmap(table_map(x, t), &x->tab_len[t]);
		if (!x->tab[t])
			goto unmap;
	}
	x->classes = map_mmap(x->skel->maps.sl_classes, &x->classes_len);
	if (!x->classes)
		goto unmap;
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.sl_tx), &lo, &peer,
				BPF_ANY))
		goto unmap;
	return 0;

unmap:
	err = -errno;
	for (int t = 0; t < T__COUNT; t++)
		if (x->tab[t])
			munmap(x->tab[t], x->tab_len[t]);
	if (x->classes)
		munmap(x->classes, x->classes_len);
destroy:
	sluice_bpf__destroy(x->skel);
	memset(x, 0, sizeof(*x));
	return err;
}

static void xt_close(struct xt *x)
{
	for (int t = 0; t < T__COUNT; t++)
		munmap(x->tab[t], x->tab_len[t]);
	munmap(x->classes, x->classes_len);
	sluice_bpf__destroy(x->skel);
	memset(x, 0, sizeof(*x));
}

static void setup_keys(uint32_t keys_max)
{
	int err = xt_open(&X, keys_max);

	ck_assert_msg(err == 0, "loading sluice.bpf.o: %s", strerror(-err));
}

static void setup(void)
{
	setup_keys(4096);
}

static void teardown(void)
{
	xt_close(&X);
}

/* Sum a per-CPU value of size bytes (u64s) over CPUs into out. */
static void percpu_sum(struct xt *x, struct bpf_map *m, uint32_t key,
		       void *out, size_t size)
{
	size_t n = size / 8;
	uint64_t *all = calloc((size_t)x->ncpu, size), *o = out;

	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(m), &key, all), 0);
	memset(out, 0, size);
	for (int c = 0; c < x->ncpu; c++)
		for (size_t i = 0; i < n; i++)
			o[i] += all[(size_t)c * n + i];
	free(all);
}

static struct sl_xdp_stats stats(struct xt *x)
{
	struct sl_xdp_stats st;

	percpu_sum(x, x->skel->maps.sl_stats, 0, &st, sizeof(st));
	return st;
}

static struct sl_xdp_counters counters(struct xt *x, uint32_t slot)
{
	struct sl_xdp_counters c;

	percpu_sum(x, x->skel->maps.sl_counters, slot, &c, sizeof(c));
	return c;
}

/*
 * Run one frame; returns the XDP verdict and leaves the frame as the
 * program left it in out (FRAME_BUF bytes), if out is not NULL.
 */
static uint32_t run(struct xt *x, const uint8_t *frame, uint32_t len,
		    uint8_t *out)
{
	uint8_t scratch[FRAME_BUF];
	struct xdp_md md = { .data = 0, .data_end = len,
			     .ingress_ifindex = LO_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame, .data_size_in = len,
		.data_out = out ? out : scratch, .data_size_out = FRAME_BUF,
		.ctx_in = &md, .ctx_size_in = sizeof(md),
		.repeat = 1);
	int err = bpf_prog_test_run_opts(x->prog_fd, &o);

	CHECK(err == 0, "test run of a %u-byte frame: %s", len,
	      strerror(errno));
	CHECK(o.data_size_out == len, "the program changed the frame length");
	return o.retval;
}

static void set_active(struct xt *x, uint32_t set, uint32_t valid)
{
	struct sl_xdp_active a = { .set = set, .valid = valid };
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(x->skel->maps.sl_active),
					     &zero, &a, BPF_ANY), 0);
}

/* ---- Policies written by hand ---- */

/*
 * A class for the tests: the fields in has constrain it (one value or
 * range per field, one prefix per address), the rest are "any".
 */
struct tclass {
	uint32_t has;		/* SL_XDP_F_* */
	uint8_t proto;
	const char *src;	/* "addr/len", IPv4 or IPv6 */
	const char *dst;
	uint16_t sport[2];	/* lo, hi */
	uint16_t dport[2];
	uint8_t tcp[2];		/* mask, flags */
	uint16_t vlan[2];
	uint8_t dscp;
	/* The limit, when rate is not 0. */
	uint64_t rate;
	uint64_t burst;		/* tokens: packets, or bits when bits */
	uint8_t bits;
	uint8_t key;		/* SL_XDP_KEY_* */
	uint8_t prefix;		/* key prefix; IPv4 takes min(prefix, 32) */
	uint8_t action;		/* SL_XDP_EXCEED_* */
	uint8_t mark;
};

struct prefix {
	int family;		/* 4 or 6 */
	uint8_t len;
	uint8_t a[16];
};

static struct prefix prefix_parse(const char *s)
{
	struct prefix p;
	char buf[64];
	char *slash;

	memset(&p, 0, sizeof(p));
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	p.len = (uint8_t)atoi(slash + 1);
	p.family = strchr(buf, ':') ? 6 : 4;
	ck_assert_int_eq(inet_pton(p.family == 4 ? AF_INET : AF_INET6, buf, p.a), 1);
	return p;
}

/* Whether the first len bits of a and b agree. */
static int bits_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
			return 0;
	}
	return 1;
}

/* Whether class c holds for value v of table t (v == entries - 1: none). */
static int table_holds(const struct tclass *c, int t, uint32_t v)
{
	int none = tables[t].none && v == tables[t].entries - 1;

	if (!(c->has & tables[t].field))
		return 1;
	if (none)
		return 0;
	switch (t) {
	case T_PROTO:
		return v == c->proto;
	case T_SPORT:
		return v >= c->sport[0] && v <= c->sport[1];
	case T_DPORT:
		return v >= c->dport[0] && v <= c->dport[1];
	case T_TCPF:
		return (v & c->tcp[0]) == c->tcp[1];
	case T_VLAN:
		return v >= c->vlan[0] && v <= c->vlan[1];
	default:
		return v == c->dscp;
	}
}

/* Whether class c holds for address a of family f in its src (or dst). */
static int addr_holds(const struct tclass *c, int dst, int f, const uint8_t *a)
{
	const char *s = dst ? c->dst : c->src;
	struct prefix p;

	if (!(c->has & (dst ? SL_XDP_F_DST : SL_XDP_F_SRC)))
		return 1;
	p = prefix_parse(s);
	return p.family == f && bits_equal(p.a, a, p.len);
}

static void bit_set(struct sl_xdp_bitmap *b, uint32_t i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

/* Insert one trie entry: prefix p (len bits of a) of set, bitmap b. */
static void trie_put(struct xt *x, int dst, int f, uint32_t set,
		     const uint8_t *a, unsigned int len,
		     const struct sl_xdp_bitmap *b)
{
	struct bpf_map *m = f == 4 ?
		(dst ? x->skel->maps.sl_dst4 : x->skel->maps.sl_src4) :
		(dst ? x->skel->maps.sl_dst6 : x->skel->maps.sl_src6);
	struct sl_xdp_lpm6 k6;
	struct sl_xdp_lpm4 k4;
	void *k;

	memset(&k4, 0, sizeof(k4));
	memset(&k6, 0, sizeof(k6));
	if (f == 4) {
		k4.prefixlen = 8 + len;
		k4.set = (uint8_t)set;
		memcpy(k4.addr, a, 4);
		k = &k4;
	} else {
		k6.prefixlen = 8 + len;
		k6.set = (uint8_t)set;
		memcpy(k6.addr, a, 16);
		k = &k6;
	}
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(m), k, b, BPF_ANY), 0);
}

/*
 * Write the tries of one direction for set: a /0 entry per family with
 * the classes that do not constrain it, and each class's prefix with
 * every class whose prefix covers it (the header's contract).
 */
static void tries_write(struct xt *x, int dst, uint32_t set,
			const struct tclass *c, uint32_t n)
{
	static const uint8_t zero[16];

	for (int f = 4; f <= 6; f += 2) {
		struct sl_xdp_bitmap b;

		memset(&b, 0, sizeof(b));
		for (uint32_t i = 0; i < n; i++)
			if (!(c[i].has & (dst ? SL_XDP_F_DST : SL_XDP_F_SRC)))
				bit_set(&b, i);
		trie_put(x, dst, f, set, zero, 0, &b);
	}
	for (uint32_t j = 0; j < n; j++) {
		struct sl_xdp_bitmap b;
		struct prefix p;

		if (!(c[j].has & (dst ? SL_XDP_F_DST : SL_XDP_F_SRC)))
			continue;
		p = prefix_parse(dst ? c[j].dst : c[j].src);
		memset(&b, 0, sizeof(b));
		for (uint32_t i = 0; i < n; i++) {
			struct prefix q;

			if (!(c[i].has & (dst ? SL_XDP_F_DST : SL_XDP_F_SRC))) {
				bit_set(&b, i);
				continue;
			}
			q = prefix_parse(dst ? c[i].dst : c[i].src);
			if (q.family == p.family && q.len <= p.len &&
			    bits_equal(q.a, p.a, q.len))
				bit_set(&b, i);
		}
		trie_put(x, dst, p.family, set, p.a, p.len, &b);
	}
}

/*
 * Write classes c[0..n) into set (slots slot0 + i, generation gen), with
 * the given default action, and leave sl_active alone.
 */
static void policy_write(struct xt *x, uint32_t set, const struct tclass *c,
			 uint32_t n, int default_drop, uint32_t slot0,
			 uint32_t gen)
{
	struct sl_xdp_cfg cfg = { .version = 1, .n_classes = n,
				  .n_words = (n + 63) / 64,
				  .default_drop = (uint32_t)default_drop };

	ck_assert_uint_le(n, SL_XDP_CLASSES_MAX);
	for (uint32_t i = 0; i < n; i++)
		cfg.fields |= c[i].has;
	for (int t = 0; t < T__COUNT; t++) {
		struct sl_xdp_bitmap *tab;

		if (!(cfg.fields & tables[t].field))
			continue;
		tab = x->tab[t] + (size_t)set * tables[t].entries;
		for (uint32_t v = 0; v < tables[t].entries; v++) {
			memset(&tab[v], 0, sizeof(tab[v]));
			for (uint32_t i = 0; i < n; i++)
				if (table_holds(&c[i], t, v))
					bit_set(&tab[v], i);
		}
	}
	if (cfg.fields & SL_XDP_F_SRC)
		tries_write(x, 0, set, c, n);
	if (cfg.fields & SL_XDP_F_DST)
		tries_write(x, 1, set, c, n);
	for (uint32_t i = 0; i < n; i++) {
		struct sl_xdp_class *k = &x->classes[set * SL_XDP_CLASSES_MAX + i];

		memset(k, 0, sizeof(*k));
		k->slot = slot0 + i;
		k->gen = gen;
		k->idle_ms = 1000;
		k->action = c[i].action;
		k->mark_dscp = c[i].mark;
		if (!c[i].rate)
			continue;
		k->has_limit = 1;
		k->key = c[i].key;
		k->prefix6 = c[i].prefix;
		k->prefix4 = c[i].prefix > 32 ? 32 : c[i].prefix;
		k->bits = c[i].bits;
		ck_assert_int_eq(sl_tb_profile_init(&k->tb, c[i].rate, c[i].burst), 0);
	}
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(x->skel->maps.sl_cfg),
					     &set, &cfg, BPF_ANY), 0);
}

/* Write a policy into set 0 and make it the active one. */
static void policy_set(struct xt *x, const struct tclass *c, uint32_t n,
		       int default_drop)
{
	policy_write(x, 0, c, n, default_drop, 0, 1);
	set_active(x, 0, 1);
}

/* The first class of c[0..n) that holds for a parsed packet, or -1. */
static int reference_class(const struct tclass *c, uint32_t n,
			   const struct sl_pkt_meta *m)
{
	int l4 = m->flags & SL_PKT_F_L4;
	uint32_t v[T__COUNT] = {
		[T_PROTO] = m->proto,
		[T_SPORT] = l4 ? m->sport : SL_XDP_PORT_NONE,
		[T_DPORT] = l4 ? m->dport : SL_XDP_PORT_NONE,
		[T_TCPF] = l4 && m->proto == 6 ? m->tcp_flags : SL_XDP_TCPF_NONE,
		[T_VLAN] = m->flags & SL_PKT_F_VLAN ? m->vlan : SL_XDP_VLAN_NONE,
		[T_DSCP] = m->dscp,
	};

	for (uint32_t i = 0; i < n; i++) {
		int ok = addr_holds(&c[i], 0, m->family, m->src) &&
			 addr_holds(&c[i], 1, m->family, m->dst);

		for (int t = 0; ok && t < T__COUNT; t++)
			ok = table_holds(&c[i], t, v[t]);
		if (ok)
			return (int)i;
	}
	return -1;
}

/* ---- Frames built by hand ---- */

/* A frame to build; zero fields take the defaults build() gives them. */
struct pkt {
	int family;		/* 4 or 6 */
	uint8_t proto;		/* 0: UDP */
	const char *src, *dst;	/* NULL: a documentation address */
	uint16_t sport, dport;	/* 0: 1000, 53 */
	uint8_t tcp_flags;
	uint8_t tos;		/* IPv4 TOS or IPv6 traffic class */
	uint8_t tagged;		/* one 802.1Q tag with VLAN ID vlan */
	uint16_t vlan;
	uint16_t frag;		/* IPv4 flags and fragment offset */
	uint16_t payload;
};

/* Table rows, and pointers to frames for calls. */
#define P4(...)		{ .family = 4, __VA_ARGS__ }
#define P6(...)		{ .family = 6, __VA_ARGS__ }
#define PKT4(...)	(&(struct pkt)P4(__VA_ARGS__))
#define PKT6(...)	(&(struct pkt)P6(__VA_ARGS__))

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip4_csum(const uint8_t *ip, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < n; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Build p into f; returns its length. */
static uint32_t build(uint8_t *f, const struct pkt *p)
{
	int v4 = p->family == 4;
	uint8_t proto = p->proto ? p->proto : 17;
	const char *src = p->src ? p->src : v4 ? "192.0.2.1" : "2001:db8::1";
	const char *dst = p->dst ? p->dst : v4 ? "198.51.100.1" : "2001:db8::2";
	uint32_t off = 12, l4len = proto == 6 ? 20 : proto == 17 ? 8 : 4;
	uint32_t iplen = (v4 ? 20 : 40) + l4len + p->payload;
	uint8_t *ip, *l4;

	memset(f, 0, FRAME_BUF);
	memset(f, 0x02, 12);
	if (p->tagged) {
		put16(f + off, 0x8100);
		put16(f + off + 2, p->vlan);
		off += 4;
	}
	put16(f + off, v4 ? 0x0800 : 0x86dd);
	ip = f + off + 2;
	if (v4) {
		ip[0] = 0x45;
		ip[1] = p->tos;
		put16(ip + 2, iplen);
		put16(ip + 6, p->frag);
		ip[8] = 64;
		ip[9] = proto;
		ck_assert_int_eq(inet_pton(AF_INET, src, ip + 12), 1);
		ck_assert_int_eq(inet_pton(AF_INET, dst, ip + 16), 1);
		put16(ip + 10, ip4_csum(ip, 20));
		l4 = ip + 20;
	} else {
		ip[0] = (uint8_t)(0x60 | p->tos >> 4);
		ip[1] = (uint8_t)(p->tos << 4);
		put16(ip + 4, iplen - 40);
		ip[6] = proto;
		ip[7] = 64;
		ck_assert_int_eq(inet_pton(AF_INET6, src, ip + 8), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, dst, ip + 24), 1);
		l4 = ip + 40;
	}
	if (proto == 6 || proto == 17) {
		put16(l4, p->sport ? p->sport : 1000);
		put16(l4 + 2, p->dport ? p->dport : 53);
	}
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = p->tcp_flags;
	}
	return (uint32_t)(ip - f) + iplen;
}

/* Send p; returns the verdict. */
static uint32_t send_pkt(const struct pkt *p)
{
	uint8_t f[FRAME_BUF];

	return run(&X, f, build(f, p), NULL);
}

/* ---- (a) The corpus against sl_pkt_parse() ---- */

struct corpus_run {
	uint32_t seen[SL_MAL__COUNT];	/* frames per reason the oracle gave */
	uint32_t runs;
	uint32_t too_short;		/* under 14 bytes: test runs refuse them */
};

/*
 * Run one frame with an empty policy (default_drop dd): the program must
 * count exactly what the engine counts for it and give its verdict.
 */
static void check_frame(const uint8_t *data, uint32_t len, int dd,
			const char *what, size_t idx, struct corpus_run *cr)
{
	struct sl_xdp_stats before, after, want;
	uint8_t out[FRAME_BUF];
	struct sl_pkt_meta m;
	enum sl_malformed r;
	uint32_t verdict, fwd = XDP_REDIRECT, deflt;

	r = sl_pkt_parse(data, len, &m);
	cr->seen[r]++;
	if (len < ETH_HDR) {
		cr->too_short++;
		return;
	}
	deflt = dd ? XDP_DROP : fwd;
	before = stats(&X);
	verdict = run(&X, data, len, out);
	after = stats(&X);
	cr->runs++;
	want = before;
	if (r != SL_MAL_NONE) {
		want.malformed[r]++;
		want.malformed_bytes += len;
	} else if (m.family == SL_FAMILY_NONE) {
		want.non_ip++;
		want.non_ip_bytes += len;
		deflt = fwd;
	} else {
		want.deflt.packets[dd ? SL_XDP_OUT_DROPPED : SL_XDP_OUT_PASSED]++;
		want.deflt.bytes[dd ? SL_XDP_OUT_DROPPED : SL_XDP_OUT_PASSED] += len;
	}
	if (memcmp(&after, &want, sizeof(want)) != 0) {
		int got = -1;

		for (int i = 0; i < SL_MAL__COUNT; i++)
			if (after.malformed[i] != before.malformed[i])
				got = i;
		ck_abort_msg("%s %zu (%u bytes): pkt.c says %s (family %u), "
			     "the program counted malformed %s, non-IP %d, "
			     "default %d", what, idx, len, sl_malformed_name(r),
			     m.family, got < 0 ? "none" :
			     sl_malformed_name((enum sl_malformed)got),
			     (int)(after.non_ip - before.non_ip),
			     (int)(after.deflt.packets[0] + after.deflt.packets[1] -
				   before.deflt.packets[0] - before.deflt.packets[1]));
	}
	CHECK(verdict == deflt, "%s %zu (%s): verdict %u, want %u", what, idx,
	      sl_malformed_name(r), verdict, deflt);
	CHECK(memcmp(out, data, len) == 0, "%s %zu: frame rewritten", what, idx);
}

/* The corpus, built once for the tests that use it. */
static struct sl_corpus_frame *corpus(void)
{
	static struct sl_corpus_frame *c;

	if (!c) {
		c = calloc(N_CORPUS, sizeof(*c));
		ck_assert_ptr_nonnull(c);
		sl_corpus_build(c, N_CORPUS, 1);
	}
	return c;
}

/*
 * Samples whose every truncation is tried: the first corpus frames of
 * rich shapes (tags, IPv4 options, IPv6 extensions, fragments, TCP
 * options), which pass through most checks on the way in.
 */
static size_t pick_samples(const struct sl_corpus_frame *c, size_t *idx,
			   size_t max)
{
	enum { S_QINQ, S_OPT4, S_EXT6, S_FRAG4, S_FRAG6, S_TCPOPT, S_V6,
	       S_ICMP, S__COUNT };
	int have[S__COUNT] = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < N_CORPUS && n < max; i++) {
		struct sl_pkt_meta m;
		uint32_t hl;
		int s = -1;

		if (sl_pkt_parse(c[i].data, c[i].len, &m) != SL_MAL_NONE ||
		    m.family == SL_FAMILY_NONE)
			continue;
		hl = m.l4_off - m.l3_off;
		if (m.l3_off == 22)
			s = S_QINQ;
		else if (m.family == 4 && hl > 20 && m.flags & SL_PKT_F_L4)
			s = S_OPT4;
		else if (m.family == 6 && hl > 48 && m.flags & SL_PKT_F_L4)
			s = S_EXT6;
		else if (m.family == 4 && m.flags & SL_PKT_F_FRAG)
			s = S_FRAG4;
		else if (m.family == 6 && m.flags & SL_PKT_F_FRAG)
			s = S_FRAG6;
		else if (m.proto == 6 && m.payload_off - m.l4_off > 20)
			s = S_TCPOPT;
		else if (m.family == 6 && m.flags & SL_PKT_F_L4)
			s = S_V6;
		else if (m.proto == 1 || m.proto == 58)
			s = S_ICMP;
		if (s < 0 || have[s])
			continue;
		have[s] = 1;
		idx[n++] = i;
	}
	return n;
}

/*
 * Every shorter IP datagram in the same frame: the length field cut
 * down, the bytes after it left as Ethernet padding. The L4 checks must
 * stop at the datagram's end, not the frame's. Returns the runs made.
 */
static uint32_t check_datagram_cuts(const struct sl_corpus_frame *f, int dd,
				    size_t idx, struct corpus_run *cr)
{
	uint8_t b[SL_CORPUS_FRAME_MAX];
	struct sl_pkt_meta m;
	uint32_t full, n = 0;
	uint8_t *lenf;

	sl_pkt_parse(f->data, f->len, &m);
	memcpy(b, f->data, f->len);
	/* IPv4 total length at +2, IPv6 payload length at +4. */
	lenf = b + m.l3_off + (m.family == 4 ? 2 : 4);
	full = (uint32_t)(lenf[0] << 8 | lenf[1]);
	for (uint32_t k = 0; k < full; k++, n++) {
		lenf[0] = (uint8_t)(k >> 8);
		lenf[1] = (uint8_t)k;
		check_frame(b, f->len, dd, "datagram cut of sample", idx, cr);
	}
	return n;
}

START_TEST(test_corpus_malformed_and_verdicts)
{
	const struct sl_corpus_frame *c = corpus();
	struct corpus_run cr;
	size_t samples[8], n_samples, n_cuts = 0;

	memset(&cr, 0, sizeof(cr));
	n_samples = pick_samples(c, samples, 8);
	ck_assert_uint_ge(n_samples, 6);
	for (int dd = 0; dd <= 1; dd++) {
		policy_set(&X, NULL, 0, dd);
		for (size_t i = 0; i < N_CORPUS; i++)
			check_frame(c[i].data, c[i].len, dd, "corpus frame", i,
				    &cr);
		for (size_t s = 0; s < n_samples; s++) {
			const struct sl_corpus_frame *f = &c[samples[s]];

			for (uint32_t len = 0; len <= f->len; len++, n_cuts++)
				check_frame(f->data, len, dd, "cut of sample",
					    samples[s], &cr);
			n_cuts += check_datagram_cuts(f, dd, samples[s], &cr);
		}
	}
	/* The corpus reaches every reason a test run can carry. */
	for (int r = 0; r < SL_MAL__COUNT; r++)
		CHECK(r == SL_MAL_ETH_TRUNC || cr.seen[r] >= 2,
		      "reason %s seen %u times", sl_malformed_name(r),
		      cr.seen[r]);
	ck_assert_uint_ge(cr.seen[SL_MAL_NONE], N_CORPUS);
	fprintf(stderr, "\ncorpus: %u test runs (%zu truncations), "
		"%u frames under 14 bytes not runnable\n",
		cr.runs, n_cuts, cr.too_short);
}
END_TEST

/* A policy using every field; each frame lands in the reference class. */
static const struct tclass every_field[] = {
	{ .has = SL_XDP_F_PROTO | SL_XDP_F_DPORT | SL_XDP_F_DST,
	  .proto = 6, .dport = { 443, 443 }, .dst = "198.51.100.0/24" },
	{ .has = SL_XDP_F_SRC | SL_XDP_F_TCPF, .src = "10.0.0.0/8",
	  .tcp = { 0x12, 0x02 } },
	{ .has = SL_XDP_F_VLAN, .vlan = { 0, 2047 } },
	{ .has = SL_XDP_F_SPORT | SL_XDP_F_PROTO, .proto = 17,
	  .sport = { 0, 1023 } },
	{ .has = SL_XDP_F_SRC | SL_XDP_F_DSCP, .src = "2001:db8:a::/48",
	  .dscp = 0 },
	{ .has = SL_XDP_F_DST, .dst = "2001:db8::/32" },
	{ .has = SL_XDP_F_SRC, .src = "192.0.2.4/30" },
	{ .has = SL_XDP_F_SRC, .src = "192.0.2.0/24" },
	{ .has = SL_XDP_F_DSCP, .dscp = 46 },
	{ .has = SL_XDP_F_PROTO, .proto = 58 },
	{ .has = SL_XDP_F_DPORT | SL_XDP_F_SPORT, .sport = { 1024, 65535 },
	  .dport = { 0, 1023 } },
	/* Holds for flags 0 too: a TCP frame without ports must miss it. */
	{ .has = SL_XDP_F_TCPF, .tcp = { 0x04, 0x00 } },
};
#define N_EVERY (sizeof(every_field) / sizeof(every_field[0]))

START_TEST(test_corpus_classes)
{
	const struct sl_corpus_frame *c = corpus();
	struct sl_xdp_counters before[N_EVERY], after;
	uint32_t hits[N_EVERY] = { 0 }, unmatched = 0;

	policy_set(&X, every_field, N_EVERY, 1);
	for (uint32_t i = 0; i < N_EVERY; i++)
		before[i] = counters(&X, i);
	for (size_t i = 0; i < N_CORPUS; i++) {
		struct sl_xdp_stats s0, s1;
		struct sl_pkt_meta m;
		uint32_t verdict;
		int want;

		if (sl_pkt_parse(c[i].data, c[i].len, &m) != SL_MAL_NONE ||
		    m.family == SL_FAMILY_NONE)
			continue;
		want = reference_class(every_field, N_EVERY, &m);
		s0 = stats(&X);
		verdict = run(&X, c[i].data, c[i].len, NULL);
		s1 = stats(&X);
		if (want < 0) {
			unmatched++;
			CHECK(s1.deflt.packets[SL_XDP_OUT_DROPPED] ==
			      s0.deflt.packets[SL_XDP_OUT_DROPPED] + 1,
			      "frame %zu: want no class", i);
			CHECK(verdict == XDP_DROP, "frame %zu: unmatched passed", i);
			continue;
		}
		hits[want]++;
		after = counters(&X, (uint32_t)want);
		CHECK(after.packets[SL_XDP_OUT_PASSED] ==
		      before[want].packets[SL_XDP_OUT_PASSED] + 1,
		      "frame %zu: want class %d, it did not count", i, want);
		CHECK(verdict == XDP_REDIRECT, "frame %zu: class %d dropped", i,
		      want);
		before[want] = after;
	}
	/* Every class took some frames, and some took none: a real test. */
	for (uint32_t i = 0; i < N_EVERY; i++)
		CHECK(hits[i] > 0, "class %u matched no corpus frame", i);
	ck_assert_uint_gt(unmatched, 0);
}
END_TEST

/* ---- (b) Hand-built policies ---- */

START_TEST(test_two_classes)
{
	static const struct tclass c[] = {
		{ .has = SL_XDP_F_PROTO | SL_XDP_F_DPORT | SL_XDP_F_DST,
		  .proto = 6, .dport = { 443, 443 }, .dst = "198.51.100.0/24" },
		{ .has = SL_XDP_F_PROTO, .proto = 17 },
	};
	static const struct {
		struct pkt p;
		int cls;	/* -1: default (drop) */
	} rows[] = {
		{ P4(.proto = 6, .dport = 443, .dst = "198.51.100.7"), 0 },
		{ P4(.proto = 6, .dport = 443, .dst = "198.51.101.7"), -1 },
		{ P4(.proto = 6, .dport = 444, .dst = "198.51.100.7"), -1 },
		{ P4(.dport = 443, .dst = "198.51.100.7"), 1 },
		{ P4(.proto = 1), -1 },
		{ P6(), 1 },
		{ P6(.proto = 6, .dport = 443, .dst = "2001:db8::7"), -1 },
		{ P4(.proto = 6, .dport = 443, .dst = "198.51.100.9",
		     .tagged = 1, .vlan = 100), 0 },
		/* A later fragment has no ports: class 0 cannot hold. */
		{ P4(.proto = 6, .dport = 443, .dst = "198.51.100.7",
		     .frag = 0x2010), -1 },
		{ P4(.frag = 0x0010), 1 },
	};

	policy_set(&X, c, 2, 1);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sl_xdp_counters c0 = counters(&X, 0), c1 = counters(&X, 1);
		struct sl_xdp_stats s0 = stats(&X);
		uint32_t v = send_pkt(&rows[i].p);
		struct sl_xdp_stats s1 = stats(&X);

		ck_assert_msg(v == (rows[i].cls < 0 ? XDP_DROP : XDP_REDIRECT),
			      "row %zu: verdict %u", i, v);
		ck_assert_uint_eq(counters(&X, 0).packets[0] - c0.packets[0],
				  rows[i].cls == 0);
		ck_assert_uint_eq(counters(&X, 1).packets[0] - c1.packets[0],
				  rows[i].cls == 1);
		ck_assert_uint_eq(s1.deflt.packets[SL_XDP_OUT_DROPPED] -
				  s0.deflt.packets[SL_XDP_OUT_DROPPED],
				  rows[i].cls < 0);
	}
}
END_TEST

/* The first class wins, across bitmap words too. */
START_TEST(test_first_match_many_words)
{
	static struct tclass c[130];
	uint32_t v;

	/* Classes 0..128 want proto 200 (never sent), 129 takes UDP. */
	for (int i = 0; i < 130; i++)
		c[i] = (struct tclass){ .has = SL_XDP_F_PROTO, .proto = 200 };
	c[129].proto = 17;
	c[100].proto = 6;
	c[101].proto = 6;
	policy_set(&X, c, 130, 1);
	v = send_pkt(PKT4());
	ck_assert_uint_eq(v, XDP_REDIRECT);
	ck_assert_uint_eq(counters(&X, 129).packets[SL_XDP_OUT_PASSED], 1);
	v = send_pkt(PKT6(.proto = 6));
	ck_assert_uint_eq(v, XDP_REDIRECT);
	ck_assert_uint_eq(counters(&X, 100).packets[SL_XDP_OUT_PASSED], 1);
	ck_assert_uint_eq(counters(&X, 101).packets[SL_XDP_OUT_PASSED], 0);
	ck_assert_uint_eq(send_pkt(PKT4(.proto = 1)), XDP_DROP);
}
END_TEST

/* One class, limited to 2 packets of burst at 1 packet/s, key none. */
static uint32_t limited(uint8_t action, uint8_t mark, const struct pkt *p,
			uint8_t *out)
{
	struct tclass c = { .rate = 1, .burst = 2, .action = action,
			    .mark = mark };
	uint8_t f[FRAME_BUF];
	uint32_t len = build(f, p), v;

	policy_set(&X, &c, 1, 1);
	ck_assert_uint_eq(run(&X, f, len, NULL), XDP_REDIRECT);
	ck_assert_uint_eq(run(&X, f, len, NULL), XDP_REDIRECT);
	v = run(&X, f, len, out);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_PASSED], 2);
	ck_assert_uint_eq(counters(&X, 0).bytes[SL_XDP_OUT_PASSED], 2 * len);
	ck_assert_uint_eq(stats(&X).keys_created, 1);
	return v;
}

START_TEST(test_exceed_drop)
{
	ck_assert_uint_eq(limited(SL_XDP_EXCEED_DROP, 0, PKT4(), NULL), XDP_DROP);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_DROPPED], 1);
}
END_TEST

START_TEST(test_exceed_monitor)
{
	uint8_t out[FRAME_BUF], f[FRAME_BUF];
	uint32_t len = build(f, PKT6());

	ck_assert_uint_eq(limited(SL_XDP_EXCEED_MONITOR, 0, PKT6(), out),
			  XDP_REDIRECT);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_MONITORED], 1);
	ck_assert_int_eq(memcmp(out, f, len), 0);
}
END_TEST

/*
 * Mark rewrites the DSCP exactly as sl_pkt_set_dscp() does: ECN kept,
 * IPv4 checksum still valid; the rest of the frame untouched.
 */
START_TEST(test_exceed_mark)
{
	static const struct {
		struct pkt p;
		uint8_t mark;
	} rows[] = {
		{ P4(.tos = 0xb9), 10 },
		{ P4(.tos = 0x02, .tagged = 1, .vlan = 7), 63 },
		{ P4(.tos = 0xff, .proto = 6, .dport = 80), 0 },
		{ P6(.tos = 0xb9), 10 },
		{ P6(.tos = 0x03, .tagged = 1, .vlan = 4095), 46 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t out[FRAME_BUF], want[FRAME_BUF];
		uint32_t len = build(want, &rows[i].p);
		struct sl_pkt_meta m;

		teardown();
		setup();
		ck_assert_uint_eq(limited(SL_XDP_EXCEED_MARK, rows[i].mark,
					  &rows[i].p, out), XDP_REDIRECT);
		ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_MARKED], 1);
		ck_assert_int_eq(sl_pkt_parse(want, len, &m), SL_MAL_NONE);
		ck_assert_int_eq(sl_pkt_set_dscp(want, &m, rows[i].mark), 0);
		ck_assert_msg(memcmp(out, want, len) == 0, "row %zu", i);
		ck_assert_int_eq(sl_pkt_parse(out, len, &m), SL_MAL_NONE);
		ck_assert_uint_eq(m.dscp, rows[i].mark);
		if (m.family == 4)
			ck_assert_uint_eq(ip4_csum(out + m.l3_off, 20), 0);
	}
}
END_TEST

/* Bit rates: the burst is 3 frames' bits; each frame costs len * 8. */
START_TEST(test_bit_cost)
{
	uint8_t f[FRAME_BUF];
	uint32_t len = build(f, PKT4(.payload = 100));
	struct tclass c = { .rate = 1, .burst = 3ULL * len * 8, .bits = 1 };

	policy_set(&X, &c, 1, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(run(&X, f, len, NULL), XDP_REDIRECT);
	ck_assert_uint_eq(run(&X, f, len, NULL), XDP_DROP);
	/* A smaller frame fits no better: the bucket holds under 1 bit. */
	ck_assert_uint_eq(send_pkt(PKT4()), XDP_DROP);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_PASSED], 3);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_DROPPED], 2);
}
END_TEST

/*
 * Bucket keys: src /24 shares a bucket within a /24 (and /64 in IPv6),
 * flow keys on the 5-tuple. Burst 1: the second packet of a key drops.
 */
START_TEST(test_keys)
{
	static const struct {
		uint8_t key, prefix;
		struct pkt a, b;
		int shared;
	} rows[] = {
		{ SL_XDP_KEY_SRC, 24, P4(.src = "10.1.2.3"),
		  P4(.src = "10.1.2.200"), 1 },
		{ SL_XDP_KEY_SRC, 24, P4(.src = "10.1.2.3"),
		  P4(.src = "10.1.3.3"), 0 },
		{ SL_XDP_KEY_SRC, 20, P4(.src = "10.1.0.1"),
		  P4(.src = "10.1.15.1"), 1 },
		{ SL_XDP_KEY_SRC, 64, P6(.src = "2001:db8:0:1::1"),
		  P6(.src = "2001:db8:0:1::2"), 1 },
		{ SL_XDP_KEY_SRC, 64, P6(.src = "2001:db8:0:1::1"),
		  P6(.src = "2001:db8:0:2::1"), 0 },
		{ SL_XDP_KEY_SRC, 61, P6(.src = "2001:db8:0:8::1"),
		  P6(.src = "2001:db8:0:f::1"), 1 },
		{ SL_XDP_KEY_SRC, 128, P4(.src = "10.1.2.3"),
		  P4(.src = "10.1.2.3", .dst = "10.9.9.9"), 1 },
		{ SL_XDP_KEY_DST, 32, P4(.dst = "10.1.2.3"),
		  P4(.dst = "10.1.2.4"), 0 },
		{ SL_XDP_KEY_DST, 0, P4(.dst = "10.1.2.3"),
		  P4(.dst = "172.16.2.4"), 1 },
		{ SL_XDP_KEY_FLOW, 0, P4(.sport = 1), P4(.sport = 2), 0 },
		{ SL_XDP_KEY_FLOW, 0, P4(.sport = 1), P4(.sport = 1), 1 },
		{ SL_XDP_KEY_FLOW, 0, P4(.proto = 6), P4(.proto = 17), 0 },
		{ SL_XDP_KEY_NONE, 0, P4(.src = "10.0.0.1"),
		  P6(.src = "2001:db8::9"), 1 },
		/* An IPv4 and an IPv6 key never meet. */
		{ SL_XDP_KEY_SRC, 0, P4(), P6(), 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tclass c = { .rate = 1, .burst = 1, .key = rows[i].key,
				    .prefix = rows[i].prefix };

		teardown();
		setup();
		policy_set(&X, &c, 1, 0);
		ck_assert_uint_eq(send_pkt(&rows[i].a), XDP_REDIRECT);
		ck_assert_msg(send_pkt(&rows[i].b) ==
			      (rows[i].shared ? XDP_DROP : XDP_REDIRECT),
			      "row %zu", i);
		ck_assert_uint_eq(stats(&X).keys_created, 2 - rows[i].shared);
	}
}
END_TEST

/*
 * A full bucket map: keys past its capacity share the class's overflow
 * bucket (burst 2 here), counted as keys_full and overflow.
 */
START_TEST(test_bucket_map_full)
{
	struct tclass c = { .rate = 1, .burst = 2, .key = SL_XDP_KEY_FLOW };
	struct sl_xdp_stats st;
	uint32_t fwd = 0;

	teardown();
	setup_keys(4);
	policy_set(&X, &c, 1, 0);
	for (int i = 0; i < 10; i++)
		fwd += send_pkt(PKT4(.sport = (uint16_t)(100 + i))) == XDP_REDIRECT;
	st = stats(&X);
	ck_assert_uint_eq(st.keys_created, 4);
	ck_assert_uint_eq(st.keys_full, 6);
	ck_assert_uint_eq(st.overflow, 6);
	/* 4 own buckets, and 2 of the 6 others through the overflow one. */
	ck_assert_uint_eq(fwd, 6);
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_DROPPED], 4);
	/* A key that has its bucket still meters on it. */
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 100)), XDP_REDIRECT);
	ck_assert_uint_eq(stats(&X).overflow, 6);
}
END_TEST

/*
 * A slot reused with a new generation resets buckets of the old one,
 * the key's and the overflow bucket alike, when next seen.
 */
START_TEST(test_slot_reuse)
{
	struct tclass c = { .rate = 1, .burst = 1, .key = SL_XDP_KEY_FLOW };

	teardown();
	setup_keys(1);
	policy_write(&X, 0, &c, 1, 0, 5, 1);
	set_active(&X, 0, 1);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 1)), XDP_REDIRECT);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 1)), XDP_DROP);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 2)), XDP_REDIRECT);	/* overflow */
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 2)), XDP_DROP);
	/* Same slot, same generation in the other set: state carries on. */
	policy_write(&X, 1, &c, 1, 0, 5, 1);
	set_active(&X, 1, 1);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 1)), XDP_DROP);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 2)), XDP_DROP);
	/* Slot 5 now belongs to a new class (generation 2). */
	policy_write(&X, 0, &c, 1, 0, 5, 2);
	set_active(&X, 0, 1);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 1)), XDP_REDIRECT);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 2)), XDP_REDIRECT);
	ck_assert_uint_eq(send_pkt(PKT4(.sport = 1)), XDP_DROP);
	ck_assert_uint_eq(counters(&X, 5).packets[SL_XDP_OUT_DROPPED], 5);
	ck_assert_uint_eq(stats(&X).keys_created, 1);
}
END_TEST

/* Packets read the set sl_active names, whatever the other one holds. */
START_TEST(test_sets)
{
	struct tclass udp = { .has = SL_XDP_F_PROTO | SL_XDP_F_SRC,
			      .proto = 17, .src = "192.0.2.0/24" };
	struct tclass tcp = { .has = SL_XDP_F_PROTO | SL_XDP_F_SRC,
			      .proto = 6, .src = "10.0.0.0/8" };

	policy_write(&X, 0, &udp, 1, 1, 0, 1);
	policy_write(&X, 1, &tcp, 1, 0, 1, 1);
	set_active(&X, 0, 1);
	ck_assert_uint_eq(send_pkt(PKT4()), XDP_REDIRECT);
	ck_assert_uint_eq(send_pkt(PKT4(.proto = 6, .src = "10.1.1.1")), XDP_DROP);
	set_active(&X, 1, 1);
	ck_assert_uint_eq(send_pkt(PKT4(.proto = 6, .src = "10.1.1.1")), XDP_REDIRECT);
	ck_assert_uint_eq(send_pkt(PKT4(.proto = 1)), XDP_REDIRECT);	/* default pass */
	ck_assert_uint_eq(counters(&X, 0).packets[SL_XDP_OUT_PASSED], 1);
	ck_assert_uint_eq(counters(&X, 1).packets[SL_XDP_OUT_PASSED], 1);
	ck_assert_uint_eq(stats(&X).deflt.packets[SL_XDP_OUT_DROPPED], 1);
	ck_assert_uint_eq(stats(&X).deflt.packets[SL_XDP_OUT_PASSED], 1);
}
END_TEST

/* No policy yet: everything goes to the stack (XDP_PASS), counted. */
START_TEST(test_no_policy)
{
	uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };

	ck_assert_uint_eq(send_pkt(PKT4()), XDP_PASS);
	ck_assert_uint_eq(run(&X, arp, sizeof(arp), NULL), XDP_PASS);
	ck_assert_uint_eq(stats(&X).no_policy, 2);
	ck_assert_uint_eq(stats(&X).non_ip, 0);
}
END_TEST

/* A port with no devmap entry drops what it would forward. */
START_TEST(test_no_peer)
{
	uint32_t lo = LO_IFINDEX;
	uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };

	policy_set(&X, NULL, 0, 0);
	ck_assert_int_eq(bpf_map_delete_elem(bpf_map__fd(X.skel->maps.sl_tx),
					     &lo), 0);
	ck_assert_uint_eq(send_pkt(PKT4()), XDP_DROP);
	ck_assert_uint_eq(run(&X, arp, sizeof(arp), NULL), XDP_DROP);
	ck_assert_uint_eq(stats(&X).no_peer, 2);
	ck_assert_uint_eq(stats(&X).non_ip, 1);
	ck_assert_uint_eq(stats(&X).deflt.packets[SL_XDP_OUT_PASSED], 1);
}
END_TEST

static Suite *xdp_suite(void)
{
	Suite *s = suite_create("xdp_prog");
	TCase *tc = tcase_create("xdp_prog");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_corpus_malformed_and_verdicts);
	tcase_add_test(tc, test_corpus_classes);
	tcase_add_test(tc, test_two_classes);
	tcase_add_test(tc, test_first_match_many_words);
	tcase_add_test(tc, test_exceed_drop);
	tcase_add_test(tc, test_exceed_monitor);
	tcase_add_test(tc, test_exceed_mark);
	tcase_add_test(tc, test_bit_cost);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_bucket_map_full);
	tcase_add_test(tc, test_slot_reuse);
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_no_policy);
	tcase_add_test(tc, test_no_peer);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- --bench ---- */

/* ns per run of frame over repeat runs. */
static uint32_t bench_one(const uint8_t *f, uint32_t len, int repeat)
{
	struct xdp_md md = { .data_end = len, .ingress_ifindex = LO_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		.ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = repeat);

	ck_assert_int_eq(bpf_prog_test_run_opts(X.prog_fd, &o), 0);
	return o.duration;
}

/* Not a test: the program's size and its cost per packet. */
START_TEST(bench)
{
	struct tclass one = { .has = SL_XDP_F_PROTO | SL_XDP_F_DPORT |
				     SL_XDP_F_DST,
			      .proto = 17, .dport = { 53, 53 },
			      .dst = "198.51.100.0/24" };
	struct tclass lim = one;
	struct bpf_prog_info info;
	uint32_t info_len = sizeof(info);
	uint8_t f[FRAME_BUF];
	uint32_t len = build(f, PKT4(.payload = 18));

	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(X.prog_fd, &info, &info_len), 0);
	printf("program: %u xlated insns, %u bytes jited, %u insns verified\n",
	       info.xlated_prog_len / 8, info.jited_prog_len,
	       info.verified_insns);
	policy_set(&X, NULL, 0, 0);
	printf("empty policy:              %u ns/pkt\n",
	       bench_one(f, len, 1000000));
	policy_set(&X, &one, 1, 0);
	printf("1 class (proto,dport,dst): %u ns/pkt\n",
	       bench_one(f, len, 1000000));
	lim.rate = SL_TB_RATE_MAX;
	lim.burst = 1000000000;
	lim.key = SL_XDP_KEY_FLOW;
	policy_set(&X, &lim, 1, 0);
	printf("1 class, flow bucket:      %u ns/pkt\n",
	       bench_one(f, len, 1000000));
}
END_TEST

static Suite *bench_suite(void)
{
	Suite *s = suite_create("xdp_prog_bench");
	TCase *tc = tcase_create("bench");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bench);
	suite_add_tcase(s, tc);
	return s;
}

/* Whether BPF is usable here: loading needs root (or CAP_BPF and more). */
static int bpf_usable(void)
{
	int err;

	err = xt_open(&X, 4);
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "test_xdp_prog: skipped: loading BPF: %s\n",
			strerror(-err));
		return 0;
	}
	if (!err)
		xt_close(&X);
	return 1;	/* other errors fail in the tests, loudly */
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	libbpf_set_print(quiet_print);
	if (!bpf_usable())
		return 77;
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		sr = srunner_create(bench_suite());
	else
		sr = srunner_create(xdp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
