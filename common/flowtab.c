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

struct sl_flowtab *sl_flowtab_create(const char *name, uint32_t capacity,
				     int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(struct sl_flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
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
	rte_hash_lookup_bulk(ft->h, (const void **)keys, n, pos);
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
