// SPDX-License-Identifier: MIT
/*
 * Memory errors on the VM: vCPU SIGBUS -> poison set -> machine check
 * injected into the guest, and real poisoning of guest pages.
 *
 * When a vCPU touches a poisoned page, KVM sends the vCPU thread SIGBUS
 * (BUS_MCEERR_AR, si_addr = host address) and KVM_RUN returns EINTR. The
 * handler only records the address (it runs in signal context); the vCPU
 * loop then calls live_vcpu_run_exit(), which adds the page to the poison
 * set and injects the machine check the way hardware reports an
 * action-required (SRAR) uncorrected memory error on a data load.
 */
#include "migrate/live/internal.h"

#include "core/term.h"
#include "core/vcpu.h"
#include "migrate/safecopy.h"
#include "migrate/uffd.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif
#ifndef BUS_MCEERR_AO
#define BUS_MCEERR_AO 5
#endif

/* IA32_MCG_CAP */
#define MCG_CTL_P	   (1ull << 8)
#define MCG_SER_P	   (1ull << 24)
/* IA32_MCG_STATUS */
#define MCG_STATUS_RIPV	   (1ull << 0)
#define MCG_STATUS_EIPV	   (1ull << 1)
#define MCG_STATUS_MCIP	   (1ull << 2)
/* IA32_MCi_STATUS */
#define MCI_STATUS_VAL	   (1ull << 63)
#define MCI_STATUS_UC	   (1ull << 61)
#define MCI_STATUS_EN	   (1ull << 60)
#define MCI_STATUS_MISCV   (1ull << 59)
#define MCI_STATUS_ADDRV   (1ull << 58)
#define MCI_STATUS_S	   (1ull << 56)
#define MCI_STATUS_AR	   (1ull << 55)
#define MCACOD_DATA_LOAD   0x0134ull /* cache hierarchy, data read: SRAR "data load" */
#define MCACOD_SCRUB	   0x00cfull /* memory scrubbing error, channel unspecified: SRAO */
/* IA32_MCi_MISC: address mode physical (2 << 6), address LSB 12 (4 KiB page) */
#define MCI_MISC_PHYS_PAGE ((2ull << 6) | 12)

#define MCE_BANKS    10u /* as QEMU: memory errors are reported in bank 9 */
#define MCE_UME_BANK 9u

#define X86_CR4_MCE (1ull << 6)

struct live *live_current;

static __thread volatile sig_atomic_t t_in_run, t_pending;
static __thread void *volatile t_addr;

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing more we can do in a signal handler */
	}
}

/*
 * The VMM's own SIGBUS handler; mig_safecopy_init() puts the safe-copy
 * handler in front of it, so copies out of guest memory never reach here.
 */
static void vcpu_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (t_in_run && (si->si_code == BUS_MCEERR_AR || si->si_code == BUS_MCEERR_AO)) {
		t_addr = si->si_addr;
		t_pending = 1;
		return; /* KVM_RUN returns EINTR; live_vcpu_run_exit() takes over */
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

int mce_install_sigbus(struct live *l)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vcpu_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	return mig_safecopy_init();
}

int mce_setup(struct live *l, char *err, size_t errlen)
{
	struct vm *vm = l->vm;
	uint64_t supported = 0;
	int banks;

	l->mce_ok = false;
	/* KVM_CAP_MCE answers the number of banks KVM can emulate */
	banks = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);
	if (banks <= 0 || ioctl(vm->kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0) {
		snprintf(err, errlen, "KVM has no machine-check support (KVM_CAP_MCE)");
		return -ENOTSUP;
	}
	if ((unsigned)banks < MCE_BANKS) {
		snprintf(err, errlen, "KVM offers %d machine-check banks, %u needed", banks,
			 MCE_BANKS);
		return -ENOTSUP;
	}
	l->mcg_cap = (supported & (MCG_CTL_P | MCG_SER_P)) | MCE_BANKS;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t cap = l->mcg_cap;

		if (ioctl(vm->vcpus[i]->fd, KVM_X86_SETUP_MCE, &cap) < 0) {
			snprintf(err, errlen, "KVM_X86_SETUP_MCE (vCPU %u): %s", i,
				 strerror(errno));
			return -errno;
		}
	}
	l->mce_ok = true;
	return 0;
}

int mce_inject(struct live *l, struct vcpu *v, uint64_t gpa)
{
	struct kvm_x86_mce m = {
		/* valid, uncorrected, enabled, MISC and ADDR valid, signalled,
		 * action required, data load: what hardware reports when a load
		 * consumes poisoned memory (Intel SDM vol. 3B, SRAR errors) */
		.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_MISCV |
			  MCI_STATUS_ADDRV | MCI_STATUS_S | MCI_STATUS_AR | MCACOD_DATA_LOAD,
		.addr = gpa & ~0xfffull,
		.misc = MCI_MISC_PHYS_PAGE,
		/* EIPV: RIP points at the instruction that consumed the error;
		 * RIPV clear: restarting it would consume the error again, so the
		 * guest must not simply return (it kills the process or panics) */
		.mcg_status = MCG_STATUS_MCIP | MCG_STATUS_EIPV,
		.bank = MCE_UME_BANK,
	};
	struct kvm_sregs sregs;

	if (!l->mce_ok)
		return -ENOTSUP;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0 && !(sregs.cr4 & X86_CR4_MCE))
		vm_log(l->vm,
		       "vCPU %u: guest has CR4.MCE clear: this machine check shuts the VM down, "
		       "as on hardware",
		       v->id);
	if (ioctl(v->fd, KVM_X86_SET_MCE, &m) < 0)
		return -errno;
	__atomic_fetch_add(&l->mce_injected, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The action-optional (SRAO) variant: RIPV set, the interrupted code can go on. */
static int mce_inject_ao(struct live *l, struct vcpu *v, uint64_t gpa)
{
	struct kvm_x86_mce m = {
		.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_MISCV |
			  MCI_STATUS_ADDRV | MCI_STATUS_S | MCACOD_SCRUB,
		.addr = gpa & ~0xfffull,
		.misc = MCI_MISC_PHYS_PAGE,
		.mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV,
		.bank = MCE_UME_BANK,
	};
	struct kvm_sregs sregs;

	if (!l->mce_ok)
		return -ENOTSUP;
	/* unlike an action-required error this one may wait: never shut a
	 * guest down that cannot take machine checks yet */
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0 || !(sregs.cr4 & X86_CR4_MCE)) {
		vm_log(l->vm, "guest has CR4.MCE clear: not told about poisoned page %#llx",
		       (unsigned long long)gpa);
		return -EAGAIN;
	}
	if (ioctl(v->fd, KVM_X86_SET_MCE, &m) < 0)
		return -errno;
	__atomic_fetch_add(&l->ao_injected, 1, __ATOMIC_RELAXED);
	return 0;
}

int live_queue_ao(struct live *l, uint64_t gpa)
{
	struct vm *vm = l->vm;

	pthread_mutex_lock(&l->lock);
	if (l->ao_tail - l->ao_head >= sizeof(l->ao_queue) / sizeof(l->ao_queue[0])) {
		pthread_mutex_unlock(&l->lock);
		return -EAGAIN;
	}
	l->ao_queue[l->ao_tail++ % (sizeof(l->ao_queue) / sizeof(l->ao_queue[0]))] = gpa;
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_lock(&vm->lock);
	vcpu_kick(vm->vcpus[0]);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* On vCPU 0 before it enters the guest: deliver queued action-optional errors. */
static void deliver_ao(struct live *l, struct vcpu *v)
{
	unsigned n = sizeof(l->ao_queue) / sizeof(l->ao_queue[0]);
	uint64_t gpa;
	int rc;

	pthread_mutex_lock(&l->lock);
	if (l->ao_head == l->ao_tail) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	gpa = l->ao_queue[l->ao_head++ % n];
	pthread_mutex_unlock(&l->lock);
	rc = mce_inject_ao(l, v, gpa);
	if (rc && rc != -EAGAIN)
		vm_log(l->vm, "cannot tell the guest about poisoned page %#llx: %s",
		       (unsigned long long)gpa, strerror(-rc));
}

uint64_t live_hva_to_gpa(struct live *l, const void *hva)
{
	const struct gmem *m = &l->vm->mem;
	uintptr_t a = (uintptr_t)hva;

	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (a >= (uintptr_t)r->host && a - (uintptr_t)r->host < r->size)
			return (r->gpa + (a - (uintptr_t)r->host)) & ~(GMEM_PAGE_SIZE - 1);
	}
	return UINT64_MAX;
}

int live_poison_gpa_latent(struct live *l, uint64_t gpa, char *err, size_t errlen)
{
	const struct gmem_region *r;
	uint64_t off;

	gpa &= ~(GMEM_PAGE_SIZE - 1);
	r = gmem_region_of(&l->vm->mem, gpa);
	if (!r) {
		snprintf(err, errlen, "guest-physical address %#llx is not guest RAM",
			 (unsigned long long)gpa);
		return -EINVAL;
	}
	off = gpa - r->gpa;
	return mig_uffd_poison(r->host + off, l->vm->mem.fd, (off_t)(r->offset + off), err, errlen);
}

int live_poison_gpa(struct live *l, uint64_t gpa, char *err, size_t errlen)
{
	const struct gmem_region *r;
	uint64_t off;
	int rc;

	gpa &= ~(GMEM_PAGE_SIZE - 1);
	r = gmem_region_of(&l->vm->mem, gpa);
	if (!r) {
		snprintf(err, errlen, "guest-physical address %#llx is not guest RAM",
			 (unsigned long long)gpa);
		return -EINVAL;
	}
	if (poison_set_contains(&l->poison, gpa))
		return 0;
	off = gpa - r->gpa;
	rc = mig_uffd_poison(r->host + off, l->vm->mem.fd, (off_t)(r->offset + off), err, errlen);
	if (rc)
		return rc;
	rc = poison_set_add(&l->poison, gpa);
	/* a running migration may have sent it as data already: send it again */
	live_note_write(l->vm, gpa, GMEM_PAGE_SIZE);
	return rc;
}

static void vcpu_memory_error(struct live *l, struct vcpu *v, void *addr);

void live_vcpu_run_enter(struct vcpu *v)
{
	struct live *l = live_current;

	if (v->id == 0 && l && l->vm == v->vm &&
	    __atomic_load_n(&l->ao_head, __ATOMIC_ACQUIRE) !=
		    __atomic_load_n(&l->ao_tail, __ATOMIC_ACQUIRE)) {
		int saved_errno = errno;

		deliver_ao(l, v);
		errno = saved_errno;
	}
	t_in_run = 1;
}

void live_vcpu_run_exit(struct vcpu *v)
{
	struct live *l = live_current;
	int saved_errno = errno; /* the caller looks at KVM_RUN's errno */
	void *addr;

	t_in_run = 0;
	if (!t_pending)
		return;
	t_pending = 0;
	addr = t_addr;
	if (l && l->vm == v->vm)
		vcpu_memory_error(l, v, addr);
	errno = saved_errno;
}

/* A vCPU consumed poisoned memory at host address addr. */
static void vcpu_memory_error(struct live *l, struct vcpu *v, void *addr)
{
	uint64_t gpa;
	int rc;

	__atomic_fetch_add(&l->vcpu_sigbus, 1, __ATOMIC_RELAXED);
	gpa = live_hva_to_gpa(l, addr);
	if (gpa == UINT64_MAX) {
		vm_stop(v->vm, VESSEL_EXIT_VMM_ERROR,
			"vCPU %u: memory error at host address %p, outside guest RAM", v->id, addr);
		return;
	}
	poison_set_add(&l->poison, gpa);
	live_note_write(v->vm, gpa, GMEM_PAGE_SIZE);
	vm_log(v->vm, "vCPU %u touched poisoned guest page %#llx: injecting a machine check", v->id,
	       (unsigned long long)gpa);
	rc = mce_inject(l, v, gpa);
	if (rc)
		vm_stop(v->vm, VESSEL_EXIT_VMM_ERROR,
			"vCPU %u: guest page %#llx is poisoned and no machine check can be "
			"injected: %s",
			v->id, (unsigned long long)gpa, strerror(-rc));
}

void live_note_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	struct live *l = live_current;
	uint64_t first, last;

	if (!l || l->vm != vm || !__atomic_load_n(&l->tracking, __ATOMIC_ACQUIRE) || !len)
		return;
	first = gpa / GMEM_PAGE_SIZE;
	last = (gpa + len - 1) / GMEM_PAGE_SIZE;
	for (uint64_t p = first; p <= last && p < l->vmm_dirty_npages; p++)
		__atomic_fetch_or(&l->vmm_dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELEASE);
}
