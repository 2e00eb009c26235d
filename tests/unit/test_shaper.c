/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's shaping queue (dataplane/shaper.h): a packet leaves at
 * the first poll at or after the start of the tick that holds its
 * departure, never before it; packets of one tick leave in the order
 * they came; the wheel turns over many times and after long idles
 * without releasing anything a turn early; capacity is exact; and
 * nothing queued leaks when the shaper is freed.
 *
 * Random tests name their seed on failure; SL_SHAPER_SEED=N replays it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <check.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "eal_helper.h"
#include "shaper.h"

#define TICK	DP_SHAPE_TICK_NS
#define MS	1000000ULL
#define NS	1000000000ULL
#define TURN	((uint64_t)DP_SHAPE_SLOTS * TICK)	/* one turn of the wheel */
#define NMBUF	8192

/* Fails without Check's per-assert bookkeeping, for loops. */
#define SH_CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			ck_abort_msg(__VA_ARGS__);	\
	} while (0)

static struct rte_mempool *pool;
static struct dp_shaper *sh;
static unsigned long long seed;

/* Accepts a capacity; an EAL, a pool of NMBUF mbufs, a shaper. */
static void setup(uint32_t cap)
{
	test_eal_init();
	if (pool == NULL)
		pool = rte_pktmbuf_pool_create("test_shaper", NMBUF, 0, 0,
					       RTE_PKTMBUF_HEADROOM + 64,
					       SOCKET_ID_ANY);
	ck_assert_msg(pool != NULL, "pool: %s", rte_strerror(rte_errno));
	sh = dp_shaper_create(cap, SOCKET_ID_ANY);
	ck_assert_msg(sh != NULL, "shaper: %s", rte_strerror(rte_errno));
}

static void teardown(void)
{
	dp_shaper_free(sh);
	sh = NULL;
	ck_assert_uint_eq(rte_mempool_avail_count(pool), NMBUF);
}

/* Accepts a sequence number; an mbuf that carries it. */
static struct rte_mbuf *mb(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	ck_assert_ptr_nonnull(m);
	m->hash.usr = seq;
	return m;
}

/* Accepts a departure; the start of the tick that releases it. */
static uint64_t release_at(uint64_t depart)
{
	return (depart + TICK - 1) / TICK * TICK;
}

/* Accepts a time; the one packet due then, its sequence, or -1. */
static int64_t pop1(uint64_t now)
{
	uint16_t port = 0xffff;
	struct rte_mbuf *m = dp_shaper_pop(sh, now, &port);
	int64_t seq;

	if (m == NULL)
		return -1;
	ck_assert_uint_eq(port, 7);
	seq = m->hash.usr;
	rte_pktmbuf_free(m);
	return seq;
}

/* One packet added at now for depart: not out 1 ns before its tick, out at it. */
static const struct {
	const char *what;
	uint64_t now, depart;
} tick_rows[] = {
	{ "on a tick", 5 * TICK, 9 * TICK },
	{ "1 ns after a tick", 5 * TICK, 9 * TICK + 1 },
	{ "1 ns before a tick", 5 * TICK, 9 * TICK - 1 },
	{ "due now, on a tick", 5 * TICK, 5 * TICK },
	{ "due now, inside a tick", 5 * TICK + 3, 5 * TICK + 3 },
	{ "the longest delay", 123 * MS, 123 * MS + SL_SHAPE_DELAY_MAX_NS },
	{ "across a turn", 3 * TURN - 1, 3 * TURN - 1 + SL_SHAPE_DELAY_MAX_NS },
	{ "days into the clock", 86400 * NS + 17, 86400 * NS + 17 + 50 * MS },
};

START_TEST(test_tick_bounds)
{
	uint64_t now = tick_rows[_i].now, d = tick_rows[_i].depart;
	uint64_t at = release_at(d);

	setup(4);
	ck_assert_int_eq(pop1(now), -1);
	ck_assert_int_eq(dp_shaper_add(sh, mb(1), 7, now, d), 0);
	ck_assert_uint_eq(dp_shaper_room(sh), 3);
	if (at > now)
		ck_assert_msg(pop1(at - 1) == -1, "%s: out 1 ns before its tick",
			      tick_rows[_i].what);
	ck_assert_msg(pop1(at > now ? at : now + TICK) == 1, "%s: not out at %" PRIu64,
		      tick_rows[_i].what, at);
	ck_assert_int_eq(pop1(at + 10 * TICK), -1);
	ck_assert_uint_eq(sh->st.max_late_ns, (at > now ? at : now + TICK) - d);
	ck_assert_uint_eq(dp_shaper_room(sh), 4);
	teardown();
}
END_TEST

/* Capacity is exact, a refused add leaves the mbuf with the caller. */
START_TEST(test_capacity)
{
	struct rte_mbuf *m;

	setup(4);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_int_eq(dp_shaper_add(sh, mb(i), 7, 0, MS), 0);
	ck_assert_uint_eq(dp_shaper_room(sh), 0);
	m = mb(4);
	ck_assert_int_eq(dp_shaper_add(sh, m, 7, 0, MS), -ENOSPC);
	ck_assert_uint_eq(sh->st.high_water, 4);
	ck_assert_int_eq(pop1(release_at(MS)), 0);
	ck_assert_int_eq(dp_shaper_add(sh, m, 7, release_at(MS), 2 * MS), 0);
	for (uint32_t i = 1; i < 4; i++)
		ck_assert_int_eq(pop1(release_at(MS)), i);
	ck_assert_int_eq(pop1(release_at(MS)), -1);
	ck_assert_int_eq(pop1(release_at(2 * MS)), 4);
	ck_assert_uint_eq(sh->st.added, 5);
	ck_assert_uint_eq(sh->st.sent, 5);
	teardown();

	/* A queue of 0 holds nothing. */
	setup(0);
	ck_assert_uint_eq(dp_shaper_room(sh), 0);
	m = mb(0);
	ck_assert_int_eq(dp_shaper_add(sh, m, 7, 0, MS), -ENOSPC);
	rte_pktmbuf_free(m);
	teardown();
}
END_TEST

/*
 * After an idle of many turns, with nothing released for ages, a packet
 * for the longest delay still waits its whole delay.
 */
START_TEST(test_idle_then_add)
{
	uint64_t now = 100 * TURN + 5 * MS, d = now + SL_SHAPE_DELAY_MAX_NS;

	setup(4);
	ck_assert_int_eq(dp_shaper_add(sh, mb(1), 7, 1000, 2 * MS), 0);
	ck_assert_int_eq(pop1(release_at(2 * MS)), 1);
	ck_assert_int_eq(dp_shaper_add(sh, mb(2), 7, now, d), 0);
	ck_assert_int_eq(pop1(release_at(d) - 1), -1);
	ck_assert_int_eq(pop1(release_at(d)), 2);
	teardown();
}
END_TEST

/* Packets still queued are freed with the shaper and counted. */
START_TEST(test_free_queued)
{
	setup(64);
	for (uint32_t i = 0; i < 40; i++)
		ck_assert_int_eq(dp_shaper_add(sh, mb(i), 7, 0, (i % 7) * MS), 0);
	ck_assert_int_eq(pop1(0), 0);	/* due at 0 */
	dp_shaper_free(sh);
	sh = NULL;
	ck_assert_uint_eq(rte_mempool_avail_count(pool), NMBUF);
}
END_TEST

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Accepts lo <= hi; a value in [lo, hi]. */
static uint64_t rnd_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

#define BUCKETS	16
#define SEQ_MAX	(1u << 20)

/*
 * Buckets add packets as the engine delays them (each bucket's
 * departures never go back, each at most the longest delay away) while
 * the clock advances in random steps over several turns of the wheel
 * and polls pop what is due. Every packet leaves at the first poll at
 * or after its tick, never before its departure; a bucket's packets
 * leave in order; ticks leave in order; a full queue refuses exactly
 * when it holds its capacity.
 */
START_TEST(test_random_order)
{
	static uint64_t depart[SEQ_MAX], added_at[SEQ_MAX];
	static uint8_t bucket[SEQ_MAX];
	uint64_t s = seed ^ ((uint64_t)_i * 0xd1b54a32d192ed03ULL);
	uint32_t cap = (uint32_t)rnd_range(&s, 1, 4096);
	uint64_t now = rnd_range(&s, 0, 1ULL << 50), end, prev_poll;
	uint64_t last[BUCKETS] = { 0 }, max_delay;
	int64_t last_seq[BUCKETS];
	uint64_t last_tick = 0, out = 0, refused = 0;
	uint32_t seq = 0;

	max_delay = rnd_range(&s, 0, 3) == 0 ? SL_SHAPE_DELAY_MAX_NS :
		    rnd_range(&s, 1, SL_SHAPE_DELAY_MAX_NS);
	if (_i % 4 == 0)	/* start just before a turn ends */
		now = (now / TURN + 1) * TURN - rnd_range(&s, 0, 3 * TICK);
	end = now + 3 * NS;
	prev_poll = now;
	for (int b = 0; b < BUCKETS; b++)
		last_seq[b] = -1;
	setup(cap);
	while (now < end || sh->n > 0) {
		struct rte_mbuf *m;
		uint16_t port;
		uint32_t adds;

		while ((m = dp_shaper_pop(sh, now, &port)) != NULL) {
			uint32_t q = m->hash.usr;
			uint64_t t = release_at(depart[q]);
			int b = bucket[q];

			/* At the first poll that had it at or after its tick. */
			SH_CHECK(now >= depart[q] && now >= t &&
				 (prev_poll < t || added_at[q] == prev_poll),
				 "seed %llu run %d: #%u due %" PRIu64 " (tick at %" PRIu64 ") out at %" PRIu64 ", previous poll %" PRIu64,
				 seed, _i, q, depart[q], t, now, prev_poll);
			SH_CHECK(t >= last_tick, "seed %llu run %d: ticks out of order",
				 seed, _i);
			SH_CHECK((int64_t)q > last_seq[b],
				 "seed %llu run %d: bucket %d out of order", seed, _i, b);
			last_tick = t;
			last_seq[b] = q;
			out++;
			rte_pktmbuf_free(m);
		}
		prev_poll = now;
		adds = now < end ? (uint32_t)rnd_range(&s, 0, 8) : 0;
		for (uint32_t k = 0; k < adds && seq < SEQ_MAX; k++) {
			int b = (int)rnd_range(&s, 0, BUCKETS - 1);
			uint64_t d = last[b] > now ? last[b] : now;
			uint32_t room = dp_shaper_room(sh);
			int rc;

			d += rnd_range(&s, 0, rnd_range(&s, 0, 3) ? 2 * TICK : 50 * MS);
			if (d > now + max_delay)
				continue;	/* the engine drops it */
			m = mb(seq);
			rc = dp_shaper_add(sh, m, 7, now, d);
			SH_CHECK((rc == 0) == (room > 0), "seed %llu run %d: add %d with room %u",
				 seed, _i, rc, room);
			if (rc != 0) {
				rte_pktmbuf_free(m);
				refused++;
				continue;
			}
			depart[seq] = d;
			added_at[seq] = now;
			bucket[seq] = (uint8_t)b;
			last[b] = d;
			seq++;
		}
		now += rnd_range(&s, 0, 4) == 0 ? rnd_range(&s, 0, 20 * MS) :
		       rnd_range(&s, 0, 3 * TICK);
	}
	SH_CHECK(out == seq && sh->st.sent == seq && sh->st.added == seq,
		 "seed %llu run %d: added %u, out %" PRIu64, seed, _i, seq, out);
	SH_CHECK(sh->st.high_water <= cap, "seed %llu run %d: high water over capacity",
		 seed, _i);
	SH_CHECK(sh->st.max_hold_ns <= max_delay + TICK + 20 * MS,
		 "seed %llu run %d: held %" PRIu64, seed, _i, sh->st.max_hold_ns);
	(void)refused;
	teardown();
}
END_TEST

static unsigned long long pick_seed(void)
{
	const char *env = getenv("SL_SHAPER_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * NS + (unsigned long long)ts.tv_nsec;
}

static Suite *shaper_suite(void)
{
	Suite *s = suite_create("shaper");
	TCase *tc = tcase_create("wheel");

	tcase_add_loop_test(tc, test_tick_bounds, 0,
			    sizeof(tick_rows) / sizeof(tick_rows[0]));
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_idle_then_add);
	tcase_add_test(tc, test_free_queued);
	tcase_add_loop_test(tc, test_random_order, 0, 16);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(shaper_suite());
	int failed;

	seed = pick_seed();
	printf("shaper: seed %llu (SL_SHAPER_SEED=%llu replays it)\n", seed, seed);
	fflush(stdout);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
