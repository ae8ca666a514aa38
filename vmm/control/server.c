// SPDX-License-Identifier: MIT
/* Control socket server: a thread serving one client at a time (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_MS                                                                          \
	3000 /* an idle client blocks the (single) server thread at most this long */

struct ctl_server {
	int lfd;
	int wake[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	void *ctx;
	pthread_t thread;
	char *line;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Send all of p, waiting for room at most CLIENT_TIMEOUT_MS at a time: a
 * client that stops reading its replies is given up (-1), as is every
 * client once ctl_server_stop() asks the thread to finish.
 */
static int send_all(struct ctl_server *s, int fd, const char *p, size_t n)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLOUT },
				 { .fd = s->wake[0], .events = POLLIN } };
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(pfd, 2, CLIENT_TIMEOUT_MS) <= 0 || (pfd[1].revents & POLLIN))
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send one reply line (frees s); -1 when the client is to be dropped. */
static int reply(struct ctl_server *srv, int fd, char *s)
{
	int rc = -1;

	if (!s)
		s = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
	if (s && send_all(srv, fd, s, strlen(s)) == 0)
		rc = send_all(srv, fd, "\n", 1);
	free(s);
	return rc;
}

/* Serve one client: requests are lines; a line over the cap gets one error
 * reply and the connection is closed (we cannot find the next request). */
static void serve_client(struct ctl_server *s, int fd)
{
	size_t len = 0, start, i;
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = s->wake[0], .events = POLLIN } };
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, CLIENT_TIMEOUT_MS) <= 0 || (pfd[1].revents & POLLIN))
			return;
		n = recv(fd, s->line + len, CTL_MAX_REQUEST + 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		start = 0;
		for (i = 0; i < len; i++) {
			if (s->line[i] != '\n')
				continue;
			if (reply(s, fd,
				  ctl_handle_request(s->ctx, s->line + start, i - start)))
				return;
			start = i + 1;
		}
		memmove(s->line, s->line + start, len - start);
		len -= start;
		if (len > CTL_MAX_REQUEST) {
			reply(s, fd, ctl_handle_request(s->ctx, s->line, len));
			return;
		}
	}
}

static void *server_thread(void *arg)
{
	struct ctl_server *s = arg;
	struct pollfd pfd[2] = { { .fd = s->lfd, .events = POLLIN },
				 { .fd = s->wake[0], .events = POLLIN } };
	int fd;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(s, fd);
		close(fd);
	}
	return NULL;
}

int ctl_server_start(const char *path, void *ctx, struct ctl_server **out, char *err,
		     size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	struct stat st;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, -ENAMETOOLONG, "control socket path too long: '%s'", path);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return fail(err, errlen, -EEXIST,
				    "control socket path '%s' exists and is not a socket", path);
		/* a stale socket is replaced; one a live VMM still serves is not */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return fail(err, errlen, -EADDRINUSE,
				    "control socket '%s' is in use (another VM serves it)", path);
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, -ENOMEM, "out of memory");
	s->line = malloc(CTL_MAX_REQUEST + 1);
	s->wake[0] = s->wake[1] = -1;
	if (!s->line || pipe2(s->wake, O_CLOEXEC) < 0) {
		rc = fail(err, errlen, -ENOMEM, "control socket: out of resources");
		goto err_free;
	}
	strcpy(s->path, path);
	s->ctx = ctx;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = fail(err, errlen, -errno, "cannot serve control socket '%s': %s", path,
			  strerror(errno));
		goto err_close;
	}
	if (listen(s->lfd, 8) < 0) {
		rc = fail(err, errlen, -errno, "cannot serve control socket '%s': %s", path,
			  strerror(errno));
		goto err_unlink; /* ours now: do not leave it behind */
	}
	rc = pthread_create(&s->thread, NULL, server_thread, s);
	if (rc) {
		rc = fail(err, errlen, -rc, "control socket thread: %s", strerror(rc));
		goto err_unlink;
	}
	*out = s;
	return 0;
err_unlink:
	unlink(path);
err_close:
	if (s->lfd >= 0)
		close(s->lfd);
err_free:
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	free(s->line);
	free(s);
	return rc;
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	if (write(s->wake[1], "x", 1) < 0) {
		/* the thread also stops when the pipe closes below */
	}
	if (!pthread_equal(pthread_self(), s->thread))
		pthread_join(s->thread, NULL);
	else
		pthread_detach(s->thread);
	close(s->lfd);
	unlink(s->path);
	if (!pthread_equal(pthread_self(), s->thread)) {
		close(s->wake[0]);
		close(s->wake[1]);
		free(s->line);
		free(s);
	}
}
