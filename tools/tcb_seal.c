// SPDX-License-Identifier: MIT
/*
 * tcb_seal KERNEL.ELF: records the SHA-256 of the kernel's trusted computing
 * base (its .tcb section) in its .tcb_sha256 section, in place. Run by the
 * build right after linking; the VMM compares the TCB it loads against this
 * value and refuses a kernel whose TCB was altered afterwards
 * (docs/integrity.md). A kernel without a TCB is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/tcb_image.h"

int main(int argc, char **argv)
{
	struct tcb_image t;
	uint8_t *elf, d[TCB_SHA256_LEN];
	char why[128], hex[2 * TCB_SHA256_LEN + 1];
	struct stat st;
	int fd, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: tcb_seal KERNEL.ELF\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) || !(elf = malloc((size_t)st.st_size + 1)) ||
	    pread(fd, elf, (size_t)st.st_size, 0) != st.st_size) {
		fprintf(stderr, "tcb_seal: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rc = tcb_image_find(elf, (size_t)st.st_size, &t, why, sizeof(why));
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		fprintf(stderr, "tcb_seal: %s: %s\n", argv[1], why);
		return 1;
	}
	if (tcb_sha256(elf + t.file_off, t.size, d) ||
	    pwrite(fd, d, sizeof(d), (off_t)t.sha_off) != (ssize_t)sizeof(d)) {
		fprintf(stderr, "tcb_seal: %s: cannot record the measurement\n", argv[1]);
		return 1;
	}
	tcb_hex(d, hex);
	printf("  TCB     %s: %llu bytes, sha256 %s\n", argv[1], (unsigned long long)t.size, hex);
	free(elf);
	return close(fd) ? 1 : 0;
}
