// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the control protocol's request handling on arbitrary
 * bytes. Every input must produce a well-formed JSON reply with "ok", and an
 * "error" string whenever ok is false.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"

static int h_ok(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	if (ctl_arg_str(a, "uri") && strlen(ctl_arg_str(a, "uri")) > CTL_MAX_REQUEST)
		abort();
	json_object_set_new(res, "echo", json_integer((json_int_t)(ctl_arg_u64(a, "gpa") & 0xffff)));
	return 0;
}

static int h_fail(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	strcpy(err, "refused");
	return -1;
}

static const struct ctl_command status_cmd = { "status", "test", {  }, h_ok };
CTL_COMMAND(status_cmd);
static const struct ctl_command stats_cmd = { "stats", "test", {  }, h_ok };
CTL_COMMAND(stats_cmd);
static const struct ctl_command pause_cmd = { "pause", "test", {  }, h_fail };
CTL_COMMAND(pause_cmd);
static const struct ctl_command resume_cmd = { "resume", "test", {  }, h_ok };
CTL_COMMAND(resume_cmd);
static const struct ctl_command migrate_cmd = { "migrate", "test", { { "uri", CTL_STR, true, "tcp:HOST:PORT" } }, h_ok };
CTL_COMMAND(migrate_cmd);
static const struct ctl_command inject_ume_cmd = { "inject-ume", "test", { { "gpa", CTL_U64, true, NULL }, { "latent", CTL_BOOL, false, NULL } }, h_ok };
CTL_COMMAND(inject_ume_cmd);
static const struct ctl_command migrate_status_cmd = { "migrate-status", "test", {  }, h_ok };
CTL_COMMAND(migrate_status_cmd);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply = ctl_handle_request(NULL, (const char *)data, size);
	json_error_t je;
	json_t *o, *ok;

	if (!reply)
		abort();
	o = json_loads(reply, 0, &je);
	ok = o ? json_object_get(o, "ok") : NULL;
	if (!ok || !json_is_boolean(ok) || strchr(reply, '\n'))
		abort();
	if (!json_is_true(ok) && !json_is_string(json_object_get(o, "error")))
		abort();
	json_decref(o);
	free(reply);
	return 0;
}
