/* SPDX-License-Identifier: MIT */
/* The hyper-callbacks, compiled for BPF by the build, embedded in the kernel
 * image (guest/kernel/hcb.c registers them). */
	.section .rodata
	.balign 8
	.globl hcb_free_pages_start, hcb_free_pages_end
hcb_free_pages_start:
	.incbin "free_pages.o"
hcb_free_pages_end:
	.balign 8
	.globl hcb_page_owner_start, hcb_page_owner_end
hcb_page_owner_start:
	.incbin "page_owner.o"
hcb_page_owner_end:
	.section .note.GNU-stack, "", @progbits
