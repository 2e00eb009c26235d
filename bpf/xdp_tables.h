/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A policy compiled into the contents of one set of the XDP program's
 * maps (sluice_xdp.h), in plain memory: no libbpf, so it is built and
 * tested without BPF, and xdp_path.c copies it into the maps.
 *
 * What a packet looks up, as the program does (sl_xdp_tables_classify):
 * proto[proto]; src and dst in the trie of the packet's family; with
 * SL_PKT_F_L4, sport[sport] and dport[dport], else their _NONE entry;
 * tcpf[tcp_flags] for TCP with SL_PKT_F_L4, else tcpf[_NONE]; with
 * SL_PKT_F_VLAN, vlan[vlan], else vlan[_NONE]; dscp[dscp]. Only the
 * tables named in cfg.fields are looked up; the AND of their bitmaps,
 * over the classes 0..n_classes - 1, has the packet's class as its
 * lowest bit. Malformed and non-IP packets match no class.
 *
 * Port and VLAN tables are 65537 and 4097 bitmaps of 128 bytes, but a
 * policy splits them into few runs of equal bitmaps: they are kept as
 * runs and expanded only into the map (sl_xdp_runs_expand).
 */
#ifndef SLUICE_XDP_TABLES_H
#define SLUICE_XDP_TABLES_H

#include <stdint.h>

#include "pkt.h"
#include "policy.h"
#include "sluice_xdp.h"
#include "xdp_path.h"

/*
 * Prefixes one set may put in a trie: both sets share the trie's
 * SL_XDP_PREFIXES_MAX entries, and while one set is rewritten the
 * other is in force, so each gets half, whatever the other holds.
 */
#define SL_XDP_SET_PREFIXES_MAX	(SL_XDP_PREFIXES_MAX / SL_XDP_SETS)

/* Bucket idle times, as SL_FLOW_IDLE_MIN_MS and _MAX_MS of engine.h. */
#define SL_XDP_IDLE_MIN_MS	1000u
#define SL_XDP_IDLE_MAX_MS	300000u

/* A table over the values 0..values - 1 as runs of equal bitmaps. */
struct sl_xdp_runs {
	uint32_t values;		/* 65536 (ports) or 4096 (VLAN IDs) */
	uint32_t n;			/* runs, >= 1 */
	uint32_t *lo;			/* first value of each run: lo[0] = 0 */
	struct sl_xdp_bitmap *bm;	/* the bitmap of each run */
	struct sl_xdp_bitmap none;	/* the "field absent" entry */
};

/* One trie entry. */
struct sl_xdp_prefix {
	uint8_t len;			/* without the set byte */
	uint8_t addr[16];		/* host bits zero; IPv4 in addr[0..3] */
	struct sl_xdp_bitmap bm;
};

/* One LPM trie's entries for a set. */
struct sl_xdp_trie {
	uint8_t family;			/* SL_FAMILY_IPV4 or _IPV6 */
	uint32_t n;			/* entries; e[0] is the /0 one */
	struct sl_xdp_prefix *e;	/* by address, then length */
	uint32_t n_lens;
	uint8_t lens[129];		/* lengths present, longest first */
};

/* One set's contents. */
struct sl_xdp_tables {
	struct sl_xdp_cfg cfg;
	struct sl_xdp_class *cls;	/* cfg.n_classes; slot, gen: 0, the
					 * caller's to fill */
	char (*names)[SL_CLASS_NAME_MAX];	/* of the classes */
	struct sl_xdp_bitmap proto[SL_XDP_PROTO_ENTRIES];
	struct sl_xdp_bitmap tcpf[SL_XDP_TCPF_ENTRIES];
	struct sl_xdp_bitmap dscp[SL_XDP_DSCP_ENTRIES];
	struct sl_xdp_runs sport;
	struct sl_xdp_runs dport;
	struct sl_xdp_runs vlan;
	struct sl_xdp_trie src4;
	struct sl_xdp_trie dst4;
	struct sl_xdp_trie src6;
	struct sl_xdp_trie dst6;
	uint32_t n_degraded;
	struct sl_xdp_degraded *degraded;
};

/*
 * Compile policy p (read only, not kept) with version. Returns 0 and
 * *out (free with sl_xdp_tables_free), or a negative errno with err:
 * -E2BIG for more than SL_XDP_CLASSES_MAX classes or more than
 * SL_XDP_SET_PREFIXES_MAX prefixes in a trie, -EINVAL for a limit out
 * of the token bucket's range, -ENOMEM.
 */
int sl_xdp_tables_build(const struct sl_policy *p, uint64_t version,
			struct sl_xdp_tables **out, char *err, size_t errlen);

/* Frees t; NULL is a no-op. */
void sl_xdp_tables_free(struct sl_xdp_tables *t);

/* Accepts v <= r->values; the bitmap of v (v == values: the none entry). */
const struct sl_xdp_bitmap *sl_xdp_runs_get(const struct sl_xdp_runs *r,
					    uint32_t v);

/* Accepts room for values + 1 bitmaps; writes the whole table there. */
void sl_xdp_runs_expand(const struct sl_xdp_runs *r, struct sl_xdp_bitmap *out);

/* Accepts an address of the trie's family; its longest covering entry. */
const struct sl_xdp_prefix *sl_xdp_trie_lookup(const struct sl_xdp_trie *t,
					       const uint8_t *addr);

/* Orders trie entries as the trie arrays are: address, then length. */
int sl_xdp_prefix_cmp(const struct sl_xdp_prefix *a,
		      const struct sl_xdp_prefix *b);

/*
 * Accepts any parsed packet; the index of its class as the XDP program
 * finds it with these tables, or SL_CLASS_NONE (classify.h).
 */
uint32_t sl_xdp_tables_classify(const struct sl_xdp_tables *t,
				const struct sl_pkt_meta *m);

#endif /* SLUICE_XDP_TABLES_H */
