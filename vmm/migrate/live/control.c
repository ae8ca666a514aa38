// SPDX-License-Identifier: MIT
/* The migration commands of the control socket (see control/ctl.h). */
#include "migrate/live/internal.h"
#include "migrate/live/incoming.h"

#include "core/vcpu.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

int live_busy(struct vm *vm, char *err, size_t errlen)
{
	struct live *l = live_of(vm);
	struct mig_progress p;

	if (!l)
		return 0;
	live_migrate_progress(l, &p);
	if (p.status == MIG_STOP_COPY || p.status == MIG_HANDOVER || p.status == MIG_POSTCOPY) {
		snprintf(err, errlen, "the VM is being handed over to %s", p.uri);
		return -EBUSY;
	}
	return 0;
}

const char *live_status_name(struct vm *vm)
{
	struct live *l = live_of(vm);
	struct mig_progress p;

	if (!l)
		return mig_status_name(MIG_NONE);
	live_migrate_progress(l, &p);
	return mig_status_name(p.status);
}

/* The uint64_t counters of live_stats_json(), by name. */
#define FIELD(f) offsetof(struct live_counters, f)
static const struct {
	const char *name;
	size_t off;
} counters[] = {
	{ "mig_out_completed", FIELD(out_completed) },
	{ "mig_out_postcopy", FIELD(out_postcopy) },
	{ "mig_out_failed", FIELD(out_failed) },
	{ "mig_out_pages_data", FIELD(out_pages_data) },
	{ "mig_out_pages_zero", FIELD(out_pages_zero) },
	{ "mig_out_pages_free", FIELD(out_pages_free) },
	{ "mig_out_pages_poisoned", FIELD(out_pages_poisoned) },
	{ "mig_out_postcopy_requests", FIELD(out_requests) },
	{ "mig_out_postcopy_requests_second_conn", FIELD(out_requests_second) },
	{ "mig_in_postcopy_completed", FIELD(in_completed) },
	{ "mig_in_postcopy_failed", FIELD(in_failed) },
	{ "mig_in_postcopy_pages", FIELD(in_pages) },
	{ "mig_in_postcopy_pages_second_conn", FIELD(in_pages_second) },
	{ "mig_in_postcopy_faults_waited", FIELD(in_faults_waited) },
	{ "mig_in_postcopy_faults_zero", FIELD(in_faults_zero) },
	{ "mig_in_postcopy_repoisoned", FIELD(in_repoisoned) },
};
#undef FIELD

void live_stats_json(struct vm *vm, json_t *res)
{
	struct live *l = live_of(vm);
	struct live_counters c;
	bool active;
	uint64_t left;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	c = l->cnt;
	active = pcd_active(l);
	left = pcd_pages_left(l);
	pthread_mutex_unlock(&l->lock);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&c + counters[i].off, sizeof(v));
		json_object_set_new(res, counters[i].name, json_integer((json_int_t)v));
	}
	json_object_set_new(res, "mig_in_postcopy_active", json_boolean(active));
	json_object_set_new(res, "mig_in_postcopy_pages_left", json_integer((json_int_t)left));
	if (c.in_lat_max_ms >= 0) {
		json_object_set_new(res, "mig_in_postcopy_fault_p50_ms",
				    json_real(c.in_lat_p50_ms));
		json_object_set_new(res, "mig_in_postcopy_fault_p99_ms",
				    json_real(c.in_lat_p99_ms));
		json_object_set_new(res, "mig_in_postcopy_fault_max_ms",
				    json_real(c.in_lat_max_ms));
	}
}

static int c_migrate(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = live_of(ctx);
	struct live_migrate_args args = { .uri = ctl_arg_str(a, "uri"),
					  .postcopy = ctl_arg_bool(a, "postcopy"),
					  .max_downtime_ms = ctl_arg_u64(a, "max_downtime_ms") };
	int rc;

	if (!l) {
		snprintf(err, errlen, "this VM cannot migrate");
		return -ENOTSUP;
	}
	rc = live_migrate_start(l, &args, err, errlen);
	if (!rc) {
		json_object_set_new(res, "started", json_true());
		json_object_set_new(res, "uri", json_string(args.uri));
		json_object_set_new(res, "postcopy", json_boolean(args.postcopy));
	}
	return rc;
}

static int c_start_postcopy(void *ctx, const struct ctl_args *a, json_t *res, char *err,
			    size_t errlen)
{
	struct live *l = live_of(ctx);
	int rc;

	if (!l) {
		snprintf(err, errlen, "this VM cannot migrate");
		return -ENOTSUP;
	}
	rc = live_migrate_start_postcopy(l, err, errlen);
	if (!rc)
		json_object_set_new(res, "switching", json_true());
	return rc;
}

static int c_mstatus(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = live_of(ctx);
	struct mig_progress p = { .status = MIG_NONE };

	if (l)
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
	json_object_set_new(res, "pages_free", json_integer((json_int_t)p.pages_free));
	json_object_set_new(res, "poisoned_known", json_integer((json_int_t)p.poison_known));
	json_object_set_new(res, "poisoned_on_read", json_integer((json_int_t)p.poison_on_read));
	json_object_set_new(res, "postcopy_pages", json_integer((json_int_t)p.postcopy_pages));
	json_object_set_new(res, "requests", json_integer((json_int_t)p.requests));
	if (p.downtime_ms >= 0)
		json_object_set_new(res, "downtime_ms", json_real(p.downtime_ms));
	if (p.downtime_src_ms >= 0)
		json_object_set_new(res, "downtime_source_ms", json_real(p.downtime_src_ms));
	if (p.status == MIG_FAILED)
		json_object_set_new(res, "error", json_string(p.error));
	return 0;
}

static const struct ctl_command migrate_cmd = {
	"migrate",
	"start a live migration to uri (postcopy: the VM runs there at once, its pages follow; "
	"max_downtime_ms: pre-copy waits until it can keep to it)",
	{ { "uri", CTL_STR, true, "tcp:HOST:PORT or tls:HOST:PORT" },
	  { "postcopy", CTL_BOOL, false, NULL },
	  { "max_downtime_ms", CTL_U64, false, "MAX_DOWNTIME_MS" } },
	c_migrate,
};
static const struct ctl_command migrate_postcopy_cmd = {
	"migrate-start-postcopy",
	"switch the running pre-copy migration to post-copy",
	{},
	c_start_postcopy,
};
static const struct ctl_command migrate_status_cmd = {
	"migrate-status", "progress of the current migration", {}, c_mstatus
};
CTL_COMMAND(migrate_cmd);
CTL_COMMAND(migrate_postcopy_cmd);
CTL_COMMAND(migrate_status_cmd);
