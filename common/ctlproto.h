/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol (docs/protocol.md): length-prefixed JSON over Unix
 * stream sockets, spoken by sluicectl -> sluiced -> sluice-dp.
 *
 * Four layers, each usable alone:
 *   framing   a non-blocking frame reader and bounded blocking send/recv
 *   messages  request/reply builders and strict validating parsers
 *   sockets   listen (0660, group, stale-socket safe), connect, peer check
 *   server    a single-threaded poll() loop that enforces every bound of
 *             the protocol and hands valid requests to one handler
 *
 * Functions that can fail return a negative errno (or NULL with errno
 * set, for constructors). Nothing here starts a thread; the only global
 * state is the optional log hook and the id counter of sl_ctl_call().
 */
#ifndef SLUICE_CTLPROTO_H
#define SLUICE_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy.h"

#define SL_CTL_VERSION		1
#define SL_CTL_MSG_MAX		(16u << 20)	/* bytes of JSON in one frame */
#define SL_CTL_HDR_LEN		4		/* big-endian length prefix */
#define SL_CTL_READ_TIMEOUT_MS	2000	/* first byte to last of a message */
#define SL_CTL_IDLE_TIMEOUT_MS	60000	/* no message at all */
#define SL_CTL_SEND_TIMEOUT_MS	2000	/* a reply must drain this fast */
#define SL_CTL_CLIENTS_MAX	16
#define SL_CTL_DEPTH_MAX	32	/* JSON nesting; the message object is 1 */
#define SL_CTL_ID_MAX		(INT64_C(1) << 53)	/* exact in a double */
#define SL_CTL_CMD_MAX		64	/* cmd bytes, including the NUL */
#define SL_CTL_ERR_MAX		256	/* room for a parse error message */
#define SL_CTL_WHO_MAX		64	/* room for "uid N pid P" */

/* ---- Log hook ------------------------------------------------------ */

/*
 * The library reports what a daemon operator should see (a refused peer,
 * a group that does not exist, a client closed for a timeout) through
 * one hook; prio is a syslog priority (LOG_WARNING, LOG_INFO...).
 * Without a hook nothing is printed.
 */
typedef void (*sl_ctl_log_fn)(int prio, const char *msg);

/* Set the log hook for the process; NULL silences the library. */
void sl_ctl_set_log(sl_ctl_log_fn fn);

/* ---- Framing ------------------------------------------------------- */

/*
 * Incremental frame reader. It reads only the bytes of the current frame
 * (never the start of the next one), so several readers or a reader and
 * sl_ctl_recv() can take turns on one socket. Its buffer grows as bytes
 * arrive, up to the announced length plus the NUL: a 4-byte header
 * announcing 16 MiB costs nothing until the bytes come.
 */
struct sl_ctl_rx {
	uint8_t hdr[SL_CTL_HDR_LEN];
	uint32_t hdr_got;	/* header bytes received */
	uint32_t len;		/* announced length, once hdr_got is 4 */
	uint32_t got;		/* body bytes received */
	uint32_t max;		/* largest length accepted; SL_CTL_MSG_MAX */
	int err;		/* sticky: the stream is out of step */
	char *buf;		/* body, NUL-terminated once complete */
	size_t cap;		/* bytes allocated at buf */
};

/* Prepare an empty reader accepting messages up to SL_CTL_MSG_MAX. */
void sl_ctl_rx_init(struct sl_ctl_rx *rx);

/* Free the reader's buffer; it can be initialised again. */
void sl_ctl_rx_free(struct sl_ctl_rx *rx);

/*
 * Read what fd has, without blocking (MSG_DONTWAIT), into rx. Returns 1
 * when a whole message is buffered (rx->buf, rx->len bytes plus a NUL;
 * again 1 until sl_ctl_rx_next()), 0 when more bytes are needed,
 * -E2BIG for a length above rx->max, -EINVAL for a zero length,
 * -ECONNRESET when the peer closed (at a frame boundary too), -ENOMEM,
 * and -EIO for another read error. After an error the stream is out of
 * step: close it.
 */
int sl_ctl_rx_feed(struct sl_ctl_rx *rx, int fd);

/*
 * Same as sl_ctl_rx_feed() from memory: consumes at most len bytes of
 * data, stops after a complete message, and stores the bytes it took
 * in *used. Returns as sl_ctl_rx_feed(), without -ECONNRESET and -EIO.
 */
int sl_ctl_rx_feed_mem(struct sl_ctl_rx *rx, const void *data, size_t len,
		       size_t *used);

/* True once part of a message (even one header byte) has arrived. */
bool sl_ctl_rx_started(const struct sl_ctl_rx *rx);

/* Drop the complete message and get ready for the next frame. */
void sl_ctl_rx_next(struct sl_ctl_rx *rx);

/*
 * Send msg as one frame within timeout_ms (-1: no limit). Returns 0,
 * -E2BIG when its JSON exceeds SL_CTL_MSG_MAX, -ETIMEDOUT, -EPIPE when
 * the peer is gone, -ENOMEM or -EIO. Never raises SIGPIPE.
 */
int sl_ctl_send(int fd, json_t *msg, int timeout_ms);

/*
 * Receive one frame within timeout_ms (-1: no limit) and decode it as a
 * JSON object within the nesting limit; *msg gets a new reference.
 * Returns 0, -ETIMEDOUT, the framing errors of sl_ctl_rx_feed(), or
 * -EBADMSG when the frame is not such an object.
 */
int sl_ctl_recv(int fd, json_t **msg, int timeout_ms);

/* ---- Messages ------------------------------------------------------ */

/* A request as the server hands it to its handler. */
struct sl_ctl_req {
	int64_t id;		/* 0..SL_CTL_ID_MAX; -1 if none could be read */
	char cmd[SL_CTL_CMD_MAX];
	json_t *args;		/* borrowed from root; NULL when absent */
	json_t *root;		/* the whole message, owned */
	uid_t uid;		/* the peer, when it came through a server */
	pid_t pid;		/* (uid -1 and pid 0 otherwise) */
};

/* A reply as a client reads it. */
struct sl_ctl_reply {
	int64_t id;		/* -1 when the server could not read ours */
	bool ok;
	json_t *result;		/* ok: borrowed, an object */
	const char *code;	/* !ok: errno name, e.g. "EINVAL" */
	const char *message;	/* !ok: for people */
	json_t *error;		/* !ok: the error object, for diagnostics */
	json_t *root;		/* the whole message, owned */
};

/*
 * New request {"v":1,"id":id,"cmd":cmd[,"args":args]}; steals args
 * (may be NULL), even on failure. NULL for an id outside 0..2^53, an
 * invalid cmd or no memory.
 */
json_t *sl_ctl_request(int64_t id, const char *cmd, json_t *args);

/*
 * New success reply for request id; steals result (NULL: an empty
 * object), even on failure. NULL when out of memory.
 */
json_t *sl_ctl_reply_ok(int64_t id, json_t *result);

/*
 * New error reply for request id (-1: id unknown, sent as null); code
 * is an errno name ("EINVAL"), the message is printf-formatted. More
 * members (e.g. "diagnostics") may be added to its "error" object.
 * NULL when out of memory.
 */
json_t *sl_ctl_reply_err(int64_t id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same as sl_ctl_reply_err() with a negative or positive errno value. */
json_t *sl_ctl_reply_errno(int64_t id, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Validate buf[0..len) as a version 1 request and fill out. Returns 0
 * (release out with sl_ctl_req_release()), -EPROTO for another protocol
 * version (err says which one is spoken) or -EINVAL for anything else
 * wrong (err says what). On failure out->id still holds the request's
 * id when that much was valid, so the error reply can carry it, and
 * nothing needs releasing.
 */
int sl_ctl_req_parse(const char *buf, size_t len, struct sl_ctl_req *out,
		     char *err, size_t errlen);

/* Drop what sl_ctl_req_parse() filled in; safe to call twice. */
void sl_ctl_req_release(struct sl_ctl_req *req);

/*
 * Validate buf[0..len) as a version 1 reply and fill out. Unknown
 * members are ignored, so servers can add them. Returns 0 (release with
 * sl_ctl_reply_release()), -EPROTO or -EBADMSG with err saying why.
 */
int sl_ctl_reply_parse(const char *buf, size_t len, struct sl_ctl_reply *out,
		       char *err, size_t errlen);

/* Same as sl_ctl_reply_parse() for a decoded message; takes a reference. */
int sl_ctl_reply_check(json_t *msg, struct sl_ctl_reply *out,
		       char *err, size_t errlen);

/* Drop what sl_ctl_reply_parse() filled in; safe to call twice. */
void sl_ctl_reply_release(struct sl_ctl_reply *rep);

/*
 * One round trip on a connected socket: send cmd with args (stolen) and
 * a fresh id, wait for the reply with that id, all within timeout_ms.
 * Returns 0 with out filled (out->ok tells the command's outcome), or a
 * negative errno from sending, receiving or checking (err says why).
 */
int sl_ctl_call(int fd, const char *cmd, json_t *args, int timeout_ms,
		struct sl_ctl_reply *out, char *err, size_t errlen);

/*
 * The "diagnostics" member of an error reply for a refused policy:
 * [{"file", "line", "column", "message"}], one per diagnostic kept.
 */
json_t *sl_ctl_diags_json(const struct sl_diags *d);

/* Errno name for err (sign ignored), e.g. "EINVAL"; "EIO" if unknown. */
const char *sl_ctl_errno_name(int err);

/* Positive errno for an errno name, or 0 if the name is unknown. */
int sl_ctl_errno_value(const char *name);

/* ---- Sockets ------------------------------------------------------- */

/*
 * Listening socket at path, mode 0660, group group (NULL: keep the
 * current one). A socket file nobody listens on is replaced; one that
 * accepts connections gives -EADDRINUSE, and a path that is not a
 * socket -ENOTSOCK. A group that does not exist is logged and the file
 * keeps its current group. Stores the group's gid in *gid, or
 * (gid_t)-1 when there is none (gid may be NULL). Returns the
 * non-blocking fd or a negative errno.
 */
int sl_ctl_listen(const char *path, const char *group, gid_t *gid);

/*
 * Connect to the socket at path within timeout_ms. Returns the fd
 * (close-on-exec) or a negative errno (-ENOENT: no server,
 * -ECONNREFUSED: stale socket, -EACCES: file mode, -ETIMEDOUT: backlog
 * full for too long).
 */
int sl_ctl_connect(const char *path, int timeout_ms);

/*
 * May the peer of connected fd use the socket? uid 0, the server's own
 * uid and members of group (primary or supplementary; (gid_t)-1 for
 * none) may. Writes "uid N pid P" to who and stores the peer's uid and
 * pid when uid/pid are not NULL. Returns 0, -EPERM, or another negative
 * errno when the credentials cannot be read.
 */
int sl_ctl_peer_check(int fd, gid_t group, char *who, size_t len,
		      uid_t *uid, pid_t *pid);

/*
 * Is gid among the supplementary groups of process pid, as its
 * /proc/PID/status "Groups:" line says? 1, 0 or a negative errno.
 * The fallback of sl_ctl_peer_check() when SO_PEERGROUPS is missing.
 */
int sl_ctl_proc_in_group(pid_t pid, gid_t gid);

/* ---- Server -------------------------------------------------------- */

struct sl_ctl_server;

/*
 * Handle one valid request; return the reply (a new reference, usually
 * from sl_ctl_reply_ok/err()). The server adds "v" and "id" when the
 * reply lacks them, and answers EIO for NULL or a non-object.
 */
typedef json_t *(*sl_ctl_handler_fn)(void *ctx, const struct sl_ctl_req *req);

/*
 * Listen at path (as sl_ctl_listen()) and serve requests to fn with
 * ctx. Returns NULL with errno set on failure.
 */
struct sl_ctl_server *sl_ctl_server_create(const char *path, const char *group,
					   sl_ctl_handler_fn fn, void *ctx);

/*
 * Change the read, idle and send timeouts (ms; 0 or less keeps the
 * current value). For tests; the defaults are the protocol's.
 */
void sl_ctl_server_set_timeouts(struct sl_ctl_server *srv, int read_ms,
				int idle_ms, int send_ms);

/*
 * Wait up to timeout_ms (-1: until something happens; 0: do not wait)
 * and do all that is due: accept and check peers, read requests, call
 * the handler, write replies, close clients that broke a bound. Returns
 * the number of requests handled, 0 after a signal, or a negative errno
 * when poll() itself fails. Call it in a loop with a short timeout to
 * interleave other work.
 */
int sl_ctl_server_poll(struct sl_ctl_server *srv, int timeout_ms);

/* The listening fd, e.g. to add to an outer poll set. */
int sl_ctl_server_fd(const struct sl_ctl_server *srv);

/* Clients connected now. */
unsigned int sl_ctl_server_clients(const struct sl_ctl_server *srv);

/* The gid peers are checked against, (gid_t)-1 when the group is missing. */
gid_t sl_ctl_server_gid(const struct sl_ctl_server *srv);

/* Close every client and the socket, unlink it if still ours, free srv. */
void sl_ctl_server_free(struct sl_ctl_server *srv);

#endif /* SLUICE_CTLPROTO_H */
