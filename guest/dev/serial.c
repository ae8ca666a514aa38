// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/cpu.h"
#include "dev/serial.h"

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
 * The FIFOs stay as the loader left them (off after reset). Switching them on
 * clears the receiver, and input may already be arriving then: QEMU puts the
 * first byte of piped input in RBR before the kernel starts and delivers the
 * next one as soon as RBR is read, so any FIFO enable can drop a byte. With
 * the FIFOs off, a byte waits in RBR and the sender (QEMU, the Vessel VMM)
 * holds the rest until it is read: nothing is lost. The price is one
 * line-status read per transmitted byte instead of one per 16.
 */
void serial_init(void)
{
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0x80); /* DLAB */
	outb(COM1 + 0, 1);	/* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + LCR, 0x03); /* 8N1 (DLAB off: offset 0 is RBR again) */
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
	for (unsigned long i = 0; i < n; i++)
		serial_putc(s[i]);
}

int serial_getc(void)
{
	if (!(inb(COM1 + LSR) & LSR_DR))
		return -1;
	return inb(COM1 + RBR);
}

void serial_enable_rx_irq(void)
{
	outb(COM1 + IER, 0x01);
}
