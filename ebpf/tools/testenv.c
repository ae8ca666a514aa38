// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ebpf/tools/testenv.h"

#define GUEST_SIZE 4096

static uint64_t h_sum5(void *u, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + b + c + d + e;
}

static uint64_t h_memsum(void *u, uint64_t p, uint64_t n, uint64_t c, uint64_t d, uint64_t e)
{
	const uint8_t *b = (const uint8_t *)(uintptr_t)p;
	uint64_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

static uint64_t h_copy_guest(void *u, uint64_t p, uint64_t n, uint64_t gaddr, uint64_t d,
			     uint64_t e)
{
	uint8_t *dst = (uint8_t *)(uintptr_t)p;

	if (gaddr > GUEST_SIZE || n > GUEST_SIZE - gaddr) {
		memset(dst, 0, n);
		return (uint64_t)-EFAULT;
	}
	for (uint64_t i = 0; i < n; i++)
		dst[i] = (uint8_t)((gaddr + i) * 7);
	return 0;
}

static uint64_t h_fill(void *u, uint64_t p, uint64_t n, uint64_t c, uint64_t d, uint64_t e)
{
	memset((void *)(uintptr_t)p, 0xab, n);
	return n;
}

static uint64_t h_ctx_first(void *u, uint64_t ctx, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct testenv *t = u;

	if (!t || t->layout != LAYOUT_MEM)
		return t ? t->ctx16[1] : 0;
	return t->len ? t->mem[0] : 0;
}

int testenv_init(struct testenv *t, enum testenv_layout layout, const uint8_t *mem, size_t len)
{
	static const enum ebpf_arg_type a_sum5[5] = { EBPF_ARG_SCALAR, EBPF_ARG_SCALAR,
						      EBPF_ARG_SCALAR, EBPF_ARG_SCALAR,
						      EBPF_ARG_SCALAR };
	static const enum ebpf_arg_type a_memsum[5] = { EBPF_ARG_MEM_RO, EBPF_ARG_SIZE };
	static const enum ebpf_arg_type a_copy[5] = { EBPF_ARG_MEM_WO, EBPF_ARG_SIZE,
						      EBPF_ARG_SCALAR };
	static const enum ebpf_arg_type a_fill[5] = { EBPF_ARG_MEM_WO, EBPF_ARG_SIZE };
	static const enum ebpf_arg_type a_ctx[5] = { EBPF_ARG_CTX };
	int rc;

	memset(t, 0, sizeof(*t));
	t->layout = layout;
	t->len = len;
	/* never 0 bytes, so that the pointer is a real allocation */
	t->mem = malloc(len ? len : 1);
	t->env = ebpf_env_new();
	if (!t->mem || !t->env) {
		testenv_free(t);
		return -ENOMEM;
	}
	if (len)
		memcpy(t->mem, mem, len);
	if (layout == LAYOUT_MEM) {
		rc = ebpf_env_set_ctx(t->env, (uint32_t)len, EBPF_CTX_WRITABLE);
	} else {
		rc = ebpf_env_set_ctx(t->env, 16, 0);
		if (!rc)
			rc = ebpf_env_add_region(
				t->env, "data", 0, (uint32_t)len,
				layout == LAYOUT_REGIONS_RW ? EBPF_REGION_WRITABLE : 0);
		if (rc > 0)
			rc = 0;
		t->ctx16[0] = (uintptr_t)t->mem;
		t->ctx16[1] = len;
	}
	if (!rc)
		rc = ebpf_env_add_helper(t->env, 1, "sum5", h_sum5, a_sum5);
	if (!rc)
		rc = ebpf_env_add_helper(t->env, 2, "memsum", h_memsum, a_memsum);
	if (!rc)
		rc = ebpf_env_add_helper(t->env, 3, "copy_guest", h_copy_guest, a_copy);
	if (!rc)
		rc = ebpf_env_add_helper(t->env, 4, "fill", h_fill, a_fill);
	if (!rc)
		rc = ebpf_env_add_helper(t->env, 5, "ctx_first", h_ctx_first, a_ctx);
	if (rc < 0) {
		testenv_free(t);
		return rc;
	}
	return 0;
}

void *testenv_ctx(struct testenv *t)
{
	return t->layout == LAYOUT_MEM ? (void *)t->mem : (void *)t->ctx16;
}

void testenv_free(struct testenv *t)
{
	ebpf_env_free(t->env);
	free(t->mem);
	t->env = NULL;
	t->mem = NULL;
}

uint8_t *testenv_read_all(FILE *f, size_t *n, int *err)
{
	size_t cap = 4096, r;
	uint8_t *buf = malloc(cap), *bigger;

	*n = 0;
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	while ((r = fread(buf + *n, 1, cap - *n, f)) > 0) {
		*n += r;
		if (*n > TESTENV_FILE_MAX) {
			free(buf);
			*err = -EFBIG;
			return NULL;
		}
		if (*n == cap) {
			bigger = realloc(buf, cap *= 2);
			if (!bigger) {
				free(buf);
				*err = -ENOMEM;
				return NULL;
			}
			buf = bigger;
		}
	}
	if (ferror(f)) {
		free(buf);
		*err = -EIO;
		return NULL;
	}
	return buf;
}
