/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The payload match field: Hyperscan regexes over the L4 payload.
 *
 * Every pattern is compiled for block mode with HS_FLAG_DOTALL ('.'
 * matches any byte: payloads are bytes, not lines) and
 * HS_FLAG_SINGLEMATCH (a pattern reports once per scan: a match decides
 * a class, where or how often does not matter). '^' and '$' are the
 * payload's start and end; inline (?i), (?m), (?s) and (?x) work as
 * Hyperscan documents.
 * The loader compiles each pattern alone to refuse a bad one with
 * Hyperscan's reason (sl_payload_check). A ruleset compiles all the
 * patterns of its policy into one database, the class index as each
 * pattern's id (sl_payload_db_build), off the fast path.
 *
 * A scan needs scratch space that no other thread uses at the same
 * time. The database owns one scratch per slot, made by cloning one
 * prototype when the database is built, so a scan never allocates and
 * a new database always comes with scratch that fits it: the scratch
 * lives and dies with the ruleset, and RCU that retires a ruleset
 * retires its scratch too. What a slot is (the engine uses the lcore
 * id) is the caller's business.
 *
 * No DPDK here: the daemon, which links libsluice without DPDK, checks
 * patterns through the loader.
 */
#ifndef SLUICE_PAYLOAD_H
#define SLUICE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * Compile one pattern alone as a ruleset would. Returns 0, or -EINVAL
 * with Hyperscan's message in err (-ENOMEM: out of memory).
 */
int sl_payload_check(const char *re, char *err, size_t errlen);

struct sl_payload_db;

/*
 * Compile the patterns of p's classes with SL_M_PAYLOAD into one
 * database with n_slots scratch slots, none filled yet. Returns NULL
 * (errno set) with a message in err on failure, and also when p has no
 * payload class (errno ENOENT).
 */
struct sl_payload_db *sl_payload_db_build(const struct sl_policy *p,
					  uint32_t n_slots, char *err,
					  size_t errlen);
void sl_payload_db_free(struct sl_payload_db *db);

/* Give slot (< n_slots) its scratch. Returns 0, -EINVAL or -ENOMEM. */
int sl_payload_db_scratch(struct sl_payload_db *db, uint32_t slot);

/* Patterns in db, and the bytes of one slot's scratch. */
uint32_t sl_payload_db_patterns(const struct sl_payload_db *db);
size_t sl_payload_db_scratch_size(const struct sl_payload_db *db);

/*
 * Called for each class whose pattern matches, once per class, in the
 * order Hyperscan finds them (by end of match, not by class). Return
 * nonzero to stop the scan.
 */
typedef int (*sl_payload_hit_fn)(uint32_t cls, void *ctx);

/*
 * Scan len bytes at data with the scratch of slot. Returns 0 (also
 * when fn stopped it), -ENOENT when the slot has no scratch, -EBUSY
 * when another thread is using that scratch, -EIO on other Hyperscan
 * errors. Never allocates.
 */
int sl_payload_scan(const struct sl_payload_db *db, uint32_t slot,
		    const uint8_t *data, uint32_t len, sl_payload_hit_fn fn,
		    void *ctx);

#endif /* SLUICE_PAYLOAD_H */
