// SPDX-License-Identifier: MIT
/*
 * VMM integration tests, KVM-selftest style: each guest is a few lines of
 * 64-bit code in this file (inline asm, position independent), copied to
 * guest-physical 0x100000 and booted through libvmm with the same boot state
 * as a kernel. The host side checks console output, exit status, the
 * test-report channel and how bad guests are stopped. Prints TAP.
 */
#include "arch/x86/arch.h"
#include "core/hooks.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/device.h"
#include "dev/serial.h"
#include "core/memerr.h"
#include "migrate/live/internal.h"

#include "abi/vessel.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LOAD_GPA  0x100000ull
#define PARAM_GPA 0x300000ull /* the host writes test parameters here */
#define MEM_SIZE  (16ull << 20)
#define TIMEOUT_S 60

/* ---- guest code ---- */

/* The assembly reads best as written: */
// clang-format off

#define GUEST(name, body)							\
	extern const uint8_t guest_##name##_start[], guest_##name##_end[];	\
	asm(".pushsection .rodata.guest_" #name ",\"a\"\n"			\
	    ".globl guest_" #name "_start, guest_" #name "_end\n"		\
	    "guest_" #name "_start:\n"						\
	    "mov $0x1f0000, %rsp\n" body "\n"					\
	    "guest_" #name "_end:\n"						\
	    ".popsection\n")

/* hypercall `nr` with the argument struct at label `arg` */
#define HC(nr, arg) "lea " arg "(%rip), %rax\n mov $0x500+" #nr ", %dx\n out %eax, %dx\n"
/* poweroff with an immediate status (struct at label `slot`, 8 bytes) */
#define POWEROFF(status, slot) "movq $" #status ", " slot "(%rip)\n" HC(0, slot) "ud2\n"

/* print "hello, vessel\n" on COM1, power off with 0 */
GUEST(hello,
	"lea 9f(%rip), %rsi\n mov $0x3f8, %dx\n"
	"1: lodsb\n test %al, %al\n jz 2f\n out %al, %dx\n jmp 1b\n"
	"2:" POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n9: .asciz \"hello, vessel\\n\"\n");

/* power off with the status at PARAM_GPA */
GUEST(status,
	"mov 0x300000, %rax\n mov %rax, 8f(%rip)\n" HC(0, "8f") "ud2\n"
	".align 8\n8: .quad 0\n");

/*
 * test channel: PRINT, SYNC(7), ASSERT, DONE(3); each `ret` starts at -1
 * and must read 0 afterwards, else poweroff(1).
 */
GUEST(testchan,
	"lea 20f(%rip), %rax\n mov %rax, 10f+16(%rip)\n" HC(1, "10f")
	"lea 21f(%rip), %rax\n mov %rax, 12f+8(%rip)\n"
	"lea 22f(%rip), %rax\n mov %rax, 12f+16(%rip)\n"
	HC(1, "11f") HC(1, "12f") HC(1, "13f")
	"mov 10f+32(%rip), %rax\n or 11f+32(%rip), %rax\n"
	"or 12f+32(%rip), %rax\n or 13f+32(%rip), %rax\n jnz 1f\n"
	POWEROFF(0, "8f")
	"1:" POWEROFF(1, "8f")
	".align 8\n8: .quad 0\n"
	"10: .long 4, 0\n .quad 0, 0, 0, -1\n"	/* PRINT */
	"11: .long 1, 0\n .quad 0, 0, 7, -1\n"	/* SYNC(7) */
	"12: .long 2, 42\n .quad 0, 0, 0, -1\n"	/* ASSERT */
	"13: .long 3, 0\n .quad 0, 0, 3, -1\n"	/* DONE(3) */
	"20: .asciz \"hi there\"\n21: .asciz \"guest.c\"\n22: .asciz \"x == y\"\n");

/* out(0x500 + param[0], param[1]); then poweroff(0) */
GUEST(rawhc,
	"mov 0x300000, %rdx\n add $0x500, %rdx\n mov 0x300008, %rax\n out %eax, %dx\n"
	POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n");

/* a one-byte OUT to the poweroff port */
GUEST(hcbyte,
	"mov $0x500, %dx\n mov $1, %al\n out %al, %dx\n"
	POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n");

/* spin for ever (until the host stops the VM) */
GUEST(spin, "1: pause\n jmp 1b\n");

/* empty IDT, then #UD: #UD -> #GP -> #DF -> triple fault */
GUEST(triple, "lidt 9f(%rip)\n ud2\n .align 8\n9: .word 0\n .quad 0\n");

/* write to a guest-physical address with neither RAM nor a device */
GUEST(mmio,
	"mov $0xd0000000, %rax\n movl $1, (%rax)\n"
	POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n");

/* enable the FIFO, then echo COM1 input to COM1 output until '\n', polling LSR.DR */
GUEST(echo,
	"mov $0x3fa, %dx\n mov $7, %al\n out %al, %dx\n"
	"1: mov $0x3fd, %dx\n in %dx, %al\n test $1, %al\n jz 1b\n"
	"mov $0x3f8, %dx\n in %dx, %al\n out %al, %dx\n cmp $10, %al\n jne 1b\n"
	POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n");

/*
 * Interrupt-driven echo: 8259 PICs masked (KVM leaves the BSP's LVT0 in
 * ExtINT "virtual wire" mode, as a BIOS would), IDT gate 0x24, LAPIC on,
 * IOAPIC pin 4 -> vector 0x24 (edge, to APIC 0), COM1 receive interrupt on,
 * then `hlt` until the handler has echoed a '\n' and powers off. Proves IRQ 4
 * reaches the guest through the IOAPIC.
 */
GUEST(irq,
	"lea 50f(%rip), %rax\n lea 60f+0x24*16(%rip), %rdi\n"
	"mov %ax, (%rdi)\n movw $0x08, 2(%rdi)\n movw $0x8e00, 4(%rdi)\n"
	"shr $16, %rax\n mov %ax, 6(%rdi)\n shr $16, %rax\n mov %eax, 8(%rdi)\n"
	"movl $0, 12(%rdi)\n"
	"lea 60f(%rip), %rax\n mov %rax, 61f+2(%rip)\n lidt 61f(%rip)\n"
	"mov $0xff, %al\n out %al, $0x21\n out %al, $0xa1\n"	/* mask the 8259s */
	"mov $0xfee000f0, %rax\n movl $0x1ff, (%rax)\n"		/* LAPIC SVR: on */
	"mov $0xfec00000, %rax\n movl $0x18, (%rax)\n movl $0x24, 0x10(%rax)\n"
	"movl $0x19, (%rax)\n movl $0, 0x10(%rax)\n"
	"mov $0x3fa, %dx\n mov $7, %al\n out %al, %dx\n"	/* FCR */
	"mov $0x3f9, %dx\n mov $1, %al\n out %al, %dx\n"	/* IER: RX */
	"sti\n 1: hlt\n jmp 1b\n"
	"50: mov $0x3fd, %dx\n in %dx, %al\n test $1, %al\n jz 52f\n"
	"mov $0x3f8, %dx\n in %dx, %al\n out %al, %dx\n cmp $10, %al\n je 53f\n jmp 50b\n"
	"52: mov $0xfee000b0, %rax\n movl $0, (%rax)\n iretq\n"	/* EOI */
	"53:" POWEROFF(0, "8f")
	".align 8\n8: .quad 0\n"
	".align 16\n60: .fill 4096, 1, 0\n61: .word 4095\n .quad 0\n");

/*
 * SMP: start vCPU 1 at label 30 with arg 0x1234; the AP stores RDI (if RSI
 * is the boot magic) in label 9. The BSP waits for it, then checks that a
 * second start gives -EBUSY and a bad CPU -EINVAL. Status 0 = all good.
 */
GUEST(smp,
	"lea 30f(%rip), %rax\n mov %rax, 20f+8(%rip)\n" HC(2, "20f")
	"cmpq $0, 20f+40(%rip)\n je 1f\n" POWEROFF(10, "8f")
	"1: mov $100000000, %rcx\n"
	"2: pause\n mov 9f(%rip), %rax\n test %rax, %rax\n jnz 3f\n loop 2b\n"
	POWEROFF(14, "8f")
	"3: cmp $0x1234, %rax\n je 4f\n" POWEROFF(11, "8f")
	"4:" HC(2, "20f") "cmpq $-16, 20f+40(%rip)\n je 5f\n" POWEROFF(12, "8f")
	"5: movl $5, 20f(%rip)\n" HC(2, "20f")
	"cmpq $-22, 20f+40(%rip)\n je 6f\n" POWEROFF(13, "8f")
	"6:" POWEROFF(0, "8f")
	"30: movabs $0x3130455353455655, %rax\n cmp %rax, %rsi\n je 31f\n mov $0xbad, %rdi\n"
	"31: mov %rdi, 9f(%rip)\n 32: hlt\n jmp 32b\n"
	".align 8\n8: .quad 0\n9: .quad 0\n"
	"20: .long 1, 0\n .quad 0, 0x1e0000, 0x1000, 0x1234, -1\n");

/* the BSP starts vCPU 1 on code that triple-faults, then waits */
GUEST(apfault,
	"lea 30f(%rip), %rax\n mov %rax, 20f+8(%rip)\n" HC(2, "20f")
	"1: pause\n jmp 1b\n"
	"30: lidt 9f(%rip)\n ud2\n"
	".align 8\n9: .word 0\n .quad 0\n"
	".align 8\n20: .long 1, 0\n .quad 0, 0x1e0000, 0x1000, 0, -1\n");

/*
 * save/restore: set registers, SYNC(1), then check them and a memory counter
 * after the host moved the vCPU into a new VM; print "ok\n".
 */
GUEST(migrate,
	"mov $0x1111, %rbx\n mov $0x2222, %r12\n mov $0x3333, %r15\n"
	"incq 9f(%rip)\n" HC(1, "10f")
	"cmp $0x1111, %rbx\n jne 1f\n cmp $0x2222, %r12\n jne 1f\n"
	"cmp $0x3333, %r15\n jne 1f\n cmpq $1, 9f(%rip)\n jne 1f\n"
	"mov $0x3f8, %dx\n mov $'o', %al\n out %al, %dx\n mov $'k', %al\n out %al, %dx\n"
	"mov $10, %al\n out %al, %dx\n"
	POWEROFF(0, "8f")
	"1:" POWEROFF(1, "8f")
	".align 8\n8: .quad 0\n9: .quad 0\n"
	"10: .long 1, 0\n .quad 0, 0, 1, -1\n");

// clang-format on

/* ---- host side ---- */

struct capture {
	char out[4096];
	size_t out_len;
	char log[8192];
	size_t log_len;
};

static void cap_console(void *opaque, const void *buf, size_t len)
{
	struct capture *c = opaque;

	if (len > sizeof(c->out) - 1 - c->out_len)
		len = sizeof(c->out) - 1 - c->out_len;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->out[c->out_len] = '\0';
}

static void cap_log(void *opaque, const char *line)
{
	struct capture *c = opaque;
	int n = snprintf(c->log + c->log_len, sizeof(c->log) - c->log_len, "%s\n", line);

	if (n > 0 && (size_t)n < sizeof(c->log) - c->log_len)
		c->log_len += (size_t)n;
}

static unsigned test_nr;
static int failures;

static void __attribute__((format(printf, 2, 3))) report(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", ok ? "" : "not ", ++test_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
			return 0;                                                                  \
		}                                                                                  \
	} while (0)

static struct vm *make_vm(struct capture *cap, unsigned cpus, bool pause_on_sync)
{
	struct vm_config cfg = {
		.cpus = cpus,
		.mem_size = MEM_SIZE,
		.cmdline = "test",
		.console_write = cap_console,
		.console_opaque = cap,
		.log = cap_log,
		.log_opaque = cap,
		.pause_on_sync = pause_on_sync,
	};
	char err[512];
	struct vm *vm;

	memset(cap, 0, sizeof(*cap));
	if (vm_new(&vm, &cfg, err, sizeof(err))) {
		printf("# vm_new: %s\n", err);
		return NULL;
	}
	if (vm_kvm_create(vm)) {
		printf("# vm_kvm_create: %s\n", vm->err);
		vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static int load(struct vm *vm, const uint8_t *start, const uint8_t *end)
{
	if (vm_load_flat(vm, LOAD_GPA, start, (size_t)(end - start), LOAD_GPA)) {
		printf("# vm_load_flat: %s\n", vm->err);
		return -1;
	}
	return 0;
}

#define LOAD(vm, name) load(vm, guest_##name##_start, guest_##name##_end)

static void param(struct vm *vm, unsigned idx, uint64_t value)
{
	uint64_t *p = gmem_ptr(&vm->mem, PARAM_GPA + 8 * idx, 8);

	*p = value;
}

/* Wait for the next event; a VM that neither stops nor syncs in time is stopped. */
static void wait_event(struct vm *vm, struct vm_event *ev)
{
	time_t deadline = time(NULL) + TIMEOUT_S;

	for (;;) {
		struct pollfd p = { .fd = vm->notify_fd, .events = POLLIN };

		poll(&p, 1, 100);
		vm_poll_event(vm, ev);
		if (ev->kind != VM_EVENT_NONE)
			break;
		if (time(NULL) > deadline) {
			vm_stop(vm, 124, "test timeout after %d s", TIMEOUT_S);
			break;
		}
	}
	vm_wait(vm, ev);
}

/* Boot to the end; returns the exit status. */
static int run_to_stop(struct vm *vm)
{
	struct vm_event ev;

	if (vm_start(vm)) {
		printf("# vm_start: %s\n", vm->err);
		return -1;
	}
	wait_event(vm, &ev);
	if (vm->exit_status != 0)
		printf("# stopped: %.*s\n", (int)strcspn(vm->stop_msg, "\n"), vm->stop_msg);
	return vm->exit_status;
}

static int t_console(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	int st;

	CHECK(vm && !LOAD(vm, hello));
	st = run_to_stop(vm);
	vm_destroy(vm);
	CHECK(st == 0);
	CHECK(!strcmp(cap.out, "hello, vessel\n"));
	return 1;
}

static int t_poweroff_status(uint64_t status)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	int st;

	CHECK(vm && !LOAD(vm, status));
	param(vm, 0, status);
	st = run_to_stop(vm);
	vm_destroy(vm);
	CHECK(st == (int)status);
	return 1;
}

static int t_test_channel(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	int st;

	CHECK(vm && !LOAD(vm, testchan));
	st = run_to_stop(vm);
	CHECK(st == 0); /* every `ret` was written 0 */
	CHECK(vm->test.prints == 1 && !strcmp(vm->test.last_print, "hi there"));
	CHECK(vm->test.syncs == 1 && vm->test.last_sync == 7);
	CHECK(vm->test.asserts == 1 && !strcmp(vm->test.last_assert, "guest.c:42: x == y"));
	CHECK(vm->test.dones == 1 && vm->test.done_failures == 3);
	CHECK(strstr(cap.log, "guest assertion failed (vCPU 0): guest.c:42: x == y"));
	vm_destroy(vm);
	return 1;
}

/* A guest that must be stopped with VESSEL_EXIT_GUEST_FAULT and `needle` in the reason. */
static int expect_fault(struct vm *vm, const char *needle)
{
	int st = run_to_stop(vm);
	int ok = st == VESSEL_EXIT_GUEST_FAULT && strstr(vm->stop_msg, needle) &&
		 strstr(vm->stop_msg, "RIP ");

	if (!ok)
		printf("# status %d, reason: %s\n", st, vm->stop_msg);
	else if (getenv("VMM_TEST_VERBOSE"))
		printf("# %s\n", vm->stop_msg);
	vm_destroy(vm);
	return ok;
}

static int t_bad_hc(unsigned nr, uint64_t gpa, void (*prep)(struct vm *), const char *needle)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);

	CHECK(vm && !LOAD(vm, rawhc));
	param(vm, 0, nr);
	param(vm, 1, gpa);
	if (prep)
		prep(vm);
	return expect_fault(vm, needle);
}

static void prep_unterminated(struct vm *vm)
{
	struct vessel_hc_test *t = gmem_ptr(&vm->mem, PARAM_GPA + 0x100, sizeof(*t));

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_PRINT, .msg_gpa = PARAM_GPA + 0x200 };
	memset(gmem_ptr(&vm->mem, PARAM_GPA + 0x200, 1024), 'A', 1024);
}

static void prep_bad_kind(struct vm *vm)
{
	struct vessel_hc_test *t = gmem_ptr(&vm->mem, PARAM_GPA + 0x100, sizeof(*t));

	*t = (struct vessel_hc_test){ .kind = 99 };
}

static void prep_status_256(struct vm *vm)
{
	*(uint64_t *)gmem_ptr(&vm->mem, PARAM_GPA + 0x100, 8) = 256;
}

static void prep_bad_cr3(struct vm *vm)
{
	struct vessel_hc_cpu_start *s = gmem_ptr(&vm->mem, PARAM_GPA + 0x100, sizeof(*s));

	*s = (struct vessel_hc_cpu_start){ .cpu = 1, .rip = LOAD_GPA, .cr3 = 0x40000000 };
}

static void prep_string_off_end(struct vm *vm)
{
	struct vessel_hc_test *t = gmem_ptr(&vm->mem, PARAM_GPA + 0x100, sizeof(*t));

	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_PRINT, .msg_gpa = MEM_SIZE - 4 };
	memset(gmem_ptr(&vm->mem, MEM_SIZE - 4, 4), 'A', 4);
}

static int t_hc_byte(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);

	CHECK(vm && !LOAD(vm, hcbyte));
	return expect_fault(vm, "hypercalls are 32-bit OUTs");
}

static int t_triple_fault(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);

	CHECK(vm && !LOAD(vm, triple));
	return expect_fault(vm, "triple fault");
}

static int t_unassigned_mmio(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);

	CHECK(vm && !LOAD(vm, mmio));
	return expect_fault(vm, "0xd0000000: no RAM or device there");
}

static int t_console_input(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	int st;

	CHECK(vm && !LOAD(vm, echo));
	/* nothing is accepted before the guest's driver is ready */
	CHECK(serial_receive(vm->console, (const uint8_t *)"ping\n", 5) == 0);
	CHECK(vm_start(vm) == 0);
	for (size_t sent = 0, tries = 0; sent < 5 && tries < 5000; tries++) {
		sent += serial_receive(vm->console, (const uint8_t *)"ping\n" + sent, 5 - sent);
		usleep(1000);
	}
	{
		struct vm_event ev;

		wait_event(vm, &ev);
	}
	st = vm->exit_status;
	vm_destroy(vm);
	CHECK(st == 0);
	CHECK(!strcmp(cap.out, "ping\n"));
	return 1;
}

static int t_serial_irq(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	struct vm_event ev;
	int st;

	CHECK(vm && !LOAD(vm, irq));
	CHECK(vm_start(vm) == 0);
	for (size_t sent = 0, tries = 0; sent < 4 && tries < 5000; tries++) {
		sent += serial_receive(vm->console, (const uint8_t *)"irq\n" + sent, 4 - sent);
		usleep(1000);
	}
	wait_event(vm, &ev);
	st = vm->exit_status;
	if (st)
		printf("# %s\n", vm->stop_msg);
	vm_destroy(vm);
	CHECK(st == 0);
	CHECK(!strcmp(cap.out, "irq\n"));
	return 1;
}

static int t_ap_start(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);
	int st;

	CHECK(vm && !LOAD(vm, smp));
	st = run_to_stop(vm);
	vm_destroy(vm);
	CHECK(st == 0);
	return 1;
}

static int t_ap_fault(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);

	CHECK(vm && !LOAD(vm, apfault));
	return expect_fault(vm, "vCPU 1: triple fault");
}

/*
 * The migration shape: run to SYNC, save vCPU + COM1 + RAM, build a second
 * VM from the saved state only, destroy the first, continue in the second.
 */
static int t_save_restore(void)
{
	struct capture cap1, cap2;
	struct vm *vm1 = make_vm(&cap1, 1, true), *vm2 = NULL;
	struct vcpu_state *st = calloc(1, sizeof(*st));
	struct device *d1, *d2;
	uint8_t com1[256];
	struct vm_event ev;
	ssize_t n;
	int ok = 0;

	if (!vm1 || !st || LOAD(vm1, migrate) || vm_start(vm1))
		goto out;
	wait_event(vm1, &ev);
	if (ev.kind != VM_EVENT_SYNC || ev.arg != 1 || vm1->state != VM_PAUSED) {
		printf("# expected SYNC(1), got event %d: %s\n", ev.kind, vm1->stop_msg);
		goto out;
	}
	d1 = device_find(vm1, "com1");
	if (vcpu_state_get(vm1->vcpus[0], st) || !d1 ||
	    (n = d1->ops->save(d1->priv, com1, sizeof(com1))) < 0) {
		printf("# save: %s\n", vm1->err);
		goto out;
	}
	vm2 = make_vm(&cap2, 1, false);
	if (!vm2)
		goto out;
	memcpy(vm2->mem.base, vm1->mem.base, vm1->mem.size);
	d2 = device_find(vm2, "com1");
	if (vcpu_state_set(vm2->vcpus[0], st) || !d2 ||
	    d2->ops->restore(d2->priv, com1, (size_t)n)) {
		printf("# restore: %s\n", vm2->err);
		goto out;
	}
	vm_destroy(vm1);
	vm1 = NULL;
	if (run_to_stop(vm2) != 0 || strcmp(cap2.out, "ok\n")) {
		printf("# after restore: status %d output '%s'\n", vm2->exit_status, cap2.out);
		goto out;
	}
	ok = 1;
out:
	vm_destroy(vm1);
	vm_destroy(vm2);
	free(st);
	return ok;
}

/*
 * A hypercall whose argument (or string) lies on a poisoned page: the VMM
 * reads it through a memory-exception-safe copy, so the VM stops with a
 * clear reason instead of the whole VMM dying of SIGBUS.
 */
#define POISON_GPA (PARAM_GPA + 0x1000)

static int t_hc_poisoned(unsigned nr, uint64_t arg_gpa, void (*prep)(struct vm *),
			 const char *needle)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	char err[256];
	int rc;

	CHECK(vm && !LOAD(vm, rawhc));
	param(vm, 0, nr);
	param(vm, 1, arg_gpa);
	if (prep)
		prep(vm);
	rc = memerr_poison(vm, POISON_GPA, false, err, sizeof(err));
	if (rc < 0) {
		printf("# cannot poison a page here: %s\n", err);
		vm_destroy(vm);
		return 0;
	}
	rc = run_to_stop(vm);
	rc = rc == VESSEL_EXIT_GUEST_FAULT && strstr(vm->stop_msg, needle) &&
	     strstr(vm->stop_msg, "poisoned");
	if (!rc)
		printf("# status %d, reason: %s\n", vm->exit_status, vm->stop_msg);
	vm_destroy(vm);
	return rc;
}

static void prep_poisoned_msg(struct vm *vm)
{
	struct vessel_hc_test *t = gmem_ptr(&vm->mem, PARAM_GPA + 0x100, sizeof(*t));

	/* "hi" ends the first page; the rest of the message is on the poisoned one */
	*t = (struct vessel_hc_test){ .kind = VESSEL_TEST_PRINT, .msg_gpa = POISON_GPA - 2 };
	memcpy(gmem_ptr(&vm->mem, POISON_GPA - 2, 2), "hi", 2);
}

static int t_hc_poisoned_arg(void)
{
	return t_hc_poisoned(VESSEL_HC_POWEROFF, POISON_GPA, NULL, "poweroff: argument");
}

static int t_hc_poisoned_str(void)
{
	return t_hc_poisoned(VESSEL_HC_TEST, PARAM_GPA + 0x100, prep_poisoned_msg,
			     "message string at 0x300ffe");
}

/*
 * The register dump shows the code bytes at RIP when RIP is a RAM address;
 * a poisoned page there must show up as such in the dump, not kill the VMM
 * (a user program's RIP can be any RAM address, poisoned or not).
 */
static int t_dump_poisoned_rip(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	struct kvm_regs regs;
	char err[256], *dump = malloc(4096);
	int ok = 0;

	if (!vm || !dump || LOAD(vm, triple))
		goto out;
	if (run_to_stop(vm) != VESSEL_EXIT_GUEST_FAULT ||
	    ioctl(vm->vcpus[0]->fd, KVM_GET_REGS, &regs) < 0) {
		printf("# the guest did not stop with a fault\n");
		goto out;
	}
	if (memerr_poison(vm, regs.rip, false, err, sizeof(err)) < 0) {
		printf("# cannot poison %#llx: %s\n", (unsigned long long)regs.rip, err);
		goto out;
	}
	vcpu_dump(vm->vcpus[0], dump, 4096);
	ok = strstr(dump, "RIP ") && strstr(dump, "poisoned");
	if (!ok)
		printf("# dump:\n%s\n", dump);
out:
	vm_destroy(vm);
	free(dump);
	return ok;
}

/* Pause and resume a running VM from the host, then let it finish. */
static int t_pause_resume(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);
	int st;

	CHECK(vm && !LOAD(vm, smp));
	CHECK(vm_start(vm) == 0);
	for (int i = 0; i < 5; i++) {
		int rc = vm_pause(vm);

		if (rc == -ESHUTDOWN)
			break; /* it already finished: fine */
		CHECK(rc == 0 && vm->parked == vm->threads);
		CHECK(vm_resume(vm) == 0);
	}
	{
		struct vm_event ev;

		wait_event(vm, &ev);
	}
	st = vm->exit_status;
	vm_destroy(vm);
	CHECK(st == 0);
	return 1;
}

/*
 * A migration's stop-and-copy holds the VM paused: a resume from anyone
 * else (the control socket) is refused until the hold ends, so the guest
 * cannot run (and dirty memory) after the last dirty sync.
 */
static int t_pause_hold(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);
	struct vm_event ev;
	int rc, state;

	CHECK(vm && !LOAD(vm, echo));
	CHECK(vm_start(vm) == 0);
	CHECK(vm_pause_hold(vm) == 0);
	rc = vm_resume(vm);
	state = vm->state;
	vm_pause_release(vm, true);
	CHECK(rc == -EBUSY && state == VM_PAUSED);
	CHECK(vm->state == VM_RUNNING);
	CHECK(vm_pause(vm) == 0 && vm_resume(vm) == 0); /* no hold left behind */
	vm_stop(vm, 0, "test done");
	vm_wait(vm, &ev);
	vm_destroy(vm);
	return 1;
}

struct test {
	const char *name;
	int (*fn)(void);
};

static int t_status_0(void)
{
	return t_poweroff_status(0);
}
static int t_status_42(void)
{
	return t_poweroff_status(42);
}
static int t_status_255(void)
{
	return t_poweroff_status(255);
}
static int t_hc_outside_ram(void)
{
	return t_bad_hc(VESSEL_HC_POWEROFF, 0x7fff0000, NULL, "poweroff: argument");
}
static int t_hc_straddles_end(void)
{
	return t_bad_hc(VESSEL_HC_TEST, MEM_SIZE - 16, NULL, "outside guest RAM");
}
static int t_hc_misaligned(void)
{
	return t_bad_hc(VESSEL_HC_TEST, PARAM_GPA + 0x104, NULL, "not 8-byte aligned");
}
static int t_hc_unknown(void)
{
	return t_bad_hc(9, PARAM_GPA + 0x100, NULL, "unknown hypercall 9");
}
static int t_hc_unterminated(void)
{
	return t_bad_hc(VESSEL_HC_TEST, PARAM_GPA + 0x100, prep_unterminated, "no NUL within 256");
}
static int t_hc_string_off_end(void)
{
	return t_bad_hc(VESSEL_HC_TEST, PARAM_GPA + 0x100, prep_string_off_end,
			"string at 0xfffffc is outside guest RAM");
}
static int t_hc_bad_kind(void)
{
	return t_bad_hc(VESSEL_HC_TEST, PARAM_GPA + 0x100, prep_bad_kind, "unknown kind 99");
}
static int t_hc_bad_status(void)
{
	return t_bad_hc(VESSEL_HC_POWEROFF, PARAM_GPA + 0x100, prep_status_256,
			"status 256 is not in 0..255");
}
static int t_hc_bad_cr3(void)
{
	return t_bad_hc(VESSEL_HC_CPU_START, PARAM_GPA + 0x100, prep_bad_cr3,
			"cr3 0x40000000 is not a page of guest RAM");
}

/*
 * Teardown order: vm_destroy() must join every vCPU thread before it
 * detaches the hooks (the subsystems free their state in detach). A hook
 * here records what it sees; before the seams, cmd_run freed the migration
 * state while vCPU threads could still call into it.
 */
static struct {
	int run_exits, detaches, threads_at_detach, alive_at_detach, exits_after_detach;
} td;

static void td_run_exit(void *opaque, struct vcpu *v)
{
	if (__atomic_load_n(&td.detaches, __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&td.exits_after_detach, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&td.run_exits, 1, __ATOMIC_RELEASE);
}

static void td_detach(void *opaque)
{
	struct vm *vm = opaque;

	pthread_mutex_lock(&vm->lock);
	td.threads_at_detach = (int)vm->threads;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		td.alive_at_detach += vm->vcpus[i]->thread_alive;
	pthread_mutex_unlock(&vm->lock);
	__atomic_add_fetch(&td.detaches, 1, __ATOMIC_RELEASE);
}

static const struct vm_hook_ops td_hooks = { .name = "test", .run_exit = td_run_exit,
					      .detach = td_detach };

static int t_teardown_order(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);
	time_t deadline = time(NULL) + TIMEOUT_S;

	memset(&td, 0, sizeof(td));
	CHECK(vm && !LOAD(vm, spin));
	CHECK(vm_hook_attach(vm, &td_hooks, vm) == 0);
	CHECK(vm_hook_attach(vm, &td_hooks, vm) == -EEXIST);
	CHECK(vm_start(vm) == 0);
	CHECK(vm_hook_attach(vm, &td_hooks, NULL) == -EBUSY); /* the list is sealed */
	/* kick until the vCPU has been through a few run exits: it is running */
	while (__atomic_load_n(&td.run_exits, __ATOMIC_ACQUIRE) < 3 && time(NULL) < deadline) {
		pthread_mutex_lock(&vm->lock);
		vcpu_kick(vm->vcpus[0]);
		pthread_mutex_unlock(&vm->lock);
		usleep(1000);
	}
	CHECK(td.run_exits >= 3);
	vm_destroy(vm); /* while the vCPU spins */
	if (td.detaches != 1 || td.threads_at_detach || td.alive_at_detach ||
	    td.exits_after_detach) {
		printf("# detaches %d, vCPU threads at detach %d (alive %d), run exits after "
		       "detach %d\n",
		       td.detaches, td.threads_at_detach, td.alive_at_detach,
		       td.exits_after_detach);
		return 0;
	}
	return 1;
}

/*
 * An action-optional report waits for a vCPU that is inside a machine check
 * of its own (MCG_STATUS.MCIP set by an action-required check, which does
 * not go through the queue), not only for the vCPU that took the last
 * report: a machine check while MCIP is set shuts the vCPU down (memerr
 * bursts on a process's pages triple-faulted this way). The vCPU does not
 * run: its run_enter step is called here, and MCIP is set and cleared as the
 * guest's handler would.
 */
static int set_mcg_status(struct vcpu *v, uint64_t val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = 0x17a /* IA32_MCG_STATUS */, .e.data = val };

	return ioctl(v->fd, KVM_SET_MSRS, &m) == 1 ? 0 : -1;
}

static int t_mce_ao_waits_for_mcip(void)
{
	struct capture cap;
	struct vm *vm = make_vm(&cap, 1, false);
	struct arch_mce_stats st;
	struct kvm_sregs sr;
	struct vcpu *v;

	CHECK(vm);
	v = vm->vcpus[0];
	CHECK(ioctl(v->fd, KVM_GET_SREGS, &sr) == 0);
	sr.cr4 |= 1ull << 6; /* CR4.MCE: the guest takes machine checks */
	CHECK(ioctl(v->fd, KVM_SET_SREGS, &sr) == 0);
	CHECK(set_mcg_status(v, 1ull << 2) == 0); /* MCIP: inside a machine check */
	CHECK(arch_mce_queue_ao(vm, 0x3000) == 0);
	vm_hooks_run_enter(v);
	arch_mce_stats(vm, &st);
	if (st.ao_delivered != 0 || st.ao_waits != 1 || st.ao_pending != 1) {
		printf("# with MCIP set: delivered %llu, waits %llu, pending %llu\n",
		       (unsigned long long)st.ao_delivered, (unsigned long long)st.ao_waits,
		       (unsigned long long)st.ao_pending);
		vm_destroy(vm);
		return 0;
	}
	CHECK(set_mcg_status(v, 0) == 0); /* the handler finished */
	vm_hooks_run_enter(v);
	arch_mce_stats(vm, &st);
	CHECK(st.ao_delivered == 1 && st.ao_pending == 0);
	vm_destroy(vm);
	return 1;
}

/*
 * A VMM write to guest memory (here a hypercall's OUT field, as a device's
 * DMA would be) goes through gmem_write(), which marks the page dirty for a
 * running migration: KVM's dirty log never sees it, so without the mark a
 * migration would leave the destination with the old bytes.
 */
static int t_vmm_write_dirty(void)
{
	const uint64_t arg = PARAM_GPA + 0x2000, pfn = arg / GMEM_PAGE_SIZE;
	struct capture cap;
	struct vm *vm = make_vm(&cap, 2, false);
	struct vessel_hc_cpu_start *a;
	struct dirty_log d;
	uint64_t n, w, bit = 1ull << (pfn % 64);
	char err[256];
	int ok = 0;

	CHECK(vm && !LOAD(vm, rawhc));
	param(vm, 0, VESSEL_HC_CPU_START);
	param(vm, 1, arg);
	a = gmem_ptr(&vm->mem, arg, sizeof(*a));
	*a = (struct vessel_hc_cpu_start){ .cpu = 99, .cr3 = 0x1000, .ret = 12345 };
	memset(&d, 0, sizeof(d));
	if (dirty_start(&d, vm, true, err, sizeof(err)) || gmem_dirty_track(&vm->mem, true) ||
	    dirty_sync(&d, &n, err, sizeof(err))) {
		printf("# dirty logging: %s\n", err);
		goto out;
	}
	memset(d.slot[0].bits, 0, (d.slot[0].npages + 63) / 64 * 8); /* as if all were sent */
	if (run_to_stop(vm) != 0)
		goto out;
	if (dirty_sync(&d, &n, err, sizeof(err))) {
		printf("# dirty_sync: %s\n", err);
		goto out;
	}
	w = pfn / 64;
	ok = a->ret == -EINVAL &&	   /* the VMM wrote the OUT field */
	     !(d.slot[0].tmp[w] & bit) && /* KVM's log did not see that write */
	     (d.slot[0].bits[w] & bit);	   /* and yet the page is to be sent again */
	if (!ok)
		printf("# ret %lld, in KVM's log %d, to send %d\n", (long long)a->ret,
		       !!(d.slot[0].tmp[w] & bit), !!(d.slot[0].bits[w] & bit));
out:
	dirty_stop(&d);
	dirty_free(&d);
	gmem_dirty_track(&vm->mem, false);
	vm_destroy(vm);
	return ok;
}

static const struct test tests[] = {
	{ "console output reaches the host", t_console },
	{ "poweroff status 0", t_status_0 },
	{ "poweroff status 42", t_status_42 },
	{ "poweroff status 255", t_status_255 },
	{ "test channel PRINT/SYNC/ASSERT/DONE", t_test_channel },
	{ "bad hypercall: argument outside RAM", t_hc_outside_ram },
	{ "bad hypercall: argument straddles the end of RAM", t_hc_straddles_end },
	{ "bad hypercall: misaligned argument", t_hc_misaligned },
	{ "bad hypercall: unknown number", t_hc_unknown },
	{ "bad hypercall: unterminated string", t_hc_unterminated },
	{ "bad hypercall: string runs off the end of RAM", t_hc_string_off_end },
	{ "bad hypercall: unknown test kind", t_hc_bad_kind },
	{ "bad hypercall: poweroff status > 255", t_hc_bad_status },
	{ "bad hypercall: cpu_start cr3 outside RAM", t_hc_bad_cr3 },
	{ "bad hypercall: byte-sized OUT", t_hc_byte },
	{ "bad hypercall: argument on a poisoned page", t_hc_poisoned_arg },
	{ "bad hypercall: string runs into a poisoned page", t_hc_poisoned_str },
	{ "triple fault stops the VM with a register dump", t_triple_fault },
	{ "register dump with RIP on a poisoned page", t_dump_poisoned_rip },
	{ "unassigned MMIO stops the VM", t_unassigned_mmio },
	{ "console input reaches the guest", t_console_input },
	{ "COM1 input raises IRQ 4 through the IOAPIC", t_serial_irq },
	{ "AP start via hypercall (-EBUSY, -EINVAL too)", t_ap_start },
	{ "a triple fault on an AP names that vCPU", t_ap_fault },
	{ "pause/resume of all vCPUs", t_pause_resume },
	{ "a held pause refuses resume until released", t_pause_hold },
	{ "save at SYNC, restore into a new VM, continue", t_save_restore },
	{ "vm_destroy joins the vCPUs before it detaches the hooks", t_teardown_order },
	{ "an action-optional report waits while the vCPU is inside a machine check (MCIP)",
	  t_mce_ao_waits_for_mcip },
	{ "a VMM write to guest memory reaches the migration's dirty set", t_vmm_write_dirty },
};

int main(int argc, char **argv)
{
	unsigned n = sizeof(tests) / sizeof(tests[0]);
	const char *only = argc > 1 ? argv[1] : NULL;
	bool kvm = access("/dev/kvm", R_OK | W_OK) == 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%u\n", n);
	for (unsigned i = 0; i < n; i++) {
		if (only && !strstr(tests[i].name, only)) {
			report(1, "%s # SKIP not selected", tests[i].name);
			continue;
		}
		if (!kvm) {
			report(1, "%s # SKIP no /dev/kvm", tests[i].name);
			continue;
		}
		report(tests[i].fn(), "%s", tests[i].name);
	}
	return failures ? 1 : 0;
}
