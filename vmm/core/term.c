// SPDX-License-Identifier: MIT
#include "core/term.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;
static volatile sig_atomic_t raw_on;

void term_restore(void)
{
	if (raw_on) {
		tcsetattr(saved_fd, TCSAFLUSH, &saved); /* async-signal-safe */
		raw_on = 0;
	}
}

int term_is_raw(void)
{
	return raw_on;
}

static void fatal_handler(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw_enter(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	static int registered;
	struct termios t;
	struct sigaction sa;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &saved) < 0)
		return -errno;
	saved_fd = fd;
	t = saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* the guest's "\n" still starts a new line */
	if (!registered) {
		atexit(term_restore);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fatal_handler;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESETHAND;
		/* a signal somebody already handles keeps its handler (the
		 * memory-error SIGBUS handlers must stay in front): that
		 * handler calls term_restore() itself before dying */
		for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
			struct sigaction cur;

			if (sigaction(fatal[i], NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
			    cur.sa_handler == SIG_DFL)
				sigaction(fatal[i], &sa, NULL);
		}
		registered = 1;
	}
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
		return -errno;
	raw_on = 1;
	return 1;
}
