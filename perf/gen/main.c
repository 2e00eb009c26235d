/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-gen [EAL options] -- [options]
 *
 * Options are parsed before the EAL starts, so that --help and mistakes
 * cost no hugepages; then templates, mempool and port are set up, the
 * paced tx loop runs on the main lcore, and the report goes to stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "gen.h"

/*
 * Up to this many flows in total each get a prebuilt mbuf (about 2.3 KB
 * of hugepage memory each); beyond, packets are copied from templates.
 */
#define SL_GEN_PREBUILT_MAX	16384
/* Mbufs beyond the prebuilt ones: rx/tx rings, bursts, pool cache. */
#define SL_GEN_POOL_BASE	4096

/* SIGINT/SIGTERM: ends the run; the report is still printed. */
static void on_signal(int sig)
{
	(void)sig;
	sl_gen_quit = 1;
}

/* Returns the index of "--" in @argv, or @argc when there is none. */
static int find_dashdash(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

/* Builds the template of every group of @cfg into the streams of @run. */
static int build_streams(const struct sl_gen_cfg *cfg, struct sl_gen_run *run,
			 const struct rte_ether_addr *port_mac)
{
	unsigned int i;

	for (i = 0; i < cfg->nb_groups; i++) {
		const struct sl_gen_spec *s = &cfg->group[i];
		struct sl_gen_stream *st = &run->stream[i];

		st->spec = s;
		if (sl_gen_tmpl_build(s, s->src_mac_set ? &s->src_mac : port_mac,
				      &st->tmpl) < 0)
			return -ENOMEM;
		sl_gen_pacer_init(&st->pacer, s->pps, run->hz, s->on_s,
				  s->off_s, s->count,
				  (uint32_t)cfg->burst * SL_GEN_CATCHUP_BURSTS);
		run->nb_streams = i + 1;
	}
	return 0;
}

/* Frees the templates of every stream of @run. */
static void free_streams(struct sl_gen_run *run)
{
	unsigned int i;

	for (i = 0; i < run->nb_streams; i++)
		sl_gen_tmpl_free(&run->stream[i].tmpl);
}

/* Returns whether to prebuild, and the flows and largest frame of @cfg. */
static bool plan(const struct sl_gen_cfg *cfg, uint64_t *flows,
		 uint32_t *max_size)
{
	unsigned int i;

	*flows = 0;
	*max_size = 0;
	for (i = 0; i < cfg->nb_groups; i++) {
		*flows += cfg->group[i].flows;
		*max_size = RTE_MAX(*max_size, cfg->group[i].size);
	}
	return !cfg->copy && *flows <= SL_GEN_PREBUILT_MAX;
}

/* Sets up, runs and reports the generator; returns the exit status. */
static int generate(const struct sl_gen_cfg *cfg, struct sl_gen_run *run)
{
	struct rte_ether_addr port_mac;
	uint32_t max_size;
	unsigned int i;
	uint64_t flows;
	bool prebuild;
	int rc = 1;

	if (!rte_eth_dev_is_valid_port(cfg->port)) {
		sl_gen_error("port %u does not exist (%u ports; add --vdev or bind a NIC)",
			     cfg->port, rte_eth_dev_count_avail());
		goto fail;
	}
	if (rte_eth_macaddr_get(cfg->port, &port_mac) < 0)
		memset(&port_mac, 0, sizeof(port_mac));
	run->port = cfg->port;
	run->burst = cfg->burst;
	run->stamp = cfg->stamp;
	run->hz = sl_gen_tsc_hz();
	run->duration_tsc = (uint64_t)(cfg->duration_s * (double)run->hz);
	run->rx_wait_tsc = (uint64_t)(cfg->rx_wait_s * (double)run->hz);
	prebuild = plan(cfg, &flows, &max_size);
	if (build_streams(cfg, run, &port_mac) < 0)
		goto free_streams;
	run->pool = sl_gen_pool_create((uint32_t)(prebuild ? flows : 0) +
				       SL_GEN_POOL_BASE, max_size);
	if (run->pool == NULL)
		goto free_streams;
	for (i = 0; prebuild && i < run->nb_streams; i++)
		if (sl_gen_prebuild(&run->stream[i], run->pool) < 0)
			goto free_prebuilt;
	if (sl_gen_port_start(cfg->port, run->pool, max_size, cfg->rx) < 0)
		goto free_prebuilt;
	if (cfg->rx) {
		run->rx = sl_gen_rx_create(cfg->port);
		if (run->rx == NULL)
			goto stop_port;
	}
	sl_gen_tx_run(run);
	sl_gen_report(cfg, run);
	rc = 0;
	sl_gen_rx_free(run->rx);
stop_port:
	sl_gen_port_stop(cfg->port);
free_prebuilt:
	/* After the port stop: the PMD no longer holds references. */
	for (i = 0; i < run->nb_streams; i++)
		sl_gen_prebuilt_free(&run->stream[i]);
	rte_mempool_free(run->pool);
free_streams:
	free_streams(run);
fail:
	if (rc != 0)
		sl_gen_report_error(sl_gen_last_error());
	return rc;
}

/* Takes EAL options, "--", then sluice-gen's; exits 0, 1 or 2 (usage). */
int main(int argc, char **argv)
{
	/* Static: a group holds a 9 KB payload buffer, the run 16 streams. */
	static struct sl_gen_cfg cfg;
	static struct sl_gen_run run;
	char *no_opts[] = { argv[0], NULL };
	int sep = find_dashdash(argc, argv);
	int ret;

	sl_gen_cfg_init(&cfg);
	if (sep < argc)
		ret = sl_gen_opts_parse(argc - sep, argv + sep, &cfg);
	else
		ret = sl_gen_opts_parse(1, no_opts, &cfg);
	if (ret == 1) {
		sl_gen_usage(stdout);
		return 0;
	}
	if (ret < 0) {
		sl_gen_report_error(sl_gen_last_error());
		fprintf(stderr, "sluice-gen: try 'sluice-gen -- --help'\n");
		return 2;
	}
	/* stdout carries the JSON report: EAL and PMD logs go to stderr. */
	rte_openlog_stream(stderr);
	if (rte_eal_init(sep, argv) < 0) {
		sl_gen_error("cannot initialise the EAL: %s",
			     rte_strerror(rte_errno));
		sl_gen_report_error(sl_gen_last_error());
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = generate(&cfg, &run);
	rte_eal_cleanup();
	return ret;
}
