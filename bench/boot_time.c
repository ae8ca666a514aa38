/*
 * boot_time: wall-clock time from starting a command until a marker string
 * appears on its output, over several runs; prints each run and the median.
 *
 *   boot_time [-n RUNS] [-t TIMEOUT_S] -m MARKER -- COMMAND [ARGS...]
 *
 * The command's stdout+stderr are read through a pipe; when MARKER is seen
 * the time is taken and the whole process group is killed (the guest need
 * not power off). The last line is `median_ms=X` for scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Runs argv once; returns ms until marker, or -1 on failure/timeout. */
static double run_once(char **argv, const char *marker, double timeout_ms)
{
	int fds[2];
	char buf[65536];
	size_t used = 0;
	double t0 = now_ms(), result = -1;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		int devnull = open("/dev/null", 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "boot_time: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	for (;;) {
		double left = timeout_ms - (now_ms() - t0);
		struct pollfd p = { .fd = fds[0], .events = POLLIN };

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (used == sizeof(buf) - 1) { /* keep the tail: the marker may straddle */
			memmove(buf, buf + used / 2, used - used / 2);
			used -= used / 2;
		}
		ssize_t n = read(fds[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += n;
		buf[used] = 0;
		if (strstr(buf, marker)) {
			result = now_ms() - t0;
			break;
		}
	}
	kill(-pid, SIGKILL);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	if (result < 0)
		fprintf(stderr, "boot_time: marker '%s' not seen; output tail:\n%.2000s\n", marker,
			used > 2000 ? buf + used - 2000 : buf);
	return result;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int runs = 5, opt;
	double timeout_s = 120;
	const char *marker = NULL;

	while ((opt = getopt(argc, argv, "+n:t:m:h")) != -1) {
		switch (opt) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 't':
			timeout_s = atof(optarg);
			break;
		case 'm':
			marker = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n RUNS] [-t TIMEOUT_S] -m MARKER -- COMMAND "
				"[ARGS...]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!marker || optind >= argc || runs < 1 || runs > 1000 || timeout_s <= 0) {
		fprintf(stderr,
			"boot_time: need -m MARKER, a command, 1 <= RUNS <= 1000, TIMEOUT_S > 0\n");
		return 2;
	}
	double t[1000];
	for (int i = 0; i < runs; i++) {
		t[i] = run_once(argv + optind, marker, timeout_s * 1e3);
		if (t[i] < 0)
			return 1;
		printf("run %d: %.1f ms\n", i + 1, t[i]);
		fflush(stdout);
	}
	qsort(t, runs, sizeof(t[0]), cmp_double);
	printf("median_ms=%.1f\n", runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2);
	return 0;
}
