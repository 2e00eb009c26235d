/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link to sluice-dp (dplink.h): the heartbeat's judgement, the
 * reconnect backoff, and the socket with at most one request in flight.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dplink.h"

/* Ids of requests in flight; sl_ctl_call() counts its own from 0. */
#define ASYNC_ID_BASE	(INT64_C(1) << 40)

/* Monotonic milliseconds. */
int64_t sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Heartbeat -------------------------------------------------------- */

/* Accepts the connect time; nothing is known about the workers yet. */
void sl_hb_start(struct sl_hb *hb, int64_t now_ms)
{
	memset(hb, 0, sizeof(*hb));
	hb->since_ms = now_ms;
}

/* Accepts the time of any reply. */
void sl_hb_reply(struct sl_hb *hb, int64_t now_ms)
{
	if (now_ms > hb->last_ok_ms)
		hb->last_ok_ms = now_ms;
}

/* Accepts poll counts; a new worker count starts a new baseline. */
void sl_hb_pong(struct sl_hb *hb, int64_t now_ms, const uint64_t *polls,
		unsigned int n)
{
	unsigned int i;

	sl_hb_reply(hb, now_ms);
	hb->last_pong_ms = now_ms;
	if (n > SL_HB_WORKERS_MAX)
		n = SL_HB_WORKERS_MAX;
	if (!hb->have_polls || n != hb->n_workers) {
		hb->n_workers = n;
		hb->have_polls = true;
		for (i = 0; i < n; i++) {
			hb->polls[i] = polls[i];
			hb->moved_ms[i] = now_ms;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		if (polls[i] != hb->polls[i]) {
			hb->polls[i] = polls[i];
			hb->moved_ms[i] = now_ms;
		}
	}
}

/* Accepts the time now; alive, stuck or gone. */
enum sl_dp_health sl_hb_judge(const struct sl_hb *hb, int64_t now_ms,
			      int *worker, int64_t *still_ms)
{
	int64_t last = hb->last_ok_ms > hb->since_ms ? hb->last_ok_ms : hb->since_ms;
	int64_t worst = 0;
	int which = -1;
	unsigned int i;

	if (now_ms - last >= SL_HB_GONE_MS)
		return SL_DP_GONE;
	for (i = 0; hb->have_polls && i < hb->n_workers; i++) {
		if (hb->last_pong_ms - hb->moved_ms[i] > worst) {
			worst = hb->last_pong_ms - hb->moved_ms[i];
			which = (int)i;
		}
	}
	if (which < 0 || worst < SL_HB_STUCK_MS)
		return SL_DP_ALIVE;
	if (worker)
		*worker = which;
	if (still_ms)
		*still_ms = worst;
	return SL_DP_STUCK;
}

/* Accepts the last delay; doubles it within [MIN, MAX]. */
int sl_backoff_next(int prev_ms)
{
	if (prev_ms < SL_BACKOFF_MIN_MS)
		return SL_BACKOFF_MIN_MS;
	if (prev_ms >= SL_BACKOFF_MAX_MS / 2)
		return SL_BACKOFF_MAX_MS;
	return prev_ms * 2;
}

/* ---- Link ------------------------------------------------------------- */

/* Accepts a link to set up; it starts down, due to connect at once. */
void sl_dplink_init(struct sl_dplink *l, const char *path,
		    sl_dplink_reply_fn *fn, void *ctx)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->fd = -1;
	l->next_id = ASYNC_ID_BASE;
	l->on_reply = fn;
	l->ctx = ctx;
	snprintf(l->why, sizeof(l->why), "not connected yet");
	sl_ctl_rx_init(&l->rx);
}

/* Accepts a link; closes and frees. */
void sl_dplink_free(struct sl_dplink *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	sl_ctl_rx_free(&l->rx);
	json_decref(l->hello);
	l->hello = NULL;
}

/* Accepts a link; connected and greeted. */
bool sl_dplink_up(const struct sl_dplink *l)
{
	return l->fd >= 0;
}

/* Accepts a link and a reason; down, next attempt after the backoff. */
void sl_dplink_drop(struct sl_dplink *l, int64_t now_ms, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->busy = false;
	l->sync_out = NULL;
	sl_ctl_rx_free(&l->rx);
	sl_ctl_rx_init(&l->rx);
	l->backoff_ms = sl_backoff_next(l->backoff_ms);
	l->next_connect_ms = now_ms + l->backoff_ms;
}

/* Accepts a connected fd; dp.hello, checking that a sluice-dp answers. */
static int hello(struct sl_dplink *l, int fd, char *err, size_t errlen)
{
	struct sl_ctl_reply rep;
	json_t *prog;
	int rc;

	rc = sl_ctl_call(fd, "dp.hello", NULL, SL_DP_HELLO_MS, &rep, err, errlen);
	if (rc)
		return rc;
	if (!rep.ok) {
		snprintf(err, errlen, "dp.hello refused: %s: %s", rep.code, rep.message);
		rc = -sl_ctl_errno_value(rep.code);
		sl_ctl_reply_release(&rep);
		return rc ? rc : -EIO;
	}
	prog = json_object_get(rep.result, "program");
	if (!json_is_string(prog) || strcmp(json_string_value(prog), "sluice-dp") != 0) {
		snprintf(err, errlen, "dp.hello: the peer is not sluice-dp");
		sl_ctl_reply_release(&rep);
		return -EPROTO;
	}
	json_decref(l->hello);
	l->hello = json_incref(rep.result);
	sl_ctl_reply_release(&rep);
	return 0;
}

/* Accepts a link that is down; connect and greet when due. */
int sl_dplink_connect(struct sl_dplink *l, int64_t now_ms)
{
	char err[SL_CTL_ERR_MAX];
	int fd, rc;

	if (l->fd >= 0 || now_ms < l->next_connect_ms)
		return 0;
	fd = sl_ctl_connect(l->path, SL_DP_CONNECT_MS);
	if (fd < 0) {
		sl_dplink_drop(l, now_ms, "connecting to %s: %s", l->path,
			       strerror(-fd));
		return fd;
	}
	rc = hello(l, fd, err, sizeof(err));
	if (rc) {
		close(fd);
		sl_dplink_drop(l, sl_now_ms(), "%s: %s", l->path, err);
		return rc;
	}
	l->fd = fd;
	l->busy = false;
	l->backoff_ms = 0;
	l->why[0] = '\0';
	sl_hb_start(&l->hb, sl_now_ms());
	sl_hb_reply(&l->hb, sl_now_ms());
	return 1;
}

/* Accepts a connected link with nothing in flight; sends one request. */
int sl_dplink_send(struct sl_dplink *l, const char *cmd, json_t *args,
		   int64_t now_ms, int timeout_ms)
{
	json_t *req;
	int64_t id;
	int rc;

	if (l->fd < 0 || l->busy) {
		json_decref(args);
		return l->fd < 0 ? -ENOTCONN : -EBUSY;
	}
	id = l->next_id++;
	if (l->next_id >= SL_CTL_ID_MAX)
		l->next_id = ASYNC_ID_BASE;
	req = sl_ctl_request(id, cmd, args);
	if (!req)
		return -ENOMEM;
	/* Small requests: the socket buffer takes them at once. */
	rc = sl_ctl_send(l->fd, req, timeout_ms);
	json_decref(req);
	if (rc) {
		sl_dplink_drop(l, now_ms, "sending %s: %s", cmd, strerror(-rc));
		return rc;
	}
	l->busy = true;
	snprintf(l->cmd, sizeof(l->cmd), "%s", cmd);
	l->id = id;
	l->timeout_ms = timeout_ms;
	l->deadline_ms = now_ms + timeout_ms;
	return 0;
}

/* Accepts a complete frame in l->rx; checks it and hands it over. */
static int deliver(struct sl_dplink *l, int64_t now_ms)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	int rc;

	rc = sl_ctl_reply_parse(l->rx.buf, l->rx.len, &rep, err, sizeof(err));
	sl_ctl_rx_next(&l->rx);
	if (rc) {
		sl_dplink_drop(l, now_ms, "reply to %s: %s", l->busy ? l->cmd : "nothing",
			       err);
		return rc;
	}
	if (!l->busy || (rep.id != l->id && rep.id >= 0)) {
		/* A late reply to an abandoned call is harmless: skip it. */
		sl_ctl_reply_release(&rep);
		return 0;
	}
	l->busy = false;
	sl_hb_reply(&l->hb, now_ms);
	if (l->sync_out) {
		*l->sync_out = rep;	/* the caller releases it */
		l->sync_out = NULL;
		return 1;
	}
	if (l->on_reply)
		l->on_reply(l->ctx, l->cmd, &rep, now_ms);
	sl_ctl_reply_release(&rep);
	return 1;
}

/* Accepts a link; reads without blocking and hands over a reply. */
int sl_dplink_poll(struct sl_dplink *l, int64_t now_ms)
{
	int rc;

	if (l->fd < 0)
		return 0;
	rc = sl_ctl_rx_feed(&l->rx, l->fd);
	if (rc == 1)
		return deliver(l, now_ms);
	if (rc < 0) {
		sl_dplink_drop(l, now_ms, rc == -ECONNRESET ?
			       "the dataplane closed its control socket" :
			       "reading from the dataplane: %s", strerror(-rc));
		return rc;
	}
	if (l->busy && now_ms >= l->deadline_ms) {
		sl_dplink_drop(l, now_ms, "%s not answered within %d ms", l->cmd,
			       l->timeout_ms);
		return -ETIMEDOUT;
	}
	return 0;
}

/*
 * Accepts a link with a request in flight; waits for it until its
 * deadline, calling the wait hook at least every SL_DP_WAIT_TICK_MS so
 * that a long wait (a large policy compiling) does not starve the
 * daemon's watchdog.
 */
static int drain(struct sl_dplink *l, char *err, size_t errlen)
{
	struct pollfd p;
	int64_t now, left;
	int rc;

	while (l->busy) {
		now = sl_now_ms();
		rc = sl_dplink_poll(l, now);
		if (rc < 0) {
			snprintf(err, errlen, "%s", l->why);
			return rc;
		}
		if (!l->busy)
			break;
		if (l->on_wait)
			l->on_wait(l->ctx);
		left = l->deadline_ms > now ? l->deadline_ms - now : 0;
		p = (struct pollfd){ .fd = l->fd, .events = POLLIN };
		rc = poll(&p, 1, (int)(left < SL_DP_WAIT_TICK_MS ? left : SL_DP_WAIT_TICK_MS));
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			sl_dplink_drop(l, sl_now_ms(), "poll: %s", strerror(-rc));
			snprintf(err, errlen, "%s", l->why);
			return rc;
		}
	}
	return 0;
}

/* Accepts a connected link; a blocking round trip, as a request in flight. */
int sl_dplink_call(struct sl_dplink *l, const char *cmd, json_t *args,
		   int timeout_ms, struct sl_ctl_reply *rep, char *err,
		   size_t errlen)
{
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->id = -1;
	if (l->fd < 0) {
		json_decref(args);
		snprintf(err, errlen, "the dataplane is not connected: %s", l->why);
		return -ENOTCONN;
	}
	rc = drain(l, err, errlen);
	if (rc) {
		json_decref(args);
		return rc;
	}
	rc = sl_dplink_send(l, cmd, args, sl_now_ms(), timeout_ms);
	if (rc) {
		snprintf(err, errlen, "%s", l->why);
		return rc;
	}
	l->sync_out = rep;	/* deliver() hands the reply here */
	rc = drain(l, err, errlen);
	l->sync_out = NULL;
	return rc;
}
