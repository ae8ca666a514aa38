// SPDX-License-Identifier: MIT
#include "kernel/counters.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "lib/string.h"

void counters_sum(struct counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < smp_cpu_count(); i++) {
		const uint64_t *src = (const uint64_t *)&cpus[i].cnt;
		uint64_t *dst = (uint64_t *)out;

		for (uint64_t k = 0; k < sizeof(*out) / 8; k++)
			dst[k] += src[k];
	}
}
