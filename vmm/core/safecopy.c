// SPDX-License-Identifier: MIT
/* Memory-exception-safe copy: per-thread SIGBUS recovery (see safecopy.h). */
#include "core/safecopy.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

struct copy_arm {
	volatile sig_atomic_t active;
	uintptr_t s_lo, s_hi, d_lo, d_hi;
	void *bad;
	sigjmp_buf jb;
};

static __thread struct copy_arm arm;
static struct sigaction prev_action;
static unsigned long recovered;

static int in_range(uintptr_t a)
{
	return (a >= arm.s_lo && a < arm.s_hi) || (a >= arm.d_lo && a < arm.d_hi);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	if (arm.active && in_range(a) &&
	    (si->si_code == BUS_MCEERR_AR || si->si_code == BUS_MCEERR_AO ||
	     si->si_code == BUS_ADRERR)) {
		arm.active = 0;
		arm.bad = si->si_addr;
		__atomic_fetch_add(&recovered, 1, __ATOMIC_RELAXED);
		siglongjmp(arm.jb, 1);
	}
	if ((prev_action.sa_flags & SA_SIGINFO) && prev_action.sa_sigaction) {
		prev_action.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev_action.sa_handler != SIG_DFL && prev_action.sa_handler != SIG_IGN &&
	    prev_action.sa_handler) {
		prev_action.sa_handler(sig);
		return;
	}
	/* Nobody else wants it: default action (a synchronous fault re-faults and dies). */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code == BUS_MCEERR_AO || si->si_code <= 0)
		raise(SIGBUS);
}

int safe_copy_init(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sigaction sa, cur;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (sigaction(SIGBUS, NULL, &cur) < 0) {
		rc = -errno;
		goto out;
	}
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
		goto out; /* already ours */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* SA_NODEFER: we leave the handler with siglongjmp and do not save the
	 * signal mask in sigsetjmp (no syscall per copy), so SIGBUS must not
	 * stay blocked afterwards. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	prev_action = cur;
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		rc = -errno;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Kept out of line so the compiler cannot move guest-memory loads outside
 * the armed window. A naturally aligned 2-, 4- or 8-byte copy is one load
 * and one store (a virtqueue index the guest updates concurrently must not
 * be read torn); memcpy promises nothing about access widths. */
static __attribute__((noinline)) void copy_bytes(void *dst, const void *src, size_t len)
{
	uintptr_t both = (uintptr_t)dst | (uintptr_t)src;

	if (len == 2 && !(both & 1))
		__atomic_store_n((uint16_t *)dst,
				 __atomic_load_n((const uint16_t *)src, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	else if (len == 4 && !(both & 3))
		__atomic_store_n((uint32_t *)dst,
				 __atomic_load_n((const uint32_t *)src, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	else if (len == 8 && !(both & 7))
		__atomic_store_n((uint64_t *)dst,
				 __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	else
		memcpy(dst, src, len);
	__asm__ volatile("" ::: "memory");
}

int safe_copy(void *dst, const void *src, size_t len, void **bad_addr)
{
	arm.s_lo = (uintptr_t)src;
	arm.s_hi = (uintptr_t)src + len;
	arm.d_lo = (uintptr_t)dst;
	arm.d_hi = (uintptr_t)dst + len;
	arm.bad = NULL;
	if (sigsetjmp(arm.jb, 0)) {
		if (bad_addr)
			*bad_addr = arm.bad;
		return -EHWPOISON;
	}
	__asm__ volatile("" ::: "memory");
	arm.active = 1;
	copy_bytes(dst, src, len);
	arm.active = 0;
	return 0;
}

unsigned long safe_copy_recovered(void)
{
	return __atomic_load_n(&recovered, __ATOMIC_RELAXED);
}
