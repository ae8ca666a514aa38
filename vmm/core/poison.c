// SPDX-License-Identifier: MIT
/* Per-VM poisoned-page set (see poison.h). */
#include "core/poison.h"
#include "core/guest_mem.h"

#include <errno.h>
#include <stdlib.h>

int poison_set_init(struct poison_set *ps, uint64_t limit)
{
	uint64_t words;

	ps->bits = NULL;
	ps->count = 0;
	if (limit == 0 || limit > GMEM_HIGH_BASE + GMEM_MAX_SIZE)
		return -EINVAL;
	ps->npages = (limit + GMEM_PAGE_SIZE - 1) / GMEM_PAGE_SIZE;
	words = (ps->npages + 63) / 64;
	ps->bits = calloc(words, sizeof(uint64_t));
	return ps->bits ? 0 : -ENOMEM;
}

void poison_set_free(struct poison_set *ps)
{
	free(ps->bits);
	ps->bits = NULL;
	ps->npages = 0;
}

int poison_set_add(struct poison_set *ps, uint64_t gpa)
{
	uint64_t pfn = gpa / GMEM_PAGE_SIZE, bit = 1ull << (pfn % 64), old;

	if (pfn >= ps->npages)
		return -ERANGE;
	old = __atomic_fetch_or(&ps->bits[pfn / 64], bit, __ATOMIC_SEQ_CST);
	if (old & bit)
		return 0;
	__atomic_fetch_add(&ps->count, 1, __ATOMIC_SEQ_CST);
	return 1;
}

bool poison_set_contains(const struct poison_set *ps, uint64_t gpa)
{
	uint64_t pfn = gpa / GMEM_PAGE_SIZE;

	if (pfn >= ps->npages)
		return false;
	return __atomic_load_n(&ps->bits[pfn / 64], __ATOMIC_ACQUIRE) & (1ull << (pfn % 64));
}

uint64_t poison_set_count(const struct poison_set *ps)
{
	return __atomic_load_n(&ps->count, __ATOMIC_ACQUIRE);
}

uint64_t poison_set_next(const struct poison_set *ps, uint64_t gpa)
{
	uint64_t pfn = gpa / GMEM_PAGE_SIZE, w;

	if (gpa % GMEM_PAGE_SIZE)
		pfn++;
	while (pfn < ps->npages) {
		w = __atomic_load_n(&ps->bits[pfn / 64], __ATOMIC_ACQUIRE) >> (pfn % 64);
		if (w)
			return (pfn + (uint64_t)__builtin_ctzll(w)) * GMEM_PAGE_SIZE;
		pfn = (pfn / 64 + 1) * 64;
	}
	return POISON_NONE;
}
