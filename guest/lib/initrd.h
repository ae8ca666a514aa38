/* SPDX-License-Identifier: MIT */
/*
 * Freestanding reader of the Vessel initrd (format: include/abi/initrd.h).
 * Compiled into the guest kernel and, unchanged, into host unit tests, the
 * mkinitrd tool and a libFuzzer target. No allocation, no libc, no global
 * state; byte-wise field access, so the image needs no alignment.
 */
#ifndef VESSEL_LIB_INITRD_H
#define VESSEL_LIB_INITRD_H

#include <stddef.h>
#include <stdint.h>

#include "abi/initrd.h"

/* A validated image. Filled by initrd_open(); read-only afterwards. */
struct initrd {
	const uint8_t *base;
	uint64_t size; /* image_size from the header */
	uint64_t table_offset;
	uint32_t count;
};

/* One file of the image, pointing into the image (no copy). */
struct initrd_file {
	const char *name; /* NUL-terminated, inside the image */
	const uint8_t *data;
	uint64_t size;
	uint32_t flags; /* VESSEL_INITRD_F_* */
	uint32_t index; /* position in the (name-sorted) table */
};

/*
 * Validate the image at [base, base + len) and describe it in *rd.
 * Checks everything the format promises: magic, version, sizes, the header
 * CRC, every entry (name syntax, strictly ascending names, aligned,
 * ascending, non-overlapping in-bounds data, known flags), with overflow-safe
 * arithmetic. Does not read file data (see initrd_verify()).
 * Returns 0, or -EINVAL (malformed; *why, if why is not NULL, names the
 * offending field, e.g. "entry 3: data past end of image"), -ERANGE (len
 * smaller than the header or image_size), -EIO (header CRC mismatch).
 */
int initrd_open(struct initrd *rd, const void *base, uint64_t len, const char **why);

/* Number of files. */
uint32_t initrd_count(const struct initrd *rd);

/*
 * File number `index` (name order) into *f. Returns 0 or -ENOENT when
 * index >= initrd_count().
 */
int initrd_entry(const struct initrd *rd, uint32_t index, struct initrd_file *f);

/*
 * Look a file up by name; one leading '/' is ignored ("/sh" == "sh").
 * At most `name_max` bytes of `name` are read (a bound for names that come
 * from an untrusted buffer). Binary search: the table is sorted.
 * Returns 0 and fills *f, or -ENOENT (no such file, empty name, "/"),
 * -ENAMETOOLONG (no NUL within name_max or longer than a name can be).
 */
int initrd_find(const struct initrd *rd, const char *name, size_t name_max, struct initrd_file *f);

/*
 * Check the CRC of file number `index`'s data. Returns 0, -ENOENT (bad
 * index) or -EIO (mismatch). Costs time proportional to the file size.
 */
int initrd_verify(const struct initrd *rd, uint32_t index);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): continue from `crc`
 * (0 to start) over [p, p + len). */
uint32_t initrd_crc32(uint32_t crc, const void *p, uint64_t len);

#endif /* VESSEL_LIB_INITRD_H */
