/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced, the management daemon: its state and the parts it is made of.
 *
 *   sluiced.c      options, logging, startup, the poll loop, sd_notify
 *   sld_policy.c   the policy: validate, push, persist, reconcile
 *   sld_dp.c       the dataplane link's timers, heartbeat and stats
 *   sld_xdp.c      the XDP path: its policy, failover and failback
 *   sld_cmd.c      the commands of docs/protocol.md
 *   sld_metrics.c  the Prometheus view (docs/metrics.md)
 *
 * One thread runs everything but the metrics endpoint, whose thread
 * reads only the published view (struct sld_view) under its mutex.
 */
#ifndef SLUICE_SLUICED_H
#define SLUICE_SLUICED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctlproto.h"
#include "dplink.h"
#include "metrics.h"
#include "mono.h"
#include "policy.h"
#include "store.h"

#define SLD_SOCKET_DEFAULT	"/run/sluice/sluiced.sock"
#define SLD_DP_SOCKET_DEFAULT	"/run/sluice/dp.sock"
#define SLD_GROUP_DEFAULT	"sluice"
#define SLD_LOOP_MS		10	/* longest wait of one loop round */
#define SLD_STATS_MS		1000	/* stats poll */
#define SLD_SHOW_MS		1000	/* policy.show round trip */
#define SLD_PUSH_MS		10000	/* policy.load: compiling takes time */
#define SLD_STATS_CALL_MS	1000	/* a stats round trip */
#define SLD_TOP_MS		2000	/* a top round trip */
#define SLD_LCORES_MAX		256
#define SLD_PAIRS_MAX		32	/* --pair options */
#define SLD_FAILBACK_MS		300	/* healthy and in sync this long: back to dpdk */
#define SLD_XDP_RETRY_MS	1000	/* a failed attach is tried again after */
#define SLD_XDP_EXPIRE_BUDGET	65536	/* idle buckets deleted per stats round */

/* What the metrics thread may read, published by the main thread. */
struct sld_view {
	pthread_mutex_t lock;
	json_t *stats;		/* the stats command's result; NULL: none yet */
	json_t *lcores;		/* {"lcore id": busy ratio} */
	const char *path;	/* "dpdk", "xdp" or "down" */
	uint64_t policy_version;
	bool policy_valid;
	uint64_t apply_errors;
	bool dp_up;
	uint64_t dp_restarts;
	bool xdp_ready;
	uint64_t failovers;
	uint64_t failbacks;
	int64_t flows_active;	/* -1: not known */
	int64_t flows_capacity;
};

/* Busy and total cycles of one lcore at the last stats poll. */
struct sld_lcore {
	int64_t id;
	uint64_t busy;
	uint64_t total;
};

struct sld {
	/* Options. */
	const char *sock_path;
	const char *dp_path;
	const char *state_dir;
	const char *group;
	const char *metrics_addr;	/* NULL: no metrics */
	uint16_t metrics_port;
	char *pair[SLD_PAIRS_MAX][2];	/* --pair OUTSIDE,INSIDE: interface names */
	unsigned int n_pairs;
	uint32_t xdp_keys;		/* --xdp-keys; 0: the loader's default */

	/* The policy: the store's current text and its model. */
	struct sl_store *store;
	struct sl_policy *policy;	/* NULL: none, or the text is invalid */
	bool policy_invalid;		/* the stored text no longer loads */
	char invalid_why[600];

	/* The dataplane. */
	struct sl_dplink link;
	bool in_sync;			/* it runs the store's current text */
	bool reconcile_due;		/* check what it runs at the next chance */
	char sync_why[1024];		/* why not in sync, when it is up */
	uint64_t dp_policy_version;	/* its own numbering */
	int64_t dp_pid;			/* last seen; 0: never */
	bool restart_check;
	bool down_logged;		/* this outage was logged */		/* same pid after a reconnect: look at counters */
	int64_t next_ping_ms;
	int64_t next_stats_ms;
	enum sl_dp_health health;
	int stuck_worker;
	int64_t stuck_ms;
	uint64_t dp_restarts;
	uint64_t apply_errors;

	/* The XDP path (sld_xdp.c). */
	struct sl_xdp *xdp;		/* NULL: no pairs, or it did not load */
	bool xdp_policy_ok;		/* it holds the store's current policy */
	char xdp_why[512];		/* why it cannot take traffic; "" if it can */
	int64_t dp_ok_since_ms;		/* on xdp: dataplane healthy and in sync since */
	int64_t next_attach_ms;
	int64_t next_xstats_ms;
	uint64_t failovers;
	uint64_t failbacks;
	uint64_t xdp_keys_active;
	uint64_t xdp_keys_capacity;

	/* Counters: the dataplane's, and the XDP path's in xmono. */
	struct sl_mono *mono;
	struct sl_mono *xmono;
	json_t *dp_stats;		/* the dataplane's last stats, raw */
	struct sld_lcore lcores[SLD_LCORES_MAX];
	unsigned int n_lcores;

	struct sl_ctl_server *srv;
	struct sl_metrics *metrics;
	struct sld_view view;
	int64_t start_ms;
	int64_t wd_ms;			/* WATCHDOG=1 every; 0: no watchdog */
	int64_t next_wd_ms;
	volatile int quit;
};

/* ---- sluiced.c ---- */

/* Log one line to syslog (and stderr when asked): prio is LOG_*. */
void sld_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Accepts a daemon (as void *: the link's wait hook); WATCHDOG=1 if due. */
void sld_watchdog(void *ctx);

/* ---- sld_policy.c ---- */

/* The outcome of a successful apply. */
struct sld_applied {
	uint64_t version;	/* new, or the current one for a dry run */
	uint32_t classes;
	bool pushed;		/* the dataplane runs it now */
	double apply_ms;
};

/*
 * Accepts a daemon with its store open. Loads the store's current text
 * into d->policy, or marks it invalid and says so loudly.
 */
void sld_policy_init(struct sld *d);

/*
 * Accepts policy text from a request (req->uid applies it), the file
 * name its diagnostics name and the source the store records. Validates
 * it, pushes it to the dataplane when connected, persists it
 * (docs/protocol.md, "Applying a policy"). Returns NULL with out
 * filled, or an error reply for req.
 */
json_t *sld_apply(struct sld *d, const struct sl_ctl_req *req, const char *text,
		  size_t len, const char *name, const char *source, bool dry_run,
		  struct sld_applied *out);

/*
 * Accepts a link that just came up. Makes the dataplane run the store's
 * current policy: policy.show, and policy.load when it runs another.
 */
void sld_reconcile(struct sld *d);

/* Accepts diagnostics; a JSON array of {"file","line","column","message"}. */
json_t *sld_diags_json(const struct sl_diags *diags);

/* ---- sld_dp.c ---- */

/* Accepts a daemon; sets up the link, the counters and the view. */
int sld_dp_init(struct sld *d);

/* Accepts a daemon; frees what sld_dp_init() set up. */
void sld_dp_fini(struct sld *d);

/* Accepts the time now; connects, pings, polls stats, judges health. */
void sld_dp_tick(struct sld *d, int64_t now_ms);

/* Accepts a dataplane stats result; updates the counters from it. */
void sld_dp_stats_update(struct sld *d, json_t *stats);

/* Returns the stats result of docs/protocol.md from the counters. */
json_t *sld_stats_json(struct sld *d);

/* Accepts a class name; its "packets" and "bytes" objects, into o. */
void sld_class_counters(struct sld *d, const char *name, json_t *o);

/* Accepts a daemon; publishes what the metrics thread reads. */
void sld_view_publish(struct sld *d);

/* ---- sld_xdp.c ---- */

/*
 * Accepts a daemon; "dpdk", "xdp" or "down" (sld_xdp.c) and, in reason,
 * why traffic is not on the dataplane, or "" when it is and all is well.
 */
const char *sld_path(struct sld *d, char *reason, size_t len);

/* Accepts a daemon with its options and policy; loads the XDP path. */
int sld_xdp_init(struct sld *d);
void sld_xdp_fini(struct sld *d);
/* Accepts a daemon whose d->policy changed; gives the XDP path the same. */
void sld_xdp_policy(struct sld *d);
/* Whether the XDP path could take traffic now. */
bool sld_xdp_ready(const struct sld *d);
/* Accepts the time now; failover, failback, expiry and counters. */
void sld_xdp_tick(struct sld *d, int64_t now_ms);
json_t *sld_xdp_status(struct sld *d);
json_t *sld_xdp_degraded_json(struct sld *d);

/* ---- sld_cmd.c ---- */

/* The server's handler: one request of docs/protocol.md. */
json_t *sld_handle(void *ctx, const struct sl_ctl_req *req);

/* ---- sld_metrics.c ---- */

/* The metrics endpoint's render callback (runs on its thread). */
void sld_metrics_render(void *ctx, FILE *f);

#endif /* SLUICE_SLUICED_H */
