/* SPDX-License-Identifier: MIT */
/*
 * Live migration and memory-error handling attached to a running VM: the
 * glue between the VMM core (core/vm.h) and the VMM-independent pieces in
 * vmm/migrate/ (stream, poison set, safe copy, userfaultfd, transport) and
 * vmm/control/ (the JSON control socket).
 *
 * One `struct live` per VM (the `vessel` process runs one VM). It owns:
 *   - the VM's poison set, fed by vCPU SIGBUS (KVM touching a poisoned
 *     page), by the migration reader and by `inject-ume`;
 *   - machine-check injection into the guest (KVM_X86_SET_MCE);
 *   - the migration sender thread and its progress;
 *   - the control socket server.
 */
#ifndef VESSEL_MIGRATE_LIVE_H
#define VESSEL_MIGRATE_LIVE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct live;

/*
 * live_attach - set up memory-error handling for vm (after vm_kvm_create,
 * before vm_start): poison set, SIGBUS handlers, KVM_X86_SETUP_MCE on every
 * vCPU. Returns 0 with *out, or -errno with err set.
 */
int live_attach(struct vm *vm, struct live **out, char *err, size_t errlen);

/* live_detach - stop the control server and any migration, free everything. */
void live_detach(struct live *l);

/* live_control_start - serve the JSON control socket at path. 0 or -errno + err. */
int live_control_start(struct live *l, const char *path, char *err, size_t errlen);

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
int live_set_mig_opts(struct live *l, const struct live_mig_opts *o, const char *incoming,
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
int live_incoming(struct live *l, const char *uri, char *err, size_t errlen);

/* The result of the last migration, for the source's exit path. */
const char *live_migration_summary(struct live *l);

/*
 * vCPU thread hooks (core/vcpu.c), around every KVM_RUN: a SIGBUS that KVM
 * raises for a poisoned guest page while the vCPU runs is turned into a
 * machine check injected into that vCPU. No-ops when no live is attached.
 */
void live_vcpu_run_enter(struct vcpu *v);
void live_vcpu_run_exit(struct vcpu *v);

/*
 * live_note_write - the VMM itself wrote guest memory [gpa, gpa+len) (e.g. a
 * hypercall's OUT field). KVM's dirty log does not see such writes; during a
 * migration the pages are sent again. Cheap no-op otherwise.
 */
void live_note_write(struct vm *vm, uint64_t gpa, uint64_t len);

#endif /* VESSEL_MIGRATE_LIVE_H */
