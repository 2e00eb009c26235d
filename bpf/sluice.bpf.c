/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * The XDP path: the dataplane's L3/L4 policy in eBPF (sluice_xdp.h has
 * the map layouts). Per packet: parse as pkt.c does, classify with the
 * field bitmaps of the active set, meter with tbucket.h, then drop,
 * mark, monitor or forward to the peer interface through the devmap.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.bpf.h"
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

/* ---- Classification ---- */

#define SL_NO_CLASS	(~0u)

/*
 * Accepts x != 0; returns the index of its lowest set bit. clang's BPF
 * backend crashes on __builtin_ctzll, and a branchy search would make
 * the verifier walk each branch: count the ones below the lowest bit.
 */
static __always_inline __u32 sl_ctz64(__u64 x)
{
	__u64 y = (x & -x) - 1;

	y = y - ((y >> 1) & 0x5555555555555555ULL);
	y = (y & 0x3333333333333333ULL) + ((y >> 2) & 0x3333333333333333ULL);
	y = (y + (y >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((y * 0x0101010101010101ULL) >> 56);
}

/* A packet's entry in each field table of the active set. */
struct sl_index {
	__u32 fields;		/* SL_XDP_F_*: the tables to look up */
	__u32 proto;
	__u32 sport;
	__u32 dport;
	__u32 tcpf;
	__u32 vlan;
	__u32 dscp;
};

/* Accepts a field table and an index in it; word w of the bitmap there. */
static __always_inline __u64 sl_table_word(void *table, __u32 idx, __u32 w)
{
	const struct sl_xdp_bitmap *b = bpf_map_lookup_elem(table, &idx);

	/* Every index of a table exists; a miss would mean no class. */
	return b ? b->w[w & (SL_XDP_WORDS - 1)] : 0;
}

/*
 * Accepts a packet's table entries and trie entries (NULL where no
 * class constrains the field) and w < SL_XDP_WORDS; returns word w of
 * the AND of their bitmaps. Global, so the verifier checks it once:
 * inlined in the word loop, it walked each word for every combination
 * of tries (family, used or not) apart.
 */
__noinline __u64 sl_word(const struct sl_index *ix,
			 const struct sl_xdp_bitmap *src,
			 const struct sl_xdp_bitmap *dst, __u32 w)
{
	__u64 v = ~0ULL;
	__u32 fields;

	if (!ix)
		return 0;
	fields = ix->fields;
	w &= SL_XDP_WORDS - 1;
	if (fields & SL_XDP_F_PROTO)
		v &= sl_table_word(&sl_proto, ix->proto, w);
	if (fields & SL_XDP_F_SPORT)
		v &= sl_table_word(&sl_sport, ix->sport, w);
	if (fields & SL_XDP_F_DPORT)
		v &= sl_table_word(&sl_dport, ix->dport, w);
	if (fields & SL_XDP_F_TCPF)
		v &= sl_table_word(&sl_tcpf, ix->tcpf, w);
	if (fields & SL_XDP_F_VLAN)
		v &= sl_table_word(&sl_vlan, ix->vlan, w);
	if (fields & SL_XDP_F_DSCP)
		v &= sl_table_word(&sl_dscp, ix->dscp, w);
	if (src)
		v &= src->w[w];
	if (dst)
		v &= dst->w[w];
	return v;
}

/*
 * Accepts a parsed IP packet; the entry of the src (or dst) trie of set
 * that covers its address, or NULL (no class can match).
 */
static __always_inline const struct sl_xdp_bitmap *
sl_trie(__u32 set, const struct sl_meta *m, int dst)
{
	const __u32 *a = dst ? m->dst : m->src;

	if (m->family == SL_M_FAMILY_IPV4) {
		struct sl_xdp_lpm4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + 32;
		k.set = (__u8)set;
		__builtin_memcpy(k.addr, a, 4);
		return bpf_map_lookup_elem(dst ? (void *)&sl_dst4 :
					   (void *)&sl_src4, &k);
	} else {
		struct sl_xdp_lpm6 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + 128;
		k.set = (__u8)set;
		__builtin_memcpy(k.addr, a, 16);
		return bpf_map_lookup_elem(dst ? (void *)&sl_dst6 :
					   (void *)&sl_src6, &k);
	}
}

/*
 * Accepts a parsed IP packet and the active set's config; returns the
 * first class that holds for it (lowest bit of the AND of the bitmaps
 * of the fields some class constrains), or SL_NO_CLASS. Global, so the
 * verifier checks it once rather than once per path through the parser.
 */
__noinline __u32 sl_classify(const struct sl_meta *m, __u32 set, __u32 fields,
			    __u32 n_words, __u32 n_classes)
{
	const struct sl_xdp_bitmap *src = NULL, *dst = NULL;
	struct sl_index ix;
	int l4;

	if (!m)
		return SL_NO_CLASS;
	set &= 1;
	l4 = m->flags & SL_M_F_L4;
	if (fields & SL_XDP_F_SRC) {
		src = sl_trie(set, m, 0);
		if (!src)
			return SL_NO_CLASS;
	}
	if (fields & SL_XDP_F_DST) {
		dst = sl_trie(set, m, 1);
		if (!dst)
			return SL_NO_CLASS;
	}
	ix.fields = fields;
	ix.proto = set * SL_XDP_PROTO_ENTRIES + m->proto;
	ix.sport = set * SL_XDP_PORT_ENTRIES +
		   (l4 ? m->sport : SL_XDP_PORT_NONE);
	ix.dport = set * SL_XDP_PORT_ENTRIES +
		   (l4 ? m->dport : SL_XDP_PORT_NONE);
	ix.tcpf = set * SL_XDP_TCPF_ENTRIES +
		  (l4 && m->proto == SL_PROTO_TCP ? m->tcp_flags :
		   SL_XDP_TCPF_NONE);
	ix.vlan = set * SL_XDP_VLAN_ENTRIES +
		  (m->flags & SL_M_F_VLAN ? m->vlan : SL_XDP_VLAN_NONE);
	ix.dscp = set * SL_XDP_DSCP_ENTRIES + (m->dscp & 0x3f);

	for (__u32 w = 0; w < SL_XDP_WORDS && w < n_words; w++) {
		__u64 v = sl_word(&ix, src, dst, w);
		__u32 c;

		if (!v)
			continue;
		c = w * 64 + sl_ctz64(v);
		return c < n_classes ? c : SL_NO_CLASS;
	}
	return SL_NO_CLASS;
}

/* ---- Metering ---- */

/* Accepts 4 words of an address; copies its first bits, zeroing the rest. */
static __always_inline void sl_addr_prefix(__u32 *dst, const __u32 *src,
					   __u32 bits)
{
	for (int i = 0; i < 4; i++) {
		__u32 b = bits > 32 ? 32 : bits;

		/* The top b bits of 32: b = 0 gives 0, b = 32 all ones. */
		dst[i] = src[i] &
			 bpf_htonl((__u32)(0xffffffff00000000ULL >> b));
		bits -= b;
	}
}

/* Accepts a class with a limit; the bucket key of m, as flow_key_make(). */
static __always_inline void sl_key_make(struct sl_xdp_key *k,
					const struct sl_xdp_class *c,
					const struct sl_meta *m)
{
	__u32 bits = m->family == SL_M_FAMILY_IPV4 ? c->prefix4 : c->prefix6;

	__builtin_memset(k, 0, sizeof(*k));
	k->slot = c->slot;
	if (bits > 128)
		bits = 128;
	switch (c->key) {
	case SL_XDP_KEY_SRC:
		k->family = m->family;
		sl_addr_prefix((__u32 *)k->src, m->src, bits);
		break;
	case SL_XDP_KEY_DST:
		k->family = m->family;
		sl_addr_prefix((__u32 *)k->dst, m->dst, bits);
		break;
	case SL_XDP_KEY_FLOW:
		k->family = m->family;
		k->proto = m->proto;
		k->sport = m->sport;
		k->dport = m->dport;
		__builtin_memcpy(k->src, m->src, 16);
		__builtin_memcpy(k->dst, m->dst, 16);
		break;
	default:	/* SL_XDP_KEY_NONE: one bucket for the class */
		break;
	}
}

/*
 * Accepts a bucket and its class; meters cost at now under the bucket's
 * lock, first resetting a bucket made for an older generation of the
 * slot. Returns 1 if the packet conforms.
 */
static __always_inline int sl_meter(struct sl_xdp_bucket *b,
				    const struct sl_xdp_class *c,
				    __u64 now, __u64 cost)
{
	int ok;

	bpf_spin_lock(&b->lock);
	if (b->gen != c->gen) {
		sl_tb_init(&b->tb, &c->tb, now);
		b->gen = c->gen;
		b->idle_ms = c->idle_ms;
	}
	ok = sl_tb_conform(&b->tb, &c->tb, now, cost);
	bpf_spin_unlock(&b->lock);
	return ok;
}

/*
 * Accepts a class with a limit; finds or creates the bucket of key k
 * (the class's overflow bucket when the map is full) and meters the
 * packet, as bucket_get() and sl_tb_conform() in engine.c.
 */
static __always_inline int sl_police(const struct sl_xdp_key *k,
				     const struct sl_xdp_class *c,
				     struct sl_xdp_stats *st, __u64 cost)
{
	__u64 now = bpf_ktime_get_ns();
	struct sl_xdp_bucket *b;
	__u32 slot = c->slot;
	long err;

	b = bpf_map_lookup_elem(&sl_buckets, k);
	if (!b) {
		struct sl_xdp_bucket nb;

		__builtin_memset(&nb, 0, sizeof(nb));
		nb.gen = c->gen;
		nb.idle_ms = c->idle_ms;
		sl_tb_init(&nb.tb, &c->tb, now);
		err = bpf_map_update_elem(&sl_buckets, k, &nb, BPF_NOEXIST);
		if (err == 0) {
			st->keys_created++;
		} else if (err != -EEXIST) {
			st->keys_full++;
			goto overflow;
		}
		/* Created here or, racing, on another CPU: meter it. */
		b = bpf_map_lookup_elem(&sl_buckets, k);
		if (!b)		/* expired in between */
			goto overflow;
	}
	return sl_meter(b, c, now, cost);

overflow:
	st->overflow++;
	b = bpf_map_lookup_elem(&sl_overflow, &slot);
	if (!b)
		return 1;
	return sl_meter(b, c, now, cost);
}

/* ---- Actions ---- */

/*
 * Accepts a parsed IP packet (its fixed header inside the frame) and a
 * DSCP; rewrites it keeping ECN, as sl_pkt_set_dscp(), fixing the IPv4
 * header checksum incrementally (RFC 1624 eqn. 3).
 */
static __always_inline void sl_set_dscp(struct xdp_md *ctx,
					const struct sl_meta *m, __u8 dscp)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u8 *ip = data + (m->l3_off & 0x3f);
	__u32 old, new, sum;

	if (dscp > 63 || ip + SL_IP4_HLEN > end)
		return;
	if (m->family == SL_M_FAMILY_IPV6) {
		ip[0] = (__u8)((ip[0] & 0xf0) | dscp >> 2);
		ip[1] = (__u8)((dscp & 0x03) << 6 | (ip[1] & 0x3f));
		return;
	}
	old = sl_rd16(ip);
	ip[1] = (__u8)(dscp << 2 | (ip[1] & 0x03));
	new = sl_rd16(ip);
	sum = (~(__u32)sl_rd16(ip + 10) & 0xffff) + (~old & 0xffff) + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ip[10] = (__u8)(sum >> 8);
	ip[11] = (__u8)sum;
}

static __always_inline void sl_count(struct sl_xdp_counters *c, __u32 o,
				     __u32 bytes)
{
	c->packets[o]++;
	c->bytes[o] += bytes;
}

/* Accepts any packet to forward; sends it to the ingress port's peer. */
static __always_inline int sl_forward(struct xdp_md *ctx,
				      struct sl_xdp_stats *st)
{
	long rc = bpf_redirect_map(&sl_tx, ctx->ingress_ifindex, XDP_DROP);

	if (rc != XDP_REDIRECT)
		st->no_peer++;
	return (int)rc;
}

/* Accepts a packet no class took; the policy's default verdict. */
static __always_inline int sl_default(struct xdp_md *ctx,
				      struct sl_xdp_stats *st, __u32 drop)
{
	return drop ? XDP_DROP : sl_forward(ctx, st);
}

/*
 * Accepts a packet of class c (a map value of the active set); meters
 * it when the class has a limit and applies the exceed action.
 */
static __always_inline int sl_act(struct xdp_md *ctx, struct sl_xdp_stats *st,
				  const struct sl_xdp_class *c,
				  const struct sl_meta *m, __u32 len)
{
	struct sl_xdp_counters *cnt;
	struct sl_xdp_key k;
	__u32 slot = c->slot;

	cnt = bpf_map_lookup_elem(&sl_counters, &slot);
	if (!cnt)	/* a slot out of range: the loader's bug */
		return sl_forward(ctx, st);
	if (c->has_limit) {
		sl_key_make(&k, c, m);
		if (!sl_police(&k, c, st, c->bits ? (__u64)len * 8 : 1))
			goto exceed;
	}
	sl_count(cnt, SL_XDP_OUT_PASSED, len);
	return sl_forward(ctx, st);

exceed:
	switch (c->action) {
	case SL_XDP_EXCEED_MONITOR:
		sl_count(cnt, SL_XDP_OUT_MONITORED, len);
		return sl_forward(ctx, st);
	case SL_XDP_EXCEED_MARK:
		sl_set_dscp(ctx, m, c->mark_dscp);
		sl_count(cnt, SL_XDP_OUT_MARKED, len);
		return sl_forward(ctx, st);
	default:
		sl_count(cnt, SL_XDP_OUT_DROPPED, len);
		return XDP_DROP;
	}
}

/* ---- The program ---- */

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	const struct sl_xdp_active *act;
	const struct sl_xdp_class *c;
	const struct sl_xdp_cfg *cfg;
	struct sl_xdp_stats *st;
	__u32 zero = 0, set, cls, r;
	struct sl_meta m;

	st = bpf_map_lookup_elem(&sl_stats, &zero);
	act = bpf_map_lookup_elem(&sl_active, &zero);
	if (!st || !act)
		return XDP_PASS;
	if (!act->valid) {
		st->no_policy++;
		return XDP_PASS;
	}
	/* Once: every lookup below uses this set, so one policy whole. */
	set = *(volatile const __u32 *)&act->set & 1;
	cfg = bpf_map_lookup_elem(&sl_cfg, &set);
	if (!cfg)
		return XDP_PASS;

	/* The verifier wants memory a global function gets initialised. */
	__builtin_memset(&m, 0, sizeof(m));
	r = sl_parse(ctx, &m);
	if (r != SL_MAL_NONE) {
		/* In one register, so the bound checked is the one used. */
		barrier_var(r);
		if (r < SL_MAL__COUNT)
			st->malformed[r]++;
		st->malformed_bytes += len;
		return sl_default(ctx, st, cfg->default_drop);
	}
	if (!m.family) {
		/* ARP and other L2 control must cross or the link dies. */
		st->non_ip++;
		st->non_ip_bytes += len;
		return sl_forward(ctx, st);
	}

	cls = sl_classify(&m, set, cfg->fields, cfg->n_words, cfg->n_classes);
	if (cls == SL_NO_CLASS) {
		sl_count(&st->deflt, cfg->default_drop ? SL_XDP_OUT_DROPPED :
			 SL_XDP_OUT_PASSED, len);
		return sl_default(ctx, st, cfg->default_drop);
	}
	cls += set * SL_XDP_CLASSES_MAX;
	c = bpf_map_lookup_elem(&sl_classes, &cls);
	if (!c)
		return sl_default(ctx, st, cfg->default_drop);
	return sl_act(ctx, st, c, &m, len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
