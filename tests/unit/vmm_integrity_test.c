// SPDX-License-Identifier: MIT
/*
 * Unit tests of code integrity (vmm/domain/integrity.c, core/memslots.c):
 * the read-only segments taken from a kernel ELF, the patch hypercall's
 * checks through the real dispatch path (synthetic port exits on a VM from
 * vm_new(): real guest memory, no KVM), the exit hook on a synthetic MMIO
 * write, the instruction-form checker on its own, the memslot cut and the
 * migration blob (save, restore, refusals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/memslots.h"
#include "domain/integrity.h"
#include "vmm_hctest.h"
/* the TCB's own check, built for the host to compare with the VMM's */
#include "tcb/tcb_check.c"

#include <elf.h>
#include <errno.h>
#include <stdio.h>

#define MEM    (16ull << 20)
#define VMA    0xffffffff80000000ull
#define TEXT   0x100000ull /* gpa of the text segment (one page) */
#define RODATA 0x101000ull /* gpa of the rodata segment (one page): the site table */
#define DATA   0x102000ull /* writable segment: not protected */
#define ARG    0x200000ull
#define SITE   (VMA + TEXT + 0x100) /* registered: 16 bytes */
#define SITE2  (VMA + TEXT + 0x200) /* registered: 8 bytes */

/* A kernel ELF with text (R-X), rodata (R--) and data (RW-) segments. */
static size_t make_elf(uint8_t *buf)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	const struct {
		uint64_t gpa;
		uint32_t flags;
	} seg[3] = { { TEXT, PF_R | PF_X }, { RODATA, PF_R }, { DATA, PF_R | PF_W } };

	memset(buf, 0, 4096);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 3;
	for (int i = 0; i < 3; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD,
				      .p_flags = seg[i].flags,
				      .p_vaddr = VMA + seg[i].gpa,
				      .p_paddr = seg[i].gpa,
				      .p_memsz = 4096,
				      .p_filesz = 4096 };
	return 4096;
}

static int setup_mode(void **state, enum integrity_mode mode)
{
	struct hctest *c = calloc(1, sizeof(*c));
	static uint8_t elf[4096];
	struct vessel_patch_site *sites;

	if (!c || hctest_new(c, 1, MEM) || integrity_attach(c->vm, elf, make_elf(elf), mode))
		return -1;
	sites = gmem_ptr(&c->vm->mem, RODATA, 2 * sizeof(*sites));
	sites[0] = (struct vessel_patch_site){ SITE, 16 };
	sites[1] = (struct vessel_patch_site){ SITE2, 8 };
	memset(gmem_ptr(&c->vm->mem, TEXT, 4096), 0x90, 4096); /* nops */
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_mode(state, INTEGRITY_ON);
}

static int setup_report(void **state)
{
	return setup_mode(state, INTEGRITY_REPORT);
}

static int teardown(void **state)
{
	hctest_free(*state);
	free(*state);
	return 0;
}

static int64_t hc(struct hctest *c, uint32_t op, uint64_t addr, const void *code, uint32_t len)
{
	struct vessel_hc_text_patch *a = hctest_mem(c, ARG, sizeof(*a));
	struct exit_result res = { 0 };

	memset(a, 0, sizeof(*a));
	a->op = op;
	a->addr = addr;
	a->len = len;
	if (code)
		memcpy(a->code, code, len < VESSEL_PATCH_MAX ? len : VESSEL_PATCH_MAX);
	hctest_call(c, 0, VESSEL_HC_TEXT_PATCH, ARG, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	return a->ret;
}

static void test_segments_protected(void **state)
{
	struct hctest *c = *state;

	assert_int_equal(c->vm->nr_ro, 2);
	assert_int_equal(c->vm->ro[0].gpa, TEXT);
	assert_int_equal(c->vm->ro[1].gpa, RODATA);
	assert_true(c->vm->boot_flags & VESSEL_BOOT_F_INTEGRITY);
	/* a range overlapping one already protected, unaligned, outside RAM */
	assert_int_equal(vm_mem_protect(c->vm, TEXT, 4096), -EINVAL);
	assert_int_equal(vm_mem_protect(c->vm, DATA + 1, 4096), -EINVAL);
	assert_int_equal(vm_mem_protect(c->vm, MEM, 4096), -EINVAL);
}

static void test_patch(void **state)
{
	struct hctest *c = *state;
	/* cmp $5,%esi; je SITE2; jmp SITE2 (into text) */
	uint8_t code[16] = { 0x81, 0xfe, 5, 0, 0, 0, 0x0f, 0x84 };
	int32_t rel = (int32_t)(SITE2 - (SITE + 12));
	uint8_t *text = hctest_mem(c, TEXT, 4096);
	struct integrity_counts ic;

	memcpy(code + 8, &rel, 4);
	code[12] = 0xcc; /* int3 filler */
	code[13] = 0xc3; /* ret */
	code[14] = 0x90;
	code[15] = 0xcc;
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, code, 16), -EPERM); /* no sites yet */
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), 0);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), -EBUSY);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, code, 16), 0);
	assert_memory_equal(text + 0x100, code, 16);
	integrity_counts(c->vm, &ic);
	assert_int_equal(ic.sites, 2);
	assert_int_equal(ic.patches, 1);
	assert_int_equal(ic.patch_refused, 1);
}

static void test_patch_refusals(void **state)
{
	struct hctest *c = *state;
	static const uint8_t wrmsr[] = { 0x0f, 0x30 }, store[] = { 0x89, 0x07 },
			     movcr[] = { 0x0f, 0x22, 0xc0 }, cut[] = { 0xb8, 1, 0 },
			     call[] = { 0xe8, 0, 0, 0, 0 }, ok[] = { 0xb8, 1, 0, 0, 0, 0xc3 };
	uint8_t jmp_out[5] = { 0xe9, 0, 0, 0, 0x10 }; /* +256 MiB: outside text */
	uint8_t *text = hctest_mem(c, TEXT, 4096);
	uint8_t big[VESSEL_PATCH_MAX + 1] = { 0 };

	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), 0);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, wrmsr, 2), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, store, 2), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, movcr, 3), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, cut, 3), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, call, 5), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, jmp_out, 5), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE + 12, ok, 6), -EPERM); /* past end */
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE - 1, ok, 6), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, VMA + TEXT, ok, 6), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, VMA + RODATA, ok, 6), -EPERM);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, ok, 0), -EINVAL);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_PATCH, SITE, big, sizeof(big)), -EINVAL);
	assert_int_equal(hc(c, 99, SITE, ok, 6), -EINVAL);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(text[i], 0x90); /* nothing written */
}

static void test_register_refusals(void **state)
{
	struct hctest *c = *state;
	struct vessel_patch_site *sites = hctest_mem(c, RODATA, 2 * sizeof(*sites));

	/* the table must be in read-only memory; sites in text; a sane count */
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + DATA, NULL, 1), -EINVAL);
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 0), -EINVAL);
	assert_int_equal(
		hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, VESSEL_PATCH_SITES_MAX + 1),
		-EINVAL);
	sites[1] = (struct vessel_patch_site){ VMA + RODATA, 8 }; /* not text */
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), -EINVAL);
	sites[1] = (struct vessel_patch_site){ VMA + TEXT + 4090, 8 }; /* crosses the end */
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), -EINVAL);
	sites[1] = (struct vessel_patch_site){ SITE2, 8 };
	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), 0);
}

/* A guest write to protected memory: the VM stops (on) or goes on (report). */
static int64_t mmio_write(struct hctest *c, uint64_t gpa, struct exit_result *res)
{
	memset(c->run, 0, sizeof(*c->run));
	memset(res, 0, sizeof(*res));
	c->run->exit_reason = KVM_EXIT_MMIO;
	c->run->mmio.phys_addr = gpa;
	c->run->mmio.len = 4;
	c->run->mmio.is_write = 1;
	return vm_hooks_exit(c->vm->vcpus[0], c->run, res);
}

static void test_write_stops(void **state)
{
	struct hctest *c = *state;
	struct exit_result res;
	struct integrity_counts ic;

	assert_true(mmio_write(c, TEXT + 0x10, &res));
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "guest write of 4 bytes to kernel text at gpa 0x100010 "
					"(va 0xffffffff80100010) refused"));
	assert_true(mmio_write(c, RODATA, &res));
	assert_non_null(strstr(res.msg, "kernel rodata"));
	assert_false(mmio_write(c, DATA, &res)); /* not ours: the core's MMIO path */
	integrity_counts(c->vm, &ic);
	assert_int_equal(ic.writes_refused, 2);
}

static void test_write_report(void **state)
{
	struct hctest *c = *state;
	struct exit_result res;

	assert_true(mmio_write(c, TEXT + 0x10, &res));
	assert_int_equal(res.action, EXIT_CONTINUE);
}

/* A hidden range (a secure domain's memory): no device or hypercall reaches it. */
static void test_hidden_range(void **state)
{
	struct hctest *c = *state;
	uint8_t b[16] = { 0 };
	struct exit_result res = { 0 };

	assert_int_equal(vm_mem_hide(c->vm, 0x300000, 0x2000), 0);
	assert_int_equal(gmem_read(&c->vm->mem, 0x300000, b, 1), -EFAULT);
	assert_int_equal(gmem_write(&c->vm->mem, 0x301fff, b, 1), -EFAULT);
	assert_int_equal(gmem_read(&c->vm->mem, 0x2ffff8, b, 16), -EFAULT); /* straddles */
	assert_int_equal(gmem_read(&c->vm->mem, 0x2ffff0, b, 16), 0);
	assert_int_equal(gmem_write(&c->vm->mem, 0x302000, b, 16), 0);
	/* a hypercall argument there stops the VM instead of reading it */
	hctest_call(c, 0, VESSEL_HC_TEXT_PATCH, 0x300000, &res);
	assert_int_equal(res.action, EXIT_FAULT);
}

/* The memslot cut: RAM, text (read-only), rodata (read-only), a hidden
 * range (no memslot), the rest; slots numbered in order, hidden ones -1. */
static void test_memslots_layout(void **state)
{
	struct hctest *c = *state;
	struct vm_slot_span sp[VM_MAX_SPANS];
	unsigned n;

	assert_int_equal(vm_mem_hide(c->vm, 0x300000, 0x2000), 0);
	n = vm_memslots_layout(c->vm, sp);
	assert_int_equal(n, 6);
	assert_int_equal(sp[0].gpa, 0);
	assert_int_equal(sp[0].size, TEXT);
	assert_int_equal(sp[0].slot, 0);
	assert_false(sp[0].readonly);
	assert_int_equal(sp[1].gpa, TEXT);
	assert_int_equal(sp[1].slot, 1);
	assert_true(sp[1].readonly);
	assert_int_equal(sp[2].gpa, RODATA);
	assert_int_equal(sp[2].slot, 2);
	assert_int_equal(sp[3].gpa, RODATA + 4096);
	assert_int_equal(sp[3].size, 0x300000 - (RODATA + 4096));
	assert_int_equal(sp[3].slot, 3);
	assert_int_equal(sp[4].gpa, 0x300000);
	assert_int_equal(sp[4].slot, -1);
	assert_true(sp[4].readonly);
	assert_int_equal(sp[5].gpa, 0x302000);
	assert_int_equal(sp[5].size, MEM - 0x302000);
	assert_int_equal(sp[5].slot, 4);
}

/* The migration blob: restored into a VM with the same kernel and mode (the
 * patch sites come along), refused by one with another mode, without
 * integrity, or when malformed. */
static void test_state_roundtrip(void **state)
{
	struct hctest *c = *state, d;
	static uint8_t elf[4096];
	char err[256];
	void *blob, *none;
	size_t len, nlen;
	struct integrity_counts ic;

	assert_int_equal(hc(c, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), 0);
	assert_int_equal(integrity_save(c->vm, &blob, &len), 0);
	assert_non_null(blob);
	/* same kernel, same mode: the sites arrive, a second REGISTER is refused */
	assert_int_equal(hctest_new(&d, 1, MEM), 0);
	assert_int_equal(integrity_attach(d.vm, elf, make_elf(elf), INTEGRITY_ON), 0);
	assert_int_equal(integrity_restore(d.vm, blob, len, err, sizeof(err)), 0);
	integrity_counts(d.vm, &ic);
	assert_int_equal(ic.sites, 2);
	memcpy(gmem_ptr(&d.vm->mem, RODATA, 4096), gmem_ptr(&c->vm->mem, RODATA, 4096), 4096);
	assert_int_equal(hc(&d, VESSEL_TEXT_PATCH_REGISTER, VMA + RODATA, NULL, 2), -EBUSY);
	assert_int_equal(integrity_restore(d.vm, blob, len - 1, err, sizeof(err)), -EPROTO);
	hctest_free(&d);
	/* another mode */
	assert_int_equal(hctest_new(&d, 1, MEM), 0);
	assert_int_equal(integrity_attach(d.vm, elf, make_elf(elf), INTEGRITY_REPORT), 0);
	assert_int_equal(integrity_restore(d.vm, blob, len, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "--integrity=on, this destination with --integrity=report"));
	hctest_free(&d);
	/* no integrity here */
	assert_int_equal(hctest_new(&d, 1, MEM), 0);
	assert_false(integrity_attached(d.vm));
	assert_int_equal(integrity_restore(d.vm, blob, len, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "this destination has integrity off"));
	assert_int_equal(integrity_save(d.vm, &none, &nlen), 0); /* nothing to send */
	assert_null(none);
	hctest_free(&d);
	free(blob);
}

/*
 * The TCB's form check (guest/tcb/tcb_check.c) against the VMM's decoder
 * check: the forms the kernel writes pass both; refused forms fail the TCB's
 * own; and on random and mutated code the TCB never accepts what the VMM
 * refuses (it is the stricter of the two).
 */
static void test_tcb_check(void **state)
{
	const uint64_t lo = 0xffffffff80100000ull, hi = 0xffffffff80200000ull;
	const uint64_t at = 0xffffffff80150000ull;
	static const uint8_t jsw[] = { 0x81, 0xfe, 0x27, 0,    0,    0,	   0x0f, 0x84,
				       0x00, 0x10, 0,	 0,    0x48, 0x81, 0xf9, 0x10,
				       0,    0,	   0,	 0x0f, 0x84, 0,	   0,	 0,
				       0,    0xe9, 0x00, 0xf0, 0xff, 0xff, 0xcc, 0xcc };
	static const uint8_t ret2[] = { 0xb8, 0x02, 0, 0, 0, 0xc3 };
	static const uint8_t regs[] = { 0x48, 0x89, 0xc8, 0x39, 0xc1, 0x85, 0xc0, 0x3d, 1,    0,
					0,    0,    0x74, 0x02, 0xeb, 0x00, 0x90, 0x48, 0xbb, 1,
					2,    3,    4,	  5,	6,    7,    8,	  0xc3 };
	static const struct {
		uint8_t b[8];
		unsigned n;
		const char *what;
	} bad[] = {
		{ { 0x0f, 0x30 }, 2, "wrmsr" },
		{ { 0x89, 0x00, 0xc3 }, 3, "store" },
		{ { 0xb8, 0x02, 0x00 }, 3, "cut mov" },
		{ { 0xfa, 0xc3 }, 2, "cli" },
		{ { 0xe8, 0, 0, 0, 0 }, 5, "call" },
		{ { 0x81, 0x3e, 1, 0, 0, 0 }, 6, "cmp with memory" },
		{ { 0x81, 0xc0, 1, 0, 0, 0 }, 6, "add" },
		{ { 0x48, 0xe9, 0, 0, 0, 0 }, 6, "REX on a branch" },
		{ { 0x0f, 0x22, 0xd8 }, 3, "mov cr3" },
		{ { 0x0f, 0x84, 0, 0 }, 4, "cut jcc" },
	};
	uint8_t jmp_out[5] = { 0xe9 };
	uint8_t buf[24];
	char why[200];
	uint32_t seed = 12345;
	unsigned accepted = 0;

	(void)state;
	assert_int_equal(tcb_code_allowed(jsw, sizeof(jsw), at, lo, hi), 1);
	assert_int_equal(integrity_check_code(jsw, sizeof(jsw), at, lo, hi, why, sizeof(why)), 0);
	assert_int_equal(tcb_code_allowed(ret2, sizeof(ret2), at, lo, hi), 1);
	assert_int_equal(tcb_code_allowed(regs, sizeof(regs), at, lo, hi), 1);
	assert_int_equal(integrity_check_code(regs, sizeof(regs), at, lo, hi, why, sizeof(why)), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tcb_code_allowed(bad[i].b, bad[i].n, at, lo, hi))
			fail_msg("the TCB allows %s", bad[i].what);
	/* a jump to user space, and one just past text */
	memcpy(jmp_out + 1, &(int32_t){ (int32_t)(0x400000 - (int64_t)(at + 5)) }, 4);
	assert_int_equal(tcb_code_allowed(jmp_out, 5, at, lo, hi), 0);
	memcpy(jmp_out + 1, &(int32_t){ (int32_t)(hi - (at + 5)) }, 4);
	assert_int_equal(tcb_code_allowed(jmp_out, 5, at, lo, hi), 0);
	memcpy(jmp_out + 1, &(int32_t){ (int32_t)(hi - 1 - (at + 5)) }, 4);
	assert_int_equal(tcb_code_allowed(jmp_out, 5, at, lo, hi), 1);
	/* the TCB is the stricter: random bytes and mutations of good code */
	for (unsigned round = 0; round < 200000; round++) {
		unsigned n = 1 + round % sizeof(buf);

		if (round % 2) {
			memcpy(buf, round % 4 == 1 ? jsw : regs, sizeof(buf));
			for (unsigned k = 0; k < 1 + round % 3; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[(seed >> 8) % n] = (uint8_t)(seed >> 16);
			}
		} else {
			for (unsigned k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[k] = (uint8_t)(seed >> 16);
			}
		}
		if (tcb_code_allowed(buf, n, at, lo, hi)) {
			accepted++;
			if (integrity_check_code(buf, n, at, lo, hi, why, sizeof(why)))
				fail_msg("round %u: the TCB allows what the VMM refuses: %s", round,
					 why);
		}
	}
	assert_true(accepted > 1000); /* the comparison was not vacuous */
}

static void test_modes(void **state)
{
	enum integrity_mode m;
	struct hctest c;
	uint8_t elf[4096];

	(void)state;
	assert_int_equal(integrity_parse_mode("on", &m), 0);
	assert_int_equal(m, INTEGRITY_ON);
	assert_int_equal(integrity_parse_mode("report", &m), 0);
	assert_int_equal(m, INTEGRITY_REPORT);
	assert_int_equal(integrity_parse_mode("off", &m), 0);
	assert_int_equal(m, INTEGRITY_OFF);
	assert_int_equal(integrity_parse_mode("On", &m), -EINVAL);
	/* off attaches nothing: the hypercall answers -ENODEV */
	assert_int_equal(hctest_new(&c, 1, MEM), 0);
	assert_int_equal(integrity_attach(c.vm, elf, make_elf(elf), INTEGRITY_OFF), 0);
	assert_int_equal(c.vm->nr_ro, 0);
	assert_int_equal(hc(&c, VESSEL_TEXT_PATCH_PATCH, SITE, "\xc3", 1), -ENODEV);
	hctest_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_segments_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_report, setup_report, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memslots_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_roundtrip, setup, teardown),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_tcb_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
