// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/power.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

static struct spinlock hc_lock = SPINLOCK_INIT;

void power_off(int status)
{
	static struct vessel_hc_poweroff hc;

	irq_disable();
	if (hc_available()) {
		hc.status = (uint64_t)(status & 0xff);
		hc_call(VESSEL_HC_POWEROFF, &hc);
	}
	outb(VESSEL_QEMU_EXIT_PORT, (uint8_t)status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void test_call(uint32_t kind, const char *file, int line, const char *msg, uint64_t arg)
{
	/* strings must be in RAM the VMM can address: copy into static buffers */
	static struct vessel_hc_test hc;
	static char fbuf[VESSEL_HC_STR_MAX], mbuf[VESSEL_HC_STR_MAX];
	uint64_t f;

	if (!hc_available())
		return;
	f = spin_lock_irqsave(&hc_lock);
	memset(&hc, 0, sizeof(hc));
	hc.kind = kind;
	hc.line = (uint32_t)line;
	if (file) {
		strlcpy(fbuf, file, sizeof(fbuf));
		hc.file_gpa = virt_to_phys(fbuf);
	}
	if (msg) {
		strlcpy(mbuf, msg, sizeof(mbuf));
		hc.msg_gpa = virt_to_phys(mbuf);
	}
	hc.arg = arg;
	hc_call(VESSEL_HC_TEST, &hc);
	spin_unlock_irqrestore(&hc_lock, f);
}

void test_report_assert(const char *file, int line, const char *msg)
{
	test_call(VESSEL_TEST_ASSERT, file, line, msg, 0);
}

void test_report_done(uint64_t failures)
{
	test_call(VESSEL_TEST_DONE, NULL, 0, NULL, failures);
}

void test_report_print(const char *msg)
{
	test_call(VESSEL_TEST_PRINT, NULL, 0, msg, 0);
}
