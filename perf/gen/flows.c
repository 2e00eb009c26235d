/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame templates: one frame per flow group with the per-flow fields
 * (source address, ports) left zero, plus a small patch per flow holding
 * those fields and the checksums already computed. A packet is then a
 * copy of the template with the patch applied (sl_gen_tmpl_write()).
 * Pure C on DPDK's header structs and inline checksum helpers: no EAL.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "gen.h"

#define SL_GEN_TTL	64
#define SL_GEN_ICMP6_ECHO_REQUEST 128
#define SL_GEN_TCP_WINDOW 65535

/* Returns whether @proto's header has two 16-bit fields a flow varies. */
static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Returns the L4 header length sluice-gen writes for @proto. */
static uint32_t l4_hdr_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return sizeof(struct rte_tcp_hdr);
	case IPPROTO_UDP:
		return sizeof(struct rte_udp_hdr);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return sizeof(struct rte_icmp_hdr);
	default:
		return 0;	/* the payload follows the IP header */
	}
}

/* Returns the bytes of L2, L3 and L4 headers a frame of @s carries. */
uint32_t sl_gen_hdr_len(const struct sl_gen_spec *s)
{
	uint32_t len = sizeof(struct rte_ether_hdr);

	if (s->vlan >= 0)
		len += sizeof(struct rte_vlan_hdr);
	len += s->src.family == AF_INET6 ? sizeof(struct rte_ipv6_hdr) :
					   sizeof(struct rte_ipv4_hdr);
	return len + l4_hdr_len(s->proto);
}

/* Multiplies, saturating at UINT64_MAX. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

/* Returns how many distinct 5-tuples the ranges of @s give. */
uint64_t sl_gen_max_flows(const struct sl_gen_spec *s)
{
	uint64_t n = s->src.count;

	if (!has_ports(s->proto))
		return n;
	n = mul_sat(n, (uint64_t)s->sport.last - s->sport.first + 1);
	return mul_sat(n, (uint64_t)s->dport.last - s->dport.first + 1);
}

/* Writes the Ethernet header and optional 802.1Q tag; sets l3_off. */
static void build_l2(const struct sl_gen_spec *s,
		     const struct rte_ether_addr *src_mac,
		     struct sl_gen_tmpl *t)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)t->frame;
	uint16_t type = s->src.family == AF_INET6 ? RTE_ETHER_TYPE_IPV6 :
						    RTE_ETHER_TYPE_IPV4;
	struct rte_vlan_hdr *vh;

	rte_ether_addr_copy(&s->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(src_mac, &eth->src_addr);
	t->l3_off = sizeof(*eth);
	if (s->vlan < 0) {
		eth->ether_type = rte_cpu_to_be_16(type);
		return;
	}
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	vh = (struct rte_vlan_hdr *)(eth + 1);
	vh->vlan_tci = rte_cpu_to_be_16((uint16_t)s->vlan);
	vh->eth_proto = rte_cpu_to_be_16(type);
	t->l3_off += sizeof(*vh);
}

/* Writes the IPv4 header (source zero); sets the patch offsets. */
static void build_ipv4(const struct sl_gen_spec *s, struct sl_gen_tmpl *t)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(t->frame + t->l3_off);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = (uint8_t)(s->dscp << 2);
	/* Padding up to --size is L4 payload, so receivers count it. */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(t->size - t->l3_off));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = SL_GEN_TTL;
	ip->next_proto_id = s->proto;
	memcpy(&ip->dst_addr, s->dst.first, 4);
	t->src_off = t->l3_off + offsetof(struct rte_ipv4_hdr, src_addr);
	t->addr_len = 4;
	t->ip_cksum_off = t->l3_off + offsetof(struct rte_ipv4_hdr, hdr_checksum);
	t->l4_off = t->l3_off + sizeof(*ip);
}

/* Writes the IPv6 header (source zero); sets the patch offsets. */
static void build_ipv6(const struct sl_gen_spec *s, struct sl_gen_tmpl *t)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(t->frame + t->l3_off);

	/* Version 6, traffic class = DSCP << 2, flow label 0. */
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)s->dscp << 22);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(t->size - t->l3_off -
						      sizeof(*ip)));
	ip->proto = s->proto;
	ip->hop_limits = SL_GEN_TTL;
	memcpy(ip->dst_addr, s->dst.first, 16);
	t->src_off = t->l3_off + offsetof(struct rte_ipv6_hdr, src_addr);
	t->addr_len = 16;
	t->l4_off = t->l3_off + sizeof(*ip);
}

/* Writes the L4 header (ports, checksum zero) and the payload. */
static void build_l4(const struct sl_gen_spec *s, struct sl_gen_tmpl *t)
{
	uint8_t *l4 = t->frame + t->l4_off;
	struct rte_icmp_hdr *icmp;
	struct rte_udp_hdr *udp;
	struct rte_tcp_hdr *tcp;

	switch (s->proto) {
	case IPPROTO_UDP:
		udp = (struct rte_udp_hdr *)l4;
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(t->size - t->l4_off));
		t->ports_off = t->l4_off;
		t->l4_cksum_off = t->l4_off + offsetof(struct rte_udp_hdr, dgram_cksum);
		break;
	case IPPROTO_TCP:
		tcp = (struct rte_tcp_hdr *)l4;
		tcp->sent_seq = rte_cpu_to_be_32(1);
		if (s->tcp_flags & RTE_TCP_ACK_FLAG)
			tcp->recv_ack = rte_cpu_to_be_32(1);
		tcp->data_off = (sizeof(*tcp) / 4) << 4;
		tcp->tcp_flags = s->tcp_flags;
		tcp->rx_win = rte_cpu_to_be_16(SL_GEN_TCP_WINDOW);
		t->ports_off = t->l4_off;
		t->l4_cksum_off = t->l4_off + offsetof(struct rte_tcp_hdr, cksum);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		icmp = (struct rte_icmp_hdr *)l4;
		icmp->icmp_type = s->proto == IPPROTO_ICMP ?
				  RTE_IP_ICMP_ECHO_REQUEST :
				  SL_GEN_ICMP6_ECHO_REQUEST;
		t->ports_off = t->l4_off + offsetof(struct rte_icmp_hdr, icmp_ident);
		t->l4_cksum_off = t->l4_off + offsetof(struct rte_icmp_hdr, icmp_cksum);
		break;
	default:
		break;
	}
	memcpy(l4 + l4_hdr_len(s->proto), s->payload, s->payload_len);
}

/*
 * Returns the L4 checksum of a flow. @base is the folded sum of the L4
 * segment with ports and checksum zero, @ip the flow's IP header.
 */
static rte_be16_t l4_cksum(const struct sl_gen_tmpl *t, uint8_t proto,
			   const void *ip, uint32_t base,
			   const struct sl_gen_flow *f)
{
	uint32_t sum = base;
	uint16_t ck;

	sum = __rte_raw_cksum(&f->sport, sizeof(f->sport), sum);
	sum = __rte_raw_cksum(&f->dport, sizeof(f->dport), sum);
	if (proto != IPPROTO_ICMP)	/* ICMPv4 has no pseudo-header */
		sum += t->addr_len == 4 ? rte_ipv4_phdr_cksum(ip, 0) :
					  rte_ipv6_phdr_cksum(ip, 0);
	ck = (uint16_t)~__rte_raw_cksum_reduce(sum);
	/* UDP sends 0 as "no checksum"; its ones' complement twin is 0xffff. */
	if (proto == IPPROTO_UDP && ck == 0)
		ck = 0xffff;
	return ck;
}

/* Fills in every flow's source, ports and checksums. */
static void build_flows(const struct sl_gen_spec *s, struct sl_gen_tmpl *t)
{
	uint64_t nb_sport = (uint64_t)s->sport.last - s->sport.first + 1;
	uint64_t nb_dport = (uint64_t)s->dport.last - s->dport.first + 1;
	uint32_t ip_len = t->l4_off - t->l3_off;
	uint32_t base = 0;
	uint8_t ip[sizeof(struct rte_ipv6_hdr)];
	uint32_t i;

	if (t->l4_cksum_off)
		base = __rte_raw_cksum_reduce(__rte_raw_cksum(t->frame + t->l4_off,
							      t->size - t->l4_off, 0));
	memcpy(ip, t->frame + t->l3_off, ip_len);
	for (i = 0; i < t->nb_flows; i++) {
		struct sl_gen_flow *f = &t->flow[i];
		/* Source address varies first, then sport, then dport. */
		uint64_t r = i / s->src.count;

		sl_gen_addr_add(s->src.first, t->addr_len, i % s->src.count,
				f->src);
		if (t->ports_off) {
			f->sport = rte_cpu_to_be_16((uint16_t)(s->sport.first +
							       r % nb_sport));
			r /= nb_sport;
			f->dport = rte_cpu_to_be_16((uint16_t)(s->dport.first +
							       r % nb_dport));
		}
		memcpy(ip + (t->src_off - t->l3_off), f->src, t->addr_len);
		if (t->ip_cksum_off)
			f->ip_cksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)ip);
		if (t->l4_cksum_off)
			f->l4_cksum = l4_cksum(t, s->proto, ip, base, f);
	}
}

/*
 * Builds the template and flows of group @s (finalized by
 * sl_gen_spec_finalize()) sent from @src_mac. Returns 0 or -ENOMEM.
 */
int sl_gen_tmpl_build(const struct sl_gen_spec *s,
		      const struct rte_ether_addr *src_mac,
		      struct sl_gen_tmpl *t)
{
	memset(t, 0, sizeof(*t));
	t->size = s->size;
	t->nb_flows = s->flows;
	t->frame = calloc(1, t->size);
	if (t->frame == NULL)
		goto fail;
	t->flow = calloc(t->nb_flows, sizeof(*t->flow));
	if (t->flow == NULL)
		goto free_frame;
	build_l2(s, src_mac, t);
	if (s->src.family == AF_INET6)
		build_ipv6(s, t);
	else
		build_ipv4(s, t);
	build_l4(s, t);
	build_flows(s, t);
	return 0;
free_frame:
	free(t->frame);
	t->frame = NULL;
fail:
	sl_gen_error("group %s: no memory for a template of %u flows",
		     s->name, s->flows);
	return -ENOMEM;
}

/* Frees what sl_gen_tmpl_build() allocated; safe on a zeroed @t. */
void sl_gen_tmpl_free(struct sl_gen_tmpl *t)
{
	free(t->flow);
	free(t->frame);
	t->flow = NULL;
	t->frame = NULL;
}
