/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl replay --policy FILE IN.pcap [OUT.pcap]
 *
 * Runs a capture through the dataplane's own engine, with the capture's
 * timestamps as the clock, and reports what each class would have done.
 * Forwarded packets (marked ones rewritten) go to OUT.pcap. Offline and
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

struct replay {
	struct sl_engine *eng;
	const struct sl_ruleset *rs;
	struct sl_slots slots;
	pcap_dumper_t *out;
	uint64_t packets;
	uint64_t forwarded;
	uint64_t snapped;	/* captured shorter than on the wire */
	uint64_t first_ns, last_ns;
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
	sl_engine_run(r->eng, r->rs, r->pkts, r->n, r->batch_ns, verdict);
	for (uint16_t i = 0; i < r->n; i++) {
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

		json_object_set_new(j, "replay", json_pack("{s:I,s:I,s:I,s:I,s:f}",
			"packets", (json_int_t)r->packets,
			"forwarded", (json_int_t)r->forwarded,
			"snapped", (json_int_t)r->snapped,
			"duration_ns", (json_int_t)ns,
			"duration_s", secs));
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
	putchar('\n');
	report_print(stdout, rs->policy, cls, &e->st);
	free(cls);
}

int cmd_replay(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL;
	unsigned long flows = REPLAY_FLOWS_DEFAULT;
	char *end;
	char errbuf[PCAP_ERRBUF_SIZE], err[256];
	struct sl_diags diags;
	struct sl_policy *p;
	struct sl_ruleset *rs = NULL;
	struct replay *r = NULL;
	pcap_t *in = NULL, *dead = NULL;
	int c, rc;

	optind = 0;	/* argv[0] here is the first argument: scan from it */
	while ((c = getopt_long(argc + 1, argv - 1, "p:f:h", opts, NULL)) != -1) {
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
		case 'h':
			printf("Usage: sluicectl replay --policy FILE [--flows N] IN.pcap [OUT.pcap]\n"
			       "  Run IN.pcap through the dataplane engine with its timestamps as the\n"
			       "  clock; print per-class counts; write forwarded packets to OUT.pcap.\n");
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
	r->eng = sl_engine_create("replay_flows", (uint32_t)flows, SOCKET_ID_ANY);
	if (r->eng == NULL) {
		cli_error(ctx, CLI_FAIL, "flow table of %lu keys: %s", flows, rte_strerror(rte_errno));
		goto free_r;
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
	sl_ruleset_free(rs);
free_r:
	free(r);
cleanup_eal:
	rte_eal_cleanup();
close_in:
	pcap_close(in);
	return rc;
}
