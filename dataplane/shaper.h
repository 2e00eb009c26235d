/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shaping queue of one worker lcore: a timing wheel of mbufs that
 * the engine delayed (SL_VERDICT_DELAY), each sent when its tick comes.
 * See docs/decisions/0009-shaping-queue.md.
 *
 * A tick is DP_SHAPE_TICK_NS (16.384 us); slot t % DP_SHAPE_SLOTS holds
 * the packets due in tick t, in the order they were added. A packet due
 * at D goes to tick ceil(D / tick) and leaves at the first poll at or
 * after that tick's start: never before D, and late by less than a tick
 * plus one poll. The slots span 1.07 s, more than the longest DELAY the
 * policy loader accepts (SL_SHAPE_DELAY_MAX_NS) plus two ticks, so a
 * packet never lands in a slot still holding an earlier turn's packets.
 *
 * Capacity is a fixed number of entries (mbufs) per lcore, allocated at
 * start; entries are linked by index into per-slot FIFOs and a free
 * list. No allocation, no locks, no system calls after create; the
 * owning lcore alone adds and pops, other threads only read st.
 */
#ifndef SLUICE_DP_SHAPER_H
#define SLUICE_DP_SHAPER_H

#include <errno.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "policy.h"

#define DP_SHAPE_TICK_SHIFT	14
#define DP_SHAPE_TICK_NS	(1ULL << DP_SHAPE_TICK_SHIFT)	/* 16.384 us */
#define DP_SHAPE_SLOTS		(1u << 16)	/* 65536 ticks: 1.074 s */
#define DP_SHAPE_NIL		UINT32_MAX
#define DP_SHAPE_QUEUE_DEFAULT	8192	/* mbufs per lcore */
#define DP_SHAPE_QUEUE_MAX	(1u << 20)

/*
 * A packet added after a poll released everything due is at most
 * DELAY + one tick ahead of the first unreleased tick.
 */
_Static_assert((DP_SHAPE_SLOTS - 2) * DP_SHAPE_TICK_NS >= SL_SHAPE_DELAY_MAX_NS,
	       "the wheel must span the longest shape delay");

struct dp_shaper_ent {
	struct rte_mbuf *m;
	uint64_t arrive_ns;
	uint64_t depart_ns;
	uint32_t next;		/* next in its slot or in the free list */
	uint16_t port;		/* the caller's tag: the rx port's index */
};

/* Counters; aligned u64s written by the owning lcore only. */
struct dp_shaper_stats {
	uint64_t added;
	uint64_t sent;		/* popped when due */
	uint64_t freed;		/* still queued when the shaper was freed */
	uint64_t depth;		/* queued now */
	uint64_t high_water;	/* most queued at once */
	uint64_t max_late_ns;	/* most a packet left after its departure */
	uint64_t max_hold_ns;	/* most a packet was held */
};

struct dp_shaper {
	uint64_t cur;		/* first tick not yet released */
	uint32_t cap;		/* entries */
	uint32_t n;		/* queued */
	uint32_t free_head;
	uint32_t *head;		/* per slot: first entry, DP_SHAPE_NIL if none */
	uint32_t *tail;		/* per slot: last entry, valid while head is */
	struct dp_shaper_ent *ent;
	struct dp_shaper_stats st;
};

/*
 * Accepts a capacity up to DP_SHAPE_QUEUE_MAX (0: a queue that holds
 * nothing); returns a shaper on socket, or NULL with rte_errno set.
 */
struct dp_shaper *dp_shaper_create(uint32_t cap, int socket);

/* Accepts a shaper or NULL; frees it and any mbuf still queued. */
void dp_shaper_free(struct dp_shaper *s);

/* Accepts a shaper; how many more packets it can hold. */
static inline uint32_t dp_shaper_room(const struct dp_shaper *s)
{
	return s->cap - s->n;
}

/*
 * Accepts a shaper on which packets due at now_ns have been popped, and
 * depart_ns >= now_ns at most SL_SHAPE_DELAY_MAX_NS later; queues m
 * (tagged port) for depart_ns. Returns 0, or -ENOSPC when full.
 */
static inline int dp_shaper_add(struct dp_shaper *s, struct rte_mbuf *m,
				uint16_t port, uint64_t now_ns,
				uint64_t depart_ns)
{
	uint64_t t = (depart_ns >> DP_SHAPE_TICK_SHIFT) +
		     ((depart_ns & (DP_SHAPE_TICK_NS - 1)) != 0);
	struct dp_shaper_ent *e;
	uint32_t i = s->free_head, slot;

	if (unlikely(i == DP_SHAPE_NIL))
		return -ENOSPC;
	/* Idle: every tick before now is empty, whatever cur says. */
	if (s->n == 0 && s->cur < now_ns >> DP_SHAPE_TICK_SHIFT)
		s->cur = now_ns >> DP_SHAPE_TICK_SHIFT;
	if (unlikely(t < s->cur))
		t = s->cur;
	/* Cannot happen within the contract; early beats a wrong turn. */
	if (unlikely(t - s->cur >= DP_SHAPE_SLOTS))
		t = s->cur + DP_SHAPE_SLOTS - 1;
	e = &s->ent[i];
	s->free_head = e->next;
	e->m = m;
	e->port = port;
	e->arrive_ns = now_ns;
	e->depart_ns = depart_ns;
	e->next = DP_SHAPE_NIL;
	slot = (uint32_t)t & (DP_SHAPE_SLOTS - 1);
	if (s->head[slot] == DP_SHAPE_NIL)
		s->head[slot] = i;
	else
		s->ent[s->tail[slot]].next = i;
	s->tail[slot] = i;
	s->n++;
	s->st.added++;
	s->st.depth = s->n;
	if (s->n > s->st.high_water)
		s->st.high_water = s->n;
	return 0;
}

/* Accepts the entry just unlinked at now_ns; counts it, frees it. */
static inline struct rte_mbuf *dp_shaper_take(struct dp_shaper *s, uint32_t i,
					      uint64_t now_ns, uint16_t *port)
{
	struct dp_shaper_ent *e = &s->ent[i];

	if (now_ns - e->depart_ns > s->st.max_late_ns)
		s->st.max_late_ns = now_ns - e->depart_ns;
	if (now_ns - e->arrive_ns > s->st.max_hold_ns)
		s->st.max_hold_ns = now_ns - e->arrive_ns;
	e->next = s->free_head;
	s->free_head = i;
	s->n--;
	s->st.sent++;
	s->st.depth = s->n;
	*port = e->port;
	return e->m;
}

/*
 * Accepts a non-decreasing now_ns; returns the next packet due at
 * now_ns (its tag in *port), oldest tick first and in order of adding
 * within a tick, or NULL when none is due. Call until NULL each poll.
 */
static inline struct rte_mbuf *dp_shaper_pop(struct dp_shaper *s,
					     uint64_t now_ns, uint16_t *port)
{
	uint64_t due = now_ns >> DP_SHAPE_TICK_SHIFT;

	while (s->n > 0 && s->cur <= due) {
		uint32_t slot = (uint32_t)s->cur & (DP_SHAPE_SLOTS - 1);
		uint32_t i = s->head[slot];

		if (i == DP_SHAPE_NIL) {
			s->cur++;
			continue;
		}
		s->head[slot] = s->ent[i].next;
		return dp_shaper_take(s, i, now_ns, port);
	}
	if (s->cur <= due)
		s->cur = due + 1;
	return NULL;
}

#endif /* SLUICE_DP_SHAPER_H */
