/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-bench-worker [EAL options] -- [options]
 *
 * Runs sluice-dp's worker loop (dataplane/worker.h, with sluice-dp's own
 * port and worker set-up) on two net_null ports forwarding to each
 * other. net_null hands out mbufs of 64 bytes with no frame in them, so
 * an rx callback writes the frame of the next flow into each (a 64-byte
 * copy, read sequentially from a precomputed array). Modes:
 *
 *   sluice  the worker loop with the engine: parse, classify, meter
 *   stamp   the same loop without the engine (forwards everything)
 *   bare    stamp without the rx callback: the loop around the engine
 *
 * so sluice - stamp is what the engine costs, and stamp - bare what
 * writing the frames costs. Each repetition runs for a fixed time after
 * a warm-up that fills the flow table; it reports packets per second,
 * busy TSC cycles per packet (as testpmd's --record-core-cycles counts
 * them) and TSC cycles per packet of the thread's CPU time, which leaves
 * out the time other processes held the core; also the flow table's
 * memory and, with --latency, how long packets took from rx to tx.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "bench.h"
#include "dp.h"
#include "worker.h"

#define BENCH_REPS_MAX		100
#define BENCH_FLOWS_MAX		(1u << 24)
#define BENCH_TABLE_MAX		(1u << 28)
#define WARMUP_ROUNDS_MAX	1000

/*
 * Latency histogram: 16-cycle buckets below 2^21 cycles (1 ms at
 * 2.1 GHz), then 16 buckets per power of two up to 2^64 (6% wide).
 */
#define LAT_SHIFT		4
#define LAT_LINEAR_BITS		21
#define LAT_LINEAR		(1u << (LAT_LINEAR_BITS - LAT_SHIFT))
#define LAT_SUB_BITS		4
#define LAT_BUCKETS		(LAT_LINEAR + ((64 - LAT_LINEAR_BITS) << LAT_SUB_BITS))

enum bench_mode { MODE_SLUICE, MODE_STAMP, MODE_BARE };

static const char *const mode_names[] = {
	[MODE_SLUICE] = "sluice", [MODE_STAMP] = "stamp", [MODE_BARE] = "bare",
};

struct bench_cfg {
	enum bench_mode mode;
	enum sl_bench_mix mix;
	enum sl_bench_payload payload;
	uint32_t classes;
	uint32_t patterns;	/* payload classes of their own; 0: one a class */
	uint32_t payload_size;	/* L4 payload bytes; 0: 64-byte frames */
	enum sl_bench_key key;
	uint32_t flows;
	uint32_t table;		/* flow-table keys, as sluice-dp --flows */
	bool latency;		/* histogram of rx-to-tx cycles per packet */
	double duration_s;
	double warmup_s;
	uint64_t packets;	/* per run, instead of time; 0: by time */
	unsigned int reps;
	const char *json;
	const char *label;
};

/* One timed repetition. */
struct bench_rep {
	uint64_t packets;
	uint64_t busy_cycles;
	uint64_t tsc;		/* from start to stop, wall clock */
	uint64_t cpu_ns;	/* CPU time of the forwarding thread */
	double mpps;		/* packets per wall-clock second */
	double cpp;		/* busy TSC cycles per packet */
	double cpp_cpu;		/* TSC cycles of CPU time per packet */
	uint64_t forwarded;	/* handed to tx (the latency histogram's share) */
};

/* How long the policy took to load and build (patterns compiled). */
static double build_s;

/*
 * Hugepage memory (rte_malloc heap bytes allocated) of a flow table of
 * the worker's capacity, created as sl_engine_create() creates it; of
 * the whole worker (engine, flow table, shaping queue, tx buffers); of
 * the frames.
 */
static uint64_t table_bytes, worker_bytes, frames_bytes;

/* Cache sizes of CPU 0 in bytes (0: unknown), and where they came from. */
struct bench_caches {
	uint64_t l1d, l2, l3;
	const char *source;
};

static struct bench_caches caches;

/* One lcore's rx-to-tx latencies, TSC cycles: only that lcore writes. */
struct bench_lat {
	uint64_t count, max;
	uint64_t bucket[LAT_BUCKETS];
};

/* The histogram of each worker lcore (--latency), else NULL. */
static struct bench_lat *lat_hist[RTE_MAX_LCORE];

/* Offset of the rx TSC in the mbuf (a dynamic field), with --latency. */
static int lat_off = -1;

/* CPU time the forwarding thread ran, around the loop. */
static uint64_t loop_cpu_ns;

/* sluice-dp's global state, which its worker loop reads (dp.h). */
struct dp dp;

static volatile sig_atomic_t interrupted;

/* SIGALRM: the end of a timed run on a single lcore. */
static void on_alarm(int sig)
{
	(void)sig;
	dp.quit = true;
}

/* SIGINT/SIGTERM: end this run and skip the rest. */
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	dp.quit = true;
}

/* Accepts stdout or stderr; prints the options. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice-bench-worker [EAL options] -- [options]\n"
		"  EAL: two net_null ports, e.g. -l 1 --no-pci --vdev net_null0 --vdev net_null1\n"
		"  --mode M       sluice (worker loop with the engine), stamp (without it) or bare (without writing frames); default sluice\n"
		"  --mix M        conform (every limit far above a flow's rate), drops (a quarter of the classes at 20 pps)\n"
		"                 or shape (that quarter shaped, { shape: 10ms }, instead of policed); default conform\n"
		"  --payload P    payload classes in front of the classes: none, idle (never scanned), scan (every packet scanned, none matches) or match (every packet matches); default none\n"
		"  --patterns N   with --payload: N payload classes of their own (HTTP-style patterns) before the classes,\n"
		"                 every packet scanned against all N; default 0, one payload class in front of each class\n"
		"  --payload-size B  L4 payload bytes of every frame, 1-%d (frames grow to carry them); default 0, 64-byte frames\n"
		"  --classes N    classes in the policy, 1-%d (default 100); above %d each class has a /22 and 4 ports instead of a /16 and 10\n"
		"  --key K        the classes' key types: mixed (60%% flow, 30%% src, 10%% dst; at most 65536 flows a class, 1024 above %d classes)\n"
		"                 or flow (every class keys on the 5-tuple; any number of flows); default mixed\n"
		"  --flows N      distinct flows, as many flow-table keys, up to %u (default 100000)\n"
		"  --table N      flow-table capacity, as sluice-dp --flows, up to %u (default 1048576)\n"
		"  --latency      stamp each packet with the TSC at rx (after its frame is written) and histogram the cycles\n"
		"                 until it is handed to tx: p50, p99, p99.9, max (costs a little throughput)\n"
		"  --duration S   seconds per repetition (default 2)\n"
		"  --warmup S     seconds before the first repetition (default 0.5)\n"
		"  --reps N       repetitions (default 1)\n"
		"  --packets N    end each run and the warm-up after about N packets instead of a time\n"
		"                 (the same work in every run, for instruction counts under callgrind)\n"
		"  --label NAME   name of the configuration in the report (default the mode)\n"
		"  --json FILE    write the results as JSON\n",
		SL_BENCH_PAYLOAD_MAX, SL_BENCH_CLASSES_MAX, SL_BENCH_SPARSE_MAX,
		SL_BENCH_SPARSE_MAX, BENCH_FLOWS_MAX, BENCH_TABLE_MAX);
}

/* Accepts an option value; a number in [lo, hi] into out, or -1. */
static int parse_num(const char *opt, const char *s, double lo, double hi,
		     double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || *out < lo || *out > hi) {
		fprintf(stderr, "sluice-bench-worker: %s %s: expected a number from %g to %g\n",
			opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* Accepts a --mode value; 0 with the mode set, or -1. */
static int parse_mode(const char *s, enum bench_mode *mode)
{
	for (size_t i = 0; i < RTE_DIM(mode_names); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*mode = (enum bench_mode)i;
			return 0;
		}
	}
	fprintf(stderr, "sluice-bench-worker: --mode %s: expected sluice, stamp or bare\n", s);
	return -1;
}

static const char *const payload_names[] = {
	[SL_BENCH_PL_NONE] = "none", [SL_BENCH_PL_IDLE] = "idle",
	[SL_BENCH_PL_SCAN] = "scan", [SL_BENCH_PL_MATCH] = "match",
};

/* Accepts a --payload value; 0 with the choice set, or -1. */
static int parse_payload(const char *s, enum sl_bench_payload *out)
{
	for (unsigned int i = 0; i < sizeof(payload_names) / sizeof(payload_names[0]); i++) {
		if (strcmp(s, payload_names[i]) == 0) {
			*out = (enum sl_bench_payload)i;
			return 0;
		}
	}
	fprintf(stderr, "sluice-bench-worker: --payload %s: expected none, idle, scan or match\n", s);
	return -1;
}

/* Accepts parsed options; 0 if they go together, else -1. */
static int parse_check(struct bench_cfg *cfg)
{
	uint32_t per_class = sl_bench_class_flows_max(cfg->classes, cfg->key);

	/* Each flow its own key: no class may have more flows than that allows. */
	if (cfg->flows < cfg->classes ||
	    (cfg->flows - 1) / cfg->classes >= per_class) {
		fprintf(stderr, "sluice-bench-worker: --flows must be from --classes to %u per class with --key %s and %u classes (--key flow allows more)\n",
			per_class, cfg->key == SL_BENCH_KEY_FLOW ? "flow" : "mixed",
			cfg->classes);
		return -1;
	}
	if (cfg->mode == MODE_SLUICE && cfg->flows > cfg->table) {
		fprintf(stderr, "sluice-bench-worker: --flows %u do not fit a --table of %u keys\n",
			cfg->flows, cfg->table);
		return -1;
	}
	if (cfg->packets != 0 && cfg->mode == MODE_BARE) {
		fprintf(stderr, "sluice-bench-worker: --packets counts the frames written: not with --mode bare\n");
		return -1;
	}
	if (cfg->label == NULL)
		cfg->label = mode_names[cfg->mode];
	return 0;
}

/* Returns 0, 1 for --help, or -1. */
static int parse_args(int argc, char **argv, struct bench_cfg *cfg)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "mix", required_argument, NULL, 'x' },
		{ "payload", required_argument, NULL, 'P' },
		{ "patterns", required_argument, NULL, 'n' },
		{ "payload-size", required_argument, NULL, 's' },
		{ "classes", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "latency", no_argument, NULL, 'L' },
		{ "flows", required_argument, NULL, 'f' },
		{ "table", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "reps", required_argument, NULL, 'r' },
		{ "packets", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	*cfg = (struct bench_cfg){
		.mode = MODE_SLUICE, .mix = SL_BENCH_CONFORM, .classes = 100,
		.flows = 100000, .table = 1u << 20, .duration_s = 2,
		.warmup_s = 0.5, .reps = 1,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &cfg->mode) < 0)
				return -1;
			break;
		case 'x':
			if (strcmp(optarg, "conform") == 0) {
				cfg->mix = SL_BENCH_CONFORM;
			} else if (strcmp(optarg, "drops") == 0) {
				cfg->mix = SL_BENCH_DROPS;
			} else if (strcmp(optarg, "shape") == 0) {
				cfg->mix = SL_BENCH_SHAPE;
			} else {
				fprintf(stderr, "sluice-bench-worker: --mix %s: expected conform, drops or shape\n", optarg);
				return -1;
			}
			break;
		case 'P':
			if (parse_payload(optarg, &cfg->payload) < 0)
				return -1;
			break;
		case 'n':
			if (parse_num("--patterns", optarg, 0, 16000, &v) < 0)
				return -1;
			cfg->patterns = (uint32_t)v;
			break;
		case 's':
			if (parse_num("--payload-size", optarg, 1, SL_BENCH_PAYLOAD_MAX, &v) < 0)
				return -1;
			cfg->payload_size = (uint32_t)v;
			break;
		case 'c':
			if (parse_num("--classes", optarg, 1, SL_BENCH_CLASSES_MAX, &v) < 0)
				return -1;
			cfg->classes = (uint32_t)v;
			break;
		case 'k':
			if (strcmp(optarg, "mixed") == 0) {
				cfg->key = SL_BENCH_KEY_MIXED;
			} else if (strcmp(optarg, "flow") == 0) {
				cfg->key = SL_BENCH_KEY_FLOW;
			} else {
				fprintf(stderr, "sluice-bench-worker: --key %s: expected mixed or flow\n", optarg);
				return -1;
			}
			break;
		case 'L':
			cfg->latency = true;
			break;
		case 'f':
			if (parse_num("--flows", optarg, 1, BENCH_FLOWS_MAX, &v) < 0)
				return -1;
			cfg->flows = (uint32_t)v;
			break;
		case 't':
			if (parse_num("--table", optarg, 64, BENCH_TABLE_MAX, &v) < 0)
				return -1;
			cfg->table = (uint32_t)v;
			break;
		case 'd':
			if (parse_num("--duration", optarg, 0.01, 3600, &cfg->duration_s) < 0)
				return -1;
			break;
		case 'w':
			if (parse_num("--warmup", optarg, 0, 3600, &cfg->warmup_s) < 0)
				return -1;
			break;
		case 'r':
			if (parse_num("--reps", optarg, 1, BENCH_REPS_MAX, &v) < 0)
				return -1;
			cfg->reps = (unsigned int)v;
			break;
		case 'p':
			if (parse_num("--packets", optarg, 1, 1e15, &v) < 0)
				return -1;
			cfg->packets = (uint64_t)v;
			break;
		case 'l':
			cfg->label = optarg;
			break;
		case 'j':
			cfg->json = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-bench-worker: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return parse_check(cfg);
}

/* The rx callback: the next flows' frames into the mbufs net_null gave. */
static uint16_t stamp_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, uint16_t max, void *arg)
{
	struct sl_bench_traffic *t = arg;

	(void)port;
	(void)queue;
	(void)max;
	sl_bench_stamp(t, pkts, n);
	if (t->left != 0) {
		if (t->left <= n)
			dp.quit = true;
		t->left -= RTE_MIN(t->left, (uint64_t)n);
	}
	return n;
}

/*
 * The rx callback of --latency, after stamp_rx: the TSC when the burst
 * is ready for the worker (its frames written), in every mbuf.
 */
static uint16_t lat_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		       uint16_t n, uint16_t max, void *arg)
{
	uint64_t now = rte_rdtsc();

	(void)port;
	(void)queue;
	(void)max;
	(void)arg;
	for (uint16_t i = 0; i < n; i++)
		*RTE_MBUF_DYNFIELD(pkts[i], lat_off, uint64_t *) = now;
	return n;
}

/* Accepts a latency in cycles; its histogram bucket. */
static inline uint32_t lat_bucket(uint64_t v)
{
	uint32_t msb;

	if (v < (1ull << LAT_LINEAR_BITS))
		return (uint32_t)(v >> LAT_SHIFT);
	msb = 63 - (uint32_t)__builtin_clzll(v);
	return LAT_LINEAR + ((msb - LAT_LINEAR_BITS) << LAT_SUB_BITS) +
	       (uint32_t)((v >> (msb - LAT_SUB_BITS)) & ((1u << LAT_SUB_BITS) - 1));
}

/* Accepts a bucket index; the lowest latency it holds and its width. */
static uint64_t lat_bucket_low(uint32_t b, uint64_t *width)
{
	uint32_t msb;

	if (b < LAT_LINEAR) {
		*width = 1u << LAT_SHIFT;
		return (uint64_t)b << LAT_SHIFT;
	}
	b -= LAT_LINEAR;
	msb = LAT_LINEAR_BITS + (b >> LAT_SUB_BITS);
	*width = 1ull << (msb - LAT_SUB_BITS);
	return (1ull << msb) + (uint64_t)(b & ((1u << LAT_SUB_BITS) - 1)) * *width;
}

/*
 * The tx callback of --latency: every packet the worker hands to a
 * port's tx burst (tx buffer flushes, shaped releases) adds now minus
 * its rx stamp to the histogram of the lcore sending it.
 */
static uint16_t lat_tx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		       uint16_t n, void *arg)
{
	struct bench_lat *h = lat_hist[rte_lcore_id()];
	uint64_t now = rte_rdtsc();

	(void)port;
	(void)queue;
	(void)arg;
	for (uint16_t i = 0; i < n; i++) {
		uint64_t v = now - *RTE_MBUF_DYNFIELD(pkts[i], lat_off, uint64_t *);

		h->bucket[lat_bucket(v)]++;
		if (v > h->max)
			h->max = v;
	}
	h->count += n;
	return n;
}

/* Percentiles of a histogram, in cycles. */
struct bench_lat_summary {
	uint64_t packets;
	uint64_t p50, p99, p999, max;
};

/*
 * Accepts a histogram and q in (0, 1]; the middle of the bucket that
 * holds the ceil(q * count)-th latency, at most the maximum.
 */
static uint64_t lat_quantile(const struct bench_lat *h, double q)
{
	uint64_t rank = (uint64_t)((double)h->count * q + 0.999999), seen = 0;
	uint64_t low, width;

	if (rank == 0)
		rank = 1;
	for (uint32_t b = 0; b < LAT_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			low = lat_bucket_low(b, &width);
			return RTE_MIN(low + width / 2, h->max);
		}
	}
	return h->max;
}

/* CPU time of the calling thread, ns. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The lcore function of each mode. The machine may be shared: the
 * thread's CPU time leaves out the time others ran on its core, which
 * busy TSC cycles, like testpmd's, count.
 */
/* The worker loop as dp_worker_main() runs it, timed on thread CPU time. */
static int run_loop(struct dp_worker *w, bool police)
{
	uint64_t t0;

	rte_rcu_qsbr_thread_register(dp.qs, w->rcu_id);
	rte_rcu_qsbr_thread_online(dp.qs, w->rcu_id);
	t0 = thread_cpu_ns();
	dp_worker_loop(&dp, w, police);
	loop_cpu_ns = thread_cpu_ns() - t0;
	rte_rcu_qsbr_thread_offline(dp.qs, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(dp.qs, w->rcu_id);
	return 0;
}

static int run_sluice(void *arg)
{
	return run_loop(arg, true);
}

static int run_forward(void *arg)
{
	return run_loop(arg, false);
}

/* The flows; the rx callback writes them and may end a run. */
static struct sl_bench_traffic traffic;

/*
 * Run the loop of cfg's mode on the worker's lcore for seconds s, or
 * for cfg->packets packets if set; fills r.
 */
static void run_for(const struct bench_cfg *cfg, struct dp_worker *w,
		    double s, struct bench_rep *r)
{
	lcore_function_t *fn = cfg->mode == MODE_SLUICE ? run_sluice : run_forward;
	uint64_t t0, t1;

	memset(w->port, 0, sizeof(w->port));
	w->busy_cycles = 0;
	w->total_cycles = 0;
	dp.quit = false;
	if (cfg->packets != 0) {
		traffic.left = cfg->packets;
		s = 3600;
	}
	t0 = rte_get_tsc_cycles();
	if (w->lcore_id == rte_lcore_id()) {
		/* One lcore: a timer signal ends the loop. */
		struct itimerval it = { 0 };

		it.it_value.tv_sec = (time_t)s;
		it.it_value.tv_usec = (suseconds_t)((s - (double)(time_t)s) * 1e6);
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
		fn(w);
		/* Ended by packets: the timer must not end the next run. */
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
	} else {
		/* Wake up often enough to end a run by packets too. */
		struct timespec ts = { .tv_nsec = 1000000 };

		rte_eal_remote_launch(fn, w, w->lcore_id);
		while (!dp.quit && rte_get_tsc_cycles() - t0 <
		       (uint64_t)(s * (double)rte_get_tsc_hz()))
			nanosleep(&ts, NULL);
		dp.quit = true;
		rte_eal_wait_lcore(w->lcore_id);
	}
	t1 = rte_get_tsc_cycles();
	memset(r, 0, sizeof(*r));
	for (uint16_t p = 0; p < dp.n_ports; p++) {
		r->packets += w->port[p].rx_packets;
		r->forwarded += w->port[p].tx_packets;
	}
	r->busy_cycles = w->busy_cycles;
	r->tsc = t1 - t0;
	r->cpu_ns = loop_cpu_ns;
	if (r->packets > 0) {
		r->mpps = (double)r->packets * (double)rte_get_tsc_hz() /
			  (double)r->tsc / 1e6;
		r->cpp = (double)r->busy_cycles / (double)r->packets;
		r->cpp_cpu = (double)r->cpu_ns * 1e-9 *
			     (double)rte_get_tsc_hz() / (double)r->packets;
	}
}

/* qsort order of doubles. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Accepts n >= 1 values (reordered); their median. */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What the engine did with the packets: every one must have a class. */
struct bench_outcomes {
	uint64_t by[SL_OUT__COUNT];
	uint64_t unmatched, malformed, non_ip, overflow;
	uint64_t scanned;	/* payloads scanned for patterns */
	uint64_t shape_full, shape_high_water;
	uint32_t flows;
};

/* The engine counters of worker w, summed over its classes. */
static void outcomes_get(const struct dp_worker *w, struct bench_outcomes *o)
{
	const struct sl_engine *e = w->eng;

	memset(o, 0, sizeof(*o));
	for (uint32_t c = 0; dp.rs != NULL && c < dp.rs->n_classes; c++)
		for (int k = 0; k < SL_OUT__COUNT; k++)
			o->by[k] += sl_engine_class_counters(e, dp.rs, c)->packets[k];
	for (int k = 0; k < SL_OUT__COUNT; k++)
		o->unmatched += e->st.deflt.packets[k];
	o->scanned = e->st.payload_scanned;
	for (int k = 0; k < SL_MAL__COUNT; k++)
		o->malformed += e->st.malformed[k];
	o->non_ip = e->st.non_ip;
	o->overflow = e->st.overflow;
	o->shape_full = e->st.shape_full;
	o->shape_high_water = w->shaper->st.high_water;
	o->flows = sl_flowtab_count(e->ft);
}

/* Accepts a latency summary; it as JSON, in cycles and ns. */
static json_t *latency_json(const struct bench_lat_summary *l)
{
	const uint64_t v[] = { l->p50, l->p99, l->p999, l->max };
	static const char *const name[] = { "p50", "p99", "p999", "max" };
	json_t *j = json_object();
	char key[32];

	json_object_set_new(j, "packets", json_integer((json_int_t)l->packets));
	json_object_set_new(j, "resolution_cycles", json_integer(1 << LAT_SHIFT));
	for (size_t i = 0; i < RTE_DIM(v); i++) {
		snprintf(key, sizeof(key), "%s_cycles", name[i]);
		json_object_set_new(j, key, json_integer((json_int_t)v[i]));
		snprintf(key, sizeof(key), "%s_ns", name[i]);
		json_object_set_new(j, key, json_real((double)dp_cycles_ns(&dp.clock, v[i])));
	}
	return j;
}

/* The memory and cache fields of the report, into root. */
static void memory_json(json_t *root, const struct bench_cfg *cfg)
{
	json_object_set_new(root, "key", json_string(cfg->key == SL_BENCH_KEY_FLOW ?
						     "flow" : "mixed"));
	json_object_set_new(root, "layout", json_string(cfg->classes > SL_BENCH_SPARSE_MAX ?
							"dense" : "sparse"));
	json_object_set_new(root, "flow_table_bytes", json_integer((json_int_t)table_bytes));
	json_object_set_new(root, "flow_table_bytes_per_slot",
			    json_real((double)table_bytes / cfg->table));
	json_object_set_new(root, "flow_table_bytes_per_flow",
			    json_real((double)table_bytes / cfg->flows));
	json_object_set_new(root, "worker_bytes", json_integer((json_int_t)worker_bytes));
	json_object_set_new(root, "frames_bytes", json_integer((json_int_t)frames_bytes));
	json_object_set_new(root, "cache_l1d_bytes", json_integer((json_int_t)caches.l1d));
	json_object_set_new(root, "cache_l2_bytes", json_integer((json_int_t)caches.l2));
	json_object_set_new(root, "cache_l3_bytes", json_integer((json_int_t)caches.l3));
	json_object_set_new(root, "cache_source", json_string(caches.source));
}

/*
 * Accepts n repetitions, their medians (Mpps, busy, CPU cycles), the
 * engine's outcomes (sluice mode) and latencies (--latency), or NULL.
 */
static json_t *report_json(const struct bench_cfg *cfg,
			   const struct bench_rep *reps, unsigned int n,
			   const double *med, const struct bench_outcomes *o,
			   const struct bench_lat_summary *lat)
{
	json_t *root = json_object(), *arr = json_array(), *out;

	json_object_set_new(root, "label", json_string(cfg->label));
	json_object_set_new(root, "mode", json_string(mode_names[cfg->mode]));
	json_object_set_new(root, "mix", json_string(cfg->mix == SL_BENCH_DROPS ? "drops" :
						     cfg->mix == SL_BENCH_SHAPE ? "shape" : "conform"));
	json_object_set_new(root, "payload", json_string(payload_names[cfg->payload]));
	json_object_set_new(root, "classes", json_integer(cfg->classes));
	json_object_set_new(root, "patterns", json_integer(cfg->patterns));
	json_object_set_new(root, "payload_bytes", json_integer(cfg->payload_size));
	json_object_set_new(root, "policy_build_s", json_real(build_s));
	json_object_set_new(root, "flows", json_integer(cfg->flows));
	json_object_set_new(root, "table", json_integer(cfg->table));
	/* With a payload size, UDP frames are 42 bytes plus it, TCP 54. */
	json_object_set_new(root, "frame_bytes_udp", json_integer(cfg->payload_size ?
								42 + cfg->payload_size : SL_BENCH_FRAME));
	json_object_set_new(root, "frame_bytes_tcp", json_integer(cfg->payload_size ?
								54 + cfg->payload_size : SL_BENCH_FRAME));
	json_object_set_new(root, "burst", json_integer(DP_BURST));
	json_object_set_new(root, "duration_s", json_real(cfg->duration_s));
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
	memory_json(root, cfg);
	for (unsigned int i = 0; i < n; i++) {
		json_t *r = json_object();

		json_object_set_new(r, "packets", json_integer((json_int_t)reps[i].packets));
		json_object_set_new(r, "busy_cycles", json_integer((json_int_t)reps[i].busy_cycles));
		json_object_set_new(r, "seconds", json_real((double)reps[i].tsc /
							    (double)rte_get_tsc_hz()));
		json_object_set_new(r, "mpps", json_real(reps[i].mpps));
		json_object_set_new(r, "cycles_per_packet", json_real(reps[i].cpp));
		json_object_set_new(r, "cpu_seconds", json_real((double)reps[i].cpu_ns * 1e-9));
		json_object_set_new(r, "cpu_cycles_per_packet", json_real(reps[i].cpp_cpu));
		json_array_append_new(arr, r);
	}
	json_object_set_new(root, "reps", arr);
	json_object_set_new(root, "mpps", json_real(med[0]));
	json_object_set_new(root, "cycles_per_packet", json_real(med[1]));
	json_object_set_new(root, "cpu_cycles_per_packet", json_real(med[2]));
	if (lat != NULL)
		json_object_set_new(root, "latency", latency_json(lat));
	if (o != NULL) {
		out = json_object();
		for (int k = 0; k < SL_OUT__COUNT; k++)
			json_object_set_new(out, sl_outcome_names[k],
					    json_integer((json_int_t)o->by[k]));
		json_object_set_new(out, "unmatched", json_integer((json_int_t)o->unmatched));
		json_object_set_new(out, "malformed", json_integer((json_int_t)o->malformed));
		json_object_set_new(out, "non_ip", json_integer((json_int_t)o->non_ip));
		json_object_set_new(out, "overflow", json_integer((json_int_t)o->overflow));
		json_object_set_new(out, "payload_scanned", json_integer((json_int_t)o->scanned));
		json_object_set_new(out, "flows_in_table", json_integer(o->flows));
		json_object_set_new(out, "shape_queue_full", json_integer((json_int_t)o->shape_full));
		json_object_set_new(out, "shape_queue_high_water",
				    json_integer((json_int_t)o->shape_high_water));
		json_object_set_new(root, "engine", out);
	}
	return root;
}

/*
 * Run until the flow table holds every flow (sluice mode), while each
 * round adds keys: a table of 10M flows takes several rounds to fill.
 */
static void warm_up(const struct bench_cfg *cfg, struct dp_worker *w)
{
	struct bench_rep warm;
	uint32_t had = 0;

	for (int i = 0; i < WARMUP_ROUNDS_MAX && !interrupted; i++) {
		run_for(cfg, w, cfg->warmup_s, &warm);
		if (cfg->mode != MODE_SLUICE)
			break;
		uint32_t now = sl_flowtab_count(w->eng->ft);

		if (now >= cfg->flows || now == had)
			break;
		had = now;
	}
}

/*
 * Accepts the packets handed to tx during the repetitions; the worker
 * lcore's latencies in l. Returns 0, or -1 if the tx callback did not
 * see each of them once.
 */
static int latency_get(const struct bench_cfg *cfg, const struct dp_worker *w,
		       uint64_t forwarded, struct bench_lat_summary *l)
{
	const struct bench_lat *h = lat_hist[w->lcore_id];

	l->packets = h->count;
	l->p50 = lat_quantile(h, 0.5);
	l->p99 = lat_quantile(h, 0.99);
	l->p999 = lat_quantile(h, 0.999);
	l->max = h->max;
	printf("%-14s latency rx->tx of %" PRIu64 " packets: p50 %.0f ns (%" PRIu64
	       " cycles), p99 %.0f ns (%" PRIu64 "), p99.9 %.0f ns (%" PRIu64
	       "), max %.0f ns (%" PRIu64 ")\n",
	       cfg->label, l->packets, (double)dp_cycles_ns(&dp.clock, l->p50), l->p50,
	       (double)dp_cycles_ns(&dp.clock, l->p99), l->p99,
	       (double)dp_cycles_ns(&dp.clock, l->p999), l->p999,
	       (double)dp_cycles_ns(&dp.clock, l->max), l->max);
	if (l->packets != forwarded || l->packets == 0) {
		fprintf(stderr, "sluice-bench-worker: the tx callback saw %" PRIu64 " packets of the %" PRIu64 " forwarded\n",
			l->packets, forwarded);
		return -1;
	}
	return 0;
}

/*
 * Accepts the worker after the repetitions; prints what the engine did
 * and returns 0, or -1 if it did not see the traffic it was meant to
 * (a broken benchmark, not a slow one).
 */
static int outcomes_check(const struct bench_cfg *cfg, const struct dp_worker *w,
			  struct bench_outcomes *o)
{
	outcomes_get(w, o);
	printf("%-14s engine: %u flows in the table; passed %" PRIu64 ", dropped %" PRIu64
	       ", marked %" PRIu64 ", monitored %" PRIu64 ", delayed %" PRIu64
	       " (queue high water %" PRIu64 ", %" PRIu64 " dropped full); unmatched %" PRIu64
	       ", malformed %" PRIu64 ", overflow %" PRIu64 "; payloads scanned %" PRIu64 "\n",
	       cfg->label, o->flows, o->by[SL_OUT_PASSED], o->by[SL_OUT_DROPPED],
	       o->by[SL_OUT_MARKED], o->by[SL_OUT_MONITORED], o->by[SL_OUT_DELAYED],
	       o->shape_high_water, o->shape_full, o->unmatched,
	       o->malformed, o->overflow, o->scanned);
	if (o->unmatched + o->malformed + o->non_ip + o->overflow != 0 ||
	    o->flows != cfg->flows) {
		fprintf(stderr, "sluice-bench-worker: the engine did not see %u flows that all match a class: not measuring what it should\n",
			cfg->flows);
		return -1;
	}
	return 0;
}

/*
 * Warm up, run the repetitions and report. Returns 0, or -1 if the run
 * did not measure what it should.
 */
static int measure(const struct bench_cfg *cfg, struct dp_worker *w)
{
	struct bench_rep reps[BENCH_REPS_MAX];
	double v[3][BENCH_REPS_MAX], med[3];
	struct bench_lat_summary lat;
	struct bench_outcomes o;
	uint64_t forwarded = 0;
	unsigned int n = 0;
	int rc = 0;

	warm_up(cfg, w);
	if (cfg->latency)
		memset(lat_hist[w->lcore_id], 0, sizeof(struct bench_lat));
	for (; n < cfg->reps && !interrupted; n++) {
		run_for(cfg, w, cfg->duration_s, &reps[n]);
		v[0][n] = reps[n].mpps;
		v[1][n] = reps[n].cpp;
		v[2][n] = reps[n].cpp_cpu;
		forwarded += reps[n].forwarded;
		printf("%-14s rep %u: %8.3f Mpps %8.2f cycles/packet, %8.2f on CPU time (%" PRIu64 " packets in %.3f s, %.3f s CPU)\n",
		       cfg->label, n + 1, reps[n].mpps, reps[n].cpp,
		       reps[n].cpp_cpu, reps[n].packets,
		       (double)reps[n].tsc / (double)rte_get_tsc_hz(),
		       (double)reps[n].cpu_ns * 1e-9);
	}
	if (n == 0)
		return -1;
	for (int k = 0; k < 3; k++)
		med[k] = median(v[k], n);
	printf("%-14s median of %u: %.3f Mpps, %.2f cycles/packet, %.2f on CPU time (TSC %.0f MHz)\n",
	       cfg->label, n, med[0], med[1], med[2],
	       (double)rte_get_tsc_hz() / 1e6);
	if (cfg->latency && latency_get(cfg, w, forwarded, &lat) < 0)
		rc = -1;
	if (cfg->mode == MODE_SLUICE && outcomes_check(cfg, w, &o) < 0)
		rc = -1;
	if (cfg->json != NULL) {
		json_t *j = report_json(cfg, reps, n, med,
					cfg->mode == MODE_SLUICE ? &o : NULL,
					cfg->latency ? &lat : NULL);

		if (json_dump_file(j, cfg->json, JSON_INDENT(1)) < 0) {
			fprintf(stderr, "sluice-bench-worker: cannot write %s\n", cfg->json);
			rc = -1;
		}
		json_decref(j);
	}
	return rc;
}

/* The policy for cfg, compiled. */
static struct sl_ruleset *ruleset_build(const struct bench_cfg *cfg)
{
	char *text = sl_bench_policy(cfg->classes, cfg->mix, cfg->key,
				     cfg->payload, cfg->patterns);
	uint64_t t0 = rte_get_tsc_cycles();
	struct sl_ruleset *rs = NULL;
	struct sl_diags diags;
	struct sl_policy *p;
	char err[256];

	if (text == NULL)
		return NULL;
	if (sl_policy_load_buf("bench-policy", text, strlen(text), &p, &diags) < 0) {
		sl_diags_print(&diags, stderr);
		goto free_text;
	}
	rs = sl_ruleset_build(p, 1, NULL, &dp.slots, (int)rte_socket_id(), err,
			      sizeof(err));
	if (rs == NULL)
		fprintf(stderr, "sluice-bench-worker: policy: %s\n", err);
	build_s = (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz();
	printf("%-14s policy of %u classes and %u payload patterns loaded and built in %.3f s\n",
	       cfg->label, cfg->classes, cfg->patterns, build_s);
free_text:
	free(text);
	return rs;
}

/* Bytes allocated from the rte_malloc heaps of every socket. */
static uint64_t heap_bytes(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

/* Accepts what failed and the bytes it needs; says what is free and how to get more. */
static void memory_hint(const char *what, uint64_t need)
{
	unsigned long free_pages = 0, page_kb = 0, v;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %lu", &v) == 1)
			free_pages = v;
		else if (sscanf(line, "Hugepagesize: %lu kB", &v) == 1)
			page_kb = v;
	}
	if (f != NULL)
		fclose(f);
	fprintf(stderr, "sluice-bench-worker: %s: cannot allocate %.1f MB of hugepage memory; %.1f MB of hugepages are free (HugePages_Free in /proc/meminfo; raise /proc/sys/vm/nr_hugepages)\n",
		what, (double)need / 1048576, (double)free_pages * page_kb / 1024);
}

/*
 * Accepts the worker's socket; measures in table_bytes what a flow
 * table of cfg->table keys takes, the way sl_engine_create() creates
 * it, by creating and freeing one before the worker's. Returns 0 or -1.
 */
static int table_measure(const struct bench_cfg *cfg, int socket)
{
	uint64_t b0 = heap_bytes();
	struct sl_flowtab *ft = sl_flowtab_create("sl_bench_probe", cfg->table, socket);
	char what[64];

	if (ft != NULL) {
		table_bytes = heap_bytes() - b0;
		sl_flowtab_free(ft);
		return 0;
	}
	/* How much it would take: a small table's bytes per slot, scaled. */
	ft = sl_flowtab_create("sl_bench_probe", 1u << 16, socket);
	if (ft != NULL) {
		table_bytes = (uint64_t)((double)(heap_bytes() - b0) * cfg->table / 65536);
		sl_flowtab_free(ft);
	}
	snprintf(what, sizeof(what), "a flow table of %u keys", cfg->table);
	memory_hint(what, table_bytes);
	return -1;
}

/* Accepts "48K", "1024K", "32M"; its bytes, or 0. */
static uint64_t cache_size_parse(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	if (*end == 'K')
		return v << 10;
	if (*end == 'M')
		return v << 20;
	if (*end == 'G')
		return v << 30;
	return v;
}

/* Accepts a path; its first line into buf (newline cut), or -1. */
static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	char *ok;

	if (f == NULL)
		return -1;
	ok = fgets(buf, (int)cap, f);
	fclose(f);
	if (ok == NULL)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * CPU 0's L1d, L2 and L3 sizes from sysfs; where sysfs has none (some
 * VMs), what glibc reads from CPUID, which a hypervisor may make up.
 */
static void caches_read(struct bench_caches *c)
{
	char path[96], type[32], level[8], size[32];

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (read_line(path, level, sizeof(level)) < 0)
			break;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		if (read_line(path, type, sizeof(type)) < 0 || strcmp(type, "Instruction") == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if (read_line(path, size, sizeof(size)) < 0)
			continue;
		uint64_t *to = level[0] == '1' ? &c->l1d : level[0] == '2' ? &c->l2 :
			       level[0] == '3' ? &c->l3 : NULL;

		if (to != NULL)
			*to = cache_size_parse(size);
		c->source = "sysfs";
	}
	if (c->source != NULL)
		return;
	c->l1d = (uint64_t)RTE_MAX(sysconf(_SC_LEVEL1_DCACHE_SIZE), 0L);
	c->l2 = (uint64_t)RTE_MAX(sysconf(_SC_LEVEL2_CACHE_SIZE), 0L);
	c->l3 = (uint64_t)RTE_MAX(sysconf(_SC_LEVEL3_CACHE_SIZE), 0L);
	c->source = c->l2 + c->l3 != 0 ? "cpuid" : "unknown";
}

/* Prints the memory figures and caches. */
static void memory_print(const struct bench_cfg *cfg)
{
	printf("%-14s flow table of %u slots: %.1f MB, %.1f bytes a slot, %.1f a flow of %u; worker %.1f MB; frames %.1f MB; caches L1d %" PRIu64 " KB, L2 %" PRIu64 " KB, L3 %" PRIu64 " KB (%s)\n",
	       cfg->label, cfg->table, (double)table_bytes / 1048576,
	       (double)table_bytes / cfg->table, (double)table_bytes / cfg->flows,
	       cfg->flows, (double)worker_bytes / 1048576,
	       (double)frames_bytes / 1048576, caches.l1d >> 10, caches.l2 >> 10,
	       caches.l3 >> 10, caches.source);
}

/*
 * Accepts the worker's lcore; with --latency, the rx stamp's mbuf field
 * and the lcore's histogram. Returns 0 or -1.
 */
static int latency_init(const struct bench_cfg *cfg, unsigned int lcore)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "sluice_bench_rx_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};

	if (!cfg->latency)
		return 0;
	lat_off = rte_mbuf_dynfield_register(&desc);
	lat_hist[lcore] = rte_zmalloc_socket("sl_bench_lat", sizeof(struct bench_lat),
					     RTE_CACHE_LINE_SIZE,
					     (int)rte_lcore_to_socket_id(lcore));
	if (lat_off < 0 || lat_hist[lcore] == NULL) {
		fprintf(stderr, "sluice-bench-worker: --latency: no mbuf field or histogram: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/*
 * The callbacks on every port: the frames at rx (not in bare mode);
 * with --latency, the rx stamp after them and the tx histogram.
 * Returns 0 or -1.
 */
static int callbacks_add(const struct bench_cfg *cfg)
{
	for (uint16_t p = 0; p < dp.n_ports; p++) {
		uint16_t id = dp.ports[p].port_id;

		if (cfg->mode != MODE_BARE &&
		    rte_eth_add_rx_callback(id, 0, stamp_rx, &traffic) == NULL)
			return -1;
		if (cfg->latency &&
		    (rte_eth_add_rx_callback(id, 0, lat_rx, NULL) == NULL ||
		     rte_eth_add_tx_callback(id, 0, lat_tx, NULL) == NULL))
			return -1;
	}
	return 0;
}

/* Frames for cfg in traffic, their bytes in frames_bytes; 0 or -1. */
static int frames_build(const struct bench_cfg *cfg)
{
	uint64_t b0 = heap_bytes();
	char what[64];

	if (sl_bench_traffic_build(&traffic, cfg->classes, cfg->flows,
				   cfg->payload_size, cfg->payload, cfg->patterns,
				   (int)rte_socket_id()) == 0) {
		frames_bytes = heap_bytes() - b0;
		return 0;
	}
	snprintf(what, sizeof(what), "the frames of %u flows", cfg->flows);
	memory_hint(what, (uint64_t)cfg->flows * SL_BENCH_FRAME);
	return -1;
}

/* Ports, worker and traffic as sluice-dp sets them up; then measure. */
static int bench(const struct bench_cfg *cfg)
{
	unsigned int lcore;
	struct dp_worker *w;
	uint64_t b0;
	int rc = -1;

	if (rte_eth_dev_count_avail() < 2) {
		fprintf(stderr, "sluice-bench-worker: needs two ports: --vdev net_null0 --vdev net_null1\n");
		return -1;
	}
	/* The worker on the first lcore but main, as sluice-dp does. */
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE)
		lcore = rte_get_main_lcore();
	dp.cfg.n_pairs = 1;
	dp.cfg.pairs[0][0] = 0;
	dp.cfg.pairs[0][1] = 1;
	dp.cfg.flows = cfg->table;
	dp.cfg.rx_desc = 1024;
	dp.cfg.tx_desc = 1024;
	dp.cfg.shape_queue = DP_SHAPE_QUEUE_DEFAULT;
	dp.n_queues = 1;
	dp_clock_init(&dp.clock);
	caches_read(&caches);
	dp.rs = ruleset_build(cfg);
	if (dp.rs == NULL)
		return -1;
	dp.active = dp.rs;
	if (table_measure(cfg, (int)rte_lcore_to_socket_id(lcore)) < 0 ||
	    frames_build(cfg) < 0)
		goto free_rs;
	if (latency_init(cfg, lcore) < 0)
		goto free_lat;
	if (dp_ports_init(&dp) < 0)
		goto close_ports;
	b0 = heap_bytes();
	w = dp_worker_create(&dp, lcore, 0);
	if (w == NULL) {
		memory_hint("the worker and its flow table", table_bytes);
		goto close_ports;
	}
	worker_bytes = heap_bytes() - b0;
	memory_print(cfg);
	dp.workers[0] = w;
	dp.n_workers = 1;
	if (dp_rcu_init(&dp) < 0)
		goto free_worker;
	if (callbacks_add(cfg) < 0)
		goto free_worker;
	rc = measure(cfg, w);

free_worker:
	dp_worker_free(w);
	rte_free(dp.qs);
close_ports:
	dp_ports_close(&dp);
	rte_mempool_free(dp.pool);
free_lat:
	rte_free(lat_hist[lcore]);
	lat_hist[lcore] = NULL;
free_rs:
	sl_bench_traffic_free(&traffic);
	sl_ruleset_free(dp.rs);
	return rc;
}

/* The index of "--" in argv, or argc. */
static int find_dashdash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

/* Takes EAL options, "--", then the benchmark's; exits 0, 1 or 2 (usage). */
int main(int argc, char **argv)
{
	struct bench_cfg cfg;
	char *no_opts[] = { argv[0], NULL };
	int sep = find_dashdash(argc, argv);
	int rc;

	if (sep < argc)
		rc = parse_args(argc - sep, argv + sep, &cfg);
	else
		rc = parse_args(1, no_opts, &cfg);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	if (rte_eal_init(sep, argv) < 0) {
		fprintf(stderr, "sluice-bench-worker: cannot initialise the EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	rte_log_set_level_pattern("sluice.*", RTE_LOG_WARNING);
	signal(SIGALRM, on_alarm);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = bench(&cfg);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
