// SPDX-License-Identifier: MIT
/*
 * The source's return channel (see sender.h): one thread reads what the
 * destination sends on the migration connection (SYNC, REQUEST, ACK) while
 * the sender thread writes; the sender waits on it or polls its queue of
 * page requests.
 */
#include "migrate/live/sender.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void *retpath_thread(void *arg)
{
	struct retpath *rp = arg;
	struct mig_reader r;
	struct mig_record rec;
	int rc;

	pthread_setname_np(pthread_self(), "mig-return");
	rc = mig_reader_init_conn(&r, &rp->conn, -1);
	while (!rc) {
		rc = mig_read_record(&r, &rec);
		if (rc)
			break;
		pthread_mutex_lock(&rp->lock);
		switch (rec.type) {
		case MIG_REC_SYNC:
			rp->synced_pass = rec.u.sync.pass;
			break;
		case MIG_REC_ACK:
			rp->acks++;
			rp->ack_code = rec.u.msg.code;
			snprintf(rp->ack_text, sizeof(rp->ack_text), "%s", rec.u.msg.text);
			break;
		case MIG_REC_REQUEST:
			rp->requests++;
			if (rp->qlen == RETPATH_QUEUE) { /* full: forget the oldest */
				rp->qhead = (rp->qhead + 1) % RETPATH_QUEUE;
				rp->qlen--;
			}
			rp->q[(rp->qhead + rp->qlen) % RETPATH_QUEUE].gpa = rec.u.request.gpa;
			rp->q[(rp->qhead + rp->qlen) % RETPATH_QUEUE].npages = rec.u.request.npages;
			rp->qlen++;
			break;
		default:
			rc = -EPROTO;
			snprintf(r.err, sizeof(r.err), "the destination sent a %s record",
				 mig_rec_type_name(rec.type));
			break;
		}
		pthread_cond_broadcast(&rp->cond);
		pthread_mutex_unlock(&rp->lock);
	}
	pthread_mutex_lock(&rp->lock);
	rp->rc = rc ? rc : -EPIPE;
	snprintf(rp->err, sizeof(rp->err), "%s",
		 rc == -ENOMEM ? "out of memory" :
		 rc == -EPIPE  ? "the connection to the destination was closed" :
				 r.err);
	pthread_cond_broadcast(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
	mig_reader_free(&r);
	return NULL;
}

int retpath_start(struct retpath *rp, const struct mig_conn *c, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_init(&rp->lock, NULL);
	pthread_cond_init(&rp->cond, NULL);
	rp->conn = *c;
	rc = -pthread_create(&rp->thread, NULL, retpath_thread, rp);
	if (rc) {
		snprintf(err, errlen, "cannot start the return channel's thread: %s",
			 strerror(-rc));
		pthread_cond_destroy(&rp->cond);
		pthread_mutex_destroy(&rp->lock);
		return rc;
	}
	rp->alive = true;
	return 0;
}

void retpath_stop(struct retpath *rp)
{
	if (!rp->alive)
		return;
	pthread_join(rp->thread, NULL);
	pthread_cond_destroy(&rp->cond);
	pthread_mutex_destroy(&rp->lock);
	rp->alive = false;
}

/* an absolute CLOCK_REALTIME time ms from now, for pthread_cond_timedwait */
static struct timespec deadline_in(double ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1e3);
	ts.tv_nsec += (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Wait (lock held) until done(rp, arg) or the channel ends or timeout_ms pass. */
static int wait_for(struct retpath *rp, bool (*done)(struct retpath *, unsigned), unsigned arg,
		    int timeout_ms)
{
	struct timespec dl = deadline_in(timeout_ms);

	while (!done(rp, arg) && !rp->rc)
		if (pthread_cond_timedwait(&rp->cond, &rp->lock, &dl) == ETIMEDOUT)
			return done(rp, arg) ? 0 : -ETIMEDOUT;
	return done(rp, arg) ? 0 : rp->rc;
}

static bool synced(struct retpath *rp, unsigned pass)
{
	return rp->synced_pass >= pass;
}

static bool acked(struct retpath *rp, unsigned n)
{
	return rp->acks >= n;
}

int retpath_wait_sync(struct retpath *rp, uint32_t pass, int timeout_ms, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&rp->lock);
	rc = wait_for(rp, synced, pass, timeout_ms);
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen,
			 "the destination did not take in pass %u within %d ms (it has pass %u)",
			 pass, timeout_ms, rp->synced_pass);
	else if (rc)
		snprintf(err, errlen, "the destination closed the connection: %s", rp->err);
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

int retpath_wait_ack(struct retpath *rp, unsigned n, int timeout_ms, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&rp->lock);
	rc = wait_for(rp, acked, n, timeout_ms);
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "no acknowledgement from the destination within %d ms",
			 timeout_ms);
	else if (rc)
		snprintf(err, errlen, "no acknowledgement from the destination: %s", rp->err);
	else if (rp->ack_code != 0)
		rc = -ECANCELED,
		snprintf(err, errlen, "the destination refused the VM: %s", rp->ack_text);
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

bool retpath_pop(struct retpath *rp, uint64_t *gpa, uint32_t *npages)
{
	bool got = false;

	pthread_mutex_lock(&rp->lock);
	if (rp->qlen) {
		*gpa = rp->q[rp->qhead].gpa;
		*npages = rp->q[rp->qhead].npages;
		rp->qhead = (rp->qhead + 1) % RETPATH_QUEUE;
		rp->qlen--;
		got = true;
	}
	pthread_mutex_unlock(&rp->lock);
	return got;
}

static bool has_request(struct retpath *rp, unsigned unused)
{
	return rp->qlen > 0;
}

void retpath_idle(struct retpath *rp, double ms)
{
	if (ms <= 0)
		return;
	pthread_mutex_lock(&rp->lock);
	wait_for(rp, has_request, 0, (int)ms + 1);
	pthread_mutex_unlock(&rp->lock);
}

int retpath_failed(struct retpath *rp, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&rp->lock);
	rc = rp->rc;
	if (rc)
		snprintf(err, errlen, "%s", rp->err);
	pthread_mutex_unlock(&rp->lock);
	return rc;
}
