// SPDX-License-Identifier: MIT
#include "core/hypercall.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"
#include "migrate/live/live.h"

#include <errno.h>
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

/* The argument struct: in RAM, naturally aligned (8 bytes for all of ours). */
static void *arg_ptr(struct vm *vm, unsigned nr, uint64_t gpa, size_t size,
		     struct exit_result *res)
{
	void *p;

	if (gpa % 8) {
		exit_fault(res, "hypercall %s: argument address %#llx is not 8-byte aligned",
			   hypercall_name(nr), (unsigned long long)gpa);
		return NULL;
	}
	p = gmem_ptr(&vm->mem, gpa, size);
	if (!p)
		exit_fault(res, "hypercall %s: argument [%#llx, +%zu) is outside guest RAM",
			   hypercall_name(nr), (unsigned long long)gpa, size);
	return p;
}

static int guest_str(struct vm *vm, const char *what, uint64_t gpa, char *buf,
		     struct exit_result *res)
{
	int err = gmem_strcpy(&vm->mem, gpa, buf, VESSEL_HC_STR_MAX);

	if (err == -EFAULT)
		exit_fault(res, "hypercall test: %s string at %#llx is outside guest RAM", what,
			   (unsigned long long)gpa);
	else if (err)
		exit_fault(res, "hypercall test: %s string at %#llx has no NUL within %u bytes",
			   what, (unsigned long long)gpa, VESSEL_HC_STR_MAX);
	return err;
}

static void hc_poweroff(struct vm *vm, uint64_t gpa, struct exit_result *res)
{
	struct vessel_hc_poweroff *a = arg_ptr(vm, VESSEL_HC_POWEROFF, gpa, sizeof(*a), res);
	uint64_t status;

	if (!a)
		return;
	status = a->status;
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
	struct vessel_hc_test *a = arg_ptr(vm, VESSEL_HC_TEST, gpa, sizeof(*a), res);
	struct vm_test_log *t = &vm->test;
	char file[VESSEL_HC_STR_MAX], msg[VESSEL_HC_STR_MAX];
	struct vessel_hc_test in;
	unsigned cpu = vcpu ? vcpu->id : 0;

	if (!a)
		return;
	memcpy(&in, a, sizeof(in)); /* one snapshot: other vCPUs may write meanwhile */
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
	a->ret = 0;
}

static int canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static void hc_cpu_start(struct vm *vm, uint64_t gpa, struct exit_result *res)
{
	struct vessel_hc_cpu_start *a = arg_ptr(vm, VESSEL_HC_CPU_START, gpa, sizeof(*a), res);
	struct vessel_hc_cpu_start in;
	struct vcpu *ap;

	if (!a)
		return;
	memcpy(&in, a, sizeof(in));
	if (in.cr3 % 4096 || !gmem_ptr(&vm->mem, in.cr3, 4096)) {
		exit_fault(res, "hypercall cpu_start: cr3 %#llx is not a page of guest RAM",
			   (unsigned long long)in.cr3);
		return;
	}
	if (in.cpu == 0 || in.cpu >= vm->nr_vcpus || !canonical(in.rip) || !canonical(in.rsp)) {
		a->ret = -EINVAL;
		return;
	}
	ap = vm->vcpus[in.cpu];
	pthread_mutex_lock(&vm->lock);
	if (ap->started) {
		pthread_mutex_unlock(&vm->lock);
		a->ret = -EBUSY;
		return;
	}
	ap->start_req = in;
	ap->start_pending = true;
	ap->started = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	a->ret = 0;
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
