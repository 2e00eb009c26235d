/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint of sluiced: GET /metrics on a localhost port
 * (default SL_METRICS_PORT), text exposition format 0.0.4, served by
 * libmicrohttpd's own thread. The daemon supplies a render callback that
 * writes the current metrics with the sl_prom_* helpers.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdint.h>
#include <stdio.h>

#define SL_METRICS_PORT		9477
#define SL_METRICS_ADDR		"127.0.0.1"

/* Write every metric to f; runs on the HTTP thread. */
typedef void (*sl_metrics_render_fn)(void *ctx, FILE *f);

struct sl_metrics;

/*
 * Listen on addr:port (an IPv4 literal; localhost unless the operator
 * says otherwise). Returns NULL with a message in err on failure.
 */
struct sl_metrics *sl_metrics_start(const char *addr, uint16_t port,
				    sl_metrics_render_fn fn, void *ctx,
				    char *err, size_t errlen);
void sl_metrics_stop(struct sl_metrics *m);

/* "# HELP name help\n# TYPE name type\n" */
void sl_prom_family(FILE *f, const char *name, const char *type,
		    const char *help);
/*
 * One sample: name{labels} value. labels is NULL or pairs of
 * (label, value) strings ending with NULL; values are escaped.
 */
void sl_prom_sample(FILE *f, const char *name, double value, ...);

#endif /* SLUICE_METRICS_H */
