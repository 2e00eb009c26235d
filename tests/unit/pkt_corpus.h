/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A deterministic corpus of Ethernet frames for tests that must agree
 * with the parser in common/pkt.c: IPv4 (options, fragments) and IPv6
 * (extension chains, fragments), 0 to 3 VLAN tags, TCP, UDP, ICMP,
 * ICMPv6 and unparsed protocols, non-IP frames, and about a third of
 * them broken (cut short, bad version, IHL, lengths, options, data
 * offset, too many tags or extension headers). Addresses, ports, flags
 * and DSCP are drawn from small pools most of the time, so a policy with
 * a few prefixes and ports matches some frames and misses others.
 *
 * The corpus carries no expected verdicts: sl_pkt_parse() is the oracle
 * each test compares against.
 */
#ifndef SLUICE_PKT_CORPUS_H
#define SLUICE_PKT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* Largest frame made: under what BPF_PROG_TEST_RUN takes for XDP. */
#define SL_CORPUS_FRAME_MAX	1600

struct sl_corpus_frame {
	uint32_t len;
	uint8_t data[SL_CORPUS_FRAME_MAX];
};

/*
 * Fill out[0..n) with frames n of the sequence seed names: the same seed
 * gives the same frames, and frame i does not depend on n. Frames may be
 * shorter than an Ethernet header (len 0 included).
 */
void sl_corpus_build(struct sl_corpus_frame *out, size_t n, uint64_t seed);

#endif /* SLUICE_PKT_CORPUS_H */
