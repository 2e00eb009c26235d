/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token-bucket tests. Tables pin the edges (overflow, days of idle, the
 * clock at the ends of its range); property tests drive common/tbucket.h
 * and an exact reference model (credit in 1/1e9 token, 128-bit) with the
 * same random arrivals on a simulated clock and require every decision,
 * every wait and every state to agree, and 10 s of greedy traffic to pass
 * rate * time + burst within one packet.
 *
 * Random tests name their seed on failure; SL_TB_SEED=N replays a run.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tbucket.h"

__extension__ typedef unsigned __int128 u128;

#define NS SL_TB_NS_PER_S
#define MS 1000000ULL
#define DAY_NS (86400ULL * NS)
#define U64_MAX (~0ULL)
#define RATE_MAX SL_TB_RATE_MAX
#define CAP_MAX SL_TB_CAPACITY_MAX
#define NEVER SL_TB_NEVER
#define TEN_S (10 * NS)

/* Fails without Check's per-assert bookkeeping (a pipe write), for loops. */
#define TB_CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			ck_abort_msg(__VA_ARGS__);	\
	} while (0)

static unsigned long long base_seed;

/* splitmix64: small, fast, and any seed is a good one. */
struct rng {
	__u64 s;
};

/* Accepts a trial number; seeds its generator from the run's seed. */
static void rng_seed(struct rng *r, unsigned int trial)
{
	r->s = base_seed ^ ((__u64)trial * 0xd1b54a32d192ed03ULL);
}

/* Accepts a seeded generator; returns 64 random bits. */
static __u64 rng_next(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Accepts lo <= hi; returns a value in [lo, hi]. */
static __u64 rng_range(struct rng *r, __u64 lo, __u64 hi)
{
	__u64 span = hi - lo + 1;

	if (span == 0)
		return rng_next(r);
	return lo + (__u64)(((u128)rng_next(r) * span) >> 64);
}

/* Accepts x > 0; returns its bit length. */
static int bit_len(__u64 x)
{
	return 64 - __builtin_clzll(x);
}

/*
 * Accepts 1 <= lo <= hi; returns a value in [lo, hi] spread evenly over
 * the powers of two, so 1 pps and 400 Gbit/s are drawn alike.
 */
static __u64 rng_log(struct rng *r, __u64 lo, __u64 hi)
{
	int b = (int)rng_range(r, bit_len(lo), bit_len(hi));
	__u64 a = 1ULL << (b - 1);
	__u64 z = b == 64 ? U64_MAX : (1ULL << b) - 1;

	return rng_range(r, a < lo ? lo : a, z > hi ? hi : z);
}

/* Accepts any two clock values; returns their sum, saturated. */
static __u64 sat_add(__u64 a, __u64 b)
{
	return a > U64_MAX - b ? U64_MAX : a + b;
}

/* Accepts any rate and capacity; the exact fill time, saturated. */
static __u64 ref_fill_ns(__u64 rate, __u64 cap)
{
	u128 f = ((u128)cap * NS + rate - 1) / rate;

	return f > U64_MAX ? U64_MAX : (__u64)f;
}

/* The exact bucket: credit in 1/1e9 token, at most capacity * 1e9. */
struct ref_tb {
	u128 credit;
	__u64 last_ns;
};

/* Accepts a valid profile; starts the model full at now_ns. */
static void ref_init(struct ref_tb *m, const struct sl_tb_profile *p,
		     __u64 now_ns)
{
	m->credit = (u128)p->capacity * NS;
	m->last_ns = now_ns;
}

/* Accepts any now_ns; credit = min(capacity, credit + elapsed * rate). */
static void ref_refill(struct ref_tb *m, const struct sl_tb_profile *p,
		       __u64 now_ns)
{
	u128 cap = (u128)p->capacity * NS;

	if (now_ns > m->last_ns) {
		m->credit += (u128)(now_ns - m->last_ns) * p->rate;
		m->last_ns = now_ns;
	}
	if (m->credit > cap)
		m->credit = cap;
}

/* Accepts any cost; 1 and takes it if the credit covers it, else 0. */
static int ref_conform(struct ref_tb *m, const struct sl_tb_profile *p,
		       __u64 now_ns, __u64 cost)
{
	ref_refill(m, p, now_ns);
	if (m->credit < (u128)cost * NS)
		return 0;
	m->credit -= (u128)cost * NS;
	return 1;
}

/* Accepts any cost; ns from last_ns until the credit covers it. */
static __u64 ref_wait(const struct ref_tb *m, const struct sl_tb_profile *p,
		      __u64 cost)
{
	u128 need = (u128)cost * NS, w;

	if (m->credit >= need)
		return 0;
	if (cost > p->capacity)
		return NEVER;
	w = (need - m->credit + p->rate - 1) / p->rate;
	return w > U64_MAX ? NEVER : (__u64)w;
}

/*
 * Accepts any now, cost and max_wait; the exact scheduler: the packet
 * leaves when the credit behind the last one covers it, if that is at
 * most max_wait after now, and takes its cost then.
 */
static int ref_schedule(struct ref_tb *m, const struct sl_tb_profile *p,
			__u64 now_ns, __u64 cost, __u64 max_wait,
			__u64 *depart_ns)
{
	__u64 w;

	ref_refill(m, p, now_ns);
	w = ref_wait(m, p, cost);
	if (w == NEVER || (u128)(m->last_ns - now_ns) + w > max_wait ||
	    (u128)m->last_ns + w > U64_MAX)
		return 0;
	*depart_ns = m->last_ns + w;
	ref_refill(m, p, *depart_ns);
	m->credit -= (u128)cost * NS;
	return 1;
}

/* Accepts a bucket and its model; 1 if they hold the same state. */
static int same_state(const struct sl_tb *b, const struct ref_tb *m)
{
	return b->tokens == (__u64)(m->credit / NS) &&
	       b->frac == (__u64)(m->credit % NS) && b->last_ns == m->last_ns;
}

/* Accepts a valid profile; sets the bucket and model to credit at now. */
static void set_both(struct sl_tb *b, struct ref_tb *m, __u64 tokens,
		     __u64 frac, __u64 now_ns)
{
	b->tokens = tokens;
	b->frac = frac;
	b->last_ns = now_ns;
	m->credit = (u128)tokens * NS + frac;
	m->last_ns = now_ns;
}

/* A trial number past the ends, for a random profile. */
#define SWAP (~0U)

/* Accepts a trial number; a profile log-spread over the whole range. */
static void gen_profile(struct rng *r, unsigned int trial,
			struct sl_tb_profile *p)
{
	static const __u64 ends[][2] = {
		{ 1, 1 }, { 1, CAP_MAX }, { RATE_MAX, 1 },
		{ RATE_MAX, CAP_MAX },
	};
	__u64 rate, cap;

	if (trial < sizeof(ends) / sizeof(ends[0])) {
		rate = ends[trial][0];
		cap = ends[trial][1];
	} else {
		rate = rng_log(r, 1, RATE_MAX);
		cap = rng_log(r, 1, CAP_MAX);
	}
	ck_assert_int_eq(sl_tb_profile_init(p, rate, cap), 0);
}

/* profile_init: what it refuses and what it computes, by hand. */
static const struct {
	__u64 rate, cap;
	int ret;
	__u64 fill_ns;
} init_rows[] = {
	{ 0, 1, -22, 0 },
	{ 1, 0, -22, 0 },
	{ RATE_MAX + 1, 1, -22, 0 },
	{ 1, CAP_MAX + 1, -22, 0 },
	{ U64_MAX, U64_MAX, -22, 0 },
	{ 1, 1, 0, NS },
	{ 3, 1, 0, 333333334 },
	{ 3, 3, 0, NS },
	{ RATE_MAX, 1, 0, 1 },
	{ RATE_MAX, 400, 0, 1 },
	{ RATE_MAX, 401, 0, 2 },
	/* 4 GiB of bits at 400 Gbit/s: 85899345.92 ns */
	{ RATE_MAX, CAP_MAX, 0, 85899346 },
	/* 1 bit/s: 18446744073 s is the last fill time that fits */
	{ 1, 18446744073ULL, 0, 18446744073ULL * NS },
	{ 1, 18446744074ULL, 0, NEVER },
	{ 1, CAP_MAX, 0, NEVER },
	{ 2, CAP_MAX, 0, CAP_MAX / 2 * NS },
	{ 1000000007ULL, CAP_MAX, 0, 34359738128ULL },
};

START_TEST(test_profile_init_table)
{
	struct sl_tb_profile p = { 0 };
	int i = _i;

	ck_assert_int_eq(sl_tb_profile_init(&p, init_rows[i].rate,
					    init_rows[i].cap),
			 init_rows[i].ret);
	if (init_rows[i].ret)
		return;
	ck_assert_uint_eq(p.rate, init_rows[i].rate);
	ck_assert_uint_eq(p.capacity, init_rows[i].cap);
	ck_assert_uint_eq(p.rate_q, init_rows[i].rate / NS);
	ck_assert_uint_eq(p.rate_f, init_rows[i].rate % NS);
	ck_assert_uint_eq(p.fill_ns, init_rows[i].fill_ns);
	ck_assert_uint_eq(p.fill_ns, ref_fill_ns(init_rows[i].rate,
						 init_rows[i].cap));
}
END_TEST

/* fill_ns = ceil(capacity * 1e9 / rate), saturated, for random profiles. */
START_TEST(test_profile_init_random)
{
	struct sl_tb_profile p;
	struct rng r;

	for (unsigned int t = 0; t < 200000; t++) {
		__u64 rate, cap;
		int ret;

		rng_seed(&r, t);
		rate = rng_log(&r, 1, U64_MAX);
		cap = rng_log(&r, 1, U64_MAX);
		if (t & 1) {
			rate = rng_log(&r, 1, RATE_MAX);
			cap = rng_log(&r, 1, CAP_MAX);
		}
		if (t % 7 == 0)
			rate = 0;
		if (t % 11 == 0)
			cap = 0;
		ret = sl_tb_profile_init(&p, rate, cap);
		if (rate == 0 || rate > RATE_MAX || cap == 0 ||
		    cap > CAP_MAX) {
			TB_CHECK(ret == -22, "seed %llu trial %u: accepted rate %llu capacity %llu",
				 base_seed, t, rate, cap);
			continue;
		}
		TB_CHECK(ret == 0 && p.fill_ns == ref_fill_ns(rate, cap) &&
			 p.rate_q == rate / NS && p.rate_f == rate % NS,
			 "seed %llu trial %u: rate %llu capacity %llu: fill_ns %llu, want %llu",
			 base_seed, t, rate, cap, p.fill_ns,
			 ref_fill_ns(rate, cap));
	}
}
END_TEST

/*
 * Refill of an empty bucket after an elapsed time, by hand: exact
 * tokens and fraction, days of idle, and the ns around fill_ns.
 */
static const struct {
	const char *what;
	__u64 rate, cap, elapsed, tokens, frac;
} refill_rows[] = {
	{ "1 pps, 1 ns short of a token", 1, 1, NS - 1, 0, 999999999 },
	{ "1 pps, one token", 1, 1, NS, 1, 0 },
	{ "3 pps, 1 ns", 3, 10, 1, 0, 3 },
	{ "3 pps, fill_ns of one token", 3, 10, 333333334, 1, 2 },
	{ "400G, 1 ns", RATE_MAX, CAP_MAX, 1, 400, 0 },
	{ "400G 4 GiB, fill_ns - 1", RATE_MAX, CAP_MAX, 85899345,
	  400ULL * 85899345, 0 },
	{ "400G 4 GiB, fill_ns", RATE_MAX, CAP_MAX, 85899346, CAP_MAX, 0 },
	{ "400G 4 GiB, fill_ns + 1", RATE_MAX, CAP_MAX, 85899347, CAP_MAX,
	  0 },
	{ "400G 4 GiB, 3 days", RATE_MAX, CAP_MAX, 3 * DAY_NS, CAP_MAX, 0 },
	{ "400G 4 GiB, 2^64 - 1 ns", RATE_MAX, CAP_MAX, U64_MAX, CAP_MAX, 0 },
	{ "1 bit/s 4 GiB, 3 days", 1, CAP_MAX, 3 * DAY_NS, 259200, 0 },
	{ "1 bit/s 4 GiB, 1e15 ns", 1, CAP_MAX, 1000000000000000ULL,
	  1000000, 0 },
	/* fill_ns saturated: the only elapsed that reaches it is exact */
	{ "1 bit/s 4 GiB, 2^64 - 1 ns", 1, CAP_MAX, U64_MAX, 18446744073ULL,
	  709551615 },
	{ "7 pps 4 GiB, 1e15 ns + 1", 7, CAP_MAX, 1000000000000001ULL,
	  7000000, 7 },
	{ "999999999 bit/s, 3 days + 1 ns", 999999999, CAP_MAX,
	  3 * DAY_NS + 1, CAP_MAX, 0 },
	{ "999999999 bit/s, 30 s + 1 ns", 999999999, CAP_MAX, 30 * NS + 1,
	  29999999970ULL, 999999999 },
	{ "1000000001 bit/s, 1 s - 1 ns", 1000000001, CAP_MAX, NS - 1,
	  999999999, 999999999 },
	{ "400G, 85 ms", RATE_MAX, CAP_MAX, 85 * MS, 34000000000ULL, 0 },
	{ "1 Gbit 4 GiB, fill_ns - 1", 1000000000, CAP_MAX,
	  CAP_MAX - 1, CAP_MAX - 1, 0 },
};

START_TEST(test_refill_table)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	__u64 t0 = 5 * NS;
	int i = _i;

	ck_assert_int_eq(sl_tb_profile_init(&p, refill_rows[i].rate,
					    refill_rows[i].cap), 0);
	if (refill_rows[i].elapsed > U64_MAX - t0)
		t0 = 0;
	sl_tb_init(&b, &p, t0);
	ref_init(&m, &p, t0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, t0, p.capacity), 1);
	ck_assert_int_eq(ref_conform(&m, &p, t0, p.capacity), 1);
	ck_assert_uint_eq(b.tokens, 0);
	sl_tb_refill(&b, &p, t0 + refill_rows[i].elapsed);
	ref_refill(&m, &p, t0 + refill_rows[i].elapsed);
	ck_assert_msg(b.tokens == refill_rows[i].tokens &&
		      b.frac == refill_rows[i].frac,
		      "%s: %llu tokens + %llu/1e9, want %llu + %llu/1e9",
		      refill_rows[i].what, b.tokens, b.frac,
		      refill_rows[i].tokens, refill_rows[i].frac);
	ck_assert_msg(same_state(&b, &m), "%s: differs from the model",
		      refill_rows[i].what);
	ck_assert_uint_eq(b.last_ns, t0 + refill_rows[i].elapsed);
}
END_TEST

/* A cost over the capacity never conforms, however long the idle. */
START_TEST(test_cost_over_capacity)
{
	static const __u64 profiles[][2] = {
		{ 1, 1 }, { 1000, 1500 * 8 }, { RATE_MAX, CAP_MAX },
		{ 1, CAP_MAX },
	};
	const __u64 *pr = profiles[_i];
	struct sl_tb_profile p;
	struct sl_tb b;

	ck_assert_int_eq(sl_tb_profile_init(&p, pr[0], pr[1]), 0);
	sl_tb_init(&b, &p, 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 0, pr[1] + 1), 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 3 * DAY_NS, pr[1] + 1), 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX, U64_MAX), 0);
	ck_assert_uint_eq(b.tokens, pr[1]);
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, pr[1] + 1), NEVER);
	/* a cost of exactly the capacity does, once the bucket is full */
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, pr[1]), 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX, pr[1]), 1);
	ck_assert_uint_eq(b.tokens, 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX, 1), 0);
	/* and a cost of 0 always conforms and takes nothing */
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX, 0), 1);
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, 0), 0);
}
END_TEST

/* cost == capacity conforms after exactly fill_ns, not 1 ns before. */
START_TEST(test_full_refill_exact)
{
	struct sl_tb_profile p;
	struct sl_tb b, c;
	struct rng r;

	for (unsigned int t = 0; t < 20000; t++) {
		rng_seed(&r, t);
		gen_profile(&r, t, &p);
		if (p.fill_ns == NEVER)
			continue;
		sl_tb_init(&b, &p, 1000);
		TB_CHECK(sl_tb_conform(&b, &p, 1000, p.capacity),
			 "seed %llu trial %u: a full bucket refused its capacity",
			 base_seed, t);
		c = b;
		TB_CHECK(sl_tb_wait_ns(&b, &p, p.capacity) == p.fill_ns,
			 "seed %llu trial %u: rate %llu capacity %llu: wait %llu, fill_ns %llu",
			 base_seed, t, p.rate, p.capacity,
			 sl_tb_wait_ns(&b, &p, p.capacity), p.fill_ns);
		TB_CHECK(!sl_tb_conform(&c, &p, 1000 + p.fill_ns - 1,
					p.capacity) &&
			 sl_tb_conform(&b, &p, 1000 + p.fill_ns, p.capacity),
			 "seed %llu trial %u: rate %llu capacity %llu: full not at fill_ns %llu",
			 base_seed, t, p.rate, p.capacity, p.fill_ns);
	}
}
END_TEST

/* A clock that steps back earns nothing, and is not credited twice. */
START_TEST(test_clock_backwards)
{
	struct sl_tb_profile p;
	struct sl_tb b;

	ck_assert_int_eq(sl_tb_profile_init(&p, 1000, 1000), 0);
	sl_tb_init(&b, &p, 10 * NS);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 10 * NS, 1000), 1);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 9 * NS, 1), 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 0, 1), 0);
	ck_assert_uint_eq(b.last_ns, 10 * NS);
	ck_assert_uint_eq(b.tokens, 0);
	/* 1 ms past the last refill earns 1 token, not 1 s + 1 ms worth */
	ck_assert_int_eq(sl_tb_conform(&b, &p, 10 * NS + MS, 1), 1);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 10 * NS + MS, 1), 0);
	/* the wait is from last_ns, whatever the clock said since */
	sl_tb_refill(&b, &p, 5 * NS);
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, 3), 3 * MS);
}
END_TEST

/*
 * The clock runs to 2^64 - 1 and no further: a wrap to 0 is a step
 * back. A wait that would carry the clock past the end is still the
 * true wait; adding it is the caller's business.
 */
START_TEST(test_clock_end)
{
	struct sl_tb_profile p;
	struct sl_tb b;

	ck_assert_int_eq(sl_tb_profile_init(&p, NS, 100), 0);
	sl_tb_init(&b, &p, U64_MAX - 1000);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX - 1000, 100), 1);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX - 1, 99), 1);
	ck_assert_int_eq(sl_tb_conform(&b, &p, U64_MAX, 2), 1);
	ck_assert_uint_eq(b.tokens, 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 0, 1), 0);
	ck_assert_int_eq(sl_tb_conform(&b, &p, 5, 1), 0);
	ck_assert_uint_eq(b.last_ns, U64_MAX);
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, 1), 1);
	ck_assert_uint_eq(sl_tb_wait_ns(&b, &p, 100), 100);
}
END_TEST

/* A policy swap to a smaller burst clamps the bucket at once. */
START_TEST(test_profile_swap)
{
	struct sl_tb_profile big, small;
	struct sl_tb b;

	ck_assert_int_eq(sl_tb_profile_init(&big, 1000, 1000), 0);
	ck_assert_int_eq(sl_tb_profile_init(&small, 1000, 10), 0);
	sl_tb_init(&b, &big, NS);
	/* same ns as the last refill: no time passed, still clamped */
	ck_assert_int_eq(sl_tb_conform(&b, &small, NS, 11), 0);
	ck_assert_uint_eq(b.tokens, 10);
	ck_assert_int_eq(sl_tb_conform(&b, &small, NS, 10), 1);
	ck_assert_int_eq(sl_tb_conform(&b, &small, NS, 1), 0);
	/* and a swap to a bigger one keeps the tokens, refilling to it */
	ck_assert_int_eq(sl_tb_conform(&b, &big, 2 * NS, 1000), 1);
}
END_TEST

/* Waits by hand, including those that do not fit 64 bits. */
static const struct {
	const char *what;
	__u64 rate, cap, tokens, frac, cost, wait;
} wait_rows[] = {
	{ "400G, one bit from empty", RATE_MAX, CAP_MAX, 0, 0, 1, 1 },
	{ "400G, 401 bits from empty", RATE_MAX, CAP_MAX, 0, 0, 401, 2 },
	{ "1 pps, one packet from empty", 1, 10, 0, 0, 1, NS },
	{ "1 pps, half a packet held", 1, 10, 0, 500000000, 1, 500000000 },
	{ "1 pps, 1/1e9 short", 1, 10, 0, 999999999, 1, 1 },
	{ "3 pps, 1 packet", 3, 10, 5, 0, 6, 333333334 },
	{ "3 pps, 10 packets", 3, 10, 0, 0, 10, 3333333334ULL },
	{ "1 bit/s, last wait that fits", 1, CAP_MAX, 0, 0, 18446744073ULL,
	  18446744073ULL * NS },
	/* 18446744074e9 - 290448385 is 2^64 - 1 */
	{ "1 bit/s, 2^64 - 2 ns", 1, CAP_MAX, 0, 290448386, 18446744074ULL,
	  U64_MAX - 1 },
	{ "1 bit/s, 2^64 ns", 1, CAP_MAX, 0, 290448384, 18446744074ULL,
	  NEVER },
	{ "1 bit/s, 4 GiB from empty", 1, CAP_MAX, 0, 0, CAP_MAX, NEVER },
	{ "2 bit/s, 4 GiB from empty", 2, CAP_MAX, 0, 0, CAP_MAX,
	  CAP_MAX / 2 * NS },
	{ "400G 4 GiB from empty", RATE_MAX, CAP_MAX, 0, 0, CAP_MAX,
	  85899346 },
	{ "over the capacity", RATE_MAX, 100, 0, 0, 101, NEVER },
	{ "held already", 1, 100, 50, 0, 50, 0 },
};

START_TEST(test_wait_table)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	int i = _i;

	ck_assert_int_eq(sl_tb_profile_init(&p, wait_rows[i].rate,
					    wait_rows[i].cap), 0);
	set_both(&b, &m, wait_rows[i].tokens, wait_rows[i].frac, 0);
	ck_assert_msg(sl_tb_wait_ns(&b, &p, wait_rows[i].cost) ==
		      wait_rows[i].wait, "%s: wait %llu, want %llu",
		      wait_rows[i].what, sl_tb_wait_ns(&b, &p, wait_rows[i].cost),
		      wait_rows[i].wait);
	ck_assert_uint_eq(ref_wait(&m, &p, wait_rows[i].cost),
			  wait_rows[i].wait);
}
END_TEST

/*
 * From a random state, waiting wait_ns makes the packet conform and
 * waiting wait_ns - 1 does not; the wait equals the exact model's.
 */
START_TEST(test_wait_random)
{
	struct sl_tb_profile p;
	struct sl_tb b, c;
	struct ref_tb m;
	struct rng r;

	for (unsigned int t = 0; t < 300000; t++) {
		__u64 tokens, frac, last, cost, w;

		rng_seed(&r, t);
		gen_profile(&r, t, &p);
		tokens = rng_range(&r, 0, p.capacity);
		if (rng_range(&r, 0, 3) == 0)
			tokens = 0;
		frac = tokens == p.capacity ? 0 : rng_range(&r, 0, NS - 1);
		last = rng_range(&r, 0, 1ULL << 62);
		if (t % 16 == 0)
			last = U64_MAX - rng_log(&r, 1, 1ULL << 40);
		set_both(&b, &m, tokens, frac, last);
		if (t % 8 == 0)
			cost = rng_range(&r, 0, p.capacity + 2);
		else if (tokens < p.capacity)
			cost = tokens + rng_log(&r, 1, p.capacity - tokens);
		else
			cost = p.capacity;
		w = sl_tb_wait_ns(&b, &p, cost);
		TB_CHECK(w == ref_wait(&m, &p, cost),
			 "seed %llu trial %u: rate %llu capacity %llu held %llu+%llu/1e9 cost %llu: wait %llu, want %llu",
			 base_seed, t, p.rate, p.capacity, tokens, frac, cost,
			 w, ref_wait(&m, &p, cost));
		if (w == NEVER || w > U64_MAX - last)
			continue;
		c = b;
		TB_CHECK(sl_tb_conform(&c, &p, last + w, cost),
			 "seed %llu trial %u: rate %llu capacity %llu held %llu+%llu/1e9 cost %llu: refused after wait %llu",
			 base_seed, t, p.rate, p.capacity, tokens, frac, cost,
			 w);
		c = b;
		TB_CHECK(w == 0 || !sl_tb_conform(&c, &p, last + w - 1, cost),
			 "seed %llu trial %u: rate %llu capacity %llu held %llu+%llu/1e9 cost %llu: passed 1 ns before wait %llu",
			 base_seed, t, p.rate, p.capacity, tokens, frac, cost,
			 w);
	}
}
END_TEST

/* Accepts the clock and the bucket's last refill; the next arrival. */
static __u64 next_arrival(struct rng *r, const struct sl_tb_profile *p,
			  __u64 now, __u64 last, __u64 earn_ns)
{
	static const __u64 idle[] = {
		3 * DAY_NS, 1000000000000000ULL, 1ULL << 62, 85899346,
	};

	switch (rng_range(r, 0, 15)) {
	case 0:
		return now;
	case 1:		/* the clock steps back */
		return now - rng_range(r, 0, now < 4 * earn_ns ? now :
				       4 * earn_ns);
	case 2:		/* the ns around fill_ns */
		if (p->fill_ns == NEVER)
			return U64_MAX;
		return sat_add(last, p->fill_ns - 1 + rng_range(r, 0, 2));
	case 3:
		return sat_add(now, idle[rng_range(r, 0, 3)]);
	case 4:
		return sat_add(now, rng_range(r, 0, p->fill_ns == NEVER ?
					       1ULL << 62 : p->fill_ns));
	default:	/* about the time one packet earns */
		return sat_add(now, rng_range(r, 0, 2 * earn_ns));
	}
}

/* Accepts a profile and a typical cost; a packet's cost, edges included. */
static __u64 next_cost(struct rng *r, const struct sl_tb_profile *p,
		       __u64 typical)
{
	switch (rng_range(r, 0, 15)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return p->capacity;
	case 3:
		return p->capacity + rng_range(r, 1, 2);
	case 4:
		return U64_MAX;
	case 5:
		return rng_range(r, 1, p->capacity);
	default:
		return rng_range(r, 1, typical);
	}
}

/*
 * The bucket and the exact model, fed the same random arrivals, costs
 * and occasional policy swaps, agree on every decision, every wait and
 * every state; and what passed never exceeds burst + rate * time.
 */
START_TEST(test_agree_random)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	struct rng r;

	for (unsigned int t = 0; t < 3000; t++) {
		__u64 now, t0, typical, earn_ns;
		u128 passed = 0, earned = 0;

		rng_seed(&r, t);
		gen_profile(&r, t, &p);
		typical = rng_log(&r, 1, p.capacity);
		earn_ns = ref_fill_ns(p.rate, typical);
		if (earn_ns > 1ULL << 60)
			earn_ns = 1ULL << 60;
		t0 = rng_range(&r, 0, 1ULL << 62);
		if (t % 10 == 0)
			t0 = U64_MAX - rng_log(&r, 1, 1ULL << 40);
		now = t0;
		sl_tb_init(&b, &p, now);
		ref_init(&m, &p, now);
		earned = (u128)p.capacity * NS;
		for (int e = 0; e < 400; e++) {
			__u64 cost, wcost, w, last = m.last_ns;
			int got, want;

			if (rng_range(&r, 0, 63) == 0)	/* policy swap */
				gen_profile(&r, SWAP, &p);
			now = next_arrival(&r, &p, now, b.last_ns, earn_ns);
			cost = next_cost(&r, &p, typical);
			got = sl_tb_conform(&b, &p, now, cost);
			want = ref_conform(&m, &p, now, cost);
			TB_CHECK(got == want && same_state(&b, &m),
				 "seed %llu trial %u event %d: rate %llu capacity %llu now %llu cost %llu: conform %d, want %d; %llu+%llu/1e9 at %llu, want %llu+%llu/1e9 at %llu",
				 base_seed, t, e, p.rate, p.capacity, now,
				 cost, got, want, b.tokens, b.frac, b.last_ns,
				 (__u64)(m.credit / NS),
				 (__u64)(m.credit % NS), m.last_ns);
			if (got)
				passed += cost;
			if (m.last_ns > last)
				earned += (u128)(m.last_ns - last) * p.rate;
			wcost = next_cost(&r, &p, typical);
			w = sl_tb_wait_ns(&b, &p, wcost);
			TB_CHECK(w == ref_wait(&m, &p, wcost),
				 "seed %llu trial %u event %d: rate %llu capacity %llu cost %llu: wait %llu, want %llu",
				 base_seed, t, e, p.rate, p.capacity, wcost, w,
				 ref_wait(&m, &p, wcost));
		}
		/* earned: the first burst, then each rate for its time */
		TB_CHECK(passed * NS <= earned,
			 "seed %llu trial %u: passed more than burst + rate * time",
			 base_seed, t);
	}
}
END_TEST

/*
 * Accepts a rate; a burst for which 10 s of traffic takes at most about
 * 20000 decisions (each passes at most a burst), log-spread above that.
 */
static __u64 gen_burst(struct rng *r, __u64 rate, __u64 lo)
{
	__u64 need = (__u64)((u128)rate * TEN_S / NS / 10000);

	if (need > lo)
		lo = need;
	return rng_log(r, lo, CAP_MAX);
}

/* Accepts burst + rate * time and what passed; within one packet, 0.1%. */
static void check_volume(const char *what, unsigned int t, __u64 rate,
			 __u64 burst, __u64 cmax, u128 target, u128 passed)
{
	TB_CHECK(passed <= target && passed + cmax > target &&
		 (target - passed) * 1000 <= target,
		 "%s seed %llu trial %u: rate %llu burst %llu: passed %llu of %llu in 10 s",
		 what, base_seed, t, rate, burst, (__u64)passed,
		 (__u64)target);
}

/*
 * A backlogged policer: at random instants over 10 s (the last exactly
 * at 10 s) a sender sends packets back to back until one is refused.
 * Instants are close enough that the bucket never overflows after the
 * first, so everything earned passes but for less than one packet.
 */
START_TEST(test_volume_policer)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	struct rng r;

	for (unsigned int t = 0; t < 400; t++) {
		__u64 rate, burst, cmax, cmin, now, t0, end, gap;
		u128 passed = 0, target;

		rng_seed(&r, t);
		rate = t < 2 ? (t ? RATE_MAX : 1) : rng_log(&r, 1, RATE_MAX);
		burst = gen_burst(&r, rate, 2);
		ck_assert_int_eq(sl_tb_profile_init(&p, rate, burst), 0);
		target = (u128)rate * 10 + burst;
		/* costs small enough for 0.1%, and at most half the burst */
		cmax = (__u64)(target / 1000);
		cmax = cmax > burst / 2 ? burst / 2 : cmax;
		cmax = cmax ? cmax : 1;
		cmin = cmax / 2 ? cmax / 2 : 1;
		/* a gap earns at most burst - cmax: no overflow */
		gap = (__u64)((u128)(burst - cmax) * NS / rate);
		t0 = rng_range(&r, 0, 1ULL << 62);
		end = t0 + TEN_S;
		sl_tb_init(&b, &p, t0);
		ref_init(&m, &p, t0);
		for (now = t0;; now = sat_add(now, rng_range(&r, 0, gap))) {
			if (now > end)
				now = end;
			for (;;) {
				__u64 cost = rng_range(&r, cmin, cmax);
				int got = sl_tb_conform(&b, &p, now, cost);

				TB_CHECK(got == ref_conform(&m, &p, now, cost),
					 "seed %llu trial %u: rate %llu burst %llu now %llu cost %llu: differs from the model",
					 base_seed, t, rate, burst, now, cost);
				if (!got)
					break;
				passed += cost;
			}
			if (now == end)
				break;
		}
		check_volume("policer", t, rate, burst, cmax, target, passed);
	}
}
END_TEST

/*
 * A shaper: each packet leaves when sl_tb_wait_ns() says, sometimes
 * late by a random slack the burst absorbs, and never 1 ns early.
 */
START_TEST(test_volume_shaper)
{
	struct sl_tb_profile p;
	struct sl_tb b, c;
	struct rng r;

	for (unsigned int t = 0; t < 400; t++) {
		__u64 rate, burst, cmax, cmin, now, end, slack, w, cost;
		u128 passed = 0, target;

		rng_seed(&r, t);
		rate = t < 2 ? (t ? RATE_MAX : 1) : rng_log(&r, 1, RATE_MAX);
		burst = gen_burst(&r, rate, 2);
		ck_assert_int_eq(sl_tb_profile_init(&p, rate, burst), 0);
		target = (u128)rate * 10 + burst;
		cmax = (__u64)(target / 1000);
		cmax = cmax > burst / 2 ? burst / 2 : cmax;
		cmax = cmax ? cmax : 1;
		cmin = cmax / 2 ? cmax / 2 : 1;
		/* late by up to half what the burst holds above a packet */
		slack = (__u64)((u128)(burst - cmax) * NS / rate / 2);
		now = rng_range(&r, 0, 1ULL << 62);
		end = now + TEN_S;
		sl_tb_init(&b, &p, now);
		for (;;) {
			cost = rng_range(&r, cmin, cmax);
			w = sl_tb_wait_ns(&b, &p, cost);
			TB_CHECK(w != NEVER, "seed %llu trial %u: never", base_seed, t);
			if (w > end - now)
				break;
			c = b;
			TB_CHECK(w == 0 || !sl_tb_conform(&c, &p, now + w - 1, cost),
				 "shaper seed %llu trial %u: rate %llu burst %llu: passed before its wait",
				 base_seed, t, rate, burst);
			/* late only after a wait: a full bucket would overflow */
			now += w;
			if (w && rng_range(&r, 0, 7) == 0) {
				__u64 late = rng_range(&r, 0, slack);

				now += late > end - now ? end - now : late;
			}
			TB_CHECK(sl_tb_conform(&b, &p, now, cost),
				 "shaper seed %llu trial %u: rate %llu burst %llu now %llu cost %llu: refused after its wait",
				 base_seed, t, rate, burst, now, cost);
			passed += cost;
		}
		check_volume("shaper", t, rate, burst, cmax, target, passed);
	}
}
END_TEST

/* schedule: when a packet leaves, by hand. */
static const struct {
	const char *what;
	__u64 rate, cap, tokens, frac, last, now, cost, max_wait;
	int ok;
	__u64 depart;
} sched_rows[] = {
	{ "conforms now", 10, 10, 5, 0, 0, 0, 1, 0, 1, 0 },
	{ "clock ahead of last refill", 10, 10, 0, 0, 0, 50 * MS, 1, 50 * MS,
	  1, 100 * MS },
	{ "empty, 10 pps: 100 ms", 10, 10, 0, 0, 0, 0, 1, 100 * MS, 1, 100 * MS },
	{ "empty, 1 ns too long", 10, 10, 0, 0, 0, 0, 1, 100 * MS - 1, 0, 0 },
	{ "behind a queue of 50 ms", 10, 10, 0, 0, 50 * MS, 0, 1, 150 * MS,
	  1, 150 * MS },
	{ "behind a queue, 1 ns too long", 10, 10, 0, 0, 50 * MS, 0, 1,
	  150 * MS - 1, 0, 0 },
	{ "tokens left at the queue's end", 10, 10, 1, 0, 50 * MS, 0, 1,
	  50 * MS, 1, 50 * MS },
	{ "max_wait 0 polices", 10, 10, 0, 999999999, 0, 0, 1, 0, 0, 0 },
	{ "half a token held", 1, 10, 0, 500000000, 0, 0, 1, NS, 1, NS / 2 },
	{ "over the capacity", 10, 10, 10, 0, 0, 0, 11, U64_MAX, 0, 0 },
	{ "400G, a 1500-byte frame", RATE_MAX, CAP_MAX, 0, 0, 0, 0, 12000,
	  MS, 1, 30 },
	{ "3 pps, 10 packets", 3, 10, 0, 0, 0, 0, 10, U64_MAX, 1, 3333333334ULL },
	{ "past the clock's end", 1, 10, 0, 0, U64_MAX - 10, U64_MAX - 10, 1,
	  U64_MAX, 0, 0 },
	{ "at the clock's end", 1000000000, 10, 0, 0, U64_MAX - 10,
	  U64_MAX - 10, 10, U64_MAX, 1, U64_MAX },
};

/* Each row, and the exact model agrees on the outcome and the state. */
START_TEST(test_schedule_table)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	__u64 d = 0, md = 0;
	int i = _i, got, want;

	ck_assert_int_eq(sl_tb_profile_init(&p, sched_rows[i].rate,
					    sched_rows[i].cap), 0);
	set_both(&b, &m, sched_rows[i].tokens, sched_rows[i].frac,
		 sched_rows[i].last);
	got = sl_tb_schedule(&b, &p, sched_rows[i].now, sched_rows[i].cost,
			     sched_rows[i].max_wait, &d);
	want = ref_schedule(&m, &p, sched_rows[i].now, sched_rows[i].cost,
			    sched_rows[i].max_wait, &md);
	ck_assert_msg(got == sched_rows[i].ok && (!got || d == sched_rows[i].depart),
		      "%s: %d at %llu, want %d at %llu", sched_rows[i].what,
		      got, d, sched_rows[i].ok, sched_rows[i].depart);
	ck_assert_msg(want == got && (!got || md == d) && same_state(&b, &m),
		      "%s: differs from the model", sched_rows[i].what);
}
END_TEST

/*
 * Scheduling and policing, fed the same random arrivals, costs, limits
 * and policy swaps as the exact model, agree with it on every outcome,
 * departure and state; a bucket's departures never go back, never come
 * before their arrival and never after max_wait.
 */
START_TEST(test_schedule_random)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct ref_tb m;
	struct rng r;

	for (unsigned int t = 0; t < 3000; t++) {
		__u64 now, typical, earn_ns, prev = 0;

		rng_seed(&r, t);
		gen_profile(&r, t, &p);
		typical = rng_log(&r, 1, p.capacity);
		earn_ns = ref_fill_ns(p.rate, typical);
		if (earn_ns > 1ULL << 60)
			earn_ns = 1ULL << 60;
		now = rng_range(&r, 0, 1ULL << 62);
		if (t % 10 == 0)
			now = U64_MAX - rng_log(&r, 1, 1ULL << 40);
		sl_tb_init(&b, &p, now);
		ref_init(&m, &p, now);
		for (int e = 0; e < 400; e++) {
			__u64 cost, max_wait, d = 0, md = 0;
			int got, want;

			if (rng_range(&r, 0, 63) == 0)	/* policy swap */
				gen_profile(&r, SWAP, &p);
			now = next_arrival(&r, &p, now, b.last_ns, earn_ns);
			cost = next_cost(&r, &p, typical);
			switch (rng_range(&r, 0, 7)) {
			case 0:
				max_wait = 0;
				break;
			case 1:
				max_wait = U64_MAX;
				break;
			case 2:		/* policing in between */
				got = sl_tb_conform(&b, &p, now, cost);
				want = ref_conform(&m, &p, now, cost);
				TB_CHECK(got == want && same_state(&b, &m),
					 "seed %llu trial %u event %d: conform differs from the model",
					 base_seed, t, e);
				continue;
			default:
				max_wait = rng_range(&r, 0, 8 * earn_ns);
				break;
			}
			got = sl_tb_schedule(&b, &p, now, cost, max_wait, &d);
			want = ref_schedule(&m, &p, now, cost, max_wait, &md);
			TB_CHECK(got == want && (!got || d == md) && same_state(&b, &m),
				 "seed %llu trial %u event %d: rate %llu capacity %llu now %llu cost %llu max_wait %llu: %d at %llu, want %d at %llu; %llu+%llu/1e9 at %llu, want %llu+%llu/1e9 at %llu",
				 base_seed, t, e, p.rate, p.capacity, now, cost,
				 max_wait, got, d, want, md, b.tokens, b.frac,
				 b.last_ns, (__u64)(m.credit / NS),
				 (__u64)(m.credit % NS), m.last_ns);
			if (!got)
				continue;
			TB_CHECK(d >= now && d - now <= max_wait && d >= prev,
				 "seed %llu trial %u event %d: departs at %llu, arrived %llu, max_wait %llu, previous %llu",
				 base_seed, t, e, d, now, max_wait, prev);
			prev = d;
		}
	}
}
END_TEST

/*
 * A shaper offered twice what it may pass in 10 s, with a wait limit of 1 s:
 * what leaves by the end is rate * time + burst within one packet, in
 * arrival order, nothing waits beyond the limit, and the queue (what is
 * scheduled but not yet gone) never holds more than the limit's worth.
 */
START_TEST(test_volume_schedule)
{
	struct sl_tb_profile p;
	struct sl_tb b;
	struct rng r;

	for (unsigned int t = 0; t < 400; t++) {
		__u64 rate, burst, cmax, cmin, now, end, cost, d, prev = 0;
		u128 left = 0, target, ahead;

		rng_seed(&r, t);
		rate = t < 2 ? (t ? RATE_MAX : 1) : rng_log(&r, 1, RATE_MAX);
		burst = gen_burst(&r, rate, 2);
		ck_assert_int_eq(sl_tb_profile_init(&p, rate, burst), 0);
		target = (u128)rate * 10 + burst;
		cmax = (__u64)(target / 1000);
		cmax = cmax > burst / 2 ? burst / 2 : cmax;
		cmax = cmax ? cmax : 1;
		cmin = cmax / 2 ? cmax / 2 : 1;
		now = rng_range(&r, 0, 1ULL << 62);
		end = now + TEN_S;
		sl_tb_init(&b, &p, now);
		while (now <= end) {
			cost = rng_range(&r, cmin, cmax);
			if (sl_tb_schedule(&b, &p, now, cost, NS, &d)) {
				TB_CHECK(d >= prev && d - now <= NS,
					 "seed %llu trial %u: departs at %llu after %llu, arrived %llu",
					 base_seed, t, d, prev, now);
				prev = d;
				if (d <= end)
					left += cost;
			}
			/* queued: at most what 1 s earns, plus a packet */
			ahead = (u128)(b.last_ns - now) * rate;
			TB_CHECK(ahead <= ((u128)rate + cmax) * NS,
				 "seed %llu trial %u: %llu ns queued", base_seed,
				 t, b.last_ns - now);
			/* offered: twice burst + rate * time over the 10 s */
			now += (__u64)((u128)cost * TEN_S / target / 2);
		}
		check_volume("schedule", t, rate, burst, cmax, target, left);
	}
}
END_TEST

/* Accepts nothing; the seed from SL_TB_SEED, else from the clock. */
static unsigned long long pick_seed(void)
{
	const char *env = getenv("SL_TB_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * NS + (unsigned long long)ts.tv_nsec +
	       (unsigned long long)getpid();
}

static Suite *tbucket_suite(void)
{
	Suite *s = suite_create("tbucket");
	TCase *tc = tcase_create("edges");
	TCase *prop = tcase_create("properties");

	tcase_add_loop_test(tc, test_profile_init_table, 0,
			    sizeof(init_rows) / sizeof(init_rows[0]));
	tcase_add_loop_test(tc, test_refill_table, 0,
			    sizeof(refill_rows) / sizeof(refill_rows[0]));
	tcase_add_loop_test(tc, test_cost_over_capacity, 0, 4);
	tcase_add_test(tc, test_clock_backwards);
	tcase_add_test(tc, test_clock_end);
	tcase_add_test(tc, test_profile_swap);
	tcase_add_loop_test(tc, test_wait_table, 0,
			    sizeof(wait_rows) / sizeof(wait_rows[0]));
	tcase_add_loop_test(tc, test_schedule_table, 0,
			    sizeof(sched_rows) / sizeof(sched_rows[0]));
	suite_add_tcase(s, tc);
	tcase_add_test(prop, test_profile_init_random);
	tcase_add_test(prop, test_full_refill_exact);
	tcase_add_test(prop, test_wait_random);
	tcase_add_test(prop, test_agree_random);
	tcase_add_test(prop, test_volume_policer);
	tcase_add_test(prop, test_volume_shaper);
	tcase_add_test(prop, test_schedule_random);
	tcase_add_test(prop, test_volume_schedule);
	suite_add_tcase(s, prop);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tbucket_suite());
	int failed;

	base_seed = pick_seed();
	printf("tbucket: seed %llu (SL_TB_SEED=%llu replays it)\n", base_seed,
	       base_seed);
	fflush(stdout);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
