/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmark's policy and frames (traffic.c) through the engine:
 * every frame must match its own class (or the payload class in front
 * of it), none may be unmatched or malformed, and every flow must be a
 * bucket key of its own, in both layouts and with both key choices.
 * Also the flows' 5-tuples up to 10M flows, and the per-class bounds
 * of --key mixed being exact. Loops over many flows count failures and
 * assert once: each ck_assert costs Check a write().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "bench.h"
#include "eal_helper.h"
#include "engine.h"

struct traffic_case {
	uint32_t classes, flows;
	enum sl_bench_key key;
	enum sl_bench_payload pl;
	uint32_t patterns, payload_size;
};

static const struct traffic_case cases[] = {
	{ 1, 1000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 100, 100000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 250, 25000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 251, 25100, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 10000, 20000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 10000, 20000, SL_BENCH_KEY_FLOW, SL_BENCH_PL_NONE, 0, 0 },
	/* At the per-class bounds of --key mixed: the last flow still a key of its own. */
	{ 2, 2 * 65536, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	{ 251, 251 * 1024, SL_BENCH_KEY_MIXED, SL_BENCH_PL_NONE, 0, 0 },
	/* Beyond them with --key flow. */
	{ 3, 300000, SL_BENCH_KEY_FLOW, SL_BENCH_PL_NONE, 0, 0 },
	{ 251, 251 * 1200, SL_BENCH_KEY_FLOW, SL_BENCH_PL_NONE, 0, 0 },
	/* Payload classes in front, in the dense layout too. */
	{ 100, 1000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_MATCH, 0, 0 },
	{ 251, 2510, SL_BENCH_KEY_MIXED, SL_BENCH_PL_IDLE, 0, 0 },
	{ 251, 2510, SL_BENCH_KEY_FLOW, SL_BENCH_PL_SCAN, 0, 0 },
	{ 251, 2510, SL_BENCH_KEY_MIXED, SL_BENCH_PL_MATCH, 0, 0 },
	{ 251, 2510, SL_BENCH_KEY_MIXED, SL_BENCH_PL_SCAN, 10, 200 },
	{ 1000, 3000, SL_BENCH_KEY_MIXED, SL_BENCH_PL_MATCH, 12, 300 },
};

/*
 * Accepts a case and class i; the index in the policy of the class that
 * must take class i's flows.
 */
static uint32_t expected_class(const struct traffic_case *c, uint32_t i)
{
	if (c->pl == SL_BENCH_PL_NONE)
		return i;
	if (c->patterns == 0)	/* payload class i, then class i */
		return c->pl == SL_BENCH_PL_MATCH ? 2 * i : 2 * i + 1;
	/* N pattern classes first; under match pattern i % N takes them. */
	return c->pl == SL_BENCH_PL_MATCH ? i % c->patterns : c->patterns + i;
}

/* The policy of case c, compiled. */
static struct sl_ruleset *policy_build(const struct traffic_case *c,
				       struct sl_slots *slots)
{
	char *text = sl_bench_policy(c->classes, SL_BENCH_CONFORM, c->key,
				     c->pl, c->patterns);
	struct sl_ruleset *rs;
	struct sl_policy *p;
	struct sl_diags d;
	char err[256];

	ck_assert_ptr_nonnull(text);
	if (sl_policy_load_buf("bench.yaml", text, strlen(text), &p, &d) < 0) {
		sl_diags_print(&d, stderr);
		ck_abort_msg("policy of %u classes refused", c->classes);
	}
	free(text);
	rs = sl_ruleset_build(p, 1, NULL, slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_msg(rs != NULL, "ruleset: %s", err);
	return rs;
}

/*
 * Accepts the frames of t; sends each through e once, in bursts of 32.
 * Returns how many were not forwarded.
 */
static uint32_t frames_run(struct sl_engine *e, const struct sl_ruleset *rs,
			   const struct sl_bench_traffic *t)
{
	enum { BURST = 32, ROOM = 2048 };
	static uint8_t buf[BURST][ROOM];
	struct sl_pkt pkts[BURST];
	uint8_t verdict[BURST];
	uint32_t held = 0;

	for (uint32_t k = 0; k < t->n_flows; k += BURST) {
		uint16_t n = (uint16_t)RTE_MIN((uint32_t)BURST, t->n_flows - k);

		memset(pkts, 0, sizeof(pkts));
		for (uint16_t i = 0; i < n; i++) {
			pkts[i].data = buf[i];
			pkts[i].len = sl_bench_frame_write(t, k + i, buf[i]);
			pkts[i].wire_len = pkts[i].len;
		}
		sl_engine_run(e, rs, pkts, n, 1000, verdict);
		for (uint16_t i = 0; i < n; i++)
			held += verdict[i] != SL_VERDICT_FORWARD;
	}
	return held;
}

/* Every frame of case _i goes to its own class, as a key of its own. */
START_TEST(test_frames_classes)
{
	const struct traffic_case *c = &cases[_i];
	static struct sl_slots slots;
	struct sl_bench_traffic t;
	struct sl_ruleset *rs;
	struct sl_engine *e;
	uint64_t unmatched = 0, malformed = 0;
	uint32_t cap = 64;
	char name[32];

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = policy_build(c, &slots);
	while (cap < c->flows)
		cap *= 2;
	snprintf(name, sizeof(name), "test_bench_%d", _i);
	e = sl_engine_create(name, cap, SOCKET_ID_ANY);
	ck_assert_msg(e != NULL, "engine: %s", rte_strerror(rte_errno));
	ck_assert_int_eq(sl_bench_traffic_build(&t, c->classes, c->flows,
						c->payload_size, c->pl,
						c->patterns, SOCKET_ID_ANY), 0);
	ck_assert_uint_eq(frames_run(e, rs, &t), 0);

	for (int k = 0; k < SL_OUT__COUNT; k++)
		unmatched += e->st.deflt.packets[k];
	for (int k = 0; k < SL_MAL__COUNT; k++)
		malformed += e->st.malformed[k];
	ck_assert_uint_eq(unmatched, 0);
	ck_assert_uint_eq(malformed, 0);
	ck_assert_uint_eq(e->st.overflow, 0);
	/* Flow f belongs to class f % classes (traffic.c). */
	for (uint32_t x = 0; x < rs->n_classes; x++) {
		uint64_t want = 0, got = 0;

		for (uint32_t i = 0; i < c->classes; i++)
			if (expected_class(c, i) == x)
				want += c->flows / c->classes + (i < c->flows % c->classes);
		for (int k = 0; k < SL_OUT__COUNT; k++)
			got += sl_engine_class_counters(e, rs, x)->packets[k];
		ck_assert_msg(got == want, "case %d: class %u took %" PRIu64 " packets, not %" PRIu64,
			      _i, x, got, want);
	}
	ck_assert_uint_eq(sl_flowtab_count(e->ft), c->flows);
	sl_bench_traffic_free(&t);
	sl_engine_free(e);
	sl_ruleset_free(rs);
}
END_TEST

/* A flow's 5-tuple, packed so that equal tuples compare equal. */
struct packed {
	uint64_t hi, lo;
};

static int packed_cmp(const void *a, const void *b)
{
	const struct packed *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Class counts of the 10M-flow runs. */
static const uint32_t big_classes[] = { 100, 10000 };

/*
 * 10M flows, spread as the benchmark spreads them: 5-tuples all differ.
 * Classes have disjoint port ranges (test_mixed_bound), so comparing
 * the flows of each class among themselves is enough.
 */
START_TEST(test_tuples_unique)
{
	const uint32_t n = 10000000, classes = big_classes[_i];
	const uint32_t per = (n + classes - 1) / classes;
	struct packed *v = malloc((size_t)per * sizeof(*v));
	struct sl_bench_tuple t;
	uint32_t same = 0;

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_ge(sl_bench_class_flows_max(classes, SL_BENCH_KEY_FLOW), per);
	for (uint32_t i = 0; i < classes; i++) {
		uint32_t m = 0;

		for (uint32_t f = i; f < n; f += classes, m++) {
			sl_bench_flow(classes, i, f / classes, &t);
			v[m].hi = (uint64_t)t.src << 32 | t.dst;
			v[m].lo = (uint64_t)t.sport << 24 | (uint64_t)t.dport << 8 | t.proto;
		}
		qsort(v, m, sizeof(*v), packed_cmp);
		for (uint32_t k = 1; k < m; k++)
			same += packed_cmp(&v[k - 1], &v[k]) == 0;
	}
	free(v);
	ck_assert_msg(same == 0, "%u classes: %u flows share a 5-tuple", classes, same);
}
END_TEST

/* Class counts on both sides of the layouts' boundary, and the largest. */
static const uint32_t bound_classes[] = { 1, 250, 251, 10000 };

/*
 * --key mixed allows sl_bench_class_flows_max() flows a class: within
 * it, sources and destinations of a class all differ; flow max repeats
 * flow 0's source (so the bound is not needlessly low). Every flow is
 * inside its class's prefix and ports, which no other class shares.
 */
START_TEST(test_mixed_bound)
{
	const uint32_t classes = bound_classes[_i];
	const uint32_t max = sl_bench_class_flows_max(classes, SL_BENCH_KEY_MIXED);
	const uint32_t i = classes - 1;
	uint8_t *seen_src = calloc(1u << 24, 1), *seen_dst = calloc(1u << 24, 1);
	struct sl_bench_tuple t0, t, o;
	uint32_t bad = 0;

	ck_assert_ptr_nonnull(seen_src);
	ck_assert_ptr_nonnull(seen_dst);
	for (uint32_t j = 0; j < max; j++) {
		sl_bench_flow(classes, i, j, &t);
		/* All under 10/8 and 198/8: the low 24 bits tell them apart. */
		bad += seen_src[t.src & 0xffffff]++ != 0;
		bad += seen_dst[t.dst & 0xffffff]++ != 0;
		bad += t.src >> 24 != 10 || t.dst >> 24 != 198;
		if (i > 0) {	/* no other class's source or port */
			sl_bench_flow(classes, i - 1, j, &o);
			bad += t.dport == o.dport || t.src == o.src;
		}
	}
	ck_assert_msg(bad == 0, "%u classes: %u repeated or shared addresses or ports",
		      classes, bad);
	sl_bench_flow(classes, i, 0, &t0);
	sl_bench_flow(classes, i, max, &t);
	ck_assert_uint_eq(t.src, t0.src);
	ck_assert_uint_le(t.dport, 65535);
	free(seen_src);
	free(seen_dst);
}
END_TEST

static Suite *traffic_suite(void)
{
	Suite *s = suite_create("bench_traffic");
	TCase *tc = tcase_create("traffic");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_frames_classes, 0, (int)RTE_DIM(cases));
	tcase_add_loop_test(tc, test_tuples_unique, 0, (int)RTE_DIM(big_classes));
	tcase_add_loop_test(tc, test_mixed_bound, 0, (int)RTE_DIM(bound_classes));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(traffic_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
