// SPDX-License-Identifier: MIT
/*
 * The core's side of the monitor: the `--monitor` device, the spawning of
 * the monitor process, the exit hook that routes exits by policy, and the
 * enforcement of the field policy on every request the monitor makes.
 */
#include "monitor/monitor.h"
#include "monitor/fields.h"
#include "monitor/policy.h"
#include "monitor/ring.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/device.h"
#include "dev/serial.h"
#include "dev/virtio_blk.h"

#include "abi/vessel.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS  10000 /* the monitor starting up (exec, sandbox) */
#define WAIT_SLICE_MS	  100	/* a waiting vCPU looks at the VM this often */
#define REPLY_TIMEOUT_MS  10000 /* default: the monitor silent this long is hung */
#define REPLY_TIMEOUT_MAX 3600000u

/* Counters for `vessel ctl SOCK stats` and `--stats`. */
struct mon_counters {
	uint64_t routed_exits; /* exits the policy routed to the monitor */
	uint64_t routed_ns;    /* host time from exit to resume decision, summed */
	uint64_t routed_mmio_exits, routed_mmio_ns; /* of which MMIO (the disks' registers) */
	uint64_t core_ops;			    /* core-side operations for them (see docs) */
	uint64_t state_reads, state_writes, mem_accesses;
	uint64_t denied;      /* requests the policy refused */
	uint64_t input_bytes; /* console input handed to the monitor */
	uint64_t irq_changes; /* IRQ line changes applied for it */
	uint64_t timeouts;    /* conversations it left unanswered (then killed) */
};

struct mon {
	struct vm *vm;
	bool sandboxed;
	unsigned timeout_ms; /* a conversation without a message this long: hung */
	int shm_fd;
	struct mon_shm *shm;
	size_t shm_size;
	unsigned ndisks;	       /* disks handed over to the monitor */
	int disk_fd[MON_MAX_DISKS][4]; /* theirs here: image, kick, irq, resample */
	bool wired;		       /* their eventfds are registered with KVM */
	pthread_mutex_t wire_lock;
	pid_t pid;
	pthread_t reaper;
	bool reaper_alive;
	bool quitting;	      /* a QUIT was sent: its exit is no failure */
	bool exited;	      /* the reaper saw it go */
	pthread_mutex_t lock; /* quitting, exited, irq_gen */
	pthread_cond_t cond;
	pthread_mutex_t ctl_lock; /* the control channel: one exchange at a time */
	uint32_t irq_gen;
	uint32_t seq; /* the last request's number */
	struct mon_counters n;
	/* the core's console (cfg.console_*, which share one opaque): its drop
	 * counter, which ours adds to, and its writer, still there for COM1 */
	uint64_t (*core_dropped)(void *opaque);
	void (*core_write)(void *opaque, const void *buf, size_t len);
	void *core_console;
};

static void add(uint64_t *c, uint64_t v)
{
	__atomic_add_fetch(c, v, __ATOMIC_RELAXED);
}

/* The monitor broke its policy: stop the VM with why, and kill it. */
/* Stops the VM (status VESSEL_EXIT_MONITOR) and kills the monitor: it broke
 * the policy or the protocol (what: "policy violation") or stopped answering. */
static int monitor_failed(struct mon *m, struct exit_result *res, const char *what, const char *why)
{
	vm_stop(m->vm, VESSEL_EXIT_MONITOR,
		"monitor: %s: %s, the VM is stopped and the monitor killed", why, what);
	if (res)
		exit_stop(res, VESSEL_EXIT_MONITOR, "monitor: %s: %s", why, what);
	if (m->pid > 0) /* never kill(0): that is our own process group */
		kill(m->pid, SIGKILL);
	return -EPERM;
}

static int violation(struct mon *m, struct exit_result *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int violation(struct mon *m, struct exit_result *res, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	add(&m->n.denied, 1);
	return monitor_failed(m, res, "policy violation", why);
}

static void apply_irq(struct mon *m, int level, uint32_t gen)
{
	pthread_mutex_lock(&m->lock);
	/* replies of two vCPUs may arrive out of order: the newest change wins */
	if (gen && (int32_t)(gen - m->irq_gen) > 0) {
		m->irq_gen = gen;
		vm_irq_line(m->vm, VESSEL_COM1_IRQ, level ? 1 : 0);
		add(&m->n.irq_changes, 1);
		add(&m->n.core_ops, 1);
	}
	pthread_mutex_unlock(&m->lock);
}

/* Serve one state or memory request of the monitor (v: NULL on the control channel). */
static int serve(struct mon *m, struct vcpu *v, const struct mon_msg *in, struct mon_msg *out,
		 struct exit_result *res)
{
	const struct mon_field_rule *r = mon_field_rule(in->field);
	uint64_t val = in->a;
	int rc;

	*out = (struct mon_msg){ .type = MON_MSG_REPLY };
	add(&m->n.core_ops, 1); /* the policy check */
	switch (in->type) {
	case MON_MSG_STATE_READ:
	case MON_MSG_STATE_WRITE: {
		bool write = in->type == MON_MSG_STATE_WRITE;

		if (!v)
			return violation(m, res, "state access on the control channel");
		if (!r || in->field == MF_IO_DATA)
			return violation(m, res, "%s of unknown field %u", write ? "write" : "read",
					 in->field);
		if (write ? !mon_may_write(in->field) : !mon_may_read(in->field))
			return violation(m, res, "%s of %s (vCPU %u) denied",
					 write ? "write" : "read", r->name, v->id);
		add(write ? &m->n.state_writes : &m->n.state_reads, 1);
		rc = write ? mon_field_set(v, in->field, val) : mon_field_get(v, in->field, &val);
		out->status = rc;
		out->a = val;
		return 0;
	}
	case MON_MSG_MEM_READ:
	case MON_MSG_MEM_WRITE: {
		bool write = in->type == MON_MSG_MEM_WRITE;

		if (in->len > MON_MSG_DATA)
			return violation(m, res, "memory %s of %u bytes (at most %u)",
					 write ? "write" : "read", in->len, MON_MSG_DATA);
		add(&m->n.mem_accesses, 1);
		rc = write ? gmem_write(&m->vm->mem, in->a, in->data, in->len) :
			     gmem_read(&m->vm->mem, in->a, out->data, in->len);
		if (rc)
			return violation(m, res, "%s of %u bytes at guest-physical %#llx: %s",
					 write ? "write" : "read", in->len,
					 (unsigned long long)in->a,
					 rc == -EFAULT || rc == -ERANGE ? "outside guest memory" :
									  strerror(-rc));
		out->len = write ? 0 : in->len;
		return 0;
	}
	}
	return violation(m, res, "unexpected message type %u", in->type);
}

/*
 * Post req on channel c and serve the monitor's requests until its final
 * answer (DONE or ANSWER), copied to *fin. 0, or -EPERM (a violation: the
 * VM is stopping) or -EPIPE (the monitor is gone or the VM stopping).
 * The disks' counters are still asked for once the VM stopped (--stats
 * at the end), for at most a second.
 */
static int converse(struct mon *m, unsigned c, struct vcpu *v, const struct mon_msg *request,
		    struct mon_msg *fin, struct exit_result *res)
{
	struct mon_chan *ch = &m->shm->chan[c];
	struct mon_msg in, out, rq = *request;
	const struct mon_msg *req = &rq;

	if (__atomic_load_n(&m->shm->dead, __ATOMIC_ACQUIRE))
		return -EPIPE;
	rq.seq = __atomic_add_fetch(&m->seq, 1, __ATOMIC_RELAXED);
	if (mon_ring_post(&ch->to_mon, req))
		return violation(m, res, "channel %u not drained", c);
	__atomic_add_fetch(&m->shm->doorbell, 1, __ATOMIC_RELEASE);
	mon_futex_wake(&m->shm->doorbell, 1);
	add(&m->n.core_ops, 2); /* post, wake */
	/* the monitor has timeout_ms for each message of the conversation */
	bool past_stop = req->type == MON_MSG_DISK_STATS;
	unsigned wait_ms = past_stop && m->timeout_ms > 1000 ? 1000 : m->timeout_ms;
	uint64_t deadline = clock_now_ns() + (uint64_t)wait_ms * 1000000;

	for (;;) {
		uint32_t head = __atomic_load_n(&ch->to_core.head, __ATOMIC_ACQUIRE);

		if (!mon_ring_take(&ch->to_core, &in)) {
			char why[80];

			if (__atomic_load_n(&m->shm->dead, __ATOMIC_ACQUIRE) ||
			    (vm_is_stopping(m->vm) && !past_stop))
				return -EPIPE;
			if (clock_now_ns() >= deadline && past_stop)
				return -ETIMEDOUT; /* counters only: no reason to kill it */
			if (clock_now_ns() >= deadline) {
				snprintf(why, sizeof(why), "no answer on channel %u within %u ms",
					 c, m->timeout_ms);
				add(&m->n.timeouts, 1);
				return monitor_failed(m, res, "the monitor is hung", why);
			}
			mon_futex_wait(&ch->to_core.head, head, WAIT_SLICE_MS);
			add(&m->n.core_ops, 1);
			continue;
		}
		deadline = clock_now_ns() + (uint64_t)wait_ms * 1000000;
		if ((in.type == MON_MSG_DONE || in.type == MON_MSG_ANSWER) && in.seq != req->seq)
			continue; /* the answer to an exchange given up (the VM stopping) */
		if (in.type == MON_MSG_DONE || in.type == MON_MSG_ANSWER) {
			*fin = in;
			return 0;
		}
		if (serve(m, v, &in, &out, res))
			return -EPERM;
		if (mon_ring_post(&ch->to_mon, &out))
			return violation(m, res, "channel %u not drained", c);
		__atomic_add_fetch(&m->shm->doorbell, 1, __ATOMIC_RELEASE);
		mon_futex_wake(&m->shm->doorbell, 1);
		add(&m->n.core_ops, 2);
	}
}

/* A port I/O exit through the monitor, item by item (rep outsb: count items). */
static void routed_pio(struct mon *m, struct vcpu *v, struct kvm_run *run, struct exit_result *res)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t size = run->io.size;

	if (size != 1 && size != 2 && size != 4) {
		exit_fault(res, "port I/O of invalid size %u at port %#x", size, run->io.port);
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++) {
		bool write = run->io.direction == KVM_EXIT_IO_OUT;
		struct mon_msg req = { .type = MON_MSG_EXIT,
				       .a = run->io.port,
				       .b = size,
				       .c = write,
				       .len = size },
			       fin;
		uint8_t *item = data + (size_t)i * size;
		int rc;

		memcpy(req.data, item, size);
		rc = converse(m, v->id, v, &req, &fin, res);
		if (rc == -EPIPE && res->action == EXIT_CONTINUE)
			exit_stop(res, VESSEL_EXIT_MONITOR,
				  "monitor: gone while vCPU %u waited for port %#x", v->id,
				  run->io.port);
		if (rc)
			return;
		if (fin.type != MON_MSG_DONE) {
			violation(m, res, "answered an exit with message type %u", fin.type);
			return;
		}
		if (!write) {
			/* the exit's data is the one field it writes: the policy says so */
			add(&m->n.core_ops, 1);
			if (!mon_may_write(MF_IO_DATA) || fin.len != size) {
				violation(m, res, "IN data of %u bytes for a %u-byte read", fin.len,
					  size);
				return;
			}
			memcpy(item, fin.data, size);
		}
		apply_irq(m, fin.irq_level, fin.irq_gen);
	}
}

/* An MMIO exit in the virtio window: the disks run in the monitor. */
static void routed_mmio(struct mon *m, struct vcpu *v, struct kvm_run *run, struct exit_result *res)
{
	uint32_t len = run->mmio.len;
	struct mon_msg req = { .type = MON_MSG_EXIT,
			       .field = MON_EXIT_MMIO,
			       .a = run->mmio.phys_addr,
			       .b = len,
			       .c = run->mmio.is_write,
			       .len = len },
		       fin;
	int rc;

	if (len == 0 || len > 8) {
		exit_fault(res, "MMIO access of invalid size %u at %#llx", len,
			   (unsigned long long)run->mmio.phys_addr);
		return;
	}
	memcpy(req.data, run->mmio.data, len);
	rc = converse(m, v->id, v, &req, &fin, res);
	if (rc == -EPIPE && res->action == EXIT_CONTINUE)
		exit_stop(res, VESSEL_EXIT_MONITOR,
			  "monitor: gone while vCPU %u waited for MMIO at %#llx", v->id,
			  (unsigned long long)run->mmio.phys_addr);
	if (rc)
		return;
	if (fin.type != MON_MSG_DONE) {
		violation(m, res, "answered an exit with message type %u", fin.type);
		return;
	}
	if (fin.status) { /* no disk in that slot: as without the monitor */
		exit_fault(res,
			   "guest %s %u byte(s) at guest-physical %#llx: no RAM or device there",
			   run->mmio.is_write ? "wrote" : "read", len,
			   (unsigned long long)run->mmio.phys_addr);
		return;
	}
	if (!run->mmio.is_write) {
		add(&m->n.core_ops, 1);
		if (!mon_may_write(MF_IO_DATA) || fin.len != len) {
			violation(m, res, "MMIO read data of %u bytes for a %u-byte read", fin.len,
				  len);
			return;
		}
		memcpy(run->mmio.data, fin.data, len);
	}
}

static bool mon_hook_exit(void *opaque, struct vcpu *v, struct kvm_run *run,
			  struct exit_result *res)
{
	struct mon *m = opaque;
	uint64_t t0;

	if (mon_route_exit(run) != ROUTE_MONITOR)
		return false;
	t0 = clock_now_ns();
	if (!m->sandboxed)
		exit_dispatch(m->vm, v, run, res); /* the baseline: same device, same process */
	else if (run->exit_reason == KVM_EXIT_IO)
		routed_pio(m, v, run, res);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		routed_mmio(m, v, run, res);
	else /* the tables route nothing else to the monitor (policy test) */
		exit_dispatch(m->vm, v, run, res);
	t0 = clock_now_ns() - t0;
	add(&m->n.routed_ns, t0);
	add(&m->n.routed_exits, 1);
	if (run->exit_reason == KVM_EXIT_MMIO) {
		add(&m->n.routed_mmio_ns, t0);
		add(&m->n.routed_mmio_exits, 1);
	}
	return true;
}

/*
 * Before the first KVM_RUN (the VM has its KVM objects by then): register
 * the disks' eventfds with KVM, so that kicks reach the monitor's device
 * threads and their interrupts the guest with no exit to user space.
 */
static void mon_hook_run_enter(void *opaque, struct vcpu *v)
{
	struct mon *m = opaque;

	(void)v;
	if (__atomic_load_n(&m->wired, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&m->wire_lock);
	for (unsigned i = 0; !m->wired && i < m->ndisks; i++)
		if (!vblk_wire(m->vm, i))
			vm_stop(m->vm, VESSEL_EXIT_VMM_ERROR,
				"monitor: disk %u: KVM refused its ioeventfd or irqfd, which a "
				"disk in the sandboxed monitor needs",
				i);
	__atomic_store_n(&m->wired, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->wire_lock);
}

/* A guest page became poisoned: the monitor's disks must not use it either. */
static void mon_hook_memory_error(void *opaque, uint64_t gpa)
{
	struct mon *m = opaque;
	uint64_t p = gpa / GMEM_PAGE_SIZE;

	if (!m->ndisks || p / 64 >= m->shm->devs.dirty_words)
		return;
	__atomic_fetch_or((uint64_t *)((uint8_t *)m->shm + m->shm->devs.poison_off) + p / 64,
			  1ull << (p % 64), __ATOMIC_RELEASE);
}

static int control(struct mon *m, const struct mon_msg *req, struct mon_msg *fin);

/* The VM paused (migration's stop-and-copy): the disks drain in the monitor. */
static void mon_hook_pause(void *opaque)
{
	struct mon *m = opaque;
	struct mon_msg req = { .type = MON_MSG_PAUSE }, fin;

	if (m->sandboxed && m->ndisks)
		control(m, &req, &fin);
}

static void mon_hook_resume(void *opaque)
{
	struct mon *m = opaque;
	struct mon_msg req = { .type = MON_MSG_RESUME }, fin;

	if (m->sandboxed && m->ndisks)
		control(m, &req, &fin);
}

static const struct vm_hook_ops mon_hook_ops = {
	.name = "monitor",
	.run_enter = mon_hook_run_enter,
	.exit = mon_hook_exit,
	.memory_error = mon_hook_memory_error,
	.pause = mon_hook_pause,
	.resume = mon_hook_resume,
};

/*
 * A control-channel exchange (console input, save, restore, quit, the
 * disks' requests), with bulk data through shm->xfer: `in` (in_len bytes)
 * copied there first, and after the answer, fin->a bytes (at most
 * out_cap, else a violation) copied out to `out`. One exchange at a time.
 */
static int control_xfer(struct mon *m, const struct mon_msg *req, struct mon_msg *fin,
			const void *in, size_t in_len, void *out, size_t out_cap)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = m->exited ? -EPIPE : 0;
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	/* one request at a time: the main thread (input) and migration (save) */
	pthread_mutex_lock(&m->ctl_lock);
	if (in_len)
		memcpy(m->shm->xfer, in, in_len);
	rc = converse(m, MON_CTL_CHAN, NULL, req, fin, NULL);
	if (!rc && fin->type != MON_MSG_ANSWER)
		rc = violation(m, NULL, "answered a control request with message type %u",
			       fin->type);
	if (!rc && out && !fin->status) {
		if (fin->a > out_cap)
			rc = violation(m, NULL, "answered with %llu bytes where %zu fit",
				       (unsigned long long)fin->a, out_cap);
		else /* copied once, out of the shared page */
			memcpy(out, m->shm->xfer, fin->a);
	}
	pthread_mutex_unlock(&m->ctl_lock);
	return rc;
}

static int control(struct mon *m, const struct mon_msg *req, struct mon_msg *fin)
{
	return control_xfer(m, req, fin, NULL, 0, NULL, 0);
}

/* A disk's save, restore and counters, done where it runs. */
static ssize_t disk_save(void *opaque, unsigned disk, void *buf, size_t cap)
{
	struct mon *m = opaque;
	struct mon_msg req = { .type = MON_MSG_DISK_SAVE, .a = disk }, fin;
	static _Thread_local uint8_t blob[MON_XFER_SIZE];

	/* into the stream: the destination's monitor checks it */
	if (control_xfer(m, &req, &fin, NULL, 0, blob, sizeof(blob)) || fin.status)
		return -EIO;
	if (cap < fin.a)
		return -ENOSPC;
	memcpy(buf, blob, fin.a);
	return (ssize_t)fin.a;
}

static int disk_restore(void *opaque, unsigned disk, const void *buf, size_t len)
{
	struct mon *m = opaque;
	struct mon_msg req = { .type = MON_MSG_DISK_RESTORE, .a = disk, .b = len }, fin;

	if (len > MON_XFER_SIZE)
		return -EINVAL;
	if (control_xfer(m, &req, &fin, buf, len, NULL, 0))
		return -EIO;
	return fin.status ? -EINVAL : 0;
}

static int disk_stats(void *opaque, unsigned disk, uint64_t *val, unsigned max)
{
	struct mon *m = opaque;
	struct mon_msg req = { .type = MON_MSG_DISK_STATS, .a = disk }, fin;

	/* informational counters: a count, then that many values */
	if (control_xfer(m, &req, &fin, NULL, 0, val, (size_t)max * sizeof(uint64_t)) || fin.status)
		return -EIO;
	return (int)(fin.a / sizeof(uint64_t));
}

static const struct vblk_remote_ops disk_remote_ops = {
	.save = disk_save,
	.restore = disk_restore,
	.stats = disk_stats,
};

static size_t mon_console_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct mon *m = opaque;
	size_t done = 0;

	while (done < len) {
		struct mon_msg req = { .type = MON_MSG_INPUT }, fin;
		size_t chunk = len - done < MON_MSG_DATA ? len - done : MON_MSG_DATA;

		req.len = (uint32_t)chunk;
		memcpy(req.data, buf + done, chunk);
		if (control(m, &req, &fin))
			break;
		if (fin.a > chunk) {
			violation(m, NULL, "took %llu of %zu input bytes",
				  (unsigned long long)fin.a, chunk);
			break;
		}
		apply_irq(m, fin.irq_level, fin.irq_gen);
		add(&m->n.input_bytes, fin.a);
		done += fin.a;
		if (fin.a < chunk)
			break;
	}
	return done;
}

/* vm->cfg.console_dropped: the core's buffer's drops plus the monitor's. */
static uint64_t mon_console_dropped(void *opaque)
{
	struct mon *m = opaque;
	uint64_t n = __atomic_load_n(&m->shm->self.console_dropped, __ATOMIC_RELAXED);

	return n + (m->core_dropped ? m->core_dropped(m->core_console) : 0);
}

static void mon_console_write(void *opaque, const void *buf, size_t len)
{
	struct mon *m = opaque;

	if (m->core_write)
		m->core_write(m->core_console, buf, len);
}

static void *reaper(void *arg)
{
	struct mon *m = arg;
	int st = 0;
	pid_t r;

	do
		r = waitpid(m->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	pthread_mutex_lock(&m->lock);
	if (!m->quitting) {
		if (r < 0)
			vm_stop(m->vm, VESSEL_EXIT_MONITOR, "monitor: process %d lost: %s", m->pid,
				strerror(errno));
		else if (WIFSIGNALED(st))
			vm_stop(m->vm, VESSEL_EXIT_MONITOR,
				"monitor: process %d killed by signal %d (%s)%s; the VM is stopped",
				m->pid, WTERMSIG(st), strsignal(WTERMSIG(st)),
				WTERMSIG(st) == SIGSYS ?
					": it made a system call its seccomp filter forbids" :
					"");
		else
			vm_stop(m->vm, VESSEL_EXIT_MONITOR,
				"monitor: process %d exited with status %d; the VM is stopped",
				m->pid, WEXITSTATUS(st));
	}
	m->exited = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	/* after vm_stop(): a waiting vCPU then finds the VM stopping with our reason */
	__atomic_store_n(&m->shm->dead, 1, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < MON_NR_CHAN; c++)
		mon_futex_wake(&m->shm->chan[c].to_core.head, -1);
	return NULL;
}

/*
 * The monitor's descriptors: the shared memory at MON_FD_SHM and, with
 * disks, guest RAM at MON_FD_MEM and each disk's four at MON_FD_DISK(i);
 * nothing else crosses (no KVM descriptor, no socket).
 */
static int spawn(struct mon *m)
{
	int src[MON_FD_END(MON_MAX_DISKS)], copy[MON_FD_END(MON_MAX_DISKS)];
	unsigned end = m->ndisks ? MON_FD_END(m->ndisks) : MON_FD_MEM;
	pid_t parent = getpid(), pid;
	int err = 0;

	src[MON_FD_SHM] = m->shm_fd;
	src[MON_FD_MEM] = m->vm->mem.fd;
	for (unsigned i = 0; i < m->ndisks; i++)
		for (unsigned k = 0; k < 4; k++)
			src[MON_FD_DISK(i) + k] = m->disk_fd[i][k];
	/* copies above every target, so that no dup2() below overwrites a source */
	for (unsigned fd = MON_FD_SHM; fd < end; fd++) {
		copy[fd] = fcntl(src[fd], F_DUPFD_CLOEXEC, 64);
		if (copy[fd] < 0) {
			err = -errno;
			end = fd;
			goto out;
		}
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0) {
		/* the child of a threaded process: system calls only, then exec */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0)
			_exit(127);
		for (unsigned fd = MON_FD_SHM; fd < end; fd++)
			if (dup2(copy[fd], (int)fd) < 0) /* dup2 clears close-on-exec */
				_exit(127);
		syscall(SYS_close_range, end, ~0u, 0u);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		execl("/proc/self/exe", "vessel", "__monitor", "3", (char *)NULL);
		_exit(127);
	}
	m->pid = pid;
out:
	for (unsigned fd = MON_FD_SHM; fd < end; fd++)
		close(copy[fd]);
	return err;
}

/*
 * The disks: handed over to the monitor (dev/virtio_blk.h), which maps
 * guest RAM and records the pages it writes in a bitmap after the rings,
 * which the migration takes with the core's own (gmem_dirty_also).
 */
static int hand_over_disks(struct mon *m)
{
	struct mon_devices *dv;
	uint64_t words = gmem_dirty_words(&m->vm->mem);
	size_t head = (sizeof(struct mon_shm) + 4095) & ~(size_t)4095;
	struct vblk_handover h[MON_MAX_DISKS];
	unsigned n = 0;

	while (n < MON_MAX_DISKS && !vblk_hand_over(m->vm, n, &disk_remote_ops, m, &h[n]))
		n++;
	m->ndisks = n;
	m->shm_size = head + (n ? 2 * words * sizeof(uint64_t) : 0);
	if (ftruncate(m->shm_fd, (off_t)m->shm_size) < 0)
		return -errno;
	m->shm = mmap(NULL, m->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->shm_fd, 0);
	if (m->shm == MAP_FAILED) {
		m->shm = NULL;
		return -errno;
	}
	dv = &m->shm->devs;
	dv->shm_size = m->shm_size;
	dv->ndisks = n;
	if (!n)
		return 0;
	dv->mem_size = m->vm->mem.size;
	dv->hide_lo = m->vm->mem.hide_lo;
	dv->hide_hi = m->vm->mem.hide_hi;
	dv->dirty_off = head;
	dv->dirty_words = words;
	dv->poison_off = head + words * sizeof(uint64_t);
	for (unsigned i = 0; i < n; i++) {
		dv->disk[i] = h[i];
		m->disk_fd[i][0] = h[i].fd;
		m->disk_fd[i][1] = h[i].kick_fd;
		m->disk_fd[i][2] = h[i].irq_fd;
		m->disk_fd[i][3] = h[i].resample_fd;
		dv->disk[i].fd = dv->disk[i].kick_fd = dv->disk[i].irq_fd =
			dv->disk[i].resample_fd = -1; /* the monitor's: MON_FD_DISK(i)... */
	}
	gmem_dirty_also(&m->vm->mem, (uint64_t *)((uint8_t *)m->shm + head));
	return 0;
}

static int wait_ready(struct mon *m)
{
	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += WAIT_SLICE_MS) {
		int st;

		if (__atomic_load_n(&m->shm->ready, __ATOMIC_ACQUIRE))
			return 0;
		if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
			m->exited = true;
			return vm_set_err(m->vm, -ECHILD,
					  "--monitor=sandboxed: the monitor process failed to "
					  "start (%s %d)",
					  WIFSIGNALED(st) ? "signal" : "status",
					  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
		mon_futex_wait(&m->shm->ready, 0, WAIT_SLICE_MS);
	}
	return vm_set_err(m->vm, -ETIMEDOUT, "--monitor=sandboxed: the monitor did not start");
}

/* "inproc" or "sandboxed[,timeout=MS]": 0 with *sandboxed and *timeout_ms set, or -EINVAL. */
static int parse_arg(const char *arg, bool *sandboxed, unsigned *timeout_ms, char *err,
		     size_t errlen)
{
	const char *opt;
	char *end;
	unsigned long v;

	*timeout_ms = REPLY_TIMEOUT_MS;
	*sandboxed = false;
	if (!strcmp(arg, "inproc"))
		return 0;
	if (strncmp(arg, "sandboxed", 9) || (arg[9] && arg[9] != ',')) {
		if (err)
			snprintf(err, errlen, "must be inproc or sandboxed[,timeout=MS]");
		return -EINVAL;
	}
	*sandboxed = true;
	if (!arg[9])
		return 0;
	opt = arg + 10;
	if (strncmp(opt, "timeout=", 8) || opt[8] < '0' || opt[8] > '9')
		goto bad;
	errno = 0;
	v = strtoul(opt + 8, &end, 10);
	if (errno || *end || v < 1 || v > REPLY_TIMEOUT_MAX)
		goto bad;
	*timeout_ms = (unsigned)v;
	return 0;
bad:
	if (err)
		snprintf(err, errlen, "'%s': the only option is timeout=MS (1..%u)", arg + 10,
			 REPLY_TIMEOUT_MAX);
	return -EINVAL;
}

static int mon_check(const char *arg, char *err, size_t errlen)
{
	bool sandboxed;
	unsigned timeout_ms;

	return parse_arg(arg, &sandboxed, &timeout_ms, err, errlen);
}

static void mon_destroy(void *priv);

static int mon_create(struct vm *vm, const char *arg, void **priv)
{
	struct mon *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->shm_fd = -1;
	if (parse_arg(arg, &m->sandboxed, &m->timeout_ms, NULL, 0)) {
		free(m);
		return -EINVAL; /* mon_check() said why */
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	pthread_mutex_init(&m->ctl_lock, NULL);
	pthread_mutex_init(&m->wire_lock, NULL);
	*priv = m;
	if (device_find(vm, "monitor")) {
		err = vm_set_err(vm, -EEXIST, "--monitor given twice");
		goto fail;
	}
	if (m->sandboxed) {
		m->shm_fd = memfd_create("vessel-monitor", MFD_CLOEXEC);
		err = m->shm_fd < 0 ? -errno : hand_over_disks(m);
		if (err) {
			vm_set_err(vm, err, "--monitor: shared memory: %s", strerror(-err));
			goto fail;
		}
		m->shm->magic = MON_SHM_MAGIC;
		m->shm->version = MON_SHM_VERSION;
		m->shm->nr_chan = MON_NR_CHAN;
		err = spawn(m);
		if (err) {
			vm_set_err(vm, err, "--monitor: fork: %s", strerror(-err));
			goto fail;
		}
		err = wait_ready(m);
		if (err)
			goto fail;
		err = -pthread_create(&m->reaper, NULL, reaper, m);
		if (err) {
			vm_set_err(vm, err, "--monitor: thread: %s", strerror(-err));
			goto fail;
		}
		m->reaper_alive = true;
		vm->console_rx = mon_console_rx;
		vm->console_rx_opaque = m;
		m->core_dropped = vm->cfg.console_dropped;
		m->core_write = vm->cfg.console_write;
		m->core_console = vm->cfg.console_opaque;
		vm->cfg.console_dropped = mon_console_dropped;
		vm->cfg.console_write = mon_console_write;
		vm->cfg.console_opaque = m;
	}
	err = vm_hook_attach(vm, &mon_hook_ops, m);
	if (err) {
		vm_set_err(vm, err, "--monitor: hook: %s", strerror(-err));
		goto fail;
	}
	return 0;
fail:
	mon_destroy(m);
	return err;
}

static void quit(struct mon *m, int idle_ms)
{
	struct mon_msg req = { .type = MON_MSG_QUIT, .a = (uint64_t)idle_ms }, fin;
	struct timespec dl;

	if (!m->sandboxed || !m->pid)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->exited || m->quitting) {
		pthread_mutex_unlock(&m->lock);
		goto join;
	}
	m->quitting = true;
	pthread_mutex_unlock(&m->lock);
	/* the disks' last counters, for --stats once the monitor is gone */
	for (unsigned i = 0; i < m->ndisks; i++) {
		struct device *d = device_find_nth(m->vm, "virtio-blk", i);
		struct device_stat st[DEVICE_STATS_MAX];
		char label[32];

		if (d && d->ops->stats)
			d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
	}
	if (m->reaper_alive && !control(m, &req, &fin)) {
		/* it answers once the console is drained, then exits */
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += idle_ms / 1000 + 2;
	pthread_mutex_lock(&m->lock);
	while (!m->exited && m->reaper_alive)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &dl)) {
			kill(m->pid, SIGKILL); /* the reaper reaps it */
			dl.tv_sec += 3600;
		}
	pthread_mutex_unlock(&m->lock);
join:
	if (m->reaper_alive) {
		pthread_join(m->reaper, NULL);
		m->reaper_alive = false;
	}
}

void monitor_quit(struct vm *vm, int idle_ms)
{
	struct device *d = device_find(vm, "monitor");

	if (d)
		quit(d->priv, idle_ms);
}

static void mon_destroy(void *priv)
{
	struct mon *m = priv;

	if (!m)
		return;
	if (m->reaper_alive) {
		quit(m, 0);
	} else if (m->pid && !m->exited) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
	}
	if (m->shm) {
		gmem_dirty_also(&m->vm->mem, NULL);
		munmap(m->shm, m->shm_size);
	}
	if (m->shm_fd >= 0)
		close(m->shm_fd);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->ctl_lock);
	pthread_mutex_destroy(&m->wire_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The UART lives in the monitor: its state is saved there (migration). */
static ssize_t mon_save(void *priv, void *buf, size_t cap)
{
	struct mon *m = priv;
	struct mon_msg req = { .type = MON_MSG_SAVE }, fin;

	if (!m->sandboxed)
		return 0;
	if (control(m, &req, &fin))
		return -EIO;
	if (fin.status || fin.len != SERIAL_STATE_SIZE)
		return -EIO;
	if (cap < fin.len)
		return -ENOSPC;
	memcpy(buf, fin.data, fin.len);
	return fin.len;
}

static int mon_restore(void *priv, const void *buf, size_t len)
{
	struct mon *m = priv;
	struct mon_msg req = { .type = MON_MSG_RESTORE, .len = (uint32_t)len }, fin;

	if (!m->sandboxed)
		return len == 0 ? 0 : -EINVAL;
	if (len != SERIAL_STATE_SIZE)
		return -EINVAL;
	memcpy(req.data, buf, len);
	if (control(m, &req, &fin))
		return -EIO;
	if (fin.status)
		return -EINVAL;
	apply_irq(m, fin.irq_level, fin.irq_gen);
	return 0;
}

static unsigned mon_stats(void *priv, char *label, size_t lablen, struct device_stat *out,
			  unsigned max)
{
	struct mon *m = priv;
	struct mon_self self = { 0 };
	unsigned n = 0;

	if (m->shm)
		memcpy(&self, &m->shm->self, sizeof(self)); /* informational */
	snprintf(label, lablen, "%s", m->sandboxed ? "sandboxed" : "inproc");
#define S(nm, v)                                                                                   \
	do {                                                                                       \
		if (n < max)                                                                       \
			out[n++] = (struct device_stat){ nm, v };                                  \
	} while (0)
	S("routed_exits", __atomic_load_n(&m->n.routed_exits, __ATOMIC_RELAXED));
	S("routed_ns", __atomic_load_n(&m->n.routed_ns, __ATOMIC_RELAXED));
	S("routed_mmio_exits", __atomic_load_n(&m->n.routed_mmio_exits, __ATOMIC_RELAXED));
	S("routed_mmio_ns", __atomic_load_n(&m->n.routed_mmio_ns, __ATOMIC_RELAXED));
	S("core_ops", __atomic_load_n(&m->n.core_ops, __ATOMIC_RELAXED));
	S("state_reads", __atomic_load_n(&m->n.state_reads, __ATOMIC_RELAXED));
	S("state_writes", __atomic_load_n(&m->n.state_writes, __ATOMIC_RELAXED));
	S("mem_accesses", __atomic_load_n(&m->n.mem_accesses, __ATOMIC_RELAXED));
	S("denied", __atomic_load_n(&m->n.denied, __ATOMIC_RELAXED));
	S("input_bytes", __atomic_load_n(&m->n.input_bytes, __ATOMIC_RELAXED));
	S("irq_changes", __atomic_load_n(&m->n.irq_changes, __ATOMIC_RELAXED));
	S("timeouts", __atomic_load_n(&m->n.timeouts, __ATOMIC_RELAXED));
	S("monitor_pid", (uint64_t)m->pid);
	S("monitor_console_bytes", self.console_bytes);
	S("monitor_console_dropped", self.console_dropped);
	S("monitor_namespaces", self.namespaces);
	S("monitor_syscalls", self.syscalls);
#undef S
	return n;
}

static const struct device_ops mon_ops = {
	.name = "monitor",
	.option = "--monitor",
	.option_arg = "inproc|sandboxed[,timeout=MS]",
	.option_help = "inproc: the UART in this process, its exits timed (as without\n"
		       "                  the option, plus counters); sandboxed: in a separate\n"
		       "                  process with no KVM descriptors, under seccomp; if it\n"
		       "                  leaves an exit unanswered for MS (default 10000), the\n"
		       "                  VM stops with status 3 (docs/monitor.md)",
	.check = mon_check,
	.create = mon_create,
	.destroy = mon_destroy,
	.save = mon_save,
	.restore = mon_restore,
	.stats = mon_stats,
};
DEVICE_REGISTER(mon_ops);
