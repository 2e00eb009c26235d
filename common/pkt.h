/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing: Ethernet, 802.1Q/802.1ad (QinQ), IPv4, IPv6 with
 * extension headers, TCP, UDP, ICMP, ICMPv6.
 *
 * The parser reads only the bytes [data, data + len) and never past
 * them, whatever the packet claims. It fills a small metadata record
 * that the classifier and the meters read; it never writes the packet.
 */
#ifndef SLUICE_PKT_H
#define SLUICE_PKT_H

#include <stdint.h>

#include "pkt_malformed.h"

/* Flags on a parsed packet. */
#define SL_PKT_F_L4	0x01	/* sport/dport (and tcp_flags for TCP) valid */
#define SL_PKT_F_VLAN	0x02	/* vlan valid (outermost tag) */
#define SL_PKT_F_FRAG	0x04	/* a fragment (first or not) */
#define SL_PKT_F_FRAG_FIRST 0x08 /* ... and the first one (offset 0) */

#define SL_FAMILY_NONE	0	/* not IP: ARP, LLDP, ... */
#define SL_FAMILY_IPV4	4
#define SL_FAMILY_IPV6	6

/*
 * What the classifier and the meters need of a packet. Addresses are
 * in network byte order (IPv4 in the first 4 bytes, the rest zero);
 * ports and the VLAN ID in host order. Fields not reached stay zero.
 *
 * family is set only once the fixed IP header (20 or 40 bytes) lies
 * inside the frame and its version is right; from then on family,
 * dscp and the addresses are valid even if a later check fails.
 * The L4 header is bounded by the IP datagram (IPv4 total length,
 * IPv6 payload length), never by Ethernet padding after it. Payload:
 * after the TCP/UDP header, after the 4-byte ICMP/ICMPv6 header, or
 * all that follows the IP headers for other protocols (ESP, No Next
 * Header, GRE, ...) and for non-first fragments, which have
 * l4_off == payload_off, proto from the fragment and no ports.
 */
struct sl_pkt_meta {
	uint8_t family;		/* SL_FAMILY_* */
	uint8_t proto;		/* IP protocol / final next header */
	uint8_t tcp_flags;	/* if TCP and SL_PKT_F_L4 */
	uint8_t dscp;		/* 0..63 */
	uint8_t flags;		/* SL_PKT_F_* */
	uint8_t malformed;	/* enum sl_malformed */
	uint16_t vlan;		/* VLAN ID (12 bits) of the outermost tag */
	uint16_t sport;
	uint16_t dport;
	uint16_t l3_off;	/* offset of the IP header */
	uint16_t l4_off;	/* offset of the L4 header */
	uint16_t payload_off;	/* offset of the L4 payload */
	uint16_t payload_len;	/* bytes of L4 payload inside the frame */
	uint8_t src[16];
	uint8_t dst[16];
};

/*
 * Parse a frame. Returns the malformed reason (SL_MAL_NONE when the
 * packet is well formed, including non-IP frames, which get family
 * SL_FAMILY_NONE), also stored in m->malformed. The metadata holds
 * what was parsed before any error. Reads only [data, data + len);
 * a frame over 65535 bytes (an mbuf segment's limit) is parsed as its
 * first 65535.
 */
enum sl_malformed sl_pkt_parse(const uint8_t *data, uint32_t len,
			       struct sl_pkt_meta *m);

/* Short stable name of a malformed reason, for counters ("ip4_ihl"). */
const char *sl_malformed_name(enum sl_malformed r);

/*
 * Rewrite the DSCP of a parsed IPv4 or IPv6 packet in place, keeping
 * ECN, and fix the IPv4 header checksum incrementally (RFC 1624). The
 * L4 checksums do not cover the DSCP. Returns 0, or -1 if not IP
 * (m->family is SL_FAMILY_NONE) or dscp > 63.
 */
int sl_pkt_set_dscp(uint8_t *data, const struct sl_pkt_meta *m, uint8_t dscp);

#endif /* SLUICE_PKT_H */
