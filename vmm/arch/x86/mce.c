// SPDX-License-Identifier: MIT
/*
 * Machine-check injection (see arch.h): action-required reports for a vCPU
 * that consumed poisoned memory, and a queue of action-optional reports
 * delivered one at a time, never while the guest still handles the previous
 * one (MCG_STATUS.MCIP set), which would shut the vCPU down.
 *
 * Delivery happens on a vCPU thread right before KVM_RUN (the run_enter
 * hook): only a vCPU's own thread may read its MSRs without waiting for it
 * to leave the guest. A small ticker thread kicks the vCPUs every
 * millisecond while reports wait, because the guest clears MCIP with a WRMSR
 * that KVM handles without an exit.
 */
#include "arch/x86/arch.h"
#include "core/hooks.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

/* IA32_MCG_CAP */
#define MCG_CTL_P	   (1ull << 8)
#define MCG_SER_P	   (1ull << 24)
/* IA32_MCG_STATUS */
#define MSR_MCG_STATUS	   0x17au
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

#define TICK_NS 1000000 /* kick period while reports wait */

struct mce {
	struct vm *vm;
	uint64_t mcg_cap;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t *queue; /* ring of pending action-optional gpas */
	size_t cap, head, len;
	int busy_cpu; /* vCPU handling the last report (MCIP may be set), or -1 */
	bool stop;
	pthread_t ticker;
	bool ticker_alive;

	struct arch_mce_stats st; /* under lock, except ar_injected (atomic) */
};

static const struct vm_hook_ops mce_hooks;

static struct mce *mce_of(struct vm *vm)
{
	return vm_hook_find(vm, &mce_hooks);
}

static int read_mcg_status(struct vcpu *v, uint64_t *val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = MSR_MCG_STATUS };

	if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*val = m.e.data;
	return 0;
}

static bool cr4_mce(struct vcpu *v)
{
	struct kvm_sregs sregs;

	return ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0 && (sregs.cr4 & X86_CR4_MCE);
}

int arch_mce_inject_ar(struct vcpu *v, uint64_t gpa)
{
	struct mce *c = mce_of(v->vm);
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
	uint64_t mcg;

	if (!c)
		return -ENOTSUP;
	if (!cr4_mce(v))
		vm_log(v->vm,
		       "vCPU %u: guest has CR4.MCE clear: this machine check shuts the VM down, "
		       "as on hardware",
		       v->id);
	else if (!read_mcg_status(v, &mcg) && (mcg & MCG_STATUS_MCIP))
		vm_log(v->vm,
		       "vCPU %u: the guest has not finished its last machine check (MCIP set): "
		       "this one shuts the vCPU down, as on hardware",
		       v->id);
	if (ioctl(v->fd, KVM_X86_SET_MCE, &m) < 0)
		return -errno;
	__atomic_fetch_add(&c->st.ar_injected, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The action-optional (SRAO) report: RIPV set, the interrupted code can go on. */
static int inject_ao(struct vcpu *v, uint64_t gpa)
{
	struct kvm_x86_mce m = {
		.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_MISCV |
			  MCI_STATUS_ADDRV | MCI_STATUS_S | MCACOD_SCRUB,
		.addr = gpa & ~0xfffull,
		.misc = MCI_MISC_PHYS_PAGE,
		.mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV,
		.bank = MCE_UME_BANK,
	};

	return ioctl(v->fd, KVM_X86_SET_MCE, &m) < 0 ? -errno : 0;
}

int arch_mce_queue_ao(struct vm *vm, uint64_t gpa)
{
	struct mce *c = mce_of(vm);

	if (!c)
		return -ENOTSUP;
	pthread_mutex_lock(&c->lock);
	if (c->len == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 64;
		uint64_t *q = malloc(ncap * sizeof(*q));

		if (!q) {
			pthread_mutex_unlock(&c->lock);
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->len; i++)
			q[i] = c->queue[(c->head + i) % c->cap];
		free(c->queue);
		c->queue = q;
		c->cap = ncap;
		c->head = 0;
	}
	c->queue[(c->head + c->len) % c->cap] = gpa;
	__atomic_add_fetch(&c->len, 1, __ATOMIC_RELEASE);
	c->st.ao_queued++;
	pthread_cond_broadcast(&c->cond); /* wake the ticker */
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* run_enter hook: deliver the next queued report if this vCPU may take it. */
static void run_enter(void *opaque, struct vcpu *v)
{
	struct mce *c = opaque;
	uint64_t mcg, gpa;
	int rc;

	if (!__atomic_load_n(&c->len, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&c->busy_cpu, __ATOMIC_ACQUIRE) != (int)v->id)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->busy_cpu == (int)v->id) {
		if (read_mcg_status(v, &mcg) || (mcg & MCG_STATUS_MCIP)) {
			c->st.ao_waits++;
			goto out; /* the guest still handles the last one */
		}
		__atomic_store_n(&c->busy_cpu, -1, __ATOMIC_RELEASE);
	}
	if (c->busy_cpu >= 0 || !c->len || !cr4_mce(v))
		goto out;
	/* this vCPU may be inside a machine check of its own (an action-required
	 * one, injected on its thread without going through the queue) */
	if (read_mcg_status(v, &mcg) || (mcg & MCG_STATUS_MCIP)) {
		c->st.ao_waits++;
		goto out;
	}
	gpa = c->queue[c->head];
	rc = inject_ao(v, gpa);
	if (rc) {
		vm_log(c->vm, "cannot tell the guest about poisoned page %#llx: %s",
		       (unsigned long long)gpa, strerror(-rc));
		goto out; /* stays queued */
	}
	c->head = (c->head + 1) % c->cap;
	__atomic_sub_fetch(&c->len, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->busy_cpu, (int)v->id, __ATOMIC_RELEASE);
	c->st.ao_delivered++;
out:
	pthread_mutex_unlock(&c->lock);
}

/* While reports wait, kick the vCPUs so that they pass run_enter again. */
static void *ticker(void *arg)
{
	struct mce *c = arg;
	struct vm *vm = c->vm;
	struct timespec ts = { 0, TICK_NS };
	sigset_t all;

	sigfillset(&all); /* signals are for the main and vCPU threads */
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		int busy;

		if (!c->len && c->busy_cpu < 0) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		busy = c->busy_cpu;
		pthread_mutex_unlock(&c->lock);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&vm->lock);
		for (unsigned i = 0; !vm->stopping && i < vm->nr_vcpus; i++)
			if (busy < 0 || busy == (int)i)
				vcpu_kick(vm->vcpus[i]);
		pthread_mutex_unlock(&vm->lock);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void arch_mce_stats(struct vm *vm, struct arch_mce_stats *st)
{
	struct mce *c = mce_of(vm);

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	st->ao_pending = c->len;
	pthread_mutex_unlock(&c->lock);
	st->ar_injected = __atomic_load_n(&c->st.ar_injected, __ATOMIC_RELAXED);
}

static void detach(void *opaque)
{
	struct mce *c = opaque;

	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->ticker_alive)
		pthread_join(c->ticker, NULL);
	free(c->queue);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct vm_hook_ops mce_hooks = {
	.name = "machine checks",
	.run_enter = run_enter,
	.detach = detach,
};

int arch_mce_attach(struct vm *vm)
{
	uint64_t supported = 0, cap;
	struct mce *c;
	int banks, rc;

	/* KVM_CAP_MCE answers the number of banks KVM can emulate */
	banks = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);
	if (banks <= 0 || ioctl(vm->kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0)
		return vm_set_err(vm, -ENOTSUP, "KVM has no machine-check support (KVM_CAP_MCE)");
	if ((unsigned)banks < MCE_BANKS)
		return vm_set_err(vm, -ENOTSUP, "KVM offers %d machine-check banks, %u needed",
				  banks, MCE_BANKS);
	cap = (supported & (MCG_CTL_P | MCG_SER_P)) | MCE_BANKS;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t c_cap = cap;

		if (ioctl(vm->vcpus[i]->fd, KVM_X86_SETUP_MCE, &c_cap) < 0)
			return vm_set_err(vm, -errno, "KVM_X86_SETUP_MCE (vCPU %u): %s", i,
					  strerror(errno));
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	c->vm = vm;
	c->mcg_cap = cap;
	c->busy_cpu = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	rc = -pthread_create(&c->ticker, NULL, ticker, c);
	c->ticker_alive = rc == 0;
	if (!rc)
		rc = vm_hook_attach(vm, &mce_hooks, c);
	if (rc) {
		detach(c);
		return vm_set_err(vm, rc, "cannot set up machine-check delivery: %s",
				  strerror(-rc));
	}
	return 0;
}
