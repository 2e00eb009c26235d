/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L3/L4 classifier: DPDK's rte_hash and rte_acl.
 *
 * Each class becomes, per address family, the cross product of its lists
 * as rules. A rule is a value and a mask over a small key (struct
 * sl_key) when each of its ranges is one aligned power-of-two block
 * (a single port, a VLAN ID, "any"); rules that share a mask are looked
 * up together in one hash table of masked keys, which holds the lowest
 * class index per key. The masks with the most rules get hash tables;
 * all other rules go to one rte_acl context per family, with the class's
 * priority (the earlier the class, the higher) and the class index + 1
 * as userdata. A packet's class is the lowest index any table or the
 * context finds: the policy's "first match wins" across all of them.
 *
 * Why: rte_acl builds a trie node of about 1.4 KiB for each byte of each
 * rule below the point where it parts from the others, so 10,000 rules
 * take it seconds; a hash table of 10,000 keys takes milliseconds and
 * one lookup per packet. decisions/0006-classifier-build.md has the
 * figures.
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
#include <time.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "classify.h"

#define SL_IPPROTO_TCP	6

/*
 * Bits of the key's meta byte: the presence flags on top and DSCP below,
 * so that "has L4" is the one byte range 0x80-0xff for rte_acl, not 128
 * ranges that each need a 256-entry node.
 */
#define SL_KEY_L4	0x80
#define SL_KEY_VLAN	0x40
#define SL_KEY_DSCP	0x3f

/*
 * What one packet is looked up by. rte_acl wants a one-byte first field
 * and then groups of 4 bytes, each group exactly filled by its fields;
 * multi-byte fields in network order. IPv4 uses the first 4 bytes of
 * src and dst, so one key type serves both families. sport comes before
 * dport in their group: rte_acl builds far fewer nodes when a field that
 * most rules leave open comes before one that tells them apart.
 */
struct sl_key {
	uint8_t proto;		/* the one-byte first field */
	uint8_t pad[3];		/* aligns the 4-byte groups */
	uint8_t dst[16];
	uint8_t src[16];
	rte_be16_t sport;	/* 0 without SL_KEY_L4 */
	rte_be16_t dport;
	uint8_t meta;		/* SL_KEY_L4 | SL_KEY_VLAN | DSCP */
	uint8_t tcp;		/* flags in key order, 0 unless TCP with L4 */
	rte_be16_t vlan;	/* 0 without SL_KEY_VLAN */
	uint32_t pad2;		/* zero: room for a hash key's padding */
};

#define SL_KEY_WORDS	12

/* A key as the 4-byte words that hash lookups gather and mask. */
union sl_keyw {
	struct sl_key k;
	uint32_t w[SL_KEY_WORDS];
};

static_assert(sizeof(struct sl_key) == 4 * SL_KEY_WORDS, "key layout");
static_assert(offsetof(struct sl_key, sport) % 4 == 0, "port group");
static_assert(offsetof(struct sl_key, meta) % 4 == 0, "meta group");

/* Rules handed to rte_acl_add_rules() at once. */
#define SL_RULE_CHUNK	256

/* Distinct masks a build counts rules of, per family; more stay in rte_acl. */
#define SL_MASKS_MAX	1024

/*
 * Field order for rte_acl (sl_groups_order): a group that fewer than 1
 * in SL_ORDER_FEW_DIV rules set goes last; rules below which distinct
 * values are not counted, and how many a group is counted up to.
 */
#define SL_ORDER_FEW_DIV	8
#define SL_ORDER_RULES_MIN	256
#define SL_DISTINCT_MAX		16384

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
	uint64_t dscp_set;		/* what dscp_* cover; 0: nothing yet */
	uint32_t dscp_n;
	uint8_t dscp_val[64];
	uint8_t dscp_msk[64];
};

/* One rule: one combination of a class's lists, in key terms. */
struct sl_rule {
	uint32_t cls;
	uint8_t proto_val;
	uint8_t proto_msk;
	uint8_t meta_val;
	uint8_t meta_msk;
	uint8_t tcp_val;		/* key order */
	uint8_t tcp_msk;
	const struct sl_prefix *src;	/* NULL: any */
	const struct sl_prefix *dst;
	struct sl_range sport;		/* 0-65535: any */
	struct sl_range dport;
	struct sl_range vlan;
};

/*
 * The 4-byte groups of the key that an rte_acl context may use, beside
 * proto: dst and src words, ports, and the rest (meta, tcp, vlan).
 */
enum {
	SL_G_DST = 0,		/* + word, 0..3 */
	SL_G_SRC = 4,		/* + word */
	SL_G_PORTS = 8,
	SL_G_MISC = 9,
	SL_G__COUNT
};

/* What one rte_acl field holds. */
enum {
	SL_FK_PROTO,
	SL_FK_DST,
	SL_FK_SRC,
	SL_FK_SPORT,
	SL_FK_DPORT,
	SL_FK_META,
	SL_FK_TCP,
	SL_FK_VLAN,
};

/* proto, 4 + 4 address words, 2 ports, meta, tcp, vlan */
#define SL_FIELDS_MAX	14

/* The fields of one context, in trie order. */
struct sl_layout {
	uint32_t n;
	uint8_t kind[SL_FIELDS_MAX];
	uint8_t word[SL_FIELDS_MAX];	/* of an address */
	bool l4_flag;			/* rules test SL_KEY_L4 */
	struct rte_acl_config cfg;
};

/*
 * A hash table of the rules that share one mask. Its keys are the key
 * words the mask keeps, masked, zero-padded to a multiple of 16 bytes:
 * a 16-byte key hashes and compares in a third of the time of a whole
 * one, and takes a third of the cache. A bit per hash value (a Bloom
 * filter of one hash) turns away most packets that the table does not
 * hold before the lookup: they cost a hash, not a lookup.
 */
struct sl_table {
	struct rte_hash *h;	/* gathered key -> lowest class index */
	uint64_t *seen;		/* bit of each key's hash held */
	uint32_t seen_shift;	/* 32 - log2(bits) */
	uint32_t n_words;	/* words the mask keeps */
	uint32_t key_words;	/* n_words rounded up to 4 */
	uint8_t word[SL_KEY_WORDS];
	uint32_t msk[SL_KEY_WORDS];
	uint32_t rules;
};

/* What one family's packets are looked up in. */
struct sl_family {
	struct sl_table table[SL_CLASSIFY_HASH_TABLES_MAX];
	uint32_t n_tables;
	struct rte_acl_ctx *acl;	/* NULL when no rule is left to it */
	uint32_t rules;
	uint32_t hash_rules;
	uint32_t acl_rules;
	uint32_t acl_fields;
};

/* Read-only once built: any number of lcores classify with it at once. */
struct sl_classifier {
	struct sl_family fam[2];	/* IPv4, IPv6 */
	uint64_t build_ns;
};

/* How many rules of one family share a mask, and the table they go to. */
struct sl_mask_stat {
	union sl_keyw msk;
	uint32_t rules;
	int32_t table;		/* -1: none, the rules go to rte_acl */
};

/* One family's build. */
struct sl_fam_build {
	uint8_t family;
	uint32_t words;			/* of an address */
	struct sl_family *out;
	struct rte_hash *masks;		/* mask -> index into mask[] */
	struct sl_mask_stat *mask;
	uint32_t n_masks;
	int32_t last;			/* mask[] index the last rule had */
	/* rules left to rte_acl: which groups they use */
	uint32_t used[SL_G__COUNT];
	uint32_t misc_l4_only;		/* rules whose misc group is SL_KEY_L4 */
	struct rte_hash *seen[SL_G__COUNT];	/* values seen per group */
	uint64_t prev[SL_G__COUNT];		/* the last rule's values */
	uint32_t distinct[SL_G__COUNT];
	bool l4_flag;
	struct sl_layout lay;
	uint8_t *buf;			/* SL_RULE_CHUNK rules */
	uint32_t n_buf;
};

/* What a build needs besides the policy. */
struct sl_build {
	const struct sl_policy *p;
	int socket_id;
	const struct sl_classify_opts *o;
	char *err;
	size_t errlen;
	struct sl_expand ex;
	struct sl_dscp_cube cube[SL_DSCP_CUBES];
};

/*
 * Makes every rte_acl context and rte_hash name unique: rte_acl_create()
 * hands back an existing context of the same name instead of a new one.
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

/* Accepts a part (checked) and a match; whether the part holds its class. */
static bool sl_part_has(uint32_t part, const struct sl_match *m)
{
	bool payload = m->fields & SL_M_PAYLOAD;

	return part == SL_CLASSIFY_ALL ||
	       (part == SL_CLASSIFY_PAYLOAD) == payload;
}

/*
 * Accepts a checked class; works out its lists for one family. Returns
 * the number of rules: their product, or 0 when the class can never
 * match a packet of that family or is not in the part being built.
 */
static uint64_t sl_expand_class(const struct sl_build *b,
				const struct sl_match *m, uint8_t family,
				struct sl_expand *ex)
{
	uint64_t total = 1;
	uint32_t d;

	for (d = 0; d < SL_D__COUNT; d++)
		ex->n[d] = 1;
	if (!sl_part_has(b->o->part, m))
		return 0;
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
	/* Policies repeat a few DSCP sets: keep the last cover. */
	if ((m->fields & SL_M_DSCP) && m->dscp != 0 &&
	    m->dscp != ex->dscp_set) {
		ex->dscp_n = sl_dscp_cover(b->cube, m->dscp, ex->dscp_val,
					   ex->dscp_msk);
		ex->dscp_set = m->dscp;
	}
	if (m->fields & SL_M_DSCP)
		ex->n[SL_D_DSCP] = m->dscp == 0 ? 0 : ex->dscp_n;
	/* At most 256^5 * 64: no overflow. */
	for (d = 0; d < SL_D__COUNT; d++)
		total *= ex->n[d];
	return total;
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

/*
 * Accepts TCP flags as in the header; moves the bits that policies test
 * most (SYN, ACK, RST, FIN) to the top, so that a mask of them is a few
 * byte ranges for rte_acl rather than dozens.
 */
static inline uint8_t sl_tcp_key(uint8_t f)
{
	return (uint8_t)((f & SL_TCP_SYN) << 6 | (f & SL_TCP_ACK) << 2 |
			 (f & SL_TCP_RST) << 3 | (f & SL_TCP_FIN) << 4 |
			 (f & SL_TCP_PSH) | (f & SL_TCP_URG) >> 3 |
			 (f & SL_TCP_ECE) >> 5 | (f & SL_TCP_CWR) >> 7);
}

/* Accepts one combination idx[] of a class's expanded lists; its rule. */
static void sl_rule_make(struct sl_rule *r, uint32_t cls,
			 const struct sl_match *m, const struct sl_expand *ex,
			 const uint32_t *idx)
{
	static const struct sl_range any = { 0, UINT16_MAX };

	memset(r, 0, sizeof(*r));
	r->cls = cls;
	if (m->fields & SL_M_TCP_FLAGS) {
		r->proto_val = SL_IPPROTO_TCP;
		r->proto_msk = 0xff;
	} else if ((m->fields & SL_M_PROTO) && m->proto != SL_PROTO_ANY) {
		r->proto_val = (uint8_t)m->proto;
		r->proto_msk = 0xff;
	}
	r->src = (m->fields & SL_M_SRC) ? ex->src[idx[SL_D_SRC]] : NULL;
	r->dst = (m->fields & SL_M_DST) ? ex->dst[idx[SL_D_DST]] : NULL;
	r->sport = (m->fields & SL_M_SPORT) ? m->sport[idx[SL_D_SPORT]] : any;
	r->dport = (m->fields & SL_M_DPORT) ? m->dport[idx[SL_D_DPORT]] : any;
	r->vlan = (m->fields & SL_M_VLAN) ? m->vlan[idx[SL_D_VLAN]] : any;
	if (m->fields & (SL_M_SPORT | SL_M_DPORT | SL_M_TCP_FLAGS)) {
		r->meta_val |= SL_KEY_L4;
		r->meta_msk |= SL_KEY_L4;
	}
	if (m->fields & SL_M_VLAN) {
		r->meta_val |= SL_KEY_VLAN;
		r->meta_msk |= SL_KEY_VLAN;
	}
	if (m->fields & SL_M_DSCP) {
		r->meta_val |= ex->dscp_val[idx[SL_D_DSCP]];
		r->meta_msk |= ex->dscp_msk[idx[SL_D_DSCP]];
	}
	if (m->fields & SL_M_TCP_FLAGS) {
		r->tcp_val = sl_tcp_key(m->tcp_flags);
		r->tcp_msk = sl_tcp_key(m->tcp_mask);
	}
}

/* Accepts a range; whether it is one aligned power-of-two block, and which. */
static bool sl_block(const struct sl_range *r, rte_be16_t *val,
		     rte_be16_t *msk)
{
	uint32_t size = (uint32_t)r->hi - r->lo + 1;

	if ((size & (size - 1)) != 0 || (r->lo & (size - 1)) != 0)
		return false;
	*val = rte_cpu_to_be_16(r->lo);
	*msk = rte_cpu_to_be_16((uint16_t)~(size - 1));
	return true;
}

/* Accepts a checked prefix or NULL (any); its bytes under its mask. */
static void sl_prefix_bytes(const struct sl_prefix *pf, uint8_t *val,
			    uint8_t *msk)
{
	uint32_t i, bits;

	if (pf == NULL)
		return;
	for (i = 0, bits = pf->len; i < 16 && bits > 0; i++) {
		msk[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		val[i] = pf->addr[i] & msk[i];
		bits -= RTE_MIN(bits, 8u);
	}
}

/*
 * Accepts a rule; whether it is exact under a mask (each range one
 * block), and if so the value and mask it holds a packet's key to.
 */
static bool sl_rule_exact(const struct sl_rule *r, union sl_keyw *val,
			  union sl_keyw *msk)
{
	memset(val, 0, sizeof(*val));
	memset(msk, 0, sizeof(*msk));
	if (!sl_block(&r->sport, &val->k.sport, &msk->k.sport) ||
	    !sl_block(&r->dport, &val->k.dport, &msk->k.dport) ||
	    !sl_block(&r->vlan, &val->k.vlan, &msk->k.vlan))
		return false;
	val->k.proto = r->proto_val;
	msk->k.proto = r->proto_msk;
	sl_prefix_bytes(r->src, val->k.src, msk->k.src);
	sl_prefix_bytes(r->dst, val->k.dst, msk->k.dst);
	val->k.meta = r->meta_val;
	msk->k.meta = r->meta_msk;
	val->k.tcp = r->tcp_val;
	msk->k.tcp = r->tcp_msk;
	return true;
}

/* Accepts a table's mask; notes which key words it keeps. */
static void sl_table_words(struct sl_table *t, const union sl_keyw *msk)
{
	uint32_t i;

	t->n_words = 0;
	for (i = 0; i < SL_KEY_WORDS; i++) {
		if (msk->w[i] == 0)
			continue;
		t->word[t->n_words] = (uint8_t)i;
		t->msk[t->n_words++] = msk->w[i];
	}
	/* an empty mask (a class that matches everything) still needs a key */
	t->key_words = RTE_ALIGN_CEIL(RTE_MAX(t->n_words, 1u), 4u);
}

/* Accepts a key; gathers what table t keeps of it into out. */
static inline void sl_table_key(const struct sl_table *t,
				const union sl_keyw *key, union sl_keyw *out)
{
	uint32_t i;

	for (i = 0; i < t->n_words; i++)
		out->w[i] = key->w[t->word[i]] & t->msk[i];
	for (; i < t->key_words; i++)
		out->w[i] = 0;
}

/* Accepts a key gathered for table t; its hash, as rte_hash computes it. */
static inline hash_sig_t sl_table_sig(const struct sl_table *t,
				      const union sl_keyw *k)
{
	return rte_hash_crc(k, 4 * t->key_words, 0);
}

/* Accepts a key's hash; its bit in table t's filter. */
static inline uint32_t sl_table_bit(const struct sl_table *t, hash_sig_t sig)
{
	/* mixed, so that it is not the bits rte_hash picks buckets by */
	return (sig * UINT32_C(0x9e3779b1)) >> t->seen_shift;
}

/* What a build does with each rule of one family, in class order. */
typedef int (*sl_rule_fn)(struct sl_build *b, struct sl_fam_build *fb,
			  const struct sl_rule *r);

/* Accepts a checked policy; calls fn for every rule of fb's family. */
static int sl_each_rule(struct sl_build *b, struct sl_fam_build *fb,
			sl_rule_fn fn)
{
	const struct sl_match *m;
	uint32_t idx[SL_D__COUNT];
	struct sl_rule r;
	uint32_t i, d;
	int rc;

	for (i = 0; i < b->p->n_classes; i++) {
		m = &b->p->classes[i].match;
		if (sl_expand_class(b, m, fb->family, &b->ex) == 0)
			continue;
		memset(idx, 0, sizeof(idx));
		for (;;) {
			sl_rule_make(&r, i, m, &b->ex, idx);
			rc = fn(b, fb, &r);
			if (rc != 0)
				return rc;
			/* Next combination: an odometer over the dimensions. */
			for (d = 0; d < SL_D__COUNT; d++) {
				if (++idx[d] < b->ex.n[d])
					break;
				idx[d] = 0;
			}
			if (d == SL_D__COUNT)
				break;
		}
	}
	return 0;
}

/*
 * Accepts a mask; its index in fb's mask table, added if new and there
 * is room, -1 if not.
 */
static int32_t sl_mask_find(struct sl_fam_build *fb, const union sl_keyw *msk,
			    bool add)
{
	void *data;
	int32_t i;

	/* Neighbouring rules mostly share a mask: skip the hash then. */
	if (fb->last >= 0 &&
	    memcmp(&fb->mask[fb->last].msk, msk, sizeof(*msk)) == 0)
		return fb->last;
	if (rte_hash_lookup_data(fb->masks, msk, &data) >= 0) {
		fb->last = (int32_t)(uintptr_t)data;
		return fb->last;
	}
	if (!add || fb->n_masks == SL_MASKS_MAX)
		return -1;
	i = (int32_t)fb->n_masks;
	if (rte_hash_add_key_data(fb->masks, msk, (void *)(uintptr_t)i) != 0)
		return -1;
	fb->mask[i].msk = *msk;
	fb->mask[i].rules = 0;
	fb->mask[i].table = -1;
	fb->n_masks++;
	fb->last = i;
	return i;
}

/* Pass 1: how many rules each mask has. */
static int sl_rule_count(struct sl_build *b, struct sl_fam_build *fb,
			 const struct sl_rule *r)
{
	union sl_keyw val, msk;
	int32_t i;

	RTE_SET_USED(b);
	if (!sl_rule_exact(r, &val, &msk))
		return 0;
	i = sl_mask_find(fb, &msk, true);
	if (i >= 0)
		fb->mask[i].rules++;
	return 0;
}

/* Accepts a rule; the hash table it goes to, or NULL for rte_acl. */
static struct sl_table *sl_rule_table(struct sl_fam_build *fb,
				      const struct sl_rule *r,
				      union sl_keyw *val)
{
	union sl_keyw msk;
	int32_t i;

	if (fb->out->n_tables == 0 || !sl_rule_exact(r, val, &msk))
		return NULL;
	i = sl_mask_find(fb, &msk, false);
	if (i < 0 || fb->mask[i].table < 0)
		return NULL;
	return &fb->out->table[fb->mask[i].table];
}

/* Accepts an address prefix or NULL; whether word w of it is open. */
static bool sl_word_open(const struct sl_prefix *pf, uint32_t w)
{
	return pf == NULL || pf->len <= 32 * w;
}

/* Pass 2: which key groups the rules left to rte_acl use. */
static int sl_rule_use(struct sl_build *b, struct sl_fam_build *fb,
		       const struct sl_rule *r)
{
	union sl_keyw val;
	uint32_t w;
	bool misc;

	RTE_SET_USED(b);
	if (sl_rule_table(fb, r, &val) != NULL)
		return 0;
	fb->out->acl_rules++;
	for (w = 0; w < fb->words; w++) {
		fb->used[SL_G_DST + w] += !sl_word_open(r->dst, w);
		fb->used[SL_G_SRC + w] += !sl_word_open(r->src, w);
	}
	fb->used[SL_G_PORTS] += r->sport.lo != 0 ||
				r->sport.hi != UINT16_MAX ||
				r->dport.lo != 0 || r->dport.hi != UINT16_MAX;
	misc = (r->meta_msk & ~SL_KEY_L4) != 0 || r->tcp_msk != 0 ||
	       r->vlan.lo != 0 || r->vlan.hi != UINT16_MAX;
	fb->used[SL_G_MISC] += misc;
	fb->misc_l4_only += !misc && (r->meta_msk & SL_KEY_L4);
	/*
	 * A packet without L4 has zero ports and flags in its key. Only a
	 * rule that would take those zeros for a match needs the flag
	 * tested: ports from 0 and flags that are to be clear.
	 */
	if ((r->meta_msk & SL_KEY_L4) && r->sport.lo == 0 &&
	    r->dport.lo == 0 && r->tcp_val == 0)
		fb->l4_flag = true;
	return 0;
}
/* Accepts a layout; appends one field of a kind (and address word). */
static void sl_layout_add(struct sl_layout *lay, uint8_t kind, uint8_t type,
			  uint8_t size, uint32_t offset, uint32_t input,
			  uint8_t word)
{
	uint32_t n = lay->n++;

	lay->kind[n] = kind;
	lay->word[n] = word;
	lay->cfg.defs[n] = (struct rte_acl_field_def){
		.type = type, .size = size, .field_index = (uint8_t)n,
		.input_index = (uint8_t)input, .offset = offset };
}

/* Accepts a group; appends its fields as one rte_acl input word. */
static void sl_layout_group(struct sl_layout *lay, uint32_t g,
			    uint32_t input)
{
	uint32_t w;

	if (g < SL_G_SRC) {
		w = g - SL_G_DST;
		sl_layout_add(lay, SL_FK_DST, RTE_ACL_FIELD_TYPE_MASK, 4,
			      offsetof(struct sl_key, dst) + 4 * w, input,
			      (uint8_t)w);
	} else if (g < SL_G_PORTS) {
		w = g - SL_G_SRC;
		sl_layout_add(lay, SL_FK_SRC, RTE_ACL_FIELD_TYPE_MASK, 4,
			      offsetof(struct sl_key, src) + 4 * w, input,
			      (uint8_t)w);
	} else if (g == SL_G_PORTS) {
		sl_layout_add(lay, SL_FK_SPORT, RTE_ACL_FIELD_TYPE_RANGE, 2,
			      offsetof(struct sl_key, sport), input, 0);
		sl_layout_add(lay, SL_FK_DPORT, RTE_ACL_FIELD_TYPE_RANGE, 2,
			      offsetof(struct sl_key, dport), input, 0);
	} else {
		sl_layout_add(lay, SL_FK_META, RTE_ACL_FIELD_TYPE_BITMASK, 1,
			      offsetof(struct sl_key, meta), input, 0);
		sl_layout_add(lay, SL_FK_TCP, RTE_ACL_FIELD_TYPE_BITMASK, 1,
			      offsetof(struct sl_key, tcp), input, 0);
		sl_layout_add(lay, SL_FK_VLAN, RTE_ACL_FIELD_TYPE_RANGE, 2,
			      offsetof(struct sl_key, vlan), input, 0);
	}
}

/* Accepts a prefix (or NULL for any) and sets one address word. */
static void sl_acl_word(struct rte_acl_field *f, const struct sl_prefix *pf,
			uint32_t w)
{
	uint32_t v;
	int len;

	if (pf == NULL)
		return;
	len = pf->len - 32 * (int)w;
	if (len <= 0)
		return;
	/* Rules are in host order, keys in network order. */
	memcpy(&v, pf->addr + 4 * w, sizeof(v));
	f->value.u32 = rte_be_to_cpu_32(v);
	f->mask_range.u32 = (uint32_t)RTE_MIN(len, 32);
}

/* Accepts a rule and a group; what the rule holds there, as one number. */
static uint64_t sl_group_value(const struct sl_fam_build *fb,
			       const struct sl_rule *r, uint32_t g)
{
	struct rte_acl_field f = { 0 };
	uint8_t meta_msk = r->meta_msk;

	if (g < SL_G_PORTS) {
		sl_acl_word(&f, g < SL_G_SRC ? r->dst : r->src, g & 3);
		return f.value.u32 | (uint64_t)f.mask_range.u32 << 32;
	}
	if (g == SL_G_PORTS)
		return (uint64_t)r->sport.lo | (uint64_t)r->sport.hi << 16 |
		       (uint64_t)r->dport.lo << 32 |
		       (uint64_t)r->dport.hi << 48;
	if (!fb->l4_flag)
		meta_msk &= (uint8_t)~SL_KEY_L4;
	return (uint64_t)(r->meta_val & meta_msk) |
	       (uint64_t)meta_msk << 8 | (uint64_t)r->tcp_val << 16 |
	       (uint64_t)r->tcp_msk << 24 | (uint64_t)r->vlan.lo << 32 |
	       (uint64_t)r->vlan.hi << 48;
}

/* Pass 2b: how many distinct values each used group has (up to a cap). */
static int sl_rule_distinct(struct sl_build *b, struct sl_fam_build *fb,
			    const struct sl_rule *r)
{
	union sl_keyw val;
	uint64_t v;
	uint32_t g;

	RTE_SET_USED(b);
	if (sl_rule_table(fb, r, &val) != NULL)
		return 0;
	for (g = 0; g < SL_G__COUNT; g++) {
		if (fb->seen[g] == NULL || fb->distinct[g] >= SL_DISTINCT_MAX)
			continue;
		v = sl_group_value(fb, r, g);
		/* Neighbouring rules often agree: skip the hash then. */
		if (fb->distinct[g] != 0 && v == fb->prev[g])
			continue;
		fb->prev[g] = v;
		if (rte_hash_lookup(fb->seen[g], &v) >= 0)
			continue;
		if (rte_hash_add_key(fb->seen[g], &v) < 0)
			return -ENOMEM;
		fb->distinct[g]++;
	}
	return 0;
}

/*
 * Accepts the groups in use; counts the distinct values of each and
 * sorts them, fewest first (a stable sort: ties keep their order).
 */
static int sl_groups_by_distinct(struct sl_build *b, struct sl_fam_build *fb,
				 uint32_t *order, uint32_t n)
{
	struct rte_hash_parameters hp = {
		.entries = SL_DISTINCT_MAX,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.socket_id = b->socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	char name[RTE_HASH_NAMESIZE];
	uint32_t i, j, t;
	int rc = 0;

	hp.name = name;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(name, sizeof(name), "sl_grp%u_%u", fb->family,
			 atomic_fetch_add(&sl_acl_seq, 1));
		fb->seen[order[i]] = rte_hash_create(&hp);
		if (fb->seen[order[i]] == NULL)
			rc = -rte_errno;
	}
	if (rc == 0)
		rc = sl_each_rule(b, fb, sl_rule_distinct);
	for (i = 0; i < SL_G__COUNT; i++) {
		rte_hash_free(fb->seen[i]);
		fb->seen[i] = NULL;
	}
	if (rc != 0) {
		snprintf(b->err, b->errlen, "out of memory ordering IPv%u ACL fields",
			 fb->family);
		return rc;
	}
	for (i = 1; i < n; i++) {
		t = order[i];
		for (j = i; j > 0 && fb->distinct[order[j - 1]] >
				     fb->distinct[t]; j--)
			order[j] = order[j - 1];
		order[j] = t;
	}
	return 0;
}

/*
 * Accepts the group use of the rules left to rte_acl; picks the groups
 * some rule uses, in trie order.
 *
 * The order decides how many trie nodes rte_acl makes, and a bad one
 * makes it build for minutes. rte_acl adds the rules that leave the most
 * open first; a rule that then sets a group the others leave open gets
 * a copy of their whole subtrie below it, and each rule after it that
 * leaves the group open is merged into every such copy. So a group that
 * few rules set, high up in the trie, multiplies the work. Groups that
 * fewer than 1 in SL_ORDER_FEW_DIV rules set therefore go last, each
 * part in key order (dst, src, ports, the rest). On 18,000 random
 * policies this cut the slowest build from 59 s (220 s before this
 * layout) to 3 s and the total by a third; sorting all groups by how
 * many rules set them did worse either way round (decision 0006).
 *
 * Where every rule sets every group used (the usual case for what the
 * hash tables leave: classes of one shape with ranges), groups with few
 * distinct values go first, so that rules share the upper levels: a
 * third of the time on the 10,000-class design-example policy.
 */
static int sl_groups_order(struct sl_build *b, struct sl_fam_build *fb,
			   uint32_t *order, uint32_t *n)
{
	uint32_t few[SL_G__COUNT], n_few = 0, g;
	uint32_t rules = fb->out->acl_rules;
	bool uniform = true;

	if (fb->l4_flag)
		fb->used[SL_G_MISC] += fb->misc_l4_only;
	*n = 0;
	for (g = 0; g < SL_G__COUNT; g++) {
		if (g < SL_G_PORTS && (g & 3) >= fb->words)
			continue;
		if (fb->used[g] == 0)
			continue;
		uniform &= fb->used[g] == rules;
		if ((uint64_t)fb->used[g] * SL_ORDER_FEW_DIV < rules)
			few[n_few++] = g;
		else
			order[(*n)++] = g;
	}
	memcpy(order + *n, few, n_few * sizeof(*few));
	*n += n_few;
	if (!uniform || rules < SL_ORDER_RULES_MIN)
		return 0;
	return sl_groups_by_distinct(b, fb, order, *n);
}

/* Accepts groups in trie order; lays out proto and their fields. */
static void sl_layout_make(struct sl_fam_build *fb, const uint32_t *order,
			   uint32_t n)
{
	struct sl_layout *lay = &fb->lay;
	uint32_t i;

	memset(lay, 0, sizeof(*lay));
	lay->l4_flag = fb->l4_flag;
	sl_layout_add(lay, SL_FK_PROTO, RTE_ACL_FIELD_TYPE_BITMASK, 1,
		      offsetof(struct sl_key, proto), 0, 0);
	for (i = 0; i < n; i++)
		sl_layout_group(lay, order[i], i + 1);
	lay->cfg.num_categories = 1;
	lay->cfg.num_fields = lay->n;
}

/* Accepts a rule; writes it as an rte_acl rule of layout lay. */
static void sl_acl_fill(struct rte_acl_rule *ar, const struct sl_layout *lay,
			const struct sl_rule *r)
{
	uint8_t meta_msk = r->meta_msk;
	struct rte_acl_field *f;
	uint32_t i;

	if (!lay->l4_flag)
		meta_msk &= (uint8_t)~SL_KEY_L4;
	memset(ar, 0, RTE_ACL_RULE_SZ(lay->n));
	ar->data.category_mask = 1;
	ar->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - r->cls);
	ar->data.userdata = r->cls + 1;
	for (i = 0; i < lay->n; i++) {
		f = &ar->field[i];
		switch (lay->kind[i]) {
		case SL_FK_PROTO:
			f->value.u8 = r->proto_val;
			f->mask_range.u8 = r->proto_msk;
			break;
		case SL_FK_DST:
			sl_acl_word(f, r->dst, lay->word[i]);
			break;
		case SL_FK_SRC:
			sl_acl_word(f, r->src, lay->word[i]);
			break;
		case SL_FK_SPORT:
			f->value.u16 = r->sport.lo;
			f->mask_range.u16 = r->sport.hi;
			break;
		case SL_FK_DPORT:
			f->value.u16 = r->dport.lo;
			f->mask_range.u16 = r->dport.hi;
			break;
		case SL_FK_META:
			f->value.u8 = r->meta_val & meta_msk;
			f->mask_range.u8 = meta_msk;
			break;
		case SL_FK_TCP:
			f->value.u8 = r->tcp_val;
			f->mask_range.u8 = r->tcp_msk;
			break;
		default:
			f->value.u16 = r->vlan.lo;
			f->mask_range.u16 = r->vlan.hi;
			break;
		}
	}
}

/* Accepts a context with room; hands it the rules buffered so far. */
static int sl_acl_flush(struct sl_build *b, struct sl_fam_build *fb)
{
	int rc;

	if (fb->n_buf == 0)
		return 0;
	rc = rte_acl_add_rules(fb->out->acl,
			       (const struct rte_acl_rule *)fb->buf,
			       fb->n_buf);
	fb->n_buf = 0;
	if (rc != 0)
		snprintf(b->err, b->errlen, "cannot add IPv%u ACL rules: %s",
			 fb->family, strerror(-rc));
	return rc;
}

/* Pass 3: puts a rule in its hash table or in the rte_acl context. */
static int sl_rule_add(struct sl_build *b, struct sl_fam_build *fb,
		       const struct sl_rule *r)
{
	size_t rule_sz = RTE_ACL_RULE_SZ(fb->lay.n);
	union sl_keyw val, key;
	struct sl_table *t;
	uint32_t bit;
	void *data;
	int rc;

	t = sl_rule_table(fb, r, &val);
	if (t == NULL) {
		sl_acl_fill((struct rte_acl_rule *)(fb->buf +
						    fb->n_buf * rule_sz),
			    &fb->lay, r);
		if (++fb->n_buf == SL_RULE_CHUNK)
			return sl_acl_flush(b, fb);
		return 0;
	}
	sl_table_key(t, &val, &key);
	bit = sl_table_bit(t, sl_table_sig(t, &key));
	t->seen[bit / 64] |= UINT64_C(1) << (bit % 64);
	/* Classes come in order: a key already there has the lower index. */
	if (rte_hash_lookup_data(t->h, &key, &data) >= 0)
		return 0;
	rc = rte_hash_add_key_data(t->h, &key, (void *)(uintptr_t)r->cls);
	if (rc != 0)
		snprintf(b->err, b->errlen, "cannot add a rule of class \"%s\" to an IPv%u hash table: %s",
			 b->p->classes[r->cls].name, fb->family,
			 strerror(-rc));
	return rc;
}
/*
 * Accepts n keys; gathers what table t keeps of each, a word of all of
 * them at a time (the loop over packets has no dependencies).
 */
static void sl_table_keys(const struct sl_table *t, const union sl_keyw *key,
			  uint32_t n, union sl_keyw *out)
{
	uint32_t i, j, w, msk;

	for (i = 0; i < t->n_words; i++) {
		w = t->word[i];
		msk = t->msk[i];
		for (j = 0; j < n; j++)
			out[j].w[i] = key[j].w[w] & msk;
	}
	for (; i < t->key_words; i++)
		for (j = 0; j < n; j++)
			out[j].w[i] = 0;
}

/* Accepts counted masks; gives those with the most rules hash tables. */
static void sl_tables_pick(struct sl_build *b, struct sl_fam_build *fb)
{
	uint32_t min = RTE_MAX(b->o->hash_rules_min, 1u), t, i;
	struct sl_mask_stat *ms;
	int32_t best;

	for (t = 0; t < b->o->hash_tables; t++) {
		best = -1;
		for (i = 0; i < fb->n_masks; i++) {
			ms = &fb->mask[i];
			if (ms->table < 0 && ms->rules >= min &&
			    (best < 0 || ms->rules > fb->mask[best].rules))
				best = (int32_t)i;
		}
		if (best < 0)
			break;
		ms = &fb->mask[best];
		ms->table = (int32_t)t;
		sl_table_words(&fb->out->table[t], &ms->msk);
		fb->out->table[t].rules = ms->rules;
		fb->out->hash_rules += ms->rules;
	}
	fb->out->n_tables = t;
}

/* Accepts a name prefix; an rte_hash of key_len-byte keys for n entries. */
static struct rte_hash *sl_hash_create(struct sl_build *b, uint8_t family,
				       const char *what, uint32_t n,
				       uint32_t key_len)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		/* rte_hash wants a few buckets' worth at least */
		.entries = RTE_MAX(n, 64u),
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = b->socket_id,
		/* room for every key, however they collide */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash *h;

	snprintf(name, sizeof(name), "sl_%s%u_%u", what, family,
		 atomic_fetch_add(&sl_acl_seq, 1));
	h = rte_hash_create(&hp);
	if (h == NULL)
		snprintf(b->err, b->errlen, "cannot create an IPv%u hash table for %" PRIu32 " entries on socket %d: %s",
			 family, n, b->socket_id, rte_strerror(rte_errno));
	return h;
}

/*
 * Accepts a table; creates its filter: 16 bits per rule (a false hit
 * one time in 17) from 4 KiB to 512 KiB.
 */
static int sl_filter_create(struct sl_build *b, struct sl_fam_build *fb,
			    struct sl_table *t)
{
	uint32_t log2 = 15;

	while (log2 < 22 && (UINT32_C(1) << log2) < 16 * t->rules)
		log2++;
	t->seen = rte_zmalloc_socket("sl_filter", (UINT32_C(1) << log2) / 8,
				     RTE_CACHE_LINE_SIZE, b->socket_id);
	if (t->seen == NULL) {
		snprintf(b->err, b->errlen, "out of memory for an IPv%u hash table's filter on socket %d",
			 fb->family, b->socket_id);
		return -ENOMEM;
	}
	t->seen_shift = 32 - log2;
	return 0;
}

/* Accepts picked tables; creates them. */
static int sl_tables_create(struct sl_build *b, struct sl_fam_build *fb)
{
	struct sl_table *t;
	uint32_t i;

	for (i = 0; i < fb->out->n_tables; i++) {
		t = &fb->out->table[i];
		t->h = sl_hash_create(b, fb->family, "cls", t->rules,
				      4 * t->key_words);
		if (t->h == NULL)
			return -rte_errno;
		if (sl_filter_create(b, fb, t) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Accepts a layout and a rule count > 0; creates the rte_acl context. */
static int sl_acl_create(struct sl_build *b, struct sl_fam_build *fb)
{
	size_t rule_sz = RTE_ACL_RULE_SZ(fb->lay.n);
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param prm = {
		.name = name,
		.socket_id = b->socket_id,
		.rule_size = (uint32_t)rule_sz,
		.max_rule_num = fb->out->acl_rules,
	};

	fb->buf = malloc(rule_sz * SL_RULE_CHUNK);
	if (fb->buf == NULL) {
		snprintf(b->err, b->errlen, "out of memory for IPv%u ACL rules",
			 fb->family);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "sl_cls%u_%u", fb->family,
		 atomic_fetch_add(&sl_acl_seq, 1));
	fb->out->acl = rte_acl_create(&prm);
	if (fb->out->acl == NULL) {
		snprintf(b->err, b->errlen, "cannot create IPv%u ACL context for %" PRIu32 " rules on socket %d",
			 fb->family, fb->out->acl_rules, b->socket_id);
		return -rte_errno;
	}
	return 0;
}

/* Accepts a filled context; builds its tries. */
static int sl_acl_build(struct sl_build *b, struct sl_fam_build *fb)
{
	struct rte_acl_config cfg = fb->lay.cfg;
	int rc;

	rc = rte_acl_build(fb->out->acl, &cfg);
	if (rc == -ENOMEM) {
		/*
		 * Without max_size rte_acl starts a new trie whenever a
		 * rule adds more than 2048 nodes, and fails beyond 8
		 * tries. With one it allows 16384: fewer, bigger tries,
		 * a slower build, but it does build.
		 */
		cfg.max_size = SIZE_MAX;
		rc = rte_acl_build(fb->out->acl, &cfg);
	}
	if (rc != 0)
		snprintf(b->err, b->errlen, "cannot build IPv%u ACL of %" PRIu32 " rules: %s",
			 fb->family, fb->out->acl_rules, strerror(-rc));
	return rc;
}

/*
 * Accepts a family with rules; counts rules per mask, picks hash tables,
 * lays out rte_acl for the rest, then fills and builds both.
 */
static int sl_family_fill(struct sl_build *b, struct sl_fam_build *fb)
{
	uint32_t order[SL_G__COUNT], n;
	int rc;

	if (b->o->hash_tables > 0) {
		rc = sl_each_rule(b, fb, sl_rule_count);
		if (rc != 0)
			return rc;
		sl_tables_pick(b, fb);
	}
	rc = sl_each_rule(b, fb, sl_rule_use);
	if (rc == 0)
		rc = sl_groups_order(b, fb, order, &n);
	if (rc != 0)
		return rc;
	sl_layout_make(fb, order, n);
	rc = sl_tables_create(b, fb);
	if (rc != 0)
		return rc;
	if (fb->out->acl_rules != 0) {
		fb->out->acl_fields = fb->lay.n;
		rc = sl_acl_create(b, fb);
		if (rc != 0)
			return rc;
	}
	rc = sl_each_rule(b, fb, sl_rule_add);
	if (rc == 0)
		rc = sl_acl_flush(b, fb);
	if (rc == 0 && fb->out->acl != NULL)
		rc = sl_acl_build(b, fb);
	return rc;
}

/* Accepts a family's slot in a new classifier; builds what it looks in. */
static int sl_build_family(struct sl_build *b, struct sl_family *out,
			   uint8_t family)
{
	struct sl_fam_build fb = {
		.family = family,
		.words = sl_words(family),
		.out = out,
		.last = -1,
	};
	int rc = -ENOMEM;

	if (out->rules == 0)
		return 0;
	fb.mask = malloc(SL_MASKS_MAX * sizeof(*fb.mask));
	if (fb.mask == NULL) {
		snprintf(b->err, b->errlen, "out of memory building the classifier");
		return -ENOMEM;
	}
	if (b->o->hash_tables > 0) {
		fb.masks = sl_hash_create(b, family, "msk", SL_MASKS_MAX,
					  sizeof(union sl_keyw));
		if (fb.masks == NULL) {
			rc = -rte_errno;
			goto free_mask;
		}
	}
	rc = sl_family_fill(b, &fb);
	free(fb.buf);
	rte_hash_free(fb.masks);
free_mask:
	free(fb.mask);
	return rc;
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

/* Accepts a checked policy; builds each family's tables and context. */
static struct sl_classifier *sl_build(struct sl_build *b)
{
	struct sl_classifier *c;
	uint32_t n4, n6;
	int rc;

	rc = sl_count_rules(b, &b->ex, &n4, &n6);
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
	c->fam[0].rules = n4;
	c->fam[1].rules = n6;
	rc = sl_build_family(b, &c->fam[0], SL_FAMILY_IPV4);
	if (rc == 0)
		rc = sl_build_family(b, &c->fam[1], SL_FAMILY_IPV6);
	if (rc != 0) {
		sl_classifier_free(c);
		rte_errno = -rc;
		return NULL;
	}
	return c;
}

/* Monotonic nanoseconds. */
static uint64_t sl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Accepts any policy (NULL is refused) and opts or NULL; see classify.h. */
struct sl_classifier *sl_classifier_build_opts(const struct sl_policy *p,
					       int socket_id,
					       const struct sl_classify_opts *o,
					       char *err, size_t errlen)
{
	static const struct sl_classify_opts dflt = {
		.hash_tables = SL_CLASSIFY_HASH_TABLES,
		.hash_rules_min = SL_CLASSIFY_HASH_RULES_MIN,
	};
	uint64_t t0 = sl_now_ns();
	struct sl_classifier *c = NULL;
	struct sl_build *b;
	int rc;

	if (o == NULL)
		o = &dflt;
	if (o->hash_tables > SL_CLASSIFY_HASH_TABLES_MAX) {
		snprintf(err, errlen, "%" PRIu32 " hash tables per family asked for, at most %u",
			 o->hash_tables, SL_CLASSIFY_HASH_TABLES_MAX);
		rte_errno = EINVAL;
		return NULL;
	}
	if (o->part > SL_CLASSIFY_PAYLOAD) {
		snprintf(err, errlen, "no classifier part %" PRIu32, o->part);
		rte_errno = EINVAL;
		return NULL;
	}
	rc = sl_check_policy(p, err, errlen);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	/* About 20 KiB of scratch: kept off the caller's stack. */
	b = malloc(sizeof(*b));
	if (b == NULL) {
		snprintf(err, errlen, "out of memory building the classifier");
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->socket_id = socket_id;
	b->o = o;
	b->err = err;
	b->errlen = errlen;
	sl_dscp_cubes_init(b->cube);
	c = sl_build(b);
	rc = rte_errno;
	free(b);
	if (c != NULL)
		c->build_ns = sl_now_ns() - t0;
	rte_errno = rc;
	return c;
}

/* Accepts any policy (NULL is refused); see classify.h. */
struct sl_classifier *sl_classifier_build(const struct sl_policy *p,
					  int socket_id, char *err,
					  size_t errlen)
{
	return sl_classifier_build_opts(p, socket_id, NULL, err, errlen);
}

/* Accepts any policy (NULL is refused) and any part; see classify.h. */
struct sl_classifier *sl_classifier_build_part(const struct sl_policy *p,
					       int socket_id, uint32_t part,
					       char *err, size_t errlen)
{
	const struct sl_classify_opts o = {
		.hash_tables = SL_CLASSIFY_HASH_TABLES,
		.hash_rules_min = SL_CLASSIFY_HASH_RULES_MIN,
		.part = part,
	};

	return sl_classifier_build_opts(p, socket_id, &o, err, errlen);
}

/* Accepts a classifier or NULL. */
void sl_classifier_free(struct sl_classifier *c)
{
	uint32_t f, t;

	if (c == NULL)
		return;
	for (f = 0; f < 2; f++) {
		rte_acl_free(c->fam[f].acl);
		for (t = 0; t < c->fam[f].n_tables; t++) {
			rte_hash_free(c->fam[f].table[t].h);
			rte_free(c->fam[f].table[t].seen);
		}
	}
	rte_free(c);
}

/* Accepts SL_FAMILY_IPV4 or SL_FAMILY_IPV6; its slot, NULL for others. */
static const struct sl_family *sl_family_of(const struct sl_classifier *c,
					    uint8_t family)
{
	if (family == SL_FAMILY_IPV4)
		return &c->fam[0];
	if (family == SL_FAMILY_IPV6)
		return &c->fam[1];
	return NULL;
}

/* Accepts a built classifier and SL_FAMILY_IPV4 or SL_FAMILY_IPV6. */
uint32_t sl_classifier_rules(const struct sl_classifier *c, uint8_t family)
{
	const struct sl_family *fm = sl_family_of(c, family);

	return fm ? fm->rules : 0;
}

/* Accepts a built classifier. */
uint64_t sl_classifier_build_ns(const struct sl_classifier *c)
{
	return c->build_ns;
}

/* Accepts a built classifier and any family (others read as empty). */
void sl_classifier_info(const struct sl_classifier *c, uint8_t family,
			struct sl_classifier_info *info)
{
	const struct sl_family *fm = sl_family_of(c, family);

	memset(info, 0, sizeof(*info));
	if (fm == NULL)
		return;
	info->rules = fm->rules;
	info->hash_tables = fm->n_tables;
	info->hash_rules = fm->hash_rules;
	info->acl_rules = fm->acl_rules;
	info->acl_fields = fm->acl_fields;
}

/* Accepts a well-formed IP packet; writes the key it is looked up by. */
static void sl_key_fill(union sl_keyw *kw, const struct sl_pkt_meta *m)
{
	struct sl_key *k = &kw->k;
	bool l4 = m->flags & SL_PKT_F_L4;
	bool vlan = m->flags & SL_PKT_F_VLAN;

	k->proto = m->proto;
	memset(k->pad, 0, sizeof(k->pad));
	memcpy(k->src, m->src, sizeof(k->src));
	memcpy(k->dst, m->dst, sizeof(k->dst));
	k->sport = rte_cpu_to_be_16(l4 ? m->sport : 0);
	k->dport = rte_cpu_to_be_16(l4 ? m->dport : 0);
	k->meta = (uint8_t)((m->dscp & SL_KEY_DSCP) |
			    (l4 ? SL_KEY_L4 : 0) | (vlan ? SL_KEY_VLAN : 0));
	k->tcp = l4 && m->proto == SL_IPPROTO_TCP ?
		 sl_tcp_key(m->tcp_flags) : 0;
	k->vlan = rte_cpu_to_be_16(vlan ? m->vlan : 0);
	k->pad2 = 0;
}

/* Accepts n keys of one family; lowers out[pos[j]] to what key[j] matches. */
static void sl_classify_family(const struct sl_family *fm,
			       const union sl_keyw *key, const uint32_t *pos,
			       uint32_t n, uint32_t *out)
{
	union sl_keyw mk[SL_CLASSIFY_BURST_MAX];
	const void *kp[SL_CLASSIFY_BURST_MAX];
	hash_sig_t sig[SL_CLASSIFY_BURST_MAX];
	uint32_t sel[SL_CLASSIFY_BURST_MAX];
	void *data[SL_CLASSIFY_BURST_MAX];
	const uint8_t *in[SL_CLASSIFY_BURST_MAX];
	uint32_t res[SL_CLASSIFY_BURST_MAX];
	const struct sl_table *t;
	uint32_t i, j, k, v;
	uint32_t bit;
	hash_sig_t h;
	uint64_t hits;

	for (i = 0; i < fm->n_tables; i++) {
		t = &fm->table[i];
		sl_table_keys(t, key, n, mk);
		for (j = 0, k = 0; j < n; j++) {
			h = sl_table_sig(t, &mk[j]);
			bit = sl_table_bit(t, h);
			if (!(t->seen[bit / 64] & (UINT64_C(1) << (bit % 64))))
				continue;
			sel[k] = j;
			kp[k] = &mk[j];
			sig[k++] = h;
		}
		if (k == 0 || rte_hash_lookup_with_hash_bulk_data(t->h, kp, sig,
				k, &hits, data) <= 0)
			continue;
		while (hits != 0) {
			k = (uint32_t)__builtin_ctzll(hits);
			hits &= hits - 1;
			v = (uint32_t)(uintptr_t)data[k];
			if (v < out[pos[sel[k]]])
				out[pos[sel[k]]] = v;
		}
	}
	if (fm->acl == NULL)
		return;
	for (j = 0; j < n; j++)
		in[j] = (const uint8_t *)&key[j];
	rte_acl_classify(fm->acl, in, res, n, 1);
	for (j = 0; j < n; j++)
		if (res[j] != 0 && res[j] - 1 < out[pos[j]])
			out[pos[j]] = res[j] - 1;
}

/* Accepts up to SL_CLASSIFY_BURST_MAX packets. */
static void sl_classify_chunk(const struct sl_classifier *c,
			      const struct sl_pkt_meta *const *m, uint32_t n,
			      uint32_t *out)
{
	union sl_keyw key[2][SL_CLASSIFY_BURST_MAX];
	uint32_t pos[2][SL_CLASSIFY_BURST_MAX];
	uint32_t cnt[2] = { 0, 0 };
	const struct sl_family *fm;
	uint32_t i, f;

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
		fm = &c->fam[f];
		if (fm->acl == NULL && fm->n_tables == 0)
			continue;
		/* each family's keys side by side: no indirection later */
		sl_key_fill(&key[f][cnt[f]], m[i]);
		pos[f][cnt[f]++] = i;
	}
	for (f = 0; f < 2; f++)
		if (cnt[f] != 0)
			sl_classify_family(&c->fam[f], key[f], pos[f], cnt[f],
					   out);
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

/* Accepts a match and a well-formed IP packet; see classify.h. */
bool sl_match_l34_holds(const struct sl_match *mt,
			const struct sl_pkt_meta *m)
{
	return sl_match_holds(mt, m);
}

/* Accepts any policy, a packet parsed from frame, and a matcher. */
uint32_t sl_classify_reference_payload(const struct sl_policy *p,
				       const struct sl_pkt_meta *m,
				       const uint8_t *frame,
				       sl_payload_holds_fn fn, void *arg)
{
	uint32_t i;

	if (m->malformed != SL_MAL_NONE ||
	    (m->family != SL_FAMILY_IPV4 && m->family != SL_FAMILY_IPV6))
		return SL_CLASS_NONE;
	for (i = 0; i < p->n_classes; i++) {
		const struct sl_match *mt = &p->classes[i].match;

		if (!sl_match_holds(mt, m))
			continue;
		if (!(mt->fields & SL_M_PAYLOAD))
			return i;
		if ((m->flags & SL_PKT_F_L4) &&
		    fn(arg, i, frame + m->payload_off, m->payload_len))
			return i;
	}
	return SL_CLASS_NONE;
}
