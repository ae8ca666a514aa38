/* SPDX-License-Identifier: MIT */
/*
 * Familiar names for the common calls. Unlike POSIX there is no errno:
 * every function returns the kernel's result, -errno on failure.
 */
#ifndef VESSEL_USER_UNISTD_H
#define VESSEL_USER_UNISTD_H

#include <vessel/sys.h>

#define STDIN_FILENO  VESSEL_FD_STDIN
#define STDOUT_FILENO VESSEL_FD_STDOUT
#define STDERR_FILENO VESSEL_FD_STDERR

#define O_RDONLY VESSEL_O_RDONLY
#define O_WRONLY VESSEL_O_WRONLY
#define O_RDWR	 VESSEL_O_RDWR
#define SEEK_SET VESSEL_SEEK_SET
#define SEEK_CUR VESSEL_SEEK_CUR
#define SEEK_END VESSEL_SEEK_END

static inline long write(int fd, const void *buf, size_t len)
{
	return sys_write(fd, buf, len);
}

static inline long read(int fd, void *buf, size_t len)
{
	return sys_read(fd, buf, len);
}

static inline long open(const char *path, int flags)
{
	return sys_open(path, (uint64_t)flags);
}

static inline long close(int fd)
{
	return sys_close(fd);
}

static inline long lseek(int fd, int64_t offset, int whence)
{
	return sys_lseek(fd, offset, (uint64_t)whence);
}

static inline long fsync(int fd)
{
	return sys_fsync(fd);
}

static inline long getpid(void)
{
	return sys_getpid();
}

/* Sleep at least `ms` milliseconds. */
static inline long msleep(uint64_t ms)
{
	return sys_nanosleep(ms * 1000000ull);
}

/*
 * Write all of buf (the console always takes everything, but keep callers
 * honest). Returns len or -errno.
 */
long write_all(int fd, const void *buf, size_t len);

/* Monotonic time since boot in nanoseconds (0 if the call fails). */
uint64_t now_ns(void);

/*
 * The value of the kernel's named counter `name` (e.g. "blk.interrupts")
 * in a sys_stats() snapshot, 0 if the snapshot does not have it.
 */
uint64_t stats_named(const struct vessel_stats *s, const char *name);

/*
 * Start `path` with `argv` and wait for it. Returns its wait status
 * (decode with VESSEL_W_*), or -errno if it could not be started.
 */
long run_wait(const char *path, const char *const *argv);

#endif /* VESSEL_USER_UNISTD_H */
