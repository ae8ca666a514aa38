// SPDX-License-Identifier: MIT
/* Names of the error numbers of include/abi/syscalls.h. */
#include <string.h>
#include <vessel/sys.h>

const char *strerror(int e)
{
	/* unsigned: -INT_MIN does not fit an int */
	unsigned int u = e < 0 ? 0u - (unsigned int)e : (unsigned int)e;

	switch (u) {
	case 0:
		return "OK";
	case EPERM:
		return "EPERM (operation not permitted)";
	case ENOENT:
		return "ENOENT (no such file)";
	case ESRCH:
		return "ESRCH (no such process)";
	case EINTR:
		return "EINTR (interrupted)";
	case EIO:
		return "EIO (input/output error)";
	case E2BIG:
		return "E2BIG (argument list too long)";
	case ENOEXEC:
		return "ENOEXEC (not an executable)";
	case EBADF:
		return "EBADF (bad file descriptor)";
	case ECHILD:
		return "ECHILD (no child process)";
	case EAGAIN:
		return "EAGAIN (resource temporarily unavailable)";
	case ENOMEM:
		return "ENOMEM (out of memory)";
	case EFAULT:
		return "EFAULT (bad address)";
	case EBUSY:
		return "EBUSY (busy)";
	case EEXIST:
		return "EEXIST (exists)";
	case ENOTDIR:
		return "ENOTDIR (not a directory)";
	case EISDIR:
		return "EISDIR (is a directory)";
	case EINVAL:
		return "EINVAL (invalid argument)";
	case EMFILE:
		return "EMFILE (too many open files)";
	case ENOSPC:
		return "ENOSPC (no space)";
	case ESPIPE:
		return "ESPIPE (illegal seek)";
	case EROFS:
		return "EROFS (read-only file system)";
	case ERANGE:
		return "ERANGE (out of range)";
	case EDEADLK:
		return "EDEADLK (would deadlock)";
	case ENAMETOOLONG:
		return "ENAMETOOLONG (name too long)";
	case ENOSYS:
		return "ENOSYS (no such system call)";
	default:
		return "E? (unknown error)";
	}
}
