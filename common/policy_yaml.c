/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy loader: walks libyaml's event stream (its marks give every
 * node's line and column) against the schema of policy language version
 * 1 and fills the model of policy.h.
 *
 * Events rather than libyaml's document tree: building the tree costs
 * several times the parse itself (a 10,000-class policy is 400,000
 * nodes), and the schema is a fixed, shallow tree that a recursive walk
 * of the stream follows directly. The price is that anchors and aliases,
 * which only the tree resolves, are refused.
 *
 * The walk never stops at the first error: each field is checked on its
 * own so that one run reports as much as possible, and a policy with any
 * error is freed whole. Only a YAML syntax error ends the walk. Every
 * mapping is walked through a table of its fields, one row per field, so
 * adding a field touches one table.
 *
 * Convention: a value parser is called with the first event of its value
 * current and returns with the last one current (the scalar itself, or
 * the end of its sequence or mapping), whatever it found.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "payload.h"
#include "policy.h"

/* Largest policy file read: 10x what SL_CLASSES_MAX classes need. */
#define SL_POLICY_FILE_MAX	(64u << 20)

#define SL_ERR_MAX	SL_DIAG_MSG_MAX
#define SL_TEXT_MAX	128	/* value text kept for a later message */
#define SL_COUNT(a)	(sizeof(a) / sizeof((a)[0]))

/* State of one load. */
struct sl_ld {
	yaml_parser_t y;
	yaml_event_t ev;	/* the current event */
	bool have_ev;		/* ev holds an event to delete */
	bool stop;		/* syntax error or out of memory: walk no more */
	int rc;			/* why it stopped */
	struct sl_diags *d;
	struct sl_policy *p;
	uint32_t errors;	/* reported, including those not kept */
};

/* One row of a mapping's schema: the field and what parses its value. */
struct sl_field {
	const char *name;
	void (*parse)(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key);
};

/* The most fields any mapping of the schema has. */
#define SL_FIELDS_MAX	16

/* Where each field of a mapping was written; line 0 where absent. */
struct sl_seen {
	struct sl_srcpos key[SL_FIELDS_MAX];
	uint32_t hinted;	/* rows suggested for a misspelt field */
	uint32_t pairs;		/* fields written, known or not */
};

/* State of one class while it is walked. */
struct sl_cls {
	struct sl_class *c;
	bool proto_bad;		/* proto given but wrong: skip what needs it */
	struct sl_srcpos name_pos;	/* line 0: no valid name */
	struct sl_seen match;
};

/* State of a limit while it is walked. */
struct sl_lim {
	struct sl_limit *l;
	bool rate_ok, burst_ok;
	enum sl_rate_unit burst_unit;
	char rate_s[SL_TEXT_MAX], burst_s[SL_TEXT_MAX];
	struct sl_srcpos burst_pos;
};

/* A libyaml mark (0-based) as editors count (1-based). */
static struct sl_srcpos sl_mark(yaml_mark_t m)
{
	struct sl_srcpos pos = {
		.line = (uint32_t)m.line + 1,
		.col = (uint32_t)m.column + 1,
	};

	return pos;
}

/* Where the current event starts. */
static struct sl_srcpos sl_here(const struct sl_ld *ld)
{
	return sl_mark(ld->ev.start_mark);
}

/* Report at pos; once the walk has stopped, nothing more. */
__attribute__((format(printf, 3, 4)))
static void sl_err(struct sl_ld *ld, struct sl_srcpos pos, const char *fmt,
		   ...)
{
	char msg[SL_ERR_MAX];
	va_list ap;

	/* After a syntax error, whatever seems missing is no news. */
	if (ld->stop)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->errors++;
	sl_diags_add(ld->d, pos, "%s", msg);
}

/* Out of memory at the current event: the walk stops. */
static void sl_nomem(struct sl_ld *ld)
{
	sl_err(ld, sl_here(ld), "out of memory");
	ld->stop = true;
	ld->rc = -ENOMEM;
}

/* A libyaml failure as a diagnostic at the place it points to. */
static int sl_yaml_error(struct sl_ld *ld)
{
	const yaml_parser_t *y = &ld->y;
	struct sl_srcpos none = { 0, 0 };
	const char *problem = y->problem != NULL ? y->problem : "unknown error";

	ld->errors++;
	if (y->error == YAML_MEMORY_ERROR) {
		sl_diags_add(ld->d, none, "out of memory");
		return -ENOMEM;
	}
	if (y->error == YAML_READER_ERROR) {
		/* The reader only knows the byte offset. */
		sl_diags_add(ld->d, none, "invalid input at byte %zu: %s",
			     y->problem_offset, problem);
		return -EINVAL;
	}
	if (y->context != NULL)
		sl_diags_add(ld->d, sl_mark(y->problem_mark),
			     "YAML syntax error: %s (%s at line %zu, column %zu)",
			     problem, y->context, y->context_mark.line + 1,
			     y->context_mark.column + 1);
	else
		sl_diags_add(ld->d, sl_mark(y->problem_mark),
			     "YAML syntax error: %s", problem);
	return -EINVAL;
}

/* The anchor of the current event, if it has one. */
static const char *sl_anchor(const struct sl_ld *ld)
{
	const yaml_event_t *e = &ld->ev;

	if (e->type == YAML_SCALAR_EVENT)
		return (const char *)e->data.scalar.anchor;
	if (e->type == YAML_SEQUENCE_START_EVENT)
		return (const char *)e->data.sequence_start.anchor;
	if (e->type == YAML_MAPPING_START_EVENT)
		return (const char *)e->data.mapping_start.anchor;
	return NULL;
}

/*
 * Make the next event current; false once the walk must stop. Anchors
 * and aliases are reported here, once each, wherever they are.
 */
static bool sl_next(struct sl_ld *ld)
{
	const char *anchor;

	if (ld->stop)
		return false;
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	if (!yaml_parser_parse(&ld->y, &ld->ev)) {
		memset(&ld->ev, 0, sizeof(ld->ev));
		ld->ev.type = YAML_NO_EVENT;
		ld->rc = sl_yaml_error(ld);
		ld->stop = true;
		return false;
	}
	ld->have_ev = true;
	anchor = sl_anchor(ld);
	if (anchor != NULL)
		sl_err(ld, sl_here(ld), "anchors (&%s) are not supported; write the value out",
		       anchor);
	if (ld->ev.type == YAML_ALIAS_EVENT)
		sl_err(ld, sl_here(ld), "aliases (*%s) are not supported; write the value out",
		       (const char *)ld->ev.data.alias.anchor);
	return true;
}

/* Consume the rest of the node whose first event is current. */
static void sl_skip(struct sl_ld *ld)
{
	int depth = 0;

	do {
		switch (ld->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
	} while (depth > 0 && sl_next(ld));
}

/* A plain empty value, "~" or "null": what YAML reads as nothing. */
static bool sl_is_null(const struct sl_ld *ld)
{
	const yaml_event_t *e = &ld->ev;
	const char *v = (const char *)e->data.scalar.value;

	if (e->type != YAML_SCALAR_EVENT ||
	    e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 ||
	       strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

/* What the current event starts, for messages. */
static const char *sl_kind(const struct sl_ld *ld)
{
	switch (ld->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return sl_is_null(ld) ? "nothing" : "a scalar";
	}
}

/* The tag of the current event; NULL for none and for "!". */
static const char *sl_tag(const struct sl_ld *ld)
{
	const yaml_event_t *e = &ld->ev;
	const char *tag = NULL;

	if (e->type == YAML_SCALAR_EVENT)
		tag = (const char *)e->data.scalar.tag;
	else if (e->type == YAML_SEQUENCE_START_EVENT)
		tag = (const char *)e->data.sequence_start.tag;
	else if (e->type == YAML_MAPPING_START_EVENT)
		tag = (const char *)e->data.mapping_start.tag;
	if (tag != NULL && strcmp(tag, "!") == 0)
		return NULL;
	return tag;
}

/*
 * Whether the current node is of type want (a scalar that is not null,
 * a sequence, a mapping); if not, reports "field: expected X, got Y" and
 * skips it. Tags other than YAML's own are refused: "!ack" looks like a
 * value but YAML reads it as a tag.
 */
static bool sl_expect(struct sl_ld *ld, const char *field,
		      yaml_event_type_t want)
{
	const char *tag = sl_tag(ld);
	const char *wname = want == YAML_SCALAR_EVENT ? "a scalar" :
			    want == YAML_SEQUENCE_START_EVENT ? "a sequence" :
			    "a mapping";

	if (ld->stop)
		return false;
	if (tag != NULL && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
		sl_err(ld, sl_here(ld), "%s: unexpected YAML tag '%s' (quote values that start with '!')",
		       field, tag);
		sl_skip(ld);
		return false;
	}
	if (ld->ev.type == want && !(want == YAML_SCALAR_EVENT && sl_is_null(ld)))
		return true;
	/* An alias was reported when it was read. */
	if (ld->ev.type == YAML_ALIAS_EVENT)
		return false;
	if (want == YAML_SCALAR_EVENT && sl_is_null(ld))
		sl_err(ld, sl_here(ld), "%s: missing value", field);
	else
		sl_err(ld, sl_here(ld), "%s: expected %s, got %s", field, wname,
		       sl_kind(ld));
	sl_skip(ld);
	return false;
}

/* The text of the current scalar (valid until the next event), or NULL. */
static const char *sl_scalar(struct sl_ld *ld, const char *field)
{
	if (!sl_expect(ld, field, YAML_SCALAR_EVENT))
		return NULL;
	if (strlen((const char *)ld->ev.data.scalar.value) !=
	    ld->ev.data.scalar.length) {
		sl_err(ld, sl_here(ld), "%s: value contains a NUL character",
		       field);
		return NULL;
	}
	return (const char *)ld->ev.data.scalar.value;
}

/*
 * Edit distance of a and b (both shorter than SL_CLASS_NAME_MAX) where
 * swapping two neighbours counts as one edit, the commonest typo.
 */
static unsigned int sl_distance(const char *a, const char *b)
{
	unsigned int r[3][SL_CLASS_NAME_MAX + 1];
	unsigned int *pp, *prev, *cur;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la >= SL_CLASS_NAME_MAX || lb >= SL_CLASS_NAME_MAX)
		return ~0u;
	for (j = 0; j <= lb; j++)
		r[0][j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		pp = r[(i + 1) % 3];
		prev = r[(i + 2) % 3];
		cur = r[i % 3];
		cur[0] = (unsigned int)i;
		for (j = 1; j <= lb; j++) {
			unsigned int best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
	}
	return r[la % 3][lb];
}

/* The field of the table nearest to name, if near enough to be a typo. */
static const char *sl_suggest(const char *name, const struct sl_field *f,
			      size_t n, uint32_t *hinted)
{
	const char *best = NULL;
	unsigned int bd = 3;
	size_t i, row = 0;

	for (i = 0; i < n; i++) {
		unsigned int d = sl_distance(name, f[i].name);

		if (d < bd && d < strlen(f[i].name)) {
			bd = d;
			best = f[i].name;
			row = i;
		}
	}
	if (best != NULL)
		*hinted |= 1u << row;
	return best;
}

/* Report the current key, which is not one of f, and why. */
static void sl_unknown_field(struct sl_ld *ld, const char *where,
			     const struct sl_field *f, size_t n,
			     struct sl_seen *seen)
{
	const char *name = (const char *)ld->ev.data.scalar.value;
	const char *hint;

	if (strcmp(name, "<<") == 0) {
		sl_err(ld, sl_here(ld), "merge keys (<<) are not supported in %s; write the fields out",
		       where);
		return;
	}
	hint = sl_suggest(name, f, n, &seen->hinted);
	if (hint != NULL)
		sl_err(ld, sl_here(ld), "unknown field '%s' in %s (did you mean '%s'?)",
		       name, where, hint);
	else
		sl_err(ld, sl_here(ld), "unknown field '%s' in %s", name, where);
}

/*
 * Walk the mapping whose start is current through the table f (n rows,
 * at most SL_FIELDS_MAX): unknown and repeated fields are reported and
 * skipped, the others parsed into obj. seen says which were there.
 */
static void sl_walk_map(struct sl_ld *ld, const char *where,
			const struct sl_field *f, size_t n, void *obj,
			struct sl_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	while (sl_next(ld) && ld->ev.type != YAML_MAPPING_END_EVENT) {
		struct sl_srcpos key = sl_here(ld);
		const char *name;
		size_t i = n;

		seen->pairs++;
		if (ld->ev.type != YAML_SCALAR_EVENT) {
			if (ld->ev.type != YAML_ALIAS_EVENT)
				sl_err(ld, key, "expected a field name in %s, got %s",
				       where, sl_kind(ld));
			sl_skip(ld);
		} else {
			name = (const char *)ld->ev.data.scalar.value;
			for (i = 0; i < n; i++)
				if (strcmp(name, f[i].name) == 0)
					break;
			if (i == n) {
				sl_unknown_field(ld, where, f, n, seen);
			} else if (seen->key[i].line != 0) {
				sl_err(ld, key, "duplicate field '%s' in %s (first at line %u, column %u)",
				       name, where, seen->key[i].line,
				       seen->key[i].col);
				i = n;
			}
		}
		if (!sl_next(ld))
			break;
		if (i == n) {
			sl_skip(ld);
			continue;
		}
		seen->key[i] = key;
		f[i].parse(ld, obj, f[i].name, key);
	}
}

/* Whether row i of a table is missing, and not because it was misspelt. */
static bool sl_missing(const struct sl_seen *seen, size_t i)
{
	return seen->key[i].line == 0 && !(seen->hinted & (1u << i));
}

/* Reads one scalar into *out: the same shape for every list type. */
typedef int (*sl_item_fn)(const char *s, void *out, char *err,
			  size_t errlen);

/* The list items: prefixes, ports, VLAN IDs, DSCPs. */
static int sl_item_prefix(const char *s, void *out, char *err, size_t errlen)
{
	return sl_prefix_parse(s, out, err, errlen);
}

static int sl_item_port(const char *s, void *out, char *err, size_t errlen)
{
	return sl_range_parse(s, UINT16_MAX, out, err, errlen);
}

static int sl_item_vlan(const char *s, void *out, char *err, size_t errlen)
{
	return sl_range_parse(s, 4095, out, err, errlen);
}

static int sl_item_dscp(const char *s, void *out, char *err, size_t errlen)
{
	if (sl_dscp_parse(s, out) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is not a DSCP (expected 0..63 or cs0..cs7, af11..af43, ef, va, le)",
		 s);
	return -EINVAL;
}

/* Parse the current scalar as one list item into out; false on error. */
static bool sl_list_item(struct sl_ld *ld, const char *field, sl_item_fn fn,
			 void *out)
{
	char err[SL_ERR_MAX];
	const char *s = sl_scalar(ld, field);

	if (s == NULL)
		return false;
	if (fn(s, out, err, sizeof(err)) != 0) {
		sl_err(ld, sl_here(ld), "%s: %s", field, err);
		return false;
	}
	return true;
}

/*
 * The current value: one scalar or a sequence of 1..SL_MATCH_LIST_MAX
 * scalars, each read by fn into an array of elsize (at most
 * sizeof(struct sl_prefix)) items. Returns the array (the caller frees
 * it) with *n set, or NULL after reporting.
 */
static void *sl_list(struct sl_ld *ld, const char *field, size_t elsize,
		     sl_item_fn fn, uint32_t *n)
{
	uint8_t tmp[SL_MATCH_LIST_MAX * sizeof(struct sl_prefix)];
	struct sl_srcpos start = sl_here(ld);
	uint32_t count = 0;
	bool bad = false;
	void *arr;

	if (ld->ev.type == YAML_MAPPING_START_EVENT) {
		sl_err(ld, start, "%s: expected a value or a list of values, got a mapping",
		       field);
		sl_skip(ld);
		return NULL;
	}
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT) {
		if (!sl_list_item(ld, field, fn, tmp))
			return NULL;
		count = 1;
	} else {
		while (sl_next(ld) && ld->ev.type != YAML_SEQUENCE_END_EVENT) {
			if (count++ >= SL_MATCH_LIST_MAX)
				sl_skip(ld);
			else if (!sl_list_item(ld, field, fn,
					       tmp + (count - 1) * elsize))
				bad = true;
		}
		if (count == 0) {
			sl_err(ld, start, "%s: empty list", field);
			return NULL;
		}
		if (count > SL_MATCH_LIST_MAX) {
			sl_err(ld, start, "%s: too many entries (%u, max %u)",
			       field, count, SL_MATCH_LIST_MAX);
			return NULL;
		}
	}
	if (bad || ld->stop)
		return NULL;
	arr = malloc(count * elsize);
	if (arr == NULL) {
		sl_nomem(ld);
		return NULL;
	}
	memcpy(arr, tmp, count * elsize);
	*n = count;
	return arr;
}

static const struct {
	const char *name;
	int proto;
} sl_protos[] = {
	{ "any", SL_PROTO_ANY }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 },
	{ "icmpv6", 58 }, { "sctp", 132 },
};

/* proto: a name (tcp, udp, icmp, icmpv6, sctp, any) or 0..255. */
static void sl_f_proto(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_cls *k = obj;
	struct sl_match *m = &k->c->match;
	const char *s = sl_scalar(ld, name);
	char *end;
	long v;
	size_t i;

	(void)key;
	k->proto_bad = true;
	if (s == NULL)
		return;
	for (i = 0; i < SL_COUNT(sl_protos); i++) {
		if (strcasecmp(s, sl_protos[i].name) == 0) {
			m->proto = sl_protos[i].proto;
			goto ok;
		}
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0 &&
	    v <= 255) {
		m->proto = (int)v;
		goto ok;
	}
	sl_err(ld, sl_here(ld), "proto: expected tcp, udp, icmp, icmpv6, sctp, any or a number 0..255, got '%s'",
	       s);
	return;
ok:
	k->proto_bad = false;
	/* "any" restricts nothing, so it sets no field. */
	if (m->proto != SL_PROTO_ANY)
		m->fields |= SL_M_PROTO;
}

/* src, dst: a prefix or a list of them. */
static void sl_f_src(struct sl_ld *ld, void *obj, const char *name,
		     struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->src = sl_list(ld, name, sizeof(*m->src), sl_item_prefix, &m->n_src);
	if (m->src != NULL)
		m->fields |= SL_M_SRC;
}

static void sl_f_dst(struct sl_ld *ld, void *obj, const char *name,
		     struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->dst = sl_list(ld, name, sizeof(*m->dst), sl_item_prefix, &m->n_dst);
	if (m->dst != NULL)
		m->fields |= SL_M_DST;
}

/* sport, dport: a port, lo-hi, or a list of them. */
static void sl_f_sport(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->sport = sl_list(ld, name, sizeof(*m->sport), sl_item_port,
			   &m->n_sport);
	if (m->sport != NULL)
		m->fields |= SL_M_SPORT;
}

static void sl_f_dport(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->dport = sl_list(ld, name, sizeof(*m->dport), sl_item_port,
			   &m->n_dport);
	if (m->dport != NULL)
		m->fields |= SL_M_DPORT;
}

/* vlan: an ID 0..4095, lo-hi, or a list of them. */
static void sl_f_vlan(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->vlan = sl_list(ld, name, sizeof(*m->vlan), sl_item_vlan,
			  &m->n_vlan);
	if (m->vlan != NULL)
		m->fields |= SL_M_VLAN;
}

/* dscp: a DSCP (name or number) or a list of them, as a bitmap. */
static void sl_f_dscp(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;
	uint8_t *d;
	uint32_t n, i;

	(void)key;
	d = sl_list(ld, name, 1, sl_item_dscp, &n);
	if (d == NULL)
		return;
	for (i = 0; i < n; i++)
		m->dscp |= 1ull << d[i];
	m->fields |= SL_M_DSCP;
	free(d);
}

/* tcp_flags: one scalar in the forms of sl_tcp_flags_parse. */
static void sl_f_tcp_flags(struct sl_ld *ld, void *obj, const char *name,
			   struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;
	const char *s = sl_scalar(ld, name);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_tcp_flags_parse(s, &m->tcp_flags, &m->tcp_mask, err,
			       sizeof(err)) != 0) {
		sl_err(ld, sl_here(ld), "tcp_flags: %s", err);
		return;
	}
	m->fields |= SL_M_TCP_FLAGS;
}

/*
 * payload: a Hyperscan regex, refused with Hyperscan's reason if it does
 * not compile alone as a ruleset compiles it (payload.h).
 */
static void sl_f_payload(struct sl_ld *ld, void *obj, const char *name,
			 struct sl_srcpos key)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;
	const char *s = sl_scalar(ld, name);
	char err[SL_ERR_MAX];
	int rc;

	(void)key;
	if (s == NULL)
		return;
	rc = sl_payload_check(s, err, sizeof(err));
	if (rc == -ENOMEM) {
		sl_nomem(ld);
		return;
	}
	if (rc < 0) {
		sl_err(ld, sl_here(ld), "payload: %s", err);
		return;
	}
	m->payload = strdup(s);
	if (m->payload == NULL) {
		sl_nomem(ld);
		return;
	}
	m->fields |= SL_M_PAYLOAD;
}

enum {
	SL_MF_SPORT = 3, SL_MF_DPORT = 4, SL_MF_TCP_FLAGS = 5, SL_MF_PAYLOAD = 8,
};

static const struct sl_field sl_match_fields[] = {
	{ "proto", sl_f_proto },
	{ "src", sl_f_src },
	{ "dst", sl_f_dst },
	[SL_MF_SPORT] = { "sport", sl_f_sport },
	[SL_MF_DPORT] = { "dport", sl_f_dport },
	[SL_MF_TCP_FLAGS] = { "tcp_flags", sl_f_tcp_flags },
	{ "vlan", sl_f_vlan },
	{ "dscp", sl_f_dscp },
	[SL_MF_PAYLOAD] = { "payload", sl_f_payload },
};

_Static_assert(SL_COUNT(sl_match_fields) <= SL_FIELDS_MAX,
	       "struct sl_seen keeps one position per field");

/* Whether the match's proto carries ports (TCP, UDP, SCTP). */
static bool sl_has_ports(const struct sl_match *m)
{
	return (m->fields & SL_M_PROTO) &&
	       (m->proto == 6 || m->proto == 17 || m->proto == 132);
}

/* Checks between match fields, once all of them are read. */
static void sl_match_check(struct sl_ld *ld, struct sl_cls *k)
{
	static const int port_rows[] = { SL_MF_SPORT, SL_MF_DPORT };
	const struct sl_match *m = &k->c->match;
	const struct sl_srcpos *key = k->match.key;
	size_t i;

	if (k->proto_bad)
		return;
	for (i = 0; i < SL_COUNT(port_rows); i++)
		if (key[port_rows[i]].line != 0 && !sl_has_ports(m))
			sl_err(ld, key[port_rows[i]], "%s: requires proto tcp, udp or sctp (6, 17 or 132)",
			       sl_match_fields[port_rows[i]].name);
	if (key[SL_MF_TCP_FLAGS].line != 0 &&
	    !((m->fields & SL_M_PROTO) && m->proto == 6))
		sl_err(ld, key[SL_MF_TCP_FLAGS], "tcp_flags: requires proto tcp");
	/* The payload is what follows a TCP or UDP header (docs/policy.md). */
	if (key[SL_MF_PAYLOAD].line != 0 &&
	    !((m->fields & SL_M_PROTO) && (m->proto == 6 || m->proto == 17)))
		sl_err(ld, key[SL_MF_PAYLOAD], "payload: requires proto tcp or udp (6 or 17)");
}

/* match: a mapping of match fields; {} matches every packet. */
static void sl_f_match(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_cls *k = obj;

	(void)key;
	if (!sl_expect(ld, name, YAML_MAPPING_START_EVENT))
		return;
	sl_walk_map(ld, "match", sl_match_fields, SL_COUNT(sl_match_fields),
		    k, &k->match);
	sl_match_check(ld, k);
}

/* name: 1..63 of [A-Za-z0-9_.-]; uniqueness is checked at the end. */
static void sl_f_name(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key)
{
	struct sl_cls *k = obj;
	const char *s = sl_scalar(ld, name);
	size_t n;

	(void)key;
	if (s == NULL)
		return;
	n = strlen(s);
	if (n >= SL_CLASS_NAME_MAX) {
		sl_err(ld, sl_here(ld), "name: '%.32s...' is too long (%zu characters, max %d)",
		       s, n, SL_CLASS_NAME_MAX - 1);
		return;
	}
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n) {
		sl_err(ld, sl_here(ld), "name: '%s' may only contain letters, digits, '_', '.' and '-'",
		       s);
		return;
	}
	memcpy(k->c->name, s, n + 1);
	k->name_pos = sl_here(ld);
}

/* key: src, dst, flow, none, src/N, dst/N (N 0..128). */
static void sl_f_key(struct sl_ld *ld, void *obj, const char *name,
		     struct sl_srcpos key)
{
	struct sl_limit *l = ((struct sl_lim *)obj)->l;
	const char *s = sl_scalar(ld, name);
	uint64_t n;
	char *end;

	(void)key;
	if (s == NULL)
		return;
	l->prefix_len = 0;
	if (strcmp(s, "none") == 0) {
		l->key = SL_KEY_NONE;
	} else if (strcmp(s, "flow") == 0) {
		l->key = SL_KEY_FLOW;
	} else if (strncmp(s, "src", 3) == 0 || strncmp(s, "dst", 3) == 0) {
		l->key = s[0] == 's' ? SL_KEY_SRC : SL_KEY_DST;
		l->prefix_len = 128;
		if (s[3] == '/') {
			errno = 0;
			n = strtoull(s + 4, &end, 10);
			if (s[4] < '0' || s[4] > '9' || *end != '\0' ||
			    errno != 0 || n > 128) {
				sl_err(ld, sl_here(ld), "key: in '%s', N of %.3s/N must be 0..128",
				       s, s);
				return;
			}
			l->prefix_len = (uint8_t)n;
		} else if (s[3] != '\0') {
			goto bad;
		}
	} else {
		goto bad;
	}
	return;
bad:
	sl_err(ld, sl_here(ld), "key: expected src, dst, flow, none, src/N or dst/N, got '%s'",
	       s);
}

/* rate: a number with a unit (sl_rate_parse). */
static void sl_f_rate(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key)
{
	struct sl_lim *m = obj;
	const char *s = sl_scalar(ld, name);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_rate_parse(s, &m->l->rate, &m->l->unit, err, sizeof(err))) {
		sl_err(ld, sl_here(ld), "rate: %s", err);
		return;
	}
	snprintf(m->rate_s, sizeof(m->rate_s), "%s", s);
	m->rate_ok = true;
}

/* burst: packets, or bytes with a unit (sl_burst_parse). */
static void sl_f_burst(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_lim *m = obj;
	const char *s = sl_scalar(ld, name);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_burst_parse(s, &m->l->burst, &m->burst_unit, err,
			   sizeof(err))) {
		sl_err(ld, sl_here(ld), "burst: %s", err);
		return;
	}
	snprintf(m->burst_s, sizeof(m->burst_s), "%s", s);
	m->burst_pos = sl_here(ld);
	m->burst_ok = true;
}

static const struct sl_field sl_limit_fields[] = {
	{ "key", sl_f_key },
	{ "rate", sl_f_rate },
	{ "burst", sl_f_burst },
};

/* Rate and burst must agree in unit and fit the token bucket; false if not. */
static bool sl_limit_agree(struct sl_ld *ld, struct sl_lim *m)
{
	char err[SL_ERR_MAX];

	if (m->l->unit == SL_UNIT_PACKETS && m->burst_unit == SL_UNIT_BITS)
		sl_err(ld, m->burst_pos, "burst: %s is in bytes but rate %s is in packets; give a packet count",
		       m->burst_s, m->rate_s);
	else if (m->l->unit == SL_UNIT_BITS && m->burst_unit == SL_UNIT_PACKETS)
		sl_err(ld, m->burst_pos, "burst: %s is a packet count but rate %s is in bits; give bytes (B, KB, MB or GB)",
		       m->burst_s, m->rate_s);
	else if (sl_limit_check(m->l, err, sizeof(err)) != 0)
		sl_err(ld, m->burst_pos, "%s", err);
	else
		return true;
	return false;
}

/* limit: a mapping of key, rate and burst, all required. */
static void sl_f_limit(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_cls *k = obj;
	struct sl_lim m = { .l = &k->c->limit };
	struct sl_srcpos start = sl_here(ld);
	struct sl_seen seen;
	size_t i;

	(void)key;
	/* Even a wrong limit is one: no second error about exceed. */
	k->c->has_limit = true;
	if (!sl_expect(ld, name, YAML_MAPPING_START_EVENT))
		return;
	sl_walk_map(ld, "limit", sl_limit_fields, SL_COUNT(sl_limit_fields),
		    &m, &seen);
	for (i = 0; i < SL_COUNT(sl_limit_fields); i++)
		if (sl_missing(&seen, i))
			sl_err(ld, start, "limit: missing required field '%s'",
			       sl_limit_fields[i].name);
	if (m.rate_ok && m.burst_ok)
		sl_limit_agree(ld, &m);
}

/* key in a ceiling: refused with the reason, not as an unknown field. */
static void sl_f_ceiling_key(struct sl_ld *ld, void *obj, const char *name,
			     struct sl_srcpos key)
{
	(void)obj;
	(void)name;
	sl_err(ld, key, "ceiling: has no key: it is one bucket for all keys of the class (per-key buckets are the limit's)");
	sl_skip(ld);
}

enum { SL_CEF_RATE = 0, SL_CEF_BURST = 1 };

static const struct sl_field sl_ceiling_fields[] = {
	[SL_CEF_RATE] = { "rate", sl_f_rate },
	[SL_CEF_BURST] = { "burst", sl_f_burst },
	{ "key", sl_f_ceiling_key },
};

/*
 * ceiling: a mapping of rate and burst, both required, read by the
 * limit's own parsers; a class-wide bucket, with or without a limit.
 */
static void sl_f_ceiling(struct sl_ld *ld, void *obj, const char *name,
			 struct sl_srcpos key)
{
	struct sl_class *c = ((struct sl_cls *)obj)->c;
	struct sl_limit l = { .key = SL_KEY_NONE };
	struct sl_lim m = { .l = &l };
	struct sl_srcpos start = sl_here(ld);
	struct sl_seen seen;
	char err[SL_ERR_MAX];

	(void)key;
	/* Even a wrong ceiling is one: no second error about exceed. */
	c->has_ceiling = true;
	if (!sl_expect(ld, name, YAML_MAPPING_START_EVENT))
		return;
	sl_walk_map(ld, "ceiling", sl_ceiling_fields,
		    SL_COUNT(sl_ceiling_fields), &m, &seen);
	if (sl_missing(&seen, SL_CEF_RATE))
		sl_err(ld, start, "ceiling: missing required field 'rate'");
	if (sl_missing(&seen, SL_CEF_BURST))
		sl_err(ld, start, "ceiling: missing required field 'burst'");
	if (!m.rate_ok || !m.burst_ok || !sl_limit_agree(ld, &m))
		return;
	c->ceiling.unit = l.unit;
	c->ceiling.rate = l.rate;
	c->ceiling.burst = l.burst;
	if (sl_ceiling_check(&c->ceiling, err, sizeof(err)) != 0)
		sl_err(ld, m.burst_pos, "ceiling: %s", err);
}

/* mark: the DSCP that exceeding packets get. */
static void sl_f_mark(struct sl_ld *ld, void *obj, const char *name,
		      struct sl_srcpos key)
{
	struct sl_exceed *e = obj;
	char err[SL_ERR_MAX];
	const char *s = sl_scalar(ld, name);

	(void)key;
	if (s == NULL)
		return;
	if (sl_item_dscp(s, &e->dscp, err, sizeof(err)) != 0) {
		sl_err(ld, sl_here(ld), "mark: %s", err);
		return;
	}
	e->action = SL_EXCEED_MARK;
}

/* shape: the longest exceeding packets may wait (sl_delay_parse). */
static void sl_f_shape(struct sl_ld *ld, void *obj, const char *name,
		       struct sl_srcpos key)
{
	struct sl_exceed *e = obj;
	char err[SL_ERR_MAX];
	const char *s = sl_scalar(ld, name);

	(void)key;
	if (s == NULL)
		return;
	if (sl_delay_parse(s, &e->shape_ns, err, sizeof(err)) != 0) {
		sl_err(ld, sl_here(ld), "shape: %s", err);
		return;
	}
	e->action = SL_EXCEED_SHAPE;
}

static const struct sl_field sl_exceed_fields[] = {
	{ "mark", sl_f_mark },
	{ "shape", sl_f_shape },
};

/* exceed: drop, monitor, or a mapping with one action. */
static void sl_f_exceed(struct sl_ld *ld, void *obj, const char *name,
			struct sl_srcpos key)
{
	struct sl_exceed *e = &((struct sl_cls *)obj)->c->exceed;
	struct sl_srcpos start = sl_here(ld);
	struct sl_seen seen;
	const char *s;

	(void)key;
	if (ld->ev.type == YAML_MAPPING_START_EVENT && sl_tag(ld) == NULL) {
		sl_walk_map(ld, "exceed", sl_exceed_fields,
			    SL_COUNT(sl_exceed_fields), e, &seen);
		if (seen.pairs != 1)
			sl_err(ld, start, "exceed: expected one action, {mark: DSCP} or {shape: DELAY}");
		return;
	}
	s = sl_scalar(ld, name);
	if (s == NULL)
		return;
	if (strcmp(s, "drop") == 0)
		e->action = SL_EXCEED_DROP;
	else if (strcmp(s, "monitor") == 0)
		e->action = SL_EXCEED_MONITOR;
	else if (strcmp(s, "mark") == 0 || strcmp(s, "shape") == 0)
		sl_err(ld, start, "exceed: %s needs a value: {%s: %s}", s, s,
		       s[0] == 'm' ? "DSCP" : "DELAY");
	else
		sl_err(ld, start, "exceed: expected drop, monitor, {mark: DSCP} or {shape: DELAY}, got '%s'",
		       s);
}

enum { SL_CF_NAME = 0, SL_CF_EXCEED = 3 };

static const struct sl_field sl_class_fields[] = {
	[SL_CF_NAME] = { "name", sl_f_name },
	{ "match", sl_f_match },
	{ "limit", sl_f_limit },
	[SL_CF_EXCEED] = { "exceed", sl_f_exceed },
	{ "ceiling", sl_f_ceiling },
};

/* The current entry of classes into c; *name_pos: where its name is. */
static void sl_class(struct sl_ld *ld, struct sl_class *c,
		     struct sl_srcpos *name_pos)
{
	struct sl_cls k = { .c = c };
	struct sl_seen seen;

	c->pos = sl_here(ld);
	c->match.proto = SL_PROTO_ANY;
	if (!sl_expect(ld, "classes", YAML_MAPPING_START_EVENT))
		return;
	sl_walk_map(ld, "class", sl_class_fields, SL_COUNT(sl_class_fields),
		    &k, &seen);
	if (sl_missing(&seen, SL_CF_NAME))
		sl_err(ld, c->pos, "class: missing required field 'name'");
	if (seen.key[SL_CF_EXCEED].line != 0 && !c->has_limit && !c->has_ceiling)
		sl_err(ld, seen.key[SL_CF_EXCEED], "exceed: has no effect without a limit or a ceiling (without one every packet conforms)");
	*name_pos = k.name_pos;
}

/* Class indices in name order, ties in file order: duplicates adjacent. */
static int sl_cmp_name(const void *a, const void *b, void *arg)
{
	const struct sl_class *c = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = strcmp(c[i].name, c[j].name);

	return r != 0 ? r : (i > j) - (i < j);
}

/*
 * Report every class whose name an earlier class already has, at the
 * later one. Sorting keeps this O(n log n) for policies of many classes.
 */
static void sl_dup_names(struct sl_ld *ld, const struct sl_srcpos *name_pos)
{
	const struct sl_class *c = ld->p->classes;
	uint32_t *idx, i, j, n = 0;

	idx = malloc(sizeof(*idx) * ld->p->n_classes);
	if (idx == NULL) {
		sl_nomem(ld);
		return;
	}
	for (i = 0; i < ld->p->n_classes; i++)
		if (name_pos[i].line != 0)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), sl_cmp_name, (void *)c);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(c[idx[j]].name, c[idx[i]].name) == 0; j++)
			sl_err(ld, name_pos[idx[j]], "duplicate class name '%s' (first at line %u)",
			       c[idx[i]].name, name_pos[idx[i]].line);
	}
	free(idx);
}

/* Room for one more class in p and in name_pos (*cap entries now). */
static bool sl_grow_classes(struct sl_ld *ld, struct sl_srcpos **name_pos,
			    uint32_t *cap)
{
	struct sl_policy *p = ld->p;
	uint32_t ncap = *cap == 0 ? 64 : *cap * 2;
	struct sl_class *c;
	struct sl_srcpos *np;

	if (p->n_classes < *cap)
		return true;
	if (ncap > SL_CLASSES_MAX)
		ncap = SL_CLASSES_MAX;
	c = realloc(p->classes, ncap * sizeof(*c));
	if (c == NULL)
		goto nomem;
	p->classes = c;
	np = realloc(*name_pos, ncap * sizeof(*np));
	if (np == NULL)
		goto nomem;
	*name_pos = np;
	*cap = ncap;
	return true;
nomem:
	sl_nomem(ld);
	return false;
}

/* classes: a sequence of at most SL_CLASSES_MAX classes. */
static void sl_f_classes(struct sl_ld *ld, void *obj, const char *name,
			 struct sl_srcpos key)
{
	struct sl_policy *p = ld->p;
	struct sl_srcpos start = sl_here(ld), *name_pos = NULL;
	uint32_t cap = 0, total = 0;

	(void)obj;
	(void)key;
	if (sl_is_null(ld)) {
		sl_err(ld, start, "classes: missing value (write classes: [] for none)");
		return;
	}
	if (!sl_expect(ld, name, YAML_SEQUENCE_START_EVENT))
		return;
	while (sl_next(ld) && ld->ev.type != YAML_SEQUENCE_END_EVENT) {
		struct sl_class *c;

		if (total++ >= SL_CLASSES_MAX ||
		    !sl_grow_classes(ld, &name_pos, &cap)) {
			sl_skip(ld);
			continue;
		}
		c = &p->classes[p->n_classes++];
		memset(c, 0, sizeof(*c));
		sl_class(ld, c, &name_pos[p->n_classes - 1]);
	}
	if (total > SL_CLASSES_MAX)
		sl_err(ld, start, "classes: too many classes (%u, max %u)", total,
		       SL_CLASSES_MAX);
	else if (!ld->stop && p->n_classes > 0)
		sl_dup_names(ld, name_pos);
	free(name_pos);
}

/* version: must be SL_POLICY_VERSION. */
static void sl_f_version(struct sl_ld *ld, void *obj, const char *name,
			 struct sl_srcpos key)
{
	const char *s = sl_scalar(ld, name);

	(void)obj;
	(void)key;
	if (s == NULL)
		return;
	if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s))
		sl_err(ld, sl_here(ld), "version: expected %d, got '%s'",
		       SL_POLICY_VERSION, s);
	else if (strtoul(s, NULL, 10) != SL_POLICY_VERSION)
		sl_err(ld, sl_here(ld), "version: unsupported version %s (this sluice reads version %d)",
		       s, SL_POLICY_VERSION);
	else
		ld->p->version = SL_POLICY_VERSION;
}

/* default: pass or drop. */
static void sl_f_default(struct sl_ld *ld, void *obj, const char *name,
			 struct sl_srcpos key)
{
	const char *s = sl_scalar(ld, name);

	(void)obj;
	(void)key;
	if (s == NULL)
		return;
	if (strcmp(s, "pass") == 0)
		ld->p->default_action = SL_DEFAULT_PASS;
	else if (strcmp(s, "drop") == 0)
		ld->p->default_action = SL_DEFAULT_DROP;
	else
		sl_err(ld, sl_here(ld), "default: expected pass or drop, got '%s'",
		       s);
}

enum { SL_TF_VERSION = 0, SL_TF_CLASSES = 2 };

static const struct sl_field sl_top_fields[] = {
	[SL_TF_VERSION] = { "version", sl_f_version },
	{ "default", sl_f_default },
	[SL_TF_CLASSES] = { "classes", sl_f_classes },
};

/* The root node, current: a mapping with version, default, classes. */
static void sl_root(struct sl_ld *ld)
{
	struct sl_srcpos start = sl_here(ld);
	struct sl_seen seen;

	if (sl_is_null(ld)) {
		sl_err(ld, start, "empty policy: expected a mapping with version and classes");
		return;
	}
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		sl_err(ld, start, "the policy must be a mapping with version, default and classes, not %s",
		       sl_kind(ld));
		sl_skip(ld);
		return;
	}
	sl_walk_map(ld, "the policy", sl_top_fields, SL_COUNT(sl_top_fields),
		    NULL, &seen);
	if (sl_missing(&seen, SL_TF_VERSION))
		sl_err(ld, start, "missing required field 'version' (write version: %d)",
		       SL_POLICY_VERSION);
	if (sl_missing(&seen, SL_TF_CLASSES))
		sl_err(ld, start, "missing required field 'classes' (write classes: [] for none)");
}

/*
 * The whole stream: exactly one document, whose root is the policy. A
 * second document is most likely a pasting accident, so it is refused.
 */
static void sl_stream(struct sl_ld *ld)
{
	struct sl_srcpos first = { 1, 1 };

	if (!sl_next(ld) || !sl_next(ld))	/* stream start, then? */
		return;
	if (ld->ev.type == YAML_STREAM_END_EVENT) {
		sl_err(ld, first, "empty policy: expected a mapping with version and classes");
		return;
	}
	if (!sl_next(ld))			/* the root */
		return;
	sl_root(ld);
	if (!sl_next(ld) || !sl_next(ld))	/* document end, then? */
		return;
	if (ld->ev.type == YAML_DOCUMENT_START_EVENT)
		sl_err(ld, sl_here(ld), "a policy is one YAML document; found a second one");
}

/* Sort diagnostics by place, keeping the order of those at one place. */
static void sl_diags_sort(struct sl_diags *d)
{
	uint32_t i, j;

	for (i = 1; i < d->n; i++) {
		struct sl_diag t = d->diag[i];

		for (j = i; j > 0; j--) {
			const struct sl_srcpos *q = &d->diag[j - 1].pos;

			if (q->line < t.pos.line ||
			    (q->line == t.pos.line && q->col <= t.pos.col))
				break;
			d->diag[j] = d->diag[j - 1];
		}
		d->diag[j] = t;
	}
}

/* Any buffer (not NUL-terminated); see policy.h. */
int sl_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct sl_policy **out, struct sl_diags *diags)
{
	struct sl_ld ld = { .d = diags };
	int rc;

	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", name);
	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL)
		return -ENOMEM;
	if (!yaml_parser_initialize(&ld.y)) {
		rc = -ENOMEM;
		goto free_policy;
	}
	yaml_parser_set_input_string(&ld.y, (const unsigned char *)buf, len);
	sl_stream(&ld);
	if (ld.have_ev)
		yaml_event_delete(&ld.ev);
	yaml_parser_delete(&ld.y);
	sl_diags_sort(diags);
	rc = ld.stop ? ld.rc : ld.errors > 0 ? -EINVAL : 0;
	if (rc == 0) {
		*out = ld.p;
		return 0;
	}
free_policy:
	sl_policy_free(ld.p);
	return rc;
}

/* Read all of f into a new buffer; -errno on failure. */
static int sl_read_all(FILE *f, char **buf, size_t *len)
{
	struct stat st;
	size_t n;
	char *b;

	if (fstat(fileno(f), &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > SL_POLICY_FILE_MAX)
		return -EFBIG;
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL)
		return -ENOMEM;
	n = fread(b, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || n > (size_t)st.st_size) {
		free(b);
		return ferror(f) ? -EIO : -EAGAIN;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Any path; see policy.h. */
int sl_policy_load_file(const char *path, struct sl_policy **out,
			struct sl_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", path);
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		goto report;
	}
	rc = sl_read_all(f, &buf, &len);
	fclose(f);
	if (rc != 0)
		goto report;
	rc = sl_policy_load_buf(path, buf, len, out, diags);
	free(buf);
	return rc;
report:
	if (rc == -EFBIG)
		sl_diags_add(diags, (struct sl_srcpos){ 0, 0 }, "cannot read: larger than %u MiB",
			     SL_POLICY_FILE_MAX >> 20);
	else if (rc == -EAGAIN)
		sl_diags_add(diags, (struct sl_srcpos){ 0, 0 }, "cannot read: the file changed while it was read");
	else if (rc == -EINVAL)
		sl_diags_add(diags, (struct sl_srcpos){ 0, 0 }, "cannot read: not a regular file");
	else
		sl_diags_add(diags, (struct sl_srcpos){ 0, 0 }, "cannot read: %s",
			     strerror(-rc));
	return rc;
}
