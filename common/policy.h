/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model (policy language version 1) and its loader.
 *
 * A policy is loaded from YAML, validated whole, and either returned
 * complete or refused with diagnostics of the form file:line:column:
 * message. Nothing here knows about DPDK: the dataplane, the daemon,
 * replay and the BPF loader all start from this model.
 */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SL_POLICY_VERSION	1
#define SL_CLASS_NAME_MAX	64	/* including the NUL */
#define SL_CLASSES_MAX		16384
#define SL_MATCH_LIST_MAX	256	/* entries in one src/dst/port/vlan list */
#define SL_DIAG_MSG_MAX		256
#define SL_DIAGS_MAX		32	/* errors kept; later ones are counted */

/*
 * Longest shape DELAY: the dataplane's timing wheel (dataplane/shaper.h)
 * spans a little more, and a queue of a second is already more than a
 * request can sensibly wait at a gateway.
 */
#define SL_SHAPE_DELAY_MAX_NS	1000000000ULL

/* Smallest byte burst: one maximum-size frame with two VLAN tags. */
#define SL_BURST_BYTES_MIN	1522

/* Where a policy element was written: 1-based, as editors show it. */
struct sl_srcpos {
	uint32_t line;
	uint32_t col;
};

struct sl_diag {
	struct sl_srcpos pos;
	char msg[SL_DIAG_MSG_MAX];
};

/* What a failed load reports: "file:line:col: msg" for each error. */
struct sl_diags {
	char file[256];
	uint32_t n;		/* kept in diag[] */
	uint32_t dropped;	/* beyond SL_DIAGS_MAX */
	struct sl_diag diag[SL_DIAGS_MAX];
};

enum sl_default_action {
	SL_DEFAULT_PASS = 0,
	SL_DEFAULT_DROP,
};

/* proto: a number 0..255, or SL_PROTO_ANY. */
#define SL_PROTO_ANY	(-1)

struct sl_prefix {
	uint8_t family;		/* 4 or 6 */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order; IPv4 in addr[0..3]; host bits zero */
};

/* Inclusive range, used for ports and VLAN IDs. */
struct sl_range {
	uint16_t lo;
	uint16_t hi;
};

/* Which optional match fields a class sets. */
enum sl_match_field {
	SL_M_PROTO	= 1u << 0,
	SL_M_SRC	= 1u << 1,
	SL_M_DST	= 1u << 2,
	SL_M_SPORT	= 1u << 3,
	SL_M_DPORT	= 1u << 4,
	SL_M_TCP_FLAGS	= 1u << 5,
	SL_M_VLAN	= 1u << 6,
	SL_M_DSCP	= 1u << 7,
	SL_M_PAYLOAD	= 1u << 8,
};

/* TCP flag bits, as in the TCP header's 13th byte. */
#define SL_TCP_FIN	0x01
#define SL_TCP_SYN	0x02
#define SL_TCP_RST	0x04
#define SL_TCP_PSH	0x08
#define SL_TCP_ACK	0x10
#define SL_TCP_URG	0x20
#define SL_TCP_ECE	0x40
#define SL_TCP_CWR	0x80

/*
 * All fields that are set must hold. A list field holds if any entry
 * holds. A packet without the field (no VLAN tag, no L4 ports because
 * it is a non-first fragment, not TCP for tcp_flags) does not match a
 * class that sets it.
 */
struct sl_match {
	uint32_t fields;		/* enum sl_match_field bits */
	int proto;			/* SL_PROTO_ANY or 0..255 */
	struct sl_prefix *src;
	uint32_t n_src;
	struct sl_prefix *dst;
	uint32_t n_dst;
	struct sl_range *sport;
	uint32_t n_sport;
	struct sl_range *dport;
	uint32_t n_dport;
	uint8_t tcp_flags;		/* (flags & tcp_mask) == tcp_flags */
	uint8_t tcp_mask;
	struct sl_range *vlan;		/* outer 802.1Q VLAN ID */
	uint32_t n_vlan;
	uint64_t dscp;			/* bit d set: DSCP value d matches */
	char *payload;			/* Hyperscan regex (payload.h) */
};

enum sl_key_type {
	SL_KEY_NONE = 0,	/* one bucket for the whole class */
	SL_KEY_SRC,		/* source address, masked to prefix_len */
	SL_KEY_DST,		/* destination address, masked to prefix_len */
	SL_KEY_FLOW,		/* 5-tuple */
};

enum sl_rate_unit {
	SL_UNIT_PACKETS = 0,	/* rate in packets/s, burst in packets */
	SL_UNIT_BITS,		/* rate in bits/s, burst in bytes */
};

struct sl_limit {
	enum sl_key_type key;
	/*
	 * For src/N and dst/N: N. IPv6 keys use N bits; IPv4 keys use
	 * min(N, 32). 128 for plain src/dst (whole address).
	 */
	uint8_t prefix_len;
	enum sl_rate_unit unit;
	uint64_t rate;		/* packets/s or bits/s */
	uint64_t burst;		/* packets or bytes */
};

/*
 * A class's ceiling: one bucket for all of its keys on all lcores
 * together, in the units of a limit (its own, not necessarily the
 * limit's). A packet passes only if its key bucket (if the class has a
 * limit) and the ceiling both have its tokens.
 */
struct sl_ceiling {
	enum sl_rate_unit unit;
	uint64_t rate;		/* packets/s or bits/s */
	uint64_t burst;		/* packets or bytes */
};

enum sl_exceed_action {
	SL_EXCEED_DROP = 0,
	SL_EXCEED_MONITOR,	/* count, forward unchanged */
	SL_EXCEED_MARK,		/* rewrite DSCP, forward */
	SL_EXCEED_SHAPE,	/* delay up to shape_ns, drop beyond */
};

struct sl_exceed {
	enum sl_exceed_action action;
	uint8_t dscp;		/* for SL_EXCEED_MARK */
	uint64_t shape_ns;	/* for SL_EXCEED_SHAPE */
};

struct sl_class {
	char name[SL_CLASS_NAME_MAX];
	struct sl_srcpos pos;	/* of the class's mapping */
	struct sl_match match;
	bool has_limit;		/* without a limit every packet conforms */
	struct sl_limit limit;
	struct sl_exceed exceed;
	bool has_ceiling;	/* a class-wide bucket besides (or instead of) the limit */
	struct sl_ceiling ceiling;
};

struct sl_policy {
	uint32_t version;			/* the language version: 1 */
	enum sl_default_action default_action;
	uint32_t n_classes;
	struct sl_class *classes;		/* in order: first match wins */
};

/*
 * Load and validate a policy. On success returns 0 and *out owns a new
 * policy (free with sl_policy_free). On failure returns a negative errno
 * (-EINVAL for an invalid policy, -ENOENT etc. for I/O), *out is NULL and
 * diags says what is wrong; name is used as the file in diagnostics.
 * One YAML document; anchors, aliases, merge keys and custom tags are
 * refused.
 */
int sl_policy_load_file(const char *path, struct sl_policy **out,
			struct sl_diags *diags);
int sl_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct sl_policy **out, struct sl_diags *diags);
void sl_policy_free(struct sl_policy *p);

/* Print every diagnostic as "file:line:col: msg\n" to a stdio stream. */
void sl_diags_print(const struct sl_diags *d, FILE *f);

/* Look up a class by name; NULL if absent. */
const struct sl_class *sl_policy_class(const struct sl_policy *p,
				       const char *name);

/*
 * DSCP names (cs0..cs7, af11..af43, ef, va, le; any case) and numbers
 * 0..63. sl_dscp_parse returns 0 or -EINVAL. sl_dscp_name returns the
 * name, or the number as a string for DSCPs without one; NULL above 63.
 */
int sl_dscp_parse(const char *s, uint8_t *out);
const char *sl_dscp_name(uint8_t dscp);

/*
 * Value parsers shared by the loader and by whoever changes a class at
 * run time (sluicectl class set). Each returns 0, or -EINVAL with a
 * message (without the field name) in err.
 */

/* "200pps", "1.5Mbit": the rate and its unit; an exact integer, >= 1. */
int sl_rate_parse(const char *s, uint64_t *rate, enum sl_rate_unit *unit,
		  char *err, size_t errlen);
/*
 * "400" (packets; *unit = SL_UNIT_PACKETS) or "64KB" (bytes, with B, KB,
 * MB, GB = 1024^n; *unit = SL_UNIT_BITS, the unit of the rate it goes
 * with).
 */
int sl_burst_parse(const char *s, uint64_t *burst, enum sl_rate_unit *unit,
		   char *err, size_t errlen);
/*
 * "50ms", "1.5ms", "200us", "1s": a delay in ns (units ns, us, ms, s, any
 * case), exact, from 1 ns to SL_SHAPE_DELAY_MAX_NS.
 */
int sl_delay_parse(const char *s, uint64_t *ns, char *err, size_t errlen);
/* Whether rate and burst of l are in range for the token bucket. */
int sl_limit_check(const struct sl_limit *l, char *err, size_t errlen);
/* Whether rate and burst of c are in range for the ceiling (ceiling.h). */
int sl_ceiling_check(const struct sl_ceiling *c, char *err, size_t errlen);
/* "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" (/32); host bits must be 0. */
int sl_prefix_parse(const char *s, struct sl_prefix *out, char *err,
		    size_t errlen);
/* "addr/len" into buf; returns buf. */
char *sl_prefix_format(const struct sl_prefix *p, char *buf, size_t len);
/* "80" or "5000-5999" with both ends <= max. */
int sl_range_parse(const char *s, uint16_t max, struct sl_range *out,
		   char *err, size_t errlen);
/* "syn", "syn,ack", "syn,!ack", "syn/syn,ack": see the policy language. */
int sl_tcp_flags_parse(const char *s, uint8_t *flags, uint8_t *mask,
		       char *err, size_t errlen);

/* Add one diagnostic (line 0: not tied to a place in the file). */
void sl_diags_add(struct sl_diags *d, struct sl_srcpos pos, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

#endif /* SLUICE_POLICY_H */
