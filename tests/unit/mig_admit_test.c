// SPDX-License-Identifier: MIT
/*
 * Unit tests of the destination's listener (admit.h) over real loopback
 * sockets: stray connections (silent, garbage, not TLS, refused TLS, too
 * many) are turned away while a real source gets in; the handshake deadline
 * closes a silent one; the overall deadline ends the wait. TLS credentials
 * come from $VESSEL_TEST_TLS_CREDS (tests/migrate/tls-creds.sh).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrate/admit.h"
#include "migrate/net.h"
#include "migrate/tls.h"

static const char *creds_root;

/* a valid preamble of this build's stream version, and one with 4 bytes after it */
static uint8_t good_pre[MIG_PREAMBLE_LEN], pre_more[MIG_PREAMBLE_LEN + 4];

static void make_preambles(void)
{
	uint32_t v = MIG_VERSION; /* le32 on x86-64; flags 0 */

	memcpy(good_pre, MIG_MAGIC, 8);
	memcpy(good_pre + 8, &v, 4);
	memcpy(pre_more, good_pre, MIG_PREAMBLE_LEN);
	memcpy(pre_more + MIG_PREAMBLE_LEN, "more", 4);
}

/* Every line the listener logs, one after the other. */
struct logbook {
	pthread_mutex_t lock;
	char text[8192];
};

static void log_line(void *ctx, const char *line)
{
	struct logbook *b = ctx;

	pthread_mutex_lock(&b->lock);
	strncat(b->text, line, sizeof(b->text) - strlen(b->text) - 2);
	strcat(b->text, "\n");
	pthread_mutex_unlock(&b->lock);
}

static bool logged(struct logbook *b, const char *what)
{
	bool found;

	pthread_mutex_lock(&b->lock);
	found = strstr(b->text, what) != NULL;
	pthread_mutex_unlock(&b->lock);
	return found;
}

struct lsn {
	int lfd;
	struct net_addr a;
	struct mig_admit_opts o;
	struct mig_tls_creds *tls;
	struct logbook log;
	/* mig_admit() on a thread */
	pthread_t t;
	int rc;
	struct mig_conn c;
	uint8_t pre[MIG_PREAMBLE_LEN];
	char err[256];
};

static void lsn_init(struct lsn *l, const char *tls_dir, int handshake_ms, int timeout_ms)
{
	char err[512];

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->log.lock, NULL);
	assert_int_equal(net_parse_uri("tcp:127.0.0.1:1", &l->a, err, sizeof(err)), 0);
	strcpy(l->a.port, "0");
	l->lfd = net_listen(&l->a, err, sizeof(err));
	assert_true(l->lfd >= 0);
	snprintf(l->a.port, sizeof(l->a.port), "%d", net_local_port(l->lfd));
	if (tls_dir) {
		char dir[512];

		snprintf(dir, sizeof(dir), "%s/%s", creds_root, tls_dir);
		assert_int_equal(mig_tls_creds_load(dir, MIG_TLS_SERVER, &l->tls, err, sizeof(err)),
				 0);
	}
	l->o = (struct mig_admit_opts){ .tls = l->tls,
					.handshake_ms = handshake_ms,
					.deadline = timeout_ms ? clock_now_ms() + timeout_ms : 0,
					.log = log_line,
					.log_ctx = &l->log };
}

static void *admit_thread(void *arg)
{
	struct lsn *l = arg;

	l->rc = mig_admit(l->lfd, &l->o, &l->c, l->pre, l->err, sizeof(l->err));
	return NULL;
}

static void lsn_start(struct lsn *l)
{
	assert_int_equal(pthread_create(&l->t, NULL, admit_thread, l), 0);
}

static void lsn_finish(struct lsn *l)
{
	mig_conn_close(&l->c);
	close(l->lfd);
	mig_tls_creds_free(l->tls);
}

/* A peer: connect, maybe TLS with creds dir, send bytes, then wait. */
struct peer {
	const struct net_addr *a;
	const char *tls_dir; /* NULL: plain TCP */
	const void *send;
	size_t len;
	pthread_t t;
	int fd;
	int rc; /* of the TLS handshake */
	char err[256];
	struct mig_conn c;
	struct mig_tls_creds *cr;
};

static void *peer_thread(void *arg)
{
	struct peer *p = arg;
	char dir[512];
	int fd;

	fd = net_connect(p->a, 5000, p->err, sizeof(p->err));
	assert_true(fd >= 0);
	if (!p->tls_dir) {
		mig_conn_plain(&p->c, fd);
	} else {
		snprintf(dir, sizeof(dir), "%s/%s", creds_root, p->tls_dir);
		assert_int_equal(
			mig_tls_creds_load(dir, MIG_TLS_CLIENT, &p->cr, p->err, sizeof(p->err)), 0);
		assert_int_equal(
			mig_tls_open(p->cr, fd, "127.0.0.1", &p->c, p->err, sizeof(p->err)), 0);
		p->rc = mig_tls_handshake(&p->c, 5000, p->err, sizeof(p->err));
		if (p->rc)
			return NULL;
	}
	if (p->len)
		mig_conn_write_full(&p->c, p->send, p->len, 5000);
	return NULL;
}

static void peer_start(struct peer *p, const struct net_addr *a, const char *tls_dir,
		       const void *send, size_t len)
{
	*p = (struct peer){ .a = a, .tls_dir = tls_dir, .send = send, .len = len };
	assert_int_equal(pthread_create(&p->t, NULL, peer_thread, p), 0);
}

/* Has the listener closed the peer's connection? (waits up to 5 s; what
 * comes before the end, e.g. a TLS alert to a plain peer, is skipped) */
static bool peer_closed(struct peer *p)
{
	char b[64];
	ssize_t n;

	pthread_join(p->t, NULL);
	if (p->rc)
		return true; /* the handshake was refused */
	do
		n = mig_conn_read_some(&p->c, b, sizeof(b), 5000);
	while (n > 0);
	return n == 0 || n == -EPIPE || n == -EACCES;
}

static void peer_free(struct peer *p)
{
	mig_conn_close(&p->c);
	mig_tls_creds_free(p->cr);
}

/* A silent connection and one sending garbage do not keep the source out. */
static void test_plain_strays_then_source(void **state)
{
	struct lsn l;
	struct peer silent, garbage, real;
	char more[8];

	lsn_init(&l, NULL, 10000, 60000); /* a refused real source: -ETIMEDOUT, no hang */
	lsn_start(&l);
	peer_start(&silent, &l.a, NULL, NULL, 0);
	pthread_join(silent.t, NULL);
	peer_start(&garbage, &l.a, NULL, "GET / HTTP/1.0\r\n\r\n", 18);
	pthread_join(garbage.t, NULL);
	peer_start(&real, &l.a, NULL, pre_more, sizeof(pre_more));
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, 0);
	assert_memory_equal(l.pre, good_pre, MIG_PREAMBLE_LEN);
	/* the bytes after the preamble are the admitted connection's */
	assert_int_equal(mig_conn_read_full(&l.c, more, 4, 5000), 0);
	assert_memory_equal(more, "more", 4);
	assert_string_equal(l.c.ops->name, "tcp");
	assert_true(peer_closed(&garbage));
	assert_true(peer_closed(&silent));
	assert_true(logged(&l.log, "not a Vessel migration stream (bad magic)"));
	assert_true(logged(&l.log, "another source was admitted first"));
	pthread_join(real.t, NULL);
	peer_free(&silent);
	peer_free(&garbage);
	peer_free(&real);
	lsn_finish(&l);
}

/* A connection that stays silent is closed at its handshake deadline. */
static void test_handshake_deadline(void **state)
{
	struct lsn l;
	struct peer silent, partial, real;

	lsn_init(&l, NULL, 100, 0);
	lsn_start(&l);
	peer_start(&silent, &l.a, NULL, NULL, 0);
	peer_start(&partial, &l.a, NULL, "VESSL", 5);
	assert_true(peer_closed(&silent));
	assert_true(peer_closed(&partial));
	assert_true(logged(&l.log, "no migration stream within 100 ms (0 of 16 preamble bytes)"));
	assert_true(logged(&l.log, "no migration stream within 100 ms (5 of 16 preamble bytes)"));
	peer_start(&real, &l.a, NULL, good_pre, sizeof(good_pre));
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, 0);
	pthread_join(real.t, NULL);
	peer_free(&silent);
	peer_free(&partial);
	peer_free(&real);
	lsn_finish(&l);
}

/* More silent connections than slots: the oldest go, the source gets in. */
static void test_too_many_strays(void **state)
{
	struct lsn l;
	struct peer silent[MIG_ADMIT_PENDING + 4], real;

	lsn_init(&l, NULL, 10000, 60000);
	lsn_start(&l);
	for (unsigned i = 0; i < MIG_ADMIT_PENDING + 4; i++) {
		peer_start(&silent[i], &l.a, NULL, NULL, 0);
		pthread_join(silent[i].t, NULL);
	}
	peer_start(&real, &l.a, NULL, good_pre, sizeof(good_pre));
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, 0);
	assert_true(logged(&l.log, "too many connections waiting to prove themselves"));
	for (unsigned i = 0; i < MIG_ADMIT_PENDING + 4; i++) {
		assert_true(peer_closed(&silent[i]));
		peer_free(&silent[i]);
	}
	pthread_join(real.t, NULL);
	peer_free(&real);
	lsn_finish(&l);
}

/* Nobody (real) comes: the overall deadline ends the wait. */
static void test_overall_deadline(void **state)
{
	struct lsn l;
	struct peer silent;

	lsn_init(&l, NULL, 10000, 300);
	lsn_start(&l);
	peer_start(&silent, &l.a, NULL, NULL, 0);
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, -ETIMEDOUT);
	assert_non_null(strstr(l.err, "no migration source connected"));
	assert_true(peer_closed(&silent));
	assert_true(logged(&l.log, "the deadline of the incoming migration passed"));
	peer_free(&silent);
	l.c.ops = NULL;
	lsn_finish(&l);
}

/* TLS: a plain source, a source of another CA, a TLS source sending
 * garbage and a silent connection are turned away; the real source gets in
 * and its stream arrives decrypted. */
static void test_tls_strays_then_source(void **state)
{
	struct lsn l;
	struct peer plain, rogue, garbage, silent, real;
	char more[8];

	lsn_init(&l, "good", 10000, 60000); /* a refused real source: no hang */
	lsn_start(&l);
	peer_start(&silent, &l.a, NULL, NULL, 0);
	pthread_join(silent.t, NULL);
	peer_start(&plain, &l.a, NULL, good_pre, sizeof(good_pre));
	peer_start(&rogue, &l.a, "rogue-client", good_pre, sizeof(good_pre));
	assert_true(peer_closed(&plain));
	assert_true(peer_closed(&rogue));
	assert_int_equal(rogue.rc, -EACCES);
	assert_non_null(strstr(rogue.err, "the destination refused this source"));
	peer_start(&garbage, &l.a, "good", "VESSLMIGGARBAGE!", 16);
	assert_true(peer_closed(&garbage));
	assert_int_equal(garbage.rc, 0);
	peer_start(&real, &l.a, "good", pre_more, sizeof(pre_more));
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, 0);
	assert_string_equal(l.c.ops->name, "tls");
	assert_int_equal(mig_conn_read_full(&l.c, more, 4, 5000), 0);
	assert_memory_equal(more, "more", 4);
	assert_true(logged(&l.log, "does not speak TLS"));
	assert_true(logged(&l.log, "presented no certificate issued by the CA"));
	assert_true(logged(&l.log, "unsupported migration stream version"));
	assert_true(peer_closed(&silent));
	pthread_join(real.t, NULL);
	assert_int_equal(real.rc, 0);
	peer_free(&plain);
	peer_free(&rogue);
	peer_free(&garbage);
	peer_free(&silent);
	peer_free(&real);
	lsn_finish(&l);
}

/* PSK: a wrong key is turned away, the right one gets in. */
static void test_psk_strays_then_source(void **state)
{
	struct lsn l;
	struct peer wrong, real;

	lsn_init(&l, "psk", 10000, 60000);
	lsn_start(&l);
	peer_start(&wrong, &l.a, "psk-wrong", good_pre, sizeof(good_pre));
	assert_true(peer_closed(&wrong));
	assert_int_equal(wrong.rc, -EACCES);
	peer_start(&real, &l.a, "psk", good_pre, sizeof(good_pre));
	pthread_join(l.t, NULL);
	assert_int_equal(l.rc, 0);
	assert_true(logged(&l.log, "TLS handshake with the source failed"));
	pthread_join(real.t, NULL);
	peer_free(&wrong);
	peer_free(&real);
	lsn_finish(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_strays_then_source),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_too_many_strays),
		cmocka_unit_test(test_overall_deadline),
		cmocka_unit_test(test_tls_strays_then_source),
		cmocka_unit_test(test_psk_strays_then_source),
	};

	make_preambles();
	creds_root = getenv("VESSEL_TEST_TLS_CREDS");
	if (!creds_root) {
		fprintf(stderr, "mig_admit_test: set VESSEL_TEST_TLS_CREDS to the output of "
				"tests/migrate/tls-creds.sh\n");
		return 1;
	}
	return cmocka_run_group_tests_name("mig_admit", tests, NULL, NULL);
}
