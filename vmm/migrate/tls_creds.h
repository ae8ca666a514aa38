/* SPDX-License-Identifier: MIT */
/*
 * The insides of struct mig_tls_creds, shared by tls_creds.c (reading the
 * credentials directory) and tls.c (sessions). Not for use elsewhere: tls.h
 * is the interface.
 */
#ifndef VESSEL_MIGRATE_TLS_CREDS_H
#define VESSEL_MIGRATE_TLS_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "tls.h"

#define PSK_MAX_KEYS 64u
#define PSK_ID_MAX   128u
#define PSK_KEY_MIN  16u /* bytes: 128 bits */
#define PSK_KEY_MAX  64u

struct psk_key {
	char id[PSK_ID_MAX + 1];
	uint8_t key[PSK_KEY_MAX];
	unsigned len;
};

struct mig_tls_creds {
	enum mig_tls_role role;
	bool psk;
	gnutls_certificate_credentials_t x509;
	gnutls_psk_client_credentials_t psk_client;
	gnutls_psk_server_credentials_t psk_server;
	gnutls_priority_t prio;
	struct psk_key *keys;
	unsigned nkeys;
};

/* tls_psk_find - the key of PSK identity id (size bytes), or NULL. */
const struct psk_key *tls_psk_find(const struct mig_tls_creds *cr, const void *id, size_t size);

/*
 * tls_psk_lookup - the destination's PSK callback for GnuTLS (in tls.c: it
 * also records on the connection why an identity was refused).
 */
int tls_psk_lookup(gnutls_session_t s, const gnutls_datum_t *id, gnutls_datum_t *key);

#endif /* VESSEL_MIGRATE_TLS_CREDS_H */
