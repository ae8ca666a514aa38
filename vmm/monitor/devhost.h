/* SPDX-License-Identifier: MIT */
/*
 * The monitor's device host (docs/monitor.md): in the sandboxed monitor,
 * the virtio-blk disks the core handed over run in a VM object of their
 * own that has guest memory (the core's memfd, mapped shared), an MMIO bus
 * and devices, and no KVM. The device code is the core's (dev/virtio_blk.c,
 * virtio_mmio.c): the same files, run in the other process.
 */
#ifndef VMM_MONITOR_DEVHOST_H
#define VMM_MONITOR_DEVHOST_H

#include "monitor/ring.h"

struct vm;

/*
 * mon_devhost_new - the VM object for shm->devs: guest RAM from
 * MON_FD_MEM, page writes recorded in the shared dirty bitmap, one disk per
 * handover (descriptors at MON_FD_DISK(i)). Before the sandbox's filter
 * (it maps, creates threads and eventfds). 0 and *out, or -errno with the
 * reason in err.
 */
int mon_devhost_new(struct mon_shm *shm, struct vm **out, char *err, size_t errlen);

/*
 * mon_devhost_mmio - a routed MMIO exit (in: EXIT with MON_EXIT_MMIO) on
 * the device bus; out->status -ENODEV when no device is there, else the
 * bytes of a read in out->data.
 */
void mon_devhost_mmio(struct vm *vm, const struct mon_msg *in, struct mon_msg *out);

/*
 * mon_devhost_control - PAUSE, RESUME, DISK_SAVE, DISK_RESTORE, DISK_STATS
 * on the control channel (bulk data in shm->xfer); the answer in *out.
 */
void mon_devhost_control(struct vm *vm, struct mon_shm *shm, const struct mon_msg *in,
			 struct mon_msg *out);

#endif
