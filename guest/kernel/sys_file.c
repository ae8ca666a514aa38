// SPDX-License-Identifier: MIT
/* Console, initrd and disk file system calls. */
#include "abi/syscalls.h"
#include "kernel/blkdev.h"
#include "kernel/syscall.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/initrd.h"
#include "kernel/jumpswitch_proc.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "lib/errno.h"
#include "lib/string.h"

#define CHUNK 512

static struct fd *get_fd(int64_t fd)
{
	struct proc *p = current_proc();

	if (fd < 0 || fd >= VESSEL_FD_MAX || p->fds[fd].kind == FD_NONE)
		return NULL;
	return &p->fds[fd];
}

static int check_user(struct vm *vm, uint64_t addr, uint64_t len, int write)
{
	return vm_user_ok(vm, addr, len, write ? VM_WRITE : VM_READ);
}

static int64_t console_fd_write(struct fd *f, uint64_t buf, uint64_t len)
{
	struct proc *p = current_proc();
	char kbuf[CHUNK];

	(void)f;
	if (len == 0)
		return 0;
	if (check_user(&p->vm, buf, len, 0))
		return -EFAULT;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < CHUNK ? len - done : CHUNK;

		if (copy_from_user(&p->vm, kbuf, buf + done, n))
			return -EFAULT;
		console_write(kbuf, n);
		done += n;
	}
	return (int64_t)len;
}

static int64_t console_fd_read(struct fd *f, uint64_t buf, uint64_t len)
{
	struct proc *p = current_proc();
	char kbuf[CHUNK];
	int64_t n;

	(void)f;
	if (len == 0)
		return 0;
	if (len > CHUNK)
		len = CHUNK;
	if (check_user(&p->vm, buf, len, 1))
		return -EFAULT;
	n = console_read(kbuf, len);
	if (n > 0 && copy_to_user(&p->vm, buf, kbuf, (uint64_t)n))
		return -EFAULT;
	return n;
}

static int64_t file_fd_read(struct fd *f, uint64_t buf, uint64_t len)
{
	if (len == 0 || f->pos >= f->size)
		return 0;
	if (len > f->size - f->pos)
		len = f->size - f->pos;
	if (copy_to_user(&current_proc()->vm, buf, f->data + f->pos, len))
		return -EFAULT;
	f->pos += len;
	return (int64_t)len;
}

/* Initrd files are opened read-only. */
static int64_t file_fd_write(struct fd *f, uint64_t buf, uint64_t len)
{
	(void)f;
	(void)buf;
	(void)len;
	return -EBADF;
}

/*
 * The file operations, by key (descriptor kind - FD_CONSOLE) * 2 + write:
 * the targets of the per-process trampolines (kernel/jumpswitch_proc.h).
 */
#define FD_KEY(kind, write) ((uint32_t)((kind)-FD_CONSOLE) * 2 + (write))
fd_op_fn *const fd_ops[JSP_NKEYS] = {
	[FD_KEY(FD_CONSOLE, 0)] = console_fd_read, [FD_KEY(FD_CONSOLE, 1)] = console_fd_write,
	[FD_KEY(FD_FILE, 0)] = file_fd_read,	   [FD_KEY(FD_FILE, 1)] = file_fd_write,
	[FD_KEY(FD_BLK, 0)] = blkdev_read,	   [FD_KEY(FD_BLK, 1)] = blkdev_write,
};
_Static_assert(FD_KEY(FD_BLK, 1) + 1 == JSP_NKEYS, "one key per kind and direction");

/*
 * read() and write() call the operation of what descriptor fd is in this
 * process's table: an indirect call whose target depends on the process.
 */
int64_t sys_write(int64_t fd, const void *buf, uint64_t len)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	return jsp_call(current_proc(), FD_KEY(f->kind, 1), f, (uint64_t)buf, len);
}

int64_t sys_read(int64_t fd, void *buf, uint64_t len)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	return jsp_call(current_proc(), FD_KEY(f->kind, 0), f, (uint64_t)buf, len);
}

/* Copies a user path; -EFAULT / -ENAMETOOLONG. */
static int64_t get_path(const char *upath, char *kpath)
{
	return strncpy_from_user(&current_proc()->vm, kpath, (uint64_t)upath, VESSEL_PATH_MAX);
}

int64_t sys_open(const char *path, uint64_t flags)
{
	struct proc *p = current_proc();
	const struct initrd *rd = initrd_get();
	char kpath[VESSEL_PATH_MAX];
	struct initrd_file file;
	int64_t r = get_path(path, kpath);

	if (r < 0)
		return r;
	if (flags & ~(uint64_t)VESSEL_O_ACCMODE)
		return -EINVAL;
	if (!strcmp(kpath, "/"))
		return -EISDIR;
	if (!strncmp(kpath, "/dev/", 5)) { /* disks: /dev/vda, ... */
		for (int fd = 0; fd < VESSEL_FD_MAX; fd++)
			if (p->fds[fd].kind == FD_NONE)
				return (r = blkdev_open(&p->fds[fd], kpath + 5, flags)) ? r : fd;
		return -EMFILE;
	}
	if ((flags & VESSEL_O_ACCMODE) != VESSEL_O_RDONLY)
		return -EROFS;
	if (!rd)
		return -ENOENT;
	r = initrd_find(rd, kpath, VESSEL_PATH_MAX, &file);
	if (r)
		return r;
	for (int fd = 0; fd < VESSEL_FD_MAX; fd++) {
		if (p->fds[fd].kind == FD_NONE) {
			p->fds[fd].kind = FD_FILE;
			p->fds[fd].data = file.data;
			p->fds[fd].size = file.size;
			p->fds[fd].pos = 0;
			return fd;
		}
	}
	return -EMFILE;
}

int64_t sys_close(int64_t fd)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (f->kind == FD_BLK)
		blkdev_close(f);
	f->kind = FD_NONE;
	return 0;
}

void files_close_all(struct proc *p)
{
	for (int fd = 0; fd < VESSEL_FD_MAX; fd++) {
		if (p->fds[fd].kind == FD_BLK)
			blkdev_close(&p->fds[fd]);
		p->fds[fd].kind = FD_NONE;
	}
}

int64_t sys_fsync(int64_t fd)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (f->kind == FD_BLK)
		return blkdev_fsync(f);
	return f->kind == FD_FILE ? 0 : -EINVAL; /* the initrd is read-only */
}

int64_t sys_blk_submit(int64_t fd, const struct vessel_blk_io *ios, uint64_t n)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (f->kind != FD_BLK)
		return -ENOTBLK;
	return n ? blkdev_submit(f, (uint64_t)ios, n) : 0;
}

int64_t sys_blk_reap(int64_t fd, struct vessel_blk_done *done, uint64_t max, uint64_t min)
{
	struct fd *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (f->kind != FD_BLK)
		return -ENOTBLK;
	return blkdev_reap(f, (uint64_t)done, max, min);
}

int64_t sys_lseek(int64_t fd, int64_t offset, uint64_t whence)
{
	struct fd *f = get_fd(fd);
	int64_t base;

	if (!f)
		return -EBADF;
	if (f->kind == FD_CONSOLE)
		return -ESPIPE;
	if (whence == VESSEL_SEEK_SET)
		base = 0;
	else if (whence == VESSEL_SEEK_CUR)
		base = (int64_t)f->pos;
	else if (whence == VESSEL_SEEK_END)
		base = (int64_t)f->size;
	else
		return -EINVAL;
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + offset);
	return (int64_t)f->pos;
}

int64_t sys_readdir(const char *path, uint64_t index, struct vessel_dirent *ent)
{
	struct proc *p = current_proc();
	const struct initrd *rd = initrd_get();
	char kpath[VESSEL_PATH_MAX];
	struct initrd_file file;
	struct vessel_dirent d;
	int64_t r = get_path(path, kpath);

	if (r < 0)
		return r;
	if (strcmp(kpath, "/") && strcmp(kpath, ""))
		return rd && !initrd_find(rd, kpath, VESSEL_PATH_MAX, &file) ? -ENOTDIR : -ENOENT;
	if (!rd || index >= initrd_count(rd) || initrd_entry(rd, (uint32_t)index, &file))
		return 0;
	memset(&d, 0, sizeof(d));
	d.size = file.size;
	d.type = VESSEL_DT_FILE;
	d.mode = (file.flags & VESSEL_INITRD_F_EXEC) ? 0555 : 0444;
	strlcpy(d.name, file.name, sizeof(d.name));
	if (copy_to_user(&p->vm, (uint64_t)ent, &d, sizeof(d)))
		return -EFAULT;
	return 1;
}
