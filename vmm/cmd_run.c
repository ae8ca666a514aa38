// SPDX-License-Identifier: MIT
/* `vessel run`: boot a kernel in a new VM with the console on this terminal. */
#include "cmd.h"
#include "core/guest_mem.h"
#include "core/kvm_stats.h"
#include "core/outbuf.h"
#include "core/parse.h"
#include "core/term.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/device.h"
#include "dev/serial.h"
#include "hcb/hcb.h"
#include "control/ctl.h"
#include "pttrace/pttrace.h"
#include "domain/domain.h"
#include "domain/integrity.h"
#include "migrate/live/live.h"
#include "migrate/net.h"
#include "monitor/monitor.h"

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
#include <time.h>
#include <unistd.h>

#define FILE_MAX (1ull << 30) /* a kernel or initrd larger than this is a mistake */

/* console output waiting for stdout: over 10 s of the fastest guest output here */
#define CONSOLE_BUF_SIZE (1u << 20)
#define CONSOLE_IDLE_MS	 2000 /* at exit, stdout taking nothing this long: drop the rest */

static const char run_usage_head[] =
	"usage: vessel run [--cpus N] [--mem SIZE] [--kernel ELF] [--initrd FILE]\n"
	       "                  [--no-initrd] [--cmdline STR] [--control PATH]\n"
	       "                  [--incoming tcp|tls:HOST:PORT] [--incoming-timeout S]\n"
	       "                  [--tls-creds DIR] [--no-postcopy] [--stats]\n"
	       "                  [--control-group GROUP] [--pt-trace FILE]\n"
	       "                  [--integrity on|report|off] [--mem-prealloc]\n"
	       "\n"
	       "Boot a Vessel kernel in a new KVM virtual machine; its console (COM1) is\n"
	       "this terminal. The exit status is the guest's poweroff status.\n"
	       "\n"
	       "  --cpus N        virtual CPUs (default 2)\n"
	       "  --mem SIZE      guest RAM: bytes with a K/M/G suffix, or MiB without one\n"
	       "                  (default 256M; at least 4M, at most 64G)\n"
	       "  --mem-prealloc  allocate and touch all guest RAM before the VM starts (or\n"
	       "                  waits for a migration): fails at once if the host lacks\n"
	       "                  the memory, and an incoming migration writes its pages\n"
	       "                  with a copy instead of an allocation each; costs the\n"
	       "                  whole --mem even if the guest uses less\n"
	       "  --kernel ELF    ELF64 kernel (default: guest/vessel.elf next to vessel)\n"
	       "  --initrd FILE   initial ramdisk (default: user/initrd.img next to vessel,\n"
	       "                  if it exists)\n"
	       "  --no-initrd     boot without an initrd\n"
	       "  --cmdline STR   kernel command line (e.g. \"selftest\")\n"
	       "  --control PATH  serve the JSON control socket at PATH (vessel ctl PATH ...);\n"
	       "                  only this user and root may use it (the socket is 0600)\n"
	       "  --control-group GROUP\n"
	       "                  members of GROUP (name or gid) may use it too (0660)\n"
	       "  --incoming tcp:HOST:PORT | tls:HOST:PORT\n"
	       "                  wait there for a live migration and run the migrated VM\n"
	       "                  (same --cpus and --mem as the source; no kernel is loaded,\n"
	       "                  except with --integrity: then the source's kernel and mode).\n"
	       "                  tls: encrypts the stream and admits only a source that\n"
	       "                  authenticates (needs --tls-creds); tcp: is for trusted\n"
	       "                  networks. Connections that are not a source are turned\n"
	       "                  away and the wait goes on\n"
	       "  --incoming-timeout S\n"
	       "                  exit 1 if no migration has completed S seconds after\n"
	       "                  --incoming started listening (default 3600; 0: never)\n"
	       "  --no-postcopy   refuse a post-copy migration into this VM (the source's\n"
	       "                  migrate --postcopy or migrate-start-postcopy fails, its\n"
	       "                  VM keeps running there); pre-copy only\n"
	       "  --tls-creds DIR credentials for tls: migrations, into this VM (--incoming\n"
	       "                  tls:) and out of it (vessel ctl PATH migrate tls:HOST:PORT):\n"
	       "                  ca-cert.pem, server-cert.pem, server-key.pem,\n"
	       "                  client-cert.pem, client-key.pem (certificates), or\n"
	       "                  keys.psk (pre-shared keys, lines IDENTITY:HEXKEY)\n"
	       "  --stats         print the VM exits by kind and vCPU when the VM stops\n"
	       "  --pt-trace FILE write the page-table trace of a kernel booted with\n"
	       "                  pttrace=on to FILE (docs/sptmodel.md)\n"
	       "  --integrity on|report|off\n"
	       "                  kernel text and rodata read-only in the VM: a guest write\n"
	       "                  there stops the VM (on) or is discarded and logged\n"
	       "                  (report); the kernel patches its code through the VMM,\n"
	       "                  which checks each patch (docs/integrity.md). Default off\n"
	       "  --no-hyper-callbacks\n"
	       "                  refuse the guest's eBPF callbacks (the baseline; see\n"
	       "                  docs/hcb.md)\n"
	       "  -h, --help      this text\n";

static const char run_usage_tail[] =
	       "\n"
	       "Console: stdin goes to the guest (a pipe works: end of input does not stop\n"
	       "the VM). On a terminal, Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	       "\n"
	       "Exit status: the guest's poweroff status (0-255); 1 when the VM could not\n"
	       "be started; 2 for a bad command line; 3 when the sandboxed monitor broke\n"
	       "its policy or died; 125 when the guest faulted (triple fault, bad\n"
	       "hypercall, unhandled exit: a register dump is printed); 128+N when\n"
	       "stopped by signal N.\n";

const char *run_usage(void)
{
	static char text[8192];

	if (!text[0]) {
		snprintf(text, sizeof(text), "%s", run_usage_head);
		device_options_help(text, sizeof(text));
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s", run_usage_tail);
	}
	return text;
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
		const struct device_ops *dev;
		char name[32];
		uint64_t v;
		size_t n;

		if (!strncmp(arg, "--help=", 7) || !strncmp(arg, "--stats=", 8) ||
		    !strncmp(arg, "--no-initrd=", 12) || !strncmp(arg, "--no-hyper-callbacks=", 21) ||
		    !strncmp(arg, "--no-postcopy=", 14) || !strncmp(arg, "--mem-prealloc=", 15))
			return bad(err, errlen, "option %.*s takes no value",
				   (int)(strchr(arg, '=') - arg), arg);
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
		if (!strcmp(arg, "--no-hyper-callbacks")) {
			o->no_hcb = true;
			continue;
		}
		if (!strcmp(arg, "--no-postcopy")) {
			o->no_postcopy = true;
			continue;
		}
		if (!strcmp(arg, "--mem-prealloc")) {
			o->mem_prealloc = true;
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
		dev = device_by_option(name);
		if (!dev && strcmp(name, "--cpus") && strcmp(name, "--mem") &&
		    strcmp(name, "--kernel") && strcmp(name, "--initrd") &&
		    strcmp(name, "--cmdline") && strcmp(name, "--control") &&
		    strcmp(name, "--incoming") && strcmp(name, "--control-group") &&
		    strcmp(name, "--tls-creds") && strcmp(name, "--incoming-timeout") &&
		    strcmp(name, "--pt-trace") && strcmp(name, "--integrity"))
			return bad(err, errlen, "unknown option '%s'", name);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad(err, errlen, "option %s needs a value", name);

		if (dev) {
			char why[256] = "";

			if (o->nr_devices == sizeof(o->devices) / sizeof(o->devices[0]))
				return bad(err, errlen, "too many device options (at most %zu)",
					   sizeof(o->devices) / sizeof(o->devices[0]));
			if (dev->check && dev->check(val, why, sizeof(why)))
				return bad(err, errlen, "%s '%s': %s", dev->option, val, why);
			o->devices[o->nr_devices++] =
				(struct vm_device_arg_opt){ dev->option, val };
		} else if (!strcmp(name, "--cpus")) {
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
		} else if (!strcmp(name, "--control-group")) {
			if (!*val)
				return bad(err, errlen, "--control-group: empty group name");
			o->control_group = val;
		} else if (!strcmp(name, "--incoming")) {
			struct net_addr na;
			char why[NET_ERR_MAX];

			if (net_parse_uri(val, &na, why, sizeof(why)))
				return bad(err, errlen, "--incoming '%s': %s", val, why);
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
		} else if (!strcmp(name, "--pt-trace")) {
			if (!*val)
				return bad(err, errlen, "--pt-trace: empty file name");
			o->pt_trace = val;
		} else if (!strcmp(name, "--integrity")) {
			enum integrity_mode mode;

			if (integrity_parse_mode(val, &mode))
				return bad(err, errlen, "--integrity '%s': must be on, report or off",
					   val);
			o->integrity = (int)mode;
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
	if (o->control_group && !o->control)
		return bad(err, errlen, "--control-group needs --control PATH");
	if (o->incoming && !strncmp(o->incoming, "tls:", 4) && !o->tls_creds)
		return bad(err, errlen, "--incoming %s needs --tls-creds DIR", o->incoming);
	if (timeout_set && !o->incoming)
		return bad(err, errlen, "--incoming-timeout without --incoming");
	if (o->pt_trace && o->incoming)
		return bad(err, errlen, "--pt-trace records from boot: not with --incoming");
	if (o->no_postcopy && !o->incoming)
		return bad(err, errlen, "--no-postcopy without --incoming");
	return 0;
}

/* MemAvailable of /proc/meminfo in bytes; 0 when unknown. */
static uint64_t host_mem_available(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib << 10;
}

/* --mem-prealloc: allocate the guest's RAM now; a line says how long it took. */
static int prealloc(struct vm *vm)
{
	int rc;

	/* more than the host has would end in its OOM killer, not in an error */
	uint64_t avail = host_mem_available();

	if (avail && vm->mem.size > avail) {
		fprintf(stderr,
			"vessel: --mem-prealloc: %llu MiB of guest memory requested, the host has "
			"%llu MiB available\n",
			(unsigned long long)(vm->mem.size >> 20), (unsigned long long)(avail >> 20));
		return -ENOMEM;
	}
	rc = gmem_prealloc(&vm->mem);
	if (rc) {
		fprintf(stderr, "vessel: --mem-prealloc: cannot allocate %llu MiB of guest memory: %s\n",
			(unsigned long long)(vm->mem.size >> 20), strerror(-rc));
		return rc;
	}
	fprintf(stderr, "vessel: guest memory preallocated: %llu MiB in %llu ms\n",
		(unsigned long long)(vm->mem.size >> 20), (unsigned long long)vm->mem.prealloc_ms);
	return 0;
}

/*
 * What a kernel or initrd file must start with: checked on the first bytes
 * read, so a wrong (or huge) file is refused before the rest is read.
 */
struct file_magic {
	const char *bytes;
	size_t len;
	const char *bad; /* the message when it does not match */
};

static const struct file_magic elf_magic = { "\177ELF", 4, "not an ELF file" };
static const struct file_magic initrd_magic = { "VSLINRD1", 8,
						"not a Vessel initrd (no VSLINRD1 magic)" };

/* Read a whole file; on failure print a message naming it. */
static void *read_file(const char *what, const char *path, const struct file_magic *magic,
		       size_t *size)
{
	struct stat st;
	void *buf = NULL;
	size_t got = 0;
	char head[16];
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
	if (pread(fd, head, magic->len, 0) != (ssize_t)magic->len ||
	    memcmp(head, magic->bytes, magic->len)) {
		fprintf(stderr, "vessel: %s %s: %s\n", what, path, magic->bad);
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

/* opaque: the console's struct outbuf. Never waits for stdout (a vCPU calls it). */
static void console_write(void *opaque, const void *buf, size_t len)
{
	outbuf_write(opaque, buf, len);
}

static uint64_t console_dropped(void *opaque)
{
	return outbuf_dropped(opaque);
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
		took = c->vm->console_rx(c->vm->console_rx_opaque, c->backlog + c->head, chunk);
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

/*
 * What the host's KVM counted (binary statistics, summed over the vCPUs):
 * its exits, including those it handled itself without returning to us.
 */
static void print_kvm_stats(struct vm *vm)
{
	static const char *const names[] = { "exits",	  "io_exits", "irq_injections",
					     "pf_guest",  "pf_fixed", "insn_emulation",
					     "tlb_flush", "halt_exits" };
	struct kvm_stats_snap *snap = malloc(sizeof(*snap));

	if (!snap || vm_kvm_stats(vm, snap)) {
		fprintf(stderr, "vessel: stats: kvm: no binary statistics\n");
		free(snap);
		return;
	}
	fprintf(stderr, "vessel: stats: kvm:");
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		for (unsigned i = 0; i < snap->n; i++)
			if (snap->s[i].per_vcpu && !strcmp(snap->s[i].name, names[k]))
				fprintf(stderr, " %s %llu", names[k],
					(unsigned long long)snap->s[i].value);
	fprintf(stderr, "\n");
	free(snap);
}

/* One line per vCPU: its exits by kind (vcpu.h), the total, then KVM's own counts. */
static void print_stats(struct vm *vm)
{
	struct integrity_counts ic;
	struct domain_counts dc;
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
	fprintf(stderr, "vessel: stats: console: %llu bytes of output dropped\n",
		(unsigned long long)vm->cfg.console_dropped(vm->cfg.console_opaque));
	/* the devices' own counters, as `vessel ctl SOCK stats` shows them */
	for (struct device *d = vm->devices; d; d = d->next) {
		struct device_stat st[DEVICE_STATS_MAX];
		char label[32] = "";
		unsigned n;

		if (!d->ops->stats)
			continue;
		n = d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
		fprintf(stderr, "vessel: stats: %s %s:", d->ops->name, label);
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, " %s %llu", st[i].name, (unsigned long long)st[i].value);
		fprintf(stderr, "\n");
	}
	integrity_counts(vm, &ic);
	domain_counts(vm, &dc);
	if (ic.mode != INTEGRITY_OFF)
		fprintf(stderr,
			"vessel: stats: integrity: %llu patches, %llu refused, %llu writes "
			"refused; secure domain: %llu calls, %llu exits, %llu ns\n",
			(unsigned long long)ic.patches, (unsigned long long)ic.patch_refused,
			(unsigned long long)ic.writes_refused, (unsigned long long)dc.calls,
			(unsigned long long)dc.exits, (unsigned long long)dc.ns);
	print_kvm_stats(vm);
}

/*
 * A destination with --integrity: the kernel's protected ranges and TCB as on
 * the source (the same kernel), loaded to be found and measured, then dropped:
 * the stream brings the memory (whose TCB integrity_restore() re-measures).
 */
static int incoming_integrity(struct vm *vm, const void *kernel, size_t size, int mode)
{
	int rc = vm_load_elf(vm, kernel, size);

	if (!rc)
		rc = integrity_attach(vm, kernel, size, (enum integrity_mode)mode);
	if (!rc) {
		rc = gmem_discard(&vm->mem);
		if (rc)
			vm_set_err(vm, rc, "cannot drop the loaded kernel: %s", strerror(-rc));
	}
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct vm_config cfg;
	struct vm_event ev;
	struct vm *vm = NULL;
	struct outbuf *conout = NULL;
	gid_t control_gid = CTL_NO_GROUP;
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
	if (o.control_group && ctl_group_parse(o.control_group, &control_gid, err, sizeof(err))) {
		fprintf(stderr, "vessel run: %s\n(see 'vessel run --help')\n", err);
		return VESSEL_EXIT_USAGE;
	}

	if (o.incoming && o.integrity == INTEGRITY_OFF)
		goto create; /* the migrated VM brings its memory and CPU state */
	kernel_path = o.kernel ? strdup(o.kernel) : bundled_path("guest/vessel.elf");
	if (!kernel_path) {
		fprintf(stderr, "vessel: cannot locate the bundled kernel; pass --kernel ELF\n");
		goto out;
	}
	kernel = read_file("kernel", kernel_path, &elf_magic, &kernel_size);
	if (!kernel) {
		if (!o.kernel)
			fprintf(stderr, "vessel: the bundled kernel is built by 'make guest'; or "
					"pass --kernel ELF\n");
		goto out;
	}
	if (o.incoming)
		goto create; /* --integrity: the kernel only says what to protect */
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
		initrd = read_file("initrd", initrd_path, &initrd_magic, &initrd_size);
		if (!initrd)
			goto out;
	}

create:
	rc = outbuf_new(STDOUT_FILENO, CONSOLE_BUF_SIZE, &conout);
	if (rc) {
		fprintf(stderr, "vessel: console output: %s\n", strerror(-rc));
		goto out;
	}
	cfg = (struct vm_config){
		.cpus = o.cpus,
		.mem_size = o.mem,
		.cmdline = o.cmdline,
		.console_write = console_write,
		.console_opaque = conout,
		.console_dropped = console_dropped,
		.log = log_line,
	};
	for (unsigned i = 0; i < o.nr_devices; i++)
		cfg.device_args[cfg.nr_device_args++] =
			(struct vm_device_arg){ o.devices[i].option, o.devices[i].arg };
	rc = vm_new(&vm, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	if (o.mem_prealloc && prealloc(vm))
		goto out;
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
		/* read-only text: before the KVM VM, whose memslots it shapes */
		if (integrity_attach(vm, kernel, kernel_size, (enum integrity_mode)o.integrity)) {
			fprintf(stderr, "vessel: kernel %s: %s\n", kernel_path, vm->err);
			goto out;
		}
	} else if (o.integrity != INTEGRITY_OFF) {
		if (incoming_integrity(vm, kernel, kernel_size, o.integrity)) {
			fprintf(stderr, "vessel: kernel %s: %s\n", kernel_path, vm->err);
			goto out;
		}
	}
	rc = vm_kvm_create(vm);
	if (rc) {
		fprintf(stderr, "vessel: %s\n", vm->err);
		goto out;
	}
	rc = live_attach(vm, err, sizeof(err)); /* migration */
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	rc = hcb_attach(vm, !o.no_hcb); /* the guest's eBPF callbacks */
	if (rc) {
		fprintf(stderr, "vessel: %s\n", vm->err);
		goto out;
	}
	rc = live_set_mig_opts(vm,
			       &(struct live_mig_opts){ .tls_creds = o.tls_creds,
							.incoming_timeout_s = o.incoming_timeout,
							.no_postcopy = o.no_postcopy },
			       o.incoming, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vessel: %s\n", err);
		goto out;
	}
	if (o.pt_trace && pttrace_attach(vm, o.pt_trace)) { /* page-table trace */
		fprintf(stderr, "vessel: %s\n", vm->err);
		goto out;
	}
	if (o.incoming) {
		rc = live_incoming(vm, o.incoming, err, sizeof(err));
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
		rc = vm_control_start(vm, o.control, control_gid, err, sizeof(err));
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
	/* a sandboxed monitor's console output, too, comes before our messages */
	monitor_quit(vm, CONSOLE_IDLE_MS);
	outbuf_drain(conout, CONSOLE_IDLE_MS); /* guest output before our messages */
	/* through cfg: a sandboxed monitor adds what its own buffer dropped */
	if (vm->cfg.console_dropped(vm->cfg.console_opaque))
		fprintf(stderr, "vessel: console: %llu bytes of output dropped (stdout stalled)\n",
			(unsigned long long)vm->cfg.console_dropped(vm->cfg.console_opaque));

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
	vm_destroy(vm); /* joins the vCPUs, then detaches migration and the control socket */
	outbuf_free(conout, CONSOLE_IDLE_MS);
	free(kernel);
	free(initrd);
	free(kernel_path);
	free(initrd_path);
	return status;
}
