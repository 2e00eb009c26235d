/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * payload patterns with Hyperscan (see payload.h).
 *
 * Why scratch per database and slot, not per engine: a scratch grown
 * for a new database (hs_alloc_scratch on an existing one) is
 * reallocated, so an engine's own scratch could only be grown by its
 * worker, on the fast path, or by the control thread under a handshake
 * with the worker. Cloning a prototype for every slot when the
 * database is built costs one clone per lcore per policy version (a few
 * KiB each for typical patterns) and needs no coordination: whoever can
 * see the database can use its scratch, and the grace period that frees
 * the ruleset frees its scratch with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "payload.h"

#define SL_PAYLOAD_HS_FLAGS	(HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH)

struct sl_payload_db {
	hs_database_t *db;
	hs_scratch_t *proto;		/* cloned into each slot */
	uint32_t n_patterns;
	uint32_t n_slots;
	hs_scratch_t **scratch;		/* n_slots; NULL: not filled */
};

/* What a scan hands its callback. */
struct sl_payload_call {
	sl_payload_hit_fn fn;
	void *ctx;
};

/*
 * Accepts a compile error or NULL (out of memory); Hyperscan's message,
 * less advice about flags that a policy cannot set.
 */
static void sl_payload_reason(const hs_compile_error_t *ce, char *err,
			      size_t errlen)
{
	static const char allowempty[] = "; use HS_FLAG_ALLOWEMPTY";
	const char *msg = ce ? ce->message : "out of memory";
	const char *cut = strstr(msg, allowempty);

	if (cut != NULL)
		snprintf(err, errlen, "%.*s (a pattern must match at least one byte)",
			 (int)(cut - msg), msg);
	else
		snprintf(err, errlen, "%s", msg);
}

/* Accepts a pattern string; see payload.h. */
int sl_payload_check(const char *re, char *err, size_t errlen)
{
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	int rc = 0;

	if (hs_compile(re, SL_PAYLOAD_HS_FLAGS, HS_MODE_BLOCK, NULL, &db,
		       &ce) != HS_SUCCESS) {
		sl_payload_reason(ce, err, errlen);
		rc = ce ? -EINVAL : -ENOMEM;
	}
	hs_free_compile_error(ce);
	hs_free_database(db);
	return rc;
}

/* Accepts a policy; the patterns of its payload classes, ids = class. */
static int sl_payload_collect(const struct sl_policy *p, const char ***re,
			      unsigned int **flags, unsigned int **ids,
			      uint32_t *n, char *err, size_t errlen)
{
	uint32_t i, k = 0;

	for (i = 0; i < p->n_classes; i++)
		k += (p->classes[i].match.fields & SL_M_PAYLOAD) != 0;
	*n = k;
	if (k == 0) {
		snprintf(err, errlen, "no class has a payload pattern");
		return -ENOENT;
	}
	*re = calloc(k, sizeof(**re));
	*flags = calloc(k, sizeof(**flags));
	*ids = calloc(k, sizeof(**ids));
	if (*re == NULL || *flags == NULL || *ids == NULL) {
		snprintf(err, errlen, "out of memory for %u payload patterns", k);
		return -ENOMEM;
	}
	for (i = 0, k = 0; i < p->n_classes; i++) {
		const struct sl_match *m = &p->classes[i].match;

		if (!(m->fields & SL_M_PAYLOAD))
			continue;
		if (m->payload == NULL) {
			snprintf(err, errlen, "class %s: payload field without a pattern",
				 p->classes[i].name);
			return -EINVAL;
		}
		(*re)[k] = m->payload;
		(*flags)[k] = SL_PAYLOAD_HS_FLAGS;
		(*ids)[k++] = i;
	}
	return 0;
}

/* Accepts a policy and compiled patterns; the class a compile error names. */
static void sl_payload_compile_error(const struct sl_policy *p,
				     const unsigned int *ids, uint32_t n,
				     const hs_compile_error_t *ce, char *err,
				     size_t errlen)
{
	char why[256];

	sl_payload_reason(ce, why, sizeof(why));
	if (ce != NULL && ce->expression >= 0 && (uint32_t)ce->expression < n)
		snprintf(err, errlen, "class %s: payload: %s",
			 p->classes[ids[ce->expression]].name, why);
	else
		snprintf(err, errlen, "payload patterns: %s", why);
}

/* Accepts any policy; see payload.h. */
struct sl_payload_db *sl_payload_db_build(const struct sl_policy *p,
					  uint32_t n_slots, char *err,
					  size_t errlen)
{
	hs_compile_error_t *ce = NULL;
	struct sl_payload_db *d;
	unsigned int *flags = NULL, *ids = NULL;
	const char **re = NULL;
	uint32_t n = 0;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory for payload patterns");
		errno = ENOMEM;
		return NULL;
	}
	rc = sl_payload_collect(p, &re, &flags, &ids, &n, err, errlen);
	if (rc < 0)
		goto free_lists;
	d->n_patterns = n;
	if (hs_compile_multi(re, flags, ids, n, HS_MODE_BLOCK, NULL, &d->db,
			     &ce) != HS_SUCCESS) {
		sl_payload_compile_error(p, ids, n, ce, err, errlen);
		rc = ce ? -EINVAL : -ENOMEM;
		hs_free_compile_error(ce);
		goto free_lists;
	}
	d->n_slots = n_slots;
	d->scratch = calloc(n_slots ? n_slots : 1, sizeof(*d->scratch));
	if (d->scratch == NULL ||
	    hs_alloc_scratch(d->db, &d->proto) != HS_SUCCESS) {
		snprintf(err, errlen, "out of memory for payload scratch");
		rc = -ENOMEM;
		goto free_lists;
	}
	free(re);
	free(flags);
	free(ids);
	return d;

free_lists:
	free(re);
	free(flags);
	free(ids);
	sl_payload_db_free(d);
	errno = -rc;
	return NULL;
}

/* Accepts a database or NULL. */
void sl_payload_db_free(struct sl_payload_db *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; d->scratch != NULL && i < d->n_slots; i++)
		hs_free_scratch(d->scratch[i]);
	free(d->scratch);
	hs_free_scratch(d->proto);
	hs_free_database(d->db);
	free(d);
}

/* Accepts a built database and any slot; see payload.h. */
int sl_payload_db_scratch(struct sl_payload_db *d, uint32_t slot)
{
	if (slot >= d->n_slots)
		return -EINVAL;
	if (d->scratch[slot] != NULL)
		return 0;
	if (hs_clone_scratch(d->proto, &d->scratch[slot]) != HS_SUCCESS) {
		d->scratch[slot] = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Accepts a built database. */
uint32_t sl_payload_db_patterns(const struct sl_payload_db *d)
{
	return d->n_patterns;
}

/* Accepts a built database. */
size_t sl_payload_db_scratch_size(const struct sl_payload_db *d)
{
	size_t sz = 0;

	hs_scratch_size(d->proto, &sz);
	return sz;
}

/* Hyperscan's match callback: one class matched. */
static int sl_payload_on_match(unsigned int id, unsigned long long from,
			       unsigned long long to, unsigned int flags,
			       void *ctx)
{
	const struct sl_payload_call *c = ctx;

	(void)from;
	(void)to;
	(void)flags;
	return c->fn(id, c->ctx);
}

/* Accepts a built database, any slot and len bytes at data; see payload.h. */
int sl_payload_scan(const struct sl_payload_db *d, uint32_t slot,
		    const uint8_t *data, uint32_t len, sl_payload_hit_fn fn,
		    void *ctx)
{
	struct sl_payload_call c = { .fn = fn, .ctx = ctx };
	hs_error_t rc;

	if (slot >= d->n_slots || d->scratch[slot] == NULL)
		return -ENOENT;
	rc = hs_scan(d->db, (const char *)data, len, 0, d->scratch[slot],
		     sl_payload_on_match, &c);
	if (rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED)
		return 0;
	return rc == HS_SCRATCH_IN_USE ? -EBUSY : -EIO;
}
