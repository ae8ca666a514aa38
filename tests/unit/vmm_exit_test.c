// SPDX-License-Identifier: MIT
/*
 * Unit tests: exit dispatch fed with synthetic kvm_run exits, on a VM built
 * by vm_new() (real guest memory, buses, devices; no KVM). Also the boot
 * area the VMM writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/x86/arch.h"
#include "core/exit.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#define MEM (16ull << 20)
#define ARG 0x200000ull /* where tests put hypercall argument structs */

struct ctx {
	struct vm *vm;
	struct kvm_run *run;
	char out[256];
	size_t out_len;
	char log[1024];
};

static void cap_console(void *opaque, const void *buf, size_t len)
{
	struct ctx *c = opaque;

	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
}

static void cap_log(void *opaque, const char *line)
{
	struct ctx *c = opaque;

	strncat(c->log, line, sizeof(c->log) - strlen(c->log) - 2);
	strcat(c->log, "\n");
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct vm_config cfg = {
		.cpus = 2,
		.mem_size = MEM,
		.cmdline = "selftest init=/bin/sh",
		.console_write = cap_console,
		.console_opaque = c,
		.log = cap_log,
		.log_opaque = c,
	};
	char err[256];

	if (!c || vm_new(&c->vm, &cfg, err, sizeof(err)))
		return -1;
	c->run = calloc(1, 8192);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vm_destroy(c->vm);
	free(c->run);
	free(c);
	return 0;
}

static void pio(struct ctx *c, uint16_t port, int out, uint8_t size, const void *data,
		uint32_t count, struct exit_result *res)
{
	memset(c->run, 0, sizeof(*c->run));
	c->run->exit_reason = KVM_EXIT_IO;
	c->run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	c->run->io.size = size;
	c->run->io.port = port;
	c->run->io.count = count;
	c->run->io.data_offset = 4096;
	if (data)
		memcpy((uint8_t *)c->run + 4096, data, (size_t)size * count);
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, res);
}

static void hypercall(struct ctx *c, unsigned nr, uint32_t gpa, struct exit_result *res)
{
	pio(c, (uint16_t)(VESSEL_HC_PORT_BASE + nr), 1, 4, &gpa, 1, res);
}

static void *guest(struct ctx *c, uint64_t gpa, size_t len)
{
	void *p = gmem_ptr(&c->vm->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static void test_console_out(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;

	pio(c, VESSEL_COM1_PORT, 1, 1, "h", 1, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	pio(c, VESSEL_COM1_PORT, 1, 1, "ey", 2, &res); /* rep outsb */
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_int_equal(c->out_len, 3);
	assert_memory_equal(c->out, "hey", 3);
}

static void test_unassigned_port(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	uint32_t v = 0x12345678;

	pio(c, 0x80, 1, 1, "x", 1, &res); /* POST code port: ignored */
	assert_int_equal(res.action, EXIT_CONTINUE);
	pio(c, 0x2f8, 0, 4, &v, 1, &res); /* COM2 absent: reads all-ones */
	assert_int_equal(res.action, EXIT_CONTINUE);
	memcpy(&v, (uint8_t *)c->run + 4096, 4);
	assert_int_equal(v, 0xffffffff);
	pio(c, 0x80, 1, 3, "abc", 1, &res);
	assert_int_equal(res.action, EXIT_FAULT);
}

static void test_poweroff(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	struct vessel_hc_poweroff *a = guest(c, ARG, sizeof(*a));

	a->status = 42;
	hypercall(c, VESSEL_HC_POWEROFF, ARG, &res);
	assert_int_equal(res.action, EXIT_STOP);
	assert_int_equal(res.status, 42);
	a->status = 256;
	hypercall(c, VESSEL_HC_POWEROFF, ARG, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_int_equal(res.status, VESSEL_EXIT_GUEST_FAULT);
	assert_non_null(strstr(res.msg, "poweroff"));
}

static void test_bad_hypercalls(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	uint32_t gpa = ARG;

	hypercall(c, VESSEL_HC_TEST, MEM - 8, &res); /* struct straddles the end of RAM */
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "outside guest RAM"));
	hypercall(c, VESSEL_HC_POWEROFF, ARG + 4, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "aligned"));
	hypercall(c, VESSEL_HC_NR, ARG, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "unknown hypercall"));
	pio(c, VESSEL_HC_PORT_BASE, 0, 4, NULL, 1, &res); /* IN from a hypercall port */
	assert_int_equal(res.action, EXIT_FAULT);
	pio(c, VESSEL_HC_PORT_BASE, 1, 2, &gpa, 1, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "32-bit"));
}

static void test_test_channel(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	struct vessel_hc_test *t = guest(c, ARG, sizeof(*t));

	strcpy(guest(c, ARG + 0x100, 16), "file.c");
	strcpy(guest(c, ARG + 0x200, 16), "boom");
	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_ASSERT,
				      .line = 9,
				      .file_gpa = ARG + 0x100,
				      .msg_gpa = ARG + 0x200,
				      .ret = -1 };
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_int_equal(t->ret, 0);
	assert_int_equal(c->vm->test.asserts, 1);
	assert_string_equal(c->vm->test.last_assert, "file.c:9: boom");
	assert_non_null(strstr(c->log, "file.c:9: boom"));

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_SYNC, .arg = 5 };
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_CONTINUE); /* pause_on_sync is off */
	assert_int_equal(c->vm->test.last_sync, 5);
	c->vm->cfg.pause_on_sync = true;
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_PAUSE);
	assert_int_equal(res.arg, 5);
	c->vm->cfg.pause_on_sync = false;

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_DONE, .arg = 2 };
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(c->vm->test.dones, 1);
	assert_int_equal(c->vm->test.done_failures, 2);

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_PRINT, .msg_gpa = 0 }; /* no message */
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_string_equal(c->vm->test.last_print, "");

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_ASSERT, .file_gpa = MEM + 5 };
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "file string"));
	assert_int_equal(c->vm->test.asserts, 1); /* not counted */

	*t = (struct vessel_hc_test){ .kind = 0 };
	hypercall(c, VESSEL_HC_TEST, ARG, &res);
	assert_int_equal(res.action, EXIT_FAULT);
}

static void test_cpu_start(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	struct vessel_hc_cpu_start *s = guest(c, ARG, sizeof(*s));
	struct vcpu *ap = c->vm->vcpus[1];

	*s = (struct vessel_hc_cpu_start){ .cpu = 1,
					   .rip = 0xffffffff80001000ull,
					   .rsp = 0x9000,
					   .cr3 = 0x1000,
					   .arg = 77,
					   .ret = 1 };
	assert_false(ap->started);
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_int_equal(s->ret, 0);
	assert_true(ap->started && ap->start_pending);
	assert_int_equal(ap->start_req.rip, 0xffffffff80001000ull);
	assert_int_equal(ap->start_req.arg, 77);
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(s->ret, -EBUSY);
	s->cpu = 0; /* the BSP */
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(s->ret, -EINVAL);
	s->cpu = 2; /* beyond cpu_count */
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(s->ret, -EINVAL);
	s->cpu = 1;
	s->rip = 0x0000800000000000ull; /* not canonical */
	ap->started = false;
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(s->ret, -EINVAL);
	s->rip = 0x1000;
	s->cr3 = 0x1234; /* not page aligned */
	hypercall(c, VESSEL_HC_CPU_START, ARG, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "cr3"));
}

static void test_other_exits(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;

	memset(c->run, 0, sizeof(*c->run));
	c->run->exit_reason = KVM_EXIT_SHUTDOWN;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "triple fault"));

	c->run->exit_reason = KVM_EXIT_MMIO;
	c->run->mmio.phys_addr = 0xd0000000;
	c->run->mmio.len = 4;
	c->run->mmio.is_write = 1;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "0xd0000000"));

	c->run->exit_reason = KVM_EXIT_INTR;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);

	c->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_FAULT);

	c->run->exit_reason = KVM_EXIT_DEBUG;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "KVM_EXIT_DEBUG"));

	c->run->exit_reason = 1000;
	exit_dispatch(c->vm, c->vm->vcpus[0], c->run, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "unhandled exit"));
}

static void test_boot_area(void **state)
{
	struct ctx *c = *state;
	struct vm *vm = c->vm;
	struct vessel_boot_info *bi;
	uint64_t *pml4, *pd;
	uint64_t ram = 0;

	vm->initrd_gpa = 0x400000;
	vm->initrd_size = 1234;
	assert_int_equal(arch_boot_write(vm), 0);
	bi = guest(c, VESSEL_BOOT_INFO_GPA, sizeof(*bi));
	assert_int_equal(bi->magic, VESSEL_BOOT_MAGIC);
	assert_int_equal(bi->abi_version, VESSEL_ABI_VERSION);
	assert_int_equal(bi->size, sizeof(*bi));
	assert_int_equal(bi->cpu_count, 2);
	assert_true(bi->flags & VESSEL_BOOT_F_HYPERCALLS);
	assert_int_equal(bi->cmdline_gpa, VESSEL_BOOT_CMDLINE_GPA);
	assert_int_equal(bi->cmdline_len, strlen("selftest init=/bin/sh"));
	assert_string_equal(guest(c, VESSEL_BOOT_CMDLINE_GPA, 32), "selftest init=/bin/sh");
	assert_int_equal(bi->initrd_gpa, 0x400000);
	assert_int_equal(bi->initrd_size, 1234);
	assert_true(bi->mmap_count >= 2 && bi->mmap_count <= VESSEL_BOOT_MMAP_MAX);
	for (unsigned i = 0; i < bi->mmap_count; i++) {
		if (bi->mmap[i].type != VESSEL_MEM_RAM)
			continue;
		assert_true(bi->mmap[i].base >= ARCH_KERNEL_MIN); /* boot area stays reserved */
		assert_non_null(gmem_ptr(&vm->mem, bi->mmap[i].base, bi->mmap[i].size));
		ram += bi->mmap[i].size;
	}
	assert_int_equal(ram, MEM - ARCH_KERNEL_MIN);

	/* identity map of [0, 4 GiB) with 2 MiB pages */
	pml4 = guest(c, ARCH_BOOT_PML4, 0x6000);
	assert_int_equal(pml4[0] & ~0xfffull, ARCH_BOOT_PML4 + 0x1000);
	pd = pml4 + 1024;
	assert_int_equal(pd[0] & ~0xfffull, 0);
	assert_int_equal(pd[2047] & ~0xfffull, 0xffe00000ull);
	assert_true(pd[5] & 0x80); /* PS */
	assert_int_equal(((uint64_t *)guest(c, ARCH_BOOT_GDT, 24))[1], 0x00af9a000000ffffull);
}

/* More than 3 GiB: the rest of RAM appears at 4 GiB in the memory map. */
static void test_boot_info_high_mem(void **state)
{
	struct vm_config cfg = { .cpus = 1, .mem_size = GMEM_LOW_LIMIT + (64ull << 20) };
	struct vessel_boot_info bi;
	char err[256];
	struct vm *vm;
	bool low = false, high = false;

	assert_int_equal(vm_new(&vm, &cfg, err, sizeof(err)), 0); /* sparse memfd */
	arch_boot_info_fill(vm, &bi);
	for (unsigned i = 0; i < bi.mmap_count; i++) {
		if (bi.mmap[i].type != VESSEL_MEM_RAM)
			continue;
		if (bi.mmap[i].base == ARCH_KERNEL_MIN &&
		    bi.mmap[i].size == GMEM_LOW_LIMIT - ARCH_KERNEL_MIN)
			low = true;
		if (bi.mmap[i].base == GMEM_HIGH_BASE && bi.mmap[i].size == (64ull << 20))
			high = true;
		/* no RAM entry overlaps the IOAPIC/LAPIC hole */
		assert_true(bi.mmap[i].base + bi.mmap[i].size <= GMEM_LOW_LIMIT ||
			    bi.mmap[i].base >= GMEM_HIGH_BASE);
	}
	assert_true(low && high);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_console_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unassigned_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hypercalls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_area, setup, teardown),
		cmocka_unit_test(test_boot_info_high_mem),
	};

	return cmocka_run_group_tests_name("vmm_exit", tests, NULL, NULL);
}
