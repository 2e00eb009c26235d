/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser. Runs once per packet on every worker, so it is
 * written for the common case (untagged IPv4 with TCP or UDP): that
 * path takes no loop and no call. Every read is a byte read or a
 * fixed-size memcpy from inside [data, data + len), checked before it
 * is made; nothing the packet claims moves a read past len.
 */
#include <stddef.h>
#include <string.h>

#include "pkt.h"

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	4	/* type, code, checksum: common to all types */
#define IP6_EXT_MIN	8	/* every extension header is at least this */
#define IP6_FRAG_HLEN	8

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100	/* 802.1Q */
#define ETHERTYPE_QINQ	0x88a8	/* 802.1ad S-tag */
#define ETHERTYPE_QINQ1	0x9100	/* pre-standard S-tag, still seen */

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

/* The IPv6 next-header values that the walk steps over, as a bit set. */
#define IP6_EXT_SET	((1ull << IPPROTO_HOPOPTS_) | (1ull << IPPROTO_ROUTING_) | \
			 (1ull << IPPROTO_FRAGMENT_) | (1ull << IPPROTO_AH_) | \
			 (1ull << IPPROTO_DSTOPTS_))

#define IP4_OPT_EOL	0
#define IP4_OPT_NOP	1
#define IP4_MF		0x2000
#define IP4_OFF_MASK	0x1fff
#define IP6_FRAG_M	0x0001
#define IP6_FRAG_OFF	0xfff8

/* Offsets in the meta are 16 bits; so is an mbuf segment's data_len. */
#define FRAME_MAX	UINT16_MAX

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Big-endian 16-bit load from any alignment; compiles to a load + swap. */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Record r as the packet's verdict and return it. */
static inline enum sl_malformed verdict(struct sl_pkt_meta *m,
					enum sl_malformed r)
{
	m->malformed = (uint8_t)r;
	return r;
}

/*
 * Accepts the bytes of the options area of an IPv4 header (n <= 40).
 * Returns 1 if every option fits inside it, 0 if one overruns.
 */
static int ip4_opts_ok(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t t = p[i];
		uint8_t olen;

		if (t == IP4_OPT_EOL)
			return 1;	/* the rest is padding */
		if (t == IP4_OPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return 0;
		olen = p[i + 1];
		if (olen < 2 || olen > n - i)
			return 0;
		i += olen;
	}
	return 1;
}

/*
 * Accepts an IP packet whose L4 header starts at off and whose IP
 * datagram ends at end (<= the frame). Fills ports, flags and the
 * payload bounds for the protocol in m->proto.
 */
static enum sl_malformed parse_l4(const uint8_t *data, uint32_t off,
				  uint32_t end, struct sl_pkt_meta *m)
{
	const uint8_t *l4 = data + off;
	uint32_t room = end - off;
	uint32_t hlen;

	m->l4_off = (uint16_t)off;
	if (likely(m->proto == IPPROTO_TCP_)) {
		if (unlikely(room < TCP_HLEN))
			return verdict(m, SL_MAL_L4_TRUNC);
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (unlikely(hlen < TCP_HLEN || hlen > room))
			return verdict(m, SL_MAL_TCP_DOFF);
		m->sport = rd16(l4);
		m->dport = rd16(l4 + 2);
		m->tcp_flags = l4[13];
		m->flags |= SL_PKT_F_L4;
	} else if (likely(m->proto == IPPROTO_UDP_)) {
		if (unlikely(room < UDP_HLEN))
			return verdict(m, SL_MAL_L4_TRUNC);
		hlen = UDP_HLEN;
		m->sport = rd16(l4);
		m->dport = rd16(l4 + 2);
		m->flags |= SL_PKT_F_L4;
	} else if ((m->proto == IPPROTO_ICMP_ &&
		    m->family == SL_FAMILY_IPV4) ||
		   (m->proto == IPPROTO_ICMPV6_ &&
		    m->family == SL_FAMILY_IPV6)) {
		/* No ports: the type-specific rest is payload here. */
		if (unlikely(room < ICMP_HLEN))
			return verdict(m, SL_MAL_L4_TRUNC);
		hlen = ICMP_HLEN;
	} else {
		/* Not parsed: everything after the IP headers is payload. */
		hlen = 0;
	}
	m->payload_off = (uint16_t)(off + hlen);
	m->payload_len = (uint16_t)(room - hlen);
	return verdict(m, SL_MAL_NONE);
}

/*
 * A fragment that does not start the datagram carries no L4 header:
 * its data (from off to end) is all payload, and ports stay 0.
 */
static enum sl_malformed later_fragment(uint32_t off, uint32_t end,
					struct sl_pkt_meta *m)
{
	m->l4_off = (uint16_t)off;
	m->payload_off = (uint16_t)off;
	m->payload_len = (uint16_t)(end - off);
	return verdict(m, SL_MAL_NONE);
}

/*
 * Accepts a checked IPv4 header at off (ihl, tot and the fragment
 * field read from it): fragments, then the L4 header.
 */
static inline enum sl_malformed ipv4_l4(const uint8_t *data, uint32_t off,
					uint32_t ihl, uint32_t tot,
					uint16_t frag, struct sl_pkt_meta *m)
{
	if (unlikely(frag & (IP4_MF | IP4_OFF_MASK))) {
		m->flags |= SL_PKT_F_FRAG;
		if (frag & IP4_OFF_MASK)
			return later_fragment(off + ihl, off + tot, m);
		m->flags |= SL_PKT_F_FRAG_FIRST;
	}
	return parse_l4(data, off + ihl, off + tot, m);
}

/*
 * ipv4_l4() for a header with options, after checking them. Out of
 * line and tail-called, so the common path (no options) makes no call
 * and keeps nothing live across one.
 */
static __attribute__((noinline, cold)) enum sl_malformed
ipv4_opts_l4(const uint8_t *data, uint32_t off, uint32_t ihl, uint32_t tot,
	     uint16_t frag, struct sl_pkt_meta *m)
{
	if (!ip4_opts_ok(data + off + IP4_HLEN, ihl - IP4_HLEN))
		return verdict(m, SL_MAL_IP4_OPT);
	return ipv4_l4(data, off, ihl, tot, frag, m);
}

/* Accepts a frame with an IPv4 header claimed at off (< len). */
static enum sl_malformed parse_ipv4(const uint8_t *data, uint32_t len,
				    uint32_t off, struct sl_pkt_meta *m)
{
	const uint8_t *ip = data + off;
	uint32_t room = len - off;
	uint32_t ihl, tot;
	uint16_t frag;
	uint8_t vihl;

	if (unlikely(room < IP4_HLEN))
		return verdict(m, SL_MAL_IP4_TRUNC);
	/*
	 * Load what the checks need before storing into m: m may alias
	 * the packet as far as the compiler knows, and would reload.
	 */
	vihl = ip[0];
	ihl = (uint32_t)(vihl & 0x0f) * 4;
	tot = rd16(ip + 2);
	frag = rd16(ip + 6);
	if (unlikely((vihl >> 4) != 4))
		return verdict(m, SL_MAL_IP4_VERSION);
	m->family = SL_FAMILY_IPV4;
	m->dscp = ip[1] >> 2;
	m->proto = ip[9];
	memcpy(m->src, ip + 12, 4);
	memcpy(m->dst, ip + 16, 4);

	if (unlikely(ihl < IP4_HLEN || ihl > room))
		return verdict(m, SL_MAL_IP4_IHL);
	/* Ethernet pads short frames: the datagram ends at tot, not len. */
	if (unlikely(tot < ihl || tot > room))
		return verdict(m, SL_MAL_IP4_LEN);
	if (unlikely(ihl > IP4_HLEN))
		return ipv4_opts_l4(data, off, ihl, tot, frag, m);
	return ipv4_l4(data, off, ihl, tot, frag, m);
}

/*
 * Accepts an IPv6 datagram whose first extension header (next header
 * nh) starts at off and which ends at end. Walks the chain to the
 * upper-layer header.
 */
static enum sl_malformed walk_ipv6_ext(const uint8_t *data, uint32_t off,
				       uint32_t end, uint8_t nh,
				       struct sl_pkt_meta *m)
{
	unsigned int n;

	for (n = 0; nh < 64 && ((1ull << nh) & IP6_EXT_SET); n++) {
		const uint8_t *h = data + off;
		uint32_t hlen;

		if (unlikely(n == SL_PKT_IPV6_EXT_MAX))
			return verdict(m, SL_MAL_IP6_EXT_DEPTH);
		if (unlikely(end - off < IP6_EXT_MIN))
			return verdict(m, SL_MAL_IP6_EXT_TRUNC);
		if (nh == IPPROTO_FRAGMENT_) {
			uint16_t fo = rd16(h + 2);

			hlen = IP6_FRAG_HLEN;
			if (fo & (IP6_FRAG_OFF | IP6_FRAG_M)) {
				m->flags |= SL_PKT_F_FRAG;
				if (fo & IP6_FRAG_OFF) {
					m->proto = h[0];
					return later_fragment(off + hlen,
							      end, m);
				}
				m->flags |= SL_PKT_F_FRAG_FIRST;
			}
		} else if (nh == IPPROTO_AH_) {
			hlen = ((uint32_t)h[1] + 2) * 4;
		} else {
			hlen = ((uint32_t)h[1] + 1) * 8;
		}
		if (unlikely(hlen > end - off))
			return verdict(m, SL_MAL_IP6_EXT_TRUNC);
		nh = h[0];
		off += hlen;
	}
	/* ESP (50) and No Next Header (59) end here, unparsed. */
	m->proto = nh;
	return parse_l4(data, off, end, m);
}

/* Accepts a frame with an IPv6 header claimed at off (< len). */
static enum sl_malformed parse_ipv6(const uint8_t *data, uint32_t len,
				    uint32_t off, struct sl_pkt_meta *m)
{
	const uint8_t *ip = data + off;
	uint32_t room = len - off;
	uint32_t plen;
	uint8_t nh;

	if (unlikely(room < IP6_HLEN))
		return verdict(m, SL_MAL_IP6_TRUNC);
	if (unlikely((ip[0] >> 4) != 6))
		return verdict(m, SL_MAL_IP6_VERSION);
	m->family = SL_FAMILY_IPV6;
	/* Traffic class straddles bytes 0-1; DSCP is its top six bits. */
	m->dscp = (uint8_t)((ip[0] & 0x0f) << 2 | ip[1] >> 6);
	/* Source and destination are adjacent in both header and meta. */
	memcpy(m->src, ip + 8, 32);

	plen = rd16(ip + 4);
	if (unlikely(plen > room - IP6_HLEN))
		return verdict(m, SL_MAL_IP6_LEN);
	nh = ip[6];
	if (likely(nh >= 64 || !((1ull << nh) & IP6_EXT_SET))) {
		m->proto = nh;
		return parse_l4(data, off + IP6_HLEN, off + IP6_HLEN + plen,
				m);
	}
	return walk_ipv6_ext(data, off + IP6_HLEN, off + IP6_HLEN + plen, nh,
			     m);
}

/* Accepts an Ethernet frame with 802.1Q/802.1ad tags starting at off. */
static enum sl_malformed parse_vlan(const uint8_t *data, uint32_t len,
				    struct sl_pkt_meta *m)
{
	uint32_t off = ETH_HLEN;
	uint16_t type = rd16(data + 12);
	unsigned int n;

	for (n = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		    type == ETHERTYPE_QINQ1; n++) {
		if (unlikely(n == SL_PKT_VLAN_MAX))
			return verdict(m, SL_MAL_VLAN_DEPTH);
		if (unlikely(len - off < VLAN_HLEN))
			return verdict(m, SL_MAL_VLAN_TRUNC);
		if (n == 0) {
			m->vlan = rd16(data + off) & 0x0fff;
			m->flags |= SL_PKT_F_VLAN;
		}
		/* The tag's TPID sits before its TCI: next type follows it. */
		type = rd16(data + off + 2);
		off += VLAN_HLEN;
	}
	if (type == ETHERTYPE_IPV4) {
		m->l3_off = (uint16_t)off;
		return parse_ipv4(data, len, off, m);
	}
	if (type == ETHERTYPE_IPV6) {
		m->l3_off = (uint16_t)off;
		return parse_ipv6(data, len, off, m);
	}
	return verdict(m, SL_MAL_NONE);
}

enum sl_malformed sl_pkt_parse(const uint8_t *data, uint32_t len,
			       struct sl_pkt_meta *m)
{
	uint16_t type;

	/*
	 * One fixed-size memset is four vector stores. Clearing only what
	 * each path leaves unset (header fields, then the addresses only
	 * for non-IP) measured no faster (test_pkt --bench), and a path
	 * that forgot a field would leak the previous packet's.
	 */
	memset(m, 0, sizeof(*m));
	if (unlikely(len > FRAME_MAX))
		len = FRAME_MAX;
	if (unlikely(len < ETH_HLEN))
		return verdict(m, SL_MAL_ETH_TRUNC);
	type = rd16(data + 12);
	if (likely(type == ETHERTYPE_IPV4)) {
		m->l3_off = ETH_HLEN;
		return parse_ipv4(data, len, ETH_HLEN, m);
	}
	if (type == ETHERTYPE_IPV6) {
		m->l3_off = ETH_HLEN;
		return parse_ipv6(data, len, ETH_HLEN, m);
	}
	return parse_vlan(data, len, m);
}

static const char *const mal_names[SL_MAL__COUNT] = {
	[SL_MAL_NONE]		= "none",
	[SL_MAL_ETH_TRUNC]	= "eth_trunc",
	[SL_MAL_VLAN_TRUNC]	= "vlan_trunc",
	[SL_MAL_VLAN_DEPTH]	= "vlan_depth",
	[SL_MAL_IP4_TRUNC]	= "ip4_trunc",
	[SL_MAL_IP4_IHL]	= "ip4_ihl",
	[SL_MAL_IP4_LEN]	= "ip4_len",
	[SL_MAL_IP4_OPT]	= "ip4_opt",
	[SL_MAL_IP4_VERSION]	= "ip4_version",
	[SL_MAL_IP6_TRUNC]	= "ip6_trunc",
	[SL_MAL_IP6_LEN]	= "ip6_len",
	[SL_MAL_IP6_VERSION]	= "ip6_version",
	[SL_MAL_IP6_EXT_TRUNC]	= "ip6_ext_trunc",
	[SL_MAL_IP6_EXT_DEPTH]	= "ip6_ext_depth",
	[SL_MAL_L4_TRUNC]	= "l4_trunc",
	[SL_MAL_TCP_DOFF]	= "tcp_doff",
};

/* Accepts any value; out of range reads "unknown", never NULL. */
const char *sl_malformed_name(enum sl_malformed r)
{
	if ((unsigned int)r >= SL_MAL__COUNT || !mal_names[r])
		return "unknown";
	return mal_names[r];
}

/*
 * Accepts a packet parsed by sl_pkt_parse (family set means the fixed
 * IP header lies inside the frame) and a DSCP of 0..63.
 */
int sl_pkt_set_dscp(uint8_t *data, const struct sl_pkt_meta *m, uint8_t dscp)
{
	uint8_t *ip = data + m->l3_off;
	uint32_t old, new, sum;

	if (dscp > 63)
		return -1;
	if (m->family == SL_FAMILY_IPV6) {
		ip[0] = (uint8_t)((ip[0] & 0xf0) | dscp >> 2);
		ip[1] = (uint8_t)((dscp & 0x03) << 6 | (ip[1] & 0x3f));
		return 0;
	}
	if (m->family != SL_FAMILY_IPV4)
		return -1;
	/* RFC 1624 eqn. 3 on the word holding TOS: HC' = ~(~HC + ~m + m'). */
	old = rd16(ip);
	ip[1] = (uint8_t)(dscp << 2 | (ip[1] & 0x03));
	new = rd16(ip);
	sum = (uint32_t)(~rd16(ip + 10) & 0xffff) + (~old & 0xffff) + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	return 0;
}
