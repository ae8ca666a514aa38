/* SPDX-License-Identifier: MIT */
/*
 * The monitor process's sandbox, entered in two steps because namespaces
 * need a single-threaded process and the filter must cover every thread.
 */
#ifndef VMM_MONITOR_SANDBOX_H
#define VMM_MONITOR_SANDBOX_H

#include <stdint.h>

/*
 * mon_sandbox_prepare - while single-threaded: new user, mount, network,
 * IPC, UTS and cgroup namespaces where the kernel allows (falling back to
 * the set it allows; *ns gets the CLONE_NEW* flags obtained), resource
 * limits (no core dumps, few descriptors, bounded address space, no
 * locked memory), not dumpable. 0 or -errno (a limit that cannot be set).
 */
int mon_sandbox_prepare(uint32_t *ns);

/*
 * mon_sandbox_seccomp - load the seccomp filter on every thread (TSYNC):
 * the system calls in mon_sandbox_syscalls() are allowed, anything else
 * kills the process. 0 or -errno.
 */
int mon_sandbox_seccomp(void);

/* mon_sandbox_syscalls - the allowed system calls' names; *nr gets the count. */
const char *const *mon_sandbox_syscalls(unsigned *nr);

#endif
