# Toolchains and flags shared by every fragment.

B ?= build

ifeq ($(V),1)
Q :=
else
Q := @
endif

HOST_CC ?= gcc
CLANG ?= clang

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wundef -Wvla -Wno-unused-parameter

# Host code: the VMM, the eBPF library, tools and host tests.
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Iinclude -MMD -MP
HOST_LDFLAGS :=

# Guest kernel: freestanding, no SSE, higher-half (kernel code model).
GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-builtin -mno-red-zone -mno-mmx -mno-sse -mno-sse2 \
	-mno-avx -mgeneral-regs-only -mcmodel=kernel -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -Iinclude -Iguest -MMD -MP
# Spectre v2: every indirect call/jump in kernel C goes through the kernel's
# own retpolines (guest/arch/x86_64/retpoline.S); the jumpswitch=off baseline.
# GUEST_RETPOLINE=0 builds plain indirect calls (only for the benchmark).
GUEST_RETPOLINE ?= 1
ifeq ($(GUEST_RETPOLINE),1)
GUEST_CFLAGS += -mindirect-branch=thunk-extern -mindirect-branch-register
endif
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-dynamic-linker

# Guest user programs: static ELF64, our own libc, no SSE assumption needed.
USER_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-builtin -mno-red-zone -static \
	-fno-asynchronous-unwind-tables -Iinclude -Iuser/libc/include -MMD -MP
USER_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-dynamic-linker

# Generic host compile rule; fragments may add more specific ones.
$(B)/host/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(HOST_CFLAGS_EXTRA) -c $< -o $@

ALL_TARGETS :=
CHECK_SUITES :=
BENCHES :=

# usertests (the kernel's test suite, tests/guest/usertests.sh) booted with
# other options, as one more suite each; the variables are read when the
# suite runs, so any fragment may use these:
#   $(eval $(call usertests_vessel,SUFFIX,VESSEL-RUN-OPTIONS))  usertests-vessel-SUFFIX
#   $(eval $(call usertests_qemu,SUFFIX,KERNEL-CMDLINE))         usertests-qemu-SUFFIX
define usertests_vessel
CHECK_SUITES += usertests-vessel-$(1)
SUITE_CMD_usertests-vessel-$(1) = USERTESTS_TIMEOUT=840 sh tests/guest/usertests.sh --kvm \
	$$(VESSEL_BIN) run --kernel $$(KERNEL_ELF) --initrd $$(INITRD_IMG) $(2)
SUITE_DEPS_usertests-vessel-$(1) = $$(VESSEL_BIN) $$(KERNEL_ELF) $$(INITRD_IMG)
SUITE_TIMEOUT_usertests-vessel-$(1) := 900
endef
define usertests_qemu
CHECK_SUITES += usertests-qemu-$(1)
SUITE_CMD_usertests-qemu-$(1) = USERTESTS_TIMEOUT=840 sh tests/guest/usertests.sh \
	sh scripts/qemu-run.sh --cmdline $(2) --initrd $$(INITRD_IMG) $$(KERNEL_ELF)
SUITE_DEPS_usertests-qemu-$(1) = $$(KERNEL_ELF) $$(INITRD_IMG)
SUITE_TIMEOUT_usertests-qemu-$(1) := 900
endef
