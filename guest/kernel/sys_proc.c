// SPDX-License-Identifier: MIT
/* Process and thread system calls (docs/syscalls.md). */
#include "abi/syscalls.h"
#include "kernel/syscall.h"
#include "kernel/compat.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/string.h"

int64_t sys_exit(int64_t status)
{
	proc_exit((int)((status & 0xff) << 8));
}

int64_t sys_getpid(void)
{
	return current_proc()->pid;
}

int64_t sys_gettid(void)
{
	return current_thread()->tid;
}

int64_t sys_spawn(const char *path, const char *const *argv)
{
	struct proc *p = current_proc();
	char kpath[VESSEL_PATH_MAX];
	char *args = kmalloc(VESSEL_ARGS_BYTES);
	char *kargv[VESSEL_ARGV_MAX];
	uint64_t used = 0;
	int argc = 0;
	int64_t r = strncpy_from_user(&p->vm, kpath, (uint64_t)path, sizeof(kpath));

	if (!args)
		return -ENOMEM;
	if (r < 0)
		goto out;
	if (argv) {
		for (;;) {
			uint64_t uptr = 0, w = proc_ptr_size(p); /* 32-bit process: 4 */

			r = copy_from_user(&p->vm, &uptr, (uint64_t)argv + (uint64_t)argc * w, w);
			if (r < 0)
				goto out;
			if (!uptr)
				break;
			if (argc == VESSEL_ARGV_MAX) {
				r = -E2BIG;
				goto out;
			}
			r = strncpy_from_user(&p->vm, args + used, uptr, VESSEL_ARGS_BYTES - used);
			if (r == -ENAMETOOLONG)
				r = -E2BIG;
			if (r < 0)
				goto out;
			kargv[argc++] = args + used;
			used += (uint64_t)r + 1;
		}
	}
	if (argc == 0) {
		kargv[argc++] = kpath;
		if (strlen(kpath) + 1 > VESSEL_ARGS_BYTES) {
			r = -E2BIG;
			goto out;
		}
	}
	r = proc_spawn(p, kpath, argc, kargv);
out:
	kfree(args);
	return r;
}

int64_t sys_wait(int64_t pid, int32_t *wstatus, uint64_t flags)
{
	struct proc *p = current_proc();
	int st = 0;
	int64_t r;

	if (pid == 0 || pid < -1 || (flags & ~(uint64_t)VESSEL_WNOHANG))
		return -EINVAL;
	if (pid > INT32_MAX)
		return -ECHILD; /* no such pid: (int)pid would name another child */
	r = proc_wait(p, (int)pid, &st, (int)(flags & VESSEL_WNOHANG), wstatus == NULL);
	if (r <= 0 || !wstatus)
		return r;
	if (copy_to_user(&p->vm, (uint64_t)wstatus, &st, sizeof(int32_t)))
		return -EFAULT; /* the child stays a zombie */
	proc_reap(p, (int)r);
	return r;
}

int64_t sys_yield(void)
{
	this_cpu()->need_resched = 1;
	return 0;
}

static int nanosleep_chan;

int64_t sys_nanosleep(uint64_t ns)
{
	uint64_t deadline;

	if (ns == 0)
		return sys_yield();
	deadline = time_ns() + ns;
	if (deadline < ns)
		deadline = UINT64_MAX;
	while (time_ns() < deadline && !current_proc()->killed)
		sleep_on_until(&nanosleep_chan, deadline);
	return 0;
}

int64_t sys_kill(int64_t pid, int64_t sig)
{
	struct proc *p;

	if (sig != 0 && sig != VESSEL_SIGKILL && sig != VESSEL_SIGTERM)
		return -EINVAL;
	if (pid == 1)
		return -EPERM;
	p = pid > 0 && pid <= INT32_MAX ? proc_find((int)pid, 0) : NULL;
	if (!p)
		return -ESRCH;
	if (sig)
		proc_kill(p, (int)sig);
	return 0;
}

int64_t sys_setintr(int64_t pid, int64_t ignore)
{
	struct proc *self = current_proc(), *p;
	int old;

	if (pid < 0 || ignore < VESSEL_INTR_KILL || ignore > VESSEL_INTR_IGNORE_TREE)
		return -EINVAL;
	p = pid == 0 || pid == self->pid ? self : pid <= INT32_MAX ? proc_find((int)pid, 0) : NULL;
	if (!p || (p != self && p->parent != self))
		return -ESRCH;
	old = p->intr_ignore;
	p->intr_ignore = (int)ignore;
	return old;
}

int64_t sys_thread_create(void *entry, void *arg, void *stack_top)
{
	uint64_t e = (uint64_t)entry, s = (uint64_t)stack_top;

	if (!e || e >= VESSEL_USER_TOP || !s || s >= VESSEL_USER_TOP)
		return -EINVAL;
	return proc_thread_add(current_proc(), e, (uint64_t)arg, s);
}

int64_t sys_thread_exit(int64_t value)
{
	proc_thread_exit(value);
}

static struct thread *find_thread(struct proc *p, int64_t tid)
{
	for (struct thread *t = p->threads; t; t = t->proc_next) {
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static void unlink_thread(struct proc *p, struct thread *t)
{
	for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next) {
		if (*pp == t) {
			*pp = t->proc_next;
			return;
		}
	}
}

int64_t sys_thread_join(int64_t tid, int64_t *value)
{
	struct thread *self = current_thread(), *t;
	struct proc *p = self->proc;

	if (tid == self->tid)
		return -EDEADLK;
	t = find_thread(p, tid);
	if (!t || t->joined)
		return -ESRCH;
	if (t->joiner)
		return -EINVAL;
	t->joiner = self;
	while (t->state != T_DEAD) {
		if (p->killed) { /* checked before sleeping too, as in proc_wait */
			t->joiner = NULL;
			return -EINTR;
		}
		sleep_on(t);
	}
	t->joiner = NULL;
	if (value && copy_to_user(&p->vm, (uint64_t)value, &t->exit_value, 8))
		return -EFAULT;
	unlink_thread(p, t);
	p->dead_run_tsc += t->run_tsc;
	thread_free(t);
	return 0;
}

int64_t sys_getcpu(void)
{
	return this_cpu()->id;
}

int64_t sys_setaffinity(int64_t tid, int64_t cpu)
{
	struct thread *self = current_thread();
	struct thread *t = tid == 0 ? self : find_thread(self->proc, tid);

	if (!t || t->state == T_DEAD)
		return -ESRCH;
	if (cpu < -1 || cpu >= smp_cpu_count())
		return -EINVAL;
	t->pinned = (int)cpu;
	if (cpu >= 0 && t->cpu != cpu) {
		/* the scheduler moves it: at once for the caller, else at its next switch */
		if (t == self)
			this_cpu()->need_resched = 1;
		else if (t->state == T_RUNNING)
			smp_send_ipi(t->cpu, VEC_RESCHED);
		else
			sched_migrate(t);
	}
	return 0;
}

int64_t sys_poweroff(int64_t status)
{
	power_off((int)(status & 0xff));
}
