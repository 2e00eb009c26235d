/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore flow table: one token bucket per bucket key.
 *
 * Each worker lcore owns one table (RSS keeps a flow on one lcore), so
 * there is no locking: the rte_hash is created without any concurrency
 * flags and only its owner touches it. Memory is bounded by the
 * capacity given at creation; the extendable-bucket table makes the
 * capacity exact (an add fails only when that many keys are present).
 *
 * Entries are indexed by the hash's key position, so the bucket state
 * sits in a flat array next to nothing else, two entries per cache line.
 */
#ifndef SLUICE_FLOWTAB_H
#define SLUICE_FLOWTAB_H

#include <stdint.h>

#include <rte_common.h>

#include "tbucket.h"

/*
 * A bucket key. What is filled depends on the class's key type; the
 * rest is zero, so equal keys compare equal bytewise.
 */
struct sl_flow_key {
	uint32_t class_id;	/* keys of different classes never share */
	uint8_t family;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint16_t pad;
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t pad2;		/* to 48 bytes: keys in arrays stay 8-byte aligned */
} __rte_aligned(8);

struct sl_flow_entry {
	struct sl_tb tb;	/* tb.last_ns doubles as "last seen" */
	uint32_t idle_ms;	/* expire after this long without packets; 0: free */
	uint32_t gen;		/* generation of the class slot that made it */
};

_Static_assert(sizeof(struct sl_flow_key) == 48, "flow key layout");
_Static_assert(RTE_CACHE_LINE_SIZE % sizeof(struct sl_flow_entry) == 0,
	       "flow entries must not straddle cache lines");

struct sl_flowtab_stats {
	uint64_t created;	/* keys added */
	uint64_t expired;	/* keys removed after idling */
	uint64_t full;		/* adds refused: table at capacity */
};

struct sl_flowtab;

/*
 * Create a table for up to capacity keys on socket_id. name must be
 * unique in the process. Returns NULL and sets rte_errno on failure.
 */
struct sl_flowtab *sl_flowtab_create(const char *name, uint32_t capacity,
				     int socket_id);
void sl_flowtab_free(struct sl_flowtab *ft);

/*
 * Look up n (<= 64) keys. pos[i] is the entry index, or -ENOENT. Keys
 * may repeat within a burst.
 */
void sl_flowtab_lookup_bulk(struct sl_flowtab *ft,
			    const struct sl_flow_key **keys, uint32_t n,
			    int32_t *pos);

/* Add a key that is absent; returns its entry index or -ENOSPC. */
int32_t sl_flowtab_add(struct sl_flowtab *ft, const struct sl_flow_key *key);

/* Look up one key; returns its entry index or -ENOENT. */
int32_t sl_flowtab_lookup(struct sl_flowtab *ft, const struct sl_flow_key *key);

struct sl_flow_entry *sl_flowtab_entry(struct sl_flowtab *ft, int32_t pos);

/*
 * Examine up to budget slots, round robin, and remove keys idle for
 * longer than their entry's idle_ms at now_ns. Returns keys removed.
 */
uint32_t sl_flowtab_expire(struct sl_flowtab *ft, uint64_t now_ns,
			   uint32_t budget);

/* Remove every key (a policy with new class ids). */
void sl_flowtab_reset(struct sl_flowtab *ft);

uint32_t sl_flowtab_count(const struct sl_flowtab *ft);
uint32_t sl_flowtab_capacity(const struct sl_flowtab *ft);
const struct sl_flowtab_stats *sl_flowtab_stats(const struct sl_flowtab *ft);

#endif /* SLUICE_FLOWTAB_H */
