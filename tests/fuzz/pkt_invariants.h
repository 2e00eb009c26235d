/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What must hold of any parse, whatever the bytes: the unit tests
 * (sample, truncation and random frames) and the libFuzzer target
 * hold sl_pkt_parse to the same rules.
 */
#ifndef SLUICE_TEST_PKT_INVARIANTS_H
#define SLUICE_TEST_PKT_INVARIANTS_H

#include <stdint.h>
#include <string.h>

#include "pkt.h"

static inline uint16_t inv_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline int inv_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* Checks an IP parse; returns what is wrong, or NULL. */
static inline const char *inv_ip(const uint8_t *d, uint32_t len,
				 enum sl_malformed r,
				 const struct sl_pkt_meta *m)
{
	const uint8_t *ip = d + m->l3_off;
	uint32_t fixed = m->family == SL_FAMILY_IPV4 ? 20 : 40;
	uint32_t l4min;

	if (m->l3_off < 14 || m->l3_off + fixed > len)
		return "family set but the fixed IP header is not in the frame";
	if (m->family == SL_FAMILY_IPV4) {
		if ((ip[0] >> 4) != 4 || m->dscp != ip[1] >> 2 ||
		    m->proto != ip[9])
			return "IPv4 version, dscp or proto disagrees with header";
		if (memcmp(m->src, ip + 12, 4) || memcmp(m->dst, ip + 16, 4) ||
		    !inv_zero(m->src + 4, 12) || !inv_zero(m->dst + 4, 12))
			return "IPv4 addresses disagree with header";
	} else {
		if ((ip[0] >> 4) != 6 ||
		    m->dscp != ((ip[0] & 0x0f) << 2 | ip[1] >> 6))
			return "IPv6 version or dscp disagrees with header";
		if (memcmp(m->src, ip + 8, 16) || memcmp(m->dst, ip + 24, 16))
			return "IPv6 addresses disagree with header";
	}
	if (r != SL_MAL_NONE)
		return NULL;
	if (m->l4_off < m->l3_off + fixed || m->payload_off < m->l4_off)
		return "well-formed IP packet without L4/payload offsets";
	if (m->family == SL_FAMILY_IPV4 &&
	    m->payload_off + m->payload_len != m->l3_off + inv_rd16(ip + 2))
		return "IPv4 payload does not end at the total length";
	if (m->family == SL_FAMILY_IPV6 &&
	    m->payload_off + m->payload_len !=
	    m->l3_off + 40u + inv_rd16(ip + 4))
		return "IPv6 payload does not end at the payload length";
	if (!(m->flags & SL_PKT_F_L4))
		return NULL;
	if (m->proto != 6 && m->proto != 17)
		return "F_L4 on a protocol without ports";
	l4min = m->proto == 6 ? 20 : 8;
	if (m->l4_off + l4min > len || m->payload_off < m->l4_off + l4min)
		return "F_L4 with the L4 header beyond the frame";
	if (m->sport != inv_rd16(d + m->l4_off) ||
	    m->dport != inv_rd16(d + m->l4_off + 2))
		return "ports disagree with the L4 header";
	if (m->proto == 6 && (m->tcp_flags != d[m->l4_off + 13] ||
			      m->payload_off != m->l4_off +
			      (d[m->l4_off + 12] >> 4) * 4u))
		return "TCP flags or data offset disagree with header";
	return NULL;
}

/*
 * Accepts the frame given to sl_pkt_parse, its return and the meta it
 * filled. Returns a description of the first rule broken, or NULL.
 */
static inline const char *sl_pkt_invariant_violation(const uint8_t *d,
						     uint32_t len,
						     enum sl_malformed r,
						     const struct sl_pkt_meta *m)
{
	if ((unsigned int)r >= SL_MAL__COUNT || m->malformed != r)
		return "return value and meta->malformed disagree";
	if (len < 14 && r != SL_MAL_ETH_TRUNC)
		return "a frame under 14 bytes is not eth_trunc";
	if (m->payload_off + m->payload_len > len || m->l4_off > len ||
	    m->l3_off > len)
		return "an offset points past the frame";
	if (m->dscp > 63 || m->vlan > 4095)
		return "dscp or vlan out of range";
	if (!(m->flags & SL_PKT_F_VLAN) && m->vlan)
		return "vlan set without F_VLAN";
	if ((m->flags & SL_PKT_F_VLAN) && (len < 18 ||
	    (inv_rd16(d + 14) & 0x0fff) != m->vlan))
		return "vlan disagrees with the outer tag";
	if (m->flags & ~(SL_PKT_F_L4 | SL_PKT_F_VLAN | SL_PKT_F_FRAG |
			 SL_PKT_F_FRAG_FIRST))
		return "unknown flag set";
	if ((m->flags & SL_PKT_F_FRAG_FIRST) && !(m->flags & SL_PKT_F_FRAG))
		return "F_FRAG_FIRST without F_FRAG";
	if ((m->flags & SL_PKT_F_FRAG) && !(m->flags & SL_PKT_F_FRAG_FIRST) &&
	    (m->flags & SL_PKT_F_L4))
		return "a non-first fragment claims an L4 header";
	if ((m->flags & SL_PKT_F_L4) && r != SL_MAL_NONE)
		return "F_L4 on a malformed packet";
	if (!(m->flags & SL_PKT_F_L4) && (m->sport || m->dport ||
					  m->tcp_flags))
		return "ports or TCP flags without F_L4";
	if (m->family == SL_FAMILY_IPV4 || m->family == SL_FAMILY_IPV6)
		return inv_ip(d, len, r, m);
	if (m->family != SL_FAMILY_NONE)
		return "unknown family";
	if (m->proto || m->dscp || m->l4_off || m->payload_off ||
	    m->payload_len || !inv_zero(m->src, 16) || !inv_zero(m->dst, 16))
		return "non-IP packet with IP fields set";
	if (m->flags & ~SL_PKT_F_VLAN)
		return "non-IP packet with L4 or fragment flags";
	return NULL;
}

#endif /* SLUICE_TEST_PKT_INVARIANTS_H */
