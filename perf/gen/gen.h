/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-gen: a DPDK packet generator for load-testing sluice.
 *
 * The modules and the structs they share:
 *   opts.c   - command line -> struct sl_gen_cfg (pure C, unit-tested)
 *   flows.c  - struct sl_gen_spec -> frame template + per-flow patches
 *   pace.c   - TSC pacing arithmetic (pure C, unit-tested)
 *   tx.c     - the paced tx loop over the port
 *   rx.c     - optional per-source rx counters (--rx)
 *   port.c   - port and mempool setup
 *   report.c - JSON report on stdout, human summary on stderr
 *   main.c   - EAL, setup and teardown
 */
#ifndef SL_GEN_H
#define SL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#define SL_GEN_MAX_GROUPS	16
/* A flow costs 24 bytes of patch data: 4M flows = 96 MiB per group. */
#define SL_GEN_MAX_FLOWS	(1u << 22)
/* --flows defaults to one flow per source address, up to this many. */
#define SL_GEN_DEFAULT_FLOWS_MAX 65536u
#define SL_GEN_MIN_SIZE		60	/* Ethernet minimum without FCS */
#define SL_GEN_MAX_SIZE		9000
#define SL_GEN_MAX_BURST	512
#define SL_GEN_DEFAULT_BURST	32
/* A slow tx may catch up at most this many bursts behind schedule. */
#define SL_GEN_CATCHUP_BURSTS	4
#define SL_GEN_NAME_LEN		32
/*
 * --stamp: the last SL_GEN_STAMP_LEN bytes of every frame are this magic
 * and the CLOCK_REALTIME ns at which the packet was handed to the port,
 * big-endian, with the L4 checksum fixed (tests/tools/sink.c reads it).
 */
#define SL_GEN_STAMP_MAGIC	"sluiceTS"
#define SL_GEN_STAMP_LEN	16

enum sl_gen_pattern {
	SL_GEN_SEQ,		/* flows in index order, round robin */
	SL_GEN_RANDOM,		/* a uniformly random flow per packet */
};

/* An inclusive range of IPv4 or IPv6 addresses, network byte order. */
struct sl_gen_addr_range {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t first[16];	/* IPv4 uses the first 4 bytes */
	uint8_t last[16];
	uint64_t count;		/* addresses in the range, saturates */
};

/* An inclusive range of L4 ports. */
struct sl_gen_port_range {
	uint16_t first;
	uint16_t last;
};

/* A rate as given on the command line; 0 = as fast as possible. */
struct sl_gen_rate {
	double value;
	bool bits;		/* frame bits per second, else packets */
};

/* One flow group, as the options describe it (see --group). */
struct sl_gen_spec {
	char name[SL_GEN_NAME_LEN];
	struct sl_gen_addr_range src;
	struct sl_gen_addr_range dst;	/* a single address */
	uint8_t proto;			/* IPPROTO_* */
	struct sl_gen_port_range sport;	/* ICMP: the echo identifier */
	struct sl_gen_port_range dport;	/* ICMP: the echo sequence */
	uint8_t tcp_flags;
	uint8_t dscp;
	uint32_t size;			/* frame bytes without FCS */
	bool size_set;			/* else the smallest that fits */
	uint8_t payload[SL_GEN_MAX_SIZE];
	uint32_t payload_len;
	const char *payload_text;	/* as given, for the report */
	uint32_t flows;			/* 0 = one per source address */
	struct sl_gen_rate rate;
	double pps;			/* rate in packets/s, resolved */
	uint64_t count;			/* packets; 0 = no limit */
	int vlan;			/* 802.1Q VLAN ID, -1 = untagged */
	struct rte_ether_addr src_mac;
	bool src_mac_set;		/* else the port's own address */
	struct rte_ether_addr dst_mac;
	enum sl_gen_pattern pattern;
	double on_s;			/* on/off cycle; both 0 = steady */
	double off_s;
};

/* The whole run, as the options describe it. */
struct sl_gen_cfg {
	uint16_t port;
	uint16_t burst;
	double duration_s;		/* 0 = until every --count or a signal */
	bool copy;			/* copy templates, never share mbufs */
	bool rx;			/* count what arrives, per source */
	double rx_wait_s;		/* keep counting this long after tx */
	bool quiet;			/* no human summary on stderr */
	bool stamp;			/* send times in the frames (copy mode) */
	unsigned int nb_groups;
	struct sl_gen_spec group[SL_GEN_MAX_GROUPS];
};

/* opts.c */
void sl_gen_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *sl_gen_last_error(void);
void sl_gen_usage(FILE *f);
void sl_gen_spec_init(struct sl_gen_spec *s);
void sl_gen_cfg_init(struct sl_gen_cfg *cfg);
int sl_gen_parse_rate(const char *str, struct sl_gen_rate *rate);
int sl_gen_parse_addr_range(const char *str, struct sl_gen_addr_range *r);
int sl_gen_parse_port_range(const char *str, struct sl_gen_port_range *r);
int sl_gen_parse_payload(const char *str, uint8_t *buf, size_t size,
			 uint32_t *len);
int sl_gen_parse_tcp_flags(const char *str, uint8_t *flags);
int sl_gen_parse_proto(const char *str, uint8_t *proto);
int sl_gen_opts_parse(int argc, char **argv, struct sl_gen_cfg *cfg);
int sl_gen_spec_finalize(struct sl_gen_spec *s);
const char *sl_gen_proto_name(uint8_t proto, char *buf, size_t len);
const char *sl_gen_tcp_flags_name(uint8_t flags, char *buf, size_t len);
void sl_gen_addr_add(const uint8_t *base, unsigned int len, uint64_t n,
		     uint8_t *out);

/* flows.c */

/* The fields of one flow that differ from its group's template. */
struct sl_gen_flow {
	uint8_t src[16];
	rte_be16_t sport;		/* or ICMP identifier */
	rte_be16_t dport;		/* or ICMP sequence number */
	rte_be16_t ip_cksum;		/* IPv4 only */
	rte_be16_t l4_cksum;
};

/* A group's frame and its flows; offsets of 0 mean "not patched". */
struct sl_gen_tmpl {
	uint8_t *frame;			/* flow fields and checksums zero */
	uint32_t size;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t src_off;
	uint8_t addr_len;
	uint16_t ports_off;
	uint16_t ip_cksum_off;
	uint16_t l4_cksum_off;
	uint32_t nb_flows;
	struct sl_gen_flow *flow;
};

uint32_t sl_gen_hdr_len(const struct sl_gen_spec *s);
uint64_t sl_gen_max_flows(const struct sl_gen_spec *s);
int sl_gen_tmpl_build(const struct sl_gen_spec *s,
		      const struct rte_ether_addr *src_mac,
		      struct sl_gen_tmpl *t);
void sl_gen_tmpl_free(struct sl_gen_tmpl *t);

/* Writes flow @i of @t as a whole frame of t->size bytes into @buf. */
static inline void
sl_gen_tmpl_write(const struct sl_gen_tmpl *t, uint32_t i, uint8_t *buf)
{
	const struct sl_gen_flow *f = &t->flow[i];

	memcpy(buf, t->frame, t->size);
	memcpy(buf + t->src_off, f->src, t->addr_len);
	if (t->ports_off) {
		memcpy(buf + t->ports_off, &f->sport, 2);
		memcpy(buf + t->ports_off + 2, &f->dport, 2);
	}
	if (t->ip_cksum_off)
		memcpy(buf + t->ip_cksum_off, &f->ip_cksum, 2);
	if (t->l4_cksum_off)
		memcpy(buf + t->l4_cksum_off, &f->l4_cksum, 2);
}

/* pace.c */

/* The schedule of one paced stream: packet n is due at n / rate. */
struct sl_gen_pacer {
	double pkts_per_tsc;		/* 0 = as fast as possible */
	uint64_t on_tsc;		/* 0 = always on */
	uint64_t period_tsc;		/* on + off */
	uint64_t limit;			/* UINT64_MAX = no --count */
	uint32_t cap;			/* most packets sent behind schedule */
	uint64_t sched;			/* packets handed out so far */
	uint64_t lag;			/* packets forgiven when late */
	uint64_t late_events;
};

void sl_gen_pacer_init(struct sl_gen_pacer *p, double pps, uint64_t hz,
		       double on_s, double off_s, uint64_t count, uint32_t cap);
uint32_t sl_gen_pacer_take(struct sl_gen_pacer *p, uint64_t elapsed,
			   uint32_t max);
void sl_gen_pacer_untake(struct sl_gen_pacer *p, uint32_t n);
bool sl_gen_pacer_finished(const struct sl_gen_pacer *p, uint64_t elapsed);

/* tx.c, rx.c, port.c: need the EAL */

struct json_t;
struct rte_mbuf;
struct rte_mempool;
struct sl_gen_rx;

/* What one group sent. */
struct sl_gen_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t tx_failed;		/* given up after SL_GEN_TX_RETRIES */
	uint64_t alloc_failed;		/* bursts delayed by an empty pool */
};

/* One flow group at run time. */
struct sl_gen_stream {
	const struct sl_gen_spec *spec;
	struct sl_gen_tmpl tmpl;
	struct rte_mbuf **prebuilt;	/* one per flow, or NULL: copy */
	struct sl_gen_pacer pacer;
	uint32_t next_flow;
	struct sl_gen_stats stats;
	uint64_t elapsed_tsc;		/* when it finished, or the run's */
};

/* Everything the tx loop works on. */
struct sl_gen_run {
	uint16_t port;
	uint16_t burst;
	bool stamp;			/* --stamp */
	struct rte_mempool *pool;
	uint64_t hz;			/* TSC cycles per second, measured */
	uint64_t duration_tsc;		/* 0 = no time limit */
	unsigned int nb_streams;
	struct sl_gen_stream stream[SL_GEN_MAX_GROUPS];
	struct sl_gen_rx *rx;		/* NULL without --rx */
	uint64_t rx_wait_tsc;
	uint64_t elapsed_tsc;		/* from the first tx to the end */
	bool interrupted;
};

extern volatile int sl_gen_quit;

uint64_t sl_gen_tsc_hz(void);
int sl_gen_prebuild(struct sl_gen_stream *s, struct rte_mempool *pool);
void sl_gen_prebuilt_free(struct sl_gen_stream *s);
void sl_gen_tx_run(struct sl_gen_run *run);

struct sl_gen_rx *sl_gen_rx_create(uint16_t port);
void sl_gen_rx_poll(struct sl_gen_rx *rx);
void sl_gen_rx_free(struct sl_gen_rx *rx);
struct json_t *sl_gen_rx_json(const struct sl_gen_rx *rx);

struct rte_mempool *sl_gen_pool_create(uint32_t nb_mbufs, uint32_t max_size);
int sl_gen_port_start(uint16_t port, struct rte_mempool *pool,
		      uint32_t max_size, bool rx);
void sl_gen_port_stop(uint16_t port);

/* report.c */
void sl_gen_report(const struct sl_gen_cfg *cfg, const struct sl_gen_run *run);
void sl_gen_report_error(const char *msg);

#endif /* SL_GEN_H */
