/* SPDX-License-Identifier: MIT */
/*
 * The host kernel's eBPF as an independent oracle (tests and benchmark):
 * load instructions as a socket filter and run them with
 * BPF_PROG_TEST_RUN. Needs root (CAP_BPF); callers report the reason and
 * skip when the kernel refuses.
 */
#ifndef TESTS_EBPF_KBPF_H
#define TESTS_EBPF_KBPF_H

#include <stddef.h>
#include <stdint.h>
#include "ebpf/ebpf.h"

/* Load as BPF_PROG_TYPE_SOCKET_FILTER. Returns a program fd, or -errno with
 * the reason (including the last line of the kernel verifier's log) in why. */
int kbpf_load(const struct ebpf_insn *insns, size_t n, char *why, size_t whylen);

/* Run `repeat` times on a 64-byte packet. Returns the kernel's average ns
 * per run (>= 0) and r0 (u32, as socket filters return it) in *retval, or
 * -1 with the reason in why. */
double kbpf_run(int fd, uint32_t repeat, uint32_t *retval, char *why, size_t whylen);

#endif
