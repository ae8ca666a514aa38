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
 * One dirty slot per piece of RAM as the memslots cut it (core/memslots.h):
 * read-only and hidden pieces (code integrity, the secure domain) are written
 * only outside the root VM's log, so every sync marks them all dirty.
 */
#include "migrate/live/internal.h"
#include "core/clock.h"

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

static int set_logging(struct dirty_log *d, bool on, char *err, size_t errlen)
{
	int rc = vm_memslots_set(d->vm, on ? KVM_MEM_LOG_DIRTY_PAGES : 0);

	if (rc && err)
		snprintf(err, errlen, "%s dirty logging: %s", on ? "enabling" : "disabling",
			 d->vm->err);
	return rc;
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

	struct vm_slot_span sp[VM_MAX_SPANS];
	uint64_t end = 0;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->nslots = vm_memslots_layout(vm, sp);
	for (unsigned i = 0; i < d->nslots; i++) {
		const struct gmem_region *r = gmem_region_of(&vm->mem, sp[i].gpa);

		d->slot[i].gpa = sp[i].gpa;
		d->slot[i].host = r->host + (sp[i].gpa - r->gpa);
		d->slot[i].offset = (off_t)(r->offset + (sp[i].gpa - r->gpa));
		d->slot[i].npages = sp[i].size / GMEM_PAGE_SIZE;
		d->slot[i].kvm_slot = sp[i].slot;
		d->slot[i].always = sp[i].readonly;
		if (sp[i].gpa + sp[i].size > end)
			end = sp[i].gpa + sp[i].size;
		/* KVM writes whole longs: round the bitmap up to 64 pages */
		d->slot[i].bits = calloc((d->slot[i].npages + 63) / 64, sizeof(uint64_t));
		d->slot[i].tmp = calloc((d->slot[i].npages + 63) / 64, sizeof(uint64_t));
		if (!d->slot[i].bits || !d->slot[i].tmp) {
			dirty_free(d);
			snprintf(err, errlen, "out of memory for the dirty bitmap");
			return -ENOMEM;
		}
	}
	d->vmm_words = (end / GMEM_PAGE_SIZE + 63) / 64;
	d->vmm_bits = calloc(d->vmm_words, sizeof(uint64_t));
	if (!d->vmm_bits) {
		dirty_free(d);
		snprintf(err, errlen, "out of memory for the dirty bitmap");
		return -ENOMEM;
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

/* 64 bits of v starting at bit `bit` (v has `words` words) */
static uint64_t bits_at(const uint64_t *v, uint64_t words, uint64_t bit)
{
	uint64_t i = bit / 64, sh = bit % 64, x;

	if (i >= words)
		return 0;
	x = v[i] >> sh;
	if (sh && i + 1 < words)
		x |= v[i + 1] << (64 - sh);
	return x;
}

/* KVM's log of one memslot, OR'ed into s->bits. */
static int sync_kvm(struct dirty_log *d, struct dirty_slot *s, char *err, size_t errlen)
{
	struct kvm_dirty_log log = { .slot = (uint32_t)s->kvm_slot, .dirty_bitmap = s->tmp };
	uint64_t words = (s->npages + 63) / 64;

	if (ioctl(d->vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		snprintf(err, errlen, "KVM_GET_DIRTY_LOG (slot %d): %s", s->kvm_slot,
			 strerror(errno));
		return -errno;
	}
	if (d->manual) {
		/* re-protect exactly what we are about to send */
		struct kvm_clear_dirty_log clr = {
			.slot = (uint32_t)s->kvm_slot,
			.first_page = 0,
			.num_pages = (uint32_t)s->npages,
			.dirty_bitmap = s->tmp,
		};

		if (ioctl(d->vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr) < 0) {
			snprintf(err, errlen, "KVM_CLEAR_DIRTY_LOG (slot %d): %s", s->kvm_slot,
				 strerror(errno));
			return -errno;
		}
	}
	/* KVM overwrites the bitmap it is given: accumulate, so pages found by
	 * an earlier sync and not sent yet are not lost */
	for (uint64_t w = 0; w < words; w++)
		s->bits[w] |= s->tmp[w];
	return 0;
}

int dirty_sync(struct dirty_log *d, uint64_t *count, char *err, size_t errlen)
{
	double t0 = clock_now_ms();
	uint64_t n = 0;
	int rc;

	/* pages the VMM itself wrote (not in KVM's log), taken once */
	for (uint64_t w = 0; w < d->vmm_words; w++)
		d->vmm_bits[w] = gmem_dirty_take(&d->vm->mem, w);
	for (unsigned i = 0; i < d->nslots; i++) {
		struct dirty_slot *s = &d->slot[i];
		uint64_t words = (s->npages + 63) / 64, pfn = s->gpa / GMEM_PAGE_SIZE;

		if (s->always) /* the secure domain writes here, unlogged */
			memset(s->bits, 0xff, words * sizeof(uint64_t));
		else if ((rc = sync_kvm(d, s, err, errlen)))
			return rc;
		for (uint64_t w = 0; w < words; w++)
			s->bits[w] |= bits_at(d->vmm_bits, d->vmm_words, pfn + 64 * w);
		/* never look past the slot's last page */
		if (s->npages % 64)
			s->bits[words - 1] &= (1ull << (s->npages % 64)) - 1;
		for (uint64_t w = 0; w < words; w++)
			n += (uint64_t)__builtin_popcountll(s->bits[w]);
	}
	d->last_sync_ms = clock_now_ms() - t0;
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
	free(d->vmm_bits);
	d->vmm_bits = NULL;
	for (unsigned i = 0; i < VM_MAX_SPANS; i++) {
		free(d->slot[i].bits);
		free(d->slot[i].tmp);
		d->slot[i].bits = NULL;
		d->slot[i].tmp = NULL;
	}
}
