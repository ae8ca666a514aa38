# Cross-CPU calls and TLB shootdowns (issue 15): the native replica of the
# guest's shootdown code (bench/tlb_replica.c over guest/lib/shootdown.c)
# and the guest-side counts (bench/tlb.sh).
#
#   make bench BENCH=tlb

TLB_REPLICA := $(B)/bench/tlb_replica

$(B)/host/guest/lib/shootdown.o $(B)/host/bench/tlb_replica.o: HOST_CFLAGS_EXTRA += -Iguest

$(TLB_REPLICA): $(B)/host/bench/tlb_replica.o $(B)/host/guest/lib/shootdown.o
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -lpthread -o $@

ALL_TARGETS += $(TLB_REPLICA)

BENCHES += tlb
BENCH_CMD_tlb := sh bench/tlb.sh
BENCH_DEPS_tlb = $(TLB_REPLICA) $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
