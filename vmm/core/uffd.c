// SPDX-License-Identifier: MIT
/* Real poisoning of guest pages with UFFDIO_POISON (see uffd.h). */
#include "core/uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's linux-libc-dev is 6.1; UFFDIO_POISON arrived in 6.6. */
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE 4096ul

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int new_uffd(char *err, size_t errlen)
{
	int fd;

	/* Kernel-mode faults (KVM) must be covered too, so try without
	 * USER_MODE_ONLY first; it needs privilege or vm.unprivileged_userfaultfd. */
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return fail(err, errlen, errno == ENOSYS ? -ENOTSUP : -errno, "userfaultfd: %s",
			    strerror(errno));
	return fd;
}

/*
 * A userfaultfd with UFFD_FEATURE_POISON and, where the kernel offers them,
 * the features in `optional`; *features says what was granted. A handshake
 * that asks for nothing reports what the kernel offers, but the handshake can
 * only be done once per descriptor: hence the second descriptor.
 */
static int open_uffd(uint64_t optional, uint64_t *features, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = new_uffd(err, errlen);

	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api) < 0 || !(api.features & UFFD_FEATURE_POISON)) {
		close(fd);
		return fail(err, errlen, -ENOTSUP,
			    "this kernel has no UFFDIO_POISON (needs Linux 6.6 or later)");
	}
	close(fd);
	api = (struct uffdio_api){ .api = UFFD_API,
				   .features = UFFD_FEATURE_POISON | (api.features & optional) };
	fd = new_uffd(err, errlen);
	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		return fail(err, errlen, -ENOTSUP, "userfaultfd handshake: %s", strerror(errno));
	}
	if (features)
		*features = api.features;
	return fd;
}

int uffd_probe(char *err, size_t errlen)
{
	int fd = open_uffd(0, NULL, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int uffd_poison(void *hva, int fd, off_t off, char *err, size_t errlen)
{
	struct uffdio_register reg = { .range = { (uintptr_t)hva, PAGE },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_poison po = { .range = { (uintptr_t)hva, PAGE } };
	struct uffdio_range un = { (uintptr_t)hva, PAGE };
	uint64_t features = 0;
	int uffd, rc = 0;

	if ((uintptr_t)hva % PAGE || (fd >= 0 && off % (off_t)PAGE))
		return fail(err, errlen, -EINVAL, "poison: address %p is not page aligned", hva);
	uffd = open_uffd(UFFD_FEATURE_MINOR_SHMEM, &features, err, errlen);
	if (uffd < 0)
		return uffd;
	/*
	 * For a memfd page that is in the page cache, a vCPU access between the
	 * madvise and the poison below is a minor fault, not a missing one: it
	 * would map the page again (and the poison fail with EEXIST). MINOR mode
	 * makes such an access wait for the poison too.
	 */
	if (fd >= 0 && (features & UFFD_FEATURE_MINOR_SHMEM))
		reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		rc = fail(err, errlen, -errno, "poison: cannot register %p with userfaultfd: %s",
			  hva, strerror(errno));
		goto out;
	}
	/*
	 * A memory error strikes a physical page, so the memfd must hold one:
	 * allocate it if the range is a hole (never written). Otherwise a reader
	 * that skips holes as zero (the migration sender) would never touch the
	 * poisoned mapping. Then drop our page-table entry: UFFDIO_POISON only
	 * fills an empty one. Registered first, so a racing access waits for the
	 * poison instead of mapping the page again (see MINOR above).
	 */
	if (fd >= 0 && lseek(fd, off, SEEK_DATA) != off) {
		/* a hole (fallocate would not do: shmem reports unwritten
		 * preallocated pages as holes to SEEK_DATA) */
		static const uint8_t zero[PAGE];

		if (pwrite(fd, zero, PAGE, off) != (ssize_t)PAGE) {
			rc = fail(err, errlen, -EIO,
				  "poison: cannot allocate the page at offset "
				  "%lld: %s",
				  (long long)off, strerror(errno));
			goto unreg;
		}
	}
	if (madvise(hva, PAGE, MADV_DONTNEED) < 0) {
		rc = fail(err, errlen, -errno, "poison: madvise(%p): %s", hva, strerror(errno));
		goto unreg;
	}
	if (ioctl(uffd, UFFDIO_POISON, &po) < 0)
		rc = fail(err, errlen, errno == EINVAL ? -ENOTSUP : -errno,
			  "UFFDIO_POISON at %p failed: %s", hva, strerror(errno));
unreg:
	ioctl(uffd, UFFDIO_UNREGISTER, &un);
out:
	close(uffd);
	return rc;
}

int uffd_open(char *err, size_t errlen)
{
	return open_uffd(0, NULL, err, errlen);
}

int uffd_register_missing(int uffd, void *addr, size_t len, char *err, size_t errlen)
{
	struct uffdio_register reg = { .range = { (uintptr_t)addr, len },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return fail(err, errlen, -errno, "userfaultfd: cannot register %zu bytes at %p: %s",
			    len, addr, strerror(errno));
	return 0;
}

void uffd_unregister(int uffd, void *addr, size_t len)
{
	struct uffdio_range r = { (uintptr_t)addr, len };

	ioctl(uffd, UFFDIO_UNREGISTER, &r);
}

int uffd_copy(int uffd, void *dst, const void *src, size_t len, size_t *done)
{
	struct uffdio_copy c = { .dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len };

	*done = 0;
	if (ioctl(uffd, UFFDIO_COPY, &c) == 0) {
		*done = len;
		return 0;
	}
	if (c.copy > 0)
		*done = (size_t)c.copy;
	return -errno;
}

int uffd_zeropage(int uffd, void *dst, size_t len)
{
	struct uffdio_zeropage z = { .range = { (uintptr_t)dst, len } };

	return ioctl(uffd, UFFDIO_ZEROPAGE, &z) < 0 ? -errno : 0;
}

int uffd_poison_range(int uffd, void *dst, size_t len)
{
	struct uffdio_poison po = { .range = { (uintptr_t)dst, len } };

	return ioctl(uffd, UFFDIO_POISON, &po) < 0 ? -errno : 0;
}
