// SPDX-License-Identifier: MIT
#include "core/vcpu.h"
#include "core/kvm_stats.h"
#include "arch/x86/arch.h"
#include "core/exit.h"
#include "core/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct vcpu *vcpu_alloc(struct vm *vm, unsigned id)
{
	struct vcpu *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->vm = vm;
	v->id = id;
	v->fd = -1;
	v->stats_fd = -1;
	return v;
}

int vcpu_kvm_create(struct vcpu *v)
{
	struct vm *vm = v->vm;
	void *run;

	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->id);
	if (v->fd < 0)
		return vm_set_err(vm, -errno, "KVM_CREATE_VCPU %u failed: %s", v->id,
				  strerror(errno));
	run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return vm_set_err(vm, -errno, "mmap of vCPU %u's kvm_run failed: %s", v->id,
				  strerror(errno));
	v->run = run;
	/* now: KVM_GET_STATS_FD waits for the vCPU mutex, which KVM_RUN holds */
	v->stats_fd = kvm_stats_open(v->fd);
	return arch_vcpu_init(v);
}

void vcpu_free(struct vcpu *v)
{
	if (!v)
		return;
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->stats_fd >= 0)
		close(v->stats_fd);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return -EINTR */
}

int vcpu_kick_signal_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return */
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		v->run->immediate_exit = 1; /* if it is just about to enter */
	if (v->thread_alive)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL); /* if it is inside */
}

void vcpu_dump(struct vcpu *v, char *buf, size_t len)
{
	arch_vcpu_dump(v, buf, len);
}

/* Let KVM finish an I/O exit (store an IN's data) without running guest code. */
static void complete_io(struct vcpu *v)
{
	v->run->immediate_exit = 1;
	ioctl(v->fd, KVM_RUN, 0); /* returns -EINTR at once */
	v->io_pending = false;
}

/* Park while paused or not started. Called and returns with vm->lock held. */
static void park(struct vm *vm, struct vcpu *v)
{
	while (!vm->stopping && (vm->pause_req || !v->started)) {
		if (v->io_pending)
			complete_io(v);
		if (!v->parked) {
			v->parked = true;
			vm->parked++;
			pthread_cond_broadcast(&vm->cond);
		}
		pthread_cond_wait(&vm->cond, &vm->lock);
	}
	if (v->parked) {
		v->parked = false;
		vm->parked--;
	}
}

/* A test SYNC: pause every vCPU and report the event to vm_wait(). */
static void sync_pause(struct vm *vm, struct vcpu *v, uint64_t arg)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->pause_req = true;
		vm->event = (struct vm_event){ VM_EVENT_SYNC, v->id, arg };
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i] != v)
				vcpu_kick(vm->vcpus[i]);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	if (vm->notify_fd >= 0) {
		uint64_t one = 1;

		if (write(vm->notify_fd, &one, sizeof(one)) < 0) {
			/* eventfd overflow is impossible here; nothing to do */
		}
	}
}

static void fault_stop(struct vm *vm, struct vcpu *v, const struct exit_result *res)
{
	char *dump = malloc(4096);

	if (dump)
		vcpu_dump(v, dump, 4096);
	vm_stop(vm, res->status, "vCPU %u: %s\n%s", v->id, res->msg, dump ? dump : "");
	free(dump);
}

const char *vcpu_stat_name(enum vcpu_stat s)
{
	static const char *const names[VCPU_STAT_NR] = {
		[VCPU_STAT_PIO] = "pio",     [VCPU_STAT_HYPERCALL] = "hypercall",
		[VCPU_STAT_MMIO] = "mmio",   [VCPU_STAT_KICK] = "kick",
		[VCPU_STAT_OTHER] = "other",
	};

	return (unsigned)s < VCPU_STAT_NR ? names[s] : "?";
}

static void count(struct vcpu *v, enum vcpu_stat s)
{
	__atomic_add_fetch(&v->stats[s], 1, __ATOMIC_RELAXED);
}

static enum vcpu_stat classify(const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port >= VESSEL_HC_PORT_BASE &&
		    run->io.port < VESSEL_HC_PORT_BASE + VESSEL_HC_PORT_COUNT)
			return VCPU_STAT_HYPERCALL;
		return VCPU_STAT_PIO;
	case KVM_EXIT_MMIO:
		return VCPU_STAT_MMIO;
	case KVM_EXIT_INTR:
		return VCPU_STAT_KICK;
	default:
		return VCPU_STAT_OTHER;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	struct exit_result res;
	sigset_t set;
	int rc;

	/* only the kick (and synchronous faults) reach vCPU threads */
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGFPE);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	for (;;) {
		struct vessel_hc_cpu_start start;
		bool do_start = false;

		pthread_mutex_lock(&vm->lock);
		park(vm, v);
		if (vm->stopping) {
			pthread_mutex_unlock(&vm->lock);
			break;
		}
		if (v->start_pending) {
			start = v->start_req;
			v->start_pending = false;
			do_start = true;
		}
		v->run->immediate_exit = 0;
		pthread_mutex_unlock(&vm->lock);

		if (do_start &&
		    arch_vcpu_boot_state(v, start.rip, start.rsp, start.cr3, start.arg)) {
			vm_stop(vm, VESSEL_EXIT_VMM_ERROR, "starting vCPU %u: %s", v->id, vm->err);
			break;
		}

		vm_hooks_run_enter(v); /* e.g. deliver a queued machine check */
		rc = ioctl(v->fd, KVM_RUN, 0);
		vm_hooks_run_exit(v); /* e.g. a poisoned page -> SIGBUS -> machine check */
		if (rc < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				count(v, VCPU_STAT_KICK);
				continue;
			}
			vm_stop(vm, VESSEL_EXIT_VMM_ERROR, "KVM_RUN (vCPU %u) failed: %s", v->id,
				strerror(errno));
			break;
		}
		__atomic_add_fetch(&v->exits, 1, __ATOMIC_RELAXED);
		count(v, classify(v->run));
		memset(&res, 0, sizeof(res)); /* EXIT_CONTINUE */
		if (!vm_hooks_exit(v, v->run, &res))
			exit_dispatch(vm, v, v->run, &res);
		v->io_pending =
			v->run->exit_reason == KVM_EXIT_IO || v->run->exit_reason == KVM_EXIT_MMIO;
		switch (res.action) {
		case EXIT_CONTINUE:
			break;
		case EXIT_STOP:
			vm_stop(vm, res.status, "%s", res.msg);
			break;
		case EXIT_FAULT:
			fault_stop(vm, v, &res);
			break;
		case EXIT_PAUSE:
			sync_pause(vm, v, res.arg);
			break;
		}
	}

	pthread_mutex_lock(&vm->lock);
	vm->threads--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}
