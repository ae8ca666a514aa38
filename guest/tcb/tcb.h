/* SPDX-License-Identifier: MIT */
/*
 * The trusted computing base's functions (tcb.c), called only from its
 * entries (tcb_entry.S) in the secure domain. See include/abi/vessel.h.
 */
#ifndef GUEST_TCB_TCB_H
#define GUEST_TCB_TCB_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* the port tcb_entry.S returns through: VESSEL_HC_PORT_BASE + VESSEL_HC_DOMAIN_RETURN */
#define TCB_RETURN_PORT 0x508

#ifndef __ASSEMBLER__
/*
 * VESSEL_TCB_TEXT_WRITE: writes len bytes from src (TCB memory) to kernel
 * text at dst if [dst, dst + len) lies in one registered patch site and the
 * bytes pass tcb_code_allowed() (tcb_check.h).
 * 0, -EINVAL (len), -EPERM (not a patch site, or a form not allowed).
 */
int64_t tcb_text_write(uint64_t dst, const uint8_t *src, uint64_t len);

/* VESSEL_TCB_ECHO: x + 1. */
int64_t tcb_echo(uint64_t x);

/* VESSEL_TCB_HANDSHAKE: *flag = 1, then poll (max times) for *flag == 2; 1 if seen. */
int64_t tcb_handshake(volatile uint64_t *flag, uint64_t max);
#endif

#endif
