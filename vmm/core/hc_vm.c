// SPDX-License-Identifier: MIT
/* The VM's own hypercalls: poweroff, the test channel and starting a vCPU. */
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/hypercall.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static void hc_poweroff(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct vessel_hc_poweroff a;
	uint64_t status;

	if (hc_arg_read(vm, VESSEL_HC_POWEROFF, gpa, &a, sizeof(a), res))
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
	if (hc_arg_read(vm, VESSEL_HC_TEST, gpa, &in, sizeof(in), res))
		return;
	msg[0] = '\0';
	if (in.msg_gpa && (in.kind == VESSEL_TEST_ASSERT || in.kind == VESSEL_TEST_PRINT) &&
	    hc_str(vm, VESSEL_HC_TEST, "message", in.msg_gpa, msg, res))
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
		if (hc_str(vm, VESSEL_HC_TEST, "file", in.file_gpa, file, res))
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
	hc_ret_write(vm, VESSEL_HC_TEST, gpa, offsetof(struct vessel_hc_test, ret), 0, res);
}

static int canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static void hc_cpu_start(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	const size_t ret_off = offsetof(struct vessel_hc_cpu_start, ret);
	struct vessel_hc_cpu_start in;
	struct vcpu *ap;

	if (hc_arg_read(vm, VESSEL_HC_CPU_START, gpa, &in, sizeof(in), res))
		return;
	if (in.cr3 % 4096 || !gmem_ptr(&vm->mem, in.cr3, 4096)) {
		exit_fault(res, "hypercall cpu_start: cr3 %#llx is not a page of guest RAM",
			   (unsigned long long)in.cr3);
		return;
	}
	if (in.cpu == 0 || in.cpu >= vm->nr_vcpus || !canonical(in.rip) || !canonical(in.rsp)) {
		hc_ret_write(vm, VESSEL_HC_CPU_START, gpa, ret_off, -EINVAL, res);
		return;
	}
	ap = vm->vcpus[in.cpu];
	pthread_mutex_lock(&vm->lock);
	if (ap->started) {
		pthread_mutex_unlock(&vm->lock);
		hc_ret_write(vm, VESSEL_HC_CPU_START, gpa, ret_off, -EBUSY, res);
		return;
	}
	ap->start_req = in;
	ap->start_pending = true;
	ap->started = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	hc_ret_write(vm, VESSEL_HC_CPU_START, gpa, ret_off, 0, res);
}

static const struct hypercall hc_poweroff_def = { VESSEL_HC_POWEROFF, "poweroff", hc_poweroff };
static const struct hypercall hc_test_def = { VESSEL_HC_TEST, "test", hc_test };
static const struct hypercall hc_cpu_start_def = { VESSEL_HC_CPU_START, "cpu_start", hc_cpu_start };
HYPERCALL_REGISTER(hc_poweroff_def);
HYPERCALL_REGISTER(hc_test_def);
HYPERCALL_REGISTER(hc_cpu_start_def);
