/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model written back out: as YAML text that the loader reads
 * into an identical model (sluiced's class.set edits a model and applies
 * the text), as JSON for class.list and class.show, and the value
 * formatters both use ("200pps", "64KB", "src/24", "syn/syn,ack").
 *
 * Formatting picks the largest unit that keeps the value exact, so
 * 10000000 bits/s is "10Mbit" and 1500000 is "1500kbit", never a
 * rounded "1.5Mbit"-style approximation that a reader could misjudge.
 */
#ifndef SLUICE_POLICY_RENDER_H
#define SLUICE_POLICY_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

#define SL_FMT_MAX	64	/* room for any one formatted value */

/* Accepts a rate of a limit; writes e.g. "200pps" or "10Mbit" into buf. */
char *sl_rate_format(uint64_t rate, enum sl_rate_unit unit, char *buf,
		     size_t len);

/* Accepts a burst of a limit; writes e.g. "400" or "64KB" into buf. */
char *sl_burst_format(uint64_t burst, enum sl_rate_unit unit, char *buf,
		      size_t len);

/* Accepts a limit; writes its key ("src", "dst/64", "flow", "none"). */
char *sl_key_format(const struct sl_limit *l, char *buf, size_t len);

/* Accepts a port or VLAN range; writes "80" or "5000-5999". */
char *sl_range_format(const struct sl_range *r, char *buf, size_t len);

/*
 * Accepts TCP flags and mask as the loader stores them; writes the
 * shortest form that loads back to the same pair: "syn", "syn,ack",
 * "syn,!ack,!rst" or "syn/syn".
 */
char *sl_tcp_flags_format(uint8_t flags, uint8_t mask, char *buf, size_t len);

/* Accepts a proto number or SL_PROTO_ANY; writes its name or number. */
char *sl_proto_format(int proto, char *buf, size_t len);

/* Accepts an exceed action; returns "drop", "monitor", "mark" or "shape". */
const char *sl_exceed_name(enum sl_exceed_action a);

/*
 * Accepts a valid model and an optional comment (one line, written as
 * "# comment" on top; NULL for none). Renders the whole model as YAML:
 * every field the model holds, so that sl_policy_load_buf() of the text
 * gives the same model (source positions aside). Comments and layout of
 * the text the model came from are not kept. *text is malloc()ed and
 * NUL-terminated, *len its length. Returns 0, -ENOMEM, or -EINVAL for a
 * model the language cannot express (a DSCP above 63, a family other
 * than 4 or 6).
 */
int sl_policy_render(const struct sl_policy *p, const char *comment,
		     char **text, size_t *len);

/*
 * Accepts a class and its index in the policy. Returns the class as
 * docs/protocol.md's CLASS object (a new reference), or NULL when out
 * of memory.
 */
json_t *sl_class_json(const struct sl_class *c, uint32_t index);

#endif /* SLUICE_POLICY_RENDER_H */
