/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
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
	rt->idle_ns = RTE_MAX(rt->tb.fill_ns, SL_FLOW_IDLE_MIN_NS);
	rt->idle_ns = RTE_MIN(rt->idle_ns, SL_FLOW_IDLE_MAX_NS);
	return 0;
}

struct sl_ruleset *sl_ruleset_build(struct sl_policy *p, uint64_t version,
				    int socket_id, char *err, size_t errlen)
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
	e->ft = sl_flowtab_create(name, flow_capacity, socket_id);
	if (e->ft == NULL) {
		rte_free(e);
		return NULL;
	}
	return e;
}

void sl_engine_free(struct sl_engine *e)
{
	if (e == NULL)
		return;
	sl_flowtab_free(e->ft);
	rte_free(e->cls);
	rte_free(e->overflow);
	rte_free(e);
}

int sl_engine_set_ruleset(struct sl_engine *e, const struct sl_ruleset *rs,
			  uint64_t now_ns)
{
	uint32_t n = RTE_MAX(rs->n_classes, 1u);
	struct sl_counters *cls;
	struct sl_tb *overflow;

	cls = rte_zmalloc_socket("sl_counters", n * sizeof(*cls),
				 RTE_CACHE_LINE_SIZE, e->socket_id);
	overflow = rte_zmalloc_socket("sl_overflow", n * sizeof(*overflow),
				      RTE_CACHE_LINE_SIZE, e->socket_id);
	if (cls == NULL || overflow == NULL) {
		rte_free(cls);
		rte_free(overflow);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rs->n_classes; i++)
		if (rs->rt[i].has_limit)
			sl_tb_init(&overflow[i], &rs->rt[i].tb, now_ns);
	/* Bucket keys carry class indexes of the old ruleset. */
	sl_flowtab_reset(e->ft);
	rte_free(e->cls);
	rte_free(e->overflow);
	e->cls = cls;
	e->overflow = overflow;
	e->n_alloc = n;
	e->rs = rs;
	return 0;
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
static inline void flow_key_make(struct sl_flow_key *k, uint32_t class_id,
				 const struct sl_class_rt *rt,
				 const struct sl_pkt_meta *m)
{
	uint8_t bits = m->family == SL_FAMILY_IPV4 ? rt->prefix4 : rt->prefix6;

	k->class_id = class_id;
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
			return &e->overflow[k->class_id];
		}
		fe = sl_flowtab_entry(e->ft, pos);
		sl_tb_init(&fe->tb, &rt->tb, now_ns);
		fe->idle_ns = rt->idle_ns;
		return &fe->tb;
	}
	return &sl_flowtab_entry(e->ft, pos)->tb;
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

void sl_engine_run(struct sl_engine *e, struct sl_pkt *pkts, uint16_t n,
		   uint64_t now_ns, uint8_t *verdict)
{
	const struct sl_ruleset *rs = e->rs;
	struct sl_pkt_meta meta[SL_ENGINE_BURST_MAX];
	const struct sl_pkt_meta *ip[SL_ENGINE_BURST_MAX];
	uint16_t ip_idx[SL_ENGINE_BURST_MAX];
	uint32_t cls[SL_ENGINE_BURST_MAX];
	struct sl_flow_key keys[SL_ENGINE_BURST_MAX];
	const struct sl_flow_key *kp[SL_ENGINE_BURST_MAX];
	uint16_t key_idx[SL_ENGINE_BURST_MAX];
	int32_t pos[SL_ENGINE_BURST_MAX];
	uint32_t n_ip = 0, n_keys = 0;

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
			count(&e->cls[c], SL_OUT_PASSED, pkts[i].wire_len);
		} else {
			memset(&keys[n_keys], 0, sizeof(keys[n_keys]));
			flow_key_make(&keys[n_keys], c, &rs->rt[c], ip[j]);
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

		if (sl_tb_conform(b, &rt->tb, now_ns, cost)) {
			verdict[i] = SL_VERDICT_FORWARD;
			count(&e->cls[c], SL_OUT_PASSED, pkts[i].wire_len);
		} else {
			verdict[i] = exceed(&e->cls[c], rt, &pkts[i], ip[j]);
		}
	}
}
