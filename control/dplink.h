/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's link to sluice-dp's control socket (docs/protocol.md).
 *
 * Two layers:
 *
 *   heartbeat  pure functions of timestamps and poll counts that judge
 *              the dataplane alive, stuck (its control thread answers
 *              but a worker stopped polling) or gone (nothing answers),
 *              and the reconnect backoff. No I/O: unit-tested alone.
 *
 *   link       the socket: connect with backoff, dp.hello, requests in
 *              flight without blocking the daemon (one at a time: the
 *              heartbeat and the stats poll), and blocking calls for the
 *              commands that need an answer now (policy.load, top).
 *
 * A crashed dataplane closes its socket, which the link sees at once;
 * the heartbeat's timeouts are for one that hangs.
 */
#ifndef SLUICE_DPLINK_H
#define SLUICE_DPLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <jansson.h>

#include "ctlproto.h"

#define SL_HB_INTERVAL_MS	100	/* dp.ping every */
/*
 * Short enough that a hung dataplane fails over well within a second
 * (docs/decisions/0007); three missed pings, so one slow reply is not
 * taken for a hang.
 */
#define SL_HB_GONE_MS		300	/* no reply at all for this long: gone */
#define SL_HB_STUCK_MS		300	/* a worker's polls still this long: stuck */
#define SL_HB_WORKERS_MAX	256
#define SL_BACKOFF_MIN_MS	100	/* first reconnect delay */
#define SL_BACKOFF_MAX_MS	2000	/* delays double up to this */
#define SL_DP_CONNECT_MS	100	/* connect() to a full backlog */
#define SL_DP_HELLO_MS		500	/* dp.hello round trip */
#define SL_DP_WAIT_TICK_MS	100	/* the wait hook's period in a blocking call */

/* ---- Heartbeat -------------------------------------------------------- */

enum sl_dp_health {
	SL_DP_ALIVE = 0,
	SL_DP_STUCK,	/* answers, but a worker's poll count stands still */
	SL_DP_GONE,	/* nothing answered for SL_HB_GONE_MS */
};

/* What the heartbeat knows: when things last happened. */
struct sl_hb {
	int64_t since_ms;	/* connected at */
	int64_t last_ok_ms;	/* last reply of any kind; 0: none yet */
	int64_t last_pong_ms;	/* last dp.ping reply */
	bool have_polls;	/* polls[] holds a baseline */
	unsigned int n_workers;
	uint64_t polls[SL_HB_WORKERS_MAX];
	int64_t moved_ms[SL_HB_WORKERS_MAX];	/* when each count last changed */
};

/* Accepts the time of a (re)connect; starts judging from there. */
void sl_hb_start(struct sl_hb *hb, int64_t now_ms);

/* Accepts the time of any reply: the control thread is alive. */
void sl_hb_reply(struct sl_hb *hb, int64_t now_ms);

/*
 * Accepts a dp.ping reply's poll counts (n workers; beyond
 * SL_HB_WORKERS_MAX are ignored) and its time. A count that changed
 * (either way) means that worker polled since the last ping.
 */
void sl_hb_pong(struct sl_hb *hb, int64_t now_ms, const uint64_t *polls,
		unsigned int n);

/*
 * Accepts the time now. Gone when nothing answered for SL_HB_GONE_MS
 * since the connect or the last reply; stuck when a worker's count
 * stood still over pings SL_HB_STUCK_MS or more apart (*worker says
 * which, may be NULL, and *still_ms for how long); alive otherwise.
 * Stillness is measured up to the last ping reply, not to now, so a
 * slow reply to another request never makes a worker look stuck.
 */
enum sl_dp_health sl_hb_judge(const struct sl_hb *hb, int64_t now_ms,
			      int *worker, int64_t *still_ms);

/* Accepts the last delay (0: none yet); the next reconnect delay. */
int sl_backoff_next(int prev_ms);

/* ---- Link ------------------------------------------------------------- */

/* Accepts a command name and its reply: replies to requests in flight. */
typedef void sl_dplink_reply_fn(void *ctx, const char *cmd,
				const struct sl_ctl_reply *rep, int64_t now_ms);

/* Accepts the link's context; called while a blocking call waits. */
typedef void sl_dplink_wait_fn(void *ctx);

struct sl_dplink {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;				/* -1: not connected */
	int backoff_ms;
	int64_t next_connect_ms;
	char why[256];			/* why it is down, for status */
	struct sl_hb hb;
	json_t *hello;			/* the last dp.hello result */
	/* The request in flight, if any. */
	bool busy;
	char cmd[SL_CTL_CMD_MAX];
	int64_t id;
	int64_t next_id;
	int64_t deadline_ms;
	int timeout_ms;
	struct sl_ctl_rx rx;
	struct sl_ctl_reply *sync_out;	/* where a blocking call wants its reply */
	sl_dplink_reply_fn *on_reply;
	sl_dplink_wait_fn *on_wait;	/* may be NULL; set after init */
	void *ctx;
};

/* Accepts the socket path and the handler of replies to sl_dplink_send(). */
void sl_dplink_init(struct sl_dplink *l, const char *path,
		    sl_dplink_reply_fn *fn, void *ctx);

/* Accepts a link; closes it (see sl_dplink_drop) and frees what it holds. */
void sl_dplink_free(struct sl_dplink *l);

/* Accepts a link; whether it is connected (dp.hello answered). */
bool sl_dplink_up(const struct sl_dplink *l);

/*
 * Accepts a link and why it goes down (logged by the caller, kept for
 * status). Closes the socket and schedules the next connect attempt
 * after the backoff.
 */
void sl_dplink_drop(struct sl_dplink *l, int64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Accepts a link that is down. When the next attempt is due, connects
 * and calls dp.hello (blocking, SL_DP_CONNECT_MS + SL_DP_HELLO_MS at
 * most). Returns 1 when connected (l->hello holds the result), 0 when
 * no attempt was due, or a negative errno with l->why saying why the
 * attempt failed (the backoff grows).
 */
int sl_dplink_connect(struct sl_dplink *l, int64_t now_ms);

/*
 * Accepts a connected link with nothing in flight; sends cmd with args
 * (stolen) and returns at once. The reply reaches the handler from
 * sl_dplink_poll() or a later sl_dplink_call(). Returns 0, -EBUSY when a
 * request is in flight, or a negative errno after which the link is
 * down.
 */
int sl_dplink_send(struct sl_dplink *l, const char *cmd, json_t *args,
		   int64_t now_ms, int timeout_ms);

/*
 * Accepts a link; reads what arrived without blocking. Hands a complete
 * reply to the handler, notices a closed socket, a reply that is late
 * or bytes nobody asked for. Returns 1 when a reply was handled, 0
 * otherwise, or a negative errno after which the link is down.
 */
int sl_dplink_poll(struct sl_dplink *l, int64_t now_ms);

/*
 * Accepts a connected link; a blocking round trip for cmd with args
 * (stolen) within timeout_ms, after waiting for the request in flight.
 * Calls l->on_wait every SL_DP_WAIT_TICK_MS while it waits. Returns 0
 * with rep filled (release it; rep->ok says the outcome), or a negative
 * errno with err saying why, after which the link is down.
 */
int sl_dplink_call(struct sl_dplink *l, const char *cmd, json_t *args,
		   int timeout_ms, struct sl_ctl_reply *rep, char *err,
		   size_t errlen);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
int64_t sl_now_ms(void);

#endif /* SLUICE_DPLINK_H */
