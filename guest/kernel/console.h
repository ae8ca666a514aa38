/* SPDX-License-Identifier: MIT */
/*
 * The console line discipline (docs/syscalls.md, "Console"): echo, erase,
 * lines delivered whole, Ctrl-D as end of file.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdint.h>

/*
 * Registers the COM1 receive interrupt handler (it feeds the line
 * discipline), routes the interrupt to the BSP and enables it.
 */
void console_init(void);
/*
 * Reads up to len bytes of the next line into kernel buffer buf, sleeping
 * (BKL held) until one is complete. Returns the count, 0 at end of file.
 * Returns -EINTR if the calling process was killed while waiting.
 */
int64_t console_read(char *buf, uint64_t len);

#endif
