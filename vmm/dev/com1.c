// SPDX-License-Identifier: MIT
/* COM1: the 16550A model wired to port 0x3f8, IRQ 4 and the VM's console. */
#include "core/exit.h"
#include "core/iobus.h"
#include "core/vm.h"
#include "dev/device.h"
#include "dev/serial.h"

#include "abi/vessel.h"

#include <errno.h>

static void com1_tx(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;

	if (vm->cfg.console_write)
		vm->cfg.console_write(vm->cfg.console_opaque, &byte, 1);
}

static void com1_irq(void *opaque, int level)
{
	vm_irq_line(opaque, VESSEL_COM1_IRQ, level);
}

static void com1_io(void *opaque, struct io_access *acc, struct exit_result *res)
{
	/* byte registers; a wider access touches consecutive registers */
	for (uint32_t i = 0; i < acc->size; i++)
		serial_access(opaque, (unsigned)acc->offset + i, acc->write, &acc->data[i]);
}

static size_t com1_rx(void *opaque, const uint8_t *buf, size_t len)
{
	return serial_receive(opaque, buf, len);
}

static int com1_create(struct vm *vm, const char *arg, void **priv)
{
	struct serial_callbacks cb = { .tx = com1_tx, .irq = com1_irq, .opaque = vm };
	struct serial *s = serial_new(&cb);
	int err;

	if (!s)
		return -ENOMEM;
	err = iobus_register(&vm->pio, VESSEL_COM1_PORT, 8, "com1", com1_io, s);
	if (err) {
		serial_free(s);
		return err;
	}
	vm->console = s;
	vm->console_rx = com1_rx;
	vm->console_rx_opaque = s;
	*priv = s;
	return 0;
}

static void com1_destroy(void *priv)
{
	serial_free(priv);
}

static ssize_t com1_save(void *priv, void *buf, size_t cap)
{
	return serial_save(priv, buf, cap);
}

static int com1_restore(void *priv, const void *buf, size_t len)
{
	return serial_restore(priv, buf, len);
}

static const struct device_ops com1_ops = {
	.name = "com1",
	.create = com1_create,
	.destroy = com1_destroy,
	.save = com1_save,
	.restore = com1_restore,
};
DEVICE_REGISTER(com1_ops);
