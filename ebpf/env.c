// SPDX-License-Identifier: MIT
/* The embedder's description of the world: context, regions, helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int ebpf_fail(struct ebpf_error *err, int insn, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	err->insn = insn;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct ebpf_env *ebpf_env_new(void)
{
	return calloc(1, sizeof(struct ebpf_env));
}

void ebpf_env_free(struct ebpf_env *env)
{
	free(env);
}

static bool regions_fit(const struct ebpf_env *env, uint32_t ctx_size)
{
	for (unsigned i = 0; i < env->nregions; i++)
		if ((uint64_t)env->regions[i].ctx_offset + 8 > ctx_size)
			return false;
	return true;
}

int ebpf_env_set_ctx(struct ebpf_env *env, uint32_t size, unsigned flags)
{
	if (size > EBPF_MAX_MEM_SIZE || !regions_fit(env, size) || (flags & ~EBPF_CTX_WRITABLE))
		return -EINVAL;
	env->ctx_size = size;
	env->ctx_flags = flags;
	return 0;
}

int ebpf_env_add_region(struct ebpf_env *env, const char *name, uint32_t ctx_offset, uint32_t size,
			unsigned flags)
{
	struct ebpf_region *r;

	if (env->nregions >= EBPF_MAX_REGIONS)
		return -ENOSPC;
	if (size > EBPF_MAX_MEM_SIZE || (ctx_offset & 7) ||
	    (uint64_t)ctx_offset + 8 > env->ctx_size || (flags & ~EBPF_REGION_WRITABLE))
		return -EINVAL;
	for (unsigned i = 0; i < env->nregions; i++)
		if (env->regions[i].ctx_offset == ctx_offset)
			return -EINVAL;
	r = &env->regions[env->nregions];
	r->ctx_offset = ctx_offset;
	r->size = size;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "region");
	return (int)env->nregions++;
}

const struct ebpf_helper *ebpf_env_helper(const struct ebpf_env *env, uint32_t id)
{
	for (unsigned i = 0; i < env->nhelpers; i++)
		if (env->helpers[i].id == id)
			return &env->helpers[i];
	return NULL;
}

static bool is_buffer(enum ebpf_arg_type t)
{
	return t == EBPF_ARG_MEM_RO || t == EBPF_ARG_MEM_WO;
}

int ebpf_env_add_helper(struct ebpf_env *env, uint32_t id, const char *name, ebpf_helper_fn fn,
			const enum ebpf_arg_type args[5])
{
	struct ebpf_helper *h;

	if (!fn || id == 0 || (int32_t)id < 0)
		return -EINVAL;
	for (int i = 0; i < 5; i++) {
		enum ebpf_arg_type t = args ? args[i] : EBPF_ARG_NONE;

		if (t > EBPF_ARG_CTX)
			return -EINVAL;
		if (is_buffer(t) && (i == 4 || args[i + 1] != EBPF_ARG_SIZE))
			return -EINVAL;
		if (t == EBPF_ARG_SIZE && (i == 0 || !is_buffer(args[i - 1])))
			return -EINVAL;
	}
	if (ebpf_env_helper(env, id))
		return -EEXIST;
	if (env->nhelpers >= EBPF_MAX_HELPERS)
		return -ENOSPC;
	h = &env->helpers[env->nhelpers++];
	h->id = id;
	h->fn = fn;
	for (int i = 0; i < 5; i++)
		h->args[i] = args ? args[i] : EBPF_ARG_NONE;
	snprintf(h->name, sizeof(h->name), "%s", name ? name : "helper");
	return 0;
}
