# user: the guest user programs, their libc, the initrd and its host tool.
#
#   make user            libc, every program, $(INITRD_IMG), $(MKINITRD)
#   suites: user-unit    host unit tests (libc formatting/strings, initrd reader)
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

USER_UNIT_TESTS := $(B)/unit/initrd_test

CHECK_SUITES += user-unit
SUITE_CMD_user-unit := set -e; for t in $(USER_UNIT_TESTS); do \
	CMOCKA_MESSAGE_OUTPUT=TAP $$t; done
SUITE_DEPS_user-unit = $(USER_UNIT_TESTS)
SUITE_TIMEOUT_user-unit := 120

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
SUITE_CMD_initrd-fuzz := sh tests/fuzz/initrd_run.sh $(INITRD_FUZZ) \
	$(B)/fuzz/initrd-seeds $(INITRD_FUZZ_SECONDS)
SUITE_DEPS_initrd-fuzz = $(INITRD_FUZZ) $(B)/fuzz/initrd-seeds/.stamp
SUITE_TIMEOUT_initrd-fuzz := 300
