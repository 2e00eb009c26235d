/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl's side of sluiced's socket: one request per connection, with
 * bounded waits, and every way it can fail turned into a message an SRE
 * can act on ("is it running?", "add your user to group sluice"). The
 * messages are built by pure functions so they can be tested without a
 * daemon.
 */
#ifndef SLUICE_DAEMON_CLIENT_H
#define SLUICE_DAEMON_CLIENT_H

#include <stdio.h>

#include <jansson.h>

struct cli_ctx;

#define DC_CONNECT_TIMEOUT_MS	2000	/* a listening sluiced accepts at once */
#define DC_TIMEOUT_MS		10000	/* status, stats, show... */
#define DC_APPLY_TIMEOUT_MS	60000	/* compile, persist, push to the dataplane */
#define DC_POLICY_MAX		(4u << 20)	/* bytes of policy text sent */

/*
 * Send cmd with args (stolen; NULL for none) to sluiced at ctx->socket
 * and wait up to timeout_ms for the reply. On success stores the result
 * (a new reference to an object) in *result and returns CLI_OK. On any
 * failure reports it (stderr, or JSON on stdout with -j) and returns
 * CLI_FAIL.
 */
int dc_call(const struct cli_ctx *ctx, const char *cmd, json_t *args,
	    int timeout_ms, json_t **result);

/*
 * The message for a local failure err (negative errno) reaching the
 * socket at path; detail is what sl_ctl_call() said, or NULL.
 */
void dc_local_error(char *buf, size_t len, const char *path, int err,
		    const char *detail);

/*
 * A server's error object {"code", "message", "diagnostics"?} for
 * people: each diagnostic as "file:line:column: message" on its own
 * line, then "prog: message". EPERM gets the group hint.
 */
void dc_error_print(FILE *f, const char *prog, const json_t *error);

/*
 * The same error for -j: {"error": message, "code": code} plus
 * "diagnostics" (and "more") when the server sent them. New reference.
 */
json_t *dc_error_json(const json_t *error);

/*
 * Read a policy file to send: stores its text as a JSON string in *text
 * and returns CLI_OK, or reports why it cannot be sent (missing, too
 * large, not UTF-8) and returns CLI_FAIL.
 */
int dc_read_policy(const struct cli_ctx *ctx, const char *path, json_t **text);

#endif /* SLUICE_DAEMON_CLIENT_H */
