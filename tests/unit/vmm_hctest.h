/* SPDX-License-Identifier: MIT */
/*
 * Helpers for unit tests that issue hypercalls through the real dispatch
 * path without KVM: a VM from vm_new() (guest memory, buses, vCPU objects)
 * and synthetic port-I/O exits handed to exit_dispatch(). Include after
 * <cmocka.h>.
 */
#ifndef TESTS_UNIT_VMM_HCTEST_H
#define TESTS_UNIT_VMM_HCTEST_H

#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

struct hctest {
	struct vm *vm;
	struct kvm_run *run; /* the synthetic exit, with room for its I/O data */
};

static inline void hctest_no_log(void *opaque, const char *line)
{
	(void)opaque, (void)line;
}

/* hctest_new - a VM of `cpus` vCPUs and mem bytes of RAM, no KVM. 0 or -1. */
static inline int hctest_new(struct hctest *c, unsigned cpus, uint64_t mem)
{
	struct vm_config cfg = { .cpus = cpus, .mem_size = mem, .log = hctest_no_log };
	char err[256];

	c->run = calloc(1, 8192);
	return c->run && !vm_new(&c->vm, &cfg, err, sizeof(err)) ? 0 : -1;
}

/* hctest_free - destroy the VM (hooks detached) and the exit page. */
static inline void hctest_free(struct hctest *c)
{
	vm_destroy(c->vm);
	free(c->run);
	c->vm = NULL;
	c->run = NULL;
}

/* hctest_mem - host pointer to guest RAM [gpa, gpa + len) (fails the test if outside). */
static inline void *hctest_mem(struct hctest *c, uint64_t gpa, size_t len)
{
	void *p = gmem_ptr(&c->vm->mem, gpa, len);

	assert_non_null(p);
	return p;
}

/* hctest_call - hypercall nr from vCPU `vcpu` with its argument at gpa. */
static inline void hctest_call(struct hctest *c, unsigned vcpu, unsigned nr, uint64_t gpa,
			       struct exit_result *res)
{
	uint32_t g = (uint32_t)gpa;

	memset(c->run, 0, sizeof(*c->run));
	c->run->exit_reason = KVM_EXIT_IO;
	c->run->io.direction = KVM_EXIT_IO_OUT;
	c->run->io.size = 4;
	c->run->io.port = (uint16_t)(VESSEL_HC_PORT_BASE + nr);
	c->run->io.count = 1;
	c->run->io.data_offset = 4096;
	memcpy((uint8_t *)c->run + 4096, &g, 4);
	exit_dispatch(c->vm, c->vm->vcpus[vcpu], c->run, res);
}

#endif
