/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The class ceiling's arithmetic (common/ceiling.h): profiles and costs
 * against 128-bit arithmetic, one lcore against the exact token bucket
 * of tbucket.h packet by packet, and several threads hammering one
 * ceiling under a simulated clock, which must admit exactly what the
 * model admits: no token lost, none spent twice.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceiling.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define NS	1000000000ULL
#define GBIT	1000000000ULL

typedef unsigned __int128 u128;

/* xorshift64*: a deterministic stream per test. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A value in [lo, hi]. */
static uint64_t between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

/* ---- profiles and costs ------------------------------------------------ */

struct profile_case {
	uint64_t rate, capacity;
	int rc;
	uint64_t cap_q, cap_r, tok_q, tok_r;
};

static const struct profile_case profile_cases[] = {
	{ 2000, 2000, 0, NS, 0, 500000, 0 },
	{ 3, 7, 0, 2333333333ULL, 1, 333333333, 1 },
	{ 1, 1, 0, NS, 0, NS, 0 },
	{ 8 * GBIT, 64 * 1024 * 8, 0, 65536, 0, 0, NS },
	{ 400 * GBIT, 1, 0, 0, NS, 0, NS },
	{ 7, 1, 0, 142857142, 6, 142857142, 6 },
	/* 146 years: the last whole second that fits, and the first that does not. */
	{ 1, 4611686017ULL, 0, 4611686017ULL * NS, 0, NS, 0 },
	{ 1, 4611686018ULL, -22 },
	{ 0, 1, -22 },
	{ 400 * GBIT + 1, 1, -22 },
	{ 1, 0, -22 },
	{ 400 * GBIT, SL_TB_CAPACITY_MAX + 1, -22 },
};

START_TEST(test_profile)
{
	const struct profile_case *c = &profile_cases[_i];
	struct sl_ceil_profile p;

	ck_assert_int_eq(sl_ceil_profile_init(&p, c->rate, c->capacity), c->rc);
	if (c->rc != 0)
		return;
	ck_assert_uint_eq(p.cap_q, c->cap_q);
	ck_assert_uint_eq(p.cap_r, c->cap_r);
	ck_assert_uint_eq(p.tok_q, c->tok_q);
	ck_assert_uint_eq(p.tok_r, c->tok_r);
}
END_TEST

/* Random profiles: the capacity in ns is exact; costs, fast path or not, too. */
START_TEST(test_cost_ns)
{
	uint64_t seed = 0x5eed1234;
	__u64 q, r;
	struct sl_ceil_profile p;

	for (int n = 0; n < 200000; n++) {
		uint64_t rate = n % 3 == 0 ? between(&seed, 1, 1000) :
				between(&seed, 1, SL_TB_RATE_MAX);
		uint64_t cap = between(&seed, 1, SL_TB_CAPACITY_MAX);
		uint64_t cost;

		if (sl_ceil_profile_init(&p, rate, cap) != 0) {
			if ((u128)cap * NS / rate < SL_CEIL_SPAN_MAX - NS)
				ck_abort_msg("rate %lu capacity %lu refused", rate, cap);
			continue;
		}
		if ((u128)p.cap_q * rate + p.cap_r != (u128)cap * NS || p.cap_r >= rate)
			ck_abort_msg("rate %lu capacity %lu: %llu + %llu/rate ns", rate,
				     cap, p.cap_q, p.cap_r);
		switch (n % 4) {
		case 0:
			cost = 1;
			break;
		case 1:	/* either side of the fast path's bound */
			cost = SL_CEIL_COST_FAST - 2 + between(&seed, 0, 3);
			break;
		default:
			cost = between(&seed, 1, cap);
			break;
		}
		if (cost > cap)
			cost = cap;
		sl_ceil_cost_ns(&p, cost, &q, &r);
		if ((u128)q * rate + r != (u128)cost * NS || r >= rate)
			ck_abort_msg("rate %lu cost %lu: %llu + %llu/rate ns", rate,
				     cost, q, r);
	}
}
END_TEST

/* ---- one lcore against the exact token bucket -------------------------- */

struct model_case {
	const char *what;
	uint64_t rate, capacity;
	uint64_t cost_lo, cost_hi;	/* costs drawn from; over capacity too */
	uint64_t gap_hi;		/* ns between packets: 0..gap_hi */
};

static const struct model_case model_cases[] = {
	{ "2000pps burst 2000", 2000, 2000, 1, 1, 1000000 },
	{ "3pps burst 7: thirds of ns", 3, 7, 1, 1, 900000000 },
	{ "1pps burst 1", 1, 1, 1, 1, 3 * NS },
	{ "7pps burst 3", 7, 3, 1, 1, 200000000 },
	{ "10Mbit 64KB", 10000000, 65536 * 8, 64 * 8, 1518 * 8, 1000000 },
	{ "1Gbit 1522B, costs over the burst", GBIT, 1522 * 8, 64 * 8, 9000 * 8, 30000 },
	{ "400Gbit 1MB", 400 * GBIT, 8 << 20, 64 * 8, 65535 * 8, 1000 },
	{ "400Gbit 1522B", 400 * GBIT, 1522 * 8, 64 * 8, 1522 * 8, 40 },
	{ "1bit 1522B", 1, 1522 * 8, 64 * 8, 1522 * 8, 5000 * NS },
	{ "999999937pps (prime) 1000", 999999937ULL, 1000, 1, 1, 2 },
	{ "13Mpps 10M: huge costs, slow path", 13000000, 10000000000ULL,
	  SL_CEIL_COST_FAST - 10, SL_CEIL_COST_FAST * 4, NS },
};

/* Credit of the ceiling at now, in 1/1e9 token: capacity less the debt. */
static u128 ceil_credit(const struct sl_ceil *c, const struct sl_ceil_lcore *l,
			const struct sl_ceil_profile *p, uint64_t now)
{
	u128 debt;

	if (c->tat < now)
		return (u128)p->capacity * NS;
	debt = (u128)(c->tat - now) * p->rate + l->rem;
	return (u128)p->capacity * NS - debt;
}

/*
 * Packet by packet, the same verdict as sl_tb, which meters exactly,
 * and the same credit after every packet.
 */
START_TEST(test_model_single)
{
	const struct model_case *m = &model_cases[_i];
	uint64_t seed = 0xc0ffee + _i, now = between(&seed, 0, 1ULL << 60);
	struct sl_tb_profile tp;
	struct sl_ceil_profile cp;
	struct sl_ceil c = { 0 };
	struct sl_ceil_lcore l = { 0 };
	struct sl_tb b;
	uint64_t passed = 0;

	ck_assert_int_eq(sl_tb_profile_init(&tp, m->rate, m->capacity), 0);
	ck_assert_int_eq(sl_ceil_profile_init(&cp, m->rate, m->capacity), 0);
	sl_tb_init(&b, &tp, now);
	for (int n = 0; n < 300000; n++) {
		uint64_t cost = between(&seed, m->cost_lo, m->cost_hi);
		int want, got;

		/* Mostly short gaps, so the bucket runs dry; now and then a long one. */
		if (n % 1000 == 999)
			now += between(&seed, 0, 100 * m->gap_hi);
		else if (n % 3 != 0)
			now += between(&seed, 0, m->gap_hi);
		want = sl_tb_conform(&b, &tp, now, cost);
		got = sl_ceil_take(&c, &l, &cp, now, cost);
		/* Check's asserts cost a system call each: test, then assert. */
		if (got != want)
			ck_abort_msg("%s: packet %d cost %lu at %lu: ceiling %d, bucket %d",
				     m->what, n, cost, now, got, want);
		if (ceil_credit(&c, &l, &cp, now) != (u128)b.tokens * NS + b.frac)
			ck_abort_msg("%s: packet %d: credits differ", m->what, n);
		passed += (uint64_t)got;
	}
	/* Both outcomes happened: the sequence tested something. */
	ck_assert_uint_gt(passed, 0);
	ck_assert_uint_lt(passed, 300000);
}
END_TEST

/* ---- edges ------------------------------------------------------------- */

/* A policy change: the debt carries over in time, whatever the new rate. */
START_TEST(test_profile_change)
{
	struct sl_ceil_profile fast, slow, small;
	struct sl_ceil c = { 0 };
	struct sl_ceil_lcore l = { 0 };

	ck_assert_int_eq(sl_ceil_profile_init(&fast, 2, 2), 0);
	ck_assert_int_eq(sl_ceil_profile_init(&slow, 1, 2), 0);
	ck_assert_int_eq(sl_ceil_profile_init(&small, 1, 1), 0);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &fast, 0, 1), 1);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &fast, 0, 1), 1);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &fast, 0, 1), 0);
	ck_assert_uint_eq(c.tat, NS);		/* 1 s of debt */
	/* At 1 pps with a burst of 2, 1 s of debt leaves one token. */
	ck_assert_int_eq(sl_ceil_take(&c, &l, &slow, 0, 1), 1);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &slow, 0, 1), 0);
	ck_assert_uint_eq(l.rate, 1);
	/* A burst of 1 is 1 s: 2 s of debt wait until 1 s is paid, then 1 s more. */
	ck_assert_int_eq(sl_ceil_take(&c, &l, &small, NS, 1), 0);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &small, 2 * NS - 1, 1), 0);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &small, 2 * NS, 1), 1);
}
END_TEST

struct rescale_case {
	const char *what;
	uint64_t from_rate, from_cap, to_rate, to_cap;
	uint64_t tat, now;
	uint64_t want;			/* tat after */
};

/* Credit in tokens is kept and clamped to the new burst, as sl_tb keeps it. */
static const struct rescale_case rescale_cases[] = {
	{ "full stays full", 10, 8, 20, 8, 5 * NS, 6 * NS, 5 * NS },
	{ "empty, rate doubled: empty", 10, 8, 20, 8, NS + 800000000, NS, NS + 400000000 },
	{ "empty, rate halved: empty", 20, 8, 10, 8, NS + 400000000, NS, NS + 800000000 },
	{ "3 of 8 tokens, burst 4: 3 of 4", 10, 8, 10, 4, 500000000, 0, 100000000 },
	{ "6 of 8 tokens, burst 4: full", 10, 8, 10, 4, 200000000, 0, 0 },
	{ "6 of 8 tokens, burst 16: 6 of 16", 10, 8, 10, 16, 200000000, 0, NS },
	{ "a third of a ns rounds up", 1, 3, 3, 3, 1, 0, 1 },
	{ "400Gbit to 1bit, half spent", 400 * GBIT, 8000, 1, 8000, 10, 0, 4000 * NS },
	{ "debt beyond the old burst: no credit", 10, 8, 10, 8, 5 * NS, 0, 800000000 },
};

START_TEST(test_rescale)
{
	const struct rescale_case *k = &rescale_cases[_i];
	struct sl_ceil_profile from, to;
	struct sl_ceil c = { .tat = k->tat };

	ck_assert_int_eq(sl_ceil_profile_init(&from, k->from_rate, k->from_cap), 0);
	ck_assert_int_eq(sl_ceil_profile_init(&to, k->to_rate, k->to_cap), 0);
	sl_ceil_rescale(&c, &from, &to, k->now);
	ck_assert_msg(c.tat == k->want, "%s: tat %lu, want %lu", k->what,
		      (uint64_t)c.tat, k->want);
}
END_TEST

/* Costs over the burst never pass and take nothing; TAT stays past its clock at the end. */
START_TEST(test_edges)
{
	struct sl_ceil_profile p;
	struct sl_ceil c = { 0 };
	struct sl_ceil_lcore l = { 0 };
	uint64_t end = ~0ULL - 10;

	ck_assert_int_eq(sl_ceil_profile_init(&p, 1000, 1000), 0);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &p, 5, 1001), 0);
	ck_assert_uint_eq(c.tat, 0);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &p, 5, 1000), 1);
	ck_assert_uint_eq(c.tat, 5 + NS);
	/* 1 ms earns one token back, not two. */
	ck_assert_int_eq(sl_ceil_take(&c, &l, &p, 5 + 1000000, 1), 1);
	ck_assert_int_eq(sl_ceil_take(&c, &l, &p, 5 + 1000000, 1), 0);
	/* Near the clock's end TAT saturates instead of wrapping to the past. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sl_ceil_take(&c, &l, &p, end, 1), 1);
	ck_assert_uint_eq(c.tat, ~0ULL);
	ck_assert_uint_ge(c.tat, end);
}
END_TEST

/* ---- several threads, one ceiling ------------------------------------ */

#define THREADS		4
#define STEPS		1000
#define TRIES		1500	/* per thread per step: more than the credit */

struct hammer_case {
	const char *what;
	uint64_t rate, capacity;
	uint64_t costs[3];	/* one per step, in turn */
};

/* Rates whose token costs whole ns: the model is exact, so must the total be. */
static const struct hammer_case hammer_cases[] = {
	{ "1Mpps burst 1000", 1000000, 1000, { 1, 3, 7 } },
	{ "8Gbit 64KB", 8 * GBIT, 65536 * 8, { 64 * 8, 1500 * 8, 512 * 8 } },
	{ "2000pps burst 2000", 2000, 2000, { 1, 1, 2 } },
};

struct hammer {
	const struct hammer_case *hc;
	struct sl_ceil_profile p;
	struct sl_ceil c;
	pthread_barrier_t start, done;
	uint64_t now;			/* the simulated clock, set between steps */
	uint64_t cost;
	uint64_t passed[THREADS];	/* per thread, this step */
	bool quit;
};

struct hammer_thread {
	struct hammer *h;
	int id;
	struct sl_ceil_lcore part;	/* each thread is an lcore */
};

static void *hammer_main(void *arg)
{
	struct hammer_thread *t = arg;
	struct hammer *h = t->h;

	for (;;) {
		pthread_barrier_wait(&h->start);
		if (h->quit)
			return NULL;
		h->passed[t->id] = 0;
		for (int i = 0; i < TRIES; i++)
			h->passed[t->id] += (uint64_t)sl_ceil_take(&h->c, &t->part,
					&h->p, h->now, h->cost);
		pthread_barrier_wait(&h->done);
	}
}

/*
 * Each step all threads race at one instant with one cost; however they
 * interleave, together they must admit exactly as many packets as the
 * model does, offered packets until it refuses one.
 */
START_TEST(test_hammer)
{
	const struct hammer_case *hc = &hammer_cases[_i];
	struct hammer_thread th[THREADS];
	pthread_t tid[THREADS];
	struct sl_tb_profile tp;
	struct sl_tb b;
	struct hammer *h = aligned_alloc(64, sizeof(*h));
	uint64_t seed = 42 + _i, total = 0, model_total = 0;

	ck_assert_ptr_nonnull(h);
	memset(h, 0, sizeof(*h));
	h->hc = hc;
	ck_assert_int_eq(sl_ceil_profile_init(&h->p, hc->rate, hc->capacity), 0);
	ck_assert_int_eq(sl_tb_profile_init(&tp, hc->rate, hc->capacity), 0);
	sl_tb_init(&b, &tp, 0);
	pthread_barrier_init(&h->start, NULL, THREADS + 1);
	pthread_barrier_init(&h->done, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		th[i] = (struct hammer_thread){ .h = h, .id = i };
		ck_assert_int_eq(pthread_create(&tid[i], NULL, hammer_main, &th[i]), 0);
	}
	for (int s = 0; s < STEPS; s++) {
		uint64_t want = 0, got = 0;

		h->cost = hc->costs[s % 3];
		/* From no time at all to refilling the whole burst. */
		h->now += s % 7 == 0 ? 0 : between(&seed, 0, tp.fill_ns / 3);
		while (sl_tb_conform(&b, &tp, h->now, h->cost))
			want++;
		pthread_barrier_wait(&h->start);
		pthread_barrier_wait(&h->done);
		for (int i = 0; i < THREADS; i++)
			got += h->passed[i];
		ck_assert_msg(got == want, "%s: step %d at %lu cost %lu: threads admitted %lu, model %lu",
			      hc->what, s, h->now, h->cost, got, want);
		ck_assert_uint_lt(want, (uint64_t)THREADS * TRIES);
		total += got;
		model_total += want;
	}
	h->quit = true;
	pthread_barrier_wait(&h->start);
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	ck_assert_uint_eq(total, model_total);
	ck_assert_uint_gt(total, (uint64_t)STEPS);
	pthread_barrier_destroy(&h->start);
	pthread_barrier_destroy(&h->done);
	free(h);
}
END_TEST

struct race {
	struct sl_ceil c;
	struct sl_ceil_profile p;
	uint64_t clock;			/* shared simulated clock, ns */
	uint64_t passed;
};

#define RACE_TRIES	400000
#define RACE_TICK	100		/* ns the clock moves per try */

static void *race_main(void *arg)
{
	struct race *r = arg;
	struct sl_ceil_lcore part = { 0 };
	uint64_t passed = 0;

	for (int i = 0; i < RACE_TRIES; i++) {
		uint64_t now = __atomic_add_fetch(&r->clock, RACE_TICK, __ATOMIC_RELAXED);

		passed += (uint64_t)sl_ceil_take(&r->c, &part, &r->p, now, 1);
	}
	__atomic_add_fetch(&r->passed, passed, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * Free-running threads, each reading the shared clock just before it
 * meters, so a thread is often a little behind the last writer: the
 * total stays within a token per thread of rate * time + burst.
 */
START_TEST(test_race_free_running)
{
	struct race *r = aligned_alloc(64, sizeof(*r));
	pthread_t tid[THREADS];
	uint64_t want;

	ck_assert_ptr_nonnull(r);
	memset(r, 0, sizeof(*r));
	/* One token per 1000 ns: one try in 10 may pass. */
	ck_assert_int_eq(sl_ceil_profile_init(&r->p, 1000000, 100), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, race_main, r), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	want = r->clock / 1000 + 100;
	ck_assert_msg(r->passed <= want + THREADS && r->passed + THREADS >= want,
		      "passed %lu over %lu ns, rate and burst allow %lu",
		      r->passed, r->clock, want);
	free(r);
}
END_TEST

static Suite *ceiling_suite(void)
{
	Suite *s = suite_create("ceiling");
	TCase *tc = tcase_create("arithmetic");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_profile, 0, N(profile_cases));
	tcase_add_test(tc, test_cost_ns);
	tcase_add_loop_test(tc, test_model_single, 0, N(model_cases));
	tcase_add_test(tc, test_profile_change);
	tcase_add_loop_test(tc, test_rescale, 0, N(rescale_cases));
	tcase_add_test(tc, test_edges);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_hammer, 0, N(hammer_cases));
	tcase_add_test(tc, test_race_free_running);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ceiling_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
