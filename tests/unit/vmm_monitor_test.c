// SPDX-License-Identifier: MIT
/*
 * Unit tests of the monitor's policy tables (vmm/monitor/policy.c): every
 * vCPU state field, every KVM exit reason, every port and MMIO address and
 * every hypercall number has an explicit entry; the routing decision on
 * synthetic exits; and the shared-memory ring (vmm/monitor/ring.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "monitor/policy.h"
#include "monitor/ring.h"

#include "abi/vessel.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

static void test_every_field_has_an_entry(void **state)
{
	for (unsigned f = 0; f < MF_NR; f++) {
		const struct mon_field_rule *r = mon_field_rule(f);

		assert_non_null(r);
		if (!r->set || !r->name)
			fail_msg("field %u has no entry in the policy table", f);
		for (unsigned g = 0; g < f; g++)
			if (!strcmp(mon_field_rule(g)->name, r->name))
				fail_msg("fields %u and %u are both named %s", g, f, r->name);
		if (r->cls == MFC_MSR) {
			assert_true(r->msr != 0);
			for (unsigned g = 0; g < f; g++)
				if (mon_field_rule(g)->cls == MFC_MSR &&
				    mon_field_rule(g)->msr == r->msr)
					fail_msg("MSR %#x listed twice", r->msr);
		}
		/* a field the monitor may write but not read would be a blind write */
		assert_true(!r->write || r->read);
	}
	assert_null(mon_field_rule(MF_NR));
	assert_false(mon_may_read(MF_NR));
	assert_false(mon_may_write(MF_NR));
	assert_false(mon_may_read(~0u));
}

/* What moves control flow, the address space or privilege stays with the core. */
static void test_field_policy_principle(void **state)
{
	static const unsigned never_written[] = { MF_RIP,	   MF_RSP,	   MF_RFLAGS,
						  MF_CS,	   MF_SS,	   MF_TR,
						  MF_CR0,	   MF_CR3,	   MF_CR4,
						  MF_EFER,	   MF_APIC_BASE,   MF_EXC_INJECTED,
						  MF_IRQ_INJECTED, MF_NMI_INJECTED };
	static const unsigned never_read[] = { MF_CR3,	     MF_CR2,	   MF_GDTR_BASE,
					       MF_IDTR_BASE, MF_MSR_LSTAR, MF_MSR_KERNEL_GS_BASE };

	for (unsigned i = 0; i < sizeof(never_written) / sizeof(never_written[0]); i++)
		assert_false(mon_may_write(never_written[i]));
	for (unsigned i = 0; i < sizeof(never_read) / sizeof(never_read[0]); i++)
		assert_false(mon_may_read(never_read[i]));
	for (unsigned f = 0; f < MF_NR; f++)
		if (mon_field_rule(f)->cls == MFC_MSR || mon_field_rule(f)->cls == MFC_SEG ||
		    mon_field_rule(f)->cls == MFC_CR)
			assert_false(mon_may_write(f));
	/* what a device needs: the exit's data, result registers, the mode */
	assert_true(mon_may_write(MF_IO_DATA));
	assert_true(mon_may_read(MF_IO_DATA));
	assert_true(mon_may_write(MF_RAX));
	assert_true(mon_may_read(MF_RIP));
	assert_true(mon_may_read(MF_CR0));
	assert_true(mon_may_read(MF_EFER));
}

static void test_every_exit_reason_has_an_entry(void **state)
{
	for (unsigned r = 0; r < MON_EXIT_REASONS; r++)
		if (mon_reason_route(r) == ROUTE_NONE)
			fail_msg("KVM exit reason %u has no entry", r);
	/* the table ends at the last reason this kernel header knows */
	assert_int_equal(MON_EXIT_REASONS - 1, KVM_EXIT_NOTIFY);
#ifdef KVM_EXIT_MEMORY_FAULT
	fail_msg("linux/kvm.h has KVM_EXIT_MEMORY_FAULT: add it (and its successors) to the table");
#endif
	assert_int_equal(mon_reason_route(MON_EXIT_REASONS), ROUTE_NONE);
	/* only port I/O and MMIO can reach a device model */
	for (unsigned r = 0; r < MON_EXIT_REASONS; r++)
		if (r != KVM_EXIT_IO && r != KVM_EXIT_MMIO)
			assert_int_equal(mon_reason_route(r), ROUTE_CORE);
}

/* rules in order, no gap, no overlap, from 0 to `end` (0: 2^64) */
static void check_tiling(const struct mon_range_rule *r, unsigned nr, uint64_t end)
{
	uint64_t at = 0;

	assert_true(nr > 0);
	for (unsigned i = 0; i < nr; i++) {
		if (r[i].base != at)
			fail_msg("rule %u (%s) starts at %#llx, expected %#llx", i, r[i].what,
				 (unsigned long long)r[i].base, (unsigned long long)at);
		assert_true(r[i].len > 0);
		assert_true(r[i].route == ROUTE_CORE || r[i].route == ROUTE_MONITOR);
		assert_non_null(r[i].what);
		at = r[i].base + r[i].len;
	}
	assert_true(at == end);
}

static void test_ports_and_mmio_tile_their_space(void **state)
{
	unsigned nr;
	const struct mon_range_rule *p = mon_port_rules(&nr);

	check_tiling(p, nr, 0x10000);
	p = mon_mmio_rules(&nr);
	check_tiling(p, nr, 0); /* up to 2^64, which wraps to 0 */
}

static void test_every_hypercall_has_an_entry(void **state)
{
	for (unsigned n = 0; n < VESSEL_HC_NR; n++) {
		if (mon_hypercall_route(n) == ROUTE_NONE)
			fail_msg("hypercall %u has no entry", n);
		/* power, CPUs, memory, migration, eBPF: all the core's */
		assert_int_equal(mon_hypercall_route(n), ROUTE_CORE);
	}
	assert_int_equal(mon_hypercall_route(VESSEL_HC_NR), ROUTE_NONE);
}

static enum mon_route pio(uint16_t port, uint8_t size)
{
	struct kvm_run run;

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_IO;
	run.io.port = port;
	run.io.size = size;
	run.io.count = 1;
	return mon_route_exit(&run);
}

static void test_route_exit(void **state)
{
	struct kvm_run run;

	assert_int_equal(pio(VESSEL_COM1_PORT, 1), ROUTE_MONITOR);
	assert_int_equal(pio(VESSEL_COM1_PORT + 7, 1), ROUTE_MONITOR);
	assert_int_equal(pio(VESSEL_COM1_PORT + 4, 4), ROUTE_MONITOR);
	assert_int_equal(pio(VESSEL_COM1_PORT + 6, 4), ROUTE_CORE); /* straddles */
	assert_int_equal(pio(VESSEL_COM1_PORT - 1, 1), ROUTE_CORE);
	assert_int_equal(pio(VESSEL_COM1_PORT + 8, 1), ROUTE_CORE);
	assert_int_equal(pio(VESSEL_HC_PORT_BASE + VESSEL_HC_POWEROFF, 4), ROUTE_CORE);
	assert_int_equal(pio(VESSEL_HC_PORT_BASE + VESSEL_HC_PORT_COUNT - 1, 4), ROUTE_CORE);
	assert_int_equal(pio(0x80, 1), ROUTE_CORE);
	assert_int_equal(pio(0xffff, 1), ROUTE_CORE);

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_MMIO;
	run.mmio.phys_addr = VESSEL_VIRTIO_MMIO_BASE;
	run.mmio.len = 4;
	assert_int_equal(mon_route_exit(&run), ROUTE_MONITOR); /* the disks run there */
	run.mmio.phys_addr =
		VESSEL_VIRTIO_MMIO_BASE + VESSEL_VIRTIO_MMIO_STRIDE * VESSEL_VIRTIO_MMIO_MAX - 8;
	run.mmio.len = 8;
	assert_int_equal(mon_route_exit(&run), ROUTE_MONITOR); /* the last slot's end */
	run.mmio.len = 4;
	run.mmio.phys_addr = VESSEL_VIRTIO_MMIO_BASE - 4;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE); /* RAM's end */
	run.mmio.phys_addr = VESSEL_VIRTIO_MMIO_BASE - 2;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE); /* straddles */
	run.mmio.phys_addr =
		VESSEL_VIRTIO_MMIO_BASE + VESSEL_VIRTIO_MMIO_STRIDE * VESSEL_VIRTIO_MMIO_MAX;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE); /* past the window */
	run.mmio.phys_addr = ~0ull - 1;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE);
	run.exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE);
	run.exit_reason = KVM_EXIT_INTR;
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE);
	run.exit_reason = 1000; /* unknown: the core faults it */
	assert_int_equal(mon_route_exit(&run), ROUTE_CORE);
}

static void test_ring(void **state)
{
	struct mon_ring *r = calloc(1, sizeof(*r));
	struct mon_msg m = { 0 }, got;

	assert_true(mon_ring_empty(r));
	assert_false(mon_ring_take(r, &got));
	for (unsigned i = 0; i < MON_RING_SLOTS; i++) {
		m.a = i;
		assert_int_equal(mon_ring_post(r, &m), 0);
	}
	assert_int_equal(mon_ring_post(r, &m), -EAGAIN); /* full */
	for (unsigned i = 0; i < MON_RING_SLOTS; i++) {
		assert_true(mon_ring_take(r, &got));
		assert_int_equal(got.a, i); /* in order */
	}
	assert_true(mon_ring_empty(r));
	/* wrap-around of the 32-bit indices */
	r->head = r->tail = 0xfffffffeu;
	for (unsigned i = 0; i < 3; i++) {
		m.a = 100 + i;
		assert_int_equal(mon_ring_post(r, &m), 0);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_true(mon_ring_take(r, &got));
		assert_int_equal(got.a, 100 + i);
	}
	/* a producer claiming more than a ring's worth is lying: nothing taken */
	r->tail = 0;
	r->head = MON_RING_SLOTS + 1;
	assert_false(mon_ring_take(r, &got));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_has_an_entry),
		cmocka_unit_test(test_field_policy_principle),
		cmocka_unit_test(test_every_exit_reason_has_an_entry),
		cmocka_unit_test(test_ports_and_mmio_tile_their_space),
		cmocka_unit_test(test_every_hypercall_has_an_entry),
		cmocka_unit_test(test_route_exit),
		cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests_name("vmm_monitor", tests, NULL, NULL);
}
