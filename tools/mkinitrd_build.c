// SPDX-License-Identifier: MIT
/* Builds initrd images; the layout is described in include/abi/initrd.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/initrd.h"
#include "lib/initrd.h"
#include "mkinitrd_build.h"

int mkinitrd_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= VESSEL_INITRD_NAME_MAX)
		return 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+'))
			return 0;
	}
	return 1;
}

static int by_name(const void *a, const void *b)
{
	const struct mkinitrd_input *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int mkinitrd_build(const struct mkinitrd_input *in, size_t n, uint32_t align, void **out,
		   size_t *out_len, const char **why, size_t *bad_index)
{
	const struct mkinitrd_input **sorted;
	uint64_t table_off = sizeof(struct vessel_initrd_header), pos, total;
	uint8_t *img;
	uint32_t crc;

	*why = "ok";
	if (align < VESSEL_INITRD_ALIGN || (align & (align - 1))) {
		*why = "alignment must be a power of two >= 8";
		return -EINVAL;
	}
	if (n > VESSEL_INITRD_MAX_ENTRIES) {
		*why = "too many files (at most 1024)";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		*bad_index = i;
		if (!mkinitrd_name_valid(in[i].name)) {
			*why = "bad file name (1..55 characters from [A-Za-z0-9._+-], not . or ..)";
			return -EINVAL;
		}
		if (in[i].flags & ~VESSEL_INITRD_F_ALL) {
			*why = "unknown flags";
			return -EINVAL;
		}
	}
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &in[i];
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(sorted[i - 1]->name, sorted[i]->name)) {
			*bad_index = (size_t)(sorted[i] - in);
			*why = "duplicate file name";
			free(sorted);
			return -EEXIST;
		}
	}

	pos = align_up(table_off + n * sizeof(struct vessel_initrd_entry), align);
	total = pos;
	for (size_t i = 0; i < n; i++)
		total = align_up(total + sorted[i]->size, align);
	img = calloc(1, total);
	if (!img) {
		free(sorted);
		return -ENOMEM;
	}

	for (size_t i = 0; i < n; i++) {
		uint8_t *e = img + table_off + i * sizeof(struct vessel_initrd_entry);

		memcpy(e, sorted[i]->name, strlen(sorted[i]->name));
		put64(e + 56, pos);
		put64(e + 64, sorted[i]->size);
		put32(e + 72, sorted[i]->flags);
		put32(e + 76, initrd_crc32(0, sorted[i]->data, sorted[i]->size));
		if (sorted[i]->size)
			memcpy(img + pos, sorted[i]->data, sorted[i]->size);
		pos = align_up(pos + sorted[i]->size, align);
	}
	put64(img, VESSEL_INITRD_MAGIC);
	put32(img + 8, VESSEL_INITRD_VERSION);
	put32(img + 12, sizeof(struct vessel_initrd_header));
	put32(img + 16, sizeof(struct vessel_initrd_entry));
	put32(img + 20, (uint32_t)n);
	put64(img + 24, table_off);
	put64(img + 32, total);
	crc = initrd_crc32(0, img, 60);
	crc = initrd_crc32(crc, img + table_off, n * sizeof(struct vessel_initrd_entry));
	put32(img + 60, crc);

	free(sorted);
	*out = img;
	*out_len = total;
	return 0;
}
