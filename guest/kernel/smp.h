/* SPDX-License-Identifier: MIT */
/* Multiprocessor bring-up and inter-processor interrupts. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

/* Index of the running CPU (0 = bootstrap processor). */
int smp_cpu_id(void);
/* Number of CPUs online. */
int smp_cpu_count(void);
/*
 * Starts every other CPU (VESSEL_HC_CPU_START on the Vessel VMM,
 * INIT-SIPI-SIPI under QEMU, count from fw_cfg) and waits until each is
 * idling. Returns the number of CPUs online.
 */
int smp_boot_aps(void);
/* Stops every other CPU (NMI; they halt for good). Used by panic. */
void smp_stop_others(void);
/* Sends IPI `vector` to CPU index cpu and counts it. */
void smp_send_ipi(int cpu, uint8_t vector);

/* Entry of an application processor (called from boot.S). */
void ap_main(int cpu);

#endif
