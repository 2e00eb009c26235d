/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control protocol tests: the frame reader fed one byte at a time and
 * split at every boundary, its errors, the request and reply parsers
 * against tables of good and bad messages, the socket helpers, and the
 * server over a real Unix socket in a temporary directory (bounds,
 * timeouts made short with sl_ctl_server_set_timeouts(), peer checks
 * with children that setuid() to nobody).
 *
 * Extra mode, not run by meson:
 *   test_ctlproto --corpus DIR   write framed samples as a libFuzzer seed corpus
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctlproto.h"

#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define NOBODY		65534
#define IO_MS		3000	/* generous bound for a test's own I/O */

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* ---- Helpers ------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A frame for body[0..len) in a new buffer of len + 4 bytes. */
static uint8_t *frame_of(const void *body, size_t len)
{
	uint8_t *f = malloc(len + 4);

	ck_assert_ptr_nonnull(f);
	f[0] = (uint8_t)(len >> 24);
	f[1] = (uint8_t)(len >> 16);
	f[2] = (uint8_t)(len >> 8);
	f[3] = (uint8_t)len;
	memcpy(f + 4, body, len);
	return f;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t r;

	while (len) {
		r = send(fd, p, len, MSG_NOSIGNAL);
		ck_assert_msg(r > 0, "send: %s", strerror(errno));
		p += r;
		len -= (size_t)r;
	}
}

static void send_frame(int fd, const char *json)
{
	uint8_t *f = frame_of(json, strlen(json));

	write_all(fd, f, strlen(json) + 4);
	free(f);
}

static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* A body of len bytes: a JSON string literal padded with a pattern. */
static char *body_of(size_t len)
{
	char *b = malloc(len + 1);
	size_t i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < len; i++)
		b[i] = (char)('a' + i % 26);
	if (len >= 2) {
		b[0] = '"';
		b[len - 1] = '"';
	}
	b[len] = '\0';
	return b;
}

/* JSON request whose args nest to total depth depth (>= 3). */
static char *nested(int depth)
{
	size_t n = (size_t)depth - 2, len = 64 + 2 * n;
	char *s = malloc(len), *p;
	size_t i;

	if (!s)
		abort();
	p = s + sprintf(s, "{\"v\":1,\"id\":3,\"cmd\":\"status\",\"args\":{\"a\":");
	for (i = 0; i < n; i++)
		*p++ = '[';
	for (i = 0; i < n; i++)
		*p++ = ']';
	strcpy(p, "}}");
	return s;
}

/* An object {"pad": "xxx..."} with n bytes of padding. */
static json_t *padded(size_t n)
{
	char *pad = malloc(n);
	json_t *o;

	ck_assert_ptr_nonnull(pad);
	memset(pad, 'x', n);
	o = json_pack("{s:s#}", "pad", pad, n);
	free(pad);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* ---- Frame reader ------------------------------------------------- */

static const size_t split_sizes[] = { 1, 2, 17, 4095, 4096, 4097, 9000, 70000 };

/* Bytes written one at a time: 0 until the last, then the message. */
START_TEST(test_rx_bytewise)
{
	size_t len = split_sizes[_i], i;
	char *body = body_of(len);
	uint8_t *f = frame_of(body, len);
	struct sl_ctl_rx rx;
	int sv[2], rc;

	pair(sv);
	sl_ctl_rx_init(&rx);
	for (i = 0; i < len + 4; i++) {
		write_all(sv[1], f + i, 1);
		rc = sl_ctl_rx_feed(&rx, sv[0]);
		if (rc != (i == len + 3 ? 1 : 0))
			ck_abort_msg("len %zu: byte %zu: rc %d", len, i, rc);
		/* The buffer follows the bytes, never the announced length. */
		if (rx.cap > len + 1 || (rx.cap > 4096 && rx.cap > 2 * (rx.got + 1)))
			ck_abort_msg("len %zu: byte %zu: cap %zu for %u bytes",
				     len, i, rx.cap, rx.got);
		if (sl_ctl_rx_started(&rx) != true)
			ck_abort_msg("len %zu: byte %zu: not started", len, i);
	}
	ck_assert_uint_eq(rx.len, len);
	ck_assert_int_eq(memcmp(rx.buf, body, len), 0);
	ck_assert_int_eq(rx.buf[len], '\0');
	/* Complete stays complete; nothing more is read. */
	ck_assert_int_eq(sl_ctl_rx_feed(&rx, sv[0]), 1);
	sl_ctl_rx_next(&rx);
	ck_assert(!sl_ctl_rx_started(&rx));
	ck_assert_int_eq(sl_ctl_rx_feed(&rx, sv[0]), 0);
	sl_ctl_rx_free(&rx);
	close(sv[0]);
	close(sv[1]);
	free(f);
	free(body);
}
END_TEST

/* The same frame from memory, cut in two at every byte boundary. */
START_TEST(test_rx_mem_split)
{
	size_t len = split_sizes[_i], flen = len + 4, k, used, step;
	char *body = body_of(len);
	uint8_t *f = frame_of(body, len);
	struct sl_ctl_rx rx;
	int rc;

	/* Every boundary for small frames; a prime stride for the large. */
	step = len <= 4097 ? 1 : 97;
	for (k = 0; k <= flen; k += step) {
		sl_ctl_rx_init(&rx);
		rc = sl_ctl_rx_feed_mem(&rx, f, k, &used);
		if (rc != (k == flen) || used != k)
			ck_abort_msg("len %zu cut %zu: first rc %d used %zu", len, k, rc, used);
		rc = sl_ctl_rx_feed_mem(&rx, f + k, flen - k, &used);
		if (rc != 1 || used != (k == flen ? 0 : flen - k))
			ck_abort_msg("len %zu cut %zu: second rc %d used %zu", len, k, rc, used);
		if (rx.len != len || memcmp(rx.buf, body, len) || rx.buf[len])
			ck_abort_msg("len %zu cut %zu: wrong message", len, k);
		sl_ctl_rx_free(&rx);
	}
	free(f);
	free(body);
}
END_TEST

/* Two frames in one write: the reader stops at the end of the first. */
START_TEST(test_rx_back_to_back)
{
	const char *a = "{\"v\":1,\"id\":1,\"cmd\":\"a\"}", *b = "{\"v\":1}";
	uint8_t *fa = frame_of(a, strlen(a)), *fb = frame_of(b, strlen(b));
	uint8_t both[128];
	struct sl_ctl_rx rx;
	size_t used;
	int sv[2], queued;

	memcpy(both, fa, strlen(a) + 4);
	memcpy(both + strlen(a) + 4, fb, strlen(b) + 4);
	pair(sv);
	write_all(sv[1], both, strlen(a) + strlen(b) + 8);
	sl_ctl_rx_init(&rx);
	ck_assert_int_eq(sl_ctl_rx_feed(&rx, sv[0]), 1);
	ck_assert_str_eq(rx.buf, a);
	ck_assert_int_eq(ioctl(sv[0], FIONREAD, &queued), 0);
	ck_assert_int_eq(queued, (int)strlen(b) + 4);
	sl_ctl_rx_next(&rx);
	ck_assert_int_eq(sl_ctl_rx_feed(&rx, sv[0]), 1);
	ck_assert_str_eq(rx.buf, b);
	sl_ctl_rx_next(&rx);
	ck_assert_int_eq(sl_ctl_rx_feed(&rx, sv[0]), 0);

	/* From memory too: used stops at the frame boundary. */
	sl_ctl_rx_next(&rx);
	ck_assert_int_eq(sl_ctl_rx_feed_mem(&rx, both, sizeof(both), &used), 1);
	ck_assert_uint_eq(used, strlen(a) + 4);
	ck_assert_int_eq(sl_ctl_rx_feed_mem(&rx, both + used, 1, &used), 1);
	ck_assert_uint_eq(used, 0);
	sl_ctl_rx_free(&rx);
	close(sv[0]);
	close(sv[1]);
	free(fa);
	free(fb);
}
END_TEST

static const struct rx_err_case {
	const char *what;
	const char *bytes;	/* written before feeding */
	size_t n;
	bool close;		/* then the peer closes */
	uint32_t max;		/* 0: default */
	int rc;
	size_t cap_max;		/* bound on the buffer afterwards */
} rx_err_cases[] = {
	{ "length above the limit", "\x01\x00\x00\x01", 4, false, 0, -E2BIG, 0 },
	{ "length 4 GiB - 1", "\xff\xff\xff\xff", 4, false, 0, -E2BIG, 0 },
	{ "length at the limit, 10 bytes sent", "\x01\x00\x00\x00" "0123456789", 14,
	  false, 0, 0, 4096 },
	{ "zero length", "\x00\x00\x00\x00", 4, false, 0, -EINVAL, 0 },
	{ "lowered limit", "\x00\x00\x00\x65", 4, false, 100, -E2BIG, 0 },
	{ "at a lowered limit", "\x00\x00\x00\x64", 4, false, 100, 0, 101 },
	{ "peer closed before any byte", "", 0, true, 0, -ECONNRESET, 0 },
	{ "peer closed mid-header", "\x00\x00", 2, true, 0, -ECONNRESET, 0 },
	{ "peer closed mid-body", "\x00\x00\x00\x0a{\"v\"", 8, true, 0, -ECONNRESET, 11 },
	{ "nothing yet", "", 0, false, 0, 0, 0 },
};

static void test_rx_errors_row(size_t row)
{
	const struct rx_err_case *c = &rx_err_cases[row];
	struct sl_ctl_rx rx;
	int sv[2], rc;

	pair(sv);
	sl_ctl_rx_init(&rx);
	if (c->max)
		rx.max = c->max;
	if (c->n)
		write_all(sv[1], c->bytes, c->n);
	if (c->close)
		close(sv[1]);
	rc = sl_ctl_rx_feed(&rx, sv[0]);
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->what, rc, c->rc);
	ck_assert_msg(rx.cap <= c->cap_max, "%s: %zu bytes allocated", c->what, rx.cap);
	/* Errors stick: the stream is out of step. */
	if (c->rc < 0)
		ck_assert_msg(sl_ctl_rx_feed(&rx, sv[0]) == c->rc, "%s: not sticky", c->what);
	sl_ctl_rx_free(&rx);
	close(sv[0]);
	if (!c->close)
		close(sv[1]);
}

/* All rows in one test: a fork each would cost more than the checks. */
START_TEST(test_rx_errors)
{
	size_t i;

	for (i = 0; i < N(rx_err_cases); i++)
		test_rx_errors_row(i);
}
END_TEST

/* ---- Request parser ------------------------------------------------ */

static const struct req_case {
	const char *what;
	const char *json;	/* NULL: generated (depth rows) */
	int depth;
	int rc;
	int64_t id;		/* expected, even on failure */
	const char *cmd;
	bool args;
	const char *err;	/* substring of the message */
} req_cases[] = {
	/* valid */
	{ "full", "{\"v\":1,\"id\":7,\"cmd\":\"policy.apply\",\"args\":{\"text\":\"x\"}}",
	  0, 0, 7, "policy.apply", true, NULL },
	{ "no args", "{\"v\":1,\"id\":0,\"cmd\":\"status\"}", 0, 0, 0, "status", false, NULL },
	{ "largest id, any order", "{\"cmd\":\"status\",\"id\":9007199254740992,\"v\":1}",
	  0, 0, 9007199254740992, "status", false, NULL },
	{ "empty args", "{\"v\":1,\"id\":1,\"cmd\":\"a.b\",\"args\":{}}", 0, 0, 1, "a.b", true, NULL },
	{ "whitespace", " \n{ \"v\" : 1, \"id\": 2, \"cmd\": \"status\" }\n ",
	  0, 0, 2, "status", false, NULL },
	{ "63-byte cmd", "{\"v\":1,\"id\":1,\"cmd\":"
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  0, 0, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, NULL },
	{ "depth 32", NULL, 32, 0, 3, "status", true, NULL },
	/* not JSON, not an object */
	{ "empty", "", 0, -EINVAL, -1, NULL, false, "not valid JSON" },
	{ "garbage", "hello", 0, -EINVAL, -1, NULL, false, "not valid JSON" },
	{ "truncated", "{\"v\":1,\"id\":1,", 0, -EINVAL, -1, NULL, false, "not valid JSON" },
	{ "trailing data", "{\"v\":1,\"id\":1,\"cmd\":\"status\"} {}", 0, -EINVAL, -1, NULL,
	  false, "not valid JSON" },
	{ "array", "[1,2]", 0, -EINVAL, -1, NULL, false, "not a JSON object" },
	{ "string", "\"status\"", 0, -EINVAL, -1, NULL, false, "not valid JSON" },
	{ "bad UTF-8", "{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{\"x\":\"\xff\"}}",
	  0, -EINVAL, -1, NULL, false, "not valid JSON" },
	{ "NUL escape", "{\"v\":1,\"id\":1,\"cmd\":\"st\\u0000x\"}", 0, -EINVAL, -1, NULL,
	  false, "not valid JSON" },
	{ "integer too big for jansson", "{\"v\":1,\"id\":99999999999999999999,\"cmd\":\"s\"}",
	  0, -EINVAL, -1, NULL, false, "not valid JSON" },
	/* duplicates and depth */
	{ "duplicate v", "{\"v\":1,\"v\":1,\"id\":1,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL,
	  false, "duplicate" },
	{ "duplicate in args", "{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{\"a\":1,\"a\":2}}",
	  0, -EINVAL, -1, NULL, false, "duplicate" },
	{ "depth 33", NULL, 33, -EINVAL, -1, NULL, false, "nested deeper than 32" },
	{ "depth 2000", NULL, 2000, -EINVAL, -1, NULL, false, "nested deeper than 32" },
	{ "depth 5000 (jansson's own limit)", NULL, 5000, -EINVAL, -1, NULL, false,
	  "not valid JSON" },
	/* version */
	{ "v missing", "{\"id\":4,\"cmd\":\"status\"}", 0, -EINVAL, 4, NULL, false,
	  "missing field 'v'" },
	{ "v string", "{\"v\":\"1\",\"id\":4,\"cmd\":\"status\"}", 0, -EINVAL, 4, NULL, false,
	  "'v' must be an integer" },
	{ "v real", "{\"v\":1.0,\"id\":4,\"cmd\":\"status\"}", 0, -EINVAL, 4, NULL, false,
	  "'v' must be an integer" },
	{ "v true", "{\"v\":true,\"id\":4,\"cmd\":\"status\"}", 0, -EINVAL, 4, NULL, false,
	  "'v' must be an integer" },
	{ "v null", "{\"v\":null,\"id\":4,\"cmd\":\"status\"}", 0, -EINVAL, 4, NULL, false,
	  "'v' must be an integer" },
	{ "v 2", "{\"v\":2,\"id\":5,\"cmd\":\"status\"}", 0, -EPROTO, 5, NULL, false,
	  "speaks version 1" },
	{ "v 0", "{\"v\":0,\"id\":5,\"cmd\":\"status\"}", 0, -EPROTO, 5, NULL, false,
	  "protocol version 0 not supported" },
	{ "v -1", "{\"v\":-1,\"id\":5,\"cmd\":\"status\"}", 0, -EPROTO, 5, NULL, false,
	  "speaks version 1" },
	{ "v 2 with other fields", "{\"v\":2,\"id\":6,\"op\":[1]}", 0, -EPROTO, 6, NULL, false,
	  "speaks version 1" },
	/* id */
	{ "id missing", "{\"v\":1,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "missing field 'id'" },
	{ "id string", "{\"v\":1,\"id\":\"7\",\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be an integer" },
	{ "id real", "{\"v\":1,\"id\":7.0,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be an integer" },
	{ "id exponent", "{\"v\":1,\"id\":1e3,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be an integer" },
	{ "id null", "{\"v\":1,\"id\":null,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be an integer" },
	{ "id object", "{\"v\":1,\"id\":{},\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be an integer" },
	{ "id negative", "{\"v\":1,\"id\":-1,\"cmd\":\"status\"}", 0, -EINVAL, -1, NULL, false,
	  "'id' must be 0..9007199254740992" },
	{ "id 2^53 + 1", "{\"v\":1,\"id\":9007199254740993,\"cmd\":\"status\"}", 0, -EINVAL,
	  -1, NULL, false, "'id' must be 0..9007199254740992" },
	/* cmd */
	{ "cmd missing", "{\"v\":1,\"id\":8}", 0, -EINVAL, 8, NULL, false,
	  "missing field 'cmd'" },
	{ "cmd number", "{\"v\":1,\"id\":8,\"cmd\":5}", 0, -EINVAL, 8, NULL, false,
	  "'cmd' must be a string" },
	{ "cmd array", "{\"v\":1,\"id\":8,\"cmd\":[\"status\"]}", 0, -EINVAL, 8, NULL, false,
	  "'cmd' must be a string" },
	{ "cmd empty", "{\"v\":1,\"id\":8,\"cmd\":\"\"}", 0, -EINVAL, 8, NULL, false,
	  "'cmd' is empty" },
	{ "cmd upper case", "{\"v\":1,\"id\":8,\"cmd\":\"Policy.apply\"}", 0, -EINVAL, 8, NULL,
	  false, "made of a-z" },
	{ "cmd space", "{\"v\":1,\"id\":8,\"cmd\":\"policy apply\"}", 0, -EINVAL, 8, NULL,
	  false, "made of a-z" },
	{ "cmd underscore", "{\"v\":1,\"id\":8,\"cmd\":\"policy_apply\"}", 0, -EINVAL, 8, NULL,
	  false, "made of a-z" },
	{ "cmd digit", "{\"v\":1,\"id\":8,\"cmd\":\"policy.apply2\"}", 0, -EINVAL, 8, NULL,
	  false, "made of a-z" },
	{ "cmd non-ASCII", "{\"v\":1,\"id\":8,\"cmd\":\"stat\xc3\xbcs\"}", 0, -EINVAL, 8, NULL,
	  false, "made of a-z" },
	{ "cmd 64 bytes", "{\"v\":1,\"id\":8,\"cmd\":"
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  0, -EINVAL, 8, NULL, false, "longer than 63 bytes" },
	/* args and the rest */
	{ "args array", "{\"v\":1,\"id\":9,\"cmd\":\"status\",\"args\":[]}", 0, -EINVAL, 9, NULL,
	  false, "'args' must be an object" },
	{ "args string", "{\"v\":1,\"id\":9,\"cmd\":\"status\",\"args\":\"x\"}", 0, -EINVAL, 9,
	  NULL, false, "'args' must be an object" },
	{ "args null", "{\"v\":1,\"id\":9,\"cmd\":\"status\",\"args\":null}", 0, -EINVAL, 9,
	  NULL, false, "'args' must be an object" },
	{ "args number", "{\"v\":1,\"id\":9,\"cmd\":\"status\",\"args\":1}", 0, -EINVAL, 9,
	  NULL, false, "'args' must be an object" },
	{ "unknown field", "{\"v\":1,\"id\":9,\"cmd\":\"status\",\"arg\":{}}", 0, -EINVAL, 9,
	  NULL, false, "unknown field 'arg'" },
};

static void test_req_parse_row(size_t row)
{
	const struct req_case *c = &req_cases[row];
	char *json = c->json ? strdup(c->json) : nested(c->depth), *exact;
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_req req;
	size_t len = strlen(json);
	int rc;

	/* An exact-size copy without NUL, so ASan sees any read past len. */
	exact = malloc(len ? len : 1);
	memcpy(exact, json, len);
	memset(&req, 0xa5, sizeof(req));
	rc = sl_ctl_req_parse(exact, len, &req, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d want %d (%s)", c->what, rc, c->rc, err);
	ck_assert_msg(req.id == c->id, "%s: id %lld want %lld", c->what,
		      (long long)req.id, (long long)c->id);
	if (c->rc == 0) {
		ck_assert_msg(err[0] == '\0', "%s: error text on success: %s", c->what, err);
		ck_assert_str_eq(req.cmd, c->cmd);
		ck_assert_msg((req.args != NULL) == c->args, "%s: args", c->what);
		ck_assert_msg(!req.args || json_is_object(req.args), "%s: args type", c->what);
		ck_assert_ptr_nonnull(req.root);
		ck_assert_int_eq((int)req.uid, -1);
		sl_ctl_req_release(&req);
		sl_ctl_req_release(&req);
	} else {
		ck_assert_msg(strstr(err, c->err) != NULL, "%s: error '%s' lacks '%s'",
			      c->what, err, c->err);
		ck_assert_ptr_null(req.root);
		ck_assert_ptr_null(req.args);
	}
	/* A tiny error buffer truncates and terminates, and NULL is fine. */
	rc = sl_ctl_req_parse(exact, len, &req, err, 4);
	ck_assert_int_eq(rc, c->rc);
	ck_assert_uint_le(strlen(err), 3);
	sl_ctl_req_release(&req);
	ck_assert_int_eq(sl_ctl_req_parse(exact, len, &req, NULL, 0), c->rc);
	sl_ctl_req_release(&req);
	free(exact);
	free(json);
}

/* All rows in one test: a fork each would cost more than the checks. */
START_TEST(test_req_parse)
{
	size_t i;

	for (i = 0; i < N(req_cases); i++)
		test_req_parse_row(i);
}
END_TEST

/* ---- Builders and the reply parser --------------------------------- */

START_TEST(test_request_build)
{
	char err[SL_CTL_ERR_MAX], *s;
	struct sl_ctl_req req;
	json_t *args = json_pack("{s:s,s:i}", "text", "version: 1\n", "n", 3);
	json_t *m = sl_ctl_request(42, "policy.apply", json_incref(args));

	ck_assert_ptr_nonnull(m);
	s = json_dumps(m, JSON_COMPACT);
	ck_assert_int_eq(sl_ctl_req_parse(s, strlen(s), &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.id, 42);
	ck_assert_str_eq(req.cmd, "policy.apply");
	ck_assert(json_equal(req.args, args));
	sl_ctl_req_release(&req);
	free(s);
	json_decref(m);

	/* Refused: the args reference is taken all the same (LSan checks). */
	ck_assert_ptr_null(sl_ctl_request(-1, "status", json_object()));
	ck_assert_ptr_null(sl_ctl_request(SL_CTL_ID_MAX + 1, "status", NULL));
	ck_assert_ptr_null(sl_ctl_request(1, "Status", json_object()));
	ck_assert_ptr_null(sl_ctl_request(1, "", NULL));
	ck_assert_ptr_null(sl_ctl_request(1, NULL, NULL));
	ck_assert_ptr_null(sl_ctl_request(1, "status", json_array()));
	m = sl_ctl_request(SL_CTL_ID_MAX, "status", NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(json_object_get(m, "args"));
	json_decref(m);
	json_decref(args);
}
END_TEST

START_TEST(test_reply_build)
{
	char err[SL_CTL_ERR_MAX], *s, bad[] = "caf\xc3 at \xff";
	struct sl_ctl_reply rep;
	json_t *m;

	m = sl_ctl_reply_ok(7, json_pack("{s:i}", "version", 12));
	s = json_dumps(m, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"v\":1,\"id\":7,\"ok\":true,\"result\":{\"version\":12}}");
	ck_assert_int_eq(sl_ctl_reply_parse(s, strlen(s), &rep, err, sizeof(err)), 0);
	ck_assert(rep.ok);
	ck_assert_int_eq(rep.id, 7);
	ck_assert_int_eq(json_integer_value(json_object_get(rep.result, "version")), 12);
	sl_ctl_reply_release(&rep);
	free(s);
	json_decref(m);

	m = sl_ctl_reply_ok(0, NULL);
	ck_assert(json_is_object(json_object_get(m, "result")));
	json_decref(m);
	ck_assert_ptr_null(sl_ctl_reply_ok(0, json_array()));

	m = sl_ctl_reply_err(-1, "EBUSY", "too many clients (%d)", 16);
	s = json_dumps(m, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"v\":1,\"id\":null,\"ok\":false,\"error\":"
			 "{\"code\":\"EBUSY\",\"message\":\"too many clients (16)\"}}");
	ck_assert_int_eq(sl_ctl_reply_parse(s, strlen(s), &rep, err, sizeof(err)), 0);
	ck_assert(!rep.ok);
	ck_assert_int_eq(rep.id, -1);
	ck_assert_str_eq(rep.code, "EBUSY");
	ck_assert_str_eq(rep.message, "too many clients (16)");
	sl_ctl_reply_release(&rep);
	free(s);
	json_decref(m);

	m = sl_ctl_reply_errno(3, -EPROTO, "x");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "error"),
							   "code")), "EPROTO");
	json_decref(m);

	/* A message quoting bad bytes still makes a reply. */
	m = sl_ctl_reply_err(3, "EINVAL", "%s", bad);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "error"),
							   "message")), "caf? at ?");
	json_decref(m);
}
END_TEST

static const struct reply_case {
	const char *what;
	const char *json;
	int rc;
	bool ok;
	int64_t id;
} reply_cases[] = {
	{ "ok", "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{}}", 0, true, 1 },
	{ "error", "{\"v\":1,\"id\":2,\"ok\":false,\"error\":{\"code\":\"EIO\",\"message\":\"m\"}}",
	  0, false, 2 },
	{ "unknown members kept quiet", "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{},\"x\":[]}",
	  0, true, 1 },
	{ "diagnostics", "{\"v\":1,\"id\":2,\"ok\":false,\"error\":{\"code\":\"EINVAL\","
	  "\"message\":\"m\",\"diagnostics\":[{\"line\":8}]}}", 0, false, 2 },
	{ "v 2", "{\"v\":2,\"id\":1,\"ok\":true,\"result\":{}}", -EPROTO, false, -1 },
	{ "v missing", "{\"id\":1,\"ok\":true,\"result\":{}}", -EBADMSG, false, -1 },
	{ "not JSON", "{\"v\":1,", -EBADMSG, false, -1 },
	{ "array", "[]", -EBADMSG, false, -1 },
	{ "duplicate", "{\"v\":1,\"id\":1,\"id\":1,\"ok\":true,\"result\":{}}", -EBADMSG, false, -1 },
	{ "id string", "{\"v\":1,\"id\":\"1\",\"ok\":true,\"result\":{}}", -EBADMSG, false, -1 },
	{ "id missing", "{\"v\":1,\"ok\":true,\"result\":{}}", -EBADMSG, false, -1 },
	{ "ok missing", "{\"v\":1,\"id\":1,\"result\":{}}", -EBADMSG, false, -1 },
	{ "ok 1", "{\"v\":1,\"id\":1,\"ok\":1,\"result\":{}}", -EBADMSG, false, -1 },
	{ "result missing", "{\"v\":1,\"id\":1,\"ok\":true}", -EBADMSG, false, -1 },
	{ "result array", "{\"v\":1,\"id\":1,\"ok\":true,\"result\":[]}", -EBADMSG, false, -1 },
	{ "error missing", "{\"v\":1,\"id\":1,\"ok\":false}", -EBADMSG, false, -1 },
	{ "error code missing", "{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"message\":\"m\"}}",
	  -EBADMSG, false, -1 },
	{ "error message number", "{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"code\":\"EIO\","
	  "\"message\":1}}", -EBADMSG, false, -1 },
};

static void test_reply_parse_row(size_t row)
{
	const struct reply_case *c = &reply_cases[row];
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	int rc;

	rc = sl_ctl_reply_parse(c->json, strlen(c->json), &rep, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d want %d (%s)", c->what, rc, c->rc, err);
	if (rc == 0) {
		ck_assert_msg(rep.ok == c->ok && rep.id == c->id, "%s: ok/id", c->what);
		ck_assert_msg(rep.ok ? rep.result != NULL : rep.code && rep.message && rep.error,
			      "%s: members", c->what);
	} else {
		ck_assert_msg(err[0] != '\0', "%s: no error text", c->what);
		ck_assert_ptr_null(rep.root);
	}
	sl_ctl_reply_release(&rep);
}

/* All rows in one test: a fork each would cost more than the checks. */
START_TEST(test_reply_parse)
{
	size_t i;

	for (i = 0; i < N(reply_cases); i++)
		test_reply_parse_row(i);
}
END_TEST

static const struct {
	int err;
	const char *name;
} errno_cases[] = {
	{ EINVAL, "EINVAL" }, { -EINVAL, "EINVAL" }, { ENOENT, "ENOENT" },
	{ EBUSY, "EBUSY" }, { EPERM, "EPERM" }, { E2BIG, "E2BIG" },
	{ EPROTO, "EPROTO" }, { ETIMEDOUT, "ETIMEDOUT" }, { EIO, "EIO" },
	{ 0, "EIO" }, { 4000, "EIO" },
};

static void test_errno_names_row(size_t row)
{
	ck_assert_str_eq(sl_ctl_errno_name(errno_cases[row].err), errno_cases[row].name);
	if (errno_cases[row].err > 0 && errno_cases[row].err < 4000)
		ck_assert_int_eq(sl_ctl_errno_value(errno_cases[row].name),
				 errno_cases[row].err);
	ck_assert_int_eq(sl_ctl_errno_value("ENOPE"), 0);
	ck_assert_int_eq(sl_ctl_errno_value(NULL), 0);
}

/* All rows in one test: a fork each would cost more than the checks. */
START_TEST(test_errno_names)
{
	size_t i;

	for (i = 0; i < N(errno_cases); i++)
		test_errno_names_row(i);
}
END_TEST

/* ---- Blocking send and receive ------------------------------------- */

START_TEST(test_send_recv)
{
	json_t *m = sl_ctl_request(5, "class.show", json_pack("{s:s}", "name", "login"));
	json_t *got, *big;
	int64_t t0;
	int sv[2];

	pair(sv);
	ck_assert_int_eq(sl_ctl_send(sv[0], m, IO_MS), 0);
	ck_assert_int_eq(sl_ctl_recv(sv[1], &got, IO_MS), 0);
	ck_assert(json_equal(m, got));
	json_decref(got);

	/* Nothing sent: a bounded wait. */
	t0 = mono_ms();
	ck_assert_int_eq(sl_ctl_recv(sv[1], &got, 100), -ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, 90);
	ck_assert_ptr_null(got);

	/* Frames that are not JSON objects. */
	send_frame(sv[0], "[1]");
	ck_assert_int_eq(sl_ctl_recv(sv[1], &got, IO_MS), -EBADMSG);
	send_frame(sv[0], "nope");
	ck_assert_int_eq(sl_ctl_recv(sv[1], &got, IO_MS), -EBADMSG);

	/* A message over the limit is not sent at all. */
	big = padded(SL_CTL_MSG_MAX);
	ck_assert_int_eq(sl_ctl_send(sv[0], big, IO_MS), -E2BIG);
	json_decref(big);

	/* The peer reads nothing: the send gives up at the deadline. */
	big = padded(4 << 20);
	t0 = mono_ms();
	ck_assert_int_eq(sl_ctl_send(sv[0], big, 100), -ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, 90);
	json_decref(big);

	/* The peer is gone: an error, not SIGPIPE. */
	close(sv[1]);
	ck_assert_int_eq(sl_ctl_send(sv[0], m, IO_MS), -EPIPE);
	ck_assert_int_eq(sl_ctl_recv(sv[0], &got, IO_MS), -ECONNRESET);
	close(sv[0]);
	json_decref(m);
}
END_TEST

/* ---- Sockets -------------------------------------------------------- */

static char tmpdir[64];

static void tmpdir_make(void)
{
	strcpy(tmpdir, "/tmp/test_ctlproto.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static char logged[1024];

static void log_hook(int prio, const char *msg)
{
	(void)prio;
	snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s\n", msg);
}

/* A group other than root's that exists here, for chown tests. */
static const struct group *other_group(void)
{
	static const char *const names[] = { "daemon", "bin", "sys", "adm", "nogroup" };
	const struct group *g;
	size_t i;

	for (i = 0; i < N(names); i++) {
		g = getgrnam(names[i]);
		if (g && g->gr_gid != 0)
			return g;
	}
	return NULL;
}

START_TEST(test_listen)
{
	char path[128], stale[128], file[128];
	const struct group *g = other_group();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	gid_t gid = 0;
	int fd, fd2, s;

	tmpdir_make();
	sl_ctl_set_log(log_hook);
	snprintf(path, sizeof(path), "%s/a.sock", tmpdir);

	/* Mode 0660 and no group asked for. */
	fd = sl_ctl_listen(path, NULL, &gid);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(gid, (gid_t)-1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);

	/* Someone listens: refused, and the socket still works. */
	ck_assert_int_eq(sl_ctl_listen(path, NULL, NULL), -EADDRINUSE);
	fd2 = sl_ctl_connect(path, IO_MS);
	ck_assert_int_ge(fd2, 0);
	close(fd2);
	close(fd);

	/* Nobody listens any more: the stale file is replaced. */
	ck_assert_int_eq(sl_ctl_connect(path, IO_MS), -ECONNREFUSED);
	fd = sl_ctl_listen(path, "root", &gid);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(gid, 0);
	ck_assert_ptr_nonnull(strstr(logged, "removed a stale socket"));
	close(fd);

	/* A bound socket that never listened is stale too. */
	snprintf(stale, sizeof(stale), "%s/b.sock", tmpdir);
	strcpy(sa.sun_path, stale);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fd = sl_ctl_listen(stale, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	close(fd);
	close(s);

	/* The group is given to the file, or kept and said when missing. */
	if (g) {
		unlink(path);
		fd = sl_ctl_listen(path, g->gr_name, &gid);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(gid, g->gr_gid);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_gid, g->gr_gid);
		close(fd);
	}
	unlink(path);
	logged[0] = '\0';
	fd = sl_ctl_listen(path, "no-such-group-sluice", &gid);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(gid, (gid_t)-1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_gid, getegid());
	ck_assert_ptr_nonnull(strstr(logged, "group 'no-such-group-sluice' does not exist"));
	close(fd);

	/* Never removed: a file that is not a socket. */
	snprintf(file, sizeof(file), "%s/file", tmpdir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_int_eq(sl_ctl_listen(file, NULL, NULL), -ENOTSOCK);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	/* Paths. */
	ck_assert_int_eq(sl_ctl_listen("", NULL, NULL), -EINVAL);
	memset(file, 'x', sizeof(file) - 1);
	file[0] = '/';
	file[sizeof(file) - 1] = '\0';
	ck_assert_int_eq(sl_ctl_listen(file, NULL, NULL), -ENAMETOOLONG);
	snprintf(file, sizeof(file), "%s/none.sock", tmpdir);
	ck_assert_int_eq(sl_ctl_connect(file, IO_MS), -ENOENT);
	snprintf(file, sizeof(file), "%s/no/dir.sock", tmpdir);
	ck_assert_int_eq(sl_ctl_listen(file, NULL, NULL), -ENOENT);
	sl_ctl_set_log(NULL);
	tmpdir_remove();
}
END_TEST

/* ---- Server --------------------------------------------------------- */

struct fixture {
	char path[128];
	struct sl_ctl_server *srv;
	pthread_t thread;
	atomic_int stop;
	atomic_int requests;
};

static struct fixture fx;

/* The handler: a few commands that exercise what the server does. */
static json_t *handler(void *ctx, const struct sl_ctl_req *req)
{
	struct fixture *f = ctx;
	json_int_t n;

	atomic_fetch_add(&f->requests, 1);
	if (strcmp(req->cmd, "test.echo") == 0)
		return sl_ctl_reply_ok(req->id, json_pack("{s:s,s:O?,s:I,s:I}",
			"cmd", req->cmd, "args", req->args,
			"uid", (json_int_t)req->uid, "pid", (json_int_t)req->pid));
	if (strcmp(req->cmd, "test.bare") == 0)
		return json_pack("{s:b,s:{}}", "ok", 1, "result");
	if (strcmp(req->cmd, "test.null") == 0)
		return NULL;
	if (strcmp(req->cmd, "test.bad") == 0)
		return json_pack("{s:s}", "ok", "yes");
	if (strcmp(req->cmd, "test.deep") == 0)
		return sl_ctl_reply_ok(req->id, json_pack("{s:[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "a"));
	if (strcmp(req->cmd, "test.big") == 0) {
		n = json_integer_value(json_object_get(req->args, "n"));
		return sl_ctl_reply_ok(req->id, padded((size_t)n));
	}
	return sl_ctl_reply_err(req->id, "ENOENT", "unknown command '%s'", req->cmd);
}

static void *server_loop(void *arg)
{
	struct fixture *f = arg;

	while (!atomic_load(&f->stop))
		ck_assert_int_ge(sl_ctl_server_poll(f->srv, 10), 0);
	return NULL;
}

/* Start a server with timeouts (ms; 0 keeps the protocol's). */
static void server_start(int read_ms, int idle_ms, int send_ms, const char *group)
{
	tmpdir_make();
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.path, sizeof(fx.path), "%s/ctl.sock", tmpdir);
	fx.srv = sl_ctl_server_create(fx.path, group, handler, &fx);
	ck_assert_msg(fx.srv != NULL, "server: %s", strerror(errno));
	sl_ctl_server_set_timeouts(fx.srv, read_ms, idle_ms, send_ms);
	ck_assert_int_eq(pthread_create(&fx.thread, NULL, server_loop, &fx), 0);
}

static void server_stop(void)
{
	struct stat st;

	atomic_store(&fx.stop, 1);
	ck_assert_int_eq(pthread_join(fx.thread, NULL), 0);
	sl_ctl_server_free(fx.srv);
	/* The socket file goes with the server. */
	ck_assert_int_eq(stat(fx.path, &st), -1);
	tmpdir_remove();
}

/* Wait until the server has n clients; false after IO_MS. */
static bool clients_become(unsigned int n)
{
	int64_t end = mono_ms() + IO_MS;

	while (sl_ctl_server_clients(fx.srv) != n) {
		if (mono_ms() > end)
			return false;
		usleep(2000);
	}
	return true;
}

/* Connect and check that the echo command works. */
static int client(void)
{
	int fd = sl_ctl_connect(fx.path, IO_MS);

	ck_assert_msg(fd >= 0, "connect: %s", strerror(-fd));
	return fd;
}

/* One echo round trip on fd: must succeed. */
static void echo_ok(int fd)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	int rc;

	rc = sl_ctl_call(fd, "test.echo", json_pack("{s:i}", "x", 1), IO_MS, &rep,
			 err, sizeof(err));
	ck_assert_msg(rc == 0, "call: %d %s", rc, err);
	ck_assert_msg(rep.ok, "echo failed: %s", rep.message);
	ck_assert_str_eq(json_string_value(json_object_get(rep.result, "cmd")), "test.echo");
	ck_assert_int_eq(json_integer_value(json_object_get(rep.result, "uid")), (int)getuid());
	sl_ctl_reply_release(&rep);
}

/* Receive a reply on fd and check it: ok, or an error with code. */
static void expect_reply(int fd, const char *what, const char *code, int64_t id,
			 const char *msg)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	json_t *m;
	int rc;

	rc = sl_ctl_recv(fd, &m, IO_MS);
	ck_assert_msg(rc == 0, "%s: recv %d", what, rc);
	rc = sl_ctl_reply_check(m, &rep, err, sizeof(err));
	json_decref(m);
	ck_assert_msg(rc == 0, "%s: reply %s", what, err);
	ck_assert_msg(rep.id == id, "%s: id %lld want %lld", what, (long long)rep.id,
		      (long long)id);
	if (!code) {
		ck_assert_msg(rep.ok, "%s: failed: %s %s", what, rep.code, rep.message);
	} else {
		ck_assert_msg(!rep.ok, "%s: succeeded", what);
		ck_assert_msg(strcmp(rep.code, code) == 0, "%s: code %s want %s", what,
			      rep.code, code);
		ck_assert_msg(!msg || strstr(rep.message, msg), "%s: message '%s' lacks '%s'",
			      what, rep.message, msg);
	}
	sl_ctl_reply_release(&rep);
}

/* The server closed fd: reading gives EOF or a reset. */
static void expect_closed(int fd, const char *what)
{
	json_t *m = NULL;
	int rc = sl_ctl_recv(fd, &m, IO_MS);

	ck_assert_msg(rc == -ECONNRESET, "%s: not closed (%d)", what, rc);
	json_decref(m);
}

static const struct exchange {
	const char *what;
	const char *json;	/* sent in a frame, unless raw */
	const char *raw;	/* sent as is */
	size_t rawlen;
	const char *code;	/* NULL: ok */
	int64_t id;
	const char *msg;	/* substring of the error message */
	bool closes;
} exchanges[] = {
	{ "echo", "{\"v\":1,\"id\":11,\"cmd\":\"test.echo\",\"args\":{\"a\":1}}", NULL, 0,
	  NULL, 11, NULL, false },
	{ "reply without v and id", "{\"v\":1,\"id\":12,\"cmd\":\"test.bare\"}", NULL, 0,
	  NULL, 12, NULL, false },
	{ "handler returns NULL", "{\"v\":1,\"id\":13,\"cmd\":\"test.null\"}", NULL, 0,
	  "EIO", 13, "test.null", false },
	{ "handler's reply malformed", "{\"v\":1,\"id\":19,\"cmd\":\"test.bad\"}", NULL, 0,
	  "EIO", 19, "invalid reply: reply field 'ok'", false },
	{ "handler's reply too deep", "{\"v\":1,\"id\":20,\"cmd\":\"test.deep\"}", NULL, 0,
	  "EIO", 20, "nested deeper than 32", false },
	{ "handler refuses", "{\"v\":1,\"id\":14,\"cmd\":\"no.such\"}", NULL, 0,
	  "ENOENT", 14, "no.such", false },
	{ "garbage", "hello", NULL, 0, "EINVAL", -1, "not valid JSON", false },
	{ "duplicate keys", "{\"v\":1,\"id\":15,\"id\":15,\"cmd\":\"test.echo\"}", NULL, 0,
	  "EINVAL", -1, "duplicate", false },
	{ "version 2", "{\"v\":2,\"id\":16,\"cmd\":\"test.echo\"}", NULL, 0,
	  "EPROTO", 16, "speaks version 1", false },
	{ "bad cmd", "{\"v\":1,\"id\":17,\"cmd\":\"TEST\"}", NULL, 0,
	  "EINVAL", 17, "'cmd'", false },
	{ "reply too big", "{\"v\":1,\"id\":18,\"cmd\":\"test.big\",\"args\":{\"n\":16777216}}",
	  NULL, 0, "E2BIG", 18, "reply exceeds", false },
	{ "oversized frame", NULL, "\x01\x00\x00\x01{}", 6, "E2BIG", -1,
	  "16777217 bytes exceeds the limit of 16777216", true },
	{ "zero length", NULL, "\x00\x00\x00\x00", 4, "EINVAL", -1, "empty message", true },
};

/* Each exchange on a fresh connection; the connection lives on or not. */
START_TEST(test_server_exchange)
{
	const struct exchange *x = &exchanges[_i];
	int fd;

	server_start(0, 0, 0, NULL);
	fd = client();
	if (x->json)
		send_frame(fd, x->json);
	else
		write_all(fd, x->raw, x->rawlen);
	expect_reply(fd, x->what, x->code, x->id, x->msg);
	if (x->closes)
		expect_closed(fd, x->what);
	else
		echo_ok(fd);
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_server_pipelined)
{
	int fd;

	server_start(0, 0, 0, NULL);
	fd = client();
	/* Two requests in one write, then garbage, then one more. */
	send_frame(fd, "{\"v\":1,\"id\":1,\"cmd\":\"test.echo\"}");
	send_frame(fd, "{\"v\":1,\"id\":2,\"cmd\":\"test.bare\"}");
	send_frame(fd, "{\"v\":1,\"id\":3,\"cmd\":\"test.echo\"");
	send_frame(fd, "{\"v\":1,\"id\":4,\"cmd\":\"test.echo\"}");
	expect_reply(fd, "first", NULL, 1, NULL);
	expect_reply(fd, "second", NULL, 2, NULL);
	expect_reply(fd, "garbage", "EINVAL", -1, NULL);
	expect_reply(fd, "fourth", NULL, 4, NULL);
	ck_assert_int_eq(atomic_load(&fx.requests), 3);
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_server_socket_mode)
{
	struct stat st;

	server_start(0, 0, 0, "root");
	ck_assert_int_eq(stat(fx.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_gid, 0);
	ck_assert_int_eq(sl_ctl_server_gid(fx.srv), 0);
	ck_assert_int_ge(sl_ctl_server_fd(fx.srv), 0);
	/* A second server on the same path is refused. */
	ck_assert_ptr_null(sl_ctl_server_create(fx.path, NULL, handler, NULL));
	ck_assert_int_eq(errno, EADDRINUSE);
	server_stop();
}
END_TEST

START_TEST(test_server_clients_max)
{
	int fd[SL_CTL_CLIENTS_MAX], extra, i;

	server_start(0, 0, 0, NULL);
	for (i = 0; i < SL_CTL_CLIENTS_MAX; i++) {
		fd[i] = client();
		echo_ok(fd[i]);
	}
	ck_assert_uint_eq(sl_ctl_server_clients(fx.srv), SL_CTL_CLIENTS_MAX);
	extra = client();
	expect_reply(extra, "17th client", "EBUSY", -1, "too many clients (16)");
	expect_closed(extra, "17th client");
	close(extra);
	/* The others are still served; a freed slot is taken again. */
	for (i = 0; i < SL_CTL_CLIENTS_MAX; i++)
		echo_ok(fd[i]);
	close(fd[0]);
	ck_assert(clients_become(SL_CTL_CLIENTS_MAX - 1));
	fd[0] = client();
	echo_ok(fd[0]);
	for (i = 0; i < SL_CTL_CLIENTS_MAX; i++)
		close(fd[i]);
	ck_assert(clients_become(0));
	server_stop();
}
END_TEST

static const struct stall_case {
	const char *what;
	const char *bytes;
	size_t n;
} stall_cases[] = {
	{ "half a header", "\x00\x00", 2 },
	{ "header only", "\x00\x00\x00\x20", 4 },
	{ "part of the body", "\x00\x00\x00\x20{\"v\":1,", 11 },
};

/* A message started and left: closed after the read timeout. */
START_TEST(test_server_read_timeout)
{
	const struct stall_case *c = &stall_cases[_i];
	int64_t t0, dt;
	int fd, busy;

	server_start(200, 5000, 0, NULL);
	fd = client();
	busy = client();
	write_all(fd, c->bytes, c->n);
	t0 = mono_ms();
	/* Meanwhile the loop serves others without waiting on the stall. */
	echo_ok(busy);
	ck_assert_int_lt(mono_ms() - t0, 150);
	expect_reply(fd, c->what, "ETIMEDOUT", -1, "not complete within 200 ms");
	dt = mono_ms() - t0;
	ck_assert_msg(dt >= 190 && dt < 1500, "%s: closed after %lld ms", c->what,
		      (long long)dt);
	expect_closed(fd, c->what);
	echo_ok(busy);
	close(fd);
	close(busy);
	server_stop();
}
END_TEST

/* Idle clients go; a client that keeps talking stays. */
START_TEST(test_server_idle_timeout)
{
	int64_t t0, dt;
	int idle, talker, i;

	server_start(0, 300, 0, NULL);
	idle = client();
	talker = client();
	t0 = mono_ms();
	for (i = 0; i < 6; i++) {
		echo_ok(talker);
		if (i == 1)	/* ~100 ms in: nobody closed yet */
			ck_assert_uint_eq(sl_ctl_server_clients(fx.srv), 2);
		usleep(100 * 1000);
	}
	expect_closed(idle, "idle client");
	dt = mono_ms() - t0;
	ck_assert_msg(dt >= 290, "idle client closed after %lld ms", (long long)dt);
	echo_ok(talker);
	close(idle);
	close(talker);
	server_stop();
}
END_TEST

/* A client that does not read its replies is closed, others go on. */
START_TEST(test_server_send_timeout)
{
	int64_t t0;
	int hog, other;

	server_start(0, 0, 500, NULL);
	hog = client();
	other = client();
	/* 2 MiB: far more than a socket buffer holds. */
	send_frame(hog, "{\"v\":1,\"id\":1,\"cmd\":\"test.big\",\"args\":{\"n\":2097152}}");
	t0 = mono_ms();
	while (atomic_load(&fx.requests) == 0)
		usleep(1000);
	/* Served while the hog's reply is stuck and the hog still connected. */
	echo_ok(other);
	ck_assert_uint_eq(sl_ctl_server_clients(fx.srv), 2);
	ck_assert(clients_become(1));
	ck_assert_int_ge(mono_ms() - t0, 450);
	echo_ok(other);
	close(hog);
	close(other);
	server_stop();
}
END_TEST

/* sl_ctl_call skips a stale reply and returns the one for its id. */
START_TEST(test_call)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	int fd;

	server_start(0, 0, 0, NULL);
	fd = client();
	send_frame(fd, "{\"v\":1,\"id\":999999,\"cmd\":\"test.bare\"}");
	ck_assert_int_eq(sl_ctl_call(fd, "no.such", NULL, IO_MS, &rep, err, sizeof(err)), 0);
	ck_assert(!rep.ok);
	ck_assert_str_eq(rep.code, "ENOENT");
	ck_assert_int_ne(rep.id, 999999);
	sl_ctl_reply_release(&rep);
	ck_assert_int_eq(sl_ctl_call(fd, "Bad", NULL, IO_MS, &rep, err, sizeof(err)), -EINVAL);
	close(fd);
	server_stop();
}
END_TEST

/* ---- Peers ---------------------------------------------------------- */

START_TEST(test_peer_self)
{
	char who[SL_CTL_WHO_MAX], want[SL_CTL_WHO_MAX];
	uid_t uid;
	pid_t pid;
	int sv[2];

	pair(sv);
	ck_assert_int_eq(sl_ctl_peer_check(sv[0], (gid_t)-1, who, sizeof(who), &uid, &pid), 0);
	snprintf(want, sizeof(want), "uid %u pid %d", (unsigned int)getuid(), (int)getpid());
	ck_assert_str_eq(who, want);
	ck_assert_int_eq(uid, getuid());
	ck_assert_int_eq(pid, getpid());
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static const struct peer_case {
	const char *what;
	bool primary;		/* nobody's primary group is the server's */
	bool supplementary;	/* the server's group among the others */
	bool other;		/* some other supplementary group */
	bool allowed;
} peer_cases[] = {
	{ "nobody, no groups", false, false, false, false },
	{ "nobody, other groups only", false, false, true, false },
	{ "nobody, primary group", true, false, false, true },
	{ "nobody, supplementary group", false, true, true, true },
};

/* In a child: become nobody as the case says and try the server. */
static int peer_child(const struct peer_case *c, gid_t gid)
{
	gid_t groups[2] = { 0 };
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	size_t n = 0;
	int fd, rc;

	if (c->other)
		groups[n++] = gid + 1000;
	if (c->supplementary)
		groups[n++] = gid;
	if (setgroups(n, groups) || setgid(c->primary ? gid : NOBODY) || setuid(NOBODY))
		return 10;
	fd = sl_ctl_connect(fx.path, IO_MS);
	if (fd < 0)
		return 11;
	/* Refused or not, the call gets a reply (see sl_ctl_call on EPIPE). */
	rc = sl_ctl_call(fd, "test.echo", NULL, IO_MS, &rep, err, sizeof(err));
	if (rc)
		return 12;
	if (c->allowed)
		rc = rep.ok && json_integer_value(json_object_get(rep.result, "uid")) == NOBODY;
	else
		rc = !rep.ok && strcmp(rep.code, "EPERM") == 0 && rep.id == -1 &&
		     strstr(rep.message, "uid 65534 pid") != NULL;
	sl_ctl_reply_release(&rep);
	return rc ? 0 : 13;
}

START_TEST(test_peer_other_uid)
{
	const struct peer_case *c = &peer_cases[_i];
	const struct group *g = other_group();
	int status;
	pid_t pid;

	if (geteuid() != 0 || !g) {
		fprintf(stderr, "test_peer_other_uid: skipped (needs root and a group)\n");
		return;
	}
	server_start(0, 0, 0, g->gr_name);
	/* File modes would stop nobody before the peer check: open them. */
	ck_assert_int_eq(chmod(tmpdir, 0711), 0);
	ck_assert_int_eq(chmod(fx.path, 0666), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(peer_child(c, g->gr_gid));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: child status %d", c->what, status);
	server_stop();
}
END_TEST

START_TEST(test_proc_in_group)
{
	gid_t groups[] = { 4242, 4343 };
	int go[2], ready[2];
	char b = 0;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "test_proc_in_group: skipped (needs root)\n");
		return;
	}
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(N(groups), groups))
			_exit(1);
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) < 0)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(sl_ctl_proc_in_group(pid, 4242), 1);
	ck_assert_int_eq(sl_ctl_proc_in_group(pid, 4343), 1);
	ck_assert_int_eq(sl_ctl_proc_in_group(pid, 4444), 0);
	ck_assert_int_eq(sl_ctl_proc_in_group(pid, 424), 0);
	ck_assert_int_eq(write(go[1], &b, 1), 1);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(sl_ctl_proc_in_group(pid, 4242), -ENOENT);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

/* ---- Seed corpus ---------------------------------------------------- */

/* Write body[0..len), framed, to DIR/name. */
static int write_seed(const char *dir, const char *name, size_t i,
		      const char *body, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 8), (uint8_t)len };
	char path[512];
	FILE *out;
	int ok;

	/* No ck_assert here: Check refuses them outside a test. */
	snprintf(path, sizeof(path), "%s/%s-%02zu", dir, name, i);
	out = fopen(path, "wb");
	ok = out && fwrite(hdr, 1, 4, out) == 4 && fwrite(body, 1, len, out) == len;
	if (out && fclose(out))
		ok = 0;
	if (!ok)
		perror(path);
	return ok ? 0 : -1;
}

/* Write the request and reply rows, framed, to DIR for the fuzzer. */
static int write_corpus(const char *dir)
{
	static const char two[] = "{\"v\":1,\"id\":1,\"cmd\":\"status\"}\0\0\0\x07{\"v\":1}";
	int rc = 0;
	char *json;
	size_t i;

	for (i = 0; i < N(req_cases); i++) {
		json = req_cases[i].json ? strdup(req_cases[i].json) : nested(req_cases[i].depth);
		rc |= write_seed(dir, "req", i, json, strlen(json));
		free(json);
	}
	for (i = 0; i < N(reply_cases); i++)
		rc |= write_seed(dir, "reply", i, reply_cases[i].json,
				 strlen(reply_cases[i].json));
	/* Two frames back to back (the header of the second in the first's body). */
	rc |= write_seed(dir, "two", 0, two, sizeof(two) - 1);
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}

static Suite *ctlproto_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc;

	tc = tcase_create("framing");
	tcase_add_loop_test(tc, test_rx_bytewise, 0, N(split_sizes));
	tcase_add_loop_test(tc, test_rx_mem_split, 0, N(split_sizes));
	tcase_add_test(tc, test_rx_back_to_back);
	tcase_add_test(tc, test_rx_errors);
	tcase_add_test(tc, test_send_recv);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, test_req_parse);
	tcase_add_test(tc, test_request_build);
	tcase_add_test(tc, test_reply_build);
	tcase_add_test(tc, test_reply_parse);
	tcase_add_test(tc, test_errno_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("sockets");
	tcase_add_test(tc, test_listen);
	tcase_add_test(tc, test_peer_self);
	tcase_add_loop_test(tc, test_peer_other_uid, 0, N(peer_cases));
	tcase_add_test(tc, test_proc_in_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_server_exchange, 0, N(exchanges));
	tcase_add_test(tc, test_server_pipelined);
	tcase_add_test(tc, test_server_socket_mode);
	tcase_add_test(tc, test_server_clients_max);
	tcase_add_loop_test(tc, test_server_read_timeout, 0, N(stall_cases));
	tcase_add_test(tc, test_server_idle_timeout);
	tcase_add_test(tc, test_server_send_timeout);
	tcase_add_test(tc, test_call);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
		return write_corpus(argv[2]);
	/* SIGPIPE stays fatal: the library must never raise it. */
	sr = srunner_create(ctlproto_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
