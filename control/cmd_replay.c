/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl replay --policy FILE IN.pcap [OUT.pcap]
 *
 * Runs a capture through the dataplane's own engine, with the capture's
 * timestamps as the clock, and reports what each class would have done.
 * Forwarded packets (marked ones rewritten) go to OUT.pcap, delayed ones
 * (shape) at their departure, so OUT.pcap is in time order. Offline and
 * deterministic: the same capture and policy give the same output.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "cli.h"
#include "engine.h"
#include "report.h"

#define REPLAY_FLOWS_DEFAULT	(1u << 18)
#define REPLAY_SNAP		65535
/* Flow slots examined for idle keys after each batch, as the dataplane does. */
#define REPLAY_EXPIRE_BUDGET	64
/* Packets held for shaping: sluice-dp's default --shape-queue per worker. */
#define REPLAY_SHAPE_QUEUE	8192
#define REPLAY_SHAPE_QUEUE_MAX	(1u << 20)

/* A packet shaping delayed: a copy, stamped with its departure. */
struct held {
	uint64_t depart_ns;
	uint64_t seq;		/* order of delaying: FIFO among equal departures */
	struct pcap_pkthdr hdr;
	uint8_t *data;
};

struct replay {
	struct sl_engine *eng;
	const struct sl_ruleset *rs;
	struct sl_slots slots;
	pcap_dumper_t *out;
	uint64_t packets;
	uint64_t forwarded;
	uint64_t snapped;	/* captured shorter than on the wire */
	uint64_t first_ns, last_ns;
	/* Delayed packets: a min-heap on (depart_ns, seq) of at most held_cap. */
	struct held *held;
	uint32_t n_held, held_cap, held_high;
	uint64_t held_seq;
	uint64_t delayed_out;	/* written at their departure */
	/* One batch: packets that share a timestamp. */
	uint16_t n;
	uint64_t batch_ns;
	struct pcap_pkthdr hdr[SL_ENGINE_BURST_MAX];
	struct sl_pkt pkts[SL_ENGINE_BURST_MAX];
	uint8_t buf[SL_ENGINE_BURST_MAX][REPLAY_SNAP];
};

/*
 * An EAL for offline work: no hugepages, no devices, no files shared
 * with a running dataplane, quiet. Its one lcore is a CPU this process
 * may run on (EAL pins to it, and CPU 0 may be outside a taskset or
 * cpuset), and the thread's CPU affinity is put back afterwards, so
 * replay does not stay on a dataplane's pinned core.
 */
static int offline_eal_init(void)
{
	char lcores[32] = "0@0";
	char *argv[] = {
		"sluicectl", "--no-huge", "-m", "1024", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=*:error",
		"--lcores", lcores, NULL,
	};
	cpu_set_t cpus;
	int have = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;

	for (int c = 0; have && c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &cpus)) {
			snprintf(lcores, sizeof(lcores), "0@%d", c);
			break;
		}
	}
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -rte_errno;
	if (have)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	return 0;
}

/* Whether heap entry a leaves before b. */
static bool held_before(const struct held *a, const struct held *b)
{
	return a->depart_ns < b->depart_ns ||
	       (a->depart_ns == b->depart_ns && a->seq < b->seq);
}

/* Accepts a heap with room; adds h. */
static void held_push(struct replay *r, const struct held *h)
{
	uint32_t i = r->n_held++;

	while (i > 0 && held_before(h, &r->held[(i - 1) / 2])) {
		r->held[i] = r->held[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	r->held[i] = *h;
	if (r->n_held > r->held_high)
		r->held_high = r->n_held;
}

/* Accepts a non-empty heap; removes its first entry into *out. */
static void held_pop(struct replay *r, struct held *out)
{
	struct held last = r->held[--r->n_held];
	uint32_t i = 0;

	*out = r->held[0];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= r->n_held)
			break;
		if (c + 1 < r->n_held && held_before(&r->held[c + 1], &r->held[c]))
			c++;
		if (!held_before(&r->held[c], &last))
			break;
		r->held[i] = r->held[c];
		i = c;
	}
	if (r->n_held > 0)
		r->held[i] = last;
}

/* Write out every delayed packet due by now_ns, in departure order. */
static void held_release(struct replay *r, uint64_t now_ns)
{
	struct held h;

	while (r->n_held > 0 && r->held[0].depart_ns <= now_ns) {
		held_pop(r, &h);
		r->forwarded++;
		r->delayed_out++;
		if (r->out != NULL)
			pcap_dump((u_char *)r->out, &h.hdr, h.data);
		free(h.data);
	}
}

/*
 * Accepts packet i of the batch, delayed to depart_ns; keeps a copy
 * stamped with that time. The engine delayed it only with room, so the
 * heap has it; a failed copy is written out at once rather than lost.
 */
static void held_add(struct replay *r, uint16_t i, uint64_t depart_ns)
{
	struct held h = {
		.depart_ns = depart_ns,
		.seq = r->held_seq++,
		.hdr = r->hdr[i],
		.data = malloc(r->hdr[i].caplen ? r->hdr[i].caplen : 1),
	};

	h.hdr.ts.tv_sec = (time_t)(depart_ns / 1000000000ULL);
	h.hdr.ts.tv_usec = (suseconds_t)(depart_ns % 1000000000ULL);	/* ns */
	if (h.data == NULL || r->n_held == r->held_cap) {
		free(h.data);
		r->forwarded++;
		r->delayed_out++;
		if (r->out != NULL)
			pcap_dump((u_char *)r->out, &r->hdr[i], r->buf[i]);
		return;
	}
	memcpy(h.data, r->buf[i], r->hdr[i].caplen);
	held_push(r, &h);
}

/*
 * Police the batch and write out what is forwarded. Idle keys are then
 * expired at the batch's time, as a dataplane worker does between
 * bursts, so a long capture with many keys does not fill the flow table
 * and spill into the overflow buckets where the dataplane would not.
 */
static void replay_flush(struct replay *r)
{
	uint8_t verdict[SL_ENGINE_BURST_MAX];

	if (r->n == 0)
		return;
	/* What shaping delayed until now leaves before this batch arrives. */
	held_release(r, r->batch_ns);
	r->eng->shape_room = r->held_cap - r->n_held;
	sl_engine_run(r->eng, r->rs, r->pkts, r->n, r->batch_ns, verdict);
	for (uint16_t i = 0; i < r->n; i++) {
		if (verdict[i] == SL_VERDICT_DELAY)
			held_add(r, i, r->pkts[i].depart_ns);
		if (verdict[i] != SL_VERDICT_FORWARD)
			continue;
		r->forwarded++;
		if (r->out != NULL)
			pcap_dump((u_char *)r->out, &r->hdr[i], r->buf[i]);
	}
	r->n = 0;
	sl_engine_expire(r->eng, r->batch_ns, REPLAY_EXPIRE_BUDGET);
}

/*
 * Queue one captured packet for the current batch. A packet the capture
 * cut short (snaplen below the frame) is parsed at its length on the
 * wire over zeros in place of the missing bytes: headers-only captures
 * then replay as the dataplane saw them instead of as malformed, and
 * bit rates meter the frame's length on the wire either way.
 */
static void replay_queue(struct replay *r, const struct pcap_pkthdr *h,
			 const u_char *data)
{
	uint32_t cap = h->caplen > REPLAY_SNAP ? REPLAY_SNAP : h->caplen;
	uint32_t len = h->len > REPLAY_SNAP ? REPLAY_SNAP : h->len;

	memcpy(r->buf[r->n], data, cap);
	if (len > cap) {
		memset(r->buf[r->n] + cap, 0, len - cap);
		r->snapped++;
	} else {
		len = cap;
	}
	r->hdr[r->n] = *h;
	r->hdr[r->n].caplen = cap;
	r->pkts[r->n].data = r->buf[r->n];
	r->pkts[r->n].len = len;
	r->pkts[r->n].wire_len = h->len > len ? h->len : len;
	r->n++;
	r->packets++;
}

static int replay_file(struct cli_ctx *ctx, struct replay *r, pcap_t *in)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	bool started = false;
	int rc;

	while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
		uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ULL +
			      (uint64_t)h->ts.tv_usec;	/* nanosecond precision */

		if (!started) {
			r->first_ns = ns;
			started = true;
		}
		if (r->n == SL_ENGINE_BURST_MAX || (r->n > 0 && ns != r->batch_ns))
			replay_flush(r);
		r->batch_ns = ns;
		r->last_ns = ns;
		replay_queue(r, h, data);
	}
	replay_flush(r);
	/* The capture is over; the queue empties at its departures. */
	held_release(r, UINT64_MAX);
	if (rc == -1)
		return cli_error(ctx, CLI_FAIL, "reading the capture: %s", pcap_geterr(in));
	return CLI_OK;
}

static void replay_report(struct cli_ctx *ctx, const struct replay *r,
			  const struct sl_ruleset *rs)
{
	uint64_t ns = r->packets ? r->last_ns - r->first_ns : 0;
	double secs = (double)ns / 1e9;
	const struct sl_engine *e = r->eng;
	struct sl_counters *cls = calloc(rs->n_classes + 1, sizeof(*cls));

	if (cls == NULL) {
		cli_error(ctx, CLI_FAIL, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < rs->n_classes; i++)
		cls[i] = *sl_engine_class_counters(e, rs, i);
	if (ctx->json) {
		json_t *j = report_json(rs->policy, cls, &e->st);

		json_object_set_new(j, "replay", json_pack("{s:I,s:I,s:I,s:I,s:f,s:{s:I,s:I,s:I,s:I}}",
			"packets", (json_int_t)r->packets,
			"forwarded", (json_int_t)r->forwarded,
			"snapped", (json_int_t)r->snapped,
			"duration_ns", (json_int_t)ns,
			"duration_s", secs,
			"shape_queue",
			"capacity", (json_int_t)r->held_cap,
			"high_water", (json_int_t)r->held_high,
			"delayed", (json_int_t)r->delayed_out,
			"full_drops", (json_int_t)e->st.shape_full));
		cli_json_print(j);
		free(cls);
		return;
	}
	printf("replayed %llu packets over %.3f s, forwarded %llu\n",
	       (unsigned long long)r->packets, secs,
	       (unsigned long long)r->forwarded);
	if (r->snapped != 0)
		printf("%llu packets cut short by the capture's snaplen were parsed at their length on the wire\n",
		       (unsigned long long)r->snapped);
	if (r->delayed_out != 0 || e->st.shape_full != 0)
		printf("shaping delayed %llu packets (at most %u at once, queue %u), %llu dropped for a full queue\n",
		       (unsigned long long)r->delayed_out, r->held_high, r->held_cap,
		       (unsigned long long)e->st.shape_full);
	putchar('\n');
	report_print(stdout, rs->policy, cls, &e->st);
	free(cls);
}

int cmd_replay(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "shape-queue", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL;
	unsigned long flows = REPLAY_FLOWS_DEFAULT;
	unsigned long shape_queue = REPLAY_SHAPE_QUEUE;
	char *end;
	char errbuf[PCAP_ERRBUF_SIZE], err[256];
	struct sl_diags diags;
	struct sl_policy *p;
	struct sl_ruleset *rs = NULL;
	struct replay *r = NULL;
	pcap_t *in = NULL, *dead = NULL;
	int c, rc;

	optind = 0;	/* argv[0] here is the first argument: scan from it */
	while ((c = getopt_long(argc + 1, argv - 1, "p:f:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'f':
			errno = 0;
			flows = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    flows < 64 || flows > (1u << 24))
				return cli_error(ctx, CLI_USAGE, "--flows: 64 to 16777216");
			break;
		case 's':
			errno = 0;
			shape_queue = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    shape_queue > REPLAY_SHAPE_QUEUE_MAX)
				return cli_error(ctx, CLI_USAGE, "--shape-queue: 0 to 1048576");
			break;
		case 'h':
			printf("Usage: sluicectl replay --policy FILE [--flows N] [--shape-queue N] IN.pcap [OUT.pcap]\n"
			       "  Run IN.pcap through the dataplane engine with its timestamps as the\n"
			       "  clock; print per-class counts; write forwarded packets to OUT.pcap,\n"
			       "  those shaping delayed at their departure (queue of N, default 8192).\n");
			return CLI_OK;
		default:
			return cli_error(ctx, CLI_USAGE, "usage: replay --policy FILE IN.pcap [OUT.pcap]");
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (policy == NULL || argc < 1 || argc > 2)
		return cli_error(ctx, CLI_USAGE, "usage: replay --policy FILE IN.pcap [OUT.pcap]");

	rc = sl_policy_load_file(policy, &p, &diags);
	if (rc < 0) {
		/* With -j the diagnostics are the one JSON document. */
		report_policy_refused(ctx, &diags, rc);
		if (ctx->json)
			return CLI_FAIL;
		return cli_error(ctx, CLI_FAIL, "%s: policy refused, nothing replayed", policy);
	}
	in = pcap_open_offline_with_tstamp_precision(argv[0], PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (in == NULL) {
		sl_policy_free(p);
		return cli_error(ctx, CLI_FAIL, "%s", errbuf);
	}
	rc = CLI_FAIL;
	if (pcap_datalink(in) != DLT_EN10MB) {
		cli_error(ctx, CLI_FAIL, "%s: link type %s, only Ethernet captures can be replayed",
			  argv[0], pcap_datalink_val_to_name(pcap_datalink(in)));
		sl_policy_free(p);
		goto close_in;
	}
	if (offline_eal_init() < 0) {
		cli_error(ctx, CLI_FAIL, "cannot start DPDK's EAL: %s", rte_strerror(rte_errno));
		sl_policy_free(p);
		goto close_in;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		cli_error(ctx, CLI_FAIL, "out of memory");
		sl_policy_free(p);
		goto cleanup_eal;
	}
	rs = sl_ruleset_build(p, 1, NULL, &r->slots, SOCKET_ID_ANY, err, sizeof(err));
	if (rs == NULL) {
		cli_error(ctx, CLI_FAIL, "%s: %s", policy, err);
		goto free_r;
	}
	r->rs = rs;
	r->held_cap = (uint32_t)shape_queue;
	r->held = calloc(RTE_MAX(r->held_cap, 1u), sizeof(*r->held));
	if (r->held == NULL) {
		cli_error(ctx, CLI_FAIL, "out of memory for a shaping queue of %lu", shape_queue);
		goto free_rs;
	}
	r->eng = sl_engine_create("replay_flows", (uint32_t)flows, SOCKET_ID_ANY);
	if (r->eng == NULL) {
		cli_error(ctx, CLI_FAIL, "flow table of %lu keys: %s", flows, rte_strerror(rte_errno));
		goto free_rs;
	}
	if (argc == 2) {
		dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, REPLAY_SNAP,
							    PCAP_TSTAMP_PRECISION_NANO);
		r->out = dead ? pcap_dump_open(dead, argv[1]) : NULL;
		if (r->out == NULL) {
			cli_error(ctx, CLI_FAIL, "%s: %s", argv[1],
				  dead ? pcap_geterr(dead) : "cannot open");
			goto free_eng;
		}
	}
	rc = replay_file(ctx, r, in);
	if (rc == CLI_OK)
		replay_report(ctx, r, rs);
	if (r->out != NULL)
		pcap_dump_close(r->out);
free_eng:
	if (dead != NULL)
		pcap_close(dead);
	sl_engine_free(r->eng);
free_rs:
	for (uint32_t i = 0; i < r->n_held; i++)
		free(r->held[i].data);
	free(r->held);
	sl_ruleset_free(rs);
free_r:
	free(r);
cleanup_eal:
	rte_eal_cleanup();
close_in:
	pcap_close(in);
	return rc;
}
