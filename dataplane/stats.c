/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters seen from outside the workers: sums over lcores, DPDK
 * telemetry endpoints (/sluice/...), and the final report on exit.
 *
 * Readers run on the telemetry thread or the main lcore while workers
 * write: every counter is an aligned u64 written by one lcore, so a read
 * is never torn, only a little stale.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <rte_telemetry.h>

#include "dp.h"

void dp_stats_sum_class(const struct dp *d, uint32_t c, struct sl_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct sl_counters *s =
			sl_engine_class_counters(d->workers[i]->eng, d->rs, c);

		for (int o = 0; o < SL_OUT__COUNT; o++) {
			out->packets[o] += s->packets[o];
			out->bytes[o] += s->bytes[o];
		}
	}
}

void dp_stats_sum_engine(const struct dp *d, struct sl_engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct sl_engine_stats *s = &d->workers[i]->eng->st;

		for (int o = 0; o < SL_OUT__COUNT; o++) {
			out->deflt.packets[o] += s->deflt.packets[o];
			out->deflt.bytes[o] += s->deflt.bytes[o];
		}
		for (int r = 0; r < SL_MAL__COUNT; r++)
			out->malformed[r] += s->malformed[r];
		out->malformed_bytes += s->malformed_bytes;
		out->non_ip += s->non_ip;
		out->non_ip_bytes += s->non_ip_bytes;
		out->overflow += s->overflow;
		out->shape_full += s->shape_full;
	}
}

void dp_stats_sum_port(const struct dp *d, uint16_t pi, struct dp_port_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct dp_port_counters *s = &d->workers[i]->port[pi];

		out->rx_packets += s->rx_packets;
		out->rx_bytes += s->rx_bytes;
		out->tx_packets += s->tx_packets;
		out->tx_failed += s->tx_failed;
		out->dropped += s->dropped;
	}
}

/* Counts summed over workers; depth, high water and times the largest. */
void dp_stats_sum_shaper(const struct dp *d, struct dp_shaper_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct dp_shaper_stats *s = &d->workers[i]->shaper->st;

		out->added += s->added;
		out->sent += s->sent;
		out->freed += s->freed;
		out->depth += s->depth;
		out->high_water = RTE_MAX(out->high_water, s->high_water);
		out->max_late_ns = RTE_MAX(out->max_late_ns, s->max_late_ns);
		out->max_hold_ns = RTE_MAX(out->max_hold_ns, s->max_hold_ns);
	}
}

/* The shaping queues as JSON: capacity and high water are per worker. */
static json_t *shaper_json(const struct dp *d, const struct sl_engine_stats *es)
{
	struct dp_shaper_stats ss;

	dp_stats_sum_shaper(d, &ss);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"tick_ns", (json_int_t)DP_SHAPE_TICK_NS,
		"capacity", (json_int_t)d->cfg.shape_queue,
		"queued", (json_int_t)ss.depth,
		"high_water", (json_int_t)ss.high_water,
		"added", (json_int_t)ss.added,
		"sent", (json_int_t)ss.sent,
		"freed_at_exit", (json_int_t)ss.freed,
		"queue_full_drops", (json_int_t)es->shape_full,
		"max_late_ns", (json_int_t)ss.max_late_ns,
		"max_hold_ns", (json_int_t)ss.max_hold_ns);
}

static uint64_t malformed_total(const struct sl_engine_stats *s)
{
	uint64_t n = 0;

	for (int r = 1; r < SL_MAL__COUNT; r++)
		n += s->malformed[r];
	return n;
}

/* Packets worker w received on all ports: how RSS spread the load. */
static uint64_t worker_rx(const struct dp *d, const struct dp_worker *w)
{
	uint64_t n = 0;

	for (uint16_t pi = 0; pi < d->n_ports; pi++)
		n += w->port[pi].rx_packets;
	return n;
}

/* The stats object, in the shape sluicectl prints (design.md "CLI"). */
json_t *dp_stats_json(const struct dp *d)
{
	struct sl_engine_stats es;
	json_t *root = json_object(), *classes = json_array();
	json_t *dflt, *mal, *reasons, *ports, *flows, *lcores;
	uint64_t used = 0, cap = 0, full = 0;

	for (uint32_t c = 0; c < d->rs->n_classes; c++) {
		struct sl_counters sum;
		json_t *jc = json_object(), *jp = json_object(), *jb = json_object();

		dp_stats_sum_class(d, c, &sum);
		for (int o = 0; o < SL_OUT__COUNT; o++) {
			json_object_set_new(jp, sl_outcome_names[o], json_integer((json_int_t)sum.packets[o]));
			json_object_set_new(jb, sl_outcome_names[o], json_integer((json_int_t)sum.bytes[o]));
		}
		json_object_set_new(jc, "name", json_string(d->rs->policy->classes[c].name));
		json_object_set_new(jc, "packets", jp);
		json_object_set_new(jc, "bytes", jb);
		json_array_append_new(classes, jc);
	}
	dp_stats_sum_engine(d, &es);
	dflt = json_pack("{s:{s:I,s:I},s:{s:I,s:I}}",
			 "packets", "passed", (json_int_t)es.deflt.packets[SL_OUT_PASSED],
			 "dropped", (json_int_t)es.deflt.packets[SL_OUT_DROPPED],
			 "bytes", "passed", (json_int_t)es.deflt.bytes[SL_OUT_PASSED],
			 "dropped", (json_int_t)es.deflt.bytes[SL_OUT_DROPPED]);
	reasons = json_object();
	for (int r = 1; r < SL_MAL__COUNT; r++)
		json_object_set_new(reasons, sl_malformed_name(r), json_integer((json_int_t)es.malformed[r]));
	mal = json_pack("{s:I,s:I,s:o}", "packets", (json_int_t)malformed_total(&es),
			"bytes", (json_int_t)es.malformed_bytes, "reasons", reasons);
	ports = json_array();
	for (uint16_t pi = 0; pi < d->n_ports; pi++) {
		struct dp_port_counters pc;
		struct rte_eth_stats es_port = { 0 };

		dp_stats_sum_port(d, pi, &pc);
		rte_eth_stats_get(d->ports[pi].port_id, &es_port);
		json_array_append_new(ports, json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I}",
			"name", d->ports[pi].name, "port", d->ports[pi].port_id,
			"rx_packets", (json_int_t)pc.rx_packets,
			"rx_bytes", (json_int_t)pc.rx_bytes,
			"rx_missed", (json_int_t)(es_port.imissed + es_port.ierrors),
			"forwarded", (json_int_t)pc.tx_packets,
			"tx_failed", (json_int_t)pc.tx_failed,
			"dropped", (json_int_t)pc.dropped));
	}
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct sl_flowtab *ft = d->workers[i]->eng->ft;

		used += sl_flowtab_count(ft);
		cap += sl_flowtab_capacity(ft);
		full += sl_flowtab_stats(ft)->full;
	}
	flows = json_pack("{s:I,s:I,s:I,s:I}", "active", (json_int_t)used,
			  "capacity", (json_int_t)cap, "table_full", (json_int_t)full,
			  "overflow_metered", (json_int_t)es.overflow);
	json_object_set_new(root, "policy_version", json_integer((json_int_t)d->rs->version));
	json_object_set_new(root, "classes", classes);
	json_object_set_new(root, "default", dflt);
	json_object_set_new(root, "malformed", mal);
	json_object_set_new(root, "non_ip", json_pack("{s:I,s:I}",
		"packets", (json_int_t)es.non_ip, "bytes", (json_int_t)es.non_ip_bytes));
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "flows", flows);
	json_object_set_new(root, "shaper", shaper_json(d, &es));
	/* Cycles as counted; sluiced turns two samples into a busy ratio. */
	lcores = json_array();
	for (unsigned int i = 0; i < d->n_workers; i++)
		json_array_append_new(lcores, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I}",
			"lcore", (int)d->workers[i]->lcore_id,
			"busy_cycles", (json_int_t)d->workers[i]->busy_cycles,
			"total_cycles", (json_int_t)d->workers[i]->total_cycles,
			"polls", (json_int_t)d->workers[i]->polls,
			"rx_packets", (json_int_t)worker_rx(d, d->workers[i]),
			"max_poll_gap_ns", (json_int_t)dp_cycles_ns(&d->clock,
				d->workers[i]->max_poll_gap)));
	json_object_set_new(root, "lcores", lcores);
	return root;
}

/* Telemetry: /sluice/stats,CLASS gives one class; no argument, every class. */
static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *t)
{
	const struct dp *d = &dp;
	(void)cmd;

	rte_tel_data_start_dict(t);
	if (d->rs == NULL)
		return -1;
	for (uint32_t c = 0; c < d->rs->n_classes; c++) {
		const char *name = d->rs->policy->classes[c].name;
		struct rte_tel_data *cd;
		struct sl_counters sum;

		if (params != NULL && *params != '\0' && strcmp(params, name) != 0)
			continue;
		cd = rte_tel_data_alloc();
		if (cd == NULL)
			return -1;
		rte_tel_data_start_dict(cd);
		dp_stats_sum_class(d, c, &sum);
		for (int o = 0; o < SL_OUT__COUNT; o++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_packets", sl_outcome_names[o]);
			rte_tel_data_add_dict_u64(cd, key, sum.packets[o]);
			snprintf(key, sizeof(key), "%s_bytes", sl_outcome_names[o]);
			rte_tel_data_add_dict_u64(cd, key, sum.bytes[o]);
		}
		rte_tel_data_add_dict_container(t, name, cd, 0);
	}
	return 0;
}

static int tel_engine(const char *cmd, const char *params, struct rte_tel_data *t)
{
	const struct dp *d = &dp;
	struct sl_engine_stats es;
	struct dp_shaper_stats ss;
	uint64_t used = 0, cap = 0, full = 0, created = 0, expired = 0;
	(void)cmd; (void)params;

	if (d->rs == NULL)
		return -1;
	dp_stats_sum_engine(d, &es);
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct sl_flowtab *ft = d->workers[i]->eng->ft;

		used += sl_flowtab_count(ft);
		cap += sl_flowtab_capacity(ft);
		full += sl_flowtab_stats(ft)->full;
		created += sl_flowtab_stats(ft)->created;
		expired += sl_flowtab_stats(ft)->expired;
	}
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_u64(t, "policy_version", d->rs->version);
	rte_tel_data_add_dict_u64(t, "classes", d->rs->n_classes);
	rte_tel_data_add_dict_u64(t, "default_passed_packets", es.deflt.packets[SL_OUT_PASSED]);
	rte_tel_data_add_dict_u64(t, "default_dropped_packets", es.deflt.packets[SL_OUT_DROPPED]);
	rte_tel_data_add_dict_u64(t, "non_ip_packets", es.non_ip);
	rte_tel_data_add_dict_u64(t, "malformed_packets", malformed_total(&es));
	for (int r = 1; r < SL_MAL__COUNT; r++) {
		char key[48];

		snprintf(key, sizeof(key), "malformed_%s", sl_malformed_name(r));
		rte_tel_data_add_dict_u64(t, key, es.malformed[r]);
	}
	rte_tel_data_add_dict_u64(t, "flows_active", used);
	rte_tel_data_add_dict_u64(t, "flows_capacity", cap);
	rte_tel_data_add_dict_u64(t, "flows_created", created);
	rte_tel_data_add_dict_u64(t, "flows_expired", expired);
	rte_tel_data_add_dict_u64(t, "flows_table_full", full);
	rte_tel_data_add_dict_u64(t, "overflow_metered_packets", es.overflow);
	dp_stats_sum_shaper(d, &ss);
	rte_tel_data_add_dict_u64(t, "shape_queue_capacity", d->cfg.shape_queue);
	rte_tel_data_add_dict_u64(t, "shape_queued_packets", ss.depth);
	rte_tel_data_add_dict_u64(t, "shape_queue_high_water", ss.high_water);
	rte_tel_data_add_dict_u64(t, "shape_sent_packets", ss.sent);
	rte_tel_data_add_dict_u64(t, "shape_queue_full_drops", es.shape_full);
	rte_tel_data_add_dict_u64(t, "shape_max_late_ns", ss.max_late_ns);
	rte_tel_data_add_dict_u64(t, "shape_max_hold_ns", ss.max_hold_ns);
	return 0;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *t)
{
	const struct dp *d = &dp;
	(void)cmd; (void)params;

	rte_tel_data_start_dict(t);
	for (uint16_t pi = 0; pi < d->n_ports; pi++) {
		struct rte_tel_data *pd = rte_tel_data_alloc();
		struct rte_eth_stats es = { 0 };
		struct dp_port_counters pc;

		if (pd == NULL)
			return -1;
		dp_stats_sum_port(d, pi, &pc);
		rte_eth_stats_get(d->ports[pi].port_id, &es);
		rte_tel_data_start_dict(pd);
		rte_tel_data_add_dict_u64(pd, "port_id", d->ports[pi].port_id);
		rte_tel_data_add_dict_u64(pd, "peer_port_id", d->ports[d->ports[pi].peer].port_id);
		rte_tel_data_add_dict_u64(pd, "rx_packets", pc.rx_packets);
		rte_tel_data_add_dict_u64(pd, "rx_bytes", pc.rx_bytes);
		/* Lost before sluice saw them: the rx ring was full. */
		rte_tel_data_add_dict_u64(pd, "rx_missed_packets", es.imissed + es.ierrors);
		rte_tel_data_add_dict_u64(pd, "forwarded_packets", pc.tx_packets);
		rte_tel_data_add_dict_u64(pd, "tx_failed_packets", pc.tx_failed);
		rte_tel_data_add_dict_u64(pd, "dropped_packets", pc.dropped);
		rte_tel_data_add_dict_container(t, d->ports[pi].name, pd, 0);
	}
	return 0;
}

static int tel_lcores(const char *cmd, const char *params, struct rte_tel_data *t)
{
	const struct dp *d = &dp;
	(void)cmd; (void)params;

	rte_tel_data_start_dict(t);
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct dp_worker *w = d->workers[i];
		struct rte_tel_data *ld = rte_tel_data_alloc();
		char key[32];

		if (ld == NULL)
			return -1;
		rte_tel_data_start_dict(ld);
		rte_tel_data_add_dict_u64(ld, "queue", w->queue);
		rte_tel_data_add_dict_u64(ld, "busy_cycles", w->busy_cycles);
		rte_tel_data_add_dict_u64(ld, "total_cycles", w->total_cycles);
		rte_tel_data_add_dict_u64(ld, "flows_active", sl_flowtab_count(w->eng->ft));
		rte_tel_data_add_dict_u64(ld, "rx_packets", worker_rx(d, w));
		rte_tel_data_add_dict_u64(ld, "shape_queued", w->shaper->st.depth);
		rte_tel_data_add_dict_u64(ld, "shape_high_water", w->shaper->st.high_water);
		snprintf(key, sizeof(key), "lcore%u", w->lcore_id);
		rte_tel_data_add_dict_container(t, key, ld, 0);
	}
	return 0;
}

int dp_telemetry_init(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd("/sluice/stats", tel_stats,
		"Per-class packet and byte counters, summed over lcores. Parameters: class name (optional)");
	rc |= rte_telemetry_register_cmd("/sluice/engine", tel_engine,
		"Policy version, default and malformed counters, flow-table occupancy, shaping queues. No parameters");
	rc |= rte_telemetry_register_cmd("/sluice/ports", tel_ports,
		"Per-port rx, forwarded, dropped and tx-failed counters. No parameters");
	rc |= rte_telemetry_register_cmd("/sluice/lcores", tel_lcores,
		"Per-worker busy and total cycles and flow count. No parameters");
	return rc;
}

static void print_count(FILE *f, uint64_t v)
{
	fprintf(f, " %12" PRIu64, v);
}

void dp_report_print(const struct dp *d, FILE *f)
{
	struct sl_engine_stats es;
	struct dp_shaper_stats ss;

	fprintf(f, "sluice-dp report (policy version %" PRIu64 ")\n", d->rs->version);
	fprintf(f, "%-24s %12s %12s %12s %12s %12s\n", "class", "passed",
		"dropped", "marked", "monitored", "delayed");
	for (uint32_t c = 0; c < d->rs->n_classes; c++) {
		struct sl_counters s;

		dp_stats_sum_class(d, c, &s);
		fprintf(f, "%-24s", d->rs->policy->classes[c].name);
		for (int o = 0; o < SL_OUT__COUNT; o++)
			print_count(f, s.packets[o]);
		fputc('\n', f);
	}
	dp_stats_sum_engine(d, &es);
	fprintf(f, "%-24s", "(default)");
	print_count(f, es.deflt.packets[SL_OUT_PASSED]);
	print_count(f, es.deflt.packets[SL_OUT_DROPPED]);
	fputc('\n', f);
	fprintf(f, "malformed %" PRIu64 ", non-IP %" PRIu64 ", overflow-metered %" PRIu64 "\n",
		malformed_total(&es), es.non_ip, es.overflow);
	dp_stats_sum_shaper(d, &ss);
	fprintf(f, "shaping: queue %u per worker, high water %" PRIu64 ", sent %" PRIu64 " of %" PRIu64 " delayed, %" PRIu64 " dropped for a full queue, longest hold %.3f ms (at most %.1f us after its departure; tick %.3f us)\n",
		d->cfg.shape_queue, ss.high_water, ss.sent, ss.added, es.shape_full,
		(double)ss.max_hold_ns / 1e6, (double)ss.max_late_ns / 1e3,
		(double)DP_SHAPE_TICK_NS / 1e3);
	for (uint16_t pi = 0; pi < d->n_ports; pi++) {
		struct rte_eth_stats es_port = { 0 };
		struct dp_port_counters pc;

		dp_stats_sum_port(d, pi, &pc);
		rte_eth_stats_get(d->ports[pi].port_id, &es_port);
		fprintf(f, "port %u (%s): rx %" PRIu64 ", rx missed %" PRIu64 ", forwarded %" PRIu64 ", dropped %" PRIu64 ", tx failed %" PRIu64 "\n",
			d->ports[pi].port_id, d->ports[pi].name, pc.rx_packets,
			es_port.imissed + es_port.ierrors, pc.tx_packets, pc.dropped,
			pc.tx_failed);
	}
}

int dp_report_json(const struct dp *d, const char *path)
{
	json_t *j = dp_stats_json(d);
	int rc = json_dump_file(j, path, JSON_INDENT(2));

	json_decref(j);
	return rc;
}
