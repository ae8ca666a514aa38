// SPDX-License-Identifier: MIT
/*
 * Unit tests of the VMM's page-table trace (vmm/pttrace/) through the real
 * hypercall path (exit_dispatch with synthetic port-I/O exits, no KVM):
 * registration and drain rules, a marked workload boundary, the rest of the
 * buffers recovered at teardown, and the file read back by the model's
 * validating reader (tools/sptmodel/trace.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "pttrace/pttrace.h"
#include "trace.h"
#include "vmm_hctest.h"

#include "abi/vessel.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEM   (16ull << 20)
#define ARG   0x200000ull /* the hypercall argument */
#define BUF0  0x300000ull /* cpu 0's buffer */
#define BUF1  0x310000ull /* cpu 1's buffer */
#define BUFSZ 0x1000ull	  /* 127 records */

struct ctx {
	struct hctest h; /* h.vm, h.run */
	char path[64];
};

static int setup_with(void **state, bool trace)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || hctest_new(&c->h, 2, MEM))
		return -1;
	snprintf(c->path, sizeof(c->path), "/tmp/vmm-pttrace-%d", (int)getpid());
	if (trace && pttrace_attach(c->h.vm, c->path))
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
	struct ctx *c = *state;

	hctest_free(&c->h);
	unlink(c->path);
	free(c);
	return 0;
}

static void *g(struct ctx *c, uint64_t gpa, size_t len)
{
	return hctest_mem(&c->h, gpa, len);
}

/* VESSEL_HC_PTTRACE from vCPU `from`; returns ret as the VMM wrote it. */
static int64_t hc(struct ctx *c, unsigned from, uint32_t op, uint32_t cpu, uint64_t buf,
		  uint64_t size, struct exit_result *res)
{
	struct vessel_hc_pttrace *a = g(c, ARG, sizeof(*a));

	*a = (struct vessel_hc_pttrace){ op, cpu, buf, size, 12345 };
	hctest_call(&c->h, from, VESSEL_HC_PTTRACE, ARG, res);
	return a->ret;
}

static void init_buf(struct ctx *c, uint64_t gpa, uint32_t cap)
{
	struct vessel_pttrace_buf *b = g(c, gpa, BUFSZ);

	memset(b, 0, BUFSZ);
	b->cap = cap;
}

/* The guest appends n records (kind CR3, new_val = tag + i) to its buffer. */
static void fill(struct ctx *c, uint64_t gpa, uint16_t cpu, uint32_t n, uint64_t tag, uint32_t *seq)
{
	struct vessel_pttrace_buf *b = g(c, gpa, BUFSZ);
	struct vessel_pt_rec *r = (struct vessel_pt_rec *)(b + 1);

	for (uint32_t i = 0; i < n; i++)
		r[b->count++] =
			(struct vessel_pt_rec){ 0, 0, tag + i, (*seq)++, VESSEL_PT_CR3, 0, cpu };
}

static void test_no_trace(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;
	char err[128];

	init_buf(c, BUF0, 127);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, BUFSZ, &res), -ENODEV);
	assert_int_equal(res.action, EXIT_CONTINUE);
	assert_int_equal(pttrace_mark(c->h.vm, "x", err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "--pt-trace"));
}

static void test_register_rules(void **state)
{
	struct ctx *c = *state;
	struct exit_result res;

	init_buf(c, BUF0, 127);
	init_buf(c, BUF1, 128); /* one record too many for BUFSZ */
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 2, BUF0, BUFSZ, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0 + 8, BUFSZ, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, MEM - 0x800, BUFSZ, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, 32, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 1, BUF1, BUFSZ, &res), -EINVAL);
	assert_int_equal(hc(c, 0, 7, 0, BUF0, BUFSZ, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, BUFSZ, &res), 0);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, BUFSZ, &res), -EBUSY);
	assert_int_equal(res.action, EXIT_CONTINUE);
	/* draining: only a CPU's own, registered buffer */
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_DRAIN, 1, 0, 0, &res), -EINVAL);
	assert_int_equal(hc(c, 1, VESSEL_PTTRACE_DRAIN, 0, 0, 0, &res), -EINVAL);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_DRAIN, 0, 0, 0, &res), 0);
	assert_int_equal(res.action, EXIT_CONTINUE);
}

static void test_broken_count_faults(void **state)
{
	struct ctx *c = *state;
	struct vessel_pttrace_buf *b = g(c, BUF0, BUFSZ);
	struct exit_result res;

	init_buf(c, BUF0, 127);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, BUFSZ, &res), 0);
	b->count = 128; /* more than its capacity: a broken guest */
	hc(c, 0, VESSEL_PTTRACE_DRAIN, 0, 0, 0, &res);
	assert_int_equal(res.action, EXIT_FAULT);
	assert_non_null(strstr(res.msg, "count above capacity"));
	b->count = 0; /* teardown reads it again */
}

/*
 * cpu 0 fills its buffer and drains it; both CPUs add records; a mark
 * takes them all; more records wait in the buffers when the VM is
 * destroyed: the teardown recovers them. The file has two segments with
 * every record once, in seq order.
 */
static void test_drain_mark_recover(void **state)
{
	struct ctx *c = *state;
	struct vessel_pttrace_buf *b0 = g(c, BUF0, BUFSZ), *b1 = g(c, BUF1, BUFSZ);
	struct pttrace_counts pc;
	struct exit_result res;
	struct ptr_trace t;
	uint32_t seq = 0;
	char err[256];

	init_buf(c, BUF0, 127);
	init_buf(c, BUF1, 127);
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_REGISTER, 0, BUF0, BUFSZ, &res), 0);
	assert_int_equal(hc(c, 1, VESSEL_PTTRACE_REGISTER, 1, BUF1, BUFSZ, &res), 0);
	fill(c, BUF0, 0, 127, 0x1000, &seq);
	b0->lost = 3;
	assert_int_equal(hc(c, 0, VESSEL_PTTRACE_DRAIN, 0, 0, 0, &res), 0);
	assert_int_equal(b0->count, 0);
	assert_int_equal(b0->lost, 0);
	fill(c, BUF1, 1, 5, 0x2000, &seq);
	fill(c, BUF0, 0, 5, 0x3000, &seq);
	assert_int_equal(pttrace_mark(c->h.vm, "first", err, sizeof(err)), 0);
	assert_int_equal(b1->count, 0);
	assert_int_equal(pttrace_counts(c->h.vm, &pc), 0);
	assert_int_equal(pc.records, 137);
	assert_int_equal(pc.lost, 3);
	assert_int_equal(pc.marks, 1);
	assert_int_equal(pc.buffers, 2);
	fill(c, BUF0, 0, 2, 0x4000, &seq);
	fill(c, BUF1, 1, 2, 0x5000, &seq);

	hctest_free(&c->h); /* detach: the rest, a mark "end", END */
	assert_int_equal(ptr_read_file(c->path, &t, err, sizeof(err)), 0);
	assert_true(t.complete);
	assert_true(t.recovered);
	assert_int_equal(t.cpus, 2);
	assert_int_equal(t.mem_size, MEM);
	assert_int_equal(t.records, 141);
	assert_int_equal(t.lost, 3);
	assert_int_equal(t.nseg, 2);
	assert_string_equal(t.seg[0].name, "first");
	assert_string_equal(t.seg[1].name, "end");
	assert_int_equal(t.seg[0].nrec, 137);
	assert_int_equal(t.seg[1].nrec, 4);
	for (size_t i = 0; i < t.seg[0].nrec; i++)
		assert_int_equal(t.seg[0].rec[i].seq, i);
	assert_int_equal(t.seg[0].rec[127].new_val, 0x2000); /* cpu 1 came first */
	assert_int_equal(t.seg[0].rec[132].new_val, 0x3000);
	assert_int_equal(t.seg[1].rec[0].new_val, 0x4000);
	assert_int_equal(t.seg[1].rec[3].new_val, 0x5001);
	ptr_free(&t);
}

static void test_bad_path(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(pttrace_attach(c->h.vm, "/nonexistent/dir/t"), -ENOENT);
	assert_non_null(strstr(c->h.vm->err, "--pt-trace /nonexistent/dir/t"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_trace, setup_off, teardown),
		cmocka_unit_test_setup_teardown(test_register_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_count_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_mark_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_path, setup_off, teardown),
	};

	return cmocka_run_group_tests_name("vmm_pttrace", tests, NULL, NULL);
}
