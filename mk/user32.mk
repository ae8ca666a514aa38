# user32: 32-bit (ELF32 i386) programs, run by the kernel in compatibility
# mode (docs/kernel.md, "32-bit processes"), and their libc: the same libc
# sources built with -m32, with the i386 system-call stubs and entry
# (user/libc/src/i386/). Linked at 0x400000 with user/user32.ld.
#
#   echo32, cat32   user/echo and user/cat built for i386
#   ut32            user/i386: the 32-bit tests and escape attempts (TAP)
# They go into $(INITRD_IMG) next to the 64-bit programs.

DEB_PACKAGES += gcc-multilib

USER32_CFLAGS := -m32
USER32_LIBGCC = $(shell $(USER_CC) -m32 -print-libgcc-file-name)
USER32_LIBC_SRCS := $(filter-out user/libc/src/syscalls.c,$(USER_LIBC_SRCS)) \
	user/libc/src/i386/syscalls.c
USER32_LIBC_OBJS := $(patsubst %.c,$(B)/user32/obj/%.o,$(USER32_LIBC_SRCS))
USER32_CRT0 := $(B)/user32/obj/user/libc/src/i386/crt0.o
USER32_LIBC := $(B)/user32/libc.a

$(B)/user32/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UCC32   $<")
	$(Q)$(USER_CC) $(USER_CFLAGS) $(USER32_CFLAGS) $(USER_INC) $(USER_CFLAGS_EXTRA) -c $< -o $@

$(B)/user32/obj/%.o: %.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UAS32   $<")
	$(Q)$(USER_CC) $(USER_CFLAGS) $(USER32_CFLAGS) $(USER_INC) -c $< -o $@

$(USER32_LIBC_OBJS): USER_CFLAGS_EXTRA += $(USER_LIBC_CFLAGS)

$(USER32_LIBC): $(USER32_LIBC_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# user32_prog NAME, SOURCE DIRECTORY
define user32_prog
$(B)/user32/$(1).elf: $(USER32_CRT0) $(patsubst %.c,$(B)/user32/obj/%.o,$(wildcard user/$(2)/*.c)) \
		$(USER32_LIBC) user/user32.ld
	@$$(if $$(Q),echo "  ULD32   $$@")
	$$(Q)$$(USER_LD) -m elf_i386 $$(USER_LDFLAGS) -T user/user32.ld -o $$@ $$(USER32_CRT0) \
		$(patsubst %.c,$(B)/user32/obj/%.o,$(wildcard user/$(2)/*.c)) $$(USER32_LIBC) \
		$$(USER32_LIBGCC)
USER32_BINS += $(B)/user/bin/$(1)
endef
$(eval $(call user32_prog,echo32,echo))
$(eval $(call user32_prog,cat32,cat))
$(eval $(call user32_prog,ut32,i386))

$(B)/user/bin/%: $(B)/user32/%.elf
	@mkdir -p $(@D)
	$(Q)$(USER_OBJCOPY) --strip-debug $< $@

$(INITRD_IMG): $(USER32_BINS)

# ut32 in the VM on both platforms (tests/guest/usertests.sh types `ut32`).
CHECK_SUITES += compat32-vessel compat32-qemu
SUITE_CMD_compat32-vessel := UT_CMD=ut32 UT_NAME=ut32 USERTESTS_TIMEOUT=240 sh tests/guest/usertests.sh --kvm \
	$(VESSEL_BIN) run --kernel $(KERNEL_ELF) --initrd $(INITRD_IMG)
SUITE_DEPS_compat32-vessel = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_compat32-vessel := 300
SUITE_CMD_compat32-qemu := UT_CMD=ut32 UT_NAME=ut32 USERTESTS_TIMEOUT=240 sh tests/guest/usertests.sh \
	sh scripts/qemu-run.sh --initrd $(INITRD_IMG) $(KERNEL_ELF)
SUITE_DEPS_compat32-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_compat32-qemu := 300
