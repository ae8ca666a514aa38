/* SPDX-License-Identifier: MIT */
/*
 * Physical frame allocator: one bit per 4 KiB frame (1 = in use) over a
 * contiguous range of frame numbers, with a search hint. The caller supplies
 * the bitmap memory, so the same code runs in the kernel and in host tests.
 * Range operations work a 64-bit word at a time (boot marks hundreds of MiB
 * free in a few thousand steps). Not thread-safe: the caller locks.
 */
#ifndef GUEST_LIB_PFA_H
#define GUEST_LIB_PFA_H

#include <stdint.h>

struct pfa {
	uint64_t *bitmap;  /* (nframes + 63) / 64 words */
	uint64_t base_pfn; /* first frame number covered */
	uint64_t nframes;  /* frames covered */
	uint64_t nfree;	   /* frames currently free */
	uint64_t hint;	   /* word index where the next search starts */
};

/* Words of bitmap memory needed for nframes frames. */
static inline uint64_t pfa_bitmap_words(uint64_t nframes)
{
	return (nframes + 63) / 64;
}

/* Sets up `a` over [base_pfn, base_pfn + nframes) with every frame in use. */
void pfa_init(struct pfa *a, uint64_t *bitmap, uint64_t base_pfn, uint64_t nframes);
/*
 * Marks [pfn, pfn + count) free (clipped to the covered range). Frames that
 * are already free stay free. Returns the number of frames newly freed.
 */
uint64_t pfa_release_range(struct pfa *a, uint64_t pfn, uint64_t count);
/* Marks [pfn, pfn + count) in use (clipped). Returns frames newly reserved. */
uint64_t pfa_reserve_range(struct pfa *a, uint64_t pfn, uint64_t count);
/* Allocates one frame: returns its number, or -ENOMEM. */
int64_t pfa_alloc(struct pfa *a);
/*
 * Allocates `count` contiguous frames whose first frame number is a multiple
 * of `align` (a power of two, >= 1). Returns the first frame or -ENOMEM.
 */
int64_t pfa_alloc_contig(struct pfa *a, uint64_t count, uint64_t align);
/* Frees one frame. Returns 0, or -EINVAL if out of range or already free. */
int pfa_free(struct pfa *a, uint64_t pfn);
/* 1 if the frame is covered and in use, else 0. */
int pfa_in_use(const struct pfa *a, uint64_t pfn);

#endif
