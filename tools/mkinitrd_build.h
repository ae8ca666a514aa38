/* SPDX-License-Identifier: MIT */
/*
 * Builder of Vessel initrd images (format: include/abi/initrd.h), a small
 * library used by the mkinitrd tool and by the unit tests of the reader.
 */
#ifndef VESSEL_TOOLS_MKINITRD_BUILD_H
#define VESSEL_TOOLS_MKINITRD_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct mkinitrd_input {
	const char *name; /* file name in the image, rules as in abi/initrd.h */
	const void *data;
	uint64_t size;
	uint32_t flags; /* VESSEL_INITRD_F_* */
};

/*
 * Build an image of the `n` inputs (any order: the table is sorted by name)
 * with file data aligned to `align` (a power of two >= 8; mkinitrd uses
 * VESSEL_INITRD_WRITER_ALIGN). On success returns 0 and a malloc'd image in
 * *out (*out_len bytes; the caller frees it). Errors: -EINVAL (bad name,
 * bad flags, bad align, too many files: *why says which, *bad_index which
 * input), -EEXIST (two inputs with the same name), -ENOMEM.
 */
int mkinitrd_build(const struct mkinitrd_input *in, size_t n, uint32_t align, void **out,
		   size_t *out_len, const char **why, size_t *bad_index);

/* 1 if `name` may be stored in an initrd, else 0. */
int mkinitrd_name_valid(const char *name);

#endif /* VESSEL_TOOLS_MKINITRD_BUILD_H */
