// SPDX-License-Identifier: MIT
/*
 * The TCB's instruction-form check (tcb_check.h). Linked into `.tcb` with
 * the rest of the TCB and measured with it; calls nothing. The host unit
 * test (tests/unit/vmm_integrity_test.c) includes this file to check it
 * against the VMM's decoder.
 */
#include "tcb/tcb_check.h"

#define TCB_TEXT __attribute__((section(".tcb.text"), noinline, used))

/* Little-endian signed 8- or 32-bit displacement at p. */
static inline __attribute__((always_inline)) int64_t tcb_rel(const uint8_t *p, unsigned size)
{
	if (size == 1)
		return (int8_t)p[0];
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

TCB_TEXT int tcb_code_allowed(const uint8_t *code, uint64_t len, uint64_t at, uint64_t text_lo,
			      uint64_t text_hi)
{
	uint64_t off = 0;

	while (off < len) {
		const uint8_t *p = code + off;
		uint64_t left = len - off, n = 0, rel_at = 0;
		unsigned rel_size = 0, rex = 0;
		uint8_t op;

		if (p[0] == 0xcc || p[0] == 0x90 || p[0] == 0xc3) {
			off++;
			continue;
		}
		if ((p[0] & 0xf0) == 0x40) {
			rex = p[0];
			n = 1;
		}
		if (n >= left)
			return 0;
		op = p[n];
		if (op >= 0xb8 && op <= 0xbf) { /* mov r, imm32 (imm64 with REX.W) */
			n += 1 + ((rex & 8) ? 8 : 4);
		} else if (op == 0x81 || op == 0x83) { /* cmp r, imm: ModRM mod 3, reg 7 */
			if (n + 1 >= left || (p[n + 1] & 0xf8) != 0xf8)
				return 0;
			n += 2 + (op == 0x81 ? 4 : 1);
		} else if (op == 0x39 || op == 0x3b || op == 0x85 || op == 0x89 || op == 0x8b) {
			if (n + 1 >= left || (p[n + 1] & 0xc0) != 0xc0)
				return 0; /* a memory operand */
			n += 2;
		} else if (op == 0x3d) { /* cmp eax/rax, imm32 */
			n += 5;
		} else if (rex) {
			return 0; /* no REX on branches */
		} else if (op == 0xeb || (op >= 0x70 && op <= 0x7f)) {
			rel_at = 1;
			rel_size = 1;
			n = 2;
		} else if (op == 0xe9) {
			rel_at = 1;
			rel_size = 4;
			n = 5;
		} else if (op == 0x0f && left >= 2 && p[1] >= 0x80 && p[1] <= 0x8f) {
			rel_at = 2;
			rel_size = 4;
			n = 6;
		} else {
			return 0;
		}
		if (n > left)
			return 0; /* cut off */
		if (rel_size) {
			uint64_t to = at + off + n + (uint64_t)tcb_rel(p + rel_at, rel_size);

			if (to < text_lo || to >= text_hi)
				return 0;
		}
		off += n;
	}
	return 1;
}
