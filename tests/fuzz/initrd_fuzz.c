// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the initrd reader (guest/lib/initrd.c): the kernel
 * parses the image from a file the VMM was given, so it must reject any
 * malformed input without reading out of bounds.
 *
 * The first input byte selects a mode: odd = the harness re-seals the
 * header CRC before parsing, so the fuzzer reaches the table and entry
 * checks instead of stopping at the checksum; even = raw bytes.
 * Invariants checked on every accepted image: every entry and its data lie
 * inside the image, names are NUL-terminated within 56 bytes, every name is
 * found again by initrd_find(), and verify/lookup never crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/initrd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void reseal(uint8_t *img, size_t len)
{
	uint64_t off, tlen;
	uint32_t crc;

	if (len < 64)
		return;
	off = rd64(img + 24);
	tlen = (uint64_t)rd32(img + 20) * 80;
	if (off > len || tlen > len - off)
		return;
	crc = initrd_crc32(0, img, 60);
	crc = initrd_crc32(crc, img + off, tlen);
	memcpy(img + 60, &crc, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct initrd rd;
	struct initrd_file f, g;
	const char *why = NULL;
	uint8_t *img;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	img = malloc(len ? len : 1); /* exact size: ASan catches any overread */
	memcpy(img, data + 1, len);
	if (data[0] & 1)
		reseal(img, len);

	if (initrd_open(&rd, img, len, &why) == 0) {
		if (rd.size > len)
			abort();
		for (uint32_t i = 0; i < initrd_count(&rd); i++) {
			if (initrd_entry(&rd, i, &f))
				abort();
			if ((const uint8_t *)f.name < img ||
			    (const uint8_t *)f.name + VESSEL_INITRD_NAME_MAX > img + len)
				abort();
			if (memchr(f.name, 0, VESSEL_INITRD_NAME_MAX) == NULL)
				abort();
			if (f.data < img || f.size > (uint64_t)(img + len - f.data))
				abort();
			if (initrd_find(&rd, f.name, VESSEL_INITRD_NAME_MAX, &g) || g.index != i)
				abort();
			(void)initrd_verify(&rd, i);
		}
		if (initrd_entry(&rd, initrd_count(&rd), &f) != -ENOENT)
			abort();
		/* lookups with names taken from the fuzz input itself */
		(void)initrd_find(&rd, (const char *)img, len < 64 ? len : 64, &f);
	} else if (why == NULL) {
		abort(); /* every rejection names its reason */
	}
	free(img);
	return 0;
}
