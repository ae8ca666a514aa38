// SPDX-License-Identifier: MIT
#include "dev/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_MAGIC   0x30353531u /* "1550" */
#define SERIAL_VERSION 1u

struct serial {
	pthread_mutex_t lock;
	struct serial_callbacks cb;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t lsr_oe;	      /* overrun seen, cleared by reading LSR */
	uint8_t thr_ipending; /* THR-empty interrupt latched */
	uint8_t irq_level;
	uint8_t rx_open; /* the guest is ready to receive (see serial.h) */
	uint8_t rx_head, rx_len;
	uint8_t rx[SERIAL_FIFO_SIZE];
};

static void reset(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->scr = 0;
	s->dll = 12; /* 9600 baud */
	s->dlm = 0;
	s->fcr = 0;
	s->lsr_oe = 0;
	s->thr_ipending = 0;
	s->irq_level = 0;
	s->rx_open = 0;
	s->rx_head = 0;
	s->rx_len = 0;
}

struct serial *serial_new(const struct serial_callbacks *cb)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	if (cb)
		s->cb = *cb;
	reset(s);
	return s;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RLSI) && s->lsr_oe)
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_len)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* called with the lock held, after every state change */
static void update_irq(struct serial *s)
{
	uint8_t level = !(iir(s) & UART_IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->cb.irq)
			s->cb.irq(s->cb.opaque, level);
	}
}

static size_t rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && s->rx_len < SERIAL_FIFO_SIZE) {
		s->rx[(s->rx_head + s->rx_len) % SERIAL_FIFO_SIZE] = buf[n++];
		s->rx_len++;
	}
	return n;
}

static uint8_t msr(const struct serial *s)
{
	uint8_t m = 0;

	if (!(s->mcr & UART_MCR_LOOP))
		return 0xb0; /* DCD, DSR, CTS: a terminal is always there */
	if (s->mcr & 0x01)
		m |= 0x20; /* DTR -> DSR */
	if (s->mcr & 0x02)
		m |= 0x10; /* RTS -> CTS */
	if (s->mcr & 0x04)
		m |= 0x40; /* OUT1 -> RI */
	if (s->mcr & 0x08)
		m |= 0x80; /* OUT2 -> DCD */
	return m;
}

static void write_reg(struct serial *s, unsigned off, uint8_t v, bool *notify_space, int *tx)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab) {
			s->dll = v;
			break;
		}
		if (s->mcr & UART_MCR_LOOP) {
			if (!rx_push(s, &v, 1))
				s->lsr_oe = 1;
		} else {
			*tx = v; /* sent after the lock is dropped */
		}
		s->thr_ipending = 1; /* transmitted at once: THR empty again */
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* enabling the THR interrupt while THR is empty raises it */
		if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_ipending = 1;
		s->ier = v & 0x0f;
		if (v & UART_IER_RDI)
			s->rx_open = 1;
		break;
	case UART_FCR:
		s->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		if (v & UART_FCR_CLEAR_RX) {
			s->rx_len = 0;
			s->rx_head = 0;
			*notify_space = true;
		}
		if (v & UART_FCR_ENABLE)
			s->rx_open = 1;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	case UART_SCR:
		s->scr = v;
		break;
	}
}

static uint8_t read_reg(struct serial *s, unsigned off, bool *notify_space)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (off) {
	case UART_RBR:
		if (dlab)
			return s->dll;
		if (s->rx_len) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
			s->rx_len--;
			*notify_space = true;
		}
		return v;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR:
		v = iir(s);
		/* reading IIR acknowledges a THR-empty interrupt it reports */
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = 0;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_len ? UART_LSR_DR : 0) |
		    (s->lsr_oe ? UART_LSR_OE : 0);
		s->lsr_oe = 0;
		return v;
	case UART_MSR:
		return msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

void serial_access(struct serial *s, unsigned offset, bool write, uint8_t *val)
{
	bool notify_space = false;
	int tx = -1;

	if (offset > 7) {
		if (!write)
			*val = 0xff;
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (write)
		write_reg(s, offset, *val, &notify_space, &tx);
	else
		*val = read_reg(s, offset, &notify_space);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	/*
	 * Outside the lock: the output may block (a full pipe), and the console
	 * thread must still be able to feed input and see a stop request.
	 */
	if (tx >= 0 && s->cb.tx)
		s->cb.tx(s->cb.opaque, (uint8_t)tx);
	if (notify_space && s->cb.rx_space)
		s->cb.rx_space(s->cb.opaque);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = (!s->rx_open || (s->mcr & UART_MCR_LOOP)) ? 0 : rx_push(s, buf, len);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_space(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->rx_open ? SERIAL_FIFO_SIZE - s->rx_len : 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int serial_irq_level(struct serial *s)
{
	int l;

	pthread_mutex_lock(&s->lock);
	l = s->irq_level;
	pthread_mutex_unlock(&s->lock);
	return l;
}

/*
 * Saved layout (little-endian, SERIAL_STATE_SIZE bytes):
 *   0  u32 magic "1550"   4 u16 version   6 u16 size
 *   8  ier lcr mcr scr dll dlm fcr lsr_oe
 *   16 thr_ipending rx_len rx_open  pad[5]
 *   24 rx[16] (FIFO contents, oldest first)
 */
static void put_u32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

ssize_t serial_save(struct serial *s, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (cap < SERIAL_STATE_SIZE)
		return -ENOSPC;
	memset(p, 0, SERIAL_STATE_SIZE);
	pthread_mutex_lock(&s->lock);
	put_u32(p, SERIAL_MAGIC);
	put_u16(p + 4, SERIAL_VERSION);
	put_u16(p + 6, SERIAL_STATE_SIZE);
	p[8] = s->ier;
	p[9] = s->lcr;
	p[10] = s->mcr;
	p[11] = s->scr;
	p[12] = s->dll;
	p[13] = s->dlm;
	p[14] = s->fcr;
	p[15] = s->lsr_oe;
	p[16] = s->thr_ipending;
	p[17] = s->rx_len;
	p[18] = s->rx_open;
	for (unsigned i = 0; i < s->rx_len; i++)
		p[24 + i] = s->rx[(s->rx_head + i) % SERIAL_FIFO_SIZE];
	pthread_mutex_unlock(&s->lock);
	return SERIAL_STATE_SIZE;
}

int serial_restore(struct serial *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len != SERIAL_STATE_SIZE || get_u32(p) != SERIAL_MAGIC ||
	    get_u16(p + 4) != SERIAL_VERSION || get_u16(p + 6) != SERIAL_STATE_SIZE)
		return -EINVAL;
	if ((p[8] & 0xf0) || (p[10] & 0xe0) || p[15] > 1 || p[16] > 1 || p[17] > SERIAL_FIFO_SIZE ||
	    p[18] > 1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->ier = p[8];
	s->lcr = p[9];
	s->mcr = p[10];
	s->scr = p[11];
	s->dll = p[12];
	s->dlm = p[13];
	s->fcr = p[14];
	s->lsr_oe = p[15];
	s->thr_ipending = p[16];
	s->rx_len = p[17];
	s->rx_open = p[18];
	s->rx_head = 0;
	memcpy(s->rx, p + 24, SERIAL_FIFO_SIZE);
	/* force the line to be re-driven from the restored state */
	s->irq_level = !(iir(s) & UART_IIR_NO_INT) ? 0 : 1;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}
