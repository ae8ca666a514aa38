// SPDX-License-Identifier: MIT
#include "core/exit.h"
#include "core/iobus.h"
#include "core/memerr.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

void exit_fault(struct exit_result *res, const char *fmt, ...)
{
	va_list ap;

	res->action = EXIT_FAULT;
	res->status = VESSEL_EXIT_GUEST_FAULT;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

void exit_stop(struct exit_result *res, int status, const char *fmt, ...)
{
	va_list ap;

	res->action = EXIT_STOP;
	res->status = status;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

const char *exit_reason_name(unsigned reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO",
		[KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
		[KVM_EXIT_HLT] = "KVM_EXIT_HLT",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR",
		[KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
		[KVM_EXIT_NMI] = "KVM_EXIT_NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown";
}

static void dispatch_pio(struct vm *vm, struct vcpu *vcpu, struct kvm_run *run,
			 struct exit_result *res)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t size = run->io.size;

	if (size != 1 && size != 2 && size != 4) {
		exit_fault(res, "port I/O of invalid size %u at port %#x", size, run->io.port);
		return;
	}
	/* string instructions (rep outsb) arrive as `count` consecutive items */
	for (uint32_t i = 0; i < run->io.count && res->action == EXIT_CONTINUE; i++) {
		const struct io_range *r = iobus_find(&vm->pio, run->io.port, size);
		struct io_access acc = {
			.addr = run->io.port,
			.size = size,
			.write = write,
			.data = data + (size_t)i * size,
			.vcpu = vcpu,
		};

		if (!r) {
			/* unassigned port: reads float high, writes vanish, as on a PC */
			if (!write)
				memset(acc.data, 0xff, size);
			continue;
		}
		acc.offset = acc.addr - r->base;
		r->fn(r->opaque, &acc, res);
	}
}

static void dispatch_mmio(struct vm *vm, struct vcpu *vcpu, struct kvm_run *run,
			  struct exit_result *res)
{
	uint32_t len = run->mmio.len;
	const struct io_range *r;
	struct io_access acc;

	if (len == 0 || len > 8) {
		exit_fault(res, "MMIO access of invalid size %u at %#llx", len,
			   (unsigned long long)run->mmio.phys_addr);
		return;
	}
	r = iobus_find(&vm->mmio, run->mmio.phys_addr, len);
	if (!r && memerr_mmio_consumed(vm, vcpu, run->mmio.phys_addr)) {
		if (!run->mmio.is_write) /* the machine check comes before anything uses it */
			memset(run->mmio.data, 0xff, len);
		return;
	}
	if (!r) {
		exit_fault(res,
			   "guest %s %u byte(s) at guest-physical %#llx: no RAM or device there",
			   run->mmio.is_write ? "wrote" : "read", len,
			   (unsigned long long)run->mmio.phys_addr);
		return;
	}
	acc = (struct io_access){
		.addr = run->mmio.phys_addr,
		.offset = run->mmio.phys_addr - r->base,
		.size = len,
		.write = run->mmio.is_write,
		.data = run->mmio.data,
		.vcpu = vcpu,
	};
	r->fn(r->opaque, &acc, res);
}

void exit_dispatch(struct vm *vm, struct vcpu *vcpu, struct kvm_run *run, struct exit_result *res)
{
	memset(res, 0, sizeof(*res));
	res->action = EXIT_CONTINUE;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		dispatch_pio(vm, vcpu, run, res);
		break;
	case KVM_EXIT_MMIO:
		dispatch_mmio(vm, vcpu, run, res);
		break;
	case KVM_EXIT_INTR:
		break; /* a kick: the vCPU loop looks at the run state */
	case KVM_EXIT_SHUTDOWN:
		exit_fault(res, "triple fault (KVM_EXIT_SHUTDOWN): the guest could not "
				"deliver an exception");
		break;
	case KVM_EXIT_HLT:
		exit_fault(res, "guest halted with no in-kernel LAPIC to wake it (KVM_EXIT_HLT)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit_fault(res, "KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, reason %#llx)",
			   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit_fault(res,
			   "KVM internal error (suberror %u): often an instruction KVM "
			   "cannot emulate",
			   run->internal.suberror);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			exit_stop(res, 0, "guest requested shutdown (system event)");
		else
			exit_fault(res, "guest requested system event %u (reset/crash)",
				   run->system_event.type);
		break;
	default:
		exit_fault(res, "unhandled exit %s (%u)", exit_reason_name(run->exit_reason),
			   run->exit_reason);
		break;
	}
}
