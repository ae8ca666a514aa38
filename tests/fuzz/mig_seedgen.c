// SPDX-License-Identifier: MIT
/*
 * Writes seed inputs for the fuzzers into DIR: valid migration streams (so
 * the fuzzer starts past the checksums) and valid control requests.
 * Usage: mig_seedgen DIR_STREAM DIR_CTL
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "migrate/stream.h"

static int stream(const char *path, int variant)
{
	struct mig_hello h = { .mem_size = 1u << 20, .nr_vcpus = 1, .page_size = MIG_PAGE_SIZE };
	static unsigned char page[MIG_PAGE_SIZE * 3];
	static const unsigned char pending[2] = { 0xf0, 0x01 };
	struct mig_writer w;
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || mig_writer_init(&w, fd, -1))
		return -1;
	for (unsigned i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)(variant ? i & 7 : i);
	mig_put_preamble(&w);
	mig_put_hello(&w, &h);
	mig_put_page(&w, 0, MIG_PAGE_DATA, MIG_POISON_NONE, page);
	mig_put_page(&w, 0x1000, MIG_PAGE_ZERO, MIG_POISON_NONE, NULL);
	mig_put_page(&w, 0x2000, MIG_PAGE_POISONED, MIG_POISON_KNOWN, NULL);
	if (variant) {
		mig_put_pass(&w, 1, 3, 0);
		mig_put_range(&w, MIG_PAGE_ZERO, 0x4000, 8);
		mig_put_range(&w, MIG_PAGE_FREE, 0x10000, 4);
		mig_put_page(&w, 0x3000, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL);
		mig_put_state(&w, MIG_STATE_VCPU, 0, "vcpu", 1, "regs....", 8);
		mig_put_state(&w, MIG_STATE_DEVICE, 0, "uart", 1, "u", 1);
		mig_put_pages(&w, 0x20000, 2, page);
	}
	if (variant == 3) { /* post-copy: pages 4-8 come after POSTCOPY */
		static const uint8_t token[MIG_TOKEN_LEN] = "0123456789abcdef";

		mig_put_channel(&w, MIG_CHANNEL_URGENT, token);
		mig_put_pending(&w, 0, 9, pending);
		mig_put_postcopy(&w, 5);
		mig_put_pages(&w, 0x4000, 2, page);
		mig_put_range(&w, MIG_PAGE_ZERO, 0x6000, 2);
		mig_put_page(&w, 0x8000, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL);
	}
	if (variant == 2)
		mig_put_msg(&w, MIG_REC_ABORT, 5, "test abort");
	else
		mig_put_end(&w);
	mig_flush(&w);
	mig_writer_free(&w);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const reqs[] = {
		"{\"command\":\"status\"}",
		"{\"command\":\"migrate\",\"uri\":\"tcp:127.0.0.1:4444\"}",
		"{\"command\":\"inject-ume\",\"gpa\":\"0x100000\"}",
		"{\"command\":\"inject-ume\",\"gpa\":4096}",
		"{\"command\":\"migrate-status\"}",
		"{\"command\":\"migrate\",\"uri\":\"tcp:127.0.0.1:4444\",\"postcopy\":true}",
		"{\"command\":\"migrate-start-postcopy\"}",
	};
	char p[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: mig_seedgen STREAM_DIR CTL_DIR\n");
		return 2;
	}
	for (int v = 0; v < 4; v++) {
		snprintf(p, sizeof(p), "%s/stream%d", argv[1], v);
		if (stream(p, v)) {
			perror(p);
			return 1;
		}
	}
	for (unsigned i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/req%u", argv[2], i);
		f = fopen(p, "w");
		if (!f) {
			perror(p);
			return 1;
		}
		fputs(reqs[i], f);
		fclose(f);
	}
	return 0;
}
