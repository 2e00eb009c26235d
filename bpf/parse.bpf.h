/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * The XDP program's packet parser: common/pkt.c rewritten for the BPF
 * verifier, with the same limits, the same order of checks and the same
 * malformed reasons (pkt_malformed.h), so a frame gets the verdict here
 * that sl_pkt_parse() gives it in the dataplane.
 *
 * Every check pkt.c makes is made here on byte offsets against the
 * frame length (capped at 65535 as pkt.c does) or the IP datagram's
 * end, exactly as there. Each read then goes through sl_ptr(), whose
 * pointer comparison the verifier needs to allow the access; it can
 * never fail after the offset check that precedes it, and returns the
 * same reason if it somehow did.
 *
 * The parser and its two loops (IPv4 options, IPv6 extension headers)
 * are global BPF functions, which the verifier checks once each with
 * unknown arguments; inlined, it walked every combination of tags,
 * options and headers through the rest of the program and gave up at
 * a million instructions. Defines them, so only sluice.bpf.c includes it.
 */
#ifndef SLUICE_PARSE_BPF_H
#define SLUICE_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "pkt_malformed.h"

#define SL_ETH_HLEN		14
#define SL_VLAN_HLEN		4
#define SL_IP4_HLEN		20
#define SL_IP6_HLEN		40
#define SL_TCP_HLEN		20
#define SL_UDP_HLEN		8
#define SL_ICMP_HLEN		4
#define SL_IP6_EXT_MIN		8
#define SL_IP6_FRAG_HLEN	8
#define SL_IP4_OPTS_MAX		40

#define SL_ETHERTYPE_IPV4	0x0800
#define SL_ETHERTYPE_IPV6	0x86dd
#define SL_ETHERTYPE_VLAN	0x8100
#define SL_ETHERTYPE_QINQ	0x88a8
#define SL_ETHERTYPE_QINQ1	0x9100

#define SL_PROTO_HOPOPTS	0
#define SL_PROTO_ICMP		1
#define SL_PROTO_TCP		6
#define SL_PROTO_UDP		17
#define SL_PROTO_ROUTING	43
#define SL_PROTO_FRAGMENT	44
#define SL_PROTO_AH		51
#define SL_PROTO_ICMPV6		58
#define SL_PROTO_DSTOPTS	60

#define SL_IP4_MF		0x2000
#define SL_IP4_OFF_MASK		0x1fff
#define SL_IP6_FRAG_M		0x0001
#define SL_IP6_FRAG_OFF		0xfff8

/* pkt.c parses at most this much of a frame; offsets stay below it. */
#define SL_FRAME_MAX		0xffff

/* As SL_PKT_F_* and SL_FAMILY_* in pkt.h, which BPF C cannot include. */
#define SL_M_F_L4		0x01
#define SL_M_F_VLAN		0x02
#define SL_M_F_FRAG		0x04
#define SL_M_F_FRAG_FIRST	0x08
#define SL_M_FAMILY_IPV4	4
#define SL_M_FAMILY_IPV6	6

/* What the program needs of struct sl_pkt_meta; addresses in network order. */
struct sl_meta {
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
	__u8 dscp;
	__u8 flags;
	__u8 pad;
	__u16 vlan;
	__u16 sport;
	__u16 dport;
	__u16 l3_off;
	__u16 pad2;
	__u32 src[4];
	__u32 dst[4];
};

/* The frame: [data, data_end), of which pkt.c would parse len bytes. */
struct sl_frame {
	const __u8 *data;
	const __u8 *data_end;
	__u32 len;
};

/*
 * Accepts any offset and a constant size; returns the n bytes at off, or
 * NULL when they pass the frame. The first test never fails for bytes
 * inside len (<= 0xffff); it bounds off so that the verifier can take
 * the second, which is the one it needs, as a range on the packet.
 */
static __always_inline const __u8 *sl_ptr(const struct sl_frame *f, __u32 off,
					   __u32 n)
{
	const __u8 *p;

	/* In one register, so the bound checked is the one added. */
	barrier_var(off);
	if (off > SL_FRAME_MAX - n)
		return NULL;
	p = f->data + off;
	if (p + n > f->data_end)
		return NULL;
	return p;
}

/* The frame of ctx, as much of it as pkt.c would parse. */
static __always_inline struct sl_frame sl_frame_of(const struct xdp_md *ctx)
{
	struct sl_frame f;

	f.data = (const __u8 *)(long)ctx->data;
	f.data_end = (const __u8 *)(long)ctx->data_end;
	f.len = (__u32)(f.data_end - f.data);
	if (f.len > SL_FRAME_MAX)
		f.len = SL_FRAME_MAX;
	return f;
}

/* Big-endian 16 bits at p. */
static __always_inline __u16 sl_rd16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* Accepts the L4 header at off of a datagram ending at end; as parse_l4(). */
static __always_inline enum sl_malformed
sl_parse_l4(const struct sl_frame *f, __u32 off, __u32 end, struct sl_meta *m)
{
	__u32 room = end - off;
	const __u8 *l4;
	__u32 hlen;

	if (m->proto == SL_PROTO_TCP) {
		if (room < SL_TCP_HLEN)
			return SL_MAL_L4_TRUNC;
		l4 = sl_ptr(f, off, SL_TCP_HLEN);
		if (!l4)
			return SL_MAL_L4_TRUNC;
		hlen = (__u32)(l4[12] >> 4) * 4;
		if (hlen < SL_TCP_HLEN || hlen > room)
			return SL_MAL_TCP_DOFF;
		m->sport = sl_rd16(l4);
		m->dport = sl_rd16(l4 + 2);
		m->tcp_flags = l4[13];
		m->flags |= SL_M_F_L4;
	} else if (m->proto == SL_PROTO_UDP) {
		if (room < SL_UDP_HLEN)
			return SL_MAL_L4_TRUNC;
		l4 = sl_ptr(f, off, SL_UDP_HLEN);
		if (!l4)
			return SL_MAL_L4_TRUNC;
		m->sport = sl_rd16(l4);
		m->dport = sl_rd16(l4 + 2);
		m->flags |= SL_M_F_L4;
	} else if ((m->proto == SL_PROTO_ICMP &&
		    m->family == SL_M_FAMILY_IPV4) ||
		   (m->proto == SL_PROTO_ICMPV6 &&
		    m->family == SL_M_FAMILY_IPV6)) {
		if (room < SL_ICMP_HLEN)
			return SL_MAL_L4_TRUNC;
	}
	return SL_MAL_NONE;
}

/*
 * Accepts the options area [off, off + n) of an IPv4 header inside the
 * frame, n <= 40; returns 1 if every option fits in it, as ip4_opts_ok().
 * Every step moves i on by at least one byte, so 40 steps reach the end.
 * Global, so the verifier walks its option lengths once, not once per
 * path that leads here; options are rare, the call is cheap.
 */
__noinline int sl_ip4_opts_ok(struct xdp_md *ctx, __u32 off, __u32 n)
{
	struct sl_frame fr = sl_frame_of(ctx);
	const struct sl_frame *f = &fr;
	__u32 i = 0;

	if (n > SL_IP4_OPTS_MAX)
		return 0;
	for (int k = 0; k < SL_IP4_OPTS_MAX; k++) {
		const __u8 *p;
		__u8 olen;

		/* i <= n <= 40 here: the mask only widens what the
		 * verifier knows, so paths with other i prune. */
		i &= 0x3f;
		if (i >= n)
			return 1;
		p = sl_ptr(f, off + i, 1);
		if (!p)
			return 0;
		if (p[0] == 0)		/* EOL: the rest is padding */
			return 1;
		if (p[0] == 1) {	/* NOP */
			i++;
			continue;
		}
		if (n - i < 2)
			return 0;
		p = sl_ptr(f, off + i, 2);
		if (!p)
			return 0;
		olen = p[1];
		if (olen < 2 || olen > n - i)
			return 0;
		i += olen;
	}
	return 1;
}

/* Accepts a frame with an IPv4 header claimed at off (< len); as parse_ipv4(). */
static __always_inline enum sl_malformed
sl_parse_ipv4(struct xdp_md *ctx, const struct sl_frame *f, __u32 off,
	      struct sl_meta *m)
{
	__u32 room = f->len - off;
	__u32 ihl, tot;
	const __u8 *ip;
	__u16 frag;

	if (room < SL_IP4_HLEN)
		return SL_MAL_IP4_TRUNC;
	ip = sl_ptr(f, off, SL_IP4_HLEN);
	if (!ip)
		return SL_MAL_IP4_TRUNC;
	if ((ip[0] >> 4) != 4)
		return SL_MAL_IP4_VERSION;
	ihl = (__u32)(ip[0] & 0x0f) * 4;
	tot = sl_rd16(ip + 2);
	frag = sl_rd16(ip + 6);
	m->family = SL_M_FAMILY_IPV4;
	m->dscp = ip[1] >> 2;
	m->proto = ip[9];
	m->src[0] = *(const __u32 *)(ip + 12);
	m->dst[0] = *(const __u32 *)(ip + 16);

	if (ihl < SL_IP4_HLEN || ihl > room)
		return SL_MAL_IP4_IHL;
	/* Ethernet pads short frames: the datagram ends at tot, not len. */
	if (tot < ihl || tot > room)
		return SL_MAL_IP4_LEN;
	if (ihl > SL_IP4_HLEN &&
	    !sl_ip4_opts_ok(ctx, off + SL_IP4_HLEN, ihl - SL_IP4_HLEN))
		return SL_MAL_IP4_OPT;
	if (frag & (SL_IP4_MF | SL_IP4_OFF_MASK)) {
		m->flags |= SL_M_F_FRAG;
		/* Not the first fragment: no L4 header, no ports. */
		if (frag & SL_IP4_OFF_MASK)
			return SL_MAL_NONE;
		m->flags |= SL_M_F_FRAG_FIRST;
	}
	return sl_parse_l4(f, off + ihl, off + tot, m);
}

/* The next-header values the IPv6 walk steps over. */
static __always_inline int sl_ip6_is_ext(__u8 nh)
{
	return nh == SL_PROTO_HOPOPTS || nh == SL_PROTO_ROUTING ||
	       nh == SL_PROTO_FRAGMENT || nh == SL_PROTO_AH ||
	       nh == SL_PROTO_DSTOPTS;
}

/*
 * Accepts an IPv6 datagram whose extension chain (first header nh)
 * starts at off and which ends at end (<= the frame's len); as
 * walk_ipv6_ext(). The loop runs once per header, plus once to find
 * there are too many. Global, so the verifier walks it once.
 */
__noinline int sl_walk_ipv6_ext(struct xdp_md *ctx, __u32 off, __u32 end,
				__u32 nh, struct sl_meta *m)
{
	struct sl_frame fr = sl_frame_of(ctx);
	const struct sl_frame *f = &fr;

	if (!m)
		return SL_MAL_NONE;
	for (int n = 0; n <= SL_PKT_IPV6_EXT_MAX; n++) {
		const __u8 *h;
		__u32 hlen;

		/* off <= end <= 65535 here: the mask only widens what the
		 * verifier knows, so each step's paths prune together. */
		off &= SL_FRAME_MAX;
		nh &= 0xff;
		if (!sl_ip6_is_ext(nh))
			break;
		if (n == SL_PKT_IPV6_EXT_MAX)
			return SL_MAL_IP6_EXT_DEPTH;
		if (end - off < SL_IP6_EXT_MIN)
			return SL_MAL_IP6_EXT_TRUNC;
		h = sl_ptr(f, off, SL_IP6_EXT_MIN);
		if (!h)
			return SL_MAL_IP6_EXT_TRUNC;
		if (nh == SL_PROTO_FRAGMENT) {
			__u16 fo = sl_rd16(h + 2);

			hlen = SL_IP6_FRAG_HLEN;
			if (fo & (SL_IP6_FRAG_OFF | SL_IP6_FRAG_M)) {
				m->flags |= SL_M_F_FRAG;
				if (fo & SL_IP6_FRAG_OFF) {
					m->proto = h[0];
					return SL_MAL_NONE;
				}
				m->flags |= SL_M_F_FRAG_FIRST;
			}
		} else if (nh == SL_PROTO_AH) {
			hlen = ((__u32)h[1] + 2) * 4;
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
		}
		if (hlen > end - off)
			return SL_MAL_IP6_EXT_TRUNC;
		nh = h[0];
		off += hlen;
	}
	/* ESP (50) and No Next Header (59) end here, unparsed. */
	m->proto = nh;
	return sl_parse_l4(f, off, end, m);
}

/* Accepts a frame with an IPv6 header claimed at off (< len); as parse_ipv6(). */
static __always_inline enum sl_malformed
sl_parse_ipv6(struct xdp_md *ctx, const struct sl_frame *f, __u32 off,
	      struct sl_meta *m)
{
	__u32 room = f->len - off;
	const __u32 *a;
	const __u8 *ip;
	__u32 plen;

	if (room < SL_IP6_HLEN)
		return SL_MAL_IP6_TRUNC;
	ip = sl_ptr(f, off, SL_IP6_HLEN);
	if (!ip)
		return SL_MAL_IP6_TRUNC;
	if ((ip[0] >> 4) != 6)
		return SL_MAL_IP6_VERSION;
	m->family = SL_M_FAMILY_IPV6;
	/* Traffic class straddles bytes 0-1; DSCP is its top six bits. */
	m->dscp = (__u8)((ip[0] & 0x0f) << 2 | ip[1] >> 6);
	a = (const __u32 *)(ip + 8);
	m->src[0] = a[0];
	m->src[1] = a[1];
	m->src[2] = a[2];
	m->src[3] = a[3];
	m->dst[0] = a[4];
	m->dst[1] = a[5];
	m->dst[2] = a[6];
	m->dst[3] = a[7];

	plen = sl_rd16(ip + 4);
	if (plen > room - SL_IP6_HLEN)
		return SL_MAL_IP6_LEN;
	off += SL_IP6_HLEN;
	if (!sl_ip6_is_ext(ip[6])) {
		m->proto = ip[6];
		return sl_parse_l4(f, off, off + plen, m);
	}
	return sl_walk_ipv6_ext(ctx, off, off + plen, ip[6], m);
}

/*
 * Accepts any frame; fills m (zeroed here) and returns the malformed
 * reason, as sl_pkt_parse(). Non-IP frames are well formed with family
 * 0. Global, so the verifier checks the parser once, apart: inlined,
 * every path out of it would be walked again through the rest.
 */
__noinline int sl_parse(struct xdp_md *ctx, struct sl_meta *m)
{
	struct sl_frame fr = sl_frame_of(ctx);
	const struct sl_frame *f = &fr;
	__u32 off = SL_ETH_HLEN;
	const __u8 *p;
	__u16 type;

	if (!m)
		return SL_MAL_NONE;
	__builtin_memset(m, 0, sizeof(*m));
	if (f->len < SL_ETH_HLEN)
		return SL_MAL_ETH_TRUNC;
	p = sl_ptr(f, 0, SL_ETH_HLEN);
	if (!p)
		return SL_MAL_ETH_TRUNC;
	type = sl_rd16(p + 12);
	/* One more step than tags allowed: it finds there are too many. */
	for (int n = 0; n <= SL_PKT_VLAN_MAX; n++) {
		if (type != SL_ETHERTYPE_VLAN && type != SL_ETHERTYPE_QINQ &&
		    type != SL_ETHERTYPE_QINQ1)
			break;
		if (n == SL_PKT_VLAN_MAX)
			return SL_MAL_VLAN_DEPTH;
		if (f->len - off < SL_VLAN_HLEN)
			return SL_MAL_VLAN_TRUNC;
		p = sl_ptr(f, off, SL_VLAN_HLEN);
		if (!p)
			return SL_MAL_VLAN_TRUNC;
		if (n == 0) {
			m->vlan = sl_rd16(p) & 0x0fff;
			m->flags |= SL_M_F_VLAN;
		}
		/* The tag's TPID sits before its TCI: next type follows it. */
		type = sl_rd16(p + 2);
		off += SL_VLAN_HLEN;
	}
	if (type == SL_ETHERTYPE_IPV4) {
		m->l3_off = (__u16)off;
		return sl_parse_ipv4(ctx, f, off, m);
	}
	if (type == SL_ETHERTYPE_IPV6) {
		m->l3_off = (__u16)off;
		return sl_parse_ipv6(ctx, f, off, m);
	}
	return SL_MAL_NONE;
}

#endif /* SLUICE_PARSE_BPF_H */
