/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's policy: the store's current text is the source of truth;
 * its model serves class.list and policy.diff; the dataplane is made to
 * run it (docs/protocol.md, "Applying a policy").
 *
 * An apply validates the text, then, when the dataplane is connected,
 * pushes it there first and persists it only once the dataplane has
 * taken it. A dataplane that refuses a policy the validation passed
 * (its compile failed: memory, table limits) therefore leaves nothing
 * changed anywhere, and the store never holds a version the dataplane
 * refused. When the dataplane is down the policy is persisted at once
 * and pushed when it comes back. A crash between the push and the
 * commit leaves the dataplane ahead of the store; the restarted daemon
 * reconciles it back to the store, and the client, which got no reply,
 * never saw the apply succeed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "sluiced.h"

/* Room in one frame for a policy.load request around its text and name. */
#define PUSH_OVERHEAD	256

/* Accepts diagnostics; the protocol's diagnostics array. */
json_t *sld_diags_json(const struct sl_diags *diags)
{
	return sl_ctl_diags_json(diags);
}

/* Accepts diagnostics; "file:line:col: msg" of the first, into buf. */
static void first_diag(const struct sl_diags *dg, char *buf, size_t len)
{
	const struct sl_diag *g = &dg->diag[0];

	if (dg->n == 0)
		snprintf(buf, len, "%s: refused", dg->file);
	else if (g->pos.line == 0)
		snprintf(buf, len, "%s: %s", dg->file, g->msg);
	else
		snprintf(buf, len, "%s:%u:%u: %s", dg->file, g->pos.line,
			 g->pos.col, g->msg);
}

/* Accepts a daemon with its store open; loads the current text's model. */
void sld_policy_init(struct sld *d)
{
	struct sl_store_meta meta;
	struct sl_diags diags;
	struct sl_policy *p;
	const char *text;
	uint32_t i;
	size_t len;

	text = sl_store_current(d->store, &len, &meta);
	if (!text) {
		sld_log(LOG_INFO, "no policy applied yet in %s", d->state_dir);
		return;
	}
	if (sl_policy_load_buf(meta.source, text, len, &p, &diags) == 0) {
		d->policy = p;
		sld_log(LOG_INFO, "policy version %" PRIu64 " (%s, %u classes) is in force",
			meta.version, meta.source, p->n_classes);
		return;
	}
	/* A stricter sluice than the one that accepted it: serve, but say so. */
	d->policy_invalid = true;
	first_diag(&diags, d->invalid_why, sizeof(d->invalid_why));
	sld_log(LOG_CRIT, "the stored policy version %" PRIu64 " (%s) is no longer valid: it is served marked invalid and not pushed; apply a valid policy",
		meta.version, meta.source);
	for (i = 0; i < diags.n && i < 8; i++)
		sld_log(LOG_CRIT, "%s:%u:%u: %s", diags.file, diags.diag[i].pos.line,
			diags.diag[i].pos.col, diags.diag[i].msg);
}

/* Milliseconds between two CLOCK_MONOTONIC readings, as a double. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * Accepts policy text, its name and version. Sends policy.load; returns 1 when
 * the dataplane took it, 0 when it refused (rep filled; release it), or
 * a negative errno when the link failed (now down, err says why).
 */
static int push(struct sld *d, const char *text, size_t len, const char *name,
		uint64_t version, struct sl_ctl_reply *rep, char *err, size_t errlen)
{
	/* The dataplane takes our version number, so both report the same. */
	json_t *args = json_pack("{s:s%,s:s,s:I}", "text", text, len, "name", name,
				 "version", (json_int_t)version);
	json_t *v;
	int rc;

	if (!args) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sl_dplink_call(&d->link, "policy.load", args, SLD_PUSH_MS, rep,
			    err, errlen);
	if (rc) {
		sld_log(LOG_WARNING, "lost the dataplane while pushing a policy: %s",
			err);
		return rc;
	}
	if (!rep->ok)
		return 0;
	v = json_object_get(rep->result, "version");
	if (json_is_integer(v))
		d->dp_policy_version = (uint64_t)json_integer_value(v);
	sl_ctl_reply_release(rep);
	return 1;
}

/* Accepts a text; whether a policy.load request with it fits one frame. */
static bool fits_frame(const char *text, size_t len, const char *name)
{
	json_t *args = json_pack("{s:s%,s:s}", "text", text, len, "name", name);
	size_t n;

	if (!args)
		return false;
	n = json_dumpb(args, NULL, 0, JSON_COMPACT);
	json_decref(args);
	return n > 0 && n + PUSH_OVERHEAD <= SL_CTL_MSG_MAX;
}

/* Accepts an error reply and the dataplane's refusal; adds its diagnostics. */
static json_t *with_diags(json_t *reply, const struct sl_ctl_reply *rep)
{
	json_t *dg = json_object_get(rep->error, "diagnostics");

	if (reply && json_is_array(dg))
		json_object_set(json_object_get(reply, "error"), "diagnostics", dg);
	return reply;
}

/*
 * Accepts the text that was in force before a commit that failed after
 * the dataplane took the new one; pushes the old one back so that the
 * dataplane does not run a policy the store does not have.
 */
static void push_back(struct sld *d)
{
	struct sl_store_meta meta;
	struct sl_ctl_reply rep;
	char err[SL_CTL_ERR_MAX];
	const char *text;
	size_t len;

	text = sl_store_current(d->store, &len, &meta);
	d->in_sync = false;
	if (!text || d->policy_invalid) {
		snprintf(d->sync_why, sizeof(d->sync_why),
			 "the dataplane runs a policy that could not be persisted");
		return;
	}
	if (push(d, text, len, meta.source, meta.version, &rep, err, sizeof(err)) == 1) {
		d->in_sync = true;
		return;
	}
	if (rep.root)
		sl_ctl_reply_release(&rep);
	d->reconcile_due = true;
}

/* Accepts a refused load; the EINVAL reply with its diagnostics. */
static json_t *refused(const struct sl_ctl_req *req, const struct sl_diags *dg,
		       int rc)
{
	char first[SL_DIAG_MSG_MAX + 300];
	json_t *reply;

	if (rc != -EINVAL)
		return sl_ctl_reply_errno(req->id, rc, "cannot load the policy: %s",
					  strerror(-rc));
	first_diag(dg, first, sizeof(first));
	reply = sl_ctl_reply_err(req->id, "EINVAL", "policy refused (%u error%s): %s",
				 dg->n + dg->dropped, dg->n + dg->dropped == 1 ? "" : "s",
				 first);
	if (reply) {
		json_object_set_new(json_object_get(reply, "error"), "diagnostics",
				    sld_diags_json(dg));
		if (dg->dropped)
			json_object_set_new(json_object_get(reply, "error"),
					    "diagnostics_dropped", json_integer(dg->dropped));
	}
	return reply;
}

/*
 * Accepts a validated text. Pushes it when the dataplane is up, then
 * commits it. Returns NULL with out filled, or an error reply.
 */
static json_t *push_commit(struct sld *d, const struct sl_ctl_req *req,
			   const char *text, size_t len, const char *source,
			   struct sld_applied *out)
{
	char err[SL_CTL_ERR_MAX], serr[512];
	struct sl_ctl_reply rep;
	json_t *reply;
	int rc;

	out->pushed = false;
	if (sl_dplink_up(&d->link)) {
		/* The number the store will give it: one above any it has held. */
		rc = push(d, text, len, source, sl_store_version(d->store) + 1, &rep,
			  err, sizeof(err));
		if (rc == 0) {
			d->apply_errors++;
			sld_log(LOG_ERR, "the dataplane refused the policy from uid %d (%s): %s: %s; nothing changed",
				(int)req->uid, source, rep.code, rep.message);
			reply = with_diags(sl_ctl_reply_err(req->id, "EIO",
				"the dataplane refused the policy, nothing changed: %s",
				rep.message), &rep);
			sl_ctl_reply_release(&rep);
			return reply;
		}
		out->pushed = rc == 1;
	}
	rc = sl_store_commit(d->store, text, len, source, (uint32_t)req->uid,
			     &out->version, serr, sizeof(serr));
	if (rc) {
		d->apply_errors++;
		sld_log(LOG_ERR, "cannot persist the policy from uid %d (%s): %s",
			(int)req->uid, source, serr);
		if (out->pushed)
			push_back(d);
		return sl_ctl_reply_errno(req->id, rc, "cannot persist the policy, nothing changed: %s",
					  serr);
	}
	d->in_sync = out->pushed;
	if (out->pushed)
		d->sync_why[0] = '\0';
	return NULL;
}

/* Accepts a request's policy text; validate, push, persist. */
json_t *sld_apply(struct sld *d, const struct sl_ctl_req *req, const char *text,
		  size_t len, const char *name, const char *source, bool dry_run,
		  struct sld_applied *out)
{
	struct sl_diags *dg;
	struct sl_policy *p = NULL;
	struct timespec t0;
	json_t *reply;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof(*out));
	if (len > SL_STORE_TEXT_MAX)
		return sl_ctl_reply_err(req->id, "E2BIG", "policy text of %zu bytes exceeds the limit of %u",
					len, SL_STORE_TEXT_MAX);
	if (strlen(source) >= SL_STORE_SOURCE_MAX)
		return sl_ctl_reply_err(req->id, "EINVAL", "name is longer than %d bytes",
					SL_STORE_SOURCE_MAX - 1);
	dg = malloc(sizeof(*dg));	/* 9 KB: not on the stack */
	if (!dg)
		return sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
	rc = sl_policy_load_buf(name, text, len, &p, dg);
	if (rc) {
		reply = refused(req, dg, rc);
		free(dg);
		return reply;
	}
	free(dg);
	out->classes = p->n_classes;
	out->version = sl_store_version(d->store);
	if (dry_run) {
		out->apply_ms = ms_since(&t0);
		sl_policy_free(p);
		return NULL;
	}
	if (!fits_frame(text, len, source)) {
		sl_policy_free(p);
		return sl_ctl_reply_err(req->id, "E2BIG", "policy text of %zu bytes is too large to push to the dataplane in one message",
					len);
	}
	reply = push_commit(d, req, text, len, source, out);
	if (reply) {
		sl_policy_free(p);
		sld_view_publish(d);
		return reply;
	}
	sl_policy_free(d->policy);
	d->policy = p;
	d->policy_invalid = false;
	d->invalid_why[0] = '\0';
	sld_xdp_policy(d);
	if (!out->pushed)
		snprintf(d->sync_why, sizeof(d->sync_why), "policy version %" PRIu64 " not pushed yet: %s",
			 out->version, sl_dplink_up(&d->link) ? "the push failed" : d->link.why);
	out->apply_ms = ms_since(&t0);
	sld_log(LOG_NOTICE, "policy version %" PRIu64 " applied by uid %d from %s (%u classes)%s",
		out->version, (int)req->uid, source, out->classes,
		out->pushed ? "" : "; the dataplane gets it when it is back");
	sld_view_publish(d);
	return NULL;
}

/* Accepts a policy.show result; whether the dataplane runs text. */
static bool runs_text(json_t *result, const char *text, size_t len)
{
	json_t *t = json_object_get(result, "text");

	return json_is_string(t) && json_string_length(t) == len &&
	       memcmp(json_string_value(t), text, len) == 0;
}

/* Accepts a policy.show result; records the dataplane's version. */
static void note_dp_version(struct sld *d, json_t *result)
{
	json_t *v = json_object_get(result, "version");

	if (json_is_integer(v))
		d->dp_policy_version = (uint64_t)json_integer_value(v);
}

/* Accepts the store's current text; pushes it in a reconcile. */
static void reconcile_push(struct sld *d, const char *text, size_t len,
			   const struct sl_store_meta *meta)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_ctl_reply rep;
	int rc;

	rc = push(d, text, len, meta->source, meta->version, &rep, err, sizeof(err));
	if (rc < 0)
		return;
	if (rc == 0) {
		d->apply_errors++;
		d->in_sync = false;
		snprintf(d->sync_why, sizeof(d->sync_why),
			 "the dataplane refused policy version %" PRIu64 ": %s",
			 meta->version, rep.message);
		sld_log(LOG_ERR, "%s", d->sync_why);
		sl_ctl_reply_release(&rep);
		return;
	}
	d->in_sync = true;
	d->sync_why[0] = '\0';
	sld_log(LOG_NOTICE, "pushed policy version %" PRIu64 " (%s) to the dataplane",
		meta->version, meta->source);
}

/* Accepts a connected link; the dataplane is made to run the store's text. */
void sld_reconcile(struct sld *d)
{
	char err[SL_CTL_ERR_MAX];
	struct sl_store_meta meta;
	struct sl_ctl_reply rep;
	const char *text;
	size_t len;

	d->reconcile_due = false;
	if (sl_dplink_call(&d->link, "policy.show", NULL, SLD_SHOW_MS, &rep, err,
			   sizeof(err)) != 0) {
		sld_log(LOG_WARNING, "lost the dataplane while reconciling: %s", err);
		return;
	}
	if (!rep.ok) {
		d->in_sync = false;
		snprintf(d->sync_why, sizeof(d->sync_why), "policy.show failed: %s: %s",
			 rep.code, rep.message);
		sld_log(LOG_WARNING, "the dataplane %s", d->sync_why);
		sl_ctl_reply_release(&rep);
		return;
	}
	note_dp_version(d, rep.result);
	text = sl_store_current(d->store, &len, &meta);
	if (text && !d->policy_invalid && !runs_text(rep.result, text, len)) {
		sl_ctl_reply_release(&rep);
		reconcile_push(d, text, len, &meta);
		return;
	}
	d->in_sync = text && !d->policy_invalid;
	if (!text)
		snprintf(d->sync_why, sizeof(d->sync_why),
			 "sluiced has no policy yet; the dataplane runs its own (its version %" PRIu64 ")",
			 d->dp_policy_version);
	else if (d->policy_invalid)
		snprintf(d->sync_why, sizeof(d->sync_why),
			 "the stored policy version %" PRIu64 " is invalid and was not pushed: %s",
			 meta.version, d->invalid_why);
	else
		d->sync_why[0] = '\0';
	if (d->sync_why[0])
		sld_log(LOG_WARNING, "%s", d->sync_why);
	sl_ctl_reply_release(&rep);
}
