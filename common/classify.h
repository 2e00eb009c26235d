/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L3/L4 classification: which class of a policy a packet belongs to,
 * first match wins. Built from a policy off the fast path; read-only
 * afterwards, so any number of lcores may classify with one classifier
 * at once. Per address family, rules that are exact under a mask shared
 * by many rules go to hash tables (DPDK's rte_hash, one per mask), the
 * rest to an rte_acl context (docs/decisions/0006-classifier-build.md).
 *
 * Needs an initialised EAL (rte_acl allocates with rte_malloc); offline
 * users initialise one with --no-huge --no-shconf.
 */
#ifndef SLUICE_CLASSIFY_H
#define SLUICE_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "policy.h"

/* Result for a packet that matches no class. */
#define SL_CLASS_NONE	UINT32_MAX

/* Packets per call to sl_classify_burst(). */
#define SL_CLASSIFY_BURST_MAX	64

/*
 * A class becomes the cross product of its lists (src x dst x sport x
 * dport x vlan x dscp cover) as ACL rules, per address family. These
 * bound build time and memory; a policy beyond them is refused (E2BIG).
 */
#define SL_CLASSIFY_CLASS_RULES_MAX	65536	/* one class, one family */
#define SL_CLASSIFY_RULES_MAX		(1u << 20) /* all classes, both families */

/* Hash tables per address family, at most. */
#define SL_CLASSIFY_HASH_TABLES_MAX	8

struct sl_classifier;

/*
 * Which classes a classifier holds. A ruleset with payload classes
 * classifies with two (docs/decisions/0008-payload-classification.md):
 * one for the classes without a payload field, one for the L3/L4 fields
 * of those with one. Either way results are indices into the policy.
 */
enum sl_classify_part {
	SL_CLASSIFY_ALL = 0,	/* every class; payload not looked at */
	SL_CLASSIFY_NO_PAYLOAD,	/* classes without SL_M_PAYLOAD */
	SL_CLASSIFY_PAYLOAD,	/* classes with it: their L3/L4 fields */
};

/*
 * How a build splits rules between hash tables and rte_acl. Every hash
 * table costs each packet of its family one lookup; every rule left to
 * rte_acl costs build time.
 */
struct sl_classify_opts {
	uint32_t hash_tables;		/* per family, <= ..._HASH_TABLES_MAX */
	uint32_t hash_rules_min;	/* a mask with fewer rules stays in rte_acl */
	uint32_t part;			/* enum sl_classify_part */
};

/* What sl_classifier_build() uses. */
#define SL_CLASSIFY_HASH_TABLES		4
#define SL_CLASSIFY_HASH_RULES_MIN	64

/*
 * Build a classifier for the L3/L4 match fields of every class of p
 * (payload is not looked at here: SL_CLASSIFY_ALL). Returns NULL and
 * sets rte_errno on failure, with a message in err.
 */
struct sl_classifier *sl_classifier_build(const struct sl_policy *p,
					  int socket_id, char *err,
					  size_t errlen);

/* The same with a split of one's own (tests, benchmarks); NULL: default. */
struct sl_classifier *sl_classifier_build_opts(const struct sl_policy *p,
					       int socket_id,
					       const struct sl_classify_opts *o,
					       char *err, size_t errlen);
/* The default split over part of the classes (enum sl_classify_part). */
struct sl_classifier *sl_classifier_build_part(const struct sl_policy *p,
					       int socket_id, uint32_t part,
					       char *err, size_t errlen);
void sl_classifier_free(struct sl_classifier *c);

/*
 * Rules (combinations of a class's lists) built for family
 * SL_FAMILY_IPV4 or SL_FAMILY_IPV6, in hash tables and rte_acl together.
 */
uint32_t sl_classifier_rules(const struct sl_classifier *c, uint8_t family);

/* Wall-clock nanoseconds that building c took, for callers to report. */
uint64_t sl_classifier_build_ns(const struct sl_classifier *c);

/* Where one family's rules went. */
struct sl_classifier_info {
	uint32_t rules;		/* as sl_classifier_rules() */
	uint32_t hash_tables;
	uint32_t hash_rules;	/* rules in hash tables */
	uint32_t acl_rules;	/* rules in the rte_acl context */
	uint32_t acl_fields;	/* fields of that context, proto included */
};

/* Fills *info for family SL_FAMILY_IPV4 or SL_FAMILY_IPV6. */
void sl_classifier_info(const struct sl_classifier *c, uint8_t family,
			struct sl_classifier_info *info);

/*
 * Classify n (<= SL_CLASSIFY_BURST_MAX) parsed packets: out[i] is the
 * index of the first class that m[i] matches, or SL_CLASS_NONE.
 * Malformed packets and non-IP packets get SL_CLASS_NONE.
 */
void sl_classify_burst(const struct sl_classifier *c,
		       const struct sl_pkt_meta *const *m, uint32_t n,
		       uint32_t *out);

/*
 * The same decision for one packet by a plain scan of the policy: the
 * reference that tests hold the classifier to, and the definition of
 * what a match means. Payload is not looked at (as sl_classify_burst).
 */
uint32_t sl_classify_reference(const struct sl_policy *p,
			       const struct sl_pkt_meta *m);

/* Whether the L3/L4 fields of mt (all but payload) hold for packet m. */
bool sl_match_l34_holds(const struct sl_match *mt,
			const struct sl_pkt_meta *m);

/*
 * Whether the payload pattern of class cls matches the len bytes of
 * payload: a regex engine of the caller's choosing.
 */
typedef bool (*sl_payload_holds_fn)(void *arg, uint32_t cls,
				    const uint8_t *payload, uint32_t len);

/*
 * The whole definition, payload included, for packet m parsed from
 * frame: the first class whose L3/L4 fields hold and, if it has a
 * payload field, whose pattern matches the L4 payload. A payload field
 * needs a TCP or UDP header (SL_PKT_F_L4): non-first fragments and
 * other protocols never match one. SL_CLASS_NONE if no class matches.
 */
uint32_t sl_classify_reference_payload(const struct sl_policy *p,
				       const struct sl_pkt_meta *m,
				       const uint8_t *frame,
				       sl_payload_holds_fn fn, void *arg);

#endif /* SLUICE_CLASSIFY_H */
