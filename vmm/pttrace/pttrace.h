/* SPDX-License-Identifier: MIT */
/*
 * Page-table traces (`vessel run --pt-trace FILE`, docs/sptmodel.md): the
 * guest kernel, booted with `pttrace=on`, registers one trace buffer per CPU
 * with VESSEL_HC_PTTRACE (include/abi/vessel.h) and drains it when full;
 * this subsystem appends the records to FILE (include/abi/pttrace.h). The
 * control command `pt-mark NAME` pauses the VM, drains every buffer and
 * writes a MARK with the KVM statistics of that moment (a workload
 * boundary); when the VM stops, the rest of every buffer, a last MARK "end"
 * and the END block are written. Without --pt-trace the hypercall answers
 * -ENODEV and the guest stops tracing.
 */
#ifndef VMM_PTTRACE_PTTRACE_H
#define VMM_PTTRACE_PTTRACE_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/*
 * pttrace_attach - record vm's page-table trace into path (created or
 * truncated now). After vm_kvm_create(), before vm_start(). 0 or -errno with
 * vm->err set (naming the file).
 */
int pttrace_attach(struct vm *vm, const char *path);

/*
 * pttrace_mark - drain every registered buffer (pausing the VM while it
 * runs) and write a MARK named name with the KVM statistics. 0, or -errno
 * with err set: -ENODEV without --pt-trace.
 */
int pttrace_mark(struct vm *vm, const char *name, char *err, size_t errlen);

struct pttrace_counts {
	uint64_t records, lost, drains, marks;
	unsigned buffers; /* registered */
};

/* pttrace_counts - what was written so far; -ENODEV without --pt-trace. */
int pttrace_counts(struct vm *vm, struct pttrace_counts *c);

#endif
