/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP path's loader (xdp_path.h): the skeleton, the policy sets,
 * class slots, port pairs and their XDP links, counters and expiry.
 *
 * Policy swap (sluice_xdp.h has the layout): the new policy is compiled
 * (xdp_tables.c) and written whole into the set no packet reads, then
 * sl_active is flipped by one map update. A set that was in force is
 * rewritten only after an RCU grace period has passed since the flip
 * away from it: XDP programs run inside an RCU read-side section (the
 * driver's NAPI poll, softirq), so after synchronize_rcu() no program
 * that read the old sl_active.set is still running.
 *
 * The grace period is a real kernel wait, not a sleep: updating an
 * element of a BPF_MAP_TYPE_ARRAY_OF_MAPS makes the bpf() syscall call
 * maybe_wait_bpf_programs() (kernel/bpf/syscall.c, map_update_elem(),
 * after a successful update), which calls synchronize_rcu() for
 * HASH_OF_MAPS and ARRAY_OF_MAPS "so that userspace, when we return to
 * it, knows that all non-sleepable programs that could be running use
 * the new map value". The kernel's selftests use the same trick
 * (prog_tests/btf_map_in_map.c, "Trigger synchronize_rcu() in
 * kernel"). test_grace_period (tests/unit/test_xdp_path.c) checks it on
 * the running kernel: while an XDP program runs for milliseconds
 * (BPF_PROG_TEST_RUN, inside rcu_read_lock()), an update of such a map
 * returns only after that run has ended, and so does
 * sl_xdp_policy_set(), where a plain array update returns at once.
 * With rcu_expedited=1 (as on 6.18 here) the wait is ~10 us when no
 * program runs. The outer map and its inner map are made here with
 * bpf_map_create(); the program never sees them.
 *
 * Slots: as assign_slots() in engine.c, a class that keeps its name
 * keeps its slot and generation (its buckets and counters carry on); a
 * new one takes a free slot with the next generation, never 0. A slot
 * whose class left is zeroed (counters, overflow bucket) and freed only
 * after the grace period that follows the flip, when no program can
 * write it any more; buckets of its old generation are reset by the
 * program when next seen and deleted by sl_xdp_expire().
 */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice.skel.h"
#include "xdp_path.h"
#include "xdp_tables.h"

/* The arrays written through mmap, and their entries per set. */
enum {
	SL_MM_CLASSES,
	SL_MM_PROTO,
	SL_MM_SPORT,
	SL_MM_DPORT,
	SL_MM_TCPF,
	SL_MM_VLAN,
	SL_MM_DSCP,
	SL_MM__COUNT
};

static const uint32_t sl_mm_entries[SL_MM__COUNT] = {
	[SL_MM_CLASSES] = SL_XDP_CLASSES_MAX,
	[SL_MM_PROTO] = SL_XDP_PROTO_ENTRIES,
	[SL_MM_SPORT] = SL_XDP_PORT_ENTRIES,
	[SL_MM_DPORT] = SL_XDP_PORT_ENTRIES,
	[SL_MM_TCPF] = SL_XDP_TCPF_ENTRIES,
	[SL_MM_VLAN] = SL_XDP_VLAN_ENTRIES,
	[SL_MM_DSCP] = SL_XDP_DSCP_ENTRIES,
};

struct sl_mm {
	void *p;
	size_t len;
	size_t elem;		/* bytes per entry */
};

/* What a slot is doing. */
enum {
	SL_SLOT_FREE = 0,
	SL_SLOT_USED,		/* a class of a set in force or being written */
	SL_SLOT_PENDING,	/* its class left: zeroed after a grace period */
};

/* One set of the maps, as this loader last wrote it. */
struct sl_xdp_set {
	struct sl_xdp_tables *t;	/* what it holds; NULL: nothing known */
	bool dirty;		/* a write failed: its trie entries are unknown */
	bool quiet;		/* no program can be reading it */
};

struct sl_xdp_iface {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
	int link_fd;		/* the XDP bpf_link; -1: not attached */
};

struct sl_xdp {
	struct sluice_bpf *skel;
	int gp_outer;		/* ARRAY_OF_MAPS: updating it waits out RCU */
	int gp_inner;
	struct sl_mm mm[SL_MM__COUNT];
	struct sl_xdp_set set[SL_XDP_SETS];
	uint32_t active;	/* the set in force, if has_policy */
	bool has_policy;
	uint64_t version;
	uint32_t gen[SL_XDP_SLOTS_MAX];
	uint8_t slot_state[SL_XDP_SLOTS_MAX];
	uint32_t pending[SL_XDP_SLOTS_MAX];
	uint32_t n_pending;
	struct sl_xdp_iface ifs[SL_XDP_IFACES_MAX];
	uint32_t n_ifs;
	bool attached;
	int ncpus;
	void *pcpu;		/* a per-CPU value of the largest kind */
	struct sl_xdp_key cursor;	/* where sl_xdp_expire() goes on */
	bool cursor_valid;
};

/* ---- libbpf's reason for a failed open ---- */

static char sl_libbpf_msg[160];
static libbpf_print_fn_t sl_libbpf_prev;

/* Keeps the first warning libbpf prints, on one line, and passes it on. */
static int sl_libbpf_capture(enum libbpf_print_level level, const char *fmt,
			     va_list ap)
{
	va_list aq;

	if (level == LIBBPF_WARN && sl_libbpf_msg[0] == '\0') {
		va_copy(aq, ap);
		vsnprintf(sl_libbpf_msg, sizeof(sl_libbpf_msg), fmt, aq);
		va_end(aq);
		for (char *c = sl_libbpf_msg; *c; c++)
			if (*c == '\n')
				*c = *(c + 1) ? ' ' : '\0';
	}
	return sl_libbpf_prev ? sl_libbpf_prev(level, fmt, ap) : 0;
}

/* Accepts a negative errno; says why opening failed, with libbpf's words. */
static void open_error(char *err, size_t errlen, const char *what, int rc)
{
	const char *hint = "";

	if (rc == -EPERM || rc == -EACCES)
		hint = " (needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)";
	if (sl_libbpf_msg[0] != '\0')
		snprintf(err, errlen, "%s: %s%s: libbpf: %s", what, strerror(-rc),
			 hint, sl_libbpf_msg);
	else
		snprintf(err, errlen, "%s: %s%s", what, strerror(-rc), hint);
}

/* ---- open and close ---- */

/* Accepts SL_MM_*; the skeleton's map for it. */
static struct bpf_map *mm_map(struct sl_xdp *x, int i)
{
	struct bpf_map *m[SL_MM__COUNT] = {
		[SL_MM_CLASSES] = x->skel->maps.sl_classes,
		[SL_MM_PROTO] = x->skel->maps.sl_proto,
		[SL_MM_SPORT] = x->skel->maps.sl_sport,
		[SL_MM_DPORT] = x->skel->maps.sl_dport,
		[SL_MM_TCPF] = x->skel->maps.sl_tcpf,
		[SL_MM_VLAN] = x->skel->maps.sl_vlan,
		[SL_MM_DSCP] = x->skel->maps.sl_dscp,
	};

	return m[i];
}

/* Maps the BPF_F_MMAPABLE arrays that hold the tables. */
static int mm_open(struct sl_xdp *x, char *err, size_t errlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (int i = 0; i < SL_MM__COUNT; i++) {
		struct bpf_map *m = mm_map(x, i);
		struct sl_mm *a = &x->mm[i];

		a->elem = (bpf_map__value_size(m) + 7) / 8 * 8;
		a->len = a->elem * bpf_map__max_entries(m);
		a->len = (a->len + page - 1) / page * page;
		a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			    bpf_map__fd(m), 0);
		if (a->p == MAP_FAILED) {
			a->p = NULL;
			snprintf(err, errlen, "mapping %s: %s", bpf_map__name(m),
				 strerror(errno));
			return -errno;
		}
		/*
		 * Take the write faults now: the first write to a page
		 * costs a fault, 36 ms for one set's port tables, which
		 * would otherwise land on the first policy_set of each set.
		 * Nothing reads the tables yet (sl_active.valid is 0).
		 */
		for (size_t off = 0; off < a->len; off += page)
			((volatile char *)a->p)[off] = 0;
	}
	return 0;
}

/* The maps whose update waits for a grace period (see the top). */
static int gp_open(struct sl_xdp *x, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	x->gp_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_gp_inner", 4, 4,
				     1, NULL);
	if (x->gp_inner < 0)
		goto fail;
	o.inner_map_fd = x->gp_inner;
	x->gp_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_gp", 4, 4,
				     1, &o);
	if (x->gp_outer < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "creating the grace-period map: %s",
		 strerror(errno));
	return -errno;
}

/* Returns once every XDP program running when called has finished. */
static int grace_period(struct sl_xdp *x)
{
	uint32_t k = 0;
	int fd = x->gp_inner;

	if (bpf_map_update_elem(x->gp_outer, &k, &fd, BPF_ANY) < 0)
		return -errno;
	return 0;
}

struct sl_xdp *sl_xdp_open(const struct sl_xdp_opts *o, char *err,
			   size_t errlen)
{
	uint32_t keys = o && o->keys_max ? o->keys_max : SL_XDP_KEYS_DEFAULT;
	size_t vmax = sizeof(struct sl_xdp_stats);
	struct sl_xdp *x;
	int rc;

	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		snprintf(err, errlen, "out of memory for the XDP path");
		return NULL;
	}
	x->gp_inner = x->gp_outer = -1;
	for (uint32_t s = 0; s < SL_XDP_SETS; s++)
		x->set[s].quiet = true;

	sl_libbpf_msg[0] = '\0';
	sl_libbpf_prev = libbpf_set_print(sl_libbpf_capture);
	x->skel = sluice_bpf__open();
	if (x->skel == NULL) {
		rc = -errno;
		libbpf_set_print(sl_libbpf_prev);
		open_error(err, errlen, "opening sluice.bpf.o", rc);
		goto fail;
	}
	rc = bpf_map__set_max_entries(x->skel->maps.sl_buckets, keys);
	if (rc == 0)
		rc = sluice_bpf__load(x->skel);
	libbpf_set_print(sl_libbpf_prev);
	if (rc < 0) {
		open_error(err, errlen, "loading the XDP program", rc);
		goto fail;
	}
	if (mm_open(x, err, errlen) < 0 || gp_open(x, err, errlen) < 0)
		goto fail;
	x->ncpus = libbpf_num_possible_cpus();
	if (sizeof(struct sl_xdp_counters) > vmax)
		vmax = sizeof(struct sl_xdp_counters);
	x->pcpu = x->ncpus > 0 ? calloc((size_t)x->ncpus, (vmax + 7) / 8 * 8) : NULL;
	if (x->pcpu == NULL) {
		snprintf(err, errlen, "counting CPUs: %s",
			 x->ncpus < 0 ? strerror(-x->ncpus) : "out of memory");
		goto fail;
	}
	return x;
fail:
	sl_xdp_close(x);
	return NULL;
}

void sl_xdp_close(struct sl_xdp *x)
{
	if (x == NULL)
		return;
	sl_xdp_detach(x);
	for (int i = 0; i < SL_MM__COUNT; i++)
		if (x->mm[i].p != NULL)
			munmap(x->mm[i].p, x->mm[i].len);
	if (x->gp_outer >= 0)
		close(x->gp_outer);
	if (x->gp_inner >= 0)
		close(x->gp_inner);
	sluice_bpf__destroy(x->skel);
	for (uint32_t s = 0; s < SL_XDP_SETS; s++)
		sl_xdp_tables_free(x->set[s].t);
	free(x->pcpu);
	free(x);
}

/* ---- slots ---- */

/* A class of the policy in force, found by name. */
struct named {
	const char *name;
	uint32_t slot;
	uint32_t gen;
};

/* Orders struct named by name, for qsort() and bsearch(). */
static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name,
		      ((const struct named *)b)->name);
}

/* The classes in force, sorted by name; NULL with *n = 0 when none. */
static struct named *named_in_force(const struct sl_xdp *x, uint32_t *n)
{
	const struct sl_xdp_tables *t;
	struct named *v;

	*n = 0;
	if (!x->has_policy || x->set[x->active].t->cfg.n_classes == 0)
		return NULL;
	t = x->set[x->active].t;
	v = malloc(t->cfg.n_classes * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (uint32_t i = 0; i < t->cfg.n_classes; i++)
		v[i] = (struct named){ t->names[i], t->cls[i].slot, t->cls[i].gen };
	qsort(v, t->cfg.n_classes, sizeof(*v), named_cmp);
	*n = t->cfg.n_classes;
	return v;
}

/* Frees the slots in taken[] that slots_assign() took. */
static void slots_undo(struct sl_xdp *x, const uint32_t *taken, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		x->slot_state[taken[k]] = SL_SLOT_FREE;
}

/*
 * Gives every class of t its slot and generation; records in taken[]
 * (room for every class) the slots newly taken, for slots_undo().
 */
static int slots_assign(struct sl_xdp *x, struct sl_xdp_tables *t,
			uint32_t *taken, uint32_t *n_taken, char *err,
			size_t errlen)
{
	uint32_t n_old, next = 0;
	struct named *old = named_in_force(x, &n_old);

	*n_taken = 0;
	if (old == NULL && n_old != 0) {
		snprintf(err, errlen, "out of memory assigning class slots");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->cfg.n_classes; i++) {
		struct named key = { .name = t->names[i] };
		const struct named *f = n_old ? bsearch(&key, old, n_old,
				sizeof(*old), named_cmp) : NULL;

		if (f != NULL) {
			t->cls[i].slot = f->slot;
			t->cls[i].gen = f->gen;
			continue;
		}
		while (next < SL_XDP_SLOTS_MAX && x->slot_state[next] != SL_SLOT_FREE)
			next++;
		if (next == SL_XDP_SLOTS_MAX) {
			snprintf(err, errlen, "no free class slot on the XDP path");
			slots_undo(x, taken, *n_taken);
			free(old);
			return -ENOSPC;
		}
		x->slot_state[next] = SL_SLOT_USED;
		taken[(*n_taken)++] = next;
		if (++x->gen[next] == 0)	/* 0 is "no bucket yet" */
			x->gen[next] = 1;
		t->cls[i].slot = next;
		t->cls[i].gen = x->gen[next];
	}
	free(old);
	return 0;
}

/* The slots of old's classes that t does not keep become pending. */
static void slots_release(struct sl_xdp *x, const struct sl_xdp_tables *old,
			  const struct sl_xdp_tables *t)
{
	uint8_t keep[SL_XDP_SLOTS_MAX] = { 0 };

	for (uint32_t i = 0; i < t->cfg.n_classes; i++)
		keep[t->cls[i].slot] = 1;
	for (uint32_t i = 0; old && i < old->cfg.n_classes; i++) {
		uint32_t s = old->cls[i].slot;

		if (keep[s] || x->slot_state[s] != SL_SLOT_USED)
			continue;
		x->slot_state[s] = SL_SLOT_PENDING;
		x->pending[x->n_pending++] = s;
	}
}

/* Accepts: a grace period has passed since pending slots left the policy. */
static void slots_zero_pending(struct sl_xdp *x)
{
	int cfd = bpf_map__fd(x->skel->maps.sl_counters);
	int ofd = bpf_map__fd(x->skel->maps.sl_overflow);
	size_t csz = (sizeof(struct sl_xdp_counters) + 7) / 8 * 8;
	struct sl_xdp_bucket zero;
	uint32_t kept = 0;

	memset(&zero, 0, sizeof(zero));
	memset(x->pcpu, 0, csz * (size_t)x->ncpus);
	for (uint32_t k = 0; k < x->n_pending; k++) {
		uint32_t s = x->pending[k];

		/* A slot not zeroed stays out of use rather than carry counts. */
		if (bpf_map_update_elem(cfd, &s, x->pcpu, BPF_ANY) < 0 ||
		    bpf_map_update_elem(ofd, &s, &zero, BPF_ANY) < 0) {
			x->pending[kept++] = s;
			continue;
		}
		x->slot_state[s] = SL_SLOT_FREE;
	}
	x->n_pending = kept;
}

/* Makes set s safe to write: no program reads it, pending slots are freed. */
static int set_quiesce(struct sl_xdp *x, uint32_t s, char *err, size_t errlen)
{
	int rc;

	if (!x->set[s].quiet || x->n_pending > 0) {
		rc = grace_period(x);
		if (rc < 0) {
			snprintf(err, errlen, "waiting for an RCU grace period: %s",
				 strerror(-rc));
			return rc;
		}
		x->set[s].quiet = true;
		slots_zero_pending(x);
	}
	return 0;
}

/* ---- writing one set ---- */

/* The trie map of field (src or dst) and family. */
static int trie_fd(struct sl_xdp *x, bool src, uint8_t fam)
{
	if (fam == SL_FAMILY_IPV4)
		return bpf_map__fd(src ? x->skel->maps.sl_src4 : x->skel->maps.sl_dst4);
	return bpf_map__fd(src ? x->skel->maps.sl_src6 : x->skel->maps.sl_dst6);
}

union sl_lpm_key {
	struct sl_xdp_lpm4 v4;
	struct sl_xdp_lpm6 v6;
};

/* The map key of entry e of set s. */
static void lpm_key(union sl_lpm_key *k, uint8_t fam, uint32_t s,
		    const struct sl_xdp_prefix *e)
{
	memset(k, 0, sizeof(*k));
	if (fam == SL_FAMILY_IPV4) {
		k->v4.prefixlen = 8 + e->len;
		k->v4.set = (uint8_t)s;
		memcpy(k->v4.addr, e->addr, 4);
	} else {
		k->v6.prefixlen = 8 + e->len;
		k->v6.set = (uint8_t)s;
		memcpy(k->v6.addr, e->addr, 16);
	}
}

/* Deletes every entry of set s but its /0 from the trie fd, whatever they are. */
static int trie_purge(int fd, uint8_t fam, uint32_t s)
{
	size_t ksz = fam == SL_FAMILY_IPV4 ? sizeof(struct sl_xdp_lpm4) :
		     sizeof(struct sl_xdp_lpm6);
	union sl_lpm_key k, *del = NULL;
	uint32_t n = 0, cap = 0;
	void *prev = NULL;
	int rc = 0;

	/* Collect first: a deleted key would restart the walk. */
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		uint8_t set = fam == SL_FAMILY_IPV4 ? k.v4.set : k.v6.set;
		uint32_t plen = fam == SL_FAMILY_IPV4 ? k.v4.prefixlen : k.v6.prefixlen;

		if (set == s && plen > 8) {
			if (n == cap) {
				union sl_lpm_key *d;

				cap = cap ? 2 * cap : 256;
				d = realloc(del, cap * sizeof(*del));
				if (d == NULL) {
					free(del);
					return -ENOMEM;
				}
				del = d;
			}
			del[n++] = k;
		}
		if (prev == NULL)
			prev = malloc(sizeof(k));
		if (prev == NULL) {
			free(del);
			return -ENOMEM;
		}
		memcpy(prev, &k, ksz);
	}
	for (uint32_t i = 0; i < n && rc == 0; i++)
		if (bpf_map_delete_elem(fd, &del[i]) < 0 && errno != ENOENT)
			rc = -errno;
	free(prev);
	free(del);
	return rc;
}

/*
 * Makes set s of trie fd hold exactly nw's entries: deletes those of
 * old that nw lacks (old's /0 stays, to be overwritten), then writes
 * nw's. With old unknown (dirty), deletes every entry of set s first.
 */
static int trie_write(int fd, uint32_t s, const struct sl_xdp_trie *old,
		      bool dirty, const struct sl_xdp_trie *nw)
{
	union sl_lpm_key k;
	uint32_t i = 1, j = 0;
	int rc;

	if (dirty) {
		rc = trie_purge(fd, nw->family, s);
		if (rc < 0)
			return rc;
	} else if (old != NULL) {
		/* Both sorted alike: walk them together. */
		while (i < old->n) {
			int c = j < nw->n ? sl_xdp_prefix_cmp(&old->e[i], &nw->e[j]) : -1;

			if (c > 0) {
				j++;
				continue;
			}
			if (c < 0) {
				lpm_key(&k, nw->family, s, &old->e[i]);
				if (bpf_map_delete_elem(fd, &k) < 0 && errno != ENOENT)
					return -errno;
			} else {
				j++;
			}
			i++;
		}
	}
	for (j = 0; j < nw->n; j++) {
		lpm_key(&k, nw->family, s, &nw->e[j]);
		if (bpf_map_update_elem(fd, &k, &nw->e[j].bm, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* The start of set s in mmapped array i. */
static void *mm_set(struct sl_xdp *x, int i, uint32_t s)
{
	return (char *)x->mm[i].p + (size_t)s * sl_mm_entries[i] * x->mm[i].elem;
}

/* Writes t whole into set s, which no program reads. */
static int set_write(struct sl_xdp *x, uint32_t s, const struct sl_xdp_tables *t,
		     char *err, size_t errlen)
{
	const struct sl_xdp_tables *old = x->set[s].dirty ? NULL : x->set[s].t;
	const struct sl_xdp_trie *nw[4] = { &t->src4, &t->dst4, &t->src6, &t->dst6 };
	const char *names[4] = { "sl_src4", "sl_dst4", "sl_src6", "sl_dst6" };
	int rc;

	memcpy(mm_set(x, SL_MM_CLASSES, s), t->cls,
	       t->cfg.n_classes * sizeof(*t->cls));
	memcpy(mm_set(x, SL_MM_PROTO, s), t->proto, sizeof(t->proto));
	memcpy(mm_set(x, SL_MM_TCPF, s), t->tcpf, sizeof(t->tcpf));
	memcpy(mm_set(x, SL_MM_DSCP, s), t->dscp, sizeof(t->dscp));
	sl_xdp_runs_expand(&t->sport, mm_set(x, SL_MM_SPORT, s));
	sl_xdp_runs_expand(&t->dport, mm_set(x, SL_MM_DPORT, s));
	sl_xdp_runs_expand(&t->vlan, mm_set(x, SL_MM_VLAN, s));
	for (int i = 0; i < 4; i++) {
		const struct sl_xdp_trie *ot = NULL;

		if (old != NULL)
			ot = i == 0 ? &old->src4 : i == 1 ? &old->dst4 :
			     i == 2 ? &old->src6 : &old->dst6;
		rc = trie_write(trie_fd(x, i % 2 == 0, nw[i]->family), s, ot,
				x->set[s].dirty, nw[i]);
		if (rc < 0) {
			snprintf(err, errlen, "writing %s: %s", names[i], strerror(-rc));
			return rc;
		}
	}
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.sl_cfg), &s, &t->cfg,
				BPF_ANY) < 0) {
		rc = -errno;
		snprintf(err, errlen, "writing sl_cfg: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Points packets at set s: one map update. */
static int set_flip(struct sl_xdp *x, uint32_t s)
{
	struct sl_xdp_active a = { .set = s, .valid = 1 };
	uint32_t k = 0;

	/* The tables' stores, made through mmap, before the index's. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.sl_active), &k, &a,
				BPF_ANY) < 0)
		return -errno;
	return 0;
}

int sl_xdp_policy_set(struct sl_xdp *x, const struct sl_policy *p,
		      uint64_t version, char *err, size_t errlen)
{
	struct sl_xdp_tables *t;
	uint32_t *taken = NULL, n_taken = 0;
	uint32_t s = x->has_policy ? 1 - x->active : 0, old = x->active;
	bool had = x->has_policy;
	int rc;

	rc = sl_xdp_tables_build(p, version, &t, err, errlen);
	if (rc < 0)
		return rc;
	taken = malloc((t->cfg.n_classes ? t->cfg.n_classes : 1) * sizeof(*taken));
	if (taken == NULL) {
		snprintf(err, errlen, "out of memory assigning class slots");
		rc = -ENOMEM;
		goto free_t;
	}
	rc = set_quiesce(x, s, err, errlen);
	if (rc < 0)
		goto free_t;
	rc = slots_assign(x, t, taken, &n_taken, err, errlen);
	if (rc < 0)
		goto free_t;
	rc = set_write(x, s, t, err, errlen);
	if (rc == 0) {
		rc = set_flip(x, s);
		if (rc < 0)
			snprintf(err, errlen, "writing sl_active: %s", strerror(-rc));
	}
	if (rc < 0) {
		/* Set s is half written: forget what it held. */
		sl_xdp_tables_free(x->set[s].t);
		x->set[s].t = NULL;
		x->set[s].dirty = true;
		goto undo_slots;
	}
	sl_xdp_tables_free(x->set[s].t);
	x->set[s] = (struct sl_xdp_set){ .t = t, .quiet = false };
	x->active = s;
	x->has_policy = true;
	x->version = version;
	free(taken);
	if (had)
		slots_release(x, x->set[old].t, t);
	/* Now, not at the next call: freed slots are clean when this returns. */
	if (grace_period(x) == 0) {
		if (had)
			x->set[old].quiet = true;
		slots_zero_pending(x);
	}
	return 0;

undo_slots:
	slots_undo(x, taken, n_taken);
free_t:
	free(taken);
	sl_xdp_tables_free(t);
	return rc;
}

bool sl_xdp_has_policy(const struct sl_xdp *x)
{
	return x->has_policy;
}

uint64_t sl_xdp_policy_version(const struct sl_xdp *x)
{
	return x->version;
}

const struct sl_xdp_degraded *sl_xdp_degraded(const struct sl_xdp *x,
					      uint32_t *n)
{
	if (!x->has_policy) {
		*n = 0;
		return NULL;
	}
	*n = x->set[x->active].t->n_degraded;
	return x->set[x->active].t->degraded;
}

/* ---- port pairs and attachment ---- */

/* The interface of a pair with ifindex, or NULL. */
static struct sl_xdp_iface *iface_find(struct sl_xdp *x, uint32_t ifindex)
{
	for (uint32_t i = 0; i < x->n_ifs; i++)
		if (x->ifs[i].ifindex == ifindex)
			return &x->ifs[i];
	return NULL;
}

/*
 * Attaches in native (driver) mode. libbpf 1.1's bpf_program__attach_xdp()
 * creates the link with flags 0, and for flags 0 the kernel picks native
 * mode only if the driver has ndo_bpf, else generic (skb) mode without a
 * word (dev_xdp_mode() in net/core/dev.c). So the link is made here with
 * XDP_FLAGS_DRV_MODE: a driver without native XDP is refused
 * (EOPNOTSUPP), never silently run in generic mode. Checked on 6.18: a
 * link with flags 0 on a bridge attaches in generic mode; with this
 * flag it is refused (test_attach_native_only), and on veth it attaches
 * in native mode (XDP_ATTACHED_DRV, test_attach_detach).
 */
static int iface_attach(struct sl_xdp *x, struct sl_xdp_iface *f, char *err,
			size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);
	const char *hint = "";
	int fd;

	fd = bpf_link_create(sl_xdp_prog_fd(x), (int)f->ifindex, BPF_XDP, &o);
	if (fd >= 0) {
		f->link_fd = fd;
		return 0;
	}
	if (fd == -EBUSY || fd == -EEXIST)
		hint = " (another XDP program is attached to it)";
	else if (fd == -EOPNOTSUPP)
		hint = " (its driver has no native XDP)";
	snprintf(err, errlen, "attaching XDP to %s: %s%s", f->name,
		 strerror(-fd), hint);
	return fd;
}

/* Closes f's link, which detaches the program; no-op when not attached. */
static void iface_detach(struct sl_xdp_iface *f)
{
	if (f->link_fd >= 0)
		close(f->link_fd);
	f->link_fd = -1;
}

/* Attaches ifs[from..n_ifs) not yet attached: all or none of them. */
static int ifaces_attach(struct sl_xdp *x, uint32_t from, char *err,
			 size_t errlen)
{
	uint32_t i;
	int rc = 0;

	for (i = from; i < x->n_ifs; i++) {
		if (x->ifs[i].link_fd >= 0)
			continue;
		rc = iface_attach(x, &x->ifs[i], err, errlen);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		while (i-- > from)
			iface_detach(&x->ifs[i]);
	return rc;
}

/* Accepts a name; its ifindex, or 0 with err. */
static uint32_t iface_index(const char *name, char *err, size_t errlen)
{
	uint32_t i = if_nametoindex(name);

	if (i == 0)
		snprintf(err, errlen, "interface %s: %s", name, strerror(errno));
	return i;
}

int sl_xdp_pair_add(struct sl_xdp *x, const char *a, const char *b,
		    char *err, size_t errlen)
{
	int fd = bpf_map__fd(x->skel->maps.sl_tx);
	struct bpf_devmap_val va = { 0 }, vb = { 0 };
	uint32_t ia, ib;
	int rc;

	ia = iface_index(a, err, errlen);
	ib = ia ? iface_index(b, err, errlen) : 0;
	if (ia == 0 || ib == 0)
		return -ENODEV;
	if (ia == ib) {
		snprintf(err, errlen, "a port pair needs two interfaces, not %s twice", a);
		return -EINVAL;
	}
	if (iface_find(x, ia) || iface_find(x, ib)) {
		snprintf(err, errlen, "%s is already in a port pair",
			 iface_find(x, ia) ? a : b);
		return -EEXIST;
	}
	if (x->n_ifs + 2 > SL_XDP_IFACES_MAX) {
		snprintf(err, errlen, "more than %u interfaces on the XDP path",
			 SL_XDP_IFACES_MAX);
		return -ENOSPC;
	}
	va.ifindex = ib;
	vb.ifindex = ia;
	if (bpf_map_update_elem(fd, &ia, &va, BPF_ANY) < 0)
		goto map_fail;
	if (bpf_map_update_elem(fd, &ib, &vb, BPF_ANY) < 0) {
		rc = -errno;
		bpf_map_delete_elem(fd, &ia);
		errno = -rc;
		goto map_fail;
	}
	x->ifs[x->n_ifs] = (struct sl_xdp_iface){ .ifindex = ia, .link_fd = -1 };
	snprintf(x->ifs[x->n_ifs++].name, IF_NAMESIZE, "%s", a);
	x->ifs[x->n_ifs] = (struct sl_xdp_iface){ .ifindex = ib, .link_fd = -1 };
	snprintf(x->ifs[x->n_ifs++].name, IF_NAMESIZE, "%s", b);
	if (!x->attached)
		return 0;
	rc = ifaces_attach(x, x->n_ifs - 2, err, errlen);
	if (rc < 0) {
		x->n_ifs -= 2;
		bpf_map_delete_elem(fd, &ia);
		bpf_map_delete_elem(fd, &ib);
	}
	return rc;

map_fail:
	rc = -errno;
	snprintf(err, errlen, "adding the pair %s <-> %s: %s", a, b, strerror(-rc));
	return rc;
}

int sl_xdp_attach(struct sl_xdp *x, char *err, size_t errlen)
{
	int rc;

	if (x->n_ifs == 0) {
		snprintf(err, errlen, "no port pair to attach to");
		return -ENOENT;
	}
	rc = ifaces_attach(x, 0, err, errlen);
	if (rc == 0)
		x->attached = true;
	return rc;
}

int sl_xdp_detach(struct sl_xdp *x)
{
	for (uint32_t i = 0; i < x->n_ifs; i++)
		iface_detach(&x->ifs[i]);
	x->attached = false;
	return 0;
}

bool sl_xdp_attached(const struct sl_xdp *x)
{
	return x->attached;
}

int sl_xdp_prog_fd(const struct sl_xdp *x)
{
	return bpf_program__fd(x->skel->progs.sluice_xdp);
}

/* ---- counters ---- */

/* Sums a per-CPU value of n u64 counters at key k of fd into out. */
static int pcpu_sum(struct sl_xdp *x, int fd, uint32_t k, uint64_t *out,
		    size_t n)
{
	size_t stride = (n * sizeof(uint64_t) + 7) / 8 * 8;

	if (bpf_map_lookup_elem(fd, &k, x->pcpu) < 0)
		return -errno;
	memset(out, 0, n * sizeof(*out));
	for (int c = 0; c < x->ncpus; c++) {
		const uint64_t *v = (const uint64_t *)((char *)x->pcpu + c * stride);

		for (size_t i = 0; i < n; i++)
			out[i] += v[i];
	}
	return 0;
}

/* Entries of the bucket map now: batches, or a key walk without them. */
static int keys_count(struct sl_xdp *x, uint64_t *n)
{
	enum { CHUNK = 1024 };
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	int fd = bpf_map__fd(x->skel->maps.sl_buckets);
	struct sl_xdp_key *keys = malloc(CHUNK * sizeof(*keys));
	struct sl_xdp_bucket *vals = malloc(CHUNK * sizeof(*vals));
	struct sl_xdp_key in, out, k;
	bool first = true;
	int rc = 0;

	*n = 0;
	if (keys == NULL || vals == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t cnt = CHUNK;

		rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					  vals, &cnt, &o);
		if (rc < 0 && errno != ENOENT)
			break;
		*n += cnt;
		if (rc < 0) {
			rc = 0;
			goto out;
		}
		in = out;
		first = false;
	}
	/* No batches (or a bucket over CHUNK): walk the keys. */
	*n = 0;
	rc = 0;
	for (first = true; bpf_map_get_next_key(fd, first ? NULL : &k, &k) == 0;
	     first = false)
		(*n)++;
out:
	free(keys);
	free(vals);
	return rc;
}

int sl_xdp_totals(struct sl_xdp *x, struct sl_xdp_totals *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = pcpu_sum(x, bpf_map__fd(x->skel->maps.sl_stats), 0,
		      (uint64_t *)&t->st, sizeof(t->st) / sizeof(uint64_t));
	if (rc < 0)
		return rc;
	t->keys_capacity = bpf_map__max_entries(x->skel->maps.sl_buckets);
	return keys_count(x, &t->keys_active);
}

int sl_xdp_class_counters(struct sl_xdp *x, uint32_t i,
			  struct sl_xdp_counters *out)
{
	const struct sl_xdp_tables *t;

	if (!x->has_policy || i >= x->set[x->active].t->cfg.n_classes)
		return -ENOENT;
	t = x->set[x->active].t;
	return pcpu_sum(x, bpf_map__fd(x->skel->maps.sl_counters),
			t->cls[i].slot, (uint64_t *)out,
			sizeof(*out) / sizeof(uint64_t));
}

/* ---- expiry ---- */

/* Whether bucket b of key k is idle past its time, or of a class gone. */
static bool bucket_expired(const struct sl_xdp *x, const struct sl_xdp_key *k,
			   const struct sl_xdp_bucket *b, uint64_t now)
{
	uint64_t idle = (uint64_t)(b->idle_ms ? b->idle_ms : SL_XDP_IDLE_MAX_MS) *
			1000000;

	if (k->slot >= SL_XDP_SLOTS_MAX ||
	    x->slot_state[k->slot] != SL_SLOT_USED || x->gen[k->slot] != b->gen)
		return true;
	return now > b->tb.last_ns && now - b->tb.last_ns > idle;
}

uint32_t sl_xdp_expire(struct sl_xdp *x, uint32_t budget)
{
	int fd = bpf_map__fd(x->skel->maps.sl_buckets);
	struct sl_xdp_key k, nk;
	struct sl_xdp_bucket b;
	struct timespec ts;
	uint32_t done = 0;
	bool has, wrapped = !x->cursor_valid;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	/* Go on from the last key looked at; from the start at most once more. */
	has = bpf_map_get_next_key(fd, x->cursor_valid ? &x->cursor : NULL, &k) == 0;
	while (done < budget) {
		if (!has) {
			x->cursor_valid = false;
			if (wrapped)
				break;
			wrapped = true;
			has = bpf_map_get_next_key(fd, NULL, &k) == 0;
			continue;
		}
		/* The next key first: deleting k would restart the walk. */
		has = bpf_map_get_next_key(fd, &k, &nk) == 0;
		if (bpf_map_lookup_elem(fd, &k, &b) == 0 &&
		    bucket_expired(x, &k, &b, now) &&
		    bpf_map_delete_elem(fd, &k) == 0)
			done++;
		x->cursor = k;
		x->cursor_valid = true;
		k = nk;
	}
	return done;
}
