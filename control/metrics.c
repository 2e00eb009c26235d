/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "metrics.h"

struct sl_metrics {
	struct MHD_Daemon *mhd;
	sl_metrics_render_fn fn;
	void *ctx;
};

static void put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

void sl_prom_family(FILE *f, const char *name, const char *type,
		    const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sl_prom_sample(FILE *f, const char *name, double value, ...)
{
	const char *label, *sep = "{";
	va_list ap;

	fputs(name, f);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *)) != NULL) {
		fprintf(f, "%s%s=\"", sep, label);
		put_escaped(f, va_arg(ap, const char *));
		fputc('"', f);
		sep = ",";
	}
	va_end(ap);
	if (*sep == ',')
		fputc('}', f);
	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		fprintf(f, " %.0f\n", value);
	else
		fprintf(f, " %.17g\n", value);
}

/* One request: only GET /metrics (and / for people) are served. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	struct sl_metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	(void)version; (void)upload; (void)upload_len; (void)state;

	if (strcmp(method, "GET") != 0) {
		body = strdup("only GET is served\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		len = body ? strlen(body) : 0;
	} else if (strcmp(url, "/metrics") == 0) {
		f = open_memstream(&body, &len);
		if (f == NULL)
			return MHD_NO;
		m->fn(m->ctx, f);
		fclose(f);
	} else {
		body = strdup("sluiced: metrics are at /metrics\n");
		status = strcmp(url, "/") == 0 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND;
		len = body ? strlen(body) : 0;
	}
	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				status == MHD_HTTP_OK && strcmp(url, "/metrics") == 0 ?
				"text/plain; version=0.0.4; charset=utf-8" :
				"text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct sl_metrics *sl_metrics_start(const char *addr, uint16_t port,
				    sl_metrics_render_fn fn, void *ctx,
				    char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sl_metrics *m;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "metrics address %s: not an IPv4 address", addr);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->fn = fn;
	m->ctx = ctx;
	/* Bounded: few connections, short timeouts; scrapes are small. */
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				  port, NULL, NULL, on_request, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_CONNECTION_LIMIT, 8u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (m->mhd == NULL) {
		snprintf(err, errlen, "cannot serve metrics on %s:%u: %s", addr,
			 port, strerror(errno));
		free(m);
		return NULL;
	}
	return m;
}

void sl_metrics_stop(struct sl_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
