/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART register model (COM1 of the VM). Transmit is instantaneous
 * (THR empty at all times); receive has the 16-byte FIFO of the real chip.
 * The IRQ output follows the interrupt-pending state (the OUT2 gate of a PC
 * is not modelled, like QEMU). Thread-safe: vCPU threads access registers
 * while the console thread feeds input.
 *
 * Input is accepted only once the guest is ready to receive: after it has
 * enabled the receive-data interrupt (IER bit 0) or the FIFOs (FCR bit 0).
 * A driver's initialisation clears the FIFO, so without this gate anything
 * piped in before the guest's driver ran ("printf 'poweroff\n' | vessel run")
 * would be lost; the console keeps it on the host side until then.
 */
#ifndef VMM_DEV_SERIAL_H
#define VMM_DEV_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SERIAL_FIFO_SIZE  16u
#define SERIAL_STATE_SIZE 40u /* bytes written by serial_save() */

/* Register offsets from the base port */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI	  0x01
#define UART_IER_THRI	  0x02
#define UART_IER_RLSI	  0x04
#define UART_IER_MSI	  0x08
#define UART_IIR_NO_INT	  0x01
#define UART_IIR_THRI	  0x02
#define UART_IIR_RDI	  0x04
#define UART_IIR_RLSI	  0x06
#define UART_IIR_FIFO	  0xc0
#define UART_LCR_DLAB	  0x80
#define UART_MCR_LOOP	  0x10
#define UART_LSR_DR	  0x01
#define UART_LSR_OE	  0x02
#define UART_LSR_THRE	  0x20
#define UART_LSR_TEMT	  0x40
#define UART_FCR_ENABLE	  0x01
#define UART_FCR_CLEAR_RX 0x02

struct serial_callbacks {
	void (*tx)(void *opaque, uint8_t byte); /* a byte written to THR */
	void (*irq)(void *opaque, int level);	/* IRQ line changed */
	void (*rx_space)(void *opaque);		/* the guest freed FIFO space */
	void *opaque;
};

struct serial;

/* serial_new - a UART in its reset state. NULL on allocation failure. */
struct serial *serial_new(const struct serial_callbacks *cb);

/* serial_free - free it (NULL is fine). */
void serial_free(struct serial *s);

/*
 * serial_access - one register access at `offset` (0..7): a write of *val
 * or a read into *val. Out-of-range offsets read 0xff and ignore writes.
 */
void serial_access(struct serial *s, unsigned offset, bool write, uint8_t *val);

/*
 * serial_receive - bytes arriving on the line: up to the free FIFO space is
 * taken (none before the guest is ready to receive, none in loopback mode);
 * returns how many. Raises the receive interrupt if enabled.
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* serial_rx_space - free bytes in the receive FIFO (0 until ready to receive). */
size_t serial_rx_space(struct serial *s);

/* serial_irq_level - the current IRQ output (for tests). */
int serial_irq_level(struct serial *s);

/*
 * serial_save - write the register state and FIFO contents (SERIAL_STATE_SIZE
 * bytes: magic, version, then fields); -ENOSPC if cap is too small.
 */
ssize_t serial_save(struct serial *s, void *buf, size_t cap);

/*
 * serial_restore - validate a saved state (magic, version, size, field
 * ranges) and apply it; -EINVAL leaves the UART unchanged. The IRQ line is
 * re-driven from the restored state.
 */
int serial_restore(struct serial *s, const void *buf, size_t len);

#endif
