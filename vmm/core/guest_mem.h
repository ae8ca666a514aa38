/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one memfd, mapped MAP_SHARED once into the VMM, split into at
 * most two guest-physical regions (below the 3 GiB PCI hole and from 4 GiB).
 *
 *   memfd offset 0 ............ low_size ............... size
 *                |  gpa [0, low_size) | gpa [4 GiB, 4 GiB + size - low_size)
 *
 * Every guest-supplied address goes through gmem_ptr()/gmem_strcpy(), which
 * check bounds and overflow once, at the boundary.
 */
#ifndef VMM_CORE_GUEST_MEM_H
#define VMM_CORE_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_PAGE_SIZE	 4096ull
#define GMEM_LOW_LIMIT	 0xc0000000ull	/* RAM below 4 GiB ends at 3 GiB */
#define GMEM_HIGH_BASE	 0x100000000ull /* the rest of RAM starts at 4 GiB */
#define GMEM_MIN_SIZE	 (4ull << 20)
#define GMEM_MAX_SIZE	 (64ull << 30)
#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa;	 /* first guest-physical address */
	uint64_t size;	 /* bytes */
	uint64_t offset; /* offset in the memfd */
	uint8_t *host;	 /* host address of gpa */
};

struct gmem {
	int fd;	       /* the memfd holding all guest RAM */
	uint8_t *base; /* whole memfd, MAP_SHARED */
	uint64_t size; /* RAM bytes */
	unsigned nr_regions;
	struct gmem_region regions[GMEM_MAX_REGIONS];
};

/*
 * gmem_create - allocate `size` bytes of guest RAM in a memfd and map it.
 * `size` must be a multiple of 4 KiB within [GMEM_MIN_SIZE, GMEM_MAX_SIZE].
 * Returns 0, -EINVAL for a bad size, or the -errno of memfd_create/ftruncate/mmap.
 */
int gmem_create(struct gmem *m, uint64_t size);

/* gmem_destroy - unmap and close; safe on a zeroed or already destroyed gmem. */
void gmem_destroy(struct gmem *m);

/*
 * gmem_ptr - host pointer for guest-physical [gpa, gpa + len), or NULL if
 * len is 0, the range wraps around, or any byte of it lies outside a single
 * RAM region. The only way the VMM turns a guest address into a pointer.
 */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/*
 * gmem_strcpy - copy the NUL-terminated guest string at gpa into buf (cap
 * bytes, NUL included). The copy is taken first and checked afterwards, so
 * another vCPU changing the string meanwhile cannot defeat the check.
 * Returns 0, -EFAULT if a byte before the NUL lies outside RAM, or
 * -ENAMETOOLONG if no NUL occurs within cap bytes.
 */
int gmem_strcpy(const struct gmem *m, uint64_t gpa, char *buf, size_t cap);

/*
 * gmem_region_of - the region containing gpa, or NULL.
 */
const struct gmem_region *gmem_region_of(const struct gmem *m, uint64_t gpa);

#endif
