// SPDX-License-Identifier: MIT
/* TLS credentials for migration: the directory of certificates or
 * pre-shared keys (see tls.h). */
#include "tls_creds.h"
#include "net.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * TLS 1.2/1.3 only; PSK only with a Diffie-Hellman exchange (forward
 * secrecy). AES-GCM first (AES-NI: several GB/s here, ChaCha20 0.5 GB/s);
 * an external PSK is bound to SHA-256, which rules out AES-256-GCM-SHA384
 * in TLS 1.3, so without the explicit order it would get ChaCha20.
 */
#define PRIO_CIPHERS "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"
#define PRIO_X509    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" PRIO_CIPHERS
#define PRIO_PSK                                                                                   \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:+DHE-PSK:" PRIO_CIPHERS

static int need_file(const char *dir, const char *name, char *path, size_t plen, char *err,
		     size_t errlen)
{
	if ((size_t)snprintf(path, plen, "%s/%s", dir, name) >= plen)
		return net_fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	if (access(path, R_OK) < 0)
		return net_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

static int load_x509(struct mig_tls_creds *cr, const char *dir, char *err, size_t errlen)
{
	const char *who = cr->role == MIG_TLS_SERVER ? "server" : "client";
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], name[32];
	int rc;

	rc = need_file(dir, "ca-cert.pem", ca, sizeof(ca), err, errlen);
	snprintf(name, sizeof(name), "%s-cert.pem", who);
	if (!rc)
		rc = need_file(dir, name, cert, sizeof(cert), err, errlen);
	snprintf(name, sizeof(name), "%s-key.pem", who);
	if (!rc)
		rc = need_file(dir, name, key, sizeof(key), err, errlen);
	if (rc)
		return rc;
	if (gnutls_certificate_allocate_credentials(&cr->x509) < 0)
		return net_fail(err, errlen, -ENOMEM, "out of memory");
	rc = gnutls_certificate_set_x509_trust_file(cr->x509, ca, GNUTLS_X509_FMT_PEM);
	if (rc <= 0)
		return net_fail(err, errlen, -EINVAL, "%s: %s", ca,
				rc == 0 ? "no certificate in it" : gnutls_strerror(rc));
	rc = gnutls_certificate_set_x509_key_file(cr->x509, cert, key, GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		return net_fail(err, errlen, -EINVAL, "%s with %s: %s", cert, key,
				gnutls_strerror(rc));
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One "IDENTITY:HEXKEY" line into k. */
static int parse_psk_line(const char *line, struct psk_key *k)
{
	const char *colon = strchr(line, ':'), *h;
	size_t idlen, hexlen;

	if (!colon)
		return -1;
	idlen = (size_t)(colon - line);
	if (idlen == 0 || idlen > PSK_ID_MAX)
		return -1;
	for (size_t i = 0; i < idlen; i++)
		if (!isgraph((unsigned char)line[i]))
			return -1;
	memcpy(k->id, line, idlen);
	k->id[idlen] = 0;
	h = colon + 1;
	hexlen = strlen(h);
	if (hexlen % 2 || hexlen / 2 < PSK_KEY_MIN || hexlen / 2 > PSK_KEY_MAX)
		return -1;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hexval((unsigned char)h[2 * i]), lo = hexval((unsigned char)h[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		k->key[i] = (uint8_t)(hi << 4 | lo);
	}
	k->len = (unsigned)(hexlen / 2);
	return 0;
}

static int read_psk_file(struct mig_tls_creds *cr, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[PSK_ID_MAX + 2 * PSK_KEY_MAX + 8];
	unsigned lineno = 0;
	int rc = 0;

	if (!f)
		return net_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	cr->keys = calloc(PSK_MAX_KEYS, sizeof(*cr->keys));
	if (!cr->keys) {
		fclose(f);
		return net_fail(err, errlen, -ENOMEM, "out of memory");
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		lineno++;
		if (n && line[n - 1] != '\n' && !feof(f)) {
			rc = net_fail(err, errlen, -EINVAL, "%s line %u: too long", path, lineno);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n)
			continue;
		if (cr->nkeys == PSK_MAX_KEYS) {
			rc = net_fail(err, errlen, -EINVAL, "%s: more than %u keys", path,
				      PSK_MAX_KEYS);
			break;
		}
		if (parse_psk_line(line, &cr->keys[cr->nkeys])) {
			rc = net_fail(
				err, errlen, -EINVAL,
				"%s line %u: expected IDENTITY:HEXKEY (an identity of 1 to %u "
				"printable characters, a key of %u to %u bytes in hex)",
				path, lineno, PSK_ID_MAX, PSK_KEY_MIN, PSK_KEY_MAX);
			break;
		}
		cr->nkeys++;
	}
	if (!rc && ferror(f))
		rc = net_fail(err, errlen, -EIO, "%s: read error", path);
	if (!rc && !cr->nkeys)
		rc = net_fail(err, errlen, -EINVAL, "%s: no key in it", path);
	fclose(f);
	return rc;
}

const struct psk_key *tls_psk_find(const struct mig_tls_creds *cr, const void *id, size_t size)
{
	for (unsigned i = 0; i < cr->nkeys; i++)
		if (strlen(cr->keys[i].id) == size && !memcmp(cr->keys[i].id, id, size))
			return &cr->keys[i];
	return NULL;
}

static int load_psk(struct mig_tls_creds *cr, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	gnutls_datum_t key;
	int rc;

	rc = need_file(dir, "keys.psk", path, sizeof(path), err, errlen);
	if (!rc)
		rc = read_psk_file(cr, path, err, errlen);
	if (rc)
		return rc;
	cr->psk = true;
	if (cr->role == MIG_TLS_SERVER) {
		if (gnutls_psk_allocate_server_credentials(&cr->psk_server) < 0)
			return net_fail(err, errlen, -ENOMEM, "out of memory");
		gnutls_psk_set_server_credentials_function2(cr->psk_server, tls_psk_lookup);
		return 0;
	}
	if (gnutls_psk_allocate_client_credentials(&cr->psk_client) < 0)
		return net_fail(err, errlen, -ENOMEM, "out of memory");
	key = (gnutls_datum_t){ .data = cr->keys[0].key, .size = cr->keys[0].len };
	rc = gnutls_psk_set_client_credentials(cr->psk_client, cr->keys[0].id, &key,
					       GNUTLS_PSK_KEY_RAW);
	if (rc < 0)
		return net_fail(err, errlen, -EINVAL, "%s: %s", path, gnutls_strerror(rc));
	return 0;
}

int mig_tls_creds_load(const char *dir, enum mig_tls_role role, struct mig_tls_creds **out,
		       char *err, size_t errlen)
{
	struct mig_tls_creds *cr;
	char path[PATH_MAX];
	bool x509, psk;
	int rc;

	if (!dir || !*dir)
		return net_fail(err, errlen, -EINVAL, "no TLS credentials directory given");
	if (access(dir, X_OK) < 0)
		return net_fail(err, errlen, -errno, "TLS credentials directory %s: %s", dir,
				strerror(errno));
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	x509 = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/keys.psk", dir);
	psk = access(path, F_OK) == 0;
	if (!x509 && !psk)
		return net_fail(
			err, errlen, -ENOENT,
			"TLS credentials directory %s has neither ca-cert.pem (certificates) "
			"nor keys.psk (pre-shared keys)",
			dir);
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return net_fail(err, errlen, -ENOMEM, "out of memory");
	cr->role = role;
	rc = x509 ? load_x509(cr, dir, err, errlen) : load_psk(cr, dir, err, errlen);
	if (!rc && gnutls_priority_init(&cr->prio, cr->psk ? PRIO_PSK : PRIO_X509, NULL) < 0)
		rc = net_fail(err, errlen, -EINVAL, "GnuTLS rejects the priority string");
	if (rc) {
		mig_tls_creds_free(cr);
		return rc;
	}
	*out = cr;
	return 0;
}

void mig_tls_creds_free(struct mig_tls_creds *cr)
{
	if (!cr)
		return;
	if (cr->x509)
		gnutls_certificate_free_credentials(cr->x509);
	if (cr->psk_client)
		gnutls_psk_free_client_credentials(cr->psk_client);
	if (cr->psk_server)
		gnutls_psk_free_server_credentials(cr->psk_server);
	if (cr->prio)
		gnutls_priority_deinit(cr->prio);
	if (cr->keys)
		explicit_bzero(cr->keys, PSK_MAX_KEYS * sizeof(*cr->keys));
	free(cr->keys);
	free(cr);
}

const char *mig_tls_creds_kind(const struct mig_tls_creds *cr)
{
	return cr->psk ? "psk" : "x509";
}
