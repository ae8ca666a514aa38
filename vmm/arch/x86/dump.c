// SPDX-License-Identifier: MIT
/* Register dump printed when a guest faults. */
#include "arch/x86/arch.h"
#include "core/guest_mem.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

struct out {
	char *buf;
	size_t len, pos;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void put_seg(struct out *o, const char *name, const struct kvm_segment *s)
{
	put(o, "%-3s %04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u%s\n", name,
	    s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present, s->l,
	    s->db, s->unusable ? " unusable" : "");
}

void arch_vcpu_dump(struct vcpu *v, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_vcpu_events ev;
	int rc;
	uint8_t bytes[16];

	if (len)
		buf[0] = '\0';
	put(&o, "vCPU %u registers:\n", v->id);
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0) {
		put(&o, "  (KVM_GET_REGS failed: %s)\n", strerror(errno));
		return;
	}
	put(&o, "RIP %016llx RFLAGS %016llx\n", (unsigned long long)r.rip,
	    (unsigned long long)r.rflags);
	put(&o, "RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n", (unsigned long long)r.rax,
	    (unsigned long long)r.rbx, (unsigned long long)r.rcx, (unsigned long long)r.rdx);
	put(&o, "RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n", (unsigned long long)r.rsi,
	    (unsigned long long)r.rdi, (unsigned long long)r.rbp, (unsigned long long)r.rsp);
	put(&o, "R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n", (unsigned long long)r.r8,
	    (unsigned long long)r.r9, (unsigned long long)r.r10, (unsigned long long)r.r11);
	put(&o, "R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)r.r12,
	    (unsigned long long)r.r13, (unsigned long long)r.r14, (unsigned long long)r.r15);
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		put(&o, "  (KVM_GET_SREGS failed: %s)\n", strerror(errno));
		return;
	}
	put(&o, "CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx\n", (unsigned long long)s.cr0,
	    (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4);
	put(&o, "EFER %llx APIC_BASE %llx\n", (unsigned long long)s.efer,
	    (unsigned long long)s.apic_base);
	put_seg(&o, "CS", &s.cs);
	put_seg(&o, "SS", &s.ss);
	put_seg(&o, "DS", &s.ds);
	put_seg(&o, "ES", &s.es);
	put_seg(&o, "FS", &s.fs);
	put_seg(&o, "GS", &s.gs);
	put_seg(&o, "TR", &s.tr);
	put(&o, "GDT base=%016llx limit=%04x  IDT base=%016llx limit=%04x\n",
	    (unsigned long long)s.gdt.base, s.gdt.limit, (unsigned long long)s.idt.base,
	    s.idt.limit);
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0 && ev.exception.injected)
		put(&o, "pending exception: vector %u error %#x\n", ev.exception.nr,
		    ev.exception.error_code);
	/* code bytes when RIP is identity-mapped RAM (early boot, test guests) */
	rc = gmem_read(&v->vm->mem, r.rip, bytes, sizeof(bytes));
	if (rc == -EHWPOISON) {
		put(&o, "code at RIP (if identity-mapped): on a poisoned page\n");
	} else if (!rc) {
		put(&o, "code at RIP (if identity-mapped):");
		for (unsigned i = 0; i < sizeof(bytes); i++)
			put(&o, " %02x", bytes[i]);
		put(&o, "\n");
	}
}
