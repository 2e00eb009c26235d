/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Monotonic counter groups (mono.h), kept in a libc binary tree
 * (tsearch) keyed by group name.
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "mono.h"

struct mono_ent {
	char *name;
	unsigned int n;
	uint64_t last[SL_MONO_VALUES];	/* raw, as the source last said */
	uint64_t off[SL_MONO_VALUES];	/* what earlier lives of the source counted */
	uint64_t seq;			/* update number, for eviction */
};

struct sl_mono {
	void *root;
	unsigned int count;
	uint64_t seq;
	uint64_t source;
	bool have_source;
};

/* Accepts two entries; tsearch order, by name. */
static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct mono_ent *)a)->name,
		      ((const struct mono_ent *)b)->name);
}

/* Accepts an entry; frees it and its name. */
static void free_ent(void *p)
{
	struct mono_ent *e = p;

	free(e->name);
	free(e);
}

/* Returns an empty set or NULL. */
struct sl_mono *sl_mono_new(void)
{
	return calloc(1, sizeof(struct sl_mono));
}

/* Accepts a set or NULL. */
void sl_mono_free(struct sl_mono *m)
{
	if (!m)
		return;
	tdestroy(m->root, free_ent);
	free(m);
}

/* Accepts an entry; folds its last values into its offsets. */
static void fold(struct mono_ent *e)
{
	unsigned int i;

	for (i = 0; i < e->n; i++) {
		e->off[i] += e->last[i];
		e->last[i] = 0;
	}
}

/* twalk_r visitor: folds each entry once. */
static void fold_node(const void *node, VISIT which, void *arg)
{
	(void)arg;
	if (which == postorder || which == leaf)
		fold(*(struct mono_ent *const *)node);
}

/* Accepts the source's identity; folds everything when it changed. */
bool sl_mono_source(struct sl_mono *m, uint64_t source)
{
	bool changed = m->have_source && m->source != source;

	if (changed)
		twalk_r(m->root, fold_node, NULL);
	m->source = source;
	m->have_source = true;
	return changed;
}

/* The oldest entry, found by a walk; only when the set is over its cap. */
struct oldest {
	struct mono_ent *e;
};

/* twalk_r visitor: remembers the least recently updated entry. */
static void oldest_node(const void *node, VISIT which, void *arg)
{
	struct mono_ent *e = *(struct mono_ent *const *)node;
	struct oldest *o = arg;

	if ((which == postorder || which == leaf) && (!o->e || e->seq < o->e->seq))
		o->e = e;
}

/* Accepts a set at its cap; drops the least recently updated group. */
static void evict_one(struct sl_mono *m)
{
	struct oldest o = { NULL };

	twalk_r(m->root, oldest_node, &o);
	if (!o.e)
		return;
	tdelete(o.e, &m->root, cmp_ent);
	free_ent(o.e);
	m->count--;
}

/* Accepts a group name; its entry, created with n values if new. */
static struct mono_ent *lookup(struct sl_mono *m, const char *group,
			       unsigned int n)
{
	struct mono_ent key = { .name = (char *)group }, *e, **slot;

	slot = tfind(&key, &m->root, cmp_ent);
	if (slot)
		return *slot;
	if (m->count >= SL_MONO_GROUPS_MAX)
		evict_one(m);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->name = strdup(group);
	e->n = n;
	if (!e->name || !(slot = tsearch(e, &m->root, cmp_ent))) {
		free_ent(e);
		return NULL;
	}
	m->count++;
	return e;
}

/* Accepts raw values of a group; see mono.h. */
int sl_mono_update(struct sl_mono *m, const char *group, const uint64_t *raw,
		   unsigned int n, uint64_t *out)
{
	struct mono_ent *e;
	unsigned int i;
	int reset = 0;
	uint64_t v;

	if (n > SL_MONO_VALUES || !group)
		return -EINVAL;
	e = lookup(m, group, n);
	if (!e)
		return -ENOMEM;
	for (i = 0; i < e->n; i++)
		if ((i < n ? raw[i] : 0) < e->last[i])
			reset = 1;
	if (reset)
		fold(e);
	for (i = 0; i < e->n; i++) {
		v = i < n ? raw[i] : 0;
		e->last[i] = v;
		if (out && i < n)
			out[i] = e->off[i] + v;
	}
	for (i = e->n; out && i < n; i++)
		out[i] = 0;
	e->seq = ++m->seq;
	return reset;
}

/* Accepts a group name; its values, zeros if unknown. */
bool sl_mono_get(const struct sl_mono *m, const char *group, uint64_t *out,
		 unsigned int n)
{
	struct mono_ent key = { .name = (char *)group }, **slot;
	unsigned int i;

	slot = tfind(&key, &m->root, cmp_ent);
	for (i = 0; i < n; i++)
		out[i] = slot && i < (*slot)->n ?
			 (*slot)->off[i] + (*slot)->last[i] : 0;
	return slot != NULL;
}

/* Accepts a set; its group count. */
unsigned int sl_mono_groups(const struct sl_mono *m)
{
	return m->count;
}
