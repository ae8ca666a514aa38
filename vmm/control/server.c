// SPDX-License-Identifier: MIT
/*
 * Control socket server (see ctl.h): an accept thread and one thread per
 * client, at most CTL_MAX_CLIENTS at a time, so a client that is slow to
 * send (or sends nothing) holds only its own thread. Handlers run one at a
 * time under exec_lock; a request whose client has gone by the time its turn
 * comes is dropped, not executed. Peers are admitted by their credentials
 * (access.c) before they get a thread.
 */
#include "ctl.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * A whole request line must arrive within this time of the connection (or
 * of the previous reply), and a whole reply must be taken within it: the
 * deadline does not restart on every byte, so trickling bytes buys nothing.
 */
#define CLIENT_TIMEOUT_MS 3000

struct client {
	struct ctl_server *srv;
	int fd;
	pthread_t thread;
	bool used; /* the slot holds a thread to join */
	bool done; /* which has finished */
};

struct ctl_server {
	int lfd;
	int wake[2]; /* written once by ctl_server_stop(): every thread wakes */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	void *ctx;
	uid_t owner;
	gid_t group; /* CTL_NO_GROUP: the owner and root only */
	pthread_t thread;
	pthread_mutex_t exec_lock; /* one handler at a time */
	pthread_mutex_t lock;	   /* clients[], stats */
	struct client clients[CTL_MAX_CLIENTS];
	struct ctl_server_stats stats;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static void count(struct ctl_server *s, unsigned long *counter)
{
	pthread_mutex_lock(&s->lock);
	(*counter)++;
	pthread_mutex_unlock(&s->lock);
}

/*
 * Wait until fd has `events` or the deadline passes: 1 ready, 0 timed out,
 * -1 when the server is stopping or poll failed.
 */
static int wait_fd(struct ctl_server *s, int fd, short events, double deadline)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = events },
				 { .fd = s->wake[0], .events = POLLIN } };
	double left;
	int n;

	for (;;) {
		left = deadline - clock_now_ms();
		if (left <= 0)
			return 0;
		n = poll(pfd, 2, (int)left + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (pfd[1].revents & POLLIN))
			return -1;
		if (n > 0)
			return 1;
	}
}

/* Send all of p before the deadline; -1 when the client is to be dropped. */
static int send_all(struct ctl_server *s, int fd, const char *p, size_t n, double deadline)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(s, fd, POLLOUT, deadline) <= 0)
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

/* Send one reply line (frees r); -1 when the client is to be dropped. */
static int reply(struct ctl_server *s, int fd, char *r)
{
	double deadline = clock_now_ms() + CLIENT_TIMEOUT_MS;
	int rc = -1;

	if (!r)
		r = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
	if (r && send_all(s, fd, r, strlen(r), deadline) == 0)
		rc = send_all(s, fd, "\n", 1, deadline);
	free(r);
	return rc;
}

/* A last error line for a client being dropped, if its socket takes it at once. */
static void parting_error(int fd, const char *msg)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (line && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) > 0 &&
	    send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* it is being dropped anyway */
	}
	free(line);
	json_decref(o);
}

/* Whether the client closed its socket (not just its sending side). */
static bool peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	/* POLLHUP: both directions shut down, i.e. the peer closed or died; a
	 * client that only shut down writing (echo ... | socat) still waits */
	return poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* Execute one request and reply; -1 when the client is to be dropped. */
static int execute(struct ctl_server *s, int fd, const char *req, size_t len)
{
	char *r;

	pthread_mutex_lock(&s->exec_lock);
	if (peer_gone(fd)) {
		/* it gave up waiting (behind a long handler, say): a quit or a
		 * migrate nobody waits for must not run */
		pthread_mutex_unlock(&s->exec_lock);
		count(s, &s->stats.dropped_gone);
		return -1;
	}
	r = ctl_handle_request(s->ctx, req, len);
	pthread_mutex_unlock(&s->exec_lock);
	count(s, &s->stats.executed);
	return reply(s, fd, r);
}

/*
 * Serve one client: requests are lines; a line over the cap gets one error
 * reply and the connection is closed (we cannot find the next request).
 */
static void serve_client(struct ctl_server *s, int fd, char *line)
{
	double deadline = clock_now_ms() + CLIENT_TIMEOUT_MS;
	size_t len = 0, start, i;
	ssize_t n;
	int rc;

	for (;;) {
		rc = wait_fd(s, fd, POLLIN, deadline);
		if (rc == 0) {
			count(s, &s->stats.timed_out);
			parting_error(fd, "no complete request line in time: closing");
		}
		if (rc <= 0)
			return;
		n = recv(fd, line + len, CTL_MAX_REQUEST + 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		start = 0;
		for (i = 0; i < len; i++) {
			if (line[i] != '\n')
				continue;
			if (execute(s, fd, line + start, i - start))
				return;
			start = i + 1;
			deadline = clock_now_ms() + CLIENT_TIMEOUT_MS; /* for the next request */
		}
		memmove(line, line + start, len - start);
		len -= start;
		if (len > CTL_MAX_REQUEST) {
			reply(s, fd, ctl_handle_request(s->ctx, line, len));
			return;
		}
	}
}

static void *client_thread(void *arg)
{
	struct client *c = arg;
	struct ctl_server *s = c->srv;
	char *line = malloc(CTL_MAX_REQUEST + 1);

	if (line)
		serve_client(s, c->fd, line);
	else
		parting_error(c->fd, "out of memory");
	free(line);
	close(c->fd);
	pthread_mutex_lock(&s->lock);
	c->done = true;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Join finished client threads; return a free slot or NULL. */
static struct client *reap_clients(struct ctl_server *s)
{
	struct client *free_slot = NULL;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->used && c->done) {
			pthread_join(c->thread, NULL);
			c->used = false;
		}
		if (!c->used && !free_slot)
			free_slot = c;
	}
	pthread_mutex_unlock(&s->lock);
	return free_slot;
}

static void *server_thread(void *arg)
{
	struct ctl_server *s = arg;
	struct pollfd pfd[2] = { { .fd = s->lfd, .events = POLLIN },
				 { .fd = s->wake[0], .events = POLLIN } };
	char why[CTL_ERR_MAX];
	struct client *c;
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
		if (ctl_peer_allowed(fd, s->owner, s->group, why, sizeof(why))) {
			count(s, &s->stats.refused_perm);
			parting_error(fd, why);
			close(fd);
			continue;
		}
		c = reap_clients(s);
		if (!c) {
			count(s, &s->stats.refused_busy);
			parting_error(fd, "too many control clients at once: try again");
			close(fd);
			continue;
		}
		*c = (struct client){ .srv = s, .fd = fd, .used = true };
		if (pthread_create(&c->thread, NULL, client_thread, c)) {
			c->used = false;
			parting_error(fd, "control socket: out of threads");
			close(fd);
		}
	}
	/* the wake pipe stays readable: every client thread sees it */
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].used)
			pthread_join(s->clients[i].thread, NULL);
	return NULL;
}

/*
 * The listening socket at path, born owner-only: its file takes the socket
 * inode's mode (minus the umask) at bind(), so an fchmod() before bind()
 * leaves no moment in which anyone else may connect. A group then gets
 * read-write (connect needs write permission); nobody else ever does.
 */
static int listen_at(struct ctl_server *s, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	mode_t mode = s->group == CTL_NO_GROUP ? 0600 : 0660;
	int rc;

	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || fchmod(s->lfd, 0600) < 0 ||
	    bind(s->lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return fail(err, errlen, -errno, "cannot serve control socket '%s': %s", path,
			    strerror(errno));
	if (s->group != CTL_NO_GROUP && lchown(path, (uid_t)-1, s->group) < 0) {
		rc = fail(err, errlen, -errno,
			  "control socket '%s': cannot give it to group %u: %s", path,
			  (unsigned)s->group, strerror(errno));
		goto err_unlink;
	}
	/* chmod also when a umask took the owner's own bits away */
	if (chmod(path, mode) < 0 || listen(s->lfd, CTL_MAX_CLIENTS) < 0) {
		rc = fail(err, errlen, -errno, "cannot serve control socket '%s': %s", path,
			  strerror(errno));
		goto err_unlink;
	}
	return 0;
err_unlink:
	unlink(path); /* ours now: do not leave it behind */
	return rc;
}

int ctl_server_start(const char *path, gid_t group, void *ctx, struct ctl_server **out,
		     char *err, size_t errlen)
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
		/* a stale socket (nobody listening) is replaced; one a live VMM
		 * still serves is not, nor one we may not even try */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return fail(err, errlen, -errno, "control socket: %s", strerror(errno));
		rc = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		close(probe);
		if (rc == 0)
			return fail(err, errlen, -EADDRINUSE,
				    "control socket '%s' is in use (another VM serves it)", path);
		if (rc != ECONNREFUSED)
			return fail(err, errlen, -rc, "control socket '%s' exists: %s", path,
				    strerror(rc));
		unlink(path);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, -ENOMEM, "out of memory");
	s->wake[0] = s->wake[1] = -1;
	if (pipe2(s->wake, O_CLOEXEC) < 0) {
		rc = fail(err, errlen, -errno, "control socket: %s", strerror(errno));
		goto err_free;
	}
	strcpy(s->path, path);
	s->ctx = ctx;
	s->owner = geteuid();
	s->group = group;
	pthread_mutex_init(&s->exec_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	rc = listen_at(s, &sa, err, errlen);
	if (rc)
		goto err_close;
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
	pthread_mutex_destroy(&s->exec_lock);
	pthread_mutex_destroy(&s->lock);
err_free:
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	free(s);
	return rc;
}

void ctl_server_get_stats(struct ctl_server *s, struct ctl_server_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->stats;
	pthread_mutex_unlock(&s->lock);
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	if (write(s->wake[1], "x", 1) < 0) {
		/* cannot happen with an empty pipe; the join below would wait */
	}
	pthread_join(s->thread, NULL); /* it joins the client threads */
	close(s->lfd);
	unlink(s->path);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->exec_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
