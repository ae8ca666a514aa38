// SPDX-License-Identifier: MIT
/* The control socket server and the `vessel ctl` client over a real UNIX socket. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "control/ctl.h"

static int quits;
static uint64_t last_gpa;

static int h_status(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	json_object_set_new(res, "state", json_string("running"));
	return 0;
}

static int h_quit(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	quits++;
	return 0;
}

static bool last_latent;

static int h_inject(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	last_gpa = ctl_arg_u64(a, "gpa");
	last_latent = ctl_arg_bool(a, "latent");
	if (ctl_arg_u64(a, "gpa") % 4096) {
		snprintf(err, errlen, "gpa %#llx is not page aligned",
			 (unsigned long long)ctl_arg_u64(a, "gpa"));
		return -EINVAL;
	}
	return 0;
}

static const struct ctl_command status_cmd = { "status", "test", {}, h_status };
CTL_COMMAND(status_cmd);
static const struct ctl_command quit_cmd = { "quit", "test", {}, h_quit };
CTL_COMMAND(quit_cmd);
static const struct ctl_command inject_ume_cmd = { "inject-ume",
						   "test",
						   { { "gpa", CTL_U64, true, NULL },
						     { "latent", CTL_BOOL, false, NULL } },
						   h_inject };
CTL_COMMAND(inject_ume_cmd);
/* pause: blocks until released (a long handler, like a real pause or migrate) */
static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t block_cond = PTHREAD_COND_INITIALIZER;
static bool block_entered, block_release;

static int h_block(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	pthread_mutex_lock(&block_lock);
	block_entered = true;
	pthread_cond_broadcast(&block_cond);
	while (!block_release)
		pthread_cond_wait(&block_cond, &block_lock);
	pthread_mutex_unlock(&block_lock);
	return 0;
}

static const struct ctl_command pause_cmd = { "pause", "test", {}, h_block };
CTL_COMMAND(pause_cmd);

static char path[128];

static void init_path(void)
{
	snprintf(path, sizeof(path), "/tmp/vessel-ctl-test-%d.sock", getpid());
}

static int setup(void **state)
{
	struct ctl_server *s;
	char err[256];

	init_path();
	if (ctl_server_start(path, CTL_NO_GROUP, NULL, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	ctl_server_stop(*state);
	return 0;
}

static void test_request_reply(void **state)
{
	char err[256], *reply;

	assert_int_equal(
		ctl_request(path, "{\"command\":\"status\"}", &reply, 2000, err, sizeof(err)), 0);
	assert_string_equal(reply, "{\"ok\":true,\"result\":{\"state\":\"running\"}}");
	free(reply);
	assert_int_equal(ctl_request(path, "not json", &reply, 2000, err, sizeof(err)), 0);
	assert_non_null(strstr(reply, "\"ok\":false"));
	free(reply);
	assert_int_equal(
		ctl_request(path, "{\"command\":\"quit\"}", &reply, 2000, err, sizeof(err)), 0);
	free(reply);
	assert_int_equal(quits, 1);
}

/* Several requests on one connection; an over-long line gets an error and
 * the server keeps serving other clients. */
static void test_pipelined_and_abuse(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096], err[256], *reply;
	size_t len = 0, big = CTL_MAX_REQUEST + 100;
	char *junk = malloc(big);
	int fd, lines = 0;
	ssize_t n;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *two = "{\"command\":\"status\"}\n{\"command\":\"nope\"}\n";
	assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
	while (lines < 2 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = 0;
		lines = 0;
		for (char *p = buf; (p = strchr(p, '\n')); p++)
			lines++;
	}
	assert_int_equal(lines, 2);
	assert_non_null(strstr(buf, "unknown command 'nope'"));
	/* over-long line without newline */
	memset(junk, 'x', big);
	signal(SIGPIPE, SIG_IGN);
	n = send(fd, junk, big, MSG_NOSIGNAL);
	len = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	assert_non_null(strstr(buf, "too long"));
	close(fd);
	free(junk);
	/* a client that connects and says nothing does not block others for long,
	 * and a client that disconnects mid-line is harmless */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "{\"comm", 6), 6);
	close(fd);
	assert_int_equal(
		ctl_request(path, "{\"command\":\"status\"}", &reply, 5000, err, sizeof(err)), 0);
	free(reply);
}

static void *stop_thread(void *arg)
{
	ctl_server_stop(arg);
	return NULL;
}

/*
 * A client that sends requests but never reads the replies: once the socket
 * buffers are full the server cannot send. It must give that client up
 * within its timeout, serve the next client, and stop promptly; before, it
 * blocked in send() for good and ctl_server_stop() (the VMM's exit path)
 * hung in pthread_join().
 */
static void test_client_not_reading(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *req = "{\"command\":\"status\"}\n";
	char err[256], *reply;
	struct timespec deadline;
	pthread_t t;
	int fd, rc;
	time_t t0;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* keep writing until the server stops reading for 1 s: it is stuck sending */
	t0 = time(NULL);
	while (time(NULL) - t0 < 30) {
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
			assert_true(errno == EAGAIN);
			usleep(1000 * 1000);
			if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
				break;
		}
	}
	/* another client is served once the server gave the first one up */
	rc = ctl_request(path, "{\"command\":\"status\"}", &reply, 8000, err, sizeof(err));
	close(fd); /* (lets a stuck server go, so a failure here does not hang) */
	assert_int_equal(rc, 0);
	free(reply);
	/* a second stuck client, then stop the server: it must not hang */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (send(fd, req, strlen(req), MSG_NOSIGNAL) > 0)
		;
	usleep(200 * 1000);
	assert_int_equal(pthread_create(&t, NULL, stop_thread, *state), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	rc = pthread_timedjoin_np(t, NULL, &deadline);
	close(fd);
	if (rc)
		pthread_join(t, NULL); /* closing the client lets it go */
	assert_int_equal(rc, 0);
	*state = NULL; /* stopped already */
}

static int connect_to(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, p);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Whether the server has closed fd (EOF, perhaps after a parting error line). */
static bool closed_by_server(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	while (poll(&pfd, 1, 0) == 1) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return n == 0 || errno != EAGAIN;
	}
	return false;
}

struct trickle {
	int fd;
	unsigned sent;
	bool dropped; /* the server closed the connection */
};

/* A slowloris: one byte of a never-ending request line every 200 ms, for
 * up to 60 s, until the server drops it. */
static void *trickle_thread(void *arg)
{
	struct trickle *t = arg;
	const char *head = "{\"command\":\"status\",\"pad\":\"";

	for (t->sent = 0; t->sent < 300; t->sent++) {
		char b = t->sent < strlen(head) ? head[t->sent] : 'a';

		if (send(t->fd, &b, 1, MSG_NOSIGNAL) != 1 || closed_by_server(t->fd)) {
			__atomic_store_n(&t->dropped, true, __ATOMIC_RELEASE);
			break;
		}
		usleep(200 * 1000);
	}
	return NULL;
}

/*
 * A client that connects and sends nothing, and one that sends a byte at a
 * time, do not hold up a third client's status: it is answered while both
 * are still connected (before, the single server thread served one client
 * at a time, and the trickling one reset its idle timer with every byte,
 * so the status waited for good). The trickler is then dropped after a
 * fixed time, long before its line could complete.
 */
static void test_slow_clients_do_not_block(void **state)
{
	struct trickle t = { 0 };
	struct ctl_server_stats st;
	char err[256], *reply;
	bool silent_closed, trickler_dropped;
	pthread_t th;
	int silent, rc;

	silent = connect_to(path);
	t.fd = connect_to(path);
	assert_int_equal(pthread_create(&th, NULL, trickle_thread, &t), 0);
	while (__atomic_load_n(&t.sent, __ATOMIC_RELAXED) < 3)
		usleep(10 * 1000);
	rc = ctl_request(path, "{\"command\":\"status\"}", &reply, 2000, err, sizeof(err));
	silent_closed = closed_by_server(silent);
	trickler_dropped = __atomic_load_n(&t.dropped, __ATOMIC_ACQUIRE);
	if (rc) {
		fprintf(stderr, "# %s\n", err);
		shutdown(t.fd, SHUT_RDWR); /* end the trickler before failing */
	}
	pthread_join(th, NULL);
	assert_int_equal(rc, 0);
	free(reply);
	assert_false(silent_closed);
	assert_false(trickler_dropped);
	assert_true(t.dropped);
	assert_true(t.sent < 300);
	/* the silent one is dropped too (within 10 s here; 3 s in the server) */
	for (int i = 0; i < 200 && !silent_closed; i++) {
		usleep(50 * 1000);
		silent_closed = closed_by_server(silent);
	}
	close(silent);
	assert_true(silent_closed);
	close(t.fd);
	ctl_server_get_stats(*state, &st);
	assert_int_equal(st.timed_out, 2);
}

static void *pause_request(void *arg)
{
	char err[256], *reply = NULL;

	if (ctl_request(path, "{\"command\":\"pause\"}", &reply, 30000, err, sizeof(err)) == 0 &&
	    strstr(reply, "\"ok\":true"))
		*(bool *)arg = true;
	free(reply);
	return NULL;
}

/*
 * A request waits behind a long handler; its client gives up (closes)
 * meanwhile: the request must not run when its turn comes (before, a quit
 * sent 35 s earlier by a client long gone stopped the VM).
 */
static void test_gone_client_not_executed(void **state)
{
	const char *quit = "{\"command\":\"quit\"}\n";
	struct ctl_server_stats st;
	char err[256], *reply;
	bool paused = false;
	pthread_t th;
	int fd, i;

	quits = 0;
	block_entered = block_release = false;
	assert_int_equal(pthread_create(&th, NULL, pause_request, &paused), 0);
	pthread_mutex_lock(&block_lock);
	while (!block_entered)
		pthread_cond_wait(&block_cond, &block_lock);
	pthread_mutex_unlock(&block_lock);

	fd = connect_to(path);
	assert_int_equal(send(fd, quit, strlen(quit), MSG_NOSIGNAL), (ssize_t)strlen(quit));
	close(fd);

	pthread_mutex_lock(&block_lock);
	block_release = true;
	pthread_cond_broadcast(&block_cond);
	pthread_mutex_unlock(&block_lock);
	pthread_join(th, NULL);
	assert_true(paused);
	/* a later client is served (the old server ran the quit first) */
	assert_int_equal(
		ctl_request(path, "{\"command\":\"status\"}", &reply, 5000, err, sizeof(err)), 0);
	free(reply);
	assert_int_equal(quits, 0);
	for (i = 0; i < 1000; i++) {
		ctl_server_get_stats(*state, &st);
		if (st.dropped_gone)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(st.dropped_gone, 1);
	assert_int_equal(quits, 0);
}

/* A client that shut down only its sending side (echo REQ | socat) still
 * gets its reply: it has not gone. */
static void test_half_closed_client_answered(void **state)
{
	const char *req = "{\"command\":\"quit\"}\n";
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int fd;

	quits = 0;
	fd = connect_to(path);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
	assert_string_equal(buf, "{\"ok\":true,\"result\":{}}\n");
	assert_int_equal(quits, 1);
}

/* Over CTL_MAX_CLIENTS connections at once: the next one gets an error line. */
static void test_too_many_clients(void **state)
{
	int fds[CTL_MAX_CLIENTS], fd, i;
	char buf[256];
	ssize_t n;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		fds[i] = connect_to(path);
	fd = connect_to(path);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "too many control clients"));
	close(fd);
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
}

#define NOBODY	   65534u
#define TEST_GROUP 4242u /* need not exist: a numeric gid is enough */

/*
 * In a child running as uid NOBODY, gid `gid`, supplementary groups
 * `groups`: connect to p, send a status request and read the reply into
 * buf. Returns 0, or the child's connect errno (EACCES: the file mode said
 * no), or -1 if the child could not become that user.
 */
static int status_as(const char *p, gid_t gid, const gid_t *groups, size_t ngroups, char *buf,
		     size_t cap)
{
	const char *req = "{\"command\":\"status\"}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pfd[2], status, fd;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	strcpy(sa.sun_path, p);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		if (setgroups(ngroups, groups) || setgid(gid) || setuid(NOBODY))
			_exit(255);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(errno);
		/* a refused client may be closed before it sends: read anyway */
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE)
			_exit(254);
		/* one reply line (then the server would wait for another request) */
		while (len < cap && (n = read(fd, buf + len, cap - len)) > 0) {
			len += (size_t)n;
			if (memchr(buf, '\n', len))
				break;
		}
		if (write(pfd[1], buf, len) != (ssize_t)len)
			_exit(253);
		_exit(0);
	}
	close(pfd[1]);
	while (len < cap - 1 && (n = read(pfd[0], buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

static mode_t mode_of(const char *p, gid_t *gid)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	if (gid)
		*gid = st.st_gid;
	return st.st_mode & 07777;
}

/* The socket is 0600 even under umask 000 (before: srwxrwxrwx, anyone could
 * quit or migrate the VM), and 0600 under a umask that takes the owner's
 * own bits away. */
static void test_socket_owner_only(void **state)
{
	static const mode_t masks[] = { 0, 022, 0277 };
	struct ctl_server *s;
	char err[256];

	init_path();
	for (unsigned i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);
		int rc = ctl_server_start(path, CTL_NO_GROUP, NULL, &s, err, sizeof(err));
		mode_t mode;

		umask(old);
		assert_int_equal(rc, 0);
		mode = mode_of(path, NULL);
		ctl_server_stop(s);
		assert_int_equal(mode, 0600);
	}
}

/*
 * Another user is refused: by the file mode, and by its credentials even
 * when the socket was made world-writable by hand.
 */
static void test_other_user_refused(void **state)
{
	struct ctl_server_stats st;
	char buf[512], err[256], *reply;

	if (geteuid() != 0)
		skip(); /* needs to become another user */
	quits = 0;
	assert_int_equal(status_as(path, NOBODY, NULL, 0, buf, sizeof(buf)), EACCES);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(status_as(path, NOBODY, NULL, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"permission denied: uid 65534 is not "
				 "the VM's owner\"}\n");
	ctl_server_get_stats(*state, &st);
	assert_int_equal(st.refused_perm, 1);
	assert_int_equal(st.executed, 0);
	/* the owner (root here) still is served */
	assert_int_equal(
		ctl_request(path, "{\"command\":\"status\"}", &reply, 5000, err, sizeof(err)), 0);
	free(reply);
}

/* --control-group: the socket is 0660 with the group; a member (primary or
 * supplementary group) is admitted, anyone else refused. */
static void test_group_member_admitted(void **state)
{
	const gid_t member[] = { 100, TEST_GROUP };
	const char *ok = "{\"ok\":true,\"result\":{\"state\":\"running\"}}\n";
	struct ctl_server *s;
	char buf[512], err[256];
	gid_t gid;

	if (geteuid() != 0)
		skip();
	ctl_server_stop(*state); /* this one serves the owner only */
	*state = NULL;
	assert_int_equal(ctl_server_start(path, TEST_GROUP, NULL, &s, err, sizeof(err)), 0);
	*state = s;
	assert_int_equal(mode_of(path, &gid), 0660);
	assert_int_equal(gid, TEST_GROUP);
	assert_int_equal(status_as(path, NOBODY, member, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, ok);
	assert_int_equal(status_as(path, TEST_GROUP, NULL, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, ok);
	assert_int_equal(status_as(path, NOBODY, member, 1, buf, sizeof(buf)), EACCES);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(status_as(path, NOBODY, member, 1, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "permission denied: uid 65534 is not the VM's owner nor in "
				    "group 4242"));
}

static void test_group_parse(void **state)
{
	char err[256];
	gid_t g;

	assert_int_equal(ctl_group_parse("root", &g, err, sizeof(err)), 0);
	assert_int_equal(g, 0);
	assert_int_equal(ctl_group_parse("4242", &g, err, sizeof(err)), 0);
	assert_int_equal(g, 4242);
	assert_int_equal(ctl_group_parse("no-such-group-here", &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'no-such-group-here': no such group"));
	assert_int_equal(ctl_group_parse("", &g, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_group_parse("-1", &g, err, sizeof(err)), -EINVAL);
}

/* A server that refuses: accepts, says why, closes without reading. */
static void *refusing_server(void *arg)
{
	const char *why = "{\"ok\":false,\"error\":\"permission denied: test\"}\n";
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);

	if (fd >= 0) {
		if (write(fd, why, strlen(why)) < 0) {
			/* the client will report no reply */
		}
		close(fd);
	}
	return NULL;
}

/*
 * The client reads the refusal even when the server closed before the
 * request was sent whole (a request larger than the socket buffer: send()
 * fails with EPIPE); before, it reported "closed while sending".
 */
static void test_client_reads_refusal(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t big = 1 << 20;
	char p[128], err[256], *reply = NULL, *req = malloc(big + 1);
	pthread_t t;
	int lfd, rc;

	snprintf(p, sizeof(p), "/tmp/vessel-ctl-refuse-%d.sock", getpid());
	strcpy(sa.sun_path, p);
	unlink(p);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, refusing_server, &lfd), 0);
	memset(req, ' ', big);
	req[big] = 0;
	rc = ctl_request(p, req, &reply, 5000, err, sizeof(err));
	pthread_join(t, NULL);
	close(lfd);
	unlink(p);
	free(req);
	if (rc)
		fprintf(stderr, "# %s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(reply, "{\"ok\":false,\"error\":\"permission denied: test\"}");
	free(reply);
}

/* The `vessel ctl` front end: exit status and argument checks. */
static void test_client_main(void **state)
{
	char *a1[] = { "ctl", path, "status", NULL };
	char *a2[] = { "ctl", path, "inject-ume", "0x5000", NULL };
	char *a3[] = { "ctl", path, "inject-ume", "0x5001", NULL };
	char *a4[] = { "ctl", path, "inject-ume", "banana", NULL };
	char *a5[] = { "ctl", path, "migrate", NULL };
	char *a6[] = { "ctl", path, "--json", "{\"command\":\"stats\"}", NULL };
	char *a7[] = { "ctl", "/nonexistent/sock", "status", NULL };
	char *a8[] = { "ctl", path, NULL };
	/* requests are lines: pretty-printed JSON is sent compact, broken JSON
	 * over several lines is refused before sending */
	char *a9[] = { "ctl", path, "--json", "{\n  \"command\": \"status\"\n}", NULL };
	char *a10[] = { "ctl", path, "--json", "{\"command\":\n", NULL };
	int devnull = open("/dev/null", O_WRONLY), out = dup(1), errfd = dup(2);

	/* keep the client's printing out of the TAP stream */
	dup2(devnull, 1);
	dup2(devnull, 2);
	int r1 = ctl_client_main(3, a1), r2 = ctl_client_main(4, a2), r3 = ctl_client_main(4, a3);
	int r4 = ctl_client_main(4, a4), r5 = ctl_client_main(3, a5), r6 = ctl_client_main(4, a6);
	int r7 = ctl_client_main(3, a7), r8 = ctl_client_main(2, a8);
	int r9 = ctl_client_main(4, a9), r10 = ctl_client_main(4, a10);
	fflush(stdout);
	dup2(out, 1);
	dup2(errfd, 2);
	assert_int_equal(r1, 0);
	assert_int_equal(r2, 0);
	assert_int_equal(last_gpa, 0x5001);
	assert_int_equal(r3, 1);
	assert_int_equal(r4, 2);
	assert_int_equal(r5, 2);
	assert_int_equal(r6, 1); /* stats has no handler here: error reply */
	assert_int_equal(r7, 1);
	assert_int_equal(r8, 2);
	assert_int_equal(r9, 0);
	assert_int_equal(r10, 2);
	close(devnull);
}

/* Fields named on the command line: --FLAG, --NAME VALUE, --NAME=VALUE. */
static void test_client_named_fields(void **state)
{
	char *a1[] = { "ctl", path, "inject-ume", "--latent", "0x6000", NULL };
	char *a2[] = { "ctl", path, "inject-ume", "--gpa=0x7000", NULL };
	char *a3[] = { "ctl", path, "inject-ume", "--gpa", "0x8000", "latent", NULL };
	char *a4[] = { "ctl", path, "inject-ume", "--nope", "0x1000", NULL };
	char *a5[] = { "ctl", path, "inject-ume", "0x1000", "--gpa", NULL };
	char *a6[] = { "ctl", path, "inject-ume", "0x1000", "--latent=1", NULL };
	char *a7[] = { "ctl", path, "inject-ume", "--gpa", "0x2000", "0x3000", NULL };
	int devnull = open("/dev/null", O_WRONLY), out = dup(1), errfd = dup(2), r[8];
	uint64_t gpa[4];
	bool lat[4];

	dup2(devnull, 1);
	dup2(devnull, 2);
	r[1] = ctl_client_main(5, a1);
	gpa[1] = last_gpa, lat[1] = last_latent;
	r[2] = ctl_client_main(4, a2);
	gpa[2] = last_gpa, lat[2] = last_latent;
	r[3] = ctl_client_main(6, a3);
	gpa[3] = last_gpa, lat[3] = last_latent;
	r[4] = ctl_client_main(5, a4);
	r[5] = ctl_client_main(5, a5);
	r[6] = ctl_client_main(5, a6);
	r[7] = ctl_client_main(6, a7);
	fflush(stdout);
	dup2(out, 1);
	dup2(errfd, 2);
	assert_int_equal(r[1], 0);
	assert_int_equal(r[2], 0);
	assert_int_equal(r[3], 0);
	assert_int_equal(gpa[1], 0x6000);
	assert_true(lat[1]);
	assert_int_equal(gpa[2], 0x7000);
	assert_false(lat[2]);
	assert_int_equal(gpa[3], 0x8000);
	assert_true(lat[3]);
	assert_int_equal(r[4], 2); /* no such field */
	assert_int_equal(r[5], 2); /* no value */
	assert_int_equal(r[6], 2); /* a flag takes none */
	assert_int_equal(r[7], 2); /* gpa twice: the positional one has no field left */
	close(devnull);
}

/*
 * A socket another VMM still serves is not taken over (its VM would become
 * unreachable); a stale one (nobody listening) is replaced.
 */
static void test_socket_in_use(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char p[128], err[256], *reply;
	struct ctl_server *s;
	int fd;

	assert_int_equal(ctl_server_start(path, CTL_NO_GROUP, NULL, &s, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(
		ctl_request(path, "{\"command\":\"status\"}", &reply, 5000, err, sizeof(err)), 0);
	free(reply);

	snprintf(p, sizeof(p), "/tmp/vessel-ctl-stale-%d.sock", getpid());
	strcpy(sa.sun_path, p);
	unlink(p);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* the file stays, nobody listens */
	assert_int_equal(ctl_server_start(p, CTL_NO_GROUP, NULL, &s, err, sizeof(err)), 0);
	ctl_server_stop(s);
}

/* A path that is a regular file is not clobbered. */
static void test_refuses_regular_file(void **state)
{
	char p[128], err[256];
	struct ctl_server *s;
	int fd;

	snprintf(p, sizeof(p), "/tmp/vessel-ctl-file-%d", getpid());
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(ctl_server_start(p, CTL_NO_GROUP, NULL, &s, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_abuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_main, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_named_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_not_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_clients_do_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_client_not_executed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_closed_client_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test(test_socket_owner_only),
		cmocka_unit_test_setup_teardown(test_other_user_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_member_admitted, setup, teardown),
		cmocka_unit_test(test_group_parse),
		cmocka_unit_test(test_client_reads_refusal),
		cmocka_unit_test(test_refuses_regular_file),
		cmocka_unit_test_setup_teardown(test_socket_in_use, setup, teardown),
	};

	return cmocka_run_group_tests_name("ctl_server", tests, NULL, NULL);
}
