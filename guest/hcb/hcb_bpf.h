/* SPDX-License-Identifier: MIT */
/*
 * What a hyper-callback (compiled with clang -target bpf, run by the VMM)
 * may use: the ABI of include/abi/vessel.h and the VMM's read helper.
 */
#ifndef GUEST_HCB_HCB_BPF_H
#define GUEST_HCB_HCB_BPF_H

#include "abi/vessel.h"

#define SEC(name) __attribute__((section(name), used))

/* Copy size bytes of guest-physical memory at gpa (inside a registered range)
 * into dst: 0, or -errno with dst zero-filled. */
static long (*hcb_read)(void *dst, unsigned long size,
			unsigned long gpa) = (void *)VESSEL_HCB_HELPER_READ;

#endif
