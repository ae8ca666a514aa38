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

/* How this VM migrates (vessel run --tls-creds, --incoming-timeout). */
struct live_mig_opts {
	const char *tls_creds;	     /* credentials directory for tls: (tls.h); NULL: none */
	unsigned incoming_timeout_s; /* deadline of live_incoming(); 0: none */
};

/*
 * live_set_mig_opts - use o for this VM's migrations (o is copied; the
 * strings in it must outlive l). Loads the TLS credentials that are needed
 * first, so that a bad directory is reported now: the destination's
 * (server) files when incoming is a tls: address, else the source's
 * (client) files. 0, or -errno with err naming the file.
 */
int live_set_mig_opts(struct vm *vm, const struct live_mig_opts *o, const char *incoming,
		      char *err, size_t errlen);

/*
 * live_incoming - destination side: listen on uri (tcp:HOST:PORT or
 * tls:HOST:PORT), admit the first connection that proves to be a migration
 * source (admit.h: stray connections are turned away and logged), receive
 * its stream into the (not yet started) VM, restore every vCPU, the
 * irqchip, the clock and the devices, and acknowledge. All within the
 * incoming deadline of live_set_mig_opts() (none if not set). After 0 the
 * caller starts the VM with
 * vm_start(); on failure (-ETIMEDOUT for the deadline) err says why and
 * the VM must not be started.
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
