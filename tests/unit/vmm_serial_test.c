// SPDX-License-Identifier: MIT
/* Unit tests: the 16550A register model, its IRQ output, and save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/serial.h"

#include <errno.h>
#include <string.h>

struct line {
	uint8_t tx[64];
	unsigned ntx;
	int irq;
	unsigned irq_changes;
	unsigned space_notes;
};

static void tx(void *o, uint8_t b)
{
	struct line *l = o;

	l->tx[l->ntx++ % sizeof(l->tx)] = b;
}

static void irq(void *o, int level)
{
	struct line *l = o;

	l->irq = level;
	l->irq_changes++;
}

static void space(void *o)
{
	((struct line *)o)->space_notes++;
}

static struct serial *make(struct line *l)
{
	struct serial_callbacks cb = { .tx = tx, .irq = irq, .rx_space = space, .opaque = l };

	memset(l, 0, sizeof(*l));
	return serial_new(&cb);
}

static uint8_t rd(struct serial *s, unsigned off)
{
	uint8_t v = 0;

	serial_access(s, off, false, &v);
	return v;
}

static void wr(struct serial *s, unsigned off, uint8_t v)
{
	serial_access(s, off, true, &v);
}

static void test_reset_state(void **state)
{
	struct line l;
	struct serial *s = make(&l);

	assert_int_equal(rd(s, UART_IER), 0);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(s, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(s, UART_MSR), 0xb0);
	assert_int_equal(rd(s, 8), 0xff); /* beyond the 8 registers */
	assert_int_equal(l.irq_changes, 0);
	serial_free(s);
}

static void test_transmit_and_dlab(void **state)
{
	struct line l;
	struct serial *s = make(&l);

	wr(s, UART_THR, 'A');
	wr(s, UART_LCR, UART_LCR_DLAB | 0x03);
	wr(s, UART_DLL, 1); /* 115200 baud: not transmitted */
	wr(s, UART_DLM, 0);
	assert_int_equal(rd(s, UART_DLL), 1);
	wr(s, UART_LCR, 0x03);
	wr(s, UART_THR, 'B');
	assert_int_equal(l.ntx, 2);
	assert_memory_equal(l.tx, "AB", 2);
	assert_int_equal(rd(s, UART_LCR), 0x03);
	wr(s, UART_SCR, 0x5a);
	assert_int_equal(rd(s, UART_SCR), 0x5a);
	serial_free(s);
}

static void test_receive_irq(void **state)
{
	struct line l;
	struct serial *s = make(&l);
	uint8_t buf[20];

	assert_int_equal(serial_rx_space(s), 0);
	assert_int_equal(serial_receive(s, (const uint8_t *)"hi", 2), 0); /* not ready yet */
	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX); /* driver init: now ready */
	assert_int_equal(serial_receive(s, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(l.irq, 0); /* receive interrupt not enabled */
	assert_true(rd(s, UART_LSR) & UART_LSR_DR);
	wr(s, UART_IER, UART_IER_RDI);
	assert_int_equal(l.irq, 1);
	assert_int_equal(rd(s, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(rd(s, UART_RBR), 'h');
	assert_int_equal(l.irq, 1);
	assert_int_equal(rd(s, UART_RBR), 'i');
	assert_int_equal(l.irq, 0); /* FIFO empty: line drops */
	assert_false(rd(s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(s, UART_RBR), 0);
	assert_true(l.space_notes >= 2);

	/* the FIFO holds 16 bytes; the rest stays with the caller */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(serial_rx_space(s), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_receive(s, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_rx_space(s), 0);
	wr(s, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(serial_rx_space(s), SERIAL_FIFO_SIZE);
	assert_int_equal(rd(s, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	serial_free(s);
}

static void test_rx_gate_ier(void **state)
{
	struct line l;
	struct serial *s = make(&l);

	wr(s, UART_IER, 0); /* IER written, but not the receive interrupt */
	assert_int_equal(serial_receive(s, (const uint8_t *)"a", 1), 0);
	wr(s, UART_IER, UART_IER_RDI);
	wr(s, UART_IER, 0); /* stays open once the guest asked for input */
	assert_int_equal(serial_receive(s, (const uint8_t *)"a", 1), 1);
	assert_int_equal(l.irq, 0);
	wr(s, UART_IER, UART_IER_RDI); /* pending data: the line rises at once */
	assert_int_equal(l.irq, 1);
	serial_free(s);
}

static void test_thr_interrupt(void **state)
{
	struct line l;
	struct serial *s = make(&l);

	wr(s, UART_IER, UART_IER_THRI); /* THR is empty: interrupt at once */
	assert_int_equal(l.irq, 1);
	assert_int_equal(rd(s, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(l.irq, 0); /* reading IIR acknowledged it */
	assert_int_equal(rd(s, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	wr(s, UART_THR, 'z');
	assert_int_equal(l.irq, 1);
	/* receive data has priority over THR empty */
	wr(s, UART_IER, UART_IER_THRI | UART_IER_RDI);
	serial_receive(s, (const uint8_t *)"q", 1);
	assert_int_equal(rd(s, UART_IIR) & 0x0f, UART_IIR_RDI);
	rd(s, UART_RBR);
	assert_int_equal(rd(s, UART_IIR) & 0x0f, UART_IIR_THRI);
	serial_free(s);
}

static void test_loopback(void **state)
{
	struct line l;
	struct serial *s = make(&l);

	wr(s, UART_MCR, UART_MCR_LOOP | 0x0b); /* loop, DTR, RTS, OUT2 */
	assert_int_equal(rd(s, UART_MSR), 0x20 | 0x10 | 0x80);
	wr(s, UART_THR, 0x42);
	assert_int_equal(l.ntx, 0); /* nothing on the line */
	assert_int_equal(rd(s, UART_RBR), 0x42);
	assert_int_equal(serial_receive(s, (const uint8_t *)"x", 1), 0); /* line disconnected */
	for (int i = 0; i < 17; i++)
		wr(s, UART_THR, (uint8_t)i);
	assert_true(rd(s, UART_LSR) & UART_LSR_OE);
	assert_false(rd(s, UART_LSR) & UART_LSR_OE); /* cleared by reading */
	serial_free(s);
}

static void test_save_restore_roundtrip(void **state)
{
	struct line l1, l2;
	struct serial *a = make(&l1), *b;
	uint8_t blob[64], blob2[64];
	ssize_t n;

	wr(a, UART_LCR, UART_LCR_DLAB);
	wr(a, UART_DLL, 3);
	wr(a, UART_DLM, 1);
	wr(a, UART_LCR, 0x1b);
	wr(a, UART_MCR, 0x0b);
	wr(a, UART_SCR, 0x77);
	wr(a, UART_FCR, UART_FCR_ENABLE);
	wr(a, UART_IER, UART_IER_RDI);
	assert_int_equal(serial_receive(a, (const uint8_t *)"abcdefghijklmnop", 16), 16);
	rd(a, UART_RBR); /* FIFO head moves: the saved order must follow */
	assert_int_equal(serial_receive(a, (const uint8_t *)"Q", 1), 1);
	assert_int_equal(serial_save(a, blob, 8), -ENOSPC);
	n = serial_save(a, blob, sizeof(blob));
	assert_int_equal(n, SERIAL_STATE_SIZE);

	b = make(&l2);
	assert_int_equal(serial_restore(b, blob, (size_t)n), 0);
	assert_int_equal(l2.irq, 1); /* the line is re-driven from the restored state */
	assert_int_equal(serial_save(b, blob2, sizeof(blob2)), n);
	assert_memory_equal(blob, blob2, (size_t)n);
	assert_int_equal(rd(b, UART_LCR), 0x1b);
	assert_int_equal(rd(b, UART_MCR), 0x0b);
	assert_int_equal(rd(b, UART_SCR), 0x77);
	assert_int_equal(rd(b, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	for (const char *p = "bcdefghijklmnopQ"; *p; p++)
		assert_int_equal(rd(b, UART_RBR), *p);
	assert_int_equal(l2.irq, 0);
	assert_int_equal(serial_receive(b, (const uint8_t *)"z", 1), 1); /* rx_open restored */
	wr(b, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(b, UART_DLL), 3);
	assert_int_equal(rd(b, UART_DLM), 1);
	serial_free(a);
	serial_free(b);
}

static void test_restore_rejects(void **state)
{
	struct line l;
	struct serial *s = make(&l), *t;
	uint8_t blob[64], bad[64];
	ssize_t n;

	t = make(&l);
	wr(t, UART_SCR, 9);
	n = serial_save(t, blob, sizeof(blob));
	wr(s, UART_SCR, 1);
	assert_int_equal(serial_restore(s, blob, (size_t)n - 1), -EINVAL); /* truncated */
	memcpy(bad, blob, (size_t)n);
	bad[0] ^= 1; /* magic */
	assert_int_equal(serial_restore(s, bad, (size_t)n), -EINVAL);
	memcpy(bad, blob, (size_t)n);
	bad[4] = 2; /* version */
	assert_int_equal(serial_restore(s, bad, (size_t)n), -EINVAL);
	memcpy(bad, blob, (size_t)n);
	bad[17] = SERIAL_FIFO_SIZE + 1; /* rx_len */
	assert_int_equal(serial_restore(s, bad, (size_t)n), -EINVAL);
	memcpy(bad, blob, (size_t)n);
	bad[8] = 0xf0; /* IER reserved bits */
	assert_int_equal(serial_restore(s, bad, (size_t)n), -EINVAL);
	assert_int_equal(rd(s, UART_SCR), 1); /* unchanged after every rejection */
	assert_int_equal(serial_restore(s, blob, (size_t)n), 0);
	assert_int_equal(rd(s, UART_SCR), 9);
	serial_free(s);
	serial_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_transmit_and_dlab),
		cmocka_unit_test(test_receive_irq),
		cmocka_unit_test(test_rx_gate_ier),
		cmocka_unit_test(test_thr_interrupt),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_save_restore_roundtrip),
		cmocka_unit_test(test_restore_rejects),
	};

	return cmocka_run_group_tests_name("vmm_serial", tests, NULL, NULL);
}
