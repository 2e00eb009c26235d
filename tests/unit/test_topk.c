/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Heavy-hitter tracking (common/topk.c): the true top 10 among 100,000
 * active keys (Zipf, and 10 heavy keys among uniform light ones), the
 * Space-Saving bounds against exact counts, per-class filtering, the
 * merge of several workers, rates per interval, and a reader thread
 * copying while the worker writes (no torn entry, ever).
 *
 * Streams are random with fixed seeds, so a failure replays.
 * SL_TOPK_BENCH=1 prints the cost of an offer instead (not a test).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "eal_helper.h"
#include "pkt.h"
#include "topk.h"

#define NS	1000000000ULL
#define KEYS	100000u

/* Fails without Check's per-assert bookkeeping, for loops. */
#define TK_CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			ck_abort_msg(__VA_ARGS__);	\
	} while (0)

/* splitmix64: any seed is a good one. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Accepts a generator; returns a uniform double in [0, 1). */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Accepts a key; returns a checksum of all of it but pad2 (FNV-1a). */
static uint32_t key_sum(const struct sl_flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < offsetof(struct sl_flow_key, pad2); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Accepts a key; returns the frame length its packets have (64..1500). */
static uint32_t key_len(const struct sl_flow_key *k)
{
	return 64 + key_sum(k) % 1437;
}

/* Accepts a class and a key number; builds its src key, checksummed. */
static void key_make(struct sl_flow_key *k, uint32_t cls, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->class_id = cls;
	k->family = SL_FAMILY_IPV4;
	k->src[0] = 10;
	k->src[1] = (uint8_t)(id >> 16);
	k->src[2] = (uint8_t)(id >> 8);
	k->src[3] = (uint8_t)id;
	k->pad2 = key_sum(k);
}

/* Accepts a key made by key_make; returns its number. */
static uint32_t key_id(const struct sl_flow_key *k)
{
	return (uint32_t)k->src[1] << 16 | (uint32_t)k->src[2] << 8 | k->src[3];
}

static struct sl_topk *topk_new(uint32_t cap, uint32_t sample_n,
				uint64_t interval_ns, uint64_t seed)
{
	struct sl_topk *t;

	test_eal_init();
	t = sl_topk_create(cap, sample_n, interval_ns, seed, SOCKET_ID_ANY);
	ck_assert_msg(t != NULL, "sl_topk_create: %s", rte_strerror(rte_errno));
	return t;
}

/* Accepts a tracker; offers n packets of keys ids[] of class cls. */
static void feed(struct sl_topk *t, uint32_t cls, const uint32_t *ids, size_t n)
{
	struct sl_flow_key k;

	for (size_t i = 0; i < n; i++) {
		key_make(&k, cls, ids[i]);
		sl_topk_offer(t, &k, key_len(&k));
	}
}

/* Accepts a tracker; offers count packets of key id of class cls. */
static void feed_key(struct sl_topk *t, uint32_t cls, uint32_t id,
		     uint32_t count)
{
	struct sl_flow_key k;

	key_make(&k, cls, id);
	for (uint32_t i = 0; i < count; i++)
		sl_topk_offer(t, &k, key_len(&k));
}

/* Accepts a tracker with an interval ended; returns its snapshot. */
static struct sl_topk_snap *snap_take(const struct sl_topk *t)
{
	struct sl_topk_snap *s = sl_topk_snap_alloc(sl_topk_capacity(t));
	int rc;

	ck_assert_ptr_nonnull(s);
	rc = sl_topk_snapshot(t, s);
	ck_assert_msg(rc == 0, "snapshot: %d", rc);
	return s;
}

/* Merge one snapshot: the n heaviest of class cls into out. */
static int top_of(const struct sl_topk_snap *s, uint32_t cls, uint64_t now_ns,
		  struct sl_topk_result *out, uint32_t n)
{
	const struct sl_topk_snap *v[1] = { s };

	return sl_topk_merge(v, 1, cls, now_ns, out, n);
}

START_TEST(test_create_bounds)
{
	static const struct {
		uint32_t cap, sample_n;
		uint64_t interval_ns;
		int ok;
	} cases[] = {
		{ SL_TOPK_CAP_DEFAULT, SL_TOPK_SAMPLE_DEFAULT, NS, 1 },
		{ SL_TOPK_CAP_MIN, 1, SL_TOPK_INTERVAL_MIN_NS, 1 },
		{ SL_TOPK_CAP_MAX, SL_TOPK_SAMPLE_MAX, SL_TOPK_INTERVAL_MAX_NS, 1 },
		{ SL_TOPK_CAP_MIN - 1, 1, NS, 0 },
		{ SL_TOPK_CAP_MAX + 1, 1, NS, 0 },
		{ 1024, 0, NS, 0 },
		{ 1024, SL_TOPK_SAMPLE_MAX + 1, NS, 0 },
		{ 1024, 1, SL_TOPK_INTERVAL_MIN_NS - 1, 0 },
		{ 1024, 1, SL_TOPK_INTERVAL_MAX_NS + 1, 0 },
	};

	test_eal_init();
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		struct sl_topk *t;

		rte_errno = 0;
		t = sl_topk_create(cases[i].cap, cases[i].sample_n,
				   cases[i].interval_ns, i, SOCKET_ID_ANY);
		ck_assert_msg((t != NULL) == cases[i].ok, "case %zu", i);
		if (!cases[i].ok)
			ck_assert_int_eq(rte_errno, EINVAL);
		sl_topk_free(t);
	}
}
END_TEST

START_TEST(test_memory_bounded)
{
	static const uint32_t caps[] = { SL_TOPK_CAP_MIN, 256, 1024, SL_TOPK_CAP_MAX };

	for (size_t i = 0; i < RTE_DIM(caps); i++) {
		size_t m = sl_topk_memsize(caps[i]);

		/* Two tables of 64-byte entries, then about 30 bytes an entry. */
		ck_assert_uint_ge(m, 2 * 64 * (size_t)caps[i]);
		ck_assert_msg(m <= 160 * (size_t)caps[i] + 1024,
			      "cap %u: %zu bytes", caps[i], m);
		printf("topk: %u entries: %zu bytes per lcore\n", caps[i], m);
	}
	ck_assert_uint_eq(sizeof(struct sl_topk_entry), 64);
}
END_TEST

/* A stream: key numbers in arrival order, and each key's true count. */
struct stream {
	uint32_t *ids;
	size_t n;
	uint32_t *truth;	/* KEYS counts */
};

enum dist { ZIPF, HEAVY10 };

/*
 * Accepts a distribution; builds every one of KEYS keys once plus draws
 * more packets, shuffled. ZIPF: key i with weight 1/(i+1)^s. HEAVY10:
 * keys 0..9 at 1% each, the rest uniform.
 */
static void stream_make(struct stream *st, enum dist d, double s, size_t draws,
			uint64_t seed)
{
	double *cdf = NULL;

	st->n = KEYS + draws;
	st->ids = malloc(st->n * sizeof(*st->ids));
	st->truth = calloc(KEYS, sizeof(*st->truth));
	/* Plain checks: the benchmark builds streams outside any test. */
	if (st->ids == NULL || st->truth == NULL)
		abort();
	if (d == ZIPF) {
		double sum = 0;

		cdf = malloc(KEYS * sizeof(*cdf));
		if (cdf == NULL)
			abort();
		for (uint32_t i = 0; i < KEYS; i++)
			cdf[i] = (sum += pow(i + 1, -s));
		for (uint32_t i = 0; i < KEYS; i++)
			cdf[i] /= sum;
	}
	for (uint32_t i = 0; i < KEYS; i++)
		st->ids[i] = i;
	for (size_t j = KEYS; j < st->n; j++) {
		double u = rng_unit(&seed);
		uint32_t id;

		if (d == ZIPF) {
			uint32_t lo = 0, hi = KEYS - 1;

			while (lo < hi) {
				uint32_t mid = (lo + hi) / 2;

				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			id = lo;
		} else if (u < 0.10) {
			id = (uint32_t)(u * 100);	/* 1% each */
		} else {
			id = 10 + (uint32_t)(rng_next(&seed) % (KEYS - 10));
		}
		st->ids[j] = id;
	}
	for (size_t j = st->n - 1; j > 0; j--) {
		size_t r = rng_next(&seed) % (j + 1);
		uint32_t tmp = st->ids[j];

		st->ids[j] = st->ids[r];
		st->ids[r] = tmp;
	}
	for (size_t j = 0; j < st->n; j++)
		st->truth[st->ids[j]]++;
	free(cdf);
}

static void stream_free(struct stream *st)
{
	free(st->ids);
	free(st->truth);
}

/* Accepts true counts; writes the numbers of the 10 heaviest to top. */
static void true_top10(const uint32_t *truth, uint32_t *top)
{
	for (int r = 0; r < 10; r++) {
		uint32_t best = UINT32_MAX;

		for (uint32_t i = 0; i < KEYS; i++) {
			int taken = 0;

			for (int q = 0; q < r; q++)
				taken |= top[q] == i;
			if (!taken && (best == UINT32_MAX || truth[i] > truth[best]))
				best = i;
		}
		top[r] = best;
	}
}

static const struct {
	const char *what;
	enum dist d;
	double s;
	size_t draws;
	uint32_t cap, sample_n;
	int ordered;	/* true counts differ: check the order */
} heavy_cases[] = {
	{ "zipf 1.0, every packet", ZIPF, 1.0, 2000000, 1024, 1, 1 },
	{ "zipf 1.0, 256 entries", ZIPF, 1.0, 2000000, 256, 1, 1 },
	{ "zipf 1.2, 1 in 16", ZIPF, 1.2, 4000000, 1024, 16, 0 },
	{ "10 heavy at 1%, every packet", HEAVY10, 0, 2000000, 1024, 1, 0 },
	{ "10 heavy at 1%, 1 in 16", HEAVY10, 0, 4000000, 1024, 16, 0 },
	{ "10 heavy at 1%, 1 in 64", HEAVY10, 0, 8000000, 1024, 64, 0 },
};

/*
 * Accepts a snapshot of one interval of 1 s fed the stream at 1 in 1;
 * checks the Space-Saving bounds of every entry against the truth.
 */
static void check_bounds(const struct sl_topk_snap *s, const struct stream *st)
{
	uint64_t sum = 0;

	ck_assert_uint_eq(s->samples, st->n);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sl_topk_entry *e = &s->e[i];
		uint32_t t = st->truth[key_id(&e->key)];

		sum += e->count;
		TK_CHECK(e->count >= t && e->count - e->err <= t,
			 "key %u: count %u err %u true %u", key_id(&e->key),
			 e->count, e->err, t);
		/* err <= samples / cap: the least count is at most the mean. */
		TK_CHECK((uint64_t)e->err * s->cap <= s->samples,
			 "err %u over the bound", e->err);
		TK_CHECK(e->bytes == (uint64_t)(e->count - e->err) * key_len(&e->key),
			 "bytes of key %u", key_id(&e->key));
	}
	ck_assert_uint_eq(sum, s->samples);
}

START_TEST(test_heavy_hitters)
{
	struct sl_topk_result res[10];
	uint32_t top[10];
	struct stream st;
	struct sl_topk_snap *s;
	struct sl_topk *t;
	int n;

	t = topk_new(heavy_cases[_i].cap, heavy_cases[_i].sample_n, NS, _i);
	stream_make(&st, heavy_cases[_i].d, heavy_cases[_i].s,
		    heavy_cases[_i].draws, 42 + _i);
	true_top10(st.truth, top);
	sl_topk_tick(t, 0);
	feed(t, 7, st.ids, st.n);
	sl_topk_tick(t, NS);
	s = snap_take(t);
	if (heavy_cases[_i].sample_n == 1)
		check_bounds(s, &st);
	n = top_of(s, SL_TOPK_ALL_CLASSES, NS, res, 10);
	ck_assert_int_eq(n, 10);
	for (int r = 0; r < 10; r++) {
		uint32_t id = key_id(&res[r].key), truth = st.truth[id];
		int found = 0;
		/* Sampling: within 5 standard errors of a Poisson count. */
		double tol = heavy_cases[_i].sample_n == 1 ? 0 :
			5 * truth / sqrt(truth / heavy_cases[_i].sample_n);

		for (int q = 0; q < 10; q++)
			found |= top[q] == id;
		ck_assert_msg(found, "%s: rank %d: key %u (%u packets) is not a true top 10",
			      heavy_cases[_i].what, r, id, truth);
		ck_assert_uint_eq(res[r].key.class_id, 7);
		if (heavy_cases[_i].sample_n == 1)
			TK_CHECK(res[r].pps_lo <= truth && truth <= res[r].pps &&
				 res[r].pps <= res[r].pps_hi,
				 "%s: key %u: %u packets outside [%.0f, %.0f]",
				 heavy_cases[_i].what, id, truth, res[r].pps_lo,
				 res[r].pps);
		else
			TK_CHECK(fabs(res[r].pps - truth) <=
				 tol + res[r].pps - res[r].pps_lo,
				 "%s: key %u: %.0f pps for %u", heavy_cases[_i].what,
				 id, res[r].pps, truth);
		/* Every frame of a key has its length: bits follow packets. */
		TK_CHECK(fabs(res[r].bps - 8.0 * key_len(&res[r].key) * res[r].pps) <
			 1e-9 * res[r].bps, "%s: key %u: %.0f bit/s",
			 heavy_cases[_i].what, id, res[r].bps);
		/* Out of order only where the counts are within the bound. */
		if (heavy_cases[_i].ordered && r > 0) {
			uint32_t prev = st.truth[key_id(&res[r - 1].key)];
			double err = res[r].pps - res[r].pps_lo +
				     res[r - 1].pps - res[r - 1].pps_lo;

			TK_CHECK(truth <= prev || truth - prev <= err,
				 "%s: rank %d (%u) after rank %d (%u)",
				 heavy_cases[_i].what, r, truth, r - 1, prev);
		}
	}
	printf("topk: %s: top 10 found, 10th at %.0f pps (true %u)\n",
	       heavy_cases[_i].what, res[9].pps, st.truth[key_id(&res[9].key)]);
	free(s);
	stream_free(&st);
	sl_topk_free(t);
}
END_TEST

START_TEST(test_class_filter)
{
	static const struct {
		uint32_t cls;
		uint32_t n;
		uint32_t id[4];		/* expected keys, heaviest first */
		uint32_t key_cls[4];
	} cases[] = {
		{ 1, 2, { 100, 101 }, { 1, 1 } },
		{ 2, 2, { 200, 201 }, { 2, 2 } },
		{ SL_TOPK_ALL_CLASSES, 4, { 200, 100, 101, 201 }, { 2, 1, 1, 2 } },
		{ 3, 0, { 0 }, { 0 } },
	};
	struct sl_topk_result res[4];
	struct sl_topk_snap *s;
	struct sl_topk *t = topk_new(64, 1, NS, 1);

	sl_topk_tick(t, 0);
	feed_key(t, 1, 100, 500);
	feed_key(t, 2, 200, 1000);
	feed_key(t, 1, 101, 300);
	feed_key(t, 2, 201, 50);
	/* The same address in another class is another key. */
	feed_key(t, 1, 200, 10);
	feed_key(t, 2, 100, 10);
	sl_topk_tick(t, NS);
	s = snap_take(t);
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		int n = top_of(s, cases[i].cls, NS, res, cases[i].n ? cases[i].n : 4);

		ck_assert_int_eq(n, (int)cases[i].n);
		for (uint32_t r = 0; r < cases[i].n; r++) {
			ck_assert_uint_eq(key_id(&res[r].key), cases[i].id[r]);
			ck_assert_uint_eq(res[r].key.class_id, cases[i].key_cls[r]);
		}
	}
	free(s);
	sl_topk_free(t);
}
END_TEST

START_TEST(test_merge_split_key)
{
	struct sl_topk *t0 = topk_new(64, 1, NS, 1), *t1 = topk_new(64, 1, NS, 2);
	struct sl_topk_snap *s[2];
	struct sl_topk_result res[8];
	int n;

	sl_topk_tick(t0, 0);
	sl_topk_tick(t1, 0);
	feed_key(t0, 1, 1, 600);	/* K: split across the lcores */
	feed_key(t1, 1, 1, 500);
	feed_key(t0, 1, 2, 1000);	/* J */
	feed_key(t1, 1, 3, 700);	/* M */
	sl_topk_tick(t0, NS);
	sl_topk_tick(t1, NS);
	s[0] = snap_take(t0);
	s[1] = snap_take(t1);
	n = sl_topk_merge((const struct sl_topk_snap *const *)s, 2, 1, NS, res, 8);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(key_id(&res[0].key), 1);
	ck_assert_double_eq(res[0].pps, 1100);
	ck_assert_double_eq(res[0].pps_lo, 1100);
	ck_assert_double_eq(res[0].pps_hi, 1100);	/* neither table full */
	ck_assert_uint_eq(res[0].lcores, 2);
	ck_assert_uint_eq(key_id(&res[1].key), 2);
	ck_assert_double_eq(res[1].pps, 1000);
	ck_assert_uint_eq(res[1].lcores, 1);
	ck_assert_uint_eq(key_id(&res[2].key), 3);
	ck_assert_double_eq(res[2].pps, 700);
	ck_assert_double_eq_tol(res[2].bps, 700.0 * 8 * key_len(&res[2].key), 1e-6);
	/* One result asked: the heaviest. */
	ck_assert_int_eq(sl_topk_merge((const struct sl_topk_snap *const *)s, 2,
				       1, NS, res, 1), 1);
	ck_assert_uint_eq(key_id(&res[0].key), 1);
	free(s[0]);
	free(s[1]);
	sl_topk_free(t0);
	sl_topk_free(t1);
}
END_TEST

/*
 * Two full trackers of 16 entries share a random stream; every merged
 * key's true rate lies within [pps_lo, pps_hi], and one interval that
 * was ticked late (2 s long) counts at half the rate.
 */
START_TEST(test_merge_bounds)
{
	struct sl_topk *t0 = topk_new(16, 1, NS, 1), *t1 = topk_new(16, 1, NS, 2);
	uint32_t truth0[200] = { 0 }, truth1[200] = { 0 };
	struct sl_topk_result res[64];
	struct sl_topk_snap *s[2];
	uint64_t seed = 7;
	int n, hi_over = 0;

	sl_topk_tick(t0, 0);
	sl_topk_tick(t1, 0);
	for (int i = 0; i < 20000; i++) {
		/* Keys 0..9 heavy, split by parity; the rest light and random. */
		uint32_t id = rng_next(&seed) % 4 ? rng_next(&seed) % 10 :
			      10 + rng_next(&seed) % 190;
		int lc = (id < 10) ? (int)(id & rng_next(&seed) & 1) :
			 (int)(rng_next(&seed) & 1);

		feed_key(lc ? t1 : t0, 1, id, 1);
		(lc ? truth1 : truth0)[id]++;
	}
	sl_topk_tick(t0, NS);
	sl_topk_tick(t1, 2 * NS);	/* its interval lasted 2 s */
	s[0] = snap_take(t0);
	s[1] = snap_take(t1);
	ck_assert_uint_eq(s[0]->n, 16);
	ck_assert_uint_eq(s[1]->n, 16);
	n = sl_topk_merge((const struct sl_topk_snap *const *)s, 2, 1, 2 * NS,
			  res, 64);
	ck_assert_int_gt(n, 10);
	for (int r = 0; r < n; r++) {
		uint32_t id = key_id(&res[r].key);
		double truth = truth0[id] + truth1[id] / 2.0;

		TK_CHECK(res[r].pps_lo <= truth + 1e-6 && truth <= res[r].pps_hi + 1e-6,
			 "key %u: true %.1f pps outside [%.1f, %.1f]", id, truth,
			 res[r].pps_lo, res[r].pps_hi);
		TK_CHECK(res[r].pps_lo <= res[r].pps && res[r].pps <= res[r].pps_hi,
			 "key %u: estimate outside its bounds", id);
		hi_over += res[r].pps_hi > res[r].pps;
	}
	/* Full tables: a key absent from one may have been dropped there. */
	ck_assert_int_gt(hi_over, 0);
	/* The heaviest is a heavy key. */
	ck_assert_uint_lt(key_id(&res[0].key), 10);
	free(s[0]);
	free(s[1]);
	sl_topk_free(t0);
	sl_topk_free(t1);
}
END_TEST

START_TEST(test_intervals)
{
	struct sl_topk *t = topk_new(64, 1, NS, 3);
	struct sl_topk_snap *s = sl_topk_snap_alloc(64), *small = sl_topk_snap_alloc(16);
	struct sl_topk_result res[4];
	static const struct {
		uint32_t a, b, c;	/* packets of keys 1, 2, 3 in the interval */
		uint64_t tick_ns;	/* when the interval is closed */
		uint64_t read_ns;	/* when merged */
		uint32_t n;		/* results */
		uint32_t first;		/* heaviest key */
		double first_pps;
	} steps[] = {
		{ 1000, 10, 0, 1 * NS, 1 * NS, 2, 1, 1000 },
		{ 10, 2000, 0, 2 * NS, 2 * NS, 2, 2, 2000 },
		/* Ticked late: 3000 packets over 1.5 s. */
		{ 0, 0, 3000, 3 * NS + NS / 2, 4 * NS, 1, 3, 2000 },
		/* Read much later: the worker has had no traffic since. */
		{ 0, 0, 300, 5 * NS, 7 * NS + 1, 0, 0, 0 },
		/* No traffic: an empty interval. */
		{ 0, 0, 0, 6 * NS, 6 * NS, 0, 0, 0 },
	};

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sl_topk_snapshot(t, s), -ENODATA);
	ck_assert_int_eq(sl_topk_snapshot(t, small), -ENOSPC);
	sl_topk_tick(t, 0);
	for (size_t i = 0; i < RTE_DIM(steps); i++) {
		int n;

		feed_key(t, 1, 1, steps[i].a);
		feed_key(t, 1, 2, steps[i].b);
		feed_key(t, 1, 3, steps[i].c);
		/* Until the interval ends, readers see the previous one. */
		if (i > 0) {
			ck_assert_int_eq(sl_topk_snapshot(t, s), 0);
			ck_assert_uint_eq(s->end_ns, steps[i - 1].tick_ns);
		}
		sl_topk_tick(t, steps[i].tick_ns);
		ck_assert_int_eq(sl_topk_snapshot(t, s), 0);
		ck_assert_uint_eq(s->start_ns, i ? steps[i - 1].tick_ns : 0);
		ck_assert_uint_eq(s->end_ns, steps[i].tick_ns);
		ck_assert_uint_eq(s->samples, steps[i].a + steps[i].b + steps[i].c);
		n = top_of(s, 1, steps[i].read_ns, res, 4);
		ck_assert_msg(n == (int)steps[i].n, "step %zu: %d results", i, n);
		if (n > 0) {
			ck_assert_uint_eq(key_id(&res[0].key), steps[i].first);
			ck_assert_double_eq_tol(res[0].pps, steps[i].first_pps, 1e-6);
		}
	}
	free(s);
	free(small);
	sl_topk_free(t);
}
END_TEST

/* The worker and reader threads of test_concurrent_reader. */
struct race {
	struct sl_topk *t;
	volatile int stop;
	uint64_t written, rotations;
	uint64_t ok, again, nodata, bad;
	char why[160];
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	uint64_t seed = 99, now = 0;
	struct sl_flow_key k;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 1024; i++) {
			/* Skewed: low numbers often, so entries are reused and evicted. */
			uint64_t x = rng_next(&seed);
			uint32_t id = (uint32_t)((x & 0xffff) * ((x >> 16) & 0xff) >> 16);

			key_make(&k, (uint32_t)(x >> 40) & 3, id);
			sl_topk_offer(r->t, &k, key_len(&k));
			now += 37;
			if (now >= r->t->next_ns)
				r->rotations++;
			sl_topk_tick(r->t, now);
		}
		r->written += 1024;
	}
	return NULL;
}

/* Accepts a snapshot; returns NULL or what is wrong with it. */
static const char *snap_invalid(const struct sl_topk_snap *s)
{
	uint64_t sum = 0;

	if (s->n > s->cap)
		return "more entries than the capacity";
	if (s->end_ns <= s->start_ns)
		return "interval ends before it starts";
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sl_topk_entry *e = &s->e[i];

		if (e->key.pad2 != key_sum(&e->key))
			return "torn key";
		if (e->count <= e->err)
			return "count not above err";
		if (e->bytes != (uint64_t)(e->count - e->err) * key_len(&e->key))
			return "bytes of another count";
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(&s->e[j].key, &e->key, sizeof(e->key)) == 0)
				return "key twice";
		sum += e->count;
	}
	if (sum != s->samples)
		return "counts do not sum to the samples";
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct sl_topk_snap *s = sl_topk_snap_alloc(sl_topk_capacity(r->t));
	struct timespec t0, t1;

	if (s == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int rc = sl_topk_snapshot(r->t, s);
		const char *why;

		if (rc == -ENODATA) {
			r->nodata++;
		} else if (rc == -EAGAIN) {
			r->again++;
		} else if (rc != 0) {
			snprintf(r->why, sizeof(r->why), "snapshot: %d", rc);
			r->bad++;
		} else if ((why = snap_invalid(s)) != NULL) {
			if (r->bad++ == 0)
				snprintf(r->why, sizeof(r->why), "%s (interval %llu)",
					 why, (unsigned long long)s->start_ns);
		} else {
			r->ok++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec <
		 1500000000LL);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
	free(s);
	return NULL;
}

/*
 * Table-driven over tracker sizes: a worker thread offers keys and
 * rotates every few dozen packets while a reader snapshots in a loop;
 * no copy the reader accepts is torn.
 */
START_TEST(test_concurrent_reader)
{
	static const struct {
		uint32_t cap;
		uint64_t interval_ns;
	} cases[] = {
		{ 16, 1000 },	/* a rotation every 27 packets */
		{ 64, 4000 },
		{ 1024, 40000 },
	};

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		struct race r = { .t = topk_new(cases[i].cap, 1, cases[i].interval_ns, i) };
		pthread_t w, rd;

		ck_assert_int_eq(pthread_create(&w, NULL, race_writer, &r), 0);
		ck_assert_int_eq(pthread_create(&rd, NULL, race_reader, &r), 0);
		pthread_join(rd, NULL);
		pthread_join(w, NULL);
		printf("topk: race cap %u: %llu packets, %llu rotations, "
		       "%llu snapshots, %llu gave up, %llu bad\n", cases[i].cap,
		       (unsigned long long)r.written,
		       (unsigned long long)r.rotations,
		       (unsigned long long)r.ok, (unsigned long long)r.again,
		       (unsigned long long)r.bad);
		ck_assert_msg(r.bad == 0, "cap %u: %llu bad snapshots, first: %s",
			      cases[i].cap, (unsigned long long)r.bad, r.why);
		ck_assert_uint_gt(r.ok, 100);
		ck_assert_uint_gt(r.rotations, 100);
		sl_topk_free(r.t);
	}
}
END_TEST

/* The calling thread's CPU time in ns: preemption on a shared box excluded. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Accepts a key number; builds a key as the engine does, unchecksummed. */
static inline void bench_key(struct sl_flow_key *k, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->class_id = 1;
	k->family = SL_FAMILY_IPV4;
	memcpy(&k->src[0], &id, sizeof(id));
}

/*
 * Accepts a stream; returns the least CPU ns of 3 runs of it through a
 * tracker (sample_n > 0) or of building its keys alone (sample_n 0).
 */
static uint64_t bench_run(const uint32_t *ids, size_t n, uint32_t sample_n)
{
	uint64_t best = UINT64_MAX;

	for (int rep = 0; rep < 3; rep++) {
		struct sl_topk *t = NULL;
		struct sl_flow_key k;
		uint64_t t0;

		if (sample_n > 0) {
			t = sl_topk_create(SL_TOPK_CAP_DEFAULT, sample_n, NS,
					   rep, SOCKET_ID_ANY);
			if (t == NULL)
				abort();
			sl_topk_tick(t, 0);
		}
		t0 = cpu_ns();
		for (size_t i = 0; i < n; i++) {
			bench_key(&k, ids[i]);
			if (t != NULL)
				sl_topk_offer(t, &k, 64 + ids[i] % 1437);
			/* The key is built even where nothing reads it. */
			__asm__ volatile("" : : "r"(&k) : "memory");
		}
		best = RTE_MIN(best, cpu_ns() - t0);
		sl_topk_free(t);
	}
	return best;
}

/* ns and cycles (at the TSC rate) per offer, beyond building the key. */
static void bench_one(const char *what, const uint32_t *ids, size_t n)
{
	static const uint32_t samples[] = { 1, 16, 32, 64 };
	double ghz = rte_get_tsc_hz() / 1e9;
	uint64_t base = bench_run(ids, n, 0);

	for (size_t i = 0; i < RTE_DIM(samples); i++) {
		double ns = (double)(bench_run(ids, n, samples[i]) - base) / n;

		printf("bench: %-20s 1 in %-3u %6.2f ns %6.1f cycles per packet "
		       "(key building, %.2f ns, excluded)\n", what, samples[i],
		       ns, ns * ghz, (double)base / n);
	}
}

static void bench(void)
{
	struct stream z, u;

	stream_make(&z, ZIPF, 1.0, 4000000, 5);
	stream_make(&u, HEAVY10, 0, 4000000, 6);
	bench_one("zipf 1.0", z.ids, z.n);
	bench_one("10 heavy + uniform", u.ids, u.n);
	stream_free(&z);
	stream_free(&u);
}

static Suite *topk_suite(void)
{
	Suite *s = suite_create("topk");
	TCase *tc = tcase_create("topk");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_bounds);
	tcase_add_test(tc, test_memory_bounded);
	tcase_add_loop_test(tc, test_heavy_hitters, 0, RTE_DIM(heavy_cases));
	tcase_add_test(tc, test_class_filter);
	tcase_add_test(tc, test_merge_split_key);
	tcase_add_test(tc, test_merge_bounds);
	tcase_add_test(tc, test_intervals);
	tcase_add_test(tc, test_concurrent_reader);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (getenv("SL_TOPK_BENCH") != NULL) {
		test_eal_init();
		bench();
		return EXIT_SUCCESS;
	}
	sr = srunner_create(topk_suite());

	/* One EAL per process: run the tests in it, not in forks. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
