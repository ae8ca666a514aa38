# blk: the virtio-blk device (vmm/dev/virtio_*.c, blk_*.c), its guest driver
# (guest/dev/virtio_*.c, guest/kernel/blkdev.c) and programs (user/blktest,
# user/blkbench); docs/blk.md. Unit tests and the fuzzer are in mk/vmm.mk.
#
#   suite blk        tests/blk/run.sh: real VMs with image files
#   suite blk-qemu   the same driver under QEMU (microvm, virtio-blk-device)
#   suite blk-monitor  tests/blk/run.sh (all but the refusals before boot)
#                    with the disks in the sandboxed monitor
#                    (--monitor=sandboxed, docs/monitor.md)
#   bench blk        bench/blk.sh: interrupts, exits and latency per mode

CHECK_SUITES += blk blk-qemu blk-monitor
SUITE_CMD_blk := B=$(B) sh tests/blk/run.sh
SUITE_DEPS_blk = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_blk := 1200
SUITE_CMD_blk-monitor := B=$(B) BLK_MONITOR=--monitor=sandboxed sh tests/blk/run.sh \
	t_suite t_two_disks t_readonly t_bad_chain t_irq t_migrate
SUITE_DEPS_blk-monitor = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_blk-monitor := 1200
SUITE_CMD_blk-qemu = B=$(B) sh tests/blk/qemu.sh $(KERNEL_ELF) $(INITRD_IMG)
SUITE_DEPS_blk-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_blk-qemu := 900

BENCHES += blk
BENCH_CMD_blk := sh bench/blk.sh
BENCH_DEPS_blk = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)

# the two disk backends against each other, on the host (bench/blk.sh runs it)
BLK_BACKEND_BENCH := $(B)/bench/blk_backend
$(B)/host/bench/blk_backend.o: HOST_CFLAGS_EXTRA += -Ivmm
$(BLK_BACKEND_BENCH): $(B)/host/bench/blk_backend.o $(VMM_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(VMM_LDLIBS)
BENCH_DEPS_blk += $(BLK_BACKEND_BENCH)
