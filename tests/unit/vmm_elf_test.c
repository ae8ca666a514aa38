// SPDX-License-Identifier: MIT
/* Unit tests: the ELF64 kernel loader accepts good images, rejects bad ones untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/elf.h"
#include "core/guest_mem.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define MEM   (8ull << 20)
#define MIN   0x100000ull
#define MAX   0x100000000ull /* what the boot page tables map */
#define PADDR 0x200000ull

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	uint8_t code[64];
};

static struct gmem mem;

static int setup(void **state)
{
	if (gmem_create(&mem, MEM))
		return -1;
	memset(mem.base, 0xaa, MEM);
	return 0;
}

static int teardown(void **state)
{
	gmem_destroy(&mem);
	return 0;
}

/* A valid image: one R+X segment at PADDR, 64 bytes of file data, 8 KiB in memory. */
static void make(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = PADDR + 4;
	im->eh.e_phoff = offsetof(struct image, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 1;
	im->ph[0] = (Elf64_Phdr){
		.p_type = PT_LOAD,
		.p_flags = PF_R | PF_X,
		.p_offset = offsetof(struct image, code),
		.p_vaddr = 0xffffffff80200000ull,
		.p_paddr = PADDR,
		.p_filesz = sizeof(im->code),
		.p_memsz = 0x2000,
		.p_align = 0x1000,
	};
	for (unsigned i = 0; i < sizeof(im->code); i++)
		im->code[i] = (uint8_t)(i + 1);
}

static void test_valid_load(void **state)
{
	struct image im;
	struct elf_image out;
	char err[256];
	const uint8_t *p = gmem_ptr(&mem, PADDR, 0x2000);

	make(&im);
	assert_int_equal(elf_load(&mem, &im, sizeof(im), MIN, MAX, &out, err, sizeof(err)), 0);
	assert_int_equal(out.entry, PADDR + 4);
	assert_int_equal(out.lo, PADDR);
	assert_int_equal(out.hi, PADDR + 0x2000);
	assert_int_equal(out.nr_load, 1);
	assert_memory_equal(p, im.code, sizeof(im.code));
	for (unsigned i = sizeof(im.code); i < 0x2000; i++)
		assert_int_equal(p[i], 0); /* bss zeroed */
	assert_int_equal(p[0x2000], 0xaa); /* nothing written past p_memsz */
	memset(mem.base, 0xaa, MEM);
}

/*
 * RAM above 4 GiB exists (a VM with more than 3 GiB), but the boot page
 * tables map only [0, 4 GiB): a kernel loaded there would triple-fault at
 * its first instruction, so the loader refuses it with a reason.
 */
static void test_above_boot_map(void **state)
{
	struct gmem big;
	struct image im;
	char err[256] = "";

	assert_int_equal(gmem_create(&big, GMEM_LOW_LIMIT + (8ull << 20)), 0);
	make(&im);
	im.ph[0].p_paddr = GMEM_HIGH_BASE + 0x100000;
	im.eh.e_entry = im.ph[0].p_paddr + 4;
	assert_int_equal(elf_load(&big, &im, sizeof(im), MIN, MAX, NULL, err, sizeof(err)),
			 -ERANGE);
	assert_non_null(strstr(err, "boot page tables do not map"));
	/* the same image is fine where the loader's limit allows it */
	assert_int_equal(elf_load(&big, &im, sizeof(im), MIN, UINT64_MAX, NULL, err, sizeof(err)),
			 0);
	gmem_destroy(&big);
}

/* Apply `mutate` to a valid image; loading must fail with `code` and `needle`, memory untouched. */
static void reject(void (*mutate)(struct image *), size_t size, int code, const char *needle)
{
	struct image im;
	char err[256] = "";
	const uint8_t *p = gmem_ptr(&mem, PADDR, 16);

	make(&im);
	if (mutate)
		mutate(&im);
	assert_int_equal(elf_load(&mem, &im, size ? size : sizeof(im), MIN, MAX, NULL, err, sizeof(err)),
			 code);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	assert_int_equal(p[0], 0xaa);
}

static void m_magic(struct image *im)
{
	im->eh.e_ident[1] = 'X';
}
static void m_class(struct image *im)
{
	im->eh.e_ident[EI_CLASS] = ELFCLASS32;
}
static void m_endian(struct image *im)
{
	im->eh.e_ident[EI_DATA] = ELFDATA2MSB;
}
static void m_version(struct image *im)
{
	im->eh.e_version = 7;
}
static void m_type(struct image *im)
{
	im->eh.e_type = ET_DYN;
}
static void m_machine(struct image *im)
{
	im->eh.e_machine = EM_386;
}
static void m_phentsize(struct image *im)
{
	im->eh.e_phentsize = 32;
}
static void m_phnum0(struct image *im)
{
	im->eh.e_phnum = 0;
}
static void m_phnum_big(struct image *im)
{
	im->eh.e_phnum = 1000;
}
static void m_phoff_past(struct image *im)
{
	im->eh.e_phoff = sizeof(*im) - 8;
}
static void m_phoff_wrap(struct image *im)
{
	im->eh.e_phoff = UINT64_MAX - 8;
}
static void m_filesz(struct image *im)
{
	im->ph[0].p_filesz = im->ph[0].p_memsz + 1;
}
static void m_offset_past(struct image *im)
{
	im->ph[0].p_offset = sizeof(*im) - 8;
}
static void m_offset_wrap(struct image *im)
{
	im->ph[0].p_offset = UINT64_MAX - 4;
}
static void m_paddr_wrap(struct image *im)
{
	im->ph[0].p_paddr = UINT64_MAX - 0x100;
	im->eh.e_entry = UINT64_MAX - 0x80;
}
static void m_paddr_low(struct image *im)
{
	im->ph[0].p_paddr = 0x7000;
	im->eh.e_entry = 0x7004;
}
static void m_past_ram(struct image *im)
{
	im->ph[0].p_paddr = MEM - 0x1000;
	im->eh.e_entry = MEM - 0x1000;
}
static void m_huge_memsz(struct image *im)
{
	im->ph[0].p_memsz = 1ull << 40;
}
static void m_overlap(struct image *im)
{
	im->eh.e_phnum = 2;
	im->ph[1] = im->ph[0];
	im->ph[1].p_paddr = PADDR + 0x1000;
}
static void m_no_load(struct image *im)
{
	im->ph[0].p_type = PT_NOTE;
}
static void m_entry_outside(struct image *im)
{
	im->eh.e_entry = 0xffffffff80200004ull; /* a virtual address: a common mistake */
}
static void m_entry_noexec(struct image *im)
{
	im->ph[0].p_flags = PF_R | PF_W;
}

static void test_rejects(void **state)
{
	reject(NULL, 10, -ENOEXEC, "too small");
	reject(m_magic, 0, -ENOEXEC, "bad magic");
	reject(m_class, 0, -ENOEXEC, "not a 64-bit ELF");
	reject(m_endian, 0, -ENOEXEC, "little-endian");
	reject(m_version, 0, -ENOEXEC, "version");
	reject(m_type, 0, -ENOEXEC, "need ET_EXEC");
	reject(m_machine, 0, -ENOEXEC, "not an x86-64 ELF");
	reject(m_phentsize, 0, -ENOEXEC, "program header size");
	reject(m_phnum0, 0, -ENOEXEC, "program header count 0");
	reject(m_phnum_big, 0, -ENOEXEC, "program header count 1000");
	reject(m_phoff_past, 0, -ENOEXEC, "beyond the end of the file");
	reject(m_phoff_wrap, 0, -ENOEXEC, "beyond the end of the file");
	reject(m_filesz, 0, -ENOEXEC, "p_filesz");
	reject(m_offset_past, 0, -ENOEXEC, "beyond the end of the file");
	reject(m_offset_wrap, 0, -ENOEXEC, "beyond the end of the file");
	reject(m_paddr_wrap, 0, -ENOEXEC, "wraps around");
	reject(m_paddr_low, 0, -ERANGE, "reserved for the VMM");
	reject(m_past_ram, 0, -ERANGE, "does not fit in guest RAM (8 MiB)");
	reject(m_huge_memsz, 0, -ERANGE, "does not fit in guest RAM");
	reject(m_overlap, 0, -ENOEXEC, "segments 0 and 1 overlap");
	reject(m_no_load, 0, -ENOEXEC, "no loadable");
	reject(m_entry_outside, 0, -ENOEXEC, "must be a physical address");
	reject(m_entry_noexec, 0, -ENOEXEC, "not inside an executable");
}

static void test_two_segments(void **state)
{
	struct image im;
	struct elf_image out;
	char err[256];

	make(&im);
	im.eh.e_phnum = 3;
	im.ph[1] = im.ph[0];
	im.ph[1].p_flags = PF_R | PF_W;
	im.ph[1].p_paddr = PADDR + 0x4000;
	im.ph[1].p_filesz = 0; /* pure bss */
	im.ph[2] = (Elf64_Phdr){ .p_type = PT_GNU_STACK };
	assert_int_equal(elf_load(&mem, &im, sizeof(im), MIN, MAX, &out, err, sizeof(err)), 0);
	assert_int_equal(out.nr_load, 2);
	assert_int_equal(out.hi, PADDR + 0x6000);
	assert_int_equal(*(uint8_t *)gmem_ptr(&mem, PADDR + 0x4000, 1), 0);
	memset(mem.base, 0xaa, MEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_load),
		cmocka_unit_test(test_above_boot_map),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_two_segments),
	};

	return cmocka_run_group_tests_name("vmm_elf", tests, setup, teardown);
}
