// SPDX-License-Identifier: MIT
/* echo ARGS...: print the arguments separated by spaces. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[1024];
	size_t len = 0;

	for (int i = 1; i < argc; i++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s", i > 1 ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
			fprintf(stderr, "echo: line too long\n");
			return 1;
		}
		len += (size_t)n;
	}
	line[len++] = '\n';
	return write_all(1, line, len) < 0;
}
