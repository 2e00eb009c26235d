/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl replay` tests, end to end through the binary.
 *
 * Each case is a policy, a table of packet streams (a frame template,
 * a start time, a gap and a count, to the nanosecond) and the counts
 * worked out by hand from the token arithmetic (comments show the sums).
 * The test writes the streams to a nanosecond pcap, runs
 * `sluicectl -j replay --policy P in.pcap out.pcap` and requires:
 *   - the hand counts to equal those of an exact reference policer in
 *     this file (credit in 1/1e9 token, 128-bit, one bucket per bucket
 *     the case names), so the sums and the model check each other;
 *   - every count of the JSON (design.md's shape) to equal the model's,
 *     packets and bytes;
 *   - out.pcap to hold exactly the packets the model forwards, in order,
 *     with their timestamps and lengths, byte for byte, marked ones with
 *     the new DSCP, ECN kept and valid IPv4 and L4 checksums.
 * Then determinism (two runs, byte-identical JSON and out.pcap) and the
 * error paths (exit 1 with a JSON error, exit 2 for usage).
 *
 * The binary under test: $SLUICECTL if set, else the sluicectl that
 * meson built beside this test (SL_SLUICECTL, an absolute path compiled
 * in, so build/ and build-asan/ each test their own), else
 * build/control/sluicectl relative to the current directory.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>

#ifndef SL_SLUICECTL
#define SL_SLUICECTL "build/control/sluicectl"
#endif

__extension__ typedef unsigned __int128 u128;

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define ARR(a)	(a), N(a)

#define NS	1000000000ULL
#define MS	1000000ULL
#define US	1000ULL
/* Capture epoch: 2023-11-14T22:13:20Z, so timestamps look real. */
#define T0	(1700000000ULL * NS)

#define FRAME_MAX	2048
#define MAX_CLASSES	8
#define MAX_BUCKETS	4
#define NO_CLASS	(-1)

/* Fails without Check's per-assert bookkeeping, for loops over packets. */
#define CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			ck_abort_msg(__VA_ARGS__);	\
	} while (0)

/* ---- Frames ------------------------------------------------------ */

enum pkt_kind {
	P_UDP4,
	P_TCP4,		/* a SYN */
	P_UDP6,
	P_ARP,		/* non-IP: forwarded whatever the policy */
	P_TRUNC4,	/* IPv4 header cut after 10 bytes: ip4_trunc */
	P_BADLEN4,	/* IPv4 total length past the frame: ip4_len */
};

struct pkt_spec {
	uint8_t kind;
	uint8_t tos;		/* IPv4 TOS or IPv6 traffic class */
	uint16_t sport, dport;
	uint32_t len;		/* frame length on the wire */
	const char *src, *dst;
};

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* Accepts any bytes; the ones' complement sum, not yet folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Accepts an IPv4 header of ihl bytes; sets its checksum from scratch. */
static void ip4_csum_set(uint8_t *ip, uint32_t ihl)
{
	ip[10] = ip[11] = 0;
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}

/* The sum of the IPv4 or IPv6 pseudo header of an L4 segment. */
static uint32_t pseudo_sum(const uint8_t *ip, bool v6, uint8_t proto,
			   uint32_t l4len)
{
	uint32_t sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);

	return sum + proto + (l4len >> 16) + (l4len & 0xffff);
}

static bool parse_addr(const char *s, bool v6, uint8_t *out)
{
	return inet_pton(v6 ? AF_INET6 : AF_INET, s, out) == 1;
}

/*
 * Accepts a spec and a tag that makes the frame unique (stream and
 * sequence number, in the payload); builds the frame into b and
 * returns its length. Checksums are correct unless the kind is broken.
 */
static uint32_t frame_build(const struct pkt_spec *s, uint64_t tag, uint8_t *b)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	bool v6 = s->kind == P_UDP6, tcp = s->kind == P_TCP4;
	uint32_t len = s->len, iphl = v6 ? 40 : 20, l4hl = tcp ? 20 : 8;
	uint8_t *ip = b + 14, *l4 = ip + iphl, *pl = l4 + l4hl;
	uint32_t l4len = len - 14 - iphl;

	CHECK(len <= FRAME_MAX && len >= 60, "frame length %u", len);
	memset(b, 0, len);
	memcpy(b, mac, sizeof(mac));
	if (s->kind == P_ARP) {
		put16(b + 12, 0x0806);
		memcpy(b + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
		return len;
	}
	put16(b + 12, v6 ? 0x86dd : 0x0800);
	CHECK(l4len >= l4hl + 8, "frame of %u bytes too short for its tag", len);
	for (uint32_t i = 8; i < l4len - l4hl; i++)
		pl[i] = (uint8_t)(i * 7 + tag);
	for (int i = 0; i < 8; i++)
		pl[i] = (uint8_t)(tag >> (56 - 8 * i));
	if (v6) {
		ip[0] = (uint8_t)(0x60 | s->tos >> 4);
		ip[1] = (uint8_t)(s->tos << 4);
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = 17;
		ip[7] = 64;
		CHECK(parse_addr(s->src, true, ip + 8) &&
		      parse_addr(s->dst, true, ip + 24), "bad address in spec");
	} else {
		ip[0] = 0x45;
		ip[1] = s->tos;
		put16(ip + 2, (uint16_t)(len - 14));
		put16(ip + 4, (uint16_t)tag);
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		CHECK(parse_addr(s->src, false, ip + 12) &&
		      parse_addr(s->dst, false, ip + 16), "bad address in spec");
	}
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (tcp) {
		put16(l4 + 4, (uint16_t)(tag >> 16));	/* sequence number */
		put16(l4 + 6, (uint16_t)tag);
		l4[12] = 5 << 4;
		l4[13] = 0x02;				/* SYN */
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)l4len);
	}
	{
		uint16_t c = (uint16_t)~csum_fold(csum_add(
			pseudo_sum(ip, v6, tcp ? 6 : 17, l4len), l4, l4len));

		put16(l4 + (tcp ? 16 : 6), c == 0 && !tcp ? 0xffff : c);
	}
	if (!v6)
		ip4_csum_set(ip, 20);
	if (s->kind == P_TRUNC4)
		return 14 + 10;
	if (s->kind == P_BADLEN4) {
		put16(ip + 2, (uint16_t)(len - 14 + 100));
		ip4_csum_set(ip, 20);
	}
	return len;
}

/* Accepts a frame built above (IP kinds); whether its checksums hold. */
static bool frame_csums_ok(const uint8_t *b, uint32_t len)
{
	bool v6 = b[12] == 0x86 && b[13] == 0xdd;
	const uint8_t *ip = b + 14;
	uint32_t iphl = v6 ? 40 : 20, l4len = len - 14 - iphl;
	uint8_t proto = v6 ? ip[6] : ip[9];

	if (!v6 && csum_fold(csum_add(0, ip, 20)) != 0xffff)
		return false;
	return csum_fold(csum_add(pseudo_sum(ip, v6, proto, l4len),
				  ip + iphl, l4len)) == 0xffff;
}

/* Accepts a built IP frame; rewrites its DSCP as marking must. */
static void frame_mark(uint8_t *b, uint8_t dscp)
{
	uint8_t *ip = b + 14;

	if (b[12] == 0x86) {
		uint8_t tc = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);

		tc = (uint8_t)(dscp << 2 | (tc & 3));
		ip[0] = (uint8_t)(0x60 | tc >> 4);
		ip[1] = (uint8_t)((tc & 0x0f) << 4 | (ip[1] & 0x0f));
		return;
	}
	ip[1] = (uint8_t)(dscp << 2 | (ip[1] & 3));
	ip4_csum_set(ip, 20);
}

/* ---- Cases --------------------------------------------------------- */

enum action { A_DROP, A_MONITOR, A_MARK };

/* A class as the model meters it, and the counts worked out by hand. */
struct cls_model {
	const char *name;
	uint64_t rate;		/* tokens per second; 0: no limit */
	uint64_t capacity;	/* tokens: packets, or bits for bit rates */
	bool bits;
	uint8_t action;
	uint8_t dscp;		/* for A_MARK */
	uint64_t passed, dropped, marked, monitored;
	uint64_t ceil_rate;	/* tokens per second; 0: no ceiling */
	uint64_t ceil_capacity;
	bool ceil_bits;
};

struct stream {
	struct pkt_spec p;
	int cls;		/* index into the case's classes, or NO_CLASS */
	int bucket;		/* streams of a class with one bucket share it */
	uint64_t start_ns, gap_ns;
	uint32_t count;
};

struct replay_case {
	const char *name;
	const char *policy;
	bool default_drop;
	const struct cls_model *cls;
	uint32_t n_cls;
	const struct stream *st;
	uint32_t n_st;
	uint32_t snaplen;	/* 0: whole frames */
	/* By hand, outside the classes. */
	uint64_t def_passed, def_dropped, malformed, non_ip;
	const char *reasons;	/* JSON object of malformed reasons */
};

#define UDP4(s, d, sp, dp)	{ P_UDP4, 0, sp, dp, 64, s, d }
#define UDP4L(s, d, sp, dp, l)	{ P_UDP4, 0, sp, dp, l, s, d }
#define TCP4(s, d, sp, dp)	{ P_TCP4, 0, sp, dp, 64, s, d }
#define UDP6(s, d, sp, dp)	{ P_UDP6, 0, sp, dp, 80, s, d }

/*
 * A greedy source at spacing d <= 1/rate against a bucket of capacity B
 * that starts full at its first packet (t = 0) keeps the bucket below
 * two packets' worth, so after its last packet at T less than one
 * packet's worth is left: passed = floor((B + rate * T) / cost).
 */

/* 1000 pps for 10 s, t = 0..10 s inclusive: 10001 packets. At t = 10 ms
 * the credit is 10 - 11 + 100 * 0.010 + 1 = exactly 1 token (the
 * boundary packet passes), and so on every 10 ms up to t = 10 s:
 * 10 + 100 * 10 = 1010 pass. */
static const struct cls_model pps_cls[] = {
	{ "c", 100, 10, false, A_DROP, 0, 1010, 8991, 0, 0 },
};
static const struct stream pps_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 40000, 1000), 0, 0, 0, MS, 10001 },
};

/* 100 pps, burst 1: a packet every 10 ms from t = 0 passes (credit exactly
 * 1 again), one 1 ns before each of them (credit 1 - 1e-7) does not. Off
 * the microsecond grid (t = 0 is 999 ns past it), so a replay that
 * dropped the nanoseconds would pass the early ones instead. */
static const struct cls_model edge_cls[] = {
	{ "c", 100, 1, false, A_DROP, 0, 101, 100, 0, 0 },
};
static const struct stream edge_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 40000, 1000), 0, 0, 999, 10 * MS, 101 },
	{ UDP4("10.0.0.1", "192.0.2.1", 40001, 1000), 0, 0, 10 * MS + 998, 10 * MS, 100 },
};

/* 1 pps, burst 1, offered 10 pps for 100 s (1001 packets): 1 + 100. */
static const struct cls_model pps1_cls[] = {
	{ "c", 1, 1, false, A_DROP, 0, 101, 900, 0, 0 },
};
static const struct stream pps1_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 40000, 1000), 0, 0, 0, 100 * MS, 1001 },
};

/* 2 kpps, burst 5, offered 5 kpps for 2 s (10001): 5 + 2000 * 2. */
static const struct cls_model kpps_cls[] = {
	{ "c", 2000, 5, false, A_DROP, 0, 4005, 5996, 0, 0 },
};
static const struct stream kpps_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 40000, 1000), 0, 0, 0, 200 * US, 10001 },
};

/* 10 Mpps, burst 1000, offered 20 Mpps (50 ns apart) for 1 ms (20001):
 * 1000 + 1e7 * 1e-3. */
static const struct cls_model mpps_cls[] = {
	{ "c", 10000000, 1000, false, A_DROP, 0, 11000, 9001, 0, 0 },
};
static const struct stream mpps_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 40000, 1000), 0, 0, 0, 50, 20001 },
};

/* 1 Mbit, burst 10000 B, 1000-byte frames (8000 bits) at 1000 pps for 2 s
 * (2001): (80000 + 1e6 * 2) / 8000 = 260, the last at t = 2 s exactly. */
static const struct cls_model mbit_cls[] = {
	{ "c", 1000000, 80000, true, A_DROP, 0, 260, 1741, 0, 0 },
};
static const struct stream mbit_st[] = {
	{ UDP4L("10.0.0.1", "192.0.2.1", 40000, 1000, 1000), 0, 0, 0, MS, 2001 },
};

/* 10 Gbit, burst 64 KB (524288 bits), 1500-byte frames (12000 bits) at
 * 20 Gbit/s (600 ns apart), 1667 frames to t = 999.6 us:
 * (524288 + 1e10 * 999600e-9) / 12000 = 10520288 / 12000 = 876.7. */
static const struct cls_model gbit_cls[] = {
	{ "c", 10000000000ULL, 524288, true, A_DROP, 0, 876, 791, 0, 0 },
};
static const struct stream gbit_st[] = {
	{ UDP4L("10.0.0.1", "192.0.2.1", 40000, 1000, 1500), 0, 0, 0, 600, 1667 },
};

/*
 * Bucket keys: every class is 100 pps, burst 10, matched by its dport.
 * Each bucket gets 1000 pps over t = 0..1 s in all, so passes
 * 10 + 100 = 110; streams that share a bucket take turns (2 ms apart,
 * 1 ms out of step). A key that split a shared bucket would pass 220
 * there, one that merged two buckets 110 instead of 220.
 */
static const struct cls_model keys_cls[] = {
	/* src: 10.0.0.1 at 1000 pps (110 of 1001), 10.0.0.2 at 500 pps
	 * (10 + 100 of 501). */
	{ "k-src", 100, 10, false, A_DROP, 0, 220, 891 + 391, 0, 0 },
	{ "k-src24", 100, 10, false, A_DROP, 0, 220, 2 * 891, 0, 0 },
	{ "k-dst", 100, 10, false, A_DROP, 0, 220, 2 * 891, 0, 0 },
	/* flow (all to one address): two UDP source ports, and TCP with
	 * the ports of the first. */
	{ "k-flow", 100, 10, false, A_DROP, 0, 330, 3 * 891, 0, 0 },
	{ "k-none", 100, 10, false, A_DROP, 0, 110, 891, 0, 0 },
	{ "k-src64", 100, 10, false, A_DROP, 0, 220, 2 * 891, 0, 0 },
};
static const struct stream keys_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 1001), 0, 0, 0, MS, 1001 },
	{ UDP4("10.0.0.2", "192.0.2.1", 1, 1001), 0, 1, 0, 2 * MS, 501 },
	{ UDP4("10.1.1.1", "192.0.2.1", 1, 1002), 1, 0, 0, 2 * MS, 501 },
	{ UDP4("10.1.1.2", "192.0.2.1", 1, 1002), 1, 0, MS, 2 * MS, 500 },
	{ UDP4("10.1.2.1", "192.0.2.1", 1, 1002), 1, 1, 0, MS, 1001 },
	{ UDP4("10.2.0.1", "192.0.2.1", 1, 1003), 2, 0, 0, 2 * MS, 501 },
	{ UDP4("10.2.0.2", "192.0.2.1", 1, 1003), 2, 0, MS, 2 * MS, 500 },
	{ UDP4("10.2.0.1", "192.0.2.2", 1, 1003), 2, 1, 0, MS, 1001 },
	{ UDP4("10.3.0.1", "192.0.3.1", 1, 1004), 3, 0, 0, MS, 1001 },
	{ UDP4("10.3.0.1", "192.0.3.1", 2, 1004), 3, 1, 0, MS, 1001 },
	{ TCP4("10.3.0.1", "192.0.3.1", 1, 1004), 3, 2, 0, MS, 1001 },
	{ UDP4("10.4.0.1", "192.0.2.1", 1, 1005), 4, 0, 0, 2 * MS, 501 },
	{ UDP4("10.4.9.9", "192.0.2.9", 1, 1005), 4, 0, MS, 2 * MS, 500 },
	{ UDP6("2001:db8:0:1::1", "2001:db8::2", 1, 1006), 5, 0, 0, 2 * MS, 501 },
	{ UDP6("2001:db8:0:1::2", "2001:db8::2", 1, 1006), 5, 0, MS, 2 * MS, 500 },
	{ UDP6("2001:db8:0:2::1", "2001:db8::2", 1, 1006), 5, 1, 0, MS, 1001 },
};

/*
 * Exceed actions, 100 pps, burst 10, 1000 pps over t = 0..1 s: 110 pass
 * and 891 exceed. Monitor and mark forward the 891; mark rewrites the
 * DSCP and keeps ECN (ECT(1) on IPv4, ECT(0) on IPv6).
 */
static const struct cls_model act_cls[] = {
	{ "mon", 100, 10, false, A_MONITOR, 0, 110, 0, 0, 891 },
	{ "mark4", 100, 10, false, A_MARK, 8, 110, 0, 891, 0 },
	{ "mark6", 100, 10, false, A_MARK, 34, 110, 0, 891, 0 },
	{ "free", 0, 0, false, A_DROP, 0, 50, 0, 0, 0 },
	{ "syn", 100, 10, false, A_DROP, 0, 110, 891, 0, 0 },
};
static const struct stream act_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 2001), 0, 0, 0, MS, 1001 },
	{ { P_UDP4, 46 << 2 | 1, 1, 2002, 64, "10.0.0.1", "192.0.2.1" },
	  1, 0, 0, MS, 1001 },
	{ { P_UDP6, 2, 1, 2003, 80, "2001:db8::1", "2001:db8::2" },
	  2, 0, 0, MS, 1001 },
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 2004), 3, 0, 0, 20 * MS, 50 },
	{ TCP4("10.0.0.1", "192.0.2.1", 1, 2005), 4, 0, 0, MS, 1001 },
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 9999), NO_CLASS, 0, 0, 50 * MS, 20 },
};

/*
 * Unmatched, non-IP and malformed packets. Under default: drop the
 * unmatched (IPv4 and IPv6) and the malformed are dropped; ARP crosses.
 */
static const struct cls_model dflt_cls[] = {
	{ "allowed", 0, 0, false, A_DROP, 0, 30, 0, 0, 0 },
};
static const struct stream dflt_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 3001), 0, 0, 0, 10 * MS, 30 },
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 3002), NO_CLASS, 0, 1, 10 * MS, 40 },
	{ UDP6("2001:db8::1", "2001:db8::2", 1, 3001), NO_CLASS, 0, 2, 10 * MS, 10 },
	{ { P_ARP, 0, 0, 0, 60, NULL, NULL }, NO_CLASS, 0, 3, 10 * MS, 5 },
	{ { P_TRUNC4, 0, 1, 3001, 64, "10.0.0.1", "192.0.2.1" },
	  NO_CLASS, 0, 4, 10 * MS, 3 },
	{ { P_BADLEN4, 0, 1, 3001, 64, "10.0.0.1", "192.0.2.1" },
	  NO_CLASS, 0, 5, 10 * MS, 4 },
};

/* No packets: every count zero, out.pcap a header. */
static const struct cls_model empty_cls[] = {
	{ "c", 100, 10, false, A_DROP, 0, 0, 0, 0, 0 },
};

/*
 * Class ceilings. "login": four sources, each under its own limit (100
 * pps, burst 10) at 1000 pps, 250 us out of step, for 1 s (1001 each,
 * the last at 1.00075 s); the ceiling, 200 pps with a burst of 20,
 * binds: the aggregate arrives every 250 us, far denser than a token
 * (5 ms), so passed = floor(20 + 200 * T) for T = 1 s, the last time
 * the credit reaches one token again: 220, and 4004 - 220 dropped.
 * A source refused by its key leaves the token to the next packet.
 * "big": one source held by its limit (10 + 100 * 1 = 110 of 1001),
 * its ceiling far away. "all": a ceiling alone, 1 Mbit with a burst of
 * 10000 B, two sources of 1000-byte frames alternating every 1 ms for
 * 2 s: (80000 + 1e6 * 2) / 8000 = 260 pass, 1741 are marked.
 */
static const struct cls_model ceil_cls[] = {
	{ "login", 100, 10, false, A_DROP, 0, 220, 3784, 0, 0, 200, 20, false },
	{ "big", 100, 10, false, A_DROP, 0, 110, 891, 0, 0, 10000, 1000, false },
	{ "all", 0, 0, false, A_MARK, 10, 260, 0, 1741, 0, 1000000, 80000, true },
};
static const struct stream ceil_st[] = {
	{ UDP4("10.0.0.1", "192.0.2.1", 1, 4001), 0, 0, 0, MS, 1001 },
	{ UDP4("10.0.0.2", "192.0.2.1", 1, 4001), 0, 1, 250 * US, MS, 1001 },
	{ UDP4("10.0.0.3", "192.0.2.1", 1, 4001), 0, 2, 500 * US, MS, 1001 },
	{ UDP4("10.0.0.4", "192.0.2.1", 1, 4001), 0, 3, 750 * US, MS, 1001 },
	{ UDP4("10.0.1.1", "192.0.2.1", 1, 4002), 1, 0, 100 * US, MS, 1001 },
	{ UDP4L("10.0.2.1", "192.0.2.1", 1, 4003, 1000), 2, 0, 0, 2 * MS, 1001 },
	{ UDP4L("10.0.2.2", "192.0.2.1", 1, 4003, 1000), 2, 0, MS, 2 * MS, 1000 },
};

#define POLICY_HEAD(dflt)	"version: 1\ndefault: " dflt "\nclasses:\n"
#define LIMIT(rate, burst)	"    limit: { key: src, rate: " rate ", burst: " burst " }\n"
#define ONE_CLASS(limit) POLICY_HEAD("pass")				\
	"  - name: c\n"							\
	"    match: { proto: udp, dport: 1000 }\n"			\
	limit								\
	"    exceed: drop\n"

static const struct replay_case cases[] = {
	{ "pps-boundary", ONE_CLASS(LIMIT("100pps", "10")), false,
	  ARR(pps_cls), ARR(pps_st), 0, 0, 0, 0, 0, NULL },
	{ "pps-ns-edge", ONE_CLASS(LIMIT("100pps", "1")), false,
	  ARR(edge_cls), ARR(edge_st), 0, 0, 0, 0, 0, NULL },
	{ "1pps", ONE_CLASS(LIMIT("1pps", "1")), false,
	  ARR(pps1_cls), ARR(pps1_st), 0, 0, 0, 0, 0, NULL },
	{ "2kpps", ONE_CLASS(LIMIT("2kpps", "5")), false,
	  ARR(kpps_cls), ARR(kpps_st), 0, 0, 0, 0, 0, NULL },
	{ "10Mpps", ONE_CLASS(LIMIT("10Mpps", "1000")), false,
	  ARR(mpps_cls), ARR(mpps_st), 0, 0, 0, 0, 0, NULL },
	{ "1Mbit", ONE_CLASS(LIMIT("1Mbit", "10000B")), false,
	  ARR(mbit_cls), ARR(mbit_st), 0, 0, 0, 0, 0, NULL },
	/* Headers only in the capture: metered on the wire length alike. */
	{ "1Mbit-snaplen-96", ONE_CLASS(LIMIT("1Mbit", "10000B")), false,
	  ARR(mbit_cls), ARR(mbit_st), 96, 0, 0, 0, 0, NULL },
	{ "10Gbit", ONE_CLASS(LIMIT("10Gbit", "64KB")), false,
	  ARR(gbit_cls), ARR(gbit_st), 0, 0, 0, 0, 0, NULL },
	{ "keys",
	  POLICY_HEAD("pass")
	  "  - name: k-src\n"
	  "    match: { proto: udp, dport: 1001 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "  - name: k-src24\n"
	  "    match: { proto: udp, dport: 1002 }\n"
	  "    limit: { key: src/24, rate: 100pps, burst: 10 }\n"
	  "  - name: k-dst\n"
	  "    match: { proto: udp, dport: 1003 }\n"
	  "    limit: { key: dst, rate: 100pps, burst: 10 }\n"
	  "  - name: k-flow\n"
	  "    match: { dst: 192.0.3.1/32 }\n"
	  "    limit: { key: flow, rate: 100pps, burst: 10 }\n"
	  "  - name: k-none\n"
	  "    match: { proto: udp, dport: 1005 }\n"
	  "    limit: { key: none, rate: 100pps, burst: 10 }\n"
	  "  - name: k-src64\n"
	  "    match: { proto: udp, dport: 1006 }\n"
	  "    limit: { key: src/64, rate: 100pps, burst: 10 }\n",
	  false, ARR(keys_cls), ARR(keys_st), 0, 0, 0, 0, 0, NULL },
	{ "actions",
	  POLICY_HEAD("pass")
	  "  - name: mon\n"
	  "    match: { proto: udp, dport: 2001 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    exceed: monitor\n"
	  "  - name: mark4\n"
	  "    match: { proto: udp, dport: 2002 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    exceed: { mark: cs1 }\n"
	  "  - name: mark6\n"
	  "    match: { proto: udp, dport: 2003 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    exceed: { mark: af41 }\n"
	  "  - name: free\n"
	  "    match: { proto: udp, dport: 2004 }\n"
	  "  - name: syn\n"
	  "    match: { proto: tcp, tcp_flags: syn, dport: 2005 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    exceed: drop\n",
	  false, ARR(act_cls), ARR(act_st), 0, 20, 0, 0, 0, NULL },
	{ "default-drop",
	  POLICY_HEAD("drop")
	  "  - name: allowed\n"
	  "    match: { proto: udp, dst: 192.0.2.0/24, dport: 3001 }\n",
	  true, ARR(dflt_cls), ARR(dflt_st), 0, 0, 50, 7, 5,
	  "{\"ip4_trunc\": 3, \"ip4_len\": 4}" },
	{ "default-pass",
	  POLICY_HEAD("pass")
	  "  - name: allowed\n"
	  "    match: { proto: udp, dst: 192.0.2.0/24, dport: 3001 }\n",
	  false, ARR(dflt_cls), ARR(dflt_st), 0, 50, 0, 7, 5,
	  "{\"ip4_trunc\": 3, \"ip4_len\": 4}" },
	{ "ceiling",
	  POLICY_HEAD("pass")
	  "  - name: login\n"
	  "    match: { proto: udp, dport: 4001 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    ceiling: { rate: 200pps, burst: 20 }\n"
	  "    exceed: drop\n"
	  "  - name: big\n"
	  "    match: { proto: udp, dport: 4002 }\n"
	  "    limit: { key: src, rate: 100pps, burst: 10 }\n"
	  "    ceiling: { rate: 10kpps, burst: 1000 }\n"
	  "  - name: all\n"
	  "    match: { proto: udp, dport: 4003 }\n"
	  "    ceiling: { rate: 1Mbit, burst: 10000B }\n"
	  "    exceed: { mark: af11 }\n",
	  false, ARR(ceil_cls), ARR(ceil_st), 0, 0, 0, 0, 0, NULL },
	{ "empty-capture", ONE_CLASS(LIMIT("100pps", "10")), false,
	  ARR(empty_cls), NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* ---- Packets and the reference policer ------------------------------ */

struct gen_pkt {
	uint64_t ts;		/* ns since the epoch */
	uint32_t stream, seq;
	uint32_t len;		/* on the wire */
	uint32_t caplen;	/* in the capture */
	uint8_t *data;
	/* What the model says. */
	bool forward, marked;
};

struct counts {
	uint64_t pk[MAX_CLASSES][5], by[MAX_CLASSES][5];	/* design.md order */
	uint64_t def_pk[2], def_by[2];
	uint64_t malformed, non_ip;
};

enum { O_PASSED, O_DROPPED, O_MARKED, O_MONITORED, O_DELAYED };
static const char *const outcome_names[5] = {
	"passed", "dropped", "marked", "monitored", "delayed",
};

/* Credit in 1/1e9 token, exact; created full at its first packet. */
struct model_tb {
	bool live;
	u128 credit;
	uint64_t last;
};

static int pkt_cmp(const void *a, const void *b)
{
	const struct gen_pkt *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Accepts a case; its packets in capture order (time, then stream). */
static struct gen_pkt *packets_make(const struct replay_case *c, uint32_t *n)
{
	uint32_t total = 0, k = 0;
	struct gen_pkt *v;

	for (uint32_t s = 0; s < c->n_st; s++)
		total += c->st[s].count;
	v = calloc(total ? total : 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (uint32_t s = 0; s < c->n_st; s++) {
		const struct stream *st = &c->st[s];

		for (uint32_t i = 0; i < st->count; i++, k++) {
			uint8_t buf[FRAME_MAX];

			v[k].ts = T0 + st->start_ns + (uint64_t)i * st->gap_ns;
			v[k].stream = s;
			v[k].seq = i;
			v[k].len = frame_build(&st->p, (uint64_t)s << 32 | i, buf);
			v[k].caplen = c->snaplen && c->snaplen < v[k].len ?
				      c->snaplen : v[k].len;
			v[k].data = malloc(v[k].len);
			ck_assert_ptr_nonnull(v[k].data);
			memcpy(v[k].data, buf, v[k].len);
		}
	}
	qsort(v, total, sizeof(*v), pkt_cmp);
	*n = total;
	return v;
}

static void packets_free(struct gen_pkt *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

/* Accepts a bucket of rate and capacity; its credit brought to now. */
static void model_refill(struct model_tb *b, uint64_t rate, uint64_t capacity,
			 uint64_t now)
{
	u128 cap = (u128)capacity * NS;

	if (!b->live) {
		b->live = true;
		b->credit = cap;
		b->last = now;
	} else if (now > b->last) {
		b->credit += (u128)(now - b->last) * rate;
		if (b->credit > cap)
			b->credit = cap;
		b->last = now;
	}
}

/*
 * Accepts a class and its key bucket and ceiling (a bucket for the whole
 * class); whether a packet of len conforms to both. Neither is charged
 * unless both have its tokens.
 */
static bool model_conform(struct model_tb *b, struct model_tb *ceil,
			  const struct cls_model *m, uint64_t now, uint32_t len)
{
	u128 need = (u128)(m->bits ? len * 8ULL : 1) * NS;
	u128 ceil_need = (u128)(m->ceil_bits ? len * 8ULL : 1) * NS;

	if (m->rate != 0) {
		model_refill(b, m->rate, m->capacity, now);
		if (b->credit < need)
			return false;
	}
	if (m->ceil_rate != 0) {
		model_refill(ceil, m->ceil_rate, m->ceil_capacity, now);
		if (ceil->credit < ceil_need)
			return false;
		ceil->credit -= ceil_need;
	}
	if (m->rate != 0)
		b->credit -= need;
	return true;
}

static void count(struct counts *k, int cls, int o, uint32_t len)
{
	k->pk[cls][o]++;
	k->by[cls][o] += len;
}

/* Accepts a case and its packets; decides each one, and counts. */
static void model_run(const struct replay_case *c, struct gen_pkt *v,
		      uint32_t n, struct counts *k)
{
	struct model_tb tb[MAX_CLASSES][MAX_BUCKETS], ceil[MAX_CLASSES];

	memset(tb, 0, sizeof(tb));
	memset(ceil, 0, sizeof(ceil));
	memset(k, 0, sizeof(*k));
	for (uint32_t i = 0; i < n; i++) {
		const struct stream *st = &c->st[v[i].stream];
		const struct cls_model *m;
		int d = c->default_drop;

		if (st->p.kind == P_ARP) {
			k->non_ip++;
			v[i].forward = true;
			continue;
		}
		if (st->p.kind == P_TRUNC4 || st->p.kind == P_BADLEN4) {
			k->malformed++;
			v[i].forward = !d;
			continue;
		}
		if (st->cls == NO_CLASS) {
			k->def_pk[d]++;
			k->def_by[d] += v[i].len;
			v[i].forward = !d;
			continue;
		}
		m = &c->cls[st->cls];
		if (model_conform(&tb[st->cls][st->bucket], &ceil[st->cls], m,
				  v[i].ts, v[i].len)) {
			count(k, st->cls, O_PASSED, v[i].len);
			v[i].forward = true;
			continue;
		}
		switch (m->action) {
		case A_MONITOR:
			count(k, st->cls, O_MONITORED, v[i].len);
			v[i].forward = true;
			break;
		case A_MARK:
			count(k, st->cls, O_MARKED, v[i].len);
			v[i].forward = v[i].marked = true;
			break;
		default:
			count(k, st->cls, O_DROPPED, v[i].len);
			break;
		}
	}
}

/* The sums by hand must be what the model computes. */
static void model_check_hand(const struct replay_case *c,
			     const struct counts *k)
{
	for (uint32_t i = 0; i < c->n_cls; i++) {
		const struct cls_model *m = &c->cls[i];
		const uint64_t hand[5] = { m->passed, m->dropped, m->marked,
					   m->monitored, 0 };

		for (int o = 0; o < 5; o++)
			ck_assert_msg(k->pk[i][o] == hand[o],
				"%s: class %s %s: the model counts %" PRIu64 ", the sum by hand %" PRIu64,
				c->name, m->name, outcome_names[o], k->pk[i][o], hand[o]);
	}
	ck_assert_uint_eq(k->def_pk[0], c->def_passed);
	ck_assert_uint_eq(k->def_pk[1], c->def_dropped);
	ck_assert_uint_eq(k->malformed, c->malformed);
	ck_assert_uint_eq(k->non_ip, c->non_ip);
}

/* ---- Files and the binary ------------------------------------------- */

struct tmp {
	char dir[256];
};

static void tmp_make(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/sl-replay-XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_msg(mkdtemp(t->dir) != NULL, "mkdtemp: %s", strerror(errno));
}

/* Accepts a directory; a path in it (a static buffer per slot 0..7). */
static const char *tmp_path(const struct tmp *t, int slot, const char *name)
{
	static char paths[8][320];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", t->dir, name);
	return paths[slot];
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void tmp_remove(struct tmp *t)
{
	nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void file_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Accepts a path; the whole file, NUL-terminated (free it), length in *len. */
static char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static const char *sluicectl_path(void)
{
	const char *env = getenv("SLUICECTL");

	if (env != NULL && *env != '\0')
		return env;
	if (access(SL_SLUICECTL, X_OK) == 0)
		return SL_SLUICECTL;
	return "build/control/sluicectl";
}

struct ctl_result {
	int status;		/* exit status */
	char *out, *err;	/* stdout and stderr */
};

/*
 * Accepts sluicectl's arguments (NULL-terminated, without argv[0]);
 * runs it with stdout and stderr in files of t and waits for it.
 */
static void ctl_run(const struct tmp *t, const char *const *args,
		    struct ctl_result *r)
{
	const char *argv[16] = { sluicectl_path() };
	char out[320], err[320];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int i, st, rc;

	for (i = 0; args[i] != NULL; i++) {
		ck_assert_int_lt(i + 1, (int)N(argv) - 1);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	snprintf(out, sizeof(out), "%s/ctl.stdout", t->dir);
	snprintf(err, sizeof(err), "%s/ctl.stderr", t->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(rc == 0, "cannot run %s: %s (set SLUICECTL to the binary)",
		      argv[0], strerror(rc));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->out = file_read(out, NULL);
	r->err = file_read(err, NULL);
	ck_assert_msg(WIFEXITED(st), "%s killed by signal %d; stderr: %s",
		      argv[0], WTERMSIG(st), r->err);
	r->status = WEXITSTATUS(st);
}

static void ctl_free(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
}

/* Accepts packets in capture order; writes a nanosecond Ethernet pcap. */
static void pcap_write(const char *path, int linktype,
		       const struct gen_pkt *v, uint32_t n)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(linktype, 65535,
						PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d;

	ck_assert_ptr_nonnull(dead);
	d = pcap_dump_open(dead, path);
	ck_assert_msg(d != NULL, "%s: %s", path, pcap_geterr(dead));
	for (uint32_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = {
			.ts = { .tv_sec = (time_t)(v[i].ts / NS),
				.tv_usec = (suseconds_t)(v[i].ts % NS) },
			.caplen = v[i].caplen,
			.len = v[i].len,
		};

		pcap_dump((u_char *)d, &h, v[i].data);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* ---- JSON ------------------------------------------------------------ */

/* Accepts an object; its member key, which must be a non-negative integer. */
static uint64_t jint(const json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v) && json_integer_value(v) >= 0,
		      "%s: \"%s\" is not a count", where, key);
	return (uint64_t)json_integer_value(v);
}

/* Accepts an object; its member key, which must be an object. */
static json_t *jobj(const json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_object(v), "%s: \"%s\" is not an object", where, key);
	return v;
}

/* Accepts {outcome: count}; reads the n outcomes design.md names. */
static void outcomes_read(const json_t *o, int n, uint64_t *v, const char *where)
{
	ck_assert_msg(json_object_size(o) == (size_t)n,
		      "%s: %zu outcomes, design.md has %d", where,
		      json_object_size(o), n);
	for (int i = 0; i < n; i++)
		v[i] = jint(o, outcome_names[i], where);
}

/*
 * Accepts replay's JSON; checks the shape of design.md's "CLI contract"
 * (class names in policy order, every outcome) and reads the counts.
 */
static void counts_read(const json_t *j, const struct replay_case *c,
			struct counts *k)
{
	json_t *classes = json_object_get(j, "classes"), *d;

	memset(k, 0, sizeof(*k));
	ck_assert_msg(json_is_array(classes), "no \"classes\" array");
	ck_assert_uint_eq(json_array_size(classes), c->n_cls);
	for (uint32_t i = 0; i < c->n_cls; i++) {
		json_t *e = json_array_get(classes, i);
		const char *name = json_string_value(json_object_get(e, "name"));

		ck_assert_msg(name && strcmp(name, c->cls[i].name) == 0,
			      "classes[%u] is %s, not %s", i, name ? name : "(none)",
			      c->cls[i].name);
		outcomes_read(jobj(e, "packets", name), 5, k->pk[i], name);
		outcomes_read(jobj(e, "bytes", name), 5, k->by[i], name);
	}
	d = jobj(j, "default", "top");
	outcomes_read(jobj(d, "packets", "default"), 2, k->def_pk, "default");
	outcomes_read(jobj(d, "bytes", "default"), 2, k->def_by, "default");
	k->malformed = jint(jobj(j, "malformed", "top"), "packets", "malformed");
	k->non_ip = jint(jobj(j, "non_ip", "top"), "packets", "non_ip");
}

static void counts_compare(const char *name, const struct replay_case *c,
			   const struct counts *got, const struct counts *want)
{
	for (uint32_t i = 0; i < c->n_cls; i++) {
		for (int o = 0; o < 5; o++) {
			ck_assert_msg(got->pk[i][o] == want->pk[i][o],
				"%s: class %s packets %s: replay %" PRIu64 ", expected %" PRIu64,
				name, c->cls[i].name, outcome_names[o],
				got->pk[i][o], want->pk[i][o]);
			ck_assert_msg(got->by[i][o] == want->by[i][o],
				"%s: class %s bytes %s: replay %" PRIu64 ", expected %" PRIu64,
				name, c->cls[i].name, outcome_names[o],
				got->by[i][o], want->by[i][o]);
		}
	}
	for (int o = 0; o < 2; o++) {
		ck_assert_msg(got->def_pk[o] == want->def_pk[o] &&
			      got->def_by[o] == want->def_by[o],
			      "%s: default %s: replay %" PRIu64 " packets %" PRIu64 " bytes, expected %" PRIu64 " and %" PRIu64,
			      name, outcome_names[o], got->def_pk[o], got->def_by[o],
			      want->def_pk[o], want->def_by[o]);
	}
	ck_assert_msg(got->malformed == want->malformed,
		      "%s: malformed: replay %" PRIu64 ", expected %" PRIu64,
		      name, got->malformed, want->malformed);
	ck_assert_msg(got->non_ip == want->non_ip,
		      "%s: non_ip: replay %" PRIu64 ", expected %" PRIu64,
		      name, got->non_ip, want->non_ip);
}

/* ---- out.pcap ------------------------------------------------------- */

/*
 * Accepts the model's packets; out.pcap must hold the forwarded ones,
 * in order, with their timestamps and lengths, marked ones rewritten.
 */
static void out_check(const char *path, const struct replay_case *c,
		      const struct gen_pkt *v, uint32_t n)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path,
					PCAP_TSTAMP_PRECISION_NANO, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t i = 0, got = 0;
	int rc;

	ck_assert_msg(p != NULL, "%s: %s", path, errbuf);
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint8_t want[FRAME_MAX];
		const struct stream *st;
		uint64_t ts = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec;

		while (i < n && !v[i].forward)
			i++;
		CHECK(i < n, "%s: out.pcap has more than the %u packets forwarded",
		      c->name, got);
		st = &c->st[v[i].stream];
		CHECK(ts == v[i].ts && h->len == v[i].len && h->caplen == v[i].caplen,
		      "%s: out.pcap packet %u: ts %" PRIu64 " len %u caplen %u, expected stream %u #%u at %" PRIu64 " len %u caplen %u",
		      c->name, got, ts, h->len, h->caplen, v[i].stream, v[i].seq,
		      v[i].ts, v[i].len, v[i].caplen);
		memcpy(want, v[i].data, v[i].len);
		if (v[i].marked)
			frame_mark(want, c->cls[st->cls].dscp);
		CHECK(memcmp(data, want, h->caplen) == 0,
		      "%s: out.pcap packet %u (stream %u #%u%s) differs from the input",
		      c->name, got, v[i].stream, v[i].seq, v[i].marked ? ", marked" : "");
		if (v[i].marked)
			CHECK(frame_csums_ok(data, h->len),
			      "%s: marked packet %u has a bad checksum", c->name, got);
		got++;
		i++;
	}
	ck_assert_msg(rc == PCAP_ERROR_BREAK, "%s: %s", path, pcap_geterr(p));
	while (i < n && !v[i].forward)
		i++;
	ck_assert_msg(i == n, "%s: out.pcap ends after %u packets; stream %u #%u was forwarded too",
		      c->name, got, i < n ? v[i].stream : 0, i < n ? v[i].seq : 0);
	pcap_close(p);
}

/* ---- Tests ----------------------------------------------------------- */

/* Accepts a case; writes its policy and capture into t. */
static struct gen_pkt *case_files(const struct tmp *t,
				  const struct replay_case *c, uint32_t *n)
{
	struct gen_pkt *v = packets_make(c, n);

	file_write(tmp_path(t, 0, "policy.yaml"), c->policy, strlen(c->policy));
	pcap_write(tmp_path(t, 1, "in.pcap"), DLT_EN10MB, v, *n);
	return v;
}

static void replay_json(const struct tmp *t, const char *out_name,
			struct ctl_result *r, json_t **j)
{
	const char *args[] = { "-j", "replay", "--policy",
			       tmp_path(t, 0, "policy.yaml"),
			       tmp_path(t, 1, "in.pcap"),
			       tmp_path(t, 2, out_name), NULL };
	json_error_t je;

	ctl_run(t, args, r);
	ck_assert_msg(r->status == 0, "exit %d; stdout: %s; stderr: %s",
		      r->status, r->out, r->err);
	/* One document and nothing else on stdout (EOF check on). */
	*j = json_loads(r->out, 0, &je);
	ck_assert_msg(*j != NULL, "not JSON (%s at %d:%d): %s", je.text,
		      je.line, je.column, r->out);
}

START_TEST(test_counts)
{
	const struct replay_case *c = &cases[_i];
	struct counts want, got;
	struct ctl_result r;
	struct gen_pkt *v;
	struct tmp t;
	json_t *j, *rp;
	uint32_t n;

	tmp_make(&t);
	v = case_files(&t, c, &n);
	model_run(c, v, n, &want);
	model_check_hand(c, &want);
	replay_json(&t, "out.pcap", &r, &j);
	counts_read(j, c, &got);
	counts_compare(c->name, c, &got, &want);
	if (c->reasons != NULL) {
		json_t *reasons = json_loads(c->reasons, 0, NULL);

		ck_assert_msg(json_equal(json_object_get(json_object_get(j,
				"malformed"), "reasons"), reasons),
			      "%s: malformed reasons: %s", c->name, r.out);
		json_decref(reasons);
	}
	rp = jobj(j, "replay", "top");
	ck_assert_uint_eq(jint(rp, "packets", "replay"), n);
	ck_assert_uint_eq(jint(rp, "snapped", "replay"), (c->snaplen ? n : 0));
	ck_assert_uint_eq(jint(rp, "duration_ns", "replay"),
			  (n ? v[n - 1].ts - v[0].ts : 0));
	out_check(tmp_path(&t, 2, "out.pcap"), c, v, n);
	json_decref(j);
	ctl_free(&r);
	packets_free(v, n);
	tmp_remove(&t);
}
END_TEST

/* Cases whose output depends most on order: batches, keys, rewrites. */
static const char *const determinism_cases[] = { "keys", "actions", "10Mpps", "ceiling" };

static const struct replay_case *case_find(const char *name)
{
	for (size_t i = 0; i < N(cases); i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	ck_abort_msg("no case %s", name);
	return NULL;
}

START_TEST(test_deterministic)
{
	const struct replay_case *c = case_find(determinism_cases[_i]);
	struct ctl_result r1, r2;
	char *p1, *p2;
	size_t l1, l2;
	struct gen_pkt *v;
	struct tmp t;
	json_t *j1, *j2;
	uint32_t n;

	tmp_make(&t);
	v = case_files(&t, c, &n);
	replay_json(&t, "out1.pcap", &r1, &j1);
	replay_json(&t, "out2.pcap", &r2, &j2);
	ck_assert_msg(strcmp(r1.out, r2.out) == 0, "%s: JSON differs:\n%s\n%s",
		      c->name, r1.out, r2.out);
	p1 = file_read(tmp_path(&t, 2, "out1.pcap"), &l1);
	p2 = file_read(tmp_path(&t, 3, "out2.pcap"), &l2);
	ck_assert_msg(l1 == l2 && memcmp(p1, p2, l1) == 0,
		      "%s: out.pcap differs between runs", c->name);
	free(p1);
	free(p2);
	json_decref(j1);
	json_decref(j2);
	ctl_free(&r1);
	ctl_free(&r2);
	packets_free(v, n);
	tmp_remove(&t);
}
END_TEST

/* Without -j: a summary and a table people read; the class is listed. */
START_TEST(test_text)
{
	const struct replay_case *c = &cases[0];
	struct ctl_result r;
	struct gen_pkt *v;
	struct tmp t;
	uint32_t n;

	tmp_make(&t);
	v = case_files(&t, c, &n);
	{
		const char *args[] = { "replay", "--policy",
				       tmp_path(&t, 0, "policy.yaml"),
				       tmp_path(&t, 1, "in.pcap"), NULL };

		ctl_run(&t, args, &r);
	}
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "replayed 10001 packets over 10.000 s, forwarded 1010"),
		      "summary: %s", r.out);
	ck_assert_msg(strstr(r.out, "\nc "), "no row for class c: %s", r.out);
	ctl_free(&r);
	packets_free(v, n);
	tmp_remove(&t);
}
END_TEST

/*
 * Error cases. Arguments: @P good policy, @B bad policy, @I capture,
 * @R raw-IP capture, @G not a capture, @O output, @M a missing file,
 * @D an output in a missing directory.
 */
struct err_case {
	const char *name;
	const char *args[10];
	int status;
	const char *error;	/* in the JSON error (with -j) or on stderr */
	bool diags;		/* with -j: diagnostics of the refused policy */
};

static const struct err_case err_cases[] = {
	{ "bad policy", { "-j", "replay", "--policy", "@B", "@I", "@O" }, 1,
	  "policy refused", true },
	{ "bad policy, text", { "replay", "--policy", "@B", "@I" }, 1,
	  "bad.yaml:5:26: unknown field 'dprot'", false },
	{ "missing policy", { "-j", "replay", "--policy", "@M", "@I" }, 1,
	  "No such file", true },
	{ "missing capture", { "-j", "replay", "--policy", "@P", "@M" }, 1,
	  "No such file", false },
	{ "not a capture", { "-j", "replay", "--policy", "@P", "@G" }, 1,
	  "", false },
	{ "raw IP capture", { "-j", "replay", "--policy", "@P", "@R" }, 1,
	  "only Ethernet captures can be replayed", false },
	{ "unwritable output", { "-j", "replay", "--policy", "@P", "@I", "@D" }, 1,
	  "", false },
	{ "no policy", { "-j", "replay", "@I" }, 2, "usage", false },
	{ "no capture", { "-j", "replay", "--policy", "@P" }, 2, "usage", false },
	{ "three files", { "-j", "replay", "--policy", "@P", "@I", "@O", "@O" }, 2,
	  "usage", false },
	{ "flows too few", { "-j", "replay", "--flows", "10", "--policy", "@P", "@I" },
	  2, "--flows", false },
	{ "flows not a number", { "-j", "replay", "--flows", "1000x", "--policy", "@P", "@I" },
	  2, "--flows", false },
	{ "unknown option", { "-j", "replay", "--bogus", "--policy", "@P", "@I" }, 2,
	  "usage", false },
	{ "help", { "replay", "--help" }, 0, "", false },
};

static const char bad_policy[] =
	"version: 1\n"
	"default: pass\n"
	"classes:\n"
	"  - name: c\n"
	"    match: { proto: udp, dprot: 53 }\n";

static const char *err_arg(const struct tmp *t, const char *a)
{
	if (a[0] != '@')
		return a;
	switch (a[1]) {
	case 'P': return tmp_path(t, 0, "policy.yaml");
	case 'B': return tmp_path(t, 4, "bad.yaml");
	case 'I': return tmp_path(t, 1, "in.pcap");
	case 'R': return tmp_path(t, 5, "raw.pcap");
	case 'G': return tmp_path(t, 6, "garbage.pcap");
	case 'O': return tmp_path(t, 2, "out.pcap");
	case 'M': return tmp_path(t, 7, "missing");
	default: return "/nonexistent-sluice-dir/out.pcap";
	}
}

/* Accepts a refused policy's JSON; its diagnostics name file, line, column. */
static void diags_check(const struct err_case *e, const json_t *j,
			const char *bad)
{
	json_t *d = json_object_get(j, "diagnostics"), *g = json_array_get(d, 0);
	const char *file = json_string_value(json_object_get(g, "file"));
	const char *msg = json_string_value(json_object_get(g, "message"));

	ck_assert_msg(json_is_array(d) && json_array_size(d) >= 1,
		      "%s: no diagnostics", e->name);
	ck_assert_msg(json_is_false(json_object_get(j, "valid")), "%s: valid", e->name);
	ck_assert_msg(json_is_integer(json_object_get(g, "line")) &&
		      json_is_integer(json_object_get(g, "column")) && file && msg,
		      "%s: diagnostic without file, line, column, message", e->name);
	if (strcmp(e->args[3], "@B") == 0) {
		ck_assert_str_eq(file, bad);
		ck_assert_int_eq(json_integer_value(json_object_get(g, "line")), 5);
		ck_assert_int_eq(json_integer_value(json_object_get(g, "column")), 26);
		ck_assert_msg(strstr(msg, "dprot") != NULL, "%s: %s", e->name, msg);
	}
}

START_TEST(test_errors)
{
	const struct err_case *e = &err_cases[_i];
	const struct replay_case *c = &cases[0];
	const char *args[N(e->args) + 1] = { NULL };
	struct gen_pkt *v;
	struct ctl_result r;
	struct tmp t;
	uint32_t n;

	tmp_make(&t);
	v = case_files(&t, c, &n);
	file_write(tmp_path(&t, 4, "bad.yaml"), bad_policy, strlen(bad_policy));
	pcap_write(tmp_path(&t, 5, "raw.pcap"), DLT_RAW, v, 1);
	file_write(tmp_path(&t, 6, "garbage.pcap"), "not a capture\n", 14);
	for (size_t i = 0; i < N(e->args) && e->args[i] != NULL; i++)
		args[i] = err_arg(&t, e->args[i]);
	ctl_run(&t, args, &r);
	ck_assert_msg(r.status == e->status, "%s: exit %d, expected %d; stdout: %s; stderr: %s",
		      e->name, r.status, e->status, r.out, r.err);
	if (strcmp(e->args[0], "-j") == 0) {
		json_error_t je;
		json_t *j = json_loads(r.out, 0, &je);
		const char *msg = json_string_value(json_object_get(j, "error"));

		ck_assert_msg(j != NULL, "%s: not one JSON document: %s", e->name, r.out);
		ck_assert_msg(msg != NULL && strstr(msg, e->error) != NULL,
			      "%s: error \"%s\" lacks \"%s\"", e->name,
			      msg ? msg : "(none)", e->error);
		if (e->diags)
			diags_check(e, j, tmp_path(&t, 4, "bad.yaml"));
		json_decref(j);
	} else if (e->status != 0) {
		ck_assert_msg(strstr(r.err, e->error) != NULL, "%s: stderr lacks \"%s\": %s",
			      e->name, e->error, r.err);
	}
	ctl_free(&r);
	packets_free(v, n);
	tmp_remove(&t);
}
END_TEST

/*
 * shape, worked by hand: 100 pps, burst 2, delay 50 ms; source A sends
 * 20 packets 2 ms apart from t = 0, and an unmatched source B one at
 * 25 ms. A's first two pass, the third (4 ms) waits for its token at
 * 10 ms, each next one 10 ms after the one before, as long as that is
 * at most 50 ms after it arrived: 8 wait, 10 are dropped. With a queue
 * of 3, only 3 wait at once (a place frees as one leaves), and the
 * packets that found it full are dropped and counted as such. OUT.pcap
 * holds every forwarded packet at its departure, in time order.
 */
static const struct shape_case {
	const char *queue;	/* --shape-queue, or NULL for the default */
	uint64_t passed, delayed, dropped, full, high;
	struct { int seq; uint64_t ms; } out[12];	/* seq -1: source B */
	uint32_t n_out;
} shape_cases[] = {
	{ NULL, 2, 8, 10, 0, 5,
	  { { 0, 0 }, { 1, 2 }, { 2, 10 }, { 3, 20 }, { -1, 25 }, { 4, 30 },
	    { 5, 40 }, { 6, 50 }, { 7, 60 }, { 10, 70 }, { 15, 80 } }, 11 },
	{ "3", 2, 6, 12, 12, 3,
	  { { 0, 0 }, { 1, 2 }, { 2, 10 }, { 3, 20 }, { -1, 25 }, { 4, 30 },
	    { 5, 40 }, { 10, 50 }, { 15, 60 } }, 9 },
};

START_TEST(test_shape)
{
	static const char policy[] =
		"version: 1\n"
		"classes:\n"
		"  - name: shaped\n"
		"    match: { proto: udp, src: 10.0.0.1 }\n"
		"    limit: { key: src, rate: 100pps, burst: 2 }\n"
		"    exceed: { shape: 50ms }\n";
	static const struct pkt_spec a = UDP4("10.0.0.1", "192.0.2.1", 4000, 5000);
	static const struct pkt_spec b = UDP4("10.0.0.9", "192.0.2.1", 4000, 5000);
	const struct shape_case *c = &shape_cases[_i];
	struct gen_pkt v[21] = { 0 };
	uint8_t buf[FRAME_MAX];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct ctl_result r;
	json_t *j, *cls, *rp, *sq;
	struct tmp t;
	pcap_t *p;
	uint32_t k = 0, got = 0;
	const char *args[12] = { "-j", "replay", "--policy" };
	int na = 3;

	tmp_make(&t);
	for (uint32_t i = 0; i < 20; i++, k++) {
		if (i == 13) {	/* B at 25 ms, between A's 24 and 26 ms */
			v[k].ts = T0 + 25 * MS;
			v[k].len = frame_build(&b, 1ULL << 32, buf);
			v[k].data = malloc(v[k].len);
			memcpy(v[k].data, buf, v[k].len);
			v[k].caplen = v[k].len;
			k++;
		}
		v[k].ts = T0 + i * 2 * MS;
		v[k].len = frame_build(&a, i, buf);
		v[k].data = malloc(v[k].len);
		memcpy(v[k].data, buf, v[k].len);
		v[k].caplen = v[k].len;
	}
	file_write(tmp_path(&t, 0, "policy.yaml"), policy, strlen(policy));
	pcap_write(tmp_path(&t, 1, "in.pcap"), DLT_EN10MB, v, k);
	args[na++] = tmp_path(&t, 0, "policy.yaml");
	if (c->queue != NULL) {
		args[na++] = "--shape-queue";
		args[na++] = c->queue;
	}
	args[na++] = tmp_path(&t, 1, "in.pcap");
	args[na++] = tmp_path(&t, 2, "out.pcap");
	ctl_run(&t, args, &r);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	cls = json_object_get(json_array_get(json_object_get(j, "classes"), 0), "packets");
	ck_assert_uint_eq(jint(cls, "passed", "shaped"), c->passed);
	ck_assert_uint_eq(jint(cls, "delayed", "shaped"), c->delayed);
	ck_assert_uint_eq(jint(cls, "dropped", "shaped"), c->dropped);
	rp = jobj(j, "replay", "top");
	ck_assert_uint_eq(jint(rp, "forwarded", "replay"), c->n_out);
	sq = jobj(rp, "shape_queue", "replay");
	ck_assert_uint_eq(jint(sq, "delayed", "shape_queue"), c->delayed);
	ck_assert_uint_eq(jint(sq, "full_drops", "shape_queue"), c->full);
	ck_assert_uint_eq(jint(sq, "high_water", "shape_queue"), c->high);

	p = pcap_open_offline_with_tstamp_precision(tmp_path(&t, 2, "out.pcap"),
						    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	ck_assert_msg(p != NULL, "%s", errbuf);
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec;
		uint64_t tag = 0;

		for (int i = 0; i < 8; i++)
			tag = tag << 8 | data[42 + i];
		CHECK(got < c->n_out, "more than %u packets out", c->n_out);
		CHECK(ts == T0 + c->out[got].ms * MS &&
		      tag == (c->out[got].seq < 0 ? 1ULL << 32 : (uint64_t)c->out[got].seq),
		      "out.pcap packet %u: tag %" PRIx64 " at %" PRIu64 " ms, want #%d at %" PRIu64 " ms",
		      got, tag, (uint64_t)((ts - T0) / MS), c->out[got].seq, c->out[got].ms);
		got++;
	}
	ck_assert_uint_eq(got, c->n_out);
	pcap_close(p);
	json_decref(j);
	ctl_free(&r);
	for (uint32_t i = 0; i < k; i++)
		free(v[i].data);
	tmp_remove(&t);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	/* Each check runs sluicectl; Check's 4 s default is too short. */
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_counts, 0, N(cases));
	tcase_add_loop_test(tc, test_deterministic, 0, N(determinism_cases));
	tcase_add_test(tc, test_text);
	tcase_add_loop_test(tc, test_shape, 0, N(shape_cases));
	tcase_add_loop_test(tc, test_errors, 0, N(err_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(replay_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
