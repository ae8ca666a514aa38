/* SPDX-License-Identifier: MIT */
/* Host side of the search-trampoline tests and benchmark: a code page for emitted code. */
#ifndef BENCH_JUMPSWITCH_PAGE_H
#define BENCH_JUMPSWITCH_PAGE_H

/*
 * Maps one readable, writable and executable page within rel32 reach of
 * `code` (a few hundred MiB below it), so that emitted direct jumps reach
 * the program's functions. Returns it (munmap 4096 bytes to free), or NULL.
 */
void *jsw_code_page_near(const void *code);

#endif
