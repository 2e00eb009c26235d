/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmark's policy and flows. Class i matches protocol UDP (even
 * i) or TCP (odd i), a source prefix and a range of destination ports
 * of its own; flow j of class i has a source in that prefix, a port in
 * that range, source port 1024+j%50000 and payload "POST /cIII" (i%1000
 * in three digits). Two layouts:
 *
 *   sparse (up to SL_BENCH_SPARSE_MAX classes, the published figures):
 *     class i: source 10.i.0.0/16, destination ports 1000+10i..1009+10i;
 *     flow j: 10.i.(j/256%256).(j%256) -> 198.18.(j/256%256).(j%256),
 *     destination port 1000+10i+j%10.
 *   dense (more classes, up to SL_BENCH_CLASSES_MAX):
 *     class i: source 10.(i>>6).((i&63)<<2).0/22, destination ports
 *     1000+4i..1003+4i (40999 at most);
 *     flow j: that /22's address j%1024 -> 198.18.0.0 + j%131072
 *     (198.18.0.0/15), destination port 1000+4i+j%4.
 *
 * Prefixes and port ranges are disjoint, so a flow matches its own
 * class and no other. Keys: with --key mixed (60% of the classes key
 * on flow, 30% on src, 10% on dst) every flow is its own bucket key as
 * long as its class's sources and destinations do not repeat: 65536
 * flows a class (sparse), 1024 (dense). With --key flow only the
 * 5-tuple must differ: j mod 65536 (addresses) and j mod 50000 (source
 * port) repeat together only every lcm = 204,800,000 flows (sparse);
 * j mod 131072 and j mod 50000 every 409,600,000 (dense).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "bench.h"

#define PROTO_UDP	17
#define PROTO_TCP	6

/*
 * An IPv4 address in host order. DPDK 22.11's RTE_IPV4 shifts ints, so
 * a first byte over 127 (198.18.x.y) is undefined behaviour there.
 */
static inline uint32_t ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return (a & 0xff) << 24 | (b & 0xff) << 16 | (c & 0xff) << 8 | (d & 0xff);
}

/* UDP for even classes, TCP for odd ones. */
static uint8_t class_proto(uint32_t i)
{
	return i % 2 == 0 ? PROTO_UDP : PROTO_TCP;
}

/* Whether n classes take the dense layout. */
static bool layout_dense(uint32_t n)
{
	return n > SL_BENCH_SPARSE_MAX;
}

/* The first source address of class i of n, host order. */
static uint32_t class_src(uint32_t n, uint32_t i)
{
	if (layout_dense(n))
		return ipv4(10, i >> 6, (i & 63) << 2, 0);
	return ipv4(10, i, 0, 0);
}

/* Accepts a class count; the source prefix length of each class. */
static uint32_t class_src_len(uint32_t n)
{
	return layout_dense(n) ? 22 : 16;
}

/* Accepts a class count; destination ports of each class. */
static uint32_t class_dports(uint32_t n)
{
	return layout_dense(n) ? 4 : 10;
}

/* The first destination port of class i of n. */
static uint32_t class_dport(uint32_t n, uint32_t i)
{
	return 1000 + class_dports(n) * i;
}

/* Writes class i's source prefix ("10.i.0.0/16") at s. */
static void class_prefix(char *s, size_t cap, uint32_t n, uint32_t i)
{
	uint32_t a = class_src(n, i);

	snprintf(s, cap, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, class_src_len(n));
}

/* Mostly 5-tuple keys, some per source, a few per destination. */
static const char *class_key(uint32_t i, enum sl_bench_key key)
{
	if (key == SL_BENCH_KEY_FLOW || i % 10 < 6)
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
static int payload_class(char *s, size_t cap, uint32_t n, uint32_t i,
			 enum sl_bench_mix mix, enum sl_bench_key key,
			 enum sl_bench_payload pl)
{
	const char *verb = pl == SL_BENCH_PL_SCAN ? "GET" : "POST";
	uint32_t lo = class_dport(n, i), hi = lo + class_dports(n) - 1;
	char src[24];

	if (pl == SL_BENCH_PL_IDLE)
		lo = hi = 1;		/* no frame goes to port 1 */
	class_prefix(src, sizeof(src), n, i);
	return snprintf(s, cap,
			"  - name: p%u\n"
			"    match: { proto: %s, src: %s, dport: %u-%u, payload: '^%s /c%03u' }\n"
			"    limit: { key: %s, %s }\n"
			"    exceed: %s\n",
			i, class_proto(i) == PROTO_UDP ? "udp" : "tcp", src, lo, hi,
			verb, i % 1000, class_key(i, key), class_limit(i, mix),
			class_exceed_for(i, mix));
}

/*
 * Pattern k of --patterns: four kinds of what an HTTP policy looks for,
 * two anchored at the request line and two anywhere in the payload (so
 * a miss scans to the end), each with a number of its own and a few
 * classes, alternations and repeats.
 */
static void pattern_of(char *s, size_t cap, uint32_t k)
{
	static const char *const re[] = {
		"^(GET|POST) /api/v[12]/svc%u/[a-z]+\\b",
		"^GET /static/a%u/[0-9a-f]{8}\\.(js|css)",
		"\\r\\nHost: h%u\\.example\\.(com|net)\\r\\n",
		"[?&]tok%u=[A-Za-z0-9]{16}",
	};

	snprintf(s, cap, re[k % 4], k);
}

/* What pattern k matches, at the start of a payload (at most 64 bytes). */
static void pattern_hit(char *s, size_t cap, uint32_t k)
{
	static const char *const hit[] = {
		"POST /api/v1/svc%u/orders HTTP/1.1\r\n",
		"GET /static/a%u/0badc0de.js HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nHost: h%u.example.com\r\n",
		"GET /q?tok%u=AbCdEfGh12345678 HTTP/1.1\r\n",
	};

	snprintf(s, cap, hit[k % 4], k);
}

/*
 * Payload class k of --patterns: every flow of its protocol (UDP for
 * even k, TCP for odd, as the classes), keyed per flow, as the classes
 * send many classes' flows to one payload class and only the 5-tuple
 * tells them apart.
 */
static int pattern_class(char *s, size_t cap, uint32_t k, uint32_t n_classes,
			 enum sl_bench_mix mix, enum sl_bench_payload pl)
{
	uint32_t i = k % n_classes;
	char re[96], ports[16] = "1";

	pattern_of(re, sizeof(re), k);
	/* Every class's ports; 1000-3499 as published for the sparse layout. */
	if (pl != SL_BENCH_PL_IDLE)
		snprintf(ports, sizeof(ports), "1000-%u", layout_dense(n_classes) ?
			 class_dport(n_classes, n_classes) - 1 : 3499);
	return snprintf(s, cap,
			"  - name: pat%u\n"
			"    match: { proto: %s, src: 10.0.0.0/8, dport: %s, payload: '%s' }\n"
			"    limit: { key: flow, %s }\n"
			"    exceed: %s\n",
			k, k % 2 == 0 ? "udp" : "tcp", ports, re,
			class_limit(i, mix), class_exceed_for(i, mix));
}

/* See bench.h; each class (and payload class) takes under 256 bytes of text. */
char *sl_bench_policy(uint32_t n_classes, enum sl_bench_mix mix,
		      enum sl_bench_key key, enum sl_bench_payload pl,
		      uint32_t n_patterns)
{
	size_t cap = 256 + ((size_t)n_classes + n_patterns) * 512, len;
	char *s = malloc(cap), src[24];

	if (s == NULL)
		return NULL;
	len = (size_t)snprintf(s, cap, "version: 1\ndefault: pass\nclasses:\n");
	for (uint32_t k = 0; pl != SL_BENCH_PL_NONE && k < n_patterns && len < cap; k++)
		len += (size_t)pattern_class(s + len, cap - len, k, n_classes, mix, pl);
	for (uint32_t i = 0; i < n_classes && len < cap; i++) {
		uint32_t lo = class_dport(n_classes, i);

		if (pl != SL_BENCH_PL_NONE && n_patterns == 0)
			len += (size_t)payload_class(s + len, cap - len, n_classes,
						     i, mix, key, pl);
		if (len >= cap)
			break;
		class_prefix(src, sizeof(src), n_classes, i);
		len += (size_t)snprintf(s + len, cap - len,
			"  - name: c%u\n"
			"    match: { proto: %s, src: %s, dport: %u-%u }\n"
			"    limit: { key: %s, %s }\n"
			"    exceed: %s\n",
			i, class_proto(i) == PROTO_UDP ? "udp" : "tcp", src,
			lo, lo + class_dports(n_classes) - 1, class_key(i, key),
			class_limit(i, mix), class_exceed_for(i, mix));
	}
	if (len >= cap) {	/* cannot happen: 256 bytes a class is ample */
		free(s);
		return NULL;
	}
	return s;
}

/* See bench.h and the layouts at the top. */
void sl_bench_flow(uint32_t n_classes, uint32_t i, uint32_t j,
		   struct sl_bench_tuple *t)
{
	t->proto = class_proto(i);
	t->sport = (uint16_t)(1024 + j % 50000);
	t->dport = (uint16_t)(class_dport(n_classes, i) + j % class_dports(n_classes));
	if (layout_dense(n_classes)) {
		t->src = class_src(n_classes, i) + j % 1024;
		t->dst = ipv4(198, 18, 0, 0) + j % 131072;
	} else {
		t->src = ipv4(10, i, (j >> 8) & 0xff, j & 0xff);
		t->dst = ipv4(198, 18, (j >> 8) & 0xff, j & 0xff);
	}
}

/* See bench.h: the repeat periods of the layouts at the top. */
uint32_t sl_bench_class_flows_max(uint32_t n_classes, enum sl_bench_key key)
{
	if (key == SL_BENCH_KEY_FLOW)
		return layout_dense(n_classes) ? 409600000u : 204800000u;
	return layout_dense(n_classes) ? 1024 : 65536;
}

/*
 * Write the frame of flow j of class i of n at f: with payload_size,
 * only its headers, its header length in byte 61 and i in bytes 62-63.
 */
static void frame_build(uint8_t *f, uint32_t n, uint32_t i, uint32_t j,
			uint32_t payload_size)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct sl_bench_tuple tu;
	uint8_t proto;
	uint16_t sport, dport;
	uint16_t ip_len = SL_BENCH_FRAME - sizeof(*eth);
	char buf[16], *payload;

	sl_bench_flow(n, i, j, &tu);
	proto = tu.proto;
	sport = tu.sport;
	dport = tu.dport;
	if (payload_size != 0)
		ip_len = (uint16_t)(sizeof(*ip) + payload_size +
				    (proto == PROTO_UDP ? sizeof(struct rte_udp_hdr) :
							  sizeof(struct rte_tcp_hdr)));

	memset(f, 0, SL_BENCH_FRAME);
	/*
	 * The last byte of the destination MAC, byte 5 of the frame, is
	 * zero: DPDK's qos_meter sample, given these frames as a peer
	 * (perf/peers/qos_meter_frames.c), reads it as the packet's input
	 * colour, and zero is green, the colour that it meters and forwards.
	 */
	memcpy(eth->dst_addr.addr_bytes, "\x02\x00\x00\x00\x02\x00", 6);
	memcpy(eth->src_addr.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)j);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(tu.src);
	ip->dst_addr = rte_cpu_to_be_32(tu.dst);
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
	if (payload_size != 0) {
		f[61] = (uint8_t)((uint8_t *)payload - f);
		memcpy(f + 62, &(uint16_t){ (uint16_t)i }, 2);
		return;
	}
	/* 10 bytes, what a 64-byte TCP frame holds: for --payload. */
	snprintf(buf, sizeof(buf), "POST /c%03u", i % 1000);
	memcpy(payload, buf, 10);
}

/*
 * Write the payload_size bytes of class i's payload at s: a request
 * line (what pattern i % n_patterns matches, under match; else one no
 * pattern matches; without n_patterns, "POST /cIII" as 64-byte frames
 * carry), then headers and a cookie of letters and digits.
 */
static void payload_build(char *s, uint32_t payload_size, uint32_t i,
			  enum sl_bench_payload pl, uint32_t n_patterns)
{
	static const char hdrs[] =
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n"
		"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
		"Connection: keep-alive\r\nCookie: session=";
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ i;
	char head[2 * SL_BENCH_PAYLOAD_MAX];
	size_t n;

	if (n_patterns == 0)
		snprintf(head, sizeof(head), "POST /c%03u HTTP/1.1\r\n", i % 1000);
	else if (pl == SL_BENCH_PL_MATCH)
		pattern_hit(head, sizeof(head), i % n_patterns);
	else
		snprintf(head, sizeof(head), "GET /index.html HTTP/1.1\r\nHost: www.example.org\r\n");
	n = strlen(head);
	memcpy(head + n, hdrs, sizeof(hdrs) - 1);
	n += sizeof(hdrs) - 1;
	while (n < payload_size) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		head[n++] = alnum[x % (sizeof(alnum) - 1)];
	}
	memcpy(s, head, payload_size);
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
			   uint32_t n_flows, uint32_t payload_size,
			   enum sl_bench_payload pl, uint32_t n_patterns,
			   int socket_id)
{
	uint32_t *order;
	uint64_t seed = 0x5eed5eed5eedULL;

	memset(t, 0, sizeof(*t));
	order = malloc((size_t)n_flows * sizeof(*order));
	t->frames = rte_malloc_socket("sl_bench_frames",
				      (size_t)n_flows * SL_BENCH_FRAME,
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (payload_size != 0)
		t->payloads = rte_malloc_socket("sl_bench_payloads",
						(size_t)n_classes * payload_size,
						RTE_CACHE_LINE_SIZE, socket_id);
	if (order == NULL || t->frames == NULL ||
	    (payload_size != 0 && t->payloads == NULL)) {
		free(order);
		sl_bench_traffic_free(t);
		return -ENOMEM;
	}
	t->payload_size = payload_size;
	for (uint32_t i = 0; payload_size != 0 && i < n_classes; i++)
		payload_build((char *)t->payloads + (size_t)i * payload_size,
			      payload_size, i, pl, n_patterns);
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
		frame_build(t->frames + (size_t)k * SL_BENCH_FRAME, n_classes,
			    order[k] % n_classes, order[k] / n_classes,
			    payload_size);
	free(order);
	t->n_flows = n_flows;
	return 0;
}

/* Accepts a built or zeroed t. */
void sl_bench_traffic_free(struct sl_bench_traffic *t)
{
	rte_free(t->frames);
	rte_free(t->payloads);
	t->frames = NULL;
	t->payloads = NULL;
}

/* See bench.h. */
void sl_bench_stamp(struct sl_bench_traffic *t, struct rte_mbuf **pkts,
		    uint16_t n)
{
	uint32_t cur = t->cursor;

	for (uint16_t i = 0; i < n; i++) {
		uint32_t ahead = cur + SL_BENCH_PREFETCH;

		/*
		 * The hardware prefetcher loses the sequential stream under
		 * the engine's random accesses: fetch a few bursts ahead.
		 */
		if (ahead >= t->n_flows)
			ahead -= t->n_flows;
		rte_prefetch0(t->frames + (size_t)ahead * SL_BENCH_FRAME);
		uint16_t len = sl_bench_frame_write(t, cur,
				rte_pktmbuf_mtod(pkts[i], uint8_t *));

		pkts[i]->data_len = len;
		pkts[i]->pkt_len = len;
		if (++cur == t->n_flows)
			cur = 0;
	}
	t->cursor = cur;
}
