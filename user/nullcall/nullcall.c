// SPDX-License-Identifier: MIT
/*
 * nullcall [-n COUNT] [-p syscall|int80|both]: the cost of a null system
 * call (getpid) through each entry path, as wall time per call and as the
 * kernel's own counters (entries by path, from the named counters of
 * `stats`). On this host kernel code is emulated, so the time is dominated
 * by the kernel's instruction count; compare paths in the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run(const char *path, long count)
{
	static struct vessel_stats a, b;
	uint64_t t0, t1;
	long pid = sys_getpid();

	if (sys_stats(&a, sizeof(a)) < 0)
		return 1;
	t0 = now_ns();
	for (long i = 0; i < count; i++) {
		long r = strcmp(path, "int80") ? sys_getpid() :
						 sys_call_int80(SYS_getpid, 0, 0, 0, 0, 0, 0);

		if (r != pid) {
			fprintf(stderr, "nullcall: getpid returned %ld, want %ld\n", r, pid);
			return 1;
		}
	}
	t1 = now_ns();
	if (sys_stats(&b, sizeof(b)) < 0)
		return 1;
	printf("nullcall: %-7s %ld calls, %llu ns/call, kernel entries: syscall %llu ud2 %llu "
	       "int80 %llu, exceptions %llu\n",
	       path, count, (unsigned long long)((t1 - t0) / (uint64_t)count),
	       (unsigned long long)(stats_named(&b, "syscall.entry_syscall") -
				    stats_named(&a, "syscall.entry_syscall")),
	       (unsigned long long)(stats_named(&b, "syscall.entry_ud2") -
				    stats_named(&a, "syscall.entry_ud2")),
	       (unsigned long long)(stats_named(&b, "syscall.entry_int80") -
				    stats_named(&a, "syscall.entry_int80")),
	       (unsigned long long)(b.total.exceptions - a.total.exceptions));
	return 0;
}

int main(int argc, char **argv)
{
	long count = 1000;
	const char *path = "both";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			count = strtol(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			path = argv[++i];
		} else {
			fprintf(stderr, "usage: nullcall [-n COUNT] [-p syscall|int80|both]\n");
			return 2;
		}
	}
	if (count <= 0) {
		fprintf(stderr, "nullcall: -n must be positive\n");
		return 2;
	}
	if (strcmp(path, "int80") && run("syscall", count))
		return 1;
	if (strcmp(path, "syscall") && run("int80", count))
		return 1;
	return 0;
}
