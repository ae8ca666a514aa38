# Debian packages the build and the tests need. Fragments append to
# DEB_PACKAGES; scripts/ensure-deps.sh installs what is missing (as root) or
# stops and prints the exact apt-get command.
#
# The check runs before anything is built, whatever the goal: the stamp is an
# included makefile, and GNU Make brings included makefiles up to date (and
# re-reads them) before it builds any target. It is re-run when a fragment
# changes (a fragment may have added a package).

DEB_PACKAGES := gcc make binutils clang lld libclang-rt-14-dev libcmocka-dev \
	qemu-system-x86 libjansson-dev libxxhash-dev iproute2 valgrind

DEPS_STAMP := $(B)/.deps.mk

$(DEPS_STAMP): scripts/ensure-deps.sh Makefile $(wildcard mk/*.mk)
	$(Q)sh scripts/ensure-deps.sh $(sort $(DEB_PACKAGES))
	@mkdir -p $(@D) && echo "# Debian packages checked: $(sort $(DEB_PACKAGES))" >$@

ifeq ($(filter clean help format,$(MAKECMDGOALS)),)
include $(DEPS_STAMP)
endif

.PHONY: deps
deps: $(DEPS_STAMP)
