/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls of include/abi/vessel.h: a 32-bit OUT to
 * VESSEL_HC_PORT_BASE + nr carrying the guest-physical address of the
 * argument struct.
 *
 * The subsystem that owns a hypercall registers it with HYPERCALL_REGISTER()
 * in its own file (a linker-section list, like devices), so adding one
 * touches no central table. Handlers read their argument struct with
 * hc_arg_read() and write OUT fields with hc_ret_write(): both go through
 * gmem_read()/gmem_write(), so a bad address or a poisoned page stops the VM
 * with VESSEL_EXIT_GUEST_FAULT and a message naming the hypercall (never the
 * VMM), and written pages reach a running migration.
 */
#ifndef VMM_CORE_HYPERCALL_H
#define VMM_CORE_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct exit_result;

struct hypercall {
	unsigned nr;	  /* VESSEL_HC_* */
	const char *name; /* for messages */
	/* handle the call whose argument struct is at gpa; vcpu may be NULL in unit tests */
	void (*fn)(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res);
};

#define HYPERCALL_REGISTER(hc)                                                                     \
	static const struct hypercall *const __vessel_hypercall_##hc                               \
		__attribute__((section("vessel_hypercalls"), used, aligned(sizeof(void *)))) = &hc

/* hypercall_attach - claim the hypercall ports on vm->pio (vm_new does it). */
int hypercall_attach(struct vm *vm);

/* hypercall_name - the registered name of nr, or "unknown". */
const char *hypercall_name(unsigned nr);

/*
 * hc_arg_read - copy the argument struct (size bytes, 8-byte aligned) at gpa.
 * 0, or -errno with res set to a fault naming hypercall nr.
 */
int hc_arg_read(struct vm *vm, unsigned nr, uint64_t gpa, void *dst, size_t size,
		struct exit_result *res);

/* hc_ret_write - write the 64-bit OUT field at gpa + off (faults res on error). */
void hc_ret_write(struct vm *vm, unsigned nr, uint64_t gpa, size_t off, int64_t ret,
		  struct exit_result *res);

/*
 * hc_str - copy the guest string `what` at gpa into buf (VESSEL_HC_STR_MAX
 * bytes). 0, or -errno with res set to a fault naming hypercall nr.
 */
int hc_str(struct vm *vm, unsigned nr, const char *what, uint64_t gpa, char *buf,
	   struct exit_result *res);

#endif
