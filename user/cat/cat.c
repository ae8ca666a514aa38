// SPDX-License-Identifier: MIT
/* cat [FILE...]: copy files (or the console input, until EOF) to the console. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int copy(int fd, const char *name)
{
	char buf[4096];
	long n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(1, buf, (size_t)n) < 0)
			return 1;
	if (n < 0) {
		fprintf(stderr, "cat: %s: %s\n", name, strerror((int)n));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		return copy(0, "stdin");
	for (int i = 1; i < argc; i++) {
		long fd = open(argv[i], O_RDONLY);

		if (fd < 0) {
			fprintf(stderr, "cat: %s: %s\n", argv[i], strerror((int)fd));
			status = 1;
			continue;
		}
		status |= copy((int)fd, argv[i]);
		close((int)fd);
	}
	return status;
}
