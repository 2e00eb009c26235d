/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running policy: loading, compiling and publishing rulesets.
 *
 * Workers read the active ruleset once per poll and report a quiescent
 * state after each poll (rte_rcu_qsbr). A new ruleset is built here, off
 * the fast path, published with one atomic store, and the old one is
 * freed only after every worker has passed a quiescent state, so each
 * burst is policed wholly by one ruleset and none is freed under a
 * reader. Classes that keep their name keep their slot: their buckets
 * and counters carry on across the swap.
 *
 * Runs on the control thread; ctl_lock keeps telemetry readers off a
 * ruleset while it is retired.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp.h"

RTE_LOG_REGISTER(dp_logtype_policy, sluice.policy, INFO);
#define POLICY_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype_policy, "policy: " fmt "\n", ## __VA_ARGS__)

int dp_rcu_init(struct dp *d)
{
	size_t sz = rte_rcu_qsbr_get_memsize(d->n_workers);

	d->qs = rte_zmalloc("sluice_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (d->qs == NULL)
		return -ENOMEM;
	return rte_rcu_qsbr_init(d->qs, d->n_workers);
}

struct sl_ruleset *dp_policy_compile(struct dp *d, const char *path,
				     const char *text, size_t len,
				     struct sl_diags *diags, char *err,
				     size_t errlen)
{
	struct sl_policy *p;
	int rc;

	if (text != NULL)
		rc = sl_policy_load_buf(path, text, len, &p, diags);
	else
		rc = sl_policy_load_file(path, &p, diags);
	if (rc < 0) {
		snprintf(err, errlen, "policy %s refused", path);
		return NULL;
	}
	return sl_ruleset_build(p, d->next_version, d->rs, &d->slots,
				(int)rte_socket_id(), err, errlen);
}

void dp_policy_publish(struct dp *d, struct sl_ruleset *next)
{
	struct sl_ruleset *prev = d->rs;
	uint32_t *freed, n = 0;

	d->next_version++;
	__atomic_store_n(&d->active, next, __ATOMIC_RELEASE);
	/* Every worker has finished any burst that saw prev. */
	if (d->workers_running)
		rte_rcu_qsbr_synchronize(d->qs, RTE_QSBR_THRID_INVALID);
	/* No worker meters under prev's ceilings now: carry them over. */
	if (sl_ceilings_carry(d->ceilings, prev, next, dp_clock_ns(&d->clock)) < 0)
		POLICY_LOG(WARNING, "out of memory: ceilings kept their state unconverted");
	freed = prev ? malloc(prev->n_classes * sizeof(*freed) + 1) : NULL;
	pthread_mutex_lock(&d->ctl_lock);
	d->rs = next;
	if (freed != NULL) {
		n = sl_slots_release(&d->slots, prev, next, freed);
		for (uint32_t i = 0; i < n; i++)
			for (unsigned int w = 0; w < d->n_workers; w++)
				sl_engine_slot_reset(d->workers[w]->eng, freed[i]);
	}
	pthread_mutex_unlock(&d->ctl_lock);
	free(freed);
	sl_ruleset_free(prev);
	POLICY_LOG(INFO, "version %" PRIu64 " active: %u classes, default %s%s",
		   next->version, next->n_classes,
		   next->default_drop ? "drop" : "pass",
		   n ? "; removed classes' counters cleared" : "");
}

int dp_policy_reload(struct dp *d)
{
	struct sl_diags diags;
	struct sl_ruleset *next;
	char err[256];

	next = dp_policy_compile(d, d->cfg.policy_path, NULL, 0, &diags, err,
				 sizeof(err));
	if (next == NULL) {
		if (diags.n > 0)
			sl_diags_print(&diags, stderr);
		POLICY_LOG(ERR, "%s; version %" PRIu64 " stays in force", err,
			   d->rs->version);
		return -EINVAL;
	}
	dp_policy_publish(d, next);
	return 0;
}
