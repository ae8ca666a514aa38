// SPDX-License-Identifier: MIT
/* The migration commands of the control socket (see control/ctl.h). */
#include "migrate/live/internal.h"

#include "core/vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int live_busy(struct vm *vm, char *err, size_t errlen)
{
	struct live *l = live_of(vm);
	struct mig_progress p;

	if (!l)
		return 0;
	live_migrate_progress(l, &p);
	if (p.status == MIG_STOP_COPY || p.status == MIG_HANDOVER) {
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

static int c_migrate(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct live *l = live_of(ctx);
	const char *uri = ctl_arg_str(a, "uri");
	int rc;

	if (!l) {
		snprintf(err, errlen, "this VM cannot migrate");
		return -ENOTSUP;
	}
	rc = live_migrate_start(l, uri, err, errlen);
	if (!rc) {
		json_object_set_new(res, "started", json_true());
		json_object_set_new(res, "uri", json_string(uri));
	}
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
	"start a live migration to uri",
	{ { "uri", CTL_STR, true, "tcp:HOST:PORT or tls:HOST:PORT" } },
	c_migrate,
};
static const struct ctl_command migrate_status_cmd = {
	"migrate-status", "progress of the current migration", {}, c_mstatus
};
CTL_COMMAND(migrate_cmd);
CTL_COMMAND(migrate_status_cmd);
