/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-bench-xdp: nanoseconds per packet of sluice's XDP program under
 * BPF_PROG_TEST_RUN (repeat mode), next to a program that only counts
 * and passes (perf/bpf/xdp_count_pass.bpf.c), in the same run.
 *
 * Each configuration gets a fresh struct sl_xdp: a policy of N classes
 * (below), a devmap entry that sends what arrives on the ingress
 * interface back out of it, and sl_buckets filled with --keys keys by
 * running every key's first packet through the program once. Then, for
 * a sample of those packets, each packet is run --repeat times through
 * sluice and through the peer in turn, --rounds times; the kernel
 * returns the mean ns of one run, and the figures are the median, p10
 * and p90 over packets and rounds. Alternating packet by packet makes
 * both programs meet the same noise.
 *
 * Class i has source prefixes 10.0.0.0 + i * 2^14 /18 and
 * 2001:db8:i::/48, so a packet from one matches class i only; by i % 4:
 *   0: udp, dport 5000-5999, key flow, packets
 *   1: tcp, flags ack (not syn, rst), dst 198.18.0.0/15 or 2001:db8:ffff::/48,
 *      dport 80, 443 or 8000-8099, key src, bits
 *   2: tcp, flags syn, dport 22 or 3389, key src, packets
 *   3: udp, dst 192.0.2.0/24 or 2001:db8:53::/48, dport 53, key flow, bits
 * Key f is flow f / N of class f % N; flow j has its own source address
 * (IPv4 for even j while the /18 lasts, else IPv6), so every key is one
 * bucket whatever the class's key type.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "policy.h"
#include "xdp_path.h"
#include "xdp_count_pass.skel.h"

#define BENCH_FRAME_MAX		128
#define BENCH_FRAME_MIN		60	/* Ethernet minimum without FCS */
#define BENCH_V4_HOSTS		16382	/* usable hosts of a /18 */
#define BENCH_SAMPLE_MAX	4096
#define BENCH_KEYS_MAX		(16u * 1024 * 1024)

enum bench_mode {
	BENCH_CONFORM,		/* rates far above what is sent: pass path */
	BENCH_EXCEED,		/* 1 pps: everything after the first drops */
};

struct bench_opts {
	uint32_t classes;
	uint32_t keys;
	uint32_t repeat;
	uint32_t rounds;
	uint32_t packets;	/* the sample measured */
	bool sweep;
	const char *ifname;	/* the ingress interface of every packet */
	const char *json;
};

struct frame {
	uint32_t len;
	uint8_t buf[BENCH_FRAME_MAX];
};

/* Median and spread of one program's ns per packet in one configuration. */
struct dist {
	double median;
	double p10;
	double p90;
	double mean;		/* finer than the kernel's whole ns */
};

/* One configuration's outcome: sluice and the peer, measured together. */
struct result {
	const char *label;
	uint32_t classes;
	enum bench_mode mode;
	struct dist sluice;
	struct dist plain;
	uint32_t sluice_verdict;	/* XDP_* most sample runs returned */
	uint32_t sluice_verdicts_other;	/* runs that returned another */
	uint64_t keys_active;
	uint64_t keys_full;
	uint64_t no_peer;
	uint64_t fill_matched;		/* fill packets some class counted */
	uint64_t fill_other;		/* unmatched, malformed or non-IP */
	double fill_s;
	bool invalid;			/* not what the bench meant to measure */
};

/* Run state shared by every configuration. */
struct bench {
	struct bench_opts o;
	uint32_t ifindex;
	int plain_fd;
	struct frame *sample;	/* o.packets frames, rebuilt per policy */
	double *ns_s, *ns_p;	/* rounds * packets each */
};

/* ---- Packets ---- */

/* Accepts any buffer; the 16-bit one's complement sum of len bytes. */
static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

/* Accepts a sum from csum_add; the checksum in network order. */
static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The L4 fields of flow j of class i (see the top of the file). */
struct flow {
	bool v6;
	uint8_t proto;
	uint8_t tcp_flags;
	uint16_t sport;
	uint16_t dport;
	uint8_t src[16];
	uint8_t dst[16];
};

/* Accepts any i < SL_XDP_CLASSES_MAX and j. */
static void flow_make(uint32_t i, uint32_t j, struct flow *fl)
{
	static const uint16_t web[] = { 80, 443, 8000 };
	uint32_t kind = i % 4;

	memset(fl, 0, sizeof(*fl));
	fl->v6 = j % 2 == 1 || j / 2 >= BENCH_V4_HOSTS;
	fl->proto = kind == 1 || kind == 2 ? IPPROTO_TCP : IPPROTO_UDP;
	fl->tcp_flags = kind == 1 ? TH_PUSH | TH_ACK : kind == 2 ? TH_SYN : 0;
	fl->sport = (uint16_t)(1024 + j % 60000);
	fl->dport = kind == 0 ? (uint16_t)(5000 + j % 1000) :
		    kind == 1 ? (uint16_t)(web[j % 3] + (j % 3 == 2 ? j % 100 : 0)) :
		    kind == 2 ? (j % 2 ? 22 : 3389) : 53;
	if (!fl->v6) {
		uint32_t s = 0x0a000000u | i << 14 | (j / 2 + 1);
		uint32_t d = kind == 1 ? 0xc6120000u | (j & 0xffff) :
			     kind == 3 ? 0xc0000235u : 0xc6140001u;

		s = htonl(s);
		d = htonl(d);
		memcpy(fl->src, &s, 4);
		memcpy(fl->dst, &d, 4);
		return;
	}
	/* 2001:db8:i::j+1 from, to 2001:db8:ffff::1, 2001:db8:53::53 or 2001:db8:fffe::1. */
	fl->src[0] = 0x20, fl->src[1] = 0x01, fl->src[2] = 0x0d, fl->src[3] = 0xb8;
	fl->src[4] = (uint8_t)(i >> 8), fl->src[5] = (uint8_t)i;
	for (int b = 0; b < 4; b++)
		fl->src[15 - b] = (uint8_t)((j + 1) >> (8 * b));
	memcpy(fl->dst, fl->src, 4);
	fl->dst[4] = kind == 3 ? 0x00 : 0xff;
	fl->dst[5] = kind == 1 ? 0xff : kind == 3 ? 0x53 : 0xfe;
	fl->dst[15] = kind == 3 ? 0x53 : 0x01;
}

/* Accepts a filled fl; writes its L4 header at l4, returns its length. */
static uint32_t l4_write(const struct flow *fl, uint8_t *l4, uint32_t l4_len)
{
	if (fl->proto == IPPROTO_UDP) {
		struct udphdr *u = (struct udphdr *)l4;

		u->source = htons(fl->sport);
		u->dest = htons(fl->dport);
		u->len = htons((uint16_t)l4_len);
		return sizeof(*u);
	}
	struct tcphdr *t = (struct tcphdr *)l4;

	t->source = htons(fl->sport);
	t->dest = htons(fl->dport);
	t->seq = htonl(1);
	t->ack_seq = htonl(fl->tcp_flags & TH_ACK ? 1 : 0);
	t->doff = 5;
	l4[13] = fl->tcp_flags;
	t->window = htons(65535);
	return sizeof(*t);
}

/* Build flow j of class i into f: valid headers and checksums. */
static void frame_build(struct frame *f, uint32_t i, uint32_t j)
{
	struct flow fl;
	struct ether_header *eth = (struct ether_header *)f->buf;
	uint8_t *l3 = f->buf + sizeof(*eth), *l4;
	uint32_t l3_len, l4_len, sum;
	uint16_t *ck;

	flow_make(i, j, &fl);
	memset(f, 0, sizeof(*f));
	memcpy(eth->ether_dhost, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth->ether_shost, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	eth->ether_type = htons(fl.v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
	l3_len = fl.v6 ? sizeof(struct ip6_hdr) : sizeof(struct iphdr);
	l4 = l3 + l3_len;
	l4_len = fl.proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);
	f->len = (uint32_t)sizeof(*eth) + l3_len + l4_len + 8;	/* 8 bytes of payload */
	if (f->len < BENCH_FRAME_MIN)
		f->len = BENCH_FRAME_MIN;
	l4_len = f->len - (uint32_t)sizeof(*eth) - l3_len;
	l4_write(&fl, l4, l4_len);
	/* The pseudo-header: addresses, protocol, L4 length. */
	sum = csum_add(0, fl.src, fl.v6 ? 16 : 4);
	sum = csum_add(sum, fl.dst, fl.v6 ? 16 : 4);
	sum += fl.proto + l4_len;
	sum = csum_add(sum, l4, l4_len);
	ck = (uint16_t *)(l4 + (fl.proto == IPPROTO_TCP ? 16 : 6));
	*ck = csum_fold(sum);
	if (fl.proto == IPPROTO_UDP && *ck == 0)
		*ck = 0xffff;
	if (fl.v6) {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)l3;

		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons((uint16_t)l4_len);
		ip6->ip6_nxt = fl.proto;
		ip6->ip6_hlim = 64;
		memcpy(&ip6->ip6_src, fl.src, 16);
		memcpy(&ip6->ip6_dst, fl.dst, 16);
		return;
	}
	struct iphdr *ip = (struct iphdr *)l3;

	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(l3_len + l4_len));
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = fl.proto;
	memcpy(&ip->saddr, fl.src, 4);
	memcpy(&ip->daddr, fl.dst, 4);
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
}

/* ---- The policy ---- */

/* The limit of a class of kind k in mode m. */
static const char *class_limit(uint32_t k, enum bench_mode m)
{
	bool bits = k == 1 || k == 3;

	if (m == BENCH_EXCEED)
		return bits ? "rate: 8kbit, burst: 1522B" : "rate: 1pps, burst: 1";
	/* No packet of the run can exceed these: the pass path only. */
	return bits ? "rate: 400Gbit, burst: 1GB" : "rate: 1000Mpps, burst: 100000000";
}

/* Accepts i < SL_XDP_CLASSES_MAX; appends class i's YAML to s. */
static int class_yaml(char *s, size_t cap, uint32_t i, enum bench_mode m)
{
	static const char *const match[] = {
		"proto: udp, dport: 5000-5999",
		"proto: tcp, tcp_flags: 'ack/syn,ack,rst', dst: [198.18.0.0/15, 2001:db8:ffff::/48], dport: [80, 443, 8000-8099]",
		"proto: tcp, tcp_flags: syn, dport: [22, 3389]",
		"proto: udp, dst: [192.0.2.0/24, 2001:db8:53::/48], dport: 53",
	};
	static const char *const key[] = { "flow", "src", "src", "flow" };
	static const char *const exceed[] = { "drop", "{ mark: cs1 }", "monitor" };
	uint32_t k = i % 4, s4 = 0x0a000000u | i << 14;

	return snprintf(s, cap,
		"  - name: c%u\n"
		"    match: { src: [%u.%u.%u.0/18, '2001:db8:%x::/48'], %s }\n"
		"    limit: { key: %s, %s }\n"
		"    exceed: %s\n",
		i, s4 >> 24, (s4 >> 16) & 0xff, (s4 >> 8) & 0xff, i, match[k],
		key[k], class_limit(k, m),
		m == BENCH_EXCEED ? "drop" : exceed[i % 3]);
}

/* A policy of n classes as above; NULL with a message on failure. */
static struct sl_policy *policy_make(uint32_t n, enum bench_mode m)
{
	size_t cap = 64 + (size_t)n * 400, len;
	struct sl_policy *p = NULL;
	struct sl_diags diags;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	len = (size_t)snprintf(s, cap, "version: 1\ndefault: pass\nclasses:%s\n",
			       n == 0 ? " []" : "");
	for (uint32_t i = 0; i < n && len < cap; i++)
		len += (size_t)class_yaml(s + len, cap - len, i, m);
	if (len >= cap) {
		fprintf(stderr, "sluice-bench-xdp: policy text over %zu bytes\n", cap);
	} else if (sl_policy_load_buf("bench-xdp", s, len, &p, &diags) != 0) {
		fprintf(stderr, "sluice-bench-xdp: the generated policy is invalid:\n");
		sl_diags_print(&diags, stderr);
	}
	free(s);
	return p;
}

/* ---- Running packets ---- */

/* Seconds of this thread's CPU time. */
static double now_cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * Run f through prog_fd repeat times, arriving on ifindex; *ns gets the
 * kernel's mean ns per run, in whole ns. Only the runs are timed: with
 * repeat > 1 the kernel also swaps the program into the XDP dispatcher
 * and back, some 0.3 ms a call on the development VM, outside the timer.
 */
static int run_frame(int prog_fd, uint32_t ifindex, const struct frame *f,
		     uint32_t repeat, uint32_t *ns, uint32_t *verdict)
{
	struct xdp_md ctx = {
		.data_end = f->len,
		.ingress_ifindex = ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, t,
		.data_in = f->buf,
		.data_size_in = f->len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = repeat);
	int rc = bpf_prog_test_run_opts(prog_fd, &t);

	if (rc != 0)
		return -errno;
	if (ns != NULL)
		*ns = t.duration;
	*verdict = t.retval;
	return 0;
}

/*
 * Find the map called name among those prog_fd uses; returns an fd
 * the caller closes, or a negative errno.
 */
static int prog_map_fd(int prog_fd, const char *name)
{
	uint32_t ids[64];
	struct bpf_prog_info pi = {
		.nr_map_ids = 64,
		.map_ids = (uint64_t)(uintptr_t)ids,
	};
	uint32_t len = sizeof(pi);

	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len) != 0)
		return -errno;
	for (uint32_t k = 0; k < pi.nr_map_ids && k < 64; k++) {
		struct bpf_map_info mi = { 0 };
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[k]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 &&
		    strcmp(mi.name, name) == 0)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/*
 * Make packets arriving on ifindex leave by it again: the entry in sl_tx
 * that sl_xdp_pair_add would write for a pair of real interfaces, so the
 * conforming packets run the program's real redirect.
 */
static int peer_set(struct sl_xdp *x, uint32_t ifindex)
{
	struct bpf_devmap_val v = { .ifindex = ifindex };
	int fd = prog_map_fd(sl_xdp_prog_fd(x), "sl_tx"), rc = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &ifindex, &v, BPF_ANY) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Run the first packet of each of the keys through the program once. */
static int keys_fill(struct bench *b, struct sl_xdp *x, uint32_t n)
{
	struct frame f;
	uint32_t v;
	int rc;

	if (n == 0)
		return 0;	/* nothing matches, nothing is kept */
	for (uint32_t k = 0; k < b->o.keys; k++) {
		frame_build(&f, k % n, k / n);	/* key k: flow k / n of class k % n */
		rc = run_frame(sl_xdp_prog_fd(x), b->ifindex, &f, 1, NULL, &v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * The sample: packets spread over the classes, each of a key that
 * keys_fill created (the flows of class i are 0 .. keys_i - 1).
 */
static void sample_build(struct bench *b, uint32_t n)
{
	/* With fewer keys than classes, only the classes that have keys. */
	uint32_t spread = n < b->o.keys || b->o.keys == 0 ? n : b->o.keys;

	for (uint32_t k = 0; k < b->o.packets; k++) {
		uint32_t i = n == 0 ? k % SL_XDP_CLASSES_MAX :
			     (uint32_t)((uint64_t)k * spread / b->o.packets);
		uint32_t per = n == 0 ? 1 : b->o.keys / n + (i < b->o.keys % n);

		frame_build(&b->sample[k], i, per == 0 ? 0 : (k * 7919u) % per);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Accepts sorted v[n], n >= 1; the q-quantile, interpolated. */
static double quantile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Accepts ns[n], n >= 1; sorts it and fills d. */
static void dist_make(double *ns, size_t n, struct dist *d)
{
	double sum = 0;

	qsort(ns, n, sizeof(*ns), cmp_double);
	for (size_t k = 0; k < n; k++)
		sum += ns[k];
	d->median = quantile(ns, n, 0.5);
	d->p10 = quantile(ns, n, 0.1);
	d->p90 = quantile(ns, n, 0.9);
	d->mean = sum / (double)n;
}

/* Rounds of the sample through sluice and the peer, packet by packet. */
static int measure(struct bench *b, int sluice_fd, struct result *r)
{
	uint32_t votes[8] = { 0 }, ns, v, best = 0;
	size_t n = 0;
	int rc;

	for (uint32_t round = 0; round < b->o.rounds; round++) {
		for (uint32_t k = 0; k < b->o.packets; k++, n++) {
			rc = run_frame(sluice_fd, b->ifindex, &b->sample[k],
				       b->o.repeat, &ns, &v);
			if (rc != 0)
				return rc;
			b->ns_s[n] = ns;
			votes[v < 8 ? v : 7]++;
			rc = run_frame(b->plain_fd, b->ifindex, &b->sample[k],
				       b->o.repeat, &ns, &v);
			if (rc != 0)
				return rc;
			b->ns_p[n] = ns;
		}
	}
	for (uint32_t k = 1; k < 8; k++)
		best = votes[k] > votes[best] ? k : best;
	r->sluice_verdict = best;
	r->sluice_verdicts_other = (uint32_t)n - votes[best];
	dist_make(b->ns_s, n, &r->sluice);
	dist_make(b->ns_p, n, &r->plain);
	return 0;
}

/* Accepts c; all packets it counts, whatever the outcome. */
static uint64_t counters_packets(const struct sl_xdp_counters *c)
{
	uint64_t sum = 0;

	for (int k = 0; k < SL_XDP_OUT__COUNT; k++)
		sum += c->packets[k];
	return sum;
}

/*
 * After the fill: how many of its packets classes counted, and how many
 * went elsewhere, which would mean the packets miss the classes they are
 * built for and the bench measures something else.
 */
static void fill_check(struct sl_xdp *x, uint32_t n, struct result *r)
{
	struct sl_xdp_counters c;
	struct sl_xdp_totals t;

	for (uint32_t i = 0; i < n; i++)
		if (sl_xdp_class_counters(x, i, &c) == 0)
			r->fill_matched += counters_packets(&c);
	if (sl_xdp_totals(x, &t) != 0)
		return;
	r->fill_other = counters_packets(&t.st.deflt) + t.st.non_ip;
	for (int k = 0; k < SL_MAL__COUNT; k++)
		r->fill_other += t.st.malformed[k];
}

/* A fresh program with policy n/m, keys filled: ready to measure. */
static struct sl_xdp *config_open(struct bench *b, uint32_t n,
				  enum bench_mode m, struct result *r)
{
	struct sl_xdp_opts xo = { 0 };
	struct sl_policy *p;
	struct sl_xdp *x;
	uint32_t n_deg = 0;
	double t0;
	char err[256];
	int rc;

	if ((uint64_t)b->o.keys * 5 / 4 > SL_XDP_KEYS_DEFAULT)
		xo.keys_max = b->o.keys + b->o.keys / 4;
	x = sl_xdp_open(&xo, err, sizeof(err));
	if (x == NULL) {
		fprintf(stderr, "sluice-bench-xdp: cannot load the XDP program: %s\n", err);
		return NULL;
	}
	p = policy_make(n, m);
	if (p == NULL)
		goto close_x;
	rc = sl_xdp_policy_set(x, p, 1, err, sizeof(err));
	sl_policy_free(p);
	if (rc != 0) {
		fprintf(stderr, "sluice-bench-xdp: policy of %u classes refused: %s\n", n, err);
		goto close_x;
	}
	sl_xdp_degraded(x, &n_deg);
	if (n_deg != 0)
		fprintf(stderr, "sluice-bench-xdp: %u classes degraded, the figures are wrong\n", n_deg);
	rc = peer_set(x, b->ifindex);
	if (rc != 0) {
		fprintf(stderr, "sluice-bench-xdp: cannot write sl_tx: %s\n", strerror(-rc));
		goto close_x;
	}
	t0 = now_cpu_s();
	rc = keys_fill(b, x, n);
	r->fill_s = now_cpu_s() - t0;
	if (rc != 0) {
		fprintf(stderr, "sluice-bench-xdp: BPF_PROG_TEST_RUN: %s\n", strerror(-rc));
		goto close_x;
	}
	fill_check(x, n, r);
	if (r->fill_other != 0)
		fprintf(stderr, "sluice-bench-xdp: %" PRIu64 " of %u fill packets matched no class\n",
			r->fill_other, n == 0 ? 0 : b->o.keys);
	return x;
close_x:
	sl_xdp_close(x);
	return NULL;
}

/* XDP_ABORTED .. XDP_REDIRECT by name. */
static const char *verdict_name(uint32_t v)
{
	static const char *const names[] = {
		"aborted", "drop", "pass", "tx", "redirect",
	};

	return v < 5 ? names[v] : "?";
}

/* One configuration: open, fill, measure, read the counters, close. */
static int config_run(struct bench *b, const char *label, uint32_t n,
		      enum bench_mode m, struct result *r)
{
	struct sl_xdp_totals t;
	struct sl_xdp *x;
	int rc;

	memset(r, 0, sizeof(*r));
	r->label = label;
	r->classes = n;
	r->mode = m;
	x = config_open(b, n, m, r);
	if (x == NULL)
		return -1;
	sample_build(b, n);
	rc = measure(b, sl_xdp_prog_fd(x), r);
	if (rc != 0)
		fprintf(stderr, "sluice-bench-xdp: BPF_PROG_TEST_RUN: %s\n", strerror(-rc));
	else if (sl_xdp_totals(x, &t) == 0) {
		r->keys_active = t.keys_active;
		r->keys_full = t.st.keys_full;
		r->no_peer = t.st.no_peer;
	}
	sl_xdp_close(x);
	r->invalid = r->fill_other != 0 ||
		     (n != 0 && r->keys_active != b->o.keys) ||
		     (m == BENCH_CONFORM && r->sluice_verdict != XDP_REDIRECT) ||
		     (m == BENCH_EXCEED && r->sluice_verdict != XDP_DROP);
	if (r->invalid)
		fprintf(stderr, "sluice-bench-xdp: %s, %u classes: %" PRIu64 " keys (expected %u), verdict %s, %" PRIu64 " fill packets unmatched\n",
			label, n, r->keys_active, n == 0 ? 0 : b->o.keys,
			verdict_name(r->sluice_verdict), r->fill_other);
	fprintf(stderr, "  %-26s %4u classes: sluice %7.1f ns, plain %6.1f ns, %" PRIu64 " keys\n",
		label, n, r->sluice.median, r->plain.median, r->keys_active);
	return rc == 0 ? 0 : -1;
}

/* ---- Output ---- */

static double mpps(double ns)
{
	return ns > 0 ? 1e3 / ns : 0;
}

static void row_print(const char *name, const struct dist *d, const char *verdict)
{
	printf("%-26s %8.1f %7.1f %7.1f %8.2f %8.2f  %s\n", name, d->median,
	       d->p10, d->p90, d->mean, mpps(d->median), verdict);
}

/* The main table: the conforming and the exceeding run and the peer. */
static void table_print(const struct bench *b, const struct result *pass,
			const struct result *drop)
{
	struct utsname u;
	double ratio = pass->sluice.median / pass->plain.median;

	uname(&u);
	printf("\nXDP benchmark: %u classes, %u keys (%" PRIu64 " in sl_buckets), %u packets x %u rounds x repeat %u, kernel %s\n",
	       b->o.classes, b->o.keys, pass->keys_active, b->o.packets,
	       b->o.rounds, b->o.repeat, u.release);
	printf("ns/pkt: BPF_PROG_TEST_RUN's mean per run, in whole ns; median, p10, p90 and mean\n");
	printf("over packets and rounds. Mpps: 1000 / median, one core, nothing else to do.\n");
	printf("%-26s %8s %7s %7s %8s %8s  %s\n", "program", "ns/pkt", "p10",
	       "p90", "mean", "Mpps", "verdict");
	row_print("sluice (conforming)", &pass->sluice, verdict_name(pass->sluice_verdict));
	row_print("sluice (exceeding, drop)", &drop->sluice, verdict_name(drop->sluice_verdict));
	row_print("plain count/pass", &pass->plain, "pass");
	printf("ratio sluice/plain: %.2fx (of means %.2fx); exceeding: %.2fx. Goal at most 2x: %s\n",
	       ratio, pass->sluice.mean / pass->plain.mean,
	       drop->sluice.median / drop->plain.median,
	       ratio <= 2 ? "met" : "not met");
	if (pass->sluice_verdicts_other || drop->sluice_verdicts_other)
		printf("warning: %u conforming and %u exceeding runs had another verdict\n",
		       pass->sluice_verdicts_other, drop->sluice_verdicts_other);
	if (pass->no_peer || pass->keys_full)
		printf("warning: %" PRIu64 " packets found no peer, %" PRIu64 " keys found the map full\n",
		       pass->no_peer, pass->keys_full);
}

/* The width table: the same keys and packets, more or fewer classes. */
static void sweep_print(const struct result *r, size_t n)
{
	printf("\nclassification width (conforming; each row its own run with its own peer figures):\n");
	printf("%8s %10s %7s %7s %8s %12s %7s\n", "classes", "sluice ns", "p10",
	       "p90", "Mpps", "plain ns", "ratio");
	for (size_t k = 0; k < n; k++)
		printf("%8u %10.1f %7.1f %7.1f %8.2f %12.1f %6.2fx\n",
		       r[k].classes, r[k].sluice.median, r[k].sluice.p10,
		       r[k].sluice.p90, mpps(r[k].sluice.median),
		       r[k].plain.median, r[k].sluice.median / r[k].plain.median);
}

static json_t *dist_json(const struct dist *d)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f}", "median_ns", d->median,
			 "p10_ns", d->p10, "p90_ns", d->p90, "mean_ns", d->mean,
			 "mpps", mpps(d->median));
}

static json_t *result_json(const struct result *r)
{
	return json_pack("{s:s, s:i, s:s, s:o, s:o, s:f, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:f, s:b}",
			 "label", r->label, "classes", (int)r->classes,
			 "mode", r->mode == BENCH_EXCEED ? "exceed" : "conform",
			 "sluice", dist_json(&r->sluice),
			 "plain", dist_json(&r->plain),
			 "ratio", r->sluice.median / r->plain.median,
			 "verdict", verdict_name(r->sluice_verdict),
			 "other_verdicts", (int)r->sluice_verdicts_other,
			 "keys_active", (json_int_t)r->keys_active,
			 "keys_full", (json_int_t)r->keys_full,
			 "no_peer", (json_int_t)r->no_peer,
			 "fill_matched", (json_int_t)r->fill_matched,
			 "fill_unmatched", (json_int_t)r->fill_other,
			 "fill_cpu_s", r->fill_s, "valid", !r->invalid);
}

static int json_write(const struct bench *b, const struct result *r, size_t n)
{
	struct utsname u;
	json_t *runs = json_array(), *root;
	int rc;

	uname(&u);
	for (size_t k = 0; k < n; k++)
		json_array_append_new(runs, result_json(&r[k]));
	root = json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:s}, s:s, s:f, s:f, s:o}",
			 "config", "classes", (int)b->o.classes,
			 "keys", (int)b->o.keys, "repeat", (int)b->o.repeat,
			 "rounds", (int)b->o.rounds, "packets", (int)b->o.packets,
			 "ifname", b->o.ifname,
			 "kernel", u.release,
			 "ratio", r[0].sluice.median / r[0].plain.median,
			 "ratio_of_means", r[0].sluice.mean / r[0].plain.mean,
			 "runs", runs);
	rc = json_dump_file(root, b->o.json, JSON_INDENT(1));
	json_decref(root);
	if (rc != 0)
		fprintf(stderr, "sluice-bench-xdp: cannot write %s\n", b->o.json);
	return rc;
}

/* ---- Options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-bench-xdp [options]\n"
		"  --classes N   classes of the measured policy, 0-%u (default 100)\n"
		"  --keys N      keys in sl_buckets before measuring (default 100000)\n"
		"  --repeat N    BPF_PROG_TEST_RUN repeat per packet (default 20000)\n"
		"  --rounds N    rounds over the sample (default 5)\n"
		"  --packets N   distinct packets in the sample, 1-%u (default 64)\n"
		"  --no-sweep    skip the 0, 1, 100, 1000 classes runs\n"
		"  --ifname IF   the interface packets arrive on (default lo)\n"
		"  --json FILE   also write the figures as JSON\n",
		SL_XDP_CLASSES_MAX, BENCH_SAMPLE_MAX);
}

/* Accepts a decimal in [lo, hi] into *out; else -EINVAL with a message. */
static int parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "sluice-bench-xdp: --%s %s: expected %u to %u\n", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Fill o from argv; returns 0, 1 for --help, or -EINVAL. */
static int opts_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "classes", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "packets", required_argument, NULL, 'p' },
		{ "no-sweep", no_argument, NULL, 's' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	*o = (struct bench_opts){ .classes = 100, .keys = 100000, .repeat = 20000,
				  .rounds = 5, .packets = 64, .sweep = true,
				  .ifname = "lo" };
	while (rc == 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': rc = parse_u32("classes", optarg, 0, SL_XDP_CLASSES_MAX, &o->classes); break;
		case 'k': rc = parse_u32("keys", optarg, 0, BENCH_KEYS_MAX, &o->keys); break;
		case 'r': rc = parse_u32("repeat", optarg, 1, 100000000, &o->repeat); break;
		case 'n': rc = parse_u32("rounds", optarg, 1, 1000, &o->rounds); break;
		case 'p': rc = parse_u32("packets", optarg, 1, BENCH_SAMPLE_MAX, &o->packets); break;
		case 's': o->sweep = false; break;
		case 'i': o->ifname = optarg; break;
		case 'j': o->json = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "sluice-bench-xdp: unexpected argument %s\n", argv[optind]);
		rc = -EINVAL;
	}
	return rc;
}

/* ---- Main ---- */

static int bench_init(struct bench *b)
{
	size_t n = (size_t)b->o.rounds * b->o.packets;

	b->ifindex = if_nametoindex(b->o.ifname);
	if (b->ifindex == 0) {
		fprintf(stderr, "sluice-bench-xdp: no interface %s\n", b->o.ifname);
		return -1;
	}
	b->sample = calloc(b->o.packets, sizeof(*b->sample));
	b->ns_s = calloc(n, sizeof(double));
	b->ns_p = calloc(n, sizeof(double));
	if (!b->sample || !b->ns_s || !b->ns_p) {
		fprintf(stderr, "sluice-bench-xdp: out of memory\n");
		return -1;
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	free(b->sample);
	free(b->ns_s);
	free(b->ns_p);
}

/* The main runs, then the width sweep (reusing a run of the same width). */
static size_t runs_all(struct bench *b, struct result *r)
{
	static const uint32_t widths[] = { 0, 1, 100, 1000 };
	size_t n = 0;

	if (config_run(b, "conforming", b->o.classes, BENCH_CONFORM, &r[n++]) ||
	    config_run(b, "exceeding", b->o.classes, BENCH_EXCEED, &r[n++]))
		return 0;
	for (size_t k = 0; b->o.sweep && k < sizeof(widths) / sizeof(widths[0]); k++) {
		if (widths[k] == b->o.classes) {
			r[n] = r[0];
			r[n++].label = "width";
		} else if (config_run(b, "width", widths[k], BENCH_CONFORM, &r[n++])) {
			return 0;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct bench b = { .plain_fd = -1 };
	struct xdp_count_pass_bpf *plain = NULL;
	struct result r[6];
	bool invalid = false;
	size_t n;
	int rc;

	rc = opts_parse(argc, argv, &b.o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (bench_init(&b) != 0)
		goto free_bench;
	plain = xdp_count_pass_bpf__open_and_load();
	if (plain == NULL) {
		fprintf(stderr, "sluice-bench-xdp: cannot load the count/pass program: %s\n", strerror(errno));
		goto free_bench;
	}
	b.plain_fd = bpf_program__fd(plain->progs.xdp_count_pass);
	fprintf(stderr, "sluice-bench-xdp: %u classes, %u keys, %u packets x %u rounds x repeat %u, interface %s\n",
		b.o.classes, b.o.keys, b.o.packets, b.o.rounds, b.o.repeat, b.o.ifname);
	n = runs_all(&b, r);
	if (n == 0)
		goto destroy_plain;
	table_print(&b, &r[0], &r[1]);
	if (n > 2)
		sweep_print(&r[2], n - 2);
	if (b.o.json != NULL && json_write(&b, r, n) != 0)
		goto destroy_plain;
	for (size_t k = 0; k < n; k++)
		invalid |= r[k].invalid;
	if (invalid)
		fprintf(stderr, "sluice-bench-xdp: some runs did not measure what they should (above)\n");
	xdp_count_pass_bpf__destroy(plain);
	bench_free(&b);
	return invalid ? 1 : 0;
destroy_plain:
	xdp_count_pass_bpf__destroy(plain);
free_bench:
	bench_free(&b);
	return 1;
}
