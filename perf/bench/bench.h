/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-bench-worker: the dataplane's worker loop (dataplane/worker.h)
 * on two net_null ports, with the frames of many flows written into the
 * mbufs that net_null hands out, against a policy of many classes.
 *
 *   traffic.c - the policy text and the frame of every flow
 *   main.c    - options, EAL, ports and worker, timed runs, report
 */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include <stdint.h>
#include <string.h>

/*
 * Without --payload-size every frame is this long: Ethernet + IPv4 +
 * UDP/TCP + padding, no FCS. With it, this is the slot that holds a
 * flow's headers, and the class's payload follows them in the mbuf.
 */
#define SL_BENCH_FRAME		64
#define SL_BENCH_PAYLOAD_MAX	1400

/*
 * Up to this many classes, class i owns 10.i.0.0/16 and ten destination
 * ports (the layout the published figures were measured with); above
 * it, a /22 and four ports each, which fits SL_BENCH_CLASSES_MAX
 * classes under port 65535 (traffic.c).
 */
#define SL_BENCH_SPARSE_MAX	250
#define SL_BENCH_CLASSES_MAX	10000

/* How the classes' limits compare with what each flow offers. */
enum sl_bench_mix {
	SL_BENCH_CONFORM,	/* limits far above any flow's rate: all pass */
	SL_BENCH_DROPS,		/* a quarter of the classes held to 20 pps */
	SL_BENCH_SHAPE,		/* the same quarter shaped (10 ms) instead */
};

/*
 * The classes' key types: mixed, 60% flow, 30% src, 10% dst (each flow
 * is still its own key, which bounds the flows of a class: see
 * sl_bench_class_flows_max()); or flow for every class.
 */
enum sl_bench_key {
	SL_BENCH_KEY_MIXED,
	SL_BENCH_KEY_FLOW,
};

/*
 * payload classes in front of the classes (docs/decisions/0008): none;
 * idle, whose L3/L4 fields no packet has (the second classifier runs,
 * nothing is scanned); scan, with every class's fields and a pattern
 * no frame holds (every packet scanned, then its own class); match, a
 * pattern every frame holds (every packet scanned and taken by it).
 */
enum sl_bench_payload {
	SL_BENCH_PL_NONE,
	SL_BENCH_PL_IDLE,
	SL_BENCH_PL_SCAN,
	SL_BENCH_PL_MATCH,
};

/* What tells a flow apart, host byte order. */
struct sl_bench_tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

/* The flows of a run: frames in the order the ports hand them out. */
struct sl_bench_traffic {
	uint8_t *frames;	/* n_flows frames of SL_BENCH_FRAME bytes */
	uint8_t *payloads;	/* with payload_size: one per class */
	uint32_t payload_size;	/* L4 payload bytes; 0: 64-byte frames */
	uint32_t n_flows;
	uint32_t cursor;	/* the frame the next packet gets */
	uint64_t left;		/* packets until the run stops; 0: no limit */
};

/*
 * The policy of n_classes classes for mix, as YAML text (free() it), or
 * NULL when out of memory. Class i matches the flows that
 * sl_bench_traffic_build() gives it and no other. With payload classes
 * (pl) and n_patterns 0, class i is preceded by payload class i, with
 * the same limit; with n_patterns N, N payload classes come first, each
 * with a pattern of its own (HTTP request lines, paths, headers) and
 * L3/L4 fields that every flow of its protocol holds, so that every
 * packet is scanned against all N patterns.
 */
char *sl_bench_policy(uint32_t n_classes, enum sl_bench_mix mix,
		      enum sl_bench_key key, enum sl_bench_payload pl,
		      uint32_t n_patterns);

/* Accepts i < n_classes; flow j of class i in t (traffic.c's layout). */
void sl_bench_flow(uint32_t n_classes, uint32_t i, uint32_t j,
		   struct sl_bench_tuple *t);

/*
 * How many flows class i of n_classes can have, each its own bucket key
 * under key: with mixed, as many as its sources (src keys) and
 * destinations (dst keys) allow; with flow, as many distinct 5-tuples.
 */
uint32_t sl_bench_class_flows_max(uint32_t n_classes, enum sl_bench_key key);

/*
 * Accepts n_flows >= n_classes and payload_size 0 (64-byte frames) or
 * up to SL_BENCH_PAYLOAD_MAX; fills t with n_flows distinct flows
 * spread evenly over the classes, in a fixed pseudo-random order. With
 * n_patterns, the payload of class i holds what pattern i % n_patterns
 * matches under pl match, and what no pattern matches otherwise.
 * Returns 0 or -ENOMEM.
 */
int sl_bench_traffic_build(struct sl_bench_traffic *t, uint32_t n_classes,
			   uint32_t n_flows, uint32_t payload_size,
			   enum sl_bench_payload pl, uint32_t n_patterns,
			   int socket_id);
void sl_bench_traffic_free(struct sl_bench_traffic *t);

/*
 * Accepts a built t, k < t->n_flows and room for the frame at d; writes
 * frame k (headers, then its class's payload) and returns its length.
 * What the rx callback does for every packet.
 */
static inline uint16_t sl_bench_frame_write(const struct sl_bench_traffic *t,
					    uint32_t k, uint8_t *d)
{
	const uint8_t *f = t->frames + (size_t)k * SL_BENCH_FRAME;
	uint32_t size = t->payload_size;
	uint16_t cls;

	memcpy(d, f, SL_BENCH_FRAME);
	if (size == 0)
		return SL_BENCH_FRAME;
	/* The headers, then the payload of the flow's class. */
	memcpy(&cls, f + 62, sizeof(cls));
	memcpy(d + f[61], t->payloads + (size_t)cls * size, size);
	return (uint16_t)(f[61] + size);
}

/* Frames read ahead of the one being written: two bursts of 32. */
#define SL_BENCH_PREFETCH	64

struct rte_mbuf;

/*
 * Accepts a built t and n mbufs with room for its frames; writes the
 * next n frames of t into them (sets their lengths) and advances
 * t->cursor. The rx callback of sluice-bench-worker's stamp and sluice
 * modes, and of the qos_meter peer (perf/peers/qos_meter_frames.c), so
 * that both see the same flows in the same order at the same cost.
 */
void sl_bench_stamp(struct sl_bench_traffic *t, struct rte_mbuf **pkts,
		    uint16_t n);

#endif /* SL_BENCH_H */
