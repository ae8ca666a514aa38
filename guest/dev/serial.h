/* SPDX-License-Identifier: MIT */
/* 16550 UART on COM1: the kernel console. */
#ifndef GUEST_DEV_SERIAL_H
#define GUEST_DEV_SERIAL_H

/*
 * Programs COM1 for 115200 8N1, leaving the FIFOs off so that input already
 * arriving is never flushed; safe to call again.
 */
void serial_init(void);
/* Writes one byte, waiting for the transmitter (LF is sent as CR LF). */
void serial_putc(char c);
/* Writes n bytes (LF as CR LF). */
void serial_write(const char *s, unsigned long n);
/* Returns the next received byte, or -1 if none is waiting. */
int serial_getc(void);
/* Enables the receive-data interrupt (routed by the IOAPIC). */
void serial_enable_rx_irq(void);

#endif
