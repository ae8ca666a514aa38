// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the migration stream receiver (reader + state machine),
 * exactly as the destination runs it, on arbitrary bytes. The sink checks the
 * receiver's promises: addresses are page aligned and below the cap, DATA pages carry data and
 * others do not, state names are clean. Any violation aborts (a finding), as do ASan/UBSan reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/recv.h"
#include "migrate/stream.h"

#define FUZZ_MEM (1u << 20)

static uint8_t mem[FUZZ_MEM];

static int f_hello(void *ctx, const struct mig_hello *h, char *err, size_t errlen)
{
	/* destination with 1 MiB: refuse others, as the VMM would */
	if (h->mem_size == FUZZ_MEM)
		return 0;
	snprintf(err, errlen, "wrong memory size");
	return -22;
}

static int f_page(void *ctx, uint64_t gpa, uint32_t kind, uint32_t origin, const uint8_t *data,
		  char *err, size_t errlen)
{
	if (gpa % MIG_PAGE_SIZE || gpa >= MIG_MAX_MEM)
		abort();
	if (gpa >= FUZZ_MEM) {
		snprintf(err, errlen, "not RAM"); /* the VMM's own check */
		return -34;
	}
	if ((kind == MIG_PAGE_DATA) != (data != NULL))
		abort();
	if (kind == MIG_PAGE_DATA)
		memcpy(mem + gpa, data, MIG_PAGE_SIZE);
	else if (kind == MIG_PAGE_ZERO || kind == MIG_PAGE_FREE)
		memset(mem + gpa, 0, MIG_PAGE_SIZE);
	else if (kind != MIG_PAGE_POISONED || origin == 0)
		abort();
	if (kind != MIG_PAGE_POISONED && origin != 0)
		abort(); /* only POISONED pages carry an origin */
	return 0;
}

static int f_state(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	volatile uint8_t sum = 0;

	if (!rec->u.state.name[0] || strlen(rec->u.state.name) > MIG_STATE_NAME_LEN ||
	    rec->u.state.len > MIG_STATE_MAX)
		abort();
	for (uint32_t i = 0; i < rec->u.state.len; i++)
		sum += rec->u.state.data[i];
	return 0;
}

static const struct mig_recv_ops ops = { .hello = f_hello, .page = f_page, .state = f_state };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_reader r;
	char err[256];

	mig_reader_init_mem(&r, data, size);
	err[0] = 0;
	if (mig_recv_stream(&r, &ops, NULL, NULL, err, sizeof(err)) != 0 && !err[0])
		abort(); /* every failure must say why */
	mig_reader_free(&r);
	return 0;
}
