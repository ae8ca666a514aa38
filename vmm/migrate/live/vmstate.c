// SPDX-License-Identifier: MIT
/*
 * The non-memory state of a VM as STATE records: irqchip (PIC master, PIC
 * slave, IOAPIC), PIT, every vCPU (registers, special registers, XSAVE,
 * XCRs, debug registers, LAPIC, pending events, MP state, MSRs), the KVM
 * clock and every device's save blob. Sent during stop-and-copy, in the
 * order the destination must apply them.
 *
 * Blobs of KVM structures are raw: source and destination run the same
 * vessel build on the same kind of host (the record version guards it).
 */
#include "migrate/live/internal.h"

#include "core/vcpu.h"
#include "dev/device.h"
#include "domain/integrity.h"
#include "migrate/stream.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define VMSTATE_VERSION 1u

/* STATE payload of a vCPU: header + struct vcpu_state */
struct vcpu_blob {
	uint32_t started; /* the guest started this vCPU (BSP, or after CPU_START) */
	uint32_t size;	  /* sizeof(struct vcpu_state) of the sender */
	struct vcpu_state s;
};

static const char *const chip_names[3] = { "pic-master", "pic-slave", "ioapic" };

int vmstate_send(struct live *l, struct mig_writer *w, char *err, size_t errlen)
{
	struct vm *vm = l->vm;
	struct vcpu_blob *vb;
	struct kvm_clock_data clock;
	uint8_t devbuf[4096];
	int rc = 0;

	for (uint32_t chip = 0; chip < 3; chip++) {
		struct kvm_irqchip ic = { .chip_id = chip };

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &ic) < 0) {
			snprintf(err, errlen, "KVM_GET_IRQCHIP (%s): %s", chip_names[chip],
				 strerror(errno));
			return -errno;
		}
		rc = mig_put_state(w, MIG_STATE_IRQCHIP, chip, chip_names[chip], VMSTATE_VERSION,
				   &ic, sizeof(ic));
		if (rc)
			goto werr;
	}
	{
		struct kvm_pit_state2 pit;

		if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) == 0) {
			rc = mig_put_state(w, MIG_STATE_VM, 0, "pit", VMSTATE_VERSION, &pit,
					   sizeof(pit));
			if (rc)
				goto werr;
		}
	}
	vb = calloc(1, sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		rc = vcpu_state_get(v, &vb->s);
		if (rc) {
			snprintf(err, errlen, "saving vCPU %u: %s", i, vm->err);
			free(vb);
			return rc;
		}
		pthread_mutex_lock(&vm->lock);
		vb->started = v->started;
		pthread_mutex_unlock(&vm->lock);
		vb->size = sizeof(vb->s);
		rc = mig_put_state(w, MIG_STATE_VCPU, i, "vcpu", VMSTATE_VERSION, vb, sizeof(*vb));
		if (rc) {
			free(vb);
			goto werr;
		}
	}
	free(vb);
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0) {
		snprintf(err, errlen, "KVM_GET_CLOCK: %s", strerror(errno));
		return -errno;
	}
	rc = mig_put_state(w, MIG_STATE_CLOCK, 0, "kvmclock", VMSTATE_VERSION, &clock,
			   sizeof(clock));
	if (rc)
		goto werr;
	for (struct device *d = vm->devices; d; d = d->next) {
		ssize_t n;

		if (!d->ops->save)
			continue;
		n = d->ops->save(d->priv, devbuf, sizeof(devbuf));
		if (n < 0) {
			snprintf(err, errlen, "saving device %s: %s", d->ops->name,
				 strerror((int)-n));
			return (int)n;
		}
		/* instance: the index among devices of this name (two disks: 0, 1) */
		rc = mig_put_state(w, MIG_STATE_DEVICE, device_instance(vm, d), d->ops->name,
				   VMSTATE_VERSION, devbuf, (uint32_t)n);
		if (rc)
			goto werr;
	}
	{
		/* both domains: the secure memory went with the pages; its layout,
		 * measurement and the patch sites go here (domain/integrity.h) */
		void *blob;
		size_t n;

		rc = integrity_save(vm, &blob, &n);
		if (rc) {
			snprintf(err, errlen, "saving the integrity state: %s", strerror(-rc));
			return rc;
		}
		if (blob) {
			rc = mig_put_state(w, MIG_STATE_VM, 0, "integrity", VMSTATE_VERSION, blob,
					   (uint32_t)n);
			free(blob);
			if (rc)
				goto werr;
		}
	}
	return 0;
werr:
	snprintf(err, errlen, "%s", w->err[0] ? w->err : strerror(-rc));
	return rc;
}

static int bad(char *err, size_t errlen, const struct mig_record *rec, const char *why)
{
	snprintf(err, errlen, "STATE record '%s' (instance %u): %s", rec->u.state.name,
		 rec->u.state.instance, why);
	return -EPROTO;
}

int vmstate_restore(struct live *l, struct vmstate_rx *rx, const struct mig_record *rec, char *err,
		    size_t errlen)
{
	struct vm *vm = l->vm;
	uint32_t inst = rec->u.state.instance, len = rec->u.state.len;
	const uint8_t *data = rec->u.state.data;

	if (rec->u.state.version != VMSTATE_VERSION)
		return bad(err, errlen, rec, "unsupported state version");
	switch (rec->u.state.kind) {
	case MIG_STATE_IRQCHIP: {
		struct kvm_irqchip ic;

		if (inst > 2 || strcmp(rec->u.state.name, chip_names[inst]))
			return bad(err, errlen, rec, "unknown interrupt controller");
		if (len != sizeof(ic))
			return bad(err, errlen, rec, "wrong size");
		memcpy(&ic, data, sizeof(ic));
		if (ic.chip_id != inst)
			return bad(err, errlen, rec, "chip id does not match the instance");
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &ic) < 0) {
			snprintf(err, errlen, "KVM_SET_IRQCHIP (%s): %s", chip_names[inst],
				 strerror(errno));
			return -errno;
		}
		rx->irqchip_seen[inst] = true;
		return 0;
	}
	case MIG_STATE_VM: {
		struct kvm_pit_state2 pit;

		if (!strcmp(rec->u.state.name, "integrity") && inst == 0) {
			int rc;

			if (rx->integrity_seen)
				return bad(err, errlen, rec, "sent twice");
			rc = integrity_restore(vm, data, len, err, errlen);
			rx->integrity_seen = !rc;
			return rc;
		}
		if (strcmp(rec->u.state.name, "pit") || inst != 0)
			return bad(err, errlen, rec, "unknown VM state");
		if (len != sizeof(pit))
			return bad(err, errlen, rec, "wrong size");
		memcpy(&pit, data, sizeof(pit));
		if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0) {
			snprintf(err, errlen, "KVM_SET_PIT2: %s", strerror(errno));
			return -errno;
		}
		return 0;
	}
	case MIG_STATE_VCPU: {
		struct vcpu_blob *vb;
		int rc;

		if (strcmp(rec->u.state.name, "vcpu"))
			return bad(err, errlen, rec, "unknown vCPU state");
		if (inst >= vm->nr_vcpus)
			return bad(err, errlen, rec, "no such vCPU here");
		if (rx->vcpu_seen[inst])
			return bad(err, errlen, rec, "vCPU state sent twice");
		if (len != sizeof(*vb))
			return bad(err, errlen, rec, "wrong size (different vessel build?)");
		vb = malloc(sizeof(*vb));
		if (!vb)
			return -ENOMEM;
		memcpy(vb, data, sizeof(*vb));
		if (vb->size != sizeof(vb->s) || vb->started > 1 || vb->s.nr_msrs > VCPU_MAX_MSRS) {
			free(vb);
			return bad(err, errlen, rec, "malformed vCPU state");
		}
		rc = vcpu_state_set(vm->vcpus[inst], &vb->s);
		if (!rc) {
			pthread_mutex_lock(&vm->lock);
			vm->vcpus[inst]->started = vb->started;
			pthread_mutex_unlock(&vm->lock);
		}
		free(vb);
		if (rc) {
			snprintf(err, errlen, "restoring vCPU %u: %s", inst, vm->err);
			return rc;
		}
		rx->vcpu_seen[inst] = true;
		rx->vcpus_seen++;
		return 0;
	}
	case MIG_STATE_CLOCK: {
		struct kvm_clock_data c;

		if (strcmp(rec->u.state.name, "kvmclock") || len != sizeof(c))
			return bad(err, errlen, rec, "unknown clock state");
		memcpy(&c, data, sizeof(c));
		/* guest time continues from where the source paused it */
		c = (struct kvm_clock_data){ .clock = c.clock };
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0) {
			snprintf(err, errlen, "KVM_SET_CLOCK: %s", strerror(errno));
			return -errno;
		}
		rx->clock_seen = true;
		return 0;
	}
	case MIG_STATE_DEVICE: {
		struct device *d = device_find_nth(vm, rec->u.state.name, inst);
		int rc;

		if (!d || !d->ops->restore)
			return bad(err, errlen, rec, "no such device in this VM");
		rc = d->ops->restore(d->priv, data, len);
		if (rc) {
			snprintf(err, errlen, "device %s refused its saved state: %s",
				 rec->u.state.name, strerror(-rc));
			return rc;
		}
		rx->devices_seen++;
		return 0;
	}
	}
	return bad(err, errlen, rec, "unknown state kind");
}

int vmstate_rx_complete(struct live *l, const struct vmstate_rx *rx, char *err, size_t errlen)
{
	struct vm *vm = l->vm;
	unsigned ndev = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (!rx->vcpu_seen[i]) {
			snprintf(err, errlen, "the stream ended without the state of vCPU %u", i);
			return -EPROTO;
		}
	for (unsigned i = 0; i < 3; i++)
		if (!rx->irqchip_seen[i]) {
			snprintf(err, errlen, "the stream ended without the %s state",
				 chip_names[i]);
			return -EPROTO;
		}
	if (integrity_attached(vm) && !rx->integrity_seen) {
		snprintf(err, errlen,
			 "this destination runs with --integrity, the source VM without it "
			 "(start the destination without --integrity)");
		return -EPERM;
	}
	if (!rx->clock_seen) {
		snprintf(err, errlen, "the stream ended without the clock state");
		return -EPROTO;
	}
	for (struct device *d = vm->devices; d; d = d->next)
		ndev += d->ops->restore != NULL;
	if (rx->devices_seen != ndev) {
		snprintf(err, errlen, "the stream carried %u device states, this VM has %u devices",
			 rx->devices_seen, ndev);
		return -EPROTO;
	}
	return 0;
}
