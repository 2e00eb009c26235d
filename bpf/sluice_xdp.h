/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The contract between the XDP program (sluice.bpf.c) and its loader
 * (xdp_path.c): limits, map layouts and how a compiled policy lies in
 * the maps. Included by BPF C and by user space: linux/ headers only.
 *
 * Classification: one bitmap of classes per value of each match field.
 * Bit i of the bitmap for value v of field F is set when class i holds
 * for F at v: it does not constrain F, or one of its F entries covers v.
 * A packet's class is the lowest bit set in the AND of its fields'
 * bitmaps (first match wins, as in the dataplane). Prefix fields are
 * LPM tries whose entry for prefix P carries every class with a prefix
 * covering P, so the longest match carries all classes that match the
 * address; every set has a /0 entry per trie, so a lookup never misses.
 * Port, VLAN and TCP-flag tables have one extra entry for "the packet
 * has no such field" (no L4 header, no tag, not TCP), which carries
 * only the classes that do not constrain it.
 *
 * Double buffering: every policy table has two halves, set 0 and set 1.
 * The loader writes a whole policy into the set no packet reads, then
 * writes sl_active.set; the program reads sl_active once per packet and
 * uses that set for every lookup, so a packet sees one policy whole.
 * Before writing a set again the loader waits for an RCU grace period,
 * after which no program that read the old index still runs.
 */
#ifndef SLUICE_XDP_H
#define SLUICE_XDP_H

#include <linux/bpf.h>
#include <linux/types.h>

#include "pkt_malformed.h"
#include "tbucket.h"

#define SL_XDP_CLASSES_MAX	1024
#define SL_XDP_WORDS		(SL_XDP_CLASSES_MAX / 64)
#define SL_XDP_SLOTS_MAX	(2 * SL_XDP_CLASSES_MAX)
#define SL_XDP_SETS		2

/* Table sizes per set; the last entry of some is "field absent". */
#define SL_XDP_PROTO_ENTRIES	256
#define SL_XDP_PORT_NONE	65536
#define SL_XDP_PORT_ENTRIES	65537
#define SL_XDP_TCPF_NONE	256
#define SL_XDP_TCPF_ENTRIES	257
#define SL_XDP_VLAN_NONE	4096
#define SL_XDP_VLAN_ENTRIES	4097
#define SL_XDP_DSCP_ENTRIES	64

#define SL_XDP_PREFIXES_MAX	65536	/* entries of one LPM trie, both sets */
#define SL_XDP_IFACES_MAX	64	/* interfaces in the devmap */
#define SL_XDP_KEYS_DEFAULT	262144	/* buckets, unless the loader says */

/* The match fields, as bits of sl_xdp_cfg.fields: the tables to look up. */
#define SL_XDP_F_PROTO		(1u << 0)
#define SL_XDP_F_SRC		(1u << 1)
#define SL_XDP_F_DST		(1u << 2)
#define SL_XDP_F_SPORT		(1u << 3)
#define SL_XDP_F_DPORT		(1u << 4)
#define SL_XDP_F_TCPF		(1u << 5)
#define SL_XDP_F_VLAN		(1u << 6)
#define SL_XDP_F_DSCP		(1u << 7)

/* Outcome indices, as enum sl_outcome in engine.h. */
#define SL_XDP_OUT_PASSED	0
#define SL_XDP_OUT_DROPPED	1
#define SL_XDP_OUT_MARKED	2
#define SL_XDP_OUT_MONITORED	3
#define SL_XDP_OUT_DELAYED	4
#define SL_XDP_OUT__COUNT	5

/* Exceed actions and key types: the values of enum sl_exceed_action and
 * enum sl_key_type in policy.h. */
#define SL_XDP_EXCEED_DROP	0
#define SL_XDP_EXCEED_MONITOR	1
#define SL_XDP_EXCEED_MARK	2
#define SL_XDP_KEY_NONE		0
#define SL_XDP_KEY_SRC		1
#define SL_XDP_KEY_DST		2
#define SL_XDP_KEY_FLOW		3

/* Value of every classification table: one bit per class. */
struct sl_xdp_bitmap {
	__u64 w[SL_XDP_WORDS];
};

/* LPM keys: prefixlen counts the set byte too (8 + prefix length). */
struct sl_xdp_lpm4 {
	__u32 prefixlen;
	__u8 set;
	__u8 addr[4];
};

struct sl_xdp_lpm6 {
	__u32 prefixlen;
	__u8 set;
	__u8 addr[16];
};

/* sl_cfg[set]: the policy in a set. */
struct sl_xdp_cfg {
	__u64 version;		/* the policy version the loader was given */
	__u32 n_classes;	/* classes in sl_classes[set] */
	__u32 n_words;		/* bitmap words in use: ceil(n_classes / 64) */
	__u32 fields;		/* SL_XDP_F_*: tables some class constrains */
	__u32 default_drop;	/* unmatched and malformed packets: 1 drop */
};

/* sl_active[0]: the set packets read. */
struct sl_xdp_active {
	__u32 set;		/* 0 or 1 */
	__u32 valid;		/* 0: no policy yet; the program passes all */
};

/* sl_classes[set * SL_XDP_CLASSES_MAX + i]: class i of a set's policy. */
struct sl_xdp_class {
	struct sl_tb_profile tb;
	__u32 slot;		/* counters and overflow bucket index */
	__u32 gen;		/* generation of the slot; never 0 */
	__u32 idle_ms;		/* buckets idle this long are expired */
	__u8 has_limit;		/* 0: every packet conforms */
	__u8 key;		/* SL_XDP_KEY_* */
	__u8 prefix4;		/* key prefix for IPv4 (0..32) */
	__u8 prefix6;		/* key prefix for IPv6 (0..128) */
	__u8 bits;		/* 1: cost is frame bits; 0: one packet */
	__u8 action;		/* SL_XDP_EXCEED_* */
	__u8 mark_dscp;
	__u8 pad;
};

/* sl_buckets key: the layout of struct sl_flow_key (flowtab.h). */
struct sl_xdp_key {
	__u32 slot;
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 src[16];
	__u8 dst[16];
	__u32 pad2;
};

/* sl_buckets value, and sl_overflow[slot]. */
struct sl_xdp_bucket {
	struct bpf_spin_lock lock;	/* held only around the meter */
	__u32 gen;			/* slot generation the bucket is for */
	__u32 idle_ms;
	__u32 pad;
	struct sl_tb tb;		/* tb.last_ns is "last seen" */
};

/* sl_counters[slot], per CPU: struct sl_counters of engine.h. */
struct sl_xdp_counters {
	__u64 packets[SL_XDP_OUT__COUNT];
	__u64 bytes[SL_XDP_OUT__COUNT];
};

/* sl_stats[0], per CPU: struct sl_engine_stats of engine.h, and more. */
struct sl_xdp_stats {
	struct sl_xdp_counters deflt;	/* unmatched IP packets */
	__u64 malformed[SL_MAL__COUNT];
	__u64 malformed_bytes;
	__u64 non_ip;			/* forwarded untouched */
	__u64 non_ip_bytes;
	__u64 overflow;			/* metered by an overflow bucket */
	__u64 keys_created;
	__u64 keys_full;		/* bucket creations refused: map full */
	__u64 no_peer;			/* no devmap entry: dropped */
	__u64 no_policy;		/* sl_active.valid == 0: passed */
};

#endif /* SLUICE_XDP_H */
