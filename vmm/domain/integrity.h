/* SPDX-License-Identifier: MIT */
/*
 * Kernel code integrity (issue 16, H4; docs/integrity.md): the kernel's
 * read-only PT_LOAD segments (text and rodata) are mapped read-only in the
 * VM's memslots (core/memslots.h), so no guest write reaches them whatever
 * the guest's page tables or CR0.WP say. A refused write stops the VM with
 * a report (address, RIP), or in report mode is discarded and logged. The
 * kernel changes its own code only through VESSEL_HC_TEXT_PATCH, which this
 * subsystem validates (a registered patch site, allowed instruction forms,
 * direct jumps into kernel text) and performs.
 */
#ifndef VMM_DOMAIN_INTEGRITY_H
#define VMM_DOMAIN_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

enum integrity_mode {
	INTEGRITY_OFF,	  /* text writable (the baseline) */
	INTEGRITY_ON,	  /* a write to text stops the VM */
	INTEGRITY_REPORT, /* a write to text is discarded, logged, counted */
};

/*
 * integrity_parse_mode - "on", "report" or "off" into *mode; 0 or -EINVAL.
 */
int integrity_parse_mode(const char *s, enum integrity_mode *mode);

/* integrity_mode_name - "off", "on" or "report". */
const char *integrity_mode_name(enum integrity_mode m);

/*
 * integrity_attach - protect the read-only PT_LOAD segments of the kernel
 * `elf` (size bytes, already loaded with vm_load_elf()) and attach the exit
 * hook and the patch hypercall's state. After vm_load_elf(), before
 * vm_kvm_create(). INTEGRITY_OFF attaches nothing (the patch hypercall then
 * answers -ENODEV). 0 or -errno with vm->err set.
 */
int integrity_attach(struct vm *vm, const void *elf, size_t size, enum integrity_mode mode);

/*
 * integrity_save - for migration, with the VM paused: a blob (malloc'd, the
 * caller frees it) carrying the mode, the protected ranges, the TCB's place
 * and its measurement as it is now (domain_measure), the registered patch
 * sites and the counters. *blob = NULL when integrity is off. 0 or -errno.
 */
int integrity_save(struct vm *vm, void **blob, size_t *len);

/*
 * integrity_restore - on the destination, after the memory arrived: check
 * that the source's mode, protected ranges and TCB are this VM's (started
 * with the same --integrity and kernel), re-measure the TCB received against
 * the image's record and the source's measurement, then take the patch
 * sites and counters. 0, or -EPERM/-EPROTO/-EIO with a reason in err.
 */
int integrity_restore(struct vm *vm, const void *blob, size_t len, char *err, size_t errlen);

/* integrity_attached - integrity is on or report for this VM. */
bool integrity_attached(struct vm *vm);

struct integrity_counts {
	uint64_t mode;		 /* enum integrity_mode */
	uint64_t sites;		 /* patch sites registered */
	uint64_t patches;	 /* patches performed */
	uint64_t patch_refused;	 /* patch requests refused */
	uint64_t writes_refused; /* guest writes to protected memory seen */
};

/* integrity_counts - the counters (all 0 when not attached). */
void integrity_counts(struct vm *vm, struct integrity_counts *out);

/*
 * integrity_check_code - 0 if code[0..len), to run at virtual address `at`,
 * is a sequence of whole instructions of the allowed forms (see
 * include/abi/vessel.h, VESSEL_HC_TEXT_PATCH) whose direct jumps land in
 * [text_lo, text_hi); else -EPERM with a reason in why.
 */
int integrity_check_code(const uint8_t *code, size_t len, uint64_t at, uint64_t text_lo,
			 uint64_t text_hi, char *why, size_t whylen);

#endif
