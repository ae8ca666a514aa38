# vmm: the Vessel VMM. Everything but main.c is built into $(VMM_LIB), which
# the `vessel` binary and the tests link (whole-archive: devices, hypercalls
# and control commands register themselves in linker sections, so nothing
# references them by name).

VESSEL_BIN := $(B)/vessel
VMM_LIB := $(B)/vmm/libvmm.a

# migrate/live/ is the glue between the core and libmigrate: it depends on
# both, so it lives here; libmigrate depends on nothing of the VMM.
VMM_LIB_SRCS := $(filter-out vmm/main.c,$(wildcard vmm/*.c vmm/core/*.c vmm/arch/x86/*.c \
	vmm/dev/*.c vmm/migrate/live/*.c vmm/hcb/*.c vmm/pttrace/*.c vmm/monitor/*.c \
	vmm/domain/*.c)) guest/lib/x86dec.c
VMM_LIB_OBJS := $(VMM_LIB_SRCS:%.c=$(B)/host/%.o)
# code integrity validates patches with the kernel's instruction decoder
# (and its unit test includes the TCB's own check, guest/tcb/tcb_check.c)
$(B)/host/tests/unit/vmm_integrity_test.o: HOST_CFLAGS_EXTRA += -Iguest
$(B)/host/vmm/domain/%.o $(B)/host/guest/lib/x86dec.o: HOST_CFLAGS_EXTRA += -Iguest
VMM_LDLIBS := -Wl,--whole-archive $(VMM_LIB) -Wl,--no-whole-archive -lpthread -luring -lseccomp
# virtio-blk's io_uring backend (vmm/dev/blk_uring.c)
DEB_PACKAGES += liburing-dev
# the sandboxed monitor's system-call filter (vmm/monitor/sandbox.c)
DEB_PACKAGES += libseccomp-dev

$(B)/host/vmm/%.o $(B)/host/tests/unit/vmm_%.o $(B)/host/tests/vmm/%.o: HOST_CFLAGS_EXTRA += -Ivmm -Iebpf

$(VMM_LIB): $(VMM_LIB_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(VESSEL_BIN): $(B)/host/vmm/main.o $(VMM_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(VMM_LDLIBS)

# ---- tests ----
VMM_UNIT_SRCS := $(wildcard tests/unit/vmm_*.c)
VMM_UNIT_BINS := $(VMM_UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
VMM_TEST_OBJS := $(VMM_UNIT_SRCS:%.c=$(B)/host/%.o) $(B)/host/tests/vmm/guests_test.o
.SECONDARY: $(VMM_TEST_OBJS)
VMM_GUEST_BIN := $(B)/tests/vmm/guests_test
VMM_FUZZ_BIN := $(B)/fuzz/vmm_elf_fuzz

$(B)/tests/unit/vmm_%: $(B)/host/tests/unit/vmm_%.o $(VMM_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(VMM_LDLIBS) -lcmocka

$(VMM_GUEST_BIN): $(B)/host/tests/vmm/guests_test.o $(VMM_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(VMM_LDLIBS)

VMM_FUZZ_FLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude -Ivmm
$(VMM_FUZZ_BIN): tests/fuzz/vmm_elf_fuzz.c vmm/core/elf.c vmm/core/guest_mem.c vmm/core/safecopy.c \
		vmm/core/elf.h vmm/core/guest_mem.h vmm/core/safecopy.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) $(VMM_FUZZ_FLAGS) -o $@ $(filter %.c,$^)

# the virtio-blk request path a guest controls (tests/fuzz/virtq_fuzz.c)
VIRTQ_FUZZ_BIN := $(B)/fuzz/virtq_fuzz
$(VIRTQ_FUZZ_BIN): tests/fuzz/virtq_fuzz.c vmm/dev/virtqueue.c vmm/dev/blk_req.c \
		vmm/core/guest_mem.c vmm/core/safecopy.c vmm/dev/virtqueue.h vmm/dev/blk_req.h \
		include/abi/virtio.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) $(VMM_FUZZ_FLAGS) -o $@ $(filter %.c,$^)

# a disk's saved state, which comes from the migration peer
# (tests/fuzz/vblk_state_fuzz.c; seeds from the real save functions)
VBLK_STATE_FUZZ_BIN := $(B)/fuzz/vblk_state_fuzz
VBLK_STATE_SEEDS := $(B)/fuzz/vblk-state-seeds
$(VBLK_STATE_FUZZ_BIN): tests/fuzz/vblk_state_fuzz.c vmm/dev/vblk_state.c \
		vmm/dev/virtio_mmio_state.c vmm/dev/cintr.c vmm/dev/virtqueue.c \
		vmm/core/guest_mem.c vmm/core/safecopy.c vmm/dev/vblk_state.h vmm/dev/cintr.h \
		vmm/dev/virtio_mmio.h vmm/dev/virtqueue.h include/abi/virtio.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) $(VMM_FUZZ_FLAGS) -o $@ $(filter %.c,$^)
$(VBLK_STATE_SEEDS)/.stamp: $(VBLK_STATE_FUZZ_BIN)
	@rm -rf $(@D) && mkdir -p $(@D)
	$(Q)VBLK_FUZZ_SEEDS=$(@D) $<
	@touch $@

CHECK_SUITES += vmm-unit vmm-cli vmm-guests vmm-fuzz virtq-fuzz vblk-state-fuzz
SUITE_CMD_vmm-unit := rc=0; for t in $(VMM_UNIT_BINS); do CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; done; exit $$rc
SUITE_DEPS_vmm-unit := $(VMM_UNIT_BINS)
SUITE_CMD_vmm-cli := VESSEL_BIN=$(VESSEL_BIN) sh tests/vmm/cli_test.sh
SUITE_DEPS_vmm-cli := $(VESSEL_BIN)
SUITE_CMD_vmm-guests := $(VMM_GUEST_BIN)
SUITE_DEPS_vmm-guests := $(VMM_GUEST_BIN)
SUITE_TIMEOUT_vmm-guests := 300
SUITE_CMD_vmm-fuzz := sh tests/fuzz/vmm_elf_fuzz.sh $(VMM_FUZZ_BIN) $(B)/fuzz/vmm_elf_corpus
SUITE_DEPS_vmm-fuzz := $(VMM_FUZZ_BIN)
SUITE_TIMEOUT_vmm-fuzz := 120
SUITE_CMD_virtq-fuzz := sh tests/fuzz/virtq_fuzz.sh $(VIRTQ_FUZZ_BIN) $(B)/fuzz/virtq_corpus
SUITE_DEPS_virtq-fuzz := $(VIRTQ_FUZZ_BIN)
SUITE_TIMEOUT_virtq-fuzz := 120
VBLK_STATE_FUZZ_SECONDS ?= 15
SUITE_CMD_vblk-state-fuzz := sh tests/fuzz/seeds_run.sh vblk-state $(VBLK_STATE_FUZZ_BIN) \
	$(VBLK_STATE_SEEDS) $(VBLK_STATE_FUZZ_SECONDS) 8192
SUITE_DEPS_vblk-state-fuzz := $(VBLK_STATE_FUZZ_BIN) $(VBLK_STATE_SEEDS)/.stamp
SUITE_TIMEOUT_vblk-state-fuzz := $(shell echo $$(($(VBLK_STATE_FUZZ_SECONDS) + 120)))

ALL_TARGETS += $(VESSEL_BIN)

.PHONY: vmm vmm-tests run
vmm: $(VESSEL_BIN) $(VMM_LIB)
vmm-tests: $(VMM_UNIT_BINS) $(VMM_GUEST_BIN) $(VMM_FUZZ_BIN) $(VIRTQ_FUZZ_BIN) \
	$(VBLK_STATE_FUZZ_BIN)

# `make run`: boot the bundled kernel and initrd (RUN_ARGS adds options, e.g.
# RUN_ARGS='--cmdline selftest'). Their rules live in mk/guest.mk and
# mk/user.mk; the recipe is expanded after every fragment is read.
RUN_KERNEL = $(or $(KERNEL_ELF),$(B)/guest/vessel.elf)
RUN_INITRD = $(or $(INITRD_IMG),$(B)/user/initrd.img)
run: $(VESSEL_BIN)
	$(Q)if [ -n "$(KERNEL_ELF)$(INITRD_IMG)" ]; then \
		$(MAKE) --no-print-directory $(KERNEL_ELF) $(INITRD_IMG) </dev/null || exit 1; fi
	$(Q)if [ ! -f "$(RUN_KERNEL)" ]; then \
		echo "make run: no kernel at $(RUN_KERNEL): the guest kernel is not built (make guest)" >&2; \
		exit 1; fi
	$(Q)if [ ! -f "$(RUN_INITRD)" ]; then \
		echo "make run: warning: no initrd at $(RUN_INITRD): booting without one" >&2; fi
	$(Q)./$(VESSEL_BIN) run $(RUN_ARGS)

# Memory-error bursts through real `vessel run` processes (tests/memerr/run.sh).
CHECK_SUITES += memerr
SUITE_CMD_memerr := B=$(B) sh tests/memerr/run.sh
SUITE_DEPS_memerr = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_memerr := 1200

# the unit test of registration runs the kernel's own callback objects
$(B)/host/tests/unit/vmm_hcb_test.o: HOST_CFLAGS_EXTRA += -DHCB_OBJ_DIR='"$(B)/guest/hcb"'
$(B)/tests/unit/vmm_hcb_test: $(HCB_BPF_OBJS)

# Hyper-callbacks end to end (tests/hcb/run.sh, docs/hcb.md).
CHECK_SUITES += hcb
SUITE_CMD_hcb := B=$(B) sh tests/hcb/run.sh
SUITE_DEPS_hcb = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_hcb := 900

BENCHES += hcb
BENCH_CMD_hcb := sh bench/hcb.sh
BENCH_DEPS_hcb = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)

# Code integrity end to end (tests/integrity/run.sh, docs/integrity.md).
CHECK_SUITES += integrity
SUITE_CMD_integrity := B=$(B) sh tests/integrity/run.sh
SUITE_DEPS_integrity = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_integrity := 900
# usertests (jumpswitch on: its trampolines are rewritten through the VMM)
# with the kernel's text read-only
$(eval $(call usertests_vessel,integrity,--integrity=on))

BENCHES += domains
BENCH_CMD_domains := sh bench/domains.sh
BENCH_DEPS_domains = $(VESSEL_BIN) $(KERNEL_ELF)
