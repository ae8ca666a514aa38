/* SPDX-License-Identifier: MIT */
/* The read-only file namespace over the initrd (guest/lib/initrd.c reads it). */
#ifndef KERNEL_INITRD_H
#define KERNEL_INITRD_H

#include "lib/initrd.h"

/* Validates the initrd the loader passed (if any) and prints its file count. */
void initrd_init(void);
/* The validated image, or NULL when there is none. */
const struct initrd *initrd_get(void);

#endif
