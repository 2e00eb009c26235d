/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP path's loader: opens and loads sluice.bpf.o through its libbpf
 * skeleton, compiles policies into its maps (sluice_xdp.h), attaches it
 * to the interfaces of each port pair and detaches it, reads counters
 * and expires idle buckets. sluiced owns one; tests and perf/ too.
 *
 * Nothing is pinned: the program and maps live as long as the struct
 * sl_xdp's file descriptors, and attachments are bpf_links owned by it,
 * so a crashed owner leaves nothing behind on any interface.
 *
 * Not thread-safe: one thread calls these for one struct sl_xdp.
 */
#ifndef SLUICE_XDP_PATH_H
#define SLUICE_XDP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "sluice_xdp.h"

struct sl_xdp;

struct sl_xdp_opts {
	uint32_t keys_max;	/* bucket map entries; 0: SL_XDP_KEYS_DEFAULT */
};

/* Why a class is degraded on the XDP path (never enforced there). */
struct sl_xdp_degraded {
	uint32_t class_idx;		/* index in the policy */
	char why[128];			/* e.g. "payload match needs the dataplane" */
};

/*
 * Open and load the program and create its maps; attaches nothing and
 * holds no policy yet (sl_active.valid = 0). Returns NULL with a
 * message in err (libbpf's reason, e.g. no BPF support or no memlock).
 */
struct sl_xdp *sl_xdp_open(const struct sl_xdp_opts *o, char *err, size_t errlen);

/* Detach from every interface and free everything. NULL is a no-op. */
void sl_xdp_close(struct sl_xdp *x);

/*
 * Compile policy p (borrowed; not kept) into the set no packet reads and
 * make it the active one, after waiting out readers of the set written
 * last time. Classes keep their counters and buckets across calls when
 * their names stay. Classes the XDP path cannot enforce (a payload
 * match) never match there and are listed by sl_xdp_degraded(). Returns
 * 0, or a negative errno with err saying why (more than
 * SL_XDP_CLASSES_MAX classes, more prefixes than a trie holds), in which
 * case the previous policy stays in force unchanged.
 */
int sl_xdp_policy_set(struct sl_xdp *x, const struct sl_policy *p,
		      uint64_t version, char *err, size_t errlen);

/* Whether a policy was set; its version. */
bool sl_xdp_has_policy(const struct sl_xdp *x);
uint64_t sl_xdp_policy_version(const struct sl_xdp *x);

/* The degraded classes of the policy in force: *n of them, owned by x. */
const struct sl_xdp_degraded *sl_xdp_degraded(const struct sl_xdp *x,
					      uint32_t *n);

/*
 * Add the port pair a <-> b (interface names): packets conforming on a
 * leave by b and the other way round. Before or after attaching; while
 * attached, the new pair is attached at once. Returns 0 or a negative
 * errno with err (no such interface, too many).
 */
int sl_xdp_pair_add(struct sl_xdp *x, const char *a, const char *b,
		    char *err, size_t errlen);

/*
 * Attach the program to every interface of every pair, in native
 * (driver) mode: all or none. Returns 0 (also when already attached) or
 * a negative errno with err naming the interface and why (e.g. another
 * XDP program is attached to it).
 */
int sl_xdp_attach(struct sl_xdp *x, char *err, size_t errlen);

/* Detach from every interface; 0 when nothing was attached. */
int sl_xdp_detach(struct sl_xdp *x);

bool sl_xdp_attached(const struct sl_xdp *x);

/* The program's fd, for BPF_PROG_TEST_RUN in tests and perf/. */
int sl_xdp_prog_fd(const struct sl_xdp *x);

/* Counters summed over CPUs. */
struct sl_xdp_totals {
	struct sl_xdp_stats st;
	uint64_t keys_active;		/* buckets in the map now */
	uint64_t keys_capacity;
};

/* Fill t; returns 0 or a negative errno. */
int sl_xdp_totals(struct sl_xdp *x, struct sl_xdp_totals *t);

/*
 * Counters of class i of the policy in force, summed over CPUs.
 * Returns 0, or -ENOENT when there is no such class.
 */
int sl_xdp_class_counters(struct sl_xdp *x, uint32_t i,
			  struct sl_xdp_counters *out);

/*
 * Delete buckets idle longer than their class's idle time (at most
 * budget of them; the clock is CLOCK_MONOTONIC, as bpf_ktime_get_ns).
 * Returns how many were deleted.
 */
uint32_t sl_xdp_expire(struct sl_xdp *x, uint32_t budget);

#endif /* SLUICE_XDP_PATH_H */
