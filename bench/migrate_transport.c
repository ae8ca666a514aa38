// SPDX-License-Identifier: MIT
/*
 * migrate_transport CREDS [MIB]: the migration transports alone, over
 * loopback, without a VM: MIB MiB (default 1024) of random bytes from a
 * writer to a reader thread, in 2 MiB writes (as the stream writer flushes)
 * and 256 KiB reads, over plain TCP, TLS with certificates (CREDS/good) and
 * TLS with a pre-shared key (CREDS/psk; CREDS made by
 * tests/migrate/tls-creds.sh). Prints one line per transport:
 *   transport tcp: 1024 MiB in 512 ms, 2000 MiB/s
 *   transport tls-x509 (TLS1.3 AES-256-GCM): ... MiB/s, 0.45x tcp
 * Host wall clock, and the CPU time of both ends (user + system, both
 * threads): on a shared, loaded machine the CPU time per GiB is the steadier
 * measure of what TLS costs. The handshake is not counted.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "migrate/conn.h"
#include "migrate/net.h"
#include "migrate/tls.h"

#define CHUNK (2u << 20)

struct rx {
	int lfd;
	const char *dir; /* NULL: plain */
	size_t total;
	int rc;
	char err[256];
};

static void *reader(void *arg)
{
	static char buf[256 << 10];
	struct rx *r = arg;
	struct mig_tls_creds *cr = NULL;
	struct mig_conn c;
	size_t got = 0;
	int fd = net_accept(r->lfd, 10000, r->err, sizeof(r->err));

	r->rc = fd < 0 ? fd : 0;
	if (fd >= 0 && r->dir) {
		r->rc = mig_tls_creds_load(r->dir, MIG_TLS_SERVER, &cr, r->err, sizeof(r->err));
		if (!r->rc)
			r->rc = mig_tls_open(cr, fd, NULL, &c, r->err, sizeof(r->err));
		if (!r->rc)
			r->rc = mig_tls_handshake(&c, 10000, r->err, sizeof(r->err));
	} else if (fd >= 0) {
		mig_conn_plain(&c, fd);
	}
	while (!r->rc && got < r->total) {
		ssize_t n = mig_conn_read_some(&c, buf, sizeof(buf), 10000);

		if (n <= 0)
			r->rc = n ? (int)n : -1;
		else
			got += (size_t)n;
	}
	if (fd >= 0)
		mig_conn_close(&c);
	mig_tls_creds_free(cr);
	return NULL;
}

/* CPU time of the process so far (all threads), ms. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* MiB/s of one transport, or a negative value on failure. */
static double run(const char *label, const char *dir, const uint8_t *data, size_t mib)
{
	struct net_addr a;
	struct mig_tls_creds *cr = NULL;
	struct mig_conn c;
	struct rx r = { .dir = dir, .total = mib << 20 };
	char err[256], desc[64] = "";
	double t0, ms, cpu0, cpu;
	pthread_t t;
	int fd, rc = 0;

	net_parse_uri("tcp:127.0.0.1:1", &a, err, sizeof(err));
	strcpy(a.port, "0");
	r.lfd = net_listen(&a, err, sizeof(err));
	if (r.lfd < 0) {
		fprintf(stderr, "migrate_transport: %s\n", err);
		return -1;
	}
	snprintf(a.port, sizeof(a.port), "%d", net_local_port(r.lfd));
	pthread_create(&t, NULL, reader, &r);
	fd = net_connect(&a, 10000, err, sizeof(err));
	if (fd < 0)
		rc = fd;
	else if (dir) {
		rc = mig_tls_creds_load(dir, MIG_TLS_CLIENT, &cr, err, sizeof(err));
		if (!rc)
			rc = mig_tls_open(cr, fd, "127.0.0.1", &c, err, sizeof(err));
		if (!rc)
			rc = mig_tls_handshake(&c, 10000, err, sizeof(err));
		mig_tls_describe(&c, desc, sizeof(desc));
	} else {
		mig_conn_plain(&c, fd);
	}
	t0 = mig_conn_now_ms();
	cpu0 = cpu_ms();
	for (size_t off = 0; !rc && off < (mib << 20); off += CHUNK)
		rc = mig_conn_write_full(&c, data + off % (64u << 20), CHUNK, 10000);
	pthread_join(t, NULL);
	ms = mig_conn_now_ms() - t0;
	cpu = cpu_ms() - cpu0;
	if (fd >= 0)
		mig_conn_close(&c);
	mig_tls_creds_free(cr);
	close(r.lfd);
	if (rc || r.rc) {
		fprintf(stderr, "migrate_transport: %s failed: %s %s\n", label, err, r.err);
		return -1;
	}
	printf("transport %s%s%s%s: %zu MiB in %.0f ms, %.0f MiB/s, CPU %.0f ms/GiB", label,
	       desc[0] ? " (" : "", desc, desc[0] ? ")" : "", mib, ms, mib / (ms / 1e3),
	       cpu / (mib / 1024.0));
	return mib / (ms / 1e3);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 1024;
	uint8_t *data = malloc(64u << 20);
	char x509[512], psk[512];
	double tcp, v;
	FILE *f;

	if (argc < 2 || !mib || mib % 2 || !data) {
		fprintf(stderr, "usage: migrate_transport CREDS_ROOT [MIB (even)]\n");
		return 2;
	}
	f = fopen("/dev/urandom", "r");
	if (!f || fread(data, 1, 64u << 20, f) != 64u << 20)
		return 1;
	fclose(f);
	snprintf(x509, sizeof(x509), "%s/good", argv[1]);
	snprintf(psk, sizeof(psk), "%s/psk", argv[1]);
	tcp = run("tcp", NULL, data, mib);
	printf("\n");
	v = run("tls-x509", x509, data, mib);
	if (v > 0 && tcp > 0)
		printf(", %.2fx tcp\n", v / tcp);
	v = run("tls-psk", psk, data, mib);
	if (v > 0 && tcp > 0)
		printf(", %.2fx tcp\n", v / tcp);
	free(data);
	return tcp > 0 && v > 0 ? 0 : 1;
}
