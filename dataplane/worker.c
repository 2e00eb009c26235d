/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker set-up and teardown, and the entry point of a worker lcore;
 * the loop itself is in worker.h.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dp.h"
#include "worker.h"

RTE_LOG_REGISTER(dp_logtype_worker, sluice.worker, INFO);
#define WORKER_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype_worker, "worker: " fmt "\n", ## __VA_ARGS__)

struct dp_worker *dp_worker_create(struct dp *d, unsigned int lcore_id,
				   uint16_t queue)
{
	int socket = (int)rte_lcore_to_socket_id(lcore_id);
	struct dp_worker *w;
	char name[64];

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	w->lcore_id = lcore_id;
	w->queue = queue;
	w->rcu_id = queue;
	snprintf(name, sizeof(name), "sl_flows_%u", lcore_id);
	w->eng = sl_engine_create(name, d->cfg.flows, socket);
	if (w->eng == NULL) {
		WORKER_LOG(ERR, "lcore %u: flow table of %u keys: %s", lcore_id,
			   d->cfg.flows, rte_strerror(rte_errno));
		goto free_w;
	}
	w->shaper = dp_shaper_create(d->cfg.shape_queue, socket);
	if (w->shaper == NULL) {
		WORKER_LOG(ERR, "lcore %u: shaping queue of %u packets: %s", lcore_id,
			   d->cfg.shape_queue, rte_strerror(rte_errno));
		goto free_eng;
	}
	for (uint16_t p = 0; p < d->n_ports; p++) {
		w->txb[p] = rte_zmalloc_socket("dp_txb",
					       RTE_ETH_TX_BUFFER_SIZE(DP_BURST),
					       0, socket);
		if (w->txb[p] == NULL)
			goto free_eng;
		rte_eth_tx_buffer_init(w->txb[p], DP_BURST);
		/* Unsent packets are freed and counted against the rx port. */
		rte_eth_tx_buffer_set_err_callback(w->txb[p],
			rte_eth_tx_buffer_count_callback,
			&w->port[d->ports[p].peer].tx_failed);
	}
	return w;

free_eng:
	for (uint16_t p = 0; p < d->n_ports; p++)
		rte_free(w->txb[p]);
	dp_shaper_free(w->shaper);
	sl_engine_free(w->eng);
free_w:
	rte_free(w);
	return NULL;
}

void dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	for (uint16_t p = 0; p < DP_PORTS_MAX; p++)
		rte_free(w->txb[p]);
	/* Drained when the worker stopped; a worker that never ran may hold some. */
	dp_shaper_free(w->shaper);
	sl_engine_free(w->eng);
	rte_free(w);
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;

	rte_rcu_qsbr_thread_register(dp.qs, w->rcu_id);
	rte_rcu_qsbr_thread_online(dp.qs, w->rcu_id);
	WORKER_LOG(INFO, "lcore %u polling queue %u of %u port(s)", w->lcore_id,
		   w->queue, dp.n_ports);
	dp_worker_loop(&dp, w, true);
	rte_rcu_qsbr_thread_offline(dp.qs, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(dp.qs, w->rcu_id);
	WORKER_LOG(INFO, "lcore %u stopped; %" PRIu64 " delayed packets sent when due after the stop",
		   w->lcore_id, w->shape_drained);
	return 0;
}
