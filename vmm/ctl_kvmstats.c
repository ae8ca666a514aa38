// SPDX-License-Identifier: MIT
/*
 * `kvmstats`: KVM's binary statistics of the VM and its vCPUs
 * (core/kvm_stats.h), what the host's KVM really did.
 */
#include "control/ctl.h"
#include "core/kvm_stats.h"
#include "core/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int c_kvmstats(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct kvm_stats_snap *snap = malloc(sizeof(*snap));
	json_t *vm = json_object(), *vcpu = json_object();
	int rc = snap ? vm_kvm_stats(ctx, snap) : -ENOMEM;

	if (rc) {
		snprintf(err, errlen, "cannot read the KVM statistics: %s", strerror(-rc));
		json_decref(vm);
		json_decref(vcpu);
		free(snap);
		return rc;
	}
	for (unsigned i = 0; i < snap->n; i++)
		json_object_set_new(snap->s[i].per_vcpu ? vcpu : vm, snap->s[i].name,
				    json_integer((json_int_t)snap->s[i].value));
	json_object_set_new(res, "vm", vm);
	json_object_set_new(res, "vcpu", vcpu); /* summed over the vCPUs */
	free(snap);
	return 0;
}

static const struct ctl_command kvmstats_cmd = {
	"kvmstats",
	"KVM's own statistics (KVM_GET_STATS_FD): the VM's, and the vCPUs' summed",
	{},
	c_kvmstats,
};
CTL_COMMAND(kvmstats_cmd);
