// SPDX-License-Identifier: MIT
/*
 * Unit tests of hyper-callback registration and runs (vmm/hcb/), driven
 * through the real hypercall path (synthetic port exits on a VM built by
 * vm_new(): real guest memory, no KVM). The callbacks are the kernel's own
 * (the objects in build/guest/hcb/), run against bitmaps the test writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "hcb/hcb.h"
#include "vmm_hctest.h"

#include "abi/vessel.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM	(16ull << 20)
#define ARG	0x200000ull /* the registration struct */
#define PROG	0x210000ull /* program bytes */
#define BITMAP	0x300000ull /* a fake allocator bitmap: 1 = in use */
#define OWNERS	0x310000ull /* a fake page-owner table */
#define NAMES	0x330000ull /* a fake process-name table */
#define NFRAMES (MEM / 4096)

#ifndef HCB_OBJ_DIR
#define HCB_OBJ_DIR "build/guest/hcb"
#endif

static int setup_with(void **state, bool enabled)
{
	struct hctest *c = calloc(1, sizeof(*c));

	if (!c || hctest_new(c, 1, MEM) || hcb_attach(c->vm, enabled))
		return -1;
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, true);
}

static int setup_off(void **state)
{
	return setup_with(state, false);
}

static int teardown(void **state)
{
	hctest_free(*state);
	free(*state);
	return 0;
}

static void *g(struct hctest *c, uint64_t gpa, size_t len)
{
	return hctest_mem(c, gpa, len);
}

/* Issue VESSEL_HC_HCB_REGISTER with *a at ARG; returns the struct as written back. */
static struct vessel_hc_hcb_register *do_register(struct hctest *c,
						  const struct vessel_hc_hcb_register *a,
						  struct exit_result *res)
{
	struct vessel_hc_hcb_register *ga = g(c, ARG, sizeof(*a));

	*ga = *a;
	hctest_call(c, 0, VESSEL_HC_HCB_REGISTER, ARG, res);
	return ga;
}

/* Load a kernel callback object into guest memory at PROG; returns its size. */
static size_t load_obj(struct hctest *c, const char *name)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.o", HCB_OBJ_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (make guest builds it)", path);
	n = fread(g(c, PROG, 0x10000), 1, 0x10000, f);
	fclose(f);
	assert_true(n > 0);
	return n;
}

static struct vessel_hc_hcb_register free_pages_req(struct hctest *c)
{
	struct vessel_hc_hcb_register a = {
		.event = VESSEL_HCB_FREE_PAGES,
		.format = VESSEL_HCB_FMT_ELF,
		.prog_gpa = PROG,
		.prog_len = load_obj(c, "free_pages"),
		.params = { BITMAP, NFRAMES },
		.nr_ranges = 1,
		.ranges = { { BITMAP, 0x10000 } },
	};

	return a;
}

static void test_free_pages_callback(void **state)
{
	struct hctest *c = *state;
	struct vessel_hc_hcb_register a = free_pages_req(c);
	struct exit_result res;
	uint64_t *bitmap = g(c, BITMAP, NFRAMES / 8), map[NFRAMES / 64];
	int64_t n;

	assert_false(hcb_registered(c->vm, VESSEL_HCB_FREE_PAGES));
	assert_int_equal(hcb_free_pages(c->vm, map, NFRAMES, NULL), -ENOENT);
	assert_int_equal(do_register(c, &a, &res)->ret, 0);
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_true(hcb_registered(c->vm, VESSEL_HCB_FREE_PAGES));
	/* every frame in use but frames 5, 64..127 and the last one */
	memset(bitmap, 0xff, NFRAMES / 8);
	bitmap[0] &= ~(1ull << 5);
	bitmap[1] = 0;
	bitmap[NFRAMES / 64 - 1] &= ~(1ull << 63);
	memset(map, 0, sizeof(map));
	n = hcb_free_pages(c->vm, map, NFRAMES, NULL);
	assert_int_equal(n, 1 + 64 + 1);
	assert_true(map[0] == 1ull << 5 && map[1] == ~0ull && map[2] == 0);
	assert_true(map[NFRAMES / 64 - 1] == 1ull << 63);
	/* asked about fewer frames: nothing beyond them is reported */
	memset(map, 0, sizeof(map));
	assert_int_equal(hcb_free_pages(c->vm, map, 100, NULL), 1 + 36);
}

/* The range the callback may read does not cover the bitmap: it cannot
 * answer, and nothing is assumed free. */
static void test_read_outside_ranges(void **state)
{
	struct hctest *c = *state;
	struct vessel_hc_hcb_register a = free_pages_req(c);
	struct exit_result res;
	uint64_t map[NFRAMES / 64] = { 0 };

	a.ranges[0] = (struct vessel_hcb_range){ BITMAP + 0x8000, 0x1000 };
	memset(g(c, BITMAP, NFRAMES / 8), 0, NFRAMES / 8); /* "all free" */
	assert_int_equal(do_register(c, &a, &res)->ret, 0);
	assert_int_equal(hcb_free_pages(c->vm, map, NFRAMES, NULL), -EFAULT);
	for (unsigned i = 0; i < NFRAMES / 64; i++)
		assert_true(map[i] == 0);
}

static void test_page_owner_callback(void **state)
{
	struct hctest *c = *state;
	struct vessel_hc_hcb_register a = {
		.event = VESSEL_HCB_PAGE_OWNER,
		.format = VESSEL_HCB_FMT_ELF,
		.prog_gpa = PROG,
		.prog_len = load_obj(c, "page_owner"),
		.params = { BITMAP, NFRAMES, OWNERS, NAMES },
		.nr_ranges = 3,
		.ranges = { { BITMAP, NFRAMES / 8 }, { OWNERS, NFRAMES * 4 }, { NAMES, 64 * 20 } },
	};
	uint64_t *bitmap = g(c, BITMAP, NFRAMES / 8);
	int32_t *owners = g(c, OWNERS, NFRAMES * 4);
	uint8_t *names = g(c, NAMES, 64 * 20);
	struct vessel_hcb_owner o;
	struct exit_result res;
	char buf[64];
	int32_t pid = 7;

	assert_int_equal(do_register(c, &a, &res)->ret, 0);
	memset(bitmap, 0, NFRAMES / 8);
	bitmap[0] = 0x6; /* frames 1 and 2 in use */
	owners[2] = 7;
	memcpy(names + 3 * 20, &pid, 4);
	memcpy(names + 3 * 20 + 4, "memtest", 8);
	assert_int_equal(hcb_page_owner(c->vm, 0x0000, &o), 0);
	assert_string_equal(hcb_owner_text(&o, buf, sizeof(buf)), "free");
	assert_int_equal(hcb_page_owner(c->vm, 0x1234, &o), 0);
	assert_string_equal(hcb_owner_text(&o, buf, sizeof(buf)), "the kernel");
	assert_int_equal(hcb_page_owner(c->vm, 0x2000, &o), 0);
	assert_string_equal(hcb_owner_text(&o, buf, sizeof(buf)), "process 7 (memtest)");
}

/* rejected with a reason: bad bytes, helper misuse, bad ranges, bad sizes */
static void test_rejections(void **state)
{
	struct hctest *c = *state;
	/* r1 = r10 - 8; r2 = 64; r3 = 0; call read; r0 = 0; exit: a 64-byte
	 * write into an 8-byte corner of the stack */
	static const uint8_t misuse[] = {
		0xbf, 0xa1, 0, 0, 0, 0, 0, 0,		  0x07, 0x01, 0, 0, 0xf8, 0xff, 0xff, 0xff,
		0xb7, 0x02, 0, 0, 64, 0, 0, 0,		  0xb7, 0x03, 0, 0, 0, 0, 0, 0,
		0x85, 0x00, 0, 0, 1, 0, 0, 0,		  0xb7, 0x00, 0, 0, 0, 0, 0, 0,
		0x95, 0, 0, 0, 0, 0, 0, 0,
	};
	struct vessel_hc_hcb_register a = { .event = VESSEL_HCB_FREE_PAGES,
					    .format = VESSEL_HCB_FMT_RAW,
					    .prog_gpa = PROG };
	struct vessel_hc_hcb_register *r;
	struct exit_result res;

	memset(g(c, PROG, 16), 0xff, 16); /* not instructions */
	a.prog_len = 16;
	r = do_register(c, &a, &res);
	assert_int_equal(r->ret, -EINVAL);
	assert_true(r->err_insn == 0 && r->msg[0]);

	memcpy(g(c, PROG, sizeof(misuse)), misuse, sizeof(misuse));
	a.prog_len = sizeof(misuse);
	r = do_register(c, &a, &res);
	assert_int_equal(r->ret, -EINVAL);
	assert_int_equal(r->err_insn, 4); /* the call */

	a.nr_ranges = 1;
	a.ranges[0] = (struct vessel_hcb_range){ MEM - 0x1000, 0x2000 };
	r = do_register(c, &a, &res);
	assert_int_equal(r->ret, -EINVAL);
	assert_non_null(strstr(r->msg, "is not guest RAM"));

	a.nr_ranges = 0;
	a.prog_len = VESSEL_HCB_MAX_PROG + 8;
	assert_int_equal(do_register(c, &a, &res)->ret, -E2BIG);
	a.prog_len = 8;
	a.event = 99;
	assert_int_equal(do_register(c, &a, &res)->ret, -EINVAL);
	a.event = VESSEL_HCB_FREE_PAGES;
	a.prog_gpa = MEM; /* outside RAM */
	r = do_register(c, &a, &res);
	assert_int_equal(r->ret, -EINVAL);
	assert_non_null(strstr(r->msg, "not guest RAM"));
	assert_false(hcb_registered(c->vm, VESSEL_HCB_FREE_PAGES));
	assert_int_equal(res.action, EXIT_CONTINUE); /* a bad request never stops the VM */
}

/* policy: a later registration replaces an earlier one, unless that was final */
static void test_replace_and_final(void **state)
{
	struct hctest *c = *state;
	struct vessel_hc_hcb_register a = free_pages_req(c);
	struct exit_result res;
	struct hcb_counts n;

	assert_int_equal(do_register(c, &a, &res)->ret, 0);
	a.flags = VESSEL_HCB_F_FINAL;
	assert_int_equal(do_register(c, &a, &res)->ret, 0); /* replaces, now final */
	a.flags = 0;
	assert_int_equal(do_register(c, &a, &res)->ret, -EPERM);
	hcb_counts(c->vm, &n);
	assert_true(n.accepted == 2 && n.refused == 1);
}

static void test_disabled(void **state)
{
	struct hctest *c = *state;
	struct vessel_hc_hcb_register a = free_pages_req(c);
	struct vessel_hc_hcb_register *r;
	struct exit_result res;

	r = do_register(c, &a, &res);
	assert_int_equal(r->ret, -EPERM);
	assert_non_null(strstr(r->msg, "disabled"));
	assert_false(hcb_registered(c->vm, VESSEL_HCB_FREE_PAGES));
}

/* Random registration requests and program bytes: every one gets an answer
 * (an errno the ABI lists), none stops the VM or the VMM. */
static void test_random_requests(void **state)
{
	struct hctest *c = *state;
	struct exit_result res;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct vessel_hc_hcb_register *r;

	for (int i = 0; i < 3000; i++) {
		struct vessel_hc_hcb_register a;
		uint8_t *p = (uint8_t *)&a, *prog = g(c, PROG, 512);

		for (size_t k = 0; k < sizeof(a); k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			p[k] = (uint8_t)x;
		}
		for (size_t k = 0; k < 512; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			prog[k] = (uint8_t)x;
		}
		/* half the time, plausible fields so the verifier sees the bytes */
		if (i & 1) {
			a.event = 1 + (uint32_t)(x % 2);
			a.format = (uint32_t)(x >> 8) % 2;
			a.flags = 0;
			a.prog_gpa = PROG;
			a.prog_len = 8 + (x >> 16) % 504;
			a.nr_ranges = (uint32_t)(x >> 32) % 3;
		}
		r = do_register(c, &a, &res);
		assert_int_equal(res.action, EXIT_CONTINUE);
		assert_true(r->ret == 0 || r->ret == -EINVAL || r->ret == -E2BIG ||
			    r->ret == -EPERM || r->ret == -ENOMEM);
		assert_true(memchr(r->msg, '\0', sizeof(r->msg)) != NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_pages_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_outside_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_owner_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled, setup_off, teardown),
		cmocka_unit_test_setup_teardown(test_random_requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
