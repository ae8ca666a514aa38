// SPDX-License-Identifier: MIT
#include "lib/pfa.h"
#include "lib/errno.h"

void pfa_init(struct pfa *a, uint64_t *bitmap, uint64_t base_pfn, uint64_t nframes)
{
	uint64_t words = pfa_bitmap_words(nframes);
	uint64_t *p = bitmap;

	a->bitmap = bitmap;
	a->base_pfn = base_pfn;
	a->nframes = nframes;
	a->nfree = 0;
	a->hint = 0;
	/* all ones: rep stosq is one instruction, cheap where the kernel is emulated */
	__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(~0ull) : "memory");
}

static int clip(const struct pfa *a, uint64_t *pfn, uint64_t *count)
{
	uint64_t start = *pfn, end = *pfn + *count;

	if (end < start) /* wrapped */
		end = UINT64_MAX;
	if (start < a->base_pfn)
		start = a->base_pfn;
	if (end > a->base_pfn + a->nframes)
		end = a->base_pfn + a->nframes;
	if (start >= end)
		return 0;
	*pfn = start - a->base_pfn;
	*count = end - start;
	return 1;
}

/* Bits set in v: branch-free (a bit-by-bit loop costs ~300 emulated instructions a word) */
static uint64_t popcount64(uint64_t v)
{
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (v * 0x0101010101010101ull) >> 56;
}

/* How many of the n words at p, from the first, equal v: one `repe scasq`. */
static uint64_t words_equal_prefix(const uint64_t *p, uint64_t n, uint64_t v)
{
	uint64_t left = n;
	uint8_t equal;

	if (!n)
		return 0;
	__asm__ volatile("repe scasq; sete %0"
			 : "=q"(equal), "+D"(p), "+c"(left)
			 : "a"(v)
			 : "memory", "cc");
	return equal ? n : n - left - 1;
}

/* Sets (set=1) or clears bits [i, i+count); returns how many bits changed. */
static uint64_t change_bits(struct pfa *a, uint64_t i, uint64_t count, int set)
{
	uint64_t changed = 0;

	while (count) {
		uint64_t w = i / 64, b = i % 64;
		uint64_t n = 64 - b < count ? 64 - b : count;
		uint64_t mask = n == 64 ? ~0ull : ((1ull << n) - 1) << b;
		uint64_t old = a->bitmap[w];

		if (b == 0 && count >= 128) {
			/* whole words that all flip (the boot case): one scan, one fill */
			uint64_t *p = &a->bitmap[w];
			uint64_t words = words_equal_prefix(p, count / 64, set ? 0 : ~0ull),
				 k = words;

			if (words) {
				__asm__ volatile("rep stosq"
						 : "+D"(p), "+c"(k)
						 : "a"(set ? ~0ull : 0)
						 : "memory");
				changed += 64 * words;
				i += 64 * words;
				count -= 64 * words;
				continue;
			}
		}
		if (set) {
			changed += popcount64(~old & mask);
			a->bitmap[w] = old | mask;
		} else {
			changed += popcount64(old & mask);
			a->bitmap[w] = old & ~mask;
		}
		i += n;
		count -= n;
	}
	return changed;
}

uint64_t pfa_release_range(struct pfa *a, uint64_t pfn, uint64_t count)
{
	uint64_t n;

	if (!clip(a, &pfn, &count))
		return 0;
	n = change_bits(a, pfn, count, 0);
	a->nfree += n;
	if (pfn / 64 < a->hint)
		a->hint = pfn / 64;
	return n;
}

uint64_t pfa_reserve_range(struct pfa *a, uint64_t pfn, uint64_t count)
{
	uint64_t n;

	if (!clip(a, &pfn, &count))
		return 0;
	n = change_bits(a, pfn, count, 1);
	a->nfree -= n;
	return n;
}

int64_t pfa_alloc(struct pfa *a)
{
	uint64_t words = pfa_bitmap_words(a->nframes);

	if (!a->nfree)
		return -ENOMEM;
	for (uint64_t k = 0; k < words; k++) {
		uint64_t w = (a->hint + k) % words;
		uint64_t v = a->bitmap[w];

		if (v != ~0ull) {
			uint64_t b = (uint64_t)__builtin_ctzll(~v);
			uint64_t i = w * 64 + b;

			if (i >= a->nframes)
				continue;
			a->bitmap[w] = v | (1ull << b);
			a->nfree--;
			a->hint = w;
			return (int64_t)(a->base_pfn + i);
		}
	}
	return -ENOMEM;
}

int64_t pfa_alloc_contig(struct pfa *a, uint64_t count, uint64_t align)
{
	uint64_t run = 0;

	if (count == 0 || align == 0 || (align & (align - 1)) || count > a->nfree)
		return -ENOMEM;
	for (uint64_t i = 0; i < a->nframes; i++) {
		uint64_t w = i / 64;

		if (run == 0) {
			/* a run must start on an aligned absolute frame number */
			uint64_t abs = a->base_pfn + i;

			if (abs & (align - 1)) {
				uint64_t next = (abs + align - 1) & ~(align - 1);

				i = next - a->base_pfn - 1;
				continue;
			}
			if (a->bitmap[w] == ~0ull && i % 64 == 0 && align <= 64) {
				i += 63; /* skip a full word quickly */
				continue;
			}
		}
		if (a->bitmap[w] & (1ull << (i % 64))) {
			run = 0;
			continue;
		}
		if (++run == count) {
			uint64_t first = i + 1 - count;

			change_bits(a, first, count, 1);
			a->nfree -= count;
			return (int64_t)(a->base_pfn + first);
		}
	}
	return -ENOMEM;
}

int pfa_free(struct pfa *a, uint64_t pfn)
{
	uint64_t i;

	if (pfn < a->base_pfn || pfn - a->base_pfn >= a->nframes)
		return -EINVAL;
	i = pfn - a->base_pfn;
	if (!(a->bitmap[i / 64] & (1ull << (i % 64))))
		return -EINVAL;
	a->bitmap[i / 64] &= ~(1ull << (i % 64));
	a->nfree++;
	if (i / 64 < a->hint)
		a->hint = i / 64;
	return 0;
}

int pfa_in_use(const struct pfa *a, uint64_t pfn)
{
	uint64_t i;

	if (pfn < a->base_pfn || pfn - a->base_pfn >= a->nframes)
		return 0;
	i = pfn - a->base_pfn;
	return !!(a->bitmap[i / 64] & (1ull << (i % 64)));
}
