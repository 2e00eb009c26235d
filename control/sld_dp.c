/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's side of the dataplane: connect and reconcile, the heartbeat
 * every SL_HB_INTERVAL_MS, the stats poll every SLD_STATS_MS, the
 * monotonic counters built from it, and the view the metrics thread
 * reads.
 *
 * Counter groups in struct sl_mono: "c/NAME" (a class: packets then
 * bytes of each outcome), "default", "malformed", "m/REASON", "non_ip"
 * and "flows" (table_full, overflow_metered). The source identity is
 * the dataplane's pid: a new pid folds every group (a restart).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pkt.h"
#include "sluiced.h"

/* The outcomes of design.md's stats shape, in group order. */
static const char *const outcomes[] = {
	"passed", "dropped", "marked", "monitored", "delayed",
};
#define N_OUT	(sizeof(outcomes) / sizeof(outcomes[0]))

/* Room for "c/" and a class or reason name. */
#define GROUP_MAX	(SL_CLASS_NAME_MAX + 8)

static void on_reply(void *ctx, const char *cmd, const struct sl_ctl_reply *rep,
		     int64_t now_ms);

/* Accepts a daemon; link, counters and view. */
int sld_dp_init(struct sld *d)
{
	d->mono = sl_mono_new();
	if (!d->mono)
		return -ENOMEM;
	sl_dplink_init(&d->link, d->dp_path, on_reply, d);
	pthread_mutex_init(&d->view.lock, NULL);
	d->view.path = "down";
	d->health = SL_DP_GONE;
	return 0;
}

/* Accepts a daemon; frees what sld_dp_init() made. */
void sld_dp_fini(struct sld *d)
{
	sl_dplink_free(&d->link);
	sl_mono_free(d->mono);
	json_decref(d->dp_stats);
	json_decref(d->view.stats);
	json_decref(d->view.lcores);
	pthread_mutex_destroy(&d->view.lock);
}

/* Accepts a JSON value; it as a counter (0 for anything not a count). */
static uint64_t count(json_t *v)
{
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;

	return i > 0 ? (uint64_t)i : 0;
}

/* Accepts a class of the dataplane's stats; updates its group. */
static int update_class(struct sld *d, json_t *c)
{
	json_t *pk = json_object_get(c, "packets"), *by = json_object_get(c, "bytes");
	const char *name = json_string_value(json_object_get(c, "name"));
	char group[GROUP_MAX];
	uint64_t raw[2 * N_OUT];
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < N_OUT; i++) {
		raw[i] = count(json_object_get(pk, outcomes[i]));
		raw[N_OUT + i] = count(json_object_get(by, outcomes[i]));
	}
	snprintf(group, sizeof(group), "c/%s", name);
	return sl_mono_update(d->mono, group, raw, 2 * N_OUT, NULL) == 1;
}

/* Accepts the dataplane's stats; updates the groups other than classes. */
static int update_others(struct sld *d, json_t *st)
{
	json_t *df = json_object_get(st, "default"), *mal = json_object_get(st, "malformed");
	json_t *ni = json_object_get(st, "non_ip"), *fl = json_object_get(st, "flows");
	json_t *pk = json_object_get(df, "packets"), *by = json_object_get(df, "bytes");
	uint64_t raw[4] = {
		count(json_object_get(pk, "passed")), count(json_object_get(pk, "dropped")),
		count(json_object_get(by, "passed")), count(json_object_get(by, "dropped")),
	};
	char group[GROUP_MAX];
	const char *reason;
	json_t *v;
	int reset = 0;

	reset |= sl_mono_update(d->mono, "default", raw, 4, NULL) == 1;
	raw[0] = count(json_object_get(mal, "packets"));
	raw[1] = count(json_object_get(mal, "bytes"));
	reset |= sl_mono_update(d->mono, "malformed", raw, 2, NULL) == 1;
	json_object_foreach(json_object_get(mal, "reasons"), reason, v) {
		raw[0] = count(v);
		snprintf(group, sizeof(group), "m/%.*s", SL_CLASS_NAME_MAX, reason);
		sl_mono_update(d->mono, group, raw, 1, NULL);
	}
	raw[0] = count(json_object_get(ni, "packets"));
	raw[1] = count(json_object_get(ni, "bytes"));
	reset |= sl_mono_update(d->mono, "non_ip", raw, 2, NULL) == 1;
	raw[0] = count(json_object_get(fl, "table_full"));
	raw[1] = count(json_object_get(fl, "overflow_metered"));
	sl_mono_update(d->mono, "flows", raw, 2, NULL);
	return reset;
}

/* Accepts the dataplane's stats; busy ratios since the last poll. */
static json_t *lcore_ratios(struct sld *d, json_t *st)
{
	json_t *arr = json_object_get(st, "lcores"), *e, *r = json_object();
	uint64_t busy, total, db, dt;
	char key[24];
	unsigned int j, n = 0;
	size_t i;
	int64_t id;

	json_array_foreach(arr, i, e) {
		if (!json_is_integer(json_object_get(e, "lcore")) || n == SLD_LCORES_MAX)
			continue;
		id = json_integer_value(json_object_get(e, "lcore"));
		busy = count(json_object_get(e, "busy_cycles"));
		total = count(json_object_get(e, "total_cycles"));
		db = busy;
		dt = total;
		for (j = 0; j < d->n_lcores; j++) {
			if (d->lcores[j].id == id && total > d->lcores[j].total &&
			    busy >= d->lcores[j].busy) {
				db = busy - d->lcores[j].busy;
				dt = total - d->lcores[j].total;
			}
		}
		snprintf(key, sizeof(key), "%" PRId64, id);
		if (dt > 0)
			json_object_set_new(r, key, json_real((double)db / (double)dt));
		d->lcores[n++] = (struct sld_lcore){ id, busy, total };
	}
	d->n_lcores = n;
	return r;
}

/* Accepts a dataplane stats result; folds it into the counters. */
void sld_dp_stats_update(struct sld *d, json_t *st)
{
	json_t *c, *lc;
	int reset = 0;
	size_t i;

	json_array_foreach(json_object_get(st, "classes"), i, c)
		reset |= update_class(d, c);
	reset |= update_others(d, st);
	if (d->restart_check) {
		/* Same pid after a reconnect: a restart only if counters fell. */
		d->restart_check = false;
		if (reset) {
			d->dp_restarts++;
			sld_log(LOG_WARNING, "the dataplane restarted (pid %" PRId64 " again, counters started over)",
				d->dp_pid);
		}
	}
	lc = lcore_ratios(d, st);
	json_decref(d->dp_stats);
	d->dp_stats = json_incref(st);
	pthread_mutex_lock(&d->view.lock);
	json_decref(d->view.lcores);
	d->view.lcores = lc;
	pthread_mutex_unlock(&d->view.lock);
	sld_view_publish(d);
}

/*
 * Accepts a group name and room for n values: its monotonic values over
 * both paths, the dataplane's and the XDP program's. Whether either knows it.
 */
static bool counts(struct sld *d, const char *group, uint64_t *v, unsigned int n)
{
	uint64_t x[SL_MONO_VALUES];
	bool known = sl_mono_get(d->mono, group, v, n);
	unsigned int i;

	if (d->xmono && sl_mono_get(d->xmono, group, x, n)) {
		for (i = 0; i < n; i++)
			v[i] += x[i];
		known = true;
	}
	return known;
}

/* Accepts a group and outcome names; {"passed": n, ...} from its values. */
static json_t *outcome_obj(const uint64_t *v, const char *const *names, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < n; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
	return o;
}

/* Accepts a class name; sets its "packets" and "bytes" in o. */
void sld_class_counters(struct sld *d, const char *name, json_t *o)
{
	char group[GROUP_MAX];
	uint64_t v[2 * N_OUT];

	snprintf(group, sizeof(group), "c/%s", name);
	counts(d, group, v, 2 * N_OUT);
	json_object_set_new(o, "packets", outcome_obj(v, outcomes, N_OUT));
	json_object_set_new(o, "bytes", outcome_obj(v + N_OUT, outcomes, N_OUT));
}

/* The class names stats reports: the policy's, else the dataplane's. */
static json_t *stats_classes(struct sld *d)
{
	json_t *arr = json_array(), *o, *c;
	uint32_t i;
	size_t k;

	if (d->policy) {
		for (i = 0; i < d->policy->n_classes; i++) {
			o = json_pack("{s:s}", "name", d->policy->classes[i].name);
			sld_class_counters(d, d->policy->classes[i].name, o);
			json_array_append_new(arr, o);
		}
		return arr;
	}
	json_array_foreach(json_object_get(d->dp_stats, "classes"), k, c) {
		if (!json_is_string(json_object_get(c, "name")))
			continue;
		o = json_pack("{s:O}", "name", json_object_get(c, "name"));
		sld_class_counters(d, json_string_value(json_object_get(c, "name")), o);
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The malformed object: totals and each reason either path counted. */
static json_t *stats_malformed(struct sld *d)
{
	json_t *reasons = json_object(), *named;
	char group[GROUP_MAX];
	const char *reason;
	uint64_t m[2], r;
	int i;

	counts(d, "malformed", m, 2);
	named = json_object_get(json_object_get(d->dp_stats, "malformed"), "reasons");
	for (i = SL_MAL_NONE + 1; i < SL_MAL__COUNT; i++) {
		reason = sl_malformed_name(i);
		snprintf(group, sizeof(group), "m/%s", reason);
		if (!counts(d, group, &r, 1) && !json_object_get(named, reason))
			continue;
		json_object_set_new(reasons, reason, json_integer((json_int_t)r));
	}
	return json_pack("{s:I,s:I,s:o}", "packets", (json_int_t)m[0],
			 "bytes", (json_int_t)m[1], "reasons", reasons);
}

/* The flows object: gauges as last seen, counters monotonic. */
static json_t *stats_flows(struct sld *d)
{
	json_t *fl = json_object_get(d->dp_stats, "flows"), *o;
	uint64_t v[2];

	counts(d, "flows", v, 2);
	o = json_pack("{s:I,s:I}", "table_full", (json_int_t)v[0],
		      "overflow_metered", (json_int_t)v[1]);
	if (o && json_is_integer(json_object_get(fl, "active")))
		json_object_set(o, "active", json_object_get(fl, "active"));
	if (o && json_is_integer(json_object_get(fl, "capacity")))
		json_object_set(o, "capacity", json_object_get(fl, "capacity"));
	return o;
}

/* The stats result of docs/protocol.md, from the counters. */
json_t *sld_stats_json(struct sld *d)
{
	static const char *const two[] = { "passed", "dropped" };
	uint64_t df[4], ni[2];

	counts(d, "default", df, 4);
	counts(d, "non_ip", ni, 2);
	return json_pack("{s:o,s:{s:o,s:o},s:o,s:{s:I,s:I},s:o,s:I,s:I,s:b}",
		"classes", stats_classes(d),
		"default", "packets", outcome_obj(df, two, 2),
		"bytes", outcome_obj(df + 2, two, 2),
		"malformed", stats_malformed(d),
		"non_ip", "packets", (json_int_t)ni[0], "bytes", (json_int_t)ni[1],
		"flows", stats_flows(d),
		"policy_version", (json_int_t)sl_store_version(d->store),
		"dataplane_restarts", (json_int_t)d->dp_restarts,
		"dataplane_up", sl_dplink_up(&d->link));
}

/* Accepts a daemon; the metrics thread's copy of what changed. */
void sld_view_publish(struct sld *d)
{
	json_t *st = sld_stats_json(d), *fl = json_object_get(d->dp_stats, "flows");
	const char *path = sld_path(d, NULL, 0);

	pthread_mutex_lock(&d->view.lock);
	json_decref(d->view.stats);
	d->view.stats = st;
	d->view.path = path;
	d->view.policy_version = sl_store_version(d->store);
	d->view.policy_valid = !d->policy_invalid;
	d->view.apply_errors = d->apply_errors;
	d->view.dp_up = sl_dplink_up(&d->link);
	d->view.dp_restarts = d->dp_restarts;
	d->view.xdp_ready = sld_xdp_ready(d);
	d->view.failovers = d->failovers;
	d->view.failbacks = d->failbacks;
	d->view.flows_active = json_is_integer(json_object_get(fl, "active")) ?
			       json_integer_value(json_object_get(fl, "active")) : -1;
	d->view.flows_capacity = json_is_integer(json_object_get(fl, "capacity")) ?
				 json_integer_value(json_object_get(fl, "capacity")) : -1;
	pthread_mutex_unlock(&d->view.lock);
}

/* Accepts a dp.ping result; feeds the heartbeat, notices policy changes. */
static void on_pong(struct sld *d, json_t *res, int64_t now_ms)
{
	uint64_t polls[SL_HB_WORKERS_MAX];
	json_t *arr = json_object_get(res, "polls"), *v;
	unsigned int n = 0;
	size_t i;

	json_array_foreach(arr, i, v)
		if (n < SL_HB_WORKERS_MAX)
			polls[n++] = count(v);
	sl_hb_pong(&d->link.hb, now_ms, polls, n);
	v = json_object_get(res, "policy_version");
	if (json_is_integer(v) && (uint64_t)json_integer_value(v) != d->dp_policy_version &&
	    !d->reconcile_due) {
		sld_log(LOG_NOTICE, "the dataplane's policy changed (its version %" PRIu64 " -> %" JSON_INTEGER_FORMAT "); checking it",
			d->dp_policy_version, json_integer_value(v));
		d->reconcile_due = true;
	}
}

/* The link's handler of replies to requests in flight. */
static void on_reply(void *ctx, const char *cmd, const struct sl_ctl_reply *rep,
		     int64_t now_ms)
{
	struct sld *d = ctx;

	if (!rep->ok) {
		sld_log(LOG_WARNING, "the dataplane answered %s with %s: %s", cmd,
			rep->code, rep->message);
		return;
	}
	if (strcmp(cmd, "dp.ping") == 0)
		on_pong(d, rep->result, now_ms);
	else if (strcmp(cmd, "stats") == 0)
		sld_dp_stats_update(d, rep->result);
}

/* Accepts the link that just came up: restarts, counters, reconcile. */
static void on_up(struct sld *d, int64_t now_ms)
{
	json_t *h = d->link.hello;
	int64_t pid = json_integer_value(json_object_get(h, "pid"));

	sld_log(LOG_NOTICE, "connected to sluice-dp pid %" PRId64 " (%" JSON_INTEGER_FORMAT " workers, its policy version %" JSON_INTEGER_FORMAT ")",
		pid, json_integer_value(json_object_get(h, "workers")),
		json_integer_value(json_object_get(h, "policy_version")));
	if (d->dp_pid && pid != d->dp_pid) {
		d->dp_restarts++;
		sld_log(LOG_WARNING, "the dataplane restarted (pid %" PRId64 " -> %" PRId64 ")",
			d->dp_pid, pid);
	}
	d->restart_check = d->dp_pid && pid == d->dp_pid;
	sl_mono_source(d->mono, (uint64_t)pid);
	d->dp_pid = pid;
	d->dp_policy_version = (uint64_t)json_integer_value(json_object_get(h, "policy_version"));
	d->health = SL_DP_ALIVE;
	d->next_ping_ms = now_ms;
	d->next_stats_ms = now_ms;
	sld_reconcile(d);
}

/* Accepts a link that is up; the next request in flight, if one is due. */
static void send_due(struct sld *d, int64_t now_ms)
{
	if (d->link.busy)
		return;
	if (now_ms >= d->next_ping_ms) {
		d->next_ping_ms = now_ms + SL_HB_INTERVAL_MS;
		sl_dplink_send(&d->link, "dp.ping", NULL, now_ms, SL_HB_GONE_MS);
	} else if (now_ms >= d->next_stats_ms) {
		d->next_stats_ms = now_ms + SLD_STATS_MS;
		sl_dplink_send(&d->link, "stats", NULL, now_ms, SL_HB_GONE_MS * 2);
	}
}

/* Accepts a link that is up; judges it, logs changes, drops a dead one. */
static void judge(struct sld *d, int64_t now_ms)
{
	enum sl_dp_health h;
	int worker = -1;
	int64_t still = 0;

	if (d->link.busy)
		return;		/* the request's own deadline covers a hang */
	h = sl_hb_judge(&d->link.hb, now_ms, &worker, &still);
	if (h == SL_DP_GONE) {
		sl_dplink_drop(&d->link, now_ms, "no reply from the dataplane for %d ms",
			       SL_HB_GONE_MS);
		return;
	}
	if (h == SL_DP_STUCK) {
		d->stuck_worker = worker;
		d->stuck_ms = still;
	}
	if (h != d->health) {
		if (h == SL_DP_STUCK)
			sld_log(LOG_ERR, "dataplane worker %d has not polled for %" PRId64 " ms: path down",
				worker, still);
		else
			sld_log(LOG_NOTICE, "every dataplane worker polls again: path dpdk");
		d->health = h;
		sld_view_publish(d);
	}
}

/* Accepts the time now; everything the dataplane link has due. */
void sld_dp_tick(struct sld *d, int64_t now_ms)
{
	bool was_up = sl_dplink_up(&d->link);
	int rc;

	if (!was_up) {
		rc = sl_dplink_connect(&d->link, now_ms);
		if (rc == 1) {
			d->down_logged = false;
			on_up(d, sl_now_ms());
			sld_view_publish(d);
		} else if (rc < 0 && !d->down_logged) {
			/* Once per outage: the retries would flood the journal. */
			sld_log(LOG_INFO, "dataplane not reachable: %s; retrying every %d ms at most",
				d->link.why, SL_BACKOFF_MAX_MS);
			d->down_logged = true;
		}
		return;
	}
	sl_dplink_poll(&d->link, now_ms);
	if (sl_dplink_up(&d->link) && d->reconcile_due && !d->link.busy)
		sld_reconcile(d);
	if (sl_dplink_up(&d->link)) {
		send_due(d, now_ms);
		judge(d, now_ms);
	}
	if (!sl_dplink_up(&d->link)) {
		sld_log(LOG_WARNING, "lost the dataplane: %s; path down, retrying", d->link.why);
		d->down_logged = true;
		d->in_sync = false;
		d->health = SL_DP_GONE;
		sld_view_publish(d);
	}
}
