// SPDX-License-Identifier: MIT
/*
 * Unit tests of the migration TLS transport over real loopback sockets:
 * credential loading, the handshake with certificates and with a pre-shared
 * key, and refused peers (no TLS, a certificate of another CA, a server
 * certificate for another host, a wrong key). The credentials are made at
 * test time by tests/migrate/tls-creds.sh into $VESSEL_TEST_TLS_CREDS.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrate/net.h"
#include "migrate/tls.h"

static const char *creds_root;

static char *dir_of(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", creds_root, name);
	return path[i];
}

static int listen_any(struct net_addr *a)
{
	char err[256];
	int fd;

	assert_int_equal(net_parse_uri("tls:127.0.0.1:1", a, err, sizeof(err)), 0);
	assert_true(a->tls);
	strcpy(a->port, "0");
	fd = net_listen(a, err, sizeof(err));
	assert_true(fd >= 0);
	snprintf(a->port, sizeof(a->port), "%d", net_local_port(fd));
	return fd;
}

/* The destination's half, on its own thread. */
struct server {
	int lfd;
	const char *dir; /* NULL: plain TCP */
	int rc;
	char err[256];
	char got[64]; /* what the client sent after the handshake */
	pthread_t t;
};

static void *server_run(void *arg)
{
	struct server *s = arg;
	struct mig_tls_creds *cr = NULL;
	struct mig_conn c;
	int fd;

	fd = net_accept(s->lfd, 5000, s->err, sizeof(s->err));
	if (fd < 0) {
		s->rc = fd;
		return NULL;
	}
	s->rc = mig_tls_creds_load(s->dir, MIG_TLS_SERVER, &cr, s->err, sizeof(s->err));
	if (!s->rc)
		s->rc = mig_tls_open(cr, fd, NULL, &c, s->err, sizeof(s->err));
	if (s->rc) {
		mig_tls_creds_free(cr);
		return NULL;
	}
	s->rc = mig_tls_handshake(&c, 5000, s->err, sizeof(s->err));
	if (!s->rc) {
		s->rc = mig_conn_read_full(&c, s->got, 5, 5000);
		if (!s->rc)
			s->rc = mig_conn_write_full(&c, "pong!", 5, 5000);
	}
	mig_conn_close(&c);
	mig_tls_creds_free(cr);
	return NULL;
}

static void server_start(struct server *s, const char *dir, struct net_addr *a)
{
	memset(s, 0, sizeof(*s));
	s->lfd = listen_any(a);
	s->dir = dir;
	assert_int_equal(pthread_create(&s->t, NULL, server_run, s), 0);
}

static void server_join(struct server *s)
{
	pthread_join(s->t, NULL);
	close(s->lfd);
}

/* The source's half: connect, handshake, ping, pong. 0 or the failure. */
static int client_run(const char *dir, const struct net_addr *a, const char *peer, char *err,
		      size_t errlen)
{
	struct mig_tls_creds *cr = NULL;
	struct mig_conn c;
	char buf[8] = { 0 };
	int fd, rc;

	rc = mig_tls_creds_load(dir, MIG_TLS_CLIENT, &cr, err, errlen);
	if (rc)
		return rc;
	fd = net_connect(a, 5000, err, errlen);
	if (fd < 0) {
		mig_tls_creds_free(cr);
		return fd;
	}
	rc = mig_tls_open(cr, fd, peer, &c, err, errlen);
	if (!rc)
		rc = mig_tls_handshake(&c, 5000, err, errlen);
	if (!rc)
		rc = mig_conn_write_full(&c, "ping!", 5, 5000);
	if (!rc)
		rc = mig_conn_read_full(&c, buf, 5, 5000);
	if (!rc && strcmp(buf, "pong!"))
		rc = -EBADMSG;
	if (!rc)
		assert_string_equal(c.ops->name, "tls");
	mig_conn_close(&c);
	mig_tls_creds_free(cr);
	return rc;
}

static void test_x509_handshake(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256];

	server_start(&s, dir_of("good"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "127.0.0.1", err, sizeof(err)), 0);
	server_join(&s);
	assert_int_equal(s.rc, 0);
	assert_string_equal(s.got, "ping!");
	/* the certificate also names localhost */
	server_start(&s, dir_of("good"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "localhost", err, sizeof(err)), 0);
	server_join(&s);
	assert_int_equal(s.rc, 0);
}

static void test_psk_handshake(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256];

	server_start(&s, dir_of("psk"), &a);
	assert_int_equal(client_run(dir_of("psk"), &a, "127.0.0.1", err, sizeof(err)), 0);
	server_join(&s);
	assert_int_equal(s.rc, 0);
	assert_string_equal(s.got, "ping!");
}

/* A source whose client certificate is signed by another CA is refused,
 * and it learns so from the handshake (the admission byte never comes). */
static void test_client_of_other_ca_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256] = "";
	int rc;

	server_start(&s, dir_of("good"), &a);
	rc = client_run(dir_of("rogue-client"), &a, "127.0.0.1", err, sizeof(err));
	server_join(&s);
	assert_int_equal(s.rc, -EACCES);
	/* the client sends none: the server asks for one issued by CA A */
	assert_non_null(strstr(s.err, "presented no certificate issued by the CA"));
	assert_int_equal(rc, -EACCES);
	assert_non_null(strstr(err, "the destination refused this source"));
	assert_string_equal(s.got, "");
}

/* The source refuses a destination whose certificate another CA signed. */
static void test_server_of_other_ca_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256] = "";

	server_start(&s, dir_of("rogue-server"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "127.0.0.1", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "the destination's certificate is refused"));
	assert_non_null(strstr(err, "issuer is unknown"));
	server_join(&s);
	assert_true(s.rc < 0);
}

/* ... and one whose certificate is for another host. */
static void test_server_wrong_host_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256] = "";

	server_start(&s, dir_of("wrong-host"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "127.0.0.1", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "the destination's certificate is refused"));
	assert_non_null(strstr(err, "name in the certificate does not match"));
	server_join(&s);
	assert_true(s.rc < 0);
	/* the good certificate does not name 127.0.0.2 either */
	server_start(&s, dir_of("good"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "127.0.0.2", err, sizeof(err)), -EACCES);
	server_join(&s);
}

/* A certificate works only in its role: a destination's (TLS server) does
 * not authenticate a source, nor a source's a destination. */
static void test_certificate_in_wrong_role_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256] = "";

	server_start(&s, dir_of("good"), &a);
	assert_int_equal(client_run(dir_of("swapped"), &a, "127.0.0.1", err, sizeof(err)),
			 -EACCES);
	server_join(&s);
	assert_int_equal(s.rc, -EACCES);
	assert_non_null(strstr(s.err, "does not match the intended purpose"));
	server_start(&s, dir_of("swapped"), &a);
	assert_int_equal(client_run(dir_of("good"), &a, "localhost", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "the destination's certificate is refused"));
	server_join(&s);
}

static void test_wrong_psk_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256] = "";

	server_start(&s, dir_of("psk"), &a);
	assert_int_equal(client_run(dir_of("psk-wrong"), &a, "127.0.0.1", err, sizeof(err)),
			 -EACCES);
	server_join(&s);
	assert_int_equal(s.rc, -EACCES);
	assert_string_equal(s.got, "");
	/* a source with certificates does not get in with a PSK destination */
	server_start(&s, dir_of("psk"), &a);
	assert_true(client_run(dir_of("good"), &a, "127.0.0.1", err, sizeof(err)) < 0);
	server_join(&s);
	assert_true(s.rc < 0);
}

/* A plain TCP source (the migration preamble) is not a TLS client. */
static void test_plain_client_refused(void **state)
{
	struct server s;
	struct net_addr a;
	char err[256];
	int fd;

	server_start(&s, dir_of("good"), &a);
	fd = net_connect(&a, 5000, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(net_write_full(fd, "VESSLMIG\1\0\0\0\0\0\0\0", 16, 5000), 0);
	server_join(&s);
	close(fd);
	assert_int_equal(s.rc, -EPROTO);
	assert_non_null(strstr(s.err, "does not speak TLS"));
}

/* A silent peer: the handshake gives up at its deadline. */
static void test_handshake_timeout(void **state)
{
	struct mig_tls_creds *cr;
	struct mig_conn c;
	struct net_addr a;
	char err[256];
	int lfd = listen_any(&a), fd, sfd;

	assert_int_equal(mig_tls_creds_load(dir_of("good"), MIG_TLS_CLIENT, &cr, err, sizeof(err)),
			 0);
	fd = net_connect(&a, 5000, err, sizeof(err));
	sfd = net_accept(lfd, 5000, err, sizeof(err));
	assert_true(fd >= 0 && sfd >= 0);
	assert_int_equal(mig_tls_open(cr, fd, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(mig_tls_handshake(&c, 100, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "did not complete within 100 ms"));
	mig_conn_close(&c);
	close(sfd);
	close(lfd);
	mig_tls_creds_free(cr);
}

/* A man in the middle: relays client <-> server, flipping one bit of the
 * client's bytes at offset flip_at. */
struct mitm {
	int lfd, cfd, sfd;
	struct net_addr to;
	size_t flip_at;
	pthread_t t;
};

static void *mitm_run(void *arg)
{
	struct mitm *m = arg;
	char err[256], buf[4096];
	size_t seen = 0;

	m->cfd = net_accept(m->lfd, 5000, err, sizeof(err));
	m->sfd = net_connect(&m->to, 5000, err, sizeof(err));
	if (m->cfd < 0 || m->sfd < 0)
		return NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = m->cfd, .events = POLLIN },
				       { .fd = m->sfd, .events = POLLIN } };
		int from;
		ssize_t n;

		if (poll(p, 2, 5000) <= 0)
			break;
		from = p[0].revents ? 0 : 1;
		n = read(p[from].fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (from == 0 && m->flip_at >= seen && m->flip_at < seen + (size_t)n)
			buf[m->flip_at - seen] ^= 0x10;
		if (from == 0)
			seen += (size_t)n;
		if (net_write_full(p[!from].fd, buf, (size_t)n, 5000))
			break;
	}
	return NULL;
}

/* A record altered in transit is detected, and said so. */
static void test_tampered_record_detected(void **state)
{
	static char big[64 << 10];
	struct mig_tls_creds *cr, *scr;
	struct mig_conn c, sc;
	struct net_addr a;
	struct mitm m = { .flip_at = 40000 };
	int done = 0;
	char err[256];
	int lfd = listen_any(&m.to), fd, sfd, rc;

	m.lfd = listen_any(&a);
	assert_int_equal(pthread_create(&m.t, NULL, mitm_run, &m), 0);
	fd = net_connect(&a, 5000, err, sizeof(err));
	sfd = net_accept(lfd, 5000, err, sizeof(err));
	assert_true(fd >= 0 && sfd >= 0);
	/* both ends in this thread: the handshake is driven step by step */
	assert_int_equal(mig_tls_creds_load(dir_of("good"), MIG_TLS_CLIENT, &cr, err, sizeof(err)),
			 0);
	assert_int_equal(mig_tls_creds_load(dir_of("good"), MIG_TLS_SERVER, &scr, err, sizeof(err)),
			 0);
	assert_int_equal(mig_tls_open(cr, fd, "127.0.0.1", &c, err, sizeof(err)), 0);
	assert_int_equal(mig_tls_open(scr, sfd, NULL, &sc, err, sizeof(err)), 0);
	for (int i = 0; i < 10000 && !done; i++) {
		short ev;
		int rc1 = mig_tls_step(&c, &ev, err, sizeof(err));
		int rc2 = mig_tls_step(&sc, &ev, err, sizeof(err));

		assert_true(rc1 == 0 || rc1 == -EAGAIN);
		assert_true(rc2 == 0 || rc2 == -EAGAIN);
		done = !rc1 && !rc2;
		if (!done)
			usleep(1000);
	}
	assert_true(done);
	assert_int_equal(mig_conn_write_full(&c, big, sizeof(big), 5000), 0);
	do
		rc = (int)mig_conn_read_some(&sc, big, sizeof(big), 5000);
	while (rc > 0);
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(mig_conn_error(&sc), "integrity check"));
	mig_conn_close(&c);
	mig_conn_close(&sc);
	pthread_join(m.t, NULL);
	close(m.cfd);
	close(m.sfd);
	close(m.lfd);
	close(lfd);
	mig_tls_creds_free(cr);
	mig_tls_creds_free(scr);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *dir, enum mig_tls_role role, char *err, size_t errlen)
{
	struct mig_tls_creds *cr = NULL;
	int rc = mig_tls_creds_load(dir, role, &cr, err, errlen);

	if (!rc) {
		assert_non_null(cr);
		mig_tls_creds_free(cr);
	}
	return rc;
}

/* Each credentials problem is named, with its file. */
static void test_creds_errors(void **state)
{
	char tmp[] = "/tmp/vessel-tls-XXXXXX", path[600], err[512];

	assert_int_equal(load(dir_of("good"), MIG_TLS_SERVER, err, sizeof(err)), 0);
	assert_int_equal(load(dir_of("good"), MIG_TLS_CLIENT, err, sizeof(err)), 0);
	assert_int_equal(load("/nonexistent/creds", MIG_TLS_CLIENT, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/creds"));
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(load(tmp, MIG_TLS_CLIENT, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "neither ca-cert.pem"));

	/* certificates: a missing key, a CA file that is not a certificate */
	snprintf(path, sizeof(path), "%s/ca-cert.pem", tmp);
	write_file(path, "not a certificate\n");
	assert_int_equal(load(tmp, MIG_TLS_SERVER, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "server-cert.pem"));
	snprintf(path, sizeof(path), "cp %s/server-*.pem %s/", dir_of("good"), tmp);
	assert_int_equal(system(path), 0);
	assert_int_equal(load(tmp, MIG_TLS_SERVER, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ca-cert.pem"));
	/* a key that does not belong to the certificate */
	snprintf(path, sizeof(path),
		 "cp %s/ca-cert.pem %s/ && cp %s/client-key.pem %s/server-key.pem", dir_of("good"),
		 tmp, dir_of("good"), tmp);
	assert_int_equal(system(path), 0);
	assert_int_equal(load(tmp, MIG_TLS_SERVER, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "server-cert.pem with"));
	snprintf(path, sizeof(path), "rm -f %s/*.pem", tmp);
	assert_int_equal(system(path), 0);

	/* pre-shared keys */
	snprintf(path, sizeof(path), "%s/keys.psk", tmp);
	write_file(path, "\nvessel:00112233445566778899aabbccddeeff\n");
	assert_int_equal(load(tmp, MIG_TLS_CLIENT, err, sizeof(err)), 0);
	assert_int_equal(load(tmp, MIG_TLS_SERVER, err, sizeof(err)), 0);
	static const char *const bad[] = {
		"vessel\n",				      /* no key */
		":00112233445566778899aabbccddeeff\n",	      /* no identity */
		"vessel:0011223344556677\n",		      /* 8 bytes: too short */
		"vessel:00112233445566778899aabbccddeefg\n",  /* not hex */
		"vessel:00112233445566778899aabbccddeef\n",   /* odd length */
		"ves sel:00112233445566778899aabbccddeeff\n", /* space in identity */
		"",					      /* no key at all */
		"a:00112233445566778899aabbccddeeff\nb:zz\n", /* line 2 */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i]);
		assert_int_equal(load(tmp, MIG_TLS_SERVER, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "keys.psk"));
	}
	assert_non_null(strstr(err, "line 2"));
	unlink(path);
	rmdir(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_handshake),
		cmocka_unit_test(test_psk_handshake),
		cmocka_unit_test(test_client_of_other_ca_refused),
		cmocka_unit_test(test_server_of_other_ca_refused),
		cmocka_unit_test(test_server_wrong_host_refused),
		cmocka_unit_test(test_certificate_in_wrong_role_refused),
		cmocka_unit_test(test_wrong_psk_refused),
		cmocka_unit_test(test_plain_client_refused),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_tampered_record_detected),
		cmocka_unit_test(test_creds_errors),
	};

	creds_root = getenv("VESSEL_TEST_TLS_CREDS");
	if (!creds_root) {
		fprintf(stderr, "mig_tls_test: set VESSEL_TEST_TLS_CREDS to the output of "
				"tests/migrate/tls-creds.sh\n");
		return 1;
	}
	return cmocka_run_group_tests_name("mig_tls", tests, NULL, NULL);
}
