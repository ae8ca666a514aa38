// SPDX-License-Identifier: MIT
/* KVM binary statistics: one snapshot of a VM and its vCPUs (kvm_stats.h). */
#include "core/kvm_stats.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef KVM_GET_STATS_FD
#define KVM_GET_STATS_FD _IO(KVMIO, 0xce)
#endif

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

static struct kvm_stat *find_or_add(struct kvm_stats_snap *out, const char *name, bool per_vcpu)
{
	for (unsigned i = 0; i < out->n; i++) {
		if (!strcmp(out->s[i].name, name))
			return &out->s[i];
	}
	if (out->n == KVM_STATS_MAX)
		return NULL;
	memset(&out->s[out->n], 0, sizeof(out->s[0]));
	strcpy(out->s[out->n].name, name);
	out->s[out->n].per_vcpu = per_vcpu;
	return &out->s[out->n++];
}

int kvm_stats_open(int kvm_obj_fd)
{
	int fd = ioctl(kvm_obj_fd, KVM_GET_STATS_FD, NULL);

	return fd < 0 ? -1 : fd;
}

/* Adds the scalar statistics of one VM's or vCPU's stats fd to out. */
static int read_one(int sfd, bool per_vcpu, struct kvm_stats_snap *out)
{
	struct kvm_stats_header h;
	size_t dsz;
	char *descs = NULL;
	int rc;

	if (sfd < 0)
		return -ENOTTY;
	rc = pread_all(sfd, &h, sizeof(h), 0);
	if (rc)
		goto out;
	rc = -EIO;
	if (h.num_desc == 0 || h.num_desc > 4096 || h.name_size == 0 || h.name_size > 4096)
		goto out;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs) {
		rc = -ENOMEM;
		goto out;
	}
	rc = pread_all(sfd, descs, dsz * h.num_desc, h.desc_offset);
	if (rc)
		goto out;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);
		uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
		struct kvm_stat *st;
		uint64_t v;

		d->name[h.name_size - 1] = '\0';
		if (d->size != 1 || strlen(d->name) >= KVM_STAT_NAME_MAX ||
		    (type != KVM_STATS_TYPE_CUMULATIVE && type != KVM_STATS_TYPE_INSTANT &&
		     type != KVM_STATS_TYPE_PEAK))
			continue; /* histograms, and names we cannot carry */
		rc = pread_all(sfd, &v, sizeof(v), (uint64_t)h.data_offset + d->offset);
		if (rc)
			goto out;
		st = find_or_add(out, d->name, per_vcpu);
		if (!st) {
			rc = -ENOSPC;
			goto out;
		}
		if (type == KVM_STATS_TYPE_PEAK)
			st->value = v > st->value ? v : st->value;
		else
			st->value += v;
	}
	rc = 0;
out:
	free(descs);
	return rc;
}

int kvm_stats_read(int vm_sfd, const int *vcpu_sfds, unsigned nr_vcpus, struct kvm_stats_snap *out)
{
	int rc;

	out->n = 0;
	rc = read_one(vm_sfd, false, out);
	for (unsigned i = 0; !rc && i < nr_vcpus; i++)
		rc = read_one(vcpu_sfds[i], true, out);
	return rc;
}

int vm_kvm_stats(struct vm *vm, struct kvm_stats_snap *out)
{
	int fds[VM_MAX_CPUS];

	if (vm->vm_fd < 0)
		return -ENODEV;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		fds[i] = vm->vcpus[i]->stats_fd;
	return kvm_stats_read(vm->stats_fd, fds, vm->nr_vcpus, out);
}
