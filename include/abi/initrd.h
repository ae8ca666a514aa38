/* SPDX-License-Identifier: MIT */
/*
 * The Vessel initrd: a read-only archive of the user programs. Written by the
 * host tool tools/mkinitrd (build/mkinitrd), read by the kernel through
 * guest/lib/initrd.c, which validates all of it before trusting anything: the
 * image comes from a file the VMM was given, so it is untrusted input.
 *
 * All integers little-endian. Layout:
 *
 *   0            +--------------------------------------+
 *                | header (64 bytes)                    |
 *   table_offset +--------------------------------------+
 *                | entry[0] (80 bytes)                  |  sorted by name,
 *                | ...                                  |  strictly ascending
 *                | entry[entry_count - 1]               |  (byte order)
 *                +--------------------------------------+
 *                | file data, each at entry.offset      |  ascending offsets,
 *                | (mkinitrd aligns to 4 KiB; the       |  no overlap, all after
 *                | reader requires 8 bytes)             |  the table
 *   image_size   +--------------------------------------+
 *
 * Header (offsets in bytes):
 *   0  magic        VESSEL_INITRD_MAGIC ("VSLINRD1")
 *   8  version      VESSEL_INITRD_VERSION
 *   12 header_size  64
 *   16 entry_size   80
 *   20 entry_count  0 .. VESSEL_INITRD_MAX_ENTRIES
 *   24 table_offset >= header_size, multiple of 8
 *   32 image_size   total bytes; <= the bytes the reader was given
 *   40 flags        0 (reserved)
 *   48 reserved     12 zero bytes
 *   60 header_crc   CRC-32 (IEEE, as zlib) of bytes [0, 60) followed by
 *                   the whole entry table
 *
 * Entry:
 *   0  name[56]     NUL-terminated, NUL-padded; 1..55 characters from
 *                   [A-Za-z0-9._+-], not "." or ".."; no '/'
 *   56 offset       from the start of the image, multiple of 8
 *   64 size         bytes
 *   72 flags        VESSEL_INITRD_F_* (unknown bits rejected)
 *   76 data_crc     CRC-32 of the file data (checked on demand: reading
 *                   every byte at boot costs too much emulated time)
 */
#ifndef VESSEL_ABI_INITRD_H
#define VESSEL_ABI_INITRD_H

#include <stdint.h>

#define VESSEL_INITRD_MAGIC	   0x3144524e494c5356ull /* "VSLINRD1" little-endian */
#define VESSEL_INITRD_VERSION	   1u
#define VESSEL_INITRD_NAME_MAX	   56u /* with the NUL */
#define VESSEL_INITRD_MAX_ENTRIES  1024u
#define VESSEL_INITRD_ALIGN	   8u	     /* required alignment of data offsets */
#define VESSEL_INITRD_WRITER_ALIGN 4096u     /* what mkinitrd uses (page-mappable) */
#define VESSEL_INITRD_F_EXEC	   (1u << 0) /* an ELF executable (mode 0555) */
#define VESSEL_INITRD_F_ALL	   VESSEL_INITRD_F_EXEC

struct vessel_initrd_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t entry_size;
	uint32_t entry_count;
	uint64_t table_offset;
	uint64_t image_size;
	uint64_t flags;
	uint8_t reserved[12];
	uint32_t header_crc;
};

struct vessel_initrd_entry {
	char name[VESSEL_INITRD_NAME_MAX];
	uint64_t offset;
	uint64_t size;
	uint32_t flags;
	uint32_t data_crc;
};

_Static_assert(sizeof(struct vessel_initrd_header) == 64, "ABI");
_Static_assert(__builtin_offsetof(struct vessel_initrd_header, header_crc) == 60, "ABI");
_Static_assert(sizeof(struct vessel_initrd_entry) == 80, "ABI");

#endif /* VESSEL_ABI_INITRD_H */
