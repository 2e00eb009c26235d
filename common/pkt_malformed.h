/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why a packet is malformed, and the bounds that make it so: shared by the C parser (pkt.h) and the XDP
 * program, whose counters use the same indices. No includes, so the
 * BPF target can use it.
 */
#ifndef SLUICE_PKT_MALFORMED_H
#define SLUICE_PKT_MALFORMED_H

/* Bounds on what the parser walks; beyond them a packet is malformed. */
#define SL_PKT_VLAN_MAX		2	/* tags: 802.1Q, or QinQ */
#define SL_PKT_IPV6_EXT_MAX	8	/* extension headers in one chain */

/* Why a packet is malformed; SL_MAL_NONE for a well-formed one. */
enum sl_malformed {
	SL_MAL_NONE = 0,
	SL_MAL_ETH_TRUNC,	/* shorter than an Ethernet header */
	SL_MAL_VLAN_TRUNC,	/* VLAN tag cut short */
	SL_MAL_VLAN_DEPTH,	/* more than SL_PKT_VLAN_MAX tags */
	SL_MAL_IP4_TRUNC,	/* IPv4 header cut short */
	SL_MAL_IP4_IHL,		/* IHL < 5 or beyond the frame */
	SL_MAL_IP4_LEN,		/* total length < IHL or beyond the frame */
	SL_MAL_IP4_OPT,		/* an option overruns the header */
	SL_MAL_IP4_VERSION,	/* version field is not 4 */
	SL_MAL_IP6_TRUNC,	/* IPv6 header cut short */
	SL_MAL_IP6_LEN,		/* payload length beyond the frame */
	SL_MAL_IP6_VERSION,	/* version field is not 6 */
	SL_MAL_IP6_EXT_TRUNC,	/* extension header cut short */
	SL_MAL_IP6_EXT_DEPTH,	/* more than SL_PKT_IPV6_EXT_MAX headers */
	SL_MAL_L4_TRUNC,	/* TCP/UDP/ICMP header cut short */
	SL_MAL_TCP_DOFF,	/* TCP data offset < 5 or beyond the packet */
	SL_MAL__COUNT
};

#endif /* SLUICE_PKT_MALFORMED_H */
