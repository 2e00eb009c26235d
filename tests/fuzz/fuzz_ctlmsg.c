/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control protocol's receiving side. Every
 * input is a byte stream as a peer could send it:
 *
 *  - the frame reader takes it in chunks of sizes drawn from a hash of
 *    the input (with a lowered limit, so E2BIG is in reach) and must
 *    yield exactly the frames and the error a one-shot reference
 *    decoder finds;
 *  - each complete frame, and the whole input as one message, goes
 *    through sl_ctl_req_parse() and sl_ctl_reply_parse(), whose results
 *    must keep their documented promises: a valid request rebuilt with
 *    sl_ctl_request() parses to the same, a refusal always has a reason
 *    and always makes an error reply.
 *
 * Build and run with tests/fuzz/build.sh ctlmsg SECONDS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

#define FUZZ_MSG_MAX	1024	/* reader limit here, to reach E2BIG */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, size_t size)
{
	fprintf(stderr, "fuzz_ctlmsg: %s (input of %zu bytes)\n", why, size);
	abort();
}

/* Is cmd a valid command name, as the parser promises? */
static int cmd_ok(const char *cmd)
{
	size_t n = strlen(cmd), i;

	if (n == 0 || n >= SL_CTL_CMD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((cmd[i] >= 'a' && cmd[i] <= 'z') || cmd[i] == '.'))
			return 0;
	return 1;
}

/* A valid request, rebuilt and parsed again, must come back the same. */
static void check_rebuild(const struct sl_ctl_req *req, size_t size)
{
	char err[SL_CTL_ERR_MAX], *s;
	struct sl_ctl_req again;
	json_t *m;

	m = sl_ctl_request(req->id, req->cmd, json_incref(req->args));
	if (!m)
		fail("a parsed request cannot be rebuilt", size);
	s = json_dumps(m, JSON_COMPACT);
	if (!s || sl_ctl_req_parse(s, strlen(s), &again, err, sizeof(err)) != 0)
		fail("a rebuilt request does not parse", size);
	if (again.id != req->id || strcmp(again.cmd, req->cmd) ||
	    (req->args ? !json_equal(again.args, req->args) : again.args != NULL))
		fail("a rebuilt request parses differently", size);
	sl_ctl_req_release(&again);
	free(s);
	json_decref(m);
}

/* Run msg[0..len) through both parsers and check what they promise. */
static void check_message(const char *msg, size_t len, size_t size)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	struct sl_ctl_req req;
	json_t *r;
	int rc;

	rc = sl_ctl_req_parse(msg, len, &req, err, sizeof(err));
	if (rc == 0) {
		if (!req.root || err[0] || !cmd_ok(req.cmd) || req.id < 0 ||
		    req.id > SL_CTL_ID_MAX || (req.args && !json_is_object(req.args)))
			fail("accepted request breaks an invariant", size);
		check_rebuild(&req, size);
		sl_ctl_req_release(&req);
	} else {
		if ((rc != -EINVAL && rc != -EPROTO) || !err[0] || req.root ||
		    req.id < -1 || req.id > SL_CTL_ID_MAX)
			fail("refused request breaks an invariant", size);
		/* What the server answers must always be buildable. */
		r = sl_ctl_reply_errno(req.id, rc, "%s", err);
		if (!r)
			fail("no error reply for a refused request", size);
		json_decref(r);
	}

	rc = sl_ctl_reply_parse(msg, len, &rep, err, sizeof(err));
	if (rc == 0) {
		if (!rep.root || (rep.ok ? !json_is_object(rep.result) :
				  !rep.code || !rep.message || !json_is_object(rep.error)))
			fail("accepted reply breaks an invariant", size);
	} else if ((rc != -EBADMSG && rc != -EPROTO) || !err[0] || rep.root) {
		fail("refused reply breaks an invariant", size);
	}
	sl_ctl_reply_release(&rep);
}

/* What the reader must report after all of data: frames and an end. */
struct expect {
	size_t frames;		/* complete frames */
	int end;		/* 0 (more needed) or the framing error */
};

/* One-shot reference decoder over the whole input. */
static struct expect reference(const uint8_t *d, size_t size)
{
	struct expect e = { 0, 0 };
	size_t off = 0;
	uint32_t len;

	while (size - off >= SL_CTL_HDR_LEN) {
		len = (uint32_t)d[off] << 24 | (uint32_t)d[off + 1] << 16 |
		      (uint32_t)d[off + 2] << 8 | d[off + 3];
		if (len == 0 || len > FUZZ_MSG_MAX) {
			e.end = len ? -E2BIG : -EINVAL;
			return e;
		}
		if (size - off - SL_CTL_HDR_LEN < len)
			return e;
		off += SL_CTL_HDR_LEN + len;
		e.frames++;
	}
	return e;
}

/* Next chunk size, 1..64, from a xorshift generator. */
static size_t chunk(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return 1 + (size_t)(*s % 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect want = reference(data, size);
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ size;
	size_t off = 0, frames = 0, pos = 0, n, used, i, biggest = 0;
	struct sl_ctl_rx rx;
	int rc = 0;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ull;
	sl_ctl_rx_init(&rx);
	rx.max = FUZZ_MSG_MAX;
	while (off < size) {
		n = chunk(&seed);
		if (n > size - off)
			n = size - off;
		rc = sl_ctl_rx_feed_mem(&rx, data + off, n, &used);
		if (used > n)
			fail("reader took more than it was given", size);
		off += used;
		if (rc < 0)
			break;
		if (rc == 1) {
			/* The frame's bytes, untouched, NUL after them. */
			if (rx.len > FUZZ_MSG_MAX || rx.buf[rx.len] != '\0' ||
			    memcmp(rx.buf, data + pos + SL_CTL_HDR_LEN, rx.len))
				fail("frame differs from its bytes", size);
			/* Never more memory than the largest frame so far needed. */
			if (rx.len > biggest)
				biggest = rx.len;
			if (rx.cap > biggest + 1)
				fail("reader allocated beyond the frames", size);
			check_message(rx.buf, rx.len, size);
			pos += SL_CTL_HDR_LEN + rx.len;
			if (off != pos)
				fail("reader read past the frame", size);
			frames++;
			sl_ctl_rx_next(&rx);
			rc = 0;
		}
	}
	if (frames != want.frames || rc != want.end)
		fail("reader disagrees with the reference decoder", size);
	if (rc == 0 && sl_ctl_rx_started(&rx) != (pos < size))
		fail("reader lost a partial frame", size);
	sl_ctl_rx_free(&rx);

	/* The whole input as one message, as a peer may well send. */
	check_message((const char *)data, size, size);
	return 0;
}
