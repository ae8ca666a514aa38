# user: the guest user programs, their libc, the initrd and its host tool.
#
#   make user            libc, every program, $(INITRD_IMG), $(MKINITRD)
#   suites: user-unit    host unit tests (libc formatting/strings/malloc, initrd reader)
#           user-hostrun the programs on the host under ptrace syscall translation
#           usertests-vessel, usertests-qemu   usertests in the VM on each platform
#           usertests-{vessel,qemu}-jsoff       ... with jumpswitch=off
#           jumpswitch-stress-qemu              the trampoline re-written under load
#           initrd-fuzz  libFuzzer on the initrd reader, bounded time
# See docs/userspace.md.

.PHONY: user

# ---------------------------------------------------------------- host tool
MKINITRD := $(B)/mkinitrd
MKINITRD_OBJS := $(B)/host/tools/mkinitrd.o $(B)/host/tools/mkinitrd_build.o \
	$(B)/host/guest/lib/initrd.o
USER_HOST_OBJS := $(MKINITRD_OBJS)
$(USER_HOST_OBJS): HOST_CFLAGS_EXTRA += -Iguest -Itools

$(MKINITRD): $(MKINITRD_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

# The reader is kernel code: prove it builds freestanding with the kernel's
# flags even before the kernel links it.
$(B)/user/check/initrd.o: guest/lib/initrd.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (kernel flags)")
	$(Q)$(HOST_CC) $(GUEST_CFLAGS) -c $< -o $@

ALL_TARGETS += $(MKINITRD) $(B)/user/check/initrd.o
user: $(MKINITRD) $(B)/user/check/initrd.o

# ---------------------------------------------------------------- guest programs
# Static ELF64 programs linked at 0x400000 (user/user.ld) against user/libc.
# Only our own headers: -nostdinc keeps the host's glibc headers out; the
# compiler's freestanding headers (stdint.h, stdarg.h, ...) stay available.
USER_CC ?= $(HOST_CC)
USER_LD ?= ld
USER_OBJCOPY ?= objcopy
USER_INC := -nostdinc -isystem $(shell $(USER_CC) -print-file-name=include) -Iguest
USER_LIBGCC := $(shell $(USER_CC) -print-libgcc-file-name)
# The libc's own loops must not be turned into calls to memset/memcpy.
USER_LIBC_CFLAGS := -fno-tree-loop-distribute-patterns

# guest/lib/fmt.c and string.c are the kernel's: one printf engine and one set
# of mem*/str* basics for both.
USER_LIBC_SRCS := $(sort $(wildcard user/libc/src/*.c)) guest/lib/fmt.c guest/lib/string.c
USER_LIBC_OBJS := $(patsubst %.c,$(B)/user/obj/%.o,$(USER_LIBC_SRCS))
USER_CRT0 := $(B)/user/obj/user/libc/src/crt0.o
USER_LIBC := $(B)/user/libc.a

$(B)/user/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UCC     $<")
	$(Q)$(USER_CC) $(USER_CFLAGS) $(USER_INC) $(USER_CFLAGS_EXTRA) -c $< -o $@

$(B)/user/obj/%.o: %.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UAS     $<")
	$(Q)$(USER_CC) $(USER_CFLAGS) $(USER_INC) -c $< -o $@

$(USER_LIBC_OBJS): USER_CFLAGS_EXTRA += $(USER_LIBC_CFLAGS)

$(USER_LIBC): $(USER_LIBC_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Programs: every directory user/NAME/ (except libc, hostrun and the 32-bit
# user/i386 of mk/user32.mk) with its .c files.
USER_PROGS := $(sort $(filter-out libc hostrun i386,$(notdir $(patsubst %/,%,$(dir $(wildcard user/*/*.c))))))
USER_BINS := $(addprefix $(B)/user/bin/,$(USER_PROGS))
# Plain data files packed next to the programs.
USER_FILES := $(sort $(wildcard user/files/*))

define user_prog
$(B)/user/$(1).elf: $(USER_CRT0) $(patsubst %.c,$(B)/user/obj/%.o,$(wildcard user/$(1)/*.c)) \
		$(USER_LIBC) user/user.ld
	@$$(if $$(Q),echo "  ULD     $$@")
	$$(Q)$$(USER_LD) $$(USER_LDFLAGS) -T user/user.ld -o $$@ $$(USER_CRT0) \
		$(patsubst %.c,$(B)/user/obj/%.o,$(wildcard user/$(1)/*.c)) $$(USER_LIBC) $$(USER_LIBGCC)
endef
$(foreach p,$(USER_PROGS),$(eval $(call user_prog,$(p))))

# The initrd carries the programs without debug sections.
$(B)/user/bin/%: $(B)/user/%.elf
	@mkdir -p $(@D)
	$(Q)$(USER_OBJCOPY) --strip-debug $< $@

INITRD_IMG := $(B)/user/initrd.img
$(INITRD_IMG): $(MKINITRD) $(USER_BINS) $(USER_FILES)
	@$(if $(Q),echo "  INITRD  $@")
	$(Q)$(MKINITRD) -o $@ $(USER_BINS) $(USER32_BINS) $(USER_FILES)

ALL_TARGETS += $(INITRD_IMG)
user: $(INITRD_IMG)

# user-hostrun: runs the programs of an initrd on the Linux host under
# ptrace, translating their system calls (a development and test aid).
USER_HOSTRUN := $(B)/user-hostrun
$(USER_HOSTRUN): $(B)/host/user/hostrun/hostrun.o $(B)/host/guest/lib/initrd.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@
$(B)/host/user/hostrun/hostrun.o: HOST_CFLAGS_EXTRA += -Iguest
ALL_TARGETS += $(USER_HOSTRUN)
user: $(USER_HOSTRUN)

# ---------------------------------------------------------------- unit tests
# Host unit tests with cmocka: tests/unit/initrd_*.c and tests/unit/user_*.c.
USER_UNIT_CFLAGS := -Iguest -Itools -Iuser/libc/src -fsanitize=address,undefined \
	-fno-sanitize-recover=all
USER_UNIT_LDFLAGS := -fsanitize=address,undefined -lcmocka

$(B)/unit/initrd_test: $(B)/host/tests/unit/initrd_test.o $(B)/host/tools/mkinitrd_build.o \
		$(B)/user/unit/initrd.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $^ $(USER_UNIT_LDFLAGS) -o $@
$(B)/host/tests/unit/initrd_test.o: HOST_CFLAGS_EXTRA += $(USER_UNIT_CFLAGS)

# Reader objects with sanitizers for the unit tests.
$(B)/user/unit/%.o: guest/lib/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (host, sanitizers)")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(USER_UNIT_CFLAGS) -c $< -o $@

# The user libc's pure code, renamed u_* (tests/unit/user_libc_rename.h) so
# it links next to the host C library; compiled against our own headers.
USER_HOSTLIBC_CFLAGS := -nostdinc -isystem $(shell $(HOST_CC) -print-file-name=include) \
	-Iuser/libc/include -Iinclude -Iguest -include tests/unit/user_libc_rename.h \
	-ffreestanding -fno-builtin -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/user/hostlibc/%.o: user/libc/src/%.c tests/unit/user_libc_rename.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (host, u_ names)")
	$(Q)$(HOST_CC) -std=gnu11 -O1 -g $(WARN) -MMD -MP $(USER_HOSTLIBC_CFLAGS) -c $< -o $@
# The kernel's string.c as the libc links it (see USER_LIBC_SRCS).
$(B)/user/hostlibc/guest/%.o: guest/lib/%.c tests/unit/user_libc_rename.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (host, u_ names)")
	$(Q)$(HOST_CC) -std=gnu11 -O1 -g $(WARN) -MMD -MP $(USER_HOSTLIBC_CFLAGS) -c $< -o $@
USER_HOSTLIBC_OBJS := $(addprefix $(B)/user/hostlibc/,string.o stdlib.o errors.o malloc.o) \
	$(B)/user/hostlibc/guest/string.o $(B)/host/tests/unit/user_heap_arena.o

$(B)/unit/user_fmt_test: $(B)/host/tests/unit/user_fmt_test.o $(B)/user/unit/fmt.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $^ $(USER_UNIT_LDFLAGS) -o $@
$(B)/unit/user_string_test: $(B)/host/tests/unit/user_string_test.o $(USER_HOSTLIBC_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $^ $(USER_UNIT_LDFLAGS) -o $@
$(B)/unit/user_malloc_test: $(B)/host/tests/unit/user_malloc_test.o $(USER_HOSTLIBC_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $^ $(USER_UNIT_LDFLAGS) -o $@
$(B)/host/tests/unit/user_%.o: HOST_CFLAGS_EXTRA += $(USER_UNIT_CFLAGS)

USER_UNIT_TESTS := $(B)/unit/initrd_test $(B)/unit/user_fmt_test $(B)/unit/user_string_test \
	$(B)/unit/user_malloc_test

CHECK_SUITES += user-unit
SUITE_CMD_user-unit := rc=0; for t in $(USER_UNIT_TESTS); do \
	CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; done; \
	sh tests/unit/initrd_tool.sh $(MKINITRD) $(INITRD_IMG) || rc=1; exit $$rc
SUITE_DEPS_user-unit = $(USER_UNIT_TESTS) $(MKINITRD) $(INITRD_IMG)
SUITE_TIMEOUT_user-unit := 120

# The user programs on the host under user-hostrun (shell, init, libc,
# and the usertests whose semantics Linux shares); the kernel's semantics
# are checked by usertests in the VM.
CHECK_SUITES += user-hostrun
SUITE_CMD_user-hostrun := sh tests/unit/user_hostrun.sh $(USER_HOSTRUN) $(INITRD_IMG)
SUITE_DEPS_user-hostrun = $(USER_HOSTRUN) $(INITRD_IMG)
SUITE_TIMEOUT_user-hostrun := 300

# usertests in the VM, on both platforms (tests/guest/usertests.sh pipes
# `usertests` and `poweroff` into the console and turns the result into TAP).
CHECK_SUITES += usertests-vessel usertests-qemu
SUITE_CMD_usertests-vessel := USERTESTS_TIMEOUT=840 sh tests/guest/usertests.sh --kvm \
	$(VESSEL_BIN) run --kernel $(KERNEL_ELF) --initrd $(INITRD_IMG)
SUITE_DEPS_usertests-vessel = $(VESSEL_BIN) $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_usertests-vessel := 900
SUITE_CMD_usertests-qemu := USERTESTS_TIMEOUT=840 sh tests/guest/usertests.sh \
	sh scripts/qemu-run.sh --initrd $(INITRD_IMG) $(KERNEL_ELF)
SUITE_DEPS_usertests-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_usertests-qemu := 900

# The same with the system-call search trampoline off (retpolined table
# calls only, docs/jumpswitch.md); the suites above run it on (the default).
$(eval $(call usertests_vessel,jsoff,--cmdline jumpswitch=off))
$(eval $(call usertests_qemu,jsoff,jumpswitch=off))

# The trampoline re-learned and re-written thousands of times under QEMU TCG
# (a learning step every 2 calls per CPU) while every CPU dispatches through
# it; each call's result is checked. JS_STRESS_REPEAT runs it longer.
JS_STRESS_REPEAT ?= 10
CHECK_SUITES += jumpswitch-stress-qemu
SUITE_CMD_jumpswitch-stress-qemu := USERTESTS_ARGS="-r $(JS_STRESS_REPEAT) jumpswitch_stress" \
	USERTESTS_TIMEOUT=840 sh tests/guest/usertests.sh sh scripts/qemu-run.sh \
	--cmdline jumpswitch.period=2 --initrd $(INITRD_IMG) $(KERNEL_ELF)
SUITE_DEPS_jumpswitch-stress-qemu = $(KERNEL_ELF) $(INITRD_IMG)
SUITE_TIMEOUT_jumpswitch-stress-qemu := 900

# ---------------------------------------------------------------- fuzzing
INITRD_FUZZ := $(B)/fuzz/initrd_fuzz
INITRD_FUZZ_SECONDS ?= 30

$(INITRD_FUZZ): tests/fuzz/initrd_fuzz.c guest/lib/initrd.c guest/lib/initrd.h include/abi/initrd.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) -std=gnu11 -O1 -g $(WARN) -Iinclude -Iguest \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		tests/fuzz/initrd_fuzz.c guest/lib/initrd.c -o $@

# Seeds: a compact valid image, raw (mode byte 0) and re-sealed (mode 1).
$(B)/fuzz/initrd-seeds/.stamp: $(MKINITRD)
	@mkdir -p $(@D)
	$(Q)printf 'hello\n' > $(@D)/a.txt
	$(Q)printf '\177ELF' > $(@D)/prog
	$(Q)$(MKINITRD) -a 8 -o $(@D)/img a.txt=$(@D)/a.txt prog=$(@D)/prog sh=$(@D)/prog
	$(Q){ printf '\000'; cat $(@D)/img; } > $(@D)/seed-raw
	$(Q){ printf '\001'; cat $(@D)/img; } > $(@D)/seed-sealed
	$(Q)rm -f $(@D)/a.txt $(@D)/prog $(@D)/img
	@touch $@

CHECK_SUITES += initrd-fuzz
SUITE_CMD_initrd-fuzz := sh tests/fuzz/seeds_run.sh initrd $(INITRD_FUZZ) \
	$(B)/fuzz/initrd-seeds $(INITRD_FUZZ_SECONDS) 8192
SUITE_DEPS_initrd-fuzz = $(INITRD_FUZZ) $(B)/fuzz/initrd-seeds/.stamp
SUITE_TIMEOUT_initrd-fuzz := 300
