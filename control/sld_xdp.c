/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's side of the XDP path (docs/decisions/0007-path-handover.md):
 * load it at start, keep it holding the current policy at all times,
 * choose which path carries traffic, and fold its counters into the
 * same monotonic groups the dataplane's go into.
 *
 * The program is loaded and its maps hold the policy whether or not it
 * is attached, so a failover is one attach per interface: nothing is
 * compiled while traffic waits. It attaches as soon as the dataplane is
 * not healthy (closed socket, no heartbeat reply, a stuck worker, or
 * never seen since sluiced started) and detaches once the dataplane has
 * been healthy and running the current policy for SLD_FAILBACK_MS.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pkt.h"
#include "sluiced.h"
#include "xdp_path.h"

/* The outcomes of struct sl_xdp_counters, in group order (sld_dp.c's). */
#define N_OUT	SL_XDP_OUT__COUNT

/* Accepts a daemon with its options and policy; loads the XDP path. */
int sld_xdp_init(struct sld *d)
{
	struct sl_xdp_opts o = { .keys_max = d->xdp_keys };
	char err[256];
	unsigned int i;

	d->xmono = sl_mono_new();
	if (!d->xmono)
		return -ENOMEM;
	if (d->n_pairs == 0) {
		snprintf(d->xdp_why, sizeof(d->xdp_why),
			 "no port pair given (sluiced --pair OUTSIDE,INSIDE)");
		return 0;
	}
	d->xdp = sl_xdp_open(&o, err, sizeof(err));
	if (!d->xdp) {
		snprintf(d->xdp_why, sizeof(d->xdp_why), "the XDP program did not load: %s", err);
		sld_log(LOG_ERR, "%s; without a dataplane traffic stops", d->xdp_why);
		return 0;
	}
	for (i = 0; i < d->n_pairs; i++) {
		if (sl_xdp_pair_add(d->xdp, d->pair[i][0], d->pair[i][1], err,
				    sizeof(err)) == 0)
			continue;
		snprintf(d->xdp_why, sizeof(d->xdp_why), "port pair %s,%s: %s",
			 d->pair[i][0], d->pair[i][1], err);
		sld_log(LOG_ERR, "XDP path: %s", d->xdp_why);
		sl_xdp_close(d->xdp);
		d->xdp = NULL;
		return 0;
	}
	sld_log(LOG_INFO, "XDP path loaded for %u port pair(s)", d->n_pairs);
	sld_xdp_policy(d);
	return 0;
}

/* Accepts a daemon; detaches and frees the XDP path. */
void sld_xdp_fini(struct sld *d)
{
	if (d->xdp && sl_xdp_attached(d->xdp))
		sld_log(LOG_NOTICE, "detaching the XDP path: sluiced stops");
	sl_xdp_close(d->xdp);
	d->xdp = NULL;
	sl_mono_free(d->xmono);
	d->xmono = NULL;
}

/* Whether the XDP path can take traffic: loaded, with the current policy. */
bool sld_xdp_ready(const struct sld *d)
{
	return d->xdp && d->xdp_policy_ok;
}

/* Accepts a daemon whose d->policy changed; gives the XDP path the same. */
void sld_xdp_policy(struct sld *d)
{
	uint64_t version = sl_store_version(d->store);
	char err[256];

	if (!d->xdp)
		return;
	if (!d->policy) {
		d->xdp_policy_ok = false;
		snprintf(d->xdp_why, sizeof(d->xdp_why), "%s",
			 d->policy_invalid ? "the stored policy is invalid" :
			 "no policy was ever applied");
		return;
	}
	if (sl_xdp_policy_set(d->xdp, d->policy, version, err, sizeof(err)) < 0) {
		/* The XDP path keeps its last policy only if it was this one. */
		d->xdp_policy_ok = sl_xdp_has_policy(d->xdp) &&
				   sl_xdp_policy_version(d->xdp) == version;
		snprintf(d->xdp_why, sizeof(d->xdp_why),
			 "policy version %" PRIu64 " does not fit the XDP path: %s",
			 version, err);
		sld_log(LOG_ERR, "XDP path: %s", d->xdp_why);
		return;
	}
	d->xdp_policy_ok = true;
	d->xdp_why[0] = '\0';
	sld_log(LOG_INFO, "XDP path holds policy version %" PRIu64, version);
}

/* The degraded classes of status: [{"class", "reason"}]. */
json_t *sld_xdp_degraded_json(struct sld *d)
{
	const struct sl_xdp_degraded *dg;
	json_t *arr = json_array();
	uint32_t i, n = 0;

	if (!d->xdp || !d->xdp_policy_ok || !d->policy)
		return arr;
	dg = sl_xdp_degraded(d->xdp, &n);
	for (i = 0; i < n; i++) {
		if (dg[i].class_idx >= d->policy->n_classes)
			continue;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
			"class", d->policy->classes[dg[i].class_idx].name,
			"path", "xdp", "reason", dg[i].why));
	}
	return arr;
}

/* The dataplane is healthy: connected, every worker polling. */
static bool dp_healthy(struct sld *d)
{
	return sl_dplink_up(&d->link) && d->health == SL_DP_ALIVE;
}

/* Accepts a daemon; why the dataplane cannot carry traffic now. */
static void dp_trouble(struct sld *d, char *buf, size_t len)
{
	if (!sl_dplink_up(&d->link))
		snprintf(buf, len, "the dataplane is down: %s", d->link.why);
	else if (d->health == SL_DP_STUCK)
		snprintf(buf, len, "dataplane worker %d has not polled for %" PRId64 " ms",
			 d->stuck_worker, d->stuck_ms);
	else
		snprintf(buf, len, "the dataplane is up");
}

const char *sld_path(struct sld *d, char *reason, size_t len)
{
	bool on_xdp = d->xdp && sl_xdp_attached(d->xdp), healthy = dp_healthy(d);
	char why[1200];

	/* The main loop asks for the path alone every round: no text then. */
	if (reason) {
		dp_trouble(d, why, sizeof(why));
		if (on_xdp && healthy && d->in_sync)
			snprintf(reason, len, "the dataplane is back; it takes traffic after %d ms healthy",
				 SLD_FAILBACK_MS);
		else if (on_xdp && healthy)
			snprintf(reason, len, "the dataplane is back but not in sync: %s",
				 d->sync_why);
		else if (on_xdp)
			snprintf(reason, len, "%s", why);
		else if (healthy)
			snprintf(reason, len, "%s", d->in_sync ? "" : d->sync_why);
		else
			snprintf(reason, len, "%s; the XDP path cannot take over: %s", why,
				 d->xdp_why[0] ? d->xdp_why : "attaching failed");
	}
	return on_xdp ? "xdp" : healthy ? "dpdk" : "down";
}

/* Accepts a daemon on the dataplane path that is not healthy: fail over. */
static void fail_over(struct sld *d, int64_t now_ms)
{
	char why[1200], err[256];

	if (!sld_xdp_ready(d) || now_ms < d->next_attach_ms)
		return;
	dp_trouble(d, why, sizeof(why));
	if (sl_xdp_attach(d->xdp, err, sizeof(err)) < 0) {
		d->next_attach_ms = now_ms + SLD_XDP_RETRY_MS;
		if (strcmp(err, d->xdp_why) != 0)
			sld_log(LOG_ERR, "%s, and the XDP path cannot attach: %s; path down",
				why, err);
		snprintf(d->xdp_why, sizeof(d->xdp_why), "%s", err);
		return;
	}
	d->failovers++;
	d->dp_ok_since_ms = 0;
	sld_log(LOG_WARNING, "%s: path xdp (policy version %" PRIu64 ", %u port pair(s))",
		why, sl_xdp_policy_version(d->xdp), d->n_pairs);
	sld_view_publish(d);
}

/* Accepts a daemon on the XDP path; hands traffic back when it is time. */
static void fail_back(struct sld *d, int64_t now_ms)
{
	if (!dp_healthy(d) || !d->in_sync) {
		d->dp_ok_since_ms = 0;
		return;
	}
	if (d->dp_ok_since_ms == 0)
		d->dp_ok_since_ms = now_ms;
	if (now_ms - d->dp_ok_since_ms < SLD_FAILBACK_MS)
		return;
	sl_xdp_detach(d->xdp);
	d->failbacks++;
	sld_log(LOG_NOTICE, "the dataplane has been healthy for %" PRId64 " ms with policy version %" PRIu64 ": path dpdk",
		now_ms - d->dp_ok_since_ms, sl_store_version(d->store));
	sld_view_publish(d);
}

/* Accepts one class's per-CPU sums; folds them into its group. */
static void fold_class(struct sld *d, const char *name,
		       const struct sl_xdp_counters *c)
{
	char group[SL_CLASS_NAME_MAX + 8];
	uint64_t raw[2 * N_OUT];

	memcpy(raw, c->packets, sizeof(c->packets));
	memcpy(raw + N_OUT, c->bytes, sizeof(c->bytes));
	snprintf(group, sizeof(group), "c/%s", name);
	sl_mono_update(d->xmono, group, raw, 2 * N_OUT, NULL);
}

/* Accepts a daemon with an XDP path; folds its counters into d->xmono. */
static void fold_counters(struct sld *d)
{
	struct sl_xdp_counters c;
	struct sl_xdp_totals t;
	char group[SL_CLASS_NAME_MAX + 8];
	uint64_t raw[4], one;
	uint32_t i;
	int r;

	if (sl_xdp_totals(d->xdp, &t) < 0)
		return;
	/* Class i of the XDP path is class i of d->policy only when in sync. */
	if (d->xdp_policy_ok && d->policy)
		for (i = 0; i < d->policy->n_classes; i++)
			if (sl_xdp_class_counters(d->xdp, i, &c) == 0)
				fold_class(d, d->policy->classes[i].name, &c);
	raw[0] = t.st.deflt.packets[SL_XDP_OUT_PASSED];
	raw[1] = t.st.deflt.packets[SL_XDP_OUT_DROPPED];
	raw[2] = t.st.deflt.bytes[SL_XDP_OUT_PASSED];
	raw[3] = t.st.deflt.bytes[SL_XDP_OUT_DROPPED];
	sl_mono_update(d->xmono, "default", raw, 4, NULL);
	raw[0] = 0;
	for (r = SL_MAL_NONE + 1; r < SL_MAL__COUNT; r++) {
		raw[0] += t.st.malformed[r];
		snprintf(group, sizeof(group), "m/%s", sl_malformed_name(r));
		one = t.st.malformed[r];
		sl_mono_update(d->xmono, group, &one, 1, NULL);
	}
	raw[1] = t.st.malformed_bytes;
	sl_mono_update(d->xmono, "malformed", raw, 2, NULL);
	raw[0] = t.st.non_ip;
	raw[1] = t.st.non_ip_bytes;
	sl_mono_update(d->xmono, "non_ip", raw, 2, NULL);
	raw[0] = t.st.keys_full;
	raw[1] = t.st.overflow;
	sl_mono_update(d->xmono, "flows", raw, 2, NULL);
	d->xdp_keys_active = t.keys_active;
	d->xdp_keys_capacity = t.keys_capacity;
}

/* Accepts the time now; the path choice, expiry and counters. */
void sld_xdp_tick(struct sld *d, int64_t now_ms)
{
	if (!d->xdp)
		return;
	if (sl_xdp_attached(d->xdp))
		fail_back(d, now_ms);
	else if (!dp_healthy(d))
		fail_over(d, now_ms);
	if (now_ms >= d->next_xstats_ms) {
		d->next_xstats_ms = now_ms + SLD_STATS_MS;
		sl_xdp_expire(d->xdp, SLD_XDP_EXPIRE_BUDGET);
		fold_counters(d);
		sld_view_publish(d);
	}
}

/* The xdp part of status. */
json_t *sld_xdp_status(struct sld *d)
{
	json_t *o, *ifs = json_array();
	unsigned int i;

	for (i = 0; i < d->n_pairs; i++)
		json_array_append_new(ifs, json_pack("[s,s]", d->pair[i][0], d->pair[i][1]));
	o = json_pack("{s:b,s:b,s:b,s:o,s:I,s:I,s:I,s:I,s:I}",
		"loaded", d->xdp != NULL,
		"ready", sld_xdp_ready(d),
		"attached", d->xdp && sl_xdp_attached(d->xdp),
		"pairs", ifs,
		"policy_version", (json_int_t)(d->xdp && sl_xdp_has_policy(d->xdp) ?
					       sl_xdp_policy_version(d->xdp) : 0),
		"failovers", (json_int_t)d->failovers,
		"failbacks", (json_int_t)d->failbacks,
		"keys_active", (json_int_t)d->xdp_keys_active,
		"keys_capacity", (json_int_t)d->xdp_keys_capacity);
	if (o && d->xdp_why[0])
		json_object_set_new(o, "why", json_string(d->xdp_why));
	return o;
}
