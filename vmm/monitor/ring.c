// SPDX-License-Identifier: MIT
#include "monitor/ring.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int mon_ring_post(struct mon_ring *r, const struct mon_msg *m)
{
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= MON_RING_SLOTS)
		return -EAGAIN;
	r->slot[head % MON_RING_SLOTS] = *m;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

bool mon_ring_take(struct mon_ring *r, struct mon_msg *m)
{
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	/* a head more than a ring ahead is the other side's lie: treat as empty */
	if (head == tail || head - tail > MON_RING_SLOTS)
		return false;
	memcpy(m, (const void *)&r->slot[tail % MON_RING_SLOTS], sizeof(*m));
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

bool mon_ring_empty(struct mon_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
}

void mon_futex_wait(uint32_t *word, uint32_t val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };

	/* shared (not FUTEX_PRIVATE): the word is in a page two processes map */
	syscall(SYS_futex, word, FUTEX_WAIT, val, timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

void mon_futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n < 0 ? INT_MAX : n, NULL, NULL, 0);
}
