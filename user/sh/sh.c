// SPDX-License-Identifier: MIT
/*
 * sh: the Vessel shell, on the console. One command per line:
 *
 *   NAME ARGS...        run program NAME from the initrd, wait for it
 *   NAME ARGS... &      run it in the background (reaped at the next prompt)
 *   help                builtins and programs
 *   ls                  files of the initrd (name, size, kind)
 *   ps                  processes
 *   stats [CMD ARGS]    kernel counters; with CMD: the counters CMD caused
 *   kill PID [SIG]      terminate a process (SIG 9 or 15, default 9)
 *   exit [N]            leave the shell (init then powers off with N)
 *   poweroff [N]        power the VM off with status N (default 0)
 *
 * Words are split at blanks; "double" or 'single' quotes group words;
 * `$?` is the status of the last command; a line starting with # is a
 * comment. At end of input (Ctrl-D, or the end of piped input when the
 * VMM signals it) the shell exits with status 0, and init powers off.
 * Ctrl-C kills the program the shell waits for (the shell, its background
 * jobs and what they start survive it: setintr); at the prompt it starts a
 * new line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats_print.h"

#define MAX_ARGS VESSEL_ARGV_MAX

static int last_status;

struct cmd {
	char *argv[MAX_ARGS + 1];
	int argc;
	int background;
	char words[1024];
};

/* Split a line into words; returns 0, or -1 with a message printed. */
static int parse(const char *line, struct cmd *c)
{
	const char *p = line;
	char *w = c->words, *end = c->words + sizeof(c->words) - 1;

	c->argc = 0;
	c->background = 0;
	for (;;) {
		char quote = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || (*p == '#' && c->argc == 0))
			break;
		if (c->argc == MAX_ARGS) {
			fprintf(stderr, "sh: too many arguments (at most %d)\n", MAX_ARGS);
			return -1;
		}
		c->argv[c->argc++] = w;
		while (*p && (quote || (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'))) {
			if (quote && *p == quote) {
				quote = 0;
				p++;
				continue;
			}
			if (!quote && (*p == '"' || *p == '\'')) {
				quote = *p++;
				continue;
			}
			if (w == end) {
				fprintf(stderr, "sh: line too long\n");
				return -1;
			}
			*w++ = *p++;
		}
		if (quote) {
			fprintf(stderr, "sh: unterminated quote\n");
			return -1;
		}
		if (w == end) {
			fprintf(stderr, "sh: line too long\n");
			return -1;
		}
		*w++ = '\0';
	}
	if (c->argc && !strcmp(c->argv[c->argc - 1], "&")) {
		c->background = 1;
		c->argc--;
	}
	c->argv[c->argc] = NULL;
	return 0;
}

static void expand_status(struct cmd *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", last_status);
	for (int i = 0; i < c->argc; i++)
		if (!strcmp(c->argv[i], "$?"))
			c->argv[i] = buf;
}

static const char *signame(int sig)
{
	switch (sig) {
	case VESSEL_SIGINT:
		return "SIGINT";
	case VESSEL_SIGILL:
		return "SIGILL";
	case VESSEL_SIGTRAP:
		return "SIGTRAP";
	case VESSEL_SIGABRT:
		return "SIGABRT";
	case VESSEL_SIGBUS:
		return "SIGBUS";
	case VESSEL_SIGFPE:
		return "SIGFPE";
	case VESSEL_SIGKILL:
		return "SIGKILL";
	case VESSEL_SIGSEGV:
		return "SIGSEGV";
	case VESSEL_SIGTERM:
		return "SIGTERM";
	default:
		return "signal";
	}
}

/* Shell status of a wait status: the exit code, or 128 + signal. */
static int report(const char *name, long pid, int32_t status, int background)
{
	if (VESSEL_W_SIGNALED(status)) {
		printf("sh: %s (pid %ld) killed by %s (%d)\n", name, pid,
		       signame(VESSEL_W_TERMSIG(status)), VESSEL_W_TERMSIG(status));
		return 128 + VESSEL_W_TERMSIG(status);
	}
	if (background)
		printf("sh: [%ld] %s done, status %d\n", pid, name, VESSEL_W_EXITSTATUS(status));
	else if (VESSEL_W_EXITSTATUS(status))
		printf("sh: %s: exit status %d\n", name, VESSEL_W_EXITSTATUS(status));
	return VESSEL_W_EXITSTATUS(status);
}

static void reap_background(void)
{
	for (;;) {
		int32_t status;
		long pid = sys_wait(-1, &status, VESSEL_WNOHANG);

		if (pid <= 0)
			return;
		report("background job", pid, status, 1);
	}
}

static int run(struct cmd *c)
{
	int32_t status = 0;
	long pid = sys_spawn(c->argv[0], (const char *const *)c->argv), r;

	if (pid == -ENOENT) {
		fprintf(stderr, "sh: %s: command not found (try `ls`)\n", c->argv[0]);
		return 127;
	}
	if (pid < 0) {
		fprintf(stderr, "sh: %s: cannot run: %s\n", c->argv[0], strerror((int)pid));
		return 126;
	}
	if (c->background) {
		/* Ctrl-C is for the foreground (fails if the job is gone already) */
		sys_setintr(pid, VESSEL_INTR_IGNORE_TREE);
		printf("[%ld] %s\n", pid, c->argv[0]);
		return 0;
	}
	r = sys_wait(pid, &status, 0);
	if (r < 0) {
		fprintf(stderr, "sh: wait for %s: %s\n", c->argv[0], strerror((int)r));
		return 126;
	}
	return report(c->argv[0], pid, status, 0);
}

static int cmd_ls(void)
{
	struct vessel_dirent d;
	long r;

	for (uint64_t i = 0; (r = sys_readdir("/", i, &d)) == 1; i++)
		printf("%-24s %10llu  %s\n", d.name, (unsigned long long)d.size,
		       d.mode & 0111 ? "program" : "file");
	if (r < 0) {
		fprintf(stderr, "ls: %s\n", strerror((int)r));
		return 1;
	}
	return 0;
}

static const char *state_name(uint32_t s)
{
	switch (s) {
	case VESSEL_PROC_RUNNING:
		return "run";
	case VESSEL_PROC_RUNNABLE:
		return "ready";
	case VESSEL_PROC_SLEEPING:
		return "sleep";
	case VESSEL_PROC_ZOMBIE:
		return "zombie";
	default:
		return "?";
	}
}

static int cmd_ps(void)
{
	static struct vessel_procinfo p[64];
	long n = sys_ps(p, 64);

	if (n < 0) {
		fprintf(stderr, "ps: %s\n", strerror((int)n));
		return 1;
	}
	printf("  PID  PPID STATE  THR CPU  MEM(KiB) NAME\n");
	for (long i = 0; i < n && i < 64; i++)
		printf("%5d %5d %-6s %3u %3d %9llu %s\n", p[i].pid, p[i].ppid,
		       state_name(p[i].state), p[i].nthreads, p[i].cpu,
		       (unsigned long long)p[i].mem_pages * 4, p[i].name);
	if (n > 64)
		printf("(%ld more)\n", n - 64);
	return 0;
}

static int cmd_stats(struct cmd *c)
{
	static struct vessel_stats before, after;
	long r = sys_stats(&before, sizeof(before));
	struct cmd sub;
	int status;

	if (r < 0) {
		fprintf(stderr, "stats: %s\n", strerror((int)r));
		return 1;
	}
	if (c->argc == 1) {
		stats_print(&before, NULL);
		return 0;
	}
	for (int i = 1; i <= c->argc; i++)
		sub.argv[i - 1] = c->argv[i];
	sub.argc = c->argc - 1;
	sub.background = 0;
	status = run(&sub);
	if (sys_stats(&after, sizeof(after)) < 0)
		return 1;
	printf("-- counters while `%s` ran (status %d):\n", sub.argv[0], status);
	stats_print(&after, &before);
	return status;
}

static int cmd_help(void)
{
	struct vessel_dirent d;

	printf("builtins: help ls ps stats [CMD ARGS] kill PID [SIG] exit [N] poweroff [N]\n"
	       "run a program: NAME ARGS... (add & to run it in the background; $? = last "
	       "status)\nprograms:");
	for (uint64_t i = 0; sys_readdir("/", i, &d) == 1; i++)
		if (d.mode & 0111)
			printf(" %s", d.name);
	printf("\n");
	return 0;
}

static int number_arg(struct cmd *c, int i, long dflt, long *v)
{
	char *end;

	if (c->argc <= i) {
		*v = dflt;
		return 0;
	}
	*v = strtol(c->argv[i], &end, 0);
	if (!*c->argv[i] || *end) {
		fprintf(stderr, "sh: %s: not a number: %s\n", c->argv[0], c->argv[i]);
		return -1;
	}
	return 0;
}

/* Run one parsed line; returns its status. *quit set by exit. */
static int execute(struct cmd *c, int *quit, int *quit_status)
{
	const char *name = c->argv[0];
	long v, sig;

	if (!strcmp(name, "help"))
		return cmd_help();
	if (!strcmp(name, "ls"))
		return cmd_ls();
	if (!strcmp(name, "ps"))
		return cmd_ps();
	if (!strcmp(name, "stats"))
		return cmd_stats(c);
	if (!strcmp(name, "exit")) {
		if (number_arg(c, 1, last_status, &v))
			return 2;
		*quit = 1;
		*quit_status = (int)v;
		return (int)v;
	}
	if (!strcmp(name, "poweroff")) {
		if (number_arg(c, 1, 0, &v))
			return 2;
		printf("sh: powering off (status %ld)\n", v);
		sys_poweroff(v);
		fprintf(stderr, "sh: poweroff failed\n");
		return 1;
	}
	if (!strcmp(name, "kill")) {
		long r;

		if (c->argc < 2 || number_arg(c, 1, 0, &v) || number_arg(c, 2, 9, &sig)) {
			fprintf(stderr, "usage: kill PID [SIG]\n");
			return 2;
		}
		r = sys_kill(v, sig);
		if (r < 0) {
			fprintf(stderr, "kill: %ld: %s\n", v, strerror((int)r));
			return 1;
		}
		return 0;
	}
	return run(c);
}

/*
 * A line that filled the buffer without its newline is cut: skip the rest
 * of it (never run the tail as a command of its own). Returns 1 if it was.
 */
static int line_too_long(char *line, size_t size)
{
	size_t n = strlen(line);

	if (n < size - 1 || line[n - 1] == '\n')
		return 0;
	while (fgets(line, (int)size, stdin) && !strchr(line, '\n'))
		;
	fprintf(stderr, "sh: line too long (at most %zu characters)\n", size - 2);
	return 1;
}

int main(int argc, char **argv)
{
	char line[1024];
	char status_buf[16];
	struct cmd c;
	int quit = 0, quit_status = 0;

	(void)argc;
	(void)argv;
	/* Ctrl-C kills the foreground program, not the shell (-ENOSYS off Vessel) */
	sys_setintr(0, VESSEL_INTR_IGNORE);
	printf("Vessel shell. `help` lists commands.\n");
	while (!quit) {
		reap_background();
		fputs("$ ", stdout);
		if (!fgets(line, sizeof(line), stdin)) {
			printf("\nsh: end of input\n");
			return 0;
		}
		if (line_too_long(line, sizeof(line))) {
			last_status = 2;
			continue;
		}
		if (parse(line, &c)) {
			last_status = 2;
			continue;
		}
		if (c.argc == 0)
			continue;
		expand_status(&c, status_buf, sizeof(status_buf));
		last_status = execute(&c, &quit, &quit_status);
	}
	return quit_status;
}
