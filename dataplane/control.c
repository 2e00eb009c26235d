/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp's control socket (docs/protocol.md), served by the control
 * thread: sluiced pushes policies, reads counters and checks that the
 * workers are alive. Every command here runs off the fast path.
 *
 *   dp.hello     identity, version, ports, workers
 *   dp.ping      heartbeat: policy version and each worker's poll count
 *   policy.load  {"text", "name"}: compile, publish with RCU
 *   policy.show  the text and version in force
 *   stats        the counters, in the shape of the final report
 *   top          {"class"?, "n"?}: heaviest bucket keys by offered rate
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "ctlproto.h"
#include "dp.h"

RTE_LOG_REGISTER(dp_logtype_control, sluice.control, INFO);
#define CONTROL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype_control, "control: " fmt "\n", ## __VA_ARGS__)

static json_t *cmd_hello(struct dp *d, const struct sl_ctl_req *req)
{
	json_t *ports = json_array();

	for (uint16_t i = 0; i < d->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:s,s:i,s:i}",
			"name", d->ports[i].name, "port", d->ports[i].port_id,
			"peer", d->ports[d->ports[i].peer].port_id));
	return sl_ctl_reply_ok(req->id, json_pack("{s:s,s:i,s:i,s:I,s:i,s:o,s:I}",
		"program", "sluice-dp", "protocol", SL_CTL_VERSION,
		"pid", (int)getpid(), "policy_version", (json_int_t)d->rs->version,
		"workers", (int)d->n_workers, "ports", ports,
		"flows_per_worker", (json_int_t)d->cfg.flows));
}

/* Poll counts move while a worker lives; a stuck one stops counting. */
static json_t *cmd_ping(struct dp *d, const struct sl_ctl_req *req)
{
	json_t *polls = json_array();

	for (unsigned int i = 0; i < d->n_workers; i++)
		json_array_append_new(polls, json_integer(
			(json_int_t)__atomic_load_n(&d->workers[i]->polls, __ATOMIC_RELAXED)));
	return sl_ctl_reply_ok(req->id, json_pack("{s:I,s:o}",
		"policy_version", (json_int_t)d->rs->version, "polls", polls));
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static json_t *cmd_policy_load(struct dp *d, const struct sl_ctl_req *req)
{
	const char *text = NULL, *name = "policy";
	json_int_t version = 0;
	struct sl_diags diags;
	struct sl_ruleset *next;
	uint64_t t0, t1, t2;
	size_t len = 0;
	char err[256];
	char *copy;
	json_t *reply;

	if (json_unpack(req->args, "{s:s%,s?s,s?I}", "text", &text, &len,
			"name", &name, "version", &version) != 0 || version < 0)
		return sl_ctl_reply_err(req->id, "EINVAL",
			"policy.load needs args {\"text\": string, \"name\": string, \"version\": integer (optional)}");
	/* sluiced numbers versions; the dataplane takes its number so both say the same. */
	if (version > 0)
		d->next_version = (uint64_t)version;
	copy = strndup(text, len);
	if (copy == NULL)
		return sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
	t0 = now_us();
	next = dp_policy_compile(d, name, text, len, &diags, err, sizeof(err));
	if (next == NULL) {
		free(copy);
		reply = sl_ctl_reply_err(req->id, "EINVAL", "%s", err);
		json_object_set_new(json_object_get(reply, "error"), "diagnostics",
				    sl_ctl_diags_json(&diags));
		CONTROL_LOG(WARNING, "%s; version %" PRIu64 " stays in force", err,
			    d->rs->version);
		return reply;
	}
	t1 = now_us();
	dp_policy_publish(d, next);
	t2 = now_us();
	pthread_mutex_lock(&d->ctl_lock);
	free(d->policy_text);
	d->policy_text = copy;
	snprintf(d->policy_name, sizeof(d->policy_name), "%s", name);
	pthread_mutex_unlock(&d->ctl_lock);
	return sl_ctl_reply_ok(req->id, json_pack("{s:I,s:i,s:f,s:f}",
		"version", (json_int_t)next->version, "classes", (int)next->n_classes,
		"compile_ms", (double)(t1 - t0) / 1000.0,
		"publish_ms", (double)(t2 - t1) / 1000.0));
}

static json_t *cmd_policy_show(struct dp *d, const struct sl_ctl_req *req)
{
	json_t *r;

	pthread_mutex_lock(&d->ctl_lock);
	r = json_pack("{s:I,s:s,s:s?}", "version", (json_int_t)d->rs->version,
		      "name", d->policy_name, "text", d->policy_text);
	pthread_mutex_unlock(&d->ctl_lock);
	return sl_ctl_reply_ok(req->id, r);
}

static json_t *cmd_stats(struct dp *d, const struct sl_ctl_req *req)
{
	json_t *r;

	pthread_mutex_lock(&d->ctl_lock);
	r = dp_stats_json(d);
	pthread_mutex_unlock(&d->ctl_lock);
	return sl_ctl_reply_ok(req->id, r);
}

/* A bucket key as people read it, per the class's key type. */
static void key_text(const struct sl_flow_key *k, const struct sl_class_rt *rt,
		     char *buf, size_t len)
{
	int af = k->family == SL_FAMILY_IPV6 ? AF_INET6 : AF_INET;
	unsigned int bits = af == AF_INET ? rt->prefix4 : rt->prefix6;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	switch (rt->key) {
	case SL_KEY_SRC:
	case SL_KEY_DST:
		inet_ntop(af, rt->key == SL_KEY_SRC ? k->src : k->dst, a, sizeof(a));
		if (bits == (af == AF_INET ? 32u : 128u))
			snprintf(buf, len, "%s", a);
		else
			snprintf(buf, len, "%s/%u", a, bits);
		break;
	case SL_KEY_FLOW:
		inet_ntop(af, k->src, a, sizeof(a));
		inet_ntop(af, k->dst, b, sizeof(b));
		snprintf(buf, len, af == AF_INET ? "%u %s:%u -> %s:%u" :
			 "%u [%s]:%u -> [%s]:%u", k->proto, a, k->sport, b, k->dport);
		break;
	default:
		snprintf(buf, len, "(whole class)");
	}
}

static json_t *cmd_top(struct dp *d, const struct sl_ctl_req *req)
{
	const char *cls = NULL;
	int n = 10;
	struct sl_topk_snap *snaps[RTE_MAX_LCORE] = { 0 };
	struct sl_topk_result *res = NULL;
	uint32_t slot = SL_TOPK_ALL_CLASSES, *slot_to_class = NULL;
	json_t *keys = NULL, *reply;
	int got;

	if (req->args != NULL &&
	    json_unpack(req->args, "{s?s,s?i}", "class", &cls, "n", &n) != 0)
		return sl_ctl_reply_err(req->id, "EINVAL", "top takes args {\"class\": string, \"n\": integer}");
	if (n < 1 || n > 1000)
		return sl_ctl_reply_err(req->id, "EINVAL", "top: n must be 1 to 1000");
	pthread_mutex_lock(&d->ctl_lock);
	slot_to_class = malloc(SL_SLOTS_MAX * sizeof(*slot_to_class));
	res = calloc((size_t)n, sizeof(*res));
	if (slot_to_class == NULL || res == NULL) {
		reply = sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < d->rs->n_classes; i++) {
		slot_to_class[d->rs->rt[i].slot] = i;
		if (cls != NULL && strcmp(cls, d->rs->policy->classes[i].name) == 0)
			slot = d->rs->rt[i].slot;
	}
	if (cls != NULL && slot == SL_TOPK_ALL_CLASSES) {
		reply = sl_ctl_reply_err(req->id, "ENOENT", "no class '%s' in policy version %" PRIu64,
					 cls, d->rs->version);
		goto out;
	}
	for (unsigned int w = 0; w < d->n_workers; w++) {
		snaps[w] = sl_topk_snap_alloc(sl_topk_capacity(d->workers[w]->eng->topk));
		if (snaps[w] == NULL) {
			reply = sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
			goto out;
		}
		sl_topk_snapshot(d->workers[w]->eng->topk, snaps[w]);	/* empty on error */
	}
	got = sl_topk_merge((const struct sl_topk_snap *const *)snaps, d->n_workers,
			    slot, dp_clock_ns(&d->clock), res, (uint32_t)n);
	if (got < 0) {
		reply = sl_ctl_reply_err(req->id, "ENOMEM", "out of memory");
		goto out;
	}
	keys = json_array();
	for (int i = 0; i < got; i++) {
		uint32_t c = slot_to_class[res[i].key.class_id];
		char text[128];

		/* A slot no class of this version holds: a class just removed. */
		if (c >= d->rs->n_classes || d->rs->rt[c].slot != res[i].key.class_id)
			continue;
		key_text(&res[i].key, &d->rs->rt[c], text, sizeof(text));
		json_array_append_new(keys, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:I}",
			"class", d->rs->policy->classes[c].name, "key", text,
			"pps", res[i].pps, "pps_lo", res[i].pps_lo, "pps_hi", res[i].pps_hi,
			"bps", res[i].bps, "samples", (json_int_t)res[i].samples));
	}
	reply = sl_ctl_reply_ok(req->id, json_pack("{s:o}", "keys", keys));
out:
	pthread_mutex_unlock(&d->ctl_lock);
	for (unsigned int w = 0; w < d->n_workers; w++)
		free(snaps[w]);
	free(res);
	free(slot_to_class);
	return reply;
}

static const struct {
	const char *cmd;
	json_t *(*fn)(struct dp *d, const struct sl_ctl_req *req);
} commands[] = {
	{ "dp.hello", cmd_hello },
	{ "dp.ping", cmd_ping },
	{ "policy.load", cmd_policy_load },
	{ "policy.show", cmd_policy_show },
	{ "stats", cmd_stats },
	{ "top", cmd_top },
};

static json_t *on_request(void *ctx, const struct sl_ctl_req *req)
{
	for (size_t i = 0; i < RTE_DIM(commands); i++)
		if (strcmp(req->cmd, commands[i].cmd) == 0)
			return commands[i].fn(ctx, req);
	return sl_ctl_reply_err(req->id, "ENOENT", "unknown command '%s'", req->cmd);
}

/*
 * Make the socket's directory (/run/sluice) if it is missing: one level,
 * 0750, group sluice when it exists, so the group can reach the socket.
 */
static void make_socket_dir(const char *path)
{
	struct group *g;
	char dir[256];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0)
		return;
	g = getgrnam("sluice");
	if (g != NULL && chown(dir, (uid_t)-1, g->gr_gid) != 0)
		CONTROL_LOG(WARNING, "created %s, but cannot give it to group sluice: %s",
			    dir, strerror(errno));
	else
		CONTROL_LOG(INFO, "created %s%s", dir, g ? " (group sluice)" : "");
}

int dp_control_open(struct dp *d)
{
	if (d->cfg.ctl_socket == NULL)
		return 0;
	make_socket_dir(d->cfg.ctl_socket);
	d->ctl = sl_ctl_server_create(d->cfg.ctl_socket, "sluice", on_request, d);
	if (d->ctl == NULL) {
		CONTROL_LOG(ERR, "cannot serve %s: %s", d->cfg.ctl_socket, strerror(errno));
		return -errno;
	}
	CONTROL_LOG(INFO, "serving %s", d->cfg.ctl_socket);
	return 0;
}

void dp_control_poll(struct dp *d, int timeout_ms)
{
	if (d->ctl == NULL) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	sl_ctl_server_poll(d->ctl, timeout_ms);
}

void dp_control_close(struct dp *d)
{
	sl_ctl_server_free(d->ctl);
	d->ctl = NULL;
}
