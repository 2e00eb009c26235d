/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "topk.h"

/*
 * The worker's stores into tables and the reader's loads. Release and
 * acquire cost nothing on x86 (plain moves) and make the sequence check
 * hold without fences: a reader whose load saw a store the worker made
 * after a rotation also sees that rotation when it loads rot again.
 */
#define WR(lv, v)	__atomic_store_n(&(lv), (v), __ATOMIC_RELEASE)
#define RD(lv)		__atomic_load_n(&(lv), __ATOMIC_ACQUIRE)

#define SLOT_POS(s)	(((s) & 0xffffu) - 1)
#define SLOT_TAG(h)	((h) & 0xffff0000u)
#define HEAP_POS(v)	((uint32_t)((v) & 0xffffu))
#define HEAP_VAL(c, pos) ((uint64_t)(c) << 32 | (pos))
/* 8-ary: one level fewer than 4-ary, 15% fewer cycles an eviction here. */
#define HEAP_ARITY	8
/* Heap slots before heap[0], so each node's children share a cache line. */
#define HEAP_SKEW	7
/* Slots past the last entry: the children of the last parent. */
#define HEAP_SPARE	8
/* An empty heap slot, above any value (positions are below 0xffff). */
#define HEAP_NONE	UINT64_MAX

/* The bytes of each part of a tracker of cap entries, in one allocation. */
struct topk_layout {
	size_t table;
	size_t heap;
	size_t index;
	size_t hash;
	size_t heap_at;
	uint32_t slots;
};

static size_t line(size_t n)
{
	return RTE_ALIGN_CEIL(n, RTE_CACHE_LINE_SIZE);
}

/* Accepts a valid cap; fills l with the sizes of the parts. */
static void topk_layout(uint32_t cap, struct topk_layout *l)
{
	/* A quarter full at most: a sampled new key probes about once. */
	l->slots = rte_align32pow2(4 * cap);
	l->table = line(sizeof(struct sl_topk_table) +
			(size_t)cap * sizeof(struct sl_topk_entry));
	l->heap = line((HEAP_SKEW + cap + HEAP_SPARE) * sizeof(uint64_t));
	l->index = line(l->slots * sizeof(uint32_t));
	l->hash = line(cap * sizeof(uint32_t));
	l->heap_at = line(cap * sizeof(uint16_t));
}

size_t sl_topk_memsize(uint32_t cap)
{
	struct topk_layout l;

	topk_layout(cap, &l);
	return line(sizeof(struct sl_topk)) + 2 * l.table + l.heap + l.index +
	       l.hash + l.heap_at;
}

/* Accepts the tracker; returns the gap to the next sample, mean sample_n. */
static uint32_t next_gap(struct sl_topk *t)
{
	uint64_t x = t->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	/* Uniform on 1 .. 2 * sample_n - 1: no period for traffic to match. */
	return 1 + (uint32_t)(((x >> 32) * (2ULL * t->sample_n - 1)) >> 32);
}

/* Accepts a tracker; empties its heap, sentinels in every slot. */
static void heap_clear(struct sl_topk *t)
{
	for (uint32_t i = 0; i < t->cap + HEAP_SPARE; i++)
		t->heap[i] = HEAP_NONE;
}

struct sl_topk *sl_topk_create(uint32_t cap, uint32_t sample_n,
			       uint64_t interval_ns, uint64_t seed,
			       int socket_id)
{
	struct topk_layout l;
	struct sl_topk *t;
	uint8_t *p;

	if (cap < SL_TOPK_CAP_MIN || cap > SL_TOPK_CAP_MAX ||
	    sample_n < 1 || sample_n > SL_TOPK_SAMPLE_MAX ||
	    interval_ns < SL_TOPK_INTERVAL_MIN_NS ||
	    interval_ns > SL_TOPK_INTERVAL_MAX_NS) {
		rte_errno = EINVAL;
		return NULL;
	}
	topk_layout(cap, &l);
	t = rte_zmalloc_socket("sl_topk", sl_topk_memsize(cap),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	p = (uint8_t *)t + line(sizeof(*t));
	t->tab[0] = (struct sl_topk_table *)p;
	t->tab[1] = (struct sl_topk_table *)(p + l.table);
	p += 2 * l.table;
	t->heap = (uint64_t *)p + HEAP_SKEW;
	t->index = (uint32_t *)(p + l.heap);
	t->hash = (uint32_t *)(p + l.heap + l.index);
	t->heap_at = (uint16_t *)(p + l.heap + l.index + l.hash);
	t->cap = cap;
	t->mask = l.slots - 1;
	t->sample_n = sample_n;
	t->interval_ns = interval_ns;
	/* splitmix64 of the seed: any seed, zero too, gives a live state. */
	seed += 0x9e3779b97f4a7c15ULL;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
	t->rng = (seed ^ (seed >> 31)) | 1;
	t->skip = next_gap(t);
	t->fill = t->tab[0];
	heap_clear(t);
	return t;
}

void sl_topk_free(struct sl_topk *t)
{
	rte_free(t);
}

uint32_t sl_topk_capacity(const struct sl_topk *t)
{
	return t->cap;
}

/* Accepts an entry and a key's words; says whether they are the same key. */
static inline int key_eq(const struct sl_topk_entry *e, const uint64_t *kw)
{
	return ((e->key_w[0] ^ kw[0]) | (e->key_w[1] ^ kw[1]) |
		(e->key_w[2] ^ kw[2]) | (e->key_w[3] ^ kw[3]) |
		(e->key_w[4] ^ kw[4]) | (e->key_w[5] ^ kw[5])) == 0;
}

/*
 * Accepts a key of hash h; returns its entry, or -1 with *slot set to
 * the empty index slot where it would go.
 */
static inline int32_t index_find(const struct sl_topk *t, const uint64_t *kw,
				 uint32_t h, uint32_t *slot)
{
	const struct sl_topk_entry *e = t->fill->e;
	uint32_t i = h & t->mask;

	for (;;) {
		uint32_t s = t->index[i];

		if (s == 0) {
			*slot = i;
			return -1;
		}
		if ((s & 0xffff0000u) == SLOT_TAG(h) && key_eq(&e[SLOT_POS(s)], kw))
			return (int32_t)SLOT_POS(s);
		i = (i + 1) & t->mask;
	}
}

/* Accepts a hash; returns the first empty index slot from its home. */
static inline uint32_t index_free_slot(const struct sl_topk *t, uint32_t h)
{
	uint32_t i = h & t->mask;

	while (t->index[i] != 0)
		i = (i + 1) & t->mask;
	return i;
}

/*
 * Accepts an entry in the index; removes it, shifting later entries of
 * the probe run back so that every lookup still finds its key.
 */
static void index_remove(struct sl_topk *t, uint32_t pos)
{
	uint32_t i = t->hash[pos] & t->mask, j;

	while (SLOT_POS(t->index[i]) != pos)
		i = (i + 1) & t->mask;
	for (j = (i + 1) & t->mask; t->index[j] != 0; j = (j + 1) & t->mask) {
		uint32_t home = t->hash[SLOT_POS(t->index[j])] & t->mask;

		/* The entry at j may move to i if i is on its probe path. */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->index[i] = t->index[j];
			i = j;
		}
	}
	t->index[i] = 0;
}

/*
 * Accepts a heap node at i whose value grew to v; moves it down. The
 * slots from n on hold HEAP_NONE, so every node has eight children to
 * compare and the minimum is found without a branch to mispredict.
 */
static inline void heap_down(struct sl_topk *t, uint32_t i, uint64_t v)
{
	uint64_t *heap = t->heap;
	uint32_t n = t->n;

	while (HEAP_ARITY * i + 1 < n) {
		const uint64_t *h = &heap[HEAP_ARITY * i + 1];
		uint64_t a = RTE_MIN(h[0], h[1]), b = RTE_MIN(h[2], h[3]);
		uint64_t c = RTE_MIN(h[4], h[5]), d = RTE_MIN(h[6], h[7]);
		uint64_t mv = RTE_MIN(RTE_MIN(a, b), RTE_MIN(c, d));
		uint32_t m = t->heap_at[HEAP_POS(mv)];

		if (mv > v)
			break;
		heap[i] = mv;
		t->heap_at[HEAP_POS(mv)] = (uint16_t)i;
		i = m;
	}
	heap[i] = v;
	t->heap_at[HEAP_POS(v)] = (uint16_t)i;
}

/* Accepts a new last heap node at i of value v; moves it up. */
static inline void heap_up(struct sl_topk *t, uint32_t i, uint64_t v)
{
	uint64_t *heap = t->heap;

	while (i > 0) {
		uint32_t p = (i - 1) / HEAP_ARITY;

		if (heap[p] < v)
			break;
		heap[i] = heap[p];
		t->heap_at[HEAP_POS(heap[i])] = (uint16_t)i;
		i = p;
	}
	heap[i] = v;
	t->heap_at[HEAP_POS(v)] = (uint16_t)i;
}

/* Accepts an entry and a key's words; gives the entry that key. */
static inline void entry_set(struct sl_topk_entry *e, const uint64_t *kw,
			     uint32_t count, uint32_t err, uint32_t len)
{
	for (int w = 0; w < 6; w++)
		WR(e->key_w[w], kw[w]);
	WR(e->count, count);
	WR(e->err, err);
	WR(e->bytes, (uint64_t)len);
}

void sl_topk_sample(struct sl_topk *t, const struct sl_flow_key *k,
		    uint32_t h, uint32_t len)
{
	struct sl_topk_table *tb = t->fill;
	struct sl_topk_entry *e;
	uint64_t kw[6];
	uint32_t slot = 0, min;
	int32_t pos;

	memcpy(kw, k, sizeof(kw));
	t->skip = next_gap(t);
	t->samples++;
	pos = index_find(t, kw, h, &slot);
	if (pos >= 0) {
		e = &tb->e[pos];
		WR(e->count, e->count + 1);
		WR(e->bytes, e->bytes + len);
		heap_down(t, t->heap_at[pos], HEAP_VAL(e->count, (uint32_t)pos));
		return;
	}
	if (t->n < t->cap) {
		pos = (int32_t)t->n++;
		entry_set(&tb->e[pos], kw, 1, 0, len);
		WR(tb->n, t->n);
		t->index[slot] = SLOT_TAG(h) | ((uint32_t)pos + 1);
		t->hash[pos] = h;
		heap_up(t, (uint32_t)pos, HEAP_VAL(1, (uint32_t)pos));
		return;
	}
	/* Space-Saving: the key takes the least entry and its count. */
	pos = (int32_t)HEAP_POS(t->heap[0]);
	min = (uint32_t)(t->heap[0] >> 32);
	index_remove(t, (uint32_t)pos);
	entry_set(&tb->e[pos], kw, min + 1, min, len);
	t->index[index_free_slot(t, h)] = SLOT_TAG(h) | ((uint32_t)pos + 1);
	t->hash[pos] = h;
	heap_down(t, 0, HEAP_VAL(min + 1, (uint32_t)pos));
}

void sl_topk_rotate(struct sl_topk *t, uint64_t now_ns)
{
	struct sl_topk_table *tb = t->fill;

	t->next_ns = (now_ns / t->interval_ns + 1) * t->interval_ns;
	if (!t->started) {
		/* Samples before the first tick count from here. */
		t->started = 1;
		WR(tb->start_ns, now_ns);
		return;
	}
	WR(tb->end_ns, now_ns);
	WR(tb->samples, t->samples);
	/*
	 * Publish tb: its stores are visible to whoever loads the new rot.
	 * A reader still copying the table reused below loads rot again
	 * after its copy: if it saw any store made from here on, it sees
	 * the new rot too (WR is a release, RD an acquire) and retries.
	 */
	__atomic_store_n(&t->rot, t->rot + 1, __ATOMIC_RELEASE);
	tb = t->tab[t->rot & 1];
	t->fill = tb;
	WR(tb->n, 0);
	WR(tb->samples, 0);
	WR(tb->end_ns, 0);
	WR(tb->start_ns, now_ns);
	t->n = 0;
	t->samples = 0;
	heap_clear(t);
	memset(t->index, 0, (size_t)(t->mask + 1) * sizeof(*t->index));
}

struct sl_topk_snap *sl_topk_snap_alloc(uint32_t room)
{
	struct sl_topk_snap *s;

	s = calloc(1, sizeof(*s) + (size_t)room * sizeof(s->e[0]));
	if (s != NULL)
		s->room = room;
	return s;
}

/* Accepts a table being read; copies it to s, maybe torn (the caller checks). */
static void table_copy(const struct sl_topk *t, struct sl_topk_table *tb,
		       struct sl_topk_snap *s)
{
	uint32_t n = RD(tb->n);

	s->start_ns = RD(tb->start_ns);
	s->end_ns = RD(tb->end_ns);
	s->samples = RD(tb->samples);
	s->n = RTE_MIN(n, t->cap);
	for (uint32_t i = 0; i < s->n; i++) {
		struct sl_topk_entry *e = &tb->e[i], *d = &s->e[i];

		for (int w = 0; w < 6; w++)
			d->key_w[w] = RD(e->key_w[w]);
		d->count = RD(e->count);
		d->err = RD(e->err);
		d->bytes = RD(e->bytes);
	}
}

int sl_topk_snapshot(const struct sl_topk *t, struct sl_topk_snap *s)
{
	s->n = 0;
	if (s->room < t->cap)
		return -ENOSPC;
	s->interval_ns = t->interval_ns;
	s->sample_n = t->sample_n;
	s->cap = t->cap;
	for (int tries = 0; tries < 8; tries++) {
		uint64_t r = __atomic_load_n(&t->rot, __ATOMIC_ACQUIRE);

		if (r == 0)
			return -ENODATA;
		table_copy(t, t->tab[(r + 1) & 1], s);
		/* The copy's loads were acquires: this load comes after them. */
		if (__atomic_load_n(&t->rot, __ATOMIC_RELAXED) == r)
			return 0;
	}
	s->n = 0;
	return -EAGAIN;
}

/* An entry of a snapshot, during a merge. */
struct merge_item {
	const struct sl_topk_entry *e;
	uint32_t snap;
};

/* What the merge knows of one snapshot. */
struct merge_snap {
	double per_sample;	/* packets per second one sample stands for */
	double absent_hi;	/* most a key absent from it may have, in pps */
};

static int item_cmp(const void *a, const void *b)
{
	const struct merge_item *x = a, *y = b;
	int c = memcmp(&x->e->key, &y->e->key, sizeof(x->e->key));

	if (c != 0)
		return c;
	return x->snap < y->snap ? -1 : x->snap > y->snap;
}

static int result_cmp(const void *a, const void *b)
{
	const struct sl_topk_result *x = a, *y = b;

	if (x->pps != y->pps)
		return x->pps < y->pps ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Accepts a snapshot; fills m, returns 0 if it holds no current counts. */
static int merge_snap_init(const struct sl_topk_snap *s, uint64_t now_ns,
			   struct merge_snap *m)
{
	uint32_t min = UINT32_MAX;

	m->per_sample = 0;
	m->absent_hi = 0;
	if (s->end_ns <= s->start_ns || s->n == 0)
		return 0;
	if (now_ns > s->end_ns && now_ns - s->end_ns > 2 * s->interval_ns)
		return 0;
	m->per_sample = (double)s->sample_n * 1e9 / (double)(s->end_ns - s->start_ns);
	/* A full table may have dropped a key with up to its least count. */
	if (s->n >= s->cap) {
		for (uint32_t i = 0; i < s->n; i++)
			min = RTE_MIN(min, s->e[i].count);
		m->absent_hi = min * m->per_sample;
	}
	return 1;
}

/* Accepts the run of items of one key; fills r with the key's rates. */
static void merge_key(const struct merge_item *it, uint32_t n,
		      const struct merge_snap *ms, double absent_hi,
		      struct sl_topk_result *r)
{
	memset(r, 0, sizeof(*r));
	r->key = it[0].e->key;
	r->pps_hi = absent_hi;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_topk_entry *e = it[i].e;
		const struct merge_snap *m = &ms[it[i].snap];
		double seen = e->count - e->err;

		r->pps += e->count * m->per_sample;
		r->pps_lo += seen * m->per_sample;
		r->pps_hi += e->count * m->per_sample - m->absent_hi;
		/* Bytes since the key entered, scaled by its mean frame. */
		r->bps += 8.0 * (double)e->bytes * e->count / seen * m->per_sample;
		r->samples += e->count;
		r->lcores++;
	}
}

int sl_topk_merge(const struct sl_topk_snap *const *snaps, uint32_t n_snaps,
		  uint32_t class_id, uint64_t now_ns,
		  struct sl_topk_result *out, uint32_t n_out)
{
	struct merge_snap *ms;
	struct merge_item *items = NULL;
	struct sl_topk_result *res = NULL;
	double absent_hi = 0;
	size_t total = 0, n_items = 0, n_res = 0;
	int rc = -ENOMEM;

	ms = calloc(n_snaps + 1, sizeof(*ms));
	if (ms == NULL)
		return -ENOMEM;
	for (uint32_t s = 0; s < n_snaps; s++)
		if (merge_snap_init(snaps[s], now_ns, &ms[s])) {
			total += snaps[s]->n;
			absent_hi += ms[s].absent_hi;
		}
	items = calloc(total + 1, sizeof(*items));
	res = calloc(total + 1, sizeof(*res));
	if (items == NULL || res == NULL)
		goto free_all;
	for (uint32_t s = 0; s < n_snaps; s++) {
		if (ms[s].per_sample == 0)
			continue;
		for (uint32_t i = 0; i < snaps[s]->n; i++) {
			const struct sl_topk_entry *e = &snaps[s]->e[i];

			if (class_id != SL_TOPK_ALL_CLASSES &&
			    e->key.class_id != class_id)
				continue;
			items[n_items].e = e;
			items[n_items++].snap = s;
		}
	}
	qsort(items, n_items, sizeof(*items), item_cmp);
	for (size_t i = 0, j; i < n_items; i = j) {
		for (j = i + 1; j < n_items; j++)
			if (memcmp(&items[j].e->key, &items[i].e->key,
				   sizeof(items[i].e->key)) != 0)
				break;
		merge_key(&items[i], (uint32_t)(j - i), ms, absent_hi,
			  &res[n_res++]);
	}
	qsort(res, n_res, sizeof(*res), result_cmp);
	n_res = RTE_MIN(n_res, (size_t)n_out);
	memcpy(out, res, n_res * sizeof(*res));
	rc = (int)n_res;

free_all:
	free(res);
	free(items);
	free(ms);
	return rc;
}
