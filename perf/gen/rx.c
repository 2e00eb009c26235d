/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --rx: counts what arrives on the port, in total and per IPv4/IPv6
 * source address, for loopback setups (generator -> shaper -> back).
 * Sources live in an rte_hash whose key positions index the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <jansson.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>

#include "gen.h"

#define SL_GEN_RX_SOURCES	65536
#define SL_GEN_RX_BURST		64

/* A source address as a hash key; zero-filled so padding compares. */
struct sl_gen_rx_key {
	uint8_t addr[16];
	uint8_t family;		/* 4 or 6 */
	uint8_t pad[3];
};

/* Counters of one source, at its hash key position. */
struct sl_gen_rx_src {
	struct sl_gen_rx_key key;
	uint64_t packets;
	uint64_t bytes;
};

struct sl_gen_rx {
	uint16_t port;
	struct rte_hash *hash;
	uint64_t packets;
	uint64_t bytes;
	uint64_t non_ip;	/* neither IPv4 nor IPv6, or truncated */
	uint64_t untracked;	/* IP packets from sources beyond the table */
	struct sl_gen_rx_src *src;
};

/* Creates the rx counters of @port; NULL with sl_gen_error() set. */
struct sl_gen_rx *sl_gen_rx_create(uint16_t port)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = SL_GEN_RX_SOURCES,
		.key_len = sizeof(struct sl_gen_rx_key),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
	};
	struct sl_gen_rx *rx;

	rx = calloc(1, sizeof(*rx));
	if (rx == NULL)
		goto fail;
	rx->port = port;
	rx->src = calloc(SL_GEN_RX_SOURCES, sizeof(*rx->src));
	if (rx->src == NULL)
		goto free_rx;
	snprintf(name, sizeof(name), "slg_rx%u", port);
	rx->hash = rte_hash_create(&hp);
	if (rx->hash == NULL)
		goto free_src;
	return rx;
free_src:
	free(rx->src);
free_rx:
	free(rx);
fail:
	sl_gen_error("--rx: cannot create the source table: %s",
		     rte_strerror(rte_errno ? rte_errno : ENOMEM));
	return NULL;
}

/* Frees what sl_gen_rx_create() made; NULL is fine. */
void sl_gen_rx_free(struct sl_gen_rx *rx)
{
	if (rx == NULL)
		return;
	rte_hash_free(rx->hash);
	free(rx->src);
	free(rx);
}

/* Fills @key with the source address of @m; returns -1 if not IP. */
static int source_of(const struct rte_mbuf *m, struct sl_gen_rx_key *key)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t off = sizeof(struct rte_ether_hdr);
	const struct rte_ether_hdr *eth = (const void *)p;
	uint16_t type;

	if (len < off)
		return -1;
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
		if (len < off + sizeof(struct rte_vlan_hdr))
			return -1;
		type = rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(p + off))->eth_proto);
		off += sizeof(struct rte_vlan_hdr);
	}
	memset(key, 0, sizeof(*key));
	if (type == RTE_ETHER_TYPE_IPV4 &&
	    len >= off + sizeof(struct rte_ipv4_hdr)) {
		key->family = 4;
		memcpy(key->addr, p + off + offsetof(struct rte_ipv4_hdr, src_addr), 4);
		return 0;
	}
	if (type == RTE_ETHER_TYPE_IPV6 &&
	    len >= off + sizeof(struct rte_ipv6_hdr)) {
		key->family = 6;
		memcpy(key->addr, p + off + offsetof(struct rte_ipv6_hdr, src_addr), 16);
		return 0;
	}
	return -1;
}

/* Counts one received packet. */
static void count(struct sl_gen_rx *rx, const struct rte_mbuf *m)
{
	struct sl_gen_rx_key key;
	int32_t pos;

	rx->packets++;
	rx->bytes += rte_pktmbuf_pkt_len(m);
	if (source_of(m, &key) < 0) {
		rx->non_ip++;
		return;
	}
	pos = rte_hash_lookup(rx->hash, &key);
	if (pos < 0) {
		pos = rte_hash_add_key(rx->hash, &key);
		if (pos < 0) {
			rx->untracked++;
			return;
		}
		rx->src[pos].key = key;
	}
	rx->src[pos].packets++;
	rx->src[pos].bytes += rte_pktmbuf_pkt_len(m);
}

/* Receives one burst from the port and counts it. */
void sl_gen_rx_poll(struct sl_gen_rx *rx)
{
	struct rte_mbuf *pkts[SL_GEN_RX_BURST];
	uint16_t i, n;

	n = rte_eth_rx_burst(rx->port, 0, pkts, SL_GEN_RX_BURST);
	for (i = 0; i < n; i++)
		count(rx, pkts[i]);
	if (n)
		rte_pktmbuf_free_bulk(pkts, n);
}

/* Orders sources IPv4 first, then by address. */
static int src_cmp(const void *a, const void *b)
{
	const struct sl_gen_rx_src *x = *(struct sl_gen_rx_src *const *)a;
	const struct sl_gen_rx_src *y = *(struct sl_gen_rx_src *const *)b;

	if (x->key.family != y->key.family)
		return x->key.family - y->key.family;
	return memcmp(x->key.addr, y->key.addr, sizeof(x->key.addr));
}

/* Returns the "rx" object of the report: totals and sorted sources. */
json_t *sl_gen_rx_json(const struct sl_gen_rx *rx)
{
	const struct sl_gen_rx_src **list;
	char addr[INET6_ADDRSTRLEN];
	json_t *o, *srcs, *e;
	uint32_t i, n = 0;

	o = json_pack("{s:I, s:I, s:I, s:I}", "packets", (json_int_t)rx->packets,
		      "bytes", (json_int_t)rx->bytes,
		      "non_ip", (json_int_t)rx->non_ip,
		      "untracked", (json_int_t)rx->untracked);
	srcs = json_array();
	list = calloc(SL_GEN_RX_SOURCES, sizeof(*list));
	if (o == NULL || srcs == NULL || list == NULL)
		goto out;
	for (i = 0; i < SL_GEN_RX_SOURCES; i++)
		if (rx->src[i].packets)
			list[n++] = &rx->src[i];
	qsort(list, n, sizeof(*list), src_cmp);
	for (i = 0; i < n; i++) {
		inet_ntop(list[i]->key.family == 4 ? AF_INET : AF_INET6,
			  list[i]->key.addr, addr, sizeof(addr));
		e = json_pack("{s:s, s:I, s:I}", "src", addr,
			      "packets", (json_int_t)list[i]->packets,
			      "bytes", (json_int_t)list[i]->bytes);
		json_array_append_new(srcs, e);
	}
out:
	free(list);
	if (o != NULL)
		json_object_set_new(o, "sources", srcs);
	else
		json_decref(srcs);
	return o;
}
