// SPDX-License-Identifier: MIT
#include "core/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int gmem_create(struct gmem *m, uint64_t size)
{
	uint64_t low;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size < GMEM_MIN_SIZE || size > GMEM_MAX_SIZE || size % GMEM_PAGE_SIZE)
		return -EINVAL;

	m->fd = memfd_create("vessel-guest-ram", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0)
		goto err_fd;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED)
		goto err_fd;
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

err_fd:
	err = -errno;
	close(m->fd);
	m->fd = -1;
	m->base = NULL;
	return err;
}

void gmem_destroy(struct gmem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
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

int gmem_strcpy(const struct gmem *m, uint64_t gpa, char *buf, size_t cap)
{
	const struct gmem_region *r = gmem_region_of(m, gpa);
	uint64_t off, avail;

	if (cap == 0)
		return -ENAMETOOLONG;
	if (!r)
		return -EFAULT;
	off = gpa - r->gpa;
	avail = r->size - off;
	if (avail > cap)
		avail = cap;
	memcpy(buf, r->host + off, avail);
	if (memchr(buf, '\0', avail))
		return 0;
	buf[0] = '\0';
	return avail < cap ? -EFAULT : -ENAMETOOLONG;
}
