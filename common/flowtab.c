/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "flowtab.h"

struct sl_flowtab {
	struct rte_hash *h;
	uint32_t capacity;
	uint32_t scan_pos;		/* next slot the expiry scan examines */
	struct sl_flowtab_stats stats;
	struct sl_flow_entry *entries;	/* capacity slots; idle_ms 0 = free */
};

#define FLOW_HASH_INIT	0

/*
 * rte_hash_crc over a whole key. The length is a constant, so the loop
 * unrolls into six CRC32 instructions: the same value, without the
 * loop and length tests of the generic function, which cost 46
 * instructions a key (callgrind). len is always the key length.
 */
static inline uint32_t flow_key_hash(const void *key, uint32_t len,
				     uint32_t init)
{
	(void)len;
	return rte_hash_crc(key, sizeof(struct sl_flow_key), init);
}

/* The rte_hash hash function: flow_key_hash, out of line. */
static uint32_t flow_key_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	return flow_key_hash(key, len, init);
}

/* 16 bytes in a vector register, where the target has them. */
typedef uint64_t u64x2 __attribute__((vector_size(16)));

/* Where 16 bytes at x and y differ: the bits set. */
static inline u64x2 diff16(const uint8_t *x, const uint8_t *y)
{
	u64x2 p, q;

	memcpy(&p, x, sizeof(p));
	memcpy(&q, y, sizeof(q));
	return p ^ q;
}

/*
 * Keys compare bytewise (the unused fields are zero). rte_hash has no
 * compare of its own for 44 bytes and would call memcmp; three 16-byte
 * compares, the last overlapping the second, do it in a few
 * instructions. Returns 0 when equal, as memcmp.
 */
static int flow_key_cmp(const void *a, const void *b, size_t len)
{
	const size_t k = sizeof(struct sl_flow_key);
	const uint8_t *x = a, *y = b;

	(void)len;
	RTE_BUILD_BUG_ON(k < 32 || k > 48);
	u64x2 d = diff16(x, y) | diff16(x + 16, y + 16) |
		  diff16(x + k - 16, y + k - 16);

	return (d[0] | d[1]) != 0;
}

struct sl_flowtab *sl_flowtab_create(const char *name, uint32_t capacity,
				     int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(struct sl_flow_key),
		.hash_func = flow_key_hash_fn,
		.hash_func_init_val = FLOW_HASH_INIT,
		.socket_id = socket_id,
		/* Exact capacity: a full bucket spills into the extension table. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct sl_flowtab *ft;

	if (capacity < 8) {
		rte_errno = EINVAL;
		return NULL;
	}
	ft = rte_zmalloc_socket("sl_flowtab", sizeof(*ft), RTE_CACHE_LINE_SIZE,
				socket_id);
	if (ft == NULL)
		goto fail;
	ft->capacity = capacity;
	ft->entries = rte_zmalloc_socket("sl_flow_entries",
					 (size_t)capacity * sizeof(*ft->entries),
					 RTE_CACHE_LINE_SIZE, socket_id);
	if (ft->entries == NULL)
		goto free_ft;
	ft->h = rte_hash_create(&hp);
	if (ft->h == NULL)
		goto free_entries;
	rte_hash_set_cmp_func(ft->h, flow_key_cmp);
	return ft;

free_entries:
	rte_free(ft->entries);
free_ft:
	rte_free(ft);
fail:
	if (rte_errno == 0)
		rte_errno = ENOMEM;
	return NULL;
}

void sl_flowtab_free(struct sl_flowtab *ft)
{
	if (ft == NULL)
		return;
	rte_hash_free(ft->h);
	rte_free(ft->entries);
	rte_free(ft);
}

void sl_flowtab_lookup_bulk(struct sl_flowtab *ft,
			    const struct sl_flow_key **keys, uint32_t n,
			    int32_t *pos)
{
	hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];

	/* Hashed here, inline, rather than by a call per key in rte_hash. */
	for (uint32_t i = 0; i < n; i++)
		sig[i] = flow_key_hash(keys[i], sizeof(*keys[i]), FLOW_HASH_INIT);
	rte_hash_lookup_with_hash_bulk(ft->h, (const void **)keys, sig, n, pos);
}

int32_t sl_flowtab_lookup(struct sl_flowtab *ft, const struct sl_flow_key *key)
{
	return rte_hash_lookup(ft->h, key);
}

int32_t sl_flowtab_add(struct sl_flowtab *ft, const struct sl_flow_key *key)
{
	int32_t pos = rte_hash_add_key(ft->h, key);

	if (pos < 0 || (uint32_t)pos >= ft->capacity) {
		if (pos >= 0)	/* cannot happen with one writer; stay bounded */
			rte_hash_del_key(ft->h, key);
		ft->stats.full++;
		return -ENOSPC;
	}
	ft->stats.created++;
	return pos;
}

struct sl_flow_entry *sl_flowtab_entry(struct sl_flowtab *ft, int32_t pos)
{
	return &ft->entries[pos];
}

/* Remove the key at slot pos and mark its entry free. */
static void flowtab_remove(struct sl_flowtab *ft, uint32_t pos)
{
	void *key;

	if (rte_hash_get_key_with_position(ft->h, pos, &key) == 0)
		rte_hash_del_key(ft->h, key);
	ft->entries[pos].idle_ms = 0;
}

uint32_t sl_flowtab_expire(struct sl_flowtab *ft, uint64_t now_ns,
			   uint32_t budget)
{
	uint32_t removed = 0;
	uint32_t pos = ft->scan_pos;

	if (budget > ft->capacity)
		budget = ft->capacity;
	while (budget--) {
		struct sl_flow_entry *e = &ft->entries[pos];

		if (e->idle_ms != 0 && now_ns > e->tb.last_ns &&
		    now_ns - e->tb.last_ns > (uint64_t)e->idle_ms * 1000000) {
			flowtab_remove(ft, pos);
			removed++;
		}
		if (++pos == ft->capacity)
			pos = 0;
	}
	ft->scan_pos = pos;
	ft->stats.expired += removed;
	return removed;
}

void sl_flowtab_reset(struct sl_flowtab *ft)
{
	rte_hash_reset(ft->h);
	memset(ft->entries, 0, (size_t)ft->capacity * sizeof(*ft->entries));
	ft->scan_pos = 0;
}

uint32_t sl_flowtab_count(const struct sl_flowtab *ft)
{
	int32_t n = rte_hash_count(ft->h);

	return n < 0 ? 0 : (uint32_t)n;
}

uint32_t sl_flowtab_capacity(const struct sl_flowtab *ft)
{
	return ft->capacity;
}

const struct sl_flowtab_stats *sl_flowtab_stats(const struct sl_flowtab *ft)
{
	return &ft->stats;
}
