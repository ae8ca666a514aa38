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
	while (n) {
		r = send(fd, req, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = fail(err, errlen, -EPIPE, "control socket '%s' closed while sending",
				  path);
			goto out;
		}
		req += r;
		n -= (size_t)r;
	}
	if (send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		rc = fail(err, errlen, -EPIPE, "control socket '%s' closed while sending", path);
		goto out;
	}
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
			rc = fail(err, errlen, -EPIPE, "control socket '%s' closed without a reply",
				  path);
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
	fprintf(help ? stdout : stderr,
		"usage: vessel ctl SOCKET COMMAND [ARG]\n"
		"       vessel ctl SOCKET --json 'REQUEST'\n"
		"commands: status, stats, pause, resume, quit, migrate tcp|tls:HOST:PORT,\n"
		"          inject-ume GPA [latent], migrate-status\n");
	return help ? 0 : 2;
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static const char *const known_commands[] = {
	"status", "stats", "pause", "resume", "quit", "migrate", "inject-ume", "migrate-status",
};

/* Build the request from argv; NULL on a usage error (message printed). */
static char *build_request(int argc, char **argv)
{
	const char *cmd = argv[2];
	json_t *o;
	char *s, *end;
	unsigned long long gpa;
	size_t i;

	if (strcmp(cmd, "--json") == 0) {
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
	for (i = 0; i < sizeof(known_commands) / sizeof(known_commands[0]); i++)
		if (strcmp(cmd, known_commands[i]) == 0)
			break;
	if (i == sizeof(known_commands) / sizeof(known_commands[0])) {
		fprintf(stderr, "vessel ctl: unknown command '%s'\n", cmd);
		return NULL;
	}
	o = json_pack("{s:s}", "command", cmd);
	if (!o)
		return NULL;
	if (strcmp(cmd, "migrate") == 0) {
		if (argc != 4) {
			fprintf(stderr,
				"vessel ctl: migrate needs tcp:HOST:PORT or tls:HOST:PORT\n");
			goto bad;
		}
		json_object_set_new(o, "uri", json_string(argv[3]));
	} else if (strcmp(cmd, "inject-ume") == 0) {
		if (argc == 5 && strcmp(argv[4], "latent") == 0) {
			json_object_set_new(o, "latent", json_true());
		} else if (argc != 4) {
			fprintf(stderr, "vessel ctl: inject-ume needs a guest-physical address "
					"(and optionally 'latent')\n");
			goto bad;
		}
		errno = 0;
		gpa = strtoull(argv[3], &end, 0);
		if (errno || *end || end == argv[3] || argv[3][0] == '-') {
			fprintf(stderr, "vessel ctl: '%s' is not an address\n", argv[3]);
			goto bad;
		}
		json_object_set_new(o, "gpa", json_integer((json_int_t)gpa));
	} else if (argc != 3) {
		fprintf(stderr, "vessel ctl: %s takes no argument\n", cmd);
		goto bad;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
bad:
	json_decref(o);
	return NULL;
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
