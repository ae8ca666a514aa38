# monitor: the deprivileged monitor (vmm/monitor/, docs/monitor.md). Its
# sources are part of $(VMM_LIB) (mk/vmm.mk); its unit test is
# tests/unit/vmm_monitor_test.c (also run by vmm-unit).
#
#   suite monitor                   policy tables and rings (unit), then real
#                                   VMs: console, isolation, migration,
#                                   signals, fault injection
#   suite usertests-vessel-monitor  usertests with --monitor=sandboxed
#   bench monitor                   routed-exit round trip, core-side
#                                   operations, system-call surface

MONITOR_UNIT := $(B)/tests/unit/vmm_monitor_test

CHECK_SUITES += monitor
SUITE_CMD_monitor := CMOCKA_MESSAGE_OUTPUT=TAP $(MONITOR_UNIT); rc=$$?; \
	B=$(B) sh tests/monitor/run.sh || rc=1; exit $$rc
SUITE_DEPS_monitor = $(MONITOR_UNIT) $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_monitor := 600
$(eval $(call usertests_vessel,monitor,--monitor=sandboxed))

BENCHES += monitor
BENCH_CMD_monitor := sh bench/monitor.sh
BENCH_DEPS_monitor = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
