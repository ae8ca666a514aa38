// SPDX-License-Identifier: MIT
/* Memory errors of a VM (see memerr.h). */
#include "core/memerr.h"
#include "arch/x86/arch.h"
#include "core/hooks.h"
#include "core/safecopy.h"
#include "core/term.h"
#include "core/uffd.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* per vCPU thread: inside KVM_RUN, and the address a SIGBUS reported */
static __thread volatile sig_atomic_t t_in_run, t_pending;
static __thread void *volatile t_addr;

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing more we can do in a signal handler */
	}
}

/*
 * The VMM's own SIGBUS handler; safe_copy_init() puts the safe-copy handler
 * in front of it, so copies out of guest memory never reach here.
 */
static void vcpu_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (t_in_run && (si->si_code == BUS_MCEERR_AR || si->si_code == BUS_MCEERR_AO)) {
		t_addr = si->si_addr;
		t_pending = 1;
		return; /* KVM_RUN returns EINTR; the run_exit hook takes over */
	}
	if (si->si_code == BUS_MCEERR_AO) {
		say("vessel: asynchronous memory error reported (BUS_MCEERR_AO); "
		    "the page is poisoned on first access\n");
		return;
	}
	/* A VMM access to poisoned memory outside a recoverable copy: fatal,
	 * as it would be for any process. Re-faulting with the default action
	 * gives the right exit status. */
	say("vessel: uncorrectable memory error in a VMM access outside a recoverable copy\n");
	term_restore(); /* term.c leaves SIGBUS to us */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static int install_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vcpu_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	return safe_copy_init();
}

uint64_t memerr_hva_to_gpa(struct vm *vm, const void *hva)
{
	const struct gmem *m = &vm->mem;
	uintptr_t a = (uintptr_t)hva;

	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (a >= (uintptr_t)r->host && a - (uintptr_t)r->host < r->size)
			return (r->gpa + (a - (uintptr_t)r->host)) & ~(GMEM_PAGE_SIZE - 1);
	}
	return UINT64_MAX;
}

int memerr_record(struct vm *vm, uint64_t gpa)
{
	int rc;

	gpa &= ~(GMEM_PAGE_SIZE - 1);
	rc = poison_set_add(&vm->memerr->poison, gpa);
	if (rc <= 0)
		return rc;
	/* a running migration may have sent it as data already: send it again */
	gmem_mark_dirty(&vm->mem, gpa, GMEM_PAGE_SIZE);
	vm_hooks_memory_error(vm, gpa);
	return rc;
}

bool memerr_is_poisoned(struct vm *vm, uint64_t gpa)
{
	return poison_set_contains(&vm->memerr->poison, gpa & ~(GMEM_PAGE_SIZE - 1));
}

int memerr_poison(struct vm *vm, uint64_t gpa, bool latent, char *err, size_t errlen)
{
	const struct gmem_region *r;
	uint64_t off;
	int rc;

	gpa &= ~(GMEM_PAGE_SIZE - 1);
	r = gmem_region_of(&vm->mem, gpa);
	if (!r) {
		snprintf(err, errlen, "guest-physical address %#llx is not guest RAM",
			 (unsigned long long)gpa);
		return -EINVAL;
	}
	if (!latent && memerr_is_poisoned(vm, gpa))
		return 0;
	off = gpa - r->gpa;
	rc = uffd_poison(r->host + off, vm->mem.fd, (off_t)(r->offset + off), err, errlen);
	if (rc)
		return rc;
	__atomic_fetch_add(&vm->memerr->injected, 1, __ATOMIC_RELAXED);
	if (latent)
		return 1;
	rc = memerr_record(vm, gpa);
	return rc < 0 ? rc : 1;
}

/* A vCPU consumed poisoned guest page gpa: the machine check a load raises. */
static void vcpu_consumed_gpa(struct vm *vm, struct vcpu *v, uint64_t gpa)
{
	int rc;

	memerr_record(vm, gpa);
	vm_log(vm, "vCPU %u touched poisoned guest page %#llx: injecting a machine check", v->id,
	       (unsigned long long)gpa);
	rc = arch_mce_inject_ar(v, gpa);
	if (rc)
		vm_stop(vm, VESSEL_EXIT_VMM_ERROR,
			"vCPU %u: guest page %#llx is poisoned and no machine check can be "
			"injected: %s",
			v->id, (unsigned long long)gpa, strerror(-rc));
}

/* A vCPU consumed poisoned memory at host address addr. */
static void vcpu_consumed(struct vm *vm, struct vcpu *v, void *addr)
{
	uint64_t gpa;

	__atomic_fetch_add(&vm->memerr->vcpu_consumed, 1, __ATOMIC_RELAXED);
	gpa = memerr_hva_to_gpa(vm, addr);
	if (gpa == UINT64_MAX) {
		vm_stop(vm, VESSEL_EXIT_VMM_ERROR,
			"vCPU %u: memory error at host address %p, outside guest RAM", v->id, addr);
		return;
	}
	vcpu_consumed_gpa(vm, v, gpa);
}

bool memerr_mmio_consumed(struct vm *vm, struct vcpu *v, uint64_t gpa)
{
	if (!vm->memerr || !memerr_is_poisoned(vm, gpa))
		return false;
	__atomic_fetch_add(&vm->memerr->vcpu_consumed, 1, __ATOMIC_RELAXED);
	vcpu_consumed_gpa(vm, v, gpa & ~(GMEM_PAGE_SIZE - 1));
	return true;
}

static void run_enter(void *opaque, struct vcpu *v)
{
	t_in_run = 1;
}

static void run_exit(void *opaque, struct vcpu *v)
{
	void *addr;

	t_in_run = 0;
	if (!t_pending)
		return;
	t_pending = 0;
	addr = t_addr;
	vcpu_consumed(v->vm, v, addr);
}

static void detach(void *opaque)
{
	struct memerr *me = opaque;

	me->vm->memerr = NULL;
	poison_set_free(&me->poison);
	free(me);
}

static const struct vm_hook_ops memerr_hooks = {
	.name = "memory errors",
	.run_enter = run_enter,
	.run_exit = run_exit,
	.detach = detach,
};

int memerr_attach(struct vm *vm)
{
	const struct gmem *m = &vm->mem;
	const struct gmem_region *top = &m->regions[m->nr_regions - 1];
	struct memerr *me = calloc(1, sizeof(*me));
	int rc;

	if (!me)
		return vm_set_err(vm, -ENOMEM, "out of memory for the poison set");
	me->vm = vm;
	rc = poison_set_init(&me->poison, top->gpa + top->size);
	if (rc) {
		free(me);
		return vm_set_err(vm, rc, "out of memory for the poison set");
	}
	rc = install_sigbus();
	if (!rc)
		rc = vm_hook_attach(vm, &memerr_hooks, me);
	if (rc) {
		poison_set_free(&me->poison);
		free(me);
		return vm_set_err(vm, rc, "cannot set up memory-error handling: %s", strerror(-rc));
	}
	vm->memerr = me;
	return 0;
}
