// SPDX-License-Identifier: MIT
/* Hot-set choice and code emission for search trampolines (jswitch.h). */
#include "lib/jswitch.h"
#include "lib/errno.h"

int jsw_pick_hot(const uint64_t *counts, int nkeys, int k, uint32_t *out)
{
	int n = 0;

	if (k < 0 || k > JSW_MAX_ENTRIES)
		return -EINVAL;
	/* insertion into out[], kept sorted by count descending; k is small */
	for (int key = 0; key < nkeys; key++) {
		int pos;

		if (!counts[key])
			continue;
		pos = n;
		while (pos > 0 && counts[out[pos - 1]] < counts[key])
			pos--;
		if (pos >= k)
			continue;
		for (int j = (n < k ? n : k - 1); j > pos; j--)
			out[j] = out[j - 1];
		out[pos] = (uint32_t)key;
		if (n < k)
			n++;
	}
	return n;
}

/* rel32 from the end of an instruction at `end` to target, or -ERANGE. */
static int rel32(uint64_t end, uint64_t target, uint8_t *p)
{
	int64_t d = (int64_t)(target - end);

	if (d < INT32_MIN || d > INT32_MAX)
		return -ERANGE;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)((uint64_t)d >> (8 * i));
	return 0;
}

int jsw_emit_jmp(uint8_t *buf, size_t cap, uint64_t at, uint64_t target)
{
	if (cap < JSW_TAIL_BYTES)
		return -ENOSPC;
	buf[0] = 0xe9; /* jmp rel32 */
	if (rel32(at + JSW_TAIL_BYTES, target, buf + 1))
		return -ERANGE;
	return JSW_TAIL_BYTES;
}

int jsw_emit(uint8_t *buf, size_t cap, uint64_t at, const uint32_t *keys, const uint64_t *targets,
	     int n, uint64_t miss)
{
	uint8_t *p = buf;

	if (n < 0 || n > JSW_MAX_ENTRIES)
		return -EINVAL;
	if (cap < (size_t)JSW_CODE_BYTES(n))
		return -ENOSPC;
	for (int i = 0; i < n; i++) {
		uint64_t off = (uint64_t)(p - buf);

		if (keys[i] > INT32_MAX)
			return -EINVAL;
		p[0] = 0x81; /* cmp $imm32, %esi */
		p[1] = 0xfe;
		for (int b = 0; b < 4; b++)
			p[2 + b] = (uint8_t)(keys[i] >> (8 * b));
		p[6] = 0x0f; /* je rel32 */
		p[7] = 0x84;
		if (rel32(at + off + JSW_ENTRY_BYTES, targets[i], p + 8))
			return -ERANGE;
		p += JSW_ENTRY_BYTES;
	}
	if (jsw_emit_jmp(p, JSW_TAIL_BYTES, at + (uint64_t)(p - buf), miss) < 0)
		return -ERANGE;
	p += JSW_TAIL_BYTES;
	return (int)(p - buf);
}

int jsw_emit_ptr(uint8_t *buf, size_t cap, uint64_t at, const uint64_t *targets, int n,
		 uint64_t miss)
{
	uint8_t *p = buf;

	if (n < 0 || n > JSW_MAX_ENTRIES)
		return -EINVAL;
	if (cap < (size_t)JSW_PTR_CODE_BYTES(n))
		return -ENOSPC;
	for (int i = 0; i < n; i++) {
		uint64_t off = (uint64_t)(p - buf), t = targets[i];

		if ((uint64_t)(int64_t)(int32_t)t != t)
			return -ERANGE;
		p[0] = 0x48; /* cmp $simm32, %rcx */
		p[1] = 0x81;
		p[2] = 0xf9;
		for (int b = 0; b < 4; b++)
			p[3 + b] = (uint8_t)(t >> (8 * b));
		p[7] = 0x0f; /* je rel32 */
		p[8] = 0x84;
		if (rel32(at + off + JSW_PTR_ENTRY_BYTES, t, p + 9))
			return -ERANGE;
		p += JSW_PTR_ENTRY_BYTES;
	}
	if (jsw_emit_jmp(p, JSW_TAIL_BYTES, at + (uint64_t)(p - buf), miss) < 0)
		return -ERANGE;
	p += JSW_TAIL_BYTES;
	return (int)(p - buf);
}

int jsw_same_keys(const uint32_t *a, int na, const uint32_t *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}
