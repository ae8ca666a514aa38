// SPDX-License-Identifier: MIT
/*
 * Dirty-page tracking with KVM's dirty log, one bitmap per memslot.
 *
 * Two modes (measured in bench/migrate.sh, chosen in docs/migration.md):
 *  - classic: KVM_GET_DIRTY_LOG returns the bitmap and write-protects the
 *    dirty pages again in the same call;
 *  - manual: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET: turning
 *    logging on costs nothing (the bitmap starts all ones, no page is
 *    write-protected up front), and KVM_CLEAR_DIRTY_LOG re-protects only the
 *    pages we are about to send.
 * Memslot i covers guest-RAM region i (core/vm.c sets them up that way).
 */
#include "migrate/live/internal.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#ifndef KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2
#define KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 168
#endif
#ifndef KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE
#define KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (1 << 0)
#define KVM_DIRTY_LOG_INITIALLY_SET	    (1 << 1)
#endif

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int set_logging(struct dirty_log *d, bool on, char *err, size_t errlen)
{
	struct vm *vm = d->vm;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			if (err)
				snprintf(err, errlen, "%s dirty logging on memslot %u: %s",
					 on ? "enabling" : "disabling", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int set_manual(struct vm *vm, bool on)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };

	if (on)
		cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0 ? -errno : 0;
}

int dirty_start(struct dirty_log *d, struct vm *vm, bool manual, char *err, size_t errlen)
{
	int rc;

	memset(d, 0, sizeof(*d));
	if (vm->nr_ro) { /* memslot i would not be region i (core/memslots.h) */
		if (err)
			snprintf(err, errlen,
				 "migration of a VM with read-only memory (--integrity) is not "
				 "supported");
		return -ENOTSUP;
	}
	d->vm = vm;
	d->nslots = vm->mem.nr_regions;
	for (unsigned i = 0; i < d->nslots; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];

		d->slot[i].gpa = r->gpa;
		d->slot[i].host = r->host;
		d->slot[i].npages = r->size / GMEM_PAGE_SIZE;
		/* KVM writes whole longs: round the bitmap up to 64 pages */
		d->slot[i].bits = calloc((d->slot[i].npages + 63) / 64, sizeof(uint64_t));
		d->slot[i].tmp = calloc((d->slot[i].npages + 63) / 64, sizeof(uint64_t));
		if (!d->slot[i].bits || !d->slot[i].tmp) {
			dirty_free(d);
			snprintf(err, errlen, "out of memory for the dirty bitmap");
			return -ENOMEM;
		}
	}
	if (manual) {
		int ext = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);

		if (ext > 0 && (ext & KVM_DIRTY_LOG_INITIALLY_SET) && set_manual(vm, true) == 0)
			d->manual = true;
	}
	rc = set_logging(d, true, err, errlen);
	if (rc) {
		if (d->manual)
			set_manual(vm, false);
		dirty_free(d);
		return rc;
	}
	d->on = true;
	return 0;
}

int dirty_sync(struct dirty_log *d, uint64_t *count, char *err, size_t errlen)
{
	double t0 = now_ms();
	uint64_t n = 0;

	for (unsigned i = 0; i < d->nslots; i++) {
		struct dirty_slot *s = &d->slot[i];
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = s->tmp };
		uint64_t words = (s->npages + 63) / 64;

		if (ioctl(d->vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
			snprintf(err, errlen, "KVM_GET_DIRTY_LOG (slot %u): %s", i,
				 strerror(errno));
			return -errno;
		}
		if (d->manual) {
			/* re-protect exactly what we are about to send, in chunks
			 * of 64 pages (first_page must be 64-aligned) */
			struct kvm_clear_dirty_log clr = {
				.slot = i,
				.first_page = 0,
				.num_pages = (uint32_t)s->npages,
				.dirty_bitmap = s->tmp,
			};

			if (ioctl(d->vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr) < 0) {
				snprintf(err, errlen, "KVM_CLEAR_DIRTY_LOG (slot %u): %s", i,
					 strerror(errno));
				return -errno;
			}
		}
		/* KVM overwrites the bitmap it is given: accumulate, so pages
		 * found by an earlier sync and not sent yet are not lost */
		for (uint64_t w = 0; w < words; w++)
			s->bits[w] |= s->tmp[w];
		/* pages the VMM itself wrote (not in KVM's log); slots start at
		 * multiples of 64 pages, so the words line up */
		for (uint64_t w = 0, base = s->gpa / GMEM_PAGE_SIZE / 64; w < words; w++)
			s->bits[w] |= gmem_dirty_take(&d->vm->mem, base + w);
		/* never look past the slot's last page */
		if (s->npages % 64)
			s->bits[words - 1] &= (1ull << (s->npages % 64)) - 1;
		for (uint64_t w = 0; w < words; w++)
			n += (uint64_t)__builtin_popcountll(s->bits[w]);
	}
	d->last_sync_ms = now_ms() - t0;
	*count = n;
	return 0;
}

void dirty_stop(struct dirty_log *d)
{
	if (!d->on)
		return;
	set_logging(d, false, NULL, 0);
	if (d->manual)
		set_manual(d->vm, false);
	d->on = false;
}

void dirty_free(struct dirty_log *d)
{
	for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++) {
		free(d->slot[i].bits);
		free(d->slot[i].tmp);
		d->slot[i].bits = NULL;
		d->slot[i].tmp = NULL;
	}
}
