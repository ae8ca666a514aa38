// SPDX-License-Identifier: MIT
/* Unit tests: guest memory layout and the one gpa -> host pointer helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/guest_mem.h"
#include "core/iobus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM (16ull << 20)

static void test_sizes(void **state)
{
	struct gmem m;

	assert_int_equal(gmem_create(&m, 0), -EINVAL);
	assert_int_equal(gmem_create(&m, GMEM_MIN_SIZE - 4096), -EINVAL);
	assert_int_equal(gmem_create(&m, MEM + 1), -EINVAL);
	assert_int_equal(gmem_create(&m, GMEM_MAX_SIZE + 4096), -EINVAL);
	assert_int_equal(gmem_create(&m, MEM), 0);
	assert_int_equal(m.nr_regions, 1);
	assert_int_equal(m.regions[0].gpa, 0);
	assert_int_equal(m.regions[0].size, MEM);
	gmem_destroy(&m);
	gmem_destroy(&m); /* idempotent */
}

static void test_memfd_shared(void **state)
{
	struct gmem m;
	uint8_t *alias;

	assert_int_equal(gmem_create(&m, MEM), 0);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	/* a second MAP_SHARED mapping of the memfd sees the same bytes */
	alias = mmap(NULL, MEM, PROT_READ, MAP_SHARED, m.fd, 0);
	assert_true(alias != MAP_FAILED);
	*(uint32_t *)gmem_ptr(&m, 0x123000, 4) = 0xfeedf00d;
	assert_int_equal(*(uint32_t *)(alias + 0x123000), 0xfeedf00d);
	munmap(alias, MEM);
	gmem_destroy(&m);
}

/*
 * Another process's view (the sandboxed monitor's disks): gmem_attach maps
 * the same memfd with the same regions; what it writes lands in a shared
 * dirty bitmap that the owner's gmem_dirty_take() takes with its own; pages
 * the owner marks poisoned in a shared bitmap are refused there with
 * -EHWPOISON, before any byte is copied.
 */
static void test_attach_shared_bits(void **state)
{
	struct gmem owner, other;
	uint64_t words, *dirty, *poison;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, got[8];

	assert_int_equal(gmem_create(&owner, MEM), 0);
	assert_int_equal(gmem_attach(&other, dup(owner.fd), 4096), -EINVAL);
	assert_int_equal(gmem_attach(&other, dup(owner.fd), MEM), 0);
	assert_int_equal(other.nr_regions, owner.nr_regions);
	assert_int_equal(other.regions[0].size, owner.regions[0].size);
	words = gmem_dirty_words(&owner);
	assert_int_equal(words, MEM / 4096 / 64);
	dirty = calloc(words, sizeof(*dirty));
	poison = calloc(words, sizeof(*poison));
	gmem_dirty_share(&other, dirty);
	gmem_dirty_also(&owner, dirty);
	gmem_poison_also(&other, poison);

	/* a write there: the owner sees the bytes and the dirty page */
	assert_int_equal(gmem_write(&other, 0x5000 - 4, buf, 8), 0); /* two pages */
	assert_memory_equal(gmem_ptr(&owner, 0x5000 - 4, 8), buf, 8);
	assert_int_equal(gmem_dirty_take(&owner, 0), (1ull << 4) | (1ull << 5));
	assert_int_equal(gmem_dirty_take(&owner, 0), 0); /* taken */
	/* the owner's own writes count as before (tracking on) */
	assert_int_equal(gmem_dirty_track(&owner, true), 0);
	assert_int_equal(gmem_write(&owner, 64 * 4096, buf, 1), 0);
	assert_int_equal(gmem_write(&other, 65 * 4096, buf, 1), 0);
	assert_int_equal(gmem_dirty_take(&owner, 1), 3);

	/* page 7 poisoned by the owner: refused there, its neighbours are not */
	poison[0] |= 1ull << 7;
	assert_int_equal(gmem_read(&other, 7 * 4096 + 100, got, 1), -EHWPOISON);
	assert_int_equal(gmem_read(&other, 7 * 4096 - 4, got, 8), -EHWPOISON); /* straddles */
	memset(gmem_ptr(&owner, 8 * 4096, 8), 0xaa, 8);
	assert_int_equal(gmem_write(&other, 8 * 4096 - 4, buf, 8), -EHWPOISON);
	assert_int_equal(*(uint8_t *)gmem_ptr(&owner, 8 * 4096, 1), 0xaa); /* nothing written */
	assert_int_equal(gmem_read(&other, 6 * 4096, got, 8), 0);
	assert_int_equal(gmem_read(&owner, 7 * 4096, got, 8), 0); /* the owner's own view */

	gmem_destroy(&other); /* does not free the shared bitmaps */
	gmem_dirty_also(&owner, NULL);
	gmem_destroy(&owner);
	free(dirty);
	free(poison);
}

static void test_ptr_bounds(void **state)
{
	struct gmem m;

	assert_int_equal(gmem_create(&m, MEM), 0);
	assert_ptr_equal(gmem_ptr(&m, 0, 1), m.base);
	assert_ptr_equal(gmem_ptr(&m, MEM - 8, 8), m.base + MEM - 8);
	assert_ptr_equal(gmem_ptr(&m, 0, MEM), m.base);
	assert_null(gmem_ptr(&m, 0, 0));       /* empty range */
	assert_null(gmem_ptr(&m, MEM - 8, 9)); /* one byte past the end */
	assert_null(gmem_ptr(&m, MEM, 1));     /* starts at the end */
	assert_null(gmem_ptr(&m, 0, MEM + 1));
	assert_null(gmem_ptr(&m, 8, UINT64_MAX)); /* gpa + len wraps */
	assert_null(gmem_ptr(&m, UINT64_MAX, 2)); /* wraps to 0 */
	assert_null(gmem_ptr(&m, UINT64_MAX - 3, 8));
	assert_null(gmem_ptr(&m, 0xfee00000, 4)); /* LAPIC: not RAM */
	gmem_destroy(&m);
}

static void test_high_region(void **state)
{
	struct gmem m;
	uint64_t size = GMEM_LOW_LIMIT + (64ull << 20); /* 3 GiB + 64 MiB, sparse */

	assert_int_equal(gmem_create(&m, size), 0);
	assert_int_equal(m.nr_regions, 2);
	assert_int_equal(m.regions[0].size, GMEM_LOW_LIMIT);
	assert_int_equal(m.regions[1].gpa, GMEM_HIGH_BASE);
	assert_int_equal(m.regions[1].size, 64ull << 20);
	assert_int_equal(m.regions[1].offset, GMEM_LOW_LIMIT);
	assert_ptr_equal(gmem_ptr(&m, GMEM_HIGH_BASE, 1), m.base + GMEM_LOW_LIMIT);
	assert_non_null(gmem_ptr(&m, GMEM_LOW_LIMIT - 4, 4));
	assert_null(gmem_ptr(&m, GMEM_LOW_LIMIT - 4, 8)); /* runs into the hole */
	assert_null(gmem_ptr(&m, GMEM_LOW_LIMIT, 1));	  /* in the hole */
	assert_null(gmem_ptr(&m, GMEM_HIGH_BASE - 4, 8)); /* hole into high RAM */
	assert_null(gmem_ptr(&m, GMEM_HIGH_BASE + (64ull << 20), 1));
	gmem_destroy(&m);
}

static void test_strcpy(void **state)
{
	struct gmem m;
	char buf[16];

	assert_int_equal(gmem_create(&m, MEM), 0);
	strcpy(gmem_ptr(&m, 0x1000, 6), "hello");
	assert_int_equal(gmem_strcpy(&m, 0x1000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(gmem_strcpy(&m, 0x1000, buf, 6), 0); /* NUL is the 6th byte */
	assert_int_equal(gmem_strcpy(&m, 0x1000, buf, 5), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	memset(gmem_ptr(&m, MEM - 4, 4), 'A', 4); /* no NUL before the end of RAM */
	assert_int_equal(gmem_strcpy(&m, MEM - 4, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_strcpy(&m, MEM, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_strcpy(&m, UINT64_MAX, buf, sizeof(buf)), -EFAULT);
	*(char *)gmem_ptr(&m, MEM - 1, 1) = '\0';
	assert_int_equal(gmem_strcpy(&m, MEM - 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AAA");
	gmem_destroy(&m);
}

static void nop_io(void *opaque, struct io_access *acc, struct exit_result *res)
{
}

static void test_iobus(void **state)
{
	struct iobus bus = { 0 };
	int a, b, c;

	assert_int_equal(iobus_register(&bus, 0x3f8, 8, "com1", nop_io, &a), 0);
	assert_int_equal(iobus_register(&bus, 0x500, 0x40, "hc", nop_io, &b), 0);
	assert_int_equal(iobus_register(&bus, 0x40, 4, "pit", nop_io, &c), 0);
	assert_int_equal(iobus_register(&bus, 0x3ff, 1, "x", nop_io, NULL), -EEXIST);
	assert_int_equal(iobus_register(&bus, 0x3f0, 9, "x", nop_io, NULL), -EEXIST);
	assert_int_equal(iobus_register(&bus, 0x0, 0x1000, "x", nop_io, NULL), -EEXIST);
	assert_int_equal(iobus_register(&bus, 0x10, 0, "x", nop_io, NULL), -EINVAL);
	assert_int_equal(iobus_register(&bus, UINT64_MAX, 2, "x", nop_io, NULL), -EINVAL);
	assert_ptr_equal(iobus_find(&bus, 0x3f8, 1)->opaque, &a);
	assert_ptr_equal(iobus_find(&bus, 0x3fc, 4)->opaque, &a);
	assert_null(iobus_find(&bus, 0x3fe, 4)); /* straddles the end */
	assert_ptr_equal(iobus_find(&bus, 0x53c, 4)->opaque, &b);
	assert_ptr_equal(iobus_find(&bus, 0x43, 1)->opaque, &c);
	assert_null(iobus_find(&bus, 0x44, 1));
	assert_null(iobus_find(&bus, 0x3f7, 1));
	assert_null(iobus_find(&bus, 0x540, 1));
	iobus_free(&bus);
	assert_null(iobus_find(&bus, 0x3f8, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_memfd_shared),
		cmocka_unit_test(test_attach_shared_bits),
		cmocka_unit_test(test_ptr_bounds),
		cmocka_unit_test(test_high_region),
		cmocka_unit_test(test_strcpy),
		cmocka_unit_test(test_iobus),
	};

	return cmocka_run_group_tests_name("vmm_gmem", tests, NULL, NULL);
}
