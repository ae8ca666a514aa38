// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"

#define COM1 VESSEL_COM1_PORT
#define THR  0 /* transmit holding (DLAB=0) */
#define RBR  0 /* receive buffer */
#define IER  1
#define FCR  2
#define LCR  3
#define MCR  4
#define LSR  5

#define LSR_DR	 0x01 /* data ready */
#define LSR_THRE 0x20 /* transmit holding register empty */

/*
 * Bytes that were already received when serial_init ran. Enabling the FIFOs
 * clears the receiver, and input may be waiting by then: QEMU puts the first
 * byte of piped input in RBR before the kernel starts, and refills RBR as
 * soon as it is read. Drain the receiver right before the FIFO enable and
 * hand those bytes out first; only input arriving in the few instructions
 * between the last read and the enable (or beyond 256 bytes) can be lost.
 */
static char held[256];
static unsigned held_head, held_count;

void serial_init(void)
{
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0x80); /* DLAB */
	outb(COM1 + 0, 1);	/* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + LCR, 0x03); /* 8N1 (DLAB off: offset 0 is RBR again) */
	/*
	 * Drain as the very last thing before the FIFO enable: every port
	 * access in between widens the window in which the next byte arrives
	 * and is cleared (QEMU delivers it as soon as RBR has been read).
	 */
	while (held_count < sizeof(held) && (inb(COM1 + LSR) & LSR_DR))
		held[(held_head + held_count++) % sizeof(held)] = (char)inb(COM1 + RBR);
	outb(COM1 + FCR, 0x07); /* enable + clear FIFOs */
	outb(COM1 + MCR, 0x0b); /* DTR, RTS, OUT2 (IRQ line enabled) */
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	/* the emulated UART is always ready; the loop bounds a real one */
	for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + THR, (uint8_t)c);
}

void serial_write(const char *s, unsigned long n)
{
	unsigned long i = 0;

	while (i < n) {
		/* THRE with FIFOs on: the 16-byte FIFO is empty; one LSR read per burst */
		int room = 16;

		for (int k = 0; k < 100000 && !(inb(COM1 + LSR) & LSR_THRE); k++)
			cpu_relax();
		while (room > 0 && i < n) {
			if (s[i] == '\n') {
				if (room < 2)
					break;
				outb(COM1 + THR, '\r');
				room--;
			}
			outb(COM1 + THR, (uint8_t)s[i++]);
			room--;
		}
	}
}

int serial_getc(void)
{
	if (held_count) {
		char c = held[held_head];

		held_head = (held_head + 1) % sizeof(held);
		held_count--;
		return (unsigned char)c;
	}
	if (!(inb(COM1 + LSR) & LSR_DR))
		return -1;
	return inb(COM1 + RBR);
}

void serial_enable_rx_irq(void)
{
	outb(COM1 + IER, 0x01);
}
