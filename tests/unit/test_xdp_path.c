/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * XDP loader tests, against the kernel: open and close leak nothing;
 * a policy lands in the maps exactly as sl_xdp_tables_build() says
 * (read back through the bpf() syscall, not the loader's mmaps); sets
 * alternate and a refused policy changes nothing; class slots carry
 * counters across policies; counters, key counts and expiry; attach
 * and detach on veth pairs, all or none, and nothing left attached
 * after sl_xdp_close() or a SIGKILL of the owner.
 *
 * Needs root and BPF; exits 77 (skipped) without them. Runs in a
 * network namespace of its own, so its veth pairs meet no one else's.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "policy.h"
#include "xdp_path.h"
#include "xdp_tables.h"

#define FDS_MAX		4096

/* ---- the maps of one loader, found among this process's fds ---- */

enum {
	M_ACTIVE, M_CFG, M_CLASSES, M_PROTO, M_SPORT, M_DPORT, M_TCPF, M_VLAN,
	M_DSCP, M_SRC4, M_DST4, M_SRC6, M_DST6, M_BUCKETS, M_OVERFLOW,
	M_COUNTERS, M_STATS, M_TX, M__COUNT
};

static const char *const map_names[M__COUNT] = {
	"sl_active", "sl_cfg", "sl_classes", "sl_proto", "sl_sport", "sl_dport",
	"sl_tcpf", "sl_vlan", "sl_dscp", "sl_src4", "sl_dst4", "sl_src6",
	"sl_dst6", "sl_buckets", "sl_overflow", "sl_counters", "sl_stats",
	"sl_tx",
};

struct inst {
	struct sl_xdp *x;
	int fd[M__COUNT];	/* the loader's own; not closed here */
	uint32_t map_id[M__COUNT];
	uint32_t prog_id;
};

/* Whether fd is a BPF object of kind ("map_type", "prog_type", "link_type"). */
static bool fd_is(int fd, const char *kind)
{
	char path[64], line[256];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		yes = strncmp(line, kind, strlen(kind)) == 0;
	fclose(f);
	return yes;
}

static void fds_open(bool *open)
{
	for (int fd = 0; fd < FDS_MAX; fd++)
		open[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* Opens a loader; names the maps it created by the fds it added. */
static void inst_open(struct inst *in, uint32_t keys_max)
{
	static bool before[FDS_MAX], after[FDS_MAX];
	struct sl_xdp_opts o = { .keys_max = keys_max };
	struct bpf_prog_info pi = { 0 };
	uint32_t len = sizeof(pi);
	char err[256] = "";

	memset(in, 0, sizeof(*in));
	fds_open(before);
	in->x = sl_xdp_open(&o, err, sizeof(err));
	ck_assert_msg(in->x != NULL, "open: %s", err);
	fds_open(after);
	for (int i = 0; i < M__COUNT; i++)
		in->fd[i] = -1;
	for (int fd = 0; fd < FDS_MAX; fd++) {
		struct bpf_map_info mi = { 0 };

		len = sizeof(mi);
		if (before[fd] || !after[fd] || !fd_is(fd, "map_type") ||
		    bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
			continue;
		for (int i = 0; i < M__COUNT; i++)
			if (strcmp(mi.name, map_names[i]) == 0) {
				in->fd[i] = fd;
				in->map_id[i] = mi.id;
			}
	}
	for (int i = 0; i < M__COUNT; i++)
		ck_assert_msg(in->fd[i] >= 0, "map %s not found", map_names[i]);
	len = sizeof(pi);
	ck_assert_int_eq(bpf_obj_get_info_by_fd(sl_xdp_prog_fd(in->x), &pi, &len), 0);
	in->prog_id = pi.id;
}

static void lookup(const struct inst *in, int m, uint32_t key, void *val)
{
	ck_assert_msg(bpf_map_lookup_elem(in->fd[m], &key, val) == 0,
		      "lookup %s[%u]: %s", map_names[m], key, strerror(errno));
}

/* ---- policies ---- */

/* Appends to a YAML buffer. */
struct ybuf {
	char *s;
	size_t len, cap;
};

static void yadd(struct ybuf *y, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void yadd(struct ybuf *y, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(y->s + y->len, y->cap - y->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < y->cap - y->len)
			break;
		y->cap = y->cap ? 2 * y->cap + (size_t)n : 4096;
		y->s = realloc(y->s, y->cap);
		ck_assert_ptr_nonnull(y->s);
	}
	y->len += (size_t)n;
}

/*
 * n classes named prefix%u, every field somewhere: class i matches
 * dport 1000 + i (plus more in a few), sources under 10.i/16 and
 * 2001:db8:i::/48 in some, VLAN, DSCP and TCP flags in others.
 */
static struct sl_policy *policy_make(uint32_t n, const char *prefix,
				     uint32_t salt)
{
	struct ybuf y = { 0 };
	struct sl_policy *p;
	struct sl_diags d;

	yadd(&y, "version: 1\ndefault: %s\nclasses:\n", salt % 2 ? "drop" : "pass");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = i + salt;

		yadd(&y, "  - name: %s%u\n    match:\n", prefix, i);
		yadd(&y, "      proto: %s\n", k % 3 == 0 ? "udp" : "tcp");
		yadd(&y, "      dport: [%u%s]\n", 1000 + i, k % 7 == 0 ? ", 5000-5999" : "");
		if (k % 2 == 0)
			yadd(&y, "      src: [10.%u.%u.0/24, 10.%u.0.0/16, 2001:db8:%x::/48]\n",
			     k % 256, i % 256, k % 256, i);
		if (k % 5 == 0)
			yadd(&y, "      dst: [192.0.2.%u, 198.51.100.0/24]\n", i % 256);
		if (k % 4 == 1)
			yadd(&y, "      vlan: [%u, 100-199]\n", i % 4096);
		if (k % 6 == 1)
			yadd(&y, "      dscp: [ef, %u]\n", i % 64);
		if (k % 3 != 0 && k % 8 == 1)
			yadd(&y, "      tcp_flags: syn/syn,ack\n");
		if (k % 3 == 2)
			yadd(&y, "      sport: 1024-65535\n");
		yadd(&y, "    limit: { key: src, rate: %upps, burst: %u }\n", 100 + k, 10 + k);
	}
	ck_assert_msg(sl_policy_load_buf("gen", y.s, y.len, &p, &d) == 0,
		      "policy: %s", d.n ? d.diag[0].msg : "?");
	free(y.s);
	return p;
}

/* A policy of the named classes, each matching dport 1000 + its index. */
static struct sl_policy *policy_names(const char *const *names, uint32_t n)
{
	struct ybuf y = { 0 };
	struct sl_policy *p;
	struct sl_diags d;

	yadd(&y, "version: 1\ndefault: pass\nclasses:\n");
	for (uint32_t i = 0; i < n; i++)
		yadd(&y, "  - name: %s\n    match: { proto: udp, dport: %u }\n"
		     "    limit: { key: src, rate: 10pps, burst: 10 }\n",
		     names[i], 1000 + i);
	ck_assert(sl_policy_load_buf("names", y.s, y.len, &p, &d) == 0);
	free(y.s);
	return p;
}

static struct sl_xdp_tables *tables_of(const struct sl_policy *p, uint64_t v)
{
	struct sl_xdp_tables *t;
	char err[256];

	ck_assert_msg(sl_xdp_tables_build(p, v, &t, err, sizeof(err)) == 0,
		      "tables: %s", err);
	return t;
}

static void must_set(struct inst *in, const struct sl_policy *p, uint64_t v)
{
	char err[256] = "";
	int rc = sl_xdp_policy_set(in->x, p, v, err, sizeof(err));

	ck_assert_msg(rc == 0, "policy_set: %d %s", rc, err);
}

/* ---- reading a set back ---- */

/* Reads entries first .. first + n - 1 of array m in one batch. */
static void read_range(const struct inst *in, int m, uint32_t first,
		       uint32_t n, void *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint32_t *keys = malloc(n * sizeof(*keys)), prev = first - 1, next;
	uint32_t cnt = n;
	int rc;

	ck_assert_ptr_nonnull(keys);
	rc = bpf_map_lookup_batch(in->fd[m], first ? &prev : NULL, &next, keys,
				  vals, &cnt, &o);
	ck_assert_msg(rc == 0 || errno == ENOENT, "batch %s: %s", map_names[m],
		      strerror(errno));
	ck_assert_uint_eq(cnt, n);
	ck_assert_uint_eq(keys[0], first);
	ck_assert_uint_eq(keys[n - 1], first + n - 1);
	free(keys);
}

static void check_bitmaps(const struct inst *in, int m, uint32_t s,
			  uint32_t entries, const struct sl_xdp_bitmap *want)
{
	struct sl_xdp_bitmap *got = malloc(entries * sizeof(*got));

	ck_assert_ptr_nonnull(got);
	read_range(in, m, s * entries, entries, got);
	for (uint32_t v = 0; v < entries; v++)
		ck_assert_msg(memcmp(&got[v], &want[v], sizeof(got[v])) == 0,
			      "%s set %u value %u differs", map_names[m], s, v);
	free(got);
}

static void check_runs(const struct inst *in, int m, uint32_t s,
		       const struct sl_xdp_runs *r)
{
	struct sl_xdp_bitmap *all = malloc((r->values + 1) * sizeof(*all));

	ck_assert_ptr_nonnull(all);
	sl_xdp_runs_expand(r, all);
	check_bitmaps(in, m, s, r->values + 1, all);
	free(all);
}

static int prefix_cmp(const void *a, const void *b)
{
	return sl_xdp_prefix_cmp(a, b);
}

/* The trie's entries of set s are exactly t's, values included. */
static void check_trie(const struct inst *in, int m, uint32_t s,
		       const struct sl_xdp_trie *t)
{
	uint8_t key[24], prev[24];
	bool first = true;
	uint32_t n = 0;
	bool v4 = t->family == 4;

	while (bpf_map_get_next_key(in->fd[m], first ? NULL : prev, key) == 0) {
		struct sl_xdp_prefix e = { 0 };
		const struct sl_xdp_prefix *hit;
		struct sl_xdp_bitmap got;
		uint32_t plen;
		uint8_t set;
		bool found;

		memcpy(&plen, key, 4);
		set = key[4];
		memcpy(prev, key, sizeof(key));
		first = false;
		if (set != s)
			continue;
		n++;
		e.len = (uint8_t)(plen - 8);
		memcpy(e.addr, key + 5, v4 ? 4 : 16);
		ck_assert_int_eq(bpf_map_lookup_elem(in->fd[m], key, &got), 0);
		hit = bsearch(&e, t->e, t->n, sizeof(*t->e), prefix_cmp);
		found = hit != NULL;
		if (found)
			ck_assert_msg(memcmp(&got, &hit->bm, sizeof(got)) == 0,
				      "%s set %u /%u: bitmap differs", map_names[m],
				      s, e.len);
		ck_assert_msg(found, "%s set %u: stray /%u entry", map_names[m],
			      s, e.len);
	}
	ck_assert_msg(n == t->n, "%s set %u: %u entries, want %u", map_names[m],
		      s, n, t->n);
}

/*
 * Set s holds t exactly; returns the slot and generation of each class
 * (slots[], gens[]: room for t's classes, or NULL).
 */
static void check_set(const struct inst *in, uint32_t s,
		      const struct sl_xdp_tables *t, uint32_t *slots,
		      uint32_t *gens)
{
	struct sl_xdp_cfg cfg;

	lookup(in, M_CFG, s, &cfg);
	ck_assert_msg(memcmp(&cfg, &t->cfg, sizeof(cfg)) == 0, "cfg of set %u", s);
	for (uint32_t i = 0; i < t->cfg.n_classes; i++) {
		struct sl_xdp_class c;

		lookup(in, M_CLASSES, s * SL_XDP_CLASSES_MAX + i, &c);
		ck_assert_uint_ne(c.gen, 0);
		if (slots)
			slots[i] = c.slot;
		if (gens)
			gens[i] = c.gen;
		c.slot = 0;
		c.gen = 0;
		ck_assert_msg(memcmp(&c, &t->cls[i], sizeof(c)) == 0,
			      "set %u class %u differs", s, i);
	}
	check_bitmaps(in, M_PROTO, s, SL_XDP_PROTO_ENTRIES, t->proto);
	check_bitmaps(in, M_TCPF, s, SL_XDP_TCPF_ENTRIES, t->tcpf);
	check_bitmaps(in, M_DSCP, s, SL_XDP_DSCP_ENTRIES, t->dscp);
	check_runs(in, M_SPORT, s, &t->sport);
	check_runs(in, M_DPORT, s, &t->dport);
	check_runs(in, M_VLAN, s, &t->vlan);
	check_trie(in, M_SRC4, s, &t->src4);
	check_trie(in, M_DST4, s, &t->dst4);
	check_trie(in, M_SRC6, s, &t->src6);
	check_trie(in, M_DST6, s, &t->dst6);
}

static struct sl_xdp_active active_of(const struct inst *in)
{
	struct sl_xdp_active a;

	lookup(in, M_ACTIVE, 0, &a);
	return a;
}

/* ---- veth pairs, in this test's own network namespace ---- */

static void veth_teardown(void)
{
	if (system("ip link del slxa0 2>/dev/null; ip link del slxa1 2>/dev/null; true") != 0)
		fprintf(stderr, "veth teardown failed\n");
	if (system("ip link del slxd0 2>/dev/null; true") != 0)
		fprintf(stderr, "dummy teardown failed\n");
}

static void sh(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A failed test skips its teardown: clear what it left first. */
static void veth_setup(void)
{
	veth_teardown();
	sh("ip link add slxa0 type veth peer name slxb0 && "
	   "ip link add slxa1 type veth peer name slxb1 && "
	   "ip link set slxa0 up && ip link set slxb0 up && "
	   "ip link set slxa1 up && ip link set slxb1 up");
}

/* The XDP program on ifname: its id (0: none) and mode. */
static uint32_t xdp_on(const char *ifname, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(ifname);

	ck_assert_msg(ifindex > 0, "no %s", ifname);
	ck_assert_int_eq(bpf_xdp_query(ifindex, 0, &q), 0);
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id;
}

/* ---- (1) lifecycle: nothing leaks ---- */

/* BPF fds and mmaps of this process. */
struct census {
	uint32_t fds;
	uint32_t maps;
	uint32_t progs;
	uint32_t links;
	uint32_t mmaps;
};

static void census_take(struct census *c)
{
	char line[512];
	FILE *f;

	memset(c, 0, sizeof(*c));
	for (int fd = 0; fd < FDS_MAX; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		c->fds++;
		c->maps += fd_is(fd, "map_type");
		c->progs += fd_is(fd, "prog_type");
		c->links += fd_is(fd, "link_type");
	}
	f = fopen("/proc/self/maps", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		c->mmaps += strstr(line, "bpf-map") != NULL;
	fclose(f);
}

START_TEST(test_open_close)
{
	struct census before, during, after;
	struct sl_xdp_totals tot;
	struct sl_policy *p = policy_make(20, "c", 0);
	struct inst in;
	char err[256] = "";

	census_take(&before);
	inst_open(&in, 1000);
	must_set(&in, p, 1);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa0", "slxb0", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), 0);
	census_take(&during);
	ck_assert_uint_ge(during.maps, before.maps + M__COUNT + 2);
	ck_assert_uint_eq(during.links, before.links + 2);
	ck_assert_uint_ge(during.mmaps, before.mmaps + 7);
	ck_assert_int_eq(sl_xdp_totals(in.x, &tot), 0);
	ck_assert_uint_eq(tot.keys_capacity, 1000);
	ck_assert_uint_eq(tot.keys_active, 0);
	sl_xdp_close(in.x);
	census_take(&after);
	ck_assert_uint_eq(after.fds, before.fds);
	ck_assert_uint_eq(after.maps, before.maps);
	ck_assert_uint_eq(after.progs, before.progs);
	ck_assert_uint_eq(after.links, before.links);
	ck_assert_uint_eq(after.mmaps, before.mmaps);
	/*
	 * Gone from the kernel too: nothing pinned, nothing held. The kernel
	 * frees a program and its maps after an RCU grace period and from a
	 * work queue, so give it up to 2 s.
	 */
	for (int i = 0; i < M__COUNT; i++) {
		int fd = -1;

		for (int tries = 0; tries < 200; tries++) {
			fd = bpf_map_get_fd_by_id(in.map_id[i]);
			if (fd < 0)
				break;
			close(fd);
			usleep(10000);
		}
		ck_assert_msg(fd < 0 && errno == ENOENT, "map %s still exists 2 s after close",
			      map_names[i]);
	}
	for (int tries = 0; tries < 200; tries++) {
		int fd = bpf_prog_get_fd_by_id(in.prog_id);

		if (fd < 0)
			break;
		close(fd);
		usleep(10000);
	}
	ck_assert_int_lt(bpf_prog_get_fd_by_id(in.prog_id), 0);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxb0", NULL), 0);
	sl_xdp_close(NULL);
	sl_policy_free(p);
}
END_TEST

/* ---- (2) what a policy writes ---- */

START_TEST(test_readback)
{
	struct sl_policy *p = policy_make(150, "c", 3);
	const struct sl_xdp_degraded *dg;
	struct sl_xdp_tables *t;
	uint32_t n_dg, slots[150], gens[150];
	struct inst in;

	/* A payload match cannot be set from YAML yet: add one by hand. */
	p->classes[5].match.fields |= SL_M_PAYLOAD;
	t = tables_of(p, 42);
	inst_open(&in, 0);
	ck_assert(!sl_xdp_has_policy(in.x));
	ck_assert_uint_eq(active_of(&in).valid, 0);
	ck_assert_ptr_null(sl_xdp_degraded(in.x, &n_dg));
	ck_assert_uint_eq(n_dg, 0);
	must_set(&in, p, 42);
	ck_assert(sl_xdp_has_policy(in.x));
	ck_assert_uint_eq(sl_xdp_policy_version(in.x), 42);
	ck_assert_uint_eq(active_of(&in).valid, 1);
	check_set(&in, active_of(&in).set, t, slots, gens);
	for (uint32_t i = 0; i < 150; i++) {
		ck_assert_uint_eq(slots[i], i);	/* first policy: slots in order */
		ck_assert_uint_eq(gens[i], 1);
	}
	dg = sl_xdp_degraded(in.x, &n_dg);
	ck_assert_uint_eq(n_dg, 1);
	ck_assert_uint_eq(dg[0].class_idx, 5);
	ck_assert_ptr_nonnull(strstr(dg[0].why, "payload"));
	sl_xdp_tables_free(t);
	sl_xdp_close(in.x);
	sl_policy_free(p);
}
END_TEST

/* Sets alternate; the other set keeps the previous policy. */
START_TEST(test_flip)
{
	struct sl_policy *p[4];
	struct sl_xdp_tables *t[4];
	struct sl_xdp_cfg cfg;
	struct inst in;

	inst_open(&in, 0);
	for (uint32_t k = 0; k < 4; k++) {
		p[k] = policy_make(10 + 7 * k, "f", k);
		t[k] = tables_of(p[k], 100 + k);
		must_set(&in, p[k], 100 + k);
		ck_assert_uint_eq(active_of(&in).set, k % 2);
		ck_assert_uint_eq(active_of(&in).valid, 1);
		check_set(&in, k % 2, t[k], NULL, NULL);
		if (k > 0) {
			check_set(&in, (k + 1) % 2, t[k - 1], NULL, NULL);
			lookup(&in, M_CFG, (k + 1) % 2, &cfg);
			ck_assert_uint_eq(cfg.version, 100 + k - 1);
		}
	}
	for (uint32_t k = 0; k < 4; k++) {
		sl_xdp_tables_free(t[k]);
		sl_policy_free(p[k]);
	}
	sl_xdp_close(in.x);
}
END_TEST

/* A refused policy leaves the one in force, and its set, as they were. */
START_TEST(test_refused)
{
	struct sl_policy *a = policy_make(30, "a", 0);
	struct sl_policy *big = policy_make(SL_XDP_CLASSES_MAX + 1, "b", 0);
	struct sl_policy *b = policy_make(12, "a", 1);
	struct sl_xdp_tables *ta = tables_of(a, 1), *tb = tables_of(b, 3);
	struct sl_xdp_active before;
	uint32_t slots[30], slots2[30];
	struct inst in;
	char err[256] = "";

	inst_open(&in, 0);
	must_set(&in, a, 1);
	before = active_of(&in);
	check_set(&in, before.set, ta, slots, NULL);
	ck_assert_int_eq(sl_xdp_policy_set(in.x, big, 2, err, sizeof(err)), -E2BIG);
	ck_assert_msg(strstr(err, "1025") != NULL, "message: %s", err);
	ck_assert_uint_eq(active_of(&in).set, before.set);
	ck_assert_uint_eq(active_of(&in).valid, 1);
	ck_assert_uint_eq(sl_xdp_policy_version(in.x), 1);
	check_set(&in, before.set, ta, slots2, NULL);
	ck_assert_mem_eq(slots, slots2, sizeof(slots));
	/* And the next good one goes to the other set, slots kept. */
	must_set(&in, b, 3);
	ck_assert_uint_eq(active_of(&in).set, 1 - before.set);
	check_set(&in, 1 - before.set, tb, slots2, NULL);
	ck_assert_mem_eq(slots, slots2, 12 * sizeof(slots[0]));
	sl_xdp_tables_free(ta);
	sl_xdp_tables_free(tb);
	sl_policy_free(a);
	sl_policy_free(b);
	sl_policy_free(big);
	sl_xdp_close(in.x);
}
END_TEST

/* ---- (3) slots, counters, expiry ---- */

/* Writes per-CPU counters of slot s: CPU c counts c + 1 + base packets. */
static void counters_put(const struct inst *in, uint32_t s, uint64_t base)
{
	int n = libbpf_num_possible_cpus();
	struct sl_xdp_counters *v = calloc((size_t)n, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (int c = 0; c < n; c++) {
		v[c].packets[SL_XDP_OUT_PASSED] = base + (uint64_t)c + 1;
		v[c].bytes[SL_XDP_OUT_DROPPED] = 2 * base;
	}
	ck_assert_int_eq(bpf_map_update_elem(in->fd[M_COUNTERS], &s, v, BPF_ANY), 0);
	free(v);
}

static uint64_t sum_to(int n)
{
	return (uint64_t)n * (uint64_t)(n + 1) / 2;
}

START_TEST(test_slots)
{
	static const char *const p1n[] = { "a", "b", "c" };
	static const char *const p2n[] = { "c", "b", "d" };
	static const char *const p3n[] = { "d", "e", "b2" };
	struct sl_policy *p1 = policy_names(p1n, 3), *p2 = policy_names(p2n, 3);
	struct sl_policy *p3 = policy_names(p3n, 3);
	struct sl_xdp_tables *t1 = tables_of(p1, 1), *t2 = tables_of(p2, 2);
	struct sl_xdp_tables *t3 = tables_of(p3, 3);
	uint32_t sl[3], gen[3];
	int ncpu = libbpf_num_possible_cpus();
	struct sl_xdp_counters cn;
	struct sl_xdp_bucket ob;
	struct inst in;
	uint32_t s0 = 0;

	inst_open(&in, 0);
	must_set(&in, p1, 1);
	check_set(&in, active_of(&in).set, t1, sl, gen);
	ck_assert_uint_eq(sl[0], 0);
	ck_assert_uint_eq(sl[1], 1);
	ck_assert_uint_eq(sl[2], 2);
	counters_put(&in, 0, 1000);	/* a: leaves in p2 */
	counters_put(&in, 2, 50);	/* c: stays */
	memset(&ob, 0, sizeof(ob));
	ob.gen = 1;
	ob.tb.tokens = 77;
	ck_assert_int_eq(bpf_map_update_elem(in.fd[M_OVERFLOW], &s0, &ob, BPF_ANY), 0);

	must_set(&in, p2, 2);
	check_set(&in, active_of(&in).set, t2, sl, gen);
	/* c and b keep slot and generation; d takes a free one, new gen. */
	ck_assert_uint_eq(sl[0], 2);
	ck_assert_uint_eq(sl[1], 1);
	ck_assert_uint_eq(gen[0], 1);
	ck_assert_uint_eq(gen[1], 1);
	ck_assert_uint_eq(sl[2], 3);	/* a's slot was still in use */
	ck_assert_uint_eq(gen[2], 1);
	ck_assert_int_eq(sl_xdp_class_counters(in.x, 0, &cn), 0);
	ck_assert_uint_eq(cn.packets[SL_XDP_OUT_PASSED], 50 * (uint64_t)ncpu + sum_to(ncpu));
	ck_assert_uint_eq(cn.bytes[SL_XDP_OUT_DROPPED], 100 * (uint64_t)ncpu);
	ck_assert_int_eq(sl_xdp_class_counters(in.x, 3, &cn), -ENOENT);
	/* a's slot was zeroed once freed. */
	ck_assert_int_eq(bpf_map_lookup_elem(in.fd[M_OVERFLOW], &s0, &ob), 0);
	ck_assert_uint_eq(ob.gen, 0);
	ck_assert_uint_eq(ob.tb.tokens, 0);

	must_set(&in, p3, 3);
	check_set(&in, active_of(&in).set, t3, sl, gen);
	/* d kept; e reuses a's slot 0 with the next generation; b2 is new. */
	ck_assert_uint_eq(sl[0], 3);
	ck_assert_uint_eq(gen[0], 1);
	ck_assert_uint_eq(sl[1], 0);
	ck_assert_uint_eq(gen[1], 2);
	ck_assert_uint_eq(sl[2], 4);	/* b and c still held slots 1, 2 */
	ck_assert_uint_eq(gen[2], 1);
	ck_assert_int_eq(sl_xdp_class_counters(in.x, 1, &cn), 0);
	ck_assert_uint_eq(cn.packets[SL_XDP_OUT_PASSED], 0);
	ck_assert_uint_eq(cn.bytes[SL_XDP_OUT_DROPPED], 0);

	/* Again p1: a, b, c are new names now; freed slots 1, 2 come first. */
	must_set(&in, p1, 4);
	t1->cfg.version = 4;
	check_set(&in, active_of(&in).set, t1, sl, gen);
	ck_assert_uint_eq(sl[0], 1);
	ck_assert_uint_eq(gen[0], 2);
	ck_assert_uint_eq(sl[1], 2);
	ck_assert_uint_eq(gen[1], 2);
	ck_assert_uint_eq(sl[2], 5);
	sl_xdp_tables_free(t1);
	sl_xdp_tables_free(t2);
	sl_xdp_tables_free(t3);
	sl_policy_free(p1);
	sl_policy_free(p2);
	sl_policy_free(p3);
	sl_xdp_close(in.x);
}
END_TEST

/* A full set of prefixes, rewritten with others, in both sets: no ENOSPC. */
START_TEST(test_tries_full)
{
	struct sl_policy p[3];
	struct inst in;

	inst_open(&in, 0);
	for (uint32_t k = 0; k < 3; k++) {
		uint32_t n = SL_XDP_SET_PREFIXES_MAX - 1;

		memset(&p[k], 0, sizeof(p[k]));
		p[k].n_classes = (n + 255) / 256;
		p[k].classes = calloc(p[k].n_classes, sizeof(*p[k].classes));
		ck_assert_ptr_nonnull(p[k].classes);
		for (uint32_t i = 0; i < p[k].n_classes; i++) {
			struct sl_match *m = &p[k].classes[i].match;
			uint32_t c = n - i * 256 < 256 ? n - i * 256 : 256;

			snprintf(p[k].classes[i].name, SL_CLASS_NAME_MAX, "t%u", i);
			m->fields = SL_M_SRC;
			m->src = calloc(c, sizeof(*m->src));
			ck_assert_ptr_nonnull(m->src);
			m->n_src = c;
			for (uint32_t j = 0; j < c; j++) {
				uint32_t a = htonl(((10 + k) << 24) + i * 256 + j);

				m->src[j].family = 4;
				m->src[j].len = 32;
				memcpy(m->src[j].addr, &a, 4);
			}
		}
	}
	for (uint32_t k = 0; k < 5; k++) {
		struct sl_xdp_tables *t = tables_of(&p[k % 3], k);

		must_set(&in, &p[k % 3], k);
		check_trie(&in, M_SRC4, active_of(&in).set, &t->src4);
		sl_xdp_tables_free(t);
	}
	for (uint32_t k = 0; k < 3; k++) {
		for (uint32_t i = 0; i < p[k].n_classes; i++)
			free(p[k].classes[i].match.src);
		free(p[k].classes);
	}
	sl_xdp_close(in.x);
}
END_TEST

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void bucket_put(const struct inst *in, uint32_t slot, uint32_t gen,
		       uint16_t sport, uint64_t last_ns, uint32_t idle_ms)
{
	struct sl_xdp_key k = { .slot = slot, .family = 4, .proto = 6, .sport = sport };
	struct sl_xdp_bucket b = { .gen = gen, .idle_ms = idle_ms };

	b.tb.last_ns = last_ns;
	ck_assert_int_eq(bpf_map_update_elem(in->fd[M_BUCKETS], &k, &b, BPF_NOEXIST), 0);
}

START_TEST(test_totals_expire)
{
	static const char *const names[] = { "x", "y" };
	struct sl_policy *p = policy_names(names, 2);
	int ncpu = libbpf_num_possible_cpus();
	struct sl_xdp_stats *st = calloc((size_t)ncpu, sizeof(*st));
	struct sl_xdp_totals tot;
	uint64_t now = mono_ns();
	struct inst in;
	uint32_t zero = 0;

	ck_assert_ptr_nonnull(st);
	inst_open(&in, 0);
	must_set(&in, p, 1);
	for (int c = 0; c < ncpu; c++) {
		st[c].deflt.packets[SL_XDP_OUT_DROPPED] = (uint64_t)c + 1;
		st[c].malformed[3] = 2;
		st[c].no_policy = 5;
	}
	ck_assert_int_eq(bpf_map_update_elem(in.fd[M_STATS], &zero, st, BPF_ANY), 0);
	/* slot 0 (x, gen 1): idle 1 s */
	bucket_put(&in, 0, 1, 1, now - 5000000000ull, 1000);	/* idle: goes */
	bucket_put(&in, 0, 1, 2, now, 1000);			/* fresh: stays */
	bucket_put(&in, 0, 1, 3, now + 1000000000ull, 1000);	/* future: stays */
	bucket_put(&in, 1, 7, 4, now, 1000);			/* old gen: goes */
	bucket_put(&in, 9, 1, 5, now, 1000);			/* free slot: goes */
	for (uint16_t i = 0; i < 300; i++)			/* idle: go */
		bucket_put(&in, 1, 1, (uint16_t)(100 + i), now - 2000000000ull, 1000);
	ck_assert_int_eq(sl_xdp_totals(in.x, &tot), 0);
	ck_assert_uint_eq(tot.st.deflt.packets[SL_XDP_OUT_DROPPED], sum_to(ncpu));
	ck_assert_uint_eq(tot.st.malformed[3], 2 * (uint64_t)ncpu);
	ck_assert_uint_eq(tot.st.no_policy, 5 * (uint64_t)ncpu);
	ck_assert_uint_eq(tot.keys_active, 305);
	ck_assert_uint_eq(tot.keys_capacity, SL_XDP_KEYS_DEFAULT);
	ck_assert_uint_eq(sl_xdp_expire(in.x, 10), 10);
	ck_assert_uint_eq(sl_xdp_expire(in.x, 1), 1);
	ck_assert_int_eq(sl_xdp_totals(in.x, &tot), 0);
	ck_assert_uint_eq(tot.keys_active, 294);
	ck_assert_uint_eq(sl_xdp_expire(in.x, 1000), 292);
	ck_assert_uint_eq(sl_xdp_expire(in.x, 1000), 0);
	ck_assert_int_eq(sl_xdp_totals(in.x, &tot), 0);
	ck_assert_uint_eq(tot.keys_active, 2);
	free(st);
	sl_policy_free(p);
	sl_xdp_close(in.x);
}
END_TEST

/* ---- (4) attaching ---- */

START_TEST(test_attach_detach)
{
	struct bpf_devmap_val dv;
	struct inst in;
	char err[256] = "";
	uint32_t ia = if_nametoindex("slxa0"), ib = if_nametoindex("slxb0");
	uint8_t mode;

	inst_open(&in, 0);
	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa0", "nosuch9", err, sizeof(err)),
			 -ENODEV);
	ck_assert_msg(strstr(err, "nosuch9") != NULL, "message: %s", err);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa0", "slxa0", err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa0", "slxb0", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxb0", "slxa1", err, sizeof(err)),
			 -EEXIST);
	ck_assert_msg(strstr(err, "slxb0") != NULL, "message: %s", err);
	ck_assert_int_eq(bpf_map_lookup_elem(in.fd[M_TX], &ia, &dv), 0);
	ck_assert_uint_eq(dv.ifindex, ib);
	ck_assert_int_eq(bpf_map_lookup_elem(in.fd[M_TX], &ib, &dv), 0);
	ck_assert_uint_eq(dv.ifindex, ia);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);

	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), 0);
	ck_assert(sl_xdp_attached(in.x));
	ck_assert_uint_eq(xdp_on("slxa0", &mode), in.prog_id);
	ck_assert_uint_eq(mode, XDP_ATTACHED_DRV);
	ck_assert_uint_eq(xdp_on("slxb0", &mode), in.prog_id);
	ck_assert_uint_eq(mode, XDP_ATTACHED_DRV);
	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), 0);	/* again */
	/* A pair added while attached is attached at once. */
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa1", "slxb1", err, sizeof(err)), 0);
	ck_assert_uint_eq(xdp_on("slxb1", NULL), in.prog_id);

	ck_assert_int_eq(sl_xdp_detach(in.x), 0);
	ck_assert(!sl_xdp_attached(in.x));
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxb0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxb1", NULL), 0);
	ck_assert_int_eq(sl_xdp_detach(in.x), 0);
	/* And back. */
	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), 0);
	ck_assert_uint_eq(xdp_on("slxa1", NULL), in.prog_id);
	sl_xdp_close(in.x);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxa1", NULL), 0);
}
END_TEST

/* Another program on one interface: attach fails naming it, undoes the rest. */
START_TEST(test_attach_all_or_none)
{
	struct inst a, b;
	char err[256] = "";

	inst_open(&b, 0);
	ck_assert_int_eq(sl_xdp_pair_add(b.x, "slxa1", "slxb1", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_attach(b.x, err, sizeof(err)), 0);

	inst_open(&a, 0);
	ck_assert_int_eq(sl_xdp_pair_add(a.x, "slxa0", "slxb0", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_pair_add(a.x, "slxa1", "slxb1", err, sizeof(err)), 0);
	err[0] = '\0';
	ck_assert_int_lt(sl_xdp_attach(a.x, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "slxa1") && strstr(err, "another XDP program"),
		      "message: %s", err);
	ck_assert(!sl_xdp_attached(a.x));
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxb0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxa1", NULL), b.prog_id);

	/* A busy pair added while attached is refused whole. */
	sl_xdp_close(a.x);
	inst_open(&a, 0);
	ck_assert_int_eq(sl_xdp_pair_add(a.x, "slxa0", "slxb0", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_attach(a.x, err, sizeof(err)), 0);
	ck_assert_int_lt(sl_xdp_pair_add(a.x, "slxb1", "slxa1", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "slxb1") != NULL, "message: %s", err);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), a.prog_id);
	ck_assert_uint_eq(xdp_on("slxb1", NULL), b.prog_id);

	sl_xdp_close(b.x);
	ck_assert_int_eq(sl_xdp_pair_add(a.x, "slxb1", "slxa1", err, sizeof(err)), 0);
	ck_assert_uint_eq(xdp_on("slxa1", NULL), a.prog_id);
	sl_xdp_close(a.x);
	ck_assert_uint_eq(xdp_on("slxa1", NULL), 0);
}
END_TEST

/* A driver without native XDP is refused, not run in generic mode. */
START_TEST(test_attach_native_only)
{
	struct inst in;
	char err[256] = "";

	sh("ip link add slxd0 type bridge && ip link set slxd0 up");
	inst_open(&in, 0);
	ck_assert_int_eq(sl_xdp_pair_add(in.x, "slxa0", "slxd0", err, sizeof(err)), 0);
	ck_assert_int_eq(sl_xdp_attach(in.x, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_msg(strstr(err, "slxd0") && strstr(err, "native"), "message: %s", err);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxd0", NULL), 0);
	sl_xdp_close(in.x);
	sh("ip link del slxd0");
}
END_TEST

/* An owner killed with SIGKILL leaves no program behind. */
START_TEST(test_sigkill)
{
	int pfd[2], status;
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256];
		struct sl_xdp *x = sl_xdp_open(NULL, err, sizeof(err));

		if (x == NULL || sl_xdp_pair_add(x, "slxa0", "slxb0", err, sizeof(err)) ||
		    sl_xdp_attach(x, err, sizeof(err)))
			_exit(1);
		c = 1;
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	ck_assert_uint_ne(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_ne(xdp_on("slxb0", NULL), 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	/* The links went with the process's files; allow the kernel a moment. */
	for (int i = 0; i < 100 && (xdp_on("slxa0", NULL) || xdp_on("slxb0", NULL)); i++)
		usleep(10000);
	ck_assert_uint_eq(xdp_on("slxa0", NULL), 0);
	ck_assert_uint_eq(xdp_on("slxb0", NULL), 0);
	close(pfd[0]);
}
END_TEST

/* ---- (5) the grace period: waits for programs already running ---- */

#define INSN(c, d, s, o, i)	((struct bpf_insn){ .code = (c), .dst_reg = (d), \
				  .src_reg = (s), .off = (o), .imm = (i) })
#define LOOPS	200000

/*
 * An XDP program that runs for milliseconds in one invocation (LOOPS
 * calls of bpf_ktime_get_ns) and stores its start and end times, on
 * CLOCK_MONOTONIC, in ts_fd[0]: u64 start, u64 end. Raw instructions,
 * so that the test needs no second BPF object.
 */
static int looper_load(int ts_fd)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 0, 0, 0),		/* r6 = start */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 8, 0, 0, 1),
		INSN(BPF_JMP | BPF_JLT | BPF_K, 8, 0, -3, LOOPS),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 7, 0, 0, 0),		/* r7 = end */
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, ts_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 0, 6, 0, 0),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 0, 7, 8, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "sl_looper", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

#define RUNS_MAX	100000

/* The looper's invocations, run back to back by a thread. */
struct looper {
	int prog_fd;
	int ts_fd;
	volatile bool stop;
	uint32_t n;
	uint64_t start[RUNS_MAX];
	uint64_t end[RUNS_MAX];
};

static void *looper_run(void *arg)
{
	struct looper *l = arg;
	uint8_t frame[64] = { 0 };
	uint32_t k = 0;
	uint64_t ts[2];

	while (!l->stop && l->n < RUNS_MAX) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 1);

		if (bpf_prog_test_run_opts(l->prog_fd, &o) < 0 ||
		    bpf_map_lookup_elem(l->ts_fd, &k, ts) < 0)
			break;
		l->start[l->n] = ts[0];
		l->end[l->n++] = ts[1];
	}
	return NULL;
}

enum { OP_ARRAY, OP_GP_MAP, OP_POLICY_SET, OP__COUNT };

static const char *const op_names[OP__COUNT] = {
	"plain array update", "array-of-maps update", "sl_xdp_policy_set",
};

#define ROUNDS_MAX	600

struct op_call {
	int op;
	uint64_t t_call;
	uint64_t t_ret;
};


START_TEST(test_grace_period)
{
	static struct looper l;
	static struct op_call calls[ROUNDS_MAX];
	uint32_t straddles[OP__COUNT] = { 0 }, late[OP__COUNT] = { 0 }, n = 0;
	struct sl_policy *p = policy_make(20, "g", 0);
	int arr = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_t_arr", 4, 4, 1, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, mo, .inner_map_fd = arr);
	int outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_t_gp", 4, 4, 1, &mo);
	pthread_t th;
	struct inst in;
	uint32_t k = 0;

	ck_assert_int_ge(arr, 0);
	ck_assert_int_ge(outer, 0);
	memset(&l, 0, sizeof(l));
	l.ts_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_t_ts", 4, 16, 1, NULL);
	ck_assert_int_ge(l.ts_fd, 0);
	l.prog_fd = looper_load(l.ts_fd);
	ck_assert_msg(l.prog_fd >= 0, "looper: %s", strerror(errno));
	inst_open(&in, 0);
	must_set(&in, p, 1);
	ck_assert_int_eq(pthread_create(&th, NULL, looper_run, &l), 0);
	while (l.n < 3)
		usleep(1000);
	/* Each op until each has met enough invocations in flight. */
	for (uint32_t r = 0; r < ROUNDS_MAX && l.n < RUNS_MAX; r++) {
		struct op_call *c = &calls[n++];
		int fd = arr;

		c->op = (int)(r % OP__COUNT);
		usleep(200 + 700 * (r % 5));
		c->t_call = mono_ns();
		if (c->op == OP_ARRAY)
			ck_assert_int_eq(bpf_map_update_elem(arr, &k, &k, BPF_ANY), 0);
		else if (c->op == OP_GP_MAP)
			ck_assert_int_eq(bpf_map_update_elem(outer, &k, &fd, BPF_ANY), 0);
		else
			must_set(&in, p, 2 + r);
		c->t_ret = mono_ns();
		/* Enough rounds that a loaded machine still meets runs in flight. */
		if (r >= 240 && r % OP__COUNT == OP__COUNT - 1)
			break;
	}
	l.stop = true;
	pthread_join(th, NULL);
	/* An invocation under way at the call must be over at the return. */
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < l.n; j++) {
			if (!(l.start[j] < calls[i].t_call && calls[i].t_call < l.end[j]))
				continue;
			straddles[calls[i].op]++;
			late[calls[i].op] += l.end[j] > calls[i].t_ret;
		}
	for (int op = 0; op < OP__COUNT; op++)
		fprintf(stderr, "grace period: %s: called during %u runs, returned before %u of them ended\n",
			op_names[op], straddles[op], late[op]);
	fprintf(stderr, "grace period: %u runs of %.2f ms\n", l.n,
		(double)(l.end[l.n - 1] - l.start[l.n - 1]) / 1e6);
	for (int op = 0; op < OP__COUNT; op++)
		ck_assert_msg(straddles[op] >= 3, "%s met too few runs", op_names[op]);
	/* The control returns at once; the waits wait. */
	ck_assert_uint_gt(late[OP_ARRAY], 0);
	ck_assert_uint_eq(late[OP_GP_MAP], 0);
	ck_assert_uint_eq(late[OP_POLICY_SET], 0);
	sl_xdp_close(in.x);
	close(l.prog_fd);
	close(l.ts_fd);
	close(outer);
	close(arr);
	sl_policy_free(p);
}
END_TEST

/* ---- (6) how long a policy takes to set ---- */

static double set_ms(struct inst *in, const struct sl_policy *p, uint64_t v)
{
	uint64_t t0 = mono_ns();

	must_set(in, p, v);
	return (double)(mono_ns() - t0) / 1e6;
}

START_TEST(test_timing)
{
	static const uint32_t sizes[] = { 100, SL_XDP_CLASSES_MAX };

	for (uint32_t k = 0; k < 2; k++) {
		struct sl_policy *p = policy_make(sizes[k], "c", 0);
		struct sl_policy *q = policy_make(sizes[k], "d", 1);
		struct inst in;
		double open_ms, first, replace, same;
		uint64_t t0 = mono_ns();

		inst_open(&in, 0);
		open_ms = (double)(mono_ns() - t0) / 1e6;
		first = set_ms(&in, p, 1);
		replace = set_ms(&in, q, 2);
		same = set_ms(&in, q, 3);
		fprintf(stderr, "policy_set, %u classes: open %.1f ms, first %.1f ms, all names new %.1f ms, same names %.1f ms\n",
			sizes[k], open_ms, first, replace, same);
		ck_assert(first < 5000 && replace < 5000 && same < 5000);
		sl_xdp_close(in.x);
		sl_policy_free(p);
		sl_policy_free(q);
	}
}
END_TEST

static Suite *xdp_path_suite(void)
{
	Suite *s = suite_create("xdp_path");
	TCase *tc;

	tc = tcase_create("maps");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, veth_setup, veth_teardown);
	tcase_add_test(tc, test_open_close);
	tcase_add_test(tc, test_readback);
	tcase_add_test(tc, test_flip);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_slots);
	tcase_add_test(tc, test_tries_full);
	tcase_add_test(tc, test_totals_expire);
	tcase_add_test(tc, test_timing);
	suite_add_tcase(s, tc);

	tc = tcase_create("attach");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, veth_setup, veth_teardown);
	tcase_add_test(tc, test_attach_detach);
	tcase_add_test(tc, test_attach_all_or_none);
	tcase_add_test(tc, test_attach_native_only);
	tcase_add_test(tc, test_sigkill);
	suite_add_tcase(s, tc);

	tc = tcase_create("rcu");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grace_period);
	suite_add_tcase(s, tc);
	return s;
}

/* Exits 77 (skip) where the tests cannot run: not root, no BPF, no netns. */
static void need_bpf(void)
{
	struct sl_xdp *x;
	char err[512] = "";

	if (geteuid() != 0) {
		printf("test_xdp_path: skipped: needs root\n");
		exit(77);
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("test_xdp_path: skipped: no network namespace: %s\n",
		       strerror(errno));
		exit(77);
	}
	x = sl_xdp_open(NULL, err, sizeof(err));
	if (x == NULL) {
		printf("test_xdp_path: skipped: %s\n", err);
		exit(77);
	}
	sl_xdp_close(x);
	if (system("ip link set lo up") != 0) {
		printf("test_xdp_path: skipped: no ip(8)\n");
		exit(77);
	}
}

int main(void)
{
	SRunner *sr;
	int failed;

	need_bpf();
	sr = srunner_create(xdp_path_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
