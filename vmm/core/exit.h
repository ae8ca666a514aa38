/* SPDX-License-Identifier: MIT */
/*
 * VM-exit dispatch: a near-pure function from one `struct kvm_run` exit to a
 * decision. It touches only the VM's buses, devices and guest memory, never
 * a KVM file descriptor, so unit tests feed it synthetic exits.
 */
#ifndef VMM_CORE_EXIT_H
#define VMM_CORE_EXIT_H

#include <stdarg.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_run;

enum exit_action {
	EXIT_CONTINUE = 0, /* re-enter the guest */
	EXIT_STOP,	   /* orderly stop (poweroff): status is the exit status */
	EXIT_FAULT,	   /* the guest misbehaved: stop with a register dump */
	EXIT_PAUSE,	   /* pause every vCPU and tell the host (test SYNC) */
};

#define EXIT_MSG_MAX 512

struct exit_result {
	enum exit_action action;
	int status;		/* EXIT_STOP: the VM's exit status */
	uint64_t arg;		/* EXIT_PAUSE: the SYNC stage */
	char msg[EXIT_MSG_MAX]; /* EXIT_FAULT/EXIT_STOP: why, one line */
};

/*
 * exit_dispatch - handle the exit described by `run` for `vcpu` and fill res
 * (res->action is EXIT_CONTINUE unless the exit asks for more). Port and MMIO
 * accesses go to the VM's buses; unassigned ports read as all-ones and ignore
 * writes, as on a PC; unassigned MMIO, triple faults, failed entries and
 * unknown exit reasons become EXIT_FAULT with a message.
 */
void exit_dispatch(struct vm *vm, struct vcpu *vcpu, struct kvm_run *run, struct exit_result *res);

/* exit_fault - set res to EXIT_FAULT with a printf-style message. */
void exit_fault(struct exit_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* exit_stop - set res to EXIT_STOP with `status` and a message. */
void exit_stop(struct exit_result *res, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* exit_reason_name - "KVM_EXIT_IO" etc., or "unknown". */
const char *exit_reason_name(unsigned reason);

#endif
