/* SPDX-License-Identifier: MIT */
/*
 * The console line discipline of docs/syscalls.md ("Console"), without any
 * device or locking: input bytes go in one at a time (with what to echo
 * coming out), whole lines come out of reads. The kernel's console driver
 * wraps it; host unit tests drive it directly.
 */
#ifndef GUEST_LIB_LINEDISC_H
#define GUEST_LIB_LINEDISC_H

#include <stdint.h>

#define LD_RING_SIZE 4096 /* committed input */
#define LD_LINE_MAX  256  /* the line being edited */

struct linedisc {
	char ring[LD_RING_SIZE]; /* committed lines, each ended by '\n' or LD_EOF */
	uint32_t head, tail;	 /* read at head, write at tail (free-running) */
	char line[LD_LINE_MAX];
	uint32_t line_len;
};

#define LD_EOF	0x04 /* Ctrl-D: ends a line without delivering a byte */
#define LD_INTR 0x03 /* Ctrl-C: interrupt */

/* What ld_input reports in *events (bits). */
#define LD_COMMITTED 1 /* a line (or EOF) was completed: readers may get data */
#define LD_INTERRUPT 2 /* Ctrl-C: interrupt the foreground programs */

/* Empties everything. */
void ld_init(struct linedisc *ld);
/*
 * Takes one input byte. Writes the bytes to echo into echo[0..3) and returns
 * how many (0..3); *events gets LD_COMMITTED and/or LD_INTERRUPT (0: none).
 * '\r' counts as '\n'; backspace/DEL erase (echo "\b \b"); Ctrl-C
 * (LD_INTR) discards the line being edited and every committed byte not read
 * yet, as a terminal does on an interrupt, echoes "^C\n" and reports
 * LD_INTERRUPT; other control bytes except tab are dropped; a line reaching
 * LD_LINE_MAX is committed without a newline. When the ring is full, further
 * committed bytes are dropped.
 */
int ld_input(struct linedisc *ld, char c, char echo[3], int *events);
/*
 * Commits an empty line ("\n", no echo) if no line is being edited, so a
 * reader wakes up and, if it is a shell, prompts again. Returns 1 if it
 * did, 0 if a line is being edited (it is left alone).
 */
int ld_blank_line(struct linedisc *ld);
/* 1 if a read would not block (a committed line or EOF is waiting). */
int ld_readable(const struct linedisc *ld);
/*
 * Reads up to len (> 0) bytes of the next committed line, up to and
 * including its '\n'. Returns the count, 0 for end of file (Ctrl-D at the
 * start of a line), or -EAGAIN when nothing is committed. The rest of a line
 * longer than len stays for the next read.
 */
int64_t ld_read(struct linedisc *ld, char *buf, uint64_t len);

#endif
