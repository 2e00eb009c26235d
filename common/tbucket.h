/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token-bucket arithmetic shared by every path that meters: the DPDK
 * dataplane, offline replay and the XDP program. Integer only, no libc,
 * so the same code compiles for the BPF target.
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
 * the new fraction, so no fraction is ever lost and the long-run volume
 * is exactly rate * time + burst. Divisions are by the constant 1e9,
 * which compilers turn into multiplications.
 *
 * Token units are the caller's choice: packets for packet rates, bits for
 * bit rates (cost = frame length * 8). The clock is whatever the caller
 * passes as now_ns (monotonic nanoseconds), so tests inject a simulated
 * clock.
 */
#ifndef SLUICE_TBUCKET_H
#define SLUICE_TBUCKET_H

#include <linux/types.h>

#define SL_TB_NS_PER_S 1000000000ULL

/* Largest rate the arithmetic above is proved for: 400 Gbit/s in bits. */
#define SL_TB_RATE_MAX (400ULL * 1000 * 1000 * 1000)
/* Largest capacity: 4 GiB of burst in bits. */
#define SL_TB_CAPACITY_MAX (4ULL * 1024 * 1024 * 1024 * 8)

/* Validated, read-only parameters of a bucket (config time). */
struct sl_tb_profile {
	__u64 rate;		/* tokens per second, 1..SL_TB_RATE_MAX */
	__u64 capacity;		/* bucket depth in tokens */
	__u64 rate_q;		/* whole tokens per ns: rate / 1e9 */
	__u64 rate_f;		/* fraction per ns, in 1/1e9 token: rate % 1e9 */
	__u64 fill_ns;		/* ns for an empty bucket to fill, rounded up */
};

/* Run-time state of one bucket (per key). */
struct sl_tb {
	__u64 tokens;		/* whole tokens, <= capacity */
	__u64 frac;		/* fraction of a token, in 1/1e9 token */
	__u64 last_ns;		/* clock at the last refill */
};

/*
 * Fill a profile. Returns 0, or -22 (EINVAL) for a rate or capacity out
 * of range. Not for the BPF target: user space computes profiles and
 * hands them to the BPF program in a map.
 */
static inline int sl_tb_profile_init(struct sl_tb_profile *p, __u64 rate,
				     __u64 capacity)
{
	__u64 whole_s, rem, rem_ns;

	if (rate == 0 || rate > SL_TB_RATE_MAX || capacity == 0 ||
	    capacity > SL_TB_CAPACITY_MAX)
		return -22;
	p->rate = rate;
	p->capacity = capacity;
	p->rate_q = rate / SL_TB_NS_PER_S;
	p->rate_f = rate % SL_TB_NS_PER_S;
	/*
	 * fill_ns = ceil(capacity * 1e9 / rate), without the 128-bit
	 * product: whole seconds first, then the remainder (< rate), whose
	 * ns part is found by long division in steps of 1e3 so each
	 * product stays below 4e11 * 1e3.
	 */
	whole_s = capacity / rate;
	rem = capacity % rate;
	rem_ns = 0;
	for (int i = 0; i < 3; i++) {
		rem *= 1000;
		rem_ns = rem_ns * 1000 + rem / rate;
		rem %= rate;
	}
	p->fill_ns = whole_s * SL_TB_NS_PER_S + rem_ns + (rem ? 1 : 0);
	return 0;
}

/* Start a bucket full at time now_ns. */
static inline void sl_tb_init(struct sl_tb *b, const struct sl_tb_profile *p,
			      __u64 now_ns)
{
	b->tokens = p->capacity;
	b->frac = 0;
	b->last_ns = now_ns;
}

/*
 * Credit the tokens earned since the last refill. A clock that steps
 * back earns nothing and does not move last_ns back, so a later
 * timestamp is not credited twice.
 */
static inline void sl_tb_refill(struct sl_tb *b, const struct sl_tb_profile *p,
				__u64 now_ns)
{
	__u64 elapsed, s, r, fr, added;

	if (now_ns <= b->last_ns)
		return;
	elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	if (b->tokens >= p->capacity)
		return;
	if (elapsed >= p->fill_ns) {
		b->tokens = p->capacity;
		b->frac = 0;
		return;
	}
	s = elapsed / SL_TB_NS_PER_S;
	r = elapsed % SL_TB_NS_PER_S;
	fr = r * p->rate_f + b->frac;
	added = s * p->rate + r * p->rate_q + fr / SL_TB_NS_PER_S;
	b->frac = fr % SL_TB_NS_PER_S;
	if (added >= p->capacity - b->tokens) {
		b->tokens = p->capacity;
		b->frac = 0;
	} else {
		b->tokens += added;
	}
}

/*
 * Meter one packet of the given cost (1 for packet rates, bits for bit
 * rates). Returns 1 if it conforms (its tokens are taken), 0 if it
 * exceeds (nothing is taken, as in a single-rate policer).
 */
static inline int sl_tb_conform(struct sl_tb *b, const struct sl_tb_profile *p,
				__u64 now_ns, __u64 cost)
{
	sl_tb_refill(b, p, now_ns);
	if (b->tokens < cost)
		return 0;
	b->tokens -= cost;
	return 1;
}

/*
 * Time in ns until cost tokens will be available (0 if they are now),
 * for shaping. Assumes sl_tb_refill() was called at now_ns. Returns
 * ~0ULL when cost exceeds the capacity and can never conform.
 */
static inline __u64 sl_tb_wait_ns(const struct sl_tb *b,
				  const struct sl_tb_profile *p, __u64 cost)
{
	__u64 need, need_frac, s, rem, ns;

	if (b->tokens >= cost)
		return 0;
	if (cost > p->capacity)
		return ~0ULL;
	/* Tokens missing, in 1/1e9 token, minus the fraction we hold. */
	need = cost - b->tokens;
	need_frac = SL_TB_NS_PER_S - b->frac;	/* for the first token */
	need -= 1;
	/* ceil((need * 1e9 + need_frac) / rate) without overflow */
	s = need / p->rate;
	rem = need % p->rate;
	ns = s * SL_TB_NS_PER_S;
	/* rem < rate <= 4e11: rem * 1e9 may overflow, so go in 1e3 steps */
	{
		__u64 q = 0, rr = rem;

		for (int i = 0; i < 3; i++) {
			rr *= 1000;
			q = q * 1000 + rr / p->rate;
			rr %= p->rate;
		}
		/* q ns cover rem tokens up to rr/rate ns; add need_frac */
		ns += q;
		rr = rr + need_frac;	/* both < rate + 1e9 */
		ns += rr / p->rate + (rr % p->rate ? 1 : 0);
	}
	return ns;
}

#endif /* SLUICE_TBUCKET_H */
