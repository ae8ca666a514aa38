/* SPDX-License-Identifier: MIT */
/* The kernel's built-in prompt, used when the initrd has no /init. */
#ifndef KERNEL_KSHELL_H
#define KERNEL_KSHELL_H

/* Reads commands from the console forever (`help`, `stats`, `poweroff`). */
void kshell_run(void) __attribute__((noreturn));

#endif
