/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * The XDP path: the dataplane's L3/L4 policy in eBPF (sluice_xdp.h has
 * the map layouts). Per packet: parse as pkt.c does, classify with the
 * field bitmaps of the active set, meter with tbucket.h, then drop,
 * mark, monitor or forward to the peer interface through the devmap.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice_xdp.h"

/* ---- Maps (names are the loader's contract: skel->maps.NAME) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_xdp_active);
} sl_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_XDP_SETS);
	__type(key, __u32);
	__type(value, struct sl_xdp_cfg);
} sl_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_XDP_SETS * SL_XDP_CLASSES_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sl_xdp_class);
} sl_classes SEC(".maps");

/* Field tables, index set * ENTRIES + value; written through mmap. */
#define SL_XDP_TABLE(name, entries)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, SL_XDP_SETS * (entries));		\
		__uint(map_flags, BPF_F_MMAPABLE);			\
		__type(key, __u32);					\
		__type(value, struct sl_xdp_bitmap);			\
	} name SEC(".maps")

SL_XDP_TABLE(sl_proto, SL_XDP_PROTO_ENTRIES);
SL_XDP_TABLE(sl_sport, SL_XDP_PORT_ENTRIES);
SL_XDP_TABLE(sl_dport, SL_XDP_PORT_ENTRIES);
SL_XDP_TABLE(sl_tcpf, SL_XDP_TCPF_ENTRIES);
SL_XDP_TABLE(sl_vlan, SL_XDP_VLAN_ENTRIES);
SL_XDP_TABLE(sl_dscp, SL_XDP_DSCP_ENTRIES);

#define SL_XDP_TRIE(name, keytype)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
		__uint(max_entries, SL_XDP_PREFIXES_MAX);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, keytype);					\
		__type(value, struct sl_xdp_bitmap);			\
	} name SEC(".maps")

SL_XDP_TRIE(sl_src4, struct sl_xdp_lpm4);
SL_XDP_TRIE(sl_dst4, struct sl_xdp_lpm4);
SL_XDP_TRIE(sl_src6, struct sl_xdp_lpm6);
SL_XDP_TRIE(sl_dst6, struct sl_xdp_lpm6);

/* Per-key buckets; the loader sets max_entries before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_XDP_KEYS_DEFAULT);
	__type(key, struct sl_xdp_key);
	__type(value, struct sl_xdp_bucket);
} sl_buckets SEC(".maps");

/* Per slot: the bucket of keys sl_buckets had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_XDP_SLOTS_MAX);
	__type(key, __u32);
	__type(value, struct sl_xdp_bucket);
} sl_overflow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_XDP_SLOTS_MAX);
	__type(key, __u32);
	__type(value, struct sl_xdp_counters);
} sl_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_xdp_stats);
} sl_stats SEC(".maps");

/* Ingress ifindex -> the peer interface conforming packets leave by. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, SL_XDP_IFACES_MAX);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} sl_tx SEC(".maps");

/* ---- The program (to be written: see the header comment) ---- */

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
