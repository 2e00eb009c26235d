/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The class ceiling: one bucket for all keys of a class on all lcores,
 * shared without locks. See docs/decisions/0010-class-ceiling.md.
 *
 * The bucket is kept as GCRA (the generic cell rate algorithm) keeps
 * it: not as tokens and a refill time, which would be two words to
 * update together, but as one time, the TAT ("theoretical arrival
 * time"), when the bucket will be full again. At time now the bucket
 * owes debt = max(0, TAT - now) ns of tokens, so it holds
 *
 *   credit = capacity - debt * rate / 1e9
 *
 * A packet of cost c conforms when debt + c * 1e9 / rate <= capacity *
 * 1e9 / rate, and then TAT = now + debt + c * 1e9 / rate. That is one
 * 64-bit word, read, checked and replaced with compare-and-swap: lcores
 * that race retry with the winner's TAT, so no token is lost or spent
 * twice. A refusal writes nothing, so an overloaded class costs its
 * lcores a shared read per packet and a write only per admitted one.
 *
 * Exactness: TAT is whole ns, as the clock is (64 bits of ns never
 * wrap, epoch timestamps included). The ns a packet costs are a whole
 * part and a remainder over rate; the remainder is kept per lcore, in
 * struct sl_ceil_lcore, and carried into TAT when it makes a whole ns,
 * as struct sl_tb carries its fraction. So one lcore alone meters
 * exactly as sl_tb does (the unit tests compare the two packet by
 * packet); with N lcores the shared TAT is off from the exact rational
 * one by less than N ns, never cumulatively: at most N * rate / 1e9
 * tokens at any time (400 bits per lcore at 400 Gbit/s).
 *
 * Not for the BPF target: it needs a 64-bit compare-and-swap.
 */
#ifndef SLUICE_CEILING_H
#define SLUICE_CEILING_H

#include "tbucket.h"

/*
 * Largest burst in ns, capacity * 1e9 / rate: 2^62 ns, 146 years, so
 * that debt plus cost never overflow. Only a huge burst at a tiny
 * rate (4.6e9 packets at 1 pps) reaches it.
 */
#define SL_CEIL_SPAN_MAX (1ULL << 62)

/* Validated, read-only parameters of a ceiling (config time). */
struct sl_ceil_profile {
	__u64 rate;		/* tokens per second, 1..SL_TB_RATE_MAX */
	__u64 capacity;	/* tokens */
	__u64 cap_q;		/* the capacity in ns: cap_q + cap_r / rate */
	__u64 cap_r;
	__u64 tok_q;		/* one token in ns: tok_q + tok_r / rate */
	__u64 tok_r;
};

/*
 * Shared state of one ceiling: a cache line of its own, since every
 * lcore writes it. Zero is a full bucket (any clock is past it).
 */
struct sl_ceil {
	__u64 tat;		/* ns at which the bucket is full again */
} __attribute__((aligned(64)));

/* One lcore's part of a ceiling: what it owes below 1 ns. */
struct sl_ceil_lcore {
	__u64 rem;		/* in 1/rate ns, < rate */
	__u64 rate;		/* the rate rem is counted in; 0: none yet */
};

/* Cost of the fast path's product cost * tok_r: exact below this cost. */
#define SL_CEIL_COST_FAST (1ULL << 24)

/*
 * Fill a profile. Returns 0, or -22 (EINVAL) for a rate or capacity
 * out of sl_tb's range or a burst over SL_CEIL_SPAN_MAX ns.
 */
static inline int sl_ceil_profile_init(struct sl_ceil_profile *p,
				       __u64 rate, __u64 capacity)
{
	__u64 whole_s;

	if (rate == 0 || rate > SL_TB_RATE_MAX || capacity == 0 ||
	    capacity > SL_TB_CAPACITY_MAX)
		return -22;
	whole_s = capacity / rate;
	if (whole_s >= SL_CEIL_SPAN_MAX / SL_TB_NS_PER_S)
		return -22;
	p->rate = rate;
	p->capacity = capacity;
	p->cap_q = whole_s * SL_TB_NS_PER_S +
		   sl_tb_scale_1e9(capacity % rate, rate, &p->cap_r);
	p->tok_q = (1 / rate) * SL_TB_NS_PER_S +
		   sl_tb_scale_1e9(1 % rate, rate, &p->tok_r);
	return 0;
}

/*
 * Accepts cost <= p->capacity; sets *q + *r / rate to its exact length
 * in ns, cost * 1e9 / rate. One division, none for a cost of one.
 */
static inline void sl_ceil_cost_ns(const struct sl_ceil_profile *p,
				   __u64 cost, __u64 *q, __u64 *r)
{
	__u64 fr;

	if (cost == 1) {
		*q = p->tok_q;
		*r = p->tok_r;
		return;
	}
	if (cost < SL_CEIL_COST_FAST) {
		/* tok_r < rate < 2^39: the product stays below 2^63. */
		fr = cost * p->tok_r;
		*q = cost * p->tok_q + fr / p->rate;
		*r = fr % p->rate;
		return;
	}
	*q = (cost / p->rate) * SL_TB_NS_PER_S +
	     sl_tb_scale_1e9(cost % p->rate, p->rate, r);
}

/*
 * Accepts a ceiling, the calling lcore's part of it, its profile, a
 * clock that does not step back on this lcore, and any cost. Returns 1
 * if the packet conforms (its tokens are taken), 0 if not (nothing is
 * taken). Safe on any number of lcores at once.
 */
static inline int sl_ceil_take(struct sl_ceil *c, struct sl_ceil_lcore *l,
			       const struct sl_ceil_profile *p, __u64 now,
			       __u64 cost)
{
	__u64 cq, cr, tat, debt, x, rem, next;

	if (cost > p->capacity)
		return 0;
	/* A new rate counts remainders in other units: start over. */
	if (l->rate != p->rate) {
		l->rate = p->rate;
		l->rem = 0;
	}
	sl_ceil_cost_ns(p, cost, &cq, &cr);
	tat = __atomic_load_n(&c->tat, __ATOMIC_RELAXED);
	do {
		/*
		 * Paid off: the bucket is full, and the fraction this lcore
		 * still owed is forgiven with it, as sl_tb drops its frac.
		 */
		if (tat < now) {
			debt = 0;
			rem = cr;
		} else {
			debt = tat - now;
			rem = l->rem + cr;
		}
		/* A debt beyond the burst: a smaller burst since, or a lagging clock. */
		if (debt > p->cap_q)
			return 0;
		x = debt + cq;		/* no overflow: both <= cap_q < 2^62 + 1e9 */
		if (rem >= p->rate) {
			rem -= p->rate;
			x++;
		}
		if (x > p->cap_q || (x == p->cap_q && rem > p->cap_r))
			return 0;
		/* Saturate: near the clock's end, TAT stays in range. */
		next = now > SL_TB_NEVER - x ? SL_TB_NEVER : now + x;
	} while (!__atomic_compare_exchange_n(&c->tat, &tat, next, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	l->rem = rem;
	return 1;
}

/*
 * Accepts a ceiling metered under profile from, and the clock; carries
 * its state over to profile to as sl_tb carries a bucket's: the credit
 * in tokens is kept, clamped to the new capacity (a debt kept in ns
 * would make a class wait longer when its rate is raised). For the
 * control side, after a policy swap: lcores that meter meanwhile under
 * to are safe (CAS), and their charges in the meantime are taken as
 * charged under from, an error of the swap's grace period at most.
 * The division rounds the debt up: never more credit than was there.
 */
static inline void sl_ceil_rescale(struct sl_ceil *c,
				   const struct sl_ceil_profile *from,
				   const struct sl_ceil_profile *to, __u64 now)
{
	__u64 tat = __atomic_load_n(&c->tat, __ATOMIC_RELAXED), debt, next;
	unsigned __int128 credit, cap_to, owed;

	do {
		if (tat <= now)		/* full under either profile */
			return;
		/* Credit in 1/1e9 token: what the debt left of the old capacity. */
		owed = (unsigned __int128)(tat - now) * from->rate;
		credit = (unsigned __int128)from->capacity * SL_TB_NS_PER_S;
		credit = owed >= credit ? 0 : credit - owed;
		cap_to = (unsigned __int128)to->capacity * SL_TB_NS_PER_S;
		if (credit > cap_to)
			credit = cap_to;
		debt = (__u64)((cap_to - credit + to->rate - 1) / to->rate);
		next = now > SL_TB_NEVER - debt ? SL_TB_NEVER : now + debt;
	} while (!__atomic_compare_exchange_n(&c->tat, &tat, next, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

#endif /* SLUICE_CEILING_H */
