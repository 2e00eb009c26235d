/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Set-up and teardown of a worker's shaping queue; the fast path is
 * inline in shaper.h.
 */
#include <rte_errno.h>
#include <rte_malloc.h>

#include "shaper.h"

struct dp_shaper *dp_shaper_create(uint32_t cap, int socket)
{
	struct dp_shaper *s;

	if (cap > DP_SHAPE_QUEUE_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("dp_shaper", sizeof(*s), RTE_CACHE_LINE_SIZE,
			       socket);
	if (s == NULL)
		goto nomem;
	s->cap = cap;
	s->head = rte_malloc_socket("dp_shaper_head",
				    DP_SHAPE_SLOTS * sizeof(*s->head),
				    RTE_CACHE_LINE_SIZE, socket);
	s->tail = rte_malloc_socket("dp_shaper_tail",
				    DP_SHAPE_SLOTS * sizeof(*s->tail),
				    RTE_CACHE_LINE_SIZE, socket);
	s->ent = rte_zmalloc_socket("dp_shaper_ent",
				    RTE_MAX(cap, 1u) * sizeof(*s->ent),
				    RTE_CACHE_LINE_SIZE, socket);
	if (s->head == NULL || s->tail == NULL || s->ent == NULL)
		goto free_s;
	for (uint32_t i = 0; i < DP_SHAPE_SLOTS; i++)
		s->head[i] = DP_SHAPE_NIL;
	for (uint32_t i = 0; i < cap; i++)
		s->ent[i].next = i + 1 < cap ? i + 1 : DP_SHAPE_NIL;
	s->free_head = cap > 0 ? 0 : DP_SHAPE_NIL;
	return s;

free_s:
	dp_shaper_free(s);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void dp_shaper_free(struct dp_shaper *s)
{
	if (s == NULL)
		return;
	/* Whatever is left was counted delayed: free it, and say how much. */
	for (uint32_t slot = 0; s->n > 0 && s->head != NULL &&
	     slot < DP_SHAPE_SLOTS; slot++) {
		for (uint32_t i = s->head[slot]; i != DP_SHAPE_NIL; i = s->ent[i].next) {
			rte_pktmbuf_free(s->ent[i].m);
			s->n--;
			s->st.freed++;
		}
		s->head[slot] = DP_SHAPE_NIL;
	}
	rte_free(s->head);
	rte_free(s->tail);
	rte_free(s->ent);
	rte_free(s);
}
