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
	if (a->uri && strlen(a->uri) > CTL_MAX_REQUEST)
		abort();
	json_object_set_new(res, "echo", json_integer((json_int_t)(a->gpa & 0xffff)));
	return 0;
}

static int h_fail(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	strcpy(err, "refused");
	return -1;
}

static const struct ctl_ops ops = {
	.status = h_ok,
	.stats = h_ok,
	.pause = h_fail,
	.resume = h_ok,
	.migrate = h_ok,
	.inject_ume = h_ok,
	.migrate_status = h_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply = ctl_handle_request(&ops, NULL, (const char *)data, size);
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
