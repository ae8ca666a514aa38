/* SPDX-License-Identifier: MIT */
/*
 * The deprivileged monitor (docs/monitor.md). `vessel run --monitor=MODE`
 * adds it as a device (dev/device.h):
 *
 *   inproc     the exits the policy routes to the monitor (monitor/policy.h)
 *              are handled in the core as without the option, but timed
 *              and counted: the baseline of the benchmark
 *   sandboxed  a second process, `vessel __monitor`, runs the UART: no KVM
 *              descriptor, no file but stdout/stderr, a seccomp filter,
 *              resource limits and its own namespaces where the kernel
 *              allows; routed exits and console input cross shared-memory
 *              rings (monitor/ring.h) and the core applies only what the
 *              field policy permits
 *
 * Without the option nothing changes (no instance, no hook).
 */
#ifndef VMM_MONITOR_MONITOR_H
#define VMM_MONITOR_MONITOR_H

struct vm;

/*
 * monitor_quit - if vm has a sandboxed monitor: let it write out the console
 * output it holds (stdout taking nothing for idle_ms ends that), then wait
 * for it to exit (killing it after idle_ms + 2 s). Call after the VM
 * stopped and before printing the core's own messages, so that the guest's
 * output comes first. A no-op otherwise; safe to call twice.
 */
void monitor_quit(struct vm *vm, int idle_ms);

/*
 * monitor_main - the monitor process: `vessel __monitor FD` with the shared
 * memory at FD, started by the core. Returns the process exit status.
 */
int monitor_main(int argc, char **argv);

#endif
