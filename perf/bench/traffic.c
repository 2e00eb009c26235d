/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmark's policy and flows. Class i matches protocol UDP (even
 * i) or TCP (odd i), source 10.i.0.0/16 and destination ports
 * 1000+10i..1009+10i; its j-th flow comes from 10.i.(j/256).(j%256) to
 * 198.18.(j/256).(j%256), source port 1024+j%50000, destination port
 * 1000+10i+j%10, payload "POST /cIII" (i in three digits). Every flow
 * is its own bucket key whatever the class's key type (flow, src or
 * dst), so the flow table holds one key per flow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "bench.h"

#define PROTO_UDP	17
#define PROTO_TCP	6

/* UDP for even classes, TCP for odd ones. */
static uint8_t class_proto(uint32_t i)
{
	return i % 2 == 0 ? PROTO_UDP : PROTO_TCP;
}

/* Mostly 5-tuple keys, some per source, a few per destination. */
static const char *class_key(uint32_t i)
{
	if (i % 10 < 6)
		return "flow";
	return i % 10 < 9 ? "src" : "dst";
}

/* Drop, mark or monitor, in turn. */
static const char *class_exceed(uint32_t i)
{
	static const char *const act[] = { "drop", "{ mark: cs1 }", "monitor" };

	return act[i % 3];
}

/* Whether class i is held below what its flows offer. */
static bool class_held(uint32_t i, enum sl_bench_mix mix)
{
	return mix != SL_BENCH_CONFORM && i % 4 == 3;
}

/* The exceed action of class i: held classes shape under the shape mix. */
static const char *class_exceed_for(uint32_t i, enum sl_bench_mix mix)
{
	if (mix == SL_BENCH_SHAPE && class_held(i, mix))
		return "{ shape: 10ms }";
	return class_exceed(i);
}

/* The limit of class i: far above a flow's rate, or 20 pps. */
static const char *class_limit(uint32_t i, enum sl_bench_mix mix)
{
	if (class_held(i, mix))
		return "rate: 20pps, burst: 20";
	/* A third of the classes meter bits, to run that path too. */
	return i % 3 == 2 ? "rate: 1Gbit, burst: 1MB" :
			    "rate: 100kpps, burst: 10000";
}

/*
 * The payload class in front of class i (bench.h). The frames of class
 * i carry "POST /cIII" (III: i in three digits) as their payload; each
 * payload class has a pattern of its own, so a scan finds one class.
 */
static int payload_class(char *s, size_t cap, uint32_t i,
			 enum sl_bench_mix mix, enum sl_bench_payload pl)
{
	const char *verb = pl == SL_BENCH_PL_SCAN ? "GET" : "POST";
	uint32_t lo = 1000 + 10 * i, hi = 1009 + 10 * i;

	if (pl == SL_BENCH_PL_IDLE)
		lo = hi = 1;		/* no frame goes to port 1 */
	return snprintf(s, cap,
			"  - name: p%u\n"
			"    match: { proto: %s, src: 10.%u.0.0/16, dport: %u-%u, payload: '^%s /c%03u' }\n"
			"    limit: { key: %s, %s }\n"
			"    exceed: %s\n",
			i, class_proto(i) == PROTO_UDP ? "udp" : "tcp", i, lo, hi,
			verb, i % 1000, class_key(i), class_limit(i, mix),
			class_exceed_for(i, mix));
}

/* See bench.h; each class (and payload class) takes under 256 bytes of text. */
char *sl_bench_policy(uint32_t n_classes, enum sl_bench_mix mix,
		      enum sl_bench_payload pl)
{
	size_t cap = 256 + (size_t)n_classes * 512, len;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	len = (size_t)snprintf(s, cap, "version: 1\ndefault: pass\nclasses:\n");
	for (uint32_t i = 0; i < n_classes && len < cap; i++) {
		if (pl != SL_BENCH_PL_NONE)
			len += (size_t)payload_class(s + len, cap - len, i, mix, pl);
		if (len >= cap)
			break;
		len += (size_t)snprintf(s + len, cap - len,
			"  - name: c%u\n"
			"    match: { proto: %s, src: 10.%u.0.0/16, dport: %u-%u }\n"
			"    limit: { key: %s, %s }\n"
			"    exceed: %s\n",
			i, class_proto(i) == PROTO_UDP ? "udp" : "tcp", i,
			1000 + 10 * i, 1009 + 10 * i, class_key(i),
			class_limit(i, mix), class_exceed_for(i, mix));
	}
	if (len >= cap) {	/* cannot happen: 256 bytes a class is ample */
		free(s);
		return NULL;
	}
	return s;
}

/* Write the frame of flow j of class i at f. */
static void frame_build(uint8_t *f, uint32_t i, uint32_t j)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint8_t proto = class_proto(i);
	uint16_t sport = (uint16_t)(1024 + j % 50000);
	uint16_t dport = (uint16_t)(1000 + 10 * i + j % 10);
	uint16_t ip_len = SL_BENCH_FRAME - sizeof(*eth);
	char buf[16], *payload;

	memset(f, 0, SL_BENCH_FRAME);
	memcpy(eth->dst_addr.addr_bytes, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(eth->src_addr.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)j);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, i, (j >> 8) & 0xff, j & 0xff));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, (j >> 8) & 0xff, j & 0xff));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (proto == PROTO_UDP) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = rte_cpu_to_be_16(dport);
		udp->dgram_len = rte_cpu_to_be_16(ip_len - sizeof(*ip));
		payload = (char *)(udp + 1);
	} else {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

		tcp->src_port = rte_cpu_to_be_16(sport);
		tcp->dst_port = rte_cpu_to_be_16(dport);
		tcp->sent_seq = rte_cpu_to_be_32(1);
		tcp->recv_ack = rte_cpu_to_be_32(1);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = RTE_TCP_ACK_FLAG;
		tcp->rx_win = rte_cpu_to_be_16(65535);
		payload = (char *)(tcp + 1);
	}
	/* 10 bytes, what a 64-byte TCP frame holds: for --payload. */
	snprintf(buf, sizeof(buf), "POST /c%03u", i % 1000);
	memcpy(payload, buf, 10);
}

/* xorshift64: a fixed, portable order, the same in every run. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* See bench.h. */
int sl_bench_traffic_build(struct sl_bench_traffic *t, uint32_t n_classes,
			   uint32_t n_flows, int socket_id)
{
	uint32_t *order;
	uint64_t seed = 0x5eed5eed5eedULL;

	memset(t, 0, sizeof(*t));
	order = malloc((size_t)n_flows * sizeof(*order));
	t->frames = rte_malloc_socket("sl_bench_frames",
				      (size_t)n_flows * SL_BENCH_FRAME,
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (order == NULL || t->frames == NULL) {
		free(order);
		rte_free(t->frames);
		t->frames = NULL;
		return -ENOMEM;
	}
	/*
	 * Shuffled, so that the engine meets flows in no particular order,
	 * but stored in the order they are sent, so that writing a frame
	 * into an mbuf reads memory sequentially and costs little.
	 */
	for (uint32_t f = 0; f < n_flows; f++)
		order[f] = f;
	for (uint32_t f = n_flows - 1; f > 0; f--) {
		uint32_t r = (uint32_t)(next_rand(&seed) % (f + 1));
		uint32_t tmp = order[f];

		order[f] = order[r];
		order[r] = tmp;
	}
	for (uint32_t k = 0; k < n_flows; k++)
		frame_build(t->frames + (size_t)k * SL_BENCH_FRAME,
			    order[k] % n_classes, order[k] / n_classes);
	free(order);
	t->n_flows = n_flows;
	return 0;
}

/* Accepts a built or zeroed t. */
void sl_bench_traffic_free(struct sl_bench_traffic *t)
{
	rte_free(t->frames);
	t->frames = NULL;
}
