/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token-bucket arithmetic shared by every path that meters: the DPDK
 * dataplane, offline replay and the XDP program. Integer only, no libc,
 * no 128-bit types, loops of constant trip count, so the same code
 * compiles for the BPF target and passes its verifier.
 *
 * A bucket holds whole tokens plus a fraction of a token in units of
 * 1/1e9 token. Refill over an elapsed time of E ns at R tokens/s adds
 * E * R / 1e9 tokens. That product can overflow 64 bits (400 Gbit/s is
 * 4e11 bit/s), so it is split:
 *
 *   E = s * 1e9 + r               (whole seconds, remainder ns)
 *   R = q * 1e9 + f               (whole tokens per ns, fraction)
 *   added = s * R + r * q + (r * f + frac) / 1e9
 *
 * Each term fits: s * R is bounded by the bucket capacity (refill is
 * capped at the time to fill an empty bucket, fill_ns), r * q < 1e9 * 400,
 * and r * f + frac < 1e18 + 1e9. The remainder of the last division is
 * the new fraction, so no fraction is ever lost: the bucket computes
 * exactly credit = min(capacity, credit + E * R / 1e9) in rationals, and
 * the long-run volume is exactly rate * time + burst. Divisions are by the
 * constant 1e9, which compilers turn into multiplications.
 *
 * Token units are the caller's choice: packets for packet rates, bits for
 * bit rates (cost = frame length * 8). The clock is whatever the caller
 * passes as now_ns, so tests inject a simulated clock. It is an unsigned
 * monotonic count of ns over the whole 64-bit range and never wraps: 2^64
 * ns is 584 years of uptime, or the year 2554 for pcap epoch timestamps.
 * A step back, a wrap included, earns nothing until the clock passes the
 * last refill again.
 */
#ifndef SLUICE_TBUCKET_H
#define SLUICE_TBUCKET_H

#include <linux/types.h>

#define SL_TB_NS_PER_S 1000000000ULL

/* Largest rate the arithmetic above is proved for: 400 Gbit/s in bits. */
#define SL_TB_RATE_MAX (400ULL * 1000 * 1000 * 1000)
/* Largest capacity: 4 GiB of burst in bits. */
#define SL_TB_CAPACITY_MAX (4ULL * 1024 * 1024 * 1024 * 8)
/* A time too far to count: a fill_ns over 64 bits, a wait that never ends. */
#define SL_TB_NEVER (~0ULL)

/*
 * The BPF target has function calls but the verifier limits them; these
 * helpers are small, so always inline them, on every target alike.
 */
#define SL_TB_INLINE static inline __attribute__((always_inline))

/* Validated, read-only parameters of a bucket (config time). */
struct sl_tb_profile {
	__u64 rate;		/* tokens per second, 1..SL_TB_RATE_MAX */
	__u64 capacity;		/* bucket depth in tokens */
	__u64 rate_q;		/* whole tokens per ns: rate / 1e9 */
	__u64 rate_f;		/* fraction per ns, in 1/1e9 token: rate % 1e9 */
	__u64 fill_ns;		/* ns for an empty bucket to fill, rounded up;
				 * SL_TB_NEVER if over 2^64 - 1 (1 token/s
				 * with capacity over 18446744073 tokens) */
};

/* Run-time state of one bucket (per key). */
struct sl_tb {
	__u64 tokens;		/* whole tokens, <= capacity */
	__u64 frac;		/* fraction of a token, in 1/1e9 token */
	__u64 last_ns;		/* clock at the last refill */
};

/*
 * Accepts x < d <= SL_TB_RATE_MAX; returns floor(x * 1e9 / d) and sets
 * *rem to x * 1e9 % d. The product needs up to 69 bits, so divide long
 * hand in three steps of 1e3: each partial product stays below 4e14.
 */
SL_TB_INLINE __u64 sl_tb_scale_1e9(__u64 x, __u64 d, __u64 *rem)
{
	__u64 q = 0;

	for (int i = 0; i < 3; i++) {
		x *= 1000;
		q = q * 1000 + x / d;
		x %= d;
	}
	*rem = x;
	return q;
}

/*
 * Fill a profile. Returns 0, or -22 (EINVAL) for a rate or capacity out
 * of range. Compiles for BPF, but user space computes profiles and hands
 * them to the BPF program in a map.
 */
SL_TB_INLINE int sl_tb_profile_init(struct sl_tb_profile *p, __u64 rate,
				    __u64 capacity)
{
	__u64 whole_s, part_ns, rem;

	if (rate == 0 || rate > SL_TB_RATE_MAX || capacity == 0 ||
	    capacity > SL_TB_CAPACITY_MAX)
		return -22;
	p->rate = rate;
	p->capacity = capacity;
	p->rate_q = rate / SL_TB_NS_PER_S;
	p->rate_f = rate % SL_TB_NS_PER_S;
	/*
	 * fill_ns = ceil(capacity * 1e9 / rate): whole seconds, then the
	 * ns of the remainder. 4 GiB of bits at 1 bit/s is 3.4e19 ns, more
	 * than 64 bits hold, hence the saturation.
	 */
	whole_s = capacity / rate;
	part_ns = sl_tb_scale_1e9(capacity % rate, rate, &rem) + (rem != 0);
	if (whole_s > (SL_TB_NEVER - part_ns) / SL_TB_NS_PER_S)
		p->fill_ns = SL_TB_NEVER;
	else
		p->fill_ns = whole_s * SL_TB_NS_PER_S + part_ns;
	return 0;
}

/* Accepts a profile from sl_tb_profile_init(); starts the bucket full. */
SL_TB_INLINE void sl_tb_init(struct sl_tb *b, const struct sl_tb_profile *p,
			     __u64 now_ns)
{
	b->tokens = p->capacity;
	b->frac = 0;
	b->last_ns = now_ns;
}

/*
 * Accepts any now_ns; credits the tokens earned since the last refill.
 * A clock that steps back earns nothing and does not move last_ns back,
 * so a later timestamp is not credited twice.
 */
SL_TB_INLINE void sl_tb_refill(struct sl_tb *b, const struct sl_tb_profile *p,
			       __u64 now_ns)
{
	__u64 elapsed, s, r, fr, added;

	/*
	 * After a policy swap to a smaller burst, tokens can exceed the
	 * capacity: clamp even when no time passed, or a burst of packets
	 * stamped with the same ns would spend the old burst.
	 */
	if (now_ns <= b->last_ns) {
		if (b->tokens >= p->capacity)
			goto full;
		return;
	}
	elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	/*
	 * A full bucket stays full, and one idle for fill_ns fills (this
	 * also keeps s * R below the capacity). A saturated fill_ns means
	 * rate 1, where the sum below cannot overflow, so the only elapsed
	 * that reaches it, 2^64 - 1, takes the exact path.
	 */
	if (b->tokens >= p->capacity ||
	    (elapsed >= p->fill_ns && p->fill_ns != SL_TB_NEVER))
		goto full;
	s = elapsed / SL_TB_NS_PER_S;
	r = elapsed % SL_TB_NS_PER_S;
	fr = r * p->rate_f + b->frac;
	added = s * p->rate + r * p->rate_q + fr / SL_TB_NS_PER_S;
	if (added >= p->capacity - b->tokens)
		goto full;
	b->tokens += added;
	b->frac = fr % SL_TB_NS_PER_S;
	return;
full:
	b->tokens = p->capacity;
	b->frac = 0;
}

/*
 * Accepts any now_ns and cost; meters one packet of that cost (1 for
 * packet rates, bits for bit rates). Returns 1 if it conforms (its
 * tokens are taken), 0 if it exceeds (nothing is taken, as in a
 * single-rate policer). A cost over the capacity never conforms.
 */
SL_TB_INLINE int sl_tb_conform(struct sl_tb *b, const struct sl_tb_profile *p,
			       __u64 now_ns, __u64 cost)
{
	sl_tb_refill(b, p, now_ns);
	if (b->tokens < cost)
		return 0;
	b->tokens -= cost;
	return 1;
}

/*
 * Accepts a bucket refilled at the current time and any cost; returns
 * the ns from last_ns until cost tokens are available (0 if they are
 * now), for shaping: sl_tb_conform() at last_ns + wait conforms, one ns
 * earlier it does not. Returns SL_TB_NEVER when cost exceeds the
 * capacity or the wait is 2^64 - 1 ns or more (584 years); that is no
 * time to add to a clock. last_ns + wait can pass 2^64 - 1 near the
 * clock's end: saturate the sum.
 */
SL_TB_INLINE __u64 sl_tb_wait_ns(const struct sl_tb *b,
				 const struct sl_tb_profile *p, __u64 cost)
{
	__u64 need, s, part_ns, rem;

	if (b->tokens >= cost)
		return 0;
	if (cost > p->capacity)
		return SL_TB_NEVER;
	/*
	 * wait = ceil((need * 1e9 - frac) / rate) for need missing whole
	 * tokens, with the dividend written as (need - 1) * 1e9 +
	 * (1e9 - frac) so no step goes negative, and split like fill_ns:
	 * whole seconds of the first term, ns of its remainder, then the
	 * ns of the leftover remainder plus the second term (< 4e11 + 1e9).
	 */
	need = cost - b->tokens - 1;
	s = need / p->rate;
	part_ns = sl_tb_scale_1e9(need % p->rate, p->rate, &rem);
	rem += SL_TB_NS_PER_S - b->frac;
	part_ns += rem / p->rate + (rem % p->rate != 0);
	if (s > (SL_TB_NEVER - part_ns) / SL_TB_NS_PER_S)
		return SL_TB_NEVER;
	return s * SL_TB_NS_PER_S + part_ns;
}

/*
 * Accepts any now_ns, cost and max_wait; schedules one packet for
 * shaping. Returns 1 with *depart_ns, the first instant its cost is
 * available behind every packet scheduled before it (now_ns if it
 * conforms now), and its tokens taken; or 0, with the bucket's credit
 * untouched, when that instant is more than max_wait after now_ns (or
 * never, or past the clock's end).
 *
 * A packet that must wait until T takes the tokens of T: the bucket's
 * clock moves to T with what is left, and since a bucket earns nothing
 * while now_ns < last_ns, the next packet of the bucket queues behind
 * it. So a queue of any length costs no state beyond struct sl_tb, the
 * departures of one bucket are in arrival order, and its long-run output
 * is exactly rate * time + burst, as for policing.
 */
SL_TB_INLINE int sl_tb_schedule(struct sl_tb *b, const struct sl_tb_profile *p,
				__u64 now_ns, __u64 cost, __u64 max_wait,
				__u64 *depart_ns)
{
	__u64 w, ahead;

	/* After this, last_ns >= now_ns: it is where the queue ends. */
	sl_tb_refill(b, p, now_ns);
	ahead = b->last_ns - now_ns;
	/* A queue longer than max_wait already: spare the divisions. */
	if (ahead > max_wait)
		return 0;
	w = sl_tb_wait_ns(b, p, cost);
	if (w == SL_TB_NEVER || w > max_wait - ahead ||
	    w > SL_TB_NEVER - b->last_ns)
		return 0;
	*depart_ns = b->last_ns + w;
	/* The wait makes cost available at *depart_ns: none is missing. */
	sl_tb_refill(b, p, *depart_ns);
	b->tokens -= cost;
	return 1;
}

#endif /* SLUICE_TBUCKET_H */
