// SPDX-License-Identifier: MIT
#include "lib/errno.h"
#include "lib/linedisc.h"

void ld_init(struct linedisc *ld)
{
	ld->head = ld->tail = 0;
	ld->line_len = 0;
}

static void commit(struct linedisc *ld, char end)
{
	for (uint32_t i = 0; i < ld->line_len; i++) {
		if (ld->tail - ld->head < LD_RING_SIZE)
			ld->ring[ld->tail++ % LD_RING_SIZE] = ld->line[i];
	}
	if (ld->tail - ld->head < LD_RING_SIZE)
		ld->ring[ld->tail++ % LD_RING_SIZE] = end;
	ld->line_len = 0;
}

int ld_input(struct linedisc *ld, char c, char echo[3], int *events)
{
	*events = 0;
	if (c == '\r')
		c = '\n';
	if (c == 0x08 || c == 0x7f) {
		if (!ld->line_len)
			return 0;
		ld->line_len--;
		echo[0] = '\b', echo[1] = ' ', echo[2] = '\b';
		return 3;
	}
	if (c == LD_INTR) {
		ld->line_len = 0;
		ld->head = ld->tail; /* type-ahead goes too */
		*events = LD_INTERRUPT;
		echo[0] = '^', echo[1] = 'C', echo[2] = '\n';
		return 3;
	}
	if (c == LD_EOF || c == '\n') {
		commit(ld, c);
		*events = LD_COMMITTED;
		echo[0] = '\n';
		return c == '\n';
	}
	if ((unsigned char)c < 0x20 && c != '\t')
		return 0;
	ld->line[ld->line_len++] = c;
	echo[0] = c;
	if (ld->line_len == LD_LINE_MAX) {
		commit(ld, LD_EOF); /* overlong: deliver what we have, no newline */
		*events = LD_COMMITTED;
	}
	return 1;
}

int ld_blank_line(struct linedisc *ld)
{
	if (ld->line_len)
		return 0;
	commit(ld, '\n');
	return 1;
}

int ld_readable(const struct linedisc *ld)
{
	return ld->head != ld->tail;
}

int64_t ld_read(struct linedisc *ld, char *buf, uint64_t len)
{
	uint64_t n = 0;
	int ended = 0;

	if (ld->head == ld->tail)
		return -EAGAIN;
	while (ld->head != ld->tail && n < len) {
		char c = ld->ring[ld->head % LD_RING_SIZE];

		ld->head++;
		if (c == LD_EOF) {
			ended = 1;
			break;
		}
		buf[n++] = c;
		if (c == '\n') {
			ended = 1;
			break;
		}
	}
	/* buffer full right where a Ctrl-D ended the line: the marker goes too */
	if (!ended && ld->head != ld->tail && ld->ring[ld->head % LD_RING_SIZE] == LD_EOF)
		ld->head++;
	return (int64_t)n;
}
