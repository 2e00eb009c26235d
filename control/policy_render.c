/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model as YAML (through libyaml's emitter, which decides
 * what needs quoting) and as JSON; see policy_render.h.
 *
 * Layout of the YAML: the top level and each class are block mappings,
 * match is a block mapping, limit, ceiling and exceed are flow mappings and
 * lists are flow sequences, close to how docs/policy.md writes them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy_render.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Value formatters ----------------------------------------------- */

/* Units in increasing size; a value takes the largest that divides it. */
struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit pps_units[] = {
	{ "pps", 1 }, { "kpps", 1000 }, { "Mpps", 1000000 },
};

static const struct unit bit_units[] = {
	{ "bit", 1 }, { "kbit", 1000 }, { "Mbit", 1000000 },
	{ "Gbit", 1000000000 },
};

static const struct unit byte_units[] = {
	{ "B", 1 }, { "KB", 1024 }, { "MB", 1024 * 1024 },
	{ "GB", 1024 * 1024 * 1024 },
};

static const struct unit time_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
};

/* Accepts a value and units; writes value in the largest exact unit. */
static char *format_units(uint64_t v, const struct unit *u, size_t n,
			  char *buf, size_t len)
{
	size_t i = n - 1;

	while (i > 0 && (v == 0 || v % u[i].mult != 0))
		i--;
	snprintf(buf, len, "%" PRIu64 "%s", v / u[i].mult, u[i].name);
	return buf;
}

/* Accepts a rate; "200pps", "10Mbit". */
char *sl_rate_format(uint64_t rate, enum sl_rate_unit unit, char *buf,
		     size_t len)
{
	if (unit == SL_UNIT_BITS)
		return format_units(rate, bit_units, N(bit_units), buf, len);
	return format_units(rate, pps_units, N(pps_units), buf, len);
}

/* Accepts a burst; a packet count is a bare number, bytes have a unit. */
char *sl_burst_format(uint64_t burst, enum sl_rate_unit unit, char *buf,
		      size_t len)
{
	if (unit == SL_UNIT_BITS)
		return format_units(burst, byte_units, N(byte_units), buf, len);
	snprintf(buf, len, "%" PRIu64, burst);
	return buf;
}

/* Accepts a limit; src and dst without /N mean the whole address (128). */
char *sl_key_format(const struct sl_limit *l, char *buf, size_t len)
{
	const char *base;

	switch (l->key) {
	case SL_KEY_SRC:
		base = "src";
		break;
	case SL_KEY_DST:
		base = "dst";
		break;
	case SL_KEY_FLOW:
		snprintf(buf, len, "flow");
		return buf;
	default:
		snprintf(buf, len, "none");
		return buf;
	}
	if (l->prefix_len >= 128)
		snprintf(buf, len, "%s", base);
	else
		snprintf(buf, len, "%s/%u", base, l->prefix_len);
	return buf;
}

/* Accepts a range; a single value without the dash. */
char *sl_range_format(const struct sl_range *r, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
	return buf;
}

static const char *const tcp_flag_names[8] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
};

/* Accepts a flag set; appends "name,name" (each after prefix) to buf. */
static void flag_list(uint8_t bits, const char *prefix, char *buf, size_t len)
{
	size_t used;
	int b;

	for (b = 0; b < 8; b++) {
		if (!(bits & (1u << b)))
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s%s", used ? "," : "",
			 prefix, tcp_flag_names[b]);
	}
}

/*
 * Accepts flags within mask. "syn" alone means SYN without ACK to the
 * loader, so SYN set with only SYN in the mask needs the VALUES/MASK
 * form; every other pair is a list of set and negated flags.
 */
char *sl_tcp_flags_format(uint8_t flags, uint8_t mask, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (flags == SL_TCP_SYN && mask == (SL_TCP_SYN | SL_TCP_ACK)) {
		snprintf(buf, len, "syn");
		return buf;
	}
	if (flags == SL_TCP_SYN && mask == SL_TCP_SYN) {
		snprintf(buf, len, "syn/syn");
		return buf;
	}
	flag_list(flags & mask, "", buf, len);
	flag_list(mask & (uint8_t)~flags, "!", buf, len);
	return buf;
}

static const struct {
	const char *name;
	int proto;
} proto_names[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 },
	{ "sctp", 132 },
};

/* Accepts a proto; the loader's name for it, or its number. */
char *sl_proto_format(int proto, char *buf, size_t len)
{
	size_t i;

	if (proto == SL_PROTO_ANY) {
		snprintf(buf, len, "any");
		return buf;
	}
	for (i = 0; i < N(proto_names); i++) {
		if (proto_names[i].proto == proto) {
			snprintf(buf, len, "%s", proto_names[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%d", proto);
	return buf;
}

/* Accepts an action; its name in the policy language. */
const char *sl_exceed_name(enum sl_exceed_action a)
{
	switch (a) {
	case SL_EXCEED_MONITOR:
		return "monitor";
	case SL_EXCEED_MARK:
		return "mark";
	case SL_EXCEED_SHAPE:
		return "shape";
	default:
		return "drop";
	}
}

/* ---- YAML ------------------------------------------------------------ */

/* One rendering: the emitter and whether an event failed. */
struct rd {
	yaml_emitter_t e;
	bool failed;
};

/* Accepts an initialised event; emits it unless an earlier one failed. */
static void emit(struct rd *r, yaml_event_t *ev)
{
	if (r->failed) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&r->e, ev))	/* deletes ev either way */
		r->failed = true;
}

/* Accepts a value and a style; emits it as a scalar. */
static void scalar_style(struct rd *r, const char *v, yaml_scalar_style_t st)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (const yaml_char_t *)v, (int)strlen(v),
					  1, 1, st)) {
		r->failed = true;
		return;
	}
	emit(r, &ev);
}

/* Accepts a value; emits it plain where YAML allows, else quoted. */
static void scalar(struct rd *r, const char *v)
{
	scalar_style(r, v, YAML_ANY_SCALAR_STYLE);
}

/* Accepts a key and a value; emits the pair of a mapping. */
static void pair(struct rd *r, const char *k, const char *v)
{
	scalar(r, k);
	scalar(r, v);
}

/* Accepts a style; starts a mapping ({a: b} when flow). */
static void map_start(struct rd *r, bool flow)
{
	yaml_event_t ev;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
			flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)) {
		r->failed = true;
		return;
	}
	emit(r, &ev);
}

/* Ends the current mapping. */
static void map_end(struct rd *r)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	emit(r, &ev);
}

/* Accepts a style; starts a sequence ([a, b] when flow). */
static void seq_start(struct rd *r, bool flow)
{
	yaml_event_t ev;

	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)) {
		r->failed = true;
		return;
	}
	emit(r, &ev);
}

/* Ends the current sequence. */
static void seq_end(struct rd *r)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	emit(r, &ev);
}

/*
 * Accepts a class name. The loader reads a plain empty, "~" or "null"
 * as no value at all, so such names (legal when quoted) stay quoted.
 */
static void name_scalar(struct rd *r, const char *name)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	for (i = 0; i < N(nulls); i++)
		if (strcmp(name, nulls[i]) == 0) {
			scalar_style(r, name, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
			return;
		}
	scalar(r, name);
}

/* Accepts a list of prefixes; emits key: [p, ...]. */
static int prefixes(struct rd *r, const char *key, const struct sl_prefix *p,
		    uint32_t n)
{
	char buf[SL_FMT_MAX];
	uint32_t i;

	scalar(r, key);
	seq_start(r, true);
	for (i = 0; i < n; i++) {
		if ((p[i].family != 4 && p[i].family != 6) ||
		    p[i].len > (p[i].family == 4 ? 32 : 128))
			return -EINVAL;
		scalar(r, sl_prefix_format(&p[i], buf, sizeof(buf)));
	}
	seq_end(r);
	return 0;
}

/* Accepts a list of ranges; emits key: [r, ...]. */
static void ranges(struct rd *r, const char *key, const struct sl_range *v,
		   uint32_t n)
{
	char buf[SL_FMT_MAX];
	uint32_t i;

	scalar(r, key);
	seq_start(r, true);
	for (i = 0; i < n; i++)
		scalar(r, sl_range_format(&v[i], buf, sizeof(buf)));
	seq_end(r);
}

/* Accepts a DSCP bitmap; emits dscp: [name, ...] in numeric order. */
static void dscps(struct rd *r, uint64_t bits)
{
	unsigned int d;

	scalar(r, "dscp");
	seq_start(r, true);
	for (d = 0; d < 64; d++)
		if (bits & (1ull << d))
			scalar(r, sl_dscp_name((uint8_t)d));
	seq_end(r);
}

/* Accepts a match; emits match: {...}, or nothing when it sets no field. */
static int match(struct rd *r, const struct sl_match *m)
{
	char buf[SL_FMT_MAX];
	int rc = 0;

	if (m->fields == 0)
		return 0;
	scalar(r, "match");
	map_start(r, false);
	if (m->fields & SL_M_PROTO)
		pair(r, "proto", sl_proto_format(m->proto, buf, sizeof(buf)));
	if (m->fields & SL_M_SRC)
		rc |= prefixes(r, "src", m->src, m->n_src);
	if (m->fields & SL_M_DST)
		rc |= prefixes(r, "dst", m->dst, m->n_dst);
	if (m->fields & SL_M_SPORT)
		ranges(r, "sport", m->sport, m->n_sport);
	if (m->fields & SL_M_DPORT)
		ranges(r, "dport", m->dport, m->n_dport);
	if (m->fields & SL_M_TCP_FLAGS)
		pair(r, "tcp_flags", sl_tcp_flags_format(m->tcp_flags,
				m->tcp_mask, buf, sizeof(buf)));
	if (m->fields & SL_M_VLAN)
		ranges(r, "vlan", m->vlan, m->n_vlan);
	if (m->fields & SL_M_DSCP)
		dscps(r, m->dscp);
	if ((m->fields & SL_M_PAYLOAD) && m->payload)
		pair(r, "payload", m->payload);
	map_end(r);
	return rc;
}

/* Accepts a limit; emits limit: {key, rate, burst}. */
static void limit(struct rd *r, const struct sl_limit *l)
{
	char buf[SL_FMT_MAX];

	scalar(r, "limit");
	map_start(r, true);
	pair(r, "key", sl_key_format(l, buf, sizeof(buf)));
	pair(r, "rate", sl_rate_format(l->rate, l->unit, buf, sizeof(buf)));
	pair(r, "burst", sl_burst_format(l->burst, l->unit, buf, sizeof(buf)));
	map_end(r);
}

/* Accepts a ceiling; emits ceiling: {rate, burst}. */
static void ceiling(struct rd *r, const struct sl_ceiling *c)
{
	char buf[SL_FMT_MAX];

	scalar(r, "ceiling");
	map_start(r, true);
	pair(r, "rate", sl_rate_format(c->rate, c->unit, buf, sizeof(buf)));
	pair(r, "burst", sl_burst_format(c->burst, c->unit, buf, sizeof(buf)));
	map_end(r);
}

/* Accepts an exceed; emits exceed: drop | monitor | {mark: D} | {shape: T}. */
static int exceed(struct rd *r, const struct sl_exceed *x)
{
	char buf[SL_FMT_MAX];

	scalar(r, "exceed");
	switch (x->action) {
	case SL_EXCEED_MARK:
		if (x->dscp > 63)
			return -EINVAL;
		map_start(r, true);
		pair(r, "mark", sl_dscp_name(x->dscp));
		map_end(r);
		return 0;
	case SL_EXCEED_SHAPE:
		map_start(r, true);
		pair(r, "shape", format_units(x->shape_ns, time_units,
					      N(time_units), buf, sizeof(buf)));
		map_end(r);
		return 0;
	default:
		scalar(r, sl_exceed_name(x->action));
		return 0;
	}
}

/*
 * Accepts a class. A class without a limit or a ceiling has no exceed
 * (the loader refuses one there); the default exceed, drop, is written
 * out anyway so the text says what happens.
 */
static int class(struct rd *r, const struct sl_class *c)
{
	int rc;

	map_start(r, false);
	scalar(r, "name");
	name_scalar(r, c->name);
	rc = match(r, &c->match);
	if (c->has_limit)
		limit(r, &c->limit);
	if (c->has_ceiling)
		ceiling(r, &c->ceiling);
	if (c->has_limit || c->has_ceiling)
		rc |= exceed(r, &c->exceed);
	map_end(r);
	return rc;
}

/* Accepts a model; emits the whole document. */
static int document(struct rd *r, const struct sl_policy *p)
{
	yaml_event_t ev;
	uint32_t i;
	int rc = 0;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(r, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(r, &ev);
	map_start(r, false);
	pair(r, "version", "1");
	pair(r, "default", p->default_action == SL_DEFAULT_DROP ? "drop" : "pass");
	scalar(r, "classes");
	seq_start(r, false);
	for (i = 0; i < p->n_classes && rc == 0; i++)
		rc = class(r, &p->classes[i]);
	seq_end(r);
	map_end(r);
	yaml_document_end_event_initialize(&ev, 1);
	emit(r, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(r, &ev);
	return rc;
}

/* Accepts a comment; writes it as "# ..." lines, one per line of it. */
static void put_comment(FILE *f, const char *comment)
{
	const char *p = comment;

	fputs("# ", f);
	for (; *p; p++) {
		fputc(*p == '\r' ? ' ' : *p, f);
		if (*p == '\n')
			fputs("# ", f);
	}
	fputc('\n', f);
}

/* Accepts a valid model; see policy_render.h. */
int sl_policy_render(const struct sl_policy *p, const char *comment,
		     char **text, size_t *len)
{
	struct rd r = { .failed = false };
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	*text = NULL;
	*len = 0;
	f = open_memstream(&buf, &n);
	if (!f)
		return -ENOMEM;
	if (comment)
		put_comment(f, comment);
	if (!yaml_emitter_initialize(&r.e)) {
		rc = -ENOMEM;
		goto close_file;
	}
	yaml_emitter_set_output_file(&r.e, f);
	yaml_emitter_set_unicode(&r.e, 1);
	yaml_emitter_set_width(&r.e, -1);	/* no folding of long lists */
	yaml_emitter_set_indent(&r.e, 2);
	rc = document(&r, p);
	if (rc == 0 && (r.failed || !yaml_emitter_flush(&r.e)))
		rc = -ENOMEM;
	yaml_emitter_delete(&r.e);
close_file:
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* ---- JSON ------------------------------------------------------------ */

/* Accepts prefixes; a JSON array of "addr/len" strings. */
static json_t *prefixes_json(const struct sl_prefix *p, uint32_t n)
{
	char buf[SL_FMT_MAX];
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(sl_prefix_format(&p[i], buf,
							sizeof(buf))));
	return a;
}

/* Accepts ranges; a JSON array of "80" / "5000-5999" strings. */
static json_t *ranges_json(const struct sl_range *v, uint32_t n)
{
	char buf[SL_FMT_MAX];
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(sl_range_format(&v[i], buf,
							sizeof(buf))));
	return a;
}

/* Accepts a match; the fields it sets, as the policy writes them. */
static json_t *match_json(const struct sl_match *m)
{
	char buf[SL_FMT_MAX];
	json_t *o = json_object(), *d;
	unsigned int i;

	if (!o)
		return NULL;
	if (m->fields & SL_M_PROTO)
		json_object_set_new(o, "proto", json_string(sl_proto_format(m->proto,
							buf, sizeof(buf))));
	if (m->fields & SL_M_SRC)
		json_object_set_new(o, "src", prefixes_json(m->src, m->n_src));
	if (m->fields & SL_M_DST)
		json_object_set_new(o, "dst", prefixes_json(m->dst, m->n_dst));
	if (m->fields & SL_M_SPORT)
		json_object_set_new(o, "sport", ranges_json(m->sport, m->n_sport));
	if (m->fields & SL_M_DPORT)
		json_object_set_new(o, "dport", ranges_json(m->dport, m->n_dport));
	if (m->fields & SL_M_TCP_FLAGS)
		json_object_set_new(o, "tcp_flags", json_string(sl_tcp_flags_format(
					m->tcp_flags, m->tcp_mask, buf, sizeof(buf))));
	if (m->fields & SL_M_VLAN)
		json_object_set_new(o, "vlan", ranges_json(m->vlan, m->n_vlan));
	if (m->fields & SL_M_DSCP) {
		d = json_array();
		for (i = 0; d && i < 64; i++)
			if (m->dscp & (1ull << i))
				json_array_append_new(d, json_string(sl_dscp_name((uint8_t)i)));
		json_object_set_new(o, "dscp", d);
	}
	if ((m->fields & SL_M_PAYLOAD) && m->payload)
		json_object_set_new(o, "payload", json_string(m->payload));
	return o;
}

/* Accepts an exceed; "drop", "monitor", {"mark": dscp} or {"shape": t}. */
static json_t *exceed_json(const struct sl_exceed *x)
{
	char buf[SL_FMT_MAX];

	switch (x->action) {
	case SL_EXCEED_MARK:
		return json_pack("{s:s}", "mark", sl_dscp_name(x->dscp & 63));
	case SL_EXCEED_SHAPE:
		return json_pack("{s:s}", "shape", format_units(x->shape_ns,
				 time_units, N(time_units), buf, sizeof(buf)));
	default:
		return json_string(sl_exceed_name(x->action));
	}
}

/* Accepts a class and its index; protocol.md's CLASS object. */
json_t *sl_class_json(const struct sl_class *c, uint32_t index)
{
	char k[SL_FMT_MAX], r[SL_FMT_MAX], b[SL_FMT_MAX];
	json_t *lim = json_null(), *ceil = json_null();

	if (c->has_limit)
		lim = json_pack("{s:s,s:s,s:s}",
				"key", sl_key_format(&c->limit, k, sizeof(k)),
				"rate", sl_rate_format(c->limit.rate, c->limit.unit,
						       r, sizeof(r)),
				"burst", sl_burst_format(c->limit.burst, c->limit.unit,
							 b, sizeof(b)));
	if (c->has_ceiling)
		ceil = json_pack("{s:s,s:s}",
				 "rate", sl_rate_format(c->ceiling.rate, c->ceiling.unit,
							r, sizeof(r)),
				 "burst", sl_burst_format(c->ceiling.burst, c->ceiling.unit,
							  b, sizeof(b)));
	return json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}", "name", c->name,
			 "index", (json_int_t)index, "match", match_json(&c->match),
			 "limit", lim, "ceiling", ceil,
			 "exceed", c->has_limit || c->has_ceiling ?
				   exceed_json(&c->exceed) : json_null());
}
