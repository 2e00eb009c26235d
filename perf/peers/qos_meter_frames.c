/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gives DPDK's qos_meter sample the traffic sluice-bench-worker meters.
 *
 * net_null hands out mbufs with nothing in them, so unaided the sample
 * meters one flow (its flow id is byte 33 of the frame, zero) and reads
 * no headers worth the name. Linked into the sample by
 * build_qos_meter.sh --frames with -Wl,--wrap=rte_eth_dev_start, this
 * adds, when the sample starts its first port (its rx port), the rx
 * callback sluice-bench-worker uses: the frames of the same flows
 * (perf/bench/traffic.c: 100 classes, 100,000 flows, the same order),
 * written by the same code (sl_bench_stamp). The sample's own source is
 * not changed; what it does with the frames is its own: srTCM metering
 * by the last byte of the destination address, 256 flows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <rte_debug.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bench.h"

/* sluice-bench-worker's defaults: the same flows in the same order. */
#define FRAMES_CLASSES	100
#define FRAMES_FLOWS	100000

int __real_rte_eth_dev_start(uint16_t port_id);
int __wrap_rte_eth_dev_start(uint16_t port_id);

static struct sl_bench_traffic traffic;

static uint16_t frames_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
			  uint16_t n, uint16_t max, void *arg)
{
	(void)port;
	(void)queue;
	(void)max;
	sl_bench_stamp(arg, pkts, n);
	return n;
}

/* The sample starts its rx port first: that one gets the frames. */
int __wrap_rte_eth_dev_start(uint16_t port_id)
{
	static bool done;
	int rc = __real_rte_eth_dev_start(port_id);

	if (rc != 0 || done)
		return rc;
	done = true;
	if (sl_bench_traffic_build(&traffic, FRAMES_CLASSES, FRAMES_FLOWS, 0,
				   SL_BENCH_PL_NONE, 0, (int)rte_socket_id()) != 0)
		rte_exit(EXIT_FAILURE, "qos_meter_frames: no memory for %u frames\n",
			 FRAMES_FLOWS);
	if (rte_eth_add_rx_callback(port_id, 0, frames_rx, &traffic) == NULL)
		rte_exit(EXIT_FAILURE, "qos_meter_frames: cannot add an rx callback to port %u\n",
			 port_id);
	return 0;
}
