// SPDX-License-Identifier: MIT
/* Memory calls: mmap, munmap, mprotect, brk, virt_to_phys; malloc; reclaim on exit. */
#include <stdlib.h>

#include "ut.h"

#define PAGE 4096ul
#define RW   (VESSEL_PROT_READ | VESSEL_PROT_WRITE)
#define ANON (VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS)

void test_mmap_anon(void)
{
	struct vessel_stats s0, s1;
	const uint64_t len = 64 * PAGE;
	volatile uint8_t *p;
	long r;

	ut_stats(&s0);
	r = CHECK_OK(sys_mmap(NULL, len, RW, ANON));
	CHECK_EQ(r % PAGE, 0);
	CHECK((uint64_t)r >= VESSEL_USER_MMAP_BASE && (uint64_t)r + len <= VESSEL_USER_TOP);
	p = (volatile uint8_t *)r;
	for (uint64_t off = 0; off < len; off += 512)
		CHECK_EQ(p[off], 0); /* demand-zero */
	for (uint64_t off = 0; off < len; off++)
		p[off] = (uint8_t)(off * 13);
	for (uint64_t off = 0; off < len; off++)
		CHECK_EQ(p[off], (uint8_t)(off * 13));
	ut_stats(&s1);
	CHECK(s1.total.page_faults - s0.total.page_faults >= 64); /* one per fresh page */
	/* len is rounded up to pages; two mappings do not overlap */
	long a = CHECK_OK(sys_mmap(NULL, 1, RW, ANON));
	long b = CHECK_OK(sys_mmap(NULL, 1, RW, ANON));
	CHECK(a != b && a % PAGE == 0 && b % PAGE == 0);
	CHECK(a + (long)PAGE <= r || a >= r + (long)len);
	((volatile char *)a)[PAGE - 1] = 1;
	((volatile char *)b)[PAGE - 1] = 2;
	CHECK_EQ(((volatile char *)a)[PAGE - 1], 1);
	/* the address hint is ignored without MAP_FIXED */
	long c = CHECK_OK(sys_mmap((void *)0x12345, PAGE, RW, ANON));
	CHECK(c % PAGE == 0);
	CHECK_OK(sys_munmap((void *)r, len));
}

void test_mmap_fixed(void)
{
	void *want = (void *)(VESSEL_USER_MMAP_BASE + 0x40000000ul);
	volatile uint64_t *p;

	CHECK_EQ(sys_mmap(want, 4 * PAGE, RW, ANON | VESSEL_MAP_FIXED), (long)want);
	p = want;
	p[0] = 0xabcd;
	p[PAGE / 8] = 0x1234;
	/* FIXED over an existing mapping replaces it with fresh zero pages */
	CHECK_EQ(sys_mmap(want, PAGE, RW, ANON | VESSEL_MAP_FIXED), (long)want);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PAGE / 8], 0x1234); /* the next page was not part of it */
	/* just below the stack area and in the low image area are allowed */
	void *low = (void *)0x10000000ul;
	CHECK_EQ(sys_mmap(low, PAGE, RW, ANON | VESSEL_MAP_FIXED), (long)low);
	*(volatile int *)low = 5;
	CHECK_ERR(sys_mmap((void *)((char *)want + 1), PAGE, RW, ANON | VESSEL_MAP_FIXED), EINVAL);
	CHECK_ERR(sys_mmap(BAD_KERNEL, PAGE, RW, ANON | VESSEL_MAP_FIXED), EINVAL);
	CHECK_ERR(sys_mmap((void *)(VESSEL_USER_TOP - PAGE), 2 * PAGE, RW, ANON | VESSEL_MAP_FIXED),
		  EINVAL);
	CHECK_ERR(sys_mmap(BAD_NULL, PAGE, RW, ANON | VESSEL_MAP_FIXED), EINVAL);
}

void test_mmap_errors(void)
{
	CHECK_ERR(sys_mmap(NULL, 0, RW, ANON), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PAGE, 8, ANON), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PAGE, RW, VESSEL_MAP_PRIVATE), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PAGE, RW, VESSEL_MAP_ANONYMOUS), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PAGE, RW, ANON | 0x1000), EINVAL);
	CHECK_ERR(sys_mmap(NULL, ~0ul - 100, RW, ANON), ENOMEM);
	CHECK_ERR(sys_mmap(NULL, 1ul << 47, RW, ANON), ENOMEM);
}

void test_munmap(void)
{
	long r = CHECK_OK(sys_mmap(NULL, 4 * PAGE, RW, ANON));
	volatile char *p = (volatile char *)r;

	p[0] = 1;
	p[3 * PAGE] = 3;
	CHECK_OK(sys_munmap((void *)(r + PAGE), PAGE)); /* a hole in the middle */
	CHECK_EQ(p[0], 1);
	CHECK_EQ(p[3 * PAGE], 3);
	CHECK_OK(sys_munmap((void *)r, 4 * PAGE)); /* covers the hole: fine */
	CHECK_OK(sys_munmap((void *)r, 4 * PAGE)); /* nothing mapped: fine */
	CHECK_ERR(sys_munmap((void *)(r + 1), PAGE), EINVAL);
	CHECK_ERR(sys_munmap((void *)r, 0), EINVAL);
	CHECK_ERR(sys_munmap(BAD_KERNEL, PAGE), EINVAL);
	CHECK_ERR(sys_munmap((void *)(VESSEL_USER_TOP - PAGE), 2 * PAGE), EINVAL);
	CHECK_ERR(sys_munmap((void *)r, ~0ul - PAGE), EINVAL); /* wraps */
	/* an access after munmap kills the process, not the kernel */
	CHECK_EQ(ut_run_helper("crash", "munmap-touch", NULL), KILLED(VESSEL_SIGSEGV));
}

void test_mprotect(void)
{
	long r = CHECK_OK(sys_mmap(NULL, 2 * PAGE, RW, ANON));
	volatile char *p = (volatile char *)r;

	p[0] = 42;
	CHECK_OK(sys_mprotect((void *)r, PAGE, VESSEL_PROT_READ));
	CHECK_EQ(p[0], 42); /* still readable */
	p[PAGE] = 1;	    /* the second page is still writable */
	CHECK_OK(sys_mprotect((void *)r, 2 * PAGE, RW));
	p[0] = 43;
	CHECK_EQ(sys_mprotect((void *)r, 0, VESSEL_PROT_READ), 0);
	CHECK_ERR(sys_mprotect((void *)(r + 8), PAGE, VESSEL_PROT_READ), EINVAL);
	CHECK_ERR(sys_mprotect((void *)r, PAGE, 0x10), EINVAL);
	CHECK_ERR(sys_mprotect(BAD_KERNEL, PAGE, VESSEL_PROT_READ), EINVAL);
	CHECK_ERR(sys_mprotect(ut_unmapped_addr(), PAGE, VESSEL_PROT_READ), ENOMEM);
	/* partly unmapped: refused, and nothing changed */
	CHECK_ERR(sys_mprotect((void *)r, 3 * PAGE, VESSEL_PROT_READ), ENOMEM);
	p[0] = 44;
	CHECK_EQ(ut_run_helper("crash", "mprotect-write", NULL), KILLED(VESSEL_SIGSEGV));
	CHECK_EQ(ut_run_helper("crash", "protnone-read", NULL), KILLED(VESSEL_SIGSEGV));
}

void test_brk(void)
{
	long start = CHECK_OK(sys_brk(NULL)), r;
	volatile char *p = (volatile char *)start;

	CHECK_EQ(start % PAGE, 0); /* end of the image, page aligned */
	CHECK(start > (long)VESSEL_USER_IMAGE_BASE);
	CHECK_EQ(sys_brk((void *)(start + (1 << 20))), start + (1 << 20));
	CHECK_EQ(sys_brk(NULL), start + (1 << 20));
	for (long off = 0; off < (1 << 20); off += PAGE)
		CHECK_EQ(p[off], 0);
	p[(1 << 20) - 1] = 9;
	/* shrink and grow again: the pages come back zeroed */
	CHECK_EQ(sys_brk((void *)(start + PAGE)), start + PAGE);
	CHECK_EQ(sys_brk((void *)(start + (1 << 20))), start + (1 << 20));
	CHECK_EQ(p[(1 << 20) - 1], 0);
	/* unaligned break is fine; the page holding it is usable */
	CHECK_EQ(sys_brk((void *)(start + 100)), start + 100);
	p[99] = 1;
	CHECK_ERR(sys_brk((void *)(start - PAGE)), EINVAL);
	CHECK_ERR(sys_brk((void *)(start + VESSEL_BRK_MAX + PAGE)), ENOMEM);
	r = CHECK_OK(sys_brk(NULL));
	CHECK_EQ(r, start + 100); /* failures left it alone */
	CHECK_EQ(ut_run_helper("crash", "brk-shrink-touch", NULL), KILLED(VESSEL_SIGSEGV));
}

void test_malloc(void)
{
	void *p[100];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++) {
			p[i] = malloc((size_t)(i * 97 % 5000) + 1);
			CHECK(p[i] != NULL);
			memset(p[i], i, (size_t)(i * 97 % 5000) + 1);
		}
		for (int i = 0; i < 100; i++) {
			CHECK_EQ(((unsigned char *)p[i])[0], i);
			free(p[i]);
		}
		CHECK_EQ(malloc_in_use(), 0);
	}
	char *big = malloc(8 << 20); /* mmap-backed */
	CHECK(big != NULL);
	big[0] = 1;
	big[(8 << 20) - 1] = 2;
	free(big);
	CHECK_EQ(malloc_in_use(), 0);
	char buf[64];
	snprintf(buf, sizeof(buf), "%s=%d:%#x:%-4s|", "v", -12, 255, "ab");
	CHECK(!strcmp(buf, "v=-12:0xff:ab  |"));
}

void test_virt_to_phys(void)
{
	long r = CHECK_OK(sys_mmap(NULL, 3 * PAGE, RW, ANON));
	volatile char *p = (volatile char *)r;
	long pa, pb;

	CHECK_ERR(sys_virt_to_phys((void *)r), EFAULT); /* not touched yet: not present */
	p[0] = 1;
	p[PAGE] = 2;
	pa = CHECK_OK(sys_virt_to_phys((void *)r));
	pb = CHECK_OK(sys_virt_to_phys((void *)(r + PAGE + 123)));
	CHECK_EQ(pa % PAGE, 0);
	CHECK_EQ(pb % PAGE, 123);
	CHECK(pa / PAGE != pb / PAGE);
	CHECK_EQ(sys_virt_to_phys((void *)(r + 77)), pa + 77);
	CHECK_ERR(sys_virt_to_phys(BAD_NULL), EFAULT);
	CHECK_ERR(sys_virt_to_phys(BAD_KERNEL), EFAULT);
	CHECK_ERR(sys_virt_to_phys(ut_unmapped_addr()), EFAULT);
	CHECK_OK(sys_virt_to_phys((void *)test_virt_to_phys)); /* text is mapped */
	CHECK_OK(sys_munmap((void *)r, 3 * PAGE));
	CHECK_ERR(sys_virt_to_phys((void *)r), EFAULT);
}

/*
 * Memory reclaim: processes that map and touch memory, exit or get killed;
 * the free-page counter must come back to where it was. A warm-up round
 * first, so one-time kernel allocations do not count as leaks.
 */
void test_reclaim(void)
{
	struct vessel_stats s;
	uint64_t base, during, after;
	long pids[3];

	CHECK_EQ(ut_run_helper("alloc", "2048", NULL), EXITED(0));
	ut_stats(&s);
	base = s.pages_free;
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(ut_run_helper("alloc", "4096", NULL), EXITED(0));
		for (int i = 0; i < 3; i++)
			pids[i] = ut_spawn_helper("alloc", "1024", "hold", NULL);
		msleep(200);
		for (int i = 0; i < 3; i++) {
			CHECK_OK(sys_kill(pids[i], VESSEL_SIGKILL));
			CHECK_EQ(ut_wait(pids[i]), KILLED(VESSEL_SIGKILL));
		}
		CHECK_EQ(ut_run_helper("crash", "null", NULL), KILLED(VESSEL_SIGSEGV));
	}
	/* the counter does move while a process holds memory */
	pids[0] = ut_spawn_helper("alloc", "4096", "hold", NULL);
	for (int tries = 0; tries < 500; tries++) {
		ut_stats(&s);
		if (s.pages_free + 1024 <= base)
			break;
		msleep(10);
	}
	during = s.pages_free;
	CHECK_OK(sys_kill(pids[0], VESSEL_SIGKILL));
	ut_wait(pids[0]);
	ut_stats(&s);
	after = s.pages_free;
	if (during + 1024 > base)
		ut_fail(__FILE__, __LINE__,
			"a process holding 4 MiB did not lower pages_free "
			"(%llu -> %llu)",
			(unsigned long long)base, (unsigned long long)during);
	if (after + 4 < base)
		ut_fail(__FILE__, __LINE__, "pages leaked: %llu free before, %llu after",
			(unsigned long long)base, (unsigned long long)after);
	ut_note("pages_free %llu before, %llu while holding 4 MiB, %llu after",
		(unsigned long long)base, (unsigned long long)during, (unsigned long long)after);
}

/*
 * Reclaim of every kind of memory a process can leave behind (helper
 * "mixed": PROT_NONE pages, partial munmap, MAP_FIXED replacement, brk,
 * unjoined and still-running threads): pages_free comes back.
 */
void test_reclaim_mixed(void)
{
	struct vessel_stats s;
	uint64_t base;

	CHECK_EQ(ut_run_helper("mixed", NULL), EXITED(0)); /* warm-up */
	ut_stats(&s);
	base = s.pages_free;
	for (int round = 0; round < 4; round++)
		CHECK_EQ(ut_run_helper("mixed", NULL), EXITED(0));
	ut_stats(&s);
	if (s.pages_free + 4 < base)
		ut_fail(__FILE__, __LINE__, "pages leaked: %llu free before, %llu after 4 runs",
			(unsigned long long)base, (unsigned long long)s.pages_free);
}
