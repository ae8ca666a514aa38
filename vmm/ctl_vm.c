// SPDX-License-Identifier: MIT
/*
 * Control commands of the VM itself (control/ctl.h): status, stats, pause,
 * resume, quit, and inject-ume (memory errors, core/memerr.h). The server's
 * context is the struct vm.
 */
#include "arch/x86/arch.h"
#include "cmd.h"
#include "control/ctl.h"
#include "core/kvm_stats.h"
#include "domain/domain.h"
#include "domain/integrity.h"
#include "core/memerr.h"
#include "core/safecopy.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/device.h"
#include "hcb/hcb.h"
#include "migrate/live/live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *state_name(enum vm_state s)
{
	switch (s) {
	case VM_CREATED:
		return "created";
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_STOPPED:
		return "stopped";
	}
	return "unknown";
}

static int c_status(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	struct hcb_counts hc;

	pthread_mutex_lock(&vm->lock);
	json_object_set_new(res, "state", json_string(state_name(vm->state)));
	pthread_mutex_unlock(&vm->lock);
	json_object_set_new(res, "vcpus", json_integer(vm->nr_vcpus));
	json_object_set_new(res, "memory_mib", json_integer((json_int_t)(vm->mem.size >> 20)));
	json_object_set_new(res, "migration", json_string(live_status_name(vm)));
	json_object_set_new(res, "poisoned_pages",
			    json_integer((json_int_t)poison_set_count(&vm->memerr->poison)));
	hcb_counts(vm, &hc);
	json_object_set_new(res, "hyper_callbacks", json_string(hc.enabled ? "on" : "off"));
	if (hc.last_owner[0]) /* who a poisoned page belonged to, by the guest's callback */
		json_object_set_new(res, "last_memory_error_owner", json_string(hc.last_owner));
	return 0;
}

static json_t *counter(const uint64_t *p)
{
	return json_integer((json_int_t)__atomic_load_n(p, __ATOMIC_RELAXED));
}

/* The VMM's exits by kind (vcpu->stats[]), all vCPUs summed. */
static json_t *exits_by_kind(struct vm *vm)
{
	json_t *o = json_object();

	for (unsigned s = 0; s < VCPU_STAT_NR; s++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			sum += __atomic_load_n(&vm->vcpus[i]->stats[s], __ATOMIC_RELAXED);
		json_object_set_new(o, vcpu_stat_name(s), json_integer((json_int_t)sum));
	}
	return o;
}

/* What KVM counted for every vCPU (KVM_GET_STATS_FD), summed; 0 if unknown. */
static json_t *kvm_counters(struct vm *vm)
{
	static const char *const names[] = { "exits",	    "io_exits",	      "mmio_exits",
					     "halt_exits",  "irq_injections", "irq_exits",
					     "signal_exits" };
	struct kvm_stats_snap *snap = malloc(sizeof(*snap));
	json_t *o = json_object();
	int ok = snap && !vm_kvm_stats(vm, snap);

	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		uint64_t v = 0;

		for (unsigned i = 0; ok && i < snap->n; i++)
			if (snap->s[i].per_vcpu && !strcmp(snap->s[i].name, names[k]))
				v = snap->s[i].value;
		json_object_set_new(o, names[k], json_integer((json_int_t)v));
	}
	free(snap);
	return o;
}

/* Every device instance that has counters: {"device", "label", counters...}. */
static json_t *device_counters(struct vm *vm)
{
	json_t *a = json_array();

	for (struct device *d = vm->devices; d; d = d->next) {
		struct device_stat st[DEVICE_STATS_MAX];
		char label[32] = "";
		unsigned n;
		json_t *o;

		if (!d->ops->stats)
			continue;
		n = d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
		o = json_object();
		json_object_set_new(o, "device", json_string(d->ops->name));
		json_object_set_new(o, "label", json_string(label));
		for (unsigned i = 0; i < n; i++)
			json_object_set_new(o, st[i].name, json_integer((json_int_t)st[i].value));
		json_array_append_new(a, o);
	}
	return a;
}

static int c_stats(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	struct memerr *me = vm->memerr;
	json_t *exits = json_array(), *pages = json_array();
	struct arch_mce_stats mce;
	struct hcb_counts hc;
	struct integrity_counts ic;
	struct domain_counts dc;
	uint64_t total = 0, g;
	unsigned n = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t e = __atomic_load_n(&vm->vcpus[i]->exits, __ATOMIC_RELAXED);

		json_array_append_new(exits, json_integer((json_int_t)e));
		total += e;
	}
	for (g = poison_set_next(&me->poison, 0); g != POISON_NONE && n < 64;
	     g = poison_set_next(&me->poison, g + 1), n++) {
		char hex[24];

		snprintf(hex, sizeof(hex), "%#llx", (unsigned long long)g);
		json_array_append_new(pages, json_string(hex));
	}
	arch_mce_stats(vm, &mce);
	json_object_set_new(res, "exits", json_integer((json_int_t)total));
	json_object_set_new(res, "exits_per_vcpu", exits);
	json_object_set_new(res, "exits_by_kind", exits_by_kind(vm));
	json_object_set_new(res, "poisoned_pages",
			    json_integer((json_int_t)poison_set_count(&me->poison)));
	json_object_set_new(res, "poisoned_gpas", pages);
	json_object_set_new(res, "ume_injected", counter(&me->injected));
	json_object_set_new(res, "vcpu_memory_errors", counter(&me->vcpu_consumed));
	json_object_set_new(res, "machine_checks_injected", counter(&mce.ar_injected));
	json_object_set_new(res, "scrub_reports_queued", counter(&mce.ao_queued));
	json_object_set_new(res, "scrub_reports_injected", counter(&mce.ao_delivered));
	json_object_set_new(res, "scrub_reports_pending", counter(&mce.ao_pending));
	json_object_set_new(res, "scrub_report_waits", counter(&mce.ao_waits));
	json_object_set_new(res, "mem_prealloc_mib",
			    json_integer(vm->mem.populated ? (json_int_t)(vm->mem.size >> 20) : 0));
	json_object_set_new(res, "mem_prealloc_ms", json_integer((json_int_t)vm->mem.prealloc_ms));
	json_object_set_new(res, "copy_memory_errors",
			    json_integer((json_int_t)safe_copy_recovered()));
	json_object_set_new(
		res, "console_dropped",
		json_integer(vm->cfg.console_dropped ?
				     (json_int_t)vm->cfg.console_dropped(vm->cfg.console_opaque) :
				     0));
	hcb_counts(vm, &hc);
	json_object_set_new(res, "hcb_accepted", json_integer((json_int_t)hc.accepted));
	json_object_set_new(res, "hcb_rejected", json_integer((json_int_t)hc.rejected));
	json_object_set_new(res, "hcb_refused", json_integer((json_int_t)hc.refused));
	json_object_set_new(res, "hcb_runs", json_integer((json_int_t)hc.runs));
	json_object_set_new(res, "hcb_insns", json_integer((json_int_t)hc.insns));
	json_object_set_new(res, "hcb_ns", json_integer((json_int_t)hc.ns));
	json_object_set_new(res, "kvm", kvm_counters(vm));
	json_object_set_new(res, "devices", device_counters(vm));
	integrity_counts(vm, &ic);
	json_object_set_new(res, "integrity_mode",
			    json_string(integrity_mode_name((enum integrity_mode)ic.mode)));
	json_object_set_new(res, "integrity_sites", json_integer((json_int_t)ic.sites));
	json_object_set_new(res, "integrity_patches", json_integer((json_int_t)ic.patches));
	json_object_set_new(res, "integrity_patch_refused",
			    json_integer((json_int_t)ic.patch_refused));
	json_object_set_new(res, "integrity_writes_refused",
			    json_integer((json_int_t)ic.writes_refused));
	domain_counts(vm, &dc);
	json_object_set_new(res, "domain_tcb_bytes", json_integer((json_int_t)dc.tcb_bytes));
	json_object_set_new(res, "domain_calls", json_integer((json_int_t)dc.calls));
	json_object_set_new(res, "domain_exits", json_integer((json_int_t)dc.exits));
	json_object_set_new(res, "domain_ns", json_integer((json_int_t)dc.ns));
	json_object_set_new(res, "domain_refused", json_integer((json_int_t)dc.refused));
	live_stats_json(vm, res);
	return 0;
}

/* pause or resume, except while a migration hands the VM over */
static int pause_or_resume(struct vm *vm, int (*fn)(struct vm *), char *err, size_t errlen)
{
	int rc = live_busy(vm, err, errlen);

	if (rc)
		return rc;
	rc = fn(vm);
	if (rc)
		snprintf(err, errlen, "%s", vm->err);
	return rc;
}

static int c_pause(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	return pause_or_resume(ctx, vm_pause, err, errlen);
}

static int c_resume(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	return pause_or_resume(ctx, vm_resume, err, errlen);
}

static int c_quit(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	vm_stop(ctx, 0, "quit requested on the control socket");
	return 0;
}

static int c_inject(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	uint64_t gpa = ctl_arg_u64(a, "gpa") & ~(GMEM_PAGE_SIZE - 1);
	bool latent = ctl_arg_bool(a, "latent");
	int rc;

	/* latent: poisoned for real, but the VMM is not told: found on the next read */
	rc = memerr_poison(vm, gpa, latent, err, errlen);
	if (rc < 0)
		return rc;
	if (rc > 0 && !latent)
		/* like a memory scrubber: tell the guest before anyone consumes it */
		arch_mce_queue_ao(vm, gpa);
	vm_log(vm, "%suncorrectable memory error injected at guest page %#llx%s",
	       latent ? "latent " : "", (unsigned long long)gpa, rc ? "" : " (already poisoned)");
	json_object_set_new(res, "gpa", json_integer((json_int_t)gpa));
	if (latent)
		json_object_set_new(res, "latent", json_true());
	else
		json_object_set_new(res, "newly_poisoned", json_boolean(rc > 0));
	return 0;
}

static const struct ctl_command status_cmd = {
	"status", "run state, vCPUs, memory, migration, poisoned pages", {}, c_status
};
static const struct ctl_command stats_cmd = {
	"stats",
	"counters: exits (ours and KVM's), poisoned pages, machine checks, hyper-callbacks, "
	"migrations, devices",
	{},
	c_stats
};
static const struct ctl_command pause_cmd = { "pause", "stop all vCPUs", {}, c_pause };
static const struct ctl_command resume_cmd = { "resume", "continue all vCPUs", {}, c_resume };
static const struct ctl_command quit_cmd = { "quit", "stop the VM and exit", {}, c_quit };
static const struct ctl_command inject_cmd = {
	"inject-ume",
	"poison the guest page at gpa for real (latent: do not tell the VMM)",
	{ { "gpa", CTL_U64, true, "GPA" }, { "latent", CTL_BOOL, false, NULL } },
	c_inject,
};
CTL_COMMAND(status_cmd);
CTL_COMMAND(stats_cmd);
CTL_COMMAND(pause_cmd);
CTL_COMMAND(resume_cmd);
CTL_COMMAND(quit_cmd);
CTL_COMMAND(inject_cmd);

/* The control server as a VM hook: stopped by vm_destroy() after the join. */
static void control_detach(void *opaque)
{
	ctl_server_stop(opaque);
}

static const struct vm_hook_ops control_hooks = {
	.name = "control socket",
	.detach = control_detach,
};

int vm_control_start(struct vm *vm, const char *path, gid_t group, char *err, size_t errlen)
{
	struct ctl_server *srv;
	int rc = ctl_server_start(path, group, vm, &srv, err, errlen);

	if (rc)
		return rc;
	rc = vm_hook_attach(vm, &control_hooks, srv);
	if (rc) {
		ctl_server_stop(srv);
		snprintf(err, errlen, "cannot attach the control socket: %s", strerror(-rc));
	}
	return rc;
}
