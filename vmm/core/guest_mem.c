// SPDX-License-Identifier: MIT
#include "core/guest_mem.h"

#include "core/clock.h"
#include "core/safecopy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* A guest RAM size gmem_create/gmem_attach take: 4 KiB pages within the limits. */
static bool size_ok(uint64_t size)
{
	return size >= GMEM_MIN_SIZE && size <= GMEM_MAX_SIZE && !(size % GMEM_PAGE_SIZE);
}

/* Maps the memfd m->fd of `size` bytes and lays out the regions. 0 or -errno. */
static int map_regions(struct gmem *m, uint64_t size)
{
	uint64_t low;

	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return -errno;
	}
	m->size = size;
	low = size < GMEM_LOW_LIMIT ? size : GMEM_LOW_LIMIT;
	m->regions[0] = (struct gmem_region){ .gpa = 0, .size = low, .offset = 0, .host = m->base };
	m->nr_regions = 1;
	if (size > low) {
		m->regions[1] = (struct gmem_region){
			.gpa = GMEM_HIGH_BASE,
			.size = size - low,
			.offset = low,
			.host = m->base + low,
		};
		m->nr_regions = 2;
	}
	return 0;
}

int gmem_create(struct gmem *m, uint64_t size)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!size_ok(size))
		return -EINVAL;
	m->fd = memfd_create("vessel-guest-ram", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0) {
		err = -errno;
		goto err_fd;
	}
	err = map_regions(m, size);
	if (!err)
		return 0;
err_fd:
	close(m->fd);
	m->fd = -1;
	return err;
}

int gmem_attach(struct gmem *m, int fd, uint64_t size)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!size_ok(size))
		return -EINVAL;
	m->fd = fd;
	err = map_regions(m, size);
	if (err)
		m->fd = -1;
	return err;
}

int gmem_prealloc(struct gmem *m)
{
	const size_t step = 64 << 20;
	double t0 = clock_now_ms();

	for (size_t off = 0; off < m->size;) {
		size_t len = m->size - off < step ? m->size - off : step;

		if (madvise(m->base + off, len, MADV_POPULATE_WRITE) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EINVAL) /* EINVAL: a kernel before 5.14 */
				return errno == EFAULT ? -ENOMEM : -errno;
			for (size_t p = 0; p < len; p += GMEM_PAGE_SIZE)
				((volatile uint8_t *)m->base)[off + p] = 0;
		}
		off += len;
	}
	m->prealloc_ms = (uint64_t)(clock_now_ms() - t0);
	m->populated = true;
	return 0;
}

void gmem_destroy(struct gmem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	if (!m->dirty_shared)
		free(m->dirty);
	m->dirty = NULL;
	m->dirty_shared = false;
	m->ext_dirty = NULL;
	m->ext_poison = NULL;
	m->dirty_on = false;
	m->base = NULL;
	m->fd = -1;
	m->size = 0;
	m->nr_regions = 0;
}

const struct gmem_region *gmem_region_of(const struct gmem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r;
	uint64_t off;

	if (len == 0)
		return NULL;
	r = gmem_region_of(m, gpa);
	if (!r)
		return NULL;
	off = gpa - r->gpa;
	/* off < r->size here, so the subtraction cannot wrap */
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

int gmem_discard(struct gmem *m)
{
	for (unsigned i = 0; i < m->nr_regions; i++)
		if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)m->regions[i].offset, (off_t)m->regions[i].size) < 0)
			return -errno;
	return 0;
}

int gmem_hide(struct gmem *m, uint64_t gpa, uint64_t size)
{
	if (m->hide_hi)
		return -EBUSY;
	m->hide_lo = gpa;
	m->hide_hi = gpa + size;
	return 0;
}

/* 1 if [gpa, gpa + len) touches the hidden range (len > 0, no wrap: checked) */
static int hidden(const struct gmem *m, uint64_t gpa, size_t len)
{
	return gpa < m->hide_hi && m->hide_lo < gpa + len;
}

/* Whether a page of [gpa, gpa + len) is in the poison bitmap another process keeps. */
static bool ext_poisoned(const struct gmem *m, uint64_t gpa, size_t len)
{
	const uint64_t *bits = __atomic_load_n(&m->ext_poison, __ATOMIC_ACQUIRE);

	if (!bits)
		return false;
	for (uint64_t p = gpa / GMEM_PAGE_SIZE; p <= (gpa + len - 1) / GMEM_PAGE_SIZE; p++)
		if (__atomic_load_n(&bits[p / 64], __ATOMIC_ACQUIRE) & (1ull << (p % 64)))
			return true;
	return false;
}

int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, size_t len)
{
	const uint8_t *p = gmem_ptr(m, gpa, len);

	if (!p || hidden(m, gpa, len))
		return -EFAULT;
	if (ext_poisoned(m, gpa, len))
		return -EHWPOISON;
	return safe_copy(dst, p, len, NULL);
}

int gmem_write(struct gmem *m, uint64_t gpa, const void *src, size_t len)
{
	uint8_t *p = gmem_ptr(m, gpa, len);
	int rc;

	if (!p || hidden(m, gpa, len))
		return -EFAULT;
	if (ext_poisoned(m, gpa, len))
		return -EHWPOISON;
	rc = safe_copy(p, src, len, NULL);
	/* even a failed copy may have changed bytes before the bad one */
	gmem_mark_dirty(m, gpa, len);
	return rc;
}

int gmem_strcpy(const struct gmem *m, uint64_t gpa, char *buf, size_t cap)
{
	size_t got = 0;

	/* a page at a time: bytes after the NUL are never read, so a string
	 * that ends just before a poisoned page or the end of RAM is fine */
	while (got < cap) {
		uint64_t a = gpa + got;
		size_t n = GMEM_PAGE_SIZE - a % GMEM_PAGE_SIZE;
		int err;

		if (a < gpa)
			return -EFAULT; /* wrapped around */
		if (n > cap - got)
			n = cap - got;
		err = gmem_read(m, a, buf + got, n);
		if (err)
			return err;
		if (memchr(buf + got, '\0', n))
			return 0;
		got += n;
	}
	if (cap)
		buf[0] = '\0';
	return -ENAMETOOLONG;
}

static uint64_t dirty_npages(const struct gmem *m)
{
	const struct gmem_region *top = &m->regions[m->nr_regions - 1];

	return (top->gpa + top->size) / GMEM_PAGE_SIZE;
}

int gmem_dirty_track(struct gmem *m, bool on)
{
	if (on && !m->dirty) {
		uint64_t *bits = calloc((dirty_npages(m) + 63) / 64, sizeof(uint64_t));

		if (!bits)
			return -ENOMEM;
		m->dirty = bits; /* allocated once, freed by gmem_destroy() */
	}
	__atomic_store_n(&m->dirty_on, on, __ATOMIC_RELEASE);
	return 0;
}

void gmem_mark_dirty(struct gmem *m, uint64_t gpa, uint64_t len)
{
	uint64_t first, last, n;

	if (!len || !__atomic_load_n(&m->dirty_on, __ATOMIC_ACQUIRE))
		return;
	n = dirty_npages(m);
	first = gpa / GMEM_PAGE_SIZE;
	last = (gpa + len - 1) / GMEM_PAGE_SIZE;
	if (last < first)
		last = UINT64_MAX / GMEM_PAGE_SIZE; /* wrapped: up to the end */
	for (uint64_t p = first; p <= last && p < n; p++)
		__atomic_fetch_or(&m->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELEASE);
}

uint64_t gmem_dirty_words(const struct gmem *m)
{
	return m->nr_regions ? (dirty_npages(m) + 63) / 64 : 0;
}

void gmem_dirty_share(struct gmem *m, uint64_t *bits)
{
	m->dirty = bits;
	m->dirty_shared = true;
	__atomic_store_n(&m->dirty_on, true, __ATOMIC_RELEASE);
}

void gmem_dirty_also(struct gmem *m, uint64_t *bits)
{
	m->ext_dirty = bits;
}

void gmem_poison_also(struct gmem *m, const uint64_t *bits)
{
	__atomic_store_n(&m->ext_poison, bits, __ATOMIC_RELEASE);
}

/* Takes word `word` of bits if anything is set there (one load when nothing is). */
static uint64_t take_word(uint64_t *bits, uint64_t word)
{
	if (!bits || !__atomic_load_n(&bits[word], __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_exchange_n(&bits[word], 0, __ATOMIC_ACQ_REL);
}

uint64_t gmem_dirty_take(struct gmem *m, uint64_t word)
{
	if (word >= gmem_dirty_words(m))
		return 0;
	return take_word(m->dirty, word) | take_word(m->ext_dirty, word);
}
