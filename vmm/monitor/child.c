// SPDX-License-Identifier: MIT
/*
 * The monitor process (`vessel __monitor FD`): sandbox itself, then serve
 * the rings: routed UART exits from the vCPU channels, console input, save,
 * restore and quit from the control channel. The UART is the same 16550A
 * model the core uses in-process (dev/serial.c); its output goes to stdout
 * through the same bounded buffer (core/outbuf.c), so a stalled stdout
 * stalls neither the monitor nor a vCPU.
 *
 * Test-only fault injection (docs/monitor.md): VESSEL_MONITOR_TEST=CASE
 * makes the monitor misbehave at its first routed exit; the core must
 * refuse the request or survive the monitor's death, stop the VM and say
 * why. CASE: read-rip, rw-rax (allowed: the VM runs on), read-cr3, write-msr,
 * mem-write, open (creating VESSEL_MONITOR_TEST_FILE), syscall (socket),
 * hang (never answers), die-early (a forbidden call right after it said
 * it is ready: the core may not have started the VM yet).
 */
#include "monitor/monitor.h"
#include "monitor/devhost.h"
#include "monitor/policy.h"
#include "monitor/ring.h"
#include "monitor/sandbox.h"
#include "core/outbuf.h"
#include "core/vm.h"
#include "dev/serial.h"

#include "abi/vessel.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_BUF_SIZE (1u << 20)
#define RING_MEMLOCK	 (256u << 10) /* a disk's io_uring ring (256 entries): ~40 KiB */

struct child {
	struct mon_shm *shm;
	struct vm *dev_vm; /* the disks (monitor/devhost.h), NULL without */
	struct serial *uart;
	struct outbuf *out;
	int irq_level;
	uint32_t irq_gen;
	const char *fault;	/* VESSEL_MONITOR_TEST, done once */
	const char *fault_file; /* the file the `open` case tries to create */
};

/* A line on stderr: snprintf + write (stdio's dprintf may stat the descriptor). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(STDERR_FILENO, line,
			   (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
		/* nowhere else to say it */
	}
}

static void uart_tx(void *opaque, uint8_t byte)
{
	struct child *c = opaque;

	outbuf_write(c->out, &byte, 1);
	c->shm->self.console_bytes++;
	c->shm->self.console_dropped = outbuf_dropped(c->out);
}

static void uart_irq(void *opaque, int level)
{
	struct child *c = opaque;

	c->irq_level = level;
	c->irq_gen++;
}

static void post(struct child *c, unsigned chan, struct mon_msg *m)
{
	struct mon_ring *r = &c->shm->chan[chan].to_core;

	m->irq_level = c->irq_level;
	m->irq_gen = c->irq_gen;
	if (mon_ring_post(r, m)) {
		say("vessel-monitor: channel %u: the core does not drain it\n", chan);
		_exit(1);
	}
	mon_futex_wake(&r->head, 1);
}

/* A request to the core on chan, and its reply (fault injection only). */
static struct mon_msg ask(struct child *c, unsigned chan, struct mon_msg req)
{
	struct mon_msg rep;

	post(c, chan, &req);
	for (;;) {
		uint32_t bell = __atomic_load_n(&c->shm->doorbell, __ATOMIC_ACQUIRE);

		if (mon_ring_take(&c->shm->chan[chan].to_mon, &rep))
			return rep;
		mon_futex_wait(&c->shm->doorbell, bell, -1);
	}
}

static void inject_fault(struct child *c, unsigned chan)
{
	const char *f = c->fault;
	struct mon_msg rep;

	c->fault = NULL;
	if (!strcmp(f, "read-rip")) {
		rep = ask(c, chan, (struct mon_msg){ .type = MON_MSG_STATE_READ, .field = MF_RIP });
		say("vessel-monitor: test: read rip: status %d\n", rep.status);
	} else if (!strcmp(f, "rw-rax")) {
		/* an allowed write: RAX back with the value it has */
		rep = ask(c, chan, (struct mon_msg){ .type = MON_MSG_STATE_READ, .field = MF_RAX });
		if (!rep.status)
			rep = ask(c, chan,
				  (struct mon_msg){ .type = MON_MSG_STATE_WRITE,
						    .field = MF_RAX,
						    .a = rep.a });
		say("vessel-monitor: test: read and wrote rax: status %d\n", rep.status);
	} else if (!strcmp(f, "read-cr3")) {
		ask(c, chan, (struct mon_msg){ .type = MON_MSG_STATE_READ, .field = MF_CR3 });
	} else if (!strcmp(f, "write-msr")) {
		ask(c, chan,
		    (struct mon_msg){ .type = MON_MSG_STATE_WRITE, .field = MF_MSR_LSTAR, .a = 0 });
	} else if (!strcmp(f, "mem-write")) {
		/* far above any guest RAM: 2^60 */
		ask(c, chan,
		    (struct mon_msg){ .type = MON_MSG_MEM_WRITE, .a = 1ull << 60, .len = 8 });
	} else if (!strcmp(f, "open")) {
		int fd = open(c->fault_file, O_WRONLY | O_CREAT, 0600);

		say("vessel-monitor: test: open returned %d\n", fd);
	} else if (!strcmp(f, "hang")) {
		uint32_t never = 0;

		say("vessel-monitor: test: hanging\n");
		for (;;) /* never answers, without burning a CPU */
			mon_futex_wait(&never, 0, -1);
	} else if (!strcmp(f, "syscall")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		say("vessel-monitor: test: socket returned %d\n", s);
	}
}

static void on_exit_msg(struct child *c, unsigned chan, const struct mon_msg *m)
{
	struct mon_msg done = { .type = MON_MSG_DONE, .seq = m->seq };
	uint32_t size = (uint32_t)m->b;

	if (c->fault)
		inject_fault(c, chan);
	if (m->field == MON_EXIT_MMIO) {
		mon_devhost_mmio(c->dev_vm, m, &done);
		post(c, chan, &done);
		return;
	}
	if (m->field != MON_EXIT_PIO || m->a < VESSEL_COM1_PORT || m->a >= VESSEL_COM1_PORT + 8 ||
	    (size != 1 && size != 2 && size != 4)) {
		say("vessel-monitor: exit at port %#llx size %u is not routed here\n",
		    (unsigned long long)m->a, size);
		_exit(1);
	}
	memcpy(done.data, m->data, size);
	for (uint32_t i = 0; i < size; i++)
		serial_access(c->uart, (unsigned)(m->a - VESSEL_COM1_PORT) + i, m->c != 0,
			      &done.data[i]);
	done.len = m->c ? 0 : size;
	post(c, chan, &done);
}

/* The control channel; returns false on QUIT. */
static bool on_control(struct child *c, const struct mon_msg *m)
{
	struct mon_msg ans = { .type = MON_MSG_ANSWER, .seq = m->seq };
	ssize_t n;

	switch (m->type) {
	case MON_MSG_INPUT:
		ans.a = serial_receive(c->uart, m->data,
				       m->len < MON_MSG_DATA ? m->len : MON_MSG_DATA);
		break;
	case MON_MSG_SAVE:
		n = serial_save(c->uart, ans.data, sizeof(ans.data));
		ans.status = n < 0 ? (int)n : 0;
		ans.len = n < 0 ? 0 : (uint32_t)n;
		break;
	case MON_MSG_RESTORE:
		ans.status = serial_restore(c->uart, m->data,
					    m->len < MON_MSG_DATA ? m->len : MON_MSG_DATA);
		break;
	case MON_MSG_PAUSE:
	case MON_MSG_RESUME:
	case MON_MSG_DISK_SAVE:
	case MON_MSG_DISK_RESTORE:
	case MON_MSG_DISK_STATS:
		mon_devhost_control(c->dev_vm, c->shm, m, &ans);
		break;
	case MON_MSG_QUIT:
		outbuf_drain(c->out, (int)(m->a < 60000 ? m->a : 60000));
		c->shm->self.console_dropped = outbuf_dropped(c->out);
		post(c, MON_CTL_CHAN, &ans);
		return false;
	default:
		ans.status = -EINVAL;
		break;
	}
	post(c, MON_CTL_CHAN, &ans);
	return true;
}

static void serve(struct child *c)
{
	for (;;) {
		uint32_t bell = __atomic_load_n(&c->shm->doorbell, __ATOMIC_ACQUIRE);
		bool any = false;
		struct mon_msg m;

		for (unsigned ch = 0; ch < MON_NR_CHAN; ch++) {
			while (mon_ring_take(&c->shm->chan[ch].to_mon, &m)) {
				any = true;
				if (ch == MON_CTL_CHAN) {
					if (!on_control(c, &m))
						return;
				} else if (m.type == MON_MSG_EXIT) {
					on_exit_msg(c, ch, &m);
				}
				/* anything else on a vCPU channel: a stale reply, dropped */
			}
		}
		if (!any)
			mon_futex_wait(&c->shm->doorbell, bell, -1);
	}
}

int monitor_main(int argc, char **argv)
{
	static const int quiet[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTTOU };
	struct child c = { 0 };
	struct serial_callbacks cb = { .tx = uart_tx, .irq = uart_irq, .opaque = &c };
	uint32_t ns = 0;
	unsigned nr, ndisks = 0;
	struct stat st;
	char why[VM_ERR_MAX];
	char *end;
	long fd;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "--syscalls")) { /* bench/monitor.sh: the allow-list */
		const char *const *list = mon_sandbox_syscalls(true, &nr);

		for (unsigned i = 0; i < nr; i++)
			printf("%s\n", list[i]);
		return 0;
	}
	if (argc != 2 || (fd = strtol(argv[1], &end, 10)) < 0 || *end || fd > 1024) {
		fprintf(stderr, "vessel __monitor: internal command, started by vessel run "
				"--monitor=sandboxed\n");
		return VESSEL_EXIT_USAGE;
	}
	c.shm = fstat((int)fd, &st) || (size_t)st.st_size < sizeof(*c.shm) ?
			MAP_FAILED :
			mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd,
			     0);
	if (c.shm == MAP_FAILED || c.shm->magic != MON_SHM_MAGIC ||
	    c.shm->version != MON_SHM_VERSION || c.shm->devs.shm_size != (uint64_t)st.st_size) {
		fprintf(stderr,
			"vessel __monitor: descriptor %ld is not the monitor's shared memory\n",
			fd);
		return VESSEL_EXIT_USAGE;
	}
	close((int)fd); /* the mapping stays */
	/* one malloc arena: glibc shrinking another thread's arena first opens
	 * /proc/sys/vm/overcommit_memory, which the filter forbids */
	mallopt(M_ARENA_MAX, 1);
	/* the core stops the VM on a signal; the monitor leaves when told */
	for (unsigned i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		signal(quiet[i], SIG_IGN);
	c.fault = getenv("VESSEL_MONITOR_TEST");
	c.fault_file = getenv("VESSEL_MONITOR_TEST_FILE") ?: "/tmp/vessel-monitor-test-open";
	ndisks = c.shm->devs.ndisks < MON_MAX_DISKS ? c.shm->devs.ndisks : MON_MAX_DISKS;
	/* with disks: guest RAM, 4 descriptors a disk handed over and the 3 it
	 * makes (wake-up, timer, backend), 3 more while it is being built */
	rc = mon_sandbox_prepare(&ns, ndisks ? 1 + 7 * ndisks + 3 : 0,
				 ndisks ? c.shm->devs.mem_size : 0, ndisks * RING_MEMLOCK);
	if (!rc && ndisks && (rc = mon_devhost_new(c.shm, &c.dev_vm, why, sizeof(why)))) {
		fprintf(stderr, "vessel __monitor: cannot run the disks: %s\n", why);
		return VESSEL_EXIT_VMM_ERROR;
	}
	if (!rc)
		rc = outbuf_new(STDOUT_FILENO, CONSOLE_BUF_SIZE, &c.out);
	c.uart = rc ? NULL : serial_new(&cb);
	if (!rc && !c.uart)
		rc = -ENOMEM;
	if (!rc)
		rc = mon_sandbox_seccomp(ndisks > 0);
	if (rc) {
		fprintf(stderr, "vessel __monitor: cannot enter the sandbox: %s\n", strerror(-rc));
		return VESSEL_EXIT_VMM_ERROR;
	}
	mon_sandbox_syscalls(ndisks > 0, &nr);
	c.shm->self.namespaces = ns;
	c.shm->self.syscalls = nr;
	__atomic_store_n(&c.shm->ready, 1, __ATOMIC_RELEASE);
	mon_futex_wake(&c.shm->ready, -1);
	if (c.fault && !strcmp(c.fault, "die-early")) /* while the core still builds the VM */
		close(0);
	serve(&c);
	/* exit_group without atexit handlers or the output thread's teardown */
	_exit(0);
}
