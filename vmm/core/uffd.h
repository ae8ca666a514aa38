/* SPDX-License-Identifier: MIT */
/*
 * Real memory poisoning with userfaultfd's UFFDIO_POISON (Linux 6.6+): the
 * page's mapping gets the same "hardware poisoned" marker the kernel installs
 * for an uncorrectable memory error, so every later access through it (the
 * VMM's own reads, KVM on behalf of a vCPU) gets SIGBUS / a memory fault.
 *
 * What works on this host with guest RAM as a MAP_SHARED memfd mapping
 * (measured on 6.18, see docs/migration.md):
 *   - registering the whole mapping in MISSING mode is NOT usable: every first
 *     touch of a not-yet-allocated page would then wait for a userfault reply;
 *   - registering WP mode over the whole mapping works (needs
 *     UFFD_FEATURE_WP_HUGETLBFS_SHMEM) but is not needed;
 *   - what we use: a short-lived userfaultfd registered (MISSING mode) on just
 *     the one page, the page allocated in the memfd if it was a hole, our
 *     page-table entry dropped (MADV_DONTNEED), UFFDIO_POISON, then unregister
 *     and close. The poison marker stays in the page table after the
 *     userfaultfd is gone, and poisoning a poisoned page again is harmless.
 */
#ifndef VMM_CORE_UFFD_H
#define VMM_CORE_UFFD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Poison the page at host address hva (page aligned, inside a mapping of
 * memfd `fd` at file offset `off`; fd = -1 for anonymous memory). Every
 * access through this mapping faults from now on; the memfd itself keeps a
 * page there (allocated if it was a hole: a memory error strikes a real
 * page), which other mappings or read() still see. Returns 0, or -errno with
 * err set (-ENOTSUP: the kernel lacks UFFDIO_POISON; -EPERM: no permission to
 * use userfaultfd).
 */
int uffd_poison(void *hva, int fd, off_t off, char *err, size_t errlen);

/* 0 if this kernel supports UFFDIO_POISON for us, else -errno + err. */
int uffd_probe(char *err, size_t errlen);

/*
 * A long-lived userfaultfd for post-copy migration (migrate/live/
 * postcopy_dst.c): guest RAM registered in MISSING mode, so that the first
 * touch of a page that is not in the memfd (a hole) waits for the VMM to
 * install it. Measured on this host (6.18, guest RAM a MAP_SHARED memfd):
 * MISSING faults arrive for holes only (a page in the page cache maps
 * without one), also for vCPU accesses through KVM and for the VMM's own
 * reads; UFFDIO_COPY (source need not be aligned), UFFDIO_ZEROPAGE and
 * UFFDIO_POISON work on the registered range, and a hole punched after the
 * registration faults again.
 */

/* uffd_open - a non-blocking userfaultfd with UFFDIO_POISON. fd or -errno + err. */
int uffd_open(char *err, size_t errlen);

/* uffd_register_missing - register [addr, addr + len) in MISSING mode. 0 or -errno + err. */
int uffd_register_missing(int uffd, void *addr, size_t len, char *err, size_t errlen);

/* uffd_unregister - end the registration of [addr, addr + len). */
void uffd_unregister(int uffd, void *addr, size_t len);

/*
 * uffd_copy - install len bytes (whole pages) at dst from src and wake
 * whoever waits for them. 0; -EEXIST when a page was there already, with
 * *done the bytes installed before it; or -errno.
 */
int uffd_copy(int uffd, void *dst, const void *src, size_t len, size_t *done);

/* uffd_zeropage - install zero pages at [dst, dst + len): 0, -EEXIST or -errno. */
int uffd_zeropage(int uffd, void *dst, size_t len);

/* uffd_poison_range - poison the missing pages [dst, dst + len): 0, -EEXIST or -errno. */
int uffd_poison_range(int uffd, void *dst, size_t len);

#endif /* VMM_CORE_UFFD_H */
