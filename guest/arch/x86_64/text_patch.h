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
#include <stdint.h>
#include <abi/vessel.h>

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
 *
 * Code integrity (VESSEL_BOOT_F_INTEGRITY, docs/integrity.md): image text is
 * read-only in the VM, so a write there is a request to the VMM, which
 * performs it only inside a registered patch site (TEXT_PATCH_SITE) and for
 * allowed instruction forms: -EPERM when it refuses, -EINVAL for more than
 * VESSEL_PATCH_MAX bytes. Code pages in the direct map are written as above.
 */
int text_poke(void *addr, const void *bytes, size_t len);

/*
 * Declares [addr, addr + len) of kernel text a patch site: text_poke may
 * rewrite it under code integrity. The table lives in .rodata (read-only in
 * the VM) and is registered with the VMM once, at boot (text_patch_init).
 */
#define TEXT_PATCH_SITE(name, addr, len)                                                           \
	static const struct vessel_patch_site __patch_site_##name                                  \
		__attribute__((section(".patch_sites"), used, aligned(16))) = { (uint64_t)(addr),  \
										(len) }

/*
 * Registers the patch sites with the VMM when it runs the kernel with code
 * integrity (BSP, before the first text_poke of image text); prints what it
 * did. Nothing without integrity.
 */
void text_patch_init(void);

struct text_patch_counts {
	uint64_t vmm_patches; /* image-text writes the VMM performed */
	uint64_t vmm_refused; /* ... it refused */
};
/* text_patch_counts - the counters above, for the stats (integrity.*). */
void text_patch_counts(struct text_patch_counts *out);

#endif
