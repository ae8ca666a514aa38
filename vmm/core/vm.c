// SPDX-License-Identifier: MIT
#include "core/vm.h"
#include "arch/x86/arch.h"
#include "core/elf.h"
#include "core/hypercall.h"
#include "core/kvm_stats.h"
#include "core/memerr.h"
#include "core/vcpu.h"
#include "dev/device.h"

#include "abi/vessel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <x86intrin.h>

int vm_set_err(struct vm *vm, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
	va_end(ap);
	return code;
}

void vm_log(struct vm *vm, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (vm->cfg.log)
		vm->cfg.log(vm->cfg.log_opaque, line);
	else
		fprintf(stderr, "vessel: %s\n", line);
}

static void notify(struct vm *vm)
{
	uint64_t one = 1;

	if (vm->notify_fd >= 0 && write(vm->notify_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the reader will wake */
	}
}

int vm_new(struct vm **out, const struct vm_config *cfg, char *errbuf, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int err;

	*out = NULL;
	if (!vm) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->cfg = *cfg;
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->stats_fd = -1;
	vm->mem.fd = -1;
	vm->boot_tsc_host = __rdtsc();
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->state = VM_CREATED;

	vm->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->notify_fd < 0) {
		err = vm_set_err(vm, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS) {
		err = vm_set_err(vm, -EINVAL, "%u vCPUs requested; Vessel supports 1 to %u",
				 cfg->cpus, VM_MAX_CPUS);
		goto fail;
	}
	if (cfg->cmdline && strlen(cfg->cmdline) >= VESSEL_BOOT_CMDLINE_MAX) {
		err = vm_set_err(vm, -E2BIG, "command line is %zu bytes; the limit is %u",
				 strlen(cfg->cmdline), VESSEL_BOOT_CMDLINE_MAX - 1);
		goto fail;
	}
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
	vm->cfg.cmdline = vm->cmdline;

	err = gmem_create(&vm->mem, cfg->mem_size);
	if (err) {
		if (err == -EINVAL)
			vm_set_err(vm, err,
				   "guest memory size %llu bytes is invalid: it must be a multiple "
				   "of 4 KiB between %llu MiB and %llu GiB",
				   (unsigned long long)cfg->mem_size, GMEM_MIN_SIZE >> 20,
				   GMEM_MAX_SIZE >> 30);
		else
			vm_set_err(vm, err, "cannot allocate %llu MiB of guest memory: %s",
				   (unsigned long long)(cfg->mem_size >> 20), strerror(-err));
		goto fail;
	}
	for (unsigned i = 0; i < cfg->cpus; i++) {
		vm->vcpus[i] = vcpu_alloc(vm, i);
		if (!vm->vcpus[i]) {
			err = vm_set_err(vm, -ENOMEM, "out of memory");
			goto fail;
		}
		vm->nr_vcpus++;
	}
	err = hypercall_attach(vm);
	if (err) {
		vm_set_err(vm, err, "cannot register hypercall ports: %s", strerror(-err));
		goto fail;
	}
	err = devices_create(vm);
	if (err)
		goto fail;
	*out = vm;
	return 0;

fail:
	snprintf(errbuf, errlen, "%s", vm->err);
	vm_destroy(vm);
	return err;
}

static int open_kvm(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd >= 0)
		return 0;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return vm_set_err(vm, -errno,
				  "/dev/kvm does not exist: this machine offers no KVM. Enable "
				  "virtualization (VT-x/AMD-V, or nested virtualization for a VM) "
				  "and load the module: modprobe kvm_intel (or kvm_amd)");
	case EACCES:
	case EPERM:
		return vm_set_err(vm, -errno,
				  "no permission to open /dev/kvm: run as root or add your user "
				  "to the 'kvm' group (usermod -aG kvm $USER, then log in again)");
	default:
		return vm_set_err(vm, -errno, "cannot open /dev/kvm: %s", strerror(errno));
	}
}

int vm_kvm_create(struct vm *vm)
{
	int err, max;

	err = open_kvm(vm);
	if (err)
		return err;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return vm_set_err(vm, -ENOTSUP, "/dev/kvm speaks an unknown KVM API version");
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && vm->cfg.cpus > (unsigned)max)
		return vm_set_err(vm, -EINVAL,
				  "%u vCPUs requested but KVM on this host allows at "
				  "most %d",
				  vm->cfg.cpus, max);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_set_err(vm, -errno, "KVM_CREATE_VM failed: %s", strerror(errno));
	vm->stats_fd = kvm_stats_open(vm->vm_fd);
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		return vm_set_err(vm, -EIO, "KVM_GET_VCPU_MMAP_SIZE failed");

	err = arch_vm_init(vm);
	if (err)
		return err;

	err = vm_memslots_set(vm, 0);
	if (err)
		return err;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		err = vcpu_kvm_create(vm->vcpus[i]);
		if (err)
			return err;
	}
	err = memerr_attach(vm);
	if (err)
		return err;
	err = arch_mce_attach(vm);
	if (err) /* the VM runs; a memory error will stop it */
		vm_log(vm, "warning: %s: memory errors in the guest will stop the VM", vm->err);
	return 0;
}

int vm_boot_setup(struct vm *vm)
{
	int err = arch_boot_write(vm);

	if (err)
		return err;
	if (!vm->nr_vcpus || vm->vcpus[0]->fd < 0)
		return vm_set_err(vm, -EINVAL, "the VM has no KVM vCPU yet (vm_kvm_create first)");
	return arch_vcpu_boot_state(vm->vcpus[0], vm->entry, 0, ARCH_BOOT_PML4,
				    VESSEL_BOOT_INFO_GPA);
}

int vm_load_elf(struct vm *vm, const void *elf, size_t elf_size)
{
	struct elf_image img;
	char why[256];
	int err;

	err = elf_load(&vm->mem, elf, elf_size, ARCH_KERNEL_MIN, ARCH_BOOT_MAP_LIMIT, &img, why,
		       sizeof(why));
	if (err)
		return vm_set_err(vm, err, "%s", why);
	vm->entry = img.entry;
	vm->image_lo = img.lo;
	vm->image_hi = img.hi;
	return 0;
}

int vm_load_initrd(struct vm *vm, const void *initrd, size_t initrd_size)
{
	uint64_t gpa = (vm->image_hi + GMEM_PAGE_SIZE - 1) & ~(GMEM_PAGE_SIZE - 1);
	void *dst;

	if (!vm->image_hi)
		return vm_set_err(vm, -EINVAL, "load the kernel before the initrd");
	if (!initrd_size)
		return 0; /* an empty initrd is no initrd */
	dst = gmem_ptr(&vm->mem, gpa, initrd_size);
	if (!dst || gpa + initrd_size > GMEM_LOW_LIMIT)
		return vm_set_err(vm, -ERANGE,
				  "initrd of %zu bytes does not fit in guest RAM after the kernel "
				  "(which ends at %#llx; RAM is %llu MiB)",
				  initrd_size, (unsigned long long)vm->image_hi,
				  (unsigned long long)(vm->mem.size >> 20));
	memcpy(dst, initrd, initrd_size);
	vm->initrd_gpa = gpa;
	vm->initrd_size = initrd_size;
	return 0;
}

int vm_load_kernel(struct vm *vm, const void *elf, size_t elf_size, const void *initrd,
		   size_t initrd_size)
{
	int err = vm_load_elf(vm, elf, elf_size);

	if (!err && initrd)
		err = vm_load_initrd(vm, initrd, initrd_size);
	if (!err)
		err = vm_boot_setup(vm);
	return err;
}

int vm_load_flat(struct vm *vm, uint64_t gpa, const void *code, size_t len, uint64_t entry)
{
	void *dst = gmem_ptr(&vm->mem, gpa, len);

	if (!dst || gpa < ARCH_KERNEL_MIN)
		return vm_set_err(vm, -ERANGE, "code [%#llx, +%zu) is not in loadable RAM",
				  (unsigned long long)gpa, len);
	memcpy(dst, code, len);
	vm->entry = entry;
	vm->image_lo = gpa;
	vm->image_hi = gpa + len;
	return vm_boot_setup(vm);
}

int vm_start(struct vm *vm)
{
	sigset_t all, old;
	int err = vcpu_kick_signal_init();

	if (err)
		return vm_set_err(vm, err, "cannot install the vCPU kick signal: %s",
				  strerror(-err));
	if (vm->state == VM_STOPPED) /* e.g. a subsystem's helper process died */
		return vm_set_err(vm, -ESHUTDOWN, "the VM was stopped before it started: %.400s",
				  vm->stop_msg);
	if (vm->state != VM_CREATED)
		return vm_set_err(vm, -EBUSY, "the VM was already started");

	/* threads inherit a fully blocked mask; each opens what it needs */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&vm->lock);
	vm->hooks.sealed = true; /* vCPU threads read the list without a lock */
	vm->vcpus[0]->started = true;
	vm->state = VM_RUNNING;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		err = -pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (err) {
			vm_set_err(vm, err, "cannot start vCPU thread %u: %s", i, strerror(-err));
			break;
		}
		v->thread_alive = true;
		vm->threads++;
	}
	pthread_mutex_unlock(&vm->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		vm_stop(vm, VESSEL_EXIT_VMM_ERROR, "%s", vm->err);
	return err;
}

void vm_stop(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->stopping = true;
		vm->exit_status = status;
		va_start(ap, fmt);
		vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
		va_end(ap);
		vm->state = VM_STOPPED;
		vm->event = (struct vm_event){ .kind = VM_EVENT_STOPPED };
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vcpu_kick(vm->vcpus[i]);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	notify(vm);
}

bool vm_is_stopping(struct vm *vm)
{
	bool s;

	pthread_mutex_lock(&vm->lock);
	s = vm->stopping;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

/* With vm->lock held: is there an event for vm_wait()? */
static bool event_ready(struct vm *vm)
{
	if (vm->stopping)
		return vm->threads == 0;
	return vm->event.kind == VM_EVENT_SYNC && vm->parked == vm->threads;
}

int vm_wait(struct vm *vm, struct vm_event *ev)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state == VM_CREATED) {
		pthread_mutex_unlock(&vm->lock);
		return vm_set_err(vm, -EINVAL, "vm_wait on a VM that was not started");
	}
	while (!event_ready(vm))
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->event.kind == VM_EVENT_SYNC)
		vm->state = VM_PAUSED;
	*ev = vm->event;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vm_poll_event(struct vm *vm, struct vm_event *ev)
{
	uint64_t cnt;

	if (read(vm->notify_fd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing new since the last read */
	}
	pthread_mutex_lock(&vm->lock);
	if (vm->stopping || vm->event.kind == VM_EVENT_SYNC)
		*ev = vm->event;
	else
		ev->kind = VM_EVENT_NONE;
	pthread_mutex_unlock(&vm->lock);
}

static int pause_vcpus(struct vm *vm, bool hold)
{
	int err = 0;

	pthread_mutex_lock(&vm->lock);
	vm->pause_req = true;
	if (hold)
		vm->pause_held = true; /* no vm_resume() from now on, not even while waiting */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	while (!vm->stopping && vm->parked < vm->threads)
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->stopping) {
		err = vm_set_err(vm, -ESHUTDOWN, "the VM stopped");
		if (hold)
			vm->pause_held = false;
	} else {
		vm->state = VM_PAUSED;
	}
	pthread_mutex_unlock(&vm->lock);
	if (!err)
		vm_hooks_pause(vm);
	return err;
}

int vm_pause(struct vm *vm)
{
	return pause_vcpus(vm, false);
}

int vm_pause_hold(struct vm *vm)
{
	return pause_vcpus(vm, true);
}

void vm_pause_release(struct vm *vm, bool resume)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause_held = false;
	pthread_mutex_unlock(&vm->lock);
	if (resume)
		vm_resume(vm);
}

int vm_resume(struct vm *vm)
{
	vm_hooks_resume(vm);
	pthread_mutex_lock(&vm->lock);
	if (vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return vm_set_err(vm, -ESHUTDOWN, "the VM stopped");
	}
	if (vm->pause_held) {
		pthread_mutex_unlock(&vm->lock);
		return vm_set_err(vm, -EBUSY, "the VM is held paused (migration stop-and-copy)");
	}
	vm->pause_req = false;
	if (vm->event.kind == VM_EVENT_SYNC)
		vm->event.kind = VM_EVENT_NONE;
	vm->state = VM_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level ? 1 : 0 };

	if (vm->vm_fd < 0)
		return 0;
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_stop(vm, VESSEL_EXIT_VMM_ERROR, "VM destroyed");
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->thread_alive) {
			pthread_join(v->thread, NULL);
			pthread_mutex_lock(&vm->lock);
			v->thread_alive = false;
			pthread_mutex_unlock(&vm->lock);
		}
	}
	/* no vCPU runs any more: subsystems stop their threads and go */
	vm_hooks_detach(vm);
	devices_destroy(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	iobus_free(&vm->pio);
	iobus_free(&vm->mmio);
	arch_vm_free(vm);
	if (vm->stats_fd >= 0)
		close(vm->stats_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	gmem_destroy(&vm->mem);
	if (vm->notify_fd >= 0)
		close(vm->notify_fd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}
