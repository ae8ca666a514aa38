// SPDX-License-Identifier: MIT
/* The control-socket commands of a running VM (see control/ctl.h). */
#include "migrate/live/internal.h"

#include "core/vcpu.h"
#include "migrate/safecopy.h"

#include <errno.h>
#include <stdio.h>
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
	struct live *l = ctx;
	struct vm *vm = l->vm;
	struct mig_progress p;

	pthread_mutex_lock(&vm->lock);
	json_object_set_new(res, "state", json_string(state_name(vm->state)));
	pthread_mutex_unlock(&vm->lock);
	json_object_set_new(res, "vcpus", json_integer(vm->nr_vcpus));
	json_object_set_new(res, "memory_mib", json_integer((json_int_t)(vm->mem.size >> 20)));
	live_migrate_progress(l, &p);
	json_object_set_new(res, "migration", json_string(mig_status_name(p.status)));
	json_object_set_new(res, "poisoned_pages",
			    json_integer((json_int_t)poison_set_count(&l->poison)));
	return 0;
}

static int c_stats(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	struct vm *vm = l->vm;
	json_t *exits = json_array(), *pages = json_array();
	uint64_t total = 0, dropped = 0, g;
	unsigned n = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t e = __atomic_load_n(&vm->vcpus[i]->exits, __ATOMIC_RELAXED);

		json_array_append_new(exits, json_integer((json_int_t)e));
		total += e;
	}
	for (g = poison_set_next(&l->poison, 0); g != POISON_NONE && n < 64;
	     g = poison_set_next(&l->poison, g + 1), n++) {
		char hex[24];

		snprintf(hex, sizeof(hex), "%#llx", (unsigned long long)g);
		json_array_append_new(pages, json_string(hex));
	}
	json_object_set_new(res, "exits", json_integer((json_int_t)total));
	json_object_set_new(res, "exits_per_vcpu", exits);
	json_object_set_new(res, "poisoned_pages",
			    json_integer((json_int_t)poison_set_count(&l->poison)));
	json_object_set_new(res, "poisoned_gpas", pages);
	json_object_set_new(
		res, "ume_injected",
		json_integer((json_int_t)__atomic_load_n(&l->ume_injected, __ATOMIC_RELAXED)));
	json_object_set_new(
		res, "vcpu_memory_errors",
		json_integer((json_int_t)__atomic_load_n(&l->vcpu_sigbus, __ATOMIC_RELAXED)));
	json_object_set_new(
		res, "scrub_reports_injected",
		json_integer((json_int_t)__atomic_load_n(&l->ao_injected, __ATOMIC_RELAXED)));
	json_object_set_new(
		res, "machine_checks_injected",
		json_integer((json_int_t)__atomic_load_n(&l->mce_injected, __ATOMIC_RELAXED)));
	json_object_set_new(res, "copy_memory_errors",
			    json_integer((json_int_t)mig_safecopy_recovered()));
	if (vm->cfg.console_dropped)
		dropped = vm->cfg.console_dropped(vm->cfg.console_opaque);
	json_object_set_new(res, "console_dropped", json_integer((json_int_t)dropped));
	return 0;
}

static int busy_migrating(struct live *l, char *err, size_t errlen)
{
	struct mig_progress p;

	live_migrate_progress(l, &p);
	if (p.status == MIG_STOP_COPY || p.status == MIG_HANDOVER) {
		snprintf(err, errlen, "the VM is being handed over to %s", p.uri);
		return -EBUSY;
	}
	return 0;
}

static int c_pause(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	int rc = busy_migrating(l, err, errlen);

	if (rc)
		return rc;
	rc = vm_pause(l->vm);
	if (rc)
		snprintf(err, errlen, "%s", l->vm->err);
	return rc;
}

static int c_resume(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	int rc = busy_migrating(l, err, errlen);

	if (rc)
		return rc;
	rc = vm_resume(l->vm);
	if (rc)
		snprintf(err, errlen, "%s", l->vm->err);
	return rc;
}

static int c_quit(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;

	vm_stop(l->vm, 0, "quit requested on the control socket");
	return 0;
}

static int c_migrate(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	int rc = live_migrate_start(l, a->uri, err, errlen);

	if (!rc) {
		json_object_set_new(res, "started", json_true());
		json_object_set_new(res, "uri", json_string(a->uri));
	}
	return rc;
}

static int c_inject(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	uint64_t gpa = a->gpa & ~(GMEM_PAGE_SIZE - 1);
	int rc;

	if (a->latent) {
		/* poisoned for real, but the VMM is not told: found on the next read */
		rc = live_poison_gpa_latent(l, gpa, err, errlen);
		if (rc)
			return rc;
		__atomic_fetch_add(&l->ume_injected, 1, __ATOMIC_RELAXED);
		vm_log(l->vm, "latent uncorrectable memory error injected at guest page %#llx",
		       (unsigned long long)gpa);
		json_object_set_new(res, "gpa", json_integer((json_int_t)gpa));
		json_object_set_new(res, "latent", json_true());
		return 0;
	}
	rc = live_poison_gpa(l, gpa, err, errlen);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		__atomic_fetch_add(&l->ume_injected, 1, __ATOMIC_RELAXED);
		/* like a memory scrubber: tell the guest before anyone consumes it */
		live_queue_ao(l, gpa);
	}
	vm_log(l->vm, "uncorrectable memory error injected at guest page %#llx%s",
	       (unsigned long long)gpa, rc ? "" : " (already poisoned)");
	json_object_set_new(res, "gpa", json_integer((json_int_t)gpa));
	json_object_set_new(res, "newly_poisoned", json_boolean(rc > 0));
	return 0;
}

static int c_mstatus(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = ctx;
	struct mig_progress p;

	live_migrate_progress(l, &p);
	json_object_set_new(res, "status", json_string(mig_status_name(p.status)));
	if (p.status == MIG_NONE)
		return 0;
	json_object_set_new(res, "uri", json_string(p.uri));
	json_object_set_new(res, "pass", json_integer(p.pass));
	json_object_set_new(res, "bytes", json_integer((json_int_t)p.bytes));
	json_object_set_new(res, "rate_mib_s", json_real(p.rate_mib_s));
	json_object_set_new(res, "elapsed_ms", json_real(p.elapsed_ms));
	json_object_set_new(res, "dirty_pages_left", json_integer((json_int_t)p.dirty_left));
	json_object_set_new(res, "pages_sent", json_integer((json_int_t)p.pages_sent));
	json_object_set_new(res, "pages_data", json_integer((json_int_t)p.pages_data));
	json_object_set_new(res, "pages_zero", json_integer((json_int_t)p.pages_zero));
	json_object_set_new(res, "pages_poisoned", json_integer((json_int_t)p.pages_poisoned));
	json_object_set_new(res, "poisoned_known", json_integer((json_int_t)p.poison_known));
	json_object_set_new(res, "poisoned_on_read", json_integer((json_int_t)p.poison_on_read));
	if (p.downtime_ms >= 0)
		json_object_set_new(res, "downtime_ms", json_real(p.downtime_ms));
	if (p.downtime_src_ms >= 0)
		json_object_set_new(res, "downtime_source_ms", json_real(p.downtime_src_ms));
	if (p.status == MIG_FAILED)
		json_object_set_new(res, "error", json_string(p.error));
	return 0;
}

static const struct ctl_ops live_ops = {
	.status = c_status,
	.stats = c_stats,
	.pause = c_pause,
	.resume = c_resume,
	.quit = c_quit,
	.migrate = c_migrate,
	.inject_ume = c_inject,
	.migrate_status = c_mstatus,
};

int live_control_start(struct live *l, const char *path, gid_t group, char *err, size_t errlen)
{
	return ctl_server_start(path, group, &live_ops, l, &l->ctl, err, errlen);
}
