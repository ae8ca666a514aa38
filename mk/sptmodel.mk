# sptmodel: the shadow-paging model driven by page-table traces
# (docs/sptmodel.md). The trace is recorded by `vessel run --pt-trace FILE`
# (vmm/pttrace/) from a kernel booted with pttrace=on.
#
#   make sptmodel          build/sptmodel
#   suites: sptmodel-unit  cmocka: trace reader, writer round trip, model on
#                          hand-written traces
#           sptmodel-fuzz  libFuzzer on the trace reader (SPTMODEL_FUZZ_SECONDS)
#           sptmodel       real traces from the kernel: boot, usertests with
#                          tracing on, the model on them
#   bench:  sptmodel       workloads, the three modes, the validation, a plot

SPTMODEL := $(B)/sptmodel
SPTMODEL_LIB_SRCS := tools/sptmodel/trace.c tools/sptmodel/model.c tools/sptmodel/u64map.c
SPTMODEL_LIB_OBJS := $(SPTMODEL_LIB_SRCS:%.c=$(B)/host/%.o)
$(SPTMODEL_LIB_OBJS) $(B)/host/tools/sptmodel/main.o $(B)/host/tests/unit/sptmodel_%.o: \
	HOST_CFLAGS_EXTRA += -Itools/sptmodel -Ivmm

$(SPTMODEL): $(B)/host/tools/sptmodel/main.o $(SPTMODEL_LIB_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

ALL_TARGETS += $(SPTMODEL)
.PHONY: sptmodel
sptmodel: $(SPTMODEL)

# ---- tests ----
SPTMODEL_TEST := $(B)/tests/unit/sptmodel_test
SPTMODEL_TEST_SRCS := tests/unit/sptmodel_test.c $(SPTMODEL_LIB_SRCS) vmm/pttrace/trace_file.c
SPTMODEL_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(SPTMODEL_TEST): $(SPTMODEL_TEST_SRCS) $(wildcard tools/sptmodel/*.h) vmm/pttrace/trace_file.h \
		include/abi/pttrace.h include/abi/vessel.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) $(SPTMODEL_SAN) -Itools/sptmodel -Ivmm \
		$(filter %.c,$^) -lcmocka -o $@

CHECK_SUITES += sptmodel-unit
SUITE_CMD_sptmodel-unit := CMOCKA_MESSAGE_OUTPUT=TAP $(SPTMODEL_TEST)
SUITE_DEPS_sptmodel-unit := $(SPTMODEL_TEST)
SUITE_TIMEOUT_sptmodel-unit := 120

# The VMM side through the real hypercall path; it reads its file back with
# the model's reader (an explicit rule: the vmm_% pattern links one object).
$(B)/tests/unit/vmm_pttrace_test: $(B)/host/tests/unit/vmm_pttrace_test.o $(B)/host/tools/sptmodel/trace.o \
		$(VMM_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(filter %.o,$^) $(VMM_LDLIBS) -lcmocka
$(B)/host/tests/unit/vmm_pttrace_test.o: HOST_CFLAGS_EXTRA += -Itools/sptmodel

# libFuzzer (ASan + UBSan) on the trace reader and the model; seeds come from
# the VMM's trace writer (tests/fuzz/pttrace_seedgen.c).
SPTMODEL_FUZZ := $(B)/fuzz/pttrace_fuzz
SPTMODEL_SEEDGEN := $(B)/fuzz/pttrace_seedgen
$(SPTMODEL_FUZZ): tests/fuzz/pttrace_fuzz.c $(SPTMODEL_LIB_SRCS) $(wildcard tools/sptmodel/*.h) \
		include/abi/pttrace.h include/abi/vessel.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude -Itools/sptmodel \
		$(filter %.c,$^) -o $@
$(SPTMODEL_SEEDGEN): tests/fuzz/pttrace_seedgen.c vmm/pttrace/trace_file.c vmm/pttrace/trace_file.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) -Ivmm $(filter %.c,$^) -o $@

SPTMODEL_FUZZ_SECONDS ?= 15
CHECK_SUITES += sptmodel-fuzz
SUITE_CMD_sptmodel-fuzz := B=$(B) SPTMODEL_FUZZ_SECONDS=$(SPTMODEL_FUZZ_SECONDS) \
	sh tests/fuzz/pttrace_run.sh $(SPTMODEL_FUZZ) $(SPTMODEL_SEEDGEN)
SUITE_DEPS_sptmodel-fuzz := $(SPTMODEL_FUZZ) $(SPTMODEL_SEEDGEN)
SUITE_TIMEOUT_sptmodel-fuzz := 120

# End to end: real VMs with pttrace=on (tests/sptmodel/run.sh).
CHECK_SUITES += sptmodel
SUITE_CMD_sptmodel := B=$(B) sh tests/sptmodel/run.sh
SUITE_DEPS_sptmodel = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG) $(SPTMODEL)
SUITE_TIMEOUT_sptmodel := 900

# The benchmark (bench/sptmodel.sh): workloads, the three modes, the
# validation and docs/sptmodel.png; gnuplot draws the plot.
DEB_PACKAGES += gnuplot-nox
BENCHES += sptmodel
BENCH_CMD_sptmodel := sh bench/sptmodel.sh
BENCH_DEPS_sptmodel = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG) $(SPTMODEL)
