// SPDX-License-Identifier: MIT
/* Attaching live migration to a VM (see live.h). */
#include "migrate/live/internal.h"

#include "migrate/net.h"
#include "migrate/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Runs from vm_destroy() after every vCPU thread is joined. */
static void live_detach(void *opaque)
{
	struct live *l = opaque;

	__atomic_store_n(&l->cancel, true, __ATOMIC_RELEASE);
	pthread_mutex_lock(&l->lock);
	if (l->sock >= 0)
		shutdown(l->sock, SHUT_RDWR); /* a blocked send/recv returns at once */
	pthread_mutex_unlock(&l->lock);
	if (l->thread_alive)
		pthread_join(l->thread, NULL);
	mig_tls_creds_free(l->tls_server);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static const struct vm_hook_ops live_hooks = {
	.name = "live migration",
	.detach = live_detach,
};

struct live *live_of(struct vm *vm)
{
	return vm_hook_find(vm, &live_hooks);
}

int live_set_mig_opts(struct vm *vm, const struct live_mig_opts *o, const char *incoming,
		      char *err, size_t errlen)
{
	struct live *l = live_of(vm);
	struct mig_tls_creds *cr = NULL;
	bool server = incoming && !strncmp(incoming, "tls:", 4);
	int rc;

	if (!l) {
		snprintf(err, errlen, "live migration is not attached to this VM");
		return -EINVAL;
	}
	if (server && !o->tls_creds) {
		snprintf(err, errlen, "--incoming %s needs --tls-creds DIR", incoming);
		return -EINVAL;
	}
	if (o->tls_creds) {
		rc = mig_tls_creds_load(o->tls_creds, server ? MIG_TLS_SERVER : MIG_TLS_CLIENT, &cr,
					err, errlen);
		if (rc)
			return rc;
	}
	if (server) {
		mig_tls_creds_free(l->tls_server);
		l->tls_server = cr;
	} else {
		mig_tls_creds_free(cr); /* loaded again by each migration */
	}
	l->opts = *o;
	return 0;
}

int live_attach(struct vm *vm, char *err, size_t errlen)
{
	struct live *l = calloc(1, sizeof(*l));
	int rc;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->vm = vm;
	pthread_mutex_init(&l->lock, NULL);
	l->prog.downtime_ms = -1;
	l->sock = -1;
	rc = vm_hook_attach(vm, &live_hooks, l);
	if (rc) {
		snprintf(err, errlen, "cannot attach live migration: %s", strerror(-rc));
		pthread_mutex_destroy(&l->lock);
		free(l);
	}
	return rc;
}
