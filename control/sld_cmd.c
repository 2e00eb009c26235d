/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's commands (docs/protocol.md, "sluiced's commands"): one
 * table row per command with its arguments, so adding one touches one
 * place. The server has already checked the peer and the framing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "policy_diff.h"
#include "policy_render.h"
#include "sluiced.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ARGS_MAX	4

/* ---- Arguments -------------------------------------------------------- */

enum arg_type {
	ARG_STR,
	ARG_BOOL,
	ARG_UINT,
	ARG_STR_OR_OBJ,
};

struct arg {
	const char *name;
	enum arg_type type;
	bool required;
};

/* Accepts a value and a type; whether the value has it. */
static bool arg_type_ok(json_t *v, enum arg_type t)
{
	switch (t) {
	case ARG_STR:
		return json_is_string(v);
	case ARG_BOOL:
		return json_is_boolean(v);
	case ARG_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	default:
		return json_is_string(v) || json_is_object(v);
	}
}

static const char *const type_names[] = {
	[ARG_STR] = "a string",
	[ARG_BOOL] = "true or false",
	[ARG_UINT] = "a non-negative integer",
	[ARG_STR_OR_OBJ] = "a string or an object",
};

/*
 * Accepts a request and its argument table. Fills v[i] (borrowed; NULL
 * when absent) and returns NULL, or an EINVAL reply naming the unknown,
 * missing or mistyped argument.
 */
static json_t *args_get(const struct sl_ctl_req *req, const struct arg *spec,
			size_t n, json_t **v)
{
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(req->args, key, val) {
		for (i = 0; i < n && strcmp(key, spec[i].name) != 0; i++)
			;
		if (i == n)
			return sl_ctl_reply_err(req->id, "EINVAL", "%s: unknown argument '%.64s'",
						req->cmd, key);
	}
	for (i = 0; i < n; i++) {
		v[i] = json_object_get(req->args, spec[i].name);
		if (!v[i] && spec[i].required)
			return sl_ctl_reply_err(req->id, "EINVAL", "%s: missing argument '%s'",
						req->cmd, spec[i].name);
		if (v[i] && !arg_type_ok(v[i], spec[i].type))
			return sl_ctl_reply_err(req->id, "EINVAL", "%s: argument '%s' must be %s",
						req->cmd, spec[i].name,
						type_names[spec[i].type]);
	}
	return NULL;
}

/* Accepts an optional string argument; its value or def. */
static const char *str_or(json_t *v, const char *def)
{
	return v ? json_string_value(v) : def;
}

/* ---- Helpers ---------------------------------------------------------- */

/* Accepts a daemon; an error reply when its policy cannot serve a model. */
static json_t *need_model(struct sld *d, const struct sl_ctl_req *req)
{
	if (d->policy_invalid)
		return sl_ctl_reply_err(req->id, "EINVAL", "the stored policy version %" PRIu64 " is invalid: %s",
					sl_store_version(d->store), d->invalid_why);
	if (!d->policy)
		return sl_ctl_reply_err(req->id, "ENOENT", "no policy was ever applied");
	return NULL;
}

/*
 * Accepts the outcome of an apply; the policy.apply result, with the
 * path and, when the dataplane did not get the policy, why.
 */
static json_t *applied_json(struct sld *d, const struct sld_applied *a,
			    bool dry_run)
{
	char reason[1200];
	const char *path = sld_path(d, reason, sizeof(reason));
	json_t *r;

	r = json_pack("{s:I,s:I,s:b,s:b,s:f,s:s}", "version", (json_int_t)a->version,
		      "classes", (json_int_t)a->classes, "dry_run", dry_run,
		      "pushed", a->pushed, "apply_ms", a->apply_ms, "path", path);
	if (r && !a->pushed && !dry_run)
		json_object_set_new(r, "reason", json_string(reason));
	return r;
}

/* ---- status ----------------------------------------------------------- */

/* The dataplane part of status. */
static json_t *status_dataplane(struct sld *d)
{
	json_t *h = d->link.hello, *ports = json_object_get(h, "ports");
	bool up = sl_dplink_up(&d->link);
	int64_t seen = d->link.hb.last_ok_ms;
	static const char *const health[] = { "alive", "stuck", "gone" };

	return json_pack("{s:b,s:I,s:I,s:o,s:I,s:I,s:s,s:b,s:s}",
		"connected", up,
		"pid", (json_int_t)d->dp_pid,
		"workers", (json_int_t)(up ? json_integer_value(json_object_get(h, "workers")) : 0),
		"ports", up && json_is_array(ports) ? json_incref(ports) : json_array(),
		"policy_version", (json_int_t)d->dp_policy_version,
		"last_seen_ms", (json_int_t)(seen ? sl_now_ms() - seen : -1),
		"health", health[up ? d->health : SL_DP_GONE],
		"in_sync", up && d->in_sync,
		"socket", d->dp_path);
}

/* The policy part of status. */
static json_t *status_policy(struct sld *d)
{
	struct sl_store_meta meta;
	json_t *o;

	sl_store_current(d->store, NULL, &meta);
	o = json_pack("{s:I,s:s,s:I,s:I,s:b}", "version", (json_int_t)meta.version,
		      "source", meta.source, "applied_at", (json_int_t)meta.time,
		      "classes", (json_int_t)(d->policy ? d->policy->n_classes : 0),
		      "valid", !d->policy_invalid);
	if (o && d->policy_invalid)
		json_object_set_new(o, "error", json_string(d->invalid_why));
	return o;
}

/* status: the path, the dataplane, the XDP path, the policy, uptime. */
static json_t *cmd_status(struct sld *d, const struct sl_ctl_req *req, json_t **a)
{
	char reason[1200];
	const char *path = sld_path(d, reason, sizeof(reason));

	(void)a;
	return sl_ctl_reply_ok(req->id, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:I}",
		"path", path, "reason", reason,
		"dataplane", status_dataplane(d), "policy", status_policy(d),
		"xdp", sld_xdp_status(d), "degraded", sld_xdp_degraded_json(d),
		"uptime_s", (json_int_t)((sl_now_ms() - d->start_ms) / 1000)));
}

/* ---- policy.* --------------------------------------------------------- */

static json_t *cmd_policy_show(struct sld *d, const struct sl_ctl_req *req,
			       json_t **a)
{
	struct sl_store_meta meta;
	const char *text;
	size_t len;

	(void)a;
	text = sl_store_current(d->store, &len, &meta);
	if (!text)
		return sl_ctl_reply_err(req->id, "ENOENT", "no policy was ever applied");
	return sl_ctl_reply_ok(req->id, json_pack("{s:I,s:s,s:I,s:I,s:s%,s:b}",
		"version", (json_int_t)meta.version, "source", meta.source,
		"applied_at", (json_int_t)meta.time, "uid", (json_int_t)meta.uid,
		"text", text, len, "valid", !d->policy_invalid));
}

/* Accepts a text argument; loads it, or returns the EINVAL reply. */
static json_t *load_arg(const struct sl_ctl_req *req, json_t *text, const char *name,
			struct sl_policy **p)
{
	struct sl_diags *dg = malloc(sizeof(*dg));
	json_t *reply = NULL;
	int rc;

	if (!dg)
		return sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
	if (json_string_length(text) > SL_STORE_TEXT_MAX) {
		free(dg);
		return sl_ctl_reply_err(req->id, "E2BIG", "policy text exceeds the limit of %u bytes",
					SL_STORE_TEXT_MAX);
	}
	rc = sl_policy_load_buf(name, json_string_value(text), json_string_length(text),
				p, dg);
	if (rc) {
		reply = sl_ctl_reply_errno(req->id, rc, "policy refused (%u error%s)",
					   dg->n + dg->dropped,
					   dg->n + dg->dropped == 1 ? "" : "s");
		if (reply)
			json_object_set_new(json_object_get(reply, "error"),
					    "diagnostics", sld_diags_json(dg));
	}
	free(dg);
	return reply;
}

static const struct arg text_args[] = {
	{ "text", ARG_STR, true },
	{ "name", ARG_STR, false },
	{ "dry_run", ARG_BOOL, false },
};

/* policy.check: validate only, nothing is kept. */
static json_t *cmd_policy_check(struct sld *d, const struct sl_ctl_req *req,
				json_t **a)
{
	struct sl_policy *p;
	json_t *reply;

	(void)d;
	reply = load_arg(req, a[0], str_or(a[1], "policy"), &p);
	if (reply)
		return reply;
	reply = sl_ctl_reply_ok(req->id, json_pack("{s:b,s:I,s:s}", "valid", 1,
		"classes", (json_int_t)p->n_classes,
		"default", p->default_action == SL_DEFAULT_DROP ? "drop" : "pass"));
	sl_policy_free(p);
	return reply;
}

/* policy.apply: validate, push, persist (sld_apply). */
static json_t *cmd_policy_apply(struct sld *d, const struct sl_ctl_req *req,
				json_t **a)
{
	bool dry = a[2] && json_is_true(a[2]);
	struct sld_applied out;
	json_t *reply;

	reply = sld_apply(d, req, json_string_value(a[0]), json_string_length(a[0]),
			  str_or(a[1], "policy"), str_or(a[1], "policy"), dry, &out);
	if (reply)
		return reply;
	return sl_ctl_reply_ok(req->id, applied_json(d, &out, dry));
}

/* policy.diff: the candidate against the current model. */
static json_t *cmd_policy_diff(struct sld *d, const struct sl_ctl_req *req,
			       json_t **a)
{
	struct sl_policy *p;
	json_t *reply, *r;

	if (d->policy_invalid)
		return need_model(d, req);
	reply = load_arg(req, a[0], str_or(a[1], "policy"), &p);
	if (reply)
		return reply;
	r = sl_policy_diff(d->policy, p);
	sl_policy_free(p);
	if (!r)
		return sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
	json_object_set_new(r, "from_version", json_integer((json_int_t)sl_store_version(d->store)));
	return sl_ctl_reply_ok(req->id, r);
}

/* policy.rollback: apply the store's rollback target again. */
static json_t *cmd_policy_rollback(struct sld *d, const struct sl_ctl_req *req,
				   json_t **a)
{
	char err[512], name[SL_STORE_SOURCE_MAX];
	struct sl_store_meta meta;
	struct sld_applied out;
	uint64_t target;
	json_t *reply;
	size_t len;
	char *text;
	int rc;

	(void)a;
	if (sl_store_previous(d->store, &target) != 0)
		return sl_ctl_reply_err(req->id, "ENOENT", "nothing to roll back to: no earlier, different policy in history");
	rc = sl_store_get(d->store, target, &text, &len, &meta, err, sizeof(err));
	if (rc)
		return sl_ctl_reply_errno(req->id, rc, "cannot read version %" PRIu64 ": %s",
					  target, err);
	snprintf(name, sizeof(name), "rollback to %" PRIu64, target);
	/* Diagnostics name the version's own source, should it no longer load. */
	reply = sld_apply(d, req, text, len, meta.source, name, false, &out);
	free(text);
	if (reply)
		return reply;
	reply = applied_json(d, &out, false);
	if (reply)
		json_object_set_new(reply, "restored", json_integer((json_int_t)target));
	return sl_ctl_reply_ok(req->id, reply);
}

/* ---- class.* ---------------------------------------------------------- */

static const struct arg name_arg[] = {
	{ "name", ARG_STR, true },
};

/* class.list: every class of the current model. */
static json_t *cmd_class_list(struct sld *d, const struct sl_ctl_req *req,
			      json_t **a)
{
	json_t *arr;
	uint32_t i;

	(void)a;
	if (d->policy_invalid)
		return need_model(d, req);
	arr = json_array();
	for (i = 0; d->policy && i < d->policy->n_classes; i++)
		json_array_append_new(arr, sl_class_json(&d->policy->classes[i], i));
	return sl_ctl_reply_ok(req->id, json_pack("{s:o}", "classes", arr));
}

/* Accepts a class name; its index, or an ENOENT reply in *reply. */
static int find_class(struct sld *d, const struct sl_ctl_req *req,
		      const char *name, json_t **reply)
{
	uint32_t i;

	*reply = need_model(d, req);
	if (*reply)
		return -1;
	for (i = 0; i < d->policy->n_classes; i++)
		if (strcmp(d->policy->classes[i].name, name) == 0)
			return (int)i;
	*reply = sl_ctl_reply_err(req->id, "ENOENT", "no class '%.64s' in policy version %" PRIu64,
				  name, sl_store_version(d->store));
	return -1;
}

/* class.show: one class with its counters. */
static json_t *cmd_class_show(struct sld *d, const struct sl_ctl_req *req,
			      json_t **a)
{
	json_t *reply, *c;
	int i;

	i = find_class(d, req, json_string_value(a[0]), &reply);
	if (i < 0)
		return reply;
	c = sl_class_json(&d->policy->classes[i], (uint32_t)i);
	if (c)
		sld_class_counters(d, d->policy->classes[i].name, c);
	return sl_ctl_reply_ok(req->id, c);
}

/* Accepts an exceed argument: "drop", "monitor", "mark:D", "mark D", {"mark": D}. */
static int parse_exceed(json_t *v, struct sl_exceed *x, char *err, size_t len)
{
	json_t *m = json_object_get(v, "mark");
	const char *s = json_string_value(v), *dscp = NULL;
	char num[8];

	if (json_is_object(v)) {
		if (json_object_size(v) != 1 || !m) {
			snprintf(err, len, "exceed: expected {\"mark\": DSCP}");
			return -EINVAL;
		}
		if (json_is_integer(m)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(m));
			dscp = num;
		} else {
			dscp = json_string_value(m);
		}
	} else if (strcmp(s, "drop") == 0 || strcmp(s, "monitor") == 0) {
		*x = (struct sl_exceed){ .action = s[0] == 'd' ? SL_EXCEED_DROP :
							     SL_EXCEED_MONITOR };
		return 0;
	} else if (strncmp(s, "mark", 4) == 0 && (s[4] == ':' || s[4] == ' ' || s[4] == '=')) {
		dscp = s + 5;
	} else {
		snprintf(err, len, "exceed: expected drop, monitor or mark:DSCP, got '%.64s'", s);
		return -EINVAL;
	}
	*x = (struct sl_exceed){ .action = SL_EXCEED_MARK };
	if (!dscp || sl_dscp_parse(dscp, &x->dscp) != 0) {
		snprintf(err, len, "exceed: '%.32s' is not a DSCP (0..63 or cs0..cs7, af11..af43, ef, va, le)",
			 dscp ? dscp : "?");
		return -EINVAL;
	}
	return 0;
}

/* Accepts the rate and burst arguments; changes the limit l. */
static int set_limit(struct sl_limit *l, json_t *rate, json_t *burst, char *err,
		     size_t len)
{
	char why[SL_DIAG_MSG_MAX];
	enum sl_rate_unit bu = l->unit;

	if (rate && sl_rate_parse(json_string_value(rate), &l->rate, &l->unit, why,
				  sizeof(why))) {
		snprintf(err, len, "rate: %s", why);
		return -EINVAL;
	}
	if (burst && sl_burst_parse(json_string_value(burst), &l->burst, &bu, why,
				    sizeof(why))) {
		snprintf(err, len, "burst: %s", why);
		return -EINVAL;
	}
	if (!burst && rate && bu != l->unit) {
		snprintf(err, len, "rate %s is in %s but the class's burst is in %s: give a burst too",
			 json_string_value(rate), l->unit == SL_UNIT_BITS ? "bits" : "packets",
			 bu == SL_UNIT_BITS ? "bytes" : "packets");
		return -EINVAL;
	}
	if (bu != l->unit) {
		snprintf(err, len, "burst %s is %s but the rate is in %s",
			 json_string_value(burst), bu == SL_UNIT_BITS ? "in bytes" : "a packet count",
			 l->unit == SL_UNIT_BITS ? "bits (give bytes: B, KB, MB or GB)" :
			 "packets (give a packet count)");
		return -EINVAL;
	}
	if (sl_limit_check(l, why, sizeof(why))) {
		snprintf(err, len, "%s", why);
		return -EINVAL;
	}
	return 0;
}

/*
 * Accepts the current policy with class i changed to c. Renders it,
 * checks that the text loads back to exactly that model, and returns the
 * text (malloc()ed), or NULL with err set.
 */
static char *render_changed(struct sld *d, uint32_t i, const struct sl_class *c,
			    size_t *len, char *err, size_t errlen)
{
	struct sl_policy copy = *d->policy, *back = NULL;
	struct sl_diags *dg = malloc(sizeof(*dg));
	char comment[160], *text = NULL;

	/* A shallow copy: the lists stay the running model's. */
	copy.classes = malloc(copy.n_classes * sizeof(*copy.classes));
	if (!copy.classes || !dg) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(copy.classes, d->policy->classes, copy.n_classes * sizeof(*copy.classes));
	copy.classes[i] = *c;
	snprintf(comment, sizeof(comment), "rendered by sluiced for 'class set %s' on version %" PRIu64 " (comments are not kept)",
		 c->name, sl_store_version(d->store));
	if (sl_policy_render(&copy, comment, &text, len)) {
		snprintf(err, errlen, "cannot render the policy");
		goto out;
	}
	if (sl_policy_load_buf("rendered", text, *len, &back, dg) != 0 ||
	    !sl_policy_same(back, &copy)) {
		snprintf(err, errlen, "the rendered policy does not load back the same (a sluiced bug); nothing changed");
		free(text);
		text = NULL;
	}
out:
	sl_policy_free(back);
	free(copy.classes);
	free(dg);
	return text;
}

static const struct arg class_set_args[] = {
	{ "name", ARG_STR, true },
	{ "rate", ARG_STR, false },
	{ "burst", ARG_STR, false },
	{ "exceed", ARG_STR_OR_OBJ, false },
};

/* class.set: change one class's limit or exceed, apply the rendering. */
static json_t *cmd_class_set(struct sld *d, const struct sl_ctl_req *req,
			     json_t **a)
{
	char err[SL_DIAG_MSG_MAX + 64], name[SL_STORE_SOURCE_MAX];
	struct sld_applied out;
	struct sl_class c;
	json_t *reply;
	size_t len;
	char *text;
	int i;

	i = find_class(d, req, json_string_value(a[0]), &reply);
	if (i < 0)
		return reply;
	if (!a[1] && !a[2] && !a[3])
		return sl_ctl_reply_err(req->id, "EINVAL", "class.set: give at least one of rate, burst, exceed");
	c = d->policy->classes[i];
	if (!c.has_limit && !c.has_ceiling)
		return sl_ctl_reply_err(req->id, "EINVAL", "class '%s' has no limit, so nothing exceeds it; add one in the policy file",
					c.name);
	if (!c.has_limit && (a[1] || a[2]))
		return sl_ctl_reply_err(req->id, "EINVAL", "class '%s' has a ceiling but no limit: rate and burst are a limit's; change the ceiling in the policy file",
					c.name);
	if ((a[1] || a[2]) && set_limit(&c.limit, a[1], a[2], err, sizeof(err)))
		return sl_ctl_reply_err(req->id, "EINVAL", "%s", err);
	if (a[3] && parse_exceed(a[3], &c.exceed, err, sizeof(err)))
		return sl_ctl_reply_err(req->id, "EINVAL", "%s", err);
	text = render_changed(d, (uint32_t)i, &c, &len, err, sizeof(err));
	if (!text)
		return sl_ctl_reply_err(req->id, "EIO", "%s", err);
	snprintf(name, sizeof(name), "class set %s", c.name);
	reply = sld_apply(d, req, text, len, name, name, false, &out);
	free(text);
	if (reply)
		return reply;
	reply = applied_json(d, &out, false);
	if (reply && d->policy)
		json_object_set_new(reply, "class", sl_class_json(&d->policy->classes[i],
								  (uint32_t)i));
	return sl_ctl_reply_ok(req->id, reply);
}

/* ---- stats, top ------------------------------------------------------- */

static const struct arg stats_args[] = {
	{ "class", ARG_STR, false },
};

/* Accepts a stats result; keeps only the class named, or says it is unknown. */
static json_t *stats_one(const struct sl_ctl_req *req, json_t *st, const char *name)
{
	json_t *c, *keep = json_array();
	size_t i;

	json_array_foreach(json_object_get(st, "classes"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			json_array_append(keep, c);
	if (json_array_size(keep) == 0) {
		json_decref(keep);
		json_decref(st);
		return sl_ctl_reply_err(req->id, "ENOENT", "no class '%.64s'", name);
	}
	json_object_set_new(st, "classes", keep);
	return sl_ctl_reply_ok(req->id, st);
}

/* stats: fresh counters when the dataplane answers, else the last known. */
static json_t *cmd_stats(struct sld *d, const struct sl_ctl_req *req, json_t **a)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	json_t *st;

	/* Fresh counters when the dataplane answers; the last known otherwise. */
	if (sl_dplink_up(&d->link) &&
	    sl_dplink_call(&d->link, "stats", NULL, SLD_STATS_CALL_MS, &rep, err,
			   sizeof(err)) == 0) {
		if (rep.ok)
			sld_dp_stats_update(d, rep.result);
		sl_ctl_reply_release(&rep);
	}
	st = sld_stats_json(d);
	if (!st)
		return sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
	if (a[0])
		return stats_one(req, st, json_string_value(a[0]));
	return sl_ctl_reply_ok(req->id, st);
}

static const struct arg top_args[] = {
	{ "class", ARG_STR, false },
	{ "n", ARG_UINT, false },
};

/* top: the dataplane's answer, when it has one. */
static json_t *cmd_top(struct sld *d, const struct sl_ctl_req *req, json_t **a)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	json_t *reply;

	(void)a;
	if (!sl_dplink_up(&d->link))
		return sl_ctl_reply_err(req->id, "EOPNOTSUPP", "top needs the dataplane, which is down: %s",
					d->link.why);
	if (sl_dplink_call(&d->link, "top", json_deep_copy(req->args), SLD_TOP_MS,
			   &rep, err, sizeof(err)) != 0)
		return sl_ctl_reply_err(req->id, "EOPNOTSUPP", "top needs the dataplane: %s", err);
	if (rep.ok) {
		reply = sl_ctl_reply_ok(req->id, json_incref(rep.result));
	} else if (strncmp(rep.message, "unknown command", 15) == 0) {
		reply = sl_ctl_reply_err(req->id, "EOPNOTSUPP", "this sluice-dp does not serve top");
	} else {
		reply = sl_ctl_reply_err(req->id, rep.code, "%s", rep.message);
	}
	sl_ctl_reply_release(&rep);
	return reply;
}

/* ---- The table -------------------------------------------------------- */

struct cmd {
	const char *name;
	json_t *(*fn)(struct sld *d, const struct sl_ctl_req *req, json_t **args);
	const struct arg *args;
	size_t n_args;
};

static const struct cmd cmds[] = {
	{ "status", cmd_status, NULL, 0 },
	{ "policy.show", cmd_policy_show, NULL, 0 },
	{ "policy.check", cmd_policy_check, text_args, 2 },
	{ "policy.apply", cmd_policy_apply, text_args, 3 },
	{ "policy.diff", cmd_policy_diff, text_args, 2 },
	{ "policy.rollback", cmd_policy_rollback, NULL, 0 },
	{ "class.list", cmd_class_list, NULL, 0 },
	{ "class.show", cmd_class_show, name_arg, N(name_arg) },
	{ "class.set", cmd_class_set, class_set_args, N(class_set_args) },
	{ "stats", cmd_stats, stats_args, N(stats_args) },
	{ "top", cmd_top, top_args, N(top_args) },
};

/* The server's handler: looks the command up and checks its arguments. */
json_t *sld_handle(void *ctx, const struct sl_ctl_req *req)
{
	json_t *v[ARGS_MAX] = { NULL }, *reply;
	const struct cmd *c = NULL;
	size_t i;

	for (i = 0; i < N(cmds); i++)
		if (strcmp(req->cmd, cmds[i].name) == 0)
			c = &cmds[i];
	if (!c)
		return sl_ctl_reply_err(req->id, "EINVAL", "unknown command '%s' (sluiced serves status, policy.show, policy.check, policy.apply, policy.diff, policy.rollback, class.list, class.show, class.set, stats, top)",
					req->cmd);
	reply = args_get(req, c->args, c->n_args, v);
	if (reply)
		return reply;
	return c->fn(ctx, req, v);
}
