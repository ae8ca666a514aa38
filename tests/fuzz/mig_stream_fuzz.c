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

static int f_pages(void *ctx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
		   size_t errlen)
{
	if (gpa % MIG_PAGE_SIZE || !npages || npages > MIG_RUN_MAX || !data ||
	    gpa + (uint64_t)npages * MIG_PAGE_SIZE > MIG_MAX_MEM)
		abort();
	if (gpa + (uint64_t)npages * MIG_PAGE_SIZE > FUZZ_MEM) {
		snprintf(err, errlen, "not RAM");
		return -34;
	}
	memcpy(mem + gpa, data, (size_t)npages * MIG_PAGE_SIZE);
	return 0;
}

static int f_range(void *ctx, uint64_t gpa, uint64_t npages, uint32_t kind, char *err,
		   size_t errlen)
{
	if (gpa % MIG_PAGE_SIZE || !npages || npages > (MIG_MAX_MEM - gpa) / MIG_PAGE_SIZE ||
	    (kind != MIG_PAGE_ZERO && kind != MIG_PAGE_FREE))
		abort();
	if (gpa + npages * MIG_PAGE_SIZE > FUZZ_MEM) {
		snprintf(err, errlen, "not RAM");
		return -34;
	}
	memset(mem + gpa, 0, npages * MIG_PAGE_SIZE);
	return 0;
}

static int f_pending(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	uint64_t n = rec->u.pending.npages;
	volatile uint8_t sum = 0;

	if (rec->u.pending.gpa % MIG_PAGE_SIZE || !n || n > MIG_PENDING_MAX ||
	    rec->u.pending.gpa + n * MIG_PAGE_SIZE > MIG_MAX_MEM)
		abort();
	for (uint64_t i = 0; i < (n + 7) / 8; i++)
		sum += rec->u.pending.bitmap[i];
	if (n % 8 && rec->u.pending.bitmap[n / 8] >> (n % 8))
		abort();
	return 0;
}

/* a CHANNEL record reaches the destination only with a kind the reader knows */
static int f_channel(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	volatile uint8_t sum = 0;

	if (rec->u.channel.kind != MIG_CHANNEL_URGENT)
		abort();
	for (unsigned i = 0; i < MIG_TOKEN_LEN; i++)
		sum += rec->u.channel.token[i];
	return 0;
}

/* even inputs: a destination that takes PAGES runs and post-copy; odd: page by page */
static const struct mig_recv_ops ops = { .hello = f_hello,
					 .page = f_page,
					 .pages = f_pages,
					 .range = f_range,
					 .state = f_state,
					 .pending = f_pending,
					 .channel = f_channel };
static const struct mig_recv_ops ops_plain = { .hello = f_hello, .page = f_page, .state = f_state };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_reader r;
	char err[256];

	mig_reader_init_mem(&r, data, size);
	err[0] = 0;
	if (mig_recv_stream(&r, size % 2 ? &ops_plain : &ops, NULL, NULL, err, sizeof(err)) != 0 &&
	    !err[0])
		abort(); /* every failure must say why */
	mig_reader_free(&r);
	return 0;
}
