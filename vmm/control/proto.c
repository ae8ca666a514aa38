// SPDX-License-Identifier: MIT
/* Control protocol: request validation and dispatch (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* provided by the linker for the section CTL_COMMAND() fills */
extern const struct ctl_command *const __start_vessel_ctl_commands[];
extern const struct ctl_command *const __stop_vessel_ctl_commands[];

const struct ctl_command *const *ctl_commands(size_t *n)
{
	*n = (size_t)(__stop_vessel_ctl_commands - __start_vessel_ctl_commands);
	return __start_vessel_ctl_commands;
}

const struct ctl_command *ctl_command_find(const char *name)
{
	size_t n;
	const struct ctl_command *const *c = ctl_commands(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i]->name, name) == 0)
			return c[i];
	return NULL;
}

static int field_index(const struct ctl_command *cmd, const char *name)
{
	for (int i = 0; i < CTL_MAX_FIELDS && cmd->fields[i].name; i++)
		if (strcmp(cmd->fields[i].name, name) == 0)
			return i;
	return -1;
}

const char *ctl_arg_str(const struct ctl_args *a, const char *name)
{
	int i = field_index(a->cmd, name);

	return i >= 0 && a->has[i] ? a->str[i] : NULL;
}

uint64_t ctl_arg_u64(const struct ctl_args *a, const char *name)
{
	int i = field_index(a->cmd, name);

	return i >= 0 && a->has[i] ? a->u64[i] : 0;
}

bool ctl_arg_bool(const struct ctl_args *a, const char *name)
{
	int i = field_index(a->cmd, name);

	return i >= 0 && a->has[i] && a->b[i];
}

static const char *type_name(enum ctl_type t)
{
	return t == CTL_STR ? "string" : t == CTL_U64 ? "integer" : "boolean";
}

/* The built-in `help`: every registered command with its fields. */
static int c_help(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	json_t *list = json_array();
	size_t n;
	const struct ctl_command *const *c = ctl_commands(&n);

	for (size_t i = 0; i < n; i++) {
		json_t *fields = json_array();

		for (unsigned f = 0; f < CTL_MAX_FIELDS && c[i]->fields[f].name; f++)
			json_array_append_new(fields,
					      json_pack("{s:s, s:s, s:b, s:s}", "name",
							c[i]->fields[f].name, "type",
							type_name(c[i]->fields[f].type), "required",
							c[i]->fields[f].required, "help",
							c[i]->fields[f].help ?: ""));
		json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "command", c[i]->name,
						      "help", c[i]->help, "fields", fields));
	}
	json_object_set_new(res, "commands", list);
	return 0;
}

static const struct ctl_command help_cmd = {
	.name = "help",
	.help = "list the commands this VMM serves, with their fields",
	.fn = c_help,
};
CTL_COMMAND(help_cmd);

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

/* A u64 field: a non-negative integer, or a string in C syntax ("0x1000", "4096"). */
static int parse_u64(const char *name, const json_t *v, uint64_t *out, char *err, size_t errlen)
{
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0) {
			snprintf(err, errlen, "field '%s' must not be negative", name);
			return -EINVAL;
		}
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field '%s' must be an integer or a string, not %s", name,
			 json_kind(v));
		return -EINVAL;
	}
	s = json_string_value(v);
	errno = 0;
	if (*s == '-' || *s == 0 || *s == ' ') {
		snprintf(err, errlen, "field '%s' is not an address or a number: '%.64s'", name, s);
		return -EINVAL;
	}
	*out = strtoull(s, &end, 0);
	if (errno || *end || end == s || strlen(s) != json_string_length(v)) {
		snprintf(err, errlen, "field '%s' is not an address or a number: '%.64s'", name, s);
		return -EINVAL;
	}
	return 0;
}

/* Check one field of the request against the command's spec into args. */
static int parse_field(const struct ctl_command *cmd, const char *key, const json_t *v,
		       struct ctl_args *args, char *err, size_t errlen)
{
	int i = field_index(cmd, key);

	if (i < 0) {
		snprintf(err, errlen, "unknown field '%.64s' for command '%s'", key, cmd->name);
		return -EINVAL;
	}
	switch (cmd->fields[i].type) {
	case CTL_STR:
		if (!json_is_string(v)) {
			snprintf(err, errlen, "field '%s' must be a string, not %s", key,
				 json_kind(v));
			return -EINVAL;
		}
		args->str[i] = json_string_value(v);
		if (strlen(args->str[i]) != json_string_length(v)) {
			snprintf(err, errlen, "field '%s' contains a NUL byte", key);
			return -EINVAL;
		}
		break;
	case CTL_U64:
		if (parse_u64(key, v, &args->u64[i], err, errlen))
			return -EINVAL;
		break;
	case CTL_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "field '%s' must be a boolean, not %s", key,
				 json_kind(v));
			return -EINVAL;
		}
		args->b[i] = json_is_true(v);
		break;
	}
	args->has[i] = true;
	return 0;
}

char *ctl_handle_request(void *ctx, const char *req, size_t len)
{
	const struct ctl_command *cmd = NULL;
	struct ctl_args args = { 0 };
	char err[CTL_ERR_MAX] = "";
	json_error_t jerr;
	json_t *o, *v, *result, *reply;
	const char *name, *key;
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
	if (strlen(name) == json_string_length(v))
		cmd = ctl_command_find(name);
	if (!cmd) {
		out = error_reply("unknown command '%.64s' (the command 'help' lists them)", name);
		goto out;
	}
	args.cmd = cmd;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "command") == 0)
			continue;
		if (parse_field(cmd, key, v, &args, err, sizeof(err))) {
			out = error_reply("%s", err);
			goto out;
		}
	}
	for (unsigned i = 0; i < CTL_MAX_FIELDS && cmd->fields[i].name; i++)
		if (cmd->fields[i].required && !args.has[i]) {
			if (cmd->fields[i].help)
				out = error_reply("command '%s' needs a \"%s\" field (%s)", cmd->name,
						  cmd->fields[i].name, cmd->fields[i].help);
			else
				out = error_reply("command '%s' needs a \"%s\" field", cmd->name,
						  cmd->fields[i].name);
			goto out;
		}
	result = json_object();
	if (!result) {
		out = NULL;
		goto out;
	}
	rc = cmd->fn(ctx, &args, result, err, sizeof(err));
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
