// SPDX-License-Identifier: MIT
/*
 * Whole vCPU state get/set, for save/restore and live migration. The order of
 * the set calls follows what KVM needs: special registers (APIC base, EFER)
 * before the LAPIC, the LAPIC before MSRs like TSC_DEADLINE, events and the
 * MP state last.
 */
#include "arch/x86/arch.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[VCPU_MAX_MSRS];
};

#define IOCTL_OR_FAIL(v, req, arg)                                                                 \
	do {                                                                                       \
		if (ioctl((v)->fd, req, arg) < 0)                                                  \
			return vm_set_err((v)->vm, -errno, "%s (vCPU %u) failed: %s", #req,        \
					  (v)->id, strerror(errno));                               \
	} while (0)

int vcpu_state_get(struct vcpu *v, struct vcpu_state *s)
{
	struct vm *vm = v->vm;
	struct msr_buf buf;
	int n;

	memset(s, 0, sizeof(*s));
	IOCTL_OR_FAIL(v, KVM_GET_REGS, &s->regs);
	IOCTL_OR_FAIL(v, KVM_GET_SREGS, &s->sregs);
	IOCTL_OR_FAIL(v, KVM_GET_XSAVE, &s->xsave);
	IOCTL_OR_FAIL(v, KVM_GET_XCRS, &s->xcrs);
	IOCTL_OR_FAIL(v, KVM_GET_DEBUGREGS, &s->debugregs);
	IOCTL_OR_FAIL(v, KVM_GET_LAPIC, &s->lapic);
	IOCTL_OR_FAIL(v, KVM_GET_VCPU_EVENTS, &s->events);
	IOCTL_OR_FAIL(v, KVM_GET_MP_STATE, &s->mp_state);

	memset(&buf, 0, sizeof(buf));
	buf.hdr.nmsrs = vm->nr_msrs;
	for (unsigned i = 0; i < vm->nr_msrs; i++)
		buf.e[i].index = vm->msr_list[i];
	n = ioctl(v->fd, KVM_GET_MSRS, &buf);
	if (n < 0 || (unsigned)n != vm->nr_msrs)
		return vm_set_err(vm, -EIO, "KVM_GET_MSRS (vCPU %u) read %d of %u MSRs", v->id, n,
				  vm->nr_msrs);
	s->nr_msrs = vm->nr_msrs;
	memcpy(s->msrs, buf.e, vm->nr_msrs * sizeof(buf.e[0]));
	return 0;
}

int vcpu_state_set(struct vcpu *v, const struct vcpu_state *s)
{
	struct msr_buf buf;
	struct kvm_vcpu_events ev = s->events;
	int n;

	if (s->nr_msrs > VCPU_MAX_MSRS)
		return vm_set_err(v->vm, -EINVAL, "vCPU state has %u MSRs (max %u)", s->nr_msrs,
				  VCPU_MAX_MSRS);
	IOCTL_OR_FAIL(v, KVM_SET_SREGS, &s->sregs);
	IOCTL_OR_FAIL(v, KVM_SET_REGS, &s->regs);
	IOCTL_OR_FAIL(v, KVM_SET_XSAVE, &s->xsave);
	IOCTL_OR_FAIL(v, KVM_SET_XCRS, &s->xcrs);
	IOCTL_OR_FAIL(v, KVM_SET_DEBUGREGS, &s->debugregs);
	IOCTL_OR_FAIL(v, KVM_SET_LAPIC, &s->lapic);

	memset(&buf, 0, sizeof(buf));
	buf.hdr.nmsrs = s->nr_msrs;
	memcpy(buf.e, s->msrs, s->nr_msrs * sizeof(buf.e[0]));
	n = ioctl(v->fd, KVM_SET_MSRS, &buf);
	if (n < 0 || (unsigned)n != s->nr_msrs)
		return vm_set_err(v->vm, -EIO, "KVM_SET_MSRS (vCPU %u) wrote %d of %u MSRs", v->id,
				  n, s->nr_msrs);

	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
		    KVM_VCPUEVENT_VALID_SHADOW;
	IOCTL_OR_FAIL(v, KVM_SET_VCPU_EVENTS, &ev);
	IOCTL_OR_FAIL(v, KVM_SET_MP_STATE, &s->mp_state);
	return 0;
}
