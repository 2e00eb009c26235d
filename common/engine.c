/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
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
	rs->cls = sl_classifier_build(p, socket_id, err, errlen);
	if (rs->cls == NULL)
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
	if (e->cls == NULL || e->overflow == NULL || e->overflow_gen == NULL) {
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
	rte_free(e);
}

void sl_engine_slot_reset(struct sl_engine *e, uint32_t slot)
{
	memset(&e->cls[slot], 0, sizeof(e->cls[slot]));
	e->overflow_gen[slot] = 0;
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
			    struct sl_tb *b, struct sl_pkt *p, uint64_t now_ns,
			    uint64_t cost)
{
	struct sl_counters *c = &e->cls[rt->slot];
	uint64_t max_wait = likely(e->shape_room > 0) ? rt->shape_ns : 0;
	struct sl_tb probe;
	__u64 depart;

	if (sl_tb_schedule(b, &rt->tb, now_ns, cost, max_wait, &depart)) {
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

	/* Unmatched and unlimited classes are decided; the rest need keys. */
	for (uint32_t j = 0; j < n_ip; j++) {
		uint16_t i = ip_idx[j];
		uint32_t c = cls[j];

		if (c == SL_CLASS_NONE) {
			verdict[i] = default_verdict(rs);
			count(&e->st.deflt, rs->default_drop ? SL_OUT_DROPPED :
			      SL_OUT_PASSED, pkts[i].wire_len);
		} else if (!rs->rt[c].has_limit) {
			verdict[i] = SL_VERDICT_FORWARD;
			count(&e->cls[rs->rt[c].slot], SL_OUT_PASSED, pkts[i].wire_len);
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
		uint64_t cost = rt->bits ? (uint64_t)pkts[i].wire_len * 8 : 1;

		/* Offered, so before the verdict: dropped packets count too. */
		sl_topk_offer(e->topk, &keys[k], pkts[i].wire_len);

		/* Shaping meters in the queue's order, not only against now. */
		if (rt->action == SL_EXCEED_SHAPE) {
			verdict[i] = shape(e, rt, b, &pkts[i], now_ns, cost);
		} else if (sl_tb_conform(b, &rt->tb, now_ns, cost)) {
			verdict[i] = SL_VERDICT_FORWARD;
			count(&e->cls[rt->slot], SL_OUT_PASSED, pkts[i].wire_len);
		} else {
			verdict[i] = exceed(&e->cls[rt->slot], rt, &pkts[i], ip[j]);
		}
	}
}
