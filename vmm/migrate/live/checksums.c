// SPDX-License-Identifier: MIT
/*
 * Test mode (VESSEL_MIG_CHECKSUMS=FILE): write "gpa xxh64" for every guest
 * page, so a test can compare the source's memory at the hand-over with the
 * destination's after it. The source leaves out pages its final free-pages
 * callback reported free (their content may legitimately differ); both
 * leave out poisoned pages. Not used otherwise.
 */
#include "migrate/live/internal.h"

#include "core/memerr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxh_x86dispatch.h> /* XXH3 with the widest vector unit the CPU has (AVX2: 2x SSE2) */

int live_write_checksums(struct vm *vm, const uint64_t *free_map, uint64_t free_frames,
			 const char *why)
{
	const char *path = getenv("VESSEL_MIG_CHECKSUMS");
	uint8_t page[GMEM_PAGE_SIZE];
	FILE *f;

	if (!path || !*path)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];

		for (uint64_t gpa = r->gpa; gpa < r->gpa + r->size; gpa += GMEM_PAGE_SIZE) {
			uint64_t pfn = gpa / GMEM_PAGE_SIZE;

			if (free_map && pfn < free_frames && (free_map[pfn / 64] >> (pfn % 64) & 1))
				continue;
			if (memerr_is_poisoned(vm, gpa) ||
			    gmem_read(&vm->mem, gpa, page, sizeof(page)))
				continue;
			fprintf(f, "%#" PRIx64 " %016llx\n", gpa,
				(unsigned long long)XXH3_64bits(page, sizeof(page)));
		}
	}
	vm_log(vm, "page checksums (%s) written to %s", why, path);
	return fclose(f) ? -errno : 0;
}
