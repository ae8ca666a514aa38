/* SPDX-License-Identifier: MIT */
/*
 * The trusted computing base inside a kernel ELF (include/abi/vessel.h,
 * "The secure domain"): where its `.tcb` section is, the SHA-256 recorded
 * for it in `.tcb_sha256`, and the measurement itself (GnuTLS). Pure: used
 * by the VMM at boot and by the build's sealing tool (tools/tcb_seal.c).
 */
#ifndef VMM_DOMAIN_TCB_IMAGE_H
#define VMM_DOMAIN_TCB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define TCB_SHA256_LEN 32

struct tcb_image {
	uint64_t va;	   /* virtual address of .tcb (its header) */
	uint64_t gpa;	   /* where it is loaded (the PT_LOAD holding it) */
	uint64_t size;	   /* bytes of .tcb */
	uint64_t file_off; /* offset of .tcb in the file */
	uint64_t sha_off;  /* offset of .tcb_sha256 in the file */
	uint8_t recorded[TCB_SHA256_LEN];
};

/*
 * tcb_image_find - locate the TCB of the ELF64 `elf` (size bytes). 0,
 * -ENOENT (the kernel has no .tcb section), or -ENOEXEC with a reason in
 * why (bad section headers, .tcb not page aligned or not inside one PT_LOAD,
 * no 32-byte .tcb_sha256).
 */
int tcb_image_find(const uint8_t *elf, size_t size, struct tcb_image *out, char *why,
		   size_t whylen);

/* tcb_sha256 - SHA-256 of data[0..len) into out. 0 or -EIO. */
int tcb_sha256(const void *data, size_t len, uint8_t out[TCB_SHA256_LEN]);

/* tcb_hex - the 64 hex digits of a digest into buf (65 bytes). */
void tcb_hex(const uint8_t d[TCB_SHA256_LEN], char buf[2 * TCB_SHA256_LEN + 1]);

#endif
