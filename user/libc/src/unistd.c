// SPDX-License-Identifier: MIT
/* Small helpers over the raw calls (declared in unistd.h). */
#include <unistd.h>
#include <string.h>

uint64_t stats_named(const struct vessel_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strncmp(s->named[i].name, name, VESSEL_STATS_NAME_MAX))
			return s->named[i].value;
	return 0;
}

long write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		long r = sys_write(fd, p + done, len - done);

		if (r < 0)
			return r;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return (long)len;
}

uint64_t now_ns(void)
{
	struct vessel_timespec ts;

	if (sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long run_wait(const char *path, const char *const *argv)
{
	int32_t status = 0;
	long pid = sys_spawn(path, argv), r;

	if (pid < 0)
		return pid;
	r = sys_wait(pid, &status, 0);
	return r < 0 ? r : status;
}
