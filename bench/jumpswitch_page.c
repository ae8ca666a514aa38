// SPDX-License-Identifier: MIT
/* A code page near the program's code (jumpswitch_page.h). */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "jumpswitch_page.h"

void *jsw_code_page_near(const void *code)
{
	uintptr_t base = ((uintptr_t)code & ~(uintptr_t)0xfffff) - 0x10000000;

	for (int i = 0; i < 64; i++, base -= 0x100000) {
		void *p = mmap((void *)base, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p != MAP_FAILED)
			return p;
	}
	return NULL;
}
