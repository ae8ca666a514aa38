// SPDX-License-Identifier: MIT
/* Migration connections: the plain transport and the deadline (see conn.h). */
#include "conn.h"
#include "net.h"
#include "core/clock.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_CHUNK (256u << 10) /* writes re-check the deadline this often */

static ssize_t plain_read_some(struct mig_conn *c, void *buf, size_t len, int timeout_ms)
{
	return net_read_some(c->fd, buf, len, timeout_ms);
}

static int plain_write_full(struct mig_conn *c, const void *buf, size_t len, int timeout_ms)
{
	return net_write_full(c->fd, buf, len, timeout_ms);
}

static void plain_close(struct mig_conn *c)
{
	close(c->fd);
}

static const struct mig_conn_ops plain_ops = {
	.read_some = plain_read_some,
	.write_full = plain_write_full,
	.close = plain_close,
	.name = "tcp",
};

void mig_conn_plain(struct mig_conn *c, int fd)
{
	*c = (struct mig_conn){ .ops = &plain_ops, .fd = fd };
}

/* timeout_ms clamped to the deadline; -ETIMEDOUT once it has passed. */
static int clamp(const struct mig_conn *c, int timeout_ms)
{
	double left;

	if (!c->deadline)
		return timeout_ms;
	left = c->deadline - clock_now_ms();
	if (left <= 0)
		return -ETIMEDOUT;
	if (timeout_ms < 0 || left < timeout_ms)
		return (int)left + 1;
	return timeout_ms;
}

ssize_t mig_conn_read_some(struct mig_conn *c, void *buf, size_t len, int timeout_ms)
{
	int t = clamp(c, timeout_ms);

	if (t == -ETIMEDOUT)
		return t;
	return c->ops->read_some(c, buf, len, t);
}

int mig_conn_write_full(struct mig_conn *c, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	size_t n;
	int t, rc;

	if (!c->deadline)
		return c->ops->write_full(c, buf, len, timeout_ms);
	while (len) {
		t = clamp(c, timeout_ms);
		if (t == -ETIMEDOUT)
			return t;
		n = len < DEADLINE_CHUNK ? len : DEADLINE_CHUNK;
		rc = c->ops->write_full(c, p, n, t);
		if (rc)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

int mig_conn_read_full(struct mig_conn *c, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = mig_conn_read_some(c, p, len, timeout_ms);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void mig_conn_close(struct mig_conn *c)
{
	if (!c->ops || c->fd < 0)
		return;
	c->ops->close(c);
	c->fd = -1;
	c->priv = NULL;
}

const char *mig_conn_error(struct mig_conn *c)
{
	return c->ops && c->ops->last_error ? c->ops->last_error(c) : NULL;
}
