// SPDX-License-Identifier: MIT
/* Processes: spawn from the initrd, exit, wait, kill, user faults. */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/initrd.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/page_owner.h"
#include "kernel/sched.h"
#include "kernel/tlb.h"
#include "kernel/smp.h"
#include "kernel/syscall.h"
#include "lib/elf64.h"
#include "kernel/compat.h"
#include "lib/errno.h"
#include "lib/string.h"

#define PROC_MAX 64

static struct proc *procs; /* ascending pid */
static int nprocs;

struct proc *current_proc(void)
{
	struct thread *t = current_thread();

	return t ? t->proc : NULL;
}

struct proc *proc_list(void)
{
	return procs;
}

int proc_count(void)
{
	return nprocs;
}

struct proc *proc_find(int pid, int zombies)
{
	for (struct proc *p = procs; p; p = p->next) {
		if (p->pid == pid)
			return !p->zombie || zombies ? p : NULL;
	}
	return NULL;
}

static uint32_t elf_prot(uint32_t flags)
{
	return ((flags & ELF64_PF_R) ? VM_READ : 0) | ((flags & ELF64_PF_W) ? VM_WRITE : 0) |
	       ((flags & ELF64_PF_X) ? VM_EXEC : 0);
}

/* Writes into p's memory regardless of page protection (loading). */
static int poke(struct vm *vm, uint64_t dst, const void *src, uint64_t len)
{
	const uint8_t *s = src;

	while (len) {
		uint64_t n = PAGE_SIZE - (dst & ~PAGE_MASK);
		int64_t pa;

		if (vm_fault(vm, dst, VM_READ) < 0)
			return -ENOMEM;
		pa = vm_translate(vm, dst);
		if (pa < 0)
			return -ENOMEM;
		if (n > len)
			n = len;
		memcpy(phys_to_virt((uint64_t)pa), s, n);
		s += n;
		dst += n;
		len -= n;
	}
	return 0;
}

static int load_elf(struct proc *p, const struct elf64_image *img, const uint8_t *file)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct elf64_segment *s = &img->segs[i];
		uint64_t start = s->vaddr & PAGE_MASK;
		uint64_t end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & PAGE_MASK;
		int r = vm_map(&p->vm, start, end - start, elf_prot(s->flags));

		if (r)
			return r;
		if (s->filesz && poke(&p->vm, s->vaddr, file + s->offset, s->filesz))
			return -ENOMEM;
		if (end > top)
			top = end;
	}
	p->vm.brk_start = p->vm.brk = top;
	return 0;
}

/*
 * Lays out argc/argv on the new stack (docs/syscalls.md) in words of the
 * process's pointer size; returns the stack pointer.
 */
static int64_t build_stack(struct proc *p, int argc, char *const argv[], uint64_t *argv_va)
{
	uint64_t words[VESSEL_ARGV_MAX + 5];
	uint32_t words32[VESSEL_ARGV_MAX + 5];
	uint64_t sp = proc_stack_top(p), strings, nw = 0, w = proc_ptr_size(p);
	uint64_t total = 0;

	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	strings = (sp - total) & ~15ull;
	sp = strings;
	words[nw++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++) {
		uint64_t len = strlen(argv[i]) + 1;

		words[nw++] = sp;
		if (poke(&p->vm, sp, argv[i], len))
			return -ENOMEM;
		sp += len;
	}
	words[nw++] = 0; /* argv[argc] */
	words[nw++] = 0; /* envp terminator */
	words[nw++] = 0; /* auxv AT_NULL */
	words[nw++] = 0;
	for (uint64_t i = 0; i < nw; i++)
		words32[i] = (uint32_t)words[i]; /* a 32-bit process's strings are below 4 GiB */
	sp = (strings - nw * w) & ~15ull;
	if (poke(&p->vm, sp, w == 4 ? (const void *)words32 : (const void *)words, nw * w))
		return -ENOMEM;
	*argv_va = sp + w;
	return (int64_t)sp;
}

/* A new user thread's first frame: 64-bit or compatibility-mode code segment. */
static void init_user_frame(struct trapframe *tf, uint64_t rip, uint64_t rsp, int compat)
{
	memset(tf, 0, sizeof(*tf));
	tf->rip = rip;
	tf->rsp = rsp;
	tf->cs = compat ? USER_CS32 : USER_CS;
	tf->ss = USER_DS;
	tf->rflags = 0x202;
}

static void proc_link(struct proc *p)
{
	struct proc **pp = &procs;

	while (*pp && (*pp)->pid < p->pid)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
	nprocs++;
}

static void proc_unlink_free(struct proc *p)
{
	page_owner_name_clear(p->pid);
	for (struct proc **pp = &procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			nprocs--;
			break;
		}
	}
	kfree(p);
}

/* Creates the process shell around an address space prepared by `load`. */
static int spawn_common(struct proc *parent, const char *name, int argc, char *const argv[],
			int (*load)(struct proc *p, const void *arg, uint64_t *entry),
			const void *load_arg)
{
	struct thread *t;
	struct proc *p;
	uint64_t argv_va = 0, entry = 0;
	int64_t sp;
	int r;

	if (nprocs >= PROC_MAX)
		return -EAGAIN;
	p = kzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (vm_init(&p->vm)) {
		kfree(p);
		return -ENOMEM;
	}
	p->pml4 = p->vm.pml4;
	r = jsp_create(p); /* a new process starts with nothing learned */
	if (!r)
		r = load(p, load_arg, &entry);
	if (!r)
		r = vm_map(&p->vm, proc_stack_top(p) - VESSEL_USER_STACK_SIZE,
			   VESSEL_USER_STACK_SIZE, VM_READ | VM_WRITE);
	sp = r ? r : build_stack(p, argc, argv, &argv_va);
	t = sp < 0 ? NULL : thread_create(p, NULL, NULL, NULL);
	if (!t) {
		jsp_free(p);
		vm_destroy(&p->vm);
		kfree(p);
		return sp < 0 ? (int)sp : -ENOMEM;
	}
	init_user_frame(t->tf, entry, (uint64_t)sp, p->compat);
	t->tf->rdi = (uint64_t)argc;
	t->tf->rsi = argv_va;
	p->pid = t->tid;
	p->parent = parent;
	/* a job marked to survive Ctrl-C with its descendants passes it on */
	if (parent && parent->intr_ignore == VESSEL_INTR_IGNORE_TREE)
		p->intr_ignore = VESSEL_INTR_IGNORE_TREE;
	p->threads = t;
	p->nthreads = 1;
	p->last_cpu = -1;
	strlcpy(p->name, name, sizeof(p->name));
	for (int i = 0; i < 3; i++)
		p->fds[i].kind = FD_CONSOLE;
	vm_set_owner(&p->vm, p->pid); /* for the VMM's memory-error reports */
	page_owner_name_set(p->pid, p->name);
	proc_link(p);
	return p->pid;
}

struct elf_load {
	const struct elf64_image *img;
	const uint8_t *file;
};

static int load_elf_cb(struct proc *p, const void *arg, uint64_t *entry)
{
	const struct elf_load *l = arg;

	*entry = l->img->entry;
	p->compat = (int)l->img->compat;
	return load_elf(p, l->img, l->file);
}

struct raw_load {
	const void *code;
	uint64_t len;
};

static int load_raw_cb(struct proc *p, const void *arg, uint64_t *entry)
{
	const struct raw_load *l = arg;
	uint64_t size = (l->len + PAGE_SIZE - 1) & PAGE_MASK;
	int r = vm_map(&p->vm, VESSEL_USER_IMAGE_BASE, size, VM_READ | VM_EXEC);

	if (!r && poke(&p->vm, VESSEL_USER_IMAGE_BASE, l->code, l->len))
		r = -ENOMEM;
	p->vm.brk_start = p->vm.brk = VESSEL_USER_IMAGE_BASE + size;
	*entry = VESSEL_USER_IMAGE_BASE;
	return r;
}

int proc_spawn_raw(struct proc *parent, const char *name, const void *code, uint64_t len,
		   uint64_t rdi, uint64_t rsi, int pin_cpu)
{
	struct raw_load l = { code, len };
	char *argv[1] = { (char *)name };
	int pid = spawn_common(parent, name, 1, argv, load_raw_cb, &l);
	struct proc *p = pid > 0 ? proc_find(pid, 0) : NULL;

	if (!p)
		return pid;
	p->threads->tf->rdi = rdi;
	p->threads->tf->rsi = rsi;
	p->threads->pinned = pin_cpu;
	sched_make_runnable(p->threads);
	return pid;
}

int proc_spawn(struct proc *parent, const char *path, int argc, char *const argv[])
{
	const struct initrd *rd = initrd_get();
	struct initrd_file f;
	struct elf64_image img;
	const char *why = NULL;
	uint64_t total = 0;
	int r;

	if (!strcmp(path, "/"))
		return -EISDIR;
	if (!rd)
		return -ENOENT;
	r = initrd_find(rd, path, VESSEL_PATH_MAX, &f);
	if (r)
		return r;
	if (argc > VESSEL_ARGV_MAX)
		return -E2BIG;
	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	if (total > VESSEL_ARGS_BYTES)
		return -E2BIG;
	if (elf64_parse(f.data, f.size, VESSEL_USER_IMAGE_BASE, VESSEL_USER_MMAP_BASE, &img,
			&why)) {
		printk("spawn: %s: not a valid executable: %s\n", path, why);
		return -ENOEXEC;
	}
	{
		struct elf_load l = { &img, f.data };
		int pid = spawn_common(parent, f.name, argc, argv, load_elf_cb, &l);
		struct proc *p = pid > 0 ? proc_find(pid, 0) : NULL;

		if (p)
			sched_make_runnable(p->threads);
		return pid;
	}
}

int proc_thread_add(struct proc *p, uint64_t entry, uint64_t arg, uint64_t stack_top)
{
	struct thread *t;
	int held = 0;

	/* exited but not joined threads keep their kernel stack: they count */
	for (t = p->threads; t; t = t->proc_next)
		held++;
	if (held >= VESSEL_THREADS_MAX)
		return -EAGAIN;
	t = thread_create(p, NULL, NULL, NULL);
	if (!t)
		return -ENOMEM;
	init_user_frame(t->tf, entry, stack_top, p->compat);
	t->tf->rdi = arg;
	t->proc_next = p->threads;
	p->threads = t;
	p->nthreads++;
	sched_make_runnable(t);
	return t->tid;
}

/* Makes every other thread of p notice p->killed soon. */
static void kick_threads(struct proc *p)
{
	struct thread *self = current_thread();

	for (struct thread *t = p->threads; t; t = t->proc_next) {
		if (t == self)
			continue;
		if (t->state == T_BLOCKED)
			wakeup_thread(t);
		else if (t->state == T_RUNNING && t->cpu != this_cpu()->id)
			smp_send_ipi(t->cpu, VEC_RESCHED);
	}
}

void proc_kill(struct proc *p, int wstatus)
{
	if (!p->killed) {
		p->killed = 1;
		p->wstatus = wstatus;
	}
	kick_threads(p);
}

int proc_interrupt(void)
{
	int n = 0;

	for (struct proc *p = procs; p; p = p->next) {
		if (p->pid == 1 || p->zombie || p->killed || p->intr_ignore)
			continue;
		proc_kill(p, VESSEL_SIGINT);
		n++;
	}
	return n;
}

/* The last thread left: free the address space, tell the parent. */
static void proc_finish(struct proc *p)
{
	struct thread *self = current_thread();
	struct proc *init = proc_find(1, 1);

	files_close_all(p);  /* disks: requests in flight are abandoned */
	tlb_release(&p->vm); /* no CPU may keep it loaded once it is freed */
	jsp_free(p);
	vm_destroy(&p->vm);
	p->pml4 = 0;
	for (struct thread *t = p->threads, *n; t; t = n) {
		n = t->proc_next;
		if (t != self)
			thread_free(t);
	}
	p->threads = NULL;
	for (struct proc *q = procs, *next; q; q = next) {
		next = q->next;
		if (q->parent != p)
			continue;
		q->parent = init != p ? init : NULL;
		if (q->zombie && q->parent)
			wakeup(q->parent);
		else if (q->zombie)
			proc_unlink_free(q); /* nobody left to wait for it */
	}
	p->zombie = 1;
	if (p->parent) {
		wakeup(p->parent);
	} else if (p->pid == 1) {
		int st = p->wstatus;

		printk("vessel: init exited (%s %d): powering off\n",
		       VESSEL_W_EXITED(st) ? "status" : "signal",
		       VESSEL_W_EXITED(st) ? VESSEL_W_EXITSTATUS(st) : VESSEL_W_TERMSIG(st));
		power_off(VESSEL_W_EXITED(st) ? VESSEL_W_EXITSTATUS(st) :
						128 + VESSEL_W_TERMSIG(st));
	}
}

/* The running thread leaves its process for good. */
static void __attribute__((noreturn)) leave(void)
{
	struct thread *t = current_thread();
	struct proc *p = t->proc;

	if (t->joiner)
		wakeup(t);
	p->nthreads--;
	if (p->nthreads == 0) {
		proc_finish(p);
		t->joined = 1; /* freed right after the switch */
		if (!p->parent)
			proc_unlink_free(p); /* nobody will wait for it */
	}
	thread_die();
}

void proc_exit(int wstatus)
{
	proc_kill(current_proc(), wstatus);
	leave();
}

void proc_exit_thread_killed(void)
{
	leave();
}

void proc_thread_exit(int64_t value)
{
	struct thread *t = current_thread();

	t->exit_value = value;
	if (t->proc->nthreads == 1)
		proc_exit(0); /* the last thread: the process exits with status 0 */
	leave();
}

int proc_wait(struct proc *p, int pid, int *wstatus, int nohang, int reap)
{
	for (;;) {
		int found = 0;

		for (struct proc *c = procs; c; c = c->next) {
			if (c->parent != p || (pid != -1 && c->pid != pid))
				continue;
			found = 1;
			if (c->zombie) {
				int cpid = c->pid;

				*wstatus = c->wstatus;
				if (reap)
					proc_unlink_free(c);
				return cpid;
			}
		}
		if (!found)
			return -ECHILD;
		if (nohang)
			return 0;
		/*
		 * Before sleeping, not only after: a kill that came while this
		 * thread was on its way in (spinning for the BKL) found it
		 * running and woke nobody.
		 */
		if (p->killed)
			return -EINTR;
		sleep_on(p);
	}
}

void proc_reap(struct proc *p, int pid)
{
	for (struct proc *c = procs; c; c = c->next) {
		if (c->parent == p && c->pid == pid && c->zombie) {
			proc_unlink_free(c);
			return;
		}
	}
}

static int exception_signal(uint64_t v)
{
	switch (v) {
	case 0:
	case 16:
	case 19:
		return VESSEL_SIGFPE;
	case 1:
	case 3:
		return VESSEL_SIGTRAP;
	case 6:
		return VESSEL_SIGILL;
	case 18:
		return VESSEL_SIGBUS;
	default:
		return VESSEL_SIGSEGV;
	}
}

struct proc_fatal_pf proc_last_fatal_pf;

void proc_user_exception(struct trapframe *tf, uint64_t cr2)
{
	struct proc *p = current_proc();

	if (!p) {
		trap_dump(tf);
		panic("user-mode exception in a kernel thread");
	}
	if (tf->vector == 14) {
		uint32_t access =
			((tf->error & 2) ? VM_WRITE : VM_READ) | ((tf->error & 16) ? VM_EXEC : 0);

		if (vm_fault(&p->vm, cr2, access) == 0)
			return;
		proc_last_fatal_pf.pid = p->pid;
		proc_last_fatal_pf.addr = cr2;
		proc_last_fatal_pf.error = tf->error;
		printk("vessel: killed pid %d (%s): page fault at %#lx rip %#lx (%s%s)\n", p->pid,
		       p->name, cr2, tf->rip,
		       (tf->error & 16) ? "exec" :
		       (tf->error & 2)	? "write" :
					  "read",
		       (tf->error & 1) ? ", protection" : "");
	} else {
		printk("vessel: killed pid %d (%s): %s rip %#lx%s\n", p->pid, p->name,
		       trap_name(tf->vector), tf->rip, compat_fault_note(p, tf));
	}
	proc_kill(p, exception_signal(tf->vector));
}
