// SPDX-License-Identifier: MIT
/* The secure domain: a second KVM VM over the same RAM (domain.h). */
#include "domain/domain.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "core/exit.h"
#include "core/hooks.h"
#include "core/hypercall.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "domain/tcb_image.h"
#include "core/clock.h"

#define DOMAIN_MAX_VCPUS 8
#define DOMAIN_MAP_LIMIT (1ull << 30) /* the page tables map [0, 1 GiB) */
#define DOMAIN_VMA	 0xffffffff80000000ull
#define DOMAIN_MAX_EXITS 64 /* a call that exits more often is broken */
#define PTE_P		 1ull
#define PTE_W		 2ull
#define PTE_PS		 0x80ull

struct domain {
	struct vm *vm;
	uint64_t gpa, va, size; /* the TCB */
	struct vessel_tcb_header hdr;
	uint8_t *pristine;    /* the TCB as loaded (for domain_measure) */
	pthread_mutex_t lock; /* creation of the KVM VM and its vCPUs */
	int vm_fd;
	int vcpu_fd[DOMAIN_MAX_VCPUS];
	struct kvm_run *run[DOMAIN_MAX_VCPUS];
	uint64_t calls, exits, ns, refused; /* relaxed atomics */
};

static const struct vm_hook_ops domain_hooks;

struct domain *domain_find(struct vm *vm)
{
	return vm_hook_find(vm, &domain_hooks);
}

static int check_header(struct vm *vm, const struct vessel_tcb_header *h, uint64_t size,
			uint64_t va)
{
	if (h->magic != VESSEL_TCB_MAGIC || !h->nentries || h->nentries > VESSEL_TCB_ENTRIES_MAX)
		return vm_set_err(vm, -ENOEXEC, "domain: the TCB's header is bad (magic, entries)");
	for (unsigned i = 0; i < h->nentries; i++)
		if (h->entry[i] < va || h->entry[i] >= va + size)
			return vm_set_err(vm, -ENOEXEC,
					  "domain: TCB entry %u (%#llx) is outside the TCB", i,
					  (unsigned long long)h->entry[i]);
	if (h->pt_off % 4096 || h->pt_off > size || size - h->pt_off < 3 * 4096 || !h->ncpus ||
	    !h->stack_size || h->stack_size % 4096 || h->stack_size < 2 * VESSEL_PATCH_MAX ||
	    h->stack_off % 4096 || h->stack_off > size ||
	    h->ncpus > (size - h->stack_off) / h->stack_size)
		return vm_set_err(vm, -ENOEXEC,
				  "domain: the TCB's page-table or stack area is outside the TCB");
	return 0;
}

/*
 * The secure domain's page tables, in the TCB's own pages (hidden from the
 * root domain; written before any vCPU runs): DOMAIN_VMA + x -> x for x below
 * 1 GiB, 2 MiB pages, writable (kernel text included).
 */
static void write_page_tables(struct domain *d)
{
	uint64_t pt = d->gpa + d->hdr.pt_off;
	/* raw pointer: the loader's time, and this memory is out of the root's reach */
	uint64_t *pml4 = gmem_ptr(&d->vm->mem, pt, 3 * 4096), *pdpt = pml4 + 512, *pd = pml4 + 1024;

	memset(pml4, 0, 3 * 4096);
	pml4[511] = (pt + 4096) | PTE_P | PTE_W;
	pdpt[510] = (pt + 8192) | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
}

int domain_attach(struct vm *vm, const struct tcb_image *t)
{
	struct domain *d;
	const void *h = gmem_ptr(&vm->mem, t->gpa, sizeof(d->hdr));
	int err;

	if (!h || t->gpa + t->size > DOMAIN_MAP_LIMIT || t->va != DOMAIN_VMA + t->gpa)
		return vm_set_err(vm, -ENOEXEC,
				  "domain: the TCB must be loaded below 1 GiB at "
				  "0xffffffff80000000 + its physical address");
	d = calloc(1, sizeof(*d));
	if (!d)
		return vm_set_err(vm, -ENOMEM, "domain: out of memory");
	d->vm = vm;
	d->gpa = t->gpa;
	d->va = t->va;
	d->size = t->size;
	d->vm_fd = -1;
	for (unsigned i = 0; i < DOMAIN_MAX_VCPUS; i++)
		d->vcpu_fd[i] = -1;
	pthread_mutex_init(&d->lock, NULL);
	memcpy(&d->hdr, h, sizeof(d->hdr));
	err = check_header(vm, &d->hdr, d->size, d->va);
	if (!err && vm->cfg.cpus > d->hdr.ncpus)
		err = vm_set_err(vm, -ENOSPC, "domain: the TCB has stacks for %u vCPUs, not %u",
				 d->hdr.ncpus, vm->cfg.cpus);
	if (!err) {
		d->pristine = malloc(d->size);
		if (!d->pristine)
			err = vm_set_err(vm, -ENOMEM, "domain: out of memory");
		else
			memcpy(d->pristine, gmem_ptr(&vm->mem, t->gpa, t->size), d->size);
	}
	if (!err)
		err = vm_mem_hide(vm, d->gpa, d->size);
	if (!err)
		err = vm_hook_attach(vm, &domain_hooks, d);
	if (err) {
		pthread_mutex_destroy(&d->lock);
		free(d->pristine);
		free(d);
		return err;
	}
	write_page_tables(d);
	return 0;
}

int domain_measure(struct domain *d, uint8_t out[32])
{
	/* raw pointer: a copy of the secure memory, no call runs (paused VM) */
	const uint8_t *mem = gmem_ptr(&d->vm->mem, d->gpa, d->size);
	uint8_t *copy;
	int err;

	if (!mem)
		return -EIO;
	copy = malloc(d->size);
	if (!copy)
		return -EIO;
	memcpy(copy, mem, d->size);
	memcpy(copy + d->hdr.pt_off, d->pristine + d->hdr.pt_off, 3 * 4096);
	memcpy(copy + d->hdr.stack_off, d->pristine + d->hdr.stack_off,
	       (size_t)d->hdr.ncpus * d->hdr.stack_size);
	err = tcb_sha256(copy, d->size, out);
	free(copy);
	return err ? -EIO : 0;
}

void domain_tcb_range(struct domain *d, uint64_t *gpa, uint64_t *size)
{
	*gpa = d->gpa;
	*size = d->size;
}

/* The second KVM VM: every RAM region, writable. Under d->lock. */
static int create_vm(struct domain *d, char *why, size_t whylen)
{
	struct vm *vm = d->vm;

	d->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (d->vm_fd < 0) {
		snprintf(why, whylen, "domain: KVM_CREATE_VM for the secure domain: %s",
			 strerror(errno));
		return -EIO;
	}
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region s = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &s) < 0) {
			snprintf(why, whylen, "domain: memslot %u of the secure domain: %s", i,
				 strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

/* Secure vCPU i: 64-bit mode, CR3 = the TCB's page tables. Under d->lock. */
static int create_vcpu(struct domain *d, unsigned i, char *why, size_t whylen)
{
	struct vm *vm = d->vm;
	struct vcpu tmp = { .vm = vm, .id = i };
	int fd = ioctl(d->vm_fd, KVM_CREATE_VCPU, i);

	if (fd < 0) {
		snprintf(why, whylen, "domain: KVM_CREATE_VCPU %u: %s", i, strerror(errno));
		return -EIO;
	}
	d->vcpu_fd[i] = fd;
	d->run[i] = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d->run[i] == MAP_FAILED) {
		d->run[i] = NULL;
		snprintf(why, whylen, "domain: mmap of vCPU %u: %s", i, strerror(errno));
		return -EIO;
	}
	if (ioctl(fd, KVM_SET_CPUID2, vm->cpuid) < 0) {
		snprintf(why, whylen, "domain: KVM_SET_CPUID2 (vCPU %u): %s", i, strerror(errno));
		return -EIO;
	}
	tmp.fd = fd;
	if (arch_vcpu_boot_state(&tmp, 0, 0, d->gpa + d->hdr.pt_off, 0)) {
		snprintf(why, whylen, "domain: %s", vm->err);
		return -EIO;
	}
	return 0;
}

static int ensure_vcpu(struct domain *d, unsigned i, char *why, size_t whylen)
{
	int err = 0;

	pthread_mutex_lock(&d->lock);
	if (d->vm_fd < 0)
		err = create_vm(d, why, whylen);
	if (!err && d->vcpu_fd[i] < 0)
		err = create_vcpu(d, i, why, whylen);
	pthread_mutex_unlock(&d->lock);
	return err;
}

uint64_t domain_buffer(struct domain *d, struct vcpu *v, uint8_t **host)
{
	unsigned i = v ? v->id : 0;
	uint64_t off = d->hdr.stack_off + i * d->hdr.stack_size; /* the stack's far end */

	/* raw pointer: the TCB's memory, out of the root's reach; only v's thread uses it */
	*host = gmem_ptr(&d->vm->mem, d->gpa + off, VESSEL_PATCH_MAX);
	return d->va + off;
}

/* Runs secure vCPU i until it returns; 0 and *ret, or -EIO with why. */
static int run_secure(struct domain *d, unsigned i, int64_t *ret, char *why, size_t whylen)
{
	struct kvm_run *run = d->run[i];
	int fd = d->vcpu_fd[i];
	struct kvm_regs r;

	for (unsigned n = 0; n < DOMAIN_MAX_EXITS; n++) {
		if (ioctl(fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* a kick for the root vCPU: finish the call first */
			snprintf(why, whylen, "domain: KVM_RUN of secure vCPU %u: %s", i,
				 strerror(errno));
			return -EIO;
		}
		__atomic_fetch_add(&d->exits, 1, __ATOMIC_RELAXED);
		memset(&r, 0, sizeof(r));
		ioctl(fd, KVM_GET_REGS, &r);
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == VESSEL_HC_PORT_BASE + VESSEL_HC_DOMAIN_RETURN) {
			*ret = (int64_t)r.rax;
			/* complete the OUT now, so the next call starts clean */
			run->immediate_exit = 1;
			ioctl(fd, KVM_RUN, 0);
			run->immediate_exit = 0;
			return 0;
		}
		snprintf(why, whylen,
			 "domain: the secure domain stopped with %s (vCPU %u, RIP %#llx) instead "
			 "of returning",
			 exit_reason_name(run->exit_reason), i, (unsigned long long)r.rip);
		return -EIO;
	}
	snprintf(why, whylen, "domain: secure vCPU %u did not return", i);
	return -EIO;
}

int domain_call(struct domain *d, struct vcpu *v, unsigned entry, const uint64_t args[3],
		int64_t *ret, char *why, size_t whylen)
{
	unsigned i = v ? v->id : 0;
	struct kvm_regs r = { 0 };
	uint64_t t0;
	int err;

	if (entry >= d->hdr.nentries)
		return -ENOENT;
	if (i >= d->hdr.ncpus || i >= DOMAIN_MAX_VCPUS) {
		snprintf(why, whylen, "domain: no TCB stack for vCPU %u", i);
		return -EIO;
	}
	err = ensure_vcpu(d, i, why, whylen);
	if (err)
		return err;
	t0 = clock_now_ns(); /* the call, not the creation of the secure VM and vCPU */
	r.rip = d->hdr.entry[entry];
	r.rsp = d->va + d->hdr.stack_off + (i + 1) * d->hdr.stack_size;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.rflags = 0x2; /* interrupts off */
	if (ioctl(d->vcpu_fd[i], KVM_SET_REGS, &r) < 0) {
		snprintf(why, whylen, "domain: KVM_SET_REGS (secure vCPU %u): %s", i,
			 strerror(errno));
		return -EIO;
	}
	err = run_secure(d, i, ret, why, whylen);
	__atomic_fetch_add(&d->calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->ns, clock_now_ns() - t0, __ATOMIC_RELAXED);
	return err;
}

void domain_counts(struct vm *vm, struct domain_counts *out)
{
	struct domain *d = domain_find(vm);

	memset(out, 0, sizeof(*out));
	if (!d)
		return;
	out->calls = __atomic_load_n(&d->calls, __ATOMIC_RELAXED);
	out->exits = __atomic_load_n(&d->exits, __ATOMIC_RELAXED);
	out->ns = __atomic_load_n(&d->ns, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&d->refused, __ATOMIC_RELAXED);
	out->tcb_bytes = d->size;
}

/* Any access of the root domain to the secure memory arrives as MMIO there. */
static bool domain_exit(void *opaque, struct vcpu *v, struct kvm_run *run, struct exit_result *res)
{
	struct domain *d = opaque;
	struct kvm_regs r = { 0 };
	uint64_t gpa;

	if (run->exit_reason != KVM_EXIT_MMIO)
		return false;
	gpa = run->mmio.phys_addr;
	if (gpa < d->gpa || gpa - d->gpa >= d->size)
		return false;
	if (v && v->fd >= 0)
		ioctl(v->fd, KVM_GET_REGS, &r);
	exit_fault(res,
		   "domain: the root domain %s %u bytes of the secure domain's memory at gpa "
		   "%#llx (vCPU %u, RIP %#llx): refused",
		   run->mmio.is_write ? "wrote" : "read", run->mmio.len, (unsigned long long)gpa,
		   v ? v->id : 0, (unsigned long long)r.rip);
	return true;
}

static void domain_detach(void *opaque)
{
	struct domain *d = opaque;

	for (unsigned i = 0; i < DOMAIN_MAX_VCPUS; i++) {
		if (d->run[i])
			munmap(d->run[i], (size_t)d->vm->run_size);
		if (d->vcpu_fd[i] >= 0)
			close(d->vcpu_fd[i]);
	}
	if (d->vm_fd >= 0)
		close(d->vm_fd);
	pthread_mutex_destroy(&d->lock);
	free(d->pristine);
	free(d);
}

static const struct vm_hook_ops domain_hooks = {
	.name = "domain",
	.exit = domain_exit,
	.detach = domain_detach,
};

/* VESSEL_HC_DOMAIN_CALL: the root domain calls a root-callable TCB entry. */
static void hc_domain_call(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct domain *d = domain_find(vm);
	struct vessel_hc_domain_call a;
	char why[256];
	int64_t ret = 0;

	if (hc_arg_read(vm, VESSEL_HC_DOMAIN_CALL, gpa, &a, sizeof(a), res))
		return;
	if (!d) {
		ret = -ENODEV;
	} else if (a.entry >= d->hdr.nentries ||
		   !(d->hdr.entry_flags[a.entry] & VESSEL_TCB_F_ROOT) || a.pad) {
		__atomic_fetch_add(&d->refused, 1, __ATOMIC_RELAXED);
		vm_log(vm, "domain: call of TCB entry %u from the root domain refused: %s", a.entry,
		       a.entry >= d->hdr.nentries ? "no such entry" : "not callable from the root");
		ret = -ENOENT;
	} else if (domain_call(d, vcpu, a.entry, a.args, &ret, why, sizeof(why))) {
		exit_fault(res, "%s", why);
		return;
	}
	hc_ret_write(vm, VESSEL_HC_DOMAIN_CALL, gpa, offsetof(struct vessel_hc_domain_call, ret),
		     ret, res);
}

static const struct hypercall domain_call_hc = { VESSEL_HC_DOMAIN_CALL, "domain_call",
						 hc_domain_call };
HYPERCALL_REGISTER(domain_call_hc);

/* VESSEL_HC_DOMAIN_RETURN from the root domain: not a transition it may make. */
static void hc_domain_return(struct vm *vm, struct vcpu *vcpu, uint64_t gpa,
			     struct exit_result *res)
{
	(void)vm, (void)vcpu, (void)gpa;
	exit_fault(res, "domain: domain_return from the root domain (it is not in a secure call)");
}

static const struct hypercall domain_return_hc = { VESSEL_HC_DOMAIN_RETURN, "domain_return",
						   hc_domain_return };
HYPERCALL_REGISTER(domain_return_hc);
