/* SPDX-License-Identifier: MIT */
/*
 * The shared memory between the privileged core and the sandboxed monitor
 * (docs/monitor.md): one memfd, mapped by both, holding one channel per
 * vCPU and one control channel. A channel is two single-producer,
 * single-consumer rings of fixed-size messages, one each way; the protocol
 * on a channel is strictly request/reply, so a ring never holds more than a
 * few messages. Waiting is on futexes in the shared page (not private
 * futexes: two processes): the monitor sleeps on `doorbell`, which the
 * core bumps after every post; the core sleeps on the head of the ring it
 * reads.
 *
 *   struct mon_shm
 *   +--------------------------------------------------------------+
 *   | magic version nr_chan ready dead doorbell | monitor counters |
 *   +--------------------------------------------------------------+
 *   | chan[0]  to_mon ring | to_core ring      (vCPU 0)            |
 *   | ...                                                          |
 *   | chan[MON_CTL_CHAN]   control: console input, save, restore,  |
 *   |                      quit                                    |
 *   +--------------------------------------------------------------+
 *
 * Nothing the monitor writes here is trusted by the core: it reads a message
 * once, into its own memory, and validates it there.
 */
#ifndef VMM_MONITOR_RING_H
#define VMM_MONITOR_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/virtio_blk.h"

#define MON_SHM_MAGIC	0x4e4f4d56u /* "VMON" */
#define MON_SHM_VERSION 2u
#define MON_MAX_VCPUS	64u
#define MON_CTL_CHAN	MON_MAX_VCPUS /* the last channel */
#define MON_NR_CHAN	(MON_MAX_VCPUS + 1)
#define MON_RING_SLOTS	4u
#define MON_MSG_DATA	64u
#define MON_MAX_DISKS	8u     /* VESSEL_VIRTIO_MMIO_MAX */
#define MON_XFER_SIZE	16384u /* a disk's saved state, its counters */

/* The monitor's descriptors: 0-2 stdio, then these (docs/monitor.md). */
#define MON_FD_SHM     3
#define MON_FD_MEM     4	     /* guest RAM (only with disks) */
#define MON_FD_DISK(i) (5 + 4 * (i)) /* image, kick, irq, resample */
#define MON_FD_END(n)  MON_FD_DISK(n)

enum mon_msg_type {
	MON_MSG_NONE,
	/* core -> monitor */
	MON_MSG_EXIT,	      /* a routed exit: field = MON_EXIT_*, a = port/address, b = size,
				 c = write; data */
	MON_MSG_REPLY,	      /* answer to a monitor request: status, a = value, data */
	MON_MSG_INPUT,	      /* console input bytes (data, len) */
	MON_MSG_SAVE,	      /* save the device state */
	MON_MSG_RESTORE,      /* restore it from data, len */
	MON_MSG_QUIT,	      /* drain the console for at most a ms, then exit 0 */
	MON_MSG_PAUSE,	      /* the VM paused: the disks drain (nothing in flight) */
	MON_MSG_RESUME,	      /* the VM resumes */
	MON_MSG_DISK_SAVE,    /* disk a's state into xfer (answer: a = bytes) */
	MON_MSG_DISK_RESTORE, /* disk a's state from xfer (b bytes) */
	MON_MSG_DISK_STATS,   /* disk a's counter values (u64) into xfer (answer: a = bytes) */
	/* monitor -> core */
	MON_MSG_DONE,	     /* the exit is handled: data (an IN's bytes), irq */
	MON_MSG_STATE_READ,  /* read vCPU field `field` (policy.h) */
	MON_MSG_STATE_WRITE, /* write a to field `field` */
	MON_MSG_MEM_READ,    /* read len bytes at guest-physical a */
	MON_MSG_MEM_WRITE,   /* write data (len bytes) at guest-physical a */
	MON_MSG_ANSWER,	     /* answer to INPUT (a = bytes taken), SAVE (data), RESTORE */
	MON_MSG_TYPES
};

enum mon_exit_kind { MON_EXIT_PIO, MON_EXIT_MMIO };

struct mon_msg {
	uint32_t type;
	uint32_t field; /* STATE_*: enum mon_field */
	int32_t status; /* REPLY, ANSWER: 0 or -errno */
	uint32_t len;	/* bytes used in data[] */
	uint64_t a, b, c;
	int32_t irq_level; /* DONE, ANSWER: the UART's IRQ output ... */
	uint32_t irq_gen;  /* ... as of this change number (0: none yet) */
	uint32_t seq;	   /* EXIT, control requests: a number; DONE, ANSWER: the
			      request's (a late answer to an abandoned one is dropped) */
	uint32_t pad;
	uint8_t data[MON_MSG_DATA];
};

struct mon_ring {
	uint32_t head; /* next slot the producer fills; a futex word */
	uint32_t pad0[15];
	uint32_t tail; /* next slot the consumer takes */
	uint32_t pad1[15];
	struct mon_msg slot[MON_RING_SLOTS];
};

struct mon_chan {
	struct mon_ring to_mon;
	struct mon_ring to_core;
};

/* What the monitor tells about itself (informational: never trusted). */
struct mon_self {
	uint64_t console_bytes;	  /* bytes the guest wrote to the UART */
	uint64_t console_dropped; /* of which lost to a stalled stdout */
	uint32_t namespaces;	  /* CLONE_NEW* flags it runs in */
	uint32_t syscalls;	  /* system calls its seccomp filter allows */
};

/* What the monitor runs besides the UART: written by the core before the spawn. */
struct mon_devices {
	uint64_t mem_size;	   /* guest RAM, the memfd at MON_FD_MEM */
	uint64_t hide_lo, hide_hi; /* a secure domain's RAM, no device may touch it */
	uint64_t dirty_off;	   /* the dirty bitmap: offset in this memfd ... */
	uint64_t dirty_words;	   /* ... and its 64-bit words */
	uint64_t poison_off;	   /* the poisoned pages (as many words), set by the core */
	uint64_t shm_size;	   /* this memfd's size */
	uint32_t ndisks, pad;
	struct vblk_handover disk[MON_MAX_DISKS]; /* descriptors: MON_FD_DISK(i)... */
};

struct mon_shm {
	uint32_t magic, version, nr_chan;
	uint32_t ready;	   /* monitor: sandboxed and serving (futex word) */
	uint32_t dead;	   /* core: the monitor is gone, stop waiting */
	uint32_t doorbell; /* core: bumped after every post (futex word) */
	struct mon_self self;
	struct mon_chan chan[MON_NR_CHAN];
	struct mon_devices devs;
	/* the control channel's bulk data (one exchange at a time) */
	uint8_t xfer[MON_XFER_SIZE];
	/* then, page-aligned at devs.dirty_off: the pages the monitor wrote */
};

/*
 * mon_ring_post - append a copy of m to r; -EAGAIN when the ring is full
 * (the other side broke the protocol). Producer side only.
 */
int mon_ring_post(struct mon_ring *r, const struct mon_msg *m);

/* mon_ring_take - move the oldest message into *m; false when empty. */
bool mon_ring_take(struct mon_ring *r, struct mon_msg *m);

/* mon_ring_empty - whether there is nothing to take. */
bool mon_ring_empty(struct mon_ring *r);

/*
 * mon_futex_wait - sleep while *word == val, at most timeout_ms (< 0:
 * forever); returns at once if it differs. Spurious returns are possible:
 * the caller re-checks.
 */
void mon_futex_wait(uint32_t *word, uint32_t val, int timeout_ms);

/* mon_futex_wake - wake up to n sleepers on word (n < 0: all). */
void mon_futex_wake(uint32_t *word, int n);

#endif
