# Debian packages the build and the tests need. Fragments append to
# DEB_PACKAGES; scripts/ensure-deps.sh installs what is missing (as root) or
# stops and prints the exact apt-get command.

DEB_PACKAGES := gcc make binutils clang lld libclang-rt-14-dev libcmocka-dev \
	qemu-system-x86 libjansson-dev libxxhash-dev iproute2 valgrind

DEPS_STAMP := $(B)/.deps-ok

$(DEPS_STAMP): scripts/ensure-deps.sh mk/deps.mk
	$(Q)sh scripts/ensure-deps.sh $(sort $(DEB_PACKAGES))
	@mkdir -p $(@D) && touch $@

.PHONY: deps
deps: $(DEPS_STAMP)
