// SPDX-License-Identifier: MIT
/* Host unit tests of the ELF64/ELF32 validator (guest/lib/elf64.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/elf64.h"
#include "lib/errno.h"
#include "lib/string.h"

#define LO 0x400000ull
#define HI 0x100000000000ull

static uint8_t img[0x3000];

static void put(uint64_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		img[off + i] = (uint8_t)(v >> (8 * i));
}

/* Program header i at 64 + 56 i. */
static void phdr(int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t filesz, uint64_t memsz)
{
	uint64_t p = 64 + 56 * (uint64_t)i;

	put(p, type, 4);
	put(p + 4, flags, 4);
	put(p + 8, off, 8);
	put(p + 16, vaddr, 8);
	put(p + 24, vaddr, 8);
	put(p + 32, filesz, 8);
	put(p + 40, memsz, 8);
	put(p + 48, 0x1000, 8);
}

/* A valid two-segment executable: text R-X at 0x400000, data RW- at 0x401000. */
static void build(void)
{
	memset(img, 0, sizeof(img));
	img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
	img[4] = 2, img[5] = 1, img[6] = 1;
	put(16, 2, 2);	      /* ET_EXEC */
	put(18, 62, 2);	      /* x86-64 */
	put(24, 0x400010, 8); /* entry */
	put(32, 64, 8);	      /* phoff */
	put(54, 56, 2);	      /* phentsize */
	put(56, 2, 2);	      /* phnum */
	phdr(0, 1, 5, 0x1000, 0x400000, 0x100, 0x100);
	phdr(1, 1, 6, 0x2000, 0x401000, 0x10, 0x5000);
}

static int parse(struct elf64_image *im)
{
	return elf64_parse(img, sizeof(img), LO, HI, im, NULL);
}

static void test_valid(void **state)
{
	struct elf64_image im;

	(void)state;
	build();
	assert_int_equal(parse(&im), 0);
	assert_int_equal(im.nsegs, 2);
	assert_true(im.entry == 0x400010);
	assert_true(im.segs[1].vaddr == 0x401000 && im.segs[1].memsz == 0x5000);
	assert_int_equal(im.segs[0].flags, ELF64_PF_R | ELF64_PF_X);
}

static void test_bad_headers(void **state)
{
	struct elf64_image im;
	const char *why = NULL;

	(void)state;
	build(), img[1] = 'X';
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), img[4] = 1; /* ELF32 */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(16, 3, 2); /* ET_DYN */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(18, 3, 2); /* i386 */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(54, 32, 2);
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(32, sizeof(img) - 60, 8); /* headers past the end */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(32, UINT64_MAX - 8, 8); /* overflowing phoff */
	assert_int_equal(parse(&im), -ENOEXEC);
	build();
	assert_int_equal(elf64_parse(img, 63, LO, HI, &im, &why), -ENOEXEC);
	assert_non_null(why);
}

static void test_bad_segments(void **state)
{
	struct elf64_image im;

	(void)state;
	build(), phdr(1, 1, 6, 0x2000, 0x401000, 0x6000, 0x5000); /* filesz > memsz */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 6, 0x2f00, 0x401f00, 0x200, 0x200); /* data past the file */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 6, 0x2000, 0x401008, 0x10, 0x10); /* vaddr != offset mod 4K */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(0, 1, 5, 0x1000, 0x3ff000, 0x100, 0x100); /* below the image base */
	put(24, 0x3ff010, 8);
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 6, 0x2000, HI - 0x1000, 0x10, 0x2000); /* runs past HI */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 6, 0x2000, 0x401000, 0x10, UINT64_MAX - 0x100); /* overflow */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 6, 0x2000, 0x400000, 0x10, 0x10); /* shares text's page */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 3, 4, 0x2000, 0, 0x10, 0x10); /* PT_INTERP */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(24, 0x401000, 8); /* entry in the non-executable data */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), put(56, 0, 2); /* no segments */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 0, 0x2000, 0x401000, 0x10, 0x5000); /* file bytes, no access */
	assert_int_equal(parse(&im), -ENOEXEC);
	build(), phdr(1, 1, 0, 0x2000, 0x401000, 0, 0x5000); /* no access, nothing to load */
	assert_int_equal(parse(&im), 0);
	assert_int_equal(im.segs[1].flags, 0);
}

/* Program header i of the ELF32 image at 52 + 32 i. */
static void phdr32(int i, uint32_t flags, uint32_t off, uint32_t vaddr, uint32_t filesz,
		   uint32_t memsz)
{
	uint64_t p = 52 + 32 * (uint64_t)i;

	put(p, 1, 4); /* PT_LOAD */
	put(p + 4, off, 4);
	put(p + 8, vaddr, 4);
	put(p + 12, vaddr, 4);
	put(p + 16, filesz, 4);
	put(p + 20, memsz, 4);
	put(p + 24, flags, 4);
	put(p + 28, 0x1000, 4);
}

/* The same two segments as an ELF32 i386 executable. */
static void build32(void)
{
	memset(img, 0, sizeof(img));
	img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
	img[4] = 1, img[5] = 1, img[6] = 1;
	put(16, 2, 2);	      /* ET_EXEC */
	put(18, 3, 2);	      /* i386 */
	put(24, 0x400010, 4); /* entry */
	put(28, 52, 4);	      /* phoff */
	put(42, 32, 2);	      /* phentsize */
	put(44, 2, 2);	      /* phnum */
	phdr32(0, 5, 0x1000, 0x400000, 0x100, 0x100);
	phdr32(1, 6, 0x2000, 0x401000, 0x10, 0x5000);
}

static void test_elf32(void **state)
{
	struct elf64_image im;

	(void)state;
	build32();
	assert_int_equal(parse(&im), 0);
	assert_int_equal(im.compat, 1);
	assert_int_equal(im.nsegs, 2);
	assert_true(im.entry == 0x400010);
	assert_true(im.segs[1].vaddr == 0x401000 && im.segs[1].memsz == 0x5000);
	assert_true(im.segs[1].offset == 0x2000 && im.segs[1].filesz == 0x10);
	assert_int_equal(im.segs[1].flags, ELF64_PF_R | ELF64_PF_W);
	build();
	assert_int_equal(parse(&im), 0);
	assert_int_equal(im.compat, 0);
	build32(), put(18, 62, 2); /* ELF32 x86-64 (x32) */
	assert_int_equal(parse(&im), -ENOEXEC);
	build32(), put(42, 56, 2); /* ELF64 program header size */
	assert_int_equal(parse(&im), -ENOEXEC);
	build32(), phdr32(1, 6, 0x2000, 0xfffff000, 0x10, 0x2000); /* past 4 GiB */
	assert_int_equal(parse(&im), -ENOEXEC);
	build32(), phdr32(1, 6, 0x2000, 0xffffe000, 0x10, 0x2000); /* ends at 4 GiB */
	assert_int_equal(parse(&im), 0);
	build32(), put(28, sizeof(img) - 40, 4); /* headers past the end */
	assert_int_equal(parse(&im), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_segments),
		cmocka_unit_test(test_elf32),
	};

	return cmocka_run_group_tests_name("guest_elf64", tests, NULL, NULL);
}
