/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp's process-wide state: configuration, port pairs, workers.
 * Written by the main lcore before the workers start and after they
 * stop; while they run, workers own their dp_worker and the main lcore
 * and the telemetry thread only read counters.
 */
#ifndef SLUICE_DP_H
#define SLUICE_DP_H

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <jansson.h>

#include "clock.h"
#include "ctlproto.h"
#include "engine.h"
#include "shaper.h"

#define DP_PAIRS_MAX		8
#define DP_PORTS_MAX		(2 * DP_PAIRS_MAX)
#define DP_BURST		32
#define DP_TX_DRAIN_US		100	/* flush partial tx bursts this often */
#define DP_EXPIRE_BUDGET	64	/* flow slots examined per idle poll */

struct dp_config {
	const char *policy_path;
	uint16_t pairs[DP_PAIRS_MAX][2];
	uint16_t n_pairs;
	uint32_t flows;			/* flow-table keys per worker */
	uint16_t rx_desc;
	uint16_t tx_desc;
	const char *report_json;	/* final report as JSON, or NULL */
	const char *ctl_socket;		/* control socket path, or NULL for none */
	uint32_t shape_queue;		/* shaping queue per worker, in mbufs */
};

/* Per worker, per port counters (the port it received on). */
struct dp_port_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;		/* forwarded to the peer */
	uint64_t tx_failed;		/* peer's tx queue full: freed */
	uint64_t dropped;		/* by policy */
};

struct dp_worker {
	unsigned int lcore_id;
	uint16_t queue;			/* its rx and tx queue on every port */
	unsigned int rcu_id;		/* its thread id in dp.qs */
	struct sl_engine *eng;
	struct dp_shaper *shaper;	/* packets delayed by shape classes */
	struct rte_eth_dev_tx_buffer *txb[DP_PORTS_MAX];
	struct dp_port_counters port[DP_PORTS_MAX];
	uint64_t busy_cycles;		/* polls that found packets */
	uint64_t total_cycles;
	uint64_t polls;			/* loop count: the heartbeat of this worker */
	uint64_t max_poll_gap;		/* TSC cycles, the most between two polls */
	uint64_t shape_drained;		/* delayed packets sent after the stop */
} __rte_cache_aligned;

struct dp_port {
	uint16_t port_id;
	uint16_t peer;			/* index into dp.ports of its pair */
	char name[RTE_ETH_NAME_MAX_LEN];
};

struct dp {
	struct dp_config cfg;
	struct dp_clock clock;
	struct rte_mempool *pool;
	struct dp_port ports[DP_PORTS_MAX];
	uint16_t n_ports;
	uint16_t n_queues;		/* = number of workers */
	struct dp_worker *workers[RTE_MAX_LCORE];
	unsigned int n_workers;
	/*
	 * The policy. Workers read active (atomically, once per poll); the
	 * control thread publishes it and keeps rs, the same pointer, for
	 * itself and telemetry, under ctl_lock.
	 */
	struct sl_ruleset *active;
	struct sl_ruleset *rs;
	struct rte_rcu_qsbr *qs;
	struct sl_slots slots;		/* class slots, control thread only */
	struct sl_ceil *ceilings;	/* class ceilings by slot, shared by all workers */
	uint64_t next_version;
	pthread_mutex_t ctl_lock;	/* control plane only; never on the fast path */
	struct sl_ctl_server *ctl;	/* the control socket, or NULL */
	char *policy_text;		/* as last loaded over the socket, or NULL */
	char policy_name[128];
	bool workers_running;
	volatile bool quit;
	volatile bool reload;		/* SIGHUP: re-read --policy */
};

extern struct dp dp;

/* port.c */
int dp_ports_init(struct dp *d);
void dp_ports_close(struct dp *d);

/* policy.c */
int dp_rcu_init(struct dp *d);
struct sl_ruleset *dp_policy_compile(struct dp *d, const char *path,
				     const char *text, size_t len,
				     struct sl_diags *diags, char *err,
				     size_t errlen);
void dp_policy_publish(struct dp *d, struct sl_ruleset *next);
int dp_policy_reload(struct dp *d);

/* control.c */
int dp_control_open(struct dp *d);
void dp_control_poll(struct dp *d, int timeout_ms);
void dp_control_close(struct dp *d);

/* worker.c */
int dp_worker_main(void *arg);
struct dp_worker *dp_worker_create(struct dp *d, unsigned int lcore_id,
				   uint16_t queue);
void dp_worker_free(struct dp_worker *w);

/* stats.c */
void dp_stats_sum_class(const struct dp *d, uint32_t c, struct sl_counters *out);
void dp_stats_sum_engine(const struct dp *d, struct sl_engine_stats *out);
void dp_stats_sum_port(const struct dp *d, uint16_t pi, struct dp_port_counters *out);
void dp_stats_sum_shaper(const struct dp *d, struct dp_shaper_stats *out);
int dp_telemetry_init(void);
json_t *dp_stats_json(const struct dp *d);
void dp_report_print(const struct dp *d, FILE *f);
int dp_report_json(const struct dp *d, const char *path);

#endif /* SLUICE_DP_H */
