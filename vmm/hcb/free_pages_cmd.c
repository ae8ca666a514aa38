// SPDX-License-Identifier: MIT
/*
 * `vessel ctl SOCK free-pages [guest]`: learn the guest's free page frames,
 * either by running its FREE_PAGES hyper-callback in the VMM (no guest
 * entry), or, with `guest`, by the round trip hyper-callbacks replace: the
 * VMM raises ISA IRQ VESSEL_FREE_REPORT_IRQ and waits for the kernel's
 * VESSEL_HC_FREE_REPORT hypercall with a bitmap (the virtio-balloon
 * free-page-hint pattern). The reply gives the count, host time and VM
 * exits, for bench/hcb.sh.
 */
#include "control/ctl.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/hooks.h"
#include "core/hypercall.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "hcb/hcb.h"
#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUEST_FRAMES_MAX (0x100000000ull / GMEM_PAGE_SIZE)
#define ROUNDTRIP_TIMEOUT_S 10

struct roundtrip {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool waiting, answered;
	int64_t free; /* frames the guest reported free, or -errno */
};

static const struct vm_hook_ops roundtrip_hooks;

static uint64_t total_exits(struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		n += __atomic_load_n(&vm->vcpus[i]->exits, __ATOMIC_RELAXED);
	return n;
}

/* The kernel's answer (a vCPU thread). */
static void hc_free_report(struct vm *vm, struct vcpu *vcpu, uint64_t gpa,
			   struct exit_result *res)
{
	struct roundtrip *rt = vm_hook_find(vm, &roundtrip_hooks);
	struct vessel_hc_free_report a;
	int64_t n = 0, ret = 0;
	uint64_t *map = NULL;

	if (hc_arg_read(vm, VESSEL_HC_FREE_REPORT, gpa, &a, sizeof(a), res))
		return;
	if (!a.nframes || a.nframes > GUEST_FRAMES_MAX) {
		ret = -EINVAL;
	} else if (!(map = malloc((a.nframes + 63) / 64 * 8))) {
		ret = -ENOMEM;
	} else if (gmem_read(&vm->mem, a.bitmap_gpa, map, (a.nframes + 63) / 64 * 8)) {
		ret = -EFAULT;
	} else {
		for (uint64_t w = 0; w < (a.nframes + 63) / 64; w++)
			n += __builtin_popcountll(map[w]);
	}
	free(map);
	if (rt) {
		pthread_mutex_lock(&rt->lock);
		if (rt->waiting) {
			rt->free = ret ? ret : n;
			rt->answered = true;
			pthread_cond_broadcast(&rt->cond);
		}
		pthread_mutex_unlock(&rt->lock);
	}
	hc_ret_write(vm, VESSEL_HC_FREE_REPORT, gpa, offsetof(struct vessel_hc_free_report, ret),
		     ret, res);
}

static const struct hypercall hc_free_report_def = { VESSEL_HC_FREE_REPORT, "free_report",
						     hc_free_report };
HYPERCALL_REGISTER(hc_free_report_def);

/* Ask the guest; wait for its hypercall. */
static int64_t ask_guest(struct vm *vm, struct roundtrip *rt)
{
	struct timespec deadline;
	int64_t r;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ROUNDTRIP_TIMEOUT_S;
	pthread_mutex_lock(&rt->lock);
	rt->waiting = true;
	rt->answered = false;
	pthread_mutex_unlock(&rt->lock);
	vm_irq_line(vm, VESSEL_FREE_REPORT_IRQ, 1); /* an edge */
	vm_irq_line(vm, VESSEL_FREE_REPORT_IRQ, 0);
	pthread_mutex_lock(&rt->lock);
	while (!rt->answered &&
	       pthread_cond_timedwait(&rt->cond, &rt->lock, &deadline) != ETIMEDOUT)
		;
	r = rt->answered ? rt->free : -ETIMEDOUT;
	rt->waiting = false;
	pthread_mutex_unlock(&rt->lock);
	return r;
}

static int c_free_pages(void *ctx, const struct ctl_args *a, json_t *res, char *err,
			size_t errlen)
{
	struct vm *vm = ctx;
	struct roundtrip *rt = vm_hook_find(vm, &roundtrip_hooks);
	const struct gmem_region *top = &vm->mem.regions[vm->mem.nr_regions - 1];
	uint64_t nframes = (top->gpa + top->size) / GMEM_PAGE_SIZE, exits;
	struct hcb_run_stats st = { 0 };
	bool guest = ctl_arg_bool(a, "guest");
	uint64_t *map;
	int64_t n;
	double t0;

	if (nframes > GUEST_FRAMES_MAX)
		nframes = GUEST_FRAMES_MAX;
	map = calloc((nframes + 63) / 64, sizeof(uint64_t));
	if (!map || !rt) {
		free(map);
		return -ENOMEM;
	}
	exits = total_exits(vm);
	t0 = clock_now_us();
	n = guest ? ask_guest(vm, rt) : hcb_free_pages(vm, map, nframes, &st);
	json_object_set_new(res, "us", json_real(clock_now_us() - t0));
	json_object_set_new(res, "exits", json_integer((json_int_t)(total_exits(vm) - exits)));
	free(map);
	if (n < 0) {
		snprintf(err, errlen, "%s", guest ? (n == -ETIMEDOUT ? "the guest did not answer" :
								  "the guest's report was bad") :
						    "no free-pages hyper-callback answered");
		return (int)n;
	}
	json_object_set_new(res, "free_pages", json_integer((json_int_t)n));
	json_object_set_new(res, "how", json_string(guest ? "guest round trip" : "hyper-callback"));
	if (!guest) {
		json_object_set_new(res, "callback_runs", json_integer((json_int_t)st.runs));
		json_object_set_new(res, "callback_insns", json_integer((json_int_t)st.insns));
	}
	return 0;
}

static const struct ctl_command free_pages_cmd = {
	"free-pages",
	"count the guest's free pages by its hyper-callback, or (guest) by asking the guest",
	{ { "guest", CTL_BOOL, false, NULL } },
	c_free_pages,
};
CTL_COMMAND(free_pages_cmd);

static void detach(void *opaque)
{
	struct roundtrip *rt = opaque;

	pthread_cond_destroy(&rt->cond);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

static const struct vm_hook_ops roundtrip_hooks = { .name = "free-page round trip",
						    .detach = detach };

int hcb_roundtrip_attach(struct vm *vm)
{
	struct roundtrip *rt = calloc(1, sizeof(*rt));
	int rc;

	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	pthread_cond_init(&rt->cond, NULL);
	rc = vm_hook_attach(vm, &roundtrip_hooks, rt);
	if (rc)
		detach(rt);
	return rc;
}
