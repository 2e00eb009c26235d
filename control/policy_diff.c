/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exact and semantic comparison of policy models (policy_diff.h).
 * Classes are paired by name through sorted index arrays, so a diff of
 * two policies of SL_CLASSES_MAX classes stays O(n log n).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_diff.h"

/* Accepts two arrays of n elements of size sz; equal in order. */
static bool same_array(const void *a, const void *b, uint32_t na, uint32_t nb,
		       size_t sz)
{
	if (na != nb)
		return false;
	return na == 0 || memcmp(a, b, na * sz) == 0;
}

/* Accepts two strings or NULLs; equal, NULL only to NULL. */
static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Accepts two matches; every field equal, lists in order. */
static bool same_match(const struct sl_match *a, const struct sl_match *b)
{
	return a->fields == b->fields && a->proto == b->proto &&
	       same_array(a->src, b->src, a->n_src, b->n_src, sizeof(*a->src)) &&
	       same_array(a->dst, b->dst, a->n_dst, b->n_dst, sizeof(*a->dst)) &&
	       same_array(a->sport, b->sport, a->n_sport, b->n_sport,
			  sizeof(*a->sport)) &&
	       same_array(a->dport, b->dport, a->n_dport, b->n_dport,
			  sizeof(*a->dport)) &&
	       a->tcp_flags == b->tcp_flags && a->tcp_mask == b->tcp_mask &&
	       same_array(a->vlan, b->vlan, a->n_vlan, b->n_vlan,
			  sizeof(*a->vlan)) &&
	       a->dscp == b->dscp && same_str(a->payload, b->payload);
}

/* Accepts two limits; every field equal. */
static bool same_limit(const struct sl_limit *a, const struct sl_limit *b)
{
	return a->key == b->key && a->prefix_len == b->prefix_len &&
	       a->unit == b->unit && a->rate == b->rate && a->burst == b->burst;
}

/* Accepts two ceilings; every field equal. */
static bool same_ceiling(const struct sl_ceiling *a, const struct sl_ceiling *b)
{
	return a->unit == b->unit && a->rate == b->rate && a->burst == b->burst;
}

/* Accepts two exceed actions; every field equal. */
static bool same_exceed(const struct sl_exceed *a, const struct sl_exceed *b)
{
	return a->action == b->action && a->dscp == b->dscp &&
	       a->shape_ns == b->shape_ns;
}

/* Accepts two classes; exact equality but for source positions. */
bool sl_class_same(const struct sl_class *a, const struct sl_class *b)
{
	return strcmp(a->name, b->name) == 0 && same_match(&a->match, &b->match) &&
	       a->has_limit == b->has_limit &&
	       (!a->has_limit || same_limit(&a->limit, &b->limit)) &&
	       a->has_ceiling == b->has_ceiling &&
	       (!a->has_ceiling || same_ceiling(&a->ceiling, &b->ceiling)) &&
	       same_exceed(&a->exceed, &b->exceed);
}

/* Accepts two policies; exact equality, classes in order. */
bool sl_policy_same(const struct sl_policy *a, const struct sl_policy *b)
{
	uint32_t i;

	if (a->version != b->version || a->default_action != b->default_action ||
	    a->n_classes != b->n_classes)
		return false;
	for (i = 0; i < a->n_classes; i++)
		if (!sl_class_same(&a->classes[i], &b->classes[i]))
			return false;
	return true;
}

/* ---- Lists as sets --------------------------------------------------- */

static int cmp_prefix(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sl_prefix));
}

/* Accepts two ranges; ordered by lo, then hi. */
static int cmp_range(const void *a, const void *b)
{
	const struct sl_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/*
 * Accepts two lists of elements of size sz and their order. Equal as
 * sets of entries (sorted copies compared, duplicates counted).
 */
static bool same_set(const void *a, uint32_t na, const void *b, uint32_t nb,
		     size_t sz, int (*cmp)(const void *, const void *))
{
	void *ca, *cb;
	bool same;

	if (na != nb)
		return false;
	if (na == 0)
		return true;
	ca = malloc(na * sz);
	cb = malloc(nb * sz);
	if (!ca || !cb) {
		free(ca);
		free(cb);
		/* No memory: call them different, never wrongly the same. */
		return false;
	}
	memcpy(ca, a, na * sz);
	memcpy(cb, b, nb * sz);
	qsort(ca, na, sz, cmp);
	qsort(cb, nb, sz, cmp);
	same = memcmp(ca, cb, na * sz) == 0;
	free(ca);
	free(cb);
	return same;
}

/* Accepts a field bit; whether a and b set it alike, to equal values. */
static bool field_same(const struct sl_match *a, const struct sl_match *b,
		       uint32_t bit)
{
	if ((a->fields & bit) != (b->fields & bit))
		return false;
	if (!(a->fields & bit))
		return true;
	switch (bit) {
	case SL_M_PROTO:
		return a->proto == b->proto;
	case SL_M_SRC:
		return same_set(a->src, a->n_src, b->src, b->n_src,
				sizeof(*a->src), cmp_prefix);
	case SL_M_DST:
		return same_set(a->dst, a->n_dst, b->dst, b->n_dst,
				sizeof(*a->dst), cmp_prefix);
	case SL_M_SPORT:
		return same_set(a->sport, a->n_sport, b->sport, b->n_sport,
				sizeof(*a->sport), cmp_range);
	case SL_M_DPORT:
		return same_set(a->dport, a->n_dport, b->dport, b->n_dport,
				sizeof(*a->dport), cmp_range);
	case SL_M_TCP_FLAGS:
		return a->tcp_flags == b->tcp_flags && a->tcp_mask == b->tcp_mask;
	case SL_M_VLAN:
		return same_set(a->vlan, a->n_vlan, b->vlan, b->n_vlan,
				sizeof(*a->vlan), cmp_range);
	case SL_M_DSCP:
		return a->dscp == b->dscp;
	case SL_M_PAYLOAD:
		return same_str(a->payload, b->payload);
	default:
		return true;
	}
}

static const struct {
	uint32_t bit;
	const char *name;
} match_fields[] = {
	{ SL_M_PROTO, "match.proto" },
	{ SL_M_SRC, "match.src" },
	{ SL_M_DST, "match.dst" },
	{ SL_M_SPORT, "match.sport" },
	{ SL_M_DPORT, "match.dport" },
	{ SL_M_TCP_FLAGS, "match.tcp_flags" },
	{ SL_M_VLAN, "match.vlan" },
	{ SL_M_DSCP, "match.dscp" },
	{ SL_M_PAYLOAD, "match.payload" },
};

/* Accepts a JSON array and a field name; appends it, counts it. */
static unsigned int add_field(json_t *fields, const char *name)
{
	json_array_append_new(fields, json_string(name));
	return 1;
}

/* Accepts two classes of one name; see policy_diff.h. */
unsigned int sl_class_diff(const struct sl_class *a, const struct sl_class *b,
			   json_t *fields)
{
	const struct sl_limit *la = &a->limit, *lb = &b->limit;
	const struct sl_ceiling *ca = &a->ceiling, *cb = &b->ceiling;
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < sizeof(match_fields) / sizeof(match_fields[0]); i++)
		if (!field_same(&a->match, &b->match, match_fields[i].bit))
			n += add_field(fields, match_fields[i].name);
	if (a->has_limit != b->has_limit) {
		n += add_field(fields, "limit");
	} else if (a->has_limit) {
		if (la->key != lb->key || la->prefix_len != lb->prefix_len)
			n += add_field(fields, "limit.key");
		if (la->unit != lb->unit || la->rate != lb->rate)
			n += add_field(fields, "limit.rate");
		if (la->unit != lb->unit || la->burst != lb->burst)
			n += add_field(fields, "limit.burst");
	}
	if (a->has_ceiling != b->has_ceiling) {
		n += add_field(fields, "ceiling");
	} else if (a->has_ceiling) {
		if (ca->unit != cb->unit || ca->rate != cb->rate)
			n += add_field(fields, "ceiling.rate");
		if (ca->unit != cb->unit || ca->burst != cb->burst)
			n += add_field(fields, "ceiling.burst");
	}
	/* Without a limit or a ceiling nothing exceeds: the action means nothing. */
	if ((a->has_limit || b->has_limit || a->has_ceiling || b->has_ceiling) &&
	    !same_exceed(&a->exceed, &b->exceed))
		n += add_field(fields, "exceed");
	return n;
}

/* ---- Pairing classes by name ----------------------------------------- */

/* Class indices of p sorted by name (names are unique in a policy). */
static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct sl_class *c = arg;

	return strcmp(c[*(const uint32_t *)a].name, c[*(const uint32_t *)b].name);
}

/* Accepts a policy or NULL; its class indices in name order, or NULL. */
static uint32_t *by_name(const struct sl_policy *p)
{
	uint32_t *idx, i, n = p ? p->n_classes : 0;

	idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		return NULL;
	for (i = 0; i < n; i++)
		idx[i] = i;
	if (n)
		qsort_r(idx, n, sizeof(*idx), cmp_name, p->classes);
	return idx;
}

/*
 * Accepts the old policy's index of each new class (UINT32_MAX where
 * the class is new). Marks in keep[] the classes of a longest subsequence
 * whose old indices increase: the ones that did not move.
 */
static int longest_in_order(const uint32_t *old_of, uint32_t n, bool *keep)
{
	uint32_t *tail, *prev, len = 0, i, lo, hi, mid, k;

	tail = malloc((n ? n : 1) * sizeof(*tail));	/* new index ending a run of length i+1 */
	prev = malloc((n ? n : 1) * sizeof(*prev));
	if (!tail || !prev) {
		free(tail);
		free(prev);
		return -1;
	}
	for (i = 0; i < n; i++) {
		keep[i] = false;
		if (old_of[i] == UINT32_MAX)
			continue;
		lo = 0;
		hi = len;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (old_of[tail[mid]] < old_of[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo > 0 ? tail[lo - 1] : UINT32_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	for (k = len ? tail[len - 1] : UINT32_MAX; k != UINT32_MAX; k = prev[k])
		keep[k] = true;
	free(tail);
	free(prev);
	return 0;
}

/* The pairing of two policies' classes: for each new class, its old index. */
struct pairing {
	uint32_t *old_of;	/* per class of to: index in from or UINT32_MAX */
	bool *in_to;		/* per class of from: still there */
	bool *keep;		/* per class of to: not moved */
};

/* Accepts a pairing; frees its arrays. */
static void pairing_free(struct pairing *pr)
{
	free(pr->old_of);
	free(pr->in_to);
	free(pr->keep);
}

/* Accepts two policies (from may be NULL); fills pr. 0 or -1 (memory). */
static int pair_classes(const struct sl_policy *from, const struct sl_policy *to,
			struct pairing *pr)
{
	uint32_t nf = from ? from->n_classes : 0, nt = to->n_classes;
	uint32_t *sf = by_name(from), *st = by_name(to), i = 0, j = 0;
	int rc = -1, c;

	pr->old_of = malloc((nt ? nt : 1) * sizeof(*pr->old_of));
	pr->in_to = calloc(nf ? nf : 1, sizeof(*pr->in_to));
	pr->keep = calloc(nt ? nt : 1, sizeof(*pr->keep));
	if (!sf || !st || !pr->old_of || !pr->in_to || !pr->keep)
		goto free_sorted;
	for (i = 0; i < nt; i++)
		pr->old_of[i] = UINT32_MAX;
	i = 0;
	while (i < nf && j < nt) {
		c = strcmp(from->classes[sf[i]].name, to->classes[st[j]].name);
		if (c == 0) {
			pr->old_of[st[j]] = sf[i];
			pr->in_to[sf[i]] = true;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	rc = longest_in_order(pr->old_of, nt, pr->keep);
free_sorted:
	free(sf);
	free(st);
	if (rc)
		pairing_free(pr);
	return rc;
}

/* Accepts two policies; see policy_diff.h. */
json_t *sl_policy_diff(const struct sl_policy *from, const struct sl_policy *to)
{
	json_t *r, *added, *removed, *changed, *moved, *fields;
	struct pairing pr = { 0 };
	const struct sl_class *a, *b;
	uint32_t i, nf = from ? from->n_classes : 0;
	enum sl_default_action fd = from ? from->default_action : SL_DEFAULT_PASS;

	if (pair_classes(from, to, &pr))
		return NULL;
	r = json_object();
	added = json_array();
	removed = json_array();
	changed = json_array();
	moved = json_array();
	if (!r || !added || !removed || !changed || !moved)
		goto nomem;
	for (i = 0; i < nf; i++)
		if (!pr.in_to[i])
			json_array_append_new(removed, json_string(from->classes[i].name));
	for (i = 0; i < to->n_classes; i++) {
		b = &to->classes[i];
		if (pr.old_of[i] == UINT32_MAX) {
			json_array_append_new(added, json_string(b->name));
			continue;
		}
		a = &from->classes[pr.old_of[i]];
		if (!pr.keep[i])
			json_array_append_new(moved, json_string(b->name));
		fields = json_array();
		if (fields && sl_class_diff(a, b, fields) > 0)
			json_array_append_new(changed, json_pack("{s:s,s:o}",
					"name", b->name, "fields", fields));
		else
			json_decref(fields);
	}
	if (fd != to->default_action)
		json_object_set_new(r, "default", json_pack("{s:s,s:s}",
			"from", fd == SL_DEFAULT_DROP ? "drop" : "pass",
			"to", to->default_action == SL_DEFAULT_DROP ? "drop" : "pass"));
	else
		json_object_set_new(r, "default", json_null());
	json_object_set_new(r, "added", added);
	json_object_set_new(r, "removed", removed);
	json_object_set_new(r, "changed", changed);
	json_object_set_new(r, "moved", moved);
	pairing_free(&pr);
	return r;
nomem:
	json_decref(r);
	json_decref(added);
	json_decref(removed);
	json_decref(changed);
	json_decref(moved);
	pairing_free(&pr);
	return NULL;
}
