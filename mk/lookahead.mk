# System-call lookahead (docs/lookahead.md): the decoder and emulator in
# guest/lib/x86dec.c and x86emu.c (kernel side: guest/kernel/lookahead.c),
# their host tests, fuzzer and benchmark.
#
#   suites: lookahead-unit   cmocka tests, x86dec against Zydis on fuzzed byte
#                            strings, x86emu against the host CPU
#           lookahead-fuzz   libFuzzer on the decoder and emulator, bounded time
#           lookahead-diff   the same programs with lookahead=on and off, on
#                            both platforms: identical output and checksums
#   make bench BENCH=lookahead   kernel entries and guest instructions per
#                            operation, on against off (QEMU -icount)
#
#   X86DEC_ORACLE_COUNT=10000000 X86EMU_NATIVE_COUNT=5000000 \
#   LOOKAHEAD_FUZZ_SECONDS=600 make check SUITES='lookahead-unit lookahead-fuzz'

DEB_PACKAGES += libzydis-dev

X86_LIB_SRCS := guest/lib/x86dec.c guest/lib/x86emu.c
X86_TEST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -D_GNU_SOURCE -Iinclude -Iguest -Itests/unit \
	-fsanitize=address,undefined -fno-sanitize-recover=all
X86_TEST_HDRS := guest/lib/x86dec.h guest/lib/x86emu.h tests/unit/x86gen.h \
	tests/unit/x86_testenv.h

$(B)/unit/x86dec_oracle: tests/unit/x86dec_oracle.c tests/unit/x86gen.c $(X86_LIB_SRCS) \
		$(X86_TEST_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(X86_TEST_CFLAGS) $(filter %.c,$^) -lZydis -o $@

$(B)/unit/x86emu_native: tests/unit/x86emu_native.c tests/unit/x86gen.c $(X86_LIB_SRCS) \
		$(X86_TEST_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(X86_TEST_CFLAGS) $(filter %.c,$^) -o $@

$(B)/unit/x86emu_test: tests/unit/x86emu_test.c tests/unit/x86_testenv.c $(X86_LIB_SRCS) \
		$(X86_TEST_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(X86_TEST_CFLAGS) $(filter %.c,$^) -lcmocka -o $@

X86DEC_ORACLE_COUNT ?= 1000000
X86EMU_NATIVE_COUNT ?= 500000
LOOKAHEAD_UNIT_BINS := $(B)/unit/x86emu_test $(B)/unit/x86dec_oracle $(B)/unit/x86emu_native

CHECK_SUITES += lookahead-unit
SUITE_CMD_lookahead-unit := rc=0; CMOCKA_MESSAGE_OUTPUT=TAP $(B)/unit/x86emu_test || rc=1; \
	$(B)/unit/x86dec_oracle -n $(X86DEC_ORACLE_COUNT) || rc=1; \
	$(B)/unit/x86emu_native -n $(X86EMU_NATIVE_COUNT) || rc=1; exit $$rc
SUITE_DEPS_lookahead-unit = $(LOOKAHEAD_UNIT_BINS)
SUITE_TIMEOUT_lookahead-unit := 300

# ---------------------------------------------------------------- fuzzing
X86_FUZZ := $(B)/fuzz/x86_fuzz
LOOKAHEAD_FUZZ_SECONDS ?= 20

$(X86_FUZZ): tests/fuzz/x86_fuzz.c tests/unit/x86_testenv.c $(X86_LIB_SRCS) $(X86_TEST_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) -std=gnu11 -O1 -g $(WARN) -Iinclude -Iguest -Itests/unit \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(filter %.c,$^) -o $@

# Seeds: the code between two system calls of real programs.
$(B)/fuzz/x86-seeds/.stamp: tests/fuzz/x86_seeds.sh
	@mkdir -p $(@D)
	$(Q)sh tests/fuzz/x86_seeds.sh $(@D)
	@touch $@

CHECK_SUITES += lookahead-fuzz
SUITE_CMD_lookahead-fuzz := sh tests/fuzz/seeds_run.sh x86 $(X86_FUZZ) $(B)/fuzz/x86-seeds \
	$(LOOKAHEAD_FUZZ_SECONDS) 64
SUITE_DEPS_lookahead-fuzz = $(X86_FUZZ) $(B)/fuzz/x86-seeds/.stamp
SUITE_TIMEOUT_lookahead-fuzz := $(shell echo $$(($(LOOKAHEAD_FUZZ_SECONDS) + 120)))

# ---------------------------------------------------------------- differential
CHECK_SUITES += lookahead-diff
SUITE_CMD_lookahead-diff := sh tests/guest/lookahead-diff.sh $(VESSEL_BIN) $(KERNEL_ELF) \
	$(INITRD_IMG)
SUITE_DEPS_lookahead-diff = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_lookahead-diff := 1500

# ---------------------------------------------------------------- benchmark
BENCHES += lookahead
BENCH_CMD_lookahead := sh bench/lookahead.sh
BENCH_DEPS_lookahead = $(KERNEL_ELF) $(INITRD_IMG) $(VESSEL_BIN)
