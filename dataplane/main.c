/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp: the DPDK poll-mode dataplane.
 *
 *   sluice-dp [EAL options] -- --policy FILE [--pairs 0:1[,2:3...]]
 *             [--flows N] [--rx-desc N] [--tx-desc N] [--report-json FILE]
 *             [--shape-queue N]
 *
 * The main lcore sets up ports and workers, then waits for SIGINT or
 * SIGTERM; with no other lcore it polls too. SIGHUP re-reads the policy
 * file and swaps it in without stopping traffic (an invalid file is
 * refused and the running policy stays). Counters are served by the
 * DPDK telemetry socket and reported on exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dp.h"

RTE_LOG_REGISTER(dp_logtype_main, sluice.main, INFO);
#define MAIN_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype_main, "sluice-dp: " fmt "\n", ## __VA_ARGS__)

#define DEFAULT_FLOWS	(1u << 20)
#define DEFAULT_CTL_SOCKET	"/run/sluice/dp.sock"

struct dp dp;

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [EAL options] -- --policy FILE [options]\n"
		"  --policy FILE       policy to enforce (YAML, see docs/policy.md)\n"
		"  --pairs A:B[,C:D]   port pairs forwarded both ways (default 0:1)\n"
		"  --flows N           flow-table keys per worker (default %u)\n"
		"  --rx-desc N         rx descriptors per queue (default 1024)\n"
		"  --tx-desc N         tx descriptors per queue (default 1024)\n"
		"  --shape-queue N     packets each worker can hold for shape classes (default %u, 0-%u)\n"
		"  --report-json FILE  write the final counters as JSON on exit\n"
		"  --ctl-socket PATH   control socket for sluiced (default %s; 'none': no socket)\n"
		"  --help              this text\n",
		prog, DEFAULT_FLOWS, DP_SHAPE_QUEUE_DEFAULT, DP_SHAPE_QUEUE_MAX,
		DEFAULT_CTL_SOCKET);
}

/* Parse "0:1,2:3" into cfg->pairs; every port at most once. */
static int parse_pairs(const char *s, struct dp_config *cfg)
{
	uint8_t seen[RTE_MAX_ETHPORTS] = { 0 };
	const char *p = s;

	cfg->n_pairs = 0;
	while (*p != '\0') {
		unsigned long a, b;
		char *end;

		if (cfg->n_pairs == DP_PAIRS_MAX) {
			fprintf(stderr, "sluice-dp: --pairs: at most %d pairs\n", DP_PAIRS_MAX);
			return -1;
		}
		a = strtoul(p, &end, 10);
		if (end == p || *end != ':')
			goto bad;
		p = end + 1;
		b = strtoul(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0'))
			goto bad;
		if (a >= RTE_MAX_ETHPORTS || b >= RTE_MAX_ETHPORTS || a == b ||
		    seen[a] || seen[b]) {
			fprintf(stderr, "sluice-dp: --pairs %s: ports must be distinct, below %d, and in one pair each\n",
				s, RTE_MAX_ETHPORTS);
			return -1;
		}
		seen[a] = seen[b] = 1;
		cfg->pairs[cfg->n_pairs][0] = (uint16_t)a;
		cfg->pairs[cfg->n_pairs][1] = (uint16_t)b;
		cfg->n_pairs++;
		p = *end == ',' ? end + 1 : end;
	}
	if (cfg->n_pairs > 0)
		return 0;
bad:
	fprintf(stderr, "sluice-dp: --pairs %s: expected A:B[,C:D...]\n", s);
	return -1;
}

static int parse_uint(const char *opt, const char *s, unsigned long lo,
		      unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out < lo || *out > hi) {
		fprintf(stderr, "sluice-dp: %s %s: expected an integer from %lu to %lu\n",
			opt, s, lo, hi);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct dp_config *cfg)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "pairs", required_argument, NULL, 'P' },
		{ "flows", required_argument, NULL, 'f' },
		{ "rx-desc", required_argument, NULL, 'r' },
		{ "tx-desc", required_argument, NULL, 't' },
		{ "report-json", required_argument, NULL, 'j' },
		{ "ctl-socket", required_argument, NULL, 'c' },
		{ "shape-queue", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	cfg->n_pairs = 1;
	cfg->pairs[0][0] = 0;
	cfg->pairs[0][1] = 1;
	cfg->flows = DEFAULT_FLOWS;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->ctl_socket = DEFAULT_CTL_SOCKET;
	cfg->shape_queue = DP_SHAPE_QUEUE_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cfg->policy_path = optarg;
			break;
		case 'P':
			if (parse_pairs(optarg, cfg) < 0)
				return -1;
			break;
		case 'f':
			if (parse_uint("--flows", optarg, 64, 1u << 28, &v) < 0)
				return -1;
			cfg->flows = (uint32_t)v;
			break;
		case 'r':
		case 't':
			if (parse_uint(c == 'r' ? "--rx-desc" : "--tx-desc", optarg,
				       64, 16384, &v) < 0)
				return -1;
			if (c == 'r')
				cfg->rx_desc = (uint16_t)v;
			else
				cfg->tx_desc = (uint16_t)v;
			break;
		case 'j':
			cfg->report_json = optarg;
			break;
		case 'c':
			cfg->ctl_socket = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 's':
			if (parse_uint("--shape-queue", optarg, 0, DP_SHAPE_QUEUE_MAX, &v) < 0)
				return -1;
			cfg->shape_queue = (uint32_t)v;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-dp: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (cfg->policy_path == NULL) {
		fprintf(stderr, "sluice-dp: --policy FILE is required\n");
		usage(argv[0]);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		dp.reload = true;
	else
		dp.quit = true;
}

/*
 * The control thread: everything that changes the running dataplane
 * (policy reloads) happens here, never on a worker.
 */
static void *control_main(void *arg)
{
	struct dp *d = arg;

	while (!d->quit) {
		if (d->reload) {
			d->reload = false;
			MAIN_LOG(INFO, "SIGHUP: reloading %s", d->cfg.policy_path);
			dp_policy_reload(d);
		}
		dp_control_poll(d, 50);
	}
	return NULL;
}

/*
 * One worker per lcore; the main lcore works only if it is alone. All
 * of them meter class ceilings in one shared array.
 */
static int workers_create(struct dp *d)
{
	unsigned int lcore;
	uint16_t q = 0;

	d->ceilings = sl_ceilings_create((int)rte_socket_id());
	if (d->ceilings == NULL)
		return -ENOMEM;
	if (rte_lcore_count() == 1) {
		d->workers[0] = dp_worker_create(d, rte_get_main_lcore(), 0);
		if (d->workers[0] == NULL)
			return -ENOMEM;
		sl_engine_share_ceilings(d->workers[0]->eng, d->ceilings);
		d->n_workers = 1;
		return 0;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		d->workers[q] = dp_worker_create(d, lcore, q);
		if (d->workers[q] == NULL)
			return -ENOMEM;
		sl_engine_share_ceilings(d->workers[q]->eng, d->ceilings);
		d->n_workers = ++q;
	}
	return 0;
}

static void workers_free(struct dp *d)
{
	for (unsigned int i = 0; i < d->n_workers; i++)
		dp_worker_free(d->workers[i]);
	d->n_workers = 0;
	sl_ceilings_free(d->ceilings);
	d->ceilings = NULL;
}

static int run(struct dp *d)
{
	pthread_t ctl;
	int rc = 0;

	d->workers_running = true;
	if (rte_ctrl_thread_create(&ctl, "sluice-ctl", NULL, control_main, d) != 0) {
		MAIN_LOG(ERR, "cannot start the control thread");
		d->quit = true;
		return -1;
	}
	if (rte_lcore_count() == 1) {
		rc = dp_worker_main(d->workers[0]);
	} else {
		for (unsigned int i = 0; i < d->n_workers; i++)
			rte_eal_remote_launch(dp_worker_main, d->workers[i],
					      d->workers[i]->lcore_id);
		while (!d->quit)
			usleep(100 * 1000);
		rte_eal_mp_wait_lcore();
	}
	pthread_join(ctl, NULL);
	d->workers_running = false;
	return rc;
}

/* Compile the --policy file and make it the first active ruleset. */
static int initial_policy(struct dp *d)
{
	struct sl_diags diags;
	struct sl_ruleset *rs;
	char err[256];

	d->next_version = 1;
	rs = dp_policy_compile(d, d->cfg.policy_path, NULL, 0, &diags, err, sizeof(err));
	if (rs == NULL) {
		if (diags.n > 0)
			sl_diags_print(&diags, stderr);
		MAIN_LOG(ERR, "%s", err);
		return -EINVAL;
	}
	dp_policy_publish(d, rs);
	return 0;
}

int main(int argc, char **argv)
{
	struct dp *d = &dp;
	int ret, rc = EXIT_FAILURE;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "sluice-dp: EAL init failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	if (parse_args(argc - ret, argv + ret, &d->cfg) < 0)
		goto cleanup_eal;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	pthread_mutex_init(&d->ctl_lock, NULL);
	dp_clock_init(&d->clock);

	if (initial_policy(d) < 0)
		goto cleanup_eal;
	d->n_queues = (uint16_t)(rte_lcore_count() == 1 ? 1 : rte_lcore_count() - 1);
	if (dp_ports_init(d) < 0)
		goto close_ports;
	if (workers_create(d) < 0)
		goto free_workers;
	if (dp_rcu_init(d) < 0)
		goto free_workers;
	if (dp_control_open(d) < 0)
		goto free_workers;
	if (dp_telemetry_init() != 0)
		MAIN_LOG(WARNING, "telemetry endpoints not registered");
	MAIN_LOG(INFO, "enforcing %s: %u classes, default %s, %u worker(s), %u flows and a shaping queue of %u packets each",
		 d->cfg.policy_path, d->rs->n_classes,
		 d->rs->default_drop ? "drop" : "pass", d->n_workers, d->cfg.flows,
		 d->cfg.shape_queue);

	if (run(d) == 0)
		rc = EXIT_SUCCESS;
	dp_report_print(d, stdout);
	fflush(stdout);
	if (d->cfg.report_json != NULL && dp_report_json(d, d->cfg.report_json) < 0) {
		MAIN_LOG(ERR, "cannot write %s", d->cfg.report_json);
		rc = EXIT_FAILURE;
	}

free_workers:
	dp_control_close(d);
	workers_free(d);
close_ports:
	dp_ports_close(d);
	sl_ruleset_free(d->rs);
	free(d->policy_text);
	rte_free(d->qs);
cleanup_eal:
	rte_eal_cleanup();
	return rc;
}
