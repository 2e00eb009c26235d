/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two paths agree: every frame of a corpus (valid and malformed,
 * IPv4 and IPv6, tagged and not) goes through the dataplane's engine, as
 * replay runs it, and through the XDP program with BPF_PROG_TEST_RUN,
 * under several L3/L4 policies. For every frame both must give the same
 * class (or the default, or malformed, or non-IP), the same outcome
 * (passed, dropped, marked, monitored), the same verdict and the same
 * bytes out (a mark rewrites DSCP and the IPv4 checksum).
 *
 * Meters depend on time: both sides read CLOCK_MONOTONIC (the engine is
 * handed it per frame; bpf_ktime_get_ns is the same clock), and rates
 * are tiny (1 pps, 8 bit/s) so no refill earns a whole token during a
 * run and the verdicts depend on the order of frames alone.
 *
 * Needs root and BPF; skipped (exit 77) without them.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <bpf/bpf.h>
#include <linux/if_link.h>

#include "eal_helper.h"
#include "engine.h"
#include "pkt_corpus.h"
#include "xdp_path.h"

#define CORPUS_N	3000
#define CORPUS_SEED	0x5eed0d1ffULL
/* A veth pair in the test's own network namespace: the port pair. */
#define PORT_A		"sldiff0"
#define PORT_B		"sldiff1"

static unsigned int port_a;	/* ifindex of PORT_A: the frames' ingress */

/* What happened to one frame, on either path. */
struct fate {
	int kind;		/* K_* */
	int32_t cls;		/* class index for K_CLASS */
	int outcome;		/* SL_OUT_* for K_CLASS and K_DEFAULT */
	uint8_t forward;	/* 1: forwarded (redirect), 0: dropped */
};

enum { K_CLASS, K_DEFAULT, K_MALFORMED, K_NON_IP };

static const char *const kind_names[] = { "class", "default", "malformed", "non-ip" };

/* Several policies over the corpus's address, port, flag and DSCP pools. */
static const char *const policies[] = {
	/* Sources and destinations, both families, nested prefixes, all actions. */
	"version: 1\n"
	"default: pass\n"
	"classes:\n"
	"  - name: dns\n"
	"    match: { proto: udp, dport: 53, dst: [192.0.2.0/24, 2001:db8:a::/48] }\n"
	"    limit: { key: src, rate: 1pps, burst: 2 }\n"
	"    exceed: drop\n"
	"  - name: web-tcp\n"
	"    match: { proto: tcp, dport: [80, 443, 8080] }\n"
	"    limit: { key: flow, rate: 1pps, burst: 1 }\n"
	"    exceed: { mark: cs1 }\n"
	"  - name: ten-nets\n"
	"    match: { src: [10.0.0.0/8, 10.1.2.0/24, fd00:0:0:1::/64] }\n"
	"    limit: { key: src/16, rate: 8bit, burst: 1600B }\n"
	"    exceed: monitor\n"
	"  - name: doc-dst6\n"
	"    match: { dst: [2001:db8::/32, 2001:db8:b::/48] }\n"
	"    limit: { key: dst/56, rate: 1pps, burst: 3 }\n"
	"    exceed: drop\n"
	"  - name: high-ports\n"
	"    match: { proto: udp, sport: 1024-65535, dport: 1024-65535 }\n"
	"    limit: { key: none, rate: 1pps, burst: 20 }\n"
	"    exceed: { mark: af11 }\n",

	/* Default drop; TCP flags, DSCP, VLAN, ICMP, other protocols. */
	"version: 1\n"
	"default: drop\n"
	"classes:\n"
	"  - name: syn\n"
	"    match: { proto: tcp, tcp_flags: syn }\n"
	"    limit: { key: src/24, rate: 1pps, burst: 2 }\n"
	"    exceed: drop\n"
	"  - name: rst-or-fin\n"
	"    match: { proto: tcp, tcp_flags: rst }\n"
	"  - name: ef\n"
	"    match: { dscp: [ef, af11, 8] }\n"
	"    limit: { key: flow, rate: 8bit, burst: 1522B }\n"
	"    exceed: { mark: cs0 }\n"
	"  - name: tagged\n"
	"    match: { vlan: [1-100, 4000-4095] }\n"
	"    limit: { key: src, rate: 1pps, burst: 1 }\n"
	"    exceed: monitor\n"
	"  - name: icmp\n"
	"    match: { proto: icmp }\n"
	"  - name: icmp6\n"
	"    match: { proto: 58 }\n"
	"    limit: { key: dst, rate: 1pps, burst: 1 }\n"
	"  - name: udp-any\n"
	"    match: { proto: udp }\n"
	"    limit: { key: none, rate: 1pps, burst: 50 }\n",

	/* Many classes: three bitmap words, overlapping port ranges. */
	NULL,	/* filled by wide_policy() */

	/* No class at all: the default for every IP frame. */
	"version: 1\n"
	"default: drop\n"
	"classes: []\n",
};
#define N_POLICIES	(sizeof(policies) / sizeof(policies[0]))

/* A 150-class policy: port ranges and /16s of 10/8 in turn. */
static char *wide_policy(void)
{
	size_t cap = 64 * 1024, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	len += (size_t)snprintf(s + len, cap - len, "version: 1\ndefault: pass\nclasses:\n");
	for (int i = 0; i < 150; i++) {
		if (i % 3 == 0)
			len += (size_t)snprintf(s + len, cap - len,
				"  - name: ports-%d\n    match: { proto: tcp, dport: %d-%d }\n"
				"    limit: { key: src, rate: 1pps, burst: %d }\n",
				i, i * 400, i * 400 + 900, 1 + i % 4);
		else if (i % 3 == 1)
			len += (size_t)snprintf(s + len, cap - len,
				"  - name: net-%d\n    match: { src: 10.%d.0.0/16 }\n"
				"    limit: { key: flow, rate: 1pps, burst: 1 }\n    exceed: monitor\n",
				i, i);
		else
			len += (size_t)snprintf(s + len, cap - len,
				"  - name: proto-%d\n    match: { proto: %d, dscp: %d }\n",
				i, i % 3 ? 6 : 17, i % 64);
	}
	return s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Which outcome counter moved between two snapshots; -1 if none. */
static int outcome_moved(const uint64_t *before, const uint64_t *after)
{
	for (int o = 0; o < SL_OUT__COUNT; o++)
		if (after[o] != before[o])
			return o;
	return -1;
}

/* The same for the XDP program's counters (__u64, not uint64_t). */
static int xdp_outcome_moved(const __u64 *before, const __u64 *after)
{
	for (int o = 0; o < SL_OUT__COUNT; o++)
		if (after[o] != before[o])
			return o;
	return -1;
}

#define CLASSES_MAX	160	/* classes of the largest policy here */

/* The engine's fate of frame f (rewritten in place on a mark). */
static struct fate engine_fate(struct sl_engine *e, const struct sl_ruleset *rs,
			       uint8_t *f, uint32_t len)
{
	struct sl_engine_stats st = e->st;
	struct sl_pkt p = { .data = f, .len = len, .wire_len = len };
	struct fate r = { .kind = -1, .cls = -1, .outcome = -1 };
	static uint64_t before[CLASSES_MAX][SL_OUT__COUNT];
	uint64_t mal = 0, mal2 = 0;
	uint8_t verdict = 0xff;
	uint32_t i;

	ck_assert_uint_le(rs->n_classes, CLASSES_MAX);
	for (i = 0; i < rs->n_classes; i++)
		memcpy(before[i], sl_engine_class_counters(e, rs, i)->packets,
		       sizeof(before[i]));
	sl_engine_run(e, rs, &p, 1, now_ns(), &verdict);
	r.forward = verdict == SL_VERDICT_FORWARD;
	for (int m = 0; m < SL_MAL__COUNT; m++) {
		mal += st.malformed[m];
		mal2 += e->st.malformed[m];
	}
	if (mal2 != mal) {
		r.kind = K_MALFORMED;
		return r;
	}
	if (e->st.non_ip != st.non_ip) {
		r.kind = K_NON_IP;
		return r;
	}
	r.outcome = outcome_moved(st.deflt.packets, e->st.deflt.packets);
	if (r.outcome >= 0) {
		r.kind = K_DEFAULT;
		return r;
	}
	for (i = 0; i < rs->n_classes; i++) {
		r.outcome = outcome_moved(before[i],
					  sl_engine_class_counters(e, rs, i)->packets);
		if (r.outcome >= 0) {
			r.kind = K_CLASS;
			r.cls = (int32_t)i;
			return r;
		}
	}
	return r;
}

/* The XDP program's fate of frame f; out gets the frame it returns. */
static struct fate xdp_fate(struct sl_xdp *x, uint32_t n_classes, const uint8_t *f,
			    uint32_t len, uint8_t *out)
{
	struct xdp_md md = { .data_end = len, .ingress_ifindex = port_a };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		.data_out = out, .data_size_out = SL_CORPUS_FRAME_MAX,
		.ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = 1);
	struct sl_xdp_totals t0, t1;
	static struct sl_xdp_counters c0[CLASSES_MAX];
	struct sl_xdp_counters c1;
	struct fate r = { .kind = -1, .cls = -1, .outcome = -1 };
	uint64_t mal0 = 0, mal1 = 0;
	uint32_t i;

	ck_assert_uint_le(n_classes, CLASSES_MAX);
	ck_assert_int_eq(sl_xdp_totals(x, &t0), 0);
	for (i = 0; i < n_classes; i++)
		ck_assert_int_eq(sl_xdp_class_counters(x, i, &c0[i]), 0);
	ck_assert_msg(bpf_prog_test_run_opts(sl_xdp_prog_fd(x), &o) == 0,
		      "test run: %s", strerror(errno));
	ck_assert_uint_eq(o.data_size_out, len);
	r.forward = o.retval == XDP_REDIRECT;
	ck_assert_msg(o.retval == XDP_REDIRECT || o.retval == XDP_DROP,
		      "program returned %u", o.retval);
	ck_assert_int_eq(sl_xdp_totals(x, &t1), 0);
	for (int m = 0; m < SL_MAL__COUNT; m++) {
		mal0 += t0.st.malformed[m];
		mal1 += t1.st.malformed[m];
	}
	if (mal1 != mal0) {
		r.kind = K_MALFORMED;
		return r;
	}
	if (t1.st.non_ip != t0.st.non_ip) {
		r.kind = K_NON_IP;
		return r;
	}
	r.outcome = xdp_outcome_moved(t0.st.deflt.packets, t1.st.deflt.packets);
	if (r.outcome >= 0) {
		r.kind = K_DEFAULT;
		return r;
	}
	for (i = 0; i < n_classes; i++) {
		ck_assert_int_eq(sl_xdp_class_counters(x, i, &c1), 0);
		r.outcome = xdp_outcome_moved(c0[i].packets, c1.packets);
		if (r.outcome >= 0) {
			r.kind = K_CLASS;
			r.cls = (int32_t)i;
			return r;
		}
	}
	return r;
}

static struct sl_corpus_frame *corpus;

static void setup(void)
{
	test_eal_init();
	corpus = calloc(CORPUS_N, sizeof(*corpus));
	ck_assert_ptr_nonnull(corpus);
	sl_corpus_build(corpus, CORPUS_N, CORPUS_SEED);
}

static void teardown(void)
{
	free(corpus);
}

/* Loads policy text; fails the test with the diagnostics if invalid. */
static struct sl_policy *load(const char *text, int k)
{
	struct sl_diags dg;
	struct sl_policy *p;
	char name[32];

	snprintf(name, sizeof(name), "policy-%d", k);
	if (sl_policy_load_buf(name, text, strlen(text), &p, &dg) != 0) {
		sl_diags_print(&dg, stderr);
		ck_abort_msg("policy %d does not load", k);
	}
	return p;
}

START_TEST(paths_agree)
{
	static struct sl_slots slots;
	const int k = _i;
	char *wide = k == 2 ? wide_policy() : NULL;
	const char *text = wide ? wide : policies[k];
	struct sl_policy *pe = load(text, k), *px = load(text, k);
	struct sl_xdp_opts xo = { .keys_max = 65536 };
	char err[512], ename[32];
	struct sl_ruleset *rs;
	struct sl_engine *e;
	struct sl_xdp *x;
	uint8_t fe[SL_CORPUS_FRAME_MAX], fx[SL_CORPUS_FRAME_MAX];
	uint32_t compared = 0, per_kind[4] = { 0 }, marked = 0, dropped = 0;
	uint32_t n_classes = pe->n_classes;

	x = sl_xdp_open(&xo, err, sizeof(err));
	if (x == NULL && (strstr(err, "ermission") || strstr(err, "EPERM"))) {
		free(wide);
		sl_policy_free(pe);
		sl_policy_free(px);
		return;	/* no BPF here; the suite's skip check runs first */
	}
	ck_assert_msg(x != NULL, "sl_xdp_open: %s", err);
	ck_assert_msg(sl_xdp_pair_add(x, PORT_A, PORT_B, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(sl_xdp_policy_set(x, px, 1, err, sizeof(err)) == 0, "%s", err);
	memset(&slots, 0, sizeof(slots));
	rs = sl_ruleset_build(pe, 1, NULL, &slots, 0, err, sizeof(err));
	ck_assert_msg(rs != NULL, "%s", err);
	snprintf(ename, sizeof(ename), "xdpdiff%d", k);
	e = sl_engine_create(ename, 65536, 0);
	ck_assert_ptr_nonnull(e);

	for (uint32_t i = 0; i < CORPUS_N; i++) {
		const struct sl_corpus_frame *c = &corpus[i];
		struct fate a, b;

		/* BPF_PROG_TEST_RUN refuses frames shorter than Ethernet. */
		if (c->len < 14)
			continue;
		memcpy(fe, c->data, c->len);
		a = engine_fate(e, rs, fe, c->len);
		b = xdp_fate(x, n_classes, c->data, c->len, fx);
		ck_assert_msg(a.kind == b.kind && a.cls == b.cls,
			      "policy %d frame %u (%u bytes): engine %s %d, XDP %s %d",
			      k, i, c->len, kind_names[a.kind < 0 ? 0 : a.kind], a.cls,
			      kind_names[b.kind < 0 ? 0 : b.kind], b.cls);
		ck_assert_msg(a.outcome == b.outcome,
			      "policy %d frame %u: engine outcome %d, XDP %d", k, i,
			      a.outcome, b.outcome);
		ck_assert_msg(a.forward == b.forward,
			      "policy %d frame %u: engine %s, XDP %s", k, i,
			      a.forward ? "forwards" : "drops",
			      b.forward ? "forwards" : "drops");
		ck_assert_msg(memcmp(fe, fx, c->len) == 0,
			      "policy %d frame %u: the frames out differ", k, i);
		compared++;
		per_kind[b.kind]++;
		marked += b.outcome == SL_OUT_MARKED;
		dropped += !b.forward;
	}
	printf("policy %d: %u frames agree (%u class, %u default, %u malformed, %u non-ip; %u dropped, %u marked)\n",
	       k, compared, per_kind[K_CLASS], per_kind[K_DEFAULT],
	       per_kind[K_MALFORMED], per_kind[K_NON_IP], dropped, marked);
	ck_assert_uint_ge(compared, 1000);
	ck_assert_uint_gt(per_kind[K_MALFORMED], 100);
	if (n_classes > 0) {
		ck_assert_uint_gt(per_kind[K_CLASS], 100);
		ck_assert_uint_gt(per_kind[K_DEFAULT], 0);
	}
	sl_engine_free(e);
	sl_ruleset_free(rs);
	sl_xdp_close(x);
	sl_policy_free(px);
	free(wide);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xdp_diff");
	TCase *tc = tcase_create("paths");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, paths_agree, 0, (int)N_POLICIES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	struct sl_xdp_opts xo = { .keys_max = 16 };
	char err[256];
	struct sl_xdp *probe;
	SRunner *sr;
	int failed;

	/* Root and BPF, or skip. */
	probe = sl_xdp_open(&xo, err, sizeof(err));
	if (probe == NULL) {
		printf("skipped: the XDP program does not load here: %s\n", err);
		return 77;
	}
	sl_xdp_close(probe);
	/* A private namespace: the veth pair vanishes with the process. */
	if (unshare(CLONE_NEWNET) != 0 ||
	    system("ip link add " PORT_A " type veth peer name " PORT_B) != 0 ||
	    system("ip link set " PORT_A " up && ip link set " PORT_B " up") != 0) {
		printf("skipped: no network namespace with a veth pair here\n");
		return 77;
	}
	port_a = if_nametoindex(PORT_A);
	sr = srunner_create(suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
