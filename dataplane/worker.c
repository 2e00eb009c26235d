/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore loop, run to completion: for each port, rx a burst,
 * police it with the engine, send what passes to the peer port through
 * a tx buffer, free the rest. Partial tx bursts are flushed on a TSC
 * deadline; idle polls spend a little time expiring flows.
 *
 * No locks, no allocation, no system calls in the loop: the worker owns
 * its dp_worker, its engine and its tx queue on every port.
 */
#include <stdio.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp.h"

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
	sl_engine_free(w->eng);
	rte_free(w);
}

/* Police one rx burst from port index pi and hand it on. */
static inline void worker_burst(struct dp *d, struct dp_worker *w,
				const struct sl_ruleset *rs, uint16_t pi,
				struct rte_mbuf **mb, uint16_t n, uint64_t now_ns)
{
	struct sl_pkt pkts[DP_BURST];
	uint8_t verdict[DP_BURST];
	struct dp_port_counters *pc = &w->port[pi];
	uint16_t peer = d->ports[pi].peer;
	uint16_t peer_id = d->ports[peer].port_id;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 2], void *));
		pkts[i].data = rte_pktmbuf_mtod(mb[i], uint8_t *);
		pkts[i].len = rte_pktmbuf_data_len(mb[i]);
		pkts[i].wire_len = rte_pktmbuf_pkt_len(mb[i]);
		bytes += pkts[i].wire_len;
	}
	pc->rx_packets += n;
	pc->rx_bytes += bytes;
	sl_engine_run(w->eng, rs, pkts, n, now_ns, verdict);
	for (uint16_t i = 0; i < n; i++) {
		if (verdict[i] == SL_VERDICT_FORWARD) {
			pc->tx_packets++;
			rte_eth_tx_buffer(peer_id, w->queue, w->txb[peer], mb[i]);
		} else {
			pc->dropped++;
			rte_pktmbuf_free(mb[i]);
		}
	}
}

int dp_worker_main(void *arg)
{
	struct dp *d = &dp;
	struct dp_worker *w = arg;
	const uint64_t drain_tsc = rte_get_tsc_hz() / 1000000 * DP_TX_DRAIN_US;
	uint64_t last_drain = rte_get_tsc_cycles();
	struct rte_mbuf *mb[DP_BURST];

	rte_rcu_qsbr_thread_register(d->qs, w->rcu_id);
	rte_rcu_qsbr_thread_online(d->qs, w->rcu_id);
	WORKER_LOG(INFO, "lcore %u polling queue %u of %u port(s)", w->lcore_id,
		   w->queue, d->n_ports);
	while (likely(!d->quit)) {
		uint64_t t0 = rte_get_tsc_cycles();
		uint64_t now_ns = dp_clock_ns(&d->clock);
		/* One ruleset for the whole poll; released at the quiescent state below. */
		const struct sl_ruleset *rs = __atomic_load_n(&d->active, __ATOMIC_ACQUIRE);
		uint32_t got = 0;

		for (uint16_t pi = 0; pi < d->n_ports; pi++) {
			uint16_t n = rte_eth_rx_burst(d->ports[pi].port_id,
						      w->queue, mb, DP_BURST);

			if (n == 0)
				continue;
			got += n;
			worker_burst(d, w, rs, pi, mb, n, now_ns);
		}
		if (got == 0 || t0 - last_drain > drain_tsc) {
			for (uint16_t pi = 0; pi < d->n_ports; pi++)
				rte_eth_tx_buffer_flush(d->ports[pi].port_id,
							w->queue, w->txb[pi]);
			last_drain = t0;
		}
		if (got == 0)
			sl_engine_expire(w->eng, now_ns, DP_EXPIRE_BUDGET);
		else
			w->busy_cycles += rte_get_tsc_cycles() - t0;
		w->total_cycles += rte_get_tsc_cycles() - t0;
		__atomic_store_n(&w->polls, w->polls + 1, __ATOMIC_RELAXED);
		rte_rcu_qsbr_quiescent(d->qs, w->rcu_id);
	}
	rte_rcu_qsbr_thread_offline(d->qs, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(d->qs, w->rcu_id);
	for (uint16_t pi = 0; pi < d->n_ports; pi++)
		rte_eth_tx_buffer_flush(d->ports[pi].port_id, w->queue, w->txb[pi]);
	WORKER_LOG(INFO, "lcore %u stopped", w->lcore_id);
	return 0;
}
