// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kbpf.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int kbpf_load(const struct ebpf_insn *insns, size_t n, char *why, size_t whylen)
{
	static char log[65536];
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t) "Dual MIT/GPL";
	log[0] = 0;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		/* again with the verifier log, to say why */
		a.log_buf = (uintptr_t)log;
		a.log_size = sizeof(log);
		a.log_level = 1;
		fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	}
	if (fd < 0) {
		int e = errno;
		const char *last = log;
		size_t len = strlen(log);

		/* the last non-empty line of the kernel's log says why */
		while (len && log[len - 1] == '\n')
			log[--len] = 0;
		for (char *p = log; *p; p++)
			if (p[0] == '\n' && p[1])
				last = p + 1;
		snprintf(why, whylen, "BPF_PROG_LOAD: %s%s%.100s", strerror(e), *last ? ": " : "",
			 last);
		return -e;
	}
	return fd;
}

double kbpf_run(int fd, uint32_t repeat, uint32_t *retval, char *why, size_t whylen)
{
	static uint8_t pkt[64];
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = repeat;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a)) {
		snprintf(why, whylen, "BPF_PROG_TEST_RUN: %s", strerror(errno));
		return -1;
	}
	*retval = a.test.retval;
	return (double)a.test.duration;
}
