// SPDX-License-Identifier: MIT
/*
 * Initrd reader: validates the whole table once in initrd_open(), so the
 * lookups afterwards only index into checked memory. Every length sum is
 * checked for overflow before use; the image is read byte-wise (no
 * alignment assumption, no strict-aliasing games).
 */
#include "lib/initrd.h"
#include "abi/syscalls.h" /* errno values */

#define HDR_CRC_OFF 60u
#define HDR_SIZE    64u
#define ENT_SIZE    80u
#define ENT_OFFSET  56u
#define ENT_SIZEF   64u
#define ENT_FLAGS   72u
#define ENT_CRC	    76u

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Half-byte table of the reflected IEEE polynomial 0xedb88320. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t initrd_crc32(uint32_t crc, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (len--) {
		crc ^= *b++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

static int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

static int name_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '+';
}

/* 0 if the 56-byte name field is well-formed; sets *len. */
static int name_ok(const uint8_t *n, uint32_t *len)
{
	uint32_t i = 0;

	while (i < VESSEL_INITRD_NAME_MAX && n[i])
		i++;
	if (i == 0 || i == VESSEL_INITRD_NAME_MAX)
		return -1;
	for (uint32_t j = 0; j < i; j++)
		if (!name_char_ok(n[j]))
			return -1;
	for (uint32_t j = i; j < VESSEL_INITRD_NAME_MAX; j++)
		if (n[j])
			return -1;
	if ((i == 1 && n[0] == '.') || (i == 2 && n[0] == '.' && n[1] == '.'))
		return -1;
	*len = i;
	return 0;
}

/* Byte-wise comparison of two NUL-terminated names of at most NAME_MAX. */
static int name_cmp(const uint8_t *a, const uint8_t *b, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
		if (!a[i])
			return 0;
	}
	return 0;
}

/*
 * The messages are static strings (the kernel prints them without a
 * formatter here); they name the rule that broke.
 */
int initrd_open(struct initrd *rd, const void *base, uint64_t len, const char **why)
{
	const uint8_t *b = base;
	uint64_t table_off, table_len, image_size, prev_end;
	uint32_t count, crc;

	if (!b || len < HDR_SIZE)
		return fail(why, "image smaller than the 64-byte header", -ERANGE);
	if (rd64(b) != VESSEL_INITRD_MAGIC)
		return fail(why, "bad magic (not a Vessel initrd)", -EINVAL);
	if (rd32(b + 8) != VESSEL_INITRD_VERSION)
		return fail(why, "unsupported version", -EINVAL);
	if (rd32(b + 12) != HDR_SIZE)
		return fail(why, "header_size is not 64", -EINVAL);
	if (rd32(b + 16) != ENT_SIZE)
		return fail(why, "entry_size is not 80", -EINVAL);
	count = rd32(b + 20);
	if (count > VESSEL_INITRD_MAX_ENTRIES)
		return fail(why, "entry_count above the maximum (1024)", -EINVAL);
	table_off = rd64(b + 24);
	image_size = rd64(b + 32);
	if (rd64(b + 40) != 0)
		return fail(why, "unknown header flags", -EINVAL);
	for (uint32_t i = 48; i < HDR_CRC_OFF; i++)
		if (b[i])
			return fail(why, "reserved header bytes not zero", -EINVAL);
	if (image_size > len)
		return fail(why, "image_size larger than the data given", -ERANGE);
	if (table_off < HDR_SIZE || table_off % VESSEL_INITRD_ALIGN)
		return fail(why, "table_offset inside the header or misaligned", -EINVAL);
	table_len = (uint64_t)count * ENT_SIZE;
	if (table_off > image_size || table_len > image_size - table_off)
		return fail(why, "entry table past end of image", -EINVAL);

	crc = initrd_crc32(0, b, HDR_CRC_OFF);
	crc = initrd_crc32(crc, b + table_off, table_len);
	if (crc != rd32(b + HDR_CRC_OFF))
		return fail(why, "header CRC mismatch (corrupt header or table)", -EIO);

	prev_end = table_off + table_len;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = b + table_off + (uint64_t)i * ENT_SIZE;
		uint64_t off = rd64(e + ENT_OFFSET), size = rd64(e + ENT_SIZEF);
		uint32_t nlen;

		if (name_ok(e, &nlen))
			return fail(why,
				    "entry name empty, unterminated, not NUL-padded, "
				    "or with a character outside [A-Za-z0-9._+-]",
				    -EINVAL);
		if (i > 0 && name_cmp(e - ENT_SIZE, e, VESSEL_INITRD_NAME_MAX) >= 0)
			return fail(why, "entry names not strictly ascending (duplicate?)",
				    -EINVAL);
		if (rd32(e + ENT_FLAGS) & ~VESSEL_INITRD_F_ALL)
			return fail(why, "entry has unknown flags", -EINVAL);
		if (off % VESSEL_INITRD_ALIGN)
			return fail(why, "entry data offset misaligned", -EINVAL);
		if (off < prev_end)
			return fail(why, "entry data overlaps the table or the previous file",
				    -EINVAL);
		if (off > image_size || size > image_size - off)
			return fail(why, "entry data past end of image", -EINVAL);
		prev_end = off + size;
	}

	rd->base = b;
	rd->size = image_size;
	rd->table_offset = table_off;
	rd->count = count;
	if (why)
		*why = "ok";
	return 0;
}

uint32_t initrd_count(const struct initrd *rd)
{
	return rd->count;
}

int initrd_entry(const struct initrd *rd, uint32_t index, struct initrd_file *f)
{
	const uint8_t *e;

	if (index >= rd->count)
		return -ENOENT;
	e = rd->base + rd->table_offset + (uint64_t)index * ENT_SIZE;
	f->name = (const char *)e;
	f->data = rd->base + rd64(e + ENT_OFFSET);
	f->size = rd64(e + ENT_SIZEF);
	f->flags = rd32(e + ENT_FLAGS);
	f->index = index;
	return 0;
}

int initrd_find(const struct initrd *rd, const char *name, size_t name_max, struct initrd_file *f)
{
	const uint8_t *n = (const uint8_t *)name;
	size_t len = 0;
	uint32_t lo = 0, hi = rd->count;

	if (name_max && n[0] == '/') {
		n++;
		name_max--;
	}
	while (len < name_max && n[len])
		len++;
	if (len == name_max)
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT;
	if (len >= VESSEL_INITRD_NAME_MAX)
		return -ENAMETOOLONG;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = rd->base + rd->table_offset + (uint64_t)mid * ENT_SIZE;
		int c = name_cmp(n, e, len + 1);

		if (c == 0)
			return initrd_entry(rd, mid, f);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

int initrd_verify(const struct initrd *rd, uint32_t index)
{
	struct initrd_file f;
	const uint8_t *e;

	if (initrd_entry(rd, index, &f))
		return -ENOENT;
	e = rd->base + rd->table_offset + (uint64_t)index * ENT_SIZE;
	return initrd_crc32(0, f.data, f.size) == rd32(e + ENT_CRC) ? 0 : -EIO;
}
