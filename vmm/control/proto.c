// SPDX-License-Identifier: MIT
/* Control protocol: request validation and dispatch (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum arg_kind { ARG_NONE, ARG_URI, ARG_GPA };

struct ctl_command {
	const char *name;
	enum arg_kind arg;
	size_t handler; /* offset of the handler in struct ctl_ops */
	const char *help;
};

#define CMD(n, a, f, h)                                                                            \
	{                                                                                          \
		n, a, offsetof(struct ctl_ops, f), h                                               \
	}

static const struct ctl_command commands[] = {
	CMD("status", ARG_NONE, status, "run state, vCPUs, memory"),
	CMD("stats", ARG_NONE, stats, "counters: exits, poisoned pages, machine checks"),
	CMD("pause", ARG_NONE, pause, "stop all vCPUs"),
	CMD("resume", ARG_NONE, resume, "continue all vCPUs"),
	CMD("quit", ARG_NONE, quit, "stop the VM and exit"),
	CMD("migrate", ARG_URI, migrate, "start live migration to uri tcp:HOST:PORT"),
	CMD("inject-ume", ARG_GPA, inject_ume, "poison the guest page at gpa for real"),
	CMD("migrate-status", ARG_NONE, migrate_status, "progress of the current migration"),
};

/*
 * Replace every byte that is not part of a well-formed UTF-8 sequence with
 * '?'. Error messages quote the request (a bad command name, the JSON
 * parser's "near '...'" token, a truncated %.64s), and JSON strings must be
 * valid UTF-8 or the reply cannot be built at all.
 */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		unsigned n = *p < 0x80		      ? 0 :
			     *p >= 0xc2 && *p <= 0xdf ? 1 :
			     (*p & 0xf0) == 0xe0      ? 2 :
			     *p >= 0xf0 && *p <= 0xf4 ? 3 :
							4;
		unsigned i;

		for (i = 1; n < 4 && i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		if (n == 4 || i <= n) { /* stray or truncated sequence */
			*p++ = '?';
			continue;
		}
		/* overlong 3-byte forms, UTF-16 surrogates, above U+10FFFF */
		if ((n == 2 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) ||
		    (n == 3 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

static char *error_reply(const char *fmt, ...)
{
	char msg[CTL_ERR_MAX];
	json_t *o;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_sanitize(msg);
	o = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something";
}

/* gpa: a non-negative integer, or a string in C syntax ("0x1000", "4096"). */
static int parse_gpa(const json_t *v, uint64_t *gpa, char *err, size_t errlen)
{
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0) {
			snprintf(err, errlen, "field 'gpa' must not be negative");
			return -EINVAL;
		}
		*gpa = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field 'gpa' must be an integer or a string, not %s",
			 json_kind(v));
		return -EINVAL;
	}
	s = json_string_value(v);
	errno = 0;
	if (*s == '-' || *s == 0 || *s == ' ') {
		snprintf(err, errlen, "field 'gpa' is not an address: '%.64s'", s);
		return -EINVAL;
	}
	*gpa = strtoull(s, &end, 0);
	if (errno || *end || end == s || strlen(s) != json_string_length(v)) {
		snprintf(err, errlen, "field 'gpa' is not an address: '%.64s'", s);
		return -EINVAL;
	}
	return 0;
}

char *ctl_handle_request(const struct ctl_ops *ops, void *ctx, const char *req, size_t len)
{
	const struct ctl_command *cmd = NULL;
	struct ctl_args args = { 0 };
	char err[CTL_ERR_MAX] = "";
	json_error_t jerr;
	json_t *o, *v, *result, *reply;
	const char *name, *key;
	ctl_handler_fn fn;
	char *out;
	int rc;

	if (len > CTL_MAX_REQUEST)
		return error_reply("request too long: %zu bytes (limit %u)", len, CTL_MAX_REQUEST);
	o = json_loadb(req, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!o)
		return error_reply("bad JSON at line %d column %d: %s", jerr.line, jerr.column,
				   jerr.text);
	if (!json_is_object(o)) {
		out = error_reply("the request must be a JSON object, not %s", json_kind(o));
		goto out;
	}
	v = json_object_get(o, "command");
	if (!v || !json_is_string(v)) {
		out = error_reply("the request needs a \"command\" string");
		goto out;
	}
	name = json_string_value(v);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].name) == json_string_length(v) &&
		    strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		out = error_reply("unknown command '%.64s' (try status, stats, pause, resume, "
				  "quit, migrate, inject-ume, migrate-status)",
				  name);
		goto out;
	}
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "command") == 0)
			continue;
		if (cmd->arg == ARG_URI && strcmp(key, "uri") == 0) {
			if (!json_is_string(v)) {
				out = error_reply("field 'uri' must be a string, not %s",
						  json_kind(v));
				goto out;
			}
			args.uri = json_string_value(v);
			if (strlen(args.uri) != json_string_length(v)) {
				out = error_reply("field 'uri' contains a NUL byte");
				goto out;
			}
			continue;
		}
		if (cmd->arg == ARG_GPA && strcmp(key, "latent") == 0) {
			if (!json_is_boolean(v)) {
				out = error_reply("field 'latent' must be a boolean, not %s",
						  json_kind(v));
				goto out;
			}
			args.latent = json_is_true(v);
			continue;
		}
		if (cmd->arg == ARG_GPA && strcmp(key, "gpa") == 0) {
			if (parse_gpa(v, &args.gpa, err, sizeof(err))) {
				out = error_reply("%s", err);
				goto out;
			}
			continue;
		}
		out = error_reply("unknown field '%.64s' for command '%s'", key, cmd->name);
		goto out;
	}
	if (cmd->arg == ARG_URI && !args.uri) {
		out = error_reply("command '%s' needs a \"uri\" field (tcp:HOST:PORT)", cmd->name);
		goto out;
	}
	if (cmd->arg == ARG_GPA && !json_object_get(o, "gpa")) {
		out = error_reply("command '%s' needs a \"gpa\" field", cmd->name);
		goto out;
	}
	memcpy(&fn, (const char *)ops + cmd->handler, sizeof(fn));
	if (!fn) {
		out = error_reply("command '%s' is not available in this VMM", cmd->name);
		goto out;
	}
	result = json_object();
	if (!result) {
		out = NULL;
		goto out;
	}
	rc = fn(ctx, &args, result, err, sizeof(err));
	if (rc) {
		json_decref(result);
		out = error_reply("%s: %s", cmd->name, err[0] ? err : strerror(-rc));
		goto out;
	}
	reply = json_pack("{s:b, s:o}", "ok", 1, "result", result);
	out = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
out:
	json_decref(o);
	return out;
}
