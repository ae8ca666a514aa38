// SPDX-License-Identifier: MIT
/* Hyper-callbacks: registration, verification, running (see hcb.h). */
#include "hcb/hcb.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/hooks.h"
#include "core/hypercall.h"
#include "core/vm.h"

#include "ebpf.h"
#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_REFUSALS 16 /* refused registrations logged; the rest only counted */

struct hcb_slot {
	struct ebpf_prog *prog; /* NULL: none registered */
	uint32_t flags;
	uint32_t nr_ranges;
	struct vessel_hcb_range ranges[VESSEL_HCB_MAX_RANGES];
	uint64_t params[VESSEL_HCB_MAX_PARAMS];
};

struct hcb {
	struct vm *vm;
	bool enabled;
	struct ebpf_env *env;
	pthread_mutex_t lock; /* slots and counters; held while a program runs */
	struct hcb_slot slot[VESSEL_HCB_EVENT_MAX + 1];
	struct hcb_counts counts;
};

/* What a run's helpers see (the ebpf `user` pointer). */
struct hcb_run {
	struct vm *vm;
	const struct hcb_slot *slot;
};

static const struct vm_hook_ops hcb_hooks;

static struct hcb *hcb_of(struct vm *vm)
{
	return vm_hook_find(vm, &hcb_hooks);
}

/*
 * Helper VESSEL_HCB_HELPER_READ: copy guest memory inside one registered
 * range into dst, through the memory-error-safe path. The verifier proved
 * [dst, dst + size) is writable program memory; it is filled either way.
 */
static uint64_t helper_read(void *user, uint64_t dst, uint64_t size, uint64_t gpa, uint64_t a4,
			    uint64_t a5)
{
	const struct hcb_run *r = user;
	void *p = (void *)(uintptr_t)dst;

	for (uint32_t i = 0; i < r->slot->nr_ranges; i++) {
		const struct vessel_hcb_range *g = &r->slot->ranges[i];

		if (gpa >= g->gpa && gpa - g->gpa <= g->len && size <= g->len - (gpa - g->gpa)) {
			int rc = size ? gmem_read(&r->vm->mem, gpa, p, size) : 0;

			if (rc)
				memset(p, 0, size);
			return (uint64_t)(int64_t)rc;
		}
	}
	memset(p, 0, size);
	return (uint64_t)(int64_t)-EFAULT;
}

/* Run the program of `event` once; the lock is held. Returns its r0. */
static int64_t run_locked(struct hcb *h, unsigned event, uint64_t arg, uint64_t *out,
			  struct hcb_run_stats *st)
{
	const struct hcb_slot *s = &h->slot[event];
	struct vessel_hcb_ctx ctx = { .out = (uintptr_t)out, .arg = arg };
	struct hcb_run run = { h->vm, s };
	uint64_t n = 0;
	uint64_t t0 = clock_now_ns();
	int64_t r;

	memcpy(ctx.params, s->params, sizeof(ctx.params));
	memset(out, 0, VESSEL_HCB_OUT_SIZE);
	r = (int64_t)ebpf_prog_run_counted(s->prog, &ctx, &run, &n);
	h->counts.runs++;
	h->counts.insns += n;
	h->counts.ns += clock_now_ns() - t0;
	if (st) {
		st->runs++;
		st->insns += n;
		st->ns += clock_now_ns() - t0;
	}
	return r;
}

int64_t hcb_free_pages(struct vm *vm, uint64_t *bitmap, uint64_t nframes,
		       struct hcb_run_stats *st)
{
	struct hcb *h = hcb_of(vm);
	uint64_t out[VESSEL_HCB_OUT_SIZE / 8], nchunks, freed = 0;
	uint64_t *tmp;
	int64_t rc = 0;

	if (!h)
		return -ENOENT;
	nchunks = (nframes + VESSEL_HCB_CHUNK_FRAMES - 1) / VESSEL_HCB_CHUNK_FRAMES;
	tmp = calloc(nchunks, VESSEL_HCB_OUT_SIZE);
	if (!tmp)
		return -ENOMEM;
	pthread_mutex_lock(&h->lock);
	if (!h->slot[VESSEL_HCB_FREE_PAGES].prog) {
		rc = -ENOENT;
		goto out;
	}
	for (uint64_t c = 0; c < nchunks; c++) {
		rc = run_locked(h, VESSEL_HCB_FREE_PAGES, c, out, st);
		if (rc < 0)
			goto out; /* the callback cannot answer: assume nothing */
		memcpy((uint8_t *)tmp + c * VESSEL_HCB_OUT_SIZE, out, VESSEL_HCB_OUT_SIZE);
	}
	/* all chunks answered: only now does anything count as free */
	for (uint64_t w = 0; w < (nframes + 63) / 64; w++) {
		uint64_t bits = tmp[w];

		if (w == nframes / 64 && nframes % 64)
			bits &= (1ull << (nframes % 64)) - 1;
		bitmap[w] |= bits;
		freed += (uint64_t)__builtin_popcountll(bits);
	}
	rc = (int64_t)freed;
out:
	pthread_mutex_unlock(&h->lock);
	free(tmp);
	return rc;
}

int hcb_page_owner(struct vm *vm, uint64_t gpa, struct vessel_hcb_owner *o)
{
	struct hcb *h = hcb_of(vm);
	uint64_t out[VESSEL_HCB_OUT_SIZE / 8];
	int64_t rc;

	if (!h)
		return -ENOENT;
	pthread_mutex_lock(&h->lock);
	if (!h->slot[VESSEL_HCB_PAGE_OWNER].prog) {
		pthread_mutex_unlock(&h->lock);
		return -ENOENT;
	}
	rc = run_locked(h, VESSEL_HCB_PAGE_OWNER, gpa, out, NULL);
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		return rc < -4095 ? -EIO : (int)rc;
	memcpy(o, out, sizeof(*o));
	if (o->kind > VESSEL_HCB_OWNER_PROCESS)
		o->kind = VESSEL_HCB_OWNER_UNKNOWN;
	return 0;
}

const char *hcb_owner_text(const struct vessel_hcb_owner *o, char *buf, size_t len)
{
	char name[sizeof(o->name) + 1];

	switch (o->kind) {
	case VESSEL_HCB_OWNER_FREE:
		return "free";
	case VESSEL_HCB_OWNER_KERNEL:
		return "the kernel";
	case VESSEL_HCB_OWNER_PROCESS:
		memcpy(name, o->name, sizeof(o->name));
		name[sizeof(o->name)] = '\0';
		for (char *c = name; *c; c++) /* guest bytes: printable only */
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		snprintf(buf, len, "process %d (%s)", o->pid, name);
		return buf;
	}
	return "unknown";
}

bool hcb_registered(struct vm *vm, unsigned event)
{
	struct hcb *h = hcb_of(vm);
	bool r;

	if (!h || event == 0 || event > VESSEL_HCB_EVENT_MAX)
		return false;
	pthread_mutex_lock(&h->lock);
	r = h->slot[event].prog != NULL;
	pthread_mutex_unlock(&h->lock);
	return r;
}

void hcb_counts(struct vm *vm, struct hcb_counts *c)
{
	struct hcb *h = hcb_of(vm);

	memset(c, 0, sizeof(*c));
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	*c = h->counts;
	pthread_mutex_unlock(&h->lock);
}

/* ---- registration (a hypercall on a vCPU thread) ---- */

static const char *event_name(unsigned e)
{
	return e == VESSEL_HCB_FREE_PAGES ? "free-pages" :
	       e == VESSEL_HCB_PAGE_OWNER ? "page-owner" :
					    "unknown";
}

/* Check the request; 0 or -errno with msg set. */
static int check_request(struct vm *vm, const struct vessel_hc_hcb_register *a, char *msg,
			 size_t len)
{
	if (a->event == 0 || a->event > VESSEL_HCB_EVENT_MAX) {
		snprintf(msg, len, "unknown event %u", a->event);
		return -EINVAL;
	}
	if (a->format != VESSEL_HCB_FMT_RAW && a->format != VESSEL_HCB_FMT_ELF) {
		snprintf(msg, len, "unknown program format %u", a->format);
		return -EINVAL;
	}
	if (a->flags & ~VESSEL_HCB_F_FINAL) {
		snprintf(msg, len, "unknown flags %#x", a->flags);
		return -EINVAL;
	}
	if (a->prog_len == 0 || a->prog_len > VESSEL_HCB_MAX_PROG) {
		snprintf(msg, len, "program of %llu bytes (1..%u allowed)",
			 (unsigned long long)a->prog_len, VESSEL_HCB_MAX_PROG);
		return -E2BIG;
	}
	if (a->nr_ranges > VESSEL_HCB_MAX_RANGES) {
		snprintf(msg, len, "%u ranges (at most %u)", a->nr_ranges, VESSEL_HCB_MAX_RANGES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < a->nr_ranges; i++)
		if (!a->ranges[i].len || !gmem_ptr(&vm->mem, a->ranges[i].gpa, a->ranges[i].len)) {
			snprintf(msg, len, "range %u [%#llx, +%#llx) is not guest RAM", i,
				 (unsigned long long)a->ranges[i].gpa,
				 (unsigned long long)a->ranges[i].len);
			return -EINVAL;
		}
	return 0;
}

static void hc_register(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct hcb *h = hcb_of(vm);
	struct vessel_hc_hcb_register a;
	struct ebpf_error e = { .insn = -1 };
	struct ebpf_prog *prog = NULL, *old = NULL;
	struct {
		int64_t ret, err_insn;
		char msg[sizeof(a.msg)];
	} reply = { .err_insn = -1 };
	void *code = NULL;
	bool quiet = false;
	int rc;

	if (hc_arg_read(vm, VESSEL_HC_HCB_REGISTER, gpa, &a, sizeof(a), res))
		return;
	if (!h || !h->enabled) {
		snprintf(reply.msg, sizeof(reply.msg), "hyper-callbacks are disabled in this VMM");
		rc = -EPERM;
		goto reply;
	}
	rc = check_request(vm, &a, reply.msg, sizeof(reply.msg));
	if (rc)
		goto reply;
	code = malloc(a.prog_len);
	if (!code) {
		rc = -ENOMEM;
		goto reply;
	}
	rc = gmem_read(&vm->mem, a.prog_gpa, code, a.prog_len);
	if (rc) {
		snprintf(reply.msg, sizeof(reply.msg), "program [%#llx, +%llu) is %s",
			 (unsigned long long)a.prog_gpa, (unsigned long long)a.prog_len,
			 rc == -EFAULT ? "not guest RAM" : "on a poisoned page");
		rc = -EINVAL;
		goto reply;
	}
	/* verified once, here; the library bounds the work it does */
	rc = a.format == VESSEL_HCB_FMT_ELF ?
		     ebpf_prog_load_elf(h->env, code, a.prog_len, "hcb", &prog, &e) :
		     ebpf_prog_load(h->env, code, a.prog_len, &prog, &e);
	if (rc) {
		reply.err_insn = e.insn;
		snprintf(reply.msg, sizeof(reply.msg), "%s", e.msg);
		goto reply;
	}
	pthread_mutex_lock(&h->lock);
	if (h->slot[a.event].prog && (h->slot[a.event].flags & VESSEL_HCB_F_FINAL)) {
		pthread_mutex_unlock(&h->lock);
		snprintf(reply.msg, sizeof(reply.msg),
			 "the %s callback was registered as final", event_name(a.event));
		rc = -EPERM;
		goto reply;
	}
	old = h->slot[a.event].prog;
	h->slot[a.event] = (struct hcb_slot){ .prog = prog, .flags = a.flags,
					      .nr_ranges = a.nr_ranges };
	memcpy(h->slot[a.event].ranges, a.ranges, sizeof(a.ranges));
	memcpy(h->slot[a.event].params, a.params, sizeof(a.params));
	prog = NULL;
	pthread_mutex_unlock(&h->lock);
	snprintf(reply.msg, sizeof(reply.msg), "accepted");
reply:
	if (h) {
		pthread_mutex_lock(&h->lock);
		if (!rc)
			h->counts.accepted++;
		else if (rc == -EPERM)
			h->counts.refused++;
		else
			h->counts.rejected++;
		/* a guest looping on bad registrations must not flood the log */
		quiet = rc && h->counts.refused + h->counts.rejected > LOG_REFUSALS;
		pthread_mutex_unlock(&h->lock);
	}
	if (!quiet)
		vm_log(vm, "hyper-callback %s: %s%s%s%s", event_name(a.event), rc ? "refused: " : "",
		       reply.msg, old ? " (replaces the previous one)" : "",
		       h && rc && h->counts.refused + h->counts.rejected == LOG_REFUSALS ?
			       " (further refusals are only counted)" :
			       "");
	ebpf_prog_free(prog);
	ebpf_prog_free(old);
	free(code);
	reply.ret = rc;
	if (gmem_write(&vm->mem, gpa + offsetof(struct vessel_hc_hcb_register, ret), &reply,
		       sizeof(reply)))
		exit_fault(res, "hypercall hcb_register: cannot write the reply at %#llx",
			   (unsigned long long)gpa);
}

static const struct hypercall hc_register_def = { VESSEL_HC_HCB_REGISTER, "hcb_register",
						  hc_register };
HYPERCALL_REGISTER(hc_register_def);

/* ---- the hook: memory errors, teardown ---- */

static void memory_error(void *opaque, uint64_t gpa)
{
	struct hcb *h = opaque;
	struct vessel_hcb_owner o;
	char buf[64], line[96];

	if (hcb_page_owner(h->vm, gpa, &o))
		return;
	snprintf(line, sizeof(line), "%#llx: %s", (unsigned long long)gpa,
		 hcb_owner_text(&o, buf, sizeof(buf)));
	pthread_mutex_lock(&h->lock);
	snprintf(h->counts.last_owner, sizeof(h->counts.last_owner), "%s", line);
	pthread_mutex_unlock(&h->lock);
	vm_log(h->vm, "memory error at guest page %s (hyper-callback)", line);
}

static void detach(void *opaque)
{
	struct hcb *h = opaque;

	for (unsigned i = 0; i <= VESSEL_HCB_EVENT_MAX; i++)
		ebpf_prog_free(h->slot[i].prog);
	ebpf_env_free(h->env);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static const struct vm_hook_ops hcb_hooks = {
	.name = "hyper-callbacks",
	.memory_error = memory_error,
	.detach = detach,
};

/* The world every callback runs in: ctx, the out buffer, one helper. */
static struct ebpf_env *make_env(void)
{
	static const enum ebpf_arg_type read_args[5] = { EBPF_ARG_MEM_WO, EBPF_ARG_SIZE,
							  EBPF_ARG_SCALAR };
	struct ebpf_env *env = ebpf_env_new();

	if (!env || ebpf_env_set_ctx(env, sizeof(struct vessel_hcb_ctx), 0) ||
	    ebpf_env_add_region(env, "out", offsetof(struct vessel_hcb_ctx, out),
				VESSEL_HCB_OUT_SIZE, EBPF_REGION_WRITABLE) < 0 ||
	    ebpf_env_add_helper(env, VESSEL_HCB_HELPER_READ, "read", helper_read, read_args)) {
		ebpf_env_free(env);
		return NULL;
	}
	return env;
}

int hcb_attach(struct vm *vm, bool enabled)
{
	struct hcb *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	h->vm = vm;
	h->enabled = enabled;
	h->counts.enabled = enabled;
	h->env = make_env();
	pthread_mutex_init(&h->lock, NULL);
	if (!h->env) {
		detach(h);
		return vm_set_err(vm, -ENOMEM, "cannot build the hyper-callback environment");
	}
	rc = vm_hook_attach(vm, &hcb_hooks, h);
	if (rc) {
		detach(h);
		return vm_set_err(vm, rc, "cannot attach hyper-callbacks: %s", strerror(-rc));
	}
	rc = hcb_roundtrip_attach(vm);
	return rc ? vm_set_err(vm, rc, "cannot attach the free-page round trip: %s",
			       strerror(-rc)) :
		    0;
}
