// SPDX-License-Identifier: MIT
/* Unit tests of the control protocol's validation and dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/ctl.h"

struct calls {
	int status, pause, migrate, inject;
	char uri[128];
	uint64_t gpa;
	int fail_with;
};

static int h_status(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct calls *c = ctx;

	c->status++;
	json_object_set_new(res, "state", json_string("running"));
	json_object_set_new(res, "vcpus", json_integer(2));
	return 0;
}

static int h_pause(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct calls *c = ctx;

	c->pause++;
	if (c->fail_with) {
		snprintf(err, errlen, "already paused");
		return c->fail_with;
	}
	return 0;
}

static int h_migrate(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct calls *c = ctx;

	c->migrate++;
	snprintf(c->uri, sizeof(c->uri), "%s", ctl_arg_str(a, "uri"));
	return 0;
}

static int h_inject(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct calls *c = ctx;

	c->inject++;
	c->gpa = ctl_arg_u64(a, "gpa");
	json_object_set_new(res, "gpa", json_integer((json_int_t)ctl_arg_u64(a, "gpa")));
	return 0;
}

static const struct ctl_command status_cmd = { "status", "test", {  }, h_status };
CTL_COMMAND(status_cmd);
static const struct ctl_command pause_cmd = { "pause", "test", {  }, h_pause };
CTL_COMMAND(pause_cmd);
static const struct ctl_command migrate_cmd = { "migrate", "test", { { "uri", CTL_STR, true, "tcp:HOST:PORT" } }, h_migrate };
CTL_COMMAND(migrate_cmd);
static const struct ctl_command inject_ume_cmd = { "inject-ume", "test", { { "gpa", CTL_U64, true, NULL }, { "latent", CTL_BOOL, false, NULL } }, h_inject };
CTL_COMMAND(inject_ume_cmd);

/* Send req, parse the reply, check ok/error. Returns the reply object. */
static json_t *call(struct calls *c, const char *req, int want_ok, const char *want_err)
{
	char *r = ctl_handle_request(c, req, strlen(req));
	json_error_t je;
	json_t *o;

	assert_non_null(r);
	o = json_loads(r, 0, &je);
	if (!o)
		fail_msg("reply is not JSON: %s", r);
	assert_null(strchr(r, '\n'));
	if (json_is_true(json_object_get(o, "ok")) != want_ok)
		fail_msg("request %s: reply %s", req, r);
	if (want_err && !strstr(json_string_value(json_object_get(o, "error")) ?: "", want_err))
		fail_msg("request %s: reply %s lacks '%s'", req, r, want_err);
	free(r);
	return o;
}

static void test_good_requests(void **state)
{
	struct calls c = { 0 };
	json_t *o;

	o = call(&c, "{\"command\":\"status\"}", 1, NULL);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(o, "result"), "state")),
		"running");
	json_decref(o);
	assert_int_equal(c.status, 1);
	json_decref(call(&c, " { \"command\" : \"pause\" } ", 1, NULL));
	assert_int_equal(c.pause, 1);
	json_decref(call(&c, "{\"command\":\"migrate\",\"uri\":\"tcp:10.0.0.2:4444\"}", 1, NULL));
	assert_string_equal(c.uri, "tcp:10.0.0.2:4444");
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":1052672}", 1, NULL));
	assert_int_equal(c.gpa, 1052672);
	json_decref(call(&c, "{\"gpa\":\"0x20000\",\"command\":\"inject-ume\"}", 1, NULL));
	assert_int_equal(c.gpa, 0x20000);
	assert_int_equal(c.inject, 2);
}

/* help lists exactly the registered commands with their fields */
static void test_help_lists_registered(void **state)
{
	struct calls c = { 0 };
	json_t *o = call(&c, "{\"command\":\"help\"}", 1, NULL);
	json_t *list = json_object_get(json_object_get(o, "result"), "commands"), *e;
	size_t i, n;
	int seen_inject = 0;

	ctl_commands(&n);
	assert_int_equal(json_array_size(list), n); /* 4 of the test + help */
	assert_int_equal(n, 5);
	json_array_foreach(list, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "command"));

		assert_non_null(ctl_command_find(name));
		if (!strcmp(name, "inject-ume")) {
			json_t *f = json_object_get(e, "fields");

			seen_inject = 1;
			assert_int_equal(json_array_size(f), 2);
			assert_string_equal(
				json_string_value(json_object_get(json_array_get(f, 0), "name")),
				"gpa");
		}
	}
	assert_true(seen_inject);
	json_decref(o);
	/* a u64 field takes the whole range as a string (the client sends that) */
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":\"0xffffffffffffffff\"}", 1,
			 NULL));
	assert_true(c.gpa == UINT64_MAX);
}

static void test_bad_requests(void **state)
{
	struct calls c = { 0 };

	json_decref(call(&c, "", 0, "bad JSON"));
	json_decref(call(&c, "{", 0, "bad JSON"));
	json_decref(call(&c, "[1,2]", 0, "must be a JSON object, not an array"));
	json_decref(call(&c, "\"status\"", 0, "must be a JSON object"));
	json_decref(call(&c, "{}", 0, "needs a \"command\" string"));
	json_decref(call(&c, "{\"command\":7}", 0, "needs a \"command\" string"));
	json_decref(call(&c, "{\"command\":\"reboot\"}", 0, "unknown command 'reboot'"));
	json_decref(call(&c, "{\"command\":\"status\",\"x\":1}", 0, "unknown field 'x'"));
	json_decref(call(&c, "{\"command\":\"status\",\"command\":\"quit\"}", 0, "bad JSON"));
	json_decref(call(&c, "{\"command\":\"migrate\"}", 0, "needs a \"uri\""));
	json_decref(call(&c, "{\"command\":\"migrate\",\"uri\":5}", 0, "'uri' must be a string"));
	json_decref(call(&c, "{\"command\":\"inject-ume\"}", 0, "needs a \"gpa\""));
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":-1}", 0, "negative"));
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":\"12zz\"}", 0, "not an address"));
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":\"-5\"}", 0, "not an address"));
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":1.5}", 0, "not a number"));
	json_decref(call(&c, "{\"command\":\"inject-ume\",\"gpa\":[]}", 0, "not an array"));
	json_decref(call(&c, "{\"command\":\"status\",\"uri\":\"tcp:a:1\"}", 0, "unknown field"));
	/* only registered commands exist: this test registers no resume */
	json_decref(call(&c, "{\"command\":\"resume\"}", 0, "unknown command 'resume'"));
	json_decref(call(&c, "{\"command\":\"status\"} trailing", 0, "bad JSON"));
	/* invalid UTF-8 quoted back in the error (found by ctl_proto_fuzz) */
	json_decref(call(&c,
			 "{\"command\":\"injn\\\xdd\x98\x8f\x9e\xdd\xd9"
			 "27}",
			 0, "bad JSON"));
	/* a valid name whose %.64s truncation splits a character */
	json_decref(call(&c,
			 "{\"command\":\"x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
			 0, "unknown command"));
	/* no handler ran for any of them */
	assert_int_equal(c.status + c.pause + c.migrate + c.inject, 0);
}

static void test_handler_error(void **state)
{
	struct calls c = { .fail_with = -EBUSY };

	json_decref(call(&c, "{\"command\":\"pause\"}", 0, "pause: already paused"));
	assert_int_equal(c.pause, 1);
}

static void test_too_long(void **state)
{
	struct calls c = { 0 };
	size_t n = CTL_MAX_REQUEST + 10;
	char *big = malloc(n + 1);

	memset(big, ' ', n);
	memcpy(big, "{\"command\":\"status\"}", 20);
	big[n] = 0;
	json_decref(call(&c, big, 0, "too long"));
	free(big);
	/* deeply nested input is refused, not a stack overflow */
	n = 200000;
	big = malloc(n + 1);
	memset(big, '[', n);
	big[n] = 0;
	json_decref(call(&c, big + n - 60000, 0, "bad JSON"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_help_lists_registered),
		cmocka_unit_test(test_handler_error),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests_name("ctl_proto", tests, NULL, NULL);
}
