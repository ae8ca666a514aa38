/* SPDX-License-Identifier: MIT */
/* The register frame every kernel entry (exception, interrupt, syscall) builds. */
#ifndef ARCH_X86_64_TRAPFRAME_H
#define ARCH_X86_64_TRAPFRAME_H

#include <stdint.h>

struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector; /* 0..255, or VEC_SYSCALL_FAST / VEC_SYSCALL_UD */
	uint64_t error;	 /* CPU error code or 0 */
	/* pushed by the CPU (or built identically by the syscall entries) */
	uint64_t rip, cs, rflags, rsp, ss;
};

#define TF_VECTOR 120
#define TF_CS	  144

_Static_assert(__builtin_offsetof(struct trapframe, vector) == TF_VECTOR, "entry.S");
_Static_assert(__builtin_offsetof(struct trapframe, cs) == TF_CS, "entry.S");
_Static_assert(sizeof(struct trapframe) == 22 * 8, "entry.S");

static inline int tf_from_user(const struct trapframe *tf)
{
	return (tf->cs & 3) == 3;
}

#endif
