/* SPDX-License-Identifier: MIT */
/*
 * libebpf: a standalone eBPF engine (RFC 9669 instruction set).
 *
 * Life cycle:
 *   1. The embedder (the VMM) describes the world a program runs in with an
 *      ebpf_env: the context object passed in r1 (its size, writability),
 *      memory regions whose pointers live in context fields, and helpers
 *      with typed argument specs.
 *   2. ebpf_prog_load() / ebpf_prog_load_elf() decode the bytecode and run
 *      the verifier once. Whatever is accepted cannot fault, loop forever,
 *      read uninitialised memory, leak host pointers or touch memory it was
 *      not given; whatever is rejected comes back with the instruction index
 *      and the reason.
 *   3. ebpf_prog_run() executes the pre-decoded program without re-checking
 *      what the verifier proved.
 *
 * Nothing here knows about KVM; the library never exits or prints, it returns
 * 0 or -errno and fills a struct ebpf_error.
 */
#ifndef EBPF_EBPF_H
#define EBPF_EBPF_H

#include <stddef.h>
#include <stdint.h>

/* One 8-byte instruction, little-endian layout (RFC 9669 section 3). */
struct ebpf_insn {
	uint8_t code;
	uint8_t dst : 4;
	uint8_t src : 4;
	int16_t off;
	int32_t imm;
};

#define EBPF_MAX_INSNS	  65536 /* instructions per program */
#define EBPF_STACK_SIZE	  512	/* bytes of stack per call frame */
#define EBPF_MAX_FRAMES	  8	/* bpf-to-bpf call depth, main included */
#define EBPF_MAX_HELPERS  64
#define EBPF_MAX_REGIONS  16
#define EBPF_MAX_MEM_SIZE (1u << 28) /* largest context or region */

/* Where a load or verification failed. insn is -1 when no single
 * instruction is to blame (e.g. a malformed ELF header). */
struct ebpf_error {
	int insn;
	char msg[200];
};

/*
 * Helper argument types, checked by the verifier at every call site.
 * A buffer argument (EBPF_ARG_MEM_*) must be followed by an EBPF_ARG_SIZE
 * argument giving its length in bytes; the verifier proves that every byte
 * of [ptr, ptr + size) is inside the memory the pointer may address, for
 * every value the size register may hold.
 */
enum ebpf_arg_type {
	EBPF_ARG_NONE = 0, /* unused, not checked; the helper must ignore it */
	EBPF_ARG_SCALAR,   /* any initialised number (never a pointer) */
	EBPF_ARG_MEM_RO,   /* readable, initialised memory the helper reads */
	EBPF_ARG_MEM_WO,   /* writable memory the helper fills completely;
			    * on the stack it may be uninitialised and is
			    * initialised after the call */
	EBPF_ARG_SIZE,	   /* size of the preceding buffer, 0..EBPF_STACK_SIZE
			    * for the stack, 0..region size otherwise */
	EBPF_ARG_CTX,	   /* the context pointer exactly as passed in r1 */
};

/*
 * A helper. It receives the opaque `user` pointer given to ebpf_prog_run()
 * and r1..r5; its result lands in r0 (always treated as an unknown number).
 * Contract for EBPF_ARG_MEM_WO: the helper writes every byte of the buffer,
 * also when it fails (zero-fill and return an error code), because the
 * verifier marks the buffer initialised after the call.
 */
typedef uint64_t (*ebpf_helper_fn)(void *user, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				   uint64_t a5);

struct ebpf_env;
struct ebpf_prog;

#define EBPF_CTX_WRITABLE    1u /* flags for ebpf_env_set_ctx */
#define EBPF_REGION_WRITABLE 1u /* flags for ebpf_env_add_region */

/* Allocate an empty environment: context of 0 bytes, no helpers, no regions.
 * Returns NULL on allocation failure. Free with ebpf_env_free(). */
struct ebpf_env *ebpf_env_new(void);

/* Free an environment. Programs loaded with it keep their own copy of what
 * they need, so it may be freed while programs live. NULL is ignored. */
void ebpf_env_free(struct ebpf_env *env);

/*
 * Declare the context: at run time r1 points to `size` bytes (the ctx
 * argument of ebpf_prog_run) and r2 holds `size`. The program may read every
 * byte, and write those that are not region pointers when
 * flags & EBPF_CTX_WRITABLE. Returns 0, or -EINVAL if size > EBPF_MAX_MEM_SIZE
 * or a region field no longer fits.
 */
int ebpf_env_set_ctx(struct ebpf_env *env, uint32_t size, unsigned flags);

/*
 * Declare a memory region of `size` bytes whose host address the embedder
 * stores, at run time, in the 8-byte context field at `ctx_offset`. An 8-byte
 * load of that field yields a pointer the program may use on
 * [0, size) of the region (read, and write when EBPF_REGION_WRITABLE); the
 * field itself cannot be written or partially read. The name is used in
 * error messages (copied, may be NULL). Returns the region index >= 0, or
 * -EINVAL (field outside the context, overlapping another, misaligned, size
 * too large) or -ENOSPC (more than EBPF_MAX_REGIONS).
 */
int ebpf_env_add_region(struct ebpf_env *env, const char *name, uint32_t ctx_offset, uint32_t size,
			unsigned flags);

/*
 * Register helper `id` (the imm of `call id`), named `name` (copied), with up
 * to five argument types (unused trailing ones EBPF_ARG_NONE). Returns 0,
 * -EEXIST if the id is taken, -EINVAL for a malformed spec (a buffer not
 * followed by EBPF_ARG_SIZE, a size without a buffer, id 0 or fn NULL), or
 * -ENOSPC beyond EBPF_MAX_HELPERS.
 */
int ebpf_env_add_helper(struct ebpf_env *env, uint32_t id, const char *name, ebpf_helper_fn fn,
			const enum ebpf_arg_type args[5]);

/*
 * Decode and verify `len` bytes of raw little-endian instructions against
 * env. On success returns 0 and stores a program in *out (free it with
 * ebpf_prog_free). On failure returns -EINVAL (rejected: err says where and
 * why), -E2BIG (too many instructions or too complex to verify) or -ENOMEM;
 * *out is left NULL. err may be NULL. Thread-safe; each calling thread keeps
 * one 1 MiB block of verifier memory for its next load.
 */
int ebpf_prog_load(const struct ebpf_env *env, const void *code, size_t len, struct ebpf_prog **out,
		   struct ebpf_error *err);

/*
 * Same as ebpf_prog_load for an ELF64 little-endian relocatable object for
 * EM_BPF (`clang -O2 -target bpf -c`). `section` names the program section
 * or the entry function; NULL: the first executable section other than
 * .text, else .text. In a section with several global functions the entry
 * must be named; an entry not at the start of its section is called from a
 * 2-instruction prologue (one call frame). Calls to functions of the same
 * section or of .text (appended) are resolved; any relocation that would need
 * maps or globals is rejected. Every field of the file is bounds-checked.
 */
int ebpf_prog_load_elf(const struct ebpf_env *env, const void *elf, size_t len, const char *section,
		       struct ebpf_prog **out, struct ebpf_error *err);

/*
 * Extract the instructions of an ELF object (see ebpf_prog_load_elf) without
 * verifying them: on success *insns is a malloc'd array of *count
 * instructions with local calls resolved. Returns 0 or -EINVAL/-ENOMEM.
 */
int ebpf_elf_extract(const void *elf, size_t len, const char *section, struct ebpf_insn **insns,
		     size_t *count, struct ebpf_error *err);

/* Free a program. NULL is ignored. */
void ebpf_prog_free(struct ebpf_prog *prog);

/* Number of instruction slots of the program (lddw counts as two). */
size_t ebpf_prog_len(const struct ebpf_prog *prog);

/*
 * Run the program with r1 = ctx and r2 = the declared context size. ctx must
 * point to at least that many bytes, and each region field must hold the
 * address of a buffer of the declared region size; ctx and the buffers must
 * be 8-byte aligned (atomics are proven aligned relative to them). `user` is
 * passed to every helper. Returns r0. Safe to call concurrently on the same
 * program.
 */
uint64_t ebpf_prog_run(const struct ebpf_prog *prog, void *ctx, void *user);

/* Same as ebpf_prog_run, and adds the number of instructions executed
 * (lddw counting once) to *count. Slower; for tests and benchmarks. */
uint64_t ebpf_prog_run_counted(const struct ebpf_prog *prog, void *ctx, void *user,
			       uint64_t *count);

/* Verification statistics of the last load of prog: abstract instructions
 * processed and states stored. */
void ebpf_prog_verifier_stats(const struct ebpf_prog *prog, uint64_t *insns_processed,
			      uint64_t *states_stored);

/*
 * What one verification cost. Work units bound the time of a load whatever
 * the program's shape: every step of the verifier is charged in proportion
 * to the state it touches (instructions, state comparisons, copies), and a
 * load that would need more than max_work units is rejected (-E2BIG, "too
 * complex", at the instruction being verified). docs/ebpf.md gives the time
 * of a unit on the project machine.
 */
struct ebpf_verify_stats {
	uint64_t insns;	   /* abstract instructions explored */
	uint64_t states;   /* checkpoints stored */
	uint64_t work;	   /* work units charged */
	uint64_t max_work; /* the budget */
};

/* Statistics of the calling thread's last ebpf_prog_load() or
 * ebpf_prog_load_elf(), whether it accepted or rejected the program (all zero
 * if the load failed before verification). */
void ebpf_verify_last_stats(struct ebpf_verify_stats *out);

#endif
