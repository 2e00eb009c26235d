/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol: framing, messages, sockets and the server loop
 * described in ctlproto.h and docs/protocol.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ctlproto.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59	/* Linux 4.13; older headers lack the name */
#endif

#define RX_ALLOC_MIN	4096		/* first buffer for a message body */
#define RX_KEEP_MAX	(64u << 10)	/* larger buffers are freed after use */
#define ACCEPT_BURST	(2 * SL_CTL_CLIENTS_MAX)	/* per poll round */
#define ACCEPT_PAUSE_MS	100		/* after running out of fds */
#define LISTEN_BACKLOG	(2 * SL_CTL_CLIENTS_MAX)
#define STALE_PROBE_MS	200		/* connect test on an existing socket */
#define REPLY_MSG_MAX	1024		/* error message of a reply */

/* ---- Small helpers --------------------------------------------------- */

static sl_ctl_log_fn log_fn;

/* Set the log hook; NULL silences the library. */
void sl_ctl_set_log(sl_ctl_log_fn fn)
{
	log_fn = fn;
}

/* Format a message for the log hook, if there is one. */
__attribute__((format(printf, 2, 3)))
static void ctl_log(int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(prio, msg);
}

/* Format into err (may be NULL or empty) and return rc. */
__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline timeout_ms from now; -1 (never) for a negative timeout. */
static int64_t deadline_in(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* poll() timeout until deadline: -1 for none, 0 when past. */
static int ms_left(int64_t deadline)
{
	int64_t d;

	if (deadline < 0)
		return -1;
	d = deadline - now_ms();
	if (d < 0)
		return 0;
	return d > INT_MAX ? INT_MAX : (int)d;
}

/* Wait until fd is ready for events or deadline passes: 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&p, 1, ms_left(deadline));
		if (r > 0)
			return 0;	/* errors and hangups show in the next I/O */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* ---- Framing --------------------------------------------------------- */

/* Prepare an empty reader accepting messages up to SL_CTL_MSG_MAX. */
void sl_ctl_rx_init(struct sl_ctl_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = SL_CTL_MSG_MAX;
}

/* Free the reader's buffer; it can be initialised again. */
void sl_ctl_rx_free(struct sl_ctl_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->cap = 0;
	rx->hdr_got = rx->got = rx->len = 0;
}

/* Is a whole message buffered? */
static bool rx_complete(const struct sl_ctl_rx *rx)
{
	return rx->hdr_got == SL_CTL_HDR_LEN && rx->len && rx->got == rx->len;
}

/* True once part of a message (even one header byte) has arrived. */
bool sl_ctl_rx_started(const struct sl_ctl_rx *rx)
{
	return rx->hdr_got > 0;
}

/* Drop the complete message and get ready for the next frame. */
void sl_ctl_rx_next(struct sl_ctl_rx *rx)
{
	rx->hdr_got = rx->got = rx->len = 0;
	/* An idle client keeps a small buffer, not its largest message. */
	if (rx->cap > RX_KEEP_MAX) {
		free(rx->buf);
		rx->buf = NULL;
		rx->cap = 0;
	}
}

/*
 * Where the next bytes of the frame go (*dst) and how many the frame
 * still needs that fit there (*n); the body buffer grows by doubling
 * as it fills, never past the announced length plus the NUL.
 */
static int rx_space(struct sl_ctl_rx *rx, uint8_t **dst, size_t *n)
{
	size_t want, cap;
	char *buf;

	if (rx->hdr_got < SL_CTL_HDR_LEN) {
		*dst = rx->hdr + rx->hdr_got;
		*n = SL_CTL_HDR_LEN - rx->hdr_got;
		return 0;
	}
	want = (size_t)rx->len + 1;
	if (rx->cap < want && rx->got + 1 >= rx->cap) {
		cap = rx->cap ? rx->cap * 2 : RX_ALLOC_MIN;
		if (cap > want)
			cap = want;
		buf = realloc(rx->buf, cap);
		if (!buf)
			return -ENOMEM;
		rx->buf = buf;
		rx->cap = cap;
	}
	*dst = (uint8_t *)rx->buf + rx->got;
	*n = rx->len - rx->got;
	if (*n > rx->cap - 1 - rx->got)
		*n = rx->cap - 1 - rx->got;
	return 0;
}

/* Account for n bytes stored where rx_space() said: 1 when complete. */
static int rx_commit(struct sl_ctl_rx *rx, size_t n)
{
	if (rx->hdr_got < SL_CTL_HDR_LEN) {
		rx->hdr_got += (uint32_t)n;
		if (rx->hdr_got < SL_CTL_HDR_LEN)
			return 0;
		rx->len = (uint32_t)rx->hdr[0] << 24 | (uint32_t)rx->hdr[1] << 16 |
			  (uint32_t)rx->hdr[2] << 8 | rx->hdr[3];
		if (rx->len == 0)
			return rx->err = -EINVAL;
		if (rx->len > rx->max)
			return rx->err = -E2BIG;
		return 0;
	}
	rx->got += (uint32_t)n;
	if (rx->got < rx->len)
		return 0;
	rx->buf[rx->len] = '\0';
	return 1;
}

/* Feed from memory: stops after a complete message, *used = bytes taken. */
int sl_ctl_rx_feed_mem(struct sl_ctl_rx *rx, const void *data, size_t len,
		       size_t *used)
{
	const uint8_t *p = data;
	size_t off = 0, n;
	uint8_t *dst;
	int rc = 0;

	*used = 0;
	if (rx->err)
		return rx->err;
	if (rx_complete(rx))
		return 1;
	while (off < len) {
		rc = rx_space(rx, &dst, &n);
		if (rc < 0)
			break;
		if (n > len - off)
			n = len - off;
		memcpy(dst, p + off, n);
		off += n;
		rc = rx_commit(rx, n);
		if (rc != 0)
			break;
	}
	*used = off;
	return rc;
}

/* Feed from a socket without blocking: 1 complete, 0 more, -errno. */
int sl_ctl_rx_feed(struct sl_ctl_rx *rx, int fd)
{
	uint8_t *dst;
	ssize_t r;
	size_t n;
	int rc;

	if (rx->err)
		return rx->err;
	if (rx_complete(rx))
		return 1;
	for (;;) {
		rc = rx_space(rx, &dst, &n);
		if (rc < 0)
			return rc;
		/* Exactly what this frame still needs: the next frame stays queued. */
		r = recv(fd, dst, n, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			rx->err = errno == ECONNRESET || errno == EPIPE ?
				  -ECONNRESET : -EIO;
			return rx->err;
		}
		if (r == 0)
			return rx->err = -ECONNRESET;
		rc = rx_commit(rx, (size_t)r);
		if (rc != 0)
			return rc;
	}
}

/* Encode msg as one frame in a new buffer: 0, -E2BIG, -EINVAL or -ENOMEM. */
static int frame_encode(json_t *msg, char **frame, size_t *framelen)
{
	size_t n = json_dumpb(msg, NULL, 0, JSON_COMPACT);
	char *buf;

	if (n == 0)
		return -EINVAL;
	if (n > SL_CTL_MSG_MAX)
		return -E2BIG;
	buf = malloc(SL_CTL_HDR_LEN + n);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(msg, buf + SL_CTL_HDR_LEN, n, JSON_COMPACT) != n) {
		free(buf);
		return -EINVAL;
	}
	buf[0] = (char)(n >> 24);
	buf[1] = (char)(n >> 16);
	buf[2] = (char)(n >> 8);
	buf[3] = (char)n;
	*frame = buf;
	*framelen = SL_CTL_HDR_LEN + n;
	return 0;
}

/* Send all of p before deadline: 0, -ETIMEDOUT, -EPIPE or -EIO. */
static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	ssize_t r;
	int rc;

	while (len) {
		r = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE || errno == ECONNRESET ? -EPIPE : -EIO;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

/* Send msg as one frame within timeout_ms. */
int sl_ctl_send(int fd, json_t *msg, int timeout_ms)
{
	int64_t deadline = deadline_in(timeout_ms);
	size_t len;
	char *frame;
	int rc;

	rc = frame_encode(msg, &frame, &len);
	if (rc)
		return rc;
	rc = send_all(fd, frame, len, deadline);
	free(frame);
	return rc;
}

static int decode_object(const char *buf, size_t len, json_t **out,
			 char *err, size_t errlen);

/* Receive one frame within timeout_ms as a JSON object. */
int sl_ctl_recv(int fd, json_t **msg, int timeout_ms)
{
	int64_t deadline = deadline_in(timeout_ms);
	struct sl_ctl_rx rx;
	int rc;

	*msg = NULL;
	sl_ctl_rx_init(&rx);
	while ((rc = sl_ctl_rx_feed(&rx, fd)) == 0) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc)
			break;
	}
	if (rc == 1)
		rc = decode_object(rx.buf, rx.len, msg, NULL, 0) ? -EBADMSG : 0;
	sl_ctl_rx_free(&rx);
	return rc;
}

/* ---- Messages -------------------------------------------------------- */

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EPERM, "EPERM" },		{ ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" },		{ EINTR, "EINTR" },
	{ EIO, "EIO" },			{ E2BIG, "E2BIG" },
	{ EBADF, "EBADF" },		{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },		{ EACCES, "EACCES" },
	{ EBUSY, "EBUSY" },		{ EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" },		{ ENOTDIR, "ENOTDIR" },
	{ EISDIR, "EISDIR" },		{ EINVAL, "EINVAL" },
	{ ENOSPC, "ENOSPC" },		{ EROFS, "EROFS" },
	{ EPIPE, "EPIPE" },		{ ERANGE, "ERANGE" },
	{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
	{ ENODATA, "ENODATA" },		{ EPROTO, "EPROTO" },
	{ EBADMSG, "EBADMSG" },		{ EOVERFLOW, "EOVERFLOW" },
	{ ENOTSOCK, "ENOTSOCK" },	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ EADDRINUSE, "EADDRINUSE" },	{ ECONNRESET, "ECONNRESET" },
	{ ENOTCONN, "ENOTCONN" },	{ ETIMEDOUT, "ETIMEDOUT" },
	{ ECONNREFUSED, "ECONNREFUSED" }, { EALREADY, "EALREADY" },
	{ EINPROGRESS, "EINPROGRESS" },	{ ESTALE, "ESTALE" },
	{ ECANCELED, "ECANCELED" },
};

/* Errno name for err (sign ignored); "EIO" if unknown. */
const char *sl_ctl_errno_name(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return "EIO";
}

/* Positive errno for an errno name, or 0 if unknown. */
int sl_ctl_errno_value(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strcmp(errno_names[i].name, name) == 0)
			return errno_names[i].err;
	return 0;
}

/* True when j nests containers deeper than SL_CTL_DEPTH_MAX; j is at depth. */
static bool too_deep(json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(j) && !json_is_array(j))
		return false;
	if (depth > SL_CTL_DEPTH_MAX)
		return true;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			if (too_deep(v, depth + 1))
				return true;
	} else {
		json_array_foreach(j, i, v)
			if (too_deep(v, depth + 1))
				return true;
	}
	return false;
}

/*
 * Decode buf as one JSON object without duplicate keys and within the
 * nesting limit (jansson 2.14 only has a compile-time limit of 2048,
 * so the tree is walked). *out gets a new reference. 0 or -EINVAL.
 */
static int decode_object(const char *buf, size_t len, json_t **out,
			 char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return fail(-EINVAL, err, errlen, "not valid JSON: %s at byte %d",
			    je.text, je.position);
	if (!json_is_object(j)) {
		json_decref(j);
		return fail(-EINVAL, err, errlen, "not a JSON object");
	}
	if (too_deep(j, 1)) {
		json_decref(j);
		return fail(-EINVAL, err, errlen, "JSON nested deeper than %d levels",
			    SL_CTL_DEPTH_MAX);
	}
	*out = j;
	return 0;
}

/* Is cmd[0..len) a command name: 1..SL_CTL_CMD_MAX-1 of [a-z.]? */
static bool cmd_valid(const char *cmd, size_t len)
{
	size_t i;

	if (len == 0 || len >= SL_CTL_CMD_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((cmd[i] >= 'a' && cmd[i] <= 'z') || cmd[i] == '.'))
			return false;
	return true;
}

/* Is j an integer id in 0..SL_CTL_ID_MAX? */
static bool id_valid(const json_t *j)
{
	json_int_t v;

	if (!json_is_integer(j))
		return false;
	v = json_integer_value(j);
	return v >= 0 && v <= SL_CTL_ID_MAX;
}

/* New request {"v":1,"id":id,"cmd":cmd[,"args":args]}; steals args. */
json_t *sl_ctl_request(int64_t id, const char *cmd, json_t *args)
{
	json_t *m;

	if (id < 0 || id > SL_CTL_ID_MAX || !cmd || !cmd_valid(cmd, strlen(cmd)) ||
	    (args && !json_is_object(args)))
		goto drop_args;
	m = json_pack("{s:i,s:I,s:s}", "v", SL_CTL_VERSION, "id", (json_int_t)id,
		      "cmd", cmd);
	if (!m)
		goto drop_args;
	if (args && json_object_set_new(m, "args", args)) {
		json_decref(m);
		return NULL;
	}
	return m;
drop_args:
	json_decref(args);
	return NULL;
}

/* New reply skeleton {"v":1,"id":id or null,"ok":ok}. */
static json_t *reply_new(int64_t id, bool ok)
{
	json_t *jid = id < 0 || id > SL_CTL_ID_MAX ? json_null() :
		      json_integer((json_int_t)id);

	return json_pack("{s:i,s:o,s:b}", "v", SL_CTL_VERSION, "id", jid, "ok", ok);
}

/* New success reply for request id; steals result (an object or NULL). */
json_t *sl_ctl_reply_ok(int64_t id, json_t *result)
{
	json_t *m;

	if (!result)
		result = json_object();
	if (!json_is_object(result))
		goto drop_result;
	m = reply_new(id, true);
	if (!m)
		goto drop_result;
	if (json_object_set_new(m, "result", result)) {
		json_decref(m);
		return NULL;
	}
	return m;
drop_result:
	json_decref(result);
	return NULL;
}

/* A JSON string of msg; bytes that are not valid UTF-8 become '?'. */
static json_t *safe_string(char *msg)
{
	json_t *s = json_string(msg);
	char *p;

	if (s)
		return s;
	/* Messages quote peer input, and truncation can split a character. */
	for (p = msg; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(msg);
}

/* Error reply with an already formatted message. */
static json_t *reply_verr(int64_t id, const char *code, const char *fmt,
			  va_list ap)
{
	char msg[REPLY_MSG_MAX];
	json_t *m, *e;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	m = reply_new(id, false);
	if (!m)
		return NULL;
	e = json_pack("{s:s,s:o}", "code", code ? code : "EIO",
		      "message", safe_string(msg));
	if (!e || json_object_set_new(m, "error", e)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* New error reply for request id with errno name code. */
json_t *sl_ctl_reply_err(int64_t id, const char *code, const char *fmt, ...)
{
	va_list ap;
	json_t *m;

	va_start(ap, fmt);
	m = reply_verr(id, code, fmt, ap);
	va_end(ap);
	return m;
}

/* New error reply for request id with errno value err. */
json_t *sl_ctl_reply_errno(int64_t id, int err, const char *fmt, ...)
{
	va_list ap;
	json_t *m;

	va_start(ap, fmt);
	m = reply_verr(id, sl_ctl_errno_name(err), fmt, ap);
	va_end(ap);
	return m;
}

/* Check the "v" member of msg: 0, -EPROTO or bad (-EINVAL/-EBADMSG). */
static int check_version(json_t *msg, int bad, const char *who,
			 char *err, size_t errlen)
{
	json_t *v = json_object_get(msg, "v");

	if (!v)
		return fail(bad, err, errlen, "missing field 'v' (the protocol version)");
	if (!json_is_integer(v))
		return fail(bad, err, errlen, "field 'v' must be an integer");
	if (json_integer_value(v) != SL_CTL_VERSION)
		return fail(-EPROTO, err, errlen,
			    "protocol version %" JSON_INTEGER_FORMAT " not supported: %s speaks version %d",
			    json_integer_value(v), who, SL_CTL_VERSION);
	return 0;
}

/* Check "cmd" and copy it to out: 0 or -EINVAL. */
static int check_cmd(json_t *msg, struct sl_ctl_req *out, char *err, size_t errlen)
{
	json_t *c = json_object_get(msg, "cmd");
	size_t len;

	if (!c)
		return fail(-EINVAL, err, errlen, "missing field 'cmd'");
	if (!json_is_string(c))
		return fail(-EINVAL, err, errlen, "field 'cmd' must be a string");
	len = json_string_length(c);
	if (len == 0)
		return fail(-EINVAL, err, errlen, "field 'cmd' is empty");
	if (len >= SL_CTL_CMD_MAX)
		return fail(-EINVAL, err, errlen, "field 'cmd' is longer than %d bytes",
			    SL_CTL_CMD_MAX - 1);
	if (!cmd_valid(json_string_value(c), len))
		return fail(-EINVAL, err, errlen,
			    "field 'cmd' must be made of a-z and '.', like \"policy.apply\"");
	memcpy(out->cmd, json_string_value(c), len + 1);
	return 0;
}

/* Reject members a version 1 request does not have: 0 or -EINVAL. */
static int check_members(json_t *msg, char *err, size_t errlen)
{
	static const char *const known[] = { "v", "id", "cmd", "args" };
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(msg, key, val) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return fail(-EINVAL, err, errlen, "unknown field '%.64s'", key);
	}
	return 0;
}

/* Validate buf[0..len) as a version 1 request. */
int sl_ctl_req_parse(const char *buf, size_t len, struct sl_ctl_req *out,
		     char *err, size_t errlen)
{
	json_t *root, *id, *args;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	out->uid = (uid_t)-1;
	if (err && errlen)
		err[0] = '\0';
	rc = decode_object(buf, len, &root, err, errlen);
	if (rc)
		return rc;
	/* The id first, so that even a refusal can name the request. */
	id = json_object_get(root, "id");
	if (id_valid(id))
		out->id = json_integer_value(id);
	/* The version next: another version may have other fields. */
	rc = check_version(root, -EINVAL, "this end", err, errlen);
	if (rc)
		goto drop_root;
	rc = -EINVAL;
	if (!id) {
		fail(rc, err, errlen, "missing field 'id'");
		goto drop_root;
	}
	if (!json_is_integer(id)) {
		fail(rc, err, errlen, "field 'id' must be an integer");
		goto drop_root;
	}
	if (out->id < 0) {
		fail(rc, err, errlen, "field 'id' must be 0..%" PRId64, SL_CTL_ID_MAX);
		goto drop_root;
	}
	rc = check_cmd(root, out, err, errlen);
	if (rc)
		goto drop_root;
	args = json_object_get(root, "args");
	if (args && !json_is_object(args)) {
		rc = fail(-EINVAL, err, errlen, "field 'args' must be an object");
		goto drop_root;
	}
	rc = check_members(root, err, errlen);
	if (rc)
		goto drop_root;
	out->args = args;
	out->root = root;
	return 0;
drop_root:
	json_decref(root);
	out->cmd[0] = '\0';
	return rc;
}

/* Drop what sl_ctl_req_parse() filled in. */
void sl_ctl_req_release(struct sl_ctl_req *req)
{
	json_decref(req->root);
	req->root = NULL;
	req->args = NULL;
}

/* Fill out from reply msg (borrowed): 0, -EPROTO or -EBADMSG. */
static int reply_fill(json_t *msg, struct sl_ctl_reply *out, char *err,
		      size_t errlen)
{
	json_t *id, *ok, *code, *text;
	int rc;

	rc = check_version(msg, -EBADMSG, "the server", err, errlen);
	if (rc)
		return rc;
	id = json_object_get(msg, "id");
	if (id_valid(id))
		out->id = json_integer_value(id);
	else if (!json_is_null(id))
		return fail(-EBADMSG, err, errlen, "reply field 'id' must be 0..%" PRId64 " or null",
			    SL_CTL_ID_MAX);
	ok = json_object_get(msg, "ok");
	if (!json_is_boolean(ok))
		return fail(-EBADMSG, err, errlen, "reply field 'ok' must be true or false");
	out->ok = json_is_true(ok);
	if (out->ok) {
		out->result = json_object_get(msg, "result");
		if (!json_is_object(out->result))
			return fail(-EBADMSG, err, errlen, "reply field 'result' must be an object");
		return 0;
	}
	out->error = json_object_get(msg, "error");
	code = json_object_get(out->error, "code");
	text = json_object_get(out->error, "message");
	if (!json_is_object(out->error) || !json_is_string(code) || !json_is_string(text))
		return fail(-EBADMSG, err, errlen,
			    "reply field 'error' must be an object with strings 'code' and 'message'");
	out->code = json_string_value(code);
	out->message = json_string_value(text);
	return 0;
}

/* Validate a decoded reply; takes a reference to msg on success. */
int sl_ctl_reply_check(json_t *msg, struct sl_ctl_reply *out,
		       char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	if (err && errlen)
		err[0] = '\0';
	if (!json_is_object(msg))
		return fail(-EBADMSG, err, errlen, "reply is not a JSON object");
	if (too_deep(msg, 1))
		return fail(-EBADMSG, err, errlen, "reply nested deeper than %d levels",
			    SL_CTL_DEPTH_MAX);
	rc = reply_fill(msg, out, err, errlen);
	if (rc) {
		memset(out, 0, sizeof(*out));
		out->id = -1;
		return rc;
	}
	out->root = json_incref(msg);
	return 0;
}

/* Validate buf[0..len) as a version 1 reply. */
int sl_ctl_reply_parse(const char *buf, size_t len, struct sl_ctl_reply *out,
		       char *err, size_t errlen)
{
	json_t *msg;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	if (decode_object(buf, len, &msg, err, errlen))
		return -EBADMSG;
	rc = sl_ctl_reply_check(msg, out, err, errlen);
	json_decref(msg);
	return rc;
}

/* Drop what sl_ctl_reply_parse() filled in. */
void sl_ctl_reply_release(struct sl_ctl_reply *rep)
{
	json_decref(rep->root);
	memset(rep, 0, sizeof(*rep));
	rep->id = -1;
}

/* One round trip: request cmd with args (stolen), wait for its reply. */
int sl_ctl_call(int fd, const char *cmd, json_t *args, int timeout_ms,
		struct sl_ctl_reply *out, char *err, size_t errlen)
{
	static int64_t next_id;
	int64_t deadline = deadline_in(timeout_ms), id;
	json_t *req, *msg;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	id = next_id++ & (SL_CTL_ID_MAX - 1);
	req = sl_ctl_request(id, cmd, args);
	if (!req)
		return fail(-EINVAL, err, errlen, "cannot build a request for '%s'",
			    cmd ? cmd : "(null)");
	rc = sl_ctl_send(fd, req, timeout_ms);
	json_decref(req);
	if (rc == -EPIPE && sl_ctl_recv(fd, &msg, 0) == 0) {
		/* Turned away at accept (EPERM, EBUSY): the reason is queued. */
		rc = sl_ctl_reply_check(msg, out, err, errlen);
		json_decref(msg);
		if (rc == 0 && !out->ok && out->id < 0)
			return 0;
		sl_ctl_reply_release(out);
		rc = -EPIPE;
	}
	if (rc)
		return fail(rc, err, errlen, "sending '%s': %s", cmd, strerror(-rc));
	for (;;) {
		rc = sl_ctl_recv(fd, &msg, ms_left(deadline));
		if (rc)
			return fail(rc, err, errlen, "waiting for the reply to '%s': %s",
				    cmd, strerror(-rc));
		rc = sl_ctl_reply_check(msg, out, err, errlen);
		json_decref(msg);
		if (rc)
			return rc;
		/* An error without id is the server refusing what we sent. */
		if (out->id == id || (out->id < 0 && !out->ok))
			return 0;
		/* A late reply to an earlier call that gave up waiting. */
		sl_ctl_reply_release(out);
	}
}

/* ---- Sockets --------------------------------------------------------- */

/* Fill a sockaddr_un for path: 0 or -ENAMETOOLONG / -EINVAL. */
static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* Connect to the socket at path within timeout_ms. */
int sl_ctl_connect(const char *path, int timeout_ms)
{
	struct timeval tv = { 0 };
	struct sockaddr_un sa;
	int fd, rc;

	rc = fill_addr(&sa, path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix connect waits for room in the backlog for SO_SNDTIMEO. */
	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		if (timeout_ms == 0)
			tv.tv_usec = 1;	/* 0 would mean forever */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		rc = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		return rc;
	}
	tv = (struct timeval){ 0 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Look up group: 0 with *gid, (gid_t)-1 when it does not exist. */
static int resolve_group(const char *group, gid_t *gid)
{
	size_t len = 1024;
	struct group gr, *res;
	char *buf = NULL, *nbuf;
	int rc;

	*gid = (gid_t)-1;
	for (;;) {
		nbuf = realloc(buf, len);
		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		rc = getgrnam_r(group, &gr, buf, len, &res);
		if (rc != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	if (rc == 0 && res)
		*gid = gr.gr_gid;
	else if (rc)
		ctl_log(LOG_WARNING, "looking up group '%s': %s", group, strerror(rc));
	free(buf);
	return 0;
}

/* Remove a socket file at path that nobody listens on. */
static int clear_stale(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	fd = sl_ctl_connect(path, STALE_PROBE_MS);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -ETIMEDOUT)
		return -EADDRINUSE;	/* alive, only busy */
	if (fd != -ECONNREFUSED)
		return fd;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	ctl_log(LOG_INFO, "%s: removed a stale socket nobody listened on", path);
	return 0;
}

/* Give the bound socket file at path mode 0660 and group gid. */
static int set_owner(const char *path, const char *group, gid_t gid)
{
	struct stat st;
	int err;

	if (chmod(path, 0660) < 0)
		return -errno;
	if (gid != (gid_t)-1) {
		if (chown(path, (uid_t)-1, gid) < 0) {
			err = errno;
			ctl_log(LOG_ERR, "%s: cannot give the socket to group '%s': %s",
				path, group, strerror(err));
			return -err;
		}
		return 0;
	}
	if (group && stat(path, &st) == 0)
		ctl_log(LOG_WARNING, "%s: group '%s' does not exist; the socket keeps group %u",
			path, group, (unsigned int)st.st_gid);
	return 0;
}

/* Listening socket at path, mode 0660, group group. */
int sl_ctl_listen(const char *path, const char *group, gid_t *gidp)
{
	gid_t gid = (gid_t)-1;
	struct sockaddr_un sa;
	int fd, rc;

	rc = fill_addr(&sa, path);
	if (rc)
		return rc;
	if (group) {
		rc = resolve_group(group, &gid);
		if (rc)
			return rc;
	}
	rc = clear_stale(path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto close_fd;
	}
	/*
	 * Mode and group before listen(): until then every connect is
	 * refused, so no peer ever sees the umask's mode.
	 */
	rc = set_owner(path, group, gid);
	if (rc)
		goto unlink_path;
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		goto unlink_path;
	}
	if (gidp)
		*gidp = gid;
	return fd;
unlink_path:
	unlink(path);
close_fd:
	close(fd);
	return rc;
}

/* Is gid among the supplementary groups of process pid (/proc)? */
int sl_ctl_proc_in_group(pid_t pid, gid_t gid)
{
	char path[64], *line = NULL, *p, *end;
	size_t cap = 0;
	unsigned long v;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; !found; p = end) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p < '0' || *p > '9')
				break;
			v = strtoul(p, &end, 10);
			found = v == gid;
		}
		break;
	}
	free(line);
	fclose(f);
	return found;
}

/* Is gid among the supplementary groups of the peer of fd? 1, 0, -errno. */
static int peer_in_group(int fd, pid_t pid, gid_t gid)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	int rc = 0;
	size_t i;

	/* SO_PEERGROUPS: the groups at connect time, no race on the pid. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno == ENOPROTOOPT)
			return sl_ctl_proc_in_group(pid, gid);
		if (errno != ERANGE)
			return -errno;
		g = malloc(len);
		if (!g)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
			rc = -errno;
			goto free_groups;
		}
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (g[i] == gid)
			rc = 1;
free_groups:
	if (g != small)
		free(g);
	return rc;
}

/* May the peer of fd use the socket? 0, -EPERM or -errno. */
int sl_ctl_peer_check(int fd, gid_t group, char *who, size_t len,
		      uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	int rc;

	if (who && len)
		snprintf(who, len, "unknown peer");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return -errno;
	if (who && len)
		snprintf(who, len, "uid %u pid %d", (unsigned int)cr.uid, (int)cr.pid);
	if (uid)
		*uid = cr.uid;
	if (pid)
		*pid = cr.pid;
	if (cr.uid == 0 || cr.uid == geteuid())
		return 0;
	if (group == (gid_t)-1)
		return -EPERM;
	if (cr.gid == group)
		return 0;
	rc = peer_in_group(fd, cr.pid, group);
	if (rc < 0)
		ctl_log(LOG_WARNING, "reading the groups of uid %u pid %d: %s",
			(unsigned int)cr.uid, (int)cr.pid, strerror(-rc));
	return rc > 0 ? 0 : -EPERM;
}

/* ---- Server ---------------------------------------------------------- */

struct ctl_client {
	int fd;			/* -1 once closed */
	uid_t uid;
	pid_t pid;
	char who[SL_CTL_WHO_MAX];
	struct sl_ctl_rx rx;
	int64_t last_ms;	/* last byte in or out: the idle clock */
	int64_t msg_ms;		/* first byte of the message being read */
	char *out;		/* framed reply not yet all sent */
	size_t out_len;
	size_t out_off;
	int64_t out_ms;		/* when the reply was queued */
};

struct sl_ctl_server {
	int fd;
	gid_t gid;
	dev_t dev;		/* of the socket file, to unlink only ours */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	sl_ctl_handler_fn fn;
	void *ctx;
	int read_ms;
	int idle_ms;
	int send_ms;
	int64_t accept_ms;	/* accept nothing before this (out of fds) */
	unsigned int n;
	struct ctl_client cl[SL_CTL_CLIENTS_MAX];
	struct pollfd pfd[1 + SL_CTL_CLIENTS_MAX];
};

/* Send a short error reply without waiting; for peers being let go. */
static void send_parting(int fd, int err, const char *msg)
{
	json_t *r = sl_ctl_reply_errno(-1, err, "%s", msg);
	size_t len;
	char *frame;

	/* A few hundred bytes fit any socket buffer that is not full. */
	if (r && frame_encode(r, &frame, &len) == 0) {
		(void)send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(frame);
	}
	json_decref(r);
}

/* Close client c, after a parting error reply when err is not 0. */
static void client_close(struct sl_ctl_server *srv, struct ctl_client *c,
			 int err, const char *why)
{
	/* Never in the middle of a reply: the frame would be corrupt. */
	if (err && !c->out)
		send_parting(c->fd, err, why);
	if (why)
		ctl_log(err ? LOG_WARNING : LOG_INFO, "%s: closed %s: %s",
			srv->path, c->who, why);
	close(c->fd);
	c->fd = -1;
	sl_ctl_rx_free(&c->rx);
	free(c->out);
	c->out = NULL;
}

/* Write what c's reply still has; close c if it is gone. */
static void client_flush(struct sl_ctl_server *srv, struct ctl_client *c)
{
	ssize_t r;

	while (c->out_off < c->out_len) {
		r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			c->out_off += (size_t)r;
			c->last_ms = now_ms();
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(srv, c, 0, NULL);	/* it hung up before the reply */
		return;
	}
	free(c->out);
	c->out = NULL;
}

/* Frame reply (taken) as c's pending output and start writing it. */
static void client_queue(struct sl_ctl_server *srv, struct ctl_client *c,
			 json_t *reply, int64_t id)
{
	int rc = reply ? frame_encode(reply, &c->out, &c->out_len) : -ENOMEM;

	json_decref(reply);
	if (rc == -E2BIG)
		reply = sl_ctl_reply_err(id, "E2BIG", "reply exceeds the limit of %u bytes",
					 SL_CTL_MSG_MAX);
	else if (rc)
		reply = sl_ctl_reply_err(id, "EIO", "reply could not be encoded: %s",
					 strerror(-rc));
	if (rc) {
		rc = reply ? frame_encode(reply, &c->out, &c->out_len) : -ENOMEM;
		json_decref(reply);
	}
	if (rc) {
		client_close(srv, c, 0, "out of memory for a reply");
		return;
	}
	c->out_off = 0;
	c->out_ms = now_ms();
	client_flush(srv, c);
}

/*
 * Make the handler's reply whole (an object with "v" and "id") and
 * valid, so that no client ever gets a reply it must refuse.
 */
static json_t *reply_complete(json_t *reply, const struct sl_ctl_req *req)
{
	char err[SL_CTL_ERR_MAX] = "";
	struct sl_ctl_reply rep = { 0 };
	int rc;

	if (!json_is_object(reply)) {
		json_decref(reply);
		return sl_ctl_reply_err(req->id, "EIO", "command '%s' failed without a reply",
					req->cmd);
	}
	if (!json_object_get(reply, "v"))
		json_object_set_new(reply, "v", json_integer(SL_CTL_VERSION));
	if (!json_object_get(reply, "id"))
		json_object_set_new(reply, "id", json_integer(req->id));
	rc = reply_fill(reply, &rep, err, sizeof(err));
	if (rc == 0 && too_deep(reply, 1))
		rc = fail(-EINVAL, err, sizeof(err), "nested deeper than %d levels",
			  SL_CTL_DEPTH_MAX);
	if (rc == 0)
		return reply;
	json_decref(reply);
	return sl_ctl_reply_err(req->id, "EIO", "command '%s' made an invalid reply: %s",
				req->cmd, err);
}

/* Validate c's complete message, run the handler, queue the reply. */
static void client_dispatch(struct sl_ctl_server *srv, struct ctl_client *c)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_req req;
	json_t *reply;
	int rc;

	rc = sl_ctl_req_parse(c->rx.buf, c->rx.len, &req, err, sizeof(err));
	if (rc < 0) {
		reply = sl_ctl_reply_errno(req.id, rc, "%s", err);
	} else {
		req.uid = c->uid;
		req.pid = c->pid;
		reply = reply_complete(srv->fn(srv->ctx, &req), &req);
		sl_ctl_req_release(&req);
	}
	sl_ctl_rx_next(&c->rx);
	client_queue(srv, c, reply, req.id);
}

/* Read from c; 1 when a request was handled. */
static int client_read(struct sl_ctl_server *srv, struct ctl_client *c)
{
	size_t before = c->rx.hdr_got + c->rx.got;
	char why[96];
	int rc;

	rc = sl_ctl_rx_feed(&c->rx, c->fd);
	if (c->rx.hdr_got + c->rx.got != before) {
		c->last_ms = now_ms();
		if (before == 0)
			c->msg_ms = c->last_ms;
	}
	switch (rc) {
	case 0:
		return 0;
	case 1:
		client_dispatch(srv, c);
		return 1;
	case -E2BIG:
		snprintf(why, sizeof(why), "message of %u bytes exceeds the limit of %u",
			 c->rx.len, c->rx.max);
		client_close(srv, c, E2BIG, why);
		return 0;
	case -EINVAL:
		client_close(srv, c, EINVAL, "empty message (length 0)");
		return 0;
	case -ECONNRESET:
		client_close(srv, c, 0, sl_ctl_rx_started(&c->rx) ?
			     "hung up in the middle of a message" : NULL);
		return 0;
	default:
		client_close(srv, c, 0, strerror(-rc));
		return 0;
	}
}

/* When c breaks a bound unless something happens first. */
static int64_t client_deadline(const struct sl_ctl_server *srv,
			       const struct ctl_client *c)
{
	if (c->out)
		return c->out_ms + srv->send_ms;
	if (sl_ctl_rx_started(&c->rx))
		return c->msg_ms + srv->read_ms;
	return c->last_ms + srv->idle_ms;
}

/* Close c if its deadline has passed. */
static void client_expire(struct sl_ctl_server *srv, struct ctl_client *c,
			  int64_t now)
{
	char why[96];

	if (now < client_deadline(srv, c))
		return;
	if (c->out) {
		snprintf(why, sizeof(why), "reply not read within %d ms", srv->send_ms);
		client_close(srv, c, 0, why);
	} else if (sl_ctl_rx_started(&c->rx)) {
		snprintf(why, sizeof(why), "message not complete within %d ms",
			 srv->read_ms);
		client_close(srv, c, ETIMEDOUT, why);
	} else {
		snprintf(why, sizeof(why), "idle for %d ms", srv->idle_ms);
		client_close(srv, c, 0, why);
	}
}

/* Take one accepted connection as a client, or refuse it. */
static void client_add(struct sl_ctl_server *srv, int fd)
{
	struct ctl_client *c;
	char who[SL_CTL_WHO_MAX], msg[160];
	uid_t uid;
	pid_t pid;
	int rc;

	rc = sl_ctl_peer_check(fd, srv->gid, who, sizeof(who), &uid, &pid);
	if (rc) {
		snprintf(msg, sizeof(msg), "%s may not use this socket: %s", who,
			 rc == -EPERM ? "not root, not the server's user, not in its group" :
			 strerror(-rc));
		ctl_log(LOG_WARNING, "%s: refused %s", srv->path, msg);
		send_parting(fd, EPERM, msg);
		close(fd);
		return;
	}
	if (srv->n == SL_CTL_CLIENTS_MAX) {
		snprintf(msg, sizeof(msg), "too many clients (%d); try again later",
			 SL_CTL_CLIENTS_MAX);
		ctl_log(LOG_WARNING, "%s: refused %s: %s", srv->path, who, msg);
		send_parting(fd, EBUSY, msg);
		close(fd);
		return;
	}
	c = &srv->cl[srv->n++];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	memcpy(c->who, who, sizeof(who));
	sl_ctl_rx_init(&c->rx);
	c->last_ms = now_ms();
}

/* Accept what is waiting, a bounded number per round. */
static void accept_some(struct sl_ctl_server *srv)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			client_add(srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* The connection stays queued; do not spin on it. */
			ctl_log(LOG_ERR, "%s: accept: %s", srv->path, strerror(errno));
			srv->accept_ms = now_ms() + ACCEPT_PAUSE_MS;
		}
		return;
	}
}

/* Move the clients still open to the front, in order. */
static void clients_compact(struct sl_ctl_server *srv)
{
	unsigned int i, j = 0;

	for (i = 0; i < srv->n; i++) {
		if (srv->cl[i].fd < 0)
			continue;
		if (i != j)
			srv->cl[j] = srv->cl[i];
		j++;
	}
	srv->n = j;
}

/* Listen at path and serve requests to fn with ctx; NULL + errno. */
struct sl_ctl_server *sl_ctl_server_create(const char *path, const char *group,
					   sl_ctl_handler_fn fn, void *ctx)
{
	struct sl_ctl_server *srv;
	struct stat st;
	int rc;

	if (!path || !fn) {
		errno = EINVAL;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		errno = ENOMEM;
		return NULL;
	}
	if (strlen(path) >= sizeof(srv->path)) {
		rc = -ENAMETOOLONG;
		goto free_srv;
	}
	srv->fd = sl_ctl_listen(path, group, &srv->gid);
	if (srv->fd < 0) {
		rc = srv->fd;
		goto free_srv;
	}
	if (stat(path, &st) < 0) {
		rc = -errno;
		goto close_fd;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	strcpy(srv->path, path);
	srv->fn = fn;
	srv->ctx = ctx;
	srv->read_ms = SL_CTL_READ_TIMEOUT_MS;
	srv->idle_ms = SL_CTL_IDLE_TIMEOUT_MS;
	srv->send_ms = SL_CTL_SEND_TIMEOUT_MS;
	return srv;
close_fd:
	close(srv->fd);
	unlink(path);
free_srv:
	free(srv);
	errno = -rc;
	return NULL;
}

/* Change the timeouts; 0 or less keeps a value. */
void sl_ctl_server_set_timeouts(struct sl_ctl_server *srv, int read_ms,
				int idle_ms, int send_ms)
{
	if (read_ms > 0)
		srv->read_ms = read_ms;
	if (idle_ms > 0)
		srv->idle_ms = idle_ms;
	if (send_ms > 0)
		srv->send_ms = send_ms;
}

/* Wait up to timeout_ms and do all that is due; requests handled or -errno. */
int sl_ctl_server_poll(struct sl_ctl_server *srv, int timeout_ms)
{
	int64_t now = now_ms(), deadline = timeout_ms < 0 ? -1 : now + timeout_ms, d;
	unsigned int i, npoll = srv->n;
	int handled = 0, r;
	short re;

	srv->pfd[0] = (struct pollfd){ .fd = srv->fd, .events = POLLIN };
	if (now < srv->accept_ms) {
		srv->pfd[0].events = 0;
		if (deadline < 0 || srv->accept_ms < deadline)
			deadline = srv->accept_ms;
	}
	for (i = 0; i < npoll; i++) {
		/* One request at a time: no reading while a reply is unsent. */
		srv->pfd[1 + i] = (struct pollfd){ .fd = srv->cl[i].fd,
			.events = srv->cl[i].out ? POLLOUT : POLLIN };
		d = client_deadline(srv, &srv->cl[i]);
		if (deadline < 0 || d < deadline)
			deadline = d;
	}
	r = poll(srv->pfd, npoll + 1, ms_left(deadline));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < npoll; i++) {
		struct ctl_client *c = &srv->cl[i];

		re = srv->pfd[1 + i].revents;
		if (re && c->out)
			client_flush(srv, c);
		else if (re)
			handled += client_read(srv, c);
		if (c->fd >= 0)
			client_expire(srv, c, now_ms());
	}
	clients_compact(srv);
	if (srv->pfd[0].revents & POLLIN)
		accept_some(srv);
	return handled;
}

/* The listening fd. */
int sl_ctl_server_fd(const struct sl_ctl_server *srv)
{
	return srv->fd;
}

/* Clients connected now. */
unsigned int sl_ctl_server_clients(const struct sl_ctl_server *srv)
{
	return srv->n;
}

/* The gid peers are checked against. */
gid_t sl_ctl_server_gid(const struct sl_ctl_server *srv)
{
	return srv->gid;
}

/* Close everything, unlink the socket if still ours, free srv. */
void sl_ctl_server_free(struct sl_ctl_server *srv)
{
	struct stat st;
	unsigned int i;

	if (!srv)
		return;
	for (i = 0; i < srv->n; i++)
		client_close(srv, &srv->cl[i], 0, NULL);
	close(srv->fd);
	/* Another instance may have taken the path over since. */
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}

json_t *sl_ctl_diags_json(const struct sl_diags *d)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a != NULL && i < d->n; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:s}",
			"file", d->file, "line", (int)d->diag[i].pos.line,
			"column", (int)d->diag[i].pos.col,
			"message", d->diag[i].msg));
	return a;
}
