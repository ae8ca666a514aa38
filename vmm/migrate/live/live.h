/* SPDX-License-Identifier: MIT */
/*
 * Live migration attached to a VM: the glue between the VMM core
 * (core/vm.h, core/memerr.h) and the VMM-independent pieces in vmm/migrate/
 * (stream, receiver, transport). It attaches to the VM as a hook
 * (core/hooks.h), so vm_destroy() cancels a running migration and frees it
 * after the vCPUs are joined; its control commands (migrate,
 * migrate-status) are registered in control.c.
 */
#ifndef VESSEL_MIGRATE_LIVE_H
#define VESSEL_MIGRATE_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm;

/*
 * live_attach - make vm migratable (after vm_kvm_create, before vm_start).
 * Returns 0, or -errno with err set.
 */
int live_attach(struct vm *vm, char *err, size_t errlen);

/*
 * live_incoming - destination side: listen on uri (tcp:HOST:PORT), receive
 * one migration stream into the (not yet started) VM, restore every vCPU,
 * the irqchip, the clock and the devices, and acknowledge. After 0 the
 * caller starts the VM with vm_start(); on failure err says why and the VM
 * must not be started. Needs live_attach().
 */
int live_incoming(struct vm *vm, const char *uri, char *err, size_t errlen);

/* The result of the last migration of vm, for the source's exit path ("" if none). */
const char *live_migration_summary(struct vm *vm);

/*
 * live_busy - -EBUSY with err set while vm is being handed over to the
 * destination (stop-and-copy): pause/resume must wait. 0 otherwise.
 */
int live_busy(struct vm *vm, char *err, size_t errlen);

/* live_status_name - "none", "precopy", ..., "completed", "failed". */
const char *live_status_name(struct vm *vm);

#endif /* VESSEL_MIGRATE_LIVE_H */
