/* SPDX-License-Identifier: MIT */
/* Shared state of the live-migration glue (not for use outside live/). */
#ifndef VESSEL_MIGRATE_LIVE_INTERNAL_H
#define VESSEL_MIGRATE_LIVE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "control/ctl.h"
#include "core/vm.h"
#include "migrate/live/live.h"
#include "migrate/stream.h"

enum mig_status {
	MIG_NONE,
	MIG_SETUP,
	MIG_PRECOPY,
	MIG_STOP_COPY,
	MIG_HANDOVER,
	MIG_POSTCOPY, /* the destination runs the VM, pages still follow */
	MIG_COMPLETED,
	MIG_FAILED,
};

struct mig_progress {
	enum mig_status status;
	char uri[300];
	unsigned pass;
	uint64_t bytes;	     /* on the wire so far */
	uint64_t pages_sent; /* page records, all passes */
	uint64_t pages_data, pages_zero, pages_poisoned, pages_free;
	uint64_t dirty_left; /* pages dirty at the last sync */
	double rate_mib_s;   /* over the whole migration so far */
	double elapsed_ms;
	double downtime_ms;	/* pause to ACK (the guest runs again); < 0 until known */
	double downtime_src_ms; /* pause to the last byte handed to TCP (QEMU's measure) */
	uint64_t poison_known, poison_on_read;
	double cpu_ms;		  /* CPU time of the sender thread (user + system) */
	uint64_t requests;	  /* post-copy: REQUEST records from the destination */
	uint64_t urgent_requests; /* of which over the second connection */
	uint64_t postcopy_pages;  /* post-copy: pages sent after the switch */
	char error[512];
};

/* Dirty tracking of guest RAM with KVM's dirty log (dirty.c). */
struct dirty_slot {
	uint64_t gpa, npages;
	uint8_t *host;
	off_t offset;	/* of gpa in the memfd */
	uint64_t *bits; /* 1 = send this page (accumulates until sent) */
	uint64_t *tmp;	/* what KVM_GET_DIRTY_LOG returned this time */
	int kvm_slot;	/* its memslot; -1: a hidden range (no memslot) */
	bool always;	/* read-only or hidden: written outside the root's dirty log
			 * (by the secure domain), so sent at every pass */
};

struct dirty_log {
	struct vm *vm;
	bool manual; /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET */
	bool on;
	unsigned nslots;
	struct dirty_slot slot[VM_MAX_SPANS];
	uint64_t *vmm_bits; /* the VMM's own writes, one bit per guest page */
	uint64_t vmm_words;
	double last_sync_ms;
};

/* Counters for vessel ctl SOCK stats (live_stats_json), under live's lock. */
struct live_counters {
	/* migrations out of this VMM, when each ended */
	uint64_t out_completed, out_postcopy, out_failed;
	uint64_t out_pages_data, out_pages_zero, out_pages_free, out_pages_poisoned;
	uint64_t out_requests, out_requests_second; /* post-copy: pages asked for */
	/* incoming post-copy migrations, when each ended */
	uint64_t in_completed, in_failed;
	uint64_t in_pages, in_pages_second; /* pages after the switch; over the 2nd conn. */
	uint64_t in_faults_waited, in_faults_zero, in_repoisoned;
	double in_lat_p50_ms, in_lat_p99_ms, in_lat_max_ms; /* the last one's; -1: none */
};

struct live {
	struct vm *vm;
	struct live_counters cnt; /* under lock */

	/* migration (sender) */
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_alive;
	struct mig_progress prog; /* under lock */
	char summary[1024];
	bool paused_by_user;
	bool cancel;
	bool postcopy_req; /* migrate-start-postcopy (atomic) */
	int sock;	   /* the sender's connection, -1 when none (under lock) */

	struct postcopy_dst *pc; /* an incoming post-copy migration (postcopy_dst.c) */

	/* how to migrate (live_set_mig_opts) */
	struct live_mig_opts opts;
	struct mig_tls_creds *tls_server; /* loaded for a tls: --incoming */
};

/* dirty.c */
int dirty_start(struct dirty_log *d, struct vm *vm, bool manual, char *err, size_t errlen);
/* Fetch the dirty pages since the last sync into d->slot[].bits (OR'ed
 * with the VMM's own writes); for manual mode also re-protects them. */
int dirty_sync(struct dirty_log *d, uint64_t *count, char *err, size_t errlen);
void dirty_stop(struct dirty_log *d);
void dirty_free(struct dirty_log *d);

/* vmstate.c */
struct mig_writer;
struct mig_record;
int vmstate_send(struct live *l, struct mig_writer *w, char *err, size_t errlen);
struct vmstate_rx {
	unsigned vcpus_seen;
	bool vcpu_seen[VM_MAX_CPUS];
	bool irqchip_seen[3], clock_seen;
	bool integrity_seen; /* the source's integrity state (integrity.h) */
	unsigned devices_seen;
};
int vmstate_restore(struct live *l, struct vmstate_rx *rx, const struct mig_record *rec, char *err,
		    size_t errlen);
int vmstate_rx_complete(struct live *l, const struct vmstate_rx *rx, char *err, size_t errlen);

/* checksums.c: test mode VESSEL_MIG_CHECKSUMS=FILE (0 when unset, or -errno) */
int live_write_checksums(struct vm *vm, const uint64_t *free_map, uint64_t free_frames,
			 const char *why);

/* send.c */
struct live_migrate_args {
	const char *uri;
	bool postcopy;		  /* the state first, the pages after (post-copy at once) */
	uint64_t max_downtime_ms; /* pre-copy stops only when it can keep to this; 0: none */
};
int live_migrate_start(struct live *l, const struct live_migrate_args *a, char *err, size_t errlen);
/* migrate-start-postcopy: switch the running pre-copy to post-copy. 0 or -errno + err. */
int live_migrate_start_postcopy(struct live *l, char *err, size_t errlen);
void live_migrate_progress(struct live *l, struct mig_progress *out);
const char *mig_status_name(enum mig_status s);

/* live_of - the live state attached to vm (live_attach), or NULL. */
struct live *live_of(struct vm *vm);

#endif
