// SPDX-License-Identifier: MIT
/* Control socket client and `vessel ctl` (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX	  (1u << 20)
#define CLIENT_TIMEOUT_MS 30000

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int ctl_request(const char *path, const char *req, char **reply, int timeout_ms, char *err,
		size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	size_t len = 0, n = strlen(req);
	char *buf = NULL, *nl;
	bool send_failed = false;
	ssize_t r;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, -ENAMETOOLONG, "socket path too long: '%s'", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = fail(err, errlen, -errno, "cannot connect to control socket '%s': %s", path,
			  strerror(errno));
		goto out;
	}
	/* a server that refuses us (permission denied) may close before we are
	 * done sending: its one-line reason is still there to read */
	while (n && !send_failed) {
		r = send(fd, req, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		send_failed = r <= 0;
		req += r > 0 ? r : 0;
		n -= r > 0 ? (size_t)r : 0;
	}
	if (!send_failed && send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		send_failed = true;
	buf = malloc(REPLY_MAX + 1);
	if (!buf) {
		rc = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			rc = fail(err, errlen, -ETIMEDOUT, "no reply from '%s' within %d ms", path,
				  timeout_ms);
			goto out;
		}
		r = recv(fd, buf + len, REPLY_MAX - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = fail(err, errlen, -EPIPE, "control socket '%s' closed %s", path,
				  send_failed ? "while sending" : "without a reply");
			goto out;
		}
		len += (size_t)r;
		buf[len] = 0;
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = 0;
			*reply = buf;
			buf = NULL;
			rc = 0;
			goto out;
		}
		if (len == REPLY_MAX) {
			rc = fail(err, errlen, -E2BIG, "reply from '%s' too long", path);
			goto out;
		}
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The usage text: on stdout with status 0 for --help, else on stderr with 2. */
static int usage(bool help)
{
	FILE *f = help ? stdout : stderr;
	size_t n;
	const struct ctl_command *const *c = ctl_commands(&n);

	fprintf(f, "usage: vessel ctl SOCKET COMMAND [ARG...]\n"
		   "       vessel ctl SOCKET --json 'REQUEST'\n"
		   "\n"
		   "Send one request to the control socket of a running 'vessel run --control\n"
		   "SOCKET' and print the reply's result (exit 0) or its error (exit 1).\n"
		   "\n"
		   "commands:\n");
	for (size_t i = 0; i < n; i++) {
		char line[128];
		int len = snprintf(line, sizeof(line), "  %s", c[i]->name);

		for (unsigned f_ = 0; f_ < CTL_MAX_FIELDS && c[i]->fields[f_].name; f_++) {
			const struct ctl_field *fd = &c[i]->fields[f_];
			const char *shown = fd->type == CTL_BOOL ? fd->name : fd->help ?: fd->name;

			len += snprintf(line + len, sizeof(line) - (size_t)len,
					fd->required ? " %s" : " [%s]", shown);
			if (len >= (int)sizeof(line))
				break;
		}
		fprintf(f, "%-40s %s\n", line, c[i]->help);
	}
	return help ? 0 : 2;
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* The field of cmd called name, or NULL. */
static const struct ctl_field *field_named(const struct ctl_command *cmd, const char *name)
{
	for (unsigned f = 0; f < CTL_MAX_FIELDS && cmd->fields[f].name; f++)
		if (!strcmp(cmd->fields[f].name, name))
			return &cmd->fields[f];
	return NULL;
}

/* Set field fd to the command-line value v (NULL for a boolean): 0 or -1 (said why). */
static int set_field(json_t *o, const struct ctl_command *cmd, const struct ctl_field *fd,
		     const char *v)
{
	if (fd->type == CTL_BOOL) {
		json_object_set_new(o, fd->name, json_true());
	} else if (fd->type == CTL_U64) {
		char *end;

		errno = 0;
		(void)strtoull(v, &end, 0);
		if (errno || *end || end == v || v[0] == '-' || v[0] == ' ') {
			fprintf(stderr, "vessel ctl: %s: '%s' is not a number for %s\n", cmd->name,
				v, fd->name);
			return -1;
		}
		json_object_set_new(o, fd->name, json_string(v));
	} else {
		json_object_set_new(o, fd->name, json_string(v));
	}
	return 0;
}

/*
 * COMMAND ARG... -> request: the arguments fill the command's fields in
 * order; a boolean field is set by its own name (inject-ume GPA latent).
 * Any field may also be named: --NAME for a boolean, --NAME VALUE or
 * --NAME=VALUE for the others (migrate --postcopy tcp:HOST:PORT).
 * Numbers are sent as strings, so the server parses all of 0..2^64-1.
 */
static int add_fields(json_t *o, const struct ctl_command *cmd, int argc, char **argv)
{
	unsigned f = 0;

	for (int i = 0; i < argc; i++) {
		const struct ctl_field *fd;

		if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
			char name[64], *eq;

			snprintf(name, sizeof(name), "%s", argv[i] + 2);
			eq = strchr(name, '=');
			if (eq)
				*eq = 0;
			fd = field_named(cmd, name);
			if (!fd || (fd->type == CTL_BOOL && eq) ||
			    (fd->type != CTL_BOOL && !eq && i + 1 == argc)) {
				fprintf(stderr, "vessel ctl: %s: unexpected option '%s'\n",
					cmd->name, argv[i]);
				return -1;
			}
			if (set_field(o, cmd, fd,
				      fd->type == CTL_BOOL ? NULL :
				      eq		   ? argv[i] + 2 + (eq - name) + 1 :
							     argv[++i]))
				return -1;
			continue;
		}
		while (f < CTL_MAX_FIELDS && cmd->fields[f].name &&
		       (json_object_get(o, cmd->fields[f].name) ||
			(cmd->fields[f].type == CTL_BOOL && strcmp(argv[i], cmd->fields[f].name))))
			f++; /* named already, or an optional flag not given */
		if (f == CTL_MAX_FIELDS || !cmd->fields[f].name) {
			fprintf(stderr, "vessel ctl: %s: unexpected argument '%s'\n", cmd->name,
				argv[i]);
			return -1;
		}
		if (set_field(o, cmd, &cmd->fields[f], argv[i]))
			return -1;
		f++;
	}
	for (f = 0; f < CTL_MAX_FIELDS && cmd->fields[f].name; f++)
		if (cmd->fields[f].required && !json_object_get(o, cmd->fields[f].name)) {
			fprintf(stderr, "vessel ctl: %s needs %s\n", cmd->name,
				cmd->fields[f].help ?: cmd->fields[f].name);
			return -1;
		}
	return 0;
}

/* Build the request from argv; NULL on a usage error (message printed). */
static char *build_request(int argc, char **argv)
{
	const char *name = argv[2];
	const struct ctl_command *cmd;
	json_t *o;
	char *s;

	if (strcmp(name, "--json") == 0) {
		json_error_t jerr;

		if (argc != 4)
			return NULL;
		if (!strchr(argv[3], '\n'))
			return strdup(argv[3]); /* sent as it is, malformed or not */
		/* requests are lines: a multi-line (pretty) JSON object is sent
		 * compact, anything else with a newline cannot be sent */
		o = json_loads(argv[3], JSON_REJECT_DUPLICATES, &jerr);
		if (!o) {
			fprintf(stderr,
				"vessel ctl: --json: a request spanning lines must be valid JSON: "
				"%s (line %d)\n",
				jerr.text, jerr.line);
			return NULL;
		}
		s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		return s;
	}
	cmd = ctl_command_find(name);
	if (!cmd) {
		fprintf(stderr, "vessel ctl: unknown command '%s'\n", name);
		return NULL;
	}
	o = json_pack("{s:s}", "command", name);
	if (!o)
		return NULL;
	if (add_fields(o, cmd, argc - 3, argv + 3)) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* `help`'s result as text: one line per command. */
static void print_help(json_t *result)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(result, "commands"), i, c)
	{
		printf("%-16s %s\n", json_string_value(json_object_get(c, "command")) ?: "?",
		       json_string_value(json_object_get(c, "help")) ?: "");
	}
}

int ctl_client_main(int argc, char **argv)
{
	char err[CTL_ERR_MAX], *req, *reply = NULL, *txt;
	json_t *o, *ok;
	json_error_t jerr;
	int rc;

	for (int i = 1; i < argc; i++)
		if (is_help(argv[i]))
			return usage(true);
	if (argc < 3)
		return usage(false);
	req = build_request(argc, argv);
	if (!req)
		return usage(false);
	rc = ctl_request(argv[1], req, &reply, CLIENT_TIMEOUT_MS, err, sizeof(err));
	free(req);
	if (rc) {
		fprintf(stderr, "vessel ctl: %s\n", err);
		return 1;
	}
	o = json_loads(reply, 0, &jerr);
	ok = o ? json_object_get(o, "ok") : NULL;
	if (!ok) {
		fprintf(stderr, "vessel ctl: malformed reply: %s\n", reply);
		rc = 1;
	} else if (json_is_true(ok) && strcmp(argv[2], "help") == 0) {
		print_help(json_object_get(o, "result"));
		rc = 0;
	} else if (json_is_true(ok)) {
		txt = json_dumps(json_object_get(o, "result"), JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", txt ? txt : "{}");
		free(txt);
		rc = 0;
	} else {
		fprintf(stderr, "vessel ctl: error: %s\n",
			json_string_value(json_object_get(o, "error")) ?: "(no message)");
		rc = 1;
	}
	json_decref(o);
	free(reply);
	return rc;
}
