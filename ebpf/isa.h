/* SPDX-License-Identifier: MIT */
/* The eBPF instruction encoding of RFC 9669 (section 3 to 5). */
#ifndef EBPF_ISA_H
#define EBPF_ISA_H

/* class: low 3 bits of the opcode */
#define EBPF_CLASS(c) ((c)&0x07)
#define EBPF_LD	      0x00
#define EBPF_LDX      0x01
#define EBPF_ST	      0x02
#define EBPF_STX      0x03
#define EBPF_ALU      0x04
#define EBPF_JMP      0x05
#define EBPF_JMP32    0x06
#define EBPF_ALU64    0x07

/* arithmetic and jump instructions: source bit and operation */
#define EBPF_SRC(c) ((c)&0x08)
#define EBPF_K	    0x00
#define EBPF_X	    0x08
#define EBPF_OP(c)  ((c)&0xf0)

#define EBPF_ADD  0x00
#define EBPF_SUB  0x10
#define EBPF_MUL  0x20
#define EBPF_DIV  0x30
#define EBPF_OR	  0x40
#define EBPF_AND  0x50
#define EBPF_LSH  0x60
#define EBPF_RSH  0x70
#define EBPF_NEG  0x80
#define EBPF_MOD  0x90
#define EBPF_XOR  0xa0
#define EBPF_MOV  0xb0
#define EBPF_ARSH 0xc0
#define EBPF_END  0xd0

#define EBPF_TO_LE 0x00 /* with EBPF_END, in the source bit */
#define EBPF_TO_BE 0x08

#define EBPF_JA	  0x00
#define EBPF_JEQ  0x10
#define EBPF_JGT  0x20
#define EBPF_JGE  0x30
#define EBPF_JSET 0x40
#define EBPF_JNE  0x50
#define EBPF_JSGT 0x60
#define EBPF_JSGE 0x70
#define EBPF_CALL 0x80
#define EBPF_EXIT 0x90
#define EBPF_JLT  0xa0
#define EBPF_JLE  0xb0
#define EBPF_JSLT 0xc0
#define EBPF_JSLE 0xd0

/* load and store instructions: mode and size */
#define EBPF_MODE(c) ((c)&0xe0)
#define EBPF_IMM     0x00
#define EBPF_ABS     0x20
#define EBPF_IND     0x40
#define EBPF_MEM     0x60
#define EBPF_MEMSX   0x80
#define EBPF_ATOMIC  0xc0

#define EBPF_SIZE(c) ((c)&0x18)
#define EBPF_W	     0x00
#define EBPF_H	     0x08
#define EBPF_B	     0x10
#define EBPF_DW	     0x18

/* atomic operations, in imm */
#define EBPF_FETCH   0x01
#define EBPF_XCHG    (0xe0 | EBPF_FETCH)
#define EBPF_CMPXCHG (0xf0 | EBPF_FETCH)

/* call flavours, in src */
#define EBPF_PSEUDO_CALL_HELPER 0
#define EBPF_PSEUDO_CALL_LOCAL	1
#define EBPF_PSEUDO_CALL_BTF	2

#define EBPF_OPC_LDDW (EBPF_LD | EBPF_IMM | EBPF_DW) /* 0x18 */

static inline unsigned ebpf_size_bytes(unsigned code)
{
	switch (EBPF_SIZE(code)) {
	case EBPF_B:
		return 1;
	case EBPF_H:
		return 2;
	case EBPF_W:
		return 4;
	default:
		return 8;
	}
}

#endif
