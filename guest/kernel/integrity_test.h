/* SPDX-License-Identifier: MIT */
/*
 * Code integrity seen from the kernel (docs/integrity.md). The refusals of
 * the VMM's patch checks are self-tests (kernel/selftests_integrity.c);
 * what happens to a plain write into kernel text depends on the VMM's mode
 * (the VM stops, or the write is discarded, or it lands), so it is a
 * command-line test the host checks from outside.
 */
#ifndef KERNEL_INTEGRITY_TEST_H
#define KERNEL_INTEGRITY_TEST_H

/*
 * Command line `textwrite`: writes one byte of its own text through the
 * direct map, reads it back, prints
 *   "textwrite: write landed" | "textwrite: write discarded"
 * (unless the VMM stopped the VM at the write), restores and powers off 0.
 */
void integrity_textwrite(void) __attribute__((noreturn));

/*
 * Command line `patchbench`: 20 patches of one registered site (text_poke
 * of 6 bytes, alternating) and prints the median TSC cycles of one, with
 * the integrity mode; the host counts the exits. Powers off 0.
 */
void integrity_patchbench(void) __attribute__((noreturn));

/*
 * integrity_textpatch - flip a registered patch site between "return 1" and
 * "return 2" with text_poke() and print both results (the kernel prompt's
 * `textpatch`: patching still works after a migration).
 */
void integrity_textpatch(void);

/*
 * Command line `secureread`: reads the TCB's first word through the
 * kernel's own mapping; the root domain has no memory there, so the VMM
 * stops the VM ("secureread: read ..." is never printed).
 */
void domain_secureread(void) __attribute__((noreturn));

/*
 * Command line `domainbench`: 50 round trips of a plain hypercall (one the
 * VMM refuses at once) and of a secure-domain call (the TCB's echo entry),
 * median TSC cycles of each; the host adds its own measurement. Powers off.
 */
void domain_bench(void) __attribute__((noreturn));

#endif
