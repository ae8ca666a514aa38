// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the VMM's ELF loader: any input must be either
 * rejected with a message or loaded entirely inside guest RAM above the VMM
 * boot area, with the entry point inside the loaded image.
 */
#include "core/elf.h"
#include "core/guest_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_GPA 0x100000ull
#define MAX_GPA 0x100000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem mem;
	static int ready;
	struct elf_image img;
	char err[256];
	int rc;

	if (!ready) {
		if (gmem_create(&mem, 8ull << 20))
			abort();
		ready = 1;
	}
	err[0] = '\0';
	rc = elf_load(&mem, data, size, MIN_GPA, MAX_GPA, &img, err, sizeof(err));
	if (rc) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort(); /* every rejection carries a reason */
		return 0;
	}
	if (img.lo < MIN_GPA || img.hi > mem.size || img.lo >= img.hi || img.nr_load == 0)
		abort();
	if (img.entry < img.lo || img.entry >= img.hi)
		abort();
	return 0;
}
