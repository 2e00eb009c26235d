/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "engine.h"

const char *const sl_outcome_names[SL_OUT__COUNT] = {
	[SL_OUT_PASSED] = "passed",
	[SL_OUT_DROPPED] = "dropped",
	[SL_OUT_MARKED] = "marked",
	[SL_OUT_MONITORED] = "monitored",
	[SL_OUT_DELAYED] = "delayed",
};

/* Compile one class's limit and exceed action for the fast path. */
static int class_rt_build(const struct sl_class *c, struct sl_class_rt *rt,
			  char *err, size_t errlen)
{
	uint64_t capacity;
	int rc;

	memset(rt, 0, sizeof(*rt));
	rt->action = (uint8_t)c->exceed.action;
	rt->mark_dscp = c->exceed.dscp;
	if (c->has_ceiling) {
		rt->has_ceiling = 1;
		rt->ceil_bits = c->ceiling.unit == SL_UNIT_BITS;
		capacity = rt->ceil_bits ? c->ceiling.burst * 8 : c->ceiling.burst;
		if (sl_ceil_profile_init(&rt->ceil, c->ceiling.rate, capacity) < 0) {
			snprintf(err, errlen, "class %s: ceiling rate or burst out of range",
				 c->name);
			return -EINVAL;
		}
	}
	rt->shape_ns = c->exceed.shape_ns;
	if (!c->has_limit)
		return 0;
	rt->has_limit = 1;
	rt->key = (uint8_t)c->limit.key;
	rt->prefix6 = c->limit.prefix_len;
	rt->prefix4 = c->limit.prefix_len > 32 ? 32 : c->limit.prefix_len;
	rt->bits = c->limit.unit == SL_UNIT_BITS;
	capacity = rt->bits ? c->limit.burst * 8 : c->limit.burst;
	rc = sl_tb_profile_init(&rt->tb, c->limit.rate, capacity);
	if (rc < 0) {
		snprintf(err, errlen, "class %s: rate or burst out of range",
			 c->name);
		return rc;
	}
	/*
	 * An entry idle for longer than its bucket takes to fill would be
	 * recreated full, so expiring it then changes no verdict.
	 */
	if (rt->tb.fill_ns >= (uint64_t)SL_FLOW_IDLE_MAX_MS * 1000000)
		rt->idle_ms = SL_FLOW_IDLE_MAX_MS;
	else
		rt->idle_ms = RTE_MAX((uint32_t)((rt->tb.fill_ns + 999999) / 1000000),
				      SL_FLOW_IDLE_MIN_MS);
	return 0;
}

static const struct sl_policy *sort_policy;	/* for by_name: qsort has no context */

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_policy->classes[*(const uint32_t *)a].name,
		      sort_policy->classes[*(const uint32_t *)b].name);
}

/* Index of the class called name in prev (sorted: order), or -1. */
static int64_t prev_find(const struct sl_ruleset *prev, const uint32_t *order,
			 const char *name)
{
	uint32_t lo = 0, hi = prev->n_classes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, prev->policy->classes[order[mid]].name);

		if (c == 0)
			return order[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * Give every class of rs a slot: its old one if prev has its name, else
 * a free one with a new generation. On failure, slots is unchanged.
 */
static int assign_slots(struct sl_ruleset *rs, const struct sl_ruleset *prev,
			struct sl_slots *slots, char *err, size_t errlen)
{
	uint32_t *order = NULL, next_free = 0, n_new = 0;
	uint32_t *taken = calloc(RTE_MAX(rs->n_classes, 1u), sizeof(*taken));

	if (taken == NULL)
		goto nomem;
	if (prev != NULL && prev->n_classes > 0) {
		order = malloc(prev->n_classes * sizeof(*order));
		if (order == NULL)
			goto nomem;
		for (uint32_t i = 0; i < prev->n_classes; i++)
			order[i] = i;
		sort_policy = prev->policy;
		qsort(order, prev->n_classes, sizeof(*order), by_name);
	}
	for (uint32_t i = 0; i < rs->n_classes; i++) {
		struct sl_class_rt *rt = &rs->rt[i];
		int64_t j = order ? prev_find(prev, order, rs->policy->classes[i].name) : -1;

		if (j >= 0) {
			rt->slot = prev->rt[j].slot;
			rt->gen = prev->rt[j].gen;
			continue;
		}
		while (next_free < SL_SLOTS_MAX && slots->used[next_free])
			next_free++;
		if (next_free == SL_SLOTS_MAX) {
			snprintf(err, errlen, "no free class slot: %u in use", slots->n_used);
			goto undo;
		}
		slots->used[next_free] = 1;
		slots->n_used++;
		taken[n_new++] = next_free;
		rt->slot = next_free;
		rt->gen = ++slots->gen[next_free];
		if (rt->gen == 0)	/* 0 means "never initialised" to engines */
			rt->gen = ++slots->gen[next_free];
	}
	free(order);
	free(taken);
	return 0;

undo:
	for (uint32_t k = 0; k < n_new; k++) {
		slots->used[taken[k]] = 0;
		slots->n_used--;
	}
	free(order);
	free(taken);
	return -ENOSPC;
nomem:
	free(order);
	free(taken);
	snprintf(err, errlen, "out of memory assigning class slots");
	return -ENOMEM;
}

uint32_t sl_slots_release(struct sl_slots *slots, const struct sl_ruleset *prev,
			  const struct sl_ruleset *next, uint32_t *freed)
{
	uint8_t *keep = calloc(SL_SLOTS_MAX, 1);
	uint32_t n = 0;

	if (prev == NULL)
		goto out;
	if (keep == NULL)	/* leak the slots rather than reuse live ones */
		goto out;
	for (uint32_t i = 0; next != NULL && i < next->n_classes; i++)
		keep[next->rt[i].slot] = 1;
	for (uint32_t i = 0; i < prev->n_classes; i++) {
		uint32_t s = prev->rt[i].slot;

		if (keep[s] || !slots->used[s])
			continue;
		slots->used[s] = 0;
		slots->n_used--;
		freed[n++] = s;
	}
out:
	free(keep);
	return n;
}

/* Payload scratch slots: one per lcore, one more for non-EAL threads. */
#define PAYLOAD_SLOTS		(RTE_MAX_LCORE + 1)

/* The scratch slot of the calling thread. */
static inline uint32_t payload_slot(void)
{
	unsigned int lc = rte_lcore_id();

	return lc < RTE_MAX_LCORE ? lc : RTE_MAX_LCORE;
}

/*
 * Build rs's classifiers and, if the policy has payload classes, their
 * pattern database with scratch for every lcore the EAL runs and for
 * non-EAL threads (docs/decisions/0008-payload-classification.md).
 */
static int classifiers_build(struct sl_ruleset *rs, int socket_id, char *err,
			     size_t errlen)
{
	const struct sl_policy *p = rs->policy;
	unsigned int lc;
	bool any;

	rs->payload_first = SL_CLASS_NONE;
	for (uint32_t i = 0; i < p->n_classes; i++) {
		if (p->classes[i].match.fields & SL_M_PAYLOAD) {
			rs->payload_first = i;
			break;
		}
	}
	any = rs->payload_first != SL_CLASS_NONE;
	rs->cls = sl_classifier_build_part(p, socket_id, any ?
			SL_CLASSIFY_NO_PAYLOAD : SL_CLASSIFY_ALL, err, errlen);
	if (rs->cls == NULL || !any)
		return rs->cls == NULL ? -EINVAL : 0;
	rs->cls_payload = sl_classifier_build_part(p, socket_id,
			SL_CLASSIFY_PAYLOAD, err, errlen);
	if (rs->cls_payload == NULL)
		return -EINVAL;
	rs->payload = sl_payload_db_build(p, PAYLOAD_SLOTS, err, errlen);
	if (rs->payload == NULL)
		return -EINVAL;
	RTE_LCORE_FOREACH(lc)
		if (sl_payload_db_scratch(rs->payload, lc) < 0)
			goto nomem;
	if (sl_payload_db_scratch(rs->payload, RTE_MAX_LCORE) < 0)
		goto nomem;
	return 0;

nomem:
	snprintf(err, errlen, "out of memory for payload scratch");
	return -ENOMEM;
}

struct sl_ruleset *sl_ruleset_build(struct sl_policy *p, uint64_t version,
				    const struct sl_ruleset *prev,
				    struct sl_slots *slots, int socket_id,
				    char *err, size_t errlen)
{
	struct sl_ruleset *rs;

	rs = rte_zmalloc_socket("sl_ruleset", sizeof(*rs), 0, socket_id);
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory for the ruleset");
		sl_policy_free(p);
		return NULL;
	}
	rs->version = version;
	rs->policy = p;
	rs->n_classes = p->n_classes;
	rs->default_drop = p->default_action == SL_DEFAULT_DROP;
	rs->rt = rte_zmalloc_socket("sl_class_rt",
				    sizeof(*rs->rt) * RTE_MAX(p->n_classes, 1u),
				    RTE_CACHE_LINE_SIZE, socket_id);
	if (rs->rt == NULL) {
		snprintf(err, errlen, "out of memory for %u classes",
			 p->n_classes);
		goto fail;
	}
	for (uint32_t i = 0; i < p->n_classes; i++)
		if (class_rt_build(&p->classes[i], &rs->rt[i], err, errlen) < 0)
			goto fail;
	if (classifiers_build(rs, socket_id, err, errlen) < 0)
		goto fail;
	/* Last: nothing after it can fail, so slots never need undoing here. */
	if (assign_slots(rs, prev, slots, err, errlen) < 0)
		goto fail;
	return rs;

fail:
	sl_ruleset_free(rs);
	return NULL;
}

void sl_ruleset_free(struct sl_ruleset *rs)
{
	if (rs == NULL)
		return;
	sl_classifier_free(rs->cls);
	sl_classifier_free(rs->cls_payload);
	sl_payload_db_free(rs->payload);
	sl_policy_free(rs->policy);
	rte_free(rs->rt);
	rte_free(rs);
}

struct sl_engine *sl_engine_create(const char *name, uint32_t flow_capacity,
				   int socket_id)
{
	struct sl_engine *e;

	e = rte_zmalloc_socket("sl_engine", sizeof(*e), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (e == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	e->socket_id = socket_id;
	e->cls = rte_zmalloc_socket("sl_counters", SL_SLOTS_MAX * sizeof(*e->cls),
				    RTE_CACHE_LINE_SIZE, socket_id);
	e->overflow = rte_zmalloc_socket("sl_overflow",
					 SL_SLOTS_MAX * sizeof(*e->overflow),
					 RTE_CACHE_LINE_SIZE, socket_id);
	e->overflow_gen = rte_zmalloc_socket("sl_overflow_gen",
					     SL_SLOTS_MAX * sizeof(*e->overflow_gen),
					     RTE_CACHE_LINE_SIZE, socket_id);
	e->ceil_own = sl_ceilings_create(socket_id);
	e->ceil = e->ceil_own;
	e->ceil_part = rte_zmalloc_socket("sl_ceil_part",
					  SL_SLOTS_MAX * sizeof(*e->ceil_part),
					  RTE_CACHE_LINE_SIZE, socket_id);
	if (e->cls == NULL || e->overflow == NULL || e->overflow_gen == NULL ||
	    e->ceil_own == NULL || e->ceil_part == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	e->ft = sl_flowtab_create(name, flow_capacity, socket_id);
	if (e->ft == NULL)
		goto fail;
	/* Seeded per engine, so workers sample at different packets. */
	e->topk = sl_topk_create(SL_TOPK_CAP_DEFAULT, SL_TOPK_SAMPLE_DEFAULT,
				 SL_TOPK_INTERVAL_DEFAULT_NS,
				 (uint64_t)(uintptr_t)e, socket_id);
	if (e->topk == NULL)
		goto fail;
	return e;

fail:
	sl_engine_free(e);
	return NULL;
}

void sl_engine_free(struct sl_engine *e)
{
	if (e == NULL)
		return;
	sl_flowtab_free(e->ft);
	sl_topk_free(e->topk);
	rte_free(e->cls);
	rte_free(e->overflow);
	rte_free(e->overflow_gen);
	sl_ceilings_free(e->ceil_own);
	rte_free(e->ceil_part);
	rte_free(e);
}

void sl_engine_slot_reset(struct sl_engine *e, uint32_t slot)
{
	memset(&e->cls[slot], 0, sizeof(e->cls[slot]));
	e->overflow_gen[slot] = 0;
	__atomic_store_n(&e->ceil[slot].tat, 0, __ATOMIC_RELAXED);
	memset(&e->ceil_part[slot], 0, sizeof(e->ceil_part[slot]));
}

struct sl_ceil *sl_ceilings_create(int socket_id)
{
	struct sl_ceil *c;

	c = rte_zmalloc_socket("sl_ceilings", SL_SLOTS_MAX * sizeof(*c),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (c == NULL)
		rte_errno = ENOMEM;
	return c;
}

void sl_ceilings_free(struct sl_ceil *c)
{
	rte_free(c);
}

int sl_ceilings_carry(struct sl_ceil *c, const struct sl_ruleset *prev,
		      const struct sl_ruleset *next, uint64_t now_ns)
{
	int32_t *was;

	if (prev == NULL || next == NULL)
		return 0;
	was = malloc(SL_SLOTS_MAX * sizeof(*was));
	if (was == NULL)
		return -ENOMEM;
	memset(was, 0xff, SL_SLOTS_MAX * sizeof(*was));
	for (uint32_t i = 0; i < prev->n_classes; i++)
		was[prev->rt[i].slot] = (int32_t)i;
	for (uint32_t i = 0; i < next->n_classes; i++) {
		const struct sl_class_rt *rt = &next->rt[i], *old;

		if (!rt->has_ceiling || was[rt->slot] < 0)
			continue;
		old = &prev->rt[was[rt->slot]];
		/* A new ceiling starts full, as a new bucket does. */
		if (!old->has_ceiling)
			__atomic_store_n(&c[rt->slot].tat, 0, __ATOMIC_RELAXED);
		else if (memcmp(&old->ceil, &rt->ceil, sizeof(rt->ceil)) != 0)
			sl_ceil_rescale(&c[rt->slot], &old->ceil, &rt->ceil, now_ns);
	}
	free(was);
	return 0;
}

void sl_engine_share_ceilings(struct sl_engine *e, struct sl_ceil *c)
{
	sl_ceilings_free(e->ceil_own);
	e->ceil_own = NULL;
	e->ceil = c;
}

/* Copy the first bits of a 16-byte address, zeroing the rest. */
static inline void addr_prefix(uint8_t *dst, const uint8_t *src, uint8_t bits)
{
	uint8_t whole = bits / 8, rem = bits % 8;

	memcpy(dst, src, whole);
	if (rem)
		dst[whole] = src[whole] & (uint8_t)(0xff00 >> rem);
}

/* The bucket key of packet m in class c (key zeroed by the caller). */
static inline void flow_key_make(struct sl_flow_key *k,
				 const struct sl_class_rt *rt,
				 const struct sl_pkt_meta *m)
{
	uint8_t bits = m->family == SL_FAMILY_IPV4 ? rt->prefix4 : rt->prefix6;

	k->class_id = rt->slot;
	switch (rt->key) {
	case SL_KEY_SRC:
		k->family = m->family;
		addr_prefix(k->src, m->src, bits);
		break;
	case SL_KEY_DST:
		k->family = m->family;
		addr_prefix(k->dst, m->dst, bits);
		break;
	case SL_KEY_FLOW:
		k->family = m->family;
		k->proto = m->proto;
		k->sport = m->sport;
		k->dport = m->dport;
		memcpy(k->src, m->src, sizeof(k->src));
		memcpy(k->dst, m->dst, sizeof(k->dst));
		break;
	default:	/* SL_KEY_NONE: one bucket for the class */
		break;
	}
}

static inline void count(struct sl_counters *c, enum sl_outcome o,
			 uint32_t bytes)
{
	c->packets[o]++;
	c->bytes[o] += bytes;
}

/* The default action for an unmatched (or malformed) packet. */
static inline uint8_t default_verdict(const struct sl_ruleset *rs)
{
	return rs->default_drop ? SL_VERDICT_DROP : SL_VERDICT_FORWARD;
}

/* Find or create the bucket of key k; the overflow bucket if full. */
static inline struct sl_tb *bucket_get(struct sl_engine *e, int32_t pos,
				       const struct sl_flow_key *k,
				       const struct sl_class_rt *rt,
				       uint64_t now_ns)
{
	struct sl_flow_entry *fe;

	/* A key seen twice in one burst missed the bulk lookup twice. */
	if (pos < 0)
		pos = sl_flowtab_lookup(e->ft, k);
	if (pos < 0) {
		pos = sl_flowtab_add(e->ft, k);
		if (pos < 0) {
			e->st.overflow++;
			if (unlikely(e->overflow_gen[rt->slot] != rt->gen)) {
				sl_tb_init(&e->overflow[rt->slot], &rt->tb, now_ns);
				e->overflow_gen[rt->slot] = rt->gen;
			}
			return &e->overflow[rt->slot];
		}
		fe = sl_flowtab_entry(e->ft, pos);
		goto init;
	}
	fe = sl_flowtab_entry(e->ft, pos);
	/* The slot was reused by another class: this bucket is not its. */
	if (unlikely(fe->gen != rt->gen))
		goto init;
	return &fe->tb;

init:
	sl_tb_init(&fe->tb, &rt->tb, now_ns);
	fe->idle_ms = rt->idle_ms;
	fe->gen = rt->gen;
	return &fe->tb;
}

/* What a payload scan of one packet is looking for. */
struct payload_want {
	const struct sl_policy *p;
	const struct sl_pkt_meta *m;
	uint32_t first;		/* first payload class whose L3/L4 hold */
	uint32_t best;		/* the answer so far: lower only */
};

/* A class's pattern matched: it wins if it comes first and its L3/L4 holds. */
static int payload_hit(uint32_t c, void *ctx)
{
	struct payload_want *w = ctx;

	if (c < w->first || c >= w->best)
		return 0;
	if (c != w->first &&
	    !sl_match_l34_holds(&w->p->classes[c].match, w->m))
		return 0;
	w->best = c;
	/* Nothing can come before the first: stop scanning. */
	return c == w->first;
}

/*
 * cls[j] holds the first class without a payload field that ip[j]
 * matches. Where a payload class whose L3/L4 fields hold comes before
 * it, scan the payload: the first such class whose pattern matches
 * wins, else cls[j] stands (fall-through). Others are never scanned.
 */
static void payload_classify(struct sl_engine *e, const struct sl_ruleset *rs,
			     const struct sl_pkt *pkts, const uint16_t *ip_idx,
			     const struct sl_pkt_meta *const *ip, uint32_t n_ip,
			     uint32_t *cls)
{
	const struct sl_pkt_meta *cand[SL_ENGINE_BURST_MAX];
	uint32_t first[SL_ENGINE_BURST_MAX], at[SL_ENGINE_BURST_MAX];
	uint32_t slot = payload_slot(), n = 0;

	/*
	 * Only packets a payload class could win go to its classifier: no
	 * TCP/UDP header or no payload (a bare ACK), no pattern can match;
	 * a plain class before every payload class wins outright.
	 */
	for (uint32_t j = 0; j < n_ip; j++) {
		if (cls[j] <= rs->payload_first ||
		    !(ip[j]->flags & SL_PKT_F_L4) || ip[j]->payload_len == 0)
			continue;
		cand[n] = ip[j];
		at[n++] = j;
	}
	if (n == 0)
		return;
	sl_classify_burst(rs->cls_payload, cand, n, first);
	for (uint32_t k = 0; k < n; k++) {
		const struct sl_pkt_meta *m = cand[k];
		uint32_t j = at[k];
		struct payload_want w = {
			.p = rs->policy, .m = m, .first = first[k],
			.best = cls[j],
		};
		const uint8_t *pl = pkts[ip_idx[j]].data + m->payload_off;

		if (first[k] >= cls[j])
			continue;
		e->st.payload_scanned++;
		if (unlikely(sl_payload_scan(rs->payload, slot, pl,
					     m->payload_len, payload_hit,
					     &w) < 0))
			e->st.payload_errors++;
		cls[j] = w.best;
	}
}

/* Whether class rt's ceiling has room for a frame of len bytes; takes it if so. */
static inline int ceiling_take(struct sl_engine *e, const struct sl_class_rt *rt,
			       uint32_t len, uint64_t now_ns)
{
	uint64_t cost = rt->ceil_bits ? (uint64_t)len * 8 : 1;

	/* GCRA reads a clock that steps back as debt: hold it instead, as sl_tb does. */
	if (now_ns > e->ceil_now)
		e->ceil_now = now_ns;
	return sl_ceil_take(&e->ceil[rt->slot], &e->ceil_part[rt->slot],
			    &rt->ceil, e->ceil_now, cost);
}

/*
 * The key bucket b, then the class ceiling: a packet conforms only if
 * both have its tokens, and neither is charged for one that does not.
 */
static inline int meter(struct sl_engine *e, const struct sl_class_rt *rt,
			struct sl_tb *b, uint32_t len, uint64_t now_ns)
{
	uint64_t cost = rt->bits ? (uint64_t)len * 8 : 1;

	if (!rt->has_ceiling)
		return sl_tb_conform(b, &rt->tb, now_ns, cost);
	sl_tb_refill(b, &rt->tb, now_ns);
	if (b->tokens < cost || !ceiling_take(e, rt, len, now_ns))
		return 0;
	b->tokens -= cost;
	return 1;
}

/* Apply the exceed action of a class; returns the verdict. */
static inline uint8_t exceed(struct sl_counters *c, const struct sl_class_rt *rt,
			     struct sl_pkt *p, const struct sl_pkt_meta *m)
{
	switch (rt->action) {
	case SL_EXCEED_MONITOR:
		count(c, SL_OUT_MONITORED, p->wire_len);
		return SL_VERDICT_FORWARD;
	case SL_EXCEED_MARK:
		sl_pkt_set_dscp(p->data, m, rt->mark_dscp);
		count(c, SL_OUT_MARKED, p->wire_len);
		return SL_VERDICT_FORWARD;
	default:
		count(c, SL_OUT_DROPPED, p->wire_len);
		return SL_VERDICT_DROP;
	}
}

/*
 * Meter a packet of a shaping class: it passes if it conforms now and
 * nothing of its bucket waits; it waits if it conforms within the
 * class's delay behind what already waits and the caller has room for
 * it; else it is dropped, with its bucket untouched.
 */
static inline uint8_t shape(struct sl_engine *e, const struct sl_class_rt *rt,
			    struct sl_tb *b, struct sl_pkt *p, uint64_t now_ns)
{
	struct sl_counters *c = &e->cls[rt->slot];
	uint64_t max_wait = likely(e->shape_room > 0) ? rt->shape_ns : 0;
	uint64_t cost = rt->bits ? (uint64_t)p->wire_len * 8 : 1;
	struct sl_tb probe = *b;
	__u64 depart;

	/*
	 * A ceiling polices a shaping class at arrival: a packet the key's
	 * bucket would schedule is held only if the ceiling takes it now,
	 * and neither is charged for one that is dropped (decision 0009).
	 */
	if (sl_tb_schedule(&probe, &rt->tb, now_ns, cost, max_wait, &depart) &&
	    (!rt->has_ceiling || ceiling_take(e, rt, p->wire_len, now_ns))) {
		*b = probe;
		p->depart_ns = depart;
		if (depart == now_ns) {
			count(c, SL_OUT_PASSED, p->wire_len);
			return SL_VERDICT_FORWARD;
		}
		e->shape_room--;
		count(c, SL_OUT_DELAYED, p->wire_len);
		return SL_VERDICT_DELAY;
	}
	/* Without room, tell a full queue from a wait beyond the delay. */
	if (max_wait == 0) {
		probe = *b;
		if (sl_tb_schedule(&probe, &rt->tb, now_ns, cost, rt->shape_ns,
				   &depart))
			e->st.shape_full++;
	}
	count(c, SL_OUT_DROPPED, p->wire_len);
	return SL_VERDICT_DROP;
}

void sl_engine_run(struct sl_engine *e, const struct sl_ruleset *rs,
		   struct sl_pkt *pkts, uint16_t n, uint64_t now_ns,
		   uint8_t *verdict)
{
	struct sl_pkt_meta meta[SL_ENGINE_BURST_MAX];
	const struct sl_pkt_meta *ip[SL_ENGINE_BURST_MAX];
	uint16_t ip_idx[SL_ENGINE_BURST_MAX];
	uint32_t cls[SL_ENGINE_BURST_MAX];
	struct sl_flow_key keys[SL_ENGINE_BURST_MAX];
	const struct sl_flow_key *kp[SL_ENGINE_BURST_MAX];
	uint16_t key_idx[SL_ENGINE_BURST_MAX];
	int32_t pos[SL_ENGINE_BURST_MAX];
	uint32_t n_ip = 0, n_keys = 0;

	sl_topk_tick(e->topk, now_ns);
	/* Parse; malformed and non-IP frames are decided here. */
	for (uint16_t i = 0; i < n; i++) {
		struct sl_pkt_meta *m = &meta[i];
		enum sl_malformed r;

		if (i + 1 < n)
			rte_prefetch0(pkts[i + 1].data);
		r = sl_pkt_parse(pkts[i].data, pkts[i].len, m);
		if (unlikely(r != SL_MAL_NONE)) {
			e->st.malformed[r]++;
			e->st.malformed_bytes += pkts[i].wire_len;
			verdict[i] = default_verdict(rs);
		} else if (unlikely(m->family == SL_FAMILY_NONE)) {
			/* ARP and other L2 control must cross or the link dies. */
			e->st.non_ip++;
			e->st.non_ip_bytes += pkts[i].wire_len;
			verdict[i] = SL_VERDICT_FORWARD;
		} else {
			ip[n_ip] = m;
			ip_idx[n_ip++] = i;
		}
	}
	if (n_ip == 0)
		return;
	sl_classify_burst(rs->cls, ip, n_ip, cls);
	if (rs->payload != NULL)
		payload_classify(e, rs, pkts, ip_idx, ip, n_ip, cls);

	/* Unmatched and unlimited classes are decided; the rest need keys. */
	for (uint32_t j = 0; j < n_ip; j++) {
		uint16_t i = ip_idx[j];
		uint32_t c = cls[j];

		if (c == SL_CLASS_NONE) {
			verdict[i] = default_verdict(rs);
			count(&e->st.deflt, rs->default_drop ? SL_OUT_DROPPED :
			      SL_OUT_PASSED, pkts[i].wire_len);
		} else if (!rs->rt[c].has_limit) {
			const struct sl_class_rt *rt = &rs->rt[c];

			/* No key bucket: only a ceiling, if any, can refuse. */
			if (rt->has_ceiling &&
			    !ceiling_take(e, rt, pkts[i].wire_len, now_ns)) {
				verdict[i] = exceed(&e->cls[rt->slot], rt, &pkts[i], ip[j]);
				continue;
			}
			verdict[i] = SL_VERDICT_FORWARD;
			count(&e->cls[rt->slot], SL_OUT_PASSED, pkts[i].wire_len);
		} else {
			memset(&keys[n_keys], 0, sizeof(keys[n_keys]));
			flow_key_make(&keys[n_keys], &rs->rt[c], ip[j]);
			kp[n_keys] = &keys[n_keys];
			key_idx[n_keys++] = (uint16_t)j;
		}
	}
	if (n_keys == 0)
		return;
	sl_flowtab_lookup_bulk(e->ft, kp, n_keys, pos);
	for (uint32_t k = 0; k < n_keys; k++)
		if (pos[k] >= 0)
			rte_prefetch0(sl_flowtab_entry(e->ft, pos[k]));

	/* Meter and act. */
	for (uint32_t k = 0; k < n_keys; k++) {
		uint32_t j = key_idx[k];
		uint16_t i = ip_idx[j];
		uint32_t c = cls[j];
		const struct sl_class_rt *rt = &rs->rt[c];
		struct sl_tb *b = bucket_get(e, pos[k], &keys[k], rt, now_ns);

		/* Offered, so before the verdict: dropped packets count too. */
		sl_topk_offer(e->topk, &keys[k], pkts[i].wire_len);

		/* Shaping meters in the queue's order, not only against now. */
		if (rt->action == SL_EXCEED_SHAPE) {
			verdict[i] = shape(e, rt, b, &pkts[i], now_ns);
		} else if (meter(e, rt, b, pkts[i].wire_len, now_ns)) {
			verdict[i] = SL_VERDICT_FORWARD;
			count(&e->cls[rt->slot], SL_OUT_PASSED, pkts[i].wire_len);
		} else {
			verdict[i] = exceed(&e->cls[rt->slot], rt, &pkts[i], ip[j]);
		}
	}
}
