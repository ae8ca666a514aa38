// SPDX-License-Identifier: MIT
/* TCP transport helpers for migration (see net.h). */
#include "net.h"
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int net_parse_uri(const char *uri, struct net_addr *a, char *err, size_t errlen)
{
	const char *p, *colon, *hend;
	char *endp;
	size_t hlen;
	long port;

	memset(a, 0, sizeof(*a));
	if (!uri || (strncmp(uri, "tcp:", 4) != 0 && strncmp(uri, "tls:", 4) != 0))
		return net_fail(err, errlen, -EINVAL,
				"bad address '%s': expected tcp:HOST:PORT or tls:HOST:PORT",
				uri ? uri : "(null)");
	a->tls = uri[1] == 'l';
	p = uri + 4;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend || hend[1] != ':')
			return net_fail(err, errlen, -EINVAL,
					"bad address '%s': expected %.3s:[IPV6]:PORT", uri, uri);
		p++;
		hlen = (size_t)(hend - p);
		colon = hend + 1;
	} else {
		colon = strrchr(p, ':');
		if (!colon)
			return net_fail(err, errlen, -EINVAL,
					"bad address '%s': missing :PORT (expected %.3s:HOST:PORT)",
					uri, uri);
		hlen = (size_t)(colon - p);
		if (memchr(p, ':', hlen))
			return net_fail(err, errlen, -EINVAL,
					"bad address '%s': put an IPv6 host in brackets", uri);
	}
	if (hlen >= sizeof(a->host))
		return net_fail(err, errlen, -EINVAL, "bad address '%s': host name too long", uri);
	memcpy(a->host, p, hlen);
	a->host[hlen] = 0;
	errno = 0;
	port = strtol(colon + 1, &endp, 10);
	if (colon[1] == 0 || *endp || errno || port < 1 || port > 65535)
		return net_fail(err, errlen, -EINVAL,
				"bad address '%s': port '%s' is not a number in 1..65535", uri,
				colon + 1);
	snprintf(a->port, sizeof(a->port), "%ld", port);
	return 0;
}

static int resolve(const struct net_addr *a, int passive, struct addrinfo **res, char *err,
		   size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	int rc;

	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	rc = getaddrinfo(a->host[0] ? a->host : (passive ? NULL : "localhost"), a->port, &hints,
			 res);
	if (rc)
		return net_fail(err, errlen, -EHOSTUNREACH, "cannot resolve host '%s': %s", a->host,
				gai_strerror(rc));
	return 0;
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, flags, rc, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto err;
	}
	if (rc < 0) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		do
			rc = poll(&pfd, 1, timeout_ms);
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			rc = -ETIMEDOUT;
			goto err;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			rc = soerr ? -soerr : -errno;
			goto err;
		}
	}
	fcntl(fd, F_SETFL, flags);
	set_nodelay(fd);
	return fd;
err:
	close(fd);
	return rc;
}

int net_connect(const struct net_addr *a, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int rc, fd = -ECONNREFUSED;

	rc = resolve(a, 0, &res, err, errlen);
	if (rc)
		return rc;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return net_fail(err, errlen, fd, "cannot connect to %s port %s: %s",
				a->host[0] ? a->host : "localhost", a->port, strerror(-fd));
	return fd;
}

int net_listen(const struct net_addr *a, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int rc, fd = -EADDRNOTAVAIL, one = 1;

	rc = resolve(a, 1, &res, err, errlen);
	if (rc)
		return rc;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = rc;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return net_fail(err, errlen, fd, "cannot listen on %s port %s: %s",
				a->host[0] ? a->host : "*", a->port, strerror(-fd));
	return fd;
}

int net_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

int net_accept(int lfd, int timeout_ms, char *err, size_t errlen)
{
	int fd, rc;

	rc = net_wait(lfd, POLLIN, timeout_ms);
	if (rc)
		return net_fail(err, errlen, rc, "no incoming connection: %s", strerror(-rc));
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return net_fail(err, errlen, -errno, "accept failed: %s", strerror(errno));
	set_nodelay(fd);
	return fd;
}

void net_peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, len, "an unknown peer");
		return;
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

int net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

int net_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;
	ssize_t n;
	int rc;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = net_wait(fd, POLLOUT, timeout_ms);
			if (rc)
				return rc;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		return errno == ECONNRESET ? -EPIPE : -errno;
	}
	return 0;
}

ssize_t net_read_some(int fd, void *buf, size_t len, int timeout_ms)
{
	ssize_t n;
	int rc;

	for (;;) {
		if (timeout_ms >= 0) {
			rc = net_wait(fd, POLLIN, timeout_ms);
			if (rc)
				return rc;
		}
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (timeout_ms < 0)
				net_wait(fd, POLLIN, -1);
			continue;
		}
		return errno == ECONNRESET ? -EPIPE : -errno;
	}
}

int net_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct mig_conn c;

	mig_conn_plain(&c, fd);
	return mig_conn_read_full(&c, buf, len, timeout_ms);
}
