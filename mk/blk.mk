# blk: the virtio-blk device (vmm/dev/virtio_*.c, blk_*.c), its guest driver
# (guest/dev/virtio_*.c, guest/kernel/blkdev.c) and programs (user/blktest,
# user/blkbench); docs/blk.md. Unit tests and the fuzzer are in mk/vmm.mk.
#
#   suite blk        tests/blk/run.sh: real VMs with image files
#   suite blk-qemu   the same driver under QEMU (microvm, virtio-blk-device)
#   bench blk        bench/blk.sh: interrupts, exits and latency per mode

CHECK_SUITES += blk blk-qemu
SUITE_CMD_blk := B=$(B) sh tests/blk/run.sh
SUITE_DEPS_blk = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_blk := 1200
SUITE_CMD_blk-qemu = B=$(B) sh tests/blk/qemu.sh $(KERNEL_ELF) $(INITRD_IMG)
SUITE_DEPS_blk-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_blk-qemu := 900

BENCHES += blk
BENCH_CMD_blk := sh bench/blk.sh
BENCH_DEPS_blk = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
