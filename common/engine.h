/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policing engine: parse -> classify -> bucket key -> meter -> act,
 * for a burst of packets at one point in time. The dataplane workers and
 * offline replay run exactly this code, so a capture replayed against a
 * policy gives the verdicts the dataplane would.
 *
 * A ruleset is a compiled, immutable policy; many lcores read one at a
 * time and a new one is published with RCU. An engine is one lcore's
 * private state: its flow table, overflow buckets and counters.
 *
 * Classes live in slots that outlast rulesets: a class that keeps its
 * name across a policy change keeps its slot and generation, so its
 * buckets and counters carry on. A slot freed by a removed class is
 * reused with a new generation; buckets of the old generation are
 * reset when next seen, and counters are zeroed by the control side
 * once no worker can write them (after the RCU grace period).
 *
 * A class ceiling is the one state engines share: an array of
 * struct sl_ceil by slot that every engine of a dataplane meters
 * against (sl_engine_share_ceilings()); an engine alone has its own.
 * It is reset with the slot's counters.
 */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdint.h>

#include "ceiling.h"
#include "classify.h"
#include "flowtab.h"
#include "payload.h"
#include "pkt.h"
#include "policy.h"
#include "tbucket.h"
#include "topk.h"

#define SL_ENGINE_BURST_MAX	SL_CLASSIFY_BURST_MAX

/* Flow entries idle at least this long may be expired (ms)... */
#define SL_FLOW_IDLE_MIN_MS	1000u
/* ...and entries idle this long always are (ms), whatever their class. */
#define SL_FLOW_IDLE_MAX_MS	300000u

/* Class slots: two full policies can be alive at once during a swap. */
#define SL_SLOTS_MAX		(2 * SL_CLASSES_MAX)

/* What happened to a packet; indexes counters. */
enum sl_outcome {
	SL_OUT_PASSED = 0,	/* forwarded unchanged */
	SL_OUT_DROPPED,		/* not forwarded */
	SL_OUT_MARKED,		/* exceeded, DSCP rewritten, forwarded */
	SL_OUT_MONITORED,	/* exceeded, forwarded under monitor */
	SL_OUT_DELAYED,		/* exceeded, forwarded late by shaping */
	SL_OUT__COUNT
};

extern const char *const sl_outcome_names[SL_OUT__COUNT];

/* Verdict per packet for the caller. */
#define SL_VERDICT_FORWARD	0
#define SL_VERDICT_DROP		1
#define SL_VERDICT_DELAY	2	/* forward at sl_pkt.depart_ns (shape) */

struct sl_counters {
	uint64_t packets[SL_OUT__COUNT];
	uint64_t bytes[SL_OUT__COUNT];
};

/* A class compiled for the fast path. */
struct sl_class_rt {
	struct sl_tb_profile tb;
	uint32_t slot;		/* stable index of counters and overflow bucket */
	uint32_t gen;		/* generation of the slot: changes on reuse */
	uint32_t idle_ms;	/* expiry of this class's flow entries */
	uint8_t has_limit;
	uint8_t key;		/* enum sl_key_type */
	uint8_t prefix4;	/* key prefix for IPv4 (0..32) */
	uint8_t prefix6;	/* key prefix for IPv6 (0..128) */
	uint8_t bits;		/* 1: cost is frame bits; 0: cost is 1 packet */
	uint8_t action;		/* enum sl_exceed_action */
	uint8_t mark_dscp;
	uint8_t has_ceiling;
	uint8_t ceil_bits;	/* the ceiling's cost: 1: frame bits; 0: 1 packet */
	struct sl_ceil_profile ceil;
	uint64_t shape_ns;	/* SL_EXCEED_SHAPE: the longest wait */
};

struct sl_ruleset {
	uint64_t version;	/* increases with every ruleset published */
	struct sl_policy *policy;	/* owned: names and source */
	struct sl_classifier *cls;	/* classes without a payload field */
	uint32_t n_classes;
	uint8_t default_drop;
	struct sl_class_rt *rt;	/* n_classes */
	/*
	 * Classes with a payload field: their L3/L4 fields, their patterns
	 * (and scratch per lcore), the index of the first of them. NULL,
	 * NULL and SL_CLASS_NONE when there are none.
	 */
	struct sl_classifier *cls_payload;
	struct sl_payload_db *payload;
	uint32_t payload_first;
};

/*
 * Which slots are in use and their generations: owned by whoever builds
 * rulesets (the dataplane's control thread, replay), never by workers.
 */
struct sl_slots {
	uint32_t gen[SL_SLOTS_MAX];
	uint8_t used[SL_SLOTS_MAX];
	uint32_t n_used;
};

/*
 * Compile policy p (ownership passes to the ruleset, also on failure)
 * into a ruleset. Classes named as in prev (may be NULL) keep their
 * slot and generation; others take free slots of slots, which marks
 * them used. Returns NULL with a message in err on failure, leaving
 * slots as they were.
 */
struct sl_ruleset *sl_ruleset_build(struct sl_policy *p, uint64_t version,
				    const struct sl_ruleset *prev,
				    struct sl_slots *slots, int socket_id,
				    char *err, size_t errlen);
void sl_ruleset_free(struct sl_ruleset *rs);

/*
 * After next replaced prev and no worker can still see prev: release
 * the slots of prev's classes that next does not have, writing them to
 * freed[] (room for prev->n_classes) so the caller can zero their
 * counters in every engine. Returns how many were freed.
 */
uint32_t sl_slots_release(struct sl_slots *slots, const struct sl_ruleset *prev,
			  const struct sl_ruleset *next, uint32_t *freed);

/* One packet handed to the engine. data must be writable (mark). */
struct sl_pkt {
	uint8_t *data;		/* frame start */
	uint32_t len;		/* bytes readable at data */
	uint32_t wire_len;	/* frame length metered (>= len for segmented) */
	uint64_t depart_ns;	/* out, for SL_VERDICT_DELAY: when it may leave */
};

/* Counters of one engine; readers on other threads see torn-free u64s. */
struct sl_engine_stats {
	struct sl_counters deflt;	/* unmatched packets */
	uint64_t malformed[SL_MAL__COUNT];
	uint64_t malformed_bytes;
	uint64_t non_ip;		/* forwarded untouched */
	uint64_t non_ip_bytes;
	uint64_t overflow;		/* metered by a class's overflow bucket */
	uint64_t payload_scanned;	/* payloads scanned for patterns */
	uint64_t payload_errors;	/* scans that failed: no match taken */
	uint64_t shape_full;		/* shaping drops for want of shape_room */
};

struct sl_engine {
	struct sl_flowtab *ft;
	struct sl_counters *cls;	/* per slot */
	struct sl_tb *overflow;		/* per slot: keys the table cannot hold */
	uint32_t *overflow_gen;		/* per slot: generation overflow[] is for */
	struct sl_topk *topk;		/* heaviest bucket keys by offered rate */
	struct sl_engine_stats st;
	int socket_id;
	struct sl_ceil *ceil;		/* per slot: class ceilings, maybe shared */
	struct sl_ceil *ceil_own;	/* ceil unless shared; freed with the engine */
	struct sl_ceil_lcore *ceil_part; /* per slot: this engine's part of ceil[] */
	uint64_t ceil_now;		/* the latest clock seen: ceilings never step back */
	/*
	 * How many more packets the caller can hold for shaping: set it
	 * before sl_engine_run(), which counts it down for every packet it
	 * delays. At 0, a shaping class passes what conforms now and drops
	 * the rest (counted in st.shape_full when it could have waited).
	 */
	uint32_t shape_room;
};

/*
 * Create an engine with a flow table of flow_capacity keys. name must
 * be unique in the process. Returns NULL and sets rte_errno on failure.
 */
struct sl_engine *sl_engine_create(const char *name, uint32_t flow_capacity,
				   int socket_id);
void sl_engine_free(struct sl_engine *e);

/*
 * Zero the counters of a released slot, and its ceiling (shared ones
 * too: doing so once per engine is harmless). Only once no worker can
 * write them: after the grace period that retired the ruleset using
 * the slot.
 */
void sl_engine_slot_reset(struct sl_engine *e, uint32_t slot);

/*
 * Class ceilings for SL_SLOTS_MAX slots, all full, to share among the
 * engines that police one set of ports. NULL and rte_errno on failure.
 */
struct sl_ceil *sl_ceilings_create(int socket_id);
void sl_ceilings_free(struct sl_ceil *c);

/*
 * After next replaced prev and no worker can still see prev: carry the
 * ceilings in c of classes that kept their slot over to their new
 * profile (the credit in tokens is kept, clamped to the new burst), and
 * fill those of classes that gained one. now_ns: the workers' clock.
 */
int sl_ceilings_carry(struct sl_ceil *c, const struct sl_ruleset *prev,
		      const struct sl_ruleset *next, uint64_t now_ns);

/*
 * Make engine e meter class ceilings in c, shared with other engines,
 * instead of its own; before e polices anything. c must outlive e.
 */
void sl_engine_share_ceilings(struct sl_engine *e, struct sl_ceil *c);

/*
 * Police n (<= SL_ENGINE_BURST_MAX) packets arriving at now_ns under
 * ruleset rs (the same one for the whole burst). verdict[i] says
 * whether to forward pkts[i]; marked packets have been rewritten in
 * place. SL_VERDICT_DELAY: hold pkts[i] and forward it at (not before)
 * pkts[i].depart_ns, which is at most the class's shape delay away;
 * such packets are counted delayed now, and each took one shape_room.
 * Payload scans use the scratch of the calling lcore (rte_lcore_id());
 * threads that are not EAL lcores share one, so at most one of them
 * may run an engine at a time.
 */
void sl_engine_run(struct sl_engine *e, const struct sl_ruleset *rs,
		   struct sl_pkt *pkts, uint16_t n, uint64_t now_ns,
		   uint8_t *verdict);

/* Counters of class i of rs in engine e. */
static inline const struct sl_counters *
sl_engine_class_counters(const struct sl_engine *e, const struct sl_ruleset *rs,
			 uint32_t i)
{
	return &e->cls[rs->rt[i].slot];
}

/*
 * Expire idle flow entries; call when the lcore has time. Also moves
 * the top-talker interval on, so an idle worker publishes empty ones.
 */
static inline uint32_t sl_engine_expire(struct sl_engine *e, uint64_t now_ns,
					uint32_t budget)
{
	sl_topk_tick(e->topk, now_ns);
	return sl_flowtab_expire(e->ft, now_ns, budget);
}

#endif /* SLUICE_ENGINE_H */
