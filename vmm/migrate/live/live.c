// SPDX-License-Identifier: MIT
/* Attaching migration and memory-error handling to a VM (see live.h). */
#include "migrate/live/internal.h"

#include "migrate/net.h"
#include "migrate/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int live_attach(struct vm *vm, struct live **out, char *err, size_t errlen)
{
	const struct gmem *m = &vm->mem;
	const struct gmem_region *top = &m->regions[m->nr_regions - 1];
	struct live *l;
	int rc;

	if (live_current) {
		snprintf(err, errlen, "live migration is already attached to a VM");
		return -EBUSY;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->vm = vm;
	pthread_mutex_init(&l->lock, NULL);
	l->prog.downtime_ms = -1;
	l->sock = -1;
	l->vmm_dirty_npages = (top->gpa + top->size) / GMEM_PAGE_SIZE;
	l->vmm_dirty = calloc((l->vmm_dirty_npages + 63) / 64, sizeof(uint64_t));
	rc = l->vmm_dirty ? poison_set_init(&l->poison, top->gpa + top->size) : -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "out of memory for the poison set");
		goto fail;
	}
	rc = mce_install_sigbus(l);
	if (rc) {
		snprintf(err, errlen, "cannot install the SIGBUS handler: %s", strerror(-rc));
		goto fail;
	}
	rc = mce_setup(l, err, errlen);
	if (rc)
		vm_log(vm, "warning: %s: memory errors in the guest will stop the VM", err);
	live_current = l;
	*out = l;
	return 0;
fail:
	poison_set_free(&l->poison);
	free(l->vmm_dirty);
	free(l);
	return rc;
}

int live_set_mig_opts(struct live *l, const struct live_mig_opts *o, const char *incoming,
		      char *err, size_t errlen)
{
	struct mig_tls_creds *cr = NULL;
	bool server = incoming && !strncmp(incoming, "tls:", 4);
	int rc;

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

void live_detach(struct live *l)
{
	if (!l)
		return;
	ctl_server_stop(l->ctl);
	__atomic_store_n(&l->cancel, true, __ATOMIC_RELEASE);
	pthread_mutex_lock(&l->lock);
	if (l->sock >= 0)
		shutdown(l->sock, SHUT_RDWR); /* a blocked send/recv returns at once */
	pthread_mutex_unlock(&l->lock);
	if (l->thread_alive)
		pthread_join(l->thread, NULL);
	if (live_current == l)
		live_current = NULL;
	poison_set_free(&l->poison);
	free(l->vmm_dirty);
	mig_tls_creds_free(l->tls_server);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
