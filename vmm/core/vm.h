/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine: guest memory, I/O buses, devices, vCPU threads and the
 * KVM objects behind them, plus its run state (running / paused / stopped).
 *
 * Life cycle:
 *   vm_new()            memory, buses, devices; no KVM (unit tests stop here)
 *   vm_load_elf(), vm_load_initrd()   the kernel and initrd into RAM (no KVM)
 *   vm_kvm_create()     /dev/kvm, the KVM VM, irqchip, timer, memslots, vCPUs
 *   vm_boot_setup()     boot page tables, GDT, boot info, BSP entry state
 *     (vm_load_kernel() does the three; vm_load_flat() loads raw test code)
 *   vm_start()          one thread per vCPU; the BSP runs, APs wait for
 *                       VESSEL_HC_CPU_START
 *   vm_wait()           until the VM stops (or pauses at a test SYNC)
 *   vm_pause()/vm_resume(), vcpu_state_get()/vcpu_state_set(), device
 *                       save/restore: what migration builds on
 *   vm_destroy()        stops and joins the threads, frees everything
 *
 * All functions return 0 or -errno and leave a one-line reason in vm->err.
 */
#ifndef VMM_CORE_VM_H
#define VMM_CORE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"
#include "core/hooks.h"
#include "core/iobus.h"
#include "core/memslots.h"

#define VM_MAX_CPUS 64
#define VM_ERR_MAX  512

struct vcpu;
struct device;
struct kvm_cpuid2;
struct serial;
struct memerr;

struct vm_config {
	unsigned cpus;	   /* vCPUs to create (1..VM_MAX_CPUS, capped by KVM) */
	uint64_t mem_size; /* guest RAM bytes */
	const char *cmdline;
	/* where the console (COM1) output goes; NULL: discarded */
	void (*console_write)(void *opaque, const void *buf, size_t len);
	void *console_opaque;
	/* bytes of console output lost so far (stdout stalled); NULL: none */
	uint64_t (*console_dropped)(void *opaque);
	/* diagnostics (test channel, warnings); NULL: stderr */
	void (*log)(void *opaque, const char *line);
	void *log_opaque;
	/* a test SYNC pauses the whole VM and vm_wait() returns VM_EVENT_SYNC */
	bool pause_on_sync;
	/* device options (dev/device.h): each adds one instance of the device
	 * registered with that option */
	struct vm_device_arg {
		const char *option; /* "--disk" */
		const char *arg;    /* its value */
	} device_args[16];
	unsigned nr_device_args;
};

enum vm_state {
	VM_CREATED,
	VM_RUNNING,
	VM_PAUSED,
	VM_STOPPED,
};

enum vm_event_kind {
	VM_EVENT_NONE,
	VM_EVENT_STOPPED, /* the VM stopped; see vm->exit_status and vm->stop_msg */
	VM_EVENT_SYNC,	  /* a vCPU reported SYNC(arg) and the VM is paused */
};

struct vm_event {
	enum vm_event_kind kind;
	unsigned cpu; /* SYNC: which vCPU */
	uint64_t arg; /* SYNC: stage */
};

/* What the test-report channel has seen (VESSEL_HC_TEST). */
struct vm_test_log {
	unsigned syncs, asserts, prints, dones;
	uint64_t last_sync;
	uint64_t done_failures;
	char last_assert[2 * 256 + 32]; /* "file:line: message" */
	char last_print[256];
};

struct vm {
	struct vm_config cfg;
	char cmdline[4096];

	/* KVM objects; -1 until vm_kvm_create() */
	int kvm_fd;
	int vm_fd;
	int stats_fd; /* KVM_GET_STATS_FD of vm_fd (-1: none); core/kvm_stats.h */
	int run_size;
	struct kvm_cpuid2 *cpuid; /* supported CPUID, patched per vCPU */
	uint32_t *msr_list;	  /* MSRs saved/restored with a vCPU */
	unsigned nr_msrs;
	uint64_t tsc_khz;
	uint64_t boot_tsc_host; /* host TSC at vm_new() */

	struct gmem mem;
	struct iobus pio;
	struct iobus mmio;
	struct device *devices; /* singly linked, in creation order */
	struct serial *console; /* COM1 */
	/* where console input goes: COM1's receiver, or a device that took the
	 * console over (the sandboxed monitor); returns the bytes taken */
	size_t (*console_rx)(void *opaque, const uint8_t *buf, size_t len);
	void *console_rx_opaque;

	struct vcpu *vcpus[VM_MAX_CPUS];
	unsigned nr_vcpus;

	struct vm_hooks hooks;	/* subsystems taking part (core/hooks.h) */
	/* guest-read-only RAM ranges (core/memslots.h) */
	struct vm_ro_range ro[VM_MAX_RO_RANGES];
	unsigned nr_ro;
	uint64_t boot_flags; /* VESSEL_BOOT_F_* a subsystem adds to the boot info */
	struct memerr *memerr;	/* poison set, vCPU memory errors (core/memerr.h) */

	/* boot: filled by vm_load_kernel()/vm_load_flat() */
	uint64_t entry;
	uint64_t image_lo, image_hi;
	uint64_t initrd_gpa, initrd_size;

	/* run state, protected by lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_state state;
	bool pause_req;
	bool pause_held; /* vm_pause_hold(): vm_resume() refuses */
	bool stopping;
	unsigned threads;      /* vCPU threads alive */
	unsigned parked;       /* of which parked (paused or not yet started) */
	struct vm_event event; /* pending event for vm_wait() */
	int exit_status;
	char stop_msg[8192]; /* why it stopped (+ register dump on a fault) */
	int notify_fd;	     /* eventfd: written on every stop/pause event */

	struct vm_test_log test;
	char err[VM_ERR_MAX];
};

/*
 * vm_new - build a VM without touching KVM: guest memory (memfd), buses and
 * every registered device. Returns 0 and *out, or -errno (reason in the
 * returned VM's err is impossible then, so a static message is in errbuf).
 */
int vm_new(struct vm **out, const struct vm_config *cfg, char *errbuf, size_t errlen);

/*
 * vm_kvm_create - open /dev/kvm and create the KVM VM: in-kernel irqchip
 * (PIC, IOAPIC, LAPICs), PIT, memslots for the guest RAM regions and one
 * vCPU per cfg.cpus with CPUID and MSRs set; memory-error handling
 * (core/memerr.h) and machine checks (arch_mce_attach) are attached. -ENOENT/-EACCES when /dev/kvm
 * is missing or not accessible (vm->err says what to do).
 */
int vm_kvm_create(struct vm *vm);

/*
 * vm_load_elf - validate an ELF64 kernel and load it into guest RAM (no KVM
 * needed, so a bad kernel is reported before /dev/kvm is touched). vm->err
 * says what is wrong with the file; the caller names the file.
 */
int vm_load_elf(struct vm *vm, const void *elf, size_t elf_size);

/*
 * vm_load_initrd - copy an initrd into guest RAM after the loaded kernel
 * (4 KiB aligned, below 3 GiB). Call after vm_load_elf(); -ERANGE if it does
 * not fit.
 */
int vm_load_initrd(struct vm *vm, const void *initrd, size_t initrd_size);

/*
 * vm_boot_setup - write the boot page tables, GDT, boot info and command
 * line (include/abi/vessel.h) and put the BSP in the 64-bit entry state at
 * the loaded entry point. Needs vm_kvm_create().
 */
int vm_boot_setup(struct vm *vm);

/* vm_load_kernel - vm_load_elf() + vm_load_initrd() (if any) + vm_boot_setup(). */
int vm_load_kernel(struct vm *vm, const void *elf, size_t elf_size, const void *initrd,
		   size_t initrd_size);

/*
 * vm_load_flat - copy raw code to guest-physical `gpa` and enter it at
 * `entry` with the same boot state as a kernel (used by the integration tests).
 */
int vm_load_flat(struct vm *vm, uint64_t gpa, const void *code, size_t len, uint64_t entry);

/* vm_start - start one thread per vCPU; only the BSP runs at once. */
int vm_start(struct vm *vm);

/*
 * vm_wait - block until the VM stops or pauses on a test SYNC (when
 * cfg.pause_on_sync). Returns 0 and the event; a SYNC leaves the VM paused
 * until vm_resume().
 */
int vm_wait(struct vm *vm, struct vm_event *ev);

/*
 * vm_poll_event - non-blocking vm_wait(): ev->kind is VM_EVENT_NONE when
 * nothing happened. Pair with vm->notify_fd in a poll loop.
 */
void vm_poll_event(struct vm *vm, struct vm_event *ev);

/*
 * vm_pause - stop every vCPU outside KVM_RUN (pending I/O completed, so
 * vcpu_state_get() sees a consistent state) and wait until all are parked.
 */
int vm_pause(struct vm *vm);

/*
 * vm_resume - let paused vCPUs run again (clears a pending SYNC event).
 * Returns 0, -ESHUTDOWN once the VM stopped, or -EBUSY while a
 * vm_pause_hold() is in force.
 */
int vm_resume(struct vm *vm);

/*
 * vm_pause_hold - vm_pause(), and keep the VM paused against every
 * vm_resume() until vm_pause_release() (a migration's stop-and-copy: a
 * resume from the control socket must not let the guest run meanwhile).
 * Returns what vm_pause() returns; on failure nothing is held.
 */
int vm_pause_hold(struct vm *vm);

/* vm_pause_release - end the hold; resume the vCPUs too if `resume`. */
void vm_pause_release(struct vm *vm, bool resume);

/*
 * vm_stop - stop the VM with exit `status` and a reason (first stop wins);
 * callable from any thread, including vCPU threads and the host test.
 */
void vm_stop(struct vm *vm, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* vm_is_stopping - whether vm_stop() was called (any thread). */
bool vm_is_stopping(struct vm *vm);

/*
 * vm_destroy - teardown in reverse: stop the VM, join every vCPU thread,
 * detach the hooks (subsystems stop their threads and free their state),
 * then release devices, KVM objects and memory. Safe on a half-built VM.
 */
void vm_destroy(struct vm *vm);

/* vm_irq_line - set ISA/IOAPIC interrupt line `irq` to `level` (no-op without KVM). */
int vm_irq_line(struct vm *vm, unsigned irq, int level);

/* vm_log - send one diagnostic line to cfg.log (or stderr). */
void vm_log(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* vm_set_err - record a reason in vm->err and return `code` (a -errno). */
int vm_set_err(struct vm *vm, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
