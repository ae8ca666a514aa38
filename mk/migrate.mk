# migrate: live migration (vmm/migrate/) and the JSON control socket
# (vmm/control/), their unit tests, fuzzers and integration tests.
#
# libmigrate.a holds the parts that do not depend on the VMM's internals
# (stream format, receiver state machine, TCP and TLS transports, the
# listener, control protocol, server and client); vessel links it after
# libvmm. The glue to the VMM (vmm/migrate/live/) is part of libvmm
# (mk/vmm.mk). TLS is GnuTLS (Debian's libgnutls28-dev); the tests make
# their credentials with certtool (gnutls-bin).

MIGRATE_SRCS := $(wildcard vmm/migrate/*.c vmm/control/*.c)
MIGRATE_OBJS := $(MIGRATE_SRCS:%.c=$(B)/host/%.o)
MIGRATE_LIB := $(B)/libmigrate.a
MIGRATE_LDLIBS := -ljansson -lxxhash -lgnutls -lpthread
MIGRATE_INC := -Ivmm
DEB_PACKAGES += libgnutls28-dev gnutls-bin

$(MIGRATE_OBJS): HOST_CFLAGS_EXTRA += $(MIGRATE_INC)

$(MIGRATE_LIB): $(MIGRATE_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# The VMM (whole-archive libvmm) links libmigrate after libvmm; every binary
# linking VMM_LDLIBS needs it built.
VMM_LDLIBS += $(MIGRATE_LIB) $(EBPF_LIB) $(MIGRATE_LDLIBS)
$(VESSEL_BIN) $(VMM_UNIT_BINS) $(VMM_GUEST_BIN): $(MIGRATE_LIB) $(EBPF_LIB)

# Host unit tests (cmocka): tests/unit/mig_*.c and tests/unit/ctl_*.c, one
# binary each.
MIG_UNIT_SRCS := $(wildcard tests/unit/mig_*.c tests/unit/ctl_*.c)
MIG_UNIT_BINS := $(MIG_UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)

$(MIG_UNIT_SRCS:%.c=$(B)/host/%.o): HOST_CFLAGS_EXTRA += $(MIGRATE_INC)

$(B)/tests/unit/mig_%: $(B)/host/tests/unit/mig_%.o $(MIGRATE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $< $(MIGRATE_LIB) -lcmocka $(MIGRATE_LDLIBS) -o $@

$(B)/tests/unit/ctl_%: $(B)/host/tests/unit/ctl_%.o $(MIGRATE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $< $(MIGRATE_LIB) -lcmocka $(MIGRATE_LDLIBS) -o $@

# mig_tls_test needs credentials: made afresh for each run (never committed).
CHECK_SUITES += mig-unit
SUITE_CMD_mig-unit := sh tests/migrate/tls-creds.sh $(B)/mig-unit-tls >/dev/null || exit 1; \
	for t in $(filter $(B)/tests/unit/mig_%,$(MIG_UNIT_BINS)); do \
	echo "\# $$t"; VESSEL_TEST_TLS_CREDS=$(B)/mig-unit-tls CMOCKA_MESSAGE_OUTPUT=TAP $$t || \
	status=1; done; exit $${status:-0}
SUITE_DEPS_mig-unit := $(filter $(B)/tests/unit/mig_%,$(MIG_UNIT_BINS))
SUITE_TIMEOUT_mig-unit := 300

CHECK_SUITES += ctl-unit
SUITE_CMD_ctl-unit := for t in $(filter $(B)/tests/unit/ctl_%,$(MIG_UNIT_BINS)); do \
	echo "\# $$t"; CMOCKA_MESSAGE_OUTPUT=TAP $$t || status=1; done; exit $${status:-0}
SUITE_DEPS_ctl-unit := $(filter $(B)/tests/unit/ctl_%,$(MIG_UNIT_BINS))
SUITE_TIMEOUT_ctl-unit := 120

# libFuzzer targets (clang, with ASan + UBSan): tests/fuzz/mig_*_fuzz.c and
# tests/fuzz/ctl_*_fuzz.c, each linked with the library sources rebuilt
# under the same instrumentation. Seeds come from tests/fuzz/mig_seedgen.c.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude $(MIGRATE_INC)
MIG_FUZZ_SRCS := $(wildcard tests/fuzz/mig_*_fuzz.c tests/fuzz/ctl_*_fuzz.c)
MIG_FUZZ_BINS := $(MIG_FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

MIG_FUZZ_HDRS := $(wildcard vmm/migrate/*.h vmm/control/*.h)
$(B)/fuzz/mig_%_fuzz: tests/fuzz/mig_%_fuzz.c $(MIGRATE_SRCS) $(MIG_FUZZ_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(MIGRATE_SRCS) $(MIGRATE_LDLIBS) -o $@

$(B)/fuzz/ctl_%_fuzz: tests/fuzz/ctl_%_fuzz.c $(MIGRATE_SRCS) $(MIG_FUZZ_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(MIGRATE_SRCS) $(MIGRATE_LDLIBS) -o $@

$(B)/fuzz/mig_seedgen: $(B)/host/tests/fuzz/mig_seedgen.o $(MIGRATE_LIB)
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $< $(MIGRATE_LIB) $(MIGRATE_LDLIBS) -o $@

$(B)/host/tests/fuzz/mig_seedgen.o: HOST_CFLAGS_EXTRA += $(MIGRATE_INC)

MIG_FUZZ_RUNS ?= 300000
CHECK_SUITES += mig-fuzz
SUITE_CMD_mig-fuzz := B=$(B) RUNS=$(MIG_FUZZ_RUNS) sh tests/fuzz/mig_run.sh $(MIG_FUZZ_BINS)
SUITE_DEPS_mig-fuzz := $(MIG_FUZZ_BINS) $(B)/fuzz/mig_seedgen
SUITE_TIMEOUT_mig-fuzz := 600

.PHONY: migrate
migrate: $(MIGRATE_LIB) $(MIG_UNIT_BINS)

ALL_TARGETS += $(MIGRATE_LIB) $(MIG_UNIT_BINS)

# Integration tests: two real `vessel run` processes over TCP.
MIG_PEER := $(B)/tests/migrate/mig_peer
$(B)/host/tests/migrate/mig_peer.o: HOST_CFLAGS_EXTRA += $(MIGRATE_INC)
$(MIG_PEER): $(B)/host/tests/migrate/mig_peer.o $(MIGRATE_LIB)
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $< $(MIGRATE_LIB) $(MIGRATE_LDLIBS) -o $@

CHECK_SUITES += migrate
SUITE_CMD_migrate := B=$(B) sh tests/migrate/run.sh
SUITE_DEPS_migrate = $(VESSEL_BIN) $(MIG_PEER) $(KERNEL_ELF)
SUITE_TIMEOUT_migrate := 600

# Benchmark: live migration of a 1 GiB guest, vessel vs qemu-kvm (docs/migration.md).
$(B)/bench/migrate_qmp: $(B)/host/bench/migrate_qmp.o
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -ljansson -o $@

# The transports alone (plain TCP vs TLS), for the cost of TLS.
$(B)/host/bench/migrate_transport.o: HOST_CFLAGS_EXTRA += $(MIGRATE_INC)
$(B)/bench/migrate_transport: $(B)/host/bench/migrate_transport.o $(MIGRATE_LIB)
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $< $(MIGRATE_LIB) $(MIGRATE_LDLIBS) -o $@

BENCHES += migrate
BENCH_CMD_migrate := sh bench/migrate.sh
BENCH_DEPS_migrate = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG) $(B)/bench/migrate_qmp \
	$(B)/bench/migrate_transport
