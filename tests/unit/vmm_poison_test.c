// SPDX-License-Identifier: MIT
/*
 * Unit tests of the memory-error machinery with REAL poison: pages of a
 * MAP_SHARED memfd mapping (how the VMM holds guest RAM) are poisoned with
 * UFFDIO_POISON, then read through the memory-exception-safe copy. The
 * process must survive and report the page. Skipped (not passed) where the
 * kernel lacks UFFDIO_POISON.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/poison.h"
#include "core/safecopy.h"
#include "core/uffd.h"

#define PAGE   4096u
#define NPAGES 64u

static int have_poison;
static char probe_err[256];

/* A SIGBUS handler installed before safe_copy_init(): must still get the
 * faults that are not inside a safe copy. */
static sigjmp_buf outer_jb;
static volatile sig_atomic_t outer_armed, outer_hits;
static volatile uintptr_t outer_addr;

static void outer_handler(int sig, siginfo_t *si, void *uc)
{
	outer_hits++;
	outer_addr = (uintptr_t)si->si_addr;
	if (outer_armed) {
		outer_armed = 0;
		siglongjmp(outer_jb, 1);
	}
	_exit(99);
}

struct guest {
	int fd;
	uint8_t *mem;
};

static void guest_map(struct guest *g)
{
	g->fd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_true(g->fd >= 0);
	assert_int_equal(ftruncate(g->fd, NPAGES * PAGE), 0);
	g->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	assert_true(g->mem != MAP_FAILED);
	for (unsigned i = 0; i < NPAGES * PAGE; i++)
		g->mem[i] = (uint8_t)(i * 13 + 1);
}

static void guest_unmap(struct guest *g)
{
	munmap(g->mem, NPAGES * PAGE);
	close(g->fd);
}

static void poison(struct guest *g, unsigned page)
{
	char err[256];
	int rc = uffd_poison(g->mem + page * PAGE, g->fd, (off_t)page * PAGE, err, sizeof(err));

	if (rc)
		fail_msg("poisoning page %u: %s", page, err);
}

/* cmocka swaps in its own SIGBUS handler around each test function (not
 * around setup), so every test re-asserts ours first. */
#define NEED_POISON()                                                                              \
	do {                                                                                       \
		assert_int_equal(safe_copy_init(), 0);                                          \
		if (!have_poison) {                                                                \
			print_message("# SKIP %s\n", probe_err);                                   \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void test_set_basic(void **state)
{
	struct poison_set ps;

	assert_int_equal(poison_set_init(&ps, 1ull << 30), 0);
	assert_false(poison_set_contains(&ps, 0x5000));
	assert_int_equal(poison_set_add(&ps, 0x5123), 1);
	assert_int_equal(poison_set_add(&ps, 0x5000), 0);
	assert_true(poison_set_contains(&ps, 0x5fff));
	assert_false(poison_set_contains(&ps, 0x6000));
	assert_false(poison_set_contains(&ps, 0x4fff));
	assert_int_equal(poison_set_add(&ps, (1ull << 30) - 1), 1);
	assert_int_equal(poison_set_add(&ps, 1ull << 30), -ERANGE);
	assert_false(poison_set_contains(&ps, 1ull << 40));
	assert_int_equal(poison_set_count(&ps), 2);
	assert_int_equal(poison_set_next(&ps, 0), 0x5000);
	assert_int_equal(poison_set_next(&ps, 0x5000), 0x5000);
	assert_int_equal(poison_set_next(&ps, 0x5001), (1ull << 30) - PAGE);
	assert_int_equal(poison_set_next(&ps, 1ull << 30), POISON_NONE);
	poison_set_free(&ps);
	assert_int_equal(poison_set_init(&ps, 0), -EINVAL);
}

struct adder {
	struct poison_set *ps;
	unsigned base;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;

	for (unsigned i = 0; i < 4096; i++)
		poison_set_add(a->ps, (uint64_t)((i * 7 + a->base) % 8192) * PAGE);
	return NULL;
}

/* Concurrent adders: the count equals the number of distinct pages. */
static void test_set_concurrent(void **state)
{
	struct poison_set ps;
	struct adder a[4];
	pthread_t t[4];
	uint64_t n = 0;

	assert_int_equal(poison_set_init(&ps, 8192ull * PAGE), 0);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct adder){ &ps, (unsigned)i * 1000 };
		pthread_create(&t[i], NULL, add_many, &a[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (uint64_t g = poison_set_next(&ps, 0); g != POISON_NONE;
	     g = poison_set_next(&ps, g + 1))
		n++;
	assert_int_equal(n, poison_set_count(&ps));
	assert_true(n > 4096);
	poison_set_free(&ps);
}

static void test_copy_clean(void **state)
{
	struct guest g;
	uint8_t bounce[PAGE];

	assert_int_equal(safe_copy_init(), 0);
	guest_map(&g);
	for (unsigned p = 0; p < NPAGES; p++) {
		assert_int_equal(safe_copy(bounce, g.mem + p * PAGE, PAGE, NULL), 0);
		assert_memory_equal(bounce, g.mem + p * PAGE, PAGE);
	}
	guest_unmap(&g);
}

/* The headline: a read of a really poisoned page reports it, we survive. */
static void test_copy_poisoned(void **state)
{
	struct guest g;
	uint8_t bounce[PAGE];
	unsigned long before = safe_copy_recovered();
	void *bad = NULL;

	NEED_POISON();
	guest_map(&g);
	poison(&g, 5);
	assert_int_equal(safe_copy(bounce, g.mem + 4 * PAGE, PAGE, NULL), 0);
	assert_int_equal(safe_copy(bounce, g.mem + 5 * PAGE, PAGE, &bad), -EHWPOISON);
	assert_true((uintptr_t)bad >= (uintptr_t)(g.mem + 5 * PAGE) &&
		    (uintptr_t)bad < (uintptr_t)(g.mem + 6 * PAGE));
	/* the neighbours are intact, and the poison stays */
	assert_int_equal(safe_copy(bounce, g.mem + 6 * PAGE, PAGE, NULL), 0);
	assert_int_equal(bounce[0], (uint8_t)(6 * PAGE * 13 + 1));
	assert_int_equal(safe_copy(bounce, g.mem + 5 * PAGE, PAGE, &bad), -EHWPOISON);
	/* a copy spanning pages stops at the poisoned one */
	{
		static uint8_t big[4 * PAGE];

		assert_int_equal(safe_copy(big, g.mem + 3 * PAGE, 4 * PAGE, &bad), -EHWPOISON);
		assert_true((uintptr_t)bad >= (uintptr_t)(g.mem + 5 * PAGE));
	}
	assert_int_equal(safe_copy_recovered() - before, 3);
	guest_unmap(&g);
}

/* The poison is a property of our mapping: the memfd keeps a real page
 * there, also where the page was a hole before, so a reader that treats
 * holes as zero pages (the migration sender) cannot miss the poison. */
static void test_poison_keeps_a_page(void **state)
{
	struct guest g;
	uint8_t b, bounce[PAGE];
	off_t data;

	NEED_POISON();
	guest_map(&g);
	poison(&g, 7);
	assert_int_equal(pread(g.fd, &b, 1, 7 * PAGE + 10), 1);
	assert_int_equal(b, (uint8_t)((7 * PAGE + 10) * 13 + 1));
	/* a page never written (a hole) that gets poisoned becomes data */
	assert_int_equal(ftruncate(g.fd, (NPAGES + 8) * PAGE), 0);
	assert_int_equal(lseek(g.fd, NPAGES * PAGE, SEEK_DATA), -1);
	{
		uint8_t *m2 = mmap(NULL, (NPAGES + 8) * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
				   g.fd, 0);
		char err[256];

		assert_true(m2 != MAP_FAILED);
		assert_int_equal(uffd_poison(m2 + (NPAGES + 2) * PAGE, g.fd,
						 (off_t)(NPAGES + 2) * PAGE, err, sizeof(err)),
				 0);
		data = lseek(g.fd, NPAGES * PAGE, SEEK_DATA);
		assert_int_equal(data, (off_t)(NPAGES + 2) * PAGE);
		assert_int_equal(safe_copy(bounce, m2 + (NPAGES + 2) * PAGE, PAGE, NULL),
				 -EHWPOISON);
		munmap(m2, (NPAGES + 8) * PAGE);
	}
	guest_unmap(&g);
}

static void *copy_in_thread(void *arg)
{
	uint8_t *src = arg, bounce[PAGE];
	void *bad;

	return (void *)(intptr_t)safe_copy(bounce, src, PAGE, &bad);
}

/* Recovery is per thread: a worker thread's copy recovers too. */
static void test_copy_other_thread(void **state)
{
	struct guest g;
	pthread_t t;
	void *ret;

	NEED_POISON();
	guest_map(&g);
	poison(&g, 9);
	pthread_create(&t, NULL, copy_in_thread, g.mem + 9 * PAGE);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, -EHWPOISON);
	pthread_create(&t, NULL, copy_in_thread, g.mem + 10 * PAGE);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, 0);
	guest_unmap(&g);
}

/* A SIGBUS outside any safe copy goes to the handler installed before. */
static void test_chain_outside_copy(void **state)
{
	struct guest g;
	volatile uint8_t x;

	NEED_POISON();
	guest_map(&g);
	poison(&g, 11);
	{
		struct sigaction sa = { .sa_sigaction = outer_handler,
					.sa_flags = SA_SIGINFO | SA_NODEFER };

		sigaction(SIGBUS, &sa, NULL);
		assert_int_equal(safe_copy_init(), 0);
	}
	outer_hits = 0;
	if (sigsetjmp(outer_jb, 1) == 0) {
		outer_armed = 1;
		x = g.mem[11 * PAGE + 1];
		(void)x;
		fail_msg("read of a poisoned page did not fault");
	}
	assert_int_equal(outer_hits, 1);
	assert_true(outer_addr >= (uintptr_t)(g.mem + 11 * PAGE) &&
		    outer_addr < (uintptr_t)(g.mem + 12 * PAGE));
	guest_unmap(&g);
}

/* Re-poisoning on the destination: a page that holds data is poisoned again
 * (page first sent as DATA, later POISONED) and really faults afterwards. */
static void test_repoison_written_page(void **state)
{
	struct guest g;
	uint8_t bounce[PAGE];
	char err[256];

	NEED_POISON();
	guest_map(&g);
	memset(g.mem + 20 * PAGE, 0x5a, PAGE);
	poison(&g, 20);
	assert_int_equal(safe_copy(bounce, g.mem + 20 * PAGE, PAGE, NULL), -EHWPOISON);
	/* poisoning it again is harmless and it stays poisoned */
	assert_int_equal(uffd_poison(g.mem + 20 * PAGE, g.fd, 20 * PAGE, err, sizeof(err)), 0);
	assert_int_equal(safe_copy(bounce, g.mem + 20 * PAGE, PAGE, NULL), -EHWPOISON);
	assert_int_equal(safe_copy(bounce, g.mem + 21 * PAGE, PAGE, NULL), 0);
	assert_int_equal(uffd_poison(g.mem + 1, -1, 0, err, sizeof(err)), -EINVAL);
	guest_unmap(&g);
}

/* Anonymous memory works too (fd = -1). */
static void test_poison_anonymous(void **state)
{
	uint8_t *m, bounce[PAGE];
	char err[256];

	NEED_POISON();
	m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(m, 1, 4 * PAGE);
	assert_int_equal(uffd_poison(m + PAGE, -1, 0, err, sizeof(err)), 0);
	assert_int_equal(safe_copy(bounce, m + PAGE, PAGE, NULL), -EHWPOISON);
	assert_int_equal(safe_copy(bounce, m, PAGE, NULL), 0);
	munmap(m, 4 * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_basic),
		cmocka_unit_test(test_set_concurrent),
		cmocka_unit_test(test_copy_clean),
		cmocka_unit_test(test_copy_poisoned),
		cmocka_unit_test(test_poison_keeps_a_page),
		cmocka_unit_test(test_copy_other_thread),
		cmocka_unit_test(test_chain_outside_copy),
		cmocka_unit_test(test_repoison_written_page),
		cmocka_unit_test(test_poison_anonymous),
	};
	have_poison = uffd_probe(probe_err, sizeof(probe_err)) == 0;
	return cmocka_run_group_tests_name("mig_poison", tests, NULL, NULL);
}
