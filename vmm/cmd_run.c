// SPDX-License-Identifier: MIT
/* `vessel run`: boot a kernel in a new VM with the console on this terminal. */
#include "cmd.h"
#include "core/guest_mem.h"
#include "core/parse.h"
#include "core/term.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/serial.h"
#include "migrate/live/live.h"

#include "abi/vessel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (1ull << 30) /* a kernel or initrd larger than this is a mistake */

const char *run_usage(void)
{
	return "usage: vessel run [--cpus N] [--mem SIZE] [--kernel ELF] [--initrd FILE]\n"
	       "                  [--no-initrd] [--cmdline STR] [--control PATH]\n"
	       "                  [--incoming tcp|tls:HOST:PORT] [--incoming-timeout S]\n"
	       "                  [--tls-creds DIR] [--stats]\n"
	       "\n"
	       "Boot a Vessel kernel in a new KVM virtual machine; its console (COM1) is\n"
	       "this terminal. The exit status is the guest's poweroff status.\n"
	       "\n"
	       "  --cpus N        virtual CPUs (default 2)\n"
	       "  --mem SIZE      guest RAM: bytes with a K/M/G suffix, or MiB without one\n"
	       "                  (default 256M; at least 4M, at most 64G)\n"
	       "  --kernel ELF    ELF64 kernel (default: guest/vessel.elf next to vessel)\n"
	       "  --initrd FILE   initial ramdisk (default: user/initrd.img next to vessel,\n"
	       "                  if it exists)\n"
	       "  --no-initrd     boot without an initrd\n"
	       "  --cmdline STR   kernel command line (e.g. \"selftest\")\n"
	       "  --control PATH  serve the JSON control socket at PATH (vessel ctl PATH ...)\n"
	       "  --incoming tcp:HOST:PORT | tls:HOST:PORT\n"
	       "                  wait there for a live migration and run the migrated VM\n"
	       "                  (same --cpus and --mem as the source; no kernel is loaded).\n"
	       "                  tls: encrypts the stream and admits only a source that\n"
	       "                  authenticates (needs --tls-creds); tcp: is for trusted\n"
	       "                  networks. Connections that are not a source are turned\n"
	       "                  away and the wait goes on\n"
	       "  --incoming-timeout S\n"
	       "                  exit 1 if no migration has completed S seconds after\n"
	       "                  --incoming started listening (default 3600; 0: never)\n"
	       "  --tls-creds DIR credentials for tls: migrations, into this VM (--incoming\n"
	       "                  tls:) and out of it (vessel ctl PATH migrate tls:HOST:PORT):\n"
	       "                  ca-cert.pem, server-cert.pem, server-key.pem,\n"
	       "                  client-cert.pem, client-key.pem (certificates), or\n"
	       "                  keys.psk (pre-shared keys, lines IDENTITY:HEXKEY)\n"
	       "  --stats         print the VM exits by kind and vCPU when the VM stops\n"
	       "  -h, --help      this text\n"
	       "\n"
	       "Console: stdin goes to the guest (a pipe works: end of input does not stop\n"
	       "the VM). On a terminal, Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	       "\n"
	       "Exit status: the guest's poweroff status (0-255); 1 when the VM could not\n"
	       "be started; 2 for a bad command line; 125 when the guest faulted (triple\n"
	       "fault, bad hypercall, unhandled exit: a register dump is printed);\n"
	       "128+N when stopped by signal N.\n";
}

static int __attribute__((format(printf, 3, 4))) bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int run_parse_args(int argc, char **argv, struct run_opts *o, char *err, size_t errlen)
{
	*o = (struct run_opts){ .cpus = RUN_DEFAULT_CPUS,
				.mem = RUN_DEFAULT_MEM,
				.cmdline = "",
				.incoming_timeout = RUN_DEFAULT_INCOMING_TIMEOUT };
	bool timeout_set = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		char name[32];
		uint64_t v;
		size_t n;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			o->help = true;
			return 0;
		}
		if (!strcmp(arg, "--stats")) {
			o->stats = true;
			continue;
		}
		if (!strcmp(arg, "--no-initrd")) {
			o->no_initrd = true;
			continue;
		}
		if (strncmp(arg, "--", 2))
			return bad(err, errlen, "unexpected argument '%s'", arg);
		eq = strchr(arg, '=');
		n = eq ? (size_t)(eq - arg) : strlen(arg);
		if (n >= sizeof(name))
			return bad(err, errlen, "unknown option '%s'", arg);
		memcpy(name, arg, n);
		name[n] = '\0';
		if (strcmp(name, "--cpus") && strcmp(name, "--mem") && strcmp(name, "--kernel") &&
		    strcmp(name, "--initrd") && strcmp(name, "--cmdline") &&
		    strcmp(name, "--control") && strcmp(name, "--incoming") &&
		    strcmp(name, "--tls-creds") && strcmp(name, "--incoming-timeout"))
			return bad(err, errlen, "unknown option '%s'", name);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad(err, errlen, "option %s needs a value", name);

		if (!strcmp(name, "--cpus")) {
			int rc = parse_uint(val, 1, VM_MAX_CPUS, &v);

			if (rc)
				return bad(err, errlen, "--cpus '%s': %s", val,
					   rc == -ERANGE ? "must be between 1 and 64" :
							   "not a number");
			o->cpus = (unsigned)v;
		} else if (!strcmp(name, "--mem")) {
			int rc = parse_size(val, &v);

			if (rc)
				return bad(err, errlen, "--mem '%s': %s", val,
					   rc == -ERANGE ? "too large" :
							   "not a size (examples: 256M, 1G, 512)");
			if (v < GMEM_MIN_SIZE || v > GMEM_MAX_SIZE)
				return bad(err, errlen,
					   "--mem '%s': must be between %lluM and %lluG", val,
					   GMEM_MIN_SIZE >> 20, GMEM_MAX_SIZE >> 30);
			if (v % GMEM_PAGE_SIZE)
				return bad(err, errlen, "--mem '%s': must be a multiple of 4K",
					   val);
			o->mem = v;
		} else if (!strcmp(name, "--kernel")) {
			if (!*val)
				return bad(err, errlen, "--kernel: empty file name");
			o->kernel = val;
		} else if (!strcmp(name, "--control")) {
			if (!*val)
				return bad(err, errlen, "--control: empty socket path");
			o->control = val;
		} else if (!strcmp(name, "--incoming")) {
			if (strncmp(val, "tcp:", 4) && strncmp(val, "tls:", 4))
				return bad(
					err, errlen,
					"--incoming '%s': expected tcp:HOST:PORT or tls:HOST:PORT",
					val);
			o->incoming = val;
		} else if (!strcmp(name, "--tls-creds")) {
			if (!*val)
				return bad(err, errlen, "--tls-creds: empty directory name");
			o->tls_creds = val;
		} else if (!strcmp(name, "--incoming-timeout")) {
			if (parse_uint(val, 0, 1u << 30, &v))
				return bad(err, errlen,
					   "--incoming-timeout '%s': not a number of "
					   "seconds",
					   val);
			o->incoming_timeout = (unsigned)v;
			timeout_set = true;
		} else if (!strcmp(name, "--initrd")) {
			if (!*val)
				return bad(err, errlen, "--initrd: empty file name");
			o->initrd = val;
		} else {
			if (strlen(val) >= VESSEL_BOOT_CMDLINE_MAX)
				return bad(err, errlen, "--cmdline: %zu bytes, at most %u allowed",
					   strlen(val), VESSEL_BOOT_CMDLINE_MAX - 1);
			o->cmdline = val;
		}
	}
	if (o->initrd && o->no_initrd)
		return bad(err, errlen, "--initrd and --no-initrd contradict each other");
	if (o->incoming && !strncmp(o->incoming, "tls:", 4) && !o->tls_creds)
		return bad(err, errlen, "--incoming %s needs --tls-creds DIR", o->incoming);
	if (timeout_set && !o->incoming)
		return bad(err, errlen, "--incoming-timeout without --incoming");
	return 0;
}

/* Read a whole file; on failure print a message naming it. */
static void *read_file(const char *what, const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	size_t got = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
	 * below); reads of a regular file are not affected by the flag */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		fprintf(stderr, "vessel: %s %s: %s\n", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vessel: %s %s: not a regular file\n", what, path);
		goto out;
	}
	if ((unsigned long long)st.st_size > FILE_MAX) {
		fprintf(stderr, "vessel: %s %s: too large (%lld bytes)\n", what, path,
			(long long)st.st_size);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "vessel: %s %s: out of memory\n", what, path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vessel: %s %s: read failed: %s\n", what, path,
				n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			buf = NULL;
			goto out;
		}
		got += (size_t)n;
	}
	*size = got;
out:
	close(fd);
	return buf;
}

/* "<dir of /proc/self/exe>/rel" */
static char *bundled_path(const char *rel)
{
	char exe[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (asprintf(&out, "%s/%s", exe, rel) < 0)
		return NULL;
	return out;
}

/* ---- console and signals ---- */

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* pipe full: a stop is already pending */
	}
	errno = saved;
}

static int signals_setup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* opaque: the `struct vm *` variable of cmd_run() */
static void console_write(void *opaque, const void *buf, size_t len)
{
	struct vm *const *vmp = opaque;
	const char *p = buf;

	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		/* a kick interrupts a write blocked on a full pipe: give up if stopping */
		if (n < 0 && errno == EINTR && !(*vmp && vm_is_stopping(*vmp)))
			continue;
		if (n <= 0)
			return; /* stdout gone: the guest keeps running, output is lost */
		p += n;
		len -= (size_t)n;
	}
}

static void log_line(void *opaque, const char *line)
{
	(void)opaque;
	fprintf(stderr, "vessel: %s\n", line);
}

struct console {
	struct vm *vm;
	bool tty;
	bool stdin_open;
	bool escape; /* Ctrl-A seen */
	uint8_t backlog[4096];
	size_t head, len;
};

static void console_input(struct console *c, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = buf[i];

		if (c->tty && c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				vm_stop(c->vm, 0, "quit from the console (Ctrl-A x)");
				return;
			}
			if (b != 0x01)
				continue; /* unknown escape: dropped */
		} else if (c->tty && b == 0x01) {
			c->escape = true;
			continue;
		}
		if (c->len < sizeof(c->backlog))
			c->backlog[(c->head + c->len++) % sizeof(c->backlog)] = b;
	}
}

static void console_flush(struct console *c)
{
	while (c->len) {
		size_t chunk = sizeof(c->backlog) - c->head;
		size_t took;

		if (chunk > c->len)
			chunk = c->len;
		took = serial_receive(c->vm->console, c->backlog + c->head, chunk);
		c->head = (c->head + took) % sizeof(c->backlog);
		c->len -= took;
		if (took < chunk)
			break;
	}
}

/* The main thread's loop: stdin -> COM1, signals -> stop, until the VM stops. */
static void console_loop(struct vm *vm, bool tty)
{
	struct console c = { .vm = vm, .tty = tty, .stdin_open = true };

	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = vm->notify_fd, .events = POLLIN },
			{ .fd = sig_pipe[0], .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		bool want_stdin = c.stdin_open && c.len < sizeof(c.backlog) / 2;
		struct vm_event ev;
		int n;

		/* with input waiting for FIFO room, look again every 10 ms */
		n = poll(fds, want_stdin ? 3 : 2, c.len ? 10 : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (fds[1].revents & POLLIN)) {
			unsigned char sig;

			if (read(sig_pipe[0], &sig, 1) == 1)
				vm_stop(vm, 128 + sig, "stopped by signal %d (%s)", sig,
					strsignal(sig));
		}
		if (n > 0 && want_stdin && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint8_t buf[512];
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

			if (r > 0)
				console_input(&c, buf, (size_t)r);
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				c.stdin_open = false; /* EOF: the VM keeps running */
		}
		if (c.len)
			console_flush(&c);
		vm_poll_event(vm, &ev);
		if (ev.kind == VM_EVENT_STOPPED)
			break;
	}
}

/* One line per vCPU: its exits by kind (vcpu.h), then the total. */
static void print_stats(struct vm *vm)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		fprintf(stderr, "vessel: stats: vCPU %u: %llu exits:", i,
			(unsigned long long)v->exits);
		for (unsigned s = 0; s < VCPU_STAT_NR; s++)
			fprintf(stderr, " %s %llu", vcpu_stat_name(s),
				(unsigned long long)v->stats[s]);
		fprintf(stderr, "\n");
		total += v->exits;
	}
	fprintf(stderr, "vessel: stats: %llu exits in total\n", (unsigned long long)total);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct vm_config cfg;
	struct vm_event ev;
	struct vm *vm = NULL;
	struct live *live = NULL;
	char err[512], *kernel_path = NULL, *initrd_path = NULL;
	void *kernel = NULL, *initrd = NULL;
	size_t kernel_size = 0, initrd_size = 0;
	int status = VESSEL_EXIT_VMM_ERROR, rc, raw;

	if (run_parse_args(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "vessel run: %s\n(see 'vessel run --help')\n", err);
		return VESSEL_EXIT_USAGE;
	}
	if (o.help) {
		fputs(run_usage(), stdout);
		return 0;
	}

	if (o.incoming)
		goto create; /* the migrated VM brings its memory and CPU state */
	kernel_path = o.kernel ? strdup(o.kernel) : bundled_path("guest/vessel.elf");
	if (!kernel_path) {
		fprintf(stderr, "vessel: cannot locate the bundled kernel; pass --kernel ELF\n");
		goto out;
	}
	kernel = read_file("kernel", kernel_path, &kernel_size);
	if (!kernel) {
		if (!o.kernel)
			fprintf(stderr, "vessel: the bundled kernel is built by 'make guest'; or "
					"pass --kernel ELF\n");
		goto out;
	}
	if (o.initrd) {
		initrd_path = strdup(o.initrd);
	} else if (!o.no_initrd) {
		initrd_path = bundled_path("user/initrd.img");
		if (initrd_path && access(initrd_path, F_OK)) {
			free(initrd_path); /* no bundled initrd: boot without */
			initrd_path = NULL;
		}
	}
	if (initrd_path) {
		initrd = read_file("initrd", initrd_path, &initrd_size);
		if (!initrd)
			goto out;
	}

create:
	cfg = (struct vm_config){
		.cpus = o.cpus,
		.mem_size = o.mem,
		.cmdline = o.cmdline,
		.console_write = console_write,
		.console_opaque = &vm,
		.log = log_line,
	};
	rc = vm_new(&vm, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	if (!o.incoming) {
		/* the files first: a bad kernel is reported before KVM is involved */
		if (vm_load_elf(vm, kernel, kernel_size)) {
			fprintf(stderr, "vessel: kernel %s: %s\n", kernel_path, vm->err);
			goto out;
		}
		if (initrd && vm_load_initrd(vm, initrd, initrd_size)) {
			fprintf(stderr, "vessel: initrd %s: %s\n", initrd_path, vm->err);
			goto out;
		}
	}
	rc = vm_kvm_create(vm);
	if (rc) {
		fprintf(stderr, "vessel: %s\n", vm->err);
		goto out;
	}
	rc = live_attach(vm, &live, err, sizeof(err)); /* memory errors, migration */
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	rc = live_set_mig_opts(live,
			       &(struct live_mig_opts){ .tls_creds = o.tls_creds,
							.incoming_timeout_s = o.incoming_timeout },
			       o.incoming, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	if (o.incoming) {
		rc = live_incoming(live, o.incoming, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "vessel: incoming migration failed: %s\n", err);
			goto out;
		}
	} else {
		rc = vm_boot_setup(vm);
		if (rc) {
			fprintf(stderr, "vessel: %s\n", vm->err);
			goto out;
		}
	}
	if (o.control) {
		rc = live_control_start(live, o.control, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "vessel: %s\n", err);
			goto out;
		}
	}
	if (signals_setup()) {
		fprintf(stderr, "vessel: cannot set up signal handling: %s\n", strerror(errno));
		goto out;
	}
	raw = term_raw_enter(STDIN_FILENO);
	if (raw < 0)
		fprintf(stderr, "vessel: warning: cannot put the terminal in raw mode: %s\n",
			strerror(-raw));
	rc = vm_start(vm);
	if (rc) {
		term_restore();
		fprintf(stderr, "vessel: %s\n", vm->err);
		goto out;
	}
	console_loop(vm, raw > 0);
	vm_wait(vm, &ev);
	term_restore();

	status = vm->exit_status;
	if (o.stats)
		print_stats(vm);
	if (status == VESSEL_EXIT_GUEST_FAULT || status == VESSEL_EXIT_VMM_ERROR)
		fprintf(stderr, "\nvessel: %s\n", vm->stop_msg);
	else if (status >= 128)
		fprintf(stderr, "\nvessel: %s\n", vm->stop_msg);
	else if (status != 0)
		fprintf(stderr, "vessel: %s\n", vm->stop_msg);
out:
	live_detach(live);
	vm_destroy(vm);
	free(kernel);
	free(initrd);
	free(kernel_path);
	free(initrd_path);
	return status;
}
