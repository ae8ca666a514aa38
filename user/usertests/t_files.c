// SPDX-License-Identifier: MIT
/* Console and initrd file calls: write, read, open, close, lseek, readdir. */
#include "ut.h"

#define HELLO	  "Hello from the Vessel initrd.\n"
#define HELLO_LEN (sizeof(HELLO) - 1)

void test_write_console(void)
{
	static const char msg[] = "# write_console: this line is written by the test\n";

	CHECK_EQ(sys_write(1, msg, sizeof(msg) - 1), sizeof(msg) - 1);
	CHECK_EQ(sys_write(2, "", 0), 0);
	CHECK_EQ(sys_write(1, BAD_NULL, 0), 0); /* len 0: the pointer is not checked */
	CHECK_ERR(sys_write(1, BAD_NULL, 10), EFAULT);
	CHECK_ERR(sys_write(1, BAD_LOW, 10), EFAULT);
	CHECK_ERR(sys_write(1, BAD_KERNEL, 10), EFAULT);
	CHECK_ERR(sys_write(1, BAD_NONCANON, 10), EFAULT);
	CHECK_ERR(sys_write(1, BAD_HIGH, 4096), EFAULT);
	CHECK_ERR(sys_write(1, msg, ~0ull), EFAULT); /* the range wraps */
	CHECK_ERR(sys_write(1, ut_unmapped_addr(), 10), EFAULT);
	CHECK_ERR(sys_write(99, msg, 1), EBADF);
	CHECK_ERR(sys_write(-1, msg, 1), EBADF);
	CHECK_ERR(sys_write(VESSEL_FD_MAX, msg, 1), EBADF);
	CHECK_ERR(sys_write(7, msg, 1), EBADF); /* in range, not open */
	/* a buffer that runs into an unmapped page: refused whole */
	long page = CHECK_OK(sys_mmap(NULL, 8192, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				      VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS));
	CHECK_OK(sys_munmap((void *)(page + 4096), 4096));
	memcpy((char *)page + 4096 - 12, "# unseen   \n", 12);
	CHECK_ERR(sys_write(1, (char *)page + 4096 - 12, 24), EFAULT);
	/* a large write spanning pages goes out whole (one blank TAP comment line) */
	static char big[6000];
	size_t len = sizeof(big);
	memset(big, ' ', len);
	big[0] = '#';
	big[len - 1] = '\n';
	CHECK_EQ(sys_write(1, big, len), len);
}

void test_read_args(void)
{
	char buf[8];
	long fd = CHECK_OK(sys_open("hello.txt", VESSEL_O_RDONLY));

	CHECK_EQ(sys_read(0, buf, 0), 0); /* len 0 never blocks */
	CHECK_EQ(sys_read((int)fd, buf, 0), 0);
	CHECK_ERR(sys_read((int)fd, BAD_NULL, 4), EFAULT);
	CHECK_ERR(sys_read((int)fd, BAD_KERNEL, 4), EFAULT);
	CHECK_ERR(sys_read((int)fd, (void *)(uintptr_t) "const string", 4), EFAULT); /* read-only */
	CHECK_ERR(sys_read(99, buf, 4), EBADF);
	CHECK_ERR(sys_read(-5, buf, 4), EBADF);
	/* a failed read does not move the position */
	CHECK_EQ(sys_read((int)fd, buf, 5), 5);
	CHECK(!memcmp(buf, "Hello", 5));
	CHECK_OK(sys_close((int)fd));
}

void test_open_read_close(void)
{
	char buf[128];
	long fd, fd2, n, total = 0;

	fd = CHECK_OK(sys_open("hello.txt", VESSEL_O_RDONLY));
	CHECK(fd >= 3);
	while ((n = CHECK_OK(sys_read((int)fd, buf + total, 7))) > 0)
		total += n; /* short reads across the file */
	CHECK_EQ(total, HELLO_LEN);
	CHECK(!memcmp(buf, HELLO, HELLO_LEN));
	CHECK_EQ(sys_read((int)fd, buf, sizeof(buf)), 0); /* EOF stays EOF */
	CHECK_ERR(sys_write((int)fd, "x", 1), EBADF);	  /* read-only descriptor */
	fd2 = CHECK_OK(sys_open("/hello.txt", VESSEL_O_RDONLY));
	CHECK(fd2 != fd);
	CHECK_EQ(sys_read((int)fd2, buf, sizeof(buf)), HELLO_LEN); /* own position */
	CHECK_OK(sys_close((int)fd));
	CHECK_ERR(sys_close((int)fd), EBADF);
	CHECK_ERR(sys_read((int)fd, buf, 1), EBADF);
	/* the lowest free descriptor is reused */
	CHECK_EQ(sys_open("hello.txt", VESSEL_O_RDONLY), fd);
	CHECK_OK(sys_close((int)fd));
	CHECK_OK(sys_close((int)fd2));
	CHECK_ERR(sys_close(99), EBADF);
	CHECK_ERR(sys_close(-1), EBADF);
	/* programs are files too */
	fd = CHECK_OK(sys_open("usertests", VESSEL_O_RDONLY));
	CHECK_EQ(sys_read((int)fd, buf, 4), 4);
	CHECK(!memcmp(buf, "\177ELF", 4));
	CHECK_OK(sys_close((int)fd));
}

void test_open_errors(void)
{
	char longpath[300];

	CHECK_ERR(sys_open("no-such-file", VESSEL_O_RDONLY), ENOENT);
	CHECK_ERR(sys_open("", VESSEL_O_RDONLY), ENOENT);
	CHECK_ERR(sys_open("/", VESSEL_O_RDONLY), EISDIR);
	CHECK_ERR(sys_open("hello.txt", VESSEL_O_WRONLY), EROFS);
	CHECK_ERR(sys_open("hello.txt", VESSEL_O_RDWR), EROFS);
	CHECK_ERR(sys_open("hello.txt", 0x40), EINVAL);
	CHECK_ERR(sys_open(BAD_NULL, VESSEL_O_RDONLY), EFAULT);
	CHECK_ERR(sys_open(BAD_KERNEL, VESSEL_O_RDONLY), EFAULT);
	CHECK_ERR(sys_open(ut_unmapped_addr(), VESSEL_O_RDONLY), EFAULT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_ERR(sys_open(longpath, VESSEL_O_RDONLY), ENAMETOOLONG);
	/* a name that runs into an unmapped page without a NUL */
	long page = CHECK_OK(sys_mmap(NULL, 8192, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				      VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS));
	CHECK_OK(sys_munmap((void *)(page + 4096), 4096));
	memset((void *)(page + 4096 - 10), 'b', 10);
	CHECK_ERR(sys_open((void *)(page + 4096 - 10), VESSEL_O_RDONLY), EFAULT);
}

void test_fd_limit(void)
{
	long fds[VESSEL_FD_MAX];
	int n = 0;
	long r;

	while ((r = sys_open("hello.txt", VESSEL_O_RDONLY)) >= 0) {
		CHECK(n < VESSEL_FD_MAX);
		fds[n++] = r;
	}
	CHECK_ERR(r, EMFILE);
	CHECK_EQ(n, VESSEL_FD_MAX - 3); /* 0, 1, 2 are the console */
	CHECK_OK(sys_close((int)fds[4]));
	CHECK_EQ(sys_open("hello.txt", VESSEL_O_RDONLY), fds[4]);
	/* closing the console frees its slot too */
	CHECK_OK(sys_close(0));
	CHECK_EQ(sys_open("hello.txt", VESSEL_O_RDONLY), 0);
}

void test_lseek(void)
{
	char c;
	long fd = CHECK_OK(sys_open("hello.txt", VESSEL_O_RDONLY));

	CHECK_EQ(sys_lseek((int)fd, 0, VESSEL_SEEK_END), HELLO_LEN);
	CHECK_EQ(sys_read((int)fd, &c, 1), 0);
	CHECK_EQ(sys_lseek((int)fd, 6, VESSEL_SEEK_SET), 6);
	CHECK_EQ(sys_read((int)fd, &c, 1), 1);
	CHECK_EQ(c, 'f');
	CHECK_EQ(sys_lseek((int)fd, 0, VESSEL_SEEK_CUR), 7);
	CHECK_EQ(sys_lseek((int)fd, -2, VESSEL_SEEK_CUR), 5);
	CHECK_EQ(sys_lseek((int)fd, -1, VESSEL_SEEK_END), HELLO_LEN - 1);
	CHECK_EQ(sys_read((int)fd, &c, 1), 1);
	CHECK_EQ(c, '\n');
	CHECK_EQ(sys_lseek((int)fd, 1000, VESSEL_SEEK_SET), 1000); /* past the end: allowed */
	CHECK_EQ(sys_read((int)fd, &c, 1), 0);
	CHECK_ERR(sys_lseek((int)fd, -1, VESSEL_SEEK_SET), EINVAL);
	CHECK_ERR(sys_lseek((int)fd, -1000, VESSEL_SEEK_END), EINVAL);
	CHECK_ERR(sys_lseek((int)fd, 0, 3), EINVAL);
	CHECK_EQ(sys_lseek((int)fd, 0, VESSEL_SEEK_CUR), 1000); /* errors moved nothing */
	CHECK_ERR(sys_lseek(1, 0, VESSEL_SEEK_SET), ESPIPE);
	CHECK_ERR(sys_lseek(99, 0, VESSEL_SEEK_SET), EBADF);
	CHECK_OK(sys_close((int)fd));
}

void test_readdir(void)
{
	static const char *must[] = { "init", "sh",	 "usertests", "echo",
				      "cat",  "memtest", "hello.txt" };
	int found[sizeof(must) / sizeof(*must)] = { 0 };
	struct vessel_dirent d;
	char prev[VESSEL_NAME_MAX] = "";
	uint64_t i;
	long r;

	for (i = 0; (r = sys_readdir("/", i, &d)) == 1; i++) {
		long fd;

		CHECK(memchr(d.name, 0, sizeof(d.name)) != NULL);
		CHECK(strcmp(prev, d.name) < 0); /* initrd order: sorted, no duplicates */
		strlcpy(prev, d.name, sizeof(prev));
		CHECK_EQ(d.type, VESSEL_DT_FILE);
		fd = CHECK_OK(sys_open(d.name, VESSEL_O_RDONLY));
		CHECK_EQ(sys_lseek((int)fd, 0, VESSEL_SEEK_END), d.size);
		CHECK_OK(sys_close((int)fd));
		for (size_t k = 0; k < sizeof(must) / sizeof(*must); k++)
			if (!strcmp(d.name, must[k]))
				found[k] = 1;
		if (!strcmp(d.name, "usertests"))
			CHECK_EQ(d.mode, 0555);
		if (!strcmp(d.name, "hello.txt"))
			CHECK_EQ(d.mode, 0444);
	}
	CHECK_EQ(r, 0);
	CHECK(i >= 7);
	for (size_t k = 0; k < sizeof(must) / sizeof(*must); k++)
		if (!found[k])
			ut_fail(__FILE__, __LINE__, "readdir did not list %s", must[k]);
	CHECK_EQ(sys_readdir("/", i + 100, &d), 0);
	CHECK_EQ(sys_readdir("", 0, &d), 1);
	CHECK_ERR(sys_readdir("/nope", 0, &d), ENOENT);
	CHECK_ERR(sys_readdir("hello.txt", 0, &d), ENOTDIR);
	CHECK_ERR(sys_readdir("/", 0, BAD_NULL), EFAULT);
	CHECK_ERR(sys_readdir("/", 0, BAD_KERNEL), EFAULT);
	CHECK_ERR(sys_readdir("/", 0,
			      (void *)(uintptr_t) "read-only string, long enough "
						  "for a dirent of 72 bytes......"),
		  EFAULT);
	CHECK_ERR(sys_readdir(BAD_NULL, 0, &d), EFAULT);
}
