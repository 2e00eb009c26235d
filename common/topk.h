/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore heavy hitters: the bucket keys offering the most packets,
 * for `sluicectl top`. See docs/decisions/0004-top-talkers.md.
 *
 * Each worker owns one tracker: Space-Saving (Metwally, Agrawal, El
 * Abbadi 2005) over a fixed number of entries shared by all classes,
 * fed one packet in sample_n (random gaps, so no traffic pattern can
 * alias with the sampler). A sample is an O(1) probe of a small
 * open-addressing index plus a walk of an 8-ary min-heap of counts; a
 * packet that is not sampled costs a decrement and a branch.
 *
 * Counts cover fixed intervals (default 1 s) aligned to the clock, so
 * the workers' intervals line up. Two tables: the worker fills one while
 * the other, the last full interval, is readable by the control thread.
 * The reader copies it and checks that no rotation happened meanwhile
 * (a sequence lock whose sequence is the rotation count); the worker
 * never waits. Every store the worker makes into a table is an atomic
 * release, every load the reader makes an acquire (plain moves on x86),
 * so the copy is race-free in C11 terms and under ThreadSanitizer.
 *
 * Guarantees, per worker and interval, in samples (times sample_n for
 * packets): every key with more than samples/cap samples is tracked;
 * a tracked key's count is at least its true count and exceeds it by at
 * most its err. Sampling adds a statistical error of about
 * 1/sqrt(count) relative.
 */
#ifndef SLUICE_TOPK_H
#define SLUICE_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#include "flowtab.h"

#define SL_TOPK_CAP_MIN		16
#define SL_TOPK_CAP_MAX		16384	/* positions fit 16 bits */
#define SL_TOPK_CAP_DEFAULT	1024
#define SL_TOPK_SAMPLE_MAX	65536
#define SL_TOPK_SAMPLE_DEFAULT	32
#define SL_TOPK_INTERVAL_DEFAULT_NS	(1000ULL * 1000 * 1000)
#define SL_TOPK_INTERVAL_MIN_NS	1000ULL
/* At most this long, so a u32 count cannot wrap below 400 Mpps per lcore. */
#define SL_TOPK_INTERVAL_MAX_NS	(10ULL * 1000 * 1000 * 1000)

/* sl_topk_merge()'s class filter for every class. */
#define SL_TOPK_ALL_CLASSES	UINT32_MAX

/* One tracked key as the reader sees it: one cache line. */
struct sl_topk_entry {
	union {
		struct sl_flow_key key;
		uint64_t key_w[6];	/* the words it is copied by */
	};
	uint32_t count;	/* samples, counting err: never below the true count */
	uint32_t err;	/* count exceeds the key's true samples by at most this */
	uint64_t bytes;	/* wire bytes of the count - err samples since it entered */
};

_Static_assert(sizeof(struct sl_topk_entry) == 64, "topk entry is a cache line");

/* The counts of one interval. */
struct sl_topk_table {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t samples;	/* the interval's samples: the sum of the counts */
	uint32_t n;		/* entries in use */
	uint32_t pad;
	struct sl_topk_entry e[] __rte_cache_aligned;
};

/*
 * One worker's tracker. The fields up to rot belong to the worker
 * alone; callers use the functions below, not the fields.
 */
struct sl_topk {
	uint32_t skip;		/* packets until the next sample */
	uint32_t sample_n;
	uint64_t rng;		/* xorshift64 state for the sampling gaps */
	uint64_t next_ns;	/* when the filling table is due to rotate */
	uint64_t interval_ns;
	uint64_t samples;	/* of the filling table */
	uint32_t n;		/* entries used in the filling table */
	uint32_t cap;
	uint32_t mask;		/* index slots - 1 */
	uint8_t started;	/* the filling table has a start time */
	struct sl_topk_table *fill;
	uint32_t *index;	/* open addressing: hash tag << 16 | (pos + 1) */
	uint32_t *hash;		/* per entry: its key's hash */
	uint64_t *heap;		/* 4-ary min-heap: count << 32 | pos */
	uint16_t *heap_at;	/* per entry: its place in heap */
	struct sl_topk_table *tab[2];	/* set at creation, then only read */

	/* Shared: tab[rot & 1] fills, tab[(rot + 1) & 1] is readable. */
	uint64_t rot __rte_cache_aligned;
};

/* A reader's copy of one tracker's last full interval. */
struct sl_topk_snap {
	uint64_t start_ns;	/* the interval the counts cover */
	uint64_t end_ns;
	uint64_t interval_ns;	/* the tracker's nominal interval */
	uint64_t samples;	/* samples taken in the interval */
	uint32_t sample_n;	/* one packet in sample_n was sampled */
	uint32_t cap;		/* the tracker's entries: full when n == cap */
	uint32_t n;		/* entries copied to e */
	uint32_t room;		/* entries e has room for */
	struct sl_topk_entry e[];
};

/* A key of the merged top list; rates over the snapshots' interval. */
struct sl_topk_result {
	struct sl_flow_key key;
	double pps;		/* estimated offered packets per second */
	double pps_lo;		/* the true rate is at least this ... */
	double pps_hi;		/* ... and at most this (sampling error aside) */
	double bps;		/* estimated offered bits per second */
	uint64_t samples;	/* samples behind pps: relative error ~ 1/sqrt */
	uint32_t lcores;	/* trackers that held the key */
};

/*
 * Create a tracker of cap entries (SL_TOPK_CAP_MIN..MAX) sampling one
 * packet in sample_n (1..SL_TOPK_SAMPLE_MAX) over intervals of
 * interval_ns (SL_TOPK_INTERVAL_MIN_NS..MAX_NS); seed varies the
 * sampling gaps between workers. Returns NULL and sets rte_errno.
 */
struct sl_topk *sl_topk_create(uint32_t cap, uint32_t sample_n,
			       uint64_t interval_ns, uint64_t seed,
			       int socket_id);
void sl_topk_free(struct sl_topk *t);

/* Bytes a tracker of cap entries allocates, all of it at creation. */
size_t sl_topk_memsize(uint32_t cap);

/* The bucket-key hash, the one the flow table's rte_hash computes. */
static inline uint32_t sl_topk_hash(const struct sl_flow_key *k)
{
	return rte_hash_crc(k, sizeof(*k), 0);
}

/* Count a sampled packet of len bytes for key k of hash h (slow path). */
void sl_topk_sample(struct sl_topk *t, const struct sl_flow_key *k,
		    uint32_t h, uint32_t len);

/* Start a new interval at now_ns (slow path of sl_topk_tick). */
void sl_topk_rotate(struct sl_topk *t, uint64_t now_ns);

/*
 * Offer a packet of len wire bytes for key k: one in sample_n is
 * counted. The key is hashed only when sampled.
 */
static inline void sl_topk_offer(struct sl_topk *t, const struct sl_flow_key *k,
				 uint32_t len)
{
	if (likely(--t->skip != 0))
		return;
	sl_topk_sample(t, k, sl_topk_hash(k), len);
}

/* As sl_topk_offer, for a caller that has the key's sl_topk_hash(). */
static inline void sl_topk_offer_hash(struct sl_topk *t,
				      const struct sl_flow_key *k, uint32_t h,
				      uint32_t len)
{
	if (likely(--t->skip != 0))
		return;
	sl_topk_sample(t, k, h, len);
}

/*
 * Give the tracker the time, once per burst and on idle polls: at an
 * interval boundary the filling table becomes readable.
 */
static inline void sl_topk_tick(struct sl_topk *t, uint64_t now_ns)
{
	if (unlikely(now_ns >= t->next_ns))
		sl_topk_rotate(t, now_ns);
}

/* Entries of t, for sizing snapshots. */
uint32_t sl_topk_capacity(const struct sl_topk *t);

/* A snapshot buffer for trackers of up to room entries; free() it. */
struct sl_topk_snap *sl_topk_snap_alloc(uint32_t room);

/*
 * From any thread: copy t's last full interval into s. Returns 0,
 * -ENODATA before the first interval has ended, -ENOSPC if s has less
 * room than t has entries, -EAGAIN if the worker kept rotating.
 */
int sl_topk_snapshot(const struct sl_topk *t, struct sl_topk_snap *s);

/*
 * Merge the snapshots of several workers and write the up to n_out
 * heaviest keys of class class_id (a key's class_id, or
 * SL_TOPK_ALL_CLASSES) to out, heaviest first. A snapshot whose
 * interval ended more than two intervals before now_ns is of a worker
 * without traffic since, and counts as empty. Returns the number
 * written or -ENOMEM.
 */
int sl_topk_merge(const struct sl_topk_snap *const *snaps, uint32_t n_snaps,
		  uint32_t class_id, uint64_t now_ns,
		  struct sl_topk_result *out, uint32_t n_out);

#endif /* SLUICE_TOPK_H */
