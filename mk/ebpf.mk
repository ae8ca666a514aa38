# ebpf: the standalone eBPF library (loader, verifier, interpreter), its
# tools, tests, fuzzer and benchmark. No KVM, no VMM code in here.
#
#   make ebpf                  library + tools
#   make check SUITES='ebpf-unit ebpf-semantics ebpf-verifier ebpf-tools ebpf-fuzz'
#   make bench BENCH=ebpf      interpreter vs host kernel BPF_PROG_TEST_RUN
#   EBPF_FUZZ_SECONDS=600 make check SUITES=ebpf-fuzz   longer fuzzing

# libelf only as a test oracle for the ELF loader (tests/ebpf/unit_elf.c)
DEB_PACKAGES += libelf-dev

# For other fragments (the VMM): include "ebpf/ebpf.h" with $(EBPF_CFLAGS),
# link $(EBPF_LIB).
EBPF_CFLAGS := -I.
EBPF_LIB := $(B)/ebpf/libebpf.a
EBPF_RUN := $(B)/ebpf-run
EBPF_VERIFY := $(B)/ebpf-verify

EBPF_LIB_SRCS := ebpf/env.c ebpf/loader.c ebpf/cfg.c ebpf/bounds.c ebpf/verifier.c \
	ebpf/vstate.c ebpf/relevance.c ebpf/precision.c \
	ebpf/liveness.c ebpf/vmem.c \
	ebpf/interp.c ebpf/elf.c
EBPF_LIB_OBJS := $(EBPF_LIB_SRCS:%.c=$(B)/host/%.o)
EBPF_TOOLENV_OBJ := $(B)/host/ebpf/tools/testenv.o
EBPF_TEST_OBJS := $(B)/host/tests/ebpf/asm.o $(B)/host/tests/ebpf/datatest.o \
	$(B)/host/tests/ebpf/kbpf.o $(B)/host/tests/ebpf/advgen.o
EBPF_UNIT_SRCS := $(wildcard tests/ebpf/unit_*.c)
EBPF_UNIT_OBJS := $(EBPF_UNIT_SRCS:%.c=$(B)/host/%.o)
EBPF_ALL_OBJS := $(EBPF_LIB_OBJS) $(EBPF_TOOLENV_OBJ) $(EBPF_TEST_OBJS) $(EBPF_UNIT_OBJS) \
	$(B)/host/ebpf/tools/ebpf-run.o $(B)/host/ebpf/tools/ebpf-verify.o \
	$(B)/host/bench/ebpf_bench.o

$(EBPF_ALL_OBJS): HOST_CFLAGS_EXTRA += -I.

$(EBPF_LIB): $(EBPF_LIB_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/ebpf-%: $(B)/host/ebpf/tools/ebpf-%.o $(EBPF_TOOLENV_OBJ) $(EBPF_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^

# programs written in C, compiled for BPF, used by the verifier corpus
EBPF_C_SRCS := $(wildcard tests/ebpf/c/*.c)
EBPF_C_OBJS := $(EBPF_C_SRCS:tests/ebpf/c/%.c=$(B)/ebpf/c/%.o)
$(B)/ebpf/c/%.o: tests/ebpf/c/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) -O2 -target bpf -c $< -o $@

$(B)/ebpf/datatest: $(EBPF_TEST_OBJS) $(EBPF_TOOLENV_OBJ) $(EBPF_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^

$(B)/ebpf/unit: $(EBPF_UNIT_OBJS) $(B)/host/tests/ebpf/asm.o $(B)/host/tests/ebpf/advgen.o \
		$(EBPF_TOOLENV_OBJ) $(EBPF_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^ -lcmocka -lelf

# libFuzzer target: clang, ASan + UBSan, interpreter with run-time checks of
# every memory access (a verifier hole becomes a crash)
EBPF_FUZZ := $(B)/ebpf/fuzz_ebpf
# (a lower exploration budget keeps executions fast; the logic is the same)
EBPF_FUZZ_FLAGS := -std=gnu11 -O1 -g -I. -Iinclude -D_GNU_SOURCE -DEBPF_RUNTIME_CHECKS \
	-DEBPF_MAX_WORK=600000 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(EBPF_FUZZ): tests/fuzz/ebpf_fuzz.c $(EBPF_LIB_SRCS) ebpf/tools/testenv.c \
		$(wildcard ebpf/*.h) ebpf/tools/testenv.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) $(EBPF_FUZZ_FLAGS) -o $@ tests/fuzz/ebpf_fuzz.c $(EBPF_LIB_SRCS) \
		ebpf/tools/testenv.c

$(B)/ebpf/bench: $(B)/host/bench/ebpf_bench.o $(B)/host/tests/ebpf/asm.o \
		$(B)/host/tests/ebpf/kbpf.o $(B)/host/tests/ebpf/advgen.o $(EBPF_TOOLENV_OBJ) $(EBPF_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^

.PHONY: ebpf
ebpf: $(EBPF_LIB) $(EBPF_RUN) $(EBPF_VERIFY)

ALL_TARGETS += $(EBPF_LIB) $(EBPF_RUN) $(EBPF_VERIFY)

EBPF_FUZZ_SECONDS ?= 60

CHECK_SUITES += ebpf-unit ebpf-semantics ebpf-kernel ebpf-verifier ebpf-tools ebpf-fuzz
SUITE_CMD_ebpf-unit := CMOCKA_MESSAGE_OUTPUT=TAP $(B)/ebpf/unit $(B)/ebpf/c
SUITE_DEPS_ebpf-unit := $(B)/ebpf/unit $(EBPF_C_OBJS)
SUITE_CMD_ebpf-semantics := $(B)/ebpf/datatest tests/ebpf/semantics/*.data
SUITE_DEPS_ebpf-semantics := $(B)/ebpf/datatest
# the semantics tests' expected values against the host kernel (root)
SUITE_CMD_ebpf-kernel := $(B)/ebpf/datatest -k tests/ebpf/semantics/*.data
SUITE_DEPS_ebpf-kernel := $(B)/ebpf/datatest
SUITE_CMD_ebpf-verifier := $(B)/ebpf/datatest -e $(B)/ebpf/c tests/ebpf/verifier/*.data
SUITE_DEPS_ebpf-verifier := $(B)/ebpf/datatest $(EBPF_C_OBJS)
SUITE_CMD_ebpf-tools := sh tests/ebpf/tools.sh $(B)
SUITE_DEPS_ebpf-tools := $(EBPF_RUN) $(EBPF_VERIFY) $(EBPF_C_OBJS)
SUITE_CMD_ebpf-fuzz := sh tests/fuzz/ebpf_fuzz.sh $(B) $(EBPF_FUZZ_SECONDS)
SUITE_DEPS_ebpf-fuzz := $(EBPF_FUZZ) $(B)/ebpf/datatest $(EBPF_C_OBJS)
SUITE_TIMEOUT_ebpf-fuzz := $(shell echo $$(($(EBPF_FUZZ_SECONDS) + 120)))

$(B)/ebpf/bench_progs.o: bench/ebpf_progs.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) -O2 -target bpf -c $< -o $@

BENCHES += ebpf
BENCH_CMD_ebpf := $(B)/ebpf/bench $(B)/ebpf/bench_progs.o $(B)/ebpf/c/if_blocks.o
BENCH_DEPS_ebpf := $(B)/ebpf/bench $(B)/ebpf/bench_progs.o $(B)/ebpf/c/if_blocks.o
