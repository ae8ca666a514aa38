/* SPDX-License-Identifier: MIT */
/*
 * A small eBPF assembler for tests (not part of libebpf). Syntax, one
 * instruction per line, `#` or `;` start a comment, `name:` defines a label:
 *   add r1, r2 | add r1, 5 | add32 r1, r2      (sub mul div sdiv mod smod or
 *                                               and lsh rsh arsh xor mov)
 *   neg r1 | neg32 r1 | movsx8 r1, r2 | movsx16 | movsx32 | movsx8_32 | movsx16_32
 *   le16 r1 | le32 | le64 | be16 | be32 | be64 | bswap16 | bswap32 | bswap64
 *   lddw r1, 0x1122334455667788
 *   ldxb r0, [r1+2] (ldxh ldxw ldxdw ldxsb ldxsh ldxsw)
 *   stb [r1-8], 5 (sth stw stdw) | stxb [r10-8], r1 (stxh stxw stxdw)
 *   lock_add32 [r1+0], r2 (lock_or lock_and lock_xor fetch_add fetch_or
 *       fetch_and fetch_xor xchg cmpxchg, each with 32 or 64)
 *   ja label | ja +2 | ja32 label (gotol) | jeq r1, 5, label | jeq32 r1, r2, +1
 *       (jeq jne jgt jge jlt jle jset jsgt jsge jslt jsle)
 *   call 1 (helper id) | call label (local function) | exit
 *   .insn CODE DST SRC OFF IMM      raw instruction, any encoding
 */
#ifndef TESTS_EBPF_ASM_H
#define TESTS_EBPF_ASM_H

#include <stddef.h>
#include "ebpf/ebpf.h"

/* Assemble `text`. Returns the number of instructions (>= 0) stored in
 * a malloc'd *out, or -1 with a message in err (errlen bytes). */
int ebpf_asm(const char *text, struct ebpf_insn **out, char *err, size_t errlen);

#endif
