# Page-table isolation (docs/kernel.md, "Page-table isolation"):
#   make check SUITES='pti-qemu pti-vessel'   the pti_* self-tests with pti=on and off
#           usertests-{vessel,qemu}-ptioff   usertests with pti=off (the usertests
#                                            suites run pti=auto, on where the CPU
#                                            does not report RDCL_NO)
#   make bench BENCH=pti   guest instructions (QEMU -icount) and KVM exits per null
#                          call, 64-bit with and without PTI, 32-bit

CHECK_SUITES += pti-qemu pti-vessel
SUITE_CMD_pti-qemu := sh tests/guest/pti.sh qemu $(KERNEL_ELF)
SUITE_DEPS_pti-qemu = $(KERNEL_ELF)
SUITE_TIMEOUT_pti-qemu := 600
SUITE_CMD_pti-vessel := sh tests/guest/pti.sh vessel $(VESSEL_BIN) $(KERNEL_ELF)
SUITE_DEPS_pti-vessel = $(VESSEL_BIN) $(KERNEL_ELF)
SUITE_TIMEOUT_pti-vessel := 600

$(eval $(call usertests_vessel,ptioff,--cmdline pti=off))
$(eval $(call usertests_qemu,ptioff,pti=off))

BENCHES += pti
BENCH_CMD_pti := sh bench/pti.sh
BENCH_DEPS_pti = $(KERNEL_ELF) $(VESSEL_BIN)
