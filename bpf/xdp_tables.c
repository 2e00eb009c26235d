/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy -> the contents of one set of the XDP maps (xdp_tables.h).
 *
 * Every table is "bit i of value v: class i holds for this field at v",
 * so each builder starts from the classes that do not constrain its
 * field (they hold everywhere) and adds the classes whose entries cover
 * each value. sl_match_holds() in classify.c is the definition this
 * must agree with; test_xdp_tables holds it to sl_classify_reference().
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "xdp_tables.h"

#define SL_IPPROTO_TCP	6
#define SL_VLAN_IDS	4096
#define SL_PORTS	65536

static_assert(SL_XDP_PORT_NONE == SL_PORTS, "port table layout");
static_assert(SL_XDP_VLAN_NONE == SL_VLAN_IDS, "VLAN table layout");
static_assert(SL_XDP_EXCEED_DROP == SL_EXCEED_DROP &&
	      SL_XDP_EXCEED_MONITOR == SL_EXCEED_MONITOR &&
	      SL_XDP_EXCEED_MARK == SL_EXCEED_MARK, "exceed actions");
static_assert(SL_XDP_KEY_NONE == SL_KEY_NONE && SL_XDP_KEY_SRC == SL_KEY_SRC &&
	      SL_XDP_KEY_DST == SL_KEY_DST && SL_XDP_KEY_FLOW == SL_KEY_FLOW,
	      "key types");

/* ---- bitmaps ---- */

/* Accepts i < SL_XDP_CLASSES_MAX; sets class i. */
static void bm_set(struct sl_xdp_bitmap *b, uint32_t i)
{
	b->w[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Accepts i < SL_XDP_CLASSES_MAX; clears class i. */
static void bm_clear(struct sl_xdp_bitmap *b, uint32_t i)
{
	b->w[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* ORs the classes of s into d. */
static void bm_or(struct sl_xdp_bitmap *d, const struct sl_xdp_bitmap *s)
{
	for (uint32_t w = 0; w < SL_XDP_WORDS; w++)
		d->w[w] |= s->w[w];
}

/* ---- what the builders share ---- */

/* One build: the policy and which of its classes the tables carry. */
struct build {
	const struct sl_policy *p;
	struct sl_xdp_tables *t;
	bool *live;		/* per class: not degraded to "never matches" */
	char *err;
	size_t errlen;
};

/* Accepts a class; whether it constrains the field of SL_M_ bit f. */
static bool constrains(const struct sl_class *c, uint32_t f)
{
	if (!(c->match.fields & f))
		return false;
	if (f == SL_M_PROTO)
		return c->match.proto != SL_PROTO_ANY;
	return true;
}

/* The live classes that do not constrain field f: they hold at every value. */
static void base_of(const struct build *b, uint32_t f, struct sl_xdp_bitmap *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < b->p->n_classes; i++)
		if (b->live[i] && !constrains(&b->p->classes[i], f))
			bm_set(out, i);
}

/* ---- classes ---- */

/* Why the XDP path cannot enforce class c as written; NULL if it can. */
static const char *degraded_why(const struct sl_class *c)
{
	if (c->match.fields & SL_M_PAYLOAD)
		return "payload match needs the dataplane: never matches on XDP";
	if (c->has_ceiling && !c->has_limit)
		return "ceiling is enforced by the dataplane only: on XDP the class is not limited";
	if (c->has_limit && c->exceed.action == SL_EXCEED_SHAPE)
		return "shaping needs the dataplane: exceeding packets are dropped on XDP";
	if (c->has_ceiling)
		return "ceiling is enforced by the dataplane only: on XDP only the per-key limit applies";
	return NULL;
}

/* The class record, as class_rt_build() in engine.c computes it. */
static int class_build(const struct sl_class *c, struct sl_xdp_class *x,
		       char *err, size_t errlen)
{
	uint64_t capacity;

	memset(x, 0, sizeof(*x));
	/* XDP cannot delay: a shaping class drops what exceeds. */
	x->action = c->exceed.action == SL_EXCEED_SHAPE ? SL_XDP_EXCEED_DROP :
		    (uint8_t)c->exceed.action;
	x->mark_dscp = c->exceed.dscp;
	if (!c->has_limit)
		return 0;
	x->has_limit = 1;
	x->key = (uint8_t)c->limit.key;
	x->prefix6 = c->limit.prefix_len;
	x->prefix4 = c->limit.prefix_len > 32 ? 32 : c->limit.prefix_len;
	x->bits = c->limit.unit == SL_UNIT_BITS;
	capacity = x->bits ? c->limit.burst * 8 : c->limit.burst;
	if (sl_tb_profile_init(&x->tb, c->limit.rate, capacity) < 0) {
		snprintf(err, errlen, "class %s: rate or burst out of range",
			 c->name);
		return -EINVAL;
	}
	/* A bucket idle for its fill time would be recreated full anyway. */
	if (x->tb.fill_ns >= (uint64_t)SL_XDP_IDLE_MAX_MS * 1000000)
		x->idle_ms = SL_XDP_IDLE_MAX_MS;
	else
		x->idle_ms = (uint32_t)((x->tb.fill_ns + 999999) / 1000000);
	if (x->idle_ms < SL_XDP_IDLE_MIN_MS)
		x->idle_ms = SL_XDP_IDLE_MIN_MS;
	return 0;
}

/* Class records, names and the degraded list. */
static int classes_build(struct build *b)
{
	struct sl_xdp_tables *t = b->t;
	uint32_t n = b->p->n_classes;
	int rc;

	t->cls = calloc(n ? n : 1, sizeof(*t->cls));
	t->names = calloc(n ? n : 1, sizeof(*t->names));
	t->degraded = calloc(n ? n : 1, sizeof(*t->degraded));
	b->live = calloc(n ? n : 1, sizeof(*b->live));
	if (!t->cls || !t->names || !t->degraded || !b->live) {
		snprintf(b->err, b->errlen, "out of memory for %u classes", n);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_class *c = &b->p->classes[i];
		const char *why = degraded_why(c);

		rc = class_build(c, &t->cls[i], b->err, b->errlen);
		if (rc < 0)
			return rc;
		snprintf(t->names[i], sizeof(t->names[i]), "%s", c->name);
		b->live[i] = !(c->match.fields & SL_M_PAYLOAD);
		if (why != NULL) {
			struct sl_xdp_degraded *d = &t->degraded[t->n_degraded++];

			d->class_idx = i;
			snprintf(d->why, sizeof(d->why), "%s", why);
		}
	}
	return 0;
}

/* ---- proto, TCP flags, DSCP: one bitmap per value ---- */

/* Fills proto, tcpf and dscp: base classes, then each class's values. */
static void small_tables_build(struct build *b)
{
	const struct sl_policy *p = b->p;
	struct sl_xdp_tables *t = b->t;
	struct sl_xdp_bitmap base;

	base_of(b, SL_M_PROTO, &base);
	for (uint32_t v = 0; v < SL_XDP_PROTO_ENTRIES; v++)
		t->proto[v] = base;
	base_of(b, SL_M_TCP_FLAGS, &base);
	for (uint32_t v = 0; v < SL_XDP_TCPF_ENTRIES; v++)
		t->tcpf[v] = base;
	base_of(b, SL_M_DSCP, &base);
	for (uint32_t v = 0; v < SL_XDP_DSCP_ENTRIES; v++)
		t->dscp[v] = base;

	for (uint32_t i = 0; i < p->n_classes; i++) {
		const struct sl_match *m = &p->classes[i].match;

		if (!b->live[i])
			continue;
		if (constrains(&p->classes[i], SL_M_PROTO) &&
		    m->proto >= 0 && m->proto < SL_XDP_PROTO_ENTRIES)
			bm_set(&t->proto[m->proto], i);
		/* The _NONE entry keeps only the base: not TCP, no flags. */
		if (m->fields & SL_M_TCP_FLAGS)
			for (uint32_t v = 0; v < 256; v++)
				if ((v & m->tcp_mask) == m->tcp_flags)
					bm_set(&t->tcpf[v], i);
		if (m->fields & SL_M_DSCP)
			for (uint32_t v = 0; v < SL_XDP_DSCP_ENTRIES; v++)
				if ((m->dscp >> v) & 1)
					bm_set(&t->dscp[v], i);
	}
}

/* ---- ports and VLAN IDs: runs ---- */

/* Where class cls starts or stops holding. */
struct edge {
	uint32_t pos;
	uint32_t cls;
	bool on;
};

/* Orders edges by position (qsort). */
static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Orders ranges by their low end (qsort). */
static int range_cmp(const void *a, const void *b)
{
	const struct sl_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Accepts one class's ranges; appends the edges of their union (clamped
 * to values - 1), so that its edges never overlap one another and the
 * sweep below needs no per-class count.
 */
static int class_edges(const struct sl_range *rg, uint32_t n, uint32_t values,
		       uint32_t cls, struct edge *e, uint32_t *n_e)
{
	struct sl_range *s;
	uint32_t lo, hi;

	if (n == 0)
		return 0;
	s = malloc(n * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	memcpy(s, rg, n * sizeof(*s));
	qsort(s, n, sizeof(*s), range_cmp);
	for (uint32_t i = 0; i < n;) {
		lo = s[i].lo;
		hi = s[i].hi;
		for (i++; i < n && s[i].lo <= hi + 1u; i++)
			if (s[i].hi > hi)
				hi = s[i].hi;
		if (lo > hi || lo >= values)
			continue;
		if (hi >= values)
			hi = values - 1;
		e[(*n_e)++] = (struct edge){ lo, cls, true };
		if (hi + 1 < values)
			e[(*n_e)++] = (struct edge){ hi + 1, cls, false };
	}
	free(s);
	return 0;
}

/* The ranges of field f (SL_M_SPORT, _DPORT, _VLAN) of match m. */
static const struct sl_range *ranges_of(const struct sl_match *m, uint32_t f,
					uint32_t *n)
{
	if (f == SL_M_SPORT) {
		*n = m->n_sport;
		return m->sport;
	}
	if (f == SL_M_DPORT) {
		*n = m->n_dport;
		return m->dport;
	}
	*n = m->n_vlan;
	return m->vlan;
}

/* Sweeps the sorted edges into runs; equal neighbours merge. */
static void runs_sweep(struct sl_xdp_runs *r, const struct edge *e,
		       uint32_t n_e)
{
	struct sl_xdp_bitmap cur = r->none;
	uint32_t i = 0, pos = 0;

	r->n = 0;
	for (;;) {
		for (; i < n_e && e[i].pos == pos; i++) {
			if (e[i].on)
				bm_set(&cur, e[i].cls);
			else
				bm_clear(&cur, e[i].cls);
		}
		if (r->n == 0 ||
		    memcmp(&r->bm[r->n - 1], &cur, sizeof(cur)) != 0) {
			r->lo[r->n] = pos;
			r->bm[r->n++] = cur;
		}
		if (i >= n_e)
			break;
		pos = e[i].pos;
	}
}

/* A port or VLAN table: field f over values values. */
static int runs_build(struct build *b, uint32_t f, uint32_t values,
		      struct sl_xdp_runs *r)
{
	const struct sl_policy *p = b->p;
	struct edge *e = NULL;
	uint32_t n_e = 0, cap = 0, n;
	int rc = -ENOMEM;

	r->values = values;
	base_of(b, f, &r->none);
	for (uint32_t i = 0; i < p->n_classes; i++)
		if (b->live[i] && (p->classes[i].match.fields & f)) {
			ranges_of(&p->classes[i].match, f, &n);
			cap += 2 * n;
		}
	e = malloc((cap ? cap : 1) * sizeof(*e));
	if (e == NULL)
		goto out;
	for (uint32_t i = 0; i < p->n_classes; i++) {
		const struct sl_range *rg;

		if (!b->live[i] || !(p->classes[i].match.fields & f))
			continue;
		rg = ranges_of(&p->classes[i].match, f, &n);
		if (class_edges(rg, n, values, i, e, &n_e) < 0)
			goto out;
	}
	qsort(e, n_e, sizeof(*e), edge_cmp);
	/* A run per distinct edge, and one at 0. */
	n = n_e + 1 < values ? n_e + 1 : values;
	r->lo = malloc(n * sizeof(*r->lo));
	r->bm = malloc(n * sizeof(*r->bm));
	if (r->lo == NULL || r->bm == NULL)
		goto out;
	runs_sweep(r, e, n_e);
	rc = 0;
out:
	if (rc < 0)
		snprintf(b->err, b->errlen, "out of memory for the port and VLAN tables");
	free(e);
	return rc;
}

const struct sl_xdp_bitmap *sl_xdp_runs_get(const struct sl_xdp_runs *r,
					    uint32_t v)
{
	uint32_t lo = 0, hi = r->n;

	if (v >= r->values)
		return &r->none;
	/* The last run whose first value is <= v. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->lo[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return &r->bm[lo];
}

void sl_xdp_runs_expand(const struct sl_xdp_runs *r, struct sl_xdp_bitmap *out)
{
	for (uint32_t k = 0; k < r->n; k++) {
		uint32_t end = k + 1 < r->n ? r->lo[k + 1] : r->values;

		for (uint32_t v = r->lo[k]; v < end; v++)
			out[v] = r->bm[k];
	}
	out[r->values] = r->none;
}

/* ---- prefixes: LPM trie entries ---- */

/* Accepts len <= 128; zeroes the bits of addr from bit len on. */
static void mask_addr(uint8_t *addr, uint32_t len)
{
	for (uint32_t i = len; i < 128; i++)
		addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

int sl_xdp_prefix_cmp(const struct sl_xdp_prefix *a,
		      const struct sl_xdp_prefix *b)
{
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* One prefix of one class, before entries are merged. */
struct pitem {
	uint8_t len;
	uint8_t addr[16];
	uint32_t cls;
};

/* Orders prefix items as trie entries: address, then length (qsort). */
static int pitem_cmp(const void *a, const void *b)
{
	const struct pitem *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Accepts two entries of one family; whether prefix a covers prefix b. */
static bool covers(const struct sl_xdp_prefix *a, const struct sl_xdp_prefix *b)
{
	uint32_t bytes = a->len / 8, bits = a->len % 8;
	uint8_t mask;

	if (a->len > b->len || memcmp(a->addr, b->addr, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - bits));
	return ((a->addr[bytes] ^ b->addr[bytes]) & mask) == 0;
}

/* The prefixes of family fam in field f (SL_M_SRC or _DST), sorted. */
static struct pitem *pitems(struct build *b, uint32_t f, uint8_t fam,
			    uint32_t *n_out)
{
	const struct sl_policy *p = b->p;
	uint32_t max = fam == SL_FAMILY_IPV4 ? 32 : 128, n = 0, cap = 0;
	struct pitem *it;

	for (uint32_t i = 0; i < p->n_classes; i++)
		if (b->live[i] && (p->classes[i].match.fields & f))
			cap += f == SL_M_SRC ? p->classes[i].match.n_src :
			       p->classes[i].match.n_dst;
	it = malloc((cap ? cap : 1) * sizeof(*it));
	if (it == NULL)
		return NULL;
	for (uint32_t i = 0; i < p->n_classes; i++) {
		const struct sl_match *m = &p->classes[i].match;
		const struct sl_prefix *pf = f == SL_M_SRC ? m->src : m->dst;
		uint32_t np = f == SL_M_SRC ? m->n_src : m->n_dst;

		if (!b->live[i] || !(m->fields & f))
			continue;
		for (uint32_t k = 0; k < np; k++) {
			if (pf[k].family != fam)
				continue;
			/* As sl_prefix_holds(): a longer length holds as the longest. */
			it[n].len = (uint8_t)(pf[k].len < max ? pf[k].len : max);
			memcpy(it[n].addr, pf[k].addr, 16);
			if (fam == SL_FAMILY_IPV4)
				memset(it[n].addr + 4, 0, 12);
			mask_addr(it[n].addr, it[n].len);
			it[n++].cls = i;
		}
	}
	qsort(it, n, sizeof(*it), pitem_cmp);
	*n_out = n;
	return it;
}

/* Distinct prefixes of the sorted items, each with its own classes; /0 first. */
static uint32_t trie_merge(const struct pitem *it, uint32_t n,
			   struct sl_xdp_prefix *e)
{
	uint32_t ne = 1;

	memset(&e[0], 0, sizeof(e[0]));
	for (uint32_t k = 0; k < n; k++) {
		struct sl_xdp_prefix *d = &e[ne - 1];

		if (it[k].len != d->len || memcmp(it[k].addr, d->addr, 16) != 0) {
			d = &e[ne++];
			memset(d, 0, sizeof(*d));
			d->len = it[k].len;
			memcpy(d->addr, it[k].addr, 16);
		}
		bm_set(&d->bm, it[k].cls);
	}
	return ne;
}

/*
 * Adds to each entry the classes of every entry covering it. Sorted by
 * address then length, the entries are a pre-order walk of the prefix
 * tree, so the entries covering the current one are exactly a stack.
 */
static void trie_inherit(struct sl_xdp_trie *t, const struct sl_xdp_bitmap *base)
{
	uint32_t stack[130], depth = 0;

	bm_or(&t->e[0].bm, base);
	for (uint32_t k = 0; k < t->n; k++) {
		while (depth > 0 && !covers(&t->e[stack[depth - 1]], &t->e[k]))
			depth--;
		if (depth > 0)
			bm_or(&t->e[k].bm, &t->e[stack[depth - 1]].bm);
		stack[depth++] = k;
	}
}

/* The trie of field f (SL_M_SRC or _DST) for family fam. */
static int trie_build(struct build *b, uint32_t f, uint8_t fam,
		      struct sl_xdp_trie *t)
{
	struct sl_xdp_bitmap base;
	struct pitem *it;
	uint32_t n, ne = 1;
	bool len_seen[129] = { false };

	t->family = fam;
	it = pitems(b, f, fam, &n);
	if (it == NULL)
		goto nomem;
	/* Count the distinct prefixes before allocating room for them. */
	for (uint32_t k = 0; k < n; k++)
		if (it[k].len != 0 &&
		    (k == 0 || pitem_cmp(&it[k], &it[k - 1]) != 0))
			ne++;
	if (ne > SL_XDP_SET_PREFIXES_MAX) {
		snprintf(b->err, b->errlen,
			 "%s: %u distinct IPv%u prefixes, more than the %u the XDP path holds",
			 f == SL_M_SRC ? "src" : "dst", ne, fam,
			 SL_XDP_SET_PREFIXES_MAX);
		free(it);
		return -E2BIG;
	}
	t->e = malloc(ne * sizeof(*t->e));
	if (t->e == NULL) {
		free(it);
		goto nomem;
	}
	t->n = trie_merge(it, n, t->e);
	free(it);
	base_of(b, f, &base);
	trie_inherit(t, &base);
	for (uint32_t k = 0; k < t->n; k++)
		len_seen[t->e[k].len] = true;
	for (int l = 128; l >= 0; l--)
		if (len_seen[l])
			t->lens[t->n_lens++] = (uint8_t)l;
	return 0;
nomem:
	snprintf(b->err, b->errlen, "out of memory for the prefix tables");
	return -ENOMEM;
}

const struct sl_xdp_prefix *sl_xdp_trie_lookup(const struct sl_xdp_trie *t,
					       const uint8_t *addr)
{
	struct sl_xdp_prefix key;

	memset(&key, 0, sizeof(key));
	for (uint32_t l = 0; l < t->n_lens; l++) {
		uint32_t lo = 0, hi = t->n;

		key.len = t->lens[l];
		memcpy(key.addr, addr, t->family == SL_FAMILY_IPV4 ? 4 : 16);
		mask_addr(key.addr, key.len);
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int c = sl_xdp_prefix_cmp(&key, &t->e[mid]);

			if (c == 0)
				return &t->e[mid];
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return &t->e[0];	/* not reached: every trie has its /0 */
}

/* ---- the whole set ---- */

/* The fields that some live class constrains: the tables to look up. */
static uint32_t fields_of(const struct build *b)
{
	static const uint32_t map[][2] = {
		{ SL_M_PROTO, SL_XDP_F_PROTO }, { SL_M_SRC, SL_XDP_F_SRC },
		{ SL_M_DST, SL_XDP_F_DST }, { SL_M_SPORT, SL_XDP_F_SPORT },
		{ SL_M_DPORT, SL_XDP_F_DPORT },
		{ SL_M_TCP_FLAGS, SL_XDP_F_TCPF }, { SL_M_VLAN, SL_XDP_F_VLAN },
		{ SL_M_DSCP, SL_XDP_F_DSCP },
	};
	uint32_t fields = 0;

	for (uint32_t i = 0; i < b->p->n_classes; i++) {
		/*
		 * A class that never matches is in no table's bitmaps; one
		 * looked-up table is enough to keep it out of the AND.
		 */
		if (!b->live[i]) {
			fields |= SL_XDP_F_PROTO;
			continue;
		}
		for (uint32_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
			if (constrains(&b->p->classes[i], map[k][0]))
				fields |= map[k][1];
	}
	return fields;
}

int sl_xdp_tables_build(const struct sl_policy *p, uint64_t version,
			struct sl_xdp_tables **out, char *err, size_t errlen)
{
	struct build b = { .p = p, .err = err, .errlen = errlen };
	int rc;

	*out = NULL;
	if (p->n_classes > SL_XDP_CLASSES_MAX) {
		snprintf(err, errlen,
			 "%u classes, more than the %u the XDP path holds",
			 p->n_classes, SL_XDP_CLASSES_MAX);
		return -E2BIG;
	}
	b.t = calloc(1, sizeof(*b.t));
	if (b.t == NULL) {
		snprintf(err, errlen, "out of memory for the XDP tables");
		return -ENOMEM;
	}
	rc = classes_build(&b);
	if (rc < 0)
		goto fail;
	small_tables_build(&b);
	if ((rc = runs_build(&b, SL_M_SPORT, SL_PORTS, &b.t->sport)) < 0 ||
	    (rc = runs_build(&b, SL_M_DPORT, SL_PORTS, &b.t->dport)) < 0 ||
	    (rc = runs_build(&b, SL_M_VLAN, SL_VLAN_IDS, &b.t->vlan)) < 0 ||
	    (rc = trie_build(&b, SL_M_SRC, SL_FAMILY_IPV4, &b.t->src4)) < 0 ||
	    (rc = trie_build(&b, SL_M_DST, SL_FAMILY_IPV4, &b.t->dst4)) < 0 ||
	    (rc = trie_build(&b, SL_M_SRC, SL_FAMILY_IPV6, &b.t->src6)) < 0 ||
	    (rc = trie_build(&b, SL_M_DST, SL_FAMILY_IPV6, &b.t->dst6)) < 0)
		goto fail;
	b.t->cfg.version = version;
	b.t->cfg.n_classes = p->n_classes;
	b.t->cfg.n_words = (p->n_classes + 63) / 64;
	b.t->cfg.fields = fields_of(&b);
	b.t->cfg.default_drop = p->default_action == SL_DEFAULT_DROP;
	free(b.live);
	*out = b.t;
	return 0;
fail:
	free(b.live);
	sl_xdp_tables_free(b.t);
	return rc;
}

void sl_xdp_tables_free(struct sl_xdp_tables *t)
{
	if (t == NULL)
		return;
	free(t->cls);
	free(t->names);
	free(t->degraded);
	free(t->sport.lo);
	free(t->sport.bm);
	free(t->dport.lo);
	free(t->dport.bm);
	free(t->vlan.lo);
	free(t->vlan.bm);
	free(t->src4.e);
	free(t->dst4.e);
	free(t->src6.e);
	free(t->dst6.e);
	free(t);
}

/* ---- lookup, as the program does it ---- */

/* Accepts a well-formed IP packet; ANDs the tables cfg.fields names. */
static void and_tables(const struct sl_xdp_tables *t,
		       const struct sl_pkt_meta *m, uint64_t *acc)
{
	const struct sl_xdp_bitmap *bm[8];
	uint32_t f = t->cfg.fields, n = 0;
	bool v4 = m->family == SL_FAMILY_IPV4;
	bool l4 = m->flags & SL_PKT_F_L4;

	if (f & SL_XDP_F_PROTO)
		bm[n++] = &t->proto[m->proto];
	if (f & SL_XDP_F_SRC)
		bm[n++] = &sl_xdp_trie_lookup(v4 ? &t->src4 : &t->src6, m->src)->bm;
	if (f & SL_XDP_F_DST)
		bm[n++] = &sl_xdp_trie_lookup(v4 ? &t->dst4 : &t->dst6, m->dst)->bm;
	if (f & SL_XDP_F_SPORT)
		bm[n++] = sl_xdp_runs_get(&t->sport, l4 ? m->sport : SL_XDP_PORT_NONE);
	if (f & SL_XDP_F_DPORT)
		bm[n++] = sl_xdp_runs_get(&t->dport, l4 ? m->dport : SL_XDP_PORT_NONE);
	if (f & SL_XDP_F_TCPF)
		bm[n++] = &t->tcpf[l4 && m->proto == SL_IPPROTO_TCP ?
				   m->tcp_flags : SL_XDP_TCPF_NONE];
	if (f & SL_XDP_F_VLAN)
		bm[n++] = sl_xdp_runs_get(&t->vlan, (m->flags & SL_PKT_F_VLAN) ?
					  m->vlan & 0xfff : SL_XDP_VLAN_NONE);
	if (f & SL_XDP_F_DSCP)
		bm[n++] = &t->dscp[m->dscp & 0x3f];
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t w = 0; w < t->cfg.n_words; w++)
			acc[w] &= bm[k]->w[w];
}

uint32_t sl_xdp_tables_classify(const struct sl_xdp_tables *t,
				const struct sl_pkt_meta *m)
{
	uint64_t acc[SL_XDP_WORDS];
	uint32_t n = t->cfg.n_classes;

	if (m->malformed != SL_MAL_NONE ||
	    (m->family != SL_FAMILY_IPV4 && m->family != SL_FAMILY_IPV6))
		return SL_CLASS_NONE;
	/* Start from every class of the policy, none beyond it. */
	for (uint32_t w = 0; w < t->cfg.n_words; w++)
		acc[w] = n - w * 64 >= 64 ? UINT64_MAX :
			 (UINT64_C(1) << (n - w * 64)) - 1;
	and_tables(t, m, acc);
	for (uint32_t w = 0; w < t->cfg.n_words; w++)
		if (acc[w] != 0)
			return w * 64 + (uint32_t)__builtin_ctzll(acc[w]);
	return SL_CLASS_NONE;
}
