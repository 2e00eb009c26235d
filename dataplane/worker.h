/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore loop, run to completion: for each port, rx a burst,
 * police it with the engine, send what passes to the peer port through
 * a tx buffer, queue what shaping delays in the worker's timing wheel,
 * free the rest. Each poll first sends what the wheel has due. Partial
 * tx bursts are flushed on a TSC deadline; idle polls spend a little
 * time expiring flows.
 *
 * No locks, no allocation, no system calls in the loop: the worker owns
 * its dp_worker, its engine and its tx queue on every port.
 *
 * Inline, with policing a compile-time flag, so that the benchmark
 * (perf/bench) runs this very loop with and without the engine and the
 * difference is what the engine costs.
 */
#ifndef SLUICE_DP_WORKER_H
#define SLUICE_DP_WORKER_H

#include <stdbool.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dp.h"

/*
 * Accepts a worker and the poll's time; sends every delayed packet due
 * by now_ns to the peer of the port it came in on, flushing at once: a
 * tick is shorter than the tx drain deadline. Returns how many it sent.
 */
static __rte_always_inline uint32_t
dp_worker_shape_release(struct dp *d, struct dp_worker *w, uint64_t now_ns)
{
	struct rte_mbuf *m;
	uint32_t sent = 0, peers = 0;
	uint16_t pi;

	if (likely(w->shaper->n == 0))
		return 0;
	while ((m = dp_shaper_pop(w->shaper, now_ns, &pi)) != NULL) {
		uint16_t peer = d->ports[pi].peer;

		w->port[pi].tx_packets++;
		rte_eth_tx_buffer(d->ports[peer].port_id, w->queue, w->txb[peer], m);
		peers |= 1u << peer;
		sent++;
	}
	for (uint16_t p = 0; peers != 0; p++, peers >>= 1)
		if (peers & 1)
			rte_eth_tx_buffer_flush(d->ports[p].port_id, w->queue,
						w->txb[p]);
	return sent;
}

/*
 * Accepts an rx burst of n (<= DP_BURST) packets from port index pi;
 * polices it (or, with police false, forwards all) and hands it on.
 */
static __rte_always_inline void
dp_worker_burst(struct dp *d, struct dp_worker *w, const struct sl_ruleset *rs,
		uint16_t pi, struct rte_mbuf **mb, uint16_t n, uint64_t now_ns,
		bool police)
{
	struct sl_pkt pkts[DP_BURST];
	uint8_t verdict[DP_BURST];
	struct dp_port_counters *pc = &w->port[pi];
	uint16_t peer = d->ports[pi].peer;
	uint16_t peer_id = d->ports[peer].port_id;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (police && i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 2], void *));
		pkts[i].data = rte_pktmbuf_mtod(mb[i], uint8_t *);
		pkts[i].len = rte_pktmbuf_data_len(mb[i]);
		pkts[i].wire_len = rte_pktmbuf_pkt_len(mb[i]);
		bytes += pkts[i].wire_len;
	}
	pc->rx_packets += n;
	pc->rx_bytes += bytes;
	if (police) {
		/* The engine delays no more than the wheel can hold. */
		w->eng->shape_room = dp_shaper_room(w->shaper);
		sl_engine_run(w->eng, rs, pkts, n, now_ns, verdict);
	}
	for (uint16_t i = 0; i < n; i++) {
		if (!police || verdict[i] == SL_VERDICT_FORWARD) {
			pc->tx_packets++;
			rte_eth_tx_buffer(peer_id, w->queue, w->txb[peer], mb[i]);
		} else if (verdict[i] == SL_VERDICT_DELAY &&
			   dp_shaper_add(w->shaper, mb[i], pi, now_ns,
					 pkts[i].depart_ns) == 0) {
			continue;	/* counted forwarded when it leaves */
		} else {
			/* Dropped, or no room after all (the room said there was). */
			pc->dropped++;
			rte_pktmbuf_free(mb[i]);
		}
	}
}

/* Accepts a worker and the TSC of its last poll; notes the gap to now. */
static __rte_always_inline uint64_t
dp_worker_poll_gap(struct dp_worker *w, uint64_t *last_poll)
{
	uint64_t t = rte_get_tsc_cycles();

	/* The longest time between polls: how long the lcore was away. */
	if (unlikely(t - *last_poll > w->max_poll_gap))
		w->max_poll_gap = t - *last_poll;
	*last_poll = t;
	return t;
}

/*
 * Accepts a worker of d, registered and online in d->qs; polls d's
 * ports until d->quit, reporting a quiescent state after every poll.
 */
static __rte_always_inline void
dp_worker_loop(struct dp *d, struct dp_worker *w, bool police)
{
	const uint64_t drain_tsc = rte_get_tsc_hz() / 1000000 * DP_TX_DRAIN_US;
	uint64_t last_drain = rte_get_tsc_cycles(), last_poll = last_drain;
	struct rte_mbuf *mb[DP_BURST];

	while (likely(!d->quit)) {
		uint64_t t0 = dp_worker_poll_gap(w, &last_poll);
		uint64_t now_ns = dp_clock_ns(&d->clock);
		/* One ruleset for the whole poll; released at the quiescent state below. */
		const struct sl_ruleset *rs = __atomic_load_n(&d->active, __ATOMIC_ACQUIRE);
		uint32_t got = dp_worker_shape_release(d, w, now_ns);

		for (uint16_t pi = 0; pi < d->n_ports; pi++) {
			uint16_t n = rte_eth_rx_burst(d->ports[pi].port_id,
						      w->queue, mb, DP_BURST);

			if (n == 0)
				continue;
			got += n;
			dp_worker_burst(d, w, rs, pi, mb, n, now_ns, police);
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
	/*
	 * Delayed packets were counted as forwarded late: send them when
	 * due, as they would have been. That takes at most the longest
	 * delay; rx has stopped, so nothing joins the queue meanwhile.
	 */
	while (w->shaper->n > 0) {
		dp_worker_poll_gap(w, &last_poll);
		w->shape_drained += dp_worker_shape_release(d, w, dp_clock_ns(&d->clock));
		rte_rcu_qsbr_quiescent(d->qs, w->rcu_id);
		rte_pause();
	}
	for (uint16_t pi = 0; pi < d->n_ports; pi++)
		rte_eth_tx_buffer_flush(d->ports[pi].port_id, w->queue, w->txb[pi]);
}

#endif /* SLUICE_DP_WORKER_H */
