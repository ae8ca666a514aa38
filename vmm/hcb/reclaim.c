// SPDX-License-Identifier: MIT
/*
 * `vessel ctl SOCK reclaim`: ask the guest's FREE_PAGES hyper-callback which
 * page frames are free and give their memory back to the host (a hole
 * punched in the memfd), without entering the guest. The VM is paused while
 * this runs, so no frame the callback reported free can be allocated and
 * written before its memory is dropped; the guest later allocates such a
 * frame normally and finds zeroes (it never assumes the content of a page
 * it did not write).
 */
#include "control/ctl.h"
#include "core/memerr.h"
#include "core/vm.h"
#include "hcb/hcb.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* frames the guest kernel can own: it direct-maps RAM below 4 GiB only */
#define GUEST_FRAMES_MAX (0x100000000ull / GMEM_PAGE_SIZE)

/* Punch the free frames of one RAM region out of the memfd. */
static int punch_region(struct vm *vm, const struct gmem_region *r, const uint64_t *free_map,
			uint64_t nframes, uint64_t *pages)
{
	uint64_t first = r->gpa / GMEM_PAGE_SIZE, last = (r->gpa + r->size) / GMEM_PAGE_SIZE;

	if (last > nframes)
		last = nframes;
	for (uint64_t f = first; f < last;) {
		uint64_t run = 0;

		while (f + run < last && (free_map[(f + run) / 64] >> ((f + run) % 64) & 1) &&
		       !memerr_is_poisoned(vm, (f + run) * GMEM_PAGE_SIZE))
			run++;
		if (!run) {
			f++;
			continue;
		}
		if (fallocate(vm->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(r->offset + (f - first) * GMEM_PAGE_SIZE),
			      (off_t)(run * GMEM_PAGE_SIZE)) < 0)
			return -errno;
		*pages += run;
		f += run;
	}
	return 0;
}

static int c_reclaim(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	const struct gmem_region *top = &vm->mem.regions[vm->mem.nr_regions - 1];
	uint64_t nframes = (top->gpa + top->size) / GMEM_PAGE_SIZE, pages = 0;
	struct hcb_run_stats st = { 0 };
	uint64_t *map;
	bool paused;
	double t0 = clock_now_ms();
	int64_t nfree;
	int rc;

	if (!hcb_registered(vm, VESSEL_HCB_FREE_PAGES)) {
		snprintf(err, errlen,
			 "the guest registered no free-pages hyper-callback (kernel command line "
			 "hcb=off, or vessel run --no-hyper-callbacks)");
		return -ENOENT;
	}
	if (nframes > GUEST_FRAMES_MAX)
		nframes = GUEST_FRAMES_MAX;
	map = calloc((nframes + 63) / 64, sizeof(uint64_t));
	if (!map)
		return -ENOMEM;
	pthread_mutex_lock(&vm->lock);
	paused = vm->state == VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	rc = paused ? 0 : vm_pause(vm);
	if (rc) {
		snprintf(err, errlen, "%s", vm->err);
		goto out;
	}
	nfree = hcb_free_pages(vm, map, nframes, &st);
	if (nfree < 0) {
		rc = (int)nfree;
		snprintf(err, errlen, "the free-pages callback failed: %s", strerror(-rc));
	}
	for (unsigned i = 0; !rc && i < vm->mem.nr_regions; i++)
		rc = punch_region(vm, &vm->mem.regions[i], map, nframes, &pages);
	if (rc && !err[0])
		snprintf(err, errlen, "cannot punch a hole in guest memory: %s", strerror(-rc));
	if (!paused)
		vm_resume(vm);
	if (!rc) {
		json_object_set_new(res, "pages", json_integer((json_int_t)pages));
		json_object_set_new(res, "bytes", json_integer((json_int_t)(pages * GMEM_PAGE_SIZE)));
		json_object_set_new(res, "free_reported", json_integer((json_int_t)nfree));
		json_object_set_new(res, "callback_runs", json_integer((json_int_t)st.runs));
		json_object_set_new(res, "callback_insns", json_integer((json_int_t)st.insns));
		json_object_set_new(res, "callback_us", json_real((double)st.ns / 1e3));
		json_object_set_new(res, "ms", json_real(clock_now_ms() - t0));
		vm_log(vm, "reclaim: %llu free pages (%llu MiB) given back to the host",
		       (unsigned long long)pages, (unsigned long long)(pages >> 8));
	}
out:
	free(map);
	return rc;
}

static const struct ctl_command reclaim_cmd = {
	"reclaim",
	"give the memory of the pages the guest's callback reports free back to the host",
	{},
	c_reclaim,
};
CTL_COMMAND(reclaim_cmd);
