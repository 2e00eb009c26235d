/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctlproto.h"
#include "daemon_client.h"

#define DC_GROUP_HINT	"permission denied: add your user to group sluice"

void dc_local_error(char *buf, size_t len, const char *path, int err,
		    const char *detail)
{
	const char *why = detail != NULL && *detail != '\0' ? detail : strerror(-err);

	switch (-err) {
	case ENOENT:
	case ECONNREFUSED:
	case ENOTDIR:
		snprintf(buf, len, "cannot reach sluiced at %s: is it running? (systemctl status sluiced)",
			 path);
		break;
	case EACCES:
	case EPERM:
		snprintf(buf, len, "%s", DC_GROUP_HINT);
		break;
	case ETIMEDOUT:
		snprintf(buf, len, "sluiced at %s did not answer in time: %s", path, why);
		break;
	case ENAMETOOLONG:
	case EINVAL:
		snprintf(buf, len, "'%s' cannot be a socket path: %s", path, why);
		break;
	case ECONNRESET:
	case EPIPE:
		snprintf(buf, len, "sluiced at %s closed the connection: %s", path, why);
		break;
	default:
		snprintf(buf, len, "sluiced at %s: %s", path, why);
	}
}

/* The message to show for a server's error object. */
static const char *error_message(const json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *msg = json_string_value(json_object_get(error, "message"));

	if (code != NULL && strcmp(code, "EPERM") == 0)
		return DC_GROUP_HINT;
	if (msg == NULL || *msg == '\0')
		return code != NULL ? code : "sluiced refused the request";
	return msg;
}

void dc_error_print(FILE *f, const char *prog, const json_t *error)
{
	json_t *diags = json_object_get(error, "diagnostics"), *d;
	json_int_t more = json_integer_value(json_object_get(error, "more"));
	const char *file = "policy";
	size_t i;

	json_array_foreach(diags, i, d) {
		json_int_t line = json_integer_value(json_object_get(d, "line"));
		json_int_t col = json_integer_value(json_object_get(d, "column"));
		const char *msg = json_string_value(json_object_get(d, "message"));

		if (json_is_string(json_object_get(d, "file")))
			file = json_string_value(json_object_get(d, "file"));
		if (msg == NULL)
			msg = "(no message)";
		if (line <= 0)
			fprintf(f, "%s: %s\n", file, msg);
		else if (col <= 0)
			fprintf(f, "%s:%" JSON_INTEGER_FORMAT ": %s\n", file, line, msg);
		else
			fprintf(f, "%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ": %s\n",
				file, line, col, msg);
	}
	if (more > 0)
		fprintf(f, "%s: %" JSON_INTEGER_FORMAT " more errors not shown\n", file, more);
	fprintf(f, "%s: %s\n", prog, error_message(error));
}

json_t *dc_error_json(const json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	json_t *diags = json_object_get(error, "diagnostics");
	json_t *out = json_pack("{s:s,s:s}", "error", error_message(error),
				"code", code != NULL ? code : "EIO");

	if (out == NULL || !json_is_array(diags))
		return out;
	/* The shape of `policy check -j` for a refused policy, plus code. */
	json_object_set_new(out, "valid", json_false());
	json_object_set_new(out, "diagnostics", json_deep_copy(diags));
	json_object_set_new(out, "more", json_integer(
		json_integer_value(json_object_get(error, "more"))));
	return out;
}

/* Report a failure of this side (connect, send, receive); CLI_FAIL. */
static int report_local(const struct cli_ctx *ctx, int err, const char *detail)
{
	char msg[1024];

	dc_local_error(msg, sizeof(msg), ctx->socket, err, detail);
	if (!ctx->json) {
		fprintf(stderr, "%s: %s\n", ctx->prog, msg);
		return CLI_FAIL;
	}
	cli_json_out(ctx, json_pack("{s:s,s:s}", "error", msg,
				    "code", sl_ctl_errno_name(err)));
	return CLI_FAIL;
}

int dc_call(const struct cli_ctx *ctx, const char *cmd, json_t *args,
	    int timeout_ms, json_t **result)
{
	char detail[SL_CTL_ERR_MAX] = "";
	struct sl_ctl_reply rep;
	int fd, rc;

	*result = NULL;
	fd = sl_ctl_connect(ctx->socket, DC_CONNECT_TIMEOUT_MS);
	if (fd < 0) {
		json_decref(args);
		return report_local(ctx, fd, NULL);
	}
	rc = sl_ctl_call(fd, cmd, args, timeout_ms, &rep, detail, sizeof(detail));
	close(fd);
	if (rc < 0)
		return report_local(ctx, rc, detail);
	if (!rep.ok) {
		if (ctx->json)
			cli_json_out(ctx, dc_error_json(rep.error));
		else
			dc_error_print(stderr, ctx->prog, rep.error);
		sl_ctl_reply_release(&rep);
		return CLI_FAIL;
	}
	*result = json_incref(rep.result);
	sl_ctl_reply_release(&rep);
	return CLI_OK;
}

int dc_read_policy(const struct cli_ctx *ctx, const char *path, json_t **text)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n = 0, cap = 64 * 1024;
	char *buf, *nbuf;
	int err;

	*text = NULL;
	if (f == NULL)
		return cli_error(ctx, CLI_FAIL, "%s: %s", path, strerror(errno));
	buf = malloc(cap);
	while (buf != NULL && !feof(f) && !ferror(f) && n <= DC_POLICY_MAX) {
		if (n == cap) {
			nbuf = realloc(buf, cap * 2);
			if (nbuf == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n += fread(buf + n, 1, cap - n, f);
	}
	err = ferror(f) ? errno : buf == NULL ? ENOMEM : 0;
	if (f != stdin)
		fclose(f);
	if (err != 0) {
		free(buf);
		return cli_error(ctx, CLI_FAIL, "%s: %s", path, strerror(err));
	}
	if (n > DC_POLICY_MAX) {
		free(buf);
		return cli_error(ctx, CLI_FAIL, "%s: larger than %u MiB, more than a policy may be",
				 path, DC_POLICY_MAX >> 20);
	}
	*text = json_stringn(buf, n);
	free(buf);
	if (*text == NULL)
		return cli_error(ctx, CLI_FAIL, "%s: not UTF-8 text", path);
	return CLI_OK;
}
