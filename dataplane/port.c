/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port pairs: every port gets one rx and one tx queue per worker, RSS
 * where the driver offers it, and promiscuous mode, since a bump in the
 * wire forwards frames addressed to the hosts behind it, not to itself.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dp.h"

RTE_LOG_REGISTER(dp_logtype_port, sluice.port, INFO);
#define PORT_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype_port, "port: " fmt "\n", ## __VA_ARGS__)

#define MBUF_CACHE	256

/*
 * RSS on the source address alone keeps every packet of a source on one
 * worker, so per-source buckets (key src) see all of that source's
 * traffic. Drivers without L3_SRC_ONLY hash on both addresses.
 */
static uint64_t rss_hf_for(const struct rte_eth_dev_info *info)
{
	uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_L3_SRC_ONLY;
	uint64_t hf = want & info->flow_type_rss_offloads;

	if ((hf & RTE_ETH_RSS_IP) == 0)
		return 0;
	return hf;
}

static int port_setup(struct dp *d, struct dp_port *p)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nq = d->n_queues;
	uint16_t rxd = d->cfg.rx_desc, txd = d->cfg.tx_desc;
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc < 0)
		return rc;
	if (nq > info.max_rx_queues || nq > info.max_tx_queues) {
		PORT_LOG(ERR, "%s supports %u rx / %u tx queues, %u workers need one each",
			 p->name, info.max_rx_queues, info.max_tx_queues, nq);
		return -EINVAL;
	}
	if (nq > 1) {
		uint64_t hf = rss_hf_for(&info);

		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			PORT_LOG(WARNING, "%s has no IP RSS: flows spread by the driver's own means",
				 p->name);
		}
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	rc = rte_eth_dev_configure(p->port_id, nq, nq, &conf);
	if (rc < 0) {
		PORT_LOG(ERR, "%s: configure failed: %s", p->name, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, socket, NULL, d->pool);
		if (rc < 0) {
			PORT_LOG(ERR, "%s: rx queue %u: %s", p->name, q, rte_strerror(-rc));
			return rc;
		}
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, socket, NULL);
		if (rc < 0) {
			PORT_LOG(ERR, "%s: tx queue %u: %s", p->name, q, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_promiscuous_enable(p->port_id);
	if (rc < 0 && rc != -ENOTSUP)
		PORT_LOG(WARNING, "%s: promiscuous mode: %s", p->name, rte_strerror(-rc));
	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0) {
		PORT_LOG(ERR, "%s: start failed: %s", p->name, rte_strerror(-rc));
		return rc;
	}
	PORT_LOG(INFO, "%s (port %u): %u queue(s), %u/%u descriptors, rss %s",
		 p->name, p->port_id, nq, rxd, txd,
		 conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off");
	return 0;
}

/*
 * Size the mbuf pool for every descriptor, every burst, every cache and
 * every worker's full shaping queue, so a full queue never starves rx.
 */
static unsigned int pool_size(const struct dp *d)
{
	unsigned int per_port = (unsigned int)d->n_queues *
				(d->cfg.rx_desc + d->cfg.tx_desc);
	unsigned int n = d->n_ports * per_port +
			 d->n_queues * (2 * DP_BURST * DP_PORTS_MAX + MBUF_CACHE +
					d->cfg.shape_queue) +
			 rte_lcore_count() * MBUF_CACHE + 1024;

	return RTE_MAX(n, 8192u);
}

int dp_ports_init(struct dp *d)
{
	uint16_t avail = rte_eth_dev_count_avail();
	int rc;

	d->n_ports = 0;
	for (uint16_t i = 0; i < d->cfg.n_pairs; i++) {
		for (int s = 0; s < 2; s++) {
			uint16_t id = d->cfg.pairs[i][s];
			struct dp_port *p = &d->ports[d->n_ports];

			if (!rte_eth_dev_is_valid_port(id)) {
				PORT_LOG(ERR, "pair %u:%u: port %u does not exist (%u ports available)",
					 d->cfg.pairs[i][0], d->cfg.pairs[i][1], id, avail);
				return -ENODEV;
			}
			p->port_id = id;
			p->peer = (uint16_t)(d->n_ports ^ 1);
			rte_eth_dev_get_name_by_port(id, p->name);
			d->n_ports++;
		}
	}
	d->pool = rte_pktmbuf_pool_create("sluice_mbufs", pool_size(d),
					  MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (d->pool == NULL) {
		PORT_LOG(ERR, "cannot create the mbuf pool (%u mbufs): %s",
			 pool_size(d), rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (uint16_t i = 0; i < d->n_ports; i++) {
		rc = port_setup(d, &d->ports[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void dp_ports_close(struct dp *d)
{
	for (uint16_t i = 0; i < d->n_ports; i++) {
		rte_eth_dev_stop(d->ports[i].port_id);
		rte_eth_dev_close(d->ports[i].port_id);
	}
	d->n_ports = 0;
}
