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
