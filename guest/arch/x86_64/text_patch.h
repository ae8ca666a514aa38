/* SPDX-License-Identifier: MIT */
/*
 * Kernel text patching: every write of machine code the kernel makes goes
 * through text_poke, whether it changes an instruction in the kernel image
 * or fills a code page the kernel provides (the syscall erratum stub page,
 * the errata probes' user page, the real-mode AP trampoline). One place to
 * add W^X, code-integrity checks or cross-CPU synchronisation when a
 * mechanism needs them. (User program images are loaded, not patched:
 * kernel/proc.c copies them like data.)
 */
#ifndef ARCH_X86_64_TEXT_PATCH_H
#define ARCH_X86_64_TEXT_PATCH_H

#include <stddef.h>

/*
 * Writes the len bytes of code at `bytes` to kernel address addr and makes
 * this CPU execute the new bytes from then on.
 *
 * addr .. addr + len must lie inside the kernel image's .text, or inside the
 * direct map of physical memory (a code page the caller allocated and maps
 * executable elsewhere); 0 < len <= 4096. Image text is written through its
 * direct-map alias, so the executable mapping itself need not be writable.
 *
 * Kernel image text is written in the privileged mode (kernel/priv.h) once
 * it is set up: every other CPU is stopped in its stop state while the bytes
 * change and serialises (the release NMI's iret) before it runs on. Before
 * that (early boot) and for code pages, the caller guarantees that no CPU
 * executes the bytes while they change and that another CPU about to run
 * them serialises first. This CPU is serialised here (cpuid). Returns 0, or
 * -EINVAL for a range outside those areas.
 */
int text_poke(void *addr, const void *bytes, size_t len);

#endif
