# guest: the Vessel kernel (freestanding C + asm), one ELF that boots on the
# Vessel VMM (direct 64-bit entry) and under QEMU (Multiboot).
#
#   make guest        build $(KERNEL_ELF)
#   make run-qemu     boot it under QEMU TCG, console on this terminal
#   suites: guest-unit             host unit tests of guest/lib (cmocka)
#           guest-selftest-qemu    the kernel self-tests under QEMU TCG
#           guest-selftest-qemu4   ... with 4 CPUs
#           guest-selftest-vessel  the kernel self-tests under `vessel run`
# See docs/kernel.md.

.PHONY: guest run-qemu

KERNEL_ELF := $(B)/guest/vessel.elf
GUEST_LDS := guest/arch/x86_64/kernel.ld
VESSEL_KERNEL_VERSION := 0.1.0

GUEST_SRCS := $(wildcard guest/arch/x86_64/*.S guest/arch/x86_64/*.c guest/kernel/*.c \
	guest/lib/*.c guest/dev/*.c guest/hcb/*.S guest/tcb/*.c guest/tcb/*.S)
GUEST_OBJS := $(patsubst %,$(B)/guest/obj/%.o,$(basename $(GUEST_SRCS)))
GUEST_DEFS := -DVESSEL_KERNEL_VERSION='"$(VESSEL_KERNEL_VERSION)"'
# the flags live in mk/config.mk (retpolines among them): a change rebuilds
$(GUEST_OBJS): mk/config.mk

$(B)/guest/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (guest)")
	$(Q)$(HOST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c $< -o $@

$(B)/guest/obj/%.o: %.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $< (guest)")
	$(Q)$(HOST_CC) $(GUEST_CFLAGS) -c $< -o $@

# The Multiboot a.out kludge loads one contiguous image: every PT_LOAD must
# have the same (file offset - physical address). Checked after linking.
# The TCB's SHA-256 is recorded in the image right after linking (tcb_seal,
# docs/integrity.md).
TCB_SEAL := $(B)/tools/tcb_seal
$(TCB_SEAL): tools/tcb_seal.c vmm/domain/tcb_image.c vmm/domain/tcb_image.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ivmm -o $@ $(filter %.c,$^) -lgnutls

$(KERNEL_ELF): $(GUEST_OBJS) $(GUEST_LDS) $(TCB_SEAL)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)ld $(GUEST_LDFLAGS) --no-warn-rwx-segments -T $(GUEST_LDS) -o $@.tmp $(GUEST_OBJS)
	$(Q)$(TCB_SEAL) $@.tmp >/dev/null
	$(Q)n=$$(readelf -lW $@.tmp | awk '$$1 == "LOAD" { print $$2, $$4 }' | \
		while read off pa; do echo $$((off - pa)); done | sort -u | wc -l); \
		[ "$$n" = 1 ] || { echo "guest: PT_LOAD layout breaks the Multiboot image"; exit 1; }
	$(Q)mv $@.tmp $@

ALL_TARGETS += $(KERNEL_ELF)
guest: $(KERNEL_ELF)

# Hyper-callbacks: guest/hcb/*.bpf.c compiled for BPF, embedded with .incbin
# by guest/hcb/embed.S, registered by guest/kernel/hcb.c (docs/hcb.md).
HCB_BPF_SRCS := $(wildcard guest/hcb/*.bpf.c)
HCB_BPF_OBJS := $(HCB_BPF_SRCS:guest/hcb/%.bpf.c=$(B)/guest/hcb/%.o)
$(B)/guest/hcb/%.o: guest/hcb/%.bpf.c guest/hcb/hcb_bpf.h include/abi/vessel.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $< (bpf)")
	$(Q)$(CLANG) -O2 -target bpf -ffreestanding -Iinclude -c $< -o $@
$(B)/guest/obj/guest/hcb/embed.o: $(HCB_BPF_OBJS)
$(B)/guest/obj/guest/hcb/embed.o: GUEST_CFLAGS += -Wa,-I$(B)/guest/hcb

$(B)/guest/obj/guest/kernel/selftests.o $(B)/guest/obj/guest/kernel/selftests_seams.o \
		$(B)/guest/obj/guest/kernel/selftests_tlb.o $(B)/guest/obj/guest/kernel/selftests_priv.o \
		$(B)/guest/obj/guest/kernel/selftests_jumpswitch.o: \
	GUEST_DEFS += -fno-toplevel-reorder

QEMU_RUN := sh scripts/qemu-run.sh
# mk/user.mk (included later) sets the same path
INITRD_IMG ?= $(B)/user/initrd.img

run-qemu: $(DEPS_STAMP) $(KERNEL_ELF) $(INITRD_IMG)
	$(Q)$(QEMU_RUN) --initrd $(INITRD_IMG) $(if $(CMDLINE),--cmdline "$(CMDLINE)") $(KERNEL_ELF)

# ---------------------------------------------------------------- unit tests
# guest/lib compiled for the host. The libc-named string functions are
# renamed so the test binary keeps the host's own.
GUEST_UNIT_RENAME := -Dmemcpy=vlib_memcpy -Dmemmove=vlib_memmove -Dmemset=vlib_memset \
	-Dmemcmp=vlib_memcmp -Dstrlen=vlib_strlen -Dstrnlen=vlib_strnlen -Dstrcmp=vlib_strcmp \
	-Dstrncmp=vlib_strncmp -Dstrchr=vlib_strchr -Dstrlcpy=vlib_strlcpy -fno-builtin
GUEST_UNIT_CFLAGS := -Iguest -fsanitize=address,undefined -fno-sanitize-recover=all \
	$(GUEST_UNIT_RENAME)
GUEST_UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/guest_*.c))
GUEST_UNIT_LIB := string pfa cmdline elf64 linedisc jswitch shootdown

$(B)/guest/unit/%.o: guest/lib/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (host test)")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(GUEST_UNIT_CFLAGS) -c $< -o $@

$(B)/guest/unit/test_%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(GUEST_UNIT_CFLAGS) -c $< -o $@

$(B)/unit/guest_%: $(B)/guest/unit/test_guest_%.o \
		$(patsubst %,$(B)/guest/unit/%.o,$(filter $(GUEST_UNIT_LIB),$(notdir $(basename $(wildcard guest/lib/*.c guest/dev/*.c)))))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $^ -fsanitize=address,undefined -lcmocka -o $@

.SECONDARY: $(patsubst tests/unit/%.c,$(B)/guest/unit/test_%.o,$(wildcard tests/unit/guest_*.c)) \
	$(patsubst %,$(B)/guest/unit/%.o,$(GUEST_UNIT_LIB))

CHECK_SUITES += guest-unit guest-selftest-qemu guest-selftest-qemu4 guest-selftest-vessel \
	guest-crash console-input
SUITE_CMD_guest-unit := rc=0; for t in $(GUEST_UNIT_TESTS); do \
	CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; done; exit $$rc
SUITE_DEPS_guest-unit = $(GUEST_UNIT_TESTS)
SUITE_TIMEOUT_guest-unit := 120

SUITE_CMD_guest-selftest-qemu := $(QEMU_RUN) --timeout 500 --cmdline selftest \
	--initrd $(INITRD_IMG) $(KERNEL_ELF)
SUITE_DEPS_guest-selftest-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_guest-selftest-qemu := 560

# The same with 4 CPUs (cross-CPU calls and shootdowns with 3 targets), booted
# in the split TLB layout (the tests switch layouts themselves too).
SUITE_CMD_guest-selftest-qemu4 := $(QEMU_RUN) --cpus 4 --timeout 500 \
	--cmdline "selftest tlb.layout=split tlb.rounds=200" --initrd $(INITRD_IMG) $(KERNEL_ELF)
SUITE_DEPS_guest-selftest-qemu4 = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_guest-selftest-qemu4 := 560

SUITE_CMD_guest-selftest-vessel := sh tests/guest/selftest-vessel.sh $(VESSEL_BIN) \
	$(KERNEL_ELF) $(INITRD_IMG)
SUITE_DEPS_guest-selftest-vessel = $(KERNEL_ELF) $(VESSEL_BIN) $(INITRD_IMG)
SUITE_TIMEOUT_guest-selftest-vessel := 560

SUITE_CMD_guest-crash := sh tests/guest/crash.sh $(VESSEL_BIN) $(KERNEL_ELF)
SUITE_DEPS_guest-crash = $(KERNEL_ELF) $(VESSEL_BIN)
SUITE_TIMEOUT_guest-crash := 300
SUITE_CMD_console-input := sh tests/guest/console-input.sh $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_DEPS_console-input = $(KERNEL_ELF) $(VESSEL_BIN) $(INITRD_IMG)
SUITE_TIMEOUT_console-input := 300

# Null-syscall cost per entry path in guest instructions (QEMU -icount: the
# guest TSC counts instructions), the erratum's ud2 path against the direct one.
BENCHES += syscall
BENCH_CMD_syscall := $(QEMU_RUN) --timeout 300 --icount --cmdline ubench $(KERNEL_ELF)
BENCH_DEPS_syscall = $(KERNEL_ELF)
