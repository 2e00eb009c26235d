/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policing engine: verdicts and counters per outcome, the flow
 * table's full and idle behaviour, keys, bit-rate costs, DSCP marking,
 * shaping.
 * Policies are written in YAML, as an operator would.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "eal_helper.h"
#include "engine.h"

#define NS	1000000000ULL

static struct sl_engine *eng;
static struct sl_ruleset *rs;
static struct sl_slots slots;
static unsigned int eng_seq;

/* Compile yaml with rs as the previous ruleset (slots carried over). */
static struct sl_ruleset *build(const char *yaml, const struct sl_ruleset *prev)
{
	struct sl_diags d;
	struct sl_policy *p;
	struct sl_ruleset *r;
	char err[256];

	if (sl_policy_load_buf("test.yaml", yaml, strlen(yaml), &p, &d) < 0) {
		sl_diags_print(&d, stderr);
		ck_abort_msg("policy refused");
	}
	r = sl_ruleset_build(p, 1, prev, &slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_msg(r != NULL, "ruleset: %s", err);
	return r;
}

/* Counters of class i of the current ruleset. */
#define CLS(i) (*sl_engine_class_counters(eng, rs, (i)))

/* Compile yaml into rs and a fresh engine with flows keys. */
static void setup_policy(const char *yaml, uint32_t flows)
{
	char name[32];

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = build(yaml, NULL);
	snprintf(name, sizeof(name), "test_eng_%u", eng_seq++);
	eng = sl_engine_create(name, flows, SOCKET_ID_ANY);
	ck_assert_msg(eng != NULL, "engine: %s", rte_strerror(rte_errno));
}

static void teardown_policy(void)
{
	sl_engine_free(eng);
	sl_ruleset_free(rs);
	eng = NULL;
	rs = NULL;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet/IPv4/UDP frame of len bytes (>= 42) from src to dport. */
static void udp4(uint8_t *f, uint32_t len, const char *src, uint16_t dport,
		 uint8_t dscp)
{
	uint16_t c;

	memset(f, 0, len);
	f[12] = 0x08;				/* IPv4 */
	f[14] = 0x45;
	f[15] = (uint8_t)(dscp << 2);
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = 17;
	inet_pton(AF_INET, src, f + 26);
	inet_pton(AF_INET, "198.51.100.2", f + 30);
	f[34] = 0x10;				/* sport 4096 */
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[38] = (uint8_t)((len - 34) >> 8);
	f[39] = (uint8_t)(len - 34);
	c = csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
}

/* Run one packet through the engine at now; returns its verdict. */
static uint8_t run1(uint8_t *f, uint32_t len, uint64_t now)
{
	struct sl_pkt p = { .data = f, .len = len, .wire_len = len };
	uint8_t v = 0xff;

	sl_engine_run(eng, rs, &p, 1, now, &v);
	return v;
}

static const char *const src_policy =
	"version: 1\n"
	"default: drop\n"
	"classes:\n"
	"  - name: per-src\n"
	"    match: { proto: udp, dport: 5000 }\n"
	"    limit: { key: src, rate: 10pps, burst: 2 }\n"
	"    exceed: drop\n"
	"  - name: open\n"
	"    match: { proto: udp, dport: 6000 }\n"
	"  - name: marked\n"
	"    match: { proto: udp, dport: 7000 }\n"
	"    limit: { key: none, rate: 1pps, burst: 1 }\n"
	"    exceed: { mark: cs1 }\n"
	"  - name: watched\n"
	"    match: { proto: udp, dport: 8000 }\n"
	"    limit: { key: src/24, rate: 1pps, burst: 1 }\n"
	"    exceed: monitor\n";

/* Each outcome, counted in packets and bytes where it belongs. */
START_TEST(test_outcomes)
{
	uint8_t f[100];

	setup_policy(src_policy, 1024);
	/* per-src: burst 2, then drops, then 10 pps refills one per 100 ms. */
	udp4(f, 100, "10.0.0.1", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	ck_assert_int_eq(run1(f, 100, NS / 10 - 1), SL_VERDICT_DROP);
	ck_assert_int_eq(run1(f, 100, NS / 10), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 3);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_DROPPED], 2);
	ck_assert_uint_eq(CLS(0).bytes[SL_OUT_DROPPED], 200);
	/* Another source has its own bucket. */
	udp4(f, 100, "10.0.0.2", 5000, 0);
	ck_assert_int_eq(run1(f, 100, NS / 10), SL_VERDICT_FORWARD);
	/* A class without a limit passes everything. */
	udp4(f, 100, "10.0.0.1", 6000, 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(CLS(1).packets[SL_OUT_PASSED], 50);
	/* mark: the second packet exceeds, is forwarded with cs1 and a valid checksum. */
	udp4(f, 100, "10.0.0.1", 7000, 10);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(f[15] >> 2, 10);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(f[15] >> 2, 8);
	ck_assert_uint_eq(csum(f + 14, 20), 0);
	ck_assert_uint_eq(CLS(2).packets[SL_OUT_PASSED], 1);
	ck_assert_uint_eq(CLS(2).packets[SL_OUT_MARKED], 1);
	/* monitor: forwarded, counted; src/24 shares one bucket across the /24. */
	udp4(f, 100, "10.9.9.1", 8000, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	udp4(f, 100, "10.9.9.200", 8000, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(CLS(3).packets[SL_OUT_PASSED], 1);
	ck_assert_uint_eq(CLS(3).packets[SL_OUT_MONITORED], 1);
	/* default: drop. */
	udp4(f, 100, "10.0.0.1", 9999, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	ck_assert_uint_eq(eng->st.deflt.packets[SL_OUT_DROPPED], 1);
	ck_assert_uint_eq(eng->st.deflt.bytes[SL_OUT_DROPPED], 100);
	teardown_policy();
}
END_TEST

/* Malformed packets take the default; non-IP frames always cross. */
START_TEST(test_malformed_and_non_ip)
{
	uint8_t f[100];

	setup_policy(src_policy, 1024);
	udp4(f, 100, "10.0.0.1", 5000, 0);
	f[14] = 0x44;				/* IHL 4: malformed */
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	ck_assert_uint_eq(eng->st.malformed[SL_MAL_IP4_IHL], 1);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 0);
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[13] = 0x06;				/* ARP */
	ck_assert_int_eq(run1(f, 60, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(eng->st.non_ip, 1);
	/* Truncated to 20 bytes: cut inside the IPv4 header. */
	udp4(f, 100, "10.0.0.1", 5000, 0);
	ck_assert_int_eq(run1(f, 20, 0), SL_VERDICT_DROP);
	ck_assert_uint_eq(eng->st.malformed[SL_MAL_IP4_TRUNC], 1);
	teardown_policy();
}
END_TEST

/*
 * A full flow table: new keys share their class's overflow bucket, are
 * counted, and memory stays bounded. Keys already in keep their own.
 */
START_TEST(test_flow_table_full)
{
	const uint32_t cap = 64, n = 200;
	uint32_t passed = 0;
	uint8_t f[100];
	char src[32];

	setup_policy(src_policy, cap);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "10.1.%u.%u", i / 256, i % 256);
		udp4(f, 100, src, 5000, 0);
		passed += run1(f, 100, 0) == SL_VERDICT_FORWARD;
	}
	/* cap keys with their own burst of 2, the rest share one burst of 2. */
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), cap);
	ck_assert_uint_eq(passed, cap + 2);
	ck_assert_uint_eq(eng->st.overflow, n - cap);
	ck_assert_uint_eq(sl_flowtab_stats(eng->ft)->full, n - cap);
	/* A key in the table still has its own bucket (one token left). */
	udp4(f, 100, "10.1.0.0", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	teardown_policy();
}
END_TEST

/*
 * Idle keys expire after max(fill time, 1 s): 10 pps, burst 2 fills in
 * 200 ms, so after 1 s. Expiry frees room for new keys.
 */
START_TEST(test_idle_expiry)
{
	uint8_t f[100];

	setup_policy(src_policy, 64);
	udp4(f, 100, "10.0.0.1", 5000, 0);
	run1(f, 100, 5 * NS);
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), 1);
	ck_assert_uint_eq(sl_engine_expire(eng, 6 * NS, 64), 0);	/* idle exactly 1 s */
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), 1);
	ck_assert_uint_eq(sl_engine_expire(eng, 6 * NS + 1, 64), 1);
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), 0);
	ck_assert_uint_eq(sl_flowtab_stats(eng->ft)->expired, 1);
	/* The key comes back with a full bucket. */
	ck_assert_int_eq(run1(f, 100, 7 * NS), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 7 * NS), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 7 * NS), SL_VERDICT_DROP);
	teardown_policy();
}
END_TEST

/* Bit rates cost the frame's bits: 1 Mbit/s, 1522 B burst, 1000 B frames. */
START_TEST(test_bit_rate_cost)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: bulk\n"
		"    match: { proto: udp }\n"
		"    limit: { key: flow, rate: 1Mbit, burst: 1522B }\n";
	uint8_t f[1000];
	uint32_t passed = 0;

	setup_policy(y, 64);
	udp4(f, 1000, "10.0.0.1", 5000, 0);
	/* 2000 frames of 8000 bit at 200 per second (1.6 Mbit/s), from t = 0. */
	for (uint32_t i = 0; i < 2000; i++)
		passed += run1(f, 1000, (uint64_t)i * 5 * NS / 1000) == SL_VERDICT_FORWARD;
	/* 2000 frames over 9.995 s: (9.995e6 + 12176) / 8000 = 1250.9 -> 1250 */
	ck_assert_uint_eq(passed, 1250);
	ck_assert_uint_eq(CLS(0).bytes[SL_OUT_PASSED], 1250 * 1000);
	teardown_policy();
}
END_TEST

/* The same key twice in one burst is one bucket, created once. */
START_TEST(test_repeated_key_in_burst)
{
	uint8_t f[8][100];
	struct sl_pkt p[8];
	uint8_t v[8];

	setup_policy(src_policy, 64);
	for (int i = 0; i < 8; i++) {
		udp4(f[i], 100, i % 2 ? "10.0.0.1" : "10.0.0.2", 5000, 0);
		p[i] = (struct sl_pkt){ .data = f[i], .len = 100, .wire_len = 100 };
	}
	sl_engine_run(eng, rs, p, 8, 0, v);
	/* burst 2 per source: packets 0-3 pass, 4-7 drop. */
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(v[i], i < 4 ? SL_VERDICT_FORWARD : SL_VERDICT_DROP);
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), 2);
	ck_assert_uint_eq(sl_flowtab_stats(eng->ft)->created, 2);
	teardown_policy();
}
END_TEST

/* Run one packet at now with room for shaping; its departure in *dep. */
static uint8_t run1_dep(uint8_t *f, uint32_t len, uint64_t now, uint64_t *dep)
{
	struct sl_pkt p = { .data = f, .len = len, .wire_len = len };
	uint8_t v = 0xff;

	sl_engine_run(eng, rs, &p, 1, now, &v);
	*dep = p.depart_ns;
	return v;
}

#define MS	1000000ULL

/*
 * shape: what conforms passes; what conforms within the delay, behind
 * what already waits, is delayed to the exact instant its tokens exist;
 * the rest is dropped, and without room a packet that could have
 * waited is dropped and counted as such.
 */
START_TEST(test_shape)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: shaped\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    limit: { key: src, rate: 10pps, burst: 2 }\n"
		"    exceed: { shape: 250ms }\n";
	static const struct {
		const char *src;
		uint64_t now, room;
		uint8_t verdict;
		uint64_t depart;
	} rows[] = {
		{ "10.0.0.1", 0, 100, SL_VERDICT_FORWARD, 0 },	/* burst */
		{ "10.0.0.1", 0, 100, SL_VERDICT_FORWARD, 0 },
		{ "10.0.0.1", 0, 100, SL_VERDICT_DELAY, 100 * MS },
		{ "10.0.0.1", 0, 100, SL_VERDICT_DELAY, 200 * MS },
		{ "10.0.0.1", 0, 100, SL_VERDICT_DROP, 0 },	/* 300 ms > 250 */
		{ "10.0.0.2", 0, 100, SL_VERDICT_FORWARD, 0 },	/* own bucket */
		{ "10.0.0.1", 50 * MS, 100, SL_VERDICT_DELAY, 300 * MS },	/* 250 exactly */
		{ "10.0.0.1", 60 * MS, 100, SL_VERDICT_DROP, 0 },	/* 340 */
		/* No room: it could have waited, so a full queue dropped it. */
		{ "10.0.0.1", 300 * MS, 0, SL_VERDICT_DROP, 0 },
		/* No room, but it conforms now behind nobody: it passes. */
		{ "10.0.0.1", 400 * MS, 0, SL_VERDICT_FORWARD, 400 * MS },
		/* Its last token, then a queue of 100 ms that is not jumped. */
		{ "10.0.0.2", 0, 1, SL_VERDICT_FORWARD, 0 },
		{ "10.0.0.2", 0, 1, SL_VERDICT_DELAY, 100 * MS },
		{ "10.0.0.2", 50 * MS, 0, SL_VERDICT_DROP, 0 },
	};
	uint8_t f[100];
	uint64_t dep;

	setup_policy(y, 64);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t v;

		udp4(f, 100, rows[i].src, 5000, 0);
		eng->shape_room = (uint32_t)rows[i].room;
		dep = 0;
		v = run1_dep(f, 100, rows[i].now, &dep);
		ck_assert_msg(v == rows[i].verdict, "row %zu: verdict %u, want %u",
			      i, v, rows[i].verdict);
		if (v == SL_VERDICT_DELAY) {
			ck_assert_msg(dep == rows[i].depart, "row %zu: departs %" PRIu64 ", want %" PRIu64,
				      i, dep, rows[i].depart);
			ck_assert_uint_eq(eng->shape_room, rows[i].room - 1);
		} else {
			ck_assert_uint_eq(eng->shape_room, rows[i].room);
		}
	}
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 5);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_DELAYED], 4);
	ck_assert_uint_eq(CLS(0).bytes[SL_OUT_DELAYED], 400);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_DROPPED], 4);
	ck_assert_uint_eq(eng->st.shape_full, 2);
	teardown_policy();
}
END_TEST

/*
 * A shaping class with a ceiling: the ceiling polices at arrival. Two
 * sources with their own 10 pps buckets share a ceiling with a burst of
 * 3 packets: a packet is queued only if the ceiling takes it then, and
 * one it refuses is dropped without charging its key's bucket.
 */
START_TEST(test_shape_with_ceiling)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: shaped\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    limit: { key: src, rate: 10pps, burst: 1 }\n"
		"    ceiling: { rate: 20pps, burst: 3 }\n"
		"    exceed: { shape: 250ms }\n";
	static const struct {
		const char *src;
		uint8_t verdict;
		uint64_t depart;
	} rows[] = {
		{ "10.0.0.1", SL_VERDICT_FORWARD, 0 },		/* key 1, ceiling 1 */
		{ "10.0.0.1", SL_VERDICT_DELAY, 100 * MS },	/* key waits, ceiling 2 */
		{ "10.0.0.2", SL_VERDICT_FORWARD, 0 },		/* ceiling 3: empty now */
		{ "10.0.0.2", SL_VERDICT_DROP, 0 },		/* key would wait; ceiling refuses */
		{ "10.0.0.1", SL_VERDICT_DROP, 0 },		/* ceiling refuses */
	};
	uint8_t f[100];
	uint64_t dep;

	setup_policy(y, 64);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t v;

		udp4(f, 100, rows[i].src, 5000, 0);
		eng->shape_room = 100;
		dep = 0;
		v = run1_dep(f, 100, 0, &dep);
		ck_assert_msg(v == rows[i].verdict, "row %zu: verdict %u, want %u",
			      i, v, rows[i].verdict);
		if (v == SL_VERDICT_DELAY)
			ck_assert_msg(dep == rows[i].depart, "row %zu: departs %" PRIu64 ", want %" PRIu64,
				      i, dep, rows[i].depart);
	}
	/*
	 * The refused packet charged no key: at 100 ms 10.0.0.2's bucket has
	 * earned its token and the ceiling two, so the next one passes at
	 * once. Had the refused one been scheduled, it would hold the token
	 * of 100 ms and this one would wait until 200 ms.
	 */
	udp4(f, 100, "10.0.0.2", 5000, 0);
	dep = 0;
	ck_assert_uint_eq(run1_dep(f, 100, 100 * MS, &dep), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 3);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_DELAYED], 1);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_DROPPED], 2);
	teardown_policy();
}
END_TEST

/*
 * Shaping bits: 1 Mbit/s, burst 1522 B, 1000 B frames in one burst:
 * the first passes, each next leaves when its 8000 bits exist, in order.
 */
START_TEST(test_shape_bits_burst)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: bulk\n"
		"    match: { proto: udp }\n"
		"    limit: { key: flow, rate: 1Mbit, burst: 1522B }\n"
		"    exceed: { shape: 20ms }\n";
	uint8_t f[5][1000];
	struct sl_pkt p[5];
	uint8_t v[5];

	setup_policy(y, 64);
	for (int i = 0; i < 5; i++) {
		udp4(f[i], 1000, "10.0.0.1", 5000, 0);
		p[i] = (struct sl_pkt){ .data = f[i], .len = 1000, .wire_len = 1000 };
	}
	eng->shape_room = 3;
	sl_engine_run(eng, rs, p, 5, 7, v);
	/* 12176 bits held: the first passes, 3824 more bits take 3.824 ms. */
	ck_assert_int_eq(v[0], SL_VERDICT_FORWARD);
	ck_assert_int_eq(v[1], SL_VERDICT_DELAY);
	ck_assert_uint_eq(p[1].depart_ns, 7 + 3824000);
	ck_assert_int_eq(v[2], SL_VERDICT_DELAY);
	ck_assert_uint_eq(p[2].depart_ns, 7 + 3824000 + 8000000);
	/* 19.824 ms: within 20 ms, and the last room. */
	ck_assert_int_eq(v[3], SL_VERDICT_DELAY);
	ck_assert_uint_eq(p[3].depart_ns, 7 + 3824000 + 16000000);
	ck_assert_int_eq(v[4], SL_VERDICT_DROP);
	ck_assert_uint_eq(eng->shape_room, 0);
	ck_assert_uint_eq(eng->st.shape_full, 0);	/* 27.8 ms: too late anyway */
	teardown_policy();
}
END_TEST

/*
 * A policy swap: a class that keeps its name keeps its buckets and
 * counters (even with a new rate); a removed class's slot, once
 * released and reset, serves a new class with fresh buckets.
 */
START_TEST(test_swap_keeps_state)
{
	static const char *const v2 =
		"version: 1\n"
		"default: drop\n"
		"classes:\n"
		"  - name: newcomer\n"
		"    match: { proto: udp, dport: 7000 }\n"
		"    limit: { key: src, rate: 10pps, burst: 2 }\n"
		"  - name: per-src\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    limit: { key: src, rate: 20pps, burst: 2 }\n";
	struct sl_ruleset *next;
	uint32_t freed[8], n;
	uint32_t old_slot;
	uint8_t f[100];

	setup_policy(src_policy, 1024);
	udp4(f, 100, "10.0.0.1", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	old_slot = rs->rt[0].slot;

	next = build(v2, rs);
	/* per-src moved to index 1, same slot and generation. */
	ck_assert_uint_eq(next->rt[1].slot, old_slot);
	ck_assert_uint_eq(next->rt[1].gen, rs->rt[0].gen);
	n = sl_slots_release(&slots, rs, next, freed);
	ck_assert_uint_eq(n, 3);	/* open, marked, watched */
	for (uint32_t i = 0; i < n; i++)
		sl_engine_slot_reset(eng, freed[i]);
	sl_ruleset_free(rs);
	rs = next;

	/* Its bucket is still empty: no burst again after the swap. */
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_DROP);
	/* The new rate (20 pps) refills it: one token after 50 ms. */
	ck_assert_int_eq(run1(f, 100, NS / 20), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(CLS(1).packets[SL_OUT_PASSED], 3);
	ck_assert_uint_eq(CLS(1).packets[SL_OUT_DROPPED], 2);
	/* The newcomer starts with a full bucket and zero counters. */
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 0);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_MARKED], 0);
	udp4(f, 100, "10.0.0.1", 7000, 0);
	ck_assert_int_eq(run1(f, 100, NS / 20), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, NS / 20), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, NS / 20), SL_VERDICT_DROP);
	teardown_policy();
}
END_TEST

/* A policy that would need more slots than exist is refused, slots intact. */
START_TEST(test_slots_exhausted)
{
	struct sl_ruleset *next;
	struct sl_diags d;
	struct sl_policy *p;
	char err[256];
	uint32_t used;

	setup_policy(src_policy, 64);
	used = slots.n_used;
	/* Pretend every other slot is taken. */
	for (uint32_t i = 0; i < SL_SLOTS_MAX; i++)
		if (!slots.used[i]) {
			slots.used[i] = 1;
			slots.n_used++;
		}
	ck_assert_int_eq(sl_policy_load_buf("t.yaml",
		"version: 1\nclasses:\n  - name: brand-new\n",
		strlen("version: 1\nclasses:\n  - name: brand-new\n"), &p, &d), 0);
	next = sl_ruleset_build(p, 2, rs, &slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_ptr_null(next);
	ck_assert_msg(strstr(err, "no free class slot") != NULL, "%s", err);
	ck_assert_uint_eq(slots.n_used, SL_SLOTS_MAX);
	(void)used;
	teardown_policy();
}
END_TEST

/* ---- class ceilings ---- */

/* A ceiling's exceed action, and what it leaves in the packet's DSCP. */
struct ceil_case {
	const char *exceed;
	uint8_t verdict;
	enum sl_outcome outcome;
	uint8_t dscp;			/* after the refused packet */
};

static const struct ceil_case ceil_cases[] = {
	{ "drop", SL_VERDICT_DROP, SL_OUT_DROPPED, 10 },
	{ "monitor", SL_VERDICT_FORWARD, SL_OUT_MONITORED, 10 },
	{ "{ mark: cs1 }", SL_VERDICT_FORWARD, SL_OUT_MARKED, 8 },
};

/* The bucket of key src in class 0 of rs, as the engine keeps it. */
static struct sl_tb *key_bucket(const char *src)
{
	struct sl_flow_key k;
	int32_t pos;

	memset(&k, 0, sizeof(k));
	k.class_id = rs->rt[0].slot;
	k.family = SL_FAMILY_IPV4;
	inet_pton(AF_INET, src, k.src);
	pos = sl_flowtab_lookup(eng->ft, &k);
	ck_assert_int_ge(pos, 0);
	return &sl_flowtab_entry(eng->ft, pos)->tb;
}

/*
 * The key bucket admits, the ceiling refuses: the packet exceeds, the
 * class's action applies, and the key bucket keeps its tokens.
 */
START_TEST(test_ceiling_exceeds)
{
	const struct ceil_case *c = &ceil_cases[_i];
	char y[512];
	uint8_t f[100];

	snprintf(y, sizeof(y),
		 "version: 1\n"
		 "classes:\n"
		 "  - name: c\n"
		 "    match: { proto: udp, dport: 5000 }\n"
		 "    limit: { key: src, rate: 1pps, burst: 4 }\n"
		 "    ceiling: { rate: 1000pps, burst: 2 }\n"
		 "    exceed: %s\n", c->exceed);
	setup_policy(y, 64);
	udp4(f, 100, "10.0.0.1", 5000, 10);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(key_bucket("10.0.0.1")->tokens, 2);
	/* The ceiling is empty; the key has 2 tokens and keeps them. */
	ck_assert_int_eq(run1(f, 100, 0), c->verdict);
	ck_assert_uint_eq(f[15] >> 2, c->dscp);
	udp4(f, 100, "10.0.0.1", 5000, 10);
	ck_assert_int_eq(run1(f, 100, 0), c->verdict);
	ck_assert_uint_eq(key_bucket("10.0.0.1")->tokens, 2);
	ck_assert_uint_eq(CLS(0).packets[c->outcome], 2);
	ck_assert_uint_eq(CLS(0).bytes[c->outcome], 200);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 2);
	/* 2 ms refill the ceiling twice: the key's 2 tokens pass, then the key refuses. */
	udp4(f, 100, "10.0.0.1", 5000, 10);
	ck_assert_int_eq(run1(f, 100, 2000000), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 2000000), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(key_bucket("10.0.0.1")->tokens, 0);
	ck_assert_int_eq(run1(f, 100, 2000000), c->verdict);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 4);
	ck_assert_uint_eq(CLS(0).packets[c->outcome], 3);
	teardown_policy();
}
END_TEST

static const char *const ceil_many_policy =
	"version: 1\n"
	"classes:\n"
	"  - name: login\n"
	"    match: { proto: udp, dport: 5000 }\n"
	"    limit: { key: src, rate: 100pps, burst: 5 }\n"
	"    ceiling: { rate: 10pps, burst: 8 }\n";

/* One packet from each of n sources (10.0.x.y) at now; how many passed. */
static uint32_t from_sources(struct sl_engine *e, uint32_t first, uint32_t n,
			     uint64_t now)
{
	uint8_t f[SL_ENGINE_BURST_MAX][100], v[SL_ENGINE_BURST_MAX];
	struct sl_pkt p[SL_ENGINE_BURST_MAX];
	uint32_t passed = 0;
	char src[32];

	ck_assert_uint_le(n, SL_ENGINE_BURST_MAX);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "10.0.%u.%u", (first + i) / 256, (first + i) % 256);
		udp4(f[i], 100, src, 5000, 0);
		p[i] = (struct sl_pkt){ .data = f[i], .len = 100, .wire_len = 100 };
	}
	sl_engine_run(e, rs, p, (uint16_t)n, now, v);
	for (uint32_t i = 0; i < n; i++)
		passed += v[i] == SL_VERDICT_FORWARD;
	return passed;
}

/*
 * Two engines (two lcores) sharing the ceilings: the class gets one
 * burst and one rate between them, spread over many keys; engines that
 * do not share get a ceiling each.
 */
START_TEST(test_ceiling_shared)
{
	struct sl_engine *e2, *e3;
	struct sl_ceil *shared;
	uint32_t a, b;

	setup_policy(ceil_many_policy, 1024);
	shared = sl_ceilings_create(SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(shared);
	e2 = sl_engine_create("test_eng_ceil2", 1024, SOCKET_ID_ANY);
	e3 = sl_engine_create("test_eng_ceil3", 1024, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(e2);
	ck_assert_ptr_nonnull(e3);
	sl_engine_share_ceilings(eng, shared);
	sl_engine_share_ceilings(e2, shared);
	/* 6 sources on each lcore: 8 pass in all, every key had room. */
	a = from_sources(eng, 0, 6, NS);
	b = from_sources(e2, 100, 6, NS);
	ck_assert_uint_eq(a, 6);
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(from_sources(e2, 200, 8, NS), 0);
	/* 10 pps: 300 ms later three more, whoever asks. */
	ck_assert_uint_eq(from_sources(e2, 300, 2, NS + 300000000) +
			  from_sources(eng, 400, 2, NS + 300000000), 3);
	ck_assert_uint_eq(sl_engine_class_counters(eng, rs, 0)->packets[SL_OUT_PASSED] +
			  sl_engine_class_counters(e2, rs, 0)->packets[SL_OUT_PASSED], 11);
	/* An engine of its own ceilings is not held by the others'. */
	ck_assert_uint_eq(from_sources(e3, 500, 10, NS), 8);
	/* A released slot is reset in the shared ceilings too. */
	sl_engine_slot_reset(eng, rs->rt[0].slot);
	ck_assert_uint_eq(shared[rs->rt[0].slot].tat, 0);
	sl_engine_free(e2);
	sl_engine_free(e3);
	sl_engine_free(eng);
	eng = NULL;
	sl_ceilings_free(shared);
	teardown_policy();
}
END_TEST

/* A ceiling without a limit: one bucket for the class, its exceed applies. */
START_TEST(test_ceiling_without_limit)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: all\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    ceiling: { rate: 1Mbit, burst: 2000B }\n"
		"    exceed: { mark: af11 }\n";
	uint8_t f[100];
	char src[32];

	setup_policy(y, 64);
	/* 2000 B of burst: twenty 100-byte frames from twenty sources. */
	for (int i = 0; i < 21; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		udp4(f, 100, src, 5000, 0);
		ck_assert_int_eq(run1(f, 100, 0), SL_VERDICT_FORWARD);
		ck_assert_uint_eq(f[15] >> 2, i < 20 ? 0 : 10);
	}
	/* No keys: nothing enters the flow table. */
	ck_assert_uint_eq(sl_flowtab_count(eng->ft), 0);
	/* 1 Mbit/s earns 800 bits in 800 us, one frame. */
	udp4(f, 100, "192.0.2.99", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 799999), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(f[15] >> 2, 10);
	udp4(f, 100, "192.0.2.99", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 800000), SL_VERDICT_FORWARD);
	ck_assert_uint_eq(f[15] >> 2, 0);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_PASSED], 21);
	ck_assert_uint_eq(CLS(0).packets[SL_OUT_MARKED], 2);
	teardown_policy();
}
END_TEST

/*
 * A policy swap: a class that keeps its name keeps its ceiling's debt;
 * a new class in a reused slot starts with a full one.
 */
START_TEST(test_ceiling_swap)
{
	static const char *const v2 =
		"version: 1\n"
		"classes:\n"
		"  - name: login\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    limit: { key: src, rate: 100pps, burst: 5 }\n"
		"    ceiling: { rate: 20pps, burst: 8 }\n";
	static const char *const v3 =
		"version: 1\n"
		"classes:\n"
		"  - name: newcomer\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    ceiling: { rate: 1pps, burst: 8 }\n";
	struct sl_ruleset *next;
	uint32_t freed[4], slot;

	setup_policy(ceil_many_policy, 1024);
	ck_assert_uint_eq(from_sources(eng, 0, 10, 0), 8);
	slot = rs->rt[0].slot;
	next = build(v2, rs);
	ck_assert_uint_eq(sl_slots_release(&slots, rs, next, freed), 0);
	ck_assert_int_eq(sl_ceilings_carry(eng->ceil, rs, next, 0), 0);
	sl_ruleset_free(rs);
	rs = next;
	/* Still empty (its tokens carried over); at 20 pps, 100 ms earn two. */
	ck_assert_uint_eq(from_sources(eng, 20, 4, 0), 0);
	ck_assert_uint_eq(from_sources(eng, 30, 4, 100000000), 2);
	/* Replace the class: its slot is released, reset, and taken again. */
	next = build(v3, rs);
	ck_assert_uint_eq(sl_slots_release(&slots, rs, next, freed), 1);
	ck_assert_uint_eq(freed[0], slot);
	sl_engine_slot_reset(eng, freed[0]);
	sl_ruleset_free(rs);
	rs = next;
	ck_assert_uint_eq(from_sources(eng, 40, 10, 100000000), 8);
	teardown_policy();
}
END_TEST

/* A class that keeps its name and gains a ceiling gets a full one. */
START_TEST(test_ceiling_gained)
{
	static const char *const without =
		"version: 1\n"
		"classes:\n"
		"  - name: login\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    limit: { key: src, rate: 100pps, burst: 5 }\n";
	struct sl_ruleset *next;

	setup_policy(ceil_many_policy, 1024);
	ck_assert_uint_eq(from_sources(eng, 0, 10, 0), 8);
	next = build(without, rs);
	ck_assert_int_eq(sl_ceilings_carry(eng->ceil, rs, next, 0), 0);
	sl_ruleset_free(rs);
	rs = next;
	ck_assert_uint_eq(from_sources(eng, 100, 10, 0), 10);
	next = build(ceil_many_policy, rs);
	ck_assert_int_eq(sl_ceilings_carry(eng->ceil, rs, next, 0), 0);
	sl_ruleset_free(rs);
	rs = next;
	ck_assert_uint_eq(from_sources(eng, 200, 10, 0), 8);
	teardown_policy();
}
END_TEST

/*
 * A clock that steps back (captures out of order) earns nothing and
 * costs nothing, as for key buckets: credit left at the latest time is
 * still there.
 */
START_TEST(test_ceiling_clock_back)
{
	static const char *const y =
		"version: 1\n"
		"classes:\n"
		"  - name: all\n"
		"    match: { proto: udp, dport: 5000 }\n"
		"    ceiling: { rate: 1pps, burst: 2 }\n";
	uint8_t f[100];

	setup_policy(y, 64);
	udp4(f, 100, "192.0.2.1", 5000, 0);
	ck_assert_int_eq(run1(f, 100, 10 * NS), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 9 * NS), SL_VERDICT_FORWARD);
	ck_assert_int_eq(run1(f, 100, 5 * NS), SL_VERDICT_DROP);
	ck_assert_int_eq(run1(f, 100, 11 * NS - 1), SL_VERDICT_DROP);
	ck_assert_int_eq(run1(f, 100, 11 * NS), SL_VERDICT_FORWARD);
	teardown_policy();
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_malformed_and_non_ip);
	tcase_add_test(tc, test_flow_table_full);
	tcase_add_test(tc, test_idle_expiry);
	tcase_add_test(tc, test_bit_rate_cost);
	tcase_add_test(tc, test_repeated_key_in_burst);
	tcase_add_test(tc, test_swap_keeps_state);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_shape_bits_burst);
	tcase_add_test(tc, test_shape_with_ceiling);
	tcase_add_test(tc, test_slots_exhausted);
	tcase_add_loop_test(tc, test_ceiling_exceeds, 0, sizeof(ceil_cases) / sizeof(ceil_cases[0]));
	tcase_add_test(tc, test_ceiling_shared);
	tcase_add_test(tc, test_ceiling_without_limit);
	tcase_add_test(tc, test_ceiling_swap);
	tcase_add_test(tc, test_ceiling_gained);
	tcase_add_test(tc, test_ceiling_clock_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	/* One EAL per process: run the tests in it, not in forks. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
