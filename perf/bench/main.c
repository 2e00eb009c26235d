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
 * out the time other processes held the core.
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
#include <rte_prefetch.h>

#include "bench.h"
#include "dp.h"
#include "worker.h"

#define BENCH_REPS_MAX		100
#define BENCH_CLASSES_MAX	250	/* class i owns 10.i.0.0/16 */
#define BENCH_FLOWS_PER_CLASS	65536	/* flow j of a class: 10.i.j/16 */
#define STAMP_PREFETCH		(2 * DP_BURST)	/* frames read ahead */

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
	uint32_t flows;
	uint32_t table;		/* flow-table keys, as sluice-dp --flows */
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
};

/* How long the policy took to load and build (patterns compiled). */
static double build_s;

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
		"  --classes N    classes in the policy, 1-%d (default 100)\n"
		"  --flows N      distinct flows, as many flow-table keys (default 100000)\n"
		"  --table N      flow-table capacity, as sluice-dp --flows (default 1048576)\n"
		"  --duration S   seconds per repetition (default 2)\n"
		"  --warmup S     seconds before the first repetition (default 0.5)\n"
		"  --reps N       repetitions (default 1)\n"
		"  --packets N    end each run and the warm-up after about N packets instead of a time\n"
		"                 (the same work in every run, for instruction counts under callgrind)\n"
		"  --label NAME   name of the configuration in the report (default the mode)\n"
		"  --json FILE    write the results as JSON\n",
		SL_BENCH_PAYLOAD_MAX, BENCH_CLASSES_MAX);
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
			if (parse_num("--classes", optarg, 1, BENCH_CLASSES_MAX, &v) < 0)
				return -1;
			cfg->classes = (uint32_t)v;
			break;
		case 'f':
			if (parse_num("--flows", optarg, 1, 1 << 24, &v) < 0)
				return -1;
			cfg->flows = (uint32_t)v;
			break;
		case 't':
			if (parse_num("--table", optarg, 64, 1 << 28, &v) < 0)
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
	if (cfg->flows < cfg->classes ||
	    cfg->flows / cfg->classes >= BENCH_FLOWS_PER_CLASS) {
		fprintf(stderr, "sluice-bench-worker: --flows must be from --classes to %u per class\n",
			BENCH_FLOWS_PER_CLASS - 1);
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

/* The rx callback: the next flows' frames into the mbufs net_null gave. */
static uint16_t stamp_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, uint16_t max, void *arg)
{
	struct sl_bench_traffic *t = arg;
	uint32_t cur = t->cursor, size = t->payload_size;

	(void)port;
	(void)queue;
	(void)max;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t ahead = cur + STAMP_PREFETCH;

		/*
		 * The hardware prefetcher loses the sequential stream under
		 * the engine's random accesses: fetch a few bursts ahead.
		 */
		if (ahead >= t->n_flows)
			ahead -= t->n_flows;
		rte_prefetch0(t->frames + (size_t)ahead * SL_BENCH_FRAME);
		const uint8_t *f = t->frames + (size_t)cur * SL_BENCH_FRAME;
		uint8_t *d = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		uint16_t len = SL_BENCH_FRAME;

		memcpy(d, f, SL_BENCH_FRAME);
		if (size != 0) {
			/* The headers, then the payload of the flow's class. */
			uint16_t cls;

			memcpy(&cls, f + 62, sizeof(cls));
			memcpy(d + f[61], t->payloads + (size_t)cls * size, size);
			len = (uint16_t)(f[61] + size);
		}
		pkts[i]->data_len = len;
		pkts[i]->pkt_len = len;
		if (++cur == t->n_flows)
			cur = 0;
	}
	t->cursor = cur;
	if (t->left != 0) {
		if (t->left <= n)
			dp.quit = true;
		t->left -= RTE_MIN(t->left, (uint64_t)n);
	}
	return n;
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
	for (uint16_t p = 0; p < dp.n_ports; p++)
		r->packets += w->port[p].rx_packets;
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

/* Accepts n repetitions and their medians (Mpps, busy, CPU cycles). */
static json_t *report_json(const struct bench_cfg *cfg,
			   const struct bench_rep *reps, unsigned int n,
			   const double *med, const struct bench_outcomes *o)
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
 * Warm up until the flow table holds every flow (sluice mode), then run
 * the repetitions and report. Returns 0, or -1 if the engine did not
 * see the traffic it was meant to (a broken benchmark, not a slow one).
 */
static int measure(const struct bench_cfg *cfg, struct dp_worker *w)
{
	struct bench_rep reps[BENCH_REPS_MAX], warm;
	double v[3][BENCH_REPS_MAX], med[3];
	struct bench_outcomes o;
	unsigned int n = 0;
	int rc = 0;

	for (int i = 0; i < 10 && !interrupted; i++) {
		run_for(cfg, w, cfg->warmup_s, &warm);
		if (cfg->mode != MODE_SLUICE ||
		    sl_flowtab_count(w->eng->ft) >= cfg->flows)
			break;
	}
	for (; n < cfg->reps && !interrupted; n++) {
		run_for(cfg, w, cfg->duration_s, &reps[n]);
		v[0][n] = reps[n].mpps;
		v[1][n] = reps[n].cpp;
		v[2][n] = reps[n].cpp_cpu;
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
	if (cfg->mode == MODE_SLUICE) {
		outcomes_get(w, &o);
		printf("%-14s engine: %u flows in the table; passed %" PRIu64 ", dropped %" PRIu64
		       ", marked %" PRIu64 ", monitored %" PRIu64 ", delayed %" PRIu64
		       " (queue high water %" PRIu64 ", %" PRIu64 " dropped full); unmatched %" PRIu64
		       ", malformed %" PRIu64 ", overflow %" PRIu64 "; payloads scanned %" PRIu64 "\n",
		       cfg->label, o.flows, o.by[SL_OUT_PASSED], o.by[SL_OUT_DROPPED],
		       o.by[SL_OUT_MARKED], o.by[SL_OUT_MONITORED], o.by[SL_OUT_DELAYED],
		       o.shape_high_water, o.shape_full, o.unmatched,
		       o.malformed, o.overflow, o.scanned);
		if (o.unmatched + o.malformed + o.non_ip + o.overflow != 0 ||
		    o.flows != cfg->flows) {
			fprintf(stderr, "sluice-bench-worker: the engine did not see %u flows that all match a class: not measuring what it should\n",
				cfg->flows);
			rc = -1;
		}
	}
	if (cfg->json != NULL) {
		json_t *j = report_json(cfg, reps, n, med,
					cfg->mode == MODE_SLUICE ? &o : NULL);

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
	char *text = sl_bench_policy(cfg->classes, cfg->mix, cfg->payload,
				     cfg->patterns);
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

/* Ports, worker and traffic as sluice-dp sets them up; then measure. */
static int bench(const struct bench_cfg *cfg)
{
	unsigned int lcore;
	struct dp_worker *w;
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
	dp.rs = ruleset_build(cfg);
	if (dp.rs == NULL)
		return -1;
	dp.active = dp.rs;
	if (sl_bench_traffic_build(&traffic, cfg->classes, cfg->flows,
				   cfg->payload_size, cfg->payload, cfg->patterns,
				   (int)rte_socket_id()) < 0) {
		fprintf(stderr, "sluice-bench-worker: no memory for %u frames\n", cfg->flows);
		goto free_rs;
	}
	if (dp_ports_init(&dp) < 0)
		goto close_ports;
	w = dp_worker_create(&dp, lcore, 0);
	if (w == NULL)
		goto close_ports;
	dp.workers[0] = w;
	dp.n_workers = 1;
	if (dp_rcu_init(&dp) < 0)
		goto free_worker;
	if (cfg->mode != MODE_BARE)
		for (uint16_t p = 0; p < dp.n_ports; p++)
			if (rte_eth_add_rx_callback(dp.ports[p].port_id, 0,
						    stamp_rx, &traffic) == NULL)
				goto free_worker;
	rc = measure(cfg, w);

free_worker:
	dp_worker_free(w);
	rte_free(dp.qs);
close_ports:
	dp_ports_close(&dp);
	rte_mempool_free(dp.pool);
	sl_bench_traffic_free(&traffic);
free_rs:
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
