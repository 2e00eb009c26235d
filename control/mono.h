/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Monotonic counters over a source that restarts: the dataplane counts
 * from zero after each start, and a class it drops and later adds again
 * counts from zero too. sluiced reports counters that never go back:
 * for each group of counters (one class, the default action, ...) it
 * keeps the last raw values and an offset, and folds the last values
 * into the offset whenever the source restarted or the group reset.
 *
 * A group is named by a string (e.g. "c/login"); its values are read
 * and reset together, which is why a reset is detected per group: if
 * any value of a group went down, the whole group started again.
 */
#ifndef SLUICE_MONO_H
#define SLUICE_MONO_H

#include <stdbool.h>
#include <stdint.h>

#define SL_MONO_VALUES		10	/* values in one group, at most */
#define SL_MONO_GROUPS_MAX	65536	/* least recently updated go beyond */

struct sl_mono;

/* Returns an empty set, or NULL when out of memory. */
struct sl_mono *sl_mono_new(void);

/* Accepts a set or NULL; frees it. */
void sl_mono_free(struct sl_mono *m);

/*
 * Accepts an identity of the source (the dataplane's pid). When it
 * differs from the last one given (not the first), the source restarted:
 * every group's last values are folded into its offset, so the next
 * update starts from zero without going back. Returns true then.
 */
bool sl_mono_source(struct sl_mono *m, uint64_t source);

/*
 * Accepts a group name, its n raw values (n <= SL_MONO_VALUES; a group
 * keeps the n of its first update, missing values count as 0) and room
 * for n results. Stores the monotonic values in out (may be NULL).
 * Returns 1 when a value went down (the group reset and was folded),
 * 0 otherwise, or -ENOMEM / -EINVAL.
 */
int sl_mono_update(struct sl_mono *m, const char *group, const uint64_t *raw,
		   unsigned int n, uint64_t *out);

/*
 * Accepts a group name and room for n values. Stores its monotonic
 * values (zeros for an unknown group) and returns whether it is known.
 */
bool sl_mono_get(const struct sl_mono *m, const char *group, uint64_t *out,
		 unsigned int n);

/* Accepts a set; how many groups it holds. */
unsigned int sl_mono_groups(const struct sl_mono *m);

#endif /* SLUICE_MONO_H */
