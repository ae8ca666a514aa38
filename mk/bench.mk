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

# Search trampolines (docs/jumpswitch.md): guest instructions per system
# call under QEMU -icount, then the dispatch code natively in ns per call.
# The targets are built with retpolines like the kernel; the driver without,
# for the plain indirect call.
JS_NATIVE := $(B)/bench/jumpswitch_native
$(B)/bench/js/targets.o: bench/jumpswitch_targets.c
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -mindirect-branch=thunk -mindirect-branch-register -c $< -o $@
$(B)/bench/js/%.o: bench/jumpswitch_%.c
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iguest -c $< -o $@
$(B)/bench/js/entry.o: bench/jumpswitch_entry.S
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) -c $< -o $@
$(B)/bench/js/jswitch.o: guest/lib/jswitch.c
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iguest -c $< -o $@
$(JS_NATIVE): $(B)/bench/js/native.o $(B)/bench/js/targets.o $(B)/bench/js/jswitch.o \
		$(B)/bench/js/page.o $(B)/bench/js/entry.o
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@
ALL_TARGETS += $(JS_NATIVE)
# the unit test runs emitted code in the same kind of page
$(B)/unit/guest_jswitch_test: $(B)/bench/js/page.o

BENCHES += jumpswitch
BENCH_CMD_jumpswitch := sh bench/jumpswitch.sh
BENCH_DEPS_jumpswitch = $(KERNEL_ELF) $(JS_NATIVE)

BENCH ?= $(BENCHES)

.PHONY: bench
bench: $(DEPS_STAMP) $(foreach b,$(BENCH),$(BENCH_DEPS_$(b)))
	$(Q)set -e; $(foreach b,$(BENCH),echo "== bench $(b)"; \
		$(if $(BENCH_CMD_$(b)),B=$(B) $(BENCH_CMD_$(b)),echo "make bench: no benchmark \
		named '$(b)' (there are: $(BENCHES))" >&2; exit 1);)
