// SPDX-License-Identifier: MIT
/*
 * init (pid 1): starts the shell and reaps every process that ends up as
 * its child (orphans are re-parented to pid 1). When the shell exits, init
 * powers the VM off with the shell's exit status (a shell killed by a
 * signal gives 128 + signal), so `printf 'cmd\n' | vessel run` ends by
 * itself when the input does (see docs/userspace.md).
 *
 *   init [PROGRAM ARGS...]   run PROGRAM instead of the shell (default sh)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char *const sh_argv[] = { "sh", NULL };
	const char *const *child_argv = argc > 1 ? (const char *const *)argv + 1 : sh_argv;
	long pid;

	if (getpid() != 1)
		fprintf(stderr, "init: warning: running as pid %ld, not 1\n", getpid());
	pid = sys_spawn(child_argv[0], child_argv);
	if (pid < 0) {
		fprintf(stderr, "init: cannot start %s: %s\n", child_argv[0], strerror((int)pid));
		sys_poweroff(127);
	}
	for (;;) {
		int32_t status;
		long r = sys_wait(-1, &status, 0);

		if (r == pid) {
			int code = VESSEL_W_EXITED(status) ? VESSEL_W_EXITSTATUS(status) :
							     128 + VESSEL_W_TERMSIG(status);

			if (VESSEL_W_SIGNALED(status))
				fprintf(stderr, "init: %s killed by signal %d\n", child_argv[0],
					VESSEL_W_TERMSIG(status));
			sys_poweroff(code);
		}
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "init: wait failed: %s\n", strerror((int)r));
			sys_poweroff(126);
		}
	}
}
