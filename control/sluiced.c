/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced: sluice's management daemon. Owns the policy (validates,
 * persists, pushes it to sluice-dp), watches the dataplane, keeps its
 * counters monotonic, serves sluicectl on a Unix socket and Prometheus
 * metrics on a localhost port.
 *
 *   sluiced [--socket PATH] [--dp-socket PATH] [--state-dir DIR]
 *           [--metrics ADDR:PORT | --metrics none] [--group NAME]
 *           [--pair OUTSIDE,INSIDE]... [--xdp-keys N]
 *           [--foreground] [--log-stderr]
 *
 * It never daemonizes (systemd runs it, Type=notify); --foreground is
 * accepted for scripts that pass it. One thread runs a poll loop: the
 * control socket, the dataplane's heartbeat and stats, the watchdog.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sluiced.h"
#include "xdp_path.h"

static struct sld daemon_state;

/* Log one line to syslog (stderr too with LOG_PERROR, set at openlog). */
void sld_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

/* ctlproto's log hook. */
static void ctl_log(int prio, const char *msg)
{
	syslog(prio, "%s", msg);
}

/* The store's log callback. */
static void store_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	syslog(prio, "store: %s", msg);
}

/* SIGTERM, SIGINT: leave the loop. */
static void on_signal(int sig)
{
	(void)sig;
	daemon_state.quit = 1;
}

/* Accepts a stream; the options and their defaults. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluiced [--socket PATH] [--dp-socket PATH] [--state-dir DIR]\n"
		"               [--metrics ADDR:PORT | --metrics none] [--group NAME]\n"
		"               [--pair OUTSIDE,INSIDE]... [--xdp-keys N]\n"
		"               [--foreground] [--log-stderr]\n"
		"\n"
		"  --socket PATH      control socket for sluicectl (default %s)\n"
		"  --dp-socket PATH   sluice-dp's control socket (default %s)\n"
		"  --state-dir DIR    policy store (default %s)\n"
		"  --metrics A:P      Prometheus endpoint (default %s:%u); none: no endpoint\n"
		"  --group NAME       group that may use the socket (default %s)\n"
		"  --pair OUT,IN      interfaces of a port pair, for the XDP fallback path;\n"
		"                     repeat for more pairs; none: no XDP path\n"
		"  --xdp-keys N       buckets the XDP path holds (default %u)\n"
		"  --foreground       accepted; sluiced never daemonizes\n"
		"  --log-stderr       log to stderr too (the default when it is a terminal)\n",
		SLD_SOCKET_DEFAULT, SLD_DP_SOCKET_DEFAULT, SL_STORE_DIR_DEFAULT,
		SL_METRICS_ADDR, SL_METRICS_PORT, SLD_GROUP_DEFAULT,
		SL_XDP_KEYS_DEFAULT);
}

/* Accepts "ADDR:PORT" or "none"; fills the metrics options. */
static int parse_metrics(struct sld *d, char *s)
{
	char *colon = strrchr(s, ':'), *end;
	unsigned long port;

	if (strcmp(s, "none") == 0) {
		d->metrics_addr = NULL;
		return 0;
	}
	if (!colon || colon == s)
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || errno || port == 0 || port > 65535)
		return -EINVAL;
	*colon = '\0';
	d->metrics_addr = s;
	d->metrics_port = (uint16_t)port;
	return 0;
}

/* Accepts "OUTSIDE,INSIDE"; adds the pair to d's options. */
static int parse_pair(struct sld *d, char *s)
{
	char *comma = strchr(s, ',');

	if (!comma || comma == s || comma[1] == '\0' || strchr(comma + 1, ',')) {
		fprintf(stderr, "sluiced: --pair %s: expected OUTSIDE,INSIDE (two interface names)\n",
			s);
		return -EINVAL;
	}
	if (d->n_pairs == SLD_PAIRS_MAX) {
		fprintf(stderr, "sluiced: more than %d --pair options\n", SLD_PAIRS_MAX);
		return -EINVAL;
	}
	*comma = '\0';
	d->pair[d->n_pairs][0] = s;
	d->pair[d->n_pairs][1] = comma + 1;
	d->n_pairs++;
	return 0;
}

/* Accepts "N"; the number of XDP buckets, 1..2^31. */
static int parse_keys(struct sld *d, const char *s)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || end == s || n == 0 || n > (1ul << 31)) {
		fprintf(stderr, "sluiced: --xdp-keys %s: expected a number of buckets, 1 to 2147483648\n",
			s);
		return -EINVAL;
	}
	d->xdp_keys = (uint32_t)n;
	return 0;
}

/* Accepts argv; fills the options of d. 0, 1 (--help) or -EINVAL. */
static int parse_args(struct sld *d, int argc, char **argv, bool *log_stderr)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dp-socket", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "pair", required_argument, NULL, 'p' },
		{ "xdp-keys", required_argument, NULL, 'k' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-stderr", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': d->sock_path = optarg; break;
		case 'd': d->dp_path = optarg; break;
		case 'S': d->state_dir = optarg; break;
		case 'g': d->group = optarg; break;
		case 'f': break;
		case 'l': *log_stderr = true; break;
		case 'h': usage(stdout); return 1;
		case 'p':
			if (strcmp(optarg, "none") == 0)
				break;
			if (parse_pair(d, optarg) < 0)
				return -EINVAL;
			break;
		case 'k':
			if (parse_keys(d, optarg) < 0)
				return -EINVAL;
			break;
		case 'm':
			if (parse_metrics(d, optarg) == 0)
				break;
			fprintf(stderr, "sluiced: --metrics %s: expected ADDR:PORT (e.g. 127.0.0.1:9477) or none\n",
				optarg);
			return -EINVAL;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluiced: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Accepts the socket path; creates its directory if it is missing. */
static void make_socket_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	/* The socket's own mode and group guard it; the directory is searchable. */
	if (mkdir(dir, 0755) == 0)
		sld_log(LOG_INFO, "created %s", dir);
}

/* Accepts the daemon; tells systemd it lives when half the timeout passed. */
void sld_watchdog(void *ctx)
{
	struct sld *d = ctx;
	int64_t now;

	if (!d->wd_ms)
		return;
	now = sl_now_ms();
	if (now < d->next_wd_ms)
		return;
	sd_notify(0, "WATCHDOG=1");
	d->next_wd_ms = now + d->wd_ms;
}

/* Tells systemd the one-line state, e.g. after the path changed. */
static void notify_status(struct sld *d, const char *extra)
{
	char reason[1200];
	const char *path = sld_path(d, reason, sizeof(reason));

	sd_notifyf(0, "%sSTATUS=path %s, policy version %" PRIu64 "%s%s",
		   extra ? extra : "", path, sl_store_version(d->store),
		   d->policy_invalid ? " (invalid)" : "",
		   reason[0] ? "; see sluicectl status" : "");
}

/* Accepts parsed options; opens the store, the socket and the metrics. */
static int start(struct sld *d)
{
	char err[512], where[80] = "off";

	d->start_ms = sl_now_ms();
	d->store = sl_store_open(d->state_dir, 0, store_log, d, err, sizeof(err));
	if (!d->store) {
		sld_log(LOG_ERR, "cannot use the policy store: %s", err);
		return -1;
	}
	sld_policy_init(d);
	if (sld_dp_init(d))
		return -1;
	if (sld_xdp_init(d))
		return -1;
	/* Blocking calls to the dataplane keep the watchdog fed. */
	d->link.on_wait = sld_watchdog;
	make_socket_dir(d->sock_path);
	d->srv = sl_ctl_server_create(d->sock_path, d->group, sld_handle, d);
	if (!d->srv) {
		sld_log(LOG_ERR, "cannot serve %s: %s", d->sock_path,
			errno == EADDRINUSE ? "another process is listening there" :
			strerror(errno));
		return -1;
	}
	sld_view_publish(d);
	if (d->metrics_addr) {
		d->metrics = sl_metrics_start(d->metrics_addr, d->metrics_port,
					      sld_metrics_render, d, err, sizeof(err));
		if (!d->metrics) {
			sld_log(LOG_ERR, "%s", err);
			return -1;
		}
	}
	if (d->metrics_addr)
		snprintf(where, sizeof(where), "http://%s:%u/metrics", d->metrics_addr,
			 d->metrics_port);
	sld_log(LOG_NOTICE, "serving %s; dataplane at %s; store %s; metrics %s",
		d->sock_path, d->dp_path, d->state_dir, where);
	return 0;
}

/* Accepts a started daemon; runs until SIGTERM or SIGINT. */
static void run(struct sld *d)
{
	const char *last_path = NULL;
	uint64_t wd_usec = 0;
	int rc;

	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
		d->wd_ms = (int64_t)(wd_usec / 2000);	/* half the timeout */
	notify_status(d, "READY=1\n");
	while (!d->quit) {
		rc = sl_ctl_server_poll(d->srv, SLD_LOOP_MS);
		if (rc < 0) {
			sld_log(LOG_ERR, "poll: %s", strerror(-rc));
			break;
		}
		sld_dp_tick(d, sl_now_ms());
		sld_xdp_tick(d, sl_now_ms());
		sld_watchdog(d);
		if (sld_path(d, NULL, 0) != last_path) {
			last_path = sld_path(d, NULL, 0);
			notify_status(d, NULL);
		}
	}
}

/* Accepts a daemon in any state of start(); frees all of it. */
static void stop(struct sld *d)
{
	sd_notify(0, "STOPPING=1");
	sl_metrics_stop(d->metrics);
	sl_ctl_server_free(d->srv);
	sld_xdp_fini(d);
	if (d->mono)
		sld_dp_fini(d);
	sl_policy_free(d->policy);
	sl_store_close(d->store);
}

/* Options, logging, signals; start, run, stop. */
int main(int argc, char **argv)
{
	struct sld *d = &daemon_state;
	struct sigaction sa = { .sa_handler = on_signal };
	bool log_stderr = isatty(STDERR_FILENO);
	int rc;

	d->sock_path = SLD_SOCKET_DEFAULT;
	d->dp_path = SLD_DP_SOCKET_DEFAULT;
	d->state_dir = SL_STORE_DIR_DEFAULT;
	d->group = SLD_GROUP_DEFAULT;
	d->metrics_addr = SL_METRICS_ADDR;
	d->metrics_port = SL_METRICS_PORT;
	rc = parse_args(d, argc, argv, &log_stderr);
	if (rc)
		return rc > 0 ? 0 : 2;
	openlog("sluiced", LOG_PID | (log_stderr ? LOG_PERROR : 0), LOG_DAEMON);
	sl_ctl_set_log(ctl_log);
	/* No SA_RESTART: poll() returns at once on SIGTERM. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	rc = start(d);
	if (rc == 0)
		run(d);
	stop(d);
	sld_log(LOG_NOTICE, "stopped");
	closelog();
	return rc == 0 ? 0 : 1;
}
