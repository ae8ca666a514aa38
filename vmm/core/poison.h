/* SPDX-License-Identifier: MIT */
/*
 * The per-VM set of guest pages known to be hit by an uncorrectable memory
 * error. A bitmap over guest-physical page frames, updated with atomic
 * operations, so vCPU threads, the control thread and the migration thread
 * can add and test pages without a lock (the migration sender tests every
 * page it sends).
 */
#ifndef VMM_CORE_POISON_H
#define VMM_CORE_POISON_H

#include <stdbool.h>
#include <stdint.h>

#define POISON_NONE UINT64_MAX

struct poison_set {
	uint64_t npages;
	uint64_t *bits; /* accessed with __atomic builtins */
	uint64_t count;
};

/* A set for guest-physical addresses [0, limit). 0, -EINVAL, -ENOMEM. */
int poison_set_init(struct poison_set *ps, uint64_t limit);
void poison_set_free(struct poison_set *ps);

/* Add the page holding gpa: 1 if newly added, 0 if it was there, -ERANGE. */
int poison_set_add(struct poison_set *ps, uint64_t gpa);

/* Is the page holding gpa poisoned? (false when out of range) */
bool poison_set_contains(const struct poison_set *ps, uint64_t gpa);

/* Number of poisoned pages. */
uint64_t poison_set_count(const struct poison_set *ps);

/* Lowest poisoned page address >= gpa, or POISON_NONE. */
uint64_t poison_set_next(const struct poison_set *ps, uint64_t gpa);

#endif /* VMM_CORE_POISON_H */
