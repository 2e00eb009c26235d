/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's metrics (docs/metrics.md), rendered on libmicrohttpd's
 * thread from the view the main thread publishes. The mutex is held for
 * the whole render: the main thread only waits when it publishes, once
 * a second or after a change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sluiced.h"

static const char *const outcomes[] = {
	"passed", "dropped", "marked", "monitored", "delayed",
};

/* Accepts a JSON counter; it as a double for the exposition. */
static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : 0;
}

/* The per-class families: one sample per class and outcome. */
static void render_classes(FILE *f, json_t *st, const char *what,
			   const char *metric, const char *help)
{
	json_t *c;
	size_t i, k;

	sl_prom_family(f, metric, "counter", help);
	json_array_foreach(json_object_get(st, "classes"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		json_t *o = json_object_get(c, what);

		for (k = 0; name && k < sizeof(outcomes) / sizeof(outcomes[0]); k++)
			sl_prom_sample(f, metric, num(json_object_get(o, outcomes[k])),
				       "class", name, "outcome", outcomes[k], NULL);
	}
}

/* Default action, malformed and flow-table counters. */
static void render_engine(FILE *f, json_t *st)
{
	json_t *df = json_object_get(st, "default"), *v;
	json_t *reasons = json_object_get(json_object_get(st, "malformed"), "reasons");
	json_t *fl = json_object_get(st, "flows");
	const char *reason;

	sl_prom_family(f, "sluice_default_packets_total", "counter",
		       "Packets no class matched, by what the default action did (passed, dropped).");
	sl_prom_sample(f, "sluice_default_packets_total",
		       num(json_object_get(json_object_get(df, "packets"), "passed")),
		       "outcome", "passed", NULL);
	sl_prom_sample(f, "sluice_default_packets_total",
		       num(json_object_get(json_object_get(df, "packets"), "dropped")),
		       "outcome", "dropped", NULL);
	sl_prom_family(f, "sluice_default_bytes_total", "counter",
		       "Bytes of packets no class matched, by outcome.");
	sl_prom_sample(f, "sluice_default_bytes_total",
		       num(json_object_get(json_object_get(df, "bytes"), "passed")),
		       "outcome", "passed", NULL);
	sl_prom_sample(f, "sluice_default_bytes_total",
		       num(json_object_get(json_object_get(df, "bytes"), "dropped")),
		       "outcome", "dropped", NULL);
	sl_prom_family(f, "sluice_malformed_packets_total", "counter",
		       "Malformed packets, by what was wrong with them; they take the default action.");
	json_object_foreach(reasons, reason, v)
		sl_prom_sample(f, "sluice_malformed_packets_total", num(v),
			       "reason", reason, NULL);
	sl_prom_family(f, "sluice_non_ip_packets_total", "counter",
		       "Non-IP frames (ARP, LLDP...), always forwarded.");
	sl_prom_sample(f, "sluice_non_ip_packets_total",
		       num(json_object_get(json_object_get(st, "non_ip"), "packets")), NULL);
	sl_prom_family(f, "sluice_flow_table_full_total", "counter",
		       "New bucket keys that found the flow table full and were metered by the class ceiling instead.");
	sl_prom_sample(f, "sluice_flow_table_full_total",
		       num(json_object_get(fl, "table_full")), NULL);
}

/* Gauges of the flow table and the workers, when the dataplane gave them. */
static void render_gauges(FILE *f, const struct sld_view *v)
{
	const char *lcore;
	json_t *r;

	if (v->flows_active >= 0) {
		sl_prom_family(f, "sluice_flow_table_active", "gauge",
			       "Bucket keys in the flow tables of all workers, as last polled.");
		sl_prom_sample(f, "sluice_flow_table_active", (double)v->flows_active, NULL);
	}
	if (v->flows_capacity >= 0) {
		sl_prom_family(f, "sluice_flow_table_capacity", "gauge",
			       "Bucket keys the flow tables of all workers can hold.");
		sl_prom_sample(f, "sluice_flow_table_capacity", (double)v->flows_capacity,
			       NULL);
	}
	if (json_object_size(v->lcores) == 0)
		return;
	sl_prom_family(f, "sluice_lcore_busy_ratio", "gauge",
		       "Share of a worker lcore's cycles spent on packets between the last two stats polls.");
	json_object_foreach(v->lcores, lcore, r)
		sl_prom_sample(f, "sluice_lcore_busy_ratio", num(r), "lcore", lcore, NULL);
}

/* The daemon's own state: path, policy, dataplane, XDP path. */
static void render_daemon(FILE *f, const struct sld_view *v)
{
	static const char *const paths[] = { "dpdk", "xdp", "down" };
	size_t i;

	sl_prom_family(f, "sluice_path", "gauge",
		       "1 for the path traffic takes now (dpdk, xdp or down), 0 for the others.");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		sl_prom_sample(f, "sluice_path", v->path && strcmp(v->path, paths[i]) == 0,
			       "path", paths[i], NULL);
	sl_prom_family(f, "sluice_policy_version", "gauge",
		       "Version of the policy in sluiced's store (0: none applied).");
	sl_prom_sample(f, "sluice_policy_version", (double)v->policy_version, NULL);
	sl_prom_family(f, "sluice_policy_valid", "gauge",
		       "0 when the stored policy no longer validates (served marked invalid).");
	sl_prom_sample(f, "sluice_policy_valid", v->policy_valid, NULL);
	sl_prom_family(f, "sluice_policy_apply_errors_total", "counter",
		       "Applies the dataplane refused or the store could not persist, and reconcile pushes the dataplane refused.");
	sl_prom_sample(f, "sluice_policy_apply_errors_total", (double)v->apply_errors,
		       NULL);
	sl_prom_family(f, "sluice_dataplane_up", "gauge",
		       "1 while sluiced is connected to sluice-dp's control socket.");
	sl_prom_sample(f, "sluice_dataplane_up", v->dp_up, NULL);
	sl_prom_family(f, "sluice_dataplane_restarts_total", "counter",
		       "Dataplane restarts sluiced saw (a new pid, or counters that started over).");
	sl_prom_sample(f, "sluice_dataplane_restarts_total", (double)v->dp_restarts,
		       NULL);
	sl_prom_family(f, "sluice_xdp_ready", "gauge",
		       "1 while the XDP fallback path is loaded with the current policy and can take traffic.");
	sl_prom_sample(f, "sluice_xdp_ready", v->xdp_ready, NULL);
	sl_prom_family(f, "sluice_failovers_total", "counter",
		       "Times traffic moved from the dataplane to the XDP path.");
	sl_prom_sample(f, "sluice_failovers_total", (double)v->failovers, NULL);
	sl_prom_family(f, "sluice_failbacks_total", "counter",
		       "Times traffic moved back from the XDP path to the dataplane.");
	sl_prom_sample(f, "sluice_failbacks_total", (double)v->failbacks, NULL);
}

/* The render callback: everything, from the published view. */
void sld_metrics_render(void *ctx, FILE *f)
{
	struct sld_view *v = &((struct sld *)ctx)->view;

	pthread_mutex_lock(&v->lock);
	render_daemon(f, v);
	if (v->stats) {
		render_classes(f, v->stats, "packets", "sluice_class_packets_total",
			       "Packets of a class, by outcome (passed, dropped, marked, monitored, delayed).");
		render_classes(f, v->stats, "bytes", "sluice_class_bytes_total",
			       "Bytes of the packets of a class, by outcome.");
		render_engine(f, v->stats);
	}
	render_gauges(f, v);
	pthread_mutex_unlock(&v->lock);
}
