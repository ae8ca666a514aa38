/* SPDX-License-Identifier: MIT */
/*
 * Memory-exception-safe copy out of (or into) guest memory.
 *
 * Reading a page hit by an uncorrectable memory error raises SIGBUS in the
 * reading thread. A copy done through safe_copy() is armed per thread:
 * the SIGBUS handler sees the faulting address inside the range being copied
 * and jumps back (siglongjmp) into safe_copy(), which reports the error
 * instead of letting the process die. A SIGBUS anywhere else is passed on to
 * the handler that was installed before (e.g. the VMM's vCPU handler) or, if
 * there was none, gets the default action.
 *
 * Codes accepted: BUS_MCEERR_AR and BUS_MCEERR_AO (hardware memory errors,
 * and what KVM reports for a poisoned guest page) and BUS_ADRERR, which is
 * what this host's kernel (6.18) delivers to a user-space read of a page
 * poisoned with UFFDIO_POISON (measured; see docs/migration.md).
 */
#ifndef VMM_CORE_SAFECOPY_H
#define VMM_CORE_SAFECOPY_H

#include <signal.h>
#include <stddef.h>

/* si_code of a SIGBUS for a hardware memory error (older libc headers lack them) */
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4 /* action required: the access consumed poisoned memory */
#endif
#ifndef BUS_MCEERR_AO
#define BUS_MCEERR_AO 5 /* action optional: found, not consumed */
#endif

/*
 * Install the process-wide SIGBUS handler; the handler found in place is
 * chained (gets every SIGBUS that is not a safe-copy fault). Idempotent and
 * thread-safe: calling it again after someone else replaced the handler
 * re-installs ours in front of theirs. Call it after the program's own
 * SIGBUS handler is installed. Returns 0 or -errno.
 */
int safe_copy_init(void);

/*
 * Copy len bytes from src to dst. Returns 0, or -EHWPOISON if a memory
 * error struck inside [src, src+len) or [dst, dst+len): then *bad_addr (if
 * not NULL) is the faulting address and dst's content is undefined. Source
 * pages are read into dst only: pass a bounce buffer, never a socket buffer.
 * safe_copy_init() must have been called. A naturally aligned copy of 2, 4
 * or 8 bytes (src and dst aligned) is a single load and a single store, so
 * a value another thread or vCPU updates is never seen torn.
 */
int safe_copy(void *dst, const void *src, size_t len, void **bad_addr);

/* Number of memory errors recovered by safe_copy() in this process. */
unsigned long safe_copy_recovered(void);

#endif /* VMM_CORE_SAFECOPY_H */
