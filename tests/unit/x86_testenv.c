// SPDX-License-Identifier: MIT
/* The x86emu test address space (see x86_testenv.h). */
#include <string.h>

#include "lib/errno.h"
#include "x86_testenv.h"

static int fetch(void *p, uint64_t rip, const struct x86_insn **in)
{
	struct x86_testenv *t = p;
	int r;

	t->fetches++;
	if (rip < X86T_CODE_VA || rip >= X86T_CODE_VA + t->code_len)
		return -EFAULT;
	/* one buffer, scribbled over first: a caller keeping a stale pointer reads garbage */
	memset(&t->insn, 0xa5, sizeof(t->insn));
	r = x86_decode(t->code + (rip - X86T_CODE_VA), t->code_len - (rip - X86T_CODE_VA),
		       &t->insn);
	*in = &t->insn;
	return r < 0 ? r : 0;
}

static int data_ok(uint64_t a, unsigned size)
{
	return a >= X86T_DATA_VA && a + size <= X86T_DATA_VA + X86T_DATA_LEN && a + size > a;
}

static int rd(void *p, uint64_t a, uint64_t *v, unsigned size)
{
	struct x86_testenv *t = p;

	if (!data_ok(a, size))
		return -EFAULT;
	*v = 0;
	memcpy(v, t->data + (a - X86T_DATA_VA), size);
	return 0;
}

static int wr(void *p, uint64_t a, uint64_t v, unsigned size)
{
	struct x86_testenv *t = p;

	if (!data_ok(a, size))
		return -EFAULT;
	memcpy(t->data + (a - X86T_DATA_VA), &v, size);
	return 0;
}

void x86_testenv_init(struct x86_testenv *t, struct x86emu_env *env, const uint8_t *code,
		      size_t len)
{
	t->code = code;
	t->code_len = len;
	t->fetches = 0;
	env->fetch = fetch;
	env->read = rd;
	env->write = wr;
	env->ctx = t;
}
