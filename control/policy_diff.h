/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Comparing policy models: exact equality (what a render round trip
 * must keep) and the semantic difference sluiced's policy.diff reports,
 * class by class, matched by name.
 */
#ifndef SLUICE_POLICY_DIFF_H
#define SLUICE_POLICY_DIFF_H

#include <stdbool.h>

#include <jansson.h>

#include "policy.h"

/*
 * Accepts two classes. True when every field of the model is equal,
 * lists in the same order; source positions are not compared.
 */
bool sl_class_same(const struct sl_class *a, const struct sl_class *b);

/* Accepts two policies; sl_class_same() for every class, in order. */
bool sl_policy_same(const struct sl_policy *a, const struct sl_policy *b);

/*
 * Accepts two classes (of one name). Appends to fields (a JSON array)
 * the name of each field whose meaning differs: "match.proto",
 * "match.src", "match.dst", "match.sport", "match.dport",
 * "match.tcp_flags", "match.vlan", "match.dscp", "match.payload",
 * "limit" (one side has none), "limit.key", "limit.rate", "limit.burst",
 * "ceiling" (one side has none), "ceiling.rate", "ceiling.burst",
 * "exceed". Lists are compared as sets: [80, 443] and [443, 80] are the
 * same match. Returns how many it appended.
 */
unsigned int sl_class_diff(const struct sl_class *a, const struct sl_class *b,
			   json_t *fields);

/*
 * Accepts the running policy (NULL: none) and a candidate. Returns
 * {"default": {"from", "to"} or null, "added": [name], "removed": [name],
 * "changed": [{"name", "fields": [field]}], "moved": [name]} as a new
 * reference, or NULL when out of memory. added, changed and moved are
 * in the candidate's order, removed in the running one's. moved names
 * the fewest classes whose position relative to the other surviving
 * classes changed (those outside a longest run kept in order), which
 * matters because the first matching class wins.
 */
json_t *sl_policy_diff(const struct sl_policy *from, const struct sl_policy *to);

#endif /* SLUICE_POLICY_DIFF_H */
