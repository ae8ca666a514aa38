// SPDX-License-Identifier: MIT
#include "monitor/fields.h"
#include "monitor/policy.h"
#include "core/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

/* offsets of the GPRs in struct kvm_regs, in enum mon_field order */
static const size_t gpr_off[] = {
	offsetof(struct kvm_regs, rax), offsetof(struct kvm_regs, rbx),
	offsetof(struct kvm_regs, rcx), offsetof(struct kvm_regs, rdx),
	offsetof(struct kvm_regs, rsi), offsetof(struct kvm_regs, rdi),
	offsetof(struct kvm_regs, rsp), offsetof(struct kvm_regs, rbp),
	offsetof(struct kvm_regs, r8),	offsetof(struct kvm_regs, r9),
	offsetof(struct kvm_regs, r10), offsetof(struct kvm_regs, r11),
	offsetof(struct kvm_regs, r12), offsetof(struct kvm_regs, r13),
	offsetof(struct kvm_regs, r14), offsetof(struct kvm_regs, r15),
	offsetof(struct kvm_regs, rip), offsetof(struct kvm_regs, rflags),
};

/* a pointer to the u64 (or u16 selector) of field f inside sregs */
static __u64 *sreg_u64(struct kvm_sregs *s, unsigned f)
{
	switch (f) {
	case MF_GDTR_BASE:
		return &s->gdt.base;
	case MF_IDTR_BASE:
		return &s->idt.base;
	case MF_CR0:
		return &s->cr0;
	case MF_CR2:
		return &s->cr2;
	case MF_CR3:
		return &s->cr3;
	case MF_CR4:
		return &s->cr4;
	case MF_CR8:
		return &s->cr8;
	case MF_EFER:
		return &s->efer;
	case MF_APIC_BASE:
		return &s->apic_base;
	}
	return NULL;
}

static struct kvm_segment *seg(struct kvm_sregs *s, unsigned f)
{
	struct kvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs,
				       &s->gs, &s->ss, &s->tr, &s->ldt };

	return f >= MF_CS && f <= MF_LDTR ? segs[f - MF_CS] : NULL;
}

static int msr_access(struct vcpu *v, uint32_t index, uint64_t *val, bool write)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index, .e.data = *val };
	int n = ioctl(v->fd, write ? KVM_SET_MSRS : KVM_GET_MSRS, &m);

	if (n < 0)
		return -errno;
	if (n != 1)
		return -EIO;
	*val = m.e.data;
	return 0;
}

static uint64_t *event_u64(struct kvm_vcpu_events *e, unsigned f, uint64_t *tmp)
{
	switch (f) {
	case MF_EXC_INJECTED:
		*tmp = e->exception.injected;
		break;
	case MF_EXC_NR:
		*tmp = e->exception.nr;
		break;
	case MF_EXC_ERROR_CODE:
		*tmp = e->exception.error_code;
		break;
	case MF_IRQ_INJECTED:
		*tmp = e->interrupt.injected;
		break;
	case MF_IRQ_NR:
		*tmp = e->interrupt.nr;
		break;
	case MF_NMI_INJECTED:
		*tmp = e->nmi.injected;
		break;
	case MF_NMI_PENDING:
		*tmp = e->nmi.pending;
		break;
	case MF_INT_SHADOW:
		*tmp = e->interrupt.shadow;
		break;
	default:
		return NULL;
	}
	return tmp;
}

static void event_store(struct kvm_vcpu_events *e, unsigned f, uint64_t val)
{
	switch (f) {
	case MF_EXC_INJECTED:
		e->exception.injected = (uint8_t)val;
		break;
	case MF_EXC_NR:
		e->exception.nr = (uint8_t)val;
		break;
	case MF_EXC_ERROR_CODE:
		e->exception.error_code = (uint32_t)val;
		break;
	case MF_IRQ_INJECTED:
		e->interrupt.injected = (uint8_t)val;
		break;
	case MF_IRQ_NR:
		e->interrupt.nr = (uint8_t)val;
		break;
	case MF_NMI_INJECTED:
		e->nmi.injected = (uint8_t)val;
		break;
	case MF_NMI_PENDING:
		e->nmi.pending = (uint8_t)val;
		break;
	case MF_INT_SHADOW:
		e->interrupt.shadow = (uint8_t)val;
		break;
	}
}

static int field_access(struct vcpu *v, unsigned f, uint64_t *val, bool write)
{
	const struct mon_field_rule *r = mon_field_rule(f);
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events ev;
	uint64_t tmp;

	if (!r || !r->set)
		return -EINVAL;
	switch (r->cls) {
	case MFC_GPR:
		if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
			return -errno;
		if (!write) {
			memcpy(val, (char *)&regs + gpr_off[f - MF_RAX], 8);
			return 0;
		}
		memcpy((char *)&regs + gpr_off[f - MF_RAX], val, 8);
		return ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
	case MFC_SEG:
	case MFC_CR:
		if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
			return -errno;
		if (seg(&sregs, f)) {
			if (!write) {
				*val = seg(&sregs, f)->selector;
				return 0;
			}
			seg(&sregs, f)->selector = (uint16_t)*val;
		} else if (!write) {
			*val = *sreg_u64(&sregs, f);
			return 0;
		} else {
			*sreg_u64(&sregs, f) = *val;
		}
		return ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ? -errno : 0;
	case MFC_MSR:
		return msr_access(v, r->msr, val, write);
	case MFC_EVENT:
		if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return -errno;
		if (!write) {
			*val = *event_u64(&ev, f, &tmp);
			return 0;
		}
		event_store(&ev, f, *val);
		ev.flags = 0; /* leave NMI pending, SIPI vector, shadow as they are */
		return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
	case MFC_EXIT:
		break;
	}
	return -EINVAL;
}

int mon_field_get(struct vcpu *v, unsigned field, uint64_t *val)
{
	return field_access(v, field, val, false);
}

int mon_field_set(struct vcpu *v, unsigned field, uint64_t val)
{
	return field_access(v, field, &val, true);
}
