/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L3/L4 classifier on DPDK's rte_acl.
 *
 * Each class becomes, per address family, the cross product of its lists
 * as ACL rules, all with the class's priority (the earlier the class, the
 * higher) and the class index + 1 as userdata, so rte_acl's "highest
 * priority wins" is the policy's "first match wins". Packets are turned
 * into a small key (struct sl_acl_key) that the ACL tries walk.
 *
 * The presence of L4 ports and of a VLAN tag is a flag in the key, so a
 * class that sets ports or a VLAN never matches a packet without them,
 * whatever zeros the key holds in their place. "Is TCP" is the proto
 * byte itself: a class with tcp_flags gets proto 6 in its rules.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "classify.h"

#define SL_IPPROTO_TCP	6

/* Bits of the key's meta byte: DSCP in the top six, presence flags below. */
#define SL_KEY_L4	0x01
#define SL_KEY_VLAN	0x02
#define SL_KEY_DSCP_SHIFT 2

/*
 * What rte_acl reads of one packet. rte_acl wants a one-byte first field
 * and then groups of 4 bytes, each group exactly filled by its fields;
 * multi-byte fields in network order. IPv4 uses the first 4 bytes of
 * src and dst, so one key type serves both families.
 */
struct sl_acl_key {
	uint8_t proto;		/* the one-byte first field */
	uint8_t pad[3];		/* aligns the 4-byte groups */
	uint8_t dst[16];
	uint8_t src[16];
	rte_be16_t dport;	/* 0 without SL_KEY_L4 */
	rte_be16_t sport;
	uint8_t meta;		/* DSCP << 2 | SL_KEY_VLAN | SL_KEY_L4 */
	uint8_t tcp_flags;	/* 0 unless TCP with SL_KEY_L4 */
	rte_be16_t vlan;	/* 0 without SL_KEY_VLAN */
} __rte_aligned(4);

static_assert(sizeof(struct sl_acl_key) == 44, "ACL key layout");
static_assert(offsetof(struct sl_acl_key, dport) % 4 == 0, "port group");
static_assert(offsetof(struct sl_acl_key, meta) % 4 == 0, "meta group");

/*
 * Rule fields, in trie order, which is the order of the key. Addresses
 * are 1 word (IPv4) or 4 words (IPv6); the fields after them are
 * numbered from there.
 *
 * The order matters to rte_acl's build time and memory, and even to
 * whether a build succeeds (at most 8 tries): measured on random
 * policies, ports or the small fields (meta, tcp_flags, vlan) right
 * after proto made some builds of a few hundred rules fail; with them
 * last, and dst before src, builds were fastest.
 */
enum {
	SL_F_PROTO = 0,
	SL_F_DST = 1,
};
#define SL_F_SRC(w)	(SL_F_DST + (w))
#define SL_F_DPORT(w)	(SL_F_DST + 2 * (w))
#define SL_F_SPORT(w)	(SL_F_DPORT(w) + 1)
#define SL_F_META(w)	(SL_F_DPORT(w) + 2)
#define SL_F_TCP(w)	(SL_F_DPORT(w) + 3)
#define SL_F_VLAN(w)	(SL_F_DPORT(w) + 4)
#define SL_F_NUM(w)	(SL_F_DPORT(w) + 5)

#define SL_FIELDS_MAX	SL_F_NUM(4)

/* Rules handed to rte_acl_add_rules() at once. */
#define SL_RULE_CHUNK	256

/* The dimensions a class's rules are the product of. */
enum {
	SL_D_SRC,
	SL_D_DST,
	SL_D_SPORT,
	SL_D_DPORT,
	SL_D_VLAN,
	SL_D_DSCP,
	SL_D__COUNT
};

/* The 3^6 (value, mask) cubes over six DSCP bits and the values each holds. */
#define SL_DSCP_CUBES	729

struct sl_dscp_cube {
	uint8_t val;
	uint8_t msk;
	uint64_t members;
};

/* One class seen from one family: the entries its rules range over. */
struct sl_expand {
	uint32_t n[SL_D__COUNT];	/* 1 for a field not set */
	const struct sl_prefix *src[SL_MATCH_LIST_MAX];
	const struct sl_prefix *dst[SL_MATCH_LIST_MAX];
	uint8_t dscp_val[64];
	uint8_t dscp_msk[64];
};

/* What a build needs besides the policy. */
struct sl_build {
	const struct sl_policy *p;
	int socket_id;
	char *err;
	size_t errlen;
	struct sl_dscp_cube cube[SL_DSCP_CUBES];
};

/* Read-only once built: any number of lcores classify with it at once. */
struct sl_classifier {
	struct rte_acl_ctx *ctx4;	/* NULL when no class can match IPv4 */
	struct rte_acl_ctx *ctx6;
	uint32_t rules4;
	uint32_t rules6;
};

/*
 * Makes every rte_acl context name unique: rte_acl_create() hands back
 * an existing context of the same name instead of a new one.
 */
static atomic_uint sl_acl_seq;

/* Words (4 bytes) of an address of family 4 or 6. */
static uint32_t sl_words(uint8_t family)
{
	return family == SL_FAMILY_IPV6 ? 4 : 1;
}

/* Accepts a class and a list field's name; checks one prefix list. */
static int sl_check_prefixes(const struct sl_class *cls, const char *what,
			     const struct sl_prefix *pf, uint32_t n,
			     char *err, size_t errlen)
{
	uint32_t i;

	if (n > SL_MATCH_LIST_MAX || (n != 0 && pf == NULL)) {
		snprintf(err, errlen, "class \"%s\": %s list of %" PRIu32 " entries is invalid (at most %u)",
			 cls->name, what, n, SL_MATCH_LIST_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		uint8_t max = pf[i].family == SL_FAMILY_IPV4 ? 32 : 128;

		if (pf[i].family != SL_FAMILY_IPV4 &&
		    pf[i].family != SL_FAMILY_IPV6) {
			snprintf(err, errlen, "class \"%s\": %s entry %" PRIu32 " has address family %u, not 4 or 6",
				 cls->name, what, i, pf[i].family);
			return -EINVAL;
		}
		if (pf[i].len > max) {
			snprintf(err, errlen, "class \"%s\": %s entry %" PRIu32 " has prefix length %u, more than %u for IPv%u",
				 cls->name, what, i, pf[i].len, max,
				 pf[i].family);
			return -EINVAL;
		}
	}
	return 0;
}

/* Accepts a class and a list field's name; checks one range list. */
static int sl_check_ranges(const struct sl_class *cls, const char *what,
			   const struct sl_range *r, uint32_t n,
			   char *err, size_t errlen)
{
	uint32_t i;

	if (n > SL_MATCH_LIST_MAX || (n != 0 && r == NULL)) {
		snprintf(err, errlen, "class \"%s\": %s list of %" PRIu32 " entries is invalid (at most %u)",
			 cls->name, what, n, SL_MATCH_LIST_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (r[i].lo > r[i].hi) {
			snprintf(err, errlen, "class \"%s\": %s range %u-%u is empty",
				 cls->name, what, r[i].lo, r[i].hi);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Accepts any class; refuses what the policy model rules out (the loader
 * never produces it), so that the rules below can rely on it.
 */
static int sl_check_class(const struct sl_class *cls, char *err,
			  size_t errlen)
{
	const struct sl_match *m = &cls->match;
	int rc = 0;

	if ((m->fields & SL_M_PROTO) && m->proto != SL_PROTO_ANY &&
	    (m->proto < 0 || m->proto > 255)) {
		snprintf(err, errlen, "class \"%s\": protocol %d is not 0..255",
			 cls->name, m->proto);
		return -EINVAL;
	}
	if (m->fields & SL_M_SRC)
		rc = sl_check_prefixes(cls, "src", m->src, m->n_src, err,
				       errlen);
	if (rc == 0 && (m->fields & SL_M_DST))
		rc = sl_check_prefixes(cls, "dst", m->dst, m->n_dst, err,
				       errlen);
	if (rc == 0 && (m->fields & SL_M_SPORT))
		rc = sl_check_ranges(cls, "sport", m->sport, m->n_sport, err,
				     errlen);
	if (rc == 0 && (m->fields & SL_M_DPORT))
		rc = sl_check_ranges(cls, "dport", m->dport, m->n_dport, err,
				     errlen);
	if (rc == 0 && (m->fields & SL_M_VLAN))
		rc = sl_check_ranges(cls, "vlan", m->vlan, m->n_vlan, err,
				     errlen);
	return rc;
}

/* Fills the table of every DSCP cube with the set of values it covers. */
static void sl_dscp_cubes_init(struct sl_dscp_cube *cube)
{
	uint32_t n = 0, msk, val, d;

	for (msk = 0; msk < 64; msk++) {
		/* Every val that has no bit outside msk: subsets of msk. */
		val = 0;
		do {
			cube[n].val = (uint8_t)val;
			cube[n].msk = (uint8_t)msk;
			cube[n].members = 0;
			for (d = 0; d < 64; d++)
				if ((d & msk) == val)
					cube[n].members |= UINT64_C(1) << d;
			n++;
			val = (val - msk) & msk;
		} while (val != 0);
	}
	assert(n == SL_DSCP_CUBES);
}

/*
 * Accepts a non-empty DSCP set; covers it with (value, mask) cubes that
 * lie inside it, greedily by most values newly covered. At most one
 * cube per value, usually far fewer (all 64 values: one cube). Returns
 * the number of cubes.
 */
static uint32_t sl_dscp_cover(const struct sl_dscp_cube *cube, uint64_t set,
			      uint8_t *val, uint8_t *msk)
{
	uint64_t left = set;
	uint32_t n = 0, i, best, gain, best_gain;

	while (left != 0) {
		best = 0;
		best_gain = 0;
		for (i = 0; i < SL_DSCP_CUBES; i++) {
			if ((cube[i].members & ~set) != 0)
				continue;
			gain = (uint32_t)__builtin_popcountll(cube[i].members &
							      left);
			if (gain > best_gain) {
				best_gain = gain;
				best = i;
			}
		}
		val[n] = cube[best].val;
		msk[n] = cube[best].msk;
		n++;
		left &= ~cube[best].members;
	}
	return n;
}

/* Accepts a prefix list; keeps the entries of one family. */
static uint32_t sl_pick_family(const struct sl_prefix *pf, uint32_t n,
			       uint8_t family, const struct sl_prefix **out)
{
	uint32_t i, k = 0;

	for (i = 0; i < n; i++)
		if (pf[i].family == family)
			out[k++] = &pf[i];
	return k;
}

/*
 * Accepts a checked class; works out its lists for one family. Returns
 * the number of rules: their product, or 0 when the class can never
 * match a packet of that family.
 */
static uint64_t sl_expand_class(const struct sl_build *b,
				const struct sl_match *m, uint8_t family,
				struct sl_expand *ex)
{
	uint64_t total = 1;
	uint32_t d;

	for (d = 0; d < SL_D__COUNT; d++)
		ex->n[d] = 1;
	if ((m->fields & SL_M_PROTO) && (m->fields & SL_M_TCP_FLAGS) &&
	    m->proto != SL_PROTO_ANY && m->proto != SL_IPPROTO_TCP)
		return 0;
	/* A flag bit the mask leaves out can never compare equal. */
	if ((m->fields & SL_M_TCP_FLAGS) && (m->tcp_flags & ~m->tcp_mask))
		return 0;
	if (m->fields & SL_M_SRC)
		ex->n[SL_D_SRC] = sl_pick_family(m->src, m->n_src, family,
						 ex->src);
	if (m->fields & SL_M_DST)
		ex->n[SL_D_DST] = sl_pick_family(m->dst, m->n_dst, family,
						 ex->dst);
	if (m->fields & SL_M_SPORT)
		ex->n[SL_D_SPORT] = m->n_sport;
	if (m->fields & SL_M_DPORT)
		ex->n[SL_D_DPORT] = m->n_dport;
	if (m->fields & SL_M_VLAN)
		ex->n[SL_D_VLAN] = m->n_vlan;
	if (m->fields & SL_M_DSCP)
		ex->n[SL_D_DSCP] = m->dscp == 0 ? 0 :
			sl_dscp_cover(b->cube, m->dscp, ex->dscp_val,
				      ex->dscp_msk);
	/* At most 256^5 * 64: no overflow. */
	for (d = 0; d < SL_D__COUNT; d++)
		total *= ex->n[d];
	return total;
}

/* Accepts a prefix (or NULL for any) and sets an address's words. */
static void sl_rule_addr(struct rte_acl_field *f, const struct sl_prefix *pf,
			 uint32_t words)
{
	uint32_t k, w;
	int len;

	for (k = 0; k < words; k++) {
		f[k].value.u64 = 0;
		f[k].mask_range.u64 = 0;
		if (pf == NULL)
			continue;
		len = pf->len - 32 * (int)k;
		if (len <= 0)
			continue;
		/* Rules are in host order, keys in network order. */
		memcpy(&w, pf->addr + 4 * k, sizeof(w));
		f[k].value.u32 = rte_be_to_cpu_32(w);
		f[k].mask_range.u32 = RTE_MIN(len, 32);
	}
}

/* Accepts a range (or NULL for any) and sets a 16-bit range field. */
static void sl_rule_range(struct rte_acl_field *f, const struct sl_range *r)
{
	f->value.u16 = r ? r->lo : 0;
	f->mask_range.u16 = r ? r->hi : UINT16_MAX;
}

/* Accepts one combination idx[] of a class's lists; writes its rule. */
static void sl_rule_fill(struct rte_acl_rule *r, uint32_t class_idx,
			 const struct sl_match *m, const struct sl_expand *ex,
			 const uint32_t *idx, uint32_t words)
{
	struct rte_acl_field *f = r->field;
	uint8_t meta_val = 0, meta_msk = 0;

	memset(r, 0, RTE_ACL_RULE_SZ(SL_F_NUM(words)));
	r->data.category_mask = 1;
	r->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - class_idx);
	r->data.userdata = class_idx + 1;

	if (m->fields & SL_M_TCP_FLAGS) {
		f[SL_F_PROTO].value.u8 = SL_IPPROTO_TCP;
		f[SL_F_PROTO].mask_range.u8 = 0xff;
	} else if ((m->fields & SL_M_PROTO) && m->proto != SL_PROTO_ANY) {
		f[SL_F_PROTO].value.u8 = (uint8_t)m->proto;
		f[SL_F_PROTO].mask_range.u8 = 0xff;
	}
	sl_rule_addr(f + SL_F_DST,
		     (m->fields & SL_M_DST) ? ex->dst[idx[SL_D_DST]] : NULL,
		     words);
	sl_rule_addr(f + SL_F_SRC(words),
		     (m->fields & SL_M_SRC) ? ex->src[idx[SL_D_SRC]] : NULL,
		     words);
	sl_rule_range(f + SL_F_SPORT(words), (m->fields & SL_M_SPORT) ?
		      &m->sport[idx[SL_D_SPORT]] : NULL);
	sl_rule_range(f + SL_F_DPORT(words), (m->fields & SL_M_DPORT) ?
		      &m->dport[idx[SL_D_DPORT]] : NULL);
	sl_rule_range(f + SL_F_VLAN(words), (m->fields & SL_M_VLAN) ?
		      &m->vlan[idx[SL_D_VLAN]] : NULL);

	if (m->fields & (SL_M_SPORT | SL_M_DPORT | SL_M_TCP_FLAGS)) {
		meta_val |= SL_KEY_L4;
		meta_msk |= SL_KEY_L4;
	}
	if (m->fields & SL_M_VLAN) {
		meta_val |= SL_KEY_VLAN;
		meta_msk |= SL_KEY_VLAN;
	}
	if (m->fields & SL_M_DSCP) {
		meta_val |= ex->dscp_val[idx[SL_D_DSCP]] << SL_KEY_DSCP_SHIFT;
		meta_msk |= ex->dscp_msk[idx[SL_D_DSCP]] << SL_KEY_DSCP_SHIFT;
	}
	f[SL_F_META(words)].value.u8 = meta_val;
	f[SL_F_META(words)].mask_range.u8 = meta_msk;
	if (m->fields & SL_M_TCP_FLAGS) {
		f[SL_F_TCP(words)].value.u8 = m->tcp_flags;
		f[SL_F_TCP(words)].mask_range.u8 = m->tcp_mask;
	}
}

/* Accepts a context with room; adds every rule of one class to it. */
static int sl_add_class(struct rte_acl_ctx *ctx, uint32_t class_idx,
			const struct sl_match *m, const struct sl_expand *ex,
			uint32_t words, uint8_t *buf)
{
	size_t rule_sz = RTE_ACL_RULE_SZ(SL_F_NUM(words));
	uint32_t idx[SL_D__COUNT] = { 0 };
	uint32_t n = 0, d;
	int rc;

	for (;;) {
		sl_rule_fill((struct rte_acl_rule *)(buf + n * rule_sz),
			     class_idx, m, ex, idx, words);
		if (++n == SL_RULE_CHUNK) {
			rc = rte_acl_add_rules(ctx,
				(const struct rte_acl_rule *)buf, n);
			if (rc != 0)
				return rc;
			n = 0;
		}
		/* Next combination: an odometer over the dimensions. */
		for (d = 0; d < SL_D__COUNT; d++) {
			if (++idx[d] < ex->n[d])
				break;
			idx[d] = 0;
		}
		if (d == SL_D__COUNT)
			break;
	}
	if (n == 0)
		return 0;
	return rte_acl_add_rules(ctx, (const struct rte_acl_rule *)buf, n);
}

/* Accepts the number of address words; describes the key to rte_acl. */
static void sl_acl_config(struct rte_acl_config *cfg, uint32_t words)
{
	struct rte_acl_field_def *d = cfg->defs;
	uint32_t k, in = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->num_categories = 1;
	cfg->num_fields = SL_F_NUM(words);

	d[SL_F_PROTO] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1,
		.field_index = SL_F_PROTO, .input_index = in++,
		.offset = offsetof(struct sl_acl_key, proto) };
	for (k = 0; k < words; k++) {
		d[SL_F_DST + k] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4,
			.field_index = SL_F_DST + k, .input_index = in++,
			.offset = offsetof(struct sl_acl_key, dst) + 4 * k };
	}
	for (k = 0; k < words; k++) {
		d[SL_F_SRC(words) + k] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4,
			.field_index = SL_F_SRC(words) + k, .input_index = in++,
			.offset = offsetof(struct sl_acl_key, src) + 4 * k };
	}
	/* dport and sport share one 4-byte group. */
	d[SL_F_DPORT(words)] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2,
		.field_index = SL_F_DPORT(words), .input_index = in,
		.offset = offsetof(struct sl_acl_key, dport) };
	d[SL_F_SPORT(words)] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2,
		.field_index = SL_F_SPORT(words), .input_index = in++,
		.offset = offsetof(struct sl_acl_key, sport) };
	/* meta, tcp_flags and vlan share the last one. */
	d[SL_F_META(words)] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1,
		.field_index = SL_F_META(words), .input_index = in,
		.offset = offsetof(struct sl_acl_key, meta) };
	d[SL_F_TCP(words)] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1,
		.field_index = SL_F_TCP(words), .input_index = in,
		.offset = offsetof(struct sl_acl_key, tcp_flags) };
	d[SL_F_VLAN(words)] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2,
		.field_index = SL_F_VLAN(words), .input_index = in,
		.offset = offsetof(struct sl_acl_key, vlan) };
}

/*
 * Accepts a checked policy; counts the rules of each family and refuses
 * one that expands beyond the bounds.
 */
static int sl_count_rules(struct sl_build *b, struct sl_expand *ex,
			  uint32_t *n4, uint32_t *n6)
{
	static const uint8_t fam[2] = { SL_FAMILY_IPV4, SL_FAMILY_IPV6 };
	uint64_t total = 0, n;
	uint32_t i, f;

	*n4 = 0;
	*n6 = 0;
	for (i = 0; i < b->p->n_classes; i++) {
		const struct sl_class *cls = &b->p->classes[i];

		for (f = 0; f < 2; f++) {
			n = sl_expand_class(b, &cls->match, fam[f], ex);
			if (n > SL_CLASSIFY_CLASS_RULES_MAX) {
				snprintf(b->err, b->errlen, "class \"%s\" expands to %" PRIu64 " ACL rules for IPv%u, more than %u: split its src, dst, sport, dport, vlan or dscp lists over several classes",
					 cls->name, n, fam[f],
					 SL_CLASSIFY_CLASS_RULES_MAX);
				return -E2BIG;
			}
			total += n;
			if (total > SL_CLASSIFY_RULES_MAX) {
				snprintf(b->err, b->errlen, "policy expands to more than %u ACL rules (at class \"%s\"): use fewer or shorter lists",
					 SL_CLASSIFY_RULES_MAX, cls->name);
				return -E2BIG;
			}
			if (f == 0)
				*n4 += (uint32_t)n;
			else
				*n6 += (uint32_t)n;
		}
	}
	return 0;
}

/* Accepts a rule count > 0; creates, fills and builds one family's context. */
static struct rte_acl_ctx *sl_build_family(struct sl_build *b,
					   struct sl_expand *ex,
					   uint8_t family, uint32_t n_rules)
{
	uint32_t words = sl_words(family);
	size_t rule_sz = RTE_ACL_RULE_SZ(SL_F_NUM(words));
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param prm = {
		.name = name,
		.socket_id = b->socket_id,
		.rule_size = (uint32_t)rule_sz,
		.max_rule_num = n_rules,
	};
	struct rte_acl_config cfg;
	struct rte_acl_ctx *ctx;
	uint8_t *buf;
	uint32_t i;
	int rc = -ENOMEM;

	buf = malloc(rule_sz * SL_RULE_CHUNK);
	if (buf == NULL) {
		snprintf(b->err, b->errlen, "out of memory for IPv%u ACL rules",
			 family);
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "sl_cls%u_%u", family,
		 atomic_fetch_add(&sl_acl_seq, 1));
	ctx = rte_acl_create(&prm);
	if (ctx == NULL) {
		snprintf(b->err, b->errlen, "cannot create IPv%u ACL context for %" PRIu32 " rules on socket %d",
			 family, n_rules, b->socket_id);
		goto free_buf;
	}
	for (i = 0; i < b->p->n_classes; i++) {
		const struct sl_match *m = &b->p->classes[i].match;

		if (sl_expand_class(b, m, family, ex) == 0)
			continue;
		rc = sl_add_class(ctx, i, m, ex, words, buf);
		if (rc != 0) {
			snprintf(b->err, b->errlen, "cannot add ACL rules of class \"%s\" for IPv%u: %s",
				 b->p->classes[i].name, family,
				 strerror(-rc));
			goto free_ctx;
		}
	}
	sl_acl_config(&cfg, words);
	rc = rte_acl_build(ctx, &cfg);
	if (rc == -ENOMEM) {
		/*
		 * Without max_size rte_acl starts a new trie whenever a
		 * rule adds more than 2048 nodes, and fails beyond 8
		 * tries. With one it allows 16384: fewer, bigger tries,
		 * a slower build, but it does build.
		 */
		cfg.max_size = SIZE_MAX;
		rc = rte_acl_build(ctx, &cfg);
	}
	if (rc != 0) {
		snprintf(b->err, b->errlen, "cannot build IPv%u ACL of %" PRIu32 " rules: %s",
			 family, n_rules, strerror(-rc));
		goto free_ctx;
	}
	free(buf);
	return ctx;

free_ctx:
	rte_acl_free(ctx);
free_buf:
	free(buf);
	rte_errno = -rc;
	return NULL;
}

/* Accepts any policy pointer; refuses what the model rules out. */
static int sl_check_policy(const struct sl_policy *p, char *err,
			   size_t errlen)
{
	uint32_t i;
	int rc;

	if (p == NULL || (p->n_classes != 0 && p->classes == NULL)) {
		snprintf(err, errlen, "no policy to classify with");
		return -EINVAL;
	}
	/* Priorities run down from the maximum and must stay >= 1. */
	if (p->n_classes >= RTE_ACL_MAX_PRIORITY) {
		snprintf(err, errlen, "policy has %" PRIu32 " classes, too many",
			 p->n_classes);
		return -EINVAL;
	}
	for (i = 0; i < p->n_classes; i++) {
		rc = sl_check_class(&p->classes[i], err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Accepts a checked policy; builds a context for each family with rules. */
static struct sl_classifier *sl_build(struct sl_build *b, struct sl_expand *ex)
{
	struct sl_classifier *c;
	uint32_t n4, n6;
	int rc;

	rc = sl_count_rules(b, ex, &n4, &n6);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	c = rte_zmalloc_socket("sl_classifier", sizeof(*c), 0, b->socket_id);
	if (c == NULL) {
		snprintf(b->err, b->errlen, "out of memory for the classifier on socket %d",
			 b->socket_id);
		rte_errno = ENOMEM;
		return NULL;
	}
	c->rules4 = n4;
	c->rules6 = n6;
	/* A family without rules has no context: rte_acl cannot build one. */
	if (n4 != 0) {
		c->ctx4 = sl_build_family(b, ex, SL_FAMILY_IPV4, n4);
		if (c->ctx4 == NULL)
			goto free_classifier;
	}
	if (n6 != 0) {
		c->ctx6 = sl_build_family(b, ex, SL_FAMILY_IPV6, n6);
		if (c->ctx6 == NULL)
			goto free_classifier;
	}
	return c;

free_classifier:
	rc = rte_errno;
	sl_classifier_free(c);
	rte_errno = rc;
	return NULL;
}

/* Accepts any policy (NULL is refused); see classify.h. */
struct sl_classifier *sl_classifier_build(const struct sl_policy *p,
					  int socket_id, char *err,
					  size_t errlen)
{
	struct sl_classifier *c = NULL;
	struct sl_expand *ex;
	struct sl_build *b;
	int rc;

	rc = sl_check_policy(p, err, errlen);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	/* About 16 KiB of scratch: kept off the caller's stack. */
	b = malloc(sizeof(*b));
	ex = malloc(sizeof(*ex));
	if (b == NULL || ex == NULL) {
		snprintf(err, errlen, "out of memory building the classifier");
		rte_errno = ENOMEM;
		goto free_tmp;
	}
	*b = (struct sl_build){ .p = p, .socket_id = socket_id, .err = err,
				.errlen = errlen };
	sl_dscp_cubes_init(b->cube);
	c = sl_build(b, ex);
free_tmp:
	rc = rte_errno;
	free(ex);
	free(b);
	rte_errno = rc;
	return c;
}

/* Accepts a classifier or NULL. */
void sl_classifier_free(struct sl_classifier *c)
{
	if (c == NULL)
		return;
	rte_acl_free(c->ctx4);
	rte_acl_free(c->ctx6);
	rte_free(c);
}

/* Accepts a built classifier and SL_FAMILY_IPV4 or SL_FAMILY_IPV6. */
uint32_t sl_classifier_rules(const struct sl_classifier *c, uint8_t family)
{
	if (family == SL_FAMILY_IPV4)
		return c->rules4;
	if (family == SL_FAMILY_IPV6)
		return c->rules6;
	return 0;
}

/* Accepts a well-formed IP packet; writes the key rte_acl walks. */
static void sl_key_fill(struct sl_acl_key *k, const struct sl_pkt_meta *m)
{
	bool l4 = m->flags & SL_PKT_F_L4;
	bool vlan = m->flags & SL_PKT_F_VLAN;

	k->proto = m->proto;
	memset(k->pad, 0, sizeof(k->pad));
	memcpy(k->src, m->src, sizeof(k->src));
	memcpy(k->dst, m->dst, sizeof(k->dst));
	k->sport = rte_cpu_to_be_16(l4 ? m->sport : 0);
	k->dport = rte_cpu_to_be_16(l4 ? m->dport : 0);
	k->meta = (uint8_t)((m->dscp & 0x3f) << SL_KEY_DSCP_SHIFT) |
		  (l4 ? SL_KEY_L4 : 0) | (vlan ? SL_KEY_VLAN : 0);
	k->tcp_flags = l4 && m->proto == SL_IPPROTO_TCP ? m->tcp_flags : 0;
	k->vlan = rte_cpu_to_be_16(vlan ? m->vlan : 0);
}

/* Accepts up to SL_CLASSIFY_BURST_MAX packets. */
static void sl_classify_chunk(const struct sl_classifier *c,
			      const struct sl_pkt_meta *const *m, uint32_t n,
			      uint32_t *out)
{
	struct sl_acl_key key[SL_CLASSIFY_BURST_MAX];
	const uint8_t *data[2][SL_CLASSIFY_BURST_MAX];
	uint32_t pos[2][SL_CLASSIFY_BURST_MAX];
	uint32_t res[SL_CLASSIFY_BURST_MAX];
	struct rte_acl_ctx *ctx[2] = { c->ctx4, c->ctx6 };
	uint32_t cnt[2] = { 0, 0 };
	uint32_t i, f, j;

	for (i = 0; i < n; i++) {
		out[i] = SL_CLASS_NONE;
		if (m[i]->malformed != SL_MAL_NONE)
			continue;
		if (m[i]->family == SL_FAMILY_IPV4)
			f = 0;
		else if (m[i]->family == SL_FAMILY_IPV6)
			f = 1;
		else
			continue;
		if (ctx[f] == NULL)
			continue;
		sl_key_fill(&key[i], m[i]);
		data[f][cnt[f]] = (const uint8_t *)&key[i];
		pos[f][cnt[f]++] = i;
	}
	for (f = 0; f < 2; f++) {
		if (cnt[f] == 0)
			continue;
		rte_acl_classify(ctx[f], data[f], res, cnt[f], 1);
		for (j = 0; j < cnt[f]; j++)
			if (res[j] != 0)
				out[pos[f][j]] = res[j] - 1;
	}
}

/* Accepts any n; classifies in chunks of SL_CLASSIFY_BURST_MAX. */
void sl_classify_burst(const struct sl_classifier *c,
		       const struct sl_pkt_meta *const *m, uint32_t n,
		       uint32_t *out)
{
	uint32_t k;

	while (n != 0) {
		k = RTE_MIN(n, (uint32_t)SL_CLASSIFY_BURST_MAX);
		sl_classify_chunk(c, m, k, out);
		m += k;
		out += k;
		n -= k;
	}
}

/* Accepts a checked prefix; whether addr (network order) lies inside. */
static bool sl_prefix_holds(const struct sl_prefix *pf, const uint8_t *addr)
{
	uint32_t max = pf->family == SL_FAMILY_IPV4 ? 32 : 128;
	uint32_t len = RTE_MIN((uint32_t)pf->len, max);
	uint32_t bytes = len / 8, bits = len % 8;
	uint8_t mask;

	if (memcmp(pf->addr, addr, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - bits));
	return ((pf->addr[bytes] ^ addr[bytes]) & mask) == 0;
}

/* Accepts a prefix list; whether any entry of the packet's family holds. */
static bool sl_prefixes_hold(const struct sl_prefix *pf, uint32_t n,
			     uint8_t family, const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (pf[i].family == family && sl_prefix_holds(&pf[i], addr))
			return true;
	return false;
}

/* Accepts a range list; whether v lies in any range. */
static bool sl_ranges_hold(const struct sl_range *r, uint32_t n, uint16_t v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

/* Accepts a well-formed IP packet: the definition of a match. */
static bool sl_match_holds(const struct sl_match *mt,
			   const struct sl_pkt_meta *m)
{
	uint32_t fl = mt->fields;
	bool l4 = m->flags & SL_PKT_F_L4;

	if ((fl & SL_M_PROTO) && mt->proto != SL_PROTO_ANY &&
	    mt->proto != m->proto)
		return false;
	if ((fl & SL_M_SRC) &&
	    !sl_prefixes_hold(mt->src, mt->n_src, m->family, m->src))
		return false;
	if ((fl & SL_M_DST) &&
	    !sl_prefixes_hold(mt->dst, mt->n_dst, m->family, m->dst))
		return false;
	if ((fl & SL_M_SPORT) &&
	    !(l4 && sl_ranges_hold(mt->sport, mt->n_sport, m->sport)))
		return false;
	if ((fl & SL_M_DPORT) &&
	    !(l4 && sl_ranges_hold(mt->dport, mt->n_dport, m->dport)))
		return false;
	if ((fl & SL_M_TCP_FLAGS) &&
	    !(l4 && m->proto == SL_IPPROTO_TCP &&
	      (m->tcp_flags & mt->tcp_mask) == mt->tcp_flags))
		return false;
	if ((fl & SL_M_VLAN) &&
	    !((m->flags & SL_PKT_F_VLAN) &&
	      sl_ranges_hold(mt->vlan, mt->n_vlan, m->vlan)))
		return false;
	/* DSCP is six bits; bits above them in the meta are not looked at. */
	if ((fl & SL_M_DSCP) && !((mt->dscp >> (m->dscp & 0x3f)) & 1))
		return false;
	return true;
}

/* Accepts any policy and parsed packet; see classify.h. */
uint32_t sl_classify_reference(const struct sl_policy *p,
			       const struct sl_pkt_meta *m)
{
	uint32_t i;

	if (m->malformed != SL_MAL_NONE ||
	    (m->family != SL_FAMILY_IPV4 && m->family != SL_FAMILY_IPV6))
		return SL_CLASS_NONE;
	for (i = 0; i < p->n_classes; i++)
		if (sl_match_holds(&p->classes[i].match, m))
			return i;
	return SL_CLASS_NONE;
}
