/* SPDX-License-Identifier: MIT */
/*
 * The monitor process's sandbox, entered in two steps because namespaces
 * need a single-threaded process and the filter must cover every thread.
 */
#ifndef VMM_MONITOR_SANDBOX_H
#define VMM_MONITOR_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

/*
 * mon_sandbox_prepare - while single-threaded: new user, mount, network,
 * IPC, UTS and cgroup namespaces where the kernel allows (falling back to
 * the set it allows; *ns gets the CLONE_NEW* flags obtained), resource
 * limits (no core dumps, few descriptors, bounded address space, no
 * locked memory), not dumpable. With disks (docs/monitor.md) the
 * descriptor limit grows by extra_fds, the address space by extra_as (the
 * guest RAM it maps) and the locked memory is `memlock` (io_uring rings
 * count there). 0 or -errno (a limit that cannot be set).
 */
int mon_sandbox_prepare(uint32_t *ns, unsigned extra_fds, uint64_t extra_as, uint64_t memlock);

/*
 * mon_sandbox_seccomp - load the seccomp filter on every thread (TSYNC):
 * the system calls in mon_sandbox_syscalls(disks) are allowed, anything
 * else kills the process. 0 or -errno.
 */
int mon_sandbox_seccomp(bool disks);

/*
 * mon_sandbox_syscalls - the allowed system calls' names, those a monitor
 * running disks needs too if `disks`; *nr gets the count.
 */
const char *const *mon_sandbox_syscalls(bool disks, unsigned *nr);

#endif
