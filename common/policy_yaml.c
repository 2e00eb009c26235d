/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy loader: libyaml builds the document tree (its marks give
 * every node's line and column), this file walks it against the schema of
 * policy language version 1 and fills the model of policy.h.
 *
 * The walk never stops at the first error: each field is checked on its
 * own so that one run reports as much as possible, and a policy with any
 * error is freed whole. Every mapping is walked through a table of its
 * fields, one row per field, so adding a field touches one table.
 *
 * Aliases are followed (libyaml resolves them to the anchored node); the
 * schema is a fixed, shallow tree and every list is bounded, so even a
 * cyclic or repeated alias cannot make the walk unbounded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "policy.h"

/* Largest policy file read: 10x what SL_CLASSES_MAX classes need. */
#define SL_POLICY_FILE_MAX	(64u << 20)

#define SL_ERR_MAX	SL_DIAG_MSG_MAX
#define SL_COUNT(a)	(sizeof(a) / sizeof((a)[0]))

/* State of one load. */
struct sl_ld {
	yaml_document_t *doc;
	struct sl_diags *d;
	struct sl_policy *p;
	uint32_t errors;	/* reported, including those not kept */
	bool nomem;
};

/* One row of a mapping's schema: the field and what parses its value. */
struct sl_field {
	const char *name;
	void (*parse)(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val);
};

/* The most fields any mapping of the schema has. */
#define SL_FIELDS_MAX	16

/* State of one class while it is walked. */
struct sl_cls {
	struct sl_class *c;
	bool proto_bad;		/* proto given but wrong: skip what needs it */
	yaml_node_t *name_val;	/* for duplicate names */
	yaml_node_t *seen[SL_FIELDS_MAX];	/* class fields, by table row */
	yaml_node_t *mseen[SL_FIELDS_MAX];	/* match fields, by table row */
};

/* State of a limit while it is walked. */
struct sl_lim {
	struct sl_limit *l;
	bool rate_ok, burst_ok;
	enum sl_rate_unit burst_unit;
	const char *rate_s, *burst_s;
	yaml_node_t *burst_val;
};

/* State of an exceed mapping while it is walked. */
struct sl_exc {
	struct sl_exceed *e;
	bool ok;
};

static struct sl_srcpos sl_pos(const yaml_node_t *n)
{
	struct sl_srcpos pos = {
		.line = (uint32_t)n->start_mark.line + 1,
		.col = (uint32_t)n->start_mark.column + 1,
	};

	return pos;
}

/* Report at node n; the same error twice (an aliased node) once. */
__attribute__((format(printf, 3, 4)))
static void sl_err(struct sl_ld *ld, const yaml_node_t *n, const char *fmt,
		   ...)
{
	struct sl_srcpos pos = sl_pos(n);
	char msg[SL_ERR_MAX];
	va_list ap;
	uint32_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < ld->d->n; i++) {
		const struct sl_diag *g = &ld->d->diag[i];

		if (g->pos.line == pos.line && g->pos.col == pos.col &&
		    strcmp(g->msg, msg) == 0)
			return;
	}
	ld->errors++;
	sl_diags_add(ld->d, pos, "%s", msg);
}

static void sl_nomem(struct sl_ld *ld, const yaml_node_t *n)
{
	ld->nomem = true;
	sl_err(ld, n, "out of memory");
}

static yaml_node_t *sl_node(struct sl_ld *ld, int i)
{
	return yaml_document_get_node(ld->doc, i);
}

/* A plain empty value, "~" or "null": what YAML reads as nothing. */
static bool sl_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 ||
	       strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static const char *sl_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return sl_is_null(n) ? "nothing" : "a scalar";
}

/*
 * Whether n is of type want (and not null). Reports "field: expected X,
 * got Y" otherwise. Tags other than YAML's own are refused: "!ack" looks
 * like a value but YAML reads it as a tag.
 */
static bool sl_expect(struct sl_ld *ld, const char *field, yaml_node_t *n,
		      yaml_node_type_t want)
{
	static const char *const names[] = {
		[YAML_SCALAR_NODE] = "a scalar",
		[YAML_SEQUENCE_NODE] = "a sequence",
		[YAML_MAPPING_NODE] = "a mapping",
	};
	const char *tag = (const char *)n->tag;

	if (tag != NULL && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
		sl_err(ld, n, "%s: unexpected YAML tag '%s' (quote values that start with '!')",
		       field, tag);
		return false;
	}
	if (n->type == want && !(want == YAML_SCALAR_NODE && sl_is_null(n)))
		return true;
	if (n->type == YAML_SCALAR_NODE && sl_is_null(n) &&
	    want == YAML_SCALAR_NODE)
		sl_err(ld, n, "%s: missing value", field);
	else
		sl_err(ld, n, "%s: expected %s, got %s", field, names[want],
		       sl_kind(n));
	return false;
}

/* The text of scalar n, or NULL after reporting why there is none. */
static const char *sl_scalar(struct sl_ld *ld, const char *field,
			     yaml_node_t *n)
{
	if (!sl_expect(ld, field, n, YAML_SCALAR_NODE))
		return NULL;
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		sl_err(ld, n, "%s: value contains a NUL character", field);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
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
	size_t row = 0;
	unsigned int bd = 3;
	size_t i;

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

/*
 * Walk mapping map through the table f (n rows, at most SL_FIELDS_MAX):
 * unknown and repeated fields are reported, the rest parsed into obj.
 * seen[i] is left at the key node of row i, NULL where it is absent.
 * Returns the rows suggested for unknown fields: a missing field that was
 * misspelt needs no second report.
 */
static uint32_t sl_walk_map(struct sl_ld *ld, yaml_node_t *map, const char *where,
			const struct sl_field *f, size_t n, void *obj,
			yaml_node_t **seen)
{
	yaml_node_pair_t *pr;
	uint32_t hinted = 0;
	size_t i;

	memset(seen, 0, n * sizeof(*seen));
	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = sl_node(ld, pr->key);
		yaml_node_t *val = sl_node(ld, pr->value);
		const char *name, *hint;

		if (key->type != YAML_SCALAR_NODE) {
			sl_err(ld, key, "expected a field name in %s, got %s",
			       where, sl_kind(key));
			continue;
		}
		name = (const char *)key->data.scalar.value;
		for (i = 0; i < n; i++)
			if (strcmp(name, f[i].name) == 0)
				break;
		if (i == n && strcmp(name, "<<") == 0) {
			sl_err(ld, key, "merge keys (<<) are not supported in %s; write the fields out",
			       where);
		} else if (i == n) {
			hint = sl_suggest(name, f, n, &hinted);
			if (hint != NULL)
				sl_err(ld, key, "unknown field '%s' in %s (did you mean '%s'?)",
				       name, where, hint);
			else
				sl_err(ld, key, "unknown field '%s' in %s", name,
				       where);
		} else if (seen[i] != NULL) {
			sl_err(ld, key, "duplicate field '%s' in %s (first at line %u, column %u)",
			       name, where, sl_pos(seen[i]).line,
			       sl_pos(seen[i]).col);
		} else {
			seen[i] = key;
			f[i].parse(ld, obj, key, val);
		}
	}
	return hinted;
}

/* Reads one scalar into *out: the same shape for every list type. */
typedef int (*sl_item_fn)(const char *s, void *out, char *err,
			  size_t errlen);

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

/*
 * val: one scalar or a sequence of 1..SL_MATCH_LIST_MAX scalars, each
 * read by fn into an array of elsize items. Returns the array (the
 * caller frees it) with *n set, or NULL after reporting.
 */
static void *sl_list(struct sl_ld *ld, const char *field, yaml_node_t *val,
		     size_t elsize, sl_item_fn fn, uint32_t *n)
{
	yaml_node_item_t *it, *start = NULL;
	char err[SL_ERR_MAX];
	uint32_t count = 1, i, bad = 0;
	uint8_t *arr;

	if (val->type == YAML_SEQUENCE_NODE) {
		start = val->data.sequence.items.start;
		count = (uint32_t)(val->data.sequence.items.top - start);
		if (count == 0) {
			sl_err(ld, val, "%s: empty list", field);
			return NULL;
		}
		if (count > SL_MATCH_LIST_MAX) {
			sl_err(ld, val, "%s: too many entries (%u, max %u)",
			       field, count, SL_MATCH_LIST_MAX);
			return NULL;
		}
	} else if (val->type == YAML_MAPPING_NODE) {
		sl_err(ld, val, "%s: expected a value or a list of values, got a mapping",
		       field);
		return NULL;
	}
	arr = calloc(count, elsize);
	if (arr == NULL) {
		sl_nomem(ld, val);
		return NULL;
	}
	for (i = 0; i < count; i++) {
		yaml_node_t *item = val;
		const char *s;

		if (start != NULL) {
			it = start + i;
			item = sl_node(ld, *it);
		}
		s = sl_scalar(ld, field, item);
		if (s == NULL) {
			bad++;
		} else if (fn(s, arr + i * elsize, err, sizeof(err)) != 0) {
			sl_err(ld, item, "%s: %s", field, err);
			bad++;
		}
	}
	if (bad > 0) {
		free(arr);
		return NULL;
	}
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

static void sl_f_proto(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_cls *k = obj;
	struct sl_match *m = &k->c->match;
	const char *s = sl_scalar(ld, "proto", val);
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
	sl_err(ld, val, "proto: expected tcp, udp, icmp, icmpv6, sctp, any or a number 0..255, got '%s'",
	       s);
	return;
ok:
	k->proto_bad = false;
	/* "any" restricts nothing, so it sets no field. */
	if (m->proto != SL_PROTO_ANY)
		m->fields |= SL_M_PROTO;
}

static void sl_f_src(struct sl_ld *ld, void *obj, yaml_node_t *key,
		     yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->src = sl_list(ld, "src", val, sizeof(*m->src), sl_item_prefix,
			 &m->n_src);
	if (m->src != NULL)
		m->fields |= SL_M_SRC;
}

static void sl_f_dst(struct sl_ld *ld, void *obj, yaml_node_t *key,
		     yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->dst = sl_list(ld, "dst", val, sizeof(*m->dst), sl_item_prefix,
			 &m->n_dst);
	if (m->dst != NULL)
		m->fields |= SL_M_DST;
}

static void sl_f_sport(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->sport = sl_list(ld, "sport", val, sizeof(*m->sport), sl_item_port,
			   &m->n_sport);
	if (m->sport != NULL)
		m->fields |= SL_M_SPORT;
}

static void sl_f_dport(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->dport = sl_list(ld, "dport", val, sizeof(*m->dport), sl_item_port,
			   &m->n_dport);
	if (m->dport != NULL)
		m->fields |= SL_M_DPORT;
}

static void sl_f_vlan(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;

	(void)key;
	m->vlan = sl_list(ld, "vlan", val, sizeof(*m->vlan), sl_item_vlan,
			  &m->n_vlan);
	if (m->vlan != NULL)
		m->fields |= SL_M_VLAN;
}

static void sl_f_dscp(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;
	uint8_t *d;
	uint32_t n, i;

	(void)key;
	d = sl_list(ld, "dscp", val, 1, sl_item_dscp, &n);
	if (d == NULL)
		return;
	for (i = 0; i < n; i++)
		m->dscp |= 1ull << d[i];
	m->fields |= SL_M_DSCP;
	free(d);
}

static void sl_f_tcp_flags(struct sl_ld *ld, void *obj, yaml_node_t *key,
			   yaml_node_t *val)
{
	struct sl_match *m = &((struct sl_cls *)obj)->c->match;
	const char *s = sl_scalar(ld, "tcp_flags", val);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_tcp_flags_parse(s, &m->tcp_flags, &m->tcp_mask, err,
			       sizeof(err)) != 0) {
		sl_err(ld, val, "tcp_flags: %s", err);
		return;
	}
	m->fields |= SL_M_TCP_FLAGS;
}

/* For fields of later language versions: known, so not "unknown field". */
static void sl_f_unsupported(struct sl_ld *ld, void *obj, yaml_node_t *key,
			     yaml_node_t *val)
{
	(void)obj;
	(void)val;
	sl_err(ld, key, "%s: not supported in this version",
	       (const char *)key->data.scalar.value);
}

enum { SL_MF_SPORT = 3, SL_MF_DPORT = 4, SL_MF_TCP_FLAGS = 5 };

static const struct sl_field sl_match_fields[] = {
	{ "proto", sl_f_proto },
	{ "src", sl_f_src },
	{ "dst", sl_f_dst },
	[SL_MF_SPORT] = { "sport", sl_f_sport },
	[SL_MF_DPORT] = { "dport", sl_f_dport },
	[SL_MF_TCP_FLAGS] = { "tcp_flags", sl_f_tcp_flags },
	{ "vlan", sl_f_vlan },
	{ "dscp", sl_f_dscp },
	{ "payload", sl_f_unsupported },
};

_Static_assert(SL_COUNT(sl_match_fields) <= SL_FIELDS_MAX,
	       "struct sl_cls keeps one key node per match field");

/* Whether the match's proto carries ports (TCP, UDP, SCTP). */
static bool sl_has_ports(const struct sl_match *m)
{
	return (m->fields & SL_M_PROTO) &&
	       (m->proto == 6 || m->proto == 17 || m->proto == 132);
}

/* Checks between match fields, once all of them are read. */
static void sl_match_check(struct sl_ld *ld, struct sl_cls *k)
{
	const struct sl_match *m = &k->c->match;
	static const int port_rows[] = { SL_MF_SPORT, SL_MF_DPORT };
	yaml_node_t *key;
	size_t i;

	if (k->proto_bad)
		return;
	for (i = 0; i < SL_COUNT(port_rows); i++) {
		key = k->mseen[port_rows[i]];
		if (key != NULL && !sl_has_ports(m))
			sl_err(ld, key, "%s: requires proto tcp, udp or sctp (6, 17 or 132)",
			       sl_match_fields[port_rows[i]].name);
	}
	key = k->mseen[SL_MF_TCP_FLAGS];
	if (key != NULL && !((m->fields & SL_M_PROTO) && m->proto == 6))
		sl_err(ld, key, "tcp_flags: requires proto tcp");
}

static void sl_f_match(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_cls *k = obj;

	(void)key;
	if (!sl_expect(ld, "match", val, YAML_MAPPING_NODE))
		return;
	sl_walk_map(ld, val, "match", sl_match_fields,
		    SL_COUNT(sl_match_fields), k, k->mseen);
	sl_match_check(ld, k);
}

static void sl_f_name(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val)
{
	struct sl_cls *k = obj;
	const char *s = sl_scalar(ld, "name", val);
	size_t n;

	(void)key;
	if (s == NULL)
		return;
	n = strlen(s);
	if (n >= SL_CLASS_NAME_MAX) {
		sl_err(ld, val, "name: '%.32s...' is too long (%zu characters, max %d)",
		       s, n, SL_CLASS_NAME_MAX - 1);
		return;
	}
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n) {
		sl_err(ld, val, "name: '%s' may only contain letters, digits, '_', '.' and '-'",
		       s);
		return;
	}
	memcpy(k->c->name, s, n + 1);
	k->name_val = val;
}

static void sl_f_key(struct sl_ld *ld, void *obj, yaml_node_t *key,
		     yaml_node_t *val)
{
	struct sl_lim *m = obj;
	const char *s = sl_scalar(ld, "key", val);
	uint64_t n;
	char *end;

	(void)key;
	if (s == NULL)
		return;
	m->l->prefix_len = 0;
	if (strcmp(s, "none") == 0) {
		m->l->key = SL_KEY_NONE;
	} else if (strcmp(s, "flow") == 0) {
		m->l->key = SL_KEY_FLOW;
	} else if (strncmp(s, "src", 3) == 0 || strncmp(s, "dst", 3) == 0) {
		m->l->key = s[0] == 's' ? SL_KEY_SRC : SL_KEY_DST;
		m->l->prefix_len = 128;
		if (s[3] == '/') {
			errno = 0;
			n = strtoull(s + 4, &end, 10);
			if (s[4] < '0' || s[4] > '9' || *end != '\0' ||
			    errno != 0 || n > 128) {
				sl_err(ld, val, "key: in '%s', N of %.3s/N must be 0..128",
				       s, s);
				return;
			}
			m->l->prefix_len = (uint8_t)n;
		} else if (s[3] != '\0') {
			goto bad;
		}
	} else {
		goto bad;
	}
	return;
bad:
	sl_err(ld, val, "key: expected src, dst, flow, none, src/N or dst/N, got '%s'",
	       s);
}

static void sl_f_rate(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val)
{
	struct sl_lim *m = obj;
	const char *s = sl_scalar(ld, "rate", val);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_rate_parse(s, &m->l->rate, &m->l->unit, err, sizeof(err))) {
		sl_err(ld, val, "rate: %s", err);
		return;
	}
	m->rate_s = s;
	m->rate_ok = true;
}

static void sl_f_burst(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_lim *m = obj;
	const char *s = sl_scalar(ld, "burst", val);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_burst_parse(s, &m->l->burst, &m->burst_unit, err,
			   sizeof(err))) {
		sl_err(ld, val, "burst: %s", err);
		return;
	}
	m->burst_s = s;
	m->burst_val = val;
	m->burst_ok = true;
}

static const struct sl_field sl_limit_fields[] = {
	{ "key", sl_f_key },
	{ "rate", sl_f_rate },
	{ "burst", sl_f_burst },
};

/* Rate and burst must agree in unit and fit the token bucket. */
static bool sl_limit_agree(struct sl_ld *ld, struct sl_lim *m)
{
	char err[SL_ERR_MAX];

	if (m->l->unit == SL_UNIT_PACKETS && m->burst_unit == SL_UNIT_BITS) {
		sl_err(ld, m->burst_val, "burst: %s is in bytes but rate %s is in packets; give a packet count",
		       m->burst_s, m->rate_s);
		return false;
	}
	if (m->l->unit == SL_UNIT_BITS && m->burst_unit == SL_UNIT_PACKETS) {
		sl_err(ld, m->burst_val, "burst: %s is a packet count but rate %s is in bits; give bytes (B, KB, MB or GB)",
		       m->burst_s, m->rate_s);
		return false;
	}
	if (sl_limit_check(m->l, err, sizeof(err)) != 0) {
		sl_err(ld, m->burst_val, "%s", err);
		return false;
	}
	return true;
}

static void sl_f_limit(struct sl_ld *ld, void *obj, yaml_node_t *key,
		       yaml_node_t *val)
{
	struct sl_cls *k = obj;
	struct sl_lim m = { .l = &k->c->limit };
	yaml_node_t *seen[SL_COUNT(sl_limit_fields)];
	uint32_t hinted;
	size_t i;

	(void)key;
	/* Even a wrong limit is one: no second error about exceed. */
	k->c->has_limit = true;
	if (!sl_expect(ld, "limit", val, YAML_MAPPING_NODE))
		return;
	hinted = sl_walk_map(ld, val, "limit", sl_limit_fields,
			     SL_COUNT(sl_limit_fields), &m, seen);
	for (i = 0; i < SL_COUNT(sl_limit_fields); i++)
		if (seen[i] == NULL && !(hinted & (1u << i)))
			sl_err(ld, val, "limit: missing required field '%s'",
			       sl_limit_fields[i].name);
	if (m.rate_ok && m.burst_ok)
		sl_limit_agree(ld, &m);
}

static void sl_f_mark(struct sl_ld *ld, void *obj, yaml_node_t *key,
		      yaml_node_t *val)
{
	struct sl_exc *x = obj;
	const char *s = sl_scalar(ld, "mark", val);
	char err[SL_ERR_MAX];

	(void)key;
	if (s == NULL)
		return;
	if (sl_item_dscp(s, &x->e->dscp, err, sizeof(err)) != 0) {
		sl_err(ld, val, "mark: %s", err);
		return;
	}
	x->e->action = SL_EXCEED_MARK;
	x->ok = true;
}

static const struct sl_field sl_exceed_fields[] = {
	{ "mark", sl_f_mark },
	{ "shape", sl_f_unsupported },
};

static void sl_f_exceed(struct sl_ld *ld, void *obj, yaml_node_t *key,
			yaml_node_t *val)
{
	struct sl_cls *k = obj;
	struct sl_exc x = { .e = &k->c->exceed };
	yaml_node_t *seen[SL_COUNT(sl_exceed_fields)];
	const char *s;

	(void)key;
	if (val->type == YAML_MAPPING_NODE) {
		if (val->data.mapping.pairs.top - val->data.mapping.pairs.start != 1) {
			sl_err(ld, val, "exceed: expected one action, {mark: DSCP} or {shape: DELAY}");
			return;
		}
		sl_walk_map(ld, val, "exceed", sl_exceed_fields,
			    SL_COUNT(sl_exceed_fields), &x, seen);
		return;
	}
	s = sl_scalar(ld, "exceed", val);
	if (s == NULL)
		return;
	if (strcmp(s, "drop") == 0)
		k->c->exceed.action = SL_EXCEED_DROP;
	else if (strcmp(s, "monitor") == 0)
		k->c->exceed.action = SL_EXCEED_MONITOR;
	else if (strcmp(s, "mark") == 0 || strcmp(s, "shape") == 0)
		sl_err(ld, val, "exceed: %s needs a value: {%s: %s}", s, s,
		       s[0] == 'm' ? "DSCP" : "DELAY");
	else
		sl_err(ld, val, "exceed: expected drop, monitor, {mark: DSCP} or {shape: DELAY}, got '%s'",
		       s);
}

enum { SL_CF_NAME = 0, SL_CF_EXCEED = 3 };

static const struct sl_field sl_class_fields[] = {
	[SL_CF_NAME] = { "name", sl_f_name },
	{ "match", sl_f_match },
	{ "limit", sl_f_limit },
	[SL_CF_EXCEED] = { "exceed", sl_f_exceed },
	{ "ceiling", sl_f_unsupported },
};

/* One entry of classes: into c, with its name node kept for duplicates. */
static void sl_class(struct sl_ld *ld, struct sl_class *c, yaml_node_t *n,
		     yaml_node_t **name_val)
{
	struct sl_cls k = { .c = c };
	uint32_t hinted;

	c->pos = sl_pos(n);
	c->match.proto = SL_PROTO_ANY;
	*name_val = NULL;
	if (!sl_expect(ld, "classes", n, YAML_MAPPING_NODE))
		return;
	hinted = sl_walk_map(ld, n, "class", sl_class_fields,
			     SL_COUNT(sl_class_fields), &k, k.seen);
	if (k.seen[SL_CF_NAME] == NULL && !(hinted & (1u << SL_CF_NAME)))
		sl_err(ld, n, "class: missing required field 'name'");
	if (k.seen[SL_CF_EXCEED] != NULL && !c->has_limit)
		sl_err(ld, k.seen[SL_CF_EXCEED], "exceed: has no effect without a limit (without one every packet conforms)");
	*name_val = k.name_val;
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
static void sl_dup_names(struct sl_ld *ld, yaml_node_t **name_val)
{
	const struct sl_class *c = ld->p->classes;
	uint32_t *idx, i, j, n = 0;

	idx = malloc(sizeof(*idx) * ld->p->n_classes);
	if (idx == NULL) {
		ld->nomem = true;
		return;
	}
	for (i = 0; i < ld->p->n_classes; i++)
		if (name_val[i] != NULL)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), sl_cmp_name, (void *)c);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(c[idx[j]].name, c[idx[i]].name) == 0; j++)
			sl_err(ld, name_val[idx[j]], "duplicate class name '%s' (first at line %u)",
			       c[idx[i]].name, sl_pos(name_val[idx[i]]).line);
	}
	free(idx);
}

static void sl_f_version(struct sl_ld *ld, void *obj, yaml_node_t *key,
			 yaml_node_t *val)
{
	const char *s = sl_scalar(ld, "version", val);

	(void)obj;
	(void)key;
	if (s == NULL)
		return;
	if (strspn(s, "0123456789") != strlen(s))
		sl_err(ld, val, "version: expected %d, got '%s'",
		       SL_POLICY_VERSION, s);
	else if (strtoul(s, NULL, 10) != SL_POLICY_VERSION)
		sl_err(ld, val, "version: unsupported version %s (this sluice reads version %d)",
		       s, SL_POLICY_VERSION);
	else
		ld->p->version = SL_POLICY_VERSION;
}

static void sl_f_default(struct sl_ld *ld, void *obj, yaml_node_t *key,
			 yaml_node_t *val)
{
	const char *s = sl_scalar(ld, "default", val);

	(void)obj;
	(void)key;
	if (s == NULL)
		return;
	if (strcmp(s, "pass") == 0)
		ld->p->default_action = SL_DEFAULT_PASS;
	else if (strcmp(s, "drop") == 0)
		ld->p->default_action = SL_DEFAULT_DROP;
	else
		sl_err(ld, val, "default: expected pass or drop, got '%s'", s);
}

static void sl_f_classes(struct sl_ld *ld, void *obj, yaml_node_t *key,
			 yaml_node_t *val)
{
	struct sl_policy *p = ld->p;
	yaml_node_item_t *it;
	yaml_node_t **name_val;
	uint32_t n, i;

	(void)obj;
	(void)key;
	if (sl_is_null(val)) {
		sl_err(ld, val, "classes: missing value (write classes: [] for none)");
		return;
	}
	if (!sl_expect(ld, "classes", val, YAML_SEQUENCE_NODE))
		return;
	it = val->data.sequence.items.start;
	n = (uint32_t)(val->data.sequence.items.top - it);
	if (n > SL_CLASSES_MAX) {
		sl_err(ld, val, "classes: too many classes (%u, max %u)", n,
		       SL_CLASSES_MAX);
		return;
	}
	if (n == 0)
		return;
	p->classes = calloc(n, sizeof(*p->classes));
	name_val = calloc(n, sizeof(*name_val));
	if (p->classes == NULL || name_val == NULL) {
		free(name_val);
		sl_nomem(ld, val);
		return;
	}
	p->n_classes = n;
	for (i = 0; i < n; i++)
		sl_class(ld, &p->classes[i], sl_node(ld, it[i]), &name_val[i]);
	sl_dup_names(ld, name_val);
	free(name_val);
}

enum { SL_TF_VERSION = 0, SL_TF_CLASSES = 2 };

static const struct sl_field sl_top_fields[] = {
	[SL_TF_VERSION] = { "version", sl_f_version },
	{ "default", sl_f_default },
	[SL_TF_CLASSES] = { "classes", sl_f_classes },
};

/* The root of the document: a mapping with version, default, classes. */
static void sl_top(struct sl_ld *ld, yaml_node_t *root)
{
	yaml_node_t *seen[SL_COUNT(sl_top_fields)];
	struct sl_srcpos start = { 1, 1 };
	uint32_t hinted;

	if (root == NULL) {
		sl_diags_add(ld->d, start, "empty policy: expected a mapping with version and classes");
		ld->errors++;
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		sl_err(ld, root, "the policy must be a mapping with version, default and classes, not %s",
		       sl_kind(root));
		return;
	}
	hinted = sl_walk_map(ld, root, "the policy", sl_top_fields,
			     SL_COUNT(sl_top_fields), NULL, seen);
	if (seen[SL_TF_VERSION] == NULL && !(hinted & (1u << SL_TF_VERSION)))
		sl_err(ld, root, "missing required field 'version' (write version: %d)",
		       SL_POLICY_VERSION);
	if (seen[SL_TF_CLASSES] == NULL && !(hinted & (1u << SL_TF_CLASSES)))
		sl_err(ld, root, "missing required field 'classes' (write classes: [] for none)");
}

/* A libyaml failure as a diagnostic at the place it points to. */
static int sl_yaml_error(struct sl_ld *ld, const yaml_parser_t *y)
{
	struct sl_srcpos pos = {
		.line = (uint32_t)y->problem_mark.line + 1,
		.col = (uint32_t)y->problem_mark.column + 1,
	};
	const char *problem = y->problem != NULL ? y->problem : "unknown error";

	ld->errors++;
	if (y->error == YAML_MEMORY_ERROR) {
		sl_diags_add(ld->d, (struct sl_srcpos){ 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	if (y->error == YAML_READER_ERROR) {
		/* The reader only knows the byte offset. */
		sl_diags_add(ld->d, (struct sl_srcpos){ 0, 0 }, "invalid input at byte %zu: %s",
			     y->problem_offset, problem);
		return -EINVAL;
	}
	if (y->context != NULL)
		sl_diags_add(ld->d, pos, "YAML syntax error: %s (%s at line %zu, column %zu)",
			     problem, y->context, y->context_mark.line + 1,
			     y->context_mark.column + 1);
	else
		sl_diags_add(ld->d, pos, "YAML syntax error: %s", problem);
	return -EINVAL;
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

/* Only one document: a second one is most likely a pasting accident. */
static int sl_no_second_doc(struct sl_ld *ld, yaml_parser_t *y)
{
	yaml_document_t doc2;
	yaml_node_t *root;

	if (!yaml_parser_load(y, &doc2))
		return sl_yaml_error(ld, y);
	root = yaml_document_get_root_node(&doc2);
	if (root != NULL)
		sl_err(ld, root, "a policy is one YAML document; found a second one");
	yaml_document_delete(&doc2);
	return 0;
}

/* Any buffer (not NUL-terminated); see policy.h. */
int sl_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct sl_policy **out, struct sl_diags *diags)
{
	struct sl_ld ld = { .d = diags };
	yaml_parser_t y;
	yaml_document_t doc;
	int rc = 0;

	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", name);
	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL)
		return -ENOMEM;
	if (!yaml_parser_initialize(&y)) {
		rc = -ENOMEM;
		goto free_policy;
	}
	yaml_parser_set_input_string(&y, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&y, &doc)) {
		rc = sl_yaml_error(&ld, &y);
		goto free_parser;
	}
	ld.doc = &doc;
	sl_top(&ld, yaml_document_get_root_node(&doc));
	if (yaml_document_get_root_node(&doc) != NULL)
		rc = sl_no_second_doc(&ld, &y);
	yaml_document_delete(&doc);
free_parser:
	yaml_parser_delete(&y);
	sl_diags_sort(diags);
	if (rc == 0 && ld.nomem)
		rc = -ENOMEM;
	if (rc == 0 && ld.errors > 0)
		rc = -EINVAL;
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
