// SPDX-License-Identifier: MIT
#include "core/hypercall.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"
#include "migrate/live/live.h"
#include "migrate/safecopy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const char *hypercall_name(unsigned nr)
{
	switch (nr) {
	case VESSEL_HC_POWEROFF:
		return "poweroff";
	case VESSEL_HC_TEST:
		return "test";
	case VESSEL_HC_CPU_START:
		return "cpu_start";
	}
	return "unknown";
}

/*
 * Guest memory is read and written here only through a memory-exception-safe
 * copy: a page hit by an uncorrectable memory error (or poisoned with
 * inject-ume) raises SIGBUS on access, which must stop this VM with a clear
 * reason, never kill the VMM.
 */
static int guest_copy(struct vm *vm, void *dst, uint64_t gpa, size_t len, bool to_guest)
{
	uint8_t *p = gmem_ptr(&vm->mem, gpa, len);

	if (!p)
		return -EFAULT;
	return to_guest ? mig_safe_copy(p, dst, len, NULL) : mig_safe_copy(dst, p, len, NULL);
}

/* The argument struct: in RAM, naturally aligned (8 bytes for all of ours). */
static int arg_read(struct vm *vm, unsigned nr, uint64_t gpa, void *dst, size_t size,
		    struct exit_result *res)
{
	int err;

	if (gpa % 8) {
		exit_fault(res, "hypercall %s: argument address %#llx is not 8-byte aligned",
			   hypercall_name(nr), (unsigned long long)gpa);
		return -EINVAL;
	}
	err = guest_copy(vm, dst, gpa, size, false);
	if (err == -EFAULT)
		exit_fault(res, "hypercall %s: argument [%#llx, +%zu) is outside guest RAM",
			   hypercall_name(nr), (unsigned long long)gpa, size);
	else if (err)
		exit_fault(res,
			   "hypercall %s: argument [%#llx, +%zu) is on a poisoned page "
			   "(uncorrectable memory error)",
			   hypercall_name(nr), (unsigned long long)gpa, size);
	return err;
}

/* Write the OUT field `ret` at offset `off` of the argument struct at gpa. */
static void arg_write_ret(struct vm *vm, unsigned nr, uint64_t gpa, size_t off, int64_t ret,
			  struct exit_result *res)
{
	if (guest_copy(vm, &ret, gpa + off, sizeof(ret), true))
		exit_fault(res, "hypercall %s: cannot write ret at %#llx: poisoned page",
			   hypercall_name(nr), (unsigned long long)(gpa + off));
}

/*
 * Copy the NUL-terminated guest string at gpa into buf (VESSEL_HC_STR_MAX
 * bytes), a page at a time so that bytes after the NUL are never read.
 * Returns 0, -EFAULT (outside RAM), -EHWPOISON or -ENAMETOOLONG.
 */
static int guest_strcpy(struct vm *vm, uint64_t gpa, char *buf)
{
	size_t got = 0;

	while (got < VESSEL_HC_STR_MAX) {
		uint64_t a = gpa + got;
		size_t n = GMEM_PAGE_SIZE - a % GMEM_PAGE_SIZE;
		int err;

		if (a < gpa)
			return -EFAULT; /* wrapped around */
		if (n > VESSEL_HC_STR_MAX - got)
			n = VESSEL_HC_STR_MAX - got;
		err = guest_copy(vm, buf + got, a, n, false);
		if (err)
			return err;
		if (memchr(buf + got, '\0', n))
			return 0;
		got += n;
	}
	buf[0] = '\0';
	return -ENAMETOOLONG;
}

static int guest_str(struct vm *vm, const char *what, uint64_t gpa, char *buf,
		     struct exit_result *res)
{
	int err = guest_strcpy(vm, gpa, buf);

	if (err == -EFAULT)
		exit_fault(res, "hypercall test: %s string at %#llx is outside guest RAM", what,
			   (unsigned long long)gpa);
	else if (err == -EHWPOISON)
		exit_fault(res,
			   "hypercall test: %s string at %#llx runs into a poisoned page "
			   "(uncorrectable memory error)",
			   what, (unsigned long long)gpa);
	else if (err)
		exit_fault(res, "hypercall test: %s string at %#llx has no NUL within %u bytes",
			   what, (unsigned long long)gpa, VESSEL_HC_STR_MAX);
	return err;
}

static void hc_poweroff(struct vm *vm, uint64_t gpa, struct exit_result *res)
{
	struct vessel_hc_poweroff a;
	uint64_t status;

	if (arg_read(vm, VESSEL_HC_POWEROFF, gpa, &a, sizeof(a), res))
		return;
	status = a.status;
	if (status > 255) {
		exit_fault(res, "hypercall poweroff: status %llu is not in 0..255",
			   (unsigned long long)status);
		return;
	}
	exit_stop(res, (int)status, "guest powered off with status %llu",
		  (unsigned long long)status);
}

static void hc_test(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct vm_test_log *t = &vm->test;
	char file[VESSEL_HC_STR_MAX], msg[VESSEL_HC_STR_MAX];
	struct vessel_hc_test in;
	unsigned cpu = vcpu ? vcpu->id : 0;

	/* one snapshot: other vCPUs may write meanwhile */
	if (arg_read(vm, VESSEL_HC_TEST, gpa, &in, sizeof(in), res))
		return;
	msg[0] = '\0';
	if (in.msg_gpa && (in.kind == VESSEL_TEST_ASSERT || in.kind == VESSEL_TEST_PRINT) &&
	    guest_str(vm, "message", in.msg_gpa, msg, res))
		return;

	pthread_mutex_lock(&vm->lock);
	switch (in.kind) {
	case VESSEL_TEST_SYNC:
		t->syncs++;
		t->last_sync = in.arg;
		if (vm->cfg.pause_on_sync) {
			res->action = EXIT_PAUSE;
			res->arg = in.arg;
		}
		break;
	case VESSEL_TEST_ASSERT:
		pthread_mutex_unlock(&vm->lock);
		if (guest_str(vm, "file", in.file_gpa, file, res))
			return;
		pthread_mutex_lock(&vm->lock);
		t->asserts++;
		snprintf(t->last_assert, sizeof(t->last_assert), "%s:%u: %s", file, in.line, msg);
		break;
	case VESSEL_TEST_DONE:
		t->dones++;
		t->done_failures = in.arg;
		break;
	case VESSEL_TEST_PRINT:
		t->prints++;
		snprintf(t->last_print, sizeof(t->last_print), "%s", msg);
		break;
	default:
		pthread_mutex_unlock(&vm->lock);
		exit_fault(res, "hypercall test: unknown kind %u", in.kind);
		return;
	}
	pthread_mutex_unlock(&vm->lock);

	switch (in.kind) {
	case VESSEL_TEST_ASSERT:
		vm_log(vm, "guest assertion failed (vCPU %u): %s:%u: %s", cpu, file, in.line, msg);
		break;
	case VESSEL_TEST_DONE:
		vm_log(vm, "guest test done: %llu failure(s)", (unsigned long long)in.arg);
		break;
	case VESSEL_TEST_PRINT:
		vm_log(vm, "guest: %s", msg);
		break;
	default:
		break;
	}
	arg_write_ret(vm, VESSEL_HC_TEST, gpa, offsetof(struct vessel_hc_test, ret), 0, res);
}

static int canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static void hc_cpu_start(struct vm *vm, uint64_t gpa, struct exit_result *res)
{
	const size_t ret_off = offsetof(struct vessel_hc_cpu_start, ret);
	struct vessel_hc_cpu_start in;
	struct vcpu *ap;

	if (arg_read(vm, VESSEL_HC_CPU_START, gpa, &in, sizeof(in), res))
		return;
	if (in.cr3 % 4096 || !gmem_ptr(&vm->mem, in.cr3, 4096)) {
		exit_fault(res, "hypercall cpu_start: cr3 %#llx is not a page of guest RAM",
			   (unsigned long long)in.cr3);
		return;
	}
	if (in.cpu == 0 || in.cpu >= vm->nr_vcpus || !canonical(in.rip) || !canonical(in.rsp)) {
		arg_write_ret(vm, VESSEL_HC_CPU_START, gpa, ret_off, -EINVAL, res);
		return;
	}
	ap = vm->vcpus[in.cpu];
	pthread_mutex_lock(&vm->lock);
	if (ap->started) {
		pthread_mutex_unlock(&vm->lock);
		arg_write_ret(vm, VESSEL_HC_CPU_START, gpa, ret_off, -EBUSY, res);
		return;
	}
	ap->start_req = in;
	ap->start_pending = true;
	ap->started = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	arg_write_ret(vm, VESSEL_HC_CPU_START, gpa, ret_off, 0, res);
}

static void hc_io(void *opaque, struct io_access *acc, struct exit_result *res)
{
	struct vm *vm = opaque;
	unsigned nr = (unsigned)acc->offset;
	uint32_t gpa;

	if (!acc->write || acc->size != 4) {
		exit_fault(res, "hypercall port %#llx: %u-byte %s (hypercalls are 32-bit OUTs)",
			   (unsigned long long)acc->addr, acc->size, acc->write ? "write" : "read");
		return;
	}
	memcpy(&gpa, acc->data, 4);
	switch (nr) {
	case VESSEL_HC_POWEROFF:
		hc_poweroff(vm, gpa, res);
		break;
	case VESSEL_HC_TEST:
		hc_test(vm, acc->vcpu, gpa, res);
		break;
	case VESSEL_HC_CPU_START:
		hc_cpu_start(vm, gpa, res);
		break;
	default:
		exit_fault(res, "unknown hypercall %u (port %#llx)", nr,
			   (unsigned long long)acc->addr);
		break;
	}
	/* OUT fields were written behind KVM's dirty log: tell a running migration */
	live_note_write(vm, gpa, 256);
}

int hypercall_register(struct vm *vm)
{
	return iobus_register(&vm->pio, VESSEL_HC_PORT_BASE, VESSEL_HC_PORT_COUNT, "hypercall",
			      hc_io, vm);
}
