// SPDX-License-Identifier: MIT
/*
 * Thread wrapper: the start block {fn, arg} lives at the top of the new
 * thread's own stack, so nothing is shared with the creator after
 * thread_create() returns. crt0.S's __thread_entry calls __thread_main.
 */
#include <stdint.h>
#include <vessel/sys.h>
#include <vessel/thread.h>

struct start {
	long (*fn)(void *);
	void *arg;
};

void __thread_entry(void);
__attribute__((noreturn)) void __thread_main(struct start *s);

__attribute__((noreturn)) void __thread_main(struct start *s)
{
	long v = s->fn(s->arg);

	sys_thread_exit(v);
	__builtin_unreachable();
}

int thread_start(struct thread *t, long (*fn)(void *), void *arg)
{
	long stack = sys_mmap(NULL, THREAD_STACK_SIZE, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			      VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);
	struct start *s;
	long tid;

	if (sys_failed(stack))
		return (int)stack;
	s = (struct start *)(stack + THREAD_STACK_SIZE) - 1;
	s->fn = fn;
	s->arg = arg;
	/* 16-byte aligned minus 8, as right after a call */
	tid = sys_thread_create((void *)__thread_entry, s, (char *)s - 8);
	if (sys_failed(tid)) {
		sys_munmap((void *)stack, THREAD_STACK_SIZE);
		return (int)tid;
	}
	t->tid = tid;
	t->stack = (void *)stack;
	return 0;
}

int thread_wait(struct thread *t, long *value)
{
	long r = sys_thread_join(t->tid, (int64_t *)value);

	if (r == 0) {
		sys_munmap(t->stack, THREAD_STACK_SIZE);
		t->stack = NULL;
	}
	return (int)r;
}
