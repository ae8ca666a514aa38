// SPDX-License-Identifier: MIT
/*
 * Page-table traces: the VESSEL_HC_PTTRACE hypercall, the `pt-mark` control
 * command and the trace file, as a VM hook (pttrace.h).
 */
#include "pttrace/pttrace.h"
#include "control/ctl.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/hooks.h"
#include "core/hypercall.h"
#include "core/kvm_stats.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "pttrace/trace_file.h"

#include "abi/vessel.h"
#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 1024 /* records copied out of guest memory at a time */

struct ptbuf {
	bool on;
	uint64_t gpa;
	uint32_t cap;
};

struct pttrace {
	struct vm *vm;
	char path[512];
	pthread_mutex_t lock; /* the file and the buffers' bookkeeping */
	struct ptf_writer w;
	struct ptbuf buf[VM_MAX_CPUS];
	unsigned nbufs;
	bool failed; /* a write failed: the file is incomplete, stop recording */
	struct vessel_pt_rec chunk[CHUNK];
	struct vessel_ptf_stat stats[KVM_STATS_MAX];
};

static const struct vm_hook_ops pttrace_hooks;

/*
 * Move the records of cpu's buffer into the file and empty the buffer.
 * Caller holds pt->lock; the buffer's CPU is not writing it (it is the
 * caller, or paused, or gone). 0, -EINVAL (the guest's header is broken),
 * -EFAULT/-EHWPOISON (unreadable), -EIO (the file).
 */
static int drain(struct pttrace *pt, unsigned cpu)
{
	struct ptbuf *b = &pt->buf[cpu];
	struct vessel_pttrace_buf h;
	uint64_t lost;
	uint32_t done;
	int rc;

	if (pt->failed)
		return -EIO;
	rc = gmem_read(&pt->vm->mem, b->gpa, &h, sizeof(h));
	if (rc)
		return rc;
	if (h.count > b->cap) {
		vm_log(pt->vm, "pt-trace: cpu %u's buffer says %u records, it has room for %u", cpu,
		       h.count, b->cap);
		return -EINVAL;
	}
	if (!h.count && !h.lost)
		return 0;
	lost = h.lost;
	done = 0;
	do {
		uint32_t n = h.count - done > CHUNK ? CHUNK : h.count - done;

		if (n) {
			rc = gmem_read(&pt->vm->mem,
				       b->gpa + sizeof(h) + (uint64_t)done * sizeof(pt->chunk[0]),
				       pt->chunk, (size_t)n * sizeof(pt->chunk[0]));
			if (rc)
				return rc;
		}
		rc = ptf_write_recs(&pt->w, cpu, lost, pt->chunk, n);
		if (rc) {
			vm_log(pt->vm, "pt-trace %s: write failed: %s; recording stopped", pt->path,
			       strerror(-rc));
			pt->failed = true;
			return -EIO;
		}
		lost = 0;
		done += n;
	} while (done < h.count);
	h.count = 0;
	h.lost = 0;
	return gmem_write(&pt->vm->mem, b->gpa, &h, offsetof(struct vessel_pttrace_buf, reserved));
}

static int drain_all(struct pttrace *pt)
{
	int rc = 0;

	for (unsigned i = 0; i < pt->vm->nr_vcpus; i++) {
		if (pt->buf[i].on) {
			int r = drain(pt, i);

			rc = rc ? rc : r;
		}
	}
	return rc;
}

/* The MARK block: the KVM statistics now. Caller holds pt->lock. */
static int write_mark(struct pttrace *pt, const char *name)
{
	struct vessel_ptf_stat *st = pt->stats;
	struct kvm_stats_snap *snap = malloc(sizeof(*snap));
	int rc;

	if (!snap)
		return -ENOMEM;
	rc = vm_kvm_stats(pt->vm, snap);
	if (rc) {
		vm_log(pt->vm, "pt-trace: cannot read the KVM statistics: %s", strerror(-rc));
		snap->n = 0; /* the mark still separates the workloads */
	}
	for (unsigned i = 0; i < snap->n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		snprintf(st[i].name, sizeof(st[i].name), "%s", snap->s[i].name);
		st[i].value = snap->s[i].value;
	}
	rc = pt->failed ? -EIO : ptf_write_mark(&pt->w, name, clock_now_ns(), st, snap->n);
	if (rc && !pt->failed) {
		vm_log(pt->vm, "pt-trace %s: write failed: %s; recording stopped", pt->path,
		       strerror(-rc));
		pt->failed = true;
	}
	free(snap);
	return rc;
}

static int64_t op_register(struct pttrace *pt, const struct vessel_hc_pttrace *a)
{
	struct vessel_pttrace_buf h;
	struct ptbuf *b;

	if (a->cpu >= pt->vm->nr_vcpus || (a->buf_gpa & 31) || a->buf_size < 64 ||
	    a->buf_size > (64ull << 20) || !gmem_ptr(&pt->vm->mem, a->buf_gpa, a->buf_size) ||
	    gmem_read(&pt->vm->mem, a->buf_gpa, &h, sizeof(h)))
		return -EINVAL;
	if (h.cap == 0 || (uint64_t)h.cap * 32 + sizeof(h) > a->buf_size)
		return -EINVAL;
	b = &pt->buf[a->cpu];
	if (b->on)
		return -EBUSY;
	*b = (struct ptbuf){ true, a->buf_gpa, h.cap };
	pt->nbufs++;
	return 0;
}

static void hc_pttrace(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct pttrace *pt = vm_hook_find(vm, &pttrace_hooks);
	struct vessel_hc_pttrace a;
	int64_t ret;

	if (hc_arg_read(vm, VESSEL_HC_PTTRACE, gpa, &a, sizeof(a), res))
		return;
	if (!pt) {
		ret = -ENODEV;
	} else if (a.op == VESSEL_PTTRACE_REGISTER) {
		pthread_mutex_lock(&pt->lock);
		ret = op_register(pt, &a);
		pthread_mutex_unlock(&pt->lock);
	} else if (a.op != VESSEL_PTTRACE_DRAIN || a.cpu >= vm->nr_vcpus || !pt->buf[a.cpu].on ||
		   (vcpu && vcpu->id != a.cpu)) {
		ret = -EINVAL; /* draining is for a CPU's own, registered buffer */
	} else {
		int rc;

		pthread_mutex_lock(&pt->lock);
		rc = drain(pt, a.cpu);
		pthread_mutex_unlock(&pt->lock);
		if (rc && rc != -EIO) {
			exit_fault(res, "hypercall pttrace: cpu %u's trace buffer at %#llx: %s",
				   a.cpu, (unsigned long long)pt->buf[a.cpu].gpa,
				   rc == -EINVAL ? "count above capacity" : strerror(-rc));
			return;
		}
		ret = rc;
	}
	hc_ret_write(vm, VESSEL_HC_PTTRACE, gpa, offsetof(struct vessel_hc_pttrace, ret), ret, res);
}

static const struct hypercall hc_pttrace_def = { VESSEL_HC_PTTRACE, "pttrace", hc_pttrace };
HYPERCALL_REGISTER(hc_pttrace_def);

int pttrace_mark(struct vm *vm, const char *name, char *err, size_t errlen)
{
	struct pttrace *pt = vm_hook_find(vm, &pttrace_hooks);
	bool running;
	int rc;

	if (!pt) {
		snprintf(err, errlen,
			 "no page-table trace is recorded (vessel run --pt-trace FILE)");
		return -ENODEV;
	}
	pthread_mutex_lock(&vm->lock);
	running = vm->state == VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	/* every vCPU parked: no record is half written, no buffer being drained */
	if (running && vm_pause(vm)) {
		snprintf(err, errlen, "cannot pause the VM: %s", vm->err);
		return -EBUSY;
	}
	pthread_mutex_lock(&pt->lock);
	rc = drain_all(pt);
	if (!rc)
		rc = write_mark(pt, name);
	pthread_mutex_unlock(&pt->lock);
	if (running)
		vm_resume(vm);
	if (rc)
		snprintf(err, errlen, "pt-trace %s: %s", pt->path, strerror(-rc));
	return rc;
}

int pttrace_counts(struct vm *vm, struct pttrace_counts *c)
{
	struct pttrace *pt = vm_hook_find(vm, &pttrace_hooks);

	if (!pt)
		return -ENODEV;
	pthread_mutex_lock(&pt->lock);
	*c = (struct pttrace_counts){ pt->w.records, pt->w.lost, pt->w.drains, pt->w.marks,
				      pt->nbufs };
	pthread_mutex_unlock(&pt->lock);
	return 0;
}

/* After every vCPU was joined: the rest of every buffer, "end", END. */
static void detach(void *opaque)
{
	struct pttrace *pt = opaque;
	uint64_t flags = 0;
	int rc;

	rc = drain_all(pt);
	if (!rc)
		flags |= VESSEL_PTF_END_F_RECOVERED;
	write_mark(pt, "end");
	rc = ptf_finish(&pt->w, flags);
	if (rc)
		vm_log(pt->vm, "pt-trace %s: cannot finish the file: %s", pt->path, strerror(-rc));
	else
		vm_log(pt->vm, "pt-trace %s: %llu records (%llu lost) from %u CPUs, %llu marks",
		       pt->path, (unsigned long long)pt->w.records, (unsigned long long)pt->w.lost,
		       pt->nbufs, (unsigned long long)pt->w.marks);
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

static const struct vm_hook_ops pttrace_hooks = { .name = "pttrace", .detach = detach };

int pttrace_attach(struct vm *vm, const char *path)
{
	struct pttrace *pt = calloc(1, sizeof(*pt));
	int rc;

	if (!pt)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	pt->vm = vm;
	snprintf(pt->path, sizeof(pt->path), "%s", path);
	pthread_mutex_init(&pt->lock, NULL);
	rc = ptf_create(&pt->w, path, vm->nr_vcpus, vm->mem.size);
	if (rc) {
		free(pt);
		return vm_set_err(vm, rc, "--pt-trace %s: %s", path, strerror(-rc));
	}
	rc = vm_hook_attach(vm, &pttrace_hooks, pt);
	if (rc) {
		ptf_finish(&pt->w, 0);
		free(pt);
		return vm_set_err(vm, rc, "cannot attach the page-table trace: %s", strerror(-rc));
	}
	return 0;
}

/* ---- control commands ---- */

static int c_mark(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct pttrace_counts c;
	int rc = pttrace_mark(ctx, ctl_arg_str(a, "name"), err, errlen);

	if (rc)
		return rc;
	pttrace_counts(ctx, &c);
	json_object_set_new(res, "records", json_integer((json_int_t)c.records));
	json_object_set_new(res, "lost", json_integer((json_int_t)c.lost));
	json_object_set_new(res, "marks", json_integer((json_int_t)c.marks));
	return 0;
}

static const struct ctl_command mark_cmd = {
	"pt-mark",
	"page-table trace: drain the guest's buffers, record a workload boundary with the KVM "
	"statistics",
	{ { "name", CTL_STR, true, "NAME" } },
	c_mark,
};
CTL_COMMAND(mark_cmd);
