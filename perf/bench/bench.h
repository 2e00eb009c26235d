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

/*
 * Without --payload-size every frame is this long: Ethernet + IPv4 +
 * UDP/TCP + padding, no FCS. With it, this is the slot that holds a
 * flow's headers, and the class's payload follows them in the mbuf.
 */
#define SL_BENCH_FRAME		64
#define SL_BENCH_PAYLOAD_MAX	1400

/* How the classes' limits compare with what each flow offers. */
enum sl_bench_mix {
	SL_BENCH_CONFORM,	/* limits far above any flow's rate: all pass */
	SL_BENCH_DROPS,		/* a quarter of the classes held to 20 pps */
	SL_BENCH_SHAPE,		/* the same quarter shaped (10 ms) instead */
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
		      enum sl_bench_payload pl, uint32_t n_patterns);

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

#endif /* SL_BENCH_H */
