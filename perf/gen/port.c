/* SPDX-License-Identifier: BSD-3-Clause */
/* Port and mempool setup: one rx and one tx queue, no offloads. */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "gen.h"

#define SL_GEN_NB_RXD		1024
#define SL_GEN_NB_TXD		1024
#define SL_GEN_POOL_CACHE	256
#define SL_GEN_LINK_WAIT_MS	3000

/* Creates the mbuf pool: @nb_mbufs mbufs holding frames of @max_size. */
struct rte_mempool *sl_gen_pool_create(uint32_t nb_mbufs, uint32_t max_size)
{
	uint32_t room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
				RTE_PKTMBUF_HEADROOM + max_size);
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create("slg_pool", nb_mbufs, SL_GEN_POOL_CACHE,
				     0, (uint16_t)room, (int)rte_socket_id());
	if (mp == NULL)
		sl_gen_error("cannot create a pool of %u mbufs: %s", nb_mbufs,
			     rte_strerror(rte_errno));
	return mp;
}

/* Waits a little for link up: frames sent before it are lost on a NIC. */
static void wait_link(uint16_t port)
{
	struct rte_eth_link link;
	int ms;

	for (ms = 0; ms < SL_GEN_LINK_WAIT_MS; ms += 100) {
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return;
		rte_delay_ms(100);
	}
	fprintf(stderr, "sluice-gen: warning: port %u link is still down, sending anyway\n",
		port);
}

/* Sets the MTU for frames of @max_size; only warns if the PMD refuses. */
static void set_mtu(uint16_t port, uint32_t max_size)
{
	uint16_t mtu = (uint16_t)(max_size - RTE_ETHER_HDR_LEN);
	int ret;

	if (mtu <= RTE_ETHER_MTU)
		return;
	ret = rte_eth_dev_set_mtu(port, mtu);
	if (ret < 0)
		fprintf(stderr, "sluice-gen: warning: port %u: cannot set MTU %u: %s\n",
			port, mtu, rte_strerror(-ret));
}

/*
 * Configures and starts @port with one rx queue fed from @pool and one
 * tx queue, for frames up to @max_size; promiscuous when counting @rx.
 * Returns 0 or a negative errno with sl_gen_error() set.
 */
int sl_gen_port_start(uint16_t port, struct rte_mempool *pool,
		      uint32_t max_size, bool rx)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = SL_GEN_NB_RXD, nb_txd = SL_GEN_NB_TXD;
	int socket = rte_eth_dev_socket_id(port);
	const char *what;
	int ret;

	memset(&conf, 0, sizeof(conf));
	if (socket < 0)
		socket = (int)rte_socket_id();
	what = "configure";
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret < 0)
		goto fail;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret < 0)
		goto fail;
	set_mtu(port, max_size);
	what = "set up the rx queue of";
	ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, (unsigned int)socket,
				     NULL, pool);
	if (ret < 0)
		goto fail;
	what = "set up the tx queue of";
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, (unsigned int)socket,
				     NULL);
	if (ret < 0)
		goto fail;
	what = "start";
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		goto fail;
	if (rx && rte_eth_promiscuous_enable(port) < 0)
		fprintf(stderr, "sluice-gen: warning: port %u: no promiscuous mode, --rx counts only frames to its MAC\n",
			port);
	wait_link(port);
	return 0;
fail:
	sl_gen_error("cannot %s port %u: %s", what, port, rte_strerror(-ret));
	return ret;
}

/* Stops and closes @port, which releases the mbufs its queues hold. */
void sl_gen_port_stop(uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
}
