/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC pacing. Packet n of a stream is due at active time n / rate, where
 * active time is the time spent in "on" phases (all of it without
 * --on/--off). The number due is computed from the elapsed TSC each time
 * rather than by adding an interval per packet, so rounding never
 * accumulates over a long run. When tx falls more than a few bursts
 * behind, the excess is forgiven (the schedule shifts later) and counted
 * as a late event instead of being sent as one huge burst.
 * Pure arithmetic on TSC counts: no EAL, so unit tests drive it.
 */
#include <math.h>

#include "gen.h"

/*
 * Sets up @p for @pps packets/s (0 = as fast as possible) on a TSC of
 * @hz, bursting @on_s / silent @off_s (both 0 = steady), stopping after
 * @count packets (0 = never), sending at most @cap behind schedule.
 */
void sl_gen_pacer_init(struct sl_gen_pacer *p, double pps, uint64_t hz,
		       double on_s, double off_s, uint64_t count, uint32_t cap)
{
	memset(p, 0, sizeof(*p));
	p->pkts_per_tsc = pps / (double)hz;
	if (on_s > 0 && off_s > 0) {
		p->on_tsc = (uint64_t)(on_s * (double)hz);
		p->period_tsc = p->on_tsc + (uint64_t)(off_s * (double)hz);
	}
	p->limit = count ? count : UINT64_MAX;
	p->cap = cap;
}

/* Returns the TSC cycles of "on" time within @elapsed cycles. */
static uint64_t active_tsc(const struct sl_gen_pacer *p, uint64_t elapsed)
{
	uint64_t phase;

	if (p->period_tsc == 0)
		return elapsed;
	phase = elapsed % p->period_tsc;
	return elapsed / p->period_tsc * p->on_tsc + RTE_MIN(phase, p->on_tsc);
}

/* Returns how many packets are due strictly before @elapsed, lag applied. */
static uint64_t due(const struct sl_gen_pacer *p, uint64_t elapsed)
{
	double x = (double)active_tsc(p, elapsed) * p->pkts_per_tsc;
	/* Guards against x = 20000.0000001 when 20000 is meant. */
	uint64_t n = (uint64_t)ceil(x - 1e-6);

	return n > p->lag ? n - p->lag : 0;
}

/*
 * Returns how many packets to send now, @elapsed TSC cycles after the
 * start, at most @max, and counts them as handed out.
 */
uint32_t sl_gen_pacer_take(struct sl_gen_pacer *p, uint64_t elapsed,
			   uint32_t max)
{
	uint64_t n, d;

	if (p->sched >= p->limit)
		return 0;
	if (p->pkts_per_tsc == 0) {
		if (p->period_tsc &&
		    elapsed % p->period_tsc >= p->on_tsc)
			return 0;
		n = RTE_MIN((uint64_t)max, p->limit - p->sched);
		p->sched += n;
		return (uint32_t)n;
	}
	/* Packets past --count are not behind schedule: clamp first. */
	d = RTE_MIN(due(p, elapsed), p->limit);
	if (d <= p->sched)
		return 0;
	n = d - p->sched;
	if (n > p->cap) {
		p->late_events++;
		p->lag += n - p->cap;
		n = p->cap;
	}
	n = RTE_MIN(n, (uint64_t)max);
	p->sched += n;
	return (uint32_t)n;
}

/* Gives back @n packets of the last take that could not be built. */
void sl_gen_pacer_untake(struct sl_gen_pacer *p, uint32_t n)
{
	p->sched -= n;
}

/*
 * Returns whether the stream has sent its --count and, when paced, the
 * time the next packet would be due has come: so --count 1000 at
 * 1000 pps lasts one second, not 0.999.
 */
bool sl_gen_pacer_finished(const struct sl_gen_pacer *p, uint64_t elapsed)
{
	if (p->sched < p->limit)
		return false;
	return p->pkts_per_tsc == 0 || due(p, elapsed) > p->limit;
}
