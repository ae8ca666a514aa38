// SPDX-License-Identifier: MIT
/*
 * migrate_qmp SOCKET 'COMMAND-JSON'...: a minimal QMP client for the
 * migration benchmark. Connects to QEMU's QMP UNIX socket, negotiates
 * capabilities, sends each command in turn and prints each "return" value as
 * one line of JSON (events are skipped). Exit status 1 on a QMP error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char buf[1 << 16];
static size_t len;

/* The next complete line from the socket (NUL-terminated in buf), or NULL. */
static char *next_line(int fd, size_t *consumed)
{
	for (;;) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;

		if (nl) {
			*nl = 0;
			*consumed = (size_t)(nl - buf) + 1;
			return buf;
		}
		if (len == sizeof(buf) - 1)
			return NULL;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
	}
}

static void drop(size_t n)
{
	memmove(buf, buf + n, len - n);
	len -= n;
}

/* Read until a reply ("return" or "error") arrives; print it. */
static int reply(int fd, int print)
{
	for (;;) {
		size_t used;
		char *line = next_line(fd, &used);
		json_error_t je;
		json_t *o, *r;
		int rc = -1;

		if (!line) {
			fprintf(stderr, "migrate_qmp: connection closed\n");
			return 1;
		}
		o = json_loads(line, 0, &je);
		drop(used);
		if (!o)
			continue;
		if ((r = json_object_get(o, "return"))) {
			if (print) {
				char *s = json_dumps(r, JSON_COMPACT);

				printf("%s\n", s);
				free(s);
			}
			rc = 0;
		} else if ((r = json_object_get(o, "error"))) {
			fprintf(stderr, "migrate_qmp: %s\n",
				json_string_value(json_object_get(r, "desc")) ?: "error");
			rc = 1;
		}
		json_decref(o);
		if (rc >= 0)
			return rc;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t used;
	int fd;

	if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: migrate_qmp SOCKET 'JSON'...\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (!next_line(fd, &used)) /* greeting */
		return 1;
	drop(used);
	dprintf(fd, "{\"execute\":\"qmp_capabilities\"}\n");
	if (reply(fd, 0))
		return 1;
	for (int i = 2; i < argc; i++) {
		dprintf(fd, "%s\n", argv[i]);
		if (reply(fd, 1))
			return 1;
	}
	close(fd);
	return 0;
}
