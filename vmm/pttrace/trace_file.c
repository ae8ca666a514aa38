// SPDX-License-Identifier: MIT
/* The page-table trace file writer (trace_file.h). */
#include "pttrace/trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* writes every iovec completely (retrying short writes and EINTR) */
static int write_iov(int fd, struct iovec *iov, int cnt)
{
	while (cnt) {
		ssize_t n = writev(fd, iov, cnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int ptf_create(struct ptf_writer *w, const char *path, unsigned cpus, uint64_t mem_size)
{
	struct vessel_ptf_header h = {
		.magic = VESSEL_PTF_MAGIC,
		.version = VESSEL_PTF_VERSION,
		.header_size = sizeof(h),
		.rec_size = sizeof(struct vessel_pt_rec),
		.cpus = cpus,
		.mem_size = mem_size,
	};
	struct iovec iov = { &h, sizeof(h) };
	int rc;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (cpus == 0 || cpus > VESSEL_PTF_MAX_CPUS)
		return -EINVAL;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return -errno;
	rc = write_iov(w->fd, &iov, 1);
	if (rc) {
		close(w->fd);
		w->fd = -1;
	}
	return rc;
}

int ptf_write_recs(struct ptf_writer *w, unsigned cpu, uint64_t lost,
		   const struct vessel_pt_rec *rec, uint32_t n)
{
	struct vessel_ptf_recs r = { .cpu = cpu, .count = n, .lost = lost };
	uint64_t size = sizeof(r) + (uint64_t)n * sizeof(*rec);
	struct vessel_ptf_block_head bh = { VESSEL_PTF_RECS, (uint32_t)size };
	struct iovec iov[3] = { { &bh, sizeof(bh) },
				{ &r, sizeof(r) },
				{ (void *)rec, (size_t)n * sizeof(*rec) } };
	int rc;

	if (w->fd < 0)
		return -EBADF;
	if (size > VESSEL_PTF_MAX_BLOCK || cpu >= VESSEL_PTF_MAX_CPUS)
		return -EINVAL;
	rc = write_iov(w->fd, iov, n ? 3 : 2);
	if (!rc) {
		w->records += n;
		w->lost += lost;
		w->drains++;
	}
	return rc;
}

int ptf_write_mark(struct ptf_writer *w, const char *name, uint64_t host_ns,
		   const struct vessel_ptf_stat *stats, uint32_t n)
{
	struct vessel_ptf_mark m = { .nstats = n, .host_ns = host_ns };
	uint64_t size = sizeof(m) + (uint64_t)n * sizeof(*stats);
	struct vessel_ptf_block_head bh = { VESSEL_PTF_MARK, (uint32_t)size };
	struct iovec iov[3] = { { &bh, sizeof(bh) },
				{ &m, sizeof(m) },
				{ (void *)stats, (size_t)n * sizeof(*stats) } };
	int rc;

	if (w->fd < 0)
		return -EBADF;
	if (n > VESSEL_PTF_MAX_STATS)
		return -EINVAL;
	strncpy(m.name, name, sizeof(m.name) - 1);
	rc = write_iov(w->fd, iov, n ? 3 : 2);
	if (!rc)
		w->marks++;
	return rc;
}

int ptf_finish(struct ptf_writer *w, uint64_t flags)
{
	struct vessel_ptf_end e = { w->records, w->lost, w->drains, flags };
	struct vessel_ptf_block_head bh = { VESSEL_PTF_END, sizeof(e) };
	struct iovec iov[2] = { { &bh, sizeof(bh) }, { &e, sizeof(e) } };
	int rc;

	if (w->fd < 0)
		return -EBADF;
	rc = write_iov(w->fd, iov, 2);
	if (close(w->fd) && !rc)
		rc = -errno;
	w->fd = -1;
	return rc;
}
