/* SPDX-License-Identifier: MIT */
/* Error numbers: the ones user space sees (Linux values, include/abi/syscalls.h). */
#ifndef GUEST_LIB_ERRNO_H
#define GUEST_LIB_ERRNO_H

#include "abi/syscalls.h"

#endif
