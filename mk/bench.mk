# `make bench`: run every registered benchmark (`make bench BENCH='a b'` for
# some). Fragments register with
#     BENCHES += NAME
#     BENCH_CMD_NAME := command
#     BENCH_DEPS_NAME := files it needs built
# Each benchmark compares on/off or ours/baseline in one run and prints a
# ratio; results are recorded in docs/results.md with the command.

BENCHES += boot
BENCH_CMD_boot := sh bench/boot.sh
BENCH_DEPS_boot = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG) $(B)/bench/boot_time

$(B)/bench/boot_time: $(B)/host/bench/boot_time.o
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

BENCH ?= $(BENCHES)

.PHONY: bench
bench: $(DEPS_STAMP) $(foreach b,$(BENCH),$(BENCH_DEPS_$(b)))
	$(Q)set -e; $(foreach b,$(BENCH),echo "== bench $(b)"; \
		$(if $(BENCH_CMD_$(b)),B=$(B) $(BENCH_CMD_$(b)),echo "make bench: no benchmark \
		named '$(b)' (there are: $(BENCHES))" >&2; exit 1);)
